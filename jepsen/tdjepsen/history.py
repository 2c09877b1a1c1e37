"""The history format: what clients did, one JSON object per line.

Every line is an event of one client process (see jepsen/README.md for the
full field table). A process alternates `invoke` and a completion (`ok`,
`fail` or `info`); after `info` the outcome is unknown, so the process id is
retired and the client continues under a new one. Checkers never read raw
lines: they call `load()` and then `pair()`, which validates these rules and
yields one `Pair` per operation.
"""

import json
import sys
import threading
import time
from dataclasses import dataclass

INVOKE, OK, FAIL, INFO = "invoke", "ok", "fail", "info"
TYPES = (INVOKE, OK, FAIL, INFO)
# The process of fault-injection events (Jepsen's :nemesis): logged for
# people reading the history, skipped by pair() and so by every checker.
NEMESIS = "nemesis"


class HistoryError(ValueError):
    """The history breaks the format or the invoke/complete protocol."""


@dataclass(frozen=True)
class Op:
    """One history event; `time` is monotonic nanoseconds."""

    index: int
    type: str
    f: str
    process: int
    time: int
    value: object = None
    error: str = None

    def to_json(self):
        obj = {
            "index": self.index,
            "type": self.type,
            "f": self.f,
            "process": self.process,
            "time": self.time,
            "value": self.value,
        }
        if self.error is not None:
            obj["error"] = self.error
        return obj


@dataclass(frozen=True)
class Pair:
    """An operation: its invocation and completion (None if it never
    completed, which counts as `info`)."""

    invoke: Op
    complete: Op

    @property
    def type(self):
        return self.complete.type if self.complete else INFO

    @property
    def f(self):
        return self.invoke.f

    @property
    def index(self):
        """The id checkers report: the completion's index, else the invoke's."""
        return self.complete.index if self.complete else self.invoke.index

    @property
    def value(self):
        """The completion's value for `ok` (it carries results), otherwise
        what was invoked."""
        return self.complete.value if self.type == OK else self.invoke.value

    @property
    def start(self):
        return self.invoke.time

    @property
    def end(self):
        """Completion time; None when the operation may still take effect."""
        return self.complete.time if self.type != INFO else None

    def describe(self):
        """A JSON-able summary for witnesses in checker results."""
        return {
            "index": self.index,
            "process": self.invoke.process,
            "type": self.type,
            "f": self.f,
            "value": self.value,
        }


def _op_from_json(obj, position):
    if not isinstance(obj, dict):
        raise HistoryError(f"line {position + 1}: not a JSON object")
    for field, kinds in (("type", str), ("f", str), ("process", int), ("time", int)):
        if field == "process" and obj.get(field) == NEMESIS:
            continue
        if not isinstance(obj.get(field), kinds) or isinstance(obj.get(field), bool):
            raise HistoryError(f"line {position + 1}: field '{field}' missing or mistyped")
    if obj["type"] not in TYPES:
        raise HistoryError(f"line {position + 1}: unknown type '{obj['type']}'")
    index = obj.get("index", position)
    if not isinstance(index, int):
        raise HistoryError(f"line {position + 1}: field 'index' is not an integer")
    return Op(index, obj["type"], obj["f"], obj["process"], obj["time"], obj.get("value"), obj.get("error"))


def parse(lines):
    """Ops from an iterable of JSON lines; blank lines are skipped."""
    ops = []
    for position, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise HistoryError(f"line {position + 1}: {err}") from None
        ops.append(_op_from_json(obj, position))
    return ops


def load(path):
    """Ops from a JSON-lines file; '-' reads standard input."""
    if path == "-":
        return parse(sys.stdin)
    with open(path, encoding="utf-8") as stream:
        return parse(stream)


def pair(ops):
    """Pairs of client operations in invocation order (nemesis events are
    left out). Raises HistoryError when a process completes nothing it
    invoked, invokes twice, or is reused after info."""
    pending = {}
    retired = set()
    pairs = []
    for op in ops:
        if op.process == NEMESIS:
            continue
        if op.process in retired:
            raise HistoryError(f"op {op.index}: process {op.process} reused after an info completion")
        if op.type == INVOKE:
            if op.process in pending:
                raise HistoryError(f"op {op.index}: process {op.process} invoked twice")
            pending[op.process] = len(pairs)
            pairs.append(Pair(op, None))
            continue
        slot = pending.pop(op.process, None)
        if slot is None:
            raise HistoryError(f"op {op.index}: completion without invocation")
        if pairs[slot].invoke.f != op.f:
            raise HistoryError(f"op {op.index}: completes '{pairs[slot].invoke.f}' as '{op.f}'")
        pairs[slot] = Pair(pairs[slot].invoke, op)
        if op.type == INFO:
            retired.add(op.process)
    return pairs


class Recorder:
    """Thread-safe history writer: assigns indexes and monotonic times and
    appends each event to `path` as it happens, so a crashed run still
    leaves its history. Times are nanoseconds since the recorder started."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._stream = open(path, "w", encoding="utf-8")
        self._origin = time.monotonic_ns()
        self.ops = []

    def _append(self, type_, f, process, value, error=None):
        with self._lock:
            op = Op(len(self.ops), type_, f, process, time.monotonic_ns() - self._origin, value, error)
            self.ops.append(op)
            self._stream.write(json.dumps(op.to_json()) + "\n")
            self._stream.flush()
            return op

    def invoke(self, process, f, value):
        """Records an invocation; call it before the request is sent."""
        return self._append(INVOKE, f, process, value)

    def complete(self, invocation, type_, value, error=None):
        """Records the completion of `invocation`; call it after the reply."""
        assert type_ in (OK, FAIL, INFO)
        return self._append(type_, invocation.f, invocation.process, value, error)

    def close(self):
        self._stream.close()
