"""List-append: transactions of reads and appends over a few hot keys.

Each key is a row whose `vals` column holds the comma-separated list;
appending is an upsert that concatenates, so a lost append is visible.
The final operation reads every key ever used in one transaction.
Transactions mix reads and appends of the same keys (often read, then
append), which is what exposes lost updates and write skew below
SERIALIZABLE.
"""

import itertools
import random
import threading

from ..history import OK
from .keys import KeyPool

ACTIVE_KEYS = 4
USES_PER_KEY = 64  # reads and appends; about half are appends
MAX_MOPS = 4

APPEND_SQL = (
    "INSERT INTO append (k, vals) VALUES (%s, %s) "
    "ON CONFLICT (k) DO UPDATE SET vals = append.vals || ',' || EXCLUDED.vals"
)
UPDATE_SQL = "UPDATE append SET vals = vals || ',' || %s WHERE k = %s"
INSERT_SQL = "INSERT INTO append (k, vals) VALUES (%s, %s)"


class Append:
    name = "append"

    def __init__(self, options, upsert):
        self._upsert = upsert
        self._keys = KeyPool(ACTIVE_KEYS, USES_PER_KEY)
        self._values = itertools.count(1)
        self._lock = threading.Lock()
        self._rng = random.Random()
        self._model = options.model

    def setup(self, cursor):
        cursor.execute("CREATE TABLE append (k bigint PRIMARY KEY, vals text NOT NULL)")

    def generate(self):
        mops = []
        with self._lock:
            for _ in range(self._rng.randint(1, MAX_MOPS)):
                key = self._keys.take()
                mops.append(["r", key, None] if self._rng.random() < 0.5 else ["append", key, next(self._values)])
        return "txn", mops

    def invoke(self, cursor, f, mops):
        done = []
        for mf, key, value in mops:
            if mf == "append":
                self._append(cursor, key, str(value))
                done.append([mf, key, value])
                continue
            cursor.execute("SELECT vals FROM append WHERE k = %s", (key,))
            row = cursor.fetchone()
            done.append([mf, key, [int(v) for v in row[0].split(",")] if row else []])
        return OK, done

    def _append(self, cursor, key, value):
        if self._upsert:
            cursor.execute(APPEND_SQL, (key, value))
            return
        cursor.execute(UPDATE_SQL, (value, key))
        if cursor.rowcount == 0:
            cursor.execute(INSERT_SQL, (key, value))

    def may_write(self, f):
        return True

    def final_ops(self):
        return [("txn", [["r", key, None] for key in self._keys.used()])]

    def checker_options(self):
        return {"model": self._model}
