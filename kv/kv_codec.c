/*
 * kv_codec.c - the wire encoding of kv_request and kv_response; byte tables
 * in docs/kv.md, "Wire format of batches".
 *
 * Fixed-width big-endian integers, like kv's other formats: easy to audit,
 * and a decoder reads each field with one bounds check. A byte string is a
 * 4-byte length and the bytes, the length 0xFFFFFFFF standing for NULL, so
 * NULL and empty stay apart. The optional parts of a response (the error
 * detail's, each kv_resp's) are named in a bit set and sent only when they
 * are not all zero: a Put's answer is 2 bytes, yet every field of every
 * method round-trips without a per-method table that could drift from the
 * evaluator.
 *
 * Writers append through wr_room, which grows the kv_buf geometrically;
 * readers go through rd_take, which checks the bytes left first. Both keep
 * the first error and turn later calls into no-ops, so field lists read
 * straight through and are checked once at the end.
 */
#include <assert.h>
#include <string.h>

#include "kv/kv_codec.h"
#include "kv/kv_int.h"

#define CODEC_VERSION 1
#define NULL_LEN      UINT32_MAX /* length word of a NULL byte string */
#define META_SIZE     (KV_TXN_ID_LEN + 8)

/* The fewest bytes an item can take on the wire: what bounds a count. */
#define MIN_REQ_SIZE  9  /* method, two byte-string lengths */
#define MIN_SPAN_SIZE 8  /* two byte-string lengths */
#define MIN_RESP_SIZE 2  /* method, parts */
#define MIN_ROW_SIZE  20 /* two byte-string lengths, timestamp */

/* Request header flags. */
#define REQ_HAS_TXN 0x01
#define REQ_NO_WAIT 0x02

/* Response header flags. */
#define RESP_HAS_TXN 0x01
#define RESP_TXN     0x02 /* the txn is not all zero and follows */

/* Error detail parts that follow. */
#define DET_INDEX       0x01
#define DET_DESC        0x02
#define DET_INTENT      0x04
#define DET_INTENT_KEY  0x08
#define DET_EXISTING_TS 0x10
#define DET_ACTUAL      0x20
#define DET_LEASEHOLDER 0x40
#define DET_ALL         0x7f

/* kv_resp parts: two booleans, then the parts that follow, in this order. */
#define R_FOUND     0x01
#define R_PUSHED    0x02
#define R_ROW       0x04
#define R_NEW_VALUE 0x08
#define R_ROWS      0x10
#define R_RESUME    0x20
#define R_N_DELETED 0x40
#define R_TXN       0x80

/* ---- which parts are worth sending ----------------------------------- */

static bool absent(const void *p, size_t n)
{
    return p == NULL && n == 0;
}

static bool meta_zero(const kv_txn_meta *m)
{
    static const uint8_t zero_id[KV_TXN_ID_LEN];
    return memcmp(m->id, zero_id, KV_TXN_ID_LEN) == 0 && m->epoch == 0 && m->seq == 0;
}

static bool span_zero(const kv_span *s)
{
    return absent(s->key, s->key_len) && absent(s->end_key, s->end_len);
}

static bool txn_zero(const kv_txn *t)
{
    return meta_zero(&t->meta) && t->priority == 0 && kv_ts_is_zero(t->read_ts) &&
           kv_ts_is_zero(t->write_ts) && t->status == KV_TXN_STATE_PENDING &&
           absent(t->anchor_key, t->anchor_len) && kv_ts_is_zero(t->uncertainty_limit) &&
           kv_ts_is_zero(t->observed_ts);
}

static bool row_zero(const kv_row *r)
{
    return absent(r->key, r->key_len) && absent(r->value, r->value_len) && kv_ts_is_zero(r->ts);
}

static bool desc_zero(const kv_range_desc *d)
{
    return d->range_id == 0 && d->generation == 0 && absent(d->start_key, d->start_len) &&
           absent(d->end_key, d->end_len) && d->n_replicas == 0;
}

static bool intent_zero(const kv_intent *in)
{
    return meta_zero(&in->txn) && kv_ts_is_zero(in->ts) && in->priority == 0 &&
           absent(in->anchor, in->anchor_len);
}

