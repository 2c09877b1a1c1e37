#!/usr/bin/python3
"""tools/cluster against fake nodes (fake_node.py): ports, flags, saved
options, start/stop/status/kill/restart/init, adding nodes, exit codes.

Each fake node serves real SQL through the single-node binary, so the
psql lines tools/cluster prints are checked by connecting with them.
TD_REAL_TARDIGRADE (default build/tardigrade) is that binary; exit 77 without it.
"""

import json
import os
import subprocess
import sys
import tempfile
import shutil
import unittest

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLUSTER = os.path.join(ROOT, "tools", "cluster")
REAL = os.environ.get("TD_REAL_TARDIGRADE", os.path.join(ROOT, "build", "tardigrade"))
PORT_BASE = 27650
SKIP = 77


def running(pid):
    """Whether pid runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class ClusterScriptTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="td-cluster-script-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.env = dict(os.environ, TARDIGRADE_BIN=os.path.join(HERE, "fake_node.py"), TD_REAL_TARDIGRADE=REAL)
        self.addCleanup(self.cluster, "stop")

    def cluster(self, *args, dir=None, env=None):
        argv = [CLUSTER, *args, "--dir", dir or self.dir, "--port-base", str(PORT_BASE)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=180, env=env or self.env)

    def ok(self, *args):
        done = self.cluster(*args)
        self.assertEqual(done.returncode, 0, done.stderr)
        return done.stdout

    def pid(self, i):
        with open(os.path.join(self.dir, f"node{i}.pid")) as f:
            return int(f.read())

    def argv(self, i):
        with open(os.path.join(self.dir, f"node{i}", "argv.json")) as f:
            return json.load(f)

    def state(self):
        with open(os.path.join(self.dir, "cluster.json")) as f:
            return json.load(f)

    def status(self):
        rows = [line.split() for line in self.ok("status").splitlines()[1:]]
        return {int(r[0]): (r[2], r[3]) for r in rows}

    def test_lifecycle(self):
        out = self.ok("start", "--raft-log-limit", "20")
        for i in (1, 2, 3):
            url = f"postgresql://root@127.0.0.1:{PORT_BASE + i}/defaultdb?sslmode=disable"
            self.assertIn(f'node {i}: psql "{url}"', out)
            conn = psycopg2.connect(url)
            conn.close()
            self.assertEqual(self.argv(i), [
                "start", "--store", os.path.join(self.dir, f"node{i}"),
                "--listen", f"127.0.0.1:{PORT_BASE + 100 + i}", "--sql-listen", f"127.0.0.1:{PORT_BASE + i}",
                "--http-listen", f"127.0.0.1:{PORT_BASE + 200 + i}",
                "--join", ",".join(f"127.0.0.1:{PORT_BASE + 100 + j}" for j in (1, 2, 3)),
                "--insecure", "--raft-log-limit", "20"])
        self.assertEqual(self.state(), {"initialized": True, "nodes": 3, "port_base": PORT_BASE,
                                        "raft_log_limit": 20})
        self.assertEqual(self.status(), {i: ("yes", "yes") for i in (1, 2, 3)})

        pid2 = self.pid(2)
        self.ok("kill", "2")
        self.assertFalse(running(pid2))
        self.assertEqual(self.status()[2], ("no", "no"))
        done = self.cluster("kill", "2")
        self.assertEqual((done.returncode, done.stderr), (1, "cluster: node 2 is not running\n"))

        # restart reuses the saved options.
        self.assertIn("node 2: psql", self.ok("restart", "2"))
        self.assertNotEqual(self.pid(2), pid2)
        self.assertEqual(self.argv(2)[-2:], ["--raft-log-limit", "20"])
        self.assertEqual(self.status()[2], ("yes", "yes"))

        # Growing: only nodes 4 and 5 start, no second init.
        pids = [self.pid(i) for i in (1, 2, 3)]
        out = self.ok("start", "--nodes", "5")
        self.assertEqual([self.pid(i) for i in (1, 2, 3)], pids)
        self.assertEqual(len(out.splitlines()), 5)
        self.assertEqual(self.argv(5)[self.argv(5).index("--join") + 1],
                         ",".join(f"127.0.0.1:{PORT_BASE + 100 + j}" for j in (1, 2, 3)))
        self.assertEqual(self.state()["nodes"], 5)
        self.assertEqual(self.status(), {i: ("yes", "yes") for i in range(1, 6)})

        # A second explicit init reaches node 1 and is told the cluster exists.
        done = self.cluster("init")
        self.assertEqual((done.returncode, done.stderr),
                         (1, "cluster: tardigrade init failed: tardigrade init: cluster is already initialized\n"))

        self.assertEqual(self.ok("stop"), "cluster: stopped 5 node(s)\n")
        self.assertEqual(self.status(), {i: ("no", "no") for i in range(1, 6)})
        self.assertFalse([f for f in os.listdir(self.dir) if f.endswith(".pid")])

    def test_node_that_dies_at_startup(self):
        broken = os.path.join(self.dir, "broken.sh")
        with open(broken, "w") as f:
            f.write("#!/bin/sh\necho 'cannot listen on 127.0.0.1:1: boom' >&2\nexit 1\n")
        os.chmod(broken, 0o755)
        done = self.cluster("start", "--nodes", "1", env=dict(self.env, TARDIGRADE_BIN=broken))
        self.assertEqual(done.returncode, 1)
        self.assertIn("cluster: node 1 exited before it was answering HTTP", done.stderr)
        self.assertIn("boom", done.stderr)

    def test_usage_and_missing_cluster(self):
        for args in (["bogus"], ["kill"], ["kill", "x"], ["start", "--nodes", "0"]):
            with self.subTest(args=args):
                self.assertEqual(self.cluster(*args).returncode, 2)
        empty = os.path.join(self.dir, "nothing")
        done = self.cluster("status", dir=empty)
        self.assertEqual(done.returncode, 1)
        self.assertIn(f"cluster: no cluster in {empty}", done.stderr)
        self.ok("start", "--nodes", "1")
        done = self.cluster("restart", "4")
        self.assertEqual((done.returncode, done.stderr),
                         (1, "cluster: node 4 is not in this cluster (nodes 1..1)\n"))


if __name__ == "__main__":
    if not os.access(REAL, os.X_OK):
        print(f"SKIP: {REAL} is not built", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
