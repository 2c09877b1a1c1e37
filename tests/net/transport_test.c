/*
 * transport_test.c - the frame codec on bytes, then net/transport.h over
 * real loopback sockets: two and three transports on one loop exchanging
 * ordered messages, coalescing, lz4 round trips, bounded queues while a
 * peer is down, reconnect after it comes back, address changes, garbage,
 * oversized length words, bombs, foreign clusters and handshake deadlines
 * closing one connection only, the thread-safe send, and loopback
 * throughput and round-trip figures (printed, never asserted). Every
 * port comes from the kernel (port 0).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/frame.h"
#include "net/transport.h"

#define T_SEQ     1 /* payload: u64 sequence number, then filler */
#define T_BLOB    2 /* payload: kept whole by the receiver */
#define T_PING    3 /* answered with T_PONG, same payload */
#define T_PONG    4
#define MAX_NODES 4
/* Only a guard against a hung suite, never a performance threshold. */
#define HANG_GUARD_MS 60000

static const uint8_t cluster_a[16] = {0xc1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t cluster_b[16] = {0xc2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

typedef struct node {
    net_transport *t;
    uint64_t id;
    int port;
    char addr[32];
    size_t nrecv;
    uint64_t next_seq[MAX_NODES + 1]; /* per sender */
    bool out_of_order;
    uint8_t *blob;
    size_t blob_len;
    int ups, downs;
    const uint8_t *accept_cluster; /* accept this cluster id or zero; NULL: default rule */
    uint8_t seen_cluster[16];
    char last_log[256];
} node;

static uv_loop_t loop;

static void on_recv(void *ctx, uint64_t from, uint8_t type, const uint8_t *p, size_t len)
{
    node *n = ctx;
    n->nrecv++;
    if (type == T_SEQ) {
        uint64_t seq;
        cr_assert_geq(len, sizeof(seq));
        memcpy(&seq, p, sizeof(seq));
        /* Drops may leave gaps; order may never go back. */
        if (seq < n->next_seq[from])
            n->out_of_order = true;
        n->next_seq[from] = seq + 1;
    } else if (type == T_PING) {
        cr_assert_eq(net_transport_send(n->t, from, T_PONG, p, len), 0);
    } else if (type == T_BLOB) {
        free(n->blob);
        n->blob = malloc(len);
        memcpy(n->blob, p, len);
        n->blob_len = len;
    }
}

static void on_peer(void *ctx, uint64_t node_id, bool up)
{
    node *n = ctx;
    (void)node_id;
    if (up)
        n->ups++;
    else
        n->downs++;
}

static void on_log(void *ctx, const char *line)
{
    node *n = ctx;
    snprintf(n->last_log, sizeof(n->last_log), "%s", line);
}

static bool on_accept(void *ctx, const uint8_t cluster[16], uint64_t from)
{
    node *n = ctx;
    static const uint8_t zero[16];
    (void)from;
    memcpy(n->seen_cluster, cluster, 16);
    return memcmp(cluster, n->accept_cluster, 16) == 0 || memcmp(cluster, zero, 16) == 0;
}

/* Starts node `id` listening on 127.0.0.1:port (0: any); `base` may set
 * limits and the cluster id (zero cluster means cluster_a). */
static void start_node_opts(node *n, uint64_t id, int port, const net_transport_options *base)
{
    net_transport_options o = base ? *base : (net_transport_options){0};
    static const uint8_t zero[16];
    if (memcmp(o.cluster_id, zero, 16) == 0 && n->accept_cluster == NULL)
        memcpy(o.cluster_id, cluster_a, 16);
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
    o.node_id = id;
    o.listen = listen;
    o.recv = on_recv;
    o.peer_event = on_peer;
    o.accept = n->accept_cluster ? on_accept : NULL;
    o.log = on_log;
    o.ctx = n;
    if (o.backoff_min_ms == 0)
        o.backoff_min_ms = 5;
    if (o.backoff_max_ms == 0)
        o.backoff_max_ms = 40;
    n->id = id;
    char err[256] = "";
    int rc = net_transport_start(&loop, &o, &n->t, err, sizeof(err));
    cr_assert_eq(rc, 0, "start: %s %s", net_strerror(rc), err);
    n->port = net_transport_port(n->t);
    snprintf(n->addr, sizeof(n->addr), "127.0.0.1:%d", n->port);
}

static void start_node(node *n, uint64_t id)
{
    start_node_opts(n, id, 0, NULL);
}

static void on_closed(void *ctx)
{
    *(bool *)ctx = true;
}

static void on_guard(uv_timer_t *h)
{
    (void)h;
    cr_assert_fail("the test hung: its condition never became true");
}

static void run_until(bool (*cond)(void *ctx), void *ctx)
{
    uv_timer_t guard;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, on_guard, HANG_GUARD_MS, 0);
    while (!cond(ctx))
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
}

static bool is_true(void *ctx)
{
    return *(bool *)ctx;
}

static void stop_node(node *n)
{
    bool closed = false;
    net_transport_close(n->t, on_closed, &closed);
    run_until(is_true, &closed);
    net_transport_free(n->t);
    n->t = NULL;
    free(n->blob);
    n->blob = NULL;
}

static void link_nodes(node *a, node *b)
{
    cr_assert_eq(net_transport_set_peer(a->t, b->id, b->addr), 0);
    cr_assert_eq(net_transport_set_peer(b->t, a->id, a->addr), 0);
}

static void send_seqs(node *from, uint64_t to, uint64_t first, size_t count, size_t len)
{
    uint8_t buf[512] = {0};
    cr_assert_leq(len, sizeof(buf));
    for (uint64_t s = first; s < first + count; s++) {
        memcpy(buf, &s, sizeof(s));
        cr_assert_eq(net_transport_send(from->t, to, T_SEQ, buf, len), 0);
    }
}

typedef struct want {
    node *n;
    size_t count;
} want;

static bool received(void *ctx)
{
    want *w = ctx;
    return w->n->nrecv >= w->count;
}

static void wait_received(node *n, size_t count)
{
    want w = {n, count};
    run_until(received, &w);
    cr_assert_eq(n->nrecv, count);
}

static net_transport_peer_stats peer_stats(node *n, uint64_t peer)
{
    net_transport_peer_stats s;
    cr_assert_eq(net_transport_peer_stats_get(n->t, peer, &s), 0);
    return s;
}

static net_transport_stats stats(node *n)
{
    net_transport_stats s;
    net_transport_stats_get(n->t, &s);
    return s;
}

static void setup_loop(void)
{
    cr_assert_eq(uv_loop_init(&loop), 0);
}

static void teardown_loop(void)
{
    cr_assert_eq(uv_loop_close(&loop), 0, "handles left on the loop");
}

TestSuite(transport, .init = setup_loop, .fini = teardown_loop);

/* ---- the codec ------------------------------------------------------- */

Test(frame, round_trip_and_incomplete_input)
{
    net_frame_buf b = {0};
    cr_assert_eq(net_frame_append(&b, 7, "hello", 5, 1024), 0);
    cr_assert_eq(b.len, NET_FRAME_HEADER + 5);
    static const uint8_t want[] = {0, 0, 0, 6, 7, 'h', 'e', 'l', 'l', 'o'};
    cr_assert_arr_eq(b.data, want, sizeof(want));
    net_frame f;
    size_t need;
    cr_assert_eq(net_frame_parse(b.data, 3, 1024, &f, &need), 0);
    cr_assert_eq(need, NET_FRAME_HEADER);
    cr_assert_eq(net_frame_parse(b.data, 9, 1024, &f, &need), 0);
    cr_assert_eq(need, 10);
    cr_assert_eq(net_frame_parse(b.data, b.len, 1024, &f, &need), 10);
    cr_assert(f.type == 7 && !f.lz4 && f.len == 5 && memcmp(f.payload, "hello", 5) == 0);
    cr_assert_eq(net_frame_append(&b, NET_FRAME_HELLO, "x", 1, 1024), NET_EINVAL);
    cr_assert_eq(net_frame_append(&b, 128, "x", 1, 1024), NET_EINVAL);
    net_frame_buf_free(&b);
}

Test(frame, bad_length_words)
{
    net_frame f;
    size_t need;
    static const uint8_t zero[] = {0, 0, 0, 0, 1};
    static const uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 1};
    static const uint8_t just_over[] = {0, 0, 4, 2, 1}; /* 1 + 1025 > 1 + 1024 */
    static const uint8_t limit[] = {0, 0, 4, 1, 1};
    cr_assert_eq(net_frame_parse(zero, sizeof(zero), 1024, &f, &need), NET_EPROTO);
    cr_assert_eq(net_frame_parse(huge, sizeof(huge), 1024, &f, &need), NET_EPROTO);
    cr_assert_eq(net_frame_parse(just_over, sizeof(just_over), 1024, &f, &need), NET_EPROTO);
    cr_assert_eq(net_frame_parse(limit, sizeof(limit), 1024, &f, &need), 0);
    cr_assert_eq(need, 4 + 1025);
}

