/*
 * exec_subquery.c - running the subqueries of an expression (SUBQUERY
 * nodes, plan_int.h sql__subquery_eval) with PostgreSQL 15's semantics:
 *
 *   EXISTS       TRUE once the subquery yields a row (it stops there);
 *   (subquery)   the one row's value, NULL for no row, 21000 "more than
 *                one row returned by a subquery used as an expression";
 *   x op ANY     OR of the test over the rows: FALSE for no rows (even for
 *                x NULL), TRUE at the first TRUE, else NULL if a test was;
 *                IN is = ANY and NOT IN its negation, so a NULL in the
 *                list makes NOT IN NULL, never TRUE;
 *   x op ALL     AND of the test: TRUE for no rows, FALSE at the first.
 *
 * An uncorrelated subquery runs once per execution, at its first use: its
 * rows (the first column; at most the rows the verdict can need) are
 * kept in the statement arena, charged to the execution's subquery
 * budget (53200 past SQL__QUERY_MEM_BUDGET), and every later use decides
 * from them: x = ANY (x IN) by a binary search over the values sorted
 * once, other tests by evaluating the test per value. A correlated subquery runs again for each row
 * that uses it, its OUTER references reading that row through the run context's `outer` link, and
 * stops as soon as the verdict is known.
 *
 * A WITH query read by more than one FROM runs once per execution too
 * (sql__subq_rows), its whole rows kept the same way.
 *
 * Memory: each run of a subquery plan uses an arena of its own, destroyed
 * when it ends; a scalar value is copied into the evaluating context's
 * arena, error strings too.
 */
#include <stdlib.h>
#include <string.h>

#include "sql/plan_int.h"
#include "sql/types_int.h"

/* A kept value with its type, for qsort and bsearch. */
typedef struct keyed {
    sql_type_id t;
    const sql_datum *d;
} keyed;

/* The kept rows of an uncorrelated subquery. */
struct sql__subresult {
    const sql_plan *p;
    sql_datum *vals; /* the first column of each row */
    size_t n, cap;
    /* a WITH query read more than once: its whole rows (vals unused) */
    sql_datum **rows;
    /* x = ANY: the non-NULL values sorted at the first use (NULL before) */
    keyed *sorted;
    size_t nsorted;
    bool has_null;
    sql__subresult *next;
};

/* A verdict in the making over the rows of one subquery. */
typedef struct verdict {
    sql_eval_ctx *ec; /* the evaluation the SUBQUERY node is part of */
    const sql_bexpr *e;
    size_t rows;
    sql_tribool t;    /* EXISTS, ANY, ALL */
    sql_datum value;  /* EXPR, in ec->arena */
    sql_datum *elems; /* ARRAY: the values so far, in ec->arena */
    size_t cap;
} verdict;

static void verdict_init(verdict *v, sql_eval_ctx *ec, const sql_bexpr *e)
{
    *v = (verdict){.ec = ec, .e = e, .t = e->sublink == SQL_SUBLINK_ALL ? SQL_TRUE : SQL_FALSE};
    v->value.isnull = true;
}

/* ARRAY(subquery): appends a copy of the row's value. */
static int array_add(verdict *v, const sql_datum *val)
{
    sql_eval_ctx *ec = v->ec;
    sql_type_id t = sql_type_array_elem(v->e->type.oid);
    if (v->rows > v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        sql_datum *w = kv_arena_alloc(ec->arena, cap * sizeof(*w));
        if (w == NULL)
            return sql__oom(ec->arena, ec->err);
        if (v->cap > 0)
            memcpy(w, v->elems, v->cap * sizeof(*w));
        v->elems = w;
        v->cap = cap;
    }
    return sql_datum_copy(t, val, ec->arena, &v->elems[v->rows - 1], ec->err);
}

/* Adds row `vals` (the subquery's result row). 1 when the verdict is
 * known and no more rows are needed, 0 to go on, -1 with the error set. */
static int verdict_add(verdict *v, const sql_datum *vals)
{
    sql_eval_ctx *ec = v->ec;
    v->rows++;
    switch (v->e->sublink) {
    case SQL_SUBLINK_EXISTS:
        v->t = SQL_TRUE;
        return 1;
    case SQL_SUBLINK_EXPR:
        if (v->rows > 1)
            return sql_error_set(ec->err, ec->arena, SQL_STATE_CARDINALITY_VIOLATION,
                                 "more than one row returned by a subquery used as an "
                                 "expression");
        return sql_datum_copy(v->e->type.oid, &vals[0], ec->arena, &v->value, ec->err);
    case SQL_SUBLINK_ARRAY:
        return array_add(v, &vals[0]);
    case SQL_SUBLINK_ANY:
    case SQL_SUBLINK_ALL:
        break;
    }
    sql_eval_ctx test = *ec;
    sql_tribool t;
    test.subrow = vals;
    if (sql_expr_eval_bool(&test, v->e->args[0], &t) != 0)
        return -1;
    bool any = v->e->sublink == SQL_SUBLINK_ANY;
    v->t = any ? sql_tri_or(v->t, t) : sql_tri_and(v->t, t);
    return v->t == (any ? SQL_TRUE : SQL_FALSE) ? 1 : 0;
}

