/*
 * node_cluster.c - see node_cluster.h.
 *
 * Threads: the test thread is the loop of every node and owns the message
 * queue, the counters and the kv_node calls. Workers (spawn pool), servers
 * (remote requests) and clients touch only what `mu` guards: the cut
 * links, stopped flags, the calls in flight and the wake condition.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/kv_codec.h"
#include "kv/local_keys.h"
#include "kv/mvcc.h"
#include "kv/node_int.h"
#include "kv_test_util.h"
#include "node_cluster.h"

#define POOL_THREADS     3
#define SETTLE_REAL_MS   5000
#define TICK_REAL_US     1000
#define START_CLOCK_NS   INT64_C(1700000000000000000)
#define DEFAULT_LEASE_NS INT64_C(1000000000)

/* ---- a small thread pool -------------------------------------------------- */

typedef struct job {
    struct job *next;
    void (*fn)(void *data);
    void *data;
} job;

typedef struct pool {
    pthread_t th[POOL_THREADS];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *head, *tail;
    unsigned active; /* queued or running */
    bool paused;     /* queued jobs wait */
    bool quit;
} pool;

static void *pool_main(void *arg)
{
    pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while ((p->head == NULL || p->paused) && !p->quit)
            pthread_cond_wait(&p->cv, &p->mu);
        job *j = p->head;
        if (j == NULL)
            break; /* quit, and everything queued ran */
        p->head = j->next;
        if (p->head == NULL)
            p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->data);
        free(j);
        pthread_mutex_lock(&p->mu);
        p->active--;
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static void pool_start(pool *p)
{
    *p = (pool){0};
    cr_assert_eq(pthread_mutex_init(&p->mu, NULL), 0);
    cr_assert_eq(pthread_cond_init(&p->cv, NULL), 0);
    for (int i = 0; i < POOL_THREADS; i++)
        cr_assert_eq(pthread_create(&p->th[i], NULL, pool_main, p), 0);
}

