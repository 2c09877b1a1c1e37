#!/usr/bin/python3
"""kill -9 durability: every acknowledged write survives, nothing half-done does.

Writer threads insert rows in units, and remember what became of each:

    single   one autocommit INSERT of one row
    multi    one autocommit INSERT of three rows
    txn      BEGIN, three INSERTs, COMMIT
    rollback BEGIN, three INSERTs, ROLLBACK

A unit is "acked" when the server answered its last statement (COMMIT, or
the autocommit INSERT) with success, "rolled back" when ROLLBACK returned,
and "unknown" when the connection died first. Once some units are acked,
the server is SIGKILLed at a random moment (writers still busy), restarted
on the same store, and then:

- every row of every acked unit is there;
- no row of a rolled-back unit is there;
- an unknown unit is all there or all missing (a transaction is atomic);
- no other row exists.

Three rounds on one store; each round checks everything written so far.
A clean restart (SIGTERM) must keep tables, defaults, constraints and
sequences as well as rows.
"""

import random
import threading
import time

import psycopg2

import harness

ROUNDS = 3
WRITERS = 4
ACKED_BEFORE_KILL = 40
KINDS = ("single", "multi", "txn", "rollback")


class Writer(threading.Thread):
    def __init__(self, server, round_no, index, ledger, lock):
        super().__init__()
        self.server, self.base = server, (round_no * WRITERS + index) * 1_000_000
        self.rng = random.Random(self.base)
        self.ledger, self.lock = ledger, lock
        self.acked = 0
        self.error = None  # an SQL error: no write here should fail

    def record(self, kind, ids, outcome):
        with self.lock:
            self.ledger.append((kind, tuple(ids), outcome))

    def run(self):
        try:
            conn = self.server.connect()
        except psycopg2.Error:
            return  # killed before this writer got in
        seq = 0
        try:
            while True:
                kind = self.rng.choice(KINDS)
                ids = [self.base + seq + i for i in range(1 if kind == "single" else 3)]
                seq += len(ids)
                self.record(kind, ids, "unknown")
                outcome = self.write(conn, kind, ids)
                self.record(kind, ids, outcome)
                self.acked += 1
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            return  # the server is gone: the unit in flight stays "unknown"
        except psycopg2.Error as e:
            self.error = e
        finally:
            conn.close()

    def write(self, conn, kind, ids):
        rows = [(i, f"{kind} {ids[0]}") for i in ids]
        with conn.cursor() as cur:
            if kind in ("single", "multi"):
                cur.execute("INSERT INTO d VALUES " + ", ".join(["(%s, %s)"] * len(rows)),
                            [x for r in rows for x in r])
                return "acked"
            cur.execute("BEGIN")
            for r in rows:
                cur.execute("INSERT INTO d VALUES (%s, %s)", r)
            cur.execute("COMMIT" if kind == "txn" else "ROLLBACK")
            return "acked" if kind == "txn" else "rolled back"


class DurabilityTest(harness.ServerTestCase):
    def test_kill9_keeps_acknowledged_writes(self):
        self.exec("CREATE TABLE d (id bigint PRIMARY KEY, unit text NOT NULL)")
        rng = random.Random()
        ledger, lock = [], threading.Lock()
        for round_no in range(ROUNDS):
            with self.subTest(round=round_no):
                writers = [Writer(self.server, round_no, i, ledger, lock) for i in range(WRITERS)]
                for w in writers:
                    w.start()
                while sum(w.acked for w in writers) < ACKED_BEFORE_KILL:
                    if not any(w.is_alive() for w in writers):
                        self.fail(f"every writer stopped before the kill: {[w.error for w in writers]}")
                    time.sleep(0.01)
                time.sleep(rng.uniform(0, 0.5))
                self.server.kill9()
                for w in writers:
                    w.join()
                self.assertEqual([w.error for w in writers if w.error], [])
                self.server.start()
                self.check(ledger)

    def check(self, ledger):
        final = {}
        for kind, ids, outcome in ledger:  # the last record of a unit wins
            final[ids] = (kind, outcome)
        found = {r[0]: r[1] for r in self.exec("SELECT id, unit FROM d ORDER BY id")}
        expected_ids = set()
        for ids, (kind, outcome) in final.items():
            present = [i in found for i in ids]
            if outcome == "acked":
                self.assertTrue(all(present), f"acknowledged {kind} unit {ids} lost rows: {present}")
            elif outcome == "rolled back":
                self.assertFalse(any(present), f"rolled-back unit {ids} is visible: {present}")
            else:
                self.assertIn(set(present), ({True}, {False}), f"{kind} unit {ids} is partial: {present}")
            if all(present):
                expected_ids.update(ids)
                for i in ids:
                    self.assertEqual(found[i], f"{kind} {ids[0]}")
        self.assertEqual(set(found) - expected_ids, set(), "rows nobody wrote")
        self.assertGreater(sum(1 for k, o in final.values() if o == "acked"), 0)

    def test_clean_restart_keeps_schema_and_data(self):
        self.exec("CREATE TABLE r (id serial PRIMARY KEY, v text NOT NULL DEFAULT 'dflt', n numeric(6, 2))")
        self.exec("INSERT INTO r (v, n) VALUES ('a', 1.5), ('b', NULL)")
        self.exec("INSERT INTO r (n) VALUES (2)")
        self.exec("CREATE TABLE gone (k int PRIMARY KEY)")
        self.exec("DROP TABLE gone")
        self.server.restart()
        self.assertEqual(self.exec("SELECT id, v, n::text FROM r ORDER BY id"),
                         [(1, "a", "1.50"), (2, "b", None), (3, "dflt", "2.00")])
        # Defaults, constraints and the sequence survive with the table.
        self.assertEqual(self.exec("INSERT INTO r (n) VALUES (3) RETURNING id, v"), [(4, "dflt")])
        with self.assertRaises(psycopg2.Error) as cm:
            self.exec("INSERT INTO r (v) VALUES (NULL)")
        self.assertEqual(cm.exception.pgcode, "23502")
        with self.assertRaises(psycopg2.Error) as cm:
            self.exec("SELECT * FROM gone")
        self.assertEqual(cm.exception.pgcode, "42P01")


if __name__ == "__main__":
    harness.main()
