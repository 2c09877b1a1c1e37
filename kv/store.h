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

#define KV_RAFT_INIT_INDEX 10
#define KV_RAFT_INIT_TERM  5

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
 * range ids 1..n+1, with this node as their only replica, and persists
 * their descriptors and their initial Raft state (a log truncated at index
 * KV_RAFT_INIT_INDEX, so every new replica starts from a snapshot) in one
 * synced batch.
 * keys[i] / lens[i] are borrowed for the call and must be non-empty and
 * strictly increasing. KV_EINVAL if the store already has ranges or the
 * keys are out of order; engine errors. */
int kv_store_bootstrap(kv_store *s, const uint8_t *const *keys, const size_t *lens, size_t n,
                       char *err, size_t errlen);

/* kv_store_bootstrap for the first node of a cluster: also writes the
 * meta records (below), which the first range must hold (s1 above
 * KV_META_MAX). */
int kv_store_bootstrap_cluster(kv_store *s, const uint8_t *const *keys, const size_t *lens,
                               size_t n, char *err, size_t errlen);

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

/* ---- the cluster around the store ------------------------------------- */

/* Sends `req` to node `node` and waits for its answer in `resp` (as
 * kv_store_send would fill it there). KV_EUNREACHABLE when the request
 * could not be sent (the node is known to be down); KV_EUNAVAILABLE when it
 * was sent but no answer came (connection lost, timeout): it may then have
 * been applied or not. Called on worker threads. */
typedef int (*kv_store_remote_fn)(void *arg, uint64_t node, const kv_request *req,
                                  kv_response *resp);
typedef struct kv_store_remote {
    kv_store_remote_fn send;
    void *arg;
} kv_store_remote;

/* Lets the store route to ranges held by other nodes. Set once before the
 * first send (not thread-safe against sends). */
void kv_store_set_remote(kv_store *s, const kv_store_remote *remote);
/* The node id this store serves as, once the cluster assigned it (before
 * the first send). */
void kv_store_set_node_id(kv_store *s, uint32_t node_id);
uint32_t kv_store_node_id(kv_store *s);

/* Adds or replaces the descriptor of a range held elsewhere (a hint from
 * a peer: the cache is refreshed from the meta range when it is wrong).
 * `d` is copied. KV_ENOMEM. */
int kv_store_cache_desc(kv_store *s, const kv_range_desc *d);

/* Like kv_store_send, but only to this store's own replicas: a request for
 * a range held elsewhere fails with KV_ERANGENOTFOUND, one this replica
 * does not hold the lease of with KV_ENOTLEASEHOLDER (the error detail
 * names the leaseholder or leader and the descriptor). What a node runs
 * for a peer's request. */
int kv_store_send_local(kv_store *s, const kv_request *req, kv_response *resp);

/* The store's identity in its cluster: the cluster id and this node's id,
 * persisted (synced) in a store-local key. KV_ENOTFOUND before the store
 * joined a cluster. */
int kv_store_ident_get(kv_store *s, uint8_t cluster_id[16], uint32_t *node_id);
int kv_store_ident_put(kv_store *s, const uint8_t cluster_id[16], uint32_t node_id, char *err,
                       size_t errlen);

/* A store-local value the node keeps for itself (the peer directory):
 * name is a short ASCII tag. get: KV_ENOTFOUND when absent. put writes
 * without fsync (a hint the node rebuilds: nothing to wait for on the node
 * loop); a later synced write makes it durable. */
int kv_store_local_get(kv_store *s, const char *name, kv_buf *val);
int kv_store_local_put(kv_store *s, const char *name, const void *val, size_t len, char *err,
                       size_t errlen);

/* A descriptor's bytes (docs/kv.md), for messages between nodes: encode
 * replaces `out`'s contents; decode copies keys into `a`. KV_ENOMEM,
 * KV_ECORRUPT. */
int kv_range_desc_encode(const kv_range_desc *d, kv_buf *out);
int kv_range_desc_decode(const void *p, size_t n, kv_arena *a, kv_range_desc *out);

/* Keys of the KV system space (below every SQL table key, whose first byte
 * is a table id >= 1): meta records (range descriptors by end key) and
 * the node id counter. */
#define KV_META_PREFIX "\x00\x01"
#define KV_META_MAX    "\x00\x02" /* the meta record of the last range */
#define KV_NODE_ID_KEY "\x00\x10nodeid"

/* The store's engine and clock; valid until kv_store_close. */
kv_engine *kv_store_engine(kv_store *s);
kv_hlc *kv_store_clock(kv_store *s);

#endif /* KV_STORE_H */
