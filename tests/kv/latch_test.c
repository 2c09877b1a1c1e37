/*
 * latch_test.c - the latch manager: shared reads, exclusive writes, span
 * boundaries, FIFO order, cancellation, exact wake-ups, the timestamp rule,
 * blocking waits, and a randomized comparison with a brute-force model.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_error.h"
#include "kv/latch.h"

/* One request under test: its spans and what its callback reported. */
struct req {
    kv_latch_span spans[4];
    size_t n;
    kv_latch_guard *g;
    bool pending;
    int calls;
    int status;
};

static kv_latch_mgr *mgr;

static void setup(void)
{
    cr_assert_eq(kv_latch_mgr_create(&mgr), 0);
}

static void teardown(void)
{
    kv_latch_mgr_destroy(mgr);
}

TestSuite(latch, .init = setup, .fini = teardown);

static void on_latch(void *arg, int status)
{
    struct req *r = arg;
    r->calls++;
    r->status = status;
}

static kv_latch_span key_span(const char *k, kv_latch_access a, int64_t wall)
{
    return (kv_latch_span){.start = k, .start_len = strlen(k), .access = a, .ts = {wall, 0}};
}

static kv_latch_span range_span(const char *s, const char *e, kv_latch_access a, int64_t wall)
{
    return (kv_latch_span){.start = s,
                           .start_len = strlen(s),
                           .end = e,
                           .end_len = strlen(e),
                           .access = a,
                           .ts = {wall, 0}};
}

static void acquire(struct req *r)
{
    r->calls = 0;
    cr_assert_eq(kv_latch_acquire(mgr, r->spans, r->n, on_latch, r, &r->g, &r->pending), 0);
}

/* Acquires a one-span request and checks whether it had to wait. */
static void acquire1(struct req *r, kv_latch_span s, bool want_pending)
{
    r->spans[0] = s;
    r->n = 1;
    acquire(r);
    cr_assert_eq(r->pending, want_pending, "pending %d, want %d", r->pending, want_pending);
}

static bool granted(const struct req *r)
{
    return !r->pending || (r->calls == 1 && r->status == 0);
}

Test(latch, reads_share_and_writes_exclude)
{
    struct req r1, r2, w3, w4;
    acquire1(&r1, range_span("a", "m", KV_LATCH_READ, 0), false);
    acquire1(&r2, key_span("c", KV_LATCH_READ, 0), false);
    acquire1(&w3, key_span("c", KV_LATCH_WRITE, 0), true);
    acquire1(&w4, key_span("c", KV_LATCH_WRITE, 0), true);
    kv_latch_release(r1.g);
    cr_assert_eq(w3.calls, 0, "a write waits for every earlier reader");
    kv_latch_release(r2.g);
    cr_assert(granted(&w3));
    cr_assert_eq(w4.calls, 0, "writes exclude each other");
    kv_latch_release(w3.g);
    cr_assert(granted(&w4));
    kv_latch_release(w4.g);
}

Test(latch, span_ends_are_exclusive)
{
    struct req w1, r[6];
    acquire1(&w1, range_span("b", "d", KV_LATCH_WRITE, 0), false);
    acquire1(&r[0], range_span("d", "f", KV_LATCH_READ, 0), false);
    acquire1(&r[1], range_span("a", "b", KV_LATCH_WRITE, 0), false);
    acquire1(&r[2], key_span("d", KV_LATCH_READ, 0), false);
    acquire1(&r[3], key_span("c", KV_LATCH_READ, 0), true);
    acquire1(&r[4], range_span("a", "b\x01", KV_LATCH_READ, 0), true);
    acquire1(&r[5], key_span("cz", KV_LATCH_READ, 0), true);
    for (int i = 5; i >= 0; i--)
        kv_latch_release(r[i].g);
    kv_latch_release(w1.g);
}

Test(latch, a_single_key_is_exactly_the_key)
{
    /* "k" covers [k, k\0): it meets "k" but neither "k\0" nor "kk". */
    struct req w1, r2, r3, r4, r5;
    acquire1(&w1, key_span("k", KV_LATCH_WRITE, 0), false);
    r2.spans[0] = (kv_latch_span){.start = "k\0", .start_len = 2, .access = KV_LATCH_WRITE};
    r2.n = 1;
    acquire(&r2);
    cr_assert_not(r2.pending);
    acquire1(&r3, key_span("kk", KV_LATCH_WRITE, 0), false);
    r4.spans[0] = (kv_latch_span){
        .start = "k", .start_len = 1, .end = "k\0", .end_len = 2, .access = KV_LATCH_WRITE};
    r4.n = 1;
    acquire(&r4);
    cr_assert(r4.pending, "[k, k\\0) is the key k");
    acquire1(&r5, range_span("", "k", KV_LATCH_READ, 0), false);
    kv_latch_release(r5.g);
    kv_latch_release(r4.g);
    kv_latch_release(r3.g);
    kv_latch_release(r2.g);
    kv_latch_release(w1.g);
}

