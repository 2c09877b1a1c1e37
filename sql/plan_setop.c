/*
 * plan_setop.c - binding UNION, INTERSECT and EXCEPT [ALL] over their
 * planned branches (sql__setop_bind), and VALUES as a query
 * (sql__values_bind; docs/sql.md, "Set operations and VALUES").
 *
 * plan.c plans each branch as a nested SELECT plan (a chain nests, as
 * PostgreSQL's grammar does); here the branches meet, as in PostgreSQL's
 * transformSetOperationTree:
 *  - both have as many columns (42601 "each UNION query must have the
 *    same number of columns");
 *  - column i's type is select_common_type of the branches' (42804
 *    "UNION types integer and text cannot be matched"), where a string or
 *    NULL literal of a leaf SELECT counts as unknown and is retyped as the
 *    common type (the leaf made it text, as a select list does);
 *  - the result columns take the left branch's names;
 *  - ORDER BY on the whole names a result column by position or name;
 *    anything else is PostgreSQL's 0A000.
 * The plan's input rows are the set operation's (common types), its
 * targets and sort keys plain columns over them, so exec_select.c sorts
 * and limits them as any other rows.
 *
 * VALUES types each column as transformValuesClause does: the common
 * type of all its rows' items at once (so VALUES ('1'), (2) is integer),
 * columns named column1, column2, ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/plan_int.h"
#include "sql/types_int.h"

static const char *const op_names[] = {
    [SQL_SETOP_UNION] = "UNION",
    [SQL_SETOP_INTERSECT] = "INTERSECT",
    [SQL_SETOP_EXCEPT] = "EXCEPT",
};

/* Whether result column i of leaf SELECT `s` (planned as p) is a string
 * or NULL literal, whose type the set operation decides. Select-list
 * items before the first `*` and after the last one are matched to
 * result columns; those a `*` expands to are never literals. */
static bool untyped(const sql_select *s, const sql_plan *p, int i)
{
    if (s->setop != SQL_SETOP_NONE || p->targets[i]->kind != SQL_BEXPR_CONST)
        return false;
    int first = s->ntargets, last = -1;
    for (int t = 0; t < s->ntargets; t++) {
        if (s->targets[t].expr->kind == SQL_EXPR_STAR) {
            first = t < first ? t : first;
            last = t;
        }
    }
    int at = i < first                                     ? i
             : i >= p->ntargets - (s->ntargets - 1 - last) ? s->ntargets - (p->ntargets - i)
                                                           : -1;
    if (at < 0)
        return false;
    const sql_expr *e = s->targets[at].expr;
    return e->kind == SQL_EXPR_CONST &&
           (e->const_kind == SQL_CONST_STRING || e->const_kind == SQL_CONST_NULL);
}

/* Branch b's column i as the set operation first sees it: a column of
 * its row, or an untyped literal's copy typed unknown again. */
static sql_bexpr *branch_col(const sql_select *s, const sql_plan *b, int i, kv_arena *arena)
{
    sql_bexpr *v = kv_arena_alloc(arena, sizeof(*v));
    if (v == NULL)
        return NULL;
    if (untyped(s, b, i)) {
        *v = *b->targets[i];
        v->type = (sql_type){SQL_T_UNKNOWN, -1};
        return v;
    }
    *v = (sql_bexpr){.kind = SQL_BEXPR_COLUMN,
                     .type = b->cols[i].type,
                     .location = b->targets[i]->location,
                     .column = i};
    return v;
}

/* The result columns: common types, left names, and targets that pass
 * the set operation's row through. */
