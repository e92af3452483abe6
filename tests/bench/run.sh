#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Benchmarks (not tests): the same guest loop bare on Bochs and under umbra.
# Prints one "BENCH <name> <value> [unit]" line per figure, then a short table.
#
# usage: tests/bench/run.sh [BUILD_DIR]    (ITERATIONS=N to change the loop count)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
out="$build/bench"
iterations=${ITERATIONS:-100000}
guest="$build/guests/basic.elf"
mkdir -p "$out"

run() { # run NAME boot.sh-options...
	local name=$1
	shift
	# umbra of this build directory, unless the run names another kernel (a later --kernel wins).
	if ! "$root/tests/system/boot.sh" --emu bochs --cpus 1 --out "$out/$name" --timeout 600 \
		--kernel "$build/umbra.elf" "$@" \
		>"$out/$name.boot.out" 2>&1; then
		echo "bench: the $name boot failed, see $out/$name" >&2
		exit 1
	fi
	tr -d '\r' <"$out/$name/serial.log" >"$out/$name/console.txt"
}

# value NAME CONSOLE: the number of a BENCH line.
value() {
	local v
	v=$(sed -nE "s/^(\[cpu[0-9]+\] )?BENCH $1 ([0-9.]+).*/\2/p" "$2" | tail -n 1)
	if [ -z "$v" ]; then
		echo "bench: no BENCH $1 in $2" >&2
		exit 1
	fi
	echo "$v"
}

nested_iterations=${NESTED_ITERATIONS:-2000}
vmx_guest="$build/guests/vmx.elf"

run bare --kernel "$guest" --cmdline "test=bench_cpuid iterations=$iterations"
run umbra --module "$guest=test=bench_cpuid iterations=$iterations"
run nested_bare --kernel "$vmx_guest" --cmdline "test=bench_nested iterations=$nested_iterations"
run nested_umbra --module "$vmx_guest=test=bench_nested iterations=$nested_iterations"
run nested_umbra_noshadow --cmdline "nested.shadow=off" \
	--module "$vmx_guest=test=bench_nested iterations=$nested_iterations"
run nested_umbra_classic --cmdline "nested.shadow=classic" \
	--module "$vmx_guest=test=bench_nested iterations=$nested_iterations"
run table_bare --kernel "$vmx_guest" --cmdline "test=bench_nested_table iterations=$nested_iterations"
run table_umbra --module "$vmx_guest=test=bench_nested_table iterations=$nested_iterations"
run table_umbra_noshadow --cmdline "nested.shadow=off" \
	--module "$vmx_guest=test=bench_nested_table iterations=$nested_iterations"
run table_umbra_classic --cmdline "nested.shadow=classic" \
	--module "$vmx_guest=test=bench_nested_table iterations=$nested_iterations"
# Nested EPT: the table-driven round trip with L2 on an EPT of L1's and a VPID, and L2
# touching fresh pages L1's EPT maps on each violation (512: one page table of them).
run ept_vpid_bare --kernel "$vmx_guest" --cmdline "test=bench_nested_ept_vpid iterations=$nested_iterations"
run ept_vpid_umbra --module "$vmx_guest=test=bench_nested_ept_vpid iterations=$nested_iterations"
run ept_faults_bare --kernel "$vmx_guest" --cmdline "test=bench_ept_faults iterations=512"
run ept_faults_umbra --module "$vmx_guest=test=bench_ept_faults iterations=512"

# Two more builds of umbra, made here: the exit-path profile (PROFILE=1, arch/x86/profile.h)
# for the phase breakdown, and the shadow table doubled (SHADOW_DOUBLED=1).
make -C "$root" --no-print-directory BUILD="$build/prof" PROFILE=1 kernel >"$out/prof.build.out" 2>&1 ||
	{ echo "bench: the PROFILE=1 build failed, see $out/prof.build.out" >&2; exit 1; }
make -C "$root" --no-print-directory BUILD="$build/doubled" SHADOW_DOUBLED=1 kernel >"$out/doubled.build.out" 2>&1 ||
	{ echo "bench: the SHADOW_DOUBLED=1 build failed, see $out/doubled.build.out" >&2; exit 1; }
