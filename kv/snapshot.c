/*
 * snapshot.c - a range's data as a stream of chunks (kv/snapshot.h).
 *
 * Chunk (byte table also in docs/kv.md, "Snapshots"):
 *
 *   offset  size  field
 *   0       1     format version = 1
 *   1       1     flags: 0x01 final chunk; other bits zero
 *   2       8     range id, big-endian
 *   10      4     sequence number, big-endian, 0 for the first chunk
 *   14      4     raw length r: bytes of records before compression
 *   18      4     CRC-32 (zlib's crc32, IEEE polynomial) of bytes 0..17
 *                 followed by the lz4 block
 *   22      n     lz4 block (LZ4_compress_default) of the r raw bytes,
 *                 to the end of the chunk
 *
 * Raw bytes: records back to back, each
 *
 *   0       1     column family (kv_cf)
 *   1       4     key length k, big-endian
 *   5       4     value length v, big-endian
 *   9       k     key
 *   9+k     v     value
 *
 * The checksum covers the compressed bytes, so a damaged chunk is rejected
 * before anything is allocated for or decompressed from it; the raw length
 * is still bounded by lz4's ratio so that a bad sender cannot make the
 * receiver allocate more than a fixed multiple of the chunk.
 *
 * Both sides derive the same table of owned spans from the descriptor: the
 * sender iterates it in order (user data, transaction records, descriptor,
 * applied state), the receiver deletes it on open and accepts only keys in
 * it.
 */
#include <assert.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/raft_storage_int.h"
#include "kv/snapshot.h"
#include "kv/store_int.h"

#define SNAP_VERSION     1
#define SNAP_FLAG_LAST   0x01
#define SNAP_HEADER_LEN  22
#define SNAP_ID_OFF      2 /* header field offsets, per the table above */
#define SNAP_SEQ_OFF     10
#define SNAP_RAW_OFF     14
#define SNAP_CRC_OFF     18
#define SNAP_REC_FIXED   9
#define SNAP_CHUNK_DEF   ((size_t)1 << 20)
#define SNAP_CHUNK_MAX   ((size_t)1 << 30)
#define SNAP_RAW_MAX     ((size_t)LZ4_MAX_INPUT_SIZE)
#define SNAP_BLOCK_MAX   ((size_t)LZ4_COMPRESSBOUND(LZ4_MAX_INPUT_SIZE))
#define SNAP_LZ4_RATIO   255 /* an lz4 block never decodes to more than 255x its size */
#define SNAP_TRUNC_VALUE 16  /* truncated state: index 8, term 8 */

/* The spans a range owns, in the order the sender streams them; the
 * applied state goes last so that the data precedes what describes it. */
enum snap_span { SPAN_MVCC, SPAN_TXN, SPAN_DESC, SPAN_APPLIED, SPAN_COUNT };

/* [lo, hi) of one column family; hi.len == 0: no upper bound. */
struct span {
    kv_cf cf;
    kv_buf lo, hi;
};

struct kv_snap_sender {
    kv_engine *e;
    kv_snapshot *snap;
    uint64_t range_id;
    struct span spans[SPAN_COUNT];
    size_t target;
    int cur;     /* span being read; SPAN_COUNT once all are exhausted */
    kv_iter *it; /* over spans[cur], on the next record to send */
    uint32_t seq;
    bool sent_last;
    kv_buf raw;
};

struct kv_snap_receiver {
    kv_engine *e;
    uint64_t range_id;
    struct span spans[SPAN_COUNT];
    uint32_t next_seq;
    bool got_last;
    bool have_applied;
    kv_applied_state applied;
    kv_buf applied_val; /* held back until finish */
    kv_buf raw;
    kv_batch *batch;
};

/* ---- the span table ----------------------------------------------------------- */

/* The transaction-record bound for user key `key`: 0x03 + escaped key, i.e.
 * a record key of txn_record.c without its id. Records anchored below `key`
 * sort before it and those anchored at or above it after, because escaped
 * keys are prefix-free. */
static int txn_bound(kv_buf *out, const uint8_t *key, size_t len)
{
    static const uint8_t no_id[KV_TXN_ID_LEN];
    int rc = kv__txn_record_key(out, key, len, no_id);
    if (rc == 0)
        out->len -= KV_TXN_ID_LEN;
    return rc;
}

