/*
 * upsert_test.c - INSERT ... ON CONFLICT (sql/exec_upsert.c and its part
 * of sql/exec_write.c) through a session over a real store: counts and
 * RETURNING of DO NOTHING and DO UPDATE, arbiters by primary key, unique
 * index and constraint name, rows that meet a key written earlier by the
 * same statement (in the same chunk of reads and across chunks: 21000 or
 * skipped), secondary index entries after DO UPDATE, and transactions.
 * Expectations were taken from PostgreSQL 15.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kv/kv_test_util.h"
#include "session_suite.h"
#include "sql/session_int.h"

static void setup(void)
{
    sess_open(&E);
    q("CREATE TABLE t (k int PRIMARY KEY, v text, n int NOT NULL DEFAULT 0)");
    q("CREATE UNIQUE INDEX t_v ON t (v)");
    q("CREATE INDEX t_n ON t (n)");
    q("INSERT INTO t VALUES (1, 'one', 1), (2, 'two', 2)");
    /* nums: g = 1..600 */
    q("CREATE TABLE d (x int PRIMARY KEY)");
    q("INSERT INTO d VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)");
    q("CREATE TABLE nums (g int PRIMARY KEY)");
    q("INSERT INTO nums SELECT a.x * 100 + b.x * 10 + c.x + 1 FROM d a, d b, d c WHERE a.x < 6");
}

TestSuite(upsert, .init = setup, .fini = suite_teardown, .timeout = 120);

Test(upsert, do_nothing_counts_and_returning)
{
    EXPECT("INSERT INTO t VALUES (1, 'x'), (3, 'one'), (4, 'four') ON CONFLICT DO NOTHING "
           "RETURNING k",
           "T k\nD 4\nC INSERT 0 1\n");
    /* a target: only that index decides; another one's violation fails */
    EXPECT("INSERT INTO t VALUES (5, 'one') ON CONFLICT (k) DO NOTHING",
           "E 23505 duplicate key value violates unique constraint \"t_v\"\n");
    EXPECT("INSERT INTO t VALUES (5, 'one'), (1, 'five') ON CONFLICT (v) DO NOTHING",
           "E 23505 duplicate key value violates unique constraint \"t_pkey\"\n");
    EXPECT("INSERT INTO t VALUES (5, NULL), (6, NULL) ON CONFLICT (v) DO NOTHING",
           "C INSERT 0 2\n");
    EXPECT("SELECT k, v FROM t ORDER BY k",
           "T k,v\nD 1|one\nD 2|two\nD 4|four\nD 5|NULL\nD 6|NULL\nC SELECT 5\n");
}

Test(upsert, duplicates_within_one_statement)
{
    /* the second row meets the first (same chunk of reads) */
    EXPECT("INSERT INTO t VALUES (7, 'a'), (7, 'b'), (8, 'a') ON CONFLICT DO NOTHING",
           "C INSERT 0 1\n");
    EXPECT("INSERT INTO t VALUES (9, 'x', 1), (9, 'y', 2) ON CONFLICT (k) DO UPDATE SET n = 5",
           "E 21000 ON CONFLICT DO UPDATE command cannot affect row a second time\n");
    EXPECT("INSERT INTO t VALUES (1, 'x', 1), (1, 'y', 2) ON CONFLICT (k) DO UPDATE SET n = 5",
           "E 21000 ON CONFLICT DO UPDATE command cannot affect row a second time\n");
    EXPECT("SELECT k, v, n FROM t ORDER BY k",
           "T k,v,n\nD 1|one|1\nD 2|two|2\nD 7|a|0\nC SELECT 3\n");
}

Test(upsert, across_chunks)
{
    /* 600 rows read in several chunks: keys 0..299 twice */
    EXPECT("INSERT INTO t SELECT g % 300 + 100, 'v' || (g % 300) FROM nums "
           "ON CONFLICT DO NOTHING",
           "C INSERT 0 300\n");
    EXPECT("SELECT count(*), min(k), max(k) FROM t WHERE k >= 100",
           "T count,min,max\nD 300|100|399\nC SELECT 1\n");
    EXPECT("INSERT INTO t SELECT g + 1000, 'w' || g FROM nums "
           "ON CONFLICT (k) DO UPDATE SET n = 1",
           "C INSERT 0 600\n");
    /* row 301 meets the row 1 wrote, a chunk earlier */
    EXPECT("INSERT INTO t SELECT g % 300 + 2000 FROM nums "
           "ON CONFLICT (k) DO UPDATE SET n = t.n + 1",
           "E 21000 ON CONFLICT DO UPDATE command cannot affect row a second time\n");
    EXPECT("INSERT INTO t SELECT g + 99, 'v' || (g - 1) FROM nums "
           "ON CONFLICT (k) DO UPDATE SET n = t.n + 1 WHERE t.v = excluded.v",
           "C INSERT 0 600\n");
    EXPECT("SELECT n, count(*) FROM t WHERE k >= 100 AND k < 1000 GROUP BY n ORDER BY n",
           "T n,count\nD 0|300\nD 1|300\nC SELECT 2\n");
}

