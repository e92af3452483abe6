# SPDX-License-Identifier: BSD-2-Clause
# Host fuzzing (libFuzzer, clang, ASan/UBSan) of the parsers that read untrusted input.
#
# Included by the top-level Makefile; names are prefixed fuzz_/FUZZ_. Each harness
# tests/fuzz/host/fuzz_<name>.c is linked with the module sources it exercises,
# as the unit tests are, into $(BUILD)/fuzz-host/bin/fuzz_<name>. tests/fuzz/host/run.sh
# runs them; crashing inputs land in $(BUILD)/fuzz-host/<name>/.

FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -DUMBRA_HOST_TEST -I. $(FUZZ_SAN) \
	-fsanitize=fuzzer-no-link
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer

ifeq ($(V),1)
FUZZ_Q :=
else
FUZZ_Q := @
endif

# Each harness and the module sources it links against (FUZZ_NAMES=mb2 runs a subset).
FUZZ_NAMES ?= mb2 loader operand insn cmdline
fuzz_mb2_SRCS := core/mb2.c core/loader.c core/pvh.c core/format.c
fuzz_loader_SRCS := core/loader.c core/pvh.c core/format.c core/mb2.c
fuzz_operand_SRCS := nested/operand.c
fuzz_insn_SRCS := arch/x86/insn.c
fuzz_cmdline_SRCS := core/cmdline.c core/format.c

# make fuzz-host: RUNS executions per harness (default 10^6), or FUZZ_TIME seconds each
# instead; SEED fixes libFuzzer's seed (default: a new one per run).
RUNS ?= 1000000
FUZZ_TIME ?=
SEED ?=

# fuzz_insn asks LLVM's x86 disassembler for a second opinion (llvm-14-dev's C API).
FUZZ_LLVM_CONFIG ?= llvm-config-14
fuzz_insn_CFLAGS = -I$(shell $(FUZZ_LLVM_CONFIG) --includedir)
fuzz_insn_LDLIBS = -L$(shell $(FUZZ_LLVM_CONFIG) --libdir) $(shell $(FUZZ_LLVM_CONFIG) --libs) \
	-Wl,-rpath,$(shell $(FUZZ_LLVM_CONFIG) --libdir)

FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz-host/bin/fuzz_%,$(FUZZ_NAMES))
FUZZ_SRCS := $(sort $(foreach n,$(FUZZ_NAMES),tests/fuzz/host/fuzz_$(n).c $(fuzz_$(n)_SRCS)))
FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzz-host/obj/%.o,$(FUZZ_SRCS))
$(BUILD)/fuzz-host/obj/tests/fuzz/host/fuzz_insn.o: FUZZ_CFLAGS += $(fuzz_insn_CFLAGS)

.PHONY: fuzz-host fuzz-host-build deps-fuzz
deps-fuzz:
	$(Q)tests/deps.sh fuzz

fuzz-host-build: $(FUZZ_BINS)

fuzz-host: deps-fuzz
	$(Q)$(MAKE) --no-print-directory fuzz-host-build
	$(Q)tests/fuzz/host/run.sh --runs $(RUNS) $(if $(FUZZ_TIME),--time $(FUZZ_TIME)) \
		$(if $(SEED),--seed $(SEED)) $(BUILD) $(FUZZ_NAMES)

# make fuzz-host-cov: the parsers' line and branch coverage by the corpora fuzz-host kept
# (and the seeds), from builds instrumented for llvm-cov instead of the sanitizers.
FUZZ_COV_CFLAGS := -std=gnu11 -g -O0 -DUMBRA_HOST_TEST -I. -fprofile-instr-generate -fcoverage-mapping \
	-fsanitize=fuzzer
FUZZ_COV_BINS := $(patsubst %,$(BUILD)/fuzz-host/cov/fuzz_%,$(FUZZ_NAMES))
# The parsers reported: every harness's sources but the formatter of error messages.
FUZZ_COV_FILES := $(filter-out core/format.c,$(sort $(foreach n,$(FUZZ_NAMES),$(fuzz_$(n)_SRCS))))

.PHONY: fuzz-host-cov fuzz-host-cov-build FORCE
FORCE:
fuzz-host-cov: deps-fuzz
	$(Q)$(MAKE) --no-print-directory fuzz-host-cov-build
	$(Q)tests/fuzz/host/coverage.sh $(BUILD) "$(FUZZ_NAMES)" $(FUZZ_COV_FILES)

fuzz-host-cov-build: $(FUZZ_COV_BINS)

# Rebuilt every time (five small links): no dependency files for these one-step builds.
define fuzz_cov_rule
$(BUILD)/fuzz-host/cov/fuzz_$(1): tests/fuzz/host/fuzz_$(1).c $(fuzz_$(1)_SRCS) FORCE
	@mkdir -p $$(@D)
	@$$(if $$(FUZZ_Q),echo "  FUZZCOV $$@")
	$$(FUZZ_Q)$$(FUZZ_CC) $$(FUZZ_COV_CFLAGS) $$(fuzz_$(1)_CFLAGS) $$(filter %.c,$$^) $$(fuzz_$(1)_LDLIBS) -o $$@
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_cov_rule,$(n))))

$(FUZZ_OBJS): $(BUILD)/fuzz-host/obj/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(FUZZ_Q),echo "  FUZZCC  $<")
	$(FUZZ_Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

define fuzz_link_rule
$(BUILD)/fuzz-host/bin/fuzz_$(1): $(patsubst %.c,$(BUILD)/fuzz-host/obj/%.o,tests/fuzz/host/fuzz_$(1).c $(fuzz_$(1)_SRCS))
	@mkdir -p $$(@D)
	@$$(if $$(FUZZ_Q),echo "  FUZZLD  $$@")
	$$(FUZZ_Q)$$(FUZZ_CC) $$(FUZZ_LDFLAGS) $$^ $$(fuzz_$(1)_LDLIBS) -o $$@
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_link_rule,$(n))))

-include $(FUZZ_OBJS:.o=.d)
