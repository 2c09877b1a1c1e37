"""Transaction dependency graphs and the anomaly cycles in them.

Nodes are any hashable transaction ids; each edge carries its kinds (after
Adya and Elle): `ww` (write-write), `wr` (write-read), `rw` (read-write,
an anti-dependency) and `realtime` (the source completed before the target
was invoked), each with a JSON-able explanation.

A history is serializable iff its ww/wr/rw graph is acyclic (strict
serializability adds realtime edges). Cycles are found as strongly
connected components, then each component is searched for witness cycles
of increasingly severe shapes, named after Elle's paper (section 4):

  G0        only ww edges                 (dirty write)
  G1c       ww and wr, at least one wr    (circular information flow)
  G-single  exactly one rw                (read skew, lost update)
  G2        two or more rw                (write skew, anti-dependency cycle)

A cycle through a realtime edge gets a "-realtime" suffix. If the history
has no data-only cycle, such a cycle breaks strict serializability but not
serializability.
"""

from collections import deque

WW, WR, RW, RT = "ww", "wr", "rw", "realtime"
DATA_KINDS = frozenset((WW, WR, RW))
ALL_KINDS = frozenset((WW, WR, RW, RT))

# How many edges a search may try per component before giving up on that
# shape; each try is a BFS over the component. Validity never depends on it.
MAX_TRIES = 200


class Graph:
    """A directed multigraph with kinded edges; self-loops are dropped
    because a transaction may depend on itself without any anomaly."""

    def __init__(self):
        self.succ = {}

    def add_node(self, node):
        self.succ.setdefault(node, {})

    def add_edge(self, src, dst, kind, why=None):
        """Keeps the first explanation given for each (src, dst, kind)."""
        assert kind in ALL_KINDS
        if src == dst:
            return
        self.add_node(dst)
        self.succ.setdefault(src, {}).setdefault(dst, {}).setdefault(kind, why)

    def edges(self, node, kinds, members=None):
        """(dst, kind, why) of node's edges of `kinds`, inside `members`."""
        for dst, by_kind in self.succ.get(node, {}).items():
            if members is not None and dst not in members:
                continue
            for kind, why in by_kind.items():
                if kind in kinds:
                    yield dst, kind, why


def components(graph, kinds):
    """Strongly connected components with more than one node, over edges of
    `kinds` (iterative Tarjan, so deep graphs do not hit Python's recursion
    limit). Each component is a list of nodes."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in graph.succ:
        if root in index:
            continue
        work = [(root, iter([d for d, _, _ in graph.edges(root, kinds)]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter([d for d, _, _ in graph.edges(child, kinds)])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def _path(graph, src, dst, kinds, members):
    """Shortest list of edges (a, b, kind, why) from src to dst using
    `kinds` inside `members`, or None."""
    parent = {src: None}
    queue = deque([src])
    while queue:
        node = queue.popleft()
        if node == dst:
            steps = []
            while parent[node] is not None:
                prev, kind, why = parent[node]
                steps.append((prev, node, kind, why))
                node = prev
            return steps[::-1]
        for nxt, kind, why in graph.edges(node, kinds, members):
            if nxt not in parent:
                parent[nxt] = (node, kind, why)
                queue.append(nxt)
    return None


def classify(cycle):
    """The anomaly name of a cycle given as (a, b, kind, why) edges."""
    kinds = [kind for _, _, kind, _ in cycle]
    rw = kinds.count(RW)
    if rw == 0:
        name = "G1c" if WR in kinds else "G0"
    else:
        name = "G-single" if rw == 1 else "G2"
    return name + "-realtime" if RT in kinds else name


# (wanted name or None for any, kinds of the first edge, kinds of the path
# back). Searching G-single before G2 with the rw edge first means a G2
# witness is only reported where no single-rw cycle closes over that edge.
_SERIAL_SHAPES = (
    ("G0", {WW}, {WW}),
    ("G1c", {WR}, {WW, WR}),
    ("G-single", {RW}, {WW, WR}),
    ("G2", {RW}, DATA_KINDS),
)
_REALTIME_SHAPES = (
    ("G0-realtime", {RT}, {WW, RT}),
    ("G1c-realtime", {RT}, {WW, WR, RT}),
    (None, {RT}, ALL_KINDS),
)


def _search(graph, component, shape):
    wanted, first_kinds, path_kinds = shape
    members = set(component)
    tries = 0
    for src in component:
        for dst, kind, why in graph.edges(src, first_kinds, members):
            if tries == MAX_TRIES:
                return None
            tries += 1
            back = _path(graph, dst, src, path_kinds, members)
            if back is None:
                continue
            cycle = [(src, dst, kind, why)] + back
            if wanted is None or classify(cycle) == wanted:
                return cycle
    return None


def anomaly_cycles(graph, realtime):
    """{name: [cycle, ...]} with at most one witness per name per component.
    Without `realtime` only data edges count; with it, every witness runs
    through at least one realtime edge (data-only cycles are the other
    call's business), so its name ends in "-realtime"."""
    kinds, shapes = (ALL_KINDS, _REALTIME_SHAPES) if realtime else (DATA_KINDS, _SERIAL_SHAPES)
    found = {}
    for component in components(graph, kinds):
        names = set()
        for shape in shapes:
            cycle = _search(graph, component, shape)
            if cycle is not None and classify(cycle) not in names:
                names.add(classify(cycle))
                found.setdefault(classify(cycle), []).append(cycle)
    return found
