/*
 * catalog_test.c - the catalog (sql/catalog.h) and sql_txn (sql/txn.h)
 * over a real store in a temp dir: bootstrap, databases, tables,
 * sequences and roles, descriptor round trips (expression trees of every
 * kind), the cache and its invalidation, transactional visibility of DDL,
 * reopening, and corrupt bytes.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "catalog_fixture.h"
#include "sql/catalog_int.h"

TestSuite(catalog, .init = cf_setup, .fini = cf_teardown);

/* ---- helpers ------------------------------------------------------------- */

static uint32_t db_id(const char *name)
{
    sql_database_desc d;
    OK(sql_catalog_database(cat, NULL, name, &d, &err, A));
    return d.id;
}

static const uint32_t pk_cols[] = {1};
static const uint32_t uniq_cols[] = {2, 1};
static const sql_key_dir asc1[] = {SQL_KEY_ASC};
static const sql_key_dir dirs2[] = {SQL_KEY_DESC, SQL_KEY_ASC};

/* A table (id bigint primary key, v text unique) with a fresh id. */
static sql_table_desc table_desc(uint32_t db, const char *name)
{
    sql_col_desc *cols = kv_arena_alloc(A, 2 * sizeof(*cols));
    cols[0] = (sql_col_desc){.id = 1, .name = "id", .type = {SQL_T_INT8, -1}, .not_null = true};
    cols[1] = (sql_col_desc){.id = 2, .name = "v", .type = {SQL_T_VARCHAR, 14}};
    sql_index_desc *idx = kv_arena_alloc(A, sizeof(*idx));
    *idx = (sql_index_desc){.id = 2,
                            .name = "t_v_key",
                            .unique = true,
                            .ncols = 2,
                            .col_ids = uniq_cols,
                            .dirs = dirs2};
    sql_table_desc d = {.db_id = db,
                        .name = name,
                        .ncols = 2,
                        .cols = cols,
                        .next_col_id = 3,
                        .primary = {.id = SQL_PRIMARY_INDEX_ID,
                                    .name = "t_pkey",
                                    .unique = true,
                                    .ncols = 1,
                                    .col_ids = pk_cols,
                                    .dirs = asc1},
                        .nindexes = 1,
                        .indexes = idx,
                        .next_index_id = 3};
    OK(sql_catalog_new_id(cat, &d.id, &err, A));
    return d;
}

static void create_table(sql_txn *t, const sql_table_desc *d)
{
    OK(sql_catalog_create_table(cat, t, d, &err, A));
}

static int lookup(sql_txn *t, uint32_t db, const char *name, const sql_table_desc **out)
{
    int rc = sql_catalog_table(cat, t, db, name, out, &err, A);
    cr_assert_geq(rc, 0, "lookup %s: %s", name, err.message);
    return rc;
}

/* A raw non-transactional put or get of a key built with keyenc. */
static void raw_put(const sql_keybuf *k, const void *val, size_t len)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    kv_req q = {.method = KV_PUT, .span = {k->p, k->len, NULL, 0}};
    q.u.put.value = val, q.u.put.value_len = len;
    cr_assert_eq(kv_request_add(&req, &q), 0);
    cr_assert_eq(st_send(store, &req, &resp), 0);
    kv_response_free(&resp);
}

static bool raw_exists(const sql_keybuf *k)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    kv_req q = {.method = KV_GET, .span = {k->p, k->len, NULL, 0}};
    cr_assert_eq(kv_request_add(&req, &q), 0);
    cr_assert_eq(st_send(store, &req, &resp), 0);
    bool found = resp.resps[0].found;
    kv_response_free(&resp);
    return found;
}

/* The key of a row of index `index` of table `table` with int8 key `v`. */
static sql_keybuf row_key(uint32_t table, uint32_t index, int64_t v)
{
    sql_keybuf b;
    sql_keybuf_init(&b, A);
    sql_datum d = {.v.i = v};
    OK(sql_key_put_prefix(&b, table, index, &err));
    OK(sql_key_put(&b, (sql_type){SQL_T_INT8, -1}, SQL_KEY_ASC, false, &d, &err));
    return b;
}

static sql_keybuf desc_key(uint32_t id)
{
    sql_keybuf b;
    sql_keybuf_init(&b, A);
    sql_datum d = {.v.i = id};
    OK(sql_key_put_prefix(&b, SQL__SYS_DESCRIPTORS, SQL_PRIMARY_INDEX_ID, &err));
    OK(sql_key_put(&b, (sql_type){SQL_T_INT8, -1}, SQL_KEY_ASC, false, &d, &err));
    return b;
}

static void str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        cr_assert_eq(a, b, "%s vs %s", a ? a : "NULL", b ? b : "NULL");
    else
        cr_assert_str_eq(a, b);
}

