#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Run every test: host unit tests, then system tests that boot real images.
# Prints one line per test and ends with "N passed, N failed[, N skipped]".
#
# usage: tests/run_tests.sh [BUILD_DIR] [FILTER]
#   FILTER: run only the system tests whose name contains FILTER
#           ("unit" runs only the unit tests, the short host fuzz runs and the tool tests,
#           "fuzz-host" only the fuzz runs, "tools" only the tool tests).
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
filter=${2:-}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
logs="$build/test-logs"
rm -rf "$logs"
mkdir -p "$logs"

passed=0 failed=0 skipped=0
failures=()

pass() {
	passed=$((passed + 1))
	printf 'PASS %s\n' "$1"
}

fail() {
	failed=$((failed + 1))
	failures+=("$1")
	printf 'FAIL %s: %s\n' "$1" "$2"
}

skip() {
	skipped=$((skipped + 1))
	printf 'SKIP %s: %s\n' "$1" "$2"
}

# --- host unit tests (cmocka) ----------------------------------------------
run_unit_tests() {
	local bin name log n_pass n_fail
	mkdir -p "$logs/unit"
	for bin in "$build"/unit/test_*; do
		[ -x "$bin" ] || continue
		name=$(basename "$bin")
		log="$logs/unit/$name.log"
		"$bin" >"$log" 2>&1
		local status=$?
		# One line per cmocka test case, as cmocka reports them.
		while read -r line; do
			case "$line" in
			"[       OK ] "*) pass "unit.$name.${line#\[       OK \] }" ;;
			"[  FAILED  ] "*"test(s)"*) ;;
			"[  FAILED  ] "*) fail "unit.$name.${line#\[  FAILED  \] }" "see $log" ;;
			"[  SKIPPED ] "*"test(s)"*) ;;
			"[  SKIPPED ] "*) skip "unit.$name.${line#\[  SKIPPED \] }" "see $log" ;;
			esac
		done < <(grep -E '^\[ +(OK|FAILED|SKIPPED) +\]' "$log")
		n_pass=$(grep -cE '^\[ +OK +\]' "$log")
		n_fail=$(grep -E '^\[ +FAILED +\] [^0-9]' "$log" | grep -vc 'test(s)')
		# A crash (sanitizer report, signal) may end the binary before its summary.
		if [ $status -ne 0 ] && [ "$n_fail" -eq 0 ]; then
			fail "unit.$name" "exited with status $status after $n_pass passing test(s); see $log"
		fi
	done
}

if [ -z "$filter" ] || [ "$filter" = unit ]; then
	if ls "$build"/unit/test_* >/dev/null 2>&1; then
		run_unit_tests
	else
		fail unit "no unit test binaries in $build/unit (run make unit)"
	fi
fi

# --- host fuzzing (libFuzzer, tests/fuzz/host): a short fixed run of each harness ----
# One test per harness: FUZZ_SMOKE_RUNS executions with libFuzzer's seed fixed, from the
# in-tree seeds and a fresh corpus, so that every run does the same. make fuzz-host is the
# long campaign.
FUZZ_SMOKE_RUNS=30000
run_fuzz_smoke() {
	local src names=() out="$logs/fuzz-host.out" line name rest status n_fail=0
	for src in "$root"/tests/fuzz/host/fuzz_*.c; do
		name=${src##*/fuzz_}
		names+=("${name%.c}")
	done
	if ! ls "$build"/fuzz-host/bin/fuzz_* >/dev/null 2>&1; then
		# make test builds them; a unit-only run after make unit has none to run.
		if [ "$filter" = unit ]; then
			skip fuzz-host "no harness binaries in $build/fuzz-host/bin (make fuzz-host-build)"
		else
			fail fuzz-host "no harness binaries in $build/fuzz-host/bin (run make fuzz-host-build)"
		fi
		return
	fi
	mkdir -p "$logs/fuzz-host"
	"$root/tests/fuzz/host/run.sh" --runs "$FUZZ_SMOKE_RUNS" --seed 1 --scratch "$logs/fuzz-host" \
		"$build" "${names[@]}" >"$out" 2>&1
	status=$?
	while read -r line; do
		case "$line" in
		"FUZZ-HOST total "*) ;;
		"FUZZ-HOST "*)
			line=${line#FUZZ-HOST }
			name=${line%% *}
			rest=${line#* }
			if [[ "$rest" == *"findings=0 "* && "$rest" != *error=* ]]; then
				pass "fuzz-host.$name ($rest)"
			else
				n_fail=$((n_fail + 1))
				fail "fuzz-host.$name" "$rest (log in $logs/fuzz-host/$name/fuzz.log)"
			fi
			;;
		esac
	done <"$out"
	# A runner that could not start must not pass silently.
	if [ $status -ne 0 ] && [ $n_fail -eq 0 ]; then
		fail fuzz-host "tests/fuzz/host/run.sh exited with status $status; see $out"
	fi
}

if [ -z "$filter" ] || [ "$filter" = unit ] || [ "$filter" = fuzz-host ]; then
	run_fuzz_smoke
fi

# --- tool tests (tools/umbra-stat, Python unittest on recorded logs) --------------
# Debian's python3 (the one python3-matplotlib is for), else whatever python3 is first on PATH.
run_tool_tests() {
	local py=/usr/bin/python3 log="$logs/tools.log" out="$logs/tools.out" line status n_fail
	[ -x "$py" ] || py=python3
	"$py" "$root/tests/tools/run.py" >"$out" 2>"$log"
	status=$?
	while read -r line; do
		case "$line" in
		"PASS "*) pass "${line#PASS }" ;;
		"FAIL "*) line=${line#FAIL }; fail "${line%%: *}" "${line#*: } (see $log)" ;;
		"SKIP "*) line=${line#SKIP }; skip "${line%%: *}" "${line#*: }" ;;
		esac
	done <"$out"
	n_fail=$(grep -c '^FAIL ' "$out")
	# A runner that could not start (no python3, a syntax error) must not pass silently.
	if [ $status -ne 0 ] && [ "$n_fail" -eq 0 ]; then
		fail tools "tests/tools/run.py exited with status $status; see $log"
	fi
}

if [ -z "$filter" ] || [ "$filter" = unit ] || [ "$filter" = tools ]; then
	run_tool_tests
fi

# --- system tests ------------------------------------------------------------
if [ "$filter" != unit ] && [ "$filter" != tools ] && [ "$filter" != fuzz-host ]; then
	SYSTEM_TESTS=()
	. "$root/tests/system/lib.sh"
	for f in "$root"/tests/system/cases_*.sh; do
		. "$f"
	done
	for t in "${SYSTEM_TESTS[@]}"; do
		case "$t" in *"$filter"*) ;; *) continue ;; esac
		start=$(date +%s)
		reason=$(run_system_test "$t" 2>&1)
		status=$?
		secs=$(($(date +%s) - start))
		if [ $status -eq 0 ]; then
			pass "system.$t (${secs}s)"
		elif [ $status -eq 77 ]; then
			skip "system.$t" "$reason"
		else
			fail "system.$t" "$reason (${secs}s; logs in $logs/$t)"
		fi
	done
fi

if [ ${#failures[@]} -gt 0 ]; then
	echo
	echo "failed:"
	printf '  %s\n' "${failures[@]}"
fi
echo
if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
