#!/bin/busybox sh
# SPDX-License-Identifier: BSD-2-Clause
# /init of the Linux/KVM test payload: load KVM, run kvm_l2, report on the console, end Bochs.
#
# Kernel command line options read here (commas stand for spaces):
#   umbra.kvm_intel=ept=0,vpid=0   parameters for kvm-intel.ko (default: none)
#   umbra.kvm=PARAMS               parameters for kvm.ko
#   umbra.label=NAME               the BENCH label (default: bare)
#   umbra.args=ARGS                more kvm_l2 options, e.g. --cpuid,50000
/bin/busybox mkdir -p /proc /sys /dev /tmp
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
/bin/busybox --install -s /bin
export PATH=/bin

opt() {
	for w in $(cat /proc/cmdline); do
		case "$w" in "umbra.$1="*) echo "${w#umbra.$1=}" | tr , ' '; return ;; esac
	done
}

# Every failure ends in a SUMMARY line, so that a test never waits for a timeout.
die() {
	echo "TEST kvm_l2.setup FAIL $*"
	echo "SUMMARY passed=0 failed=1 skipped=0"
	finish
}

finish() {
	echo "INFO uptime $(cut -d' ' -f1 /proc/uptime) s"
	/bin/kvm_l2 --shutdown
	poweroff -f
}

echo "INFO init $(uname -r) at $(cut -d' ' -f1 /proc/uptime) s"
insmod /lib/modules/irqbypass.ko || die "insmod irqbypass.ko"
insmod /lib/modules/kvm.ko $(opt kvm) || die "insmod kvm.ko $(opt kvm)"
insmod /lib/modules/kvm-intel.ko $(opt kvm_intel) || die "insmod kvm-intel.ko $(opt kvm_intel)"
[ -c /dev/kvm ] || die "no /dev/kvm after loading kvm-intel.ko"
params=""
for p in /sys/module/kvm_intel/parameters/*; do
	params="$params $(basename "$p")=$(cat "$p")"
done
echo "INFO kvm_intel loaded at $(cut -d' ' -f1 /proc/uptime) s:$params"
/bin/kvm_l2 --label "$(opt label | grep . || echo bare)" $(opt args)
echo "INFO kvm_l2 exit status $?"
dmesg | grep -iE 'kvm|vmx' | sed 's/^/INFO dmesg /'
finish
