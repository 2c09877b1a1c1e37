/*
 * range_desc.c - the persisted form of a range descriptor (the value at
 * kv_local_key(range id, KV_LOCAL_DESCRIPTOR)); byte table in docs/kv.md:
 *
 *   offset  size  field
 *   0       1     0x01 format version
 *   1       8     range id, big-endian
 *   9       8     generation, big-endian
 *   17      4     start key length s, big-endian
 *   21      s     start key
 *   21+s    4     end key length e (0: no upper bound)
 *   25+s    e     end key
 *   25+s+e  1     replica count r (1..KV_MAX_REPLICAS)
 *   26+s+e  12*r  per replica: node id, store id, replica id (4 bytes each)
 *
 * Decoding accepts exactly this, so truncated, padded or bit-flipped
 * lengths are KV_ECORRUPT rather than misread.
 */
#include <assert.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/store_int.h"

#define DESC_VERSION 0x01

int kv__desc_encode(const kv_range_desc *d, kv_buf *out)
{
    assert(d->n_replicas >= 1 && d->n_replicas <= KV_MAX_REPLICAS);
    size_t n = 26 + d->start_len + d->end_len + 12 * (size_t)d->n_replicas;
    int rc = kv_buf_reserve(out, n);
    if (rc != 0)
        return rc;
    uint8_t *p = (uint8_t *)out->data;
    p[0] = DESC_VERSION;
    kv__put_be64(p + 1, d->range_id);
    kv__put_be64(p + 9, d->generation);
    p += 17;
    kv__put_be32(p, (uint32_t)d->start_len);
    if (d->start_len > 0)
        memcpy(p + 4, d->start_key, d->start_len);
    p += 4 + d->start_len;
    kv__put_be32(p, (uint32_t)d->end_len);
    if (d->end_len > 0)
        memcpy(p + 4, d->end_key, d->end_len);
    p += 4 + d->end_len;
    *p++ = (uint8_t)d->n_replicas;
    for (uint32_t i = 0; i < d->n_replicas; i++, p += 12) {
        kv__put_be32(p, d->replicas[i].node_id);
        kv__put_be32(p + 4, d->replicas[i].store_id);
        kv__put_be32(p + 8, d->replicas[i].replica_id);
    }
    out->len = n;
    return 0;
}

/* Reads a length-prefixed key at *p, advancing it; NULL if it overruns. */
static const uint8_t *take_key(const uint8_t **p, const uint8_t *end, size_t *len)
{
    if (end - *p < 4)
        return NULL;
    *len = kv__get_be32(*p);
    if ((size_t)(end - *p - 4) < *len)
        return NULL;
    const uint8_t *key = *p + 4;
    *p += 4 + *len;
    return key;
}

int kv__desc_decode(const void *data, size_t n, kv_arena *a, kv_range_desc *out)
{
    const uint8_t *p = data, *end = p + n;
    memset(out, 0, sizeof(*out));
    if (n < 17 || p[0] != DESC_VERSION)
        return KV_ECORRUPT;
    out->range_id = kv__get_be64(p + 1);
    out->generation = kv__get_be64(p + 9);
    p += 17;
    const uint8_t *start = take_key(&p, end, &out->start_len);
    const uint8_t *stop = start == NULL ? NULL : take_key(&p, end, &out->end_len);
    if (stop == NULL || p == end)
        return KV_ECORRUPT;
    out->n_replicas = *p++;
    if (out->n_replicas < 1 || out->n_replicas > KV_MAX_REPLICAS ||
        (size_t)(end - p) != 12 * (size_t)out->n_replicas)
        return KV_ECORRUPT;
    if (out->end_len > 0 && kv__key_cmp(start, out->start_len, stop, out->end_len) >= 0)
        return KV_ECORRUPT;
    for (uint32_t i = 0; i < out->n_replicas; i++, p += 12)
        out->replicas[i] =
            (kv_replica_desc){kv__get_be32(p), kv__get_be32(p + 4), kv__get_be32(p + 8)};
    out->start_key = kv_arena_dup(a, start, out->start_len);
    out->end_key = kv_arena_dup(a, stop, out->end_len);
    return out->start_key == NULL || out->end_key == NULL ? KV_ENOMEM : 0;
}

int kv__desc_copy(kv_arena *a, const kv_range_desc *src, kv_range_desc *dst)
{
    *dst = *src;
    dst->start_key = kv_arena_dup(a, src->start_key, src->start_len);
    dst->end_key = kv_arena_dup(a, src->end_key, src->end_len);
    return dst->start_key == NULL || dst->end_key == NULL ? KV_ENOMEM : 0;
}
