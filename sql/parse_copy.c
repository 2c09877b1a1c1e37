/*
 * parse_copy.c - COPY, VACUUM and ANALYZE: PostgreSQL's CopyStmt and
 * VacuumStmt -> our tree (parse.h).
 *
 * COPY keeps its options as written: both syntaxes (WITH (FORMAT csv) and
 * the old WITH CSV HEADER) reach us as the same DefElem list, and the
 * values are checked when the statement runs, against the table. Only
 * the forms we never run are refused here: COPY (query), files and
 * PROGRAM, WHERE. VACUUM and ANALYZE keep their table list; their
 * options are checked by name only, since both run as no-ops.
 */
#include <string.h>

#include "sql/parse_int.h"

static int copy_columns(sql__pctx *c, const PgQuery__CopyStmt *s, sql_copy *out)
{
    out->ncolumns = (int)s->n_attlist;
    if (s->n_attlist == 0)
        return 0;
    out->columns = sql__palloc(c, s->n_attlist * sizeof *out->columns);
    if (!out->columns)
        return -1;
    for (size_t i = 0; i < s->n_attlist; i++)
        if (!(out->columns[i] = sql__pstrdup(c, sql__node_str(s->attlist[i]))))
            return -1;
    return 0;
}

int sql__copy_stmt(sql__pctx *c, const PgQuery__CopyStmt *s, int location, sql_copy *out)
{
    if (!s->relation)
        return sql__unsupported(c, location, "COPY (query)");
    /* the grammar leaves filename empty for STDIN and STDOUT */
    if (s->is_program)
        return sql__unsupported(c, location, "COPY with PROGRAM");
    if (s->filename && s->filename[0])
        return sql__unsupported(c, location, "COPY to or from a file");
    if (s->where_clause)
        return sql__unsupported(c, sql__node_location(s->where_clause), "COPY FROM with WHERE");
    out->from = s->is_from;
    if (sql__range_var(c, s->relation, &out->table, NULL) < 0 || copy_columns(c, s, out) < 0)
        return -1;
    return sql__options(c, s->options, s->n_options, &out->options, &out->noptions);
}

/* PostgreSQL 15's option names (vacuum.c ExecVacuum). */
static const char *const vacuum_options[] = {
    "verbose",       "skip_locked",   "analyze",  "freeze",   "full", "disable_page_skipping",
    "index_cleanup", "process_toast", "truncate", "parallel", NULL,
};
static const char *const analyze_options[] = {"verbose", "skip_locked", NULL};

static int vacuum_option(sql__pctx *c, const PgQuery__DefElem *d, bool vacuum)
{
    const char *const *known = vacuum ? vacuum_options : analyze_options;

    for (; *known; known++)
        if (!strcmp(*known, d->defname))
            return 0;
    return sql__error_at(c, d->location, SQL_STATE_SYNTAX_ERROR, "unrecognized %s option \"%s\"",
                         vacuum ? "VACUUM" : "ANALYZE", d->defname);
}

int sql__vacuum_stmt(sql__pctx *c, const PgQuery__VacuumStmt *s, sql_stmt *out)
{
    sql_table_list *l = &out->u.tables;

    out->kind = s->is_vacuumcmd ? SQL_STMT_VACUUM : SQL_STMT_ANALYZE;
    for (size_t i = 0; i < s->n_options; i++)
        if (vacuum_option(c, s->options[i]->def_elem, s->is_vacuumcmd) < 0)
            return -1;
    l->ntables = (int)s->n_rels;
    l->tables = sql__palloc(c, (s->n_rels ? s->n_rels : 1) * sizeof *l->tables);
    if (!l->tables)
        return -1;
    for (size_t i = 0; i < s->n_rels; i++) {
        const PgQuery__VacuumRelation *r = s->rels[i]->vacuum_relation;
        if (r->n_va_cols)
            return sql__unsupported(c, r->relation->location, "ANALYZE with a column list");
        if (sql__range_var(c, r->relation, &l->tables[i], NULL) < 0)
            return -1;
    }
    return 0;
}
