/*
 * tscache.h - the timestamp cache: the highest timestamp at which each key
 * span has been read on this leaseholder, so that no write lands beneath a
 * read already served (a write to a span read at T must go above T).
 *
 * Every read records (span, ts, reading transaction or none). A lookup of a
 * key returns the greatest recorded timestamp covering it, and names a
 * transaction when that maximum was recorded by exactly one transaction
 * only: a transaction's own reads must not push its own writes, while a
 * maximum shared with anyone else (or with no transaction) must.
 *
 * The low-water mark is a floor under every answer, owned by no
 * transaction. A new leaseholder sets it to its lease start: reads served
 * under an earlier lease, on another node, are not in this cache, and all of
 * them were below that start.
 *
 * Memory is bounded by `max_bytes`. Past it the oldest records are dropped
 * and the low-water mark rises to the highest timestamp dropped, so answers
 * can only grow: forgetting is safe (writes are pushed higher than needed),
 * never unsafe. A record fully covered by a later one at a higher timestamp
 * (or the same timestamp and reader) can never decide an answer and is
 * dropped (or, for one key, updated in place) at once, so repeated reads of
 * the same keys do not pile up.
 *
 * Answers are exact: for any key, the maximum over all live records covering
 * it and the low-water mark, however the recorded spans overlap.
 *
 * Thread safety: every function may be called from any thread (one mutex).
 * Cost: a single-key read is recorded in O(1) (a hash table with one record
 * per key); a span read in O(log n + k) for n span records, k of them
 * touching it; a lookup is one hash probe plus O(log n + k). Add copies the
 * read's keys into one allocation per record.
 */
#ifndef KV_TSCACHE_H
#define KV_TSCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/mvcc.h"

typedef struct kv_tscache kv_tscache;

/* The answer to a lookup. */
typedef struct kv_tscache_value {
    kv_ts ts;
    bool has_txn; /* the maximum belongs to exactly one transaction: txn_id */
    uint8_t txn_id[KV_TXN_ID_LEN];
} kv_tscache_value;

/* Creates a cache holding at most `max_bytes` of records (each costs its
 * key bytes plus a fixed overhead; 0 is KV_EINVAL) with low-water mark
 * `low_water`. On success *out is owned by the caller (kv_tscache_destroy).
 * KV_ENOMEM, also when the system lacks the resources for a mutex. */
int kv_tscache_create(size_t max_bytes, kv_ts low_water, kv_tscache **out);

void kv_tscache_destroy(kv_tscache *c);

/* Records a read of [start, end) (`end` NULL: the single key `start`) at
 * `ts` by transaction `txn_id` (KV_TXN_ID_LEN bytes; NULL: none). The bytes
 * are copied; nothing is borrowed after return. A read at or below the
 * low-water mark changes no answer and is not stored. KV_EINVAL for an
 * empty span or a zero ts; KV_ENOMEM (the cache is then unchanged). */
int kv_tscache_add(kv_tscache *c, const void *start, size_t slen, const void *end, size_t elen,
                   kv_ts ts, const uint8_t *txn_id);

/* The maximum read timestamp of the single key `key` (klen bytes, possibly
 * 0), at least the low-water mark, into *out. Writes ask about one key at a
 * time, so this is the only question the cache answers. */
int kv_tscache_lookup(kv_tscache *c, const void *key, size_t klen, kv_tscache_value *out);

/* Raises the low-water mark to `ts` (a lower ts leaves it unchanged) and
 * drops the records it makes irrelevant. */
void kv_tscache_set_low_water(kv_tscache *c, kv_ts ts);

kv_ts kv_tscache_low_water(kv_tscache *c);

/* Bytes currently accounted to records; never above max_bytes. */
size_t kv_tscache_bytes(kv_tscache *c);

#endif /* KV_TSCACHE_H */
