/*
 * resolver.h - internal: the store's asynchronous intent resolver.
 *
 * When a transaction commits or aborts, EndTxn resolves the intents of its
 * lock spans on the anchor's range inside its own command (synchronously);
 * the spans on other ranges are handed to this resolver, whose one
 * background thread sends them as ResolveIntent batches after the client
 * has its answer. Until then a reader meeting such an intent pushes, finds
 * the final record and resolves that intent itself, so nothing waits on the
 * resolver for correctness.
 *
 * The queue is bounded: when it is full, kv__resolver_enqueue refuses and
 * the caller resolves synchronously, which slows writers down to the rate
 * the resolver keeps up with rather than growing memory.
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef KV_RESOLVER_H
#define KV_RESOLVER_H

#include <stdbool.h>
#include <stddef.h>

#include "kv/kv.h"

typedef struct kv_store kv_store;
typedef struct kv__resolver kv__resolver;

/* Jobs (finished transactions) the queue holds at most. */
#define KV__RESOLVER_QUEUE 1024

/* Starts the resolver thread of store `s` (borrowed until destroy).
 * *out is owned by the caller. KV_ENOMEM. */
int kv__resolver_create(kv_store *s, kv__resolver **out);
/* Resolves what is still queued, then stops the thread and frees it. No
 * enqueue may race with it. NULL is a no-op. */
void kv__resolver_destroy(kv__resolver *r);

/* Queues the resolution of `txn`'s intents in spans[0..n) (copied: the
 * arguments are borrowed for the call). False when the queue is full or
 * memory is short: then nothing was queued. */
bool kv__resolver_enqueue(kv__resolver *r, const kv_span *spans, size_t n, const kv_txn_meta *txn,
                          kv_txn_status status, kv_ts commit_ts);

/* Blocks until every job queued before the call has been sent (tests). */
void kv__resolver_flush(kv__resolver *r);

#endif /* KV_RESOLVER_H */
