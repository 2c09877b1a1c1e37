/*
 * transport_conn.c - one transport connection on the loop: dialling,
 * accepting, the handshake both ways, reading and parsing frames, and
 * closing (net/transport_int.h).
 *
 * Both sides send their handshake first: the dialler right after the
 * connect, the acceptor once it accepted the dialler's. The dialler
 * sends data only after the acceptor's handshake arrived (the peer is
 * UP), so no message reaches a node of another cluster. Any malformed
 * frame, a data frame before the handshake, a second handshake or a
 * refused handshake closes that connection only.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/transport_int.h"

/* The read buffer grows by at least this much, so small frames are read
 * many at a time. */
#define READ_CHUNK (64u * 1024)
/* Dead peers are noticed by TCP keepalive after about this long idle. */
#define KEEPALIVE_S 10

static void on_closed(uv_handle_t *h)
{
    net__tp_conn *c = h->data;
    net_transport *t = c->t;
    if (--c->open_handles > 0)
        return;
    net_frame_buf_free(&c->rbuf);
    free(c);
    net__tp_conn_gone(t);
}

void net__tp_conn_close(net__tp_conn *c, const char *why)
{
    if (c->closing)
        return;
    c->closing = true;
    net_transport *t = c->t;
    if (why != NULL && c->peer != NULL)
        net__tp_log(t, "transport: connection %s node %llu closed: %s", c->outbound ? "to" : "from",
                    (unsigned long long)c->peer->node, why);
    else if (why != NULL)
        net__tp_log(t, "transport: inbound connection closed: %s", why);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        t->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    if (c->outbound && c->peer->conn == c) {
        c->peer->conn = NULL;
        net__tp_peer_failed(c->peer);
    }
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    uv_close((uv_handle_t *)&c->deadline, on_closed);
}

/* A peer that connects but never completes the handshake (a frozen
 * process, a port of another service, a slow loris) would hold the
 * connection forever; a dial to a host that drops SYNs would wait for
 * the kernel's minutes-long connect timeout. */
static void on_deadline(uv_timer_t *h)
{
    net__tp_conn *c = h->data;
    c->t->st.rejected++;
    net__tp_conn_close(c, "no handshake in time");
}

static net__tp_conn *conn_new(net_transport *t, net__tp_peer *peer)
{
    net__tp_conn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->t = t;
    c->peer = peer;
    c->outbound = peer != NULL;
    c->tcp.data = c->connect.data = c->hello_req.data = c->deadline.data = c;
    uv_tcp_init(t->loop, &c->tcp);
    uv_timer_init(t->loop, &c->deadline);
    uv_timer_start(&c->deadline, on_deadline, t->opts.handshake_timeout_ms, 0);
    c->open_handles = 2;
    c->next = t->conns;
    if (t->conns != NULL)
        t->conns->prev = c;
    t->conns = c;
    t->nconns++;
    return c;
}

/* ---- handshake --------------------------------------------------------- */

static void on_hello_written(uv_write_t *req, int status)
{
    net__tp_conn *c = req->data;
    if (status < 0 && status != UV_ECANCELED)
        net__tp_conn_close(c, uv_strerror(status));
}

static void send_hello(net__tp_conn *c)
{
    net_transport *t = c->t;
    net_frame_hello h = {.node_id = t->opts.node_id};
    memcpy(h.cluster_id, t->opts.cluster_id, 16);
    net_frame_put_hello(c->hello, &h);
    uv_buf_t buf = uv_buf_init((char *)c->hello, sizeof(c->hello));
    int rc = uv_write(&c->hello_req, (uv_stream_t *)&c->tcp, &buf, 1, on_hello_written);
    if (rc < 0)
        net__tp_conn_close(c, uv_strerror(rc));
}

static bool cluster_accepted(net_transport *t, const net_frame_hello *h)
{
    if (t->opts.accept != NULL)
        return t->opts.accept(t->opts.ctx, h->cluster_id, h->node_id);
    return memcmp(h->cluster_id, t->opts.cluster_id, 16) == 0;
}

/* Checks the other side's handshake; NULL when it is acceptable, else why
 * not (a constant, or written to `why`). */
static const char *refuse_hello(net__tp_conn *c, const net_frame_hello *h, char *why, size_t cap)
{
    net_transport *t = c->t;
    if (c->outbound && c->peer->node < NET_TRANSPORT_SEED_ID && h->node_id != c->peer->node) {
        snprintf(why, cap, "%s is node %llu, not node %llu", c->peer->addr_text,
                 (unsigned long long)h->node_id, (unsigned long long)c->peer->node);
        return why;
    }
    if (!cluster_accepted(t, h)) {
        char hex[33];
        for (int i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", h->cluster_id[i]);
        snprintf(why, cap, "node %llu is in cluster %s, which is refused",
                 (unsigned long long)h->node_id, hex);
        return why;
    }
    /* After the cluster check, so a node of another cluster hears why. */
    if (h->node_id == t->opts.node_id)
        return "the peer has our own node id";
    return NULL;
}

static void recv_hello(net__tp_conn *c, const net_frame *f)
{
    net_transport *t = c->t;
    net_frame_hello h;
    char buf[160];
    const char *why = "malformed or repeated handshake";
    if (!c->hello_seen && net_frame_get_hello(f, &h) == 0)
        why = refuse_hello(c, &h, buf, sizeof(buf));
    if (why != NULL) {
        t->st.rejected++;
        net__tp_conn_close(c, why);
        return;
    }
    c->hello_seen = true;
    uv_timer_stop(&c->deadline);
    if (c->outbound) {
        net__tp_peer_up(c->peer);
        return;
    }
    c->peer = net__tp_peer_get(t, h.node_id);
    if (c->peer == NULL) {
        net__tp_conn_close(c, "out of memory");
        return;
    }
    send_hello(c);
}

/* ---- reading ----------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    net__tp_conn *c = h->data;
    size_t want = c->need > c->rbuf.len ? c->need - c->rbuf.len : 0;
    if (want < READ_CHUNK)
        want = READ_CHUNK;
    if (net_frame_buf_reserve(&c->rbuf, want) < 0) {
        *buf = uv_buf_init(NULL, 0); /* libuv reports UV_ENOBUFS to on_read */
        return;
    }
    buf->base = (char *)c->rbuf.data + c->rbuf.len;
    buf->len = c->rbuf.cap - c->rbuf.len;
}

