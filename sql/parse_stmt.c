/*
 * parse_stmt.c - statements other than CREATE/ALTER TABLE: SELECT, INSERT,
 * UPDATE, DELETE, DROP TABLE, TRUNCATE, databases, users, transaction
 * control, SET/RESET/SHOW.
 *
 * Clauses we do not execute yet are refused with 0A000 at the clause's
 * own location when PostgreSQL recorded one, else at the statement.
 */
#include <assert.h>
#include <string.h>

#include "sql/parse_int.h"

/* ---- SELECT --------------------------------------------------------- */

static int check_select_clauses(sql__pctx *c, const PgQuery__SelectStmt *s, int loc)
{
    if (s->with_clause && s->with_clause->recursive)
        return sql__unsupported(c, s->with_clause->location, "WITH RECURSIVE");
    if (s->into_clause)
        return sql__unsupported(c, loc, "SELECT INTO");
    if (s->group_distinct)
        return sql__unsupported(c, loc, "GROUP BY DISTINCT");
    for (size_t i = 0; i < s->n_group_clause; i++)
        if (s->group_clause[i]->node_case == PG_QUERY__NODE__NODE_GROUPING_SET)
            return sql__unsupported(c, s->group_clause[i]->grouping_set->location,
                                    "ROLLUP, CUBE and GROUPING SETS");
    if (s->n_window_clause)
        return sql__unsupported(c, loc, "WINDOW");
    if (s->n_locking_clause)
        return sql__unsupported(c, loc, "FOR UPDATE/SHARE");
    if (s->limit_option == PG_QUERY__LIMIT_OPTION__LIMIT_OPTION_WITH_TIES)
        return sql__unsupported(c, loc, "FETCH ... WITH TIES");
    return 0;
}

/* The names of an alias's column list (t(a, b)), arena copies. */
static int alias_columns(sql__pctx *c, const PgQuery__Alias *a, const char ***out, int *n)
{
    *out = NULL;
    *n = 0;
    if (!a || !a->n_colnames)
        return 0;
    const char **cols = sql__palloc(c, a->n_colnames * sizeof *cols);
    if (!cols)
        return -1;
    for (size_t i = 0; i < a->n_colnames; i++)
        if (!(cols[i] = sql__pstrdup(c, sql__node_str(a->colnames[i]))))
            return -1;
    *out = cols;
    *n = (int)a->n_colnames;
    return 0;
}

/* FROM (subquery) [AS] alias [(cols)]; PostgreSQL 15's grammar demands
 * the alias. */
static int from_subselect(sql__pctx *c, const PgQuery__RangeSubselect *r, int loc,
                          sql__derived *out)
{
    if (r->lateral)
        return sql__unsupported(c, loc, "LATERAL");
    assert(r->alias && r->subquery->node_case == PG_QUERY__NODE__NODE_SELECT_STMT);
    out->sub = sql__palloc(c, sizeof *out->sub);
    out->alias = sql__pstrdup(c, r->alias->aliasname);
    if (!out->sub || !out->alias || alias_columns(c, r->alias, &out->cols, &out->ncols) < 0)
        return -1;
    return sql__select_stmt(c, r->subquery->select_stmt, loc, out->sub);
}

/* FROM f(args) [WITH ORDINALITY] [[AS] alias [(cols)]]: a query whose
 * `func` is the call. The relation is named after the function unless
 * aliased, and so is its value column unless the column list names it
 * (every set-returning function we have returns one scalar column). */
static int from_function(sql__pctx *c, const PgQuery__RangeFunction *r, int loc, sql__derived *out)
{
    if (r->lateral)
        return sql__unsupported(c, loc, "LATERAL");
    if (r->is_rowsfrom || r->n_functions != 1)
        return sql__unsupported(c, loc, "ROWS FROM");
    const PgQuery__List *pair = r->functions[0]->list;
    assert(r->functions[0]->node_case == PG_QUERY__NODE__NODE_LIST && pair->n_items == 2);
    if (r->n_coldeflist || pair->items[1]->node_case != PG_QUERY__NODE__NODE__NOT_SET)
        return sql__unsupported(c, loc, "a column definition list");
    if (pair->items[0]->node_case != PG_QUERY__NODE__NODE_FUNC_CALL)
        return sql__unsupported_node(c, pair->items[0], loc);
    out->sub = sql__palloc(c, sizeof *out->sub);
    if (!out->sub || sql__expr(c, pair->items[0], &out->sub->func) < 0)
        return -1;
    out->sub->func_ordinality = r->ordinality;
    out->alias = r->alias ? sql__pstrdup(c, r->alias->aliasname) : out->sub->func->name;
    out->sub->alias = out->alias;
    if (!out->alias || alias_columns(c, r->alias, &out->cols, &out->ncols) < 0)
        return -1;
    if (out->ncols == 0) {
        if (!(out->cols = sql__palloc(c, sizeof *out->cols)))
            return -1;
        out->cols[0] = out->alias;
        out->ncols = 1;
    }
    return 0;
}

