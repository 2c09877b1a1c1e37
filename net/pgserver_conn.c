/*
 * pgserver_conn.c - one client connection on the loop thread.
 *
 * The loop owns the socket. Received bytes go straight into the
 * connection's net_pg_conn when no job runs, and a job is submitted to
 * step over them; while a job runs they are held in `pending` (up to
 * NET__PGS_PENDING_MAX, then reading pauses), which also lets the loop notice
 * a client that hangs up mid-statement and cancel that statement. When
 * the job is done, what it did not send itself is written, then the next
 * job starts.
 *
 * Everything that can happen next is decided in one place, advance(),
 * called after every event (read, job done, write done, shutdown):
 *
 *   busy / writing / handle closing  -> wait for that to finish (a write
 *                                       is abandoned if the peer left or
 *                                       the shutdown grace is over)
 *   server shutting down             -> queue FATAL 57P01, close after it
 *   output queued                    -> write it (dropped if abandoned)
 *   closing, peer gone, abandoned    -> destroy the session (a job), then
 *                                       close the socket
 *   input pending                    -> feed it, start a job
 *   otherwise                        -> read
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "net/pgserver_int.h"

static void advance(net__pgs_conn *c);
static void peer_gone(net__pgs_conn *c);

/* ---- reading ---------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    net__pgs_conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->srv->readbuf, sizeof(c->srv->readbuf));
}

/* Keeps bytes that arrive while a job owns the net_pg_conn. NET_ENOMEM. */
static int pending_append(net__pgs_conn *c, const char *data, size_t len)
{
    net_pg_buf *p = &c->pending;
    if (p->len + len > p->cap) {
        size_t cap = p->cap ? p->cap : 1024;
        while (cap < p->len + len)
            cap *= 2;
        uint8_t *grown = realloc(p->data, cap);
        if (grown == NULL)
            return NET_ENOMEM;
        p->data = grown;
        p->cap = cap;
    }
    memcpy(p->data + p->len, data, len);
    p->len += len;
    return 0;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    net__pgs_conn *c = st->data;
    int rc = 0;
    if (n == 0)
        return;
    if (n < 0)
        peer_gone(c);
    else if (c->busy)
        rc = pending_append(c, buf->base, (size_t)n);
    else if ((rc = net_pg_conn_feed(c->pg, buf->base, (size_t)n)) == 0)
        c->has_input = true;
    if (rc < 0) {
        net__pgs_log(c->srv, "connection %d: %s", (int)c->pid, net_strerror(rc));
        c->closing = true;
    }
    advance(c);
}

/* Reads whenever more input is welcome: not while closing, and not while
 * a job runs with NET__PGS_PENDING_MAX bytes already waiting. */
static void update_reading(net__pgs_conn *c)
{
    bool want = !c->closing && !c->handle_closing && !atomic_load(&c->peer_gone) &&
                c->pending.len < NET__PGS_PENDING_MAX;
    if (want && !c->reading)
        want = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0;
    else if (!want && c->reading)
        uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = want;
}

/* ---- writing ---------------------------------------------------------- */

/* Idle connections keep at most this much output buffer. */
#define OUT_KEEP 8192

/* Lets the job waiting in a flush go on; rc -1: the client is gone or the
 * server shuts down, abort the statement. */
static void flush_done(net__pgs_conn *c, int rc)
{
    net_pg_server *s = c->srv;
    pthread_mutex_lock(&s->mu);
    c->flush_wait = false;
    c->flush_rc = rc;
    pthread_cond_broadcast(&s->flushed);
    pthread_mutex_unlock(&s->mu);
}

static void on_written(uv_write_t *req, int status);

/* Moves `out` to `wbuf` and writes it. */
static void start_write(net__pgs_conn *c)
{
    net_pg_buf spare = c->wbuf;
    c->wbuf = c->out;
    c->out = spare;
    net_pg_buf_reset(&c->out);
    uv_buf_t b = uv_buf_init((char *)c->wbuf.data, (unsigned)c->wbuf.len);
    c->writing = true;
    c->wreq.data = c;
    int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written);
    /* On error libuv never calls back: do it here. */
    if (rc < 0)
        on_written(&c->wreq, rc);
}

/* A job's flush, once no write is in flight. */
static void serve_flush(net__pgs_conn *c)
{
    if (atomic_load(&c->peer_gone) || c->force_close) {
        flush_done(c, -1);
        return;
    }
    start_write(c);
    flush_done(c, 0);
}

/* Fails a flush that waits for a write which may never finish: the
 * statement then aborts. */
static void release_flush(net__pgs_conn *c)
{
    if (c->flush_pending) {
        c->flush_pending = false;
        flush_done(c, -1);
    }
}

static void cancel_statement(net__pgs_conn *c)
{
    if (c->busy && c->session_live)
        sql_session_cancel(c->session);
}

/* The client is gone (EOF, reset, failed write). */
static void peer_gone(net__pgs_conn *c)
{
    atomic_store(&c->peer_gone, true);
    cancel_statement(c);
    release_flush(c);
}

static void on_written(uv_write_t *req, int status)
{
    net__pgs_conn *c = req->data;
    c->writing = false;
    if (status < 0)
        peer_gone(c);
    if (c->wbuf.cap > OUT_KEEP)
        net_pg_buf_free(&c->wbuf);
    else
        net_pg_buf_reset(&c->wbuf);
    if (c->flush_pending) {
        c->flush_pending = false;
        serve_flush(c);
    }
    advance(c);
}

