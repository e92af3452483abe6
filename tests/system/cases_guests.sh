# SPDX-License-Identifier: BSD-2-Clause
# System tests of the test guests: directly on Bochs, under umbra, and bare vs umbra.

SYSTEM_TESTS+=(
	guest_bare_1cpu
	guest_bare_2cpu
	guest_bare_4cpu
	guest_umbra_2cpu
	guest_umbra_4cpu
	guest_diff_2cpu
	guest_isolation
	guest_triple_fault
	guest_mb1_bare
	guest_mb1_umbra
	guest_low_1m_diff
	guest_low_2m_diff
	guest_low_4m_diff
	guest_mb1_low_diff
	guest_high_mem_diff
	guest_umbra_to_x2apic
	guest_umbra_x2apic
	guest_apic_unsupported
)

# The guest logs through umbra's log(): "[cpuN] " first, optional here so that
# consoles whose prefix was stripped match as well.
GUEST_LINE='^(\[cpu[0-9]+\] )?'

# The apic group: one xAPIC TPR store per form (tests/guests/basic/apic_forms.asm).
GUEST_APIC_CHECKS=(
	apic.store_moffs64 apic.store_moffs32_a32 apic.store_base apic.store_disp8 apic.store_disp32
	apic.store_sib apic.store_sib_disp8 apic.store_sib_index_only apic.store_sib_absolute_a32
	apic.store_rex_rb apic.store_rex_x apic.store_a32_base apic.store_seg_ds apic.store_seg_cs_es
	apic.store_imm32 apic.store_imm32_disp32_a32 apic.store_xchg apic.store_lock_xchg
	apic.store_xchg_rex apic.store_c32_moffs apic.store_c32_base apic.store_c32_sib_disp32
	apic.store_c32_seg_ss apic.store_c32_imm32 apic.store_c32_xchg
)

# Every check of a test=all run of tests/guests/basic, except the per-AP smp.cpuN.
GUEST_BASIC_CHECKS=(
	cpuid.vmx cpuid.vendor cpuid.long_mode
	msr.feature_control msr.feature_control_write_gp msr.vmx_basic msr.vmx_basic_vmcs_size
	msr.vmx_basic_revision msr.vmx_cr0_fixed0 msr.vmx_cr4_fixed0 msr.x2apic_in_xapic_gp
	cr.vmxe_initial cr.vmxe_set cr.vmxe_clear cr.ne_set cr.ne_restore cpuid.osxsave_follows_cr4
	memmap.mb2 memmap.present memmap.available memmap.image memmap.no_overlap memmap.rsdp
	memmap.acpi memmap.madt_cpus
	smp.all_up
	"${GUEST_APIC_CHECKS[@]}"
)

guest_elf() {
	local elf="$build/guests/$1.elf"
	if [ ! -f "$elf" ]; then
		echo "$elf not found (run make guests)" >&2
		return 1
	fi
	echo "$elf"
}

# check_guest_run N: the console holds a complete, clean test=all run of the basic guest on N CPUs.
check_guest_run() {
	local n=$1 name i
	expect "${GUEST_LINE}SUMMARY passed=[0-9]+ failed=0 skipped=[0-9]+\$" \
		"the guest's SUMMARY with failed=0" || return 1
	expect_not "${GUEST_LINE}TEST [^ ]+ FAIL" "a FAIL line" || return 1
	expect_not 'PANIC' || return 1
	for name in "${GUEST_BASIC_CHECKS[@]}"; do
		expect "${GUEST_LINE}TEST ${name//./\\.} PASS" "TEST $name PASS" || return 1
	done
	for ((i = 1; i < n; i++)); do
		expect "${GUEST_LINE}TEST smp\.cpu$i PASS" "TEST smp.cpu$i PASS" || return 1
	done
	expect_count $((n - 1)) "${GUEST_LINE}TEST smp\.cpu[0-9]+ " || return 1
}

# boot_guest_bare N: the basic guest as the kernel, straight on Bochs with N CPUs.
boot_guest_bare() {
	local elf
	elf=$(guest_elf basic 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus "$1" --kernel "$elf" --cmdline "cpus=$1"
}

# boot_guest_umbra N [GUEST_CMDLINE]: umbra on N CPUs, the basic guest as its L1 module.
boot_guest_umbra() {
	local elf
	elf=$(guest_elf basic 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus "$1" --kernel "$build/umbra.elf" --module "$elf=${2:-cpus=$1}"
}

guest_bare() {
	boot_guest_bare "$1" || return 1
	check_guest_run "$1" || return 1
	expect "${GUEST_LINE}INFO bare\$" "INFO bare (no hypervisor seen)"
}

test_guest_bare_1cpu() {
	guest_bare 1
}

test_guest_bare_2cpu() {
	guest_bare 2
}

test_guest_bare_4cpu() {
	guest_bare 4
}

# --- under umbra -------------------------------------------------------------------

# guest_verdicts CONSOLE: one "name VERDICT" per TEST line, without prefix and detail.
# The "umbra." group (umbra's hypercalls) exists only under umbra and is left out.
guest_verdicts() {
	sed -nE 's/^(\[cpu[0-9]+\] )?TEST ([^ ]+) (PASS|FAIL|SKIP)( .*)?$/\2 \3/p' "$1" |
		grep -v '^umbra\.'
}

# compare_verdicts BARE_CONSOLE UMBRA_CONSOLE: the same checks with the same verdicts.
# Prints every difference (a check on one side only, or another verdict) on one line.
compare_verdicts() {
	local bare umbra diffs
	bare=$(guest_verdicts "$1")
	umbra=$(guest_verdicts "$2")
	[ -n "$bare" ] || { echo "no TEST lines in $1"; return 1; }
	[ -n "$umbra" ] || { echo "no TEST lines in $2"; return 1; }
	# Two runs that stopped at the same place agree, and prove nothing.
	grep -qE "${GUEST_LINE}SUMMARY " "$1" || { echo "no SUMMARY line in $1: the run did not finish"; return 1; }
	grep -qE "${GUEST_LINE}SUMMARY " "$2" || { echo "no SUMMARY line in $2: the run did not finish"; return 1; }
	# A name may repeat (cmdline.word): the k-th occurrence is compared with the k-th.
	diffs=$(awk '
		{ key = $1 "#" (++seen[FILENAME, $1]) }
		FNR == NR { bare[key] = $2; next }
		{ umbra[key] = $2 }
		END {
			for (k in bare)
				if (!(k in umbra))
					printf "%s: bare %s, umbra none\n", k, bare[k]
				else if (bare[k] != umbra[k])
					printf "%s: bare %s, umbra %s\n", k, bare[k], umbra[k]
			for (k in umbra)
				if (!(k in bare))
					printf "%s: bare none, umbra %s\n", k, umbra[k]
		}' <(echo "$bare") <(echo "$umbra") | sed 's/#1:/:/' | sort)
	if [ -n "$diffs" ]; then
		echo "verdicts differ: $(echo "$diffs" | paste -sd ';' | sed 's/;/; /g')"
		return 1
	fi
}

# boot_into SUBDIR [boot options]: boot into $logs/$TEST_NAME/SUBDIR (several boots in one test).
boot_into() {
	local saved=$TEST_NAME status=0
	TEST_NAME="$saved/$1"
	shift
	mkdir -p "$logs/$TEST_NAME"
	"$@" || status=1
	TEST_NAME=$saved
	return $status
}

# umbra's hypercalls, as the guest sees them (core/hypercall.h).
UMBRA_HC_CHECKS=(
	umbra.hc_version umbra.hc_log umbra.hc_log_too_long umbra.hc_log_umbra_memory
	umbra.hc_unknown umbra.hc_stats umbra.hc_stats_truncated umbra.hc_stats_bad_cpu
	umbra.pt_hidden umbra.pt_msrs_intercepted
)

# IA32_APIC_BASE writes umbra refuses in xAPIC mode, and the one it accepts (checks_apic.c).
UMBRA_APIC_BASE_CHECKS=(umbra.apic_base_same umbra.apic_base_relocate umbra.apic_base_disable)

test_guest_umbra_2cpu() {
	local name
	boot_guest_umbra 2 || return 1
	check_guest_run 2 || return 1
	expect "${GUEST_LINE}INFO under umbra" || return 1
	for name in "${UMBRA_HC_CHECKS[@]}" "${UMBRA_APIC_BASE_CHECKS[@]}"; do
		expect "${GUEST_LINE}TEST ${name//./\\.} PASS" "TEST $name PASS" || return 1
	done
	expect '^\[cpu[0-9]\] guest: hello from the basic test guest$' "the guest's LOG hypercall" || return 1
	expect '^\[cpu0\] stats: cpu1 [0-9]+ exits from L1' "exit statistics for CPU 1" || return 1
	expect_clean_exit 0
}

# The same guest bare and under umbra: every check must get the same verdict.
test_guest_diff_2cpu() {
	local bare_console
	boot_into bare boot_guest_bare 2 || return 1
	bare_console=$CONSOLE
	boot_into umbra boot_guest_umbra 2 || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# The guest reads umbra's own memory: umbra must stop it before the read completes.
test_guest_isolation() {
	local addr
	boot_guest_umbra 1 "test=isolation" || return 1
	expect "${GUEST_LINE}INFO isolation: reading 0x[0-9a-f]+" "the guest reaching its read" || return 1
	addr=$(sed -nE 's/.*INFO isolation: reading (0x[0-9a-f]+).*/\1/p' "$CONSOLE" | head -n 1)
	expect "mem: umbra at \[$addr-" "the guest reading the start of umbra's footprint" || return 1
	expect "guest stopped: EPT violation: read of umbra's memory at guest-physical $addr" \
		"umbra's report naming the address" || return 1
	expect_not "${GUEST_LINE}INFO isolation: read [0-9]" "a completed read" || return 1
	expect_not 'TEST isolation\.unreachable' || return 1
	expect_clean_exit 1
}

# A triple fault in the guest stops the guest, not umbra.
test_guest_triple_fault() {
	boot_guest_umbra 1 "test=triple_fault" || return 1
	expect "${GUEST_LINE}INFO triple_fault: faulting now" "the guest reaching its fault" || return 1
	expect 'guest stopped: .*triple fault' || return 1
	expect_clean_exit 1
}

test_guest_umbra_4cpu() {
	boot_guest_umbra 4 || return 1
	check_guest_run 4 || return 1
	expect_clean_exit 0
}

# --- multiboot1 --------------------------------------------------------------------

# The multiboot1 guest, loaded by GRUB's multiboot command (the reference) and by umbra.
test_guest_mb1_bare() {
	boot --emu bochs --cpus 1 --multiboot1 --kernel "$build/guests/mb1.elf" --cmdline "hello=multiboot1" ||
		return 1
	expect "${GUEST_LINE}SUMMARY passed=8 failed=0" || return 1
	expect "${GUEST_LINE}INFO .*loader \"GRUB"
}

test_guest_mb1_umbra() {
	boot --emu bochs --cpus 1 --module "$build/guests/mb1.elf=hello=multiboot1" || return 1
	expect '^\[cpu0\] guest: multiboot kernel ' "umbra loading a multiboot1 kernel" || return 1
	expect "${GUEST_LINE}SUMMARY passed=8 failed=0" || return 1
	expect "${GUEST_LINE}INFO .*loader \"umbra" || return 1
	expect_clean_exit 0
}

# --- kernels linked where real ones load (issue 14) ---------------------------------

# guest_low_diff SUFFIX ADDRESS: basic-SUFFIX.elf (linked at ADDRESS) on 2 CPUs, bare and
# under umbra: a clean run both times, the same verdicts, and umbra loading it where linked.
guest_low_diff() {
	local elf bare_console
	elf=$(guest_elf "basic-$1" 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot --emu bochs --cpus 2 --kernel "$elf" --cmdline "cpus=2" || return 1
	check_guest_run 2 || return 1
	expect "${GUEST_LINE}TEST memmap\.image PASS image \[$2-" "the guest running at $2" || return 1
	bare_console=$CONSOLE
	boot_into umbra boot --emu bochs --cpus 2 --kernel "$build/umbra.elf" --module "$elf=cpus=2" ||
		return 1
	expect "^\[cpu0\] guest: multiboot2 kernel \[$2-" "umbra loading the kernel at $2" || return 1
	check_guest_run 2 || return 1
	expect_clean_exit 0 || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

test_guest_low_1m_diff() {
	guest_low_diff 1m 0x100000
}

test_guest_low_2m_diff() {
	guest_low_diff 2m 0x200000
}

test_guest_low_4m_diff() {
	guest_low_diff 4m 0x400000
}

# The multiboot1 guest linked at 1, 2 and 4 MiB under umbra (mem_upper and the map
# agree and reach umbra's footprint), and at 1 MiB bare on GRUB with the same verdicts.
test_guest_mb1_low_diff() {
	local v bare_console
	boot_into bare boot --emu bochs --cpus 1 --multiboot1 --kernel "$build/guests/mb1-1m.elf" \
		--cmdline "hello=multiboot1" || return 1
	expect "${GUEST_LINE}SUMMARY passed=8 failed=0" || return 1
	bare_console=$CONSOLE
	for v in 1m 2m 4m; do
		boot_into "umbra-$v" boot --emu bochs --cpus 1 --module "$build/guests/mb1-$v.elf=hello=multiboot1" ||
			return 1
		expect "${GUEST_LINE}SUMMARY passed=8 failed=0" || return 1
		expect "${GUEST_LINE}TEST mb1\.mem_upper_map PASS .* ends at $(sed -nE 's/.*mem: umbra at \[(0x[0-9a-f]+)-.*/\1/p' "$CONSOLE")\$" \
			"mem_upper reaching umbra's footprint" || return 1
		expect_clean_exit 0 || return 1
		[ "$v" = 1m ] && { compare_verdicts "$bare_console" "$CONSOLE" || return 1; }
	done
	return 0
}

# --- guest memory above 4 GiB (issue 9 item 1) --------------------------------------

# The VMX guest's VMXON region and VMCS in RAM above 4 GiB (Bochs "memory: guest=6144,
# host=2048": RAM in [4 GiB, 6 GiB)), bare and under umbra: the same verdicts, every
# high_mem check PASS (not SKIP), and umbra reaching that memory without a panic.
HIGH_MEM_CHECKS=(high_mem.map high_mem.vmxon high_mem.vmclear high_mem.vmptrld high_mem.vmwrite
	high_mem.vmcs_in_memory high_mem.vmxoff)

test_guest_high_mem_diff() {
	local elf bare_console name
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot --emu bochs --cpus 1 --memory 6144,2048 --timeout 300 --kernel "$elf" \
		--cmdline "test=high_mem" || return 1
	expect "${GUEST_LINE}INFO high_mem: VMXON region at 0x1[0-9a-f]{8}," "regions above 4 GiB" || return 1
	for name in "${HIGH_MEM_CHECKS[@]}"; do
		expect "${GUEST_LINE}TEST ${name//./\\.} PASS" "TEST $name PASS (bare)" || return 1
	done
	bare_console=$CONSOLE
	boot_into umbra boot --emu bochs --cpus 1 --memory 6144,2048 --timeout 300 \
		--module "$elf=test=high_mem" || return 1
	expect "^\\[cpu0\\] mem: umbra at .*all RAM mapped up to [0-9]+ MiB" || return 1
	for name in "${HIGH_MEM_CHECKS[@]}"; do
		expect "${GUEST_LINE}TEST ${name//./\\.} PASS" "TEST $name PASS (under umbra)" || return 1
	done
	expect_not 'PANIC|panic' || return 1
	expect_clean_exit 0 || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# --- IA32_APIC_BASE and x2APIC under umbra -------------------------------------------

# The guest's BSP switches its APIC from xAPIC to x2APIC mode (umbra allows that one
# change and follows it): the APs still start (x2APIC ICR, emulated INIT/SIPI) and
# umbra's own IPIs at shutdown still work.
test_guest_umbra_to_x2apic() {
	local name
	boot_guest_umbra 2 "cpus=2 x2apic=on" || return 1
	check_guest_run 2 || return 1
	for name in "${UMBRA_APIC_BASE_CHECKS[@]}" umbra.apic_base_to_x2apic; do
		expect "${GUEST_LINE}TEST ${name//./\\.} PASS" "TEST $name PASS" || return 1
	done
	expect '^\[cpu0\] vapic: cpu0 switches its APIC to x2APIC mode' || return 1
	expect '^\[cpu0\] vapic: cpu0 WRMSR IA32_APIC_BASE 0x[0-9a-f]+ refused' || return 1
	expect_clean_exit 0
}

# umbra in x2APIC mode (apic=x2apic): the guest tries to leave it, relocate and disable
# the APIC, and gets #GP; umbra's x2APIC IPIs (INIT kicks, shutdown NMIs) keep working.
test_guest_umbra_x2apic() {
	local elf name
	elf=$(guest_elf basic 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 2 --kernel "$build/umbra.elf" --cmdline "apic=x2apic" \
		--module "$elf=cpus=2" || return 1
	expect '^\[cpu0\] apic: x2APIC mode' || return 1
	expect "${GUEST_LINE}SUMMARY passed=[0-9]+ failed=0 skipped=[0-9]+\$" \
		"the guest's SUMMARY with failed=0" || return 1
	for name in "${UMBRA_APIC_BASE_CHECKS[@]}" umbra.apic_base_leave_x2apic smp.all_up smp.cpu1; do
		expect "${GUEST_LINE}TEST ${name//./\\.} PASS" "TEST $name PASS" || return 1
	done
	expect "${GUEST_LINE}TEST apic\.store_moffs64 SKIP" "the apic group skipped in x2APIC mode" ||
		return 1
	expect_clean_exit 0
}

# A store umbra does not decode (ADD to the TPR): bare, the APIC takes it; under umbra the
# guest is stopped with the instruction's bytes, before the line after it.
test_guest_apic_unsupported() {
	local elf
	elf=$(guest_elf basic 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot --emu bochs --cpus 1 --kernel "$elf" --cmdline "test=apic_unsupported" ||
		return 1
	expect "${GUEST_LINE}INFO apic_unsupported: TPR 0x11 after the ADD" "the ADD done bare" ||
		return 1
	boot_into umbra boot_guest_umbra 1 "test=apic_unsupported" || return 1
	expect "${GUEST_LINE}INFO apic_unsupported: ADD to the TPR now" "the guest reaching its ADD" ||
		return 1
	expect 'guest stopped: unsupported instruction writing the local APIC at 0xfee00080 \(RIP 0x[0-9a-f]+\): bytes 01 37( [0-9a-f]{2}){13}$' \
		"umbra's report naming the bytes" || return 1
	expect_not "${GUEST_LINE}INFO apic_unsupported: TPR" "the guest going on" || return 1
	expect_clean_exit 1
}
