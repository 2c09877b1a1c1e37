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
Tardigrade is built in $build/. No node binary exists yet: raft/, kv/,
sql/ and net/ are libraries with test suites (see README.md, "Status").

What you can run now:
MSG
find "$build/tests" -mindepth 2 -maxdepth 2 -type f -perm -u+x | sort | sed 's/^/  /'
cat <<MSG

  make test          format check, every suite, and the ASan/UBSan suites
  make tsan-test     the multi-threaded stress programs under ThreadSanitizer
  make bench         benchmarks, printed as ratios to db_bench and friends
  jepsen/check       consistency checkers over a JSON-lines history
MSG
