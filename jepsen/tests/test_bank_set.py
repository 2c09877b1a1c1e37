"""The bank and set checkers."""

import unittest

from tdjepsen.checkers import bank
from tdjepsen.checkers import set as set_checker
from tdjepsen.history import FAIL, INFO, OK

from .builder import Builder


class Bank(unittest.TestCase):
    def history(self, *balances):
        b = Builder()
        b.call(0, "transfer", {"from": 0, "to": 1, "amount": 5})
        b.call(1, "transfer", {"from": 1, "to": 0, "amount": 50}, FAIL)
        for read in balances:
            b.call(2, "read", None, OK, read)
        return b.ops

    def test_exact_totals_are_valid(self):
        result = bank.check(self.history({"0": 10, "1": 10}, {"0": 5, "1": 15}), total=20)
        self.assertIs(result["valid"], True)

    def test_wrong_total(self):
        result = bank.check(self.history({"0": 10, "1": 10}, {"0": 5, "1": 10}), total=20)
        self.assertIs(result["valid"], False)
        self.assertEqual(result["anomaly_types"], ["wrong-total"])
        self.assertEqual(result["anomalies"]["wrong-total"][0]["total"], 15)

    def test_negative_balance(self):
        result = bank.check(self.history({"0": -5, "1": 25}), total=20)
        self.assertEqual(result["anomaly_types"], ["negative-balance"])

    def test_no_read_is_unknown(self):
        self.assertEqual(bank.check(self.history(), total=20)["valid"], "unknown")


class Set(unittest.TestCase):
    def history(self, final):
        b = Builder()
        b.call(0, "add", 1)
        b.call(1, "add", 2, INFO)
        b.call(2, "add", 3, FAIL)
        b.call(3, "add", 4)
        if final is not None:
            b.call(4, "read", None, OK, final)
        return b.ops

    def test_acknowledged_adds_present_is_valid(self):
        result = set_checker.check(self.history([1, 4]))
        self.assertIs(result["valid"], True)
        self.assertEqual(result["recovered"], 0)

    def test_info_add_may_be_present(self):
        result = set_checker.check(self.history([4, 2, 1]))
        self.assertIs(result["valid"], True)
        self.assertEqual(result["recovered"], 1)

    def test_lost_add(self):
        result = set_checker.check(self.history([1]))
        self.assertEqual(result["anomalies"], {"lost": [4]})

    def test_unexpected_element(self):
        result = set_checker.check(self.history([1, 4, 9]))
        self.assertEqual(result["anomalies"], {"unexpected": [9]})

    def test_duplicated_element(self):
        result = set_checker.check(self.history([1, 4, 4]))
        self.assertEqual(result["anomalies"], {"duplicated": [4]})

    def test_no_final_read_is_unknown(self):
        self.assertEqual(set_checker.check(self.history(None))["valid"], "unknown")


if __name__ == "__main__":
    unittest.main()
