# lib.bash - sourced by the benchmark scripts (storage.sh, kv.sh): the
# db_bench reference run and the median of repeated rounds. Every
# comparison with db_bench uses the same reference shape: 16-byte keys, 100-byte values, lz4, 64 MiB block
# cache, WAL on, one key per write batch and RocksDB's default
# non-pipelined writer (db_bench turns pipelining on by default, kv does
# not). Not a benchmark itself (run.sh runs only *.sh).

command -v db_bench >/dev/null || { echo "db_bench missing (apt rocksdb-tools)" >&2; exit 1; }

# db_bench_run DIR NUM SYNC BENCHMARKS THREADS
# Runs db_bench in a fresh DIR (removed first) with NUM ops per thread and
# prints "benchmark ops_per_sec" lines; seekrandom is reported as "scan".
db_bench_run() {
    rm -rf "$1"
    db_bench --db="$1" --num="$2" --sync="$3" --benchmarks="$4" --key_size=16 \
        --value_size=100 --compression_type=lz4 --cache_size=67108864 --threads="$5" \
        --batch_size=1 --enable_pipelined_write=false --seek_nexts=10 2>/dev/null |
        awk '/micros\/op/ { name = $1; if (name == "seekrandom") name = "scan"; print name, $5 }'
}

# median FILE: the median of the numbers in FILE, one per line.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
