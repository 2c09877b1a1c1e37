/*
 * test_chaos.c - randomized runs of the simulated cluster.
 *
 * Every seed draws a configuration (3 or 5 voters, pre-vote, check-quorum,
 * window and size limits, message loss and duplication) and then 2,500
 * random actions: deliveries in random order, drops, ticks, ready cycles
 * (some crashing before or after persisting), proposals, ReadIndex requests,
 * partitions and heals, crashes and restarts, snapshots with compaction,
 * leadership transfers and membership changes (learners, promotions,
 * removals, joint changes). The simulator checks the safety properties after
 * every action (sim.h). Each run ends by healing everything and requiring
 * that a new command commits and every member converges.
 *
 * RAFT_CHAOS_SEEDS=n runs seeds 1..n (default CHAOS_DEFAULT_SEEDS);
 * RAFT_CHAOS_SEED=n replays seed n alone.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim.h"

#define STEPS 2500

#ifndef CHAOS_DEFAULT_SEEDS
#define CHAOS_DEFAULT_SEEDS 2000
#endif

static uint64_t pick(sim_t *s, uint64_t n)
{
    return n ? sim_rand(s) % n : 0;
}

/* Mostly a node that exists; sometimes any id (new members, stray ids). */
static uint64_t random_node(sim_t *s)
{
    uint64_t id = 1 + pick(s, SIM_MAX_NODES);
    for (int tries = 0; tries < 8 && !sim_store(s, id); tries++) {
        id = 1 + pick(s, SIM_MAX_NODES);
    }
    return id;
}

static void conf_state_of_leader(sim_t *s, raft_conf_state_t *cs)
{
    raft_status_t st;
    raft_status(sim_raft(s, sim_leader(s)), &st);
    *cs = st.conf;
}

static void random_conf_change(sim_t *s)
{
    uint64_t lead = sim_leader(s);
    if (!lead) {
        return;
    }
    raft_conf_state_t cs;
    conf_state_of_leader(s, &cs);
    raft_conf_change_t cc = {.transition = RAFT_CC_AUTO, .n_changes = 1};
    uint64_t id = random_node(s);
    bool voter = false, learner = false;
    for (int i = 0; i < cs.n_voters; i++) {
        voter |= cs.voters[i] == id;
    }
    for (int i = 0; i < cs.n_learners; i++) {
        learner |= cs.learners[i] == id;
    }
    if (voter && cs.n_voters > 3) {
        cc.changes[0].type = pick(s, 3) ? RAFT_CC_REMOVE : RAFT_CC_ADD_LEARNER;
    } else if (learner) {
        cc.changes[0].type = pick(s, 4) ? RAFT_CC_ADD_VOTER : RAFT_CC_REMOVE;
    } else if (!voter) {
        cc.changes[0].type = pick(s, 2) ? RAFT_CC_ADD_LEARNER : RAFT_CC_ADD_VOTER;
    } else {
        return;
    }
    cc.changes[0].node = id;
    if (pick(s, 4) == 0) {
        /* A second change forces joint consensus. */
        uint64_t other = random_node(s);
        if (other != id && !(cs.n_voters <= 3 && cc.changes[0].type == RAFT_CC_REMOVE)) {
            cc.changes[1].type = RAFT_CC_ADD_LEARNER;
            cc.changes[1].node = other;
            cc.n_changes = 2;
            cc.transition = pick(s, 2) ? RAFT_CC_AUTO : RAFT_CC_JOINT_EXPLICIT;
        }
    }
    if (cs.n_voters_outgoing > 0 && !cs.auto_leave) {
        cc.n_changes = 0; /* leave an explicit joint configuration */
    }
    for (int i = 0; i < cc.n_changes; i++) {
        if (!sim_store(s, cc.changes[i].node)) {
            sim_add_node(s, cc.changes[i].node);
        }
    }
    raft_propose_conf_change(sim_raft(s, lead), &cc);
}

/* One ready cycle at id, occasionally crashing before or after persisting. */
static void process(sim_t *s, uint64_t id)
{
    if (pick(s, 300) == 0) {
        sim_crash_next_ready(s, id, 1 + (int)pick(s, 2));
    }
    sim_process(s, id);
    sim_crash_next_ready(s, id, SIM_CRASH_NONE);
}

