/*
 * latch.c - the latch manager (contract in kv/latch.h).
 *
 * Every latch of every live request (granted or pending) sits in one of two
 * interval trees, one per access, so a read searches only the write tree and
 * a write searches both. A new request finds its conflicting predecessors
 * there and records one waits-for edge per distinct predecessor; the edge is
 * linked into the predecessor's list of dependents. A request's
 * `waiting_for` counts its live edges: when the predecessor releases or is
 * canceled it drops its dependents' counts, granting exactly those that
 * reach zero. Since edges only point at earlier requests, no cycle, hence
 * no deadlock, can form.
 *
 * Guard memory (one malloc per request):
 *
 *   | struct kv_latch_guard | latches[n] | padding | edges[k] |
 *
 * k is only known after searching the trees, so acquisition searches twice
 * under the lock: once to count distinct predecessors, once to link edges.
 * A predecessor is counted once per search by stamping its `mark` with a
 * value unique to that search.
 */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "kv/kv_int.h"
#include "kv/latch.h"
#include "kv/span_tree_int.h"

enum guard_state { GUARD_PENDING, GUARD_GRANTED, GUARD_CANCELED };

struct latch {
    kv__span_node node; /* first: a tree node is its latch */
    kv_latch_access access;
    kv_latch_guard *guard;
};

/* `waiter` waits for `blocker`; lives in the waiter's allocation. */
struct edge {
    kv_latch_guard *waiter;
    kv_latch_guard *blocker;  /* NULL once the blocker has finished */
    struct edge *prev, *next; /* in blocker->dependents */
};

struct kv_latch_guard {
    kv_latch_mgr *mgr;
    enum guard_state state;
    uint64_t mark;
    size_t waiting_for;
    struct edge *dependents;
    kv_latch_cb cb;
    void *arg;
    pthread_cond_t cond;
    size_t nedges;
    struct edge *edges;
    size_t nlatches;
    struct latch latches[];
};

struct kv_latch_mgr {
    pthread_mutex_t mu;
    kv__span_node *trees[2]; /* indexed by kv_latch_access */
    uint64_t seq;
    uint64_t prio_state;
    size_t nguards;
};

/* The tree bounds of a declared span, borrowing its keys; KV_EINVAL for an
 * empty span (only check_spans() can see one). */
static int span_bounds(const kv_latch_span *sp, kv__bound *s, kv__bound *e)
{
    return kv__span_bounds(sp->start, sp->start_len, sp->end, sp->end_len, s, e);
}

/* One search of the trees for the predecessors conflicting with `span`. */
struct scan {
    const kv_latch_span *span;
    uint64_t mark;
    kv_latch_guard *waiter; /* NULL while only counting */
    size_t count;
};

int kv_latch_mgr_create(kv_latch_mgr **out)
{
    kv_latch_mgr *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return KV_ENOMEM;
    if (pthread_mutex_init(&m->mu, NULL) != 0) {
        free(m);
        return KV_ENOMEM;
    }
    *out = m;
    return 0;
}

