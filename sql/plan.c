/*
 * plan.c - binds a DML statement against the catalog and chooses how to
 * read its rows (sql/exec_int.h; docs/sql.md, "Queries and writes").
 *
 * Access paths come from the conjuncts of the bound WHERE clause:
 *   every pk column = a stable value           -> point lookup (KV_GET)
 *   leading pk columns =, the last one IN (...) -> point lookups, one batch
 *   leading pk columns =, a range on the next   -> span scan
 *   all columns of a UNIQUE index =             -> index entry, then row
 *   leading columns of a secondary index = (or
 *   IS NULL), then IN or a range on the next    -> index scan (entries,
 *                                                  then rows, or index-only)
 *   anything else                               -> full scan of the pk
 * When several apply, path_rank picks one (pk point first, then the key
 * with the most columns by =, ties to the pk).
 * A conjunct serves a key only when the comparison is made in the
 * column's own type (after the binder's implicit casts), because a key
 * is encoded in that type: int4_pk = 2.5 compares in numeric and stays a
 * filter; only an integer column widened to a larger integer type is
 * keyed anyway (the executor narrows the value back). Conjuncts a key
 * serves exactly are dropped from the filter.
 *
 * ORDER BY needs no sort when it follows the index the path reads (or
 * its reverse: the scan runs backwards), and a full scan under a LIMIT
 * reads a secondary index in ORDER BY order instead; otherwise rows are
 * sorted in memory.
 *
 * Subqueries (in expressions, in FROM, WITH queries, INSERT ... SELECT's
 * source) are planned as nested plans kept in the parent's `subs`; an
 * expression subquery's scopes link to the scope it appears in, so its
 * names may resolve outwards (docs/sql.md, "Subqueries").
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/plan_join_int.h"
#include "sql/types_int.h"
#include "sql/vtable.h"

/* What binding one statement needs. */
typedef struct planner {
    sql_plan_ctx *ctx;
    kv_arena *arena;
    sql_plan *p;
    sql_scope scope;       /* the table's columns */
    sql_scope empty;       /* VALUES and DEFAULT see no columns */
    const char *tname;     /* table or alias, for t.* */
    const sql_bexpr **dfl; /* bound DEFAULT per column, lazily */
    bool *dfl_done;
    sql__bindenv env;       /* the input rows, for grouping */
    sql__grouping *group;   /* a grouped SELECT; NULL: none */
    bool limited;           /* the SELECT has a LIMIT */
    const sql_scope *outer; /* a subquery's enclosing scope; NULL: none */
    bool outer_used;        /* a name resolved in `outer` (correlated) */
    bool has_from;          /* FROM a table or a subquery: `scope` is set */
    /* the common table expressions visible here: ctes[0..nctes) of this
     * SELECT, then those of `parent` (the enclosing query's planner);
     * ctes[nctes..nctes + nlater) follow in the same WITH, not visible
     * yet (while a WITH query is planned) */
    const sql_cte *ctes;
    int nctes, nlater;
    sql_plan **cte_plans; /* [nctes + nlater]: a WITH query's shared plan */
    const struct planner *parent;
    sql__joinbind *join; /* FROM with joins (scope: the joined row) */
    sql__join *jplan;    /* its plan, once made (p->join) */
    /* INSERT ... SELECT's source: select-list literals of unknown type
     * take the target columns' types (PostgreSQL's rule), item i
     * unknown_as[i] for i < nunknown_as; else they are text */
    const sql_type *unknown_as;
    int nunknown_as;
} planner;

static int plan_subquery(void *arg, const sql_bind_ctx *bc, const sql_select *s,
                         sql_subquery_info *out, sql_error *err);
static int plan_nested(planner *pl, const planner *parent, const sql_select *s,
                       const sql_scope *outer, const sql_type *unknown_as, int nunknown_as,
                       sql_plan **out, bool *correlated, sql_error *err);

static const sql_type type_bool = {SQL_T_BOOL, -1};
static const sql_type type_int8 = {SQL_T_INT8, -1};
static const sql_type type_unknown = {SQL_T_UNKNOWN, -1};
static const sql_type type_text = {SQL_T_TEXT, -1};

/* Binds `e`; `column` or `clause` name the target in a 42804 (the
 * expression cannot become `want`), as PostgreSQL words it. An aggregate
 * call is 42803 naming `clause`, or for a column's value the statement's
 * VALUES or UPDATE. */
static int bind_as(planner *pl, const sql_scope *scope, const sql_expr *e, sql_type want,
                   const char *column, const char *clause, const sql_bexpr **out, sql_error *err)
{
    sql_bind_ctx bc = {.arena = pl->arena,
                       .query = pl->ctx->query,
                       .scope = scope,
                       .params = pl->ctx->params,
                       .column = column,
                       .clause = clause,
                       .agg_clause = clause                           ? clause
                                     : !column                        ? NULL
                                     : pl->p->kind == SQL_STMT_INSERT ? "VALUES"
                                                                      : "UPDATE",
                       .subquery = plan_subquery,
                       .subquery_arg = pl};
    sql_bexpr *b;
    if (sql_expr_bind(&bc, e, want, &b, err) != 0)
        return -1;
    *out = b;
    return 0;
}

static int bind(planner *pl, const sql_scope *scope, const sql_expr *e, sql_type want,
                const sql_bexpr **out, sql_error *err)
{
    return bind_as(pl, scope, e, want, NULL, NULL, out, err);
}

static int error_at(planner *pl, sql_error *err, int location)
{
    sql_expr_error_position(err, pl->ctx->query, location);
    return -1;
}

/* The scope of the rows a statement reads: its table's or its joined
 * row's columns, or none. */
static const sql_scope *row_scope(const planner *pl)
{
    return pl->has_from || pl->p->table || pl->join ? &pl->scope : &pl->empty;
}

/* ---- table and scope ------------------------------------------------- */

int sql__open_table(sql_catalog *c, sql_txn *t, uint32_t db_id, const sql_name *name,
                    const char *query, kv_arena *arena, const sql_table_desc **out, sql_error *err)
{
    const char *schema = name->schema;
    int rc = 1;
    if (schema == NULL || strcmp(schema, "public") == 0)
        rc = sql_catalog_table(c, t, db_id, name->name, out, err, arena);
    if (rc == 1) {
        sql_error_set(err, arena, SQL_STATE_UNDEFINED_TABLE, "relation \"%s%s%s\" does not exist",
                      schema ? schema : "", schema ? "." : "", name->name);
        if (query != NULL)
            sql_expr_error_position(err, query, name->location);
    }
    return rc == 0 ? 0 : -1;
}

static int open_view(planner *pl, const sql_table_desc *v, const char *alias, sql_error *err);
static int pass_through(planner *pl, sql_error *err);

/* Opens table `name` for the statement, or reads the view it names as
 * a FROM subquery (a write to a view is refused). */
static int open_table(planner *pl, const sql_name *name, const char *alias, sql_error *err)
{
    sql_plan_ctx *c = pl->ctx;
    pl->p->catalog_gen = sql_catalog_generation(c->catalog);
    int rc = sql__vtable_open(name, pl->p->kind, c->query, pl->arena, &pl->p->table, err);
    if (rc == 1)
        rc = sql__open_table(c->catalog, c->txn, c->db_id, name, c->query, pl->arena, &pl->p->table,
                             err);
    if (rc != 0)
        return -1;
    const sql_table_desc *t = pl->p->table;
    if (t->view_query != NULL) {
        /* a write's target is a table: sql__plan rewrote a write to a view */
        assert(pl->p->kind == SQL_STMT_SELECT);
        pl->p->table = NULL;
        return open_view(pl, t, alias, err);
    }
    sql_scope_col *cols = kv_arena_alloc(pl->arena, (t->ncols + 1) * sizeof(*cols));
    pl->dfl = kv_arena_alloc(pl->arena, (t->ncols + 1) * sizeof(*pl->dfl));
    pl->dfl_done = kv_arena_alloc(pl->arena, t->ncols + 1);
    if (cols == NULL || pl->dfl == NULL || pl->dfl_done == NULL)
        return sql__oom(pl->arena, err);
    memset(pl->dfl_done, 0, t->ncols + 1);
    for (uint32_t i = 0; i < t->ncols; i++)
        cols[i] = (sql_scope_col){t->cols[i].name, t->cols[i].type, t->cols[i].hidden};
    pl->scope = (sql_scope){.table = t->name,
                            .alias = alias,
                            .cols = cols,
                            .ncols = (int)t->ncols,
                            .outer = pl->outer,
                            .outer_used = &pl->outer_used};
    pl->tname = alias ? alias : t->name;
    pl->has_from = true;
    return sql__rowcodec_init(&pl->p->rc, t, pl->arena, err);
}

/* The common table expression `name` names, searched outwards; *level is
 * the planner whose WITH holds it, *at its index there. */
static const sql_cte *find_cte(const planner *pl, const char *name, const planner **level, int *at)
{
    for (const planner *q = pl; q != NULL; q = q->parent) {
        for (int i = 0; i < q->nctes; i++) {
            if (strcmp(q->ctes[i].name, name) == 0) {
                *level = q;
                *at = i;
                return &q->ctes[i];
            }
        }
    }
    return NULL;
}

/* FROM a subquery (or a WITH query, `what` names which in 42P10): its
 * result columns, renamed by `names` where given, are the scope, called
 * `alias`. */
static int from_scope(planner *pl, sql_plan *sub, const char *alias, const char *const *names,
                      int nnames, const char *what, sql_error *err)
{
    if (nnames > sub->ntargets) {
        sql_error_set(err, pl->arena, SQL_STATE_INVALID_COLUMN_REFERENCE,
                      "%s \"%s\" has %d columns available but %d columns specified", what, alias,
                      sub->ntargets, nnames);
        return -1;
    }
    sql_scope_col *cols = kv_arena_alloc(pl->arena, ((size_t)sub->ntargets + 1) * sizeof(*cols));
    if (cols == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < sub->ntargets; i++)
        cols[i] = (sql_scope_col){.name = i < nnames ? names[i] : sub->cols[i].name,
                                  .type = sub->cols[i].type};
    pl->scope = (sql_scope){.table = alias,
                            .alias = alias,
                            .cols = cols,
                            .ncols = sub->ntargets,
                            .outer = pl->outer,
                            .outer_used = &pl->outer_used};
    pl->tname = alias;
    pl->has_from = true;
    pl->p->from = sub;
    return 0;
}

/* FROM a view: its query, parsed from the descriptor, planned as a
 * FROM subquery that sees no WITH query or column of this statement
 * (error positions point into the view's text), its columns named as
 * the view's. The subquery's plan keeps the reference to `v`. */
static int open_view(planner *pl, const sql_table_desc *v, const char *alias, sql_error *err)
{
    const sql_select *q;
    sql_plan_ctx in_view = *pl->ctx;
    in_view.query = v->view_query;
    planner vp = {.ctx = &in_view, .arena = pl->arena, .p = pl->p};
    sql_plan *sub;
    bool correlated;
    if (sql__view_query(v, pl->arena, &q, err) != 0 ||
        plan_nested(&vp, NULL, q, NULL, NULL, 0, &sub, &correlated, err) != 0) {
        sql_table_release(v);
        return -1;
    }
    sub->view = v;
    sub->catalog_gen = pl->p->catalog_gen;
    /* columns added to its tables since (SELECT *) are not the view's */
    if (sub->ntargets > (int)v->ncols)
        sub->ntargets = (int)v->ncols;
    const char **names = kv_arena_alloc(pl->arena, ((size_t)v->ncols + 1) * sizeof(*names));
    if (names == NULL)
        return sql__oom(pl->arena, err);
    for (uint32_t i = 0; i < v->ncols; i++)
        names[i] = v->cols[i].name;
    return from_scope(pl, sub, alias ? alias : v->name, names, (int)v->ncols, "view", err);
}

