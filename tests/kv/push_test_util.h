/*
 * push_test_util.h - transactions over C-string keys for the conflict
 * suites (push_test.c, deadlock_test.c): raw kv_txn values sent through
 * kv_store_send, QueryTxn/HeartbeatTxn, intent inspection straight from
 * MVCC (no push), and requests run on a background thread so a test can
 * watch them wait.
 *
 * A transaction's anchor is the C string literal of its first write, so
 * a kv_txn here never points into a freed response.
 */
#ifndef TESTS_KV_PUSH_TEST_UTIL_H
#define TESTS_KV_PUSH_TEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>

#include "kv/kv.h"
#include "kv/store.h"

/* The store every helper uses; set it in the suite's setup. */
extern kv_store *pt_store;

/* A transaction with id byte `id` and priority `prio` at the clock's now. */
kv_txn pt_begin(uint8_t id, int32_t prio);
/* Puts/gets in transaction *t (updated from the response on success). */
int pt_put(kv_txn *t, const char *key, const char *val);
int pt_get(kv_txn *t, const char *key, bool *found, char value[64]);
/* Non-transactional requests with no_wait set. */
int pt_get_nowait(const char *key);
int pt_put_nowait(const char *key, const char *val);
/* EndTxn with the given keys as lock spans. pt_end_resp leaves `resp`
 * for the caller to free. */
int pt_end_keys(kv_txn *t, bool commit, const char *const *keys, size_t n);
int pt_end(kv_txn *t, bool commit, const char *key);
int pt_end_resp(kv_txn *t, bool commit, const char *key, kv_response *resp);
/* QueryTxn: whether t's record exists, and its contents (anchor NULL). */
bool pt_query(const kv_txn *t, kv_txn *rec);
/* HeartbeatTxn: the record it left in *rec (anchor NULL). */
int pt_heartbeat(const kv_txn *t, kv_txn *rec);
/* Whether `key` holds an intent, and its timestamp. */
bool pt_has_intent(const char *key);
kv_ts pt_intent_ts(const char *key);
/* Spins (yielding) until `n` pushers are blocked in the wait queue. */
void pt_wait_for_waiters(kv_store *s, size_t n);

/* A request on its own thread. */
typedef struct pt_bg {
    pthread_t thread;
    kv_txn *txn;           /* NULL: non-transactional */
    const char *key, *val; /* val NULL: a get */
    bool commit;           /* transactional: commit after the put */
    int rc;
    bool found;
    char value[64];
} pt_bg;

void pt_bg_get(pt_bg *b, const char *key);
void pt_bg_put(pt_bg *b, const char *key, const char *val);
/* Puts `key` in *t, then commits with the put's key and t's anchor as
 * lock spans, at the write timestamp (t read nothing: a refresh to it is
 * trivially valid). */
void pt_bg_txn_put(pt_bg *b, kv_txn *t, const char *key);
int pt_bg_join(pt_bg *b);

#endif /* TESTS_KV_PUSH_TEST_UTIL_H */
