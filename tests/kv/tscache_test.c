/*
 * tscache_test.c - the timestamp cache: single keys and spans, the
 * transaction-id rules, the low-water mark, eviction raising it, and answers
 * compared with a brute-force model over many random seeds.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_error.h"
#include "kv/tscache.h"

#define BIG (64u << 20)

static const uint8_t txn_a[KV_TXN_ID_LEN] = {1};
static const uint8_t txn_b[KV_TXN_ID_LEN] = {2};

static kv_ts ts(int64_t wall)
{
    return (kv_ts){wall, 0};
}

static kv_tscache *make(size_t max_bytes, int64_t low_water)
{
    kv_tscache *c;
    cr_assert_eq(kv_tscache_create(max_bytes, ts(low_water), &c), 0);
    return c;
}

static void add_key(kv_tscache *c, const char *k, int64_t wall, const uint8_t *txn)
{
    cr_assert_eq(kv_tscache_add(c, k, strlen(k), NULL, 0, ts(wall), txn), 0);
}

static void add_span(kv_tscache *c, const char *s, const char *e, int64_t wall, const uint8_t *txn)
{
    cr_assert_eq(kv_tscache_add(c, s, strlen(s), e, strlen(e), ts(wall), txn), 0);
}

static kv_tscache_value get(kv_tscache *c, const char *k)
{
    kv_tscache_value v;
    cr_assert_eq(kv_tscache_lookup(c, k, strlen(k), &v), 0);
    return v;
}

static void expect(kv_tscache_value v, int64_t wall, const uint8_t *txn)
{
    cr_assert_eq(v.ts.wall, wall, "ts %ld, want %ld", (long)v.ts.wall, (long)wall);
    cr_assert_eq(v.has_txn, txn != NULL, "has_txn %d", v.has_txn);
    if (txn != NULL)
        cr_assert_arr_eq(v.txn_id, txn, KV_TXN_ID_LEN);
}

Test(tscache, an_empty_cache_answers_the_low_water_mark)
{
    kv_tscache *c = make(BIG, 7);
    expect(get(c, "a"), 7, NULL);
    expect(get(c, ""), 7, NULL);
    kv_tscache_destroy(c);
}

Test(tscache, keys_and_spans_touch_only_what_they_cover)
{
    kv_tscache *c = make(BIG, 0);
    add_key(c, "k", 10, NULL);
    add_span(c, "m", "p", 20, NULL);
    expect(get(c, "k"), 10, NULL);
    kv_tscache_value v;
    cr_assert_eq(kv_tscache_lookup(c, "k\0", 2, &v), 0);
    expect(v, 0, NULL); /* "k" only, not its successor */
    expect(get(c, "j"), 0, NULL);
    expect(get(c, "m"), 20, NULL);
    expect(get(c, "p"), 0, NULL); /* end-exclusive */
    expect(get(c, "o"), 20, NULL);
    add_span(c, "a", "z", 5, NULL); /* under the key's own read */
    expect(get(c, "k"), 10, NULL);
    expect(get(c, "b"), 5, NULL);
    kv_tscache_destroy(c);
}

Test(tscache, the_maximum_names_a_transaction_only_when_it_is_the_only_owner)
{
    kv_tscache *c = make(BIG, 0);
    add_key(c, "a", 10, txn_a);
    add_key(c, "b", 10, txn_a);
    expect(get(c, "a"), 10, txn_a);
    add_key(c, "c", 10, txn_b);
    add_span(c, "a", "d", 10, txn_a); /* txn_a's own read of a and b; c shared */
    expect(get(c, "b"), 10, txn_a);
    expect(get(c, "c"), 10, NULL);
    add_key(c, "d", 10, NULL);
    expect(get(c, "d"), 10, NULL);
    add_key(c, "c", 11, txn_b);
    expect(get(c, "c"), 11, txn_b);
    add_key(c, "a", 10, txn_b); /* same ts as txn_a's read of a */
    expect(get(c, "a"), 10, NULL);
    kv_tscache_destroy(c);
}

Test(tscache, answers_never_go_below_the_low_water_mark)
{
    kv_tscache *c = make(BIG, 0);
    add_key(c, "a", 10, txn_a);
    add_key(c, "b", 30, txn_a);
    kv_tscache_set_low_water(c, ts(20));
    cr_assert_eq(kv_tscache_low_water(c).wall, 20);
    expect(get(c, "a"), 20, NULL);
    expect(get(c, "b"), 30, txn_a);
    kv_tscache_set_low_water(c, ts(5)); /* never lowered */
    cr_assert_eq(kv_tscache_low_water(c).wall, 20);
    size_t before = kv_tscache_bytes(c);
    add_key(c, "c", 20, txn_b); /* at the mark: changes nothing, not stored */
    cr_assert_eq(kv_tscache_bytes(c), before);
    expect(get(c, "c"), 20, NULL);
    kv_tscache_set_low_water(c, ts(30));
    expect(get(c, "b"), 30, NULL); /* a tie with the mark has no owner */
    cr_assert_eq(kv_tscache_bytes(c), 0);
    kv_tscache_destroy(c);
}

