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

run bare --kernel "$guest" --cmdline "test=bench_cpuid iterations=$iterations"
run umbra --module "$guest=test=bench_cpuid iterations=$iterations"

bare=$(value cpuid.cycles_per_iteration.bare "$out/bare/console.txt")
umbra=$(value cpuid.cycles_per_iteration.umbra "$out/umbra/console.txt")
exits=$(value cpuid.l0_exits_per_iteration.umbra "$out/umbra/console.txt")
ratio=$(awk -v a="$umbra" -v b="$bare" 'BEGIN { printf "%.2f", a / b }')
# umbra's own account of the CPUID exits (cycles it spent per exit, from its statistics).
handler=$(sed -nE 's/^\[cpu0\] stats: cpu0 L1 CPUID +[0-9]+ exits +([0-9]+) cycles\/exit.*/\1/p' \
	"$out/umbra/console.txt" | tail -n 1)

echo "BENCH cpuid.cycles_per_roundtrip.bare $bare cycles"
echo "BENCH cpuid.cycles_per_roundtrip.umbra $umbra cycles"
echo "BENCH cpuid.ratio.umbra_vs_bare $ratio"
echo "BENCH cpuid.l0_exits_per_roundtrip.umbra $exits exits"
echo "BENCH cpuid.l0_handler_cycles_per_exit.umbra ${handler:-0} cycles"
echo
echo "CPUID loop, $iterations iterations, 1 CPU, Bochs corei7_skylake_x (TSC = instructions):"
printf '  %-34s %12s\n' "cycles per CPUID, bare Bochs" "$bare" "cycles per CPUID, under umbra" "$umbra" \
	"ratio umbra / bare" "$ratio" "L0 exits per CPUID" "$exits" \
	"umbra handler cycles per exit" "${handler:-?}"
echo "  logs: $out/{bare,umbra}"
