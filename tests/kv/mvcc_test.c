/*
 * mvcc_test.c - MVCC key encoding, versions, tombstones, intents and their
 * resolution, conflicts, scans in both directions, GC, and undecodable
 * stored data.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kv/engine_int.h" /* the cache's own entry points, to see what it holds */
#include "kv/kv_error.h"
#include "kv/mvcc.h"
#include "kv_test_util.h"

static char dir[KV_TEST_PATH_MAX];
static kv_engine *eng;
static kv_batch *batch;
static kv_buf val;
static kv_mvcc_conflict conflict;
static char err[512];

static const kv_txn_meta txn_a = {.id = {0xA}, .epoch = 1};
static const kv_txn_meta txn_b = {.id = {0xB}, .epoch = 1};

/* What the intents of txn (NULL: none) record besides the timestamp: an
 * anchor with a zero byte and a priority derived from the id. */
static kv_mvcc_writer writer(const kv_txn_meta *txn)
{
    static const uint8_t anchor[] = {'a', 0x00, 'n', 0xFF};
    if (txn == NULL)
        return (kv_mvcc_writer){0};
    return (kv_mvcc_writer){*txn, -(int32_t)txn->id[0], anchor, sizeof(anchor)};
}

static void setup(void)
{
    eng = kv_test_open(dir);
    cr_assert_eq(kv_batch_create(&batch), 0);
}

static void teardown(void)
{
    kv_buf_free(&val);
    kv_buf_free(&conflict.key);
    kv_buf_free(&conflict.anchor);
    kv_batch_destroy(batch);
    kv_engine_close(eng);
    kv_test_rmrf(dir);
}

TestSuite(mvcc, .init = setup, .fini = teardown);

static kv_ts ts(int64_t wall)
{
    return (kv_ts){wall, 0};
}

/* Commits whatever an MVCC write added, even after an error (there should
 * be nothing then: checked by the count). */
static int commit(int rc)
{
    if (rc != 0)
        cr_assert_eq(kv_batch_count(batch), 0, "failed write left records in the batch");
    cr_assert_eq(kv_engine_write(eng, batch, false, err, sizeof(err)), 0, "%s", err);
    kv_batch_clear(batch);
    return rc;
}

static int put(const char *k, int64_t wall, const kv_txn_meta *txn, const char *v)
{
    kv_mvcc_writer w = writer(txn);
    return commit(kv_mvcc_put(eng, NULL, batch, k, strlen(k), ts(wall), txn ? &w : NULL, v,
                              strlen(v), &conflict, err, sizeof(err)));
}

static int del(const char *k, int64_t wall, const kv_txn_meta *txn)
{
    kv_mvcc_writer w = writer(txn);
    return commit(kv_mvcc_delete(eng, NULL, batch, k, strlen(k), ts(wall), txn ? &w : NULL,
                                 &conflict, err, sizeof(err)));
}

static int resolve(const char *k, const kv_txn_meta *txn, kv_txn_status st, int64_t commit_wall,
                   bool *resolved)
{
    return commit(kv_mvcc_resolve(eng, NULL, batch, k, strlen(k), txn, st, ts(commit_wall),
                                  resolved, err, sizeof(err)));
}

static int get(const char *k, int64_t wall, const kv_txn_meta *txn, kv_ts *at)
{
    kv_mvcc_read_opts ro = {.ts = ts(wall), .txn = txn};
    return kv_mvcc_get(eng, NULL, &ro, k, strlen(k), &val, at, &conflict, err, sizeof(err));
}

static void expect_value(const char *k, int64_t wall, const kv_txn_meta *txn, const char *want,
                         int64_t want_wall)
{
    kv_ts at;
    int rc = get(k, wall, txn, &at);
    if (want == NULL) {
        cr_assert_eq(rc, KV_ENOTFOUND, "%s@%ld: got %s", k, (long)wall, kv_err_name(rc));
        return;
    }
    cr_assert_eq(rc, 0, "%s@%ld: %s %s", k, (long)wall, kv_err_name(rc), err);
    cr_assert_eq(val.len, strlen(want));
    if (val.len > 0)
        cr_assert_arr_eq(val.data, want, val.len);
    cr_assert_eq(at.wall, want_wall);
}

/* ---- encoding ---- */

static int cmp_bytes(const kv_buf *a, const kv_buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->data, b->data, n);
    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

