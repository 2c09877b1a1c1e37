"""Random histories that are correct by construction.

Clients run against an in-memory store whose operations are atomic: each
operation takes effect at one random instant between its invocation and
its completion, so the history is strictly serializable (linearizable per
key). Some operations end in `fail` without effect; some end in `info`,
their effect applied before the completion, later, or never, and the
client then continues under a new process id, as real clients do.
"""

import random

from tdjepsen.history import FAIL, INFO, INVOKE, OK, Op


class AppendModel:
    """Transactions of 1-4 reads and appends over three keys."""

    def __init__(self, rng):
        self.rng, self.lists, self.next_value = rng, {}, 0

    def generate(self):
        mops = []
        for _ in range(self.rng.randint(1, 4)):
            key = self.rng.choice("xyz")
            if self.rng.random() < 0.5:
                self.next_value += 1
                mops.append(["append", key, self.next_value])
            else:
                mops.append(["r", key, None])
        return "txn", mops

    def apply(self, f, mops):
        done = []
        for mf, k, v in mops:
            if mf == "append":
                self.lists.setdefault(k, []).append(v)
                done.append([mf, k, v])
            else:
                done.append([mf, k, list(self.lists.get(k, []))])
        return OK, done


class RegisterModel:
    """Reads, writes and compare-and-sets of two registers."""

    def __init__(self, rng):
        self.rng, self.values = rng, {}

    def generate(self):
        key, f = self.rng.choice("ab"), self.rng.choice(("read", "write", "cas"))
        if f == "read":
            return f, [key, None]
        if f == "write":
            return f, [key, self.rng.randint(0, 3)]
        return f, [key, [self.rng.choice((None, 0, 1, 2, 3)), self.rng.randint(0, 3)]]

    def apply(self, f, value):
        key, arg = value
        if f == "read":
            return OK, [key, self.values.get(key)]
        if f == "write":
            self.values[key] = arg
            return OK, value
        if self.values.get(key) != arg[0]:
            return FAIL, value
        self.values[key] = arg[1]
        return OK, value


class BankModel:
    """Transfers between four accounts and reads of every balance."""

    def __init__(self, rng, accounts=4, total=40):
        self.rng = rng
        self.balances = {str(a): total // accounts for a in range(accounts)}

    def generate(self):
        if self.rng.random() < 0.3:
            return "read", None
        a, b = self.rng.sample(sorted(self.balances), 2)
        return "transfer", {"from": a, "to": b, "amount": self.rng.randint(1, 5)}

    def apply(self, f, value):
        if f == "read":
            return OK, dict(self.balances)
        if self.balances[value["from"]] < value["amount"]:
            return FAIL, value
        self.balances[value["from"]] -= value["amount"]
        self.balances[value["to"]] += value["amount"]
        return OK, value


class SetModel:
    """Adds of unique elements; the final read is added by set_history."""

    def __init__(self, rng):
        self.elements, self.next_element = set(), 0

    def generate(self):
        self.next_element += 1
        return "add", self.next_element

    def apply(self, f, value):
        self.elements.add(value)
        return OK, value


class Simulation:
    """Interleaves `ops` operations of `clients` concurrent clients."""

    def __init__(self, seed, clients=4):
        self.rng = random.Random(seed)
        self.clients = clients
        self.history = []
        self.running = {}  # client -> [process, f, value, applied result or None]
        self.process = list(range(clients))

    def record(self, type_, process, f, value):
        self.history.append(Op(len(self.history), type_, f, process, len(self.history), value))

    def run(self, generate, apply, ops):
        """generate() -> (f, value); apply(f, value) -> (ok or fail, value),
        called at the instant the operation takes effect."""
        started, orphans = 0, []
        while started < ops or self.running:
            client = self.rng.randrange(self.clients)
            if orphans and self.rng.random() < 0.1:
                apply(*orphans.pop(self.rng.randrange(len(orphans))))
            state = self.running.get(client)
            if state is None:
                if started < ops:
                    f, value = generate()
                    self.running[client] = [self.process[client], f, value, None]
                    self.record(INVOKE, self.process[client], f, value)
                    started += 1
            elif state[3] is None and self.rng.random() < 0.9:
                state[3] = apply(state[1], state[2])
            else:
                self._finish(client, state, orphans)
        return self.history

    def _finish(self, client, state, orphans):
        process, f, value, result = state
        del self.running[client]
        roll = self.rng.random()
        if roll < 0.1:
            if result is None and self.rng.random() < 0.5:
                orphans.append((f, value))
            self.record(INFO, process, f, value)
            self.process[client] += self.clients
        elif result is None:
            self.record(FAIL, process, f, value)
        else:
            self.record(result[0], process, f, result[1] if result[0] == OK else value)


def history(model_class, seed, ops=200):
    """A correct history of `ops` operations against a fresh model."""
    model = model_class(random.Random(seed))
    return Simulation(seed).run(model.generate, model.apply, ops)


def set_history(seed, ops=200):
    """Adds, then one final read by a fresh process after all completed."""
    model = SetModel(None)
    sim = Simulation(seed)
    sim.run(model.generate, model.apply, ops)
    process = max(op.process for op in sim.history) + 1
    sim.record(INVOKE, process, "read", None)
    sim.record(OK, process, "read", sorted(model.elements))
    return sim.history