int sql__from_derived(sql__pctx *c, const PgQuery__Node *n, int loc, sql__derived *out)
{
    if (n->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT)
        return from_subselect(c, n->range_subselect, loc, out);
    assert(n->node_case == PG_QUERY__NODE__NODE_RANGE_FUNCTION);
    return from_function(c, n->range_function, loc, out);
}

/* WITH name [(cols)] AS (SELECT ...), ...: only SELECT bodies. */
static int with_clause(sql__pctx *c, const PgQuery__WithClause *w, int loc, sql_select *out)
{
    out->ctes = sql__palloc(c, (w->n_ctes ? w->n_ctes : 1) * sizeof *out->ctes);
    if (!out->ctes)
        return -1;
    for (size_t i = 0; i < w->n_ctes; i++) {
        const PgQuery__CommonTableExpr *x = w->ctes[i]->common_table_expr;
        sql_cte *t = &out->ctes[i];
        PgQuery__Alias names = {.n_colnames = x->n_aliascolnames, .colnames = x->aliascolnames};

        assert(w->ctes[i]->node_case == PG_QUERY__NODE__NODE_COMMON_TABLE_EXPR);
        if (x->ctequery->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
            return sql__unsupported(c, x->location, "data-modifying statement in WITH");
        if (x->search_clause || x->cycle_clause)
            return sql__unsupported(c, x->location, "SEARCH or CYCLE");
        t->location = x->location;
        t->name = sql__pstrdup(c, x->ctename);
        t->query = sql__palloc(c, sizeof *t->query);
        if (!t->name || !t->query || alias_columns(c, &names, &t->cols, &t->ncols) < 0 ||
            sql__select_stmt(c, x->ctequery->select_stmt, loc, t->query) < 0)
            return -1;
    }
    out->nctes = (int)w->n_ctes;
    return 0;
}

static int order_by(sql__pctx *c, PgQuery__Node **items, size_t n, sql_select *out)
{
    out->order = sql__palloc(c, (n ? n : 1) * sizeof *out->order);
    if (!out->order)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const PgQuery__SortBy *s = items[i]->sort_by;
        sql_order *o = &out->order[i];

        assert(items[i]->node_case == PG_QUERY__NODE__NODE_SORT_BY);
        if (s->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_USING)
            return sql__unsupported(c, s->location, "ORDER BY ... USING");
        o->location = s->location;
        o->desc = s->sortby_dir == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
        /* PostgreSQL sorts NULLs as larger than every value by default */
        o->nulls_first = s->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_DEFAULT
                             ? o->desc
                             : s->sortby_nulls == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST;
        if (sql__expr(c, s->node, &o->expr) < 0)
            return -1;
    }
    out->norder = (int)n;
    return 0;
}

/* LIMIT ALL arrives as LIMIT NULL, which means the same: no limit. */
static int limit_expr(sql__pctx *c, const PgQuery__Node *n, sql_expr **out)
{
    if (sql__expr_opt(c, n, out) < 0)
        return -1;
    if (*out && (*out)->kind == SQL_EXPR_CONST && (*out)->const_kind == SQL_CONST_NULL)
        *out = NULL;
    return 0;
}

/* SELECT DISTINCT arrives as a one-item list holding an empty node,
 * DISTINCT ON (exprs) as the expressions. */
static int distinct_clause(sql__pctx *c, const PgQuery__SelectStmt *s, sql_select *out)
{
    if (s->n_distinct_clause == 0)
        return 0;
    out->distinct = true;
    if (s->n_distinct_clause == 1 &&
        s->distinct_clause[0]->node_case == PG_QUERY__NODE__NODE__NOT_SET)
        return 0;
    if (sql__expr_list(c, s->distinct_clause, s->n_distinct_clause, &out->distinct_on) < 0)
        return -1;
    out->ndistinct_on = (int)s->n_distinct_clause;
    return 0;
}

