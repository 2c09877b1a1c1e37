/*
 * session_ext.c - the extended query protocol: Parse, Bind, Describe,
 * Execute, Close and Sync over prepared statements and portals.
 *
 * A prepared statement owns an arena with its query text, parse tree and
 * parameter types; a DML statement is planned once at Parse and again at
 * Bind only when a descriptor it used changed (sql__plan_stale). A portal
 * owns an arena with its decoded parameters and, when Execute gave a row
 * limit, all the statement's result rows formatted for the wire: the
 * statement runs to completion at the first Execute and later Executes
 * hand out the rest (PortalSuspended in between). Materialising keeps the
 * transaction logic simple and lets a retryable conflict be retried before
 * anything was sent; it costs memory proportional to the result, which is
 * acceptable for the row counts clients fetch in chunks today.
 *
 * Implicit transactions: Executes outside a block share one transaction
 * until Sync commits it; with `sync_follows` the Execute commits it as its
 * statement completes (sql__exec ends_implicit).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/session_int.h"

/* PostgreSQL accepts at most this many parameters (a 16-bit count). */
#define MAX_PARAMS 65535

static sql__prepared *find_stmt(sql_session *s, const char *name)
{
    for (sql__prepared *p = s->stmts; p; p = p->next)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static sql__portal *find_portal(sql_session *s, const char *name)
{
    for (sql__portal *p = s->portals; p; p = p->next_portal)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static void prepared_unref(sql__prepared *ps)
{
    if (--ps->refs > 0)
        return;
    sql__planref_release(ps->plan);
    kv_arena_destroy(ps->arena);
    free(ps->name);
    free(ps);
}

static void portal_free(sql__portal *p)
{
    sql__planref_release(p->plan);
    prepared_unref(p->ps);
    kv_arena_destroy(p->arena);
    free(p->name);
    free(p);
}

void sql_session_close(sql_session *s, char what, const char *name)
{
    if (what == 'P') {
        for (sql__portal **pp = &s->portals; *pp; pp = &(*pp)->next_portal)
            if (!strcmp((*pp)->name, name)) {
                sql__portal *p = *pp;
                *pp = p->next_portal;
                portal_free(p);
                return;
            }
        return;
    }
    for (sql__prepared **pp = &s->stmts; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->name, name)) {
            sql__prepared *p = *pp;
            *pp = p->next;
            prepared_unref(p);
            return;
        }
}

/* ---- Parse ----------------------------------------------------------------- */

/* The highest $n in the text: an upper bound of the parameters the
 * binder may meet (a $n inside a string literal only adds room). */
static int max_param_ref(const char *q)
{
    int max = 0;

    for (const char *p = q; *p; p++)
        if (*p == '$' && isdigit((unsigned char)p[1])) {
            long n = strtol(p + 1, NULL, 10);
            if (n > max)
                max = n > MAX_PARAMS ? MAX_PARAMS : (int)n;
        }
    return max;
}

static bool is_dml(const sql_stmt *st)
{
    return st && (st->kind == SQL_STMT_SELECT || st->kind == SQL_STMT_INSERT ||
                  st->kind == SQL_STMT_UPDATE || st->kind == SQL_STMT_DELETE);
}

static int parse_stmt(sql__prepared *ps, const char *query, size_t ntypes, const uint32_t *types,
                      sql_error *err)
{
    sql_stmt_list l;

    if (!(ps->query = kv_arena_strdup(ps->arena, query)))
        return sql__oom(ps->arena, err);
    if (sql_parse(ps->query, ps->arena, &l, err) < 0)
        return -1;
    if (l.n > 1)
        return sql_error_set(err, ps->arena, SQL_STATE_SYNTAX_ERROR,
                             "cannot insert multiple commands into a prepared statement");
    ps->stmt = l.n ? &l.stmts[0] : NULL;
    int cap = max_param_ref(query);
    ps->params.cap = (int)ntypes > cap ? (int)ntypes : cap;
    ps->params.n = (int)ntypes;
    ps->params.oids = kv_arena_alloc(ps->arena, (size_t)ps->params.cap * sizeof(uint32_t) + 1);
    if (!ps->params.oids)
        return sql__oom(ps->arena, err);
    for (size_t i = 0; i < ntypes; i++) {
        /* "unknown" (705), like 0, leaves the type to the binder */
        ps->params.oids[i] = types[i] == SQL_T_UNKNOWN ? 0 : types[i];
        if (ps->params.oids[i] && !sql_type_known(types[i]))
            return sql_error_set(err, ps->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                 "parameter type %u is not supported yet", types[i]);
    }
    return 0;
}

static int prepare_stmt(sql_session *s, const char *name, const char *query, size_t ntypes,
                        const uint32_t *types, sql_error *err, kv_arena *arena)
{
    sql__prepared *ps;

    if (*name && find_stmt(s, name))
        return sql_error_set(err, arena, SQL_STATE_DUPLICATE_PREPARED_STATEMENT,
                             "prepared statement \"%s\" already exists", name);
    /* PostgreSQL drops the unnamed statement even when the Parse fails */
    sql_session_close(s, 'S', name);
    if (!(ps = calloc(1, sizeof *ps)))
        return sql__oom(arena, err);
    ps->refs = 1;
    if (!(ps->name = strdup(name)) || kv_arena_create(&ps->arena) < 0) {
        sql__oom(arena, err);
        goto out_free;
    }
    if (parse_stmt(ps, query, ntypes, types, err) < 0) {
        sql_error_move(err, arena);
        goto out_free;
    }
    if (is_dml(ps->stmt) && sql__prepared_plan(s, ps, err, arena) < 0)
        goto out_free;
    ps->next = s->stmts;
    s->stmts = ps;
    return 0;
out_free:
    prepared_unref(ps);
    return -1;
}

/* ---- Bind ------------------------------------------------------------------ */

static int missing_stmt(const char *name, sql_error *err, kv_arena *arena)
{
    if (!*name)
        return sql_error_set(err, arena, SQL_STATE_INVALID_SQL_STATEMENT_NAME,
                             "unnamed prepared statement does not exist");
    return sql_error_set(err, arena, SQL_STATE_INVALID_SQL_STATEMENT_NAME,
                         "prepared statement \"%s\" does not exist", name);
}

/* Decodes the Bind parameters into the portal's arena. */
static int bind_params(sql_session *s, sql__portal *p, size_t nformats, const int16_t *formats,
                       const sql_value *vals, sql_error *err)
{
    const sql_params *pp = &p->ps->params;
    sql_io_ctx io = sql__session_io(s);
    size_t n = (size_t)pp->n;

    p->params = kv_arena_alloc(p->arena, (n + 1) * sizeof *p->params);
    p->param_types = kv_arena_alloc(p->arena, (n + 1) * sizeof *p->param_types);
    if (!p->params || !p->param_types)
        return sql__oom(p->arena, err);
    for (size_t i = 0; i < n; i++) {
        int16_t f = nformats == 0 ? 0 : nformats == 1 ? formats[0] : formats[i];
        sql_type t = {pp->oids[i] ? (sql_type_id)pp->oids[i] : SQL_T_TEXT, -1};
        p->param_types[i] = t;
        if (vals[i].len < 0) {
            p->params[i] = (sql_datum){.isnull = true};
            continue;
        }
        int rc = f == 1 ? sql_datum_recv(t, vals[i].data, (size_t)vals[i].len, p->arena,
                                         &p->params[i], err)
                        : sql_datum_from_text(t, (const char *)vals[i].data, (size_t)vals[i].len,
                                              &io, p->arena, &p->params[i], err);
        if (rc < 0 && f == 1 && sql_datum_recv_left_over(err))
            return sql_error_set(err, p->arena, SQL_STATE_INVALID_BINARY_REPRESENTATION,
                                 "incorrect binary data format in bind parameter %zu", i + 1);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The statement's result columns: the plan's, or SHOW's. */
static int stmt_columns(const sql__prepared *ps, const sql__planref *plan,
                        const sql_column_info **cols, size_t *n, bool *returns_rows,
                        kv_arena *arena)
{
    *n = 0;
    *returns_rows = false;
    if (plan) {
        *cols = sql__plan_columns(plan->plan, n);
        *returns_rows = sql__plan_returns_rows(plan->plan);
        return 0;
    }
    if (!ps->stmt)
        return 0;
    *returns_rows = ps->stmt->kind == SQL_STMT_SHOW || ps->stmt->kind == SQL_STMT_EXPLAIN;
    return sql__utility_columns(ps->stmt, cols, n, arena);
}

static int bind_formats(sql__portal *p, size_t n, const int16_t *f, sql_error *err, kv_arena *arena)
{
    const sql_column_info *cols;
    bool rows;

    if (stmt_columns(p->ps, p->plan, &cols, &p->ncols, &rows, p->arena) < 0)
        return sql__oom(arena, err);
    if (n > 1 && n != p->ncols)
        return sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION,
                             "bind message has %zu result formats but query has %zu columns", n,
                             p->ncols);
    if (!(p->formats = kv_arena_alloc(p->arena, (p->ncols + 1) * sizeof *p->formats)))
        return sql__oom(arena, err);
    for (size_t i = 0; i < p->ncols; i++)
        p->formats[i] = n == 0 ? 0 : n == 1 ? f[0] : f[i];
    return 0;
}

static bool same_columns(const sql_plan *a, const sql_plan *b)
{
    size_t na, nb;
    const sql_column_info *ca = sql__plan_columns(a, &na), *cb = sql__plan_columns(b, &nb);

    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (ca[i].type.oid != cb[i].type.oid || ca[i].type.typmod != cb[i].type.typmod)
            return false;
    return true;
}

/* Plans a statement again after DDL; like PostgreSQL, the result columns
 * the client may have been described (those of `was`) must not change. */
static int replan(sql_session *s, sql__prepared *ps, sql__planref *was, sql_error *err,
                  kv_arena *arena)
{
    int rc;

    was->refs++;
    rc = sql__prepared_plan(s, ps, err, arena);
    if (rc == 0 && !same_columns(was->plan, ps->plan->plan))
        rc = sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                           "cached plan must not change result type");
    sql__planref_release(was);
    return rc;
}

/* Bind's check is a cheap hint (the node's cache generation); this one,
 * in the transaction, is what guarantees that no statement runs with a
 * descriptor its transaction's catalog version has replaced. */
int sql__portal_plan(sql_session *s, sql__portal *p, sql_error *err, kv_arena *arena)
{
    uint64_t v;

    if (!sql_txn_did_ddl(s->txn)) {
        if (sql_catalog_version(s->eng->catalog, s->txn, &v, err, arena) < 0)
            return -1;
        if (p->plan->exact && p->plan->catalog_version == v)
            return 0;
    }
    if (replan(s, p->ps, p->plan, err, arena) < 0)
        return -1;
    sql__planref_release(p->plan);
    p->plan = p->ps->plan;
    p->plan->refs++;
    return 0;
}

/* Checks what Bind may be refused for before anything is allocated. */
static int bind_check(sql_session *s, sql__prepared *ps, const char *portal, size_t nformats,
                      size_t nparams, sql_error *err, kv_arena *arena)
{
    sql_stmt_kind k = ps->stmt ? ps->stmt->kind : SQL_STMT_SELECT;

    if (s->state == SQL__TXN_FAILED && k != SQL_STMT_COMMIT && k != SQL_STMT_ROLLBACK)
        return sql_error_set(err, arena, SQL_STATE_IN_FAILED_SQL_TRANSACTION,
                             "current transaction is aborted, commands ignored until end of "
                             "transaction block");
    if (*portal && find_portal(s, portal))
        return sql_error_set(err, arena, SQL_STATE_DUPLICATE_CURSOR, "portal \"%s\" already exists",
                             portal);
    if (nformats > 1 && nformats != nparams)
        return sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION,
                             "bind message has %zu parameter formats but %zu parameters", nformats,
                             nparams);
    if (nparams != (size_t)ps->params.n)
        return sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION,
                             "bind message supplies %zu parameters, but prepared statement "
                             "\"%s\" requires %d",
                             nparams, ps->name, ps->params.n);
    if (ps->plan && sql__plan_stale(ps->plan->plan, s->eng->catalog))
        return replan(s, ps, ps->plan, err, arena);
    return 0;
}

