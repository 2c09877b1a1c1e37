/*
 * ixjoin_test.c - lookup joins through secondary indexes (sql/plan_join.c
 * choose_lookup, sql/exec_scan.c sql__lookup) through a session over a
 * real store: the rows of inner and LEFT joins through a non-unique
 * index (several matches per key, a two-column prefix), a unique index
 * (one get per key), DESC index columns, an index-only lookup, NULL
 * keys, conditions beyond the keys, batches larger than one KV round,
 * outer rows sharing keys within a batch,
 * UPDATE ... FROM and DELETE ... USING targets found through an index;
 * index-only scans of join leaves; and the plan chosen
 * (sql__plan_explain and EXPLAIN): the index when the outer side is
 * small, the primary key when it fits, a hash join otherwise.
 * Expected rows are PostgreSQL 15's for the same statements.
 */
#include <criterion/criterion.h>

#include "session_suite.h"
#include "sql/plan_int.h"
#include "sql/session_int.h"

/* o's rows look t's up: t.a has NULL and repeated values, t.v is unique
 * with a NULL. The WHERE on o.id makes o the small side. */
static void setup(void)
{
    sess_open(&E);
    q("CREATE TABLE t (id int PRIMARY KEY, a int, b int, v text)");
    q("CREATE INDEX t_ab ON t (a, b)");
    q("CREATE UNIQUE INDEX t_v ON t (v)");
    q("CREATE TABLE o (id int PRIMARY KEY, ta int, tb int, tv text)");
    q("INSERT INTO t VALUES (1, 1, 1, 'x1'), (2, 1, 2, 'x2'), (3, 2, 1, 'x3'), "
      "(4, NULL, 1, 'x4'), (5, 3, 3, NULL)");
    q("INSERT INTO o VALUES (1, 1, 1, 'x1'), (2, 1, NULL, 'x3'), (3, 2, 1, NULL), "
      "(4, NULL, 1, 'nope'), (5, 9, 9, 'x5')");
}

TestSuite(ixjoin, .init = setup, .fini = suite_teardown, .timeout = 120);

Test(ixjoin, inner_join_finds_every_entry_of_a_key)
{
    const char *query = "SELECT o.id, t.id, t.v FROM o JOIN t ON t.a = o.ta WHERE o.id < 100 "
                        "ORDER BY 1, 2";
    EXPECT_PLAN(query, "lookup join (inner, key prefix) [o: range scan on o_pkey; t: index lookup "
                       "on t_ab]");
    EXPECT(query, "T id,id,v\nD 1|1|x1\nD 1|2|x2\nD 2|1|x1\nD 2|2|x2\nD 3|3|x3\nC SELECT 5\n");
}

Test(ixjoin, two_columns_of_the_index_prefix)
{
    const char *query = "SELECT o.id, t.id, t.v FROM o JOIN t ON t.b = o.tb AND t.a = o.ta "
                        "WHERE o.id < 100 ORDER BY 1";
    EXPECT_PLAN(query, "lookup join (inner, key prefix) [o: range scan on o_pkey; t: index lookup "
                       "on t_ab]");
    /* o 2's tb and o 4's ta are NULL: no match, not even t 4 (a NULL) */
    EXPECT(query, "T id,id,v\nD 1|1|x1\nD 3|3|x3\nC SELECT 2\n");
}

Test(ixjoin, unique_index_gets_one_row_per_key)
{
    const char *query = "SELECT o.id, t.id, t.b FROM o JOIN t ON t.v = o.tv WHERE o.id < 100 "
                        "ORDER BY 1";
    EXPECT_PLAN(query, "lookup join (inner) [o: range scan on o_pkey; t: index lookup on t_v]");
    EXPECT(query, "T id,id,b\nD 1|1|1\nD 2|3|1\nC SELECT 2\n");
}

Test(ixjoin, left_join_pads_outer_rows_without_a_match)
{
    const char *query = "SELECT o.id, t.id, t.v FROM o LEFT JOIN t ON t.a = o.ta "
                        "WHERE o.id < 100 ORDER BY 1, 2";
    EXPECT_PLAN(query, "lookup join (left, key prefix) [o: range scan on o_pkey; t: index lookup "
                       "on t_ab]");
    EXPECT(query, "T id,id,v\nD 1|1|x1\nD 1|2|x2\nD 2|1|x1\nD 2|2|x2\nD 3|3|x3\nD 4|NULL|NULL\n"
                  "D 5|NULL|NULL\nC SELECT 7\n");
}

