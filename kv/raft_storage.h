/*
 * raft_storage.h - one range's durable Raft state in the local column family:
 * log entries, hard state, truncated state and applied state, read through
 * the raft_storage_t table that raft/ asks for.
 *
 * A kv_raft_storage is the in-memory face of range R's Raft state on one
 * store: it loads the durable state when opened, serves raft/'s reads (log
 * bounds, term(i), entries [lo, hi) under a byte limit, initial hard state
 * and configuration, snapshot metadata) from a bounded cache of recent
 * entries and from RocksDB, and is updated by the storage thread
 * (kv/raft_writer.h) once a write is durable. It never writes the log itself:
 * every change goes through a kv_raft_persist_req so that all ranges share one
 * synced batch per round.
 *
 * Values (keys in kv/local_keys.h, byte tables in docs/kv.md):
 *
 *   kind 'l' log entry      raft_entry_encode() bytes (raft/'s codec)
 *   kind 'h' hard state     raft_hard_state_encode() bytes (24)
 *   kind 'c' truncated      index 8, term 8 (big-endian): the log's prefix
 *                           up to `index` is gone; first index = index + 1
 *   kind 'a' applied state  version 2, index 8, term 8, 8 stats x 8,
 *                           lease index 8, lease (seq 8, holder 8,
 *                           incarnation 8, start 12, expiration 12),
 *                           raft_conf_state_encode() bytes
 *
 * The applied state is written by the replica layer in the same kv_batch as
 * the effects of the commands it applied (kv_raft_storage_applied_put), so a
 * crash never separates the two; it also holds the range's membership as of
 * the applied index, which is what raft/ must restart from (cfg.applied =
 * applied index, initial_state's configuration = the applied one).
 *
 * Threads: the raft_storage_t callbacks and the getters run on the node loop;
 * the writer thread stages batches and, after each durable write, updates the
 * in-memory state. One mutex per range covers the state both touch; RocksDB
 * reads on a cache miss happen under it too, so a read never sees a half
 * updated range.
 */
#ifndef KV_RAFT_STORAGE_H
#define KV_RAFT_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "kv/engine.h"
#include "kv/mvcc.h"
#include "raft/raft.h"

typedef struct kv_raft_storage kv_raft_storage;

/* MVCC statistics of a range, carried in the applied state so that they
 * change atomically with the data they describe. Signed: commands add deltas. */
typedef struct kv_range_stats {
    int64_t live_bytes;   /* keys + values of the newest non-tombstone versions */
    int64_t live_count;   /* user keys with a live newest version */
    int64_t key_bytes;    /* every MVCC key, all versions */
    int64_t key_count;    /* distinct user keys */
    int64_t val_bytes;    /* every version's value */
    int64_t val_count;    /* versions, tombstones included */
    int64_t intent_count; /* unresolved intents */
    int64_t sys_bytes;    /* range-local keys and values (txn records...) */
} kv_range_stats;

/* A range lease (kv/node.h): the replica on node `holder`, in the process
 * incarnation `incarnation`, serves the range in [start, expiration).
 * Extensions by the same holder keep `seq`; a new holder gets seq + 1, so a
 * command evaluated under an older lease can tell it is stale. */
typedef struct kv_lease {
    uint64_t seq;
    uint64_t holder; /* node id; 0: no lease yet */
    uint64_t incarnation;
    kv_ts start;
    kv_ts expiration;
} kv_lease;

/* What the state machine reflects: the last applied entry, the membership
 * as of that entry, the range's statistics, the lease and the highest
 * lease index a command applied with (which rejects a command that comes
 * out of the log twice). */
typedef struct kv_applied_state {
    uint64_t index;
    uint64_t term;
    raft_conf_state_t conf;
    kv_range_stats stats;
    uint64_t lease_index;
    kv_lease lease;
} kv_applied_state;

typedef struct kv_raft_storage_options {
    size_t cache_bytes;   /* entry data kept in memory; 0: 256 KiB */
    size_t cache_entries; /* entries kept in memory; 0: 1024 */
} kv_raft_storage_options;

/* Loads range `range_id`'s durable Raft state from `e` (a range with no
 * state starts empty: no hard state, first index 1, applied index 0).
 * `opts` may be NULL. The engine is borrowed and must outlive the storage.
 * On success *out is the caller's, freed with kv_raft_storage_close().
 * Errors: KV_ENOMEM, KV_ECORRUPT (a value that does not decode, or a log
 * that does not start right after the truncated index), engine errors. */
int kv_raft_storage_open(kv_engine *e, uint64_t range_id, const kv_raft_storage_options *opts,
                         kv_raft_storage **out, char *err, size_t errlen);

/* Frees the storage. The caller makes sure no kv_raft_persist_req for it is
 * queued or in flight (its last completion has run). NULL is a no-op. */
void kv_raft_storage_close(kv_raft_storage *s);

/* The function table for raft_config_t.storage; valid while `s` is. Entry
 * data returned by entries() is copied out of the cache and RocksDB into a
 * buffer of `s` and stays valid until the next entries() call, which must
 * therefore come from one thread at a time (the node loop); the other
 * callbacks are safe from any thread. Errors are RAFT_E* codes, with
 * RAFT_ESTORAGE for RocksDB failures (kv_raft_storage_last_error() tells
 * which). */
raft_storage_t kv_raft_storage_table(kv_raft_storage *s);

uint64_t kv_raft_storage_range_id(const kv_raft_storage *s);
/* Durable log bounds: first = truncated index + 1; last = truncated index
 * when the log is empty. */
uint64_t kv_raft_storage_first_index(kv_raft_storage *s);
uint64_t kv_raft_storage_last_index(kv_raft_storage *s);
/* Durable hard state, truncated state and the applied state last recorded
 * with kv_raft_storage_set_applied() (or loaded at open). */
void kv_raft_storage_hard_state(kv_raft_storage *s, raft_hard_state_t *hs);
void kv_raft_storage_truncated(kv_raft_storage *s, uint64_t *index, uint64_t *term);
void kv_raft_storage_applied(kv_raft_storage *s, kv_applied_state *as);

/* The last RocksDB or decoding error behind a RAFT_ESTORAGE answer, as a
 * KV_E* code (0 if none) with its message copied into err. */
int kv_raft_storage_last_error(kv_raft_storage *s, char *err, size_t errlen);

/* Adds the put of `as` to the caller's batch `b`, which also holds the
 * effects of the commands up to as->index, so both land atomically. Only
 * KV_ENOMEM / KV_EBADCF (from the batch). Once the batch is written, report
 * it with kv_raft_storage_set_applied(). */
int kv_raft_storage_applied_put(kv_raft_storage *s, kv_batch *b, const kv_applied_state *as);

/* Records in memory that `as` is durable (snapshot metadata and the truncation
 * bound follow it). */
void kv_raft_storage_set_applied(kv_raft_storage *s, const kv_applied_state *as);

/* Number of entry reads served from the cache and from RocksDB since open
 * (tests and metrics). */
void kv_raft_storage_cache_stats(kv_raft_storage *s, uint64_t *hits, uint64_t *misses);

#endif /* KV_RAFT_STORAGE_H */
