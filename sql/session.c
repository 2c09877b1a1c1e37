/*
 * session.c - the SQL engine, sessions, the simple query protocol, the
 * transaction state machine (session_int.h) and server-side retry.
 *
 * Every statement goes through sql__exec_stmt, whatever protocol brought
 * it: transaction control changes the state; SET/SHOW touch only the
 * session; DDL and DML run in the open transaction or in an implicit one
 * begun for them. An implicit transaction that this statement began is
 * retried here on 40001 (restart, back off, run again) as long as nothing
 * reached the sink: RowDescription is held back until the first row for
 * that reason.
 *
 * statement_timeout: the engine keeps the sessions whose statement has a
 * deadline in a list watched by one timer thread, which sets the
 * session's cancel flag (SQL_CANCEL_TIMEOUT) when the deadline passes;
 * sql_txn and the executor check the flag between KV calls.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sql/session_int.h"

#define HEARTBEAT_MS   500
#define MAX_ATTEMPTS   8
#define BACKOFF_MAX_US 50000
/* A streaming statement formats its rows in an arena replaced this often. */
#define ROWS_PER_ARENA 256

/* ---- engine ------------------------------------------------------------ */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void timed_unlink(sql_engine *e, sql_session *s)
{
    if (!s->timed_linked)
        return;
    if (s->timed_prev)
        s->timed_prev->timed_next = s->timed_next;
    else
        e->timed = s->timed_next;
    if (s->timed_next)
        s->timed_next->timed_prev = s->timed_prev;
    s->timed_linked = false;
}

/* Fires expired deadlines; returns the earliest one left (INT64_MAX). */
static int64_t fire_deadlines(sql_engine *e, int64_t now)
{
    int64_t next = INT64_MAX;
    sql_session *s = e->timed;

    while (s) {
        sql_session *n = s->timed_next;
        if (s->deadline_ns <= now) {
            atomic_store(&s->cancel, SQL_CANCEL_TIMEOUT);
            timed_unlink(e, s);
        } else if (s->deadline_ns < next) {
            next = s->deadline_ns;
        }
        s = n;
    }
    return next;
}

static void *timer_main(void *arg)
{
    sql_engine *e = arg;

    pthread_mutex_lock(&e->mu);
    while (!e->stop) {
        int64_t next = fire_deadlines(e, mono_ns());
        if (next == INT64_MAX) {
            pthread_cond_wait(&e->cv, &e->mu);
        } else {
            struct timespec ts = {.tv_sec = next / 1000000000, .tv_nsec = next % 1000000000};
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
        }
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

static int timer_start(sql_engine *e)
{
    pthread_condattr_t ca;

    if (pthread_condattr_init(&ca) != 0)
        return -1;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return -1;
    if (pthread_mutex_init(&e->mu, NULL) != 0)
        goto out_destroy_cv;
    if (pthread_create(&e->timer, NULL, timer_main, e) != 0)
        goto out_destroy_mu;
    return 0;
out_destroy_mu:
    pthread_mutex_destroy(&e->mu);
out_destroy_cv:
    pthread_cond_destroy(&e->cv);
    return -1;
}

static void timer_stop(sql_engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->timer, NULL);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cv);
}

int sql_engine_open(kv_store *s, const sql_engine_options *opts, sql_engine **out, sql_error *err,
                    kv_arena *arena)
{
    sql_engine *e = calloc(1, sizeof *e);

    if (!e)
        return sql__oom(arena, err);
    e->store = s;
    if (opts)
        e->opts = *opts;
    int rc = kv_txn_hb_start(s, HEARTBEAT_MS, &e->hb);
    if (rc < 0) {
        sql_error_from_kv(err, arena, rc, "cannot start the transaction heartbeater");
        goto out_free;
    }
    if (sql_catalog_open(s, e->hb, &e->catalog, err, arena) < 0)
        goto out_stop_hb;
    if (timer_start(e) < 0) {
        sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "cannot start the timeout thread");
        goto out_close_catalog;
    }
    *out = e;
    return 0;
out_close_catalog:
    sql_catalog_close(e->catalog);
out_stop_hb:
    kv_txn_hb_stop(e->hb);
