/*
 * push_test.c - conflicts between transactions (docs/kv.md, "Conflicts:
 * push, wait queue, deadlocks"): every push rule (priority, expired
 * heartbeat, missing record, a pushed timestamp visible in the record,
 * committed and aborted pushees), waits that end when the pushee commits
 * or expires or when the waiter itself is aborted, non-transactional
 * pushers, QueryTxn/HeartbeatTxn, the asynchronous resolution of a
 * finished transaction's other intents, and intents whose coordinator is
 * gone (after a reopen), which pushers resolve from the intent alone.
 *
 * Time is the store's fake clock (st_clock_ns): expiry is reached by
 * moving it, never by sleeping; waits are observed through the wait
 * queue's count, never with timing.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "kv/hlc.h"
#include "kv/store_int.h"
#include "push_test_util.h"
#include "store_test_util.h"

static char buf[64];

static void setup(void)
{
    st_setup();
    pt_store = st_store;
}

TestSuite(push, .init = setup, .fini = st_teardown);

Test(push, higher_priority_writer_aborts)
{
    kv_txn low = pt_begin(1, 0), high = pt_begin(2, 10);
    cr_assert_eq(pt_put(&low, "a", "low"), 0);
    cr_assert_eq(pt_put(&high, "a", "high"), 0);
    kv_txn rec;
    cr_assert(pt_query(&low, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
    cr_expect_eq(pt_end(&low, true, "a"), KV_ETXNABORTED);
    cr_expect(kv_err_retryable(KV_ETXNABORTED));
    cr_assert_eq(pt_end(&high, true, "a"), 0);
    cr_expect_str_eq(st_get1(st_store, "a", buf, NULL), "high");
}

Test(push, higher_priority_reader_pushes_timestamp)
{
    kv_txn low = pt_begin(1, 0);
    cr_assert_eq(pt_put(&low, "a", "low"), 0);
    st_clock_ns += 1000;
    kv_txn reader = pt_begin(2, 10);
    bool found;
    cr_assert_eq(pt_get(&reader, "a", &found, NULL), 0);
    cr_expect(!found, "the reader reads below the pushed intent");
    kv_txn rec;
    cr_assert(pt_query(&low, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_PENDING);
    cr_expect_gt(kv_ts_cmp(rec.write_ts, reader.read_ts), 0, "pushed ts in the record");
    /* The pushee sees it at commit: refresh or restart. */
    kv_response resp;
    cr_expect_eq(pt_end_resp(&low, true, "a", &resp), KV_ETXNRETRY);
    cr_expect(resp.has_txn && kv_ts_cmp(resp.txn.write_ts, rec.write_ts) == 0);
    kv_response_free(&resp);
    cr_expect_eq(pt_end(&low, false, "a"), 0);
}

Test(push, equal_priority_reader_with_no_wait_fails)
{
    kv_txn w = pt_begin(1, 0);
    cr_assert_eq(pt_put(&w, "a", "x"), 0);
    cr_expect_eq(pt_get_nowait("a"), KV_EWRITEINTENT);
    kv_txn rec;
    cr_expect(!pt_query(&w, &rec), "a failed push writes no record");
}