/* Every field but the location, which descriptors do not keep. */
static void expr_eq(const sql_expr *a, const sql_expr *b)
{
    if (a == NULL || b == NULL) {
        cr_assert_eq(a, b);
        return;
    }
    cr_assert_eq(a->kind, b->kind);
    cr_assert_eq(b->location, -1);
    cr_assert_eq(a->negated, b->negated);
    str_eq(a->schema, b->schema), str_eq(a->table, b->table), str_eq(a->column, b->column);
    cr_assert_eq(a->const_kind, b->const_kind);
    str_eq(a->text, b->text), str_eq(a->name, b->name);
    cr_assert_eq(a->param, b->param);
    expr_eq(a->left, b->left), expr_eq(a->right, b->right), expr_eq(a->arg, b->arg);
    cr_assert_eq(a->nargs, b->nargs);
    cr_assert_eq(a->agg_star, b->agg_star);
    cr_assert_eq(a->agg_distinct, b->agg_distinct);
    cr_assert_eq(a->type.oid, b->type.oid);
    cr_assert_eq(a->type.typmod, b->type.typmod);
    for (int i = 0; i < a->nargs; i++) {
        if (a->kind == SQL_EXPR_CASE)
            expr_eq(a->whens[i], b->whens[i]), expr_eq(a->thens[i], b->thens[i]);
        else
            expr_eq(a->args[i], b->args[i]);
    }
    expr_eq(a->els, b->els);
}

static void index_eq(const sql_index_desc *a, const sql_index_desc *b)
{
    cr_assert_eq(a->id, b->id);
    str_eq(a->name, b->name);
    cr_assert_eq(a->unique, b->unique);
    cr_assert_eq(a->standalone, b->standalone);
    cr_assert_eq(a->ncols, b->ncols);
    for (uint32_t i = 0; i < a->ncols; i++) {
        cr_assert_eq(a->col_ids[i], b->col_ids[i]);
        cr_assert_eq(a->dirs[i], b->dirs[i]);
    }
}

/* Equal except the version, which the catalog owns. */
static void table_eq(const sql_table_desc *a, const sql_table_desc *b)
{
    cr_assert_eq(a->id, b->id);
    cr_assert_eq(a->db_id, b->db_id);
    str_eq(a->name, b->name);
    cr_assert_eq(a->ncols, b->ncols);
    for (uint32_t i = 0; i < a->ncols; i++) {
        const sql_col_desc *x = &a->cols[i], *y = &b->cols[i];
        cr_assert_eq(x->id, y->id);
        str_eq(x->name, y->name);
        cr_assert_eq(x->type.oid, y->type.oid);
        cr_assert_eq(x->type.typmod, y->type.typmod);
        cr_assert_eq(x->not_null, y->not_null);
        cr_assert_eq(x->hidden, y->hidden);
        expr_eq(x->default_expr, y->default_expr);
    }
    cr_assert_eq(a->next_col_id, b->next_col_id);
    index_eq(&a->primary, &b->primary);
    cr_assert_eq(a->nindexes, b->nindexes);
    for (uint32_t i = 0; i < a->nindexes; i++)
        index_eq(&a->indexes[i], &b->indexes[i]);
    cr_assert_eq(a->next_index_id, b->next_index_id);
    cr_assert_eq(a->nchecks, b->nchecks);
    for (uint32_t i = 0; i < a->nchecks; i++) {
        str_eq(a->checks[i].name, b->checks[i].name);
        expr_eq(a->checks[i].expr, b->checks[i].expr);
    }
    cr_assert_eq(a->nsequences, b->nsequences);
    for (uint32_t i = 0; i < a->nsequences; i++)
        cr_assert_eq(a->sequence_ids[i], b->sequence_ids[i]);
}

/* One expression of every kind but DEFAULT (see default_expr()). */
static const char *const every_kind[] = {
    "t.c",
    "s.t.*",
    "NULL",
    "true",
    "-42",
    "1.5e3",
    "E'it''s\\n'",
    "$3",
    "a + b * 2",
    "- a",
    "pg_catalog.now()",
    "count(*)",
    "count(DISTINCT a)",
    "coalesce(a, b, 0)",
    "a::numeric(10,2)",
    "CAST(b AS varchar(5))",
    "a AND b AND c",
    "a OR b",
    "NOT a",
    "a IS NULL",
    "a IS NOT NULL",
    "a IS DISTINCT FROM b",
    "a IS NOT DISTINCT FROM b",
    "a IN (1, 2, 3)",
    "a NOT IN (4)",
    "a BETWEEN 1 AND 2",
    "a NOT BETWEEN 1 AND 2",
    "CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END",
    "CASE a WHEN 1 THEN 'x' END",
};
#define NKINDS (sizeof(every_kind) / sizeof(every_kind[0]))

static sql_expr *default_expr(void)
{
    sql_stmt_list l;
    OK(sql_parse("INSERT INTO t VALUES (DEFAULT)", A, &l, &err));
    sql_expr *e = l.stmts[0].u.insert.rows[0][0];
    cr_assert_eq(e->kind, SQL_EXPR_DEFAULT);
    return e;
}

