/*
 * replica.c - one range's replica: its latches and timestamp cache, and
 * the request path through them (docs/kv.md, "Evaluation and
 * application"):
 *
 *   kv__replica_send
 *     check keys against the descriptor      -> KV_ERANGEKEYMISMATCH
 *     acquire latches (blocking)
 *     evaluate -> kv__cmd (write batch + side effects)   [kv__eval_batch]
 *     kv__replica_apply(cmd)                  <- Raft goes here later
 *     record reads in the timestamp cache, release latches
 *     resolve the finished transaction's intents on other ranges
 *
 * Evaluation is retried at a higher timestamp when a write must move up
 * (above a read in the timestamp cache or a newer version); the latches
 * are kept, so the retry sees the same state.
 *
 * Evaluation meeting another transaction's intent (KV_EWRITEINTENT)
 * releases the latches, pushes that transaction and resolves the intent
 * (kv__push_intent, which may wait), then evaluates the batch again from
 * scratch. An intent names its transaction's anchor and priority, so
 * whoever meets it can reach the record without asking this store.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/node_int.h"
#include "kv/store_int.h"

int kv__replica_create(kv_store *s, const kv_range_desc *desc, kv__replica **out)
{
    kv__replica *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return KV_ENOMEM;
    r->store = s;
    int rc = KV_ENOMEM;
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        goto out_free_replica;
    rc = kv_arena_create(&r->arena);
    if (rc != 0)
        goto out_destroy_mu;
    rc = kv__desc_copy(r->arena, desc, &r->desc);
    if (rc != 0)
        goto out_destroy_arena;
    rc = kv_latch_mgr_create(&r->latches);
    if (rc != 0)
        goto out_destroy_arena;
    rc = kv_tscache_create(s->opts.tscache_bytes, (kv_ts){0, 0}, &r->tscache);
    if (rc != 0)
        goto out_destroy_latches;
    *out = r;
    return 0;

out_destroy_latches:
    kv_latch_mgr_destroy(r->latches);
out_destroy_arena:
    kv_arena_destroy(r->arena);
out_destroy_mu:
    pthread_mutex_destroy(&r->mu);
out_free_replica:
    free(r);
    return rc;
}

void kv__replica_destroy(kv__replica *r)
{
    kv_tscache_destroy(r->tscache);
    kv_latch_mgr_destroy(r->latches);
    kv_arena_destroy(r->arena);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int kv__replica_desc(kv__replica *r, kv_arena *a, kv_range_desc *out)
{
    pthread_mutex_lock(&r->mu);
    int rc = kv__desc_copy(a, &r->desc, out);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int kv__eval_errf(kv__eval *e, size_t i, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->resp->msg, sizeof(e->resp->msg), fmt, ap);
    va_end(ap);
    e->resp->detail.index = i;
    return code;
}

bool kv__method_writes(kv_method m)
{
    switch (m) {
    case KV_PUT:
    case KV_CPUT:
    case KV_INCREMENT:
    case KV_DELETE:
    case KV_DELETE_RANGE:
        return true;
    default:
        return false;
    }
}

/* Whether key x lies below the end of span s (a single key k ends at k\0). */
static bool below_end(const uint8_t *x, size_t xlen, const kv_span *s)
{
    if (s->end_key == NULL)
        return kv__key_cmp(x, xlen, s->key, s->key_len) <= 0;
    return kv__key_cmp(x, xlen, s->end_key, s->end_len) < 0;
}

static bool spans_overlap(const kv_span *a, const kv_span *b)
{
    return below_end(a->key, a->key_len, b) && below_end(b->key, b->key_len, a);
}

kv_span kv__route_span(const kv_request *req, const kv_req *q)
{
    if (q->method != KV_END_TXN)
        return q->span;
    if (req->h.txn == NULL)
        return (kv_span){0};
    return (kv_span){.key = req->h.txn->anchor_key, .key_len = req->h.txn->anchor_len};
}

bool kv__desc_has_span(const kv_range_desc *d, const kv_span *s)
{
    if (!kv_range_contains(d, s->key, s->key_len))
        return false;
    return s->end_key == NULL || d->end_len == 0 ||
           kv__key_cmp(s->end_key, s->end_len, d->end_key, d->end_len) <= 0;
}

