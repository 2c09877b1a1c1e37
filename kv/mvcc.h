/*
 * mvcc.h - multi-version values over the KV_CF_MVCC column family.
 *
 * Every write creates a version of a user key at an HLC timestamp; reads at
 * timestamp T see, per key, the newest version at or below T. A delete is a
 * version too (a tombstone). A transactional write is an intent: metadata
 * naming the transaction (with its priority and the anchor key that leads
 * to its record, kv_mvcc_writer) plus a provisional version at the intent's
 * timestamp (CockroachDB style), later resolved to committed (possibly at a
 * pushed, higher timestamp) or aborted. The byte layouts are in
 * docs/storage.md.
 *
 * Reads go through the engine at `snap` (NULL: latest state). Writes read
 * the current state the same way and add their mutations to a kv_batch that
 * the caller commits, so Raft can replicate the batch's bytes. A batch is
 * not read back: two writes to the same key must be committed in separate
 * batches (the caller's latches serialise them).
 *
 * Conflict rules (the txn layer builds on these):
 *  - a write whose newest committed version has a timestamp >= the write's
 *    fails with KV_EWRITETOOOLD (conflict->existing_ts says which);
 *  - a write meeting an intent of another transaction, or any intent when
 *    the write is non-transactional, fails with KV_EWRITEINTENT
 *    (conflict->intent names it);
 *  - a read at T meeting another transaction's intent at a timestamp <= T
 *    (or <= the read's uncertainty limit) fails with KV_EWRITEINTENT; an
 *    intent above that is invisible;
 *  - a read at T with an uncertainty limit L > T meeting a committed
 *    version in (T, L] fails with KV_EREADUNCERTAIN;
 *  - a transaction sees its own intent of its current epoch whatever the
 *    read timestamp; an intent of another epoch of the same transaction is
 *    invisible to it and is replaced by its next write;
 *  - a transaction rewriting its own intent writes at max(ts, intent ts),
 *    so an intent's timestamp never moves backwards.
 *
 * Thread safety: calls may run concurrently on one engine; each call's
 * buffers (kv_buf, conflict, batch) belong to its caller.
 */
#ifndef KV_MVCC_H
#define KV_MVCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/engine.h"

/* An HLC timestamp: wall-clock nanoseconds plus a logical counter. */
typedef struct kv_ts {
    int64_t wall;
    int32_t logical;
} kv_ts;

/* <0, 0, >0 as a is older than, equal to or newer than b. */
int kv_ts_cmp(kv_ts a, kv_ts b);
bool kv_ts_is_zero(kv_ts t);

#define KV_TXN_ID_LEN 16

/* The transaction fields an intent records. */
typedef struct kv_txn_meta {
    uint8_t id[KV_TXN_ID_LEN];
    uint32_t epoch; /* incremented on each restart of the transaction */
    uint32_t seq;   /* sequence of the write within the epoch */
} kv_txn_meta;

/* A transactional write: what its intent records besides the timestamp,
 * as CockroachDB's TxnMeta does, so that whoever meets the intent (on any
 * node) can reach the transaction's record, which lives on the range of
 * `anchor`, and knows its priority without asking the coordinator.
 * `anchor` (anchor_len > 0 bytes) is borrowed for the duration of the call. */
typedef struct kv_mvcc_writer {
    kv_txn_meta txn;
    int32_t priority;
    const uint8_t *anchor;
    size_t anchor_len;
} kv_mvcc_writer;

/* An intent as met by a read or write. `anchor` is borrowed: in a
 * kv_mvcc_conflict it points into conflict->anchor (valid until that
 * buffer is reused or freed); elsewhere the owner of the intent says. */
typedef struct kv_intent {
    kv_txn_meta txn;
    kv_ts ts; /* the provisional version's timestamp */
    int32_t priority;
    const uint8_t *anchor;
    size_t anchor_len;
} kv_intent;

typedef enum kv_txn_status { KV_TXN_COMMITTED, KV_TXN_ABORTED } kv_txn_status;

/* Filled on KV_EWRITEINTENT (intent, key, anchor) and KV_EWRITETOOOLD
 * (existing_ts, key). Zero-initialise it; the caller owns `key` and
 * `anchor` and frees them with kv_buf_free() (they are reused across
 * calls, so intent.anchor, which points into `anchor`, is valid only until
 * the next call that reports a conflict). */
typedef struct kv_mvcc_conflict {
    kv_intent intent;
    kv_ts existing_ts;
    kv_buf key;
    kv_buf anchor; /* the intent's anchor key */
} kv_mvcc_conflict;

typedef struct kv_mvcc_read_opts {
    kv_ts ts;               /* read timestamp */
    const kv_txn_meta *txn; /* the reading transaction, or NULL */
    size_t limit;           /* scans: at most this many keys; 0 = no limit */
    bool reverse;           /* scans: from the end of the span backwards */
    /* Uncertainty: zero for none. Otherwise a version in (ts, limit] may
     * have been written before the read began on a clock that runs ahead,
     * so the read fails with KV_EREADUNCERTAIN (conflict->existing_ts is
     * that version's timestamp; read again at or above it), and another
     * transaction's intent at or below the limit fails with
     * KV_EWRITEINTENT as if it were below ts. */
    kv_ts uncertainty_limit;
} kv_mvcc_read_opts;

