/*
 * srf.c - set-returning functions in FROM (plan_int.h, sql__srf_*;
 * docs/sql.md, "Set-returning functions in FROM").
 *
 * A function call in FROM is a plan of its own without a table
 * (sql_plan.srf) whose rows are the function's values, followed WITH
 * ORDINALITY by a bigint counting them from 1. The query reading it
 * holds that plan as its `from`, as it holds a FROM subquery, so a
 * function takes WHERE, aggregates and joins like one.
 *
 * The functions are the rows of `srf_table`: a name, a binder that picks
 * the signature from the bound arguments (coercing them in place) and a
 * runner that emits the values through srf_emit. Every function here is
 * strict (a NULL argument gives no rows) and returns one scalar column:
 * generate_series and unnest.
 */
#include <assert.h>
#include <string.h>

#include "sql/plan_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"

/* Rows per scratch arena, and between cancel checks. */
#define SRF_BATCH 1024

typedef struct srf_def srf_def;

struct sql__srf {
    const srf_def *def;
    const char *alias; /* the relation's name when not the function's; NULL: none */
    sql_bexpr **args;  /* as the binder left them: coerced, defaults appended */
    int nargs;
    sql_type type; /* the value's */
    bool ordinality;
    /* generate_series over numeric and timestamps: the next value,
     * `cur + step` over the row (cur, step); NULL for integers */
    const sql_bexpr *next;
};

/* The rows of one run on their way to the callback. */
typedef struct srf_out {
    const sql__srf *f;
    sql_run_ctx *ctx;
    sql__row_cb cb;
    void *cb_arg;
    kv_arena *scratch; /* the current batch's: values and what cb evaluates */
    uint64_t n;        /* rows emitted */
} srf_out;

struct srf_def {
    const char *name;
    /* Picks the signature for f->args[0..f->nargs) and sets f->type
     * (and f->next), new nodes in bc->arena. 1 when none fits, 2 when
     * several do equally (unknown literals only), -1 with `err` set. */
    int (*bind)(sql_bind_ctx *bc, sql__srf *f, sql_error *err);
    /* Emits the rows for the argument values args[0..f->nargs) (none
     * NULL) through srf_emit. 0 (also when the callback stopped) or -1
     * with `err` set. */
    int (*run)(srf_out *o, const sql_datum *args, sql_error *err);
};

/* Passes value *v (and its ordinality) on. Every SRF_BATCH rows the
 * scratch arena is replaced and *v, the runner's current value, copied
 * into the new one, so that a long series holds one batch at a time.
 * 0 goes on, 1 stops (the callback's), -1 with `err` set. */
static int srf_emit(srf_out *o, sql_datum *v, sql_error *err)
{
    sql_datum row[2] = {*v, {.v.i = (int64_t)++o->n}};
    int rc = o->cb(o->cb_arg, row, o->scratch, err);
    if (rc != 0 || o->n % SRF_BATCH != 0)
        return rc;
    kv_arena *next;
    if (kv_arena_create(&next) != 0)
        return sql__oom(o->scratch, err);
    if (sql_datum_copy(o->f->type.oid, v, next, v, err) != 0 ||
        sql_txn_check_cancel(o->ctx->cancel, err, next) != 0) {
        sql_error_move(err, o->scratch);
        kv_arena_destroy(next);
        return -1;
    }
    kv_arena_destroy(o->scratch);
    o->scratch = next;
    return 0;
}

/* ---- generate_series -------------------------------------------------- */

/* How the bounds' type ranks within its family (integers and numeric:
 * 0..3, timestamps 10..11); -1: no generate_series takes it. */
static int series_rank(sql_type_id t)
{
    switch (t) {
    case SQL_T_INT2:
    case SQL_T_INT4:
        return 1;
    case SQL_T_INT8:
        return 2;
    case SQL_T_NUMERIC:
        return 3;
    case SQL_T_TIMESTAMP:
        return 10;
    case SQL_T_DATE: /* PostgreSQL prefers timestamptz for a date */
    case SQL_T_TIMESTAMPTZ:
        return 11;
    default:
        return -1;
    }
}

/* The signature PostgreSQL's resolution picks for the bounds' types:
 * the family's widest type among them (unknown literals take it);
 * 0 when none fits. */
