/*
 * transport.c - peers, bounded send queues, the end-of-iteration flush,
 * reconnect backoff, the thread-safe send queue and close
 * (net/transport.h; connections are in transport_conn.c).
 *
 * Coalescing: a send appends a frame to the peer's `pending` buffer and
 * puts the peer on the dirty list; a uv_prepare handle, started only
 * while that list is non-empty, writes each dirty peer's whole buffer
 * with one uv_write. Prepare handles run once per loop iteration right
 * before the loop polls for I/O, after timers and after the previous
 * iteration's I/O, async and check callbacks: every message sent during
 * one iteration leaves in the same write, and none waits for the loop to
 * block first. While a write is in flight new frames collect in `pending`
 * and go out with the next flush after its completion.
 *
 * Backoff: after the k-th consecutive failure a peer waits
 * min(backoff_max, backoff_min * 2^(k-1)) scaled by a random factor in
 * [0.5, 1] (jitter, so a cluster that lost a node does not redial it in
 * lockstep), then redials if messages are queued, else goes idle and
 * dials on the next send.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "net/net_int.h"
#include "net/tcp.h"
#include "net/transport_int.h"

#define DEFAULT_MAX_PAYLOAD          (64u << 20)
#define DEFAULT_COMPRESS_MIN         (64u << 10)
#define DEFAULT_QUEUE_BYTES          (16u << 20)
#define DEFAULT_QUEUE_MSGS           8192
#define DEFAULT_BACKOFF_MIN_MS       50
#define DEFAULT_BACKOFF_MAX_MS       5000
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
/* Caps the backoff exponent so the shift cannot overflow. */
#define BACKOFF_MAX_DOUBLINGS 20

void net__tp_log(net_transport *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    net__logv(t->opts.log, t->opts.ctx, fmt, ap);
    va_end(ap);
}

/* xorshift64: jitter needs no quality, only no lockstep between nodes. */
static uint64_t next_random(net_transport *t)
{
    uint64_t x = t->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t->rng = x;
    return x;
}

/* ---- peers -------------------------------------------------------------- */

net__tp_peer *net__tp_peer_find(const net_transport *t, uint64_t node)
{
    /* A cluster has tens of nodes: a linear scan beats hashing here. */
    for (size_t i = 0; i < t->npeers; i++)
        if (t->peers[i]->node == node)
            return t->peers[i];
    return NULL;
}

static void on_backoff(uv_timer_t *h);

net__tp_peer *net__tp_peer_get(net_transport *t, uint64_t node)
{
    net__tp_peer *p = net__tp_peer_find(t, node);
    if (p != NULL)
        return p;
    if (t->npeers == t->cap_peers) {
        size_t cap = t->cap_peers ? 2 * t->cap_peers : 8;
        net__tp_peer **a = realloc(t->peers, cap * sizeof(*a));
        if (a == NULL)
            return NULL;
        t->peers = a;
        t->cap_peers = cap;
    }
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->t = t;
    p->node = p->st.node = node;
    uv_timer_init(t->loop, &p->backoff);
    p->backoff.data = p;
    t->open_handles++;
    t->peers[t->npeers++] = p;
    return p;
}

static void on_flush(uv_prepare_t *h);

static void mark_dirty(net_transport *t, net__tp_peer *p)
{
    if (p->dirty)
        return;
    p->dirty = true;
    p->next_dirty = t->dirty;
    t->dirty = p;
    uv_prepare_start(&t->flusher, on_flush);
}

void net__tp_peer_up(net__tp_peer *p)
{
    net_transport *t = p->t;
    p->state = NET__TP_UP;
    p->failures = 0;
    p->st.connected = true;
    if (p->pending.len > 0)
        mark_dirty(t, p);
    if (t->opts.peer_event != NULL)
        t->opts.peer_event(t->opts.ctx, p->node, true);
}

void net__tp_peer_failed(net__tp_peer *p)
{
    net_transport *t = p->t;
    bool was_up = p->state == NET__TP_UP;
    p->st.connected = false;
    if (t->closing) {
        p->state = NET__TP_IDLE;
        return;
    }
    p->state = NET__TP_BACKOFF;
    unsigned k = p->failures < BACKOFF_MAX_DOUBLINGS ? p->failures : BACKOFF_MAX_DOUBLINGS;
    p->failures++;
    uint64_t delay = (uint64_t)t->opts.backoff_min_ms << k;
    if (delay > t->opts.backoff_max_ms)
        delay = t->opts.backoff_max_ms;
    delay = delay / 2 + next_random(t) % (delay / 2 + 1);
    uv_timer_start(&p->backoff, on_backoff, delay, 0);
    if (was_up && t->opts.peer_event != NULL)
        t->opts.peer_event(t->opts.ctx, p->node, false);
}

