/*
 * deadlock_test.c - waits-for cycles among transactions whose intents lie
 * on different ranges are broken with exactly one victim, which fails
 * with the retryable KV_ETXNABORTED and has its record aborted, while the
 * others go on and commit.
 *
 * Only transactions of equal priority wait for each other (a higher
 * priority pusher aborts or pushes at once), so every cycle is a tie and
 * the victim is the greatest id; the tests place it first, in the middle
 * and last in the order the waits begin.
 *
 * Each transaction first writes its own key on its own range (splits c,
 * f: a | e | h), then, on a background thread, writes the next one's key
 * and commits. The test lets every thread but the last block first, so
 * the last one closes the cycle.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kv/store_int.h"
#include "push_test_util.h"
#include "store_test_util.h"

static const char *const keys[] = {"a", "e", "h"};

static void setup(void)
{
    st_setup();
    pt_store = st_store;
}

TestSuite(deadlock, .init = setup, .fini = st_teardown);

/* Runs a cycle of n transactions with ids ids[i] and returns the index
 * of the single victim. */
static size_t run_cycle(size_t n, const uint8_t *ids)
{
    kv_txn t[3];
    pt_bg bg[3];
    for (size_t i = 0; i < n; i++) {
        t[i] = pt_begin(ids[i], 0);
        cr_assert_eq(pt_put(&t[i], keys[i], "own"), 0);
    }
    for (size_t i = 0; i < n; i++) {
        pt_bg_txn_put(&bg[i], &t[i], keys[(i + 1) % n]);
        if (i + 1 < n)
            pt_wait_for_waiters(st_store, i + 1);
    }
    size_t victims = 0, victim = n;
    for (size_t i = 0; i < n; i++) {
        int rc = pt_bg_join(&bg[i]);
        cr_expect(rc == 0 || rc == KV_ETXNABORTED, "txn %zu: %s", i, kv_err_name(rc));
        if (rc == KV_ETXNABORTED) {
            victims++;
            victim = i;
        }
    }
    cr_assert_eq(victims, 1, "exactly one victim");
    kv_txn rec;
    cr_assert(pt_query(&t[victim], &rec));
    cr_expect_eq(rec.status, KV_TXN_STATE_ABORTED);
    for (size_t i = 0; i < n; i++) {
        if (i == victim)
            continue;
        cr_assert(pt_query(&t[i], &rec));
        cr_expect_eq(rec.status, KV_TXN_STATE_COMMITTED, "txn %zu", i);
    }
    cr_expect_eq(pt_end(&t[victim], false, keys[victim]), 0, "the victim's rollback");
    cr_expect_eq(kv__txn_wait_count(st_store->waits), 0);
    return victim;
}

Test(deadlock, two_txns_across_ranges)
{
    uint8_t ids[] = {1, 2};
    cr_expect_eq(run_cycle(2, ids), 1);
}

Test(deadlock, two_txns_victim_waited_first)
{
    uint8_t ids[] = {2, 1};
    cr_expect_eq(run_cycle(2, ids), 0);
}

Test(deadlock, three_txns_across_three_ranges)
{
    uint8_t ids[] = {4, 9, 6};
    cr_expect_eq(run_cycle(3, ids), 1);
}

Test(deadlock, three_txns_victim_closes_the_cycle)
{
    uint8_t ids[] = {1, 2, 3};
    cr_expect_eq(run_cycle(3, ids), 2);
}