/* A table whose columns default to, and whose checks are, every kind. */
static sql_table_desc rich_table(uint32_t db)
{
    size_t n = NKINDS + 1;
    sql_col_desc *cols = kv_arena_alloc(A, (n + 1) * sizeof(*cols));
    sql_check_desc *checks = kv_arena_alloc(A, n * sizeof(*checks));
    cols[0] = (sql_col_desc){
        .id = 1, .name = "rowid", .type = {SQL_T_INT8, -1}, .hidden = true, .not_null = true};
    for (size_t i = 0; i < n; i++) {
        sql_expr *e = i < NKINDS ? cf_parse_expr(every_kind[i]) : default_expr();
        char *name = kv_arena_alloc(A, 16);
        snprintf(name, 16, "c%zu", i);
        cols[i + 1] = (sql_col_desc){.id = (uint32_t)i + 2,
                                     .name = name,
                                     .type = {SQL_T_NUMERIC, sql_typmod_numeric(10, 2)},
                                     .default_expr = e};
        checks[i] = (sql_check_desc){.name = name, .expr = e};
    }
    static const uint32_t seqs[] = {7, 9, 4000000000u};
    sql_table_desc d = table_desc(db, "rich");
    d.ncols = (uint32_t)n + 1, d.cols = cols, d.next_col_id = (uint32_t)n + 2;
    d.nchecks = (uint32_t)n, d.checks = checks;
    d.nsequences = 3, d.sequence_ids = seqs;
    /* a CREATE INDEX index next to the constraint's (whose flags byte is
     * 0/1 as descriptors from before CREATE INDEX hold it) */
    sql_index_desc *idx = kv_arena_alloc(A, 2 * sizeof(*idx));
    idx[0] = d.indexes[0];
    idx[1] = (sql_index_desc){.id = 3,
                              .name = "rich_v_idx",
                              .standalone = true,
                              .ncols = 1,
                              .col_ids = uniq_cols,
                              .dirs = asc1};
    d.nindexes = 2, d.indexes = idx, d.next_index_id = 4;
    return d;
}

/* ---- bootstrap and databases --------------------------------------------- */

Test(catalog, bootstrap_creates_defaults_and_is_idempotent)
{
    uint32_t def = db_id("defaultdb"), pg = db_id("postgres");
    cr_assert_geq(def, SQL_FIRST_USER_ID);
    cr_assert_neq(def, pg);
    sql_role_desc r;
    OK(sql_catalog_role(cat, NULL, "root", &r, &err, A));
    cr_assert_str_eq(r.name, "root");
    cr_assert(r.superuser && r.login);
    cr_assert_null(r.verifier);
    /* the namespace key docs/sql-encoding.md gives as its example */
    static const uint8_t ns[] = {0x02, 0x01, 0x01, 0x80, 0,   0,   0,   0,   0,   0,    0,   0x01,
                                 'd',  'e',  'f',  'a',  'u', 'l', 't', 'd', 'b', 0x00, 0x01};
    cr_assert(raw_exists(&(sql_keybuf){.p = (uint8_t *)ns, .len = sizeof(ns)}));

    sql_catalog_close(cat);
    cf_open_catalog();
    cr_assert_eq(db_id("defaultdb"), def);
    cr_assert_eq(db_id("postgres"), pg);
    /* reopening allocated no ids */
    uint32_t next;
    OK(sql_catalog_new_id(cat, &next, &err, A));
    cr_assert_eq(next, (def > pg ? def : pg) + 1);
}

Test(catalog, create_lookup_drop_database)
{
    sql_database_desc d;
    cr_assert_eq(sql_catalog_database(cat, NULL, "shop", &d, &err, A), 1);
    sql_txn *t = cf_begin();
    OK(sql_catalog_create_database(cat, t, "shop", "alice", &err, A));
    cr_assert_eq(sql_catalog_create_database(cat, t, "shop", "bob", &err, A), 1);
    cf_commit(t);
    OK(sql_catalog_database(cat, NULL, "shop", &d, &err, A));
    cr_assert_str_eq(d.name, "shop");
    cr_assert_str_eq(d.owner, "alice");

    t = cf_begin();
    OK(sql_catalog_drop_database(cat, t, "shop", &err, A));
    cr_assert_eq(sql_catalog_drop_database(cat, t, "shop", &err, A), 1);
    cf_commit(t);
    cr_assert_eq(sql_catalog_database(cat, NULL, "shop", &d, &err, A), 1);
}

