#!/usr/bin/python3
"""Multi-node test harness: a throwaway tools/cluster cluster per test.

    with Cluster(port_base=27700) as c:      # a temporary --dir
        c.start()                            # tools/cluster start --nodes 3
        c.exec(1, "CREATE TABLE t (k INT PRIMARY KEY)")
        c.kill(2); c.restart(2)
        c.tdctl_json("ranges")

Everything goes through the same commands an operator uses (tools/cluster,
build/tdctl, HTTP status), so these tests also prove the tools. Leaving the
`with` block stops every node (SIGTERM, then SIGKILL) and deletes the
directory; when the block raised, the tail of every node's log goes to
stderr first.

Each test module has its own port base, 27610-27670 in steps of 10 (node
i: P+i, P+100+i, P+200+i, so 27611-27875 for at most 5 nodes), so the
cluster tests can run in parallel with each other; they keep clear of
27701-27703, 27801-27803 and 27901-27903, which tests/bench/replicated.sh
uses.

Environment: TARDIGRADE_BIN (default build/tardigrade) is what
tools/cluster runs; TD_TDCTL (default build/tdctl). Exit status 77 (ctest's
skip code) when either is not built.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CLUSTER = os.path.join(ROOT, "tools", "cluster")
TARDIGRADE = os.environ.get("TARDIGRADE_BIN", os.path.join(ROOT, "build", "tardigrade"))
TDCTL = os.environ.get("TD_TDCTL", os.path.join(ROOT, "build", "tdctl"))
SKIP = 77
# Liveness bounds: how long a condition that must eventually hold may take
# before the test fails. They bound waiting, they do not measure speed.
EVENTUALLY = 60
TOOL_TIMEOUT = 180


def wait_for(what, check, timeout=EVENTUALLY, interval=0.2):
    """Calls check() until it returns a true value, which is returned;
    fails after timeout seconds with the last exception or value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
            last = value
        except Exception as e:  # a node between states may answer anything
            last = e
        time.sleep(interval)
    raise AssertionError(f"not {what} after {timeout} s (last: {last!r})")


def http_json(addr, path, timeout=5):
    with urllib.request.urlopen(f"http://{addr}{path}", timeout=timeout) as r:
        return json.load(r)


def user_range(ranges):
    """The range holding user data in a `tdctl --format json ranges` answer:
    the last one (by id) whose start key is in a table, else the last one."""
    tables = [r for r in ranges if r["start_key"].startswith("/Table")]
    return (tables or ranges)[-1]


def cancel_quietly(conn):
    """Cancels conn's running statement, if the connection still exists."""
    try:
        conn.cancel()
    except psycopg2.Error:
        pass  # it broke meanwhile: the statement ends anyway


