# SPDX-License-Identifier: BSD-2-Clause
# System tests with Debian's Linux/KVM as the L1: the payload of tests/linux/payload.sh.
#
# linux_kvm_diff_1cpu boots the bzImage through GRUB's linux/initrd commands straight
# on Bochs (Bochs's VMX is KVM's, the reference), then the vmlinux as umbra's L1 (PVH),
# both with kvm_intel ept=0 unrestricted_guest=0 vpid=0 running tests/linux/kvm_l2.c,
# and compares the verdicts (~4 min); linux_kvm_defaults_diff_1cpu does the same with
# KVM's defaults (EPT, unrestricted guest, VPID: its L2 on umbra's shadow EPT, ~4 min).
# linux_bzimage_refused boots broken copies of the bzImage as umbra's L1 (~20 s).
# UMBRA_TEST_LINUX_MATRIX=1 adds each run alone, and linux_kvm_umbra_bzimage_1cpu: the
# bzImage itself as umbra's L1 (core/bzimage.c, ~3.5 min, about 90 s more than PVH: GRUB
# reads the 8 MB file and the kernel decompresses it inside Bochs). A test skips only when
# a Debian package of the payload is unavailable.

SYSTEM_TESTS+=(
	linux_kvm_diff_1cpu
	linux_kvm_defaults_diff_1cpu
	linux_bzimage_refused
)
if [ "${UMBRA_TEST_LINUX_MATRIX:-0}" = 1 ]; then
	SYSTEM_TESTS+=(linux_kvm_bare_1cpu linux_kvm_umbra_1cpu linux_kvm_bare_defaults_1cpu linux_kvm_umbra_defaults_1cpu
		linux_kvm_umbra_noshadow_1cpu linux_kvm_umbra_no_shadow_vmcs_1cpu linux_kvm_smp_diff_2cpu
		linux_kvm_umbra_bzimage_1cpu)
fi

# Every case kvm_l2 runs, in its order.
LINUX_KVM_CASES=(create hlt mem io_in mmio io_out cpuid)
# Linux's clock runs at Bochs's TSC rate only when told it; loglevel=5 keeps warnings;
# a panic reboots at once by triple fault, which umbra reports and ends the run on
# (directly on Bochs the machine resets and boots again until the timeout). docs/linux.md.
LINUX_CMDLINE="console=ttyS0 tsc_early_khz=200000 loglevel=5 panic=-1 reboot=t"
# Kernel boot (~84 s from the bzImage), KVM module loads and the L2 loops, with margin.
LINUX_BOOT_TIMEOUT=420

# linux_payload: the payload directory in $PAYLOAD; returns 77 with the reason when a
# Debian package is unavailable, 1 when it cannot be built for another reason.
linux_payload() {
	local out status=0
	out=$("$root/tests/linux/payload.sh" "$build" 2>"$logs/$TEST_NAME/payload.err") || status=$?
	if [ $status -ne 0 ]; then
		echo "payload: $(tail -n 1 "$logs/$TEST_NAME/payload.err")"
		[ $status -eq 77 ] && return 77
		return 1
	fi
	PAYLOAD=$out
}

# kvm_l2's options for $LINUX_CPUS CPUs: one L2 on each (kernel command line, commas for spaces).
linux_args() {
	[ "${LINUX_CPUS:-1}" -gt 1 ] && echo " umbra.args=--vcpus,$LINUX_CPUS"
	return 0
}

# linux_bare KVM_INTEL_PARAMS LABEL: the payload's bzImage straight on Bochs ($LINUX_CPUS CPUs).
linux_bare() {
	local params=$1 label=$2
	linux_payload || return $?
	BOOT_TIMEOUT=$((LINUX_BOOT_TIMEOUT * ${LINUX_CPUS:-1})) boot --emu bochs --cpus "${LINUX_CPUS:-1}" --megs 256 \
		--linux "$PAYLOAD/bzImage" --initrd "$PAYLOAD/initrd.gz" \
		--cmdline "$LINUX_CMDLINE umbra.kvm_intel=${params// /,} umbra.label=$label$(linux_args)" || return 1
}