out_free:
    free(e);
    return -1;
}

void sql_engine_close(sql_engine *e)
{
    if (!e)
        return;
    assert(!e->timed);
    timer_stop(e);
    sql_catalog_close(e->catalog);
    kv_txn_hb_stop(e->hb);
    free(e);
}

int sql_engine_role(sql_engine *e, const char *user, char **verifier, bool *superuser)
{
    kv_arena *a;
    sql_error err = {0};
    sql_role_desc r;
    int rc;

    if (kv_arena_create(&a) < 0)
        return -1;
    rc = sql_catalog_role(e->catalog, NULL, user, &r, &err, a);
    if (rc == 0 && !r.login)
        rc = 1;
    if (rc == 0) {
        *superuser = r.superuser;
        *verifier = NULL;
        if (r.verifier && !(*verifier = strdup(r.verifier)))
            rc = -1;
    }
    kv_arena_destroy(a);
    return rc;
}

/* Connection setup looks the database up in a transaction of its own
 * (read-only: destroying it costs nothing), so that a database dropped
 * through another node is refused at once, not once this node's cache
 * has moved on. */
static int database_lookup(sql_engine *e, const char *name, sql_database_desc *d, sql_error *err,
                           kv_arena *arena)
{
    sql_txn *t;

    if (sql_txn_begin(e->store, e->hb, NULL, &t, err, arena) < 0)
        return -1;
    int rc = sql_catalog_database(e->catalog, t, name, d, err, arena);
    sql_txn_destroy(t);
    return rc;
}

int sql_engine_database_exists(sql_engine *e, const char *name)
{
    kv_arena *a;
    sql_error err = {0};
    sql_database_desc d;

    if (kv_arena_create(&a) < 0)
        return -1;
    int rc = database_lookup(e, name, &d, &err, a);
    kv_arena_destroy(a);
    return rc < 0 ? -1 : rc == 0;
}

/* ---- sessions ------------------------------------------------------------ */

/* Looks up the session's database and role. */
static int session_identity(sql_session *s, sql_error *err, kv_arena *arena)
{
    sql_database_desc d;
    sql_role_desc r;
    int rc = database_lookup(s->eng, s->database, &d, err, arena);

    if (rc == 1)
        return sql_error_set(err, arena, SQL_STATE_INVALID_CATALOG_NAME,
                             "database \"%s\" does not exist", s->database);
    if (rc < 0)
        return -1;
    s->db_id = d.id;
    rc = sql_catalog_role(s->eng->catalog, NULL, s->user, &r, err, arena);
    if (rc == 1)
        return sql_error_set(err, arena, SQL_STATE_INVALID_AUTHORIZATION_SPECIFICATION,
                             "role \"%s\" does not exist", s->user);
    if (rc < 0)
        return -1;
    s->superuser = r.superuser;
    return 0;
}

int sql_session_create(sql_engine *e, const char *user, const char *database, size_t nparams,
                       const char *const *names, const char *const *values, sql_session **out,
                       sql_error *err, kv_arena *arena)
{
    sql_session *s = calloc(1, sizeof *s);

    if (!s)
        return sql__oom(arena, err);
    s->eng = e;
    s->user = strdup(user);
    s->database = strdup(database);
    if (!s->user || !s->database) {
        sql__oom(arena, err);
        goto out_free;
    }
    if (session_identity(s, err, arena) < 0)
        goto out_free;
    if (sql__settings_init(s) < 0) {
        sql__oom(arena, err);
        goto out_free;
    }
    if (sql__settings_startup(s, nparams, names, values, err, arena) < 0)
        goto out_free_settings;
    *out = s;
    return 0;
out_free_settings:
    sql__settings_free(s);
out_free:
    free(s->database);
    free(s->user);
    free(s);
    return -1;
}

void sql_session_destroy(sql_session *s)
{
    if (!s)
        return;
    while (s->portals)
        sql_session_close(s, 'P', s->portals->name);
    while (s->stmts)
        sql_session_close(s, 'S', s->stmts->name);
    sql__copy_free(s);
    sql_txn_destroy(s->txn);
    sql__settings_free(s);
    free(s->database);
    free(s->user);
    free(s);
}

