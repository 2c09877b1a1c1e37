/*
 * send_bench.c - throughput of synced non-transactional writes through
 * kv_store_send from T threads, to show that concurrent commits share
 * RocksDB's group commit (one WAL fsync for many batches) instead of being
 * serialised by kv. Each thread puts its own keys (no conflicts), spread
 * over four ranges. Not a test: it prints figures and judges nothing.
 *
 *   build/tests/kv/kv_send_bench [DIR [WRITES_PER_THREAD]]
 *
 * runs 1, 2, 4, 8 and 16 threads in fresh stores under DIR (default
 * build/, which is on the real disk; /tmp may not be).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/store.h"

static kv_store *store;
static int writes = 200;

static void die(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "send_bench: %s: %s (%s)\n", what, kv_err_name(rc), msg);
    exit(1);
}

static void *writer(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < writes; i++) {
        char key[32], val[16];
        snprintf(key, sizeof(key), "%c-%02d-%06d", 'a' + i % 4 * 6, t, i);
        snprintf(val, sizeof(val), "%d", i);
        kv_request r;
        kv_response resp;
        if (kv_request_init(&r) != 0 || kv_response_init(&resp) != 0)
            die("init", KV_ENOMEM, "");
        kv_req q = {.method = KV_PUT, .span = {(const uint8_t *)key, strlen(key), NULL, 0}};
        q.u.put.value = (const uint8_t *)val;
        q.u.put.value_len = strlen(val);
        int rc = kv_request_add(&r, &q);
        if (rc == 0)
            rc = kv_store_send(store, &r, &resp);
        if (rc != 0)
            die("put", rc, resp.msg);
        kv_response_free(&resp);
        kv_request_free(&r);
    }
    return NULL;
}

static double run(const char *base, int threads)
{
    char dir[512], err[256] = "";
    snprintf(dir, sizeof(dir), "%s/kv-send-bench-XXXXXX", base);
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", KV_EIO, dir);
    int rc = kv_store_open(dir, NULL, &store, err, sizeof(err));
    const uint8_t *splits[] = {(const uint8_t *)"g", (const uint8_t *)"m", (const uint8_t *)"s"};
    size_t lens[] = {1, 1, 1};
    if (rc == 0)
        rc = kv_store_bootstrap(store, splits, lens, 3, err, sizeof(err));
    if (rc != 0)
        die("open", rc, err);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_t th[16];
    for (int t = 0; t < threads; t++)
        pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
    for (int t = 0; t < threads; t++)
        pthread_join(th[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    kv_store_close(store);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "send_bench: could not remove %s\n", dir);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    return threads * writes / s;
}

int main(int argc, char **argv)
{
    const char *base = argc > 1 ? argv[1] : "build";
    if (argc > 2)
        writes = atoi(argv[2]);
    double one = 0;
    for (int threads = 1; threads <= 16; threads *= 2) {
        double rate = run(base, threads);
        if (threads == 1)
            one = rate;
        printf("send_bench: %2d threads: %8.0f synced puts/s (%.1fx one thread)\n", threads, rate,
               rate / one);
    }
    return 0;
}
