/*
 * local_keys.h - keys of the KV_CF_LOCAL column family.
 *
 * Range-local state (Raft log entries, hard state, applied state, range
 * descriptor) lives apart from MVCC data, unversioned, under keys that keep
 * each range's state contiguous and its log entries in index order, so that
 * log truncation and replica removal are single range deletions:
 *
 *   offset  size  field
 *   0       1     0x01  range-local marker (0x02 reserved: store-local keys)
 *   1       8     range id, big-endian
 *   9       1     kind (enum kv_local_kind)
 *   10      8     Raft log index, big-endian (KV_LOCAL_RAFT_LOG only)
 *
 * The values' formats belong to the modules that own them (raft storage,
 * replicas); this module fixes only the keys.
 */
#ifndef KV_LOCAL_KEYS_H
#define KV_LOCAL_KEYS_H

#include <stddef.h>
#include <stdint.h>

enum {
    KV_LOCAL_RANGE_MARKER = 0x01,
    KV_LOCAL_STORE_MARKER = 0x02, /* reserved for store-wide keys */
    KV_LOCAL_TXN_MARKER = 0x03,   /* transaction records (kv/store_int.h) */
    KV_LOCAL_KEY_MAX = 18,
};

/* Kinds sort in this order within a range; the log sorts last so that
 * "all of range R's log" is the span [log_key(R, 0), range_end(R)). */
enum kv_local_kind {
    KV_LOCAL_APPLIED_STATE = 'a',
    KV_LOCAL_RAFT_TRUNCATED = 'c', /* compacted log prefix: last index/term */
    KV_LOCAL_DESCRIPTOR = 'd',
    KV_LOCAL_HARD_STATE = 'h',
    KV_LOCAL_RAFT_LOG = 'l',
};

/* Writes the key of `kind` for `range_id` (and `index`, used only for the
 * Raft log) into out[KV_LOCAL_KEY_MAX]; returns its length. */
size_t kv_local_key(uint8_t *out, uint64_t range_id, enum kv_local_kind kind, uint64_t index);

/* Writes the smallest key above every local key of `range_id`; returns its
 * length. With kv_local_key(..., KV_LOCAL_APPLIED_STATE, 0) it bounds a
 * range deletion of the whole replica. */
size_t kv_local_range_end(uint8_t *out, uint64_t range_id);

/* Parses a local key. KV_ECORRUPT if it is not one kv_local_key() makes. */
int kv_local_key_decode(const uint8_t *key, size_t len, uint64_t *range_id,
                        enum kv_local_kind *kind, uint64_t *index);

#endif /* KV_LOCAL_KEYS_H */
