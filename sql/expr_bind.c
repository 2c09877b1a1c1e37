/*
 * expr_bind.c - parse-tree expressions (sql/parse.h) to typed sql_bexpr
 * trees, following PostgreSQL 15's parse analysis:
 *
 *  - names resolve against the one table of the scope, or the relations
 *    of a FROM clause with joins (42703, 42P01, 42702), then outwards
 *    through the scopes of enclosing queries (an OUTER reference, which
 *    marks the subqueries it crosses correlated);
 *  - subqueries are planned through the ctx->subquery hook; IN/ANY/ALL
 *    bind their test `x op value` like an operator call;
 *  - literals: integers are int4, int8 or numeric by size, decimals are
 *    numeric, strings stay "unknown" until a context types them (the other
 *    side of an operator, a function argument, a cast, an assignment);
 *    parameters whose type the client left open are typed the same way
 *    and the inferred oid is written back into sql_params;
 *  - operators and functions resolve against the table of expr_func.c
 *    (exact match, then implicit casts, then the preferred type of the
 *    category); comparisons use the common type of both sides;
 *  - CASE, COALESCE, IN, GREATEST, LEAST choose a common type like
 *    select_common_type (42804 "CASE types integer and text cannot be
 *    matched");
 *  - calls whose arguments are all constants are folded unless the result
 *    depends on the session (time zone, now) or is volatile.
 *
 * Every node lives in ctx->arena. Errors carry the position of the node
 * PostgreSQL points at.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/expr_int.h"

static const sql_type type_unknown = {SQL_T_UNKNOWN, -1};
static const sql_type type_bool = {SQL_T_BOOL, -1};
static const sql_type type_text = {SQL_T_TEXT, -1};

static int bind(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err);
static int bind_array(sql_bind_ctx *ctx, const sql_expr *e, sql_type_id want, sql_bexpr **out,
                      sql_error *err);
static int array_type_of(sql_bind_ctx *ctx, sql_type elem, int location, sql_type *out,
                         sql_error *err);

/* Sets an error at byte offset `location` of the query; returns -1. */
static int bind_error(sql_bind_ctx *ctx, sql_error *err, int location, sql_sqlstate state,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int bind_error(sql_bind_ctx *ctx, sql_error *err, int location, sql_sqlstate state,
                      const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sql_error_set(err, ctx->arena, state, "%s", msg);
    sql_expr_error_position(err, ctx->query, location);
    return -1;
}

static int oom(sql_bind_ctx *ctx, sql_error *err)
{
    return sql_error_set(err, ctx->arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
}

void sql_expr_error_position(sql_error *err, const char *query, int location)
{
    if (query && location >= 0)
        err->position = sql_parse_position(query, location);
}

static const char *type_name(sql_type_id t)
{
    return t == SQL_T_UNKNOWN ? "unknown" : sql_type_name(t);
}

static sql_bexpr *new_node(sql_bind_ctx *ctx, sql_bexpr_kind kind, sql_type type, int location,
                           int nargs)
{
    sql_bexpr *b = kv_arena_alloc(ctx->arena, sizeof *b);
    sql_bexpr **args = kv_arena_alloc(ctx->arena, (nargs ? nargs : 1) * sizeof *args);

    if (!b || !args)
        return NULL;
    *b =
        (sql_bexpr){.kind = kind, .type = type, .location = location, .args = args, .nargs = nargs};
    return b;
}

/* ---- folding ---------------------------------------------------------- */

/* Whether the node's value may depend on the session time zone or the
 * transaction time, which binding does not know. */
static bool session_dependent(const sql_bexpr *b)
{
    if (b->type.oid == SQL_T_TIMESTAMPTZ || b->type.oid == SQL_T_DATE ||
        b->type.oid == SQL_T_TIMESTAMP)
        return true;
    for (int i = 0; i < b->nargs; i++)
        if (b->args[i]->type.oid == SQL_T_TIMESTAMPTZ)
            return true;
    return false;
}

/* Replaces a call over constants by its value. `foldable` is false for
 * volatile and session-stable calls. */
static int fold(sql_bind_ctx *ctx, sql_bexpr *b, bool foldable, sql_error *err)
{
    for (int i = 0; i < b->nargs; i++)
        if (b->args[i]->kind != SQL_BEXPR_CONST)
            return 0;
    if (!foldable || session_dependent(b))
        return 0;

    sql_eval_ctx ec = {.arena = ctx->arena, .err = err, .query = ctx->query};
    sql_datum v;
    if (sql_expr_eval(&ec, b, &v) < 0)
        return -1;
    b->kind = SQL_BEXPR_CONST;
    b->value = v;
    b->nargs = 0;
    return 0;
}

/* ---- coercion --------------------------------------------------------- */

/* A cast node of `b` to `to` (assignment or explicit semantics). */
static int cast_node(sql_bind_ctx *ctx, sql_bexpr *b, sql_type to, bool explicit, sql_bexpr **out,
                     sql_error *err)
{
    sql_bexpr *c = new_node(ctx, SQL_BEXPR_FUNC, to, b->location, 1);

    if (!c)
        return oom(ctx, err);
    c->args[0] = b;
    c->fn = explicit ? sql__cast_explicit : sql__cast_assign;
    c->strict = true;
    c->name = sql_type_typname(to.oid);
    *out = c;
    return fold(ctx, c, true, err);
}

static int param_index(sql_bind_ctx *ctx, int n, int location, sql_error *err)
{
    if (!ctx->params || n < 1 || n > ctx->params->cap)
        return bind_error(ctx, err, location, SQL_STATE_UNDEFINED_PARAMETER,
                          "there is no parameter $%d", n);
    if (n > ctx->params->n) {
        for (int i = ctx->params->n; i < n; i++)
            ctx->params->oids[i] = 0;
        ctx->params->n = n;
    }
    return n - 1;
}

/* Types an unknown literal or parameter as `to`: literals are parsed now
 * (except into date/time types, whose input may depend on the session:
 * those become a cast evaluated at run time), parameters take the type.
 * A typmod is applied by a cast node, so that its errors carry no
 * position, as in PostgreSQL. */
static int coerce_unknown(sql_bind_ctx *ctx, sql_bexpr *b, sql_type to, sql_bexpr **out,
                          sql_error *err)
{
    sql_type base = {to.oid, -1};

    assert(b->type.oid == SQL_T_UNKNOWN);
    *out = b;
    if (b->kind == SQL_BEXPR_PARAM) {
        ctx->params->oids[b->param] = to.oid;
        b->type = base;
        return to.typmod >= 0 ? cast_node(ctx, b, to, false, out, err) : 0;
    }
    assert(b->kind == SQL_BEXPR_CONST);
    if (b->value.isnull || to.oid == SQL_T_UNKNOWN) {
        b->type = to;
        return 0;
    }
    /* date/time input is checked now, for the error's position, with a
     * stand-in zone and time; the value is computed per execution */
    bool session = sql__type_cat(to.oid) == SQL__CAT_DATETIME;
    sql_io_ctx trial = {.has_now = true};
    sql_datum v;
    if (sql_datum_from_text(base, (const char *)b->value.v.s.p, b->value.v.s.len, &trial,
                            ctx->arena, &v, err) < 0) {
        sql_expr_error_position(err, ctx->query, b->location);
        return -1;
    }
    if (session)
        return cast_node(ctx, b, to, true, out, err);
    b->value = v;
    b->type = base;
    return to.typmod >= 0 ? cast_node(ctx, b, to, false, out, err) : 0;
}

/* `b` as type `to` if a cast of context `need` or weaker exists; *out
 * NULL (no error) when none does. */
static int coerce(sql_bind_ctx *ctx, sql_bexpr *b, sql_type to, sql__cast_ctx need, sql_bexpr **out,
                  sql_error *err)
{
    *out = NULL;
    if (b->type.oid == SQL_T_UNKNOWN)
        return coerce_unknown(ctx, b, to, out, err);
    if (b->type.oid == to.oid && (to.typmod < 0 || to.typmod == b->type.typmod)) {
        *out = b;
        return 0;
    }
    if (sql__cast_context(b->type.oid, to.oid) < need)
        return 0;
    return cast_node(ctx, b, to, need == SQL__CAST_EXPLICIT, out, err);
}

int sql_expr_coerce(sql_bind_ctx *ctx, sql_bexpr *e, sql_type to, sql_bexpr **out, sql_error *err)
{
    if (coerce(ctx, e, to, SQL__CAST_ASSIGN, out, err) < 0)
        return -1;
    if (*out)
        return 0;
    if (to.oid == SQL_T_BOOL && ctx->clause)
        return bind_error(ctx, err, e->location, SQL_STATE_DATATYPE_MISMATCH,
                          "argument of %s must be type boolean, not type %s", ctx->clause,
                          type_name(e->type.oid));
    if (ctx->column)
        bind_error(ctx, err, e->location, SQL_STATE_DATATYPE_MISMATCH,
                   "column \"%s\" is of type %s but expression is of type %s", ctx->column,
                   type_name(to.oid), type_name(e->type.oid));
    else
        bind_error(ctx, err, e->location, SQL_STATE_DATATYPE_MISMATCH,
                   "expression is of type %s but %s is expected", type_name(e->type.oid),
                   type_name(to.oid));
    sql_error_hint(err, ctx->arena, "You will need to rewrite or cast the expression.");
    return -1;
}

/* An argument of AND, OR, NOT (coerce_to_boolean). */
static int to_bool(sql_bind_ctx *ctx, sql_bexpr *b, const char *construct, sql_bexpr **out,
                   sql_error *err)
{
    if (coerce(ctx, b, type_bool, SQL__CAST_IMPLICIT, out, err) < 0)
        return -1;
    if (*out)
        return 0;
    return bind_error(ctx, err, b->location, SQL_STATE_DATATYPE_MISMATCH,
                      "argument of %s must be type boolean, not type %s", construct,
                      type_name(b->type.oid));
}

/* ---- common types ----------------------------------------------------- */

/* select_common_type over bound nodes: the first known type, replaced by
 * a later one of its category it casts to implicitly (and not back);
 * all unknown: text. 42804 "<construct> types x and y cannot be matched". */
static int common_type(sql_bind_ctx *ctx, sql_bexpr **v, int n, const char *construct,
                       sql_type *out, sql_error *err)
{
    sql_type t = type_unknown;
    bool same_typmod = true;

    for (int i = 0; i < n; i++) {
        sql_type_id u = v[i]->type.oid;
        if (u == SQL_T_UNKNOWN)
            continue;
        if (t.oid == SQL_T_UNKNOWN) {
            t = v[i]->type;
            continue;
        }
        same_typmod &= v[i]->type.typmod == t.typmod;
        if (u == t.oid)
            continue;
        if (sql__type_cat(u) != sql__type_cat(t.oid))
            return bind_error(ctx, err, v[i]->location, SQL_STATE_DATATYPE_MISMATCH,
                              "%s types %s and %s cannot be matched", construct, type_name(t.oid),
                              type_name(u));
        if (!sql__type_preferred(t.oid) && sql__cast_context(t.oid, u) == SQL__CAST_IMPLICIT &&
            sql__cast_context(u, t.oid) != SQL__CAST_IMPLICIT)
            t.oid = u;
    }
    if (t.oid == SQL_T_UNKNOWN)
        t = type_text;
    if (!same_typmod)
        t.typmod = -1;
    *out = t;
    return 0;
}

/* Coerces every node of v to `t`, implicitly. */
static int coerce_all(sql_bind_ctx *ctx, sql_bexpr **v, int n, sql_type t, const char *construct,
                      sql_error *err)
{
    for (int i = 0; i < n; i++) {
        sql_bexpr *c;
        if (coerce(ctx, v[i], t, SQL__CAST_IMPLICIT, &c, err) < 0)
            return -1;
        if (!c)
            return bind_error(ctx, err, v[i]->location, SQL_STATE_CANNOT_COERCE,
                              "%s could not convert type %s to %s", construct,
                              type_name(v[i]->type.oid), type_name(t.oid));
        v[i] = c;
    }
    return 0;
}

static int unify(sql_bind_ctx *ctx, sql_bexpr **v, int n, const char *construct, sql_type *out,
                 sql_error *err)
{
    if (common_type(ctx, v, n, construct, out, err) < 0)
        return -1;
    return coerce_all(ctx, v, n, *out, construct, err);
}

int sql_expr_unify(sql_bind_ctx *ctx, sql_bexpr **v, int n, const char *construct, sql_type *out,
                   sql_error *err)
{
    return unify(ctx, v, n, construct, out, err);
}

/* ---- comparisons ------------------------------------------------------ */

static int op_error(sql_bind_ctx *ctx, const char *op, const sql_bexpr *l, const sql_bexpr *r,
                    int location, sql_error *err)
{
    if (!l) {
        bind_error(ctx, err, location, SQL_STATE_UNDEFINED_FUNCTION,
                   "operator does not exist: %s %s", op, type_name(r->type.oid));
        sql_error_hint(err, ctx->arena,
                       "No operator matches the given name and argument type. You might "
                       "need to add an explicit type cast.");
        return -1;
    }
    bind_error(ctx, err, location, SQL_STATE_UNDEFINED_FUNCTION,
               "operator does not exist: %s %s %s", type_name(l->type.oid), op,
               type_name(r->type.oid));
    sql_error_hint(err, ctx->arena,
                   "No operator matches the given name and argument types. You might need to "
                   "add explicit type casts.");
    return -1;
}

/* The type two sides are compared as; SQL_T_UNKNOWN when none. */
static sql_type_id cmp_type(sql_type_id a, sql_type_id b)
{
    if (a == SQL_T_UNKNOWN || b == SQL_T_UNKNOWN)
        return a == SQL_T_UNKNOWN && b == SQL_T_UNKNOWN ? SQL_T_TEXT : a == SQL_T_UNKNOWN ? b : a;
    if (a == b)
        return a;
    /* arrays compare through anyarray = anyarray: one type on both sides */
    if (sql__type_cat(a) != sql__type_cat(b) || sql__type_cat(a) == SQL__CAT_ARRAY)
        return SQL_T_UNKNOWN;
    bool ab = sql__cast_context(a, b) == SQL__CAST_IMPLICIT,
         ba = sql__cast_context(b, a) == SQL__CAST_IMPLICIT;
    if (ab && ba) /* the string types: compare as text */
        return SQL_T_TEXT;
    return ab ? b : ba ? a : SQL_T_UNKNOWN;
}

/* Coerces both sides of a comparison to their common type; *t is set. */
static int cmp_sides(sql_bind_ctx *ctx, const char *op, sql_bexpr **l, sql_bexpr **r, int location,
                     sql_type_id *t, sql_error *err)
{
    sql_type want = {cmp_type((*l)->type.oid, (*r)->type.oid), -1};
    sql_bexpr *cl = NULL, *cr = NULL;

    if (want.oid == SQL_T_UNKNOWN)
        return op_error(ctx, op, *l, *r, location, err);
    if (coerce(ctx, *l, want, SQL__CAST_IMPLICIT, &cl, err) < 0 ||
        coerce(ctx, *r, want, SQL__CAST_IMPLICIT, &cr, err) < 0)
        return -1;
    assert(cl && cr);
    *l = cl;
    *r = cr;
    *t = want.oid;
    return 0;
}

static const struct {
    const char *name;
    sql_cmp_op op;
} cmp_ops[] = {
    {"=", SQL_CMP_EQ},  {"<>", SQL_CMP_NE}, {"!=", SQL_CMP_NE}, {"<", SQL_CMP_LT},
    {"<=", SQL_CMP_LE}, {">", SQL_CMP_GT},  {">=", SQL_CMP_GE},
};

static const char *cmp_names[] = {
    [SQL_CMP_EQ] = "=",  [SQL_CMP_NE] = "<>", [SQL_CMP_LT] = "<",
    [SQL_CMP_LE] = "<=", [SQL_CMP_GT] = ">",  [SQL_CMP_GE] = ">=",
};

/* l op r as a CMP node (folded over constants). */
static int make_cmp(sql_bind_ctx *ctx, sql_cmp_op op, sql_bexpr *l, sql_bexpr *r, int location,
                    sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_CMP, type_bool, location, 2);

    if (!b)
        return oom(ctx, err);
    if (cmp_sides(ctx, cmp_names[op], &l, &r, location, &b->cmp_type, err) < 0)
        return -1;
    b->cmp = op;
    b->args[0] = l;
    b->args[1] = r;
    *out = b;
    return fold(ctx, b, true, err);
}

/* ---- operator and function resolution --------------------------------- */

/* The declared type of argument i of row f (variadic rows repeat the last). */
static sql_type_id arg_type(const sql__fn *f, int i)
{
    return f->argt[i < f->nargs ? i : f->nargs - 1];
}

/* The element type the polymorphic arguments of row f resolve to (see
 * SQL__T_ANYARRAY in expr_int.h); false when they do not agree or make
 * no array type. */
static bool poly_elem(const sql__fn *f, sql_bexpr **args, int nargs, sql_type *out)
{
    sql_type t = type_unknown;

    for (int i = 0; i < nargs; i++) {
        sql_type_id want = arg_type(f, i);
        sql_type u = args[i]->type;
        if (u.oid == SQL_T_UNKNOWN || (want != SQL__T_ANYARRAY && want != SQL__T_ANYELEMENT))
            continue;
        if (want == SQL__T_ANYARRAY)
            u.oid = sql_type_array_elem(u.oid);
        if (t.oid == SQL_T_UNKNOWN || t.oid == u.oid) {
            t = t.oid == SQL_T_UNKNOWN || t.typmod == u.typmod ? u : (sql_type){u.oid, -1};
            continue;
        }
        if (f->flags & SQL__FN_SAME_POLY)
            return false;
        if (sql__cast_context(t.oid, u.oid) == SQL__CAST_IMPLICIT)
            t = (sql_type){u.oid, -1};
        else if (sql__cast_context(u.oid, t.oid) != SQL__CAST_IMPLICIT)
            return false;
    }
    *out = t.oid == SQL_T_UNKNOWN ? type_text : t;
    return sql_type_array_of(out->oid) != 0;
}

/* How one argument of type `have` fits declared type `want`: -1 not at
 * all, 0 whatever it is (ANY, and polymorphic types: like PostgreSQL,
 * no exact match, so that 'x' || n stays text concatenation), 2
 * exactly, 1 by implicit cast or as an unknown; *pref counts a preferred
 * type reached by a cast. */
static int fit_arg(sql_type_id want, sql_type_id have, int *pref)
{
    bool array = sql_type_array_elem(have) != 0;

    if (want == SQL__T_ANY || (want == SQL__T_ANYNONARRAY && !array))
        return 0;
    if (want == SQL__T_ANYNONARRAY)
        return -1;
    if (have == SQL_T_UNKNOWN)
        return 1;
    if (want == SQL__T_ANYARRAY || want == SQL__T_ANYELEMENT)
        return array == (want == SQL__T_ANYARRAY) ? 0 : -1;
    if (have == want)
        return 2;
    if (sql__cast_context(have, want) == SQL__CAST_IMPLICIT) {
        *pref += sql__type_preferred(want);
        return 1;
    }
    return -1;
}

/* How well arguments fit a table row: -1 no fit; else 2 per exact match
 * and 1 per implicit cast or unknown; *pref counts preferred types at
 * cast positions (PostgreSQL's tie-breaker). */
static int fit(const sql__fn *f, sql_bexpr **args, int nargs, int *pref)
{
    int score = 0;
    sql_type elem;

    *pref = 0;
    if (nargs != f->nargs && !((f->flags & SQL__FN_VARIADIC) && nargs >= f->nargs))
        return -1;
    for (int i = 0; i < nargs; i++) {
        int s = fit_arg(arg_type(f, i), args[i]->type.oid, pref);
        if (s < 0)
            return -1;
        score += s;
    }
    return poly_elem(f, args, nargs, &elem) ? score : -1;
}

/* func_select_candidate's rules for unknown arguments: at each unknown
 * position keep the candidates taking a string type if any does, else
 * demand that all take one category; then keep the category's preferred
 * type if some candidate takes it. Survivors move to the front of c;
 * returns how many there are (0: ambiguous). */
static int resolve_unknowns(const sql__fn **c, int n, sql_bexpr **args, int nargs)
{
    for (int i = 0; i < nargs && n > 1; i++) {
        sql__cat cat = SQL__CAT_OTHER;
        bool string = false, mixed = false, pref = false;
        int kept = 0;
        if (args[i]->type.oid != SQL_T_UNKNOWN)
            continue;
        for (int k = 0; k < n; k++) {
            sql__cat ck = sql__type_cat(arg_type(c[k], i));
            string |= ck == SQL__CAT_STRING;
            mixed |= k > 0 && ck != cat;
            cat = ck;
        }
        if (string)
            cat = SQL__CAT_STRING;
        else if (mixed)
            return 0;
        for (int k = 0; k < n; k++)
            pref |=
                sql__type_cat(arg_type(c[k], i)) == cat && sql__type_preferred(arg_type(c[k], i));
        for (int k = 0; k < n; k++) {
            sql_type_id t = arg_type(c[k], i);
            if (sql__type_cat(t) == cat && (!pref || sql__type_preferred(t)))
                c[kept++] = c[k];
        }
        n = kept;
    }
    return n;
}

/* The row of rows[0..n) for args: *out NULL when none fits, 1 returned
 * when several fit equally well (42725). A binary operator with one
 * unknown side first tries the other side's type for both. */
static int best_fit(const sql__fn *rows, int n, sql_bexpr **args, int nargs, bool is_op,
                    const sql__fn **out)
{
    const sql__fn *tied[64];
    int best_score = -1, best_pref = -1, pref, ntied = 0;

    assert(n <= 64);
    *out = NULL;
    for (int i = 0; is_op && nargs == 2 && i < n; i++) {
        sql_type_id l = args[0]->type.oid, r = args[1]->type.oid;
        sql_type_id known = l == SQL_T_UNKNOWN ? r : l;
        if ((l == SQL_T_UNKNOWN) != (r == SQL_T_UNKNOWN) && rows[i].argt[0] == known &&
            rows[i].argt[1] == known) {
            *out = &rows[i];
            return 0;
        }
    }
    for (int i = 0; i < n; i++) {
        int s = fit(&rows[i], args, nargs, &pref);
        if (s < 0 || s < best_score || (s == best_score && pref < best_pref))
            continue;
        if (s > best_score || pref > best_pref)
            ntied = 0;
        best_score = s;
        best_pref = pref;
        tied[ntied++] = &rows[i];
    }
    if (ntied > 1)
        ntied = resolve_unknowns(tied, ntied, args, nargs);
    if (best_score >= 0 && ntied == 0)
        return 1;
    *out = ntied ? tied[0] : NULL;
    return 0;
}

/* A FUNC node calling row `f` over args, casting them to its types. */
static int make_call(sql_bind_ctx *ctx, const sql__fn *f, sql_bexpr **args, int nargs, int location,
                     sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_FUNC, (sql_type){f->ret, -1}, location, nargs);
    sql_type elem, arr;
    bool resolved = poly_elem(f, args, nargs, &elem);

    assert(resolved);
    (void)resolved;
    arr = (sql_type){sql_type_array_of(elem.oid), elem.typmod};
    if (!b)
        return oom(ctx, err);
    if (f->ret == SQL__T_ANYARRAY || f->ret == SQL__T_ANYELEMENT)
        b->type = f->ret == SQL__T_ANYARRAY ? arr : elem;
    for (int i = 0; i < nargs; i++) {
        sql_type_id want = f->argt[i < f->nargs ? i : f->nargs - 1];
        if (want == SQL__T_ANYARRAY || want == SQL__T_ANYELEMENT)
            want = want == SQL__T_ANYARRAY ? arr.oid : elem.oid;
        if (want == SQL__T_ANY || want == SQL__T_ANYNONARRAY) {
            if (args[i]->kind == SQL_BEXPR_PARAM && args[i]->type.oid == SQL_T_UNKNOWN)
                return sql_error_set(err, ctx->arena, SQL_STATE_INDETERMINATE_DATATYPE,
                                     "could not determine data type of parameter $%d",
                                     args[i]->param + 1);
            b->args[i] = args[i];
        } else if (coerce(ctx, args[i], (sql_type){want, -1}, SQL__CAST_IMPLICIT, &b->args[i],
                          err) < 0)
            return -1;
        assert(b->args[i]);
    }
    b->fn = f->impl;
    b->strict = f->flags & SQL__FN_STRICT;
    b->volatile_ = f->flags & SQL__FN_VOLATILE;
    b->name = f->name;
    sql__fn_prepare(ctx->arena, b);
    *out = b;
    return fold(ctx, b, !(f->flags & (SQL__FN_VOLATILE | SQL__FN_STABLE)), err);
}