Test(upsert, do_update_keeps_indexes)
{
    EXPECT("INSERT INTO t VALUES (1, 'uno', 10) ON CONFLICT (k) DO UPDATE SET v = excluded.v, "
           "n = t.n + excluded.n RETURNING *",
           "T k,v,n\nD 1|uno|11\nC INSERT 0 1\n");
    EXPECT("SELECT k FROM t WHERE v = 'one'", "T k\nC SELECT 0\n");
    EXPECT("SELECT k FROM t WHERE v = 'uno'", "T k\nD 1\nC SELECT 1\n");
    EXPECT("SELECT k FROM t WHERE n = 11", "T k\nD 1\nC SELECT 1\n");
    EXPECT("SELECT k FROM t WHERE n = 1", "T k\nC SELECT 0\n");
    /* through the unique index, moving the primary key */
    EXPECT("INSERT INTO t AS x VALUES (9, 'two', 0) ON CONFLICT (v) DO UPDATE SET k = x.k + 20 "
           "RETURNING k, v, n",
           "T k,v,n\nD 22|two|2\nC INSERT 0 1\n");
    EXPECT("SELECT k, v FROM t WHERE v = 'two'", "T k,v\nD 22|two\nC SELECT 1\n");
    EXPECT("SELECT k FROM t ORDER BY k", "T k\nD 1\nD 22\nC SELECT 2\n");
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT ON CONSTRAINT t_pkey DO UPDATE SET v = 'two'",
           "E 23505 duplicate key value violates unique constraint \"t_v\"\n");
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT (k) DO UPDATE SET n = NULL",
           "E 23502 null value in column \"n\" of relation \"t\" violates not-null constraint\n");
}

Test(upsert, arbiter_errors)
{
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET n = 1",
           "E 42601 ON CONFLICT DO UPDATE requires inference specification or constraint name\n");
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT (n) DO NOTHING",
           "E 42P10 there is no unique or exclusion constraint matching the ON CONFLICT "
           "specification\n");
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT (k, v) DO NOTHING",
           "E 42P10 there is no unique or exclusion constraint matching the ON CONFLICT "
           "specification\n");
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT (k, k) DO NOTHING", "C INSERT 0 0\n");
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT ON CONSTRAINT t_v DO NOTHING",
           "E 42704 constraint \"t_v\" for table \"t\" does not exist\n");
    EXPECT("INSERT INTO t VALUES (1) ON CONFLICT (k) DO UPDATE SET n = n + 1",
           "E 42702 column reference \"n\" is ambiguous\n");
}

Test(upsert, in_a_transaction)
{
    q("BEGIN");
    EXPECT("INSERT INTO t VALUES (50, 'fifty', 1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1",
           "C INSERT 0 1\n");
    EXPECT("INSERT INTO t VALUES (50, 'fifty', 1) ON CONFLICT (k) DO UPDATE SET n = t.n + 1 "
           "RETURNING n",
           "T n\nD 2\nC INSERT 0 1\n");
    q("ROLLBACK");
    EXPECT("SELECT count(*) FROM t WHERE k = 50", "T count\nD 0\nC SELECT 1\n");
}

Test(upsert, explain)
{
    EXPECT("EXPLAIN INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING",
           "T QUERY PLAN\nD Insert on t\nD   Conflict Resolution: NOTHING\nD   ->  Result\n"
           "C EXPLAIN\n");
    EXPECT("EXPLAIN INSERT INTO t VALUES (1) ON CONFLICT (v) DO UPDATE SET n = 1",
           "T QUERY PLAN\nD Insert on t\nD   Conflict Resolution: UPDATE\nD   Conflict Arbiter "
           "Indexes: t_v\nD   ->  Result\nC EXPLAIN\n");
}

Test(upsert, moved_key_is_read_again)
{
    q("CREATE TABLE mv (k int PRIMARY KEY, n int)");
    q("INSERT INTO mv VALUES (1, 0)");
    /* row 2 meets the row row 1 moved onto key 2, in the same chunk */
    EXPECT("INSERT INTO mv VALUES (1, 5), (2, 6) ON CONFLICT (k) DO UPDATE SET k = excluded.k + 1",
           "E 21000 ON CONFLICT DO UPDATE command cannot affect row a second time\n");
    EXPECT("INSERT INTO mv VALUES (1, 5), (3, 6) ON CONFLICT (k) DO UPDATE SET k = excluded.k + 10 "
           "RETURNING *",
           "T k,n\nD 11|0\nD 3|6\nC INSERT 0 2\n");
    EXPECT("SELECT * FROM mv ORDER BY k", "T k,n\nD 3|6\nD 11|0\nC SELECT 2\n");
    /* onto a taken key: a unique violation, not a lost race (40001) */
    EXPECT("INSERT INTO mv VALUES (3) ON CONFLICT (k) DO UPDATE SET k = 11",
           "E 23505 duplicate key value violates unique constraint \"mv_pkey\"\n");
}