static int pool_submit(pool *p, void (*fn)(void *data), void *data)
{
    job *j = malloc(sizeof(*j));
    if (j == NULL)
        return -1;
    *j = (job){.fn = fn, .data = data};
    pthread_mutex_lock(&p->mu);
    if (p->tail != NULL)
        p->tail->next = j;
    else
        p->head = j;
    p->tail = j;
    p->active++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

static unsigned pool_active(pool *p)
{
    pthread_mutex_lock(&p->mu);
    unsigned n = p->active;
    pthread_mutex_unlock(&p->mu);
    return n;
}

static void pool_pause(pool *p, bool paused)
{
    pthread_mutex_lock(&p->mu);
    p->paused = paused;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* Runs what is queued, then joins the threads. */
static void pool_stop(pool *p)
{
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < POOL_THREADS; i++)
        pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
}

/* ---- the cluster ---------------------------------------------------------- */

typedef struct msg {
    uint64_t from, to;
    uint8_t type;
    uint8_t *p;
    size_t len;
} msg;

typedef struct member {
    nc_cluster *c;
    uint64_t id;
    char dir[KV_TEST_PATH_MAX];
    kv_store *s;
    kv_node *n;
    int64_t skew_ns;
    bool stopped; /* written under c->mu */
    unsigned restarts;
    int woken; /* atomic */
} member;

/* A remote request in flight: the caller's, on its stack. */
typedef struct rcall {
    struct rcall *next;
    uint64_t id, from, to;
    uint64_t deadline; /* tick after which it fails with KV_EUNAVAILABLE */
    bool done;
    int rc;
    kv_buf answer; /* the encoded response when rc == 0 */
    pthread_cond_t cv;
} rcall;

struct nc_cluster {
    nc_options o;
    member m[NC_MAX_NODES + 1]; /* by node id, 1-based */
    pthread_t loop;
    int64_t clock_ns; /* atomic */
    /* Loop thread. */
    msg *q;
    size_t nq, capq;
    unsigned drop_pct, dup_pct;
    bool reorder;
    uint64_t rng;
    uint64_t call_seq;
    int64_t last_tick_us;
    nc_observe_fn observe;
    void *observe_arg;
    /* Guarded by mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv; /* a wake, a finished client or job */
    bool cut[NC_MAX_NODES + 1][NC_MAX_NODES + 1];
    bool silent;    /* cut links are not noticed: calls time out */
    uint64_t ticks; /* for call deadlines */
    rcall *calls;
    uint64_t next_call;
    uint64_t remote_calls[NC_MAX_NODES + 1][NC_MAX_NODES + 1];
    /* Any thread (their own locks). */
    pool spawn_pool, serve_pool;
};

static uint64_t rnd(nc_cluster *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}

static void signal_loop(nc_cluster *c)
{
    pthread_mutex_lock(&c->mu);
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

/* Whether a and b can talk; the caller holds mu or is the loop thread. */
static bool linked(const nc_cluster *c, uint64_t a, uint64_t b)
{
    return !c->cut[a][b] && !c->m[a].stopped && !c->m[b].stopped;
}

/* Node m's physical clock: the simulated time plus its skew. */
static int64_t sim_clock(void *arg)
{
    const member *m = arg;
    return __atomic_load_n(&m->c->clock_ns, __ATOMIC_RELAXED) + m->skew_ns;
}

int64_t nc_now_ms(nc_cluster *c)
{
    return (__atomic_load_n(&c->clock_ns, __ATOMIC_RELAXED) - START_CLOCK_NS) / 1000000;
}

static void assert_loop(const nc_cluster *c)
{
    cr_assert(pthread_equal(pthread_self(), c->loop), "a loop-thread hook ran on another thread");
}

/* ---- kv_node hooks -------------------------------------------------------- */

static int hook_send(void *arg, uint64_t to, uint8_t type, const void *payload, size_t len)
{
    member *m = arg;
    nc_cluster *c = m->c;
    assert_loop(c);
    cr_assert(to >= 1 && to <= c->o.nodes && to != m->id, "n%llu sends to node %llu",
              (unsigned long long)m->id, (unsigned long long)to);
    if (c->observe != NULL)
        c->observe(c->observe_arg, c->call_seq, m->id, to, type, payload, len);
    if (c->nq == c->capq) {
        c->capq = c->capq ? 2 * c->capq : 64;
        c->q = realloc(c->q, c->capq * sizeof(*c->q));
        cr_assert_not_null(c->q);
    }
    uint8_t *copy = malloc(len ? len : 1);
    cr_assert_not_null(copy);
    memcpy(copy, payload, len);
    c->q[c->nq++] = (msg){m->id, to, type, copy, len};
    return 0;
}

static void hook_wake(void *arg)
{
    member *m = arg;
    __atomic_store_n(&m->woken, 1, __ATOMIC_RELEASE);
    signal_loop(m->c);
}

static int hook_spawn(void *arg, void (*fn)(void *data), void *data)
{
    member *m = arg;
    assert_loop(m->c);
    return pool_submit(&m->c->spawn_pool, fn, data);
}

static size_t hook_live(void *arg, uint64_t *ids, size_t cap)
{
    member *m = arg;
    nc_cluster *c = m->c;
    assert_loop(c);
    size_t k = 0;
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        if (id != m->id && linked(c, m->id, id) && k < cap)
            ids[k++] = id;
    }
    return k;
}

/* ---- remote requests (kv_store_set_remote) -------------------------------- */

typedef struct served {
    nc_cluster *c;
    uint64_t call, from, to;
    kv_buf body;
} served;

static rcall *find_call(nc_cluster *c, uint64_t id)
{
    for (rcall *r = c->calls; r != NULL; r = r->next) {
        if (r->id == id)
            return r;
    }
    return NULL;
}

/* Completes call r (mu held); the caller unlinks it when it wakes. */
static void complete_call(rcall *r, int rc, const kv_buf *answer)
{
    r->done = true;
    r->rc = rc;
    if (rc == 0 && kv_buf_set(&r->answer, answer->data, answer->len) != 0)
        r->rc = KV_EUNAVAILABLE;
    pthread_cond_signal(&r->cv);
}

/* Server pool: what net/node_rpc.c's serve does on the target node. */
static void serve(void *arg)
{
    served *sv = arg;
    nc_cluster *c = sv->c;
    kv_request req;
    kv_response resp;
    kv_buf answer = {0};
    cr_assert_eq(kv_request_init(&req), 0);
    cr_assert_eq(kv_response_init(&resp), 0);
    cr_assert_eq(kv_request_decode(sv->body.data, sv->body.len, &req), 0);
    kv_store *s = c->m[sv->to].s;
    kv_ts ts = req.h.txn != NULL ? req.h.txn->write_ts : req.h.ts;
    if (!kv_ts_is_zero(ts))
        (void)kv_hlc_update(kv_store_clock(s), ts, NULL);
    (void)kv_store_send_local(s, &req, &resp);
    cr_assert_eq(kv_response_encode(&resp, &answer), 0);
    pthread_mutex_lock(&c->mu);
    rcall *r = find_call(c, sv->call);
    bool lost = !linked(c, sv->to, sv->from);
    if (r != NULL && !r->done && !(lost && c->silent))
        complete_call(r, lost ? KV_EUNAVAILABLE : 0, &answer);
    pthread_mutex_unlock(&c->mu);
    kv_buf_free(&answer);
    kv_response_free(&resp);
    kv_request_free(&req);
    kv_buf_free(&sv->body);
    free(sv);
}

static void unlink_call(nc_cluster *c, rcall *r)
{
    for (rcall **pp = &c->calls; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            return;
        }
    }
}

