#!/usr/bin/python3
"""INSERT ... ON CONFLICT under concurrency (issue #7).

- Many clients upsert the same few counters (autocommit, retrying only on
  40001): every key ends up as one row whose count equals the upserts
  acknowledged for it; no 23505, nothing lost.
- Two SERIALIZABLE transactions insert the same new key with DO NOTHING
  after both have started: each commits or fails with 40001, never 23505,
  and exactly one row results; with DO UPDATE the committed upserts all
  count.

The expectations hold on PostgreSQL 15 too (it serialises the
upserts on the row, Tardigrade by its serializable reads).
"""

import threading

import psycopg2

import harness

RETRYABLE = "40001"
COUNTERS = 4


class UpsertTest(harness.ServerTestCase):
    def test_concurrent_counters(self):
        self.exec("CREATE TABLE cnt (k int PRIMARY KEY, n int NOT NULL)")
        clients, per_client = 6, 20
        done = [[0] * COUNTERS for _ in range(clients)]

        def client(i):
            conn = self.server.connect()
            try:
                with conn.cursor() as cur:
                    for j in range(per_client):
                        k = (i + j) % COUNTERS
                        while True:
                            try:
                                cur.execute("INSERT INTO cnt VALUES (%s, 1) ON CONFLICT (k) "
                                            "DO UPDATE SET n = cnt.n + 1", (k,))
                                break
                            except psycopg2.Error as e:
                                if e.pgcode != RETRYABLE:
                                    raise
                        done[i][k] += 1
            finally:
                conn.close()

        harness.run_threads(clients, client)
        want = [(k, sum(d[k] for d in done)) for k in range(COUNTERS)]
        self.assertEqual(self.exec("SELECT k, n FROM cnt ORDER BY k"), want)

    def _racing_inserts(self, table, statement):
        both_started = threading.Barrier(2, timeout=60)
        outcome = [None, None]

        def txn(i):
            def body(cur):
                cur.execute(f"SELECT count(*) FROM {table}")
                both_started.wait()
                cur.execute(statement, (i,))

            outcome[i] = harness.serializable_outcome(self.server, body)

        harness.run_threads(2, txn)
        self.assertTrue(all(o in ("commit", RETRYABLE) for o in outcome), outcome)
        self.assertIn("commit", outcome)
        return outcome

    def test_racing_do_nothing(self):
        self.exec("CREATE TABLE race1 (k int PRIMARY KEY, who int)")
        self._racing_inserts("race1", "INSERT INTO race1 VALUES (1, %s) ON CONFLICT DO NOTHING")
        self.assertEqual(self.exec("SELECT count(*) FROM race1"), [(1,)])

    def test_racing_do_update(self):
        self.exec("CREATE TABLE race2 (k int PRIMARY KEY, who int)")
        outcome = self._racing_inserts(
            "race2",
            "INSERT INTO race2 VALUES (1, %s) ON CONFLICT (k) DO UPDATE SET who = race2.who + 10")
        rows = self.exec("SELECT k, who FROM race2")
        self.assertEqual(len(rows), 1)
        # a second commit updated the first's row
        self.assertEqual(rows[0][1] >= 10, outcome.count("commit") == 2, (rows, outcome))


if __name__ == "__main__":
    harness.main()
