/*
 * exec_test.c - the planner and executor (sql/exec_int.h) over a real
 * store in a temp dir: statements are parsed with sql_parse, planned with
 * sql__plan against tables created through the catalog, and run with
 * sql__run inside a sql_txn. Covers every access path choice (asserted
 * through sql__plan_explain), results across scan batch boundaries,
 * LIMIT/OFFSET, ORDER BY with NULL placement, descending keys, composite
 * key values, constraint violations with PostgreSQL 15's exact messages,
 * RETURNING, primary key updates, parameters and the commit path, and
 * subqueries (NULL semantics of IN/NOT IN, correlation, FROM and WITH,
 * INSERT ... SELECT and writes whose subqueries read the written table,
 * the memory budget of kept subquery rows).
 */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_fixture.h"
#include "sql/plan_int.h"
#include "sql/txn.h"

static uint32_t db;

static void setup(void)
{
    cf_setup();
    sql_database_desc d;
    OK(sql_catalog_database(cat, NULL, "defaultdb", &d, &err, A));
    db = d.id;
}

static sql_plan *plan;

static void teardown(void)
{
    sql__plan_free(plan);
    plan = NULL;
    cf_teardown();
}

TestSuite(exec, .init = setup, .fini = teardown);

/* ---- tables ---------------------------------------------------------- */

typedef struct col_spec {
    const char *name;
    sql_type_id type;
    bool not_null;
    const char *dflt;
} col_spec;

/* A table of `cols` with primary key columns pk[0..npk) (table column
 * positions; dirs from `dirs`), optional UNIQUE(col uq) and CHECK. */
static void make_table(const char *name, const col_spec *cols, uint32_t ncols, const int *pk,
                       const sql_key_dir *dirs, uint32_t npk, int uq, const char *check)
{
    sql_col_desc *c = kv_arena_alloc(A, ncols * sizeof(*c));
    for (uint32_t i = 0; i < ncols; i++)
        c[i] = (sql_col_desc){.id = i + 1,
                              .name = cols[i].name,
                              .type = {cols[i].type, -1},
                              .not_null = cols[i].not_null,
                              .default_expr = cols[i].dflt ? cf_parse_expr(cols[i].dflt) : NULL};
    uint32_t *pk_ids = kv_arena_alloc(A, npk * sizeof(*pk_ids));
    for (uint32_t i = 0; i < npk; i++)
        pk_ids[i] = (uint32_t)pk[i] + 1;
    char *pkname = kv_arena_alloc(A, 64);
    snprintf(pkname, 64, "%s_pkey", name);
    sql_table_desc d = {.db_id = db,
                        .name = name,
                        .ncols = ncols,
                        .cols = c,
                        .next_col_id = ncols + 1,
                        .primary = {.id = SQL_PRIMARY_INDEX_ID,
                                    .name = pkname,
                                    .unique = true,
                                    .ncols = npk,
                                    .col_ids = pk_ids,
                                    .dirs = dirs},
                        .next_index_id = 2};
    static const sql_key_dir asc[] = {SQL_KEY_ASC};
    if (uq >= 0) {
        sql_index_desc *ix = kv_arena_alloc(A, sizeof(*ix));
        uint32_t *ids = kv_arena_alloc(A, sizeof(*ids));
        char *ixname = kv_arena_alloc(A, 64);
        snprintf(ixname, 64, "%s_%s_key", name, cols[uq].name);
        ids[0] = (uint32_t)uq + 1;
        *ix = (sql_index_desc){
            .id = 2, .name = ixname, .unique = true, .ncols = 1, .col_ids = ids, .dirs = asc};
        d.indexes = ix;
        d.nindexes = 1;
        d.next_index_id = 3;
    }
    if (check != NULL) {
        sql_check_desc *ck = kv_arena_alloc(A, sizeof(*ck));
        char *ckname = kv_arena_alloc(A, 64);
        snprintf(ckname, 64, "%s_check", name);
        *ck = (sql_check_desc){.name = ckname, .expr = cf_parse_expr(check)};
        d.checks = ck;
        d.nchecks = 1;
    }
    OK(sql_catalog_new_id(cat, &d.id, &err, A));
    sql_txn *t = cf_begin();
    OK(sql_catalog_create_table(cat, t, &d, &err, A));
    cf_commit(t);
}

static const sql_key_dir asc1[] = {SQL_KEY_ASC};
static const sql_key_dir asc2[] = {SQL_KEY_ASC, SQL_KEY_ASC};
static const sql_key_dir desc1[] = {SQL_KEY_DESC};

/* t(id int4 primary key, v text unique, n int8 not null default 7,
 *   CHECK (n >= 0)) */
static void make_t(void)
{
    static const col_spec cols[] = {{"id", SQL_T_INT4, true, NULL},
                                    {"v", SQL_T_TEXT, false, NULL},
                                    {"n", SQL_T_INT8, true, "7"}};
    make_table("t", cols, 3, (int[]){0}, asc1, 1, 1, "n >= 0");
}

/* ---- running statements ---------------------------------------------- */

/* Rows of the last statement, "a|b" lines; NULL prints as "NULL". */
static char out[1 << 16];
static size_t outlen;
static const sql_column_info *out_cols;
static uint64_t affected;
static bool committed;
static uint32_t param_oids[8];
static sql_params params;

/* The session's cancel flag; collect() raises it after `cancel_after`
 * rows when that is not 0. */
static atomic_int cancel_flag;
static uint64_t cancel_after, nrows;

static int collect(void *arg, const sql_datum *vals, size_t n, sql_error *e)
{
    (void)arg, (void)e;
    if (++nrows == cancel_after)
        atomic_store(&cancel_flag, SQL_CANCEL_REQUEST);
    for (size_t i = 0; i < n; i++) {
        const char *txt = "NULL";
        if (!vals[i].isnull)
            OK(sql_datum_to_text(out_cols[i].type, &vals[i], NULL, A, &txt, NULL, &err));
        outlen += (size_t)snprintf(out + outlen, sizeof(out) - outlen, "%s%s", i ? "|" : "", txt);
    }
    outlen += (size_t)snprintf(out + outlen, sizeof(out) - outlen, "\n");
    cr_assert_lt(outlen, sizeof(out) - 1);
    return 0;
}

static int nextval(void *env, const char *seq, int64_t *v, sql_error *e, kv_arena *arena)
{
    (void)env;
    return sql_catalog_nextval(cat, NULL, db, seq, v, e, arena);
}

static const sql_eval_env env = {.nextval = nextval, .database = "defaultdb", .user = "root"};

/* Parses and plans `q` (kept in `plan` until the next call). */
static int prepare(const char *q)
{
    sql__plan_free(plan);
    plan = NULL;
    memset(&err, 0, sizeof(err));
    sql_stmt_list l;
    if (sql_parse(q, A, &l, &err) != 0)
        return -1;
    cr_assert_eq(l.n, 1);
    memset(param_oids, 0, sizeof(param_oids));
    params = (sql_params){.oids = param_oids, .n = 0, .cap = 8};
    sql_plan_ctx pc = {.catalog = cat, .db_id = db, .query = q, .params = &params};
    return sql__plan(&pc, &l.stmts[0], A, &plan, &err);
}

