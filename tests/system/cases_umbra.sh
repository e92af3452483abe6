# SPDX-License-Identifier: BSD-2-Clause
# System tests of umbra as a hypervisor: its options and how it refuses bad guests.

SYSTEM_TESTS+=(
	umbra_stats_off
	umbra_trace_counts
	umbra_trace_wrap_2cpu
	umbra_stats_short_2cpu
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

# trace_vs_stats CONSOLE: per CPU, the exit trace (utrace records) against the statistics
# (ustat records). The last dump of each ring (at shutdown) saw every exit counted (exits=),
# holds min(exits, size) records and says lost = exits - records. Without wrap-around the
# records of all dumps (a record printed twice counts once, as last printed) also match the
# statistics per level and reason, and in the number of reflected exits. Prints what
# differs; status 1 then.
trace_vs_stats() {
	awk '
	function val(k,   i) { for (i = 1; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	$2 == "ustat" && $4 == "rec=cpu" { c = val("cpu"); cpus[c] = 1; exits[c] = val("exits"); refl[c] = val("reflected") }
	$2 == "ustat" && $4 == "rec=exit" { st[val("cpu") " " val("level") " " val("reason")] += val("exits") }
	$2 == "utrace" && $4 == "rec=ring" { c = val("cpu"); ring_exits[c] = val("exits"); ring_rec[c] = val("records"); lost[c] = val("lost"); size[c] = val("size"); cur[c] = 0 }
	$2 == "utrace" && $4 == "rec=exit" { c = val("cpu"); cur[c]++; k = c " " val("seq")
		if (k in lv) { tr[c " " lv[k]]--; trefl[c] -= rf[k] }
		lv[k] = val("level") " " val("reason"); rf[k] = val("reflected"); tr[c " " lv[k]]++; trefl[c] += rf[k] }
	END {
		bad = 0
		for (c in cpus) {
			want = exits[c] + 0 < size[c] + 0 ? exits[c] : size[c]
			if (ring_exits[c] != exits[c] || cur[c] != want || ring_rec[c] != cur[c] || lost[c] != exits[c] - cur[c]) {
				printf "cpu%s: %s exits counted; last dump saw %s, printed %d records (header says %s), %s lost\n", c, exits[c], ring_exits[c], cur[c], ring_rec[c], lost[c]
				bad = 1
			}
			if (lost[c] > 0)
				continue
			for (k in st) if (index(k, c " ") == 1 && st[k] != tr[k] + 0) { printf "cpu %s: %s stats exits, %d traced\n", k, st[k], tr[k]; bad = 1 }
			for (k in tr) if (index(k, c " ") == 1 && !(k in st) && tr[k] != 0) { printf "cpu %s: no stats exits, %d traced\n", k, tr[k]; bad = 1 }
			if (trefl[c] != refl[c]) { printf "cpu%s: %s reflected, %d traced as reflected\n", c, refl[c], trefl[c]; bad = 1 }
		}
		if (!length(cpus)) { print "no ustat records"; bad = 1 }
		exit bad
	}' "$1"
}

# trace=N: every exit of the nested benchmark is in the trace, as many per level and reason
# as the statistics count; the guest's UMBRA_HC_TRACE_DUMP prints the ring mid-run too;
# tools/umbra-stat reads the log; the human table stays short (top 10 fields and a total
# line) while the ustat records list every trapped field.
test_umbra_trace_counts() {
	local elf=$build/guests/vmx.elf human records
	boot --emu bochs --cpus 1 --cmdline "trace=4096" --module "$elf=test=bench_nested iterations=20" || return 1
	expect "${GUEST_LINE}TEST bench.roundtrips PASS" || return 1
	expect '^\[cpu0\] trace: 4096 exit records per CPU' || return 1
	expect "${GUEST_LINE}TEST umbra.trace_dump PASS" || return 1
	expect "${GUEST_LINE}INFO umbra: trace dump printed [1-9][0-9]* records" "records from the hypercall" || return 1
	expect_count 2 '^\[cpu0\] utrace v=1 rec=ring cpu=0 ' || return 1
	expect '^\[cpu0\] utrace v=1 rec=ring cpu=0 size=4096 exits=[1-9][0-9]* records=[1-9][0-9]* lost=0$' || return 1
	expect '^\[cpu0\] utrace v=1 rec=exit cpu=0 seq=[0-9]+ tsc=[0-9]+ level=L2 reason=10 .* reflected=1 done=1 ' \
		"a reflected L2 CPUID in the trace" || return 1
	expect '^\[cpu0\] utrace v=1 rec=exit cpu=0 .* level=L1 reason=25 .* field=0x[0-9a-f]+$' \
		"a VMWRITE with its field in the trace" || return 1
	trace_vs_stats "$CONSOLE" || return 1
	human=$(grep -cE '^\[cpu0\] stats: cpu0 field ' "$CONSOLE")
	records=$(grep -cE '^\[cpu0\] ustat v=1 rec=field cpu=0 ' "$CONSOLE")
	if [ "$human" -ne 10 ] || [ "$records" -le 10 ]; then
		echo "expected the top 10 fields in the table and every trapped field in records: $human, $records"
		return 1
	fi
	expect "^\[cpu0\] stats: cpu0 $records fields trapped, [0-9]+ VMREAD exits, [0-9]+ VMWRITE exits in all \(the top 10" || return 1
	"$root/tools/umbra-stat" report "$CONSOLE" >"$logs/$TEST_NAME/report.txt" 2>&1 || {
		echo "umbra-stat report failed: $(tail -n 1 "$logs/$TEST_NAME/report.txt")"
		return 1
	}
	grep -q 'records + lost = exits counted' "$logs/$TEST_NAME/report.txt" || {
		echo "umbra-stat report: trace and statistics disagree"
		return 1
	}
	expect_clean_exit 0
}

# A ring smaller than the run on two CPUs: each keeps its last N exits and counts the rest as
# lost; stats=full lists every trapped field in the table (added up over the CPUs), one line
# per field the ustat records name.
test_umbra_trace_wrap_2cpu() {
	local elf=$build/guests/vmx.elf c human records
	boot --emu bochs --cpus 2 --cmdline "trace=64 stats=full nested.shadow=off" \
		--module "$elf=test=smp_l2 cpus=2" || return 1
	expect "${GUEST_LINE}SUMMARY passed=[0-9]+ failed=0" || return 1
	for c in 0 1; do
		expect "^\[cpu0\] utrace v=1 rec=ring cpu=$c size=64 exits=[0-9]+ records=64 lost=[1-9][0-9]*$" \
			"a wrapped ring on CPU $c" || return 1
	done
	human=$(grep -cE '^\[cpu0\] stats: all CPUs field ' "$CONSOLE")
	records=$(sed -nE 's/^\[cpu0\] ustat v=1 rec=field cpu=[0-9]+ enc=0x[0-9a-f]+ name=([A-Z0-9_]+) .*/\1/p' \
		"$CONSOLE" | sort -u | wc -l)
	if [ "$human" -ne "$records" ] || [ "$human" -le 10 ]; then
		echo "stats=full: $human field lines for all CPUs, $records fields in the records"
		return 1
	fi
	expect "^\[cpu0\] stats: all CPUs $records fields trapped, [0-9]+ VMREAD exits, [0-9]+ VMWRITE exits in all$" || return 1
	expect_not '^\[cpu0\] stats: cpu[0-9]+ field ' "per-CPU field lines on two CPUs" || return 1
	trace_vs_stats "$CONSOLE" || return 1
	expect_clean_exit 0
}

# The summary of a two-CPU run fits on one screen: exits per CPU, then one field table.
test_umbra_stats_short_2cpu() {
	local lines
	boot --emu bochs --cpus 2 --module "$build/guests/vmx.elf=test=smp_l2 cpus=2" || return 1
	expect "${GUEST_LINE}SUMMARY passed=[0-9]+ failed=0" || return 1
	expect_count 10 '^\[cpu0\] stats: all CPUs field ' || return 1
	expect '^\[cpu0\] stats: all CPUs [0-9]+ fields trapped, .* \(the top 10 above' || return 1
	lines=$(awk '/ustat v=1 rec=end/ { p = 1; next } p' "$CONSOLE" | wc -l)
	if [ "$lines" -gt 50 ]; then
		echo "the summary after the records is $lines lines long (more than a screen)"
		return 1
	fi
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

# --- coverage builds (docs/coverage.md) ----------------------------------------------------

SYSTEM_TESTS+=(umbra_coverage_dump)

# A COVERAGE=1 umbra (make coverage runs the test; other builds skip it) prints its counters
# at shutdown to port 0xE9, Bochs's stdout: one complete dump that tools/umbra-gcov accepts,
# in which the VMXON emulation, the L2 exit path and the exit dispatcher ran.
test_umbra_coverage_dump() {
	if ! nm "$build/umbra.elf" 2>/dev/null | grep -w gcov_dump >/dev/null; then
		echo "$build/umbra.elf is not a COVERAGE=1 build (make coverage runs this test)"
		return 77
	fi
	boot --emu bochs --cpus 1 --module "$build/guests/vmx.elf" || return 1
	check_vmx_run || return 1
	expect '^\[cpu0\] gcov: dumping [1-9][0-9]* objects. counters to port 0xe9$' || return 1
	expect_clean_exit 0 || return 1
	"$root/tools/umbra-gcov" check --build "$build" --expect nested/insn.c:do_vmxon \
		--expect nested/reflect.c:nvmx_l2_exit --expect arch/x86/exit.c:exit_dispatch \
		"$logs/$TEST_NAME/emulator.log" >"$logs/$TEST_NAME/check.out" 2>&1 || {
		echo "umbra-gcov check: $(tail -n 1 "$logs/$TEST_NAME/check.out")"
		return 1
	}
}
