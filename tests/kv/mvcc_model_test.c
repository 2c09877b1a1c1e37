/*
 * mvcc_model_test.c - randomized model test of kv/mvcc.h.
 *
 * Each seed runs a random sequence of operations - non-transactional puts
 * and deletes, transactional writes from three transactions (with epoch
 * restarts), resolves (commit, commit at a pushed timestamp, commit below
 * the intent, abort), GC over random spans, gets and forward/reverse scans
 * with limits at random timestamps, as transactions or not - against the
 * real engine and against a small in-memory model of the documented
 * semantics, and compares every result code, conflict report, value and
 * timestamp, and the anchor and priority a conflicting intent carries
 * (transaction t's anchor is 1 + 150 t bytes, so the longer ones take the
 * gather-put path of the metadata). Keys come from a tiny alphabet containing 0x00 and 0xFF so
 * that escaping, prefixes and conflicts are exercised constantly.
 *
 * Knobs: MVCC_MODEL_SEEDS (default 200), MVCC_MODEL_OPS (default 2000),
 * MVCC_MODEL_SEED=<n> replays seed n alone. A failure names its seed.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_error.h"
#include "kv/mvcc.h"
#include "kv_test_util.h"

enum {
    NKEYS = 21, /* every key of length 0..2 over the alphabet below */
    NTXNS = 3,
    ANCHOR_STEP = 150,
    MAX_VAL = 8,
    MAX_SCAN = NKEYS,
};

static const uint8_t alphabet[4] = {0x00, 0x01, 'a', 0xFF};

struct mversion {
    kv_ts ts;
    bool tomb;
    uint8_t vlen;
    char val[MAX_VAL];
};

struct mkey {
    uint8_t key[2];
    size_t klen;
    struct mversion *vers; /* committed, newest first */
    size_t nvers, cap;
    bool has_intent;
    int intent_txn;
    uint32_t intent_epoch;
    struct mversion prov; /* the provisional version, at the intent ts */
};

/* Outcome counts over the whole run, printed at the end so a reader can
 * see that every branch (conflicts, pushes, reverse scans...) happened. */
enum {
    ST_WRITE_OK,
    ST_WRITE_INTENT,
    ST_WRITE_TOO_OLD,
    ST_RESOLVED,
    ST_PUSHED,
    ST_GC_REMOVED,
    ST_READ_FOUND,
    ST_READ_INTENT,
    ST_SCAN_ROWS,
    ST_REVERSE_ROWS,
    ST_COUNT
};
static const char *const st_names[ST_COUNT] = {
    "writes ok",      "write-intent conflicts", "write-too-old", "resolves",
    "pushed commits", "versions GCed",          "gets found",    "read-intent conflicts",
    "scan rows",      "reverse scan rows"};
static unsigned long stats[ST_COUNT];

struct model {
    struct mkey keys[NKEYS]; /* sorted in user-key order */
    uint32_t epoch[NTXNS];
    uint64_t rng;
    uint64_t seed;
    int op;
};

/* The engine side, shared by all seeds of one run. */
static char dir[KV_TEST_PATH_MAX];
static kv_engine *eng;
static kv_batch *batch;
static kv_buf val;
static kv_mvcc_conflict conflict;
static char err[512];

