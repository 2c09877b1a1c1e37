/*
 * join_test.c - joins (sql/plan_join.c, sql/exec_join.c) through a
 * session over a real store: results of every join kind with the NULL
 * cases PostgreSQL 15 gives (expectations taken from PostgreSQL), the
 * name errors of a scope over several tables, and the plans chosen
 * (through sql__plan_explain): pushed-down conjuncts, hash joins, lookup
 * joins by key and key prefix across batches, join order without a
 * Cartesian product, a 12-table join and the memory budget.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kv/kv_test_util.h"
#include "session_suite.h"
#include "sql/plan_int.h"
#include "sql/session_int.h"

static void setup(void)
{
    sess_open(&E);
    q("CREATE TABLE a (id int PRIMARY KEY, x int, s text)");
    q("CREATE TABLE b (id int PRIMARY KEY, a_id int, y text)");
    q("INSERT INTO a VALUES (1, 10, 'one'), (2, 20, 'two'), (3, NULL, 'three')");
    q("INSERT INTO b VALUES (1, 1, 'b1'), (2, 1, 'b2'), (3, 2, 'b3'), (4, 9, 'b4')");
}

TestSuite(join, .init = setup, .fini = suite_teardown, .timeout = 120);

/* ---- results ----------------------------------------------------------- */

Test(join, inner_and_outer_joins_extend_with_nulls)
{
    EXPECT("SELECT a.s, b.y FROM a JOIN b ON a.id = b.a_id ORDER BY b.id",
           "T s,y\nD one|b1\nD one|b2\nD two|b3\nC SELECT 3\n");
    EXPECT("SELECT a.s, b.y FROM a LEFT JOIN b ON a.id = b.a_id ORDER BY a.id, b.id",
           "T s,y\nD one|b1\nD one|b2\nD two|b3\nD three|NULL\nC SELECT 4\n");
    EXPECT("SELECT a.s, b.y FROM a RIGHT JOIN b ON a.id = b.a_id ORDER BY b.id",
           "T s,y\nD one|b1\nD one|b2\nD two|b3\nD NULL|b4\nC SELECT 4\n");
    EXPECT("SELECT a.s, b.y FROM a FULL JOIN b ON a.id = b.a_id ORDER BY a.id, b.id",
           "T s,y\nD one|b1\nD one|b2\nD two|b3\nD three|NULL\nD NULL|b4\nC SELECT 5\n");
    EXPECT("SELECT count(*) FROM a CROSS JOIN b", "T count\nD 12\nC SELECT 1\n");
    EXPECT("SELECT count(*) FROM a, b WHERE a.x > 10", "T count\nD 4\nC SELECT 1\n");
}

Test(join, on_and_where_differ_for_outer_joins)
{
    /* ON filters the matches, the row of a stays */
    EXPECT("SELECT a.id, b.id FROM a LEFT JOIN b ON a.id = b.a_id AND b.y = 'b2' ORDER BY 1",
           "T id,id\nD 1|2\nD 2|NULL\nD 3|NULL\nC SELECT 3\n");
    /* WHERE filters the joined rows, NULL-extended ones included */
    EXPECT("SELECT a.id FROM a LEFT JOIN b ON a.id = b.a_id WHERE b.id IS NULL",
           "T id\nD 3\nC SELECT 1\n");
    EXPECT("SELECT a.id, b.id FROM a LEFT JOIN b ON false ORDER BY 1",
           "T id,id\nD 1|NULL\nD 2|NULL\nD 3|NULL\nC SELECT 3\n");
    /* a condition on the preserved side only restricts the matches */
    EXPECT("SELECT a.id, b.id FROM a FULL JOIN b ON a.id = b.a_id AND a.x = 10 ORDER BY 1, 2",
           "T id,id\nD 1|1\nD 1|2\nD 2|NULL\nD 3|NULL\nD NULL|3\nD NULL|4\nC SELECT 6\n");
    /* a FULL join pushes nothing down: both sides stay, NULL-extended */
    EXPECT("SELECT count(*), count(a.id), count(b.id) FROM a FULL JOIN b ON false",
           "T count,count,count\nD 7|3|4\nC SELECT 1\n");
    EXPECT("SELECT count(*) FROM a FULL JOIN b ON a.id = b.a_id WHERE false",
           "T count\nD 0\nC SELECT 1\n");
    EXPECT("SELECT a.s, count(b.id) FROM a LEFT JOIN b ON a.id = b.a_id GROUP BY a.s ORDER BY 1",
           "T s,count\nD one|2\nD three|0\nD two|1\nC SELECT 3\n");
}

