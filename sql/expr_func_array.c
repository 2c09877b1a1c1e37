/*
 * expr_func_array.c - array expressions and functions: the ARRAY[...]
 * constructor, subscripts and slices, x op ANY/ALL (array), the ||
 * operators and PostgreSQL 15's array functions (array_length,
 * array_lower/upper, array_ndims, array_dims, cardinality,
 * array_to_string, string_to_array, array_append, array_prepend,
 * array_cat, array_position(s), array_remove, array_replace) and the
 * containment operators @>, <@, &&; the || rows live with the other ||
 * rows in expr_func.c.
 *
 * The polymorphic rows use SQL__T_ANYARRAY and SQL__T_ANYELEMENT, which
 * the binder resolves as PostgreSQL's anycompatiblearray/anycompatible
 * (expr_int.h): the node's own type says which array type a call makes.
 *
 * Arrays are one-dimensional; functions that take a dimension answer
 * NULL for any other, as PostgreSQL does for a dimension an array lacks.
 * Every array produced lives in ctx->arena; element payloads of the
 * inputs are shared, not copied (both live at least as long).
 */
#include <stdio.h>
#include <string.h>

#include "sql/expr_int.h"

/* ---- nodes the binder builds -------------------------------------------- */

int sql__array_ctor(FN_ARGS)
{
    sql_type_id elem = sql_type_array_elem(e->type.oid);

    return sql_array_make(elem, args, e->nargs, ctx->arena, out, ctx->err);
}

/* a[i]: NULL outside the array. */
int sql__array_subscript(FN_ARGS)
{
    const sql_array *a = args[0].v.arr;
    int64_t i = args[1].v.i - (int64_t)a->lbound;

    if (i < 0 || i >= a->n) {
        *out = (sql_datum){.isnull = true};
        return 0;
    }
    *out = a->elems[i];
    return 0;
}

/* a[lo:hi]: the bounds clamped to the array's; nothing left is the empty
 * array. The result's lower bound is 1 (PostgreSQL's array_get_slice). */
int sql__array_slice(FN_ARGS)
{
    const sql_array *a = args[0].v.arr;
    int64_t lo = args[1].v.i - (int64_t)a->lbound, hi = args[2].v.i - (int64_t)a->lbound;

    if (lo < 0)
        lo = 0;
    if (hi >= a->n)
        hi = (int64_t)a->n - 1;
    if (hi < lo)
        return sql_array_make(a->elem, NULL, 0, ctx->arena, out, ctx->err);
    return sql_array_make(a->elem, a->elems + lo, (int32_t)(hi - lo + 1), ctx->arena, out,
                          ctx->err);
}

/* The test of x op ANY/ALL (array) over every element (aux, see
 * bind_array_op): ANY is the OR of the tests, ALL their AND, so an
 * empty array gives FALSE / TRUE even for a NULL x, a NULL array NULL. */
static int array_test(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args, bool any,
                      sql_datum *out)
{
    const sql_datum *saved = ctx->subrow;
    sql_tribool r = any ? SQL_FALSE : SQL_TRUE, t;
    sql_datum row[2] = {args[0]};
    int rc = 0;

    if (args[1].isnull) {
        *out = (sql_datum){.isnull = true};
        return 0;
    }
    ctx->subrow = row;
    for (int32_t i = 0; i < args[1].v.arr->n && r != (any ? SQL_TRUE : SQL_FALSE); i++) {
        row[1] = args[1].v.arr->elems[i];
        if ((rc = sql_expr_eval_bool(ctx, e->aux, &t)) < 0)
            break;
        r = any ? sql_tri_or(r, t) : sql_tri_and(r, t);
    }
    ctx->subrow = saved;
    *out = r == SQL_UNKNOWN ? (sql_datum){.isnull = true} : (sql_datum){.v.b = r == SQL_TRUE};
    return rc;
}

int sql__array_any(FN_ARGS)
{
    return array_test(ctx, e, args, true, out);
}

int sql__array_all(FN_ARGS)
{
    return array_test(ctx, e, args, false, out);
}

/* ---- size and bounds ---------------------------------------------------- */

/* Whether dimension `dim` exists: only 1, and only in a non-empty array. */
static bool has_dim(const sql_datum *a, const sql_datum *dim)
{
    return a->v.arr->n > 0 && dim->v.i == 1;
}

static int int_or_null(bool ok, int64_t v, sql_datum *out)
{
    *out = ok ? (sql_datum){.v.i = v} : (sql_datum){.isnull = true};
    return 0;
}

static int array_length_fn(FN_ARGS)
{
    return int_or_null(has_dim(&args[0], &args[1]), args[0].v.arr->n, out);
}

