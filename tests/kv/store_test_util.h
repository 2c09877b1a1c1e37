/*
 * store_test_util.h - helpers for the suites that drive a kv_store through
 * the KV API: a store on a fake clock with fixed split points, and short
 * request builders over C strings.
 */
#ifndef TESTS_KV_STORE_TEST_UTIL_H
#define TESTS_KV_STORE_TEST_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include "kv/kv.h"
#include "kv/store.h"
#include "kv/txn_coord.h"
#include "kv_test_util.h"

/* The fake physical clock of stores opened here (nanoseconds). */
extern int64_t st_clock_ns;

/* Opens a fresh store (no fsync) in a temp dir written to `dir` and
 * bootstraps it with the NULL-terminated split keys (may be NULL). */
kv_store *st_open(char *dir, const char *const *splits);
/* The fixture most kv suites share: st_setup opens a fresh store split at
 * "c" and "f" into st_store, in the directory st_dir; st_teardown closes
 * it and removes the directory. */
extern char st_dir[KV_TEST_PATH_MAX];
extern kv_store *st_store;
void st_setup(void);
void st_teardown(void);

/* Gets `key` through coordinator `c`; returns the send's code and, when
 * `found` is non-NULL, whether the key had a value. */
int st_coord_get(kv_txn_coord *c, const char *key, bool *found);

/* Closes and reopens the store at `dir`. */
kv_store *st_reopen(kv_store *s, const char *dir);

/* Appends requests over C-string keys; abort the test on failure. */
void st_get(kv_request *r, const char *key);
void st_put(kv_request *r, const char *key, const char *val);
void st_del(kv_request *r, const char *key);
void st_scan(kv_request *r, kv_method m, const char *start, const char *end, size_t max_rows,
             size_t max_bytes);
void st_end(kv_request *r, bool commit, const kv_span *locks, size_t n);

/* Sends `req` and frees it; `resp` is initialised here and belongs to the
 * caller (kv_response_free). Returns the error code. */
int st_send(kv_store *s, kv_request *req, kv_response *resp);

/* Non-transactional one-request helpers. */
int st_put1(kv_store *s, const char *key, const char *val);
/* The value of `key` at the clock's now (NULL if absent), copied into
 * `buf` (size 64); returns the error code in *rc when rc is non-NULL. */
const char *st_get1(kv_store *s, const char *key, char *buf, int *rc);

/* A new transaction with id byte `id`, reading and writing at `ts`. */
kv_txn st_txn(uint8_t id, kv_ts ts);

/* True if `cf` holds a raw entry whose key starts with `prefix`. */
bool st_has_prefix(kv_store *s, kv_cf cf, const void *prefix, size_t len);

#endif /* TESTS_KV_STORE_TEST_UTIL_H */
