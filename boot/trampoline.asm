; SPDX-License-Identifier: BSD-2-Clause
; AP trampoline: real mode at the SIPI vector -> protected -> long mode -> ap_entry.
;
; arch/x86/smp.c copies [trampoline_start, trampoline_end) to TRAMPOLINE_BASE,
; fills tramp_params, and sends INIT-SIPI-SIPI with vector TRAMPOLINE_BASE >> 12
; (SDM Vol. 3A 8.4.4). Code here runs at the copy, so every absolute address
; is written as TRAMPOLINE_BASE + (label - trampoline_start).

%include "boot/layout.inc"

%define TADDR(x) (TRAMPOLINE_BASE + ((x) - trampoline_start))

global trampoline_start
global trampoline_end
global tramp_params

section .rodata
bits 16
align 16
trampoline_start:
	cli
	cld
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	o32 lgdt [TADDR(tramp_gdt_ptr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:TADDR(tramp_pm32)

bits 32
tramp_pm32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [TADDR(tramp_params) + TP_CR3]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, [TADDR(tramp_params) + TP_EFER]
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	jmp SEL_CODE64:TADDR(tramp_lm64)

bits 64
tramp_lm64:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov rsp, [TADDR(tramp_params) + TP_STACK]
	xor ebp, ebp
	mov edi, [TADDR(tramp_params) + TP_CPU_INDEX]
	mov rax, [TADDR(tramp_params) + TP_ENTRY]
	; Tell the BSP we are off the shared trampoline data (it may reuse it).
	lock inc dword [TADDR(tramp_params) + TP_STARTED]
	call rax
.hang:
	cli
	hlt
	jmp .hang

align 16
tramp_gdt:
	dq 0
	dq 0x00af9a000000ffff	; 0x08: 64-bit code
	dq 0x00cf92000000ffff	; 0x10: data
	dq 0x00cf9a000000ffff	; 0x18: 32-bit code
tramp_gdt_end:
tramp_gdt_ptr:
	dw tramp_gdt_end - tramp_gdt - 1
	dd TADDR(tramp_gdt)

align 8
tramp_params:
	times 48 db 0
trampoline_end:
