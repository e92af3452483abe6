# SPDX-License-Identifier: BSD-2-Clause
# System tests of the VMX conformance suite (tests/guests/vmx): bare on Bochs, under umbra, compared.
# Uses guest_elf, GUEST_LINE, boot_into and compare_verdicts from cases_guests.sh (sourced first).

# The suite directly on Bochs (the reference), as L1 under umbra, and both compared.
SYSTEM_TESTS+=(
	vmx_bare_1cpu
	vmx_umbra_1cpu
	vmx_diff_1cpu
	vmx_smp_l2_diff_2cpu
	vmx_smp_l2_ept_diff_2cpu
	vmx_smp_init_diff_2cpu
	vmx_noshadow_diff_1cpu
	vmx_classic_diff_1cpu
	vmx_modes_diff_1cpu
	vmx_shadow_no_exits
	vmx_shadow_roundtrip_exits
)

# A complete run passes at least this many checks (about 90 on Bochs 2.7; the rest SKIP
# for capabilities the CPU does not advertise).
VMX_MIN_PASS=40

# Checks every VMX implementation must pass whatever it advertises (the SDM's core).
VMX_CORE_CHECKS=(
	vmxon.ud_without_vmxe vmxon.bad_revision vmxon.unaligned vmxon.success vmxon.in_root
	vmptrld.success vmptrld.unaligned vmptrld.vmxon_pointer vmptrld.bad_revision
	vmptrst.current vmptrst.none
	vmclear.unaligned vmclear.beyond_maxphyaddr vmclear.vmxon_pointer vmclear.current
	vmrw.vmread_no_current_vmcs vmrw.vmwrite_no_current_vmcs vmrw.vmwrite_read_only
	vmrw.vmread_reserved_encoding vmrw.guest_natural vmrw.host_natural vmrw.high_read
	vmrw.high_write vmrw.width32_truncates
	launch.vmlaunch_no_current_vmcs launch.vmresume_clear launch.vmlaunch
	launch.vmlaunch_launched launch.vmresume_after_switch launch.vmresume_after_vmclear
	l2.launch l2.cpuid l2.rdmsr l2.wrmsr l2.ud2_exception_bitmap l2.vmcall
	entry.pin_reserved_bit entry.host_cr0_pg_clear entry.host_cr4_pae_clear
	entry.guest_rflags_bit1_clear entry.guest_cr0_pe_clear
	vmxoff.success vmxoff.vmread_ud vmxoff.vmxoff_ud
)

# check_vmx_run: the console holds a complete run of the suite with nothing failed.
check_vmx_run() {
	local name n
	expect "${GUEST_LINE}SUMMARY passed=[0-9]+ failed=0 skipped=[0-9]+\$" \
		"the suite's SUMMARY with failed=0" || return 1
	expect_not "${GUEST_LINE}TEST [^ ]+ FAIL" "a FAIL line" || return 1
	expect_not 'PANIC' || return 1
	for name in "${VMX_CORE_CHECKS[@]}"; do
		expect "${GUEST_LINE}TEST ${name//./\\.} PASS" "TEST $name PASS" || return 1
	done
	n=$(grep -cE "${GUEST_LINE}TEST [^ ]+ PASS" "$CONSOLE")
	if [ "$n" -lt "$VMX_MIN_PASS" ]; then
		echo "only $n PASS lines, expected at least $VMX_MIN_PASS"
		return 1
	fi
}

# boot_vmx_bare: the suite as the kernel, straight on Bochs (its VMX is the reference).
boot_vmx_bare() {
	local elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 1 --kernel "$elf"
}

# boot_vmx_umbra: umbra on one CPU, the suite as its L1 guest.
boot_vmx_umbra() {
	local elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 1 --kernel "$build/umbra.elf" --module "$elf"
}

