"""Databases under test. An adapter is constructed with the node count
(raising ValueError when it cannot run here), then `start(out)`ed with the
results directory; `connect()` returns a psycopg2 connection to a node at
the run's isolation level; `save_logs(dir)` copies node logs into the
results; `stop()` stops every node and deletes its files, and is safe to
call after a failed or partial start.

Class attributes: `default_nodes` (when --nodes is not given) and `upsert`
(whether INSERT ... ON CONFLICT exists; workloads fall back to UPDATE,
then INSERT). Adapters that can take faults (see nemesis.py) also have
kill/restart/pause/resume and recover()."""

from .postgres import Postgres
from .tardigrade import Tardigrade

ADAPTERS = {"postgres": Postgres, "tardigrade": Tardigrade}


def open_db(name, nodes):
    """An unstarted adapter for `nodes` nodes (None: its default); raises
    ValueError when it cannot run here."""
    adapter = ADAPTERS[name]
    return adapter(nodes or adapter.default_nodes)
