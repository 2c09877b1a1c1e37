"""The list-append checker on one small history per anomaly."""

import unittest

from tdjepsen.checkers import append
from tdjepsen.history import FAIL, INFO, HistoryError

from .builder import Builder


def check(b, model=append.SERIALIZABLE):
    return append.check(b.ops, model=model)


class ValidHistories(unittest.TestCase):
    def test_serial_history_is_valid(self):
        b = Builder()
        b.txn(0, [["append", "x", 1], ["r", "y", []]])
        b.txn(1, [["r", "x", [1]], ["append", "x", 2], ["r", "x", [1, 2]]])
        b.txn(0, [["r", "x", [1, 2]], ["append", "y", 3]])
        result = check(b, append.STRICT)
        self.assertIs(result["valid"], True, result)
        self.assertEqual(result["checked"], {append.SERIALIZABLE: True, append.STRICT: True})

    def test_info_append_that_took_effect_is_valid(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]], INFO)
        b.txn(1, [["r", "x", [1]]])
        self.assertIs(check(b, append.STRICT)["valid"], True)

    def test_info_append_that_never_took_effect_is_valid(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]], INFO)
        b.txn(1, [["r", "x", []], ["append", "x", 2]])
        b.txn(1, [["r", "x", [2]]])
        self.assertIs(check(b, append.STRICT)["valid"], True)

    def test_failed_txn_is_ignored(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]], FAIL)
        b.txn(1, [["r", "x", []]])
        self.assertIs(check(b)["valid"], True)

    def test_concurrent_txns_may_serialize_either_way(self):
        b = Builder()
        b.invoke_txn(0, [["append", "x", 1]])
        b.invoke_txn(1, [["r", "x", []]])
        b.complete_txn(0, [["append", "x", 1]])
        b.complete_txn(1, [["r", "x", []]])
        self.assertIs(check(b, append.STRICT)["valid"], True)

    def test_no_committed_txn_is_unknown(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]], FAIL)
        self.assertEqual(check(b)["valid"], "unknown")