/* Scan callback: one visible key. `key` and `val` are borrowed until the
 * callback returns. Return 0 to continue, 1 to stop the scan (the scan then
 * returns 0), or a negative code to abort it with that code. */
typedef int (*kv_mvcc_scan_cb)(void *arg, const char *key, size_t klen, const char *val,
                               size_t vlen, kv_ts ts);

/* Reads the version of `key` visible to `ro`. On success copies the value
 * into `val` and its timestamp into *val_ts (may be NULL). KV_ENOTFOUND if
 * there is no version or the visible one is a tombstone; KV_EWRITEINTENT
 * or KV_EREADUNCERTAIN (filling `conflict` if non-NULL); KV_ECORRUPT for
 * undecodable data. */
int kv_mvcc_get(kv_engine *e, const kv_snapshot *snap, const kv_mvcc_read_opts *ro, const void *key,
                size_t klen, kv_buf *val, kv_ts *val_ts, kv_mvcc_conflict *conflict, char *err,
                size_t errlen);

/* Calls `cb` for every key in [start, end) visible to `ro`, in key order
 * (descending with ro->reverse), skipping tombstones, up to ro->limit keys.
 * `end` NULL means no upper bound. Stops at the first intent that a get
 * would report, returning KV_EWRITEINTENT after the callbacks for the keys
 * before it. */
int kv_mvcc_scan(kv_engine *e, const kv_snapshot *snap, const kv_mvcc_read_opts *ro,
                 const void *start, size_t slen, const void *end, size_t elen, kv_mvcc_scan_cb cb,
                 void *arg, kv_mvcc_conflict *conflict, char *err, size_t errlen);

/* Adds a version of `key` with value [val, val+vlen) at `ts` to `b`; with a
 * non-NULL `txn` the version is provisional and an intent recording `txn`
 * (anchor copied into the batch) is written too.
 * Nothing is added to `b` on failure. Errors: KV_EWRITETOOOLD,
 * KV_EWRITEINTENT (both fill `conflict`), KV_EINVAL (zero ts, or a txn
 * epoch older than its own intent's), KV_ECORRUPT. */
int kv_mvcc_put(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *key, size_t klen,
                kv_ts ts, const kv_mvcc_writer *txn, const void *val, size_t vlen,
                kv_mvcc_conflict *conflict, char *err, size_t errlen);

/* As kv_mvcc_put, writing a tombstone. */
int kv_mvcc_delete(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *key, size_t klen,
                   kv_ts ts, const kv_mvcc_writer *txn, kv_mvcc_conflict *conflict, char *err,
                   size_t errlen);

/* Resolves the intent of `txn` on `key`. COMMITTED keeps the provisional
 * version, moved to `commit_ts` when that is later than the intent's (zero
 * means the intent's own timestamp); an intent of an older epoch than `txn`
 * is removed instead, since the restarted transaction did not rewrite it.
 * ABORTED removes the intent and its provisional version. *resolved (may be
 * NULL) tells whether anything was written: no intent, another
 * transaction's intent or one of a newer epoch leave the key alone.
 * KV_EINVAL if commit_ts is below the intent's timestamp. */
int kv_mvcc_resolve(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *key,
                    size_t klen, const kv_txn_meta *txn, kv_txn_status status, kv_ts commit_ts,
                    bool *resolved, char *err, size_t errlen);

/* Garbage-collects [start, end) (`end` NULL: no bound): for every key,
 * deletes the committed versions at or below `threshold` except the newest
 * of them, which is deleted too if it is a tombstone. Reads at or above
 * `threshold` are unaffected. Intents and their provisional versions are
 * kept. *removed (may be NULL) receives the number of versions deleted. On
 * failure (KV_ECORRUPT, I/O) `b` may hold part of the deletions: clear it. */
int kv_mvcc_gc(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *start, size_t slen,
               const void *end, size_t elen, kv_ts threshold, size_t *removed, char *err,
               size_t errlen);

/* Length of the encoded form of the timestamp suffix in version keys. */
#define KV_MVCC_TS_LEN 12

/* Encodes `key` (with `ts`, or as the intent metadata key when ts is NULL)
 * into `out`, replacing its contents. Exposed for tools and tests. */
int kv_mvcc_encode_key(kv_buf *out, const void *key, size_t klen, const kv_ts *ts);

/* Decodes an encoded key into the user key (copied to `user_key`) and *ts;
 * *is_meta is set for an intent metadata key (then *ts is zero).
 * KV_ECORRUPT if `enc` is not a valid encoding. */
int kv_mvcc_decode_key(const void *enc, size_t len, kv_buf *user_key, kv_ts *ts, bool *is_meta);

#endif /* KV_MVCC_H */
