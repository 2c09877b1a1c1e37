#!/usr/bin/env bash
# `make run`: starts a single-node Tardigrade in the foreground, insecure,
# SQL on 127.0.0.1:26257 and HTTP on 127.0.0.1:26457, its store in
# BUILD/run-store (kept across runs, removed by `make clean`; TD_STORE=DIR
# picks another).
# Ctrl-C stops it cleanly. Connect with:
#
#     psql "host=127.0.0.1 port=26257 user=root dbname=defaultdb"
#
# Arguments after the build directory replace the defaults entirely, e.g.
#     tools/run.sh build start-single-node --store /tmp/s --sql-listen 127.0.0.1:5433
# docs/operations.md describes every flag.
set -euo pipefail
build=${1:-build}
shift || true

if [ ! -x "$build/tardigrade" ]; then
    echo "run.sh: $build/tardigrade is not built (make build)" >&2
    exit 1
fi
if [ $# -gt 0 ]; then
    exec "$build/tardigrade" "$@"
fi
store=${TD_STORE:-$build/run-store}
echo "run.sh: psql \"host=127.0.0.1 port=26257 user=root dbname=defaultdb\"; Ctrl-C stops the node" >&2
exec "$build/tardigrade" start-single-node --store "$store" \
    --sql-listen 127.0.0.1:26257 --http-listen 127.0.0.1:26457 --insecure
