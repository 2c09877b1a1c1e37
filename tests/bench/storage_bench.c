/*
 * storage_bench.c - MVCC write/read/scan throughput of kv/, shaped like
 * RocksDB's db_bench so tests/bench/storage.sh can print ratios:
 * 16-byte keys (8-byte big-endian number padded with '0', as db_bench
 * generates them), 100-byte values (half random, half repeated, like
 * db_bench's compression_ratio 0.5), one key per batch, WAL on, lz4.
 *
 *   storage_bench DIR BENCH[,BENCH...] NUM SYNC
 *
 * BENCH is fillseq, fillrandom (kv_mvcc_put at an HLC timestamp, committed
 * with SYNC 0/1), readrandom (kv_mvcc_get of a random key), or scan
 * (kv_mvcc_scan of 10 keys from a random key, like db_bench seekrandom with
 * seek_nexts=10). Prints "BENCH OPS_PER_SEC" per benchmark.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/engine.h"
#include "kv/hlc.h"
#include "kv/kv_error.h"
#include "kv/mvcc.h"

enum { KEY_SIZE = 16, VALUE_SIZE = 100, SCAN_KEYS = 10 };

struct bench {
    kv_engine *eng;
    kv_hlc *clock;
    kv_batch *batch;
    kv_buf val;
    uint64_t num;
    bool sync;
    uint64_t rng;
    char value[VALUE_SIZE];
};

static uint64_t next_rand(struct bench *b)
{
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    return b->rng;
}

static void make_key(char *key, uint64_t n)
{
    for (int i = 0; i < 8; i++)
        key[i] = (char)(n >> (56 - 8 * i));
    memset(key + 8, '0', KEY_SIZE - 8);
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int die(const char *what, int rc, const char *err)
{
    fprintf(stderr, "storage_bench: %s: %s (%s)\n", what, kv_strerror(rc), err);
    exit(1);
}

static void bench_fill(struct bench *b, bool random)
{
    char key[KEY_SIZE], err[256];
    for (uint64_t i = 0; i < b->num; i++) {
        make_key(key, random ? next_rand(b) % b->num : i);
        int rc = kv_mvcc_put(b->eng, NULL, b->batch, key, KEY_SIZE, kv_hlc_now(b->clock), NULL,
                             b->value, VALUE_SIZE, NULL, err, sizeof(err));
        if (rc != 0)
            die("put", rc, err);
        if ((rc = kv_engine_write(b->eng, b->batch, b->sync, err, sizeof(err))) != 0)
            die("write", rc, err);
        kv_batch_clear(b->batch);
    }
}

static void bench_read(struct bench *b)
{
    char key[KEY_SIZE], err[256];
    kv_mvcc_read_opts ro = {.ts = kv_hlc_now(b->clock)};
    for (uint64_t i = 0; i < b->num; i++) {
        make_key(key, next_rand(b) % b->num);
        int rc =
            kv_mvcc_get(b->eng, NULL, &ro, key, KEY_SIZE, &b->val, NULL, NULL, err, sizeof(err));
        if (rc != 0 && rc != KV_ENOTFOUND)
            die("get", rc, err);
    }
}

static int count_row(void *arg, const char *k, size_t kl, const char *v, size_t vl, kv_ts ts)
{
    (void)k, (void)kl, (void)v, (void)vl, (void)ts;
    ++*(uint64_t *)arg;
    return 0;
}

static void bench_scan(struct bench *b)
{
    char key[KEY_SIZE], err[256];
    kv_mvcc_read_opts ro = {.ts = kv_hlc_now(b->clock), .limit = SCAN_KEYS};
    uint64_t rows = 0;
    for (uint64_t i = 0; i < b->num; i++) {
        make_key(key, next_rand(b) % b->num);
        int rc = kv_mvcc_scan(b->eng, NULL, &ro, key, KEY_SIZE, NULL, 0, count_row, &rows, NULL,
                              err, sizeof(err));
        if (rc != 0)
            die("scan", rc, err);
    }
    if (rows == 0)
        die("scan", KV_ENOTFOUND, "no rows");
}

static void run(struct bench *b, const char *name)
{
    double t0 = now_sec();
    if (strcmp(name, "fillseq") == 0)
        bench_fill(b, false);
    else if (strcmp(name, "fillrandom") == 0)
        bench_fill(b, true);
    else if (strcmp(name, "readrandom") == 0)
        bench_read(b);
    else if (strcmp(name, "scan") == 0)
        bench_scan(b);
    else
        die(name, KV_EINVAL, "unknown benchmark");
    printf("%s %.0f\n", name, (double)b->num / (now_sec() - t0));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s DIR BENCH[,BENCH...] NUM SYNC\n", argv[0]);
        return 2;
    }
    struct bench b = {
        .num = strtoull(argv[3], NULL, 10), .sync = atoi(argv[4]) != 0, .rng = 0x9E3779B97F4A7C15u};
    char err[256] = "";
    int rc = kv_engine_open(argv[1], NULL, &b.eng, err, sizeof(err));
    if (rc != 0)
        die("open", rc, err);
    if (kv_hlc_create(kv_hlc_wall_clock, NULL, 0, &b.clock) != 0 || kv_batch_create(&b.batch) != 0)
        die("setup", KV_ENOMEM, "");
    for (int i = 0; i < VALUE_SIZE; i++)
        b.value[i] = i < VALUE_SIZE / 2 ? (char)next_rand(&b) : 'x';
    char *list = argv[2], *save = NULL;
    for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save))
        run(&b, name);
    kv_buf_free(&b.val);
    kv_batch_destroy(b.batch);
    kv_hlc_destroy(b.clock);
    kv_engine_close(b.eng);
    return 0;
}
