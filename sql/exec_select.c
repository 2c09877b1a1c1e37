/*
 * exec_select.c - running a plan (sql__run): SELECT with and without a
 * table, aggregation (exec_agg.c) over the scanned rows, ORDER BY through
 * an in-memory sort when the rows do not arrive in the wanted order,
 * DISTINCT through a hash set of result rows, DISTINCT ON by keeping the
 * first of each run of sorted rows with equal DISTINCT ON keys, LIMIT and
 * OFFSET (pushed into the scan when rows arrive in order), and the
 * hand-off of writes to exec_write.c.
 *
 *   source (scan | FROM subquery | set operation | VALUES | function | one row
 *           without FROM)
 *     -> [aggregation]
 *     -> result rows
 *     -> [DISTINCT set] -> (send | keep, sort, [DISTINCT ON], send)
 *
 * Memory: result rows handed to ctx->row are valid during the call;
 * rows kept for a sort are copied into the statement arena and, like the
 * DISTINCT set and the aggregation, charged to the execution's memory
 * budget (SQL__QUERY_MEM_BUDGET).
 */
#include <stdlib.h>
#include <string.h>

#include "sql/plan_join_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"

/* How often long in-memory loops look at the cancel flag. */
#define CANCEL_EVERY 4096

/* A row kept for the sort; qsort's comparator finds the keys through
 * the plan each element names. */
typedef struct kept {
    const sql_plan *p;
    sql_datum *vals; /* ntargets results, then nsort keys */
} kept;

typedef struct select_run {
    const sql_plan *p;
    sql_run_ctx *ctx;
    kv_arena *arena;
    uint64_t offset, limit; /* limit UINT64_MAX: none */
    uint64_t want;          /* rows the scan must deliver; 0: all */
    uint64_t skipped, emitted;
    sql_datum *out;    /* one result row */
    sql__rowset *seen; /* SELECT DISTINCT: the result rows sent or kept */
    kept *rows;        /* for the sort */
    size_t n, cap;
    sql__membudget mem; /* what the sort, DISTINCT and aggregation hold */
} select_run;

/* LIMIT / OFFSET of this execution (they may be parameters). */
static int eval_count(select_run *r, const sql_bexpr *e, sql_sqlstate bad, const char *what,
                      uint64_t *out, sql_error *err)
{
    if (e == NULL)
        return 0;
    sql_eval_ctx ec;
    sql_datum d;
    sql__eval_init(&ec, r->ctx, NULL, r->arena, err);
    if (sql_expr_eval(&ec, e, &d) != 0)
        return -1;
    if (d.isnull)
        return 0;
    if (d.v.i < 0) {
        sql_error_set(err, r->arena, bad, "%s must not be negative", what);
        return -1;
    }
    *out = (uint64_t)d.v.i;
    return 0;
}

/* Evaluates the select list over `row` into r->out. */
static int eval_targets(select_run *r, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    sql_eval_ctx ec;
    sql__eval_init(&ec, r->ctx, row, arena, err);
    ec.outer_cols = r->p->agg ? r->p->agg->outer_cols : NULL;
    for (int i = 0; i < r->p->ntargets; i++)
        if (sql_expr_eval(&ec, r->p->targets[i], &r->out[i]) != 0)
            return -1;
    return 0;
}

/* Sends r->out unless OFFSET skips it. 1 once LIMIT is reached. */
static int send_out(select_run *r, sql_error *err)
{
    if (r->skipped < r->offset) {
        r->skipped++;
        return 0;
    }
    int rc = r->ctx->row(r->ctx->row_arg, r->out, (size_t)r->p->ntargets, err);
    if (rc < 0)
        return -1;
    r->emitted++;
    return rc > 0 || r->emitted >= r->limit ? 1 : 0;
}

/* Whether result row vals is new to SELECT DISTINCT (always without). */
static int first_seen(select_run *r, const sql_datum *vals, kv_arena *arena, bool *fresh,
                      sql_error *err)
{
    *fresh = true;
    if (r->seen == NULL)
        return 0;
    return sql__rowset_add(r->seen, r->p->cols, vals, r->p->ntargets, arena, fresh, err);
}

