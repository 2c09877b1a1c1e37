"""The command-line contract other suites rely on: jepsen/check's exit
codes on history files, and jepsen/run refusing what it cannot run."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

from tdjepsen.history import FAIL

from .builder import Builder

JEPSEN = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def write_history(ops):
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    with os.fdopen(fd, "w") as stream:
        for op in ops:
            stream.write(json.dumps(op.to_json()) + "\n")
    return path


class Check(unittest.TestCase):
    def check(self, ops, *args):
        path = write_history(ops)
        self.addCleanup(os.unlink, path)
        argv = [sys.executable, os.path.join(JEPSEN, "check"), *args, path]
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    def test_valid_append_history_exits_0(self):
        b = Builder()
        b.txn(0, [["append", 1, 1]])
        b.txn(1, [["r", 1, [1]]])
        done = self.check(b.ops, "--workload", "append")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIs(json.loads(done.stdout)["valid"], True)

    def test_anomaly_exits_1_and_names_it(self):
        b = Builder()
        b.txn(0, [["append", 1, 1]], FAIL)
        b.txn(1, [["r", 1, [1]]])
        done = self.check(b.ops, "--workload", "append", "--model", "strict-serializable")
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertEqual(json.loads(done.stdout)["anomaly_types"], ["G1a"])

    def test_nothing_succeeded_exits_2(self):
        b = Builder()
        b.txn(0, [["append", 1, 1]], FAIL)
        self.assertEqual(self.check(b.ops, "--workload", "append").returncode, 2)

    def test_malformed_history_exits_3(self):
        b = Builder()
        b.complete(0, "ok", "txn", [])
        done = self.check(b.ops, "--workload", "append")
        self.assertEqual(done.returncode, 3)
        self.assertIn("completion without invocation", done.stderr)

    def test_bank_needs_total(self):
        b = Builder()
        b.call(0, "read", None, "ok", {"a": 10})
        self.assertEqual(self.check(b.ops, "--workload", "bank", "--total", "10").returncode, 0)
        self.assertNotEqual(self.check(b.ops, "--workload", "bank").returncode, 0)


class Run(unittest.TestCase):
    """Refusals happen before anything starts: exit 2, the reason on stderr."""

    def refuse(self, *args, env=None):
        argv = [sys.executable, os.path.join(JEPSEN, "run"), "--workload", "append", *args]
        with tempfile.TemporaryDirectory() as results:
            done = subprocess.run(argv + ["--results", results], capture_output=True, text=True, timeout=60, env=env)
            self.assertEqual(os.listdir(results), [])
        self.assertEqual(done.returncode, 2, done.stderr)
        return done.stderr

    def test_postgres_takes_no_faults(self):
        self.assertIn("takes no faults", self.refuse("--db", "postgres", "--nemesis", "kill"))

    def test_unknown_nemesis(self):
        self.assertIn("unknown nemesis 'netem'", self.refuse("--nemesis", "netem"))

    def test_tardigrade_without_binary(self):
        env = dict(os.environ, TARDIGRADE_BIN="/nonexistent/tardigrade")
        self.assertIn("--db tardigrade: ", self.refuse("--db", "tardigrade", env=env))


if __name__ == "__main__":
    unittest.main()
