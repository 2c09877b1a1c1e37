"""Set: inserts of unique elements, then one final read of them all. The
table has no key, so a duplicated insert would show in the final read."""

import itertools

from ..history import OK


class Set:
    name = "set"

    def __init__(self, options, upsert):
        self._elements = itertools.count(1)

    def setup(self, cursor):
        cursor.execute("CREATE TABLE set_elems (e bigint NOT NULL)")

    def generate(self):
        # itertools.count's next() is one C call under the GIL: thread-safe.
        return "add", next(self._elements)

    def invoke(self, cursor, f, value):
        if f == "add":
            cursor.execute("INSERT INTO set_elems (e) VALUES (%s)", (value,))
            return OK, value
        cursor.execute("SELECT e FROM set_elems")
        return OK, [row[0] for row in cursor.fetchall()]

    def may_write(self, f):
        return f == "add"

    def final_ops(self):
        return [("read", None)]

    def checker_options(self):
        return {}