static int bind_portal(sql_session *s, const char *portal, const char *stmt, size_t nformats,
                       const int16_t *formats, size_t nparams, const sql_value *params,
                       size_t nresult_formats, const int16_t *result_formats, sql_error *err,
                       kv_arena *arena)
{
    sql__prepared *ps = find_stmt(s, stmt);
    sql__portal *p;

    if (!ps)
        return missing_stmt(stmt, err, arena);
    if (bind_check(s, ps, portal, nformats, nparams, err, arena) < 0)
        return -1;
    if (!(p = calloc(1, sizeof *p)))
        return sql__oom(arena, err);
    if (!(p->name = strdup(portal)) || kv_arena_create(&p->arena) < 0) {
        free(p->name);
        free(p);
        return sql__oom(arena, err);
    }
    p->ps = ps;
    ps->refs++;
    if ((p->plan = ps->plan))
        p->plan->refs++;
    if (bind_params(s, p, nformats, formats, params, err) < 0) {
        sql_error_move(err, arena);
        goto out_free;
    }
    if (bind_formats(p, nresult_formats, result_formats, err, arena) < 0)
        goto out_free;
    sql_session_close(s, 'P', portal);
    p->next_portal = s->portals;
    s->portals = p;
    return 0;
out_free:
    portal_free(p);
    return -1;
}