Test(frame, lz4_round_trip_bomb_and_corruption)
{
    size_t len = 200 * 1024;
    uint8_t *text = malloc(len);
    for (size_t i = 0; i < len; i++)
        text[i] = (uint8_t)("raft log entry "[i % 15]);
    net_frame_buf b = {0}, scratch = {0};
    cr_assert_eq(net_frame_append(&b, 3, text, len, 64 * 1024), 1);
    cr_assert_lt(b.len, len / 10);
    net_frame f;
    size_t need;
    cr_assert_eq(net_frame_parse(b.data, b.len, len, &f, &need), (int)b.len);
    cr_assert(f.lz4 && f.type == 3);
    const uint8_t *out;
    size_t outlen;
    cr_assert_eq(net_frame_inflate(&f, len, &scratch, &out, &outlen), 0);
    cr_assert(outlen == len && memcmp(out, text, len) == 0);
    /* The receiver's limit is below the claimed size: a bomb. */
    cr_assert_eq(net_frame_inflate(&f, len - 1, &scratch, &out, &outlen), NET_EPROTO);
    /* A lying size word and a corrupted block. */
    b.data[NET_FRAME_HEADER + 3]++;
    cr_assert_eq(net_frame_inflate(&f, 2 * len, &scratch, &out, &outlen), NET_EPROTO);
    b.data[NET_FRAME_HEADER + 3]--;
    memset(b.data + NET_FRAME_HEADER + 4, 0xff, 8);
    cr_assert_eq(net_frame_inflate(&f, len, &scratch, &out, &outlen), NET_EPROTO);
    /* Incompressible input goes as it is. */
    for (size_t i = 0; i < len; i++)
        text[i] = (uint8_t)(random() >> 7);
    b.len = 0;
    cr_assert_eq(net_frame_append(&b, 3, text, len, 1), 0);
    cr_assert_eq(b.len, NET_FRAME_HEADER + len);
    net_frame_buf_free(&b);
    net_frame_buf_free(&scratch);
    free(text);
}

