/*
 * mvcc_stress.c - one engine shared by writer and reader threads, as the
 * node loop and SQL workers will share a store: writers commit versions
 * and transactional intents on their own keys at HLC timestamps, readers
 * scan everything (latest state and snapshots) at fresh timestamps and
 * check that every key's value never goes backwards between their scans.
 * Runs under TSan (make tsan-test); exit status 0 = pass.
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/hlc.h"
#include "kv/kv_error.h"
#include "kv/mvcc.h"

enum { WRITERS = 2, READERS = 2, KEYS = 16, ROUNDS = 300 };

static kv_engine *eng;
static kv_hlc *clock_;
static atomic_int writers_left = WRITERS;
static atomic_int failures;
static atomic_long rows_seen;

static void fail(const char *what, int rc, const char *err)
{
    if (atomic_fetch_add(&failures, 1) < 5)
        fprintf(stderr, "mvcc_stress: %s: %s (%s)\n", what, kv_strerror(rc), err);
}

/* Key "w<writer>k<nn>" (5 bytes), value = round number, 8 bytes big-endian. */
static void make_key(char *key, int writer, int k)
{
    snprintf(key, 8, "w%dk%02d", writer, k);
}

static void encode(char *v, uint64_t n)
{
    for (int i = 0; i < 8; i++)
        v[i] = (char)(n >> (56 - 8 * i));
}

static uint64_t decode(const char *v)
{
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = n << 8 | (uint8_t)v[i];
    return n;
}

/* One version of `key`: every other round through an intent that is then
 * committed, so readers also meet intents. */
static void write_round(kv_batch *b, int writer, const char *key, uint64_t round)
{
    char v[8], err[256];
    kv_mvcc_writer w = {
        .txn = {.epoch = 1}, .anchor = (const uint8_t *)key, .anchor_len = strlen(key)};
    w.txn.id[0] = (uint8_t)(writer + 1);
    const kv_txn_meta *t = round % 2 ? &w.txn : NULL;
    encode(v, round);
    int rc = kv_mvcc_put(eng, NULL, b, key, strlen(key), kv_hlc_now(clock_), t ? &w : NULL, v, 8,
                         NULL, err, sizeof(err));
    if (rc == 0)
        rc = kv_engine_write(eng, b, false, err, sizeof(err));
    kv_batch_clear(b);
    if (rc == 0 && t != NULL) {
        rc = kv_mvcc_resolve(eng, NULL, b, key, strlen(key), t, KV_TXN_COMMITTED,
                             kv_hlc_now(clock_), NULL, err, sizeof(err));
        if (rc == 0)
            rc = kv_engine_write(eng, b, false, err, sizeof(err));
        kv_batch_clear(b);
    }
    if (rc != 0)
        fail("write", rc, err);
}

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    kv_batch *b;
    if (kv_batch_create(&b) != 0)
        return NULL;
    char key[8];
    for (uint64_t round = 1; round <= ROUNDS; round++) {
        for (int k = 0; k < KEYS; k++) {
            make_key(key, id, k);
            write_round(b, id, key, round);
        }
    }
    kv_batch_destroy(b);
    atomic_fetch_sub(&writers_left, 1);
    return NULL;
}

struct reader_state {
    uint64_t seen[WRITERS][KEYS];
};

static int check_row(void *arg, const char *key, size_t klen, const char *v, size_t vlen, kv_ts ts)
{
    struct reader_state *r = arg;
    (void)ts;
    if (klen != 5 || vlen != 8 || key[0] != 'w')
        return KV_EINVAL;
    int w = key[1] - '0', k = atoi(key + 3);
    uint64_t n = decode(v);
    if (w < 0 || w >= WRITERS || k < 0 || k >= KEYS || n < r->seen[w][k])
        return KV_EINVAL; /* a value went backwards */
    r->seen[w][k] = n;
    atomic_fetch_add(&rows_seen, 1);
    return 0;
}

static void *reader(void *arg)
{
    struct reader_state r = {0};
    char err[256];
    (void)arg;
    for (int i = 0; atomic_load(&writers_left) > 0; i++) {
        kv_snapshot *snap = NULL;
        if (i % 2 && kv_snapshot_open(eng, &snap) != 0)
            return NULL;
        kv_mvcc_read_opts ro = {.ts = kv_hlc_now(clock_), .reverse = i % 3 == 0};
        int rc =
            kv_mvcc_scan(eng, snap, &ro, "w", 1, "x", 1, check_row, &r, NULL, err, sizeof(err));
        kv_snapshot_close(snap);
        if (rc != 0 && rc != KV_EWRITEINTENT)
            fail("scan", rc,
                 rc == KV_EINVAL ? "a key is malformed or its value went backwards" : err);
    }
    return NULL;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

int main(void)
{
    char dir[] = "/tmp/kvstress-XXXXXX", err[256] = "";
    if (mkdtemp(dir) == NULL)
        return 1;
    int rc = kv_engine_open(dir, NULL, &eng, err, sizeof(err));
    if (rc != 0 || kv_hlc_create(kv_hlc_wall_clock, NULL, 0, &clock_) != 0) {
        fail("open", rc, err);
        return 1;
    }
    pthread_t th[WRITERS + READERS];
    for (int i = 0; i < WRITERS; i++)
        pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i);
    for (int i = 0; i < READERS; i++)
        pthread_create(&th[WRITERS + i], NULL, reader, NULL);
    for (int i = 0; i < WRITERS + READERS; i++)
        pthread_join(th[i], NULL);
    kv_hlc_destroy(clock_);
    kv_engine_close(eng);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (atomic_load(&rows_seen) == 0)
        fail("readers", KV_ENOTFOUND, "no scan saw a row");
    int n = atomic_load(&failures);
    if (n == 0)
        printf("mvcc_stress: %d writers x %d keys x %d rounds, %d readers saw %ld rows: ok\n",
               WRITERS, KEYS, ROUNDS, READERS, atomic_load(&rows_seen));
    return n == 0 ? 0 : 1;
}
