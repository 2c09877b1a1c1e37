#!/usr/bin/python3
"""Growing a running cluster: `tools/cluster start --nodes 5` on three
nodes adds nodes 4 and 5, which serve SQL at once (rows written before,
new writes), and tdctl lists five live nodes."""

import unittest

import harness
from harness import Cluster, wait_for

PORT_BASE = 27640


class AddNodesTest(unittest.TestCase):
    def test_add_two_nodes(self):
        with Cluster(PORT_BASE) as c:
            c.start(nodes=3)
            c.exec(1, "CREATE TABLE kv (k INT PRIMARY KEY, v TEXT NOT NULL)")
            for k in range(20):
                c.exec(1 + k % 3, "INSERT INTO kv VALUES (%s, 'before')", (k,))
            pids = [c.pid(i) for i in (1, 2, 3)]

            out = c.start(nodes=5).stdout
            for i in (4, 5):
                self.assertIn(f"127.0.0.1:{c.sql_port(i)}/defaultdb", out)
            # The first three kept running; the new ones joined their cluster.
            self.assertEqual([c.pid(i) for i in (1, 2, 3)], pids)
            self.assertEqual(c.tdctl_json("nodes", node=4)["cluster_id"], c.tdctl_json("nodes")["cluster_id"])

            self.assertEqual(c.exec(4, "SELECT count(*) FROM kv WHERE v = 'before'"), [(20,)])
            for k in range(20, 40):
                c.exec(4 + k % 2, "INSERT INTO kv VALUES (%s, 'after')", (k,))
            self.assertEqual(c.exec(5, "SELECT k FROM kv ORDER BY k"), [(k,) for k in range(40)])
            self.assertEqual(c.exec(1, "SELECT count(*) FROM kv WHERE v = 'after'"), [(20,)])

            def five_live():
                nodes = c.tdctl_json("nodes")["nodes"]
                if len(nodes) != 5 or not all(n["live"] for n in nodes):
                    raise AssertionError(f"nodes (id, live): {[(n['node_id'], n['live']) for n in nodes]}")
                return True

            wait_for("five live nodes in tdctl nodes", five_live)
            table = c.tdctl("nodes")
            self.assertEqual(table.returncode, 0, table.stderr)
            rows = [line.split() for line in table.stdout.splitlines()[1:]]
            self.assertEqual(sorted(int(r[0]) for r in rows), [1, 2, 3, 4, 5])
            self.assertEqual({r[4] for r in rows}, {"true"})


if __name__ == "__main__":
    harness.main()
