/*
 * txn_wait.h - internal: the store's in-memory view of transactions that
 * conflict, used by the push path (txn_push.c, docs/kv.md "Conflicts:
 * push, wait queue, deadlocks"). It holds only what is inherently local:
 * who is blocked here on whom. What a pusher needs to know about a pushee
 * (anchor, priority) comes from the intent it met, its state from the
 * record.
 *
 *  - A wait queue: pushers that may not push yet block here, keyed by the
 *    pushee, until the pushee finishes (kv__txn_wait_finished), a poll
 *    interval passes (to look for an expired heartbeat), they are chosen
 *    to break a deadlock, or their own transaction is aborted by another
 *    pusher (their wait is canceled).
 *  - Deadlock detection: each blocked pusher is an edge pusher -> pushee of
 *    a waits-for graph. A pusher blocks on one pushee at a time, so on
 *    enqueue following the edges from the pushee either ends or comes back
 *    to the pusher: a cycle. Its lowest-priority member (ties: the greatest
 *    id) is woken as the victim. Only an enqueue can close a cycle, so each
 *    cycle gets exactly one victim.
 *
 * One store-wide structure, because a waits-for cycle spans ranges. With
 * several nodes each pusher would gather its part of the graph through
 * QueryTxn instead (CockroachDB's distributed detection).
 *
 * Thread safety: every function may be called from any thread; one mutex.
 */
#ifndef KV_TXN_WAIT_H
#define KV_TXN_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/kv.h"

typedef struct kv__txn_wait kv__txn_wait;

/* How long a blocked pusher sleeps before it pushes again (to notice an
 * expired heartbeat on the injectable clock). */
#define KV__TXN_WAIT_POLL_NS INT64_C(20000000)

/* An empty structure owned by the caller (kv__txn_wait_destroy). KV_ENOMEM. */
int kv__txn_wait_create(kv__txn_wait **out);
/* Frees it; nobody may be waiting. NULL is a no-op. */
void kv__txn_wait_destroy(kv__txn_wait *w);

/* The record of `id` became final (committed or aborted): wakes everybody
 * waiting on it, and, if `id` itself is waiting (a pusher aborted it
 * meanwhile), cancels that wait. */
void kv__txn_wait_finished(kv__txn_wait *w, const uint8_t id[KV_TXN_ID_LEN]);

/* A pusher's side of a wait; `id`/`priority` are the pushing
 * transaction's (a fresh id for a non-transactional request). */
typedef struct kv__pusher {
    uint8_t id[KV_TXN_ID_LEN];
    int32_t priority;
} kv__pusher;

/* How many records have become final so far: read it before a push and
 * pass it to kv__txn_wait_for. */
uint64_t kv__txn_wait_finishes(kv__txn_wait *w);

/* Blocks `p` behind transaction `pushee` until the pushee finishes or
 * poll_ns passes: returns 0 either way, and the caller pushes again. It
 * returns 0 at once if any record became final since `seen` (the value
 * of kv__txn_wait_finishes before the failed push), whose wake-up the
 * caller would otherwise have missed.
 * KV_ETXNABORTED when `p` was chosen to break a deadlock (the caller must
 * abort its transaction); KV_ECANCELED when p's own transaction finished
 * meanwhile (another pusher aborted it). */
int kv__txn_wait_for(kv__txn_wait *w, const kv__pusher *p, const uint8_t pushee[KV_TXN_ID_LEN],
                     uint64_t seen, int64_t poll_ns);

/* Number of pushers blocked now (tests). */
size_t kv__txn_wait_count(kv__txn_wait *w);

#endif /* KV_TXN_WAIT_H */