#define CHECK(cond, ...)                                                      \
    cr_assert(cond, "seed %llu op %d (replay with MVCC_MODEL_SEED=%llu): %s", \
              (unsigned long long)m->seed, m->op, (unsigned long long)m->seed, #cond)

static uint64_t rnd(struct model *m)
{
    /* splitmix64: deterministic per seed, independent of libc. */
    uint64_t z = (m->rng += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int rn(struct model *m, int n)
{
    return (int)(rnd(m) % (uint64_t)n);
}

static int cmp_key(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t n = al < bl ? al : bl;
    int c = n ? memcmp(a, b, n) : 0;
    return c != 0 ? c : (al > bl) - (al < bl);
}

static int cmp_mkey(const void *a, const void *b)
{
    const struct mkey *x = a, *y = b;
    return cmp_key(x->key, x->klen, y->key, y->klen);
}

/* Anchor bytes (0x00 included): txn t's anchor starts at t. */
static uint8_t anchors[NTXNS * (ANCHOR_STEP + 1)];

static void model_init(struct model *m, uint64_t seed)
{
    for (size_t i = 0; i < sizeof(anchors); i++)
        anchors[i] = (uint8_t)(i * 7);
    memset(m, 0, sizeof(*m));
    m->seed = seed;
    m->rng = seed;
    int n = 0;
    m->keys[n++].klen = 0;
    for (int i = 0; i < 4; i++) {
        m->keys[n].key[0] = alphabet[i];
        m->keys[n++].klen = 1;
        for (int j = 0; j < 4; j++) {
            m->keys[n].key[0] = alphabet[i];
            m->keys[n].key[1] = alphabet[j];
            m->keys[n++].klen = 2;
        }
    }
    qsort(m->keys, NKEYS, sizeof(m->keys[0]), cmp_mkey);
    for (int t = 0; t < NTXNS; t++)
        m->epoch[t] = 1;
}

static void model_free(struct model *m)
{
    for (int i = 0; i < NKEYS; i++)
        free(m->keys[i].vers);
}

static kv_txn_meta txn_meta(const struct model *m, int t)
{
    kv_txn_meta meta = {.epoch = m->epoch[t], .seq = 0};
    meta.id[0] = (uint8_t)(t + 1);
    meta.id[KV_TXN_ID_LEN - 1] = 0x5A;
    return meta;
}

static int32_t txn_priority(int t)
{
    return 3 * t - 1; /* negative for txn 0: the sign must survive */
}

static kv_mvcc_writer txn_writer(const struct model *m, int t)
{
    return (kv_mvcc_writer){txn_meta(m, t), txn_priority(t), anchors + t,
                            1 + (size_t)t * ANCHOR_STEP};
}

static kv_ts rand_ts(struct model *m)
{
    /* Time drifts forward with the operation count, with jitter, so writes
     * succeed often but also land below existing versions. */
    return (kv_ts){1 + m->op / 8 + rn(m, 12), rn(m, 3)};
}

static void commit_batch(struct model *m, int rc)
{
    if (rc != 0)
        CHECK(kv_batch_count(batch) == 0);
    int wrc = kv_engine_write(eng, batch, false, err, sizeof(err));
    CHECK(wrc == 0);
    kv_batch_clear(batch);
}

static void insert_version(struct mkey *k, struct mversion v)
{
    if (k->nvers == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 16;
        k->vers = realloc(k->vers, k->cap * sizeof(*k->vers));
        cr_assert_not_null(k->vers);
    }
    size_t i = 0;
    while (i < k->nvers && kv_ts_cmp(k->vers[i].ts, v.ts) > 0)
        i++;
    memmove(&k->vers[i + 1], &k->vers[i], (k->nvers - i) * sizeof(*k->vers));
    k->vers[i] = v;
    k->nvers++;
}

static void check_conflict_key(struct model *m, const struct mkey *k)
{
    CHECK(conflict.key.len == k->klen);
    CHECK(k->klen == 0 || memcmp(conflict.key.data, k->key, k->klen) == 0);
}

/* The conflict names k's intent: its transaction, timestamp, priority and
 * anchor. */
static void check_conflict_intent(struct model *m, const struct mkey *k)
{
    kv_mvcc_writer w = txn_writer(m, k->intent_txn);
    CHECK(kv_ts_cmp(conflict.intent.ts, k->prov.ts) == 0);
    CHECK(conflict.intent.txn.id[0] == k->intent_txn + 1);
    CHECK(conflict.intent.priority == w.priority);
    CHECK(conflict.intent.anchor_len == w.anchor_len);
    CHECK(memcmp(conflict.intent.anchor, w.anchor, w.anchor_len) == 0);
    check_conflict_key(m, k);
}

/* ---- writes ---- */

/* What the model says a write of txn t (-1: none) at *ts must return. */
static int model_write_rc(struct model *m, const struct mkey *k, int t, kv_ts *ts)
{
    if (k->has_intent) {
        if (t != k->intent_txn)
            return KV_EWRITEINTENT;
        if (k->intent_epoch > m->epoch[t])
            return KV_EINVAL;
        if (kv_ts_cmp(*ts, k->prov.ts) < 0)
            *ts = k->prov.ts;
    }
    if (k->nvers > 0 && kv_ts_cmp(k->vers[0].ts, *ts) >= 0)
        return KV_EWRITETOOOLD;
    return 0;
}

static void op_write(struct model *m, bool transactional)
{
    struct mkey *k = &m->keys[rn(m, NKEYS)];
    int t = transactional ? rn(m, NTXNS) : -1;
    kv_mvcc_writer w = txn_writer(m, t < 0 ? 0 : t);
    struct mversion v = {.ts = rand_ts(m), .tomb = rn(m, 4) == 0};
    v.vlen = (uint8_t)rn(m, MAX_VAL + 1);
    for (int i = 0; i < v.vlen; i++)
        v.val[i] = (char)rnd(m);
    kv_ts at = v.ts;
    int want = model_write_rc(m, k, t, &v.ts);
    int rc = v.tomb ? kv_mvcc_delete(eng, NULL, batch, k->key, k->klen, at, t < 0 ? NULL : &w,
                                     &conflict, err, sizeof(err))
                    : kv_mvcc_put(eng, NULL, batch, k->key, k->klen, at, t < 0 ? NULL : &w, v.val,
                                  v.vlen, &conflict, err, sizeof(err));
    commit_batch(m, rc);
    CHECK(rc == want);
    stats[rc == 0 ? ST_WRITE_OK : rc == KV_EWRITEINTENT ? ST_WRITE_INTENT : ST_WRITE_TOO_OLD]++;
    if (rc == KV_EWRITEINTENT) {
        check_conflict_intent(m, k);
    } else if (rc == KV_EWRITETOOOLD) {
        CHECK(kv_ts_cmp(conflict.existing_ts, k->vers[0].ts) == 0);
        check_conflict_key(m, k);
    }
    if (rc != 0)
        return;
    if (t < 0) {
        insert_version(k, v);
        return;
    }
    k->has_intent = true;
    k->intent_txn = t;
    k->intent_epoch = m->epoch[t];
    k->prov = v;
}

/* Mostly a key holding an intent, resolved mostly by its own transaction:
 * uniform picks would leave intents blocking most other operations. */
static struct mkey *pick_resolve_key(struct model *m, int *t)
{
    struct mkey *k = &m->keys[rn(m, NKEYS)];
    *t = rn(m, NTXNS);
    if (rn(m, 4) == 0)
        return k;
    for (int i = 0, start = rn(m, NKEYS); i < NKEYS; i++) {
        struct mkey *c = &m->keys[(start + i) % NKEYS];
        if (c->has_intent) {
            if (rn(m, 4) != 0)
                *t = c->intent_txn;
            return c;
        }
    }
    return k;
}

static void op_resolve(struct model *m)
{
    int t;
    struct mkey *k = pick_resolve_key(m, &t);
    kv_txn_meta meta = txn_meta(m, t);
    kv_txn_status st = rn(m, 3) == 0 ? KV_TXN_ABORTED : KV_TXN_COMMITTED;
    kv_ts cts = {0, 0};
    int how = rn(m, 4);
    if (k->has_intent && how == 1)
        cts = k->prov.ts;
    else if (k->has_intent && how == 2)
        cts = (kv_ts){k->prov.ts.wall + rn(m, 3), k->prov.ts.logical + 1}; /* pushed */
    else if (k->has_intent && how == 3)
        cts = (kv_ts){k->prov.ts.wall - 1, 0}; /* below the intent: refused */
    bool mine = k->has_intent && k->intent_txn == t;
    bool commit = st == KV_TXN_COMMITTED && mine && k->intent_epoch == m->epoch[t];
    int want = commit && !kv_ts_is_zero(cts) && kv_ts_cmp(cts, k->prov.ts) < 0 ? KV_EINVAL : 0;
    bool resolved = false;
    int rc = kv_mvcc_resolve(eng, NULL, batch, k->key, k->klen, &meta, st, cts, &resolved, err,
                             sizeof(err));
    commit_batch(m, rc);
    CHECK(rc == want);
    bool want_resolved =
        want == 0 && mine && (st == KV_TXN_ABORTED || k->intent_epoch <= m->epoch[t]);
    CHECK(resolved == want_resolved);
    if (!resolved)
        return;
    stats[ST_RESOLVED]++;
    if (commit) {
        stats[ST_PUSHED] += kv_ts_cmp(cts, k->prov.ts) > 0;
        struct mversion v = k->prov;
        if (!kv_ts_is_zero(cts))
            v.ts = cts;
        insert_version(k, v);
    }
    k->has_intent = false;
}

static bool key_in_span(const struct mkey *k, const uint8_t *s, size_t sl, const uint8_t *e,
                        size_t el, bool has_end)
{
    return cmp_key(k->key, k->klen, s, sl) >= 0 &&
           (!has_end || cmp_key(k->key, k->klen, e, el) < 0);
}

/* A random span bound: a key from the alphabet, maybe absent. */
static void rand_bound(struct model *m, uint8_t *b, size_t *len)
{
    *len = (size_t)rn(m, 3);
    for (size_t i = 0; i < *len; i++)
        b[i] = alphabet[rn(m, 4)];
}

static size_t model_gc_key(struct mkey *k, kv_ts threshold)
{
    size_t i = 0;
    while (i < k->nvers && kv_ts_cmp(k->vers[i].ts, threshold) > 0)
        i++;
    if (i == k->nvers)
        return 0;
    size_t keep = k->vers[i].tomb ? i : i + 1;
    size_t removed = k->nvers - keep;
    k->nvers = keep;
    return removed;
}

static void op_gc(struct model *m)
{
    uint8_t s[2], e[2];
    size_t sl, el;
    rand_bound(m, s, &sl);
    rand_bound(m, e, &el);
    bool has_end = rn(m, 3) != 0;
    kv_ts threshold = rand_ts(m);
    threshold.wall -= 6;
    size_t want = 0, removed = 0;
    for (int i = 0; i < NKEYS; i++) {
        if (key_in_span(&m->keys[i], s, sl, e, el, has_end))
            want += model_gc_key(&m->keys[i], threshold);
    }
    int rc = kv_mvcc_gc(eng, NULL, batch, s, sl, has_end ? e : NULL, el, threshold, &removed, err,
                        sizeof(err));
    commit_batch(m, rc);
    CHECK(rc == 0);
    CHECK(removed == want);
    stats[ST_GC_REMOVED] += removed;
}

/* ---- reads ---- */

/* The model's answer for one key: 0 with *out, KV_ENOTFOUND, or
 * KV_EWRITEINTENT. */
static int model_read(const struct model *m, const struct mkey *k, kv_ts ts, int t,
                      const struct mversion **out)
{
    if (k->has_intent) {
        bool own = t == k->intent_txn;
        if (own && k->intent_epoch == m->epoch[t]) {
            *out = &k->prov;
            return k->prov.tomb ? KV_ENOTFOUND : 0;
        }
        if (!own && kv_ts_cmp(k->prov.ts, ts) <= 0)
            return KV_EWRITEINTENT;
    }
    for (size_t i = 0; i < k->nvers; i++) {
        if (kv_ts_cmp(k->vers[i].ts, ts) <= 0) {
            *out = &k->vers[i];
            return k->vers[i].tomb ? KV_ENOTFOUND : 0;
        }
    }
    return KV_ENOTFOUND;
}

static void check_value(struct model *m, const struct mversion *v, const char *got, size_t glen,
                        kv_ts got_ts)
{
    CHECK(glen == v->vlen);
    CHECK(glen == 0 || memcmp(got, v->val, glen) == 0);
    CHECK(kv_ts_cmp(got_ts, v->ts) == 0);
}

static void op_get(struct model *m)
{
    const struct mkey *k = &m->keys[rn(m, NKEYS)];
    int t = rn(m, NTXNS + 1) - 1;
    kv_txn_meta meta = txn_meta(m, t < 0 ? 0 : t);
    kv_mvcc_read_opts ro = {.ts = rand_ts(m), .txn = t < 0 ? NULL : &meta};
    const struct mversion *v = NULL;
    int want = model_read(m, k, ro.ts, t, &v);
    kv_ts at;
    int rc = kv_mvcc_get(eng, NULL, &ro, k->key, k->klen, &val, &at, &conflict, err, sizeof(err));
    CHECK(rc == want);
    stats[ST_READ_FOUND] += rc == 0;
    stats[ST_READ_INTENT] += rc == KV_EWRITEINTENT;
    if (rc == 0)
        check_value(m, v, val.data, val.len, at);
    if (rc == KV_EWRITEINTENT)
        check_conflict_intent(m, k);
}

struct scan_state {
    struct model *m;
    const struct mkey *expect[MAX_SCAN];
    const struct mversion *vers[MAX_SCAN];
    int nexpect, ngot;
};

static int scan_cb(void *arg, const char *key, size_t klen, const char *v, size_t vlen, kv_ts ts)
{
    struct scan_state *s = arg;
    struct model *m = s->m;
    CHECK(s->ngot < s->nexpect);
    const struct mkey *k = s->expect[s->ngot];
    CHECK(cmp_key((const uint8_t *)key, klen, k->key, k->klen) == 0);
    check_value(m, s->vers[s->ngot], v, vlen, ts);
    s->ngot++;
    return 0;
}

/* Fills the expected keys of a scan; returns the expected code. */
static int model_scan(struct model *m, struct scan_state *s, const uint8_t *b, size_t bl,
                      const uint8_t *e, size_t el, bool has_end, const kv_mvcc_read_opts *ro, int t)
{
    for (int n = 0; n < NKEYS; n++) {
        const struct mkey *k = &m->keys[ro->reverse ? NKEYS - 1 - n : n];
        if (!key_in_span(k, b, bl, e, el, has_end))
            continue;
        if (ro->limit && (size_t)s->nexpect == ro->limit)
            return 0;
        const struct mversion *v = NULL;
        int rc = model_read(m, k, ro->ts, t, &v);
        if (rc == KV_EWRITEINTENT)
            return rc;
        if (rc == 0) {
            s->expect[s->nexpect] = k;
            s->vers[s->nexpect++] = v;
        }
    }
    return 0;
}

static void op_scan(struct model *m)
{
    uint8_t b[2], e[2];
    size_t bl, el;
    rand_bound(m, b, &bl);
    rand_bound(m, e, &el);
    bool has_end = rn(m, 3) != 0;
    int t = rn(m, NTXNS + 1) - 1;
    kv_txn_meta meta = txn_meta(m, t < 0 ? 0 : t);
    kv_mvcc_read_opts ro = {.ts = rand_ts(m),
                            .txn = t < 0 ? NULL : &meta,
                            .limit = (size_t)rn(m, 6),
                            .reverse = rn(m, 2)};
    struct scan_state s = {.m = m};
    int want = model_scan(m, &s, b, bl, e, el, has_end, &ro, t);
    int rc = kv_mvcc_scan(eng, NULL, &ro, b, bl, has_end ? e : NULL, el, scan_cb, &s, &conflict,
                          err, sizeof(err));
    CHECK(rc == want);
    CHECK(s.ngot == s.nexpect);
    stats[ro.reverse ? ST_REVERSE_ROWS : ST_SCAN_ROWS] += (unsigned long)s.ngot;
}

static void run_seed(uint64_t seed, int ops)
{
    struct model mm, *m = &mm;
    model_init(m, seed);
    for (m->op = 0; m->op < ops; m->op++) {
        int dice = rn(m, 100);
        if (dice < 18)
            op_write(m, false);
        else if (dice < 38)
            op_write(m, true);
        else if (dice < 58)
            op_resolve(m);
        else if (dice < 61)
            op_gc(m);
        else if (dice < 63)
            m->epoch[rn(m, NTXNS)]++;
        else if (dice < 80)
            op_get(m);
        else
            op_scan(m);
        /* Some seeds move their data to an SST file halfway. */
        if (seed % 10 == 0 && m->op == ops / 2)
            cr_assert_eq(kv_engine_flush(eng, err, sizeof(err)), 0, "%s", err);
    }
    model_free(m);
}

static long env_long(const char *name, long dflt)
{
    const char *s = getenv(name);
    return s != NULL && *s != '\0' ? strtol(s, NULL, 10) : dflt;
}

/* Every seed gets a fresh store, so seeds are independent and replayable. */
static void run_seed_on_fresh_store(uint64_t seed, int ops)
{
    eng = kv_test_open(dir);
    run_seed(seed, ops);
    kv_engine_close(eng);
    kv_test_rmrf(dir);
}

Test(mvcc_model, random_operations_match_the_model, .timeout = 3600)
{
    cr_assert_eq(kv_batch_create(&batch), 0);
    long seeds = env_long("MVCC_MODEL_SEEDS", 200);
    long ops = env_long("MVCC_MODEL_OPS", 2000);
    long only = env_long("MVCC_MODEL_SEED", 0);
    uint64_t first = only ? (uint64_t)only : 1;
    uint64_t count = only ? 1 : (uint64_t)seeds;
    for (uint64_t s = first; s < first + count; s++)
        run_seed_on_fresh_store(s, (int)ops);
    printf("mvcc model: %llu seeds x %ld ops passed;", (unsigned long long)count, ops);
    for (int i = 0; i < ST_COUNT; i++)
        printf(" %s %lu%s", st_names[i], stats[i], i + 1 < ST_COUNT ? "," : "\n");
    kv_buf_free(&val);
    kv_buf_free(&conflict.key);
    kv_buf_free(&conflict.anchor);
    kv_batch_destroy(batch);
}