/* Plans FROM subquery `q` (its own FROM looks up WITH queries in
 * `parent`) and opens it as from_scope does; *planned and *correlated
 * tell what it became. */
static int open_subquery(planner *pl, const planner *parent, const sql_select *q, const char *alias,
                         const char *const *names, int nnames, const char *what, sql_plan **planned,
                         bool *correlated, sql_error *err)
{
    if (plan_nested(pl, parent, q, pl->outer, NULL, 0, planned, correlated, err) != 0)
        return -1;
    pl->outer_used |= *correlated;
    return from_scope(pl, *planned, alias, names, nnames, what, err);
}

/* After a 42P01 for `name`: PostgreSQL's detail and hint when it names a
 * later WITH query of a WITH being planned (a forward reference). */
static void forward_reference(const planner *pl, const char *name, sql_error *err)
{
    for (const planner *q = pl; q != NULL; q = q->parent) {
        for (int i = q->nctes; i < q->nctes + q->nlater; i++) {
            if (strcmp(q->ctes[i].name, name) == 0) {
                sql_error_detail(err, pl->arena,
                                 "There is a WITH item named \"%s\", but it cannot be referenced "
                                 "from this part of the query.",
                                 name);
                sql_error_hint(err, pl->arena,
                               "Use WITH RECURSIVE, or re-order the WITH items to remove forward "
                               "references.");
                return;
            }
        }
    }
}

/* What FROM names: a subquery, a WITH query (unqualified names, the
 * innermost first; only the ones before it in its own WITH are visible
 * to it), or a table. An uncorrelated WITH query is planned once and its
 * plan shared by every FROM that reads it (cte_refs), so that it is
 * computed once per execution as in PostgreSQL. */
static int open_from(planner *pl, const sql_select *s, sql_error *err)
{
    sql_plan *sub;
    bool correlated;
    if (s->from_sub != NULL)
        return open_subquery(pl, pl, s->from_sub, s->alias, s->from_cols, s->nfrom_cols, "table",
                             &sub, &correlated, err);
    const planner *level;
    int at;
    const sql_cte *cte = s->from.schema ? NULL : find_cte(pl, s->from.name, &level, &at);
    if (cte == NULL && open_table(pl, &s->from, s->alias, err) != 0) {
        if (err->state == SQL_STATE_UNDEFINED_TABLE && !s->from.schema)
            forward_reference(pl, s->from.name, err);
        return -1;
    }
    if (cte == NULL)
        return 0;
    const char *alias = s->alias ? s->alias : cte->name;
    sql_plan **shared = &level->cte_plans[at];
    if (*shared != NULL) {
        (*shared)->cte_refs++;
        return from_scope(pl, *shared, alias, cte->cols, cte->ncols, "WITH query", err);
    }
    planner before = *level;
    before.nctes = at;
    before.nlater = level->nctes + level->nlater - at;
    if (open_subquery(pl, &before, cte->query, alias, cte->cols, cte->ncols, "WITH query", &sub,
                      &correlated, err) != 0)
        return -1;
    sub->cte_refs = 1;
    if (!correlated)
        *shared = sub;
    return 0;
}

/* The position of column `name`, or 42703 worded for INSERT/UPDATE
 * targets. */
static int target_col(planner *pl, const char *name, int location, int *pos, sql_error *err)
{
    const sql_table_desc *t = pl->p->table;
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (strcmp(t->cols[i].name, name) == 0) {
            *pos = (int)i;
            return 0;
        }
    }
    sql_error_set(err, pl->arena, SQL_STATE_UNDEFINED_COLUMN,
                  "column \"%s\" of relation \"%s\" does not exist", name, t->name);
    return error_at(pl, err, location);
}

/* The bound DEFAULT of column `pos` (NULL: the value NULL). */
static int column_default(planner *pl, int pos, const sql_bexpr **out, sql_error *err)
{
    const sql_col_desc *c = &pl->p->table->cols[pos];
    if (!pl->dfl_done[pos]) {
        pl->dfl[pos] = NULL;
        if (c->default_expr != NULL && bind_as(pl, &pl->empty, c->default_expr, c->type, c->name,
                                               NULL, &pl->dfl[pos], err) != 0)
            return -1;
        pl->dfl_done[pos] = true;
    }
    *out = pl->dfl[pos];
    return 0;
}

/* A value for column `pos` of an INSERT or UPDATE: DEFAULT or `e`
 * assigned to the column's type. */
static int bind_assign(planner *pl, const sql_scope *scope, int pos, const sql_expr *e,
                       const sql_bexpr **out, sql_error *err)
{
    if (e->kind == SQL_EXPR_DEFAULT)
        return column_default(pl, pos, out, err);
    const sql_col_desc *c = &pl->p->table->cols[pos];
    return bind_as(pl, scope, e, c->type, c->name, NULL, out, err);
}

static int bind_checks(planner *pl, sql_error *err)
{
    const sql_table_desc *t = pl->p->table;
    const sql_bexpr **checks = kv_arena_alloc(pl->arena, (t->nchecks + 1) * sizeof(*checks));
    if (checks == NULL)
        return sql__oom(pl->arena, err);
    for (uint32_t i = 0; i < t->nchecks; i++)
        if (bind(pl, &pl->scope, t->checks[i].expr, type_bool, &checks[i], err) != 0)
            return -1;
    pl->p->checks = checks;
    return 0;
}

/* ---- result columns -------------------------------------------------- */

typedef struct targets {
    const sql_bexpr **exprs;
    sql_column_info *cols;
    int n, cap;
} targets;

static int add_target(planner *pl, targets *ts, const sql_bexpr *e, const char *name,
                      sql_error *err)
{
    if (ts->n == ts->cap) {
        int cap = ts->cap ? 2 * ts->cap : 8;
        const sql_bexpr **ex = kv_arena_alloc(pl->arena, cap * sizeof(*ex));
        sql_column_info *cols = kv_arena_alloc(pl->arena, cap * sizeof(*cols));
        if (ex == NULL || cols == NULL)
            return sql__oom(pl->arena, err);
        if (ts->n > 0) {
            memcpy(ex, ts->exprs, ts->n * sizeof(*ex));
            memcpy(cols, ts->cols, ts->n * sizeof(*cols));
        }
        ts->exprs = ex;
        ts->cols = cols;
        ts->cap = cap;
    }
    /* over joins no column names its table (origin 0, as for expressions) */
    int origin = !pl->p->table                 ? -1
                 : pl->group                   ? sql__group_origin(pl->group, e)
                 : e->kind == SQL_BEXPR_COLUMN ? e->column
                                               : -1;
    ts->exprs[ts->n] = e;
    ts->cols[ts->n++] = (sql_column_info){
        .name = name,
        .table_oid = origin >= 0 ? pl->p->table->id : 0,
        .attnum = origin >= 0 ? (int16_t)(origin + 1) : 0,
        .type = e->type,
    };
    return 0;
}

/* Adds the columns slots[0..n) of the scanned row as targets. */
static int add_star_columns(planner *pl, targets *ts, const int *slots, int n, int location,
                            sql_error *err)
{
    for (int i = 0; i < n; i++) {
        const sql_scope_col *c = &pl->scope.cols[slots[i]];
        sql_bexpr *b = kv_arena_alloc(pl->arena, sizeof(*b));
        if (b == NULL)
            return sql__oom(pl->arena, err);
        *b = (sql_bexpr){
            .kind = SQL_BEXPR_COLUMN, .type = c->type, .location = location, .column = slots[i]};
        const sql_bexpr *out = b;
        if ((pl->group && sql__group_output(pl->group, b, &out, err) != 0) ||
            add_target(pl, ts, out, c->name, err) != 0)
            return -1;
    }
    return 0;
}

/* `*` or `t.*`: the visible columns of the FROM item in order (over
 * joins, in PostgreSQL's order for USING). */
static int expand_star(planner *pl, targets *ts, const sql_expr *e, sql_error *err)
{
    const sql_scope *sc = &pl->scope;
    int *slots, n = 0;
    if (pl->join)
        return sql__join_star(pl->join, e->table, e->location, &slots, &n, err) != 0
                   ? -1
                   : add_star_columns(pl, ts, slots, n, e->location, err);
    if (!pl->has_from) {
        sql_error_set(err, pl->arena, SQL_STATE_SYNTAX_ERROR,
                      "SELECT * with no tables specified is not valid");
        return error_at(pl, err, e->location);
    }
    if (e->table != NULL && strcmp(e->table, pl->tname) != 0) {
        sql_error_set(err, pl->arena, SQL_STATE_UNDEFINED_TABLE,
                      "missing FROM-clause entry for table \"%s\"", e->table);
        return error_at(pl, err, e->location);
    }
    if ((slots = kv_arena_alloc(pl->arena, (sc->ncols + 1) * sizeof(*slots))) == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < sc->ncols; i++)
        if (!sc->cols[i].hidden)
            slots[n++] = i;
    return add_star_columns(pl, ts, slots, n, e->location, err);
}

/* An expression of the select list or ORDER BY: over the groups in a
 * grouped query, else over the scanned rows. */
static int bind_output(planner *pl, const sql_scope *scope, const sql_expr *e,
                       const sql_bexpr **out, sql_error *err)
{
    if (pl->group)
        return sql__group_bind(pl->group, e, type_unknown, NULL, out, err);
    /* a SELECT with aggregates is grouped: only RETURNING meets them here */
    const char *clause = pl->p->kind == SQL_STMT_SELECT ? NULL : "RETURNING";
    return bind_as(pl, scope, e, type_unknown, NULL, clause, out, err);
}

/* Select-list item `at`: a literal of unknown type becomes text, as in
 * PostgreSQL's select lists, or the type of the column INSERT ... SELECT
 * assigns it to. */
static int bind_target(planner *pl, const sql_scope *scope, const sql_expr *e, int at,
                       const sql_bexpr **out, sql_error *err)
{
    if (bind_output(pl, scope, e, out, err) != 0)
        return -1;
    if ((*out)->type.oid != SQL_T_UNKNOWN)
        return 0;
    sql_bind_ctx bc = {
        .arena = pl->arena, .query = pl->ctx->query, .scope = scope, .params = pl->ctx->params};
    sql_type want = at < pl->nunknown_as ? pl->unknown_as[at] : type_text;
    sql_bexpr *b;
    if (sql_expr_coerce(&bc, (sql_bexpr *)*out, want, &b, err) != 0)
        return -1;
    *out = b;
    return 0;
}

