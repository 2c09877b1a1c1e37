/*
 * eval.c - evaluation of the data requests of a batch against MVCC.
 *
 * Each request reads the engine (latest state: the latches exclude every
 * conflicting writer) and adds its writes to the command's batch; nothing
 * is written to the engine here. Reads are noted for the timestamp cache
 * (recorded after the command applies). A write that must move up - above
 * a read in the timestamp cache or a newer committed version - sets
 * e->bump_to and fails with KV_EWRITETOOOLD; the replica re-evaluates the
 * whole batch at that timestamp.
 *
 * Timestamps: a transaction reads at read_ts and writes at write_ts; a
 * non-transactional batch does both at e->ts.
 */
#include <assert.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/store_int.h"

#define INCREMENT_LEN 8

static const kv_ts ts_max = {INT64_MAX, INT32_MAX};

kv_ts kv__ts_next(kv_ts t)
{
    if (t.logical == INT32_MAX)
        return (kv_ts){t.wall + 1, 0};
    return (kv_ts){t.wall, t.logical + 1};
}

static kv_ts read_ts(const kv__eval *e)
{
    return e->is_txn ? e->txn.read_ts : e->ts;
}

/* Where reads stop treating newer values as possibly earlier in real time
 * (mvcc.h). A transaction carries its limit; a non-transactional batch
 * has one only when its client chose the timestamp: a timestamp taken
 * from this replica's clock is above everything the replica has applied. */
static kv_ts uncertainty_limit(const kv__eval *e)
{
    if (e->is_txn) {
        const kv_txn *t = &e->txn;
        if (kv_ts_is_zero(t->observed_ts))
            return t->uncertainty_limit;
        /* An observation of this node's clock bounds what this node had
         * applied, not what an earlier leaseholder wrote below its lease
         * expiration, i.e. below our lease start (CockroachDB's local
         * uncertainty limit). */
        kv_ts local =
            kv_ts_cmp(t->observed_ts, e->lease_start) < 0 ? e->lease_start : t->observed_ts;
        return kv_ts_cmp(local, t->uncertainty_limit) < 0 ? local : t->uncertainty_limit;
    }
    kv_ts h = e->req->h.ts;
    if (kv_ts_is_zero(h))
        return h;
    return (kv_ts){h.wall + kv_hlc_max_offset(e->r->store->hlc), h.logical};
}

kv_ts kv__eval_read_horizon(const kv__eval *e)
{
    kv_ts limit = uncertainty_limit(e);
    return kv_ts_cmp(limit, read_ts(e)) > 0 ? limit : read_ts(e);
}

static kv_ts write_ts(const kv__eval *e)
{
    return e->is_txn ? e->txn.write_ts : e->ts;
}

static const kv_txn_meta *read_txn(const kv__eval *e)
{
    return e->is_txn ? &e->txn.meta : NULL;
}

static kv_mvcc_read_opts read_opts(const kv__eval *e)
{
    return (kv_mvcc_read_opts){
        .ts = read_ts(e), .txn = read_txn(e), .uncertainty_limit = uncertainty_limit(e)};
}

/* What the intents of this batch record, in *w (its anchor borrowed from
 * e->txn); NULL for one-phase commits, which write committed values: no
 * intent, no owner. */
static const kv_mvcc_writer *write_txn(const kv__eval *e, kv_mvcc_writer *w)
{
    if (!e->is_txn || e->one_pc)
        return NULL;
    assert(e->txn.anchor_key != NULL); /* kv_store_send sets it before the first write */
    *w = (kv_mvcc_writer){e->txn.meta, e->txn.priority, e->txn.anchor_key, e->txn.anchor_len};
    return w;
}

static int bump(kv__eval *e, kv_ts to)
{
    if (kv_ts_cmp(to, e->bump_to) > 0)
        e->bump_to = to;
    return KV_EWRITETOOOLD;
}

int kv__eval_add_read(kv__eval *e, kv_span span, kv_ts ts)
{
    kv__cmd *c = &e->cmd;
    if (c->n_reads == c->cap_reads) {
        size_t cap = c->cap_reads == 0 ? 8 : 2 * c->cap_reads;
        kv__read_span *reads = kv_arena_alloc(e->resp->arena, cap * sizeof(*reads));
        if (reads == NULL)
            return KV_ENOMEM;
        if (c->n_reads > 0)
            memcpy(reads, c->reads, c->n_reads * sizeof(*reads));
        c->reads = reads;
        c->cap_reads = cap;
    }
    c->reads[c->n_reads++] = (kv__read_span){span, ts};
    return 0;
}

/* Reports an MVCC error of request i, with the conflicting intent. A
 * non-transactional read meeting an uncertain value reads again above it
 * (its timestamp is the replica's to move); a transaction's coordinator
 * decides for itself (refresh or restart). */
