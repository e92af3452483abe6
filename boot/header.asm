; SPDX-License-Identifier: BSD-2-Clause
; Multiboot2 header: what umbra asks of GRUB (Multiboot2 spec 3.1).

%include "boot/layout.inc"

section .multiboot
align 8
mb2_header_start:
	dd MB2_HEADER_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header_start
	dd -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header_start))

	; Information request: umbra cannot run without these (not optional).
align 8
.info_req:
	dw 1, 0
	dd .info_req_end - .info_req
	dd 1	; command line
	dd 3	; modules
	dd 6	; memory map
.info_req_end:

	; No framebuffer tag: umbra only talks on the serial port, and asking
	; for a VBE mode made GRUB 2.06 crash on Bochs. On UEFI, GRUB then says
	; "no suitable video mode found" and boots umbra all the same.

	; Terminating tag.
align 8
	dw 0, 0
	dd 8
mb2_header_end:
