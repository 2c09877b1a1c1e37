#!/usr/bin/python3
"""COPY through psycopg2's copy_expert and stock pgbench.

copy_expert streams a file in 8 KB CopyData chunks, so rows and quoted
fields cross message boundaries and loads span several insert batches. A
bad row late in a load fails the whole COPY (nothing of it stays), a
client-side failure (CopyFail) is 57014, and COPY inside a transaction
block goes with it. pgbench -i loads pgbench_accounts with COPY and runs
VACUUM ANALYZE; the select-only benchmark and, when the server has
aggregates, the built-in TPC-B-like one run on the result, whose balances
must add up to the history's deltas.
"""

import csv
import io
import re
import subprocess

import psycopg2

import harness

ROWS = 5000


def csv_lines(n):
    """n CSV lines of (id, name, note, amount) with quotes, commas and
    line breaks inside quoted fields and NULL notes."""
    lines = []
    for i in range(1, n + 1):
        note = "" if i % 7 == 0 else f'"note ""{i}"",\nsecond line"'
        lines.append(f"{i},name {i},{note},{i * 3 % 1000}.25\n")
    return lines


def csv_records(text):
    return sorted(csv.reader(io.StringIO(text)), key=lambda r: int(r[0]))


class FailingReader(io.RawIOBase):
    """A file whose read fails after some data: psycopg2 sends CopyFail."""

    def __init__(self):
        self.sent = False

    def readable(self):
        return True

    def read(self, size=-1):
        if self.sent:
            raise OSError("disk on fire")
        self.sent = True
        return b"1,a,,1\n"


