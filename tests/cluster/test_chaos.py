#!/usr/bin/python3
"""Twenty rounds of kill -9 and restart of a random node while clients write.

Clients, each on its own connection, moving to the next node when theirs
breaks:
- 4 writers insert unique ids, one implicit transaction per row, and sort
  each id by what they were told: acknowledged; unknown (the connection
  broke, 40003 statement_completion_unknown, or our own cancel raced the
  commit); or failed (any other error: the server says it did not commit);
- 2 bank clients move money between 10 accounts in explicit multi-statement
  transactions;
- 1 auditor sums the balances in a transaction, over and over.

Afterwards, on the settled cluster: every acknowledged id is present, no
failed or never-attempted id is, no id appears twice and each row holds the
writer that wrote it; the balances still add up, and no audit ever saw
them not add up. The seed of the random rounds is printed, with the counts.
"""

import collections
import itertools
import os
import random
import threading
import time
import unittest

import psycopg2

import harness
from harness import Cluster, cancel_quietly, wait_for

PORT_BASE = 27660
NODES = 3
ROUNDS = 20
WRITERS = 4
BANK_CLIENTS = 2
ACCOUNTS = 10
INITIAL_BALANCE = 1000
# A statement still running after this long is cancelled, so that a client
# waiting on a dead node moves on; the outcome is then unknown.
STATEMENT_TIMEOUT = 5
ID_SPACE = 10**6
ERROR_BACKOFF = 0.05


def ambiguous(e):
    """Whether the statement that raised e may have committed."""
    code = e.pgcode or ""
    return code == "" or code in ("40003", "57014") or code.startswith("08") or code.startswith("57P")


class Client(threading.Thread):
    """A loop of work() on one connection, reconnecting to the next node
    whenever the connection breaks, until stop is set."""

    def __init__(self, c, node, stop):
        super().__init__(daemon=True)
        self.c, self.node, self.stop = c, node, stop
        self.conn = None
        self.error = None
        self.errors = collections.Counter()  # SQLSTATE (or exception type) -> count

    def run(self):
        try:
            while not self.stop.is_set():
                if self.conn is None and not self.reconnect():
                    continue
                timer = threading.Timer(STATEMENT_TIMEOUT, cancel_quietly, (self.conn,))
                timer.start()
                try:
                    self.work()
                finally:
                    timer.cancel()
                if self.conn.closed:
                    self.conn = None
        except Exception as e:  # reported by the test, not lost in the thread
            self.error = e
        finally:
            if self.conn is not None:
                self.conn.close()

    def count(self, e):
        """Counts the error and backs off a little, as a real client would,
        so that a node failing fast is not hammered by a hot loop."""
        self.errors[e.pgcode or type(e).__name__] += 1
        time.sleep(ERROR_BACKOFF)

    def reconnect(self):
        self.node = self.node % NODES + 1
        try:
            self.conn = self.c.connect(self.node, connect_timeout=2)
            return True
        except psycopg2.OperationalError:
            time.sleep(0.2)
            return False


class Writer(Client):
    def __init__(self, c, w, stop):
        super().__init__(c, w % NODES, stop)
        self.w = w
        self.ids = itertools.count(w * ID_SPACE)
        self.acked, self.unknown, self.failed = set(), set(), set()

    def work(self):
        i = next(self.ids)
        try:
            with self.conn.cursor() as cur:
                cur.execute("INSERT INTO chaos (id, writer) VALUES (%s, %s)", (i, self.w))
            self.acked.add(i)
        except psycopg2.Error as e:
            self.count(e)
            (self.unknown if ambiguous(e) else self.failed).add(i)


class BankClient(Client):
    def __init__(self, c, b, stop, seed):
        super().__init__(c, b % NODES, stop)
        self.rng = random.Random(seed)
        self.committed = 0

    def reconnect(self):
        if not super().reconnect():
            return False
        self.conn.autocommit = False
        return True

    def work(self):
        a, b = self.rng.sample(range(ACCOUNTS), 2)
        amount = self.rng.randint(1, 50)
        try:
            with self.conn.cursor() as cur:
                cur.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, a))
                cur.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, b))
            self.conn.commit()
            self.committed += 1
        except psycopg2.Error as e:
            self.count(e)
            self.rollback()

    def rollback(self):
        """Ends a failed transaction; a connection that broke meanwhile is
        left for the next reconnect."""
        try:
            if not self.conn.closed:
                self.conn.rollback()
        except psycopg2.Error:
            pass


