/*
 * ddl_index.c - CREATE [UNIQUE] INDEX and DROP INDEX (session_int.h).
 *
 * An index is one more sql_index_desc of its table's descriptor
 * (`standalone` set, so DROP INDEX may drop it while constraint indexes
 * stay), and its entries live under /table id/index id/ (rowcodec_int.h).
 * Index names share one namespace with tables per schema, as relations
 * do in PostgreSQL: 42P07 `relation "x" already exists`.
 *
 * Backfill: the descriptor change and the entries of every existing row
 * are written in the one serializable transaction of the statement.
 * Writing the descriptor bumps the catalog version, which every
 * transaction that uses a descriptor has read, so a concurrent writer
 * either committed before this transaction's scan (the scan sees its
 * row, or waits on its intent) or conflicts on the version key and runs
 * again with the new descriptor, writing the entry itself
 * (docs/sql.md, "Secondary indexes").
 */
#include <stdio.h>
#include <string.h>

#include "sql/session_int.h"

/* A relation of the database found by name. */
typedef struct relation {
    const sql_table_desc *table; /* a reference; NULL: no such relation */
    int ix;                      /* into table->indexes; -1: primary; -2: the table */
} relation;

static sql_catalog *cat(const sql__exec *x)
{
    return x->s->eng->catalog;
}

/* Which index of `t` is named `name`: see relation.ix; -3: none. */
static int index_named(const sql_table_desc *t, const char *name)
{
    if (!strcmp(t->name, name))
        return -2;
    if (!strcmp(t->primary.name, name))
        return -1;
    for (uint32_t i = 0; i < t->nindexes; i++)
        if (!strcmp(t->indexes[i].name, name))
            return (int)i;
    return -3;
}

/* Looks `name` up among the tables of x's database and their indexes
 * (one catalog lookup per table: cached descriptors). out->table, when
 * set, is a reference the caller releases (sql_table_release). */
static int find_relation(sql__exec *x, const char *name, relation *out)
{
    const char **names;
    size_t n;

    *out = (relation){0};
    if (sql_catalog_list_tables(cat(x), x->s->txn, x->s->db_id, &names, &n, &x->err, x->arena) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const sql_table_desc *t;
        int rc = sql_catalog_table(cat(x), x->s->txn, x->s->db_id, names[i], &t, &x->err, x->arena);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        int ix = index_named(t, name);
        if (ix != -3) {
            *out = (relation){.table = t, .ix = ix};
            return 0;
        }
        sql_table_release(t);
    }
    return 0;
}

/* Whether a table or an index of x's database is named `name`: 1 yes,
 * 0 no, -1 with x->err set. */
static int relation_exists(sql__exec *x, const char *name)
{
    relation r;

    if (find_relation(x, name, &r) < 0)
        return -1;
    sql_table_release(r.table);
    return r.table != NULL;
}

/* PostgreSQL's ChooseRelationName: t_a_b_idx, then t_a_b_idx1, ... into
 * *out (in x->arena). */
static int choose_name(sql__exec *x, const sql_create_index *ci, const char **out)
{
    size_t len = strlen(ci->table.name) + 8;
    for (int i = 0; i < ci->ncolumns; i++)
        len += strlen(ci->columns[i]) + 1;
    char *base = kv_arena_alloc(x->arena, len), *q = base;
    char *name = kv_arena_alloc(x->arena, len + 12);
    if (!base || !name)
        return sql__oom(x->arena, &x->err);
    q += sprintf(q, "%s", ci->table.name);
    for (int i = 0; i < ci->ncolumns; i++)
        q += sprintf(q, "_%s", ci->columns[i]);
    sprintf(q, "_idx");
    strcpy(name, base);
    for (int i = 1;; i++) {
        int rc = relation_exists(x, name);
        if (rc <= 0) {
            *out = name;
            return rc;
        }
        sprintf(name, "%s%d", base, i);
    }
}