Test(frame, hello)
{
    net_frame_hello h = {.node_id = 0x0102030405060708ull}, got;
    memcpy(h.cluster_id, cluster_a, 16);
    uint8_t wire[NET_FRAME_HELLO_SIZE];
    net_frame_put_hello(wire, &h);
    static const uint8_t head[] = {0, 0, 0, 31, 0, 'T', 'D', 'G', 'T', 0, 1};
    cr_assert_arr_eq(wire, head, sizeof(head));
    net_frame f;
    size_t need;
    cr_assert_eq(net_frame_parse(wire, sizeof(wire), 64, &f, &need), (int)sizeof(wire));
    cr_assert_eq(net_frame_get_hello(&f, &got), 0);
    cr_assert(got.node_id == h.node_id && memcmp(got.cluster_id, cluster_a, 16) == 0);
    wire[5] = 'X';
    cr_assert_eq(net_frame_get_hello(&f, &got), NET_EPROTO);
    wire[5] = 'T';
    wire[10] = 2; /* version 2 */
    cr_assert_eq(net_frame_get_hello(&f, &got), NET_EPROTO);
}

/* ---- transports on loopback ------------------------------------------ */

Test(transport, two_nodes_both_ways_in_order)
{
    node a = {0}, b = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    link_nodes(&a, &b);
    send_seqs(&a, 2, 0, 1000, 64);
    send_seqs(&b, 1, 0, 1000, 64);
    wait_received(&b, 1000);
    wait_received(&a, 1000);
    cr_assert(!a.out_of_order && !b.out_of_order);
    cr_assert(a.next_seq[2] == 1000 && b.next_seq[1] == 1000);
    cr_assert(a.ups == 1 && b.ups == 1);
    net_transport_peer_stats s = peer_stats(&a, 2);
    cr_assert(s.connected && s.msgs_sent == 1000 && s.msgs_recv == 1000 && s.dropped == 0);
    cr_assert_eq(s.bytes_sent, 1000 * (NET_FRAME_HEADER + 64));
    stop_node(&a);
    stop_node(&b);
}