char sql_session_txn_status(const sql_session *s)
{
    switch (s->state) {
    case SQL__TXN_BLOCK:
        return 'T';
    case SQL__TXN_FAILED:
        return 'E';
    default:
        return 'I';
    }
}

void sql_session_cancel(sql_session *s)
{
    if (atomic_load(&s->running))
        atomic_store(&s->cancel, SQL_CANCEL_REQUEST);
}

/* Statement start and end: the cancel flag and the timeout deadline. */
static void stmt_start(sql_session *s)
{
    atomic_store(&s->cancel, SQL_CANCEL_NONE);
    atomic_store(&s->running, true);
    if (s->timeout_ms <= 0)
        return;
    s->armed = true;
    pthread_mutex_lock(&s->eng->mu);
    s->deadline_ns = mono_ns() + s->timeout_ms * 1000000;
    s->timed_prev = NULL;
    s->timed_next = s->eng->timed;
    if (s->timed_next)
        s->timed_next->timed_prev = s;
    s->eng->timed = s;
    s->timed_linked = true;
    pthread_cond_signal(&s->eng->cv);
    pthread_mutex_unlock(&s->eng->mu);
}

void sql__stmt_end(sql_session *s)
{
    atomic_store(&s->running, false);
    if (!s->armed)
        return;
    s->armed = false;
    pthread_mutex_lock(&s->eng->mu);
    timed_unlink(s->eng, s);
    pthread_mutex_unlock(&s->eng->mu);
}

/* ---- plans ------------------------------------------------------------- */

void sql__planref_release(sql__planref *r)
{
    if (!r || --r->refs > 0)
        return;
    sql__plan_free(r->plan);
    kv_arena_destroy(r->arena);
    free(r);
}

static sql_plan_ctx plan_ctx(sql_session *s, const char *query, sql_params *params)
{
    return (sql_plan_ctx){
        .catalog = s->eng->catalog,
        .txn = s->txn,
        .db_id = s->db_id,
        .query = query,
        .params = params,
    };
}

/* Whether a plan made now in the session's transaction will be exact, and
 * for which catalog version (sql__planref). Reading the version first
 * also moves the cache to it before the plan records its generation. */
static int plan_version(sql_session *s, sql__planref *r, sql_error *err, kv_arena *arena)
{
    r->exact = s->txn && !sql_txn_did_ddl(s->txn);
    if (!r->exact)
        return 0;
    return sql_catalog_version(s->eng->catalog, s->txn, &r->catalog_version, err, arena);
}

int sql__prepared_plan(sql_session *s, sql__prepared *ps, sql_error *err, kv_arena *arena)
{
    sql__planref *r = calloc(1, sizeof *r);
    sql_plan_ctx pc = plan_ctx(s, ps->query, &ps->params);

    if (!r || kv_arena_create(&r->arena) < 0) {
        free(r);
        return sql__oom(arena, err);
    }
    if (plan_version(s, r, err, arena) < 0 ||
        sql__plan(&pc, ps->stmt, r->arena, &r->plan, err) < 0) {
        sql_error_move(err, arena);
        kv_arena_destroy(r->arena);
        free(r);
        return -1;
    }
    r->refs = 1;
    sql__planref_release(ps->plan);
    ps->plan = r;
    return 0;
}

/* ---- output -------------------------------------------------------------- */

int sql__sink_failed(sql__exec *x, int rc)
{
    x->sink_rc = rc;
    return sql_error_set(&x->err, x->arena, SQL_STATE_CONNECTION_FAILURE, "the client went away");
}