/* Registers the call and queues its serving (mu held); over a silently
 * cut link the request is lost on the way. */
static int post_call(nc_cluster *c, rcall *r, const kv_request *req)
{
    r->deadline = c->ticks + NC_CALL_TIMEOUT_TICKS;
    if (!linked(c, r->from, r->to)) {
        r->next = c->calls;
        c->calls = r;
        return 0;
    }
    served *sv = calloc(1, sizeof(*sv));
    if (sv == NULL)
        return KV_ENOMEM;
    *sv = (served){.c = c, .call = r->id, .from = r->from, .to = r->to};
    if (kv_request_encode(req, &sv->body) != 0 || pool_submit(&c->serve_pool, serve, sv) != 0) {
        kv_buf_free(&sv->body);
        free(sv);
        return KV_ENOMEM;
    }
    r->next = c->calls;
    c->calls = r;
    return 0;
}

static int remote_send(void *arg, uint64_t node, const kv_request *req, kv_response *resp)
{
    member *m = arg;
    nc_cluster *c = m->c;
    rcall r = {.from = m->id, .to = node, .rc = KV_EUNAVAILABLE};
    cr_assert_eq(pthread_cond_init(&r.cv, NULL), 0);
    pthread_mutex_lock(&c->mu);
    r.id = ++c->next_call;
    if (node >= 1 && node <= c->o.nodes)
        c->remote_calls[m->id][node]++;
    bool known = node >= 1 && node <= c->o.nodes;
    int rc =
        known && (linked(c, m->id, node) || c->silent) ? post_call(c, &r, req) : KV_EUNREACHABLE;
    while (rc == 0 && !r.done)
        pthread_cond_wait(&r.cv, &c->mu);
    if (rc == 0) {
        unlink_call(c, &r);
        rc = r.rc;
    }
    pthread_mutex_unlock(&c->mu);
    pthread_cond_destroy(&r.cv);
    if (rc == 0 && kv_response_decode(r.answer.data, r.answer.len, resp) != 0)
        rc = KV_EUNAVAILABLE;
    else if (rc == 0)
        rc = resp->err;
    kv_buf_free(&r.answer);
    if (rc == KV_EUNAVAILABLE || rc == KV_EUNREACHABLE)
        snprintf(resp->msg, sizeof(resp->msg), "node %llu %s", (unsigned long long)node,
                 rc == KV_EUNAVAILABLE ? "did not answer" : "is unreachable");
    return resp->err = rc;
}

/* Fails the calls crossing a cut link that their callers notice, and
 * those past their deadline (mu held): their answers are lost. */
static void fail_cut_calls(nc_cluster *c)
{
    for (rcall *r = c->calls; r != NULL; r = r->next) {
        bool cut = !linked(c, r->from, r->to) && !c->silent;
        if (!r->done && (cut || c->ticks > r->deadline))
            complete_call(r, KV_EUNAVAILABLE, NULL);
    }
}

/* ---- start and free ------------------------------------------------------- */

