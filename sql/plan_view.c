/*
 * plan_view.c - what the planner and CREATE VIEW need of views
 * (plan_int.h; docs/sql.md, "Views").
 *
 * A view is a descriptor whose view_query holds its query's text
 * (catalog.h). Where a view is read, plan.c parses that text here and
 * plans it as a FROM subquery. A write to a view whose query selects
 * plain columns of one table is rewritten into a write to that table
 * (sql__view_write); other writes to views are refused: with
 * PostgreSQL's 55000 and its reason when PostgreSQL would refuse them
 * too (the view is not automatically updatable), else with 0A000.
 * CREATE VIEW records what the view reads from its plan
 * (sql__plan_relations), so that DROP refuses to orphan it.
 */
#include <assert.h>
#include <string.h>

#include "sql/plan_join_int.h"
#include "sql/types_int.h"

/* The views a write goes through before it reaches a table, at most. */
#define MAX_VIEW_NESTING 32

int sql__view_query(const sql_table_desc *v, kv_arena *arena, const sql_select **out,
                    sql_error *err)
{
    sql_stmt_list l;
    assert(v->view_query != NULL);
    if (sql_parse(v->view_query, arena, &l, err) != 0)
        return -1;
    if (l.n != 1 || l.stmts[0].kind != SQL_STMT_SELECT)
        return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR,
                             "the query of view \"%s\" is no SELECT", v->name);
    *out = &l.stmts[0].u.select;
    return 0;
}

/* Why PostgreSQL would not write through a view with query `q`
 * (view_query_is_auto_updatable, in its order); NULL: it would. */
static const char *not_updatable(const sql_select *q)
{
    bool aggregates = false;
    for (int i = 0; i < q->ntargets; i++)
        aggregates |= sql_expr_has_aggregate(q->targets[i].expr);
    if (q->distinct)
        return "Views containing DISTINCT are not automatically updatable.";
    if (q->ngroup_by > 0)
        return "Views containing GROUP BY are not automatically updatable.";
    if (q->having != NULL)
        return "Views containing HAVING are not automatically updatable.";
    if (q->setop != SQL_SETOP_NONE)
        return "Views containing UNION, INTERSECT, or EXCEPT are not automatically updatable.";
    if (q->nctes > 0)
        return "Views containing WITH are not automatically updatable.";
    if (q->limit != NULL || q->offset != NULL)
        return "Views containing LIMIT or OFFSET are not automatically updatable.";
    if (aggregates)
        return "Views that return aggregate functions are not automatically updatable.";
    if (!q->has_from || q->from_sub != NULL)
        return "Views that do not select from a single table or view are not automatically "
               "updatable.";
    return NULL;
}

int sql__view_write_error(const sql_table_desc *v, sql_stmt_kind kind, kv_arena *arena,
                          sql_error *err)
{
    static const struct {
        const char *msg, *verb;
    } words[] = {
        [SQL_STMT_INSERT] = {"cannot insert into view", "INSERT"},
        [SQL_STMT_UPDATE] = {"cannot update view", "UPDATE"},
        [SQL_STMT_DELETE] = {"cannot delete from view", "DELETE"},
    };
    static const char *const gerund[] = {[SQL_STMT_INSERT] = "inserting into",
                                         [SQL_STMT_UPDATE] = "updating",
                                         [SQL_STMT_DELETE] = "deleting from"};
    const sql_select *q;
    assert(kind == SQL_STMT_INSERT || kind == SQL_STMT_UPDATE || kind == SQL_STMT_DELETE);
    if (sql__view_query(v, arena, &q, err) != 0)
        return -1;
    const char *why = not_updatable(q);
    if (why == NULL)
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "%s through a view is not supported yet", words[kind].verb);
    sql_error_set(err, arena, SQL_STATE_OBJECT_NOT_IN_PREREQUISITE_STATE, "%s \"%s\"",
                  words[kind].msg, v->name);
    sql_error_detail(err, arena, "%s", why);
    sql_error_hint(err, arena,
                   "To enable %s the view, provide an INSTEAD OF %s trigger or an unconditional "
                   "ON %s DO INSTEAD rule.",
                   gerund[kind], words[kind].verb, words[kind].verb);
    return -1;
}

/* Adds id to ids[0..*n) unless there. */
static int add_id(uint32_t id, uint32_t **ids, uint32_t *n, uint32_t *cap, kv_arena *arena,
                  sql_error *err)
{
    for (uint32_t i = 0; i < *n; i++)
        if ((*ids)[i] == id)
            return 0;
    if (*n == *cap) {
        uint32_t *grown = kv_arena_alloc(arena, (*cap * 2 + 8) * sizeof(*grown));
        if (grown == NULL)
            return sql__oom(arena, err);
        if (*n > 0)
            memcpy(grown, *ids, *n * sizeof(*grown));
        *ids = grown;
        *cap = *cap * 2 + 8;
    }
    (*ids)[(*n)++] = id;
    return 0;
}