int sql__notice(sql__exec *x, sql_sqlstate state, sql_severity sev, const char *fmt, ...)
{
    sql_error n = {0};
    char buf[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sql_error_set(&n, x->arena, state, "%s", buf);
    n.severity = sev;
    x->noticed = true;
    int rc = x->sink->notice(x->sink->ctx, &n);
    return rc < 0 ? sql__sink_failed(x, rc) : 0;
}

static int send_columns(sql__exec *x, const sql_column_info *cols, size_t n)
{
    if (!x->describe || x->cols_sent)
        return 0;
    x->cols_sent = true;
    int rc = x->sink->columns(x->sink->ctx, cols, n);
    return rc < 0 ? sql__sink_failed(x, rc) : 0;
}

/* Where a row's formatted values go: the portal keeps them; streamed
 * rows need them only during the sink call, so their arena is replaced
 * every ROWS_PER_ARENA rows to bound a large result's memory. */
static kv_arena *row_arena(sql__exec *x)
{
    if (x->store)
        return x->store->arena;
    if (!x->scratch || x->nsent % ROWS_PER_ARENA == 0) {
        kv_arena_destroy(x->scratch);
        x->scratch = NULL;
        if (kv_arena_create(&x->scratch) < 0)
            return NULL;
    }
    return x->scratch;
}

void sql__exec_done(sql__exec *x)
{
    kv_arena_destroy(x->scratch);
    x->scratch = NULL;
}

/* Formats one value as the result format asks. */
static int format_value(sql__exec *x, size_t i, sql_type type, const sql_datum *d, kv_arena *a,
                        sql_value *out)
{
    sql_io_ctx io = sql__session_io(x->s);
    const uint8_t *p;
    size_t len;

    if (d->isnull) {
        *out = (sql_value){NULL, -1};
        return 0;
    }
    if (x->formats && x->formats[i] == 1) {
        if (sql_datum_send(type, d, a, &p, &len, &x->err) < 0)
            return -1;
        if (x->store && !(p = kv_arena_dup(a, p, len)))
            return sql__oom(x->arena, &x->err);
    } else {
        const char *t;
        if (sql_datum_to_text(type, d, &io, a, &t, &len, &x->err) < 0)
            return -1;
        p = (const uint8_t *)t;
    }
    *out = (sql_value){p, (int32_t)len};
    return 0;
}

static int store_row(sql__portal *p, sql_value *vals)
{
    if (p->nrows == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        sql_value **rows = kv_arena_alloc(p->arena, cap * sizeof *rows);
        if (!rows)
            return -1;
        if (p->nrows)
            memcpy(rows, p->rows, p->nrows * sizeof *rows);
        p->rows = rows;
        p->cap = cap;
    }
    p->rows[p->nrows++] = vals;
    return 0;
}

int sql__emit_row(sql__exec *x, const sql_column_info *cols, const sql_datum *vals, size_t n)
{
    kv_arena *a = row_arena(x);
    sql_value *out = a ? kv_arena_alloc(a, (n ? n : 1) * sizeof *out) : NULL;

    if (!out)
        return sql__oom(x->arena, &x->err);
    for (size_t i = 0; i < n; i++)
        if (format_value(x, i, cols[i].type, &vals[i], a, &out[i]) < 0) {
            sql_error_move(&x->err, x->arena); /* `a` is recycled */
            return -1;
        }
    x->nsent++;
    if (x->store)
        return store_row(x->store, out) < 0 ? sql__oom(x->arena, &x->err) : 0;
    if (send_columns(x, cols, n) < 0)
        return -1;
    int rc = x->sink->row(x->sink->ctx, out, n);
    return rc < 0 ? sql__sink_failed(x, rc) : 0;
}

int sql__exec_complete(sql__exec *x)
{
    int rc = x->sink->complete(x->sink->ctx, x->tag);
    return rc < 0 ? sql__sink_failed(x, rc) : 0;
}

int sql__exec_report(sql__exec *x)
{
    if (x->sink_rc < 0)
        return x->sink_rc;
    int rc = x->sink->error(x->sink->ctx, &x->err);
    return rc < 0 ? rc : 0;
}

/* ---- transactions -------------------------------------------------------- */

static int txn_begin(sql_session *s, sql__txn_state state, sql_error *err, kv_arena *arena)
{
    assert(!s->txn);
    if (sql_txn_begin(s->eng->store, s->eng->hb, &s->cancel, &s->txn, err, arena) < 0)
        return -1;
    s->state = state;
    s->read_only = s->default_read_only;
    return 0;
}

static void txn_drop(sql_session *s, sql__txn_state next)
{
    sql_txn_destroy(s->txn);
    s->txn = NULL;
    s->state = next;
}

int sql__txn_end(sql_session *s, bool commit, sql_error *err, kv_arena *arena)
{
    kv_response resp;
    int rc = 0;

    if (!s->txn)
        return 0;
    if (!commit) {
        sql_txn_rollback(s->txn);
        txn_drop(s, SQL__TXN_IDLE);
        return 0;
    }
    if (kv_response_init(&resp) < 0)
        return sql__oom(arena, err);
    rc = sql_txn_commit(s->txn, NULL, &resp, err, arena);
    kv_response_free(&resp);
    if (sql_txn_did_ddl(s->txn))
        sql_catalog_invalidate(s->eng->catalog);
    /* a failed commit is rolled back by destroy, unless it is ambiguous */
    txn_drop(s, SQL__TXN_IDLE);
    return rc;
}

void sql__txn_fail(sql_session *s)
{
    if (s->state == SQL__TXN_IMPLICIT) {
        sql__txn_end(s, false, NULL, NULL);
    } else if (s->state == SQL__TXN_BLOCK) {
        sql_txn_rollback(s->txn);
        txn_drop(s, SQL__TXN_FAILED);
    }
}

/* PostgreSQL's tag for BEGIN depends on the spelling. */
static const char *begin_tag(const sql__exec *x)
{
    const char *p = x->query + x->st->location;

    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return strncasecmp(p, "start", 5) == 0 ? "START TRANSACTION" : "BEGIN";
}

static int exec_begin(sql__exec *x)
{
    sql_session *s = x->s;

    snprintf(x->tag, sizeof x->tag, "%s", begin_tag(x));
    if (s->state == SQL__TXN_BLOCK || s->state == SQL__TXN_FAILED)
        return sql__notice(x, SQL_STATE_ACTIVE_SQL_TRANSACTION, SQL_SEV_WARNING,
                           "there is already a transaction in progress");
    /* BEGIN inside an implicit transaction turns it into a block */
    if (s->state == SQL__TXN_IMPLICIT)
        s->state = SQL__TXN_BLOCK;
    else if (txn_begin(s, SQL__TXN_BLOCK, &x->err, x->arena) < 0)
        return -1;
    if (x->st->u.begin.read_only >= 0)
        s->read_only = x->st->u.begin.read_only;
    return 0;
}

static int exec_end(sql__exec *x, bool commit)
{
    sql_session *s = x->s;
    bool failed = s->state == SQL__TXN_FAILED;

    snprintf(x->tag, sizeof x->tag, "%s", commit && !failed ? "COMMIT" : "ROLLBACK");
    /* an implicit transaction (extended protocol before Sync) still ends */
    if ((s->state == SQL__TXN_IDLE || s->state == SQL__TXN_IMPLICIT) &&
        sql__notice(x, SQL_STATE_NO_ACTIVE_SQL_TRANSACTION, SQL_SEV_WARNING,
                    "there is no transaction in progress") < 0)
        return -1;
    if (failed) {
        s->state = SQL__TXN_IDLE;
        return 0;
    }
    return sql__txn_end(s, commit, &x->err, x->arena);
}

/* ---- DML ------------------------------------------------------------------ */

static int env_nextval(void *env, const char *seq, int64_t *out, sql_error *err, kv_arena *arena)
{
    sql_session *s = env;
    int rc = sql_catalog_nextval(s->eng->catalog, s->txn, s->db_id, seq, out, err, arena);

    if (rc == 1)
        return sql_error_set(err, arena, SQL_STATE_UNDEFINED_TABLE,
                             "relation \"%s\" does not exist", seq);
    return rc;
}

int sql__internal_plan(sql__exec *x, const sql_stmt *st, sql_params *params, sql_plan **out)
{
    sql_plan_ctx pc = plan_ctx(x->s, x->query, params);
    return sql__plan(&pc, st, x->arena, out, &x->err);
}

int sql__plan_insert_rows(sql__exec *x, const sql_name *table, const char *const *cols,
                          const sql_type *types, size_t ncols, size_t nrows, kv_arena *arena,
                          sql_plan **out)
{
    size_t n = nrows * ncols;
    sql_expr *params = kv_arena_alloc(arena, n * sizeof *params);
    sql_expr **cells = kv_arena_alloc(arena, n * sizeof *cells);
    sql_expr ***rows = kv_arena_alloc(arena, nrows * sizeof *rows);
    uint32_t *oids = kv_arena_alloc(arena, n * sizeof *oids);
    sql_params ps = {.oids = oids, .n = (int)n, .cap = (int)n};
    kv_arena *saved = x->arena;

    if (!params || !cells || !rows || !oids)
        return sql__oom(x->arena, &x->err);
    for (size_t i = 0; i < n; i++) {
        params[i] = (sql_expr){.kind = SQL_EXPR_PARAM, .location = -1, .param = (int)i + 1};
        cells[i] = &params[i];
        oids[i] = types[i % ncols].oid;
    }
    for (size_t r = 0; r < nrows; r++)
        rows[r] = &cells[r * ncols];
    sql_stmt ins = {.kind = SQL_STMT_INSERT,
                    .location = -1,
                    .u.insert = {.table = *table,
                                 .columns = (const char **)cols,
                                 .ncolumns = (int)ncols,
                                 .rows = rows,
                                 .nrows = (int)nrows,
                                 .rowlen = (int)ncols}};
    x->arena = arena;
    int rc = sql__internal_plan(x, &ins, &ps, out);
    x->arena = saved;
    return rc;
}

void sql__run_ctx_init(sql__exec *x, sql_run_ctx *ctx, sql_eval_env *env, const sql_datum *params,
                       const sql_type *types, sql_row_fn row, void *arg)
{
    sql_session *s = x->s;

    *env = (sql_eval_env){.nextval = env_nextval,
                          .env = s,
                          .cancel = &s->cancel,
                          .database = s->database,
                          .user = s->user,
                          .catalog = s->eng->catalog,
                          .txn = s->txn,
                          .db_id = s->db_id};
    *ctx = (sql_run_ctx){.txn = s->txn,
                         .catalog = s->eng->catalog,
                         .db_id = s->db_id,
                         .params = params,
                         .param_types = types,
                         .io = sql__session_io(s),
                         .env = env,
                         .cancel = &s->cancel,
                         .query = x->query,
                         .row = row,
                         .row_arg = arg};
}

/* Runs plan p in the session's transaction with the session's services. */
static int run_plan(sql__exec *x, const sql_plan *p, const sql_datum *params, const sql_type *types,
                    bool may_commit, sql_row_fn row, void *arg, uint64_t *affected, bool *committed)
{
    sql_eval_env env;
    sql_run_ctx rc;

    sql__run_ctx_init(x, &rc, &env, params, types, row, arg);
    *committed = false;
    return sql__run(p, &rc, may_commit, x->arena, affected, committed, &x->err);
}

int sql__internal_run(sql__exec *x, const sql_plan *p, const sql_datum *params,
                      const sql_type *types, sql_row_fn row, void *arg, uint64_t *affected)
{
    bool committed;
    return run_plan(x, p, params, types, false, row, arg, affected, &committed);
}

typedef struct dml_rows {
    sql__exec *x;
    const sql_column_info *cols;
} dml_rows;

static int dml_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    dml_rows *r = arg;

    if (sql__emit_row(r->x, r->cols, vals, n) < 0) {
        *err = r->x->err;
        return -1;
    }
    return 0;
}

