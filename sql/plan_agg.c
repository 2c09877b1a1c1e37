/*
 * plan_agg.c - binding grouped queries: GROUP BY, HAVING and aggregate
 * calls (plan_int.h, sql__group_*; docs/sql.md, "Aggregation").
 *
 * An expression over the groups (a select-list item, HAVING, ORDER BY)
 * is bound in two steps, so that the expression binder stays unaware of
 * grouping and the aggregation can later sit over any row source:
 *
 *  1. It is bound over the input rows like any expression, with the
 *     binder's aggregate hook set (sql_bind_ctx.agg): each aggregate call
 *     binds its own arguments over the input rows, is resolved
 *     (exec_agg.c), joins the aggregation's call list (equal calls share
 *     one entry) and is represented by an AGGREF node naming its slot of
 *     the output row.
 *  2. The bound tree is rewritten over the aggregation's output row: a
 *     subtree equal to a GROUP BY key becomes a reference to the key's
 *     slot, AGGREFs stay, and any other column reference is 42803 -
 *     unless the whole primary key is grouped: then the column is
 *     functionally dependent on the key and simply becomes one more key,
 *     which is what PostgreSQL allows too.
 *
 * GROUP BY items follow PostgreSQL: an integer constant is a select-list
 * position (`*` counts as the columns it expands to), any other literal
 * is 42601, a bare name that is
 * no input column may be a select-list alias, anything else is an
 * expression over the input rows; aggregates are not allowed there.
 *
 * Memory: everything lives in the environment's arena.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/plan_join_int.h"
#include "sql/types_int.h"

struct sql__grouping {
    const sql__bindenv *env;
    sql__agg agg;
    const sql_bexpr **keys; /* agg.key_slots of room */
    sql__aggcall *calls;
    int call_cap;
    bool in_agg;     /* binding an aggregate's arguments */
    int *outer_cols; /* agg.outer_cols, filled as subqueries are bound */
};

static const sql_type type_text = {SQL_T_TEXT, -1};
static const sql_type type_unknown = {SQL_T_UNKNOWN, -1};

static int error_at(const sql__grouping *g, sql_error *err, int location)
{
    sql_expr_error_position(err, g->env->query, location);
    return -1;
}

static sql_bind_ctx bind_ctx(sql__grouping *g, const char *clause)
{
    const sql__bindenv *env = g->env;
    return (sql_bind_ctx){.arena = env->arena,
                          .query = env->query,
                          .scope = env->scope,
                          .params = env->params,
                          .clause = clause,
                          .agg_clause = clause,
                          .subquery = env->subquery,
                          .subquery_arg = env->subquery_arg};
}

/* ---- structural equality --------------------------------------------- */

static bool const_equal(const sql_bexpr *a, const sql_bexpr *b)
{
    const sql_datum *x = &a->value, *y = &b->value;
    if (x->isnull || y->isnull)
        return x->isnull && y->isnull;
    sql_type_id t = a->type.oid;
    if (t == SQL_T_TEXT || t == SQL_T_VARCHAR || t == SQL_T_BPCHAR || t == SQL_T_UNKNOWN ||
        t == SQL_T_BYTEA)
        return x->v.s.len == y->v.s.len && memcmp(x->v.s.p, y->v.s.p, x->v.s.len) == 0;
    if (t == SQL_T_NUMERIC && x->v.num.dscale != y->v.num.dscale)
        return false; /* 1.0 and 1.00 print differently */
    return sql_datum_cmp(t, x, y) == 0;
}

static bool node_equal(const sql_bexpr *a, const sql_bexpr *b)
{
    switch (a->kind) {
    case SQL_BEXPR_CONST:
        return const_equal(a, b);
    case SQL_BEXPR_COLUMN:
    case SQL_BEXPR_AGGREF:
        return a->column == b->column;
    case SQL_BEXPR_PARAM:
        return a->param == b->param;
    case SQL_BEXPR_CMP:
    case SQL_BEXPR_IN:
        return a->cmp == b->cmp && a->cmp_type == b->cmp_type;
    case SQL_BEXPR_SUBQUERY:
        return a->sub == b->sub;
    case SQL_BEXPR_SUBVALUE:
        return a->column == b->column;
    case SQL_BEXPR_OUTER:
        return a->column == b->column && a->levels_up == b->levels_up;
    case SQL_BEXPR_FUNC:
        return a->fn == b->fn && !a->volatile_ &&
               (a->name == b->name || (a->name && b->name && strcmp(a->name, b->name) == 0));
    default:
        return true;
    }
}