static int verdict_result(const verdict *v, sql_datum *out)
{
    if (v->e->sublink == SQL_SUBLINK_ARRAY)
        return sql_array_make(sql_type_array_elem(v->e->type.oid), v->elems, (int32_t)v->rows,
                              v->ec->arena, out, v->ec->err);
    if (v->e->sublink == SQL_SUBLINK_EXPR)
        *out = v->value;
    else
        *out = (sql_datum){.isnull = v->t == SQL_UNKNOWN, .v.b = v->t == SQL_TRUE};
    return 0;
}

/* ---- running a subquery plan ----------------------------------------- */

/* Runs plan `p` in the run `base` with `outer` as the enclosing row's
 * evaluation, each result row to fn (1 stops the run). Scratch memory in
 * an arena of the run's own; error strings end up in `keep`. */
static int run_plan(const sql_run_ctx *base, const sql_eval_ctx *outer, const sql_plan *p,
                    sql_row_fn fn, void *arg, kv_arena *keep, sql_error *err)
{
    sql_run_ctx in = *base;
    in.outer = outer;
    in.row = fn;
    in.row_arg = arg;
    kv_arena *scratch;
    if (kv_arena_create(&scratch) != 0)
        return sql__oom(keep, err);
    uint64_t rows;
    int rc = sql__run_select(p, &in, scratch, &rows, err);
    if (rc != 0)
        sql_error_move(err, keep);
    kv_arena_destroy(scratch);
    return rc;
}

/* Runs subquery `p` for the row `ec` evaluates (run_plan). */
static int run_sub(sql_eval_ctx *ec, const sql_plan *p, sql_row_fn fn, void *arg)
{
    return run_plan(ec->subquery_arg, ec, p, fn, arg, ec->arena, ec->err);
}

/* ---- correlated: a run per use ----------------------------------------- */

static int add_to_verdict(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    (void)n, (void)err;
    return verdict_add(arg, vals);
}

/* ---- uncorrelated: one run, rows kept ---------------------------------- */

typedef struct keeper {
    sql__subq *q;
    sql__subresult *r;
    size_t max; /* rows any verdict of this kind can need */
} keeper;

static int keep_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    keeper *k = arg;
    (void)n;
    sql__subresult *r = k->r;
    sql__subq *q = k->q;
    sql_type_id t = r->p->ntargets > 0 ? r->p->cols[0].type.oid : SQL_T_BOOL;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        sql_datum *v = sql__mem_charge(&q->mem, q->arena, cap * sizeof(*v), "subquery", err);
        if (v == NULL)
            return -1;
        if (r->n > 0)
            memcpy(v, r->vals, r->n * sizeof(*v));
        r->vals = v;
        r->cap = cap;
    }
    sql_datum *d = &r->vals[r->n++];
    *d = (sql_datum){.isnull = true};
    if (r->p->ntargets > 0 && (sql__mem_account(&q->mem, q->arena, sql__datum_payload(t, &vals[0]),
                                                "subquery", err) != 0 ||
                               sql_datum_copy(t, &vals[0], q->arena, d, err) != 0))
        return -1;
    return r->n >= k->max ? 1 : 0;
}

/* The kept rows of uncorrelated subquery e->sub: from an earlier use, or
 * run now. */
static int kept_rows(sql_eval_ctx *ec, const sql_bexpr *e, sql__subresult **out)
{
    const sql_run_ctx *rc = ec->subquery_arg;
    sql__subq *q = rc->subq;
    for (sql__subresult *r = q->results; r != NULL; r = r->next) {
        if (r->p == e->sub) {
            *out = r;
            return 0;
        }
    }
    sql__subresult *r = kv_arena_alloc(q->arena, sizeof(*r));
    if (r == NULL)
        return sql__oom(ec->arena, ec->err);
    *r = (sql__subresult){.p = e->sub};
    /* EXISTS needs one row, a scalar two (to see there is a second) */
    keeper k = {.q = q,
                .r = r,
                .max = e->sublink == SQL_SUBLINK_EXISTS ? 1
                       : e->sublink == SQL_SUBLINK_EXPR ? 2
                                                        : SIZE_MAX};
    if (run_sub(ec, r->p, keep_row, &k) != 0)
        return -1;
    r->next = q->results;
    q->results = r;
    *out = r;
    return 0;
}

/* ---- x = ANY over kept values -------------------------------------------- */