test_vmx_bare_1cpu() {
	boot_vmx_bare || return 1
	check_vmx_run || return 1
	expect "${GUEST_LINE}INFO vmx test guest on Bochs, bare\$" "INFO ... bare" || return 1
}

test_vmx_umbra_1cpu() {
	boot_vmx_umbra || return 1
	check_vmx_run || return 1
	expect "${GUEST_LINE}INFO vmx test guest on .*, under a hypervisor\$" \
		"INFO ... under a hypervisor" || return 1
	# umbra ran L2 and reflected its exits to L1.
	expect '^\[cpu0\] stats: cpu0 [0-9]+ exits from L2, [1-9][0-9]* reflected to L1' \
		"umbra's L2 exit statistics" || return 1
	# The capabilities L1 is offered, decoded at boot (docs/nested-vmx.md): EPT, VPID and the
	# unrestricted guest, and the cheap secondary exits.
	expect '^\[cpu0\] nested: L1 VMX: EPT yes, VPID yes, unrestricted guest yes' || return 1
	expect '^\[cpu0\] nested: L1 VMX: secondary:.* descriptor-table exiting' || return 1
	expect '^\[cpu0\] nested: L1 VMX: EPT/VPID 0x[0-9a-f]+: .*INVVPID yes' || return 1
	# ept.many_regions ran the shadow EPT's pool dry: it was flushed and refilled.
	expect '^\[cpu0\] stats: cpu0 shadow EPT: [0-9]+ fills, .* [1-9][0-9]* pool flushes' \
		"a shadow EPT pool flush" || return 1
	expect_clean_exit 0
}

