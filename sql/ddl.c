/*
 * ddl.c - CREATE/DROP/ALTER TABLE, TRUNCATE, CREATE/DROP DATABASE and
 * CREATE/ALTER/DROP USER (ROLE), run in the session's transaction.
 *
 * Descriptors are built here and written through the catalog
 * (sql/catalog.h) inside the transaction, so DDL commits or rolls back
 * with it. Names follow PostgreSQL's choices: t_pkey, t_col_key for a
 * UNIQUE constraint, t_col_check for a CHECK over one column (t_check
 * otherwise), t_col_seq for a serial column, with a number appended when
 * the name is taken in the table. A table without a primary key gets the
 * hidden int8 column `rowid` with DEFAULT unique_rowid() as its key.
 *
 * Row rewrites are expressed as DML the planner runs in the same
 * transaction: ADD COLUMN with a DEFAULT (or NOT NULL) backfills with
 * UPDATE t SET c = DEFAULT, so existing rows read exactly what an INSERT
 * would have stored; ADD PRIMARY KEY reads every row, deletes them and
 * inserts them again under the new descriptor (the rows are held in the
 * statement's arena meanwhile).
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/session_int.h"
#include "sql/vtable.h"

#define ROWID_NAME "rowid"

/* The catalog and the transaction every statement here works in. */
static sql_catalog *cat(const sql__exec *x)
{
    return x->s->eng->catalog;
}

static sql_txn *txn(const sql__exec *x)
{
    return x->s->txn;
}

const char *sql__ddl_tag(sql_stmt_kind kind)
{
    switch (kind) {
    case SQL_STMT_CREATE_TABLE:
        return "CREATE TABLE";
    case SQL_STMT_DROP_TABLE:
        return "DROP TABLE";
    case SQL_STMT_TRUNCATE:
        return "TRUNCATE TABLE";
    case SQL_STMT_ALTER_TABLE:
        return "ALTER TABLE";
    case SQL_STMT_CREATE_DATABASE:
        return "CREATE DATABASE";
    case SQL_STMT_DROP_DATABASE:
        return "DROP DATABASE";
    case SQL_STMT_CREATE_ROLE:
        return "CREATE ROLE";
    case SQL_STMT_ALTER_ROLE:
        return "ALTER ROLE";
    case SQL_STMT_CREATE_INDEX:
        return "CREATE INDEX";
    case SQL_STMT_DROP_INDEX:
        return "DROP INDEX";
    case SQL_STMT_EXPLAIN:
        return "EXPLAIN";
    case SQL_STMT_CREATE_VIEW:
        return "CREATE VIEW";
    case SQL_STMT_DROP_VIEW:
        return "DROP VIEW";
    default:
        assert(kind == SQL_STMT_DROP_ROLE);
        return "DROP ROLE";
    }
}

static int oom(sql__exec *x)
{
    return sql__oom(x->arena, &x->err);
}

/* Tables live in `public`: another schema does not exist. */
static int check_schema(sql__exec *x, const sql_name *n)
{
    if (!n->schema || !strcmp(n->schema, "public"))
        return 0;
    sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_SCHEMA_NAME, "schema \"%s\" does not exist",
                  n->schema);
    x->err.position = sql_parse_position(x->query, n->location);
    return -1;
}

/* The table `n` names in public, where CREATE TABLE creates it (as in
 * PostgreSQL, public.pg_class may exist beside pg_catalog's). */
static int find_public_table(sql__exec *x, const sql_name *n, const sql_table_desc **out)
{
    if (check_schema(x, n) < 0)
        return -1;
    return sql_catalog_table(cat(x), txn(x), x->s->db_id, n->name, out, &x->err, x->arena);
}

int sql__ddl_find_table(sql__exec *x, const sql_name *n, const sql_table_desc **out)
{
    if (sql__vtable_refuse(n, x->arena, &x->err) < 0)
        return -1;
    return find_public_table(x, n, out);
}

/* "relation/table \"x\" does not exist": a notice with `skip` (whose
 * SQLSTATE PostgreSQL leaves at 00000), else the error. */
static int missing(sql__exec *x, sql_sqlstate state, const char *what, const char *name, bool skip)
{
    if (skip)
        return sql__notice(x, SQL_STATE_SUCCESSFUL_COMPLETION, SQL_SEV_NOTICE,
                           "%s \"%s\" does not exist, skipping", what, name);
    return sql_error_set(&x->err, x->arena, state, "%s \"%s\" does not exist", what, name);
}

/* ---- names --------------------------------------------------------------- */

static bool index_name_taken(const sql_table_desc *d, const char *name)
{
    if (d->primary.name && !strcmp(d->primary.name, name))
        return true;
    for (uint32_t i = 0; i < d->nindexes; i++)
        if (!strcmp(d->indexes[i].name, name))
            return true;
    return false;
}

static bool check_name_taken(const sql_table_desc *d, const char *name)
{
    for (uint32_t i = 0; i < d->nchecks; i++)
        if (!strcmp(d->checks[i].name, name))
            return true;
    return false;
}

/* `base`, or base1, base2, ... when taken (PostgreSQL's ChooseRelationName). */
static const char *unique_name(sql__exec *x, const sql_table_desc *d, const char *base,
                               bool (*taken)(const sql_table_desc *, const char *))
{
    char buf[160];

    if (!base || !taken(d, base))
        return base;
    for (int i = 1;; i++) {
        snprintf(buf, sizeof buf, "%s%d", base, i);
        if (!taken(d, buf))
            return kv_arena_strdup(x->arena, buf);
    }
}

