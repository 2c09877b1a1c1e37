/*
 * eval_txn.c - evaluation of the requests about transaction records:
 * EndTxn, ResolveIntent, PushTxn, QueryTxn and HeartbeatTxn.
 *
 * Commit is the write of the transaction record as COMMITTED on the range
 * of the transaction's anchor key; in the same command the intents of the
 * lock spans on this range are resolved. Intents on other ranges are
 * resolved after the command applies, asynchronously (resolver.h); until
 * then a reader meeting one pushes and finds the final record. A one-phase
 * commit (kv__eval_batch: writes and EndTxn in one batch, nothing written
 * before) leaves no record at all.
 *
 * PushTxn applies the push rules to the record (docs/kv.md, "Conflicts:
 * push, wait queue, deadlocks"); a record that becomes final here or in
 * EndTxn is flagged in the command so the replica wakes its waiters once
 * it applies.
 */
#include <assert.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/store_int.h"

static kv_txn_status mvcc_status(kv_txn_state s)
{
    return s == KV_TXN_STATE_COMMITTED ? KV_TXN_COMMITTED : KV_TXN_ABORTED;
}

/* Resolves the one intent `key` may hold. */
static int resolve_key(kv__eval *e, const void *key, size_t klen, const kv_txn_meta *txn,
                       kv_txn_status status, kv_ts commit_ts)
{
    return kv_mvcc_resolve(e->r->store->engine, NULL, e->cmd.batch, key, klen, txn, status,
                           commit_ts, NULL, e->resp->msg, sizeof(e->resp->msg));
}

/* Visits the intent metadata keys in [start, end) and resolves each. */
static int resolve_range(kv__eval *e, const kv_span *span, const kv_txn_meta *txn,
                         kv_txn_status status, kv_ts commit_ts)
{
    kv_buf lo = {0}, hi = {0}, user = {0};
    kv_iter *it = NULL;
    int rc = kv_mvcc_encode_key(&lo, span->key, span->key_len, NULL);
    if (rc == 0)
        rc = kv_mvcc_encode_key(&hi, span->end_key, span->end_len, NULL);
    if (rc == 0)
        rc = kv_iter_open(e->r->store->engine, NULL, KV_CF_MVCC, lo.data, lo.len, hi.data, hi.len,
                          &it, e->resp->msg, sizeof(e->resp->msg));
    if (rc != 0)
        goto out_free_bufs;
    for (kv_iter_seek_first(it); rc == 0 && kv_iter_valid(it); kv_iter_next(it)) {
        size_t klen;
        const char *k = kv_iter_key(it, &klen);
        kv_ts ts;
        bool is_meta;
        rc = kv_mvcc_decode_key(k, klen, &user, &ts, &is_meta);
        if (rc == 0 && is_meta)
            rc = resolve_key(e, user.data, user.len, txn, status, commit_ts);
    }
    if (rc == 0)
        rc = kv_iter_status(it, e->resp->msg, sizeof(e->resp->msg));
    kv_iter_close(it);
out_free_bufs:
    kv_buf_free(&user);
    kv_buf_free(&hi);
    kv_buf_free(&lo);
    return rc;
}

int kv__resolve_span(kv__eval *e, const kv_span *span, const kv_txn_meta *txn, kv_txn_status status,
                     kv_ts commit_ts)
{
    if (span->end_key == NULL)
        return resolve_key(e, span->key, span->key_len, txn, status, commit_ts);
    return resolve_range(e, span, txn, status, commit_ts);
}

/* Moves the intent of the still pending `txn` on `key` up to `to`: a
 * reader pushed its timestamp there and may now read below it. Rewriting
 * its own intent keeps the value and the intent (kv_mvcc_put contract). A
 * key whose intent is gone, belongs to another epoch or is already at or
 * above `to` is left alone. */
