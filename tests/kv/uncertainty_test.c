/*
 * uncertainty_test.c - reads and values in their uncertainty interval
 * (read ts, limit]: MVCC reports them (KV_EREADUNCERTAIN with the value's
 * timestamp) and treats intents there as conflicts; a transaction's read
 * fails with the value's timestamp in the detail; a non-transactional read
 * at a client-chosen timestamp is retried above the value on the server;
 * an observed timestamp ends the interval at the node's clock reading; the
 * coordinator (as a gateway on another node) refreshes above it and reads
 * it, or restarts when the refresh finds a change.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kv/hlc.h"
#include "kv/txn_coord.h"
#include "store_test_util.h"

#define MS INT64_C(1000000)

TestSuite(uncertainty, .init = st_setup, .fini = st_teardown);

static kv_ts now(void)
{
    return kv_hlc_now(kv_store_clock(st_store));
}

static kv_ts plus(kv_ts t, int64_t ns)
{
    return (kv_ts){t.wall + ns, 0};
}

/* A non-transactional put at the client-chosen timestamp `ts` (a writer
 * whose clock runs ahead). */
static void put_at(const char *key, const char *val, kv_ts ts)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    req.h.ts = ts;
    st_put(&req, key, val);
    cr_assert_eq(st_send(st_store, &req, &resp), 0, "%s", resp.msg);
    cr_assert_eq(kv_ts_cmp(resp.ts, ts), 0);
    kv_response_free(&resp);
}

/* A transactional Get of `key` at `read` with uncertainty limit `limit` and
 * observed timestamp `observed` (zero: none). */
static int txn_get_observed(const char *key, kv_ts read, kv_ts limit, kv_ts observed,
                            kv_response *resp)
{
    kv_request req;
    cr_assert_eq(kv_request_init(&req), 0);
    kv_txn t = st_txn(1, read);
    t.uncertainty_limit = limit;
    t.observed_ts = observed;
    cr_assert_eq(kv_request_set_txn(&req, &t), 0);
    st_get(&req, key);
    return st_send(st_store, &req, resp);
}

static int txn_get(const char *key, kv_ts read, kv_ts limit, kv_response *resp)
{
    return txn_get_observed(key, read, limit, (kv_ts){0, 0}, resp);
}

Test(uncertainty, mvcc_reports_values_and_intents_in_the_interval)
{
    kv_ts r = now(), w = plus(r, 100 * MS);
    put_at("a", "v", w);
    kv_engine *eng = kv_store_engine(st_store);
    kv_buf val = {0};
    kv_mvcc_conflict c = {0};
    kv_mvcc_read_opts ro = {.ts = r, .uncertainty_limit = plus(r, 500 * MS)};
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, "a", 1, &val, NULL, &c, NULL, 0), KV_EREADUNCERTAIN);
    cr_assert_eq(kv_ts_cmp(c.existing_ts, w), 0);
    ro.uncertainty_limit = plus(r, 50 * MS);
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, "a", 1, &val, NULL, &c, NULL, 0), KV_ENOTFOUND,
                 "beyond the limit the value is simply in the future");
    ro.uncertainty_limit = (kv_ts){0, 0};
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, "a", 1, &val, NULL, &c, NULL, 0), KV_ENOTFOUND);
    ro = (kv_mvcc_read_opts){.ts = r, .uncertainty_limit = plus(r, 500 * MS)};
    cr_assert_eq(kv_mvcc_scan(eng, NULL, &ro, "a", 1, "z", 1, NULL, NULL, &c, NULL, 0),
                 KV_EREADUNCERTAIN, "scans too");

    /* An intent in the interval is a conflict, above it invisible. */
    kv_batch *b;
    cr_assert_eq(kv_batch_create(&b), 0);
    kv_mvcc_writer other = {
        .txn = {.id = {9}, .epoch = 1}, .anchor = (const uint8_t *)"b", .anchor_len = 1};
    cr_assert_eq(kv_mvcc_put(eng, NULL, b, "b", 1, plus(r, 200 * MS), &other, "i", 1, &c, NULL, 0),
                 0);
    cr_assert_eq(kv_engine_write(eng, b, false, NULL, 0), 0);
    kv_batch_destroy(b);
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, "b", 1, &val, NULL, &c, NULL, 0), KV_EWRITEINTENT);
    ro.uncertainty_limit = plus(r, 100 * MS);
    cr_assert_eq(kv_mvcc_get(eng, NULL, &ro, "b", 1, &val, NULL, &c, NULL, 0), KV_ENOTFOUND);
    kv_buf_free(&val);
    kv_buf_free(&c.key);
    kv_buf_free(&c.anchor);
}