/* t_a_b_key: the table and column names joined with '_' and a suffix. */
static const char *key_name(sql__exec *x, const char *table, const char *const *cols, int n,
                            const char *suffix)
{
    size_t len = strlen(table) + strlen(suffix) + 2;

    for (int i = 0; i < n; i++)
        len += strlen(cols[i]) + 1;
    char *p = kv_arena_alloc(x->arena, len), *q = p;
    if (!p)
        return NULL;
    q += sprintf(q, "%s", table);
    for (int i = 0; i < n; i++)
        q += sprintf(q, "_%s", cols[i]);
    sprintf(q, "_%s", suffix);
    return p;
}

/* Calls fn on every node of `e`. */
static void walk(const sql_expr *e, void (*fn)(const sql_expr *, void *), void *arg)
{
    if (!e)
        return;
    fn(e, arg);
    walk(e->left, fn, arg);
    walk(e->right, fn, arg);
    walk(e->arg, fn, arg);
    walk(e->els, fn, arg);
    for (int i = 0; i < e->nargs; i++) {
        walk(e->args ? e->args[i] : NULL, fn, arg);
        walk(e->whens ? e->whens[i] : NULL, fn, arg);
        walk(e->thens ? e->thens[i] : NULL, fn, arg);
    }
}

/* The distinct column names an expression mentions, up to two. */
typedef struct col_refs {
    const char *first;
    bool several;
    const char *wanted; /* set: whether this one is among them */
    bool found;
} col_refs;

static void note_column(const sql_expr *e, void *arg)
{
    col_refs *r = arg;

    if (e->kind != SQL_EXPR_COLUMN || !e->column)
        return;
    if (r->first && strcmp(r->first, e->column))
        r->several = true;
    r->first = e->column;
    r->found |= r->wanted && !strcmp(r->wanted, e->column);
}

/* ---- descriptor editing -------------------------------------------------- */

static int col_index(const sql_table_desc *d, const char *name, bool hidden_too)
{
    for (uint32_t i = 0; i < d->ncols; i++)
        if (!strcmp(d->cols[i].name, name) && (hidden_too || !d->cols[i].hidden))
            return (int)i;
    return -1;
}

/* Grows an arena array by one element (copying the old ones). */
static void *grow(sql__exec *x, const void *old, size_t n, size_t size)
{
    void *p = kv_arena_alloc(x->arena, (n + 1) * size);

    if (p && n)
        memcpy(p, old, n * size);
    return p;
}

static sql_expr *func_call(sql__exec *x, const char *name, const char *text_arg)
{
    sql_expr *f = kv_arena_alloc(x->arena, sizeof *f);
    sql_expr *arg = text_arg ? kv_arena_alloc(x->arena, sizeof *arg) : NULL;
    sql_expr **args = text_arg ? kv_arena_alloc(x->arena, sizeof *args) : NULL;

    if (!f || (text_arg && (!arg || !args)))
        return NULL;
    *f = (sql_expr){.kind = SQL_EXPR_FUNC, .location = -1, .name = name};
    if (text_arg) {
        *arg = (sql_expr){.kind = SQL_EXPR_CONST,
                          .location = -1,
                          .const_kind = SQL_CONST_STRING,
                          .text = text_arg};
        args[0] = arg;
        f->args = args;
        f->nargs = 1;
    }
    return f;
}

/* A serial column's sequence t_col_seq and its nextval default. */
static int add_serial(sql__exec *x, sql_table_desc *d, sql_col_desc *c)
{
    const char *cols[1] = {c->name};
    const char *seq = key_name(x, d->name, cols, 1, "seq");
    uint32_t id;
    uint32_t *ids;

    if (!seq)
        return oom(x);
    int rc = sql_catalog_create_sequence(cat(x), txn(x), d->db_id, seq, &id, &x->err, x->arena);
    if (rc == 1)
        return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_TABLE,
                             "relation \"%s\" already exists", seq);
    if (rc < 0)
        return -1;
    if (!(ids = grow(x, d->sequence_ids, d->nsequences, sizeof *ids)) ||
        !(c->default_expr = func_call(x, "nextval", seq)))
        return oom(x);
    ids[d->nsequences++] = id;
    d->sequence_ids = ids;
    c->not_null = true;
    return 0;
}

/* Appends column `def` (its id the table's next). */
static int add_column(sql__exec *x, sql_table_desc *d, const sql_column_def *def)
{
    sql_col_desc *cols = grow(x, d->cols, d->ncols, sizeof *cols);

    if (!cols)
        return oom(x);
    sql_col_desc *c = &cols[d->ncols];
    *c = (sql_col_desc){.id = d->next_col_id++,
                        .name = def->name,
                        .type = def->type,
                        .not_null = def->not_null,
                        .default_expr = def->default_expr};
    d->cols = cols;
    d->ncols++;
    return def->serial ? add_serial(x, d, c) : 0;
}