static int move_intent(kv__eval *e, const void *key, size_t klen, const kv_txn_meta *txn, kv_ts to)
{
    kv_engine *eng = e->r->store->engine;
    char *msg = e->resp->msg;
    size_t ml = sizeof(e->resp->msg);
    kv_mvcc_read_opts ro = {.ts = {INT64_MAX, INT32_MAX}};
    int rc = kv_mvcc_get(eng, NULL, &ro, key, klen, &e->scratch, NULL, &e->conflict, msg, ml);
    if (rc != KV_EWRITEINTENT)
        return rc == KV_ENOTFOUND ? 0 : rc;
    kv_intent in = e->conflict.intent;
    if (memcmp(in.txn.id, txn->id, KV_TXN_ID_LEN) != 0 || in.txn.epoch != txn->epoch ||
        kv_ts_cmp(in.ts, to) >= 0)
        return 0;
    /* The rewrite keeps what the intent records; its anchor stays in
     * e->conflict, which the owner's own read and write do not refill. */
    kv_mvcc_writer w = {in.txn, in.priority, in.anchor, in.anchor_len};
    ro.txn = &in.txn;
    rc = kv_mvcc_get(eng, NULL, &ro, key, klen, &e->scratch, NULL, &e->conflict, msg, ml);
    if (rc == 0)
        return kv_mvcc_put(eng, NULL, e->cmd.batch, key, klen, to, &w, e->scratch.data,
                           e->scratch.len, &e->conflict, msg, ml);
    if (rc == KV_ENOTFOUND)
        return kv_mvcc_delete(eng, NULL, e->cmd.batch, key, klen, to, &w, &e->conflict, msg, ml);
    return rc;
}

int kv__eval_resolve(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    if (!q->u.resolve.pending)
        return kv__resolve_span(e, &q->span, &q->u.resolve.txn, q->u.resolve.status,
                                q->u.resolve.commit_ts);
    if (q->span.end_key != NULL)
        return kv__eval_errf(e, i, KV_EINVAL, "a pending intent is moved one key at a time");
    return move_intent(e, q->span.key, q->span.key_len, &q->u.resolve.txn, q->u.resolve.commit_ts);
}

/* Reads the transaction's record into *rec; *exists false if absent. */
static int read_record(kv__eval *e, const kv_buf *key, bool *exists, kv__txn_record *rec)
{
    int rc = kv_engine_get(e->r->store->engine, NULL, KV_CF_LOCAL, key->data, key->len, &e->scratch,
                           e->resp->msg, sizeof(e->resp->msg));
    *exists = rc == 0;
    if (rc == KV_ENOTFOUND)
        return 0;
    if (rc == 0)
        rc = kv__txn_record_decode(e->scratch.data, e->scratch.len, e->resp->arena, rec);
    if (rc == KV_ECORRUPT)
        kv__eval_errf(e, 0, rc, "transaction record undecodable");
    return rc;
}

/* Adds the piece [lo, hi) of span s (NULL bounds: unbounded) to `out` if
 * it is not empty. A single key is kept whole when it lies in [lo, hi). */
static void clip(const kv_span *s, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen,
                 kv_span *out, size_t *n)
{
    kv_span p = *s;
    if (lo != NULL && kv__key_cmp(p.key, p.key_len, lo, lolen) < 0) {
        if (p.end_key == NULL)
            return;
        p.key = lo;
        p.key_len = lolen;
    }
    if (hi != NULL && p.end_key != NULL && kv__key_cmp(p.end_key, p.end_len, hi, hilen) > 0) {
        p.end_key = hi;
        p.end_len = hilen;
    }
    if (hi != NULL && kv__key_cmp(p.key, p.key_len, hi, hilen) >= 0)
        return;
    if (p.end_key != NULL && kv__key_cmp(p.key, p.key_len, p.end_key, p.end_len) >= 0)
        return;
    out[(*n)++] = p;
}

/* Resolves the lock spans' parts on this range now and leaves the rest in
 * the command for kv__store_resolve. */