static int group_clause(sql__pctx *c, const PgQuery__SelectStmt *s, sql_select *out)
{
    if (sql__expr_list(c, s->group_clause, s->n_group_clause, &out->group_by) < 0 ||
        sql__expr_opt(c, s->having_clause, &out->having) < 0)
        return -1;
    out->ngroup_by = (int)s->n_group_clause;
    return 0;
}

/* ORDER BY, LIMIT and OFFSET. */
static int order_limit(sql__pctx *c, const PgQuery__SelectStmt *s, sql_select *out)
{
    if (order_by(c, s->sort_clause, s->n_sort_clause, out) < 0 ||
        limit_expr(c, s->limit_count, &out->limit) < 0 ||
        limit_expr(c, s->limit_offset, &out->offset) < 0)
        return -1;
    return 0;
}

/* VALUES rows: *rows[i][j], every row *rowlen items long. */
static int values_lists(sql__pctx *c, const PgQuery__SelectStmt *s, sql_expr ****rows, int *nrows,
                        int *rowlen)
{
    *rows = sql__palloc(c, s->n_values_lists * sizeof **rows);
    if (!*rows)
        return -1;
    for (size_t i = 0; i < s->n_values_lists; i++) {
        const PgQuery__List *l = s->values_lists[i]->list;

        assert(s->values_lists[i]->node_case == PG_QUERY__NODE__NODE_LIST);
        if (i > 0 && l->n_items != (size_t)*rowlen)
            return sql__error_at(c, sql__node_location(l->items[0]), SQL_STATE_SYNTAX_ERROR,
                                 "VALUES lists must all be the same length");
        *rowlen = (int)l->n_items;
        if (sql__expr_list(c, l->items, l->n_items, &(*rows)[i]) < 0)
            return -1;
    }
    *nrows = (int)s->n_values_lists;
    return 0;
}

/* larg UNION/INTERSECT/EXCEPT [ALL] rarg: the branches, each a SELECT
 * (or a set operation) of its own; WITH, ORDER BY and LIMIT are the
 * whole's. */
static int set_operation(sql__pctx *c, const PgQuery__SelectStmt *s, int loc, sql_select *out)
{
    out->setop = s->op == PG_QUERY__SET_OPERATION__SETOP_UNION       ? SQL_SETOP_UNION
                 : s->op == PG_QUERY__SET_OPERATION__SETOP_INTERSECT ? SQL_SETOP_INTERSECT
                                                                     : SQL_SETOP_EXCEPT;
    out->setop_all = s->all;
    out->larg = sql__palloc(c, sizeof *out->larg);
    out->rarg = sql__palloc(c, sizeof *out->rarg);
    if (!out->larg || !out->rarg || sql__select_stmt(c, s->larg, loc, out->larg) < 0 ||
        sql__select_stmt(c, s->rarg, loc, out->rarg) < 0)
        return -1;
    return order_limit(c, s, out);
}

/* VALUES (...), ... [ORDER BY] [LIMIT] as a query. */
static int values_query(sql__pctx *c, const PgQuery__SelectStmt *s, sql_select *out)
{
    if (values_lists(c, s, &out->values, &out->nvalues, &out->values_width) < 0)
        return -1;
    return order_limit(c, s, out);
}

int sql__select_stmt(sql__pctx *c, const PgQuery__SelectStmt *s, int loc, sql_select *out)
{
    if (check_select_clauses(c, s, loc) < 0)
        return -1;
    if (s->with_clause && with_clause(c, s->with_clause, loc, out) < 0)
        return -1;
    if (s->op != PG_QUERY__SET_OPERATION__SETOP_NONE)
        return set_operation(c, s, loc, out);
    if (s->n_values_lists)
        return values_query(c, s, out);
    const PgQuery__Node *f = s->n_from_clause == 1 ? s->from_clause[0] : NULL;
    if (f && f->node_case == PG_QUERY__NODE__NODE_RANGE_VAR) {
        out->has_from = true;
        if (sql__range_var(c, f->range_var, &out->from, &out->alias) < 0)
            return -1;
    } else if (f && (f->node_case == PG_QUERY__NODE__NODE_RANGE_SUBSELECT ||
                     f->node_case == PG_QUERY__NODE__NODE_RANGE_FUNCTION)) {
        sql__derived d = {0};
        out->has_from = true;
        if (sql__from_derived(c, f, loc, &d) < 0)
            return -1;
        out->from_sub = d.sub;
        out->alias = d.alias;
        out->from_cols = d.cols;
        out->nfrom_cols = d.ncols;
    } else if (s->n_from_clause > 0 && sql__from_items(c, s->from_clause, s->n_from_clause, loc,
                                                       &out->from_items, &out->nfrom) < 0) {
        return -1;
    }
    if (sql__targets(c, s->target_list, s->n_target_list, &out->targets, &out->ntargets) < 0 ||
        sql__expr_opt(c, s->where_clause, &out->where) < 0 || group_clause(c, s, out) < 0 ||
        distinct_clause(c, s, out) < 0 || order_limit(c, s, out) < 0)
        return -1;
    return 0;
}

