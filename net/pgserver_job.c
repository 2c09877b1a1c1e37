/*
 * pgserver_job.c - a connection's job on a worker thread.
 *
 * The loop feeds received bytes into the connection's net_pg_conn and
 * submits one job; the job steps the protocol over everything buffered
 * (so the Parse/Bind/Describe/Execute/Sync that arrive together run as one
 * job), answering into the connection's output buffer, writes what the
 * socket takes of the answer at once, then posts NET__PGS_EV_DONE and the
 * loop writes the rest. Writing here takes the loop's wake-up off the
 * path of every answer. Startup and authentication
 * run here too: the role and database callbacks read the catalog, which
 * is KV I/O the loop must not wait for.
 *
 * Output beyond NET__PGS_FLUSH_BYTES is flushed through the loop while the
 * statement runs (NET__PGS_EV_FLUSH; double-buffered, see pgserver_int.h): a
 * SELECT of millions of rows holds at most twice that much, and a slow
 * client slows its own statement, nobody else's.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "net/pgserver_int.h"

/* sql_value is declared "the same layout as net_pg_value"; values pass
 * from the session to the builders without copying. */
_Static_assert(sizeof(sql_value) == sizeof(net_pg_value), "sql_value layout");
_Static_assert(offsetof(sql_value, data) == offsetof(net_pg_value, data), "sql_value.data");
_Static_assert(offsetof(sql_value, len) == offsetof(net_pg_value, len), "sql_value.len");

/* ---- output ---------------------------------------------------------- */

/* Hands `out` to the loop for writing; waits while the previous write is
 * still in flight. 0, or -1 when the client is gone or the server shuts
 * down. */
static int flush_out(net__pgs_conn *c)
{
    net_pg_server *s = c->srv;
    c->job_flushed = true;
    net__pgs_post(c, NET__PGS_EV_FLUSH);
    pthread_mutex_lock(&s->mu);
    while (c->flush_wait)
        pthread_cond_wait(&s->flushed, &s->mu);
    int rc = c->flush_rc;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* What every sink callback returns after appending: -1 aborts the
 * statement (out of memory, or the client hung up). */
static int after_put(net__pgs_conn *c, int rc)
{
    if (rc < 0 || atomic_load(&c->peer_gone))
        return -1;
    return c->out.len >= NET__PGS_FLUSH_BYTES ? flush_out(c) : 0;
}

/* RowDescription for `n` columns; the field array lives in the message
 * arena. */
static int put_columns(net__pgs_conn *c, const sql_column_info *cols, size_t n)
{
    net_pg_field *f = kv_arena_alloc(net_pg_conn_arena(c->pg), (n ? n : 1) * sizeof(*f));
    if (f == NULL)
        return NET_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        int len = sql_type_len(cols[i].type.oid);
        f[i] = (net_pg_field){
            .name = cols[i].name,
            .table_oid = cols[i].table_oid,
            .attnum = cols[i].attnum,
            .type_oid = cols[i].type.oid,
            .typlen = (int16_t)(len != 0 ? len : -1),
            .typmod = cols[i].type.typmod,
            .format = cols[i].format,
        };
    }
    return net_pg_put_row_description(&c->out, n, f);
}

/* ---- the sink the session reports to ---------------------------------- */

static int sink_columns(void *ctx, const sql_column_info *cols, size_t n)
{
    net__pgs_conn *c = ctx;
    return after_put(c, put_columns(c, cols, n));
}

static int sink_row(void *ctx, const sql_value *vals, size_t n)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_put_data_row(&c->out, n, (const net_pg_value *)vals));
}

static int sink_complete(void *ctx, const char *tag)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_put_command_complete(&c->out, tag));
}

static int sink_suspended(void *ctx)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_put_empty(&c->out, NET_PG_PORTAL_SUSPENDED));
}

static int sink_empty(void *ctx)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_put_empty(&c->out, NET_PG_EMPTY_QUERY));
}

