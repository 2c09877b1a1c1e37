/*
 * txn_test.c - transactions through kv_store_send: intents, commit by the
 * record on the anchor's range with synchronous resolution (on its own
 * range and on others), abort, one-phase commit leaving no record or
 * intent, and the retryable error of a transaction whose write timestamp
 * was pushed.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kv/hlc.h"
#include "kv/local_keys.h"
#include "kv/store_int.h"
#include "store_test_util.h"

static char buf[64];

TestSuite(txn, .init = st_setup, .fini = st_teardown);

static kv_txn begin(uint8_t id)
{
    return st_txn(id, kv_hlc_now(kv_store_clock(st_store)));
}

/* Sends `req` in transaction *t and updates *t from the response. */
static int send_txn(kv_txn *t, kv_request *req, kv_response *resp)
{
    cr_assert_eq(kv_request_set_txn(req, t), 0);
    int rc = st_send(st_store, req, resp);
    if (rc == 0) {
        cr_assert(resp->has_txn);
        *t = resp->txn; /* borrowed from resp: keep resp until t is done */
    }
    return rc;
}

static kv_request new_req(void)
{
    kv_request r;
    cr_assert_eq(kv_request_init(&r), 0);
    return r;
}

/* The record of transaction `id` anchored at `anchor`, or false. */
static bool record(const char *anchor, uint8_t id, kv__txn_record *out, kv_arena *a)
{
    kv_buf key = {0}, val = {0};
    uint8_t tid[KV_TXN_ID_LEN] = {id};
    cr_assert_eq(kv__txn_record_key(&key, anchor, strlen(anchor), tid), 0);
    int rc = kv_engine_get(kv_store_engine(st_store), NULL, KV_CF_LOCAL, key.data, key.len, &val,
                           NULL, 0);
    if (rc == 0)
        cr_assert_eq(kv__txn_record_decode(val.data, val.len, a, out), 0);
    else
        cr_assert_eq(rc, KV_ENOTFOUND);
    kv_buf_free(&key);
    kv_buf_free(&val);
    return rc == 0;
}

/* No intent metadata key anywhere in the MVCC data. */
static void expect_no_intents(void)
{
    kv_request r = new_req();
    kv_response resp;
    st_scan(&r, KV_SCAN, "", "\xff", 0, 0);
    cr_expect_eq(st_send(st_store, &r, &resp), 0, "an intent remains: %s", resp.msg);
    kv_response_free(&resp);
}

Test(txn, writes_leave_intents_seen_by_owner)
{
    kv_txn t = begin(1);
    kv_request r = new_req();
    kv_response w, rd;
    st_put(&r, "a", "1");
    cr_assert_eq(send_txn(&t, &r, &w), 0);
    cr_expect(t.anchor_len == 1 && t.anchor_key[0] == 'a', "anchor set by the first write");
    r = new_req();
    r.h.no_wait = true; /* the live writer cannot be pushed: report it */
    st_get(&r, "a");
    cr_expect_eq(st_send(st_store, &r, &rd), KV_EWRITEINTENT);
    kv_response_free(&rd);
    r = new_req();
    st_get(&r, "a");
    cr_assert_eq(send_txn(&t, &r, &rd), 0);
    cr_expect(rd.resps[0].found && rd.resps[0].row.value[0] == '1');
    kv_response_free(&rd);
    kv_response_free(&w);
}

/* Writes a (range 1) and e (range 2) in separate batches, then ends the
 * transaction with both as lock spans. */
static int write_two_and_end(kv_txn *t, bool commit, kv_response *end)
{
    kv_request r = new_req();
    kv_response w1, w2;
    st_put(&r, "a", "A");
    cr_assert_eq(send_txn(t, &r, &w1), 0);
    r = new_req();
    st_put(&r, "e", "E");
    cr_assert_eq(send_txn(t, &r, &w2), 0);
    kv_span locks[] = {{(const uint8_t *)"a", 1, NULL, 0}, {(const uint8_t *)"e", 1, NULL, 0}};
    r = new_req();
    st_end(&r, commit, locks, 2);
    int rc = send_txn(t, &r, end);
    kv_response_free(&w2);
    kv_response_free(&w1);
    return rc;
}

