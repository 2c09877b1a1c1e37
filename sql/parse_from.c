/*
 * parse_from.c - the FROM clause when it holds more than one plain table
 * (and UPDATE ... FROM, DELETE ... USING): comma-separated items and
 * JOIN trees (parse.h, sql_from).
 *
 * Joined tables keep PostgreSQL's shape: each JoinExpr becomes a join
 * node over its two items. INNER, LEFT, RIGHT, FULL, CROSS (an INNER
 * join without a condition), ON, USING and NATURAL are taken; a join
 * alias (JOIN ... AS j, USING (...) AS j) is refused with 0A000. Items
 * may also be subqueries and set-returning functions (sql_from.sub).
 */
#include <string.h>

#include "sql/parse_int.h"

static int from_item(sql__pctx *c, const PgQuery__Node *n, int loc, sql_from **out);

static int join_kind(sql__pctx *c, PgQuery__JoinType t, int loc, sql_join_kind *out)
{
    switch (t) {
    case PG_QUERY__JOIN_TYPE__JOIN_INNER:
        *out = SQL_JOIN_INNER;
        return 0;
    case PG_QUERY__JOIN_TYPE__JOIN_LEFT:
        *out = SQL_JOIN_LEFT;
        return 0;
    case PG_QUERY__JOIN_TYPE__JOIN_RIGHT:
        *out = SQL_JOIN_RIGHT;
        return 0;
    case PG_QUERY__JOIN_TYPE__JOIN_FULL:
        *out = SQL_JOIN_FULL;
        return 0;
    default:
        return sql__unsupported(c, loc, "this kind of JOIN");
    }
}

static int using_list(sql__pctx *c, const PgQuery__JoinExpr *j, int loc, sql_from *out)
{
    out->using_ = sql__palloc(c, (j->n_using_clause + 1) * sizeof(*out->using_));
    if (!out->using_)
        return -1;
    for (size_t i = 0; i < j->n_using_clause; i++) {
        const char *name = sql__node_str(j->using_clause[i]);
        if (!name)
            return sql__unsupported_node(c, j->using_clause[i], loc);
        if (!(out->using_[i] = sql__pstrdup(c, name)))
            return -1;
    }
    out->nusing = (int)j->n_using_clause;
    return 0;
}

static int join_expr(sql__pctx *c, const PgQuery__JoinExpr *j, int loc, sql_from *out)
{
    out->is_join = true;
    out->location = sql__node_location(j->larg);
    if (j->alias || j->join_using_alias)
        return sql__unsupported(c, out->location, "alias for a JOIN");
    if (join_kind(c, j->jointype, out->location, &out->join) < 0 ||
        from_item(c, j->larg, loc, &out->left) < 0 || from_item(c, j->rarg, loc, &out->right) < 0 ||
        using_list(c, j, loc, out) < 0 || sql__expr_opt(c, j->quals, &out->on) < 0)
        return -1;
    out->natural = j->is_natural;
    return 0;
}

static int from_item(sql__pctx *c, const PgQuery__Node *n, int loc, sql_from **out)
{
    sql_from *f = sql__palloc(c, sizeof(*f));
    if (!f)
        return -1;
    *out = f;
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_RANGE_VAR:
        f->location = n->range_var->location;
        return sql__range_var(c, n->range_var, &f->table, &f->alias);
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        return join_expr(c, n->join_expr, loc, f);
    case PG_QUERY__NODE__NODE_RANGE_SUBSELECT:
    case PG_QUERY__NODE__NODE_RANGE_FUNCTION: {
        sql__derived d = {0};
        if (sql__from_derived(c, n, loc, &d) < 0)
            return -1;
        *f = (sql_from){.location = loc,
                        .alias = d.alias,
                        .sub = d.sub,
                        .sub_cols = d.cols,
                        .nsub_cols = d.ncols};
        return 0;
    }
    default:
        return sql__unsupported_node(c, n, loc);
    }
}

int sql__from_items(sql__pctx *c, PgQuery__Node **items, size_t n, int loc, sql_from ***out,
                    int *nout)
{
    *out = sql__palloc(c, (n + 1) * sizeof(**out));
    if (!*out)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (from_item(c, items[i], loc, &(*out)[i]) < 0)
            return -1;
    *nout = (int)n;
    return 0;
}
