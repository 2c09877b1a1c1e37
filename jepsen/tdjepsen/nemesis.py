"""Nemeses: faults injected while the clients run, as Jepsen schedules them.

Every cycle waits QUIET_SECONDS, starts one fault, holds it for
FAULT_SECONDS and ends it. The kinds take turns in the order given, so a
short run sees each of them; nodes, shapes and offsets are random. Each start and
end is logged in the history as an `invoke` and an `info` event of process
"nemesis" (checkers skip those), with the fault's details as the value,
so a history shows which faults overlapped which operations.

  partition  iptables DROP grudges between nodes: random halves, one node
             isolated, majorities ring, or bridge (see grudge functions)
  kill       SIGKILL a random node, restart it on its store at the end
  pause      SIGSTOP a random node, SIGCONT at the end
  loss       every node drops LOSS_PROBABILITY of what it receives
  clock      restart a random node under libfaketime with an offset below
             or above the 500 ms maximum clock offset; restart it on the
             true clock at the end
  member     remove a random node from the cluster for good (SIGKILL, its
             store deleted) and, at the end, add a new node in its place
             (an empty store: a new node id). Skipped, and logged as
             skipped, while any range still has a replica on a node that
             is not live, so the nemesis never takes two replicas of a
             range away (which no 3-way replicated database survives).
  all        all of the above in turn; half of the cycles overlap a
             network fault (partition or loss) with a process fault (kill,
             pause, clock or member)

At the end of the run, the runner calls the adapter's recover(), which
heals whatever is still in place.
"""

import random
import threading

from . import history
from .db import netns

KINDS = ("partition", "kill", "pause", "loss", "clock", "member")
NETWORK_KINDS = ("partition", "loss")
QUIET_SECONDS = 5
FAULT_SECONDS = 6
LOSS_PROBABILITY = 0.1
# Tardigrade's default maximum clock offset is 500 ms.
CLOCK_OFFSETS = (-0.4, -0.2, 0.2, 0.4, -0.8, 0.8, 1.5, -1.5)


def parse(spec):
    """The fault kinds a --nemesis value names: 'none', 'all', or a
    comma-separated list of KINDS. Raises ValueError."""
    if spec == "none":
        return ()
    if spec == "all":
        return KINDS
    kinds = tuple(spec.split(","))
    if not all(k in KINDS for k in kinds):
        raise ValueError(f"unknown nemesis {spec!r}: use none, all or a comma-separated list of {', '.join(KINDS)}")
    return kinds


# ---- grudges: {receiving node: nodes it drops}, nodes numbered from 1 --------


def _cut(a, b):
    """Both directions between groups a and b."""
    grudge = {n: set(b) for n in a}
    grudge.update({n: set(a) for n in b})
    return grudge


def halves(nodes, rng):
    """A random minority cut off from the majority."""
    order = rng.sample(range(1, nodes + 1), nodes)
    return _cut(order[: nodes // 2], order[nodes // 2 :])


def isolated(nodes, rng):
    """One random node alone."""
    lone = rng.randint(1, nodes)
    return _cut([lone], [n for n in range(1, nodes + 1) if n != lone])


def majorities_ring(nodes, rng):
    """Every node hears a majority, no two nodes the same one: node at ring
    position p hears the majority window around p (for an even majority
    the window leans forward, so some links are cut in one direction only)."""
    ring = rng.sample(range(1, nodes + 1), nodes)
    majority = nodes // 2 + 1
    grudge = {}
    for p, node in enumerate(ring):
        heard = {ring[(p + d) % nodes] for d in range(-((majority - 1) // 2), majority - (majority - 1) // 2)}
        grudge[node] = set(ring) - heard
    return grudge


def bridge(nodes, rng):
    """Two halves that cannot hear each other, and one node both hear."""
    order = rng.sample(range(1, nodes + 1), nodes)
    middle = nodes // 2
    return _cut(order[:middle], order[middle + 1 :])


GRUDGES = (halves, isolated, majorities_ring, bridge)


class Nemesis:
    """Runs the fault schedule against an adapter on its own thread until
    the event `stop` is set (the clients' own), then ends the faults in
    place at once. `combined` (--nemesis all) overlaps faults."""

    def __init__(self, db, kinds, recorder, stop, seed=None, combined=False):
        self.db, self.kinds, self.recorder, self.combined = db, kinds, recorder, combined
        self.rng = random.Random(seed)
        self.stop = stop
        self.error = None
        self._turn = 0
        self._thread = threading.Thread(target=self._run, name="nemesis", daemon=True)

    def _start_fault(self, kind):
        """Starts a fault; returns (its description, the call that ends it)."""
        n = self.db.nodes
        if kind == "partition":
            shape = self.rng.choice(GRUDGES)
            grudge = shape(n, self.rng)
            netns.drop(grudge)
            return {"shape": shape.__name__, "grudge": {k: sorted(v) for k, v in grudge.items()}}, lambda: netns.heal(n)
        if kind == "loss":
            netns.lose(range(1, n + 1), LOSS_PROBABILITY)
            return {"probability": LOSS_PROBABILITY}, lambda: netns.heal(n)
        node = self.rng.randint(1, n)
        if kind == "kill":
            self.db.kill(node)
            return {"node": node}, lambda: self.db.restart(node)
        if kind == "pause":
            self.db.pause(node)
            return {"node": node}, lambda: self.db.resume(node)
        if kind == "member":
            why = self.db.remove(node)
            if why:
                return {"node": node, "skipped": why}, lambda: None
            return {"node": node}, lambda: self.db.add(node)
        offset = self.rng.choice(CLOCK_OFFSETS)
        self.db.restart(node, offset)
        return {"node": node, "offset_s": offset}, lambda: self.db.restart(node)

    def _cycle_kinds(self):
        """The kinds of this cycle's faults: the next in turn and, in
        combined mode every other time, one of the other class (a network
        fault with a process fault; never two of one class, which would
        act on one iptables chain or one node twice)."""
        kind = self.kinds[self._turn % len(self.kinds)]
        self._turn += 1
        if not self.combined or self.rng.random() < 0.5:
            return [kind]
        network = kind in NETWORK_KINDS
        others = [k for k in self.kinds if (k in NETWORK_KINDS) != network]
        return [kind, self.rng.choice(others)] if others else [kind]

    def _cycle(self):
        started = []
        for kind in self._cycle_kinds():
            invocation = self.recorder.invoke(history.NEMESIS, f"start-{kind}", None)
            fault, end = self._start_fault(kind)
            self.recorder.complete(invocation, history.INFO, fault)
            started.append((kind, fault, end))
        self.stop.wait(FAULT_SECONDS)
        for kind, fault, end in reversed(started):
            invocation = self.recorder.invoke(history.NEMESIS, f"stop-{kind}", fault)
            end()
            self.recorder.complete(invocation, history.INFO, fault)

    def _run(self):
        try:
            while not self.stop.wait(QUIET_SECONDS):
                self._cycle()
        except Exception as err:  # a fault that could not be applied: the run becomes unknown
            self.error = f"nemesis: {err!r}"

    def start(self):
        if self.kinds:
            self._thread.start()

    def finish(self):
        """Sets `stop` and waits until the fault in place has ended."""
        self.stop.set()
        if self._thread.is_alive():
            self._thread.join()
