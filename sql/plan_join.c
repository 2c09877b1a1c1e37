/*
 * plan_join.c - binding and planning a FROM clause with joins or several
 * items (plan_join_int.h; docs/sql.md, "Joins").
 *
 * Binding numbers the FROM tree's relations in post-order: a table adds
 * its columns as slots of the joined row and a relation of the scope; a
 * USING or NATURAL join then adds its merged columns as a relation
 * without a name. Every subtree therefore covers a contiguous range of
 * relations, which is the scope its ON condition is bound in.
 *
 * Planning splits WHERE and the ON conditions of inner joins into
 * conjuncts, each with the set of relations it reads. Items connected by
 * inner joins and commas form a group the planner may reorder; an outer
 * join is one unit of its group, planned on its own:
 *  - a conjunct over one unit's relations is pushed into it (a table's
 *    conjuncts choose its access path as in a single-table query);
 *  - the group is joined greedily: the unit with the fewest estimated
 *    rows first, then always the smallest unit connected to the joined
 *    ones by a conjunct (a Cartesian product only when none is);
 *  - at each join, equalities between the two sides become hash keys,
 *    the other conjuncts over the joined relations its condition;
 *  - in an outer join, WHERE conjuncts over the preserved side and ON
 *    conjuncts over the nullable side are pushed down; the remaining ON
 *    conjuncts form the join condition and the remaining WHERE conjuncts
 *    filter its output (ON and WHERE differ for outer joins).
 * Planning is O(units^2 x conjuncts): 64 tables plan in microseconds.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sql/plan_join_int.h"
#include "sql/types_int.h"

/* Relations of one FROM clause, at most MAX_RELS (tables plus USING
 * joins). */
#define RELSET_WORDS 4
#define MAX_RELS     (RELSET_WORDS * 64)

typedef struct relset {
    uint64_t w[RELSET_WORDS];
} relset;

/* A bound FROM item. */
typedef struct ftree ftree;
struct ftree {
    const sql_from *f;
    ftree *left, *right;  /* a join */
    sql_plan *scan;       /* a table */
    int first, ncols;     /* a table: its slots */
    int rlo, rhi;         /* its relations [rlo, rhi) */
    const sql_bexpr **on; /* a join: ON conjuncts and USING equalities */
    int non;
    int *merged, *from; /* USING: merged slot i from slots from[2i], from[2i+1] */
    int nmerged;
};

typedef struct conj {
    const sql_bexpr *e;
    relset rels;
} conj;

typedef struct clist {
    conj *v;
    int n, cap;
} clist;

struct sql__joinbind {
    sql_plan_ctx *ctx;
    const sql__join_hooks *hooks; /* while binding */
    kv_arena *arena;
    ftree **items;
    int nitems;
    /* sized by open_tables: merging never adds more columns than the
     * tables have, each merge hiding two */
    sql_scope_rel *rels;
    int nrels, maxrels;
    sql_scope_col *cols;
    int ncols, maxcols;
    int *slot_rel;  /* per slot */
    int *copy_from; /* per slot, -1: none */
    int *base;      /* per slot, once bound: the slot its value is read from */
    sql_plan **scans;
    int *scan_first; /* per scan: its first slot */
    int nscans, nbound;
    sql_scope scope;
    const sql_scope *outer; /* an enclosing query's scope; NULL: none */
    bool *outer_used;
};

static const sql_type type_bool = {SQL_T_BOOL, -1};

/* Makes room for one more element of `size` bytes in *v (n used of *cap). */
static int grow(kv_arena *arena, void **v, int *cap, int n, size_t size, sql_error *err)
{
    if (n < *cap)
        return 0;
    int ncap = *cap ? 2 * *cap : 16;
    void *nv = kv_arena_alloc(arena, (size_t)ncap * size);
    if (nv == NULL)
        return sql__oom(arena, err);
    if (n > 0)
        memcpy(nv, *v, (size_t)n * size);
    *v = nv;
    *cap = ncap;
    return 0;
}

static int error_at(sql__joinbind *jb, sql_error *err, int location)
{
    sql_expr_error_position(err, jb->ctx->query, location);
    return -1;
}

static void relset_add(relset *s, int r)
{
    s->w[r / 64] |= (uint64_t)1 << (r % 64);
}

static relset relset_range(int lo, int hi)
{
    relset s = {{0}};
    for (int r = lo; r < hi; r++)
        relset_add(&s, r);
    return s;
}

static relset relset_union(relset a, relset b)
{
    for (int i = 0; i < RELSET_WORDS; i++)
        a.w[i] |= b.w[i];
    return a;
}

static bool relset_subset(relset a, relset b)
{
    for (int i = 0; i < RELSET_WORDS; i++)
        if (a.w[i] & ~b.w[i])
            return false;
    return true;
}

static bool relset_meets(relset a, relset b)
{
    for (int i = 0; i < RELSET_WORDS; i++)
        if (a.w[i] & b.w[i])
            return true;
    return false;
}

static bool relset_empty(relset a)
{
    for (int i = 0; i < RELSET_WORDS; i++)
        if (a.w[i])
            return false;
    return true;
}

/* ---- bound expressions ----------------------------------------------- */

/* A copy of `e` whose columns are map[c] (map NULL: c + delta). */
static sql_bexpr *remap(kv_arena *arena, const sql_bexpr *e, const int *map, int delta)
{
    sql_bexpr *c = kv_arena_alloc(arena, sizeof(*c));
    if (c == NULL)
        return NULL;
    *c = *e;
    if (e->kind == SQL_BEXPR_COLUMN)
        c->column = map ? map[e->column] : e->column + delta;
    if (e->nargs > 0) {
        c->args = kv_arena_alloc(arena, (size_t)e->nargs * sizeof(*c->args));
        if (c->args == NULL)
            return NULL;
        for (int i = 0; i < e->nargs; i++)
            if ((c->args[i] = remap(arena, e->args[i], map, delta)) == NULL)
                return NULL;
    }
    if (e->els != NULL && (c->els = remap(arena, e->els, map, delta)) == NULL)
        return NULL;
    return c;
}

static void expr_rels(const sql__joinbind *jb, const sql_bexpr *e, relset *s)
{
    if (e->kind == SQL_BEXPR_COLUMN)
        relset_add(s, jb->slot_rel[e->column]);
    for (int i = 0; i < e->nargs; i++)
        expr_rels(jb, e->args[i], s);
    if (e->els != NULL)
        expr_rels(jb, e->els, s);
}

static bool has_subquery(const sql_bexpr *e)
{
    bool found = e->kind == SQL_BEXPR_SUBQUERY || (e->els != NULL && has_subquery(e->els));
    for (int i = 0; i < e->nargs && !found; i++)
        found = has_subquery(e->args[i]);
    return found;
}

