#!/usr/bin/python3
"""idle_conns.py PORT PID [N] - resident memory a server spends per idle connection.

Opens N (default 1000) connections to 127.0.0.1:PORT as user root, database
defaultdb; each runs one `SELECT 1` so its session is fully set up, then
all sit idle. Prints the VmRSS of process PID before the first and after
the last, and the growth per connection:

    idle_connections 1000 rss_before_kib 51234 rss_after_kib 90123 kib_per_connection 38.9

Used by pgbench.sh; not a benchmark itself (run.sh runs only *.sh).
"""

import sys
import time

import psycopg2


def vmrss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def main(port, pid, n):
    # One connection first, so that what a first session initialises once
    # (catalog cache, worker threads) is not charged to the idle ones.
    warm = psycopg2.connect(host="127.0.0.1", port=port, user="root", dbname="defaultdb")
    warm.close()
    time.sleep(1)
    before = vmrss_kib(pid)
    conns = []
    try:
        for _ in range(n):
            c = psycopg2.connect(host="127.0.0.1", port=port, user="root", dbname="defaultdb")
            c.autocommit = True
            with c.cursor() as cur:
                cur.execute("SELECT 1")
            conns.append(c)
        time.sleep(1)
        after = vmrss_kib(pid)
    finally:
        for c in conns:
            c.close()
    print(f"idle_connections {n} rss_before_kib {before} rss_after_kib {after} "
          f"kib_per_connection {(after - before) / n:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1000)
