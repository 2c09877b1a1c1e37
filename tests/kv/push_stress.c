/*
 * push_stress.c - contention with waits and deadlocks, for the TSan build
 * and as a correctness check of the push path.
 *
 * Threads run transactions over six counters on three ranges; each
 * increments two or three distinct counters in random order, one batch per
 * counter, so transactions hold intents while they block on each other:
 * equal priorities wait in the queue and form waits-for cycles (broken by
 * the detector), a higher priority aborts or pushes at once. Some also read
 * another counter first (a timestamp push by a transaction), and between
 * transactions threads read a counter without a transaction (a
 * non-transactional pusher that waits). A retryable failure aborts the
 * transaction and retries it with a new id.
 *
 * At the end, after the asynchronous resolver drained: every counter
 * equals the increments of the committed transactions (no lost or
 * duplicated write, no aborted one visible) and no intent remains.
 *
 * Plain main(): exit status 0 = pass. KV_PUSH_STRESS_TXNS (default 200
 * per thread) scales it; the counts of waits ended by deadlock breaking
 * are printed, never judged. Under TSan it runs with tests/kv/tsan.supp.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv/hlc.h"
#include "kv/store_int.h"

#define THREADS  4
#define COUNTERS 6

static kv_store *store;
static const char *const counters[COUNTERS] = {"a0", "a1", "d0", "d1", "g0", "g1"};
static long txns_per_thread = 200;
static long committed[THREADS][COUNTERS];
static long victims[THREADS], restarts[THREADS];

static void die(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "push_stress: %s: %s (%s)\n", what, kv_err_name(rc), msg);
    exit(1);
}

static kv_span key_span(const char *k)
{
    return (kv_span){(const uint8_t *)k, strlen(k), NULL, 0};
}

/* Sends one request (in txn *t when non-NULL, updating it) and returns the
 * error code; on success *out gets the request's result value. */
static int send1(kv_txn *t, const kv_req *q, int64_t *out, char *msg)
{
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        die("init", KV_ENOMEM, "");
    int rc = kv_request_add(&req, q);
    if (rc == 0 && t != NULL)
        rc = kv_request_set_txn(&req, t);
    if (rc == 0)
        rc = kv_store_send(store, &req, &resp);
    if (rc == 0 && out != NULL)
        *out = resp.resps[0].new_value;
    if (t != NULL && resp.has_txn) {
        const uint8_t *anchor = t->anchor_key; /* a counters[] literal */
        *t = resp.txn;
        t->anchor_key = anchor;
    }
    snprintf(msg, 192, "%s", resp.msg);
    kv_response_free(&resp);
    kv_request_free(&req);
    return rc;
}

static kv_txn begin(unsigned *seed)
{
    kv_txn t = {.read_ts = kv_hlc_now(kv_store_clock(store))};
    for (int i = 0; i < KV_TXN_ID_LEN; i++)
        t.meta.id[i] = (uint8_t)rand_r(seed);
    t.meta.epoch = 1;
    t.write_ts = t.read_ts;
    t.priority = rand_r(seed) % 4 == 0; /* mostly ties: waits, cycles */
    return t;
}

static int end(kv_txn *t, bool commit, const int *keys, int n, char *msg)
{
    kv_span locks[3];
    for (int i = 0; i < n; i++)
        locks[i] = key_span(counters[keys[i]]);
    kv_req q = {.method = KV_END_TXN};
    q.u.end_txn.commit = commit;
    q.u.end_txn.lock_spans = locks;
    q.u.end_txn.n_lock_spans = (size_t)n;
    return send1(t, &q, NULL, msg);
}

/* n distinct counters in random order. */
static void pick(unsigned *seed, int *keys, int n)
{
    for (int i = 0; i < n; i++) {
        bool dup;
        do {
            keys[i] = rand_r(seed) % COUNTERS;
            dup = false;
            for (int j = 0; j < i; j++)
                dup |= keys[j] == keys[i];
        } while (dup);
    }
}

/* One attempt: 0 when committed, a retryable code to retry; *victim
 * tells a deadlock victim from other aborts. */