static int relations(const sql_plan *p, uint32_t **ids, uint32_t *n, uint32_t *cap, kv_arena *arena,
                     sql_error *err)
{
    if (p->view != NULL) /* what the view reads is its own dependency */
        return add_id(p->view->id, ids, n, cap, arena, err);
    /* a system catalog is no dependency: it is never dropped */
    if (p->table != NULL && !p->table->is_virtual &&
        add_id(p->table->id, ids, n, cap, arena, err) != 0)
        return -1;
    for (int i = 0; i < p->nsubs; i++)
        if (relations(p->subs[i], ids, n, cap, arena, err) != 0)
            return -1;
    for (int i = 0; p->join != NULL && i < p->join->nscans; i++)
        if (relations(p->join->scans[i], ids, n, cap, arena, err) != 0)
            return -1;
    return 0;
}

int sql__plan_relations(const sql_plan *p, kv_arena *arena, uint32_t **ids, uint32_t *n,
                        sql_error *err)
{
    uint32_t cap = 0;
    *ids = NULL;
    *n = 0;
    return relations(p, ids, n, &cap, arena, err);
}

/* ---- writing through a view ------------------------------------------- */

/* What rewriting a write against view v needs: v's column i is base
 * column base[i] of its one table. */
typedef struct through {
    const sql_table_desc *v;
    const char *qual;  /* the name the statement calls the view by */
    const char **base; /* [v->ncols] */
    const char *query; /* the statement's text, for error positions */
    kv_arena *arena;
    sql_error *err;
} through;

/* The view's query when Tardigrade writes through it: one table, every
 * column a plain column or `*`, nothing PostgreSQL refuses; NULL else. */
static const sql_select *simple_query(const sql_select *q)
{
    if (not_updatable(q) != NULL || q->from.schema != NULL)
        return NULL;
    for (int i = 0; i < q->ntargets; i++) {
        const sql_expr *e = q->targets[i].expr;
        if (e->kind != SQL_EXPR_COLUMN && !(e->kind == SQL_EXPR_STAR && e->table == NULL))
            return NULL;
    }
    return q;
}

/* base[i] for each view column: the column its target names (`*` keeps
 * the view's names, which were the table's when the view was made). */
static int base_columns(through *t, const sql_select *q)
{
    const sql_table_desc *v = t->v;
    t->base = kv_arena_alloc(t->arena, ((size_t)v->ncols + 1) * sizeof(*t->base));
    if (t->base == NULL)
        return sql__oom(t->arena, t->err);
    uint32_t c = 0;
    for (int i = 0; i < q->ntargets && c < v->ncols; i++) {
        const sql_expr *e = q->targets[i].expr;
        if (e->kind == SQL_EXPR_COLUMN)
            t->base[c++] = e->column;
        for (; e->kind == SQL_EXPR_STAR && c < v->ncols; c++)
            t->base[c] = v->cols[c].name;
    }
    return c == v->ncols ? 0 : 1;
}

/* Copies of parse trees with every column reference read through the
 * view: a view column becomes its base column (unqualified: the
 * statement reads one table); a name the view lacks is 42703 as in
 * PostgreSQL, never a column of the table the view hides. Without
 * view_names (the view's own WHERE) names only lose their qualifier.
 * NULL with t->err set. */
static sql_expr *renamed(through *t, const sql_expr *e, bool view_names);

static sql_expr **renamed_list(through *t, sql_expr **v, int n, bool view_names)
{
    sql_expr **out = kv_arena_alloc(t->arena, ((size_t)n + 1) * sizeof(*out));
    if (out == NULL)
        return sql__oom(t->arena, t->err), NULL;
    for (int i = 0; i < n; i++)
        if (v[i] != NULL && (out[i] = renamed(t, v[i], view_names)) == NULL)
            return NULL;
    return out;
}