/* Opens node id's store in its directory (a new one when `fresh`). */
static void open_member(nc_cluster *c, uint64_t id, bool fresh)
{
    member *m = &c->m[id];
    m->c = c;
    m->id = id;
    m->skew_ns = ((int64_t)id - 2) * c->o.skew_ns;
    if (fresh)
        kv_test_mkdtemp(m->dir);
    kv_store_options so = {.engine = {.create_if_missing = true},
                           .clock = sim_clock,
                           .clock_arg = m,
                           .max_offset_ns = NC_MAX_OFFSET_NS,
                           .no_sync = true,
                           .node_id = (uint32_t)id,
                           .store_id = (uint32_t)id};
    char err[256] = "";
    int rc = kv_store_open(m->dir, &so, &m->s, err, sizeof(err));
    cr_assert_eq(rc, 0, "open n%llu: %s (%s)", (unsigned long long)id, kv_strerror(rc), err);
    kv_store_remote remote = {remote_send, m};
    kv_store_set_remote(m->s, &remote);
}

static void bootstrap(nc_cluster *c)
{
    const uint8_t *keys[64] = {(const uint8_t *)"\x64"};
    size_t lens[64] = {1}, n = 1;
    for (; c->o.splits != NULL && c->o.splits[n - 1] != NULL; n++) {
        cr_assert_lt(n, 64);
        keys[n] = (const uint8_t *)c->o.splits[n - 1];
        lens[n] = strlen(c->o.splits[n - 1]);
    }
    char err[256] = "";
    int rc = kv_store_bootstrap_cluster(c->m[1].s, keys, lens, n, err, sizeof(err));
    cr_assert_eq(rc, 0, "bootstrap: %s (%s)", kv_strerror(rc), err);
}

/* What a joining node learns from the member that welcomes it. */
static void learn_first_range(nc_cluster *c, uint64_t id)
{
    kv_arena *a;
    kv_range_desc d;
    cr_assert_eq(kv_arena_create(&a), 0);
    cr_assert_eq(kv_store_lookup(c->m[1].s, "", 0, a, &d), 0);
    cr_assert_eq(kv_store_cache_desc(c->m[id].s, &d), 0);
    kv_arena_destroy(a);
}

static void start_node(nc_cluster *c, uint64_t id)
{
    member *m = &c->m[id];
    kv_node_options ko = {
        .node_id = id,
        .incarnation = c->o.seed * 1000 + m->restarts * 10 + id,
        .hooks = {hook_send, hook_wake, hook_spawn, hook_live, m},
        .tick_ms = NC_TICK_MS,
        .lease_ns = c->o.lease_ns,
        .raft_log_limit = c->o.raft_log_limit,
    };
    char err[256] = "";
    int rc = kv_node_start(m->s, &ko, &m->n, err, sizeof(err));
    cr_assert_eq(rc, 0, "start n%llu: %s (%s)", (unsigned long long)id, kv_strerror(rc), err);
}

nc_cluster *nc_start(const nc_options *o)
{
    cr_assert(o->nodes >= 1 && o->nodes <= NC_MAX_NODES);
    nc_cluster *c = calloc(1, sizeof(*c));
    cr_assert_not_null(c);
    c->o = *o;
    if (c->o.lease_ns == 0)
        c->o.lease_ns = DEFAULT_LEASE_NS;
    c->rng = o->seed * 2654435761u + 1;
    c->loop = pthread_self();
    c->clock_ns = START_CLOCK_NS;
    cr_assert_eq(pthread_mutex_init(&c->mu, NULL), 0);
    cr_assert_eq(pthread_cond_init(&c->cv, NULL), 0);
    pool_start(&c->spawn_pool);
    pool_start(&c->serve_pool);
    for (uint64_t id = 1; id <= o->nodes; id++)
        open_member(c, id, true);
    bootstrap(c);
    for (uint64_t id = 2; id <= o->nodes; id++)
        learn_first_range(c, id);
    for (uint64_t id = 1; id <= o->nodes; id++)
        start_node(c, id);
    return c;
}

void nc_free(nc_cluster *c)
{
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        if (!c->m[id].stopped)
            nc_stop(c, id);
    }
    pool_stop(&c->serve_pool);
    pool_stop(&c->spawn_pool);
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        member *m = &c->m[id];
        kv_node_free(m->n);
        kv_store_close(m->s);
        kv_test_rmrf(m->dir);
    }
    for (size_t i = 0; i < c->nq; i++)
        free(c->q[i].p);
    free(c->q);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- faults --------------------------------------------------------------- */

void nc_set_silent(nc_cluster *c, bool silent)
{
    pthread_mutex_lock(&c->mu);
    c->silent = silent;
    pthread_mutex_unlock(&c->mu);
}

