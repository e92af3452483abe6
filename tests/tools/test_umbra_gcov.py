# SPDX-License-Identifier: BSD-2-Clause
# Tests of tools/umbra-gcov and core/gcov.c: the dump of umbra's gcov runtime, summed into .gcda
# files, must be byte for byte what gcc's own libgcov writes for the same program and runs.
#
# fixtures/gcov_prog.c is compiled once with gcc's coverage flags (as COVERAGE=1 compiles umbra);
# linked with libgcov it writes the reference .gcda, linked with core/gcov.c (built for the host,
# UMBRA_HOST_TEST) it prints the dump that umbra prints at shutdown.

import importlib.machinery
import importlib.util
import io
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOL = os.path.join(ROOT, "tools", "umbra-gcov")
FIX = os.path.join(HERE, "fixtures")

loader = importlib.machinery.SourceFileLoader("umbra_gcov", TOOL)
spec = importlib.util.spec_from_loader("umbra_gcov", loader)
ug = importlib.util.module_from_spec(spec)
loader.exec_module(ug)

# The flags of COVERAGE=1 (Makefile).
COVERAGE_FLAGS = ["-fprofile-arcs", "-ftest-coverage", "-fprofile-update=atomic"]


def gcc_major():
    try:
        r = subprocess.run(["gcc", "-dumpversion"], capture_output=True, text=True)
    except FileNotFoundError:
        return None
    return int(r.stdout.split(".")[0]) if r.returncode == 0 else None


HAVE_GCC12 = gcc_major() == 12 and shutil.which("gcov") is not None


def run(cmd, cwd):
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed: {r.stderr.strip()}")
    return r.stdout


@unittest.skipUnless(HAVE_GCC12, "needs gcc 12 and gcov (core/gcov.c knows gcc 12's layout only)")
class AgainstLibgcov(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="umbra-gcov-test.")
        t = cls.tmp
        run(["gcc", "-O2", *COVERAGE_FLAGS, "-c", os.path.join(FIX, "gcov_prog.c"), "-o", "prog.o"], t)
        run(["gcc", "-O2", "-c", os.path.join(FIX, "gcov_main.c"), "-o", "main_libgcov.o"], t)
        run(["gcc", "-O2", "-DWITH_UMBRA_GCOV", "-DUMBRA_COVERAGE", "-I", ROOT, "-c",
             os.path.join(FIX, "gcov_main.c"), "-o", "main_umbra.o"], t)
        run(["gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-DUMBRA_HOST_TEST", "-DUMBRA_COVERAGE",
             "-I", ROOT, "-c", os.path.join(ROOT, "core", "gcov.c"), "-o", "gcov.o"], t)
        run(["gcc", "--coverage", "prog.o", "main_libgcov.o", "-o", "with_libgcov"], t)
        run(["gcc", "prog.o", "main_umbra.o", "gcov.o", "-o", "with_umbra"], t)
        cls.gcda = os.path.join(t, "prog.gcda")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def libgcov_gcda(self, args):
        """The .gcda libgcov leaves after running the program once per argument (it merges runs)."""
        if os.path.exists(self.gcda):
            os.unlink(self.gcda)
        for a in args:
            run(["./with_libgcov", str(a)], self.tmp)
        with open(self.gcda, "rb") as f:
            data = f.read()
        os.unlink(self.gcda)
        return data

    def umbra_dumps(self, args):
        """core/gcov.c's dump of each run, as a log file."""
        log = os.path.join(self.tmp, "dumps.log")
        with open(log, "w") as f:
            for a in args:
                f.write(run(["./with_umbra", str(a)], self.tmp))
        return log

    def merged_gcda(self, log):
        out = io.StringIO()
        merged, n, errors = ug.merge([log], out=out)
        self.assertEqual(errors, [])
        with open(self.gcda, "rb") as f:
            data = f.read()
        return merged, n, data

    def test_one_run_matches_libgcov(self):
        want = self.libgcov_gcda([7])
        _, n, got = self.merged_gcda(self.umbra_dumps([7]))
        self.assertEqual(n, 1)
        self.assertEqual(got, want)

    def test_runs_summed_as_libgcov_merges_them(self):
        want = self.libgcov_gcda([7, 20, 0])
        merged, n, got = self.merged_gcda(self.umbra_dumps([7, 20, 0]))
        self.assertEqual(n, 3)
        self.assertEqual(merged.objects[self.gcda]["runs"], 3)
        self.assertEqual(got, want)

    def test_gcov_reads_the_counts(self):
        self.merged_gcda(self.umbra_dumps([5, 5]))
        docs = ug.gcov_json(self.gcda, self.tmp)
        lines = {ln["line_number"]: ln["count"] for f in docs[0]["files"] for ln in f["lines"]}
        with open(os.path.join(FIX, "gcov_prog.c")) as f:
            neg = next(i for i, line in enumerate(f, 1) if "L_NEGATIVE" in line)
        self.assertEqual(lines[neg], 4)  # i = -2, -1 in each of the two runs
        funcs = {fn["name"]: fn["execution_count"] for f in docs[0]["files"] for fn in f["functions"]}
        self.assertEqual(funcs["prog_never"], 0)
        self.assertEqual(funcs["prog_classify"], 2 * 7)

    def test_dump_reports_no_refused_objects(self):
        with open(self.umbra_dumps([1])) as f:
            begin = next(line for line in f if line.startswith("GCOV begin"))
        self.assertIn(" objects=1 rejected=0", begin)
        self.assertIn(" gcc=%x" % (0x4232 << 8 | ord("0") + int(subprocess.run(
            ["gcc", "-dumpfullversion"], capture_output=True, text=True).stdout.split(".")[1])), begin)


