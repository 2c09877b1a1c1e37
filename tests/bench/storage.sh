#!/usr/bin/env bash
# storage.sh BUILD - kv/ MVCC throughput beside RocksDB's own db_bench.
#
# Both run single-threaded in this script on this machine with the same
# shape: 16-byte keys, 100-byte values, lz4, 64 MiB block cache, WAL on, one
# key per write batch (db_bench --batch_size=1), the same write path
# (RocksDB's default non-pipelined writer: db_bench turns pipelining on by
# default, kv does not) and with sync=1 one fsync per write on both sides. Our side is tests/bench/storage_bench.c: each
# write is a full kv_mvcc_put (conflict check read + versioned key) at an
# HLC timestamp. Each workload runs STORAGE_BENCH_ROUNDS times, alternating
# db_bench and ours, on fresh directories; the medians are compared, because
# the machine is shared and single runs swing by 2x.
#
# Knobs: STORAGE_BENCH_NUM (default 200000 ops), STORAGE_BENCH_SYNC_NUM
# (default 2000 synced ops), STORAGE_BENCH_ROUNDS (default 5).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
bench="$build/tests/bench/storage_bench"
num=${STORAGE_BENCH_NUM:-200000}
sync_num=${STORAGE_BENCH_SYNC_NUM:-2000}
rounds=${STORAGE_BENCH_ROUNDS:-5}
[ -x "$bench" ] || { echo "storage.sh: $bench missing; build the storage_bench target" >&2; exit 1; }
# shellcheck source=lib.bash
. "$(dirname "$0")/lib.bash"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/td-storage-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/results"

# Prints "benchmark ops_per_sec" lines; db_bench's seekrandom is our scan.
run_ref() { # num sync benchmarks
    db_bench_run "$tmp/db" "$1" "$2" "$3" 1
}

run_kv() { # num sync benchmarks
    rm -rf "$tmp/db"
    "$bench" "$tmp/db" "${3//seekrandom/scan}" "$1" "$2"
}

# Appends each round's figures to results/<benchmark>.sync<S>.<side>.
record() { # side sync
    while read -r name ops; do
        echo "$ops" >>"$tmp/results/$name.sync$2.$1"
    done
}

workloads=(
    "$num 0 fillseq"
    "$num 0 fillrandom,readrandom,seekrandom"
    "$sync_num 1 fillseq"
    "$sync_num 1 fillrandom"
)
for ((r = 1; r <= rounds; r++)); do
    for w in "${workloads[@]}"; do
        read -r n s list <<<"$w"
        run_ref "$n" "$s" "$list" | record ref "$s"
        run_kv "$n" "$s" "$list" | record kv "$s"
    done
done

printf '%-22s %14s %14s %7s\n' "workload" "db_bench op/s" "kv mvcc op/s" "ratio"
for key in fillseq.sync0 fillrandom.sync0 readrandom.sync0 scan.sync0 fillseq.sync1 \
    fillrandom.sync1; do
    ref=$(median "$tmp/results/$key.ref")
    kv=$(median "$tmp/results/$key.kv")
    label=${key%.sync*}
    [ "${key##*.}" = sync1 ] && label="$label sync=1" || label="$label sync=0"
    awk -v l="$label" -v r="$ref" -v k="$kv" 'BEGIN { printf "%-22s %14d %14d %7.2f\n", l, r, k, k / r }'
done
echo "(median of $rounds rounds; $num ops, $sync_num synced ops; scan = 10 keys per seek)"
