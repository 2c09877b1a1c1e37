#!/usr/bin/env bash
# Raft benchmark: committed proposals/s and allocations per proposal for a
# 3-node in-memory group (tests/bench/raft_bench.c). Usage: raft.sh BUILD [N]
set -euo pipefail
build=${1:-build}
bin="$build/tests/bench/raft_bench"
if [ ! -x "$bin" ]; then
    echo "raft.sh: $bin not built (cmake --build $build --target raft_bench)" >&2
    exit 1
fi
"$bin" "${2:-1000000}"
