/*
 * send_stress.c - several threads drive one store through kv_store_send at
 * once, for the TSan build and as a coarse correctness check:
 *
 *   - every operation increments one counter without a transaction; the
 *     values returned must be exactly 1..N, each once (increments are
 *     linearizable: none lost, none duplicated);
 *   - and moves money between two of six accounts spread over three ranges
 *     in a transaction: read both, then write both with EndTxn in one
 *     batch (a one-phase commit when both lie in one range, intents and a
 *     record otherwise). A conflict (intent, pushed timestamp) aborts the
 *     transaction and retries it. The total must be unchanged at the end
 *     and no intent may remain.
 *
 * Plain main(): exit status 0 = pass. A fixed number of operations; the
 * elapsed time is printed, never judged. Environment, for measuring group
 * commit by hand: KV_SEND_STRESS_THREADS (1..8, default 4) and
 * KV_SEND_STRESS_SYNC=1 (fsync every commit; the test runs without).
 * Under TSan it runs with tests/kv/tsan.supp (uninstrumented RocksDB).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kv/hlc.h"
#include "kv/store.h"

#define MAX_THREADS 8
#define OPS         150
#define ACCOUNTS    6
#define INITIAL     100

static kv_store *store;
static const char *const accounts[ACCOUNTS] = {"a0", "a1", "d0", "d1", "g0", "g1"};
static int threads = 4;
static bool sync_writes;
static int64_t seen[MAX_THREADS * OPS];
static long retries[MAX_THREADS];

static void die(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "send_stress: %s: %s (%s)\n", what, kv_err_name(rc), msg);
    exit(1);
}

static kv_span key_span(const char *k)
{
    return (kv_span){(const uint8_t *)k, strlen(k), NULL, 0};
}

static int64_t decode(const kv_resp *r)
{
    uint64_t v = 0; /* unsigned: balances go negative */
    for (size_t i = 0; r->found && i < r->row.value_len; i++)
        v = v << 8 | r->row.value[i];
    return (int64_t)v;
}