static int op_ambiguous(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args, int nargs,
                        sql_error *err)
{
    if (nargs == 1)
        bind_error(ctx, err, e->location, SQL_STATE_AMBIGUOUS_FUNCTION,
                   "operator is not unique: %s %s", e->name, type_name(args[0]->type.oid));
    else
        bind_error(ctx, err, e->location, SQL_STATE_AMBIGUOUS_FUNCTION,
                   "operator is not unique: %s %s %s", type_name(args[0]->type.oid), e->name,
                   type_name(args[1]->type.oid));
    sql_error_hint(err, ctx->arena,
                   "Could not choose a best candidate operator. You might need to add explicit "
                   "type casts.");
    return -1;
}

/* Operator e->name (e an OP, or a SUBLINK's ANY/ALL) over bound args. */
static int apply_op(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args, int nargs,
                    sql_bexpr **out, sql_error *err)
{
    const sql__fn *rows, *f;
    int n;

    if (e->schema && strcmp(e->schema, "pg_catalog") != 0)
        return op_error(ctx, e->name, e->left ? args[0] : NULL, args[nargs - 1], e->location, err);
    for (size_t i = 0; nargs == 2 && i < sizeof cmp_ops / sizeof *cmp_ops; i++)
        if (strcmp(cmp_ops[i].name, e->name) == 0)
            return make_cmp(ctx, cmp_ops[i].op, args[0], args[1], e->location, out, err);
    rows = sql__fn_find(e->name, true, &n);
    if (rows && best_fit(rows, n, args, nargs, true, &f) > 0)
        return op_ambiguous(ctx, e, args, nargs, err);
    if (!rows || !f)
        return op_error(ctx, e->name, e->left ? args[0] : NULL, args[nargs - 1], e->location, err);
    return make_call(ctx, f, args, nargs, e->location, out, err);
}