/* ---- INSERT, UPDATE, DELETE ----------------------------------------- */

/* VALUES rows, or the query of INSERT ... SELECT. */
static int insert_rows(sql__pctx *c, const PgQuery__SelectStmt *s, int loc, sql_insert *out)
{
    if (!s->n_values_lists) {
        out->select = sql__palloc(c, sizeof *out->select);
        return out->select ? sql__select_stmt(c, s, loc, out->select) : -1;
    }
    if (s->n_sort_clause || s->limit_count || s->limit_offset || s->with_clause ||
        s->op != PG_QUERY__SET_OPERATION__SETOP_NONE)
        return sql__unsupported(c, loc, "VALUES with ORDER BY, LIMIT or WITH");
    return values_lists(c, s, &out->rows, &out->nrows, &out->rowlen);
}

/* A bare column name of an INSERT column list or UPDATE SET. */
static int target_column(sql__pctx *c, const PgQuery__ResTarget *r, const char **out)
{
    if (r->n_indirection)
        return sql__unsupported(c, r->location, "assignment to a subscript or field");
    *out = sql__pstrdup(c, r->name);
    return *out ? 0 : -1;
}

/* The column list of INSERT INTO t (a, b), with where each name was written. */
static int insert_columns(sql__pctx *c, const PgQuery__InsertStmt *s, sql_insert *out)
{
    int *locations = sql__palloc(c, (s->n_cols ? s->n_cols : 1) * sizeof *locations);

    out->columns = sql__palloc(c, (s->n_cols ? s->n_cols : 1) * sizeof *out->columns);
    if (!out->columns || !locations)
        return -1;
    for (size_t i = 0; i < s->n_cols; i++) {
        if (target_column(c, s->cols[i]->res_target, &out->columns[i]) < 0)
            return -1;
        locations[i] = s->cols[i]->res_target->location;
    }
    out->column_locations = locations;
    out->ncolumns = (int)s->n_cols;
    return 0;
}

/* ON CONFLICT (below, with the SET items of UPDATE it shares). */
static int on_conflict(sql__pctx *c, const PgQuery__OnConflictClause *oc, sql_on_conflict **out);

static int insert_stmt(sql__pctx *c, const PgQuery__InsertStmt *s, int loc, sql_insert *out)
{
    if (s->with_clause)
        return sql__unsupported(c, s->with_clause->location, "WITH");
    if (s->override != PG_QUERY__OVERRIDING_KIND__OVERRIDING_NOT_SET)
        return sql__unsupported(c, loc, "OVERRIDING");
    if (sql__range_var(c, s->relation, &out->table, &out->alias) < 0)
        return -1;
    if (insert_columns(c, s, out) < 0)
        return -1;
    out->default_values = !s->select_stmt;
    if (s->select_stmt && insert_rows(c, s->select_stmt->select_stmt, loc, out) < 0)
        return -1;
    if (s->on_conflict_clause && on_conflict(c, s->on_conflict_clause, &out->on_conflict) < 0)
        return -1;
    return sql__targets(c, s->returning_list, s->n_returning_list, &out->returning,
                        &out->nreturning);
}

/* SET items `column = expr` of UPDATE and ON CONFLICT DO UPDATE. */
static int assignments(sql__pctx *c, PgQuery__Node **items, size_t n, sql_assign **assigns,
                       int *nassigns)
{
    sql_assign *out = sql__palloc(c, (n ? n : 1) * sizeof *out);

    if (!out)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const PgQuery__ResTarget *r = items[i]->res_target;

        out[i].location = r->location;
        if (target_column(c, r, &out[i].column) < 0 || sql__expr(c, r->val, &out[i].value) < 0)
            return -1;
    }
    *assigns = out;
    *nassigns = (int)n;
    return 0;
}