static int on_row(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    select_run *r = arg;
    bool fresh;
    if (r->seen == NULL && r->skipped < r->offset) {
        r->skipped++;
        return 0;
    }
    if (eval_targets(r, row, arena, err) != 0 || first_seen(r, r->out, arena, &fresh, err) != 0)
        return -1;
    return fresh ? send_out(r, err) : 0;
}

static int grow_kept(select_run *r, sql_error *err)
{
    size_t cap = r->cap ? 2 * r->cap : 256;
    kept *rows = sql__mem_charge(&r->mem, r->arena, cap * sizeof(*rows), "sort", err);
    if (rows == NULL)
        return -1;
    if (r->n > 0)
        memcpy(rows, r->rows, r->n * sizeof(*rows));
    r->rows = rows;
    r->cap = cap;
    return 0;
}

/* The type of value i of a kept row: a result, then a sort key. */
static sql_type_id kept_type(const sql_plan *p, size_t i)
{
    int t = (int)i - p->ntargets;
    return t < 0 ? p->cols[i].type.oid : p->sort[t].expr->type.oid;
}

/* Keeps the row's results and sort keys for the sort. */
static int on_row_sorted(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    select_run *r = arg;
    const sql_plan *p = r->p;
    size_t width = (size_t)p->ntargets + (size_t)p->nsort, payload = 0;
    sql_datum *vals = kv_arena_alloc(arena, (width + 1) * sizeof(*vals));
    if (vals == NULL)
        return sql__oom(arena, err);
    sql_eval_ctx ec;
    sql__eval_init(&ec, r->ctx, row, arena, err);
    ec.outer_cols = p->agg ? p->agg->outer_cols : NULL;
    for (size_t i = 0; i < width; i++) {
        int t = (int)i - p->ntargets;
        if (sql_expr_eval(&ec, t < 0 ? p->targets[i] : p->sort[t].expr, &vals[i]) != 0)
            return -1;
        payload += sql__datum_payload(kept_type(p, i), &vals[i]);
    }
    bool fresh;
    if (first_seen(r, vals, arena, &fresh, err) != 0)
        return -1;
    if (!fresh)
        return 0;
    if (r->n == r->cap && grow_kept(r, err) != 0)
        return -1;
    sql_datum *keep = sql__mem_charge(&r->mem, r->arena, width * sizeof(*keep), "sort", err);
    if (keep == NULL || sql__mem_account(&r->mem, r->arena, payload, "sort", err) != 0)
        return -1;
    for (size_t i = 0; i < width; i++)
        if (sql_datum_copy(kept_type(p, i), &vals[i], r->arena, &keep[i], err) != 0)
            return -1;
    r->rows[r->n++] = (kept){p, keep};
    return 0;
}

static int cmp_rows(const void *a, const void *b)
{
    const kept *kx = a, *ky = b;
    const sql_plan *p = kx->p;
    const sql_datum *x = kx->vals, *y = ky->vals;
    for (int k = 0; k < p->nsort; k++) {
        const sql__sortkey *sk = &p->sort[k];
        const sql_datum *dx = &x[p->ntargets + k], *dy = &y[p->ntargets + k];
        int c;
        if (dx->isnull || dy->isnull)
            c = sql_datum_cmp_nulls(sk->expr->type.oid, dx, dy, sk->nulls_first);
        else
            c = sk->desc ? -sql_datum_cmp(sk->expr->type.oid, dx, dy)
                         : sql_datum_cmp(sk->expr->type.oid, dx, dy);
        if (c != 0)
            return c;
    }
    return 0;
}

/* DISTINCT ON: whether sorted rows x and y agree on the DISTINCT ON keys
 * (the first sort keys), NULLs equal. */
static bool same_distinct_on(const sql_plan *p, const sql_datum *x, const sql_datum *y)
{
    for (int k = 0; k < p->ndistinct_on; k++) {
        int at = p->ntargets + k;
        if (sql_datum_distinct(p->sort[k].expr->type.oid, &x[at], &y[at]))
            return false;
    }
    return true;
}