static sql_expr *renamed(through *t, const sql_expr *e, bool view_names)
{
    sql_expr *c = kv_arena_dup(t->arena, e, sizeof(*e));
    if (c == NULL)
        return sql__oom(t->arena, t->err), NULL;
    if (e->kind == SQL_EXPR_COLUMN && view_names && e->table != NULL &&
        (e->schema != NULL || strcmp(e->table, t->qual) != 0)) {
        /* the statement reads only the view: no other name qualifies */
        sql_error_set(t->err, t->arena, SQL_STATE_UNDEFINED_TABLE,
                      "missing FROM-clause entry for table \"%s\"", e->table);
        sql_expr_error_position(t->err, t->query, e->location);
        return NULL;
    }
    if (e->kind == SQL_EXPR_COLUMN && view_names) {
        uint32_t i = 0;
        while (i < t->v->ncols && strcmp(t->v->cols[i].name, e->column) != 0)
            i++;
        if (i == t->v->ncols) {
            sql_error_set(t->err, t->arena, SQL_STATE_UNDEFINED_COLUMN,
                          "column \"%s\" does not exist", e->column);
            sql_expr_error_position(t->err, t->query, e->location);
            return NULL;
        }
        c->column = t->base[i];
    }
    if (e->kind == SQL_EXPR_COLUMN)
        c->table = c->schema = NULL;
    if ((e->left && !(c->left = renamed(t, e->left, view_names))) ||
        (e->right && !(c->right = renamed(t, e->right, view_names))) ||
        (e->arg && !(c->arg = renamed(t, e->arg, view_names))) ||
        (e->els && !(c->els = renamed(t, e->els, view_names))) ||
        (e->args && !(c->args = renamed_list(t, e->args, e->nargs, view_names))) ||
        (e->whens && !(c->whens = renamed_list(t, e->whens, e->nargs, view_names))) ||
        (e->thens && !(c->thens = renamed_list(t, e->thens, e->nargs, view_names))))
        return NULL;
    return c;
}

static bool is_sublink(const sql_expr *e)
{
    return e->kind == SQL_EXPR_SUBLINK;
}

/* 0A000 for a write through a view that Tardigrade does not rewrite. */
static int not_yet(through *t, const char *what)
{
    return sql_error_set(t->err, t->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                         "%s through a view is not supported yet", what);
}

/* The base column of view column `name` (a write's target), or 42703
 * worded as PostgreSQL words it for a target column. */
static const char *target_column(through *t, const char *name, int location)
{
    for (uint32_t i = 0; i < t->v->ncols; i++)
        if (strcmp(t->v->cols[i].name, name) == 0)
            return t->base[i];
    sql_error_set(t->err, t->arena, SQL_STATE_UNDEFINED_COLUMN,
                  "column \"%s\" of relation \"%s\" does not exist", name, t->v->name);
    sql_expr_error_position(t->err, t->query, location);
    return NULL;
}

/* RETURNING over the view's columns: `*` lists them, named as the view
 * names them. */
static int returning(through *t, const sql_target *in, int n, sql_target **out, int *nout)
{
    *out = kv_arena_alloc(t->arena, ((size_t)n * t->v->ncols + 1) * sizeof(**out));
    *nout = 0;
    if (*out == NULL)
        return sql__oom(t->arena, t->err);
    for (int i = 0; i < n; i++) {
        const sql_expr *e = in[i].expr;
        if (sql_expr_contains(e, is_sublink))
            return not_yet(t, "a subquery in a write");
        if (e->kind != SQL_EXPR_STAR) {
            /* named as over the view: by the view's column names */
            (*out)[*nout] = in[i];
            if (in[i].alias == NULL)
                (*out)[*nout].alias = sql_expr_colname(e);
            if (((*out)[(*nout)++].expr = renamed(t, e, true)) == NULL)
                return -1;
            continue;
        }
        for (uint32_t c = 0; c < t->v->ncols; c++) {
            sql_expr *col = kv_arena_alloc(t->arena, sizeof(*col));
            if (col == NULL)
                return sql__oom(t->arena, t->err);
            *col =
                (sql_expr){.kind = SQL_EXPR_COLUMN, .location = e->location, .column = t->base[c]};
            (*out)[(*nout)++] =
                (sql_target){.expr = col, .alias = t->v->cols[c].name, .location = in[i].location};
        }
    }
    return 0;
}

/* INSERT through the view: its columns become the table's. */
static int rewrite_insert(through *t, sql_insert *ins)
{
    if (ins->on_conflict != NULL)
        return not_yet(t, "ON CONFLICT");
    int n = ins->ncolumns ? ins->ncolumns : (int)t->v->ncols;
    const char **cols = kv_arena_alloc(t->arena, ((size_t)n + 1) * sizeof(*cols));
    if (cols == NULL)
        return sql__oom(t->arena, t->err);
    for (int i = 0; i < n; i++) {
        int at = ins->column_locations ? ins->column_locations[i] : -1;
        cols[i] = ins->ncolumns ? target_column(t, ins->columns[i], at) : t->base[i];
        if (cols[i] == NULL)
            return -1;
    }
    ins->columns = cols;
    ins->ncolumns = n;
    return returning(t, ins->returning, ins->nreturning, &ins->returning, &ins->nreturning);
}

/* UPDATE or DELETE through the view: assignments to the table's
 * columns, WHERE ANDed with the view's. */
