/*
 * txn_push.c - what a batch does when its evaluation meets another
 * transaction's intent (docs/kv.md, "Conflicts: push, wait queue,
 * deadlocks"). The replica has released the batch's latches; here:
 *
 *   1. send PushTxn to the range of the anchor key that the intent names,
 *      with the priority it records: a reader asks for the pushee's
 *      write timestamp above everything it can read, a writer for an
 *      abort; the record decides (eval_txn.c, decide_push);
 *   2. while the push cannot succeed, wait in the store's wait queue
 *      (txn_wait.h) and push again; a pusher chosen to break a deadlock
 *      aborts its own record and fails with KV_ETXNABORTED, as does one
 *      whose own transaction another pusher aborted meanwhile;
 *   3. resolve the intent met: committed or aborted as the record says, or
 *      moved above the reader when only the timestamp was pushed.
 *
 * Every step is an ordinary batch through kv_store_send and needs nothing
 * but the intent and the record, so the pushee's record may live on any
 * range (or, later, any node) and its coordinator may be gone.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/store_int.h"

struct push {
    kv__eval *e;
    kv_store *s;
    kv__pusher pusher;
    kv_intent intent; /* its anchor in e's response arena */
    kv_span key;      /* the intent's key (in e's response arena) */
    kv_push_type type;
    kv_ts push_to;
};

/* Ids for non-transactional pushers: unique in the process, and marked so
 * they cannot collide with a transaction's random id in the waits-for
 * graph (nobody ever waits on them). */
static atomic_uint_fast64_t next_pusher_id;

static void fresh_pusher_id(uint8_t id[KV_TXN_ID_LEN])
{
    memset(id, 0xff, KV_TXN_ID_LEN);
    kv__put_be64(id + 8, (uint64_t)atomic_fetch_add(&next_pusher_id, 1));
}

/* Sends the one request `q` (non-transactional) into `resp`, which is
 * initialised here and freed by the caller. */
static int send_one(kv_store *s, const kv_req *q, kv_response *resp)
{
    kv_request req;
    int rc = kv_request_init(&req);
    if (rc != 0)
        return rc;
    rc = kv_response_init(resp);
    if (rc == 0)
        rc = kv_request_add(&req, q);
    if (rc == 0)
        rc = kv_store_send(s, &req, resp);
    kv_request_free(&req);
    return rc;
}

/* Keeps the reason a push step failed in the batch's message. */
static void note(struct push *p, const char *what, const kv_response *resp)
{
    snprintf(p->e->resp->msg, sizeof(p->e->resp->msg), "%s: %.160s", what, resp->msg);
}

/* Sends a ResolveIntent for the intent met. */
static int resolve(struct push *p, const kv_txn *rec)
{
    kv_req q = {.method = KV_RESOLVE_INTENT, .span = p->key};
    q.u.resolve.txn = p->intent.txn;
    q.u.resolve.commit_ts = rec->write_ts;
    if (rec->status == KV_TXN_STATE_PENDING) {
        q.u.resolve.pending = true;
    } else {
        /* A committed record of a later epoch removes this older intent. */
        q.u.resolve.txn.epoch = rec->meta.epoch;
        q.u.resolve.status =
            rec->status == KV_TXN_STATE_COMMITTED ? KV_TXN_COMMITTED : KV_TXN_ABORTED;
    }
    kv_response resp;
    int rc = send_one(p->s, &q, &resp);
    if (rc != 0)
        note(p, "resolving an intent", &resp);
    kv_response_free(&resp);
    return rc;
}

/* One PushTxn; on success *rec is the record it left (without its
 * anchor, which went with the response) and *pushed whether the push
 * succeeded. */
static int push_once(struct push *p, kv_txn *rec, bool *pushed)
{
    kv_req q = {.method = KV_PUSH_TXN, .span = {p->intent.anchor, p->intent.anchor_len, NULL, 0}};
    q.u.push.pushee = p->intent.txn;
    q.u.push.pushee_priority = p->intent.priority;
    q.u.push.intent_ts = p->intent.ts;
    q.u.push.pusher_priority = p->pusher.priority;
    q.u.push.type = p->type;
    q.u.push.push_to = p->push_to;
    kv_response resp;
    int rc = send_one(p->s, &q, &resp);
    if (rc == 0) {
        *rec = resp.resps[0].txn;
        rec->anchor_key = NULL;
        *pushed = resp.resps[0].pushed;
    } else {
        note(p, "pushing", &resp);
    }
    kv_response_free(&resp);
    return rc;
}

/* The deadlock victim aborts its own record, so the transactions waiting
 * on it find it aborted and go on; its coordinator restarts it. */
static int abort_self(struct push *p)
{
    const kv_txn *t = &p->e->txn;
    if (t->anchor_key != NULL) {
        kv_req q = {.method = KV_PUSH_TXN, .span = {t->anchor_key, t->anchor_len, NULL, 0}};
        q.u.push.pushee = t->meta;
        q.u.push.pushee_priority = t->priority;
        q.u.push.type = KV_PUSH_FORCE_ABORT;
        kv_response resp;
        (void)send_one(p->s, &q, &resp); /* on failure it expires instead */
        kv_response_free(&resp);
    }
    return kv__eval_errf(p->e, p->e->resp->detail.index, KV_ETXNABORTED,
                         "transaction aborted to break a deadlock");
}

/* Pushes until the push succeeds, waiting in between. */
static int push_and_wait(struct push *p, kv_txn *rec)
{
    for (;;) {
        bool pushed;
        uint64_t seen = kv__txn_wait_finishes(p->s->waits);
        int rc = push_once(p, rec, &pushed);
        if (rc != 0 || pushed)
            return rc;
        if (p->e->req->h.no_wait)
            return kv__eval_errf(p->e, p->e->resp->detail.index, KV_EWRITEINTENT,
                                 "conflicting intent of a live transaction (no wait)");
        rc =
            kv__txn_wait_for(p->s->waits, &p->pusher, p->intent.txn.id, seen, KV__TXN_WAIT_POLL_NS);
        if (rc == KV_ETXNABORTED)
            return abort_self(p);
        if (rc == KV_ECANCELED)
            return kv__eval_errf(p->e, p->e->resp->detail.index, KV_ETXNABORTED,
                                 "transaction aborted by another while it waited");
    }
}

static void init_push(struct push *p, kv__eval *e)
{
    const kv_error_detail *d = &e->resp->detail;
    *p = (struct push){.e = e, .s = e->r->store, .intent = d->intent, .key = d->intent_key};
    if (e->is_txn) {
        memcpy(p->pusher.id, e->txn.meta.id, KV_TXN_ID_LEN);
        p->pusher.priority = e->txn.priority;
    } else {
        fresh_pusher_id(p->pusher.id);
    }
    /* A writer needs the intent gone; a reader only needs it above every
     * timestamp it can read, its local uncertainty limit included. */
    kv_method m = e->req->reqs[d->index].method;
    p->type = kv__method_writes(m) ? KV_PUSH_ABORT : KV_PUSH_TIMESTAMP;
    p->push_to = kv__ts_next(kv__eval_read_horizon(e));
}

int kv__push_intent(kv__eval *e)
{
    struct push p;
    kv_txn rec;
    init_push(&p, e);
    int rc = push_and_wait(&p, &rec);
    if (rc == 0)
        rc = resolve(&p, &rec);
    return rc;
}
