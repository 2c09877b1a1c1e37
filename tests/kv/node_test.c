/*
 * node_test.c - the replicated store (kv/node.h) on an in-process cluster
 * (node_cluster.h):
 *
 *   (1) up-replication: every range ends 3-way replicated (learner,
 *       snapshot, voter) with byte-identical data and applied state, even
 *       with messages dropped, duplicated and reordered, and when a
 *       learner's node is lost before its snapshot arrives;
 *   (2) routing: writes through a follower, and through a node with no
 *       replica (meta lookup), reach the leaseholder;
 *   (3) failover: the lease leaves a leaseholder that is cut off (noticed
 *       or silent), stopped or restarted, within FAILOVER_MS of simulated
 *       time; writes continue, no acknowledged write is lost, the old
 *       holder serves no stale read;
 *   (4) heartbeats of 22 ranges to a peer leave as one message per call;
 *       between ticks only a range with work talks;
 *   (5) a follower cut off past the truncated log catches up by snapshot;
 *       a node stopped with a snapshot job queued frees it (ASan);
 *   (6) increments across leadership changes and faults apply once or
 *       are reported ambiguous, never twice.
 *
 * Node 1 bootstraps ranges r1 = [min, "\x64"), r2 = ["\x64", "p") and
 * r3 = ["p", max) (more in the heartbeat test); the others start empty.
 * Clocks of the three nodes differ by up to 40 ms (max offset 50 ms).
 * Every time bound is in simulated time (ticks of NC_TICK_MS), never real
 * time.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kv/kv.h"
#include "kv/node.h"
#include "node_cluster.h"
#include "raft/raft.h"

#define R_USER      2 /* ["\x64", "p"): keys "k..." */
#define R_LAST      3 /* ["p", max): keys "x..." */
#define UP_TICKS    6000
#define LEASE_MS    1000
#define FAILOVER_MS 5000
/* kv/node_lease.c's GIVE_UP_TICKS at the harness's tick (NC_TICK_MS). */
#define GIVE_UP_MS (100 * NC_TICK_MS)

static const char *const two_splits[] = {"p", NULL};

/* Clocks of nodes 1 and 3 are this far behind and ahead of node 2's:
 * 40 ms apart, within the maximum offset. */
#define SKEW_NS (NC_MAX_OFFSET_NS * 2 / 5)

static nc_cluster *start3(uint64_t seed, uint64_t log_limit)
{
    nc_options o = {.nodes = 3,
                    .splits = two_splits,
                    .raft_log_limit = log_limit,
                    .seed = seed,
                    .skew_ns = SKEW_NS};
    return nc_start(&o);
}

/* ---- predicates ----------------------------------------------------------- */

typedef struct ranges {
    uint64_t first, last; /* range ids */
    unsigned nodes;       /* in the cluster */
} ranges;

/* Whether `node` is in the replicas of `st`'s descriptor. */
static bool member_of(const kv_replica_status *st, uint64_t node)
{
    for (uint32_t i = 0; i < st->desc.n_replicas; i++) {
        if (st->desc.replicas[i].node_id == node)
            return true;
    }
    return false;
}

/* Range `id` has 3 voters (every node when there are fewer), each
 * initialized, naming the same replicas and applied up to the same index;
 * a node outside them holds no initialized replica. */
static bool replicated(nc_cluster *c, uint64_t id, unsigned nodes)
{
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv_replica_status st[NC_MAX_NODES + 1] = {0};
    bool has[NC_MAX_NODES + 1] = {0};
    uint64_t first = 0;
    for (uint64_t n = 1; n <= nodes; n++) {
        has[n] = nc_replica(c, n, id, a, &st[n]) && st[n].initialized;
        if (has[n] && first == 0)
            first = n;
    }
    bool ok = first != 0 && st[first].desc.n_replicas == (nodes < 3 ? nodes : 3);
    for (uint32_t i = 0; ok && i < st[first].desc.n_replicas; i++) {
        uint64_t m = st[first].desc.replicas[i].node_id;
        ok = st[first].voter[i] == 1 && m <= nodes && has[m] &&
             st[m].applied == st[first].applied &&
             st[m].desc.n_replicas == st[first].desc.n_replicas;
    }
    for (uint64_t n = 1; ok && n <= nodes; n++)
        ok = !has[n] || member_of(&st[first], n);
    kv_arena_destroy(a);
    return ok;
}

