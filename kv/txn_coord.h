/*
 * txn_coord.h - the transaction coordinator: the client side of one KV
 * transaction over a store (docs/kv.md, "The transaction coordinator").
 *
 * The coordinator owns the kv_txn (id, epoch, timestamps, anchor) and
 * fills it into every batch it sends. It remembers what the transaction
 * read (read spans) and wrote (lock spans):
 *
 *  - when a response shows the write timestamp pushed above the read
 *    timestamp, it refreshes the read spans (KV_REFRESH) to the write
 *    timestamp; if nothing changed there the read timestamp moves up,
 *    otherwise the batch fails with KV_ETXNRETRY;
 *  - a read-only batch meeting an uncertain value (KV_EREADUNCERTAIN) is
 *    refreshed above it and sent again;
 *  - commit sends EndTxn with the lock spans (one batch with the last
 *    writes when given: a one-phase commit if it fits in one range);
 *  - rollback, and destroy without commit (a client gone), abort the
 *    record and resolve the intents.
 *
 * Errors for sql/: every error the coordinator returns is retryable
 * (kv_err_retryable: restart the transaction, SQLSTATE 40001), ambiguous
 * (kv_err_ambiguous: 40003, never a failure) or something else. Until
 * readers and writers push conflicting transactions, KV_EWRITEINTENT is
 * reported as KV_ETXNRETRY.
 *
 * A heartbeater (kv_txn_hb) is one thread per store that heartbeats the
 * record of every open transaction registered with it, so that other
 * transactions can tell a live one from an abandoned one.
 *
 * Thread safety: one coordinator is used by one thread at a time; any
 * number of coordinators and one heartbeater may run beside each other.
 */
#ifndef KV_TXN_COORD_H
#define KV_TXN_COORD_H

#include <stdint.h>

#include "kv/kv.h"
#include "kv/store.h"

typedef struct kv_txn_coord kv_txn_coord;
typedef struct kv_txn_hb kv_txn_hb;

/* Starts the heartbeat thread of store `s` (borrowed until
 * kv_txn_hb_stop), beating every `interval_ms` (> 0). *out is owned by
 * the caller. KV_EINVAL, KV_ENOMEM, KV_EIO (thread creation). */
int kv_txn_hb_start(kv_store *s, int64_t interval_ms, kv_txn_hb **out);
/* Stops and frees the heartbeater; every coordinator registered with it
 * must be destroyed first. NULL is a no-op. */
void kv_txn_hb_stop(kv_txn_hb *hb);

/* Begins a transaction on `s` with a random id, read and write timestamps
 * from the store's clock and an uncertainty limit one maximum clock
 * offset above them. `hb` (may be NULL) heartbeats it while it is open.
 * Both are borrowed until kv_txn_coord_destroy. *out is owned by the
 * caller. KV_ENOMEM, KV_EIO (no randomness). */
int kv_txn_coord_begin(kv_store *s, kv_txn_hb *hb, int32_t priority, kv_txn_coord **out);

/* Drops the transaction's observed timestamp (kv.h) until its next
 * restart, so the store treats it like a transaction coordinated from
 * another node whose clock it has not observed: values up to the full
 * uncertainty limit are uncertain; this is how single-store tests exercise
 * uncertainty restarts. */
void kv_txn_coord_forget_observation(kv_txn_coord *c);

/* Sends `req` (borrowed; its header's transaction is replaced by the
 * coordinator's) into `resp`, which the caller initialised
 * (kv_response_init) and frees; the coordinator may re-initialise it for
 * a retry, so the caller must not have kept pointers into it. Returns
 * resp->err. KV_EINVAL for EndTxn or an internal method in `req`, or a
 * finished transaction. */
int kv_txn_coord_send(kv_txn_coord *c, kv_request *req, kv_response *resp);

/* Commits: sends the requests of `req` (may be NULL) followed by EndTxn
 * with the lock spans. `req` and `resp` as for kv_txn_coord_send (resp
 * must be initialised even when req is NULL). On success the transaction
 * is finished; on a retryable error it stays open for a restart or a
 * rollback. */
int kv_txn_coord_commit(kv_txn_coord *c, kv_request *req, kv_response *resp);

/* Aborts: writes the record ABORTED and resolves the intents (nothing to
 * do if the transaction never wrote). The transaction is finished even
 * when this fails (the intents then stay until another transaction
 * pushes them away); the message goes to err/errlen (may be NULL/0). */
int kv_txn_coord_rollback(kv_txn_coord *c, char *err, size_t errlen);

/* Prepares the transaction for another attempt after a retryable error:
 * the next epoch with fresh timestamps and no read spans, keeping the lock
 * spans (the next commit or abort cleans the old epoch's intents). After
 * KV_ETXNABORTED the old transaction is rolled back and a new id is taken.
 * KV_EINVAL on a finished transaction; KV_ENOMEM, KV_EIO. */
int kv_txn_coord_restart(kv_txn_coord *c);

/* The transaction as it stands; borrowed until the next call on `c`. */
const kv_txn *kv_txn_coord_txn(const kv_txn_coord *c);

/* Frees the coordinator; an open transaction is rolled back first (the
 * client went away). NULL is a no-op. */
void kv_txn_coord_destroy(kv_txn_coord *c);

#endif /* KV_TXN_COORD_H */
