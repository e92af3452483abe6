; SPDX-License-Identifier: BSD-2-Clause
; 32-bit entry from GRUB: check long mode, map 4 GiB and the image, enter 64-bit C.
;
; GRUB leaves us in 32-bit protected mode, paging off, EAX = multiboot2
; magic, EBX = physical address of the info structure (Multiboot2 spec 3.3).
; Interrupts are off and the stack is undefined. .text.entry is linked at
; its physical address (linker.ld: GRUB wants the entry point inside a
; segment it loads, below 4 GiB); every other symbol is at KERNEL_VBASE +
; its physical address until paging is on: PHYS(symbol) (boot/layout.inc).

%include "boot/layout.inc"

extern bsp_main
extern __bss_start
extern __bss_end

global _start
global boot_pml4
global boot_gdt_ptr
global boot_stack_top
global boot_relocate
global boot_kernel_vbase

boot_kernel_vbase equ KERNEL_VBASE

section .text.entry
bits 32
_start:
	cli
	cld
	mov esp, PHYS(boot_stack_top)
	mov [PHYS(boot_magic)], eax
	mov [PHYS(boot_info)], ebx

	; .bss holds the page tables and the stack we are about to use; zero it
	; ourselves rather than trust every loader to do it. The stack is in
	; .bss too, so nothing may be pushed until this is done.
	mov edi, PHYS(__bss_start)
	mov ecx, PHYS(__bss_end)
	sub ecx, edi
	xor eax, eax
	rep stosb
	mov eax, [PHYS(boot_magic)]	; (boot_magic lives in .data, not cleared)

	; CPUID must exist (EFLAGS.ID toggles), then leaf 0x80000001 EDX.LM.
	pushfd
	pop eax
	mov ecx, eax
	xor eax, 1 << 21
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	xor eax, ecx
	jz .no_long_mode
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz .no_long_mode
	mov [PHYS(boot_ext_edx)], edx

	; Identity map the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT,
	; PDPT[0..3] -> four page directories. arch/x86/paging.c replaces these
	; tables with a map of all RAM once it knows the memory map.
	mov eax, PHYS(boot_pdpt)
	or eax, 0x3
	mov [PHYS(boot_pml4)], eax
%if KERNEL_VBASE != 0
	; The image at KERNEL_VBASE + x -> x for the first GiB: the first page
	; directory serves both.
	mov eax, PHYS(boot_pdpt_high)
	or eax, 0x3
	mov [PHYS(boot_pml4) + 8 * KERNEL_PML4_INDEX], eax
	mov eax, PHYS(boot_pd)
	or eax, 0x3
	mov [PHYS(boot_pdpt_high) + 8 * KERNEL_PDPT_INDEX], eax
%endif
	mov edi, PHYS(boot_pdpt)
	mov eax, PHYS(boot_pd)
	or eax, 0x3
	mov ecx, 4
.fill_pdpt:
	mov [edi], eax
	add edi, 8
	add eax, 4096
	loop .fill_pdpt

	mov edi, PHYS(boot_pd)
	mov eax, 0x83		; present, writable, 2 MiB page
	xor edx, edx		; high half of the physical address
	mov ecx, 4 * 512
.fill_pd:
	mov [edi], eax
	mov [edi + 4], edx
	add edi, 8
	add eax, 0x200000
	adc edx, 0
	loop .fill_pd

	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, PHYS(boot_pml4)
	mov cr3, eax

	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	test dword [PHYS(boot_ext_edx)], 1 << 20	; NX available
	jz .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr

	mov eax, cr0
	or eax, CR0_PG | CR0_PE
	mov cr0, eax

	lgdt [PHYS(boot_gdt_ptr)]
	jmp SEL_CODE64:long_mode_entry

	; No 64-bit mode: say so on COM1 and stop (there is nothing else we can
	; run; a reset would only loop through the firmware again).
.no_long_mode:
	mov esi, PHYS(no_lm_msg)
	call early_serial_puts
.halt:
	hlt
	jmp .halt

; esi = NUL-terminated string; programs COM1 for 115200 8N1 and writes it.
early_serial_puts:
	mov dx, 0x3f8 + 1
	xor al, al
	out dx, al		; no interrupts
	mov dx, 0x3f8 + 3
	mov al, 0x80
	out dx, al		; DLAB
	mov dx, 0x3f8
	mov al, 1
	out dx, al		; divisor 1 = 115200
	mov dx, 0x3f8 + 1
	xor al, al
	out dx, al
	mov dx, 0x3f8 + 3
	mov al, 0x03
	out dx, al		; 8N1
.next:
	lodsb
	test al, al
	jz .done
	mov ah, al
	mov dx, 0x3f8 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov dx, 0x3f8
	mov al, ah
	out dx, al
	jmp .next
.done:
	ret

bits 64
default rel
long_mode_entry:
	; Still at the physical address: on to the image's own addresses.
	mov rax, long_mode_high
	jmp rax

section .text
long_mode_high:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp		; ends the frame-pointer chain for backtraces
	mov edi, [boot_magic]
	mov esi, [boot_info]
	call bsp_main
.hang:
	cli
	hlt
	jmp .hang

; void boot_relocate(uint64_t dst, const void *src, uint64_t len, uint64_t cr3)
; Copy the running image (src, at its virtual addresses) to the physical dst
; (identity-mapped), then switch to page tables that map the image there.
; Nothing may be written between the copy and the switch: it would be lost
; (the stack too, so the copy is a single instruction and nothing is pushed).
boot_relocate:
	mov r8, rcx		; cr3
	mov rcx, rdx		; len
	rep movsb
	mov cr3, r8
	ret

section .rodata
no_lm_msg: db "umbra: CPU has no 64-bit long mode: cannot run", 13, 10, 0

section .data
align 16
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff	; 0x08: 64-bit code
	dq 0x00cf92000000ffff	; 0x10: data
	dq 0x00cf9a000000ffff	; 0x18: 32-bit code
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dq PHYS(boot_gdt)

boot_magic: dd 0
boot_info: dd 0
boot_ext_edx: dd 0

section .bss
align 4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pdpt_high: resb 4096
boot_pd: resb 4 * 4096
align 16
boot_stack: resb BOOT_STACK_SIZE
boot_stack_top:
