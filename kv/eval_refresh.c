/*
 * eval_refresh.c - evaluation of Refresh: may a transaction's read of a
 * span move from timestamp `from` up to its (pushed) read timestamp?
 *
 * It may when nothing a read at the higher timestamp would see differs
 * from what the read at `from` saw: no committed version in (from, to]
 * and no other transaction's intent at or below `to` (it could commit
 * there). The transaction's own intents are its own writes and do not
 * count. On success the span is recorded in the timestamp cache at `to`,
 * exactly as if it had been read there, so no later write can slip under
 * it; on failure the coordinator must restart (KV_ETXNRETRY).
 *
 * The header's transaction carries `to` as its read_ts, so the replica
 * latches the span for reading at `to`: writes below it that are still
 * being evaluated finish first and are seen here.
 */
#include <inttypes.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/mvcc_int.h"
#include "kv/store_int.h"

/* The encoded bounds of a span: a single key k is [k, k\0). */
static int encode_bounds(const kv_span *s, kv_buf *lo, kv_buf *hi, kv_buf *succ)
{
    int rc = kv_mvcc_encode_key(lo, s->key, s->key_len, NULL);
    if (rc != 0 || s->end_key != NULL)
        return rc != 0 ? rc : kv_mvcc_encode_key(hi, s->end_key, s->end_len, NULL);
    if ((rc = kv_buf_reserve(succ, s->key_len + 1)) != 0)
        return rc;
    memcpy(succ->data, s->key, s->key_len);
    succ->data[s->key_len] = 0;
    return kv_mvcc_encode_key(hi, succ->data, s->key_len + 1, NULL);
}

/* Where to go after an entry: the next entry, or a seek (to the newest
 * version at or below `to`, or past the user key). */
enum step { STEP_NEXT, STEP_SEEK_TO, STEP_SKIP_KEY };

static int changed(kv__eval *e, size_t i, const char *what, kv_ts ts, kv_ts from)
{
    return kv__eval_errf(e, i, KV_ETXNRETRY,
                         "refresh failed: %s at %" PRId64 ".%" PRId32 " after the read at %" PRId64
                         ".%" PRId32,
                         what, ts.wall, ts.logical, from.wall, from.logical);
}

/* Judges one raw entry: a change in (from, to] fails the refresh. Versions
 * of a key come newest first after its intent metadata, so only the
 * newest version at or below `to` matters; *own_ts remembers the
 * transaction's own intent, whose provisional version is skipped. */
static int check_entry(kv__eval *e, size_t i, kv_iter *it, kv_ts from, kv_ts *own_ts, size_t *plen,
                       enum step *step)
{
    size_t klen, vlen;
    bool meta;
    kv_ts ts, to = e->txn.read_ts;
    const char *k = kv_iter_key(it, &klen);
    *step = STEP_NEXT;
    if (kv__mvcc_split_key((const uint8_t *)k, klen, plen, &meta, &ts) != 0)
        return kv__eval_errf(e, i, KV_ECORRUPT, "refresh: bad MVCC key");
    if (meta) {
        kv_intent in;
        const char *raw = kv_iter_value(it, &vlen);
        if (kv__mvcc_decode_meta((const uint8_t *)raw, vlen, &in) != 0)
            return kv__eval_errf(e, i, KV_ECORRUPT, "refresh: bad intent metadata");
        bool own = memcmp(in.txn.id, e->txn.meta.id, KV_TXN_ID_LEN) == 0;
        if (!own && kv_ts_cmp(in.ts, to) <= 0)
            return changed(e, i, "intent of another transaction", in.ts, from);
        *own_ts = own ? in.ts : (kv_ts){0, 0};
        return 0;
    }
    bool provisional = kv_ts_cmp(ts, *own_ts) == 0;
    *own_ts = (kv_ts){0, 0};
    if (provisional)
        return 0;
    if (kv_ts_cmp(ts, to) > 0) {
        *step = STEP_SEEK_TO;
        return 0;
    }
    *step = STEP_SKIP_KEY;
    return kv_ts_cmp(ts, from) > 0 ? changed(e, i, "value written", ts, from) : 0;
}

/* Moves the iterator as check_entry asked; `seek` is scratch. */
static int advance(kv_iter *it, enum step step, size_t plen, kv_ts to, kv_buf *seek)
{
    if (step == STEP_NEXT) {
        kv_iter_next(it);
        return 0;
    }
    size_t klen;
    const char *k = kv_iter_key(it, &klen);
    if (kv_buf_reserve(seek, plen + KV_MVCC_TS_LEN) != 0)
        return KV_ENOMEM;
    memcpy(seek->data, k, plen);
    if (step == STEP_SEEK_TO) {
        kv__mvcc_put_ts((uint8_t *)seek->data + plen, to);
        kv_iter_seek_ge(it, seek->data, plen + KV_MVCC_TS_LEN);
    } else {
        /* The prefix ends in its terminator 0x01; with 0x02 instead it is
         * the smallest key above every entry of this user key. */
        seek->data[plen - 1] = 0x02;
        kv_iter_seek_ge(it, seek->data, plen);
    }
    return 0;
}

int kv__eval_refresh(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    if (!e->is_txn)
        return kv__eval_errf(e, i, KV_EINVAL, "Refresh outside a transaction");
    kv_buf lo = {0}, hi = {0}, succ = {0}, seek = {0};
    kv_iter *it = NULL;
    kv_ts own_ts = {0, 0};
    int rc = encode_bounds(&q->span, &lo, &hi, &succ);
    if (rc == 0)
        rc = kv_iter_open(e->r->store->engine, NULL, KV_CF_MVCC, lo.data, lo.len, hi.data, hi.len,
                          &it, e->resp->msg, sizeof(e->resp->msg));
    if (rc != 0)
        goto out_free_bufs;
    kv_iter_seek_first(it);
    while (rc == 0 && kv_iter_valid(it)) {
        size_t plen;
        enum step step;
        rc = check_entry(e, i, it, q->u.refresh.from, &own_ts, &plen, &step);
        if (rc == 0)
            rc = advance(it, step, plen, e->txn.read_ts, &seek);
    }
    if (rc == 0)
        rc = kv_iter_status(it, e->resp->msg, sizeof(e->resp->msg));
    kv_iter_close(it);
    if (rc == 0)
        rc = kv__eval_add_read(e, q->span, e->txn.read_ts);
out_free_bufs:
    kv_buf_free(&seek);
    kv_buf_free(&succ);
    kv_buf_free(&hi);
    kv_buf_free(&lo);
    return rc;
}