static int bind_op(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *args[2] = {NULL, NULL};
    int nargs = e->left ? 2 : 1;

    if (e->left && bind(ctx, e->left, &args[0], err) < 0)
        return -1;
    if (bind(ctx, e->right, &args[nargs - 1], err) < 0)
        return -1;
    return apply_op(ctx, e, args, nargs, out, err);
}

/* "name(type, type)" as PostgreSQL's func_signature_string writes it. */
static void func_signature(const sql_expr *e, sql_bexpr **args, char *sig, size_t cap)
{
    size_t len = (size_t)snprintf(sig, cap, "%s%s%s(", e->schema ? e->schema : "",
                                  e->schema ? "." : "", e->name);
    for (int i = 0; i < e->nargs && len < cap; i++)
        len += (size_t)snprintf(sig + len, cap - len, "%s%s", i ? ", " : "",
                                type_name(args[i]->type.oid));
    if (len < cap)
        snprintf(sig + len, cap - len, ")");
}

int sql_expr_ambiguous_function(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args,
                                sql_error *err)
{
    char sig[512];

    func_signature(e, args, sig, sizeof sig);
    bind_error(ctx, err, e->location, SQL_STATE_AMBIGUOUS_FUNCTION, "function %s is not unique",
               sig);
    sql_error_hint(err, ctx->arena,
                   "Could not choose a best candidate function. You might need to add explicit "
                   "type casts.");
    return -1;
}

