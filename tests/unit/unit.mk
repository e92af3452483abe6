# SPDX-License-Identifier: BSD-2-Clause
# Host unit tests (cmocka) for the pure-logic modules, built with ASan and UBSan.
#
# Included by the top-level Makefile; every name here is prefixed unit_/UNIT_
# so that it cannot collide with the kernel build. Objects live in
# $(BUILD)/unit/, mirroring the source tree.

BUILD ?= build

UNIT_CC ?= gcc
UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -DUMBRA_HOST_TEST -I. \
	-fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_LDFLAGS := -fsanitize=address,undefined
UNIT_LDLIBS := -lcmocka

# Quiet unless V=1, like the rest of the build.
ifeq ($(V),1)
UNIT_Q :=
else
UNIT_Q := @
endif

# Each test and the module sources it links against (UNIT_NAMES=acpi runs a subset).
UNIT_NAMES ?= format cmdline mb2 acpi frame loader ept mtrr vmcs_fields nested shadow operand vmcs02_policy \
	paging trace insn event pvh ept12 msr_bitmap bzimage
unit_format_SRCS := core/format.c
unit_trace_SRCS := core/trace.c core/format.c
unit_cmdline_SRCS := core/cmdline.c core/format.c
unit_mb2_SRCS := core/mb2.c
unit_acpi_SRCS := drivers/acpi.c
unit_frame_SRCS := core/frame.c
unit_shadow_SRCS := nested/shadow.c arch/x86/vmcs_fields.c
unit_operand_SRCS := nested/operand.c
unit_event_SRCS := arch/x86/event.c
unit_insn_SRCS := arch/x86/insn.c
unit_nested_SRCS := nested/launched.c nested/vmcs12.c arch/x86/vmcs_fields.c
unit_loader_SRCS := core/loader.c core/pvh.c core/format.c core/mb2.c
unit_pvh_SRCS := core/pvh.c core/loader.c core/format.c core/mb2.c
unit_bzimage_SRCS := core/bzimage.c core/loader.c core/pvh.c core/format.c core/mb2.c
unit_ept_SRCS := arch/x86/ept.c arch/x86/mtrr.c
unit_ept12_SRCS := nested/ept12.c
unit_msr_bitmap_SRCS := nested/msr_bitmap.c
unit_mtrr_SRCS := arch/x86/mtrr.c
unit_vmcs_fields_SRCS := arch/x86/vmcs_fields.c
unit_vmcs02_policy_SRCS := nested/vmcs02_policy.c nested/vmcs12.c arch/x86/vmcs_fields.c
unit_paging_SRCS := arch/x86/paging.c

UNIT_TESTS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_NAMES))
# core/log.h's log() is umbra's, not libm's.
$(BUILD)/unit/tests/unit/test_trace.o $(BUILD)/unit/core/trace.o: UNIT_CFLAGS += -fno-builtin-log

UNIT_SRCS := $(sort $(foreach t,$(UNIT_NAMES),tests/unit/test_$(t).c $(unit_$(t)_SRCS)))
UNIT_OBJS := $(patsubst %.c,$(BUILD)/unit/%.o,$(UNIT_SRCS))

.PHONY: unit unit-run
unit: $(UNIT_TESTS)

# Runs every binary even after a failure, then fails if any did.
unit-run: $(UNIT_TESTS)
	$(UNIT_Q)fail=0; for t in $(UNIT_TESTS); do \
		echo "  RUN     $$t"; $$t || fail=1; \
	done; exit $$fail

# A static pattern rule, so the kernel's $(BUILD)/%.o rule never applies here.
$(UNIT_OBJS): $(BUILD)/unit/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(UNIT_Q),echo "  HOSTCC  $<")
	$(UNIT_Q)$(UNIT_CC) $(UNIT_CFLAGS) -MMD -MP -c $< -o $@

define unit_link_rule
$(BUILD)/unit/test_$(1): $(patsubst %.c,$(BUILD)/unit/%.o,tests/unit/test_$(1).c $(unit_$(1)_SRCS))
	@$$(if $$(UNIT_Q),echo "  HOSTLD  $$@")
	$$(UNIT_Q)$$(UNIT_CC) $$(UNIT_LDFLAGS) $$^ $$(UNIT_LDLIBS) -o $$@
endef
$(foreach t,$(UNIT_NAMES),$(eval $(call unit_link_rule,$(t))))

-include $(UNIT_OBJS:.o=.d)