/* A statement cancelled because the server shuts down ends the session
 * as PostgreSQL's ProcessInterrupts does on SIGTERM. */
static int sink_error(void *ctx, const sql_error *e)
{
    net__pgs_conn *c = ctx;
    sql_error shutdown;
    if (atomic_load(&c->terminating) && e->state == SQL_STATE_QUERY_CANCELED) {
        sql_error_set(&shutdown, net_pg_conn_arena(c->pg), SQL_STATE_ADMIN_SHUTDOWN,
                      "terminating connection due to administrator command");
        shutdown.severity = SQL_SEV_FATAL;
        e = &shutdown;
    }
    if (e->severity == SQL_SEV_FATAL || e->severity == SQL_SEV_PANIC)
        c->fatal_sent = true;
    return after_put(c, net_pg_conn_error(c->pg, &c->out, e));
}

static int sink_notice(void *ctx, const sql_error *e)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_put_error(&c->out, e));
}

static int sink_param(void *ctx, const char *name, const char *value)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_conn_set_param(c->pg, &c->out, name, value));
}

/* CopyInResponse (then the codec hands us the client's Copy* messages)
 * or CopyOutResponse; every column is in text format. */
static int sink_copy_start(void *ctx, bool in, size_t ncols)
{
    net__pgs_conn *c = ctx;
    int16_t *formats =
        kv_arena_alloc(net_pg_conn_arena(c->pg), (ncols ? ncols : 1) * sizeof(int16_t));
    if (formats == NULL)
        return -1;
    memset(formats, 0, ncols * sizeof(int16_t));
    int rc = in ? net_pg_conn_copy_in(c->pg, &c->out, 0, ncols, formats)
                : net_pg_put_copy_response(&c->out, 'H', 0, ncols, formats);
    return after_put(c, rc);
}

static int sink_copy_data(void *ctx, const void *data, size_t len)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_put_copy_data(&c->out, data, len));
}

static int sink_copy_done(void *ctx)
{
    net__pgs_conn *c = ctx;
    return after_put(c, net_pg_put_empty(&c->out, NET_PG_COPY_DONE_MSG));
}

static sql_sink make_sink(net__pgs_conn *c)
{
    return (sql_sink){
        .columns = sink_columns,
        .row = sink_row,
        .complete = sink_complete,
        .suspended = sink_suspended,
        .empty = sink_empty,
        .error = sink_error,
        .notice = sink_notice,
        .param = sink_param,
        .ctx = c,
        .copy_start = sink_copy_start,
        .copy_data = sink_copy_data,
        .copy_done = sink_copy_done,
    };
}

/* ---- startup callbacks ---------------------------------------------- */

static int cb_role(void *ctx, const char *user, net_pg_role *role)
{
    net__pgs_conn *c = ctx;
    char *verifier = NULL;
    bool superuser = false;
    int rc = sql_engine_role(c->srv->opts.engine, user, &verifier, &superuser);
    if (rc < 0)
        return NET_ESYSTEM;
    if (rc > 0)
        return 1;
    /* The conn copies the verifier after we return: keep it in the
     * message arena, which outlives this step. */
    role->superuser = superuser;
    role->verifier = NULL;
    if (verifier != NULL) {
        role->verifier = kv_arena_strdup(net_pg_conn_arena(c->pg), verifier);
        free(verifier);
        if (role->verifier == NULL)
            return NET_ENOMEM;
    }
    return 0;
}

static int cb_database(void *ctx, const char *name)
{
    net__pgs_conn *c = ctx;
    int rc = sql_engine_database_exists(c->srv->opts.engine, name);
    return rc < 0 ? NET_ESYSTEM : rc;
}

