# SPDX-License-Identifier: BSD-2-Clause
# tools/fuzz_compare.py on small record streams: equal, diverging, missing, noise between lines.
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOL = os.path.join(ROOT, "tools", "fuzz_compare.py")

STREAM = """Bochs banner, not a record
S 1 view=abc
R 1.0 vmxon a=13ad000 r=0
R 1.1 vmread a=681e r=0 x=100
E 1 records=2 vmx=3
S 2 view=abc
R 2.0 vmxon a=13ad000 r=0
E 2 records=1 vmx=1
F seeds=2 steps=2 vmx_instructions=4
"""


def run(bare, umbra):
    with tempfile.TemporaryDirectory() as d:
        b, u = os.path.join(d, "b"), os.path.join(d, "u")
        with open(b, "w") as f:
            f.write(bare)
        with open(u, "w") as f:
            f.write(umbra)
        p = subprocess.run([sys.executable, TOOL, b, u], capture_output=True, text=True)
        return p.returncode, p.stdout


class FuzzCompare(unittest.TestCase):
    def test_equal(self):
        rc, out = run(STREAM, STREAM.replace("Bochs banner", "other noise"))
        self.assertEqual(rc, 0)
        self.assertIn("COMPARE seeds=2 records=3 divergences=0 missing=0 vmx_instructions=4", out)

    def test_divergence_names_seed_step_and_both_records(self):
        rc, out = run(STREAM, STREAM.replace("R 1.1 vmread a=681e r=0 x=100", "R 1.1 vmread a=681e r=2 e=12"))
        self.assertEqual(rc, 1)
        self.assertIn("DIVERGENCE seed=1 step=1", out)
        self.assertIn("bare:  R 1.1 vmread a=681e r=0 x=100", out)
        self.assertIn("umbra: R 1.1 vmread a=681e r=2 e=12", out)
        self.assertIn("divergences=1 missing=0", out)

    def test_view_digest_differs(self):
        rc, out = run(STREAM, STREAM.replace("S 2 view=abc", "S 2 view=abd"))
        self.assertEqual(rc, 1)
        self.assertIn("DIVERGENCE seed=2 step=S", out)

    def test_stream_ending_early_is_missing(self):
        rc, out = run(STREAM, STREAM.split("S 2")[0])
        self.assertIn("divergences=0 missing=1", out)

    def test_no_records_is_an_error(self):
        rc, _ = run("nothing here\n", STREAM)
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()