Test(latch, conflicting_requests_are_granted_in_arrival_order)
{
    struct req w1, r2, w3, r4;
    acquire1(&w1, range_span("a", "z", KV_LATCH_WRITE, 0), false);
    acquire1(&r2, key_span("k", KV_LATCH_READ, 0), true);
    acquire1(&w3, key_span("k", KV_LATCH_WRITE, 0), true);
    acquire1(&r4, key_span("k", KV_LATCH_READ, 0), true);
    kv_latch_release(w1.g);
    cr_assert(granted(&r2));
    cr_assert_eq(w3.calls, 0);
    cr_assert_eq(r4.calls, 0, "a later read does not overtake a waiting write");
    kv_latch_release(r2.g);
    cr_assert(granted(&w3));
    cr_assert_eq(r4.calls, 0);
    kv_latch_release(w3.g);
    cr_assert(granted(&r4));
    kv_latch_release(r4.g);
}

Test(latch, release_wakes_exactly_the_requests_that_can_proceed)
{
    struct req w1, w2, w3, r4, r5;
    w1.spans[0] = range_span("a", "c", KV_LATCH_WRITE, 0);
    w1.spans[1] = range_span("m", "o", KV_LATCH_WRITE, 0);
    w1.n = 2;
    acquire(&w1);
    cr_assert_not(w1.pending);
    acquire1(&w2, range_span("b", "d", KV_LATCH_WRITE, 0), true);
    acquire1(&w3, range_span("c", "e", KV_LATCH_WRITE, 0), true); /* waits for w2 only */
    acquire1(&r4, key_span("n", KV_LATCH_READ, 0), true);
    acquire1(&r5, key_span("x", KV_LATCH_READ, 0), false);
    kv_latch_release(w1.g);
    cr_assert(granted(&w2));
    cr_assert(granted(&r4));
    cr_assert_eq(w2.calls, 1);
    cr_assert_eq(w3.calls, 0, "w3 still waits for w2");
    kv_latch_release(w2.g);
    cr_assert(granted(&w3));
    kv_latch_release(w3.g);
    kv_latch_release(r4.g);
    kv_latch_release(r5.g);
}

Test(latch, a_predecessor_met_on_several_spans_is_waited_for_once)
{
    struct req w1, w2;
    w1.spans[0] = key_span("a", KV_LATCH_WRITE, 0);
    w1.spans[1] = key_span("c", KV_LATCH_WRITE, 0);
    w1.n = 2;
    acquire(&w1);
    w2.spans[0] = key_span("a", KV_LATCH_READ, 0);
    w2.spans[1] = range_span("b", "d", KV_LATCH_WRITE, 0);
    w2.spans[2] = key_span("c", KV_LATCH_READ, 0);
    w2.n = 3;
    acquire(&w2);
    cr_assert(w2.pending);
    kv_latch_release(w1.g);
    cr_assert_eq(w2.calls, 1);
    cr_assert_eq(w2.status, 0);
    kv_latch_release(w2.g);
}

Test(latch, cancel_withdraws_and_wakes_only_its_own_dependents)
{
    struct req w1, w2, w3, w4, w5;
    acquire1(&w1, range_span("a", "c", KV_LATCH_WRITE, 0), false);
    acquire1(&w2, range_span("b", "d", KV_LATCH_WRITE, 0), true);
    acquire1(&w3, range_span("c", "e", KV_LATCH_WRITE, 0), true); /* on w2 only */
    acquire1(&w4, key_span("a", KV_LATCH_WRITE, 0), true);        /* on w1 only */
    acquire1(&w5, key_span("b", KV_LATCH_WRITE, 0), true);        /* on w1 and w2 */
    cr_assert(kv_latch_cancel(w2.g));
    cr_assert_eq(w2.calls, 1);
    cr_assert_eq(w2.status, KV_ECANCELED);
    cr_assert_eq(kv_latch_wait(w2.g), KV_ECANCELED);
    cr_assert(granted(&w3));
    cr_assert_eq(w4.calls, 0, "cancel must not wake a waiter of someone else");
    cr_assert_eq(w5.calls, 0, "w5 still waits for w1");
    cr_assert_not(kv_latch_cancel(w2.g), "already canceled");
    cr_assert_not(kv_latch_cancel(w1.g), "a granted request cannot be canceled");
    kv_latch_release(w2.g);
    cr_assert_eq(w2.calls, 1);
    kv_latch_release(w1.g);
    cr_assert(granted(&w4));
    cr_assert(granted(&w5));
    kv_latch_release(w3.g);
    kv_latch_release(w4.g);
    kv_latch_release(w5.g);
}

