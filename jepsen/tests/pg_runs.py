"""End-to-end runs of jepsen/run against a real PostgreSQL 15 server.

Not collected by `unittest discover` (which picks test_*.py): each case
starts a server and loads it for seconds, so ctest registers them one by
one. Results go under $TD_JEPSEN_RESULTS when set (ctest points it into
the build tree), else into a temporary directory removed afterwards.

  /usr/bin/python3 -m unittest tests.pg_runs.PostgresRuns.test_append_serializable_is_valid
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

JEPSEN = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


class PostgresRuns(unittest.TestCase):
    def setUp(self):
        base = os.environ.get("TD_JEPSEN_RESULTS")
        if base:
            os.makedirs(base, exist_ok=True)
            self.results = tempfile.mkdtemp(prefix=self.id().rsplit(".", 1)[1] + "-", dir=base)
        else:
            self.results = tempfile.mkdtemp(prefix="tdjepsen-test-")
            self.addCleanup(subprocess.run, ["rm", "-rf", self.results])

    def run_jepsen(self, workload, isolation, seconds, expected_exit):
        """Runs one test and returns its results.json, asserting the exit
        code and the files every results directory has."""
        argv = [sys.executable, os.path.join(JEPSEN, "run"), "--workload", workload, "--db", "postgres"]
        argv += ["--isolation", isolation, "--nemesis", "none", "--time", str(seconds)]
        argv += ["--nodes", "1", "--concurrency", "6", "--results", self.results]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
        self.assertEqual(done.returncode, expected_exit, done.stdout + done.stderr)
        (run_dir,) = os.listdir(self.results)
        run_dir = os.path.join(self.results, run_dir)
        for name in ("test.json", "history.jsonl", "summary.txt", "node1/postgresql.log"):
            self.assertTrue(os.path.exists(os.path.join(run_dir, name)), name)
        with open(os.path.join(run_dir, "results.json"), encoding="utf-8") as stream:
            return json.load(stream)

    def test_append_serializable_is_valid(self):
        result = self.run_jepsen("append", "serializable", 10, 0)
        self.assertEqual(result["checked"], {"serializable": True, "strict-serializable": True})
        self.assertGreater(result["txns"]["ok"], 100)

    def test_append_read_committed_shows_anomalies(self):
        result = self.run_jepsen("append", "read-committed", 10, 1)
        self.assertIs(result["checked"]["serializable"], False)
        self.assertTrue({"G2", "lost-update"} & set(result["anomaly_types"]), result["anomaly_types"])

    def test_bank_serializable_is_valid(self):
        result = self.run_jepsen("bank", "serializable", 10, 0)
        self.assertGreater(result["reads"], 10)

    def test_bank_read_committed_loses_money(self):
        result = self.run_jepsen("bank", "read-committed", 5, 1)
        self.assertIn("wrong-total", result["anomaly_types"])

    def test_register_serializable_is_linearizable(self):
        result = self.run_jepsen("register", "serializable", 5, 0)
        self.assertGreater(result["ops"]["ok"], 100)

    def test_set_serializable_loses_nothing(self):
        result = self.run_jepsen("set", "serializable", 5, 0)
        self.assertGreater(result["acknowledged"], 100)


if __name__ == "__main__":
    unittest.main()