Test(join, using_and_natural_merge_columns)
{
    EXPECT("SELECT * FROM a JOIN b USING (id) ORDER BY id",
           "T id,x,s,a_id,y\nD 1|10|one|1|b1\nD 2|20|two|1|b2\nD 3|NULL|three|2|b3\nC SELECT 3\n");
    EXPECT("SELECT * FROM a NATURAL JOIN b WHERE id = 2", "T id,x,s,a_id,y\nD 2|20|two|1|b2\nC "
                                                          "SELECT 1\n");
    /* the merged column of a FULL join is COALESCE(a.id, b.id) */
    EXPECT("SELECT id, a.id, b.id FROM a FULL JOIN b USING (id) ORDER BY id",
           "T id,id,id\nD 1|1|1\nD 2|2|2\nD 3|3|3\nD 4|NULL|4\nC SELECT 4\n");
    EXPECT("SELECT id FROM a RIGHT JOIN b USING (id) WHERE a.id IS NULL",
           "T id\nD 4\nC SELECT 1\n");
    EXPECT("SELECT b.* FROM a JOIN b USING (id) WHERE id = 1",
           "T id,a_id,y\nD 1|1|b1\nC SELECT 1\n");
}

Test(join, grouping_by_a_tables_key_groups_its_columns)
{
    EXPECT("SELECT a.s, count(b.id) FROM a LEFT JOIN b ON a.id = b.a_id GROUP BY a.id ORDER BY 1",
           "T s,count\nD one|2\nD three|0\nD two|1\nC SELECT 3\n");
    EXPECT("SELECT a.x FROM a JOIN b USING (id) GROUP BY id ORDER BY 1",
           "T x\nD 10\nD 20\nD NULL\nC SELECT 3\n");
    EXPECT("SELECT a.s, b.y FROM a JOIN b ON a.id = b.a_id GROUP BY a.id",
           "E 42803 column \"b.y\" must appear in the GROUP BY clause or be used in an aggregate "
           "function\n");
}

Test(join, self_joins_and_aliases)
{
    EXPECT("SELECT x.id, y.id FROM a x JOIN a y ON x.id = y.id + 1 ORDER BY 1",
           "T id,id\nD 2|1\nD 3|2\nC SELECT 2\n");
    EXPECT("SELECT t1.id FROM a t1, a t2, a t3 WHERE t1.id = t2.id AND t2.x = t3.x",
           "T id\nD 1\nD 2\nC SELECT 2\n");
}

Test(join, name_errors_match_postgres)
{
    EXPECT("SELECT id FROM a, b", "E 42702 column reference \"id\" is ambiguous\n");
    EXPECT("SELECT * FROM a, a", "E 42712 table name \"a\" specified more than once\n");
    EXPECT("SELECT * FROM a JOIN b ON a.id = c.id",
           "E 42P01 missing FROM-clause entry for table \"c\"\n");
    EXPECT("SELECT a.id FROM a x, b", "E 42P01 invalid reference to FROM-clause entry for table "
                                      "\"a\"\n");
    EXPECT("SELECT * FROM a JOIN b USING (nope)",
           "E 42703 column \"nope\" specified in USING clause does not exist in left table\n");
    EXPECT("SELECT c.* FROM a, b", "E 42P01 missing FROM-clause entry for table \"c\"\n");
    /* ON sees its own join's tables only */
    EXPECT("SELECT * FROM b, a JOIN a AS a2 ON a2.id = b.id",
           "E 42P01 invalid reference to FROM-clause entry for table \"b\"\n");
    EXPECT("SELECT * FROM b, a JOIN a AS a2 ON a2.id = a_id",
           "E 42703 column \"a_id\" does not exist\n");
    EXPECT("SELECT * FROM a JOIN b ON a.x", "E 42804 argument of JOIN/ON must be type boolean, "
                                            "not type integer\n");
    EXPECT("SELECT * FROM a JOIN b ON count(*) > 0",
           "E 42803 aggregate functions are not allowed in JOIN conditions\n");
    EXPECT("SELECT s, count(*) FROM a, b GROUP BY y",
           "E 42803 column \"a.s\" must appear in the GROUP BY clause or be used in an aggregate "
           "function\n");
}

/* ---- plans --------------------------------------------------------------- */

