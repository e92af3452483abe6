; SPDX-License-Identifier: BSD-2-Clause
; Multiboot (0.6.96) header of the multiboot1 test guest: ELF, page-aligned modules, memory info.

%define MB1_MAGIC	0x1badb002
%define MB1_FLAGS	0x00000003	; bit 0: align modules, bit 1: memory information

section .multiboot
align 4
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)
