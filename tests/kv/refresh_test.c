/*
 * refresh_test.c - KV_REFRESH: a read span moves from `from` up to the
 * transaction's read timestamp only when nothing changed in between: no
 * committed version in (from, to], no other transaction's intent at or
 * below `to`; the transaction's own intents and versions outside the
 * interval do not count; ranged spans over several ranges; a successful
 * refresh protects the span in the timestamp cache at `to`.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kv/hlc.h"
#include "store_test_util.h"

TestSuite(refresh, .init = st_setup, .fini = st_teardown);

static kv_ts now(void)
{
    return kv_hlc_now(kv_store_clock(st_store));
}

/* Refreshes [start, end) (end NULL: the key) of transaction `id` from
 * `from` to `to`. */
static int refresh(uint8_t id, const char *start, const char *end, kv_ts from, kv_ts to)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    kv_txn t = st_txn(id, to);
    cr_assert_eq(kv_request_set_txn(&req, &t), 0);
    kv_req q = {.method = KV_REFRESH,
                .span = {(const uint8_t *)start, strlen(start), (const uint8_t *)end,
                         end != NULL ? strlen(end) : 0}};
    q.u.refresh.from = from;
    cr_assert_eq(kv_request_add(&req, &q), 0);
    int rc = st_send(st_store, &req, &resp);
    kv_response_free(&resp);
    return rc;
}

/* Leaves an intent of transaction `id` on `key` at its timestamp. */
static void intent(uint8_t id, const char *key)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    kv_txn t = st_txn(id, now());
    cr_assert_eq(kv_request_set_txn(&req, &t), 0);
    st_put(&req, key, "provisional");
    cr_assert_eq(st_send(st_store, &req, &resp), 0);
    kv_response_free(&resp);
}

Test(refresh, unchanged_span_succeeds)
{
    cr_assert_eq(st_put1(st_store, "a", "old"), 0);
    kv_ts from = now();
    kv_ts to = now();
    cr_assert_eq(refresh(1, "a", NULL, from, to), 0);
    cr_assert_eq(refresh(1, "a", "z", from, to), 0);
}

Test(refresh, committed_value_in_interval_fails)
{
    kv_ts from = now();
    cr_assert_eq(st_put1(st_store, "b", "new"), 0);
    kv_ts to = now();
    cr_assert_eq(refresh(1, "b", NULL, from, to), KV_ETXNRETRY);
    cr_assert_eq(refresh(1, "a", "c", from, to), KV_ETXNRETRY);
    /* Outside the interval: below `from` or above `to`. */
    cr_assert_eq(refresh(1, "b", NULL, to, now()), 0);
    kv_ts early = from;
    early.logical = 0;
    early.wall -= 1;
    cr_assert_eq(refresh(1, "b", NULL, early, early), 0);
}

Test(refresh, deletion_counts_as_a_change)
{
    cr_assert_eq(st_put1(st_store, "b", "v"), 0);
    kv_ts from = now();
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    st_del(&req, "b");
    cr_assert_eq(st_send(st_store, &req, &resp), 0);
    kv_response_free(&resp);
    cr_assert_eq(refresh(1, "b", NULL, from, now()), KV_ETXNRETRY);
}

Test(refresh, foreign_intent_fails_own_intent_does_not)
{
    kv_ts from = now();
    intent(7, "d");
    kv_ts to = now();
    cr_assert_eq(refresh(1, "d", NULL, from, to), KV_ETXNRETRY);
    cr_assert_eq(refresh(7, "d", NULL, from, to), 0, "own intent and provisional version");
    cr_assert_eq(refresh(7, "a", "z", from, to), 0);
    /* An intent above `to` cannot commit below it. */
    kv_ts early = from;
    early.wall -= 1;
    cr_assert_eq(refresh(1, "d", NULL, early, from), 0);
}

Test(refresh, ranged_span_over_ranges)
{
    kv_ts from = now();
    cr_assert_eq(st_put1(st_store, "g", "v"), 0);
    kv_ts to = now();
    cr_assert_eq(refresh(1, "a", "f", from, to), 0, "the write is in another range");
    cr_assert_eq(refresh(1, "a", "z", from, to), KV_ETXNRETRY);
    cr_assert_eq(refresh(1, "f", "g", from, to), 0, "end is exclusive");
}

Test(refresh, protects_span_in_timestamp_cache)
{
    kv_ts from = now();
    kv_ts to = now();
    to.wall += 1000000; /* well above the clock */
    cr_assert_eq(refresh(1, "e", NULL, from, to), 0);
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    st_put(&req, "e", "late");
    cr_assert_eq(st_send(st_store, &req, &resp), 0);
    cr_assert_gt(kv_ts_cmp(resp.ts, to), 0, "a later write lands above the refreshed read");
    kv_response_free(&resp);
}

Test(refresh, outside_a_transaction_is_refused)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    kv_req q = {.method = KV_REFRESH, .span = {(const uint8_t *)"a", 1, NULL, 0}};
    cr_assert_eq(kv_request_add(&req, &q), 0);
    cr_assert_eq(st_send(st_store, &req, &resp), KV_EINVAL);
    kv_response_free(&resp);
}
