/*
 * coord_test.c - the transaction coordinator (kv/txn_coord.h): begin,
 * commit across ranges (record, every intent resolved), one-phase commit
 * (no record), read-only commit, rollback and destroy-without-commit
 * removing the intents, a pushed write timestamp refreshed away or, when
 * a read changed, a retryable error followed by a restart that commits,
 * refused requests, error classes, and the heartbeater creating the
 * record of an open transaction.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "kv/hlc.h"
#include "kv/local_keys.h"
#include "kv/txn_coord.h"
#include "store_test_util.h"

#define MS INT64_C(1000000)

static char buf[64];

TestSuite(coord, .init = st_setup, .fini = st_teardown);

static kv_txn_coord *begin(void)
{
    kv_txn_coord *c;
    cr_assert_eq(kv_txn_coord_begin(st_store, NULL, 5, &c), 0);
    return c;
}

static int put(kv_txn_coord *c, const char *key, const char *val)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    cr_assert_eq(kv_response_init(&resp), 0);
    st_put(&req, key, val);
    int rc = kv_txn_coord_send(c, &req, &resp);
    kv_response_free(&resp);
    kv_request_free(&req);
    return rc;
}

static int commit(kv_txn_coord *c, kv_request *req)
{
    kv_response resp;
    cr_assert_eq(kv_response_init(&resp), 0);
    int rc = kv_txn_coord_commit(c, req, &resp);
    kv_response_free(&resp);
    return rc;
}

/* Whether `key` holds an intent (read straight from MVCC: no push). */
static bool has_intent(const char *key)
{
    kv_buf val = {0};
    kv_mvcc_read_opts ro = {.ts = {INT64_MAX, 0}};
    int rc = kv_mvcc_get(kv_store_engine(st_store), NULL, &ro, key, strlen(key), &val, NULL, NULL,
                         NULL, 0);
    kv_buf_free(&val);
    return rc == KV_EWRITEINTENT;
}

static bool has_record(void)
{
    uint8_t marker = KV_LOCAL_TXN_MARKER;
    return st_has_prefix(st_store, KV_CF_LOCAL, &marker, 1);
}

Test(coord, begin_takes_a_fresh_identity_and_timestamps)
{
    kv_txn_coord *a = begin(), *b = begin();
    const kv_txn *ta = kv_txn_coord_txn(a), *tb = kv_txn_coord_txn(b);
    cr_assert_neq(memcmp(ta->meta.id, tb->meta.id, KV_TXN_ID_LEN), 0);
    cr_assert_eq(kv_ts_cmp(ta->read_ts, ta->write_ts), 0);
    cr_assert_lt(kv_ts_cmp(ta->read_ts, tb->read_ts), 0);
    cr_assert_eq(ta->uncertainty_limit.wall,
                 ta->read_ts.wall + kv_hlc_max_offset(kv_store_clock(st_store)));
    cr_assert_eq(kv_ts_cmp(ta->observed_ts, ta->read_ts), 0, "it shares the store's clock");
    cr_assert_eq(ta->priority, 5);
    cr_assert_eq(ta->status, KV_TXN_STATE_PENDING);
    kv_txn_coord_destroy(a);
    kv_txn_coord_destroy(b);
}

Test(coord, commit_across_ranges)
{
    kv_txn_coord *c = begin();
    cr_assert_eq(put(c, "a", "1"), 0);
    cr_assert_eq(put(c, "d", "2"), 0);
    cr_assert_eq(put(c, "g", "3"), 0);
    cr_assert(has_intent("d"));
    cr_assert_eq(commit(c, NULL), 0);
    cr_assert_eq(kv_txn_coord_txn(c)->status, KV_TXN_STATE_COMMITTED);
    cr_assert_not(has_intent("a"), "resolved with the record");
    /* Other ranges' intents are resolved asynchronously; a reader meeting
     * one finds the record and resolves it. */
    cr_assert_str_eq(st_get1(st_store, "d", buf, NULL), "2");
    cr_assert_str_eq(st_get1(st_store, "g", buf, NULL), "3");
    cr_assert_not(has_intent("d") || has_intent("g"));
    cr_assert(has_record());
    cr_assert_eq(put(c, "a", "x"), KV_EINVAL, "finished");
    kv_txn_coord_destroy(c);
    cr_assert_str_eq(st_get1(st_store, "a", buf, NULL), "1", "destroy after commit is harmless");
}

Test(coord, one_phase_commit_leaves_no_record)
{
    kv_txn_coord *c = begin();
    cr_assert_eq(st_coord_get(c, "a", NULL), 0);
    kv_request req;
    cr_assert_eq(kv_request_init(&req), 0);
    st_put(&req, "a", "1");
    st_put(&req, "b", "2");
    cr_assert_eq(commit(c, &req), 0);
    kv_request_free(&req);
    cr_assert_str_eq(st_get1(st_store, "b", buf, NULL), "2");
    cr_assert_not(has_record());
    cr_assert_not(has_intent("a"));
    kv_txn_coord_destroy(c);
}

Test(coord, read_only_commit)
{
    kv_txn_coord *c = begin();
    cr_assert_eq(st_coord_get(c, "a", NULL), 0);
    cr_assert_eq(commit(c, NULL), 0);
    cr_assert_not(has_record());
    kv_txn_coord_destroy(c);
}