/* Adds the conjuncts of `e` to `cl`, each read through copy_from (a
 * merged USING column of an inner or one-sided outer join is the column
 * it was merged from). A conjunct with a subquery (of ON: WHERE's stay
 * above the joins) counts as reading all of `own`, the ON's join: the
 * columns a correlated subquery reads are out of sight here, and it is
 * then evaluated over the whole joined row, never pushed into a leaf. */
static int add_conjuncts(sql__joinbind *jb, clist *cl, const sql_bexpr *e, relset own,
                         sql_error *err)
{
    if (e->kind == SQL_BEXPR_AND) {
        for (int i = 0; i < e->nargs; i++)
            if (add_conjuncts(jb, cl, e->args[i], own, err) != 0)
                return -1;
        return 0;
    }
    if (grow(jb->arena, (void **)&cl->v, &cl->cap, cl->n, sizeof(*cl->v), err) != 0)
        return -1;
    conj *c = &cl->v[cl->n];
    *c = (conj){.e = remap(jb->arena, e, jb->base, 0)};
    if (c->e == NULL)
        return sql__oom(jb->arena, err);
    expr_rels(jb, c->e, &c->rels);
    if (has_subquery(c->e))
        c->rels = relset_union(c->rels, own);
    cl->n++;
    return 0;
}

/* `args` ANDed (NULL for none). */
static const sql_bexpr *and_of(kv_arena *arena, const sql_bexpr **args, int n)
{
    if (n <= 1)
        return n == 1 ? args[0] : NULL;
    sql_bexpr *and = kv_arena_alloc(arena, sizeof(*and));
    if (and == NULL)
        return NULL;
    *and = (sql_bexpr){.kind = SQL_BEXPR_AND,
                       .type = type_bool,
                       .location = -1,
                       .args = (sql_bexpr **)args,
                       .nargs = n};
    return and;
}

/* ---- binding the FROM tree ------------------------------------------- */

/* The columns a leaf's plan gives: its table's, or its result's. */
static int leaf_width(const sql_plan *p)
{
    return p->table ? (int)p->table->ncols : p->ntargets;
}

static int count_leaves(const sql_from *f)
{
    return f->is_join ? count_leaves(f->left) + count_leaves(f->right) : 1;
}

/* Pass 1: opens every table, counting columns and relations. */
static int open_tables(sql__joinbind *jb, const sql_from *f, ftree **out, sql_error *err)
{
    ftree *t = kv_arena_alloc(jb->arena, sizeof(*t));
    if (t == NULL)
        return sql__oom(jb->arena, err);
    *t = (ftree){.f = f};
    *out = t;
    jb->maxrels++;
    if (f->is_join)
        return open_tables(jb, f->left, &t->left, err) != 0 ||
                       open_tables(jb, f->right, &t->right, err) != 0
                   ? -1
                   : 0;
    int rc = jb->hooks->open_item(jb->hooks->arg, f, &t->scan, err);
    if (rc == 1)
        rc = sql__scan_open(jb->ctx, &f->table, f->alias, jb->arena, &t->scan, err);
    if (rc != 0)
        return -1;
    jb->scans[jb->nscans++] = t->scan;
    t->ncols = leaf_width(t->scan);
    jb->maxcols += 2 * t->ncols;
    return 0;
}

static const char *rel_name(const sql_scope_rel *r)
{
    return r->alias ? r->alias : r->name;
}

static void add_slot(sql__joinbind *jb, sql_scope_col col, int copy_from)
{
    jb->slot_rel[jb->ncols] = jb->nrels;
    jb->copy_from[jb->ncols] = copy_from;
    jb->cols[jb->ncols++] = col;
}

static int bind_leaf(sql__joinbind *jb, ftree *t, sql_error *err)
{
    const sql_plan *p = t->scan;
    sql_scope_rel rel = {.name = p->table      ? p->table->name
                                 : t->f->alias ? t->f->alias
                                               : t->f->table.name,
                         .alias = t->f->alias,
                         .first = jb->ncols,
                         .ncols = t->ncols};
    for (int r = 0; r < jb->nrels; r++) {
        if (jb->rels[r].name && strcmp(rel_name(&jb->rels[r]), rel_name(&rel)) == 0) {
            /* PostgreSQL gives no position */
            return sql_error_set(err, jb->arena, SQL_STATE_DUPLICATE_ALIAS,
                                 "table name \"%s\" specified more than once", rel_name(&rel));
        }
    }
    t->first = jb->ncols;
    jb->scan_first[jb->nbound++] = t->first; /* tables bind in the order they opened */
    for (int i = 0; i < t->ncols; i++) {
        const sql_col_desc *c = p->table ? &p->table->cols[i] : NULL;
        add_slot(jb,
                 c ? (sql_scope_col){c->name, c->type, c->hidden}
                   : (sql_scope_col){p->cols[i].name, p->cols[i].type, false},
                 -1);
    }
    t->rlo = jb->nrels;
    jb->rels[jb->nrels++] = rel;
    t->rhi = jb->nrels;
    return 0;
}

/* The slots `*` shows of subtree t, in PostgreSQL's order: a join's
 * merged columns, then each side's columns but those merged. */
static int star_of(const sql__joinbind *jb, const ftree *t, int *out, int *n)
{
    if (!t->f->is_join) {
        for (int i = 0; i < t->ncols; i++)
            if (!jb->cols[t->first + i].hidden)
                out[(*n)++] = t->first + i;
        return 0;
    }
    for (int i = 0; i < t->nmerged; i++)
        out[(*n)++] = t->merged[i];
    for (int side = 0; side < 2; side++) {
        int at = *n;
        star_of(jb, side ? t->right : t->left, out, n);
        int keep = at;
        for (int i = at; i < *n; i++) {
            bool merged = false;
            for (int m = 0; m < t->nmerged; m++)
                merged |= t->from[2 * m + side] == out[i];
            if (!merged)
                out[keep++] = out[i];
        }
        *n = keep;
    }
    return 0;
}

/* The slot named `name` among slots[0..n): -1 none, -2 several. */
static int find_named(const sql__joinbind *jb, const int *slots, int n, const char *name)
{
    int found = -1;
    for (int i = 0; i < n; i++)
        if (strcmp(jb->cols[slots[i]].name, name) == 0)
            found = found == -1 ? slots[i] : -2;
    return found;
}

/* A USING column's slot on one side: 42703 when missing, 42702 when
 * the side has it twice. */
static int using_side(sql__joinbind *jb, const int *slots, int n, const char *name,
                      const char *side, int *out, sql_error *err)
{
    *out = find_named(jb, slots, n, name);
    if (*out == -1)
        sql_error_set(err, jb->arena, SQL_STATE_UNDEFINED_COLUMN,
                      "column \"%s\" specified in USING clause does not exist in %s table", name,
                      side);
    else if (*out == -2)
        sql_error_set(err, jb->arena, SQL_STATE_AMBIGUOUS_COLUMN,
                      "common column name \"%s\" appears more than once in %s table", name, side);
    return *out < 0 ? -1 : 0;
}

