# SPDX-License-Identifier: BSD-2-Clause
# System tests of umbra as a hypervisor: its options and how it refuses bad guests.

SYSTEM_TESTS+=(
	umbra_stats_off
	umbra_guest_mem
	umbra_module_not_multiboot
	umbra_module_overlaps_umbra
)

# stats=off: the guest runs, and umbra prints no statistics at the end.
test_umbra_stats_off() {
	boot --emu bochs --cpus 1 --cmdline "stats=off" --module "$build/guests/basic.elf=cpus=1" || return 1
	expect "SUMMARY passed=[0-9]+ failed=0" || return 1
	expect_not '^\[cpu0\] stats:' "statistics with stats=off" || return 1
	expect_clean_exit 0
}

# guest_mem=64M: the guest's memory map ends at 64 MiB; the rest is reserved.
test_umbra_guest_mem() {
	local kib
	boot --emu bochs --cpus 1 --cmdline "guest_mem=64M log=debug" \
		--module "$build/guests/basic.elf=cpus=1" || return 1
	expect "SUMMARY passed=[0-9]+ failed=0" || return 1
	kib=$(sed -nE 's/.*INFO memmap: [0-9]+ entries, ([0-9]+) KiB available.*/\1/p' "$CONSOLE")
	if [ -z "$kib" ] || [ "$kib" -gt 65536 ] || [ "$kib" -lt 32768 ]; then
		echo "guest saw ${kib:-no} KiB available with guest_mem=64M"
		return 1
	fi
	expect '^\[cpu0\] guest: memory \[0x000004000000-0x[0-9a-f]+\) reserved' \
		"RAM above 64 MiB reserved in the guest's map" || return 1
	expect '^\[cpu0\] guest: memory \[0x000000100000-0x000004000000\) available' \
		"RAM from 1 MiB to the limit available in the guest's map" || return 1
	expect '^\[cpu0\] guest: memory \[0x000004000000-0x00000fff0000\) reserved' \
		"RAM above 64 MiB (umbra's too) reserved in the guest's map" || return 1
	expect_clean_exit 0
}

# A module that is not a multiboot kernel is refused with a clear message.
test_umbra_module_not_multiboot() {
	local junk="$logs/$TEST_NAME/junk.bin"
	head -c 65536 /dev/zero >"$junk"
	boot --emu bochs --cpus 1 --module "$junk" || return 1
	expect '^\[cpu0\] guest: cannot load module 0: no multiboot or multiboot2 header' || return 1
	expect_clean_exit 1
}

# A kernel that would land on umbra itself is refused: with 256 MiB, umbra's heap
# is the 16 MiB below 0xfe00000, so a guest linked at 240 MiB (basic-240m) lands on it.
test_umbra_module_overlaps_umbra() {
	boot --emu bochs --cpus 1 --module "$build/guests/basic-240m.elf" || return 1
	expect "^\[cpu0\] mem: umbra at \[0x[0-9a-f]+-0xfe00000\)" "umbra's heap below 0xfe00000" || return 1
	expect "^\[cpu0\] guest: cannot load module 0: kernel segment \[0xf000000-.*is not in the guest's RAM" || return 1
	expect_clean_exit 1
}