class Anomalies(unittest.TestCase):
    def assertAnomaly(self, b, name, model=append.SERIALIZABLE):
        result = check(b, model)
        self.assertIs(result["valid"], False, result)
        self.assertIn(name, result["anomaly_types"], result)
        return result

    def test_g0_write_cycle(self):
        b = Builder()
        b.txn(0, [["append", "x", 1], ["append", "y", 1]])
        b.txn(1, [["append", "x", 2], ["append", "y", 2]])
        b.txn(2, [["r", "x", [1, 2]], ["r", "y", [2, 1]]])
        result = self.assertAnomaly(b, "G0")
        cycle = result["anomalies"]["G0"][0]["cycle"]
        self.assertEqual({step["edge"] for step in cycle}, {"ww"})
        self.assertEqual(cycle[0]["from"], cycle[-1]["to"])

    def test_g1a_aborted_read(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]], FAIL)
        b.txn(1, [["r", "x", [1]]])
        result = self.assertAnomaly(b, "G1a")
        self.assertEqual(result["anomalies"]["G1a"][0]["value"], 1)

    def test_g1b_intermediate_read(self):
        b = Builder()
        b.txn(0, [["append", "x", 1], ["append", "x", 2]])
        b.txn(1, [["r", "x", [1]]])
        self.assertAnomaly(b, "G1b")

    def test_g1c_circular_information_flow(self):
        b = Builder()
        b.txn(0, [["append", "x", 1], ["r", "y", [1]]])
        b.txn(1, [["append", "y", 1], ["r", "x", [1]]])
        result = self.assertAnomaly(b, "G1c")
        kinds = [step["edge"] for step in result["anomalies"]["G1c"][0]["cycle"]]
        self.assertIn("wr", kinds)
        self.assertNotIn("rw", kinds)

    def test_g_single_read_skew(self):
        b = Builder()
        b.invoke_txn(0, [["r", "x", []], ["r", "y", [1]]])
        b.txn(1, [["append", "x", 1], ["append", "y", 1]])
        b.complete_txn(0, [["r", "x", []], ["r", "y", [1]]])
        b.txn(2, [["r", "x", [1]]])
        result = self.assertAnomaly(b, "G-single")
        kinds = [step["edge"] for step in result["anomalies"]["G-single"][0]["cycle"]]
        self.assertEqual(kinds.count("rw"), 1)
        self.assertNotIn("G2", result["anomaly_types"])

    def test_g2_write_skew(self):
        b = Builder()
        b.invoke_txn(0, [["r", "x", []], ["append", "y", 1]])
        b.invoke_txn(1, [["r", "y", []], ["append", "x", 1]])
        b.complete_txn(0, [["r", "x", []], ["append", "y", 1]])
        b.complete_txn(1, [["r", "y", []], ["append", "x", 1]])
        b.txn(2, [["r", "x", [1]], ["r", "y", [1]]])
        result = self.assertAnomaly(b, "G2")
        kinds = [step["edge"] for step in result["anomalies"]["G2"][0]["cycle"]]
        self.assertEqual(kinds.count("rw"), 2)
        self.assertNotIn("G-single", result["anomaly_types"])
        self.assertNotIn("lost-update", result["anomaly_types"])

    def test_lost_update(self):
        b = Builder()
        b.invoke_txn(0, [["r", "x", []], ["append", "x", 1]])
        b.invoke_txn(1, [["r", "x", []], ["append", "x", 2]])
        b.complete_txn(0, [["r", "x", []], ["append", "x", 1]])
        b.complete_txn(1, [["r", "x", []], ["append", "x", 2]])
        b.txn(2, [["r", "x", [1, 2]]])
        result = self.assertAnomaly(b, "lost-update")
        self.assertEqual(len(result["anomalies"]["lost-update"][0]["txns"]), 2)

    def test_duplicate_elements(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]])
        b.txn(1, [["r", "x", [1, 1]]])
        self.assertAnomaly(b, "duplicate-elements")

    def test_internal_inconsistency(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]])
        b.txn(1, [["r", "x", [1]], ["append", "x", 2], ["r", "x", [1]]])
        b.txn(2, [["r", "x", [1, 2]]])
        result = self.assertAnomaly(b, "internal")
        self.assertEqual(result["anomalies"]["internal"][0]["expected"], [1, 2])

    def test_read_missing_own_append_is_internal(self):
        b = Builder()
        b.txn(0, [["append", "x", 1], ["r", "x", []]])
        self.assertAnomaly(b, "internal")

    def test_incompatible_orders(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]])
        b.txn(1, [["append", "x", 2]])
        b.txn(2, [["r", "x", [1, 2]]])
        b.txn(3, [["r", "x", [2, 1]]])
        self.assertAnomaly(b, "incompatible-order")

    def test_garbage_read(self):
        b = Builder()
        b.txn(0, [["r", "x", [7]]])
        self.assertAnomaly(b, "garbage-read")

    def test_stale_read_breaks_only_strict_serializability(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]])
        b.txn(1, [["r", "x", []]])
        b.txn(2, [["r", "x", [1]]])
        self.assertIs(check(b)["valid"], True)
        result = self.assertAnomaly(b, "G-single-realtime", append.STRICT)
        self.assertEqual(result["checked"], {append.SERIALIZABLE: True, append.STRICT: False})
        kinds = {step["edge"] for step in result["anomalies"]["G-single-realtime"][0]["cycle"]}
        self.assertEqual(kinds, {"rw", "realtime"})

    def test_realtime_write_order_is_g0_realtime(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]])
        b.txn(1, [["append", "x", 2]])
        b.txn(2, [["r", "x", [2, 1]]])
        self.assertAnomaly(b, "G0-realtime", append.STRICT)


class MalformedHistories(unittest.TestCase):
    def test_value_appended_twice_is_rejected(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]])
        b.txn(1, [["append", "x", 1]])
        with self.assertRaises(HistoryError):
            check(b)

    def test_process_reused_after_info_is_rejected(self):
        b = Builder()
        b.txn(0, [["append", "x", 1]], INFO)
        b.txn(0, [["append", "x", 2]])
        with self.assertRaises(HistoryError):
            check(b)

    def test_unknown_micro_op_is_rejected(self):
        b = Builder()
        b.call(0, "txn", [["write", "x", 1]])
        with self.assertRaises(HistoryError):
            check(b)


if __name__ == "__main__":
    unittest.main()