/* `l = r` over slots l and r, bound like any comparison (42883 when
 * the types have no equality). */
static int using_equality(sql__joinbind *jb, int l, int r, int location, const sql_bexpr **out,
                          sql_error *err)
{
    sql_scope_col two[2] = {{"l", jb->cols[l].type, false}, {"r", jb->cols[r].type, false}};
    sql_scope scope = {.table = "", .cols = two, .ncols = 2};
    sql_expr cl = {.kind = SQL_EXPR_COLUMN, .location = location, .column = "l"};
    sql_expr cr = {.kind = SQL_EXPR_COLUMN, .location = location, .column = "r"};
    sql_expr eq = {
        .kind = SQL_EXPR_OP, .location = location, .name = "=", .left = &cl, .right = &cr};
    sql_bind_ctx bc = {.arena = jb->arena,
                       .query = jb->ctx->query,
                       .scope = &scope,
                       .params = jb->ctx->params,
                       .clause = "JOIN/USING"};
    sql_bexpr *b;
    int map[2] = {l, r};
    if (sql_expr_bind(&bc, &eq, type_bool, &b, err) != 0)
        return -1;
    *out = remap(jb->arena, b, map, 0);
    return *out ? 0 : sql__oom(jb->arena, err);
}

/* The column names NATURAL joins on: the left side's that the right
 * side has too. */
static int natural_names(sql__joinbind *jb, const int *ls, int nl, const int *rs, int nr,
                         const char ***names, int *n, sql_error *err)
{
    *names = kv_arena_alloc(jb->arena, (size_t)(nl + 1) * sizeof(**names));
    if (*names == NULL)
        return sql__oom(jb->arena, err);
    *n = 0;
    for (int i = 0; i < nl; i++) {
        const char *name = jb->cols[ls[i]].name;
        bool dup = false;
        for (int j = 0; j < *n; j++)
            dup |= strcmp((*names)[j], name) == 0;
        if (!dup && find_named(jb, rs, nr, name) != -1)
            (*names)[(*n)++] = name;
    }
    return 0;
}

/* The slot a merged column's value comes from when no node computes it. */
static int base_slot(const sql__joinbind *jb, int s)
{
    return jb->copy_from[s] >= 0 ? jb->copy_from[s] : s;
}

static int merge_column(sql__joinbind *jb, ftree *t, int m, const char *name, sql_error *err)
{
    int l = t->from[2 * m], r = t->from[2 * m + 1];
    sql_join_kind k = t->f->join;
    if (k == SQL_JOIN_FULL && jb->cols[l].type.oid != jb->cols[r].type.oid) {
        sql_error_set(err, jb->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "FULL JOIN USING columns of different types is not supported yet");
        return error_at(jb, err, t->f->location);
    }
    int copy = k == SQL_JOIN_FULL ? -1 : base_slot(jb, k == SQL_JOIN_RIGHT ? r : l);
    t->merged[m] = jb->ncols;
    add_slot(jb, (sql_scope_col){name, jb->cols[k == SQL_JOIN_RIGHT ? r : l].type, false}, copy);
    return 0;
}

static int bind_using(sql__joinbind *jb, ftree *t, sql_error *err)
{
    const sql_from *f = t->f;
    int *ls = kv_arena_alloc(jb->arena, (size_t)(jb->maxcols + 1) * 2 * sizeof(int));
    if (ls == NULL)
        return sql__oom(jb->arena, err);
    int *rs = ls + jb->maxcols + 1, nl = 0, nr = 0;
    star_of(jb, t->left, ls, &nl);
    star_of(jb, t->right, rs, &nr);
    const char **names = (const char **)f->using_;
    int n = f->nusing;
    if (f->natural && natural_names(jb, ls, nl, rs, nr, &names, &n, err) != 0)
        return -1;
    t->merged = kv_arena_alloc(jb->arena, (size_t)(3 * n + 1) * sizeof(int));
    t->on = kv_arena_alloc(jb->arena, (size_t)(n + 1) * sizeof(*t->on));
    if (t->merged == NULL || t->on == NULL)
        return sql__oom(jb->arena, err);
    t->from = t->merged + n;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++) {
            if (strcmp(names[i], names[j]) == 0) {
                sql_error_set(err, jb->arena, SQL_STATE_DUPLICATE_COLUMN,
                              "column name \"%s\" appears more than once in USING clause",
                              names[i]);
                return error_at(jb, err, f->location);
            }
        }
        if (using_side(jb, ls, nl, names[i], "left", &t->from[2 * i], err) != 0 ||
            using_side(jb, rs, nr, names[i], "right", &t->from[2 * i + 1], err) != 0)
            return -1;
        if (using_equality(jb, t->from[2 * i], t->from[2 * i + 1], f->location, &t->on[i], err) !=
            0)
            return -1;
    }
    t->non = n;
    t->nmerged = n;
    for (int i = 0; i < n; i++)
        if (merge_column(jb, t, i, names[i], err) != 0)
            return -1;
    if (n > 0)
        jb->rels[jb->nrels++] =
            (sql_scope_rel){.first = t->merged[0], .ncols = n, .hides = t->from, .nhides = 2 * n};
    return 0;
}

/* ON, bound over the join's own relations. */
static int bind_on(sql__joinbind *jb, ftree *t, sql_error *err)
{
    sql_scope view = {.cols = jb->cols,
                      .ncols = jb->ncols,
                      .rels = jb->rels,
                      .nrels = jb->nrels,
                      .first_rel = t->left->rlo,
                      .outer = jb->outer,
                      .outer_used = jb->outer_used};
    sql_bind_ctx bc = {.arena = jb->arena,
                       .query = jb->ctx->query,
                       .scope = &view,
                       .params = jb->ctx->params,
                       .clause = "JOIN/ON",
                       .agg_clause = "JOIN conditions",
                       .subquery = jb->hooks->subquery,
                       .subquery_arg = jb->hooks->arg};
    sql_bexpr *b;
    t->on = kv_arena_alloc(jb->arena, sizeof(*t->on));
    if (t->on == NULL)
        return sql__oom(jb->arena, err);
    if (sql_expr_bind(&bc, t->f->on, type_bool, &b, err) != 0)
        return -1;
    t->on[0] = b;
    t->non = 1;
    return 0;
}

/* Pass 2: slots and relations in post-order, then ON and USING. */
static int bind_tree(sql__joinbind *jb, ftree *t, sql_error *err)
{
    if (!t->f->is_join)
        return bind_leaf(jb, t, err);
    if (bind_tree(jb, t->left, err) != 0 || bind_tree(jb, t->right, err) != 0)
        return -1;
    t->rlo = t->left->rlo;
    int rc = t->f->on ? bind_on(jb, t, err) : bind_using(jb, t, err);
    t->rhi = jb->nrels;
    return rc;
}

