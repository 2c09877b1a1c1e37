"""Randomized self-test: every checker accepts histories that are correct
by construction (concurrent clients, failures and info ops included), and
rejects them once a read is corrupted."""

import unittest

from tdjepsen.checkers import append, bank, register
from tdjepsen.checkers import set as set_checker
from tdjepsen.history import OK, Op

from . import simulate

SEEDS = range(40)


def corrupt_last_read(ops, is_read, value_of):
    """The history with the value of its last ok read replaced."""
    last = max(i for i, op in enumerate(ops) if op.type == OK and is_read(op))
    op = ops[last]
    return ops[:last] + [Op(op.index, op.type, op.f, op.process, op.time, value_of(op.value))] + ops[last + 1 :]


class RandomValidHistories(unittest.TestCase):
    def test_append_histories_are_strict_serializable(self):
        for seed in SEEDS:
            with self.subTest(seed=seed):
                result = append.check(simulate.history(simulate.AppendModel, seed), model=append.STRICT)
                self.assertIs(result["valid"], True, result["anomaly_types"])

    def test_register_histories_are_linearizable(self):
        for seed in SEEDS:
            with self.subTest(seed=seed):
                result = register.check(simulate.history(simulate.RegisterModel, seed))
                self.assertIs(result["valid"], True, result["anomalies"])

    def test_bank_histories_keep_the_total(self):
        for seed in SEEDS:
            with self.subTest(seed=seed):
                result = bank.check(simulate.history(simulate.BankModel, seed), total=40)
                self.assertIs(result["valid"], True, result["anomalies"])

    def test_set_histories_lose_nothing(self):
        for seed in SEEDS:
            with self.subTest(seed=seed):
                result = set_checker.check(simulate.set_history(seed))
                self.assertIs(result["valid"], True, result["anomalies"])


class RandomCorruptedHistories(unittest.TestCase):
    def test_append_read_with_foreign_element_is_caught(self):
        for seed in SEEDS:
            ops = simulate.history(simulate.AppendModel, seed)
            bad = corrupt_last_read(
                ops,
                lambda op: any(f == "r" for f, _, _ in op.value),
                lambda mops: [[f, k, v + [10**6] if f == "r" else v] for f, k, v in mops],
            )
            with self.subTest(seed=seed):
                self.assertIsNot(append.check(bad)["valid"], True)

    def test_register_read_of_unwritten_value_is_caught(self):
        for seed in SEEDS:
            ops = simulate.history(simulate.RegisterModel, seed)
            bad = corrupt_last_read(ops, lambda op: op.f == "read", lambda value: [value[0], 99])
            with self.subTest(seed=seed):
                self.assertIs(register.check(bad)["valid"], False)


if __name__ == "__main__":
    unittest.main()
