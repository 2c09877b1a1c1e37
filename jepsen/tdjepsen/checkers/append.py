"""List-append checker, after Elle (Kingsbury & Alvaro, VLDB 2020).

Each operation is a transaction (`f` = "txn") whose value is a list of
micro-operations `[f, key, value]`: `["append", k, v]` appends the unique
value v to the list stored at k, `["r", k, null]` reads it (the completion
fills in the list). Because every appended value is unique and lists only
grow, a read reveals the whole version history of its key up to that point:

  version order   each key's longest read; every other read must be a prefix
  ww              writer of element i  -> writer of element i+1
  wr              writer of the last element read -> the reader
  rw              the reader -> writer of the element after the last one read
  realtime        T1 -> T2 when T1 completed before T2 was invoked

Failed transactions took no effect; `info` ones may have: they join the
graph only through the versions reads show they wrote. Besides cycles
(graph.py) the checker reports G1a (a read saw a failed transaction's
append), G1b (a read ended at an element its writer later followed with
another append to the same key), lost updates (two committed transactions
read the same version of a key and both appended to it), duplicate
elements, garbage reads (elements nobody appended), incompatible orders
(two reads of a key that are not prefixes of each other) and internal
inconsistency (a transaction's read disagrees with its own earlier reads
and appends).
"""

import json

from .. import graph as g
from ..history import FAIL, INFO, OK, HistoryError, pair
from .witness import report

APPEND, READ = "append", "r"
SERIALIZABLE, STRICT = "serializable", "strict-serializable"
MODELS = (SERIALIZABLE, STRICT)


def _is_mop(m):
    """[f, key, value] with a scalar key, and a scalar value if appending:
    keys and elements index dictionaries."""
    scalar = (int, str)
    return (
        isinstance(m, list)
        and len(m) == 3
        and m[0] in (APPEND, READ)
        and isinstance(m[1], scalar)
        and (m[0] == READ or isinstance(m[2], scalar))
    )


def _validate(txns):
    """Raises HistoryError unless every txn is a list of micro-operations
    and every read of an ok txn carries a list."""
    for p in txns:
        if not isinstance(p.value, list) or not all(_is_mop(m) for m in p.value):
            raise HistoryError(f"op {p.index}: txn value must be a list of [f, key, value] with scalar keys")
        if p.type == OK and not all(isinstance(v, list) for f, _, v in p.value if f == READ):
            raise HistoryError(f"op {p.index}: ok txn with a read that is not a list")


def _external_reads(p):
    """(key, list) for reads made before the transaction appended to that
    key: only those say which version other transactions left behind."""
    written = set()
    for f, k, v in p.value:
        if f == APPEND:
            written.add(k)
        elif k not in written:
            yield k, v


def _all_reads(p):
    return [(k, v) for f, k, v in p.value if f == READ]


def _writers(txns):
    """{(key, value): pair} over every attempted append."""
    writer = {}
    for p in txns:
        for f, k, v in p.value:
            if f != APPEND:
                continue
            if (k, v) in writer:
                raise HistoryError(f"op {p.index}: value {v!r} appended to key {k!r} twice")
            writer[(k, v)] = p
    return writer


def _internal(ok):
    """Reads that contradict the transaction's own earlier reads and appends."""
    found = []
    for p in ok:
        known, tail = {}, {}
        for mop in p.value:
            f, k, v = mop
            if f == APPEND:
                tail.setdefault(k, []).append(v)
                continue
            mine = tail.get(k, [])
            if k in known:
                expected = known[k] + mine
                bad = v != expected
            else:
                expected = {"ending_with": mine}
                bad = len(v) < len(mine) or v[len(v) - len(mine) :] != mine
            if bad:
                found.append({"op": p.describe(), "mop": mop, "expected": expected})
            known[k], tail[k] = v, []
    return found


def _duplicates(ok):
    return [
        {"op": p.index, "key": k, "value": v} for p in ok for k, v in _all_reads(p) if len(set(map(repr, v))) != len(v)
    ]


def _version_orders(ok):
    """({key: longest read}, incompatible-order witnesses); keys with
    incompatible reads get no order, so no edges are inferred from them."""
    longest, incompatible = {}, []
    for p in ok:
        for k, v in _all_reads(p):
            if k not in longest or len(v) > len(longest[k]):
                longest[k] = v
    bad = set()
    for p in ok:
        for k, v in _all_reads(p):
            if longest[k][: len(v)] != v and k not in bad:
                bad.add(k)
                incompatible.append({"key": k, "read": v, "op": p.index, "longest": longest[k]})
    return {k: v for k, v in longest.items() if k not in bad}, incompatible


