/*
 * index_test.c - secondary indexes through sessions (sql/session.h) over
 * a real store: CREATE [UNIQUE] INDEX with its backfill and errors, DROP
 * INDEX, entries kept by INSERT/UPDATE/DELETE/TRUNCATE, the planner's
 * choice between the primary key and the indexes (read from EXPLAIN),
 * PostgreSQL's NULL semantics on index paths, and EXPLAIN ANALYZE.
 *
 * Results of an index path are compared with the same query forced onto
 * a full scan (a WHERE the planner cannot key: `v + 0`), so a missing or
 * stale entry shows as a difference.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kv/kv_test_util.h"
#include "session_suite.h"

static rec R2;

/* The plan's scan line: EXPLAIN's last "D " line, without "->  ". */
static const char *scan_of(const char *query)
{
    static char line[512];
    char text[600];
    snprintf(text, sizeof text, "EXPLAIN %s", query);
    const char *out = q(text), *last = NULL;
    for (const char *p = strstr(out, "D "); p; p = strstr(p + 1, "\nD "))
        last = p[0] == '\n' ? p + 1 : p;
    cr_assert_not_null(last, "%s: %s", query, out);
    last += 2;
    while (*last == ' ')
        last++;
    if (!strncmp(last, "->  ", 4))
        last += 4;
    size_t n = strcspn(last, "\n");
    snprintf(line, sizeof line, "%.*s", (int)n, last);
    return line;
}

#define EXPECT_SCAN(query, want)                                               \
    do {                                                                       \
        const char *got_ = scan_of(query);                                     \
        cr_expect_str_eq(got_, want, "%s\ngot %s want %s", query, got_, want); \
    } while (0)

/* Query `indexed` and `full` must send the same rows. */
static void same_rows(const char *indexed, const char *full)
{
    const char *a = q_on(E.s, &R, indexed);
    const char *b = q_on(E.s, &R2, full);
    cr_expect_str_eq(a, b, "%s\n--- vs %s", indexed, full);
}

static void setup(void)
{
    sess_open(&E);
}

TestSuite(index, .init = setup, .fini = suite_teardown, .timeout = 120);

/* t(id, v, w) with rows 1..n: v = id % 7 (NULL when id % 10 == 0), w = 'w<id>'. */
static void fill(int n)
{
    char *text = malloc(64 + (size_t)n * 40);
    size_t len = (size_t)sprintf(text, "INSERT INTO t VALUES ");
    for (int i = 1; i <= n; i++) {
        char v[16];
        snprintf(v, sizeof v, i % 10 ? "%d" : "NULL", i % 7);
        len += (size_t)sprintf(text + len, "%s(%d, %s, 'w%d')", i > 1 ? ", " : "", i, v, i);
    }
    q("CREATE TABLE t (id int PRIMARY KEY, v int, w text)");
    q(text);
    free(text);
}

Test(index, create_index_backfills_existing_rows)
{
    fill(30);
    EXPECT("CREATE INDEX t_v_idx ON t (v)", "C CREATE INDEX\n");
    EXPECT_SCAN("SELECT id FROM t WHERE v = 3", "Index Only Scan using t_v_idx on t");
    EXPECT("SELECT id FROM t WHERE v = 3 ORDER BY id", "T id\nD 3\nD 17\nD 24\nC SELECT 3\n");
    same_rows("SELECT id, w FROM t WHERE v >= 2 AND v < 5 ORDER BY id",
              "SELECT id, w FROM t WHERE v + 0 >= 2 AND v + 0 < 5 ORDER BY id");
}