Test(mvcc, encoding_orders_by_key_then_newest_first)
{
    /* Keys chosen to stress escaping: 0x00 bytes, prefixes, 0xFF. */
    static const char *keys[] = {"",      "\x00",   "\x00\x00", "\x00\x01", "\x01",    "a",
                                 "a\x00", "a\x00b", "ab",       "\xff",     "\xff\x00"};
    static const size_t lens[] = {0, 1, 2, 2, 1, 1, 2, 3, 2, 1, 2};
    static const kv_ts stamps[] = {{INT64_MAX, 5}, {5, 1}, {5, 0}, {1, INT32_MAX}, {0, 0}, {-3, 2}};
    enum { NK = 11, NT = 6 };
    kv_buf enc[NK][NT + 1], user = {0};
    memset(enc, 0, sizeof(enc));
    for (int i = 0; i < NK; i++) {
        cr_assert_eq(kv_mvcc_encode_key(&enc[i][0], keys[i], lens[i], NULL), 0);
        for (int j = 0; j < NT; j++)
            cr_assert_eq(kv_mvcc_encode_key(&enc[i][j + 1], keys[i], lens[i], &stamps[j]), 0);
    }
    /* (key i, slot j) must sort exactly in row-major order. */
    for (int i = 0; i < NK; i++) {
        for (int j = 0; j <= NT; j++) {
            int ni = j == NT ? i + 1 : i, nj = j == NT ? 0 : j + 1;
            if (ni < NK)
                cr_assert_lt(cmp_bytes(&enc[i][j], &enc[ni][nj]), 0, "key %d slot %d", i, j);
            kv_ts t;
            bool meta;
            cr_assert_eq(kv_mvcc_decode_key(enc[i][j].data, enc[i][j].len, &user, &t, &meta), 0);
            cr_assert_eq(user.len, lens[i]);
            cr_assert_arr_eq(user.data, keys[i], lens[i]);
            cr_assert_eq(meta, j == 0);
            if (j > 0)
                cr_assert_eq(kv_ts_cmp(t, stamps[j - 1]), 0);
        }
    }
    for (int i = 0; i < NK; i++)
        for (int j = 0; j <= NT; j++)
            kv_buf_free(&enc[i][j]);
    kv_buf_free(&user);
}

Test(mvcc, undecodable_keys_are_corrupt)
{
    static const struct {
        const char *bytes;
        size_t len;
    } bad[] = {
        {"abc", 3},                   /* no terminator */
        {"a\x00", 2},                 /* terminator cut short */
        {"a\x00\x07\x00\x01", 5},     /* 0x00 followed by neither escape nor end */
        {"a\x00\x01\x01\x02\x03", 6}, /* suffix that is not a timestamp */
        {"", 0},
    };
    kv_buf user = {0};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kv_ts t;
        bool meta;
        cr_assert_eq(kv_mvcc_decode_key(bad[i].bytes, bad[i].len, &user, &t, &meta), KV_ECORRUPT,
                     "case %zu", i);
    }
    kv_buf_free(&user);
}

/* ---- versions ---- */

Test(mvcc, reads_see_the_newest_version_at_or_below_their_timestamp)
{
    cr_assert_eq(put("k", 10, NULL, "v10"), 0);
    cr_assert_eq(put("k", 20, NULL, "v20"), 0);
    cr_assert_eq(del("k", 30, NULL), 0);
    cr_assert_eq(put("k", 40, NULL, "v40"), 0);
    expect_value("k", 5, NULL, NULL, 0);
    expect_value("k", 10, NULL, "v10", 10);
    expect_value("k", 25, NULL, "v20", 20);
    expect_value("k", 30, NULL, NULL, 0);
    expect_value("k", 45, NULL, "v40", 40);
    expect_value("other", 45, NULL, NULL, 0);
}

Test(mvcc, zero_length_values_are_not_tombstones)
{
    cr_assert_eq(put("empty", 10, NULL, ""), 0);
    expect_value("empty", 10, NULL, "", 10);
}

Test(mvcc, large_values_round_trip)
{
    enum { N = 5000 };
    char *big = malloc(N + 1);
    for (int i = 0; i < N; i++)
        big[i] = (char)('a' + i % 26);
    big[N] = '\0';
    cr_assert_eq(put("big", 10, NULL, big), 0);
    expect_value("big", 10, NULL, big, 10);
    free(big);
}

Test(mvcc, write_too_old)
{
    cr_assert_eq(put("k", 20, NULL, "v"), 0);
    cr_assert_eq(put("k", 20, NULL, "same ts"), KV_EWRITETOOOLD);
    cr_assert_eq(conflict.existing_ts.wall, 20);
    cr_assert_eq(put("k", 10, &txn_a, "older"), KV_EWRITETOOOLD);
    cr_assert_eq(del("k", 15, NULL), KV_EWRITETOOOLD);
    cr_assert_eq(conflict.key.len, 1);
    cr_assert_eq(conflict.key.data[0], 'k');
    cr_assert_eq(put("k", 0, NULL, "zero"), KV_EINVAL);
    expect_value("k", 100, NULL, "v", 20);
}

