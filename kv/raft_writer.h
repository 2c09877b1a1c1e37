/*
 * raft_writer.h - the storage thread: group commit of Raft log appends, hard
 * states and truncations of every range of a store.
 *
 * The node loop never fsyncs (docs/kv.md, "Raft storage"). For each ready of
 * each range it submits a kv_raft_persist_req and keeps the ready outstanding.
 * The writer thread takes everything queued, stages it into ONE kv_batch,
 * writes it with sync, updates the ranges' kv_raft_storage in memory, and
 * then completes every request of the round. While one write is in flight,
 * new requests accumulate for the next round, so N ranges (or N proposals)
 * cost one fsync, not N.
 *
 * Guarantees:
 *   - requests are staged and completed in submission order, so the order of
 *     one range's requests is preserved (and across ranges as well);
 *   - a request completes with 0 only once its write is durable;
 *   - a failed write (or staging failure) completes EVERY request of that
 *     round with the KV_E* code; the writer then stays failed: requests still
 *     queued complete with that code and later submits return it (the disk
 *     state after a failed fsync is unknown, so nothing more is promised).
 *
 * Completion delivery: kv/ has no event loop. With `deliver` set, the writer
 * hands each round's finished requests (linked through `next`, in order, each
 * with `status` set) to deliver(arg, head) on the writer thread; the node
 * loop's implementation queues them and wakes the loop (uv_async_send), and
 * the loop calls kv_raft_persist_req_complete() on each. Without `deliver`
 * the writer calls each request's cb itself, on the writer thread.
 *
 * Like libuv requests, a kv_raft_persist_req is the caller's memory: it and
 * everything it points to (entries and their data, hard state, snapshot)
 * stay valid and unchanged until its cb runs. raft_ready's pointers satisfy
 * this when the ready stays outstanding until the completion.
 */
#ifndef KV_RAFT_WRITER_H
#define KV_RAFT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/engine.h"
#include "kv/raft_storage.h"
#include "raft/raft.h"

typedef struct kv_raft_writer kv_raft_writer;
typedef struct kv_raft_persist_req kv_raft_persist_req;

/* `status` is 0 once durable, else the round's KV_E* code. */
typedef void (*kv_raft_persist_cb)(kv_raft_persist_req *req, int status);

/* One range's durable changes from one ready, applied in this order:
 * snapshot, entries, hard state, truncation. */
struct kv_raft_persist_req {
    /* Set by the caller before kv_raft_writer_submit(). */
    kv_raft_storage *storage;
    /* rd.snapshot: the log is emptied and restarts after snapshot->index
     * (its data and applied state are the replica's to ingest). NULL: none. */
    const raft_snapshot_t *snapshot;
    /* rd.entries: consecutive indices; entries[0].index and beyond replace
     * what the log holds from there (a conflicting suffix is deleted). */
    const raft_entry_t *entries;
    size_t n_entries;
    const raft_hard_state_t *hs; /* NULL: unchanged */
    /* Truncate the log up to truncate_index (whose term is truncate_term);
     * 0: none. Must not pass the applied index nor the last index. */
    uint64_t truncate_index;
    uint64_t truncate_term;
    kv_raft_persist_cb cb;
    void *data; /* the caller's */

    /* Set by the writer. */
    int status;
    kv_raft_persist_req *next; /* queue link, then the delivered list */
};

typedef struct kv_raft_writer_options {
    /* Hands a finished round to the caller; NULL: call each cb directly. */
    void (*deliver)(void *arg, kv_raft_persist_req *head);
    void *deliver_arg;
    /* Fault injection for tests: called before each round's write; a
     * non-zero KV_E* result fails the round as if the write had. NULL: none. */
    int (*fault)(void *arg);
    void *fault_arg;
} kv_raft_writer_options;

typedef struct kv_raft_writer_stats {
    uint64_t rounds;        /* synced batches written (fsyncs) */
    uint64_t requests;      /* requests completed, successfully or not */
    uint64_t entries;       /* log entries made durable */
    uint64_t bytes;         /* bytes of the written batches */
    uint64_t max_per_round; /* most requests in one round */
    uint64_t failed_rounds;
} kv_raft_writer_stats;

/* Starts the storage thread for `e` (borrowed; must outlive the writer).
 * `opts` may be NULL. On success *out is the caller's; stop it with
 * kv_raft_writer_stop(). Errors: KV_ENOMEM, KV_EIO (thread creation). */
int kv_raft_writer_start(kv_engine *e, const kv_raft_writer_options *opts, kv_raft_writer **out);

/* Finishes every queued request (written or failed, each completed), joins
 * the thread and frees the writer. NULL is a no-op. */
void kv_raft_writer_stop(kv_raft_writer *w);

/* Queues `req` (thread-safe, never blocks on I/O). Returns 0 and the cb runs
 * later exactly once; or KV_EINVAL (malformed request: no storage or cb,
 * entries not consecutive, truncation beyond the applied index) or the
 * sticky error of a failed writer, and the cb never runs. */
int kv_raft_writer_submit(kv_raft_writer *w, kv_raft_persist_req *req);

/* Runs req->cb(req, req->status): what the node loop calls for each request
 * of a delivered list. The cb may free or resubmit `req`. */
void kv_raft_persist_req_complete(kv_raft_persist_req *req);

/* The sticky error (0 while the writer is healthy) and its message: what
 * RocksDB (or the fault hook) said about the round that failed. */
int kv_raft_writer_error(kv_raft_writer *w, char *err, size_t errlen);

/* A consistent copy of the counters (thread-safe). */
void kv_raft_writer_stats_get(kv_raft_writer *w, kv_raft_writer_stats *st);

#endif /* KV_RAFT_WRITER_H */
