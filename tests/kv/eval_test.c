/*
 * eval_test.c - the KV API without transactions, through kv_store_send:
 * every request type, limits and resume spans on scans across ranges,
 * timestamps chosen and moved up by the replica (timestamp cache, newer
 * versions), conflicts with intents, and refused batch shapes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kv/hlc.h"
#include "store_test_util.h"

static char buf[64];

TestSuite(eval, .init = st_setup, .fini = st_teardown);

static kv_request new_req(void)
{
    kv_request r;
    cr_assert_eq(kv_request_init(&r), 0);
    return r;
}

Test(eval, put_get_delete)
{
    cr_assert_eq(st_put1(st_store, "a", "1"), 0);
    cr_assert_eq(st_put1(st_store, "d", "2"), 0);
    cr_expect_str_eq(st_get1(st_store, "a", buf, NULL), "1");
    cr_expect_str_eq(st_get1(st_store, "d", buf, NULL), "2");
    cr_expect_null(st_get1(st_store, "b", buf, NULL));
    kv_request r = new_req();
    kv_response resp;
    st_del(&r, "a");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    cr_expect_gt(resp.ts.wall, 0);
    kv_response_free(&resp);
    cr_expect_null(st_get1(st_store, "a", buf, NULL));
    /* A batch of reads spanning ranges, answered in request order. */
    r = new_req();
    st_get(&r, "d");
    st_get(&r, "a");
    st_get(&r, "x");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    cr_assert_eq(resp.n, 3);
    cr_expect(resp.resps[0].found && resp.resps[0].row.value[0] == '2');
    cr_expect(!resp.resps[1].found && !resp.resps[2].found);
    kv_response_free(&resp);
}

static int cput(const char *key, const char *val, const char *exp, kv_response *resp)
{
    kv_request r = new_req();
    kv_req q = {.method = KV_CPUT, .span = {(const uint8_t *)key, strlen(key), NULL, 0}};
    q.u.cput.value = (const uint8_t *)val;
    q.u.cput.value_len = strlen(val);
    q.u.cput.exp_exists = exp != NULL;
    q.u.cput.exp = (const uint8_t *)exp;
    q.u.cput.exp_len = exp != NULL ? strlen(exp) : 0;
    cr_assert_eq(kv_request_add(&r, &q), 0);
    return st_send(st_store, &r, resp);
}

Test(eval, conditional_put)
{
    kv_response resp;
    cr_expect_eq(cput("k", "v1", NULL, &resp), 0);
    kv_response_free(&resp);
    cr_expect_eq(cput("k", "v2", NULL, &resp), KV_ECONDFAILED);
    cr_expect(resp.detail.actual_exists);
    cr_expect(resp.detail.actual_len == 2 && memcmp(resp.detail.actual, "v1", 2) == 0);
    kv_response_free(&resp);
    cr_expect_eq(cput("k", "v2", "v9", &resp), KV_ECONDFAILED);
    kv_response_free(&resp);
    cr_expect_eq(cput("k", "v2", "v1", &resp), 0);
    kv_response_free(&resp);
    cr_expect_str_eq(st_get1(st_store, "k", buf, NULL), "v2");
    cr_expect_eq(cput("absent", "x", "v", &resp), KV_ECONDFAILED);
    cr_expect(!resp.detail.actual_exists);
    kv_response_free(&resp);
}

static int inc(const char *key, int64_t delta, int64_t *out)
{
    kv_request r = new_req();
    kv_req q = {.method = KV_INCREMENT, .span = {(const uint8_t *)key, strlen(key), NULL, 0}};
    q.u.inc.delta = delta;
    cr_assert_eq(kv_request_add(&r, &q), 0);
    kv_response resp;
    int rc = st_send(st_store, &r, &resp);
    if (rc == 0)
        *out = resp.resps[0].new_value;
    kv_response_free(&resp);
    return rc;
}

Test(eval, increment)
{
    int64_t v = 0;
    cr_expect_eq(inc("n", 5, &v), 0);
    cr_expect_eq(v, 5);
    cr_expect_eq(inc("n", -7, &v), 0);
    cr_expect_eq(v, -2);
    cr_expect_eq(inc("n", INT64_MAX, &v), 0);
    cr_expect_eq(inc("n", INT64_MAX, &v), KV_EINVAL, "overflow");
    cr_assert_eq(st_put1(st_store, "s", "text"), 0);
    cr_expect_eq(inc("s", 1, &v), KV_EINVAL, "not an integer");
}