static int dml_run(sql__exec *x, const sql_plan *p, bool *committed)
{
    sql_session *s = x->s;
    size_t ncols;
    dml_rows rows = {.x = x, .cols = sql__plan_columns(p, &ncols)};
    uint64_t affected = 0;
    bool may_commit = x->ends_implicit && s->state == SQL__TXN_IMPLICIT;

    /* the tag verbs that write are all six letters ("INSERT 0") */
    if (s->read_only && sql__plan_writes(p))
        return sql_error_set(&x->err, x->arena, SQL_STATE_READ_ONLY_SQL_TRANSACTION,
                             "cannot execute %.6s in a read-only transaction", sql__plan_tag(p));
    if (run_plan(x, p, x->params, x->param_types, may_commit, dml_row, &rows, &affected,
                 committed) < 0)
        return -1;
    if (sql__plan_returns_rows(p) && send_columns(x, rows.cols, ncols) < 0)
        return -1;
    snprintf(x->tag, sizeof x->tag, "%s %llu", sql__plan_tag(p), (unsigned long long)affected);
    return 0;
}

static int exec_dml(sql__exec *x, bool *committed)
{
    sql_plan *p;
    sql_params none = {0};

    if (x->portal) {
        if (sql__portal_plan(x->s, x->portal, &x->err, x->arena) < 0)
            return -1;
        return dml_run(x, x->portal->plan->plan, committed);
    }
    if (sql__internal_plan(x, x->st, &none, &p) < 0)
        return -1;
    int rc = dml_run(x, p, committed);
    sql__plan_free(p);
    return rc;
}