Test(join, conjuncts_reach_each_tables_access_path)
{
    EXPECT_PLAN("SELECT * FROM a JOIN b ON a.id = b.a_id WHERE b.id = 3",
                "lookup join (inner) [b: point lookup on b_pkey; a: full scan on a_pkey]");
    EXPECT_PLAN("SELECT * FROM a JOIN b ON a.id = b.a_id WHERE a.s = 'x'",
                "hash join (inner, inner side left) [b: full scan on b_pkey; a: full scan on "
                "a_pkey, filter]");
}

Test(join, methods_follow_the_condition)
{
    /* b's key bound by a's rows: looked up, not scanned */
    EXPECT_PLAN("SELECT * FROM a JOIN b ON b.id = a.x",
                "lookup join (inner) [a: full scan on a_pkey; b: full scan on b_pkey]");
    EXPECT_PLAN("SELECT * FROM a JOIN b ON b.a_id = a.x",
                "hash join (inner) [a: full scan on a_pkey; b: full scan on b_pkey]");
    EXPECT_PLAN("SELECT * FROM a JOIN b ON b.a_id < a.x",
                "nested loop (inner, condition) [a: full scan on a_pkey; b: full scan on b_pkey]");
    EXPECT_PLAN("SELECT * FROM a LEFT JOIN b ON b.id = a.x AND b.y <> a.s",
                "lookup join (left, condition) [a: full scan on a_pkey; b: full scan on b_pkey]");
    EXPECT_PLAN("SELECT * FROM a FULL JOIN b ON b.id = a.x",
                "hash join (full) [a: full scan on a_pkey; b: full scan on b_pkey]");
}

/* EXPLAIN prints the choices as PostgreSQL names its nodes (the one row
 * of a is held: PostgreSQL too prints that LEFT join as a Right one). */
Test(join, explain_names_methods_and_order)
{
    EXPECT("EXPLAIN SELECT * FROM a JOIN b ON b.id = a.x", "T QUERY PLAN\n"
                                                           "D Nested Loop\n"
                                                           "D   ->  Seq Scan on a\n"
                                                           "D   ->  Index Scan using b_pkey on b\n"
                                                           "C EXPLAIN\n");
    EXPECT("EXPLAIN SELECT * FROM a x LEFT JOIN b ON b.a_id = x.x WHERE x.id = 1",
           "T QUERY PLAN\n"
           "D Hash Right Join\n"
           "D   ->  Seq Scan on b\n"
           "D   ->  Hash\n"
           "D         ->  Index Scan using a_pkey on a x\n"
           "C EXPLAIN\n");
    EXPECT("EXPLAIN SELECT count(*) FROM a JOIN b ON b.a_id < a.x", "T QUERY PLAN\n"
                                                                    "D Aggregate\n"
                                                                    "D   ->  Nested Loop\n"
                                                                    "D         ->  Seq Scan on a\n"
                                                                    "D         ->  Seq Scan on b\n"
                                                                    "C EXPLAIN\n");
}

Test(join, join_order_avoids_cartesian_products)
{
    q("CREATE TABLE c (k int PRIMARY KEY, v int)");
    /* c and a are listed together but only connect through b */
    EXPECT_PLAN("SELECT * FROM c, a, b WHERE c.v = b.a_id AND b.a_id = a.x",
                "hash join (inner) [hash join (inner) [c: full scan on c_pkey; b: full scan on "
                "b_pkey]; a: full scan on a_pkey]");
}

Test(join, lookups_batch_outer_rows_by_key_and_prefix)
{
    q("CREATE TABLE big (id int PRIMARY KEY, ref int)");
    q("CREATE TABLE kv (k1 int, k2 int, v text, PRIMARY KEY (k1, k2))");
    static char ins[1 << 16];
    size_t len = (size_t)snprintf(ins, sizeof ins, "INSERT INTO big VALUES (1, 1)");
    for (int i = 2; i <= 2500; i++)
        len += (size_t)snprintf(ins + len, sizeof ins - len, ", (%d, %d)", i, i % 7);
    q(ins);
    q("INSERT INTO kv VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z'), (5, 5, 'w')");
    EXPECT_PLAN("SELECT * FROM big LEFT JOIN kv ON kv.k1 = big.ref",
                "lookup join (left, key prefix) [big: full scan on big_pkey; kv: full scan on "
                "kv_pkey]");
    /* 2500 outer rows (three batches), ref = id % 7: refs 1, 2, 5 find 2, 1, 1
     * rows, the rest none */
    EXPECT("SELECT count(*), count(kv.v) FROM big LEFT JOIN kv ON kv.k1 = big.ref",
           "T count,count\nD 2858|1430\nC SELECT 1\n");
    EXPECT("SELECT count(*) FROM big b1 JOIN big b2 ON b2.id = b1.ref + 1",
           "T count\nD 2500\nC SELECT 1\n");
    EXPECT("SELECT b1.id, b2.id FROM big b1 JOIN big b2 ON b2.id = b1.id WHERE b1.ref = 6 "
           "ORDER BY 1 LIMIT 2",
           "T id,id\nD 6|6\nD 13|13\nC SELECT 2\n");
}

