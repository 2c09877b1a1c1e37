/*
 * kv_bench.c - KV API throughput on one store with synced commits, run by
 * tests/bench/kv.sh beside db_bench. Not a test: it prints figures and
 * judges nothing.
 *
 *   kv_bench DIR THREADS OPS_PER_THREAD
 *
 * opens a fresh store in DIR (one range, fsync on every commit) and runs
 * three phases with THREADS clients each:
 *
 *   put   non-transactional single-key puts, 16-byte keys, 100-byte values
 *   get   non-transactional single-key gets of keys the put phase wrote
 *   txn2  transactions writing two keys through the coordinator: one batch
 *         of two puts plus EndTxn in one range, i.e. one-phase commits
 *
 * Each client writes its own keys, so nothing conflicts: concurrent
 * commits can only share RocksDB's group commit (one WAL fsync for many
 * batches), which is what the 16-client figures show. Output: one line
 * per phase, "<phase> <threads> <ops per second>" (a txn2 op is a
 * transaction).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/txn_coord.h"

#define KEY_LEN   16
#define VALUE_LEN 100

typedef enum phase { PHASE_PUT, PHASE_GET, PHASE_TXN2 } phase;

static const char *const phase_names[] = {"put", "get", "txn2"};

typedef struct client {
    pthread_t thread;
    kv_store *s;
    phase ph;
    int id;
    int ops;
} client;

static void die(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "kv_bench: %s: %s (%s)\n", what, kv_err_name(rc), msg);
    exit(1);
}

/* Key `i` of client `id` in phase `ph` (puts and gets share keys). */
static void make_key(char key[KEY_LEN + 1], phase ph, int id, int i)
{
    snprintf(key, KEY_LEN + 1, "%c%03d%012d", ph == PHASE_TXN2 ? 't' : 'p', id, i);
}

static void add(kv_request *r, kv_method m, const char *key, const uint8_t *val)
{
    kv_req q = {.method = m, .span = {(const uint8_t *)key, KEY_LEN, NULL, 0}};
    q.u.put.value = val;
    q.u.put.value_len = val != NULL ? VALUE_LEN : 0;
    int rc = kv_request_add(r, &q);
    if (rc != 0)
        die("request", rc, "");
}

/* One operation of the client's phase. */
static void run_op(client *c, int i, const uint8_t *val)
{
    char k1[KEY_LEN + 1], k2[KEY_LEN + 1];
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        die("init", KV_ENOMEM, "");
    make_key(k1, c->ph, c->id, 2 * i);
    make_key(k2, c->ph, c->id, 2 * i + 1);
    int rc;
    if (c->ph == PHASE_TXN2) {
        kv_txn_coord *t;
        if ((rc = kv_txn_coord_begin(c->s, NULL, 0, &t)) != 0)
            die("begin", rc, "");
        add(&req, KV_PUT, k1, val);
        add(&req, KV_PUT, k2, val);
        rc = kv_txn_coord_commit(t, &req, &resp);
        kv_txn_coord_destroy(t);
    } else {
        add(&req, c->ph == PHASE_PUT ? KV_PUT : KV_GET, k1, c->ph == PHASE_PUT ? val : NULL);
        rc = kv_store_send(c->s, &req, &resp);
        if (rc == 0 && c->ph == PHASE_GET && !resp.resps[0].found)
            die("get", KV_ENOTFOUND, k1);
    }
    if (rc != 0)
        die(phase_names[c->ph], rc, resp.msg);
    kv_response_free(&resp);
    kv_request_free(&req);
}

static void *client_main(void *arg)
{
    client *c = arg;
    uint8_t val[VALUE_LEN];
    memset(val, 'v', sizeof(val));
    for (int i = 0; i < c->ops; i++)
        run_op(c, i, val);
    return NULL;
}

static double run_phase(kv_store *s, phase ph, int threads, int ops)
{
    client *cl = calloc((size_t)threads, sizeof(*cl));
    if (cl == NULL)
        die("clients", KV_ENOMEM, "");
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int t = 0; t < threads; t++) {
        cl[t] = (client){.s = s, .ph = ph, .id = t, .ops = ops};
        if (pthread_create(&cl[t].thread, NULL, client_main, &cl[t]) != 0)
            die("thread", KV_EIO, "");
    }
    for (int t = 0; t < threads; t++)
        pthread_join(cl[t].thread, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    free(cl);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    return threads * ops / secs;
}

int main(int argc, char **argv)
{
    if (argc != 4 || atoi(argv[2]) <= 0 || atoi(argv[3]) <= 0) {
        fprintf(stderr, "usage: kv_bench DIR THREADS OPS_PER_THREAD\n");
        return 2;
    }
    int threads = atoi(argv[2]), ops = atoi(argv[3]);
    kv_store *s;
    char err[256] = "";
    int rc = kv_store_open(argv[1], NULL, &s, err, sizeof(err));
    if (rc == 0)
        rc = kv_store_bootstrap(s, NULL, NULL, 0, err, sizeof(err));
    if (rc != 0)
        die("open", rc, err);
    for (phase ph = PHASE_PUT; ph <= PHASE_TXN2; ph++)
        printf("%s %d %.0f\n", phase_names[ph], threads, run_phase(s, ph, threads, ops));
    kv_store_close(s);
    return 0;
}
