/*
 * setop_test.c - UNION, INTERSECT, EXCEPT [ALL] and VALUES as a query
 * (sql/plan_setop.c, sql/exec_setop.c) through a session over a real
 * E.store: PostgreSQL's duplicate counts and NULL equality, result types
 * (select_common_type, unknown literals), UNION ALL streaming that a
 * LIMIT stops before the next branch runs, correlated branches, the
 * memory budget, and the EXPLAIN trees. Expectations are PostgreSQL 15's.
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
    q("CREATE TABLE m (id int PRIMARY KEY, v int, s text)");
    q("CREATE TABLE n (id int PRIMARY KEY, v bigint, s varchar(5))");
    /* m holds v=1 five times, v=2 twice, NULL three times; n holds v=1
     * twice, v=2 four times, NULL once, v=3 once */
    q("INSERT INTO m VALUES (1, 1, 'm'), (2, 1, 'm'), (3, 1, 'm'), (4, 1, 'm'), (5, 1, 'm'), "
      "(6, 2, 'm'), (7, 2, 'm'), (8, NULL, 'm'), (9, NULL, 'm'), (10, NULL, 'm')");
    q("INSERT INTO n VALUES (1, 1, 'n'), (2, 1, 'n'), (3, 2, 'n'), (4, 2, 'n'), (5, 2, 'n'), "
      "(6, 2, 'n'), (7, NULL, 'n'), (8, 3, 'n')");
}

TestSuite(setop, .init = setup, .fini = suite_teardown, .timeout = 120);

/* The result column types of `query` as "oid,oid,..." (in E.arena). */
static const char *types_of(const char *query)
{
    sql_plan *p = sess_plan(&E, query);
    size_t n;
    const sql_column_info *cols = sql__plan_columns(p, &n);
    char *text = kv_arena_alloc(E.arena, 16 * n + 1);
    text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        sprintf(text + strlen(text), "%s%u", i ? "," : "", (unsigned)cols[i].type.oid);
    sql__plan_free(p);
    return text;
}

#define EXPECT_TYPES(query, want)                                                  \
    do {                                                                           \
        const char *got_ = types_of(query);                                        \
        cr_expect_str_eq(got_, want, "%s\n got: %s\nwant: %s", query, got_, want); \
    } while (0)

/* ---- duplicates ---------------------------------------------------------- */

Test(setop, duplicate_counts_follow_postgresql)
{
    /* per value: m has 1x5 2x2 NULLx3, n has 1x2 2x4 NULLx1 3x1 */
    EXPECT("SELECT v, count(*) FROM (SELECT v FROM m UNION ALL SELECT v FROM n) u GROUP BY v "
           "ORDER BY v",
           "T v,count\nD 1|7\nD 2|6\nD 3|1\nD NULL|4\nC SELECT 4\n");
    EXPECT("SELECT v FROM m UNION SELECT v FROM n ORDER BY v",
           "T v\nD 1\nD 2\nD 3\nD NULL\nC SELECT 4\n");
    EXPECT("SELECT v, count(*) FROM (SELECT v FROM m INTERSECT ALL SELECT v FROM n) u GROUP BY v "
           "ORDER BY v",
           "T v,count\nD 1|2\nD 2|2\nD NULL|1\nC SELECT 3\n");
    EXPECT("SELECT v FROM m INTERSECT SELECT v FROM n ORDER BY v",
           "T v\nD 1\nD 2\nD NULL\nC SELECT 3\n");
    EXPECT("SELECT v, count(*) FROM (SELECT v FROM m EXCEPT ALL SELECT v FROM n) u GROUP BY v "
           "ORDER BY v",
           "T v,count\nD 1|3\nD NULL|2\nC SELECT 2\n");
    EXPECT("SELECT v, count(*) FROM (SELECT v FROM n EXCEPT ALL SELECT v FROM m) u GROUP BY v "
           "ORDER BY v",
           "T v,count\nD 2|2\nD 3|1\nC SELECT 2\n");
    EXPECT("SELECT v FROM m EXCEPT SELECT v FROM n", "T v\nC SELECT 0\n");
    EXPECT("SELECT v FROM n EXCEPT SELECT v FROM m", "T v\nD 3\nC SELECT 1\n");
}

Test(setop, rows_compare_whole_with_nulls_equal)
{
    EXPECT("SELECT v, s FROM m UNION SELECT v, 'm' FROM n ORDER BY 1, 2",
           "T v,s\nD 1|m\nD 2|m\nD 3|m\nD NULL|m\nC SELECT 4\n");
    EXPECT("SELECT NULL::int, v FROM m INTERSECT SELECT NULL, v::int FROM n WHERE v IS NULL",
           "T int4,v\nD NULL|NULL\nC SELECT 1\n");
    /* the common type decides equality: 1 and 1.0 are one numeric */
    EXPECT("SELECT 1 UNION SELECT 1.0", "T ?column?\nD 1\nC SELECT 1\n");
}

/* ---- types ------------------------------------------------------------- */

