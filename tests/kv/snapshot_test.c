/*
 * snapshot_test.c - Raft snapshot streams (kv/snapshot.h): a range's data
 * sent chunk by chunk from one store (A) into another (B).
 *
 * The oracle does not reuse the module's span table: it decodes every key
 * of both column families (MVCC keys, transaction record anchors, local
 * keys) and asks kv_range_contains whether the range owns it, so a wrong
 * bound in snapshot.c shows up as a difference between A's and B's dumps.
 * Both stores hold other ranges' data below and above the range, and B
 * holds older data of the range itself, which must be gone afterwards.
 */
#include <criterion/criterion.h>
#include <lz4.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "kv/kv_error.h"
#include "kv/local_keys.h"
#include "kv/mvcc.h"
#include "kv/raft_storage.h"
#include "kv/snapshot.h"
#include "kv/store_int.h"
#include "kv_test_util.h"

static char dir_a[KV_TEST_PATH_MAX], dir_b[KV_TEST_PATH_MAX];
static kv_engine *ea, *eb;
static char err[512];

static void setup(void)
{
    ea = kv_test_open(dir_a);
    eb = kv_test_open(dir_b);
}

static void teardown(void)
{
    kv_engine_close(ea);
    kv_engine_close(eb);
    kv_test_rmrf(dir_a);
    kv_test_rmrf(dir_b);
}

TestSuite(snapshot, .init = setup, .fini = teardown);

/* ---- fixtures ------------------------------------------------------------------ */

struct key {
    const char *p;
    size_t n;
};
#define K(s)             \
    {                    \
        s, sizeof(s) - 1 \
    }

/* A's user keys: around and on every bound of the ranges below. */
static const struct key keys_a[] = {
    K("\0"),  K("\0\0"), K("a"), K("b\0"),       K("c"), K("cc"),  K("l\xff"), K("m"),
    K("m\0"), K("mm"),   K("p"), K("s\xff\xff"), K("t"), K("t\0"), K("w"),     K("\xff\xff\xff"),
};
/* B's older data; the keys A lacks must disappear from the range. */
static const struct key keys_b[] = {
    K("\0\x01"), K("b"), K("m"), K("n_old"), K("s"), K("t"), K("zz"), K("\xff\xff\xff\xff"),
};

static kv_range_desc mkdesc(uint64_t id, const char *start, const char *end)
{
    kv_range_desc d = {.range_id = id, .generation = 1, .n_replicas = 1};
    d.start_key = (const uint8_t *)start;
    d.start_len = strlen(start);
    d.end_key = (const uint8_t *)end;
    d.end_len = strlen(end);
    d.replicas[0] = (kv_replica_desc){1, 1, 1};
    return d;
}

static kv_ts ts_at(int64_t wall)
{
    return (kv_ts){wall, 0};
}

static void write_batch(kv_engine *e, kv_batch *b)
{
    int rc = kv_engine_write(e, b, false, err, sizeof err);
    cr_assert_eq(rc, 0, "write: %s (%s)", kv_strerror(rc), err);
    kv_batch_destroy(b);
}

static void put_raw(kv_engine *e, kv_cf cf, const void *k, size_t kn, const void *v, size_t vn)
{
    kv_batch *b;
    cr_assert_eq(kv_batch_create(&b), 0);
    cr_assert_eq(kv_batch_put(b, e, cf, k, kn, v, vn), 0);
    write_batch(e, b);
}

/* One MVCC write (a version, or an intent of txn `id` when id != 0). */
static void put_version(kv_engine *e, const struct key *k, int64_t wall, uint8_t id,
                        const char *val)
{
    kv_mvcc_writer w = {.priority = 1, .anchor = (const uint8_t *)k->p, .anchor_len = k->n};
    w.txn.id[0] = id;
    kv_mvcc_conflict conf = {0};
    kv_batch *b;
    cr_assert_eq(kv_batch_create(&b), 0);
    int rc =
        val ? kv_mvcc_put(e, NULL, b, k->p, k->n, ts_at(wall), id ? &w : NULL, val, strlen(val),
                          &conf, err, sizeof err)
            : kv_mvcc_delete(e, NULL, b, k->p, k->n, ts_at(wall), NULL, &conf, err, sizeof err);
    cr_assert_eq(rc, 0, "mvcc write: %s (%s)", kv_strerror(rc), err);
    kv_buf_free(&conf.key);
    kv_buf_free(&conf.anchor);
    write_batch(e, b);
}

