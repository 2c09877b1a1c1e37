/*
 * kv_test_util.h - helpers shared by the kv test suites: throw-away store
 * directories under /tmp.
 */
#ifndef TESTS_KV_TEST_UTIL_H
#define TESTS_KV_TEST_UTIL_H

#include <stddef.h>

#include "kv/engine.h"

#define KV_TEST_PATH_MAX 256

/* Creates a fresh empty directory /tmp/kvtest-XXXXXX and writes its path
 * into `path` (KV_TEST_PATH_MAX bytes); aborts the test on failure. */
void kv_test_mkdtemp(char *path);

/* Removes `path` and everything below it; a missing path is fine. */
void kv_test_rmrf(const char *path);

/* Opens a new store in a fresh temp dir (path written to `dir`). */
kv_engine *kv_test_open(char *dir);

#endif /* TESTS_KV_TEST_UTIL_H */