static bool all_replicated(nc_cluster *c, void *arg)
{
    const ranges *r = arg;
    for (uint64_t id = r->first; id <= r->last; id++) {
        if (!replicated(c, id, r->nodes))
            return false;
    }
    return true;
}

/* Logs every replica's state, for a failing wait. */
static void dump(nc_cluster *c, uint64_t last_range, unsigned nodes)
{
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    for (uint64_t id = 1; id <= last_range; id++) {
        for (uint64_t n = 1; n <= nodes; n++) {
            kv_replica_status st;
            if (!nc_replica(c, n, id, a, &st)) {
                cr_log_info("r%llu n%llu: none", (unsigned long long)id, (unsigned long long)n);
                continue;
            }
            char reps[64] = "";
            for (uint32_t i = 0; i < st.desc.n_replicas; i++)
                snprintf(reps + strlen(reps), sizeof(reps) - strlen(reps), " %u%s",
                         st.desc.replicas[i].node_id, st.voter[i] ? "" : "L");
            cr_log_info("r%llu n%llu: init %d replicas [%s] role %u leader %llu term %llu "
                        "commit %llu applied %llu lease n%llu log %llu",
                        (unsigned long long)id, (unsigned long long)n, st.initialized, reps,
                        st.raft_role, (unsigned long long)st.raft_leader,
                        (unsigned long long)st.term, (unsigned long long)st.commit,
                        (unsigned long long)st.applied, (unsigned long long)st.leaseholder,
                        (unsigned long long)st.log_entries);
        }
    }
    kv_arena_destroy(a);
}

static void wait_replicated_on(nc_cluster *c, uint64_t last_range, unsigned nodes)
{
    ranges r = {1, last_range, nodes};
    bool ok = nc_run_until(c, all_replicated, &r, UP_TICKS);
    if (!ok)
        dump(c, last_range, nodes);
    cr_assert(ok, "ranges 1..%llu not replicated after %u ticks", (unsigned long long)last_range,
              UP_TICKS);
}

static void wait_replicated(nc_cluster *c, uint64_t last_range)
{
    wait_replicated_on(c, last_range, 3);
}

/* The applied data of range `id` is the same on every running node. */
static void assert_same_data(nc_cluster *c, uint64_t id, const uint64_t *nodes, size_t n)
{
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv_replica_status st;
    cr_assert(nc_replica(c, nodes[0], id, a, &st));
    size_t recs0, recs;
    uint64_t d0 = nc_range_digest(c, nodes[0], &st.desc, &recs0);
    for (size_t i = 1; i < n; i++) {
        uint64_t d = nc_range_digest(c, nodes[i], &st.desc, &recs);
        cr_assert_eq(recs, recs0, "r%llu: n%llu has %zu records, n%llu %zu", (unsigned long long)id,
                     (unsigned long long)nodes[i], recs, (unsigned long long)nodes[0], recs0);
        cr_assert_eq(d, d0, "r%llu: n%llu's data differs from n%llu's", (unsigned long long)id,
                     (unsigned long long)nodes[i], (unsigned long long)nodes[0]);
    }
    kv_arena_destroy(a);
}

static void put_ok(nc_cluster *c, uint64_t node, const char *key, const char *val)
{
    int rc = nc_put(c, node, key, val);
    cr_assert_eq(rc, 0, "put %s through n%llu: %s", key, (unsigned long long)node, kv_err_name(rc));
}

static void expect_value(nc_cluster *c, uint64_t node, const char *key, const char *want)
{
    char val[64];
    bool found;
    int rc = nc_get(c, node, key, val, &found);
    cr_assert_eq(rc, 0, "get %s through n%llu: %s", key, (unsigned long long)node, kv_err_name(rc));
    cr_assert(found, "%s not found through n%llu", key, (unsigned long long)node);
    cr_assert_str_eq(val, want, "%s through n%llu", key, (unsigned long long)node);
}

TestSuite(node, .timeout = 300);

/* ---- (1) up-replication --------------------------------------------------- */