Test(catalog, drop_database_drops_tables_sequences_and_rows)
{
    sql_txn *t = cf_begin();
    OK(sql_catalog_create_database(cat, t, "gone", "root", &err, A));
    cf_commit(t);
    uint32_t db = db_id("gone");
    sql_table_desc d = table_desc(db, "t");
    uint32_t seq;
    t = cf_begin();
    OK(sql_catalog_create_sequence(cat, t, db, "t_id_seq", &seq, &err, A));
    d.nsequences = 1, d.sequence_ids = &seq;
    create_table(t, &d);
    cf_commit(t);
    sql_keybuf row = row_key(d.id, SQL_PRIMARY_INDEX_ID, 1);
    raw_put(&row, "x", 1);
    int64_t v;
    OK(sql_catalog_nextval(cat, NULL, db, "t_id_seq", &v, &err, A));

    t = cf_begin();
    OK(sql_catalog_drop_database(cat, t, "gone", &err, A));
    cf_commit(t);
    const sql_table_desc *out;
    cr_assert_eq(lookup(NULL, db, "t", &out), 1);
    cr_assert_eq(sql_catalog_table_by_id(cat, NULL, d.id, &out, &err, A), 1);
    cr_assert_eq(sql_catalog_nextval(cat, NULL, db, "t_id_seq", &v, &err, A), 1);
    cr_assert_not(raw_exists(&row));
}

/* ---- tables ---------------------------------------------------------------- */

Test(catalog, create_lookup_list_drop_table)
{
    uint32_t db = db_id("defaultdb");
    sql_table_desc b = table_desc(db, "b"), a = table_desc(db, "a");
    sql_txn *t = cf_begin();
    create_table(t, &b);
    create_table(t, &a);
    sql_table_desc dup = table_desc(db, "a");
    cr_assert_eq(sql_catalog_create_table(cat, t, &dup, &err, A), 1);
    uint32_t seq;
    cr_assert_eq(sql_catalog_create_sequence(cat, t, db, "b", &seq, &err, A), 1);
    OK(sql_catalog_create_sequence(cat, t, db, "a_id_seq", &seq, &err, A));
    cf_commit(t);

    const sql_table_desc *x, *y;
    cr_assert_eq(lookup(NULL, db, "a", &x), 0);
    table_eq(&a, x);
    cr_assert_eq(x->version, 1);
    sql_table_release(x);
    OK(sql_catalog_table_by_id(cat, NULL, b.id, &y, &err, A));
    cr_assert_str_eq(y->name, "b");
    cr_assert_eq(lookup(NULL, db, "a_id_seq", &x), 1, "a sequence is not a table");
    cr_assert_eq(sql_catalog_table_by_id(cat, NULL, seq, &x, &err, A), 1);
    cr_assert_eq(lookup(NULL, db_id("postgres"), "a", &x), 1, "tables belong to a database");
    sql_table_release(y);

    const char **names;
    size_t n;
    OK(sql_catalog_list_tables(cat, NULL, db, &names, &n, &err, A));
    cr_assert_eq(n, 2);
    cr_assert_str_eq(names[0], "a");
    cr_assert_str_eq(names[1], "b");

    t = cf_begin();
    OK(sql_catalog_drop_table(cat, t, &a, &err, A));
    cf_commit(t);
    cr_assert_eq(lookup(NULL, db, "a", &x), 1);
    cr_assert_eq(sql_catalog_table_by_id(cat, NULL, a.id, &x, &err, A), 1);
}

Test(catalog, descriptor_round_trip_every_field_and_expression_kind)
{
    sql_table_desc d = rich_table(db_id("defaultdb"));
    sql_txn *t = cf_begin();
    create_table(t, &d);
    cf_commit(t);
    const sql_table_desc *out;
    cr_assert_eq(lookup(NULL, d.db_id, "rich", &out), 0);
    table_eq(&d, out);

    sql_table_desc copy;
    OK(sql_table_copy(out, A, &copy, &err));
    sql_table_release(out);
    table_eq(&d, &copy);
}

Test(catalog, put_table_bumps_version_and_copy_is_editable)
{
    uint32_t db = db_id("defaultdb");
    sql_table_desc d = table_desc(db, "t");
    sql_txn *t = cf_begin();
    create_table(t, &d);
    cf_commit(t);
    const sql_table_desc *old;
    lookup(NULL, db, "t", &old);
    sql_table_desc c;
    OK(sql_table_copy(old, A, &c, &err));
    ((sql_col_desc *)c.cols)[1].not_null = true;
    ((sql_col_desc *)c.cols)[1].default_expr = cf_parse_expr("'none'");
    t = cf_begin();
    OK(sql_catalog_put_table(cat, t, &c, &err, A));
    cf_commit(t);

    const sql_table_desc *now;
    lookup(NULL, db, "t", &now);
    cr_assert_eq(now->version, old->version + 1);
    cr_assert(now->cols[1].not_null);
    cr_assert_str_eq(now->cols[1].default_expr->text, "none");
    /* the old reference is untouched by the edit and by invalidation */
    cr_assert_not(old->cols[1].not_null);
    cr_assert_null(old->cols[1].default_expr);
    sql_table_release(old);
    sql_table_release(now);
}

