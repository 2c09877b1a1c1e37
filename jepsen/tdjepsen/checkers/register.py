"""Linearizability of read/write/compare-and-set registers, per key.

Operations: `read` with value [key, null] (ok: [key, observed]), `write`
with [key, v], `cas` with [key, [expected, new]]. Every register starts as
null. A `fail` took no effect and is dropped; so is an `info` read (it
constrains nothing). An `info` write or cas may take effect at any point
after its invocation, or never.

The search is Wing & Gong's, with Lowe's memoisation (the "WGL" algorithm
that Knossos and Porcupine use): walk a list of call and return events in
time order, tentatively linearize any call whose effect is legal in the
current state, backtrack when a return is reached before its call was
linearized, and never revisit a (set of linearized ops, state) pair. An
info op has no return event, so the search may linearize it anywhere after
its call or leave it out.
"""

from ..history import FAIL, INFO, OK, HistoryError, pair
from .witness import report

# Search steps per key before the verdict becomes "unknown".
MAX_STEPS = 2_000_000
# States are memoised in a set, so values must be hashable JSON.
_SCALARS = (type(None), bool, int, float, str)


class _Entry:
    __slots__ = ("op", "bit", "is_call", "match", "prev", "next")

    def __init__(self, op, bit, is_call):
        self.op, self.bit, self.is_call = op, bit, is_call
        self.match = self.prev = self.next = None


def _step(state, p):
    """(legal, next state) for applying p's effect to `state`."""
    _, arg = p.value
    if p.f == "read":
        return state == arg, state
    if p.f == "write":
        return True, arg
    expected, new = arg
    return state == expected, new


def _event_list(ops):
    """A head sentinel linked to call/return entries sorted by time; a call
    sorts before a return at the same instant (they overlap)."""
    events = []
    for bit, p in enumerate(ops):
        call = _Entry(p, bit, True)
        events.append((p.start, 0, call))
        if p.type == OK:
            call.match = _Entry(p, bit, False)
            events.append((p.end, 1, call.match))
    events.sort(key=lambda e: (e[0], e[1]))
    head = prev = _Entry(None, -1, False)
    for _, _, entry in events:
        prev.next, entry.prev = entry, prev
        prev = entry
    return head


def _unlink(e):
    e.prev.next = e.next
    if e.next:
        e.next.prev = e.prev


def _relink(e):
    e.prev.next = e
    if e.next:
        e.next.prev = e


def _lift(call):
    _unlink(call)
    if call.match:
        _unlink(call.match)


def _unlift(call):
    if call.match:
        _relink(call.match)
    _relink(call)


def _search(ops):
    """(True|False|"unknown", witness or None) for one key's operations."""
    head = _event_list(ops)
    pending = sum(p.type == OK for p in ops)
    state, linearized, stack = None, 0, []
    seen = {(0, None)}
    deepest, steps = (-1, None, [], None), 0
    entry = head.next
    while pending:
        steps += 1
        if steps > MAX_STEPS:
            return "unknown", None
        assert entry is not None, "an unlinearized ok op always leaves a return entry"
        if entry.is_call:
            legal, new_state = _step(state, entry.op)
            config = (linearized | (1 << entry.bit), new_state)
            if legal and config not in seen:
                seen.add(config)
                stack.append((entry, state, linearized))
                state, linearized = new_state, config[0]
                _lift(entry)
                pending -= entry.op.type == OK
                entry = head.next
            else:
                entry = entry.next
            continue
        if len(stack) > deepest[0]:
            deepest = (len(stack), entry.op, [e.op for e, _, _ in stack[-5:]], state)
        if not stack:
            break
        entry, state, linearized = stack.pop()
        _unlift(entry)
        pending += entry.op.type == OK
        entry = entry.next
    if not pending:
        return True, None
    _, stuck, before, state = deepest
    return False, {
        "op": stuck.describe(),
        "state": state,
        "linearized": deepest[0],
        "last_linearized": [p.describe() for p in before],
    }


def _by_key(pairs):
    keys = {}
    for p in pairs:
        if p.f not in ("read", "write", "cas"):
            raise HistoryError(f"op {p.index}: unknown register f '{p.f}'")
        if not isinstance(p.value, list) or len(p.value) != 2:
            raise HistoryError(f"op {p.index}: register value must be [key, value]")
        arg = p.value[1]
        if p.f == "cas" and not (isinstance(arg, list) and len(arg) == 2):
            raise HistoryError(f"op {p.index}: cas value must be [key, [expected, new]]")
        if not all(isinstance(v, _SCALARS) for v in (arg if p.f == "cas" else [arg]) + [p.value[0]]):
            raise HistoryError(f"op {p.index}: register keys and values must be null, numbers or strings")
        if p.type == FAIL or (p.type == INFO and p.f == "read"):
            continue
        keys.setdefault(repr(p.value[0]), []).append(p)
    return keys


def check(ops):
    """Verdict over a list of history Ops: valid iff every key is
    linearizable; "unknown" if some key exhausted the search budget or no
    operation succeeded."""
    pairs = pair(ops)
    failures, unknown = [], []
    for key, key_ops in _by_key(pairs).items():
        verdict, witness = _search(key_ops)
        if verdict is False:
            failures.append(dict(witness, key=key_ops[0].value[0]))
        elif verdict == "unknown":
            unknown.append(key_ops[0].value[0])
    valid = False if failures else ("unknown" if unknown or not any(p.type == OK for p in pairs) else True)
    return dict(
        report({"nonlinearizable": failures}),
        valid=valid,
        model="linearizable",
        unknown_keys=unknown,
        ops={t: sum(p.type == t for p in pairs) for t in (OK, FAIL, INFO)},
    )