/* Puts keys [from, to) through node 1, alternately into r2 and r3. */
static void put_spread(nc_cluster *c, int from, int to)
{
    char key[16], val[16];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof(key), "%c%03d", i % 2 ? 'k' : 'x', i);
        snprintf(val, sizeof(val), "v%d", i);
        put_ok(c, 1, key, val);
    }
}

/* Every message may be dropped, duplicated or reordered meanwhile. */
Test(node, up_replicates_every_range_with_identical_data)
{
    nc_cluster *c = start3(1, 0);
    nc_set_faults(c, 10, 10, true);
    put_spread(c, 0, 10);
    wait_replicated(c, R_LAST);
    put_spread(c, 10, 20);
    wait_replicated(c, R_LAST);
    static const uint64_t all[] = {1, 2, 3};
    for (uint64_t id = 1; id <= R_LAST; id++)
        assert_same_data(c, id, all, 3);
    nc_free(c);
}

/* ---- (2) routing through a node without the lease ------------------------- */

Test(node, writes_through_a_follower_reach_the_leaseholder)
{
    nc_cluster *c = start3(2, 0);
    wait_replicated(c, R_LAST);
    uint64_t holder = nc_leaseholder(c, R_USER);
    cr_assert_neq(holder, 0);
    uint64_t via = holder == 3 ? 2 : 3, reader = 6 - holder - via;
    uint64_t before = nc_remote_calls(c, via, holder);
    put_ok(c, via, "kfollower", "one");
    put_ok(c, via, "kfollower2", "two");
    cr_assert_gt(nc_remote_calls(c, via, holder), before,
                 "n%llu wrote without asking the leaseholder n%llu", (unsigned long long)via,
                 (unsigned long long)holder);
    cr_assert_eq(nc_leaseholder(c, R_USER), holder, "the lease moved to the writer");
    expect_value(c, reader, "kfollower", "one");
    expect_value(c, reader, "kfollower2", "two");
    nc_free(c);
}

/* With four nodes each range has three replicas: the fourth finds the
 * range through the meta records and sends to the leaseholder. */
Test(node, a_node_without_a_replica_routes_through_the_meta_range)
{
    nc_options o = {.nodes = 4, .splits = two_splits, .seed = 9};
    nc_cluster *c = nc_start(&o);
    wait_replicated_on(c, R_LAST, 4);
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    uint64_t outsider = 0, holder = nc_leaseholder(c, R_USER);
    for (uint64_t n = 1; n <= 4; n++) {
        kv_replica_status st;
        if (!nc_replica(c, n, R_USER, a, &st) || !st.initialized)
            outsider = n;
    }
    kv_arena_destroy(a);
    cr_assert_neq(outsider, 0, "every node holds r%d", R_USER);
    cr_assert_neq(holder, 0);
    put_ok(c, outsider, "kfar", "away");
    cr_assert_gt(nc_remote_calls(c, outsider, holder), 0);
    expect_value(c, holder == 1 ? 2 : 1, "kfar", "away");
    expect_value(c, outsider, "kfar", "away");
    nc_free(c);
}

/* Node `node`'s replica of range `id` is a learner. */
static bool is_learner(nc_cluster *c, uint64_t id, uint64_t node)
{
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv_replica_status st;
    bool learner = false;
    cr_assert(nc_replica(c, 1, id, a, &st));
    for (uint32_t i = 0; i < st.desc.n_replicas; i++)
        learner |= st.desc.replicas[i].node_id == node && !st.voter[i];
    kv_arena_destroy(a);
    return learner;
}

typedef struct learner_wait {
    uint64_t range, node; /* out: the learner's node */
} learner_wait;

static bool has_learner(nc_cluster *c, void *arg)
{
    learner_wait *w = arg;
    for (w->node = 2; w->node <= 4; w->node++) {
        if (is_learner(c, w->range, w->node))
            return true;
    }
    return false;
}

/* A learner's node goes away before its snapshot arrives (the snapshot
 * jobs are held): the range must still reach three voters on the three
 * nodes left, not wait for that learner forever. */