static int bind_targets(planner *pl, const sql_target *tl, int n, sql_error *err)
{
    targets ts = {0};
    const sql_scope *scope = row_scope(pl);
    for (int i = 0; i < n; i++) {
        const sql_expr *e = tl[i].expr;
        if (e->kind == SQL_EXPR_STAR && e->column == NULL) {
            if (expand_star(pl, &ts, e, err) != 0)
                return -1;
            continue;
        }
        const sql_bexpr *b;
        if (bind_target(pl, scope, e, ts.n, &b, err) != 0)
            return -1;
        const char *name = tl[i].alias ? tl[i].alias : sql_expr_colname(e);
        if (add_target(pl, &ts, b, name, err) != 0)
            return -1;
    }
    pl->p->targets = ts.exprs;
    pl->p->cols = ts.cols;
    pl->p->ntargets = ts.n;
    return 0;
}

/* ---- WHERE: conjuncts and access path -------------------------------- */

typedef struct conjuncts {
    const sql_bexpr **e;
    bool *used; /* served exactly by the key */
    int n, cap;
} conjuncts;

static int collect(planner *pl, conjuncts *cs, const sql_bexpr *e, sql_error *err)
{
    if (e->kind == SQL_BEXPR_AND) {
        for (int i = 0; i < e->nargs; i++)
            if (collect(pl, cs, e->args[i], err) != 0)
                return -1;
        return 0;
    }
    if (cs->n == cs->cap) {
        int cap = cs->cap ? 2 * cs->cap : 8;
        const sql_bexpr **ne = kv_arena_alloc(pl->arena, cap * sizeof(*ne));
        bool *nu = kv_arena_alloc(pl->arena, cap * sizeof(*nu));
        if (ne == NULL || nu == NULL)
            return sql__oom(pl->arena, err);
        if (cs->n > 0) {
            memcpy(ne, cs->e, cs->n * sizeof(*ne));
            memcpy(nu, cs->used, cs->n * sizeof(*nu));
        }
        cs->e = ne;
        cs->used = nu;
        cs->cap = cap;
    }
    cs->used[cs->n] = false;
    cs->e[cs->n++] = e;
    return 0;
}

/* Whether a comparison made in type `cmp` orders like column type `col`
 * in the key (text and varchar share their encoding). */
static bool key_type(sql_type_id cmp, sql_type_id col)
{
    if (cmp == col)
        return true;
    return (cmp == SQL_T_TEXT || cmp == SQL_T_VARCHAR) &&
           (col == SQL_T_TEXT || col == SQL_T_VARCHAR);
}

static bool is_int(sql_type_id t)
{
    return t == SQL_T_INT2 || t == SQL_T_INT4 || t == SQL_T_INT8;
}

/* Whether `c`, a side of a comparison made in type `cmp`, is table
 * column `col` in a form its key serves: the column itself compared in
 * its own type, or an integer column the binder widened with an implicit
 * cast (smallint_pk = 1 compares in integer); the executor narrows such
 * values back to the column's type (exec_scan.c, key_value). */
static bool key_column(const sql_plan *p, const sql_bexpr *c, sql_type_id cmp, int col)
{
    sql_type_id t = p->table->cols[col].type.oid;
    if (c->kind == SQL_BEXPR_COLUMN)
        return c->column == col && key_type(cmp, t);
    return c->kind == SQL_BEXPR_FUNC && c->nargs == 1 && c->args[0]->kind == SQL_BEXPR_COLUMN &&
           c->args[0]->column == col && is_int(t) && is_int(cmp) && c->type.oid == cmp &&
           sql_type_len(t) < sql_type_len(cmp) && c->name != NULL &&
           strcmp(c->name, sql_type_typname(cmp)) == 0;
}

static sql_cmp_op flip(sql_cmp_op op)
{
    switch (op) {
    case SQL_CMP_LT:
        return SQL_CMP_GT;
    case SQL_CMP_LE:
        return SQL_CMP_GE;
    case SQL_CMP_GT:
        return SQL_CMP_LT;
    case SQL_CMP_GE:
        return SQL_CMP_LE;
    default:
        return op;
    }
}

/* `col op value` on table column `col`, normalised so the column is on
 * the left; false when `e` is no such key comparison. */
static bool key_cmp(const sql_plan *p, const sql_bexpr *e, int col, sql_cmp_op *op,
                    const sql_bexpr **value)
{
    if (e->kind != SQL_BEXPR_CMP || e->nargs != 2 || e->cmp == SQL_CMP_NE)
        return false;
    for (int side = 0; side < 2; side++) {
        const sql_bexpr *c = e->args[side], *v = e->args[1 - side];
        if (key_column(p, c, e->cmp_type, col) && sql_expr_is_stable(v)) {
            *op = side == 0 ? e->cmp : flip(e->cmp);
            *value = v;
            return true;
        }
    }
    return false;
}

/* Whether `e` is `col IS NULL`. */
static bool is_null_test(const sql_bexpr *e, int col)
{
    return e->kind == SQL_BEXPR_NULLTEST && !e->negated && e->args[0]->kind == SQL_BEXPR_COLUMN &&
           e->args[0]->column == col;
}

/* The conjunct `col = value` not in used[] (its index, -1: none); with
 * `nulls`, also `col IS NULL`, whose value is the test itself (the
 * executor keys it as NULL, exec_scan.c key_value). */
static int find_eq(const sql_plan *p, const conjuncts *cs, const bool *used, int col, bool nulls,
                   const sql_bexpr **value)
{
    for (int i = 0; i < cs->n; i++) {
        sql_cmp_op op;
        if (!used[i] && key_cmp(p, cs->e[i], col, &op, value) && op == SQL_CMP_EQ)
            return i;
        if (!used[i] && nulls && is_null_test(cs->e[i], col)) {
            *value = cs->e[i];
            return i;
        }
    }
    return -1;
}

/* A conjunct `col IN (stable values)`; marks it in used[]. */
static const sql_bexpr *find_in(const sql_plan *p, const conjuncts *cs, bool *used, int col)
{
    for (int i = 0; i < cs->n; i++) {
        const sql_bexpr *e = cs->e[i];
        if (used[i] || e->kind != SQL_BEXPR_IN || e->negated || e->nargs < 2 ||
            !key_column(p, e->args[0], e->cmp_type, col))
            continue;
        bool stable = true;
        for (int j = 1; j < e->nargs; j++)
            stable &= sql_expr_is_stable(e->args[j]);
        if (stable) {
            used[i] = true;
            return e;
        }
    }
    return NULL;
}

/* The first lower and upper bound conjuncts on `col`, marked in used[]. */
static void find_range(const sql_plan *p, const conjuncts *cs, bool *used, int col, sql__path *path)
{
    for (int i = 0; i < cs->n; i++) {
        sql_cmp_op op;
        const sql_bexpr *v;
        if (used[i] || !key_cmp(p, cs->e[i], col, &op, &v))
            continue;
        bool lower = op == SQL_CMP_GT || op == SQL_CMP_GE;
        bool upper = op == SQL_CMP_LT || op == SQL_CMP_LE;
        if (lower && path->lo == NULL) {
            path->lo = v;
            path->lo_incl = op == SQL_CMP_GE;
            used[i] = true;
        } else if (upper && path->hi == NULL) {
            path->hi = v;
            path->hi_incl = op == SQL_CMP_LE;
            used[i] = true;
        }
    }
}

/* The conjuncts an index over columns cols[0..ncols) serves: leading
 * columns by = (or IS NULL on a secondary index, `secondary`), then IN
 * (only on the last column of the pk) or a range on the next one. Fills
 * path->neq/eq/in/lo/hi and marks the conjuncts it serves in used[]. */
static int match_index(planner *pl, const conjuncts *cs, bool *used, const int *cols,
                       uint32_t ncols, bool secondary, sql__path *path, sql_error *err)
{
    const sql_plan *p = pl->p;
    const sql_bexpr **eq = kv_arena_alloc(pl->arena, (ncols + 1) * sizeof(*eq));
    if (eq == NULL)
        return sql__oom(pl->arena, err);
    path->eq = eq;
    int i;
    while (path->neq < ncols &&
           (i = find_eq(p, cs, used, cols[path->neq], secondary, &eq[path->neq])) >= 0) {
        used[i] = true;
        path->neq++;
    }
    if (path->neq == ncols)
        return 0;
    const sql_bexpr *in =
        secondary || path->neq + 1 == ncols ? find_in(p, cs, used, cols[path->neq]) : NULL;
    if (in != NULL) {
        path->in = (const sql_bexpr *const *)in->args + 1;
        path->nin = in->nargs - 1;
        return 0;
    }
    find_range(p, cs, used, cols[path->neq], path);
    return 0;
}

/* How selective a path looks without statistics: a point lookup, then
 * a unique index by =, then more leading columns by =, then an IN list
 * or a range, as a PostgreSQL user expects. */
static int path_rank(const sql__path *path)
{
    int bounded = path->nin > 0 || path->lo != NULL || path->hi != NULL;
    if (path->kind == SQL__PATH_POINT)
        return 1 << 30;
    if (path->kind == SQL__PATH_UNIQUE)
        return 1 << 29;
    return (int)path->neq * 2 + bounded;
}

/* A copy of cs->used to try a path on. */
static bool *try_used(planner *pl, const conjuncts *cs, sql_error *err)
{
    bool *used = kv_arena_alloc(pl->arena, (size_t)cs->n + 1);
    if (used == NULL) {
        sql__oom(pl->arena, err);
        return NULL;
    }
    if (cs->n > 0)
        memcpy(used, cs->used, (size_t)cs->n);
    return used;
}

/* The primary key's path: POINT, POINTS (IN on the last column) or SPAN. */
static int pk_path(planner *pl, const conjuncts *cs, bool *used, sql__path *path, sql_error *err)
{
    const sql_plan *p = pl->p;
    uint32_t n = p->table->primary.ncols;
    *path = (sql__path){.kind = SQL__PATH_SPAN};
    if (match_index(pl, cs, used, p->rc.pk_cols, n, false, path, err) != 0)
        return -1;
    path->kind = path->neq == n  ? SQL__PATH_POINT
                 : path->nin > 0 ? SQL__PATH_POINTS
                                 : SQL__PATH_SPAN;
    return 0;
}

/* Secondary index x's path: UNIQUE when it is unique and every column
 * is given by = (not IS NULL), else INDEX. */
static int ix_path(planner *pl, const conjuncts *cs, bool *used, uint32_t x, sql__path *path,
                   sql_error *err)
{
    const sql_plan *p = pl->p;
    const sql_index_desc *ix = &p->table->indexes[x];
    *path = (sql__path){.kind = SQL__PATH_INDEX, .ix = x};
    if (match_index(pl, cs, used, p->rc.ix_cols[x], ix->ncols, true, path, err) != 0)
        return -1;
    /* a unique key with a NULL carries the pk: no single entry to get */
    bool nulls = false;
    for (uint32_t i = 0; i < path->neq; i++)
        nulls |= path->eq[i]->kind == SQL_BEXPR_NULLTEST;
    if (ix->unique && path->neq == ix->ncols && !nulls)
        path->kind = SQL__PATH_UNIQUE;
    return 0;
}

/* The best-ranked path over the primary key and every secondary index
 * (ties go to the primary key, which needs no row lookup). */