Test(join, twelve_tables_join_by_equalities)
{
    static char query[4096];
    size_t len = (size_t)snprintf(query, sizeof query, "SELECT count(*), sum(t1.x) FROM a t1");
    for (int i = 2; i <= 12; i++)
        len += (size_t)snprintf(query + len, sizeof query - len, " JOIN a t%d ON t%d.x = t%d.x", i,
                                i, i - 1);
    EXPECT(query, "T count,sum\nD 2|30\nC SELECT 1\n");
    const char *plan = plan_of(query);
    cr_expect_null(strstr(plan, "nested loop"), "%s", plan);
}

/* More held rows than the hash table's first 64 buckets: every row is
 * found once (a row entered twice into its bucket made its chain a
 * cycle, and the join ran until memory ran out). */
Test(join, hash_join_grows_its_table)
{
    q("CREATE TABLE r (id int PRIMARY KEY, k int)");
    for (int i = 0; i < 300; i++) {
        char ins[96];
        snprintf(ins, sizeof ins, "INSERT INTO r VALUES (%d, %d)", i, i % 150);
        q(ins);
    }
    EXPECT_PLAN("SELECT count(*) FROM r r1 JOIN r r2 ON r1.k = r2.k",
                "hash join (inner) [r1: full scan on r_pkey; r2: full scan on r_pkey]");
    /* 150 keys, each twice on both sides */
    EXPECT("SELECT count(*) FROM r r1 JOIN r r2 ON r1.k = r2.k", "T count\nD 600\nC SELECT 1\n");
}

Test(join, hash_join_memory_is_budgeted)
{
    q("CREATE TABLE wide (id int PRIMARY KEY, t text)");
    for (int i = 0; i < 70; i++) {
        char ins[128];
        snprintf(ins, sizeof ins, "INSERT INTO wide VALUES (%d, repeat('x', 1000000))", i);
        q(ins);
    }
    EXPECT("SELECT count(*) FROM wide w1 JOIN wide w2 ON w1.t = w2.t", "E 53200 out of memory\n");
}

/* ---- UPDATE ... FROM, DELETE ... USING ----------------------------------- */

Test(join, update_from_and_delete_using_write_each_row_once)
{
    q("CREATE TABLE s (tid int, delta int)");
    q("INSERT INTO s VALUES (1, 5), (3, 1), (3, 1), (9, 9)");
    /* t.id 3 is found twice: updated once */
    EXPECT("UPDATE a SET x = coalesce(a.x, 0) + s.delta FROM s WHERE a.id = s.tid", "C UPDATE 2\n");
    EXPECT("SELECT id, x FROM a ORDER BY id", "T id,x\nD 1|15\nD 2|20\nD 3|1\nC SELECT 3\n");
    /* the join reads the table before any write: b.id + 1 sees old keys */
    EXPECT("UPDATE a SET id = a.id + 10 FROM a AS o WHERE a.id = o.id + 1", "C UPDATE 2\n");
    EXPECT("SELECT id FROM a ORDER BY id", "T id\nD 1\nD 12\nD 13\nC SELECT 3\n");
    EXPECT("DELETE FROM b USING a WHERE b.a_id = a.id", "C DELETE 2\n");
    EXPECT("SELECT id FROM b ORDER BY id", "T id\nD 3\nD 4\nC SELECT 2\n");
    EXPECT("DELETE FROM b USING s, s AS s2 WHERE b.id = s.tid AND s2.tid = s.tid", "C DELETE 1\n");
    EXPECT("UPDATE a SET x = 1 FROM s RETURNING a.id",
           "E 0A000 RETURNING with UPDATE ... FROM is not supported yet\n");
    EXPECT("DELETE FROM a USING a", "E 42712 table name \"a\" specified more than once\n");
}