class Cluster:
    host = "127.0.0.1"

    def __init__(self, port_base, raft_log_limit=None):
        self.port_base = port_base
        self.raft_log_limit = raft_log_limit
        self.dir = tempfile.mkdtemp(prefix=f"td-cluster-{port_base}-")
        self.nodes = 0

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None:
                self.dump_logs()
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False

    # ---- tools/cluster ----------------------------------------------------

    def tool(self, *args, check=True):
        argv = [CLUSTER, *args, "--dir", self.dir, "--port-base", str(self.port_base)]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
        if check and done.returncode != 0:
            raise AssertionError(f"tools/cluster {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        return done

    def start(self, nodes=3):
        args = ["start", "--nodes", str(nodes)]
        if self.raft_log_limit is not None:
            args += ["--raft-log-limit", str(self.raft_log_limit)]
        self.nodes = max(self.nodes, nodes)  # first: a failed start still leaves logs to show
        return self.tool(*args)

    def stop(self):
        if self.nodes:
            self.tool("stop", check=False)

    def kill(self, i):
        self.tool("kill", str(i))

    def restart(self, i):
        self.tool("restart", str(i))

    def pid(self, i):
        """Node i's pid as tools/cluster recorded it."""
        with open(os.path.join(self.dir, f"node{i}.pid")) as f:
            return int(f.read())

    def log(self, i):
        """Node i's whole log."""
        with open(os.path.join(self.dir, f"node{i}.log"), errors="replace") as f:
            return f.read()

    def dump_logs(self, lines=40):
        for i in range(1, self.nodes + 1):
            try:
                with open(os.path.join(self.dir, f"node{i}.log"), errors="replace") as f:
                    tail = "".join(f.readlines()[-lines:])
            except OSError:
                tail = "(no log)\n"
            sys.stderr.write(f"--- node {i} log tail:\n{tail}")

    # ---- addresses --------------------------------------------------------

    def sql_port(self, i):
        return self.port_base + i

    def http_addr(self, i):
        return f"{self.host}:{self.port_base + 200 + i}"

    def index_of(self, node_id, via=1):
        """The tools/cluster index (1-based) of the node the cluster calls
        node_id (asking node `via`): the cluster allocates ids, so the two
        may differ."""
        for n in self.tdctl_json("nodes", node=via)["nodes"]:
            if n["node_id"] == node_id:
                return int(n["http_addr"].rsplit(":", 1)[1]) - self.port_base - 200
        raise AssertionError(f"node id {node_id} is not in /_status/nodes")

    # ---- SQL --------------------------------------------------------------

    def connect(self, i, autocommit=True, connect_timeout=10):
        """A new psycopg2 connection to node i; the caller closes it."""
        conn = psycopg2.connect(host=self.host, port=self.sql_port(i), user="root", dbname="defaultdb",
                                connect_timeout=connect_timeout)
        conn.autocommit = autocommit
        return conn

    def exec(self, i, sql, args=None):
        """Runs sql on a fresh autocommit connection to node i; rows or None."""
        conn = self.connect(i)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def exec_bounded(self, i, sql, args=None, timeout=3):
        """exec(), but a statement still running after timeout seconds is
        cancelled (57014), so a retry loop never waits on one attempt."""
        conn = self.connect(i, connect_timeout=max(1, int(timeout)))
        timer = threading.Timer(timeout, cancel_quietly, (conn,))
        timer.start()
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else None
        finally:
            timer.cancel()
            conn.close()

    # ---- status -----------------------------------------------------------

    def tdctl(self, *args, node=1):
        return subprocess.run([TDCTL, "--host", self.http_addr(node), *args], capture_output=True, text=True,
                              timeout=60)

    def tdctl_json(self, *args, node=1):
        done = self.tdctl("--format", "json", *args, node=node)
        if done.returncode != 0:
            raise AssertionError(f"tdctl {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return json.loads(done.stdout)

    def node_ranges(self, i):
        """Node i's own replicas (GET /_status/ranges), keyed by range id."""
        return {r["range_id"]: r for r in http_json(self.http_addr(i), "/_status/ranges")["ranges"]}

    def wait_replicated(self, node=1, replicas=3):
        """Waits until every range has `replicas` voters on distinct nodes
        (and no other replica), a Raft leader and a leaseholder among them;
        returns the ranges (tdctl JSON)."""

        def settled():
            ranges = self.tdctl_json("ranges", node=node)["ranges"]
            for r in ranges:
                nodes = {x["node_id"] for x in r["replicas"] if x["type"] == "voter"}
                if len(nodes) != replicas or len(r["replicas"]) != replicas or \
                        r["raft_leader"] not in nodes or r["leaseholder"] not in nodes:
                    raise AssertionError(f"range {r['range_id']}: replicas {r['replicas']}, "
                                         f"leader {r['raft_leader']}, leaseholder {r['leaseholder']}")
            return ranges

        return wait_for(f"replicated {replicas} ways with leaders and leaseholders", settled)

    def wait_caught_up(self, i, range_id, leader_node):
        """Waits until node i's replica of range_id has applied at least what
        leader_node's replica had applied when this was called."""
        target = self.node_ranges(leader_node)[range_id]["applied_index"]
        wait_for(f"node {i} caught up with range {range_id} to applied index {target}",
                 lambda: self.node_ranges(i)[range_id]["applied_index"] >= target)
        return target


def main():
    """unittest.main() for a cluster test module, or exit 77 when the
    binaries it needs are not built."""
    for path in (TARDIGRADE, TDCTL):
        if not os.access(path, os.X_OK):
            print(f"SKIP: {path} is not built", file=sys.stderr)
            sys.exit(SKIP)
    unittest.main(verbosity=2)
