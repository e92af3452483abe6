# SPDX-License-Identifier: BSD-2-Clause
# Runners and tests: included by the top-level Makefile.

CPUS ?= 2
MEGS ?= 256
CMDLINE ?=
TIMEOUT ?= 300

.PHONY: deps deps-build deps-bochs deps-qemu deps-unit run run-qemu run-kvm bench

deps-build:
	$(Q)tests/deps.sh build
deps-bochs:
	$(Q)tests/deps.sh bochs
deps-qemu:
	$(Q)tests/deps.sh qemu
deps-unit:
	$(Q)tests/deps.sh unit
deps:
	$(Q)tests/deps.sh all

# The deps step runs first so that a fresh machine has nasm before anything builds.
iso: deps-build
	$(Q)$(MAKE) --no-print-directory kernel
	$(Q)tests/system/boot.sh --iso-only --cmdline "$(CMDLINE)" --out $(BUILD)/iso
	$(Q)cp $(BUILD)/iso/boot.iso $(UMBRA_ISO)
	@echo "  ISO     $(UMBRA_ISO)"

# The default configuration: umbra with the VMX test guest as its L1, every CPU running
# an L2 of its own (GUEST= and GUEST_CMDLINE= to change it; GUEST= alone boots umbra only).
GUEST ?= $(BUILD)/guests/vmx.elf
GUEST_CMDLINE ?= test=smp_l2 cpus=$(CPUS)

run: deps-bochs
	$(Q)$(MAKE) --no-print-directory kernel guests
	$(Q)tests/system/boot.sh --emu bochs --cpus $(CPUS) --megs $(MEGS) --cmdline "$(CMDLINE)" \
		$(if $(GUEST),--module "$(GUEST)=$(GUEST_CMDLINE)") \
		--out $(BUILD)/run --timeout $(TIMEOUT) --stream

bench: deps-bochs
	$(Q)$(MAKE) --no-print-directory kernel guests
	$(Q)tests/bench/run.sh $(BUILD)

run-qemu: deps-qemu
	$(Q)$(MAKE) --no-print-directory kernel
	$(Q)tests/system/boot.sh --emu $(if $(UEFI),qemu-uefi,qemu) --cpus $(CPUS) --megs $(MEGS) \
		--cmdline "$(CMDLINE)" --out $(BUILD)/run-qemu --timeout $(TIMEOUT) --stream

run-kvm: deps-qemu
	$(Q)$(MAKE) --no-print-directory kernel
	$(Q)tests/system/boot.sh --emu kvm --cpus $(CPUS) --megs $(MEGS) --cmdline "$(CMDLINE)" \
		--out $(BUILD)/run-kvm --timeout $(TIMEOUT) --stream

test: deps
	$(Q)$(MAKE) --no-print-directory kernel unit guests
	$(Q)tests/run_tests.sh $(BUILD)