static sql_type_id series_type(sql_bexpr *const *args, int nargs)
{
    static const sql_type_id by_rank[] = {[1] = SQL_T_INT4,
                                          [2] = SQL_T_INT8,
                                          [3] = SQL_T_NUMERIC,
                                          [10] = SQL_T_TIMESTAMP,
                                          [11] = SQL_T_TIMESTAMPTZ};
    int best = -1;
    for (int i = 0; i < nargs; i++) {
        sql_type_id t = args[i]->type.oid;
        bool step = i == 2 && best >= 10;
        if (t == SQL_T_UNKNOWN || (step && t == SQL_T_INTERVAL))
            continue;
        int r = series_rank(t);
        if (r < 0 || step || (best >= 0 && (r >= 10) != (best >= 10)))
            return 0;
        best = r > best ? r : best;
    }
    return best < 0 ? 0 : by_rank[best];
}

/* A constant 1 of type t, generate_series's default step. */
static int series_one(sql_bind_ctx *bc, sql_type t, sql_bexpr **out, sql_error *err)
{
    sql_expr one = {
        .kind = SQL_EXPR_CONST, .location = -1, .const_kind = SQL_CONST_INTEGER, .text = "1"};
    return sql_expr_bind(bc, &one, t, out, err);
}

/* cur + step over the row (cur, step), bound as the operator is. */
static int series_next(sql_bind_ctx *bc, sql__srf *f, sql_error *err)
{
    sql_scope_col cols[2] = {{"cur", f->type, false}, {"step", f->args[2]->type, false}};
    sql_scope scope = {.table = "", .cols = cols, .ncols = 2};
    sql_expr cur = {.kind = SQL_EXPR_COLUMN, .location = -1, .column = "cur"};
    sql_expr step = {.kind = SQL_EXPR_COLUMN, .location = -1, .column = "step"};
    sql_expr plus = {
        .kind = SQL_EXPR_OP, .location = -1, .name = "+", .left = &cur, .right = &step};
    sql_bind_ctx in = *bc;
    in.scope = &scope;
    sql_bexpr *next;
    if (sql_expr_bind(&in, &plus, f->type, &next, err) != 0)
        return -1;
    f->next = next;
    return 0;
}

static int series_bind(sql_bind_ctx *bc, sql__srf *f, sql_error *err)
{
    bool all_unknown = true;
    for (int i = 0; i < f->nargs; i++)
        all_unknown &= f->args[i]->type.oid == SQL_T_UNKNOWN;
    if (all_unknown && (f->nargs == 2 || f->nargs == 3))
        return 2;
    sql_type_id t = f->nargs == 2 || f->nargs == 3 ? series_type(f->args, f->nargs) : 0;
    if (t == 0 || (f->nargs == 2 && series_rank(t) >= 10))
        return 1;
    f->type = (sql_type){t, -1};
    sql_type step = {series_rank(t) >= 10 ? SQL_T_INTERVAL : t, -1};
    for (int i = 0; i < f->nargs; i++)
        if (sql_expr_coerce(bc, f->args[i], i < 2 ? f->type : step, &f->args[i], err) != 0)
            return -1;
    if (f->nargs == 2 && series_one(bc, f->type, &f->args[f->nargs++], err) != 0)
        return -1;
    return t == SQL_T_NUMERIC || series_rank(t) >= 10 ? series_next(bc, f, err) : 0;
}

static int step_zero(srf_out *o, sql_error *err)
{
    return sql_error_set(err, o->scratch, SQL_STATE_INVALID_PARAMETER_VALUE,
                         "step size cannot equal zero");
}

/* Integers: the next value past the type's range ends the series, as
 * in PostgreSQL (no overflow error). */
