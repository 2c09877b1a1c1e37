/*
 * store_test.c - stores and ranges: bootstrap with split points, lookup,
 * reopening, descriptor and transaction record encodings (round trips and
 * every kind of corruption), and the range-key-mismatch error.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kv/local_keys.h"
#include "kv/store_int.h"
#include "store_test_util.h"

static char dir[KV_TEST_PATH_MAX];
static kv_store *store;
static kv_arena *arena;
static const char *const splits[] = {"c", "f", "m", NULL};

static void setup(void)
{
    store = st_open(dir, splits);
    cr_assert_eq(kv_arena_create(&arena), 0);
}

static void teardown(void)
{
    kv_arena_destroy(arena);
    kv_store_close(store);
    kv_test_rmrf(dir);
}

TestSuite(store, .init = setup, .fini = teardown);

/* Asserts that `key` lies in range `id` = [start, end) ("" end: none). */
static void expect_range(kv_store *s, const char *key, uint64_t id, const char *start,
                         const char *end)
{
    kv_range_desc d;
    cr_assert_eq(kv_store_lookup(s, key, strlen(key), arena, &d), 0);
    cr_expect_eq(d.range_id, id, "key %s: range %llu", key, (unsigned long long)d.range_id);
    cr_expect_eq(d.start_len, strlen(start));
    cr_expect(d.start_len == 0 || memcmp(d.start_key, start, d.start_len) == 0);
    cr_expect_eq(d.end_len, strlen(end));
    cr_expect(d.end_len == 0 || memcmp(d.end_key, end, d.end_len) == 0);
    cr_expect_eq(d.n_replicas, 1);
    cr_expect(kv_range_contains(&d, key, strlen(key)));
}

static void expect_layout(kv_store *s)
{
    cr_assert_eq(kv_store_range_count(s), 4);
    expect_range(s, "", 1, "", "c");
    expect_range(s, "a", 1, "", "c");
    expect_range(s, "bzzz", 1, "", "c");
    expect_range(s, "c", 2, "c", "f");
    expect_range(s, "c\x00", 2, "c", "f");
    expect_range(s, "ezz", 2, "c", "f");
    expect_range(s, "f", 3, "f", "m");
    expect_range(s, "m", 4, "m", "");
    expect_range(s, "\xff\xff\xff", 4, "m", "");
}

Test(store, bootstrap_lookup)
{
    expect_layout(store);
}

Test(store, reopen_loads_descriptors)
{
    store = st_reopen(store, dir);
    expect_layout(store);
}

Test(store, bootstrap_refused)
{
    char err[128];
    const uint8_t *k[] = {(const uint8_t *)"x"};
    size_t l[] = {1};
    cr_expect_eq(kv_store_bootstrap(store, k, l, 1, err, sizeof(err)), KV_EINVAL);
    kv_store *s2;
    char dir2[KV_TEST_PATH_MAX];
    kv_test_mkdtemp(dir2);
    cr_assert_eq(kv_store_open(dir2, NULL, &s2, err, sizeof(err)), 0);
    const uint8_t *bad[] = {(const uint8_t *)"b", (const uint8_t *)"a"};
    size_t bl[] = {1, 1};
    cr_expect_eq(kv_store_bootstrap(s2, bad, bl, 2, err, sizeof(err)), KV_EINVAL);
    size_t empty[] = {0};
    cr_expect_eq(kv_store_bootstrap(s2, bad, empty, 1, err, sizeof(err)), KV_EINVAL);
    cr_expect_eq(kv_store_range_count(s2), 0);
    kv_store_close(s2);
    kv_test_rmrf(dir2);
}

static kv_range_desc sample_desc(void)
{
    kv_range_desc d = {.range_id = 0x0102030405060708,
                       .generation = 9,
                       .start_key = (const uint8_t *)"a\x00b",
                       .start_len = 3,
                       .end_key = (const uint8_t *)"q",
                       .end_len = 1,
                       .n_replicas = 2,
                       .replicas = {{1, 2, 3}, {4, 5, 6}}};
    return d;
}

Test(store, descriptor_round_trip)
{
    kv_range_desc d = sample_desc(), out;
    kv_buf b = {0};
    cr_assert_eq(kv__desc_encode(&d, &b), 0);
    cr_assert_eq(b.len, 26 + 3 + 1 + 24);
    cr_assert_eq(kv__desc_decode(b.data, b.len, arena, &out), 0);
    cr_expect_eq(out.range_id, d.range_id);
    cr_expect_eq(out.generation, 9);
    cr_expect(out.start_len == 3 && memcmp(out.start_key, "a\x00b", 3) == 0);
    cr_expect(out.end_len == 1 && out.end_key[0] == 'q');
    cr_expect_eq(out.n_replicas, 2);
    cr_expect_eq(out.replicas[1].replica_id, 6);
    kv_buf_free(&b);
}