static int alloc_binding(sql__joinbind *jb, sql_error *err)
{
    size_t n = (size_t)jb->maxcols + 1;
    jb->rels = kv_arena_alloc(jb->arena, (size_t)(jb->maxrels + 1) * sizeof(*jb->rels));
    jb->cols = kv_arena_alloc(jb->arena, n * sizeof(*jb->cols));
    jb->slot_rel = kv_arena_alloc(jb->arena, n * sizeof(int));
    jb->copy_from = kv_arena_alloc(jb->arena, n * sizeof(int));
    if (jb->rels == NULL || jb->cols == NULL || jb->slot_rel == NULL || jb->copy_from == NULL)
        return sql__oom(jb->arena, err);
    if (jb->maxrels > MAX_RELS)
        return sql_error_set(err, jb->arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                             "too many tables in FROM (at most %d)", MAX_RELS / 2);
    return 0;
}

static int bind_from(sql__joinbind *jb, sql_from *const *items, sql_error *err)
{
    for (int i = 0; i < jb->nitems; i++)
        if (open_tables(jb, items[i], &jb->items[i], err) != 0)
            return -1;
    if (alloc_binding(jb, err) != 0)
        return -1;
    for (int i = 0; i < jb->nitems; i++)
        if (bind_tree(jb, jb->items[i], err) != 0)
            return -1;
    jb->scope = (sql_scope){.table = "",
                            .cols = jb->cols,
                            .ncols = jb->ncols,
                            .rels = jb->rels,
                            .nrels = jb->nrels,
                            .outer = jb->outer,
                            .outer_used = jb->outer_used};
    return 0;
}

int sql__join_from(sql_plan_ctx *ctx, const sql__join_hooks *hooks, kv_arena *arena,
                   sql_from *const *items, int n, const sql_scope *outer, bool *outer_used,
                   sql__joinbind **out, const sql_scope **scope, sql_error *err)
{
    sql__joinbind *jb = kv_arena_alloc(arena, sizeof(*jb));
    if (jb == NULL)
        return sql__oom(arena, err);
    *jb = (sql__joinbind){.ctx = ctx,
                          .hooks = hooks,
                          .arena = arena,
                          .nitems = n,
                          .outer = outer,
                          .outer_used = outer_used};
    int leaves = 0;
    for (int i = 0; i < n; i++)
        leaves += count_leaves(items[i]);
    jb->scans = kv_arena_alloc(arena, (size_t)(leaves + 1) * sizeof(*jb->scans));
    jb->scan_first = kv_arena_alloc(arena, (size_t)(leaves + 1) * sizeof(*jb->scan_first));
    jb->items = kv_arena_alloc(arena, (size_t)(n + 1) * sizeof(*jb->items));
    if (jb->scans == NULL || jb->scan_first == NULL || jb->items == NULL)
        return sql__oom(arena, err);
    int rc = bind_from(jb, items, err);
    jb->hooks = NULL; /* borrowed for the call */
    if (rc != 0) {
        sql__join_abandon(jb);
        return -1;
    }
    *out = jb;
    *scope = &jb->scope;
    return 0;
}

void sql__join_abandon(sql__joinbind *jb)
{
    for (int i = 0; jb != NULL && i < jb->nscans; i++)
        sql__plan_free(jb->scans[i]);
    if (jb != NULL)
        jb->nscans = 0;
}

int sql__join_star(const sql__joinbind *jb, const char *table, int location, int **slots, int *n,
                   sql_error *err)
{
    *slots = kv_arena_alloc(jb->arena, (size_t)(jb->ncols + 1) * sizeof(int));
    if (*slots == NULL)
        return sql__oom(jb->arena, err);
    *n = 0;
    if (table == NULL) {
        for (int i = 0; i < jb->nitems; i++)
            star_of(jb, jb->items[i], *slots, n);
        return 0;
    }
    for (int r = 0; r < jb->nrels; r++) {
        const sql_scope_rel *rel = &jb->rels[r];
        if (rel->name == NULL || strcmp(rel_name(rel), table) != 0)
            continue;
        for (int i = rel->first; i < rel->first + rel->ncols; i++)
            if (!jb->cols[i].hidden)
                (*slots)[(*n)++] = i;
        return 0;
    }
    sql_error_set(err, jb->arena, SQL_STATE_UNDEFINED_TABLE,
                  "missing FROM-clause entry for table \"%s\"", table);
    return error_at((sql__joinbind *)jb, err, location);
}

int sql__join_base_slot(const sql__joinbind *jb, int col)
{
    return jb == NULL ? col : base_slot(jb, col);
}

bool sql__join_table_of(const sql__joinbind *jb, int col, int *first, const sql_plan **scan)
{
    for (int i = 0; i < jb->nbound; i++) {
        const sql_plan *p = jb->scans[i];
        if (p->table && col >= jb->scan_first[i] && col < jb->scan_first[i] + leaf_width(p)) {
            *first = jb->scan_first[i];
            *scan = p;
            return true;
        }
    }
    return false;
}

const char *sql__scope_col_rel(const sql_scope *scope, int col)
{
    for (int r = 0; r < scope->nrels; r++) {
        const sql_scope_rel *rel = &scope->rels[r];
        if (col >= rel->first && col < rel->first + rel->ncols)
            return rel->name ? rel_name(rel) : NULL;
    }
    return scope->alias ? scope->alias : scope->table;
}

/* ---- planning -------------------------------------------------------- */

typedef struct unit {
    ftree *t;
    relset rels;
    sql__jnode *node;
} unit;

static int plan_tree(sql__joinbind *jb, ftree *t, clist *extra, sql__jnode **out, sql_error *err);

static sql__jnode *new_node(sql__joinbind *jb, sql_error *err)
{
    sql__jnode *n = kv_arena_alloc(jb->arena, sizeof(*n));
    if (n == NULL)
        sql__oom(jb->arena, err);
    else
        *n = (sql__jnode){.method = SQL__JOIN_SCAN};
    return n;
}

/* Rows a table's access path yields, for ordering only: no statistics
 * yet, so the path's shape decides. */
static double scan_rows(const sql_plan *p)
{
    const sql__path *path = &p->path;
    double rows = path->kind == SQL__PATH_POINT || path->kind == SQL__PATH_UNIQUE ? 1
                  : path->kind == SQL__PATH_POINTS                                ? path->nin
                  : path->neq > 0                                                 ? 10
                  : path->lo || path->hi                                          ? 300
                                                                                  : 1000;
    return p->filter ? rows / 3 : rows;
}