/* Exactly the one local key of `kind`: [key, key + 0x00). */
static int local_span(struct span *sp, uint64_t range_id, enum kv_local_kind kind)
{
    uint8_t key[KV_LOCAL_KEY_MAX + 1];
    size_t n = kv_local_key(key, range_id, kind, 0);
    key[n] = 0x00;
    sp->cf = KV_CF_LOCAL;
    int rc = kv_buf_set(&sp->lo, key, n);
    return rc ? rc : kv_buf_set(&sp->hi, key, n + 1);
}

static void spans_free(struct span sp[SPAN_COUNT])
{
    for (int i = 0; i < SPAN_COUNT; i++) {
        kv_buf_free(&sp[i].lo);
        kv_buf_free(&sp[i].hi);
    }
}

/* Fills the span table of `d`; on failure the caller frees it. KV_ENOMEM. */
static int spans_build(const kv_range_desc *d, struct span sp[SPAN_COUNT])
{
    static const uint8_t txn_end = KV_LOCAL_TXN_MARKER + 1;
    bool bounded = d->end_len > 0;
    sp[SPAN_MVCC].cf = KV_CF_MVCC;
    sp[SPAN_TXN].cf = KV_CF_LOCAL;
    int rc = kv_mvcc_encode_key(&sp[SPAN_MVCC].lo, d->start_key, d->start_len, NULL);
    if (rc == 0 && bounded)
        rc = kv_mvcc_encode_key(&sp[SPAN_MVCC].hi, d->end_key, d->end_len, NULL);
    if (rc == 0)
        rc = txn_bound(&sp[SPAN_TXN].lo, d->start_key, d->start_len);
    if (rc == 0)
        rc = bounded ? txn_bound(&sp[SPAN_TXN].hi, d->end_key, d->end_len)
                     : kv_buf_set(&sp[SPAN_TXN].hi, &txn_end, 1);
    if (rc == 0)
        rc = local_span(&sp[SPAN_DESC], d->range_id, KV_LOCAL_DESCRIPTOR);
    if (rc == 0)
        rc = local_span(&sp[SPAN_APPLIED], d->range_id, KV_LOCAL_APPLIED_STATE);
    return rc;
}

/* The span holding (cf, key), or SPAN_COUNT if the range does not own it. */
static int spans_find(const struct span sp[SPAN_COUNT], kv_cf cf, const void *key, size_t klen)
{
    for (int i = 0; i < SPAN_COUNT; i++) {
        const struct span *s = &sp[i];
        if (s->cf == cf && kv__key_cmp(key, klen, s->lo.data, s->lo.len) >= 0 &&
            (s->hi.len == 0 || kv__key_cmp(key, klen, s->hi.data, s->hi.len) < 0))
            return i;
    }
    return SPAN_COUNT;
}

static int span_iter(kv_engine *e, const kv_snapshot *snap, const struct span *s, kv_iter **out,
                     char *err, size_t errlen)
{
    return kv_iter_open(e, snap, s->cf, s->lo.data, s->lo.len, s->hi.len ? s->hi.data : NULL,
                        s->hi.len, out, err, errlen);
}

/* ---- chunk header ------------------------------------------------------------- */

static uint32_t chunk_crc(const uint8_t *chunk, const uint8_t *block, size_t blen)
{
    uLong crc = crc32(0L, chunk, SNAP_CRC_OFF);
    /* zlib takes uInt lengths; blocks are at most SNAP_BLOCK_MAX < 2^31 */
    return (uint32_t)crc32(crc, block, (uInt)blen);
}

/* Compresses s->raw into `chunk` behind its header. */
static int chunk_encode(kv_snap_sender *s, bool last, kv_buf *chunk)
{
    int bound = LZ4_compressBound((int)s->raw.len);
    int rc = kv_buf_reserve(chunk, SNAP_HEADER_LEN + (size_t)bound);
    if (rc != 0)
        return rc;
    uint8_t *p = (uint8_t *)chunk->data;
    int n = LZ4_compress_default(s->raw.data, (char *)p + SNAP_HEADER_LEN, (int)s->raw.len, bound);
    assert(n > 0); /* cannot fail with a compressBound-sized output */
    p[0] = SNAP_VERSION;
    p[1] = last ? SNAP_FLAG_LAST : 0;
    kv__put_be64(p + SNAP_ID_OFF, s->range_id);
    kv__put_be32(p + SNAP_SEQ_OFF, s->seq);
    kv__put_be32(p + SNAP_RAW_OFF, (uint32_t)s->raw.len);
    kv__put_be32(p + SNAP_CRC_OFF, chunk_crc(p, p + SNAP_HEADER_LEN, (size_t)n));
    chunk->len = SNAP_HEADER_LEN + (size_t)n;
    return 0;
}

