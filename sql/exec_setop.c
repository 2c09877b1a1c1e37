/*
 * exec_setop.c - running UNION, INTERSECT and EXCEPT [ALL]
 * (sql__setop_run) and VALUES lists (sql__values_run; docs/sql.md, "Set
 * operations and VALUES").
 *
 * Each branch runs as a SELECT of its own (sql__run_select, at this
 * query's level, so that a correlated branch sees the same enclosing
 * row), in an arena of its own; its rows are converted to the common
 * column types and then:
 *   UNION ALL            passed on as they come, left branch first;
 *   UNION                passed on when first seen (a hash set of rows);
 *   INTERSECT, EXCEPT    counted per distinct row in a hash of rows made
 *   [ALL]                from the left branch (right rows only counted),
 *                        then each row sent as many times as PostgreSQL's
 *                        rules say: INTERSECT ALL min(m, n), EXCEPT ALL
 *                        max(m - n, 0), without ALL at most once.
 * Rows compare as in DISTINCT: NULLs equal. Held rows live in the
 * statement arena, charged to the query's memory budget (53200).
 */
#include <string.h>

#include "sql/plan_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"

/* How many rows go out per scratch arena (and between cancel checks). */
#define EMIT_BATCH 4096

/* A distinct row of INTERSECT/EXCEPT and how often each branch had it. */
typedef struct member {
    sql_datum *vals;
    uint64_t count[2];
} member;

typedef struct setop_run {
    const sql__setop *s;
    sql_run_ctx *ctx;
    sql__row_cb cb;
    void *cb_arg;
    sql__membudget *mem;
    kv_arena *arena;
    kv_arena *scratch; /* the running branch's */
    int side;          /* 0: the left branch runs, 1: the right */
    bool stopped;      /* cb wanted no more rows */
    sql_datum *row;    /* the converted row */
    sql__rowset *set;  /* UNION: rows sent; INTERSECT/EXCEPT: members */
    member **members;  /* INTERSECT/EXCEPT, in order of first appearance */
    size_t n, cap;
} setop_run;

/* Passes `row` (payloads in `arena`) on; 1 (and r->stopped) when cb
 * wants no more. */
static int pass_on(setop_run *r, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    int rc = r->cb(r->cb_arg, row, arena, err);
    if (rc > 0)
        r->stopped = true;
    return rc;
}

/* Lists new member m with a copy of r->row, kept in r->arena and
 * charged to the budget. */
static int add_member(setop_run *r, member *m, sql_error *err)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        member **v = sql__mem_charge(r->mem, r->arena, cap * sizeof(*v), "HashSetOp", err);
        if (v == NULL)
            return -1;
        if (r->n > 0)
            memcpy(v, r->members, r->n * sizeof(*v));
        r->members = v;
        r->cap = cap;
    }
    int n = r->s->ncols;
    m->vals =
        sql__mem_charge(r->mem, r->arena, ((size_t)n + 1) * sizeof(*m->vals), "HashSetOp", err);
    if (m->vals == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        sql_type_id t = r->s->cols[i].type.oid;
        if (sql__mem_account(r->mem, r->arena, sql__datum_payload(t, &r->row[i]), "HashSetOp",
                             err) != 0 ||
            sql_datum_copy(t, &r->row[i], r->arena, &m->vals[i], err) != 0)
            return -1;
    }
    r->members[r->n++] = m;
    return 0;
}

/* INTERSECT/EXCEPT: counts r->row for the running branch (a left row
 * may become a member, a right row only counts for one). */
static int count_row(setop_run *r, sql_error *err)
{
    void *payload;
    bool added;
    if (sql__rowset_member(r->set, r->s->cols, r->row, r->s->ncols, sizeof(member), r->side == 0,
                           r->scratch, &payload, &added, err) != 0)
        return -1;
    member *m = payload;
    if (m == NULL)
        return 0;
    if (added && add_member(r, m, err) != 0)
        return -1;
    m->count[r->side]++;
    return 0;
}