/* The new index's descriptor entry over ci's columns (42703). */
static int build_index(sql__exec *x, const sql_table_desc *t, const sql_create_index *ci,
                       const char *name, sql_index_desc *out)
{
    uint32_t *ids = kv_arena_alloc(x->arena, (size_t)ci->ncolumns * sizeof *ids + 1);
    sql_key_dir *dirs = kv_arena_alloc(x->arena, (size_t)ci->ncolumns * sizeof *dirs + 1);

    if (!ids || !dirs)
        return sql__oom(x->arena, &x->err);
    for (int i = 0; i < ci->ncolumns; i++) {
        uint32_t c = 0;
        while (c < t->ncols && strcmp(t->cols[c].name, ci->columns[i]) != 0)
            c++;
        if (c == t->ncols)
            return sql_error_set(&x->err, x->arena, SQL_STATE_UNDEFINED_COLUMN,
                                 "column \"%s\" does not exist", ci->columns[i]);
        ids[i] = t->cols[c].id;
        dirs[i] = ci->desc[i] ? SQL_KEY_DESC : SQL_KEY_ASC;
    }
    *out = (sql_index_desc){.id = t->next_index_id,
                            .name = name,
                            .unique = ci->unique,
                            .standalone = true,
                            .ncols = (uint32_t)ci->ncolumns,
                            .col_ids = ids,
                            .dirs = dirs};
    return 0;
}

/* Writes the entry of index `pos` (into the descriptor's indexes, which
 * this transaction has just written) for every row of table `table`. */
static int backfill(sql__exec *x, const char *table, uint32_t pos)
{
    /* the plan looks the table up again: this transaction wrote the
     * catalog, so it reads the new descriptor through KV */
    sql_stmt all_rows = {.kind = SQL_STMT_DELETE,
                         .location = -1,
                         .u.modify = {.table = {.name = table, .location = -1}}};
    sql_params none = {0};
    sql_eval_env env;
    sql_run_ctx ctx;
    sql_plan *p;
    uint64_t n;

    if (sql__internal_plan(x, &all_rows, &none, &p) < 0)
        return -1;
    sql__run_ctx_init(x, &ctx, &env, NULL, NULL, NULL, NULL);
    int rc = sql__run_backfill(p, pos, &ctx, x->arena, &n, &x->err);
    sql__plan_free(p);
    return rc;
}

/* Writes `t` with index `ix` appended, then the entries of every row. */
static int add_index(sql__exec *x, const sql_table_desc *t, const sql_index_desc *ix)
{
    sql_table_desc d;

    if (sql_table_copy(t, x->arena, &d, &x->err) < 0)
        return -1;
    sql_index_desc *all = kv_arena_alloc(x->arena, (d.nindexes + 1) * sizeof *all);
    if (!all)
        return sql__oom(x->arena, &x->err);
    memcpy(all, d.indexes, d.nindexes * sizeof *all);
    all[d.nindexes++] = *ix;
    d.indexes = all;
    d.next_index_id++;
    if (sql_catalog_put_table(cat(x), x->s->txn, &d, &x->err, x->arena) < 0)
        return -1;
    int rc = backfill(x, t->name, d.nindexes - 1);
    if (rc < 0 && x->err.state == SQL_STATE_UNIQUE_VIOLATION)
        return sql__ddl_index_duplicate(x, ix->name);
    return rc;
}

static int already_exists(sql__exec *x, const char *name, bool skip)
{
    if (skip)
        return sql__notice(x, SQL_STATE_DUPLICATE_TABLE, SQL_SEV_NOTICE,
                           "relation \"%s\" already exists, skipping", name);
    return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_TABLE,
                         "relation \"%s\" already exists", name);
}

