#!/usr/bin/python3
"""End-to-end harness: one throwaway server per test, Tardigrade or PostgreSQL 15.

Every end-to-end test runs against the target named by TD_E2E_TARGET
("tardigrade", the default, or "postgres"). The expected results were taken
from PostgreSQL 15 first; run a test with TD_E2E_TARGET=postgres to see that
it still holds on the reference server.

Both targets look the same to a test: user `root`, database `defaultdb`,
127.0.0.1 at a port picked at random in 27000-27599 (bound first to make
sure it is free; a Tardigrade node is ready only once its own process holds
the listening socket, so a probe never mistakes another run's server on
the same port for it; a start that loses the race is retried on another
port; 27600-27999 belongs to the cluster tests' fixed ports),
everything else in a fresh temporary directory that close() deletes.

    Tardigrade  build/tardigrade start-single-node --store DIR/store
                --sql-listen 127.0.0.1:P --http-listen 127.0.0.1:H [--insecure]
                (TD_E2E_TARDIGRADE overrides the binary's path)
    PostgreSQL  initdb -U root --locale=C -E UTF8 (as user postgres via
                runuser when we are root), pg_ctl start, CREATE DATABASE
                defaultdb. C collation: text sorts by bytes, as in
                Tardigrade's key encoding. Unless `durable`, fsync and
                full_page_writes are off (the tests kill processes, never the
                machine; synchronous_commit stays on so an acknowledged
                commit is in the kernel before the client hears of it).

`secure` starts a server that authenticates with passwords: Tardigrade
without --insecure, PostgreSQL with scram-sha-256 in pg_hba.conf. A test
creates its users on an insecure start, then restart(secure=True).

Command line (ctest runs the libpq test through `exec`, tests/bench/pgbench.sh
uses `start` and `stop`; `exec -- psql` gives a person a fresh node):

    harness.py exec -- CMD ARGS...              start a server, run CMD with
        PGHOST/PGPORT/PGUSER/PGDATABASE set, stop; exit with CMD's status
    harness.py start --dir DIR [--durable]      start a server whose files live
        in DIR (created), print "PORT PID", leave it running
    harness.py stop --dir DIR                   stop what `start` started

Exit status 77 (ctest's SKIP_RETURN_CODE for these tests) means the target
is tardigrade and its binary is not built.
"""

import ctypes
import json
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import psycopg2
import psycopg2.extensions

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PG_BIN = "/usr/lib/postgresql/15/bin"
USER = "root"
DATABASE = "defaultdb"
SKIP = 77
PR_SET_PDEATHSIG = 1
START_TIMEOUT = 60
PG_TEST_SETTINGS = {"fsync": "off", "full_page_writes": "off", "max_connections": "300"}


class ServerError(RuntimeError):
    pass


def target():
    t = os.environ.get("TD_E2E_TARGET", "tardigrade")
    if t not in ("tardigrade", "postgres"):
        raise ServerError(f"TD_E2E_TARGET must be tardigrade or postgres, not {t!r}")
    return t


def tardigrade_binary():
    return os.environ.get("TD_E2E_TARDIGRADE", os.path.join(ROOT, "build", "tardigrade"))


def skip_reason():
    """Why the current target cannot run here (None when it can)."""
    if target() == "tardigrade" and not os.access(tardigrade_binary(), os.X_OK):
        return f"{tardigrade_binary()} is not built (cmake --build build --target tardigrade)"
    return None


