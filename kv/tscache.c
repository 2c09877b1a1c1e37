/*
 * tscache.c - the timestamp cache (contract in kv/tscache.h).
 *
 * Two kinds of record, because reads come in two shapes and writes ask
 * about one key at a time:
 *
 *   - a read of one key is a *point* record in a hash table keyed by the
 *     key's bytes (XXH3). Each key has at most one: a newer read of the key
 *     replaces the record's timestamp and reader in place, so point reads
 *     cost a hash probe instead of three tree descents;
 *   - a read of a span is a *span* record in an interval tree, augmented
 *     with each subtree's greatest end and greatest timestamp; a record
 *     covered by a later one at a higher timestamp (or the same timestamp
 *     and reader) is dropped when the later one arrives.
 *
 * A lookup of key k folds the low-water mark, k's point record and every
 * span record containing k. One FIFO list over both kinds, in the order of
 * their last change, decides which records are the oldest when memory runs
 * out.
 *
 * Record memory (one malloc per stored record):
 *
 *   | struct entry | start key bytes | end key bytes (span records only) |
 *
 * A span record's tree bounds point into its own copy of the keys.
 */
#include <assert.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "kv/kv_int.h"
#include "kv/span_tree_int.h"
#include "kv/tscache.h"

/* Point buckets at creation; the table doubles when it holds as many
 * records as buckets. */
#define MIN_BUCKETS 64

struct entry {
    kv__span_node node;          /* first: a tree node is its entry */
    struct entry *older, *newer; /* the FIFO */
    struct entry *next;          /* point: the bucket chain; span: scratch while adding */
    uint64_t hash;               /* point records */
    size_t cost;
    bool point;
    bool has_txn;
    uint8_t txn_id[KV_TXN_ID_LEN];
    uint8_t keys[];
};

struct kv_tscache {
    pthread_mutex_t mu;
    kv__span_node *root;    /* span records */
    struct entry **buckets; /* point records */
    size_t nbuckets, npoints;
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
    c->buckets = calloc(MIN_BUCKETS, sizeof(*c->buckets));
    if (c->buckets == NULL)
        goto free_cache;
    if (pthread_mutex_init(&c->mu, NULL) != 0)
        goto free_buckets;
    c->nbuckets = MIN_BUCKETS;
    c->max_bytes = max_bytes;
    c->low_water = low_water;
    *out = c;
    return 0;
free_buckets:
    free(c->buckets);
free_cache:
    free(c);
    return KV_ENOMEM;
}

static struct entry **bucket_of(kv_tscache *c, uint64_t hash)
{
    return &c->buckets[hash & (c->nbuckets - 1)];
}

/* Where the chain holds `e` (a point record in the table). */
static struct entry **chain_link(kv_tscache *c, const struct entry *e)
{
    struct entry **p = bucket_of(c, e->hash);
    while (*p != e) {
        assert(*p != NULL);
        p = &(*p)->next;
    }
    return p;
}

static void fifo_unlink(kv_tscache *c, struct entry *e)
{
    if (e->older != NULL)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer != NULL)
        e->newer->older = e->older;
    else
        c->newest = e->older;
}

static void fifo_push(kv_tscache *c, struct entry *e)
{
    e->newer = NULL;
    e->older = c->newest;
    if (c->newest != NULL)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
}

static void entry_drop(kv_tscache *c, struct entry *e)
{
    if (e->point) {
        struct entry **p = chain_link(c, e);
        *p = e->next;
        c->npoints--;
    } else {
        kv__span_tree_remove(&c->root, &e->node);
    }
    fifo_unlink(c, e);
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
    free(c->buckets);
    free(c);
}

static void set_owner(struct entry *e, const uint8_t *txn_id)
{
    e->has_txn = txn_id != NULL;
    if (txn_id != NULL)
        memcpy(e->txn_id, txn_id, KV_TXN_ID_LEN);
}

/* Copies a read into a new unlinked record; NULL on ENOMEM. */
static struct entry *entry_new(const void *start, size_t slen, const void *end, size_t elen,
                               kv_ts ts, const uint8_t *txn_id)
{
    size_t klen = slen + (end != NULL ? elen : 0);
    if (klen < slen || klen > SIZE_MAX - sizeof(struct entry))
        return NULL;
    struct entry *e = malloc(sizeof(*e) + klen);
    if (e == NULL)
        return NULL;
    *e = (struct entry){.cost = sizeof(*e) + klen, .point = end == NULL};
    set_owner(e, txn_id);
    if (slen > 0)
        memcpy(e->keys, start, slen);
    if (end != NULL && elen > 0)
        memcpy(e->keys + slen, end, elen);
    int rc = kv__span_bounds(e->keys, slen, end != NULL ? e->keys + slen : NULL, elen,
                             &e->node.start, &e->node.end);
    assert(rc == 0);
    (void)rc;
    e->node.ts = ts;
    if (e->point)
        e->hash = XXH3_64bits(start, slen);
    return e;
}

