/*
 * workers.c - the worker thread pool (net/workers.h).
 *
 * One mutex guards the FIFO of jobs and the thread accounting. A thread
 * waits on `work` when the queue is empty; `nidle` counts such threads so
 * submit knows whether a queued job will be picked up or needs a new
 * thread. Threads above the minimum wait with a timeout and exit when it
 * expires with nothing queued; an exiting thread puts itself on the `dead`
 * list, whose threads are joined by the next spawn or by destroy (joining
 * needs a thread that is not the one exiting).
 */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "net/workers.h"

#define DEFAULT_MAX   256
#define DEFAULT_STACK (4u << 20)
#define DEFAULT_IDLE  10000u

typedef struct thread_rec {
    pthread_t tid;
    struct net_workers *pool;
    struct thread_rec *next;
} thread_rec;

struct net_workers {
    net_workers_options opts;
    pthread_mutex_t mu;
    pthread_cond_t work;
    net_work *head, *tail;
    size_t queued;
    size_t nthreads, nidle;
    thread_rec *live, *dead;
    bool stopping;
};

/* Removes `t` from the live list (under mu). */
static void unlink_live(net_workers *p, thread_rec *t)
{
    thread_rec **pp = &p->live;
    while (*pp != t)
        pp = &(*pp)->next;
    *pp = t->next;
}

/* Waits for a job (under mu). NULL: this thread should exit. */
static net_work *next_job(net_workers *p)
{
    while (p->head == NULL) {
        if (p->stopping)
            return NULL;
        p->nidle++;
        int rc;
        if (p->nthreads > p->opts.min_threads) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += p->opts.idle_ms / 1000;
            until.tv_nsec += (long)(p->opts.idle_ms % 1000) * 1000000;
            if (until.tv_nsec >= 1000000000) {
                until.tv_sec++;
                until.tv_nsec -= 1000000000;
            }
            rc = pthread_cond_timedwait(&p->work, &p->mu, &until);
        } else {
            rc = pthread_cond_wait(&p->work, &p->mu);
        }
        p->nidle--;
        if (rc == ETIMEDOUT && p->head == NULL && p->nthreads > p->opts.min_threads)
            return NULL;
    }
    net_work *w = p->head;
    p->head = w->next;
    if (p->head == NULL)
        p->tail = NULL;
    p->queued--;
    return w;
}

static void *thread_main(void *arg)
{
    thread_rec *self = arg;
    net_workers *p = self->pool;
    pthread_mutex_lock(&p->mu);
    for (net_work *w; (w = next_job(p)) != NULL;) {
        pthread_mutex_unlock(&p->mu);
        w->fn(w->arg);
        pthread_mutex_lock(&p->mu);
    }
    p->nthreads--;
    unlink_live(p, self);
    self->next = p->dead;
    p->dead = self;
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Joins the threads that have exited (under mu; they no longer take it). */
static void reap_dead(net_workers *p)
{
    while (p->dead != NULL) {
        thread_rec *t = p->dead;
        p->dead = t->next;
        pthread_join(t->tid, NULL);
        free(t);
    }
}

/* Starts one thread (under mu). NET_ENOMEM, NET_ESYSTEM. */
static int spawn(net_workers *p)
{
    reap_dead(p);
    thread_rec *t = malloc(sizeof(*t));
    if (t == NULL)
        return NET_ENOMEM;
    t->pool = p;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        goto out_free_rec;
    if (pthread_attr_setstacksize(&attr, p->opts.stack_bytes) != 0)
        goto out_destroy_attr;
    if (pthread_create(&t->tid, &attr, thread_main, t) != 0)
        goto out_destroy_attr;
    pthread_attr_destroy(&attr);
    t->next = p->live;
    p->live = t;
    p->nthreads++;
    return 0;
out_destroy_attr:
    pthread_attr_destroy(&attr);
out_free_rec:
    free(t);
    return NET_ESYSTEM;
}

static void apply_defaults(net_workers_options *o)
{
    if (o->min_threads == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        o->min_threads = 2 * (size_t)(cpus > 0 ? cpus : 1);
    }
    if (o->max_threads == 0)
        o->max_threads = DEFAULT_MAX;
    if (o->max_threads < o->min_threads)
        o->max_threads = o->min_threads;
    if (o->stack_bytes == 0)
        o->stack_bytes = DEFAULT_STACK;
    if (o->idle_ms == 0)
        o->idle_ms = DEFAULT_IDLE;
}

int net_workers_create(const net_workers_options *opts, net_workers **out)
{
    net_workers *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NET_ENOMEM;
    if (opts != NULL)
        p->opts = *opts;
    apply_defaults(&p->opts);
    int rc = NET_ESYSTEM;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        goto out_free;
    if (pthread_cond_init(&p->work, NULL) != 0)
        goto out_destroy_mutex;
    pthread_mutex_lock(&p->mu);
    for (size_t i = 0; i < p->opts.min_threads && rc != NET_ENOMEM; i++)
        rc = spawn(p);
    pthread_mutex_unlock(&p->mu);
    if (rc < 0) {
        net_workers_destroy(p);
        return rc;
    }
    *out = p;
    return 0;
out_destroy_mutex:
    pthread_mutex_destroy(&p->mu);
out_free:
    free(p);
    return rc;
}

void net_workers_submit(net_workers *p, net_work *w)
{
    w->next = NULL;
    pthread_mutex_lock(&p->mu);
    assert(!p->stopping);
    if (p->tail != NULL)
        p->tail->next = w;
    else
        p->head = w;
    p->tail = w;
    p->queued++;
    /* Every idle thread may already be claimed by earlier queued jobs. A
     * failed spawn leaves the job queued for a thread that frees up. */
    if (p->queued > p->nidle && p->nthreads < p->opts.max_threads)
        (void)spawn(p);
    pthread_mutex_unlock(&p->mu);
    /* Signalled after the unlock, so the thread it wakes does not find the
     * mutex still held and sleep on it a second time. */
    pthread_cond_signal(&p->work);
}

size_t net_workers_threads(net_workers *p)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->nthreads;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void net_workers_destroy(net_workers *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    /* Join outside the lock: exiting threads take it one last time. */
    while (p->live != NULL || p->dead != NULL) {
        thread_rec *t = p->live != NULL ? p->live : p->dead;
        pthread_t tid = t->tid;
        pthread_mutex_unlock(&p->mu);
        pthread_join(tid, NULL);
        pthread_mutex_lock(&p->mu);
        /* After the join the thread is on the dead list: drop its record. */
        thread_rec **pp = &p->dead;
        while (*pp != NULL && (*pp)->tid != tid)
            pp = &(*pp)->next;
        assert(*pp != NULL);
        thread_rec *done = *pp;
        *pp = done->next;
        free(done);
    }
    assert(p->head == NULL && p->nthreads == 0);
    pthread_mutex_unlock(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