def _port_is_free(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _listens(pid, port):
    """Whether process `pid` holds the socket listening on `port`. Another
    run on this machine may take the port between _free_port and the
    server's bind: a probe would then reach that run's server, while ours
    is about to fail with "address in use"."""
    try:
        fds = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        with open("/proc/net/tcp") as f:
            rows = [line.split() for line in list(f)[1:]]
    except OSError:
        return False
    # local address "0100007F:6978", state 0A = LISTEN, inode in column 9
    return any(r[3] == "0A" and int(r[1].split(":")[1], 16) == port and f"socket:[{r[9]}]" in fds
               for r in rows)


def _free_port(avoid=()):
    rng = random.SystemRandom()
    for _ in range(200):
        p = rng.randrange(27000, 27600)
        if p not in avoid and _port_is_free(p):
            return p
    raise ServerError("no free port in 27000-27599")


class Server:
    """What the tests see of either target. Subclasses implement _launch,
    _shutdown and _kill; `dir` is the temporary directory owning everything."""

    host = "127.0.0.1"
    user = USER
    dbname = DATABASE

    def __init__(self, durable=False, dir=None, detached=False):
        self.durable = durable
        self.detached = detached
        self.secure = False
        self.own_dir = dir is None
        self.dir = dir or tempfile.mkdtemp(prefix=f"td-e2e-{self.name}-")
        os.makedirs(self.dir, exist_ok=True)
        self.port = None
        self.pid = None

    def dsn(self, **over):
        args = dict(host=self.host, port=self.port, user=self.user, dbname=self.dbname, connect_timeout=10)
        args.update(over)
        return args

    def connect(self, autocommit=True, **over):
        """A new psycopg2 connection; the caller closes it."""
        conn = psycopg2.connect(**self.dsn(**over))
        conn.autocommit = autocommit
        return conn

    def env(self):
        """os.environ plus the libpq variables that point at this server."""
        e = dict(os.environ)
        e.update(PGHOST=self.host, PGPORT=str(self.port), PGUSER=self.user, PGDATABASE=self.dbname,
                 PGCONNECT_TIMEOUT="10")
        e.pop("PGPASSWORD", None)
        return e

    def start(self, secure=False):
        self.secure = secure
        for attempt in range(3):
            self.port = _free_port()
            try:
                self._launch()
                return self
            except ServerError:
                if attempt == 2 or not self._lost_port_race():
                    raise

    def stop(self):
        if self.pid is not None:
            self._shutdown()
            self.pid = None

    def kill9(self):
        """SIGKILL the server (and, for PostgreSQL, every backend) mid-flight."""
        assert self.pid is not None
        self._kill()
        self.pid = None

    def restart(self, secure=None):
        self.stop()
        return self.start(self.secure if secure is None else secure)

    def close(self):
        """Stops the server and deletes its directory."""
        try:
            self.stop()
        finally:
            if self.own_dir:
                shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def _wait_ready(self, proc_alive):
        """Polls a SQL connection until the server answers or dies."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not proc_alive():
                raise ServerError(f"{self.name} exited during startup:\n{self.log_tail()}")
            try:
                self._probe()
                if _listens(self.pid, self.port):
                    return
            except psycopg2.OperationalError:
                pass
            time.sleep(0.1)
        raise ServerError(f"{self.name} did not accept connections within {START_TIMEOUT}s")

    def _probe(self):
        # A secure server rejects the passwordless probe once it is up.
        try:
            psycopg2.connect(**self.dsn(connect_timeout=2)).close()
        except psycopg2.OperationalError as e:
            if "password" not in str(e):
                raise


def _die_with_parent():
    """In the child before exec: SIGKILL when the parent goes away."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")


