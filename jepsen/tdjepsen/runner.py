"""Drives one test run: start the database, run concurrent clients for the
requested time, run the workload's final operations, stop the database,
check the history. A run writes a results directory:

  test.json      the options of the run
  history.jsonl  every invoke and completion, appended as they happen
  results.json   the checker's verdict, with witnesses for each anomaly
  summary.txt    a few lines for people (also printed)
  node<i>/       each node's log

While the clients run, a nemesis (nemesis.py) injects faults when the
run asks for some; after the clients stop, the adapter's recover() heals
every fault and waits for every node before the final operations.

The database is stopped and its files removed on every exit path,
including exceptions and KeyboardInterrupt (the CLI turns SIGTERM into
one).
"""

import json
import os
import threading
import time
from collections import Counter

import psycopg2

from . import checkers, client, history, nemesis
from .db import open_db
from .history import INFO, OK, Recorder
from .workloads import WORKLOADS

FINAL_OP_ATTEMPTS = 5
FINAL_OP_RETRY_SECONDS = 1
# A client's last operation is bounded by the adapter's connect and
# statement timeouts; after this the run goes on without it.
CLIENT_JOIN_SECONDS = 30


class _Clients:
    """The client threads of a run and what went wrong inside them."""

    def __init__(self, db, options, workload, recorder):
        self.db, self.options, self.workload, self.recorder = db, options, workload, recorder
        self.stop = threading.Event()
        self.crashes = []

    def _connect(self):
        while not self.stop.is_set():
            try:
                return self.db.connect(self.options.isolation)
            except psycopg2.Error:
                self.stop.wait(0.2)
        return None

    def _loop(self, slot):
        process, conn = slot, None
        while not self.stop.is_set():
            conn = conn or self._connect()
            if conn is None:
                break
            f, value = self.workload.generate()
            invocation = self.recorder.invoke(process, f, value)
            type_, result, error = client.execute(conn, self.workload, f, value)
            self.recorder.complete(invocation, type_, result, error)
            if type_ == INFO:
                process += self.options.concurrency
                conn.close()
            if conn.closed:
                conn = None
        if conn is not None:
            conn.close()

    def _client(self, slot):
        try:
            self._loop(slot)
        except Exception as err:  # a harness bug: make the run unknown, keep its history
            self.crashes.append(f"client {slot}: {err!r}")
            self.stop.set()

    def run(self, seconds):
        threads = [
            threading.Thread(target=self._client, args=(slot,), daemon=True) for slot in range(self.options.concurrency)
        ]
        for thread in threads:
            thread.start()
        try:
            self.stop.wait(seconds)
        finally:
            self.stop.set()
            deadline = time.monotonic() + CLIENT_JOIN_SECONDS
            for thread in threads:
                thread.join(max(0, deadline - time.monotonic()))
        self.crashes += [f"{t.name} still running after {CLIENT_JOIN_SECONDS}s" for t in threads if t.is_alive()]


def _final_op(db, options, workload, recorder, f, value):
    """One attempt as a fresh process; True when it succeeded."""
    process = max((op.process for op in recorder.ops if isinstance(op.process, int)), default=-1) + 1
    try:
        conn = db.connect(options.isolation)
    except psycopg2.Error:
        return False
    try:
        invocation = recorder.invoke(process, f, value)
        type_, result, error = client.execute(conn, workload, f, value)
        recorder.complete(invocation, type_, result, error)
    finally:
        conn.close()
    return type_ == OK


def _final_ops(db, options, workload, recorder):
    """Runs each final op until it succeeds, FINAL_OP_ATTEMPTS at most."""
    for f, value in workload.final_ops():
        for _ in range(FINAL_OP_ATTEMPTS):
            if _final_op(db, options, workload, recorder, f, value):
                break
            time.sleep(FINAL_OP_RETRY_SECONDS)


def _setup(db, options, workload):
    conn = db.connect(options.isolation)
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            workload.setup(cursor)
    finally:
        conn.close()


def _results_dir(options):
    stamp = time.strftime("%Y%m%dT%H%M%S")
    condition = options.isolation if options.db == "postgres" else options.nemesis.replace(",", "+")
    base = os.path.join(options.results, f"{options.workload}-{options.db}-{condition}-{stamp}")
    path, n = base, 1
    while True:
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            n += 1
            path = f"{base}-{n}"


def _write_json(path, obj):
    with open(path, "w", encoding="utf-8") as stream:
        json.dump(obj, stream, indent=1, default=str)
        stream.write("\n")


def _summary(options, out, ops, result, problems):
    counts = Counter(p.type for p in history.pair(ops))
    verdict = {True: "VALID", False: "INVALID"}.get(result["valid"], "UNKNOWN")
    if "checked" in result:
        verdict += f" as {result['model']} (checked: " + ", ".join(
            f"{model} {'valid' if ok else 'invalid'}" for model, ok in result["checked"].items()
        ) + ")"
    anomalies = ", ".join(f"{name} ({count})" for name, count in result["anomaly_counts"].items())
    lines = [
        f"workload {options.workload}, db {options.db} ({options.nodes} node{'s' * (options.nodes > 1)}, "
        f"{options.isolation}), "
        f"nemesis {options.nemesis}, {options.time:g} s, {options.concurrency} clients",
        f"operations: {sum(counts.values())} ({counts[OK]} ok, {counts['fail']} fail, {counts[INFO]} info)",
        f"verdict: {verdict}",
        f"anomalies: {anomalies or 'none'}",
    ]
    lines += [f"problem: {problem}" for problem in problems]
    lines.append(f"results: {out}")
    return "\n".join(lines) + "\n"


def _load(db, options, workload, recorder, kinds):
    """Clients and nemesis for --time seconds, then recovery (for adapters
    that take faults) and the final operations; returns what went wrong
    inside the threads and the nodes that crashed."""
    clients = _Clients(db, options, workload, recorder)
    faults = nemesis.Nemesis(db, kinds, recorder, clients.stop, combined=options.nemesis == "all")
    faults.start()
    try:
        clients.run(options.time)
    finally:
        faults.finish()
    problems = clients.crashes + ([faults.error] if faults.error else [])
    if hasattr(db, "recover"):
        problems += db.recover()
    _final_ops(db, options, workload, recorder)
    return problems


def run(options):
    """Runs the test described by argparse `options`; returns the exit code
    (0 valid, 1 invalid, 2 unknown). Raises ValueError before starting
    anything if the database cannot be run."""
    kinds = nemesis.parse(options.nemesis)
    db = open_db(options.db, options.nodes)
    options.nodes = db.nodes
    if kinds and not hasattr(db, "recover"):
        raise ValueError(f"--db {options.db} takes no faults: use --nemesis none")
    workload = WORKLOADS[options.workload](options, db.upsert)
    out = _results_dir(options)
    _write_json(os.path.join(out, "test.json"), vars(options))
    recorder = Recorder(os.path.join(out, "history.jsonl"))
    try:
        db.start(out)
        _setup(db, options, workload)
        problems = _load(db, options, workload, recorder, kinds)
    finally:
        recorder.close()
        db.save_logs(out)
        db.stop()
    result = checkers.check(options.workload, recorder.ops, **workload.checker_options())
    if problems:
        result["valid"] = "unknown" if result["valid"] is True else result["valid"]
    _write_json(os.path.join(out, "results.json"), result)
    summary = _summary(options, out, recorder.ops, result, problems)
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as stream:
        stream.write(summary)
    print(summary, end="")
    return checkers.exit_code(result["valid"])
