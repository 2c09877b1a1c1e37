#!/usr/bin/python3
"""Starts a throwaway server, runs slt.py against it, stops it.

    run.py [--target postgres|tardigrade] [slt.py options] [FILE|DIR...]

The server comes from tests/e2e/harness.py (PostgreSQL 15 initdb'd in a
temporary directory, or build/tardigrade start-single-node; a free port in
27000-27599, user root, database defaultdb). --target defaults to
TD_E2E_TARGET, else tardigrade. Without FILE|DIR the corpus directory
../shared/sqllogictest (TD_SLT_DIR overrides it) is run. Every other option
(--max-failures-shown, --file-filter, -v) goes to slt.py. Exit status:
slt.py's; 77 when the target cannot run here (tardigrade not built, corpus
missing), which ctest reports as skipped.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import harness  # noqa: E402
import slt  # noqa: E402

CORPUS = os.environ.get("TD_SLT_DIR", os.path.join(os.path.dirname(ROOT), "shared", "sqllogictest"))


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], add_help=False)
    p.add_argument("--target", choices=("postgres", "tardigrade"),
                   default=os.environ.get("TD_E2E_TARGET", "tardigrade"))
    args, rest = p.parse_known_args(argv)
    os.environ["TD_E2E_TARGET"] = args.target
    slt_args = slt.parse_args(rest)
    if not slt_args.paths:
        if not os.path.isdir(CORPUS):
            print(f"SKIP: no sqllogictest corpus at {CORPUS}", file=sys.stderr)
            return harness.SKIP
        slt_args.paths = [CORPUS]
    reason = harness.skip_reason()
    if reason:
        print(f"SKIP: {reason}", file=sys.stderr)
        return harness.SKIP
    server = harness.make_server()
    try:
        server.start()
        print(f"slt: {server.name} on {server.host}:{server.port}", flush=True)
        slt_args.host, slt_args.port, slt_args.user = server.host, server.port, server.user
        slt_args.admin_db = server.dbname
        rc = slt.run(slt_args)
        if rc != 0:
            print(f"--- {server.name} log tail:\n{server.log_tail()}", file=sys.stderr)
        return rc
    finally:
        server.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