/* Runs the prepared plan in its own transaction with parameters given as
 * text (NULL: SQL NULL); `may_commit` lets the executor commit. */
static int execute(const char *q, bool may_commit, int nparams, const char *const *ptext)
{
    sql_datum pv[8];
    sql_type pt[8];
    for (int i = 0; i < nparams; i++) {
        pt[i] = (sql_type){param_oids[i] ? (sql_type_id)param_oids[i] : SQL_T_TEXT, -1};
        pv[i].isnull = ptext[i] == NULL;
        if (ptext[i] != NULL)
            OK(sql_datum_from_text(pt[i], ptext[i], strlen(ptext[i]), NULL, A, &pv[i], &err));
    }
    sql_txn *txn;
    atomic_store(&cancel_flag, SQL_CANCEL_NONE);
    OK(sql_txn_begin(store, NULL, &cancel_flag, &txn, &err, A));
    size_t n;
    out_cols = sql__plan_columns(plan, &n);
    outlen = 0;
    out[0] = 0;
    nrows = 0;
    sql_run_ctx rc = {.txn = txn,
                      .cancel = &cancel_flag,
                      .catalog = cat,
                      .db_id = db,
                      .params = pv,
                      .param_types = pt,
                      .env = &env,
                      .query = q,
                      .row = collect};
    memset(&err, 0, sizeof(err));
    int r = sql__run(plan, &rc, may_commit, A, &affected, &committed, &err);
    if (r == 0 && !committed) {
        sql_error cerr = {0};
        cr_assert_eq(sql_txn_commit(txn, NULL, NULL, &cerr, A), 0, "%s", cerr.message);
    }
    sql_txn_destroy(txn);
    return r;
}

static int run(const char *q)
{
    if (prepare(q) != 0)
        return -1;
    return execute(q, false, 0, NULL);
}

#define RUN(q) cr_assert_eq(run(q), 0, "%s: %s", q, err.message)

static void expect_rows(const char *q, const char *want)
{
    RUN(q);
    cr_assert_str_eq(out, want, "%s\ngot:\n%swant:\n%s", q, out, want);
}

static void expect_error(const char *q, const char *state, const char *msg, const char *detail)
{
    cr_assert_eq(run(q), -1, "%s succeeded", q);
    cr_assert_str_eq(sql_sqlstate_code(err.state), state, "%s: %s", q, err.message);
    cr_assert_str_eq(err.message, msg);
    if (detail != NULL)
        cr_assert_str_eq(err.detail ? err.detail : "(none)", detail);
}

static void expect_path(const char *q, const char *want)
{
    cr_assert_eq(prepare(q), 0, "%s: %s", q, err.message);
    cr_assert_str_eq(sql__plan_explain(plan), want, "%s: %s", q, sql__plan_explain(plan));
}

/* INSERT INTO t VALUES (from..to) with v = 'v<i>' and n = i % 10. */
static void fill_t(int from, int to)
{
    static char q[1 << 17];
    size_t len = (size_t)snprintf(q, sizeof(q), "INSERT INTO t VALUES ");
    for (int i = from; i <= to; i++)
        len += (size_t)snprintf(q + len, sizeof(q) - len, "%s(%d, 'v%d', %d)", i > from ? ", " : "",
                                i, i, i % 10);
    RUN(q);
    cr_assert_eq(affected, (uint64_t)(to - from + 1));
}

/* ---- access paths ---------------------------------------------------- */

Test(exec, access_path_choice)
{
    make_t();
    static const col_spec cols[] = {{"a", SQL_T_INT4, true, NULL},
                                    {"b", SQL_T_TEXT, true, NULL},
                                    {"c", SQL_T_FLOAT8, false, NULL}};
    make_table("u", cols, 3, (int[]){0, 1}, asc2, 2, -1, NULL);

    expect_path("SELECT v FROM t WHERE id = 1", "point lookup on t_pkey");
    expect_path("SELECT v FROM t WHERE 1 = id", "point lookup on t_pkey");
    expect_path("SELECT v FROM t WHERE id = $1", "point lookup on t_pkey");
    expect_path("SELECT v FROM t WHERE id = 1 AND n > 2", "point lookup on t_pkey, filter");
    expect_path("SELECT v FROM t WHERE id IN (3, 1, 2)", "point lookups on t_pkey");
    expect_path("SELECT v FROM t WHERE id > 5", "range scan on t_pkey");
    expect_path("SELECT v FROM t WHERE id BETWEEN 5 AND 9", "range scan on t_pkey");
    expect_path("SELECT v FROM t WHERE id < 5 ORDER BY id DESC", "range scan (reverse) on t_pkey");
    expect_path("SELECT v FROM t WHERE n = 3", "full scan on t_pkey, filter");
    expect_path("SELECT v FROM t WHERE v = 'x'", "point lookup on t_v_key");
    expect_path("SELECT v FROM t ORDER BY v", "full scan on t_pkey, sort");
    expect_path("SELECT v FROM t ORDER BY id", "full scan on t_pkey");
    /* compared in numeric: no int4 key can be built from 2.5 */
    expect_path("SELECT v FROM t WHERE id = 2.5", "full scan on t_pkey, filter");
    expect_path("SELECT v FROM t WHERE id = 1 OR id = 2", "full scan on t_pkey, filter");

    expect_path("SELECT c FROM u WHERE a = 1 AND b = 'x'", "point lookup on u_pkey");
    expect_path("SELECT c FROM u WHERE a = 1", "range scan on u_pkey");
    expect_path("SELECT c FROM u WHERE a = 1 AND b >= 'k'", "range scan on u_pkey");
    expect_path("SELECT c FROM u WHERE a = 1 AND b IN ('x', 'y')", "point lookups on u_pkey");
    expect_path("SELECT c FROM u WHERE b = 'x'", "full scan on u_pkey, filter");
    expect_path("SELECT c FROM u WHERE a = 1 ORDER BY b DESC", "range scan (reverse) on u_pkey");
    expect_path("UPDATE t SET v = 'x' WHERE id = $1", "point lookup on t_pkey");
    expect_path("DELETE FROM t WHERE id >= 3", "range scan on t_pkey");
}

Test(exec, point_and_points)
{
    make_t();
    fill_t(1, 20);
    expect_rows("SELECT v, n FROM t WHERE id = 7", "v7|7\n");
    expect_rows("SELECT v FROM t WHERE id = 70", "");
    expect_rows("SELECT v FROM t WHERE id = NULL", "");
    expect_rows("SELECT id FROM t WHERE id IN (9, 3, 3, 99, 5)", "3\n5\n9\n");
    expect_rows("SELECT id FROM t WHERE id IN (9, 3, 5) ORDER BY id DESC", "9\n5\n3\n");
    expect_rows("SELECT id FROM t WHERE id = 2.5", "");
    expect_rows("SELECT id FROM t WHERE id = 2.0", "2\n");
    expect_rows("SELECT id FROM t WHERE id = 4 AND n = 5", "");
    expect_rows("SELECT id FROM t WHERE id = 4 AND n = 4", "4\n");
}

