"""A pool of active keys that retires each key after a number of uses.

Few active keys give contention (anomalies need concurrent transactions on
the same keys); retiring keys keeps per-key histories short, which keeps
the version lists (append) and the linearizability search (register) small.
"""

import random
import threading


class KeyPool:
    def __init__(self, active, uses_per_key, seed=None):
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._keys = list(range(active))
        self._uses = {k: 0 for k in self._keys}
        self._next = active
        self._limit = uses_per_key

    def take(self):
        """A random active key, counted as one use."""
        with self._lock:
            slot = self._rng.randrange(len(self._keys))
            key = self._keys[slot]
            self._uses[key] += 1
            if self._uses[key] >= self._limit:
                del self._uses[key]
                self._keys[slot] = self._next
                self._uses[self._next] = 0
                self._next += 1
            return key

    def active(self):
        """The keys still in use, sorted."""
        with self._lock:
            return sorted(self._keys)

    def used(self):
        """Every key handed out so far (and the active ones), in order."""
        with self._lock:
            return list(range(self._next))
