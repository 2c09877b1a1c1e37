/*
 * raft_writer_stress.c - the storage thread under concurrent submitters, for
 * TSan (make tsan-test) and as the measurement of group commit.
 *
 * SUBMITTERS threads each own two ranges and share one more (submitted
 * under a mutex, in index order, as the node loop would). Each request
 * appends 1-4 entries and waits for its completion; owned ranges sometimes
 * overwrite their last entry with a higher term (a new leader) and truncate
 * their log up to half of what is applied. A reader thread meanwhile reads
 * every range through raft/'s storage table and checks that every entry it
 * gets is whole ("r<range>t<term>i<index>"). At the end each range is
 * reopened from disk and compared with what its owner expects.
 *
 * Prints requests, entries, fsync rounds, requests and entries per round
 * and entries per second. Exit status 0 = pass. KV_RAFT_STRESS_REQS sets
 * the requests per submitter (default 300).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/kv_error.h"
#include "kv/raft_storage.h"
#include "kv/raft_writer.h"

enum { SUBMITTERS = 4, OWNED = 2, RANGES = SUBMITTERS * OWNED + 1, MAX_BATCH = 4 };

struct range {
    kv_raft_storage *s;
    uint64_t id;
    uint64_t last, term, trunc; /* what the owner expects once durable */
    pthread_mutex_t mu;         /* the shared range only: index order */
};

struct done {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int status;
};

static kv_engine *eng;
static kv_raft_writer *writer;
static struct range ranges[RANGES];
static atomic_bool stop_reader;
static int reqs_per_thread = 300;

static void die(const char *what, int rc)
{
    fprintf(stderr, "raft_writer_stress: %s: %s\n", what, kv_strerror(rc));
    exit(1);
}

static void on_done(kv_raft_persist_req *req, int status)
{
    struct done *d = req->data;
    pthread_mutex_lock(&d->mu);
    d->done = true;
    d->status = status;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Submits req and waits for its completion, as the node loop waits for a
 * ready's write before advancing. */
static void persist(kv_raft_persist_req *req)
{
    struct done d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};
    req->cb = on_done;
    req->data = &d;
    int rc = kv_raft_writer_submit(writer, req);
    if (rc != 0)
        die("submit", rc);
    pthread_mutex_lock(&d.mu);
    while (!d.done)
        pthread_cond_wait(&d.cv, &d.mu);
    pthread_mutex_unlock(&d.mu);
    if (d.status != 0)
        die("persist", d.status);
}

struct entries {
    raft_entry_t e[MAX_BATCH];
    char data[MAX_BATCH][48];
};

static void fill(struct entries *b, size_t n, const struct range *r, uint64_t first, uint64_t term)
{
    for (size_t k = 0; k < n; k++) {
        int len =
            snprintf(b->data[k], sizeof b->data[k], "r%llut%llui%llu", (unsigned long long)r->id,
                     (unsigned long long)term, (unsigned long long)(first + k));
        b->e[k] = (raft_entry_t){.term = term,
                                 .index = first + k,
                                 .len = (uint32_t)len,
                                 .data = (const uint8_t *)b->data[k]};
    }
}

/* Appends n entries; with `overwrite`, the last entry is replaced first by
 * a higher term's (n >= 1 entries from last on). */
static void append(struct range *r, size_t n, bool overwrite)
{
    struct entries b;
    if (overwrite && r->last > r->trunc + 1) {
        r->term++;
        r->last--;
    }
    fill(&b, n, r, r->last + 1, r->term);
    kv_raft_persist_req req = {.storage = r->s, .entries = b.e, .n_entries = n};
    raft_hard_state_t hs = {.term = r->term, .vote = 1, .commit = r->last};
    req.hs = &hs;
    r->last += n;
    persist(&req);
}

static void truncate_half(struct range *r)
{
    kv_applied_state as = {.index = r->last, .term = r->term};
    kv_batch *b;
    char err[256];
    int rc = kv_batch_create(&b);
    rc = rc ? rc : kv_raft_storage_applied_put(r->s, b, &as);
    rc = rc ? rc : kv_engine_write(eng, b, false, err, sizeof err);
    kv_batch_destroy(b);
    if (rc != 0)
        die("applied state", rc);
    kv_raft_storage_set_applied(r->s, &as);
    uint64_t idx = r->trunc + (r->last - r->trunc) / 2, term;
    if (idx <= r->trunc)
        return;
    raft_storage_t t = kv_raft_storage_table(r->s);
    if ((rc = t.term(t.ud, idx, &term)) != 0) {
        fprintf(stderr, "raft_writer_stress: term(%llu): %s\n", (unsigned long long)idx,
                raft_strerror(rc));
        exit(1);
    }
    kv_raft_persist_req req = {.storage = r->s, .truncate_index = idx, .truncate_term = term};
    persist(&req);
    r->trunc = idx;
}