bool sql__bexpr_equal(const sql_bexpr *a, const sql_bexpr *b)
{
    if (a == b)
        return true;
    if (a == NULL || b == NULL || a->kind != b->kind || a->type.oid != b->type.oid ||
        a->type.typmod != b->type.typmod || a->negated != b->negated || a->nargs != b->nargs ||
        !node_equal(a, b))
        return false;
    for (int i = 0; i < a->nargs; i++)
        if (!sql__bexpr_equal(a->args[i], b->args[i]))
            return false;
    return sql__bexpr_equal(a->els, b->els);
}

/* ---- aggregate calls -------------------------------------------------- */

static bool call_equal(const sql__aggcall *a, const sql__aggcall *b)
{
    return a->fn == b->fn && a->distinct == b->distinct && a->type.oid == b->type.oid &&
           sql__bexpr_equal(a->arg, b->arg) && sql__bexpr_equal(a->delim, b->delim);
}

/* The slot of call `c`: an equal call's, or a new one. */
static int add_call(sql__grouping *g, const sql__aggcall *c, int *slot, sql_error *err)
{
    sql__agg *a = &g->agg;
    for (int i = 0; i < a->ncalls; i++) {
        if (call_equal(&g->calls[i], c)) {
            *slot = a->key_slots + i;
            return 0;
        }
    }
    if (a->ncalls == g->call_cap) {
        int cap = g->call_cap ? 2 * g->call_cap : 4;
        sql__aggcall *calls = kv_arena_alloc(g->env->arena, (size_t)cap * sizeof(*calls));
        if (calls == NULL)
            return sql__oom(g->env->arena, err);
        if (a->ncalls > 0)
            memcpy(calls, g->calls, (size_t)a->ncalls * sizeof(*calls));
        g->calls = calls;
        g->call_cap = cap;
    }
    g->calls[a->ncalls] = *c;
    *slot = a->key_slots + a->ncalls++;
    return 0;
}

/* Notes whether `e` reads a column of its own row and of an enclosing
 * query's. */
static void column_levels(const sql_bexpr *e, bool *own, bool *outer)
{
    if (e == NULL)
        return;
    *own |= e->kind == SQL_BEXPR_COLUMN;
    *outer |= e->kind == SQL_BEXPR_OUTER;
    for (int i = 0; i < e->nargs; i++)
        column_levels(e->args[i], own, outer);
    column_levels(e->els, own, outer);
}

/* Whether the arguments read enclosing queries' columns only: PostgreSQL
 * then aggregates in the enclosing query, which we do not do. */
static bool outer_only(sql_bexpr *const *args, int nargs)
{
    bool own = false, outer = false;
    for (int i = 0; i < nargs; i++)
        column_levels(args[i], &own, &outer);
    return outer && !own;
}

/* The binder's aggregate hook: arguments over the input rows, where a
 * further aggregate is the nesting error. */
static int bind_call(void *arg, const sql_expr *call, sql_bexpr **out, sql_error *err)
{
    sql__grouping *g = arg;
    kv_arena *arena = g->env->arena;
    if (g->in_agg) {
        sql_error_set(err, arena, SQL_STATE_GROUPING_ERROR,
                      "aggregate function calls cannot be nested");
        return error_at(g, err, call->location);
    }
    sql_bexpr **args = kv_arena_alloc(arena, (size_t)(call->nargs + 1) * sizeof(*args));
    sql_bexpr *ref = kv_arena_alloc(arena, sizeof(*ref));
    if (args == NULL || ref == NULL)
        return sql__oom(arena, err);
    sql_bind_ctx bc = bind_ctx(g, NULL);
    bc.agg = bind_call;
    bc.agg_arg = g;
    g->in_agg = true;
    for (int i = 0; i < call->nargs; i++) {
        if (sql_expr_bind(&bc, call->args[i], type_unknown, &args[i], err) != 0) {
            g->in_agg = false;
            return -1;
        }
    }
    g->in_agg = false;
    if (outer_only(args, call->nargs)) {
        sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "aggregate functions over columns of an enclosing query are not supported "
                      "yet");
        return error_at(g, err, call->location);
    }
    sql__aggcall c;
    int slot = 0;
    if (sql__agg_resolve(&bc, call, args, &c, err) != 0 || add_call(g, &c, &slot, err) != 0)
        return -1;
    *ref = (sql_bexpr){
        .kind = SQL_BEXPR_AGGREF, .type = c.type, .location = call->location, .column = slot};
    *out = ref;
    return 0;
}

/* ---- keys and the rewrite over the groups ------------------------------ */