/* More conjuncts than the planner's first allocation: each keeps its
 * "served by the key" mark when the list grows (a lost mark dropped a
 * filter, or kept a random one). */
Test(exec, many_conjuncts_all_filter)
{
    make_t();
    fill_t(1, 20);
    expect_rows("SELECT id FROM t WHERE n <> 1 AND n <> 2 AND n <> 3 AND n <> 4 AND n <> 5 AND "
                "n <> 6 AND n <> 7 AND n <> 8 AND id >= 2 AND id <= 19",
                "9\n10\n19\n");
}

Test(exec, prepared_point_select_runs_with_new_parameters)
{
    make_t();
    fill_t(1, 10);
    const char *q = "SELECT n, v FROM t WHERE id = $1";
    OK(prepare(q));
    cr_assert_eq(param_oids[0], SQL_T_INT4);
    for (int i = 1; i <= 10; i++) {
        char p[16], want[32];
        snprintf(p, sizeof(p), "%d", i);
        snprintf(want, sizeof(want), "%d|v%d\n", i % 10, i);
        OK(execute(q, false, 1, (const char *const[]){p}));
        cr_assert_str_eq(out, want);
        cr_assert_eq(affected, 1);
    }
    OK(execute(q, false, 1, (const char *const[]){NULL}));
    cr_assert_str_eq(out, "");
}

Test(exec, scans_cross_batch_boundaries)
{
    make_t();
    fill_t(1, 2500);
    RUN("SELECT id FROM t");
    cr_assert_eq(affected, 2500);
    RUN("SELECT id FROM t WHERE id > 1000 AND id <= 2001");
    cr_assert_eq(affected, 1001);
    expect_rows("SELECT id FROM t ORDER BY id DESC LIMIT 2", "2500\n2499\n");
    expect_rows("SELECT id FROM t LIMIT 3 OFFSET 1998", "1999\n2000\n2001\n");
    expect_rows("SELECT id FROM t WHERE n = 3 ORDER BY id DESC LIMIT 2 OFFSET 100", "1493\n1483\n");
    expect_rows("SELECT id FROM t WHERE id >= 2498", "2498\n2499\n2500\n");
    expect_rows("SELECT id FROM t WHERE id < 3 ORDER BY id DESC", "2\n1\n");
    expect_rows("SELECT id FROM t WHERE id > 3 AND id < 4", "");
    expect_rows("SELECT id FROM t LIMIT 0", "");
    expect_rows("SELECT id FROM t LIMIT NULL OFFSET 2499", "2500\n");
    /* the sort sees every row */
    expect_rows("SELECT id FROM t ORDER BY n DESC, id DESC LIMIT 2", "2499\n2489\n");
    RUN("DELETE FROM t WHERE id > 5");
    cr_assert_eq(affected, 2495);
}

Test(exec, order_by_nulls_and_names)
{
    static const col_spec cols[] = {{"k", SQL_T_INT4, true, NULL}, {"x", SQL_T_INT4, false, NULL}};
    make_table("o", cols, 2, (int[]){0}, asc1, 1, -1, NULL);
    RUN("INSERT INTO o VALUES (1, 2), (2, NULL), (3, 1), (4, NULL)");
    expect_rows("SELECT k FROM o ORDER BY x, k", "3\n1\n2\n4\n");
    expect_rows("SELECT k FROM o ORDER BY x DESC, k", "2\n4\n1\n3\n");
    expect_rows("SELECT k FROM o ORDER BY x NULLS FIRST, k DESC", "4\n2\n3\n1\n");
    expect_rows("SELECT k FROM o ORDER BY x DESC NULLS LAST, k", "1\n3\n2\n4\n");
    expect_rows("SELECT k AS y, x FROM o ORDER BY 2, y DESC", "3|1\n1|2\n4|NULL\n2|NULL\n");
    expect_rows("SELECT k * 10 AS x FROM o ORDER BY x DESC LIMIT 1", "40\n");
    expect_error("SELECT k FROM o ORDER BY 3", "42P10", "ORDER BY position 3 is not in select list",
                 NULL);
    cr_assert_eq(err.position, 26);
}

Test(exec, select_forms)
{
    make_t();
    fill_t(1, 3);
    expect_rows("SELECT 1 + 2, 'a'", "3|a\n");
    expect_rows("SELECT 1 WHERE false", "");
    expect_rows("SELECT * FROM t WHERE id = 2", "2|v2|2\n");
    expect_rows("SELECT t.*, id * 2 FROM t WHERE id = 3", "3|v3|3|6\n");
    expect_rows("SELECT x.v FROM t x WHERE x.id = 1", "v1\n");
    size_t n;
    OK(prepare("SELECT id AS a, v, n + 1 FROM t"));
    const sql_column_info *c = sql__plan_columns(plan, &n);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(c[0].name, "a");
    cr_assert_eq(c[0].attnum, 1);
    cr_assert_neq(c[0].table_oid, 0);
    cr_assert_str_eq(c[2].name, "?column?");
    cr_assert_eq(c[2].table_oid, 0);
    cr_assert_str_eq(sql__plan_tag(plan), "SELECT");
    cr_assert(sql__plan_returns_rows(plan));
    cr_assert(!sql__plan_writes(plan));
    expect_error("SELECT *", "42601", "SELECT * with no tables specified is not valid", NULL);
    expect_error("SELECT u.* FROM t", "42P01", "missing FROM-clause entry for table \"u\"", NULL);
    expect_error("SELECT 1 FROM nope", "42P01", "relation \"nope\" does not exist", NULL);
    cr_assert_eq(err.position, 15);
    expect_error("SELECT 1 FROM t LIMIT -1", "2201W", "LIMIT must not be negative", NULL);
    expect_error("SELECT 1 FROM t OFFSET -1", "2201X", "OFFSET must not be negative", NULL);
}

/* ---- writes ---------------------------------------------------------- */

Test(exec, insert_defaults_and_returning)
{
    make_t();
    expect_rows("INSERT INTO t (v, id) VALUES ('a', 1), ('b', 2) RETURNING id, n, v",
                "1|7|a\n2|7|b\n");
    cr_assert_eq(affected, 2);
    cr_assert_str_eq(sql__plan_tag(plan), "INSERT 0");
    expect_rows("INSERT INTO t VALUES (3, DEFAULT, DEFAULT) RETURNING *", "3|NULL|7\n");
    expect_rows("INSERT INTO t VALUES (4) RETURNING n", "7\n");
    RUN("INSERT INTO t VALUES ('5', 'e', '12')");
    expect_rows("SELECT * FROM t WHERE id >= 4", "4|NULL|7\n5|e|12\n");
    expect_error("INSERT INTO t (id, id) VALUES (1, 1)", "42701",
                 "column \"id\" specified more than once", NULL);
    expect_error("INSERT INTO t (id, zz) VALUES (1, 1)", "42703",
                 "column \"zz\" of relation \"t\" does not exist", NULL);
    expect_error("INSERT INTO t VALUES (1, 'x', 1, 2)", "42601",
                 "INSERT has more expressions than target columns", NULL);
    cr_assert_eq(err.position, 34);
    expect_error("INSERT INTO t (id, v) VALUES (1)", "42601",
                 "INSERT has more target columns than expressions", NULL);
}

