"""The nemesis without a cluster: --nemesis parsing, the partition shapes
(pure functions of a seeded generator), the fault schedule against a fake
adapter, and nemesis events in histories, which checkers must skip."""

import json
import random
import threading
import unittest
from unittest import mock

from tdjepsen import checkers, history, nemesis
from tdjepsen.history import INFO

from .builder import Builder


class Parse(unittest.TestCase):
    def test_names(self):
        self.assertEqual(nemesis.parse("none"), ())
        self.assertEqual(nemesis.parse("all"), nemesis.KINDS)
        self.assertEqual(nemesis.parse("partition,kill"), ("partition", "kill"))

    def test_unknown_is_refused(self):
        for spec in ("netem", "kill,", "partition,delay"):
            with self.assertRaises(ValueError):
                nemesis.parse(spec)


def heard(grudge, nodes, n):
    return set(range(1, nodes + 1)) - grudge.get(n, set())


class Grudges(unittest.TestCase):
    def shapes(self, shape):
        for nodes in range(3, 8):
            for seed in range(20):
                yield nodes, shape(nodes, random.Random(seed))

    def test_halves_cut_a_minority_from_a_majority(self):
        for nodes, grudge in self.shapes(nemesis.halves):
            groups = {frozenset(heard(grudge, nodes, n)) for n in range(1, nodes + 1)}
            self.assertEqual(sorted(map(len, groups)), [nodes // 2, nodes - nodes // 2])
            self.assertEqual(set.union(*map(set, groups)), set(range(1, nodes + 1)))

    def test_isolated_node_hears_nobody_and_nobody_hears_it(self):
        for nodes, grudge in self.shapes(nemesis.isolated):
            (lone,) = [n for n in grudge if len(grudge[n]) == nodes - 1]
            self.assertTrue(all(grudge[n] == {lone} for n in grudge if n != lone))

    def test_majorities_ring_gives_each_node_its_own_majority(self):
        for nodes, grudge in self.shapes(nemesis.majorities_ring):
            views = [frozenset(heard(grudge, nodes, n)) for n in range(1, nodes + 1)]
            self.assertTrue(all(len(v) == nodes // 2 + 1 and n + 1 in v for n, v in enumerate(views)))
            self.assertEqual(len(set(views)), nodes)

    def test_bridge_node_is_heard_by_both_halves(self):
        for nodes, grudge in self.shapes(nemesis.bridge):
            (middle,) = set(range(1, nodes + 1)) - set(grudge)
            left = set(grudge) - grudge[min(grudge)]
            right = set(grudge) - left
            self.assertLessEqual(abs(len(left) - len(right)), 1)
            self.assertTrue(all(grudge[n] == right for n in left) and all(grudge[n] == left for n in right))


class FakeDb:
    """Records fault calls instead of making them."""

    nodes = 3

    def __init__(self, refuse_removal=None):
        self.calls = []
        self.refuse_removal = refuse_removal

    def remove(self, node):
        self.calls.append(("remove", node))
        return self.refuse_removal

    def __getattr__(self, name):
        if name not in ("kill", "restart", "pause", "resume", "add"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name,) + args)


def fake_recorder():
    recorder = mock.Mock()
    recorder.invoke.side_effect = lambda process, f, value: history.Op(0, "invoke", f, process, 0, value)
    return recorder


def events(recorder):
    return [c.args[1] for c in recorder.invoke.call_args_list]


class Schedule(unittest.TestCase):
    @mock.patch.object(nemesis, "FAULT_SECONDS", 0)
    def test_faults_take_turns_and_each_one_ends(self):
        db, recorder = FakeDb(), fake_recorder()
        fake = nemesis.Nemesis(db, ("kill", "pause", "clock"), recorder, threading.Event(), seed=1)
        for _ in range(3):
            fake._cycle()
        self.assertEqual([c[0] for c in db.calls], ["kill", "restart", "pause", "resume", "restart", "restart"])
        kill_node, pause_node, clock_node = db.calls[0][1], db.calls[2][1], db.calls[4][1]
        self.assertEqual(db.calls[1], ("restart", kill_node))
        self.assertEqual(db.calls[3], ("resume", pause_node))
        self.assertIn(db.calls[4][2], nemesis.CLOCK_OFFSETS)
        self.assertEqual(db.calls[5], ("restart", clock_node))
        fs = events(recorder)
        self.assertEqual(fs, ["start-kill", "stop-kill", "start-pause", "stop-pause", "start-clock", "stop-clock"])
        self.assertTrue(all(c.args[1] == INFO for c in recorder.complete.call_args_list))

    @mock.patch.object(nemesis, "FAULT_SECONDS", 0)
    def test_member_removes_then_adds_the_same_slot(self):
        db, recorder = FakeDb(), fake_recorder()
        nemesis.Nemesis(db, ("member",), recorder, threading.Event(), seed=2)._cycle()
        (_, node), add = db.calls
        self.assertEqual(add, ("add", node))
        self.assertEqual(events(recorder), ["start-member", "stop-member"])

    @mock.patch.object(nemesis, "FAULT_SECONDS", 0)
    def test_member_refused_while_under_replicated_is_logged_and_adds_nothing(self):
        db, recorder = FakeDb(refuse_removal="range 2 has a replica on a dead node"), fake_recorder()
        nemesis.Nemesis(db, ("member",), recorder, threading.Event(), seed=2)._cycle()
        self.assertEqual([c[0] for c in db.calls], ["remove"])
        fault = recorder.complete.call_args_list[0].args[2]
        self.assertEqual(fault["skipped"], "range 2 has a replica on a dead node")

    @mock.patch.object(nemesis, "FAULT_SECONDS", 0)
    @mock.patch.object(nemesis.netns, "drop")
    @mock.patch.object(nemesis.netns, "lose")
    @mock.patch.object(nemesis.netns, "heal")
    def test_combined_mode_overlaps_a_network_and_a_process_fault(self, heal, lose, drop):
        db, recorder = FakeDb(), fake_recorder()
        fake = nemesis.Nemesis(db, nemesis.parse("all"), recorder, threading.Event(), seed=3, combined=True)
        for _ in range(40):
            fake._cycle()
        fs = events(recorder)
        pairs = 0
        for i in range(0, len(fs) - 3):
            a, b, c, d = fs[i : i + 4]
            if a.startswith("start-") and b.startswith("start-"):
                pairs += 1
                kinds = {a[6:], b[6:]}
                self.assertEqual(len(kinds & set(nemesis.NETWORK_KINDS)), 1, fs[i : i + 4])
                self.assertEqual([c, d], ["stop-" + b[6:], "stop-" + a[6:]])  # ended in reverse
        self.assertGreater(pairs, 5)
        self.assertLess(pairs, 40)
        self.assertEqual(fs.count("start-partition") + fs.count("start-loss"), heal.call_count)


class NemesisEvents(unittest.TestCase):
    def test_checkers_skip_nemesis_events(self):
        b = Builder()
        b.txn(0, [["append", 1, 1]])
        b.txn(1, [["r", 1, [1]]])
        events = [
            history.Op(90, "invoke", "start-kill", history.NEMESIS, 1, None),
            history.Op(91, "info", "start-kill", history.NEMESIS, 2, {"node": 1}),
        ]
        ops = history.parse(json.dumps(op.to_json()) for op in events + b.ops)
        self.assertEqual(ops[0].process, history.NEMESIS)
        self.assertEqual(len(history.pair(ops)), 2)
        self.assertIs(checkers.check("append", ops)["valid"], True)
        self.assertIs(checkers.check("register", events)["valid"], "unknown")


if __name__ == "__main__":
    unittest.main()
