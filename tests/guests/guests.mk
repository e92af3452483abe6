# SPDX-License-Identifier: BSD-2-Clause
# Test guests: multiboot2 kernels built from umbra's own boot, arch, core and driver code.
#
# Included by the top-level Makefile after BUILD, KERNEL_CFLAGS, KERNEL_LDFLAGS and
# NASMFLAGS. Each guest links with tests/guests/guest.ld at 16 MiB, identity-mapped
# (umbra's boot code assembled with KERNEL_VBASE=0), so that the same image boots
# directly on an emulator and as umbra's L1 guest; basic and mb1 are also linked at
# 1, 2 and 4 MiB (NAME-1m.elf ...), where real kernels load. A guest is the
# directory tests/guests/NAME/ (its *.c) plus the shared sources below; add NAME
# to GUESTS.

GUESTS := basic mb1 vmx fuzz
# mb1 is a multiboot1 kernel: its own header instead of umbra's multiboot2 one.
GUEST_EXCLUDE_mb1 := boot/header.asm
GUEST_LOAD_ADDRESS := 0x1000000
# Low-address variants: NAME-Xm.elf linked at X MiB.
GUEST_VARIANTS := basic mb1
GUEST_VARIANT_ADDRESSES := 1m:0x100000 2m:0x200000 4m:0x400000
# basic-240m lands on umbra's heap in a 256 MiB machine (test_umbra_module_overlaps_umbra).
GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%.elf,$(GUESTS)) \
	$(foreach g,$(GUEST_VARIANTS),$(foreach v,$(GUEST_VARIANT_ADDRESSES), \
		$(BUILD)/guests/$(g)-$(firstword $(subst :, ,$(v))).elf)) \
	$(BUILD)/guests/basic-240m.elf
GUEST_NASMFLAGS := $(NASMFLAGS) -DKERNEL_VBASE=0
GUEST_LDFLAGS := $(filter-out -T linker.ld,$(KERNEL_LDFLAGS)) -T tests/guests/guest.ld

# umbra's code that every guest reuses: no main.c, no mem.c, no VMX.
GUEST_UMBRA_SRCS := boot/header.asm boot/entry.asm boot/trampoline.asm \
	arch/x86/gdt.c arch/x86/idt.c arch/x86/isr.asm arch/x86/smp.c \
	core/format.c core/string.c core/log.c core/panic.c core/percpu.c core/mb2.c \
	core/cmdline.c core/shutdown.c \
	drivers/uart.c drivers/lapic.c drivers/timer.c drivers/power.c drivers/acpi.c
GUEST_LIB_SRCS := $(wildcard tests/guests/lib/*.c)
# More of umbra's sources for one guest: GUEST_EXTRA_SRCS_<name>.
GUEST_EXTRA_SRCS_vmx := arch/x86/vmcs_fields.c arch/x86/vmx_caps.c arch/x86/mtrr.c
# The fuzzer reuses the suite's VMCS set-up, L2 entry and guarded instructions.
GUEST_EXTRA_SRCS_fuzz := $(GUEST_EXTRA_SRCS_vmx) tests/guests/vmx/vmcs_setup.c \
	tests/guests/vmx/l2_entry.c tests/guests/vmx/guard.c

.PHONY: guests
guests: $(GUEST_ELFS)

$(BUILD)/guests/obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(KERNEL_CFLAGS) -c $< -o $@

$(BUILD)/guests/obj/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	$(call quiet,NASM,$<)$(NASM) $(GUEST_NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

# guest_variant NAME SUFFIX ADDRESS: $(BUILD)/guests/NAME-SUFFIX.elf, linked at ADDRESS.
define guest_variant
$$(BUILD)/guests/$(1)-$(2).elf: $$(GUEST_OBJS_$(1)) tests/guests/guest.ld tests/guests/guests.mk
	$$(call quiet,LD,$$@)$$(LD) --defsym=GUEST_LOAD_ADDRESS=$(3) \
		$$(GUEST_LDFLAGS) -o $$@ $$(GUEST_OBJS_$(1))
endef

# guest_rules NAME: link $(BUILD)/guests/NAME.elf.
define guest_rules
GUEST_OBJS_$(1) := $$(patsubst %,$$(BUILD)/guests/obj/%.o, \
	$$(filter-out $$(GUEST_EXCLUDE_$(1)),$$(GUEST_UMBRA_SRCS)) \
	$$(GUEST_LIB_SRCS) $$(GUEST_EXTRA_SRCS_$(1)) \
	$$(wildcard tests/guests/$(1)/*.c tests/guests/$(1)/*.asm))

# --defsym must come before -T guest.ld: DEFINED() there only sees symbols defined earlier.
$$(BUILD)/guests/$(1).elf: $$(GUEST_OBJS_$(1)) tests/guests/guest.ld tests/guests/guests.mk
	$$(call quiet,LD,$$@)$$(LD) --defsym=GUEST_LOAD_ADDRESS=$$(GUEST_LOAD_ADDRESS) \
		$$(GUEST_LDFLAGS) -o $$@ $$(GUEST_OBJS_$(1))

$$(foreach v,$$(GUEST_VARIANT_ADDRESSES) 240m:0xf000000,$$(eval $$(call guest_variant,$(1),$$(firstword $$(subst :, ,$$(v))),$$(lastword $$(subst :, ,$$(v))))))

-include $$(GUEST_OBJS_$(1):.o=.d)
endef
$(foreach g,$(GUESTS),$(eval $(call guest_rules,$(g))))