Test(txn, commit_resolves_intents_everywhere)
{
    kv_txn t = begin(2);
    kv_response end;
    cr_assert_eq(write_two_and_end(&t, true, &end), 0, "%s", end.msg);
    cr_expect_eq(t.status, KV_TXN_STATE_COMMITTED);
    kv_response_free(&end);
    cr_expect_str_eq(st_get1(st_store, "a", buf, NULL), "A");
    cr_expect_str_eq(st_get1(st_store, "e", buf, NULL), "E");
    expect_no_intents();
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv__txn_record rec;
    cr_assert(record("a", 2, &rec, a), "the record is on the anchor's range");
    cr_expect_eq(rec.status, KV_TXN_STATE_COMMITTED);
    cr_expect_eq(rec.n_lock_spans, 2);
    kv_arena_destroy(a);
}

Test(txn, abort_removes_intents)
{
    cr_assert_eq(st_put1(st_store, "e", "old"), 0);
    kv_txn t = begin(3);
    kv_response end;
    cr_assert_eq(write_two_and_end(&t, false, &end), 0, "%s", end.msg);
    cr_expect_eq(t.status, KV_TXN_STATE_ABORTED);
    cr_expect_null(st_get1(st_store, "a", buf, NULL));
    cr_expect_str_eq(st_get1(st_store, "e", buf, NULL), "old");
    expect_no_intents();
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv__txn_record rec;
    cr_assert(record("a", 3, &rec, a));
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
    kv_arena_destroy(a);
    /* A commit arriving after the abort is refused, retryably. */
    kv_request r = new_req();
    kv_span lock = {(const uint8_t *)"a", 1, NULL, 0};
    st_end(&r, true, &lock, 1);
    kv_txn again = t;
    again.status = KV_TXN_STATE_PENDING;
    cr_assert_eq(kv_request_set_txn(&r, &again), 0);
    kv_response late;
    cr_expect_eq(st_send(st_store, &r, &late), KV_ETXNABORTED);
    cr_expect(kv_err_retryable(late.err));
    kv_response_free(&late);
    kv_response_free(&end);
}

Test(txn, one_phase_commit)
{
    kv_txn t = begin(4);
    kv_request r = new_req();
    kv_response resp;
    st_put(&r, "c", "1");
    st_put(&r, "d", "2");
    st_end(&r, true, NULL, 0);
    cr_assert_eq(send_txn(&t, &r, &resp), 0, "%s", resp.msg);
    cr_expect_eq(t.status, KV_TXN_STATE_COMMITTED);
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv__txn_record rec;
    cr_expect(!record("c", 4, &rec, a), "a one-phase commit writes no record");
    kv_arena_destroy(a);
    kv_response_free(&resp);
    uint8_t marker = KV_LOCAL_TXN_MARKER;
    cr_expect(!st_has_prefix(st_store, KV_CF_LOCAL, &marker, 1));
    cr_expect_str_eq(st_get1(st_store, "c", buf, NULL), "1");
    cr_expect_str_eq(st_get1(st_store, "d", buf, NULL), "2");
    expect_no_intents();
}

Test(txn, commit_split_across_ranges)
{
    kv_txn t = begin(5);
    kv_request r = new_req();
    kv_response resp;
    st_put(&r, "b", "1");
    st_put(&r, "g", "2");
    st_end(&r, true, NULL, 0);
    cr_assert_eq(send_txn(&t, &r, &resp), 0, "%s", resp.msg);
    cr_expect_eq(t.status, KV_TXN_STATE_COMMITTED);
    cr_expect(t.anchor_len == 1 && t.anchor_key[0] == 'b');
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv__txn_record rec;
    cr_expect(record("b", 5, &rec, a));
    kv_arena_destroy(a);
    kv_response_free(&resp);
    cr_expect_str_eq(st_get1(st_store, "b", buf, NULL), "1");
    cr_expect_str_eq(st_get1(st_store, "g", buf, NULL), "2");
    expect_no_intents();
}

