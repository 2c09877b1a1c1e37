#!/usr/bin/env bash
# replicated.sh BUILD [OPTIONS] - replicated single-row writes: a 3-node
# Tardigrade cluster beside a 3-member etcd 3.4 cluster, with the
# machine's physical floor measured in the same run (issue 6, "Benchmark").
#
#   floor       build/tests/bench/floor: p50/p99 of 1,000 fdatasyncs of a
#               4 KiB write on the filesystem of the bench directory, over
#               written blocks (the floor) and appending (what a growing
#               log pays), and of 10,000 loopback TCP round trips (floor.c
#               says why C and why the two fdatasyncs differ).
#   etcd        /usr/bin/etcd, 3 members on 127.0.0.1 (client ports
#               E+1..E+3, peer ports E+4..E+6, E = --etcd-port-base),
#               default durability (fdatasync per WAL write). The load is
#               build/tests/bench/etcd_put (gRPC, one connection per client,
#               etcd_put.c says why) against the leader: 12-byte keys,
#               100-byte values, unique keys.
#   tardigrade  tools/cluster start --nodes 3 --port-base T (SQL on T+1..T+3,
#               T = --td-port-base), CREATE TABLE kv (k BIGINT PRIMARY KEY,
#               v TEXT), then pgbench -M prepared against the node holding
#               the lease of the user range (as etcd_put writes to the
#               etcd leader), one
#               connection and one thread per client, inserting one row of
#               a 100-byte v per transaction. Keys are unique without a
#               sequence: pgbench keeps a client's variables from one
#               transaction to the next, so `\set n :n + 1` (n starts at 0
#               through -D) counts that client's transactions, and
#               k = base + client_id * 10^9 + n, with a base per run.
#
# Both clusters stay up side by side (idle while the other one is loaded),
# and each client count runs --rounds rounds of etcd then Tardigrade, each
# for --duration seconds, so the two sides of every ratio are measured
# back to back: on a shared machine the neighbours' load moves both
# together, while runs minutes apart can differ by a quarter. TPS: the
# median over the rounds of pgbench's "without initial connection time"
# and of etcd_put's puts over the wall time of the run; the ratio is the
# median of the rounds' ratios, printed with each round's. p50/p99:
# nearest rank over every transaction's latency of all rounds (pgbench -l,
# etcd_put's latency file, floor's samples), all ranked by one function
# (pcts). Printed: one table, then the ratios issue 6 sets targets for -
# 1-client Tardigrade p50 against fdatasync p50 + round trip p50 (target
# p50 <= 1.0 ms), 16-client TPS Tardigrade/etcd (target >= 2).
# Figures only: nothing here asserts a timing; the exit status says only
# whether every figure was produced.
#
# Options:
#   --duration S          seconds per run (default 10)
#   --rounds R            runs per side and client count (default 3)
#   --only LIST           comma-separated subset of floor,etcd,tardigrade
#   --single-node         development aid until multi-node nodes exist:
#                         Tardigrade as one `start-single-node` (no
#                         replication; its rows say "1 node")
#   --dir DIR             where the temporary directory goes (default BUILD:
#                         the real disk; /tmp may be a tmpfs whose fsync is free)
#   --etcd-port-base E    default 27670 (27671-27676: tests/cluster takes
#                         27611-27665, the ctest smoke run 27681-27686)
#   --td-port-base T      default 27700
# Everything runs in a temporary directory that is removed at exit, after
# the etcd members and Tardigrade nodes are stopped, also on failure and
# Ctrl-C.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
shift || true
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=10
rounds=3
only=floor,etcd,tardigrade
single=0
parent=$build
etcd_base=27670
td_base=27700
value_bytes=100
usage() {
    echo "usage: replicated.sh BUILD [--duration S] [--rounds R] [--only floor,etcd,tardigrade] [--single-node]" \
        "[--dir DIR]" \
        "[--etcd-port-base P] [--td-port-base P]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --duration) secs=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --single-node) single=1; shift ;;
    --dir) parent=${2:?}; shift 2 ;;
    --etcd-port-base) etcd_base=${2:?}; shift 2 ;;
    --td-port-base) td_base=${2:?}; shift 2 ;;
    *) usage ;;
    esac