/* ---- Describe ---------------------------------------------------------------- */

/* Columns for RowDescription in `arena`, with formats (NULL: text). */
static int describe_cols(const sql_column_info *in, size_t n, const int16_t *formats,
                         const sql_column_info **out, kv_arena *arena)
{
    sql_column_info *c = kv_arena_alloc(arena, (n + 1) * sizeof *c);

    if (!c)
        return -1;
    for (size_t i = 0; i < n; i++) {
        c[i] = in[i];
        c[i].format = formats ? formats[i] : 0;
    }
    *out = c;
    return 0;
}

static int describe_one(sql_session *s, char what, const char *name, const uint32_t **param_types,
                        size_t *nparams, const sql_column_info **cols, size_t *ncols,
                        bool *returns_rows, sql_error *err, kv_arena *arena)
{
    const sql_column_info *in = NULL;

    *nparams = 0;
    *param_types = NULL;
    if (what == 'P') {
        sql__portal *p = find_portal(s, name);
        if (!p)
            return sql_error_set(err, arena, SQL_STATE_INVALID_CURSOR_NAME,
                                 "portal \"%s\" does not exist", name);
        if (stmt_columns(p->ps, p->plan, &in, ncols, returns_rows, arena) < 0 ||
            describe_cols(in, *ncols, p->formats, cols, arena) < 0)
            return sql__oom(arena, err);
        return 0;
    }
    sql__prepared *ps = find_stmt(s, name);
    if (!ps)
        return missing_stmt(name, err, arena);
    *param_types = ps->params.oids;
    *nparams = (size_t)ps->params.n;
    if (stmt_columns(ps, ps->plan, &in, ncols, returns_rows, arena) < 0 ||
        describe_cols(in, *ncols, NULL, cols, arena) < 0)
        return sql__oom(arena, err);
    return 0;
}

