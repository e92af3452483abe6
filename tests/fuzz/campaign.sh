#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A differential VMX fuzzing campaign: each chunk of seeds boots the fuzz guest bare on Bochs
# (the reference) and as umbra's L1, then tools/fuzz_compare.py compares the records.
#
# usage: tests/fuzz/campaign.sh [--build DIR] [--seeds N] [--steps M] [--first S] [--chunk K]
#                               [--out DIR] [--timeout SEC]
#   --chunk K   seeds per boot (default: as many as make a boot of ~STEPS*K = 60000 steps)
#   --timeout   per boot (default: from the chunk's size)
# Ends with exactly one line:
#   FUZZ seeds=N steps=M vmx_instructions=K divergences=D umbra_crashes=C hangs=H
# (crash: a PANIC, a "guest stopped" report or a Bochs panic in the umbra run, or an umbra
# stream that ends early; hang: a boot that timed out, bare or umbra), preceded by a
# FUZZ-BARE line when the bare reference itself died. Exit status 0 when D, C and H are 0
# and the reference never died. Details per chunk are in OUT/chunk-S/ (compare.txt, both boots' logs).
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build="$root/build" seeds=100 steps=200 first=1 chunk="" out="" timeout=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build) build=$2; shift 2 ;;
	--seeds) seeds=$2; shift 2 ;;
	--steps) steps=$2; shift 2 ;;
	--first) first=$2; shift 2 ;;
	--chunk) chunk=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	*) echo "campaign.sh: unknown option $1" >&2; exit 1 ;;
	esac
done
case "$build" in /*) ;; *) build="$root/$build" ;; esac
out=${out:-$build/fuzz}
elf="$build/guests/fuzz.elf"
[ -f "$elf" ] && [ -f "$build/umbra.elf" ] || { echo "campaign.sh: build $elf and $build/umbra.elf first (make kernel guests)" >&2; exit 1; }
[ -n "$chunk" ] || chunk=$(( 60000 / (steps > 0 ? steps : 1) ))
[ "$chunk" -ge 1 ] || chunk=1
[ "$chunk" -le "$seeds" ] || chunk=$seeds
# ~25 us of Bochs per step under umbra, a boot's fixed cost, and a wide margin.
[ -n "$timeout" ] || timeout=$(( 60 + chunk * steps / 400 ))
py=/usr/bin/python3
[ -x "$py" ] || py=python3
mkdir -p "$out"

vmx=0 div=0 crashes=0 hangs=0 bare_crashes=0
s=$first
end=$((first + seeds))
while [ $s -lt $end ]; do
	k=$chunk
	[ $((s + k)) -le $end ] || k=$((end - s))
	dir="$out/chunk-$s"
	args="seed=$s seeds=$k steps=$steps"
	status=0
	"$root/tests/system/boot.sh" --emu bochs --cpus 1 --kernel "$elf" --cmdline "$args" \
		--out "$dir/bare" --timeout "$timeout" >"$dir.bare.out" 2>&1 || status=$?
	if [ $status = 124 ]; then
		hangs=$((hangs + 1)); echo "HANG bare $args ($dir/bare)"
	elif grep -q 'PANIC' "$dir/bare/serial.log" 2>/dev/null ||
		! grep -q '^F seeds=' "$dir/bare/emulator.log" 2>/dev/null; then
		# The reference itself died: a program the generator must not make (docs/fuzzing.md).
		bare_crashes=$((bare_crashes + 1))
		echo "BARE-CRASH $args: $(grep -m1 'PANIC' "$dir/bare/serial.log" 2>/dev/null || echo 'record stream ended early') ($dir/bare)"
	fi
	status=0
	"$root/tests/system/boot.sh" --emu bochs --cpus 1 --kernel "$build/umbra.elf" \
		--module "$elf=$args" --out "$dir/umbra" --timeout "$timeout" >"$dir.umbra.out" 2>&1 || status=$?
	crashed=0
	if [ $status = 124 ]; then
		hangs=$((hangs + 1)); echo "HANG umbra $args ($dir/umbra)"
	elif grep -qE 'PANIC|guest stopped' "$dir/umbra/serial.log" 2>/dev/null ||
		grep -v 'Shutdown port: shutdown requested' "$dir/umbra/bochs.log" 2>/dev/null | grep -q '>>PANIC<<' ||
		! grep -q '^F seeds=' "$dir/umbra/emulator.log" 2>/dev/null; then
		crashed=1
		crashes=$((crashes + 1))
		echo "CRASH umbra $args: $(grep -hE 'PANIC|guest stopped' "$dir/umbra/serial.log" "$dir/umbra/bochs.log" 2>/dev/null | grep -vm1 'Shutdown port' || echo 'record stream ended early') ($dir/umbra)"
	fi
	"$py" "$root/tools/fuzz_compare.py" "$dir/bare/emulator.log" "$dir/umbra/emulator.log" \
		>"$dir/compare.txt" 2>&1
	summary=$(grep '^COMPARE ' "$dir/compare.txt" || true)
	if [ -z "$summary" ]; then
		echo "NOCOMPARE $args: $(tail -n 1 "$dir/compare.txt")"
		bare_crashes=$((bare_crashes + 1))
	else
		d=$(sed -nE 's/.* divergences=([0-9]+).*/\1/p' <<<"$summary")
		n=$(sed -nE 's/.* vmx_instructions=([0-9]+).*/\1/p' <<<"$summary")
		[ "$crashed" = 1 ] && n=$(sed -nE 's/^F .*vmx_instructions=([0-9]+).*/\1/p' "$dir/bare/emulator.log" | tail -n 1)
		div=$((div + d))
		vmx=$((vmx + ${n:-0}))
		[ "$d" = 0 ] || grep -A2 '^DIVERGENCE' "$dir/compare.txt" | head -n 30
	fi
	s=$((s + k))
done
[ $bare_crashes = 0 ] || echo "FUZZ-BARE crashes=$bare_crashes (the reference run died: a generator defect)"
echo "FUZZ seeds=$seeds steps=$steps vmx_instructions=$vmx divergences=$div umbra_crashes=$crashes hangs=$hangs"
[ $div = 0 ] && [ $crashes = 0 ] && [ $hangs = 0 ] && [ $bare_crashes = 0 ]
