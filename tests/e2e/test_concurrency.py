#!/usr/bin/python3
"""Concurrent sessions: conflicts end in 40001, nothing acknowledged is lost.

- Two SERIALIZABLE transactions read-modify-write one row: exactly one
  commits, the other fails with 40001 (at whichever statement the server
  detects it), and the row holds the one committed increment.
- Write skew (each transaction reads two rows, updates the other one) is
  refused: at most one commits, the other gets 40001.
- Concurrent autocommit UPDATEs of one row all succeed without client
  retries, and none is lost.
- Many clients increment counters with retries on 40001: the final values
  equal the number of increments each client saw acknowledged.
- Bank: clients move money between accounts with retries while readers
  check, in one transaction, that the total never changes.
- 200 connections open at once, each writing and reading its own row;
  on Tardigrade, 200 idle connections add far fewer than 200 threads.

Threads block in the server (lock waits, conflicts), never in Python, so
psycopg2 (which releases the GIL during queries) is enough for real
concurrency.
"""

import random
import threading

import psycopg2

import harness

RETRYABLE = "40001"


def run_with_retries(conn, body, limit=1000):
    """Runs body(cursor) in a transaction until it commits; retries on 40001
    only. Returns the number of attempts."""
    for attempt in range(1, limit + 1):
        try:
            with conn.cursor() as cur:
                body(cur)
            conn.commit()
            return attempt
        except psycopg2.Error as e:
            conn.rollback()
            if e.pgcode != RETRYABLE:
                raise
    raise AssertionError(f"no commit after {limit} attempts")


def node_threads(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("Threads:")))


