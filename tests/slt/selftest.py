#!/usr/bin/python3
"""Checks of slt.py itself, without a server: parsing, rendering, hashing,
sorting, and that wrong results, wrong errors and label mismatches are
reported as failures (a runner that passed everything would prove nothing).
A fake connection answers each SQL text with rows of server text or an error.
"""

import os
import sys
import tempfile
import unittest

import psycopg2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slt  # noqa: E402


class FakeColumn:
    type_code = 25  # text


class FakeCursor:
    def __init__(self, answers):
        self.answers = answers
        self.description = None
        self.rows = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql):
        answer = self.answers[sql]
        if isinstance(answer, Exception):
            raise answer
        self.rows = answer
        column = FakeColumn()
        self.description = None if answer is None else [column] * (len(answer[0]) if answer else 1)

    def fetchall(self):
        return self.rows


class FakeConn:
    """Answers: SQL text -> list of rows (tuples of text/None), None for a
    statement without a result set, or an exception to raise."""

    closed = 0

    def __init__(self, answers):
        self.answers = answers

    def cursor(self):
        return FakeCursor(self.answers)


def run_script(text, answers):
    """Runs the script `text` (a .test file's content) on a FakeConn."""
    with tempfile.NamedTemporaryFile("w", suffix=".test", delete=False) as f:
        f.write(text)
    try:
        state = slt.FileRun(f.name, FakeConn(answers))
        state.run(slt.parse_file(f.name))
    finally:
        os.unlink(f.name)
    return state


class Rendering(unittest.TestCase):
    def test_values(self):
        cases = [(None, "I", "NULL"), ("42", "I", "42"), ("-3.7", "I", "-3"),
                 ("12abc", "I", "12"), ("abc", "I", "0"), ("2", "R", "2.000"), ("-0.5", "R", "-0.500"),
                 ("1e3", "R", "1000.000"), ("", "T", "(empty)"), ("a\tb\u00e9", "T", "a@b@@"), ("7", "T", "7")]
        for text, letter, want in cases:
            self.assertEqual(slt.render_value(text, letter), want, (text, letter))

    def test_hash_of_values_each_followed_by_newline(self):
        # The corpus's own line: ten I values 0 (index_random, label-40).
        self.assertEqual(slt.hash_line(["0"] * 10), "10 values hashing to b833e3a3ba082b2c0028b4cd08f0834d")

    def test_booleans_are_integers(self):
        rec = slt.Record("query", 1, [])
        rec.types = "ITR"
        self.assertEqual(slt.result_values([("t", "f", "t")], rec, {0, 1, 2}), ["1", "0", "1.000"])
        self.assertEqual(slt.result_values([("t", "f", "t")], rec), ["0", "f", "0.000"])

    def test_sort_modes(self):
        rec = slt.Record("query", 1, [])
        rec.types = "IT"
        rows = [("10", "b"), ("9", "a"), ("10", "a")]
        rec.sort = "nosort"
        self.assertEqual(slt.result_values(rows, rec), ["10", "b", "9", "a", "10", "a"])
        rec.sort = "rowsort"  # rows compared as strings: "10" < "9"
        self.assertEqual(slt.result_values(rows, rec), ["10", "a", "10", "b", "9", "a"])
        rec.sort = "valuesort"
        self.assertEqual(slt.result_values(rows, rec), ["10", "10", "9", "a", "a", "b"])


SCRIPT = (
    "# comment\r\n"
    "statement ok\r\nCREATE TABLE t(a INTEGER)\r\n\r\n"
    "skipif postgresql # not here\r\nstatement ok\r\nNOT SENT\r\n\r\n"
    "onlyif mysql\r\nquery I nosort\r\nNOT SENT EITHER\r\n----\r\n1\r\n\r\n"
    "query I rowsort label-1\r\nSELECT a\r\nFROM t\r\n----\r\n1\r\n2\r\n\r\n"
    "query I valuesort label-1\r\nSELECT a FROM t ORDER BY a DESC\r\n----\r\n1\r\n2\r\n\r\n"
    "statement error\r\nBAD\r\n\r\n"
    "hash-threshold 1\r\n\r\n"
    "query I rowsort\r\nSELECT a\r\nFROM t\r\n----\r\n2 values hashing to 6ddb4095eb719e2a9f0a3f95677d24e0\r\n\r\n"
    "query I nosort\r\nSELECT 1\r\n----\r\n\r\n"
    "onlyif mysql\r\nhalt\r\n\r\n"
    "query I nosort\r\nSELECT 1\r\n\r\n"
    "onlyif postgresql\r\nhalt\r\n\r\n"
    "statement ok\r\nNEVER SENT\r\n")

ANSWERS = {
    "CREATE TABLE t(a INTEGER)": None,
    "SELECT a\nFROM t": [("2",), ("1",)],
    "SELECT a FROM t ORDER BY a DESC": [("2",), ("1",)],
    "BAD": psycopg2.ProgrammingError("syntax error"),
    "SELECT 1": [],
}


class Records(unittest.TestCase):
    def test_parse(self):
        with tempfile.NamedTemporaryFile("w", suffix=".test", delete=False) as f:
            f.write(SCRIPT)
        try:
            recs = slt.parse_file(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual([r.kind for r in recs], ["statement"] * 2 + ["query"] * 3 + ["statement", "hash-threshold"] +
                         ["query"] * 2 + ["halt", "query", "halt", "statement"])
        q = recs[3]
        self.assertEqual((q.line, q.types, q.sort, q.label, q.sql, q.expected),
                         (15, "I", "rowsort", "label-1", "SELECT a\nFROM t", ["1", "2"]))
        self.assertEqual(recs[1].conditions, [("skipif", "postgresql")])
        self.assertEqual(recs[8].expected, [])
        self.assertIsNone(recs[10].expected)

    def test_everything_passes(self):
        state = run_script(SCRIPT, ANSWERS)
        self.assertEqual(state.failures, [])
        self.assertEqual(state.counts, {slt.PASS: 7, slt.FAIL: 0, slt.SKIP: 2})

    def test_wrong_values_fail(self):
        state = run_script(SCRIPT, dict(ANSWERS, **{"SELECT a\nFROM t": [("3",), ("1",)]}))
        self.assertEqual(state.counts[slt.FAIL], 2)  # the listed values and the hash
        self.assertEqual([f.line for f in state.failures], [15, 33])
        self.assertIn("+ 3", state.failures[0].diff)

    def test_label_mismatch_fails(self):
        script = "query I rowsort x\nSELECT 1\n\nquery I valuesort x\nSELECT 2\n\nquery I nosort x\nSELECT 3\n"
        state = run_script(script, {"SELECT 1": [("1",), ("2",)], "SELECT 2": [("2",), ("1",)], "SELECT 3": [("2",)]})
        self.assertEqual([f.line for f in state.failures], [7])
        self.assertIn("label x at line 1", state.failures[0].reason)

    def test_errors_fail(self):
        state = run_script(SCRIPT, dict(ANSWERS, BAD=None, **{"SELECT 1": psycopg2.ProgrammingError("x")}))
        self.assertEqual([f.line for f in state.failures], [28, 39, 46])

    def test_wrong_column_count_fails(self):
        state = run_script("query II nosort\nSELECT 1\n----\n1\n", {"SELECT 1": [("1",)]})
        self.assertEqual(state.counts[slt.FAIL], 1)

    def test_bad_record_is_a_format_error(self):
        with self.assertRaises(slt.FormatError):
            run_script("query X nosort\nSELECT 1\n", {})


if __name__ == "__main__":
    unittest.main(verbosity=1)
