/*
 * resolver.c - the asynchronous intent resolver (contract in resolver.h).
 *
 * A job is one heap block: the header, then the spans, then their key
 * bytes, so queuing costs one allocation per finished transaction. Jobs
 * form a FIFO list; `queued` counts them against KV__RESOLVER_QUEUE and
 * `done` counts jobs sent, which is what kv__resolver_flush waits on.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kv/resolver.h"
#include "kv/store_int.h"

struct job {
    struct job *next;
    kv_txn_meta txn;
    kv_txn_status status;
    kv_ts commit_ts;
    size_t n;
    kv_span spans[]; /* n spans, then their keys */
};

struct kv__resolver {
    kv_store *store;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job arrived or stop was set */
    pthread_cond_t idle; /* `done` advanced */
    struct job *head, **tail;
    size_t queued;
    uint64_t enqueued, done;
    bool stop;
};

static void *run(void *arg)
{
    kv__resolver *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->head == NULL && !r->stop)
            pthread_cond_wait(&r->work, &r->mu);
        struct job *j = r->head;
        if (j == NULL)
            break;
        r->head = j->next;
        if (r->head == NULL)
            r->tail = &r->head;
        r->queued--;
        pthread_mutex_unlock(&r->mu);
        kv__store_resolve(r->store, j->spans, j->n, &j->txn, j->status, j->commit_ts);
        free(j);
        pthread_mutex_lock(&r->mu);
        r->done++;
        pthread_cond_broadcast(&r->idle);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int kv__resolver_create(kv_store *s, kv__resolver **out)
{
    kv__resolver *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return KV_ENOMEM;
    r->store = s;
    r->tail = &r->head;
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        goto out_free;
    if (pthread_cond_init(&r->work, NULL) != 0)
        goto out_destroy_mu;
    if (pthread_cond_init(&r->idle, NULL) != 0)
        goto out_destroy_work;
    if (pthread_create(&r->thread, NULL, run, r) != 0)
        goto out_destroy_idle;
    *out = r;
    return 0;

out_destroy_idle:
    pthread_cond_destroy(&r->idle);
out_destroy_work:
    pthread_cond_destroy(&r->work);
out_destroy_mu:
    pthread_mutex_destroy(&r->mu);
out_free:
    free(r);
    return KV_ENOMEM;
}

void kv__resolver_destroy(kv__resolver *r)
{
    if (r == NULL)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = true;
    pthread_cond_signal(&r->work);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->idle);
    pthread_cond_destroy(&r->work);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* One block holding the job, its spans and their keys. */
static struct job *make_job(const kv_span *spans, size_t n)
{
    size_t bytes = sizeof(struct job) + n * sizeof(kv_span);
    for (size_t i = 0; i < n; i++)
        bytes += spans[i].key_len + spans[i].end_len;
    struct job *j = malloc(bytes);
    if (j == NULL)
        return NULL;
    uint8_t *p = (uint8_t *)&j->spans[n];
    for (size_t i = 0; i < n; i++) {
        j->spans[i] = spans[i];
        memcpy(p, spans[i].key, spans[i].key_len);
        j->spans[i].key = p;
        p += spans[i].key_len;
        if (spans[i].end_key != NULL) {
            memcpy(p, spans[i].end_key, spans[i].end_len);
            j->spans[i].end_key = p;
            p += spans[i].end_len;
        }
    }
    j->n = n;
    j->next = NULL;
    return j;
}

bool kv__resolver_enqueue(kv__resolver *r, const kv_span *spans, size_t n, const kv_txn_meta *txn,
                          kv_txn_status status, kv_ts commit_ts)
{
    struct job *j = make_job(spans, n);
    if (j == NULL)
        return false;
    j->txn = *txn;
    j->status = status;
    j->commit_ts = commit_ts;
    pthread_mutex_lock(&r->mu);
    bool ok = r->queued < KV__RESOLVER_QUEUE && !r->stop;
    if (ok) {
        *r->tail = j;
        r->tail = &j->next;
        r->queued++;
        r->enqueued++;
        pthread_cond_signal(&r->work);
    }
    pthread_mutex_unlock(&r->mu);
    if (!ok)
        free(j);
    return ok;
}

void kv__resolver_flush(kv__resolver *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t target = r->enqueued;
    while (r->done < target)
        pthread_cond_wait(&r->idle, &r->mu);
    pthread_mutex_unlock(&r->mu);
}