class ConcurrencyTest(harness.ServerTestCase):
    def test_conflicting_read_modify_write(self):
        self.exec("CREATE TABLE rmw (k int PRIMARY KEY, v int)")
        self.exec("INSERT INTO rmw VALUES (1, 100)")
        both_read = threading.Barrier(2, timeout=60)
        outcome = [None, None]

        def body(cur):
            cur.execute("SELECT v FROM rmw WHERE k = 1")
            v = cur.fetchone()[0]
            both_read.wait()
            cur.execute("UPDATE rmw SET v = %s WHERE k = 1", (v + 1,))

        def txn(i):
            outcome[i] = harness.serializable_outcome(self.server, body)

        harness.run_threads(2, txn)
        self.assertEqual(sorted(outcome), [RETRYABLE, "commit"])
        self.assertEqual(self.exec("SELECT v FROM rmw WHERE k = 1"), [(101,)])

    def test_write_skew_is_prevented(self):
        # Two doctors on call; each goes off call if the other still is.
        # Under SERIALIZABLE at most one of them may succeed.
        self.exec("CREATE TABLE oncall (doctor int PRIMARY KEY, on_call bool NOT NULL)")
        self.exec("INSERT INTO oncall VALUES (1, true), (2, true)")
        both_read = threading.Barrier(2, timeout=60)
        outcome = [None, None]

        def txn(i):
            def body(cur):
                cur.execute("SELECT doctor FROM oncall WHERE on_call ORDER BY doctor")
                on_call = len(cur.fetchall())
                both_read.wait()
                if on_call >= 2:
                    cur.execute("UPDATE oncall SET on_call = false WHERE doctor = %s", (i + 1,))

            outcome[i] = harness.serializable_outcome(self.server, body)

        harness.run_threads(2, txn)
        self.assertLessEqual(outcome.count("commit"), 1, outcome)
        self.assertTrue(all(o in ("commit", RETRYABLE) for o in outcome), outcome)
        self.assertNotEqual(self.exec("SELECT doctor FROM oncall WHERE on_call"), [])

    def test_autocommit_updates_are_not_lost(self):
        # Single statements need no client retries: PostgreSQL serialises
        # them on the row lock, Tardigrade retries them itself while no
        # result has been sent. Every one succeeds; none is lost.
        clients, per_client = 8, 25
        self.exec("CREATE TABLE hits (k int PRIMARY KEY, v int NOT NULL)")
        self.exec("INSERT INTO hits VALUES (0, 0)")

        def client(i):
            conn = self.server.connect()
            try:
                with conn.cursor() as cur:
                    for _ in range(per_client):
                        cur.execute("UPDATE hits SET v = v + 1 WHERE k = 0")
                        self.assertEqual(cur.rowcount, 1)
            finally:
                conn.close()

        harness.run_threads(clients, client)
        self.assertEqual(self.exec("SELECT v FROM hits"), [(clients * per_client,)])

    def test_increments_with_retries_lose_nothing(self):
        clients, per_client, keys = 8, 25, 3
        self.exec("CREATE TABLE counters (k int PRIMARY KEY, v int NOT NULL)")
        self.exec("INSERT INTO counters VALUES " + ", ".join(f"({k}, 0)" for k in range(keys)))
        acked = [[0] * keys for _ in range(clients)]

        def client(i):
            conn = harness.serializable(self.server)
            rng = random.Random(i)
            try:
                for _ in range(per_client):
                    k = rng.randrange(keys)

                    def incr(cur):
                        cur.execute("SELECT v FROM counters WHERE k = %s", (k,))
                        (v,) = cur.fetchone()
                        cur.execute("UPDATE counters SET v = %s WHERE k = %s", (v + 1, k))

                    run_with_retries(conn, incr)
                    acked[i][k] += 1
            finally:
                conn.close()

        harness.run_threads(clients, client)
        expected = [(k, sum(a[k] for a in acked)) for k in range(keys)]
        self.assertEqual(self.exec("SELECT k, v FROM counters ORDER BY k"), expected)
        self.assertEqual(sum(v for _, v in expected), clients * per_client)

    def test_bank_total_is_invariant(self):
        accounts, initial, clients, transfers = 10, 1000, 6, 40
        self.exec("CREATE TABLE bank (id int PRIMARY KEY, balance int NOT NULL)")
        self.exec("INSERT INTO bank VALUES " + ", ".join(f"({i}, {initial})" for i in range(accounts)))
        total = accounts * initial
        seen_totals = []

        def transfer(cur, rng):
            a, b = rng.sample(range(accounts), 2)
            amount = rng.randrange(1, 50)
            cur.execute("SELECT balance FROM bank WHERE id = %s", (a,))
            (bal,) = cur.fetchone()
            if bal < amount:
                return
            # In id order: PostgreSQL would otherwise deadlock (40P01).
            for id, delta in sorted([(a, -amount), (b, amount)]):
                cur.execute("UPDATE bank SET balance = balance + %s WHERE id = %s", (delta, id))

        def read_total(cur):
            cur.execute("SELECT balance FROM bank ORDER BY id")
            rows = cur.fetchall()
            seen_totals.append((len(rows), sum(r[0] for r in rows)))

        def client(i):
            conn = harness.serializable(self.server)
            rng = random.Random(1000 + i)
            try:
                for _ in range(transfers):
                    if i == 0:
                        run_with_retries(conn, read_total)
                    else:
                        run_with_retries(conn, lambda cur: transfer(cur, rng))
            finally:
                conn.close()

        harness.run_threads(clients, client)
        self.assertEqual(set(seen_totals), {(accounts, total)})
        rows = self.exec("SELECT id, balance FROM bank ORDER BY id")
        self.assertEqual([r[0] for r in rows], list(range(accounts)))
        self.assertEqual(sum(r[1] for r in rows), total)
        self.assertTrue(all(r[1] >= 0 for r in rows), rows)

    def test_idle_connections_hold_no_threads(self):
        # Tardigrade's sessions live on the node loop; a worker thread runs
        # a statement, not a connection. (PostgreSQL forks a process per
        # connection, so there is nothing to compare.)
        if harness.target() != "tardigrade":
            self.skipTest("a property of Tardigrade's process model")
        n = 200
        before = node_threads(self.server.pid)
        conns = []
        try:
            for _ in range(n):
                conns.append(self.server.connect())
                with conns[-1].cursor() as cur:
                    cur.execute("SELECT 1")
            after = node_threads(self.server.pid)
        finally:
            for c in conns:
                c.close()
        self.assertLess(after - before, n // 4, f"{before} threads before {n} idle connections, {after} after")

    def test_200_concurrent_connections(self):
        n = 200
        self.exec("CREATE TABLE conns (id int PRIMARY KEY, note text)")
        conns = []
        try:
            for _ in range(n):
                conns.append(self.server.connect())
            start = threading.Barrier(n, timeout=120)

            def client(i):
                start.wait()
                with conns[i].cursor() as cur:
                    cur.execute("INSERT INTO conns VALUES (%s, %s)", (i, f"client {i}"))
                    cur.execute("SELECT note FROM conns WHERE id = %s", (i,))
                    self.assertEqual(cur.fetchone(), (f"client {i}",))

            harness.run_threads(n, client)
            with conns[0].cursor() as cur:
                cur.execute("SELECT id FROM conns ORDER BY id")
                self.assertEqual([r[0] for r in cur.fetchall()], list(range(n)))
        finally:
            for c in conns:
                c.close()


if __name__ == "__main__":
    harness.main()