static void on_backoff(uv_timer_t *h)
{
    net__tp_peer *p = h->data;
    assert(p->state == NET__TP_BACKOFF);
    p->state = NET__TP_IDLE;
    if (p->pending_msgs > 0 && p->has_addr)
        net__tp_dial(p->t, p);
}

int net_transport_set_peer(net_transport *t, uint64_t node, const char *addr)
{
    if (t->closing)
        return NET_ECLOSED;
    if (node == 0 || node == t->opts.node_id)
        return NET_EINVAL;
    char host[64];
    int port;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss)); /* compared bytewise below */
    if (net_parse_hostport(addr, host, sizeof(host), &port) < 0 ||
        (uv_ip4_addr(host, port, (struct sockaddr_in *)&ss) != 0 &&
         uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss) != 0))
        return NET_EADDR;
    net__tp_peer *p = net__tp_peer_get(t, node);
    if (p == NULL)
        return NET_ENOMEM;
    bool changed = p->has_addr && memcmp(&p->addr, &ss, sizeof(ss)) != 0;
    p->addr = ss;
    p->has_addr = true;
    snprintf(p->addr_text, sizeof(p->addr_text), "%s", addr);
    if (changed && p->conn != NULL)
        net__tp_conn_close(p->conn, "address changed");
    return 0;
}

/* ---- sending and the flush ---------------------------------------------- */

/* Counts the bytes being written as dropped: once a write failed nobody
 * knows how much of them arrived. */
static void drop_inflight(net__tp_peer *p)
{
    p->st.dropped += p->inflight_msgs;
    p->inflight.len = 0;
    p->inflight_msgs = 0;
}

static void on_written(uv_write_t *req, int status)
{
    net__tp_peer *p = req->data;
    p->writing = false;
    if (status < 0) {
        drop_inflight(p);
        /* UV_ECANCELED: the connection is already closing. */
        if (status != UV_ECANCELED && p->conn != NULL)
            net__tp_conn_close(p->conn, uv_strerror(status));
        return;
    }
    p->st.msgs_sent += p->inflight_msgs;
    p->st.bytes_sent += p->inflight.len;
    p->inflight.len = 0;
    p->inflight_msgs = 0;
    if (p->inflight.cap > NET__TP_KEEP_BUFFER_BYTES)
        net_frame_buf_free(&p->inflight);
    if (p->state == NET__TP_UP && p->pending.len > 0)
        mark_dirty(p->t, p);
}

static void flush_peer(net__tp_peer *p)
{
    if (p->state != NET__TP_UP || p->writing || p->pending.len == 0)
        return;
    assert(p->inflight.len == 0 && p->inflight_msgs == 0);
    net_frame_buf tmp = p->inflight;
    p->inflight = p->pending;
    p->pending = tmp;
    p->inflight_msgs = p->pending_msgs;
    p->pending_msgs = 0;
    uv_buf_t buf = {.base = (char *)p->inflight.data, .len = p->inflight.len};
    p->write_req.data = p;
    int rc = uv_write(&p->write_req, (uv_stream_t *)&p->conn->tcp, &buf, 1, on_written);
    if (rc < 0) {
        drop_inflight(p);
        net__tp_conn_close(p->conn, uv_strerror(rc));
        return;
    }
    p->writing = true;
    p->st.writes++;
}

static void on_flush(uv_prepare_t *h)
{
    net_transport *t = h->data;
    net__tp_peer *list = t->dirty;
    t->dirty = NULL;
    uv_prepare_stop(h);
    while (list != NULL) {
        net__tp_peer *p = list;
        list = p->next_dirty;
        p->dirty = false;
        flush_peer(p);
    }
}

static bool valid_message(const net_transport *t, uint8_t type, size_t len)
{
    return type != NET_FRAME_HELLO && type <= NET_FRAME_TYPE_MASK && len <= t->opts.max_payload;
}

int net_transport_send(net_transport *t, uint64_t to, uint8_t type, const void *payload, size_t len)
{
    if (t->closing)
        return NET_ECLOSED;
    if (!valid_message(t, type, len))
        return NET_EINVAL;
    net__tp_peer *p = net__tp_peer_find(t, to);
    if (p == NULL || !p->has_addr)
        return NET_ENOPEER;
    if (p->pending_msgs + p->inflight_msgs >= t->opts.queue_msgs ||
        p->pending.len + p->inflight.len + NET_FRAME_HEADER + len > t->opts.queue_bytes) {
        p->st.dropped++;
        return NET_EDROPPED;
    }
    int rc = net_frame_append(&p->pending, type, payload, len, t->opts.compress_min);
    if (rc < 0)
        return rc;
    p->st.compressed += (uint64_t)rc;
    p->pending_msgs++;
    if (p->state == NET__TP_UP)
        mark_dirty(t, p);
    else if (p->state == NET__TP_IDLE)
        net__tp_dial(t, p);
    return 0;
}