static int bind_columns(const sql_plan_ctx *ctx, const sql_select *s, sql_plan *left,
                        sql_plan *right, sql_plan *p, sql__setop *so, kv_arena *arena,
                        sql_error *err)
{
    int n = left->ntargets;
    sql_bexpr **conv[2] = {kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(sql_bexpr *)),
                           kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(sql_bexpr *))};
    sql_column_info *cols = kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(*cols));
    sql_bexpr *targets = kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(*targets));
    const sql_bexpr **tp = kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(*tp));
    if (!conv[0] || !conv[1] || !cols || !targets || !tp)
        return sql__oom(arena, err);
    sql_bind_ctx bc = {.arena = arena, .query = ctx->query, .params = ctx->params};
    for (int i = 0; i < n; i++) {
        sql_bexpr *v[2] = {branch_col(s->larg, left, i, arena),
                           branch_col(s->rarg, right, i, arena)};
        sql_type t;
        if (!v[0] || !v[1])
            return sql__oom(arena, err);
        if (sql_expr_unify(&bc, v, 2, op_names[s->setop], &t, err) != 0)
            return -1;
        conv[0][i] = v[0];
        conv[1][i] = v[1];
        cols[i] = (sql_column_info){.name = left->cols[i].name, .type = t};
        targets[i] = (sql_bexpr){.kind = SQL_BEXPR_COLUMN,
                                 .type = t,
                                 .location = left->targets[i]->location,
                                 .column = i};
        tp[i] = &targets[i];
    }
    *so =
        (sql__setop){.op = s->setop,
                     .all = s->setop_all,
                     .left = left,
                     .right = right,
                     .conv = {(const sql_bexpr *const *)conv[0], (const sql_bexpr *const *)conv[1]},
                     .cols = cols,
                     .ncols = n};
    p->targets = tp;
    p->cols = cols;
    p->ntargets = n;
    return 0;
}

static int error_at(const sql_plan_ctx *ctx, sql_error *err, int location)
{
    sql_expr_error_position(err, ctx->query, location);
    return -1;
}

/* Where PostgreSQL points at an expression: its leftmost token. */
static int leftmost(const sql_expr *e)
{
    int at = e->location;
    for (const sql_expr *l = e->left ? e->left : e->arg; l != NULL; l = l->left ? l->left : l->arg)
        if (l->location >= 0 && (at < 0 || l->location < at))
            at = l->location;
    return at;
}

/* ORDER BY expression `e` that is no result column: bound over the
 * result columns (which reports unknown names as PostgreSQL does), then
 * refused with PostgreSQL's 0A000, since no branch computes it. */
static int order_expr_error(const sql_plan_ctx *ctx, const sql_plan *p, const sql_expr *e,
                            kv_arena *arena, sql_error *err)
{
    sql_scope_col *cols = kv_arena_alloc(arena, ((size_t)p->ntargets + 1) * sizeof(*cols));
    if (cols == NULL)
        return sql__oom(arena, err);
    for (int i = 0; i < p->ntargets; i++)
        cols[i] = (sql_scope_col){.name = p->cols[i].name, .type = p->cols[i].type};
    sql_scope scope = {.cols = cols, .ncols = p->ntargets};
    sql_bind_ctx bc = {.arena = arena,
                       .query = ctx->query,
                       .scope = &scope,
                       .params = ctx->params,
                       .clause = "ORDER BY",
                       .agg_clause = "ORDER BY"};
    sql_bexpr *b;
    if (sql_expr_bind(&bc, e, (sql_type){SQL_T_UNKNOWN, -1}, &b, err) != 0)
        return -1;
    sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                  "invalid UNION/INTERSECT/EXCEPT ORDER BY clause");
    sql_error_detail(err, arena,
                     "Only result column names can be used, not expressions or functions.");
    sql_error_hint(err, arena,
                   "Add the expression/function to every SELECT, or move the UNION into a FROM "
                   "clause.");
    return error_at(ctx, err, leftmost(e));
}

/* The result column ORDER BY item `e` names: a position, or an output
 * name (42702 when several columns have it); anything else is an error
 * worded as PostgreSQL's. */
static int order_column(const sql_plan_ctx *ctx, const sql_plan *p, const sql_expr *e, int *out,
                        kv_arena *arena, sql_error *err)
{
    if (e->kind == SQL_EXPR_CONST && e->const_kind == SQL_CONST_INTEGER) {
        long n = strtol(e->text, NULL, 10);
        if (n < 1 || n > p->ntargets) {
            sql_error_set(err, arena, SQL_STATE_INVALID_COLUMN_REFERENCE,
                          "ORDER BY position %s is not in select list", e->text);
            return error_at(ctx, err, e->location);
        }
        *out = (int)n - 1;
        return 0;
    }
    if (e->kind == SQL_EXPR_CONST) {
        sql_error_set(err, arena, SQL_STATE_SYNTAX_ERROR, "non-integer constant in ORDER BY");
        return error_at(ctx, err, e->location);
    }
    *out = -1;
    for (int i = 0; e->kind == SQL_EXPR_COLUMN && !e->table && i < p->ntargets; i++) {
        if (strcmp(p->cols[i].name, e->column) != 0)
            continue;
        if (*out >= 0) {
            sql_error_set(err, arena, SQL_STATE_AMBIGUOUS_COLUMN, "ORDER BY \"%s\" is ambiguous",
                          e->column);
            return error_at(ctx, err, e->location);
        }
        *out = i;
    }
    return *out >= 0 ? 0 : order_expr_error(ctx, p, e, arena, err);
}