static void put_txn_record(kv_engine *e, const struct key *anchor, uint8_t id, const char *val)
{
    uint8_t tid[KV_TXN_ID_LEN] = {id};
    kv_buf key = {0};
    cr_assert_eq(kv__txn_record_key(&key, anchor->p, anchor->n, tid), 0);
    put_raw(e, KV_CF_LOCAL, key.data, key.len, val, strlen(val));
    kv_buf_free(&key);
}

/* Versions, tombstones, intents and transaction records for `keys`. */
static void fill(kv_engine *e, const struct key *keys, size_t n, int64_t wall, const char *tag)
{
    for (size_t i = 0; i < n; i++) {
        put_version(e, &keys[i], wall, 0, tag);
        put_version(e, &keys[i], wall + 10, 0, "v2");
        if (i % 3 == 0)
            put_version(e, &keys[i], wall + 20, 0, NULL);
        if (i % 4 == 1)
            put_version(e, &keys[i], wall + 30, (uint8_t)(i + 1), "intent");
        if (i % 2 == 0)
            put_txn_record(e, &keys[i], (uint8_t)(i + 1), tag);
    }
}

static void put_local(kv_engine *e, uint64_t id, enum kv_local_kind kind, uint64_t index,
                      const void *v, size_t n)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    put_raw(e, KV_CF_LOCAL, key, kv_local_key(key, id, kind, index), v, n);
}

static kv_applied_state mkapplied(uint64_t index, uint64_t term, uint64_t voter)
{
    kv_applied_state as = {.index = index, .term = term};
    as.conf.voters[0] = voter;
    as.conf.n_voters = 1;
    as.stats.live_count = (int64_t)index * 2;
    return as;
}

/* A range's local state: applied state, descriptor, and its own Raft state
 * (hard state, truncated state, three log entries) tagged with `own`. */
static void put_range_state(kv_engine *e, const kv_range_desc *d, const kv_applied_state *as,
                            uint8_t own)
{
    kv_raft_storage *rs;
    kv_batch *b;
    int rc = kv_raft_storage_open(e, d->range_id, NULL, &rs, err, sizeof err);
    cr_assert_eq(rc, 0, "raft storage: %s (%s)", kv_strerror(rc), err);
    cr_assert_eq(kv_batch_create(&b), 0);
    cr_assert_eq(kv_raft_storage_applied_put(rs, b, as), 0);
    write_batch(e, b);
    kv_raft_storage_close(rs);
    kv_buf val = {0};
    cr_assert_eq(kv__desc_encode(d, &val), 0);
    put_local(e, d->range_id, KV_LOCAL_DESCRIPTOR, 0, val.data, val.len);
    kv_buf_free(&val);
    raft_hard_state_t hs = {.term = own, .vote = own, .commit = own};
    uint8_t buf[64];
    size_t n;
    cr_assert_eq(raft_hard_state_encode(&hs, buf, sizeof buf, &n), 0);
    put_local(e, d->range_id, KV_LOCAL_HARD_STATE, 0, buf, n);
    memset(buf, own, 16);
    put_local(e, d->range_id, KV_LOCAL_RAFT_TRUNCATED, 0, buf, 16);
    for (uint64_t i = 1; i <= 3; i++)
        put_local(e, d->range_id, KV_LOCAL_RAFT_LOG, own + i, buf, 8);
}

/* A: keys_a, state of range `d` and of its neighbours (ids d-1, d+1).
 * B: keys_b, an older state of `d` and other neighbour states. */