static uint8_t detail_parts(const kv_error_detail *d)
{
    return (d->index != 0 ? DET_INDEX : 0) | (!desc_zero(&d->desc) ? DET_DESC : 0) |
           (!intent_zero(&d->intent) ? DET_INTENT : 0) |
           (!span_zero(&d->intent_key) ? DET_INTENT_KEY : 0) |
           (!kv_ts_is_zero(d->existing_ts) ? DET_EXISTING_TS : 0) |
           (d->actual_exists || !absent(d->actual, d->actual_len) ? DET_ACTUAL : 0) |
           (d->leaseholder != 0 ? DET_LEASEHOLDER : 0);
}

static uint8_t resp_parts(const kv_resp *q)
{
    assert(q->rows != NULL || q->n_rows == 0);
    return (q->found ? R_FOUND : 0) | (q->pushed ? R_PUSHED : 0) |
           (!row_zero(&q->row) ? R_ROW : 0) | (q->new_value != 0 ? R_NEW_VALUE : 0) |
           (q->rows != NULL ? R_ROWS : 0) | (!span_zero(&q->resume) ? R_RESUME : 0) |
           (q->n_deleted != 0 ? R_N_DELETED : 0) | (!txn_zero(&q->txn) ? R_TXN : 0);
}

/* ---- writer ----------------------------------------------------------- */

typedef struct wr {
    kv_buf *b;
    int err;
} wr;

static void wr_fail(wr *w, int code)
{
    if (w->err == 0)
        w->err = code;
}

/* Appends n bytes to the buffer and returns them to be filled; NULL once
 * an error happened. */
static uint8_t *wr_room(wr *w, size_t n)
{
    if (w->err != 0)
        return NULL;
    if (w->b->cap - w->b->len < n) {
        int rc = kv_buf_reserve(w->b, w->b->len + n);
        if (rc != 0) {
            wr_fail(w, rc);
            return NULL;
        }
    }
    uint8_t *p = (uint8_t *)w->b->data + w->b->len;
    w->b->len += n;
    return p;
}

static void wr_u8(wr *w, uint8_t v)
{
    uint8_t *p = wr_room(w, 1);
    if (p != NULL)
        *p = v;
}

static void wr_u32(wr *w, uint32_t v)
{
    uint8_t *p = wr_room(w, 4);
    if (p != NULL)
        kv__put_be32(p, v);
}

static void wr_u64(wr *w, uint64_t v)
{
    uint8_t *p = wr_room(w, 8);
    if (p != NULL)
        kv__put_be64(p, v);
}

static void wr_bool(wr *w, bool v)
{
    wr_u8(w, v ? 1 : 0);
}

static void wr_count(wr *w, size_t n)
{
    if (n > UINT32_MAX)
        wr_fail(w, KV_EINVAL);
    else
        wr_u32(w, (uint32_t)n);
}

static void wr_bytes(wr *w, const uint8_t *d, size_t n)
{
    assert(d != NULL || n == 0);
    if (d == NULL) {
        wr_u32(w, NULL_LEN);
        return;
    }
    if (n >= NULL_LEN) {
        wr_fail(w, KV_EINVAL);
        return;
    }
    uint8_t *p = wr_room(w, 4 + n);
    if (p == NULL)
        return;
    kv__put_be32(p, (uint32_t)n);
    if (n > 0)
        memcpy(p + 4, d, n);
}

static void wr_ts(wr *w, kv_ts ts)
{
    wr_u64(w, (uint64_t)ts.wall);
    wr_u32(w, (uint32_t)ts.logical);
}

static void wr_meta(wr *w, const kv_txn_meta *m)
{
    uint8_t *p = wr_room(w, META_SIZE);
    if (p == NULL)
        return;
    memcpy(p, m->id, KV_TXN_ID_LEN);
    kv__put_be32(p + KV_TXN_ID_LEN, m->epoch);
    kv__put_be32(p + KV_TXN_ID_LEN + 4, m->seq);
}

static void wr_span(wr *w, const kv_span *s)
{
    wr_bytes(w, s->key, s->key_len);
    wr_bytes(w, s->end_key, s->end_len);
}

static void wr_txn(wr *w, const kv_txn *t)
{
    assert((unsigned)t->status <= KV_TXN_STATE_ABORTED);
    wr_meta(w, &t->meta);
    wr_u32(w, (uint32_t)t->priority);
    wr_ts(w, t->read_ts);
    wr_ts(w, t->write_ts);
    wr_u8(w, (uint8_t)t->status);
    wr_ts(w, t->uncertainty_limit);
    wr_ts(w, t->observed_ts);
    wr_bytes(w, t->anchor_key, t->anchor_len);
}

