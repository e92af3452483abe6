#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Boot umbra (and its modules) from a GRUB2 ISO in an emulator; keep the logs.
#
# usage: tests/system/boot.sh [options]
#   --emu bochs|qemu|qemu-uefi|kvm   emulator (default bochs)
#   --cpus N          CPUs (default 1)
#   --megs N          RAM in MiB (default 256)
#   --memory G,H      Bochs only: "memory: guest=G, host=H" (MiB) instead of megs,
#                     e.g. 6144,2048 for RAM above 4 GiB (docs: platform.md)
#   --cmdline STR     umbra's command line
#   --module FILE[=CMDLINE]  a GRUB module (repeatable; the first is the L1 guest)
#   --kernel FILE     the multiboot2 kernel (default build/umbra.elf); a test
#                     guest can be booted directly on the emulator this way
#   --out DIR         where the ISO, serial.log and emulator log go (default build/run)
#   --timeout SEC     kill the emulator after SEC seconds (default 120)
#   --stream          copy the serial console to stdout while it runs
#   --iso-only        build DIR/boot.iso and stop (for real machines)
#   --multiboot1      boot the kernel with GRUB's multiboot (1) commands
#   --linux FILE      boot FILE (a bzImage) with GRUB's linux command instead of a
#                     multiboot2 kernel; --cmdline is then Linux's command line
#   --initrd FILE     with --linux: the initrd, through GRUB's initrd command
# Exit status: 0 when the emulator ended by itself, 124 on timeout, 1 on setup errors.
# The verdict of a boot is read from serial.log, never from the emulator's status.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

memory="" emu=bochs cpus=1 megs=256 cmdline="" out="$root/build/run" timeout=120 stream=0 iso_only=0 mb="multiboot2" mod="module2"
kernel="$root/build/umbra.elf"
modules=()
linux="" initrd=""
while [ $# -gt 0 ]; do
	case "$1" in
	--emu) emu=$2; shift 2 ;;
	--cpus) cpus=$2; shift 2 ;;
	--megs) megs=$2; shift 2 ;;
	--memory) memory=$2; shift 2 ;;
	--cmdline) cmdline=$2; shift 2 ;;
	--module) modules+=("$2"); shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--stream) stream=1; shift ;;
	--iso-only) iso_only=1; shift ;;
	--multiboot1) mb=multiboot mod=module; shift ;;
	--linux) linux=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	*) echo "boot.sh: unknown option $1" >&2; exit 1 ;;
	esac
done