Test(store, descriptor_corrupt)
{
    kv_range_desc d = sample_desc(), out;
    kv_buf b = {0};
    cr_assert_eq(kv__desc_encode(&d, &b), 0);
    for (size_t n = 0; n < b.len; n++)
        cr_expect_eq(kv__desc_decode(b.data, n, arena, &out), KV_ECORRUPT, "truncated %zu", n);
    char padded[128];
    memcpy(padded, b.data, b.len);
    padded[b.len] = 0;
    cr_expect_eq(kv__desc_decode(padded, b.len + 1, arena, &out), KV_ECORRUPT);
    b.data[0] = 2; /* version */
    cr_expect_eq(kv__desc_decode(b.data, b.len, arena, &out), KV_ECORRUPT);
    b.data[0] = 1;
    b.data[20] = 40; /* start length overruns */
    cr_expect_eq(kv__desc_decode(b.data, b.len, arena, &out), KV_ECORRUPT);
    b.data[20] = 3;
    b.data[29] = 0; /* replica count 0 */
    cr_expect_eq(kv__desc_decode(b.data, b.len, arena, &out), KV_ECORRUPT);
    b.data[29] = 2;
    b.data[28] = 'a'; /* end "a" below start "a\0b" */
    cr_expect_eq(kv__desc_decode(b.data, b.len, arena, &out), KV_ECORRUPT);
    kv_buf_free(&b);
}

Test(store, corrupt_descriptor_on_disk)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    size_t klen = kv_local_key(key, 3, KV_LOCAL_DESCRIPTOR, 0);
    kv_batch *b;
    cr_assert_eq(kv_batch_create(&b), 0);
    cr_assert_eq(kv_batch_put(b, kv_store_engine(store), KV_CF_LOCAL, key, klen, "\x01junk", 5), 0);
    cr_assert_eq(kv_engine_write(kv_store_engine(store), b, true, NULL, 0), 0);
    kv_batch_destroy(b);
    kv_store_close(store);
    char err[256] = "";
    store = NULL;
    cr_expect_eq(kv_store_open(dir, NULL, &store, err, sizeof(err)), KV_ECORRUPT);
    cr_expect(strstr(err, "descriptor") != NULL, "%s", err);
    cr_expect_null(store);
}

Test(store, range_key_mismatch)
{
    kv__replica *r1 = kv__store_replica_for(store, "a", 1, false);
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    cr_assert_eq(kv_response_init(&resp), 0);
    st_get(&req, "b");
    st_get(&req, "g");
    cr_expect_eq(kv__replica_send(r1, &req, &resp), KV_ERANGEKEYMISMATCH);
    cr_expect_eq(resp.detail.index, 1);
    cr_expect_eq(resp.detail.desc.range_id, 3);
    cr_expect(resp.detail.desc.start_len == 1 && resp.detail.desc.start_key[0] == 'f');
    kv_response_free(&resp);
    /* A scan running past the range's end is outside it too. */
    cr_assert_eq(kv_response_init(&resp), 0);
    kv_request_free(&req);
    cr_assert_eq(kv_request_init(&req), 0);
    st_scan(&req, KV_SCAN, "a", "d", 0, 0);
    cr_expect_eq(kv__replica_send(r1, &req, &resp), KV_ERANGEKEYMISMATCH);
    kv_response_free(&resp);
    kv_request_free(&req);
}

Test(store, txn_record_round_trip_and_corrupt)
{
    kv_span locks[] = {{(const uint8_t *)"a", 1, NULL, 0},
                       {(const uint8_t *)"b", 1, (const uint8_t *)"bz", 2}};
    kv__txn_record rec = {.status = KV_TXN_STATE_COMMITTED,
                          .epoch = 3,
                          .priority = -7,
                          .write_ts = {123, 4},
                          .heartbeat = {99, 1},
                          .lock_spans = locks,
                          .n_lock_spans = 2};
    kv_buf b = {0};
    kv__txn_record out;
    cr_assert_eq(kv__txn_record_encode(&rec, &b), 0);
    cr_assert_eq(kv__txn_record_decode(b.data, b.len, arena, &out), 0);
    cr_expect_eq(out.status, KV_TXN_STATE_COMMITTED);
    cr_expect_eq(out.priority, -7);
    cr_expect_eq(kv_ts_cmp(out.write_ts, rec.write_ts), 0);
    cr_expect_eq(out.n_lock_spans, 2);
    cr_expect_null(out.lock_spans[0].end_key);
    cr_expect(out.lock_spans[1].end_len == 2 && memcmp(out.lock_spans[1].end_key, "bz", 2) == 0);
    for (size_t n = 0; n < b.len; n++)
        cr_expect_eq(kv__txn_record_decode(b.data, n, arena, &out), KV_ECORRUPT, "cut %zu", n);
    b.data[1] = 3; /* unknown status */
    cr_expect_eq(kv__txn_record_decode(b.data, b.len, arena, &out), KV_ECORRUPT);
    b.data[1] = 1;
    b.data[37] = 200; /* span count beyond the bytes */
    cr_expect_eq(kv__txn_record_decode(b.data, b.len, arena, &out), KV_ECORRUPT);
    kv_buf_free(&b);
}
