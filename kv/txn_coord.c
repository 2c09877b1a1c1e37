/*
 * txn_coord.c - the transaction coordinator and the store's heartbeater
 * (contract in txn_coord.h, design in docs/kv.md).
 *
 * Span keys live in the coordinator's arena until it is destroyed; the
 * span arrays themselves grow by doubling. Read spans are dropped on
 * restart (the new epoch reads afresh) while lock spans are kept: the old
 * epoch's intents must still be resolved by the final EndTxn.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "kv/kv_int.h"
#include "kv/store_int.h"
#include "kv/txn_coord.h"

/* Read-only batches meeting an uncertain value are refreshed and re-sent
 * at most this often; each time moves the read timestamp up, below the
 * fixed uncertainty limit, so a few suffice. */
#define MAX_UNCERTAINTY_RETRIES 8
/* Commit batches pushed while committing are refreshed and re-sent at
 * most this often before the caller must restart. */
#define MAX_COMMIT_RETRIES 4

typedef struct span_set {
    kv_span *spans;
    size_t n, cap;
} span_set;

struct kv_txn_coord {
    kv_store *store;
    kv_txn_hb *hb;
    kv_txn_coord *hb_next; /* hb->list, under hb->mu */
    bool registered;       /* in hb->list */
    bool finished;
    bool aborted; /* a response said KV_ETXNABORTED: the id is dead */
    kv_txn txn;   /* anchor_key points into `anchor` */
    kv_buf anchor;
    kv_arena *arena; /* span keys */
    span_set reads, locks;
};

struct kv_txn_hb {
    kv_store *store;
    int64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    kv_txn_coord *list;
};

/* ---- spans ------------------------------------------------------------ */

static int span_add(kv_arena *a, span_set *set, const kv_span *s)
{
    if (set->n == set->cap) {
        size_t cap = set->cap == 0 ? 8 : 2 * set->cap;
        kv_span *spans = realloc(set->spans, cap * sizeof(*spans));
        if (spans == NULL)
            return KV_ENOMEM;
        set->spans = spans;
        set->cap = cap;
    }
    kv_span c = *s;
    c.key = kv_arena_dup(a, s->key, s->key_len);
    c.end_key = s->end_key != NULL ? kv_arena_dup(a, s->end_key, s->end_len) : NULL;
    if (c.key == NULL || (s->end_key != NULL && c.end_key == NULL))
        return KV_ENOMEM;
    set->spans[set->n++] = c;
    return 0;
}

static bool method_reads(kv_method m)
{
    return m == KV_GET || m == KV_SCAN || m == KV_REVERSE_SCAN || m == KV_CPUT ||
           m == KV_INCREMENT || m == KV_DELETE_RANGE;
}

/* Records the spans `req` may write (before sending: a failed batch may
 * still have written on some range) or, after success, the ones it read. */
