#!/usr/bin/env bash
# Runs every benchmark script in tests/bench/ against the build in $1.
# Each script prints its figures as ratios to a reference measured in the
# same run (db_bench, PostgreSQL, etcd, the machine's fsync and loopback).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
for s in "$here"/*.sh; do
    [ "$(basename "$s")" = run.sh ] && continue
    echo "== $(basename "$s")"
    "$s" "$build"
done