def make_dump(objects, fnv=None, rejected=0):
    """A dump as core/gcov.c prints it: objects = [(file, stamp, [(ident, [values]) or None])]."""
    lines = [f"GCOV begin v=1 gcc=423232 objects={len(objects):x} rejected={rejected:x}"]
    n_fn = n_ctr = 0
    for name, stamp, fns in objects:
        lines.append(f"GCOV o version=4232322a stamp={stamp:x} checksum=1234 functions={len(fns):x} file={name}")
        for fn in fns:
            n_fn += 1
            if fn is None:
                lines.append("GCOV f -")
                continue
            ident, vals = fn
            toks, zeros = [], 0
            for v in vals + [1]:
                if v == 0:
                    zeros += 1
                    continue
                if zeros:
                    toks.append("0" if zeros == 1 else f"z{zeros:x}")
                zeros = 0
                toks.append(f"{v:x}")
            toks.pop()
            lines.append(f"GCOV f {ident:x} aa bb {len(vals):x} " + " ".join(toks))
            n_ctr += len(vals)
    body = "".join(line + "\n" for line in lines)
    h = ug.fnv1a(body.encode()) if fnv is None else fnv
    return body + f"GCOV end objects={len(objects):x} functions={n_fn:x} counters={n_ctr:x} fnv={h:x}\n"