/* The parsed header of a chunk whose checksum matched. */
struct chunk_hdr {
    bool last;
    uint32_t seq;
    size_t raw_len;
    const uint8_t *block;
    size_t block_len;
};

static int chunk_decode_header(const kv_snap_receiver *r, const uint8_t *p, size_t len,
                               struct chunk_hdr *h, char *err, size_t errlen)
{
    if (len <= SNAP_HEADER_LEN || len - SNAP_HEADER_LEN > SNAP_BLOCK_MAX)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot chunk of %zu bytes", len);
    h->block = p + SNAP_HEADER_LEN;
    h->block_len = len - SNAP_HEADER_LEN;
    if (kv__get_be32(p + SNAP_CRC_OFF) != chunk_crc(p, h->block, h->block_len))
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot chunk: checksum mismatch");
    if (p[0] != SNAP_VERSION || (p[1] & ~SNAP_FLAG_LAST) != 0)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot chunk: version %u, flags 0x%02x", p[0],
                        p[1]);
    h->last = p[1] & SNAP_FLAG_LAST;
    h->seq = kv__get_be32(p + SNAP_SEQ_OFF);
    h->raw_len = kv__get_be32(p + SNAP_RAW_OFF);
    if (kv__get_be64(p + SNAP_ID_OFF) != r->range_id)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot chunk for range %llu, not %llu",
                        (unsigned long long)kv__get_be64(p + SNAP_ID_OFF),
                        (unsigned long long)r->range_id);
    if (r->got_last || h->seq != r->next_seq)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot chunk %u out of sequence (expected %s)",
                        h->seq, r->got_last ? "none after the final one" : "the next one");
    if (h->raw_len > SNAP_RAW_MAX || h->raw_len > h->block_len * SNAP_LZ4_RATIO)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot chunk: raw length %zu", h->raw_len);
    return 0;
}

/* ---- sender ------------------------------------------------------------------- */

/* Positions s->it on the next record to send, moving on through the spans;
 * s->cur == SPAN_COUNT once there is none. */
static int sender_settle(kv_snap_sender *s, char *err, size_t errlen)
{
    while (s->cur < SPAN_COUNT) {
        if (s->it == NULL) {
            int rc = span_iter(s->e, s->snap, &s->spans[s->cur], &s->it, err, errlen);
            if (rc != 0)
                return rc;
            kv_iter_seek_first(s->it);
        }
        if (kv_iter_valid(s->it))
            return 0;
        int rc = kv_iter_status(s->it, err, errlen);
        if (rc != 0)
            return rc;
        kv_iter_close(s->it);
        s->it = NULL;
        s->cur++;
    }
    return 0;
}

/* Appends the record under s->it to s->raw. */
static int sender_append(kv_snap_sender *s, char *err, size_t errlen)
{
    size_t klen, vlen;
    const char *k = kv_iter_key(s->it, &klen);
    const char *v = kv_iter_value(s->it, &vlen);
    size_t n = SNAP_REC_FIXED + klen + vlen;
    if (n > SNAP_RAW_MAX - s->raw.len)
        return kv__errf(err, errlen, KV_EINVAL, "snapshot: record of %zu bytes too large", n);
    if (kv_buf_reserve(&s->raw, s->raw.len + n) != 0)
        return kv__errf(err, errlen, KV_ENOMEM, "snapshot: out of memory");
    uint8_t *p = (uint8_t *)s->raw.data + s->raw.len;
    p[0] = (uint8_t)s->spans[s->cur].cf;
    kv__put_be32(p + 1, (uint32_t)klen);
    kv__put_be32(p + 5, (uint32_t)vlen);
    memcpy(p + SNAP_REC_FIXED, k, klen);
    if (vlen > 0)
        memcpy(p + SNAP_REC_FIXED + klen, v, vlen);
    s->raw.len += n;
    return 0;
}