int sql__ddl_create_index(sql__exec *x)
{
    const sql_create_index *ci = &x->st->u.create_index;
    const sql_table_desc *t;
    const char *name = ci->name;
    sql_index_desc ix;

    int rc = sql__ddl_find_table(x, &ci->table, &t);
    if (rc == 1) {
        sql_error_set(&x->err, x->arena, SQL_STATE_UNDEFINED_TABLE,
                      "relation \"%s\" does not exist", ci->table.name);
        return -1;
    }
    if (rc < 0)
        return -1;
    if (sql__ddl_not_view(x, t) < 0) {
        sql_table_release(t);
        return -1;
    }
    if (!name)
        rc = choose_name(x, ci, &name);
    else if ((rc = relation_exists(x, name)) > 0) /* 1: skipped */
        rc = already_exists(x, name, ci->if_not_exists) < 0 ? -1 : 1;
    if (rc == 0)
        rc = build_index(x, t, ci, name, &ix);
    if (rc == 0)
        rc = add_index(x, t, &ix);
    sql_table_release(t);
    return rc < 0 ? -1 : 0;
}

/* Removes index r->ix from its table and deletes its entries. */
static int remove_index(sql__exec *x, const relation *r)
{
    const sql_table_desc *t = r->table;
    sql_table_desc d;
    kv_req q = {.method = KV_DELETE_RANGE};
    kv_request req;
    kv_response resp;

    if (sql_table_copy(t, x->arena, &d, &x->err) < 0 ||
        sql_index_span(t->id, t->indexes[r->ix].id, x->arena, &q.span, &x->err) < 0)
        return -1;
    sql_index_desc *kept = (sql_index_desc *)d.indexes;
    memmove(&kept[r->ix], &kept[r->ix + 1], (d.nindexes - (uint32_t)r->ix - 1) * sizeof *kept);
    d.nindexes--;
    if (sql_catalog_put_table(cat(x), x->s->txn, &d, &x->err, x->arena) < 0)
        return -1;
    if (kv_request_init(&req) != 0)
        return sql__oom(x->arena, &x->err);
    int rc = -1;
    if (kv_request_add(&req, &q) != 0) {
        sql__oom(x->arena, &x->err);
        goto out_free_req;
    }
    if (kv_response_init(&resp) != 0) {
        sql__oom(x->arena, &x->err);
        goto out_free_req;
    }
    rc = sql_txn_send(x->s->txn, &req, &resp, &x->err, x->arena);
    kv_response_free(&resp);
out_free_req:
    kv_request_free(&req);
    return rc;
}

/* Why relation r cannot be dropped as an index (or 0 when it can). */
static int not_droppable(sql__exec *x, const relation *r, const char *name)
{
    if (r->ix == -2)
        return sql_error_set(&x->err, x->arena, SQL_STATE_WRONG_OBJECT_TYPE,
                             "\"%s\" is not an index", name);
    if (r->ix >= 0 && r->table->indexes[r->ix].standalone)
        return 0;
    sql_error_set(&x->err, x->arena, SQL_STATE_DEPENDENT_OBJECTS_STILL_EXIST,
                  "cannot drop index %s because constraint %s on table %s requires it", name, name,
                  r->table->name);
    sql_error_hint(&x->err, x->arena, "You can drop constraint %s on table %s instead.", name,
                   r->table->name);
    return -1;
}

int sql__ddl_drop_index(sql__exec *x)
{
    const sql_table_list *l = &x->st->u.tables;

    for (int i = 0; i < l->ntables; i++) {
        const sql_name *n = &l->tables[i];
        relation r = {0};
        if (n->schema && strcmp(n->schema, "public") != 0) {
            sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_SCHEMA_NAME,
                          "schema \"%s\" does not exist", n->schema);
            return -1;
        }
        if (find_relation(x, n->name, &r) < 0)
            return -1;
        if (!r.table && l->if_exists) {
            if (sql__notice(x, SQL_STATE_SUCCESSFUL_COMPLETION, SQL_SEV_NOTICE,
                            "index \"%s\" does not exist, skipping", n->name) < 0)
                return -1;
            continue;
        }
        if (!r.table)
            return sql_error_set(&x->err, x->arena, SQL_STATE_UNDEFINED_OBJECT,
                                 "index \"%s\" does not exist", n->name);
        int rc = not_droppable(x, &r, n->name);
        if (rc == 0)
            rc = remove_index(x, &r);
        sql_table_release(r.table);
        if (rc < 0)
            return -1;
    }
    return 0;
}