Test(node, a_learner_on_a_lost_node_does_not_block_replication)
{
    nc_options o = {.nodes = 4, .splits = two_splits, .seed = 11};
    nc_cluster *c = nc_start(&o);
    nc_pause_jobs(c, true);
    learner_wait w = {.range = R_USER};
    cr_assert(nc_run_until(c, has_learner, &w, UP_TICKS), "r%d got no learner", R_USER);
    nc_isolate(c, w.node, true);
    nc_pause_jobs(c, false);
    ranges r = {R_USER, R_USER, 4};
    bool ok = nc_run_until(c, all_replicated, &r, UP_TICKS);
    if (!ok)
        dump(c, R_USER, 4);
    cr_assert(ok, "r%d stays short of voters behind the learner on lost n%llu", R_USER,
              (unsigned long long)w.node);
    nc_free(c);
}

typedef struct replaced {
    uint64_t range, dead;
    unsigned nodes;
} replaced;

/* Range r->range has three voters again, none of them on r->dead, all at
 * the same applied index. */
static bool voter_replaced(nc_cluster *c, void *arg)
{
    const replaced *r = arg;
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv_replica_status st, other;
    uint64_t via = r->dead == 1 ? 2 : 1;
    bool ok = nc_replica(c, via, r->range, a, &st) && st.desc.n_replicas == 3;
    for (uint32_t i = 0; ok && i < st.desc.n_replicas; i++) {
        uint64_t m = st.desc.replicas[i].node_id;
        ok = st.voter[i] && m != r->dead && nc_replica(c, m, r->range, a, &other) &&
             other.initialized && other.applied == st.applied;
    }
    kv_arena_destroy(a);
    return ok;
}

/* A voter's node goes away for good while a fourth node is up: after the
 * dead-node timeout the range drops that voter and re-replicates onto the
 * fourth node, whose data then equals the others'. */
Test(node, a_voter_on_a_dead_node_is_replaced)
{
    nc_options o = {.nodes = 4, .splits = two_splits, .seed = 13};
    nc_cluster *c = nc_start(&o);
    wait_replicated_on(c, R_LAST, 4);
    put_ok(c, 1, "kbefore", "one");
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv_replica_status st;
    cr_assert(nc_replica(c, 1, R_USER, a, &st));
    uint64_t holder = nc_leaseholder(c, R_USER), dead = 0;
    for (uint32_t i = 0; i < st.desc.n_replicas && dead == 0; i++) {
        if (st.desc.replicas[i].node_id != holder)
            dead = st.desc.replicas[i].node_id;
    }
    kv_arena_destroy(a);
    nc_stop(c, dead);
    replaced r = {R_USER, dead, 4};
    bool ok = nc_run_until(c, voter_replaced, &r, UP_TICKS);
    if (!ok)
        dump(c, R_USER, 4);
    cr_assert(ok, "r%d still counts dead n%llu among its voters", R_USER, (unsigned long long)dead);
    put_ok(c, holder, "kafter", "two");
    expect_value(c, holder, "kbefore", "one");
    nc_free(c);
}

/* ---- (3) lease failover --------------------------------------------------- */

typedef struct moved {
    uint64_t range, old;
} moved;

static bool lease_moved(nc_cluster *c, void *arg)
{
    const moved *m = arg;
    uint64_t h = nc_leaseholder(c, m->range);
    return h != 0 && h != m->old;
}

/* Writes keys [from, to) of `prefix` through `node`, recording which were
 * acknowledged. */
static void write_keys(nc_cluster *c, uint64_t node, char prefix, int from, int to, bool *acked)
{
    char key[16];
    for (int i = from; i < to; i++) {
        snprintf(key, sizeof(key), "%c%03d", prefix, i);
        kv_req q = nc_req(KV_PUT, key, key, 0);
        nc_call *call = nc_call_start(c, node, &q);
        int rc = nc_call_finish(c, call, NC_CALL_TICKS);
        acked[i] = rc == 0;
        if (rc != 0)
            cr_log_info("put %s through n%llu: %s (%s)", key, (unsigned long long)node,
                        kv_err_name(rc), nc_call_resp(call)->msg);
        nc_call_free(call);
    }
}

static void check_acked(nc_cluster *c, uint64_t node, char prefix, int n, const bool *acked)
{
    char key[16];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "%c%03d", prefix, i);
        if (acked[i])
            expect_value(c, node, key, key);
    }
}

/* The old holder, still cut off just after the lease moved, must not
 * answer from its expired lease (its clock may lag by up to the maximum
 * offset): a read there waits or fails, and sees "new" once healed. */