Test(exec, constraint_violations)
{
    make_t();
    fill_t(1, 3);
    expect_error("INSERT INTO t VALUES (2, 'new', 1)", "23505",
                 "duplicate key value violates unique constraint \"t_pkey\"",
                 "Key (id)=(2) already exists.");
    expect_error("INSERT INTO t VALUES (9, 'v3', 1)", "23505",
                 "duplicate key value violates unique constraint \"t_v_key\"",
                 "Key (v)=(v3) already exists.");
    expect_error("INSERT INTO t VALUES (9, 'a', 1), (10, 'a', 1)", "23505",
                 "duplicate key value violates unique constraint \"t_v_key\"",
                 "Key (v)=(a) already exists.");
    expect_error("INSERT INTO t VALUES (NULL, 'z', 1)", "23502",
                 "null value in column \"id\" of relation \"t\" violates not-null constraint",
                 "Failing row contains (null, z, 1).");
    expect_error("INSERT INTO t VALUES (9, 'z', NULL)", "23502",
                 "null value in column \"n\" of relation \"t\" violates not-null constraint",
                 "Failing row contains (9, z, null).");
    expect_error("INSERT INTO t VALUES (9, 'z', -1)", "23514",
                 "new row for relation \"t\" violates check constraint \"t_check\"",
                 "Failing row contains (9, z, -1).");
    expect_error("UPDATE t SET n = -5 WHERE id = 1", "23514",
                 "new row for relation \"t\" violates check constraint \"t_check\"",
                 "Failing row contains (1, v1, -5).");
    expect_error("UPDATE t SET v = 'v1' WHERE id = 2", "23505",
                 "duplicate key value violates unique constraint \"t_v_key\"",
                 "Key (v)=(v1) already exists.");
    /* NULLs never collide in a unique index */
    RUN("INSERT INTO t VALUES (20, NULL, 1), (21, NULL, 1)");
    expect_rows("SELECT id FROM t WHERE v IS NULL", "20\n21\n");
    /* nothing of the failed statements was written */
    expect_rows("SELECT id, v, n FROM t", "1|v1|1\n2|v2|2\n3|v3|3\n20|NULL|1\n21|NULL|1\n");
}

Test(exec, update_and_delete)
{
    make_t();
    fill_t(1, 5);
    expect_rows("UPDATE t SET n = n + 100, v = upper(v) WHERE id >= 4 RETURNING id, v, n",
                "4|V4|104\n5|V5|105\n");
    cr_assert_eq(affected, 2);
    cr_assert_str_eq(sql__plan_tag(plan), "UPDATE");
    /* the old unique entry is gone, the new one is taken */
    RUN("INSERT INTO t VALUES (6, 'v4', 0)");
    expect_error("INSERT INTO t VALUES (7, 'V4', 0)", "23505",
                 "duplicate key value violates unique constraint \"t_v_key\"",
                 "Key (v)=(V4) already exists.");
    RUN("UPDATE t SET n = DEFAULT WHERE id = 1");
    expect_rows("SELECT n FROM t WHERE id = 1", "7\n");
    expect_error("UPDATE t SET n = 1, n = 2", "42601", "multiple assignments to same column \"n\"",
                 NULL);
    expect_error("UPDATE t SET zz = 1", "42703", "column \"zz\" of relation \"t\" does not exist",
                 NULL);
    expect_rows("DELETE FROM t WHERE id IN (2, 3) RETURNING v", "v2\nv3\n");
    cr_assert_str_eq(sql__plan_tag(plan), "DELETE");
    /* the deleted rows' unique entries are free again */
    RUN("INSERT INTO t VALUES (2, 'v2', 0)");
    RUN("DELETE FROM t");
    cr_assert_eq(affected, 5);
    expect_rows("SELECT id FROM t", "");
}

Test(exec, primary_key_update_moves_rows_once)
{
    make_t();
    fill_t(1, 1500);
    /* moved rows land ahead of the scan; each moves once */
    RUN("UPDATE t SET id = id + 10000");
    cr_assert_eq(affected, 1500);
    expect_rows("SELECT id, v FROM t WHERE id <= 10001 OR id >= 11500", "10001|v1\n11500|v1500\n");
    RUN("SELECT id FROM t");
    cr_assert_eq(affected, 1500);
    expect_rows("UPDATE t SET id = 1 WHERE id = 10001 RETURNING id, v", "1|v1\n");
    expect_error("UPDATE t SET id = 1 WHERE id = 10002", "23505",
                 "duplicate key value violates unique constraint \"t_pkey\"",
                 "Key (id)=(1) already exists.");
    expect_rows("SELECT v FROM t WHERE id = 1", "v1\n");
    /* the unique entry follows the row to its new key */
    RUN("DELETE FROM t WHERE id = 1");
    RUN("INSERT INTO t VALUES (1, 'v1', 0)");
}

Test(exec, descending_and_composite_keys)
{
    static const col_spec cols[] = {{"k", SQL_T_NUMERIC, true, NULL},
                                    {"x", SQL_T_TEXT, false, NULL}};
    make_table("d", cols, 2, (int[]){0}, desc1, 1, -1, NULL);
    RUN("INSERT INTO d VALUES (1.50, 'a'), (-2, 'b'), (10, 'c'), (3.0, 'd')");
    expect_rows("SELECT k FROM d", "10\n3.0\n1.50\n-2\n");
    expect_path("SELECT k FROM d ORDER BY k", "full scan (reverse) on d_pkey");
    expect_rows("SELECT k FROM d ORDER BY k", "-2\n1.50\n3.0\n10\n");
    expect_rows("SELECT x FROM d WHERE k > 1.5", "c\nd\n");
    expect_rows("SELECT x FROM d WHERE k >= 1.5 AND k < 10 ORDER BY k", "a\nd\n");
    expect_rows("SELECT k, x FROM d WHERE k = 1.5", "1.50|a\n");
    expect_error("INSERT INTO d VALUES (3, 'z')", "23505",
                 "duplicate key value violates unique constraint \"d_pkey\"",
                 "Key (k)=(3) already exists.");
}

Test(exec, commit_with_the_last_write)
{
    make_t();
    const char *q = "INSERT INTO t VALUES ($1, 'p', 1)";
    OK(prepare(q));
    OK(execute(q, true, 1, (const char *const[]){"1"}));
    cr_assert(committed);
    q = "UPDATE t SET n = n + 1 WHERE id = $1";
    OK(prepare(q));
    OK(execute(q, true, 1, (const char *const[]){"1"}));
    cr_assert(committed);
    cr_assert_eq(affected, 1);
    expect_rows("SELECT n FROM t WHERE id = 1", "2\n");
    /* a unique violation found by the commit's CPut */
    q = "INSERT INTO t VALUES (1, 'q', 1)";
    OK(prepare(q));
    cr_assert_eq(execute(q, true, 0, NULL), -1);
    cr_assert_str_eq(sql_sqlstate_code(err.state), "23505");
    cr_assert_str_eq(err.detail, "Key (id)=(1) already exists.");
    cr_assert(!committed);
}

