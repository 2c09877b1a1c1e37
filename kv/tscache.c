/*
 * tscache.c - the timestamp cache (contract in kv/tscache.h).
 *
 * Records are kept as read, not merged into disjoint pieces: one interval
 * tree, augmented with each subtree's greatest end and greatest timestamp,
 * holds them all, and a lookup visits only the overlapping records that can
 * still reach the best timestamp found so far. A FIFO list in insertion
 * order decides which records are the oldest when memory runs out.
 *
 * Record memory (one malloc per stored read):
 *
 *   | struct entry | start key bytes | end key bytes (absent for one key) |
 *
 * The tree bounds point into the record's own copy of the keys.
 */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/span_tree_int.h"
#include "kv/tscache.h"

struct entry {
    kv__span_node node;          /* first: a tree node is its entry */
    struct entry *older, *newer; /* the FIFO */
    struct entry *doomed;        /* scratch list while adding */
    size_t cost;
    bool has_txn;
    uint8_t txn_id[KV_TXN_ID_LEN];
    uint8_t keys[];
};

struct kv_tscache {
    pthread_mutex_t mu;
    kv__span_node *root;
    struct entry *oldest, *newest;
    size_t bytes, max_bytes;
    kv_ts low_water;
    uint64_t prio_state;
};

int kv_tscache_create(size_t max_bytes, kv_ts low_water, kv_tscache **out)
{
    if (max_bytes == 0)
        return KV_EINVAL;
    kv_tscache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return KV_ENOMEM;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return KV_ENOMEM;
    }
    c->max_bytes = max_bytes;
    c->low_water = low_water;
    *out = c;
    return 0;
}

static void entry_drop(kv_tscache *c, struct entry *e)
{
    kv__span_tree_remove(&c->root, &e->node);
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    c->bytes -= e->cost;
    free(e);
}

