"""A Tardigrade cluster for a run: N nodes, each `tardigrade start` in its
own network namespace (netns.py), initialised through node 1.

Node i listens on 10.77.0.i (SQL SQL_PORT, RPC RPC_PORT, HTTP HTTP_PORT)
and joins through the RPC addresses of nodes 1..3. Its store and log live
in the results directory, `node<i>/store` and `node<i>/tardigrade.log`
(appended to across restarts); stop() deletes the stores and keeps the
logs. The binary is $TARDIGRADE_BIN, else build/tardigrade in the
repository.

Faults act on the processes this adapter started, by pid: kill (SIGKILL),
pause (SIGSTOP/SIGCONT) and restart, optionally under libfaketime with a
wall-clock offset; remove (SIGKILL and the store deleted: the node is gone
for good) and add (a new node with an empty store in the same namespace,
which joins with a new node id). One cluster runs at a time on a machine: start() takes
an exclusive lock on netns.LOCK_PATH (waiting for another run to finish),
then removes any network a crashed run left behind.
"""

import fcntl
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request

import psycopg2

from . import netns

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))
SQL_PORT, RPC_PORT, HTTP_PORT = 27257, 27357, 27457
JOIN_NODES = 3
MAX_NODES = 253  # 10.77.0.254 is the host's
READY_TIMEOUT = 120
STOP_TIMEOUT = 20
STATEMENT_TIMEOUT_MS = 10000
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
LOG_TAIL_LINES = 20


def binary():
    return os.environ.get("TARDIGRADE_BIN", os.path.join(ROOT, "build", "tardigrade"))


def _http_json(i, path):
    with urllib.request.urlopen(f"http://{netns.addr(i)}:{HTTP_PORT}{path}", timeout=2) as reply:
        return json.load(reply)


def _http_ok(i, path):
    try:
        with urllib.request.urlopen(f"http://{netns.addr(i)}:{HTTP_PORT}{path}", timeout=2) as reply:
            return reply.status == 200
    except (OSError, urllib.error.URLError):
        return False