done
[[ $secs =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ ]] || usage
wants() { [[ ,$only, == *,$1,* ]]; }
for part in ${only//,/ }; do
    [[ $part =~ ^(floor|etcd|tardigrade)$ ]] || usage
done

need() { # FILE WHAT: fails unless FILE is executable
    [ -x "$1" ] || { echo "replicated.sh: $1 missing; $2" >&2; exit 1; }
}
wants floor && need "$build/tests/bench/floor" "build the floor target"
if wants etcd; then
    need "$build/tests/bench/etcd_put" "build the etcd_put target"
    need /usr/bin/etcd "install etcd-server (tools/deps.sh)"
    need /usr/bin/etcdctl "install etcd-client (tools/deps.sh)"
fi
if wants tardigrade; then
    need "$build/tardigrade" "build the tardigrade target"
    need /usr/bin/pgbench "install postgresql-client (tools/deps.sh)"
    need /usr/bin/psql "install postgresql-client (tools/deps.sh)"
fi

tmp=$(mktemp -d "$parent/td-replicated.XXXXXX")
etcd_pids=()
td_pid=
# SIGKILL, as the members' data is thrown away: on SIGTERM a leader first
# hands its leadership to members that are stopping too, which takes
# seconds and keeps the ports.
stop_etcd() {
    local p
    for p in "${etcd_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${etcd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
    etcd_pids=()
}
cleanup() {
    stop_etcd
    if [ -n "$td_pid" ]; then
        kill "$td_pid" 2>/dev/null || true
        wait "$td_pid" 2>/dev/null || true
    fi
    if [ -f "$tmp/td/cluster.json" ]; then
        "$root/tools/cluster" stop --dir "$tmp/td" --port-base "$td_base" >/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$tmp/results" "$tmp/rounds"

fail() { # MESSAGE [LOG]: prints the message and the log's tail, exits 1
    echo "replicated.sh: $1" >&2
    [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2" >&2
    exit 1
}

# pcts FILE: "p50 p99" in ms of the latencies in microseconds in FILE (one
# per line), by nearest rank; fails on an empty file.
pcts() {
    sort -n "$1" | awk '
        function rank(p,  r) { r = int(p * NR); if (r < p * NR) r++; return v[r] / 1000 }
        { v[NR] = $1 }
        END { if (NR == 0) exit 1; printf "%.3f %.3f\n", rank(0.5), rank(0.99) }'
}

# result NAME CLIENTS TPS LATENCY_FILE: keeps one row of the table in
# $tmp/results/NAME.CLIENTS as "TPS p50 p99" (TPS and CLIENTS are "-" for
# the floor); fails unless every figure is there.
result() {
    local p
    p=$(pcts "$4") || fail "no latencies for $1 (clients: $2)"
    [[ $3 =~ ^([0-9.]+|-)$ ]] || fail "no TPS for $1 (clients: $2)"
    echo "$3 $p" | awk '$1 != "-" { $1 = sprintf("%.1f", $1) } { print }' >"$tmp/results/$1.$2"
}

# round NAME CLIENTS TPS: records one round's TPS (one line per round).
round() {
    [[ $3 =~ ^[0-9.]+$ ]] || fail "no TPS for $1 (clients: $2)"
    echo "$3" >>"$tmp/rounds/$1.$2"
}

# median FILE: the median of the numbers in FILE, one per line (the lower
# middle one for an even count).
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# settle NAME CLIENTS: the row of NAME from its rounds: median TPS, and the
# percentiles of every round's latencies ($tmp/NAME.CLIENTS.us).
settle() { result "$1" "$2" "$(median "$tmp/rounds/$1.$2")" "$tmp/$1.$2.us"; }

# ---- floor -------------------------------------------------------------------

run_floor() {
    "$build/tests/bench/floor" fsync "$tmp" 1000 >"$tmp/fsync.us"
    result fsync - - "$tmp/fsync.us"
    "$build/tests/bench/floor" append "$tmp" 1000 >"$tmp/append.us"
    result append - - "$tmp/append.us"
    "$build/tests/bench/floor" rtt 10000 >"$tmp/rtt.us"
    result rtt - - "$tmp/rtt.us"
}

# ---- etcd --------------------------------------------------------------------

etcd_endpoints() { echo "127.0.0.1:$((etcd_base + 1)),127.0.0.1:$((etcd_base + 2)),127.0.0.1:$((etcd_base + 3))"; }

start_etcd() {
    local i cluster="" eps
    for i in 1 2 3; do
        cluster+="${cluster:+,}m$i=http://127.0.0.1:$((etcd_base + 3 + i))"
    done
    mkdir "$tmp/etcd"
    for i in 1 2 3; do
        etcd --name "m$i" --data-dir "$tmp/etcd/m$i" \
            --listen-client-urls "http://127.0.0.1:$((etcd_base + i))" \
            --advertise-client-urls "http://127.0.0.1:$((etcd_base + i))" \
            --listen-peer-urls "http://127.0.0.1:$((etcd_base + 3 + i))" \
            --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_base + 3 + i))" \
            --initial-cluster "$cluster" --initial-cluster-state new \
            --initial-cluster-token "td-bench-$$" 2>"$tmp/etcd/m$i.log" &
        etcd_pids+=($!)
    done
    eps=$(etcd_endpoints)
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
        for i in 1 2 3; do
            kill -0 "${etcd_pids[i - 1]}" 2>/dev/null || fail "etcd member m$i exited" "$tmp/etcd/m$i.log"
        done
        etcdctl --dial-timeout=1s --command-timeout=2s --endpoints="$eps" endpoint health >/dev/null 2>&1 &&
            return 0
        sleep 0.5
    done
    fail "etcd did not become healthy in 30 s" "$tmp/etcd/m1.log"
}

# The leader's HOST:PORT: clients talk to it, as etcd's own benchmarks do,
# so no put pays a forward from a follower.
etcd_leader() {
    etcdctl --dial-timeout=1s --command-timeout=2s --endpoints="$(etcd_endpoints)" endpoint status -w simple |
        awk -F', ' '$5 == "true" { sub("http://", "", $1); print $1 }'
}

etcd_leader_addr=
setup_etcd() {
    start_etcd
    etcd_leader_addr=$(etcd_leader)
    [ -n "$etcd_leader_addr" ] || fail "etcd has no leader" "$tmp/etcd/m1.log"
}

# etcd_round CLIENTS: one run; its latencies join $tmp/etcd.CLIENTS.us, the
# client's CPU per put of the last round goes to the notes.
etcd_round() {
    local c=$1 out
    out=$("$build/tests/bench/etcd_put" "$etcd_leader_addr" "$c" "$secs" "$value_bytes" "$tmp/etcd.run.us") ||
        fail "etcd_put failed (clients: $c)" "$tmp/etcd/m1.log"
    cat "$tmp/etcd.run.us" >>"$tmp/etcd.$c.us"
    awk -v c="$c" '{ printf "etcd_put, %d client%s: %.0f us of client CPU per put\n", c, c == 1 ? "" : "s", $6 }' \
        <<<"$out" >"$tmp/rounds/etcd.$c.cpu"
    round etcd "$c" "$(awk '{ printf "%.1f", $2 / $4 }' <<<"$out")"
}

# ---- tardigrade --------------------------------------------------------------

sql() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$((td_base + 1))" -U root -d defaultdb "$@"; }

start_single_node() {
    mkdir -p "$tmp/td"
    "$build/tardigrade" start-single-node --store "$tmp/td/store" \
        --sql-listen "127.0.0.1:$((td_base + 1))" --http-listen "127.0.0.1:$((td_base + 201))" \
        --insecure 2>"$tmp/td/node.log" &
    td_pid=$!
    local i
    for i in $(seq 60); do
        sql -c "SELECT 1" >/dev/null 2>&1 && return 0
        kill -0 "$td_pid" 2>/dev/null || break
        sleep 0.5
    done
    fail "the single node did not accept SQL" "$tmp/td/node.log"
}

start_tardigrade() {
    if [ "$single" = 1 ]; then
        start_single_node
    else
        TARDIGRADE_BIN="$build/tardigrade" "$root/tools/cluster" start --nodes 3 --dir "$tmp/td" \
            --port-base "$td_base" >/dev/null || fail "tools/cluster start failed"
    fi
}

# leaseholder_sql_port: the SQL port of the node holding the lease of the
# user data range (the last range), like etcd_put, which writes to the
# etcd leader: a client of another node pays one more hop, measured apart.
leaseholder_sql_port() {
    /usr/bin/python3 - "$((td_base + 201))" <<'PY'
import json, sys, time, urllib.request
http = f"http://127.0.0.1:{sys.argv[1]}"
for _ in range(100):
    ranges = json.load(urllib.request.urlopen(http + "/_status/ranges"))["ranges"]
    nodes = json.load(urllib.request.urlopen(http + "/_status/nodes"))["nodes"]
    user = [r for r in ranges if r["end_key"] == "/Max"]
    holder = user[0]["leaseholder"] if user else 0
    addr = [n["sql_addr"] for n in nodes if n["node_id"] == holder]
    if addr:
        print(addr[0].rsplit(":", 1)[1])
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
}

# pgbench_run CLIENTS BASE: prints pgbench's TPS; the per-transaction log
# goes to $tmp/pgb.CLIENTS.*, pgbench's user and system CPU seconds to
# $tmp/pgb.CLIENTS.cpu.
pgbench_run() {
    local TIMEFORMAT='%U %S'
    {
        time pgbench -n -h 127.0.0.1 -p "$td_port" -U root -c "$1" -j "$1" -T "$secs" -M prepared \
            -D n=0 -D base="$2" -f "$tmp/insert.pgb" -l --log-prefix="$tmp/pgb.$1" defaultdb \
            >"$tmp/pgbench.out" 2>"$tmp/pgbench.err"
    } 2>"$tmp/pgb.$1.cpu" || return 1
    awk '/^tps = / { print $3 }' "$tmp/pgbench.out"
}

setup_tardigrade() {
    start_tardigrade
    sql -c "CREATE TABLE kv (k BIGINT PRIMARY KEY, v TEXT)" || fail "cannot create the table kv"
    td_port=$((td_base + 1))
    if [ "$single" != 1 ]; then
        td_port=$(leaseholder_sql_port) || fail "no leaseholder of the user range found"
    fi
    {
        echo '\set n :n + 1'
        echo '\set k :base + :client_id * 1000000000 + :n'
        echo "INSERT INTO kv VALUES (:k, '$(printf '%*s' "$value_bytes" '' | tr ' ' v)');"
    } >"$tmp/insert.pgb"
}

# td_round CLIENTS: one run, with keys of its own (base); its latencies join
# $tmp/tardigrade.CLIENTS.us, pgbench's CPU per transaction of the last
# round goes to the notes.
td_base_key=0
td_round() {
    local c=$1 tps
    tps=$(pgbench_run "$c" "$td_base_key") || fail "pgbench failed (clients: $c)" "$tmp/pgbench.err"
    td_base_key=$((td_base_key + 1000000000000))
    cat "$tmp/pgb.$c".[0-9]* | awk '{ print $3 }' >"$tmp/td.run.us"
    rm -f "$tmp/pgb.$c".[0-9]*
    cat "$tmp/td.run.us" >>"$tmp/tardigrade.$c.us"
    awk -v c="$c" -v n="$(wc -l <"$tmp/td.run.us")" \
        '{ printf "pgbench, %d client%s: %.0f us of client CPU per transaction\n", c, c == 1 ? "" : "s", ($1 + $2) * 1e6 / n }' \
        "$tmp/pgb.$c.cpu" >"$tmp/rounds/tardigrade.$c.cpu"
    round tardigrade "$c" "$tps"
}

# run_rounds: for 1 and then 16 clients, --rounds rounds of etcd then
# Tardigrade, back to back.
run_rounds() {
    local c r side
    for c in 1 16; do
        for r in $(seq "$rounds"); do
            wants etcd && etcd_round "$c"
            wants tardigrade && td_round "$c"
        done
        for side in etcd tardigrade; do
            wants "$side" || continue
            settle "$side" "$c"
            cat "$tmp/rounds/$side.$c.cpu" >>"$tmp/results/notes"
        done
    done
}

# ---- report ------------------------------------------------------------------

# row LABEL NAME CLIENTS: one line of the table, if that figure was taken.
row() {
    local f="$tmp/results/$2.$3" tps p50 p99
    [ -f "$f" ] || return 0
    read -r tps p50 p99 <"$f"
    printf '%-34s %7s %9s %9s %9s\n' "$1" "$3" "$tps" "$p50" "$p99"
}

# figure NAME CLIENTS FIELD: field 1 TPS, 2 p50, 3 p99 of a kept row.
figure() { awk -v f="$3" '{ print $f }' "$tmp/results/$1.$2"; }
have() { [ -f "$tmp/results/$1.$2" ]; }

report() {
    local td="tardigrade, 3 nodes" a b
    [ "$single" = 1 ] && td="tardigrade, 1 node (dev only)"
    printf '%-34s %7s %9s %9s %9s\n' setup clients TPS "p50 ms" "p99 ms"
    row "floor: fdatasync 4 KiB, overwrite" fsync -
    row "(for context) fdatasync, append" append -
    row "floor: loopback TCP round trip" rtt -
    row "etcd 3.4, 3 members" etcd 1
    row "etcd 3.4, 3 members" etcd 16
    row "$td" tardigrade 1
    row "$td" tardigrade 16
    if have fsync - && have rtt -; then
        b=$(awk -v a="$(figure fsync - 2)" -v b="$(figure rtt - 2)" 'BEGIN { printf "%.3f", a + b }')
        echo "floor = fdatasync p50 + round trip p50 = $b ms"
        for a in etcd tardigrade; do
            have "$a" 1 && awk -v a="$(figure "$a" 1 2)" -v b="$b" -v n="$a" \
                'BEGIN { printf "%s 1-client p50 / floor = %.2f\n", n, a / b }'
        done
    fi
    if have tardigrade 1; then
        echo "tardigrade 1-client p50 = $(figure tardigrade 1 2) ms (target <= 1.0 ms)"
    fi
    if have tardigrade 16 && have etcd 16; then
        paste "$tmp/rounds/tardigrade.16" "$tmp/rounds/etcd.16" | awk '{ printf "%.2f\n", $1 / $2 }' \
            >"$tmp/rounds/ratio.16"
        echo "16-client TPS tardigrade / etcd = $(median "$tmp/rounds/ratio.16") (target >= 2;" \
            "median of the rounds: $(tr '\n' ' ' <"$tmp/rounds/ratio.16" | sed 's/ $//'))"
    fi
    if [ -f "$tmp/results/notes" ]; then cat "$tmp/results/notes"; fi
}

wants floor && run_floor
wants etcd && setup_etcd
wants tardigrade && setup_tardigrade
if wants etcd || wants tardigrade; then run_rounds; fi
stop_etcd
report
