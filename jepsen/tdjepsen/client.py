"""Runs one operation as one transaction over a PostgreSQL-protocol
connection (psycopg2) and decides how it completed.

The rule that keeps histories honest: an operation is `fail` only when the
database says it certainly took no effect. SQLSTATE 40001 (serialization
failure), 40P01 (deadlock) and any other error the server reports inside
the transaction abort it, so they are `fail`. 40003 (statement completion
unknown) is the server saying it does not know: always `info`. A timeout or
cancel (57014), a shutdown (class 57) or a broken connection (class 08, or
no SQLSTATE at all) leave the outcome unknown too: `info` for an operation
that may write, `fail` for one that only reads, as it had no effect either
way.
"""

import psycopg2

from .history import FAIL, INFO, OK

AMBIGUOUS = "40003"
_INDETERMINATE_CLASSES = ("08", "57")


def completion_type(err, may_write):
    """FAIL or INFO for a psycopg2 error raised while running an op."""
    code = getattr(err, "pgcode", None)
    if code == AMBIGUOUS:
        return INFO
    unknown = code is None or code[:2] in _INDETERMINATE_CLASSES
    return INFO if unknown and may_write else FAIL


def describe(err):
    """'SQLSTATE: first line of the message' for the history's error field."""
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return f"{getattr(err, 'pgcode', None) or 'no-sqlstate'}: {message}"


def execute(conn, workload, f, value):
    """(type, value, error) of running op (f, value) of `workload` as one
    transaction on `conn`, committed when the workload says ok and rolled
    back otherwise. `conn` stays usable unless `conn.closed` is set."""
    try:
        with conn.cursor() as cursor:
            type_, result = workload.invoke(cursor, f, value)
        if type_ == OK:
            conn.commit()
        else:
            conn.rollback()
        return type_, result, None
    except psycopg2.Error as err:
        try:
            conn.rollback()
        except psycopg2.Error:
            conn.close()
        return completion_type(err, workload.may_write(f)), value, describe(err)