/* ---- intents ---- */

Test(mvcc, intents_conflict_with_other_readers_and_writers)
{
    cr_assert_eq(put("k", 10, NULL, "committed"), 0);
    cr_assert_eq(put("k", 20, &txn_a, "provisional"), 0);
    expect_value("k", 15, NULL, "committed", 10); /* below the intent */
    expect_value("k", 15, &txn_b, "committed", 10);
    cr_assert_eq(get("k", 20, NULL, NULL), KV_EWRITEINTENT);
    cr_assert_eq(get("k", 25, &txn_b, NULL), KV_EWRITEINTENT);
    cr_assert_eq(conflict.intent.ts.wall, 20);
    cr_assert_arr_eq(conflict.intent.txn.id, txn_a.id, KV_TXN_ID_LEN);
    cr_assert_eq(conflict.key.len, 1);
    cr_assert_eq(put("k", 30, NULL, "x"), KV_EWRITEINTENT);
    cr_assert_eq(put("k", 30, &txn_b, "x"), KV_EWRITEINTENT);
    cr_assert_eq(del("k", 30, &txn_b), KV_EWRITEINTENT);
}

/* A conflict reports everything the intent records, the anchor copied
 * into conflict.anchor; anchors too long for the on-stack metadata too. */
Test(mvcc, intent_metadata_round_trip)
{
    kv_txn_meta t = {.id = {0xA, 1, 2, [KV_TXN_ID_LEN - 1] = 0xEE}, .epoch = 7, .seq = 9};
    kv_mvcc_writer w = writer(&t);
    for (size_t alen = 0; alen <= 1000; alen += 500) {
        uint8_t *anchor = malloc(alen + 1);
        for (size_t i = 0; i < alen; i++)
            anchor[i] = (uint8_t)(i * 13);
        w.anchor = anchor;
        w.anchor_len = alen;
        w.priority = INT32_MIN + (int32_t)alen;
        kv_ts at = {20, 3};
        cr_assert_eq(commit(kv_mvcc_put(eng, NULL, batch, "k", 1, at, &w, "v", 1, &conflict, err,
                                        sizeof(err))),
                     0);
        cr_assert_eq(get("k", 30, NULL, NULL), KV_EWRITEINTENT);
        const kv_intent *in = &conflict.intent;
        cr_assert_arr_eq(in->txn.id, t.id, KV_TXN_ID_LEN);
        cr_assert_eq(in->txn.epoch, 7);
        cr_assert_eq(in->txn.seq, 9);
        cr_assert_eq(kv_ts_cmp(in->ts, at), 0);
        cr_assert_eq(in->priority, w.priority);
        cr_assert_eq(in->anchor_len, alen);
        cr_assert_eq(in->anchor, (const uint8_t *)conflict.anchor.data);
        if (alen > 0)
            cr_assert_arr_eq(in->anchor, anchor, alen);
        cr_assert_eq(put("k", 40, &txn_b, "x"), KV_EWRITEINTENT, "writers see it too");
        cr_assert_eq(conflict.intent.anchor_len, alen);
        cr_assert_eq(conflict.intent.priority, w.priority);
        cr_assert_eq(resolve("k", &t, KV_TXN_ABORTED, 0, NULL), 0);
        free(anchor);
    }
}

Test(mvcc, own_intent_is_visible_by_epoch)
{
    cr_assert_eq(put("k", 10, NULL, "committed"), 0);
    cr_assert_eq(put("k", 20, &txn_a, "mine"), 0);
    expect_value("k", 5, &txn_a, "mine", 20); /* own write, whatever the read ts */
    kv_txn_meta restarted = txn_a;
    restarted.epoch = 2;
    expect_value("k", 25, &restarted, "committed", 10); /* old epoch's write is invisible */
    /* Rewriting in the new epoch at a lower ts keeps the intent's ts. */
    cr_assert_eq(put("k", 15, &restarted, "epoch 2"), 0);
    expect_value("k", 1, &restarted, "epoch 2", 20);
    cr_assert_eq(put("k", 30, &txn_a, "stale epoch"), KV_EINVAL);
    /* A second rewrite moves the intent forward and drops the old version. */
    cr_assert_eq(del("k", 40, &restarted), 0);
    expect_value("k", 50, &restarted, NULL, 0);
    bool resolved;
    cr_assert_eq(resolve("k", &restarted, KV_TXN_ABORTED, 0, &resolved), 0);
    cr_assert(resolved);
    expect_value("k", 35, NULL, "committed", 10);
    expect_value("k", 100, NULL, "committed", 10);
}