static void propose(sim_t *s, uint64_t seed, int step, uint64_t id)
{
    char cmd[160];
    int len = snprintf(cmd, sizeof(cmd), "s%llu-%d-", (unsigned long long)seed, step);
    size_t pad = pick(s, 100);
    memset(cmd + len, 'x', pad);
    cmd[len + pad] = 0;
    uint64_t lead = sim_leader(s);
    sim_propose(s, pick(s, 4) && lead ? lead : id, cmd);
}

/* Rare faults and operator actions. */
static void random_fault(sim_t *s, uint64_t id)
{
    uint64_t a = pick(s, 100);
    if (a < 15) {
        if (pick(s, 2)) {
            sim_isolate(s, id);
        } else {
            sim_cut(s, id, random_node(s));
        }
    } else if (a < 35) {
        sim_heal(s);
    } else if (a < 41) {
        sim_crash(s, pick(s, 3) ? id : sim_leader(s));
    } else if (a < 60) {
        for (uint64_t i = 1; i <= SIM_MAX_NODES; i++) {
            sim_restart(s, i);
        }
    } else if (a < 75) {
        sim_compact(s, id, pick(s, 5));
    } else if (a < 83) {
        uint64_t lead = sim_leader(s);
        if (lead) {
            raft_transfer_leadership(sim_raft(s, lead), id);
        }
    } else {
        random_conf_change(s);
    }
}

static void random_action(sim_t *s, uint64_t seed, int step)
{
    uint64_t a = pick(s, 1000), id = random_node(s);
    size_t nq = sim_queue_len(s);
    if (a < 450) {
        /* A random queued message: reordering comes from the choice. */
        if (nq) {
            size_t k = pick(s, nq);
            uint8_t type;
            uint64_t from, to;
            sim_queue_peek(s, k, &type, &from, &to);
            sim_deliver(s, k);
            if (pick(s, 4)) {
                process(s, to);
            }
        }
    } else if (a < 480) {
        if (nq) {
            sim_drop(s, pick(s, nq));
        }
    } else if (a < 680) {
        sim_tick(s, id);
        process(s, id);
    } else if (a < 800) {
        process(s, id);
    } else if (a < 900) {
        propose(s, seed, step, id);
    } else if (a < 920) {
        uint64_t ctx;
        sim_read(s, id, &ctx);
    } else if (a < 935) {
        random_fault(s, id);
    } else {
        for (uint64_t i = 1; i <= SIM_MAX_NODES; i++) {
            sim_tick(s, i);
            process(s, i);
        }
    }
}

static bool member(const raft_conf_state_t *cs, uint64_t id)
{
    for (int i = 0; i < cs->n_voters; i++) {
        if (cs->voters[i] == id) {
            return true;
        }
    }
    for (int i = 0; i < cs->n_learners; i++) {
        if (cs->learners[i] == id) {
            return true;
        }
    }
    return false;
}

/* On a replayed seed, shows where each node ended up. */
static void dump_nodes(sim_t *s)
{
    for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
        raft_status_t st;
        if (!sim_raft(s, id)) {
            continue;
        }
        raft_status(sim_raft(s, id), &st);
        fprintf(stderr,
                "  node %llu: role %d term %llu vote %llu lead %llu commit %llu applied %llu "
                "log [%llu, %llu] voters %d outgoing %d learners %d/%d auto_leave %d\n",
                (unsigned long long)id, st.role, (unsigned long long)st.term,
                (unsigned long long)st.vote, (unsigned long long)st.lead,
                (unsigned long long)st.commit, (unsigned long long)st.applied,
                (unsigned long long)st.first_index, (unsigned long long)st.last_index,
                st.conf.n_voters, st.conf.n_voters_outgoing, st.conf.n_learners,
                st.conf.n_learners_next, st.conf.auto_leave);
        for (size_t i = 0; i < st.n_progress; i++) {
            const raft_progress_info_t *p = &st.progress[i];
            fprintf(stderr, "    peer %llu: match %llu next %llu state %d active %d\n",
                    (unsigned long long)p->id, (unsigned long long)p->match,
                    (unsigned long long)p->next, p->state, p->recent_active);
        }
    }
}

/* Heals everything and requires a fresh command to reach every member of
 * the final configuration, with identical state machines. */
