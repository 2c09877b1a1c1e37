/*
 * ddl_view.c - CREATE [OR REPLACE] VIEW and DROP VIEW, and the checks
 * that keep views and tables apart in the other DDL (session_int.h;
 * docs/sql.md, "Views").
 *
 * A view is a table descriptor with view_query set (catalog.h): its
 * columns are the query's result columns when it was created, its
 * dep_ids the tables and views the query reads. CREATE VIEW plans the
 * query once to learn both, so a query that does not plan is refused
 * then, with its error. Like tables, views are written through the
 * catalog in the session's transaction, replicated and durable with it.
 *
 * PostgreSQL keeps dependencies in pg_depend; here they live in the
 * dependent view, so DROP TABLE/VIEW looks through the database's views
 * for those naming the object (2BP01, listing every dependent, nested
 * ones too, as PostgreSQL's DETAIL does). CASCADE is refused by the
 * parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/plan_int.h"
#include "sql/session_int.h"

/* The deepest chain of views DROP and OR REPLACE follow. */
#define MAX_VIEW_DEPTH 64

static sql_catalog *cat(const sql__exec *x)
{
    return x->s->eng->catalog;
}

static int oom(sql__exec *x)
{
    return sql__oom(x->arena, &x->err);
}

/* d's columns: plan p's result columns, renamed by CREATE VIEW's list. */
static int view_columns(sql__exec *x, const sql_create_view *cv, const sql_plan *p,
                        sql_table_desc *d)
{
    size_t n;
    const sql_column_info *info = sql__plan_columns(p, &n);
    if ((size_t)cv->ncols > n)
        return sql_error_set(&x->err, x->arena, SQL_STATE_SYNTAX_ERROR,
                             "CREATE VIEW specifies more column names than columns");
    sql_col_desc *cols = kv_arena_alloc(x->arena, (n + 1) * sizeof(*cols));
    if (cols == NULL)
        return oom(x);
    for (size_t i = 0; i < n; i++) {
        const char *name = i < (size_t)cv->ncols ? cv->cols[i] : info[i].name;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[j].name, name) == 0)
                return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_COLUMN,
                                     "column \"%s\" specified more than once", name);
        cols[i] = (sql_col_desc){.id = (uint32_t)i + 1, .name = name, .type = info[i].type};
    }
    d->cols = cols;
    d->ncols = (uint32_t)n;
    d->next_col_id = (uint32_t)n + 1;
    return 0;
}

/* The descriptor of view cv (no id yet): columns and dependencies from
 * the plan of its query. */
static int build_view(sql__exec *x, const sql_create_view *cv, sql_table_desc *d)
{
    sql_stmt st = {.kind = SQL_STMT_SELECT, .location = x->st->location, .len = x->st->len};
    sql_params none = {0};
    sql_plan *p;
    uint32_t *deps;

    st.u.select = *cv->query;
    *d = (sql_table_desc){.db_id = x->s->db_id,
                          .name = cv->view.name,
                          .primary = {.id = SQL_PRIMARY_INDEX_ID, .name = ""},
                          .next_index_id = SQL_PRIMARY_INDEX_ID + 1,
                          .view_query = cv->query_text};
    if (sql__internal_plan(x, &st, &none, &p) < 0)
        return -1;
    int rc = view_columns(x, cv, p, d) < 0 ||
                     sql__plan_relations(p, x->arena, &deps, &d->ndeps, &x->err) < 0
                 ? -1
                 : 0;
    d->dep_ids = deps;
    sql__plan_free(p);
    return rc;
}

/* Whether view `id` reads `target`, directly or through other views. */
static int reads(sql__exec *x, uint32_t id, uint32_t target, int depth, bool *out)
{
    const sql_table_desc *v;
    if (id == target) {
        *out = true;
        return 0;
    }
    if (depth > MAX_VIEW_DEPTH ||
        sql_catalog_table_by_id(cat(x), x->s->txn, id, &v, &x->err, x->arena) != 0)
        return depth > MAX_VIEW_DEPTH ? 0 : -1;
    int rc = 0;
    for (uint32_t i = 0; i < v->ndeps && !*out && rc == 0; i++)
        rc = reads(x, v->dep_ids[i], target, depth + 1, out);
    sql_table_release(v);
    return rc;
}

/* OR REPLACE of view `old` by `d`: PostgreSQL's checkViewColumns (the
 * old columns stay, in order, with their names and types; new ones may
 * follow), and no view may come to read itself. */