Test(setop, column_types_are_the_branches_common_type)
{
    EXPECT_TYPES("SELECT v FROM m UNION SELECT v FROM n", "20");
    EXPECT_TYPES("SELECT v, s FROM n UNION SELECT v, s FROM n", "20,1043");
    /* text casts to varchar implicitly too: the first stays (PostgreSQL) */
    EXPECT_TYPES("SELECT s FROM n UNION SELECT s FROM m", "1043");
    EXPECT_TYPES("SELECT 1 UNION SELECT 2.5", "1700");
    EXPECT_TYPES("SELECT 1 UNION SELECT '2'", "23");
    EXPECT_TYPES("SELECT NULL UNION SELECT NULL", "25");
    EXPECT_TYPES("SELECT 'a' UNION SELECT 'b' INTERSECT SELECT 'c'", "25");
    EXPECT_TYPES("SELECT *, NULL FROM m UNION SELECT 1, 2, 'x', 3.5", "23,23,25,1700");
    EXPECT_TYPES("VALUES (1, NULL), ('2', 2.5)", "23,1700");
    EXPECT_TYPES("SELECT * FROM (VALUES ('a')) v", "25");
    EXPECT("SELECT 1 UNION SELECT 'a'::text",
           "E 42804 UNION types integer and text cannot be matched\n");
    EXPECT("VALUES (1), (true)", "E 42804 VALUES types integer and boolean cannot be matched\n");
    EXPECT("SELECT 1 INTERSECT SELECT 'x'",
           "E 22P02 invalid input syntax for type integer: \"x\"\n");
}

/* ---- running ------------------------------------------------------------ */

Test(setop, a_limit_stops_union_all_before_the_next_branch)
{
    /* the right branch divides by zero on its first row, if it runs */
    EXPECT("SELECT v FROM m WHERE v = 1 UNION ALL SELECT 1 / (v - v) FROM n LIMIT 3",
           "T v\nD 1\nD 1\nD 1\nC SELECT 3\n");
    /* without it, the left rows stream out before the right branch fails */
    EXPECT("SELECT v FROM m WHERE v = 1 UNION ALL SELECT 1 / (v - v) FROM n",
           "T v\nD 1\nD 1\nD 1\nD 1\nD 1\nE 22012 division by zero\n");
    EXPECT("SELECT v FROM m WHERE v = 1 UNION SELECT 1 / (v - v) FROM n LIMIT 1",
           "T v\nD 1\nC SELECT 1\n");
}

Test(setop, branches_see_enclosing_rows_and_with_queries)
{
    EXPECT("SELECT id, (SELECT count(*) FROM (SELECT n.id FROM n WHERE n.v = m.v "
           "INTERSECT ALL SELECT m.id) x) FROM m WHERE id IN (1, 3, 6) ORDER BY id",
           "T id,count\nD 1|1\nD 3|0\nD 6|1\nC SELECT 3\n");
    EXPECT("WITH w AS (SELECT v FROM m WHERE v IS NOT NULL) SELECT v FROM w EXCEPT SELECT 2 "
           "UNION ALL SELECT v FROM w WHERE v = 2 ORDER BY 1",
           "T v\nD 1\nD 2\nD 2\nC SELECT 3\n");
    EXPECT("SELECT id FROM m WHERE v IN (VALUES (2), (3)) ORDER BY id",
           "T id\nD 6\nD 7\nC SELECT 2\n");
}

Test(setop, insert_select_takes_a_set_operation)
{
    q("CREATE TABLE t (v int PRIMARY KEY, s text)");
    EXPECT("INSERT INTO t SELECT v::int, 'a' FROM m WHERE v IS NOT NULL UNION SELECT 3, 'b' "
           "UNION VALUES (4, 'c')",
           "C INSERT 0 4\n");
    EXPECT("SELECT * FROM t ORDER BY v", "T v,s\nD 1|a\nD 2|a\nD 3|b\nD 4|c\nC SELECT 4\n");
}

Test(setop, held_rows_are_budgeted)
{
    q("CREATE TABLE wide (id int PRIMARY KEY, t text)");
    for (int i = 0; i < 70; i++) {
        char ins[128];
        snprintf(ins, sizeof ins, "INSERT INTO wide VALUES (%d, repeat('x', 999990) || %d)", i, i);
        q(ins);
    }
    EXPECT("SELECT count(*) FROM (SELECT t FROM wide UNION SELECT t FROM wide) u",
           "E 53200 out of memory\n");
    EXPECT("SELECT count(*) FROM (SELECT t FROM wide EXCEPT ALL SELECT 'x') u",
           "E 53200 out of memory\n");
    /* UNION ALL holds nothing */
    EXPECT("SELECT count(*) FROM (SELECT t FROM wide UNION ALL SELECT t FROM wide) u",
           "T count\nD 140\nC SELECT 1\n");
}

/* ---- EXPLAIN ------------------------------------------------------------ */

Test(setop, explain_prints_postgresql_nodes)
{
    EXPECT("EXPLAIN SELECT v FROM m UNION ALL SELECT v FROM n UNION ALL SELECT 1",
           "T QUERY PLAN\nD Append\nD   ->  Seq Scan on m\nD   ->  Seq Scan on n\n"
           "D   ->  Result\nC EXPLAIN\n");
    EXPECT("EXPLAIN SELECT v FROM m UNION SELECT v FROM n ORDER BY 1 LIMIT 2",
           "T QUERY PLAN\nD Limit\nD   ->  Sort\nD         ->  HashAggregate\n"
           "D               ->  Append\nD                     ->  Seq Scan on m\n"
           "D                     ->  Seq Scan on n\nC EXPLAIN\n");
    EXPECT("EXPLAIN SELECT v FROM m INTERSECT ALL SELECT v FROM n WHERE id = 1",
           "T QUERY PLAN\nD HashSetOp Intersect All\nD   ->  Append\n"
           "D         ->  Subquery Scan on \"*SELECT* 1\"\nD               ->  Seq Scan on m\n"
           "D         ->  Subquery Scan on \"*SELECT* 2\"\n"
           "D               ->  Index Scan using n_pkey on n\nC EXPLAIN\n");
    EXPECT("EXPLAIN SELECT * FROM (VALUES (1), (2)) v(x)",
           "T QUERY PLAN\nD Values Scan on \"*VALUES*\"\nC EXPLAIN\n");
}