static void expect_no_stale_read(nc_cluster *c, uint64_t old)
{
    kv_req q = nc_req(KV_GET, "kstale", NULL, 0);
    nc_call *read = nc_call_start(c, old, &q);
    nc_run(c, 50);
    nc_isolate(c, old, false);
    int rc = nc_call_finish(c, read, NC_CALL_TICKS);
    const kv_resp *r = rc == 0 ? &nc_call_resp(read)->resps[0] : NULL;
    cr_assert(r == NULL || (r->found && r->row.value_len == 3 && !memcmp(r->row.value, "new", 3)),
              "a read through the cut-off old leaseholder returned a stale value");
    nc_call_free(read);
}

enum gone { CUT, SILENT, STOPPED };

/* The leaseholder of r2 goes away (cut off, cut off without the others
 * noticing, or stopped); the lease must move within FAILOVER_MS of
 * simulated time and writes continue there. The write in flight at that
 * moment may end either way (a silent cut times it out as ambiguous); it
 * must not make the writer keep sending to the old holder. */
static void failover(enum gone how)
{
    nc_cluster *c = start3(3 + how, 0);
    bool stop = how == STOPPED;
    nc_set_silent(c, how == SILENT);
    wait_replicated(c, R_LAST);
    moved m = {R_USER, nc_leaseholder(c, R_USER)};
    cr_assert_neq(m.old, 0);
    uint64_t other = m.old == 1 ? 2 : 1;
    bool acked[40] = {0};
    write_keys(c, other, 'k', 0, 10, acked);
    put_ok(c, other, "kstale", "old");
    /* A write in flight when the holder goes: either outcome, but if it
     * was acknowledged it must survive. */
    kv_req q = nc_req(KV_PUT, "k010", "k010", 0);
    nc_call *inflight = nc_call_start(c, other, &q);
    if (stop)
        nc_stop(c, m.old);
    else
        nc_isolate(c, m.old, true);
    int64_t t0 = nc_now_ms(c);
    cr_assert(nc_run_until(c, lease_moved, &m, FAILOVER_MS / NC_TICK_MS),
              "the lease of r%d stayed away for %d ms", R_USER, FAILOVER_MS);
    cr_log_info("lease moved after %lld ms (simulated)", (long long)(nc_now_ms(c) - t0));
    uint64_t third = 6 - m.old - other;
    put_ok(c, third, "kstale", "new");
    if (!stop)
        expect_no_stale_read(c, m.old);
    acked[10] = nc_call_finish(c, inflight, NC_CALL_TICKS) == 0;
    nc_call_free(inflight);
    write_keys(c, other, 'k', 11, 40, acked);
    for (int i = 11; i < 40; i++)
        cr_assert(acked[i], "write %d after the failover failed", i);
    if (!stop)
        check_acked(c, m.old, 'k', 40, acked);
    check_acked(c, third, 'k', 40, acked);
    nc_free(c);
}

Test(node, lease_moves_off_a_partitioned_leaseholder)
{
    failover(CUT);
}

Test(node, lease_moves_off_a_silently_partitioned_leaseholder)
{
    failover(SILENT);
}

Test(node, lease_moves_off_a_stopped_leaseholder)
{
    failover(STOPPED);
}

/* A write the leaseholder proposed just before it was cut off can never
 * commit while the cut lasts (its lease moves on without it): its client
 * must hear KV_EAMBIGUOUS within GIVE_UP_MS rather than wait for the cut
 * to heal; once healed, the range takes writes and its replicas agree. */
Test(node, a_write_stuck_without_a_quorum_is_reported_ambiguous)
{
    nc_cluster *c = start3(9, 0);
    wait_replicated(c, R_LAST);
    uint64_t holder = nc_leaseholder(c, R_USER);
    cr_assert_neq(holder, 0);
    nc_isolate(c, holder, true);
    kv_req q = nc_req(KV_PUT, "kstuck", "kstuck", 0);
    nc_call *w = nc_call_start(c, holder, &q);
    int64_t t0 = nc_now_ms(c);
    cr_assert_eq(nc_call_finish(c, w, 2 * GIVE_UP_MS / NC_TICK_MS), KV_EAMBIGUOUS);
    cr_log_info("stuck write answered after %lld ms (simulated)", (long long)(nc_now_ms(c) - t0));
    nc_call_free(w);
    nc_isolate(c, holder, false);
    put_ok(c, holder, "kafter", "kafter");
    wait_replicated(c, R_LAST);
    static const uint64_t all[] = {1, 2, 3};
    assert_same_data(c, R_USER, all, 3);
    nc_free(c);
}

