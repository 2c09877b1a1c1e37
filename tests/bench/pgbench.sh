#!/usr/bin/env bash
# pgbench.sh BUILD - a single Tardigrade node beside PostgreSQL 15 under pgbench.
#
# Both servers start side by side on 127.0.0.1 in temporary directories
# under BUILD (the real disk: /tmp may be a tmpfs whose fsync is free),
# through tests/e2e/harness.py. PostgreSQL keeps its default durability
# (fsync on, synchronous_commit on), as Tardigrade syncs every commit.
# Both get the same table,
#
#     accounts(aid int PRIMARY KEY, abalance int, filler char(84))
#
# loaded with 100,000 rows by psql through COPY FROM STDIN, then the same
# pgbench custom scripts run against each, in PGBENCH_ROUNDS rounds, with 8 clients for PGBENCH_SECONDS each:
#
#     select  \set aid random(1, 100000)
#             SELECT abalance FROM accounts WHERE aid = :aid;       (-M prepared)
#     update  \set aid random(1, 100000) / \set delta random(-5000, 5000)
#             UPDATE accounts SET abalance = abalance + :delta WHERE aid = :aid;
#
# It prints the median TPS of both and their ratio Tardigrade/PostgreSQL,
# with the ratio of each round to show the spread, then opens 1,000 idle
# connections to Tardigrade (idle_conns.py) and prints the node's resident
# memory growth per connection. Targets (issue 5): select >= 0.7, update
# >= 0.8, <= 64 KiB per idle connection. Figures only: nothing here
# asserts a timing.
#
# Knobs: PGBENCH_SECONDS (default 20), PGBENCH_ROUNDS (default 3),
# PGBENCH_CLIENTS (default 8), PGBENCH_IDLE (idle connections, default
# 1000), PGBENCH_DIR (where the servers' directories go, default BUILD).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
secs=${PGBENCH_SECONDS:-20}
clients=${PGBENCH_CLIENTS:-8}
idle=${PGBENCH_IDLE:-1000}
rounds=${PGBENCH_ROUNDS:-3}
rows=100000
[ -x "$build/tardigrade" ] || { echo "pgbench.sh: $build/tardigrade missing; build the tardigrade target" >&2; exit 1; }
export TD_E2E_TARDIGRADE="$build/tardigrade"
# shellcheck source=lib.bash
. "$here/lib.bash" # start_server, compare_rounds, compare_row, stop_servers

tmp=$(mktemp -d "${PGBENCH_DIR:-$build}/td-pgbench.XXXXXX")
chmod 755 "$tmp"
trap stop_servers EXIT

declare -A port pid
start_server tardigrade
start_server postgres

# The load: one CREATE TABLE, then one COPY of every row.
awk -v rows=$rows 'BEGIN {
    print "CREATE TABLE accounts (aid int PRIMARY KEY, abalance int, filler char(84));"
    print "COPY accounts FROM stdin;"
    for (i = 1; i <= rows; i++)
        printf "%d\t0\t\n", i
    print "\\."
}' >"$tmp/load.sql"
cat >"$tmp/select.pgb" <<'EOF'
\set aid random(1, 100000)
SELECT abalance FROM accounts WHERE aid = :aid;
EOF
cat >"$tmp/update.pgb" <<'EOF'
\set aid random(1, 100000)
\set delta random(-5000, 5000)
UPDATE accounts SET abalance = abalance + :delta WHERE aid = :aid;
EOF

sql() { # TARGET ARGS...: psql against TARGET's server
    local t=$1
    shift
    psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "${port[$t]}" -U root -d defaultdb "$@"
}
for t in tardigrade postgres; do
    start_s=$(date +%s.%N)
    sql "$t" -f "$tmp/load.sql"
    loaded=$(sql "$t" -At -c "SELECT aid FROM accounts ORDER BY aid DESC LIMIT 1")
    [ "$loaded" = "$rows" ] || { echo "pgbench.sh: $t holds aid up to '$loaded', not $rows" >&2; exit 1; }
    awk -v t="$t" -v s="$start_s" -v e="$(date +%s.%N)" 'BEGIN { printf "load %-10s %6.1f s\n", t, e - s }'
done

# tps TARGET WORKLOAD: pgbench's TPS without connection time.
tps() {
    local mode=simple
    [ "$2" = select ] && mode=prepared
    pgbench -n -h 127.0.0.1 -p "${port[$1]}" -U root -c "$clients" -j "$clients" -T "$secs" \
        -M "$mode" -f "$tmp/$2.pgb" defaultdb 2>"$tmp/pgbench.err" |
        awk '/^tps = / { print $3 }' | grep . || { cat "$tmp/pgbench.err" >&2; return 1; }
}
compare_rounds "$rounds" "$tmp/results" tps select update

printf '%-40s %12s %12s %8s  %s\n' "workload ($clients clients, $secs s)" "tardigrade" "postgres" "ratio" \
    "ratio per round"
compare_row "point select by pk, -M prepared" "$tmp/results" select
compare_row "single-row update by pk" "$tmp/results" update
echo "(median TPS of $rounds rounds, without connection time; targets: select >= 0.70, update >= 0.80)"

/usr/bin/python3 "$here/idle_conns.py" "${port[tardigrade]}" "${pid[tardigrade]}" "$idle" |
    awk '{ printf "tardigrade idle connections: %d, RSS %d -> %d KiB, %.1f KiB per connection (target <= 64)\n", $2, $4, $6, $8 }'