static void encode(uint8_t out[8], int64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

/* Sends a batch built by `req` (freed here) into a fresh `resp`. */
static int send(kv_request *req, kv_response *resp)
{
    if (kv_response_init(resp) != 0)
        die("response", KV_ENOMEM, "");
    int rc = kv_store_send(store, req, resp);
    kv_request_free(req);
    return rc;
}

static void add(kv_request *r, const kv_req *q)
{
    int rc = kv_request_add(r, q);
    if (rc != 0)
        die("add", rc, "");
}

static void increment(int t, int op)
{
    kv_request r;
    kv_response resp;
    kv_request_init(&r);
    kv_req q = {.method = KV_INCREMENT, .span = key_span("zz-counter")};
    q.u.inc.delta = 1;
    add(&r, &q);
    int rc = send(&r, &resp);
    if (rc != 0)
        die("increment", rc, resp.msg);
    seen[t * OPS + op] = resp.resps[0].new_value;
    kv_response_free(&resp);
}

static void end_txn(const kv_txn *txn, bool commit, const char *x, const char *y)
{
    kv_request r;
    kv_response resp;
    kv_request_init(&r);
    kv_request_set_txn(&r, txn);
    kv_span locks[2] = {key_span(x), key_span(y)};
    kv_req q = {.method = KV_END_TXN};
    q.u.end_txn.commit = commit;
    q.u.end_txn.lock_spans = locks;
    q.u.end_txn.n_lock_spans = 2;
    add(&r, &q);
    int rc = send(&r, &resp);
    if (rc != 0)
        die("abort", rc, resp.msg);
    kv_response_free(&resp);
}

/* One attempt at moving `amount` from x to y; 0 or the conflict. */
static int transfer(int t, int op, uint32_t epoch, const char *x, const char *y, int64_t amount)
{
    /* Each attempt is a new transaction: thread, operation, attempt. */
    kv_txn txn = {.meta = {.id = {(uint8_t)t, (uint8_t)op, (uint8_t)(op >> 8), (uint8_t)epoch,
                                  (uint8_t)(epoch >> 8)},
                           .epoch = 1}};
    txn.read_ts = txn.write_ts = kv_hlc_now(kv_store_clock(store));
    kv_request r;
    kv_response rd, wr;
    kv_request_init(&r);
    kv_request_set_txn(&r, &txn);
    add(&r, &(kv_req){.method = KV_GET, .span = key_span(x)});
    add(&r, &(kv_req){.method = KV_GET, .span = key_span(y)});
    int rc = send(&r, &rd);
    if (rc != 0) {
        kv_response_free(&rd);
        return rc;
    }
    uint8_t vx[8], vy[8];
    encode(vx, decode(&rd.resps[0]) - amount);
    encode(vy, decode(&rd.resps[1]) + amount);
    kv_request_init(&r);
    kv_request_set_txn(&r, &rd.txn);
    kv_req px = {.method = KV_PUT, .span = key_span(x)},
           py = {.method = KV_PUT, .span = key_span(y)};
    px.u.put.value = vx;
    py.u.put.value = vy;
    px.u.put.value_len = py.u.put.value_len = 8;
    add(&r, &px);
    add(&r, &py);
    add(&r, &(kv_req){.method = KV_END_TXN, .u.end_txn.commit = true});
    rc = send(&r, &wr);
    if (rc != 0 && !kv_err_retryable(rc) && rc != KV_EWRITEINTENT)
        die("transfer", rc, wr.msg);
    /* A failed attempt may have left intents (in another range than the
     * failing part): abort removes them. The response names the anchor. */
    if (rc != 0)
        end_txn(&wr.txn, false, x, y);
    kv_response_free(&wr);
    kv_response_free(&rd);
    return rc;
}

static void *worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    unsigned seed = (unsigned)t * 7919u + 1;
    for (int op = 0; op < OPS; op++) {
        increment(t, op);
        int i = rand_r(&seed) % ACCOUNTS, j = (i + 1 + rand_r(&seed) % (ACCOUNTS - 1)) % ACCOUNTS;
        int rc;
        for (uint32_t attempt = 1;
             (rc = transfer(t, op, attempt, accounts[i], accounts[j], op % 7)) != 0; attempt++) {
            retries[t]++;
            if (attempt > 10000)
                die("transfer: no progress", rc, accounts[i]);
            usleep((useconds_t)(rand_r(&seed) % 200));
        }
    }
    return NULL;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int check_counter(void)
{
    int64_t *all = seen;
    qsort(all, (size_t)threads * OPS, sizeof(*all), cmp64);
    for (int i = 0; i < threads * OPS; i++) {
        if (all[i] != i + 1) {
            fprintf(stderr, "send_stress: increment %d returned %lld\n", i + 1, (long long)all[i]);
            return 1;
        }
    }
    return 0;
}

static int check_total(void)
{
    kv_request r;
    kv_response resp;
    kv_request_init(&r);
    kv_req q = {.method = KV_SCAN, .span = {(const uint8_t *)"a", 1, (const uint8_t *)"h", 1}};
    add(&r, &q);
    int rc = send(&r, &resp);
    if (rc != 0)
        die("final scan", rc, resp.msg);
    int64_t total = 0;
    for (size_t i = 0; i < resp.resps[0].n_rows; i++) {
        kv_resp one = {.found = true, .row = resp.resps[0].rows[i]};
        total += decode(&one);
    }
    kv_response_free(&resp);
    if (total != ACCOUNTS * INITIAL) {
        fprintf(stderr, "send_stress: total %lld, want %d\n", (long long)total, ACCOUNTS * INITIAL);
        return 1;
    }
    return 0;
}

static void setup(char *dir)
{
    char err[256] = "";
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = !sync_writes};
    int rc = kv_store_open(dir, &o, &store, err, sizeof(err));
    if (rc != 0)
        die("open", rc, err);
    const uint8_t *splits[] = {(const uint8_t *)"c", (const uint8_t *)"f"};
    size_t lens[] = {1, 1};
    rc = kv_store_bootstrap(store, splits, lens, 2, err, sizeof(err));
    if (rc != 0)
        die("bootstrap", rc, err);
    for (int i = 0; i < ACCOUNTS; i++) {
        kv_request r;
        kv_response resp;
        kv_request_init(&r);
        uint8_t v[8];
        encode(v, INITIAL);
        kv_req q = {.method = KV_PUT, .span = key_span(accounts[i])};
        q.u.put.value = v;
        q.u.put.value_len = 8;
        add(&r, &q);
        rc = send(&r, &resp);
        if (rc != 0)
            die("initial put", rc, resp.msg);
        kv_response_free(&resp);
    }
}

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_env(void)
{
    const char *t = getenv("KV_SEND_STRESS_THREADS");
    if (t != NULL && atoi(t) >= 1 && atoi(t) <= MAX_THREADS)
        threads = atoi(t);
    const char *s = getenv("KV_SEND_STRESS_SYNC");
    sync_writes = s != NULL && strcmp(s, "1") == 0;
}

int main(void)
{
    read_env();
    char dir[] = "/tmp/kv-send-stress-XXXXXX";
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", KV_EIO, dir);
    setup(dir);
    pthread_t th[MAX_THREADS];
    double start = seconds();
    for (int t = 0; t < threads; t++)
        pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
    long total_retries = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        total_retries += retries[t];
    }
    double elapsed = seconds() - start;
    int failed = check_counter() | check_total();
    kv_store_close(store);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "send_stress: could not remove %s\n", dir);
    printf("send_stress: %d threads%s, %d increments + %d transfers (%ld retried attempts) in "
           "%.2f s, %s\n",
           threads, sync_writes ? ", fsync" : "", threads * OPS, threads * OPS, total_retries,
           elapsed, failed ? "FAILED" : "ok");
    return failed;
}