static void populate(const kv_range_desc *d)
{
    fill(ea, keys_a, sizeof keys_a / sizeof keys_a[0], 1000, "new");
    fill(eb, keys_b, sizeof keys_b / sizeof keys_b[0], 500, "old");
    kv_range_desc lo = mkdesc(d->range_id - 1, "", "m"), hi = mkdesc(d->range_id + 1, "t", "");
    kv_applied_state as_a = mkapplied(50, 4, 1), as_b = mkapplied(3, 1, 9);
    kv_applied_state as_n = mkapplied(7, 2, 5);
    put_range_state(ea, d, &as_a, 0x10);
    put_range_state(eb, d, &as_b, 0x20);
    put_range_state(ea, &lo, &as_n, 0x30);
    put_range_state(ea, &hi, &as_n, 0x40);
    put_range_state(eb, &lo, &as_n, 0x50);
    put_range_state(eb, &hi, &as_n, 0x60);
}

/* ---- oracle --------------------------------------------------------------------- */

enum owner { OTHER, OWNED, OWN_RAFT };

static bool contains_encoded(const kv_range_desc *d, const char *enc, size_t n)
{
    kv_buf uk = {0};
    kv_ts ts;
    bool meta;
    cr_assert_eq(kv_mvcc_decode_key(enc, n, &uk, &ts, &meta), 0);
    bool in = kv_range_contains(d, uk.data, uk.len);
    kv_buf_free(&uk);
    return in;
}

/* Who owns (cf, key) as far as range d's snapshot goes: its data, its own
 * Raft state (hard state, truncated state, log) or someone else. */
static enum owner classify(const kv_range_desc *d, kv_cf cf, const char *k, size_t n)
{
    if (cf == KV_CF_MVCC)
        return contains_encoded(d, k, n) ? OWNED : OTHER;
    if ((uint8_t)k[0] == KV_LOCAL_TXN_MARKER)
        return contains_encoded(d, k + 1, n - 1 - KV_TXN_ID_LEN) ? OWNED : OTHER;
    uint64_t id, index;
    enum kv_local_kind kind;
    cr_assert_eq(kv_local_key_decode((const uint8_t *)k, n, &id, &kind, &index), 0);
    if (id != d->range_id)
        return OTHER;
    return kind == KV_LOCAL_APPLIED_STATE || kind == KV_LOCAL_DESCRIPTOR ? OWNED : OWN_RAFT;
}

static void append(kv_buf *out, const void *p, size_t n)
{
    cr_assert_eq(kv_buf_reserve(out, out->len + n + 4), 0);
    uint32_t len = (uint32_t)n;
    memcpy(out->data + out->len, &len, 4);
    memcpy(out->data + out->len + 4, p, n);
    out->len += n + 4;
}

/* Every (cf, key, value) of `e` that `who` owns, serialized into `out`;
 * returns how many. */
static size_t dump(kv_engine *e, const kv_range_desc *d, enum owner who, kv_buf *out)
{
    size_t count = 0;
    out->len = 0;
    for (int cf = 0; cf < KV_CF_COUNT; cf++) {
        kv_iter *it;
        cr_assert_eq(kv_iter_open(e, NULL, cf, NULL, 0, NULL, 0, &it, err, sizeof err), 0);
        for (kv_iter_seek_first(it); kv_iter_valid(it); kv_iter_next(it)) {
            size_t kn, vn;
            const char *k = kv_iter_key(it, &kn), *v = kv_iter_value(it, &vn);
            if (classify(d, cf, k, kn) != who)
                continue;
            uint8_t c = (uint8_t)cf;
            append(out, &c, 1);
            append(out, k, kn);
            append(out, v, vn);
            count++;
        }
        cr_assert_eq(kv_iter_status(it, err, sizeof err), 0);
        kv_iter_close(it);
    }
    return count;
}

static void assert_same(const kv_buf *a, const kv_buf *b, const char *what)
{
    cr_assert_eq(a->len, b->len, "%s: %zu vs %zu bytes", what, a->len, b->len);
    cr_assert(a->len == 0 || memcmp(a->data, b->data, a->len) == 0, "%s differ", what);
}

static int get_local(kv_engine *e, uint64_t id, enum kv_local_kind kind, kv_buf *val)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    size_t n = kv_local_key(key, id, kind, 0);
    return kv_engine_get(e, NULL, KV_CF_LOCAL, key, n, val, err, sizeof err);
}