/* The leaseholder restarts at once, its old lease still running: the
 * range waits for that lease to expire (no other node may take it, and
 * the new incarnation must not serve under it), then recovers with
 * every acknowledged write, and the restarted node ends up with the same
 * data as the others. */
Test(node, a_restarted_leaseholder_rejoins_with_the_same_data)
{
    nc_cluster *c = start3(8, 0);
    wait_replicated(c, R_LAST);
    uint64_t holder = nc_leaseholder(c, R_USER), other = holder == 1 ? 2 : 1;
    cr_assert_neq(holder, 0);
    bool acked[40] = {0};
    write_keys(c, other, 'k', 0, 10, acked);
    nc_restart(c, holder);
    write_keys(c, other, 'k', 10, 40, acked);
    for (int i = 11; i < 40; i++)
        cr_assert(acked[i], "write %d after the restart failed", i);
    wait_replicated(c, R_LAST);
    static const uint64_t all[] = {1, 2, 3};
    for (uint64_t id = 1; id <= R_LAST; id++)
        assert_same_data(c, id, all, 3);
    check_acked(c, holder, 'k', 40, acked);
    nc_free(c);
}

/* ---- (4) coalesced heartbeats, quiet replicas ----------------------------- */

#define MANY_SPLITS 20

typedef struct hb_watch {
    uint64_t last_call[NC_MAX_NODES + 1][NC_MAX_NODES + 1];
    unsigned payloads, split; /* RAFT payloads; same call and destination twice */
    unsigned max_heartbeats;  /* in one payload */
    uint64_t only_range;      /* non-zero: messages of other ranges count as stray */
    unsigned stray;
} hb_watch;

/* What an idle range never sends between ticks: heartbeats (ticks only)
 * and appends of data. Lease extensions may go at any time (a worker that
 * found no lease makes the node look at every range). */
static bool idle_would_not_send(const raft_msg_t *m)
{
    if (m->type == RAFT_MSG_HEARTBEAT)
        return true;
    for (size_t i = 0; m->type == RAFT_MSG_APP && i < m->n_entries; i++) {
        const raft_entry_t *e = &m->entries[i];
        if (e->type == RAFT_ENTRY_NORMAL && e->len > 1 && ((const uint8_t *)e->data)[1] != 2)
            return true; /* command byte 1: 2 is a lease (docs/kv.md) */
    }
    return false;
}

static void watch_raft(void *arg, uint64_t call, uint64_t from, uint64_t to, uint8_t type,
                       const uint8_t *p, size_t len)
{
    hb_watch *w = arg;
    if (type != KV_NODE_MSG_RAFT)
        return;
    w->payloads++;
    if (w->last_call[from][to] == call)
        w->split++;
    w->last_call[from][to] = call;
    cr_assert_geq(len, 2);
    size_t count = (size_t)p[0] << 8 | p[1], off = 2, hb = 0;
    for (size_t i = 0; i < count; i++) {
        cr_assert_geq(len - off, 12);
        uint64_t range = 0;
        for (int b = 0; b < 8; b++)
            range = range << 8 | p[off + b];
        size_t mlen = (size_t)p[off + 8] << 24 | (size_t)p[off + 9] << 16 |
                      (size_t)p[off + 10] << 8 | p[off + 11];
        raft_msg_t m;
        raft_snapshot_t snap;
        raft_entry_t ents[64];
        cr_assert_eq(raft_msg_decode(p + off + 12, mlen, &m, ents, 64, &snap), 0);
        hb += m.type == RAFT_MSG_HEARTBEAT;
        if (w->only_range != 0 && range != w->only_range && idle_would_not_send(&m))
            w->stray++;
        off += 12 + mlen;
    }
    cr_assert_eq(off, len, "trailing bytes in a Raft batch");
    if (hb > w->max_heartbeats)
        w->max_heartbeats = (unsigned)hb;
}