static int mvcc_err(kv__eval *e, size_t i, int rc)
{
    kv_error_detail *d = &e->resp->detail;
    d->index = i;
    if (rc == KV_EREADUNCERTAIN && !e->is_txn)
        return bump(e, e->conflict.existing_ts);
    if (rc == KV_EREADUNCERTAIN)
        d->existing_ts = e->conflict.existing_ts;
    if (rc != KV_EWRITEINTENT)
        return rc;
    d->intent = e->conflict.intent;
    d->intent.anchor = kv_arena_dup(e->resp->arena, e->conflict.anchor.data, d->intent.anchor_len);
    d->intent_key.key = kv_arena_dup(e->resp->arena, e->conflict.key.data, e->conflict.key.len);
    d->intent_key.key_len = e->conflict.key.len;
    return d->intent_key.key == NULL || d->intent.anchor == NULL ? KV_ENOMEM : rc;
}

static int set_row(kv__eval *e, kv_row *row, const void *key, size_t klen, const void *val,
                   size_t vlen, kv_ts ts)
{
    row->key = kv_arena_dup(e->resp->arena, key, klen);
    row->value = kv_arena_dup(e->resp->arena, val, vlen);
    row->key_len = klen;
    row->value_len = vlen;
    row->ts = ts;
    return row->key == NULL || row->value == NULL ? KV_ENOMEM : 0;
}

static int eval_get(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    kv_resp *out = &e->resp->resps[i];
    kv_mvcc_read_opts ro = read_opts(e);
    kv_ts vts;
    int rc = kv_mvcc_get(e->r->store->engine, NULL, &ro, q->span.key, q->span.key_len, &e->scratch,
                         &vts, &e->conflict, e->resp->msg, sizeof(e->resp->msg));
    if (rc == 0) {
        out->found = true;
        rc = set_row(e, &out->row, q->span.key, q->span.key_len, e->scratch.data, e->scratch.len,
                     vts);
    } else if (rc == KV_ENOTFOUND) {
        rc = 0;
    } else {
        return mvcc_err(e, i, rc);
    }
    return rc != 0 ? rc : kv__eval_add_read(e, q->span, ro.ts);
}

/* Whether a timestamp cache answer is the writing transaction's own read,
 * which must not push its write. */
static bool own_read(const kv__eval *e, const kv_tscache_value *v)
{
    return e->is_txn && v->has_txn && memcmp(v->txn_id, e->txn.meta.id, KV_TXN_ID_LEN) == 0;
}

/* Writes a version of `key` (a tombstone when val is NULL) at the write
 * timestamp, above every read of the key served so far. */
static int write_key(kv__eval *e, size_t i, const void *key, size_t klen, const void *val,
                     size_t vlen)
{
    kv_ts ts = write_ts(e);
    kv_tscache_value tv;
    int rc = kv_tscache_lookup(e->r->tscache, key, klen, &tv);
    if (rc != 0)
        return rc;
    if (kv_ts_cmp(tv.ts, ts) >= 0 && !own_read(e, &tv))
        return bump(e, kv__ts_next(tv.ts));
    kv_engine *eng = e->r->store->engine;
    char *msg = e->resp->msg;
    kv_mvcc_writer w;
    const kv_mvcc_writer *txn = write_txn(e, &w);
    if (val == NULL)
        rc = kv_mvcc_delete(eng, NULL, e->cmd.batch, key, klen, ts, txn, &e->conflict, msg,
                            sizeof(e->resp->msg));
    else
        rc = kv_mvcc_put(eng, NULL, e->cmd.batch, key, klen, ts, txn, val, vlen, &e->conflict, msg,
                         sizeof(e->resp->msg));
    if (rc == KV_EWRITETOOOLD)
        return bump(e, kv__ts_next(e->conflict.existing_ts));
    return rc != 0 ? mvcc_err(e, i, rc) : 0;
}

static int eval_put(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    const void *val = q->u.put.value != NULL ? (const void *)q->u.put.value : "";
    return write_key(e, i, q->span.key, q->span.key_len, val, q->u.put.value_len);
}

static int eval_delete(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    return write_key(e, i, q->span.key, q->span.key_len, NULL, 0);
}

/* Reads the newest value of request i's key for a read-modify-write
 * (CPut, Increment) into e->scratch. A committed version above the write
 * timestamp means the write must move up anyway, so it does so now rather
 * than judge the condition on a stale value. */
static int read_current(kv__eval *e, size_t i, bool *exists)
{
    const kv_req *q = &e->req->reqs[i];
    kv_mvcc_read_opts ro = {.ts = ts_max, .txn = read_txn(e)};
    kv_ts vts;
    int rc = kv_mvcc_get(e->r->store->engine, NULL, &ro, q->span.key, q->span.key_len, &e->scratch,
                         &vts, &e->conflict, e->resp->msg, sizeof(e->resp->msg));
    *exists = rc == 0;
    if (rc == KV_ENOTFOUND)
        return 0;
    if (rc != 0)
        return mvcc_err(e, i, rc);
    if (kv_ts_cmp(vts, write_ts(e)) > 0)
        return bump(e, kv__ts_next(vts));
    return 0;
}

static int eval_cput(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    bool exists;
    int rc = read_current(e, i, &exists);
    if (rc != 0)
        return rc;
    bool match =
        exists == q->u.cput.exp_exists &&
        (!exists ||
         (e->scratch.len == q->u.cput.exp_len &&
          (e->scratch.len == 0 || memcmp(e->scratch.data, q->u.cput.exp, e->scratch.len) == 0)));
    if (!match) {
        kv_error_detail *d = &e->resp->detail;
        d->actual_exists = exists;
        d->actual = kv_arena_dup(e->resp->arena, e->scratch.data, exists ? e->scratch.len : 0);
        d->actual_len = exists ? e->scratch.len : 0;
        return kv__eval_errf(e, i, KV_ECONDFAILED, "request %zu: unexpected value", i);
    }
    const void *val = q->u.cput.value != NULL ? (const void *)q->u.cput.value : "";
    return write_key(e, i, q->span.key, q->span.key_len, val, q->u.cput.value_len);
}

static int eval_increment(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    bool exists;
    int rc = read_current(e, i, &exists);
    if (rc != 0)
        return rc;
    int64_t cur = 0;
    if (exists) {
        if (e->scratch.len != INCREMENT_LEN)
            return kv__eval_errf(e, i, KV_EINVAL, "request %zu: value is not an integer", i);
        cur = (int64_t)kv__get_be64((const uint8_t *)e->scratch.data);
    }
    int64_t next;
    if (__builtin_add_overflow(cur, q->u.inc.delta, &next))
        return kv__eval_errf(e, i, KV_EINVAL, "request %zu: integer overflow", i);
    uint8_t enc[INCREMENT_LEN];
    kv__put_be64(enc, (uint64_t)next);
    rc = write_key(e, i, q->span.key, q->span.key_len, enc, sizeof(enc));
    if (rc != 0)
        return rc;
    kv_resp *out = &e->resp->resps[i];
    out->new_value = next;
    return set_row(e, &out->row, q->span.key, q->span.key_len, enc, sizeof(enc), write_ts(e));
}

struct delete_range_state {
    kv__eval *e;
    size_t i;
    uint64_t n;
};

static int delete_range_cb(void *arg, const char *key, size_t klen, const char *val, size_t vlen,
                           kv_ts ts)
{
    (void)val;
    (void)vlen;
    (void)ts;
    struct delete_range_state *st = arg;
    int rc = write_key(st->e, st->i, key, klen, NULL, 0);
    st->n += rc == 0;
    return rc;
}

/* Deletes every key visible at the write timestamp. The span is recorded
 * as read at that timestamp, so no later write can slip a key in below the
 * deletion. */
static int eval_delete_range(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    struct delete_range_state st = {e, i, 0};
    kv_mvcc_read_opts ro = {.ts = write_ts(e), .txn = read_txn(e)};
    int rc = kv_mvcc_scan(e->r->store->engine, NULL, &ro, q->span.key, q->span.key_len,
                          q->span.end_key, q->span.end_len, delete_range_cb, &st, &e->conflict,
                          e->resp->msg, sizeof(e->resp->msg));
    if (rc == KV_EWRITEINTENT)
        return mvcc_err(e, i, rc);
    if (rc != 0)
        return rc;
    e->resp->resps[i].n_deleted = st.n;
    return kv__eval_add_read(e, q->span, ro.ts);
}

struct scan_state {
    kv__eval *e;
    const kv_req *q;
    kv_resp *out;
    size_t cap;
    size_t bytes;
    bool full; /* a limit is reached: the next key becomes the resume key */
};

static int scan_resume(struct scan_state *st, const char *key, size_t klen)
{
    kv_arena *a = st->e->resp->arena;
    kv_span *r = &st->out->resume;
    if (st->q->method == KV_SCAN) {
        *r = (kv_span){kv_arena_dup(a, key, klen), klen, st->q->span.end_key, st->q->span.end_len};
        r->end_key = kv_arena_dup(a, r->end_key, r->end_len);
    } else {
        /* Reverse: everything up to and including `key`, i.e. [start, key\0). */
        uint8_t *end = kv_arena_alloc(a, klen + 1);
        if (end != NULL) {
            memcpy(end, key, klen);
            end[klen] = 0;
        }
        *r = (kv_span){kv_arena_dup(a, st->q->span.key, st->q->span.key_len), st->q->span.key_len,
                       end, klen + 1};
    }
    return r->key == NULL || r->end_key == NULL ? KV_ENOMEM : 1;
}