static void fill(void)
{
    const char *keys[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    for (size_t i = 0; i < 8; i++)
        cr_assert_eq(st_put1(st_store, keys[i], keys[i]), 0);
}

/* Scans [start, end) with the limits and checks the keys returned (as one
 * string) and the resume span ("" for none; `nul`: its end is re + "\0",
 * how a reverse scan stopped inside a range says "up to and including"). */
static void expect_scan(kv_method m, const char *start, const char *end, size_t rows, size_t bytes,
                        const char *keys, const char *rs, const char *re, bool nul)
{
    kv_request r = new_req();
    kv_response resp;
    st_scan(&r, m, start, end, rows, bytes);
    cr_assert_eq(st_send(st_store, &r, &resp), 0, "%s", resp.msg);
    char got[32] = "";
    for (size_t i = 0; i < resp.resps[0].n_rows; i++)
        strncat(got, (const char *)resp.resps[0].rows[i].key, 1);
    cr_expect_str_eq(got, keys, "scan [%s,%s) rows %zu bytes %zu", start, end, rows, bytes);
    const kv_span *res = &resp.resps[0].resume;
    if (*rs == 0 && *re == 0) {
        cr_expect_null(res->key, "unexpected resume span");
    } else {
        cr_assert_not_null(res->key, "no resume span");
        cr_expect(res->key_len == strlen(rs) && memcmp(res->key, rs, res->key_len) == 0);
        size_t elen = strlen(re) + nul;
        cr_expect(res->end_len == elen && memcmp(res->end_key, re, elen) == 0, "resume end %.*s",
                  (int)res->end_len, (const char *)res->end_key);
    }
    kv_response_free(&resp);
}

Test(eval, scans_across_ranges)
{
    fill();
    expect_scan(KV_SCAN, "a", "z", 0, 0, "abcdefgh", "", "", false);
    expect_scan(KV_SCAN, "b", "g", 0, 0, "bcdef", "", "", false);
    expect_scan(KV_SCAN, "a", "z", 3, 0, "abc", "d", "z", false);
    expect_scan(KV_SCAN, "d", "z", 3, 0, "def", "g", "z", false);
    expect_scan(KV_SCAN, "a", "z", 2, 0, "ab", "c", "z", false);  /* limit at a range end */
    expect_scan(KV_SCAN, "a", "c", 2, 0, "ab", "", "", false);    /* ... and nothing after */
    expect_scan(KV_SCAN, "a", "z", 0, 5, "abc", "d", "z", false); /* 2 bytes a row */
    expect_scan(KV_SCAN, "a", "z", 0, 1, "a", "b", "z", false);   /* at least one row */
    expect_scan(KV_REVERSE_SCAN, "a", "z", 0, 0, "hgfedcba", "", "", false);
    expect_scan(KV_REVERSE_SCAN, "a", "z", 3, 0, "hgf", "a", "f", false);
    expect_scan(KV_REVERSE_SCAN, "a", "g", 3, 0, "fed", "a", "c", true);
    expect_scan(KV_REVERSE_SCAN, "a", "f", 3, 0, "edc", "a", "c", false);
    expect_scan(KV_REVERSE_SCAN, "a", "z", 0, 4, "hg", "a", "f", true);
    expect_scan(KV_SCAN, "x", "z", 0, 0, "", "", "", false);
}

Test(eval, resume_continues_scan)
{
    fill();
    char got[32] = "";
    kv_span next = {(const uint8_t *)"a", 1, (const uint8_t *)"z", 1};
    kv_response prev = {0};
    for (int round = 0; next.key != NULL; round++) {
        cr_assert_lt(round, 10);
        kv_request r = new_req();
        kv_req q = {.method = KV_SCAN, .span = next};
        q.u.scan.max_rows = 3;
        cr_assert_eq(kv_request_add(&r, &q), 0);
        kv_response_free(&prev);
        kv_response resp;
        cr_assert_eq(st_send(st_store, &r, &resp), 0);
        for (size_t i = 0; i < resp.resps[0].n_rows; i++)
            strncat(got, (const char *)resp.resps[0].rows[i].key, 1);
        next = resp.resps[0].resume;
        prev = resp;
    }
    kv_response_free(&prev);
    cr_expect_str_eq(got, "abcdefgh");
}

Test(eval, resume_continues_reverse_scan)
{
    fill();
    char got[32] = "";
    kv_span next = {(const uint8_t *)"a", 1, (const uint8_t *)"z", 1};
    kv_response prev = {0};
    for (int round = 0; next.key != NULL; round++) {
        cr_assert_lt(round, 10);
        kv_request r = new_req();
        kv_req q = {.method = KV_REVERSE_SCAN, .span = next};
        q.u.scan.max_rows = 2;
        cr_assert_eq(kv_request_add(&r, &q), 0);
        kv_response_free(&prev);
        kv_response resp;
        cr_assert_eq(st_send(st_store, &r, &resp), 0);
        for (size_t i = 0; i < resp.resps[0].n_rows; i++)
            strncat(got, (const char *)resp.resps[0].rows[i].key, 1);
        next = resp.resps[0].resume;
        prev = resp;
    }
    kv_response_free(&prev);
    cr_expect_str_eq(got, "hgfedcba");
}

Test(eval, delete_range)
{
    fill();
    kv_request r = new_req();
    kv_response resp;
    kv_req q = {.method = KV_DELETE_RANGE,
                .span = {(const uint8_t *)"c", 1, (const uint8_t *)"e", 1}};
    cr_assert_eq(kv_request_add(&r, &q), 0);
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    cr_expect_eq(resp.resps[0].n_deleted, 2);
    kv_response_free(&resp);
    expect_scan(KV_SCAN, "a", "z", 0, 0, "abefgh", "", "", false);
    /* Across ranges a non-transactional delete is refused: not atomic. */
    r = new_req();
    q.span = (kv_span){(const uint8_t *)"a", 1, (const uint8_t *)"z", 1};
    cr_assert_eq(kv_request_add(&r, &q), 0);
    cr_expect_eq(st_send(st_store, &r, &resp), KV_EINVAL);
    kv_response_free(&resp);
    expect_scan(KV_SCAN, "a", "z", 0, 0, "abefgh", "", "", false);
}

/* Reads `key` at an explicit timestamp. */
static void read_at(const char *key, kv_ts ts)
{
    kv_request r = new_req();
    kv_response resp;
    r.h.ts = ts;
    st_get(&r, key);
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    kv_response_free(&resp);
}

Test(eval, write_moves_above_reads)
{
    kv_ts now = kv_hlc_now(kv_store_clock(st_store));
    kv_ts later = {now.wall + 1000, 0};
    read_at("a", later);
    kv_request r = new_req();
    kv_response resp;
    st_put(&r, "a", "v");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    cr_expect_gt(kv_ts_cmp(resp.ts, later), 0, "write at %lld.%d", (long long)resp.ts.wall,
                 resp.ts.logical);
    kv_response_free(&resp);
    /* The clock moved past the write, so the next read sees it. */
    cr_expect_str_eq(st_get1(st_store, "a", buf, NULL), "v");
    /* Reads of other keys do not push the write. */
    read_at("b", (kv_ts){now.wall + 5000, 0});
    r = new_req();
    st_put(&r, "a", "w");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    cr_expect_lt(resp.ts.wall, now.wall + 5000);
    kv_response_free(&resp);
}

Test(eval, write_moves_above_newer_version)
{
    kv_ts now = kv_hlc_now(kv_store_clock(st_store));
    kv_request r = new_req();
    kv_response resp;
    r.h.ts = (kv_ts){now.wall + 2000, 3};
    st_put(&r, "a", "future");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    kv_response_free(&resp);
    r = new_req();
    st_put(&r, "a", "now");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    cr_expect_gt(kv_ts_cmp(resp.ts, (kv_ts){now.wall + 2000, 3}), 0);
    kv_response_free(&resp);
    cr_expect_str_eq(st_get1(st_store, "a", buf, NULL), "now");
}

Test(eval, read_meets_intent)
{
    kv_request r = new_req();
    kv_response resp;
    kv_txn t = st_txn(7, kv_hlc_now(kv_store_clock(st_store)));
    cr_assert_eq(kv_request_set_txn(&r, &t), 0);
    st_put(&r, "b", "tx");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    kv_response_free(&resp);
    /* no_wait: the live transaction cannot be pushed, so report it. */
    r = new_req();
    r.h.no_wait = true;
    st_get(&r, "b");
    cr_expect_eq(st_send(st_store, &r, &resp), KV_EWRITEINTENT);
    kv_response_free(&resp);
    r = new_req();
    r.h.no_wait = true;
    st_scan(&r, KV_SCAN, "a", "z", 0, 0);
    cr_expect_eq(st_send(st_store, &r, &resp), KV_EWRITEINTENT);
    cr_expect_eq(resp.detail.intent.txn.id[0], 7);
    cr_expect(resp.detail.intent_key.key_len == 1 && resp.detail.intent_key.key[0] == 'b');
    kv_response_free(&resp);
    r = new_req();
    r.h.no_wait = true;
    st_put(&r, "b", "plain");
    cr_expect_eq(st_send(st_store, &r, &resp), KV_EWRITEINTENT);
    kv_response_free(&resp);
}

Test(eval, refused_batches)
{
    kv_request r = new_req();
    kv_response resp;
    st_put(&r, "a", "1");
    st_get(&r, "a");
    cr_expect_eq(st_send(st_store, &r, &resp), KV_EINVAL, "read after write in one batch");
    kv_response_free(&resp);
    r = new_req();
    st_scan(&r, KV_SCAN, "a", "z", 0, 0);
    st_scan(&r, KV_REVERSE_SCAN, "a", "z", 0, 0);
    cr_expect_eq(st_send(st_store, &r, &resp), KV_EINVAL);
    kv_response_free(&resp);
    r = new_req();
    kv_req q = {.method = KV_SCAN, .span = {(const uint8_t *)"b", 1, NULL, 0}};
    cr_expect_eq(kv_request_add(&r, &q), KV_EINVAL, "scan without an end");
    q.span.end_key = (const uint8_t *)"a";
    q.span.end_len = 1;
    cr_expect_eq(kv_request_add(&r, &q), KV_EINVAL, "empty span");
    q.method = KV_METHOD_COUNT;
    cr_expect_eq(kv_request_add(&r, &q), KV_EINVAL);
    kv_request_free(&r);
    cr_expect(kv_err_retryable(KV_ETXNRETRY) && !kv_err_retryable(KV_EINVAL));
    cr_expect(kv_err_ambiguous(KV_EAMBIGUOUS) && !kv_err_ambiguous(KV_ETXNRETRY));
}