for mode in bench_nested bench_nested_table; do
	run "prof_${mode}_on" --kernel "$build/prof/umbra.elf" \
		--module "$vmx_guest=test=$mode iterations=$nested_iterations"
	run "prof_${mode}_off" --kernel "$build/prof/umbra.elf" --cmdline "nested.shadow=off" \
		--module "$vmx_guest=test=$mode iterations=$nested_iterations"
done
run table_umbra_doubled --kernel "$build/doubled/umbra.elf" \
	--module "$vmx_guest=test=bench_nested_table iterations=$nested_iterations"

# Debian's Linux/KVM as L1 (tests/linux/): kvm_l2's L2 exits, KVM directly on Bochs and under
# umbra with shadowing on and off (~2 min a boot). BENCH_LINUX=0 leaves them out.
linux_cmdline="console=ttyS0 tsc_early_khz=200000 loglevel=5 panic=-1 reboot=t umbra.kvm_intel=ept=0,unrestricted_guest=0,vpid=0"
kvm_labels=()
if [ "${BENCH_LINUX:-1}" = 1 ] && payload=$("$root/tests/linux/payload.sh" "$build" 2>"$out/payload.err"); then
	run kvm_bare --linux "$payload/bzImage" --initrd "$payload/initrd.gz" --cmdline "$linux_cmdline umbra.label=bare"
	for mode in shadow_on shadow_off; do
		opt=""
		[ $mode = shadow_off ] && opt="nested.shadow=off"
		run "kvm_$mode" --megs 512 --cmdline "$opt" --module "$payload/vmlinux=$linux_cmdline umbra.label=$mode" \
			--module "$payload/initrd.gz"
	done
	kvm_labels=(bare shadow_on shadow_off)
else
	echo "bench: no Linux/KVM figures ($(tail -n 1 "$out/payload.err" 2>/dev/null))" >&2
fi

