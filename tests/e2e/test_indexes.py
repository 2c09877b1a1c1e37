#!/usr/bin/python3
"""Secondary indexes through psycopg2, with PostgreSQL's results.

CREATE [UNIQUE] INDEX on a table with rows (and with writers running
during the build: no row may lack its entry afterwards), queries whose
WHERE an index serves compared with the same query the index cannot
serve (`v + 0`), entries kept by UPDATE, DELETE and COPY, unique
violations and a failed unique build with PostgreSQL's wording and
detail, DROP INDEX and IF [NOT] EXISTS notices. Every expectation holds
on PostgreSQL 15 (TD_E2E_TARGET=postgres) except EXPLAIN's text,
checked on Tardigrade only.
"""

import io
import threading

import psycopg2

import harness

ROWS = 3000
WRITES = 300
RETRYABLE = "40001"


def v_of(i):
    return None if i % 10 == 0 else i % 13


class IndexTest(harness.ServerTestCase):
    def setUp(self):
        self.exec("DROP TABLE IF EXISTS t")
        self.exec("CREATE TABLE t (id int PRIMARY KEY, v int, w text)")
        conn = self.connect()
        with conn.cursor() as cur:
            args = ",".join(cur.mogrify("(%s,%s,%s)", (i, v_of(i), f"w{i}")).decode()
                            for i in range(1, ROWS + 1))
            cur.execute("INSERT INTO t VALUES " + args)

    def same(self, indexed, full):
        self.assertEqual(self.exec(indexed), self.exec(full), indexed)

    def error(self, sql):
        with self.assertRaises(psycopg2.Error) as cm:
            self.exec(sql)
        return cm.exception

    def test_index_answers_like_a_full_scan(self):
        self.exec("CREATE INDEX t_v_idx ON t (v DESC, w)")
        for where in ("v = 3", "v > 7", "v <= 2", "v BETWEEN 4 AND 6", "v IN (1, 12, NULL)",
                      "v = 3 AND w > 'w5'", "v IS NULL"):
            self.same(f"SELECT id, v, w FROM t WHERE {where} ORDER BY id",
                      f"SELECT id, v, w FROM t WHERE {where.replace('v', 'v + 0')} ORDER BY id")
        self.assertEqual(self.exec("SELECT id FROM t WHERE v = NULL"), [])
        self.assertEqual(self.exec("SELECT v FROM t ORDER BY v DESC, id LIMIT 2"),
                         [(None,), (None,)])
        self.assertEqual(self.exec("SELECT v FROM t ORDER BY v, w LIMIT 1"), [(0,)])

    def test_writes_keep_entries(self):
        self.exec("CREATE INDEX t_v_idx ON t (v)")
        self.exec("UPDATE t SET v = v + 1 WHERE id % 3 = 0")
        self.exec("UPDATE t SET id = id + 100000 WHERE v = 5")
        self.exec("DELETE FROM t WHERE v = 7")
        self.exec("INSERT INTO t VALUES (-1, 7, 'back'), (-2, NULL, 'null')")
        conn = self.connect()
        with conn.cursor() as cur:
            cur.copy_expert("COPY t FROM STDIN",
                            io.StringIO("".join(f"{-10 - i}\t{i % 15}\tc{i}\n" for i in range(50))))
        for v in range(0, 15):
            self.same(f"SELECT id, w FROM t WHERE v = {v} ORDER BY id",
                      f"SELECT id, w FROM t WHERE v + 0 = {v} ORDER BY id")

    def test_unique_index(self):
        e = self.error("CREATE UNIQUE INDEX u ON t (v)")
        self.assertEqual(e.pgcode, "23505")
        self.assertEqual(e.diag.message_primary, 'could not create unique index "u"')
        self.assertRegex(e.diag.message_detail, r"^Key \(v\)=\(\d+\) is duplicated\.$")
        self.exec("CREATE UNIQUE INDEX u ON t (w)")
        e = self.error("INSERT INTO t VALUES (0, 1, 'w7')")
        self.assertEqual(e.pgcode, "23505")
        self.assertEqual(e.diag.message_primary,
                         'duplicate key value violates unique constraint "u"')
        self.assertEqual(e.diag.message_detail, "Key (w)=(w7) already exists.")
        self.exec("INSERT INTO t VALUES (-1, 1, NULL), (-2, 1, NULL)")
        self.assertEqual(self.exec("SELECT id FROM t WHERE w = 'w9'"), [(9,)])

    def test_names_and_notices(self):
        self.exec("CREATE INDEX i ON t (v)")
        self.assertEqual(self.error("CREATE INDEX i ON t (w)").pgcode, "42P07")
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE INDEX IF NOT EXISTS i ON t (w)")
            cur.execute("DROP INDEX i")
            cur.execute("DROP INDEX IF EXISTS i")
        self.assertEqual(conn.notices, [
            'NOTICE:  relation "i" already exists, skipping\n',
            'NOTICE:  index "i" does not exist, skipping\n'])
        e = self.error("DROP INDEX i")
        self.assertEqual((e.pgcode, e.diag.message_primary), ("42704", 'index "i" does not exist'))
        e = self.error("DROP INDEX t_pkey")
        self.assertEqual(e.pgcode, "2BP01")
        self.assertEqual(e.diag.message_primary,
                         "cannot drop index t_pkey because constraint t_pkey on table t requires it")
        self.assertEqual(e.diag.message_hint, "You can drop constraint t_pkey on table t instead.")
        e = self.error("DROP INDEX t")
        self.assertEqual((e.pgcode, e.diag.message_primary), ("42809", '"t" is not an index'))

    def test_build_during_writes(self):
        """Writers insert while the index is built; every row has its entry.

        The build reads the whole table in the transaction that adds the
        index, so a writer that commits meanwhile fails it with 40001 on
        Tardigrade (PostgreSQL makes writers wait instead): the client
        retries, as it would any serialization failure."""
        errors = []

        def writer(base):
            conn = self.server.connect()
            try:
                i = 0
                while i < WRITES:
                    try:
                        with conn.cursor() as cur:
                            cur.execute("INSERT INTO t VALUES (%s, %s, 'x')", (base + i, i % 13))
                        i += 1
                    except psycopg2.Error as e:
                        if e.pgcode != RETRYABLE:
                            raise
            except Exception as e:  # reported by the main thread
                errors.append(e)
            finally:
                conn.close()

        threads = [threading.Thread(target=writer, args=(1000000 * (k + 1),)) for k in range(2)]
        for th in threads:
            th.start()
        try:
            for _ in range(1000):
                try:
                    self.exec("CREATE INDEX t_v_idx ON t (v)")
                    break
                except psycopg2.Error as e:
                    if e.pgcode != RETRYABLE:
                        raise
        finally:
            for th in threads:
                th.join()
        self.assertEqual(errors, [])
        self.assertEqual(self.exec("SELECT count(*) FROM t WHERE id > %s", (ROWS,)),
                         [(2 * WRITES,)])
        for v in range(0, 13):
            self.same(f"SELECT id FROM t WHERE v = {v} ORDER BY id",
                      f"SELECT id FROM t WHERE v + 0 = {v} ORDER BY id")

    def test_explain_names_the_path(self):
        if harness.target() == "postgres":
            self.skipTest("EXPLAIN's text is PostgreSQL's own there")
        self.exec("CREATE INDEX t_v_idx ON t (v)")
        plan = [r[0] for r in self.exec("EXPLAIN SELECT id FROM t WHERE v = 3")]
        self.assertEqual(plan, ["Index Only Scan using t_v_idx on t"])
        plan = [r[0] for r in self.exec("EXPLAIN SELECT * FROM t ORDER BY v DESC LIMIT 5")]
        self.assertEqual(plan, ["Limit", "  ->  Index Scan Backward using t_v_idx on t"])
        plan = [r[0] for r in self.exec("EXPLAIN SELECT * FROM t WHERE w = 'w1'")]
        self.assertEqual(plan, ["Seq Scan on t"])
        plan = [r[0] for r in self.exec("EXPLAIN ANALYZE SELECT * FROM t WHERE v = 3")]
        self.assertRegex(plan[0], r"^Index Scan using t_v_idx on t  \(actual rows=\d+ time=")
        self.assertRegex(plan[-1], r"^Execution Time: ")


if __name__ == "__main__":
    harness.main()