static int resolve_lock_spans(kv__eval *e, const kv_req *q, kv_txn_state state)
{
    const kv_range_desc *d = &e->r->desc;
    const uint8_t *end = d->end_len > 0 ? d->end_key : NULL;
    size_t n = q->u.end_txn.n_lock_spans;
    kv_span *outside = kv_arena_alloc(e->resp->arena, 2 * n * sizeof(*outside));
    if (outside == NULL)
        return KV_ENOMEM;
    size_t n_out = 0;
    for (size_t i = 0; i < n; i++) {
        const kv_span *s = &q->u.end_txn.lock_spans[i];
        kv_span inside[1];
        size_t n_in = 0;
        clip(s, d->start_key, d->start_len, end, d->end_len, inside, &n_in);
        clip(s, NULL, 0, d->start_key, d->start_len, outside, &n_out);
        if (end != NULL)
            clip(s, end, d->end_len, NULL, 0, outside, &n_out);
        int rc = n_in == 0 ? 0
                           : kv__resolve_span(e, &inside[0], &e->txn.meta, mvcc_status(state),
                                              e->txn.write_ts);
        if (rc != 0)
            return rc;
    }
    e->cmd.resolve = outside;
    e->cmd.n_resolve = n_out;
    e->cmd.resolve_txn = e->txn.meta;
    e->cmd.resolve_status = mvcc_status(state);
    e->cmd.resolve_ts = e->txn.write_ts;
    return 0;
}

/* Decides from an existing record whether this EndTxn is already done
 * (*done) or impossible, and takes up a write timestamp that pushers
 * recorded in a PENDING record. Aborting an ABORTED record again is not
 * done: a pusher aborted it without knowing its intents, which this
 * EndTxn's lock spans now name and resolve. */
static int check_record(kv__eval *e, size_t i, const kv__txn_record *rec, bool commit, bool *done)
{
    *done = false;
    if (rec->status == KV_TXN_STATE_ABORTED)
        return commit ? kv__eval_errf(e, i, KV_ETXNABORTED, "transaction record is aborted") : 0;
    if (rec->status == KV_TXN_STATE_COMMITTED) {
        *done = commit;
        return commit ? 0 : kv__eval_errf(e, i, KV_EINVAL, "abort of a committed transaction");
    }
    if (e->one_pc)
        return kv__eval_errf(e, i, KV_EINVAL, "EndTxn with writes after the record exists");
    if (kv_ts_cmp(rec->write_ts, e->txn.write_ts) > 0)
        e->txn.write_ts = rec->write_ts;
    return 0;
}

/* A commit needs the reads valid at the write timestamp: the coordinator
 * refreshes them and raises read_ts, or the transaction restarts. */
static int check_retry(kv__eval *e, size_t i, bool commit)
{
    if (!commit || kv_ts_cmp(e->txn.write_ts, e->txn.read_ts) == 0)
        return 0;
    return kv__eval_errf(e, i, KV_ETXNRETRY,
                         "write timestamp pushed from %lld.%d to %lld.%d: refresh or restart",
                         (long long)e->txn.read_ts.wall, e->txn.read_ts.logical,
                         (long long)e->txn.write_ts.wall, e->txn.write_ts.logical);
}

/* Writes `rec` at `key` into the command; a final status wakes the
 * transaction's waiters once the command applies. */
static int put_record(kv__eval *e, const kv_buf *key, const kv__txn_record *rec,
                      const uint8_t id[KV_TXN_ID_LEN])
{
    int rc = kv__txn_record_encode(rec, &e->scratch);
    if (rc == 0)
        rc = kv_batch_put(e->cmd.batch, e->r->store->engine, KV_CF_LOCAL, key->data, key->len,
                          e->scratch.data, e->scratch.len);
    if (rc == 0 && rec->status != KV_TXN_STATE_PENDING) {
        e->cmd.finished = true;
        memcpy(e->cmd.finished_id, id, KV_TXN_ID_LEN);
    }
    return rc;
}

