/*
 * txn.h - the SQL layer's view of a KV transaction (sql_txn) and the one
 * place where KV error codes become SQLSTATEs.
 *
 * A sql_txn wraps a kv_txn_coord (kv/txn_coord.h) and adds what SQL needs:
 *  - errors come back as a sql_error (strings in the caller's arena):
 *      kv_err_retryable  -> 40001 "restart transaction: <kv message>"
 *                           (hint: the transaction may be retried)
 *      kv_err_ambiguous  -> 40003 "result is ambiguous: <kv message>"
 *      KV_ECONDFAILED    -> never mapped here: callers that send CPut map
 *                           it themselves (unique violations, 23505) over
 *                           the XX000 this file sets
 *      KV_ENOMEM         -> 53200 "out of memory"
 *      anything else     -> XX000 with the kv message;
 *  - a cancel flag (sql_txn_check_cancel) consulted before every send, so a
 *    CancelRequest or statement_timeout stops a statement between KV calls;
 *  - whether the transaction wrote catalog keys (DDL), so the session can
 *    invalidate the node's descriptor cache when it commits;
 *  - the catalog version it read and the version increment it commits
 *    (sql/catalog.h, "Cache"): the hooks below keep them on the
 *    transaction, whose epoch they belong to.
 *
 * Non-transactional one-shot batches (nextval's increments, id allocation)
 * go through sql_kv_send, which maps errors the same way.
 *
 * Threads: a sql_txn is used by one thread at a time (its session's
 * worker); the cancel flag it watches may be set from any thread.
 */
#ifndef SQL_TXN_H
#define SQL_TXN_H

#include <stdatomic.h>
#include <stdbool.h>

#include "kv/kv.h"
#include "kv/store.h"
#include "kv/txn_coord.h"
#include "sql/sql_error.h"

typedef struct sql_txn sql_txn;

/* Why a statement must stop; written by other threads, read by the
 * statement's worker. */
typedef enum sql_cancel_reason {
    SQL_CANCEL_NONE = 0,
    SQL_CANCEL_REQUEST = 1,  /* CancelRequest: 57014 "canceling statement due to user request" */
    SQL_CANCEL_TIMEOUT = 2,  /* statement_timeout: 57014 "... due to statement timeout" */
    SQL_CANCEL_SHUTDOWN = 3, /* node stopping: 57P01 */
} sql_cancel_reason;

/* Begins a transaction on store `s` heartbeated by `hb` (both borrowed
 * until sql_txn_destroy). `cancel` (may be NULL; borrowed likewise) is the
 * session's flag. *out is owned by the caller. -1 with `err` set (53200,
 * XX000) on failure. */
int sql_txn_begin(kv_store *s, kv_txn_hb *hb, atomic_int *cancel, sql_txn **out, sql_error *err,
                  kv_arena *arena);

/* Sends `req` in the transaction (see kv_txn_coord_send: `resp` is
 * initialised by the caller and may be re-initialised for a retry).
 * Returns 0, or -1 with `err` set as above; resp->err keeps the KV code so
 * callers can tell KV_ECONDFAILED apart. Checks the cancel flag first. */
int sql_txn_send(sql_txn *t, kv_request *req, kv_response *resp, sql_error *err, kv_arena *arena);

/* Commits, sending `req` (may be NULL) with the EndTxn (one-phase commit
 * when it fits one range). `resp` as for sql_txn_send; it may be NULL
 * when `req` is. The Put of sql_txn_put_at_commit, if any, is appended to
 * `req` (its response last), or sent alone when `req` is NULL. 0, or -1
 * with `err` set; after a retryable failure the transaction is still open
 * (restart or rollback). */
int sql_txn_commit(sql_txn *t, kv_request *req, kv_response *resp, sql_error *err, kv_arena *arena);

/* Aborts and cleans up intents; the transaction is finished either way
 * (failures only leave intents for others to push away). */
void sql_txn_rollback(sql_txn *t);

/* Next epoch after a retryable error (kv_txn_coord_restart). The epoch
 * starts afresh: it has done no DDL, read no catalog version and has no
 * Put for the commit (the statement that runs again redoes them). 0 or
 * -1. */
int sql_txn_restart(sql_txn *t, sql_error *err, kv_arena *arena);

/* Frees the transaction, rolling it back if still open. NULL: no-op. */
void sql_txn_destroy(sql_txn *t);

/* The timestamp statements read at: now() and CURRENT_TIMESTAMP are its
 * wall time (PostgreSQL: the transaction's start). */
kv_ts sql_txn_read_ts(const sql_txn *t);

/* The catalog calls this when it writes a descriptor in the transaction;
 * the session invalidates the descriptor cache after such a commit. */
void sql_txn_mark_ddl(sql_txn *t);
bool sql_txn_did_ddl(const sql_txn *t);

/* The catalog version as this transaction read it (catalog.c reads the
 * version key through the transaction at most once per epoch and keeps
 * the value here): true and *out once set. */
bool sql_txn_catalog_version(const sql_txn *t, uint64_t *out);
void sql_txn_set_catalog_version(sql_txn *t, uint64_t v);

/* Registers a Put of `key` (`klen` bytes) = `val` (`vlen` bytes), both
 * copied, that sql_txn_commit appends to its batch: how the catalog
 * writes its version last, so that the key every transaction reads holds
 * an intent only while the commit resolves. A second call replaces the
 * first. -1 with 53200 in `err`. */
int sql_txn_put_at_commit(sql_txn *t, const uint8_t *key, size_t klen, const uint8_t *val,
                          size_t vlen, sql_error *err, kv_arena *arena);

/* Stops now if the cancel flag is set: -1 with 57014/57P01 in `err`. */
int sql_txn_check_cancel(atomic_int *cancel, sql_error *err, kv_arena *arena);

/* A non-transactional batch to store `s` (ts chosen by the store), errors
 * mapped as above. */
int sql_kv_send(kv_store *s, const kv_request *req, kv_response *resp, sql_error *err,
                kv_arena *arena);

/* The SQL error for KV code `code` with message `msg` (see the table in
 * the header comment). Returns -1. */
int sql_error_from_kv(sql_error *err, kv_arena *arena, int code, const char *msg);

#endif /* SQL_TXN_H */
