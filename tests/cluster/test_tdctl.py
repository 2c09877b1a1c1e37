#!/usr/bin/python3
"""build/tdctl against fake status servers serving canned JSON.

No node is involved: each fake node is an HTTP server on a port the kernel
picks (port 0), answering GET /_status/nodes and /_status/ranges with the
documents of docs/operations.md. The canned views disagree on purpose
(followers lag, one replica has no node answering), so the tests prove
which node's view tdctl shows, not just that it prints something.

    node 1  answers (the --host); leaseholder of range 1, leader of range 3
    node 2  answers; leaseholder of range 2
    node 3  listed live, but its HTTP port refuses connections
    node 4  listed not live (a learner of range 3)

TD_TDCTL names the binary (default build/tdctl).
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TDCTL = os.environ.get("TD_TDCTL", os.path.join(ROOT, "build", "tdctl"))
SKIP = 77


class FakeNode:
    """An HTTP server answering GET path with routes[path] = (status, body)."""

    def __init__(self):
        routes = self.routes = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, body = routes.get(self.path, (404, "not found"))
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.addr = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def refusing_port():
    """A bound socket that does not listen: connecting to it is refused, and
    nobody else can take the port while the socket lives."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


def replica(node, rid, type="voter"):
    return {"node_id": node, "replica_id": rid, "type": type}


def view(rid, start, end, replicas, leader, leaseholder, commit, applied, approx, state, term=5):
    return {"range_id": rid, "start_key": start, "end_key": end, "replicas": replicas,
            "raft_leader": leader, "leaseholder": leaseholder, "lease_expires_in_ms": 2400,
            "term": term, "commit_index": commit, "applied_index": applied, "log_entries": applied - 3,
            "log_bytes": 100 * applied, "approx_bytes": approx, "raft_state": state, "status": "ok"}


R1 = [replica(1, 1), replica(2, 2), replica(3, 3)]
R3 = [replica(1, 1), replica(2, 2), replica(4, 3, "learner")]


def node_entry(i, http, live=True, ranges=-1, leases=-1):
    return {"node_id": i, "rpc_addr": f"127.0.0.1:{26356 + i}", "sql_addr": f"127.0.0.1:{26256 + i}",
            "http_addr": http, "live": live, "ranges": ranges, "leases": leases}