static void wr_row(wr *w, const kv_row *r)
{
    wr_bytes(w, r->key, r->key_len);
    wr_bytes(w, r->value, r->value_len);
    wr_ts(w, r->ts);
}

/* ---- reader ----------------------------------------------------------- */

typedef struct rd {
    const uint8_t *p, *end;
    int err;
} rd;

static void rd_fail(rd *r, int code)
{
    if (r->err == 0)
        r->err = code;
}

/* The next n bytes of the input; NULL (KV_ECORRUPT) if fewer are left. */
static const uint8_t *rd_take(rd *r, size_t n)
{
    if (r->err != 0)
        return NULL;
    if ((size_t)(r->end - r->p) < n) {
        rd_fail(r, KV_ECORRUPT);
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static uint8_t rd_u8(rd *r)
{
    const uint8_t *p = rd_take(r, 1);
    return p != NULL ? *p : 0;
}

static uint32_t rd_u32(rd *r)
{
    const uint8_t *p = rd_take(r, 4);
    return p != NULL ? kv__get_be32(p) : 0;
}

static uint64_t rd_u64(rd *r)
{
    const uint8_t *p = rd_take(r, 8);
    return p != NULL ? kv__get_be64(p) : 0;
}

static bool rd_bool(rd *r)
{
    uint8_t v = rd_u8(r);
    if (v > 1)
        rd_fail(r, KV_ECORRUPT);
    return v == 1;
}

/* An enum value below `count`. */
static unsigned rd_enum(rd *r, unsigned count)
{
    uint8_t v = rd_u8(r);
    if (v >= count) {
        rd_fail(r, KV_ECORRUPT);
        return 0;
    }
    return v;
}

/* A flag byte with no bits outside `allowed`. */
static uint8_t rd_flags(rd *r, uint8_t allowed)
{
    uint8_t v = rd_u8(r);
    if ((v & ~allowed) != 0) {
        rd_fail(r, KV_ECORRUPT);
        return 0;
    }
    return v;
}

/* A count of items of at least `min_size` bytes each. More than the bytes
 * left can hold is corrupt, so no allocation exceeds a fixed multiple of
 * the input's size (and a 4-byte count times a struct size cannot overflow
 * a 64-bit size_t). */
static size_t rd_count(rd *r, size_t min_size)
{
    uint32_t n = rd_u32(r);
    if (n > (size_t)(r->end - r->p) / min_size) {
        rd_fail(r, KV_ECORRUPT);
        return 0;
    }
    return n;
}

/* A byte string, pointing into the input; NULL for the NULL marker. */
static const uint8_t *rd_bytes(rd *r, size_t *len)
{
    uint32_t n = rd_u32(r);
    *len = 0;
    if (r->err != 0 || n == NULL_LEN)
        return NULL;
    const uint8_t *p = rd_take(r, n);
    if (p != NULL)
        *len = n;
    return p;
}

static kv_ts rd_ts(rd *r)
{
    kv_ts ts;
    ts.wall = (int64_t)rd_u64(r);
    ts.logical = (int32_t)rd_u32(r);
    return ts;
}

static void rd_meta(rd *r, kv_txn_meta *m)
{
    const uint8_t *p = rd_take(r, META_SIZE);
    memset(m, 0, sizeof(*m));
    if (p == NULL)
        return;
    memcpy(m->id, p, KV_TXN_ID_LEN);
    m->epoch = kv__get_be32(p + KV_TXN_ID_LEN);
    m->seq = kv__get_be32(p + KV_TXN_ID_LEN + 4);
}

static void rd_span(rd *r, kv_span *s)
{
    s->key = rd_bytes(r, &s->key_len);
    s->end_key = rd_bytes(r, &s->end_len);
}

static void rd_txn(rd *r, kv_txn *t)
{
    rd_meta(r, &t->meta);
    t->priority = (int32_t)rd_u32(r);
    t->read_ts = rd_ts(r);
    t->write_ts = rd_ts(r);
    t->status = (kv_txn_state)rd_enum(r, KV_TXN_STATE_ABORTED + 1);
    t->uncertainty_limit = rd_ts(r);
    t->observed_ts = rd_ts(r);
    t->anchor_key = rd_bytes(r, &t->anchor_len);
}

static void rd_row(rd *r, kv_row *row)
{
    row->key = rd_bytes(r, &row->key_len);
    row->value = rd_bytes(r, &row->value_len);
    row->ts = rd_ts(r);
}

static void rd_version(rd *r)
{
    if (rd_u8(r) != CODEC_VERSION)
        rd_fail(r, KV_ECORRUPT);
}

/* The decode's result: its first error, or KV_ECORRUPT for trailing bytes. */
static int rd_done(rd *r)
{
    if (r->err == 0 && r->p != r->end)
        rd_fail(r, KV_ECORRUPT);
    return r->err;
}

/* ---- requests --------------------------------------------------------- */

static void wr_args(wr *w, const kv_req *q)
{
    switch (q->method) {
    case KV_PUT:
        wr_bytes(w, q->u.put.value, q->u.put.value_len);
        break;
    case KV_CPUT:
        wr_bytes(w, q->u.cput.value, q->u.cput.value_len);
        wr_bool(w, q->u.cput.exp_exists);
        wr_bytes(w, q->u.cput.exp, q->u.cput.exp_len);
        break;
    case KV_INCREMENT:
        wr_u64(w, (uint64_t)q->u.inc.delta);
        break;
    case KV_SCAN:
    case KV_REVERSE_SCAN:
        wr_u64(w, q->u.scan.max_rows);
        wr_u64(w, q->u.scan.max_bytes);
        break;
    case KV_END_TXN:
        wr_bool(w, q->u.end_txn.commit);
        wr_count(w, q->u.end_txn.n_lock_spans);
        for (size_t i = 0; i < q->u.end_txn.n_lock_spans && w->err == 0; i++)
            wr_span(w, &q->u.end_txn.lock_spans[i]);
        break;
    case KV_RESOLVE_INTENT:
        assert((unsigned)q->u.resolve.status <= KV_TXN_ABORTED);
        wr_meta(w, &q->u.resolve.txn);
        wr_u8(w, (uint8_t)q->u.resolve.status);
        wr_ts(w, q->u.resolve.commit_ts);
        wr_bool(w, q->u.resolve.pending);
        break;
    case KV_PUSH_TXN:
        assert((unsigned)q->u.push.type <= KV_PUSH_FORCE_ABORT);
        wr_meta(w, &q->u.push.pushee);
        wr_u32(w, (uint32_t)q->u.push.pushee_priority);
        wr_ts(w, q->u.push.intent_ts);
        wr_u32(w, (uint32_t)q->u.push.pusher_priority);
        wr_u8(w, (uint8_t)q->u.push.type);
        wr_ts(w, q->u.push.push_to);
        break;
    case KV_QUERY_TXN:
        wr_meta(w, &q->u.query.txn);
        break;
    case KV_REFRESH:
        wr_ts(w, q->u.refresh.from);
        break;
    default: /* Get, Delete, DeleteRange, HeartbeatTxn: the span says all */
        break;
    }
}

int kv_request_encode(const kv_request *req, kv_buf *out)
{
    wr w = {out, 0};
    out->len = 0;
    wr_u8(&w, CODEC_VERSION);
    wr_u8(&w, (req->h.txn != NULL ? REQ_HAS_TXN : 0) | (req->h.no_wait ? REQ_NO_WAIT : 0));
    wr_ts(&w, req->h.ts);
    if (req->h.txn != NULL)
        wr_txn(&w, req->h.txn);
    wr_count(&w, req->n);
    for (size_t i = 0; i < req->n && w.err == 0; i++) {
        const kv_req *q = &req->reqs[i];
        assert((unsigned)q->method < KV_METHOD_COUNT);
        wr_u8(&w, (uint8_t)q->method);
        wr_span(&w, &q->span);
        wr_args(&w, q);
    }
    if (w.err != 0)
        out->len = 0;
    return w.err;
}

/* EndTxn's lock spans, pointing into the input. The array is allocated in
 * the request's arena and copied again by kv_request_add; the first copy
 * (at most 4 times the spans' wire size) dies with the arena, which costs
 * less than a malloc/free pair and needs no cleanup path. */
static void rd_lock_spans(rd *r, kv_arena *a, kv_req *q)
{
    size_t n = rd_count(r, MIN_SPAN_SIZE);
    kv_span *spans = kv_arena_alloc(a, n * sizeof(*spans));
    if (spans == NULL) {
        rd_fail(r, KV_ENOMEM);
        return;
    }
    for (size_t i = 0; i < n && r->err == 0; i++)
        rd_span(r, &spans[i]);
    q->u.end_txn.lock_spans = spans;
    q->u.end_txn.n_lock_spans = n;
}

static void rd_args(rd *r, kv_arena *a, kv_req *q)
{
    switch (q->method) {
    case KV_PUT:
        q->u.put.value = rd_bytes(r, &q->u.put.value_len);
        break;
    case KV_CPUT:
        q->u.cput.value = rd_bytes(r, &q->u.cput.value_len);
        q->u.cput.exp_exists = rd_bool(r);
        q->u.cput.exp = rd_bytes(r, &q->u.cput.exp_len);
        break;
    case KV_INCREMENT:
        q->u.inc.delta = (int64_t)rd_u64(r);
        break;
    case KV_SCAN:
    case KV_REVERSE_SCAN:
        q->u.scan.max_rows = rd_u64(r);
        q->u.scan.max_bytes = rd_u64(r);
        break;
    case KV_END_TXN:
        q->u.end_txn.commit = rd_bool(r);
        rd_lock_spans(r, a, q);
        break;
    case KV_RESOLVE_INTENT:
        rd_meta(r, &q->u.resolve.txn);
        q->u.resolve.status = (kv_txn_status)rd_enum(r, KV_TXN_ABORTED + 1);
        q->u.resolve.commit_ts = rd_ts(r);
        q->u.resolve.pending = rd_bool(r);
        break;
    case KV_PUSH_TXN:
        rd_meta(r, &q->u.push.pushee);
        q->u.push.pushee_priority = (int32_t)rd_u32(r);
        q->u.push.intent_ts = rd_ts(r);
        q->u.push.pusher_priority = (int32_t)rd_u32(r);
        q->u.push.type = (kv_push_type)rd_enum(r, KV_PUSH_FORCE_ABORT + 1);
        q->u.push.push_to = rd_ts(r);
        break;
    case KV_QUERY_TXN:
        rd_meta(r, &q->u.query.txn);
        break;
    case KV_REFRESH:
        q->u.refresh.from = rd_ts(r);
        break;
    default:
        break;
    }
}

/* One request, appended with kv_request_add so that it is validated (and
 * its byte strings copied) exactly as a locally built one. */
static void rd_req(rd *r, kv_request *req)
{
    kv_req q;
    memset(&q, 0, sizeof(q));
    q.method = (kv_method)rd_enum(r, KV_METHOD_COUNT);
    rd_span(r, &q.span);
    rd_args(r, req->arena, &q);
    if (r->err != 0)
        return;
    int rc = kv_request_add(req, &q);
    rd_fail(r, rc == KV_EINVAL ? KV_ECORRUPT : rc);
}

int kv_request_decode(const void *p, size_t n, kv_request *req)
{
    assert(req->n == 0 && req->h.txn == NULL);
    if (n == 0)
        return KV_ECORRUPT;
    rd r = {p, (const uint8_t *)p + n, 0};
    rd_version(&r);
    uint8_t flags = rd_flags(&r, REQ_HAS_TXN | REQ_NO_WAIT);
    req->h.ts = rd_ts(&r);
    req->h.no_wait = (flags & REQ_NO_WAIT) != 0;
    if (flags & REQ_HAS_TXN) {
        kv_txn txn;
        rd_txn(&r, &txn);
        if (r.err == 0)
            rd_fail(&r, kv_request_set_txn(req, &txn));
    }
    size_t count = rd_count(&r, MIN_REQ_SIZE);
    for (size_t i = 0; i < count && r.err == 0; i++)
        rd_req(&r, req);
    return rd_done(&r);
}

/* ---- responses -------------------------------------------------------- */

static void wr_desc(wr *w, const kv_range_desc *d)
{
    assert(d->n_replicas <= KV_MAX_REPLICAS);
    wr_u64(w, d->range_id);
    wr_u64(w, d->generation);
    wr_bytes(w, d->start_key, d->start_len);
    wr_bytes(w, d->end_key, d->end_len);
    wr_u8(w, (uint8_t)d->n_replicas);
    for (uint32_t i = 0; i < d->n_replicas; i++) {
        wr_u32(w, d->replicas[i].node_id);
        wr_u32(w, d->replicas[i].store_id);
        wr_u32(w, d->replicas[i].replica_id);
    }
}

static void wr_detail(wr *w, const kv_error_detail *d)
{
    uint8_t parts = detail_parts(d);
    wr_u8(w, parts);
    if (parts & DET_INDEX)
        wr_u64(w, d->index);
    if (parts & DET_DESC)
        wr_desc(w, &d->desc);
    if (parts & DET_INTENT) {
        wr_meta(w, &d->intent.txn);
        wr_ts(w, d->intent.ts);
        wr_u32(w, (uint32_t)d->intent.priority);
        wr_bytes(w, d->intent.anchor, d->intent.anchor_len);
    }
    if (parts & DET_INTENT_KEY)
        wr_span(w, &d->intent_key);
    if (parts & DET_EXISTING_TS)
        wr_ts(w, d->existing_ts);
    if (parts & DET_ACTUAL) {
        wr_bool(w, d->actual_exists);
        wr_bytes(w, d->actual, d->actual_len);
    }
    if (parts & DET_LEASEHOLDER)
        wr_u64(w, d->leaseholder);
}

static void wr_resp(wr *w, const kv_resp *q)
{
    assert((unsigned)q->method < KV_METHOD_COUNT);
    uint8_t parts = resp_parts(q);
    wr_u8(w, (uint8_t)q->method);
    wr_u8(w, parts);
    if (parts & R_ROW)
        wr_row(w, &q->row);
    if (parts & R_NEW_VALUE)
        wr_u64(w, (uint64_t)q->new_value);
    if (parts & R_ROWS) {
        wr_count(w, q->n_rows);
        for (size_t i = 0; i < q->n_rows && w->err == 0; i++)
            wr_row(w, &q->rows[i]);
    }
    if (parts & R_RESUME)
        wr_span(w, &q->resume);
    if (parts & R_N_DELETED)
        wr_u64(w, q->n_deleted);
    if (parts & R_TXN)
        wr_txn(w, &q->txn);
}

static void wr_msg(wr *w, const char *msg, size_t cap)
{
    size_t m = strnlen(msg, cap);
    assert(m < cap);
    wr_u8(w, (uint8_t)m);
    uint8_t *p = wr_room(w, m);
    if (p != NULL && m > 0)
        memcpy(p, msg, m);
}

int kv_response_encode(const kv_response *resp, kv_buf *out)
{
    _Static_assert(KV__IDX_COUNT < 256, "an error index must fit one byte");
    _Static_assert(sizeof(resp->msg) <= 256, "a message length must fit one byte");
    assert(resp->err <= 0 && -resp->err <= KV__IDX_COUNT);
    wr w = {out, 0};
    out->len = 0;
    bool txn = !txn_zero(&resp->txn);
    wr_u8(&w, CODEC_VERSION);
    wr_u8(&w, (uint8_t)-resp->err);
    wr_u8(&w, (resp->has_txn ? RESP_HAS_TXN : 0) | (txn ? RESP_TXN : 0));
    wr_ts(&w, resp->ts);
    wr_msg(&w, resp->msg, sizeof(resp->msg));
    if (txn)
        wr_txn(&w, &resp->txn);
    wr_detail(&w, &resp->detail);
    wr_count(&w, resp->n);
    for (size_t i = 0; i < resp->n && w.err == 0; i++)
        wr_resp(&w, &resp->resps[i]);
    if (w.err != 0)
        out->len = 0;
    return w.err;
}

static void rd_desc(rd *r, kv_range_desc *d)
{
    d->range_id = rd_u64(r);
    d->generation = rd_u64(r);
    d->start_key = rd_bytes(r, &d->start_len);
    d->end_key = rd_bytes(r, &d->end_len);
    d->n_replicas = rd_u8(r);
    if (d->n_replicas > KV_MAX_REPLICAS) {
        rd_fail(r, KV_ECORRUPT);
        d->n_replicas = 0;
    }
    for (uint32_t i = 0; i < d->n_replicas; i++) {
        d->replicas[i].node_id = rd_u32(r);
        d->replicas[i].store_id = rd_u32(r);
        d->replicas[i].replica_id = rd_u32(r);
    }
}

/* The detail in the (zeroed) response; parts not sent stay zero. */
static void rd_detail(rd *r, kv_error_detail *d)
{
    uint8_t parts = rd_flags(r, DET_ALL);
    if (parts & DET_INDEX)
        d->index = rd_u64(r);
    if (parts & DET_DESC)
        rd_desc(r, &d->desc);
    if (parts & DET_INTENT) {
        rd_meta(r, &d->intent.txn);
        d->intent.ts = rd_ts(r);
        d->intent.priority = (int32_t)rd_u32(r);
        d->intent.anchor = rd_bytes(r, &d->intent.anchor_len);
    }
    if (parts & DET_INTENT_KEY)
        rd_span(r, &d->intent_key);
    if (parts & DET_EXISTING_TS)
        d->existing_ts = rd_ts(r);
    if (parts & DET_ACTUAL) {
        d->actual_exists = rd_bool(r);
        d->actual = rd_bytes(r, &d->actual_len);
    }
    if (parts & DET_LEASEHOLDER)
        d->leaseholder = rd_u64(r);
}

static void rd_rows(rd *r, kv_arena *a, kv_resp *q)
{
    size_t n = rd_count(r, MIN_ROW_SIZE);
    q->rows = kv_arena_alloc(a, n * sizeof(*q->rows));
    if (q->rows == NULL) {
        rd_fail(r, KV_ENOMEM);
        return;
    }
    for (size_t i = 0; i < n && r->err == 0; i++)
        rd_row(r, &q->rows[i]);
    q->n_rows = r->err == 0 ? n : 0;
}

static void rd_resp(rd *r, kv_arena *a, kv_resp *q)
{
    memset(q, 0, sizeof(*q));
    q->method = (kv_method)rd_enum(r, KV_METHOD_COUNT);
    uint8_t parts = rd_u8(r);
    q->found = (parts & R_FOUND) != 0;
    q->pushed = (parts & R_PUSHED) != 0;
    if (parts & R_ROW)
        rd_row(r, &q->row);
    if (parts & R_NEW_VALUE)
        q->new_value = (int64_t)rd_u64(r);
    if (parts & R_ROWS)
        rd_rows(r, a, q);
    if (parts & R_RESUME)
        rd_span(r, &q->resume);
    if (parts & R_N_DELETED)
        q->n_deleted = rd_u64(r);
    if (parts & R_TXN)
        rd_txn(r, &q->txn);
}

/* The message: at most sizeof(msg) - 1 bytes, none of them NUL, so it
 * comes back NUL-terminated and equal to what was sent. */
static void rd_msg(rd *r, char *msg, size_t cap)
{
    size_t m = rd_u8(r);
    if (m >= cap) {
        rd_fail(r, KV_ECORRUPT);
        return;
    }
    const uint8_t *p = rd_take(r, m);
    if (p == NULL)
        return;
    if (memchr(p, '\0', m) != NULL) {
        rd_fail(r, KV_ECORRUPT);
        return;
    }
    memcpy(msg, p, m);
    msg[m] = '\0';
}

static void rd_resps(rd *r, kv_response *resp)
{
    size_t n = rd_count(r, MIN_RESP_SIZE);
    resp->resps = kv_arena_alloc(resp->arena, n * sizeof(*resp->resps));
    if (resp->resps == NULL) {
        rd_fail(r, KV_ENOMEM);
        return;
    }
    for (size_t i = 0; i < n && r->err == 0; i++)
        rd_resp(r, resp->arena, &resp->resps[i]);
    resp->n = r->err == 0 ? n : 0;
}

int kv_response_decode(const void *p, size_t n, kv_response *resp)
{
    assert(resp->n == 0 && resp->resps == NULL);
    if (n == 0)
        return KV_ECORRUPT;
    /* One copy of the whole input, and every byte string points into it:
     * one allocation instead of one per key and value. */
    const uint8_t *copy = kv_arena_dup(resp->arena, p, n);
    if (copy == NULL)
        return KV_ENOMEM;
    rd r = {copy, copy + n, 0};
    rd_version(&r);
    unsigned err = rd_enum(&r, KV__IDX_COUNT + 1);
    resp->err = -(int)err;
    uint8_t flags = rd_flags(&r, RESP_HAS_TXN | RESP_TXN);
    resp->has_txn = (flags & RESP_HAS_TXN) != 0;
    resp->ts = rd_ts(&r);
    rd_msg(&r, resp->msg, sizeof(resp->msg));
    if (flags & RESP_TXN)
        rd_txn(&r, &resp->txn);
    rd_detail(&r, &resp->detail);
    rd_resps(&r, resp);
    return rd_done(&r);
}