Test(exec, stale_after_ddl)
{
    make_t();
    OK(prepare("SELECT v FROM t"));
    cr_assert(!sql__plan_stale(plan, cat));
    const sql_table_desc *d;
    OK(sql_catalog_table(cat, NULL, db, "t", &d, &err, A));
    sql_table_desc copy;
    OK(sql_table_copy(d, A, &copy, &err));
    sql_table_release(d);
    sql_txn *t = cf_begin();
    OK(sql_catalog_put_table(cat, t, &copy, &err, A));
    cf_commit(t);
    cr_assert(sql__plan_stale(plan, cat));
    sql__plan_free(plan);
    plan = NULL;
}

Test(exec, cancel_stops_a_scan_between_batches)
{
    make_t();
    fill_t(1, 2500);
    cancel_after = 10;
    cr_assert_eq(run("SELECT id FROM t"), -1);
    cancel_after = 0;
    cr_assert_str_eq(sql_sqlstate_code(err.state), "57014");
    cr_assert_str_eq(err.message, "canceling statement due to user request");
    /* the batch in hand was finished, no further batch was read */
    cr_assert_geq(nrows, 10);
    cr_assert_lt(nrows, 2500);
}

Test(exec, rewriting_a_key_of_the_same_batch)
{
    make_t();
    fill_t(1, 3);
    /* row 2 moves onto the key row 1 left in the same statement */
    expect_rows("UPDATE t SET id = id - 1 WHERE id IN (1, 2) RETURNING id, v", "0|v1\n1|v2\n");
    expect_rows("SELECT id, v FROM t", "0|v1\n1|v2\n3|v3\n");
    expect_error("INSERT INTO t VALUES (5, 'a', 1), (5, 'b', 1)", "23505",
                 "duplicate key value violates unique constraint \"t_pkey\"",
                 "Key (id)=(5) already exists.");
    /* a unique value handed from one row to the next */
    RUN("UPDATE t SET v = CASE WHEN id = 0 THEN 'w' ELSE 'v1' END WHERE id IN (0, 1)");
    expect_rows("SELECT id, v FROM t", "0|w\n1|v1\n3|v3\n");
}

Test(exec, widened_integer_keys)
{
    static const col_spec cols[] = {{"k", SQL_T_INT2, true, NULL}, {"x", SQL_T_TEXT, false, NULL}};
    make_table("s", cols, 2, (int[]){0}, asc1, 1, -1, NULL);
    RUN("INSERT INTO s VALUES (-3, 'a'), (1, 'b'), (2, 'c'), (300, 'd')");
    /* the literals are integers: k is compared as an integer, yet keyed */
    expect_path("SELECT x FROM s WHERE k = 1", "point lookup on s_pkey");
    expect_path("SELECT x FROM s WHERE k IN (1, 2)", "point lookups on s_pkey");
    expect_path("SELECT x FROM s WHERE k > 1", "range scan on s_pkey");
    expect_path("SELECT x FROM s WHERE k = 1.0", "full scan on s_pkey, filter");
    expect_rows("SELECT x FROM s WHERE k = 1", "b\n");
    expect_rows("SELECT x FROM s WHERE k = 100000", "");
    expect_rows("SELECT x FROM s WHERE k IN (2, 100000, -100000, 300)", "c\nd\n");
    expect_rows("SELECT x FROM s WHERE k > 40000", "");
    expect_rows("SELECT x FROM s WHERE k < 40000 AND k > -40000", "a\nb\nc\nd\n");
    expect_rows("SELECT x FROM s WHERE k >= -40000 AND k < 2", "a\nb\n");
    expect_rows("SELECT x FROM s WHERE k <= -40000", "");
    expect_rows("SELECT x FROM s WHERE k BETWEEN 2 AND 3000000000 ORDER BY k DESC", "d\nc\n");
}

Test(exec, type_mismatches_name_their_target)
{
    make_t();
    expect_error("INSERT INTO t VALUES ('9'::text, 'q', 1)", "42804",
                 "column \"id\" is of type integer but expression is of type text", NULL);
    cr_assert_eq(err.position, 23);
    cr_assert_str_eq(err.hint, "You will need to rewrite or cast the expression.");
    expect_error("UPDATE t SET n = 'x'::text", "42804",
                 "column \"n\" is of type bigint but expression is of type text", NULL);
    expect_error("SELECT 1 FROM t WHERE 1", "42804",
                 "argument of WHERE must be type boolean, not type integer", NULL);
    cr_assert_eq(err.position, 23);
}

/* ---- against a model --------------------------------------------------- */

#define MODEL_KEYS 64

/* model[k] = v + 1 when row k exists (v >= 0), 0 when it does not */
static int model[MODEL_KEYS];

static const char *model_ops[] = {"=", "<", "<=", ">", ">="};

static bool model_match(int k, int op, int c)
{
    switch (op) {
    case 0:
        return k == c;
    case 1:
        return k < c;
    case 2:
        return k <= c;
    case 3:
        return k > c;
    default:
        return k >= c;
    }
}

/* The rows of `table` matching `k op c` in the model, in key order
 * (descending when `desc`), as "k|v" lines, at most `limit`. */
static const char *model_rows(int op, int c, bool desc, int limit)
{
    static char buf[4096];
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < MODEL_KEYS && limit > 0; i++) {
        int k = desc ? MODEL_KEYS - 1 - i : i;
        if (model[k] && model_match(k, op, c)) {
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%d|%d\n", k, model[k] - 1);
            limit--;
        }
    }
    return buf;
}

/* Random single-key writes and predicate reads, writes and deletes on an
 * ascending and a descending key, each checked against the model (an
 * UPDATE returns its rows in key order). */
static void model_run(const char *table, const sql_key_dir *dir)
{
    static const col_spec cols[] = {{"k", SQL_T_INT4, true, NULL}, {"v", SQL_T_INT4, false, NULL}};
    make_table(table, cols, 2, (int[]){0}, dir, 1, -1, NULL);
    memset(model, 0, sizeof(model));
    srand(7);
    char q[256];
    for (int step = 0; step < 300; step++) {
        int k = rand() % MODEL_KEYS, v = rand() % 1000, op = rand() % 5, what = rand() % 4;
        bool desc = rand() % 2;
        if (what == 0) {
            snprintf(q, sizeof(q), "INSERT INTO %s VALUES (%d, %d)", table, k, v);
            cr_assert_eq(run(q), model[k] ? -1 : 0, "%s: %s", q, err.message);
            if (!model[k])
                model[k] = v + 1;
        } else if (what == 1) {
            snprintf(q, sizeof(q), "UPDATE %s SET v = %d WHERE k %s %d RETURNING k, v", table, v,
                     model_ops[op], k);
            RUN(q);
            for (int i = 0; i < MODEL_KEYS; i++)
                if (model[i] && model_match(i, op, k))
                    model[i] = v + 1;
            const char *want = model_rows(op, k, dir[0] == SQL_KEY_DESC, MODEL_KEYS);
            cr_assert_str_eq(out, want, "%s\ngot:\n%swant:\n%s", q, out, want);
        } else if (what == 2 && rand() % 3 == 0) {
            snprintf(q, sizeof(q), "DELETE FROM %s WHERE k %s %d", table, model_ops[op], k);
            RUN(q);
            for (int i = 0; i < MODEL_KEYS; i++)
                if (model_match(i, op, k))
                    model[i] = 0;
        } else {
            int limit = 1 + rand() % 10;
            snprintf(q, sizeof(q), "SELECT k, v FROM %s WHERE %d %s k ORDER BY k %s LIMIT %d",
                     table, k,
                     model_ops[op == 0  ? 0
                               : op > 2 ? op - 2
                                        : op + 2],
                     desc ? "DESC" : "ASC", limit);
            expect_rows(q, model_rows(op, k, desc, limit));
        }
    }
}