static int plan_leaf(sql__joinbind *jb, ftree *t, const clist *cl, sql__jnode **out, sql_error *err)
{
    const sql_bexpr **conj = kv_arena_alloc(jb->arena, (size_t)(cl->n + 1) * sizeof(*conj));
    int *slots = kv_arena_alloc(jb->arena, (size_t)(t->ncols + 1) * sizeof(*slots));
    sql__jnode *n = new_node(jb, err);
    if (conj == NULL || slots == NULL || n == NULL)
        return sql__oom(jb->arena, err);
    for (int i = 0; i < cl->n; i++)
        if ((conj[i] = remap(jb->arena, cl->v[i].e, NULL, -t->first)) == NULL)
            return sql__oom(jb->arena, err);
    if (t->scan->table == NULL) { /* the conjuncts filter the plan's result rows */
        t->scan->filter = and_of(jb->arena, conj, cl->n);
        if (cl->n > 1 && t->scan->filter == NULL)
            return sql__oom(jb->arena, err);
    } else if (sql__scan_path(jb->ctx, t->scan, conj, cl->n, jb->arena, err) != 0)
        return -1;
    for (int i = 0; i < t->ncols; i++)
        slots[i] = t->first + i;
    *n = (sql__jnode){.method = SQL__JOIN_SCAN,
                      .scan = t->scan,
                      .name = rel_name(&jb->rels[t->rlo]),
                      .first = t->first,
                      .slots = slots,
                      .nslots = t->ncols,
                      .rows = t->scan->table ? scan_rows(t->scan) : 1000};
    *out = n;
    return 0;
}

static int add_conj(sql__joinbind *jb, clist *cl, conj c, sql_error *err)
{
    if (grow(jb->arena, (void **)&cl->v, &cl->cap, cl->n, sizeof(*cl->v), err) != 0)
        return -1;
    cl->v[cl->n++] = c;
    return 0;
}

/* Whether `c` is `x = y` with x over `a` and y over `b` (or reversed):
 * its sides into *ka, *kb. */
static bool key_pair(const sql__joinbind *jb, const conj *c, relset a, relset b,
                     const sql_bexpr **ka, const sql_bexpr **kb)
{
    const sql_bexpr *e = c->e;
    if (e->kind != SQL_BEXPR_CMP || e->cmp != SQL_CMP_EQ || e->nargs != 2)
        return false;
    for (int side = 0; side < 2; side++) {
        relset x = {{0}}, y = {{0}};
        expr_rels(jb, e->args[side], &x);
        expr_rels(jb, e->args[1 - side], &y);
        if (!relset_empty(x) && !relset_empty(y) && relset_subset(x, a) && relset_subset(y, b)) {
            *ka = e->args[side];
            *kb = e->args[1 - side];
            return true;
        }
    }
    return false;
}

/* The slots of both sides (and a FULL join's merged ones). */
static int join_slots(sql__joinbind *jb, sql__jnode *n, const sql__jnode *l, const sql__jnode *r,
                      sql_error *err)
{
    int *slots =
        kv_arena_alloc(jb->arena, (size_t)(l->nslots + r->nslots + n->nmerged + 1) * sizeof(int));
    if (slots == NULL)
        return sql__oom(jb->arena, err);
    memcpy(slots, l->slots, (size_t)l->nslots * sizeof(int));
    memcpy(slots + l->nslots, r->slots, (size_t)r->nslots * sizeof(int));
    if (n->nmerged > 0)
        memcpy(slots + l->nslots + r->nslots, n->merged, (size_t)n->nmerged * sizeof(int));
    n->slots = slots;
    n->nslots = l->nslots + r->nslots + n->nmerged;
    return 0;
}

/* A join's conjuncts sorted: equalities across the sides (lk[i] over
 * the left, rk[i] over the right, compared in types[i], conjunct
 * keyconj[i]) and the rest. */
typedef struct joinconds {
    const sql_bexpr **lk, **rk, **keyconj, **cond;
    sql_type *types;
    int nkeys, ncond;
} joinconds;

static int sort_conds(sql__joinbind *jb, relset lr, relset rr, const clist *on, joinconds *jc,
                      sql_error *err)
{
    size_t sz = (size_t)(on->n + 1) * sizeof(void *);
    *jc = (joinconds){.lk = kv_arena_alloc(jb->arena, sz),
                      .rk = kv_arena_alloc(jb->arena, sz),
                      .keyconj = kv_arena_alloc(jb->arena, sz),
                      .cond = kv_arena_alloc(jb->arena, 2 * sz),
                      .types = kv_arena_alloc(jb->arena, (size_t)(on->n + 1) * sizeof(sql_type))};
    if (!jc->lk || !jc->rk || !jc->keyconj || !jc->cond || !jc->types)
        return sql__oom(jb->arena, err);
    for (int i = 0; i < on->n; i++) {
        if (key_pair(jb, &on->v[i], lr, rr, &jc->lk[jc->nkeys], &jc->rk[jc->nkeys])) {
            jc->keyconj[jc->nkeys] = on->v[i].e;
            jc->types[jc->nkeys++] = (sql_type){on->v[i].e->cmp_type, -1};
        } else {
            jc->cond[jc->ncond++] = on->v[i].e;
        }
    }
    return 0;
}

/* Whether a comparison in type `cmp` can look up a key column of type
 * `col` (the key is encoded in the column's type). */
static bool lookup_type(sql_type_id cmp, sql_type_id col)
{
    bool text =
        (cmp == SQL_T_TEXT || cmp == SQL_T_VARCHAR) && (col == SQL_T_TEXT || col == SQL_T_VARCHAR);
    return cmp == col || text;
}

/* The leading columns cols[0..ncols) (table positions) of leaf `in`
 * that equalities bind to the other side: their values over the other
 * side into look[], the keys used marked in used[] (cleared first). */
static int key_cols(const sql__jnode *in, const joinconds *jc, bool in_left, const int *cols,
                    uint32_t ncols, const sql_bexpr **look, bool *used)
{
    const sql_plan *p = in->scan;
    memset(used, 0, (size_t)jc->nkeys + 1);
    uint32_t k = 0;
    for (; k < ncols; k++) {
        int slot = in->first + cols[k];
        int found = -1;
        for (int i = 0; i < jc->nkeys && found < 0; i++) {
            const sql_bexpr *ie = in_left ? jc->lk[i] : jc->rk[i];
            if (!used[i] && ie->kind == SQL_BEXPR_COLUMN && ie->column == slot &&
                lookup_type(jc->types[i].oid, p->table->cols[cols[k]].type.oid))
                found = i;
        }
        if (found < 0)
            break;
        used[found] = true;
        look[k] = in_left ? jc->rk[found] : jc->lk[found];
    }
    return (int)k;
}

