"""Set checker: unique elements are added, then read back once at the end.

`add` ops carry the element; `read` ops complete with the list of every
element present. The last ok read is the final read. Every acknowledged
(ok) add must be in it, nothing in it may be an element never attempted,
and no element may appear twice. Adds that ended in `info` may go either
way; those present are reported as recovered.
"""

import json
from collections import Counter

from ..history import INFO, OK, HistoryError, pair
from .witness import report


def _keys(values):
    return {json.dumps(v): v for v in values}


def check(ops):
    """Verdict over a list of history Ops; "unknown" without a final read."""
    pairs = pair(ops)
    reads = [p for p in pairs if p.f == "read" and p.type == OK]
    if not reads:
        return dict(report({}), valid="unknown", error="no successful final read")
    final = reads[-1].value
    if not isinstance(final, list):
        raise HistoryError(f"op {reads[-1].index}: set read must complete with a list")
    adds = [p for p in pairs if p.f == "add"]
    attempted = _keys(p.value for p in adds)
    acked = _keys(p.value for p in adds if p.type == OK)
    maybe = _keys(p.value for p in adds if p.type == INFO)
    present = _keys(final)
    anomalies = {
        "lost": [v for k, v in acked.items() if k not in present],
        "unexpected": [v for k, v in present.items() if k not in attempted],
        "duplicated": [present[k] for k, n in Counter(json.dumps(v) for v in final).items() if n > 1],
    }
    found = report(anomalies)
    return dict(
        found,
        valid=not found["anomalies"],
        attempted=len(attempted),
        acknowledged=len(acked),
        recovered=sum(k in present for k in maybe),
        final_read=reads[-1].index,
    )
