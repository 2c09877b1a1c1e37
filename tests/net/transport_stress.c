/*
 * transport_stress.c - net_transport_send_threadsafe from several threads
 * while the loop thread drains, delivers and finally closes the
 * transport under them; built for ThreadSanitizer (tests/CMakeLists.txt).
 *
 * Phase 1: PRODUCERS threads send MESSAGES each from node 1 to node 2 on
 * one loop; node 2 checks each producer's sequence never goes back, and
 * every accepted message is delivered or counted as dropped. Phase 2:
 * the producers send without end until the loop closes node 1 under
 * them; they must see NET_ECLOSED and stop.
 */
#include <stdatomic.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/transport.h"

#define PRODUCERS 4
#define MESSAGES  50000
#define T_SEQ     1

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

typedef struct producer {
    pthread_t thread;
    uint32_t id;
    net_transport *t;
    bool endless;
    size_t accepted; /* read by the loop after the join only */
    int last_rc;
} producer;

static uv_loop_t loop;
static net_transport *t1, *t2;
static producer producers[PRODUCERS];
static atomic_int finished;
static uint64_t next_seq[PRODUCERS];
static size_t received;
static bool closing;

static void *produce(void *arg)
{
    producer *p = arg;
    uint8_t buf[32] = {0};
    memcpy(buf, &p->id, sizeof(p->id));
    /* Phase 2 continues the sequence: node 2 checks across phases. */
    for (uint64_t s = p->endless ? MESSAGES : 0; p->endless || s < MESSAGES; s++) {
        memcpy(buf + 8, &s, sizeof(s));
        p->last_rc = net_transport_send_threadsafe(p->t, 2, T_SEQ, buf, sizeof(buf));
        if (p->last_rc == NET_ECLOSED)
            break;
        CHECK(p->last_rc == 0 || p->last_rc == NET_EDROPPED);
        p->accepted += p->last_rc == 0;
        /* A full queue: let the loop drain, so the threads and the loop
         * interleave for the whole run instead of racing past it. */
        if (p->last_rc == NET_EDROPPED)
            sched_yield();
    }
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static void on_recv(void *ctx, uint64_t from, uint8_t type, const uint8_t *p, size_t len)
{
    (void)ctx;
    CHECK(from == 1 && type == T_SEQ && len == 32);
    uint32_t id;
    uint64_t seq;
    memcpy(&id, p, sizeof(id));
    memcpy(&seq, p + 8, sizeof(seq));
    CHECK(id < PRODUCERS && seq >= next_seq[id]);
    next_seq[id] = seq + 1;
    received++;
}

static net_transport *start(uint64_t id)
{
    static const uint8_t cluster[16] = {42};
    net_transport_options o = {.node_id = id, .listen = "127.0.0.1:0", .recv = on_recv};
    memcpy(o.cluster_id, cluster, 16);
    net_transport *t;
    char err[256];
    int rc = net_transport_start(&loop, &o, &t, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "start: %s: %s\n", net_strerror(rc), err);
        exit(1);
    }
    return t;
}

static void start_producers(bool endless)
{
    atomic_store(&finished, 0);
    for (uint32_t i = 0; i < PRODUCERS; i++) {
        producers[i] = (producer){.id = i, .t = t1, .endless = endless};
        CHECK(pthread_create(&producers[i].thread, NULL, produce, &producers[i]) == 0);
    }
}

static size_t join_producers(void)
{
    size_t accepted = 0;
    for (int i = 0; i < PRODUCERS; i++) {
        pthread_join(producers[i].thread, NULL);
        accepted += producers[i].accepted;
    }
    return accepted;
}

static void on_t1_closed(void *ctx)
{
    (void)ctx;
    net_transport_close(t2, NULL, NULL);
}

/* Polls the producers' progress every millisecond on the loop thread
 * (a timer, so the loop never sleeps through the last change). */
static void on_tick(uv_timer_t *h)
{
    static int phase = 1;
    static size_t accepted;
    net_transport_peer_stats ps;
    if (phase == 1 && atomic_load(&finished) == PRODUCERS) {
        accepted = join_producers();
        phase = 2;
    }
    if (phase == 2 && net_transport_peer_stats_get(t1, 2, &ps) == 0 &&
        received + ps.dropped == accepted) {
        net_transport_stats st;
        net_transport_stats_get(t1, &st);
        printf("phase 1: %zu accepted, %zu received, %llu dropped on the loop, %llu refused\n",
               accepted, received, (unsigned long long)ps.dropped,
               (unsigned long long)st.async_dropped);
        CHECK(accepted + st.async_dropped == (size_t)PRODUCERS * MESSAGES);
        start_producers(true);
        phase = 3;
        accepted = received;
    }
    if (phase == 3 && !closing && received > accepted + 10000) {
        closing = true;
        net_transport_close(t1, on_t1_closed, NULL);
        uv_close((uv_handle_t *)h, NULL);
    }
}

int main(void)
{
    CHECK(uv_loop_init(&loop) == 0);
    t1 = start(1);
    t2 = start(2);
    char addr[32];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", net_transport_port(t2));
    CHECK(net_transport_set_peer(t1, 2, addr) == 0);
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, on_tick, 1, 1);
    start_producers(false);
    uv_run(&loop, UV_RUN_DEFAULT);
    join_producers();
    for (int i = 0; i < PRODUCERS; i++)
        CHECK(producers[i].last_rc == NET_ECLOSED);
    net_transport_free(t1);
    net_transport_free(t2);
    CHECK(uv_loop_close(&loop) == 0);
    printf("phase 2: producers stopped on NET_ECLOSED after %zu messages in all\n", received);
    return 0;
}