/* One way to look the rows of a leaf up: through the primary key (ix
 * -1) or secondary index ix, by its first k columns (look[], the keys
 * used in used[]); `whole`: every column of a unique key, one row per
 * lookup. */
typedef struct lookway {
    int ix, k;
    bool whole;
    const sql_bexpr **look;
    bool *used;
} lookway;

static int lookway_alloc(sql__joinbind *jb, const joinconds *jc, lookway *w)
{
    w->look = kv_arena_alloc(jb->arena, (size_t)(jc->nkeys + 1) * sizeof(*w->look));
    w->used = kv_arena_alloc(jb->arena, (size_t)jc->nkeys + 1);
    return w->look && w->used ? 0 : -1;
}

/* The secondary index of leaf `in` whose leading columns the
 * equalities bind best into *best: a whole unique key first, then the
 * most columns; best->k 0 when none fits. */
static int best_index(sql__joinbind *jb, const sql__jnode *in, const joinconds *jc, bool in_left,
                      lookway *best)
{
    const sql_plan *p = in->scan;
    lookway w;
    if (lookway_alloc(jb, jc, &w) != 0)
        return -1;
    best->k = 0;
    best->whole = false;
    for (uint32_t x = 0; x < p->table->nindexes; x++) {
        const sql_index_desc *ix = &p->table->indexes[x];
        w.ix = (int)x;
        w.k = key_cols(in, jc, in_left, p->rc.ix_cols[x], ix->ncols, w.look, w.used);
        w.whole = ix->unique && (uint32_t)w.k == ix->ncols;
        if (w.k > 0 && (w.whole > best->whole || (w.whole == best->whole && w.k > best->k))) {
            lookway spare = *best;
            *best = w;
            w.look = spare.look;
            w.used = spare.used;
        }
    }
    return 0;
}

/* The leaf plan of `in` (the binding's own, which it may change). */
static sql_plan *leaf_plan(sql__joinbind *jb, const sql__jnode *in)
{
    for (int i = 0; i < jb->nscans; i++)
        if (jb->scans[i] == in->scan)
            return jb->scans[i];
    assert(!"a leaf outside the binding");
    return NULL;
}

/* How leaf `in` is looked up for the rows of `out`: by its pk when the
 * equalities bind its leading columns and `out` is not larger; else
 * through the secondary index they bind best when `out` has at most
 * half as many rows (entries, then rows: two KV rounds per batch, and
 * whether the index covers the query is known only at projection).
 * w->k 0: no lookup (also when the leaf's own conditions chose an
 * access path). */
static int choose_lookup(sql__joinbind *jb, const sql__jnode *out, const sql__jnode *in,
                         bool in_left, const joinconds *jc, lookway *w)
{
    w->k = 0;
    if (in->method != SQL__JOIN_SCAN || in->scan->table == NULL) /* no table: nothing keyed */
        return 0;
    const sql_plan *p = in->scan;
    if (p->path.kind != SQL__PATH_SPAN || p->path.neq > 0 || p->path.lo || p->path.hi)
        return 0;
    if (lookway_alloc(jb, jc, w) != 0)
        return -1;
    w->ix = -1;
    w->k = key_cols(in, jc, in_left, p->rc.pk_cols, p->table->primary.ncols, w->look, w->used);
    w->whole = (uint32_t)w->k == p->table->primary.ncols;
    if (w->k == 0 && best_index(jb, in, jc, in_left, w) != 0)
        return -1;
    if (out->rows > (w->ix < 0 ? in->rows : in->rows / 2))
        w->k = 0;
    return 0;
}

/* A join that looks the rows of leaf `in` up by primary key or through
 * a secondary index for each batch of outer rows; false when `in`
 * cannot be looked up. A lookup through an index makes the leaf's
 * access path that index (neq 0: its key comes from the outer rows), so
 * that projection may find it index-only and EXPLAIN names it. */
static bool try_lookup(sql__joinbind *jb, sql__jnode *n, const sql__jnode *out,
                       const sql__jnode *in, bool in_left, joinconds *jc)
{
    lookway w;
    if (choose_lookup(jb, out, in, in_left, jc, &w) != 0 || w.k == 0)
        return false;
    for (int i = 0; i < jc->nkeys; i++)
        if (!w.used[i])
            jc->cond[jc->ncond++] = jc->keyconj[i];
    if (w.ix >= 0)
        leaf_plan(jb, in)->path = (sql__path){.kind = SQL__PATH_INDEX, .ix = (uint32_t)w.ix};
    *n = (sql__jnode){.method = SQL__JOIN_LOOKUP,
                      .kind = n->kind,
                      .outer = out,
                      .inner = in,
                      .inner_left = in_left,
                      .lookup = w.look,
                      .nlookup = w.k,
                      .prefix = !w.whole,
                      .rows = w.whole ? out->rows : out->rows * 10};
    return true;
}

/* Joins l (relations lr) and r (rr) on the conjuncts in `on`: a lookup
 * of one side's rows by primary key when the equalities bind its key,
 * else a hash join on the equalities (nested loop without any), holding
 * the smaller side in memory; the other conjuncts are the condition. */
static int make_join(sql__joinbind *jb, sql_join_kind kind, sql__jnode *l, relset lr, sql__jnode *r,
                     relset rr, const clist *on, sql__jnode **out, sql_error *err)
{
    sql__jnode *n = new_node(jb, err);
    joinconds jc;
    if (n == NULL || sort_conds(jb, lr, rr, on, &jc, err) != 0)
        return -1;
    n->kind = kind;
    bool right_inner = kind == SQL_JOIN_INNER || kind == SQL_JOIN_LEFT;
    bool left_inner = kind == SQL_JOIN_INNER || kind == SQL_JOIN_RIGHT;
    if (!(right_inner && try_lookup(jb, n, l, r, false, &jc)) &&
        !(left_inner && try_lookup(jb, n, r, l, true, &jc))) {
        bool inner_left = l->rows < r->rows;
        *n = (sql__jnode){.method = jc.nkeys > 0 ? SQL__JOIN_HASH : SQL__JOIN_NESTED,
                          .kind = kind,
                          .outer = inner_left ? r : l,
                          .inner = inner_left ? l : r,
                          .inner_left = inner_left,
                          .okeys = inner_left ? jc.rk : jc.lk,
                          .ikeys = inner_left ? jc.lk : jc.rk,
                          .keytypes = jc.types,
                          .nkeys = jc.nkeys,
                          .rows = jc.nkeys > 0 ? (l->rows > r->rows ? l->rows : r->rows)
                                               : l->rows * r->rows};
    }
    n->cond = and_of(jb->arena, jc.cond, jc.ncond);
    if (jc.ncond > 1 && n->cond == NULL)
        return sql__oom(jb->arena, err);
    *out = n;
    return join_slots(jb, n, l, r, err);
}