class DumpFormat(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="umbra-gcov-test.")
        self.obj = os.path.join(self.tmp, "a.c.gcda")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self, text, name="emulator.log"):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def one(self, text):
        return ug.read_dumps(self.log(text))

    def test_zero_runs_and_wide_counters(self):
        big = (1 << 40) + 5
        dumps, errors = self.one(make_dump([(self.obj, 7, [(1, [0, 0, 0, big, 0, 2, 0]), None])]))
        self.assertEqual(errors, [])
        fn = dumps[0][self.obj]["functions"]
        self.assertEqual(fn[0][3], [0, 0, 0, big, 0, 2, 0])
        self.assertIsNone(fn[1])
        m = ug.Merged()
        m.add(dumps[0])
        data = ug.gcda_bytes(m.objects[self.obj])
        words = struct.unpack(f"<{len(data) // 4}I", data)
        self.assertEqual(words[:8], (ug.GCOV_DATA_MAGIC, 0x4232322A, 7, 0x1234,
                                     ug.GCOV_TAG_OBJECT_SUMMARY, 8, 1, (big & 0xFFFFFFFF)))
        self.assertEqual(words[8:16], (ug.GCOV_TAG_FUNCTION, 12, 1, 0xAA, 0xBB, ug.GCOV_TAG_ARCS_COUNTER, 56, 0))
        self.assertEqual(words[21:23], (5, 1 << 8))  # the 4th counter, low then high word
        self.assertEqual(words[-3:], (ug.GCOV_TAG_FUNCTION, 0, 0))  # the empty record, end of file

    def test_all_zero_function_has_negative_length(self):
        dumps, _ = self.one(make_dump([(self.obj, 7, [(1, [0, 0, 0])])]))
        m = ug.Merged()
        m.add(dumps[0])
        words = struct.unpack("<16I", ug.gcda_bytes(m.objects[self.obj]))
        self.assertEqual(words[-3:], (ug.GCOV_TAG_ARCS_COUNTER, (-24) & 0xFFFFFFFF, 0))

    def test_sum_over_dumps(self):
        text = make_dump([(self.obj, 7, [(1, [1, 0, 3])])]) + "noise\n" + make_dump([(self.obj, 7, [(1, [0, 5, 4])])])
        dumps, errors = self.one(text)
        self.assertEqual((len(dumps), errors), (2, []))
        m = ug.Merged()
        for d in dumps:
            m.add(d)
        o = m.objects[self.obj]
        self.assertEqual(o["functions"][0][3], [1, 5, 7])
        self.assertEqual((o["runs"], o["sum_max"]), (2, 3 + 5))

    def test_garbled_dump_refused(self):
        text = make_dump([(self.obj, 7, [(1, [1, 2, 3])])]).replace(" 1 2 3", " 1 2 4")
        dumps, errors = self.one(text)
        self.assertEqual(dumps, [])
        self.assertIn("hash mismatch", errors[0])

    def test_cut_short_refused(self):
        text = make_dump([(self.obj, 7, [(1, [1, 2, 3])])])
        dumps, errors = self.one(text.rsplit("GCOV end", 1)[0])
        self.assertEqual(dumps, [])
        self.assertIn("cut short", errors[0])
        dumps, errors = self.one(text.rsplit("GCOV end", 1)[0] + text)
        self.assertEqual(len(dumps), 1)
        self.assertIn("cut short", errors[0])

    def test_wrong_counter_number_refused(self):
        text = make_dump([(self.obj, 7, [(1, [1, 2, 3])])])
        body, end = text.rsplit("GCOV end", 1)
        body = body.replace("bb 3 ", "bb 4 ")
        text = body + f"GCOV end objects=1 functions=1 counters=4 fnv={ug.fnv1a(body.encode()):x}\n"
        dumps, errors = self.one(text)
        self.assertEqual(dumps, [])
        self.assertIn("3 counters where the record says 4", errors[0])

    def test_refused_objects_fail_the_dump(self):
        _, errors = self.one(make_dump([(self.obj, 7, [(1, [1])])], rejected=2))
        self.assertIn("refused some objects", errors[0])

    def test_other_format_version_refused(self):
        _, errors = self.one(make_dump([(self.obj, 7, [(1, [1])])]).replace("begin v=1", "begin v=2", 1))
        self.assertIn("format v=2", errors[0])

    def test_builds_not_mixed(self):
        m = ug.Merged()
        m.add(self.one(make_dump([(self.obj, 7, [(1, [1])])]))[0][0])
        with self.assertRaisesRegex(ug.DumpError, "different builds"):
            m.add(self.one(make_dump([(self.obj, 8, [(1, [1])])]))[0][0])

    def test_merge_walks_directories_and_counts(self):
        os.makedirs(os.path.join(self.tmp, "t1", "bare"))
        self.log(make_dump([(self.obj, 7, [(1, [2])])]), "t1/emulator.log")
        self.log("no dump here\n", "t1/bare/emulator.log")
        out = io.StringIO()
        merged, n, errors = ug.merge([self.tmp], out=out)
        self.assertEqual((n, errors), (1, []))
        self.assertIn("1 dumps in 2 log files (1 without a dump, 0 bad), 1 .gcda files", out.getvalue())
        self.assertTrue(os.path.exists(self.obj))

    def test_dumps_checked_against_the_build(self):
        kernel = os.path.join(self.tmp, "kernel")
        os.makedirs(kernel)
        obj = os.path.join(kernel, "a.c.gcda")
        with open(os.path.join(kernel, "a.c.gcno"), "wb") as f:
            f.write(struct.pack("<3I", ug.GCOV_NOTE_MAGIC, 0x4232322A, 7))
        log = self.log(make_dump([(obj, 7, [(1, [2])])]), "same.log")
        _, n, errors = ug.merge([log], out=io.StringIO(), build=self.tmp)
        self.assertEqual((n, errors), (1, []))
        log = self.log(make_dump([(obj, 8, [(1, [2])])]), "rebuilt.log")
        with self.assertRaisesRegex(ug.DumpError, "stamps differ"):
            ug.merge([log], out=io.StringIO(), build=self.tmp)
        log = self.log(make_dump([(self.obj, 7, [(1, [2])])]), "elsewhere.log")
        with self.assertRaisesRegex(ug.DumpError, "another build directory"):
            ug.merge([log], out=io.StringIO(), build=self.tmp)

    def test_uncovered_ranges_span_non_code_lines(self):
        e = {"lines": {1: 0, 2: 0, 4: 0, 5: 3, 7: 0, 9: 0, 10: 1}}
        self.assertEqual(ug.uncovered_ranges(e), [(1, 4), (7, 9)])


if __name__ == "__main__":
    unittest.main()