static int check_replace(sql__exec *x, const sql_table_desc *old, const sql_table_desc *d)
{
    if (d->ncols < old->ncols)
        return sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_TABLE_DEFINITION,
                             "cannot drop columns from view");
    for (uint32_t i = 0; i < old->ncols; i++) {
        const sql_col_desc *a = &old->cols[i], *b = &d->cols[i];
        if (strcmp(a->name, b->name) != 0) {
            sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_TABLE_DEFINITION,
                          "cannot change name of view column \"%s\" to \"%s\"", a->name, b->name);
            sql_error_hint(&x->err, x->arena,
                           "Use ALTER VIEW ... RENAME COLUMN ... to change name of view column "
                           "instead.");
            return -1;
        }
        if (a->type.oid != b->type.oid)
            return sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_TABLE_DEFINITION,
                                 "cannot change data type of view column \"%s\" from %s to %s",
                                 a->name, sql_type_name(a->type.oid), sql_type_name(b->type.oid));
    }
    bool cycle = false;
    for (uint32_t i = 0; i < d->ndeps && !cycle; i++)
        if (reads(x, d->dep_ids[i], old->id, 0, &cycle) < 0)
            return -1;
    if (cycle)
        return sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_OBJECT_DEFINITION,
                             "infinite recursion detected in rules for relation \"%s\"", old->name);
    return 0;
}

int sql__ddl_create_view(sql__exec *x)
{
    const sql_create_view *cv = &x->st->u.create_view;
    const sql_table_desc *old;
    sql_table_desc d;

    if (build_view(x, cv, &d) < 0)
        return -1;
    int rc = sql__ddl_find_table(x, &cv->view, &old);
    if (rc == 1) {
        if (sql_catalog_new_id(cat(x), &d.id, &x->err, x->arena) < 0)
            return -1;
        rc = sql_catalog_create_table(cat(x), x->s->txn, &d, &x->err, x->arena);
        return rc == 1 ? sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_TABLE,
                                       "relation \"%s\" already exists", d.name)
                       : rc;
    }
    if (rc < 0)
        return -1;
    if (!cv->replace)
        rc = sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_TABLE,
                           "relation \"%s\" already exists", d.name);
    else if (old->view_query == NULL)
        rc = sql_error_set(&x->err, x->arena, SQL_STATE_WRONG_OBJECT_TYPE, "\"%s\" is not a view",
                           d.name);
    else
        rc = check_replace(x, old, &d);
    if (rc == 0) {
        d.id = old->id;
        d.version = old->version;
        rc = sql_catalog_put_table(cat(x), x->s->txn, &d, &x->err, x->arena);
    }
    sql_table_release(old);
    return rc;
}

/* ---- dependencies ------------------------------------------------------ */

/* The database's views, ordered by id (creation), as references. */
typedef struct view_list {
    const sql_table_desc **v;
    size_t n;
} view_list;

static int by_id(const void *a, const void *b)
{
    uint32_t x = (*(const sql_table_desc *const *)a)->id;
    uint32_t y = (*(const sql_table_desc *const *)b)->id;
    return x < y ? -1 : x > y;
}

static void release_views(view_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        sql_table_release(l->v[i]);
}

static int list_views(sql__exec *x, view_list *out)
{
    const char **names;
    size_t n;
    *out = (view_list){0};
    if (sql_catalog_list_tables(cat(x), x->s->txn, x->s->db_id, &names, &n, &x->err, x->arena) < 0)
        return -1;
    out->v = kv_arena_alloc(x->arena, (n + 1) * sizeof(*out->v));
    if (out->v == NULL)
        return oom(x);
    for (size_t i = 0; i < n; i++) {
        const sql_table_desc *d;
        int rc = sql_catalog_table(cat(x), x->s->txn, x->s->db_id, names[i], &d, &x->err, x->arena);
        if (rc < 0) {
            release_views(out);
            return -1;
        }
        if (rc == 0 && d->view_query == NULL)
            sql_table_release(d);
        else if (rc == 0)
            out->v[out->n++] = d;
    }
    qsort(out->v, out->n, sizeof(*out->v), by_id);
    return 0;
}

static const char *kind_word(const sql_table_desc *d)
{
    return d->view_query ? "view" : "table";
}

/* Whether the DROP statement x runs names `v` too (it goes with d). */
static bool dropped_too(const sql__exec *x, const sql_table_desc *v)
{
    const sql_table_list *l = &x->st->u.tables;
    for (int i = 0; i < l->ntables; i++)
        if (strcmp(l->tables[i].name, v->name) == 0)
            return true;
    return false;
}

/* Appends "view v depends on table t" for every view reading d, each
 * followed by its own dependents (PostgreSQL's order: depth first); a
 * view the statement drops as well is not in the way, its dependents
 * may be. */