static int find_key(const sql__grouping *g, const sql_bexpr *e)
{
    for (int k = 0; k < g->agg.nkeys; k++)
        if (sql__bexpr_equal(g->keys[k], e))
            return k;
    return -1;
}

/* Adds key `e` (bound over the input rows) unless an equal one exists. */
static int add_key(sql__grouping *g, const sql_bexpr *e)
{
    int k = find_key(g, e);
    if (k >= 0)
        return k;
    assert(g->agg.nkeys < g->agg.key_slots);
    g->keys[g->agg.nkeys] = e;
    return g->agg.nkeys++;
}

static int key_ref(sql__grouping *g, const sql_bexpr *e, int k, const sql_bexpr **out,
                   sql_error *err)
{
    sql_bexpr *b = kv_arena_alloc(g->env->arena, sizeof(*b));
    if (b == NULL)
        return sql__oom(g->env->arena, err);
    *b = (sql_bexpr){
        .kind = SQL_BEXPR_COLUMN, .type = e->type, .location = e->location, .column = k};
    *out = b;
    return 0;
}

static bool pk_grouped(const sql__grouping *g, int col);

/* An input column no key covers: a key of its own when the pk is
 * grouped (it depends on the pk functionally), else 42803. */
static int ungrouped_column(sql__grouping *g, const sql_bexpr *e, const sql_bexpr **out,
                            sql_error *err)
{
    if (pk_grouped(g, e->column))
        return key_ref(g, e, add_key(g, e), out, err);
    const char *rel = sql__scope_col_rel(g->env->scope, e->column);
    sql_error_set(err, g->env->arena, SQL_STATE_GROUPING_ERROR,
                  "column \"%s%s%s\" must appear in the GROUP BY clause or be used in an "
                  "aggregate function",
                  rel ? rel : "", rel ? "." : "", g->env->scope->cols[e->column].name);
    return error_at(g, err, e->location);
}

/* ---- correlated subqueries over the groups ----------------------------- */

static int plan_columns(sql__grouping *g, const sql_plan *p, int depth, sql_error *err);

/* The input column an OUTER reference `depth` levels in reads: it must
 * be a key (or become one, the pk being grouped); its slot goes to
 * outer_cols, which the output row's evaluation maps it through. */
static int outer_column(sql__grouping *g, const sql_bexpr *e, sql_error *err)
{
    sql_bexpr col = {.kind = SQL_BEXPR_COLUMN, .type = e->type, .column = e->column};
    int k = find_key(g, &col);
    if (k < 0 && pk_grouped(g, e->column)) {
        sql_bexpr *c = kv_arena_alloc(g->env->arena, sizeof(*c));
        if (c == NULL)
            return sql__oom(g->env->arena, err);
        *c = col;
        k = add_key(g, c);
    }
    if (k < 0) {
        const char *rel = sql__scope_col_rel(g->env->scope, e->column);
        sql_error_set(err, g->env->arena, SQL_STATE_GROUPING_ERROR,
                      "subquery uses ungrouped column \"%s%s%s\" from outer query", rel ? rel : "",
                      rel ? "." : "", g->env->scope->cols[e->column].name);
        return error_at(g, err, e->location);
    }
    g->outer_cols[e->column] = k;
    return 0;
}

/* The columns of the grouped query that `e`, `depth` subquery levels
 * in, reads. */
static int expr_columns(sql__grouping *g, const sql_bexpr *e, int depth, sql_error *err)
{
    if (e == NULL)
        return 0;
    if (e->kind == SQL_BEXPR_OUTER && e->levels_up == depth && outer_column(g, e, err) != 0)
        return -1;
    if (e->kind == SQL_BEXPR_SUBQUERY && e->correlated &&
        plan_columns(g, e->sub, depth + 1, err) != 0)
        return -1;
    for (int i = 0; i < e->nargs; i++)
        if (expr_columns(g, e->args[i], depth, err) != 0)
            return -1;
    return expr_columns(g, e->els, depth, err);
}

static int exprs_columns(sql__grouping *g, const sql_bexpr *const *v, int n, int depth,
                         sql_error *err)
{
    for (int i = 0; i < n; i++)
        if (expr_columns(g, v[i], depth, err) != 0)
            return -1;
    return 0;
}