Test(mvcc, resolve_commit_abort_and_push)
{
    bool resolved;
    cr_assert_eq(put("c", 20, &txn_a, "commit"), 0);
    cr_assert_eq(put("p", 20, &txn_a, "pushed"), 0);
    cr_assert_eq(put("a", 20, &txn_a, "abort"), 0);
    cr_assert_eq(resolve("c", &txn_b, KV_TXN_COMMITTED, 0, &resolved), 0);
    cr_assert_not(resolved, "another transaction's intent must stay");
    cr_assert_eq(resolve("c", &txn_a, KV_TXN_COMMITTED, 0, &resolved), 0);
    cr_assert(resolved);
    expect_value("c", 20, NULL, "commit", 20);
    cr_assert_eq(resolve("p", &txn_a, KV_TXN_COMMITTED, 10, &resolved), KV_EINVAL);
    cr_assert_eq(resolve("p", &txn_a, KV_TXN_COMMITTED, 35, &resolved), 0);
    expect_value("p", 30, NULL, NULL, 0);
    expect_value("p", 35, NULL, "pushed", 35);
    cr_assert_eq(resolve("a", &txn_a, KV_TXN_ABORTED, 0, &resolved), 0);
    expect_value("a", 100, NULL, NULL, 0);
    cr_assert_eq(resolve("a", &txn_a, KV_TXN_ABORTED, 0, &resolved), 0);
    cr_assert_not(resolved, "nothing left to resolve");
    cr_assert_eq(put("a", 21, NULL, "after abort"), 0);
}

Test(mvcc, commit_of_a_newer_epoch_removes_an_older_epoch_intent)
{
    kv_txn_meta later = txn_a;
    later.epoch = 3;
    bool resolved;
    cr_assert_eq(put("k", 20, &txn_a, "epoch 1"), 0);
    cr_assert_eq(resolve("k", &later, KV_TXN_COMMITTED, 0, &resolved), 0);
    cr_assert(resolved);
    expect_value("k", 100, NULL, NULL, 0);
    cr_assert_eq(put("k", 20, &later, "epoch 3"), 0);
    cr_assert_eq(resolve("k", &txn_a, KV_TXN_COMMITTED, 0, &resolved), 0);
    cr_assert_not(resolved, "an older epoch cannot commit a newer intent");
}

/* ---- the newest-version cache (kv/vcache.c) ----
 * Point reads of a key repeat (each test reads twice, the second read can
 * come from the cache); every engine write in between must void what was
 * cached, and reads below the newest version must still find older ones. */

static void expect_twice(const char *k, int64_t wall, const kv_txn_meta *txn, const char *want,
                         int64_t want_wall)
{
    expect_value(k, wall, txn, want, want_wall);
    expect_value(k, wall, txn, want, want_wall);
}

Test(mvcc, repeated_point_reads_see_every_later_write)
{
    bool resolved;
    expect_twice("k", 50, NULL, NULL, 0); /* no entries at all */
    cr_assert_eq(put("k", 10, NULL, "v10"), 0);
    expect_twice("k", 50, NULL, "v10", 10);
    cr_assert_eq(put("other", 11, NULL, "x"), 0); /* an unrelated write */
    expect_twice("k", 50, NULL, "v10", 10);
    cr_assert_eq(del("k", 20, NULL), 0);
    expect_twice("k", 50, NULL, NULL, 0);
    expect_twice("k", 15, NULL, "v10", 10); /* below the tombstone */
    cr_assert_eq(put("k", 30, &txn_a, "provisional"), 0);
    cr_assert_eq(get("k", 50, NULL, NULL), KV_EWRITEINTENT);
    cr_assert_eq(get("k", 50, NULL, NULL), KV_EWRITEINTENT);
    expect_twice("k", 50, &txn_a, "provisional", 30);
    cr_assert_eq(resolve("k", &txn_a, KV_TXN_COMMITTED, 30, &resolved), 0);
    expect_twice("k", 50, NULL, "provisional", 30);
    expect_twice("k", 25, NULL, NULL, 0);
}

Test(mvcc, a_cached_newest_version_does_not_hide_an_uncertain_one)
{
    cr_assert_eq(put("k", 10, NULL, "v10"), 0);
    expect_twice("k", 12, NULL, "v10", 10);
    cr_assert_eq(put("k", 20, NULL, "v20"), 0);
    kv_mvcc_read_opts ro = {.ts = ts(15), .uncertainty_limit = ts(25)};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, "k", 1, &val, NULL, &conflict, err, sizeof(err)),
                     KV_EREADUNCERTAIN);
        cr_assert_eq(conflict.existing_ts.wall, 20);
    }
    expect_twice("k", 20, NULL, "v20", 20);
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, "k", 1, &val, NULL, &conflict, err, sizeof(err)),
                 KV_EREADUNCERTAIN);
}

