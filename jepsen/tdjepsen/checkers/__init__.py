"""One checker per workload, each a function from history Ops to a result
dict whose "valid" is True, False or "unknown", with "anomaly_types" and
"anomalies" (name -> witnesses). `check_file` is what `jepsen/check` and
the runner call, so every caller shares one implementation."""

from .. import history
from . import append, bank, register
from . import set as set_checker

CHECKERS = {
    "append": append.check,
    "bank": bank.check,
    "register": register.check,
    "set": set_checker.check,
}

EXIT_VALID, EXIT_INVALID, EXIT_UNKNOWN = 0, 1, 2


def check(workload, ops, **options):
    """Runs the workload's checker; options are checker keywords (append:
    model, bank: total). Raises HistoryError on malformed histories."""
    return CHECKERS[workload](ops, **options)


def check_file(workload, path, **options):
    return check(workload, history.load(path), **options)


def exit_code(valid):
    """0 for True, 1 for False, 2 for anything else ("unknown")."""
    if valid is True:
        return EXIT_VALID
    return EXIT_INVALID if valid is False else EXIT_UNKNOWN
