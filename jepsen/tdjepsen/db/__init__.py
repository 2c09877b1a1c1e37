"""Databases under test. An adapter is constructed with the node count,
then `start()`ed; `connect()` returns a psycopg2 connection to a node at
the run's isolation level; `save_logs(dir)` copies node logs into the
results; `stop()` stops every node and deletes its files, and is safe to
call after a failed or partial start."""

from .postgres import Postgres


class UnavailableError(RuntimeError):
    """The database cannot be run by this harness (yet)."""


def _tardigrade(nodes):
    raise UnavailableError(
        "--db tardigrade is not yet available: the node binary (tools/tardigrade) does not exist yet; "
        "use --db postgres to exercise the harness"
    )


ADAPTERS = {"postgres": Postgres, "tardigrade": _tardigrade}


def open_db(name, nodes):
    """An unstarted adapter; raises UnavailableError or ValueError."""
    return ADAPTERS[name](nodes)
