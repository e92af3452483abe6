# SPDX-License-Identifier: BSD-2-Clause
# System test of the differential VMX fuzzer (tests/guests/fuzz, docs/fuzzing.md): a fixed
# short seed set bare on Bochs and under umbra, the record streams compared.
# Uses guest_elf, GUEST_LINE and boot_into from cases_guests.sh (sourced first).

SYSTEM_TESTS+=(
	fuzz_diff_1cpu
)

# The fixed set: FUZZ_TEST_SEEDS seeds from FUZZ_TEST_FIRST, FUZZ_TEST_STEPS steps each.
FUZZ_TEST_FIRST=1
FUZZ_TEST_SEEDS=40
FUZZ_TEST_STEPS=250

# check_fuzz_stream FILE: one S and one E line per seed, each seed ran all its steps (its E
# line says records=STEPS or more: the closing VMXOFF may add one), and the F line is there.
check_fuzz_stream() {
	local file=$1 s e short
	s=$(grep -c '^S [0-9]' "$file")
	e=$(grep -c '^E [0-9]' "$file")
	if [ "$s" != "$FUZZ_TEST_SEEDS" ] || [ "$e" != "$FUZZ_TEST_SEEDS" ]; then
		echo "$file: $s S lines and $e E lines, expected $FUZZ_TEST_SEEDS of each"
		return 1
	fi
	short=$(awk -v m="$FUZZ_TEST_STEPS" '/^E [0-9]/ { split($3, a, "="); if (a[2] + 0 < m) n++ }
		END { print n + 0 }' "$file")
	if [ "$short" != 0 ]; then
		echo "$file: $short seeds with fewer than $FUZZ_TEST_STEPS records"
		return 1
	fi
	grep -q "^F seeds=$FUZZ_TEST_SEEDS steps=$FUZZ_TEST_STEPS vmx_instructions=[1-9]" "$file" || {
		echo "$file: no F line with a non-zero vmx_instructions"
		return 1
	}
}

test_fuzz_diff_1cpu() {
	local elf args bare out n py=/usr/bin/python3
	[ -x "$py" ] || py=python3
	elf=$(guest_elf fuzz 2>&1) || { echo "$elf"; return 1; }
	args="seed=$FUZZ_TEST_FIRST seeds=$FUZZ_TEST_SEEDS steps=$FUZZ_TEST_STEPS"
	boot_into bare boot --emu bochs --cpus 1 --kernel "$elf" --cmdline "$args" || return 1
	expect "${GUEST_LINE}INFO fuzz: seed=$FUZZ_TEST_FIRST seeds=$FUZZ_TEST_SEEDS steps=$FUZZ_TEST_STEPS undefined=0, records on port 0xe9\$" \
		"the fuzz guest writing records to port 0xe9" || return 1
	expect_not 'PANIC' || return 1
	bare="$logs/$TEST_NAME/bare/emulator.log"
	check_fuzz_stream "$bare" || return 1
	boot_into umbra boot --emu bochs --cpus 1 --module "$elf=$args" || return 1
	expect_not 'PANIC|guest stopped' || return 1
	check_fuzz_stream "$logs/$TEST_NAME/umbra/emulator.log" || return 1
	out=$("$py" "$root/tools/fuzz_compare.py" "$bare" "$logs/$TEST_NAME/umbra/emulator.log")
	n=$(grep -c '^R ' "$bare")
	if ! grep -q "^COMPARE seeds=$FUZZ_TEST_SEEDS records=$n divergences=0 missing=0 " <<<"$out"; then
		echo "records differ: $(head -n 3 <<<"$out" | tr '\n' ' ')"
		return 1
	fi
}