static int array_lower_fn(FN_ARGS)
{
    return int_or_null(has_dim(&args[0], &args[1]), args[0].v.arr->lbound, out);
}

static int array_upper_fn(FN_ARGS)
{
    const sql_array *a = args[0].v.arr;

    return int_or_null(has_dim(&args[0], &args[1]), (int64_t)a->lbound + a->n - 1, out);
}

static int array_ndims_fn(FN_ARGS)
{
    return int_or_null(args[0].v.arr->n > 0, 1, out);
}

static int cardinality_fn(FN_ARGS)
{
    return int_or_null(true, args[0].v.arr->n, out);
}

static int array_dims_fn(FN_ARGS)
{
    const sql_array *a = args[0].v.arr;
    char buf[32];
    int n;

    if (a->n == 0) {
        *out = (sql_datum){.isnull = true};
        return 0;
    }
    n = snprintf(buf, sizeof buf, "[%d:%lld]", (int)a->lbound, (long long)a->lbound + a->n - 1);
    return sql__text_out(ctx, buf, (size_t)n, out);
}

/* ---- text conversion ---------------------------------------------------- */

/* array_to_string(a, delim [, null_string]): elements by their output
 * function; NULL elements skipped, or written as null_string. The
 * three-argument form is not strict: a NULL null_string skips. */
static int array_to_string_fn(FN_ARGS)
{
    const sql_array *a;
    sql_type elem;
    sql__buf b = {.ctx = ctx};
    bool first = true;

    if (args[0].isnull || args[1].isnull) {
        *out = (sql_datum){.isnull = true};
        return 0;
    }
    a = args[0].v.arr;
    elem = (sql_type){a->elem, e->args[0]->type.typmod};
    for (int32_t i = 0; i < a->n; i++) {
        const sql_datum *v = &a->elems[i];
        const char *s;
        size_t len;
        if (v->isnull && (e->nargs < 3 || args[2].isnull))
            continue;
        if (v->isnull)
            s = (const char *)args[2].v.s.p, len = args[2].v.s.len;
        else if (sql_datum_to_text(elem, v, &ctx->io, ctx->arena, &s, &len, ctx->err) < 0)
            return -1;
        if ((!first && sql__buf_put(&b, args[1].v.s.p, args[1].v.s.len) < 0) ||
            sql__buf_put(&b, s, len) < 0)
            return -1;
        first = false;
    }
    sql__buf_text(&b, out);
    return 0;
}

/* The growing element list of string_to_array. */
typedef struct split {
    sql_eval_ctx *ctx;
    const sql_datum *null_string; /* NULL: none */
    sql_datum *v;
    size_t n, cap;
} split;

/* Appends p[0..len), NULL when it equals the null string. */
static int split_push(split *sp, const uint8_t *p, size_t len)
{
    const sql_datum *ns = sp->null_string;

    if (sp->n == sp->cap) {
        sql_datum *w = kv_arena_alloc(sp->ctx->arena, (sp->cap = 2 * sp->cap + 8) * sizeof *w);
        if (!w)
            return sql__fn_oom(sp->ctx);
        if (sp->n)
            memcpy(w, sp->v, sp->n * sizeof *w);
        sp->v = w;
    }
    if (ns && ns->v.s.len == len && memcmp(ns->v.s.p, p, len) == 0)
        sp->v[sp->n++] = (sql_datum){.isnull = true};
    else
        sp->v[sp->n++] = (sql_datum){.v.s = {p, len}};
    return 0;
}

/* The first occurrence of d[0..dlen) in [p, end), else end. */
static const uint8_t *find(const uint8_t *p, const uint8_t *end, const uint8_t *d, size_t dlen)
{
    for (; (size_t)(end - p) >= dlen; p += sql__utf8_width(*p))
        if (memcmp(p, d, dlen) == 0)
            return p;
    return end;
}

/* string_to_array(s, delim [, null_string]), not strict: a NULL s gives
 * NULL, an empty s the empty array, a NULL delimiter one element per
 * character, an empty delimiter the whole string as one element. */
static int string_to_array_fn(FN_ARGS)
{
    const uint8_t *p = args[0].v.s.p, *end = p + args[0].v.s.len;
    const uint8_t *d = args[1].v.s.p;
    size_t dlen = args[1].v.s.len;
    split sp = {.ctx = ctx, .null_string = e->nargs > 2 && !args[2].isnull ? &args[2] : NULL};

    if (args[0].isnull) {
        *out = (sql_datum){.isnull = true};
        return 0;
    }
    while (p < end) {
        const uint8_t *q = args[1].isnull ? p + sql__utf8_width(*p)
                           : dlen == 0    ? end
                                          : find(p, end, d, dlen);
        if (split_push(&sp, p, (size_t)(q - p)) < 0)
            return -1;
        p = q;
        if (!args[1].isnull && dlen && q < end) {
            p += dlen; /* past the delimiter; one at the very end leaves "" */
            if (p == end && split_push(&sp, p, 0) < 0)
                return -1;
        }
    }
    return sql_array_make(SQL_T_TEXT, sp.v, (int32_t)sp.n, ctx->arena, out, ctx->err);
}