static int cb_session(void *ctx, const char *user, const char *database, size_t nparams,
                      const char *const *names, const char *const *values, sql_error *err,
                      kv_arena *arena)
{
    net__pgs_conn *c = ctx;
    assert(c->session == NULL);
    int rc = sql_session_create(c->srv->opts.engine, user, database, nparams, names, values,
                                &c->session, err, arena);
    return rc < 0 ? 1 : 0;
}

static const char *cb_setting(void *ctx, const char *name)
{
    net__pgs_conn *c = ctx;
    return sql_session_setting(c->session, name);
}

void net__pgs_pg_config(net__pgs_conn *c, net_pg_config *cfg)
{
    *cfg = (net_pg_config){
        .auth = c->srv->opts.auth,
        .role = cb_role,
        .database = cb_database,
        .session = cb_session,
        .setting = cb_setting,
        .ctx = c,
        .pid = c->pid,
        .secret = c->secret,
        .max_message = c->srv->opts.max_message,
    };
}

/* ---- extended protocol ------------------------------------------------ */

/* ReadyForQuery with the session's transaction status. */
static int ready(net__pgs_conn *c)
{
    if (c->fatal_sent)
        return 0;
    net_pg_conn_set_txn_status(c->pg, sql_session_txn_status(c->session));
    return net_pg_conn_ready(c->pg, &c->out);
}

/* The empty message `ok` after success, the error (skip until Sync)
 * after failure. */
static int answer(net__pgs_conn *c, int rc, const sql_error *err, net_pg_empty_msg ok)
{
    if (rc < 0)
        return net_pg_conn_error(c->pg, &c->out, err);
    return net_pg_put_empty(&c->out, ok);
}

static int on_parse(net__pgs_conn *c, const net_pg_msg *m)
{
    sql_error err = {0};
    int rc = sql_session_prepare(c->session, m->u.parse.name, m->u.parse.sql, m->u.parse.ntypes,
                                 m->u.parse.types, &err, net_pg_conn_arena(c->pg));
    return answer(c, rc, &err, NET_PG_PARSE_COMPLETE);
}

static int on_bind(net__pgs_conn *c, const net_pg_msg *m)
{
    sql_error err = {0};
    int rc = sql_session_bind(c->session, m->u.bind.portal, m->u.bind.stmt, m->u.bind.nformats,
                              m->u.bind.formats, m->u.bind.nparams,
                              (const sql_value *)m->u.bind.params, m->u.bind.nresult_formats,
                              m->u.bind.result_formats, &err, net_pg_conn_arena(c->pg));
    return answer(c, rc, &err, NET_PG_BIND_COMPLETE);
}

static int on_describe(net__pgs_conn *c, const net_pg_msg *m)
{
    const uint32_t *ptypes = NULL;
    const sql_column_info *cols = NULL;
    size_t nparams = 0, ncols = 0;
    bool returns_rows = false;
    sql_error err = {0};
    char what = m->u.describe.what;
    if (sql_session_describe(c->session, what, m->u.describe.name, &ptypes, &nparams, &cols, &ncols,
                             &returns_rows, &err, net_pg_conn_arena(c->pg)) < 0)
        return net_pg_conn_error(c->pg, &c->out, &err);
    int rc = 0;
    if (what == 'S')
        rc = net_pg_put_parameter_description(&c->out, nparams, ptypes);
    if (rc == 0 && (returns_rows || ncols > 0))
        return put_columns(c, cols, ncols);
    return rc < 0 ? rc : net_pg_put_empty(&c->out, NET_PG_NO_DATA);
}

static int on_execute(net__pgs_conn *c, const net_pg_msg *m)
{
    sql_sink sink = make_sink(c);
    int32_t max = m->u.execute.max_rows;
    bool sync_follows = net_pg_conn_peek(c->pg) == 'S';
    return sql_session_execute(c->session, m->u.execute.portal, max > 0 ? (uint32_t)max : 0,
                               sync_follows, &sink);
}