Test(index, entries_follow_writes)
{
    fill(40);
    q("CREATE INDEX t_v_idx ON t (v DESC, w)");
    EXPECT("INSERT INTO t VALUES (100, 3, 'x'), (101, NULL, 'y')", "C INSERT 0 2\n");
    EXPECT("UPDATE t SET v = v + 1 WHERE id % 3 = 0", "C UPDATE 13\n");
    EXPECT("UPDATE t SET w = 'moved' WHERE v = 4", "C UPDATE 6\n");
    EXPECT("UPDATE t SET id = id + 1000 WHERE v = 2", "C UPDATE 6\n");
    EXPECT("DELETE FROM t WHERE v = 5", "C DELETE 5\n");
    for (int v = 0; v <= 7; v++) {
        char a[128], b[128];
        snprintf(a, sizeof a, "SELECT id, v, w FROM t WHERE v = %d ORDER BY id", v);
        snprintf(b, sizeof b, "SELECT id, v, w FROM t WHERE v + 0 = %d ORDER BY id", v);
        same_rows(a, b);
    }
    same_rows("SELECT count(*) FROM t WHERE v > -1", "SELECT count(*) FROM t WHERE v + 0 > -1");
    EXPECT("TRUNCATE t", "C TRUNCATE TABLE\n");
    EXPECT("SELECT count(*) FROM t WHERE v > -1", "T count\nD 0\nC SELECT 1\n");
}

/* UPDATE through the index it changes reads every row first: a moved
 * entry further on is not met again. */
Test(index, update_of_the_scanned_index_moves_each_row_once)
{
    fill(50);
    q("CREATE INDEX t_v_idx ON t (v)");
    EXPECT_SCAN("UPDATE t SET v = v + 10 WHERE v >= 1", "Index Scan using t_v_idx on t");
    EXPECT("UPDATE t SET v = v + 10 WHERE v >= 1", "C UPDATE 38\n");
    EXPECT("SELECT count(*) FROM t WHERE v >= 17", "T count\nD 0\nC SELECT 1\n");
    same_rows("SELECT id, v FROM t WHERE v >= 0 ORDER BY id",
              "SELECT id, v FROM t WHERE v + 0 >= 0 ORDER BY id");
}

Test(index, unique_indexes)
{
    fill(20);
    EXPECT("CREATE UNIQUE INDEX u ON t (v)", "E 23505 could not create unique index \"u\"\n");
    EXPECT("SELECT count(*) FROM t WHERE v = 1", "T count\nD 3\nC SELECT 1\n");
    EXPECT("CREATE UNIQUE INDEX u ON t (w)", "C CREATE INDEX\n");
    EXPECT("INSERT INTO t VALUES (99, 1, 'w5')",
           "E 23505 duplicate key value violates unique constraint \"u\"\n");
    EXPECT("UPDATE t SET w = 'w1' WHERE id = 2",
           "E 23505 duplicate key value violates unique constraint \"u\"\n");
    /* NULLs never collide in a unique index */
    EXPECT("INSERT INTO t VALUES (98, 1, NULL), (99, 1, NULL)", "C INSERT 0 2\n");
    EXPECT_SCAN("SELECT id FROM t WHERE w IS NULL", "Index Only Scan using u on t");
    EXPECT("SELECT id FROM t WHERE w IS NULL", "T id\nD 98\nD 99\nC SELECT 2\n");
    EXPECT_SCAN("SELECT id FROM t WHERE w = 'w7'", "Index Scan using u on t");
    EXPECT("SELECT id FROM t WHERE w = 'w7'", "T id\nD 7\nC SELECT 1\n");
}

Test(index, null_semantics)
{
    fill(30);
    q("CREATE INDEX t_v_idx ON t (v)");
    EXPECT("SELECT id FROM t WHERE v = NULL", "T id\nC SELECT 0\n");
    EXPECT_SCAN("SELECT id FROM t WHERE v IS NULL", "Index Only Scan using t_v_idx on t");
    EXPECT("SELECT id FROM t WHERE v IS NULL ORDER BY id", "T id\nD 10\nD 20\nD 30\nC SELECT 3\n");
    EXPECT("SELECT id FROM t WHERE v IS NULL AND id > 15 ORDER BY id DESC",
           "T id\nD 30\nD 20\nC SELECT 2\n");
    same_rows("SELECT id FROM t WHERE v > 4 ORDER BY id",
              "SELECT id FROM t WHERE v + 0 > 4 ORDER BY id");
    same_rows("SELECT id FROM t WHERE v <= 1 ORDER BY id",
              "SELECT id FROM t WHERE v + 0 <= 1 ORDER BY id");
    /* the index order is PostgreSQL's: NULLs last ascending, first descending */
    EXPECT("SELECT v FROM t ORDER BY v DESC, id LIMIT 4",
           "T v\nD NULL\nD NULL\nD NULL\nD 6\nC SELECT 4\n");
    EXPECT("SELECT v FROM t ORDER BY v LIMIT 2", "T v\nD 0\nD 0\nC SELECT 2\n");
    EXPECT_SCAN("SELECT v FROM t ORDER BY v NULLS FIRST LIMIT 2", "Seq Scan on t");
}

