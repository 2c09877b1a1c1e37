/*
 * parse_view.c - CREATE [OR REPLACE] VIEW (parse.h, sql_create_view).
 *
 * The view's query is translated like any SELECT (so that CREATE VIEW
 * reports its errors at their place in the statement) and also kept as
 * text, which is what the catalog stores: libpg_query records no span
 * for a statement's parts, so the text is cut from the statement after
 * its first AS outside parentheses (the name and the column list come
 * before it, the query after). Temporary views, WITH CHECK OPTION and
 * view options are refused with 0A000; RECURSIVE views arrive as WITH
 * RECURSIVE, refused as such.
 */
#include <assert.h>
#include <string.h>

#include <pg_query.h>

#include "sql/parse_int.h"

/* The byte offset in `text` where the query of CREATE VIEW text starts:
 * the first token after its first AS at parenthesis depth 0; -1 when
 * the scanner fails (it cannot: the parser took the same text). */
static int query_start(const char *text)
{
    PgQueryScanResult res = pg_query_scan(text);
    PgQuery__ScanResult *scan =
        res.error
            ? NULL
            : pg_query__scan_result__unpack(NULL, res.pbuf.len, (const uint8_t *)res.pbuf.data);
    int depth = 0, start = -1;
    for (size_t i = 0; scan && i + 1 < scan->n_tokens && start < 0; i++) {
        const PgQuery__ScanToken *t = scan->tokens[i];
        depth += (t->token == PG_QUERY__TOKEN__ASCII_40) - (t->token == PG_QUERY__TOKEN__ASCII_41);
        if (depth == 0 && t->token == PG_QUERY__TOKEN__AS)
            start = scan->tokens[i + 1]->start;
    }
    if (scan)
        pg_query__scan_result__free_unpacked(scan, NULL);
    pg_query_free_scan_result(res);
    return start;
}

/* The query's text: the statement's from the query's first word on. */
static int view_text(sql__pctx *c, const sql_stmt *st, const char **out)
{
    char *text = sql__palloc(c, (size_t)st->len + 1);
    if (!text)
        return -1;
    memcpy(text, c->query + st->location, (size_t)st->len);
    int start = query_start(text);
    if (start < 0)
        return sql__error_at(c, st->location, SQL_STATE_SYNTAX_ERROR,
                             "cannot find the query of CREATE VIEW");
    *out = text + start;
    return 0;
}

int sql__parse_create_view(sql__pctx *c, const PgQuery__ViewStmt *s, const sql_stmt *st,
                           sql_create_view *out)
{
    int loc = s->view->location;
    if (s->view->relpersistence[0] == 't')
        return sql__unsupported(c, loc, "CREATE TEMPORARY VIEW");
    if (s->with_check_option != PG_QUERY__VIEW_CHECK_OPTION__NO_CHECK_OPTION || s->n_options)
        return sql__unsupported(c, loc, "a view option");
    assert(s->query->node_case == PG_QUERY__NODE__NODE_SELECT_STMT);
    out->replace = s->replace;
    out->cols = sql__palloc(c, (s->n_aliases + 1) * sizeof(*out->cols));
    out->query = sql__palloc(c, sizeof(*out->query));
    if (!out->cols || !out->query || sql__range_var(c, s->view, &out->view, NULL) < 0)
        return -1;
    for (size_t i = 0; i < s->n_aliases; i++)
        if (!(out->cols[i] = sql__pstrdup(c, sql__node_str(s->aliases[i]))))
            return -1;
    out->ncols = (int)s->n_aliases;
    if (sql__select_stmt(c, s->query->select_stmt, loc, out->query) < 0)
        return -1;
    return view_text(c, st, &out->query_text);
}