bare=$(value cpuid.cycles_per_iteration.bare "$out/bare/console.txt")
umbra=$(value cpuid.cycles_per_iteration.umbra "$out/umbra/console.txt")
exits=$(value cpuid.l0_exits_per_iteration.umbra "$out/umbra/console.txt")
ratio=$(awk -v a="$umbra" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')
# umbra's own account of the CPUID exits (cycles it spent per exit, from its statistics).
handler=$(sed -nE 's/^\[cpu0\] stats: cpu0 L1 CPUID +[0-9]+ exits +([0-9]+) cycles\/exit.*/\1/p' \
	"$out/umbra/console.txt" | tail -n 1)

nbare=$(value nested_cpuid.cycles_per_roundtrip.bare "$out/nested_bare/console.txt")
numbra=$(value nested_cpuid.cycles_per_roundtrip.umbra "$out/nested_umbra/console.txt")
nexits=$(value nested_cpuid.l0_exits_per_roundtrip.umbra "$out/nested_umbra/console.txt")
nratio=$(awk -v a="$numbra" -v b="$nbare" 'BEGIN { printf "%.2f", a / b }')
noff=$(value nested_cpuid.cycles_per_roundtrip.umbra "$out/nested_umbra_noshadow/console.txt")
nexits_off=$(value nested_cpuid.l0_exits_per_roundtrip.umbra "$out/nested_umbra_noshadow/console.txt")
nratio_off=$(awk -v a="$noff" -v b="$nbare" 'BEGIN { printf "%.2f", a / b }')
nclassic=$(value nested_cpuid.cycles_per_roundtrip.umbra "$out/nested_umbra_classic/console.txt")
tclassic=$(value nested_cpuid_table.cycles_per_roundtrip.umbra "$out/table_umbra_classic/console.txt")
tbare=$(value nested_cpuid_table.cycles_per_roundtrip.bare "$out/table_bare/console.txt")
tumbra=$(value nested_cpuid_table.cycles_per_roundtrip.umbra "$out/table_umbra/console.txt")
texits=$(value nested_cpuid_table.l0_exits_per_roundtrip.umbra "$out/table_umbra/console.txt")
toff=$(value nested_cpuid_table.cycles_per_roundtrip.umbra "$out/table_umbra_noshadow/console.txt")
texits_off=$(value nested_cpuid_table.l0_exits_per_roundtrip.umbra "$out/table_umbra_noshadow/console.txt")
tratio=$(awk -v a="$tumbra" -v b="$tbare" 'BEGIN { printf "%.2f", a / b }')
tratio_off=$(awk -v a="$toff" -v b="$tbare" 'BEGIN { printf "%.2f", a / b }')
ebare=$(value nested_cpuid_table_ept_vpid.cycles_per_roundtrip.bare "$out/ept_vpid_bare/console.txt")
eumbra=$(value nested_cpuid_table_ept_vpid.cycles_per_roundtrip.umbra "$out/ept_vpid_umbra/console.txt")
eexits=$(value nested_cpuid_table_ept_vpid.l0_exits_per_roundtrip.umbra "$out/ept_vpid_umbra/console.txt")
fbare=$(value nested_ept_fault.cycles_per_fault.bare "$out/ept_faults_bare/console.txt")
fumbra=$(value nested_ept_fault.cycles_per_fault.umbra "$out/ept_faults_umbra/console.txt")
fexits=$(value nested_ept_fault.l0_exits_per_fault.umbra "$out/ept_faults_umbra/console.txt")
# Each umbra run's exit counts must agree with its exit stub's count, or the figures are wrong.
for r in umbra nested_umbra nested_umbra_noshadow nested_umbra_classic table_umbra table_umbra_noshadow \
	table_umbra_classic table_umbra_doubled \
	ept_vpid_umbra ept_faults_umbra \
	prof_bench_nested_on prof_bench_nested_off prof_bench_nested_table_on prof_bench_nested_table_off; do
	if grep -q 'VM exits taken: MISMATCH' "$out/$r/console.txt"; then
		echo "bench: $r: umbra's exit counts disagree with its exit stub, see $out/$r" >&2
		exit 1
	fi
done
tdoubled=$(value nested_cpuid_table.cycles_per_roundtrip.umbra "$out/table_umbra_doubled/console.txt")
tdoubled_fields=$(sed -nE 's/.*nested: VMCS shadowing on: ([0-9]+) fields.*/\1/p' "$out/table_umbra_doubled/console.txt")
tfields=$(sed -nE 's/.*nested: VMCS shadowing on: ([0-9]+) fields.*/\1/p' "$out/table_umbra/console.txt")

# phases PREFIX RUN SUFFIX TOTAL: the profiled run's phases per round trip as BENCH lines, and
# their sum against TOTAL, the uninstrumented build's cycles per round trip (within 2% or it says so).
phases() {
	local prefix=$1 run=$2 suffix=$3 total=$4 sum
	sed -nE "s/^(\[cpu[0-9]+\] )?BENCH $prefix\.phase\.([a-z_]+) ([0-9.]+).*/\2 \3/p" "$out/$run/console.txt" >"$out/$run/phases.txt"
	if [ ! -s "$out/$run/phases.txt" ]; then
		echo "bench: no phase figures in $out/$run" >&2
		exit 1
	fi
	while read -r phase cycles; do
		echo "BENCH $prefix.phase.$phase.$suffix $cycles cycles"
	done <"$out/$run/phases.txt"
	sum=$(awk '{ s += $2 } END { printf "%.2f", s }' "$out/$run/phases.txt")
	echo "BENCH $prefix.phase_sum.$suffix $sum cycles"
	awk -v s="$sum" -v t="$total" -v n="$prefix.$suffix" 'BEGIN {
		r = s / t; printf "BENCH %s.phase_sum_vs_total %.3f\n", n, r
		if (r < 0.98 || r > 1.02) printf "bench: %s: the phases add up to %.1f%% of the total, not within 2%%\n", n, 100 * r > "/dev/stderr" }'
}

# Per field: VMREAD/VMWRITE exits per round trip that L1's handler caused, shadowing off and on
# (from umbra's ustat records, which list every trapped field: docs/research.md).
fields() {
	sed -nE 's/^\[cpu0\] ustat v=1 rec=field cpu=0 enc=[0-9a-fx]+ name=([A-Z0-9_]+) vmread=([0-9]+) vmwrite=([0-9]+)$/\1 \2 \3/p' "$1" |
		awk -v n="$nested_iterations" '{ r = $2 / n; w = $3 / n; if (r >= 0.5 || w >= 0.5) printf "%s r%.2f w%.2f; ", $1, r, w }'
}
fields_off=$(fields "$out/nested_umbra_noshadow/console.txt")
fields_on=$(fields "$out/nested_umbra/console.txt")