/* ---- streaming ------------------------------------------------------------------ */

/* All chunks of range d from A, in order; returns how many. */
static size_t collect(const kv_range_desc *d, size_t chunk_bytes, kv_buf *chunks, size_t max,
                      kv_applied_state *sent)
{
    kv_snap_sender *s;
    int rc = kv_snap_sender_open(ea, d, chunk_bytes, &s, sent, err, sizeof err);
    cr_assert_eq(rc, 0, "sender: %s (%s)", kv_strerror(rc), err);
    size_t n = 0;
    for (bool last = false; !last; n++) {
        cr_assert_lt(n, max);
        rc = kv_snap_sender_next(s, &chunks[n], &last, err, sizeof err);
        cr_assert_eq(rc, 0, "next: %s (%s)", kv_strerror(rc), err);
    }
    bool last;
    kv_buf extra = {0};
    cr_assert_eq(kv_snap_sender_next(s, &extra, &last, err, sizeof err), KV_EINVAL);
    kv_snap_sender_close(s);
    return n;
}

static kv_snap_receiver *receiver(const kv_range_desc *d)
{
    kv_snap_receiver *r;
    int rc = kv_snap_receiver_open(eb, d, &r, err, sizeof err);
    cr_assert_eq(rc, 0, "receiver: %s (%s)", kv_strerror(rc), err);
    return r;
}

static void add_ok(kv_snap_receiver *r, const kv_buf *c)
{
    int rc = kv_snap_receiver_add(r, c->data, c->len, err, sizeof err);
    cr_assert_eq(rc, 0, "add: %s (%s)", kv_strerror(rc), err);
}

static void add_corrupt(kv_snap_receiver *r, const void *p, size_t n, const char *what)
{
    int rc = kv_snap_receiver_add(r, p, n, err, sizeof err);
    cr_assert_eq(rc, KV_ECORRUPT, "%s: %s", what, kv_strerror(rc));
}

static void finish_ok(kv_snap_receiver *r, kv_applied_state *got)
{
    int rc = kv_snap_receiver_finish(r, got, err, sizeof err);
    cr_assert_eq(rc, 0, "finish: %s (%s)", kv_strerror(rc), err);
    kv_snap_receiver_close(r);
}

/* Streams range d from A into B chunk by chunk; returns the chunk count. */
static size_t stream(const kv_range_desc *d, size_t chunk_bytes, kv_applied_state *sent,
                     kv_applied_state *got)
{
    kv_snap_sender *s;
    int rc = kv_snap_sender_open(ea, d, chunk_bytes, &s, sent, err, sizeof err);
    cr_assert_eq(rc, 0, "sender: %s (%s)", kv_strerror(rc), err);
    kv_snap_receiver *r = receiver(d);
    kv_buf chunk = {0};
    size_t n = 0;
    for (bool last = false; !last; n++) {
        rc = kv_snap_sender_next(s, &chunk, &last, err, sizeof err);
        cr_assert_eq(rc, 0, "next: %s (%s)", kv_strerror(rc), err);
        add_ok(r, &chunk);
    }
    finish_ok(r, got);
    kv_snap_sender_close(s);
    kv_buf_free(&chunk);
    return n;
}

static void assert_applied_eq(const kv_applied_state *a, const kv_applied_state *b)
{
    cr_assert_eq(a->index, b->index);
    cr_assert_eq(a->term, b->term);
    cr_assert_eq(a->conf.n_voters, b->conf.n_voters);
    cr_assert_eq(a->conf.voters[0], b->conf.voters[0]);
    cr_assert_eq(a->stats.live_count, b->stats.live_count);
}

/* B's own Raft state of d after a snapshot: hard state kept, log gone,
 * truncated state = the applied index and term. */