/* Every expression of plan `p` (a FROM subquery's at the same depth). */
static int plan_columns(sql__grouping *g, const sql_plan *p, int depth, sql_error *err)
{
    const sql__path *path = &p->path;
    if (exprs_columns(g, p->targets, p->ntargets, depth, err) != 0 ||
        expr_columns(g, p->filter, depth, err) != 0 || expr_columns(g, p->limit, depth, err) != 0 ||
        expr_columns(g, p->offset, depth, err) != 0 ||
        exprs_columns(g, path->eq, (int)path->neq, depth, err) != 0 ||
        exprs_columns(g, path->in, path->nin, depth, err) != 0 ||
        expr_columns(g, path->lo, depth, err) != 0 || expr_columns(g, path->hi, depth, err) != 0)
        return -1;
    for (int i = 0; i < p->nsort; i++)
        if (expr_columns(g, p->sort[i].expr, depth, err) != 0)
            return -1;
    if (p->agg != NULL) {
        const sql__agg *a = p->agg;
        if (exprs_columns(g, a->keys, a->nkeys, depth, err) != 0 ||
            expr_columns(g, a->having, depth, err) != 0)
            return -1;
        for (int i = 0; i < a->ncalls; i++)
            if (expr_columns(g, a->calls[i].arg, depth, err) != 0 ||
                expr_columns(g, a->calls[i].delim, depth, err) != 0)
                return -1;
    }
    return p->from ? plan_columns(g, p->from, depth, err) : 0;
}

int sql__group_output(sql__grouping *g, const sql_bexpr *e, const sql_bexpr **out, sql_error *err)
{
    if (e == NULL) {
        *out = NULL;
        return 0;
    }
    int k = find_key(g, e);
    if (k >= 0)
        return key_ref(g, e, k, out, err);
    switch (e->kind) {
    case SQL_BEXPR_CONST:
    case SQL_BEXPR_PARAM:
    case SQL_BEXPR_AGGREF:
        *out = e;
        return 0;
    case SQL_BEXPR_COLUMN:
        return ungrouped_column(g, e, out, err);
    case SQL_BEXPR_SUBQUERY:
        /* over the groups it may read grouped columns only */
        if (e->correlated && plan_columns(g, e->sub, 1, err) != 0)
            return -1;
        break;
    default:
        break;
    }
    kv_arena *arena = g->env->arena;
    sql_bexpr *b = kv_arena_alloc(arena, sizeof(*b));
    const sql_bexpr **args = kv_arena_alloc(arena, (size_t)(e->nargs + 1) * sizeof(*args));
    if (b == NULL || args == NULL)
        return sql__oom(arena, err);
    *b = *e;
    for (int i = 0; i < e->nargs; i++)
        if (sql__group_output(g, e->args[i], &args[i], err) != 0)
            return -1;
    const sql_bexpr *els;
    if (sql__group_output(g, e->els, &els, err) != 0)
        return -1;
    b->args = (sql_bexpr **)args;
    b->els = (sql_bexpr *)els;
    *out = b;
    return 0;
}

int sql__group_bind(sql__grouping *g, const sql_expr *e, sql_type want, const char *clause,
                    const sql_bexpr **out, sql_error *err)
{
    sql_bind_ctx bc = bind_ctx(g, clause);
    bc.agg = bind_call;
    bc.agg_arg = g;
    sql_bexpr *b;
    if (sql_expr_bind(&bc, e, want, &b, err) != 0)
        return -1;
    return sql__group_output(g, b, out, err);
}

int sql__group_origin(const sql__grouping *g, const sql_bexpr *e)
{
    if (e->kind != SQL_BEXPR_COLUMN || e->column >= g->agg.nkeys)
        return -1;
    const sql_bexpr *k = g->keys[e->column];
    return k->kind == SQL_BEXPR_COLUMN ? k->column : -1;
}

/* ---- GROUP BY items ---------------------------------------------------- */

static int visible_columns(const sql__bindenv *env)
{
    int n = 0;
    for (int i = 0; i < env->scope->ncols; i++)
        n += !env->scope->cols[i].hidden;
    return n;
}

/* A column reference to the visible input column `at` (0-based). */
static const sql_expr *star_column(sql__grouping *g, int at, int location)
{
    const sql_scope *sc = g->env->scope;
    sql_expr *c = kv_arena_alloc(g->env->arena, sizeof(*c));
    if (c == NULL)
        return NULL;
    int i = 0;
    for (;; i++)
        if (!sc->cols[i].hidden && at-- == 0)
            break;
    *c = (sql_expr){.kind = SQL_EXPR_COLUMN, .location = location, .column = sc->cols[i].name};
    return c;
}