# The suite bare and under umbra: every check must get the same verdict (SKIPs included:
# umbra must advertise what Bochs advertises, or the difference shows here).
test_vmx_diff_1cpu() {
	local bare_console
	boot_into bare boot_vmx_bare || return 1
	bare_console=$CONSOLE
	boot_into umbra boot_vmx_umbra || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# Two L1 CPUs, each with its own VMXON region, VMCS and L2, running at the same time:
# bare and under umbra, same verdicts, and umbra saw L2 exits on both CPUs.
test_vmx_smp_l2_diff_2cpu() {
	smp_l2_diff smp_l2
}

# The same with each L2 on an EPT of L1's and its own VPID: two shadow EPTs at once.
test_vmx_smp_l2_ept_diff_2cpu() {
	smp_l2_diff smp_l2_ept
}

# smp_l2_diff MODE: test=MODE with 2 CPUs bare and under umbra, the same verdicts.
smp_l2_diff() {
	local bare_console elf mode=$1
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot --emu bochs --cpus 2 --kernel "$elf" --cmdline "test=$mode cpus=2" || return 1
	bare_console=$CONSOLE
	expect "${GUEST_LINE}SUMMARY passed=[0-9]+ failed=0" || return 1
	boot_into umbra boot --emu bochs --cpus 2 --module "$elf=test=$mode cpus=2" || return 1
	expect "${GUEST_LINE}SUMMARY passed=[0-9]+ failed=0" || return 1
	expect '^\[cpu0\] stats: cpu0 [0-9]+ exits from L2, [1-9][0-9]* reflected' "L2 exits on CPU 0" || return 1
	expect '^\[cpu0\] stats: cpu1 [0-9]+ exits from L2, [1-9][0-9]* reflected' "L2 exits on CPU 1" || return 1
	expect_clean_exit 0 || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# --- VMCS shadowing (nested.shadow=on is the default) ---------------------------------

# The suite with shadowing off: every VMREAD/VMWRITE exits; verdicts as on bare Bochs.
test_vmx_noshadow_diff_1cpu() {
	local bare_console elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot_vmx_bare || return 1
	bare_console=$CONSOLE
	boot_into umbra boot --emu bochs --cpus 1 --cmdline "nested.shadow=off" --module "$elf" || return 1
	expect '^\[cpu0\] nested: VMCS shadowing off \(nested.shadow=off\)' || return 1
	expect '^\[cpu0\] ustat v=1 rec=field cpu=0 enc=0x681e name=GUEST_RIP vmread=[1-9]' \
		"GUEST_RIP reads exiting with shadowing off" || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# The suite with umbra's own shadow VMCS only (vmcs02 never L1's shadow, docs/design.md):
# verdicts as on bare Bochs, and the default run said it used vmcs02 as the shadow.
test_vmx_classic_diff_1cpu() {
	local bare_console elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot_vmx_bare || return 1
	bare_console=$CONSOLE
	boot_into umbra boot --emu bochs --cpus 1 --cmdline "nested.shadow=classic" --module "$elf" || return 1
	expect '^\[cpu0\] nested: VMCS shadowing on: [0-9]+ fields' || return 1
	expect '^\[cpu0\] nested: vmcs02 is never L1.s shadow VMCS \(nested.shadow=classic\)' || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# Single-purpose modes of the suite, each from a fuzzer divergence (docs/fuzzing.md), bare
# and under umbra with the same verdicts: a failed MSR-load list keeps vmcs12's guest state
# (SDM 26.8), the preemption timer at 0 fires at the handler of an injected event (26.7.4).
test_vmx_modes_diff_1cpu() {
	local bare_console elf mode
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	for mode in entry_failure_guest_state timer_zero_event; do
		boot_into "$mode-bare" boot --emu bochs --cpus 1 --kernel "$elf" --cmdline "test=$mode" || return 1
		check_vmx_mode_run || return 1
		bare_console=$CONSOLE
		boot_into "$mode-umbra" boot --emu bochs --cpus 1 --module "$elf=test=$mode" || return 1
		check_vmx_mode_run || return 1
		expect_clean_exit 0 || return 1
		compare_verdicts "$bare_console" "$CONSOLE" || return 1
	done
}

# check_vmx_mode_run: a single-mode run completed with nothing failed.
check_vmx_mode_run() {
	expect "${GUEST_LINE}SUMMARY passed=[1-9][0-9]* failed=0 skipped=[0-9]+\$" "the mode's SUMMARY with failed=0"
}

# With shadowing on, L1's accesses to shadowed fields never reach umbra (its per-field
# counters stay at zero for them) while the other fields still work through exits. The
# ustat records list every trapped field (the human table only the top 10).
test_vmx_shadow_no_exits() {
	local elf field
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 1 --module "$elf" || return 1
	check_vmx_run || return 1
	expect '^\[cpu0\] nested: VMCS shadowing on: [0-9]+ fields' || return 1
	expect '^\[cpu0\] nested: vmcs02 is L1.s shadow VMCS after each reflected exit: [1-9][0-9]* fields read in place' \
		"vmcs02 as L1's shadow" || return 1
	# Shadowed read-write (nested/shadow_fields.h): read and written by the suite, never trapped.
	for field in GUEST_RIP GUEST_RSP GUEST_RFLAGS GUEST_CR0 HOST_RSP HOST_RIP HOST_GS_BASE; do
		expect_not "^\[cpu0\] ustat v=1 rec=field cpu=0 enc=0x[0-9a-f]+ name=$field " \
			"trapped accesses to shadowed $field" || return 1
	done
	# Shadowed read-only: reads never trapped (the suite's VMWRITEs to them exit, by design).
	for field in VM_EXIT_REASON EXIT_QUALIFICATION VM_EXIT_INSTRUCTION_LEN; do
		expect_not "^\[cpu0\] ustat v=1 rec=field cpu=0 enc=0x[0-9a-f]+ name=$field vmread=[1-9]" \
			"trapped reads of shadowed $field" || return 1
	done
	# VMCS pointers on MMIO are refused, and umbra goes on.
	expect "${GUEST_LINE}TEST umbra.vmptrld_mmio_refused PASS" || return 1
	expect "${GUEST_LINE}TEST umbra.vmclear_mmio_writes_nothing PASS" || return 1
	# The guest read umbra's per-field counters by hypercall.
	expect "${GUEST_LINE}TEST umbra.field_stats PASS" || return 1
	expect "${GUEST_LINE}INFO umbra: GUEST_RIP read through 0 exits" || return 1
	# Not shadowed: reached through exits, and the suite still passed.
	expect '^\[cpu0\] ustat v=1 rec=field cpu=0 enc=0x4400 name=VM_INSTRUCTION_ERROR vmread=[1-9]' \
		"VM_INSTRUCTION_ERROR read through exits" || return 1
	expect_clean_exit 0
}

# The nested round trip with shadowing, counted honestly (every exit umbra takes, whatever
# level it came from; the counts checked against the exit stub's own count): with the
# handler that executes CPUID, L2's CPUID, L1's CPUID and L1's VMRESUME make 3 exits; with
# the table-driven handler (KVM answers CPUID from a table) only the reflected exit and the
# VMRESUME are left.
test_vmx_shadow_roundtrip_exits() {
	local elf mode exits
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	for mode in bench_nested:nested_cpuid:3.00 bench_nested_table:nested_cpuid_table:2.00; do
		IFS=: read -r mode prefix exits <<<"$mode"
		boot_into "$mode" boot --emu bochs --cpus 1 --module "$elf=test=$mode iterations=200" || return 1
		expect "${GUEST_LINE}TEST bench.roundtrips PASS" || return 1
		expect "${GUEST_LINE}TEST bench.exit_accounting PASS" || return 1
		expect "${GUEST_LINE}BENCH $prefix.l0_exits_per_roundtrip.umbra ${exits//./\\.} exits" \
			"$exits L0 exits per L2 round trip ($mode)" || return 1
		expect '^\[cpu0\] stats: cpu0 [0-9]+ exits counted, [0-9]+ VM exits taken: they agree' \
			"umbra's exit counts agree with its exit stub" || return 1
		expect_clean_exit 0 || return 1
	done
}

# An INIT sent to a CPU whose L1 runs an L2 reaches that L1 as an INIT-signal VM exit
# (umbra delivers the guest's INITs itself: docs/design.md), bare and under umbra.
test_vmx_smp_init_diff_2cpu() {
	local bare_console elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot --emu bochs --cpus 2 --kernel "$elf" --cmdline "test=smp_init" || return 1
	bare_console=$CONSOLE
	expect "${GUEST_LINE}TEST smp_init.exit_to_l1 PASS" || return 1
	boot_into umbra boot --emu bochs --cpus 2 --module "$elf=test=smp_init" || return 1
	expect "${GUEST_LINE}TEST smp_init.exit_to_l1 PASS" || return 1
	expect_clean_exit 0 || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# --- hostile L1 (issue 9) ----------------------------------------------------------------

# A VM-exit MSR-store list with an x2APIC MSR: under umbra a VMX abort stops L1 with a
# report (SDM 27.4, 27.7) and umbra ends cleanly; the list never reaches the real CPU.
SYSTEM_TESTS+=(vmx_umbra_msr_store_abort)
test_vmx_umbra_msr_store_abort() {
	local elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 1 --kernel "$build/umbra.elf" --module "$elf=test=msr_store_abort" || return 1
	expect "${GUEST_LINE}INFO msr_store_abort: VMLAUNCH" "the guest reaching its VMLAUNCH" || return 1
	expect "guest stopped: VMX abort 1: VM-exit MSR-store entry 1 failed" "umbra's VMX-abort report" || return 1
	expect_not "TEST msr_store_abort\.unreachable" || return 1
	expect_clean_exit 1
}

# L1's EPT maps L2's page onto umbra's memory: L2's read never gets there; umbra stops the
# guest with a report (nested/ept02.c) and ends cleanly.
SYSTEM_TESTS+=(vmx_umbra_ept_umbra_mem)
test_vmx_umbra_ept_umbra_mem() {
	local elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 1 --kernel "$build/umbra.elf" --module "$elf=test=ept_umbra_mem" || return 1
	expect "${GUEST_LINE}INFO ept_umbra_mem: L2 reads" "the guest starting L2" || return 1
	expect "guest stopped: L1's EPT maps L2's guest-physical 0x[0-9a-f]+ to 0x[0-9a-f]+, which is not L1's memory" \
		"umbra's report" || return 1
	expect_not "TEST ept_umbra_mem\.unreachable" || return 1
	expect_clean_exit 1
}

# --- events: NMIs and INIT (issue 9, items 6-9) ----------------------------------------

SYSTEM_TESTS+=(
	vmx_smp_init_nmi_diff_2cpu
)

# As vmx_smp_init_diff_2cpu with L1's NMI exiting on: umbra's INIT kick (an NMI) stays
# umbra's and L1 sees the INIT exit; then a real NMI for that L2 is L1's NMI exit.
test_vmx_smp_init_nmi_diff_2cpu() {
	local bare_console elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot_into bare boot --emu bochs --cpus 2 --kernel "$elf" --cmdline "test=smp_init_nmi" || return 1
	bare_console=$CONSOLE
	expect "${GUEST_LINE}TEST smp_init_nmi.exit_to_l1 PASS" || return 1
	expect "${GUEST_LINE}TEST smp_init_nmi.nmi_exit PASS" || return 1
	boot_into umbra boot --emu bochs --cpus 2 --module "$elf=test=smp_init_nmi" || return 1
	expect "${GUEST_LINE}TEST smp_init_nmi.exit_to_l1 PASS" || return 1
	expect "${GUEST_LINE}TEST smp_init_nmi.nmi_exit PASS" || return 1
	expect_clean_exit 0 || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

SYSTEM_TESTS+=(
	vmx_umbra_nmi_levels_1cpu
)

# L1 holds an NMI pending (blocked in its NMI handler) and launches an L2 with NMI
# exiting: the NMI is an NMI exit to L1 at once, not an NMI for L2 (umbra keeps NMIs
# per level). Under umbra only: Bochs keeps NMIs blocked across VM entry (nmi.c).
test_vmx_umbra_nmi_levels_1cpu() {
	local elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 1 --module "$elf=test=nmi_levels" || return 1
	expect "${GUEST_LINE}TEST umbra.nmi_pending_l1_exits PASS" || return 1
	expect "${GUEST_LINE}TEST umbra.nmi_l1_count PASS" || return 1
	expect_not "${GUEST_LINE}TEST [^ ]+ FAIL" "a FAIL line" || return 1
	expect_clean_exit 0
}

SYSTEM_TESTS+=(
	vmx_umbra_smp_shutdown_2cpu
)

# umbra shuts down (L1's hypercall on CPU 0) while CPU 1's L1 runs an L2 with NMI exiting:
# umbra's stop NMI parks CPU 1 (its L1 sees no exit) and the run ends with umbra's report.
test_vmx_umbra_smp_shutdown_2cpu() {
	local elf
	elf=$(guest_elf vmx 2>&1) || { echo "$elf"; return 1; }
	boot --emu bochs --cpus 2 --module "$elf=test=smp_shutdown" || return 1
	expect "${GUEST_LINE}INFO smp_shutdown: asking umbra to shut down" || return 1
	expect_not "${GUEST_LINE}INFO smp_shutdown: cpu1's L1 saw exit" "CPU 1's L1 seeing umbra's stop NMI" || return 1
	expect_not "${GUEST_LINE}TEST [^ ]+ FAIL" "a FAIL line" || return 1
	expect '^\[cpu0\] stats: cpu1 [0-9]+ exits from L2' "CPU 1's statistics" || return 1
	expect_clean_exit 0
}