int sql_expr_no_function(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args, sql_error *err)
{
    char sig[512];

    func_signature(e, args, sig, sizeof sig);
    bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_FUNCTION, "function %s does not exist",
               sig);
    sql_error_hint(err, ctx->arena,
                   "No function matches the given name and argument types. You might need to "
                   "add explicit type casts.");
    return -1;
}

/* COALESCE, GREATEST, LEAST: arguments of one common type. */
static int bind_variadic_common(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args,
                                sql_bexpr **out, sql_error *err)
{
    bool coalesce = strcmp(e->name, "coalesce") == 0;
    const char *construct = coalesce                           ? "COALESCE"
                            : strcmp(e->name, "greatest") == 0 ? "GREATEST"
                                                               : "LEAST";
    sql_bexpr *b = new_node(ctx, coalesce ? SQL_BEXPR_COALESCE : SQL_BEXPR_FUNC, type_unknown,
                            e->location, e->nargs);
    int n;

    if (!b)
        return oom(ctx, err);
    memcpy(b->args, args, (size_t)e->nargs * sizeof *args);
    if (unify(ctx, b->args, b->nargs, construct, &b->type, err) < 0)
        return -1;
    if (!coalesce) {
        const sql__fn *row = sql__fn_find(e->name, false, &n);
        b->fn = row->impl;
        b->name = row->name;
    }
    *out = b;
    return 0;
}

/* NULLIF(a, b): typed like a, compared with = (PostgreSQL's resolution). */
static int bind_nullif(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args, sql_bexpr **out,
                       sql_error *err)
{
    sql_type_id t;
    int n;
    const sql__fn *row = sql__fn_find("nullif", false, &n);
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_FUNC, type_unknown, e->location, 2);

    if (!b)
        return oom(ctx, err);
    b->args[0] = args[0];
    b->args[1] = args[1];
    if (cmp_sides(ctx, "=", &b->args[0], &b->args[1], e->location, &t, err) < 0)
        return -1;
    b->type = b->args[0]->type;
    b->fn = row->impl;
    b->name = row->name;
    *out = b;
    return 0;
}

/* What PostgreSQL's grammar makes special expressions (CoalesceExpr,
 * MinMaxExpr, NullIfExpr) rather than calls: their arguments share a type
 * chosen from all of them, which the table's fixed signatures cannot say. */
static const struct {
    const char *name;
    int (*bind)(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args, sql_bexpr **out,
                sql_error *err);
} special_forms[] = {
    {"coalesce", bind_variadic_common},
    {"greatest", bind_variadic_common},
    {"least", bind_variadic_common},
    {"nullif", bind_nullif},
};

/* An aggregate call belongs to the planner's aggregation (ctx->agg); a
 * context without one names itself in PostgreSQL's 42803. */
static int bind_aggregate(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    if (ctx->agg)
        return ctx->agg(ctx->agg_arg, e, out, err);
    if (ctx->agg_clause)
        return bind_error(ctx, err, e->location, SQL_STATE_GROUPING_ERROR,
                          "aggregate functions are not allowed in %s", ctx->agg_clause);
    return bind_error(ctx, err, e->location, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "aggregate functions are not supported yet");
}

static int bind_func(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr **args = kv_arena_alloc(ctx->arena, (e->nargs ? e->nargs : 1) * sizeof *args);
    const char *refused = sql__fn_unsupported(e->name);
    const sql__fn *rows, *f;
    int n;

    if (!args)
        return oom(ctx, err);
    if (sql_expr_is_aggregate(e))
        return bind_aggregate(ctx, e, out, err);
    if (refused)
        return bind_error(ctx, err, e->location, SQL_STATE_FEATURE_NOT_SUPPORTED, "%s", refused);
    if (e->agg_star || e->agg_distinct)
        return bind_error(ctx, err, e->location, SQL_STATE_WRONG_OBJECT_TYPE,
                          "%s specified, but %s is not an aggregate function",
                          e->agg_star ? "*" : "DISTINCT", e->name);
    for (int i = 0; i < e->nargs; i++)
        if (bind(ctx, e->args[i], &args[i], err) < 0)
            return -1;
    if (e->schema && strcmp(e->schema, "pg_catalog") != 0)
        return sql_expr_no_function(ctx, e, args, err);
    for (size_t i = 0; i < sizeof special_forms / sizeof *special_forms; i++)
        if (strcmp(e->name, special_forms[i].name) == 0)
            return special_forms[i].bind(ctx, e, args, out, err);
    rows = sql__fn_find(e->name, false, &n);
    if (rows && best_fit(rows, n, args, e->nargs, false, &f) > 0)
        return sql_expr_ambiguous_function(ctx, e, args, err);
    if (!rows || !f)
        return sql_expr_no_function(ctx, e, args, err);
    return make_call(ctx, f, args, e->nargs, e->location, out, err);
}