/* ---- the thread-safe queue ---------------------------------------------- */

int net_transport_send_threadsafe(net_transport *t, uint64_t to, uint8_t type, const void *payload,
                                  size_t len)
{
    /* The limits in opts are not written after start: any thread may
     * read them. */
    if (!valid_message(t, type, len))
        return NET_EINVAL;
    net__tp_async_msg *m = malloc(sizeof(*m) + len);
    if (m == NULL)
        return NET_ENOMEM;
    m->next = NULL;
    m->to = to;
    m->type = type;
    m->len = len;
    memcpy(m->payload, payload, len);
    int rc = 0;
    pthread_mutex_lock(&t->mu);
    if (t->aclosed)
        rc = NET_ECLOSED;
    else if (t->amsgs >= t->opts.queue_msgs || t->abytes + len > t->opts.queue_bytes) {
        t->async_dropped++;
        rc = NET_EDROPPED;
    } else {
        if (t->atail != NULL)
            t->atail->next = m;
        else
            t->ahead = m;
        t->atail = m;
        t->amsgs++;
        t->abytes += len;
        /* Under the lock: net_transport_close closes `wake` only after it
         * set aclosed under the same lock. */
        uv_async_send(&t->wake);
    }
    pthread_mutex_unlock(&t->mu);
    if (rc < 0)
        free(m);
    return rc;
}

static net__tp_async_msg *take_async(net_transport *t)
{
    pthread_mutex_lock(&t->mu);
    net__tp_async_msg *list = t->ahead;
    t->ahead = t->atail = NULL;
    t->amsgs = t->abytes = 0;
    pthread_mutex_unlock(&t->mu);
    return list;
}

static void on_wake(uv_async_t *h)
{
    net_transport *t = h->data;
    /* libuv coalesces async signals: drain everything queued so far. */
    net__tp_async_msg *m = take_async(t);
    while (m != NULL) {
        net__tp_async_msg *next = m->next;
        if (net_transport_send(t, m->to, m->type, m->payload, m->len) == NET_ENOPEER)
            t->st.async_unknown_peer++;
        free(m);
        m = next;
    }
}

/* ---- stats -------------------------------------------------------------- */

static void peer_stats(const net__tp_peer *p, net_transport_peer_stats *out)
{
    *out = p->st;
    out->queued_msgs = p->pending_msgs + p->inflight_msgs;
    out->queued_bytes = p->pending.len + p->inflight.len;
}

int net_transport_peer_stats_get(const net_transport *t, uint64_t node,
                                 net_transport_peer_stats *out)
{
    const net__tp_peer *p = net__tp_peer_find(t, node);
    if (p == NULL)
        return NET_ENOPEER;
    peer_stats(p, out);
    return 0;
}

void net_transport_foreach_peer(const net_transport *t,
                                void (*fn)(void *ctx, const net_transport_peer_stats *s), void *ctx)
{
    for (size_t i = 0; i < t->npeers; i++) {
        net_transport_peer_stats s;
        peer_stats(t->peers[i], &s);
        fn(ctx, &s);
    }
}

void net_transport_stats_get(net_transport *t, net_transport_stats *out)
{
    *out = t->st;
    pthread_mutex_lock(&t->mu);
    out->async_dropped = t->async_dropped;
    pthread_mutex_unlock(&t->mu);
}

/* ---- start, close, free ------------------------------------------------- */