Test(ixjoin, conditions_beyond_the_keys_still_filter)
{
    /* t.b > 1 goes to t's leaf (its filter, which makes t a smaller
     * side: five rows of o still look it up), t.v <> o.tv stays the
     * join's condition; a LEFT join pads the rows both reject */
    const char *query = "SELECT o.id, t.id FROM o LEFT JOIN t ON t.a = o.ta AND t.b > 1 "
                        "AND t.v <> o.tv WHERE o.id IN (1, 2, 3, 4, 5) ORDER BY 1, 2";
    EXPECT_PLAN(query, "lookup join (left, key prefix, condition) [o: point lookups on o_pkey; t: "
                       "index lookup on t_ab, filter]");
    EXPECT(query, "T id,id\nD 1|2\nD 2|2\nD 3|NULL\nD 4|NULL\nD 5|NULL\nC SELECT 5\n");
    EXPECT("SELECT o.id, t.id FROM o JOIN t ON t.a = o.ta AND t.v <> o.tv WHERE o.id < 100 "
           "ORDER BY 1, 2",
           "T id,id\nD 1|2\nD 2|1\nD 2|2\nC SELECT 3\n");
}

Test(ixjoin, index_only_when_the_entries_hold_every_column)
{
    const char *query = "SELECT o.id, t.id, t.b FROM o JOIN t ON t.a = o.ta WHERE o.id < 100 "
                        "ORDER BY 1, 2";
    EXPECT_PLAN(query, "lookup join (inner, key prefix) [o: range scan on o_pkey; t: index only "
                       "lookup on t_ab]");
    EXPECT(query, "T id,id,b\nD 1|1|1\nD 1|2|2\nD 2|1|1\nD 2|2|2\nD 3|3|1\nC SELECT 5\n");
}

/* A table whose own conjuncts chose an index reads only its entries when
 * they hold every column the join reads from it. */
Test(ixjoin, join_leaves_scan_covering_indexes_only)
{
    const char *query = "SELECT o.id, t.b FROM o JOIN t ON t.b = o.tb WHERE t.a = 1 ORDER BY 1";
    EXPECT_PLAN(query, "hash join (inner, inner side left) [o: full scan on o_pkey; t: index only "
                       "scan on t_ab]");
    EXPECT(query, "T id,b\nD 1|1\nD 3|1\nD 4|1\nC SELECT 3\n");
}

Test(ixjoin, explain_prints_the_index_scan_under_the_nested_loop)
{
    EXPECT("EXPLAIN SELECT o.id, t.v FROM o LEFT JOIN t ON t.a = o.ta WHERE o.id < 100",
           "T QUERY PLAN\n"
           "D Nested Loop Left Join\n"
           "D   ->  Index Scan using o_pkey on o\n"
           "D   ->  Index Scan using t_ab on t\n"
           "C EXPLAIN\n");
    EXPECT("EXPLAIN SELECT x.b FROM o JOIN t x ON x.a = o.ta WHERE o.id < 100",
           "T QUERY PLAN\n"
           "D Nested Loop\n"
           "D   ->  Index Scan using o_pkey on o\n"
           "D   ->  Index Only Scan using t_ab on t x\n"
           "C EXPLAIN\n");
}

Test(ixjoin, estimates_choose_between_pk_index_and_hash)
{
    /* the pk fits: looked up by it, not through an index */
    EXPECT_PLAN("SELECT * FROM o JOIN t ON t.id = o.ta AND t.a = o.tb WHERE o.id < 100",
                "lookup join (inner, condition) [o: range scan on o_pkey; t: full scan on t_pkey]");
    /* both sides whole tables: two KV rounds per batch lose to a hash join */
    EXPECT_PLAN("SELECT * FROM o JOIN t ON t.a = o.ta",
                "hash join (inner) [o: full scan on o_pkey; t: full scan on t_pkey]");
    /* a bigint key cannot look up an int column's key */
    q("CREATE TABLE w (id int PRIMARY KEY, ta bigint)");
    q("INSERT INTO w VALUES (1, 1)");
    EXPECT_PLAN("SELECT * FROM w JOIN t ON t.a = w.ta WHERE w.id < 100",
                "hash join (inner, inner side left) [t: full scan on t_pkey; w: range scan on "
                "w_pkey]");
    EXPECT("SELECT t.id FROM w JOIN t ON t.a = w.ta WHERE w.id < 100 ORDER BY 1",
           "T id\nD 1\nD 2\nC SELECT 2\n");
}

/* 1500 outer rows (two lookup batches), each naming two rows of big:
 * 2000 entries in the first batch, fetched in two rounds of gets. */