Test(node, heartbeats_of_many_ranges_leave_in_one_message_per_peer)
{
    static char keys[MANY_SPLITS][4];
    const char *splits[MANY_SPLITS + 1];
    for (int i = 0; i < MANY_SPLITS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%c", 'a' + i);
        splits[i] = keys[i];
    }
    splits[MANY_SPLITS] = NULL;
    nc_options o = {.nodes = 3, .splits = splits, .seed = 5};
    nc_cluster *c = nc_start(&o);
    uint64_t n_ranges = MANY_SPLITS + 2;
    wait_replicated(c, n_ranges);
    hb_watch w = {0};
    nc_observe(c, watch_raft, &w);
    nc_run(c, 20);
    cr_assert_gt(w.payloads, 0);
    cr_assert_eq(w.split, 0, "%u Raft payloads went to a node already sent one in that call",
                 w.split);
    cr_assert_geq(w.max_heartbeats, n_ranges,
                  "heartbeats of %llu ranges were not coalesced (at most %u in a payload)",
                  (unsigned long long)n_ranges, w.max_heartbeats);
    /* A write to one range between ticks: only that range talks. */
    hb_watch one = {.only_range = 5};
    nc_observe(c, watch_raft, &one);
    kv_req q = nc_req(KV_PUT, "kc1", "v", 0); /* ["kc", "kd") is r5 */
    nc_call *call = nc_call_start(c, 1, &q);
    for (int i = 0; i < 100000 && !nc_call_done(call); i++)
        nc_settle(c);
    cr_assert(nc_call_done(call), "a write to a leaseholder needed a tick");
    cr_assert_eq(nc_call_finish(c, call, 1), 0);
    nc_call_free(call);
    nc_settle(c);
    cr_assert_gt(one.payloads, 0);
    cr_assert_eq(one.stray, 0, "%u messages of idle ranges during a write to r5", one.stray);
    nc_observe(c, NULL, NULL);
    nc_free(c);
}

/* ---- (5) log truncation and catching up by snapshot ----------------------- */

typedef struct snap_watch {
    uint64_t to, range;
    unsigned chunks;
} snap_watch;

static void watch_snap(void *arg, uint64_t call, uint64_t from, uint64_t to, uint8_t type,
                       const uint8_t *p, size_t len)
{
    snap_watch *w = arg;
    (void)call;
    (void)from;
    uint64_t range = 0;
    for (int b = 0; type == KV_NODE_MSG_SNAP && len >= 8 && b < 8; b++)
        range = range << 8 | p[b];
    if (type == KV_NODE_MSG_SNAP && to == w->to && range == w->range)
        w->chunks++;
}

static bool caught_up(nc_cluster *c, void *arg)
{
    (void)arg;
    return replicated(c, R_USER, 3);
}

Test(node, truncated_log_makes_a_partitioned_follower_catch_up_by_snapshot)
{
    nc_cluster *c = start3(6, 20);
    wait_replicated(c, R_LAST);
    uint64_t holder = nc_leaseholder(c, R_USER);
    uint64_t lagger = holder == 3 ? 2 : 3;
    nc_isolate(c, lagger, true);
    bool acked[100];
    write_keys(c, holder, 'k', 0, 100, acked);
    nc_run(c, 50);
    kv_arena *a;
    cr_assert_eq(kv_arena_create(&a), 0);
    kv_replica_status st, lag;
    cr_assert(nc_replica(c, holder, R_USER, a, &st));
    cr_assert(nc_replica(c, lagger, R_USER, a, &lag));
    cr_assert_lt(st.log_entries, 60, "the leader kept %llu log entries (limit 20)",
                 (unsigned long long)st.log_entries);
    cr_assert_lt(lag.applied + st.log_entries, st.applied,
                 "the leader's log still reaches the lagging follower");
    kv_arena_destroy(a);
    nc_set_faults(c, 10, 10, true);
    snap_watch w = {.to = lagger, .range = R_USER};
    nc_observe(c, watch_snap, &w);
    nc_isolate(c, lagger, false);
    cr_assert(nc_run_until(c, caught_up, NULL, UP_TICKS), "n%llu did not catch up",
              (unsigned long long)lagger);
    nc_observe(c, NULL, NULL);
    cr_assert_gt(w.chunks, 0, "n%llu caught up without a snapshot", (unsigned long long)lagger);
    static const uint64_t all[] = {1, 2, 3};
    assert_same_data(c, R_USER, all, 3);
    check_acked(c, lagger, 'k', 100, acked);
    nc_free(c);
}