static int choose_path(planner *pl, conjuncts *cs, sql_error *err)
{
    sql_plan *p = pl->p;
    if (p->table->is_virtual) { /* no keys: every conjunct filters */
        p->path = (sql__path){.kind = SQL__PATH_SPAN};
        return 0;
    }
    bool *best = try_used(pl, cs, err);
    if (best == NULL || pk_path(pl, cs, best, &p->path, err) != 0)
        return -1;
    for (uint32_t x = 0; x < p->table->nindexes && p->path.kind != SQL__PATH_POINT; x++) {
        sql__path cand;
        bool *used = try_used(pl, cs, err);
        if (used == NULL || ix_path(pl, cs, used, x, &cand, err) != 0)
            return -1;
        if (path_rank(&cand) > path_rank(&p->path)) {
            p->path = cand;
            best = used;
        }
    }
    if (cs->n > 0)
        memcpy(cs->used, best, (size_t)cs->n);
    return 0;
}

/* The conjuncts no key serves, ANDed again. */
static int residual(planner *pl, const conjuncts *cs, sql_error *err)
{
    int n = 0;
    for (int i = 0; i < cs->n; i++)
        n += !cs->used[i];
    if (n == 0)
        return 0;
    sql_bexpr **args = kv_arena_alloc(pl->arena, n * sizeof(*args));
    if (args == NULL)
        return sql__oom(pl->arena, err);
    n = 0;
    for (int i = 0; i < cs->n; i++)
        if (!cs->used[i])
            args[n++] = (sql_bexpr *)cs->e[i];
    if (n == 1) {
        pl->p->filter = args[0];
        return 0;
    }
    sql_bexpr *and = kv_arena_alloc(pl->arena, sizeof(*and));
    if (and == NULL)
        return sql__oom(pl->arena, err);
    *and = (sql_bexpr){
        .kind = SQL_BEXPR_AND, .type = type_bool, .location = -1, .args = args, .nargs = n};
    pl->p->filter = and;
    return 0;
}

static int plan_where(planner *pl, const sql_expr *where, sql_error *err)
{
    conjuncts cs = {0};
    if (where != NULL) {
        const sql_bexpr *w;
        if (bind_as(pl, &pl->scope, where, type_bool, NULL, "WHERE", &w, err) != 0 ||
            collect(pl, &cs, w, err) != 0)
            return -1;
    }
    if (choose_path(pl, &cs, err) != 0)
        return -1;
    return residual(pl, &cs, err);
}

/* ---- ORDER BY -------------------------------------------------------- */

/* ORDER BY n or ORDER BY output-name (DISTINCT ON alike) refer to the
 * select list, as in PostgreSQL; anything else is an expression over the
 * table (over the groups when grouped). `clause` names the clause in
 * 42P10. */
static int bind_sort_expr(planner *pl, const sql_expr *e, const char *clause, const sql_bexpr **out,
                          sql_error *err)
{
    const sql_plan *p = pl->p;
    if (e->kind == SQL_EXPR_CONST && e->const_kind == SQL_CONST_INTEGER) {
        long n = strtol(e->text, NULL, 10);
        if (n < 1 || n > p->ntargets) {
            sql_error_set(err, pl->arena, SQL_STATE_INVALID_COLUMN_REFERENCE,
                          "%s position %s is not in select list", clause, e->text);
            return error_at(pl, err, e->location);
        }
        *out = p->targets[n - 1];
        return 0;
    }
    if (e->kind == SQL_EXPR_CONST) {
        sql_error_set(err, pl->arena, SQL_STATE_SYNTAX_ERROR, "non-integer constant in %s", clause);
        return error_at(pl, err, e->location);
    }
    if (e->kind == SQL_EXPR_COLUMN && e->table == NULL) {
        for (int i = 0; i < p->ntargets; i++) {
            if (strcmp(p->cols[i].name, e->column) == 0) {
                *out = p->targets[i];
                return 0;
            }
        }
    }
    return bind_output(pl, row_scope(pl), e, out, err);
}

/* Whether the sort keys follow the order of index `ix` over columns
 * `cols` (forward or, with *reverse, backward); the first `neq` columns,
 * fixed by =, may be skipped. A nullable column must sort NULLs where
 * the index keeps them (last ascending, first descending: PostgreSQL's
 * default placement). */
static bool follows(const sql_plan *p, const sql_index_desc *ix, const int *cols, uint32_t neq,
                    const sql__sortkey *keys, int n, bool *reverse)
{
    uint32_t at = 0;
    for (int i = 0; i < n; i++) {
        if (keys[i].expr->kind != SQL_BEXPR_COLUMN)
            return false;
        int col = keys[i].expr->column;
        while (at < ix->ncols && at < neq && cols[at] != col)
            at++;
        if (at == ix->ncols || cols[at] != col)
            return false;
        if (!p->table->cols[col].not_null && keys[i].nulls_first != keys[i].desc)
            return false;
        bool backward = keys[i].desc != (ix->dirs[at] == SQL_KEY_DESC);
        if (i > 0 && backward != *reverse)
            return false;
        *reverse = backward;
        at++;
    }
    return true;
}

/* A full scan whose rows a LIMIT cuts short reads a secondary index in
 * the ORDER BY order instead, so no sort waits for every row. */
static bool order_by_index(planner *pl, const sql__sortkey *keys, int n)
{
    sql_plan *p = pl->p;
    const sql__path *path = &p->path;
    if (!pl->limited || path->kind != SQL__PATH_SPAN || path->neq > 0 || path->lo || path->hi)
        return false;
    for (uint32_t x = 0; x < p->table->nindexes; x++) {
        bool reverse = false;
        if (follows(p, &p->table->indexes[x], p->rc.ix_cols[x], 0, keys, n, &reverse)) {
            p->path = (sql__path){.kind = SQL__PATH_INDEX, .ix = x, .reverse = reverse};
            return true;
        }
    }
    return false;
}

/* The ORDER BY keys, with room for DISTINCT ON's keys after them. */
static int bind_order(planner *pl, const sql_select *s, sql__sortkey **out, sql_error *err)
{
    sql__sortkey *keys =
        kv_arena_alloc(pl->arena, (size_t)(s->norder + s->ndistinct_on + 1) * sizeof(*keys));
    if (keys == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < s->norder; i++) {
        keys[i] = (sql__sortkey){.desc = s->order[i].desc, .nulls_first = s->order[i].nulls_first};
        if (bind_sort_expr(pl, s->order[i].expr, "ORDER BY", &keys[i].expr, err) != 0)
            return -1;
    }
    *out = keys;
    return 0;
}

/* Whether the scan of p->table delivers rows in the order of `keys`:
 * at most one row, or along the index it reads (set to run backwards
 * when that fits), or along a secondary index it is switched to. */
static bool scan_sorts(planner *pl, const sql__sortkey *keys, int n)
{
    sql_plan *p = pl->p;
    if (p->path.kind == SQL__PATH_POINT || p->path.kind == SQL__PATH_UNIQUE)
        return true;
    bool reverse = false;
    bool ix = p->path.kind == SQL__PATH_INDEX;
    const sql_index_desc *index = ix ? &p->table->indexes[p->path.ix] : &p->table->primary;
    const int *cols = ix ? p->rc.ix_cols[p->path.ix] : p->rc.pk_cols;
    if (follows(p, index, cols, p->path.neq, keys, n, &reverse)) {
        p->path.reverse = reverse;
        return true;
    }
    return order_by_index(pl, keys, n);
}

/* Sorts in memory unless the rows arrive in the wanted order: from the
 * pk (forward or backward) or as at most one row. Aggregation output and
 * DISTINCT ON always sort, as do rows without a table scan. */
static void place_sort(planner *pl, const sql__sortkey *keys, int n)
{
    sql_plan *p = pl->p;
    if (n == 0)
        return;
    bool scan_order = p->table != NULL && pl->group == NULL && p->ndistinct_on == 0;
    if (scan_order && scan_sorts(pl, keys, n))
        return;
    p->sort = keys;
    p->nsort = n;
}

static int find_expr(const sql_bexpr *const *v, int n, const sql_bexpr *e)
{
    for (int i = 0; i < n; i++)
        if (sql__bexpr_equal(v[i], e))
            return i;
    return -1;
}

