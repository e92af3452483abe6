/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests for re-injecting an interrupted event (arch/x86/event.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/event.h"

#define INFO(type, vector) (EVENT_VALID | ((type) << 8) | (vector))

/* No event was being delivered: nothing to inject, interruptibility as it was. */
static void test_nothing_interrupted(void **state)
{
	struct event_exit e = { .idt_vectoring = 0x1234 /* valid bit clear */, .interruptibility = 1 };
	struct event_entry in = event_reinject(&e);

	(void)state;
	assert_false(in.inject);
	assert_int_equal(in.interruptibility, 1);
}

/* An acknowledged external interrupt: same vector and type; undefined bit 12 dropped. */
static void test_external_interrupt(void **state)
{
	struct event_exit e = { .idt_vectoring = INFO(EVENT_TYPE_EXT_INTR, 0x41) | EVENT_NMI_UNBLOCKED_BY_IRET,
				.instruction_len = 3 };
	struct event_entry in = event_reinject(&e);

	(void)state;
	assert_true(in.inject);
	assert_int_equal(in.intr_info, INFO(EVENT_TYPE_EXT_INTR, 0x41));
	assert_int_equal(in.error_code, 0);
	assert_int_equal(in.instruction_len, 0); /* only software events carry a length */
}

/* A hardware exception with its error code (#PF): error code carried over. */
static void test_exception_error_code(void **state)
{
	struct event_exit e = { .idt_vectoring = INFO(EVENT_TYPE_HW_EXCEPTION, 14) | EVENT_ERROR_CODE_VALID,
				.idt_error_code = 0x6 };
	struct event_entry in = event_reinject(&e);

	(void)state;
	assert_int_equal(in.intr_info, INFO(EVENT_TYPE_HW_EXCEPTION, 14) | EVENT_ERROR_CODE_VALID);
	assert_int_equal(in.error_code, 0x6);
}

/* Software interrupt, privileged software exception, software exception: the instruction length. */
static void test_software_events_length(void **state)
{
	static const uint32_t types[] = { EVENT_TYPE_SW_INTR, EVENT_TYPE_PRIV_SW_EXCEPTION,
					  EVENT_TYPE_SW_EXCEPTION };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct event_exit e = { .idt_vectoring = INFO(types[i], 0x80), .instruction_len = 2 };
		struct event_entry in = event_reinject(&e);

		assert_int_equal(in.instruction_len, 2);
		assert_int_equal(in.intr_info, INFO(types[i], 0x80));
	}
}

/* An injected NMI whose delivery exited: virtual-NMI blocking cleared so that the entry succeeds. */
static void test_nmi_clears_virtual_nmi_blocking(void **state)
{
	struct event_exit e = { .idt_vectoring = INFO(EVENT_TYPE_NMI, 2),
				.interruptibility = EVENT_BLOCKING_BY_NMI | 1, .virtual_nmis = true };
	struct event_entry in = event_reinject(&e);

	(void)state;
	assert_true(in.inject);
	assert_int_equal(in.interruptibility, 1);
	e.virtual_nmis = false; /* without virtual NMIs the bit is the CPU's: left alone */
	assert_int_equal(event_reinject(&e).interruptibility, EVENT_BLOCKING_BY_NMI | 1);
}

/* A faulting IRET had unblocked virtual NMIs: blocked again before it runs again; not for #DF. */
static void test_iret_unblocking(void **state)
{
	struct event_exit e = { .nmi_unblocked_by_iret = true, .virtual_nmis = true, .exit_vector = 13 };

	(void)state;
	assert_int_equal(event_reinject(&e).interruptibility, EVENT_BLOCKING_BY_NMI);
	e.exit_vector = EVENT_DOUBLE_FAULT;
	assert_int_equal(event_reinject(&e).interruptibility, 0);
	e.exit_vector = 13;
	e.idt_vectoring = INFO(EVENT_TYPE_HW_EXCEPTION, 13) | EVENT_ERROR_CODE_VALID;
	assert_int_equal(event_reinject(&e).interruptibility, 0); /* bit 12 undefined then */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_interrupted),
		cmocka_unit_test(test_external_interrupt),
		cmocka_unit_test(test_exception_error_code),
		cmocka_unit_test(test_software_events_length),
		cmocka_unit_test(test_nmi_clears_virtual_nmi_blocking),
		cmocka_unit_test(test_iret_unblocking),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