static bool jobs_queued(nc_cluster *c, void *arg)
{
    (void)arg;
    return nc_jobs(c) > 0;
}

/* The leader stops while the snapshot job it spawned is still queued: the
 * job finishes after the stop and its result must go with the node (what
 * fails here is the ASan build's leak check). */
Test(node, a_node_stopped_during_a_snapshot_frees_its_jobs)
{
    nc_cluster *c = start3(10, 20);
    wait_replicated(c, R_LAST);
    uint64_t holder = nc_leaseholder(c, R_USER), lagger = holder == 3 ? 2 : 3;
    nc_isolate(c, lagger, true);
    bool acked[60];
    write_keys(c, holder, 'k', 0, 60, acked);
    nc_run(c, 50);
    nc_pause_jobs(c, true);
    nc_isolate(c, lagger, false);
    cr_assert(nc_run_until(c, jobs_queued, NULL, UP_TICKS), "no snapshot started");
    nc_stop(c, holder);
    nc_pause_jobs(c, false);
    nc_free(c);
}

/* ---- (6) exactly once across leadership changes --------------------------- */

#define INC_ROUNDS 30
#define INC_WIDTH  3

typedef struct tally {
    unsigned acked, unknown;
    int64_t seen[INC_ROUNDS * INC_WIDTH];
} tally;

static void count_outcome(tally *t, nc_call *call, int rc)
{
    if (rc == 0) {
        t->seen[t->acked++] = nc_call_resp(call)->resps[0].new_value;
        return;
    }
    cr_assert(rc == KV_EAMBIGUOUS || rc == KV_EUNAVAILABLE, "an increment failed with %s",
              kv_err_name(rc));
    t->unknown++;
}

/* One round: INC_WIDTH concurrent increments through different nodes;
 * the leaseholder is cut off in some rounds while they are in flight. */
static void inc_round(nc_cluster *c, int round, tally *t)
{
    nc_call *calls[INC_WIDTH];
    kv_req q = nc_req(KV_INCREMENT, "kcounter", NULL, 1);
    for (int i = 0; i < INC_WIDTH; i++)
        calls[i] = nc_call_start(c, (uint64_t)(i % 3) + 1, &q);
    uint64_t holder = round % 5 == 2 ? nc_leaseholder(c, R_USER) : 0;
    if (holder != 0) {
        nc_isolate(c, holder, true);
        nc_run(c, 2 * LEASE_MS / NC_TICK_MS);
        nc_isolate(c, holder, false);
    }
    for (int i = 0; i < INC_WIDTH; i++) {
        count_outcome(t, calls[i], nc_call_finish(c, calls[i], NC_CALL_TICKS));
        nc_call_free(calls[i]);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

Test(node, a_proposal_applies_once_or_is_reported)
{
    nc_cluster *c = start3(7, 0);
    wait_replicated(c, R_LAST);
    nc_set_faults(c, 10, 10, true);
    tally t = {0};
    for (int r = 0; r < INC_ROUNDS; r++)
        inc_round(c, r, &t);
    nc_set_faults(c, 0, 0, false);
    nc_run(c, 50);
    kv_req q = nc_req(KV_INCREMENT, "kcounter", NULL, 0);
    nc_call *call = nc_call_start(c, 2, &q);
    cr_assert_eq(nc_call_finish(c, call, NC_CALL_TICKS), 0);
    int64_t final = nc_call_resp(call)->resps[0].new_value;
    nc_call_free(call);
    cr_log_info("%u acknowledged, %u unknown, counter %lld", t.acked, t.unknown, (long long) final);
    cr_assert_geq(final, t.acked, "acknowledged increments were lost");
    cr_assert_leq(final, t.acked + t.unknown, "an increment applied twice");
    qsort(t.seen, t.acked, sizeof(t.seen[0]), cmp_i64);
    for (unsigned i = 1; i < t.acked; i++)
        cr_assert_neq(t.seen[i], t.seen[i - 1], "two increments answered %lld",
                      (long long)t.seen[i]);
    cr_assert_leq(t.acked ? t.seen[t.acked - 1] : 0, final);
    nc_free(c);
}
