/* SPDX-License-Identifier: BSD-2-Clause */
/* Re-injection of an event whose delivery a VM exit interrupted (IDT-vectoring information). */
#include "arch/x86/event.h"

struct event_entry event_reinject(const struct event_exit *e)
{
	struct event_entry out = { .interruptibility = e->interruptibility };
	uint32_t type = EVENT_TYPE(e->idt_vectoring);

	if (!(e->idt_vectoring & EVENT_VALID)) {
		/* Only when no event was being delivered and the exit is no #DF (31.7.1.2). */
		if (e->nmi_unblocked_by_iret && e->virtual_nmis && e->exit_vector != EVENT_DOUBLE_FAULT)
			out.interruptibility |= EVENT_BLOCKING_BY_NMI;
		return out;
	}
	out.inject = true;
	out.intr_info = e->idt_vectoring & EVENT_ENTRY_BITS;
	out.error_code = (e->idt_vectoring & EVENT_ERROR_CODE_VALID) ? e->idt_error_code : 0;
	if (type == EVENT_TYPE_SW_INTR || type == EVENT_TYPE_PRIV_SW_EXCEPTION || type == EVENT_TYPE_SW_EXCEPTION)
		out.instruction_len = e->instruction_len;
	if (type == EVENT_TYPE_NMI && e->virtual_nmis)
		out.interruptibility &= ~EVENT_BLOCKING_BY_NMI;
	return out;
}
