#!/usr/bin/python3
"""SQLSTATEs of common mistakes, as a driver (psycopg2) sees them.

Each case runs one statement that must fail with one SQLSTATE, on a table
created fresh for the class; the session must stay usable afterwards
(outside a transaction block an error ends only its statement). Messages
are checked where every client shows them to people; positions are the
psql scripts' business (sql/errors.sql).
"""

import psycopg2

import harness

CASES = [
    # (name, statement, SQLSTATE, message)
    ("undefined_table", "SELECT * FROM nosuch", "42P01", 'relation "nosuch" does not exist'),
    ("undefined_column", "SELECT nosuch FROM s", "42703", 'column "nosuch" does not exist'),
    ("syntax_error", "SELEC 1", "42601", 'syntax error at or near "SELEC"'),
    ("syntax_error_at_end", "SELECT * FROM s WHERE", "42601", "syntax error at end of input"),
    ("unique_violation", "INSERT INTO s VALUES (1, 'dup', 0)", "23505",
     'duplicate key value violates unique constraint "s_pkey"'),
    ("not_null_violation", "INSERT INTO s (id) VALUES (9)", "23502",
     'null value in column "v" of relation "s" violates not-null constraint'),
    ("invalid_text_representation", "INSERT INTO s VALUES (9, 'x', 'abc')", "22P02",
     'invalid input syntax for type integer: "abc"'),
    ("invalid_text_in_where", "SELECT * FROM s WHERE id = '1.5x'", "22P02",
     'invalid input syntax for type integer: "1.5x"'),
    ("numeric_out_of_range", "INSERT INTO s VALUES (9, 'x', 2147483648)", "22003", "integer out of range"),
    ("overflow_in_arithmetic", "SELECT n * 1000000000 FROM s WHERE id = 2", "22003", "integer out of range"),
    ("smallint_out_of_range", "SELECT 40000::int2", "22003", "smallint out of range"),
    ("division_by_zero", "SELECT n / 0 FROM s", "22012", "division by zero"),
    ("duplicate_table", "CREATE TABLE s (a int)", "42P07", 'relation "s" already exists'),
    ("undefined_function", "SELECT nosuchfunc(1)", "42883", "function nosuchfunc(integer) does not exist"),
    ("datatype_mismatch", "SELECT * FROM s WHERE v = 1", "42883", "operator does not exist: text = integer"),
    ("string_too_long", "INSERT INTO s VALUES (9, 'x', 1, 'abcdef')", "22001",
     "value too long for type character varying(3)"),
    ("bad_date", "SELECT '2023-02-29'::date", "22008", 'date/time field value out of range: "2023-02-29"'),
    # FOR UPDATE with UNION is refused by PostgreSQL as a feature it lacks;
    # Tardigrade has no FOR UPDATE: both must say 0A000, whatever the words.
    ("feature_not_supported", "SELECT 1 UNION SELECT 2 FOR UPDATE", "0A000", None),
    ("cross_database_reference", "SELECT * FROM otherdb.public.s", "0A000", None),
]

# What this issue leaves out (joins, aggregates, ARRAY(subquery), WITH
# RECURSIVE, partial indexes, COPY (query)) is Tardigrade's 0A000 and
# PostgreSQL's success,
# so these run against Tardigrade only.
UNSUPPORTED = [
    "SELECT '{{1,2},{3,4}}'::int[]",
    "SELECT s.id FROM s JOIN s AS t USING (id) AS j",
    "SELECT array_agg(ARRAY[id]) FROM s",
    "CREATE INDEX s_n ON s (n) WHERE n > 0",
    "COPY (SELECT id FROM s) TO STDOUT",
    "SELECT id FROM s GROUP BY ROLLUP (id)",
    "WITH RECURSIVE x AS (SELECT 1) SELECT * FROM x",
]


class SqlStateTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.server.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE s (id int PRIMARY KEY, v text NOT NULL, n int, c varchar(3))")
            cur.execute("INSERT INTO s VALUES (1, 'one', 10), (2, 'two', 20)")

    def assert_fails(self, conn, sql, sqlstate, message=None):
        with conn.cursor() as cur:
            with self.assertRaises(psycopg2.Error, msg=sql) as cm:
                cur.execute(sql)
        self.assertEqual(cm.exception.pgcode, sqlstate, f"{sql}: {cm.exception.pgerror}")
        if message is not None:
            self.assertEqual(cm.exception.diag.message_primary, message, sql)
        return cm.exception

    def test_cases(self):
        conn = self.connect()
        for name, sql, sqlstate, message in CASES:
            with self.subTest(name):
                self.assert_fails(conn, sql, sqlstate, message)
                with conn.cursor() as cur:  # the session survives
                    cur.execute("SELECT 1")
                    self.assertEqual(cur.fetchone(), (1,))

    def test_error_fields(self):
        conn = self.connect()
        e = self.assert_fails(conn, "INSERT INTO s VALUES (1, 'dup', 0)", "23505")
        self.assertEqual(e.diag.severity, "ERROR")
        self.assertEqual(e.diag.message_detail, "Key (id)=(1) already exists.")
        e = self.assert_fails(conn, "SELECT id FROM s WHERE nosuch = 1", "42703")
        self.assertEqual(e.diag.statement_position, "24")
        e = self.assert_fails(conn, "SELECT * FROM s WHERE v = 1", "42883")
        self.assertEqual(e.diag.message_hint, "No operator matches the given name and argument types. "
                         "You might need to add explicit type casts.")

    def test_in_failed_transaction(self):
        conn = self.connect(autocommit=False)
        self.assert_fails(conn, "SELECT 1 / 0", "22012")
        for sql in ("SELECT 1", "INSERT INTO s VALUES (7, 'x', 0)", "SELECT * FROM nosuch"):
            self.assert_fails(conn, sql, "25P02",
                              "current transaction is aborted, commands ignored until end of transaction block")
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM s WHERE id = 7")
            self.assertEqual(cur.fetchall(), [])
        conn.rollback()

    def test_error_leaves_no_partial_statement(self):
        # The second row of a multi-row INSERT fails: the first is not kept.
        conn = self.connect()
        self.assert_fails(conn, "INSERT INTO s VALUES (5, 'five', 5), (1, 'dup', 0)", "23505")
        with conn.cursor() as cur:
            cur.execute("SELECT id FROM s WHERE id = 5")
            self.assertEqual(cur.fetchall(), [])

    def test_unsupported_is_0A000(self):
        if harness.target() != "tardigrade":
            self.skipTest("PostgreSQL supports these")
        conn = self.connect()
        for sql in UNSUPPORTED:
            with self.subTest(sql):
                e = self.assert_fails(conn, sql, "0A000")
                self.assertTrue(e.diag.message_primary, sql)


if __name__ == "__main__":
    harness.main()