static int track(kv_txn_coord *c, const kv_request *req, bool writes)
{
    for (size_t i = 0; i < req->n; i++) {
        const kv_req *q = &req->reqs[i];
        bool take = writes ? kv__method_writes(q->method) : method_reads(q->method);
        int rc = take ? span_add(c->arena, writes ? &c->locks : &c->reads, &q->span) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- the transaction ---------------------------------------------------- */

static void hb_lock(kv_txn_coord *c)
{
    if (c->hb != NULL)
        pthread_mutex_lock(&c->hb->mu);
}

static void hb_unlock(kv_txn_coord *c)
{
    if (c->hb != NULL)
        pthread_mutex_unlock(&c->hb->mu);
}

/* Fresh timestamps from the store's clock for a new attempt. */
static void set_timestamps(kv_txn_coord *c)
{
    kv_hlc *clock = kv_store_clock(c->store);
    kv_ts now = kv_hlc_now(clock);
    c->txn.read_ts = c->txn.write_ts = now;
    c->txn.uncertainty_limit = (kv_ts){now.wall + kv_hlc_max_offset(clock), now.logical};
    /* The coordinator shares the store's clock: its start is an observation
     * of the serving node's clock (kv.h, observed_ts). */
    c->txn.observed_ts = now;
}

void kv_txn_coord_forget_observation(kv_txn_coord *c)
{
    hb_lock(c);
    c->txn.observed_ts = (kv_ts){0, 0};
    hb_unlock(c);
}

static int new_identity(kv_txn_coord *c)
{
    if (getrandom(c->txn.meta.id, KV_TXN_ID_LEN, 0) != KV_TXN_ID_LEN)
        return KV_EIO;
    c->txn.meta.epoch = 0;
    c->txn.meta.seq = 0;
    c->txn.status = KV_TXN_STATE_PENDING;
    c->txn.anchor_key = NULL;
    c->txn.anchor_len = 0;
    c->aborted = false;
    c->locks.n = 0;
    c->reads.n = 0;
    set_timestamps(c);
    return 0;
}

/* Takes what a response says about the transaction: a pushed write
 * timestamp and the anchor that the store chose. */
static int absorb(kv_txn_coord *c, const kv_response *resp)
{
    if (resp->err == KV_ETXNABORTED)
        c->aborted = true;
    if (!resp->has_txn)
        return 0;
    hb_lock(c);
    int rc = 0;
    if (kv_ts_cmp(resp->txn.write_ts, c->txn.write_ts) > 0)
        c->txn.write_ts = resp->txn.write_ts;
    if (c->txn.anchor_key == NULL && resp->txn.anchor_key != NULL) {
        rc = kv_buf_set(&c->anchor, resp->txn.anchor_key, resp->txn.anchor_len);
        if (rc == 0) {
            c->txn.anchor_key = (const uint8_t *)c->anchor.data;
            c->txn.anchor_len = resp->txn.anchor_len;
        }
    }
    hb_unlock(c);
    return rc;
}

static void finish(kv_txn_coord *c, kv_txn_state state)
{
    hb_lock(c);
    c->finished = true;
    c->txn.status = state;
    hb_unlock(c);
}

static int respond(kv_response *resp, int code, const char *what)
{
    char msg[sizeof(resp->msg)];
    memcpy(msg, resp->msg, sizeof(msg));
    msg[sizeof(msg) - 1] = 0;
    snprintf(resp->msg, sizeof(resp->msg), "%s: %.150s", what, msg);
    resp->err = code;
    resp->n = 0;
    return code;
}

/* Moves the read timestamp up to `to` if no read span changed in
 * (read_ts, to]; the write timestamp goes along. `resp` gets the refresh's
 * error, re-initialised first. */
static int refresh(kv_txn_coord *c, kv_ts to, kv_response *resp)
{
    kv_request req;
    int rc = kv_request_init(&req);
    if (rc != 0)
        return KV_ENOMEM;
    kv_txn t = c->txn;
    t.read_ts = t.write_ts = to;
    rc = kv_request_set_txn(&req, &t);
    for (size_t i = 0; rc == 0 && i < c->reads.n; i++) {
        kv_req q = {.method = KV_REFRESH, .span = c->reads.spans[i]};
        q.u.refresh.from = c->txn.read_ts;
        rc = kv_request_add(&req, &q);
    }
    if (rc == 0 && req.n > 0) {
        kv_response_free(resp);
        rc = kv_response_init(resp);
        if (rc == 0)
            rc = kv_store_send(c->store, &req, resp);
    }
    kv_request_free(&req);
    if (rc == 0) {
        hb_lock(c);
        c->txn.read_ts = c->txn.write_ts = to;
        hb_unlock(c);
    }
    return rc;
}

/* After a batch: a pushed write timestamp is refreshed to at once, so the
 * transaction's reads stay at one timestamp and commit needs no check. */
static int follow_push(kv_txn_coord *c, kv_response *resp)
{
    if (kv_ts_cmp(c->txn.write_ts, c->txn.read_ts) <= 0)
        return 0;
    kv_response r;
    int rc = kv_response_init(&r);
    if (rc == 0)
        rc = refresh(c, c->txn.write_ts, &r);
    if (rc != 0) {
        snprintf(resp->msg, sizeof(resp->msg), "%s", rc == KV_ENOMEM ? "out of memory" : r.msg);
        rc = respond(resp, KV_ETXNRETRY, "write timestamp pushed, refresh failed");
    }
    kv_response_free(&r);
    return rc;
}

static bool has_writes(const kv_request *req)
{
    for (size_t i = 0; i < req->n; i++)
        if (kv__method_writes(req->reqs[i].method))
            return true;
    return false;
}

/* One attempt at sending `req` with the current transaction. */
static int send_once(kv_txn_coord *c, kv_request *req, kv_response *resp)
{
    int rc = kv_request_set_txn(req, &c->txn);
    if (rc == 0)
        rc = kv_store_send(c->store, req, resp);
    else
        rc = resp->err = rc;
    int arc = absorb(c, resp);
    return rc != 0 ? rc : arc;
}

/* Sends `req`, tracking its spans, refreshing past uncertain values (read
 * only batches: their re-send has no side effect to repeat) and past a
 * pushed write timestamp. */
static int send_tracked(kv_txn_coord *c, kv_request *req, kv_response *resp, bool new_writes)
{
    int rc = new_writes ? track(c, req, true) : 0;
    bool writes = has_writes(req);
    for (int attempt = 0; rc == 0; attempt++) {
        rc = send_once(c, req, resp);
        if (rc != KV_EREADUNCERTAIN || writes || attempt == MAX_UNCERTAINTY_RETRIES)
            break;
        kv_ts to = resp->detail.existing_ts;
        if (kv_ts_cmp(to, c->txn.write_ts) < 0)
            to = c->txn.write_ts;
        if ((rc = refresh(c, to, resp)) != 0)
            return respond(resp, KV_ETXNRETRY, "uncertain value, refresh failed");
        kv_response_free(resp);
        if ((rc = kv_response_init(resp)) != 0)
            return resp->err = rc;
    }
    /* Conflicts the server left to us (a no_wait request, an uncertain
     * value): a restart at a fresh timestamp may succeed. */
    if (rc == KV_EWRITEINTENT || rc == KV_EREADUNCERTAIN)
        return respond(resp, KV_ETXNRETRY, "conflict");
    if (rc == 0)
        rc = track(c, req, false);
    return rc != 0 ? rc : follow_push(c, resp);
}

static bool public_method(kv_method m)
{
    return m <= KV_REVERSE_SCAN;
}

int kv_txn_coord_send(kv_txn_coord *c, kv_request *req, kv_response *resp)
{
    for (size_t i = 0; i < req->n; i++)
        if (!public_method(req->reqs[i].method))
            return resp->err = KV_EINVAL;
    if (c->finished || req->n == 0)
        return resp->err = KV_EINVAL;
    return send_tracked(c, req, resp, true);
}

/* Whether every write of `req` may be sent again with the same effect. */
static bool blind_writes(const kv_request *req)
{
    for (size_t i = 0; i < req->n; i++) {
        kv_method m = req->reqs[i].method;
        if (kv__method_writes(m) && m != KV_PUT && m != KV_DELETE)
            return false;
    }
    return true;
}

/* Gives the request's EndTxn every lock span, those of its own batch
 * included: a first attempt may have written them as intents (and a
 * record may exist by now), so the batch must not commit in one phase. */
static int end_with_all_locks(kv_txn_coord *c, kv_request *req)
{
    kv_req *end = &req->reqs[req->n - 1];
    assert(end->method == KV_END_TXN);
    kv_span *spans = kv_arena_dup(req->arena, c->locks.spans, c->locks.n * sizeof(kv_span));
    if (spans == NULL)
        return KV_ENOMEM;
    end->u.end_txn.lock_spans = spans;
    end->u.end_txn.n_lock_spans = c->locks.n;
    return 0;
}

/* Sends the commit batch. When its writes were pushed (by a read in the
 * timestamp cache or a pushing reader) EndTxn refuses to commit; if the
 * reads still hold at a fresh timestamp, above any push so far, and
 * sending the writes again is harmless, the batch goes again there (as
 * intents plus a record: the first attempt may have left some). */
static int send_commit(kv_txn_coord *c, kv_request *req, kv_response *resp)
{
    int rc = send_tracked(c, req, resp, true);
    for (int attempt = 0; rc == KV_ETXNRETRY && attempt < MAX_COMMIT_RETRIES; attempt++) {
        if (c->aborted || !blind_writes(req))
            break;
        kv_ts to = kv_hlc_now(kv_store_clock(c->store));
        if (kv_ts_cmp(c->txn.write_ts, to) > 0)
            to = c->txn.write_ts; /* pushed by a reader with a future horizon */
        if (refresh(c, to, resp) != 0)
            return respond(resp, KV_ETXNRETRY, "commit pushed, refresh failed");
        kv_response_free(resp);
        if ((rc = kv_response_init(resp)) != 0 || (rc = end_with_all_locks(c, req)) != 0)
            return resp->err = rc;
        rc = send_tracked(c, req, resp, false);
    }
    return rc;
}

int kv_txn_coord_commit(kv_txn_coord *c, kv_request *req, kv_response *resp)
{
    if (c->finished)
        return resp->err = KV_EINVAL;
    kv_request own;
    if (req == NULL) {
        if (c->locks.n == 0 && c->txn.anchor_key == NULL) {
            finish(c, KV_TXN_STATE_COMMITTED); /* read-only: nothing to write */
            return 0;
        }
        if (kv_request_init(&own) != 0)
            return resp->err = KV_ENOMEM;
    }
    kv_request *r = req != NULL ? req : &own;
    for (size_t i = 0; i < r->n; i++)
        if (!public_method(r->reqs[i].method))
            return resp->err = KV_EINVAL;
    kv_req end = {.method = KV_END_TXN};
    end.u.end_txn.commit = true;
    end.u.end_txn.lock_spans = c->locks.spans;
    end.u.end_txn.n_lock_spans = c->locks.n;
    int rc = kv_request_add(r, &end);
    if (rc == 0)
        rc = send_commit(c, r, resp);
    else
        resp->err = rc;
    if (req == NULL)
        kv_request_free(&own);
    if (rc == 0)
        finish(c, KV_TXN_STATE_COMMITTED);
    return rc;
}

/* Sends EndTxn(abort) with the lock spans to the anchor's range. */
static int abort_record(kv_txn_coord *c, char *err, size_t errlen)
{
    if (c->txn.anchor_key == NULL)
        return 0; /* no batch ever wrote: no intent, no record */
    kv_request req;
    kv_response resp;
    int rc = kv_request_init(&req);
    if (rc != 0)
        return kv__errf(err, errlen, rc, "rollback: out of memory");
    if ((rc = kv_response_init(&resp)) != 0) {
        kv__errf(err, errlen, rc, "rollback: out of memory");
        goto out_free_request;
    }
    kv_req end = {.method = KV_END_TXN};
    end.u.end_txn.lock_spans = c->locks.spans;
    end.u.end_txn.n_lock_spans = c->locks.n;
    rc = kv_request_set_txn(&req, &c->txn);
    if (rc == 0)
        rc = kv_request_add(&req, &end);
    if (rc == 0)
        rc = kv_store_send(c->store, &req, &resp);
    if (rc != 0)
        kv__errf(err, errlen, rc, "rollback: %s", resp.msg);
    kv_response_free(&resp);
out_free_request:
    kv_request_free(&req);
    return rc;
}

int kv_txn_coord_rollback(kv_txn_coord *c, char *err, size_t errlen)
{
    if (c->finished)
        return kv__errf(err, errlen, KV_EINVAL, "rollback of a finished transaction");
    int rc = abort_record(c, err, errlen);
    finish(c, KV_TXN_STATE_ABORTED);
    return rc;
}

int kv_txn_coord_restart(kv_txn_coord *c)
{
    if (c->finished)
        return KV_EINVAL;
    if (c->aborted) {
        /* Best effort: whoever aborted the record resolves what it met;
         * our abort resolves the rest if it can. */
        abort_record(c, NULL, 0);
        hb_lock(c);
        int rc = new_identity(c);
        hb_unlock(c);
        return rc;
    }
    hb_lock(c);
    c->txn.meta.epoch++;
    c->txn.meta.seq = 0;
    c->reads.n = 0;
    set_timestamps(c);
    hb_unlock(c);
    return 0;
}

const kv_txn *kv_txn_coord_txn(const kv_txn_coord *c)
{
    return &c->txn;
}

int kv_txn_coord_begin(kv_store *s, kv_txn_hb *hb, int32_t priority, kv_txn_coord **out)
{
    kv_txn_coord *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return KV_ENOMEM;
    c->store = s;
    c->txn.priority = priority;
    int rc = kv_arena_create(&c->arena);
    if (rc != 0)
        goto out_free_coord;
    if ((rc = new_identity(c)) != 0)
        goto out_destroy_arena;
    if (hb != NULL) {
        c->hb = hb;
        hb_lock(c);
        c->hb_next = hb->list;
        hb->list = c;
        c->registered = true;
        hb_unlock(c);
    }
    *out = c;
    return 0;

out_destroy_arena:
    kv_arena_destroy(c->arena);
out_free_coord:
    free(c);
    return rc;
}

static void unregister(kv_txn_coord *c)
{
    hb_lock(c);
    kv_txn_coord **p = &c->hb->list;
    while (*p != c)
        p = &(*p)->hb_next;
    *p = c->hb_next;
    hb_unlock(c);
}

void kv_txn_coord_destroy(kv_txn_coord *c)
{
    if (c == NULL)
        return;
    if (!c->finished)
        kv_txn_coord_rollback(c, NULL, 0);
    if (c->registered)
        unregister(c);
    free(c->reads.spans);
    free(c->locks.spans);
    kv_buf_free(&c->anchor);
    kv_arena_destroy(c->arena);
    free(c);
}

/* ---- heartbeats --------------------------------------------------------- */

/* A copy of one open transaction taken under hb->mu, sent outside it. */
typedef struct beat {
    kv_txn txn;
    kv_buf anchor;
} beat;

/* Copies every open, anchored transaction into beats[0..*n). */
static int hb_snapshot(kv_txn_hb *hb, beat **beats, size_t *n, size_t *cap)
{
    *n = 0;
    for (kv_txn_coord *c = hb->list; c != NULL; c = c->hb_next) {
        if (c->finished || c->txn.anchor_key == NULL)
            continue;
        if (*n == *cap) {
            size_t ncap = *cap == 0 ? 16 : 2 * *cap;
            beat *b = realloc(*beats, ncap * sizeof(*b));
            if (b == NULL)
                return KV_ENOMEM;
            memset(b + *cap, 0, (ncap - *cap) * sizeof(*b));
            *beats = b;
            *cap = ncap;
        }
        beat *b = &(*beats)[(*n)++];
        b->txn = c->txn;
        if (kv_buf_set(&b->anchor, c->txn.anchor_key, c->txn.anchor_len) != 0)
            return KV_ENOMEM;
        b->txn.anchor_key = (const uint8_t *)b->anchor.data;
    }
    return 0;
}

/* Heartbeats one record. Errors are dropped: a missed beat only makes the
 * transaction look older to pushers, and its commit will tell. */
static void hb_send(kv_txn_hb *hb, const beat *b)
{
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0)
        return;
    if (kv_response_init(&resp) == 0) {
        kv_req q = {.method = KV_HEARTBEAT_TXN,
                    .span = {b->txn.anchor_key, b->txn.anchor_len, NULL, 0}};
        if (kv_request_set_txn(&req, &b->txn) == 0 && kv_request_add(&req, &q) == 0)
            kv_store_send(hb->store, &req, &resp);
        kv_response_free(&resp);
    }
    kv_request_free(&req);
}

static void *hb_main(void *arg)
{
    kv_txn_hb *hb = arg;
    beat *beats = NULL;
    size_t n = 0, cap = 0;
    pthread_mutex_lock(&hb->mu);
    while (!hb->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        int64_t ns = until.tv_nsec + hb->interval_ms % 1000 * 1000000;
        until.tv_sec += hb->interval_ms / 1000 + ns / 1000000000;
        until.tv_nsec = ns % 1000000000;
        while (!hb->stop && pthread_cond_timedwait(&hb->cv, &hb->mu, &until) != ETIMEDOUT)
            ;
        if (hb->stop || hb_snapshot(hb, &beats, &n, &cap) != 0)
            continue;
        pthread_mutex_unlock(&hb->mu);
        for (size_t i = 0; i < n; i++)
            hb_send(hb, &beats[i]);
        pthread_mutex_lock(&hb->mu);
    }
    pthread_mutex_unlock(&hb->mu);
    for (size_t i = 0; i < cap; i++)
        kv_buf_free(&beats[i].anchor);
    free(beats);
    return NULL;
}

int kv_txn_hb_start(kv_store *s, int64_t interval_ms, kv_txn_hb **out)
{
    if (interval_ms <= 0)
        return KV_EINVAL;
    kv_txn_hb *hb = calloc(1, sizeof(*hb));
    if (hb == NULL)
        return KV_ENOMEM;
    hb->store = s;
    hb->interval_ms = interval_ms;
    pthread_mutex_init(&hb->mu, NULL);
    pthread_cond_init(&hb->cv, NULL);
    if (pthread_create(&hb->thread, NULL, hb_main, hb) != 0) {
        pthread_cond_destroy(&hb->cv);
        pthread_mutex_destroy(&hb->mu);
        free(hb);
        return KV_EIO;
    }
    *out = hb;
    return 0;
}

void kv_txn_hb_stop(kv_txn_hb *hb)
{
    if (hb == NULL)
        return;
    pthread_mutex_lock(&hb->mu);
    assert(hb->list == NULL);
    hb->stop = true;
    pthread_cond_signal(&hb->cv);
    pthread_mutex_unlock(&hb->mu);
    pthread_join(hb->thread, NULL);
    pthread_cond_destroy(&hb->cv);
    pthread_mutex_destroy(&hb->mu);
    free(hb);
}