Test(mvcc, values_too_large_for_the_cache_are_read_each_time)
{
    enum { N = 300 };
    char big[N + 1];
    memset(big, 'b', N);
    big[N] = '\0';
    cr_assert_eq(put("big", 10, NULL, big), 0);
    expect_twice("big", 10, NULL, big, 10);
    big[0] = 'c';
    cr_assert_eq(put("big", 20, NULL, big), 0);
    expect_twice("big", 20, NULL, big, 20);
}

/* Whether the cache holds k's newest state for a read at `wall`: asked
 * of the cache itself, so a read from the engine cannot stand in for it. */
static bool cached(const char *k, int64_t wall)
{
    kv_buf prefix = {0};
    cr_assert_eq(kv_mvcc_encode_key(&prefix, k, strlen(k), NULL), 0);
    int rc;
    kv__vcache_tag tag;
    bool hit =
        kv__vcache_get(eng->vcache, prefix.data, prefix.len, ts(wall), &val, NULL, &rc, &tag);
    kv_buf_free(&prefix);
    return hit;
}

Test(mvcc, writes_void_only_the_cached_keys_they_write)
{
    cr_assert_eq(put("k", 10, NULL, "v10"), 0);
    cr_assert_not(cached("k", 50));
    expect_value("k", 50, NULL, "v10", 10);
    cr_assert(cached("k", 50), "a read at the newest version fills the cache");
    cr_assert_eq(put("other", 11, NULL, "x"), 0);
    cr_assert(cached("k", 50), "a write of another key leaves k cached");
    cr_assert_eq(put("k", 20, NULL, "v20"), 0);
    cr_assert_not(cached("k", 50), "a write of k voids it");
    expect_twice("k", 50, NULL, "v20", 20);
    cr_assert(cached("k", 50));
    /* A range deletion names no keys: it voids everything. */
    cr_assert_eq(kv_batch_delete_range(batch, eng, KV_CF_MVCC, "x", 1, "y", 1), 0);
    commit(0);
    cr_assert_not(cached("k", 50));
    expect_twice("k", 50, NULL, "v20", 20);
    cr_assert(cached("k", 50));
}

Test(mvcc, a_fill_that_straddles_a_write_of_its_key_is_dropped)
{
    cr_assert_eq(put("k", 10, NULL, "v10"), 0);
    kv_buf prefix = {0};
    cr_assert_eq(kv_mvcc_encode_key(&prefix, "k", 1, NULL), 0);
    int rc;
    kv__vcache_tag tag, other;
    cr_assert_not(
        kv__vcache_get(eng->vcache, prefix.data, prefix.len, ts(50), &val, NULL, &rc, &tag));
    cr_assert_eq(put("k", 20, NULL, "v20"), 0); /* between the tag and the fill */
    kv__vcache_put(eng->vcache, &tag, prefix.data, prefix.len, true, "v10", 3, ts(10));
    cr_assert_not(cached("k", 50), "the stale v10 must not be served");
    /* A write of another key between tag and fill does not drop it. */
    cr_assert_not(
        kv__vcache_get(eng->vcache, prefix.data, prefix.len, ts(50), &val, NULL, &rc, &other));
    cr_assert_eq(put("other", 21, NULL, "x"), 0);
    kv__vcache_put(eng->vcache, &other, prefix.data, prefix.len, true, "v20", 3, ts(20));
    cr_assert(cached("k", 50));
    kv_buf_free(&prefix);
}

/* ---- scans ---- */

struct collected {
    char keys[16][8];
    int64_t walls[16];
    int n;
};

static int collect(void *arg, const char *key, size_t klen, const char *v, size_t vlen, kv_ts at)
{
    struct collected *c = arg;
    (void)v;
    (void)vlen;
    cr_assert_lt(c->n, 16);
    cr_assert_lt(klen, 8);
    memcpy(c->keys[c->n], key, klen);
    c->keys[c->n][klen] = '\0';
    c->walls[c->n++] = at.wall;
    return 0;
}

static int scan(const char *start, const char *end, int64_t wall, size_t limit, bool reverse,
                struct collected *c)
{
    memset(c, 0, sizeof(*c));
    kv_mvcc_read_opts ro = {.ts = ts(wall), .limit = limit, .reverse = reverse};
    return kv_mvcc_scan(eng, NULL, &ro, start, start ? strlen(start) : 0, end,
                        end ? strlen(end) : 0, collect, c, &conflict, err, sizeof(err));
}