static void assert_raft_state(const kv_range_desc *d, const kv_buf *hard_before,
                              const kv_applied_state *as)
{
    kv_buf val = {0};
    cr_assert_eq(get_local(eb, d->range_id, KV_LOCAL_HARD_STATE, &val), 0);
    assert_same(&val, hard_before, "hard state");
    cr_assert_eq(get_local(eb, d->range_id, KV_LOCAL_RAFT_TRUNCATED, &val), 0);
    cr_assert_eq(val.len, 16);
    uint8_t want[16];
    for (int i = 0; i < 8; i++) {
        want[i] = (uint8_t)(as->index >> (56 - 8 * i));
        want[8 + i] = (uint8_t)(as->term >> (56 - 8 * i));
    }
    cr_assert_eq(memcmp(val.data, want, 16), 0);
    kv_buf raft = {0};
    cr_assert_eq(dump(eb, d, OWN_RAFT, &raft), 2, "log entries survived");
    kv_buf_free(&raft);
    kv_buf_free(&val);
}

/* The whole check for one range: B's copy equals A's, the rest of B is
 * untouched, B's own Raft state is right, B's old keys are gone. */
static void check_stream(const kv_range_desc *d, size_t chunk_bytes)
{
    populate(d);
    kv_buf others = {0}, hard = {0}, a = {0}, b = {0};
    dump(eb, d, OTHER, &others);
    cr_assert_eq(get_local(eb, d->range_id, KV_LOCAL_HARD_STATE, &hard), 0);

    kv_applied_state sent, got;
    stream(d, chunk_bytes, &sent, &got);
    assert_applied_eq(&sent, &got);
    cr_assert_eq(sent.index, 50);

    size_t na = dump(ea, d, OWNED, &a), nb = dump(eb, d, OWNED, &b);
    cr_assert_eq(na, nb);
    cr_assert_gt(na, 2, "the range has user data");
    assert_same(&a, &b, "range data");
    dump(eb, d, OTHER, &b);
    assert_same(&others, &b, "other ranges' data");
    assert_raft_state(d, &hard, &got);
    kv_buf_free(&others);
    kv_buf_free(&hard);
    kv_buf_free(&a);
    kv_buf_free(&b);
}

Test(snapshot, middle_range_matches_sender)
{
    kv_range_desc d = mkdesc(7, "m", "t");
    check_stream(&d, 4096);
    /* "n_old" and "s" were only B's: the equality above implies it, say it */
    kv_buf v = {0};
    kv_mvcc_read_opts ro = {.ts = ts_at(INT64_MAX)};
    cr_assert_eq(kv_mvcc_get(eb, NULL, &ro, "n_old", 5, &v, NULL, NULL, err, sizeof err),
                 KV_ENOTFOUND);
    cr_assert_eq(kv_mvcc_get(eb, NULL, &ro, "s", 1, &v, NULL, NULL, err, sizeof err), KV_ENOTFOUND);
    cr_assert_eq(kv_mvcc_get(eb, NULL, &ro, "\xff\xff\xff\xff", 4, &v, NULL, NULL, err, sizeof err),
                 0, "B's keys of other ranges stay");
    kv_buf_free(&v);
}

Test(snapshot, first_range_without_start_key)
{
    kv_range_desc d = mkdesc(3, "", "c");
    check_stream(&d, 256);
}

Test(snapshot, last_range_without_end_key)
{
    kv_range_desc d = mkdesc(9, "w", "");
    check_stream(&d, 0);
}

Test(snapshot, whole_keyspace_in_one_chunk)
{
    kv_range_desc d = mkdesc(5, "", "");
    check_stream(&d, 0);
}

Test(snapshot, empty_range_still_sends_one_final_chunk)
{
    kv_range_desc d = mkdesc(11, "n", "o");
    populate(&d);
    kv_buf chunks[4] = {{0}};
    kv_applied_state sent, got;
    cr_assert_eq(collect(&d, 4096, chunks, 4, &sent), 1);
    kv_snap_receiver *r = receiver(&d);
    add_ok(r, &chunks[0]);
    finish_ok(r, &got);
    assert_applied_eq(&sent, &got);
    kv_buf a = {0}, b = {0};
    cr_assert_eq(dump(ea, &d, OWNED, &a), 2, "applied state and descriptor only");
    dump(eb, &d, OWNED, &b);
    assert_same(&a, &b, "range data"); /* B's "n_old" is gone */
    for (int i = 0; i < 4; i++)
        kv_buf_free(&chunks[i]);
    kv_buf_free(&a);
    kv_buf_free(&b);
}

