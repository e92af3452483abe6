# SPDX-License-Identifier: BSD-2-Clause
# Run the tool tests, one "PASS name" / "FAIL name: why" / "SKIP name: why" line per test case.
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class LineResult(unittest.TestResult):
    def name(self, test):
        return "tools." + test.id().split(".", 1)[-1]

    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"PASS {self.name(test)}", flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        why = str(err[1]).strip().splitlines()
        print(f"FAIL {self.name(test)}: {why[0] if why else 'failed'}", flush=True)
        print(self._exc_info_to_string(err, test), file=sys.stderr)

    def addError(self, test, err):
        super().addError(test, err)
        print(f"FAIL {self.name(test)}: {err[0].__name__}: {err[1]}", flush=True)
        print(self._exc_info_to_string(err, test), file=sys.stderr)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print(f"SKIP {self.name(test)}: {reason}", flush=True)


if __name__ == "__main__":
    suite = unittest.defaultTestLoader.discover(HERE, pattern="test_*.py")
    result = LineResult()
    suite.run(result)
    sys.exit(0 if result.wasSuccessful() else 1)