/* Fills an index over the named columns (42703, 42701 as PostgreSQL). */
static int key_columns(sql__exec *x, const sql_table_desc *d, const sql_constraint *k,
                       sql_index_desc *ix)
{
    uint32_t *ids = kv_arena_alloc(x->arena, (size_t)k->ncolumns * sizeof *ids + 1);
    sql_key_dir *dirs = kv_arena_alloc(x->arena, (size_t)k->ncolumns * sizeof *dirs + 1);

    if (!ids || !dirs)
        return oom(x);
    for (int i = 0; i < k->ncolumns; i++) {
        int c = col_index(d, k->columns[i], false);
        if (c < 0) {
            sql_error_set(&x->err, x->arena, SQL_STATE_UNDEFINED_COLUMN,
                          "column \"%s\" named in key does not exist", k->columns[i]);
            x->err.position = sql_parse_position(x->query, k->location);
            return -1;
        }
        for (int j = 0; j < i; j++)
            if (ids[j] == d->cols[c].id)
                return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_COLUMN,
                                     "column \"%s\" appears twice in %s constraint", k->columns[i],
                                     k->kind == SQL_CONSTRAINT_UNIQUE ? "unique" : "primary key");
        ids[i] = d->cols[c].id;
        dirs[i] = SQL_KEY_ASC;
    }
    ix->ncols = (uint32_t)k->ncolumns;
    ix->col_ids = ids;
    ix->dirs = dirs;
    return 0;
}

/* Key columns are NOT NULL. */
static void set_not_null(sql_table_desc *d, const sql_index_desc *ix)
{
    sql_col_desc *cols = (sql_col_desc *)d->cols;

    for (uint32_t i = 0; i < ix->ncols; i++)
        for (uint32_t c = 0; c < d->ncols; c++)
            if (cols[c].id == ix->col_ids[i])
                cols[c].not_null = true;
}

static int set_primary(sql__exec *x, sql_table_desc *d, const sql_constraint *k)
{
    sql_index_desc ix = {.id = SQL_PRIMARY_INDEX_ID, .unique = true};

    if (key_columns(x, d, k, &ix) < 0)
        return -1;
    ix.name = k->name ? k->name : key_name(x, d->name, NULL, 0, "pkey");
    if (!ix.name)
        return oom(x);
    d->primary = ix;
    set_not_null(d, &ix);
    return 0;
}

static int add_unique(sql__exec *x, sql_table_desc *d, const sql_constraint *k)
{
    sql_index_desc ix = {.id = d->next_index_id, .unique = true};
    sql_index_desc *all = grow(x, d->indexes, d->nindexes, sizeof *all);

    if (!all)
        return oom(x);
    if (key_columns(x, d, k, &ix) < 0)
        return -1;
    ix.name = k->name ? k->name
                      : unique_name(x, d, key_name(x, d->name, k->columns, k->ncolumns, "key"),
                                    index_name_taken);
    if (!ix.name)
        return oom(x);
    d->next_index_id++;
    all[d->nindexes++] = ix;
    d->indexes = all;
    return 0;
}

/* Binds `e` against the table's columns to report unknown names and type
 * errors at CREATE/ALTER time as PostgreSQL does. */
static int validate_expr(sql__exec *x, const sql_table_desc *d, const sql_expr *e, sql_type want,
                         bool with_columns)
{
    sql_scope_col *cols = kv_arena_alloc(x->arena, (d->ncols + 1) * sizeof *cols);
    sql_params none = {0};
    sql_bexpr *b;

    if (!cols)
        return oom(x);
    for (uint32_t i = 0; i < d->ncols; i++)
        cols[i] = (sql_scope_col){d->cols[i].name, d->cols[i].type, d->cols[i].hidden};
    sql_scope scope = {.table = d->name, .cols = cols, .ncols = with_columns ? (int)d->ncols : 0};
    sql_bind_ctx bc = {.arena = x->arena, .query = x->query, .scope = &scope, .params = &none};
    return sql_expr_bind(&bc, e, want, &b, &x->err);
}

static int add_check(sql__exec *x, sql_table_desc *d, const sql_constraint *k)
{
    sql_check_desc *all = grow(x, d->checks, d->nchecks, sizeof *all);
    col_refs r = {0};
    const char *name = k->name;

    if (!all)
        return oom(x);
    if (validate_expr(x, d, k->check, (sql_type){SQL_T_BOOL, -1}, true) < 0)
        return -1;
    if (!name) {
        /* PostgreSQL: t_col_check over one column, t_check otherwise */
        walk(k->check, note_column, &r);
        name = r.first && !r.several ? key_name(x, d->name, &r.first, 1, "check")
                                     : key_name(x, d->name, NULL, 0, "check");
        if (!(name = unique_name(x, d, name, check_name_taken)))
            return oom(x);
    }
    all[d->nchecks++] = (sql_check_desc){name, k->check};
    d->checks = all;
    return 0;
}

static int add_constraint(sql__exec *x, sql_table_desc *d, const sql_constraint *k)
{
    switch (k->kind) {
    case SQL_CONSTRAINT_PRIMARY_KEY:
        return set_primary(x, d, k);
    case SQL_CONSTRAINT_UNIQUE:
        return add_unique(x, d, k);
    default:
        return add_check(x, d, k);
    }
}

/* The hidden rowid key of a table created without a primary key. */
static int add_rowid(sql__exec *x, sql_table_desc *d)
{
    const char *cols[1] = {ROWID_NAME};
    sql_column_def def = {.name = ROWID_NAME, .type = {SQL_T_INT8, -1}, .not_null = true};
    sql_constraint pk = {.kind = SQL_CONSTRAINT_PRIMARY_KEY, .columns = cols, .ncolumns = 1};

    if (!(def.default_expr = func_call(x, "unique_rowid", NULL)))
        return oom(x);
    if (add_column(x, d, &def) < 0 || set_primary(x, d, &pk) < 0)
        return -1;
    ((sql_col_desc *)d->cols)[d->ncols - 1].hidden = true;
    return 0;
}

/* ---- CREATE / DROP TABLE, TRUNCATE --------------------------------------- */