Test(catalog, truncate_and_drop_delete_every_index_span)
{
    uint32_t db = db_id("defaultdb");
    sql_table_desc d = table_desc(db, "t"), other = table_desc(db, "other");
    sql_txn *t = cf_begin();
    create_table(t, &d);
    create_table(t, &other);
    cf_commit(t);
    sql_keybuf p1 = row_key(d.id, 1, 5), p2 = row_key(d.id, 2, -5), keep = row_key(other.id, 1, 5);
    raw_put(&p1, "a", 1), raw_put(&p2, "b", 1), raw_put(&keep, "c", 1);

    t = cf_begin();
    OK(sql_catalog_truncate_table(cat, t, &d, &err, A));
    cf_commit(t);
    cr_assert_not(raw_exists(&p1));
    cr_assert_not(raw_exists(&p2));
    cr_assert(raw_exists(&keep));
    const sql_table_desc *out;
    cr_assert_eq(lookup(NULL, db, "t", &out), 0, "truncate keeps the table");
    sql_table_release(out);

    raw_put(&p2, "b", 1);
    t = cf_begin();
    OK(sql_catalog_drop_table(cat, t, &d, &err, A));
    cf_commit(t);
    cr_assert_not(raw_exists(&p2));
    cr_assert(raw_exists(&keep));
}

Test(catalog, index_span_covers_exactly_one_index)
{
    kv_span s;
    OK(sql_index_span(300, 2, A, &s, &err));
    sql_keybuf in = row_key(300, 2, INT64_MAX), lo = row_key(300, 1, INT64_MAX),
               hi = row_key(300, 3, INT64_MIN);
    cr_assert_leq(memcmp(s.key, in.p, s.key_len), 0);
    cr_assert_lt(memcmp(in.p, s.end_key, s.end_len < in.len ? s.end_len : in.len), 0);
    cr_assert_lt(memcmp(lo.p, s.key, s.key_len), 0);
    cr_assert_geq(memcmp(hi.p, s.end_key, s.end_len), 0);
}

/* ---- cache and transactions ---------------------------------------------- */

/* The cache serves transactions that read the catalog version it holds.
 * A DDL commit that nobody invalidates for (as one through another node)
 * still leaves the old descriptor to lookups without a transaction, but
 * the next transaction reads the new version and sees the new one. */
Test(catalog, cache_serves_the_version_transactions_read)
{
    uint32_t db = db_id("defaultdb");
    sql_table_desc d = table_desc(db, "t");
    sql_txn *t = cf_begin();
    create_table(t, &d);
    cf_commit(t);
    const sql_table_desc *a, *b;
    sql_txn *r = cf_begin();
    lookup(r, db, "t", &a);
    OK(sql_catalog_table_by_id(cat, r, d.id, &b, &err, A));
    cr_assert_eq(a, b, "one cached descriptor for both keys");
    sql_table_release(b);
    sql_txn_destroy(r);
    lookup(NULL, db, "t", &b);
    cr_assert_eq(a, b, "lookups without a transaction take what the cache holds");
    sql_table_release(b);

    d.version = a->version;
    t = cf_begin();
    OK(sql_catalog_put_table(cat, t, &d, &err, A));
    OK(sql_txn_commit(t, NULL, NULL, &err, A));
    sql_txn_destroy(t);
    lookup(NULL, db, "t", &b);
    cr_assert_eq(b, a, "no invalidation yet: the hint is the old descriptor");
    sql_table_release(b);
    r = cf_begin();
    lookup(r, db, "t", &b);
    sql_txn_destroy(r);
    cr_assert_eq(b->version, 2);
    cr_assert_neq(a, b);
    cr_assert_eq(a->version, 1, "a released-later reference stays valid");
    sql_table_release(a);
    sql_table_release(b);
}

/* Another session's lookups of the name: without a transaction and in
 * transaction `arg` (which did no DDL). */
typedef struct other_lookup {
    sql_txn *txn;
    uint32_t db;
    int rc_plain, rc_txn;
} other_lookup;

static void *other_session(void *arg)
{
    other_lookup *o = arg;
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    sql_error e = {0};
    const sql_table_desc *d;
    o->rc_plain = sql_catalog_table(cat, NULL, o->db, "t", &d, &e, a);
    o->rc_txn = sql_catalog_table(cat, o->txn, o->db, "t", &d, &e, a);
    kv_arena_destroy(a);
    return NULL;
}

/* Others meet the uncommitted namespace entry as an intent: they wait
 * for the transaction to finish (readers do not push a live writer of
 * equal priority) and then see the outcome, never the uncommitted DDL. */
Test(catalog, txn_sees_its_own_ddl_others_do_not)
{
    uint32_t db = db_id("defaultdb");
    sql_table_desc d = table_desc(db, "t");
    other_lookup o = {.txn = cf_begin(), .db = db};
    sql_txn *t = cf_begin();
    cr_assert_not(sql_txn_did_ddl(t));
    create_table(t, &d);
    cr_assert(sql_txn_did_ddl(t));
    const sql_table_desc *out;
    cr_assert_eq(lookup(t, db, "t", &out), 0);
    sql_table_release(out);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, other_session, &o), 0);
    sql_txn_rollback(t);
    pthread_join(th, NULL);
    sql_txn_destroy(t);
    sql_txn_destroy(o.txn);
    cr_assert_eq(o.rc_plain, 1);
    cr_assert_eq(o.rc_txn, 1);
}