/* A branch's result row: converted, then as the operation wants. */
static int on_branch_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    setop_run *r = arg;
    const sql__setop *s = r->s;
    sql_eval_ctx ec;
    (void)n;
    sql__eval_init(&ec, r->ctx, vals, r->scratch, err);
    for (int i = 0; i < s->ncols; i++)
        if (sql_expr_eval(&ec, s->conv[r->side][i], &r->row[i]) != 0)
            return -1;
    if (s->op != SQL_SETOP_UNION)
        return count_row(r, err);
    bool fresh = true;
    if (!s->all && sql__rowset_add(r->set, s->cols, r->row, s->ncols, r->scratch, &fresh, err) != 0)
        return -1;
    return fresh ? pass_on(r, r->row, r->scratch, err) : 0;
}

static int run_branch(setop_run *r, int side, sql_error *err)
{
    sql_run_ctx in = *r->ctx;
    in.row = on_branch_row;
    in.row_arg = r;
    r->side = side;
    if (kv_arena_create(&r->scratch) != 0)
        return sql__oom(r->arena, err);
    uint64_t rows;
    int rc = sql__run_select(side == 0 ? r->s->left : r->s->right, &in, r->scratch, &rows, err);
    if (rc != 0)
        sql_error_move(err, r->arena);
    kv_arena_destroy(r->scratch);
    r->scratch = NULL;
    return rc;
}

/* How many copies of member m the result holds. */
static uint64_t copies(const sql__setop *s, const member *m)
{
    uint64_t l = m->count[0], rt = m->count[1];
    if (s->op == SQL_SETOP_INTERSECT)
        return s->all ? (l < rt ? l : rt) : (l > 0 && rt > 0);
    return s->all ? (l > rt ? l - rt : 0) : (l > 0 && rt == 0);
}

/* INTERSECT/EXCEPT: the members' copies to cb, a batch of rows per
 * scratch arena. */
static int emit_members(setop_run *r, sql_error *err)
{
    kv_arena *scratch = NULL;
    uint64_t sent = 0;
    int rc = 0;
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        for (uint64_t c = copies(r->s, r->members[i]); c > 0 && rc == 0; c--, sent++) {
            if (sent % EMIT_BATCH == 0) {
                kv_arena_destroy(scratch);
                if (kv_arena_create(&scratch) != 0)
                    return sql__oom(r->arena, err);
                rc = sql_txn_check_cancel(r->ctx->cancel, err, r->arena);
            }
            if (rc == 0)
                rc = pass_on(r, r->members[i]->vals, scratch, err);
        }
    }
    if (rc < 0)
        sql_error_move(err, r->arena);
    kv_arena_destroy(scratch);
    return rc < 0 ? -1 : 0;
}

int sql__setop_run(const sql__setop *s, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg,
                   sql__membudget *mem, kv_arena *arena, sql_error *err)
{
    setop_run r = {.s = s, .ctx = ctx, .cb = cb, .cb_arg = cb_arg, .mem = mem, .arena = arena};
    r.row = kv_arena_alloc(arena, ((size_t)s->ncols + 1) * sizeof(*r.row));
    if (r.row == NULL)
        return sql__oom(arena, err);
    bool hashed = s->op != SQL_SETOP_UNION || !s->all;
    if (hashed && (r.set = sql__rowset_new(mem, arena, err)) == NULL)
        return -1;
    if (run_branch(&r, 0, err) != 0)
        return -1;
    if (!r.stopped && run_branch(&r, 1, err) != 0)
        return -1;
    return s->op == SQL_SETOP_UNION ? 0 : emit_members(&r, err);
}

int sql__values_run(const sql_plan *p, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg,
                    kv_arena *arena, sql_error *err)
{
    sql_datum *row = kv_arena_alloc(arena, ((size_t)p->ntargets + 1) * sizeof(*row));
    if (row == NULL)
        return sql__oom(arena, err);
    kv_arena *scratch = NULL;
    int rc = 0;
    for (int r = 0; r < p->nvalues && rc == 0; r++) {
        if (r % EMIT_BATCH == 0) {
            kv_arena_destroy(scratch);
            if (kv_arena_create(&scratch) != 0)
                return sql__oom(arena, err);
        }
        sql_eval_ctx ec;
        sql__eval_init(&ec, ctx, NULL, scratch, err);
        for (int c = 0; c < p->ntargets && rc == 0; c++)
            rc = sql_expr_eval(&ec, p->values[r][c], &row[c]) != 0 ? -1 : 0;
        if (rc == 0)
            rc = cb(cb_arg, row, scratch, err);
    }
    if (rc < 0)
        sql_error_move(err, arena);
    kv_arena_destroy(scratch);
    return rc < 0 ? -1 : 0;
}