Test(index, descending_columns_and_ranges)
{
    fill(60);
    q("CREATE INDEX d ON t (v DESC, id DESC)");
    EXPECT_SCAN("SELECT id FROM t WHERE v = 2 AND id > 20", "Index Only Scan using d on t");
    same_rows("SELECT id FROM t WHERE v = 2 AND id > 20 ORDER BY id",
              "SELECT id FROM t WHERE v + 0 = 2 AND id + 0 > 20 ORDER BY id");
    same_rows("SELECT id, v FROM t WHERE v BETWEEN 2 AND 4 ORDER BY id",
              "SELECT id, v FROM t WHERE v + 0 BETWEEN 2 AND 4 ORDER BY id");
    EXPECT_SCAN("SELECT id FROM t ORDER BY v DESC, id DESC LIMIT 3",
                "Index Only Scan using d on t");
    EXPECT_SCAN("SELECT id FROM t ORDER BY v, id LIMIT 3", "Index Only Scan Backward using d on t");
    EXPECT("SELECT v, id FROM t ORDER BY v, id LIMIT 3",
           "T v,id\nD 0|7\nD 0|14\nD 0|21\nC SELECT 3\n");
}

Test(index, planner_choices)
{
    fill(30);
    q("CREATE INDEX a ON t (v)");
    q("CREATE INDEX b ON t (v, w)");
    EXPECT_SCAN("SELECT * FROM t WHERE id = 3 AND v = 3", "Index Scan using t_pkey on t");
    EXPECT_SCAN("SELECT * FROM t WHERE v = 3", "Index Scan using a on t");
    EXPECT_SCAN("SELECT * FROM t WHERE v = 3 AND w = 'w3'", "Index Only Scan using b on t");
    EXPECT_SCAN("SELECT * FROM t WHERE v = 3 AND id > 2", "Index Scan using a on t");
    EXPECT_SCAN("SELECT * FROM t WHERE id > 2 AND v > 3", "Index Scan using t_pkey on t");
    /* equal ranks: the first index */
    EXPECT_SCAN("SELECT w FROM t WHERE v IN (1, 2)", "Index Scan using a on t");
    EXPECT_SCAN("SELECT * FROM t WHERE w = 'w3'", "Seq Scan on t");
    EXPECT_SCAN("SELECT * FROM t ORDER BY v LIMIT 1", "Index Scan using a on t");
    EXPECT_SCAN("SELECT * FROM t ORDER BY v DESC LIMIT 1", "Index Scan Backward using a on t");
    same_rows("SELECT id, w FROM t WHERE v IN (5, 1, NULL, 1) ORDER BY id",
              "SELECT id, w FROM t WHERE v + 0 IN (5, 1) ORDER BY id");
    EXPECT("EXPLAIN SELECT count(*) FROM t WHERE v > 2 LIMIT 1",
           "T QUERY PLAN\nD Limit\nD   ->  Aggregate\nD         ->  Index Only Scan using a on t\n"
           "C EXPLAIN\n");
}