Test(exec, matches_a_model_on_ascending_keys)
{
    model_run("ma", asc1);
}

Test(exec, matches_a_model_on_descending_keys)
{
    model_run("md", desc1);
}

Test(exec, unique_index_lookups)
{
    make_t();
    fill_t(1, 30);
    expect_path("SELECT id FROM t WHERE v = 'v7'", "point lookup on t_v_key");
    expect_path("SELECT id FROM t WHERE v = $1 AND n > 3", "point lookup on t_v_key, filter");
    /* every column of a unique index by = beats a pk range */
    expect_path("SELECT id FROM t WHERE v = 'v7' AND id > 3", "point lookup on t_v_key, filter");
    expect_rows("SELECT id, n FROM t WHERE v = 'v17'", "17|7\n");
    expect_rows("SELECT id FROM t WHERE v = 'v17' AND n = 1", "");
    expect_rows("SELECT id FROM t WHERE v = 'nope'", "");
    expect_rows("SELECT id FROM t WHERE v = NULL", "");
    expect_rows("UPDATE t SET v = 'w' WHERE v = 'v3' RETURNING id", "3\n");
    expect_rows("SELECT id FROM t WHERE v = 'w'", "3\n");
    expect_rows("SELECT id FROM t WHERE v = 'v3'", "");
    expect_rows("DELETE FROM t WHERE v = 'w' RETURNING id, n", "3|3\n");
    expect_rows("SELECT id FROM t WHERE id = 3", "");
}

/* ---- aggregation, GROUP BY, DISTINCT --------------------------------- */

Test(exec, aggregates_without_group_by_give_one_row)
{
    make_t();
    expect_rows("SELECT count(*), count(v), sum(n), avg(n), min(v), max(id), bool_and(n > 0), "
                "string_agg(v, ',') FROM t",
                "0|0|NULL|NULL|NULL|NULL|NULL|NULL\n");
    expect_rows("SELECT count(*) FROM t GROUP BY n", "");
    fill_t(1, 2500);
    /* n = id % 10: 250 rows each of 0..9 */
    expect_rows("SELECT count(*), sum(id), sum(n), avg(n), min(v), max(v), min(id) FROM t",
                "2500|3126250|11250|4.5000000000000000|v1|v999|1\n");
    expect_rows("SELECT bool_and(n >= 0), bool_or(n > 8), count(*) FROM t WHERE id < 4", "t|f|3\n");
    expect_rows("SELECT string_agg(v, '-') FROM t WHERE id <= 3", "v1-v2-v3\n");
    expect_rows("SELECT max(n) * 2, count(*) + 1 FROM t WHERE id > 2495", "18|6\n");
    expect_rows("SELECT count(*)", "1\n");
    expect_rows("SELECT sum(1) WHERE false", "NULL\n");
}

Test(exec, count_star_decodes_no_column)
{
    make_t();
    cr_assert_eq(prepare("SELECT count(*) FROM t"), 0, "%s", err.message);
    cr_assert_eq(plan->proj.nvals, 0);
    cr_assert(!plan->proj.decode_key);
    cr_assert_eq(prepare("SELECT sum(n) FROM t"), 0, "%s", err.message);
    cr_assert_eq(plan->proj.nvals, 1);
    expect_path("SELECT n, count(*) FROM t GROUP BY n ORDER BY n",
                "full scan on t_pkey, hash aggregate, sort");
    expect_path("SELECT DISTINCT n FROM t", "full scan on t_pkey, hash distinct");
    expect_path("SELECT DISTINCT ON (n) n, id FROM t ORDER BY n, id",
                "full scan on t_pkey, sort, distinct on");
}

Test(exec, group_by_across_scan_batches)
{
    make_t();
    fill_t(1, 2500);
    expect_rows("SELECT n, count(*), min(id), max(id) FROM t GROUP BY n HAVING n < 3 ORDER BY n",
                "0|250|10|2500\n1|250|1|2491\n2|250|2|2492\n");
    expect_rows("SELECT n % 3 AS m, count(*) FROM t GROUP BY 1 ORDER BY count(*) DESC, m",
                "0|1000\n1|750\n2|750\n");
    expect_rows("SELECT (n + 1) * 2, sum(id) FROM t WHERE id <= 20 GROUP BY n + 1 ORDER BY 1 "
                "LIMIT 2",
                "2|30\n4|12\n");
    /* the pk determines the other columns */
    expect_rows("SELECT id, v, n FROM t WHERE id <= 2 GROUP BY id ORDER BY id", "1|v1|1\n2|v2|2\n");
    expect_rows("SELECT count(DISTINCT n), sum(DISTINCT n), count(n) FROM t", "10|45|2500\n");
    expect_rows("SELECT n, count(DISTINCT id % 2) FROM t WHERE n < 2 GROUP BY n ORDER BY n",
                "0|1\n1|1\n");
}

/* A grouped plan is immutable: each execution starts from empty groups
 * and takes its own parameter values. */
Test(exec, prepared_aggregation_runs_with_new_parameters)
{
    make_t();
    fill_t(1, 30);
    const char *q = "SELECT n, count(*), sum(id + $2) FROM t WHERE id <= 30 GROUP BY n "
                    "HAVING count(*) > $1 OR n = $2 ORDER BY n LIMIT 2";
    OK(prepare(q));
    cr_assert_eq(param_oids[0], SQL_T_INT8);
    cr_assert_eq(param_oids[1], SQL_T_INT4);
    OK(execute(q, false, 2, (const char *const[]){"2", "0"}));
    cr_assert_str_eq(out, "0|3|60\n1|3|33\n");
    OK(execute(q, false, 2, (const char *const[]){"3", "4"}));
    cr_assert_str_eq(out, "4|3|54\n");
    OK(execute(q, false, 2, (const char *const[]){NULL, "1"}));
    cr_assert_str_eq(out, "1|3|36\n");
}

Test(exec, distinct_and_distinct_on)
{
    make_t();
    fill_t(1, 2500);
    RUN("SELECT DISTINCT n FROM t");
    cr_assert_eq(affected, 10);
    expect_rows("SELECT DISTINCT n % 3 FROM t ORDER BY 1", "0\n1\n2\n");
    expect_rows("SELECT DISTINCT n FROM t ORDER BY n DESC LIMIT 2 OFFSET 1", "8\n7\n");
    expect_rows("SELECT DISTINCT ON (n) n, id FROM t WHERE n < 3 ORDER BY n, id DESC",
                "0|2500\n1|2491\n2|2492\n");
    expect_rows("SELECT DISTINCT ON (n) n, id FROM t WHERE n < 2 ORDER BY n, id", "0|10\n1|1\n");
    /* DISTINCT ON without ORDER BY sorts by its expressions */
    expect_rows("SELECT DISTINCT ON (n % 2) n % 2 FROM t", "0\n1\n");
}

