#!/usr/bin/python3
"""Runs psql scripts against a fresh server and compares their output exactly.

    run_sql.py NAME...            sql/NAME.sql against the target, diffed with sql/NAME.out
    run_sql.py --update NAME...   rewrite sql/NAME.out (only with TD_E2E_TARGET=postgres:
                                  the expected output is PostgreSQL 15's)

psql runs like pg_regress runs it: `psql -X -a -q -v ON_ERROR_STOP=0` with the
script on stdin and stderr merged into stdout, so each statement is echoed,
followed by its result or its ERROR/DETAIL/HINT and the LINE/caret of the
error position. Each script gets its own server (harness.py); scripts clean
up after themselves anyway so that they can be run by hand in sequence.
Exit status: 0 all equal, 1 a difference (the unified diff is printed),
77 the target is not built.
"""

import difflib
import os
import subprocess
import sys

import harness

SQL_DIR = os.path.join(harness.HERE, "sql")


def run_script(server, name):
    """The output psql produces for sql/NAME.sql on `server`."""
    env = server.env()
    env["LC_ALL"] = "C"  # untranslated psql messages
    for var in ("PGTZ", "PGOPTIONS", "PGDATESTYLE", "PGCLIENTENCODING"):
        env.pop(var, None)
    with open(os.path.join(SQL_DIR, name + ".sql"), "rb") as script:
        done = subprocess.run(["psql", "-X", "-a", "-q", "-v", "ON_ERROR_STOP=0"], stdin=script,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=300)
    return done.stdout.decode("utf-8", errors="replace")


def check(name, actual, update):
    expected_path = os.path.join(SQL_DIR, name + ".out")
    if update:
        with open(expected_path, "w") as f:
            f.write(actual)
        print(f"{name}: wrote {expected_path}")
        return True
    with open(expected_path) as f:
        expected = f.read()
    if actual == expected:
        print(f"{name}: ok")
        return True
    sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                               f"{name}.out (PostgreSQL 15)", f"{name} ({harness.target()})"))
    print(f"{name}: FAILED")
    return False


def main(args):
    update = "--update" in args
    names = [a for a in args if a != "--update"]
    if update and harness.target() != "postgres":
        sys.exit("--update takes the expected output from PostgreSQL: set TD_E2E_TARGET=postgres")
    if harness.skip_reason():
        print(f"SKIP: {harness.skip_reason()}", file=sys.stderr)
        return harness.SKIP
    ok = True
    for name in names:
        server = harness.make_server()
        try:
            server.start()
            if not check(name, run_script(server, name), update):
                print(f"--- {server.name} log tail:\n{server.log_tail()}")
                ok = False
        finally:
            server.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