/* Reads and decodes the applied state at the sender's snapshot. */
static int sender_read_applied(kv_snap_sender *s, kv_applied_state *applied, char *err,
                               size_t errlen)
{
    const struct span *a = &s->spans[SPAN_APPLIED];
    int rc = kv_engine_get(s->e, s->snap, KV_CF_LOCAL, a->lo.data, a->lo.len, &s->raw, err, errlen);
    if (rc == KV_ENOTFOUND)
        return kv__errf(err, errlen, rc, "range %llu has no applied state",
                        (unsigned long long)s->range_id);
    if (rc == 0 && kv__raft_applied_decode((uint8_t *)s->raw.data, s->raw.len, applied) != 0)
        return kv__errf(err, errlen, KV_ECORRUPT, "range %llu: corrupt applied state",
                        (unsigned long long)s->range_id);
    return rc;
}

int kv_snap_sender_open(kv_engine *e, const kv_range_desc *desc, size_t chunk_bytes,
                        kv_snap_sender **out, kv_applied_state *applied, char *err, size_t errlen)
{
    if (chunk_bytes > SNAP_CHUNK_MAX)
        return kv__errf(err, errlen, KV_EINVAL, "snapshot chunk size %zu above %zu", chunk_bytes,
                        SNAP_CHUNK_MAX);
    kv_snap_sender *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return kv__errf(err, errlen, KV_ENOMEM, "snapshot sender: out of memory");
    s->e = e;
    s->range_id = desc->range_id;
    s->target = chunk_bytes ? chunk_bytes : SNAP_CHUNK_DEF;
    int rc = spans_build(desc, s->spans);
    if (rc != 0 || (rc = kv_snapshot_open(e, &s->snap)) != 0) {
        kv__errf(err, errlen, rc, "snapshot sender: out of memory");
        goto out_free_sender;
    }
    rc = sender_read_applied(s, applied, err, errlen);
    if (rc == 0)
        rc = sender_settle(s, err, errlen);
    if (rc != 0)
        goto out_free_sender;
    *out = s;
    return 0;

out_free_sender:
    kv_snap_sender_close(s);
    return rc;
}

int kv_snap_sender_next(kv_snap_sender *s, kv_buf *chunk, bool *last, char *err, size_t errlen)
{
    if (s->sent_last)
        return kv__errf(err, errlen, KV_EINVAL, "snapshot: the final chunk was already sent");
    s->raw.len = 0;
    while (s->cur < SPAN_COUNT && s->raw.len < s->target) {
        int rc = sender_append(s, err, errlen);
        if (rc != 0)
            return rc;
        kv_iter_next(s->it);
        if ((rc = sender_settle(s, err, errlen)) != 0)
            return rc;
    }
    bool done = s->cur == SPAN_COUNT;
    if (chunk_encode(s, done, chunk) != 0)
        return kv__errf(err, errlen, KV_ENOMEM, "snapshot: out of memory");
    s->seq++;
    s->sent_last = done;
    *last = done;
    return 0;
}

void kv_snap_sender_close(kv_snap_sender *s)
{
    if (s == NULL)
        return;
    kv_iter_close(s->it);
    kv_snapshot_close(s->snap);
    spans_free(s->spans);
    kv_buf_free(&s->raw);
    free(s);
}

/* ---- receiver ----------------------------------------------------------------- */

/* Adds the deletion of span `s` to r->batch. Without an upper bound the
 * range tombstone ends just above the span's last key, found by seeking. */
static int receiver_clear_span(kv_snap_receiver *r, const struct span *s, char *err, size_t errlen)
{
    if (s->hi.len > 0)
        return kv_batch_delete_range(r->batch, r->e, s->cf, s->lo.data, s->lo.len, s->hi.data,
                                     s->hi.len);
    kv_iter *it;
    int rc = span_iter(r->e, NULL, s, &it, err, errlen);
    if (rc != 0)
        return rc;
    kv_iter_seek_last(it);
    rc = kv_iter_status(it, err, errlen);
    if (rc == 0 && kv_iter_valid(it)) {
        size_t klen;
        const char *k = kv_iter_key(it, &klen);
        rc = kv_buf_reserve(&r->raw, klen + 1);
        if (rc == 0) {
            memcpy(r->raw.data, k, klen);
            r->raw.data[klen] = 0x00; /* the smallest key above k */
            rc = kv_batch_delete_range(r->batch, r->e, s->cf, s->lo.data, s->lo.len, r->raw.data,
                                       klen + 1);
        }
    }
    kv_iter_close(it);
    return rc;
}