/* GROUP BY n: select-list item n, counting `*` as its columns. */
static int group_position(sql__grouping *g, const sql_select *s, const sql_expr *e,
                          const sql_expr **out, sql_error *err)
{
    long n = strtol(e->text, NULL, 10);
    for (int i = 0; n >= 1 && i < s->ntargets; i++) {
        const sql_expr *t = s->targets[i].expr;
        bool star = t->kind == SQL_EXPR_STAR && t->column == NULL && g->env->table != NULL;
        int width = star ? visible_columns(g->env) : 1;
        if (n <= width) {
            *out = star ? star_column(g, (int)n - 1, t->location) : t;
            return *out ? 0 : sql__oom(g->env->arena, err);
        }
        n -= width;
    }
    sql_error_set(err, g->env->arena, SQL_STATE_INVALID_COLUMN_REFERENCE,
                  "GROUP BY position %s is not in select list", e->text);
    return error_at(g, err, e->location);
}

/* What GROUP BY item `e` stands for. */
static int group_item(sql__grouping *g, const sql_select *s, const sql_expr *e,
                      const sql_expr **out, sql_error *err)
{
    *out = e;
    if (e->kind == SQL_EXPR_CONST && e->const_kind == SQL_CONST_INTEGER)
        return group_position(g, s, e, out, err);
    if (e->kind == SQL_EXPR_CONST) {
        sql_error_set(err, g->env->arena, SQL_STATE_SYNTAX_ERROR,
                      "non-integer constant in GROUP BY");
        return error_at(g, err, e->location);
    }
    if (e->kind != SQL_EXPR_COLUMN || e->table != NULL)
        return 0;
    const sql_scope *sc = g->env->scope;
    for (int i = 0; i < sc->ncols; i++)
        if (strcmp(sc->cols[i].name, e->column) == 0)
            return 0;
    for (int i = 0; i < s->ntargets; i++)
        if (s->targets[i].alias && strcmp(s->targets[i].alias, e->column) == 0)
            *out = s->targets[i].expr;
    return 0;
}

static int bind_key(sql__grouping *g, const sql_expr *e, sql_error *err)
{
    sql_bind_ctx bc = bind_ctx(g, "GROUP BY");
    sql_bexpr *b;
    if (sql_expr_bind(&bc, e, type_unknown, &b, err) != 0)
        return -1;
    if (b->type.oid == SQL_T_UNKNOWN && sql_expr_coerce(&bc, b, type_text, &b, err) != 0)
        return -1;
    add_key(g, b);
    return 0;
}

/* Whether every pk column of the table input column `col` comes from
 * is a key (col then depends on the keys functionally). */
static bool pk_grouped(const sql__grouping *g, int col)
{
    const sql_table_desc *t = g->env->table;
    const int *pk = g->env->pk_cols;
    int first = 0;
    const sql_plan *scan;
    if (g->env->join != NULL) {
        if (!sql__join_table_of(g->env->join, col, &first, &scan))
            return false;
        t = scan->table;
        pk = scan->rc.pk_cols;
    }
    if (t == NULL)
        return false;
    for (uint32_t i = 0; i < t->primary.ncols; i++) {
        bool found = false;
        for (int k = 0; k < g->agg.nkeys; k++)
            found |= g->keys[k]->kind == SQL_BEXPR_COLUMN &&
                     sql__join_base_slot(g->env->join, g->keys[k]->column) == first + pk[i];
        if (!found)
            return false;
    }
    return true;
}

int sql__group_begin(const sql__bindenv *env, const sql_select *s, sql__grouping **out,
                     sql_error *err)
{
    sql__grouping *g = kv_arena_alloc(env->arena, sizeof(*g));
    if (g == NULL)
        return sql__oom(env->arena, err);
    *g = (sql__grouping){.env = env};
    g->agg.key_slots = s->ngroup_by + env->scope->ncols;
    g->keys = kv_arena_alloc(env->arena, (size_t)(g->agg.key_slots + 1) * sizeof(*g->keys));
    if (g->keys == NULL)
        return sql__oom(env->arena, err);
    for (int i = 0; i < s->ngroup_by; i++) {
        const sql_expr *e;
        if (group_item(g, s, s->group_by[i], &e, err) != 0 || bind_key(g, e, err) != 0)
            return -1;
    }
    g->outer_cols = kv_arena_alloc(env->arena, (size_t)(env->scope->ncols + 1) * sizeof(int));
    if (g->outer_cols == NULL)
        return sql__oom(env->arena, err);
    for (int i = 0; i < env->scope->ncols; i++)
        g->outer_cols[i] = -1;
    *out = g;
    return 0;
}

const sql__agg *sql__group_finish(sql__grouping *g, const sql_bexpr *having)
{
    g->agg.keys = g->keys;
    g->agg.calls = g->calls;
    g->agg.having = having;
    g->agg.outer_cols = g->outer_cols;
    return &g->agg;
}