/* ---- names, literals, parameters --------------------------------------- */

/* The table qualifier of a column reference must name the scope's table:
 * its alias when it has one, else its name (optionally in "public"). */
static int check_qualifier(sql_bind_ctx *ctx, const sql_expr *e, sql_error *err)
{
    const sql_scope *s = ctx->scope;
    bool names_table = s && s->table && strcmp(e->table, s->table) == 0;

    if (s && s->alias && strcmp(e->table, s->alias) == 0 && !e->schema)
        return 0;
    if (!s || !names_table || (s->alias && e->schema))
        return bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_TABLE,
                          "missing FROM-clause entry for table \"%s\"", e->table);
    if (!s->alias && (!e->schema || strcmp(e->schema, "public") == 0))
        return 0;
    bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_TABLE,
               "invalid reference to FROM-clause entry for table \"%s\"", e->table);
    if (s->alias)
        sql_error_hint(err, ctx->arena, "Perhaps you meant to reference the table alias \"%s\".",
                       s->alias);
    else
        sql_error_hint(err, ctx->arena,
                       "There is an entry for table \"%s\", but it cannot be referenced from "
                       "this part of the query.",
                       e->table);
    return -1;
}

/* ---- names ---- */

/* Whether qualifier e->table names relation `rel` of a join scope. */
static bool rel_named(const sql_scope_rel *rel, const sql_expr *e)
{
    if (!rel->name)
        return false;
    if (rel->alias)
        return !e->schema && strcmp(rel->alias, e->table) == 0;
    return strcmp(rel->name, e->table) == 0 && (!e->schema || strcmp(e->schema, "public") == 0);
}

/* Whether qualifier e->table names scope s (its alias, else its name,
 * optionally in "public"; with joins, one of its relations), as
 * check_qualifier and find_rel accept it. */
static bool scope_named(const sql_scope *s, const sql_expr *e)
{
    if (s->nrels > 0) {
        for (int r = 0; r < s->nrels; r++)
            if (rel_named(&s->rels[r], e))
                return true;
        return false;
    }
    if (s->alias)
        return !e->schema && strcmp(e->table, s->alias) == 0;
    return s->table && strcmp(e->table, s->table) == 0 &&
           (!e->schema || strcmp(e->schema, "public") == 0);
}

/* The relation of join scope s that qualifier `e->table` names; -1 with
 * 42P01 set when none or when it is out of reach. Two relations of one
 * name are refused when the FROM clause is bound. */
static int find_rel(sql_bind_ctx *ctx, const sql_scope *s, const sql_expr *e, sql_error *err)
{
    const char *aliased = NULL;

    for (int r = 0; r < s->nrels; r++) {
        const sql_scope_rel *rel = &s->rels[r];
        if (rel_named(rel, e)) {
            if (r >= s->first_rel)
                return r;
            bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_TABLE,
                       "invalid reference to FROM-clause entry for table \"%s\"", e->table);
            sql_error_hint(err, ctx->arena,
                           "There is an entry for table \"%s\", but it cannot be referenced "
                           "from this part of the query.",
                           e->table);
            return -1;
        }
        if (rel->name && rel->alias && strcmp(rel->name, e->table) == 0)
            aliased = rel->alias;
    }
    if (!aliased)
        return bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_TABLE,
                          "missing FROM-clause entry for table \"%s\"", e->table);
    bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_TABLE,
               "invalid reference to FROM-clause entry for table \"%s\"", e->table);
    sql_error_hint(err, ctx->arena, "Perhaps you meant to reference the table alias \"%s\".",
                   aliased);
    return -1;
}

/* Whether a USING merge in the scope hides slot `col` from unqualified
 * names. */
static bool merged_away(const sql_scope *s, int col)
{
    for (int r = s->first_rel; r < s->nrels; r++)
        for (int i = 0; i < s->rels[r].nhides; i++)
            if (s->rels[r].hides[i] == col)
                return true;
    return false;
}

/* The slot of column e->column over the relations of join scope s: in
 * the qualifying relation, else the one unhidden match (42702 for
 * several). -1 with `err` set; -2 when there is no such column. */
static int find_rel_column(sql_bind_ctx *ctx, const sql_scope *s, const sql_expr *e, sql_error *err)
{
    int rel = -1, found = -2;

    if (e->table && (rel = find_rel(ctx, s, e, err)) < 0)
        return -1;
    for (int r = s->first_rel; r < s->nrels; r++) {
        const sql_scope_rel *sr = &s->rels[r];
        if (rel >= 0 && r != rel)
            continue;
        for (int i = sr->first; i < sr->first + sr->ncols; i++) {
            if (strcmp(s->cols[i].name, e->column) != 0 || (rel < 0 && merged_away(s, i)))
                continue;
            if (found >= 0)
                return bind_error(ctx, err, e->location, SQL_STATE_AMBIGUOUS_COLUMN,
                                  "column reference \"%s\" is ambiguous", e->column);
            found = i;
        }
    }
    return found;
}

/* The slot of column `e` in scope s alone; -2 when s has no such column,
 * -1 with `err` set. */
static int scope_find(sql_bind_ctx *ctx, const sql_scope *s, const sql_expr *e, sql_error *err)
{
    if (s->nrels > 0)
        return find_rel_column(ctx, s, e, err);
    for (int i = 0; i < s->ncols; i++)
        if (strcmp(s->cols[i].name, e->column) == 0)
            return i;
    return -2;
}

/* Column `i` of scope `s`, `levels` scopes out from ctx->scope: an OUTER
 * reference when levels > 0, which makes every scope passed correlated. */
static int column_node(sql_bind_ctx *ctx, const sql_expr *e, const sql_scope *s, int i, int levels,
                       sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b =
        new_node(ctx, levels ? SQL_BEXPR_OUTER : SQL_BEXPR_COLUMN, s->cols[i].type, e->location, 0);

    if (!b)
        return oom(ctx, err);
    b->column = i;
    b->levels_up = levels;
    for (const sql_scope *in = ctx->scope; in != s; in = in->outer)
        *in->outer_used = true;
    *out = b;
    return 0;
}

/* A qualifier no scope has: the error the innermost scope gives it. */
static int qualifier_error(sql_bind_ctx *ctx, const sql_expr *e, sql_error *err)
{
    const sql_scope *s = ctx->scope;
    if (s && s->nrels > 0)
        return find_rel(ctx, s, e, err) < 0 ? -1 : 0;
    return check_qualifier(ctx, e, err);
}

/* Names resolve in the innermost scope that has them (a qualified name:
 * that the qualifier names), then outwards through enclosing queries. */
static int bind_column(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    int levels = 0;

    for (const sql_scope *s = ctx->scope; s; s = s->outer, levels++) {
        if (e->table && !scope_named(s, e))
            continue;
        int i = scope_find(ctx, s, e, err);
        if (i == -1)
            return -1;
        if (i >= 0)
            return column_node(ctx, e, s, i, levels, out, err);
        if (e->table)
            return bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_COLUMN,
                              "column %s.%s does not exist", e->table, e->column);
    }
    if (e->table && qualifier_error(ctx, e, err) < 0)
        return -1;
    return bind_error(ctx, err, e->location, SQL_STATE_UNDEFINED_COLUMN,
                      "column \"%s\" does not exist", e->column);
}