static void *submitter(void *arg)
{
    int me = (int)(intptr_t)arg;
    unsigned seed = (unsigned)me * 7919u + 1;
    for (int i = 0; i < reqs_per_thread; i++) {
        size_t n = 1 + (size_t)(rand_r(&seed) % MAX_BATCH);
        int pick = rand_r(&seed) % (OWNED + 1);
        if (pick == OWNED) {
            struct range *r = &ranges[RANGES - 1];
            pthread_mutex_lock(&r->mu); /* one submitter at a time, in order */
            append(r, n, false);
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        struct range *r = &ranges[me * OWNED + pick];
        append(r, n, rand_r(&seed) % 16 == 0);
        if (rand_r(&seed) % 32 == 0)
            truncate_half(r);
    }
    return NULL;
}

/* Every entry handed out must be whole: its data names its range, term and
 * index. */
static void check_entry(const struct range *r, const raft_entry_t *e)
{
    char want[48];
    int len = snprintf(want, sizeof want, "r%llut%llui%llu", (unsigned long long)r->id,
                       (unsigned long long)e->term, (unsigned long long)e->index);
    if (e->len != (uint32_t)len || memcmp(e->data, want, e->len) != 0) {
        fprintf(stderr, "raft_writer_stress: range %llu entry %llu is torn\n",
                (unsigned long long)r->id, (unsigned long long)e->index);
        exit(1);
    }
}

static void *reader(void *arg)
{
    (void)arg;
    raft_entry_t out[64];
    while (!atomic_load(&stop_reader)) {
        for (int i = 0; i < RANGES; i++) {
            raft_storage_t t = kv_raft_storage_table(ranges[i].s);
            uint64_t first = t.first_index(t.ud), last = t.last_index(t.ud);
            uint64_t lo = last > first + 32 ? last - 32 : first;
            size_t n = 0;
            int rc = lo <= last ? t.entries(t.ud, lo, last + 1, 4096, out, &n) : 0;
            /* A truncation or an overwrite may land between the bounds and
             * the read: those answers are legitimate, anything else is not. */
            if (rc != 0 && rc != RAFT_ECOMPACTED && rc != RAFT_EUNAVAILABLE) {
                fprintf(stderr, "raft_writer_stress: read: %s\n", raft_strerror(rc));
                exit(1);
            }
            for (size_t k = 0; k < n; k++)
                check_entry(&ranges[i], &out[k]);
        }
    }
    return NULL;
}

/* Reopens every range from disk and compares it with its owner's view. */
static int verify(void)
{
    char err[256];
    int failed = 0;
    for (int i = 0; i < RANGES; i++) {
        struct range *r = &ranges[i];
        kv_raft_storage *s;
        int rc = kv_raft_storage_open(eng, r->id, NULL, &s, err, sizeof err);
        if (rc != 0)
            die(err, rc);
        raft_storage_t t = kv_raft_storage_table(s);
        raft_entry_t out[64];
        if (t.last_index(t.ud) != r->last || t.first_index(t.ud) != r->trunc + 1) {
            fprintf(stderr, "range %llu: log [%llu, %llu], want [%llu, %llu]\n",
                    (unsigned long long)r->id, (unsigned long long)t.first_index(t.ud),
                    (unsigned long long)t.last_index(t.ud), (unsigned long long)r->trunc + 1,
                    (unsigned long long)r->last);
            failed = 1;
        }
        for (uint64_t lo = r->trunc + 1; !failed && lo <= r->last;) {
            size_t n = 0;
            uint64_t hi = r->last + 1 < lo + 64 ? r->last + 1 : lo + 64; /* out's room */
            if (t.entries(t.ud, lo, hi, 1 << 20, out, &n) != 0 || n == 0)
                die("verify read", KV_ECORRUPT);
            for (size_t k = 0; k < n; k++)
                check_entry(r, &out[k]);
            lo += n;
        }
        kv_raft_storage_close(s);
    }
    return failed;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(double secs)
{
    kv_raft_writer_stats st;
    kv_raft_writer_stats_get(writer, &st);
    printf("raft_writer_stress: %d submitters, %llu requests, %llu entries, %llu fsync rounds\n",
           SUBMITTERS, (unsigned long long)st.requests, (unsigned long long)st.entries,
           (unsigned long long)st.rounds);
    printf("  %.2f requests/round (max %llu), %.2f entries/fsync, %.0f entries/s, %.0f "
           "requests/s, %.0f fsyncs/s\n",
           (double)st.requests / (double)st.rounds, (unsigned long long)st.max_per_round,
           (double)st.entries / (double)st.rounds, (double)st.entries / secs,
           (double)st.requests / secs, (double)st.rounds / secs);
}

int main(void)
{
    char dir[] = "/tmp/kvraftstress-XXXXXX", err[256];
    const char *env = getenv("KV_RAFT_STRESS_REQS");
    if (env)
        reqs_per_thread = atoi(env);
    if (mkdtemp(dir) == NULL)
        die("mkdtemp", KV_EIO);
    int rc = kv_engine_open(dir, NULL, &eng, err, sizeof err);
    rc = rc ? rc : kv_raft_writer_start(eng, NULL, &writer);
    for (int i = 0; rc == 0 && i < RANGES; i++) {
        ranges[i] = (struct range){.id = 1 + (uint64_t)i, .term = 1};
        pthread_mutex_init(&ranges[i].mu, NULL);
        rc = kv_raft_storage_open(eng, ranges[i].id, NULL, &ranges[i].s, err, sizeof err);
    }
    if (rc != 0)
        die(err, rc);
    pthread_t th[SUBMITTERS], rd;
    double t0 = now_s();
    pthread_create(&rd, NULL, reader, NULL);
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_create(&th[i], NULL, submitter, (void *)(intptr_t)i);
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    atomic_store(&stop_reader, true);
    pthread_join(rd, NULL);
    report(secs);
    kv_raft_writer_stop(writer);
    int failed = verify();
    for (int i = 0; i < RANGES; i++) {
        kv_raft_storage_close(ranges[i].s);
        pthread_mutex_destroy(&ranges[i].mu);
    }
    kv_engine_close(eng);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed;
}
