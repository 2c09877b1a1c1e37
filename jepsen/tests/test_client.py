"""How database errors become completion types."""

import unittest

import psycopg2

from tdjepsen.client import completion_type
from tdjepsen.history import FAIL, INFO


class Error(psycopg2.Error):
    """A psycopg2 error with a chosen SQLSTATE (the real ones are read-only)."""

    def __init__(self, pgcode):
        super().__init__("boom")
        self._code = pgcode

    @property
    def pgcode(self):
        return self._code


class CompletionType(unittest.TestCase):
    def test_serialization_failure_and_deadlock_are_fail(self):
        for code in ("40001", "40P01", "23505"):
            self.assertEqual(completion_type(Error(code), may_write=True), FAIL, code)

    def test_ambiguous_commit_is_info(self):
        self.assertEqual(completion_type(Error("40003"), may_write=True), INFO)
        self.assertEqual(completion_type(Error("40003"), may_write=False), INFO)

    def test_lost_connection_or_timeout_is_info_for_writes(self):
        for code in (None, "08006", "57014", "57P01"):
            self.assertEqual(completion_type(Error(code), may_write=True), INFO, code)
            self.assertEqual(completion_type(Error(code), may_write=False), FAIL, code)


if __name__ == "__main__":
    unittest.main()