static int mismatch(kv__eval *e, size_t i, const kv_span *s)
{
    kv__replica *owner = kv__store_replica_for(e->r->store, s->key, s->key_len, false);
    if (owner == NULL)
        owner = e->r;
    if (kv__desc_copy(e->resp->arena, &owner->desc, &e->resp->detail.desc) != 0)
        return KV_ENOMEM;
    return kv__eval_errf(e, i, KV_ERANGEKEYMISMATCH, "request %zu is outside range r%llu", i,
                         (unsigned long long)e->r->desc.range_id);
}

/* Checks that every request lies in the range and that no request touches
 * a key an earlier one writes: MVCC writes go into one batch that is not
 * read back, so such requests must be sent in separate batches. */
static int check_batch(kv__eval *e)
{
    const kv_request *req = e->req;
    for (size_t i = 0; i < req->n; i++) {
        kv_span s = kv__route_span(req, &req->reqs[i]);
        if (s.key != NULL && !kv__desc_has_span(&e->r->desc, &s))
            return mismatch(e, i, &s);
        if (req->reqs[i].method == KV_END_TXN && i + 1 != req->n)
            return kv__eval_errf(e, i, KV_EINVAL, "EndTxn must be the last request");
        if (e->is_txn && e->txn.anchor_key == NULL && kv__method_writes(req->reqs[i].method))
            return kv__eval_errf(e, i, KV_EINVAL, "transactional write without an anchor key");
        for (size_t j = 0; j < i; j++) {
            if (kv__method_writes(req->reqs[j].method) &&
                spans_overlap(&req->reqs[j].span, &req->reqs[i].span))
                return kv__eval_errf(e, i, KV_EINVAL, "request %zu overlaps a write of request %zu",
                                     i, j);
        }
    }
    return 0;
}

/* EndTxn writes its record and resolves the intents of its lock spans, at
 * no particular timestamp. Appends to spans[*n]. */
static int end_txn_latches(kv__eval *e, const kv_req *end, kv_latch_span *spans, size_t *n)
{
    kv_ts zero = {0, 0};
    for (size_t i = 0; i < end->u.end_txn.n_lock_spans; i++) {
        const kv_span *s = &end->u.end_txn.lock_spans[i];
        spans[(*n)++] =
            (kv_latch_span){s->key, s->key_len, s->end_key, s->end_len, KV_LATCH_WRITE, zero};
    }
    if (!e->is_txn || e->txn.anchor_key == NULL)
        return 0;
    kv_buf key = {0};
    int rc = kv__txn_record_key(&key, e->txn.anchor_key, e->txn.anchor_len, e->txn.meta.id);
    const void *copy = rc == 0 ? kv_arena_dup(e->resp->arena, key.data, key.len) : NULL;
    spans[(*n)++] = (kv_latch_span){copy, key.len, NULL, 0, KV_LATCH_WRITE, zero};
    kv_buf_free(&key);
    return copy == NULL ? KV_ENOMEM : 0;
}

static bool is_record_request(kv_method m)
{
    return m == KV_PUSH_TXN || m == KV_QUERY_TXN || m == KV_HEARTBEAT_TXN;
}

/* PushTxn, QueryTxn and HeartbeatTxn touch only a transaction record: they
 * latch its key (at no timestamp, like EndTxn), not the anchor user key
 * their span names for routing. */
static int record_latch(kv__eval *e, const kv_req *q, kv_latch_span *l)
{
    kv_buf key = {0};
    int rc = kv__txn_request_record_key(e, q, &key);
    const void *copy = rc == 0 ? kv_arena_dup(e->resp->arena, key.data, key.len) : NULL;
    kv_latch_access access = q->method == KV_QUERY_TXN ? KV_LATCH_READ : KV_LATCH_WRITE;
    *l = (kv_latch_span){copy, key.len, NULL, 0, access, (kv_ts){0, 0}};
    kv_buf_free(&key);
    if (rc == KV_EINVAL)
        return kv__eval_errf(e, 0, rc, "HeartbeatTxn outside a transaction");
    return rc != 0 ? rc : copy == NULL ? KV_ENOMEM : 0;
}

/* Declares the latches of the batch. A non-transactional batch that writes
 * latches at timestamp zero (everything conflicts) because its timestamp
 * may still move up, which would otherwise let a write land under a read
 * running beside it. */