static void expect_keys(const struct collected *c, const char *want)
{
    char got[128] = "";
    for (int i = 0; i < c->n; i++) {
        strcat(got, c->keys[i]);
        strcat(got, i + 1 < c->n ? "," : "");
    }
    cr_assert_str_eq(got, want);
}

Test(mvcc, scans_forward_and_reverse_with_limits)
{
    cr_assert_eq(put("a", 10, NULL, "a"), 0);
    cr_assert_eq(put("b", 10, NULL, "b"), 0);
    cr_assert_eq(put("b", 20, NULL, "b2"), 0);
    cr_assert_eq(put("c", 10, NULL, "c"), 0);
    cr_assert_eq(del("c", 15, NULL), 0);
    cr_assert_eq(put("d", 30, NULL, "d"), 0);
    for (int w = 11; w < 20; w++) /* many versions: exercises the seek path */
        cr_assert_eq(put("e", w, NULL, "e"), 0);
    struct collected c;
    cr_assert_eq(scan(NULL, NULL, 25, 0, false, &c), 0, "%s", err);
    expect_keys(&c, "a,b,e");
    cr_assert_eq(c.walls[1], 20);
    cr_assert_eq(c.walls[2], 19);
    cr_assert_eq(scan(NULL, NULL, 12, 0, true, &c), 0);
    expect_keys(&c, "e,c,b,a");
    cr_assert_eq(c.walls[0], 12);
    cr_assert_eq(scan("b", "e", 40, 0, false, &c), 0);
    expect_keys(&c, "b,d");
    cr_assert_eq(scan("b", "e", 40, 0, true, &c), 0);
    expect_keys(&c, "d,b");
    cr_assert_eq(scan(NULL, NULL, 40, 2, false, &c), 0);
    expect_keys(&c, "a,b");
    cr_assert_eq(scan(NULL, NULL, 40, 2, true, &c), 0);
    expect_keys(&c, "e,d");
    cr_assert_eq(scan("f", NULL, 40, 0, false, &c), 0);
    expect_keys(&c, "");
}

Test(mvcc, scan_stops_at_a_conflicting_intent)
{
    cr_assert_eq(put("a", 10, NULL, "a"), 0);
    cr_assert_eq(put("b", 10, &txn_a, "b"), 0);
    cr_assert_eq(put("c", 10, NULL, "c"), 0);
    struct collected c;
    cr_assert_eq(scan(NULL, NULL, 20, 0, false, &c), KV_EWRITEINTENT);
    expect_keys(&c, "a");
    cr_assert_eq(conflict.key.data[0], 'b');
    cr_assert_eq(scan(NULL, NULL, 20, 0, true, &c), KV_EWRITEINTENT);
    expect_keys(&c, "c");
    cr_assert_eq(scan(NULL, NULL, 5, 0, false, &c), 0);
    expect_keys(&c, "");
}

static int stop_after_first(void *arg, const char *k, size_t kl, const char *v, size_t vl, kv_ts at)
{
    (void)k, (void)kl, (void)v, (void)vl, (void)at;
    ++*(int *)arg;
    return 1;
}

static int fail_callback(void *arg, const char *k, size_t kl, const char *v, size_t vl, kv_ts at)
{
    (void)arg, (void)k, (void)kl, (void)v, (void)vl, (void)at;
    return KV_EIO;
}

Test(mvcc, scan_callback_can_stop_or_fail)
{
    cr_assert_eq(put("a", 10, NULL, "a"), 0);
    cr_assert_eq(put("b", 10, NULL, "b"), 0);
    kv_mvcc_read_opts ro = {.ts = ts(20)};
    int calls = 0;
    cr_assert_eq(kv_mvcc_scan(eng, NULL, &ro, NULL, 0, NULL, 0, stop_after_first, &calls, NULL, err,
                              sizeof(err)),
                 0);
    cr_assert_eq(calls, 1);
    cr_assert_eq(
        kv_mvcc_scan(eng, NULL, &ro, NULL, 0, NULL, 0, fail_callback, NULL, NULL, err, sizeof(err)),
        KV_EIO);
}

Test(mvcc, reads_at_a_snapshot)
{
    cr_assert_eq(put("k", 10, NULL, "before"), 0);
    kv_snapshot *snap;
    cr_assert_eq(kv_snapshot_open(eng, &snap), 0);
    cr_assert_eq(put("k", 20, NULL, "after"), 0);
    kv_mvcc_read_opts ro = {.ts = ts(30)};
    kv_ts at;
    cr_assert_eq(kv_mvcc_get(eng, snap, &ro, "k", 1, &val, &at, NULL, err, sizeof(err)), 0);
    cr_assert_eq(at.wall, 10);
    kv_snapshot_close(snap);
}

