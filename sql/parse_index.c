/*
 * parse_index.c - CREATE INDEX and EXPLAIN (parse_int.h): the forms of
 * PostgreSQL's IndexStmt and ExplainStmt that Tardigrade runs; every
 * other option is refused with 0A000 at the statement, so nothing a
 * client asked for is dropped silently.
 */
#include <string.h>

#include "sql/parse_int.h"

/* Refuses what an index here cannot be: expressions, partial, INCLUDE,
 * another access method, options, non-default NULL placement. */
static int index_shape(sql__pctx *c, const PgQuery__IndexStmt *s, int loc)
{
    if (s->where_clause)
        return sql__unsupported(c, loc, "partial index");
    if (s->n_index_including_params)
        return sql__unsupported(c, loc, "INCLUDE");
    if (s->access_method[0] && strcmp(s->access_method, "btree") != 0)
        return sql__unsupported(c, loc, "index access method other than btree");
    if (s->n_options || s->table_space[0] || s->nulls_not_distinct)
        return sql__unsupported(c, loc, "index options");
    if (s->concurrent)
        return sql__unsupported(c, loc, "CREATE INDEX CONCURRENTLY");
    return 0;
}

static int index_column(sql__pctx *c, const PgQuery__IndexElem *e, int loc, const char **name,
                        bool *desc)
{
    if (e->expr || !e->name[0])
        return sql__unsupported(c, loc, "index on an expression");
    if (e->n_collation || e->n_opclass || e->n_opclassopts)
        return sql__unsupported(c, loc, "index column options");
    *desc = e->ordering == PG_QUERY__SORT_BY_DIR__SORTBY_DESC;
    /* the key encoding puts NULLs last ascending, first descending */
    bool nulls_first = e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST;
    bool nulls_given = e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_FIRST ||
                       e->nulls_ordering == PG_QUERY__SORT_BY_NULLS__SORTBY_NULLS_LAST;
    if (nulls_given && nulls_first != *desc)
        return sql__unsupported(c, loc, "NULLS FIRST/LAST against the index order");
    return (*name = sql__pstrdup(c, e->name)) ? 0 : -1;
}

int sql__parse_create_index(sql__pctx *c, const PgQuery__IndexStmt *s, int location,
                            sql_create_index *out)
{
    size_t n = s->n_index_params;

    if (index_shape(c, s, location) < 0 || sql__range_var(c, s->relation, &out->table, NULL) < 0)
        return -1;
    if (s->idxname[0] && !(out->name = sql__pstrdup(c, s->idxname)))
        return -1;
    out->unique = s->unique;
    out->if_not_exists = s->if_not_exists;
    const char **cols = sql__palloc(c, (n ? n : 1) * sizeof *cols);
    bool *desc = sql__palloc(c, n ? n : 1);
    if (!cols || !desc)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s->index_params[i]->node_case != PG_QUERY__NODE__NODE_INDEX_ELEM)
            return sql__unsupported_node(c, s->index_params[i], location);
        if (index_column(c, s->index_params[i]->index_elem, location, &cols[i], &desc[i]) < 0)
            return -1;
    }
    out->columns = cols;
    out->desc = desc;
    out->ncolumns = (int)n;
    return 0;
}

/* ANALYZE [bool] and COSTS [bool] (no costs are printed either way). */
static int explain_option(sql__pctx *c, const PgQuery__DefElem *d, sql_explain *out)
{
    const PgQuery__Node *a = d->arg;
    bool on = !a || (a->node_case == PG_QUERY__NODE__NODE_BOOLEAN && a->boolean->boolval) ||
              (a->node_case == PG_QUERY__NODE__NODE_STRING && !strcmp(a->string->sval, "on"));

    if (!strcmp(d->defname, "analyze")) {
        out->analyze = on;
        return 0;
    }
    if (!strcmp(d->defname, "costs"))
        return 0;
    return sql__unsupported(c, d->location, "this EXPLAIN option");
}

int sql__explain_stmt(sql__pctx *c, const PgQuery__ExplainStmt *s, int location, sql_explain *out)
{
    for (size_t i = 0; i < s->n_options; i++)
        if (explain_option(c, s->options[i]->def_elem, out) < 0)
            return -1;
    sql_stmt *st = sql__palloc(c, sizeof *st);
    if (!st)
        return -1;
    PgQuery__Node__NodeCase k = s->query->node_case;
    if (k != PG_QUERY__NODE__NODE_SELECT_STMT && k != PG_QUERY__NODE__NODE_INSERT_STMT &&
        k != PG_QUERY__NODE__NODE_UPDATE_STMT && k != PG_QUERY__NODE__NODE_DELETE_STMT)
        return sql__unsupported_node(c, s->query, location);
    out->stmt = st;
    return sql__stmt(c, s->query, location, st);
}