Test(tscache, eviction_raises_the_low_water_mark_to_what_it_dropped)
{
    kv_tscache *c = make(BIG, 0);
    add_key(c, "x", 1, NULL);
    size_t one = kv_tscache_bytes(c);
    kv_tscache_destroy(c);

    c = make(3 * one, 0);
    add_key(c, "a", 50, txn_a);
    add_key(c, "b", 20, txn_a);
    add_key(c, "c", 40, txn_a);
    cr_assert_eq(kv_tscache_low_water(c).wall, 0);
    add_key(c, "d", 10, txn_b); /* drops a@50 */
    cr_assert_eq(kv_tscache_low_water(c).wall, 50);
    cr_assert_leq(kv_tscache_bytes(c), 3 * one);
    expect(get(c, "a"), 50, NULL);
    expect(get(c, "z"), 50, NULL);
    add_key(c, "e", 60, txn_b); /* drops b@20: the mark stays at 50 */
    cr_assert_eq(kv_tscache_low_water(c).wall, 50);
    expect(get(c, "e"), 60, txn_b);
    kv_tscache_destroy(c);
}

Test(tscache, repeated_reads_of_a_key_do_not_accumulate)
{
    kv_tscache *c = make(BIG, 0);
    add_key(c, "k", 1, NULL);
    size_t one = kv_tscache_bytes(c);
    for (int64_t t = 2; t < 1000; t++)
        add_key(c, "k", t, t % 2 ? txn_a : NULL);
    cr_assert_eq(kv_tscache_bytes(c), one);
    expect(get(c, "k"), 999, txn_a);
    add_key(c, "k", 5, txn_b); /* older than the record: changes nothing */
    cr_assert_eq(kv_tscache_bytes(c), one);
    expect(get(c, "k"), 999, txn_a);
    /* A span read re-read at higher timestamps replaces itself too. */
    add_span(c, "a", "m", 5, NULL);
    size_t with_span = kv_tscache_bytes(c);
    for (int64_t t = 6; t < 100; t++)
        add_span(c, "a", "m", t, txn_b);
    cr_assert_eq(kv_tscache_bytes(c), with_span);
    expect(get(c, "b"), 99, txn_b);
    add_span(c, "a", "z", 999, txn_b); /* covers k at the same ts: both kept */
    expect(get(c, "k"), 999, NULL);
    kv_tscache_destroy(c);
}

Test(tscache, invalid_arguments_are_refused)
{
    kv_tscache *c;
    cr_assert_eq(kv_tscache_create(0, ts(0), &c), KV_EINVAL);
    c = make(BIG, 0);
    cr_assert_eq(kv_tscache_add(c, "b", 1, "a", 1, ts(1), NULL), KV_EINVAL);
    cr_assert_eq(kv_tscache_add(c, "b", 1, "b", 1, ts(1), NULL), KV_EINVAL);
    cr_assert_eq(kv_tscache_add(c, "b", 1, NULL, 0, ts(0), NULL), KV_EINVAL);
    kv_tscache_destroy(c);
}

/* The model: every read ever added, as materialised byte strings. Keys are
 * up to two bytes from {0x00, 'a', 'b'}, so the successor of a single key
 * (k\0) coincides with other keys and shared boundaries are common. */
#define MODEL_OPS 600

struct mread {
    uint8_t s[3], e[4];
    size_t sl, el;
    kv_ts ts;
    const uint8_t *txn;
};

static bool bytes_lt(const uint8_t *x, size_t xl, const uint8_t *y, size_t yl)
{
    int c = memcmp(x, y, xl < yl ? xl : yl);
    return c < 0 || (c == 0 && xl < yl);
}

static bool mread_overlaps(const struct mread *a, const struct mread *b)
{
    return bytes_lt(a->s, a->sl, b->e, b->el) && bytes_lt(b->s, b->sl, a->e, a->el);
}