static int scan_cb(void *arg, const char *key, size_t klen, const char *val, size_t vlen, kv_ts ts)
{
    struct scan_state *st = arg;
    kv_resp *out = st->out;
    if (st->full)
        return scan_resume(st, key, klen);
    if (out->n_rows == st->cap) {
        st->cap = st->cap == 0 ? 16 : 2 * st->cap;
        kv_row *rows = kv_arena_alloc(st->e->resp->arena, st->cap * sizeof(*rows));
        if (rows == NULL)
            return KV_ENOMEM;
        if (out->n_rows > 0)
            memcpy(rows, out->rows, out->n_rows * sizeof(*rows));
        out->rows = rows;
    }
    int rc = set_row(st->e, &out->rows[out->n_rows++], key, klen, val, vlen, ts);
    st->bytes += klen + vlen;
    size_t max_rows = st->q->u.scan.max_rows, max_bytes = st->q->u.scan.max_bytes;
    st->full =
        (max_rows > 0 && out->n_rows >= max_rows) || (max_bytes > 0 && st->bytes >= max_bytes);
    return rc;
}

/* The part of the scan's span actually read (up to the resume span). */
static kv_span scanned_span(const kv_req *q, const kv_resp *out)
{
    kv_span s = q->span;
    if (out->resume.key == NULL)
        return s;
    if (q->method == KV_SCAN) {
        s.end_key = out->resume.key;
        s.end_len = out->resume.key_len;
    } else {
        s.key = out->resume.end_key;
        s.key_len = out->resume.end_len;
    }
    return s;
}

static int eval_scan(kv__eval *e, size_t i)
{
    const kv_req *q = &e->req->reqs[i];
    struct scan_state st = {.e = e, .q = q, .out = &e->resp->resps[i]};
    kv_mvcc_read_opts ro = read_opts(e);
    ro.reverse = q->method == KV_REVERSE_SCAN;
    int rc = kv_mvcc_scan(e->r->store->engine, NULL, &ro, q->span.key, q->span.key_len,
                          q->span.end_key, q->span.end_len, scan_cb, &st, &e->conflict,
                          e->resp->msg, sizeof(e->resp->msg));
    if (rc == KV_EWRITEINTENT || rc == KV_EREADUNCERTAIN)
        return mvcc_err(e, i, rc);
    if (rc != 0)
        return rc;
    kv_span read = scanned_span(q, st.out);
    /* A resume exactly at the start reads nothing; the span would be empty. */
    if (kv__key_cmp(read.key, read.key_len, read.end_key, read.end_len) >= 0)
        return 0;
    return kv__eval_add_read(e, read, ro.ts);
}

/* A transaction whose EndTxn commits in this same batch on this range
 * writes committed values directly (one-phase commit): the batch is
 * atomic, so intents and a record would only be written to be removed. */
static bool one_phase(const kv__eval *e)
{
    const kv_req *last = &e->req->reqs[e->req->n - 1];
    return e->is_txn && last->method == KV_END_TXN && last->u.end_txn.commit &&
           last->u.end_txn.n_lock_spans == 0 && e->req->n > 1;
}

typedef int (*eval_fn)(kv__eval *e, size_t i);

static const eval_fn eval_fns[KV_METHOD_COUNT] = {
    [KV_GET] = eval_get,
    [KV_PUT] = eval_put,
    [KV_CPUT] = eval_cput,
    [KV_INCREMENT] = eval_increment,
    [KV_DELETE] = eval_delete,
    [KV_DELETE_RANGE] = eval_delete_range,
    [KV_SCAN] = eval_scan,
    [KV_REVERSE_SCAN] = eval_scan,
    [KV_END_TXN] = kv__eval_end_txn,
    [KV_RESOLVE_INTENT] = kv__eval_resolve,
    [KV_PUSH_TXN] = kv__eval_push_txn,
    [KV_QUERY_TXN] = kv__eval_query_txn,
    [KV_HEARTBEAT_TXN] = kv__eval_heartbeat_txn,
    [KV_REFRESH] = kv__eval_refresh,
};

int kv__eval_batch(kv__eval *e)
{
    e->one_pc = one_phase(e);
    for (size_t i = 0; i < e->req->n; i++) {
        int rc = eval_fns[e->req->reqs[i].method](e, i);
        if (rc != 0)
            return rc;
    }
    return 0;
}