/* ON CONFLICT's arbiter columns: plain column names only. */
static int conflict_columns(sql__pctx *c, const PgQuery__InferClause *inf, sql_on_conflict *out)
{
    out->cols = sql__palloc(c, (inf->n_index_elems ? inf->n_index_elems : 1) * sizeof *out->cols);
    if (!out->cols)
        return -1;
    for (size_t i = 0; i < inf->n_index_elems; i++) {
        const PgQuery__IndexElem *e = inf->index_elems[i]->index_elem;

        if (!e->name || !*e->name || e->n_collation || e->n_opclass)
            return sql__unsupported(c, inf->location, "an ON CONFLICT target other than columns");
        if (!(out->cols[i] = sql__pstrdup(c, e->name)))
            return -1;
    }
    out->ncols = (int)inf->n_index_elems;
    out->cols_location = inf->location;
    return 0;
}

static int on_conflict(sql__pctx *c, const PgQuery__OnConflictClause *oc, sql_on_conflict **out)
{
    const PgQuery__InferClause *inf = oc->infer;
    sql_on_conflict *o = sql__palloc(c, sizeof *o);

    if (!o)
        return -1;
    o->location = oc->location;
    o->update = oc->action == PG_QUERY__ON_CONFLICT_ACTION__ONCONFLICT_UPDATE;
    if (inf && inf->where_clause)
        return sql__unsupported(c, inf->location, "an index predicate in ON CONFLICT");
    if (inf && inf->conname && *inf->conname && !(o->constraint = sql__pstrdup(c, inf->conname)))
        return -1;
    if ((inf && conflict_columns(c, inf, o) < 0) ||
        assignments(c, oc->target_list, oc->n_target_list, &o->assigns, &o->nassigns) < 0 ||
        sql__expr_opt(c, oc->where_clause, &o->where) < 0)
        return -1;
    *out = o;
    return 0;
}

static int update_stmt(sql__pctx *c, const PgQuery__UpdateStmt *s, int loc, sql_modify *out)
{
    if (s->with_clause)
        return sql__unsupported(c, s->with_clause->location, "WITH");
    if (sql__from_items(c, s->from_clause, s->n_from_clause, loc, &out->from_items, &out->nfrom) <
            0 ||
        sql__range_var(c, s->relation, &out->table, &out->alias) < 0 ||
        assignments(c, s->target_list, s->n_target_list, &out->assigns, &out->nassigns) < 0 ||
        sql__expr_opt(c, s->where_clause, &out->where) < 0)
        return -1;
    return sql__targets(c, s->returning_list, s->n_returning_list, &out->returning,
                        &out->nreturning);
}

static int delete_stmt(sql__pctx *c, const PgQuery__DeleteStmt *s, int loc, sql_modify *out)
{
    if (s->with_clause)
        return sql__unsupported(c, s->with_clause->location, "WITH");
    if (sql__from_items(c, s->using_clause, s->n_using_clause, loc, &out->from_items, &out->nfrom) <
            0 ||
        sql__range_var(c, s->relation, &out->table, &out->alias) < 0 ||
        sql__expr_opt(c, s->where_clause, &out->where) < 0)
        return -1;
    return sql__targets(c, s->returning_list, s->n_returning_list, &out->returning,
                        &out->nreturning);
}

/* ---- DROP TABLE, TRUNCATE, databases, users -------------------------- */

