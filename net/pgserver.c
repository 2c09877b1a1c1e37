/*
 * pgserver.c - the pgwire server's listener, its wake-up queue from the
 * workers, the cancel registry and shutdown (net/pgserver.h).
 *
 * Workers report to the loop through one uv_async_t: they append the
 * connection to a queue under `mu` and signal; libuv may coalesce
 * signals, so the loop drains the whole queue each time. A connection has
 * at most one event queued, because its job either finishes or waits for
 * its flush.
 *
 * The cancel registry maps BackendKeyData's pid to the connection (hash
 * buckets on the low bits, loop thread only). A CancelRequest arrives on
 * its own connection and is recognised by that connection's job; the loop
 * then looks the key up here. pids are random positive 31-bit numbers,
 * unique among the live connections, secrets random 32-bit: a client
 * cannot cancel what it did not see the key of.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net/net_int.h"
#include "net/pgserver_int.h"
#include "net/tcp.h"

void net__pgs_log(net_pg_server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    net__logv(s->opts.log, s->opts.log_ctx, fmt, ap);
    va_end(ap);
}

/* ---- worker -> loop ---------------------------------------------------- */

void net__pgs_post(net__pgs_conn *c, net__pgs_event ev)
{
    net_pg_server *s = c->srv;
    pthread_mutex_lock(&s->mu);
    assert(c->event == NET__PGS_EV_NONE);
    c->event = ev;
    if (ev == NET__PGS_EV_FLUSH)
        c->flush_wait = true;
    c->qnext = NULL;
    if (s->qtail != NULL)
        s->qtail->qnext = c;
    else
        s->qhead = c;
    s->qtail = c;
    /* Signalled under the lock: once the loop can see this event it may
     * free the connection and, after the last one, close `wake`. */
    uv_async_send(&s->wake);
    pthread_mutex_unlock(&s->mu);
}

static void on_wake(uv_async_t *h)
{
    net_pg_server *s = h->data;
    pthread_mutex_lock(&s->mu);
    net__pgs_conn *list = s->qhead;
    s->qhead = s->qtail = NULL;
    pthread_mutex_unlock(&s->mu);
    while (list != NULL) {
        net__pgs_conn *c = list;
        list = c->qnext;
        pthread_mutex_lock(&s->mu);
        net__pgs_event ev = c->event;
        c->event = NET__PGS_EV_NONE;
        pthread_mutex_unlock(&s->mu);
        net__pgs_on_event(c, ev);
    }
}

/* ---- cancel registry ------------------------------------------------- */

static net__pgs_conn **bucket(net_pg_server *s, int32_t pid)
{
    return &s->registry[(uint32_t)pid % NET__PGS_REGISTRY_BUCKETS];
}

static net__pgs_conn *find(net_pg_server *s, int32_t pid)
{
    for (net__pgs_conn *c = *bucket(s, pid); c != NULL; c = c->hnext)
        if (c->pid == pid)
            return c;
    return NULL;
}

static int32_t random_i32(void)
{
    int32_t v = 0;
    /* getrandom never fails for 4 bytes once the pool is initialised;
     * should it, the key is weaker but the server still works. */
    if (getrandom(&v, sizeof(v), 0) != sizeof(v))
        v = (int32_t)random();
    return v;
}

void net__pgs_register(net__pgs_conn *c)
{
    net_pg_server *s = c->srv;
    do
        c->pid = random_i32() & 0x7fffffff;
    while (c->pid == 0 || find(s, c->pid) != NULL);
    c->secret = random_i32();
    net__pgs_conn **b = bucket(s, c->pid);
    c->hnext = *b;
    *b = c;
}

void net__pgs_unregister(net__pgs_conn *c)
{
    net__pgs_conn **pp = bucket(c->srv, c->pid);
    while (*pp != c)
        pp = &(*pp)->hnext;
    *pp = c->hnext;
}

void net__pgs_cancel(net_pg_server *s, int32_t pid, int32_t secret)
{
    net__pgs_conn *c = find(s, pid);
    /* PostgreSQL answers nothing either way; a wrong key is only logged. */
    if (c == NULL || c->secret != secret) {
        net__pgs_log(s, "cancel request for unknown backend %d ignored", (int)pid);
        return;
    }
    if (c->session_live)
        sql_session_cancel(c->session);
}