/* Adds to r->batch the deletion of everything the range owns and of its
 * truncated state and log; the hard state stays. */
static int receiver_clear(kv_snap_receiver *r, char *err, size_t errlen)
{
    uint8_t lo[KV_LOCAL_KEY_MAX], hi[KV_LOCAL_KEY_MAX];
    int rc = 0;
    for (int i = 0; i < SPAN_COUNT && rc == 0; i++)
        rc = receiver_clear_span(r, &r->spans[i], err, errlen);
    if (rc == 0) {
        size_t n = kv_local_key(lo, r->range_id, KV_LOCAL_RAFT_TRUNCATED, 0);
        rc = kv_batch_delete(r->batch, r->e, KV_CF_LOCAL, lo, n);
    }
    if (rc == 0) {
        size_t n = kv_local_key(lo, r->range_id, KV_LOCAL_RAFT_LOG, 0);
        size_t m = kv_local_range_end(hi, r->range_id);
        rc = kv_batch_delete_range(r->batch, r->e, KV_CF_LOCAL, lo, n, hi, m);
    }
    return rc;
}

int kv_snap_receiver_open(kv_engine *e, const kv_range_desc *desc, kv_snap_receiver **out,
                          char *err, size_t errlen)
{
    kv_snap_receiver *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return kv__errf(err, errlen, KV_ENOMEM, "snapshot receiver: out of memory");
    r->e = e;
    r->range_id = desc->range_id;
    int rc = spans_build(desc, r->spans);
    if (rc != 0 || (rc = kv_batch_create(&r->batch)) != 0) {
        kv__errf(err, errlen, rc, "snapshot receiver: out of memory");
        goto out_free_receiver;
    }
    rc = receiver_clear(r, err, errlen);
    if (rc == 0)
        rc = kv_engine_write(e, r->batch, false, err, errlen);
    if (rc != 0)
        goto out_free_receiver;
    kv_batch_clear(r->batch);
    *out = r;
    return 0;

out_free_receiver:
    kv_snap_receiver_close(r);
    return rc;
}

/* What parsing one chunk found besides the records put in the batch. */
struct chunk_found {
    const uint8_t *applied; /* borrowed from r->raw */
    size_t applied_len;
    kv_applied_state as;
};

/* Validates one record and puts it into r->batch, or into *f for the
 * applied state. */
static int receiver_record(kv_snap_receiver *r, uint8_t cf, const uint8_t *k, size_t klen,
                           const uint8_t *v, size_t vlen, struct chunk_found *f, char *err,
                           size_t errlen)
{
    int span = cf < KV_CF_COUNT ? spans_find(r->spans, (kv_cf)cf, k, klen) : SPAN_COUNT;
    if (span == SPAN_COUNT)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot: key outside range %llu (cf %u)",
                        (unsigned long long)r->range_id, cf);
    if (span != SPAN_APPLIED) {
        if (kv_batch_put(r->batch, r->e, (kv_cf)cf, k, klen, v, vlen) != 0)
            return kv__errf(err, errlen, KV_ENOMEM, "snapshot receiver: out of memory");
        return 0;
    }
    if (r->have_applied || f->applied != NULL)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot: applied state sent twice");
    if (kv__raft_applied_decode(v, vlen, &f->as) != 0)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot: corrupt applied state");
    f->applied = v;
    f->applied_len = vlen;
    return 0;
}