/* Moves the conjuncts of `from` over relations `rels` to `to`. */
static int take_over(sql__joinbind *jb, clist *from, relset rels, clist *to, sql_error *err)
{
    int keep = 0;
    for (int i = 0; i < from->n; i++) {
        if (relset_subset(from->v[i].rels, rels)) {
            if (add_conj(jb, to, from->v[i], err) != 0)
                return -1;
        } else {
            from->v[keep++] = from->v[i];
        }
    }
    from->n = keep;
    return 0;
}

/* The units of the group rooted at t: tables and outer joins below inner
 * joins; the inner joins' ON conjuncts go to `pool`. */
static int collect_units(sql__joinbind *jb, ftree *t, unit **units, int *n, int *cap, clist *pool,
                         sql_error *err)
{
    if (t->f->is_join && t->f->join == SQL_JOIN_INNER) {
        for (int i = 0; i < t->non; i++)
            if (add_conjuncts(jb, pool, t->on[i], relset_range(t->rlo, t->rhi), err) != 0)
                return -1;
        return collect_units(jb, t->left, units, n, cap, pool, err) != 0 ||
                       collect_units(jb, t->right, units, n, cap, pool, err) != 0
                   ? -1
                   : 0;
    }
    if (grow(jb->arena, (void **)units, cap, *n, sizeof(**units), err) != 0)
        return -1;
    (*units)[(*n)++] = (unit){.t = t, .rels = relset_range(t->rlo, t->rhi)};
    return 0;
}

/* Plans each unit with the conjuncts over its own relations (those
 * over none go to the first unit). */
static int plan_units(sql__joinbind *jb, unit *units, int n, clist *pool, sql_error *err)
{
    for (int u = 0; u < n; u++) {
        clist mine = {0};
        relset rels = units[u].rels;
        if (take_over(jb, pool, rels, &mine, err) != 0 ||
            plan_tree(jb, units[u].t, &mine, &units[u].node, err) != 0)
            return -1;
    }
    return 0;
}

/* The next unit to join to `cur`: the smallest connected one, else the
 * smallest. */
static int next_unit(const unit *units, int n, const bool *used, relset cur, const clist *pool)
{
    int best = -1;
    bool best_conn = false;
    for (int u = 0; u < n; u++) {
        if (used[u])
            continue;
        bool conn = false;
        relset both = relset_union(cur, units[u].rels);
        for (int i = 0; i < pool->n && !conn; i++)
            conn = relset_subset(pool->v[i].rels, both) &&
                   relset_meets(pool->v[i].rels, units[u].rels) &&
                   relset_meets(pool->v[i].rels, cur);
        if (best < 0 || (conn && !best_conn) ||
            (conn == best_conn && units[u].node->rows < units[best].node->rows)) {
            best = u;
            best_conn = conn;
        }
    }
    return best;
}

/* A group of units joined by inner joins, greedily ordered. */
static int plan_group(sql__joinbind *jb, unit *units, int n, clist *pool, sql__jnode **out,
                      sql_error *err)
{
    bool *used = kv_arena_alloc(jb->arena, (size_t)n + 1);
    if (used == NULL)
        return sql__oom(jb->arena, err);
    memset(used, 0, (size_t)n + 1);
    if (plan_units(jb, units, n, pool, err) != 0)
        return -1;
    relset none = {{0}};
    int first = next_unit(units, n, used, none, pool);
    used[first] = true;
    sql__jnode *cur = units[first].node;
    relset cur_rels = units[first].rels;
    for (int k = 1; k < n; k++) {
        int u = next_unit(units, n, used, cur_rels, pool);
        used[u] = true;
        relset both = relset_union(cur_rels, units[u].rels);
        clist on = {0};
        if (take_over(jb, pool, both, &on, err) != 0 ||
            make_join(jb, SQL_JOIN_INNER, cur, cur_rels, units[u].node, units[u].rels, &on, &cur,
                      err) != 0)
            return -1;
        cur_rels = both;
    }
    *out = cur;
    return 0;
}

/* An outer join: ON and WHERE conjuncts pushed to the side they may
 * filter, the rest its condition and output filter. A FULL join pushes
 * nothing: both its sides are preserved and nullable. */
static int plan_outer(sql__joinbind *jb, ftree *t, clist *extra, sql__jnode **out, sql_error *err)
{
    sql_join_kind k = t->f->join;
    relset lr = relset_range(t->left->rlo, t->left->rhi);
    relset rr = relset_range(t->right->rlo, t->right->rhi);
    clist on = {0}, lpush = {0}, rpush = {0};
    for (int i = 0; i < t->non; i++)
        if (add_conjuncts(jb, &on, t->on[i], relset_range(t->rlo, t->rhi), err) != 0)
            return -1;
    /* WHERE may filter the preserved side early, ON the nullable side */
    bool left = k == SQL_JOIN_LEFT;
    if (k != SQL_JOIN_FULL &&
        (take_over(jb, extra, left ? lr : rr, left ? &lpush : &rpush, err) != 0 ||
         take_over(jb, &on, left ? rr : lr, left ? &rpush : &lpush, err) != 0))
        return -1;
    sql__jnode *l, *r, *n;
    if (plan_tree(jb, t->left, &lpush, &l, err) != 0 ||
        plan_tree(jb, t->right, &rpush, &r, err) != 0)
        return -1;
    if (k == SQL_JOIN_FULL) {
        for (int i = 0; i < 2 * t->nmerged; i++)
            t->from[i] = base_slot(jb, t->from[i]);
    }
    if (make_join(jb, k, l, lr, r, rr, &on, &n, err) != 0)
        return -1;
    if (k == SQL_JOIN_FULL && t->nmerged > 0) {
        n->merged = t->merged;
        n->from = t->from;
        n->nmerged = t->nmerged;
        if (join_slots(jb, n, l, r, err) != 0)
            return -1;
    }
    const sql_bexpr **filter = kv_arena_alloc(jb->arena, (size_t)(extra->n + 1) * sizeof(void *));
    if (filter == NULL)
        return sql__oom(jb->arena, err);
    for (int i = 0; i < extra->n; i++)
        filter[i] = extra->v[i].e;
    n->filter = and_of(jb->arena, filter, extra->n);
    if (extra->n > 1 && n->filter == NULL)
        return sql__oom(jb->arena, err);
    extra->n = 0;
    *out = n;
    return 0;
}

static int plan_tree(sql__joinbind *jb, ftree *t, clist *extra, sql__jnode **out, sql_error *err)
{
    if (!t->f->is_join)
        return plan_leaf(jb, t, extra, out, err);
    if (t->f->join != SQL_JOIN_INNER)
        return plan_outer(jb, t, extra, out, err);
    unit *units = NULL;
    int n = 0, cap = 0;
    if (collect_units(jb, t, &units, &n, &cap, extra, err) != 0)
        return -1;
    return plan_group(jb, units, n, extra, out, err);
}

