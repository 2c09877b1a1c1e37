/*
 * mvcc_int.h - the MVCC byte encodings (mvcc_codec.c), shared with the
 * operations in mvcc.c. The layouts are documented as byte tables in
 * docs/storage.md; every decoder validates lengths and tags and returns
 * KV_ECORRUPT rather than trusting stored bytes.
 */
#ifndef KV_MVCC_INT_H
#define KV_MVCC_INT_H

#include <stdint.h>

#include "kv/mvcc.h"

enum {
    KV__MVCC_TAG_VALUE = 0x01,     /* version: tag | value bytes */
    KV__MVCC_TAG_TOMBSTONE = 0x02, /* version: tag alone */
    /* Intent metadata: KV__MVCC_META_FIXED_LEN bytes, then the anchor key.
     * Tag 0x03 was the 37-byte form without anchor and priority; it is
     * not decoded (KV_ECORRUPT), so an old store fails loudly. */
    KV__MVCC_TAG_META = 0x04,
    KV__MVCC_META_FIXED_LEN = 45,
};

/* Upper bound on the escaped length of a klen-byte user key. */
#define KV__MVCC_ESCAPED_MAX(klen) (2 * (klen) + 2)

/* Writes the escaped, terminated user key to dst (room for
 * KV__MVCC_ESCAPED_MAX(klen) bytes) and returns its length. */
size_t kv__mvcc_escape(uint8_t *dst, const uint8_t *key, size_t klen);

/* Writes the KV_MVCC_TS_LEN-byte descending timestamp suffix. */
void kv__mvcc_put_ts(uint8_t *dst, kv_ts ts);

/* Splits an encoded key into its escaped prefix (*plen bytes, terminator
 * included) and suffix: none for metadata (*is_meta), else a timestamp. */
int kv__mvcc_split_key(const uint8_t *enc, size_t len, size_t *plen, bool *is_meta, kv_ts *ts);

/* Unescapes a prefix returned by kv__mvcc_split_key into `out`. */
int kv__mvcc_unescape(const uint8_t *p, size_t plen, kv_buf *out);

/* Writes the KV__MVCC_META_FIXED_LEN bytes of the metadata of `in` that
 * precede its anchor key (which the caller appends) to out. */
void kv__mvcc_encode_meta(uint8_t *out, const kv_intent *in);
/* Decodes metadata; out->anchor borrows from p. KV_ECORRUPT if p is not
 * exactly one well-formed encoding. */
int kv__mvcc_decode_meta(const uint8_t *p, size_t len, kv_intent *out);

/* Decodes a version's value; *payload borrows from p. */
int kv__mvcc_decode_value(const uint8_t *p, size_t len, bool *tombstone, const char **payload,
                          size_t *plen);

#endif /* KV_MVCC_INT_H */