Test(txn, pushed_write_must_retry)
{
    kv_txn t = begin(6);
    /* Someone reads k above the transaction's timestamp ... */
    kv_request r = new_req();
    kv_response resp, w;
    r.h.ts = (kv_ts){t.read_ts.wall + 1000, 0};
    st_get(&r, "k");
    cr_assert_eq(st_send(st_store, &r, &resp), 0);
    kv_response_free(&resp);
    /* ... so its write to k goes above that read ... */
    r = new_req();
    st_put(&r, "k", "v");
    cr_assert_eq(send_txn(&t, &r, &w), 0);
    cr_expect_gt(kv_ts_cmp(t.write_ts, (kv_ts){t.read_ts.wall + 1000, 0}), 0);
    /* ... and it cannot commit without refreshing its reads. */
    kv_span lock = {(const uint8_t *)"k", 1, NULL, 0};
    r = new_req();
    st_end(&r, true, &lock, 1);
    cr_expect_eq(send_txn(&t, &r, &resp), KV_ETXNRETRY);
    cr_expect(kv_err_retryable(resp.err));
    kv_response_free(&resp);
    kv_response_free(&w);
}

Test(txn, own_reads_do_not_push)
{
    kv_txn t = begin(7);
    kv_request r = new_req();
    kv_response rd, resp;
    st_get(&r, "k");
    cr_assert_eq(send_txn(&t, &r, &rd), 0);
    cr_expect_null(t.anchor_key, "a read sets no anchor");
    r = new_req();
    st_put(&r, "k", "v");
    st_end(&r, true, NULL, 0);
    cr_expect_eq(send_txn(&t, &r, &resp), 0, "%s", resp.msg);
    cr_expect_eq(kv_ts_cmp(t.write_ts, t.read_ts), 0);
    uint8_t marker = KV_LOCAL_TXN_MARKER;
    cr_expect(!st_has_prefix(st_store, KV_CF_LOCAL, &marker, 1), "one-phase: no record");
    kv_response_free(&resp);
    kv_response_free(&rd);
    cr_expect_str_eq(st_get1(st_store, "k", buf, NULL), "v");
}

Test(txn, write_write_conflict)
{
    kv_txn t1 = begin(8), t2 = begin(9);
    kv_request r = new_req();
    kv_response w1, w2;
    st_put(&r, "x", "1");
    cr_assert_eq(send_txn(&t1, &r, &w1), 0);
    r = new_req();
    r.h.no_wait = true;
    st_put(&r, "x", "2");
    cr_expect_eq(send_txn(&t2, &r, &w2), KV_EWRITEINTENT);
    cr_expect_eq(w2.detail.intent.txn.id[0], 8);
    kv_response_free(&w2);
    kv_response_free(&w1);
}

Test(txn, read_only_commit)
{
    cr_assert_eq(st_put1(st_store, "k", "v"), 0);
    kv_txn t = begin(10);
    kv_request r = new_req();
    kv_response rd, end;
    st_get(&r, "k");
    cr_assert_eq(send_txn(&t, &r, &rd), 0);
    r = new_req();
    st_end(&r, true, NULL, 0);
    cr_expect_eq(send_txn(&t, &r, &end), 0, "%s", end.msg);
    cr_expect_eq(t.status, KV_TXN_STATE_COMMITTED);
    kv_response_free(&end);
    kv_response_free(&rd);
}

Test(txn, delete_range_across_ranges)
{
    const char *keys[] = {"a", "b", "d", "e", "g", "h"};
    for (size_t i = 0; i < 6; i++)
        cr_assert_eq(st_put1(st_store, keys[i], "v"), 0);
    kv_txn t = begin(11);
    kv_request r = new_req();
    kv_response del, end;
    kv_req q = {.method = KV_DELETE_RANGE,
                .span = {(const uint8_t *)"b", 1, (const uint8_t *)"h", 1}};
    cr_assert_eq(kv_request_add(&r, &q), 0);
    cr_assert_eq(send_txn(&t, &r, &del), 0, "%s", del.msg);
    cr_expect_eq(del.resps[0].n_deleted, 4);
    /* The range deletion is a lock span: resolution walks its intents on
     * every range it covers. */
    r = new_req();
    st_end(&r, true, &q.span, 1);
    cr_assert_eq(send_txn(&t, &r, &end), 0, "%s", end.msg);
    kv_response_free(&end);
    kv_response_free(&del);
    expect_no_intents();
    r = new_req();
    kv_response scan;
    st_scan(&r, KV_SCAN, "a", "z", 0, 0);
    cr_assert_eq(st_send(st_store, &r, &scan), 0);
    cr_expect_eq(scan.resps[0].n_rows, 2);
    kv_response_free(&scan);
}