static void converge(sim_t *s, char *why, size_t whylen)
{
    sim_heal(s);
    sim_set_faults(s, 0, 0);
    for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
        sim_restart(s, id);
    }
    char cmd[32] = "";
    for (int round = 0; round < 2000 && sim_ok(s); round++) {
        sim_tick_all(s, 1);
        uint64_t lead = sim_leader(s);
        if (!lead) {
            continue;
        }
        if (round % 100 == 0 || !cmd[0]) {
            snprintf(cmd, sizeof(cmd), "final-%d", round);
            sim_propose(s, lead, cmd);
        }
        raft_conf_state_t cs;
        conf_state_of_leader(s, &cs);
        if (cs.n_voters_outgoing > 0) {
            raft_conf_change_t leave = {.n_changes = 0};
            raft_propose_conf_change(sim_raft(s, lead), &leave);
            continue;
        }
        bool done = true;
        for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
            if (member(&cs, id) &&
                (sim_applied_count(s, id, cmd) != 1 || sim_applied(s, id) != sim_applied(s, lead) ||
                 sim_state(s, id) != sim_state(s, lead))) {
                done = false;
            }
        }
        if (done) {
            return;
        }
    }
    if (getenv("RAFT_CHAOS_SEED")) {
        dump_nodes(s);
    }
    if (sim_ok(s)) {
        snprintf(why, whylen, "no convergence after healing (leader %llu)",
                 (unsigned long long)sim_leader(s));
    }
}

static volatile sig_atomic_t current_seed;

/* A crash (assertion, sanitizer, segfault) names the seed before dying. */
static void on_fatal(int sig)
{
    char msg[96];
    int n = snprintf(msg, sizeof(msg), "chaos seed %lu CRASHED (replay: RAFT_CHAOS_SEED=%lu)\n",
                     (unsigned long)current_seed, (unsigned long)current_seed);
    if (write(2, msg, (size_t)n) < 0) {
        n = 0;
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static bool run_seed(uint64_t seed, char *why, size_t whylen)
{
    raft_config_t cfg = sim_default_config();
    uint64_t r = seed * 0x9e3779b97f4a7c15ULL + 1;
    uint64_t bits = (r ^ (r >> 29)) * 0xbf58476d1ce4e5b9ULL;
    cfg.pre_vote = bits & 1;
    cfg.check_quorum = bits & 2;
    cfg.max_inflight_msgs = 1 + (uint32_t)((bits >> 8) % 8);
    cfg.max_size_per_msg = (bits & 4) ? 64 : 1 << 20;
    cfg.max_uncommitted_size = (bits & 8) ? 2048 : 0;
    cfg.max_inflight_bytes = (bits & 16) ? 300 : 0;
    cfg.election_tick = 4 + (int)((bits >> 12) % 7);
    cfg.heartbeat_tick = 1 + (int)((bits >> 24) % 3);
    sim_t *s = sim_new((bits & 32) ? 5 : 3, &cfg, seed);
    if (!s) {
        snprintf(why, whylen, "sim_new failed");
        return false;
    }
    sim_set_faults(s, (int)((bits >> 16) % 10), (int)((bits >> 20) % 6));
    why[0] = 0;
    for (int step = 0; step < STEPS && sim_ok(s); step++) {
        random_action(s, seed, step);
    }
    if (sim_ok(s)) {
        converge(s, why, whylen);
    }
    sim_free(s);
    return why[0] == 0;
}

Test(raft_chaos, random_seeds)
{
    const char *one = getenv("RAFT_CHAOS_SEED");
    const char *many = getenv("RAFT_CHAOS_SEEDS");
    uint64_t first = 1, last = CHAOS_DEFAULT_SEEDS;
    if (one) {
        first = last = strtoull(one, NULL, 10);
    } else if (many) {
        last = strtoull(many, NULL, 10);
    }
    int failures = 0;
    signal(SIGSEGV, on_fatal);
    signal(SIGABRT, on_fatal);
    for (uint64_t seed = first; seed <= last; seed++) {
        current_seed = (sig_atomic_t)seed;
        char why[600];
        if (!run_seed(seed, why, sizeof(why))) {
            fprintf(stderr, "chaos seed %llu FAILED: %s (replay: RAFT_CHAOS_SEED=%llu)\n",
                    (unsigned long long)seed, why, (unsigned long long)seed);
            failures++;
        }
    }
    fprintf(stderr, "chaos: %llu seeds, %d failed\n", (unsigned long long)(last - first + 1),
            failures);
    cr_assert_eq(failures, 0, "%d chaos seeds failed", failures);
}