class Tardigrade:
    default_nodes = 5
    # No INSERT ... ON CONFLICT (docs/sql.md): workloads update, then insert.
    upsert = False

    def __init__(self, nodes):
        why = netns.available()
        if why:
            raise ValueError(f"--db tardigrade: {why}")
        if not 1 <= nodes <= MAX_NODES:
            raise ValueError(f"--db tardigrade: --nodes must be 1..{MAX_NODES}")
        if not os.access(binary(), os.X_OK):
            raise ValueError(f"--db tardigrade: no executable {binary()} (build it, or set TARDIGRADE_BIN)")
        self.nodes = nodes
        self.dir = None
        self._procs = {}
        self._offsets = {}
        self._lock_file = None
        self._next = itertools.count()  # next() is one C call under the GIL: thread-safe

    # ---- processes -----------------------------------------------------------

    def _node_dir(self, i):
        return os.path.join(self.dir, f"node{i}")

    def _log_path(self, i):
        return os.path.join(self._node_dir(i), "tardigrade.log")

    def _argv(self, i):
        a = netns.addr(i)
        join = ",".join(f"{netns.addr(j)}:{RPC_PORT}" for j in range(1, min(self.nodes, JOIN_NODES) + 1))
        return netns.exec_prefix(i) + [
            binary(), "start", "--store", os.path.join(self._node_dir(i), "store"),
            "--listen", f"{a}:{RPC_PORT}", "--sql-listen", f"{a}:{SQL_PORT}",
            "--http-listen", f"{a}:{HTTP_PORT}", "--join", join, "--insecure",
        ]  # fmt: skip

    def _spawn(self, i, offset=None):
        """Starts node i; `offset` (seconds) runs it under libfaketime. The
        ip netns exec process execs the node, so the pid is the node's."""
        env = dict(os.environ)
        if offset is not None:
            env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME=f"{offset:+.3f}", FAKETIME_DONT_FAKE_MONOTONIC="1")
        os.makedirs(self._node_dir(i), exist_ok=True)
        with open(self._log_path(i), "a", encoding="utf-8") as log:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            skew = f" under libfaketime, clock offset {offset:+.3f} s" if offset is not None else ""
            log.write(f"--- tdjepsen {stamp}Z (true clock): starting node {i}{skew}\n")
            log.flush()
            self._procs[i] = subprocess.Popen(self._argv(i), stdout=log, stderr=log, env=env, start_new_session=True)
        self._offsets[i] = offset

    def _reap(self, i):
        proc = self._procs.pop(i, None)
        if proc is None:
            return
        proc.send_signal(signal.SIGCONT)
        proc.terminate()
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self, i):
        """SIGKILL node i (a crash); restart() brings it back."""
        proc = self._procs.pop(i, None)
        if proc is not None:
            proc.kill()
            proc.wait()

    def restart(self, i, offset=None):
        """Crashes node i if it runs, then starts it on its store, under a
        clock offset of `offset` seconds when given."""
        self.kill(i)
        self._spawn(i, offset)

    def pause(self, i):
        self._procs[i].send_signal(signal.SIGSTOP)

    def resume(self, i):
        if i in self._procs:
            self._procs[i].send_signal(signal.SIGCONT)

    def remove(self, i):
        """Removes node i for good (SIGKILL, its store deleted) unless some
        range lacks a full set of voters on live nodes; returns None, or
        why nothing was done. add(i) then starts a new node in its place."""
        why = self._under_replicated()
        if why:
            return why
        self.kill(i)
        shutil.rmtree(os.path.join(self._node_dir(i), "store"), ignore_errors=True)
        with open(self._log_path(i), "a", encoding="utf-8") as log:
            log.write(f"--- tdjepsen {time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z: node {i} removed\n")
        return None

    def add(self, i):
        """Starts a new node in namespace i (after remove(i))."""
        self._spawn(i)

    def _status(self):
        """The live node ids, and every range as its most advanced replica
        reports it (each node's /_status/ranges lists its own replicas)."""
        running = [j for j in range(1, self.nodes + 1) if self.running(j)]
        live = {n["node_id"] for n in _http_json(running[0], "/_status/nodes")["nodes"] if n["live"]}
        ranges = {}
        for j in running:
            for r in _http_json(j, "/_status/ranges")["ranges"]:
                known = ranges.get(r["range_id"])
                if known is None or r["applied_index"] > known["applied_index"]:
                    ranges[r["range_id"]] = r
        return live, ranges

    def _under_replicated(self):
        try:
            live, ranges = self._status()
        except (OSError, ValueError, KeyError, IndexError) as err:
            return f"cluster status unavailable: {err!r}"
        for r in ranges.values():
            voters = sorted(rep["node_id"] for rep in r["replicas"] if rep["type"] == "voter")
            others = sorted(rep["node_id"] for rep in r["replicas"] if rep["type"] != "voter")
            if len(voters) < min(3, len(live)) or others or not set(voters) <= live:
                return f"range {r['range_id']}: voters {voters}, learners {others}, live nodes {sorted(live)}"
        return None

    def running(self, i):
        return i in self._procs and self._procs[i].poll() is None

    # ---- life cycle ----------------------------------------------------------

    def _log_tail(self, i):
        try:
            with open(self._log_path(i), encoding="utf-8", errors="replace") as log:
                return "".join(log.readlines()[-LOG_TAIL_LINES:])
        except OSError:
            return ""

    def _init(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            done = subprocess.run(
                [binary(), "init", "--host", f"{netns.addr(1)}:{HTTP_PORT}"], capture_output=True, text=True, timeout=60
            )
            if done.returncode == 0:
                return
            if time.monotonic() > deadline or not self.running(1):
                raise RuntimeError(f"tardigrade init failed: {done.stderr.strip()}\n{self._log_tail(1)}")
            time.sleep(0.5)

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Waits until every node serves SQL; raises RuntimeError with the
        log tail of a node that exited or was not ready in time."""
        deadline = time.monotonic() + timeout
        for i in range(1, self.nodes + 1):
            while not (_http_ok(i, "/health?ready=1") and self._sql_ok(i)):
                if not self.running(i) or time.monotonic() > deadline:
                    state = "is not ready" if self.running(i) else "exited"
                    raise RuntimeError(f"tardigrade node {i} {state}:\n{self._log_tail(i)}")
                time.sleep(0.5)

    def _sql_ok(self, i):
        try:
            conn = self._connect_node(i)
        except psycopg2.Error:
            return False
        try:
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except psycopg2.Error:
            return False
        finally:
            conn.close()

    def start(self, out):
        """Builds the network in `out` and starts, inits and waits for
        every node. On failure stop() still undoes what was done."""
        self.dir = out
        lock_file = open(netns.LOCK_PATH, "w", encoding="utf-8")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        except BaseException:  # interrupted while another run holds it: touch nothing of that run
            lock_file.close()
            raise
        self._lock_file = lock_file
        netns.create(self.nodes)
        for i in range(1, self.nodes + 1):
            self._spawn(i)
        self._init()
        self.wait_ready()

    def recover(self):
        """Ends every fault: heals the network, resumes paused nodes,
        restarts killed or clock-skewed ones on the true clock, and waits
        until every node serves SQL again. Returns a message for each node
        that exited without being killed (a Tardigrade crash)."""
        netns.heal(self.nodes)
        exits = []
        for i in range(1, self.nodes + 1):
            if i in self._procs and self._procs[i].poll() is not None:
                exits.append(f"node {i} exited by itself with status {self._procs[i].returncode}; see its log")
            if not self.running(i) or self._offsets.get(i) is not None:
                self.restart(i)
            else:
                self.resume(i)
        self.wait_ready()
        return exits

    def save_logs(self, dest):
        """Node logs are written into the results directory already."""

    def stop(self):
        """Stops every node, deletes the stores, removes the network and
        releases the lock; safe after a partial start and to repeat."""
        for i in list(self._procs):
            self._reap(i)
        if self.dir:
            for i in range(1, self.nodes + 1):
                shutil.rmtree(os.path.join(self._node_dir(i), "store"), ignore_errors=True)
        if self._lock_file is not None:
            netns.cleanup()
            self._lock_file.close()
            self._lock_file = None

    # ---- clients -------------------------------------------------------------

    def _connect_node(self, i):
        return psycopg2.connect(
            host=netns.addr(i),
            port=SQL_PORT,
            user="root",
            dbname="defaultdb",
            connect_timeout=5,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
        )

    def connect(self, isolation):
        """A new connection (caller closes it) to the next node in turn,
        autocommit off. Every level runs as SERIALIZABLE in Tardigrade."""
        i = next(self._next) % self.nodes + 1
        conn = self._connect_node(i)
        conn.set_session(autocommit=False)
        return conn
