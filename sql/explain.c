/*
 * explain.c - EXPLAIN [ANALYZE] (session_int.h, sql__explain).
 *
 * The statement is planned like any other (sql__plan), then described as
 * a small tree of plan nodes, root first, printed the way PostgreSQL
 * prints plans (without costs): the root at the margin, each child on a
 * line "->  " indented under its parent. A node has at most
 * EXPLAIN_KIDS children: a join's two, an Append's branches.
 *
 * The scan node names the path the executor takes (plan_int.h
 * sql__path): `Seq Scan on t` for a full scan of the primary index,
 * `Index Scan [Backward] using t_pkey on t` for primary-key lookups and
 * ranges, `Index Scan using i on t` / `Index Only Scan using i on t` for
 * a secondary index. Joins print as PostgreSQL prints them: `Hash Join`
 * (its held side under `Hash`), `Nested Loop`, and a lookup join as a
 * `Nested Loop` over an `Index Scan` of the inner table's primary key
 * or an `Index [Only] Scan` of the secondary index it looks up
 * (PostgreSQL's parameterised nested loop), with `Left`/`Right`/`Full`
 * for outer joins, outer side first; a FROM subquery is `Subquery Scan`
 * over its own plan (`Subquery Scan on s` as a join's input), VALUES a
 * `Values Scan`, a function `Function Scan on generate_series s`. A set operation is an `Append` of
 * its branches (a chain of UNIONs flattened into one, as PostgreSQL pulls them up), under
 * `HashAggregate` for UNION and `HashSetOp Intersect/Except [All]` (over each branch's `Subquery
 * Scan`) for the others; the executor keeps no figures per branch. Above them come Aggregate,
 * Unique (DISTINCT), Sort and Limit as the plan has them, or Insert/Update/Delete for writes
 * (Insert with ON CONFLICT's Conflict Resolution and Arbiter lines).
 *
 * ANALYZE runs the statement in the session's transaction (its result
 * rows are dropped; its writes stay, as in PostgreSQL) and adds
 * `(actual rows=N time=T ms)`: the scan's rows and its own time
 * (sql_exec_stats), the groups out of Aggregate, and for the nodes above
 * them the rows they pass on and the statement's whole time (inclusive,
 * as PostgreSQL's node times are). Nodes whose count the executor does
 * not keep show no actual figures rather than a guess.
 *
 * Memory: everything lives in the statement arena.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sql/plan_int.h"
#include "sql/plan_join_int.h"
#include "sql/session_int.h"

#define EXPLAIN_KIDS  8
#define EXPLAIN_PROPS 2

const sql_column_info sql__explain_column = {.name = "QUERY PLAN", .type = {SQL_T_TEXT, -1}};

typedef struct xnode {
    const char *label;
    struct xnode *kids[EXPLAIN_KIDS];
    int nkids;
    /* property lines under the label ("Conflict Resolution: UPDATE") */
    const char *props[EXPLAIN_PROPS];
    int nprops;
    bool counted; /* ANALYZE figures known */
    uint64_t rows;
    uint64_t ns;
} xnode;

