/*
 * txn_record.c - transaction records: their keys and their values.
 *
 * A record lives in KV_CF_LOCAL under a key derived from the transaction's
 * anchor (its first written key), not from a range id, so that it stays
 * with the range holding the anchor when ranges split or merge:
 *
 *   offset  size  field
 *   0       1     0x03 KV_LOCAL_TXN_MARKER
 *   1       n     anchor key, escaped and terminated as in MVCC keys
 *   1+n     16    transaction id
 *
 * Value (byte table also in docs/kv.md):
 *
 *   offset  size  field
 *   0       1     0x01 format version
 *   1       1     status: 0 pending, 1 committed, 2 aborted
 *   2       4     epoch, big-endian
 *   6       4     priority, big-endian two's complement
 *   10      12    write ts (commit ts once committed): wall 8, logical 4
 *   22      12    last heartbeat ts: wall 8, logical 4
 *   34      4     lock span count c, big-endian
 *   38      ...   c spans: key length k (4), key, end length e (4), end
 *                 (e == 0: the single key)
 */
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/store_int.h"

#define RECORD_VERSION 0x01
#define RECORD_FIXED   38

int kv__txn_record_key(kv_buf *out, const void *anchor, size_t alen,
                       const uint8_t id[KV_TXN_ID_LEN])
{
    kv_buf esc = {0};
    int rc = kv_mvcc_encode_key(&esc, anchor, alen, NULL);
    if (rc == 0)
        rc = kv_buf_reserve(out, 1 + esc.len + KV_TXN_ID_LEN);
    if (rc == 0) {
        out->data[0] = KV_LOCAL_TXN_MARKER;
        memcpy(out->data + 1, esc.data, esc.len);
        memcpy(out->data + 1 + esc.len, id, KV_TXN_ID_LEN);
        out->len = 1 + esc.len + KV_TXN_ID_LEN;
    }
    kv_buf_free(&esc);
    return rc;
}

static void put_ts(uint8_t *p, kv_ts t)
{
    kv__put_be64(p, (uint64_t)t.wall);
    kv__put_be32(p + 8, (uint32_t)t.logical);
}

static kv_ts get_ts(const uint8_t *p)
{
    return (kv_ts){(int64_t)kv__get_be64(p), (int32_t)kv__get_be32(p + 8)};
}

static uint8_t *put_bytes(uint8_t *p, const uint8_t *b, size_t n)
{
    kv__put_be32(p, (uint32_t)n);
    if (n > 0)
        memcpy(p + 4, b, n);
    return p + 4 + n;
}

int kv__txn_record_encode(const kv__txn_record *rec, kv_buf *out)
{
    size_t n = RECORD_FIXED;
    for (size_t i = 0; i < rec->n_lock_spans; i++)
        n += 8 + rec->lock_spans[i].key_len + rec->lock_spans[i].end_len;
    int rc = kv_buf_reserve(out, n);
    if (rc != 0)
        return rc;
    uint8_t *p = (uint8_t *)out->data;
    p[0] = RECORD_VERSION;
    p[1] = (uint8_t)rec->status;
    kv__put_be32(p + 2, rec->epoch);
    kv__put_be32(p + 6, (uint32_t)rec->priority);
    put_ts(p + 10, rec->write_ts);
    put_ts(p + 22, rec->heartbeat);
    kv__put_be32(p + 34, (uint32_t)rec->n_lock_spans);
    p += RECORD_FIXED;
    for (size_t i = 0; i < rec->n_lock_spans; i++) {
        const kv_span *s = &rec->lock_spans[i];
        p = put_bytes(p, s->key, s->key_len);
        p = put_bytes(p, s->end_key, s->end_key == NULL ? 0 : s->end_len);
    }
    out->len = n;
    return 0;
}

/* Reads a length-prefixed byte string at *p into the arena, advancing *p.
 * KV_ECORRUPT if it overruns `end`. */
static int take_bytes(const uint8_t **p, const uint8_t *end, kv_arena *a, const uint8_t **out,
                      size_t *len)
{
    if (end - *p < 4)
        return KV_ECORRUPT;
    *len = kv__get_be32(*p);
    if ((size_t)(end - *p - 4) < *len)
        return KV_ECORRUPT;
    *out = kv_arena_dup(a, *p + 4, *len);
    *p += 4 + *len;
    return *out == NULL ? KV_ENOMEM : 0;
}

static int decode_spans(const uint8_t *p, const uint8_t *end, kv_arena *a, kv__txn_record *out)
{
    kv_span *spans = kv_arena_alloc(a, out->n_lock_spans * sizeof(*spans));
    if (spans == NULL)
        return KV_ENOMEM;
    for (size_t i = 0; i < out->n_lock_spans; i++) {
        kv_span *s = &spans[i];
        int rc = take_bytes(&p, end, a, &s->key, &s->key_len);
        if (rc == 0)
            rc = take_bytes(&p, end, a, &s->end_key, &s->end_len);
        if (rc != 0)
            return rc;
        if (s->end_len == 0)
            s->end_key = NULL;
        else if (kv__key_cmp(s->key, s->key_len, s->end_key, s->end_len) >= 0)
            return KV_ECORRUPT;
    }
    out->lock_spans = spans;
    return p == end ? 0 : KV_ECORRUPT;
}

int kv__txn_record_decode(const void *data, size_t n, kv_arena *a, kv__txn_record *out)
{
    const uint8_t *p = data;
    memset(out, 0, sizeof(*out));
    if (n < RECORD_FIXED || p[0] != RECORD_VERSION || p[1] > KV_TXN_STATE_ABORTED)
        return KV_ECORRUPT;
    out->status = (kv_txn_state)p[1];
    out->epoch = kv__get_be32(p + 2);
    out->priority = (int32_t)kv__get_be32(p + 6);
    out->write_ts = get_ts(p + 10);
    out->heartbeat = get_ts(p + 22);
    out->n_lock_spans = kv__get_be32(p + 34);
    /* Each span takes at least 8 bytes: reject absurd counts before
     * allocating for them. */
    if (out->n_lock_spans > (n - RECORD_FIXED) / 8)
        return KV_ECORRUPT;
    return decode_spans(p + RECORD_FIXED, p + n, a, out);
}
