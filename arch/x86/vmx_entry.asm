; SPDX-License-Identifier: BSD-2-Clause
; VM entry and exit: swap general-purpose registers between umbra and a guest.
;
; int vmx_enter(struct guest_regs *regs, uint64_t launched)
;   Loads the guest's GPRs from *regs and executes VMRESUME (launched != 0)
;   or VMLAUNCH. Returns 0 after a VM exit (guest GPRs saved in *regs),
;   1 on VMfailInvalid, 2 on VMfailValid (SDM Vol. 3C 30.3).
; HOST_RIP points at vmx_exit_entry; HOST_RSP is written here on every entry
; so that the exit lands on this very stack frame.

%include "boot/layout.inc"

global vmx_enter
global vmx_exit_entry

%define HOST_RSP_FIELD 0x6c14

; struct guest_regs offsets (arch/x86/vcpu.h checks them with _Static_assert)
%define GR_RAX 0
%define GR_RBX 8
%define GR_RCX 16
%define GR_RDX 24
%define GR_RSI 32
%define GR_RDI 40
%define GR_RBP 48
%define GR_R8 56
%define GR_R9 64
%define GR_R10 72
%define GR_R11 80
%define GR_R12 88
%define GR_R13 96
%define GR_R14 104
%define GR_R15 112
%define GR_VM_EXITS 120
%define GR_TSC_ENTER 128
%define GR_TSC_EXIT 136

section .text
bits 64
vmx_enter:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi		; regs, found again at [rsp] after the exit
	mov rax, HOST_RSP_FIELD
	vmwrite rax, rsp
	jbe .failed		; CF or ZF: the write itself failed

%ifdef UMBRA_PROFILE
	rdtsc			; arch/x86/profile.h: the guest phase starts here
	shl rdx, 32
	or rax, rdx
	mov [rdi + GR_TSC_ENTER], rax
%endif
	mov rax, rsi		; launched?
	mov rcx, [rdi + GR_RCX]
	mov rdx, [rdi + GR_RDX]
	mov rbx, [rdi + GR_RBX]
	mov rbp, [rdi + GR_RBP]
	mov rsi, [rdi + GR_RSI]
	mov r8, [rdi + GR_R8]
	mov r9, [rdi + GR_R9]
	mov r10, [rdi + GR_R10]
	mov r11, [rdi + GR_R11]
	mov r12, [rdi + GR_R12]
	mov r13, [rdi + GR_R13]
	mov r14, [rdi + GR_R14]
	mov r15, [rdi + GR_R15]
	test rax, rax
	mov rax, [rdi + GR_RAX]
	mov rdi, [rdi + GR_RDI]	; last: it was the pointer
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:
	; Still in root operation: the entry failed; CF/ZF tell how.
	mov eax, 1
	mov ecx, 2
	cmovz eax, ecx
.out:
	add rsp, 8		; regs pointer
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; The CPU arrives here on every VM exit with RSP = HOST_RSP (the frame
; above), interrupts off (RFLAGS = 2), host state loaded from the VMCS.
vmx_exit_entry:
	push rdi
	mov rdi, [rsp + 8]	; regs
	mov [rdi + GR_RAX], rax
	mov [rdi + GR_RBX], rbx
	mov [rdi + GR_RCX], rcx
	mov [rdi + GR_RDX], rdx
	mov [rdi + GR_RSI], rsi
	mov [rdi + GR_RBP], rbp
	mov [rdi + GR_R8], r8
	mov [rdi + GR_R9], r9
	mov [rdi + GR_R10], r10
	mov [rdi + GR_R11], r11
	mov [rdi + GR_R12], r12
	mov [rdi + GR_R13], r13
	mov [rdi + GR_R14], r14
	mov [rdi + GR_R15], r15
	pop rax			; the guest's RDI
	mov [rdi + GR_RDI], rax
	inc qword [rdi + GR_VM_EXITS]	; the raw count the statistics are checked against
%ifdef UMBRA_PROFILE
	rdtsc			; arch/x86/profile.h: the guest phase ends here
	shl rdx, 32
	or rax, rdx
	mov [rdi + GR_TSC_EXIT], rax
%endif
	xor eax, eax
	jmp vmx_enter.out