/* ---- listener and shutdown ---------------------------------------------- */

static void maybe_done(net_pg_server *s)
{
    if (s->shutting_down && s->nconns == 0 && s->open_handles == 0 && s->done != NULL) {
        void (*done)(void *) = s->done;
        s->done = NULL;
        done(s->done_ctx);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    net_pg_server *s = h->data;
    s->open_handles--;
    maybe_done(s);
}

/* The wake handle is closed last: workers report through it until the
 * last connection is gone. */
static void close_handles_when_idle(net_pg_server *s)
{
    if (s->shutting_down && s->nconns == 0) {
        uv_close((uv_handle_t *)&s->wake, on_handle_closed);
        uv_close((uv_handle_t *)&s->grace, on_handle_closed);
    }
}

void net__pgs_conn_gone(net_pg_server *s)
{
    s->nconns--;
    close_handles_when_idle(s);
}

int net_pg_server_start(uv_loop_t *loop, const char *host, int port,
                        const net_pg_server_options *opts, net_pg_server **out, char *err,
                        size_t errlen)
{
    net_pg_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NET_ENOMEM;
    s->loop = loop;
    s->opts = *opts;
    if (s->opts.max_message == 0)
        s->opts.max_message = 64u << 20;
    int rc = NET_ESYSTEM;
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        goto out_free;
    if (pthread_cond_init(&s->flushed, NULL) != 0)
        goto out_destroy_mutex;
    /* From here the handles are closed through the shutdown path. */
    uv_tcp_init(loop, &s->listener);
    uv_async_init(loop, &s->wake, on_wake);
    uv_timer_init(loop, &s->grace);
    s->listener.data = s->wake.data = s->grace.data = s;
    s->open_handles = 3;
    rc = net_tcp_listen(&s->listener, host, port, 511, net__pgs_on_connection, &s->port, err,
                        errlen);
    if (rc < 0)
        goto out_close_handles;
    *out = s;
    return 0;
out_close_handles:
    /* The close callbacks run on the loop; run it until they did. */
    s->shutting_down = true;
    uv_close((uv_handle_t *)&s->listener, on_handle_closed);
    uv_close((uv_handle_t *)&s->wake, on_handle_closed);
    uv_close((uv_handle_t *)&s->grace, on_handle_closed);
    while (s->open_handles > 0)
        uv_run(loop, UV_RUN_ONCE);
    pthread_cond_destroy(&s->flushed);
out_destroy_mutex:
    pthread_mutex_destroy(&s->mu);
out_free:
    free(s);
    return rc;
}

int net_pg_server_port(const net_pg_server *s)
{
    return s->port;
}

static void on_grace_over(uv_timer_t *t)
{
    net_pg_server *s = t->data;
    net__pgs_log(s, "shutdown: closing %zu connections whose clients do not read", s->nconns);
    for (net__pgs_conn *c = s->conns, *next; c != NULL; c = next) {
        next = c->next;
        net__pgs_force_close(c);
    }
}

void net_pg_server_shutdown(net_pg_server *s, void (*done)(void *ctx), void *ctx)
{
    assert(!s->shutting_down);
    s->shutting_down = true;
    s->done = done;
    s->done_ctx = ctx;
    net__pgs_log(s, "sql server shutting down: %zu connections to end", s->nconns);
    uv_close((uv_handle_t *)&s->listener, on_handle_closed);
    uv_timer_start(&s->grace, on_grace_over, NET__PGS_SHUTDOWN_GRACE_MS, 0);
    for (net__pgs_conn *c = s->conns, *next; c != NULL; c = next) {
        next = c->next;
        net__pgs_terminate(c);
    }
    close_handles_when_idle(s);
}

void net_pg_server_free(net_pg_server *s)
{
    if (s == NULL)
        return;
    assert(s->nconns == 0 && s->open_handles == 0);
    pthread_cond_destroy(&s->flushed);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