Test(transport, three_nodes_all_pairs)
{
    node n[3] = {0};
    for (int i = 0; i < 3; i++)
        start_node(&n[i], (uint64_t)i + 1);
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++)
            link_nodes(&n[i], &n[j]);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (i != j)
                send_seqs(&n[i], (uint64_t)j + 1, 0, 300, 100);
    for (int i = 0; i < 3; i++) {
        wait_received(&n[i], 600);
        cr_assert(!n[i].out_of_order);
        for (int j = 0; j < 3; j++)
            cr_assert_eq(n[i].next_seq[j + 1], i == j ? 0 : 300);
    }
    for (int i = 0; i < 3; i++)
        stop_node(&n[i]);
}

/* Everything sent during one loop iteration leaves in one write. */
Test(transport, coalescing_counts_writes)
{
    node a = {0}, b = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    link_nodes(&a, &b);
    send_seqs(&a, 2, 0, 1, 16);
    wait_received(&b, 1);
    uint64_t writes = peer_stats(&a, 2).writes;
    send_seqs(&a, 2, 1, 2000, 16);
    wait_received(&b, 2001);
    net_transport_peer_stats s = peer_stats(&a, 2);
    cr_assert_eq(s.writes, writes + 1, "2000 sends took %llu writes",
                 (unsigned long long)(s.writes - writes));
    cr_assert_eq(s.msgs_sent, 2001);
    cr_assert(!b.out_of_order);
    stop_node(&a);
    stop_node(&b);
}

Test(transport, large_frames_compressed)
{
    node a = {0}, b = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    link_nodes(&a, &b);
    size_t len = 4u << 20;
    uint8_t *big = malloc(len);
    for (size_t i = 0; i < len; i++)
        big[i] = (uint8_t)(i / 1000);
    cr_assert_eq(net_transport_send(a.t, 2, T_BLOB, big, len), 0);
    wait_received(&b, 1);
    cr_assert(b.blob_len == len && memcmp(b.blob, big, len) == 0);
    net_transport_peer_stats s = peer_stats(&a, 2);
    cr_assert(s.compressed == 1 && s.bytes_sent < len / 10);
    for (size_t i = 0; i < len; i++)
        big[i] = (uint8_t)(random() >> 5);
    cr_assert_eq(net_transport_send(a.t, 2, T_BLOB, big, len), 0);
    wait_received(&b, 2);
    cr_assert(b.blob_len == len && memcmp(b.blob, big, len) == 0);
    cr_assert_eq(peer_stats(&a, 2).compressed, 1);
    free(big);
    stop_node(&a);
    stop_node(&b);
}

