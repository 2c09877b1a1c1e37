"""The short run of jepsen/run against a real Tardigrade cluster that
`make test` includes: 3 nodes, list-append, partitions and kills in turn,
60 seconds. It must be valid, its history must show both faults and a
final read, and nothing of the cluster (namespaces, bridge, stores) may
remain afterwards.

Network namespaces need root: without root (or without the node binary)
it exits 77, which ctest reports as skipped. Results go under
$TD_JEPSEN_RESULTS when set, else into a temporary directory removed
afterwards.

  /usr/bin/python3 -m tests.tardigrade_smoke      (from jepsen/)
"""

import fcntl
import json
import os
import subprocess
import sys
import tempfile
import unittest

from tdjepsen.db import netns, tardigrade

JEPSEN = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
SECONDS = 60
SKIPPED = 77


class TardigradeSmoke(unittest.TestCase):
    def setUp(self):
        base = os.environ.get("TD_JEPSEN_RESULTS")
        if base:
            os.makedirs(base, exist_ok=True)
            self.results = tempfile.mkdtemp(prefix="tardigrade_smoke-", dir=base)
        else:
            self.results = tempfile.mkdtemp(prefix="tdjepsen-smoke-")
            self.addCleanup(subprocess.run, ["rm", "-rf", self.results])

    def test_append_under_partition_and_kill_is_valid(self):
        argv = [sys.executable, os.path.join(JEPSEN, "run"), "--db", "tardigrade", "--workload", "append"]
        argv += ["--nemesis", "partition,kill", "--time", str(SECONDS), "--nodes", "3", "--concurrency", "6"]
        done = subprocess.run(argv + ["--results", self.results], capture_output=True, text=True, timeout=SECONDS + 300)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        (run_dir,) = [os.path.join(self.results, d) for d in os.listdir(self.results)]
        with open(os.path.join(run_dir, "history.jsonl"), encoding="utf-8") as stream:
            events = [json.loads(line) for line in stream]
        faults = {e["f"] for e in events if e["process"] == "nemesis" and e["type"] == "info"}
        self.assertTrue({"start-partition", "stop-partition", "start-kill", "stop-kill"} <= faults, faults)
        self.assertEqual(events[-1]["type"], "ok", "the final read failed")
        for i in (1, 2, 3):
            self.assertTrue(os.path.getsize(os.path.join(run_dir, f"node{i}", "tardigrade.log")) > 0)
            self.assertFalse(os.path.exists(os.path.join(run_dir, f"node{i}", "store")))
        # Under the run lock: another run (make jepsen) may start its network
        # the moment this one releases it.
        with open(netns.LOCK_PATH, "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
            self.assertNotIn(netns.namespace(1), namespaces.split())
            self.assertFalse(os.path.exists(f"/sys/class/net/{netns.BRIDGE}"))


def main():
    why = netns.available() or (None if os.access(tardigrade.binary(), os.X_OK) else "no tardigrade binary")
    if why:
        print(f"tardigrade_smoke: skipped: {why}")
        return SKIPPED
    program = unittest.main(module=__name__, exit=False, argv=sys.argv[:1])
    return 0 if program.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
