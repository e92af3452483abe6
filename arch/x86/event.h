/* SPDX-License-Identifier: BSD-2-Clause */
/* Re-injection of an event whose delivery a VM exit interrupted (IDT-vectoring information). */
#ifndef UMBRA_ARCH_X86_EVENT_H
#define UMBRA_ARCH_X86_EVENT_H

#include "core/types.h"

/* Interruption-information format (SDM Vol. 3C 24.8.3, 24.9.2, 24.9.3). */
#define EVENT_VECTOR(i) ((i) & 0xffu)
#define EVENT_TYPE(i) (((i) >> 8) & 7u)
#define EVENT_ERROR_CODE_VALID (1u << 11)
#define EVENT_NMI_UNBLOCKED_BY_IRET (1u << 12) /* exit interruption info / EPT qualification */
#define EVENT_VALID (1u << 31)
#define EVENT_TYPE_EXT_INTR 0u
#define EVENT_TYPE_NMI 2u
#define EVENT_TYPE_HW_EXCEPTION 3u
#define EVENT_TYPE_SW_INTR 4u
#define EVENT_TYPE_PRIV_SW_EXCEPTION 5u
#define EVENT_TYPE_SW_EXCEPTION 6u
/* The bits of VM-entry interruption information that may be 1 (30:12 reserved, 26.2.1.3). */
#define EVENT_ENTRY_BITS (EVENT_VALID | EVENT_ERROR_CODE_VALID | 0x7ffu)
/* Guest interruptibility state: blocking by NMI, or virtual-NMI blocking (24.4.2). */
#define EVENT_BLOCKING_BY_NMI (1u << 3)
#define EVENT_DOUBLE_FAULT 8u

/* What the exit left, read from the VMCS that exited. */
struct event_exit {
	uint32_t idt_vectoring;       /* IDT-vectoring information */
	uint32_t idt_error_code;      /* IDT-vectoring error code */
	uint32_t instruction_len;     /* VM-exit instruction length */
	bool nmi_unblocked_by_iret;   /* bit 12 of the exit's interruption info or qualification */
	uint32_t exit_vector;         /* the exit's own vector (exception exits), else 0 */
	uint32_t interruptibility;    /* guest interruptibility state */
	bool virtual_nmis;            /* the VMCS's "virtual NMIs" control */
};

/* What to write before the next VM entry so that the guest sees the event delivered. */
struct event_entry {
	bool inject;                  /* write the three VM-entry fields */
	uint32_t intr_info, error_code, instruction_len;
	uint32_t interruptibility;    /* guest interruptibility state to write back */
};

/*
 * SDM Vol. 3C 27.2.4 and "Resuming Guest Software after Handling an
 * Exception" (VMM programming considerations, 31.7.1.2): the interrupted event
 * goes back into VM-entry interruption information with bits 30:12 cleared
 * (bit 12 is undefined in IDT-vectoring information), its error code, and for
 * software interrupts and exceptions (types 4-6) the instruction length the
 * exit reported; an NMI being re-injected with virtual NMIs clears
 * virtual-NMI blocking, which the failed delivery had set (else the entry
 * fails, 26.3.1.5). With no event interrupted, an exit on a faulting IRET
 * that had unblocked NMIs re-blocks them, since IRET runs again.
 */
struct event_entry event_reinject(const struct event_exit *e);

#endif
