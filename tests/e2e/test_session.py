#!/usr/bin/python3
"""Session-level behaviour: cancel, statement_timeout, ParameterStatus.

Cancel: a `SELECT pg_sleep(30)` is cancelled from another thread through
libpq's CancelRequest (conn.cancel()) and must fail with 57014; the
connection then works again. A cancel can arrive before the statement
started (the server then ignores it, as PostgreSQL does), so the canceller
repeats it until the statement returns. No test depends on how long
anything takes.
"""

import threading

import psycopg2

import harness

CANCELED = "57014"


class SessionTest(harness.ServerTestCase):
    def run_cancelled(self, conn, sql):
        """Runs `sql` on conn while another thread cancels it; the error."""
        done = threading.Event()

        def canceller():
            while not done.wait(0.2):
                conn.cancel()

        t = threading.Thread(target=canceller)
        t.start()
        try:
            with conn.cursor() as cur, self.assertRaises(psycopg2.Error) as cm:
                cur.execute(sql)
        finally:
            done.set()
            t.join()
        return cm.exception

    def test_cancel_pg_sleep(self):
        conn = self.connect()
        e = self.run_cancelled(conn, "SELECT pg_sleep(30)")
        self.assertEqual(e.pgcode, CANCELED)
        self.assertEqual(e.diag.message_primary, "canceling statement due to user request")
        with conn.cursor() as cur:
            cur.execute("SELECT 42")
            self.assertEqual(cur.fetchone(), (42,))

    def test_cancel_inside_transaction_aborts_it(self):
        self.exec("CREATE TABLE c (k int PRIMARY KEY)")
        conn = self.connect(autocommit=False)
        with conn.cursor() as cur:
            cur.execute("INSERT INTO c VALUES (1)")
        e = self.run_cancelled(conn, "SELECT pg_sleep(30)")
        self.assertEqual(e.pgcode, CANCELED)
        with conn.cursor() as cur, self.assertRaises(psycopg2.Error) as cm:
            cur.execute("SELECT 1")
        self.assertEqual(cm.exception.pgcode, "25P02")
        conn.rollback()
        self.assertEqual(self.exec("SELECT k FROM c"), [])

    def test_cancel_reaches_only_its_session(self):
        victim, bystander = self.connect(), self.connect()
        result = []

        def sleep_briefly():
            with bystander.cursor() as cur:
                cur.execute("SELECT pg_sleep(1), 7")
                result.append(cur.fetchone()[1])

        t = threading.Thread(target=sleep_briefly)
        t.start()
        e = self.run_cancelled(victim, "SELECT pg_sleep(30)")
        t.join()
        self.assertEqual(e.pgcode, CANCELED)
        self.assertEqual(result, [7])

    def test_statement_timeout(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("SET statement_timeout = 100")
            with self.assertRaises(psycopg2.Error) as cm:
                cur.execute("SELECT pg_sleep(30)")
        self.assertEqual(cm.exception.pgcode, CANCELED)
        self.assertEqual(cm.exception.diag.message_primary, "canceling statement due to statement timeout")

    def test_parameter_status(self):
        conn = self.connect(application_name="e2e-startup")
        status = conn.get_parameter_status
        self.assertEqual(status("server_encoding"), "UTF8")
        self.assertEqual(status("client_encoding"), "UTF8")
        self.assertEqual(status("DateStyle"), "ISO, MDY")
        self.assertEqual(status("IntervalStyle"), "postgres")
        self.assertEqual(status("integer_datetimes"), "on")
        self.assertEqual(status("standard_conforming_strings"), "on")
        self.assertEqual(status("application_name"), "e2e-startup")
        self.assertEqual(status("is_superuser"), "on")
        self.assertEqual(status("session_authorization"), harness.USER)
        self.assertIsNotNone(status("TimeZone"))
        # psql and pgbench choose their queries by the version: 13 or newer.
        self.assertGreaterEqual(conn.server_version, 130000)

    def test_set_reports_parameter_status(self):
        conn = self.connect()
        for name, value in (("application_name", "renamed"), ("TimeZone", "Europe/Paris")):
            with self.subTest(name), conn.cursor() as cur:
                cur.execute(f"SET {name} = %s", (value,))
                self.assertEqual(conn.get_parameter_status(name), value)

    def test_transaction_status(self):
        conn = self.connect(autocommit=False)
        status = conn.info.transaction_status
        self.assertEqual(status, psycopg2.extensions.TRANSACTION_STATUS_IDLE)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
            self.assertEqual(conn.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_INTRANS)
            with self.assertRaises(psycopg2.Error):
                cur.execute("SELECT 1 / 0")
            self.assertEqual(conn.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_INERROR)
        conn.rollback()
        self.assertEqual(conn.info.transaction_status, psycopg2.extensions.TRANSACTION_STATUS_IDLE)

    def test_multi_statement_simple_query(self):
        conn = self.connect()
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE m (k int PRIMARY KEY); INSERT INTO m VALUES (1), (2); SELECT k FROM m ORDER BY k")
            self.assertEqual(cur.fetchall(), [(1,), (2,)])
            self.assertEqual(cur.statusmessage, "SELECT 2")
            cur.execute("INSERT INTO m VALUES (3); UPDATE m SET k = k + 10 WHERE k > 1")
            self.assertEqual(cur.statusmessage, "UPDATE 2")
            cur.execute("DELETE FROM m WHERE k = 1")
            self.assertEqual(cur.statusmessage, "DELETE 1")
            cur.execute("INSERT INTO m VALUES (4), (5)")
            self.assertEqual(cur.statusmessage, "INSERT 0 2")

    def test_multi_statement_error_rolls_back_the_whole_string(self):
        # A simple Query is one implicit transaction: an error undoes the
        # statements before it and skips the ones after.
        self.exec("CREATE TABLE ms (k int PRIMARY KEY)")
        conn = self.connect()
        with conn.cursor() as cur, self.assertRaises(psycopg2.Error) as cm:
            cur.execute("INSERT INTO ms VALUES (1); SELECT 1 / 0; INSERT INTO ms VALUES (2)")
        self.assertEqual(cm.exception.pgcode, "22012")
        self.assertEqual(self.exec("SELECT k FROM ms"), [])
        with conn.cursor() as cur:
            cur.execute("INSERT INTO ms VALUES (3); BEGIN; INSERT INTO ms VALUES (4); COMMIT; SELECT 1")
        self.assertEqual(self.exec("SELECT k FROM ms ORDER BY k"), [(3,), (4,)])


if __name__ == "__main__":
    harness.main()
