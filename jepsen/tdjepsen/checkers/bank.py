"""Bank checker: money moves between accounts but is never made or lost.

`transfer` ops carry {"from": a, "to": b, "amount": n}; `read` ops complete
with {account: balance} for every account. Each ok read must sum to the
total the accounts started with and show no negative balance. Transfers
themselves are not checked: their effects are only visible through reads.
"""

from ..history import OK, HistoryError, pair
from .witness import report


def check(ops, total):
    """Verdict over a list of history Ops; `total` is the sum every read
    must see. "unknown" when no read succeeded."""
    reads = [p for p in pair(ops) if p.f == "read" and p.type == OK]
    wrong, negative = [], []
    for p in reads:
        if not isinstance(p.value, dict) or not all(isinstance(b, int) for b in p.value.values()):
            raise HistoryError(f"op {p.index}: bank read must complete with {{account: balance}}")
        if sum(p.value.values()) != total:
            wrong.append({"op": p.describe(), "total": sum(p.value.values()), "expected": total})
        if any(b < 0 for b in p.value.values()):
            negative.append({"op": p.describe()})
    found = report({"wrong-total": wrong, "negative-balance": negative})
    valid = False if found["anomalies"] else (True if reads else "unknown")
    return dict(found, valid=valid, reads=len(reads))