/* SELECT DISTINCT: each ORDER BY key must be a select-list item. */
static int plan_distinct(planner *pl, const sql_select *s, const sql__sortkey *keys, sql_error *err)
{
    sql_plan *p = pl->p;
    for (int i = 0; i < s->norder; i++) {
        if (find_expr(p->targets, p->ntargets, keys[i].expr) < 0) {
            sql_error_set(err, pl->arena, SQL_STATE_INVALID_COLUMN_REFERENCE,
                          "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
            return error_at(pl, err, s->order[i].expr->location);
        }
    }
    p->distinct = true;
    return 0;
}

static int distinct_on_error(planner *pl, const sql_expr *e, sql_error *err)
{
    sql_error_set(err, pl->arena, SQL_STATE_INVALID_COLUMN_REFERENCE,
                  "SELECT DISTINCT ON expressions must match initial ORDER BY expressions");
    return error_at(pl, err, e->location);
}

static bool sorts_by(const sql__sortkey *keys, int n, const sql_bexpr *e)
{
    for (int i = 0; i < n; i++)
        if (sql__bexpr_equal(keys[i].expr, e))
            return true;
    return false;
}

/* DISTINCT ON (exprs): the sort keys become the ORDER BY keys that are
 * DISTINCT ON exprs (they must come first, PostgreSQL's rule), then the
 * DISTINCT ON exprs ORDER BY lacks, then the rest of ORDER BY; a row is
 * kept when its first ndistinct_on keys differ from the previous row's. */
static int plan_distinct_on(planner *pl, const sql_select *s, sql__sortkey *keys, int *nkeys,
                            sql_error *err)
{
    int nd = s->ndistinct_on, n = 0;
    const sql_bexpr **on = kv_arena_alloc(pl->arena, (size_t)nd * sizeof(*on));
    sql__sortkey *out = kv_arena_alloc(pl->arena, (size_t)(s->norder + nd) * sizeof(*out));
    if (on == NULL || out == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < nd; i++)
        if (bind_sort_expr(pl, s->distinct_on[i], "DISTINCT ON", &on[i], err) != 0)
            return -1;
    bool skipped = false;
    for (int i = 0; i < s->norder; i++) {
        int d = find_expr(on, nd, keys[i].expr);
        if (d >= 0 && skipped)
            return distinct_on_error(pl, s->distinct_on[d], err);
        if (d >= 0)
            out[n++] = keys[i];
        skipped |= d < 0;
    }
    for (int d = 0; d < nd; d++) {
        if (sorts_by(out, n, on[d]))
            continue;
        if (skipped)
            return distinct_on_error(pl, s->distinct_on[d], err);
        out[n++] = (sql__sortkey){.expr = on[d]};
    }
    pl->p->ndistinct_on = n;
    for (int i = 0; i < s->norder; i++)
        if (find_expr(on, nd, keys[i].expr) < 0)
            out[n++] = keys[i];
    memcpy(keys, out, (size_t)n * sizeof(*keys));
    *nkeys = n;
    return 0;
}

static int plan_order(planner *pl, const sql_select *s, sql_error *err)
{
    sql__sortkey *keys = NULL;
    int n = s->norder;
    if (bind_order(pl, s, &keys, err) != 0)
        return -1;
    if (s->distinct && s->ndistinct_on == 0 && plan_distinct(pl, s, keys, err) != 0)
        return -1;
    if (s->ndistinct_on > 0 && plan_distinct_on(pl, s, keys, &n, err) != 0)
        return -1;
    place_sort(pl, keys, n);
    return 0;
}

/* ---- projection ------------------------------------------------------ */

void sql__mark_columns(const sql_bexpr *e, bool *needed, size_t ncols)
{
    if (e == NULL)
        return;
    if (e->kind == SQL_BEXPR_COLUMN)
        needed[e->column] = true;
    if (e->kind == SQL_BEXPR_SUBQUERY && e->correlated)
        memset(needed, 1, ncols);
    for (int i = 0; i < e->nargs; i++)
        sql__mark_columns(e->args[i], needed, ncols);
    sql__mark_columns(e->els, needed, ncols);
}

/* Marks the input columns a SELECT reads: its filter, then the
 * aggregation's inputs or the targets and sort keys. */
static void mark_needed(const sql_plan *p, bool *needed, size_t ncols)
{
    sql__mark_columns(p->filter, needed, ncols);
    if (p->agg != NULL) {
        /* the rest reads the groups, not the input rows */
        for (int i = 0; i < p->agg->nkeys; i++)
            sql__mark_columns(p->agg->keys[i], needed, ncols);
        for (int i = 0; i < p->agg->ncalls; i++) {
            sql__mark_columns(p->agg->calls[i].arg, needed, ncols);
            sql__mark_columns(p->agg->calls[i].delim, needed, ncols);
        }
        return;
    }
    for (int i = 0; i < p->ntargets; i++)
        sql__mark_columns(p->targets[i], needed, ncols);
    for (int i = 0; i < p->nsort; i++)
        sql__mark_columns(p->sort[i].expr, needed, ncols);
}

/* Whether the entries of index path->ix hold every needed column: its
 * own columns (exactly only when not composite: keys keep a canonical
 * value) and the pk columns (exact, in the entry's value). */
bool sql__index_covers(const sql_plan *p, const bool *needed)
{
    const sql_table_desc *t = p->table;
    const sql_index_desc *ix = &t->indexes[p->path.ix];
    for (uint32_t c = 0; c < t->ncols; c++) {
        bool have = false;
        for (uint32_t k = 0; k < t->primary.ncols; k++)
            have |= p->rc.pk_cols[k] == (int)c;
        for (uint32_t k = 0; k < ix->ncols; k++)
            have |=
                p->rc.ix_cols[p->path.ix][k] == (int)c && !sql_key_composite(t->cols[c].type.oid);
        if (needed[c] && !have)
            return false;
    }
    return true;
}

/* Decodes only the columns a SELECT reads (over joins, in each table;
 * from index entries alone when they hold them all); writes decode
 * everything. */
static int plan_projection(planner *pl, sql_error *err)
{
    sql_plan *p = pl->p;
    if (p->kind != SQL_STMT_SELECT)
        return sql__rowproj_init(&p->rc, NULL, pl->arena, &p->proj, err);
    size_t width = pl->jplan ? (size_t)pl->jplan->width : p->table->ncols;
    bool *needed = kv_arena_alloc(pl->arena, width + 1);
    if (needed == NULL)
        return sql__oom(pl->arena, err);
    memset(needed, 0, width + 1);
    mark_needed(p, needed, width);
    if (pl->jplan)
        return sql__join_project(pl->jplan, needed, pl->arena, err);
    p->path.index_only = p->path.kind == SQL__PATH_INDEX && sql__index_covers(p, needed);
    return sql__rowproj_init(&p->rc, needed, pl->arena, &p->proj, err);
}

/* The access path in words, for tests and EXPLAIN. */
static int explain(planner *pl, sql_error *err)
{
    sql_plan *p = pl->p;
    if (p->join != NULL) {
        p->explain = sql__join_describe(p->join, pl->arena);
        return p->explain ? 0 : sql__oom(pl->arena, err);
    }
    if (p->table == NULL) {
        p->explain = p->setop     ? "set operation"
                     : p->nvalues ? "values"
                     : p->from    ? "subquery scan"
                                  : "no table";
        return 0;
    }
    const sql__path *path = &p->path;
    bool unique = path->kind == SQL__PATH_UNIQUE, ix = path->kind == SQL__PATH_INDEX;
    const char *index = unique || ix ? p->table->indexes[path->ix].name : p->table->primary.name;
    const char *what = ix && path->index_only                    ? "index only scan"
                       : ix                                      ? "index scan"
                       : path->kind == SQL__PATH_POINT || unique ? "point lookup"
                       : path->kind == SQL__PATH_POINTS          ? "point lookups"
                       : path->neq > 0 || path->lo || path->hi   ? "range scan"
                                                                 : "full scan";
    const char *fmt = "%s%s on %s%s%s%s%s";
    const char *rev = path->reverse ? " (reverse)" : "";
    const char *filter = p->filter ? ", filter" : "";
    const char *agg = p->agg ? ", hash aggregate" : "";
    const char *distinct = p->distinct ? ", hash distinct" : p->ndistinct_on ? ", distinct on" : "";
    const char *sort = p->sort ? ", sort" : "";
    int n = snprintf(NULL, 0, fmt, what, rev, index, filter, agg, sort, distinct);
    char *buf = kv_arena_alloc(pl->arena, (size_t)n + 1);
    if (buf == NULL)
        return sql__oom(pl->arena, err);
    snprintf(buf, (size_t)n + 1, fmt, what, rev, index, filter, agg, sort, distinct);
    p->explain = buf;
    return 0;
}

/* ---- join leaves (plan_join.c) ---------------------------------------- */

int sql__scan_open(sql_plan_ctx *ctx, const sql_name *name, const char *alias, kv_arena *arena,
                   sql_plan **out, sql_error *err)
{
    sql_plan *p = kv_arena_alloc(arena, sizeof(*p));
    if (p == NULL)
        return sql__oom(arena, err);
    *p = (sql_plan){.kind = SQL_STMT_SELECT, .catalog = ctx->catalog, .returns_rows = true};
    planner pl = {.ctx = ctx, .arena = arena, .p = p};
    /* a view becomes a plan without a table passing its rows through */
    if (open_table(&pl, name, alias, err) != 0 ||
        (p->table == NULL && pass_through(&pl, err) != 0)) {
        sql__plan_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

int sql__scan_path(sql_plan_ctx *ctx, sql_plan *p, const sql_bexpr *const *conj, int n,
                   kv_arena *arena, sql_error *err)
{
    planner pl = {.ctx = ctx, .arena = arena, .p = p};
    conjuncts cs = {0};
    for (int i = 0; i < n; i++)
        if (collect(&pl, &cs, conj[i], err) != 0)
            return -1;
    if (choose_path(&pl, &cs, err) != 0 || residual(&pl, &cs, err) != 0 || explain(&pl, err) != 0)
        return -1;
    return sql__rowproj_init(&p->rc, NULL, arena, &p->proj, err);
}

int sql__scan_explain(sql_plan *p, kv_arena *arena, sql_error *err)
{
    planner pl = {.arena = arena, .p = p};
    return explain(&pl, err);
}

/* ---- statements ------------------------------------------------------ */

/* The targets of a plan that passes its input rows (pl->scope) through
 * unchanged, named as the scope names them. */
static int pass_through(planner *pl, sql_error *err)
{
    sql_plan *p = pl->p;
    int n = pl->scope.ncols;
    sql_bexpr *cols = kv_arena_alloc(pl->arena, ((size_t)n + 1) * sizeof(*cols));
    const sql_bexpr **targets = kv_arena_alloc(pl->arena, ((size_t)n + 1) * sizeof(*targets));
    p->cols = kv_arena_alloc(pl->arena, ((size_t)n + 1) * sizeof(*p->cols));
    if (cols == NULL || targets == NULL || p->cols == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < n; i++) {
        const sql_scope_col *c = &pl->scope.cols[i];
        cols[i] =
            (sql_bexpr){.kind = SQL_BEXPR_COLUMN, .type = c->type, .location = -1, .column = i};
        targets[i] = &cols[i];
        p->cols[i] = (sql_column_info){.name = c->name, .type = c->type};
    }
    p->targets = targets;
    p->ntargets = n;
    return 0;
}

/* sql__join_hooks.open_item: a join's item that is a subquery, a
 * function or a WITH query becomes a plan without a table that reads it
 * as its FROM (as open_from does for a lone item) and passes its rows
 * through; the join filters them. 1 for a table. */
static int open_join_item(void *arg, const sql_from *f, sql_plan **out, sql_error *err)
{
    planner *pl = arg;
    const planner *level;
    int at;
    if (f->sub == NULL && (f->table.schema || find_cte(pl, f->table.name, &level, &at) == NULL))
        return 1;
    sql_plan *w = kv_arena_alloc(pl->arena, sizeof(*w));
    if (w == NULL)
        return sql__oom(pl->arena, err);
    *w = (sql_plan){.kind = SQL_STMT_SELECT, .catalog = pl->ctx->catalog, .returns_rows = true};
    /* the same WITH queries and enclosing scope; the plans it makes are w's */
    planner in = *pl;
    in.p = w;
    in.outer_used = false;
    const sql_select s = {.has_from = true,
                          .from = f->table,
                          .alias = f->alias,
                          .from_sub = f->sub,
                          .from_cols = f->sub_cols,
                          .nfrom_cols = f->nsub_cols};
    int rc = open_from(&in, &s, err) != 0 || pass_through(&in, err) != 0 ? -1 : 0;
    pl->outer_used |= in.outer_used;
    if (rc != 0) {
        /* a function's arguments naming another item of this FROM: legal
         * in PostgreSQL, whose functions in FROM are implicitly LATERAL */
        if (f->sub != NULL && f->sub->func != NULL && err->state == SQL_STATE_UNDEFINED_TABLE)
            sql_error_set(err, pl->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                          "a function in FROM reading another FROM item is not supported yet");
        sql__plan_free(w);
        return -1;
    }
    *out = w;
    return 0;
}

/* FROM with joins (items[0..n)): the joined row is the scope. */
static int join_from(planner *pl, sql_from *const *items, int n, sql_error *err)
{
    const sql_scope *scope;
    const sql__join_hooks hooks = {
        .open_item = open_join_item, .subquery = plan_subquery, .arg = pl};
    if (sql__join_from(pl->ctx, &hooks, pl->arena, items, n, pl->outer, &pl->outer_used, &pl->join,
                       &scope, err) != 0)
        return -1;
    pl->scope = *scope;
    return 0;
}

/* A set-returning function in FROM: its arguments see no columns of
 * their own (names resolve outwards); srf.c does the rest. */
static int plan_function(planner *pl, const sql_select *s, sql_error *err)
{
    sql_bind_ctx bc = {.arena = pl->arena,
                       .query = pl->ctx->query,
                       .scope = &pl->empty,
                       .params = pl->ctx->params,
                       .clause = "FROM",
                       .agg_clause = "functions in FROM",
                       .subquery = plan_subquery,
                       .subquery_arg = pl};
    return sql__srf_bind(&bc, s->func, s->func_ordinality, s->alias, pl->p, err);
}

static int bind_limits(planner *pl, const sql_expr *limit, const sql_expr *offset, sql_error *err)
{
    if (limit != NULL &&
        bind_as(pl, &pl->empty, limit, type_int8, NULL, "LIMIT", &pl->p->limit, err) != 0)
        return -1;
    if (offset != NULL &&
        bind_as(pl, &pl->empty, offset, type_int8, NULL, "OFFSET", &pl->p->offset, err) != 0)
        return -1;
    return 0;
}

/* Whether SELECT `s` aggregates: GROUP BY, HAVING, or an aggregate call
 * in the select list or ORDER BY. */
static bool is_grouped(const sql_select *s)
{
    if (s->ngroup_by > 0 || s->having != NULL)
        return true;
    for (int i = 0; i < s->ntargets; i++)
        if (sql_expr_has_aggregate(s->targets[i].expr))
            return true;
    for (int i = 0; i < s->norder; i++)
        if (sql_expr_has_aggregate(s->order[i].expr))
            return true;
    return false;
}

static int begin_grouping(planner *pl, const sql_select *s, sql_error *err)
{
    const sql_plan *p = pl->p;
    pl->env = (sql__bindenv){.arena = pl->arena,
                             .query = pl->ctx->query,
                             .params = pl->ctx->params,
                             .scope = row_scope(pl),
                             .tname = pl->tname,
                             .table = p->table,
                             .pk_cols = p->table ? p->rc.pk_cols : NULL,
                             .subquery = plan_subquery,
                             .subquery_arg = pl,
                             .join = pl->join};
    return sql__group_begin(&pl->env, s, &pl->group, err);
}

static int finish_grouping(planner *pl, const sql_select *s, sql_error *err)
{
    const sql_bexpr *having = NULL;
    if (s->having != NULL &&
        sql__group_bind(pl->group, s->having, type_bool, "HAVING", &having, err) != 0)
        return -1;
    pl->p->agg = sql__group_finish(pl->group, having);
    return 0;
}

/* WHERE chooses a table's access path; over a subquery or no FROM it
 * filters. */
static int select_where(planner *pl, const sql_select *s, sql_error *err)
{
    if (pl->p->table)
        return plan_where(pl, s->where, err);
    if (s->where == NULL)
        return 0;
    const sql_scope *scope = pl->has_from ? &pl->scope : &pl->empty;
    return bind_as(pl, scope, s->where, type_bool, NULL, "WHERE", &pl->p->filter, err);
}

static bool is_sublink(const sql_expr *e)
{
    return e->kind == SQL_EXPR_SUBLINK;
}

/* Splits WHERE's conjuncts: those with a subquery into *with (evaluated
 * over the joined rows), the rest into *without (placed on the tables by
 * the join planner), each an AND in the arena or NULL for none. */
static int split_sublinks(planner *pl, const sql_expr *where, sql_expr **with, sql_expr **without,
                          sql_error *err)
{
    int n = where->kind == SQL_EXPR_AND ? where->nargs : 1;
    sql_expr *const *conj = where->kind == SQL_EXPR_AND ? where->args : (sql_expr *const *)&where;
    sql_expr *side[2];
    for (int k = 0; k < 2; k++) {
        side[k] = kv_arena_alloc(pl->arena, sizeof(*side[k]));
        sql_expr **args = kv_arena_alloc(pl->arena, (size_t)(n + 1) * sizeof(*args));
        if (side[k] == NULL || args == NULL)
            return sql__oom(pl->arena, err);
        *side[k] = (sql_expr){.kind = SQL_EXPR_AND, .location = where->location, .args = args};
    }
    for (int i = 0; i < n; i++) {
        sql_expr *to = side[sql_expr_contains(conj[i], is_sublink) ? 0 : 1];
        to->args[to->nargs++] = conj[i];
    }
    *with = side[0]->nargs ? side[0] : NULL;
    *without = side[1]->nargs ? side[1] : NULL;
    return 0;
}

/* WHERE over joins: conjuncts without subqueries go to the join planner;
 * the join binding does not plan subqueries, so conjuncts with them are
 * bound here over the joined row (row_scope) and filter the joined rows
 * (p->filter). */
static int join_where(planner *pl, const sql_expr *where, sql_error *err)
{
    sql_expr *with = NULL, *without = NULL;
    if (where != NULL && split_sublinks(pl, where, &with, &without, err) != 0)
        return -1;
    if (sql__join_plan(pl->join, without, &pl->jplan, err) != 0)
        return -1;
    pl->p->join = pl->jplan; /* the plan owns the tables from here on */
    return with == NULL
               ? 0
               : bind_as(pl, row_scope(pl), with, type_bool, NULL, "WHERE", &pl->p->filter, err);
}

/* UNION, INTERSECT, EXCEPT: each branch a nested plan that sees this
 * query's WITH and enclosing scope; plan_setop.c joins them. */
static int plan_setop(planner *pl, const sql_select *s, sql_error *err)
{
    sql_plan *left, *right;
    bool lcorr, rcorr;
    if (plan_nested(pl, pl, s->larg, pl->outer, NULL, 0, &left, &lcorr, err) != 0 ||
        plan_nested(pl, pl, s->rarg, pl->outer, NULL, 0, &right, &rcorr, err) != 0)
        return -1;
    pl->outer_used |= lcorr || rcorr;
    if (sql__setop_bind(pl->ctx, s, left, right, pl->p, pl->arena, err) != 0)
        return -1;
    return bind_limits(pl, s->limit, s->offset, err);
}

/* VALUES as a query: its items bound over no columns (names resolve
 * outwards), typed in plan_setop.c; ORDER BY over its columns. */
static int plan_values(planner *pl, const sql_select *s, sql_error *err)
{
    sql_bexpr ***rows = kv_arena_alloc(pl->arena, (size_t)s->nvalues * sizeof(*rows));
    if (rows == NULL)
        return sql__oom(pl->arena, err);
    for (int r = 0; r < s->nvalues; r++) {
        rows[r] = kv_arena_alloc(pl->arena, ((size_t)s->values_width + 1) * sizeof(**rows));
        if (rows[r] == NULL)
            return sql__oom(pl->arena, err);
        for (int c = 0; c < s->values_width; c++)
            if (bind(pl, &pl->empty, s->values[r][c], type_unknown, (const sql_bexpr **)&rows[r][c],
                     err) != 0)
                return -1;
    }
    sql_plan *p = pl->p;
    if (sql__values_bind(pl->ctx, s, rows, p, pl->arena, err) != 0)
        return -1;
    sql_scope_col *cols = kv_arena_alloc(pl->arena, ((size_t)p->ntargets + 1) * sizeof(*cols));
    if (cols == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < p->ntargets; i++)
        cols[i] = (sql_scope_col){.name = p->cols[i].name, .type = p->cols[i].type};
    pl->scope = (sql_scope){.table = "*VALUES*",
                            .cols = cols,
                            .ncols = p->ntargets,
                            .outer = pl->outer,
                            .outer_used = &pl->outer_used};
    pl->has_from = true;
    if (plan_order(pl, s, err) != 0)
        return -1;
    return bind_limits(pl, s->limit, s->offset, err);
}

static int plan_select(planner *pl, const sql_select *s, sql_error *err)
{
    pl->p->returns_rows = true;
    pl->ctes = s->ctes;
    pl->nctes = s->nctes;
    pl->cte_plans = kv_arena_alloc(pl->arena, ((size_t)s->nctes + 1) * sizeof(*pl->cte_plans));
    if (pl->cte_plans == NULL)
        return sql__oom(pl->arena, err);
    memset(pl->cte_plans, 0, ((size_t)s->nctes + 1) * sizeof(*pl->cte_plans));
    if (s->setop != SQL_SETOP_NONE)
        return plan_setop(pl, s, err);
    if (s->nvalues > 0)
        return plan_values(pl, s, err);
    if (s->func != NULL)
        return plan_function(pl, s, err);
    sql_select *projected;
    int srf = sql__srf_targets(s, pl->arena, pl->ctx->query, &projected, err);
    if (srf < 0)
        return -1;
    if (srf == 1)
        s = projected;
    if (s->has_from && open_from(pl, s, err) != 0)
        return -1;
    if (s->nfrom > 0 && join_from(pl, s->from_items, s->nfrom, err) != 0)
        return -1;
    if (is_grouped(s) && begin_grouping(pl, s, err) != 0)
        return -1;
    if (bind_targets(pl, s->targets, s->ntargets, err) != 0)
        return -1;
    if ((pl->join ? join_where(pl, s->where, err) : select_where(pl, s, err)) != 0)
        return -1;
    pl->limited = s->limit != NULL;
    if (plan_order(pl, s, err) != 0 || bind_limits(pl, s->limit, s->offset, err) != 0)
        return -1;
    if (pl->group && finish_grouping(pl, s, err) != 0)
        return -1;
    if ((pl->p->table || pl->jplan) && plan_projection(pl, err) != 0)
        return -1;
    return 0;
}

/* Where target column i was written; statements built internally have
 * no locations. */
static int insert_col_location(const sql_insert *ins, int i)
{
    return ins->column_locations ? ins->column_locations[i] : -1;
}

/* The INSERT target columns: the list, or the visible columns. */
static int insert_columns(planner *pl, const sql_insert *ins, int **cols, int *n, sql_error *err)
{
    const sql_table_desc *t = pl->p->table;
    int *pos = kv_arena_alloc(pl->arena, (t->ncols + ins->ncolumns + 1) * sizeof(int));
    if (pos == NULL)
        return sql__oom(pl->arena, err);
    *n = 0;
    if (ins->ncolumns == 0) {
        for (uint32_t i = 0; i < t->ncols; i++)
            if (!t->cols[i].hidden)
                pos[(*n)++] = (int)i;
    }
    for (int i = 0; i < ins->ncolumns; i++) {
        if (target_col(pl, ins->columns[i], insert_col_location(ins, i), &pos[*n], err) != 0)
            return -1;
        for (int j = 0; j < *n; j++) {
            if (pos[j] == pos[*n]) {
                sql_error_set(err, pl->arena, SQL_STATE_DUPLICATE_COLUMN,
                              "column \"%s\" specified more than once", ins->columns[i]);
                return error_at(pl, err, insert_col_location(ins, i));
            }
        }
        (*n)++;
    }
    *cols = pos;
    return 0;
}

/* Where the i-th value of an INSERT was written (a VALUES item or a
 * select-list item; -1 when `*` made it). */
static int insert_value_location(const sql_insert *ins, int i)
{
    if (ins->select == NULL)
        return ins->rows[0][i]->location;
    const sql_select *s = ins->select;
    while (s->setop != SQL_SETOP_NONE) /* PostgreSQL points into the first branch */
        s = s->larg;
    return i < s->ntargets && s->targets[i].expr->kind != SQL_EXPR_STAR
               ? s->targets[i].expr->location
               : -1;
}

/* The values per row against the target columns: 42601 as PostgreSQL
 * words it when they do not match up. */
static int check_insert_width(planner *pl, const sql_insert *ins, int width, int ncols,
                              sql_error *err)
{
    if (width > ncols) {
        sql_error_set(err, pl->arena, SQL_STATE_SYNTAX_ERROR,
                      "INSERT has more expressions than target columns");
        return error_at(pl, err, insert_value_location(ins, ncols));
    }
    if (ins->ncolumns > 0 && width < ncols) {
        sql_error_set(err, pl->arena, SQL_STATE_SYNTAX_ERROR,
                      "INSERT has more target columns than expressions");
        return error_at(pl, err, insert_col_location(ins, width));
    }
    return 0;
}

/* Item j of row r of an INSERT, for table column `col`. */
typedef int (*insert_item_fn)(planner *pl, const sql_insert *ins, int r, int j, int col,
                              const sql_bexpr **out, sql_error *err);

/* A VALUES item (or DEFAULT) assigned to its column. */
static int values_item(planner *pl, const sql_insert *ins, int r, int j, int col,
                       const sql_bexpr **out, sql_error *err)
{
    return bind_assign(pl, &pl->empty, col, ins->rows[r][j], out, err);
}

/* INSERT ... SELECT: the source's result column j, over the source row,
 * assigned to the column's type (42804 when it cannot be). */
static int source_item(planner *pl, const sql_insert *ins, int r, int j, int col,
                       const sql_bexpr **out, sql_error *err)
{
    const sql_col_desc *c = &pl->p->table->cols[col];
    sql_bexpr *v = kv_arena_alloc(pl->arena, sizeof(*v));
    (void)r;
    if (v == NULL)
        return sql__oom(pl->arena, err);
    *v = (sql_bexpr){.kind = SQL_BEXPR_COLUMN,
                     .type = pl->p->source->cols[j].type,
                     .location = insert_value_location(ins, j),
                     .column = j};
    sql_bind_ctx bc = {
        .arena = pl->arena, .query = pl->ctx->query, .params = pl->ctx->params, .column = c->name};
    sql_bexpr *b;
    if (sql_expr_coerce(&bc, v, c->type, &b, err) != 0)
        return -1;
    *out = b;
    return 0;
}

/* One row: target column cols[j] gets item j (j < nitems), every other
 * column its DEFAULT. */
static int bind_insert_row(planner *pl, const sql_insert *ins, int r, const int *cols, int nitems,
                           insert_item_fn item, const sql_bexpr ***out, sql_error *err)
{
    const sql_table_desc *t = pl->p->table;
    const sql_bexpr **row = kv_arena_alloc(pl->arena, (t->ncols + 1) * sizeof(*row));
    bool *given = kv_arena_alloc(pl->arena, t->ncols + 1);
    if (row == NULL || given == NULL)
        return sql__oom(pl->arena, err);
    memset(given, 0, t->ncols + 1);
    for (int j = 0; j < nitems; j++) {
        if (item(pl, ins, r, j, cols[j], &row[cols[j]], err) != 0)
            return -1;
        given[cols[j]] = true;
    }
    for (uint32_t c = 0; c < t->ncols; c++)
        if (!given[c] && column_default(pl, (int)c, &row[c], err) != 0)
            return -1;
    *out = row;
    return 0;
}

/* The bound rows of INSERT: VALUES rows, DEFAULT VALUES, or the row
 * template over the source query's rows; `width` items each. */
static int bind_insert_rows(planner *pl, const sql_insert *ins, const int *cols, int width,
                            sql_error *err)
{
    sql_plan *p = pl->p;
    p->nrows = ins->default_values || ins->select ? 1 : ins->nrows;
    const sql_bexpr ***rows = kv_arena_alloc(pl->arena, (p->nrows + 1) * sizeof(*rows));
    if (rows == NULL)
        return sql__oom(pl->arena, err);
    int nitems = ins->default_values ? 0 : width;
    insert_item_fn item = ins->select ? source_item : values_item;
    for (int r = 0; r < p->nrows; r++)
        if (bind_insert_row(pl, ins, r, cols, nitems, item, &rows[r], err) != 0)
            return -1;
    p->rows = (const sql_bexpr *const *const *)rows;
    return 0;
}

/* ON CONFLICT of `ins` (below, after UPDATE's SET binding it uses). */
static int plan_conflict(planner *pl, const sql_on_conflict *oc, sql_error *err);

static int plan_insert(planner *pl, const sql_insert *ins, sql_error *err)
{
    sql_plan *p = pl->p;
    if (open_table(pl, &ins->table, ins->alias, err) != 0)
        return -1;
    int *cols = NULL, ncols = 0;
    if (insert_columns(pl, ins, &cols, &ncols, err) != 0)
        return -1;
    if (ins->select != NULL) {
        sql_type *types = kv_arena_alloc(pl->arena, ((size_t)ncols + 1) * sizeof(*types));
        if (types == NULL)
            return sql__oom(pl->arena, err);
        for (int j = 0; j < ncols; j++)
            types[j] = p->table->cols[cols[j]].type;
        sql_plan *src;
        bool correlated;
        if (plan_nested(pl, pl, ins->select, NULL, types, ncols, &src, &correlated, err) != 0)
            return -1;
        p->source = src;
    }
    int width = ins->default_values ? ncols : p->source ? p->source->ntargets : ins->rowlen;
    if (check_insert_width(pl, ins, width, ncols, err) != 0 ||
        bind_insert_rows(pl, ins, cols, width, err) != 0)
        return -1;
    if (ins->on_conflict != NULL && plan_conflict(pl, ins->on_conflict, err) != 0)
        return -1;
    p->returns_rows = ins->nreturning > 0;
    if (bind_checks(pl, err) != 0 || bind_targets(pl, ins->returning, ins->nreturning, err) != 0)
        return -1;
    return sql__rowproj_init(&p->rc, NULL, pl->arena, &p->proj, err);
}

/* UPDATE's SET (or ON CONFLICT DO UPDATE's) bound over `scope` into
 * p->set. */
static int bind_sets(planner *pl, const sql_scope *scope, const sql_assign *assigns, int nassigns,
                     sql_error *err)
{
    sql_plan *p = pl->p;
    const sql_table_desc *t = p->table;
    const sql_bexpr **set = kv_arena_alloc(pl->arena, (t->ncols + 1) * sizeof(*set));
    bool *done = kv_arena_alloc(pl->arena, t->ncols + 1);
    if (set == NULL || done == NULL)
        return sql__oom(pl->arena, err);
    memset(set, 0, (t->ncols + 1) * sizeof(*set));
    memset(done, 0, t->ncols + 1);
    for (int i = 0; i < nassigns; i++) {
        const sql_assign *a = &assigns[i];
        int pos;
        if (target_col(pl, a->column, a->location, &pos, err) != 0)
            return -1;
        if (done[pos])
            return sql_error_set(err, pl->arena, SQL_STATE_SYNTAX_ERROR,
                                 "multiple assignments to same column \"%s\"", a->column);
        done[pos] = true;
        const sql_bexpr *v;
        if (bind_assign(pl, scope, pos, a->value, &v, err) != 0)
            return -1;
        /* DEFAULT NULL is an assignment too: a NULL constant */
        if (v == NULL) {
            sql_bexpr *n = kv_arena_alloc(pl->arena, sizeof(*n));
            if (n == NULL)
                return sql__oom(pl->arena, err);
            *n = (sql_bexpr){.kind = SQL_BEXPR_CONST, .type = t->cols[pos].type, .location = -1};
            n->value.isnull = true;
            v = n;
        }
        set[pos] = v;
        for (uint32_t k = 0; k < t->primary.ncols; k++)
            p->set_pk |= p->rc.pk_cols[k] == pos;
    }
    p->set = set;
    return 0;
}

/* Whether the columns of index `ix` (SQL__ARBITER_PK: the primary key)
 * are exactly the set cols[0..n) (repeats allowed, as PostgreSQL does). */
static bool index_is(const sql_plan *p, int ix, const int *cols, int n)
{
    bool pk = ix == SQL__ARBITER_PK;
    uint32_t nix = pk ? p->table->primary.ncols : p->table->indexes[ix].ncols;
    const int *ixcols = pk ? p->rc.pk_cols : p->rc.ix_cols[ix];
    for (int i = 0; i < n; i++) {
        bool in = false;
        for (uint32_t k = 0; k < nix; k++)
            in |= ixcols[k] == cols[i];
        if (!in)
            return false;
    }
    for (uint32_t k = 0; k < nix; k++) {
        bool in = false;
        for (int i = 0; i < n; i++)
            in |= ixcols[k] == cols[i];
        if (!in)
            return false;
    }
    return true;
}

/* ON CONFLICT (cols): the primary key or a unique index over exactly
 * those columns, else 42P10 as PostgreSQL words it. */
static int arbiter_by_columns(planner *pl, const sql_on_conflict *oc, int *out, sql_error *err)
{
    const sql_table_desc *t = pl->p->table;
    int *cols = kv_arena_alloc(pl->arena, ((size_t)oc->ncols + 1) * sizeof(*cols));
    if (cols == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < oc->ncols; i++) {
        for (cols[i] = 0; cols[i] < (int)t->ncols; cols[i]++)
            if (strcmp(t->cols[cols[i]].name, oc->cols[i]) == 0)
                break;
        if (cols[i] == (int)t->ncols) {
            sql_error_set(err, pl->arena, SQL_STATE_UNDEFINED_COLUMN,
                          "column \"%s\" does not exist", oc->cols[i]);
            return error_at(pl, err, oc->cols_location);
        }
    }
    *out = SQL__ARBITER_PK;
    if (index_is(pl->p, SQL__ARBITER_PK, cols, oc->ncols))
        return 0;
    for (uint32_t i = 0; i < t->nindexes; i++) {
        *out = (int)i;
        if (t->indexes[i].unique && index_is(pl->p, (int)i, cols, oc->ncols))
            return 0;
    }
    return sql_error_set(err, pl->arena, SQL_STATE_INVALID_COLUMN_REFERENCE,
                         "there is no unique or exclusion constraint matching the ON CONFLICT "
                         "specification");
}

/* ON CONFLICT ON CONSTRAINT name: the primary key or a UNIQUE
 * constraint (an index made by CREATE UNIQUE INDEX is no constraint). */
static int arbiter_by_name(planner *pl, const char *name, int *out, sql_error *err)
{
    const sql_table_desc *t = pl->p->table;
    *out = SQL__ARBITER_PK;
    if (strcmp(t->primary.name, name) == 0)
        return 0;
    for (uint32_t i = 0; i < t->nindexes; i++) {
        *out = (int)i;
        if (t->indexes[i].unique && !t->indexes[i].standalone &&
            strcmp(t->indexes[i].name, name) == 0)
            return 0;
    }
    return sql_error_set(err, pl->arena, SQL_STATE_UNDEFINED_OBJECT,
                         "constraint \"%s\" for table \"%s\" does not exist", name, t->name);
}

/* DO UPDATE's SET and WHERE see the existing row by the table's name
 * (or alias) and the proposed row as `excluded`: the two rows side by
 * side, as a join's scope. */
static int conflict_scope(planner *pl, sql_scope *out, sql_error *err)
{
    const sql_scope *one = &pl->scope;
    sql_scope_col *cols = kv_arena_alloc(pl->arena, (2 * (size_t)one->ncols + 1) * sizeof(*cols));
    sql_scope_rel *rels = kv_arena_alloc(pl->arena, 2 * sizeof(*rels));
    if (cols == NULL || rels == NULL)
        return sql__oom(pl->arena, err);
    memcpy(cols, one->cols, (size_t)one->ncols * sizeof(*cols));
    memcpy(cols + one->ncols, one->cols, (size_t)one->ncols * sizeof(*cols));
    rels[0] = (sql_scope_rel){.name = one->table, .alias = one->alias, .ncols = one->ncols};
    rels[1] = (sql_scope_rel){.name = "excluded", .first = one->ncols, .ncols = one->ncols};
    *out = *one;
    out->cols = cols;
    out->ncols = 2 * one->ncols;
    out->rels = rels;
    out->nrels = 2;
    return 0;
}

static int plan_conflict(planner *pl, const sql_on_conflict *oc, sql_error *err)
{
    sql__conflict *c = kv_arena_alloc(pl->arena, sizeof(*c));
    if (c == NULL)
        return sql__oom(pl->arena, err);
    *c = (sql__conflict){.update = oc->update, .arbiter = SQL__ARBITER_ANY};
    int rc = 0;
    if (oc->constraint != NULL)
        rc = arbiter_by_name(pl, oc->constraint, &c->arbiter, err);
    else if (oc->ncols > 0)
        rc = arbiter_by_columns(pl, oc, &c->arbiter, err);
    if (rc != 0)
        return -1;
    if (oc->update && c->arbiter == SQL__ARBITER_ANY) {
        sql_error_set(err, pl->arena, SQL_STATE_SYNTAX_ERROR,
                      "ON CONFLICT DO UPDATE requires inference specification or constraint name");
        sql_error_hint(err, pl->arena, "For example, ON CONFLICT (column_name).");
        return error_at(pl, err, oc->location);
    }
    sql_scope scope;
    if (oc->update && (conflict_scope(pl, &scope, err) != 0 ||
                       bind_sets(pl, &scope, oc->assigns, oc->nassigns, err) != 0 ||
                       (oc->where != NULL && bind_as(pl, &scope, oc->where, type_bool, NULL,
                                                     "WHERE", &c->where, err) != 0)))
        return -1;
    pl->p->conflict = c;
    return 0;
}

/* Whether UPDATE assigns a column of the secondary index its path
 * reads: a moved entry could be met again further on. */
static bool sets_scanned_index(const sql_plan *p)
{
    if (p->path.kind != SQL__PATH_INDEX && p->path.kind != SQL__PATH_UNIQUE)
        return false;
    const sql_index_desc *ix = &p->table->indexes[p->path.ix];
    for (uint32_t k = 0; k < ix->ncols; k++)
        if (p->set[p->rc.ix_cols[p->path.ix][k]] != NULL)
            return true;
    return false;
}

/* UPDATE ... FROM, DELETE ... USING: the target table joined with the
 * other items, its columns the first slots of the joined row (so SET
 * expressions bound over the joined row find the target's columns at
 * their table positions). Each target row is written once, after the
 * join has read everything (exec_write.c). */
static int plan_modify_join(planner *pl, const sql_modify *m, sql_error *err)
{
    sql_plan *p = pl->p;
    if (m->nreturning > 0) {
        sql_error_set(err, pl->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "RETURNING with %s is not supported yet",
                      p->kind == SQL_STMT_UPDATE ? "UPDATE ... FROM" : "DELETE ... USING");
        return error_at(pl, err, m->returning[0].location);
    }
    sql_from **items = kv_arena_alloc(pl->arena, (size_t)(m->nfrom + 1) * sizeof(*items));
    sql_from *target = kv_arena_alloc(pl->arena, sizeof(*target));
    if (items == NULL || target == NULL)
        return sql__oom(pl->arena, err);
    *target = (sql_from){.table = m->table, .alias = m->alias, .location = m->table.location};
    items[0] = target;
    memcpy(items + 1, m->from_items, (size_t)m->nfrom * sizeof(*items));
    if ((p->kind == SQL_STMT_UPDATE && bind_checks(pl, err) != 0) ||
        join_from(pl, items, m->nfrom + 1, err) != 0)
        return -1;
    if (p->kind == SQL_STMT_UPDATE && bind_sets(pl, &pl->scope, m->assigns, m->nassigns, err) != 0)
        return -1;
    if (sql__join_plan(pl->join, m->where, &pl->jplan, err) != 0)
        return -1;
    p->join = pl->jplan;
    return plan_projection(pl, err);
}

static int plan_modify(planner *pl, const sql_modify *m, sql_error *err)
{
    sql_plan *p = pl->p;
    if (open_table(pl, &m->table, m->alias, err) != 0)
        return -1;
    if (m->nfrom > 0)
        return plan_modify_join(pl, m, err);
    if (p->kind == SQL_STMT_UPDATE &&
        (bind_sets(pl, &pl->scope, m->assigns, m->nassigns, err) != 0 || bind_checks(pl, err) != 0))
        return -1;
    if (plan_where(pl, m->where, err) != 0)
        return -1;
    p->returns_rows = m->nreturning > 0;
    if (bind_targets(pl, m->returning, m->nreturning, err) != 0)
        return -1;
    p->read_first = p->set_pk || (p->set != NULL && sets_scanned_index(p)) || p->nsubs > 0;
    return plan_projection(pl, err);
}

/* ---- subqueries ------------------------------------------------------ */

/* Adds `sub` to the subplans of `p` (freed with it). */
static int add_sub(planner *pl, sql_plan *sub, sql_error *err)
{
    sql_plan *p = pl->p;
    if (p->nsubs == p->capsubs) {
        int cap = p->capsubs ? 2 * p->capsubs : 4;
        sql_plan **subs = kv_arena_alloc(pl->arena, (size_t)cap * sizeof(*subs));
        if (subs == NULL)
            return sql__oom(pl->arena, err);
        if (p->nsubs > 0)
            memcpy(subs, p->subs, (size_t)p->nsubs * sizeof(*subs));
        p->subs = subs;
        p->capsubs = cap;
    }
    p->subs[p->nsubs++] = sub;
    return 0;
}

/* A SELECT planned as part of the statement pl plans, names it cannot
 * resolve looked up in `outer` (NULL: a query of its own, as INSERT ...
 * SELECT's), WITH queries in `parent` and outwards. On success *out is
 * one of pl's subplans and *correlated tells whether it read `outer`. */
static int plan_nested(planner *pl, const planner *parent, const sql_select *s,
                       const sql_scope *outer, const sql_type *unknown_as, int nunknown_as,
                       sql_plan **out, bool *correlated, sql_error *err)
{
    sql_plan *sub = kv_arena_alloc(pl->arena, sizeof(*sub));
    if (sub == NULL)
        return sql__oom(pl->arena, err);
    *sub = (sql_plan){.kind = SQL_STMT_SELECT, .catalog = pl->ctx->catalog};
    planner in = {.ctx = pl->ctx,
                  .arena = pl->arena,
                  .p = sub,
                  .outer = outer,
                  .parent = parent,
                  .unknown_as = unknown_as,
                  .nunknown_as = nunknown_as};
    in.empty = (sql_scope){.outer = outer, .outer_used = &in.outer_used};
    if (plan_select(&in, s, err) != 0 || explain(&in, err) != 0) {
        sql__plan_free(sub);
        return -1;
    }
    if (add_sub(pl, sub, err) != 0) {
        sql__plan_free(sub);
        return -1;
    }
    *out = sub;
    *correlated = in.outer_used;
    return 0;
}

/* The binder's subquery hook: plans `s` inside the scope being bound. */
static int plan_subquery(void *arg, const sql_bind_ctx *bc, const sql_select *s,
                         sql_subquery_info *out, sql_error *err)
{
    planner *pl = arg;
    sql_plan *sub;
    bool correlated;
    if (plan_nested(pl, pl, s, bc->scope, NULL, 0, &sub, &correlated, err) != 0)
        return -1;
    sql_type *types = kv_arena_alloc(pl->arena, ((size_t)sub->ntargets + 1) * sizeof(*types));
    if (types == NULL)
        return sql__oom(pl->arena, err);
    for (int i = 0; i < sub->ntargets; i++)
        types[i] = sub->cols[i].type;
    *out = (sql_subquery_info){
        .sub = sub, .types = types, .ncols = sub->ntargets, .correlated = correlated};
    return 0;
}

int sql__plan(sql_plan_ctx *ctx, const sql_stmt *st, kv_arena *arena, sql_plan **out,
              sql_error *err)
{
    sql_plan *p = kv_arena_alloc(arena, sizeof(*p));
    if (p == NULL)
        return sql__oom(arena, err);
    *p = (sql_plan){.kind = st->kind, .catalog = ctx->catalog};
    planner pl = {.ctx = ctx, .arena = arena, .p = p};
    int rc;
    if (st->kind != SQL_STMT_SELECT && sql__view_write(ctx, st, arena, &st, &p->view, err) != 0)
        return -1;
    switch (st->kind) {
    case SQL_STMT_SELECT:
        rc = plan_select(&pl, &st->u.select, err);
        break;
    case SQL_STMT_INSERT:
        rc = plan_insert(&pl, &st->u.insert, err);
        break;
    case SQL_STMT_UPDATE:
    case SQL_STMT_DELETE:
        rc = plan_modify(&pl, &st->u.modify, err);
        break;
    default:
        rc = sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "statement is not DML");
        break;
    }
    if (rc == 0)
        rc = explain(&pl, err);
    if (rc != 0) {
        sql__join_abandon(pl.join);
        sql__plan_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void sql__plan_free(sql_plan *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->nsubs; i++)
        sql__plan_free(p->subs[i]);
    p->nsubs = 0;
    sql_table_release(p->table);
    p->table = NULL;
    sql_table_release(p->view);
    p->view = NULL;
    if (p->join != NULL)
        sql__join_free(p->join);
    p->join = NULL;
}

const sql_column_info *sql__plan_columns(const sql_plan *p, size_t *n)
{
    *n = (size_t)p->ntargets;
    return p->cols;
}

bool sql__plan_returns_rows(const sql_plan *p)
{
    return p->returns_rows;
}

bool sql__plan_writes(const sql_plan *p)
{
    return p->kind != SQL_STMT_SELECT;
}

const char *sql__plan_tag(const sql_plan *p)
{
    switch (p->kind) {
    case SQL_STMT_INSERT:
        return "INSERT 0";
    case SQL_STMT_UPDATE:
        return "UPDATE";
    case SQL_STMT_DELETE:
        return "DELETE";
    default:
        return "SELECT";
    }
}

/* Whether descriptor d (NULL: none) changed since generation gen. */
static bool desc_stale(sql_catalog *c, uint64_t gen, const sql_table_desc *d)
{
    if (d == NULL || d->is_virtual || sql_catalog_generation(c) == gen)
        return false;
    kv_arena *arena;
    if (kv_arena_create(&arena) != 0)
        return true;
    sql_error err = {0};
    const sql_table_desc *now = NULL;
    int rc = sql_catalog_table(c, NULL, d->db_id, d->name, &now, &err, arena);
    bool stale = rc != 0 || now->id != d->id || now->version != d->version;
    sql_table_release(now);
    kv_arena_destroy(arena);
    return stale;
}

bool sql__plan_stale(const sql_plan *p, sql_catalog *c)
{
    for (int i = 0; i < p->nsubs; i++)
        if (sql__plan_stale(p->subs[i], c))
            return true;
    if (p->join != NULL)
        return sql__join_stale(p->join, c);
    return desc_stale(c, p->catalog_gen, p->table) || desc_stale(c, p->catalog_gen, p->view);
}

const char *sql__plan_explain(const sql_plan *p)
{
    return p->explain;
}
