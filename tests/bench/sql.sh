#!/usr/bin/env bash
# sql.sh BUILD - a single Tardigrade node beside PostgreSQL 15 under
# pgbench's select-only workload and a join-and-aggregate workload (#7).
#
# Both servers start side by side on 127.0.0.1 in temporary directories
# under BUILD through tests/e2e/harness.py (PostgreSQL with its default
# durability). Both get pgbench's four tables, created by psql with their
# primary keys and filled by `pgbench -i -I g -s SCALE` (client-side COPY),
# then, with 8 clients for SQL_BENCH_SECONDS each, in SQL_BENCH_ROUNDS rounds
# that alternate which server goes first:
#
#     select-only  pgbench's built-in -S script, -M prepared
#     join+agg     \set aid random(1, 100000 * :scale - 99)
#                  SELECT b.bid, count(*), sum(a.abalance), max(t.tbalance)
#                  FROM pgbench_accounts a
#                  JOIN pgbench_branches b ON b.bid = a.bid
#                  JOIN pgbench_tellers t ON t.bid = b.bid
#                  WHERE a.aid BETWEEN :aid AND :aid + 99
#                  GROUP BY b.bid;                                (-M prepared)
#
# It prints the median TPS of both and their ratio Tardigrade/PostgreSQL,
# with the ratio of each round, and the servers' CPU time per transaction
# (cpu_ticks in lib.bash; lower is better), which the machine's other load
# disturbs far less than throughput. Targets (issue 7): select-only >= 0.7,
# join+agg >= 0.5. Figures only: nothing here asserts a timing.
#
# Knobs: SQL_BENCH_SECONDS (default 20), SQL_BENCH_ROUNDS (default 3),
# SQL_BENCH_CLIENTS (default 8), SQL_BENCH_SCALE (default 1: 100,000
# accounts), SQL_BENCH_DIR (where the servers' directories go, default BUILD).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
secs=${SQL_BENCH_SECONDS:-20}
clients=${SQL_BENCH_CLIENTS:-8}
rounds=${SQL_BENCH_ROUNDS:-3}
scale=${SQL_BENCH_SCALE:-1}
[ -x "$build/tardigrade" ] || { echo "sql.sh: $build/tardigrade missing; build the tardigrade target" >&2; exit 1; }
export TD_E2E_TARDIGRADE="$build/tardigrade"
# shellcheck source=lib.bash
. "$here/lib.bash" # start_server, cpu_ticks, compare_rounds, compare_row, stop_servers

tmp=$(mktemp -d "${SQL_BENCH_DIR:-$build}/td-sqlbench.XXXXXX")
chmod 755 "$tmp"
trap stop_servers EXIT

declare -A port pid
start_server tardigrade
start_server postgres

cat >"$tmp/schema.sql" <<'EOF'
CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88));
CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84));
CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84));
CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
EOF
cat >"$tmp/joinagg.pgb" <<'EOF'
\set aid random(1, 100000 * :scale - 99)
SELECT b.bid, count(*), sum(a.abalance), max(t.tbalance) FROM pgbench_accounts a JOIN pgbench_branches b ON b.bid = a.bid JOIN pgbench_tellers t ON t.bid = b.bid WHERE a.aid BETWEEN :aid AND :aid + 99 GROUP BY b.bid;
EOF

pg() { # TARGET PROGRAM ARGS...: a PostgreSQL client against TARGET's server
    local t=$1 prog=$2
    shift 2
    "$prog" -h 127.0.0.1 -p "${port[$t]}" -U root "$@"
}
for t in tardigrade postgres; do
    start_s=$(date +%s.%N)
    pg "$t" psql -X -q -v ON_ERROR_STOP=1 -d defaultdb -f "$tmp/schema.sql"
    pg "$t" pgbench -q -i -I g -s "$scale" defaultdb 2>"$tmp/init.err" || { cat "$tmp/init.err" >&2; exit 1; }
    n=$(pg "$t" psql -X -At -d defaultdb -c "SELECT count(*) FROM pgbench_accounts")
    [ "$n" = $((scale * 100000)) ] || { echo "sql.sh: $t holds $n accounts, not $((scale * 100000))" >&2; exit 1; }
    awk -v t="$t" -v s="$start_s" -v e="$(date +%s.%N)" 'BEGIN { printf "load %-10s %6.1f s\n", t, e - s }'
done

tps() { # TARGET WORKLOAD: pgbench's TPS without connection time; the server's
    # CPU microseconds per transaction go to $tmp/results/WORKLOAD-cpu.TARGET
    local script=(-S) out c0 n
    [ "$2" = joinagg ] && script=(-f "$tmp/joinagg.pgb")
    c0=$(cpu_ticks "${pid[$1]}")
    out=$(pg "$1" pgbench -n -c "$clients" -j "$clients" -T "$secs" -s "$scale" -M prepared "${script[@]}" \
        defaultdb 2>"$tmp/pgbench.err") || { cat "$tmp/pgbench.err" >&2; return 1; }
    sleep 1 # the backends of the run's connections exit and are reaped
    n=$(awk '/^number of transactions actually processed:/ { split($NF, a, "/"); print a[1] }' <<<"$out")
    awk -v t="$(cpu_ticks "${pid[$1]}")" -v t0="$c0" -v n="$n" -v hz="$(getconf CLK_TCK)" \
        'BEGIN { print (t - t0) * 1e6 / hz / n }' >>"$tmp/results/$2-cpu.$1"
    awk '/^tps = / { print $3 }' <<<"$out" | grep . || { cat "$tmp/pgbench.err" >&2; return 1; }
}
compare_rounds "$rounds" "$tmp/results" tps select joinagg

printf '%-40s %12s %12s %8s  %s\n' "workload ($clients clients, $secs s)" "tardigrade" "postgres" "ratio" \
    "ratio per round"
compare_row "select-only (pgbench -S), -M prepared" "$tmp/results" select
compare_row "join+agg (3 tables, 100 accounts)" "$tmp/results" joinagg
echo "(median TPS of $rounds rounds, without connection time, scale $scale; targets: select-only >= 0.70, join+agg >= 0.50)"
printf '%-40s %12s %12s %8s  %s\n' "server CPU per transaction, us" "tardigrade" "postgres" "ratio" \
    "ratio per round"
compare_row "select-only" "$tmp/results" select-cpu
compare_row "join+agg" "$tmp/results" joinagg-cpu
echo "(CPU time of the server process and its children per transaction, median of $rounds rounds; lower is better)"
