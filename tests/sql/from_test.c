/*
 * from_test.c - the FROM items that are no table (sql/srf.c,
 * sql/plan_view.c, sql/ddl_view.c, the join leaves of sql/plan_join.c):
 * set-returning functions (long series and arrays across scratch
 * batches, the forms refused with 0A000), subqueries, functions and WITH queries as
 * join inputs (their EXPLAIN, UPDATE ... FROM a subquery), and views
 * (a view over a view, what stays refused, the descriptor flag the
 * catalogs read). Results are PostgreSQL 15's where PostgreSQL answers.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../kv/kv_test_util.h"
#include "session_suite.h"
#include "sql/catalog.h"
#include "sql/plan_int.h"
#include "sql/session_int.h"

static void setup(void)
{
    sess_open(&E);
    q("CREATE TABLE t (id int PRIMARY KEY, name text)");
    q("INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
}

TestSuite(from, .init = setup, .fini = suite_teardown, .timeout = 120);

/* ---- set-returning functions ------------------------------------------ */

Test(from, long_series_cross_scratch_batches)
{
    /* numeric values live in a scratch arena replaced every 1024 rows */
    EXPECT("SELECT count(*), sum(g), max(g) FROM generate_series(0.5, 5000.5) g",
           "T count,sum,max\nD 5001|12505000.5|5000.5\nC SELECT 1\n");
    EXPECT("SELECT count(*), min(d), max(d) FROM generate_series('2024-01-01'::timestamp, "
           "'2024-12-31', '1 hour') d",
           "T count,min,max\nD 8761|2024-01-01 00:00:00|2024-12-31 00:00:00\nC SELECT 1\n");
    EXPECT("SELECT g FROM generate_series(1, 100000) g LIMIT 2", "T g\nD 1\nD 2\nC SELECT 2\n");
    /* text elements past a batch boundary */
    EXPECT("SELECT count(*), min(u), max(u) FROM unnest(ARRAY(SELECT g::text FROM "
           "generate_series(1, 3000) g)) u",
           "T count,min,max\nD 3000|1|999\nC SELECT 1\n");
}

Test(from, srf_forms_refused)
{
    EXPECT("SELECT * FROM lower('x')", "E 0A000 function lower in FROM is not supported yet\n");
    EXPECT("SELECT id, generate_series(1, 2) FROM t",
           "E 0A000 generate_series in the select list of this query is not supported yet\n");
    EXPECT("SELECT generate_series(1, 2), generate_series(1, 3)",
           "E 0A000 generate_series in the select list with another set-returning function is "
           "not supported yet\n");
    EXPECT("SELECT * FROM ROWS FROM (generate_series(1, 2), generate_series(1, 3))",
           "E 0A000 ROWS FROM is not supported yet\n");
    EXPECT("SELECT * FROM t, LATERAL generate_series(1, t.id)",
           "E 0A000 LATERAL is not supported yet\n");
    /* PostgreSQL's functions in FROM are implicitly LATERAL */
    EXPECT("SELECT * FROM t, generate_series(1, t.id) g",
           "E 0A000 a function in FROM reading another FROM item is not supported yet\n");
}

Test(from, srf_argument_errors)
{
    EXPECT("SELECT * FROM generate_series(1, 3, 0)", "E 22023 step size cannot equal zero\n");
    EXPECT("SELECT * FROM generate_series('NaN'::numeric, 3)",
           "E 22023 start value cannot be NaN\n");
    EXPECT("SELECT * FROM generate_series('1', '3')",
           "E 42725 function generate_series(unknown, unknown) is not unique\n");
    EXPECT("SELECT * FROM generate_series(NULL, 3)", "T generate_series\nC SELECT 0\n");
    EXPECT("SELECT * FROM generate_series(1, 'x'::text)",
           "E 42883 function generate_series(integer, text) does not exist\n");
}

/* ---- join inputs -------------------------------------------------------- */

