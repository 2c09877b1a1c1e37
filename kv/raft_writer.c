/*
 * raft_writer.c - the storage thread (contract in raft_writer.h).
 *
 * One mutex guards the queue, the sticky error and the counters. The thread
 * swaps the whole queue out under it, then stages, writes and completes the
 * round without it, so submitters only ever wait for a pointer swap, never
 * for the fsync; whatever they queue meanwhile is the next round.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv/kv_int.h"
#include "kv/raft_storage_int.h"
#include "kv/raft_writer.h"

struct kv_raft_writer {
    kv_engine *engine;
    kv_raft_writer_options opts;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    kv_raft_persist_req *head, *tail; /* the next round */
    bool stopping;
    int failed; /* sticky KV_E* code of the first failed round */
    char msg[256];
    kv_raft_writer_stats stats;
    kv_batch *batch; /* writer thread only, reused every round */
};

/* Stages every request of the round and writes them with one fsync. */
static int write_round(kv_raft_writer *w, kv_raft_persist_req *list, char *msg, size_t msglen)
{
    int rc = 0;
    kv_batch_clear(w->batch);
    for (kv_raft_persist_req *r = list; r && rc == 0; r = r->next) {
        rc = kv__raft_storage_stage(r->storage, w->batch, r);
        if (rc != 0)
            kv__errf(msg, msglen, rc, "staging the round: %s", kv_strerror(rc));
    }
    if (rc == 0 && w->opts.fault && (rc = w->opts.fault(w->opts.fault_arg)) != 0)
        kv__errf(msg, msglen, rc, "injected fault: %s", kv_strerror(rc));
    if (rc == 0)
        rc = kv_engine_write(w->engine, w->batch, true, msg, msglen);
    return rc;
}

/* Marks the round's requests with `rc` and, if durable, updates their
 * ranges in memory (in submission order, so one range's requests apply in
 * order). Returns the number of entries made durable. */
static uint64_t settle_round(kv_raft_persist_req *list, int rc)
{
    uint64_t entries = 0;
    for (kv_raft_persist_req *r = list; r; r = r->next) {
        r->status = rc;
        if (rc == 0) {
            kv__raft_storage_persisted(r->storage, r);
            entries += r->n_entries;
        } else {
            kv__raft_storage_unstage(r->storage);
        }
    }
    return entries;
}

static void record_round(kv_raft_writer *w, kv_raft_persist_req *list, int rc, bool wrote,
                         uint64_t entries, const char *msg)
{
    uint64_t n = 0;
    size_t bytes = 0;
    for (kv_raft_persist_req *r = list; r; r = r->next)
        n++;
    if (wrote)
        kv_batch_data(w->batch, &bytes);
    pthread_mutex_lock(&w->mu);
    w->stats.rounds += wrote;
    w->stats.requests += n;
    w->stats.entries += entries;
    w->stats.bytes += bytes;
    w->stats.max_per_round = n > w->stats.max_per_round ? n : w->stats.max_per_round;
    if (rc != 0 && w->failed == 0) {
        w->failed = rc;
        snprintf(w->msg, sizeof w->msg, "%s", msg);
    }
    w->stats.failed_rounds += rc != 0 && wrote;
    pthread_mutex_unlock(&w->mu);
}

static void deliver(kv_raft_writer *w, kv_raft_persist_req *list)
{
    if (w->opts.deliver) {
        w->opts.deliver(w->opts.deliver_arg, list);
        return;
    }
    while (list) {
        kv_raft_persist_req *next = list->next; /* the cb may free or resubmit it */
        kv_raft_persist_req_complete(list);
        list = next;
    }
}

/* One round; `sticky` is the writer's earlier failure (then nothing is
 * written and every request gets it). */
static void run_round(kv_raft_writer *w, kv_raft_persist_req *list, int sticky)
{
    char msg[256] = "";
    int rc = sticky ? sticky : write_round(w, list, msg, sizeof msg);
    uint64_t entries = settle_round(list, rc);
    record_round(w, list, rc, sticky == 0, entries, msg);
    deliver(w, list);
}

static void *writer_main(void *arg)
{
    kv_raft_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->head == NULL && !w->stopping)
            pthread_cond_wait(&w->wake, &w->mu);
        if (w->head == NULL)
            break; /* stopping, and everything queued is done */
        kv_raft_persist_req *list = w->head;
        int sticky = w->failed;
        w->head = w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        run_round(w, list, sticky);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

int kv_raft_writer_start(kv_engine *e, const kv_raft_writer_options *opts, kv_raft_writer **out)
{
    kv_raft_writer *w = calloc(1, sizeof(*w));
    int rc = KV_ENOMEM;
    if (w == NULL)
        goto out;
    w->engine = e;
    if (opts)
        w->opts = *opts;
    if ((rc = kv_batch_create(&w->batch)) != 0)
        goto out_free_writer;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
        rc = KV_EIO;
        goto out_destroy_sync;
    }
    *out = w;
    return 0;

out_destroy_sync:
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    kv_batch_destroy(w->batch);
out_free_writer:
    free(w);
out:
    return rc;
}

void kv_raft_writer_stop(kv_raft_writer *w)
{
    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    kv_batch_destroy(w->batch);
    free(w);
}

int kv_raft_writer_submit(kv_raft_writer *w, kv_raft_persist_req *req)
{
    if (req->storage == NULL || req->cb == NULL || kv__raft_storage_check(req->storage, req) != 0)
        return KV_EINVAL;
    req->next = NULL;
    req->status = 0;
    pthread_mutex_lock(&w->mu);
    assert(!w->stopping);
    int rc = w->failed;
    if (rc == 0) {
        if (w->tail)
            w->tail->next = req;
        else
            w->head = req;
        w->tail = req;
    }
    pthread_mutex_unlock(&w->mu);
    /* After the unlock: the woken writer does not sleep again on the mutex. */
    if (rc == 0)
        pthread_cond_signal(&w->wake);
    return rc;
}

void kv_raft_persist_req_complete(kv_raft_persist_req *req)
{
    req->cb(req, req->status);
}

void kv_raft_writer_stats_get(kv_raft_writer *w, kv_raft_writer_stats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->stats;
    pthread_mutex_unlock(&w->mu);
}

int kv_raft_writer_error(kv_raft_writer *w, char *err, size_t errlen)
{
    pthread_mutex_lock(&w->mu);
    int rc = w->failed;
    if (rc != 0 && err && errlen)
        snprintf(err, errlen, "%s", w->msg);
    pthread_mutex_unlock(&w->mu);
    return rc;
}
