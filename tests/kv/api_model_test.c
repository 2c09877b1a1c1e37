/*
 * api_model_test.c - randomized model test of kv_store_send across ranges.
 *
 * Each seed bootstraps a store with random split points, then runs random
 * operations through the KV API against an in-memory map: non-transactional
 * puts, deletes and gets; transactions writing up to three keys and
 * committing (one-phase when they land in one range, intents and a record
 * otherwise); transactional range deletions; and forward and reverse scans
 * over random spans with random row and byte limits, followed page by page
 * through their resume spans. Every page must be the model's next rows,
 * within its limits, and the pages together the whole span. Keys are
 * short strings over an alphabet with 0x00 and 0xFF, so split points,
 * scan bounds and resume keys meet the awkward cases constantly.
 *
 * Knobs: KV_API_MODEL_SEEDS (default 40), KV_API_MODEL_OPS (default 200),
 * KV_API_MODEL_SEED=<n> replays seed n alone. A failure names its seed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/hlc.h"
#include "kv/store.h"
#include "kv_test_util.h"

enum { NKEYS = 20, MAX_SPLITS = 4 };

static const uint8_t alphabet[4] = {0x00, 'a', 'b', 0xFF};
static uint8_t keys[NKEYS][2]; /* sorted bytewise */
static size_t klens[NKEYS];
static int model[NKEYS]; /* -1: absent, else the value number */
static kv_store *store;
static unsigned seed_state;
static unsigned cur_seed;
static int cur_op;

static int rnd(int n)
{
    return (int)(rand_r(&seed_state) % (unsigned)n);
}

static int key_cmp(int i, int j)
{
    size_t n = klens[i] < klens[j] ? klens[i] : klens[j];
    int c = memcmp(keys[i], keys[j], n);
    return c != 0 ? c : (klens[i] > klens[j]) - (klens[i] < klens[j]);
}

/* Every key of length 1 and 2 over the alphabet, in byte order. */
static void make_keys(void)
{
    size_t n = 0;
    for (int a = 0; a < 4; a++) {
        keys[n][0] = alphabet[a];
        klens[n++] = 1;
        for (int b = 0; b < 4; b++) {
            keys[n][0] = alphabet[a];
            keys[n][1] = alphabet[b];
            klens[n++] = 2;
        }
    }
    for (int i = 1; i < NKEYS; i++) /* already sorted; checked */
        cr_assert_lt(key_cmp(i - 1, i), 0);
}

static kv_span span_of(int i)
{
    return (kv_span){keys[i], klens[i], NULL, 0};
}

static void fmt_value(int v, char *out)
{
    snprintf(out, 16, "v%0*d", v % 4 + 1, v); /* lengths vary for byte limits */
}

static void open_store(char *dir)
{
    kv_test_mkdtemp(dir);
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = true};
    char err[256] = "";
    cr_assert_eq(kv_store_open(dir, &o, &store, err, sizeof(err)), 0, "%s", err);
    const uint8_t *sk[MAX_SPLITS];
    size_t sl[MAX_SPLITS], n = 0;
    for (int i = 1; i < NKEYS && n < MAX_SPLITS; i++) { /* never key 0: it may be the min */
        if (rnd(5) == 0) {
            sk[n] = keys[i];
            sl[n++] = klens[i];
        }
    }
    cr_assert_eq(kv_store_bootstrap(store, sk, sl, n, err, sizeof(err)), 0, "%s", err);
}

static void send(kv_request *r, kv_response *resp)
{
    cr_assert_eq(kv_response_init(resp), 0);
    int rc = kv_store_send(store, r, resp);
    cr_assert_eq(rc, 0, "seed %u op %d: %s (%s)", cur_seed, cur_op, kv_err_name(rc), resp->msg);
    kv_request_free(r);
}