# check_kvm_l2_run [PARAM=VALUE...]: kvm_intel loaded with those parameters (as its
# /sys/module/kvm_intel/parameters show them), every case passed on each of the
# $LINUX_CPUS L2s (kvm_l2 --vcpus), SUMMARY clean.
check_kvm_l2_run() {
	local p c cpu n=$((${#LINUX_KVM_CASES[@]} * ${LINUX_CPUS:-1}))
	expect '^INFO kvm_intel loaded' "kvm_intel loaded (INFO kvm_intel loaded)" || return 1
	for p in "$@"; do
		expect "^INFO kvm_intel loaded.* $p( |\$)" "kvm_intel parameter $p" || return 1
	done
	expect_not '^TEST [^ ]+ FAIL' "a FAIL line" || return 1
	for c in "${LINUX_KVM_CASES[@]}"; do
		expect "^TEST kvm_l2\.$c PASS" "TEST kvm_l2.$c PASS" || return 1
		for ((cpu = 1; cpu < ${LINUX_CPUS:-1}; cpu++)); do
			expect "^TEST kvm_l2\.cpu$cpu\.$c PASS" "TEST kvm_l2.cpu$cpu.$c PASS" || return 1
		done
	done
	expect_count "$n" '^TEST kvm_l2\.' || return 1
	expect "^SUMMARY passed=$n failed=0 skipped=0\$" "SUMMARY passed=$n failed=0 skipped=0" || return 1
	expect '^BENCH kvm_l1\.cpuid\.cycles_per_l2_exit\.[a-z_]+ [0-9]+ cycles$' "the CPUID BENCH line" || return 1
	expect '^BENCH kvm_l1\.io\.cycles_per_l2_exit\.[a-z_]+ [0-9]+ cycles$' "the I/O BENCH line" || return 1
	expect_not 'Kernel panic|BUG:|Oops' "a kernel panic or oops" || return 1
}

test_linux_kvm_bare_1cpu() {
	linux_bare "ept=0 unrestricted_guest=0 vpid=0" bare || return $?
	check_kvm_l2_run ept=N unrestricted_guest=N vpid=N
}

test_linux_kvm_bare_defaults_1cpu() {
	linux_bare "" bare_defaults || return $?
	check_kvm_l2_run ept=Y unrestricted_guest=Y
}

# linux_umbra KVM_INTEL_PARAMS LABEL: umbra with the payload's vmlinux as its L1 (PVH)
# and the initramfs as the next module; 512 MiB, as vmlinux alone is 66 MB.
linux_umbra() {
	local params=$1 label=$2
	linux_payload || return $?
	BOOT_TIMEOUT=$((LINUX_BOOT_TIMEOUT * ${LINUX_CPUS:-1})) boot --emu bochs --cpus "${LINUX_CPUS:-1}" --megs 512 \
		--kernel "$build/umbra.elf" ${LINUX_UMBRA_CMDLINE:+--cmdline "$LINUX_UMBRA_CMDLINE"} \
		--module "$PAYLOAD/vmlinux=$LINUX_CMDLINE umbra.kvm_intel=${params// /,} umbra.label=$label$(linux_args)" \
		--module "$PAYLOAD/initrd.gz" || return 1
}

# Debian's KVM directly on Bochs and under umbra: every kvm_l2 verdict the same.
test_linux_kvm_diff_1cpu() {
	local bare_console
	linux_payload || return $? # 77: a Debian package is unavailable (SKIP)
	boot_into bare test_linux_kvm_bare_1cpu || return 1
	bare_console=$CONSOLE
	boot_into umbra test_linux_kvm_umbra_1cpu || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

test_linux_kvm_umbra_1cpu() {
	linux_umbra "ept=0 unrestricted_guest=0 vpid=0" shadow_on || return $?
	expect '^\[cpu0\] guest: PVH kernel ' "umbra: guest: PVH kernel" || return 1
	check_kvm_l2_run ept=N unrestricted_guest=N vpid=N || return 1
	# Every L2 exit went to L1 (KVM): none handled by umbra behind KVM's back.
	expect '^\[cpu0\] stats: cpu0 ([0-9]+) exits from L2, \1 reflected to L1' "all L2 exits reflected" || return 1
	expect_clean_exit 0
}

# The bzImage as umbra's L1 (the Linux 32-bit boot protocol, core/bzimage.c), the initrd as
# the next module; 256 MiB, as directly on Bochs.
test_linux_kvm_umbra_bzimage_1cpu() {
	linux_payload || return $?
	BOOT_TIMEOUT=$LINUX_BOOT_TIMEOUT boot --emu bochs --cpus 1 --megs 256 --kernel "$build/umbra.elf" \
		--module "$PAYLOAD/bzImage=$LINUX_CMDLINE umbra.kvm_intel=ept=0,unrestricted_guest=0,vpid=0 umbra.label=shadow_on" \
		--module "$PAYLOAD/initrd.gz" || return 1
	expect '^\[cpu0\] guest: bzImage kernel \[0x1000000-' "umbra: guest: bzImage kernel at pref_address" || return 1
	expect '^\[cpu0\] guest: bzImage boot protocol 2\.[0-9]+, at pref_address' "umbra: the boot protocol line" || return 1
	check_kvm_l2_run ept=N unrestricted_guest=N vpid=N || return 1
	expect '^\[cpu0\] stats: cpu0 ([0-9]+) exits from L2, \1 reflected to L1' "all L2 exits reflected" || return 1
	expect_clean_exit 0
}

# Broken bzImages as umbra's L1 are refused with their reason (a few seconds each): the
# payload's bzImage cut short, then one whose protocol version says 2.11.
test_linux_bzimage_refused() {
	local cut="$logs/$TEST_NAME/bzImage.cut" old="$logs/$TEST_NAME/bzImage.2.11"
	linux_payload || return $?
	head -c 1048576 "$PAYLOAD/bzImage" >"$cut"
	boot_into cut boot --emu bochs --cpus 1 --kernel "$build/umbra.elf" --module "$cut=console=ttyS0" \
		--module "$PAYLOAD/initrd.gz" || return 1
	expect '^\[cpu0\] guest: cannot load module 0: truncated: the protected-mode kernel \(0x[0-9a-f]+ bytes at offset 0x[0-9a-f]+\) runs past the end of the 1048576-byte file$' \
		"the truncated bzImage refused" || return 1
	expect_clean_exit 1 || return 1
	cp "$PAYLOAD/bzImage" "$old"
	printf '\x0b\x02' | dd of="$old" bs=1 seek=$((0x206)) conv=notrunc status=none
	boot_into old boot --emu bochs --cpus 1 --kernel "$build/umbra.elf" --module "$old" || return 1
	expect '^\[cpu0\] guest: cannot load module 0: boot protocol 2\.11 is too old: umbra needs 2\.12' \
		"the 2.11 bzImage refused" || return 1
	expect_clean_exit 1
}

# KVM with its default parameters (EPT, unrestricted guest, VPID: docs/nested-vmx.md)
# under umbra: its L2 runs on umbra's shadow EPT of KVM's EPT (nested/ept02.c).
test_linux_kvm_umbra_defaults_1cpu() {
	linux_umbra "" umbra_defaults || return $?
	check_kvm_l2_run ept=Y unrestricted_guest=Y vpid=Y || return 1
	# The exits umbra kept are shadow-EPT fills, not exits KVM asked for.
	expect '^\[cpu0\] stats: cpu0 [0-9]+ exits from L2, [1-9][0-9]* reflected to L1' "L2 exits reflected" || return 1
	expect_clean_exit 0
}

# The same kvm_l2 verdicts with KVM's defaults directly on Bochs and under umbra.
test_linux_kvm_defaults_diff_1cpu() {
	local bare_console
	linux_payload || return $?
	boot_into bare test_linux_kvm_bare_defaults_1cpu || return 1
	bare_console=$CONSOLE
	boot_into umbra test_linux_kvm_umbra_defaults_1cpu || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

# KVM (ept=0) under umbra with VMCS shadowing off: every VMREAD/VMWRITE of KVM's exits.
test_linux_kvm_umbra_noshadow_1cpu() {
	LINUX_UMBRA_CMDLINE="nested.shadow=off" linux_umbra "ept=0 unrestricted_guest=0 vpid=0" shadow_off || return $?
	expect '^\[cpu0\] nested: VMCS shadowing off' "umbra's shadowing off" || return 1
	check_kvm_l2_run ept=N unrestricted_guest=N vpid=N || return 1
	expect_clean_exit 0
}

# KVM's defaults but enable_shadow_vmcs=0 (KVM's own VMCS shadowing for its L2s is
# never offered by umbra anyway: docs/nested-vmx.md).
test_linux_kvm_umbra_no_shadow_vmcs_1cpu() {
	linux_umbra "enable_shadow_vmcs=0" umbra_no_shadow_vmcs || return $?
	check_kvm_l2_run ept=Y unrestricted_guest=Y enable_shadow_vmcs=N || return 1
	expect_clean_exit 0
}

# 2 CPUs, KVM's defaults, an L2 on each CPU at once (kvm_l2 --vcpus 2), bare and under umbra.
test_linux_kvm_smp_diff_2cpu() {
	local bare_console
	linux_payload || return $?
	LINUX_CPUS=2 boot_into bare linux_kvm_smp_bare || return 1
	bare_console=$CONSOLE
	LINUX_CPUS=2 boot_into umbra linux_kvm_smp_umbra || return 1
	compare_verdicts "$bare_console" "$CONSOLE"
}

linux_kvm_smp_bare() {
	linux_bare "" bare_smp || return $?
	check_kvm_l2_run ept=Y unrestricted_guest=Y
}

linux_kvm_smp_umbra() {
	linux_umbra "" umbra_smp || return $?
	check_kvm_l2_run ept=Y unrestricted_guest=Y vpid=Y || return 1
	expect '^\[cpu0\] stats: cpu1 [0-9]+ exits from L2, [1-9][0-9]* reflected to L1' "L2 exits on CPU 1" || return 1
	expect_clean_exit 0
}
