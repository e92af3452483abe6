# SPDX-License-Identifier: BSD-2-Clause
# Test guests: multiboot2 kernels built from umbra's own boot, arch, core and driver code.
#
# Included by the top-level Makefile after BUILD, KERNEL_CFLAGS, KERNEL_LDFLAGS and
# NASMFLAGS. Each guest links with umbra's linker.ld, moved to 16 MiB so that the
# same image boots directly on an emulator and as umbra's L1 guest (umbra sits at
# 2 MiB). A guest is the directory tests/guests/NAME/ (its *.c) plus the shared
# sources below; add NAME to GUESTS.

GUESTS := basic mb1 vmx
# mb1 is a multiboot1 kernel: its own header instead of umbra's multiboot2 one.
GUEST_EXCLUDE_mb1 := boot/header.asm
GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.elf,$(GUESTS))
GUEST_LOAD_ADDRESS := 0x1000000

# umbra's code that every guest reuses: no main.c, no mem.c, no VMX.
GUEST_UMBRA_SRCS := boot/header.asm boot/entry.asm boot/trampoline.asm \
	arch/x86/gdt.c arch/x86/idt.c arch/x86/isr.asm arch/x86/smp.c \
	core/format.c core/string.c core/log.c core/panic.c core/percpu.c core/mb2.c \
	core/cmdline.c core/shutdown.c \
	drivers/uart.c drivers/lapic.c drivers/timer.c drivers/power.c drivers/acpi.c
GUEST_LIB_SRCS := $(wildcard tests/guests/lib/*.c)
# More of umbra's sources for one guest: GUEST_EXTRA_SRCS_<name>.
GUEST_EXTRA_SRCS_vmx := arch/x86/vmcs_fields.c arch/x86/vmx_caps.c arch/x86/mtrr.c

.PHONY: guests
guests: $(GUEST_ELFS)

$(BUILD)/guests/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/guests/obj/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	$(call quiet,NASM,$<)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# guest_rules NAME: link $(BUILD)/guests/NAME.elf.
define guest_rules
GUEST_OBJS_$(1) := $$(patsubst %,$$(BUILD)/guests/obj/%.o, \
	$$(filter-out $$(GUEST_EXCLUDE_$(1)),$$(GUEST_UMBRA_SRCS)) \
	$$(GUEST_LIB_SRCS) $$(GUEST_EXTRA_SRCS_$(1)) \
	$$(wildcard tests/guests/$(1)/*.c tests/guests/$(1)/*.asm))

# --defsym must come before -T linker.ld: DEFINED() there only sees symbols defined earlier.
$$(BUILD)/guests/$(1).elf: $$(GUEST_OBJS_$(1)) linker.ld tests/guests/guests.mk
	$$(call quiet,LD,$$@)$$(LD) --defsym=UMBRA_LOAD_ADDRESS=$$(GUEST_LOAD_ADDRESS) \
		$$(KERNEL_LDFLAGS) -o $$@ $$(GUEST_OBJS_$(1))

-include $$(GUEST_OBJS_$(1):.o=.d)
endef
$(foreach g,$(GUESTS),$(eval $(call guest_rules,$(g))))