static int latch_spans(kv__eval *e, kv_latch_span **out, size_t *n)
{
    const kv_request *req = e->req;
    bool writes = false;
    for (size_t i = 0; i < req->n; i++)
        writes |= kv__method_writes(req->reqs[i].method);
    size_t max = req->n + 1;
    const kv_req *last = &req->reqs[req->n - 1];
    if (last->method == KV_END_TXN)
        max += last->u.end_txn.n_lock_spans;
    kv_latch_span *spans = kv_arena_alloc(e->resp->arena, max * sizeof(*spans));
    if (spans == NULL)
        return KV_ENOMEM;
    kv_ts zero = {0, 0};
    kv_ts read_ts = e->is_txn ? e->txn.read_ts : writes ? zero : e->ts;
    kv_ts write_ts = e->is_txn ? e->txn.write_ts : zero;
    size_t k = 0;
    for (size_t i = 0; i < req->n; i++) {
        const kv_req *q = &req->reqs[i];
        kv_latch_span *l = &spans[k];
        *l = (kv_latch_span){q->span.key,     q->span.key_len, q->span.end_key,
                             q->span.end_len, KV_LATCH_READ,   read_ts};
        if (q->method == KV_END_TXN)
            continue;
        k++;
        if (is_record_request(q->method)) {
            int rc = record_latch(e, q, l);
            if (rc != 0)
                return rc;
        } else if (kv__method_writes(q->method)) {
            l->access = KV_LATCH_WRITE;
            l->ts = write_ts;
        } else if (q->method == KV_RESOLVE_INTENT) {
            l->access = KV_LATCH_WRITE;
            l->ts = zero;
        }
    }
    *n = k;
    *out = spans;
    return last->method == KV_END_TXN ? end_txn_latches(e, last, spans, n) : 0;
}

/* Evaluates until no write has to move up. Each retry runs at a strictly
 * higher timestamp, so it ends. */
static int evaluate(kv__eval *e)
{
    size_t n = e->req->n;
    for (;;) {
        memset(e->resp->resps, 0, n * sizeof(*e->resp->resps));
        for (size_t i = 0; i < n; i++)
            e->resp->resps[i].method = e->req->reqs[i].method;
        int rc = kv__eval_batch(e);
        if (rc != KV_EWRITETOOOLD || kv_ts_is_zero(e->bump_to))
            return rc;
        if (e->is_txn)
            e->txn.write_ts = e->bump_to;
        else
            e->ts = e->bump_to;
        e->bump_to = (kv_ts){0, 0};
        e->cmd.n_reads = 0;
        kv_batch_clear(e->cmd.batch);
        memset(&e->resp->detail, 0, sizeof(e->resp->detail));
    }
}

int kv__replica_apply(kv__replica *r, kv__cmd *cmd, char *err, size_t errlen)
{
    if (kv_batch_count(cmd->batch) == 0)
        return 0;
    if (r->store->node != NULL)
        return kv__node_propose(r->store->node, r, cmd->lease_seq, cmd->ts, cmd->batch);
    return kv_engine_write(r->store->engine, cmd->batch, cmd->sync, err, errlen);
}

/* Leaseholder side effects after a successful apply. */
static void record_reads(kv__eval *e)
{
    const uint8_t *id = e->is_txn ? e->txn.meta.id : NULL;
    for (size_t i = 0; i < e->cmd.n_reads; i++) {
        const kv__read_span *rs = &e->cmd.reads[i];
        /* A failed add (out of memory) must not let a later write go under
         * this read: raise the floor instead, which needs no memory. */
        if (kv_tscache_add(e->r->tscache, rs->span.key, rs->span.key_len, rs->span.end_key,
                           rs->span.end_len, rs->ts, id) != 0)
            kv_tscache_set_low_water(e->r->tscache, rs->ts);
    }
}

/* Moves the clock past a timestamp the batch chose above it, so every
 * later batch on this node reads above this write (linearizability). */
static int advance_clock(kv__eval *e)
{
    kv_ts ts = e->is_txn ? e->txn.write_ts : e->ts;
    int rc = kv_hlc_update(e->r->store->hlc, ts, NULL);
    if (rc != 0)
        return kv__eval_errf(e, 0, rc, "write timestamp %lld.%d beyond the clock offset",
                             (long long)ts.wall, ts.logical);
    return 0;
}

static int eval_and_apply(kv__eval *e)
{
    kv_latch_span *spans;
    size_t n;
    int rc = latch_spans(e, &spans, &n);
    if (rc != 0)
        return rc;
    /* A read-only transaction's EndTxn touches nothing: no latch. */
    kv_latch_guard *g = NULL;
    bool pending = false;
    if (n > 0)
        rc = kv_latch_acquire(e->r->latches, spans, n, NULL, NULL, &g, &pending);
    if (rc != 0)
        return rc;
    if (pending)
        rc = kv_latch_wait(g);
    if (rc == 0)
        rc = evaluate(e);
    if (rc == 0 && kv_batch_count(e->cmd.batch) > 0)
        rc = advance_clock(e);
    e->cmd.ts = e->is_txn ? e->txn.write_ts : e->ts;
    if (rc == 0)
        rc = kv__replica_apply(e->r, &e->cmd, e->resp->msg, sizeof(e->resp->msg));
    if (rc == 0)
        record_reads(e);
    if (g != NULL)
        kv_latch_release(g);
    return rc;
}

