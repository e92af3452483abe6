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
	if ! "$root/tests/system/boot.sh" --emu bochs --cpus 1 --out "$out/$name" --timeout 600 "$@" \
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
# Per field: how many VMREAD/VMWRITE exits L1's handler caused, per round trip.
vmrw=$(sed -nE 's/^\[cpu0\] stats: cpu0 L1 (VMREAD|VMWRITE) +([0-9]+) exits.*/\1 \2/p' \
	"$out/nested_umbra/console.txt" | awk -v n="$nested_iterations" '{ printf "%s %.2f; ", $1, $2 / n }')

echo "BENCH cpuid.cycles_per_roundtrip.bare $bare cycles"
echo "BENCH cpuid.cycles_per_roundtrip.umbra $umbra cycles"
echo "BENCH cpuid.ratio.umbra_vs_bare $ratio"
echo "BENCH cpuid.l0_exits_per_roundtrip.umbra $exits exits"
echo "BENCH cpuid.l0_handler_cycles_per_exit.umbra ${handler:-0} cycles"
echo "BENCH nested_cpuid.cycles_per_roundtrip.bare $nbare cycles"
echo "BENCH nested_cpuid.cycles_per_roundtrip.umbra $numbra cycles"
echo "BENCH nested_cpuid.ratio.umbra_vs_bare $nratio"
echo "BENCH nested_cpuid.l0_exits_per_roundtrip.umbra $nexits exits"
echo
echo "CPUID loop, $iterations iterations, 1 CPU, Bochs corei7_skylake_x (TSC = instructions):"
printf '  %-34s %12s\n' "cycles per CPUID, bare Bochs" "$bare" "cycles per CPUID, under umbra" "$umbra" \
	"ratio umbra / bare" "$ratio" "L0 exits per CPUID" "$exits" \
	"umbra handler cycles per exit" "${handler:-?}"
echo
echo "Nested: L2 CPUID -> L1 handler (8 VMREADs, 1 VMWRITE, like KVM) -> VMRESUME, $nested_iterations round trips:"
printf '  %-34s %12s\n' "cycles per round trip, bare Bochs" "$nbare" "cycles per round trip, under umbra" \
	"$numbra" "ratio umbra / bare" "$nratio" "L0 exits per round trip" "$nexits"
echo "  VMREAD/VMWRITE exits per round trip (no VMCS shadowing yet): ${vmrw:-none}"
echo "  logs: $out/{bare,umbra,nested_bare,nested_umbra}"