/* Keys too long for the on-stack encoding buffer take the heap path. */
Test(mvcc, long_keys_with_zero_bytes)
{
    enum { N = 600 };
    char key[N];
    for (int i = 0; i < N; i++)
        key[i] = (char)(i % 3 == 0 ? 0 : 'k');
    kv_ts t = ts(10), at;
    kv_mvcc_writer w = writer(&txn_a);
    cr_assert_eq(kv_mvcc_put(eng, NULL, batch, key, N, t, &w, "v", 1, &conflict, err, sizeof(err)),
                 0);
    commit(0);
    kv_mvcc_read_opts ro = {.ts = ts(20)};
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, key, N, &val, &at, &conflict, err, sizeof(err)),
                 KV_EWRITEINTENT);
    cr_assert_eq(conflict.key.len, N);
    cr_assert_arr_eq(conflict.key.data, key, N);
    bool resolved;
    cr_assert_eq(kv_mvcc_resolve(eng, NULL, batch, key, N, &txn_a, KV_TXN_COMMITTED, ts(15),
                                 &resolved, err, sizeof(err)),
                 0);
    commit(0);
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, key, N, &val, &at, NULL, err, sizeof(err)), 0);
    cr_assert_eq(at.wall, 15);
    int calls = 0;
    ro.reverse = true;
    cr_assert_eq(kv_mvcc_scan(eng, NULL, &ro, NULL, 0, NULL, 0, stop_after_first, &calls, NULL, err,
                              sizeof(err)),
                 0);
    cr_assert_eq(calls, 1);
}

/* ---- GC ---- */

Test(mvcc, gc_keeps_the_newest_visible_version)
{
    for (int w = 10; w <= 50; w += 10)
        cr_assert_eq(put("k", w, NULL, "v"), 0);
    cr_assert_eq(put("gone", 10, NULL, "v"), 0);
    cr_assert_eq(del("gone", 20, NULL), 0);
    cr_assert_eq(put("i", 10, NULL, "old"), 0);
    cr_assert_eq(put("i", 20, &txn_a, "intent"), 0);
    size_t removed;
    cr_assert_eq(kv_mvcc_gc(eng, NULL, batch, NULL, 0, NULL, 0, ts(35), &removed, err, sizeof(err)),
                 0);
    commit(0);
    cr_assert_eq(removed, 4); /* k@10, k@20, gone@10, gone@20 */
    expect_value("k", 35, NULL, "v", 30);
    expect_value("k", 100, NULL, "v", 50);
    expect_value("k", 25, NULL, NULL, 0);
    expect_value("gone", 100, NULL, NULL, 0);
    expect_value("i", 15, NULL, "old", 10);
    expect_value("i", 15, &txn_a, "intent", 20);
    struct collected c;
    cr_assert_eq(scan(NULL, NULL, 100, 0, false, &c), KV_EWRITEINTENT);
}

/* ---- undecodable stored data ---- */

static void raw_put(const void *k, size_t klen, const void *v, size_t vlen)
{
    cr_assert_eq(kv_batch_put(batch, eng, KV_CF_MVCC, k, klen, v, vlen), 0);
    commit(0);
}

/* Reads and GC decode every entry they use; writes decode keys and intent
 * metadata but never values, so `writes_see_it` is false for values. */
static void expect_corrupt_everywhere(const char *userkey, bool writes_see_it)
{
    struct collected c;
    cr_assert_eq(get(userkey, 100, NULL, NULL), KV_ECORRUPT, "get %s", userkey);
    cr_assert_neq(strstr(err, "corrupt"), NULL, "message: %s", err);
    cr_assert_eq(scan(NULL, NULL, 100, 0, false, &c), KV_ECORRUPT);
    cr_assert_eq(scan(NULL, NULL, 100, 0, true, &c), KV_ECORRUPT);
    if (writes_see_it)
        cr_assert_eq(put(userkey, 200, NULL, "x"), KV_ECORRUPT);
    cr_assert_eq(kv_mvcc_gc(eng, NULL, batch, NULL, 0, NULL, 0, ts(300), NULL, err, sizeof(err)),
                 KV_ECORRUPT);
    kv_batch_clear(batch);
}