# kvm_l0_exits CONSOLE: umbra's L0 exits per L2 exit in a KVM run, from its shutdown
# statistics: (L2 exits + L1's VMRESUME, VMLAUNCH, VMREAD and VMWRITE exits) / L2 exits,
# CPUID and I/O loops together. L1's VMREAD/VMWRITE exits of the whole run count (KVM's
# set-up of its L2 too), so the figure is an upper bound of the loops' own.
kvm_l0_exits() {
	awk '/stats: cpu0 [0-9]+ exits from L2/ { l2 = $4 }
	     /stats: cpu0 L1 (VMRESUME|VMLAUNCH|VMREAD|VMWRITE) / { l1 += $6 }
	     END { if (l2) printf "%.2f", (l2 + l1) / l2; else print "0" }' "$1"
}

report() {
echo "BENCH cpuid.cycles_per_roundtrip.bare $bare cycles"
echo "BENCH cpuid.cycles_per_roundtrip.umbra $umbra cycles"
echo "BENCH cpuid.ratio.umbra_vs_bare $ratio"
echo "BENCH cpuid.l0_exits_per_roundtrip.umbra $exits exits"
echo "BENCH cpuid.l0_handler_cycles_per_exit.umbra ${handler:-0} cycles"
echo "BENCH nested_cpuid.cycles_per_roundtrip.bare $nbare cycles"
echo "BENCH nested_cpuid.cycles_per_roundtrip.shadow_on $numbra cycles"
echo "BENCH nested_cpuid.cycles_per_roundtrip.shadow_off $noff cycles"
echo "BENCH nested_cpuid.cycles_per_roundtrip.shadow_classic $nclassic cycles"
echo "BENCH nested_cpuid.ratio.shadow_on_vs_bare $nratio"
echo "BENCH nested_cpuid.ratio.shadow_off_vs_bare $nratio_off"
echo "BENCH nested_cpuid.l0_exits_per_roundtrip.shadow_on $nexits exits"
echo "BENCH nested_cpuid.l0_exits_per_roundtrip.shadow_off $nexits_off exits"
echo "BENCH nested_cpuid_table.cycles_per_roundtrip.bare $tbare cycles"
echo "BENCH nested_cpuid_table.cycles_per_roundtrip.shadow_on $tumbra cycles"
echo "BENCH nested_cpuid_table.cycles_per_roundtrip.shadow_off $toff cycles"
echo "BENCH nested_cpuid_table.cycles_per_roundtrip.shadow_classic $tclassic cycles"
echo "BENCH nested_cpuid_table.ratio.shadow_on_vs_bare $tratio"
echo "BENCH nested_cpuid_table.ratio.shadow_off_vs_bare $tratio_off"
echo "BENCH nested_cpuid_table.l0_exits_per_roundtrip.shadow_on $texits exits"
echo "BENCH nested_cpuid_table.l0_exits_per_roundtrip.shadow_off $texits_off exits"
echo "BENCH nested_cpuid_table.cycles_per_roundtrip.shadow_on_doubled_table $tdoubled cycles"
echo "BENCH nested_cpuid_table.shadowed_fields.shadow_on $tfields fields"
echo "BENCH nested_cpuid_table.shadowed_fields.shadow_on_doubled_table $tdoubled_fields fields"
echo "BENCH nested_cpuid_table_ept_vpid.cycles_per_roundtrip.bare $ebare cycles"
echo "BENCH nested_cpuid_table_ept_vpid.cycles_per_roundtrip.shadow_on $eumbra cycles"
echo "BENCH nested_cpuid_table_ept_vpid.l0_exits_per_roundtrip.shadow_on $eexits exits"
echo "BENCH nested_ept_fault.cycles_per_fault.bare $fbare cycles"
echo "BENCH nested_ept_fault.cycles_per_fault.shadow_on $fumbra cycles"
echo "BENCH nested_ept_fault.l0_exits_per_fault.shadow_on $fexits exits"
for label in "${kvm_labels[@]}"; do
	for kind in cpuid io; do
		echo "BENCH kvm_l1.$kind.cycles_per_l2_exit.$label $(value "kvm_l1.$kind.cycles_per_l2_exit.$label" "$out/kvm_$label/console.txt") cycles"
	done
	[ "$label" = bare ] || echo "BENCH kvm_l1.all.l0_exits_per_l2_exit.$label $(kvm_l0_exits "$out/kvm_$label/console.txt") exits"
done
phases nested_cpuid prof_bench_nested_on shadow_on "$numbra"
phases nested_cpuid prof_bench_nested_off shadow_off "$noff"
phases nested_cpuid_table prof_bench_nested_table_on shadow_on "$tumbra"
phases nested_cpuid_table prof_bench_nested_table_off shadow_off "$toff"
echo
echo "CPUID loop, $iterations iterations, 1 CPU, Bochs corei7_skylake_x (TSC = instructions):"
printf '  %-34s %12s\n' "cycles per CPUID, bare Bochs" "$bare" "cycles per CPUID, under umbra" "$umbra" \
	"ratio umbra / bare" "$ratio" "L0 exits per CPUID" "$exits" \
	"umbra handler cycles per exit" "${handler:-?}"
echo
echo "Nested: L2 CPUID -> L1 handler (8 VMREADs, 1 VMWRITE, like KVM) -> VMRESUME, $nested_iterations round trips:"
printf '  %-40s %12s %12s %12s\n' "" "bare Bochs" "shadow on" "shadow off" \
	"cycles per round trip" "$nbare" "$numbra" "$noff" \
	"ratio to bare" "1.00" "$nratio" "$nratio_off" \
	"L0 exits per round trip" "-" "$nexits" "$nexits_off"
echo "  (the handler's own CPUID is an L0 exit of its own under umbra)"
echo "Nested, table-driven handler (CPUID answered from a table, as KVM does), $nested_iterations round trips:"
printf '  %-40s %12s %12s %12s\n' "" "bare Bochs" "shadow on" "shadow off" \
	"cycles per round trip" "$tbare" "$tumbra" "$toff" \
	"ratio to bare" "1.00" "$tratio" "$tratio_off" \
	"L0 exits per round trip" "-" "$texits" "$texits_off"
echo "  shadow on with the table doubled ($tfields -> $tdoubled_fields fields): $tdoubled cycles per round trip"
echo "  nested.shadow=classic (umbra's own shadow, vmcs02 never L1's): $nclassic (CPUID handler), $tclassic (table) cycles per round trip"
echo "Nested EPT (L2 on an EPT of L1's, umbra's shadow EPT under it):"
printf '  %-40s %12s %12s\n' "" "bare Bochs" "shadow on" \
	"table round trip, EPT + VPID: cycles" "$ebare" "$eumbra" \
	"  L0 exits per round trip" "-" "$eexits" \
	"EPT-violation fault (L1 maps a page): cycles" "$fbare" "$fumbra" \
	"  L0 exits per fault" "-" "$fexits"
echo "Where umbra's cycles go per round trip (PROFILE=1 build, probes' cost taken off):"
printf '  %-22s %12s %12s %12s %12s\n' "phase" "cpuid on" "cpuid off" "table on" "table off"
paste "$out/prof_bench_nested_on/phases.txt" "$out/prof_bench_nested_off/phases.txt" \
	"$out/prof_bench_nested_table_on/phases.txt" "$out/prof_bench_nested_table_off/phases.txt" |
	awk '{ printf "  %-22s %12s %12s %12s %12s\n", $1, $2, $4, $6, $8 }'
echo "  VMREAD/VMWRITE exits per round trip by field, shadow off: ${fields_off:-none}"
echo "  VMREAD/VMWRITE exits per round trip by field, shadow on:  ${fields_on:-none}"
echo "  logs: $out/<run>/ (bare, umbra, nested_*, table_*, prof_*)"
}

# The figures on stdout and in bench.txt; tools/umbra-stat turns them into bench.md, bench.json, bench.png.
report | tee "$out/bench.txt"
"$root/tools/umbra-stat" bench "$out/bench.txt" -o "$out" >/dev/null
echo "  tables and chart: $out/bench.md $out/bench.json $out/bench.png (tools/umbra-stat bench)"