static void add_write(kv_request *r, int k, int v)
{
    char val[16];
    kv_req q = {.method = v < 0 ? KV_DELETE : KV_PUT, .span = span_of(k)};
    if (v >= 0) {
        fmt_value(v, val);
        q.u.put.value = (const uint8_t *)val;
        q.u.put.value_len = strlen(val);
    }
    cr_assert_eq(kv_request_add(r, &q), 0);
}

static void op_write(bool txn, int v)
{
    kv_request r;
    kv_response resp;
    cr_assert_eq(kv_request_init(&r), 0);
    int n = txn ? 1 + rnd(3) : 1, used[3];
    for (int i = 0; i < n; i++) {
        int k = rnd(NKEYS);
        for (int j = 0; j < i; j++)
            if (used[j] == k)
                k = -1;
        used[i] = k;
        if (k < 0)
            continue;
        int val = rnd(4) == 0 ? -1 : v + i;
        add_write(&r, k, val);
        model[k] = val;
    }
    if (txn) {
        kv_txn t = {.meta = {.id = {(uint8_t)v, (uint8_t)(v >> 8), 1}, .epoch = 1}};
        t.read_ts = t.write_ts = kv_hlc_now(kv_store_clock(store));
        cr_assert_eq(kv_request_set_txn(&r, &t), 0);
        cr_assert_eq(kv_request_add(&r, &(kv_req){.method = KV_END_TXN, .u.end_txn.commit = true}),
                     0);
    }
    send(&r, &resp);
    kv_response_free(&resp);
}

static void op_delete_range(int v)
{
    int a = rnd(NKEYS), b = a + 1 + rnd(NKEYS - a);
    kv_request r;
    kv_response resp;
    cr_assert_eq(kv_request_init(&r), 0);
    kv_req q = {.method = KV_DELETE_RANGE, .span = span_of(a)};
    if (b < NKEYS) {
        q.span.end_key = keys[b];
        q.span.end_len = klens[b];
    } else {
        q.span.end_key = (const uint8_t *)"\xff\xff\xff";
        q.span.end_len = 3;
    }
    cr_assert_eq(kv_request_add(&r, &q), 0);
    cr_assert_eq(kv_request_add(&r, &(kv_req){.method = KV_END_TXN, .u.end_txn.commit = true}), 0);
    kv_txn t = {.meta = {.id = {(uint8_t)v, (uint8_t)(v >> 8), 2}, .epoch = 1}};
    t.read_ts = t.write_ts = kv_hlc_now(kv_store_clock(store));
    cr_assert_eq(kv_request_set_txn(&r, &t), 0);
    send(&r, &resp);
    int n = 0;
    for (int k = a; k < b; k++) {
        n += model[k] >= 0;
        model[k] = -1;
    }
    cr_expect_eq(resp.resps[0].n_deleted, (uint64_t)n, "seed %u op %d", cur_seed, cur_op);
    kv_response_free(&resp);
}

static void op_get(void)
{
    int k = rnd(NKEYS);
    kv_request r;
    kv_response resp;
    cr_assert_eq(kv_request_init(&r), 0);
    cr_assert_eq(kv_request_add(&r, &(kv_req){.method = KV_GET, .span = span_of(k)}), 0);
    send(&r, &resp);
    const kv_resp *g = &resp.resps[0];
    cr_assert_eq(g->found, model[k] >= 0, "seed %u op %d: key %d", cur_seed, cur_op, k);
    if (g->found) {
        char want[16];
        fmt_value(model[k], want);
        cr_assert(g->row.value_len == strlen(want) && memcmp(g->row.value, want, strlen(want)) == 0,
                  "seed %u op %d: value of key %d", cur_seed, cur_op, k);
    }
    kv_response_free(&resp);
}

/* Index of the key equal to (p, n), or -1. */
static int key_index(const uint8_t *p, size_t n)
{
    for (int i = 0; i < NKEYS; i++)
        if (klens[i] == n && memcmp(keys[i], p, n) == 0)
            return i;
    return -1;
}

/* Checks one page against the model's rows from *next on (in scan order,
 * within [a, b)) and moves *next past them. */