Test(mvcc, corrupt_value_is_reported)
{
    kv_buf k = {0};
    kv_ts at = ts(10);
    cr_assert_eq(kv_mvcc_encode_key(&k, "k", 1, &at), 0);
    raw_put(k.data, k.len, "\x09garbage", 8);
    expect_corrupt_everywhere("k", false);
    kv_buf_free(&k);
}

Test(mvcc, empty_value_is_reported)
{
    kv_buf k = {0};
    kv_ts at = ts(10);
    cr_assert_eq(kv_mvcc_encode_key(&k, "k", 1, &at), 0);
    raw_put(k.data, k.len, "", 0);
    expect_corrupt_everywhere("k", false);
    kv_buf_free(&k);
}

Test(mvcc, corrupt_intent_metadata_is_reported)
{
    kv_buf k = {0};
    cr_assert_eq(kv_mvcc_encode_key(&k, "k", 1, NULL), 0);
    raw_put(k.data, k.len, "\x03short", 6);
    expect_corrupt_everywhere("k", true);
    bool resolved;
    cr_assert_eq(resolve("k", &txn_a, KV_TXN_ABORTED, 0, &resolved), KV_ECORRUPT);
    kv_buf_free(&k);
}

/* Every truncation of real metadata, a trailing byte, a length field
 * that disagrees and the old tag 0x03 are all rejected. */
Test(mvcc, truncated_or_altered_intent_metadata_is_reported)
{
    cr_assert_eq(put("k", 20, &txn_a, "v"), 0);
    kv_buf k = {0}, meta = {0}, bad = {0};
    cr_assert_eq(kv_mvcc_encode_key(&k, "k", 1, NULL), 0);
    cr_assert_eq(kv_engine_get(eng, NULL, KV_CF_MVCC, k.data, k.len, &meta, err, sizeof(err)), 0);
    cr_assert_gt(meta.len, 40);
    for (size_t n = 0; n < meta.len; n++) {
        raw_put(k.data, k.len, meta.data, n);
        cr_assert_eq(get("k", 100, NULL, NULL), KV_ECORRUPT, "truncated to %zu", n);
        cr_assert_eq(put("k", 200, NULL, "x"), KV_ECORRUPT, "truncated to %zu", n);
    }
    cr_assert_eq(kv_buf_reserve(&bad, meta.len + 1), 0);
    memcpy(bad.data, meta.data, meta.len);
    bad.data[meta.len] = '+';
    raw_put(k.data, k.len, bad.data, meta.len + 1);
    cr_assert_eq(get("k", 100, NULL, NULL), KV_ECORRUPT, "trailing byte");
    bad.data[44]++; /* low byte of the anchor length at 41 (docs/storage.md) */
    raw_put(k.data, k.len, bad.data, meta.len);
    cr_assert_eq(get("k", 100, NULL, NULL), KV_ECORRUPT, "length field");
    cr_assert_eq(kv_buf_set(&bad, meta.data, meta.len), 0);
    bad.data[0] = 0x03;
    raw_put(k.data, k.len, bad.data, bad.len);
    cr_assert_eq(get("k", 100, NULL, NULL), KV_ECORRUPT, "old version tag");
    raw_put(k.data, k.len, meta.data, meta.len);
    cr_assert_eq(get("k", 100, NULL, NULL), KV_EWRITEINTENT, "the original still decodes");
    kv_buf_free(&bad);
    kv_buf_free(&meta);
    kv_buf_free(&k);
}

Test(mvcc, intent_without_provisional_version_is_reported)
{
    cr_assert_eq(put("k", 20, &txn_a, "v"), 0);
    kv_buf k = {0};
    kv_ts at = ts(20);
    cr_assert_eq(kv_mvcc_encode_key(&k, "k", 1, &at), 0);
    cr_assert_eq(kv_batch_delete(batch, eng, KV_CF_MVCC, k.data, k.len), 0);
    commit(0);
    cr_assert_eq(get("k", 30, &txn_a, NULL), KV_ECORRUPT);
    bool resolved;
    cr_assert_eq(resolve("k", &txn_a, KV_TXN_COMMITTED, 30, &resolved), KV_ECORRUPT);
    kv_buf_free(&k);
}

Test(mvcc, undecodable_key_is_reported)
{
    raw_put("k\x00\x05", 3, "\x01v", 2); /* bad escape */
    struct collected c;
    cr_assert_eq(scan(NULL, NULL, 100, 0, false, &c), KV_ECORRUPT);
    cr_assert_eq(scan(NULL, NULL, 100, 0, true, &c), KV_ECORRUPT);
    cr_assert_eq(kv_mvcc_gc(eng, NULL, batch, NULL, 0, NULL, 0, ts(300), NULL, err, sizeof(err)),
                 KV_ECORRUPT);
}