Test(snapshot, sender_reads_a_consistent_snapshot)
{
    kv_range_desc d = mkdesc(7, "m", "t");
    populate(&d);
    kv_buf before = {0}, after = {0};
    dump(ea, &d, OWNED, &before);
    kv_applied_state sent, got;
    kv_snap_sender *s;
    cr_assert_eq(kv_snap_sender_open(ea, &d, 64, &s, &sent, err, sizeof err), 0);
    kv_snap_receiver *r = receiver(&d);
    kv_buf chunk = {0};
    bool last = false;
    for (int i = 0; !last; i++) {
        if (i == 1) { /* writes after open must not leak into the stream */
            put_version(ea, &(struct key)K("q"), 5000, 0, "late");
            put_version(ea, &(struct key)K("m"), 5000, 0, "late");
        }
        cr_assert_eq(kv_snap_sender_next(s, &chunk, &last, err, sizeof err), 0);
        add_ok(r, &chunk);
    }
    finish_ok(r, &got);
    kv_snap_sender_close(s);
    dump(eb, &d, OWNED, &after);
    assert_same(&before, &after, "range data as of open");
    kv_buf_free(&chunk);
    kv_buf_free(&before);
    kv_buf_free(&after);
}

Test(snapshot, ten_thousand_keys_in_many_small_chunks)
{
    kv_range_desc d = mkdesc(7, "m", "t");
    populate(&d);
    char key[16], val[100];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    kv_batch *b;
    cr_assert_eq(kv_batch_create(&b), 0);
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "n%05d", i);
        memcpy(val, key, 6); /* distinct values */
        kv_mvcc_conflict conf = {0};
        cr_assert_eq(kv_mvcc_put(ea, NULL, b, key, strlen(key), ts_at(100), NULL, val,
                                 sizeof val - 1, &conf, err, sizeof err),
                     0);
    }
    write_batch(ea, b);
    static kv_buf chunks[2000];
    kv_applied_state sent, got;
    size_t n = collect(&d, 4096, chunks, 2000, &sent);
    cr_assert_gt(n, 100, "only %zu chunks", n);
    kv_snap_receiver *r = receiver(&d);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *h = (const uint8_t *)chunks[i].data;
        uint32_t raw = (uint32_t)h[14] << 24 | (uint32_t)h[15] << 16 | h[16] << 8 | h[17];
        cr_assert_lt(raw, 4096 + 256, "chunk %zu holds %u raw bytes", i, raw);
        cr_assert_eq(h[1], i + 1 == n ? 1 : 0, "final flag on chunk %zu", i);
        add_ok(r, &chunks[i]);
        kv_buf_free(&chunks[i]);
    }
    finish_ok(r, &got);
    kv_buf x = {0}, y = {0};
    cr_assert_gt(dump(ea, &d, OWNED, &x), 10000);
    dump(eb, &d, OWNED, &y);
    assert_same(&x, &y, "range data");
    kv_buf_free(&x);
    kv_buf_free(&y);
}

/* ---- rejection ------------------------------------------------------------------- */

static void assert_no_applied_state(const kv_range_desc *d)
{
    kv_buf v = {0};
    cr_assert_eq(get_local(eb, d->range_id, KV_LOCAL_APPLIED_STATE, &v), KV_ENOTFOUND);
    kv_buf_free(&v);
}