class TdctlTest(unittest.TestCase):
    def setUp(self):
        self.n1, self.n2 = FakeNode(), FakeNode()
        self.dead = refusing_port()
        self.addCleanup(self.n1.close)
        self.addCleanup(self.n2.close)
        self.addCleanup(self.dead.close)
        dead_addr = f"127.0.0.1:{self.dead.getsockname()[1]}"
        self.nodes_doc = {"node_id": 1, "cluster_id": "0123456789abcdef0123456789abcdef",
                          "nodes": [node_entry(1, self.n1.addr, ranges=3, leases=1), node_entry(2, self.n2.addr),
                                    node_entry(3, dead_addr), node_entry(4, "127.0.0.1:1", live=False)]}
        for n in (self.n1, self.n2):
            n.routes["/_status/nodes"] = (200, self.nodes_doc)
        self.n1.routes["/_status/ranges"] = (200, {"node_id": 1, "ranges": [
            view(1, "/Min", "/Table/100", R1, 1, 1, 10, 10, 5678, "leader"),
            view(2, "/Table/100", "/Max", R1, 2, 2, 40, 39, 1000, "follower"),
            view(3, "/Table/200", "/Table/300", R3, 1, 0, 5, 5, 10, "leader")]})
        self.n2.routes["/_status/ranges"] = (200, {"node_id": 2, "ranges": [
            view(1, "/Min", "/Table/100", R1, 1, 1, 10, 9, 5600, "follower"),
            view(2, "/Table/100", "/Max", R1, 2, 2, 42, 42, 2 << 20, "leader"),
            view(3, "/Table/200", "/Table/300", R3, 1, 0, 5, 4, 10, "follower")]})

    def tdctl(self, *args, host=None):
        argv = [TDCTL, "--host", host or self.n1.addr] + list(args)
        return subprocess.run(argv, capture_output=True, text=True, timeout=60)

    def table(self, out):
        """Rows of an aligned table as lists of cells, after checking that
        every cell starts at its column title's offset."""
        lines = out.splitlines()
        starts = [m.start() for m in re.finditer(r"\S+(?: \S+)*", lines[0])]
        rows = []
        for line in lines:
            cells = list(re.finditer(r"\S+(?: \S+)*", line))
            self.assertEqual([m.start() for m in cells], starts, f"misaligned row: {line!r}")
            rows.append([m.group() for m in cells])
        return rows

    # ---- nodes ------------------------------------------------------------

    def test_nodes_table(self):
        r = self.tdctl("nodes")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.table(r.stdout)
        self.assertEqual(rows[0], ["id", "rpc", "sql", "http", "live", "ranges", "leases"])
        self.assertEqual(rows[1], ["1", "127.0.0.1:26357", "127.0.0.1:26257", self.n1.addr, "true", "3", "1"])
        self.assertEqual(rows[4], ["4", "127.0.0.1:26360", "127.0.0.1:26260", "127.0.0.1:1", "false", "-", "-"])
        self.assertEqual(len(rows), 5)

    def test_nodes_json(self):
        r = self.tdctl("--format", "json", "nodes")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), self.nodes_doc)

    # ---- ranges -----------------------------------------------------------

    def test_ranges_table_takes_the_leaseholder_view(self):
        r = self.tdctl("ranges")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.table(r.stdout)
        self.assertEqual(rows[0], ["id", "start", "end", "replicas", "leader", "leaseholder", "term", "commit",
                                   "applied", "log entries", "approx size", "status"])
        self.assertEqual(rows[1], ["1", "/Min", "/Table/100", "n1,n2,n3", "n1", "n1", "5", "10", "10", "7",
                                   "5.5 KiB", "ok"])
        self.assertEqual(rows[2], ["2", "/Table/100", "/Max", "n1,n2,n3", "n2", "n2", "5", "42", "42", "39",
                                   "2.0 MiB", "ok"])
        # No leaseholder known: the Raft leader's view (node 1), not node 2's.
        self.assertEqual(rows[3], ["3", "/Table/200", "/Table/300", "n1,n2,n4:learner", "n1", "-", "5", "5",
                                   "5", "2", "10 B", "ok"])
        self.assertEqual(len(rows), 4)
        self.assertIn("tdctl: skipping node 3: cannot reach 127.0.0.1:", r.stderr)
        self.assertIn(": Connection refused", r.stderr)
        self.assertIn("tdctl: skipping node 4: not live", r.stderr)

    def test_ranges_json(self):
        r = self.tdctl("ranges", "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["skipped_nodes"], [3, 4])
        self.assertEqual([(x["range_id"], x["reported_by"], x["applied_index"]) for x in doc["ranges"]],
                         [(1, 1, 10), (2, 2, 42), (3, 1, 5)])
        self.assertEqual(doc["ranges"][2]["replicas"], R3)

    def test_malformed_node_answer_is_skipped_whole(self):
        bad = {"node_id": 2, "ranges": [view(2, "/Table/100", "/Max", R1, 2, 2, 42, 42, 1, "leader"),
                                        {"range_id": 9}]}
        self.n2.routes["/_status/ranges"] = (200, bad)
        r = self.tdctl("--format", "json", "ranges")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr, r"tdctl: skipping node 2: GET http://.*/_status/ranges: unexpected answer: ")
        doc = json.loads(r.stdout)
        # Node 2's well-formed range 2 went with the rest of its answer.
        self.assertEqual([(x["range_id"], x["reported_by"]) for x in doc["ranges"]], [(1, 1), (2, 1), (3, 1)])

    # ---- range ID ---------------------------------------------------------

    def test_range_table_one_row_per_replica_from_its_node(self):
        r = self.tdctl("range", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.table(r.stdout)
        self.assertEqual(rows[0], ["node", "replica", "type", "state", "leader", "leaseholder", "term", "commit",
                                   "applied", "log entries", "approx size", "status"])
        self.assertEqual(rows[1], ["n1", "1", "voter", "follower", "n2", "n2", "5", "40", "39", "36",
                                   "1000 B", "ok"])
        self.assertEqual(rows[2], ["n2", "2", "voter", "leader", "n2", "n2", "5", "42", "42", "39", "2.0 MiB",
                                   "ok"])
        self.assertEqual(rows[3], ["n3", "3", "voter"] + ["-"] * 8 + ["node skipped"])
        self.assertEqual(len(rows), 4)

    def test_range_replica_missing_on_an_answering_node(self):
        self.n2.routes["/_status/ranges"] = (200, {"node_id": 2, "ranges": []})
        r = self.tdctl("range", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = self.table(r.stdout)
        self.assertEqual(rows[2], ["n2", "2", "voter"] + ["-"] * 8 + ["not on its node"])

    def test_range_json(self):
        r = self.tdctl("--format", "json", "range", "3")
        self.assertEqual(r.returncode, 0, r.stderr)
        doc = json.loads(r.stdout)
        self.assertEqual(doc["range_id"], 3)
        self.assertEqual([(x["node_id"], x["type"], x["view"] and x["view"]["applied_index"])
                          for x in doc["replicas"]], [(1, "voter", 5), (2, "voter", 4), (4, "learner", None)])

    def test_range_that_does_not_exist(self):
        r = self.tdctl("range", "99")
        self.assertEqual(r.returncode, 1)
        self.assertIn("tdctl: range 99 not found on any live node\n", r.stderr)
        self.assertEqual(r.stdout, "")

    # ---- errors -----------------------------------------------------------

    def test_unreachable_host(self):
        addr = f"127.0.0.1:{self.dead.getsockname()[1]}"
        for cmd in (["nodes"], ["ranges"], ["range", "1"]):
            r = self.tdctl(*cmd, host=addr)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stderr, f"tdctl: cannot reach {addr}: Connection refused\n")
            self.assertEqual(r.stdout, "")

    def test_bad_answers_from_host(self):
        cases = [((503, "not ready"), "HTTP status 503"),
                 ((200, "{not json"), "invalid JSON: "),
                 ((200, {"node_id": 1, "nodes": [{"node_id": 1}]}), "unexpected answer: "),
                 ((200, {"node_id": 1, "nodes": 7}), "unexpected answer: \"nodes\" is not an array"),
                 ((200, {"node_id": 1}), "unexpected answer: \"nodes\" is missing")]
        for answer, message in cases:
            with self.subTest(message=message):
                self.n1.routes["/_status/nodes"] = answer
                r = self.tdctl("nodes")
                self.assertEqual(r.returncode, 1)
                self.assertIn(f"tdctl: GET http://{self.n1.addr}/_status/nodes: {message}", r.stderr)

    def test_no_node_answers_ranges(self):
        self.n1.routes["/_status/ranges"] = (500, "boom")
        self.n2.routes["/_status/ranges"] = (500, "boom")
        r = self.tdctl("ranges")
        self.assertEqual(r.returncode, 1)
        self.assertIn("tdctl: no live node answered GET /_status/ranges\n", r.stderr)

    def test_usage_errors(self):
        cases = [[], ["frobnicate"], ["range"], ["range", "x"], ["range", "0"], ["range", "1", "2"],
                 ["nodes", "extra"], ["--format", "xml", "nodes"], ["--host", "", "nodes"], ["--bogus", "nodes"]]
        for argv in cases:
            with self.subTest(argv=argv):
                r = subprocess.run([TDCTL] + argv, capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 2)
                self.assertIn("usage: tdctl", r.stderr)
                self.assertEqual(r.stdout, "")

    def test_help(self):
        r = subprocess.run([TDCTL, "--help"], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0)
        self.assertIn("usage: tdctl", r.stdout)


if __name__ == "__main__":
    if not os.access(TDCTL, os.X_OK):
        print(f"SKIP: {TDCTL} is not built (cmake --build build --target tdctl)", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