static void deliver(net__tp_conn *c, const net_frame *f, size_t wire)
{
    net_transport *t = c->t;
    const uint8_t *payload;
    size_t len;
    int rc = net_frame_inflate(f, t->opts.max_payload, &t->scratch, &payload, &len);
    if (rc < 0) {
        t->st.rejected += rc == NET_EPROTO;
        net__tp_conn_close(c, rc == NET_EPROTO ? "malformed compressed frame" : net_strerror(rc));
        return;
    }
    c->peer->st.msgs_recv++;
    c->peer->st.bytes_recv += wire;
    t->opts.recv(t->opts.ctx, c->peer->node, f->type, payload, len);
    if (t->scratch.cap > NET__TP_KEEP_BUFFER_BYTES)
        net_frame_buf_free(&t->scratch);
}

/* Handles the complete frames at the start of rbuf and keeps the rest.
 * Stops as soon as the connection closes (a callback may close it, or
 * the whole transport). */
static void consume(net__tp_conn *c)
{
    size_t off = 0;
    while (!c->closing) {
        net_frame f;
        int n = net_frame_parse(c->rbuf.data + off, c->rbuf.len - off, c->t->opts.max_payload, &f,
                                &c->need);
        if (n < 0) {
            c->t->st.rejected++;
            net__tp_conn_close(c, "malformed frame length");
            return;
        }
        if (n == 0)
            break;
        off += (size_t)n;
        if (f.type == NET_FRAME_HELLO)
            recv_hello(c, &f);
        else if (!c->hello_seen) {
            c->t->st.rejected++;
            net__tp_conn_close(c, "data frame before the handshake");
        } else
            deliver(c, &f, (size_t)n);
    }
    if (c->closing)
        return;
    memmove(c->rbuf.data, c->rbuf.data + off, c->rbuf.len - off);
    c->rbuf.len -= off;
    if (c->rbuf.len == 0 && c->rbuf.cap > NET__TP_KEEP_BUFFER_BYTES)
        net_frame_buf_free(&c->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    net__tp_conn *c = s->data;
    if (nread < 0) {
        net__tp_conn_close(c, nread == UV_EOF ? "end of stream" : uv_strerror((int)nread));
        return;
    }
    c->rbuf.len += (size_t)nread;
    consume(c);
}

static void start_reading(net__tp_conn *c)
{
    uv_tcp_nodelay(&c->tcp, 1);
    uv_tcp_keepalive(&c->tcp, 1, KEEPALIVE_S);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc < 0)
        net__tp_conn_close(c, uv_strerror(rc));
}

/* ---- dialling and accepting ------------------------------------------- */

static void on_connect(uv_connect_t *req, int status)
{
    net__tp_conn *c = req->data;
    if (c->closing)
        return;
    if (status < 0) {
        net__tp_conn_close(c, uv_strerror(status));
        return;
    }
    c->peer->state = NET__TP_HELLO;
    start_reading(c);
    if (!c->closing)
        send_hello(c);
}

void net__tp_dial(net_transport *t, net__tp_peer *p)
{
    assert(p->conn == NULL && p->has_addr);
    net__tp_conn *c = conn_new(t, p);
    if (c == NULL) {
        net__tp_peer_failed(p);
        return;
    }
    p->conn = c;
    p->state = NET__TP_DIALING;
    p->st.reconnects += p->failures > 0;
    int rc = uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&p->addr, on_connect);
    if (rc < 0)
        net__tp_conn_close(c, uv_strerror(rc));
}

void net__tp_on_connection(uv_stream_t *server, int status)
{
    net_transport *t = server->data;
    if (status < 0) {
        net__tp_log(t, "transport: accept failed: %s", uv_strerror(status));
        return;
    }
    net__tp_conn *c = conn_new(t, NULL);
    if (c == NULL) {
        /* Not accepted, the connection stays pending and libuv pauses
         * the listener until the next uv_accept: out of memory the node
         * cannot serve peers anyway, but it keeps its own connections. */
        net__tp_log(t, "transport: out of memory accepting a connection");
        return;
    }
    t->st.accepted++;
    int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
    if (rc < 0) {
        net__tp_conn_close(c, uv_strerror(rc));
        return;
    }
    start_reading(c);
}