Test(uncertainty, transactional_read_fails_with_the_value_timestamp)
{
    kv_ts r = now(), w = plus(r, 100 * MS);
    put_at("a", "v", w);
    kv_response resp;
    cr_assert_eq(txn_get("a", r, plus(r, 500 * MS), &resp), KV_EREADUNCERTAIN);
    cr_assert_eq(kv_ts_cmp(resp.detail.existing_ts, w), 0);
    kv_response_free(&resp);
    cr_assert_eq(txn_get("a", r, (kv_ts){0, 0}, &resp), 0, "no limit: no uncertainty");
    cr_assert_not(resp.resps[0].found);
    kv_response_free(&resp);
    cr_assert_eq(txn_get("a", w, plus(r, 500 * MS), &resp), 0, "at the value's timestamp");
    cr_assert(resp.resps[0].found);
    kv_response_free(&resp);
}

/* A value above the node's clock reading at the transaction's start was
 * written after the start: the observed timestamp ends the interval there. */
Test(uncertainty, observed_timestamp_caps_the_interval)
{
    kv_ts r = now(), w = plus(r, 100 * MS);
    put_at("a", "v", w);
    kv_response resp;
    cr_assert_eq(txn_get_observed("a", r, plus(r, 500 * MS), r, &resp), 0);
    cr_assert_not(resp.resps[0].found, "written after the observation: not uncertain");
    kv_response_free(&resp);
    kv_ts later = plus(r, 200 * MS);
    cr_assert_eq(txn_get_observed("a", r, plus(r, 500 * MS), later, &resp), KV_EREADUNCERTAIN);
    cr_assert_eq(kv_ts_cmp(resp.detail.existing_ts, w), 0);
    kv_response_free(&resp);
}

Test(uncertainty, non_transactional_read_retries_above_the_value)
{
    kv_ts r = now(), w = plus(r, 100 * MS);
    put_at("d", "v", w);
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    req.h.ts = r;
    st_get(&req, "d");
    cr_assert_eq(st_send(st_store, &req, &resp), 0, "%s", resp.msg);
    cr_assert(resp.resps[0].found, "the value may have been written first: it is read");
    cr_assert_eq(kv_ts_cmp(resp.ts, w), 0, "the read moved up to the value");
    kv_response_free(&resp);
}

/* A coordinator Get of `key`: 0 and *found, or the error. */
Test(uncertainty, coordinator_refreshes_above_an_uncertain_value)
{
    kv_txn_coord *c;
    cr_assert_eq(kv_txn_coord_begin(st_store, NULL, 0, &c), 0);
    kv_txn_coord_forget_observation(c); /* a gateway on another node */
    kv_ts r = kv_txn_coord_txn(c)->read_ts, w = plus(r, 100 * MS);
    bool found;
    cr_assert_eq(st_coord_get(c, "b", &found), 0);
    put_at("g", "v", w);
    cr_assert_eq(st_coord_get(c, "g", &found), 0);
    cr_assert(found);
    cr_assert_eq(kv_ts_cmp(kv_txn_coord_txn(c)->read_ts, w), 0, "read timestamp moved up");
    kv_response resp;
    cr_assert_eq(kv_response_init(&resp), 0);
    cr_assert_eq(kv_txn_coord_commit(c, NULL, &resp), 0);
    kv_response_free(&resp);
    kv_txn_coord_destroy(c);
}

Test(uncertainty, coordinator_restarts_when_the_refresh_fails)
{
    kv_txn_coord *c;
    cr_assert_eq(kv_txn_coord_begin(st_store, NULL, 0, &c), 0);
    kv_txn_coord_forget_observation(c); /* a gateway on another node */
    kv_ts r = kv_txn_coord_txn(c)->read_ts;
    bool found;
    cr_assert_eq(st_coord_get(c, "b", &found), 0);
    put_at("b", "changed", plus(r, 50 * MS));
    put_at("g", "v", plus(r, 100 * MS));
    cr_assert_eq(st_coord_get(c, "g", &found), KV_ETXNRETRY);
    cr_assert(kv_err_retryable(KV_ETXNRETRY));
    cr_assert_eq(kv_txn_coord_restart(c), 0);
    cr_assert_eq(st_coord_get(c, "b", &found), 0);
    cr_assert(found, "the new epoch reads above both writes");
    kv_txn_coord_destroy(c);
}