static int bind_where(sql__joinbind *jb, const sql_expr *where, clist *pool, sql_error *err)
{
    if (where == NULL)
        return 0;
    sql_bind_ctx bc = {.arena = jb->arena,
                       .query = jb->ctx->query,
                       .scope = &jb->scope,
                       .params = jb->ctx->params,
                       .clause = "WHERE",
                       .agg_clause = "WHERE"};
    sql_bexpr *w;
    if (sql_expr_bind(&bc, where, type_bool, &w, err) != 0)
        return -1;
    relset none = {{0}};
    return add_conjuncts(jb, pool, w, none, err);
}

static int make_plan(sql__joinbind *jb, const sql_expr *where, sql__join **out, sql_error *err)
{
    clist pool = {0};
    unit *units = NULL;
    int n = 0, cap = 0;
    jb->base = kv_arena_alloc(jb->arena, (size_t)(jb->ncols + 1) * sizeof(*jb->base));
    if (jb->base == NULL)
        return sql__oom(jb->arena, err);
    for (int s = 0; s < jb->ncols; s++)
        jb->base[s] = base_slot(jb, s);
    if (bind_where(jb, where, &pool, err) != 0)
        return -1;
    for (int i = 0; i < jb->nitems; i++)
        if (collect_units(jb, jb->items[i], &units, &n, &cap, &pool, err) != 0)
            return -1;
    sql__join *j = kv_arena_alloc(jb->arena, sizeof(*j));
    sql_type *types = kv_arena_alloc(jb->arena, (size_t)(jb->ncols + 1) * sizeof(*types));
    if (j == NULL || types == NULL)
        return sql__oom(jb->arena, err);
    for (int s = 0; s < jb->ncols; s++)
        types[s] = jb->cols[s].type;
    *j = (sql__join){.width = jb->ncols,
                     .types = types,
                     .copy_from = jb->copy_from,
                     .scans = jb->scans,
                     .scan_first = jb->scan_first,
                     .nscans = jb->nscans};
    sql__jnode *root;
    if (plan_group(jb, units, n, &pool, &root, err) != 0)
        return -1;
    j->root = root;
    *out = j;
    return 0;
}

int sql__join_plan(sql__joinbind *jb, const sql_expr *where, sql__join **out, sql_error *err)
{
    sql__join *j = NULL;
    if (make_plan(jb, where, &j, err) != 0)
        return -1;
    jb->nscans = 0; /* the plan holds the references now */
    *out = j;
    return 0;
}

/* ---- the plan as a whole ---------------------------------------------- */

/* Marks the slots (of `width`) the joins at and below n read. */
static void mark_node(const sql__jnode *n, bool *needed, size_t width)
{
    if (n->method == SQL__JOIN_SCAN)
        return;
    sql__mark_columns(n->cond, needed, width);
    sql__mark_columns(n->filter, needed, width);
    for (int i = 0; i < n->nkeys; i++) {
        sql__mark_columns(n->okeys[i], needed, width);
        sql__mark_columns(n->ikeys[i], needed, width);
    }
    for (int k = 0; k < n->nlookup; k++)
        sql__mark_columns(n->lookup[k], needed, width);
    for (int i = 0; i < 2 * n->nmerged; i++)
        needed[n->from[i]] = true;
    mark_node(n->outer, needed, width);
    mark_node(n->inner, needed, width);
}

int sql__join_project(sql__join *j, bool *needed, kv_arena *arena, sql_error *err)
{
    mark_node(j->root, needed, (size_t)j->width);
    for (int s = 0; s < j->width; s++)
        if (needed[s] && j->copy_from[s] >= 0)
            needed[j->copy_from[s]] = true;
    for (int i = 0; i < j->nscans; i++) {
        sql_plan *p = j->scans[i];
        bool *mine = needed + j->scan_first[i];
        sql__mark_columns(p->filter, mine, (size_t)leaf_width(p));
        if (p->table == NULL) /* its plan's rows come whole */
            continue;
        p->path.index_only = p->path.kind == SQL__PATH_INDEX && sql__index_covers(p, mine);
        if (sql__rowproj_init(&p->rc, mine, arena, &p->proj, err) != 0 ||
            (p->path.index_only && sql__scan_explain(p, arena, err) != 0))
            return -1;
    }
    return 0;
}

static const char *const kind_names[] = {"inner", "left", "right", "full"};

/* Appends node n's description to buf (NULL: only measures). */
static size_t describe(const sql__jnode *n, char *buf, size_t at, size_t cap)
{
    char *p = buf ? buf + at : NULL;
    size_t room = buf ? cap - at : 0;
    if (n->method == SQL__JOIN_SCAN)
        return at + (size_t)snprintf(p, room, "%s: %s", n->name,
                                     n->scan->explain ? n->scan->explain : "subquery");
    const char *method = n->method == SQL__JOIN_HASH     ? "hash join"
                         : n->method == SQL__JOIN_LOOKUP ? "lookup join"
                                                         : "nested loop";
    at +=
        (size_t)snprintf(p, room, "%s (%s%s%s%s%s) [", method, kind_names[n->kind],
                         n->prefix ? ", key prefix" : "", n->inner_left ? ", inner side left" : "",
                         n->cond ? ", condition" : "", n->filter ? ", filter" : "");
    at = describe(n->outer, buf, at, cap);
    at += (size_t)snprintf(buf ? buf + at : NULL, buf ? cap - at : 0, "; ");
    const sql_plan *ip = n->inner->scan;
    if (n->method == SQL__JOIN_LOOKUP && ip->path.kind == SQL__PATH_INDEX)
        at += (size_t)snprintf(buf ? buf + at : NULL, buf ? cap - at : 0, "%s: %s on %s%s",
                               n->inner->name,
                               ip->path.index_only ? "index only lookup" : "index lookup",
                               ip->table->indexes[ip->path.ix].name, ip->filter ? ", filter" : "");
    else
        at = describe(n->inner, buf, at, cap);
    return at + (size_t)snprintf(buf ? buf + at : NULL, buf ? cap - at : 0, "]");
}

const char *sql__join_describe(const sql__join *j, kv_arena *arena)
{
    size_t n = describe(j->root, NULL, 0, 0);
    char *buf = kv_arena_alloc(arena, n + 1);
    if (buf == NULL)
        return NULL;
    describe(j->root, buf, 0, n + 1);
    return buf;
}

void sql__join_free(const sql__join *j)
{
    for (int i = 0; i < j->nscans; i++)
        sql__plan_free(j->scans[i]);
}

bool sql__join_stale(const sql__join *j, sql_catalog *c)
{
    for (int i = 0; i < j->nscans; i++)
        if (sql__plan_stale(j->scans[i], c))
            return true;
    return false;
}