static int build_columns(sql__exec *x, sql_table_desc *d, const sql_create_table *ct)
{
    for (int i = 0; i < ct->ncolumns; i++) {
        const sql_column_def *def = &ct->columns[i];
        if (col_index(d, def->name, true) >= 0)
            return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_COLUMN,
                                 "column \"%s\" specified more than once", def->name);
        if (def->default_expr && validate_expr(x, d, def->default_expr, def->type, false) < 0)
            return -1;
        if (add_column(x, d, def) < 0)
            return -1;
    }
    return 0;
}

static int create_table(sql__exec *x)
{
    const sql_create_table *ct = &x->st->u.create_table;
    const sql_table_desc *old;
    sql_table_desc d = {.db_id = x->s->db_id, .name = ct->table.name, .next_col_id = 1};
    bool has_pk = false;

    int rc = find_public_table(x, &ct->table, &old);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        sql_table_release(old);
        if (ct->if_not_exists)
            return sql__notice(x, SQL_STATE_DUPLICATE_TABLE, SQL_SEV_NOTICE,
                               "relation \"%s\" already exists, skipping", ct->table.name);
        return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_TABLE,
                             "relation \"%s\" already exists", ct->table.name);
    }
    d.next_index_id = SQL_PRIMARY_INDEX_ID + 1;
    if (sql_catalog_new_id(cat(x), &d.id, &x->err, x->arena) < 0 || build_columns(x, &d, ct) < 0)
        return -1;
    for (int i = 0; i < ct->nconstraints; i++) {
        has_pk |= ct->constraints[i].kind == SQL_CONSTRAINT_PRIMARY_KEY;
        if (add_constraint(x, &d, &ct->constraints[i]) < 0)
            return -1;
    }
    if (!has_pk && add_rowid(x, &d) < 0)
        return -1;
    rc = sql_catalog_create_table(cat(x), txn(x), &d, &x->err, x->arena);
    if (rc == 1)
        return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_TABLE,
                             "relation \"%s\" already exists", ct->table.name);
    return rc;
}

static int drop_table(sql__exec *x)
{
    const sql_table_list *l = &x->st->u.tables;

    for (int i = 0; i < l->ntables; i++) {
        const sql_table_desc *d;
        int rc = sql__ddl_find_table(x, &l->tables[i], &d);
        if (rc < 0 || (rc == 1 && missing(x, SQL_STATE_UNDEFINED_TABLE, "table", l->tables[i].name,
                                          l->if_exists) < 0))
            return -1;
        if (rc != 0)
            continue;
        rc = sql__ddl_not_view(x, d) < 0 || sql__ddl_check_dependents(x, d) < 0
                 ? -1
                 : sql_catalog_drop_table(cat(x), txn(x), d, &x->err, x->arena);
        sql_table_release(d);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int truncate_tables(sql__exec *x)
{
    const sql_table_list *l = &x->st->u.tables;
    const sql_table_desc **ds = kv_arena_alloc(x->arena, (size_t)l->ntables * sizeof *ds + 1);
    int n = 0, rc = 0;

    if (!ds)
        return oom(x);
    /* every name is checked before anything is emptied */
    for (; n < l->ntables; n++) {
        rc = sql__ddl_find_table(x, &l->tables[n], &ds[n]);
        if (rc == 1)
            rc = missing(x, SQL_STATE_UNDEFINED_TABLE, "relation", l->tables[n].name, false);
        if (rc < 0)
            goto out_release;
        if (sql__ddl_not_view(x, ds[n]) < 0) {
            sql_table_release(ds[n]);
            rc = -1;
            goto out_release;
        }
    }
    for (int i = 0; i < n && rc == 0; i++)
        rc = sql_catalog_truncate_table(cat(x), txn(x), ds[i], &x->err, x->arena);
out_release:
    for (int i = 0; i < n; i++)
        sql_table_release(ds[i]);
    return rc;
}

/* ---- ALTER TABLE ----------------------------------------------------------- */

/* Runs `st` built here; rows to `row` (may be NULL), count in *n. */
static int run_internal(sql__exec *x, const sql_stmt *st, sql_params *params, const sql_datum *args,
                        sql_row_fn row, void *arg, uint64_t *n)
{
    sql_plan *p;

    if (sql__internal_plan(x, st, params, &p) < 0)
        return -1;
    const sql_type *types = kv_arena_alloc(x->arena, (size_t)params->n * sizeof *types + 1);
    sql_type *t = (sql_type *)types;
    for (int i = 0; t && i < params->n; i++)
        t[i] = (sql_type){params->oids[i], -1};
    int rc = t ? sql__internal_run(x, p, args, types, row, arg, n) : oom(x);
    sql__plan_free(p);
    return rc;
}

/* UPDATE t SET c = DEFAULT: existing rows get what an INSERT would give. */
static int backfill(sql__exec *x, const sql_table_desc *d, const char *col)
{
    sql_expr def = {.kind = SQL_EXPR_DEFAULT, .location = -1};
    sql_assign set = {.column = col, .value = &def, .location = -1};
    sql_stmt st = {
        .kind = SQL_STMT_UPDATE,
        .u.modify = {.table = {.name = d->name, .location = -1}, .assigns = &set, .nassigns = 1}};
    sql_params none = {0};
    uint64_t n;

    if (run_internal(x, &st, &none, NULL, NULL, NULL, &n) == 0)
        return 0;
    if (x->err.state == SQL_STATE_NOT_NULL_VIOLATION)
        sql_error_set(&x->err, x->arena, SQL_STATE_NOT_NULL_VIOLATION,
                      "column \"%s\" of relation \"%s\" contains null values", col, d->name);
    return -1;
}

static int alter_add_column(sql__exec *x, sql_table_desc *d, const sql_alter_cmd *c)
{
    const sql_column_def *def = &c->column;

    if (col_index(d, def->name, true) >= 0) {
        if (c->missing_ok)
            return sql__notice(x, SQL_STATE_DUPLICATE_COLUMN, SQL_SEV_NOTICE,
                               "column \"%s\" of relation \"%s\" already exists, skipping",
                               def->name, d->name) < 0
                       ? -1
                       : 1;
        return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_COLUMN,
                             "column \"%s\" of relation \"%s\" already exists", def->name, d->name);
    }
    if (def->default_expr && validate_expr(x, d, def->default_expr, def->type, false) < 0)
        return -1;
    if (add_column(x, d, def) < 0)
        return -1;
    for (int i = 0; i < c->nconstraints; i++) {
        if (c->constraints[i].kind != SQL_CONSTRAINT_CHECK)
            return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                 "ADD COLUMN with a PRIMARY KEY or UNIQUE constraint is not "
                                 "supported yet");
        if (add_check(x, d, &c->constraints[i]) < 0)
            return -1;
    }
    return 0;
}

