/*
 * dist.c - finding a range and its leaseholder anywhere in the cluster
 * (CockroachDB's DistSender, docs/kv.md "Routing").
 *
 * The range of a key is, in this order: a replica on this store that
 * holds the key, a cached descriptor of a range held elsewhere, or the
 * answer of the meta range (one Scan of the meta records, itself routed
 * like any read; the meta records live in the first range, which every
 * node knows from joining). A part of a batch goes to the node last seen
 * holding the range's lease, else to the replicas in turn; a replica that
 * is not the leaseholder answers KV_ENOTLEASEHOLDER with the holder (or the
 * Raft leader) and its descriptor, which become the next guess.
 *
 * A remote send that could not leave (KV_EUNREACHABLE: the node is down)
 * is retried elsewhere; one that left but got no answer (KV_EUNAVAILABLE)
 * too, except for a batch that may have committed there (an EndTxn, or
 * non-transactional writes): that outcome is ambiguous and goes back as
 * KV_EAMBIGUOUS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/kv_int.h"
#include "kv/store_int.h"

#define MAX_ATTEMPTS   120
#define MAX_BACKOFF_MS 200

/* ---- leaseholder guesses ------------------------------------------------------ */

static uint64_t guess_get(kv_store *s, uint64_t range_id)
{
    uint64_t node = 0;
    pthread_mutex_lock(&s->lh_mu);
    for (size_t i = 0; i < s->n_lh; i++) {
        if (s->lh_range[i] == range_id)
            node = s->lh_node[i];
    }
    pthread_mutex_unlock(&s->lh_mu);
    return node;
}

static void guess_set(kv_store *s, uint64_t range_id, uint64_t node)
{
    pthread_mutex_lock(&s->lh_mu);
    size_t i = 0;
    while (i < s->n_lh && s->lh_range[i] != range_id)
        i++;
    if (i == s->n_lh) {
        uint64_t *r = realloc(s->lh_range, (i + 1) * sizeof(*r));
        if (r != NULL)
            s->lh_range = r;
        uint64_t *nd = realloc(s->lh_node, (i + 1) * sizeof(*nd));
        if (nd != NULL)
            s->lh_node = nd;
        if (r == NULL || nd == NULL) {
            pthread_mutex_unlock(&s->lh_mu);
            return;
        }
        s->lh_range[i] = range_id;
        s->n_lh++;
    }
    s->lh_node[i] = node;
    pthread_mutex_unlock(&s->lh_mu);
}

/* ---- finding the range ---------------------------------------------------------- */

static kv__replica *local_by_id(kv_store *s, uint64_t range_id)
{
    kv__replica *r = NULL;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->n_ranges && r == NULL; i++) {
        if (s->ranges[i]->desc.range_id == range_id)
            r = s->ranges[i];
    }
    pthread_rwlock_unlock(&s->lock);
    return r;
}

static bool holds(const kv_range_desc *d, const void *key, size_t klen, bool before)
{
    if (!before)
        return kv_range_contains(d, key, klen);
    return kv__key_cmp(d->start_key, d->start_len, key, klen) < 0 &&
           (d->end_len == 0 || kv__key_cmp(key, klen, d->end_key, d->end_len) <= 0);
}

static bool is_meta_key(const void *key, size_t klen)
{
    const uint8_t *k = key;
    return klen >= 2 && k[0] == 0 && (k[1] == 1 || k[1] == 2);
}

/* Reads the meta record of the range holding `key` (or, with `before`,
 * the greatest key below it) and caches it. */
static int meta_lookup(kv_store *s, const void *key, size_t klen, bool before, kv_arena *a,
                       kv_range_desc *out)
{
    if (is_meta_key(key, klen))
        return KV_ENOTFOUND; /* the first range must be known already */
    uint8_t *start = kv_arena_alloc(a, klen + 3);
    if (start == NULL)
        return KV_ENOMEM;
    memcpy(start, KV_META_PREFIX, 2);
    memcpy(start + 2, key, klen);
    start[klen + 2] = 0; /* forward: ranges whose end is above key */
    static const uint8_t end[3] = {0, 2, 0};
    kv_req q = {.method = KV_SCAN,
                .span = {start, klen + (before ? 2 : 3), end, sizeof(end)},
                .u.scan = {.max_rows = 1}};
    kv_request req;
    kv_response resp;
    int rc = kv_request_init(&req);
    if (rc != 0)
        return rc;
    if ((rc = kv_response_init(&resp)) == 0) {
        rc = kv_request_add(&req, &q);
        if (rc == 0)
            rc = kv_store_send(s, &req, &resp);
        if (rc == 0 && resp.resps[0].n_rows == 0)
            rc = KV_ENOTFOUND;
        if (rc == 0)
            rc = kv__desc_decode(resp.resps[0].rows[0].value, resp.resps[0].rows[0].value_len, a,
                                 out);
        kv_response_free(&resp);
    }
    kv_request_free(&req);
    if (rc == 0)
        rc = kv_store_cache_desc(s, out);
    return rc;
}

