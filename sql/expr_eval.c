/*
 * expr_eval.c - evaluating bound expressions over one row.
 *
 * A tree walk; depth is bounded because the parser caps nesting. AND and
 * OR use SQL's three-valued logic and stop at the first deciding
 * argument, CASE and COALESCE evaluate only the branches they need, and
 * strict calls return NULL without running when an argument is NULL.
 * Datums borrow the row, the parameters and the constants of the tree, or
 * live in ctx->arena; nothing else is allocated.
 */
#include <assert.h>
#include <string.h>

#include "sql/expr_int.h"

/* Calls with at most this many arguments keep them on the stack. */
#define STACK_ARGS 8

static sql_tribool to_tri(const sql_datum *d)
{
    return d->isnull ? SQL_UNKNOWN : d->v.b ? SQL_TRUE : SQL_FALSE;
}

static void set_tri(sql_tribool t, sql_datum *out)
{
    *out = (sql_datum){.isnull = t == SQL_UNKNOWN, .v.b = t == SQL_TRUE};
}

static int eval_cmp(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    sql_datum a, b;

    if (sql_expr_eval(ctx, e->args[0], &a) < 0 || sql_expr_eval(ctx, e->args[1], &b) < 0)
        return -1;
    set_tri(sql_datum_compare_op(e->cmp_type, e->cmp, &a, &b), out);
    return 0;
}

static int eval_func(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    sql_datum stack[STACK_ARGS], *args = stack;

    if (e->nargs > STACK_ARGS &&
        !(args = kv_arena_alloc(ctx->arena, (size_t)e->nargs * sizeof *args)))
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
    for (int i = 0; i < e->nargs; i++) {
        if (sql_expr_eval(ctx, e->args[i], &args[i]) < 0)
            return -1;
        if (e->strict && args[i].isnull) {
            *out = (sql_datum){.isnull = true};
            return 0;
        }
    }
    *out = (sql_datum){0};
    return e->fn(ctx, e, args, out);
}

/* AND (stop at FALSE) and OR (stop at TRUE); NULLs make UNKNOWN. */
static int eval_logic(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    sql_tribool stop = e->kind == SQL_BEXPR_AND ? SQL_FALSE : SQL_TRUE, r = sql_tri_not(stop), t;

    for (int i = 0; i < e->nargs; i++) {
        if (sql_expr_eval_bool(ctx, e->args[i], &t) < 0)
            return -1;
        if (t == stop) {
            r = stop;
            break;
        }
        if (t == SQL_UNKNOWN)
            r = SQL_UNKNOWN;
    }
    set_tri(r, out);
    return 0;
}

static int eval_in(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    sql_tribool r = SQL_FALSE;
    sql_datum x, v;

    if (sql_expr_eval(ctx, e->args[0], &x) < 0)
        return -1;
    for (int i = 1; i < e->nargs && r != SQL_TRUE && !x.isnull; i++) {
        if (sql_expr_eval(ctx, e->args[i], &v) < 0)
            return -1;
        sql_tribool eq = sql_datum_compare_op(e->cmp_type, SQL_CMP_EQ, &x, &v);
        r = sql_tri_or(r, eq);
    }
    if (x.isnull)
        r = SQL_UNKNOWN;
    set_tri(e->negated ? sql_tri_not(r) : r, out);
    return 0;
}

static int eval_case(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    sql_tribool t;

    for (int i = 0; i + 1 < e->nargs; i += 2) {
        if (sql_expr_eval_bool(ctx, e->args[i], &t) < 0)
            return -1;
        if (t == SQL_TRUE)
            return sql_expr_eval(ctx, e->args[i + 1], out);
    }
    if (e->els)
        return sql_expr_eval(ctx, e->els, out);
    *out = (sql_datum){.isnull = true};
    return 0;
}

static int eval_coalesce(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    *out = (sql_datum){.isnull = true};
    for (int i = 0; i < e->nargs && out->isnull; i++)
        if (sql_expr_eval(ctx, e->args[i], out) < 0)
            return -1;
    return 0;
}

/* A column of an enclosing query's row: levels_up evaluations out. */
static int eval_outer(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    const sql_eval_ctx *at = ctx;

    for (int i = 0; i < e->levels_up; i++)
        at = at->outer;
    *out = at->row[at->outer_cols ? at->outer_cols[e->column] : e->column];
    return 0;
}

static int eval_pair(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *a, sql_datum *b)
{
    if (sql_expr_eval(ctx, e->args[0], a) < 0)
        return -1;
    return b ? sql_expr_eval(ctx, e->args[1], b) : 0;
}

int sql_expr_eval(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out)
{
    sql_datum a, b;

    switch (e->kind) {
    case SQL_BEXPR_CONST:
        *out = e->value;
        return 0;
    case SQL_BEXPR_COLUMN:
    case SQL_BEXPR_AGGREF:
        *out = ctx->row[e->column];
        return 0;
    case SQL_BEXPR_PARAM:
        *out = ctx->params[e->param];
        return 0;
    case SQL_BEXPR_CMP:
        return eval_cmp(ctx, e, out);
    case SQL_BEXPR_FUNC:
        return eval_func(ctx, e, out);
    case SQL_BEXPR_AND:
    case SQL_BEXPR_OR:
        return eval_logic(ctx, e, out);
    case SQL_BEXPR_NOT:
        if (eval_pair(ctx, e, &a, NULL) < 0)
            return -1;
        set_tri(sql_tri_not(to_tri(&a)), out);
        return 0;
    case SQL_BEXPR_NULLTEST:
        if (eval_pair(ctx, e, &a, NULL) < 0)
            return -1;
        *out = (sql_datum){.v.b = a.isnull != e->negated};
        return 0;
    case SQL_BEXPR_DISTINCT:
        if (eval_pair(ctx, e, &a, &b) < 0)
            return -1;
        *out = (sql_datum){.v.b = sql_datum_distinct(e->cmp_type, &a, &b) != e->negated};
        return 0;
    case SQL_BEXPR_IN:
        return eval_in(ctx, e, out);
    case SQL_BEXPR_CASE:
        return eval_case(ctx, e, out);
    case SQL_BEXPR_COALESCE:
        return eval_coalesce(ctx, e, out);
    case SQL_BEXPR_SUBQUERY:
        assert(ctx->subquery);
        return ctx->subquery(ctx, e, out);
    case SQL_BEXPR_SUBVALUE:
        *out = ctx->subrow[e->column];
        return 0;
    case SQL_BEXPR_OUTER:
        return eval_outer(ctx, e, out);
    }
    assert(!"unknown bound expression kind");
    return -1;
}

int sql_expr_eval_bool(sql_eval_ctx *ctx, const sql_bexpr *e, sql_tribool *out)
{
    sql_datum d;

    assert(e->type.oid == SQL_T_BOOL);
    if (sql_expr_eval(ctx, e, &d) < 0)
        return -1;
    *out = to_tri(&d);
    return 0;
}

bool sql_expr_is_stable(const sql_bexpr *e)
{
    /* an OUTER reference is fixed for one run of its subquery; a
     * correlated subquery may read this query's columns */
    if (e->kind == SQL_BEXPR_COLUMN || e->kind == SQL_BEXPR_AGGREF ||
        (e->kind == SQL_BEXPR_FUNC && e->volatile_) ||
        (e->kind == SQL_BEXPR_SUBQUERY && e->correlated))
        return false;
    for (int i = 0; i < e->nargs; i++)
        if (!sql_expr_is_stable(e->args[i]))
            return false;
    return !e->els || sql_expr_is_stable(e->els);
}