Test(latch, releasing_a_pending_request_withdraws_it_silently)
{
    struct req w1, w2, r3;
    acquire1(&w1, key_span("k", KV_LATCH_WRITE, 0), false);
    acquire1(&w2, key_span("k", KV_LATCH_WRITE, 0), true);
    acquire1(&r3, key_span("k", KV_LATCH_READ, 0), true);
    kv_latch_release(w2.g);
    cr_assert_eq(w2.calls, 0);
    cr_assert_eq(r3.calls, 0);
    kv_latch_release(w1.g);
    cr_assert(granted(&r3));
    kv_latch_release(r3.g);
}

Test(latch, reads_below_a_write_timestamp_do_not_conflict)
{
    struct req w1, r[4];
    acquire1(&w1, key_span("k", KV_LATCH_WRITE, 10), false);
    acquire1(&r[0], key_span("k", KV_LATCH_READ, 5), false);
    acquire1(&r[1], key_span("k", KV_LATCH_READ, 10), true);
    acquire1(&r[2], key_span("k", KV_LATCH_READ, 15), true);
    acquire1(&r[3], key_span("k", KV_LATCH_READ, 0), true);
    for (int i = 0; i < 4; i++)
        kv_latch_release(r[i].g);
    kv_latch_release(w1.g);
}

Test(latch, writes_above_a_read_timestamp_do_not_conflict)
{
    struct req r1, w[4];
    acquire1(&r1, range_span("a", "z", KV_LATCH_READ, 10), false);
    acquire1(&w[0], key_span("k", KV_LATCH_WRITE, 11), false);
    acquire1(&w[1], key_span("k", KV_LATCH_WRITE, 12), true); /* writes always conflict */
    acquire1(&w[2], key_span("m", KV_LATCH_WRITE, 10), true);
    acquire1(&w[3], key_span("n", KV_LATCH_WRITE, 0), true);
    for (int i = 3; i >= 0; i--)
        kv_latch_release(w[i].g);
    kv_latch_release(r1.g);
}

Test(latch, invalid_requests_are_refused)
{
    kv_latch_guard *g;
    bool pending;
    kv_latch_span s = range_span("b", "b", KV_LATCH_WRITE, 0);
    cr_assert_eq(kv_latch_acquire(mgr, &s, 1, NULL, NULL, &g, &pending), KV_EINVAL);
    s = range_span("b", "a", KV_LATCH_READ, 0);
    cr_assert_eq(kv_latch_acquire(mgr, &s, 1, NULL, NULL, &g, &pending), KV_EINVAL);
    s = key_span("a", KV_LATCH_READ, 0);
    cr_assert_eq(kv_latch_acquire(mgr, &s, 0, NULL, NULL, &g, &pending), KV_EINVAL);
    s.access = (kv_latch_access)7;
    cr_assert_eq(kv_latch_acquire(mgr, &s, 1, NULL, NULL, &g, &pending), KV_EINVAL);
}

struct waiter {
    kv_latch_guard *g;
    int rc;
};

static void *wait_thread(void *arg)
{
    struct waiter *w = arg;
    w->rc = kv_latch_wait(w->g);
    return NULL;
}

/* A worker blocks on a pending guard; `finish` ends the wait. */
static int blocked_wait(void (*finish)(kv_latch_guard *held, kv_latch_guard *waiting))
{
    kv_latch_span s = key_span("k", KV_LATCH_WRITE, 0);
    kv_latch_guard *held;
    bool pending;
    cr_assert_eq(kv_latch_acquire(mgr, &s, 1, NULL, NULL, &held, &pending), 0);
    struct waiter w = {.rc = 1};
    cr_assert_eq(kv_latch_acquire(mgr, &s, 1, NULL, NULL, &w.g, &pending), 0);
    cr_assert(pending);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, wait_thread, &w), 0);
    finish(held, w.g);
    pthread_join(t, NULL);
    kv_latch_release(w.g);
    return w.rc;
}

static void finish_by_release(kv_latch_guard *held, kv_latch_guard *waiting)
{
    (void)waiting;
    kv_latch_release(held);
}

static void finish_by_cancel(kv_latch_guard *held, kv_latch_guard *waiting)
{
    cr_assert(kv_latch_cancel(waiting));
    kv_latch_release(held);
}

Test(latch, a_blocked_worker_wakes_on_release)
{
    cr_assert_eq(blocked_wait(finish_by_release), 0);
}

Test(latch, a_blocked_worker_wakes_on_cancel)
{
    cr_assert_eq(blocked_wait(finish_by_cancel), KV_ECANCELED);
}

/* The model: a live request is granted iff no earlier live request
 * conflicts with it. Keys are one or two letters of "abc" so overlaps and
 * shared boundaries are frequent. */
#define MODEL_REQS  64
#define MODEL_STEPS 400

