/*
 * bank_test.c - money moves between accounts on four ranges in
 * transactions; it is never made, lost or overdrawn.
 *
 * TRANSFERS threads each run transfers through the coordinator: read two
 * accounts in one batch, and when the source covers the amount write both
 * balances with EndTxn in one batch (a one-phase commit when both lie in
 * the anchor's range, intents and a record otherwise). READERS threads scan
 * every account in one transaction: each scan must see exactly the total
 * and no negative balance. Retryable errors restart the transaction; any
 * other error fails the test. At the end the total is unchanged and no
 * intent is left.
 *
 * Knobs: KV_BANK_SEEDS (default 5), KV_BANK_TXNS (transfers per seed,
 * default 2000). Exit 0 = pass.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kv/txn_coord.h"
#include "txn_history.h"

#define TRANSFERS    4
#define READERS      2
#define ACCOUNTS     16
#define INITIAL      100
#define MAX_ATTEMPTS 500

static const char *const splits[] = {"a12", "a3", "a7", NULL};

typedef struct worker {
    pthread_t thread;
    kv_store *s;
    kv_txn_hb *hb;
    uint64_t rng;
    long txns;
    const bool *stop;
    long done, retries, reads, bad;
} worker;

static uint64_t rnd(worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static void account(int i, char out[4])
{
    snprintf(out, 4, "a%d", i);
}

static int64_t decode(const kv_row *row)
{
    uint64_t v = 0;
    for (size_t i = 0; i < row->value_len; i++)
        v = v << 8 | row->value[i];
    return (int64_t)v;
}

static void add_put(kv_request *r, const char *key, int64_t v, uint8_t buf[8])
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        buf[i] = (uint8_t)v;
    kv_req q = {.method = KV_PUT, .span = {(const uint8_t *)key, strlen(key), NULL, 0}};
    q.u.put.value = buf;
    q.u.put.value_len = 8;
    if (kv_request_add(r, &q) != 0)
        th_die("add", KV_ENOMEM, "");
}

/* One attempt at moving `amount` from account a to b. */
static int transfer(kv_txn_coord *c, int a, int b, int64_t amount)
{
    char ka[4], kb[4];
    account(a, ka);
    account(b, kb);
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        th_die("init", KV_ENOMEM, "");
    kv_req q = {.method = KV_GET, .span = {(const uint8_t *)ka, strlen(ka), NULL, 0}};
    kv_request_add(&req, &q);
    q.span = (kv_span){(const uint8_t *)kb, strlen(kb), NULL, 0};
    kv_request_add(&req, &q);
    int rc = kv_txn_coord_send(c, &req, &resp);
    int64_t va = rc == 0 ? decode(&resp.resps[0].row) : 0;
    int64_t vb = rc == 0 ? decode(&resp.resps[1].row) : 0;
    kv_request_free(&req);
    kv_response_free(&resp);
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        th_die("init", KV_ENOMEM, "");
    uint8_t ba[8], bb[8];
    if (rc == 0 && va >= amount) {
        add_put(&req, ka, va - amount, ba);
        add_put(&req, kb, vb + amount, bb);
    }
    if (rc == 0)
        rc = kv_txn_coord_commit(c, req.n > 0 ? &req : NULL, &resp);
    kv_request_free(&req);
    kv_response_free(&resp);
    return rc;
}

/* One attempt at reading every account; *bad counts wrong snapshots. */
static int audit(kv_txn_coord *c, long *bad)
{
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        th_die("init", KV_ENOMEM, "");
    kv_req q = {.method = KV_SCAN, .span = {(const uint8_t *)"a", 1, (const uint8_t *)"b", 1}};
    kv_request_add(&req, &q);
    int rc = kv_txn_coord_send(c, &req, &resp);
    if (rc == 0) {
        int64_t sum = 0;
        bool negative = false;
        for (size_t i = 0; i < resp.resps[0].n_rows; i++) {
            int64_t v = decode(&resp.resps[0].rows[i]);
            sum += v;
            negative |= v < 0;
        }
        if (sum != ACCOUNTS * INITIAL || negative || resp.resps[0].n_rows != ACCOUNTS) {
            fprintf(stderr, "bank_test: read %zu accounts, total %lld%s\n", resp.resps[0].n_rows,
                    (long long)sum, negative ? ", a negative balance" : "");
            (*bad)++;
        }
    }
    kv_request_free(&req);
    kv_response_free(&resp);
    kv_response resp2;
    if (rc == 0 && kv_response_init(&resp2) == 0) {
        rc = kv_txn_coord_commit(c, NULL, &resp2);
        kv_response_free(&resp2);
    }
    return rc;
}