int kv__route_lookup(kv_store *s, const void *key, size_t klen, bool before, kv_arena *a,
                     kv_range_desc *out, kv__replica **local)
{
    kv__replica *r = kv__store_replica_for(s, key, klen, before);
    if (r != NULL && holds(&r->desc, key, klen, before)) {
        *local = r;
        return kv__replica_desc(r, a, out);
    }
    *local = NULL;
    int rc = kv__store_cached(s, key, klen, before, a, out);
    if (rc == KV_ENOTFOUND && s->node != NULL)
        rc = meta_lookup(s, key, klen, before, a, out);
    return rc;
}

/* ---- sending to the leaseholder ---------------------------------------------------- */

static bool may_have_committed(const kv_request *req)
{
    for (size_t i = 0; i < req->n; i++) {
        kv_method m = req->reqs[i].method;
        if (m == KV_END_TXN || (req->h.txn == NULL && kv__method_writes(m)))
            return true;
    }
    return false;
}

static uint64_t next_replica(const kv_range_desc *d, uint64_t after)
{
    if (d->n_replicas == 0)
        return 0;
    for (uint32_t i = 0; i < d->n_replicas; i++) {
        if (d->replicas[i].node_id == after)
            return d->replicas[(i + 1) % d->n_replicas].node_id;
    }
    return d->replicas[0].node_id;
}

static void backoff(int attempt)
{
    int ms = attempt < 4 ? 5 << attempt : MAX_BACKOFF_MS;
    if (ms > MAX_BACKOFF_MS)
        ms = MAX_BACKOFF_MS;
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* One attempt at node `target`. A remote transaction gets no observed
 * timestamp: ours is a reading of this node's clock, not of the target's. */
static int send_once(kv_store *s, uint64_t target, uint64_t range_id, const kv_request *sub,
                     kv_response *sr)
{
    if (target == s->opts.node_id) {
        kv__replica *r = local_by_id(s, range_id);
        return r != NULL ? kv__replica_send(r, sub, sr) : KV_ERANGENOTFOUND;
    }
    if (s->remote.send == NULL)
        return KV_ERANGENOTFOUND;
    kv_request copy = *sub;
    kv_txn txn;
    if (sub->h.txn != NULL) {
        txn = *sub->h.txn;
        txn.observed_ts = (kv_ts){0, 0};
        copy.h.txn = &txn;
    }
    int rc = s->remote.send(s->remote.arg, target, &copy, sr);
    if (rc == 0 || sr->has_txn)
        (void)kv_hlc_update(s->hlc, sr->has_txn ? sr->txn.write_ts : sr->ts, NULL);
    return rc;
}

static void reset_response(kv_response *sr)
{
    kv_arena *a = sr->arena;
    memset(sr, 0, sizeof(*sr));
    sr->arena = a;
}

int kv__route_send(kv_store *s, const kv_range_desc *desc, kv__replica *local,
                   const kv_request *sub, kv_response *sr)
{
    if (s->node == NULL && local != NULL)
        return kv__replica_send(local, sub, sr); /* no replication: ours alone */
    kv_range_desc d = *desc;
    uint64_t target = guess_get(s, d.range_id);
    if (target == 0)
        target = local != NULL ? s->opts.node_id : next_replica(&d, 0);
    int rc = KV_EUNAVAILABLE;
    for (int attempt = 0, waits = 0; attempt < MAX_ATTEMPTS && target != 0; attempt++) {
        reset_response(sr);
        rc = send_once(s, target, d.range_id, sub, sr);
        if (rc == KV_EUNAVAILABLE && guess_get(s, d.range_id) == target)
            guess_set(s, d.range_id, 0); /* else every later batch goes there first */
        if (rc == KV_EUNAVAILABLE && may_have_committed(sub))
            return sr->err = KV_EAMBIGUOUS;
        if (rc != KV_ENOTLEASEHOLDER && rc != KV_ERANGENOTFOUND && rc != KV_EUNAVAILABLE &&
            rc != KV_EUNREACHABLE) {
            if (rc == 0)
                guess_set(s, d.range_id, target);
            return rc;
        }
        uint64_t hint = rc == KV_ENOTLEASEHOLDER ? sr->detail.leaseholder : 0;
        if (rc == KV_ENOTLEASEHOLDER && sr->detail.desc.range_id == d.range_id &&
            sr->detail.desc.generation >= d.generation && sr->detail.desc.n_replicas > 0) {
            d.n_replicas = sr->detail.desc.n_replicas;
            memcpy(d.replicas, sr->detail.desc.replicas, sizeof(d.replicas));
            if (local == NULL)
                (void)kv_store_cache_desc(s, &sr->detail.desc);
        }
        uint64_t next = hint != 0 && hint != target ? hint : next_replica(&d, target);
        if (hint == 0 || hint == target || next == target)
            backoff(waits++);
        target = next;
    }
    if (rc == KV_ENOTLEASEHOLDER || rc == KV_ERANGENOTFOUND || rc == KV_EUNREACHABLE)
        rc = KV_EUNAVAILABLE;
    snprintf(sr->msg, sizeof(sr->msg), "range r%llu: no leaseholder reachable",
             (unsigned long long)d.range_id);
    return sr->err = rc;
}
