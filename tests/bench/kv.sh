#!/usr/bin/env bash
# kv.sh BUILD - KV API throughput on one store with synced commits, beside
# RocksDB's db_bench fillrandom with sync=1 at 1 and 8 threads.
#
# Our side is tests/bench/kv_bench.c with 1 and 16 clients: synced
# non-transactional single-key puts, gets, and two-key transactions through
# the coordinator (one range, so each is a one-phase commit: one synced
# write batch). The reference is db_bench fillrandom with sync=1 (one fsync
# per write), with the shape shared with storage.sh (lib.bash: 16-byte keys,
# 100-byte values, lz4, WAL, non-pipelined writes). Rounds alternate
# db_bench and ours on fresh directories; medians are compared, because the
# machine is shared and single runs swing. The target: 16-client one-phase
# commits >= 0.8x db_bench's 8-thread synced fillrandom (group commit).
#
# Knobs: KV_BENCH_OPS (ops per client/thread, default 400), KV_BENCH_ROUNDS
# (default 3), KV_BENCH_DIR (where stores go; default build/, on the real
# disk, since /tmp may be a tmpfs whose fsync is free).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
bench="$build/tests/bench/kv_bench"
ops=${KV_BENCH_OPS:-400}
rounds=${KV_BENCH_ROUNDS:-3}
[ -x "$bench" ] || { echo "kv.sh: $bench missing; build the kv_bench target" >&2; exit 1; }
# shellcheck source=lib.bash
. "$(dirname "$0")/lib.bash"

tmp=$(mktemp -d "${KV_BENCH_DIR:-$build}/td-kv-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/results"

for ((r = 1; r <= rounds; r++)); do
    for threads in 1 8; do
        db_bench_run "$tmp/db" "$ops" 1 fillrandom "$threads" |
            awk '{ print $2 }' >>"$tmp/results/fillrandom.$threads"
    done
    for threads in 1 16; do
        rm -rf "$tmp/kv"
        mkdir "$tmp/kv"
        "$bench" "$tmp/kv" "$threads" "$ops" | while read -r phase t rate; do
            echo "$rate" >>"$tmp/results/$phase.$t"
        done
    done
done

m() { median "$tmp/results/$1"; }
ref1=$(m fillrandom.1)
ref8=$(m fillrandom.8)
printf '%-34s %12s %10s\n' "workload (synced)" "op/s" "ratio"
printf '%-34s %12d %10s\n' "db_bench fillrandom, 1 thread" "$ref1" "1.00"
printf '%-34s %12d %10s\n' "db_bench fillrandom, 8 threads" "$ref8" "1.00"
row() { # label file reference
    awk -v l="$1" -v v="$(m "$2")" -v r="$3" 'BEGIN { printf "%-34s %12d %10.2f\n", l, v, v / r }'
}
row "kv put, 1 client (vs 1 thread)" put.1 "$ref1"
row "kv put, 16 clients (vs 8 threads)" put.16 "$ref8"
row "kv 2-key txn, 1 client" txn2.1 "$ref1"
row "kv 2-key txn, 16 clients" txn2.16 "$ref8"
printf '%-34s %12d %10s\n' "kv get, 1 client (no reference)" "$(m get.1)" "-"
printf '%-34s %12d %10s\n' "kv get, 16 clients" "$(m get.16)" "-"
echo "(median of $rounds rounds, $ops ops per client; txn = one-phase commit of 2 keys;"
echo " target: 16-client txn >= 0.80 of db_bench 8 threads)"
