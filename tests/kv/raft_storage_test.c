/*
 * raft_storage_test.c - a range's durable Raft state (kv/raft_storage.h) and
 * the group-committing storage thread (kv/raft_writer.h): round trips of
 * appends, overwrites and truncations, restart, the entry cache against
 * RocksDB, group commit, per-range completion order, delivery through the
 * caller, injected write failures and snapshots.
 *
 * Group commit is observed deterministically: the writer's fault hook (which
 * runs before each round's write) holds the first round until the test has
 * queued everything it wants in the second.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kv/kv_error.h"
#include "kv/local_keys.h"
#include "kv/raft_storage.h"
#include "kv/raft_writer.h"
#include "kv_test_util.h"

static char dir[KV_TEST_PATH_MAX];
static kv_engine *eng;
static kv_raft_writer *writer;
static char err[512];

/* The fault hook: holds rounds while `hold` is set, fails one round. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool hold;
    int held;    /* rounds waiting in the hook */
    int fail_at; /* round number (1-based) to fail with KV_EIO; 0: none */
    int round;
} gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0, 0, 0};

static int gate_hook(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&gate.mu);
    int round = ++gate.round;
    gate.held++;
    pthread_cond_broadcast(&gate.cv);
    while (gate.hold)
        pthread_cond_wait(&gate.cv, &gate.mu);
    gate.held--;
    int rc = round == gate.fail_at ? KV_EIO : 0;
    pthread_mutex_unlock(&gate.mu);
    return rc;
}

static void gate_wait_held(void)
{
    pthread_mutex_lock(&gate.mu);
    while (gate.held == 0)
        pthread_cond_wait(&gate.cv, &gate.mu);
    pthread_mutex_unlock(&gate.mu);
}

static void gate_set_hold(bool hold)
{
    pthread_mutex_lock(&gate.mu);
    gate.hold = hold;
    pthread_cond_broadcast(&gate.cv);
    pthread_mutex_unlock(&gate.mu);
}

static void start_writer(void)
{
    kv_raft_writer_options o = {.fault = gate_hook};
    cr_assert_eq(kv_raft_writer_start(eng, &o, &writer), 0);
}

static void setup(void)
{
    gate.hold = false;
    gate.fail_at = gate.round = gate.held = 0;
    eng = kv_test_open(dir);
    start_writer();
}

static void teardown(void)
{
    gate_set_hold(false);
    kv_raft_writer_stop(writer);
    kv_engine_close(eng);
    kv_test_rmrf(dir);
}