static int attempt(unsigned *seed, const int *keys, int n, bool reads, int read_key, bool *victim)
{
    char msg[192];
    kv_txn t = begin(seed);
    int rc = 0;
    if (reads) {
        kv_req get = {.method = KV_GET, .span = key_span(counters[read_key])};
        rc = send1(&t, &get, NULL, msg);
    }
    int written = 0;
    for (; rc == 0 && written < n; written++) {
        kv_req inc = {.method = KV_INCREMENT, .span = key_span(counters[keys[written]])};
        inc.u.inc.delta = 1;
        if (t.anchor_key == NULL) {
            t.anchor_key = inc.span.key;
            t.anchor_len = inc.span.key_len;
        }
        rc = send1(&t, &inc, NULL, msg);
    }
    /* Without reads a pushed write timestamp needs no refresh. */
    if (rc == 0 && !reads)
        t.read_ts = t.write_ts;
    if (rc == 0)
        rc = end(&t, true, keys, n, msg);
    if (rc == 0)
        return 0;
    if (!kv_err_retryable(rc))
        die("transaction", rc, msg);
    *victim = strstr(msg, "deadlock") != NULL;
    int arc = end(&t, false, keys, written, msg);
    if (arc != 0)
        die("abort", arc, msg);
    return rc;
}

static void *worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    unsigned seed = 0x5eed + (unsigned)id;
    char msg[192];
    for (long i = 0; i < txns_per_thread; i++) {
        int keys[3], n = 2 + rand_r(&seed) % 2;
        pick(&seed, keys, n);
        bool reads = rand_r(&seed) % 3 == 0;
        int read_key = rand_r(&seed) % COUNTERS;
        bool victim;
        while (attempt(&seed, keys, n, reads, read_key, &victim) != 0) {
            restarts[id]++;
            victims[id] += victim;
        }
        for (int k = 0; k < n; k++)
            committed[id][keys[k]]++;
        kv_req get = {.method = KV_GET, .span = key_span(counters[rand_r(&seed) % COUNTERS])};
        int rc = send1(NULL, &get, NULL, msg);
        if (rc != 0)
            die("non-transactional read", rc, msg);
    }
    return NULL;
}

static void check(void)
{
    char msg[192];
    kv__resolver_flush(store->resolver);
    for (int k = 0; k < COUNTERS; k++) {
        long want = 0;
        for (int t = 0; t < THREADS; t++)
            want += committed[t][k];
        kv_req inc = {.method = KV_INCREMENT, .span = key_span(counters[k])};
        int64_t got;
        int rc = send1(NULL, &inc, &got, msg); /* +0 reads the value */
        if (rc != 0)
            die("final read", rc, msg);
        if (got != want) {
            fprintf(stderr, "push_stress: %s is %lld, committed %ld\n", counters[k], (long long)got,
                    want);
            exit(1);
        }
    }
    kv_request req;
    kv_response resp;
    kv_req scan = {.method = KV_SCAN, .span = {(const uint8_t *)"", 0, (const uint8_t *)"\xff", 1}};
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0 ||
        kv_request_add(&req, &scan) != 0)
        die("init", KV_ENOMEM, "");
    req.h.no_wait = true;
    int rc = kv_store_send(store, &req, &resp);
    if (rc != 0)
        die("an intent remains", rc, resp.msg);
    kv_response_free(&resp);
    kv_request_free(&req);
}

int main(void)
{
    const char *env = getenv("KV_PUSH_STRESS_TXNS");
    if (env != NULL)
        txns_per_thread = atol(env);
    char dir[] = "/tmp/kv-push-stress-XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", KV_EIO, dir);
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = true};
    char err[256] = "";
    int rc = kv_store_open(dir, &o, &store, err, sizeof(err));
    const uint8_t *splits[] = {(const uint8_t *)"c", (const uint8_t *)"f"};
    size_t lens[] = {1, 1};
    if (rc == 0)
        rc = kv_store_bootstrap(store, splits, lens, 2, err, sizeof(err));
    if (rc != 0)
        die("open", rc, err);
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    check();
    long r = 0, v = 0;
    for (int i = 0; i < THREADS; i++) {
        r += restarts[i];
        v += victims[i];
    }
    printf("push_stress: %ld transactions committed, %ld restarts, %ld of them deadlock victims\n",
           THREADS * txns_per_thread, r, v);
    kv_store_close(store);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