void nc_pause_jobs(nc_cluster *c, bool paused)
{
    pool_pause(&c->spawn_pool, paused);
}

unsigned nc_jobs(nc_cluster *c)
{
    return pool_active(&c->spawn_pool);
}

void nc_set_faults(nc_cluster *c, unsigned drop_pct, unsigned dup_pct, bool reorder)
{
    c->drop_pct = drop_pct;
    c->dup_pct = dup_pct;
    c->reorder = reorder;
}

void nc_isolate(nc_cluster *c, uint64_t node, bool isolated)
{
    pthread_mutex_lock(&c->mu);
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        if (id != node)
            c->cut[node][id] = c->cut[id][node] = isolated;
    }
    fail_cut_calls(c);
    pthread_mutex_unlock(&c->mu);
}

void nc_stop(nc_cluster *c, uint64_t node)
{
    kv_node_stop(c->m[node].n);
    pthread_mutex_lock(&c->mu);
    c->m[node].stopped = true;
    fail_cut_calls(c);
    pthread_mutex_unlock(&c->mu);
}

uint64_t nc_remote_calls(nc_cluster *c, uint64_t from, uint64_t to)
{
    pthread_mutex_lock(&c->mu);
    uint64_t n = c->remote_calls[from][to];
    pthread_mutex_unlock(&c->mu);
    return n;
}

static bool pools_idle(nc_cluster *c, void *arg)
{
    (void)arg;
    return pool_active(&c->spawn_pool) == 0 && pool_active(&c->serve_pool) == 0;
}

void nc_restart(nc_cluster *c, uint64_t node)
{
    member *m = &c->m[node];
    if (!m->stopped)
        nc_stop(c, node);
    /* kv_node_free wants the node's blocking work finished; the other
     * nodes' jobs may need ticks to finish. */
    cr_assert(nc_run_until(c, pools_idle, NULL, NC_CALL_TICKS), "the workers stay busy");
    kv_node_free(m->n);
    kv_store_close(m->s);
    open_member(c, node, false);
    m->restarts++;
    start_node(c, node);
    __atomic_store_n(&m->woken, 0, __ATOMIC_RELAXED);
    pthread_mutex_lock(&c->mu);
    m->stopped = false;
    pthread_mutex_unlock(&c->mu);
}

void nc_observe(nc_cluster *c, nc_observe_fn fn, void *arg)
{
    c->observe = fn;
    c->observe_arg = arg;
}

/* ---- the loop ------------------------------------------------------------- */

static void deliver(nc_cluster *c, const msg *mg)
{
    if (!linked(c, mg->from, mg->to) || rnd(c) % 100 < c->drop_pct)
        return;
    unsigned times = rnd(c) % 100 < c->dup_pct ? 2 : 1;
    for (unsigned i = 0; i < times; i++) {
        c->call_seq++;
        kv_node_recv(c->m[mg->to].n, mg->from, mg->type, mg->p, mg->len);
    }
}

/* Delivers everything queued now (later sends wait for the next step). */
static bool deliver_queued(nc_cluster *c)
{
    size_t n = c->nq;
    if (n == 0)
        return false;
    msg *batch = c->q;
    c->q = NULL;
    c->nq = c->capq = 0;
    for (size_t i = n; c->reorder && i > 1; i--) {
        size_t j = rnd(c) % i;
        msg t = batch[i - 1];
        batch[i - 1] = batch[j];
        batch[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        deliver(c, &batch[i]);
        free(batch[i].p);
    }
    free(batch);
    return true;
}

static bool process_woken(nc_cluster *c)
{
    bool any = false;
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        member *m = &c->m[id];
        if (m->stopped || !__atomic_exchange_n(&m->woken, 0, __ATOMIC_ACQ_REL))
            continue;
        c->call_seq++;
        kv_node_process(m->n);
        any = true;
    }
    return any;
}

/* Whether a node still waits for its storage thread (node_int.h). */
static bool writes_pending(nc_cluster *c)
{
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        kv_node *n = c->m[id].n;
        for (size_t i = 0; !c->m[id].stopped && i < n->n_rafts; i++) {
            if (n->rafts[i]->persisting || n->rafts[i]->truncating)
                return true;
        }
    }
    return false;
}

static bool any_woken(nc_cluster *c)
{
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        if (__atomic_load_n(&c->m[id].woken, __ATOMIC_ACQUIRE) && !c->m[id].stopped)
            return true;
    }
    return false;
}