static bool index_has(const sql_index_desc *ix, uint32_t col_id)
{
    for (uint32_t i = 0; i < ix->ncols; i++)
        if (ix->col_ids[i] == col_id)
            return true;
    return false;
}

/* Deletes every entry of index `index_id` of table `table_id`. */
static int delete_index_entries(sql__exec *x, uint32_t table_id, uint32_t index_id)
{
    kv_request req;
    kv_response resp;
    kv_req q = {.method = KV_DELETE_RANGE};
    int rc = -1;

    if (sql_index_span(table_id, index_id, x->arena, &q.span, &x->err) < 0)
        return -1;
    if (kv_request_init(&req) < 0)
        return oom(x);
    if (kv_request_add(&req, &q) < 0 || kv_response_init(&resp) < 0) {
        oom(x);
        goto out_free_req;
    }
    rc = sql_txn_send(txn(x), &req, &resp, &x->err, x->arena);
    kv_response_free(&resp);
out_free_req:
    kv_request_free(&req);
    return rc;
}

/* Removes the unique indexes over column `id`, deleting their entries. */
static int drop_indexes_of(sql__exec *x, sql_table_desc *d, uint32_t id)
{
    sql_index_desc *kept = (sql_index_desc *)d->indexes;
    uint32_t n = 0;

    for (uint32_t i = 0; i < d->nindexes; i++) {
        if (!index_has(&d->indexes[i], id))
            kept[n++] = d->indexes[i];
        else if (delete_index_entries(x, d->id, d->indexes[i].id) < 0)
            return -1;
    }
    d->nindexes = n;
    return 0;
}

/* Removes the CHECK constraints that mention column `name`. */
static void drop_checks_of(sql_table_desc *d, const char *name)
{
    sql_check_desc *kept = (sql_check_desc *)d->checks;
    uint32_t n = 0;

    for (uint32_t i = 0; i < d->nchecks; i++) {
        col_refs r = {.wanted = name};
        walk(d->checks[i].expr, note_column, &r);
        if (!r.found)
            kept[n++] = d->checks[i];
    }
    d->nchecks = n;
}

static int alter_drop_column(sql__exec *x, sql_table_desc *d, const sql_alter_cmd *c)
{
    int i = col_index(d, c->name, false);

    if (i < 0) {
        if (c->missing_ok)
            return sql__notice(x, SQL_STATE_SUCCESSFUL_COMPLETION, SQL_SEV_NOTICE,
                               "column \"%s\" of relation \"%s\" does not exist, skipping", c->name,
                               d->name) < 0
                       ? -1
                       : 1;
        return sql_error_set(&x->err, x->arena, SQL_STATE_UNDEFINED_COLUMN,
                             "column \"%s\" of relation \"%s\" does not exist", c->name, d->name);
    }
    if (index_has(&d->primary, d->cols[i].id))
        return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "dropping primary key column \"%s\" is not supported", c->name);
    if (drop_indexes_of(x, d, d->cols[i].id) < 0)
        return -1;
    drop_checks_of(d, c->name);
    sql_col_desc *cols = (sql_col_desc *)d->cols;
    memmove(&cols[i], &cols[i + 1], (d->ncols - (uint32_t)i - 1) * sizeof *cols);
    d->ncols--;
    return 0;
}

/* The visible columns of `d` as expressions and names. */
static int visible_columns(sql__exec *x, const sql_table_desc *d, sql_expr ***exprs,
                           const char ***names, sql_type **types, int *n)
{
    *exprs = kv_arena_alloc(x->arena, (d->ncols + 1) * sizeof **exprs);
    *names = kv_arena_alloc(x->arena, (d->ncols + 1) * sizeof **names);
    *types = kv_arena_alloc(x->arena, (d->ncols + 1) * sizeof **types);
    if (!*exprs || !*names || !*types)
        return oom(x);
    *n = 0;
    for (uint32_t i = 0; i < d->ncols; i++) {
        sql_expr *e = kv_arena_alloc(x->arena, sizeof *e);
        if (d->cols[i].hidden)
            continue;
        if (!e)
            return oom(x);
        *e = (sql_expr){.kind = SQL_EXPR_COLUMN, .location = -1, .column = d->cols[i].name};
        (*exprs)[*n] = e;
        (*names)[*n] = d->cols[i].name;
        (*types)[(*n)++] = d->cols[i].type;
    }
    return 0;
}