/* ---- building arrays ---------------------------------------------------- */

/* The elements of a possibly NULL array argument (a NULL array counts
 * as empty in array_append, array_prepend and array_cat). */
static const sql_datum *elems_of(const sql_datum *a, int32_t *n)
{
    *n = a->isnull ? 0 : a->v.arr->n;
    return a->isnull ? NULL : a->v.arr->elems;
}

/* x[0..nx) followed by y[0..ny), as the node's array type. */
static int concat(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *x, int32_t nx,
                  const sql_datum *y, int32_t ny, sql_datum *out)
{
    sql_datum *v = kv_arena_alloc(ctx->arena, ((size_t)nx + (size_t)ny + 1) * sizeof *v);

    if (!v)
        return sql__fn_oom(ctx);
    if (nx)
        memcpy(v, x, (size_t)nx * sizeof *v);
    if (ny)
        memcpy(v + nx, y, (size_t)ny * sizeof *v);
    return sql_array_make(sql_type_array_elem(e->type.oid), v, nx + ny, ctx->arena, out, ctx->err);
}

int sql__array_append(FN_ARGS)
{
    int32_t n;
    const sql_datum *v = elems_of(&args[0], &n);

    return concat(ctx, e, v, n, &args[1], 1, out);
}

int sql__array_prepend(FN_ARGS)
{
    int32_t n;
    const sql_datum *v = elems_of(&args[1], &n);

    return concat(ctx, e, &args[0], 1, v, n, out);
}

/* array_cat: NULL when both are NULL, else the other one alone. */
int sql__array_cat(FN_ARGS)
{
    int32_t nx, ny;
    const sql_datum *x = elems_of(&args[0], &nx), *y = elems_of(&args[1], &ny);

    if (args[0].isnull || args[1].isnull) {
        *out = args[0].isnull ? args[1] : args[0];
        return 0;
    }
    return concat(ctx, e, x, nx, y, ny, out);
}

/* array_position(a, x [, start]): the subscript of the first element
 * not distinct from x (so NULL finds a NULL element), searching from
 * subscript `start`; NULL when there is none or a is NULL. */
static int array_position_fn(FN_ARGS)
{
    const sql_array *a;
    int64_t from = 0;

    *out = (sql_datum){.isnull = true};
    if (args[0].isnull)
        return 0;
    a = args[0].v.arr;
    if (e->nargs > 2) {
        if (args[2].isnull)
            return sql__fn_fail(ctx, SQL_STATE_NULL_VALUE_NOT_ALLOWED,
                                "initial position must not be null");
        from = args[2].v.i - (int64_t)a->lbound;
    }
    for (int64_t i = from < 0 ? 0 : from; i < a->n; i++)
        if (!sql_datum_distinct(a->elem, &a->elems[i], &args[1])) {
            *out = (sql_datum){.v.i = (int64_t)a->lbound + i};
            break;
        }
    return 0;
}

/* array_remove(a, x): a without the elements not distinct from x. */
static int array_remove_fn(FN_ARGS)
{
    const sql_array *a;
    sql_datum *v;
    int32_t n = 0;

    if (args[0].isnull) {
        *out = args[0];
        return 0;
    }
    a = args[0].v.arr;
    if (!(v = sql__fn_elems(ctx, a)))
        return sql__fn_oom(ctx);
    for (int32_t i = 0; i < a->n; i++)
        if (sql_datum_distinct(a->elem, &a->elems[i], &args[1]))
            v[n++] = a->elems[i];
    return sql_array_make(a->elem, v, n, ctx->arena, out, ctx->err);
}

/* Whether some element of `a` equals `x` (non-NULL; NULL elements never
 * match, as in PostgreSQL's array_contain_compare). */
static bool has_elem(const sql_array *a, const sql_datum *x)
{
    for (int32_t i = 0; i < a->n; i++)
        if (!a->elems[i].isnull && sql_datum_cmp(a->elem, &a->elems[i], x) == 0)
            return true;
    return false;
}

/* Whether every element of `b` is in `a` (all: @> / <@) or some is (&&);
 * a NULL element of b is never found. */
static int contained(const sql_array *a, const sql_array *b, bool all, sql_datum *out)
{
    bool r = all;

    for (int32_t i = 0; i < b->n && r == all; i++)
        r = !b->elems[i].isnull && has_elem(a, &b->elems[i]);
    *out = (sql_datum){.v.b = r};
    return 0;
}