Test(exec, grouping_errors_are_postgres_errors)
{
    make_t();
    expect_error("SELECT v FROM t GROUP BY n", "42803",
                 "column \"t.v\" must appear in the GROUP BY clause or be used in an aggregate "
                 "function",
                 NULL);
    cr_assert_eq(err.position, 8);
    expect_error("SELECT x.id FROM t x GROUP BY x.n", "42803",
                 "column \"x.id\" must appear in the GROUP BY clause or be used in an aggregate "
                 "function",
                 NULL);
    expect_error("SELECT n FROM t GROUP BY n HAVING v = 'a'", "42803",
                 "column \"t.v\" must appear in the GROUP BY clause or be used in an aggregate "
                 "function",
                 NULL);
    cr_assert_eq(err.position, 35);
    expect_error("SELECT count(*) FROM t WHERE count(*) > 1", "42803",
                 "aggregate functions are not allowed in WHERE", NULL);
    cr_assert_eq(err.position, 30);
    expect_error("SELECT sum(count(*)) FROM t", "42803",
                 "aggregate function calls cannot be nested", NULL);
    cr_assert_eq(err.position, 12);
    expect_error("SELECT count(*) FROM t GROUP BY 1", "42803",
                 "aggregate functions are not allowed in GROUP BY", NULL);
    expect_error("SELECT n FROM t GROUP BY 2", "42P10", "GROUP BY position 2 is not in select list",
                 NULL);
    expect_error("SELECT sum(v) FROM t", "42883", "function sum(text) does not exist", NULL);
    expect_error("SELECT DISTINCT n FROM t ORDER BY id", "42P10",
                 "for SELECT DISTINCT, ORDER BY expressions must appear in select list", NULL);
    expect_error("SELECT DISTINCT ON (n) n, id FROM t ORDER BY id, n", "42P10",
                 "SELECT DISTINCT ON expressions must match initial ORDER BY expressions", NULL);
    cr_assert_eq(err.position, 21);
}

Test(exec, memory_budget_stops_an_aggregation)
{
    make_t();
    fill_t(1, 100);
    /* a 1 MB delimiter per row: the state passes 64 MB before row 100 */
    expect_error("SELECT length(string_agg(v, repeat('x', 1000000))) FROM t", "53200",
                 "out of memory", NULL);
    cr_assert_not_null(err.detail);
    cr_assert_not_null(strstr(err.detail, "hash aggregation"), "%s", err.detail);
    expect_rows("SELECT length(string_agg(v, repeat('x', 100000))) FROM t WHERE id <= 10",
                "900021\n");
    /* 100 values of 700 kB: a DISTINCT set and the sort fail alike */
    expect_error("SELECT count(DISTINCT v || repeat('x', 700000)) FROM t", "53200", "out of memory",
                 NULL);
    cr_assert_not_null(strstr(err.detail, "DISTINCT"), "%s", err.detail);
    expect_error("SELECT id FROM t ORDER BY v || repeat('x', 700000) LIMIT 1", "53200",
                 "out of memory", NULL);
    cr_assert_not_null(strstr(err.detail, "sort"), "%s", err.detail);
}

/* ---- subqueries and INSERT ... SELECT -------------------------------- */

Test(exec, subquery_semantics)
{
    make_t();
    fill_t(1, 4);
    RUN("UPDATE t SET v = NULL WHERE id = 3");
    expect_rows("SELECT id FROM t WHERE v IN (SELECT v FROM t WHERE id > 1)", "2\n4\n");
    /* a NULL in the list: NOT IN is NULL, never TRUE */
    expect_rows("SELECT id FROM t WHERE v NOT IN (SELECT v FROM t)", "");
    expect_rows("SELECT id FROM t WHERE v NOT IN (SELECT v FROM t WHERE id = 1)", "2\n4\n");
    /* no rows: IN is FALSE, NOT IN TRUE, also for NULL; a scalar is NULL */
    expect_rows("SELECT NULL IN (SELECT id FROM t WHERE false), NULL NOT IN (SELECT id FROM t "
                "WHERE false), (SELECT id FROM t WHERE false)",
                "f|t|NULL\n");
    expect_rows("SELECT id FROM t WHERE EXISTS (SELECT 1 FROM t x WHERE x.id = t.id + 1)",
                "1\n2\n3\n");
    /* int8 = int4 compares in int8: the test runs per value */
    expect_rows("SELECT id FROM t WHERE n IN (SELECT id FROM t WHERE id > 2)", "3\n4\n");
    expect_rows("SELECT id FROM t WHERE n > ALL (SELECT n FROM t WHERE id < 3)", "3\n4\n");
    expect_rows("SELECT id FROM t WHERE n < ANY (SELECT n FROM t WHERE id > 2)", "1\n2\n3\n");
    expect_rows("SELECT id, (SELECT count(*) FROM t AS x WHERE x.n < t.n) FROM t",
                "1|0\n2|1\n3|2\n4|3\n");
    /* two levels out, and a subquery in FROM inside a correlated one */
    expect_rows("SELECT (SELECT (SELECT t.id * 10 + x.id FROM t y WHERE y.id = 1) FROM t x WHERE "
                "x.id = 2) FROM t WHERE id < 3",
                "12\n22\n");
    expect_rows("SELECT id, (SELECT count(*) FROM (SELECT id FROM t x WHERE x.id < t.id) s) FROM t",
                "1|0\n2|1\n3|2\n4|3\n");
    /* a correlated reference is stable inside its subquery: keys use it */
    expect_path("SELECT (SELECT v FROM t x WHERE x.id = t.id) FROM t", "full scan on t_pkey");
    cr_assert_str_eq(sql__plan_explain(plan->subs[0]), "point lookup on t_pkey");
}

Test(exec, correlated_subqueries_over_groups)
{
    make_t();
    fill_t(1, 25);
    expect_rows(
        "SELECT n, (SELECT count(*) FROM t x WHERE x.n < t.n) FROM t WHERE n < 3 GROUP BY n "
        "ORDER BY n",
        "0|0\n1|2\n2|5\n");
    expect_rows(
        "SELECT n, count(*) FROM t GROUP BY n HAVING EXISTS (SELECT 1 FROM t x WHERE x.id = "
        "t.n + 20) ORDER BY (SELECT max(x.id) FROM t x WHERE x.n = t.n) DESC",
        "5|3\n4|3\n3|3\n2|3\n1|3\n0|2\n");
    /* the pk is grouped: any column may be read, as in the select list */
    expect_rows("SELECT id, (SELECT t.v) FROM t WHERE id < 3 GROUP BY id ORDER BY id",
                "1|v1\n2|v2\n");
}