/* ---- dispatch ------------------------------------------------------------- */

static bool is_dml(sql_stmt_kind k)
{
    return k == SQL_STMT_SELECT || k == SQL_STMT_INSERT || k == SQL_STMT_UPDATE ||
           k == SQL_STMT_DELETE;
}

/* One attempt of a DDL or DML statement in s->txn, committing an implicit
 * transaction when x says it ends here. */
static int attempt(sql__exec *x)
{
    bool committed = false;
    int rc;

    if (is_dml(x->st->kind)) {
        rc = exec_dml(x, &committed);
    } else if (x->st->kind == SQL_STMT_EXPLAIN) {
        rc = sql__explain(x);
    } else if (x->st->kind == SQL_STMT_COPY) {
        rc = sql__copy(x);
    } else {
        if (x->s->read_only)
            return sql_error_set(&x->err, x->arena, SQL_STATE_READ_ONLY_SQL_TRANSACTION,
                                 "cannot execute %s in a read-only transaction",
                                 sql__ddl_tag(x->st->kind));
        rc = sql__ddl(x);
    }
    if (rc < 0)
        return -1;
    if (committed) {
        if (sql_txn_did_ddl(x->s->txn))
            sql_catalog_invalidate(x->s->eng->catalog);
        txn_drop(x->s, SQL__TXN_IDLE);
        return 0;
    }
    if (x->s->copy) /* COPY FROM STDIN: the transaction ends with the data */
        return 0;
    if (x->ends_implicit && x->s->state == SQL__TXN_IMPLICIT)
        return sql__txn_end(x->s, true, &x->err, x->arena);
    return 0;
}

