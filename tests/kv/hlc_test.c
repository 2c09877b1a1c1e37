/*
 * hlc_test.c - hybrid logical clock with an injected physical clock:
 * monotonicity, remote updates, the maximum offset, logical overflow, and
 * concurrent use.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "kv/hlc.h"
#include "kv/kv_error.h"

static _Atomic int64_t fake_now;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return atomic_load(&fake_now);
}

static kv_hlc *make(int64_t max_offset)
{
    kv_hlc *c;
    cr_assert_eq(kv_hlc_create(fake_clock, NULL, max_offset, &c), 0);
    return c;
}

static void expect_ts(kv_ts t, int64_t wall, int32_t logical)
{
    cr_assert_eq(t.wall, wall, "wall %ld, want %ld", (long)t.wall, (long)wall);
    cr_assert_eq(t.logical, logical, "logical %d, want %d", t.logical, logical);
}

Test(hlc, follows_the_physical_clock_and_ticks_when_it_stalls)
{
    kv_hlc *c = make(0);
    cr_assert_eq(kv_hlc_max_offset(c), KV_HLC_DEFAULT_MAX_OFFSET_NS);
    atomic_store(&fake_now, 1000);
    expect_ts(kv_hlc_now(c), 1000, 0);
    expect_ts(kv_hlc_now(c), 1000, 1);
    atomic_store(&fake_now, 900); /* physical clock jumped back */
    expect_ts(kv_hlc_now(c), 1000, 2);
    atomic_store(&fake_now, 2000);
    expect_ts(kv_hlc_now(c), 2000, 0);
    kv_hlc_destroy(c);
}

Test(hlc, update_moves_past_remote_timestamps)
{
    kv_hlc *c = make(1000);
    atomic_store(&fake_now, 10000);
    kv_ts t;
    cr_assert_eq(kv_hlc_update(c, (kv_ts){10500, 7}, &t), 0);
    expect_ts(t, 10500, 8);
    expect_ts(kv_hlc_now(c), 10500, 9);
    cr_assert_eq(kv_hlc_update(c, (kv_ts){5, 0}, &t), 0); /* stale remote */
    expect_ts(t, 10500, 10);
    atomic_store(&fake_now, 20000);
    cr_assert_eq(kv_hlc_update(c, (kv_ts){15000, 3}, NULL), 0);
    expect_ts(kv_hlc_now(c), 20000, 1);
    kv_hlc_destroy(c);
}

Test(hlc, rejects_remote_clocks_beyond_the_maximum_offset)
{
    kv_hlc *c = make(1000);
    atomic_store(&fake_now, 10000);
    cr_assert_eq(kv_hlc_update(c, (kv_ts){11000, 0}, NULL), 0); /* exactly the offset */
    kv_ts t = {0, 0};
    cr_assert_eq(kv_hlc_update(c, (kv_ts){12001, 0}, &t), KV_ECLOCKOFFSET);
    cr_assert_eq(t.wall, 0, "output untouched on error");
    expect_ts(kv_hlc_now(c), 11000, 2); /* unchanged by the rejected update */
    kv_hlc_destroy(c);
}

Test(hlc, default_offset_is_500ms_and_negative_is_invalid)
{
    kv_hlc *c;
    cr_assert_eq(kv_hlc_create(fake_clock, NULL, -1, &c), KV_EINVAL);
    cr_assert_eq(kv_hlc_create(NULL, NULL, 0, &c), KV_EINVAL);
    c = make(0);
    atomic_store(&fake_now, 0);
    cr_assert_eq(kv_hlc_update(c, (kv_ts){500000000, 0}, NULL), 0);
    cr_assert_eq(kv_hlc_update(c, (kv_ts){500000001, 0}, NULL), KV_ECLOCKOFFSET);
    kv_hlc_destroy(c);
}

Test(hlc, logical_overflow_advances_the_wall_time)
{
    kv_hlc *c = make(1000);
    atomic_store(&fake_now, 5000);
    kv_ts t;
    cr_assert_eq(kv_hlc_update(c, (kv_ts){5000, INT32_MAX - 1}, &t), 0);
    expect_ts(t, 5000, INT32_MAX);
    expect_ts(kv_hlc_now(c), 5001, 0);
    expect_ts(kv_hlc_now(c), 5001, 1);
    cr_assert_eq(kv_hlc_update(c, (kv_ts){5001, INT32_MAX}, &t), 0);
    expect_ts(t, 5002, 0);
    kv_hlc_destroy(c);
}

enum { THREADS = 4, PER_THREAD = 20000 };

struct worker {
    kv_hlc *clock;
    kv_ts got[PER_THREAD];
};

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        w->got[i] = kv_hlc_now(w->clock);
        if (i % 100 == 0)
            kv_hlc_update(w->clock, w->got[i], NULL);
    }
    return NULL;
}

static int cmp_ts(const void *a, const void *b)
{
    return kv_ts_cmp(*(const kv_ts *)a, *(const kv_ts *)b);
}

Test(hlc, concurrent_callers_get_unique_increasing_timestamps)
{
    kv_hlc *c;
    cr_assert_eq(kv_hlc_create(kv_hlc_wall_clock, NULL, 0, &c), 0);
    struct worker *w = calloc(THREADS, sizeof(*w));
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i].clock = c;
        cr_assert_eq(pthread_create(&th[i], NULL, run_worker, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    kv_ts *all = malloc(sizeof(kv_ts) * THREADS * PER_THREAD);
    for (int i = 0; i < THREADS; i++) {
        for (int j = 0; j < PER_THREAD; j++) {
            if (j > 0)
                cr_assert_gt(kv_ts_cmp(w[i].got[j], w[i].got[j - 1]), 0, "thread %d step %d", i, j);
            all[i * PER_THREAD + j] = w[i].got[j];
        }
    }
    qsort(all, THREADS * PER_THREAD, sizeof(kv_ts), cmp_ts);
    for (int i = 1; i < THREADS * PER_THREAD; i++)
        cr_assert_neq(kv_ts_cmp(all[i], all[i - 1]), 0, "duplicate timestamp");
    free(all);
    free(w);
    kv_hlc_destroy(c);
}
