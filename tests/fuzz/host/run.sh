#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Run the host fuzz harnesses (libFuzzer) one after the other and report per harness.
#
# usage: tests/fuzz/host/run.sh [--runs N] [--time S] [--seed N] [--scratch DIR] BUILD_DIR NAME...
#   --runs N      executions per harness (default 1000000), seed inputs included
#   --time S      instead: S seconds per harness
#   --seed N      libFuzzer's random seed (default: a new one each run)
#   --scratch DIR a fresh corpus under DIR/<name>/ (make test), instead of the one kept
#                 in BUILD_DIR/fuzz-host/<name>/corpus across campaigns
# Prints one line per harness and a summary:
#   FUZZ-HOST <name> runs=N findings=F time=Ts corpus=C [crash=FILE]
#   FUZZ-HOST total harnesses=H runs=N findings=F time=Ts
# A finding is an input that crashed the harness (sanitizer report, failed FUZZ_CHECK,
# timeout, out of memory): saved in BUILD_DIR/fuzz-host/<name>/. The exit status is
# non-zero when a harness had a finding or did not complete its runs.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
runs=1000000 seconds="" seed="" scratch=""
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--time) seconds=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--scratch) scratch=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || { echo "usage: $0 [options] BUILD_DIR NAME..." >&2; exit 2; }
build=$1
shift

# Inputs longer than the structure could usefully be only slow the search down.
max_len() {
	case "$1" in
	mb2) echo 20480 ;;    # past MB2_STRINGS_MAX (16 KiB) of command lines
	loader) echo 65536 ;; # both header searches (8 and 32 KiB) and the ELF after them
	operand) echo 256 ;;  # tests/fuzz/host/fuzz_operand.c's record is 215 bytes
	insn) echo 32 ;;      # the mode byte and at most 15 instruction bytes, and some past them
	cmdline) echo 4096 ;;
	*) echo 4096 ;;
	esac
}

# Wall time in milliseconds, and printed as seconds with one decimal.
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }

total_runs=0 total_findings=0 status=0 start_all=$(now_ms)
for name in "$@"; do
	bin="$build/fuzz-host/bin/fuzz_$name"
	out="$build/fuzz-host/$name"
	mkdir -p "$out"
	if [ -n "$scratch" ]; then
		corpus="$scratch/$name/corpus"
		log="$scratch/$name/fuzz.log"
		rm -rf "${corpus:?}"
	else
		corpus="$out/corpus"
		log="$out/fuzz.log"
	fi
	mkdir -p "$corpus"
	if [ ! -x "$bin" ]; then
		echo "FUZZ-HOST $name runs=0 findings=0 time=0s error=no harness $bin (make fuzz-host-build)"
		status=1
		continue
	fi
	opts=(-print_final_stats=1 -max_len="$(max_len "$name")" -timeout=10 -rss_limit_mb=2048
		-artifact_prefix="$out/")
	if [ -n "$seconds" ]; then
		opts+=(-max_total_time="$seconds" -runs=-1)
	else
		opts+=(-runs="$runs")
	fi
	[ -n "$seed" ] && opts+=(-seed="$seed")
	[ -f "$here/$name.dict" ] && opts+=(-dict="$here/$name.dict")
	# The first directory takes the new inputs; the in-tree seeds are only read.
	dirs=("$corpus")
	[ -d "$here/corpus/$name" ] && dirs+=("$here/corpus/$name")
	start=$(now_ms)
	"$bin" "${opts[@]}" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	time=$(secs "$start")
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	n=${n:-0}
	crash=$(sed -n "s/.*Test unit written to \(.*\)$/\1/p" "$log" | tail -1)
	findings=0
	[ -n "$crash" ] && findings=1
	line="FUZZ-HOST $name runs=$n findings=$findings time=${time}s corpus=$(ls "$corpus" | wc -l)"
	[ -n "$crash" ] && line="$line crash=$crash"
	if [ $rc -ne 0 ] && [ $findings -eq 0 ]; then
		line="$line error=exit status $rc, see $log"
	elif [ -z "$seconds" ] && [ $findings -eq 0 ] && [ "$n" -lt "$runs" ]; then
		line="$line error=stopped short of $runs runs, see $log"
		rc=1
	fi
	echo "$line"
	[ $rc -ne 0 ] && status=1
	total_runs=$((total_runs + n))
	total_findings=$((total_findings + findings))
done
echo "FUZZ-HOST total harnesses=$# runs=$total_runs findings=$total_findings time=$(secs "$start_all")s"
exit $status
