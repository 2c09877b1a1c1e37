/*
 * workers_test.c - the worker pool: every job runs exactly once, the pool
 * grows while every thread is blocked (up to its cap, the rest queue),
 * extra threads exit when idle, threads get the stack asked for, and
 * destroy runs what is still queued.
 */
#define _GNU_SOURCE /* pthread_getattr_np */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "net/workers.h"

static atomic_int ran;
static atomic_bool release;

static void count(void *arg)
{
    (void)arg;
    atomic_fetch_add(&ran, 1);
}

/* Blocks its thread until the test releases it. */
static void block(void *arg)
{
    (void)arg;
    while (!atomic_load(&release))
        usleep(1000);
    atomic_fetch_add(&ran, 1);
}

static void wait_ran(int n)
{
    while (atomic_load(&ran) < n)
        usleep(1000);
}

Test(workers, every_job_runs_once)
{
    enum { N = 10000 };
    static net_work w[N];
    net_workers *p;
    cr_assert_eq(net_workers_create(NULL, &p), 0);
    for (int i = 0; i < N; i++) {
        w[i] = (net_work){.fn = count};
        net_workers_submit(p, &w[i]);
    }
    wait_ran(N);
    net_workers_destroy(p);
    cr_assert_eq(atomic_load(&ran), N);
}

Test(workers, grows_while_blocked_up_to_the_cap_then_shrinks)
{
    net_workers_options o = {.min_threads = 2, .max_threads = 6, .idle_ms = 50};
    net_workers *p;
    cr_assert_eq(net_workers_create(&o, &p), 0);
    cr_assert_eq(net_workers_threads(p), 2);
    static net_work w[8];
    for (int i = 0; i < 8; i++) {
        w[i] = (net_work){.fn = block};
        net_workers_submit(p, &w[i]);
    }
    /* Six threads block; the last two jobs wait in the queue. */
    cr_assert_eq(net_workers_threads(p), 6);
    atomic_store(&release, true);
    wait_ran(8);
    /* Idle extra threads leave; the two of the minimum stay. */
    while (net_workers_threads(p) > 2)
        usleep(1000);
    cr_assert_eq(net_workers_threads(p), 2);
    /* The pool still grows after shrinking. */
    atomic_store(&release, false);
    for (int i = 0; i < 4; i++) {
        w[i] = (net_work){.fn = block};
        net_workers_submit(p, &w[i]);
    }
    cr_assert_eq(net_workers_threads(p), 4);
    atomic_store(&release, true);
    net_workers_destroy(p);
    cr_assert_eq(atomic_load(&ran), 12);
}

static void check_stack(void *arg)
{
    size_t *size = arg;
    pthread_attr_t attr;
    pthread_getattr_np(pthread_self(), &attr);
    pthread_attr_getstacksize(&attr, size);
    pthread_attr_destroy(&attr);
    atomic_fetch_add(&ran, 1);
}

Test(workers, threads_have_the_stack_asked_for)
{
    net_workers *p;
    size_t size = 0;
    cr_assert_eq(net_workers_create(NULL, &p), 0);
    net_work w = {.fn = check_stack, .arg = &size};
    net_workers_submit(p, &w);
    wait_ran(1);
    net_workers_destroy(p);
    cr_assert_geq(size, 4u << 20);
}

Test(workers, destroy_runs_what_is_queued)
{
    net_workers_options o = {.min_threads = 1, .max_threads = 1};
    net_workers *p;
    cr_assert_eq(net_workers_create(&o, &p), 0);
    static net_work w[100];
    for (int i = 0; i < 100; i++) {
        w[i] = (net_work){.fn = count};
        net_workers_submit(p, &w[i]);
    }
    net_workers_destroy(p);
    cr_assert_eq(atomic_load(&ran), 100);
}