/* ---- the entry points: an error ends the transaction as in PostgreSQL ---- */

int sql_session_prepare(sql_session *s, const char *name, const char *query, size_t ntypes,
                        const uint32_t *types, sql_error *err, kv_arena *arena)
{
    if (prepare_stmt(s, name, query, ntypes, types, err, arena) == 0)
        return 0;
    sql__txn_fail(s);
    return -1;
}

int sql_session_bind(sql_session *s, const char *portal, const char *stmt, size_t nformats,
                     const int16_t *formats, size_t nparams, const sql_value *params,
                     size_t nresult_formats, const int16_t *result_formats, sql_error *err,
                     kv_arena *arena)
{
    if (bind_portal(s, portal, stmt, nformats, formats, nparams, params, nresult_formats,
                    result_formats, err, arena) == 0)
        return 0;
    sql__txn_fail(s);
    return -1;
}

int sql_session_describe(sql_session *s, char what, const char *name, const uint32_t **param_types,
                         size_t *nparams, const sql_column_info **cols, size_t *ncols,
                         bool *returns_rows, sql_error *err, kv_arena *arena)
{
    if (describe_one(s, what, name, param_types, nparams, cols, ncols, returns_rows, err, arena) ==
        0)
        return 0;
    sql__txn_fail(s);
    return -1;
}