static bool same_owner(const struct entry *a, const struct entry *b)
{
    if (a->has_txn != b->has_txn)
        return false;
    return !a->has_txn || memcmp(a->txn_id, b->txn_id, KV_TXN_ID_LEN) == 0;
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

static void account(kv_tscache *c, struct entry *e)
{
    fifo_push(c, e);
    c->bytes += e->cost;
    evict(c);
}

/* Doubles the point table; on ENOMEM it stays as it is (longer chains). */
static void grow(kv_tscache *c)
{
    size_t n = c->nbuckets * 2;
    struct entry **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (struct entry *e = c->buckets[i], *next; e != NULL; e = next) {
            next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static struct entry *point_find(kv_tscache *c, const void *key, size_t len, uint64_t hash)
{
    for (struct entry *e = *bucket_of(c, hash); e != NULL; e = e->next)
        if (e->hash == hash && e->node.start.len == len && memcmp(e->keys, key, len) == 0)
            return e;
    return NULL;
}

/* Folds `fresh` into the key's record. The key keeps one record with the
 * greater timestamp; at equal timestamps the owner survives only if both
 * reads were its own. Returns whether `fresh` was consumed (linked). */
static bool insert_point(kv_tscache *c, struct entry *fresh)
{
    struct entry *old = point_find(c, fresh->keys, fresh->node.start.len, fresh->hash);
    if (old == NULL) {
        if (c->npoints >= c->nbuckets)
            grow(c);
        struct entry **b = bucket_of(c, fresh->hash);
        fresh->next = *b;
        *b = fresh;
        c->npoints++;
        account(c, fresh);
        return true;
    }
    int cmp = kv_ts_cmp(fresh->node.ts, old->node.ts);
    if (cmp < 0)
        return false;
    if (cmp > 0) {
        old->node.ts = fresh->node.ts;
        old->has_txn = fresh->has_txn;
        memcpy(old->txn_id, fresh->txn_id, KV_TXN_ID_LEN);
    } else if (!same_owner(old, fresh)) {
        old->has_txn = false;
    }
    /* Changed, it is now the newest record: the last to be evicted. */
    fifo_unlink(c, old);
    fifo_push(c, old);
    return false;
}

/* Collects the span records `fresh` makes irrelevant: inside its span and
 * below its ts (or at its ts for the same reader). Any key such a record
 * covers is covered by `fresh`, so no lookup can be decided by the record. */
static int dominated_visit(void *arg, kv__span_node *n)
{
    struct entry *fresh = arg, *old = (struct entry *)n;
    if (kv__bound_cmp(&old->node.start, &fresh->node.start) < 0 ||
        kv__bound_cmp(&old->node.end, &fresh->node.end) > 0)
        return 0;
    int c = kv_ts_cmp(old->node.ts, fresh->node.ts);
    if (c < 0 || (c == 0 && same_owner(old, fresh))) {
        old->next = fresh->next;
        fresh->next = old;
    }
    return 0;
}

/* Links a span record; returns true (it is always consumed). */
static bool insert_span(kv_tscache *c, struct entry *e)
{
    kv__span_tree_overlaps(c->root, &e->node.start, &e->node.end, NULL, dominated_visit, e);
    for (struct entry *d = e->next, *next; d != NULL; d = next) {
        next = d->next;
        entry_drop(c, d);
    }
    e->next = NULL;
    e->node.prio = kv__span_prio(&c->prio_state);
    kv__span_tree_insert(&c->root, &e->node);
    account(c, e);
    return true;
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
    if (kv_ts_cmp(ts, c->low_water) > 0 &&
        (rec->point ? insert_point(c, rec) : insert_span(c, rec)))
        rec = NULL;
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

int kv_tscache_lookup(kv_tscache *c, const void *key, size_t klen, kv_tscache_value *out)
{
    kv__bound s, e;
    int rc = kv__span_bounds(key, klen, NULL, 0, &s, &e);
    assert(rc == 0); /* a single key is never empty */
    (void)rc;
    uint64_t hash = XXH3_64bits(key, klen);
    /* The low-water mark is the first candidate, owned by no transaction. */
    kv_tscache_value best = {0};
    pthread_mutex_lock(&c->mu);
    best.ts = c->low_water;
    struct entry *p = point_find(c, key, klen, hash);
    if (p != NULL)
        max_visit(&best, &p->node);
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