static int write_record(kv__eval *e, const kv_req *q, const kv_buf *key, kv_txn_state state)
{
    kv__txn_record rec = {
        .status = state,
        .epoch = e->txn.meta.epoch,
        .priority = e->txn.priority,
        .write_ts = e->txn.write_ts,
        .heartbeat = e->txn.write_ts,
        .lock_spans = q->u.end_txn.lock_spans,
        .n_lock_spans = q->u.end_txn.n_lock_spans,
    };
    return put_record(e, key, &rec, e->txn.meta.id);
}

/* Commits or aborts with the record: the anchor's range is this one. */
static int finish_with_record(kv__eval *e, size_t i, kv_txn_state state)
{
    const kv_req *q = &e->req->reqs[i];
    kv_buf key = {0};
    kv__txn_record rec;
    bool exists, done = false;
    int rc = kv__txn_record_key(&key, e->txn.anchor_key, e->txn.anchor_len, e->txn.meta.id);
    if (rc == 0)
        rc = read_record(e, &key, &exists, &rec);
    if (rc == 0 && exists)
        rc = check_record(e, i, &rec, state == KV_TXN_STATE_COMMITTED, &done);
    if (rc == 0 && !done)
        rc = check_retry(e, i, state == KV_TXN_STATE_COMMITTED);
    if (rc == 0 && !done && !e->one_pc)
        rc = write_record(e, q, &key, state);
    if (rc == 0 && !done && !e->one_pc)
        rc = resolve_lock_spans(e, q, state);
    kv_buf_free(&key);
    return rc;
}

int kv__eval_end_txn(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    if (!e->is_txn)
        return kv__eval_errf(e, i, KV_EINVAL, "EndTxn outside a transaction");
    bool commit = q->u.end_txn.commit;
    kv_txn_state state = commit ? KV_TXN_STATE_COMMITTED : KV_TXN_STATE_ABORTED;
    if (e->txn.anchor_key == NULL) {
        if (q->u.end_txn.n_lock_spans > 0)
            return kv__eval_errf(e, i, KV_EINVAL, "lock spans but no anchor key");
        int rc = check_retry(e, i, commit);
        if (rc != 0)
            return rc;
    } else {
        int rc = finish_with_record(e, i, state);
        if (rc != 0)
            return rc;
    }
    e->txn.status = state;
    return 0;
}

int kv__txn_request_record_key(const kv__eval *e, const kv_req *q, kv_buf *out)
{
    const uint8_t *id;
    switch (q->method) {
    case KV_PUSH_TXN:
        id = q->u.push.pushee.id;
        break;
    case KV_QUERY_TXN:
        id = q->u.query.txn.id;
        break;
    default:
        assert(q->method == KV_HEARTBEAT_TXN);
        if (!e->is_txn)
            return KV_EINVAL;
        id = e->txn.meta.id;
        break;
    }
    return kv__txn_record_key(out, q->span.key, q->span.key_len, id);
}

/* Fills request i's response with the record (found: it exists). */
static int answer_record(kv__eval *e, size_t i, const kv__txn_record *rec, const uint8_t *id,
                         bool found)
{
    const kv_req *q = &e->req->reqs[i];
    kv_resp *out = &e->resp->resps[i];
    out->found = found;
    out->txn = (kv_txn){
        .meta = {.epoch = rec->epoch},
        .priority = rec->priority,
        .write_ts = rec->write_ts,
        .status = rec->status,
        .anchor_key = kv_arena_dup(e->resp->arena, q->span.key, q->span.key_len),
        .anchor_len = q->span.key_len,
    };
    memcpy(out->txn.meta.id, id, KV_TXN_ID_LEN);
    return out->txn.anchor_key == NULL ? KV_ENOMEM : 0;
}

/* Reads the record request i is about; *exists false if there is none. */
static int load_request_record(kv__eval *e, size_t i, kv_buf *key, kv__txn_record *rec,
                               bool *exists)
{
    int rc = kv__txn_request_record_key(e, &e->req->reqs[i], key);
    if (rc == KV_EINVAL)
        return kv__eval_errf(e, i, rc, "HeartbeatTxn outside a transaction");
    return rc != 0 ? rc : read_record(e, key, exists, rec);
}

