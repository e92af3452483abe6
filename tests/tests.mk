# SPDX-License-Identifier: BSD-2-Clause
# Runners and tests: included by the top-level Makefile.

CPUS ?= 2
MEGS ?= 256
CMDLINE ?=
TIMEOUT ?= 300

.PHONY: deps deps-build deps-bochs deps-qemu deps-unit run run-qemu run-kvm bench coverage fuzz

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

# L1=linux: Debian's Linux/KVM as umbra's L1 instead (tests/linux/, docs/linux.md), running
# tests/linux/kvm_l2.c's L2 with kvm_intel ept=0 unrestricted_guest=0 vpid=0; ~2.5 min.
LINUX_RUN_CMDLINE ?= console=ttyS0 tsc_early_khz=200000 loglevel=5 panic=-1 reboot=t \
	umbra.kvm_intel=ept=0,unrestricted_guest=0,vpid=0 umbra.label=shadow_on

ifeq ($(L1),linux)
run: deps
	$(Q)$(MAKE) --no-print-directory kernel
	$(Q)payload=$$(tests/linux/payload.sh $(BUILD)) && \
	tests/system/boot.sh --emu bochs --cpus 1 --megs 512 --cmdline "$(CMDLINE)" \
		--module "$$payload/vmlinux=$(LINUX_RUN_CMDLINE)" --module "$$payload/initrd.gz" \
		--out $(BUILD)/run --timeout 600 --stream
else
run: deps-bochs
	$(Q)$(MAKE) --no-print-directory kernel guests
	$(Q)tests/system/boot.sh --emu bochs --cpus $(CPUS) --megs $(MEGS) --cmdline "$(CMDLINE)" \
		$(if $(GUEST),--module "$(GUEST)=$(GUEST_CMDLINE)") \
		--out $(BUILD)/run --timeout $(TIMEOUT) --stream
endif

# make fuzz SEEDS=N STEPS=M: a differential VMX fuzzing campaign (docs/fuzzing.md), bare Bochs
# against umbra; ends with "FUZZ seeds=N steps=M vmx_instructions=K divergences=D ...".
SEEDS ?= 100
STEPS ?= 300
FIRST_SEED ?= 1
fuzz: deps-bochs
	$(Q)$(MAKE) --no-print-directory kernel guests
	$(Q)tests/fuzz/campaign.sh --build $(BUILD) --seeds $(SEEDS) --steps $(STEPS) --first $(FIRST_SEED)

bench: deps-bochs
	$(Q)$(MAKE) --no-print-directory kernel guests
	$(Q)tests/bench/run.sh $(BUILD)

# make coverage: the VMX system tests on a COVERAGE=1 umbra of its own build directory, and
# gcov's line and branch figures for nested/ and arch/x86/exit.c (docs/coverage.md).
# COVERAGE_EXTRA='script...' adds campaigns (tests/coverage/run.sh says how they are run;
# default: a differential fuzzer campaign, tests/coverage/fuzz.sh; COVERAGE_EXTRA= for none),
# COVERAGE_FILTER=substring / COVERAGE_TESTS='name...' narrow the tests.
COVERAGE_BUILD ?= build/cov
COVERAGE_EXTRA ?= tests/coverage/fuzz.sh
coverage: deps-bochs
	$(Q)$(MAKE) --no-print-directory COVERAGE=1 BUILD=$(COVERAGE_BUILD) kernel guests
	$(Q)COVERAGE_EXTRA="$(COVERAGE_EXTRA)" COVERAGE_FILTER="$(COVERAGE_FILTER)" \
		COVERAGE_TESTS="$(COVERAGE_TESTS)" tests/coverage/run.sh $(COVERAGE_BUILD)

run-qemu: deps-qemu
	$(Q)$(MAKE) --no-print-directory kernel
	$(Q)tests/system/boot.sh --emu $(if $(UEFI),qemu-uefi,qemu) --cpus $(CPUS) --megs $(MEGS) \
		--cmdline "$(CMDLINE)" --out $(BUILD)/run-qemu --timeout $(TIMEOUT) --stream

run-kvm: deps-qemu
	$(Q)$(MAKE) --no-print-directory kernel
	$(Q)tests/system/boot.sh --emu kvm --cpus $(CPUS) --megs $(MEGS) --cmdline "$(CMDLINE)" \
		--out $(BUILD)/run-kvm --timeout $(TIMEOUT) --stream

test: deps
	$(Q)$(MAKE) --no-print-directory kernel unit guests fuzz-host-build
	$(Q)tests/run_tests.sh $(BUILD)

# make test-linux: the whole Linux/KVM matrix (tests/system/cases_linux.sh, docs/linux.md):
# KVM directly on Bochs and under umbra, ept=0 and KVM's defaults, shadowing off, 2 CPUs
# with an L2 on each (~40 min).
.PHONY: test-linux
test-linux: deps
	$(Q)$(MAKE) --no-print-directory kernel guests
	$(Q)UMBRA_TEST_LINUX_MATRIX=1 tests/run_tests.sh $(BUILD) linux_