static int drop_stmt(sql__pctx *c, const PgQuery__DropStmt *s, int loc, sql_stmt *st)
{
    const ProtobufCEnumValue *v;
    sql_table_list *out = &st->u.tables;

    st->kind = s->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX  ? SQL_STMT_DROP_INDEX
               : s->remove_type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW ? SQL_STMT_DROP_VIEW
                                                                      : SQL_STMT_DROP_TABLE;
    if (s->concurrent)
        return sql__unsupported(c, loc, "DROP INDEX CONCURRENTLY");
    if (s->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE &&
        s->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_INDEX &&
        s->remove_type != PG_QUERY__OBJECT_TYPE__OBJECT_VIEW) {
        /* "OBJECT_INDEX" -> "DROP INDEX" */
        v = protobuf_c_enum_descriptor_get_value(&pg_query__object_type__descriptor,
                                                 s->remove_type);
        return sql__error_at(c, loc, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "DROP %s is not supported yet", v ? v->name + 7 : "?");
    }
    if (s->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
        return sql__unsupported(c, loc, "CASCADE");
    out->tables = sql__palloc(c, s->n_objects * sizeof *out->tables);
    if (!out->tables)
        return -1;
    for (size_t i = 0; i < s->n_objects; i++) {
        const PgQuery__List *l = s->objects[i]->list;

        assert(s->objects[i]->node_case == PG_QUERY__NODE__NODE_LIST);
        if (sql__name_list(c, l->items, l->n_items, loc, &out->tables[i]) < 0)
            return -1;
    }
    out->ntables = (int)s->n_objects;
    out->if_exists = s->missing_ok;
    return 0;
}

static int truncate_stmt(sql__pctx *c, const PgQuery__TruncateStmt *s, int loc, sql_table_list *out)
{
    if (s->restart_seqs)
        return sql__unsupported(c, loc, "RESTART IDENTITY");
    if (s->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
        return sql__unsupported(c, loc, "CASCADE");
    out->tables = sql__palloc(c, s->n_relations * sizeof *out->tables);
    if (!out->tables)
        return -1;
    for (size_t i = 0; i < s->n_relations; i++)
        if (sql__range_var(c, s->relations[i]->range_var, &out->tables[i], NULL) < 0)
            return -1;
    out->ntables = (int)s->n_relations;
    return 0;
}

static int database(sql__pctx *c, const char *name, bool if_exists, PgQuery__Node **options,
                    size_t noptions, sql_database *out)
{
    out->if_exists = if_exists;
    if (!(out->name = sql__pstrdup(c, name)))
        return -1;
    return sql__options(c, options, noptions, &out->options, &out->noptions);
}

/* Role options with PASSWORD lifted out of the list. */
static int role_options(sql__pctx *c, PgQuery__Node **items, size_t n, sql_role *out)
{
    int kept = 0;

    if (sql__options(c, items, n, &out->options, &out->noptions) < 0)
        return -1;
    for (int i = 0; i < out->noptions; i++) {
        if (strcmp(out->options[i].name, "password") == 0) {
            out->has_password = true;
            out->password = out->options[i].value;
        } else {
            out->options[kept++] = out->options[i];
        }
    }
    out->noptions = kept;
    return 0;
}

static int role_name(sql__pctx *c, const PgQuery__RoleSpec *r, const char **out)
{
    if (r->roletype != PG_QUERY__ROLE_SPEC_TYPE__ROLESPEC_CSTRING)
        return sql__unsupported(c, r->location, "CURRENT_USER/SESSION_USER/PUBLIC as a role name");
    *out = sql__pstrdup(c, r->rolename);
    return *out ? 0 : -1;
}

static int create_role(sql__pctx *c, const PgQuery__CreateRoleStmt *s, int loc, sql_role *out)
{
    if (s->stmt_type == PG_QUERY__ROLE_STMT_TYPE__ROLESTMT_GROUP)
        return sql__unsupported(c, loc, "CREATE GROUP");
    out->is_user = s->stmt_type == PG_QUERY__ROLE_STMT_TYPE__ROLESTMT_USER;
    out->names = sql__palloc(c, sizeof *out->names);
    if (!out->names || !(out->names[0] = sql__pstrdup(c, s->role)))
        return -1;
    out->nnames = 1;
    return role_options(c, s->options, s->n_options, out);
}

static int alter_role(sql__pctx *c, const PgQuery__AlterRoleStmt *s, sql_role *out)
{
    out->names = sql__palloc(c, sizeof *out->names);
    if (!out->names || role_name(c, s->role, &out->names[0]) < 0)
        return -1;
    out->nnames = 1;
    return role_options(c, s->options, s->n_options, out);
}

static int drop_role(sql__pctx *c, const PgQuery__DropRoleStmt *s, sql_role *out)
{
    out->names = sql__palloc(c, s->n_roles * sizeof *out->names);
    if (!out->names)
        return -1;
    for (size_t i = 0; i < s->n_roles; i++)
        if (role_name(c, s->roles[i]->role_spec, &out->names[i]) < 0)
            return -1;
    out->nnames = (int)s->n_roles;
    out->if_exists = s->missing_ok;
    return 0;
}

/* ---- transactions, SET, SHOW ----------------------------------------- */

static const struct {
    const char *name;
    sql_isolation level;
} isolation_names[] = {
    {"read uncommitted", SQL_ISO_READ_UNCOMMITTED},
    {"read committed", SQL_ISO_READ_COMMITTED},
    {"repeatable read", SQL_ISO_REPEATABLE_READ},
    {"serializable", SQL_ISO_SERIALIZABLE},
};

/* One transaction mode; the grammar gives the isolation level as a
 * string constant and READ ONLY / DEFERRABLE as integer constants. */
static void txn_mode(const PgQuery__DefElem *d, sql_txn_modes *out)
{
    const PgQuery__AConst *k = d->arg->a_const;

    assert(d->arg->node_case == PG_QUERY__NODE__NODE_A_CONST);
    if (strcmp(d->defname, "transaction_isolation") == 0) {
        for (size_t i = 0; i < sizeof isolation_names / sizeof isolation_names[0]; i++)
            if (strcmp(k->sval->sval, isolation_names[i].name) == 0)
                out->isolation = isolation_names[i].level;
        assert(out->isolation != SQL_ISO_DEFAULT);
    } else if (strcmp(d->defname, "transaction_read_only") == 0) {
        out->read_only = k->ival->ival != 0;
    } else {
        assert(strcmp(d->defname, "transaction_deferrable") == 0);
        out->deferrable = k->ival->ival != 0;
    }
}

static void txn_modes(PgQuery__Node **items, size_t n, sql_txn_modes *out)
{
    out->isolation = SQL_ISO_DEFAULT;
    out->read_only = -1;
    out->deferrable = -1;
    for (size_t i = 0; i < n; i++) {
        assert(items[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM);
        txn_mode(items[i]->def_elem, out);
    }
}

static int transaction_stmt(sql__pctx *c, const PgQuery__TransactionStmt *s, int loc, sql_stmt *out)
{
    if (s->chain)
        return sql__unsupported(c, loc, "AND CHAIN");
    switch (s->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
        out->kind = SQL_STMT_BEGIN;
        txn_modes(s->options, s->n_options, &out->u.begin);
        return 0;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT:
        out->kind = SQL_STMT_COMMIT;
        return 0;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
        out->kind = SQL_STMT_ROLLBACK;
        return 0;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
        return sql__unsupported(c, loc, "SAVEPOINT");
    default:
        return sql__unsupported(c, loc, "two-phase commit");
    }
}

/* SET's values: constants only (SET TIME ZONE INTERVAL '...' is not). */
static int set_values(sql__pctx *c, const PgQuery__VariableSetStmt *s, int loc, sql_set *out)
{
    sql_expr *e;

    out->values = sql__palloc(c, (s->n_args ? s->n_args : 1) * sizeof *out->values);
    if (!out->values)
        return -1;
    for (size_t i = 0; i < s->n_args; i++) {
        /* the grammar makes only SET TIME ZONE INTERVAL '..' a non-constant */
        if (s->args[i]->node_case != PG_QUERY__NODE__NODE_A_CONST)
            return sql__unsupported(c, loc, "SET TIME ZONE INTERVAL");
        if (sql__expr(c, s->args[i], &e) < 0)
            return -1;
        out->values[i] = e->text;
    }
    out->nvalues = (int)s->n_args;
    return 0;
}

static int set_multi(sql__pctx *c, const PgQuery__VariableSetStmt *s, int loc, sql_set *out)
{
    if (strcmp(s->name, "TRANSACTION") == 0)
        out->kind = SQL_SET_TRANSACTION;
    else if (strcmp(s->name, "SESSION CHARACTERISTICS") == 0)
        out->kind = SQL_SET_SESSION_DEFAULTS;
    else
        return sql__unsupported(c, loc, "SET TRANSACTION SNAPSHOT");
    txn_modes(s->args, s->n_args, &out->modes);
    return 0;
}

static int set_stmt(sql__pctx *c, const PgQuery__VariableSetStmt *s, int loc, sql_set *out)
{
    out->is_local = s->is_local;
    if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI)
        return set_multi(c, s, loc, out);
    if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL) {
        out->kind = SQL_SET_RESET_ALL;
        return 0;
    }
    if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_CURRENT)
        return sql__unsupported(c, loc, "SET ... FROM CURRENT");
    if (!(out->name = sql__pstrdup(c, s->name)))
        return -1;
    switch (s->kind) {
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE:
        out->kind = SQL_SET_VALUE;
        return set_values(c, s, loc, out);
    case PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT:
        out->kind = SQL_SET_DEFAULT;
        return 0;
    default:
        assert(s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET);
        out->kind = SQL_SET_RESET;
        return 0;
    }
}