Test(transport, argument_errors)
{
    node a = {0};
    net_transport_options o = {.max_payload = 1000};
    start_node_opts(&a, 1, 0, &o);
    uint8_t buf[1001] = {0};
    cr_assert_eq(net_transport_send(a.t, 9, T_SEQ, buf, 8), NET_ENOPEER);
    cr_assert_eq(net_transport_set_peer(a.t, 1, "127.0.0.1:1"), NET_EINVAL);
    cr_assert_eq(net_transport_set_peer(a.t, 0, "127.0.0.1:1"), NET_EINVAL);
    cr_assert_eq(net_transport_set_peer(a.t, 2, "localhost:1"), NET_EADDR);
    cr_assert_eq(net_transport_set_peer(a.t, 2, "127.0.0.1"), NET_EADDR);
    cr_assert_eq(net_transport_set_peer(a.t, 2, "[::1]:1"), 0);
    cr_assert_eq(net_transport_send(a.t, 2, 0, buf, 8), NET_EINVAL);
    cr_assert_eq(net_transport_send(a.t, 2, 200, buf, 8), NET_EINVAL);
    cr_assert_eq(net_transport_send(a.t, 2, T_SEQ, buf, 1001), NET_EINVAL);
    cr_assert_eq(net_transport_send_threadsafe(a.t, 2, T_SEQ, buf, 1001), NET_EINVAL);
    net_transport *t2;
    char err[128];
    net_transport_options bad = {.node_id = 3, .recv = on_recv, .listen = "127.0.0.1:x"};
    cr_assert_eq(net_transport_start(&loop, &bad, &t2, err, sizeof(err)), NET_EADDR);
    bad.listen = a.addr; /* taken */
    cr_assert_eq(net_transport_start(&loop, &bad, &t2, err, sizeof(err)), NET_ESYSTEM);
    cr_assert(strstr(err, "cannot listen") != NULL, "%s", err);
    stop_node(&a);
}

typedef struct reconnects {
    node *n;
    uint64_t peer, at_least;
} reconnects;

static bool reconnected(void *ctx)
{
    reconnects *r = ctx;
    return peer_stats(r->n, r->peer).reconnects >= r->at_least;
}

/* A peer that is not there: the queue stays bounded, the dialler backs
 * off and retries, and once the peer listens what was queued arrives in
 * order. */
Test(transport, peer_down_bounded_queue_then_reconnect)
{
    node a = {0}, b = {0};
    start_node(&b, 2);
    int port = b.port;
    stop_node(&b);
    net_transport_options o = {.queue_msgs = 100};
    start_node_opts(&a, 1, 0, &o);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    cr_assert_eq(net_transport_set_peer(a.t, 2, addr), 0);
    send_seqs(&a, 2, 0, 100, 32);
    uint8_t buf[32] = {0};
    for (int i = 0; i < 50; i++)
        cr_assert_eq(net_transport_send(a.t, 2, T_SEQ, buf, sizeof(buf)), NET_EDROPPED);
    net_transport_peer_stats s = peer_stats(&a, 2);
    cr_assert(s.dropped == 50 && s.queued_msgs == 100 && !s.connected);
    reconnects r = {&a, 2, 3};
    run_until(reconnected, &r);
    cr_assert_eq(peer_stats(&a, 2).queued_msgs, 100);
    cr_assert_eq(a.ups, 0);

    start_node_opts(&b, 2, port, NULL);
    cr_assert_eq(net_transport_set_peer(b.t, 1, a.addr), 0);
    wait_received(&b, 100);
    cr_assert(!b.out_of_order && b.next_seq[1] == 100);
    cr_assert_eq(a.ups, 1);
    s = peer_stats(&a, 2);
    cr_assert(s.connected && s.msgs_sent == 100 && s.dropped == 50 && s.queued_msgs == 0);
    stop_node(&a);
    stop_node(&b);
}

typedef struct downs {
    node *n;
    int count;
} downs;

static bool went_down(void *ctx)
{
    downs *d = ctx;
    return d->n->downs >= d->count;
}

/* An established peer restarts: the caller hears down, then up again. */
Test(transport, peer_restart_reported_and_redialled)
{
    node a = {0}, b = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    link_nodes(&a, &b);
    send_seqs(&a, 2, 0, 10, 16);
    wait_received(&b, 10);
    int port = b.port;
    stop_node(&b);
    downs d = {&a, 1};
    run_until(went_down, &d);
    cr_assert(!peer_stats(&a, 2).connected);
    b = (node){0};
    start_node_opts(&b, 2, port, NULL);
    send_seqs(&a, 2, 10, 10, 16);
    wait_received(&b, 10);
    cr_assert(b.next_seq[1] == 20 && !b.out_of_order);
    cr_assert(a.ups == 2 && peer_stats(&a, 2).reconnects >= 1);
    stop_node(&a);
    stop_node(&b);
}