TestSuite(raft_storage, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------- */

/* A request whose completion the test can wait for; `seq` records the order
 * in which completions ran. */
struct waiter {
    kv_raft_persist_req req;
    raft_entry_t ents[64];
    uint8_t data[64][32];
    raft_hard_state_t hs;
    bool done;
    int status;
    int seq;
};

static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int done_seq;

static void on_done(kv_raft_persist_req *req, int status)
{
    struct waiter *w = req->data;
    pthread_mutex_lock(&done_mu);
    w->done = true;
    w->status = status;
    w->seq = done_seq++;
    pthread_cond_broadcast(&done_cv);
    pthread_mutex_unlock(&done_mu);
}

static void wait_done(struct waiter *w)
{
    pthread_mutex_lock(&done_mu);
    while (!w->done)
        pthread_cond_wait(&done_cv, &done_mu);
    pthread_mutex_unlock(&done_mu);
}

/* Entry data is "r<range>t<term>i<index>" so every entry is recognisable. */
static void fill_entry(struct waiter *w, size_t k, uint64_t range, uint64_t term, uint64_t index)
{
    int n =
        snprintf((char *)w->data[k], sizeof w->data[k], "r%llut%llui%llu",
                 (unsigned long long)range, (unsigned long long)term, (unsigned long long)index);
    w->ents[k] =
        (raft_entry_t){.term = term, .index = index, .len = (uint32_t)n, .data = w->data[k]};
}

/* Prepares an append of [first, first+n) at `term` to `s` (not submitted). */
static void prep_append(struct waiter *w, kv_raft_storage *s, uint64_t first, size_t n,
                        uint64_t term)
{
    memset(w, 0, sizeof(*w));
    cr_assert_leq(n, 64);
    for (size_t k = 0; k < n; k++)
        fill_entry(w, k, kv_raft_storage_range_id(s), term, first + k);
    w->req = (kv_raft_persist_req){
        .storage = s, .entries = w->ents, .n_entries = n, .cb = on_done, .data = w};
}

static void submit(struct waiter *w)
{
    int rc = kv_raft_writer_submit(writer, &w->req);
    cr_assert_eq(rc, 0, "submit: %s", kv_strerror(rc));
}

static void persist(struct waiter *w)
{
    submit(w);
    wait_done(w);
    cr_assert_eq(w->status, 0, "persist: %s", kv_strerror(w->status));
}

static void append(kv_raft_storage *s, uint64_t first, size_t n, uint64_t term)
{
    struct waiter w;
    prep_append(&w, s, first, n, term);
    persist(&w);
}

static void truncate_to(kv_raft_storage *s, uint64_t index, uint64_t term)
{
    struct waiter w = {0};
    w.req = (kv_raft_persist_req){
        .storage = s, .truncate_index = index, .truncate_term = term, .cb = on_done, .data = &w};
    persist(&w);
}

static kv_raft_storage *open_range(uint64_t range, const kv_raft_storage_options *o)
{
    kv_raft_storage *s = NULL;
    int rc = kv_raft_storage_open(eng, range, o, &s, err, sizeof err);
    cr_assert_eq(rc, 0, "open range %llu: %s (%s)", (unsigned long long)range, kv_strerror(rc),
                 err);
    return s;
}

static void set_applied(kv_raft_storage *s, uint64_t index, uint64_t term)
{
    kv_applied_state as = {.index = index, .term = term};
    as.conf.n_voters = 1;
    as.conf.voters[0] = 1;
    as.stats.live_bytes = (int64_t)index * 100;
    as.stats.intent_count = -3;
    kv_batch *b;
    cr_assert_eq(kv_batch_create(&b), 0);
    cr_assert_eq(kv_raft_storage_applied_put(s, b, &as), 0);
    cr_assert_eq(kv_engine_write(eng, b, true, err, sizeof err), 0, "%s", err);
    kv_batch_destroy(b);
    kv_raft_storage_set_applied(s, &as);
}

/* Checks that entry i read through the table is (term, "r<range>t<term>i<i>"). */
static void check_entry(const raft_entry_t *e, uint64_t range, uint64_t term, uint64_t i)
{
    char want[32];
    int n = snprintf(want, sizeof want, "r%llut%llui%llu", (unsigned long long)range,
                     (unsigned long long)term, (unsigned long long)i);
    cr_assert_eq(e->index, i);
    cr_assert_eq(e->term, term, "entry %llu: term %llu, want %llu", (unsigned long long)i,
                 (unsigned long long)e->term, (unsigned long long)term);
    cr_assert_eq(e->len, (uint32_t)n);
    cr_assert_arr_eq(e->data, want, (size_t)n);
}

static uint64_t term_of(kv_raft_storage *s, uint64_t i)
{
    raft_storage_t t = kv_raft_storage_table(s);
    uint64_t term = 0;
    int rc = t.term(t.ud, i, &term);
    cr_assert_eq(rc, 0, "term(%llu): %s", (unsigned long long)i, raft_strerror(rc));
    return term;
}

static int read_entries(kv_raft_storage *s, uint64_t lo, uint64_t hi, uint64_t max,
                        raft_entry_t *out, size_t *n)
{
    raft_storage_t t = kv_raft_storage_table(s);
    return t.entries(t.ud, lo, hi, max, out, n);
}

/* ---- round trips ------------------------------------------------------------ */

Test(raft_storage, empty_range)
{
    kv_raft_storage *s = open_range(7, NULL);
    raft_storage_t t = kv_raft_storage_table(s);
    raft_hard_state_t hs;
    raft_conf_state_t cs;
    uint64_t term = 99;
    cr_assert_eq(t.first_index(t.ud), 1);
    cr_assert_eq(t.last_index(t.ud), 0);
    cr_assert_eq(t.initial_state(t.ud, &hs, &cs), 0);
    cr_assert(hs.term == 0 && hs.vote == 0 && hs.commit == 0 && cs.n_voters == 0);
    cr_assert_eq(t.term(t.ud, 0, &term), 0);
    cr_assert_eq(term, 0);
    cr_assert_eq(t.term(t.ud, 1, &term), RAFT_EUNAVAILABLE);
    kv_raft_storage_close(s);
}

Test(raft_storage, append_read_term)
{
    kv_raft_storage *s = open_range(1, NULL);
    append(s, 1, 5, 1);
    append(s, 6, 5, 2);
    cr_assert_eq(kv_raft_storage_first_index(s), 1);
    cr_assert_eq(kv_raft_storage_last_index(s), 10);
    for (uint64_t i = 1; i <= 10; i++)
        cr_assert_eq(term_of(s, i), i <= 5 ? 1 : 2);

    raft_entry_t out[16];
    size_t n;
    cr_assert_eq(read_entries(s, 1, 11, UINT64_MAX, out, &n), 0);
    cr_assert_eq(n, 10);
    for (size_t k = 0; k < n; k++)
        check_entry(&out[k], 1, k < 5 ? 1 : 2, k + 1);
    /* Entries 3-9 are 6 bytes ("r1t1i3"...): a 13-byte limit gives two; a
     * limit below one entry still gives one. */
    cr_assert_eq(read_entries(s, 3, 11, 13, out, &n), 0);
    cr_assert_eq(n, 2);
    check_entry(&out[1], 1, 1, 4);
    cr_assert_eq(read_entries(s, 3, 11, 1, out, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(read_entries(s, 5, 12, UINT64_MAX, out, &n), RAFT_EUNAVAILABLE);
    cr_assert_eq(read_entries(s, 0, 3, UINT64_MAX, out, &n), RAFT_ECOMPACTED);
    kv_raft_storage_close(s);
}

Test(raft_storage, overwrite_conflicting_suffix)
{
    kv_raft_storage *s = open_range(2, NULL);
    append(s, 1, 10, 1);
    append(s, 6, 2, 3); /* a new leader's entries replace 6.. and 8-10 go */
    cr_assert_eq(kv_raft_storage_last_index(s), 7);
    cr_assert_eq(term_of(s, 5), 1);
    cr_assert_eq(term_of(s, 7), 3);
    uint64_t term;
    raft_storage_t t = kv_raft_storage_table(s);
    cr_assert_eq(t.term(t.ud, 8, &term), RAFT_EUNAVAILABLE);

    /* RocksDB agrees: a second storage reads the same log from disk. */
    kv_raft_storage *d = open_range(2, NULL);
    cr_assert_eq(kv_raft_storage_last_index(d), 7);
    raft_entry_t out[16];
    size_t n;
    cr_assert_eq(read_entries(d, 1, 8, UINT64_MAX, out, &n), 0);
    cr_assert_eq(n, 7);
    for (size_t k = 0; k < n; k++)
        check_entry(&out[k], 2, k < 5 ? 1 : 3, k + 1);
    /* Appending past the end after an overwrite continues normally. */
    append(s, 8, 3, 3);
    cr_assert_eq(kv_raft_storage_last_index(s), 10);
    kv_raft_storage_close(d);
    d = open_range(2, NULL);
    cr_assert_eq(kv_raft_storage_last_index(d), 10);
    cr_assert_eq(term_of(d, 10), 3);
    kv_raft_storage_close(d);
    kv_raft_storage_close(s);
}

/* Counts range `range`'s log keys in RocksDB and returns the lowest index. */
static size_t count_log(uint64_t range, uint64_t *lowest)
{
    uint8_t lo[KV_LOCAL_KEY_MAX], hi[KV_LOCAL_KEY_MAX];
    size_t llen = kv_local_key(lo, range, KV_LOCAL_RAFT_LOG, 0);
    size_t hlen = kv_local_range_end(hi, range);
    kv_iter *it;
    cr_assert_eq(kv_iter_open(eng, NULL, KV_CF_LOCAL, lo, llen, hi, hlen, &it, err, sizeof err), 0);
    size_t n = 0;
    *lowest = 0;
    for (kv_iter_seek_first(it); kv_iter_valid(it); kv_iter_next(it), n++) {
        size_t klen;
        const uint8_t *k = (const uint8_t *)kv_iter_key(it, &klen);
        uint64_t r, idx;
        enum kv_local_kind kind;
        cr_assert_eq(kv_local_key_decode(k, klen, &r, &kind, &idx), 0);
        if (n == 0)
            *lowest = idx;
    }
    kv_iter_close(it);
    return n;
}

Test(raft_storage, truncate)
{
    kv_raft_storage *s = open_range(3, NULL);
    append(s, 1, 20, 2);
    struct waiter w;
    memset(&w, 0, sizeof w);
    w.req = (kv_raft_persist_req){
        .storage = s, .truncate_index = 10, .truncate_term = 2, .cb = on_done, .data = &w};
    /* Nothing applied yet: truncating would drop entries still needed. */
    cr_assert_eq(kv_raft_writer_submit(writer, &w.req), KV_EINVAL);
    set_applied(s, 15, 2);
    truncate_to(s, 10, 2);
    cr_assert_eq(kv_raft_storage_first_index(s), 11);
    cr_assert_eq(kv_raft_storage_last_index(s), 20);
    cr_assert_eq(term_of(s, 10), 2);
    uint64_t term, idx, lowest;
    raft_storage_t t = kv_raft_storage_table(s);
    cr_assert_eq(t.term(t.ud, 9, &term), RAFT_ECOMPACTED);
    raft_entry_t out[16];
    size_t n;
    cr_assert_eq(read_entries(s, 10, 12, UINT64_MAX, out, &n), RAFT_ECOMPACTED);
    cr_assert_eq(read_entries(s, 11, 21, UINT64_MAX, out, &n), 0);
    cr_assert_eq(n, 10);
    check_entry(&out[0], 3, 2, 11);
    cr_assert_eq(count_log(3, &lowest), 10);
    cr_assert_eq(lowest, 11);
    /* A truncation at or below the current point changes nothing. */
    truncate_to(s, 5, 1);
    kv_raft_storage_truncated(s, &idx, &term);
    cr_assert(idx == 10 && term == 2);
    /* Truncating the whole log leaves first = last + 1. */
    set_applied(s, 20, 2);
    truncate_to(s, 20, 2);
    cr_assert_eq(kv_raft_storage_first_index(s), 21);
    cr_assert_eq(kv_raft_storage_last_index(s), 20);
    cr_assert_eq(count_log(3, &lowest), 0);
    append(s, 21, 2, 4);
    kv_raft_storage_close(s);
    s = open_range(3, NULL);
    cr_assert_eq(kv_raft_storage_first_index(s), 21);
    cr_assert_eq(kv_raft_storage_last_index(s), 22);
    cr_assert_eq(term_of(s, 20), 2);
    kv_raft_storage_close(s);
}

Test(raft_storage, restart_recovers_state)
{
    kv_raft_storage *s = open_range(4, NULL);
    append(s, 1, 30, 3);
    set_applied(s, 25, 3);
    truncate_to(s, 12, 3);
    struct waiter w = {0};
    w.hs = (raft_hard_state_t){.term = 5, .vote = 2, .commit = 28};
    w.req = (kv_raft_persist_req){.storage = s, .hs = &w.hs, .cb = on_done, .data = &w};
    persist(&w);
    kv_raft_storage_close(s);
    kv_raft_writer_stop(writer);
    kv_engine_close(eng);
    cr_assert_eq(kv_engine_open(dir, NULL, &eng, err, sizeof err), 0, "%s", err);
    start_writer();

    s = open_range(4, NULL);
    raft_hard_state_t hs;
    kv_applied_state as;
    uint64_t ti, tt;
    kv_raft_storage_hard_state(s, &hs);
    cr_assert(hs.term == 5 && hs.vote == 2 && hs.commit == 28);
    kv_raft_storage_truncated(s, &ti, &tt);
    cr_assert(ti == 12 && tt == 3);
    cr_assert_eq(kv_raft_storage_last_index(s), 30);
    kv_raft_storage_applied(s, &as);
    cr_assert(as.index == 25 && as.term == 3 && as.stats.live_bytes == 2500 &&
              as.stats.intent_count == -3 && as.conf.n_voters == 1 && as.conf.voters[0] == 1);

    /* raft/ restarts from it: configuration and applied index from the
     * applied state, log bounds and commit from the rest. */
    raft_config_t cfg = {.id = 1,
                         .election_tick = 10,
                         .heartbeat_tick = 1,
                         .storage = kv_raft_storage_table(s),
                         .applied = as.index};
    raft_node_t *r;
    char msg[128];
    cr_assert_eq(raft_new(&cfg, &r, msg, sizeof msg), 0, "%s", msg);
    raft_status_t st;
    raft_status(r, &st);
    cr_assert(st.term == 5 && st.commit == 28 && st.applied == 25 && st.first_index == 13 &&
              st.last_index == 30);
    raft_free(r);
    kv_raft_storage_close(s);
}

Test(raft_storage, cache_matches_rocksdb)
{
    /* A cache of 8 entries / 200 bytes: reads straddle cache and disk. */
    kv_raft_storage_options small = {.cache_bytes = 200, .cache_entries = 8};
    kv_raft_storage *s = open_range(5, &small);
    for (uint64_t i = 1; i <= 60; i += 10)
        append(s, i, 10, 1 + i / 20);
    append(s, 55, 3, 9); /* overwrite inside the cached suffix */
    append(s, 58, 2, 9);
    kv_raft_storage *d = open_range(5, &(kv_raft_storage_options){.cache_entries = 1});
    cr_assert_eq(kv_raft_storage_last_index(d), 59);
    raft_entry_t a[64], b[64];
    static const uint64_t lims[] = {1, 30, 100, UINT64_MAX};
    for (uint64_t lo = 1; lo <= 59; lo += 3) {
        for (size_t l = 0; l < sizeof lims / sizeof lims[0]; l++) {
            size_t na, nb;
            cr_assert_eq(read_entries(s, lo, 60, lims[l], a, &na), 0);
            cr_assert_eq(read_entries(d, lo, 60, lims[l], b, &nb), 0);
            cr_assert_eq(na, nb, "lo %llu limit %llu", (unsigned long long)lo,
                         (unsigned long long)lims[l]);
            for (size_t k = 0; k < na; k++) {
                cr_assert(a[k].index == b[k].index && a[k].term == b[k].term &&
                          a[k].len == b[k].len);
                cr_assert_arr_eq(a[k].data, b[k].data, a[k].len);
            }
        }
    }
    uint64_t hits, misses;
    kv_raft_storage_cache_stats(s, &hits, &misses);
    cr_assert_gt(hits, 0);
    cr_assert_gt(misses, 0);
    /* The freshest entries come from memory alone. */
    kv_raft_storage_cache_stats(s, &hits, &misses);
    uint64_t before = misses;
    size_t n;
    cr_assert_eq(read_entries(s, 57, 60, UINT64_MAX, a, &n), 0);
    cr_assert_eq(n, 3);
    check_entry(&a[0], 5, 9, 57);
    kv_raft_storage_cache_stats(s, &hits, &misses);
    cr_assert_eq(misses, before);
    kv_raft_storage_close(d);
    kv_raft_storage_close(s);
}

/* ---- the storage thread ---------------------------------------------------------- */

Test(raft_storage, group_commit_one_fsync_per_round)
{
    enum { N = 16 };
    kv_raft_storage *s[N];
    static struct waiter w[N];
    for (int i = 0; i < N; i++)
        s[i] = open_range(100 + (uint64_t)i, NULL);
    gate_set_hold(true);
    prep_append(&w[0], s[0], 1, 1, 1);
    submit(&w[0]);
    gate_wait_held(); /* round 1 is in flight with request 0 alone */
    for (int i = 1; i < N; i++) {
        prep_append(&w[i], s[i], 1, 3, 1);
        w[i].hs = (raft_hard_state_t){.term = 1, .vote = 1, .commit = 0};
        w[i].req.hs = &w[i].hs;
        submit(&w[i]);
    }
    gate_set_hold(false);
    for (int i = 0; i < N; i++) {
        wait_done(&w[i]);
        cr_assert_eq(w[i].status, 0);
    }
    kv_raft_writer_stats st;
    kv_raft_writer_stats_get(writer, &st);
    cr_assert_eq(st.rounds, 2);
    cr_assert_eq(st.requests, N);
    cr_assert_eq(st.max_per_round, N - 1);
    cr_assert_eq(st.entries, 1 + 3 * (N - 1));
    for (int i = 0; i < N; i++) {
        cr_assert_eq(kv_raft_storage_last_index(s[i]), i == 0 ? 1 : 3);
        kv_raft_storage_close(s[i]);
    }
}

Test(raft_storage, completions_in_per_range_order)
{
    enum { RANGES = 3, PER = 40 };
    kv_raft_storage *s[RANGES];
    static struct waiter w[RANGES][PER];
    for (int r = 0; r < RANGES; r++)
        s[r] = open_range(200 + (uint64_t)r, NULL);
    /* Requests interleave across ranges and each range appends 2 entries
     * per request after the previous; some land in the same round. */
    for (int i = 0; i < PER; i++) {
        for (int r = 0; r < RANGES; r++) {
            prep_append(&w[r][i], s[r], 1 + 2 * (uint64_t)i, 2, 1);
            submit(&w[r][i]);
        }
    }
    for (int r = 0; r < RANGES; r++) {
        for (int i = 0; i < PER; i++) {
            wait_done(&w[r][i]);
            cr_assert_eq(w[r][i].status, 0);
            if (i > 0)
                cr_assert_gt(w[r][i].seq, w[r][i - 1].seq, "range %d request %d", r, i);
        }
        cr_assert_eq(kv_raft_storage_last_index(s[r]), 2 * PER);
        kv_raft_storage_close(s[r]);
    }
}

/* A deliver function standing in for the node loop's uv_async: it keeps the
 * delivered lists, which the test then completes on its own thread. */
static struct {
    pthread_mutex_t mu;
    kv_raft_persist_req *got[64];
    int n;
} inbox = {PTHREAD_MUTEX_INITIALIZER, {0}, 0};

static void deliver_to_inbox(void *arg, kv_raft_persist_req *head)
{
    (void)arg;
    pthread_mutex_lock(&inbox.mu);
    for (; head; head = head->next)
        inbox.got[inbox.n++] = head;
    pthread_mutex_unlock(&inbox.mu);
}

Test(raft_storage, delivery_through_the_caller)
{
    kv_raft_writer_stop(writer);
    kv_raft_writer_options o = {.deliver = deliver_to_inbox};
    cr_assert_eq(kv_raft_writer_start(eng, &o, &writer), 0);
    kv_raft_storage *s = open_range(300, NULL);
    static struct waiter w[5];
    for (int i = 0; i < 5; i++) {
        prep_append(&w[i], s, 1 + (uint64_t)i, 1, 1);
        submit(&w[i]);
    }
    kv_raft_writer_stop(writer); /* drains the queue: all delivered */
    writer = NULL;
    cr_assert_eq(inbox.n, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(inbox.got[i], &w[i].req, "delivered in submission order");
        cr_assert_eq(inbox.got[i]->status, 0);
        cr_assert_not(w[i].done, "the writer must not run callbacks itself");
        kv_raft_persist_req_complete(inbox.got[i]);
        cr_assert(w[i].done);
    }
    cr_assert_eq(kv_raft_storage_last_index(s), 5);
    kv_raft_storage_close(s);
    start_writer();
}

Test(raft_storage, write_failure_reaches_every_completion)
{
    enum { N = 6 };
    kv_raft_storage *s[N];
    static struct waiter w[N];
    for (int i = 0; i < N; i++)
        s[i] = open_range(400 + (uint64_t)i, NULL);
    append(s[0], 1, 2, 1); /* round 1: durable */
    gate.fail_at = 3;
    gate_set_hold(true);
    prep_append(&w[0], s[0], 3, 2, 1);
    submit(&w[0]);
    gate_wait_held(); /* round 2 in flight; the rest queue for round 3 */
    for (int i = 1; i < N; i++) {
        prep_append(&w[i], s[i], 1, 4, 1);
        submit(&w[i]);
    }
    gate_set_hold(false);
    for (int i = 0; i < N; i++)
        wait_done(&w[i]);
    cr_assert_eq(w[0].status, 0);
    for (int i = 1; i < N; i++) {
        cr_assert_eq(w[i].status, KV_EIO, "request %d: %s", i, kv_strerror(w[i].status));
        cr_assert_eq(kv_raft_storage_last_index(s[i]), 0, "nothing acknowledged, nothing visible");
    }
    char msg[256];
    cr_assert_eq(kv_raft_writer_error(writer, msg, sizeof msg), KV_EIO);
    cr_assert(strstr(msg, "injected") != NULL, "%s", msg);
    /* Sticky: the writer promises nothing after a failed round. */
    struct waiter late;
    prep_append(&late, s[0], 5, 1, 1);
    cr_assert_eq(kv_raft_writer_submit(writer, &late.req), KV_EIO);
    for (int i = 0; i < N; i++) {
        kv_raft_storage_close(s[i]);
        kv_raft_storage *d = open_range(400 + (uint64_t)i, NULL);
        cr_assert_eq(kv_raft_storage_last_index(d), i == 0 ? 4 : 0);
        kv_raft_storage_close(d);
    }
}

Test(raft_storage, submit_rejects_malformed_requests)
{
    kv_raft_storage *s = open_range(500, NULL);
    struct waiter w;
    prep_append(&w, s, 1, 3, 1);
    w.ents[2].index = 7; /* not consecutive */
    cr_assert_eq(kv_raft_writer_submit(writer, &w.req), KV_EINVAL);
    prep_append(&w, s, 1, 1, 1);
    w.req.cb = NULL;
    cr_assert_eq(kv_raft_writer_submit(writer, &w.req), KV_EINVAL);
    prep_append(&w, s, 1, 1, 1);
    w.req.storage = NULL;
    cr_assert_eq(kv_raft_writer_submit(writer, &w.req), KV_EINVAL);
    kv_raft_storage_close(s);
}

Test(raft_storage, snapshot_replaces_the_log)
{
    kv_raft_storage *s = open_range(600, NULL);
    append(s, 1, 10, 1);
    raft_conf_state_t cs = {.n_voters = 3, .voters = {1, 2, 3}};
    raft_snapshot_t snap = {.index = 50, .term = 4, .conf = cs};
    struct waiter w;
    prep_append(&w, s, 51, 2, 4); /* the snapshot, then entries after it */
    w.hs = (raft_hard_state_t){.term = 4, .vote = 0, .commit = 50};
    w.req.snapshot = &snap;
    w.req.hs = &w.hs;
    persist(&w);
    cr_assert_eq(kv_raft_storage_first_index(s), 51);
    cr_assert_eq(kv_raft_storage_last_index(s), 52);
    cr_assert_eq(term_of(s, 50), 4);
    uint64_t lowest;
    cr_assert_eq(count_log(600, &lowest), 2);
    cr_assert_eq(lowest, 51);
    /* Until the replica has ingested the data (applied state at 50) there
     * is no snapshot to send; afterwards it is the applied state. */
    raft_storage_t t = kv_raft_storage_table(s);
    raft_snapshot_t got;
    cr_assert_eq(t.snapshot(t.ud, &got), RAFT_ESNAP_TEMP);
    kv_applied_state as = {.index = 50, .term = 4, .conf = cs};
    kv_raft_storage_set_applied(s, &as);
    cr_assert_eq(t.snapshot(t.ud, &got), 0);
    cr_assert(got.index == 50 && got.term == 4 && got.conf.n_voters == 3 && got.len == 0);
    kv_raft_storage_close(s);
}

Test(raft_storage, corrupt_state_is_refused)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    kv_batch *b;
    kv_raft_storage *s;
    cr_assert_eq(kv_batch_create(&b), 0);
    size_t klen = kv_local_key(key, 700, KV_LOCAL_HARD_STATE, 0);
    cr_assert_eq(kv_batch_put(b, eng, KV_CF_LOCAL, key, klen, "short", 5), 0);
    klen = kv_local_key(key, 701, KV_LOCAL_RAFT_TRUNCATED, 0);
    cr_assert_eq(kv_batch_put(b, eng, KV_CF_LOCAL, key, klen, "0123456789abcde", 15), 0);
    klen = kv_local_key(key, 702, KV_LOCAL_APPLIED_STATE, 0);
    cr_assert_eq(kv_batch_put(b, eng, KV_CF_LOCAL, key, klen, "\x02", 1), 0);
    cr_assert_eq(kv_engine_write(eng, b, false, err, sizeof err), 0);
    kv_batch_destroy(b);
    cr_assert_eq(kv_raft_storage_open(eng, 700, NULL, &s, err, sizeof err), KV_ECORRUPT);
    cr_assert_eq(kv_raft_storage_open(eng, 701, NULL, &s, err, sizeof err), KV_ECORRUPT);
    cr_assert_eq(kv_raft_storage_open(eng, 702, NULL, &s, err, sizeof err), KV_ECORRUPT);
    cr_assert(strstr(err, "applied state") != NULL, "%s", err);
}

Test(raft_storage, log_gap_is_refused)
{
    kv_raft_storage *s = open_range(800, NULL);
    append(s, 1, 5, 1);
    kv_raft_storage_close(s);
    /* Lose entry 1 behind the storage's back: the log no longer starts right
     * after the truncated index. */
    uint8_t key[KV_LOCAL_KEY_MAX];
    kv_batch *b;
    cr_assert_eq(kv_batch_create(&b), 0);
    size_t klen = kv_local_key(key, 800, KV_LOCAL_RAFT_LOG, 1);
    cr_assert_eq(kv_batch_delete(b, eng, KV_CF_LOCAL, key, klen), 0);
    cr_assert_eq(kv_engine_write(eng, b, false, err, sizeof err), 0);
    kv_batch_destroy(b);
    cr_assert_eq(kv_raft_storage_open(eng, 800, NULL, &s, err, sizeof err), KV_ECORRUPT);
}

Test(raft_storage, truncated_state_key)
{
    uint8_t key[KV_LOCAL_KEY_MAX], lg[KV_LOCAL_KEY_MAX];
    uint64_t r, idx;
    enum kv_local_kind kind;
    size_t klen = kv_local_key(key, 9, KV_LOCAL_RAFT_TRUNCATED, 0);
    cr_assert_eq(klen, 10);
    cr_assert_eq(kv_local_key_decode(key, klen, &r, &kind, &idx), 0);
    cr_assert(r == 9 && kind == KV_LOCAL_RAFT_TRUNCATED && idx == 0);
    /* It sorts below the log, so log range deletions never touch it. */
    size_t llen = kv_local_key(lg, 9, KV_LOCAL_RAFT_LOG, 0);
    cr_assert_lt(memcmp(key, lg, klen < llen ? klen : llen), 0);
}

/* ---- with raft/ ------------------------------------------------------------------- */

/* One ready cycle the way the node loop will run it: persist through the
 * writer, wait for durability, then apply and advance. Returns the number of
 * committed entries applied. */
static size_t drive_ready(raft_node_t *r, kv_raft_storage *s)
{
    raft_ready_t rd;
    size_t applied = 0;
    while (raft_has_ready(r)) {
        cr_assert_eq(raft_ready(r, &rd), 0);
        struct waiter w = {0};
        w.req = (kv_raft_persist_req){.storage = s,
                                      .snapshot = rd.snapshot,
                                      .entries = rd.entries,
                                      .n_entries = rd.n_entries,
                                      .hs = rd.hs_changed ? &rd.hs : NULL,
                                      .cb = on_done,
                                      .data = &w};
        persist(&w);
        cr_assert_eq(rd.n_persist_msgs + rd.n_msgs, 0, "a single node sends nothing");
        applied += rd.n_committed;
        cr_assert_eq(raft_advance(r, &rd), 0);
    }
    return applied;
}

Test(raft_storage, drives_a_raft_node)
{
    kv_raft_storage *s = open_range(900, NULL);
    set_applied(s, 0, 0); /* bootstrap: membership {1}, nothing applied */
    raft_config_t cfg = {
        .id = 1, .election_tick = 10, .heartbeat_tick = 1, .storage = kv_raft_storage_table(s)};
    raft_node_t *r;
    char msg[128];
    cr_assert_eq(raft_new(&cfg, &r, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(raft_campaign(r), 0);
    size_t applied = drive_ready(r, s);
    cr_assert_eq(raft_role(r), RAFT_LEADER);
    for (int i = 0; i < 20; i++) {
        char cmd[16];
        int n = snprintf(cmd, sizeof cmd, "cmd%d", i);
        cr_assert_eq(raft_propose(r, cmd, (size_t)n), 0);
        applied += drive_ready(r, s);
    }
    /* The leader's empty entry plus 20 commands, all durable and committed. */
    cr_assert_eq(applied, 21);
    cr_assert_eq(kv_raft_storage_last_index(s), 21);
    raft_hard_state_t hs;
    kv_raft_storage_hard_state(s, &hs);
    cr_assert(hs.term == 1 && hs.vote == 1 && hs.commit == 21);
    raft_free(r);

    /* Restart from disk: the node comes back with its log and commit. */
    kv_raft_storage_close(s);
    s = open_range(900, NULL);
    cfg.storage = kv_raft_storage_table(s);
    cr_assert_eq(raft_new(&cfg, &r, msg, sizeof msg), 0, "%s", msg);
    raft_status_t st;
    raft_status(r, &st);
    cr_assert(st.term == 1 && st.commit == 21 && st.last_index == 21);
    raft_free(r);
    kv_raft_storage_close(s);
}