def _bad_reads(ok, writer):
    """G1a, G1b and garbage-read witnesses."""
    g1a, g1b, garbage = [], [], []
    for p in ok:
        for k, read in _all_reads(p):
            for v in read:
                w = writer.get((k, v))
                if w is None:
                    garbage.append({"op": p.index, "key": k, "value": v})
                elif w.type == FAIL:
                    g1a.append({"op": p.describe(), "key": k, "value": v, "writer": w.describe()})
        for k, read in _external_reads(p):
            w = writer.get((k, read[-1])) if read else None
            if w is None or w.index == p.index or w.type == FAIL:
                continue
            own = [v for f, key, v in w.value if f == APPEND and key == k]
            if own[-1] != read[-1]:
                g1b.append({"op": p.describe(), "key": k, "value": read[-1], "writer": w.describe()})
    return g1a, g1b, garbage


def _lost_updates(ok):
    """Committed transactions that read the same version of a key and then
    appended to it: one of them must have missed the other's append."""
    readers = {}
    for p in ok:
        last_read, appended = {}, set()
        for f, k, v in p.value:
            if k in appended:
                continue
            if f == READ:
                last_read[k] = v
                continue
            appended.add(k)
            if k in last_read:
                readers.setdefault((json.dumps(k), json.dumps(last_read[k])), []).append(p)
    return [
        {"key": json.loads(key), "read": json.loads(read), "txns": [p.describe() for p in group]}
        for (key, read), group in readers.items()
        if len(group) > 1
    ]


def _add_data_edges(graph, ok, orders, writer):
    def live(k, v):
        w = writer.get((k, v))
        return w if w is not None and w.type != FAIL else None

    for k, order in orders.items():
        for a, b in zip(order, order[1:]):
            wa, wb = live(k, a), live(k, b)
            if wa and wb:
                graph.add_edge(wa.index, wb.index, g.WW, {"key": k, "value": b})
    for p in ok:
        graph.add_node(p.index)
        for k, read in _external_reads(p):
            order = orders.get(k)
            if order is None:
                continue
            last = live(k, read[-1]) if read else None
            if last:
                graph.add_edge(last.index, p.index, g.WR, {"key": k, "value": read[-1]})
            nxt = live(k, order[len(read)]) if len(order) > len(read) else None
            if nxt:
                graph.add_edge(p.index, nxt.index, g.RW, {"key": k, "value": order[len(read)]})


def _add_realtime_edges(graph, txns):
    """Adds T1 -> T2 for T1 completed before T2 was invoked, keeping only a
    transitive reduction: a completed transaction leaves the frontier once
    something that started after it completes, because that one already
    orders it before every later invocation."""
    events = []
    for p in txns:
        if p.index in graph.succ:
            events.append((p.start, 0, p))
            if p.end is not None:
                events.append((p.end, 1, p))
    events.sort(key=lambda e: (e[0], e[1]))
    frontier, preds = set(), {}
    for _, kind, p in events:
        if kind == 0:
            preds[p.index] = list(frontier)
            for q in frontier:
                graph.add_edge(q, p.index, g.RT)
        else:
            frontier.difference_update(preds[p.index])
            frontier.add(p.index)


def _witness(cycle, by_index):
    steps = []
    for a, b, kind, why in cycle:
        step = {"from": a, "to": b, "edge": kind}
        step.update(why or {})
        steps.append(step)
    return {"cycle": steps, "txns": [by_index[a].describe() for a, _, _, _ in cycle]}


def check(ops, model=SERIALIZABLE):
    """Verdict over a list of history Ops. `model` picks what `valid` means;
    both models are always evaluated and reported under `checked`."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}")
    txns = [p for p in pair(ops) if p.f == "txn"]
    _validate(txns)
    ok = [p for p in txns if p.type == OK]
    writer = _writers(txns)
    orders, incompatible = _version_orders(ok)
    g1a, g1b, garbage = _bad_reads(ok, writer)
    anomalies = {
        "internal": _internal(ok),
        "duplicate-elements": _duplicates(ok),
        "incompatible-order": incompatible,
        "G1a": g1a,
        "G1b": g1b,
        "garbage-read": garbage,
        "lost-update": _lost_updates(ok),
    }
    graph = g.Graph()
    _add_data_edges(graph, ok, orders, writer)
    by_index = {p.index: p for p in txns}
    for name, cycles in g.anomaly_cycles(graph, realtime=False).items():
        anomalies[name] = [_witness(c, by_index) for c in cycles]
    _add_realtime_edges(graph, [p for p in txns if p.type in (OK, INFO)])
    for name, cycles in g.anomaly_cycles(graph, realtime=True).items():
        anomalies[name] = [_witness(c, by_index) for c in cycles]
    found = report(anomalies)
    names = found["anomaly_types"]
    serial = all(name.endswith("-realtime") for name in names)
    checked = {SERIALIZABLE: serial, STRICT: not names}
    return dict(
        found,
        valid=checked[model] if ok else "unknown",
        model=model,
        checked=checked,
        txns={t: sum(p.type == t for p in txns) for t in (OK, FAIL, INFO)},
    )