static void maybe_done(net_transport *t)
{
    if (t->closing && t->open_handles == 0 && t->nconns == 0 && t->done != NULL) {
        void (*done)(void *) = t->done;
        t->done = NULL;
        done(t->done_ctx);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    net_transport *t = h->data;
    t->open_handles--;
    maybe_done(t);
}

static void on_timer_closed(uv_handle_t *h)
{
    net__tp_peer *p = h->data;
    p->t->open_handles--;
    maybe_done(p->t);
}

void net__tp_conn_gone(net_transport *t)
{
    t->nconns--;
    maybe_done(t);
}

static void set_defaults(net_transport_options *o)
{
    if (o->max_payload == 0)
        o->max_payload = DEFAULT_MAX_PAYLOAD;
    if (o->compress_min == 0)
        o->compress_min = DEFAULT_COMPRESS_MIN;
    if (o->queue_bytes == 0)
        o->queue_bytes = DEFAULT_QUEUE_BYTES;
    if (o->queue_msgs == 0)
        o->queue_msgs = DEFAULT_QUEUE_MSGS;
    if (o->backoff_min_ms == 0)
        o->backoff_min_ms = DEFAULT_BACKOFF_MIN_MS;
    if (o->backoff_max_ms == 0)
        o->backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
    if (o->handshake_timeout_ms == 0)
        o->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (o->backoff_max_ms < o->backoff_min_ms)
        o->backoff_max_ms = o->backoff_min_ms;
}

static void seed_random(net_transport *t)
{
    /* Should getrandom fail, node ids still keep nodes out of lockstep. */
    if (getrandom(&t->rng, sizeof(t->rng), 0) != sizeof(t->rng))
        t->rng = t->opts.node_id;
    t->rng |= 1; /* xorshift's state must not be 0 */
}

/* Binds the listener to opts.listen (already copied to t->listen_text). */
static int start_listener(net_transport *t, char *err, size_t errlen)
{
    char host[64];
    int port;
    if (net_parse_hostport(t->listen_text, host, sizeof(host), &port) < 0) {
        snprintf(err, errlen, "invalid listen address \"%s\"", t->listen_text);
        return NET_EADDR;
    }
    return net_tcp_listen(&t->listener, host, port, 128, net__tp_on_connection, &t->port, err,
                          errlen);
}

int net_transport_start(uv_loop_t *loop, const net_transport_options *opts, net_transport **out,
                        char *err, size_t errlen)
{
    if (opts->node_id == 0 || opts->max_payload >= NET_FRAME_PAYLOAD_LIMIT || opts->recv == NULL)
        return NET_EINVAL;
    net_transport *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NET_ENOMEM;
    t->loop = loop;
    t->opts = *opts;
    set_defaults(&t->opts);
    seed_random(t);
    int rc = NET_ENOMEM;
    if (opts->listen != NULL && (t->listen_text = strdup(opts->listen)) == NULL)
        goto out_free;
    t->opts.listen = t->listen_text;
    rc = NET_ESYSTEM;
    if (pthread_mutex_init(&t->mu, NULL) != 0)
        goto out_free_text;
    /* From here the handles are closed through the close path. */
    uv_prepare_init(loop, &t->flusher);
    uv_async_init(loop, &t->wake, on_wake);
    uv_tcp_init(loop, &t->listener);
    t->flusher.data = t->wake.data = t->listener.data = t;
    t->open_handles = 3;
    if (t->listen_text != NULL && (rc = start_listener(t, err, errlen)) < 0)
        goto out_close_handles;
    *out = t;
    return 0;
out_close_handles:
    /* The close callbacks run on the loop; run it until they did. */
    net_transport_close(t, NULL, NULL);
    while (t->open_handles > 0)
        uv_run(loop, UV_RUN_ONCE);
    pthread_mutex_destroy(&t->mu);
out_free_text:
    free(t->listen_text);
out_free:
    free(t);
    return rc;
}

int net_transport_port(const net_transport *t)
{
    return t->port;
}

void net_transport_set_cluster_id(net_transport *t, const uint8_t cluster_id[16])
{
    memcpy(t->opts.cluster_id, cluster_id, 16);
}

static void drop_async_queue(net_transport *t)
{
    pthread_mutex_lock(&t->mu);
    t->aclosed = true;
    pthread_mutex_unlock(&t->mu);
    for (net__tp_async_msg *m = take_async(t), *next; m != NULL; m = next) {
        next = m->next;
        free(m);
    }
}

void net_transport_close(net_transport *t, void (*done)(void *ctx), void *ctx)
{
    assert(!t->closing);
    t->closing = true;
    t->done = done;
    t->done_ctx = ctx;
    drop_async_queue(t);
    uv_close((uv_handle_t *)&t->listener, on_handle_closed);
    uv_close((uv_handle_t *)&t->flusher, on_handle_closed);
    uv_close((uv_handle_t *)&t->wake, on_handle_closed);
    for (size_t i = 0; i < t->npeers; i++)
        uv_close((uv_handle_t *)&t->peers[i]->backoff, on_timer_closed);
    while (t->conns != NULL)
        net__tp_conn_close(t->conns, NULL);
}

void net_transport_free(net_transport *t)
{
    if (t == NULL)
        return;
    assert(t->open_handles == 0 && t->nconns == 0);
    for (size_t i = 0; i < t->npeers; i++) {
        net_frame_buf_free(&t->peers[i]->pending);
        net_frame_buf_free(&t->peers[i]->inflight);
        free(t->peers[i]);
    }
    free(t->peers);
    net_frame_buf_free(&t->scratch);
    pthread_mutex_destroy(&t->mu);
    free(t->listen_text);
    free(t);
}