void kv_tscache_destroy(kv_tscache *c)
{
    if (c == NULL)
        return;
    for (struct entry *e = c->oldest, *next; e != NULL; e = next) {
        next = e->newer;
        free(e);
    }
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Copies a span into a new unlinked record; NULL on ENOMEM. */
static struct entry *entry_new(const void *start, size_t slen, const void *end, size_t elen,
                               kv_ts ts, const uint8_t *txn_id)
{
    size_t klen = slen + (end != NULL ? elen : 0);
    if (klen < slen || klen > SIZE_MAX - sizeof(struct entry))
        return NULL;
    struct entry *e = malloc(sizeof(*e) + klen);
    if (e == NULL)
        return NULL;
    *e = (struct entry){.cost = sizeof(*e) + klen, .has_txn = txn_id != NULL};
    if (txn_id != NULL)
        memcpy(e->txn_id, txn_id, KV_TXN_ID_LEN);
    if (slen > 0)
        memcpy(e->keys, start, slen);
    if (end != NULL && elen > 0)
        memcpy(e->keys + slen, end, elen);
    int rc = kv__span_bounds(e->keys, slen, end != NULL ? e->keys + slen : NULL, elen,
                             &e->node.start, &e->node.end);
    assert(rc == 0);
    (void)rc;
    e->node.ts = ts;
    return e;
}

static bool same_owner(const struct entry *a, const struct entry *b)
{
    if (a->has_txn != b->has_txn)
        return false;
    return !a->has_txn || memcmp(a->txn_id, b->txn_id, KV_TXN_ID_LEN) == 0;
}

/* Collects the records `fresh` makes irrelevant: inside its span and below
 * its ts (or at its ts for the same reader). Any span touching such a
 * record touches `fresh`, so no lookup can be decided by the record. */
static int dominated_visit(void *arg, kv__span_node *n)
{
    struct entry *fresh = arg, *old = (struct entry *)n;
    if (kv__bound_cmp(&old->node.start, &fresh->node.start) < 0 ||
        kv__bound_cmp(&old->node.end, &fresh->node.end) > 0)
        return 0;
    int c = kv_ts_cmp(old->node.ts, fresh->node.ts);
    if (c < 0 || (c == 0 && same_owner(old, fresh))) {
        old->doomed = fresh->doomed;
        fresh->doomed = old;
    }
    return 0;
}

/* Called with the lock held: drops the oldest records until the cache fits,
 * raising the low-water mark over what they knew. */
static void evict(kv_tscache *c)
{
    while (c->bytes > c->max_bytes) {
        struct entry *e = c->oldest;
        assert(e != NULL);
        if (kv_ts_cmp(e->node.ts, c->low_water) > 0)
            c->low_water = e->node.ts;
        entry_drop(c, e);
    }
}

static void insert(kv_tscache *c, struct entry *e)
{
    kv__span_tree_overlaps(c->root, &e->node.start, &e->node.end, NULL, dominated_visit, e);
    for (struct entry *d = e->doomed, *next; d != NULL; d = next) {
        next = d->doomed;
        entry_drop(c, d);
    }
    e->doomed = NULL;
    e->node.prio = kv__span_prio(&c->prio_state);
    kv__span_tree_insert(&c->root, &e->node);
    e->older = c->newest;
    if (c->newest != NULL)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
    c->bytes += e->cost;
    evict(c);
}

int kv_tscache_add(kv_tscache *c, const void *start, size_t slen, const void *end, size_t elen,
                   kv_ts ts, const uint8_t *txn_id)
{
    kv__bound s, e;
    if (kv_ts_is_zero(ts) || kv__span_bounds(start, slen, end, elen, &s, &e) != 0)
        return KV_EINVAL;
    /* Copy outside the lock; most reads are above the low-water mark. */
    struct entry *rec = entry_new(start, slen, end, elen, ts, txn_id);
    if (rec == NULL)
        return KV_ENOMEM;
    pthread_mutex_lock(&c->mu);
    if (kv_ts_cmp(ts, c->low_water) > 0) {
        insert(c, rec);
        rec = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    free(rec);
    return 0;
}

/* Folds one record into the answer: a higher ts replaces it, an equal ts
 * from a different reader leaves no single owner. */
static int max_visit(void *arg, kv__span_node *n)
{
    kv_tscache_value *best = arg;
    const struct entry *e = (const struct entry *)n;
    int c = kv_ts_cmp(e->node.ts, best->ts);
    if (c > 0) {
        best->ts = e->node.ts;
        best->has_txn = e->has_txn;
        memcpy(best->txn_id, e->txn_id, KV_TXN_ID_LEN);
    } else if (c == 0 && best->has_txn &&
               (!e->has_txn || memcmp(best->txn_id, e->txn_id, KV_TXN_ID_LEN) != 0)) {
        best->has_txn = false;
    }
    return 0;
}

int kv_tscache_lookup(kv_tscache *c, const void *start, size_t slen, const void *end, size_t elen,
                      kv_tscache_value *out)
{
    kv__bound s, e;
    if (kv__span_bounds(start, slen, end, elen, &s, &e) != 0)
        return KV_EINVAL;
    /* The low-water mark is the first candidate, owned by no transaction. */
    kv_tscache_value best = {0};
    pthread_mutex_lock(&c->mu);
    best.ts = c->low_water;
    kv__span_tree_overlaps(c->root, &s, &e, &best.ts, max_visit, &best);
    pthread_mutex_unlock(&c->mu);
    *out = best;
    return 0;
}

void kv_tscache_set_low_water(kv_tscache *c, kv_ts ts)
{
    pthread_mutex_lock(&c->mu);
    if (kv_ts_cmp(ts, c->low_water) > 0) {
        c->low_water = ts;
        for (struct entry *e = c->oldest, *next; e != NULL; e = next) {
            next = e->newer;
            if (kv_ts_cmp(e->node.ts, ts) <= 0)
                entry_drop(c, e);
        }
    }
    pthread_mutex_unlock(&c->mu);
}

kv_ts kv_tscache_low_water(kv_tscache *c)
{
    pthread_mutex_lock(&c->mu);
    kv_ts ts = c->low_water;
    pthread_mutex_unlock(&c->mu);
    return ts;
}

size_t kv_tscache_bytes(kv_tscache *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->bytes;
    pthread_mutex_unlock(&c->mu);
    return n;
}