class Auditor(BankClient):
    def __init__(self, c, stop):
        super().__init__(c, 0, stop, 0)
        self.audits, self.anomalies = 0, []

    def work(self):
        try:
            with self.conn.cursor() as cur:
                cur.execute("SELECT count(*), sum(balance) FROM accounts")
                count, total = cur.fetchone()
            self.conn.commit()
        except psycopg2.Error as e:
            self.count(e)
            self.rollback()
            return
        self.audits += 1
        if (count, total) != (ACCOUNTS, ACCOUNTS * INITIAL_BALANCE):
            self.anomalies.append((count, total))


class ChaosTest(unittest.TestCase):
    def test_kill_and_restart_while_writing(self):
        seed = int(os.environ.get("TD_CHAOS_SEED", random.SystemRandom().randrange(2**32)))
        print(f"chaos: seed {seed} (TD_CHAOS_SEED={seed} repeats the rounds)", flush=True)
        rng = random.Random(seed)
        with Cluster(PORT_BASE) as c:
            c.start(nodes=NODES)
            c.exec(1, "CREATE TABLE chaos (id INT PRIMARY KEY, writer INT NOT NULL)")
            c.exec(1, "CREATE TABLE accounts (id INT PRIMARY KEY, balance INT NOT NULL)")
            for a in range(ACCOUNTS):
                c.exec(1, "INSERT INTO accounts VALUES (%s, %s)", (a, INITIAL_BALANCE))
            c.wait_replicated()

            stop = threading.Event()
            writers = [Writer(c, w, stop) for w in range(WRITERS)]
            bank = [BankClient(c, b, stop, rng.randrange(2**32)) for b in range(BANK_CLIENTS)]
            auditor = Auditor(c, stop)
            clients = writers + bank + [auditor]
            for t in clients:
                t.start()
            try:
                self.rounds(c, rng)
            finally:
                stop.set()
                for t in clients:
                    t.join()
            for kind in (Writer, BankClient, Auditor):
                errors = sum((t.errors for t in clients if type(t) is kind), collections.Counter())
                print(f"chaos: {kind.__name__} errors: {dict(errors.most_common())}", flush=True)
            for t in clients:
                self.assertIsNone(t.error, f"{type(t).__name__} crashed")
            self.check_rows(c, writers)
            self.check_bank(c, bank, auditor)

    def rounds(self, c, rng):
        for r in range(ROUNDS):
            victim = rng.randint(1, NODES)
            c.kill(victim)
            time.sleep(rng.uniform(1, 3))
            started = time.monotonic()
            c.restart(victim)
            print(f"chaos: round {r + 1}: node {victim} killed, restarted, ready in "
                  f"{time.monotonic() - started:.1f} s", flush=True)

    def check_rows(self, c, writers):
        rows = wait_for("the chaos table readable", lambda: c.exec_bounded(1, "SELECT id, writer FROM chaos"))
        ids = [i for i, _ in rows]
        present = set(ids)
        acked = set().union(*(w.acked for w in writers))
        unknown = set().union(*(w.unknown for w in writers))
        failed = set().union(*(w.failed for w in writers))
        print(f"chaos: {len(acked)} acknowledged, {len(unknown)} unknown ({len(unknown & present)} present), "
              f"{len(failed)} failed, {len(present)} rows", flush=True)
        self.assertGreater(len(acked), 0, "no write was ever acknowledged")
        self.assertEqual(len(ids), len(present), "an id appears more than once")
        self.assertEqual(acked - present, set(), "acknowledged writes lost")
        self.assertEqual(present - acked - unknown, set(), "rows that were never written, or failed")
        self.assertEqual([(i, w) for i, w in rows if i // ID_SPACE != w], [], "rows with another writer")

    def check_bank(self, c, bank, auditor):
        total = wait_for("the accounts readable",
                         lambda: c.exec_bounded(2, "SELECT count(*), sum(balance) FROM accounts"))
        print(f"chaos: {sum(b.committed for b in bank)} transfers committed, {auditor.audits} audits", flush=True)
        self.assertEqual(total, [(ACCOUNTS, ACCOUNTS * INITIAL_BALANCE)])
        self.assertEqual(auditor.anomalies, [], "an audit saw money created or destroyed")
        self.assertGreater(auditor.audits, 0)


if __name__ == "__main__":
    harness.main()
