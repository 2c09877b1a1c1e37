/*
 * test_reads.c - leadership transfer (Raft dissertation §3.10) and
 * linearizable reads: ReadIndex and leases (§6.4, §6.4.1).
 */
#include <criterion/criterion.h>

#include "sim.h"

static sim_t *cluster_cfg(int n, const raft_config_t *cfg)
{
    sim_t *s = sim_new(n, cfg, 5);
    cr_assert_not_null(s);
    return s;
}

static sim_t *cluster(int n)
{
    raft_config_t cfg = sim_default_config();
    return cluster_cfg(n, &cfg);
}

static void done(sim_t *s)
{
    cr_assert(sim_ok(s), "%s", sim_error(s));
    sim_free(s);
}

static uint64_t transferee(sim_t *s, uint64_t id)
{
    raft_status_t st;
    raft_status(sim_raft(s, id), &st);
    return st.lead_transferee;
}

/* ---- leadership transfer ------------------------------------------------------------ */

Test(raft_transfer, to_up_to_date_follower)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    cr_assert_eq(raft_transfer_leadership(sim_raft(s, 1), 2), 0);
    sim_settle(s);
    cr_assert_eq(sim_leader(s), 2);
    cr_assert_eq(raft_term(sim_raft(s, 2)), 2);
    done(s);
}

/* §3.10: the leader first brings a lagging target up to date, then sends
 * TimeoutNow. */
Test(raft_transfer, to_slow_follower_catches_it_up_first)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    for (int i = 0; i < 5; i++) {
        sim_propose(s, 1, "lag");
    }
    sim_settle(s);
    sim_heal(s);
    raft_transfer_leadership(sim_raft(s, 1), 3);
    sim_process(s, 1);
    cr_assert_eq(sim_count_matching(s, RAFT_MSG_TIMEOUT_NOW, 1, 3), 0, "not before catch-up");
    sim_settle(s);
    cr_assert_eq(sim_leader(s), 3);
    cr_assert_eq(sim_applied_count(s, 3, "lag"), 5);
    done(s);
}

Test(raft_transfer, times_out_after_an_election_timeout)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    raft_transfer_leadership(sim_raft(s, 1), 3);
    cr_assert_eq(transferee(s, 1), 3);
    cr_assert_eq(sim_propose(s, 1, "during"), RAFT_EDROPPED, "proposals wait for the transfer");
    for (int i = 0; i < 10; i++) {
        sim_tick(s, 1);
        sim_settle(s);
    }
    cr_assert_eq(transferee(s, 1), 0, "aborted");
    cr_assert_eq(sim_leader(s), 1);
    cr_assert_eq(sim_propose(s, 1, "after"), 0);
    done(s);
}

Test(raft_transfer, aborted_explicitly)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    raft_transfer_leadership(sim_raft(s, 1), 3);
    cr_assert_eq(transferee(s, 1), 3);
    cr_assert_eq(raft_transfer_leadership(sim_raft(s, 1), RAFT_NONE), 0);
    cr_assert_eq(transferee(s, 1), 0);
    cr_assert_eq(sim_propose(s, 1, "resumed"), 0);
    done(s);
}

/* A TimeoutNow that overtakes the configuration change it depends on waits
 * until that change is applied, then campaigns (never on a stale view). */
Test(raft_transfer, timeout_now_waits_for_pending_conf_change)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 2, 3, &ms);
    raft_conf_change_t cc = {.n_changes = 1};
    cc.changes[0].type = RAFT_CC_ADD_LEARNER;
    cc.changes[0].node = 4;
    uint8_t buf[64];
    size_t n;
    raft_conf_change_encode(&cc, buf, sizeof(buf), &n);
    raft_entry_t e = {
        .term = 1, .index = 1, .type = RAFT_ENTRY_CONF_CHANGE, .len = (uint32_t)n, .data = buf};
    raft_msg_t app = {
        .type = RAFT_MSG_APP, .from = 1, .to = 2, .term = 1, .n_entries = 1, .entries = &e};
    raft_step(r, &app);
    sim_solo_cycle(r, ms);
    raft_msg_t hb = {.type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 1, .commit = 1};
    raft_step(r, &hb);
    raft_msg_t tn = {.type = RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = 1};
    raft_step(r, &tn);
    raft_ready_t rd;
    raft_ready(r, &rd);
    cr_assert_null(sim_find_msg(&rd, RAFT_MSG_VOTE, true), "not before the change applies");
    cr_assert_eq(rd.n_committed, 1);
    sim_solo_persist(ms, &rd);
    raft_advance(r, &rd);
    raft_ready(r, &rd);
    const raft_msg_t *vote = sim_find_msg(&rd, RAFT_MSG_VOTE, true);
    cr_assert(vote && vote->context == 1 && vote->term == 2, "then a transfer campaign");
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

Test(raft_transfer, interrupted_by_higher_term)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    raft_transfer_leadership(sim_raft(s, 1), 3);
    cr_assert_eq(transferee(s, 1), 3);
    raft_campaign(sim_raft(s, 2));
    sim_settle(s);
    cr_assert_eq(sim_leader(s), 2);
    cr_assert_eq(raft_role(sim_raft(s, 1)), RAFT_FOLLOWER);
    cr_assert_eq(transferee(s, 1), 0);
    done(s);
}

Test(raft_transfer, to_self_or_learner_is_ignored)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_add_node(s, 4);
    sim_conf_change(s, 1, RAFT_CC_ADD_LEARNER, 4);
    sim_settle(s);
    raft_transfer_leadership(sim_raft(s, 1), 1);
    raft_transfer_leadership(sim_raft(s, 1), 4);
    sim_settle(s);
    cr_assert_eq(transferee(s, 1), 0);
    cr_assert_eq(sim_leader(s), 1);
    done(s);
}