static int init_eval(kv__eval *e, kv__replica *r, const kv_request *req, kv_response *resp)
{
    memset(e, 0, sizeof(*e));
    e->r = r;
    e->req = req;
    e->resp = resp;
    e->cmd.sync = !r->store->opts.no_sync;
    if (req->h.txn != NULL) {
        e->is_txn = true;
        e->txn = *req->h.txn;
    } else {
        e->ts = kv_ts_is_zero(req->h.ts) ? kv_hlc_now(r->store->hlc) : req->h.ts;
    }
    resp->resps = kv_arena_alloc(resp->arena, req->n * sizeof(*resp->resps));
    if (resp->resps == NULL)
        return KV_ENOMEM;
    return kv_batch_create(&e->cmd.batch);
}

/* Copies the evaluated transaction (its anchor into the response arena). */
static int finish_txn(kv__eval *e)
{
    e->resp->has_txn = true;
    e->resp->txn = e->txn;
    if (e->txn.anchor_key == NULL)
        return 0;
    e->resp->txn.anchor_key = kv_arena_dup(e->resp->arena, e->txn.anchor_key, e->txn.anchor_len);
    return e->resp->txn.anchor_key == NULL ? KV_ENOMEM : 0;
}

/* Forgets the previous attempt's command and error before a re-run. */
static void reset_eval(kv__eval *e)
{
    kv_batch_clear(e->cmd.batch);
    e->cmd.n_reads = 0;
    e->cmd.n_resolve = 0;
    e->cmd.finished = false;
    e->bump_to = (kv_ts){0, 0};
    memset(&e->resp->detail, 0, sizeof(e->resp->detail));
    e->resp->msg[0] = 0;
}

/* Evaluates and applies, pushing the transaction of every intent met on
 * the way and trying again once it is resolved (txn_push.c). */
static int eval_with_pushes(kv__eval *e)
{
    for (;;) {
        int rc = eval_and_apply(e);
        if (rc == 0 && e->cmd.finished)
            kv__txn_wait_finished(e->r->store->waits, e->cmd.finished_id);
        if (rc != KV_EWRITEINTENT)
            return rc;
        rc = kv__push_intent(e);
        if (rc != 0)
            return rc;
        reset_eval(e);
    }
}

/* The other ranges' intents of a finished transaction go to the
 * asynchronous resolver; when its queue is full, this client pays. */
static void resolve_elsewhere(kv__eval *e)
{
    kv__cmd *c = &e->cmd;
    kv_store *s = e->r->store;
    if (!kv__resolver_enqueue(s->resolver, c->resolve, c->n_resolve, &c->resolve_txn,
                              c->resolve_status, c->resolve_ts))
        kv__store_resolve(s, c->resolve, c->n_resolve, &c->resolve_txn, c->resolve_status,
                          c->resolve_ts);
}

int kv__replica_send(kv__replica *r, const kv_request *req, kv_response *resp)
{
    assert(req->n > 0);
    kv__eval e;
    int rc = init_eval(&e, r, req, resp);
    if (rc == 0)
        rc = check_batch(&e);
    if (rc == 0 && r->store->node != NULL)
        rc = kv__lease_check(r, resp, &e.cmd.lease_seq, &e.lease_start);
    if (rc == 0)
        rc = eval_with_pushes(&e);
    /* A pushed write timestamp goes back with KV_ETXNRETRY too: the
     * coordinator refreshes to it. */
    if ((rc == 0 || rc == KV_ETXNRETRY) && e.is_txn && finish_txn(&e) != 0)
        rc = KV_ENOMEM;
    resp->ts = e.ts;
    resp->err = rc;
    resp->n = rc == 0 ? req->n : 0;
    if (rc == 0 && e.cmd.n_resolve > 0)
        resolve_elsewhere(&e);
    kv_batch_destroy(e.cmd.batch);
    kv_buf_free(&e.scratch);
    kv_buf_free(&e.conflict.key);
    kv_buf_free(&e.conflict.anchor);
    return rc;
}