/* ---- hostile input: one connection closes, the node keeps serving ---- */

static int raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

typedef struct rejections {
    node *n;
    uint64_t count;
} rejections;

static bool rejected(void *ctx)
{
    rejections *r = ctx;
    return stats(r->n).rejected >= r->count;
}

/* Sends `bytes` on a raw connection to `b`, waits for the rejection and
 * checks that b closed the socket and still talks to `a`. */
static void expect_rejected(node *a, node *b, const void *bytes, size_t len)
{
    uint64_t before = stats(b).rejected;
    int fd = raw_connect(b->port);
    cr_assert_eq(write(fd, bytes, len), (ssize_t)len);
    rejections r = {b, before + 1};
    run_until(rejected, &r);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    cr_assert_eq(poll(&pfd, 1, HANG_GUARD_MS), 1);
    char c[64];
    /* Our own handshake may come first from b; then the end of stream. */
    ssize_t n;
    while ((n = read(fd, c, sizeof(c))) > 0)
        ;
    cr_assert_leq(n, 0);
    close(fd);
    size_t got = b->nrecv;
    send_seqs(a, b->id, b->next_seq[a->id], 5, 16);
    wait_received(b, got + 5);
}

/* A node moves to another address: the old connection closes and the new
 * address is dialled; an address that answers as another node is
 * refused by the dialler. */
Test(transport, address_change_and_wrong_node)
{
    node a = {0}, b = {0}, moved = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    link_nodes(&a, &b);
    send_seqs(&a, 2, 0, 3, 16);
    wait_received(&b, 3);
    start_node(&moved, 2);
    cr_assert_eq(net_transport_set_peer(a.t, 2, moved.addr), 0);
    downs d = {&a, 1};
    run_until(went_down, &d);
    send_seqs(&a, 2, 3, 3, 16);
    wait_received(&moved, 3);
    cr_assert(moved.next_seq[1] == 6 && b.nrecv == 3);

    cr_assert_eq(net_transport_set_peer(a.t, 3, b.addr), 0);
    send_seqs(&a, 3, 0, 1, 16);
    rejections r = {&a, 1};
    run_until(rejected, &r);
    cr_assert(!peer_stats(&a, 3).connected && b.nrecv == 3);
    stop_node(&a);
    stop_node(&b);
    stop_node(&moved);
}

Test(transport, garbage_and_bad_frames_close_only_that_connection)
{
    node a = {0}, b = {0};
    net_transport_options o = {.max_payload = 1u << 20};
    start_node_opts(&a, 1, 0, &o);
    start_node_opts(&b, 2, 0, &o);
    link_nodes(&a, &b);
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    expect_rejected(&a, &b, http, sizeof(http) - 1);
    cr_assert(strstr(b.last_log, "malformed frame length") != NULL, "%s", b.last_log);
    static const uint8_t oversized[] = {0x00, 0x10, 0x00, 0x02, 5, 0};
    expect_rejected(&a, &b, oversized, sizeof(oversized));
    static const uint8_t data_first[] = {0, 0, 0, 2, T_SEQ, 0};
    expect_rejected(&a, &b, data_first, sizeof(data_first));
    /* A proper handshake, then a compressed frame claiming 1 GiB. */
    uint8_t wire[NET_FRAME_HELLO_SIZE + 13];
    net_frame_hello h = {.node_id = 7};
    memcpy(h.cluster_id, cluster_a, 16);
    net_frame_put_hello(wire, &h);
    static const uint8_t bomb[] = {0, 0, 0, 9, T_BLOB | NET_FRAME_LZ4, 0x40, 0, 0, 0, 1, 2, 3, 4};
    memcpy(wire + NET_FRAME_HELLO_SIZE, bomb, sizeof(bomb));
    expect_rejected(&a, &b, wire, sizeof(wire));
    cr_assert_eq(peer_stats(&b, 7).msgs_recv, 0);
    /* A second handshake on the same connection. */
    uint8_t twice[2 * NET_FRAME_HELLO_SIZE];
    net_frame_put_hello(twice, &h);
    net_frame_put_hello(twice + NET_FRAME_HELLO_SIZE, &h);
    expect_rejected(&a, &b, twice, sizeof(twice));
    cr_assert_eq(stats(&b).rejected, 5);
    stop_node(&a);
    stop_node(&b);
}