/* Whether the test is x = value in the value's own type (x cast to it
 * already), so that equality is sql_datum_cmp's. */
static bool is_eq_any(const sql_bexpr *e)
{
    const sql_bexpr *t = e->args[0];
    return e->sublink == SQL_SUBLINK_ANY && t->kind == SQL_BEXPR_CMP && t->cmp == SQL_CMP_EQ &&
           t->args[1]->kind == SQL_BEXPR_SUBVALUE && t->args[1]->type.oid == t->cmp_type;
}

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return sql_datum_cmp(x->t, x->d, y->d);
}

static int sort_kept(sql_eval_ctx *ec, sql__subq *q, sql__subresult *r, sql_type_id t)
{
    r->sorted =
        sql__mem_charge(&q->mem, q->arena, (r->n + 1) * sizeof(*r->sorted), "subquery", ec->err);
    if (r->sorted == NULL)
        return -1;
    for (size_t i = 0; i < r->n; i++) {
        if (r->vals[i].isnull)
            r->has_null = true;
        else
            r->sorted[r->nsorted++] = (keyed){t, &r->vals[i]};
    }
    qsort(r->sorted, r->nsorted, sizeof(*r->sorted), cmp_keyed);
    return 0;
}

/* x = ANY: TRUE when found; else NULL when x or a value is NULL, FALSE
 * otherwise (also for x NULL over no rows). */
static int eq_any(sql_eval_ctx *ec, const sql_bexpr *e, sql__subresult *r, sql_datum *out)
{
    const sql_bexpr *t = e->args[0];
    const sql_run_ctx *rc = ec->subquery_arg;
    sql_datum x;
    if (r->sorted == NULL && sort_kept(ec, rc->subq, r, t->cmp_type) != 0)
        return -1;
    if (r->n == 0) {
        *out = (sql_datum){.v.b = false};
        return 0;
    }
    if (sql_expr_eval(ec, t->args[0], &x) != 0)
        return -1;
    keyed k = {t->cmp_type, &x};
    bool found =
        !x.isnull && bsearch(&k, r->sorted, r->nsorted, sizeof(*r->sorted), cmp_keyed) != NULL;
    *out = (sql_datum){.isnull = !found && (x.isnull || r->has_null), .v.b = found};
    return 0;
}

/* ---- WITH queries read more than once ----------------------------------- */

static int keep_whole_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    keeper *k = arg;
    sql__subresult *r = k->r;
    sql__subq *q = k->q;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        sql_datum **v = sql__mem_charge(&q->mem, q->arena, cap * sizeof(*v), "WITH query", err);
        if (v == NULL)
            return -1;
        if (r->n > 0)
            memcpy(v, r->rows, r->n * sizeof(*v));
        r->rows = v;
        r->cap = cap;
    }
    sql_datum *row = sql__mem_charge(&q->mem, q->arena, (n + 1) * sizeof(*row), "WITH query", err);
    if (row == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sql_type_id t = r->p->cols[i].type.oid;
        if (sql__mem_account(&q->mem, q->arena, sql__datum_payload(t, &vals[i]), "WITH query",
                             err) != 0 ||
            sql_datum_copy(t, &vals[i], q->arena, &row[i], err) != 0)
            return -1;
    }
    r->rows[r->n++] = row;
    return 0;
}

int sql__subq_rows(const sql_run_ctx *ctx, const sql_plan *p, sql_datum *const **rows, size_t *n,
                   sql_error *err)
{
    sql__subq *q = ctx->subq;
    sql__subresult *r = q->results;
    while (r != NULL && r->p != p)
        r = r->next;
    if (r == NULL) {
        if ((r = kv_arena_alloc(q->arena, sizeof(*r))) == NULL)
            return sql__oom(q->arena, err);
        *r = (sql__subresult){.p = p};
        keeper k = {.q = q, .r = r, .max = SIZE_MAX};
        if (run_plan(ctx, ctx->outer, p, keep_whole_row, &k, q->arena, err) != 0)
            return -1;
        r->next = q->results;
        q->results = r;
    }
    *rows = r->rows;
    *n = r->n;
    return 0;
}

int sql__subquery_eval(sql_eval_ctx *ec, const sql_bexpr *e, sql_datum *out)
{
    verdict v;
    verdict_init(&v, ec, e);
    if (e->correlated) {
        if (run_sub(ec, e->sub, add_to_verdict, &v) != 0)
            return -1;
    } else {
        sql__subresult *r = NULL;
        if (kept_rows(ec, e, &r) != 0)
            return -1;
        if (is_eq_any(e))
            return eq_any(ec, e, r, out);
        for (size_t i = 0; i < r->n; i++) {
            int rc = verdict_add(&v, &r->vals[i]);
            if (rc < 0)
                return -1;
            if (rc > 0)
                break;
        }
    }
    return verdict_result(&v, out);
}
