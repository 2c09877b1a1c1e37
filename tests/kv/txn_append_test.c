/*
 * txn_append_test.c - serializability of KV transactions, judged by the
 * list-append checker of jepsen/ (Elle: cycles G0, G1c, G2, aborted and
 * intermediate reads G1a/G1b, lost appends).
 *
 * THREADS threads run random transactions through the coordinator over a
 * store split into four ranges, so most transactions span ranges. Each
 * transaction is 1-4 micro-ops on KEYS keys: append a value unique over
 * the whole run to a key (read the key's list, write it back longer) or
 * read a key's list. A list is its elements as 8-byte big-endian integers.
 * When the last micro-op is an append its write travels with EndTxn (a
 * one-phase commit when nothing was written before and the key's range
 * holds the anchor). Every attempt is one operation of the history: `ok`
 * when it committed, `fail` after a retryable error (then the coordinator
 * restarts it with fresh elements), `info` when the outcome is unknown
 * (the process id is then retired). Any error that is neither retryable
 * nor ambiguous fails the test, as do intents left behind.
 *
 * Knobs: KV_APPEND_SEEDS (seeds, default 10), KV_APPEND_TXNS (transactions
 * per seed, default 2000), KV_APPEND_SEED (run only this seed). Exit 0 =
 * every seed's history is serializable.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kv/txn_coord.h"
#include "txn_history.h"

#define THREADS      8
#define KEYS         12
#define MAX_OPS      4
#define MAX_ATTEMPTS 200

static const char *const splits[] = {"k03", "k06", "k09", NULL};

typedef struct op {
    bool append;
    int key;
    long elem; /* append: the element, fresh for every attempt */
} op;

typedef struct worker {
    pthread_t thread;
    kv_store *s;
    kv_txn_hb *hb;
    th_history *h;
    uint64_t rng;
    long txns;
    long process;
    long ok, fail, info, unexpected, gave_up;
} worker;

static long next_elem;

static uint64_t rnd(worker *w)
{
    w->rng ^= w->rng << 13;
    w->rng ^= w->rng >> 7;
    w->rng ^= w->rng << 17;
    return w->rng;
}

static void key_name(int k, char out[8])
{
    snprintf(out, 8, "k%02d", k);
}

static kv_span key_span(const char *k)
{
    return (kv_span){(const uint8_t *)k, strlen(k), NULL, 0};
}

/* The list stored at key k in the transaction, copied into *list. */
static int txn_get(kv_txn_coord *c, int k, kv_buf *list)
{
    char name[8];
    key_name(k, name);
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        th_die("init", KV_ENOMEM, "");
    kv_req q = {.method = KV_GET, .span = key_span(name)};
    int rc = kv_request_add(&req, &q);
    if (rc == 0)
        rc = kv_txn_coord_send(c, &req, &resp);
    list->len = 0;
    if (rc == 0 && resp.resps[0].found &&
        kv_buf_set(list, resp.resps[0].row.value, resp.resps[0].row.value_len) != 0)
        th_die("copy", KV_ENOMEM, "");
    kv_response_free(&resp);
    kv_request_free(&req);
    return rc;
}

/* A batch putting `list` + elem at key k; committing it too when `commit`. */
static int txn_append(kv_txn_coord *c, int k, kv_buf *list, long elem, bool commit)
{
    char name[8];
    key_name(k, name);
    uint8_t *v = malloc(list->len + 8);
    if (v == NULL)
        th_die("append", KV_ENOMEM, "");
    if (list->len > 0)
        memcpy(v, list->data, list->len);
    for (int i = 0; i < 8; i++)
        v[list->len + i] = (uint8_t)((uint64_t)elem >> (56 - 8 * i));
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        th_die("init", KV_ENOMEM, "");
    kv_req q = {.method = KV_PUT, .span = key_span(name)};
    q.u.put.value = v;
    q.u.put.value_len = list->len + 8;
    int rc = kv_request_add(&req, &q);
    if (rc == 0)
        rc = commit ? kv_txn_coord_commit(c, &req, &resp) : kv_txn_coord_send(c, &req, &resp);
    kv_response_free(&resp);
    kv_request_free(&req);
    free(v);
    return rc;
}

static void json_list(FILE *m, const kv_buf *list)
{
    fputc('[', m);
    for (size_t i = 0; i + 8 <= list->len; i += 8) {
        uint64_t e = 0;
        for (int j = 0; j < 8; j++)
            e = e << 8 | (uint8_t)list->data[i + (size_t)j];
        fprintf(m, "%s%lld", i > 0 ? "," : "", (long long)e);
    }
    fputc(']', m);
}

/* Writes the operation list as JSON; with `lists`, reads are filled in. */
static char *ops_json(const op *ops, int n, const kv_buf *lists)
{
    char *s = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&s, &len);
    if (m == NULL)
        th_die("memstream", KV_ENOMEM, "");
    fputc('[', m);
    for (int i = 0; i < n; i++) {
        char name[8];
        key_name(ops[i].key, name);
        fprintf(m, "%s[\"%s\",\"%s\",", i > 0 ? "," : "", ops[i].append ? "append" : "r", name);
        if (ops[i].append)
            fprintf(m, "%ld]", ops[i].elem);
        else if (lists != NULL)
            json_list(m, &lists[i]), fputc(']', m);
        else
            fputs("null]", m);
    }
    fputc(']', m);
    fclose(m);
    return s;
}