Test(catalog, rolled_back_ddl_leaves_nothing)
{
    uint32_t db = db_id("defaultdb");
    sql_table_desc d = table_desc(db, "t");
    sql_txn *t = cf_begin();
    create_table(t, &d);
    OK(sql_catalog_create_database(cat, t, "tmp", "root", &err, A));
    sql_txn_rollback(t);
    sql_txn_destroy(t);
    const sql_table_desc *out;
    cr_assert_eq(lookup(NULL, db, "t", &out), 1);
    sql_database_desc dd;
    cr_assert_eq(sql_catalog_database(cat, NULL, "tmp", &dd, &err, A), 1);
}

/* ---- sequences ---------------------------------------------------------- */

Test(catalog, nextval_is_non_transactional)
{
    uint32_t db = db_id("defaultdb"), seq;
    int64_t v;
    cr_assert_eq(sql_catalog_nextval(cat, NULL, db, "s", &v, &err, A), 1);
    sql_txn *t = cf_begin();
    OK(sql_catalog_create_sequence(cat, t, db, "s", &seq, &err, A));
    OK(sql_catalog_nextval(cat, t, db, "s", &v, &err, A));
    cr_assert_eq(v, 1);
    cf_commit(t);
    t = cf_begin();
    OK(sql_catalog_nextval(cat, t, db, "s", &v, &err, A));
    cr_assert_eq(v, 2);
    sql_txn_rollback(t);
    sql_txn_destroy(t);
    OK(sql_catalog_nextval(cat, NULL, db, "s", &v, &err, A));
    cr_assert_eq(v, 3, "a rolled-back nextval leaves a gap");
}

#define NTHREADS   4
#define PER_THREAD 50

static uint32_t seq_db;
static int64_t seen[NTHREADS][PER_THREAD];

static void *nextval_thread(void *arg)
{
    int64_t *out = arg;
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    sql_error e = {0};
    for (int i = 0; i < PER_THREAD; i++)
        cr_assert_eq(sql_catalog_nextval(cat, NULL, seq_db, "s", &out[i], &e, a), 0, "%s",
                     e.message);
    kv_arena_destroy(a);
    return NULL;
}

Test(catalog, nextval_is_monotonic_across_threads)
{
    seq_db = db_id("defaultdb");
    uint32_t seq;
    sql_txn *t = cf_begin();
    OK(sql_catalog_create_sequence(cat, t, seq_db, "s", &seq, &err, A));
    cf_commit(t);
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, nextval_thread, seen[i]), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    bool hit[NTHREADS * PER_THREAD + 1] = {false};
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < PER_THREAD; j++) {
            int64_t v = seen[i][j];
            cr_assert(v >= 1 && v <= NTHREADS * PER_THREAD && !hit[v], "value %ld", (long)v);
            hit[v] = true;
            if (j > 0)
                cr_assert_gt(v, seen[i][j - 1]);
        }
}

/* Lookups by name and id (in transactions, which fill the cache, and
 * without) racing with invalidations: every reference stays valid until
 * released (ASan checks), whatever the cache does. */
static uint32_t hammer_db, hammer_id;

static void *cache_hammer(void *arg)
{
    bool invalidate = arg != NULL;
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    sql_error e = {0};
    for (int i = 0; i < 200; i++) {
        const sql_table_desc *x, *y;
        sql_txn *t = NULL;
        if (i % 2 == 0)
            cr_assert_eq(sql_txn_begin(store, NULL, NULL, &t, &e, a), 0, "%s", e.message);
        cr_assert_eq(sql_catalog_table(cat, t, hammer_db, "t", &x, &e, a), 0, "%s", e.message);
        cr_assert_eq(sql_catalog_table_by_id(cat, t, hammer_id, &y, &e, a), 0, "%s", e.message);
        sql_txn_destroy(t);
        if (invalidate && i % 8 == 0)
            sql_catalog_invalidate(cat);
        cr_assert_eq(x->id, hammer_id);
        cr_assert_str_eq(y->name, "t");
        cr_assert_str_eq(x->cols[1].name, "v");
        sql_table_release(x);
        sql_table_release(y);
    }
    kv_arena_destroy(a);
    return NULL;
}