/* Runs one transaction (a transfer, or an audit when a < 0) to commit. */
static void run_txn(worker *w, int a, int b, int64_t amount)
{
    kv_txn_coord *c;
    int rc = kv_txn_coord_begin(w->s, w->hb, (int32_t)(rnd(w) % 100), &c);
    for (int attempt = 0; rc == 0; attempt++) {
        rc = a < 0 ? audit(c, &w->bad) : transfer(c, a, b, amount);
        if (!kv_err_retryable(rc) || attempt == MAX_ATTEMPTS)
            break;
        w->retries++;
        th_backoff(attempt, rnd(w));
        rc = kv_txn_coord_restart(c);
    }
    if (rc != 0) {
        fprintf(stderr, "bank_test: %s\n", kv_err_name(rc));
        w->bad++;
    }
    kv_txn_coord_destroy(c);
}

static void *transfer_main(void *arg)
{
    worker *w = arg;
    for (; w->done < w->txns; w->done++) {
        int a = (int)(rnd(w) % ACCOUNTS), b = (int)((a + 1 + rnd(w) % (ACCOUNTS - 1)) % ACCOUNTS);
        run_txn(w, a, b, (int64_t)(1 + rnd(w) % 40));
    }
    return NULL;
}

static void *reader_main(void *arg)
{
    worker *w = arg;
    while (!__atomic_load_n(w->stop, __ATOMIC_ACQUIRE)) {
        run_txn(w, -1, -1, 0);
        w->reads++;
    }
    return NULL;
}

static void seed_accounts(kv_store *s)
{
    kv_txn_coord *c;
    kv_request req;
    kv_response resp;
    if (kv_txn_coord_begin(s, NULL, 0, &c) != 0 || kv_request_init(&req) != 0 ||
        kv_response_init(&resp) != 0)
        th_die("init", KV_ENOMEM, "");
    char keys[ACCOUNTS][4];
    uint8_t bufs[ACCOUNTS][8];
    for (int i = 0; i < ACCOUNTS; i++) {
        account(i, keys[i]);
        add_put(&req, keys[i], INITIAL, bufs[i]);
    }
    int rc = kv_txn_coord_commit(c, &req, &resp);
    if (rc != 0)
        th_die("initial balances", rc, resp.msg);
    kv_request_free(&req);
    kv_response_free(&resp);
    kv_txn_coord_destroy(c);
}

static bool run_seed(long seed, long txns)
{
    char dir[256];
    kv_store *s = th_open_store(dir, splits);
    seed_accounts(s);
    kv_txn_hb *hb;
    int rc = kv_txn_hb_start(s, TH_HEARTBEAT_MS, &hb);
    if (rc != 0)
        th_die("heartbeater", rc, "");
    bool stop = false;
    worker w[TRANSFERS + READERS];
    for (int i = 0; i < TRANSFERS + READERS; i++) {
        w[i] = (worker){.s = s, .hb = hb, .txns = txns / TRANSFERS, .stop = &stop};
        w[i].rng = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 7919 + 1;
        if (pthread_create(&w[i].thread, NULL, i < TRANSFERS ? transfer_main : reader_main,
                           &w[i]) != 0)
            th_die("thread", KV_EIO, "");
    }
    long bad = 0, retries = 0, reads = 0;
    for (int i = 0; i < TRANSFERS + READERS; i++) {
        if (i == TRANSFERS)
            __atomic_store_n(&stop, true, __ATOMIC_RELEASE);
        pthread_join(w[i].thread, NULL);
        bad += w[i].bad, retries += w[i].retries, reads += w[i].reads;
    }
    worker final = {.s = s, .rng = 1};
    run_txn(&final, -1, -1, 0);
    kv_txn_hb_stop(hb);
    size_t intents = th_count_intents(s);
    th_close_store(s, dir);
    printf("seed %ld: %ld transfers, %ld audits, %ld retries, %ld bad, %zu intents left\n", seed,
           txns / TRANSFERS * TRANSFERS, reads, retries, bad + final.bad, intents);
    return bad == 0 && final.bad == 0 && intents == 0;
}

int main(void)
{
    long seeds = th_env("KV_BANK_SEEDS", 5), txns = th_env("KV_BANK_TXNS", 2000);
    bool pass = true;
    for (long seed = 1; seed <= seeds; seed++)
        pass &= run_seed(seed, txns);
    fprintf(stderr, "bank_test: %s\n", pass ? "ok" : "FAILED");
    return pass ? 0 : 1;
}