if [ -n "$linux" ]; then
	[ -f "$linux" ] || { echo "boot.sh: $linux not found" >&2; exit 1; }
	[ -z "$initrd" ] || [ -f "$initrd" ] || { echo "boot.sh: $initrd not found" >&2; exit 1; }
	[ ${#modules[@]} -eq 0 ] || { echo "boot.sh: --module needs a multiboot kernel, not --linux" >&2; exit 1; }
else
	[ -z "$initrd" ] || { echo "boot.sh: --initrd needs --linux" >&2; exit 1; }
	[ -f "$kernel" ] || { echo "boot.sh: $kernel not found (run make first)" >&2; exit 1; }
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/iso" "$out/serial.log" "$out/emulator.log" "$out/bochs.log"
mkdir -p "$out/iso/boot/grub"

# GRUB configuration: no menu, console on serial as well so that GRUB's own
# errors reach serial.log.
{
	echo "set timeout=0"
	echo "set default=0"
	echo "serial --unit=0 --speed=115200"
	echo "terminal_input serial console"
	echo "terminal_output serial console"
	echo "menuentry \"umbra\" {"
	if [ -n "$linux" ]; then
		cp "$linux" "$out/iso/boot/linux"
		echo "	linux /boot/linux $cmdline"
		if [ -n "$initrd" ]; then
			cp "$initrd" "$out/iso/boot/initrd"
			echo "	initrd /boot/initrd"
		fi
	else
		echo "	$mb /boot/kernel.elf $cmdline"
	fi
	i=0
	for m in "${modules[@]+"${modules[@]}"}"; do
		file=${m%%=*}
		args=""
		[ "$file" != "$m" ] && args=${m#*=}
		cp "$file" "$out/iso/boot/module$i"
		echo "	$mod /boot/module$i $args"
		i=$((i + 1))
	done
	echo "	boot"
	echo "}"
} > "$out/iso/boot/grub/grub.cfg"
[ -n "$linux" ] || cp "$kernel" "$out/iso/boot/kernel.elf"
grub-mkrescue -o "$out/boot.iso" "$out/iso" >"$out/grub-mkrescue.log" 2>&1 || {
	echo "boot.sh: grub-mkrescue failed, see $out/grub-mkrescue.log" >&2
	exit 1
}
[ "$iso_only" = 1 ] && exit 0

case "$emu" in
bochs)
	cat > "$out/bochsrc" <<RC
$(if [ -n "$memory" ]; then echo "memory: guest=${memory%,*}, host=${memory#*,}"; else echo "megs: $megs"; fi)
cpu: model=corei7_skylake_x, count=$cpus, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/vgabios/vgabios.bin
display_library: rfb, options="timeout=0"
ata0-master: type=cdrom, path=$out/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$out/serial.log
port_e9_hack: enabled=1
# Debian's build crashes in its sound mixer thread without a real sound card.
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $out/bochs.log
panic: action=fatal
error: action=report
clock: sync=none, time0=local
RC
	echo c > "$out/bochs.rc"
	touch "$out/serial.log"
	cmd=(bochs -q -f "$out/bochsrc" -rc "$out/bochs.rc")
	;;
qemu | qemu-uefi | kvm)
	cmd=(qemu-system-x86_64 -nodefaults -display none -no-reboot -m "$megs" -smp "$cpus"
		-cdrom "$out/boot.iso" -serial "file:$out/serial.log"
		-device isa-debug-exit,iobase=0xf4,iosize=0x04)
	if [ "$emu" = qemu-uefi ]; then
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$out/ovmf_vars.fd"
		cmd+=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive "if=pflash,format=raw,file=$out/ovmf_vars.fd")
	fi
	if [ "$emu" = kvm ]; then
		if [ ! -w /dev/kvm ]; then
			echo "boot.sh: /dev/kvm is missing or not writable: KVM is needed for --emu kvm" >&2
			exit 1
		fi
		if ! grep -qw vmx /proc/cpuinfo; then
			echo "boot.sh: this host CPU has no VMX (Intel VT-x): umbra needs nested VMX under KVM" >&2
			exit 1
		fi
		nested=$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null || echo N)
		case "$nested" in Y | 1) ;; *)
			echo "boot.sh: kvm_intel nested=$nested: load kvm_intel with nested=1" >&2
			exit 1 ;;
		esac
		cmd+=(-enable-kvm -cpu host,+vmx)
	fi
	: > "$out/serial.log"
	;;
*)
	echo "boot.sh: unknown emulator $emu" >&2
	exit 1
	;;
esac

echo "${cmd[*]}" > "$out/command"
start=$(date +%s.%N)
status=0
if [ "$stream" = 1 ]; then
	timeout --foreground -k 5 "$timeout" "${cmd[@]}" </dev/null >"$out/emulator.log" 2>&1 &
	pid=$!
	# tail ends by itself once the emulator is gone and it has printed the whole log.
	tail -n +1 -s 0.2 --pid=$pid -f "$out/serial.log" | sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;]*[a-zA-Z]//g' &
	tailpid=$!
	wait $pid || status=$?
	wait $tailpid 2>/dev/null || true
else
	timeout -k 5 "$timeout" "${cmd[@]}" </dev/null >"$out/emulator.log" 2>&1 || status=$?
fi
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' > "$out/wall_seconds"
if [ $status = 124 ] || [ $status = 137 ]; then
	echo "boot.sh: timeout after ${timeout}s ($out)" >&2
	exit 124
fi
exit 0