/* A peer that connects and stays silent, and a listener that never
 * answers: both connections end at the handshake deadline. */
Test(transport, handshake_deadline)
{
    node a = {0}, b = {0};
    net_transport_options o = {.handshake_timeout_ms = 200};
    start_node_opts(&a, 1, 0, &o);
    start_node_opts(&b, 2, 0, &o);
    link_nodes(&a, &b);
    expect_rejected(&a, &b, "", 0);

    int mute = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t salen = sizeof(sa);
    cr_assert_eq(bind(mute, (struct sockaddr *)&sa, sizeof(sa)), 0);
    cr_assert_eq(listen(mute, 8), 0);
    cr_assert_eq(getsockname(mute, (struct sockaddr *)&sa, &salen), 0);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", ntohs(sa.sin_port));
    cr_assert_eq(net_transport_set_peer(a.t, 3, addr), 0);
    send_seqs(&a, 3, 0, 1, 16);
    reconnects r = {&a, 3, 2};
    run_until(reconnected, &r);
    cr_assert(a.ups == 1 && !peer_stats(&a, 3).connected && stats(&a).rejected >= 2);
    close(mute);
    stop_node(&a);
    stop_node(&b);
}

static bool dialled_twice(void *ctx)
{
    node *n = ctx;
    return peer_stats(n, 2).reconnects >= 2;
}

Test(transport, wrong_cluster_is_refused)
{
    node a = {0}, b = {0}, c = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    net_transport_options other = {0};
    memcpy(other.cluster_id, cluster_b, 16);
    start_node_opts(&c, 3, 0, &other);
    link_nodes(&a, &b);
    link_nodes(&c, &b);
    send_seqs(&c, 2, 0, 5, 16);
    run_until(dialled_twice, &c);
    cr_assert_geq(stats(&b).rejected, 2);
    cr_assert_str_eq(b.last_log, "transport: inbound connection closed: node 3 is in cluster "
                                 "c20102030405060708090a0b0c0d0e0f, which is refused");
    cr_assert(c.ups == 0 && b.nrecv == 0 && !peer_stats(&c, 2).connected);
    send_seqs(&a, 2, 0, 5, 16);
    wait_received(&b, 5);
    cr_assert_eq(b.next_seq[3], 0);
    stop_node(&a);
    stop_node(&b);
    stop_node(&c);
}

/* A joining node does not know the cluster id yet: its callback accepts
 * any, and the member's callback accepts nodes that know none. */
Test(transport, accept_callback_decides)
{
    node a = {.accept_cluster = cluster_a}, j = {.accept_cluster = cluster_a};
    net_transport_options member = {0};
    memcpy(member.cluster_id, cluster_a, 16);
    start_node_opts(&a, 1, 0, &member);
    start_node_opts(&j, 4, 0, NULL);
    link_nodes(&a, &j);
    send_seqs(&a, 4, 0, 3, 16);
    wait_received(&j, 3);
    cr_assert_arr_eq(j.seen_cluster, cluster_a, 16);
    static const uint8_t zero[16];
    cr_assert_arr_eq(a.seen_cluster, zero, 16);
    stop_node(&a);
    stop_node(&j);
}

/* ---- the thread-safe send ------------------------------------------- */

typedef struct producer {
    net_transport *t;
    size_t count;
    size_t accepted;
    atomic_bool finished;
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    uint8_t buf[24] = {0};
    for (uint64_t s = 0; s < p->count; s++) {
        memcpy(buf, &s, sizeof(s));
        if (net_transport_send_threadsafe(p->t, 2, T_SEQ, buf, sizeof(buf)) == 0)
            p->accepted++;
    }
    atomic_store(&p->finished, true);
    return NULL;
}