static int bind_order(const sql_plan_ctx *ctx, const sql_select *s, sql_plan *p, kv_arena *arena,
                      sql_error *err)
{
    if (s->norder == 0)
        return 0;
    sql__sortkey *keys = kv_arena_alloc(arena, (size_t)s->norder * sizeof(*keys));
    if (keys == NULL)
        return sql__oom(arena, err);
    for (int i = 0; i < s->norder; i++) {
        int col;
        if (order_column(ctx, p, s->order[i].expr, &col, arena, err) != 0)
            return -1;
        keys[i] = (sql__sortkey){.expr = p->targets[col],
                                 .desc = s->order[i].desc,
                                 .nulls_first = s->order[i].nulls_first};
    }
    p->sort = keys;
    p->nsort = s->norder;
    return 0;
}

/* Where PostgreSQL points at a width mismatch: the right branch's first
 * select-list item. */
static int first_item_location(const sql_select *s)
{
    while (s->setop != SQL_SETOP_NONE)
        s = s->larg;
    return s->ntargets > 0 ? s->targets[0].location : -1;
}

int sql__setop_bind(const sql_plan_ctx *ctx, const sql_select *s, sql_plan *left, sql_plan *right,
                    sql_plan *p, kv_arena *arena, sql_error *err)
{
    if (left->ntargets != right->ntargets) {
        sql_error_set(err, arena, SQL_STATE_SYNTAX_ERROR,
                      "each %s query must have the same number of columns", op_names[s->setop]);
        return error_at(ctx, err, first_item_location(s->rarg));
    }
    sql__setop *so = kv_arena_alloc(arena, sizeof(*so));
    if (so == NULL)
        return sql__oom(arena, err);
    if (bind_columns(ctx, s, left, right, p, so, arena, err) != 0 ||
        bind_order(ctx, s, p, arena, err) != 0)
        return -1;
    p->setop = so;
    p->returns_rows = true;
    return 0;
}

int sql__values_bind(const sql_plan_ctx *ctx, const sql_select *s, sql_bexpr ***rows, sql_plan *p,
                     kv_arena *arena, sql_error *err)
{
    int n = s->values_width;
    sql_bexpr **col = kv_arena_alloc(arena, (size_t)s->nvalues * sizeof(*col));
    sql_column_info *cols = kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(*cols));
    sql_bexpr *targets = kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(*targets));
    const sql_bexpr **tp = kv_arena_alloc(arena, ((size_t)n + 1) * sizeof(*tp));
    if (!col || !cols || !targets || !tp)
        return sql__oom(arena, err);
    sql_bind_ctx bc = {.arena = arena, .query = ctx->query, .params = ctx->params};
    for (int c = 0; c < n; c++) {
        sql_type t;
        for (int r = 0; r < s->nvalues; r++)
            col[r] = rows[r][c];
        if (sql_expr_unify(&bc, col, s->nvalues, "VALUES", &t, err) != 0)
            return -1;
        for (int r = 0; r < s->nvalues; r++)
            rows[r][c] = col[r];
        char buf[32];
        snprintf(buf, sizeof buf, "column%d", c + 1);
        const char *name = kv_arena_strdup(arena, buf);
        if (name == NULL)
            return sql__oom(arena, err);
        cols[c] = (sql_column_info){.name = name, .type = t};
        /* PostgreSQL gives a VALUES column no location of its own */
        targets[c] = (sql_bexpr){.kind = SQL_BEXPR_COLUMN, .type = t, .location = -1, .column = c};
        tp[c] = &targets[c];
    }
    p->values = (const sql_bexpr *const *const *)rows;
    p->nvalues = s->nvalues;
    p->targets = tp;
    p->cols = cols;
    p->ntargets = n;
    p->returns_rows = true;
    return 0;
}