static int send_sorted(select_run *r, sql_error *err)
{
    const sql_plan *p = r->p;
    if (r->n > 1) /* rows is NULL when nothing was kept */
        qsort(r->rows, r->n, sizeof(*r->rows), cmp_rows);
    for (size_t i = 0; i < r->n; i++) {
        if (i % CANCEL_EVERY == CANCEL_EVERY - 1 &&
            sql_txn_check_cancel(r->ctx->cancel, err, r->arena) != 0)
            return -1;
        if (p->ndistinct_on > 0 && i > 0 &&
            same_distinct_on(p, r->rows[i - 1].vals, r->rows[i].vals))
            continue;
        memcpy(r->out, r->rows[i].vals, (size_t)r->p->ntargets * sizeof(*r->out));
        int rc = send_out(r, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return 0;
}

/* Whether `row` passes r->p->filter (NULL: every row): 1 it does, 0 it
 * does not, -1 with `err` set. */
static int passes(const select_run *r, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    if (r->p->filter == NULL)
        return 1;
    sql_eval_ctx ec;
    sql_tribool ok;
    sql__eval_init(&ec, r->ctx, row, arena, err);
    if (sql_expr_eval_bool(&ec, r->p->filter, &ok) != 0)
        return -1;
    return ok == SQL_TRUE;
}

/* The source of SELECT without FROM: one row when WHERE holds; of
 * VALUES: its rows. */
static int values_source(void *src, sql__row_cb cb, void *cb_arg, sql_error *err)
{
    select_run *r = src;
    if (r->p->nvalues > 0)
        return sql__values_run(r->p, r->ctx, cb, cb_arg, r->arena, err);
    int ok = passes(r, NULL, r->arena, err);
    if (ok <= 0)
        return ok;
    return cb(cb_arg, NULL, r->arena, err) < 0 ? -1 : 0;
}

/* The source of SELECT ... FROM: the access path's rows. */
static int scan_source(void *src, sql__row_cb cb, void *cb_arg, sql_error *err)
{
    select_run *r = src;
    return sql__scan(r->p, &r->p->proj, r->ctx, r->want, cb, NULL, cb_arg, r->arena, err);
}

/* EXPLAIN ANALYZE: counts the aggregation's groups on their way on. */
static int counted_group(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    select_run *r = arg;
    r->ctx->stats->agg_rows++;
    return r->p->sort ? on_row_sorted(arg, row, arena, err) : on_row(arg, row, arena, err);
}

/* The rows of a FROM subquery on their way to the callback. */
typedef struct sub_feed {
    select_run *r;
    sql__row_cb cb;
    void *cb_arg;
    kv_arena *scratch; /* the subquery run's: what the callback evaluates */
} sub_feed;

static int feed_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    sub_feed *f = arg;
    (void)n;
    int ok = passes(f->r, vals, f->scratch, err);
    return ok <= 0 ? ok : f->cb(f->cb_arg, vals, f->scratch, err);
}

/* Runs the subquery, its rows to feed_row. */
static int feed_run(sub_feed *f, sql_error *err)
{
    sql_run_ctx in = *f->r->ctx;
    in.row = feed_row;
    in.row_arg = f;
    uint64_t n;
    return sql__run_select(f->r->p->from, &in, f->scratch, &n, err);
}

/* A WITH query read more than once: its rows, computed once per
 * execution, to feed_row. */
static int feed_kept(sub_feed *f, sql_error *err)
{
    const sql_plan *from = f->r->p->from;
    sql_datum *const *rows;
    size_t n;
    if (sql__subq_rows(f->r->ctx, from, &rows, &n, err) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        int rc = feed_row(f, rows[i], (size_t)from->ntargets, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return 0;
}

/* The source of SELECT ... FROM (subquery): its result rows, through
 * WHERE. The subquery runs at this query's level (its OUTER references
 * reach the same enclosing rows), in an arena of its own. */
static int sub_source(void *src, sql__row_cb cb, void *cb_arg, sql_error *err)
{
    select_run *r = src;
    sub_feed f = {.r = r, .cb = cb, .cb_arg = cb_arg};
    if (kv_arena_create(&f.scratch) != 0)
        return sql__oom(r->arena, err);
    int rc = r->p->from->cte_refs > 1 ? feed_kept(&f, err) : feed_run(&f, err);
    if (rc != 0)
        sql_error_move(err, r->arena);
    kv_arena_destroy(f.scratch);
    return rc;
}

/* Joined rows on their way to the callback, through WHERE's conjuncts
 * with subqueries (p->filter; the join placed the others). */
typedef struct join_feed {
    select_run *r;
    sql__row_cb cb;
    void *cb_arg;
} join_feed;

static int filter_joined(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    join_feed *f = arg;
    int ok = passes(f->r, row, arena, err);
    return ok <= 0 ? ok : f->cb(f->cb_arg, row, arena, err);
}

/* The source of SELECT over joined tables: the joined rows. */
static int join_source(void *src, sql__row_cb cb, void *cb_arg, sql_error *err)
{
    select_run *r = src;
    join_feed f = {.r = r, .cb = cb, .cb_arg = cb_arg};
    if (r->p->filter == NULL)
        return sql__join_run(r->p->join, r->ctx, cb, cb_arg, &r->mem, r->arena, err);
    return sql__join_run(r->p->join, r->ctx, filter_joined, &f, &r->mem, r->arena, err);
}

/* The source of a set-returning function's plan: its rows (srf.c). */
static int srf_source(void *src, sql__row_cb cb, void *cb_arg, sql_error *err)
{
    select_run *r = src;
    return sql__srf_run(r->p, r->ctx, cb, cb_arg, r->arena, err);
}

/* The source of a set operation: its rows (exec_setop.c). */
static int setop_source(void *src, sql__row_cb cb, void *cb_arg, sql_error *err)
{
    select_run *r = src;
    return sql__setop_run(r->p->setop, r->ctx, cb, cb_arg, &r->mem, r->arena, err);
}

int sql__run_select(const sql_plan *p, sql_run_ctx *ctx, kv_arena *arena, uint64_t *affected,
                    sql_error *err)
{
    select_run r = {.p = p, .ctx = ctx, .arena = arena, .limit = UINT64_MAX};
    if (eval_count(&r, p->limit, SQL_STATE_INVALID_LIMIT_ROW_COUNT, "LIMIT", &r.limit, err) != 0 ||
        eval_count(&r, p->offset, SQL_STATE_INVALID_OFFSET_ROW_COUNT, "OFFSET", &r.offset, err) !=
            0)
        return -1;
    r.out = kv_arena_alloc(arena, ((size_t)p->ntargets + 1) * sizeof(*r.out));
    if (r.out == NULL)
        return sql__oom(arena, err);
    if (p->distinct && (r.seen = sql__rowset_new(&r.mem, arena, err)) == NULL)
        return -1;
    bool in_order = p->agg == NULL && !p->distinct && p->sort == NULL;
    r.want = in_order && r.limit != UINT64_MAX ? r.offset + r.limit : 0;
    sql__source_fn source = p->setop   ? setop_source
                            : p->join  ? join_source
                            : p->table ? scan_source
                            : p->from  ? sub_source
                            : p->srf   ? srf_source
                                       : values_source;
    sql__row_cb sink = p->sort ? on_row_sorted : on_row;
    int rc = 0;
    if (r.limit == 0)
        rc = 0;
    else if (p->agg != NULL && ctx->stats != NULL)
        rc = sql__agg_run(p->agg, ctx, source, &r, counted_group, &r, &r.mem, arena, err);
    else if (p->agg != NULL)
        rc = sql__agg_run(p->agg, ctx, source, &r, sink, &r, &r.mem, arena, err);
    else
        rc = source(&r, sink, &r, err);
    if (rc == 0 && r.limit != 0 && p->sort != NULL)
        rc = send_sorted(&r, err);
    *affected = r.emitted;
    return rc;
}

int sql__run(const sql_plan *p, sql_run_ctx *ctx, bool may_commit, kv_arena *arena,
             uint64_t *affected, bool *committed, sql_error *err)
{
    *affected = 0;
    *committed = false;
    sql__subq subq = {.arena = arena};
    sql_run_ctx run = *ctx;
    run.subq = &subq;
    if (p->kind != SQL_STMT_SELECT)
        return sql__run_write(p, &run, may_commit, arena, affected, committed, err);
    return sql__run_select(p, &run, arena, affected, err);
}