static int on_sync(net__pgs_conn *c)
{
    sql_sink sink = make_sink(c);
    int rc = sql_session_sync(c->session, &sink);
    return rc < 0 ? rc : ready(c);
}

/* The end of a simple Query, or of a message of the COPY FROM STDIN it
 * started: ReadyForQuery once no COPY waits for more data. */
static int query_done(net__pgs_conn *c, int rc)
{
    if (rc < 0 || sql_session_copy_active(c->session))
        return rc;
    return ready(c);
}

/* Runs one message for the session. 0, or negative when the connection
 * must end (out of memory, the client hung up). */
static int run_message(net__pgs_conn *c, const net_pg_msg *m)
{
    sql_sink sink = make_sink(c);
    int rc;
    assert(c->session != NULL);
    switch (m->kind) {
    case NET_PG_QUERY:
        return query_done(c, sql_session_simple(c->session, m->u.query.sql, &sink));
    case NET_PG_COPY_DATA:
        rc = sql_session_copy_data(c->session, m->u.copy_data.data, m->u.copy_data.len, &sink);
        return query_done(c, rc);
    case NET_PG_COPY_DONE:
        return query_done(c, sql_session_copy_end(c->session, NULL, &sink));
    case NET_PG_COPY_FAIL:
        rc = sql_session_copy_end(c->session, m->u.copy_fail.message, &sink);
        return query_done(c, rc);
    case NET_PG_PARSE:
        return on_parse(c, m);
    case NET_PG_BIND:
        return on_bind(c, m);
    case NET_PG_DESCRIBE:
        return on_describe(c, m);
    case NET_PG_EXECUTE:
        return on_execute(c, m);
    case NET_PG_CLOSE:
        sql_session_close(c->session, m->u.close.what, m->u.close.name);
        return net_pg_put_empty(&c->out, NET_PG_CLOSE_COMPLETE);
    case NET_PG_SYNC:
        return on_sync(c);
    case NET_PG_FLUSH:
        return c->out.len > 0 ? flush_out(c) : 0;
    default:
        /* the codec hands over nothing else once the session is ready */
        assert(0);
        return NET_EPROTO;
    }
}

/* ---- the job -------------------------------------------------------- */

/* Steps the protocol until it needs input or the connection must end. */
static void step_input(net__pgs_conn *c)
{
    c->job_close = false;
    c->job_cancel = false;
    c->fatal_sent = false;
    for (;;) {
        net_pg_msg m;
        int rc = net_pg_conn_step(c->pg, &c->out, &m);
        if (rc == NET_PG_STEP_NEED_INPUT)
            return;
        if (rc == NET_PG_STEP_MESSAGE && run_message(c, &m) >= 0 && !atomic_load(&c->peer_gone))
            continue;
        if (rc == NET_PG_STEP_CANCEL) {
            c->job_cancel = true;
            c->cancel_pid = m.u.cancel.pid;
            c->cancel_secret = m.u.cancel.secret;
        }
        c->job_close = true;
        return;
    }
}

/* Sends what the socket takes of the answer without blocking. Only a job
 * that handed nothing to the loop may: the loop starts no write while a
 * job runs, so then no write of the loop is in flight and the bytes keep
 * their order. What is left (a full socket buffer, an error) stays in
 * `out` for the loop, whose write reports the error. */
static void send_answer(net__pgs_conn *c)
{
    if (c->job_flushed || c->out.len == 0 || atomic_load(&c->peer_gone))
        return;
    ssize_t n;
    do
        n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return;
    memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
    c->out.len -= (size_t)n;
}

void net__pgs_job(void *arg)
{
    net__pgs_conn *c = arg;
    c->job_flushed = false;
    if (c->job == NET__PGS_JOB_DESTROY) {
        sql_session_destroy(c->session);
        c->session = NULL;
    } else {
        step_input(c);
        send_answer(c);
    }
    net__pgs_post(c, NET__PGS_EV_DONE);
}