Test(index, explain_analyze_counts_rows)
{
    fill(30);
    q("CREATE INDEX a ON t (v)");
    const char *out = q("EXPLAIN ANALYZE SELECT id FROM t WHERE v = 3");
    cr_expect(strstr(out, "D Index Only Scan using a on t  (actual rows=3 time=") != NULL, "%s",
              out);
    cr_expect(strstr(out, "D Execution Time: ") != NULL, "%s", out);
    out = q("EXPLAIN ANALYZE DELETE FROM t WHERE v = 3");
    cr_expect(strstr(out, "D Delete on t  (actual rows=3 time=") != NULL, "%s", out);
    cr_expect(strstr(out, "D   ->  Index Scan using a on t  (actual rows=3 time=") != NULL, "%s",
              out);
    EXPECT("SELECT count(*) FROM t WHERE v = 3", "T count\nD 0\nC SELECT 1\n");
    q("BEGIN READ ONLY");
    EXPECT("EXPLAIN ANALYZE DELETE FROM t",
           "E 25006 cannot execute DELETE in a read-only transaction\n");
    q("ROLLBACK");
}

Test(index, names_and_if_exists)
{
    fill(5);
    EXPECT("CREATE INDEX t_v_idx ON t (v)", "C CREATE INDEX\n");
    EXPECT("CREATE INDEX t_v_idx ON t (w)", "E 42P07 relation \"t_v_idx\" already exists\n");
    EXPECT("CREATE INDEX t ON t (w)", "E 42P07 relation \"t\" already exists\n");
    EXPECT("CREATE INDEX IF NOT EXISTS t_v_idx ON t (w)",
           "N NOTICE 42P07 relation \"t_v_idx\" already exists, skipping\nC CREATE INDEX\n");
    EXPECT("CREATE INDEX ON t (v)", "C CREATE INDEX\n");
    EXPECT_SCAN("SELECT v FROM t WHERE v = 1 AND id = 1", "Index Scan using t_pkey on t");
    EXPECT("DROP INDEX t_v_idx1", "C DROP INDEX\n");
    EXPECT("CREATE INDEX x ON t (nope)", "E 42703 column \"nope\" does not exist\n");
    EXPECT("CREATE INDEX x ON nope (v)", "E 42P01 relation \"nope\" does not exist\n");
    EXPECT("DROP INDEX t_v_idx", "C DROP INDEX\n");
    EXPECT("DROP INDEX t_v_idx", "E 42704 index \"t_v_idx\" does not exist\n");
    EXPECT("DROP INDEX IF EXISTS t_v_idx",
           "N NOTICE 00000 index \"t_v_idx\" does not exist, skipping\nC DROP INDEX\n");
    EXPECT("DROP INDEX t", "E 42809 \"t\" is not an index\n");
    EXPECT("DROP INDEX t_pkey",
           "E 2BP01 cannot drop index t_pkey because constraint t_pkey on table t requires it\n");
    EXPECT_SCAN("SELECT v FROM t WHERE v = 1", "Seq Scan on t");
    /* the index name is free again, and DROP TABLE takes its indexes */
    EXPECT("CREATE INDEX t_v_idx ON t (v)", "C CREATE INDEX\n");
    EXPECT("DROP TABLE t", "C DROP TABLE\n");
    EXPECT("DROP INDEX t_v_idx", "E 42704 index \"t_v_idx\" does not exist\n");
}

/* More rows than a scan batch: the lookups of each batch of entries go
 * out as one batch of gets, and the scan resumes where it stopped. */
Test(index, lookups_across_batches)
{
    fill(2600);
    q("CREATE INDEX t_v_idx ON t (v)");
    EXPECT_SCAN("SELECT w FROM t WHERE v = 4", "Index Scan using t_v_idx on t");
    same_rows("SELECT count(w), min(w), max(w) FROM t WHERE v = 4",
              "SELECT count(w), min(w), max(w) FROM t WHERE v + 0 = 4");
    same_rows("SELECT id FROM t WHERE v = 4 ORDER BY v, id DESC LIMIT 5",
              "SELECT id FROM t WHERE v + 0 = 4 ORDER BY id DESC LIMIT 5");
}