Test(push, expired_heartbeat_aborts)
{
    kv_txn t = pt_begin(1, 5);
    cr_assert_eq(pt_put(&t, "a", "t"), 0);
    kv_txn rec;
    cr_assert_eq(pt_heartbeat(&t, &rec), 0);
    cr_expect_eq(rec.status, KV_TXN_STATE_PENDING);
    /* Still live: a lower-priority writer cannot push it. */
    cr_expect_eq(pt_put_nowait("a", "plain"), KV_EWRITEINTENT);
    st_clock_ns += KV_TXN_EXPIRY_NS + 1;
    cr_assert_eq(st_put1(st_store, "a", "plain"), 0);
    cr_assert(pt_query(&t, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
    cr_expect_str_eq(st_get1(st_store, "a", buf, NULL), "plain");
}

Test(push, heartbeat_keeps_alive)
{
    kv_txn t = pt_begin(1, 5), rec;
    cr_assert_eq(pt_put(&t, "a", "t"), 0);
    st_clock_ns += KV_TXN_EXPIRY_NS;
    cr_assert_eq(pt_heartbeat(&t, &rec), 0);
    st_clock_ns += KV_TXN_EXPIRY_NS / 2;
    cr_expect_eq(pt_put_nowait("a", "plain"), KV_EWRITEINTENT);
    cr_assert(pt_query(&t, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_PENDING);
    cr_assert_eq(pt_end(&t, true, "a"), 0);
}

Test(push, missing_record_with_stale_intent_aborts)
{
    kv_txn t = pt_begin(1, 5), rec;
    cr_assert_eq(pt_put(&t, "a", "t"), 0);
    cr_expect(!pt_query(&t, &rec), "no record before EndTxn or a heartbeat");
    cr_expect_eq(pt_get_nowait("a"), KV_EWRITEINTENT);
    st_clock_ns += KV_TXN_EXPIRY_NS + 1;
    int rc;
    cr_expect_null(st_get1(st_store, "a", buf, &rc));
    cr_expect_eq(rc, 0);
    cr_assert(pt_query(&t, &rec), "the pusher wrote an ABORTED record");
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
    cr_expect_eq(pt_end(&t, true, "a"), KV_ETXNABORTED);
}

/* A transaction writes a (range 1) and e (range 2) but ends naming only
 * a, so its intent on e is left for a reader to find. */
static void end_leaving_e(bool commit)
{
    kv_txn t = pt_begin(1, 0);
    cr_assert_eq(pt_put(&t, "a", "A"), 0);
    cr_assert_eq(pt_put(&t, "e", "E"), 0);
    cr_assert_eq(pt_end(&t, commit, "a"), 0);
    cr_expect(pt_has_intent("e"));
}

Test(push, committed_pushee_intent_resolved)
{
    end_leaving_e(true);
    cr_expect_str_eq(st_get1(st_store, "e", buf, NULL), "E");
    cr_expect(!pt_has_intent("e"));
}

Test(push, aborted_pushee_intent_removed)
{
    end_leaving_e(false);
    cr_expect_null(st_get1(st_store, "e", buf, NULL));
    cr_expect(!pt_has_intent("e"));
    cr_assert_eq(pt_put_nowait("e", "new"), 0, "a writer does not wait for an aborted txn");
}

/* After a restart nothing in memory knows the transactions that left
 * intents: the intents alone lead pushers to the records. A committed
 * transaction's leftover intent (anchor on another range) resolves as
 * committed; one of a transaction that never wrote a record is live while
 * the intent is young and aborted, by an ABORTED record on its anchor's
 * range, once it is older than the expiry. */
Test(push, intents_of_a_gone_coordinator_after_reopen)
{
    end_leaving_e(true);
    kv_txn t = pt_begin(2, 0), rec;
    cr_assert_eq(pt_put(&t, "d", "D"), 0);
    cr_assert_eq(pt_put(&t, "h", "H"), 0);
    st_store = pt_store = st_reopen(st_store, st_dir);
    int rc;
    cr_expect_str_eq(st_get1(st_store, "e", buf, &rc), "E");
    cr_expect_eq(rc, 0);
    cr_expect(!pt_has_intent("e"));
    cr_expect_eq(pt_get_nowait("h"), KV_EWRITEINTENT, "a young intent is not abandoned");
    cr_expect(!pt_query(&t, &rec));
    st_clock_ns += KV_TXN_EXPIRY_NS + 1;
    cr_expect_null(st_get1(st_store, "h", buf, &rc));
    cr_expect_eq(rc, 0);
    cr_assert(pt_query(&t, &rec), "the pusher wrote the record on d's range");
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
    cr_expect_null(st_get1(st_store, "d", buf, &rc));
    cr_expect_eq(rc, 0);
    cr_expect(!pt_has_intent("d") && !pt_has_intent("h"));
}

Test(push, non_txn_reader_pushes_lower_priority_writer)
{
    kv_txn t = pt_begin(1, -5), rec;
    cr_assert_eq(pt_put(&t, "a", "t"), 0);
    kv_ts before = t.write_ts;
    cr_expect_null(st_get1(st_store, "a", buf, NULL));
    cr_assert(pt_query(&t, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_PENDING);
    cr_expect_gt(kv_ts_cmp(rec.write_ts, before), 0);
    cr_expect(pt_has_intent("a"), "the intent was moved, not removed");
    cr_expect_gt(kv_ts_cmp(pt_intent_ts("a"), before), 0);
}

Test(push, non_txn_writer_aborts_lower_priority_txn)
{
    kv_txn t = pt_begin(1, -5), rec;
    cr_assert_eq(pt_put(&t, "a", "t"), 0);
    cr_assert_eq(st_put1(st_store, "a", "plain"), 0);
    cr_assert(pt_query(&t, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
}

Test(push, wait_ends_when_pushee_commits)
{
    kv_txn t = pt_begin(1, 0);
    cr_assert_eq(pt_put(&t, "a", "committed"), 0);
    pt_bg bg;
    pt_bg_get(&bg, "a");
    pt_wait_for_waiters(st_store, 1);
    cr_assert_eq(pt_end(&t, true, "a"), 0);
    cr_assert_eq(pt_bg_join(&bg), 0);
    cr_expect(bg.found && strcmp(bg.value, "committed") == 0);
}

Test(push, wait_ends_when_pushee_expires)
{
    kv_txn t = pt_begin(1, 0), rec;
    cr_assert_eq(pt_put(&t, "a", "t"), 0);
    cr_assert_eq(pt_heartbeat(&t, &rec), 0);
    pt_bg bg;
    pt_bg_put(&bg, "a", "plain");
    pt_wait_for_waiters(st_store, 1);
    st_clock_ns += KV_TXN_EXPIRY_NS + 1;
    cr_assert_eq(pt_bg_join(&bg), 0);
    cr_assert(pt_query(&t, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
    cr_expect_str_eq(st_get1(st_store, "a", buf, NULL), "plain");
}

Test(push, waiter_aborted_by_another_stops_waiting)
{
    kv_txn t1 = pt_begin(1, 0), t2 = pt_begin(2, 0), t3 = pt_begin(3, 10), rec;
    cr_assert_eq(pt_put(&t1, "a", "1"), 0);
    cr_assert_eq(pt_put(&t2, "e", "2"), 0);
    pt_bg bg;
    pt_bg_txn_put(&bg, &t2, "a"); /* t2 waits on t1 */
    pt_wait_for_waiters(st_store, 1);
    cr_assert_eq(pt_put(&t3, "e", "3"), 0, "t3 aborts t2 by priority");
    cr_expect_eq(pt_bg_join(&bg), KV_ETXNABORTED, "t2's wait ends though t1 is pending");
    cr_assert(pt_query(&t1, &rec) == false, "t1 untouched: no record");
    cr_expect_eq(kv__txn_wait_count(st_store->waits), 0);
    cr_assert_eq(pt_end(&t1, true, "a"), 0);
    cr_assert_eq(pt_end(&t3, true, "e"), 0);
}

Test(push, heartbeat_creates_and_query_returns_record)
{
    kv_txn t = pt_begin(3, 7), rec;
    cr_assert_eq(pt_put(&t, "d", "x"), 0);
    cr_expect(!pt_query(&t, &rec));
    cr_assert_eq(pt_heartbeat(&t, &rec), 0);
    cr_assert(pt_query(&t, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_PENDING);
    cr_expect_eq(rec.priority, 7);
    cr_expect_eq(rec.meta.id[0], 3);
    cr_assert_eq(pt_end(&t, true, "d"), 0);
    cr_assert(pt_query(&t, &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_COMMITTED);
    cr_expect_eq(pt_heartbeat(&t, &rec), 0);
    cr_expect_eq(rec.status, KV_TXN_STATE_COMMITTED, "a heartbeat does not revive it");
}

Test(push, async_resolution_clears_other_ranges)
{
    kv_txn t = pt_begin(1, 0);
    cr_assert_eq(pt_put(&t, "a", "1"), 0);
    cr_assert_eq(pt_put(&t, "e", "2"), 0);
    cr_assert_eq(pt_put(&t, "h", "3"), 0);
    const char *keys[] = {"a", "e", "h"};
    cr_assert_eq(pt_end_keys(&t, true, keys, 3), 0);
    cr_expect(!pt_has_intent("a"), "the anchor's range is resolved in the commit");
    kv__resolver_flush(st_store->resolver);
    cr_expect(!pt_has_intent("e"));
    cr_expect(!pt_has_intent("h"));
    cr_expect_str_eq(st_get1(st_store, "h", buf, NULL), "3");
}