static int64_t real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits up to 1 ms of real time for a wake. */
static void wait_wake(nc_cluster *c)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_nsec += 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&c->mu);
    if (!any_woken(c))
        (void)pthread_cond_timedwait(&c->cv, &c->mu, &dl);
    pthread_mutex_unlock(&c->mu);
}

void nc_settle(nc_cluster *c)
{
    int64_t start = real_us();
    bool waited_for_jobs = false;
    while (real_us() - start < SETTLE_REAL_MS * 1000) {
        bool any = process_woken(c);
        any |= deliver_queued(c);
        if (any)
            continue;
        if (!writes_pending(c) && (waited_for_jobs || pool_active(&c->spawn_pool) == 0))
            return;
        /* Spawned jobs may wait on proposals that need ticks (meta record
         * writes): they get one short wait, the storage thread all. */
        waited_for_jobs = !writes_pending(c);
        wait_wake(c);
    }
}

/* Client threads sleep in real time (kv/dist.c backs off between
 * attempts): at most one tick per TICK_REAL_US keeps simulated time from
 * racing through their retries. */
static void pace(nc_cluster *c)
{
    int64_t wait = c->last_tick_us + TICK_REAL_US - real_us();
    if (wait > 0)
        nanosleep(&(struct timespec){0, (long)wait * 1000}, NULL);
    c->last_tick_us = real_us();
}

void nc_tick(nc_cluster *c)
{
    nc_settle(c);
    pace(c);
    __atomic_add_fetch(&c->clock_ns, INT64_C(1000000) * NC_TICK_MS, __ATOMIC_RELAXED);
    pthread_mutex_lock(&c->mu);
    c->ticks++;
    fail_cut_calls(c);
    pthread_mutex_unlock(&c->mu);
    for (uint64_t id = 1; id <= c->o.nodes; id++) {
        if (!c->m[id].stopped) {
            c->call_seq++;
            kv_node_tick(c->m[id].n);
        }
    }
    nc_settle(c);
}

void nc_run(nc_cluster *c, unsigned ticks)
{
    for (unsigned i = 0; i < ticks; i++)
        nc_tick(c);
}

bool nc_run_until(nc_cluster *c, bool (*pred)(nc_cluster *c, void *arg), void *arg,
                  unsigned max_ticks)
{
    for (unsigned i = 0; i < max_ticks; i++) {
        if (pred(c, arg))
            return true;
        nc_tick(c);
    }
    return pred(c, arg);
}

/* ---- clients -------------------------------------------------------------- */

struct nc_call {
    nc_cluster *c;
    kv_store *s;
    kv_request req;
    kv_response resp;
    int rc;
    int done; /* atomic */
    pthread_t th;
};

static void *call_main(void *arg)
{
    nc_call *call = arg;
    call->rc = kv_store_send(call->s, &call->req, &call->resp);
    __atomic_store_n(&call->done, 1, __ATOMIC_RELEASE);
    signal_loop(call->c);
    return NULL;
}

nc_call *nc_call_start(nc_cluster *c, uint64_t node, const kv_req *q)
{
    nc_call *call = calloc(1, sizeof(*call));
    cr_assert_not_null(call);
    call->c = c;
    call->s = c->m[node].s;
    cr_assert_eq(kv_request_init(&call->req), 0);
    cr_assert_eq(kv_request_add(&call->req, q), 0);
    cr_assert_eq(kv_response_init(&call->resp), 0);
    cr_assert_eq(pthread_create(&call->th, NULL, call_main, call), 0);
    return call;
}

bool nc_call_done(const nc_call *call)
{
    return __atomic_load_n(&call->done, __ATOMIC_ACQUIRE) != 0;
}

static bool call_pred(nc_cluster *c, void *arg)
{
    (void)c;
    return nc_call_done(arg);
}

int nc_call_finish(nc_cluster *c, nc_call *call, unsigned max_ticks)
{
    cr_assert(nc_run_until(c, call_pred, call, max_ticks), "a request did not finish in %u ticks",
              max_ticks);
    pthread_join(call->th, NULL);
    return call->rc;
}

const kv_response *nc_call_resp(const nc_call *call)
{
    return &call->resp;
}

void nc_call_free(nc_call *call)
{
    kv_response_free(&call->resp);
    kv_request_free(&call->req);
    free(call);
}

