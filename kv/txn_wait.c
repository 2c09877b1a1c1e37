/*
 * txn_wait.c - wait queue of blocked pushers and deadlock detection
 * (contract in txn_wait.h).
 *
 * Blocked pushers live on their own stacks, linked into one list: there are at most
 * as many as there are client threads, so walking it to follow waits-for
 * edges is cheap, and each waiter has its own condition variable, so a
 * finished pushee wakes only the pushers waiting on it.
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/txn_wait.h"

struct waiter {
    struct waiter *next;
    const kv__pusher *pusher;
    uint8_t pushee[KV_TXN_ID_LEN];
    pthread_cond_t cond;
    bool woken;
    bool victim;
    bool canceled; /* the pusher's own transaction finished (aborted) */
};

struct kv__txn_wait {
    pthread_mutex_t mu;
    struct waiter *waiters;
    size_t n_waiters;
    uint64_t finishes; /* kv__txn_wait_finished calls: see kv__txn_wait_for */
};

int kv__txn_wait_create(kv__txn_wait **out)
{
    kv__txn_wait *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return KV_ENOMEM;
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        goto out_free_wait;
    *out = w;
    return 0;

out_free_wait:
    free(w);
    return KV_ENOMEM;
}

void kv__txn_wait_destroy(kv__txn_wait *w)
{
    if (w == NULL)
        return;
    assert(w->waiters == NULL);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

void kv__txn_wait_finished(kv__txn_wait *w, const uint8_t id[KV_TXN_ID_LEN])
{
    pthread_mutex_lock(&w->mu);
    w->finishes++;
    for (struct waiter *wt = w->waiters; wt != NULL; wt = wt->next) {
        bool pushee = memcmp(wt->pushee, id, KV_TXN_ID_LEN) == 0;
        bool self = memcmp(wt->pusher->id, id, KV_TXN_ID_LEN) == 0;
        wt->woken |= pushee;
        wt->canceled |= self;
        if (pushee || self)
            pthread_cond_signal(&wt->cond);
    }
    pthread_mutex_unlock(&w->mu);
}

/* The blocked waiter of transaction `id`, if it is waiting. */
static struct waiter *waiting(kv__txn_wait *w, const uint8_t id[KV_TXN_ID_LEN])
{
    for (struct waiter *wt = w->waiters; wt != NULL; wt = wt->next) {
        if (memcmp(wt->pusher->id, id, KV_TXN_ID_LEN) == 0)
            return wt;
    }
    return NULL;
}

/* Whether a should be aborted rather than b: lower priority, then the
 * greater id. */
static bool worse(const struct waiter *a, const struct waiter *b)
{
    if (a->pusher->priority != b->pusher->priority)
        return a->pusher->priority < b->pusher->priority;
    return memcmp(a->pusher->id, b->pusher->id, KV_TXN_ID_LEN) > 0;
}

/* Follows the waits-for edges from the new waiter `me`; if they come back
 * to it, wakes the cycle's victim. A cycle that already has a victim on
 * its way out is left to it. */
static void detect(kv__txn_wait *w, struct waiter *me)
{
    struct waiter *victim = me;
    size_t steps = 0;
    for (struct waiter *wt = waiting(w, me->pushee); wt != me; wt = waiting(w, wt->pushee)) {
        if (wt == NULL || wt->victim || ++steps > w->n_waiters)
            return;
        if (worse(wt, victim))
            victim = wt;
    }
    victim->victim = true;
    pthread_cond_signal(&victim->cond);
}

static struct timespec deadline_after(int64_t ns)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t total = (int64_t)t.tv_nsec + ns;
    t.tv_sec += total / 1000000000;
    t.tv_nsec = total % 1000000000;
    return t;
}

static void unlink_waiter(kv__txn_wait *w, struct waiter *me)
{
    struct waiter **p = &w->waiters;
    while (*p != me)
        p = &(*p)->next;
    *p = me->next;
    w->n_waiters--;
}

uint64_t kv__txn_wait_finishes(kv__txn_wait *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t n = w->finishes;
    pthread_mutex_unlock(&w->mu);
    return n;
}

int kv__txn_wait_for(kv__txn_wait *w, const kv__pusher *p, const uint8_t pushee[KV_TXN_ID_LEN],
                     uint64_t seen, int64_t poll_ns)
{
    struct waiter me = {.pusher = p};
    memcpy(me.pushee, pushee, KV_TXN_ID_LEN);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&me.cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return KV_ENOMEM;
    struct timespec until = deadline_after(poll_ns);
    pthread_mutex_lock(&w->mu);
    if (w->finishes != seen) {
        /* The pushee may have finished since the push: its wake-up is
         * past, so push again now rather than sleep through a poll. */
        pthread_mutex_unlock(&w->mu);
        pthread_cond_destroy(&me.cond);
        return 0;
    }
    me.next = w->waiters;
    w->waiters = &me;
    w->n_waiters++;
    detect(w, &me);
    rc = 0;
    while (!me.woken && !me.victim && !me.canceled && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&me.cond, &w->mu, &until);
    unlink_waiter(w, &me);
    pthread_mutex_unlock(&w->mu);
    pthread_cond_destroy(&me.cond);
    return me.victim ? KV_ETXNABORTED : me.canceled ? KV_ECANCELED : 0;
}

size_t kv__txn_wait_count(kv__txn_wait *w)
{
    pthread_mutex_lock(&w->mu);
    size_t n = w->n_waiters;
    pthread_mutex_unlock(&w->mu);
    return n;
}
