# SPDX-License-Identifier: BSD-2-Clause
# umbra: one non-recursive Makefile. `make help` lists the targets.

# COVERAGE=1: umbra instrumented for gcov, in a build directory of its own (docs/coverage.md).
ifeq ($(COVERAGE),1)
BUILD ?= build/cov
endif
BUILD ?= build
V ?= 0
ifeq ($(V),0)
Q := @
quiet = @printf '  %-7s %s\n' $(1) $(2);
else
Q :=
quiet =
endif

CC := gcc
LD := ld
NASM := nasm

KERNEL_CFLAGS := -std=gnu11 -ffreestanding -fno-pic -fno-pie -mno-red-zone -mno-mmx -mno-sse \
	-mno-sse2 -mgeneral-regs-only -mcmodel=small -fno-stack-protector -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns -fno-builtin -O2 -g \
	-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror -I. -MMD -MP
KERNEL_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld
NASMFLAGS := -f elf64 -I.
# PROFILE=1: the exit-path profile (arch/x86/profile.h), for make bench's phase breakdown.
ifeq ($(PROFILE),1)
KERNEL_CFLAGS += -DUMBRA_PROFILE
NASMFLAGS += -DUMBRA_PROFILE
endif
# SHADOW_DOUBLED=1: nested/shadow_fields_doubled.h shadowed too, for make bench's table-size figure.
ifeq ($(SHADOW_DOUBLED),1)
KERNEL_CFLAGS += -DUMBRA_SHADOW_TABLE_DOUBLED
endif
# umbra itself runs in the top 2 GiB (linker.ld); the test guests, which reuse
# KERNEL_CFLAGS, run identity-mapped with the small model.
UMBRA_CFLAGS := -mcmodel=kernel
# COVERAGE=1: gcc's arc counters in every C file of umbra but the runtime that dumps them
# (core/gcov.c), updated atomically since every CPU runs the same code.
ifeq ($(COVERAGE),1)
UMBRA_CFLAGS += -DUMBRA_COVERAGE
COVERAGE_CFLAGS := -fprofile-arcs -ftest-coverage -fprofile-update=atomic
COVERAGE_RUNTIME := core/gcov.c
endif

# Every source of the kernel image, by layer.
BOOT_SRCS := boot/header.asm boot/entry.asm boot/trampoline.asm
ARCH_SRCS := arch/x86/gdt.c arch/x86/idt.c arch/x86/isr.asm arch/x86/smp.c arch/x86/vmx_caps.c \
	arch/x86/vmx.c arch/x86/vmx_entry.asm arch/x86/vmcs_fields.c arch/x86/mtrr.c arch/x86/ept.c \
	arch/x86/vcpu.c arch/x86/exit.c arch/x86/event.c arch/x86/vapic.c arch/x86/insn.c arch/x86/guest_mem.c \
	arch/x86/profile.c arch/x86/paging.c
CORE_SRCS := core/main.c core/log.c core/panic.c core/percpu.c core/mem.c core/string.c \
	core/format.c core/cmdline.c core/mb2.c core/frame.c core/shutdown.c core/loader.c \
	core/guest.c core/trace.c core/pvh.c core/bzimage.c $(COVERAGE_RUNTIME)
NESTED_SRCS := nested/vmx_msrs.c nested/vmcs12.c nested/launched.c nested/nvmx.c nested/insn.c \
	nested/entry.c nested/reflect.c nested/shadow.c nested/operand.c nested/vmcs02_policy.c \
	nested/msr_lists.c nested/msr_bitmap.c nested/ept12.c nested/ept02.c
DRIVER_SRCS := drivers/uart.c drivers/lapic.c drivers/timer.c drivers/power.c drivers/acpi.c
KERNEL_SRCS := $(BOOT_SRCS) $(ARCH_SRCS) $(CORE_SRCS) $(NESTED_SRCS) $(DRIVER_SRCS)
KERNEL_OBJS := $(patsubst %,$(BUILD)/kernel/%.o,$(KERNEL_SRCS))

UMBRA_ELF := $(BUILD)/umbra.elf
UMBRA_ISO := $(BUILD)/umbra.iso

.PHONY: all kernel iso run test check clean help deps
all: kernel iso

kernel: $(UMBRA_ELF)

$(BUILD)/kernel/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(call quiet,CC,$<)$(CC) $(KERNEL_CFLAGS) $(UMBRA_CFLAGS) \
		$(if $(filter $(COVERAGE_RUNTIME),$<),,$(COVERAGE_CFLAGS)) -c $< -o $@

$(BUILD)/kernel/%.asm.o: %.asm
	@mkdir -p $(dir $@)
	$(call quiet,NASM,$<)$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP $< -o $@

$(UMBRA_ELF): $(KERNEL_OBJS) linker.ld
	$(call quiet,LD,$@)$(LD) $(KERNEL_LDFLAGS) -o $@ $(KERNEL_OBJS)

-include $(KERNEL_OBJS:.o=.d)

include tests/unit/unit.mk
include tests/guests/guests.mk
include tests/fuzz/host/fuzz.mk
include tests/tests.mk

clean:
	rm -rf $(BUILD)

help:
	@echo "make run        build and boot umbra in Bochs (serial console on stdout)"
	@echo "make run L1=linux   the same with Debian's Linux/KVM as L1 (docs/linux.md)"
	@echo "make test       build and run every test (unit + system); prints 'N passed, N failed'"
	@echo "make iso        GRUB2 rescue ISO (BIOS + UEFI) at $(UMBRA_ISO)"
	@echo "make unit       host unit tests only (ASan/UBSan)"
	@echo "make fuzz-host  libFuzzer on the parsers of untrusted input (RUNS=n per harness, default 10^6)"
	@echo "make fuzz-host-cov  the parsers' coverage by the fuzzers' corpora (docs/testing.md)"
	@echo "make guests     the in-tree test guests (build/guests/*.elf)"
	@echo "make bench      benchmarks (BENCH lines): guest loops bare on Bochs and under umbra"
	@echo "make coverage   VMX system tests on a COVERAGE=1 umbra (build/cov): gcov's table for nested/"
	@echo "make fuzz SEEDS=n STEPS=m   differential VMX fuzzing, bare Bochs vs umbra (docs/fuzzing.md)"
	@echo "make run-qemu   boot in QEMU TCG (BIOS; UEFI=1 for OVMF); no VMX there"
	@echo "make run-kvm    boot under KVM with nested VMX (Intel hosts)"
	@echo "options: CPUS=n MEGS=n CMDLINE='umbra options' GUEST=elf GUEST_CMDLINE='...' V=1"
