#!/usr/bin/python3
"""Views through psycopg2: a view and its dependencies survive a clean
restart (the descriptor is stored in the catalog like a table's), CREATE
VIEW rolls back with its transaction, and a replaced view is what the
next statement on another connection reads. Every expectation is
PostgreSQL 15's (TD_E2E_TARGET=postgres runs them there).
"""

import psycopg2

import harness


class ViewTest(harness.ServerTestCase):
    def test_views_survive_restart(self):
        self.exec("CREATE TABLE vr (id int PRIMARY KEY, v text)")
        self.exec("INSERT INTO vr VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        self.exec("CREATE VIEW vr_odd (k, val) AS SELECT id, upper(v) FROM vr WHERE id % 2 = 1")
        self.exec("CREATE VIEW vr_top AS SELECT max(k) AS top FROM vr_odd")
        self.server.restart()
        self.assertEqual(self.exec("SELECT k, val FROM vr_odd ORDER BY k"), [(1, "A"), (3, "C")])
        self.assertEqual(self.exec("SELECT top FROM vr_top"), [(3,)])
        with self.assertRaises(psycopg2.Error) as cm:
            self.exec("DROP TABLE vr")
        self.assertEqual(cm.exception.pgcode, "2BP01")
        self.assertEqual(cm.exception.diag.message_detail,
                         "view vr_odd depends on table vr\nview vr_top depends on view vr_odd")
        self.exec("DROP VIEW vr_top, vr_odd")
        self.exec("DROP TABLE vr")

    def test_create_view_rolls_back(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE vb (id int PRIMARY KEY)")
            conn.autocommit = False
            cur.execute("CREATE VIEW vb_all AS SELECT id FROM vb")
            cur.execute("SELECT count(*) FROM vb_all")
            self.assertEqual(cur.fetchall(), [(0,)])
            conn.rollback()
            with self.assertRaises(psycopg2.Error) as cm:
                cur.execute("SELECT * FROM vb_all")
            self.assertEqual(cm.exception.pgcode, "42P01")
            conn.rollback()
            cur.execute("DROP TABLE vb")
            conn.commit()

    def test_replaced_view_seen_by_other_connection(self):
        self.exec("CREATE TABLE vc (id int PRIMARY KEY, n int)")
        self.exec("INSERT INTO vc VALUES (1, 10), (2, 20)")
        self.exec("CREATE VIEW vc_v AS SELECT id FROM vc")
        reader = self.connect()
        with reader.cursor() as cur:
            cur.execute("SELECT * FROM vc_v ORDER BY id")
            self.assertEqual(cur.fetchall(), [(1,), (2,)])
            self.exec("CREATE OR REPLACE VIEW vc_v AS SELECT id, n * 2 AS twice FROM vc")
            cur.execute("SELECT * FROM vc_v ORDER BY id")
            self.assertEqual(cur.fetchall(), [(1, 20), (2, 40)])
        self.exec("DROP VIEW vc_v")
        self.exec("DROP TABLE vc")


if __name__ == "__main__":
    harness.main()
