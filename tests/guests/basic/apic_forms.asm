; SPDX-License-Identifier: BSD-2-Clause
; Store forms that write the xAPIC TPR, one function each, for the apic group (checks_apic.c).
;
; Each is uint32_t apic_form_NAME(uint64_t tpr_address, uint32_t value) (SysV:
; RDI, ESI; EAX returned): it stores value (or its own immediate, see
; checks_apic.c) to the TPR with exactly the encoding named, and XCHG forms
; return the old TPR. The listing (nasm -l) shows the bytes. Only aligned
; 32-bit stores: Bochs's APIC panics on any other width (bochs/cpu/apic.cc),
; so 8-, 16- and 64-bit forms are covered by tests/unit/test_insn.c alone.

%include "boot/layout.inc"

%define APIC_TPR 0xfee00080

; The segment overrides of 64-bit forms are there on purpose (ignored by the CPU).
[warning -prefix-seg]

bits 64
section .text

%macro FORM 1
global apic_form_%1
apic_form_%1:
%endmacro

; Far return into the flat 32-bit code segment: compatibility mode (SDM Vol. 3A 5.8.5 / 9.8.5).
%macro TO_COMPAT 0
	push SEL_CODE32
	lea rax, [rel %%c32]
	push rax
	o64 retf
bits 32
%%c32:
%endmacro

%macro TO_LONG 0
	jmp dword SEL_CODE64:%%l64
bits 64
%%l64:
%endmacro

FORM moffs64			; A3 moffs64: what GCC emits for *(u32 *)CONST = v
	mov eax, esi
	mov [qword APIC_TPR], eax
	ret

FORM moffs32_a32		; 67 A3 moffs32
	mov eax, esi
	a32 mov [dword APIC_TPR], eax
	ret

FORM base			; 89 /r, [rdi]
	mov [rdi], esi
	ret

FORM disp8			; 89 /r, [rdx+disp8]
	lea rdx, [rdi - 0x40]
	mov [rdx + 0x40], esi
	ret

FORM disp32			; 89 /r, [rdx+disp32]
	lea rdx, [rdi - 0x1000]
	mov [rdx + 0x1000], esi
	ret

FORM sib			; 89 /r, SIB [rdi+rcx*4]
	xor ecx, ecx
	mov [rdi + rcx * 4], esi
	ret

FORM sib_disp8			; 89 /r, SIB + disp8 [rdx+rcx*4+0x40]
	lea rdx, [rdi - 0x48]
	mov ecx, 2
	mov [rdx + rcx * 4 + 0x40], esi
	ret

FORM sib_index_only		; 89 /r, SIB without base: [rcx*2+disp32]
	mov rcx, rdi
	shr rcx, 1
	mov [nosplit rcx * 2 + 0], esi
	ret

FORM sib_absolute_a32		; 67 89 /r, SIB without base or index: [disp32]
	a32 mov [dword APIC_TPR], esi
	ret

FORM rex_rb			; REX.RB: mov [r12], r9d
	push r12
	mov r12, rdi
	mov r9d, esi
	mov [r12], r9d
	pop r12
	ret

FORM rex_x			; REX.X: mov [rdi+r13*8], esi
	push r13
	xor r13d, r13d
	mov [rdi + r13 * 8], esi
	pop r13
	ret

FORM a32_base			; 67 89 /r, [edx]
	mov edx, edi
	a32 mov [edx], esi
	ret

FORM seg_ds			; 3E 89 /r
	ds mov [rdi], esi
	ret

FORM seg_cs_es			; 2E 26 89 /r: two overrides, ignored in 64-bit mode
	db 0x2e
	es mov [rdi], esi
	ret

FORM imm32			; C7 /0 imm32, [rdi]; stores 0x5a
	mov dword [rdi], 0x5a
	ret

FORM imm32_disp32_a32		; 67 C7 /0 imm32, [disp32]; stores 0x3c
	a32 mov dword [dword APIC_TPR], 0x3c
	ret

FORM xchg			; 87 /r
	mov eax, esi
	xchg [rdi], eax
	ret

FORM lock_xchg			; F0 87 /r
	mov eax, esi
	lock xchg [rdi], eax
	ret

FORM xchg_rex			; REX.R 87 /r: xchg [rdi], r10d
	mov r10d, esi
	xchg [rdi], r10d
	mov eax, r10d
	ret

; Not a store umbra emulates (an ADD is a read-modify-write): test=apic_unsupported.
FORM unsupported_add		; 01 /r
	add [rdi], esi
	ret

; --- 32-bit code (compatibility mode): the guest's CS.L = 0, CS.D = 1 -------------

FORM c32_moffs			; A3 moffs32
	TO_COMPAT
	mov eax, esi
	mov [APIC_TPR], eax
	TO_LONG
	ret

FORM c32_base			; 89 /r, [edi]
	TO_COMPAT
	mov [edi], esi
	TO_LONG
	ret

FORM c32_sib_disp32		; 89 /r, SIB + disp32 [edx+ecx*8+0x1000]
	TO_COMPAT
	lea edx, [edi - 0x1008]
	mov ecx, 1
	mov [edx + ecx * 8 + 0x1000], esi
	TO_LONG
	ret

FORM c32_seg_ss			; 36 89 /r
	TO_COMPAT
	ss mov [edi], esi
	TO_LONG
	ret

FORM c32_imm32			; C7 05 disp32 imm32; stores 0x77
	TO_COMPAT
	mov dword [APIC_TPR], 0x77
	TO_LONG
	ret

FORM c32_xchg			; 87 /r
	TO_COMPAT
	mov eax, esi
	xchg [edi], eax
	TO_LONG
	ret