/* An integer literal: int4 if it fits, else int8, else numeric. */
static sql_type integer_type(const char *text)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno == ERANGE || *end)
        return (sql_type){SQL_T_NUMERIC, -1};
    return (sql_type){v >= INT32_MIN && v <= INT32_MAX ? SQL_T_INT4 : SQL_T_INT8, -1};
}

static int bind_const(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_CONST, type_unknown, e->location, 0);

    if (!b)
        return oom(ctx, err);
    *out = b;
    switch (e->const_kind) {
    case SQL_CONST_NULL:
        b->value.isnull = true;
        return 0;
    case SQL_CONST_STRING:
        b->value.v.s.p = (const uint8_t *)e->text;
        b->value.v.s.len = strlen(e->text);
        return 0;
    case SQL_CONST_BOOL:
        b->type = type_bool;
        break;
    case SQL_CONST_INTEGER:
        b->type = integer_type(e->text);
        break;
    case SQL_CONST_NUMERIC:
        b->type = (sql_type){SQL_T_NUMERIC, -1};
        break;
    }
    if (sql_datum_from_text(b->type, e->text, strlen(e->text), NULL, ctx->arena, &b->value, err) <
        0) {
        sql_expr_error_position(err, ctx->query, e->location);
        return -1;
    }
    return 0;
}

static int bind_param(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    int i = param_index(ctx, e->param, e->location, err);
    sql_bexpr *b;

    if (i < 0)
        return -1;
    b = new_node(ctx, SQL_BEXPR_PARAM, type_unknown, e->location, 0);
    if (!b)
        return oom(ctx, err);
    b->param = i;
    if (ctx->params->oids[i] != 0) {
        if (!sql_type_known(ctx->params->oids[i]))
            return bind_error(ctx, err, e->location, SQL_STATE_FEATURE_NOT_SUPPORTED,
                              "parameters of type %u are not supported",
                              (unsigned)ctx->params->oids[i]);
        b->type.oid = (sql_type_id)ctx->params->oids[i];
    }
    *out = b;
    return 0;
}

static int bind_cast(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *arg;
    sql_type base = {e->type.oid, -1};

    if (e->arg->kind == SQL_EXPR_ARRAY && sql_type_array_elem(e->type.oid)) {
        if (bind_array(ctx, e->arg, e->type.oid, &arg, err) < 0)
            return -1;
    } else if (bind(ctx, e->arg, &arg, err) < 0)
        return -1;
    if (arg->type.oid == SQL_T_UNKNOWN && coerce_unknown(ctx, arg, base, &arg, err) < 0)
        return -1;
    if (coerce(ctx, arg, e->type, SQL__CAST_EXPLICIT, out, err) < 0)
        return -1;
    if (*out)
        return 0;
    return bind_error(ctx, err, e->location, SQL_STATE_CANNOT_COERCE, "cannot cast type %s to %s",
                      type_name(arg->type.oid), type_name(e->type.oid));
}

/* ---- boolean and conditional forms ------------------------------------- */

static int bind_bool(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    static const struct {
        sql_bexpr_kind kind;
        const char *construct;
    } map[] = {
        [SQL_EXPR_AND] = {SQL_BEXPR_AND, "AND"},
        [SQL_EXPR_OR] = {SQL_BEXPR_OR, "OR"},
        [SQL_EXPR_NOT] = {SQL_BEXPR_NOT, "NOT"},
    };
    sql_bexpr *b = new_node(ctx, map[e->kind].kind, type_bool, e->location, e->nargs);

    if (!b)
        return oom(ctx, err);
    for (int i = 0; i < e->nargs; i++)
        if (bind(ctx, e->args[i], &b->args[i], err) < 0 ||
            to_bool(ctx, b->args[i], map[e->kind].construct, &b->args[i], err) < 0)
            return -1;
    *out = b;
    return 0;
}

static int bind_nulltest(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_NULLTEST, type_bool, e->location, 1);

    if (!b)
        return oom(ctx, err);
    if (bind(ctx, e->arg, &b->args[0], err) < 0)
        return -1;
    if (b->args[0]->type.oid == SQL_T_UNKNOWN) {
        if (b->args[0]->kind == SQL_BEXPR_PARAM)
            return sql_error_set(err, ctx->arena, SQL_STATE_INDETERMINATE_DATATYPE,
                                 "could not determine data type of parameter $%d",
                                 b->args[0]->param + 1);
        b->args[0]->type = type_text;
    }
    b->negated = e->negated;
    *out = b;
    return 0;
}

static int bind_distinct(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_DISTINCT, type_bool, e->location, 2);

    if (!b)
        return oom(ctx, err);
    if (bind(ctx, e->left, &b->args[0], err) < 0 || bind(ctx, e->right, &b->args[1], err) < 0 ||
        cmp_sides(ctx, "=", &b->args[0], &b->args[1], e->location, &b->cmp_type, err) < 0)
        return -1;
    b->negated = e->negated;
    *out = b;
    return 0;
}

/* x [NOT] IN (a, b, ...): all compared as the common type of x and the
 * list; when there is none, the first item that does not compare with x
 * is reported like the = operator PostgreSQL falls back to. */
static int bind_in(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_IN, type_bool, e->location, e->nargs + 1);
    sql_type t;
    sql_error ignored = {0};

    if (!b)
        return oom(ctx, err);
    for (int i = 0; i <= e->nargs; i++)
        if (bind(ctx, i ? e->args[i - 1] : e->arg, &b->args[i], err) < 0)
            return -1;
    if (common_type(ctx, b->args, b->nargs, "IN", &t, &ignored) < 0) {
        for (int i = 1; i < b->nargs; i++)
            if (cmp_type(b->args[0]->type.oid, b->args[i]->type.oid) == SQL_T_UNKNOWN)
                return op_error(ctx, "=", b->args[0], b->args[i], e->location, err);
        *err = ignored;
        return -1;
    }
    if (coerce_all(ctx, b->args, b->nargs, t, "IN", err) < 0)
        return -1;
    b->cmp_type = t.oid;
    b->negated = e->negated;
    *out = b;
    return 0;
}

/* x BETWEEN a AND b is x >= a AND x <= b (NOT: x < a OR x > b). Like
 * PostgreSQL, which copies x into both comparisons, x is bound once for
 * each: an unknown literal in it takes its type from each comparison
 * apart (NULL BETWEEN NULL AND int_col is text >= text AND int <= int). */
static int bind_between(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *x_lo, *x_hi, *lo, *hi;
    sql_bexpr *b =
        new_node(ctx, e->negated ? SQL_BEXPR_OR : SQL_BEXPR_AND, type_bool, e->location, 2);

    if (!b)
        return oom(ctx, err);
    if (bind(ctx, e->arg, &x_lo, err) < 0 || bind(ctx, e->args[0], &lo, err) < 0 ||
        bind(ctx, e->arg, &x_hi, err) < 0 || bind(ctx, e->args[1], &hi, err) < 0)
        return -1;
    if (make_cmp(ctx, e->negated ? SQL_CMP_LT : SQL_CMP_GE, x_lo, lo, e->location, &b->args[0],
                 err) < 0 ||
        make_cmp(ctx, e->negated ? SQL_CMP_GT : SQL_CMP_LE, x_hi, hi, e->location, &b->args[1],
                 err) < 0)
        return -1;
    *out = b;
    return 0;
}

/* Result types of CASE come from ELSE first, then the THENs, like
 * PostgreSQL (which words its 42804 in that order). */
static int case_results(sql_bind_ctx *ctx, sql_bexpr *b, sql_error *err)
{
    int n = b->nargs / 2 + 1;
    sql_bexpr **v = kv_arena_alloc(ctx->arena, (size_t)n * sizeof *v);
    sql_bexpr null_else = {
        .kind = SQL_BEXPR_CONST, .type = type_unknown, .location = -1, .value.isnull = true};

    if (!v)
        return oom(ctx, err);
    v[0] = b->els ? b->els : &null_else;
    for (int i = 1; i < n; i++)
        v[i] = b->args[2 * i - 1];
    if (unify(ctx, v, n, "CASE", &b->type, err) < 0)
        return -1;
    if (b->els)
        b->els = v[0];
    for (int i = 1; i < n; i++)
        b->args[2 * i - 1] = v[i];
    return 0;
}

