# SPDX-License-Identifier: BSD-2-Clause
# Tests of tools/umbra-stat on serial logs recorded from real umbra boots (tests/tools/fixtures).
#
# Fixtures (tests/tools/README.md says how they were recorded):
#   nested_shadow_on.log   bench_nested, 50 round trips, shadowing on, trace=4096 (no wrap-around)
#   nested_shadow_off.log  bench_nested, 50 round trips, nested.shadow=off, trace=256 (wrapped)
#   bench.txt              tests/bench/run.sh output (BENCH lines and the table)

import contextlib
import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOL = os.path.join(ROOT, "tools", "umbra-stat")
FIX = os.path.join(HERE, "fixtures")
ON = os.path.join(FIX, "nested_shadow_on.log")
OFF = os.path.join(FIX, "nested_shadow_off.log")
BENCH = os.path.join(FIX, "bench.txt")
TABLE = os.path.join(ROOT, "nested", "shadow_fields.h")

loader = importlib.machinery.SourceFileLoader("umbra_stat", TOOL)
spec = importlib.util.spec_from_loader("umbra_stat", loader)
us = importlib.util.module_from_spec(spec)
loader.exec_module(us)

try:
    import matplotlib  # noqa: F401
    HAVE_MPL = True
except ImportError:
    HAVE_MPL = False


