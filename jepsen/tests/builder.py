"""Hand-written histories for the checker tests.

A Builder hands out strictly increasing times, so ops written one after the
other are ordered in real time, and ops whose invoke/complete calls
interleave are concurrent.
"""

from tdjepsen.history import INVOKE, OK, Op


def blank_reads(mops):
    """The invocation form of a txn: reads not yet answered."""
    return [[f, k, None if f == "r" else v] for f, k, v in mops]


class Builder:
    def __init__(self):
        self.ops = []

    def _add(self, type_, process, f, value):
        self.ops.append(Op(len(self.ops), type_, f, process, 10 * len(self.ops), value))

    def invoke(self, process, f, value):
        self._add(INVOKE, process, f, value)

    def complete(self, process, type_, f, value):
        self._add(type_, process, f, value)

    def call(self, process, f, value, type_=OK, result=None):
        """A whole operation; `result` is the completion value (defaults to
        the invoked value)."""
        self.invoke(process, f, value)
        self.complete(process, type_, f, value if result is None else result)

    def invoke_txn(self, process, mops):
        self.invoke(process, "txn", blank_reads(mops))

    def complete_txn(self, process, mops, type_=OK):
        self.complete(process, type_, "txn", mops if type_ == OK else blank_reads(mops))

    def txn(self, process, mops, type_=OK):
        """A list-append transaction written with its reads' results."""
        self.invoke_txn(process, mops)
        self.complete_txn(process, mops, type_)
