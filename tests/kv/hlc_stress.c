/*
 * hlc_stress.c - the HLC shared by several threads (the node loop and SQL
 * workers share one): concurrent now() and update() must give every caller
 * strictly increasing timestamps and never the same timestamp twice. Runs
 * under TSan (make tsan-test); exit status 0 = pass.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv/hlc.h"

enum { THREADS = 4, PER_THREAD = 50000 };

static kv_hlc *clock_;
static _Atomic int64_t last_wall; /* a "remote" timestamp other threads publish */

struct worker {
    kv_ts got[PER_THREAD];
};

static void *run(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < PER_THREAD; i++) {
        if (i % 3 == 0) {
            kv_ts remote = {atomic_load(&last_wall), 7};
            if (kv_hlc_update(clock_, remote, &w->got[i]) != 0) {
                fprintf(stderr, "hlc_stress: update refused a timestamp from this clock\n");
                exit(1);
            }
        } else {
            w->got[i] = kv_hlc_now(clock_);
        }
        atomic_store(&last_wall, w->got[i].wall);
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    return kv_ts_cmp(*(const kv_ts *)a, *(const kv_ts *)b);
}

int main(void)
{
    struct worker *w = calloc(THREADS, sizeof(*w));
    kv_ts *all = malloc(sizeof(kv_ts) * THREADS * PER_THREAD);
    pthread_t th[THREADS];
    if (w == NULL || all == NULL || kv_hlc_create(kv_hlc_wall_clock, NULL, 0, &clock_) != 0)
        return 1;
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, run, &w[i]);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    int failed = 0;
    for (int i = 0; i < THREADS; i++) {
        for (int j = 0; j < PER_THREAD; j++) {
            if (j > 0 && kv_ts_cmp(w[i].got[j], w[i].got[j - 1]) <= 0)
                failed = fprintf(stderr, "hlc_stress: thread %d went backwards at %d\n", i, j);
            all[i * PER_THREAD + j] = w[i].got[j];
        }
    }
    qsort(all, THREADS * PER_THREAD, sizeof(kv_ts), cmp);
    for (int i = 1; i < THREADS * PER_THREAD; i++) {
        if (kv_ts_cmp(all[i], all[i - 1]) == 0)
            failed = fprintf(stderr, "hlc_stress: duplicate timestamp\n");
    }
    kv_hlc_destroy(clock_);
    free(all);
    free(w);
    if (!failed)
        printf("hlc_stress: %d threads x %d timestamps, all unique and increasing\n", THREADS,
               PER_THREAD);
    return failed ? 1 : 0;
}
