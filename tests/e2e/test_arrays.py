#!/usr/bin/python3
"""Arrays through a real driver (issue #7): psycopg2 recognises array
columns by their type oids (_int4 = 1007, _text = 1009, ...) and turns
the text form into Python lists, and sends lists as ARRAY[...] (an empty
list as '{}'), so lists must round-trip unchanged, NULL elements and
awkward strings included, and `= ANY(%s)` must take a list.

The expectations hold on PostgreSQL 15 too.
"""

import datetime
import decimal
import uuid

import psycopg2.extras

import harness

AWKWARD = ["a b", 'x"y', "back\\slash", "", "NULL", None, "é", "{}", "a,b", " lead"]


class ArraysTest(harness.ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        psycopg2.extras.register_uuid()
        with cls.server.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE arr (id int PRIMARY KEY, i int[], b bigint[], t text[], "
                        "v varchar(5)[], n numeric[], f float8[], o bool[], d date[], "
                        "ts timestamp[], u uuid[])")

    def test_type_oids(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("SELECT i, b, t, v, n, f, o, d, ts, u FROM arr")
            oids = [c.type_code for c in cur.description]
        self.assertEqual(oids, [1007, 1016, 1009, 1015, 1231, 1022, 1000, 1182, 1115, 2951])

    def test_lists_round_trip(self):
        row = (1, [1, None, -3], [2**40], AWKWARD, ["abc", None], [decimal.Decimal("1.50"), None],
               [0.5, -2.25], [True, False, None], [datetime.date(2020, 2, 29)],
               [datetime.datetime(2021, 1, 2, 3, 4, 5, 600000)],
               [uuid.UUID("12345678-1234-5678-1234-567812345678")])
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO arr VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", row)
            cur.execute("SELECT * FROM arr WHERE id = 1")
            self.assertEqual(cur.fetchone(), row)
            cur.execute("DELETE FROM arr WHERE id = 1")

    def test_empty_and_null_arrays(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("INSERT INTO arr (id, i, t) VALUES (2, %s, %s)", ([], None))
            cur.execute("SELECT i, t, cardinality(i) FROM arr WHERE id = 2")
            self.assertEqual(cur.fetchone(), ([], None, 0))
            cur.execute("DELETE FROM arr WHERE id = 2")

    def test_any_with_a_list_parameter(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO arr (id, t) VALUES (%s, %s)",
                            [(k, [f"tag{k}", "all"]) for k in range(10, 15)])
            cur.execute("SELECT id FROM arr WHERE id = ANY(%s) ORDER BY id", ([11, 13, 99],))
            self.assertEqual(cur.fetchall(), [(11,), (13,)])
            cur.execute("SELECT id FROM arr WHERE %s = ANY(t) AND id <> ALL(%s) ORDER BY id",
                        ("all", [10, 14]))
            self.assertEqual(cur.fetchall(), [(11,), (12,), (13,)])
            cur.execute("SELECT array_agg(id), array_agg(t[1]) FROM "
                        "(SELECT * FROM arr WHERE id >= 10 ORDER BY id) s")
            self.assertEqual(cur.fetchone(), ([10, 11, 12, 13, 14],
                                              [f"tag{k}" for k in range(10, 15)]))
            cur.execute("DELETE FROM arr WHERE id >= 10")

    def test_errors(self):
        conn = self.connect()
        with conn.cursor() as cur:
            with self.assertRaises(psycopg2.Error) as cm:
                cur.execute("SELECT %s::int[]", ("{1,x}",))
            self.assertEqual(cm.exception.pgcode, "22P02")
            self.assertEqual(cm.exception.diag.message_primary,
                             'invalid input syntax for type integer: "x"')
            with self.assertRaises(psycopg2.Error) as cm:
                cur.execute("INSERT INTO arr (id, v) VALUES (3, %s)", (["toolong"],))
            self.assertEqual(cm.exception.pgcode, "22001")


if __name__ == "__main__":
    harness.main()