/* ---- jobs and closing ----------------------------------------------- */

static void submit(net__pgs_conn *c, net__pgs_job_kind kind)
{
    assert(!c->busy);
    c->busy = true;
    c->job = kind;
    c->work = (net_work){.fn = net__pgs_job, .arg = c};
    net_workers_submit(c->srv->opts.workers, &c->work);
}

static void on_closed(uv_handle_t *h)
{
    net__pgs_conn *c = h->data;
    net_pg_server *s = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    net__pgs_unregister(c);
    net_pg_conn_destroy(c->pg);
    net_pg_buf_free(&c->out);
    net_pg_buf_free(&c->wbuf);
    net_pg_buf_free(&c->pending);
    free(c);
    net__pgs_conn_gone(s);
}

/* The session is destroyed on a worker (it may roll back through KV);
 * the socket closes after that. */
static void finish_close(net__pgs_conn *c)
{
    c->closing = true;
    update_reading(c);
    if (c->session_live) {
        c->session_live = false;
        submit(c, NET__PGS_JOB_DESTROY);
        return;
    }
    c->handle_closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
}

/* FATAL 57P01, what PostgreSQL sends every backend on a fast shutdown. */
static void queue_shutdown_fatal(net__pgs_conn *c)
{
    sql_error e;
    sql_error_set(&e, net_pg_conn_arena(c->pg), SQL_STATE_ADMIN_SHUTDOWN,
                  "terminating connection due to administrator command");
    e.severity = SQL_SEV_FATAL;
    (void)net_pg_conn_error(c->pg, &c->out, &e);
}

static void advance(net__pgs_conn *c)
{
    /* Nothing more is written to a client that left, or that did not read
     * during the shutdown grace; closing the handle cancels its write. */
    bool abandon = atomic_load(&c->peer_gone) || c->force_close;
    if (c->busy || c->handle_closing || (c->writing && !abandon)) {
        update_reading(c);
        return;
    }
    if (atomic_load(&c->terminating) && !c->closing) {
        c->closing = true;
        queue_shutdown_fatal(c);
    }
    if (c->out.len > 0 && !abandon) {
        start_write(c);
        return;
    }
    net_pg_buf_reset(&c->out);
    if (c->closing || abandon) {
        finish_close(c);
        return;
    }
    if (c->pending.len > 0) {
        int rc = net_pg_conn_feed(c->pg, c->pending.data, c->pending.len);
        net_pg_buf_free(&c->pending);
        if (rc < 0) {
            finish_close(c);
            return;
        }
        c->has_input = true;
    }
    if (c->has_input) {
        c->has_input = false;
        submit(c, NET__PGS_JOB_INPUT);
    } else if (c->out.cap > OUT_KEEP) {
        net_pg_buf_free(&c->out); /* idle: keep little memory */
    }
    update_reading(c);
}

/* ---- events ----------------------------------------------------------- */

void net__pgs_on_event(net__pgs_conn *c, net__pgs_event ev)
{
    if (ev == NET__PGS_EV_FLUSH) {
        if (c->writing && !c->force_close)
            c->flush_pending = true;
        else
            serve_flush(c);
        return;
    }
    assert(ev == NET__PGS_EV_DONE && c->busy);
    c->busy = false;
    c->session_live = c->session != NULL;
    if (c->job_close)
        c->closing = true;
    if (c->job_cancel) {
        c->job_cancel = false;
        net__pgs_cancel(c->srv, c->cancel_pid, c->cancel_secret);
    }
    advance(c);
}

void net__pgs_terminate(net__pgs_conn *c)
{
    atomic_store(&c->terminating, true);
    cancel_statement(c);
    advance(c);
}

void net__pgs_force_close(net__pgs_conn *c)
{
    c->force_close = true;
    cancel_statement(c);
    release_flush(c);
    advance(c);
}

/* ---- accepting ---------------------------------------------------------- */

static void on_refused(uv_handle_t *h)
{
    free(h->data);
}

void net__pgs_on_connection(uv_stream_t *listener, int status)
{
    net_pg_server *s = listener->data;
    if (status < 0) {
        net__pgs_log(s, "accept failed: %s", uv_strerror(status));
        return;
    }
    net__pgs_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        net__pgs_log(s, "accept: out of memory");
        return;
    }
    c->srv = s;
    uv_tcp_init(s->loop, &c->tcp);
    c->tcp.data = c;
    int rc = uv_accept(listener, (uv_stream_t *)&c->tcp);
    if (rc < 0) {
        net__pgs_log(s, "accept failed: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)&c->tcp, on_refused);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    if (uv_fileno((uv_handle_t *)&c->tcp, &c->fd) != 0)
        c->fd = -1; /* the job's sends fail; the loop writes everything */
    net__pgs_register(c);
    net_pg_config cfg;
    net__pgs_pg_config(c, &cfg);
    if (net_pg_conn_create(&cfg, &c->pg) < 0) {
        net__pgs_log(s, "accept: out of memory");
        net__pgs_unregister(c);
        uv_close((uv_handle_t *)&c->tcp, on_refused);
        return;
    }
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    update_reading(c);
}