static int rewrite_modify(through *t, const sql_select *q, sql_modify *m)
{
    if (m->nfrom > 0)
        return not_yet(t, "UPDATE ... FROM or DELETE ... USING");
    bool sub = sql_expr_contains(m->where, is_sublink) || sql_expr_contains(q->where, is_sublink);
    sql_assign *set = kv_arena_alloc(t->arena, ((size_t)m->nassigns + 1) * sizeof(*set));
    if (set == NULL)
        return sql__oom(t->arena, t->err);
    for (int i = 0; i < m->nassigns; i++) {
        sub |= sql_expr_contains(m->assigns[i].value, is_sublink);
        set[i] = m->assigns[i];
        if ((set[i].column = target_column(t, set[i].column, set[i].location)) == NULL ||
            (set[i].value = renamed(t, set[i].value, true)) == NULL)
            return -1;
    }
    if (sub)
        return not_yet(t, "a subquery in a write");
    m->assigns = set;
    sql_expr *mine = m->where ? renamed(t, m->where, true) : NULL;
    sql_expr *its = q->where ? renamed(t, q->where, false) : NULL;
    if ((m->where && !mine) || (q->where && !its))
        return -1;
    m->where = mine ? mine : its;
    if (mine && its) {
        sql_expr **both = kv_arena_alloc(t->arena, 2 * sizeof(*both));
        sql_expr *and = kv_arena_alloc(t->arena, sizeof(*and));
        if (both == NULL || and == NULL)
            return sql__oom(t->arena, t->err);
        both[0] = its;
        both[1] = mine;
        *and =
            (sql_expr){.kind = SQL_EXPR_AND, .location = mine->location, .args = both, .nargs = 2};
        m->where = and;
    }
    return returning(t, m->returning, m->nreturning, &m->returning, &m->nreturning);
}

/* The target a write names. */
static sql_name *write_target(sql_stmt *st)
{
    return st->kind == SQL_STMT_INSERT ? &st->u.insert.table : &st->u.modify.table;
}

/* Statement `st` against view v (query q) as a new statement against
 * the view's table in *out; -1 with t->err set. */
static int rewrite(through *t, const sql_select *q, const sql_stmt *st, sql_stmt **out)
{
    sql_stmt *w = kv_arena_dup(t->arena, st, sizeof(*st));
    if (w == NULL)
        return sql__oom(t->arena, t->err);
    sql_name *target = write_target(w);
    *target = (sql_name){.name = q->from.name, .location = target->location};
    *out = w;
    return st->kind == SQL_STMT_INSERT ? rewrite_insert(t, &w->u.insert)
                                       : rewrite_modify(t, q, &w->u.modify);
}

/* One step: `st`'s target is view v; 0 with *out rewritten, or -1. */
static int through_view(const sql_plan_ctx *ctx, const sql_table_desc *v, const sql_stmt *st,
                        kv_arena *arena, sql_stmt **out, sql_error *err)
{
    const sql_stmt_kind k = st->kind;
    const sql_name *name = k == SQL_STMT_INSERT ? &st->u.insert.table : &st->u.modify.table;
    const char *alias = k == SQL_STMT_INSERT ? st->u.insert.alias : st->u.modify.alias;
    through t = {.v = v,
                 .qual = alias ? alias : name->name,
                 .query = ctx->query,
                 .arena = arena,
                 .err = err};
    const sql_select *q;
    if (sql__view_query(v, arena, &q, err) != 0)
        return -1;
    if (simple_query(q) == NULL || base_columns(&t, q) != 0)
        return sql__view_write_error(v, k, arena, err);
    return rewrite(&t, q, st, out);
}

int sql__view_write(const sql_plan_ctx *ctx, const sql_stmt *st, kv_arena *arena,
                    const sql_stmt **out, const sql_table_desc **view, sql_error *err)
{
    *out = st;
    *view = NULL;
    for (int depth = 0; depth < MAX_VIEW_NESTING; depth++) {
        const sql_name *name = write_target((sql_stmt *)*out);
        const sql_table_desc *d;
        if (name->schema != NULL && strcmp(name->schema, "public") != 0)
            return 0; /* the planner words the error */
        int rc = sql_catalog_table(ctx->catalog, ctx->txn, ctx->db_id, name->name, &d, err, arena);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        sql_stmt *next = NULL;
        bool is_view = d->view_query != NULL;
        if (!is_view || through_view(ctx, d, *out, arena, &next, err) != 0) {
            sql_table_release(d);
            if (!is_view)
                return 0;
            break;
        }
        if (*view == NULL)
            *view = d; /* the statement's own view: a prepared plan follows its version */
        else
            sql_table_release(d);
        *out = next;
    }
    if (err->state == 0)
        sql_error_set(err, arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                      "views nested more than %d deep", MAX_VIEW_NESTING);
    sql_table_release(*view);
    *view = NULL;
    return -1;
}