static void backoff(int n)
{
    long us = 1000L << n;
    struct timespec ts;

    if (us > BACKOFF_MAX_US)
        us = BACKOFF_MAX_US;
    ts.tv_sec = 0;
    ts.tv_nsec = us * 1000;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A statement in a transaction, retried when it began an implicit one
 * and nothing reached the sink. */
static int exec_in_txn(sql__exec *x)
{
    sql_session *s = x->s;
    bool own = false;

    if (s->state == SQL__TXN_IDLE) {
        if (txn_begin(s, SQL__TXN_IMPLICIT, &x->err, x->arena) < 0)
            return -1;
        own = true;
    }
    for (int n = 0;; n++) {
        if (attempt(x) == 0)
            return 0;
        /* rows held in a portal were not sent: drop them and go again */
        bool sent = x->nsent > 0 && !x->store;
        if (!own || x->sink_rc < 0 || sent || x->noticed || n + 1 >= MAX_ATTEMPTS ||
            x->err.state != SQL_STATE_SERIALIZATION_FAILURE)
            break;
        if (x->store)
            x->store->nrows = 0;
        x->nsent = 0;
        backoff(n);
        /* a failed commit ended the transaction; a failed write left it open */
        if (!s->txn ? txn_begin(s, SQL__TXN_IMPLICIT, &x->err, x->arena) < 0
                    : sql_txn_restart(s->txn, &x->err, x->arena) < 0)
            break;
    }
    return -1;
}

static int dispatch(sql__exec *x)
{
    sql_stmt_kind k = x->st->kind;

    switch (k) {
    case SQL_STMT_BEGIN:
        return exec_begin(x);
    case SQL_STMT_COMMIT:
        return exec_end(x, true);
    case SQL_STMT_ROLLBACK:
        return exec_end(x, false);
    default:
        break;
    }
    if (x->s->state == SQL__TXN_FAILED)
        return sql_error_set(&x->err, x->arena, SQL_STATE_IN_FAILED_SQL_TRANSACTION,
                             "current transaction is aborted, commands ignored until end of "
                             "transaction block");
    if (k == SQL_STMT_SET)
        return sql__set(x);
    if (k == SQL_STMT_SHOW)
        return sql__show(x);
    if (k == SQL_STMT_VACUUM || k == SQL_STMT_ANALYZE)
        return sql__vacuum(x);
    return exec_in_txn(x);
}

int sql__exec_stmt(sql__exec *x)
{
    stmt_start(x->s);
    int rc = dispatch(x);
    if (!x->s->copy) /* a COPY FROM STDIN runs on until its data ends */
        sql__stmt_end(x->s);
    if (rc < 0 && x->s->state != SQL__TXN_IDLE && x->s->state != SQL__TXN_FAILED)
        sql__txn_fail(x->s);
    return rc;
}

/* ---- simple query --------------------------------------------------------- */

/* COPY FROM STDIN takes the messages that follow its query string, so
 * only the string's last statement may be one. */
static int copy_in_last(const sql_stmt_list *l, sql_error *err, kv_arena *arena)
{
    for (int i = 0; i + 1 < l->n; i++)
        if (l->stmts[i].kind == SQL_STMT_COPY && l->stmts[i].u.copy.from)
            return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                 "COPY FROM STDIN before other statements of a query string is "
                                 "not supported yet");
    return 0;
}

