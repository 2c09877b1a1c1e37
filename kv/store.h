/*
 * store.h - a store: one storage engine and one clock shared by the many
 * ranges (replicas) this node holds, and the entry point that sends a KV
 * batch to them.
 *
 * Each range's descriptor (kv.h: id, [start, end), replicas) is persisted
 * in the range-local key kv_local_key(range id, KV_LOCAL_DESCRIPTOR) and
 * loaded again when the store is reopened. The in-memory ranges form a
 * sorted array searched under a read-mostly lock; each range has a replica
 * owning its latch manager and timestamp cache (docs/kv.md).
 *
 * Thread safety: every function may be called from any number of threads,
 * except open/close/bootstrap, which must not race with anything else.
 * kv_store_send blocks (latches, fsync): call it from worker threads.
 */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/engine.h"
#include "kv/hlc.h"
#include "kv/kv.h"

typedef struct kv_store kv_store;

typedef struct kv_store_options {
    kv_engine_options engine;
    kv_hlc_clock_fn clock; /* NULL: kv_hlc_wall_clock */
    void *clock_arg;       /* borrowed for the store's lifetime */
    int64_t max_offset_ns; /* 0: KV_HLC_DEFAULT_MAX_OFFSET_NS */
    size_t tscache_bytes;  /* per range; 0: 1 MiB */
    bool no_sync;          /* tests only: commit writes without fsync */
    uint32_t node_id;      /* recorded in bootstrapped descriptors */
    uint32_t store_id;
} kv_store_options;

/* Opens the store at `dir` and loads the ranges found there. `opts` is
 * copied; NULL means defaults with create_if_missing. Otherwise
 * opts->engine goes to kv_engine_open as is (set create_if_missing for a
 * new store). On success *out is owned by the caller (kv_store_close).
 * Errors: those of kv_engine_open and kv_hlc_create, and KV_ECORRUPT for
 * an undecodable descriptor or range-local key. */
int kv_store_open(const char *dir, const kv_store_options *opts, kv_store **out, char *err,
                  size_t errlen);

/* Closes the store; no send may be in flight. NULL is a no-op. */
void kv_store_close(kv_store *s);

/* Creates the ranges [min, s1), [s1, s2) ... [sn, max) of a new store,
 * range ids 1..n+1, and persists their descriptors (synced, one batch).
 * keys[i] / lens[i] are borrowed for the call and must be non-empty and
 * strictly increasing. KV_EINVAL if the store already has ranges or the
 * keys are out of order; engine errors. */
int kv_store_bootstrap(kv_store *s, const uint8_t *const *keys, const size_t *lens, size_t n,
                       char *err, size_t errlen);

/* Number of ranges on the store. */
size_t kv_store_range_count(kv_store *s);

/* Copies the descriptor of the range containing `key` into *out, its keys
 * allocated from `a` (they live as long as the arena). KV_ENOTFOUND when
 * the store has no ranges; KV_ENOMEM. */
int kv_store_lookup(kv_store *s, const void *key, size_t klen, kv_arena *a, kv_range_desc *out);

/* Sends a batch: splits it by range, evaluates and applies each part on
 * its range's replica, and reassembles the responses in request order
 * (scans across ranges honour their limits and return resume spans). The
 * request is borrowed for the call. `resp` must be freshly initialised
 * (kv_response_init); it is filled in all cases and its error code is also
 * returned. Contracts and errors: docs/kv.md, "The KV API". */
int kv_store_send(kv_store *s, const kv_request *req, kv_response *resp);

/* The store's engine and clock; valid until kv_store_close. */
kv_engine *kv_store_engine(kv_store *s);
kv_hlc *kv_store_clock(kv_store *s);

#endif /* KV_STORE_H */
