/*
 * latch.h - latches: the per-range serialisation of overlapping in-flight
 * requests (CockroachDB's spanlatch manager is the model).
 *
 * A request declares all its spans up front, each a key range [start, end)
 * or a single key, for reading or writing, optionally at a timestamp. It is
 * sequenced on arrival and waits only for EARLIER requests, still holding or
 * still waiting, whose spans conflict with its own:
 *
 *   - two reads never conflict;
 *   - two writes that overlap always conflict;
 *   - an overlapping read at Tr and write at Tw conflict unless both
 *     timestamps are non-zero and Tw > Tr: a write above the read's
 *     timestamp cannot change what the read sees (MVCC), so they proceed
 *     together. A zero timestamp means "non-MVCC": it conflicts at every
 *     timestamp.
 *
 * Waiting only for earlier requests makes the waits-for graph acyclic, so
 * latches cannot deadlock, and makes acquisition FIFO among conflicting
 * requests: a write is not starved by a stream of later reads. A request is
 * granted all its latches at once when its last conflicting predecessor
 * releases or withdraws; release wakes exactly those requests.
 *
 * Two ways to wait, one for each kind of thread (ARCHITECTURE.md):
 *   - the node loop must not block: kv_latch_acquire() says whether the
 *     request is pending, and if so `cb` runs once when it is granted or
 *     canceled;
 *   - worker threads call kv_latch_wait(), which blocks.
 * Either kind may cancel a pending request (its client went away).
 *
 * Thread safety: every function may be called from any thread; one mutex
 * per manager guards its state. Cost: acquiring n spans is O(n log L + k)
 * for L latches in the manager and k conflicts, with ONE heap allocation
 * per request (guard, n latches and its k waits-for edges together), none
 * per span.
 */
#ifndef KV_LATCH_H
#define KV_LATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "kv/mvcc.h"

typedef struct kv_latch_mgr kv_latch_mgr;
typedef struct kv_latch_guard kv_latch_guard;

typedef enum kv_latch_access { KV_LATCH_READ, KV_LATCH_WRITE } kv_latch_access;

/* One declared span. The key bytes are borrowed: they must stay valid and
 * unchanged until the request's guard is released. */
typedef struct kv_latch_span {
    const void *start;
    size_t start_len;
    const void *end; /* NULL: the single key `start` */
    size_t end_len;
    kv_latch_access access;
    kv_ts ts; /* zero: conflicts at every timestamp */
} kv_latch_span;

/* Runs once for a request that was pending at acquisition: status 0 when
 * its latches are granted, KV_ECANCELED when kv_latch_cancel() withdrew it.
 * It runs on the thread that caused it (a releaser or the canceller) with
 * the manager's lock held, so it must be short and must not call into this
 * manager: hand the request over (uv_async_send, a queue) and return. */
typedef void (*kv_latch_cb)(void *arg, int status);

/* Creates an empty manager, owned by the caller (kv_latch_mgr_destroy).
 * KV_ENOMEM, also when the system lacks the resources for a mutex. */
int kv_latch_mgr_create(kv_latch_mgr **out);

/* Frees the manager; every guard must have been released first. */
void kv_latch_mgr_destroy(kv_latch_mgr *m);

/* Declares the n spans of one request (n >= 1) and sequences it after
 * every request acquired before. On success *out is a guard the caller owns
 * until kv_latch_release(), and *pending says whether it must wait: false
 * means all latches are held now and `cb` will never run; true means `cb`
 * (may be NULL for blocking callers) runs once later, and kv_latch_wait()
 * blocks until then. On failure nothing is registered and `cb` never runs:
 * KV_EINVAL for n == 0, an unknown access or an empty span (end <= start);
 * KV_ENOMEM, also when the system lacks the resources for a condition
 * variable. */
int kv_latch_acquire(kv_latch_mgr *m, const kv_latch_span *spans, size_t n, kv_latch_cb cb,
                     void *arg, kv_latch_guard **out, bool *pending);

/* Blocks until `g` is granted (0) or canceled (KV_ECANCELED). Returns at
 * once for a guard that is already either. At most one thread waits on a
 * guard at a time. */
int kv_latch_wait(kv_latch_guard *g);

/* Withdraws a pending request: its latches leave the manager, the requests
 * that waited only on it proceed, its cb runs with KV_ECANCELED and its
 * waiter returns KV_ECANCELED. Returns true if it did so; false if `g` was
 * already granted (the grant stands; release it as usual) or canceled.
 * Callable from any thread until `g` is released. The guard still belongs
 * to its owner, who frees it with kv_latch_release(). */
bool kv_latch_cancel(kv_latch_guard *g);

/* Ends a request in any state: releases its latches if granted, withdraws
 * it if pending (its cb then never runs), wakes the requests that can now
 * proceed, and frees `g`. No other thread may use `g` (wait, cancel) once
 * this is called. */
void kv_latch_release(kv_latch_guard *g);

#endif /* KV_LATCH_H */