def run_tool(*args):
    """Run the tool in-process: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = us.main(list(args))
    return status, out.getvalue(), err.getvalue()


def png_size(path):
    """(width, height) from the PNG signature and IHDR chunk (PNG spec, 5.2 and 11.2.2)."""
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise AssertionError(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def lines(path):
    with open(path, "rb") as f:
        return f.read().decode().split("\n")


class Tmp(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="umbra-stat-test.")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, name, text_lines):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write("\n".join(text_lines))
        return path

    def assert_clean_error(self, path, *want):
        # A clear message naming the file (and line), exit status 2, never a traceback.
        status, out, err = run_tool("report", path)
        self.assertEqual(status, 2, err)
        self.assertNotIn("Traceback", err)
        self.assertTrue(err.startswith(f"umbra-stat: {path}"), err)
        for w in want:
            self.assertIn(w, err)
        return err


class Parse(unittest.TestCase):
    def test_shadow_on_counts(self):
        run = us.load(ON)
        self.assertTrue(run.have_stats)
        self.assertIs(run.shadow, True)
        self.assertEqual(run.cpus, 1)
        c = run.cpu[0]
        self.assertEqual(c["exits"], c["vm_exits"])
        self.assertEqual(c["exits"], c["l1_exits"] + c["l2_exits"])
        self.assertEqual(sum(e["exits"] for e in run.exits), c["exits"])
        self.assertEqual(c["reflected"], 51)  # 50 round trips and the final exit of L2
        self.assertEqual(run.bench["nested_cpuid.l0_exits_per_roundtrip.umbra"][0], 3.0)

    def test_trace_matches_stats_without_wrap(self):
        run = us.load(ON)
        t = run.trace[0]
        self.assertEqual(t["ring"]["lost"], 0)
        self.assertEqual(len(t["records"]), run.cpu[0]["exits"])
        # Per reason and level, the trace holds exactly the exits the statistics counted.
        counts = {}
        for r in t["records"].values():
            counts[(r["level"], r["reason"])] = counts.get((r["level"], r["reason"]), 0) + 1
        self.assertEqual(counts, {(e["level"], e["reason"]): e["exits"] for e in run.exits})
        reflected = sum(r["reflected"] for r in t["records"].values())
        self.assertEqual(reflected, run.cpu[0]["reflected"])

    def test_trace_wrapped_counts_lost(self):
        run = us.load(OFF)
        self.assertIs(run.shadow, False)
        t = run.trace[0]
        self.assertEqual(t["ring"]["size"], 256)
        self.assertEqual(len(t["records"]), 256)
        self.assertEqual(len(t["records"]) + t["ring"]["lost"], run.cpu[0]["exits"])
        self.assertEqual(min(t["records"]), t["ring"]["lost"])

    def test_trace_vmread_fields(self):
        # Shadowing off: the handler's VMREADs exit, and the trace names the field of each.
        run = us.load(OFF)
        fields = {r["field"] for r in run.trace[0]["records"].values() if r["reason"] == 23}
        self.assertIn(0x4402, fields)  # VM_EXIT_REASON
        self.assertNotIn(None, fields)
        others = {r["field"] for r in run.trace[0]["records"].values() if r["reason"] not in (23, 25)}
        self.assertEqual(others, {None})


class TwoDumps(Tmp):
    def test_hypercall_dump_then_shutdown(self):
        # A mid-run dump (UMBRA_HC_TRACE_DUMP) of a wrapped ring, then the shutdown dump: each
        # record counts once and lost = exits - distinct records.
        text = lines(OFF)
        first = next(i for i, l in enumerate(text) if "utrace v=1 rec=ring" in l)
        last = next(i for i, l in enumerate(text) if "utrace v=1 rec=end" in l)
        ring = text[first + 1:last]
        early = [l for l in ring[:-10]]
        header = text[first].replace("exits=870", "exits=860").replace("lost=614", "lost=604")
        early = [early[0].replace("seq=614", "seq=604")] + early  # one older record, gone since
        self.assertIn("exits=870", text[first])
        log = self.write("two.log", text[:first] + [header] + early[:256] + [text[last]] + text[first:])
        run = us.load(log)
        self.assertEqual(len(run.trace[0]["records"]), 257)
        status, out, _ = run_tool("report", log)
        self.assertEqual(status, 0)
        self.assertIn("trace: 257 records, 613 lost to wrap-around (ring of 256); records + lost = exits", out)


class Report(unittest.TestCase):
    def test_report_tables(self):
        status, out, _ = run_tool("report", ON)
        self.assertEqual(status, 0)
        self.assertIn("VMCS shadowing on", out)
        self.assertIn("51 reflected to L1, 0 handled by umbra", out)
        self.assertRegex(out, r"L2 CPUID +51 +100\.0%")
        self.assertIn("records + lost = exits counted", out)

    def test_report_fields(self):
        status, out, _ = run_tool("report", OFF)
        self.assertEqual(status, 0)
        self.assertRegex(out, r"VM_EXIT_REASON +0x4402 +51 +0 +1\.00")
        self.assertIn("256 records", out)

    def test_compare_on_off(self):
        status, out, _ = run_tool("compare", ON, OFF)
        self.assertEqual(status, 0)
        self.assertIn("A: " + ON + ": VMCS shadowing on", out)
        self.assertIn("B: " + OFF + ": VMCS shadowing off", out)
        self.assertRegex(out, r"L1 VMREAD +0 +408 +\+408")
        self.assertRegex(out, r"nested_cpuid.l0_exits_per_roundtrip.umbra +3 +14 +\+11.00")


class Suggest(Tmp):
    def table_without(self, *names, add=""):
        with open(TABLE) as f:
            text = f.read() + add
        for n in names:
            text = text.replace(f"SHADOW_FIELD_RW({n})\n", "").replace(f"SHADOW_FIELD_RO({n})\n", "")
        os.makedirs(os.path.join(self.tmp, "nested"), exist_ok=True)
        path = os.path.join(self.tmp, "nested", "shadow_fields.h")
        with open(path, "w") as f:
            f.write(text)
        shutil.copy(os.path.join(ROOT, "nested", "shadow.h"), os.path.join(self.tmp, "nested"))
        return path

    def test_nothing_to_add_with_current_table(self):
        status, out, _ = run_tool("suggest-shadow", OFF, "--table", TABLE)
        self.assertEqual(status, 0)
        self.assertIn("nothing to add", out)
        self.assertNotIn("SHADOW_FIELD_RW(", out)

    def test_removed_fields_come_back_typed(self):
        table = self.table_without("GUEST_RIP", "VM_EXIT_REASON")
        status, out, _ = run_tool("suggest-shadow", OFF, "--table", table)
        self.assertEqual(status, 0)
        # GUEST_RIP is guest state: read-write; VM_EXIT_REASON is exit information: read-only.
        self.assertRegex(out, r"(?m)^SHADOW_FIELD_RW\(GUEST_RIP\) /\* 2\.02 exits per round trip saved")
        self.assertRegex(out, r"(?m)^SHADOW_FIELD_RO\(VM_EXIT_REASON\) /\* 1\.00 exits per round trip saved")

    def test_never_shadow_rule(self):
        table = self.table_without("GUEST_RIP")
        status, out, _ = run_tool("suggest-shadow", OFF, "--table", table, "--min", "0")
        self.assertEqual(status, 0)
        self.assertNotRegex(out, r"SHADOW_FIELD_R[WO]\(VMCS_LINK_POINTER\)")
        self.assertIn("VMCS_LINK_POINTER: never shadowed", out)
        self.assertRegex(out, r"SHADOW_FIELD_RW\(HOST_CR3\) /\* 0\.02")

    def test_shadowed_field_still_trapped(self):
        # A field in the table that the run (built from another table) still trapped: reported, not suggested.
        table = self.table_without(add="SHADOW_FIELD_RW(HOST_CR3)\n")
        status, out, _ = run_tool("suggest-shadow", ON, "--table", table, "--min", "0")
        self.assertEqual(status, 0)
        self.assertIn("HOST_CR3: already SHADOW_FIELD_RW, still trapped (0 VMREAD, 1 VMWRITE exits)", out)
        self.assertNotIn("SHADOW_FIELD_RW(HOST_CR3)", out)
        self.assertIn("SHADOW_FIELD_RW(HOST_CR0) /* 0.02", out)


@unittest.skipUnless(HAVE_MPL, "python3-matplotlib is not installed")
class Plot(Tmp):
    def check_png(self, path, width, min_height):
        self.assertTrue(os.path.isfile(path), path)
        self.assertGreater(os.path.getsize(path), 5000, path)
        w, h = png_size(path)
        self.assertEqual(w, width, path)
        self.assertGreaterEqual(h, min_height, path)

    def test_plot_with_trace(self):
        status, out, _ = run_tool("plot", ON, "-o", self.tmp)
        self.assertEqual(status, 0)
        for name in ("exits_by_reason", "fields", "cycles_histogram", "timeline"):
            self.check_png(os.path.join(self.tmp, name + ".png"), 1000, 300)
            self.assertIn(name + ".png", out)
        self.assertEqual(png_size(os.path.join(self.tmp, "exits_by_reason.png")), (1000, 500))

    def test_plot_without_trace(self):
        log = self.write("notrace.log", [l for l in lines(ON) if "utrace" not in l])
        out_dir = os.path.join(self.tmp, "charts")
        status, _, err = run_tool("plot", log, "-o", out_dir)
        self.assertEqual(status, 0)
        self.assertEqual(sorted(os.listdir(out_dir)), ["exits_by_reason.png", "fields.png"])
        self.assertIn("no exit trace", err)

    def test_bench(self):
        status, _, _ = run_tool("bench", BENCH, "-o", self.tmp)
        self.assertEqual(status, 0)
        with open(os.path.join(self.tmp, "bench.json")) as f:
            data = json.load(f)
        self.assertEqual(data["format"], "umbra-bench")
        self.assertIn("nested_cpuid.l0_exits_per_roundtrip.shadow_on", data["figures"])
        with open(os.path.join(self.tmp, "bench.md")) as f:
            md = f.read()
        self.assertIn("| figure |", md)
        self.assertRegex(md, r"\| nested_cpuid.l0_exits_per_roundtrip \|.*\| exits \|")
        w, h = png_size(os.path.join(self.tmp, "bench.png"))
        self.assertGreaterEqual(w, 600)
        self.assertGreaterEqual(h, 400)


class Errors(Tmp):
    def test_truncated_in_stats(self):
        text = lines(ON)
        cut = next(i for i, l in enumerate(text) if "rec=field" in l)
        log = self.write("cut.log", text[:cut + 3])
        err = self.assert_clean_error(log, "truncated log", "ustat block begun at line")

    def test_truncated_in_trace(self):
        text = lines(ON)
        cut = next(i for i, l in enumerate(text) if "rec=exit" in l and "utrace" in l)
        log = self.write("cut.log", text[:cut + 10])
        self.assert_clean_error(log, "utrace ring of cpu0", "truncated log")

    def test_truncated_mid_line(self):
        text = lines(ON)
        i = next(i for i, l in enumerate(text) if "ustat v=1 rec=cpu" in l)
        text[i] = text[i][:40]
        log = self.write("cut.log", text[:i + 1])
        self.assert_clean_error(log, f":{i + 1}:", "lacks")

    def test_bad_number(self):
        text = lines(ON)
        i = next(i for i, l in enumerate(text) if "ustat v=1 rec=exit" in l)
        text[i] = text[i].replace("exits=", "exits=lots")
        log = self.write("bad.log", text)
        self.assert_clean_error(log, f":{i + 1}:", "is not a number")

    def test_not_key_value(self):
        text = lines(OFF)
        i = next(i for i, l in enumerate(text) if "utrace v=1 rec=exit" in l)
        text[i] += " garbage"
        log = self.write("bad.log", text)
        self.assert_clean_error(log, f":{i + 1}:", "'garbage' is not key=value")

    def test_unknown_version(self):
        text = [l.replace("ustat v=1 ", "ustat v=2 ") for l in lines(ON)]
        log = self.write("v2.log", text)
        self.assert_clean_error(log, "version 2 is not supported")

    def test_no_statistics(self):
        log = self.write("empty.log", ["[cpu0] umbra 0.1: nested-VMX microhypervisor"])
        self.assert_clean_error(log, "no ustat records")

    def test_missing_file(self):
        self.assert_clean_error(os.path.join(self.tmp, "absent.log"), "No such file")

    def test_bad_bench_line(self):
        path = self.write("bench.txt", ["BENCH a.b.c 1.0 cycles", "BENCH broken"])
        status, _, err = run_tool("bench", path, "-o", self.tmp)
        self.assertEqual(status, 2)
        self.assertIn(f"{path}:2: malformed BENCH line", err)
        self.assertNotIn("Traceback", err)

    def test_command_line_subprocess(self):
        # The installed script itself: no traceback on a bad log, status 2.
        path = self.write("bad.log", ["ustat v=1 rec=begin cpus=1 trace=0"])
        p = subprocess.run([sys.executable, TOOL, "report", path], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("truncated log", p.stderr)
        self.assertNotIn("Traceback", p.stderr)


if __name__ == "__main__":
    unittest.main()
