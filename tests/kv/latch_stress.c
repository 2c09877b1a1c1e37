/*
 * latch_stress.c - several threads acquire random overlapping latches over
 * a row of slots and check mutual exclusion on a shared array: inside its
 * latches a writer must meet no other writer and no conflicting reader in
 * its slots, a reader no conflicting writer. Requests carry timestamps
 * 1..3 or 0 (non-MVCC), so the read-below-write rule is exercised too.
 * Requests wait either by blocking (kv_latch_wait) or through the callback
 * (the node-loop path), and some are canceled.
 *
 * Plain main(): exit status 0 = pass. A fixed number of operations per
 * thread keeps it to a few seconds, also under TSan, and any exclusion
 * violation fails it whatever the interleaving. The `data` array is MVCC in
 * miniature, one cell per slot and timestamp, accessed without atomics on
 * purpose: a writer at T writes version T, a reader at T reads versions up
 * to T, a non-MVCC request touches all. TSan reports a race there if
 * latches ever fail to order two conflicting requests.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv/kv_error.h"
#include "kv/latch.h"

#define THREADS 4
#define OPS     12000
#define SLOTS   32
#define TS_N    4 /* timestamps 0 (non-MVCC) and 1..3 */

static kv_latch_mgr *mgr;
static atomic_int writers[SLOTS][TS_N], readers[SLOTS][TS_N];
static uint64_t data[SLOTS][TS_N];
static _Thread_local uint64_t sink;
static atomic_int failures;
static atomic_long granted_ops, canceled_ops;

struct request {
    kv_latch_span spans[2];
    uint8_t keys[2][2][2];
    int lo[2], hi[2]; /* slots [lo, hi) of each span */
    size_t n;
    int ts;
    atomic_int done; /* set by the callback */
};

/* Counts a violation; the first few are printed, the rest only counted. */
static void fail(const char *what, int slot)
{
    if (atomic_fetch_add(&failures, 1) < 10)
        fprintf(stderr, "latch_stress: %s at slot %d\n", what, slot);
}

static void on_latch(void *arg, int status)
{
    struct request *r = arg;
    atomic_store(&r->done, status == 0 ? 1 : 2);
}

static void set_key(uint8_t *k, int slot)
{
    k[0] = 'k';
    k[1] = (uint8_t)slot;
}

/* One or two disjoint spans; single keys and ranges alike. */
static void random_request(unsigned *seed, struct request *r)
{
    int lo = rand_r(seed) % SLOTS;
    r->n = 0;
    r->ts = rand_r(seed) % TS_N;
    while (r->n < 2 && lo < SLOTS) {
        size_t i = r->n++;
        int len = rand_r(seed) % 3 == 0 ? 1 + rand_r(seed) % 6 : 1;
        int hi = lo + len > SLOTS ? SLOTS : lo + len;
        kv_latch_span *s = &r->spans[i];
        set_key(r->keys[i][0], lo);
        set_key(r->keys[i][1], hi); /* slot SLOTS is a key past every slot */
        *s = (kv_latch_span){.start = r->keys[i][0], .start_len = 2, .ts = {r->ts, 0}};
        if (hi - lo > 1) {
            s->end = r->keys[i][1];
            s->end_len = 2;
        }
        s->access = rand_r(seed) % 3 == 0 ? KV_LATCH_WRITE : KV_LATCH_READ;
        r->lo[i] = lo;
        r->hi[i] = hi;
        lo = hi + rand_r(seed) % 8;
        if (rand_r(seed) % 2)
            break;
    }
}

/* The latch rule between a read at r and a write at w (0: non-MVCC). */
static bool rw_conflict(int r, int w)
{
    return r == 0 || w == 0 || w <= r;
}

static void enter_write(int s, int w)
{
    atomic_fetch_add(&writers[s][w], 1);
    int others = -1;
    for (int t = 0; t < TS_N; t++) {
        others += atomic_load(&writers[s][t]);
        if (rw_conflict(t, w) && atomic_load(&readers[s][t]) != 0)
            fail("writer met a conflicting reader", s);
    }
    if (others != 0)
        fail("writer met another writer", s);
    for (int t = 1; t < TS_N; t++)
        if (w == 0 || w == t)
            data[s][t]++;
}

static void enter_read(int s, int r)
{
    atomic_fetch_add(&readers[s][r], 1);
    for (int t = 0; t < TS_N; t++)
        if (rw_conflict(r, t) && atomic_load(&writers[s][t]) != 0)
            fail("reader met a conflicting writer", s);
    for (int t = 1; t < TS_N; t++)
        if (r == 0 || t <= r)
            sink += data[s][t];
}

static void enter(const struct request *r)
{
    for (size_t i = 0; i < r->n; i++)
        for (int s = r->lo[i]; s < r->hi[i]; s++) {
            if (r->spans[i].access == KV_LATCH_WRITE)
                enter_write(s, r->ts);
            else
                enter_read(s, r->ts);
        }
}

static void leave(const struct request *r)
{
    for (size_t i = 0; i < r->n; i++)
        for (int s = r->lo[i]; s < r->hi[i]; s++)
            atomic_fetch_sub(
                r->spans[i].access == KV_LATCH_WRITE ? &writers[s][r->ts] : &readers[s][r->ts], 1);
}

/* Waits for a pending request one of three ways; returns 0 if granted. */
static int await(kv_latch_guard *g, struct request *r, unsigned *seed)
{
    int how = rand_r(seed) % 8;
    if (how == 0 && kv_latch_cancel(g))
        return kv_latch_wait(g);
    if (how < 4)
        return kv_latch_wait(g);
    while (atomic_load(&r->done) == 0)
        sched_yield();
    return atomic_load(&r->done) == 1 ? 0 : KV_ECANCELED;
}

static void *worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    for (int op = 0; op < OPS; op++) {
        struct request r = {0};
        random_request(&seed, &r);
        kv_latch_guard *g;
        bool pending;
        int rc = kv_latch_acquire(mgr, r.spans, r.n, on_latch, &r, &g, &pending);
        if (rc != 0) {
            fprintf(stderr, "latch_stress: acquire: %s\n", kv_strerror(rc));
            atomic_fetch_add(&failures, 1);
            return NULL;
        }
        if (pending && await(g, &r, &seed) != 0) {
            atomic_fetch_add(&canceled_ops, 1);
            kv_latch_release(g);
            continue;
        }
        enter(&r);
        if (rand_r(&seed) % 4 == 0)
            sched_yield();
        leave(&r);
        kv_latch_release(g);
        atomic_fetch_add(&granted_ops, 1);
    }
    return NULL;
}

int main(void)
{
    if (kv_latch_mgr_create(&mgr) != 0)
        return 1;
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(i + 1)) != 0)
            return 1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    kv_latch_mgr_destroy(mgr);
    long total = atomic_load(&granted_ops) + atomic_load(&canceled_ops);
    printf("latch_stress: %ld granted, %ld canceled, %d violations\n", atomic_load(&granted_ops),
           atomic_load(&canceled_ops), atomic_load(&failures));
    return atomic_load(&failures) == 0 && total == (long)THREADS * OPS ? 0 : 1;
}