/* ---- Execute and Sync ------------------------------------------------------- */

/* Hands out up to max_rows (0: all) of the portal's held rows. */
static int send_held(sql__portal *p, uint32_t max_rows, const sql_sink *sink)
{
    size_t sent = 0;
    int rc;

    while (p->next < p->nrows && (max_rows == 0 || sent < max_rows)) {
        if ((rc = sink->row(sink->ctx, p->rows[p->next++], p->ncols)) < 0)
            return rc;
        sent++;
    }
    if (p->next < p->nrows)
        return sink->suspended(sink->ctx);
    /* a SELECT fetched in chunks reports the rows of the last chunk */
    if (p->plan && !strcmp(sql__plan_tag(p->plan->plan), "SELECT"))
        snprintf(p->tag, sizeof p->tag, "SELECT %zu", sent);
    return sink->complete(sink->ctx, p->tag);
}

/* First Execute of a portal: runs its statement. */
static int portal_run(sql_session *s, sql__portal *p, uint32_t max_rows, bool sync_follows,
                      const sql_sink *sink, kv_arena *arena)
{
    sql__exec x = {.s = s,
                   .sink = sink,
                   .query = p->ps->query,
                   .st = p->ps->stmt,
                   .portal = p,
                   .params = p->params,
                   .param_types = p->param_types,
                   .formats = p->formats,
                   .ends_implicit = sync_follows,
                   .arena = arena};
    const sql_column_info *cols;
    size_t n;
    bool rows;

    if (stmt_columns(p->ps, p->plan, &cols, &n, &rows, arena) < 0) {
        sql__oom(arena, &x.err);
        return sql__exec_report(&x);
    }
    if (max_rows > 0 && rows)
        x.store = p;
    int rc = sql__exec_stmt(&x);
    sql__exec_done(&x);
    p->ran = true;
    if (rc < 0) {
        p->nrows = 0; /* a later Execute must not hand out a failed run's rows */
        return sql__exec_report(&x);
    }
    snprintf(p->tag, sizeof p->tag, "%s", x.tag);
    if (x.store)
        return send_held(p, max_rows, sink);
    return sink->complete(sink->ctx, x.tag);
}

int sql_session_execute(sql_session *s, const char *portal, uint32_t max_rows, bool sync_follows,
                        const sql_sink *sink)
{
    sql__portal *p = find_portal(s, portal);
    kv_arena *arena;
    int rc;

    if (kv_arena_create(&arena) < 0) {
        static const sql_error e = {.state = SQL_STATE_OUT_OF_MEMORY, .message = "out of memory"};
        return sink->error(sink->ctx, &e);
    }
    if (!p) {
        sql_error err = {0};
        sql_error_set(&err, arena, SQL_STATE_INVALID_CURSOR_NAME, "portal \"%s\" does not exist",
                      portal);
        rc = sink->error(sink->ctx, &err);
    } else if (!p->ps->stmt) {
        rc = sink->empty(sink->ctx);
    } else if (p->ran) {
        rc = send_held(p, max_rows, sink);
    } else {
        rc = portal_run(s, p, max_rows, sync_follows, sink, arena);
    }
    kv_arena_destroy(arena);
    return rc < 0 ? rc : 0;
}

int sql_session_sync(sql_session *s, const sql_sink *sink)
{
    int rc = 0;

    if (s->state == SQL__TXN_IMPLICIT) {
        kv_arena *arena;
        sql_error err = {0};
        if (kv_arena_create(&arena) < 0)
            return -1;
        if (sql__txn_end(s, true, &err, arena) < 0)
            rc = sink->error(sink->ctx, &err);
        kv_arena_destroy(arena);
    }
    /* Portals live as long as their transaction (no WITH HOLD cursors):
     * outside a block, every transaction has ended by now. */
    if (s->state == SQL__TXN_IDLE)
        while (s->portals)
            sql_session_close(s, 'P', s->portals->name);
    else
        sql_session_close(s, 'P', "");
    return rc < 0 ? rc : 0;
}