static int bind_case(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_CASE, type_unknown, e->location, 2 * e->nargs);
    sql_bexpr *arg = NULL;

    if (!b)
        return oom(ctx, err);
    if (e->arg && bind(ctx, e->arg, &arg, err) < 0)
        return -1;
    for (int i = 0; i < e->nargs; i++) {
        sql_bexpr *w;
        if (bind(ctx, e->whens[i], &w, err) < 0 ||
            bind(ctx, e->thens[i], &b->args[2 * i + 1], err) < 0)
            return -1;
        if (arg ? make_cmp(ctx, SQL_CMP_EQ, arg, w, e->whens[i]->location, &w, err) < 0
                : to_bool(ctx, w, "CASE/WHEN", &w, err) < 0)
            return -1;
        b->args[2 * i] = w;
    }
    if (e->els && bind(ctx, e->els, &b->els, err) < 0)
        return -1;
    if (case_results(ctx, b, err) < 0)
        return -1;
    *out = b;
    return 0;
}

/* ---- subqueries -------------------------------------------------------- */

/* The column count PostgreSQL's transformSubLink demands: 42601. */
static int sublink_width(sql_bind_ctx *ctx, const sql_expr *e, int ncols, sql_error *err)
{
    if (e->sublink == SQL_SUBLINK_EXISTS || ncols == 1)
        return 0;
    const char *msg = e->sublink == SQL_SUBLINK_EXPR || e->sublink == SQL_SUBLINK_ARRAY
                          ? "subquery must return only one column"
                      : ncols > 1 ? "subquery has too many columns"
                                  : "subquery has too few columns";
    return bind_error(ctx, err, e->location, SQL_STATE_SYNTAX_ERROR, "%s", msg);
}

/* ANY/ALL's test `left op value`, the value standing for the subquery
 * row being tested (a SUBVALUE), like PostgreSQL's make_op; the operator
 * must yield a boolean (42804). */
static int sublink_test(sql_bind_ctx *ctx, const sql_expr *e, sql_type value_type, sql_bexpr **out,
                        sql_error *err)
{
    sql_bexpr *args[2];

    if (bind(ctx, e->left, &args[0], err) < 0)
        return -1;
    if (!(args[1] = new_node(ctx, SQL_BEXPR_SUBVALUE, value_type, e->location, 0)))
        return oom(ctx, err);
    if (apply_op(ctx, e, args, 2, out, err) < 0)
        return -1;
    if ((*out)->type.oid != SQL_T_BOOL)
        return bind_error(ctx, err, e->location, SQL_STATE_DATATYPE_MISMATCH,
                          "operator %s must return type boolean, not type %s", e->name,
                          type_name((*out)->type.oid));
    return 0;
}

/* A subquery, planned by ctx->subquery with this scope as the enclosing
 * one. */
static int bind_sublink(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    bool tests = e->sublink == SQL_SUBLINK_ANY || e->sublink == SQL_SUBLINK_ALL;
    sql_subquery_info info;

    if (!ctx->subquery)
        return bind_error(ctx, err, e->location, SQL_STATE_FEATURE_NOT_SUPPORTED,
                          "subqueries are not supported in this context yet");
    if (ctx->subquery(ctx->subquery_arg, ctx, e->subselect, &info, err) < 0 ||
        sublink_width(ctx, e, info.ncols, err) < 0)
        return -1;
    sql_type type = e->sublink == SQL_SUBLINK_EXPR ? info.types[0] : type_bool;
    if (e->sublink == SQL_SUBLINK_ARRAY &&
        array_type_of(ctx, info.types[0], e->location, &type, err) < 0)
        return -1;
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_SUBQUERY, type, e->location, tests);
    if (!b)
        return oom(ctx, err);
    if (tests && sublink_test(ctx, e, info.types[0], &b->args[0], err) < 0)
        return -1;
    b->sub = info.sub;
    b->sublink = e->sublink;
    b->correlated = info.correlated;
    *out = b;
    return 0;
}

/* ---- arrays ----------------------------------------------------------- */

/* The array type of elements of type `elem`; 42704 as PostgreSQL words
 * it when there is none (0A000 for an array of arrays). */
static int array_type_of(sql_bind_ctx *ctx, sql_type elem, int location, sql_type *out,
                         sql_error *err)
{
    if (sql_type_array_elem(elem.oid))
        return bind_error(ctx, err, location, SQL_STATE_FEATURE_NOT_SUPPORTED,
                          "multidimensional arrays are not supported yet");
    if (!(out->oid = sql_type_array_of(elem.oid)))
        return bind_error(ctx, err, location, SQL_STATE_UNDEFINED_OBJECT,
                          "could not find array type for data type %s", type_name(elem.oid));
    out->typmod = elem.typmod;
    return 0;
}

/* ARRAY[...]: the elements' common type (all unknown: text), like
 * PostgreSQL's transformArrayExpr. `want` is the array type of an
 * enclosing cast, which types an empty ARRAY[] (0: none). */
static int bind_array(sql_bind_ctx *ctx, const sql_expr *e, sql_type_id want, sql_bexpr **out,
                      sql_error *err)
{
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_FUNC, type_unknown, e->location, e->nargs);
    sql_type elem = {sql_type_array_elem(want), -1};

    if (!b)
        return oom(ctx, err);
    if (e->nargs == 0 && !want) {
        bind_error(ctx, err, e->location, SQL_STATE_INDETERMINATE_DATATYPE,
                   "cannot determine type of empty array");
        sql_error_hint(err, ctx->arena,
                       "Explicitly cast to the desired type, for example ARRAY[]::integer[].");
        return -1;
    }
    for (int i = 0; i < e->nargs; i++)
        if (bind(ctx, e->args[i], &b->args[i], err) < 0)
            return -1;
    if ((e->nargs && unify(ctx, b->args, b->nargs, "ARRAY", &elem, err) < 0) ||
        array_type_of(ctx, elem, e->location, &b->type, err) < 0)
        return -1;
    b->fn = sql__array_ctor;
    b->name = "array";
    *out = b;
    return fold(ctx, b, true, err);
}

/* arg[i] and arg[lo:hi] (an omitted bound is the array's own, which
 * INT32_MIN / INT32_MAX reach by clamping): 42804 for a non-array or a
 * subscript that is no integer, as PostgreSQL's transformContainerSubscripts. */
static int bind_subscript(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    bool slice = e->kind == SQL_EXPR_SLICE;
    const sql_expr *bounds[2] = {e->left, e->right};
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_FUNC, type_unknown, e->location, slice ? 3 : 2);

    if (!b)
        return oom(ctx, err);
    if (bind(ctx, e->arg, &b->args[0], err) < 0)
        return -1;
    if (!sql_type_array_elem(b->args[0]->type.oid))
        return bind_error(ctx, err, e->location, SQL_STATE_DATATYPE_MISMATCH,
                          "cannot subscript type %s because it does not support subscripting",
                          type_name(b->args[0]->type.oid));
    for (int i = slice ? 0 : 1; i < 2; i++) {
        sql_bexpr **at = &b->args[slice ? 1 + i : 1], *v;
        if (!bounds[i]) {
            if (!(v = new_node(ctx, SQL_BEXPR_CONST, (sql_type){SQL_T_INT4, -1}, e->location, 0)))
                return oom(ctx, err);
            v->value.v.i = i == 0 ? INT32_MIN : INT32_MAX;
        } else if (bind(ctx, bounds[i], &v, err) < 0)
            return -1;
        if (coerce(ctx, v, (sql_type){SQL_T_INT4, -1}, SQL__CAST_ASSIGN, at, err) < 0)
            return -1;
        if (!*at)
            return bind_error(ctx, err, v->location, SQL_STATE_DATATYPE_MISMATCH,
                              "array subscript must have type integer");
    }
    b->type = slice
                  ? b->args[0]->type
                  : (sql_type){sql_type_array_elem(b->args[0]->type.oid), b->args[0]->type.typmod};
    b->fn = slice ? sql__array_slice : sql__array_subscript;
    b->strict = true;
    b->name = slice ? "slice" : "subscript";
    *out = b;
    return fold(ctx, b, true, err);
}

