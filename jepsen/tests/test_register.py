"""The linearizability checker on small register histories."""

import unittest

from tdjepsen.checkers import register
from tdjepsen.history import FAIL, INFO, OK

from .builder import Builder


def verdict(b):
    return register.check(b.ops)["valid"]


class Register(unittest.TestCase):
    def test_sequential_history_is_linearizable(self):
        b = Builder()
        b.call(0, "read", ["k", None], OK, ["k", None])
        b.call(0, "write", ["k", 1])
        b.call(1, "cas", ["k", [1, 2]])
        b.call(1, "read", ["k", None], OK, ["k", 2])
        self.assertIs(verdict(b), True)

    def test_stale_read_is_not_linearizable(self):
        b = Builder()
        b.call(0, "write", ["k", 1])
        b.call(1, "write", ["k", 2])
        b.call(2, "read", ["k", None], OK, ["k", 1])
        result = register.check(b.ops)
        self.assertIs(result["valid"], False)
        witness = result["anomalies"]["nonlinearizable"][0]
        self.assertEqual(witness["key"], "k")
        self.assertEqual(witness["op"]["f"], "read")

    def test_concurrent_write_may_precede_read(self):
        b = Builder()
        b.invoke(0, "write", ["k", 1])
        b.invoke(1, "read", ["k", None])
        b.complete(1, OK, "read", ["k", 1])
        b.complete(0, OK, "write", ["k", 1])
        self.assertIs(verdict(b), True)

    def test_cas_on_wrong_value_cannot_succeed(self):
        b = Builder()
        b.call(0, "write", ["k", 1])
        b.call(1, "cas", ["k", [3, 4]])
        self.assertIs(verdict(b), False)

    def test_failed_cas_is_ignored(self):
        b = Builder()
        b.call(0, "write", ["k", 1])
        b.call(1, "cas", ["k", [3, 4]], FAIL)
        b.call(1, "read", ["k", None], OK, ["k", 1])
        self.assertIs(verdict(b), True)

    def test_info_write_may_take_effect_later(self):
        b = Builder()
        b.call(0, "write", ["k", 1], INFO)
        b.call(1, "read", ["k", None], OK, ["k", None])
        b.call(1, "read", ["k", None], OK, ["k", 1])
        self.assertIs(verdict(b), True)

    def test_info_write_may_never_take_effect(self):
        b = Builder()
        b.call(0, "cas", ["k", [None, 1]], INFO)
        b.call(1, "write", ["k", 2])
        b.call(1, "read", ["k", None], OK, ["k", 2])
        self.assertIs(verdict(b), True)

    def test_info_write_takes_effect_at_most_once(self):
        b = Builder()
        b.call(0, "write", ["k", 1], INFO)
        b.call(1, "read", ["k", None], OK, ["k", 1])
        b.call(1, "write", ["k", 2])
        b.call(1, "read", ["k", None], OK, ["k", 1])
        self.assertIs(verdict(b), False)

    def test_info_write_cannot_precede_its_invocation(self):
        b = Builder()
        b.call(1, "read", ["k", None], OK, ["k", 1])
        b.call(0, "write", ["k", 1], INFO)
        self.assertIs(verdict(b), False)

    def test_keys_are_independent(self):
        b = Builder()
        b.call(0, "write", ["a", 1])
        b.call(0, "read", ["b", None], OK, ["b", None])
        b.call(0, "read", ["a", None], OK, ["a", 1])
        self.assertIs(verdict(b), True)

    def test_only_failures_is_unknown(self):
        b = Builder()
        b.call(0, "cas", ["k", [1, 2]], FAIL)
        self.assertEqual(verdict(b), "unknown")


if __name__ == "__main__":
    unittest.main()