Test(snapshot, damaged_and_misordered_chunks_are_rejected)
{
    kv_range_desc d = mkdesc(7, "m", "t");
    populate(&d);
    kv_buf chunks[64] = {{0}};
    kv_applied_state sent, got;
    size_t n = collect(&d, 128, chunks, 64, &sent);
    cr_assert_geq(n, 3);
    kv_snap_receiver *r = receiver(&d);
    assert_no_applied_state(&d); /* opening cleared the old one */
    add_corrupt(r, chunks[1].data, chunks[1].len, "second chunk first");
    kv_buf bad = {0};
    const size_t flips[] = {0, 1, 5, 12, 16, 20, 23, chunks[0].len / 2, chunks[0].len - 1};
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        cr_assert_eq(kv_buf_set(&bad, chunks[0].data, chunks[0].len), 0);
        bad.data[flips[i]] ^= 0x40;
        add_corrupt(r, bad.data, bad.len, "flipped byte");
    }
    const size_t cuts[] = {0, 10, 22, chunks[0].len / 2, chunks[0].len - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        add_corrupt(r, chunks[0].data, cuts[i], "truncated chunk");
    cr_assert_eq(kv_snap_receiver_finish(r, &got, err, sizeof err), KV_EINVAL);
    add_ok(r, &chunks[0]); /* rejected chunks changed nothing */
    add_corrupt(r, chunks[0].data, chunks[0].len, "duplicate chunk");
    for (size_t i = 1; i + 1 < n; i++)
        add_ok(r, &chunks[i]);
    cr_assert_eq(kv_snap_receiver_finish(r, &got, err, sizeof err), KV_EINVAL);
    assert_no_applied_state(&d);
    add_ok(r, &chunks[n - 1]);
    add_corrupt(r, chunks[0].data, chunks[0].len, "chunk after the final one");
    finish_ok(r, &got);
    assert_applied_eq(&sent, &got);
    for (size_t i = 0; i < n; i++)
        kv_buf_free(&chunks[i]);
    kv_buf_free(&bad);
}

Test(snapshot, chunks_of_another_range_are_rejected)
{
    kv_range_desc d = mkdesc(7, "m", "t");
    populate(&d);
    kv_buf chunk[8] = {{0}};
    kv_applied_state sent;
    kv_range_desc other = mkdesc(6, "", "m");
    collect(&other, 0, chunk, 8, &sent);
    kv_snap_receiver *r = receiver(&d);
    add_corrupt(r, chunk[0].data, chunk[0].len, "other range id");
    /* same range id, wider span: keys outside [m, t) */
    kv_range_desc wide = mkdesc(7, "a", "");
    collect(&wide, 0, chunk, 8, &sent);
    add_corrupt(r, chunk[0].data, chunk[0].len, "keys outside the range");
    kv_snap_receiver_close(r);
    assert_no_applied_state(&d);
    kv_buf_free(&chunk[0]);
}

/* A chunk built by hand per the documented format, with a valid checksum,
 * `claimed` as its raw length. */
static void craft(kv_buf *out, const void *raw, size_t len, size_t claimed, bool last)
{
    int bound = LZ4_compressBound((int)len);
    cr_assert_eq(kv_buf_reserve(out, 22 + (size_t)bound), 0);
    uint8_t *p = (uint8_t *)out->data;
    int n = LZ4_compress_default(raw, (char *)p + 22, (int)len, bound);
    cr_assert_gt(n, 0);
    memset(p, 0, 22);
    p[0] = 1;
    p[1] = last;
    p[9] = 7; /* range id 7, sequence 0 */
    for (int i = 0; i < 4; i++)
        p[14 + i] = (uint8_t)(claimed >> (24 - 8 * i));
    uLong crc = crc32(crc32(0L, p, 18), p + 22, (uInt)n);
    for (int i = 0; i < 4; i++)
        p[18 + i] = (uint8_t)(crc >> (24 - 8 * i));
    out->len = 22 + (size_t)n;
}

/* A record: cf, key length, value length, key, value. */
static size_t record(uint8_t *p, uint8_t cf, const void *k, uint32_t kn, const void *v, uint32_t vn)
{
    p[0] = cf;
    for (int i = 0; i < 4; i++) {
        p[1 + i] = (uint8_t)(kn >> (24 - 8 * i));
        p[5 + i] = (uint8_t)(vn >> (24 - 8 * i));
    }
    memcpy(p + 9, k, kn);
    memcpy(p + 9 + kn, v, vn);
    return 9 + kn + vn;
}