Test(ixjoin, batches_larger_than_one_kv_round)
{
    q("CREATE TABLE big (id int PRIMARY KEY, k int, pad text)");
    q("CREATE INDEX big_k ON big (k)");
    q("CREATE TABLE keys (id int PRIMARY KEY)");
    q("INSERT INTO big SELECT i, i % 1500, 'p' FROM generate_series(0, 2999) i");
    q("INSERT INTO keys SELECT i FROM generate_series(0, 1599) i");
    const char *query = "SELECT count(*), count(big.pad), sum(big.id) FROM keys LEFT JOIN big ON "
                        "big.k = keys.id WHERE keys.id < 100000";
    EXPECT_PLAN(query, "lookup join (left, key prefix) [keys: range scan on keys_pkey; big: index "
                       "lookup on big_k]");
    /* keys 0..1499 find ids i and i + 1500, keys 1500..1599 none */
    EXPECT(query, "T count,count,sum\nD 3100|3000|4498500\nC SELECT 1\n");
}

/* Outer rows that look up the same key share one lookup per batch; each
 * still gets its own joined row (or, LEFT, its NULLs). */
Test(ixjoin, outer_rows_sharing_keys_in_a_batch)
{
    q("CREATE TABLE big (id int PRIMARY KEY, k int)");
    q("CREATE TABLE keys (id int PRIMARY KEY)");
    q("INSERT INTO big SELECT i, i % 1500 FROM generate_series(0, 2999) i");
    q("INSERT INTO keys SELECT i FROM generate_series(0, 1599) i");
    const char *inner = "SELECT count(*), sum(keys.id) FROM big JOIN keys ON keys.id = big.k % 7";
    EXPECT_PLAN(inner,
                "lookup join (inner) [big: full scan on big_pkey; keys: full scan on keys_pkey]");
    EXPECT(inner, "T count,sum\nD 3000|8990\nC SELECT 1\n");
    /* only k % 7 in (0, 1) finds a key (1598, 1599) */
    EXPECT("SELECT count(*), count(keys.id), sum(keys.id) FROM big LEFT JOIN keys ON keys.id = "
           "big.k % 7 + 1598",
           "T count,count,sum\nD 3000|860|1374710\nC SELECT 1\n");
}

/* Keys of DESC columns are written in reverse: the lookup keys too. */
Test(ixjoin, descending_index_columns)
{
    q("CREATE TABLE d (id int PRIMARY KEY, k text, n int)");
    q("CREATE INDEX d_kn ON d (k DESC, n DESC)");
    q("INSERT INTO d VALUES (1, 'x1', 1), (2, 'x1', 2), (3, NULL, 3), (4, 'x3', 4)");
    const char *query = "SELECT o.id, d.id FROM o LEFT JOIN d ON d.k = o.tv AND d.n = o.tb "
                        "WHERE o.id < 100 ORDER BY 1, 2";
    EXPECT_PLAN(query, "lookup join (left, key prefix) [o: range scan on o_pkey; d: index only "
                       "lookup on d_kn]");
    EXPECT(query, "T id,id\nD 1|1\nD 2|NULL\nD 3|NULL\nD 4|NULL\nD 5|NULL\nC SELECT 5\n");
    EXPECT("SELECT o.id, d.n FROM o JOIN d ON d.k = o.tv WHERE o.id < 100 ORDER BY 1, 2",
           "T id,n\nD 1|1\nD 1|2\nD 2|4\nC SELECT 3\n");
}

/* The target of UPDATE ... FROM and DELETE ... USING looked up through
 * an index: whole rows, every index kept up to date. */
Test(ixjoin, writes_find_their_targets_through_an_index)
{
    const char *update = "UPDATE t SET b = t.b + 10, v = t.v || o.tv FROM o WHERE t.a = o.ta "
                         "AND o.id IN (1, 3)";
    EXPECT_PLAN(update, "lookup join (inner, key prefix) [o: point lookups on o_pkey; t: index "
                        "lookup on t_ab]");
    EXPECT(update, "C UPDATE 3\n");
    EXPECT("SELECT * FROM t ORDER BY id",
           "T id,a,b,v\nD 1|1|11|x1x1\nD 2|1|12|x2x1\nD 3|2|11|NULL\n"
           "D 4|NULL|1|x4\nD 5|3|3|NULL\nC SELECT 5\n");
    EXPECT("SELECT id FROM t WHERE v = 'x2x1'", "T id\nD 2\nC SELECT 1\n");
    EXPECT("DELETE FROM t USING o WHERE t.a = o.ta AND o.id = 3", "C DELETE 1\n");
    EXPECT("SELECT id FROM t WHERE a = 2", "T id\nC SELECT 0\n");
    EXPECT("SELECT id FROM t ORDER BY id", "T id\nD 1\nD 2\nD 4\nD 5\nC SELECT 4\n");
}