struct mreq {
    struct req r;
    char keys[4][2][3];
    bool live;
};

static bool bytes_lt(const char *x, size_t xl, const char *y, size_t yl)
{
    int c = memcmp(x, y, xl < yl ? xl : yl);
    return c < 0 || (c == 0 && xl < yl);
}

/* The end of a span as bytes: a single key k ends at k\0. */
static const char *mspan_end(const kv_latch_span *s, char *buf, size_t *len)
{
    if (s->end != NULL) {
        *len = s->end_len;
        return s->end;
    }
    memcpy(buf, s->start, s->start_len);
    buf[s->start_len] = 0;
    *len = s->start_len + 1;
    return buf;
}

static bool mspan_overlap(const kv_latch_span *a, const kv_latch_span *b)
{
    char abuf[4], bbuf[4];
    size_t ael, bel;
    const char *ae = mspan_end(a, abuf, &ael), *be = mspan_end(b, bbuf, &bel);
    return bytes_lt(b->start, b->start_len, ae, ael) && bytes_lt(a->start, a->start_len, be, bel);
}

static bool mspan_conflict(const kv_latch_span *a, const kv_latch_span *b)
{
    if (a->access == KV_LATCH_READ && b->access == KV_LATCH_READ)
        return false;
    if (!mspan_overlap(a, b))
        return false;
    if (a->access == KV_LATCH_WRITE && b->access == KV_LATCH_WRITE)
        return true;
    kv_ts r = a->access == KV_LATCH_READ ? a->ts : b->ts;
    kv_ts w = a->access == KV_LATCH_READ ? b->ts : a->ts;
    return r.wall == 0 || w.wall == 0 || w.wall <= r.wall;
}

static bool mreq_conflict(const struct mreq *a, const struct mreq *b)
{
    for (size_t i = 0; i < a->r.n; i++)
        for (size_t j = 0; j < b->r.n; j++)
            if (mspan_conflict(&a->r.spans[i], &b->r.spans[j]))
                return true;
    return false;
}

static void random_key(unsigned *seed, char *k, size_t *len)
{
    *len = 1 + (size_t)(rand_r(seed) % 2);
    for (size_t i = 0; i < *len; i++)
        k[i] = (char)("abc"[rand_r(seed) % 3]);
    k[*len] = 0;
}

static void random_request(unsigned *seed, struct mreq *m)
{
    m->r.n = 1 + (size_t)(rand_r(seed) % 3);
    for (size_t i = 0; i < m->r.n; i++) {
        kv_latch_span *s = &m->r.spans[i];
        size_t sl, el;
        random_key(seed, m->keys[i][0], &sl);
        *s = (kv_latch_span){.start = m->keys[i][0], .start_len = sl};
        s->access = rand_r(seed) % 2 ? KV_LATCH_WRITE : KV_LATCH_READ;
        s->ts.wall = rand_r(seed) % 4; /* 0: non-MVCC */
        random_key(seed, m->keys[i][1], &el);
        if (rand_r(seed) % 4 == 0 || strcmp(m->keys[i][1], m->keys[i][0]) <= 0)
            continue; /* a single key */
        s->end = m->keys[i][1];
        s->end_len = el;
    }
}

static void model_check(struct mreq *m, int n, unsigned seed, int step)
{
    for (int i = 0; i < n; i++) {
        if (!m[i].live)
            continue;
        bool want = true;
        for (int j = 0; j < i && want; j++)
            want = !(m[j].live && mreq_conflict(&m[i], &m[j]));
        cr_assert_eq(granted(&m[i].r), want, "seed %u step %d req %d: granted %d, want %d", seed,
                     step, i, granted(&m[i].r), want);
        cr_assert_leq(m[i].r.calls, 1);
    }
}

Test(latch, random_requests_match_the_model)
{
    for (unsigned seed = 1; seed <= 40; seed++) {
        static struct mreq m[MODEL_REQS];
        memset(m, 0, sizeof(m));
        unsigned rs = seed;
        int n = 0;
        for (int step = 0; step < MODEL_STEPS; step++) {
            int op = rand_r(&rs) % 3;
            if (op == 0 && n < MODEL_REQS) {
                random_request(&rs, &m[n]);
                acquire(&m[n].r);
                m[n++].live = true;
            } else if (n > 0) {
                int i = rand_r(&rs) % n;
                if (!m[i].live)
                    continue;
                if (op == 1 && kv_latch_cancel(m[i].r.g))
                    cr_assert_eq(m[i].r.status, KV_ECANCELED);
                kv_latch_release(m[i].r.g);
                m[i].live = false;
            }
            model_check(m, n, seed, step);
        }
        for (int i = 0; i < n; i++)
            if (m[i].live)
                kv_latch_release(m[i].r.g);
    }
}