static int series_int(srf_out *o, const sql_datum *a, sql_error *err)
{
    int64_t cur = a[0].v.i, stop = a[1].v.i, step = a[2].v.i;
    bool narrow = o->f->type.oid == SQL_T_INT4;
    if (step == 0)
        return step_zero(o, err);
    while (step > 0 ? cur <= stop : cur >= stop) {
        sql_datum v = {.v.i = cur};
        int rc = srf_emit(o, &v, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        if (__builtin_add_overflow(cur, step, &cur) ||
            (narrow && (cur > INT32_MAX || cur < INT32_MIN)))
            return 0;
    }
    return 0;
}

/* The sign of a numeric or interval step; NaN steps are refused first. */
static int step_sign(srf_out *o, const sql_datum *a, int *sign, sql_error *err)
{
    static const char *const what[] = {"start value", "stop value", "step size"};
    if (series_rank(o->f->type.oid) >= 10) {
        __int128 span = sql__interval_span(&a[2].v.iv);
        *sign = span > 0 ? 1 : span < 0 ? -1 : 0;
        return 0;
    }
    for (int i = 0; i < 3; i++)
        if (a[i].v.num.kind == SQL_NUM_NAN)
            return sql_error_set(err, o->scratch, SQL_STATE_INVALID_PARAMETER_VALUE,
                                 "%s cannot be NaN", what[i]);
    sql_numeric zero = {.kind = SQL_NUM_FINITE};
    *sign = sql__numeric_cmp(&a[2].v.num, &zero);
    return 0;
}

/* Numeric and timestamps: cur + step through the bound operator. */
static int series_stepped(srf_out *o, const sql_datum *a, sql_error *err)
{
    sql_type_id t = o->f->type.oid;
    sql_datum row[2] = {a[0], a[2]};
    int sign = 0;
    if (step_sign(o, a, &sign, err) != 0)
        return -1;
    if (sign == 0)
        return step_zero(o, err);
    for (;;) {
        int c = sql_datum_cmp(t, &row[0], &a[1]);
        if (sign > 0 ? c > 0 : c < 0)
            return 0;
        int rc = srf_emit(o, &row[0], err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
        sql_eval_ctx ec;
        sql__eval_init(&ec, o->ctx, row, o->scratch, err);
        if (sql_expr_eval(&ec, o->f->next, &row[0]) != 0)
            return -1;
    }
}

static int series_run(srf_out *o, const sql_datum *a, sql_error *err)
{
    return o->f->next ? series_stepped(o, a, err) : series_int(o, a, err);
}

/* ---- unnest ---------------------------------------------------------------- */

/* unnest(anyarray): its element type; an unknown literal is ambiguous
 * (PostgreSQL: "function unnest(unknown) is not unique"). */
static int unnest_bind(sql_bind_ctx *bc, sql__srf *f, sql_error *err)
{
    (void)bc, (void)err;
    if (f->nargs != 1)
        return 1;
    if (f->args[0]->type.oid == SQL_T_UNKNOWN)
        return 2;
    sql_type_id elem = sql_type_array_elem(f->args[0]->type.oid);
    if (elem == 0)
        return 1;
    f->type = (sql_type){elem, -1};
    return 0;
}

/* The elements in subscript order, NULLs included. */
static int unnest_run(srf_out *o, const sql_datum *a, sql_error *err)
{
    const sql_array *arr = a[0].v.arr;
    for (int32_t i = 0; i < arr->n; i++) {
        sql_datum v = arr->elems[i];
        int rc = srf_emit(o, &v, err);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return 0;
}

/* ---- pg_partition_ancestors ------------------------------------------- */

/* pg_partition_ancestors(regclass): a relation's partition ancestors,
 * itself included, and no rows for one that is neither a partition nor
 * partitioned, which is every relation here (psql's \d asks). Oids are
 * bigint (docs/sql.md, "System catalogs"). */
static int ancestors_bind(sql_bind_ctx *bc, sql__srf *f, sql_error *err)
{
    if (f->nargs != 1)
        return 1;
    f->type = (sql_type){SQL_T_INT8, -1};
    return sql_expr_coerce(bc, f->args[0], f->type, &f->args[0], err);
}

static int ancestors_run(srf_out *o, const sql_datum *a, sql_error *err)
{
    (void)o, (void)a, (void)err;
    return 0;
}

/* ---- the table -------------------------------------------------------- */

static const srf_def srf_table[] = {
    {"generate_series", series_bind, series_run},
    {"pg_partition_ancestors", ancestors_bind, ancestors_run},
    {"unnest", unnest_bind, unnest_run},
};

static const srf_def *srf_find(const sql_expr *call)
{
    if (call->schema && strcmp(call->schema, "pg_catalog") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof srf_table / sizeof *srf_table; i++)
        if (strcmp(srf_table[i].name, call->name) == 0)
            return &srf_table[i];
    return NULL;
}

/* The plan's targets pass its row through, columns named after the
 * function and "ordinality". */
static int srf_targets(sql__srf *f, sql_plan *p, kv_arena *arena, sql_error *err)
{
    int n = f->ordinality ? 2 : 1;
    sql_bexpr *cols = kv_arena_alloc(arena, (size_t)n * sizeof(*cols));
    const sql_bexpr **targets = kv_arena_alloc(arena, (size_t)n * sizeof(*targets));
    p->cols = kv_arena_alloc(arena, (size_t)n * sizeof(*p->cols));
    if (cols == NULL || targets == NULL || p->cols == NULL)
        return sql__oom(arena, err);
    for (int i = 0; i < n; i++) {
        sql_type t = i == 0 ? f->type : (sql_type){SQL_T_INT8, -1};
        cols[i] = (sql_bexpr){.kind = SQL_BEXPR_COLUMN, .type = t, .location = -1, .column = i};
        targets[i] = &cols[i];
        p->cols[i] = (sql_column_info){.name = i == 0 ? f->def->name : "ordinality", .type = t};
    }
    p->targets = targets;
    p->ntargets = n;
    p->srf = f;
    p->returns_rows = true;
    return 0;
}

int sql__srf_bind(sql_bind_ctx *bc, const sql_expr *call, bool ordinality, const char *alias,
                  sql_plan *p, sql_error *err)
{
    const srf_def *def = srf_find(call);
    if (def == NULL) {
        sql_error_set(err, bc->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "function %s in FROM is not supported yet", call->name);
        sql_expr_error_position(err, bc->query, call->location);
        return -1;
    }
    sql__srf *f = kv_arena_alloc(bc->arena, sizeof(*f));
    sql_bexpr **args = kv_arena_alloc(bc->arena, ((size_t)call->nargs + 2) * sizeof(*args));
    if (f == NULL || args == NULL)
        return sql__oom(bc->arena, err);
    *f = (sql__srf){.def = def,
                    .alias = alias && strcmp(alias, def->name) != 0 ? alias : NULL,
                    .args = args,
                    .nargs = call->nargs,
                    .ordinality = ordinality};
    for (int i = 0; i < call->nargs; i++)
        if (sql_expr_bind(bc, call->args[i], (sql_type){SQL_T_UNKNOWN, -1}, &args[i], err) != 0)
            return -1;
    int rc = def->bind(bc, f, err);
    if (rc == 1)
        return sql_expr_no_function(bc, call, args, err);
    if (rc == 2)
        return sql_expr_ambiguous_function(bc, call, args, err);
    return rc != 0 ? -1 : srf_targets(f, p, bc->arena, err);
}

/* ---- in the select list ------------------------------------------------ */

/* The set-returning calls in parse tree e (not in its subqueries): the
 * first into *first, their number added to *n; *in_case set when one
 * is inside a CASE (which PostgreSQL refuses, and so do we). */
static void find_calls(sql_expr *e, bool under_case, sql_expr **first, int *n, bool *in_case)
{
    if (e == NULL)
        return;
    if (e->kind == SQL_EXPR_FUNC && srf_find(e) != NULL && (*n)++ == 0)
        *first = e;
    if (e->kind == SQL_EXPR_FUNC && srf_find(e) != NULL)
        *in_case |= under_case;
    under_case |= e->kind == SQL_EXPR_CASE;
    find_calls(e->left, under_case, first, n, in_case);
    find_calls(e->right, under_case, first, n, in_case);
    find_calls(e->arg, under_case, first, n, in_case);
    find_calls(e->els, under_case, first, n, in_case);
    for (int i = 0; i < e->nargs; i++) {
        find_calls(e->args ? e->args[i] : NULL, under_case, first, n, in_case);
        find_calls(e->whens ? e->whens[i] : NULL, under_case, first, n, in_case);
        find_calls(e->thens ? e->thens[i] : NULL, under_case, first, n, in_case);
    }
}

/* A copy of e in which node `call` is `with`: the nodes on the way to it
 * copied, the rest shared. NULL on OOM. */
static sql_expr *replace(kv_arena *arena, sql_expr *e, const sql_expr *call, sql_expr *with)
{
    if (e == NULL || e == call)
        return e == NULL ? NULL : with;
    sql_expr *c = kv_arena_dup(arena, e, sizeof(*e));
    sql_expr ***lists[] = {&c->args, &c->whens, &c->thens};
    if (c == NULL)
        return NULL;
    c->left = replace(arena, e->left, call, with);
    c->right = replace(arena, e->right, call, with);
    c->arg = replace(arena, e->arg, call, with);
    c->els = replace(arena, e->els, call, with);
    for (int l = 0; l < 3; l++) {
        if (*lists[l] == NULL || e->nargs == 0)
            continue;
        sql_expr **v = kv_arena_dup(arena, *lists[l], (size_t)e->nargs * sizeof(*v));
        if (v == NULL)
            return NULL;
        for (int i = 0; i < e->nargs; i++)
            if (v[i] != NULL && (v[i] = replace(arena, v[i], call, with)) == NULL)
                return NULL;
        *lists[l] = v;
    }
    return c;
}

int sql__srf_targets(const sql_select *s, kv_arena *arena, const char *query, sql_select **out,
                     sql_error *err)
{
    sql_expr *call = NULL;
    int n = 0;
    bool in_case = false;
    for (int i = 0; i < s->ntargets; i++)
        find_calls(s->targets[i].expr, false, &call, &n, &in_case);
    if (n == 0)
        return 0;
    if (n > 1 || in_case || s->has_from || s->nfrom > 0 || s->ngroup_by > 0 || s->having != NULL) {
        sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "%s in the select list %s is not supported yet", call->name,
                      n > 1     ? "with another set-returning function"
                      : in_case ? "inside CASE"
                                : "of this query");
        sql_expr_error_position(err, query, call->location);
        return -1;
    }
    sql_select *q = kv_arena_dup(arena, s, sizeof(*s));
    sql_select *f = kv_arena_alloc(arena, sizeof(*f));
    sql_expr *col = kv_arena_alloc(arena, sizeof(*col));
    sql_target *targets = kv_arena_dup(arena, s->targets, (size_t)s->ntargets * sizeof(*targets));
    if (q == NULL || f == NULL || col == NULL || targets == NULL)
        return sql__oom(arena, err);
    *f = (sql_select){.func = call, .alias = call->name};
    *col = (sql_expr){.kind = SQL_EXPR_COLUMN, .location = call->location, .column = call->name};
    /* a lone call's column keeps its name: the column is named after it */
    for (int i = 0; i < s->ntargets; i++)
        if ((targets[i].expr = replace(arena, targets[i].expr, call, col)) == NULL)
            return sql__oom(arena, err);
    q->targets = targets;
    q->has_from = true;
    q->from_sub = f;
    q->alias = call->name;
    *out = q;
    return 1;
}

int sql__srf_run(const sql_plan *p, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg, kv_arena *arena,
                 sql_error *err)
{
    const sql__srf *f = p->srf;
    sql_datum *args = kv_arena_alloc(arena, ((size_t)f->nargs + 1) * sizeof(*args));
    if (args == NULL)
        return sql__oom(arena, err);
    sql_eval_ctx ec;
    sql__eval_init(&ec, ctx, NULL, arena, err);
    for (int i = 0; i < f->nargs; i++) {
        if (sql_expr_eval(&ec, f->args[i], &args[i]) != 0)
            return -1;
        if (args[i].isnull)
            return 0;
    }
    srf_out o = {.f = f, .ctx = ctx, .cb = cb, .cb_arg = cb_arg};
    if (kv_arena_create(&o.scratch) != 0)
        return sql__oom(arena, err);
    int rc = f->def->run(&o, args, err);
    if (rc != 0)
        sql_error_move(err, arena);
    kv_arena_destroy(o.scratch);
    return rc;
}

void sql__srf_names(const sql__srf *f, const char **name, const char **alias)
{
    *name = f->def->name;
    *alias = f->alias;
}
