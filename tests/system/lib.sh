# SPDX-License-Identifier: BSD-2-Clause
# Helpers for system tests: boot an image, then check its serial log.
# A test is a shell function test_<name>; it returns 0 on success, prints the
# reason and returns 1 on failure, returns 77 to skip. Sourced by tests/run_tests.sh.

# boot [boot.sh options...]: boot into $logs/$TEST_NAME; fails on timeout.
boot() {
	local out="$logs/$TEST_NAME"
	SERIAL="$out/serial.log"
	# umbra of the build directory under test, unless the test names another kernel (a later
	# --kernel wins in boot.sh).
	if ! "$root/tests/system/boot.sh" --out "$out" --timeout "${BOOT_TIMEOUT:-180}" \
		--kernel "$build/umbra.elf" "$@" \
		>"$out/boot.out" 2>&1; then
		echo "boot failed or timed out: $(tail -n 1 "$out/boot.out")"
		return 1
	fi
	# CRs and GRUB's terminal escapes make grep patterns brittle.
	sed -e 's/\r//g' -e 's/\x1b\[[0-9;]*[a-zA-Z]//g' "$SERIAL" > "$out/console.txt"
	CONSOLE="$out/console.txt"
}

# expect REGEX [what]: the console has a line matching the extended regex.
expect() {
	if ! grep -qE -- "$1" "$CONSOLE"; then
		echo "expected '${2:-$1}' in the console output"
		return 1
	fi
}

# expect_not REGEX [what]: no line matches.
expect_not() {
	local line
	if line=$(grep -m1 -E -- "$1" "$CONSOLE"); then
		echo "unexpected '${2:-$1}' in the console output: $line"
		return 1
	fi
}

# expect_count N REGEX: exactly N lines match.
expect_count() {
	local n
	n=$(grep -cE -- "$2" "$CONSOLE")
	if [ "$n" -ne "$1" ]; then
		echo "expected $1 line(s) matching '$2', found $n"
		return 1
	fi
}

# The end of every good umbra run: a clean exit with the given status and no panic.
expect_clean_exit() {
	expect_not 'PANIC' || return 1
	# umbra's per-reason exit counts against its exit stub's own count (when stats=on).
	expect_not 'VM exits taken: MISMATCH' "exit counts that disagree with the exit stub" || return 1
	expect "^\[cpu0\] umbra: exit status=$1 " "umbra: exit status=$1" || return 1
}

run_system_test() {
	TEST_NAME=$1
	mkdir -p "$logs/$TEST_NAME"
	"test_$1"
}