class CopyTest(harness.ServerTestCase):
    def setUp(self):
        self.exec("DROP TABLE IF EXISTS items")
        self.exec("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, note text, "
                  "amount numeric(8,2), tag text DEFAULT 'new')")

    def copy_in(self, conn, sql, data):
        with conn.cursor() as cur:
            cur.copy_expert(sql, io.StringIO(data))
            return cur.rowcount

    def test_csv_round_trip(self):
        data = "".join(csv_lines(ROWS))
        conn = self.connect()
        self.assertEqual(self.copy_in(conn, "COPY items (id, name, note, amount) FROM STDIN WITH (FORMAT csv)",
                                      data), ROWS)
        self.assertEqual(self.exec("SELECT count(*), min(tag), max(tag) FROM items"), [(ROWS, "new", "new")])
        self.assertEqual(self.exec("SELECT note FROM items WHERE id IN (6, 7) ORDER BY id"),
                         [('note "6",\nsecond line',), (None,)])
        out = io.StringIO()
        with conn.cursor() as cur:
            cur.copy_expert("COPY items (id, name, note, amount) TO STDOUT WITH (FORMAT csv)", out)
            self.assertEqual(cur.rowcount, ROWS)
        # PostgreSQL writes in heap order, Tardigrade in key order
        self.assertEqual(csv_records(out.getvalue()), csv_records(data))

    def test_text_format_and_header(self):
        conn = self.connect()
        data = "id\tname\tnote\n1\tone\t\\N\n2\ttwo\\tparts\tx\\\\y\n"
        self.assertEqual(self.copy_in(conn, "COPY items (id, name, note) FROM STDIN WITH (HEADER)", data), 2)
        out = io.StringIO()
        with conn.cursor() as cur:
            cur.copy_expert("COPY items (id, name, note, tag) TO STDOUT WITH (FORMAT text, HEADER)", out)
        self.assertEqual(out.getvalue(), "id\tname\tnote\ttag\n1\tone\t\\N\tnew\n2\ttwo\\tparts\tx\\\\y\tnew\n")

    def test_bad_row_fails_the_whole_copy(self):
        lines = csv_lines(ROWS)
        lines[ROWS - 10] = f"{ROWS - 9},name,,1,extra\n"  # past several insert batches
        data = "".join(lines)
        conn = self.connect()
        with self.assertRaises(psycopg2.Error) as cm:
            self.copy_in(conn, "COPY items (id, name, note, amount) FROM STDIN WITH (FORMAT csv)", data)
        self.assertEqual(cm.exception.pgcode, "22P04")
        self.assertEqual(cm.exception.diag.message_primary, "extra data after last expected column")
        self.assertEqual(self.exec("SELECT count(*) FROM items"), [(0,)])
        # the connection is usable afterwards
        self.assertEqual(self.copy_in(conn, "COPY items (id, name) FROM STDIN", "1\tx\n"), 1)

    def test_bad_value_and_duplicate(self):
        conn = self.connect()
        for data, state, message in (
                ("1,a,,1\n2,b,,zz\n", "22P02", 'invalid input syntax for type numeric: "zz"'),
                ("1,a,,1\n1,b,,2\n", "23505", 'duplicate key value violates unique constraint "items_pkey"')):
            with self.subTest(state):
                with self.assertRaises(psycopg2.Error) as cm:
                    self.copy_in(conn, "COPY items (id, name, note, amount) FROM STDIN CSV", data)
                self.assertEqual(cm.exception.pgcode, state)
                self.assertEqual(cm.exception.diag.message_primary, message)
        self.assertEqual(self.exec("SELECT count(*) FROM items"), [(0,)])

    def test_client_failure_is_copy_fail(self):
        conn = self.connect()
        with self.assertRaises(psycopg2.Error) as cm:
            with conn.cursor() as cur:
                cur.copy_expert("COPY items (id, name, note, amount) FROM STDIN CSV", FailingReader())
        self.assertEqual(cm.exception.pgcode, "57014")
        self.assertTrue(cm.exception.diag.message_primary.startswith("COPY from stdin failed: "),
                        cm.exception.diag.message_primary)
        self.assertEqual(self.exec("SELECT count(*) FROM items"), [(0,)])

    def test_copy_in_transaction_block(self):
        conn = self.connect(autocommit=False)
        self.copy_in(conn, "COPY items (id, name) FROM STDIN", "1\ta\n2\tb\n")
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM items")
            self.assertEqual(cur.fetchone(), (2,))
        conn.rollback()
        self.assertEqual(self.exec("SELECT count(*) FROM items"), [(0,)])
        self.copy_in(conn, "COPY items (id, name) FROM STDIN", "3\tc\n")
        conn.commit()
        self.assertEqual(self.exec("SELECT id FROM items"), [(3,)])
        conn.close()


class PgbenchTest(harness.ServerTestCase):
    def pgbench(self, *args):
        done = subprocess.run(["pgbench", *args], capture_output=True, text=True, env=self.server.env(),
                              timeout=900)
        self.assertEqual(done.returncode, 0, f"pgbench {args} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout + done.stderr

    def processed(self, out, want):
        m = re.search(r"number of transactions actually processed: (\d+)", out)
        self.assertIsNotNone(m, out)
        if want is not None:
            self.assertEqual(int(m.group(1)), want, out)

    def test_init_then_run(self):
        out = self.pgbench("-i", "-s", "1")
        self.assertIn("vacuuming...", out)
        self.assertEqual(self.exec("SELECT count(*) FROM pgbench_accounts"), [(100000,)])
        self.processed(self.pgbench("-n", "-c", "4", "-T", "5", "-M", "prepared", "-S"), None)
        # the built-in TPC-B-like script; serialization failures are retried
        out = self.pgbench("-n", "-c", "4", "-t", "50", "--max-tries", "50")
        self.processed(out, 200)
        accounts = self.exec("SELECT sum(abalance) FROM pgbench_accounts")[0][0]
        history = self.exec("SELECT sum(delta), count(*) FROM pgbench_history")[0]
        self.assertEqual(history[1], 200)
        self.assertEqual(accounts, history[0])


if __name__ == "__main__":
    harness.main()