static int contains_fn(FN_ARGS)
{
    return contained(args[0].v.arr, args[1].v.arr, true, out);
}

static int contained_fn(FN_ARGS)
{
    return contained(args[1].v.arr, args[0].v.arr, true, out);
}

static int overlap_fn(FN_ARGS)
{
    return contained(args[0].v.arr, args[1].v.arr, false, out);
}

/* array_positions(a, x): the subscripts of every element not distinct
 * from x (int4[], empty when none). */
static int array_positions_fn(FN_ARGS)
{
    const sql_array *a;
    sql_datum *v;
    int32_t n = 0;

    if (args[0].isnull) {
        *out = args[0];
        return 0;
    }
    a = args[0].v.arr;
    if (!(v = sql__fn_elems(ctx, a)))
        return sql__fn_oom(ctx);
    for (int32_t i = 0; i < a->n; i++)
        if (!sql_datum_distinct(a->elem, &a->elems[i], &args[1]))
            v[n++] = (sql_datum){.v.i = (int64_t)a->lbound + i};
    return sql_array_make(SQL_T_INT4, v, n, ctx->arena, out, ctx->err);
}

/* array_replace(a, from, to): every element not distinct from `from`
 * replaced by `to`. */
static int array_replace_fn(FN_ARGS)
{
    const sql_array *a;
    sql_datum *v;

    if (args[0].isnull) {
        *out = args[0];
        return 0;
    }
    a = args[0].v.arr;
    if (!(v = sql__fn_elems(ctx, a)))
        return sql__fn_oom(ctx);
    for (int32_t i = 0; i < a->n; i++)
        v[i] = sql_datum_distinct(a->elem, &a->elems[i], &args[1]) ? a->elems[i] : args[2];
    return sql_array_make(a->elem, v, a->n, ctx->arena, out, ctx->err);
}

/* ---- the table ---------------------------------------------------------- */

#define T(x) SQL_T_##x
#define ARR  SQL__T_ANYARRAY
#define ELEM SQL__T_ANYELEMENT
#define S    SQL__FN_STRICT

/* Containment and overlap (arraycontains, arraycontained, arrayoverlap). */
static const sql__fn ops[] = {
    {"@>", 2, {ARR, ARR}, T(BOOL), contains_fn, S | SQL__FN_SAME_POLY},
    {"<@", 2, {ARR, ARR}, T(BOOL), contained_fn, S | SQL__FN_SAME_POLY},
    {"&&", 2, {ARR, ARR}, T(BOOL), overlap_fn, S | SQL__FN_SAME_POLY},
};

static const sql__fn fns[] = {
    {"array_length", 2, {ARR, T(INT4)}, T(INT4), array_length_fn, S},
    {"array_lower", 2, {ARR, T(INT4)}, T(INT4), array_lower_fn, S},
    {"array_upper", 2, {ARR, T(INT4)}, T(INT4), array_upper_fn, S},
    {"array_ndims", 1, {ARR}, T(INT4), array_ndims_fn, S},
    {"array_dims", 1, {ARR}, T(TEXT), array_dims_fn, S},
    {"cardinality", 1, {ARR}, T(INT4), cardinality_fn, S},
    {"array_to_string", 2, {ARR, T(TEXT)}, T(TEXT), array_to_string_fn, S},
    {"array_to_string", 3, {ARR, T(TEXT), T(TEXT)}, T(TEXT), array_to_string_fn, 0},
    {"string_to_array", 2, {T(TEXT), T(TEXT)}, T(TEXT_ARRAY), string_to_array_fn, 0},
    {"string_to_array", 3, {T(TEXT), T(TEXT), T(TEXT)}, T(TEXT_ARRAY), string_to_array_fn, 0},
    {"array_append", 2, {ARR, ELEM}, ARR, sql__array_append, 0},
    {"array_prepend", 2, {ELEM, ARR}, ARR, sql__array_prepend, 0},
    {"array_cat", 2, {ARR, ARR}, ARR, sql__array_cat, 0},
    {"array_position", 2, {ARR, ELEM}, T(INT4), array_position_fn, 0},
    {"array_position", 3, {ARR, ELEM, T(INT4)}, T(INT4), array_position_fn, 0},
    {"array_remove", 2, {ARR, ELEM}, ARR, array_remove_fn, 0},
    {"array_positions", 2, {ARR, ELEM}, T(INT4_ARRAY), array_positions_fn, 0},
    {"array_replace", 3, {ARR, ELEM, ELEM}, ARR, array_replace_fn, 0},
};

#undef T
#undef ARR
#undef ELEM
#undef S

const sql__fn_set sql__fn_set_array = {ops, sizeof ops / sizeof *ops, fns,
                                       sizeof fns / sizeof *fns};