kv_req nc_req(kv_method method, const char *key, const char *val, int64_t delta)
{
    kv_req q = {.method = method, .span = {(const uint8_t *)key, strlen(key), NULL, 0}};
    if (method == KV_PUT) {
        q.u.put.value = (const uint8_t *)val;
        q.u.put.value_len = strlen(val);
    }
    if (method == KV_INCREMENT)
        q.u.inc.delta = delta;
    return q;
}

int nc_put(nc_cluster *c, uint64_t node, const char *key, const char *val)
{
    kv_req q = nc_req(KV_PUT, key, val, 0);
    nc_call *call = nc_call_start(c, node, &q);
    int rc = nc_call_finish(c, call, NC_CALL_TICKS);
    nc_call_free(call);
    return rc;
}

int nc_get(nc_cluster *c, uint64_t node, const char *key, char val[64], bool *found)
{
    kv_req q = nc_req(KV_GET, key, NULL, 0);
    nc_call *call = nc_call_start(c, node, &q);
    int rc = nc_call_finish(c, call, NC_CALL_TICKS);
    const kv_resp *r = rc == 0 ? &nc_call_resp(call)->resps[0] : NULL;
    *found = r != NULL && r->found;
    val[0] = 0;
    if (*found)
        snprintf(val, 64, "%.*s", (int)r->row.value_len, (const char *)r->row.value);
    nc_call_free(call);
    return rc;
}

/* ---- observation ---------------------------------------------------------- */

bool nc_replica(nc_cluster *c, uint64_t node, uint64_t range_id, kv_arena *a,
                kv_replica_status *out)
{
    kv_replica_status *st;
    size_t n;
    if (c->m[node].stopped)
        return false;
    cr_assert_eq(kv_node_status(c->m[node].n, a, &st, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (st[i].range_id == range_id) {
            *out = st[i];
            return true;
        }
    }
    return false;
}

uint64_t nc_leaseholder(nc_cluster *c, uint64_t range_id)
{
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    uint64_t holder = 0;
    for (uint64_t id = 1; id <= c->o.nodes && holder == 0; id++) {
        kv_replica_status st;
        if (nc_replica(c, id, range_id, a, &st) && st.leaseholder == id)
            holder = id;
    }
    kv_arena_destroy(a);
    return holder;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (uint8_t)(n >> (8 * i));
    for (int i = 0; i < 8; i++)
        h = (h ^ len[i]) * 1099511628211u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211u;
    return h;
}

static uint64_t digest_span(kv_engine *e, kv_cf cf, const kv_buf *lo, const kv_buf *hi, uint64_t h,
                            size_t *records)
{
    kv_iter *it;
    cr_assert_eq(kv_iter_open(e, NULL, cf, lo->data, lo->len, hi->data, hi->len, &it, NULL, 0), 0);
    for (kv_iter_seek_first(it); kv_iter_valid(it); kv_iter_next(it)) {
        size_t kl, vl;
        const char *k = kv_iter_key(it, &kl), *v = kv_iter_value(it, &vl);
        h = fnv(fnv(h, k, kl), v, vl);
        ++*records;
    }
    cr_assert_eq(kv_iter_status(it, NULL, 0), 0);
    kv_iter_close(it);
    return h;
}

uint64_t nc_range_digest(nc_cluster *c, uint64_t node, const kv_range_desc *d, size_t *records)
{
    kv_engine *e = kv_store_engine(c->m[node].s);
    kv_buf lo = {0}, hi = {0};
    cr_assert_eq(kv_mvcc_encode_key(&lo, d->start_key, d->start_len, NULL), 0);
    if (d->end_len > 0)
        cr_assert_eq(kv_mvcc_encode_key(&hi, d->end_key, d->end_len, NULL), 0);
    *records = 0;
    uint64_t h = digest_span(e, KV_CF_MVCC, &lo, &hi, 14695981039346656037u, records);
    uint8_t key[KV_LOCAL_KEY_MAX];
    size_t klen = kv_local_key(key, d->range_id, KV_LOCAL_APPLIED_STATE, 0);
    kv_buf val = {0};
    cr_assert_eq(kv_engine_get(e, NULL, KV_CF_LOCAL, key, klen, &val, NULL, 0), 0);
    h = fnv(h, val.data, val.len);
    kv_buf_free(&val);
    kv_buf_free(&lo);
    kv_buf_free(&hi);
    return h;
}