void kv_latch_mgr_destroy(kv_latch_mgr *m)
{
    if (m == NULL)
        return;
    assert(m->nguards == 0);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* The MVCC rule: a write above a read's timestamp is invisible to it. */
static bool read_write_conflict(kv_ts read, kv_ts write)
{
    return kv_ts_is_zero(read) || kv_ts_is_zero(write) || kv_ts_cmp(write, read) <= 0;
}

static bool conflicts(const kv_latch_span *span, const struct latch *l)
{
    assert(span->access == KV_LATCH_WRITE || l->access == KV_LATCH_WRITE);
    if (span->access == KV_LATCH_WRITE && l->access == KV_LATCH_WRITE)
        return true;
    if (span->access == KV_LATCH_READ)
        return read_write_conflict(span->ts, l->node.ts);
    return read_write_conflict(l->node.ts, span->ts);
}

static void edge_link(struct edge *e, kv_latch_guard *waiter, kv_latch_guard *blocker)
{
    *e = (struct edge){.waiter = waiter, .blocker = blocker, .next = blocker->dependents};
    if (blocker->dependents != NULL)
        blocker->dependents->prev = e;
    blocker->dependents = e;
    waiter->waiting_for++;
}

static int scan_visit(void *arg, kv__span_node *n)
{
    struct scan *sc = arg;
    struct latch *l = (struct latch *)n;
    if (l->guard->mark == sc->mark || !conflicts(sc->span, l))
        return 0;
    l->guard->mark = sc->mark;
    if (sc->waiter != NULL)
        edge_link(&sc->waiter->edges[sc->count], sc->waiter, l->guard);
    sc->count++;
    return 0;
}

/* Searches for the predecessors of all `spans`; with a non-NULL waiter,
 * links its edges to them. Returns how many distinct ones there are. */
static size_t scan_spans(kv_latch_mgr *m, const kv_latch_span *spans, size_t n, uint64_t mark,
                         kv_latch_guard *waiter)
{
    struct scan sc = {.mark = mark, .waiter = waiter};
    for (size_t i = 0; i < n; i++) {
        kv__bound s, e;
        span_bounds(&spans[i], &s, &e);
        sc.span = &spans[i];
        kv__span_tree_overlaps(m->trees[KV_LATCH_WRITE], &s, &e, NULL, scan_visit, &sc);
        if (spans[i].access == KV_LATCH_WRITE)
            kv__span_tree_overlaps(m->trees[KV_LATCH_READ], &s, &e, NULL, scan_visit, &sc);
    }
    return sc.count;
}

static int check_spans(const kv_latch_span *spans, size_t n)
{
    if (n == 0)
        return KV_EINVAL;
    for (size_t i = 0; i < n; i++) {
        kv__bound s, e;
        if ((spans[i].access != KV_LATCH_READ && spans[i].access != KV_LATCH_WRITE) ||
            span_bounds(&spans[i], &s, &e) != 0)
            return KV_EINVAL;
    }
    return 0;
}

/* Allocates a guard with room for n latches and k edges; NULL on ENOMEM. */
static kv_latch_guard *guard_alloc(size_t n, size_t k)
{
    const size_t align = _Alignof(struct edge);
    if (n > SIZE_MAX / 4 / sizeof(struct latch) || k > SIZE_MAX / 4 / sizeof(struct edge))
        return NULL;
    size_t edges_off = sizeof(kv_latch_guard) + n * sizeof(struct latch);
    edges_off = (edges_off + align - 1) / align * align;
    kv_latch_guard *g = malloc(edges_off + k * sizeof(struct edge));
    if (g == NULL)
        return NULL;
    *g = (kv_latch_guard){.nlatches = n, .nedges = k};
    g->edges = (struct edge *)((char *)g + edges_off);
    return g;
}

static void guard_insert_latches(kv_latch_mgr *m, kv_latch_guard *g, const kv_latch_span *spans)
{
    for (size_t i = 0; i < g->nlatches; i++) {
        struct latch *l = &g->latches[i];
        *l = (struct latch){.access = spans[i].access, .guard = g};
        span_bounds(&spans[i], &l->node.start, &l->node.end);
        l->node.ts = spans[i].ts;
        l->node.prio = kv__span_prio(&m->prio_state);
        kv__span_tree_insert(&m->trees[l->access], &l->node);
    }
}

/* Called with the lock held: the request leaves the pending state. */
static void guard_finish(kv_latch_guard *g, int status)
{
    assert(g->state == GUARD_PENDING && g->waiting_for == 0);
    g->state = status == 0 ? GUARD_GRANTED : GUARD_CANCELED;
    if (g->cb != NULL)
        g->cb(g->arg, status);
    pthread_cond_signal(&g->cond);
}

/* Called with the lock held: removes g's latches and its own edges, and
 * grants the dependents for which g was the last predecessor. */
static void guard_withdraw(kv_latch_mgr *m, kv_latch_guard *g)
{
    for (size_t i = 0; i < g->nlatches; i++)
        kv__span_tree_remove(&m->trees[g->latches[i].access], &g->latches[i].node);
    for (size_t i = 0; i < g->nedges; i++) {
        struct edge *e = &g->edges[i];
        if (e->blocker == NULL)
            continue;
        if (e->prev != NULL)
            e->prev->next = e->next;
        else
            e->blocker->dependents = e->next;
        if (e->next != NULL)
            e->next->prev = e->prev;
        e->blocker = NULL;
    }
    g->waiting_for = 0;
    for (struct edge *e = g->dependents; e != NULL; e = e->next) {
        kv_latch_guard *w = e->waiter;
        e->blocker = NULL;
        assert(w->state == GUARD_PENDING && w->waiting_for > 0);
        if (--w->waiting_for == 0)
            guard_finish(w, 0);
    }
    g->dependents = NULL;
}

int kv_latch_acquire(kv_latch_mgr *m, const kv_latch_span *spans, size_t n, kv_latch_cb cb,
                     void *arg, kv_latch_guard **out, bool *pending)
{
    int rc = check_spans(spans, n);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&m->mu);
    uint64_t seq = ++m->seq;
    size_t k = scan_spans(m, spans, n, 2 * seq, NULL);
    kv_latch_guard *g = guard_alloc(n, k);
    if (g == NULL) {
        rc = KV_ENOMEM;
        goto out_unlock;
    }
    if (pthread_cond_init(&g->cond, NULL) != 0) {
        rc = KV_ENOMEM;
        goto out_free_guard;
    }
    g->mgr = m;
    g->cb = cb;
    g->arg = arg;
    size_t linked = scan_spans(m, spans, n, 2 * seq + 1, g);
    assert(linked == k && g->waiting_for == k);
    (void)linked;
    guard_insert_latches(m, g, spans);
    g->state = k == 0 ? GUARD_GRANTED : GUARD_PENDING;
    m->nguards++;
    *out = g;
    *pending = k != 0;
    pthread_mutex_unlock(&m->mu);
    return 0;

out_free_guard:
    free(g);
out_unlock:
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int kv_latch_wait(kv_latch_guard *g)
{
    kv_latch_mgr *m = g->mgr;
    pthread_mutex_lock(&m->mu);
    while (g->state == GUARD_PENDING)
        pthread_cond_wait(&g->cond, &m->mu);
    int rc = g->state == GUARD_GRANTED ? 0 : KV_ECANCELED;
    pthread_mutex_unlock(&m->mu);
    return rc;
}

bool kv_latch_cancel(kv_latch_guard *g)
{
    kv_latch_mgr *m = g->mgr;
    pthread_mutex_lock(&m->mu);
    bool canceled = g->state == GUARD_PENDING;
    if (canceled) {
        guard_withdraw(m, g);
        guard_finish(g, KV_ECANCELED);
    }
    pthread_mutex_unlock(&m->mu);
    return canceled;
}

void kv_latch_release(kv_latch_guard *g)
{
    kv_latch_mgr *m = g->mgr;
    pthread_mutex_lock(&m->mu);
    if (g->state != GUARD_CANCELED)
        guard_withdraw(m, g);
    assert(m->nguards > 0);
    m->nguards--;
    pthread_mutex_unlock(&m->mu);
    pthread_cond_destroy(&g->cond);
    free(g);
}
