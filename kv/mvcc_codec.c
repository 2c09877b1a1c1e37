/*
 * mvcc_codec.c - order-preserving MVCC key encoding, intent metadata and
 * version values (byte tables in docs/storage.md).
 *
 * Key = escape(user key) [+ timestamp]. Escaping maps 0x00 to 0x00 0xFF and
 * ends with 0x00 0x01, so the escaped form sorts like the user key and no
 * escaped key is a prefix of another: all entries of one user key are
 * contiguous, and the bare escaped key (the intent metadata) sorts before
 * its versions. The timestamp is stored big-endian with the sign bit flipped
 * and all bits inverted, so newer versions sort first.
 */
#include <assert.h>
#include <string.h>

#include "kv/engine_int.h"
#include "kv/kv_int.h"
#include "kv/mvcc_int.h"

int kv_ts_cmp(kv_ts a, kv_ts b)
{
    if (a.wall != b.wall)
        return a.wall < b.wall ? -1 : 1;
    if (a.logical != b.logical)
        return a.logical < b.logical ? -1 : 1;
    return 0;
}

bool kv_ts_is_zero(kv_ts t)
{
    return t.wall == 0 && t.logical == 0;
}

size_t kv__mvcc_escape(uint8_t *dst, const uint8_t *key, size_t klen)
{
    size_t n = 0;
    for (size_t i = 0; i < klen; i++) {
        dst[n++] = key[i];
        if (key[i] == 0x00)
            dst[n++] = 0xFF;
    }
    dst[n++] = 0x00;
    dst[n++] = 0x01;
    return n;
}

void kv__mvcc_put_ts(uint8_t *dst, kv_ts ts)
{
    kv__put_be64(dst, ~((uint64_t)ts.wall ^ UINT64_C(0x8000000000000000)));
    kv__put_be32(dst + 8, ~((uint32_t)ts.logical ^ UINT32_C(0x80000000)));
}

static kv_ts get_ts(const uint8_t *src)
{
    kv_ts ts;
    ts.wall = (int64_t)(~kv__get_be64(src) ^ UINT64_C(0x8000000000000000));
    ts.logical = (int32_t)(~kv__get_be32(src + 8) ^ UINT32_C(0x80000000));
    return ts;
}

size_t kv__mvcc_prefix_len(const char *key, size_t len)
{
    for (const char *z = key; (z = memchr(z, 0x00, len - (size_t)(z - key))) != NULL; z += 2) {
        if ((size_t)(z - key) + 1 >= len)
            return 0;
        if (z[1] == 0x01)
            return (size_t)(z - key) + 2;
    }
    return 0;
}

int kv__mvcc_split_key(const uint8_t *enc, size_t len, size_t *plen, bool *is_meta, kv_ts *ts)
{
    size_t i = 0;
    for (;;) {
        const uint8_t *z = i < len ? memchr(enc + i, 0x00, len - i) : NULL;
        if (z == NULL || (size_t)(z - enc) + 1 >= len)
            return KV_ECORRUPT; /* no terminator */
        i = (size_t)(z - enc) + 2;
        if (z[1] == 0x01)
            break;
        if (z[1] != 0xFF)
            return KV_ECORRUPT; /* 0x00 followed by neither escape nor end */
    }
    *plen = i;
    if (len == i) {
        *is_meta = true;
        *ts = (kv_ts){0, 0};
        return 0;
    }
    if (len != i + KV_MVCC_TS_LEN)
        return KV_ECORRUPT;
    *is_meta = false;
    *ts = get_ts(enc + i);
    return 0;
}

int kv__mvcc_unescape(const uint8_t *p, size_t plen, kv_buf *out)
{
    int rc = kv_buf_reserve(out, plen);
    if (rc != 0)
        return rc;
    assert(plen >= 2);
    size_t n = 0;
    for (size_t i = 0; i < plen - 2; i++) { /* the last two bytes are the terminator */
        out->data[n++] = (char)p[i];
        if (p[i] == 0x00)
            i++; /* skip the 0xFF escape */
    }
    out->len = n;
    return 0;
}

int kv_mvcc_encode_key(kv_buf *out, const void *key, size_t klen, const kv_ts *ts)
{
    int rc = kv_buf_reserve(out, KV__MVCC_ESCAPED_MAX(klen) + KV_MVCC_TS_LEN);
    if (rc != 0)
        return rc;
    size_t n = kv__mvcc_escape((uint8_t *)out->data, key, klen);
    if (ts != NULL) {
        kv__mvcc_put_ts((uint8_t *)out->data + n, *ts);
        n += KV_MVCC_TS_LEN;
    }
    out->len = n;
    return 0;
}

int kv_mvcc_decode_key(const void *enc, size_t len, kv_buf *user_key, kv_ts *ts, bool *is_meta)
{
    size_t plen;
    int rc = kv__mvcc_split_key(enc, len, &plen, is_meta, ts);
    if (rc != 0)
        return rc;
    return kv__mvcc_unescape(enc, plen, user_key);
}

/*
 * Intent metadata, KV__MVCC_META_FIXED_LEN + anchor length bytes:
 *   0  tag 0x04 | 1 txn id (16) | 17 wall BE (8) | 25 logical BE (4)
 *   29 epoch BE (4) | 33 seq BE (4) | 37 priority BE (4)
 *   41 anchor length BE (4) | 45 anchor key
 */
void kv__mvcc_encode_meta(uint8_t *out, const kv_intent *in)
{
    assert(in->anchor_len <= UINT32_MAX);
    out[0] = KV__MVCC_TAG_META;
    memcpy(out + 1, in->txn.id, KV_TXN_ID_LEN);
    kv__put_be64(out + 17, (uint64_t)in->ts.wall);
    kv__put_be32(out + 25, (uint32_t)in->ts.logical);
    kv__put_be32(out + 29, in->txn.epoch);
    kv__put_be32(out + 33, in->txn.seq);
    kv__put_be32(out + 37, (uint32_t)in->priority);
    kv__put_be32(out + 41, (uint32_t)in->anchor_len);
}

int kv__mvcc_decode_meta(const uint8_t *p, size_t len, kv_intent *out)
{
    if (len < KV__MVCC_META_FIXED_LEN || p[0] != KV__MVCC_TAG_META ||
        kv__get_be32(p + 41) != len - KV__MVCC_META_FIXED_LEN)
        return KV_ECORRUPT;
    memcpy(out->txn.id, p + 1, KV_TXN_ID_LEN);
    out->ts.wall = (int64_t)kv__get_be64(p + 17);
    out->ts.logical = (int32_t)kv__get_be32(p + 25);
    out->txn.epoch = kv__get_be32(p + 29);
    out->txn.seq = kv__get_be32(p + 33);
    out->priority = (int32_t)kv__get_be32(p + 37);
    out->anchor = p + KV__MVCC_META_FIXED_LEN;
    out->anchor_len = len - KV__MVCC_META_FIXED_LEN;
    return 0;
}

int kv__mvcc_decode_value(const uint8_t *p, size_t len, bool *tombstone, const char **payload,
                          size_t *plen)
{
    if (len == 0)
        return KV_ECORRUPT;
    if (p[0] == KV__MVCC_TAG_TOMBSTONE && len == 1) {
        *tombstone = true;
        *payload = NULL;
        *plen = 0;
        return 0;
    }
    if (p[0] != KV__MVCC_TAG_VALUE)
        return KV_ECORRUPT;
    *tombstone = false;
    *payload = (const char *)p + 1;
    *plen = len - 1;
    return 0;
}