/* The rows read by ADD PRIMARY KEY, copied into the statement arena. */
typedef struct held_rows {
    sql__exec *x;
    const sql_type *types;
    sql_datum **rows;
    size_t n, cap;
    size_t nnull; /* the last ones have a NULL in a key column */
} held_rows;

static int hold_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    held_rows *h = arg;
    kv_arena *a = h->x->arena;
    sql_datum *row = kv_arena_alloc(a, (n + 1) * sizeof *row);

    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 32;
        sql_datum **rows = kv_arena_alloc(a, cap * sizeof *rows);
        if (!rows)
            return sql__oom(a, err);
        if (h->n)
            memcpy(rows, h->rows, h->n * sizeof *rows);
        h->rows = rows;
        h->cap = cap;
    }
    if (!row)
        return sql__oom(a, err);
    for (size_t i = 0; i < n; i++)
        if (sql_datum_copy(h->types[i].oid, &vals[i], a, &row[i], err) < 0)
            return -1;
    h->rows[h->n++] = row;
    return 0;
}

/* Reads every row of `d` (visible columns) into h, then deletes them. */
static int take_rows(sql__exec *x, const sql_table_desc *d, held_rows *h, sql_expr **exprs, int n)
{
    sql_target *t = kv_arena_alloc(x->arena, ((size_t)n + 1) * sizeof *t);
    sql_name from = {.name = d->name, .location = -1};
    sql_params none = {0};
    uint64_t count;

    if (!t)
        return oom(x);
    for (int i = 0; i < n; i++)
        t[i] = (sql_target){.expr = exprs[i], .location = -1};
    sql_stmt sel = {.kind = SQL_STMT_SELECT,
                    .u.select = {.targets = t, .ntargets = n, .has_from = true, .from = from}};
    sql_stmt del = {.kind = SQL_STMT_DELETE, .u.modify = {.table = from}};
    if (run_internal(x, &sel, &none, NULL, hold_row, h, &count) < 0)
        return -1;
    return run_internal(x, &del, &none, NULL, NULL, NULL, &count);
}

static const char *col_name(const sql_table_desc *d, uint32_t id)
{
    for (uint32_t i = 0; i < d->ncols; i++)
        if (d->cols[i].id == id)
            return d->cols[i].name;
    return "";
}

/* Moves the rows with a NULL in a column of d's primary key behind the
 * others (keeping both orders) and counts them, so that duplicates among
 * the rest are found first, as PostgreSQL's index build finds them. The
 * first such column's name, NULL when there is none. */
static const char *nulls_last(const sql_table_desc *d, held_rows *h, const char **names, int n)
{
    const char *found = NULL;
    size_t keep = 0, nnull = 0;
    sql_datum **null_rows = kv_arena_alloc(h->x->arena, (h->n + 1) * sizeof *null_rows);

    if (!null_rows) /* then the INSERT's NOT NULL check reports them */
        return NULL;
    for (size_t r = 0; r < h->n; r++) {
        const char *col = NULL;
        for (uint32_t k = 0; k < d->primary.ncols && !col; k++)
            for (int j = 0; j < n && !col; j++)
                if (h->rows[r][j].isnull && !strcmp(names[j], col_name(d, d->primary.col_ids[k])))
                    col = names[j];
        if (col) {
            null_rows[nnull++] = h->rows[r];
            found = found ? found : col;
        } else {
            h->rows[keep++] = h->rows[r];
        }
    }
    memcpy(&h->rows[keep], null_rows, nnull * sizeof *null_rows);
    h->nnull = nnull;
    return found;
}

/* Rows per INSERT when ADD PRIMARY KEY writes the held rows back. */
#define PUT_BATCH 1000

/* Writes the held rows back, PUT_BATCH at a time, through INSERT INTO t
 * (cols) VALUES ($1, ...), ... so the new key is checked like any write. */
