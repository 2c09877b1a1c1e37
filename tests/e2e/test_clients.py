#!/usr/bin/python3
"""Stock client programs beyond plain psql scripts: pgbench in all three
query modes, and psql variables.

pgbench -M simple, extended and prepared each run a fixed number of
transactions of a custom script (read, update, read back) with several
clients; every transaction must succeed and the balances must add up to
what the scripts added. psql's \\gset stores a result in variables that
later queries quote with :'name'. (\\gdesc is not here: it runs a
subquery over pg_catalog, beyond this issue.)
"""

import os
import re
import subprocess
import tempfile

import harness

SCRIPT = """\\set aid random(1, 10)
SELECT abalance FROM accounts WHERE aid = :aid;
UPDATE accounts SET abalance = abalance + 1 WHERE aid = :aid;
SELECT abalance FROM accounts WHERE aid = :aid;
"""


class ClientsTest(harness.ServerTestCase):
    def run_client(self, argv, stdin=None):
        done = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=self.server.env(),
                              timeout=240)
        self.assertEqual(done.returncode, 0, f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def test_pgbench_modes(self):
        self.exec("CREATE TABLE accounts (aid int PRIMARY KEY, abalance int NOT NULL)")
        self.exec("INSERT INTO accounts VALUES " + ", ".join(f"({i}, 0)" for i in range(1, 11)))
        clients, per_client = 4, 25
        with tempfile.NamedTemporaryFile("w", suffix=".pgb", delete=False) as f:
            f.write(SCRIPT)
        self.addCleanup(os.unlink, f.name)
        for mode in ("simple", "extended", "prepared"):
            with self.subTest(mode):
                out = self.run_client(["pgbench", "-n", "-M", mode, "-c", str(clients), "-t", str(per_client),
                                       "-f", f.name])
                done = re.search(r"number of transactions actually processed: (\d+)/(\d+)", out)
                self.assertIsNotNone(done, out)
                self.assertEqual(done.groups(), (str(clients * per_client),) * 2, out)
        rows = self.exec("SELECT abalance FROM accounts ORDER BY aid")
        self.assertEqual(sum(r[0] for r in rows), 3 * clients * per_client)

    def test_psql_gset(self):
        self.exec("CREATE TABLE g (k int8 PRIMARY KEY, t text)")
        self.exec("INSERT INTO g VALUES (7, 'seven'), (8, 'it''s')")
        out = self.run_client(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1"], stdin=(
            "SELECT t AS word, k FROM g WHERE k = 8 \\gset\n"
            "SELECT k FROM g WHERE t = :'word';\n"
            "\\echo :word :k\n"))
        self.assertEqual(out, "8\nit's 8\n")

if __name__ == "__main__":
    harness.main()