/* Parses the records of r->raw into r->batch and *f. */
static int receiver_parse(kv_snap_receiver *r, struct chunk_found *f, char *err, size_t errlen)
{
    const uint8_t *p = (const uint8_t *)r->raw.data, *end = p + r->raw.len;
    while (p < end) {
        if ((size_t)(end - p) < SNAP_REC_FIXED)
            return kv__errf(err, errlen, KV_ECORRUPT, "snapshot: truncated record");
        size_t klen = kv__get_be32(p + 1), vlen = kv__get_be32(p + 5);
        if ((size_t)(end - p) - SNAP_REC_FIXED < klen + vlen)
            return kv__errf(err, errlen, KV_ECORRUPT, "snapshot: record overruns its chunk");
        const uint8_t *k = p + SNAP_REC_FIXED;
        int rc = receiver_record(r, p[0], k, klen, k + klen, vlen, f, err, errlen);
        if (rc != 0)
            return rc;
        p = k + klen + vlen;
    }
    return 0;
}

/* Decompresses the chunk into r->raw and parses it into r->batch and *f. */
static int receiver_unpack(kv_snap_receiver *r, const struct chunk_hdr *h, struct chunk_found *f,
                           char *err, size_t errlen)
{
    /* + 1: a buffer even for the empty final chunk of an empty range */
    if (kv_buf_reserve(&r->raw, h->raw_len + 1) != 0)
        return kv__errf(err, errlen, KV_ENOMEM, "snapshot receiver: out of memory");
    int n = LZ4_decompress_safe((const char *)h->block, r->raw.data, (int)h->block_len,
                                (int)h->raw_len);
    if (n < 0 || (size_t)n != h->raw_len)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot chunk: bad lz4 block");
    r->raw.len = (size_t)n;
    return receiver_parse(r, f, err, errlen);
}

int kv_snap_receiver_add(kv_snap_receiver *r, const void *chunk, size_t len, char *err,
                         size_t errlen)
{
    struct chunk_hdr h = {0};
    struct chunk_found f = {0};
    int rc = chunk_decode_header(r, chunk, len, &h, err, errlen);
    if (rc == 0)
        rc = receiver_unpack(r, &h, &f, err, errlen);
    if (rc == 0 && f.applied != NULL && kv_buf_set(&r->applied_val, f.applied, f.applied_len))
        rc = kv__errf(err, errlen, KV_ENOMEM, "snapshot receiver: out of memory");
    if (rc == 0)
        rc = kv_engine_write(r->e, r->batch, false, err, errlen);
    kv_batch_clear(r->batch);
    if (rc != 0)
        return rc;
    if (f.applied != NULL) {
        r->applied = f.as;
        r->have_applied = true;
    }
    r->next_seq++;
    r->got_last = h.last;
    return 0;
}

int kv_snap_receiver_finish(kv_snap_receiver *r, kv_applied_state *applied, char *err,
                            size_t errlen)
{
    if (!r->got_last)
        return kv__errf(err, errlen, KV_EINVAL, "snapshot: the final chunk has not arrived");
    if (!r->have_applied)
        return kv__errf(err, errlen, KV_ECORRUPT, "snapshot of range %llu had no applied state",
                        (unsigned long long)r->range_id);
    uint8_t key[KV_LOCAL_KEY_MAX], trunc[SNAP_TRUNC_VALUE];
    size_t klen = kv_local_key(key, r->range_id, KV_LOCAL_RAFT_TRUNCATED, 0);
    const struct span *a = &r->spans[SPAN_APPLIED];
    kv__put_be64(trunc, r->applied.index);
    kv__put_be64(trunc + 8, r->applied.term);
    int rc = kv_batch_put(r->batch, r->e, KV_CF_LOCAL, key, klen, trunc, sizeof trunc);
    if (rc == 0)
        rc = kv_batch_put(r->batch, r->e, KV_CF_LOCAL, a->lo.data, a->lo.len, r->applied_val.data,
                          r->applied_val.len);
    if (rc == 0)
        rc = kv_engine_write(r->e, r->batch, true, err, errlen);
    else
        kv__errf(err, errlen, rc, "snapshot receiver: out of memory");
    kv_batch_clear(r->batch);
    if (rc == 0)
        *applied = r->applied;
    return rc;
}

void kv_snap_receiver_close(kv_snap_receiver *r)
{
    if (r == NULL)
        return;
    kv_batch_destroy(r->batch);
    spans_free(r->spans);
    kv_buf_free(&r->applied_val);
    kv_buf_free(&r->raw);
    free(r);
}