static int put_rows(sql__exec *x, const sql_table_desc *d, const held_rows *h, const char **names,
                    int n)
{
    sql_name table = {.name = d->name, .location = -1};
    size_t batch = h->n < PUT_BATCH ? h->n : PUT_BATCH;
    sql_datum *vals = kv_arena_alloc(x->arena, (batch * (size_t)n + 1) * sizeof *vals);
    sql_type *types = kv_arena_alloc(x->arena, (batch * (size_t)n + 1) * sizeof *types);
    uint64_t count;

    if (!vals || !types)
        return oom(x);
    for (size_t i = 0; i < batch * (size_t)n; i++)
        types[i] = h->types[i % (size_t)n];
    for (size_t r = 0; r < h->n; r += batch) {
        size_t m = h->n - r < batch ? h->n - r : batch;
        sql_plan *p;
        for (size_t i = 0; i < m; i++)
            memcpy(&vals[i * (size_t)n], h->rows[r + i], (size_t)n * sizeof *vals);
        if (sql__plan_insert_rows(x, &table, names, types, (size_t)n, m, x->arena, &p) < 0)
            return -1;
        int rc = sql__internal_run(x, p, vals, types, NULL, NULL, &count);
        sql__plan_free(p);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The descriptor with key `k` instead of the hidden rowid. */
static int rekey(sql__exec *x, sql_table_desc *d, const sql_constraint *k)
{
    const sql_col_desc *key = NULL;

    for (uint32_t i = 0; i < d->ncols; i++)
        if (d->primary.ncols == 1 && d->cols[i].id == d->primary.col_ids[0])
            key = &d->cols[i];
    if (!key || !key->hidden)
        return sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_TABLE_DEFINITION,
                             "multiple primary keys for table \"%s\" are not allowed", d->name);
    sql_col_desc *cols = (sql_col_desc *)d->cols;
    uint32_t at = (uint32_t)(key - d->cols);
    memmove(&cols[at], &cols[at + 1], (d->ncols - at - 1) * sizeof *cols);
    d->ncols--;
    return set_primary(x, d, k);
}

/* PostgreSQL's index build words a duplicate "Key (a)=(1) is
 * duplicated."; the insert that met it said "... already exists.". */
int sql__ddl_index_duplicate(sql__exec *x, const char *name)
{
    static const char tail[] = " already exists.";
    const char *detail = x->err.detail;
    size_t n = detail ? strlen(detail) : 0;

    sql_error_set(&x->err, x->arena, SQL_STATE_UNIQUE_VIOLATION,
                  "could not create unique index \"%s\"", name);
    if (n > sizeof tail - 1 && !strcmp(detail + n - (sizeof tail - 1), tail))
        sql_error_detail(&x->err, x->arena, "%.*s is duplicated.", (int)(n - (sizeof tail - 1)),
                         detail);
    return -1;
}

/* ADD PRIMARY KEY on a table keyed by its hidden rowid: the rows move to
 * the new key in this transaction; duplicates fail like PostgreSQL's
 * index build. */
static int alter_add_pk(sql__exec *x, sql_table_desc *d, const sql_alter_cmd *c)
{
    sql_expr **exprs;
    const char **names;
    sql_type *types;
    int n = 0;
    held_rows h = {.x = x};

    if (rekey(x, d, &c->constraints[0]) < 0 ||
        visible_columns(x, d, &exprs, &names, &types, &n) < 0)
        return -1;
    h.types = types;
    if (take_rows(x, d, &h, exprs, n) < 0)
        return -1;
    if (sql_catalog_put_table(cat(x), txn(x), d, &x->err, x->arena) < 0)
        return -1;
    const char *null_col = nulls_last(d, &h, names, n);
    size_t all = h.n;
    h.n -= h.nnull;
    if (put_rows(x, d, &h, names, n) < 0)
        return x->err.state == SQL_STATE_UNIQUE_VIOLATION
                   ? sql__ddl_index_duplicate(x, d->primary.name)
                   : -1;
    if (h.n < all)
        return sql_error_set(&x->err, x->arena, SQL_STATE_NOT_NULL_VIOLATION,
                             "column \"%s\" of relation \"%s\" contains null values", null_col,
                             d->name);
    return 0;
}

/* One ALTER TABLE action on a fresh copy of the table: 0 done, 1 skipped
 * (IF [NOT] EXISTS). */
static int alter_cmd(sql__exec *x, const sql_table_desc *cur, const sql_alter_cmd *c)
{
    sql_table_desc d;
    int rc;

    if (sql_table_copy(cur, x->arena, &d, &x->err) < 0)
        return -1;
    switch (c->kind) {
    case SQL_ALTER_ADD_COLUMN:
        rc = alter_add_column(x, &d, c);
        break;
    case SQL_ALTER_DROP_COLUMN:
        rc = alter_drop_column(x, &d, c);
        break;
    default:
        assert(c->kind == SQL_ALTER_ADD_PRIMARY_KEY);
        return alter_add_pk(x, &d, c);
    }
    if (rc != 0)
        return rc;
    if (sql_catalog_put_table(cat(x), txn(x), &d, &x->err, x->arena) < 0)
        return -1;
    if (c->kind == SQL_ALTER_ADD_COLUMN &&
        (c->column.default_expr || c->column.serial || c->column.not_null))
        return backfill(x, &d, c->column.name);
    return 0;
}

static int alter_table(sql__exec *x)
{
    const sql_alter_table *at = &x->st->u.alter_table;

    for (int i = 0; i < at->ncmds; i++) {
        const sql_table_desc *d;
        /* each action sees the previous ones: the transaction wrote the
         * catalog, so the lookup reads it through KV */
        int rc = sql__ddl_find_table(x, &at->table, &d);
        if (rc == 1)
            return missing(x, SQL_STATE_UNDEFINED_TABLE, "relation", at->table.name, at->if_exists);
        if (rc < 0)
            return -1;
        rc = sql__ddl_not_view(x, d) < 0 ? -1 : alter_cmd(x, d, &at->cmds[i]);
        sql_table_release(d);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- databases -------------------------------------------------------------- */

static int no_block(sql__exec *x)
{
    if (x->s->state != SQL__TXN_BLOCK)
        return 0;
    return sql_error_set(&x->err, x->arena, SQL_STATE_ACTIVE_SQL_TRANSACTION,
                         "%s cannot run inside a transaction block", sql__ddl_tag(x->st->kind));
}

/* Database options: only what describes the one thing we do. */
static int db_options(sql__exec *x, const sql_database *db)
{
    for (int i = 0; i < db->noptions; i++) {
        const sql_option *o = &db->options[i];
        if (!strcmp(o->name, "encoding") && o->value &&
            (!strcasecmp(o->value, "utf8") || !strcasecmp(o->value, "utf-8")))
            continue;
        if (!strcmp(o->name, "template") && o->value && !strncmp(o->value, "template", 8))
            continue;
        sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "%s option \"%s\" is not supported yet", sql__ddl_tag(x->st->kind), o->name);
        x->err.position = sql_parse_position(x->query, o->location);
        return -1;
    }
    return 0;
}

static int create_database(sql__exec *x)
{
    const sql_database *db = &x->st->u.database;

    if (no_block(x) < 0 || db_options(x, db) < 0)
        return -1;
    int rc = sql_catalog_create_database(cat(x), txn(x), db->name, x->s->user, &x->err, x->arena);
    if (rc == 1)
        return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_DATABASE,
                             "database \"%s\" already exists", db->name);
    return rc;
}

static int drop_database(sql__exec *x)
{
    const sql_database *db = &x->st->u.database;

    if (no_block(x) < 0 || db_options(x, db) < 0)
        return -1;
    if (!strcmp(db->name, x->s->database))
        return sql_error_set(&x->err, x->arena, SQL_STATE_OBJECT_IN_USE,
                             "cannot drop the currently open database");
    int rc = sql_catalog_drop_database(cat(x), txn(x), db->name, &x->err, x->arena);
    if (rc == 1)
        return missing(x, SQL_STATE_INVALID_CATALOG_NAME, "database", db->name, db->if_exists);
    return rc;
}

/* ---- roles ------------------------------------------------------------------ */

static int role_options(sql__exec *x, const sql_role *r, sql_role_desc *d)
{
    for (int i = 0; i < r->noptions; i++) {
        const sql_option *o = &r->options[i];
        bool on = o->value && !strcmp(o->value, "true");
        if (!strcmp(o->name, "superuser"))
            d->superuser = on;
        else if (!strcmp(o->name, "canlogin"))
            d->login = on;
        else if (strcmp(o->name, "inherit") != 0) {
            sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                          "role option \"%s\" is not supported yet", o->name);
            x->err.position = sql_parse_position(x->query, o->location);
            return -1;
        }
    }
    if (!r->has_password)
        return 0;
    d->verifier = NULL;
    if (!r->password)
        return 0;
    if (!x->s->eng->opts.hash_password)
        return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "passwords are not supported by this server");
    char *v = x->s->eng->opts.hash_password(r->password);
    if (!v)
        return oom(x);
    d->verifier = kv_arena_strdup(x->arena, v);
    free(v);
    return d->verifier ? 0 : oom(x);
}

