"""Register: single-key reads, writes and compare-and-sets, one per
transaction, over a few rotating keys. A register with no row reads null.
The final operations read every key still active."""

import random
import threading

from ..history import FAIL, OK
from .keys import KeyPool

ACTIVE_KEYS = 3
OPS_PER_KEY = 60
VALUES = 5

WRITE_SQL = "INSERT INTO registers (k, v) VALUES (%s, %s) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
UPDATE_SQL = "UPDATE registers SET v = %s WHERE k = %s"
INSERT_SQL = "INSERT INTO registers (k, v) VALUES (%s, %s)"


class Register:
    name = "register"

    def __init__(self, options, upsert):
        self._upsert = upsert
        self._keys = KeyPool(ACTIVE_KEYS, OPS_PER_KEY)
        self._rng = random.Random()
        self._lock = threading.Lock()

    def setup(self, cursor):
        cursor.execute("CREATE TABLE registers (k bigint PRIMARY KEY, v int)")

    def generate(self):
        key = self._keys.take()
        with self._lock:
            f = self._rng.choice(("read", "write", "cas"))
            if f == "read":
                return f, [key, None]
            if f == "write":
                return f, [key, self._rng.randrange(VALUES)]
            return f, [key, [self._rng.randrange(VALUES), self._rng.randrange(VALUES)]]

    def invoke(self, cursor, f, value):
        key, arg = value
        if f == "read":
            cursor.execute("SELECT v FROM registers WHERE k = %s", (key,))
            row = cursor.fetchone()
            return OK, [key, row[0] if row else None]
        if f == "write":
            self._write(cursor, key, arg)
            return OK, value
        cursor.execute("UPDATE registers SET v = %s WHERE k = %s AND v = %s", (arg[1], key, arg[0]))
        return (OK if cursor.rowcount == 1 else FAIL), value

    def _write(self, cursor, key, value):
        if self._upsert:
            cursor.execute(WRITE_SQL, (key, value))
            return
        cursor.execute(UPDATE_SQL, (value, key))
        if cursor.rowcount == 0:
            cursor.execute(INSERT_SQL, (key, value))

    def may_write(self, f):
        return f != "read"

    def final_ops(self):
        return [("read", [key, None]) for key in self._keys.active()]

    def checker_options(self):
        return {}