typedef struct threaded {
    node *a, *b;
    pthread_t thread;
    producer *p;
    bool joined;
} threaded;

static bool threaded_done(void *ctx)
{
    threaded *w = ctx;
    if (!w->joined) {
        if (!atomic_load(&w->p->finished))
            return false;
        pthread_join(w->thread, NULL);
        w->joined = true;
    }
    return w->b->nrecv + peer_stats(w->a, 2).dropped == w->p->accepted;
}

/* Every message a thread got accepted arrives in order or is counted as
 * dropped on the loop; the rest were refused and counted. */
Test(transport, threadsafe_send)
{
    node a = {0}, b = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    link_nodes(&a, &b);
    producer p = {.t = a.t, .count = 20000};
    threaded w = {.a = &a, .b = &b, .p = &p};
    cr_assert_eq(pthread_create(&w.thread, NULL, produce, &p), 0);
    run_until(threaded_done, &w);
    cr_assert(!b.out_of_order && b.nrecv > 0);
    cr_assert_eq(p.accepted + stats(&a).async_dropped, p.count);
    bool closed = false;
    net_transport_close(a.t, on_closed, &closed);
    cr_assert_eq(net_transport_send_threadsafe(a.t, 2, T_SEQ, "x", 1), NET_ECLOSED);
    run_until(is_true, &closed);
    net_transport_free(a.t);
    stop_node(&b);
}

/* ---- a figure for the report, never a threshold ---------------------- */

/* Streams `count` messages of `len` bytes from a to b, keeping a's queue
 * fed without overflowing it, and prints the rate. */
static void measure(node *a, node *b, size_t count, size_t len)
{
    static uint8_t buf[64 * 1024];
    cr_assert_leq(len, sizeof(buf));
    size_t sent = 0, base = b->nrecv;
    uint64_t first = b->next_seq[a->id];
    uint64_t start = uv_hrtime();
    while (b->nrecv - base < count) {
        while (sent < count && peer_stats(a, b->id).queued_msgs < 4096 &&
               peer_stats(a, b->id).queued_bytes < (8u << 20)) {
            uint64_t seq = first + sent;
            memcpy(buf, &seq, sizeof(seq));
            cr_assert_eq(net_transport_send(a->t, b->id, T_SEQ, buf, len), 0);
            sent++;
        }
        uv_run(&loop, UV_RUN_ONCE);
    }
    double s = (double)(uv_hrtime() - start) / 1e9;
    net_transport_peer_stats st = peer_stats(a, b->id);
    fprintf(stderr,
            "transport loopback: %zu messages of %zu bytes in %.3f s: %.0f msg/s, %.1f MB/s, "
            "%.1f messages per write\n",
            count, len, s, (double)count / s, (double)count * (double)len / s / 1e6,
            (double)st.msgs_sent / (double)st.writes);
}

/* One message at a time there and back: the latency floor a Raft round
 * adds on top of the disk. */
static void measure_round_trips(node *a, node *b, size_t count)
{
    uint8_t buf[64] = {0};
    uint64_t start = uv_hrtime();
    for (size_t i = 0; i < count; i++) {
        cr_assert_eq(net_transport_send(a->t, b->id, T_PING, buf, sizeof(buf)), 0);
        wait_received(a, a->nrecv + 1);
    }
    double us = (double)(uv_hrtime() - start) / 1e3 / (double)count;
    fprintf(stderr, "transport loopback: %zu round trips of 64 bytes: %.1f us each\n", count, us);
}

Test(transport, loopback_throughput)
{
    node a = {0}, b = {0};
    start_node(&a, 1);
    start_node(&b, 2);
    link_nodes(&a, &b);
    measure(&a, &b, 200000, 100);
    measure(&a, &b, 20000, 16 * 1024);
    measure_round_trips(&a, &b, 5000);
    cr_assert(!b.out_of_order);
    stop_node(&a);
    stop_node(&b);
}