/* ---- dispatch --------------------------------------------------------- */

static int ddl_stmt(sql__pctx *c, const PgQuery__Node *n, int loc, sql_stmt *out)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_STMT:
        out->kind = SQL_STMT_CREATE_TABLE;
        return sql__create_table(c, n->create_stmt, &out->u.create_table);
    case PG_QUERY__NODE__NODE_DROP_STMT:
        return drop_stmt(c, n->drop_stmt, loc, out);
    case PG_QUERY__NODE__NODE_INDEX_STMT:
        out->kind = SQL_STMT_CREATE_INDEX;
        return sql__parse_create_index(c, n->index_stmt, loc, &out->u.create_index);
    case PG_QUERY__NODE__NODE_VIEW_STMT:
        out->kind = SQL_STMT_CREATE_VIEW;
        return sql__parse_create_view(c, n->view_stmt, out, &out->u.create_view);
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT:
        out->kind = SQL_STMT_EXPLAIN;
        return sql__explain_stmt(c, n->explain_stmt, loc, &out->u.explain);
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT:
        out->kind = SQL_STMT_TRUNCATE;
        return truncate_stmt(c, n->truncate_stmt, loc, &out->u.tables);
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
        out->kind = SQL_STMT_ALTER_TABLE;
        return sql__alter_table(c, n->alter_table_stmt, loc, &out->u.alter_table);
    case PG_QUERY__NODE__NODE_CREATEDB_STMT:
        out->kind = SQL_STMT_CREATE_DATABASE;
        return database(c, n->createdb_stmt->dbname, false, n->createdb_stmt->options,
                        n->createdb_stmt->n_options, &out->u.database);
    case PG_QUERY__NODE__NODE_DROPDB_STMT:
        out->kind = SQL_STMT_DROP_DATABASE;
        return database(c, n->dropdb_stmt->dbname, n->dropdb_stmt->missing_ok,
                        n->dropdb_stmt->options, n->dropdb_stmt->n_options, &out->u.database);
    case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT:
        out->kind = SQL_STMT_CREATE_ROLE;
        return create_role(c, n->create_role_stmt, loc, &out->u.role);
    case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT:
        out->kind = SQL_STMT_ALTER_ROLE;
        return alter_role(c, n->alter_role_stmt, &out->u.role);
    case PG_QUERY__NODE__NODE_DROP_ROLE_STMT:
        out->kind = SQL_STMT_DROP_ROLE;
        return drop_role(c, n->drop_role_stmt, &out->u.role);
    default:
        return sql__unsupported_node(c, n, loc);
    }
}