static bool has_txn_control(const sql_stmt_list *l)
{
    for (int i = 0; i < l->n; i++) {
        sql_stmt_kind k = l->stmts[i].kind;
        if (k == SQL_STMT_BEGIN || k == SQL_STMT_COMMIT || k == SQL_STMT_ROLLBACK)
            return true;
    }
    return false;
}

/* The statements of one query string; `group` runs them as one implicit
 * transaction: the first statement that needs one begins it (and may be
 * retried on the server), the last commits it. Returns 0 or a sink
 * callback's value. */
static int simple_run(sql_session *s, const char *query, const sql_stmt_list *l, bool group,
                      const sql_sink *sink, kv_arena *arena)
{
    for (int i = 0; i < l->n; i++) {
        sql__exec x = {.s = s,
                       .sink = sink,
                       .query = query,
                       .st = &l->stmts[i],
                       .describe = true,
                       .ends_implicit = !group || i == l->n - 1,
                       .arena = arena};
        int rc = sql__exec_stmt(&x);
        sql__exec_done(&x);
        if (rc < 0)
            return sql__exec_report(&x);
        if (s->copy) /* the last statement: its data comes next */
            return 0;
        if (sql__exec_complete(&x) < 0) {
            sql__txn_fail(s); /* the client is gone: no half-run group */
            return x.sink_rc;
        }
    }
    /* a group ending in SET or SHOW has not committed yet */
    if (group && s->state == SQL__TXN_IMPLICIT) {
        sql__exec x = {.s = s, .sink = sink, .query = query, .arena = arena};
        if (sql__txn_end(s, true, &x.err, arena) < 0)
            return sql__exec_report(&x);
    }
    return 0;
}

int sql_session_simple(sql_session *s, const char *query, const sql_sink *sink)
{
    kv_arena *arena;
    sql_stmt_list l;
    sql__exec x = {.s = s, .sink = sink, .query = query};
    int rc;

    if (kv_arena_create(&arena) < 0) {
        static const sql_error oom = {.state = SQL_STATE_OUT_OF_MEMORY, .message = "out of memory"};
        return sink->error(sink->ctx, &oom);
    }
    x.arena = arena;
    if (sql_parse(query, arena, &l, &x.err) < 0 || copy_in_last(&l, &x.err, arena) < 0) {
        if (s->state == SQL__TXN_BLOCK)
            sql__txn_fail(s);
        rc = sql__exec_report(&x);
    } else if (l.n == 0) {
        rc = sink->empty(sink->ctx);
    } else {
        bool group = l.n > 1 && s->state == SQL__TXN_IDLE && !has_txn_control(&l);
        rc = simple_run(s, query, &l, group, sink, arena);
    }
    kv_arena_destroy(arena);
    return rc < 0 ? rc : 0;
}
