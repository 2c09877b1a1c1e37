#!/usr/bin/python3
"""Three nodes: write through one node, read through the others; tdctl
shows every range replicated three ways with a leader and a leaseholder;
a second `tardigrade init` is refused; a node whose store belongs to
another cluster is refused by the members."""

import os
import re
import subprocess
import unittest

import harness
from harness import Cluster, http_json, wait_for

PORT_BASE = 27610
ROWS = 100


class BasicTest(unittest.TestCase):
    def test_three_nodes(self):
        with Cluster(PORT_BASE) as c:
            out = c.start(nodes=3).stdout
            for i in (1, 2, 3):
                self.assertIn(f'psql "postgresql://root@127.0.0.1:{c.sql_port(i)}/defaultdb?sslmode=disable"', out)
            self.write_here_read_there(c)
            self.check_tdctl(c)
            self.check_second_init(c)
            self.check_other_cluster_refused(c)

    def write_here_read_there(self, c):
        c.exec(1, "CREATE TABLE kv (k INT PRIMARY KEY, v TEXT NOT NULL)")
        conn = c.connect(1)
        try:
            with conn.cursor() as cur:
                for k in range(ROWS):
                    cur.execute("INSERT INTO kv VALUES (%s, %s)", (k, f"value {k}"))
        finally:
            conn.close()
        expected = [(k, f"value {k}") for k in range(ROWS)]
        for node in (3, 2):
            with self.subTest(node=node):
                self.assertEqual(c.exec(node, "SELECT k, v FROM kv ORDER BY k"), expected)

    def check_tdctl(self, c):
        ranges = c.wait_replicated()
        self.assertGreaterEqual(len(ranges), 1)
        for r in ranges:
            self.assertEqual(sorted(x["node_id"] for x in r["replicas"]), [1, 2, 3], r)
            self.assertEqual(r["status"], "ok", r)
            self.assertEqual(r["reported_by"], r["leaseholder"], r)
        self.assertEqual(c.tdctl_json("ranges")["skipped_nodes"], [])

        table = c.tdctl("ranges")
        self.assertEqual(table.returncode, 0, table.stderr)
        lines = table.stdout.splitlines()
        self.assertEqual(len(lines), 1 + len(ranges))
        for line, r in zip(lines[1:], ranges):
            cells = re.split(r"\s{2,}", line)
            self.assertEqual(cells[0], str(r["range_id"]))
            self.assertEqual(cells[3], "n1,n2,n3")
            self.assertRegex(cells[4], r"^n[123]$")  # leader
            self.assertRegex(cells[5], r"^n[123]$")  # leaseholder

        nodes = c.tdctl_json("nodes")["nodes"]
        self.assertEqual([(n["node_id"], n["live"]) for n in nodes], [(1, True), (2, True), (3, True)])

    def check_second_init(self, c):
        done = subprocess.run([harness.TARDIGRADE, "init", "--host", c.http_addr(1)], capture_output=True,
                              text=True, timeout=60)
        self.assertEqual(done.returncode, 1)
        self.assertIn("tardigrade init: cluster is already initialized", done.stderr)

    def check_other_cluster_refused(self, c):
        """A store bootstrapped by start-single-node (its own cluster) started
        with --join to this cluster: the members refuse it and stay three."""
        store = os.path.join(c.dir, "other")
        sql, rpc, http = (f"127.0.0.1:{c.port_base + k}" for k in (9, 109, 209))
        flags = ["--store", store, "--sql-listen", sql, "--http-listen", http, "--insecure"]
        log = open(os.path.join(c.dir, "other.log"), "w")
        with subprocess.Popen([harness.TARDIGRADE, "start-single-node", *flags], stderr=log) as p:
            try:
                wait_for("the other cluster's node", lambda: http_json(http, "/_status/nodes")["cluster_id"])
            finally:
                p.terminate()
        joiner = subprocess.Popen([harness.TARDIGRADE, "start", *flags, "--listen", rpc, "--join",
                                   f"127.0.0.1:{c.port_base + 101}"], stderr=log)
        try:
            theirs = wait_for("the other node back", lambda: http_json(http, "/_status/nodes")["cluster_id"])
            self.assertNotEqual(theirs, c.tdctl_json("nodes")["cluster_id"])

            def refused():
                with open(os.path.join(c.dir, "node1.log"), errors="replace") as f:
                    return f"is in cluster {theirs}, which is refused" in f.read()

            wait_for("node 1 refusing the other cluster's node", refused)
            self.assertEqual([n["node_id"] for n in c.tdctl_json("nodes")["nodes"]], [1, 2, 3])
        finally:
            joiner.terminate()
            joiner.wait(timeout=30)
            log.close()


if __name__ == "__main__":
    harness.main()