static void check_page(const kv_resp *page, bool rev, size_t rows, size_t bytes, int *next, int a,
                       int b)
{
    size_t used = 0;
    for (size_t i = 0; i < page->n_rows; i++) {
        while (*next >= a && *next < b && model[*next] < 0)
            *next += rev ? -1 : 1;
        int k = key_index(page->rows[i].key, page->rows[i].key_len);
        cr_assert_eq(k, *next, "seed %u op %d: row %zu is key %d, want %d", cur_seed, cur_op, i, k,
                     *next);
        cr_assert(used < bytes || bytes == 0, "seed %u op %d: past the byte limit", cur_seed,
                  cur_op);
        used += page->rows[i].key_len + page->rows[i].value_len;
        *next += rev ? -1 : 1;
    }
    cr_assert(rows == 0 || page->n_rows <= rows, "seed %u op %d: past the row limit", cur_seed,
              cur_op);
}

static void op_scan(void)
{
    int a = rnd(NKEYS), b = a + 1 + rnd(NKEYS - a);
    bool rev = rnd(2);
    size_t rows = (size_t)rnd(4), bytes = rnd(3) == 0 ? (size_t)(1 + rnd(12)) : 0;
    kv_span next = {keys[a], klens[a], b < NKEYS ? keys[b] : (const uint8_t *)"\xff\xff\xff",
                    b < NKEYS ? klens[b] : 3};
    int pos = rev ? b - 1 : a;
    kv_response prev = {0};
    for (int page = 0; next.key != NULL; page++) {
        cr_assert_lt(page, NKEYS + 2, "seed %u op %d: scan does not end", cur_seed, cur_op);
        kv_request r;
        kv_response resp;
        cr_assert_eq(kv_request_init(&r), 0);
        kv_req q = {.method = rev ? KV_REVERSE_SCAN : KV_SCAN, .span = next};
        q.u.scan.max_rows = rows;
        q.u.scan.max_bytes = bytes;
        cr_assert_eq(kv_request_add(&r, &q), 0);
        send(&r, &resp);
        check_page(&resp.resps[0], rev, rows, bytes, &pos, a, b);
        next = resp.resps[0].resume;
        kv_response_free(&prev);
        prev = resp;
    }
    kv_response_free(&prev);
    while (pos >= a && pos < b && model[pos] < 0)
        pos += rev ? -1 : 1;
    cr_assert(pos < a || pos >= b, "seed %u op %d: scan ended before key %d", cur_seed, cur_op,
              pos);
}

static void run_seed(unsigned seed, int ops)
{
    char dir[KV_TEST_PATH_MAX];
    cur_seed = seed;
    seed_state = seed;
    for (int i = 0; i < NKEYS; i++)
        model[i] = -1;
    open_store(dir);
    for (cur_op = 0; cur_op < ops; cur_op++) {
        int v = cur_op * 4;
        switch (rnd(10)) {
        case 0:
        case 1:
            op_write(false, v);
            break;
        case 2:
        case 3:
            op_write(true, v);
            break;
        case 4:
            op_delete_range(v);
            break;
        case 5:
        case 6:
            op_get();
            break;
        default:
            op_scan();
        }
    }
    kv_store_close(store);
    kv_test_rmrf(dir);
}

static int env_int(const char *name, int def)
{
    const char *s = getenv(name);
    return s != NULL && atoi(s) > 0 ? atoi(s) : def;
}

Test(api_model, random_ops_against_map, .timeout = 600)
{
    make_keys();
    int ops = env_int("KV_API_MODEL_OPS", 200);
    const char *one = getenv("KV_API_MODEL_SEED");
    if (one != NULL) {
        run_seed((unsigned)atoi(one), ops);
        return;
    }
    int seeds = env_int("KV_API_MODEL_SEEDS", 40);
    for (int s = 1; s <= seeds; s++)
        run_seed((unsigned)s, ops);
}
