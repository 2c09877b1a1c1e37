/*
 * fake_session.c - a test double of sql/session.h for the pgwire server
 * suite, so the server's own behaviour (threads, flushing, cancel,
 * shutdown, disconnects) is tested apart from the SQL engine. Linked
 * before the sql library, its definitions win over the real ones.
 *
 * Catalog: role "tester" (password "secret", superuser), role "nopass"
 * (no password); databases "postgres" and "testdb". Statements, simple or
 * extended alike (the text is matched, nothing is parsed):
 *
 *   SELECT rows(N)      N rows of one int4 column "n" (text "1".."N")
 *   SELECT pg_sleep(S)  waits S seconds for a cancel: 57014 when cancelled
 *   BEGIN / COMMIT      transaction status 'T' / 'I'
 *   SET application_name = V  reports ParameterStatus
 *   COPY FROM STDIN     takes CopyData until CopyDone ("COPY <lines>") or
 *                       CopyFail (57014)
 *   COPY TO STDOUT      two rows, "1\n" and "2\n" ("COPY 2")
 *   anything else       42601 syntax error at position 1
 *
 * fake_live_sessions counts sessions not yet destroyed, so tests can see
 * that a vanished client's session was cleaned up.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_session.h"
#include "sql/session.h"

atomic_int fake_live_sessions;
atomic_bool fake_last_sync_follows;

struct sql_engine {
    char *tester_verifier;
};

struct sql_session {
    atomic_bool cancel;
    char status;
    char *prepared; /* the unnamed statement's text */
    int portal_rows_sent;
    bool copying; /* COPY FROM STDIN waits for data */
    long copy_lines;
};