Test(from, join_inputs_explained)
{
    /* the table is looked up by primary key per batch of the input's rows */
    EXPECT("EXPLAIN SELECT t.name FROM t JOIN generate_series(1, 2) g ON g = t.id",
           "T QUERY PLAN\nD Nested Loop\nD   ->  Function Scan on generate_series g\n"
           "D   ->  Index Scan using t_pkey on t\nC EXPLAIN\n");
    EXPECT("EXPLAIN SELECT * FROM t JOIN (SELECT id FROM t WHERE id > 1) s ON s.id = t.id",
           "T QUERY PLAN\nD Nested Loop\nD   ->  Subquery Scan on s\n"
           "D         ->  Index Scan using t_pkey on t\nD   ->  Index Scan using t_pkey on t\n"
           "C EXPLAIN\n");
    /* ANALYZE keeps no figures of a function's own */
    const char *out = q("EXPLAIN ANALYZE SELECT count(*) FROM generate_series(1, 3) g");
    cr_expect(strstr(out, "\nD   ->  Function Scan on generate_series g\nD Execution Time: ") !=
                  NULL,
              "%s", out);
    EXPECT("EXPLAIN WITH w AS (SELECT name FROM t) SELECT * FROM w a JOIN w b ON a.name < b.name",
           "T QUERY PLAN\nD Nested Loop\nD   ->  Subquery Scan on a\nD         ->  Seq Scan on t\n"
           "D   ->  Subquery Scan on b\nD         ->  Seq Scan on t\nC EXPLAIN\n");
}

Test(from, update_from_subquery)
{
    EXPECT("UPDATE t SET name = s.n FROM (SELECT id, upper(name) AS n FROM t) s "
           "WHERE s.id = t.id AND t.id < 3",
           "C UPDATE 2\n");
    EXPECT("SELECT name FROM t ORDER BY id", "T name\nD ONE\nD TWO\nD three\nC SELECT 3\n");
    EXPECT("DELETE FROM t USING generate_series(2, 3) g WHERE g = t.id", "C DELETE 2\n");
}

/* ---- views -------------------------------------------------------------- */

Test(from, view_descriptor_is_a_view)
{
    q("CREATE VIEW v AS SELECT id, name FROM t WHERE id > 1");
    q("CREATE VIEW w (n) AS SELECT count(*) FROM v");
    const sql_table_desc *d;
    sql_error err = {0};
    cr_assert_eq(sql_catalog_table(E.eng->catalog, NULL, E.s->db_id, "w", &d, &err, E.arena), 0);
    cr_expect_eq(sql_relkind(d), 'v');
    cr_expect_str_eq(d->view_query, "SELECT count(*) FROM v");
    cr_expect_eq(d->ncols, 1);
    cr_expect_str_eq(d->cols[0].name, "n");
    cr_expect_eq(d->ndeps, 1);
    sql_table_release(d);
    EXPECT("SELECT * FROM w", "T n\nD 2\nC SELECT 1\n");
}

Test(from, view_refusals)
{
    q("CREATE VIEW v AS SELECT id, name FROM t");
    q("CREATE VIEW e AS SELECT id, upper(name) AS u FROM t");
    EXPECT("INSERT INTO v VALUES (9, 'nine')", "C INSERT 0 1\n");
    /* PostgreSQL writes the plain columns of such views; not yet here */
    EXPECT("INSERT INTO e (id) VALUES (5)", "E 0A000 INSERT through a view is not supported yet\n");
    EXPECT("INSERT INTO v VALUES (9, 'x') ON CONFLICT DO NOTHING",
           "E 0A000 ON CONFLICT through a view is not supported yet\n");
    EXPECT("DELETE FROM v WHERE id IN (SELECT id FROM t)",
           "E 0A000 a subquery in a write through a view is not supported yet\n");
    EXPECT("UPDATE v SET name = t.name FROM t WHERE t.id = v.id",
           "E 0A000 UPDATE ... FROM or DELETE ... USING through a view is not supported yet\n");
    EXPECT("DELETE FROM v WHERE t.id = 1", "E 42P01 missing FROM-clause entry for table \"t\"\n");
    EXPECT("ALTER TABLE v ADD COLUMN c int",
           "E 0A000 ALTER TABLE on a view is not supported yet\n");
    EXPECT("CREATE OR REPLACE VIEW v AS SELECT id, name FROM v",
           "E 42P17 infinite recursion detected in rules for relation \"v\"\n");
    EXPECT("CREATE VIEW p AS SELECT $1::int AS x", "E 42P02 there is no parameter $1\n");
    EXPECT("SELECT count(*) FROM v", "T count\nD 4\nC SELECT 1\n");
}