/* Runs the micro-ops and commits; lists[i] gets read i's result. */
static int attempt(kv_txn_coord *c, const op *ops, int n, kv_buf *lists)
{
    int rc = 0;
    kv_buf cur = {0};
    bool committed = false;
    for (int i = 0; rc == 0 && i < n; i++) {
        if (!ops[i].append) {
            rc = txn_get(c, ops[i].key, &lists[i]);
            continue;
        }
        rc = txn_get(c, ops[i].key, &cur);
        committed = rc == 0 && i == n - 1;
        if (rc == 0)
            rc = txn_append(c, ops[i].key, &cur, ops[i].elem, committed);
    }
    kv_buf_free(&cur);
    if (rc == 0 && !committed) {
        kv_response resp;
        if (kv_response_init(&resp) != 0)
            th_die("init", KV_ENOMEM, "");
        rc = kv_txn_coord_commit(c, NULL, &resp);
        kv_response_free(&resp);
    }
    return rc;
}

static void new_elements(op *ops, int n)
{
    for (int i = 0; i < n; i++)
        if (ops[i].append)
            ops[i].elem = __atomic_add_fetch(&next_elem, 1, __ATOMIC_RELAXED);
}

/* Runs one transaction to commit, restarting on retryable errors. */
static void run_txn(worker *w, op *ops, int n)
{
    kv_txn_coord *c;
    int rc = kv_txn_coord_begin(w->s, w->hb, (int32_t)(rnd(w) % 100), &c);
    if (rc != 0)
        th_die("begin", rc, "");
    kv_buf lists[MAX_OPS] = {{0}};
    for (int a = 0;; a++) {
        new_elements(ops, n);
        char *inv = ops_json(ops, n, NULL);
        th_history_event(w->h, "invoke", "txn", w->process, inv, NULL);
        rc = attempt(c, ops, n, lists);
        char *done = rc == 0 ? ops_json(ops, n, lists) : NULL;
        const char *type = rc == 0 ? "ok" : kv_err_retryable(rc) ? "fail" : "info";
        th_history_event(w->h, type, "txn", w->process, rc == 0 ? done : inv,
                         rc == 0 ? NULL : kv_err_name(rc));
        free(inv);
        free(done);
        if (rc == 0) {
            w->ok++;
            break;
        }
        if (!kv_err_retryable(rc)) {
            w->info++;
            w->unexpected += !kv_err_ambiguous(rc);
            fprintf(stderr, "txn_append_test: unexpected %s\n", kv_err_name(rc));
            w->process += THREADS; /* after info the process id is retired */
            break;
        }
        w->fail++;
        th_backoff(a, rnd(w));
        if (a == MAX_ATTEMPTS || (rc = kv_txn_coord_restart(c)) != 0) {
            w->gave_up++;
            break;
        }
    }
    for (int i = 0; i < MAX_OPS; i++)
        kv_buf_free(&lists[i]);
    kv_txn_coord_destroy(c);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (long t = 0; t < w->txns; t++) {
        op ops[MAX_OPS];
        int n = 1 + (int)(rnd(w) % MAX_OPS);
        for (int i = 0; i < n; i++)
            ops[i] = (op){.append = rnd(w) % 2 == 0, .key = (int)(rnd(w) % KEYS)};
        run_txn(w, ops, n);
    }
    return NULL;
}

static bool run_seed(long seed, long txns)
{
    char dir[256];
    kv_store *s = th_open_store(dir, splits);
    th_history *h = th_history_open(dir);
    kv_txn_hb *hb;
    int rc = kv_txn_hb_start(s, TH_HEARTBEAT_MS, &hb);
    if (rc != 0)
        th_die("heartbeater", rc, "");
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){.s = s, .hb = hb, .h = h, .process = i, .txns = txns / THREADS};
        w[i].rng = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 7919 + 1;
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
            th_die("thread", KV_EIO, "");
    }
    long ok = 0, fail = 0, info = 0, unexpected = 0, gave_up = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].thread, NULL);
        ok += w[i].ok, fail += w[i].fail, info += w[i].info;
        unexpected += w[i].unexpected, gave_up += w[i].gave_up;
    }
    kv_txn_hb_stop(hb);
    size_t intents = th_count_intents(s);
    th_close_store(s, dir);
    printf("seed %ld: %ld ok, %ld fail, %ld info, %ld given up, %zu intents left\n", seed, ok, fail,
           info, gave_up, intents);
    fflush(stdout);
    int status = th_history_check(h, "append", "");
    return status == 0 && unexpected == 0 && intents == 0;
}

int main(void)
{
    long seeds = th_env("KV_APPEND_SEEDS", 10), txns = th_env("KV_APPEND_TXNS", 2000);
    long only = th_env("KV_APPEND_SEED", -1);
    bool pass = true;
    for (long seed = only >= 0 ? only : 1; seed <= (only >= 0 ? only : seeds); seed++) {
        if (!run_seed(seed, txns)) {
            fprintf(stderr, "txn_append_test: seed %ld FAILED (replay: KV_APPEND_SEED=%ld)\n", seed,
                    seed);
            pass = false;
        }
    }
    return pass ? 0 : 1;
}
