#!/usr/bin/python3
"""Subqueries and INSERT ... SELECT, as a driver (psycopg2) sees them.

Every expectation holds on PostgreSQL 15 too (TD_E2E_TARGET=postgres):
IN / NOT IN with NULLs on either side, EXISTS, scalar subqueries (NULL
for no row, 21000 for two), ANY / ALL, correlated subqueries one and two
levels deep, subqueries in FROM and WITH queries, and INSERT ... SELECT,
UPDATE and DELETE whose subqueries read the table they write.
"""

import psycopg2

import harness


class SubqueryTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.server.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE t1 (a int PRIMARY KEY, b int, c text)")
            cur.execute("INSERT INTO t1 VALUES (1, 10, 'x'), (2, 20, 'y'), (3, NULL, 'z'), (4, 40, NULL)")

    def rows(self, sql, params=None):
        with self.connect().cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def fails(self, sql, sqlstate, message):
        with self.connect().cursor() as cur:
            with self.assertRaises(psycopg2.Error, msg=sql) as cm:
                cur.execute(sql)
        self.assertEqual(cm.exception.pgcode, sqlstate, f"{sql}: {cm.exception.pgerror}")
        self.assertEqual(cm.exception.diag.message_primary, message, sql)

    def test_in_and_not_in_with_nulls(self):
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE b IN (SELECT b FROM t1 WHERE a > 1) ORDER BY a"),
                         [(2,), (4,)])
        # a NULL in the list: NOT IN is never TRUE
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE b NOT IN (SELECT b FROM t1)"), [])
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE b NOT IN (SELECT b FROM t1 WHERE a = 1) ORDER BY a"),
                         [(2,), (4,)])
        # an empty list: IN is FALSE and NOT IN TRUE, even for NULL
        self.assertEqual(self.rows("SELECT NULL::int IN (SELECT a FROM t1 WHERE false), "
                                   "NULL::int NOT IN (SELECT a FROM t1 WHERE false), "
                                   "NULL::int IN (SELECT a FROM t1)"), [(False, True, None)])

    def test_exists_scalar_any_all(self):
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE EXISTS (SELECT 1 FROM t1 x WHERE x.a = t1.a + 1) "
                                   "ORDER BY a"), [(1,), (2,), (3,)])
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t1 x WHERE x.a = t1.a + 1)"),
                         [(4,)])
        self.assertEqual(self.rows("SELECT (SELECT max(b) FROM t1), (SELECT c FROM t1 WHERE a = 9)"),
                         [(40, None)])
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE b > ALL (SELECT b FROM t1 WHERE a < 3)"), [(4,)])
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE b < ANY (SELECT b FROM t1) ORDER BY a"),
                         [(1,), (2,)])
        self.assertEqual(self.rows("SELECT a FROM t1 WHERE a = %s AND b IN (SELECT b FROM t1 WHERE c = %s)",
                                   (2, "y")), [(2,)])

    def test_correlated(self):
        self.assertEqual(self.rows("SELECT a, (SELECT count(*) FROM t1 AS x WHERE x.b < t1.b) FROM t1 ORDER BY a"),
                         [(1, 0), (2, 1), (3, 0), (4, 2)])
        self.assertEqual(self.rows("SELECT (SELECT (SELECT t1.a + x.a FROM t1 y WHERE y.a = 1) "
                                   "FROM t1 x WHERE x.a = 2) FROM t1 ORDER BY 1"), [(3,), (4,), (5,), (6,)])
        # over the groups of a grouped query: grouped columns only
        self.assertEqual(self.rows("SELECT b, (SELECT count(*) FROM t1 x WHERE x.b < t1.b) FROM t1 GROUP BY b "
                                   "ORDER BY 1"), [(10, 0), (20, 1), (40, 2), (None, 0)])
        self.fails("SELECT b, (SELECT count(*) FROM t1 x WHERE x.a = t1.a) FROM t1 GROUP BY b", "42803",
                   'subquery uses ungrouped column "t1.a" from outer query')
        self.assertEqual(self.rows("SELECT a, CASE WHEN b > (SELECT avg(b) FROM t1) THEN 'hi' ELSE 'lo' END "
                                   "FROM t1 ORDER BY a"), [(1, "lo"), (2, "lo"), (3, "lo"), (4, "hi")])

    def test_errors(self):
        self.fails("SELECT (SELECT a FROM t1)", "21000",
                   "more than one row returned by a subquery used as an expression")
        self.fails("SELECT (SELECT a, b FROM t1)", "42601", "subquery must return only one column")
        self.fails("SELECT 1 IN (SELECT a, b FROM t1)", "42601", "subquery has too many columns")
        self.fails("SELECT * FROM t1 WHERE c IN (SELECT a FROM t1)", "42883", "operator does not exist: text = integer")

    def test_from_and_with(self):
        self.assertEqual(self.rows("SELECT * FROM (SELECT a, b * 2 AS bb FROM t1 WHERE a > 1) AS s "
                                   "WHERE bb > 30 ORDER BY a"), [(2, 40), (4, 80)])
        self.assertEqual(self.rows("SELECT q FROM (SELECT a FROM t1 ORDER BY a DESC LIMIT 2) AS s (q) ORDER BY q"),
                         [(3,), (4,)])
        self.assertEqual(self.rows("WITH w AS (SELECT a FROM t1 WHERE a < 3), v (n) AS (SELECT count(*) FROM w) "
                                   "SELECT n FROM v"), [(2,)])
        self.assertEqual(self.rows("WITH w AS (SELECT a FROM t1 WHERE a < 3) "
                                   "SELECT a, (SELECT max(a) FROM w) FROM w ORDER BY a"), [(1, 2), (2, 2)])
        self.assertEqual(self.rows("WITH t1 AS (SELECT 42 AS a) SELECT a FROM t1"), [(42,)])
        # a WITH query read twice is computed once
        self.assertEqual(self.rows("WITH r AS (SELECT random() AS x) SELECT (SELECT x FROM r) = (SELECT x FROM r)"),
                         [(True,)])

    def test_insert_select(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE ins (a int PRIMARY KEY, b int, c text DEFAULT 'dflt')")
            cur.execute("INSERT INTO ins SELECT * FROM t1")
            self.assertEqual(cur.rowcount, 4)
            cur.execute("INSERT INTO ins (a, b) SELECT a + 10, b FROM t1 WHERE a > 2 RETURNING a, c")
            self.assertEqual(cur.fetchall(), [(13, "dflt"), (14, "dflt")])
            # the source is read before the first write: the table doubles once
            cur.execute("INSERT INTO ins SELECT a + 100, b, c FROM ins")
            self.assertEqual(cur.rowcount, 6)
            cur.execute("SELECT count(*) FROM ins")
            self.assertEqual(cur.fetchone(), (12,))
            # literals of unknown type take the target columns' types
            cur.execute("INSERT INTO ins SELECT '500', '7', 'lit' RETURNING a + 1, b * 2, c")
            self.assertEqual(cur.fetchall(), [(501, 14, "lit")])
        self.fails("INSERT INTO ins SELECT a, b, c, a FROM t1", "42601",
                   "INSERT has more expressions than target columns")
        self.fails("INSERT INTO ins (a, b) SELECT c, b FROM t1", "42804",
                   'column "a" is of type integer but expression is of type text')
        self.fails("INSERT INTO ins SELECT * FROM t1", "23505",
                   'duplicate key value violates unique constraint "ins_pkey"')

    def test_writes_do_not_see_their_own_rows(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE w (a int PRIMARY KEY, b int)")
            cur.execute("INSERT INTO w VALUES (1, 1)")
            for k in range(12):  # doubles up to 4096 rows, more than a write batch
                cur.execute("INSERT INTO w SELECT a + %s, b FROM w", (1 << k,))
            cur.execute("DELETE FROM w WHERE a > 3000")
            cur.execute("UPDATE w SET b = coalesce((SELECT x.b FROM w x WHERE x.a = w.a - 1), 0) + 1")
            cur.execute("SELECT sum(b), max(b) FROM w")
            self.assertEqual(cur.fetchone(), (5999, 2))
            cur.execute("DELETE FROM w WHERE EXISTS (SELECT 1 FROM w x WHERE x.a = w.a + 1)")
            self.assertEqual(cur.rowcount, 2999)
            cur.execute("SELECT a FROM w")
            self.assertEqual(cur.fetchall(), [(3000,)])


if __name__ == "__main__":
    harness.main()