Test(raft_transfer, requested_at_a_follower_is_forwarded)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    raft_transfer_leadership(sim_raft(s, 3), 3);
    sim_settle(s);
    cr_assert_eq(sim_leader(s), 3);
    done(s);
}

/* TimeoutNow votes bypass the leader lease of check-quorum and pre-vote. */
Test(raft_transfer, works_with_check_quorum_and_prevote)
{
    raft_config_t cfg = sim_default_config();
    cfg.check_quorum = true;
    cfg.pre_vote = true;
    sim_t *s = cluster_cfg(3, &cfg);
    sim_elect(s, 1);
    sim_tick_all(s, 3);
    raft_transfer_leadership(sim_raft(s, 1), 2);
    sim_settle(s);
    cr_assert_eq(sim_leader(s), 2);
    done(s);
}

/* ---- reads ------------------------------------------------------------------------------ */

Test(raft_read, read_index_on_leader)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "w");
    sim_settle(s);
    uint64_t ctx, idx;
    cr_assert_eq(sim_read(s, 1, &ctx), 0);
    cr_assert(!sim_read_done(s, ctx, &idx), "needs a heartbeat round first");
    sim_settle(s);
    cr_assert(sim_read_done(s, ctx, &idx));
    cr_assert_eq(idx, 2);
    done(s);
}

/* §6.4: a new leader answers reads only once an entry of its own term is
 * committed, since only then does it know the latest commit index. */
Test(raft_read, read_index_on_new_leader_waits_for_its_term)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "w1");
    sim_settle(s);
    raft_campaign(sim_raft(s, 2));
    sim_process(s, 2);
    sim_deliver(s, 0);
    sim_deliver(s, 0);
    sim_process_all(s);
    while (raft_role(sim_raft(s, 2)) != RAFT_LEADER && sim_queue_len(s) > 0) {
        sim_deliver(s, 0);
    }
    cr_assert_eq(raft_role(sim_raft(s, 2)), RAFT_LEADER);
    uint64_t ctx, idx;
    cr_assert_eq(sim_read(s, 2, &ctx), 0);
    sim_process(s, 2);
    cr_assert(!sim_read_done(s, ctx, &idx));
    cr_assert_eq(sim_count_matching(s, RAFT_MSG_HEARTBEAT, 2, 0), 0, "deferred, no round yet");
    sim_settle(s);
    cr_assert(sim_read_done(s, ctx, &idx));
    cr_assert_geq(idx, 3, "covers the empty entry of term 2");
    done(s);
}

Test(raft_read, read_index_forwarded_from_follower)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "w");
    sim_settle(s);
    uint64_t ctx, idx;
    cr_assert_eq(sim_read(s, 3, &ctx), 0);
    sim_settle(s);
    cr_assert(sim_read_done(s, ctx, &idx));
    cr_assert_eq(idx, 2);
    cr_assert_geq(sim_applied(s, 3), idx);
    done(s);
}

/* A deposed leader cut off from the majority never confirms a read. */
Test(raft_read, partitioned_leader_never_answers)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 1);
    uint64_t ctx, idx;
    sim_read(s, 1, &ctx);
    sim_elect(s, 2);
    sim_propose(s, 2, "new-write");
    sim_settle(s);
    for (int i = 0; i < 30; i++) {
        sim_tick(s, 1);
        sim_process(s, 1);
        sim_settle(s);
    }
    cr_assert(!sim_read_done(s, ctx, &idx));
    done(s);
}

Test(raft_read, read_without_leader_is_dropped)
{
    sim_t *s = cluster(3);
    uint64_t ctx;
    cr_assert_eq(sim_read(s, 1, &ctx), RAFT_EDROPPED);
    done(s);
}

Test(raft_read, single_voter_answers_at_once)
{
    sim_t *s = cluster(1);
    sim_tick_all(s, 25);
    sim_propose(s, 1, "w");
    sim_settle(s);
    uint64_t ctx, idx;
    sim_read(s, 1, &ctx);
    sim_process(s, 1);
    cr_assert(sim_read_done(s, ctx, &idx));
    cr_assert_eq(idx, 2);
    done(s);
}

/* §6.4.1: with a lease (check-quorum) the leader answers without a round. */
Test(raft_read, lease_based_read_answers_without_heartbeats)
{
    raft_config_t cfg = sim_default_config();
    cfg.check_quorum = true;
    cfg.read_only = RAFT_READ_LEASE;
    sim_t *s = cluster_cfg(3, &cfg);
    sim_elect(s, 1);
    uint64_t ctx, idx;
    sim_read(s, 1, &ctx);
    sim_process(s, 1);
    cr_assert(sim_read_done(s, ctx, &idx));
    cr_assert_eq(idx, 1);
    cr_assert_eq(sim_count_matching(s, RAFT_MSG_HEARTBEAT, 1, 0), 0);
    done(s);
}

Test(raft_read, lease_requires_check_quorum)
{
    raft_config_t cfg = sim_default_config();
    cfg.read_only = RAFT_READ_LEASE;
    raft_memstore_t *ms;
    cr_assert_null(sim_solo(&cfg, 1, 3, &ms));
}

Test(raft_read, many_reads_confirmed_by_one_round)
{
    sim_t *s = cluster(5);
    sim_elect(s, 1);
    uint64_t ctx[5], idx;
    for (int i = 0; i < 5; i++) {
        sim_read(s, 1, &ctx[i]);
    }
    sim_settle(s);
    for (int i = 0; i < 5; i++) {
        cr_assert(sim_read_done(s, ctx[i], &idx));
    }
    done(s);
}
