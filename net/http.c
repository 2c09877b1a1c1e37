/*
 * http.c - the minimal HTTP/1.1 status server (net/http.h).
 *
 * A connection buffers its request head (at most HEAD_MAX bytes, in the
 * connection itself) until the blank line, answers from the request line
 * alone and closes. Headers are not interpreted: the answers do not depend
 * on them. Each connection has a timer so a silent client cannot hold a
 * socket for ever.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/http.h"
#include "net/tcp.h"

#define HEAD_MAX   8192
#define TIMEOUT_MS 10000

typedef struct http_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    struct net_http_server *srv;
    struct http_conn *prev, *next;
    int open_handles; /* tcp and timer, until their close callbacks */
    bool answered, closing;
    size_t len;
    char head[HEAD_MAX];
    char hdr[256];
    char *body; /* malloc'd, freed with the connection */
} http_conn;

struct net_http_server {
    uv_tcp_t listener;
    net_http_ready_fn ready;
    void *ready_ctx;
    net_http_handler_fn handler;
    http_conn *conns;
    int port;
    bool stopping, listener_closed;
    void (*done)(void *ctx);
    void *done_ctx;
};

static void maybe_stopped(net_http_server *s)
{
    if (s->stopping && s->listener_closed && s->conns == NULL && s->done != NULL) {
        void (*done)(void *) = s->done;
        s->done = NULL;
        done(s->done_ctx);
    }
}

/* ---- connection ------------------------------------------------------- */

static void on_conn_handle_closed(uv_handle_t *h)
{
    http_conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    net_http_server *s = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c->body);
    free(c);
    maybe_stopped(s);
}

static void close_conn(http_conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

static void on_written(uv_write_t *req, int status)
{
    (void)status;
    close_conn(req->data);
}

/* Sends the head and `body` (taken over: freed with the connection). */
static void respond_owned(http_conn *c, int code, const char *reason, const char *type, char *body)
{
    size_t blen = body != NULL ? strlen(body) : 0;
    int n = snprintf(c->hdr, sizeof(c->hdr),
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n",
                     code, reason, type, blen);
    c->body = body;
    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_buf_t b[2] = {uv_buf_init(c->hdr, (unsigned)n), uv_buf_init(body, (unsigned)blen)};
    c->wreq.data = c;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, b, blen > 0 ? 2 : 1, on_written) < 0)
        close_conn(c);
}

static void respond(http_conn *c, int code, const char *reason, const char *text)
{
    char *body = malloc(strlen(text) + 2);
    if (body != NULL)
        sprintf(body, "%s\n", text);
    respond_owned(c, code, reason, "text/plain", body);
}

static const char *reason_of(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 503:
        return "Service Unavailable";
    default:
        return "Internal Server Error";
    }
}

/* Answers the request whose head is complete in c->head. */
static void route(http_conn *c)
{
    char method[16], path[256], version[16];
    bool ready = !c->srv->stopping && c->srv->ready(c->srv->ready_ctx);
    if (sscanf(c->head, "%15s %255s %15s", method, path, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0) {
        respond(c, 400, "Bad Request", "bad request");
        return;
    }
    bool get = strcmp(method, "GET") == 0;
    char *body = NULL;
    const char *type = "application/json";
    int code;
    if (get && strcmp(path, "/health") == 0)
        respond(c, 200, "OK", "ok");
    else if (get && (strcmp(path, "/ready") == 0 || strcmp(path, "/health?ready=1") == 0))
        respond(c, ready ? 200 : 503, ready ? "OK" : "Service Unavailable",
                ready ? "ready" : "not ready");
    else if (c->srv->handler != NULL &&
             (code = c->srv->handler(c->srv->ready_ctx, method, path, &body, &type)) > 0)
        respond_owned(c, code, reason_of(code), type, body);
    else if (!get)
        respond(c, 405, "Method Not Allowed", "method not allowed");
    else
        respond(c, 404, "Not Found", "not found");
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    http_conn *c = h->data;
    (void)suggested;
    /* One byte stays free for the NUL that ends the head for sscanf. */
    *buf = uv_buf_init(c->head + c->len, (unsigned)(HEAD_MAX - 1 - c->len));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    http_conn *c = st->data;
    (void)buf;
    if (n < 0) {
        close_conn(c);
        return;
    }
    c->len += (size_t)n;
    c->head[c->len] = '\0';
    if (strstr(c->head, "\r\n\r\n") != NULL || strstr(c->head, "\n\n") != NULL)
        route(c);
    else if (c->len == HEAD_MAX - 1)
        respond(c, 431, "Request Header Fields Too Large", "request too large");
}

static void on_timeout(uv_timer_t *t)
{
    http_conn *c = t->data;
    if (!c->answered)
        close_conn(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
    net_http_server *s = listener->data;
    http_conn *c;
    if (status < 0 || (c = calloc(1, sizeof(*c))) == NULL)
        return;
    c->srv = s;
    uv_tcp_init(listener->loop, &c->tcp);
    uv_timer_init(listener->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->next = s->conns;
    if (s->conns != NULL)
        s->conns->prev = c;
    s->conns = c;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 ||
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
        close_conn(c);
    else
        uv_timer_start(&c->timer, on_timeout, TIMEOUT_MS, 0);
}

/* ---- server ----------------------------------------------------------- */

static void on_listener_closed(uv_handle_t *h)
{
    net_http_server *s = h->data;
    s->listener_closed = true;
    maybe_stopped(s);
}

int net_http_start(uv_loop_t *loop, const char *host, int port, net_http_ready_fn ready, void *ctx,
                   net_http_server **out, char *err, size_t errlen)
{
    net_http_server *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NET_ENOMEM;
    s->ready = ready;
    s->ready_ctx = ctx;
    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    int rc = net_tcp_listen(&s->listener, host, port, 64, on_connection, &s->port, err, errlen);
    if (rc < 0) {
        /* The handle's memory may be freed only after its close callback. */
        s->stopping = true;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
        while (!s->listener_closed)
            uv_run(loop, UV_RUN_ONCE);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void net_http_set_handler(net_http_server *s, net_http_handler_fn fn)
{
    s->handler = fn;
}

int net_http_port(const net_http_server *s)
{
    return s->port;
}

void net_http_stop(net_http_server *s, void (*done)(void *ctx), void *ctx)
{
    s->stopping = true;
    s->done = done;
    s->done_ctx = ctx;
    uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    for (http_conn *c = s->conns; c != NULL; c = c->next)
        close_conn(c);
}

void net_http_free(net_http_server *s)
{
    free(s);
}