int sql_engine_open(kv_store *s, const sql_engine_options *opts, sql_engine **out, sql_error *err,
                    kv_arena *arena)
{
    (void)s;
    sql_engine *e = calloc(1, sizeof(*e));
    if (e == NULL || (e->tester_verifier = opts->hash_password("secret")) == NULL) {
        free(e);
        return sql_error_set(err, arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
    }
    *out = e;
    return 0;
}

void sql_engine_close(sql_engine *e)
{
    free(e->tester_verifier);
    free(e);
}

int sql_engine_role(sql_engine *e, const char *user, char **verifier, bool *superuser)
{
    *verifier = NULL;
    *superuser = false;
    if (strcmp(user, "tester") == 0) {
        *verifier = strdup(e->tester_verifier);
        *superuser = true;
        return *verifier == NULL ? -1 : 0;
    }
    return strcmp(user, "nopass") == 0 ? 0 : 1;
}

int sql_engine_database_exists(sql_engine *e, const char *name)
{
    (void)e;
    return strcmp(name, "postgres") == 0 || strcmp(name, "testdb") == 0;
}

int sql_session_create(sql_engine *e, const char *user, const char *database, size_t nparams,
                       const char *const *names, const char *const *values, sql_session **out,
                       sql_error *err, kv_arena *arena)
{
    (void)e, (void)user, (void)database, (void)nparams, (void)names, (void)values;
    sql_session *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return sql_error_set(err, arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
    s->status = 'I';
    atomic_fetch_add(&fake_live_sessions, 1);
    *out = s;
    return 0;
}

void sql_session_destroy(sql_session *s)
{
    if (s == NULL)
        return;
    free(s->prepared);
    free(s);
    atomic_fetch_sub(&fake_live_sessions, 1);
}

const char *sql_session_setting(sql_session *s, const char *name)
{
    (void)s;
    /* One value differs from the conn's default, so the test sees which
     * source the ParameterStatus set came from. */
    return strcmp(name, "TimeZone") == 0 ? "Europe/Berlin" : NULL;
}

char sql_session_txn_status(const sql_session *s)
{
    return s->status;
}

void sql_session_cancel(sql_session *s)
{
    atomic_store(&s->cancel, true);
}

/* ---- statements ------------------------------------------------------ */

static int fail(const sql_sink *sink, sql_sqlstate state, const char *msg, int position)
{
    sql_error e = {.state = state, .message = msg, .position = position};
    return sink->error(sink->ctx, &e);
}

static int run_rows(sql_session *s, long n, uint32_t max_rows, bool describe, const sql_sink *sink)
{
    if (describe) {
        sql_column_info col = {.name = "n", .type = {.oid = SQL_T_INT4, .typmod = -1}};
        int rc = sink->columns(sink->ctx, &col, 1);
        if (rc < 0)
            return rc;
    }
    long i = s->portal_rows_sent;
    for (; i < n && (max_rows == 0 || i - s->portal_rows_sent < (long)max_rows); i++) {
        char text[24];
        int len = snprintf(text, sizeof(text), "%ld", i + 1);
        sql_value v = {.data = (const uint8_t *)text, .len = len};
        int rc = sink->row(sink->ctx, &v, 1);
        if (rc < 0)
            return rc;
        if (atomic_load(&s->cancel))
            return fail(sink, SQL_STATE_QUERY_CANCELED, "canceling statement due to user request",
                        0);
    }
    if (i < n) {
        s->portal_rows_sent = (int)i;
        return sink->suspended(sink->ctx);
    }
    s->portal_rows_sent = 0;
    char tag[32];
    snprintf(tag, sizeof(tag), "SELECT %ld", n);
    return sink->complete(sink->ctx, tag);
}

static int run_sleep(sql_session *s, double seconds, const sql_sink *sink)
{
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (double slept = 0; slept < seconds; slept += 0.01) {
        if (atomic_load(&s->cancel))
            return fail(sink, SQL_STATE_QUERY_CANCELED, "canceling statement due to user request",
                        0);
        nanosleep(&tick, NULL);
    }
    return sink->complete(sink->ctx, "SELECT 1");
}

static int run_copy(sql_session *s, bool in, const sql_sink *sink)
{
    int rc = sink->copy_start(sink->ctx, in, 1);
    if (rc < 0 || in) {
        s->copying = rc == 0;
        s->copy_lines = 0;
        return rc;
    }
    if ((rc = sink->copy_data(sink->ctx, "1\n", 2)) < 0 ||
        (rc = sink->copy_data(sink->ctx, "2\n", 2)) < 0 || (rc = sink->copy_done(sink->ctx)) < 0)
        return rc;
    return sink->complete(sink->ctx, "COPY 2");
}

bool sql_session_copy_active(const sql_session *s)
{
    return s->copying;
}

int sql_session_copy_data(sql_session *s, const void *data, size_t len, const sql_sink *sink)
{
    (void)sink;
    for (const char *p = data; p < (const char *)data + len; p++)
        s->copy_lines += *p == '\n';
    return 0;
}

int sql_session_copy_end(sql_session *s, const char *fail_msg, const sql_sink *sink)
{
    char tag[32];
    s->copying = false;
    if (fail_msg != NULL)
        return fail(sink, SQL_STATE_QUERY_CANCELED, "COPY from stdin failed", 0);
    snprintf(tag, sizeof(tag), "COPY %ld", s->copy_lines);
    return sink->complete(sink->ctx, tag);
}

static int run(sql_session *s, const char *q, uint32_t max_rows, bool describe,
               const sql_sink *sink)
{
    long n;
    double secs;
    char value[64];
    atomic_store(&s->cancel, false);
    if (sscanf(q, "SELECT rows(%ld)", &n) == 1)
        return run_rows(s, n, max_rows, describe, sink);
    if (sscanf(q, "SELECT pg_sleep(%lf)", &secs) == 1)
        return run_sleep(s, secs, sink);
    if (strcmp(q, "BEGIN") == 0 || strcmp(q, "COMMIT") == 0) {
        s->status = q[0] == 'B' ? 'T' : 'I';
        return sink->complete(sink->ctx, q);
    }
    if (sscanf(q, "SET application_name = %63s", value) == 1) {
        int rc = sink->param(sink->ctx, "application_name", value);
        return rc < 0 ? rc : sink->complete(sink->ctx, "SET");
    }
    if (strcmp(q, "COPY FROM STDIN") == 0 || strcmp(q, "COPY TO STDOUT") == 0)
        return run_copy(s, q[5] == 'F', sink);
    if (*q == '\0')
        return sink->empty(sink->ctx);
    return fail(sink, SQL_STATE_SYNTAX_ERROR, "syntax error at or near \"garbage\"", 1);
}

int sql_session_simple(sql_session *s, const char *query, const sql_sink *sink)
{
    return run(s, query, 0, true, sink);
}

int sql_session_prepare(sql_session *s, const char *name, const char *query, size_t ntypes,
                        const uint32_t *types, sql_error *err, kv_arena *arena)
{
    (void)ntypes, (void)types;
    if (*name != '\0')
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "named statements are not supported by the fake");
    if (strncmp(query, "SELECT", 6) != 0 && strcmp(query, "BEGIN") != 0 &&
        strcmp(query, "COMMIT") != 0) {
        sql_error_set(err, arena, SQL_STATE_SYNTAX_ERROR, "syntax error at or near \"%s\"", query);
        err->position = 1;
        return -1;
    }
    free(s->prepared);
    s->prepared = strdup(query);
    return s->prepared == NULL ? -1 : 0;
}

int sql_session_bind(sql_session *s, const char *portal, const char *stmt, size_t nformats,
                     const int16_t *formats, size_t nparams, const sql_value *params,
                     size_t nresult_formats, const int16_t *result_formats, sql_error *err,
                     kv_arena *arena)
{
    (void)portal, (void)nformats, (void)formats, (void)params, (void)nresult_formats;
    (void)result_formats;
    if (*stmt != '\0' || s->prepared == NULL)
        return sql_error_set(err, arena, SQL_STATE_INVALID_SQL_STATEMENT_NAME,
                             "prepared statement \"%s\" does not exist", stmt);
    if (nparams != 0)
        return sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION,
                             "bind message supplies %zu parameters, but prepared statement "
                             "\"\" requires 0",
                             nparams);
    s->portal_rows_sent = 0;
    return 0;
}

int sql_session_describe(sql_session *s, char what, const char *name, const uint32_t **param_types,
                         size_t *nparams, const sql_column_info **cols, size_t *ncols,
                         bool *returns_rows, sql_error *err, kv_arena *arena)
{
    static const sql_column_info col = {.name = "n", .type = {.oid = SQL_T_INT4, .typmod = -1}};
    (void)what, (void)name, (void)err, (void)arena;
    *param_types = NULL;
    *nparams = 0;
    *returns_rows = s->prepared != NULL && strncmp(s->prepared, "SELECT rows", 11) == 0;
    *cols = *returns_rows ? &col : NULL;
    *ncols = *returns_rows ? 1 : 0;
    return 0;
}

int sql_session_execute(sql_session *s, const char *portal, uint32_t max_rows, bool sync_follows,
                        const sql_sink *sink)
{
    (void)portal;
    fake_last_sync_follows = sync_follows;
    return run(s, s->prepared, max_rows, false, sink);
}

void sql_session_close(sql_session *s, char what, const char *name)
{
    (void)what, (void)name;
    free(s->prepared);
    s->prepared = NULL;
}

int sql_session_sync(sql_session *s, const sql_sink *sink)
{
    (void)s, (void)sink;
    return 0;
}
