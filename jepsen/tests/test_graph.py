"""Strongly connected components and cycle classification."""

import unittest

from tdjepsen import graph as g


class Components(unittest.TestCase):
    def test_finds_only_nontrivial_components(self):
        graph = g.Graph()
        for a, b in ((1, 2), (2, 3), (3, 1), (3, 4), (4, 5), (5, 4), (6, 6)):
            graph.add_edge(a, b, g.WW)
        found = sorted(sorted(c) for c in g.components(graph, g.DATA_KINDS))
        self.assertEqual(found, [[1, 2, 3], [4, 5]])

    def test_edge_kinds_filter_components(self):
        graph = g.Graph()
        graph.add_edge(1, 2, g.WW)
        graph.add_edge(2, 1, g.RT)
        self.assertEqual(g.components(graph, g.DATA_KINDS), [])
        self.assertEqual(len(g.components(graph, g.ALL_KINDS)), 1)

    def test_long_chain_does_not_recurse(self):
        graph = g.Graph()
        for i in range(50_000):
            graph.add_edge(i, i + 1, g.WW)
        graph.add_edge(50_000, 0, g.WR)
        self.assertEqual(len(g.components(graph, g.DATA_KINDS)[0]), 50_001)


class Classification(unittest.TestCase):
    def cycle(self, *kinds):
        return [(i, i + 1, kind, None) for i, kind in enumerate(kinds)]

    def test_names(self):
        self.assertEqual(g.classify(self.cycle(g.WW, g.WW)), "G0")
        self.assertEqual(g.classify(self.cycle(g.WW, g.WR)), "G1c")
        self.assertEqual(g.classify(self.cycle(g.RW, g.WR)), "G-single")
        self.assertEqual(g.classify(self.cycle(g.RW, g.RW, g.WW)), "G2")
        self.assertEqual(g.classify(self.cycle(g.RW, g.RT)), "G-single-realtime")

    def test_prefers_single_anti_dependency_witness(self):
        graph = g.Graph()
        graph.add_edge("a", "b", g.RW)
        graph.add_edge("b", "c", g.RW)
        graph.add_edge("c", "a", g.WR)
        graph.add_edge("b", "a", g.WW)
        found = g.anomaly_cycles(graph, realtime=False)
        self.assertEqual(sorted(found), ["G-single", "G2"])
        self.assertEqual(len(found["G-single"][0]), 2)


if __name__ == "__main__":
    unittest.main()