static int describe_dependents(sql__exec *x, const view_list *l, const sql_table_desc *d, int depth,
                               char **buf, size_t *len)
{
    for (size_t i = 0; i < l->n && depth < MAX_VIEW_DEPTH; i++) {
        const sql_table_desc *v = l->v[i];
        bool reads_d = false;
        for (uint32_t k = 0; k < v->ndeps; k++)
            reads_d |= v->dep_ids[k] == d->id;
        if (!reads_d)
            continue;
        if (dropped_too(x, v)) {
            if (describe_dependents(x, l, v, depth + 1, buf, len) < 0)
                return -1;
            continue;
        }
        size_t add = strlen(v->name) + strlen(d->name) + 32;
        char *grown = kv_arena_alloc(x->arena, *len + add);
        if (grown == NULL)
            return oom(x);
        int n = snprintf(grown, *len + add, "%s%sview %s depends on %s %s", *len ? *buf : "",
                         *len ? "\n" : "", v->name, kind_word(d), d->name);
        *buf = grown;
        *len = (size_t)n;
        if (describe_dependents(x, l, v, depth + 1, buf, len) < 0)
            return -1;
    }
    return 0;
}

int sql__ddl_check_dependents(sql__exec *x, const sql_table_desc *d)
{
    view_list l;
    char *detail = NULL;
    size_t len = 0;
    if (list_views(x, &l) < 0)
        return -1;
    int rc = describe_dependents(x, &l, d, 0, &detail, &len);
    release_views(&l);
    if (rc < 0 || len == 0)
        return rc;
    sql_error_set(&x->err, x->arena, SQL_STATE_DEPENDENT_OBJECTS_STILL_EXIST,
                  "cannot drop %s %s because other objects depend on it", kind_word(d), d->name);
    sql_error_detail(&x->err, x->arena, "%s", detail);
    sql_error_hint(&x->err, x->arena, "Use DROP ... CASCADE to drop the dependent objects too.");
    return -1;
}

/* ---- DROP VIEW and the other DDL ------------------------------------- */

int sql__ddl_not_view(sql__exec *x, const sql_table_desc *d)
{
    if (d->view_query == NULL)
        return 0;
    switch (x->st->kind) {
    case SQL_STMT_DROP_TABLE:
        sql_error_set(&x->err, x->arena, SQL_STATE_WRONG_OBJECT_TYPE, "\"%s\" is not a table",
                      d->name);
        sql_error_hint(&x->err, x->arena, "Use DROP VIEW to remove a view.");
        return -1;
    case SQL_STMT_CREATE_INDEX:
        sql_error_set(&x->err, x->arena, SQL_STATE_WRONG_OBJECT_TYPE,
                      "cannot create index on relation \"%s\"", d->name);
        sql_error_detail(&x->err, x->arena, "This operation is not supported for views.");
        return -1;
    case SQL_STMT_ALTER_TABLE:
        return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "ALTER TABLE on a view is not supported yet");
    default:
        return sql_error_set(&x->err, x->arena, SQL_STATE_WRONG_OBJECT_TYPE,
                             "\"%s\" is not a table", d->name);
    }
}

/* DROP VIEW of one name: 1 when skipped (IF EXISTS). */
static int drop_one(sql__exec *x, const sql_name *name, bool if_exists)
{
    const sql_table_desc *d;
    int rc = sql__ddl_find_table(x, name, &d);
    if (rc == 1 && if_exists)
        return sql__notice(x, SQL_STATE_SUCCESSFUL_COMPLETION, SQL_SEV_NOTICE,
                           "view \"%s\" does not exist, skipping", name->name);
    if (rc == 1)
        return sql_error_set(&x->err, x->arena, SQL_STATE_UNDEFINED_TABLE,
                             "view \"%s\" does not exist", name->name);
    if (rc < 0)
        return -1;
    if (d->view_query == NULL) {
        sql_error_set(&x->err, x->arena, SQL_STATE_WRONG_OBJECT_TYPE, "\"%s\" is not a view",
                      d->name);
        sql_error_hint(&x->err, x->arena, "Use DROP TABLE to remove a table.");
        rc = -1;
    } else if ((rc = sql__ddl_check_dependents(x, d)) == 0) {
        rc = sql_catalog_drop_table(cat(x), x->s->txn, d, &x->err, x->arena);
    }
    sql_table_release(d);
    return rc;
}

int sql__ddl_drop_view(sql__exec *x)
{
    const sql_table_list *l = &x->st->u.tables;
    for (int i = 0; i < l->ntables; i++)
        if (drop_one(x, &l->tables[i], l->if_exists) < 0)
            return -1;
    return 0;
}
