#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# make coverage: boot the VMX system tests on a COVERAGE=1 umbra, sum its coverage dumps, print gcov's figures.
#
# usage: tests/coverage/run.sh BUILD_DIR      (BUILD_DIR holds a COVERAGE=1 umbra.elf and the guests)
# Environment:
#   COVERAGE_TESTS   system tests to run (names); default: every test of cases_vmx.sh and cases_umbra.sh
#   COVERAGE_FILTER  run only the selected tests whose name contains this
#   COVERAGE_EXTRA   more campaigns (e.g. a fuzzer's), space-separated scripts run after the tests as
#                    `SCRIPT BUILD_DIR` with COVERAGE_LOGS set to a directory of their own: every boot
#                    they make must use $BUILD_DIR/umbra.elf and keep its emulator.log (boot.sh --out)
#                    under $COVERAGE_LOGS, where the dumps are collected from
# Prints one PASS/FAIL/SKIP line per test, the coverage table (tools/umbra-gcov), and ends with
# "COVERAGE nested/ lines=NN.N% branches=NN.N%". Exit status 1 if a test or campaign failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:?usage: tests/coverage/run.sh BUILD_DIR}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
if ! nm "$build/umbra.elf" 2>/dev/null | grep -w gcov_dump >/dev/null; then
	echo "coverage: $build/umbra.elf is not a COVERAGE=1 build (make COVERAGE=1 BUILD=$build kernel)" >&2
	exit 1
fi
out="$build/coverage"
logs="$out/logs"
rm -rf "$out"
mkdir -p "$logs" "$out/extra"

# The system tests, as tests/run_tests.sh loads them; remember which file added which test.
SYSTEM_TESTS=()
. "$root/tests/system/lib.sh"
selected=()
for f in "$root"/tests/system/cases_*.sh; do
	n=${#SYSTEM_TESTS[@]}
	. "$f"
	case "$(basename "$f")" in
	cases_vmx.sh | cases_umbra.sh) selected+=("${SYSTEM_TESTS[@]:$n}") ;;
	esac
done
[ -n "${COVERAGE_TESTS:-}" ] && read -r -a selected <<<"$COVERAGE_TESTS"

failed=0
for t in "${selected[@]}"; do
	case "$t" in *"${COVERAGE_FILTER:-}"*) ;; *) continue ;; esac
	start=$(date +%s)
	reason=$(run_system_test "$t" 2>&1)
	status=$?
	secs=$(($(date +%s) - start))
	case $status in
	0) echo "PASS system.$t (${secs}s)" ;;
	77) echo "SKIP system.$t: $reason" ;;
	*) echo "FAIL system.$t: $reason (${secs}s; logs in $logs/$t)"; failed=$((failed + 1)) ;;
	esac
done

# The hook for longer campaigns (a differential fuzzer): their boots' dumps count too.
i=0
for script in ${COVERAGE_EXTRA:-}; do
	dir="$out/extra/$i-$(basename "$script")"
	mkdir -p "$dir"
	if COVERAGE_LOGS="$dir" "$script" "$build" >"$dir/run.out" 2>&1; then
		echo "PASS coverage.extra $script"
	else
		echo "FAIL coverage.extra $script: exit status $? (see $dir/run.out)"
		failed=$((failed + 1))
	fi
	i=$((i + 1))
done

# Old .gcda files would be counted again: the counts are the dumps of this run only.
find "$build/kernel" -name '*.gcda' -delete
echo
"$root/tools/umbra-gcov" coverage --build "$build" --detail "$out/uncovered.txt" "$logs" "$out/extra" ||
	failed=$((failed + 1))
[ $failed -eq 0 ]
