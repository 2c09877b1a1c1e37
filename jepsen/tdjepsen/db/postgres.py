"""A throwaway PostgreSQL 15 server for a run.

initdb into a fresh temporary directory, then pg_ctl start listening on
127.0.0.1 at a free port with its unix socket in that directory. As root
the server runs as the `postgres` user (runuser), which owns the directory.
Durability settings are off: the runs inject no crashes, and isolation
does not depend on fsync.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile

import psycopg2
import psycopg2.extensions as ext

BIN = "/usr/lib/postgresql/15/bin"
ISOLATION = {
    "serializable": ext.ISOLATION_LEVEL_SERIALIZABLE,
    "repeatable-read": ext.ISOLATION_LEVEL_REPEATABLE_READ,
    "read-committed": ext.ISOLATION_LEVEL_READ_COMMITTED,
}
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    # Transactions append to hot keys in random order, so deadlocks are
    # routine; detecting them after the default 1 s would stall the run.
    "deadlock_timeout": "20ms",
}
STATEMENT_TIMEOUT_MS = 5000


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Postgres:
    default_nodes = 1
    upsert = True

    def __init__(self, nodes):
        if nodes != 1:
            raise ValueError("--db postgres runs a single server: use --nodes 1")
        self.nodes = nodes
        self.dir = self.port = None
        self._as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *argv):
        done = subprocess.run(self._as_postgres + list(argv), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{os.path.basename(argv[0])} failed: {done.stderr.strip() or done.stdout.strip()}")

    @property
    def _data(self):
        return os.path.join(self.dir, "data")

    @property
    def _log(self):
        return os.path.join(self.dir, "postgresql.log")

    def start(self, out):
        """Runs the server in a new temporary directory (not `out`: the
        postgres user must own it); save_logs() copies its log to `out`."""
        self.dir = tempfile.mkdtemp(prefix="tdjepsen-pg-")
        if self._as_postgres:
            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
        self._run(f"{BIN}/initdb", "-D", self._data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
        self.port = _free_port()
        options = " ".join(f"-c {k}={v}" for k, v in SETTINGS.items())
        options += f" -p {self.port} -k {self.dir}"
        self._run(f"{BIN}/pg_ctl", "start", "-D", self._data, "-l", self._log, "-w", "-t", "60", "-o", options)

    def connect(self, isolation):
        """A new connection (caller closes it) at `isolation`, autocommit off."""
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname="postgres",
            connect_timeout=5,
            options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
        )
        conn.set_session(isolation_level=ISOLATION[isolation], autocommit=False)
        return conn

    def save_logs(self, dest):
        if self.dir and os.path.exists(self._log):
            os.makedirs(os.path.join(dest, "node1"), exist_ok=True)
            shutil.copy(self._log, os.path.join(dest, "node1", "postgresql.log"))

    def stop(self):
        if self.dir is None:
            return
        if os.path.exists(os.path.join(self._data, "postmaster.pid")):
            try:
                self._run(f"{BIN}/pg_ctl", "stop", "-D", self._data, "-m", "fast", "-w", "-t", "30")
            except (RuntimeError, subprocess.TimeoutExpired):
                self._run(f"{BIN}/pg_ctl", "stop", "-D", self._data, "-m", "immediate", "-w")
        shutil.rmtree(self.dir)
        self.dir = None