Test(coord, rollback_and_abandonment_remove_intents)
{
    kv_txn_coord *c = begin();
    cr_assert_eq(put(c, "a", "1"), 0);
    cr_assert_eq(put(c, "g", "2"), 0);
    char err[128] = "";
    cr_assert_eq(kv_txn_coord_rollback(c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(kv_txn_coord_txn(c)->status, KV_TXN_STATE_ABORTED);
    cr_assert_not(has_intent("a"));
    cr_assert_null(st_get1(st_store, "g", buf, NULL));
    cr_assert_not(has_intent("g"));
    kv_txn_coord_destroy(c);

    c = begin();
    cr_assert_eq(put(c, "d", "3"), 0);
    kv_txn_coord_destroy(c); /* the client went away */
    cr_assert_not(has_intent("d"));
    cr_assert_null(st_get1(st_store, "d", buf, NULL));
}

/* A non-transactional read of `key` at `ts`: the timestamp cache then
 * pushes writes to the key above ts. */
static void read_at(const char *key, kv_ts ts)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    req.h.ts = ts;
    st_get(&req, key);
    cr_assert_eq(st_send(st_store, &req, &resp), 0);
    kv_response_free(&resp);
}

Test(coord, pushed_write_timestamp_is_refreshed)
{
    kv_txn_coord *c = begin();
    kv_ts r = kv_txn_coord_txn(c)->read_ts, later = {r.wall + 100 * MS, 0};
    cr_assert_eq(st_coord_get(c, "b", NULL), 0);
    read_at("x", later);
    cr_assert_eq(put(c, "x", "1"), 0);
    const kv_txn *t = kv_txn_coord_txn(c);
    cr_assert_gt(kv_ts_cmp(t->write_ts, later), 0, "pushed above the read");
    cr_assert_eq(kv_ts_cmp(t->read_ts, t->write_ts), 0, "refreshed up to it");
    cr_assert_eq(commit(c, NULL), 0);
    cr_assert_str_eq(st_get1(st_store, "x", buf, NULL), "1");
    kv_txn_coord_destroy(c);
}

Test(coord, failed_refresh_is_retryable_and_restart_commits)
{
    kv_txn_coord *c = begin();
    kv_ts r = kv_txn_coord_txn(c)->read_ts;
    cr_assert_eq(st_coord_get(c, "y", NULL), 0);
    cr_assert_eq(st_put1(st_store, "y", "changed"), 0);
    read_at("x", (kv_ts){r.wall + 100 * MS, 0});
    int rc = put(c, "x", "1");
    cr_assert_eq(rc, KV_ETXNRETRY);
    cr_assert(kv_err_retryable(rc));
    cr_assert_eq(kv_txn_coord_restart(c), 0);
    const kv_txn *t = kv_txn_coord_txn(c);
    cr_assert_eq(t->meta.epoch, 1);
    cr_assert_gt(kv_ts_cmp(t->read_ts, r), 0);
    cr_assert_eq(st_coord_get(c, "y", NULL), 0);
    cr_assert_eq(put(c, "z", "2"), 0);
    cr_assert_eq(commit(c, NULL), 0);
    cr_assert_null(st_get1(st_store, "x", buf, NULL), "the first epoch's write is gone");
    cr_assert_str_eq(st_get1(st_store, "z", buf, NULL), "2");
    cr_assert_not(has_intent("x") || has_intent("z"));
    kv_txn_coord_destroy(c);
}

Test(coord, refuses_end_txn_and_internal_requests)
{
    kv_txn_coord *c = begin();
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    cr_assert_eq(kv_response_init(&resp), 0);
    st_end(&req, true, NULL, 0);
    cr_assert_eq(kv_txn_coord_send(c, &req, &resp), KV_EINVAL);
    kv_request_free(&req);
    cr_assert_eq(kv_request_init(&req), 0);
    kv_req q = {.method = KV_REFRESH, .span = {(const uint8_t *)"a", 1, NULL, 0}};
    cr_assert_eq(kv_request_add(&req, &q), 0);
    cr_assert_eq(kv_txn_coord_send(c, &req, &resp), KV_EINVAL);
    kv_request_free(&req);
    kv_response_free(&resp);
    kv_txn_coord_destroy(c);
}

Test(coord, error_classes)
{
    cr_assert(kv_err_retryable(KV_ETXNRETRY));
    cr_assert(kv_err_retryable(KV_ETXNABORTED));
    cr_assert(kv_err_ambiguous(KV_EAMBIGUOUS));
    cr_assert_not(kv_err_retryable(KV_EAMBIGUOUS));
    cr_assert_not(kv_err_retryable(KV_ECONDFAILED));
    cr_assert_not(kv_err_ambiguous(KV_ETXNRETRY));
}

Test(coord, heartbeater_writes_the_open_record)
{
    kv_txn_hb *hb;
    cr_assert_eq(kv_txn_hb_start(st_store, 0, &hb), KV_EINVAL);
    cr_assert_eq(kv_txn_hb_start(st_store, 2, &hb), 0);
    kv_txn_coord *c;
    cr_assert_eq(kv_txn_coord_begin(st_store, hb, 0, &c), 0);
    cr_assert_eq(put(c, "a", "1"), 0);
    for (int i = 0; i < 500 && !has_record(); i++)
        usleep(2000);
    cr_assert(has_record(), "a PENDING record while the transaction is open");
    cr_assert_eq(commit(c, NULL), 0);
    cr_assert_str_eq(st_get1(st_store, "a", buf, NULL), "1");
    kv_txn_coord_destroy(c);
    kv_txn_hb_stop(hb);
}