/* A pushee's heartbeat is older than the expiry: it is abandoned. */
static bool expired(kv__eval *e, const kv__txn_record *rec)
{
    kv_ts now = kv_hlc_now(e->r->store->hlc);
    return now.wall - rec->heartbeat.wall > KV_TXN_EXPIRY_NS;
}

/* The push rules (docs/kv.md, "Conflicts"), applied to a PENDING record:
 * sets *pushed and changes *rec (to be written) when the push succeeds. */
static void decide_push(kv__eval *e, const kv_req *q, kv__txn_record *rec, bool *pushed,
                        bool *write)
{
    kv_push_type type = q->u.push.type;
    bool wins = q->u.push.pusher_priority > rec->priority;
    *pushed = *write = false;
    if (type == KV_PUSH_FORCE_ABORT || expired(e, rec) || (type == KV_PUSH_ABORT && wins)) {
        rec->status = KV_TXN_STATE_ABORTED;
        *pushed = *write = true;
    } else if (type == KV_PUSH_TIMESTAMP && kv_ts_cmp(rec->write_ts, q->u.push.push_to) >= 0) {
        *pushed = true;
    } else if (type == KV_PUSH_TIMESTAMP && wins) {
        rec->write_ts = q->u.push.push_to;
        *pushed = *write = true;
    }
}

int kv__eval_push_txn(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    kv_buf key = {0};
    kv__txn_record rec;
    bool exists, pushed = true, write = false;
    int rc = load_request_record(e, i, &key, &rec, &exists);
    if (rc == 0 && !exists) {
        /* No record yet: the intent's timestamp stands in for a heartbeat
         * (the transaction wrote it) and the intent gives the priority. A
         * pushee whose coordinator is gone thus expires like one that
         * stopped heartbeating, and is aborted by writing the record. */
        rec = (kv__txn_record){.status = KV_TXN_STATE_PENDING,
                               .epoch = q->u.push.pushee.epoch,
                               .priority = q->u.push.pushee_priority,
                               .write_ts = q->u.push.intent_ts,
                               .heartbeat = q->u.push.intent_ts};
    }
    if (rc == 0 && rec.status == KV_TXN_STATE_PENDING)
        decide_push(e, q, &rec, &pushed, &write);
    if (rc == 0 && write)
        rc = put_record(e, &key, &rec, q->u.push.pushee.id);
    if (rc == 0)
        rc = answer_record(e, i, &rec, q->u.push.pushee.id, exists || write);
    e->resp->resps[i].pushed = pushed;
    kv_buf_free(&key);
    return rc;
}

int kv__eval_query_txn(kv__eval *e, size_t i)
{
    kv_buf key = {0};
    kv__txn_record rec = {0};
    bool exists;
    int rc = load_request_record(e, i, &key, &rec, &exists);
    if (rc == 0)
        rc = answer_record(e, i, &rec, e->req->reqs[i].u.query.txn.id, exists);
    kv_buf_free(&key);
    return rc;
}

/* Creates the PENDING record if it is missing and moves its heartbeat to
 * now; a final record is returned unchanged (the coordinator learns that
 * it was aborted). */
int kv__eval_heartbeat_txn(kv__eval *e, size_t i)
{
    kv_buf key = {0};
    kv__txn_record rec;
    bool exists;
    int rc = load_request_record(e, i, &key, &rec, &exists);
    if (rc == 0 && !exists) {
        rec = (kv__txn_record){.status = KV_TXN_STATE_PENDING,
                               .epoch = e->txn.meta.epoch,
                               .priority = e->txn.priority,
                               .write_ts = e->txn.write_ts};
    }
    if (rc == 0 && rec.status == KV_TXN_STATE_PENDING) {
        rec.heartbeat = kv_hlc_now(e->r->store->hlc);
        rc = put_record(e, &key, &rec, e->txn.meta.id);
    }
    if (rc == 0)
        rc = answer_record(e, i, &rec, e->txn.meta.id, true);
    kv_buf_free(&key);
    return rc;
}
