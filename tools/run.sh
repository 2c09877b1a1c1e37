#!/usr/bin/env bash
# `make run`: until the node binary lands, there is no server to start.
# This prints what the build in $1 contains and how to run each piece, so
# `make run` tells the truth about the tree it is run in.
set -euo pipefail
build=${1:-build}

if [ -x "$build/tardigrade" ]; then
    exec "$build/tardigrade" "${@:2}"
fi

cat <<MSG
Tardigrade is built in $build/. No node binary exists yet: the storage
engine (kv/) and the Raft library (raft/) are libraries with test suites.

What you can run now:
MSG
for t in "$build"/tests/*/test_* "$build"/tests/bench/*_bench; do
    [ -x "$t" ] && printf '  %s\n' "$t"
done
cat <<MSG

  make test          format check, every suite, and the ASan/UBSan suites
  make tsan-test     the sanitize-labelled suites under ThreadSanitizer
  make bench         benchmarks, printed as ratios to db_bench and friends
  jepsen/check       consistency checkers over a JSON-lines history
MSG