typedef struct explainer {
    sql__exec *x;
    bool analyze;
    sql_exec_stats stats;
    uint64_t total_ns; /* the whole statement */
    uint64_t out_rows; /* rows it returned or wrote */
} explainer;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A node labelled printf-style over `kid` (NULL: a leaf); NULL on OOM. */
static xnode *node(explainer *e, xnode *kid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static xnode *node(explainer *e, xnode *kid, const char *fmt, ...)
{
    xnode *n = kv_arena_alloc(e->x->arena, sizeof *n);
    char buf[512];
    va_list ap;

    if (!n)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *n = (xnode){.label = kv_arena_strdup(e->x->arena, buf)};
    if (!n->label)
        return NULL;
    if (kid)
        n->kids[n->nkids++] = kid;
    return n;
}

/* The access path as PostgreSQL names its scan nodes; `alias` (NULL:
 * none) follows the table's name when it differs. */
static xnode *path_node(explainer *e, const sql_plan *p, const char *alias)
{
    const sql_table_desc *t = p->table;
    const sql__path *path = &p->path;
    const char *dir = path->reverse ? " Backward" : "";
    const char *as = alias && strcmp(alias, t->name) != 0 ? alias : NULL;

    if (path->kind == SQL__PATH_INDEX)
        return node(e, NULL, "Index%s Scan%s using %s on %s%s%s", path->index_only ? " Only" : "",
                    dir, t->indexes[path->ix].name, t->name, as ? " " : "", as ? as : "");
    if (path->kind == SQL__PATH_UNIQUE)
        return node(e, NULL, "Index Scan using %s on %s%s%s", t->indexes[path->ix].name, t->name,
                    as ? " " : "", as ? as : "");
    if (path->kind == SQL__PATH_SPAN && !path->neq && !path->lo && !path->hi)
        return node(e, NULL, "Seq Scan%s on %s%s%s", dir, t->name, as ? " " : "", as ? as : "");
    return node(e, NULL, "Index Scan%s using %s on %s%s%s", dir, t->primary.name, t->name,
                as ? " " : "", as ? as : "");
}

static xnode *select_tree(explainer *e, const sql_plan *p);
static void uncount(xnode *n);

/* A set-returning function, "Function Scan on generate_series s". */
static xnode *function_node(explainer *e, const sql__srf *f)
{
    const char *name, *alias;
    sql__srf_names(f, &name, &alias);
    return node(e, NULL, "Function Scan on %s%s%s", name, alias ? " " : "", alias ? alias : "");
}

/* A join's leaf without a table: a function, or a subquery (or WITH
 * query) under "Subquery Scan on name". */
static xnode *derived_node(explainer *e, const sql_plan *p, const char *name)
{
    if (p->from->srf)
        return function_node(e, p->from->srf);
    xnode *sub = select_tree(e, p->from);
    if (sub)
        uncount(sub);
    return sub ? node(e, sub, "Subquery Scan on %s", name) : NULL;
}

/* A join (sub)tree, the streaming (outer) side first. When the held
 * side is the join's left operand the roles print swapped, as
 * PostgreSQL prints them: a LEFT join becomes a Right one. The executor
 * keeps no figures per join node, so ANALYZE shows them only above the
 * joins. */
static xnode *join_node(explainer *e, const sql__jnode *j)
{
    static const char *const kinds[] = {[SQL_JOIN_INNER] = "",
                                        [SQL_JOIN_LEFT] = " Left",
                                        [SQL_JOIN_RIGHT] = " Right",
                                        [SQL_JOIN_FULL] = " Full"};
    static const char *const swapped[] = {[SQL_JOIN_INNER] = "",
                                          [SQL_JOIN_LEFT] = " Right",
                                          [SQL_JOIN_RIGHT] = " Left",
                                          [SQL_JOIN_FULL] = " Full"};
    const char *const *kind = j->inner_left ? swapped : kinds;

    if (j->method == SQL__JOIN_SCAN)
        return j->scan->table ? path_node(e, j->scan, j->name) : derived_node(e, j->scan, j->name);
    xnode *outer = join_node(e, j->outer), *inner, *n;
    if (j->method == SQL__JOIN_LOOKUP && j->inner->scan->path.kind == SQL__PATH_INDEX) {
        inner = path_node(e, j->inner->scan, j->inner->name);
    } else if (j->method == SQL__JOIN_LOOKUP) {
        const sql_table_desc *t = j->inner->scan->table;
        const char *as = strcmp(j->inner->name, t->name) != 0 ? j->inner->name : NULL;
        inner = node(e, NULL, "Index Scan using %s on %s%s%s", t->primary.name, t->name,
                     as ? " " : "", as ? as : "");
    } else {
        inner = join_node(e, j->inner);
    }
    if (!outer || !inner)
        return NULL;
    if (j->method == SQL__JOIN_HASH) {
        n = node(e, outer, "Hash%s Join", kind[j->kind]);
        inner = node(e, inner, "Hash");
    } else {
        n = node(e, outer, j->kind == SQL_JOIN_INNER ? "Nested Loop" : "Nested Loop%s Join",
                 kind[j->kind]);
    }
    if (!n || !inner)
        return NULL;
    n->kids[n->nkids++] = inner;
    return n;
}

/* Drops the ANALYZE figures of a subtree the executor counts no rows
 * for on their own. */
static void uncount(xnode *n)
{
    n->counted = false;
    for (int i = 0; i < n->nkids; i++)
        uncount(n->kids[i]);
}

/* Whether branch p of UNION [ALL] `parent` merges into its Append: a
 * UNION without ORDER BY or LIMIT that keeps at least the duplicates the
 * parent keeps, as PostgreSQL's recurse_union_children decides. */
static bool merges(const sql__setop *parent, const sql_plan *p)
{
    const sql__setop *s = p->setop;
    return s && s->op == SQL_SETOP_UNION && (s->all || !parent->all) && !p->sort && !p->limit &&
           !p->offset;
}

/* Adds branch p of UNION `s` (or its own branches, merged) to Append `n`. */
static int append_branch(explainer *e, const sql__setop *s, const sql_plan *p, xnode *n)
{
    if (merges(s, p) && n->nkids + 2 <= EXPLAIN_KIDS)
        return append_branch(e, s, p->setop->left, n) == 0 &&
                       append_branch(e, s, p->setop->right, n) == 0
                   ? 0
                   : -1;
    xnode *kid = select_tree(e, p);
    if (!kid)
        return -1;
    uncount(kid);
    n->kids[n->nkids++] = kid;
    return 0;
}

static xnode *setop_node(explainer *e, const sql__setop *s)
{
    static const char *const ops[] = {
        [SQL_SETOP_INTERSECT] = "Intersect", [SQL_SETOP_EXCEPT] = "Except"};
    xnode *n = node(e, NULL, "Append");
    if (!n)
        return NULL;
    if (s->op == SQL_SETOP_UNION) {
        if (append_branch(e, s, s->left, n) != 0 || append_branch(e, s, s->right, n) != 0)
            return NULL;
        return s->all ? n : node(e, n, "HashAggregate");
    }
    for (int i = 0; i < 2; i++) {
        xnode *kid = select_tree(e, i == 0 ? s->left : s->right);
        if (!kid || !(kid = node(e, kid, "Subquery Scan on \"*SELECT* %d\"", i + 1)))
            return NULL;
        uncount(kid);
        n->kids[n->nkids++] = kid;
    }
    return node(e, n, "HashSetOp %s%s", ops[s->op], s->all ? " All" : "");
}

/* What a statement reads: its table's access path (with the scan's
 * ANALYZE figures), its joins, a FROM subquery, or nothing. */
static xnode *scan_node(explainer *e, const sql_plan *p)
{
    if (p->join)
        return join_node(e, p->join->root);
    if (p->setop)
        return setop_node(e, p->setop);
    if (p->from && p->from->srf) /* pulled up; no figures of its own */
        return function_node(e, p->from->srf);
    if (p->from) {
        /* PostgreSQL pulls a VALUES list up into the query reading it */
        xnode *sub = select_tree(e, p->from);
        return sub && !p->from->nvalues ? node(e, sub, "Subquery Scan") : sub;
    }
    if (p->srf)
        return function_node(e, p->srf);
    if (p->nvalues)
        return node(e, NULL, "Values Scan on \"*VALUES*\"");
    if (!p->table)
        return node(e, NULL, "Result");
    xnode *n = path_node(e, p, NULL);
    if (n) {
        n->counted = e->analyze;
        n->rows = e->stats.scan_rows;
        n->ns = e->stats.scan_ns;
    }
    return n;
}

/* A node of the statement's own figures (rows passed on, whole time). */
static xnode *top(explainer *e, xnode *n)
{
    if (n) {
        n->counted = e->analyze;
        n->rows = e->out_rows;
        n->ns = e->total_ns;
    }
    return n;
}

static xnode *select_tree(explainer *e, const sql_plan *p)
{
    xnode *n = scan_node(e, p);
    if (n && p->agg) {
        n = node(e, n, "%s", p->agg->nkeys ? "HashAggregate" : "Aggregate");
        if (n) {
            n->counted = e->analyze;
            n->rows = e->stats.agg_rows;
            n->ns = e->total_ns;
        }
    }
    if (n && p->distinct)
        n = node(e, n, "HashAggregate");
    if (n && p->sort)
        n = node(e, n, "Sort");
    if (n && p->ndistinct_on)
        n = node(e, n, "Unique");
    if (n && (p->limit || p->offset))
        n = node(e, n, "Limit");
    return n && !n->counted ? top(e, n) : n;
}

/* ON CONFLICT's lines under Insert, as PostgreSQL prints them (its
 * DO UPDATE WHERE, a filter, is not printed, like other filters). */
static xnode *conflict_props(explainer *e, xnode *n, const sql__conflict *c, const sql_plan *p)
{
    const char *arbiter = c->arbiter == SQL__ARBITER_PK ? p->table->primary.name
                          : c->arbiter >= 0             ? p->table->indexes[c->arbiter].name
                                                        : NULL;
    char buf[320];

    n->props[n->nprops++] =
        c->update ? "Conflict Resolution: UPDATE" : "Conflict Resolution: NOTHING";
    if (arbiter == NULL)
        return n;
    snprintf(buf, sizeof buf, "Conflict Arbiter Indexes: %s", arbiter);
    if ((n->props[n->nprops++] = kv_arena_strdup(e->x->arena, buf)) == NULL)
        return NULL;
    return n;
}

static xnode *plan_tree(explainer *e, const sql_plan *p)
{
    static const char *const verb[] = {
        [SQL_STMT_INSERT] = "Insert", [SQL_STMT_UPDATE] = "Update", [SQL_STMT_DELETE] = "Delete"};

    if (p->kind == SQL_STMT_SELECT)
        return select_tree(e, p);
    xnode *kid = p->kind == SQL_STMT_INSERT ? node(e, NULL, "Result") : scan_node(e, p);
    if (kid && p->kind == SQL_STMT_INSERT) {
        kid->counted = e->analyze;
        kid->rows = (uint64_t)p->nrows;
    }
    xnode *n = kid ? node(e, kid, "%s on %s", verb[p->kind], p->table->name) : NULL;
    if (n && p->conflict)
        n = conflict_props(e, n, p->conflict, p);
    return n ? top(e, n) : NULL;
}

static int emit_line(explainer *e, const char *line)
{
    sql_datum d = {.v.s = {(const uint8_t *)line, strlen(line)}};
    return sql__emit_row(e->x, &sql__explain_column, &d, 1);
}

/* Prints n and its children; the root at the margin, a child's arrow
 * under its parent's label as PostgreSQL indents them. */
static int print(explainer *e, const xnode *n, int depth)
{
    char buf[640];
    int indent = depth ? 6 * (depth - 1) + 2 : 0;
    int len = snprintf(buf, sizeof buf, "%*s%s%s", indent, "", depth ? "->  " : "", n->label);

    if (n->counted && len < (int)sizeof buf)
        snprintf(buf + len, sizeof buf - (size_t)len, "  (actual rows=%llu time=%.3f ms)",
                 (unsigned long long)n->rows, (double)n->ns / 1e6);
    if (emit_line(e, buf) < 0)
        return -1;
    for (int i = 0; i < n->nprops; i++) {
        snprintf(buf, sizeof buf, "%*s%s", depth ? indent + 6 : 2, "", n->props[i]);
        if (emit_line(e, buf) < 0)
            return -1;
    }
    for (int i = 0; i < n->nkids; i++)
        if (print(e, n->kids[i], depth + 1) < 0)
            return -1;
    return 0;
}

static int discard(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    (void)arg, (void)vals, (void)n, (void)err;
    return 0;
}

/* ANALYZE: runs p, dropping its rows, counting into e. */
static int run(explainer *e, const sql_plan *p)
{
    sql_eval_env env;
    sql_run_ctx ctx;
    bool committed;
    uint64_t t0 = now_ns();

    sql__run_ctx_init(e->x, &ctx, &env, NULL, NULL, discard, NULL);
    ctx.stats = &e->stats;
    int rc = sql__run(p, &ctx, false, e->x->arena, &e->out_rows, &committed, &e->x->err);
    e->total_ns = now_ns() - t0;
    return rc;
}

int sql__explain(sql__exec *x)
{
    explainer e = {.x = x, .analyze = x->st->u.explain.analyze};
    sql_params none = {0};
    sql_plan *p;
    char total[64];

    snprintf(x->tag, sizeof x->tag, "EXPLAIN");
    if (sql__internal_plan(x, x->st->u.explain.stmt, &none, &p) < 0)
        return -1;
    int rc = 0;
    /* the tag verbs that write are all six letters ("INSERT 0") */
    if (e.analyze && x->s->read_only && sql__plan_writes(p))
        rc = sql_error_set(&x->err, x->arena, SQL_STATE_READ_ONLY_SQL_TRANSACTION,
                           "cannot execute %.6s in a read-only transaction", sql__plan_tag(p));
    else if (e.analyze)
        rc = run(&e, p);
    xnode *root = rc == 0 ? plan_tree(&e, p) : NULL;
    if (rc == 0 && !root)
        rc = sql__oom(x->arena, &x->err);
    if (rc == 0)
        rc = print(&e, root, 0);
    if (rc == 0 && e.analyze) {
        snprintf(total, sizeof total, "Execution Time: %.3f ms", (double)e.total_ns / 1e6);
        rc = emit_line(&e, total);
    }
    sql__plan_free(p);
    return rc < 0 ? -1 : 0;
}