/* A random span; *single says whether it is passed as one key. */
static void random_span(unsigned *seed, struct mread *r, bool *single)
{
    static const uint8_t alphabet[] = {0x00, 'a', 'b'};
    r->sl = (size_t)(rand_r(seed) % 3);
    for (size_t i = 0; i < r->sl; i++)
        r->s[i] = alphabet[rand_r(seed) % 3];
    *single = rand_r(seed) % 3 == 0;
    r->el = (size_t)(rand_r(seed) % 3);
    for (size_t i = 0; i < r->el; i++)
        r->e[i] = alphabet[rand_r(seed) % 3];
    if (*single || !bytes_lt(r->s, r->sl, r->e, r->el)) {
        *single = true;
        memcpy(r->e, r->s, r->sl);
        r->e[r->sl] = 0;
        r->el = r->sl + 1;
    }
}

static kv_tscache_value model_lookup(const struct mread *reads, int n, kv_ts low_water,
                                     const struct mread *q)
{
    kv_tscache_value v = {.ts = low_water};
    const uint8_t *owner = NULL;
    int owners = 1; /* the low-water mark, owned by no transaction */
    for (int i = 0; i < n; i++) {
        if (!mread_overlaps(&reads[i], q))
            continue;
        int c = kv_ts_cmp(reads[i].ts, v.ts);
        if (c > 0) {
            v.ts = reads[i].ts;
            owner = reads[i].txn;
            owners = 1;
        } else if (c == 0 && (owner == NULL || reads[i].txn != owner)) {
            owners++;
        }
    }
    v.has_txn = owners == 1 && owner != NULL;
    if (v.has_txn)
        memcpy(v.txn_id, owner, KV_TXN_ID_LEN);
    return v;
}

/* Runs random adds, low-water raises and lookups on a cache of max_bytes.
 * Without eviction answers must equal the model's; with it they may only
 * be higher, and only up to the low-water mark. */
static void run_model(unsigned seed, size_t max_bytes, bool exact)
{
    static struct mread reads[MODEL_OPS];
    const uint8_t *txns[] = {NULL, txn_a, txn_b};
    kv_tscache *c = make(max_bytes, 0);
    kv_ts low_water = ts(0);
    int n = 0;
    unsigned rs = seed;
    for (int op = 0; op < MODEL_OPS; op++) {
        struct mread r;
        bool single;
        random_span(&rs, &r, &single);
        r.ts = (kv_ts){1 + rand_r(&rs) % 20, rand_r(&rs) % 2};
        r.txn = txns[rand_r(&rs) % 3];
        int what = rand_r(&rs) % 40;
        if (what < 20) {
            cr_assert_eq(kv_tscache_add(c, r.s, r.sl, single ? NULL : r.e, r.el, r.ts, r.txn), 0);
            reads[n++] = r;
        } else if (what == 20 && exact) {
            kv_tscache_set_low_water(c, r.ts);
            if (kv_ts_cmp(r.ts, low_water) > 0)
                low_water = r.ts;
        } else {
            /* Writes ask about one key: the lookup is the span's start. */
            memcpy(r.e, r.s, r.sl);
            r.e[r.sl] = 0;
            r.el = r.sl + 1;
            kv_tscache_value got, want = model_lookup(reads, n, low_water, &r);
            cr_assert_eq(kv_tscache_lookup(c, r.s, r.sl, &got), 0);
            kv_ts lw = kv_tscache_low_water(c);
            if (exact || kv_ts_cmp(got.ts, want.ts) == 0) {
                cr_assert_eq(kv_ts_cmp(got.ts, want.ts), 0, "seed %u op %d: ts %ld.%d want %ld.%d",
                             seed, op, (long)got.ts.wall, got.ts.logical, (long)want.ts.wall,
                             want.ts.logical);
                cr_assert_eq(got.has_txn, want.has_txn && kv_ts_cmp(lw, got.ts) < 0,
                             "seed %u op %d", seed, op);
                if (got.has_txn)
                    cr_assert_arr_eq(got.txn_id, want.txn_id, KV_TXN_ID_LEN);
            } else {
                cr_assert_gt(kv_ts_cmp(got.ts, want.ts), 0, "seed %u op %d: below the model", seed,
                             op);
                cr_assert_eq(kv_ts_cmp(got.ts, lw), 0, "seed %u op %d", seed, op);
                cr_assert_not(got.has_txn);
            }
        }
    }
    cr_assert_leq(kv_tscache_bytes(c), max_bytes);
    kv_tscache_destroy(c);
}

Test(tscache, answers_match_a_brute_force_model)
{
    for (unsigned seed = 1; seed <= 200; seed++)
        run_model(seed, BIG, true);
}

Test(tscache, eviction_only_ever_raises_answers)
{
    for (unsigned seed = 1; seed <= 200; seed++)
        run_model(seed, 2048, false);
}