Test(exec, in_subquery_over_many_rows)
{
    make_t();
    fill_t(1, 1500);
    expect_rows("SELECT count(*) FROM t WHERE id IN (SELECT id * 2 FROM t)", "750\n");
    expect_rows("SELECT count(*) FROM t WHERE id NOT IN (SELECT id * 2 FROM t)", "750\n");
    expect_rows("SELECT count(*) FROM t WHERE id NOT IN (SELECT CASE WHEN id = 7 THEN NULL ELSE "
                "id * 2 END FROM t)",
                "0\n");
}

Test(exec, subquery_errors)
{
    make_t();
    fill_t(1, 3);
    expect_error("SELECT (SELECT id FROM t)", "21000",
                 "more than one row returned by a subquery used as an expression", NULL);
    expect_error("SELECT id FROM t WHERE id = (SELECT id FROM t x WHERE x.id >= t.id)", "21000",
                 "more than one row returned by a subquery used as an expression", NULL);
    expect_error("SELECT (SELECT id, v FROM t)", "42601", "subquery must return only one column",
                 NULL);
    cr_assert_eq(err.position, 8);
    expect_error("SELECT 1 IN (SELECT id, v FROM t)", "42601", "subquery has too many columns",
                 NULL);
    expect_error("SELECT id FROM t WHERE v IN (SELECT id FROM t)", "42883",
                 "operator does not exist: text = integer", NULL);
    expect_error("SELECT (SELECT zz FROM t)", "42703", "column \"zz\" does not exist", NULL);
    expect_error("SELECT (SELECT x.id FROM t)", "42P01",
                 "missing FROM-clause entry for table \"x\"", NULL);
    expect_error("SELECT n, (SELECT count(*) FROM t x WHERE x.id = t.id) FROM t GROUP BY n",
                 "42803", "subquery uses ungrouped column \"t.id\" from outer query", NULL);
    cr_assert_eq(err.position, 50);
    expect_error("SELECT (SELECT max(t.n) FROM t x) FROM t", "0A000",
                 "aggregate functions over columns of an enclosing query are not supported yet",
                 NULL);
    expect_error("SELECT * FROM (SELECT 1) AS s (a, b)", "42P10",
                 "table \"s\" has 1 columns available but 2 columns specified", NULL);
    expect_error("WITH w AS (SELECT 1) SELECT * FROM w AS x (a, b)", "0A000",
                 "column alias list is not supported yet", NULL);
}

Test(exec, from_subqueries_and_with)
{
    make_t();
    fill_t(1, 5);
    expect_rows("SELECT * FROM (SELECT id, n * 2 AS m FROM t WHERE id > 1) AS s WHERE m > 6",
                "4|8\n5|10\n");
    expect_rows("SELECT s.k, count(*) FROM (SELECT n % 2 AS k FROM t) s GROUP BY s.k ORDER BY 1",
                "0|2\n1|3\n");
    expect_rows("SELECT q FROM (SELECT id FROM t ORDER BY id DESC LIMIT 2) AS s (q) ORDER BY q",
                "4\n5\n");
    expect_rows("WITH w AS (SELECT id FROM t WHERE id < 3), c (k) AS (SELECT count(*) FROM w) "
                "SELECT k FROM c",
                "2\n");
    expect_rows("WITH t AS (SELECT 42 AS id) SELECT id FROM t", "42\n");
    /* a WITH query read twice is computed once */
    expect_rows("WITH r AS (SELECT random() AS x) SELECT (SELECT x FROM r) = (SELECT x FROM r)",
                "t\n");
    expect_rows("WITH w AS (SELECT id FROM t WHERE id > 2) SELECT count(*), (SELECT max(id) FROM "
                "w) FROM w",
                "3|5\n");
    expect_rows("SELECT id FROM t WHERE id IN (WITH q AS (SELECT 2 AS z) SELECT z FROM q)", "2\n");
    expect_path("SELECT * FROM (SELECT id FROM t) s", "subquery scan");
    /* a WITH query sees only the ones before it */
    expect_error("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", "42P01",
                 "relation \"b\" does not exist",
                 "There is a WITH item named \"b\", but it cannot be referenced from this part "
                 "of the query.");
    cr_assert_str_eq(
        err.hint, "Use WITH RECURSIVE, or re-order the WITH items to remove forward references.");
}

Test(exec, insert_select_reads_before_writing)
{
    make_t();
    fill_t(1, 1500);
    /* more rows than a write batch: the source never sees new rows */
    RUN("INSERT INTO t SELECT id + 2000, v || 'b', n FROM t");
    cr_assert_eq(affected, 1500);
    expect_rows("SELECT count(*), max(id) FROM t", "3000|3500\n");
    expect_rows(
        "INSERT INTO t (v, id) SELECT 'w' || id, id + 9000 FROM t WHERE id <= 2 RETURNING *",
        "9001|w1|7\n9002|w2|7\n");
    /* literals of unknown type take the target columns' types */
    expect_rows("INSERT INTO t SELECT '9003', 'w3', '4' RETURNING id + 1, n * 2", "9004|8\n");
    expect_error("INSERT INTO t (id) SELECT 'x'", "22P02",
                 "invalid input syntax for type integer: \"x\"", NULL);
    expect_error("INSERT INTO t SELECT id, v, n, n FROM t", "42601",
                 "INSERT has more expressions than target columns", NULL);
    cr_assert_eq(err.position, 32);
    expect_error("INSERT INTO t (id, v) SELECT id FROM t", "42601",
                 "INSERT has more target columns than expressions", NULL);
    expect_error("INSERT INTO t (id) SELECT v FROM t", "42804",
                 "column \"id\" is of type integer but expression is of type text", NULL);
    expect_error("INSERT INTO t SELECT * FROM t WHERE id = 1", "23505",
                 "duplicate key value violates unique constraint \"t_pkey\"",
                 "Key (id)=(1) already exists.");
}

Test(exec, writes_with_subqueries_see_the_old_rows)
{
    make_t();
    fill_t(1, 1500);
    RUN("UPDATE t SET n = coalesce((SELECT x.n FROM t x WHERE x.id = t.id - 1), 0) + 1");
    cr_assert_eq(affected, 1500);
    expect_rows("SELECT count(*) FROM t WHERE n = (id - 1) % 10 + 1 OR id = 1", "1500\n");
    RUN("DELETE FROM t WHERE EXISTS (SELECT 1 FROM t x WHERE x.id = t.id + 1)");
    cr_assert_eq(affected, 1499);
    expect_rows("SELECT id FROM t", "1500\n");
}

Test(exec, memory_budget_stops_a_subquery)
{
    make_t();
    fill_t(1, 100);
    /* 100 kept values of 700 kB pass 64 MB */
    expect_error("SELECT count(*) FROM t WHERE v IN (SELECT v || repeat('x', 700000) FROM t)",
                 "53200", "out of memory", NULL);
    cr_assert_not_null(strstr(err.detail, "subquery"), "%s", err.detail);
    expect_error("INSERT INTO t SELECT id + 100, v || repeat('x', 700000), n FROM t", "53200",
                 "out of memory", NULL);
    cr_assert_not_null(strstr(err.detail, "INSERT ... SELECT"), "%s", err.detail);
}