/* left op ANY/ALL (array), PostgreSQL's make_scalar_array_op: an unknown
 * side takes its type from the other; the test `left op element` is
 * bound over SUBVALUE 0 (left's value) and SUBVALUE 1 (the element) and
 * kept in aux, evaluated per element by the node's implementation. */
static int bind_array_op(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    bool any = e->kind == SQL_EXPR_ANY;
    sql_bexpr *b = new_node(ctx, SQL_BEXPR_FUNC, type_bool, e->location, 2), *v[2], *test;
    sql_type elem, arr;

    if (!b)
        return oom(ctx, err);
    if (bind(ctx, e->left, &b->args[0], err) < 0 || bind(ctx, e->right, &b->args[1], err) < 0)
        return -1;
    if (b->args[1]->type.oid == SQL_T_UNKNOWN) {
        elem = b->args[0]->type.oid == SQL_T_UNKNOWN ? type_text : b->args[0]->type;
        if (array_type_of(ctx, (sql_type){elem.oid, -1}, e->location, &arr, err) < 0 ||
            coerce_unknown(ctx, b->args[1], arr, &b->args[1], err) < 0)
            return -1;
    }
    elem = (sql_type){sql_type_array_elem(b->args[1]->type.oid), b->args[1]->type.typmod};
    if (!elem.oid)
        return bind_error(ctx, err, e->location, SQL_STATE_WRONG_OBJECT_TYPE,
                          "op ANY/ALL (array) requires array on right side");
    if (b->args[0]->type.oid == SQL_T_UNKNOWN &&
        coerce_unknown(ctx, b->args[0], elem, &b->args[0], err) < 0)
        return -1;
    if (!(v[0] = new_node(ctx, SQL_BEXPR_SUBVALUE, b->args[0]->type, e->location, 0)) ||
        !(v[1] = new_node(ctx, SQL_BEXPR_SUBVALUE, elem, e->location, 0)))
        return oom(ctx, err);
    v[1]->column = 1;
    if (apply_op(ctx, e, v, 2, &test, err) < 0)
        return -1;
    if (test->type.oid != SQL_T_BOOL)
        return bind_error(ctx, err, e->location, SQL_STATE_WRONG_OBJECT_TYPE,
                          "op ANY/ALL (array) requires operator to yield boolean");
    b->aux = test;
    b->fn = any ? sql__array_any : sql__array_all;
    /* "= ANY": the operator in the name keeps `a = ANY (x)` and `a < ANY
     * (x)` apart where nodes are compared by fn, name and arguments
     * (GROUP BY matching) */
    size_t len = strlen(e->name) + 5;
    char *name = kv_arena_alloc(ctx->arena, len);
    if (!name)
        return oom(ctx, err);
    snprintf(name, len, "%s %s", e->name, any ? "ANY" : "ALL");
    b->name = name;
    *out = b;
    return fold(ctx, b, true, err);
}

/* ---- entry points ----------------------------------------------------- */

static int bind(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **out, sql_error *err)
{
    switch (e->kind) {
    case SQL_EXPR_COLUMN:
        return bind_column(ctx, e, out, err);
    case SQL_EXPR_CONST:
        return bind_const(ctx, e, out, err);
    case SQL_EXPR_PARAM:
        return bind_param(ctx, e, out, err);
    case SQL_EXPR_OP:
        return bind_op(ctx, e, out, err);
    case SQL_EXPR_FUNC:
        return bind_func(ctx, e, out, err);
    case SQL_EXPR_CAST:
        return bind_cast(ctx, e, out, err);
    case SQL_EXPR_AND:
    case SQL_EXPR_OR:
    case SQL_EXPR_NOT:
        return bind_bool(ctx, e, out, err);
    case SQL_EXPR_NULLTEST:
        return bind_nulltest(ctx, e, out, err);
    case SQL_EXPR_DISTINCT:
        return bind_distinct(ctx, e, out, err);
    case SQL_EXPR_IN:
        return bind_in(ctx, e, out, err);
    case SQL_EXPR_BETWEEN:
        return bind_between(ctx, e, out, err);
    case SQL_EXPR_CASE:
        return bind_case(ctx, e, out, err);
    case SQL_EXPR_STAR:
        return bind_error(ctx, err, e->location, SQL_STATE_FEATURE_NOT_SUPPORTED,
                          "\"*\" in an expression is not supported yet");
    case SQL_EXPR_SUBLINK:
        return bind_sublink(ctx, e, out, err);
    case SQL_EXPR_ARRAY:
        return bind_array(ctx, e, 0, out, err);
    case SQL_EXPR_SUBSCRIPT:
    case SQL_EXPR_SLICE:
        return bind_subscript(ctx, e, out, err);
    case SQL_EXPR_ANY:
    case SQL_EXPR_ALL:
        return bind_array_op(ctx, e, out, err);
    case SQL_EXPR_DEFAULT:
        break;
    }
    /* a DEFAULT the caller may take (the top of an INSERT/UPDATE value)
     * never reaches here: it substitutes the column default itself */
    return bind_error(ctx, err, e->location, SQL_STATE_SYNTAX_ERROR,
                      "DEFAULT is not allowed in this context");
}

int sql_expr_bind(sql_bind_ctx *ctx, const sql_expr *e, sql_type want, sql_bexpr **out,
                  sql_error *err)
{
    if (bind(ctx, e, out, err) < 0)
        return -1;
    if (want.oid == SQL_T_UNKNOWN)
        return 0;
    return sql_expr_coerce(ctx, *out, want, out, err);
}

/* ---- output column names (FigureColname) ------------------------------- */

/* The name and its strength: 2 for columns and functions, 1 for casts
 * and CASE, 0 for anything else ("?column?"). */
static int colname(const sql_expr *e, const char **name)
{
    const sql_select *q = e->subselect;
    int s;

    switch (e->kind) {
    case SQL_EXPR_COLUMN:
        *name = e->column;
        return 2;
    case SQL_EXPR_FUNC:
        if (e->alias_type == NULL) {
            *name = e->name;
            return 2;
        }
        /* a cast to an oid alias type, made a call */
        s = colname(e->args[0], name);
        if (s <= 1) {
            *name = e->alias_type;
            s = 1;
        }
        return s;
    case SQL_EXPR_CAST:
        s = colname(e->arg, name);
        if (s <= 1) { /* the type name's last word: int4 for int[] */
            sql_type_id t = e->type.oid;
            *name = e->alias_type            ? e->alias_type
                    : sql_type_array_elem(t) ? sql_type_typname(sql_type_array_elem(t))
                                             : sql_type_typname(t);
            s = 1;
        }
        return s;
    case SQL_EXPR_SUBLINK:
        /* PostgreSQL: "exists", or a scalar subquery's own column name
         * (a set operation's: its first branch's) */
        while (q->setop != SQL_SETOP_NONE)
            q = q->larg;
        if (e->sublink == SQL_SUBLINK_EXISTS || e->sublink == SQL_SUBLINK_ARRAY)
            *name = e->sublink == SQL_SUBLINK_EXISTS ? "exists" : "array";
        else if (e->sublink != SQL_SUBLINK_EXPR || q->ntargets < 1)
            return 0;
        else if (!(*name = q->targets[0].alias))
            *name = sql_expr_colname(q->targets[0].expr);
        return 2;
    case SQL_EXPR_ARRAY:
        *name = "array";
        return 2;
    case SQL_EXPR_SUBSCRIPT:
    case SQL_EXPR_SLICE:
        return colname(e->arg, name);
    case SQL_EXPR_CASE:
        s = e->els ? colname(e->els, name) : 0;
        if (s <= 1) {
            *name = "case";
            s = 1;
        }
        return s;
    default:
        return 0;
    }
}

const char *sql_expr_colname(const sql_expr *e)
{
    const char *name = "?column?";
    colname(e, &name);
    return name;
}
