# lib.bash - sourced by the benchmark scripts (storage.sh, kv.sh,
# pgbench.sh, sql.sh): the db_bench reference run, the median of repeated
# rounds, and the servers, rounds and CPU figures of a
# Tardigrade-beside-PostgreSQL comparison. Every comparison with db_bench
# uses the same reference shape: 16-byte keys, 100-byte values, lz4, 64 MiB
# block cache, WAL on, one key per write batch and RocksDB's default
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

# compare_rounds ROUNDS DIR TPS_FN WORKLOAD...
# Runs `TPS_FN TARGET WORKLOAD` for both targets, ROUNDS times, appending
# each figure to DIR/WORKLOAD.TARGET. Rounds alternate which server goes
# first, and medians are compared: the machine is shared, and a load that
# changes between two runs would otherwise favour one side.
compare_rounds() {
    local rounds=$1 dir=$2 fn=$3 order r w t
    shift 3
    mkdir -p "$dir"
    for ((r = 1; r <= rounds; r++)); do
        order="tardigrade postgres"
        ((r % 2 == 0)) && order="postgres tardigrade"
        for w in "$@"; do
            for t in $order; do
                "$fn" "$t" "$w" >>"$dir/$w.$t"
            done
        done
    done
}

# cpu_ticks PID: the CPU time (clock ticks, user + system) the server
# process PID and its children have used so far: its own threads, children
# it has reaped, and children still alive (PostgreSQL's backends and
# auxiliary processes). Reading it before and after a run gives the
# server's CPU per transaction, a figure the machine's other load disturbs
# far less than throughput. A child reaped between the reads of its own
# and its parent's counters would count twice: callers read once the
# run's connections have ended.
cpu_ticks() {
    local p total=0 f
    for p in "$1" $(pgrep -P "$1"); do
        read -r -a f <"/proc/$p/stat" 2>/dev/null || continue
        # fields 14-17 (utime stime cutime cstime), after a comm without spaces
        total=$((total + f[13] + f[14] + f[15] + f[16]))
    done
    echo "$total"
}

# compare_row LABEL DIR WORKLOAD: one line of the comparison table: the
# medians, their ratio Tardigrade/PostgreSQL, and each round's ratio.
compare_row() {
    local td pg
    td=$(median "$2/$3.tardigrade")
    pg=$(median "$2/$3.postgres")
    printf '%-40s %12.0f %12.0f %8.2f  %s\n' "$1" "$td" "$pg" "$(awk -v a="$td" -v b="$pg" 'BEGIN { print a / b }')" \
        "$(paste "$2/$3.tardigrade" "$2/$3.postgres" | awk '{ printf "%.2f ", $1 / $2 }')"
}

# start_server TARGET: starts a server of TARGET (tardigrade or postgres) in
# $tmp/TARGET through tests/e2e/harness.py, durable, and sets port[TARGET]
# and pid[TARGET] (associative arrays the caller declares).
start_server() {
    local out
    out=$(TD_E2E_TARGET=$1 /usr/bin/python3 "$here/../e2e/harness.py" start --durable --dir "$tmp/$1")
    read -r "port[$1]" "pid[$1]" <<<"$out"
}

# stop_servers: stops the servers tests/e2e/harness.py started under
# $tmp/tardigrade and $tmp/postgres (those that got that far), then removes
# $tmp. For `trap stop_servers EXIT` in the scripts that compare the two.
stop_servers() {
    local t
    for t in tardigrade postgres; do
        [ -f "$tmp/$t/harness.json" ] && /usr/bin/python3 "$here/../e2e/harness.py" stop --dir "$tmp/$t"
    done
    rm -rf "$tmp"
}
