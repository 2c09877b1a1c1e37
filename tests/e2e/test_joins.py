#!/usr/bin/python3
"""Joins through psycopg2: every join kind with ON, USING and NATURAL,
comma and self joins, outer-join NULL extension (and ON against WHERE),
a 12-table join, joins larger than one lookup batch, UPDATE ... FROM and
DELETE ... USING, and the name errors of a FROM clause with several tables.
Every expectation is PostgreSQL 15's (TD_E2E_TARGET=postgres runs them
there).
"""

import psycopg2

import harness

SCHEMA = [
    "CREATE TABLE dept (id int PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE emp (id int PRIMARY KEY, name text NOT NULL, dept_id int, boss int)",
    "CREATE TABLE proj (dept_id int, n int, title text, PRIMARY KEY (dept_id, n))",
    "INSERT INTO dept VALUES (1, 'eng'), (2, 'ops'), (3, 'empty')",
    "INSERT INTO emp VALUES (1, 'ann', 1, NULL), (2, 'bob', 1, 1), (3, 'cid', 2, 1), "
    "(4, 'dan', NULL, 2)",
    "INSERT INTO proj VALUES (1, 1, 'db'), (1, 2, 'net'), (2, 1, 'ci'), (9, 1, 'lost')",
]


class JoinTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.server.connect() as conn, conn.cursor() as cur:
            for sql in SCHEMA:
                cur.execute(sql)

    def rows(self, sql, args=None):
        return self.exec(sql, args)

    def test_inner_joins(self):
        self.assertEqual(
            self.rows("SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id "
                      "ORDER BY e.id"),
            [("ann", "eng"), ("bob", "eng"), ("cid", "ops")])
        self.assertEqual(
            self.rows("SELECT e.name, d.name FROM emp e, dept d WHERE e.dept_id = d.id "
                      "AND d.name = 'ops'"),
            [("cid", "ops")])
        self.assertEqual(self.rows("SELECT count(*) FROM emp CROSS JOIN dept"), [(12,)])

    def test_subqueries_over_joins(self):
        # WHERE conjuncts with subqueries filter the joined rows; names of
        # an enclosing query reach into a join inside a subquery
        self.assertEqual(
            self.rows("SELECT e.name, d.name FROM emp e JOIN dept d ON e.dept_id = d.id "
                      "WHERE EXISTS (SELECT 1 FROM emp x WHERE x.boss = e.id) ORDER BY e.id"),
            [("ann", "eng"), ("bob", "eng")])
        self.assertEqual(
            self.rows("SELECT e.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id "
                      "WHERE d.id IS NULL OR e.id IN (SELECT boss FROM emp) ORDER BY e.id"),
            [("ann",), ("bob",), ("dan",)])
        self.assertEqual(
            self.rows("SELECT d.name FROM dept d WHERE EXISTS (SELECT 1 FROM emp e JOIN proj p "
                      "ON p.dept_id = e.dept_id WHERE e.dept_id = d.id AND p.title > 'd') "
                      "ORDER BY d.id"),
            [("eng",)])
        self.assertEqual(
            self.rows("SELECT count(*) FROM emp e, dept d WHERE e.dept_id = d.id "
                      "AND d.id = (SELECT max(dept_id) FROM proj WHERE dept_id < 9)"),
            [(1,)])

    def test_outer_joins_extend_with_nulls(self):
        self.assertEqual(
            self.rows("SELECT e.name, d.name FROM emp e LEFT JOIN dept d ON e.dept_id = d.id "
                      "ORDER BY e.id"),
            [("ann", "eng"), ("bob", "eng"), ("cid", "ops"), ("dan", None)])
        self.assertEqual(
            self.rows("SELECT e.name, d.name FROM emp e RIGHT JOIN dept d ON e.dept_id = d.id "
                      "ORDER BY d.id, e.id"),
            [("ann", "eng"), ("bob", "eng"), ("cid", "ops"), (None, "empty")])
        self.assertEqual(
            self.rows("SELECT e.name, d.name FROM emp e FULL JOIN dept d ON e.dept_id = d.id "
                      "ORDER BY e.id, d.id"),
            [("ann", "eng"), ("bob", "eng"), ("cid", "ops"), ("dan", None), (None, "empty")])

    def test_on_differs_from_where_in_outer_joins(self):
        self.assertEqual(
            self.rows("SELECT d.name, e.name FROM dept d LEFT JOIN emp e "
                      "ON e.dept_id = d.id AND e.name <> 'ann' ORDER BY d.id, e.id"),
            [("eng", "bob"), ("ops", "cid"), ("empty", None)])
        self.assertEqual(
            self.rows("SELECT d.name FROM dept d LEFT JOIN emp e ON e.dept_id = d.id "
                      "WHERE e.id IS NULL"),
            [("empty",)])
        self.assertEqual(
            self.rows("SELECT d.name, count(e.id) FROM dept d LEFT JOIN emp e "
                      "ON e.dept_id = d.id GROUP BY d.name ORDER BY 1"),
            [("empty", 0), ("eng", 2), ("ops", 1)])

    def test_using_and_natural(self):
        self.assertEqual(
            self.rows("SELECT * FROM proj JOIN dept ON proj.dept_id = dept.id "
                      "JOIN emp USING (dept_id) WHERE emp.id = 3"),
            [(2, 1, "ci", 2, "ops", 3, "cid", 1)])
        cur = self.connect().cursor()
        cur.execute("SELECT * FROM emp FULL JOIN proj USING (dept_id) ORDER BY 1, 2, 5")
        self.assertEqual([d[0] for d in cur.description],
                         ["dept_id", "id", "name", "boss", "n", "title"])
        self.assertEqual(cur.fetchall(), [
            (1, 1, "ann", None, 1, "db"), (1, 1, "ann", None, 2, "net"),
            (1, 2, "bob", 1, 1, "db"), (1, 2, "bob", 1, 2, "net"),
            (2, 3, "cid", 1, 1, "ci"), (9, None, None, None, 1, "lost"),
            (None, 4, "dan", 2, None, None)])
        self.assertEqual(
            self.rows("SELECT * FROM proj NATURAL JOIN emp WHERE n = 2 ORDER BY name"),
            [(1, 2, "net", 1, "ann", None), (1, 2, "net", 2, "bob", 1)])
        # NATURAL over id and name: no employee shares a department's name
        self.assertEqual(self.rows("SELECT count(*) FROM dept NATURAL JOIN emp"), [(0,)])

    def test_self_joins(self):
        self.assertEqual(
            self.rows("SELECT w.name, b.name FROM emp w JOIN emp b ON w.boss = b.id "
                      "WHERE b.name = %s ORDER BY w.id", ("ann",)),
            [("bob", "ann"), ("cid", "ann")])
        self.assertEqual(
            self.rows("SELECT w.name FROM emp w LEFT JOIN emp b ON w.boss = b.id "
                      "WHERE b.id IS NULL"),
            [("ann",)])

    def test_twelve_tables(self):
        sql = "SELECT count(*), min(t1.name) FROM emp t1"
        for i in range(2, 13):
            sql += f" JOIN emp t{i} ON t{i}.id = t{i - 1}.id"
        self.assertEqual(self.rows(sql + " WHERE t12.dept_id = 1"), [(2, "ann")])

    def test_more_rows_than_a_batch(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE many (id int PRIMARY KEY, d int)")
            cur.execute("INSERT INTO many VALUES " +
                        ", ".join(f"({i}, {i % 4})" for i in range(1, 2501)))
            cur.execute("SELECT d.name, count(*) FROM many m JOIN dept d ON d.id = m.d "
                        "GROUP BY d.name ORDER BY 1")
            self.assertEqual(cur.fetchall(), [("empty", 625), ("eng", 625), ("ops", 625)])
            cur.execute("SELECT count(*), count(p.title) FROM many m "
                        "LEFT JOIN proj p ON p.dept_id = m.d")
            self.assertEqual(cur.fetchall(), [(3125, 1875)])

    def test_update_from_and_delete_using(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE stock (item int PRIMARY KEY, qty int NOT NULL)")
            cur.execute("CREATE TABLE moves (item int, delta int)")
            cur.execute("INSERT INTO stock VALUES (1, 10), (2, 20), (3, 30)")
            cur.execute("INSERT INTO moves VALUES (1, -4), (3, 5), (3, 5), (7, 1)")
            cur.execute("UPDATE stock SET qty = qty + m.delta FROM moves m "
                        "WHERE m.item = stock.item")
            self.assertEqual(cur.rowcount, 2)  # item 3 matches twice, changes once
            cur.execute("SELECT * FROM stock ORDER BY item")
            self.assertEqual(cur.fetchall(), [(1, 6), (2, 20), (3, 35)])
            cur.execute("DELETE FROM stock USING moves m WHERE m.item = stock.item "
                        "AND m.delta > 0")
            self.assertEqual(cur.rowcount, 1)
            cur.execute("SELECT item FROM stock ORDER BY item")
            self.assertEqual(cur.fetchall(), [(1,), (2,)])

    def test_name_errors(self):
        cases = [
            ("SELECT id FROM emp, dept", "42702", 'column reference "id" is ambiguous'),
            ("SELECT * FROM emp, emp", "42712", 'table name "emp" specified more than once'),
            ("SELECT x.id FROM emp JOIN dept ON true", "42P01",
             'missing FROM-clause entry for table "x"'),
            ("SELECT * FROM emp JOIN dept USING (nope)", "42703",
             'column "nope" specified in USING clause does not exist in left table'),
            ("SELECT * FROM emp JOIN dept ON emp.name", "42804",
             "argument of JOIN/ON must be type boolean, not type text"),
        ]
        conn = self.connect()
        conn.autocommit = True
        for sql, state, message in cases:
            with self.subTest(sql), conn.cursor() as cur:
                with self.assertRaises(psycopg2.Error) as cm:
                    cur.execute(sql)
                self.assertEqual(cm.exception.pgcode, state, cm.exception.pgerror)
                self.assertEqual(cm.exception.diag.message_primary, message)


if __name__ == "__main__":
    harness.main()