Test(snapshot, malformed_records_are_rejected)
{
    kv_range_desc d = mkdesc(7, "m", "t");
    kv_snap_receiver *r = receiver(&d);
    kv_buf c = {0}, mkey = {0};
    cr_assert_eq(kv_mvcc_encode_key(&mkey, "p", 1, NULL), 0);
    uint8_t raw[256], akey[KV_LOCAL_KEY_MAX];
    size_t alen = kv_local_key(akey, 7, KV_LOCAL_APPLIED_STATE, 0);

    size_t n = record(raw, KV_CF_MVCC, mkey.data, (uint32_t)mkey.len, "x", 1);
    craft(&c, raw, n, n, true);
    add_ok(r, &c); /* the well-formed control: then out of sequence below */
    kv_snap_receiver_close(r);
    r = receiver(&d);
    craft(&c, raw, n - 1, n - 1, true);
    add_corrupt(r, c.data, c.len, "record overruns the chunk");
    craft(&c, raw, 5, 5, true);
    add_corrupt(r, c.data, c.len, "truncated record header");
    craft(&c, raw, n, n + 1, true);
    add_corrupt(r, c.data, c.len, "raw length mismatch");
    n = record(raw, 7, mkey.data, (uint32_t)mkey.len, "x", 1);
    craft(&c, raw, n, n, true);
    add_corrupt(r, c.data, c.len, "unknown column family");
    n = record(raw, KV_CF_LOCAL, akey, (uint32_t)alen, "junk", 4);
    craft(&c, raw, n, n, true);
    add_corrupt(r, c.data, c.len, "undecodable applied state");
    craft(&c, raw, 0, 0, true);
    add_ok(r, &c); /* a final chunk without applied state */
    kv_applied_state got;
    cr_assert_eq(kv_snap_receiver_finish(r, &got, err, sizeof err), KV_ECORRUPT);
    kv_snap_receiver_close(r);
    assert_no_applied_state(&d);
    kv_buf_free(&c);
    kv_buf_free(&mkey);
}

Test(snapshot, range_without_applied_state_cannot_be_sent)
{
    kv_range_desc d = mkdesc(42, "m", "t");
    kv_snap_sender *s = NULL;
    kv_applied_state as;
    cr_assert_eq(kv_snap_sender_open(ea, &d, 0, &s, &as, err, sizeof err), KV_ENOTFOUND);
    cr_assert_null(s);
}

/* ---- figure ------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* 50 MB of 1 KiB values (random lowercase text, so lz4 has some work);
 * prints send+receive throughput. Not asserted: the machine is shared. */
Test(snapshot, throughput_of_a_50_mb_range, .timeout = 300)
{
    enum { KEYS = 50 * 1000, VAL = 1000, PER_BATCH = 1000 };
    kv_range_desc d = mkdesc(7, "m", "t");
    kv_applied_state as = mkapplied(50, 4, 1), got;
    put_range_state(ea, &d, &as, 1);
    uint64_t x = 88172645463325252ull;
    char key[16], val[VAL];
    for (int i = 0; i < KEYS; i += PER_BATCH) {
        kv_batch *b;
        cr_assert_eq(kv_batch_create(&b), 0);
        for (int j = i; j < i + PER_BATCH; j++) {
            for (int k = 0; k < VAL; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                val[k] = (char)('a' + x % 26);
            }
            snprintf(key, sizeof key, "p%06d", j);
            kv_mvcc_conflict conf = {0};
            cr_assert_eq(kv_mvcc_put(ea, NULL, b, key, strlen(key), ts_at(100), NULL, val, VAL,
                                     &conf, err, sizeof err),
                         0);
        }
        write_batch(ea, b);
    }
    cr_assert_eq(kv_engine_flush(ea, err, sizeof err), 0);
    double t0 = now_s();
    size_t chunks = stream(&d, 0, &as, &got);
    double dt = now_s() - t0;
    double mb = (double)KEYS * (VAL + 20) / 1e6;
    printf("snapshot: %.1f MB of range data in %zu chunks of 1 MiB: send+receive %.3f s, "
           "%.1f MB/s\n",
           mb, chunks, dt, mb / dt);
    cr_assert_eq(got.index, 50);
}