static int need_superuser(sql__exec *x, const char *what)
{
    if (x->s->superuser)
        return 0;
    return sql_error_set(&x->err, x->arena, SQL_STATE_INSUFFICIENT_PRIVILEGE,
                         "permission denied to %s role", what);
}

static int create_role(sql__exec *x)
{
    const sql_role *r = &x->st->u.role;
    sql_role_desc d = {.name = r->names[0], .login = r->is_user};

    if (need_superuser(x, "create") < 0 || role_options(x, r, &d) < 0)
        return -1;
    int rc = sql_catalog_put_role(cat(x), txn(x), &d, true, &x->err, x->arena);
    if (rc == 1)
        return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_OBJECT,
                             "role \"%s\" already exists", d.name);
    return rc;
}

static int alter_role(sql__exec *x)
{
    const sql_role *r = &x->st->u.role;
    sql_role_desc d;
    bool own = !strcmp(r->names[0], x->s->user);

    /* a user may change their own password, nothing else */
    if ((!own || r->noptions) && need_superuser(x, "alter") < 0)
        return -1;
    int rc = sql_catalog_role(cat(x), txn(x), r->names[0], &d, &x->err, x->arena);
    if (rc == 1)
        return missing(x, SQL_STATE_UNDEFINED_OBJECT, "role", r->names[0], false);
    if (rc < 0 || role_options(x, r, &d) < 0)
        return -1;
    return sql_catalog_put_role(cat(x), txn(x), &d, false, &x->err, x->arena) < 0 ? -1 : 0;
}

static int drop_role(sql__exec *x)
{
    const sql_role *r = &x->st->u.role;

    if (need_superuser(x, "drop") < 0)
        return -1;
    for (int i = 0; i < r->nnames; i++) {
        if (!strcmp(r->names[i], x->s->user))
            return sql_error_set(&x->err, x->arena, SQL_STATE_OBJECT_IN_USE,
                                 "current user cannot be dropped");
        int rc = sql_catalog_drop_role(cat(x), txn(x), r->names[i], &x->err, x->arena);
        if (rc == 1 &&
            missing(x, SQL_STATE_UNDEFINED_OBJECT, "role", r->names[i], r->if_exists) < 0)
            return -1;
        if (rc < 0)
            return -1;
    }
    return 0;
}

int sql__ddl(sql__exec *x)
{
    static int (*const run[])(sql__exec *) = {
        [SQL_STMT_CREATE_TABLE] = create_table,
        [SQL_STMT_DROP_TABLE] = drop_table,
        [SQL_STMT_TRUNCATE] = truncate_tables,
        [SQL_STMT_ALTER_TABLE] = alter_table,
        [SQL_STMT_CREATE_DATABASE] = create_database,
        [SQL_STMT_DROP_DATABASE] = drop_database,
        [SQL_STMT_CREATE_ROLE] = create_role,
        [SQL_STMT_ALTER_ROLE] = alter_role,
        [SQL_STMT_DROP_ROLE] = drop_role,
        [SQL_STMT_CREATE_INDEX] = sql__ddl_create_index,
        [SQL_STMT_DROP_INDEX] = sql__ddl_drop_index,
        [SQL_STMT_CREATE_VIEW] = sql__ddl_create_view,
        [SQL_STMT_DROP_VIEW] = sql__ddl_drop_view,
    };

    assert((size_t)x->st->kind < sizeof run / sizeof run[0] && run[x->st->kind]);
    snprintf(x->tag, sizeof x->tag, "%s", sql__ddl_tag(x->st->kind));
    return run[x->st->kind](x);
}
