# SPDX-License-Identifier: BSD-2-Clause
# System tests: each boots real images in an emulator and checks the serial log.

SYSTEM_TESTS+=(
	bochs_1cpu
	bochs_2cpu
	bochs_4cpu
	bochs_cpus_limit
	bochs_cmdline_problems
	bochs_serial_none
	bochs_x2apic
	bochs_panic
	bochs_exception
	qemu_bios_no_vmx
	qemu_uefi_no_vmx
)

# Every CPU came up, VMX and shadowing reported, clean exit.
check_smp_boot() {
	local n=$1 i
	expect_clean_exit 0 || return 1
	expect "umbra: status cpus_online=$n cpus_expected=$n vmx_cpus=$n shadowing=yes" \
		"status line for $n CPUs" || return 1
	for ((i = 1; i < n; i++)); do
		expect "^\[cpu$i\] smp: CPU $i up \(APIC ID [0-9]+\), VMX ok" "CPU $i up" || return 1
	done
	expect '^\[cpu0\] vmx: VMCS shadowing: yes' || return 1
	expect '^\[cpu0\] vmx: VMWRITE to any field: yes' || return 1
	expect '^\[cpu0\] vmx: basic 0x[0-9a-f]+: VMCS revision 0x2b' || return 1
	expect '^\[cpu0\] vmx: EPT yes, VPID yes, unrestricted guest yes' || return 1
	expect '^\[cpu0\] acpi: OEM "BOCHS ".*platform Bochs' || return 1
}

test_bochs_1cpu() {
	boot --emu bochs --cpus 1 || return 1
	check_smp_boot 1
}

test_bochs_2cpu() {
	boot --emu bochs --cpus 2 || return 1
	check_smp_boot 2
}

test_bochs_4cpu() {
	boot --emu bochs --cpus 4 || return 1
	check_smp_boot 4
}

# cpus=N limits the CPUs brought up and says how many were left offline.
test_bochs_cpus_limit() {
	boot --emu bochs --cpus 4 --cmdline "cpus=2" || return 1
	check_smp_boot 2 || return 1
	expect 'smp: 2 CPU\(s\) left offline' || return 1
	expect_not '^\[cpu[23]\]' "output from CPUs 2 or 3"
}

# Unknown options and bad values are reported and ignored; the rest applies.
test_bochs_cmdline_problems() {
	boot --emu bochs --cpus 1 --cmdline "frobnicate=1 log=loud cpus=zero log=debug" || return 1
	expect_clean_exit 0 || return 1
	expect 'cmdline: .*frobnicate' "a warning naming frobnicate" || return 1
	expect 'cmdline: .*loud' "a warning naming the bad log level" || return 1
	expect 'cmdline: .*cpus' "a warning naming the bad cpus value" || return 1
	# log=debug (the last one) took effect: the memory map is printed at debug level.
	expect '^\[cpu0\] mem: \[0x[0-9a-f]+-0x[0-9a-f]+\) available' "debug-level memory map"
}

# serial=none: umbra prints nothing, yet still powers the machine off.
test_bochs_serial_none() {
	boot --emu bochs --cpus 1 --cmdline "serial=none" || return 1
	expect "Booting .umbra." "GRUB's boot line (the console worked)" || return 1
	expect_not '^\[cpu' "umbra output with serial=none"
}

# No VMX (QEMU TCG): one clear line and a clean power-off, no reset loop.
check_no_vmx() {
	expect '^\[cpu0\] umbra: CPU has no VMX \(Intel VT-x\): cannot run an L1 hypervisor' || return 1
	expect_clean_exit 2 || return 1
	expect_count 1 'umbra [0-9.]+: nested-VMX microhypervisor' || return 1
	expect '^\[cpu0\] acpi: .*platform QEMU'
}

test_qemu_bios_no_vmx() {
	boot --emu qemu --cpus 2 || return 1
	check_no_vmx
}

test_qemu_uefi_no_vmx() {
	boot --emu qemu-uefi --cpus 2 || return 1
	expect '^\[cpu0\] boot: UEFI firmware' || return 1
	check_no_vmx
}

# apic=x2apic: every CPU switches to x2APIC mode and IPIs still work.
test_bochs_x2apic() {
	boot --emu bochs --cpus 2 --cmdline "apic=x2apic" || return 1
	check_smp_boot 2 || return 1
	expect '^\[cpu0\] apic: x2APIC mode'
}

# panic(): every CPU stops, the cause and a backtrace are printed, the machine exits.
test_bochs_panic() {
	boot --emu bochs --cpus 2 --cmdline "selftest=panic" || return 1
	expect '^\[cpu0\] PANIC: selftest: deliberate panic with 2 CPUs online' || return 1
	expect '^  backtrace:' || return 1
	expect '^    #0 ffffffff8[0-9a-f]{7}' "a backtrace frame (umbra runs at KERNEL_VBASE)" || return 1
	expect_count 1 'PANIC'
}

# An exception in umbra (on an AP) dumps the registers and stops every CPU.
test_bochs_exception() {
	boot --emu bochs --cpus 2 --cmdline "selftest=fault" || return 1
	expect '^\[cpu1\] PANIC: unexpected #PF page fault in umbra' || return 1
	expect '^  vector 14 \(#PF page fault\) error code 0$' || return 1
	expect '^  rsp [0-9a-f]{16} ss 0010 cr2 0000040000000000' || return 1
	expect '^  rax [0-9a-f]{16} rbx' || return 1
	expect_count 1 'PANIC'
}
