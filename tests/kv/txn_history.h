/*
 * txn_history.h - shared by the concurrent transaction tests
 * (txn_append_test.c, bank_test.c): a throw-away store on the real clock
 * split into several ranges, a JSON-lines history in the jepsen/README.md
 * format, and the jepsen/ checker run over it.
 *
 * Plain C (no Criterion): the tests are td_stress programs, so they also
 * run under TSan. Every helper exits the process with status 1 on a
 * setup failure, naming what failed.
 */
#ifndef TESTS_KV_TXN_HISTORY_H
#define TESTS_KV_TXN_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kv/store.h"

/* Prints "<prog>: <what>: <code name> (<msg>)" and exits with 1. */
void th_die(const char *what, int rc, const char *msg) __attribute__((noreturn));

/* Opens a store (no fsync) in a fresh directory under TMPDIR or /tmp,
 * bootstrapped with the NULL-terminated split keys; the directory path is
 * written to `dir` (256 bytes). Close with th_close_store. */
kv_store *th_open_store(char *dir, const char *const *splits);
/* Closes the store and removes its directory. */
void th_close_store(kv_store *s, const char *dir);

/* The number of intents left anywhere in the store's MVCC data once every
 * key has been read: other ranges' intents of finished transactions are
 * resolved asynchronously, and a reader meeting one resolves it, so only
 * intents no reader can get past (a leak) are counted. */
size_t th_count_intents(kv_store *s);

/* How often the tests' heartbeaters beat open transactions. */
#define TH_HEARTBEAT_MS 10

/* Sleeps before attempt `attempt` + 1 of a transaction: a random time
 * (from `rnd`) below a bound doubling with each attempt up to ~6 ms, so
 * conflicting transactions stop restarting in lockstep. */
void th_backoff(int attempt, uint64_t rnd);

/* An environment knob: the integer value of `name`, or `def`. */
long th_env(const char *name, long def);

/* A JSON-lines history, written as events happen. */
typedef struct th_history th_history;

/* Creates the history file in `dir` (borrowed only for the call). */
th_history *th_history_open(const char *dir);
/* Appends one event: {"index", "type", "f", "process", "time", "value"
 * [, "error"]}. `value_json` is raw JSON; `error` may be NULL. The time is
 * taken under the history's lock, so time order is file order. */
void th_history_event(th_history *h, const char *type, const char *f, long process,
                      const char *value_json, const char *error);
/* Closes the file, runs `jepsen/check --workload WORKLOAD EXTRA FILE`
 * (EXTRA may be "") and returns the checker's exit status; the checker's
 * output goes to stdout. The history file is kept when the status is not
 * 0 (its path is printed) and removed otherwise. */
int th_history_check(th_history *h, const char *workload, const char *extra);

#endif /* TESTS_KV_TXN_HISTORY_H */