class Tardigrade(Server):
    name = "tardigrade"

    @property
    def log_path(self):
        return os.path.join(self.dir, "node.log")

    def _launch(self):
        self.http_port = _free_port(avoid=(self.port,))
        argv = [tardigrade_binary(), "start-single-node", "--store", os.path.join(self.dir, "store"),
                "--sql-listen", f"{self.host}:{self.port}", "--http-listen", f"{self.host}:{self.http_port}"]
        if not self.secure:
            argv.append("--insecure")
        # A test's node dies with the test (even one ctest kills on timeout);
        # the node of `harness.py start` outlives the command.
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=self.detached,
                                         preexec_fn=None if self.detached else _die_with_parent)
        self.pid = self.proc.pid
        try:
            self._wait_ready(lambda: self.proc.poll() is None)
        except ServerError:
            self._kill()
            self.pid = None
            raise

    def _lost_port_race(self):
        return "in use" in self.log_tail(5).lower()

    def _shutdown(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self._kill()

    def _kill(self):
        self.proc.kill()
        self.proc.wait()


class Postgres(Server):
    name = "postgres"

    def __init__(self, durable=False, dir=None, detached=False):
        super().__init__(durable, dir, detached)
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = os.path.join(self.dir, "data")
        self._run(f"{PG_BIN}/initdb", "-D", self.data, "-U", USER, "--auth=trust", "--no-sync", "-E", "UTF8",
                  "--locale=C")

    @property
    def log_path(self):
        return os.path.join(self.dir, "postgresql.log")

    def _run(self, *argv):
        done = subprocess.run(self.as_postgres + list(argv), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise ServerError(f"{os.path.basename(argv[0])} failed: {done.stderr.strip() or done.stdout.strip()}")

    def _write_hba(self):
        method = "scram-sha-256" if self.secure else "trust"
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write(f"local all all trust\nhost all all 127.0.0.1/32 {method}\n")

    def _launch(self):
        self._write_hba()
        settings = {"listen_addresses": self.host, "port": self.port, "unix_socket_directories": self.dir,
                    "timezone": "UTC", "datestyle": "ISO, MDY", "lc_messages": "C"}
        if not self.durable:
            settings.update(PG_TEST_SETTINGS)
        options = " ".join(f"-c {k}='{v}'" for k, v in settings.items())
        try:
            self._run(f"{PG_BIN}/pg_ctl", "start", "-D", self.data, "-l", self.log_path, "-w", "-t",
                      str(START_TIMEOUT), "-o", options)
        except ServerError as e:
            raise ServerError(f"{e}\n{self.log_tail()}") from None
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        self._ensure_database()

    def _ensure_database(self):
        conn = psycopg2.connect(host=self.dir, port=self.port, user=USER, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
                if cur.fetchone() is None:
                    cur.execute(f"CREATE DATABASE {DATABASE}")
        finally:
            conn.close()

    def _lost_port_race(self):
        return "could not bind" in self.log_tail(10) or "in use" in self.log_tail(10)

    def _shutdown(self):
        try:
            self._run(f"{PG_BIN}/pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w", "-t", "60")
        except (ServerError, subprocess.TimeoutExpired):
            self._kill()

    def _kill(self):
        # The postmaster first, so that it cannot restart crashed backends;
        # then every backend, so the next start finds no attached memory.
        children = subprocess.run(["pgrep", "-P", str(self.pid)], capture_output=True, text=True).stdout.split()
        os.kill(self.pid, signal.SIGKILL)
        for c in children:
            try:
                os.kill(int(c), signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in [self.pid] + [int(c) for c in children]:
            _wait_gone(pid)


def _wait_gone(pid, timeout=30):
    """Waits until `pid` is reaped: PostgreSQL takes even a zombie postmaster
    named in postmaster.pid for a live one and refuses to start."""
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)


def make_server(durable=False, dir=None, detached=False):
    """A new, not yet started server of the current target. `detached`: it
    may outlive this process (PostgreSQL's always can: pg_ctl daemonizes)."""
    return (Postgres if target() == "postgres" else Tardigrade)(durable=durable, dir=dir, detached=detached)


def serializable(server):
    """A new connection to `server` whose transactions are SERIALIZABLE."""
    conn = server.connect(autocommit=False)
    conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_SERIALIZABLE)
    return conn


def serializable_outcome(server, body):
    """Runs body(cursor) in one SERIALIZABLE transaction on a connection of
    its own and commits it: "commit", or the SQLSTATE that ended it."""
    conn = serializable(server)
    try:
        with conn.cursor() as cur:
            body(cur)
        conn.commit()
        return "commit"
    except psycopg2.Error as e:
        conn.rollback()
        return e.pgcode
    finally:
        conn.close()


def run_threads(n, fn):
    """Runs fn(i) in n threads; re-raises the first exception any raised."""
    errors = []

    def wrap(i):
        try:
            fn(i)
        except BaseException as e:  # noqa: B902 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


class ServerTestCase(unittest.TestCase):
    """A unittest base whose class owns one running insecure server."""

    @classmethod
    def setUpClass(cls):
        cls.server = make_server()
        # A class cleanup runs even when a subclass's setUpClass fails.
        cls.addClassCleanup(cls.server.close)
        cls.server.start()

    def connect(self, **kw):
        conn = self.server.connect(**kw)
        self.addCleanup(conn.close)
        return conn

    def exec(self, sql, args=None):
        """Runs `sql` in autocommit on a fresh connection; rows or None."""
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None


def main():
    """unittest.main() for a test module, or exit 77 when it cannot run."""
    reason = skip_reason()
    if reason:
        print(f"SKIP: {reason}", file=sys.stderr)
        sys.exit(SKIP)
    unittest.main(verbosity=2)


def _cli_exec(argv):
    server = make_server()
    try:
        server.start()
        rc = subprocess.run(argv, env=server.env()).returncode
        if rc != 0:
            print(f"--- {server.name} log tail:\n{server.log_tail()}", file=sys.stderr)
        return rc
    finally:
        server.close()


def _cli_start(dir, durable):
    server = make_server(durable=durable, dir=dir, detached=True)
    server.start()
    with open(os.path.join(dir, "harness.json"), "w") as f:
        json.dump({"target": server.name, "port": server.port, "pid": server.pid}, f)
    print(server.port, server.pid)
    return 0


def _cli_stop(dir):
    with open(os.path.join(dir, "harness.json")) as f:
        state = json.load(f)
    if state["target"] == "postgres":
        subprocess.run((["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []) +
                       [f"{PG_BIN}/pg_ctl", "stop", "-D", os.path.join(dir, "data"), "-m", "fast", "-w"],
                       check=False, capture_output=True)
        return 0
    try:
        os.kill(state["pid"], signal.SIGTERM)
    except ProcessLookupError:
        return 0
    _wait_gone(state["pid"])
    if os.path.exists(f"/proc/{state['pid']}"):
        os.kill(state["pid"], signal.SIGKILL)
    return 0


def cli(args):
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("exec")
    e.add_argument("argv", nargs="+")
    s = sub.add_parser("start")
    s.add_argument("--dir", required=True)
    s.add_argument("--durable", action="store_true")
    t = sub.add_parser("stop")
    t.add_argument("--dir", required=True)
    a = p.parse_args(args)
    if a.cmd == "stop":
        return _cli_stop(a.dir)
    reason = skip_reason()
    if reason:
        print(f"SKIP: {reason}", file=sys.stderr)
        return SKIP
    if a.cmd == "exec":
        return _cli_exec(a.argv)
    return _cli_start(a.dir, a.durable)


if __name__ == "__main__":
    sys.exit(cli(sys.argv[1:]))