Test(catalog, concurrent_lookups_and_invalidations)
{
    hammer_db = db_id("defaultdb");
    sql_table_desc d = table_desc(hammer_db, "t");
    hammer_id = d.id;
    sql_txn *t = cf_begin();
    create_table(t, &d);
    cf_commit(t);
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        cr_assert_eq(pthread_create(&th[i], NULL, cache_hammer, i == 0 ? &th[i] : NULL), 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
}

/* ---- roles --------------------------------------------------------------- */

Test(catalog, role_create_alter_drop)
{
    sql_role_desc r = {
        .name = "alice", .verifier = "SCRAM-SHA-256$4096:c2FsdA==$a:b", .login = true};
    sql_txn *t = cf_begin();
    OK(sql_catalog_put_role(cat, t, &r, true, &err, A));
    cr_assert_eq(sql_catalog_put_role(cat, t, &r, true, &err, A), 1);
    sql_role_desc bob = {.name = "bob"};
    cr_assert_eq(sql_catalog_put_role(cat, t, &bob, false, &err, A), 1);
    cf_commit(t);
    sql_role_desc out;
    OK(sql_catalog_role(cat, NULL, "alice", &out, &err, A));
    cr_assert_str_eq(out.name, "alice");
    cr_assert_str_eq(out.verifier, r.verifier);
    cr_assert(out.login && !out.superuser);

    r.verifier = NULL, r.superuser = true, r.login = false;
    t = cf_begin();
    OK(sql_catalog_put_role(cat, t, &r, false, &err, A));
    cf_commit(t);
    OK(sql_catalog_role(cat, NULL, "alice", &out, &err, A));
    cr_assert_null(out.verifier);
    cr_assert(out.superuser && !out.login);

    t = cf_begin();
    OK(sql_catalog_drop_role(cat, t, "alice", &err, A));
    cr_assert_eq(sql_catalog_drop_role(cat, t, "alice", &err, A), 1);
    cf_commit(t);
    cr_assert_eq(sql_catalog_role(cat, NULL, "alice", &out, &err, A), 1);
}

/* ---- persistence and corruption ----------------------------------------- */

Test(catalog, reopen_keeps_everything)
{
    sql_txn *t = cf_begin();
    OK(sql_catalog_create_database(cat, t, "kept", "root", &err, A));
    sql_role_desc r = {.name = "carol", .login = true};
    OK(sql_catalog_put_role(cat, t, &r, true, &err, A));
    cf_commit(t);
    uint32_t db = db_id("kept"), seq;
    sql_table_desc d = rich_table(db);
    t = cf_begin();
    create_table(t, &d);
    OK(sql_catalog_create_sequence(cat, t, db, "s", &seq, &err, A));
    cf_commit(t);
    int64_t v;
    OK(sql_catalog_nextval(cat, NULL, db, "s", &v, &err, A));

    sql_catalog_close(cat);
    /* the fake clock stands still: a reopened store must start above
     * the timestamps already written, as a real clock would */
    st_clock_ns += 1000000000;
    store = st_reopen(store, dir);
    cf_open_catalog();
    cr_assert_eq(db_id("kept"), db);
    const sql_table_desc *out;
    cr_assert_eq(lookup(NULL, db, "rich", &out), 0);
    table_eq(&d, out);
    sql_table_release(out);
    sql_role_desc ro;
    OK(sql_catalog_role(cat, NULL, "carol", &ro, &err, A));
    OK(sql_catalog_nextval(cat, NULL, db, "s", &v, &err, A));
    cr_assert_eq(v, 2);
    uint32_t id;
    OK(sql_catalog_new_id(cat, &id, &err, A));
    cr_assert_gt(id, seq, "ids are never reused");
}

static void assert_corrupt(int rc)
{
    cr_assert_eq(rc, -1);
    cr_assert_eq(err.state, SQL_STATE_INTERNAL_ERROR);
    cr_assert_str_eq(err.message, "corrupt descriptor");
}

Test(catalog, corrupt_descriptor_is_xx000)
{
    uint32_t db = db_id("defaultdb");
    sql_table_desc d = table_desc(db, "t");
    sql_txn *t = cf_begin();
    create_table(t, &d);
    cf_commit(t);
    sql_keybuf k = desc_key(d.id);
    const uint8_t unknown_format[] = {99, SQL__DESC_TABLE, 0, 0, 0, 1};
    raw_put(&k, unknown_format, sizeof(unknown_format));
    const sql_table_desc *out;
    assert_corrupt(sql_catalog_table_by_id(cat, NULL, d.id, &out, &err, A));
    cr_assert_not_null(err.detail);
    assert_corrupt(sql_catalog_table(cat, NULL, db, "t", &out, &err, A));
}

Test(catalog, every_truncation_and_byte_flip_decodes_safely)
{
    sql__desc d = {.kind = SQL__DESC_TABLE, .u.table = rich_table(db_id("defaultdb"))};
    sql_keybuf b;
    sql_keybuf_init(&b, A);
    OK(sql__desc_encode(&d, &b, &err));
    sql__desc out;
    for (size_t len = 0; len < b.len; len++)
        assert_corrupt(sql__desc_decode(b.p, len, A, &out, &err));
    uint8_t *copy = kv_arena_dup(A, b.p, b.len);
    for (size_t i = 0; i < b.len; i++) {
        copy[i] ^= 0xA5;
        int rc = sql__desc_decode(copy, b.len, A, &out, &err);
        cr_assert(rc == 0 || (rc == -1 && err.state == SQL_STATE_INTERNAL_ERROR));
        copy[i] ^= 0xA5;
    }
    OK(sql__desc_decode(copy, b.len, A, &out, &err));
}

/* The example of docs/sql-encoding.md: a serial column's default. */
Test(catalog, expression_bytes_match_the_documented_table)
{
    static const uint8_t want[] = {0x05, 0x00, 0,    0,    0,    7,    'n', 'e', 'x', 't', 'v',
                                   'a',  'l',  0xFF, 0xFF, 0xFF, 0xFF, 0,   0,   0,   1,   0x02,
                                   0x00, 0x04, 0,    0,    0,    13,   'o', 'r', 'd', 'e', 'r',
                                   's',  '_',  'i',  'd',  '_',  's',  'e', 'q'};
    sql_keybuf b;
    sql_keybuf_init(&b, A);
    OK(sql_expr_encode(cf_parse_expr("nextval('orders_id_seq')"), &b, &err));
    cr_assert_eq(b.len, sizeof(want));
    cr_assert_arr_eq(b.p, want, sizeof(want));
}

Test(catalog, expression_depth_is_bounded)
{
    sql_expr *e = cf_parse_expr("NOT a");
    for (int i = 0; i < SQL__EXPR_MAX_DEPTH; i++) {
        sql_expr *n = kv_arena_alloc(A, sizeof(*n));
        sql_expr **args = kv_arena_alloc(A, sizeof(*args));
        args[0] = e;
        *n = (sql_expr){.kind = SQL_EXPR_NOT, .args = args, .nargs = 1};
        e = n;
    }
    sql_keybuf b;
    sql_keybuf_init(&b, A);
    cr_assert_eq(sql_expr_encode(e, &b, &err), -1);
    cr_assert_eq(err.state, SQL_STATE_PROGRAM_LIMIT_EXCEEDED);
    sql_expr *out;
    sql_keybuf_init(&b, A);
    OK(sql_expr_encode(e->args[0]->args[0], &b, &err));
    OK(sql_expr_decode(b.p, b.len, A, &out, &err));
    expr_eq(e->args[0]->args[0], out);
}

/* ---- sql_txn -------------------------------------------------------------- */

Test(catalog, kv_errors_map_to_sqlstates)
{
    sql_error_from_kv(&err, A, KV_ETXNRETRY, "conflict");
    cr_assert_eq(err.state, SQL_STATE_SERIALIZATION_FAILURE);
    cr_assert_str_eq(err.message, "restart transaction: conflict");
    cr_assert_not_null(err.hint);
    sql_error_from_kv(&err, A, KV_ETXNABORTED, "");
    cr_assert_eq(err.state, SQL_STATE_SERIALIZATION_FAILURE);
    cr_assert_str_eq(err.message, "restart transaction: transaction aborted");
    sql_error_from_kv(&err, A, KV_EAMBIGUOUS, "lost");
    cr_assert_eq(err.state, SQL_STATE_STATEMENT_COMPLETION_UNKNOWN);
    cr_assert_str_eq(err.message, "result is ambiguous: lost");
    sql_error_from_kv(&err, A, KV_EIO, "disk on fire");
    cr_assert_eq(err.state, SQL_STATE_INTERNAL_ERROR);
    cr_assert_str_eq(err.message, "disk on fire");
}

Test(catalog, cancel_flag_stops_sends)
{
    static const struct {
        sql_cancel_reason reason;
        sql_sqlstate state;
        const char *message;
    } cases[] = {
        {SQL_CANCEL_REQUEST, SQL_STATE_QUERY_CANCELED, "canceling statement due to user request"},
        {SQL_CANCEL_TIMEOUT, SQL_STATE_QUERY_CANCELED,
         "canceling statement due to statement timeout"},
        {SQL_CANCEL_SHUTDOWN, SQL_STATE_ADMIN_SHUTDOWN,
         "terminating connection due to administrator command"},
    };
    atomic_int flag = SQL_CANCEL_NONE;
    sql_txn *t;
    OK(sql_txn_begin(store, NULL, &flag, &t, &err, A));
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        atomic_store(&flag, cases[i].reason);
        kv_request req;
        kv_response resp;
        cr_assert_eq(kv_request_init(&req), 0);
        cr_assert_eq(kv_response_init(&resp), 0);
        st_put(&req, "k", "v");
        cr_assert_eq(sql_txn_send(t, &req, &resp, &err, A), -1);
        cr_assert_eq(err.state, cases[i].state);
        cr_assert_str_eq(err.message, cases[i].message);
        kv_request_free(&req);
        kv_response_free(&resp);
    }
    cr_assert_eq(err.severity, SQL_SEV_FATAL);
    atomic_store(&flag, SQL_CANCEL_NONE);
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    cr_assert_eq(kv_response_init(&resp), 0);
    st_put(&req, "k", "v");
    OK(sql_txn_send(t, &req, &resp, &err, A));
    kv_request_free(&req);
    kv_response_free(&resp);
    cr_assert_gt(sql_txn_read_ts(t).wall, 0);
    OK(sql_txn_commit(t, NULL, NULL, &err, A));
    sql_txn_destroy(t);
    char buf[64];
    cr_assert_str_eq(st_get1(store, "k", buf, NULL), "v");
}