int sql__stmt(sql__pctx *c, const PgQuery__Node *n, int loc, sql_stmt *out)
{
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT:
        out->kind = SQL_STMT_SELECT;
        return sql__select_stmt(c, n->select_stmt, loc, &out->u.select);
    case PG_QUERY__NODE__NODE_INSERT_STMT:
        out->kind = SQL_STMT_INSERT;
        return insert_stmt(c, n->insert_stmt, loc, &out->u.insert);
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
        out->kind = SQL_STMT_UPDATE;
        return update_stmt(c, n->update_stmt, loc, &out->u.modify);
    case PG_QUERY__NODE__NODE_DELETE_STMT:
        out->kind = SQL_STMT_DELETE;
        return delete_stmt(c, n->delete_stmt, loc, &out->u.modify);
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
        return transaction_stmt(c, n->transaction_stmt, loc, out);
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
        out->kind = SQL_STMT_SET;
        return set_stmt(c, n->variable_set_stmt, loc, &out->u.set);
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
        out->kind = SQL_STMT_SHOW;
        return (out->u.show = sql__pstrdup(c, n->variable_show_stmt->name)) ? 0 : -1;
    case PG_QUERY__NODE__NODE_COPY_STMT:
        out->kind = SQL_STMT_COPY;
        return sql__copy_stmt(c, n->copy_stmt, loc, &out->u.copy);
    case PG_QUERY__NODE__NODE_VACUUM_STMT:
        return sql__vacuum_stmt(c, n->vacuum_stmt, out);
    default:
        return ddl_stmt(c, n, loc, out);
    }
}
