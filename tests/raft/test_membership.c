/*
 * test_membership.c - membership changes (Raft dissertation §4: single
 * changes, joint consensus, learners, removing the leader) and snapshots
 * (§5: log compaction, catching up slow followers).
 */
#include <criterion/criterion.h>
#include <stdio.h>

#include "sim.h"

static sim_t *cluster(int n)
{
    raft_config_t cfg = sim_default_config();
    sim_t *s = sim_new(n, &cfg, 99);
    cr_assert_not_null(s);
    return s;
}

static void done(sim_t *s)
{
    cr_assert(sim_ok(s), "%s", sim_error(s));
    sim_free(s);
}

static raft_conf_state_t conf_of(sim_t *s, uint64_t id)
{
    raft_status_t st;
    raft_status(sim_raft(s, id), &st);
    return st.conf;
}

static bool has(const uint64_t *ids, int n, uint64_t id)
{
    for (int i = 0; i < n; i++) {
        if (ids[i] == id) {
            return true;
        }
    }
    return false;
}

static int change(sim_t *s, uint64_t lead, uint8_t type, uint64_t node)
{
    if (!sim_raft(s, node) && type != RAFT_CC_REMOVE) {
        sim_add_node(s, node);
    }
    int rc = sim_conf_change(s, lead, type, node);
    sim_settle(s);
    return rc;
}

Test(raft_membership, add_voter)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "before");
    sim_settle(s);
    cr_assert_eq(change(s, 1, RAFT_CC_ADD_VOTER, 4), 0);
    raft_conf_state_t cs = conf_of(s, 4);
    cr_assert_eq(cs.n_voters, 4);
    cr_assert(has(cs.voters, cs.n_voters, 4));
    cr_assert_eq(sim_applied_count(s, 4, "before"), 1);
    sim_crash(s, 2);
    sim_crash(s, 3);
    sim_propose(s, 1, "needs-three-of-four");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 1, "needs-three-of-four"), 0);
    sim_restart(s, 2);
    sim_tick_all(s, 3);
    cr_assert_eq(sim_applied_count(s, 1, "needs-three-of-four"), 1);
    done(s);
}

Test(raft_membership, remove_follower)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    cr_assert_eq(change(s, 1, RAFT_CC_REMOVE, 3), 0);
    raft_conf_state_t cs = conf_of(s, 1);
    cr_assert_eq(cs.n_voters, 2);
    sim_crash(s, 3);
    sim_propose(s, 1, "two-voters");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 2, "two-voters"), 1);
    done(s);
}

/* §4.2.2: the leader removed from the configuration hands leadership to
 * an up-to-date remaining voter once the change applies, then steps down. */
Test(raft_membership, remove_leader)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    cr_assert_eq(change(s, 1, RAFT_CC_REMOVE, 1), 0);
    cr_assert_neq(raft_role(sim_raft(s, 1)), RAFT_LEADER);
    uint64_t l = sim_leader(s);
    cr_assert(l == 2 || l == 3, "handed over without waiting for a timeout");
    sim_tick_all(s, 60);
    cr_assert_eq(sim_leader(s), l);
    cr_assert(l == 2 || l == 3);
    sim_propose(s, l, "without-1");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 2, "without-1"), 1);
    cr_assert_eq(sim_applied_count(s, 3, "without-1"), 1);
    done(s);
}

Test(raft_membership, replace_leader)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    cr_assert_eq(change(s, 1, RAFT_CC_ADD_VOTER, 4), 0);
    cr_assert_eq(change(s, 1, RAFT_CC_REMOVE, 1), 0);
    sim_crash(s, 1);
    sim_tick_all(s, 60);
    uint64_t l = sim_leader(s);
    cr_assert(l >= 2 && l <= 4);
    raft_conf_state_t cs = conf_of(s, l);
    cr_assert_eq(cs.n_voters, 3);
    cr_assert(!has(cs.voters, cs.n_voters, 1));
    sim_propose(s, l, "replaced");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 4, "replaced"), 1);
    done(s);
}

/* Learners replicate but are never counted toward commit. */
Test(raft_membership, learner_does_not_count_toward_commit)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    cr_assert_eq(change(s, 1, RAFT_CC_ADD_LEARNER, 4), 0);
    sim_crash(s, 2);
    sim_crash(s, 3);
    sim_propose(s, 1, "l");
    sim_settle(s);
    cr_assert_eq(raft_memstore_last_index(sim_store(s, 4)),
                 raft_memstore_last_index(sim_store(s, 1)), "the learner has the entry");
    cr_assert_eq(sim_applied_count(s, 1, "l"), 0, "leader + learner are no quorum");
    done(s);
}

/* Learners are not asked for votes and their votes would not count. */
Test(raft_membership, learner_does_not_count_toward_election)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    change(s, 1, RAFT_CC_ADD_LEARNER, 4);
    sim_crash(s, 1);
    sim_crash(s, 3);
    raft_campaign(sim_raft(s, 2));
    sim_settle(s);
    cr_assert_eq(raft_role(sim_raft(s, 2)), RAFT_CANDIDATE);
    cr_assert_eq(sim_count_matching(s, RAFT_MSG_VOTE, 2, 4), 0);
    done(s);
}

Test(raft_membership, learner_catches_up_then_promoted)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    for (int i = 0; i < 20; i++) {
        sim_propose(s, 1, "hist");
    }
    sim_settle(s);
    cr_assert_eq(change(s, 1, RAFT_CC_ADD_LEARNER, 4), 0);
    cr_assert_eq(sim_applied_count(s, 4, "hist"), 20, "caught up as a learner");
    cr_assert_eq(change(s, 1, RAFT_CC_ADD_VOTER, 4), 0);
    raft_conf_state_t cs = conf_of(s, 1);
    cr_assert_eq(cs.n_voters, 4);
    cr_assert_eq(cs.n_learners, 0);
    done(s);
}

static int cc2(sim_t *s, uint64_t lead, uint8_t transition, uint8_t t1, uint64_t n1, uint8_t t2,
               uint64_t n2)
{
    raft_conf_change_t cc = {.transition = transition, .n_changes = 2};
    cc.changes[0].type = t1;
    cc.changes[0].node = n1;
    cc.changes[1].type = t2;
    cc.changes[1].node = n2;
    return raft_propose_conf_change(sim_raft(s, lead), &cc);
}

/* §4.3: two voters changing at once go through a joint configuration, left
 * automatically once applied. */
Test(raft_membership, joint_enter_and_auto_leave)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_add_node(s, 4);
    cr_assert_eq(cc2(s, 1, RAFT_CC_AUTO, RAFT_CC_ADD_VOTER, 4, RAFT_CC_REMOVE, 3), 0);
    sim_process(s, 1);
    sim_settle(s);
    raft_conf_state_t cs = conf_of(s, 1);
    cr_assert_eq(cs.n_voters_outgoing, 0, "left the joint configuration");
    cr_assert_eq(cs.n_voters, 3);
    cr_assert(has(cs.voters, cs.n_voters, 4));
    cr_assert(!has(cs.voters, cs.n_voters, 3));
    done(s);
}

Test(raft_membership, joint_explicit_leave)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_add_node(s, 4);
    cr_assert_eq(cc2(s, 1, RAFT_CC_JOINT_EXPLICIT, RAFT_CC_ADD_VOTER, 4, RAFT_CC_REMOVE, 3), 0);
    sim_settle(s);
    raft_conf_state_t cs = conf_of(s, 2);
    cr_assert_eq(cs.n_voters_outgoing, 3, "still joint");
    cr_assert(!cs.auto_leave);
    raft_conf_change_t leave = {.n_changes = 0};
    cr_assert_eq(raft_propose_conf_change(sim_raft(s, 1), &leave), 0);
    sim_settle(s);
    cs = conf_of(s, 2);
    cr_assert_eq(cs.n_voters_outgoing, 0);
    cr_assert_eq(cs.n_voters, 3);
    done(s);
}

/* In a joint configuration a decision needs majorities of both sides. */
Test(raft_membership, joint_commit_needs_both_majorities)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_add_node(s, 4);
    sim_add_node(s, 5);
    raft_conf_change_t cc = {.transition = RAFT_CC_JOINT_EXPLICIT, .n_changes = 4};
    uint64_t nodes[] = {4, 5, 2, 3};
    for (int i = 0; i < 4; i++) {
        cc.changes[i].type = i < 2 ? RAFT_CC_ADD_VOTER : RAFT_CC_REMOVE;
        cc.changes[i].node = nodes[i];
    }
    cr_assert_eq(raft_propose_conf_change(sim_raft(s, 1), &cc), 0);
    sim_settle(s);
    cr_assert_eq(conf_of(s, 1).n_voters_outgoing, 3);
    sim_crash(s, 2);
    sim_crash(s, 3);
    sim_propose(s, 1, "joint");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 1, "joint"), 0, "{1,4,5} agree, {1,2,3} does not");
    sim_restart(s, 2);
    sim_tick_all(s, 3);
    cr_assert_eq(sim_applied_count(s, 1, "joint"), 1);
    done(s);
}

Test(raft_membership, demoted_voter_waits_in_learners_next)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_add_node(s, 4);
    cr_assert_eq(cc2(s, 1, RAFT_CC_JOINT_EXPLICIT, RAFT_CC_ADD_VOTER, 4, RAFT_CC_ADD_LEARNER, 3),
                 0);
    sim_settle(s);
    raft_conf_state_t cs = conf_of(s, 1);
    cr_assert_eq(cs.n_learners_next, 1);
    cr_assert_eq(cs.learners_next[0], 3);
    cr_assert(has(cs.voters_outgoing, cs.n_voters_outgoing, 3));
    raft_conf_change_t leave = {.n_changes = 0};
    raft_propose_conf_change(sim_raft(s, 1), &leave);
    sim_settle(s);
    cs = conf_of(s, 1);
    cr_assert_eq(cs.n_learners, 1);
    cr_assert_eq(cs.learners[0], 3);
    cr_assert_eq(cs.n_learners_next, 0);
    done(s);
}

/* §4.1: one change at a time: a second proposal is refused until the
 * first is applied. */
Test(raft_membership, pending_change_blocks_another)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_add_node(s, 4);
    cr_assert_eq(sim_conf_change(s, 1, RAFT_CC_ADD_LEARNER, 4), 0);
    cr_assert_eq(sim_conf_change(s, 1, RAFT_CC_ADD_VOTER, 4), RAFT_ECONF_PENDING);
    sim_settle(s);
    cr_assert_eq(sim_conf_change(s, 1, RAFT_CC_ADD_VOTER, 4), 0);
    done(s);
}

Test(raft_membership, invalid_changes_rejected)
{
    sim_t *s = cluster(1);
    sim_tick_all(s, 25);
    raft_conf_change_t leave = {.n_changes = 0};
    cr_assert_eq(raft_propose_conf_change(sim_raft(s, 1), &leave), RAFT_ECONF_INVALID,
                 "not joint: nothing to leave");
    cr_assert_eq(sim_conf_change(s, 1, RAFT_CC_REMOVE, 1), RAFT_ECONF_INVALID,
                 "cannot remove the last voter");
    cr_assert_eq(sim_conf_change(s, 1, RAFT_CC_ADD_VOTER, 0), RAFT_ECONF_INVALID);
    done(s);
}

/* ---- snapshots ---------------------------------------------------------------------- */

/* A follower behind the leader's compaction point catches up by snapshot. */
Test(raft_snapshot, catch_up_after_compaction)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    for (int i = 0; i < 20; i++) {
        sim_propose(s, 1, "c");
    }
    sim_settle(s);
    cr_assert_eq(sim_compact(s, 1, 2), 0);
    cr_assert_gt(raft_memstore_first_index(sim_store(s, 1)), 3);
    sim_heal(s);
    sim_tick_all(s, 5);
    cr_assert_eq(sim_applied(s, 3), sim_applied(s, 1));
    cr_assert_eq(sim_state(s, 3), sim_state(s, 1));
    cr_assert_gt(raft_memstore_first_index(sim_store(s, 3)), 3, "installed the snapshot");
    done(s);
}

Test(raft_snapshot, lost_snapshot_is_resent)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    for (int i = 0; i < 10; i++) {
        sim_propose(s, 1, "c");
    }
    sim_settle(s);
    sim_compact(s, 1, 0);
    sim_heal(s);
    int dropped = 0;
    for (int round = 0; round < 30 && sim_applied(s, 3) < sim_applied(s, 1); round++) {
        sim_tick(s, 1);
        sim_process_all(s);
        while (sim_queue_len(s) > 0) {
            if (!dropped) {
                dropped = (int)sim_drop_matching(s, RAFT_MSG_SNAP, 1, 3);
            }
            if (sim_queue_len(s) > 0) {
                sim_deliver(s, 0);
            }
            sim_process_all(s);
        }
    }
    cr_assert_eq(dropped, 1);
    cr_assert_eq(sim_applied(s, 3), sim_applied(s, 1));
    done(s);
}

Test(raft_snapshot, restart_from_snapshot)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    for (int i = 0; i < 10; i++) {
        sim_propose(s, 1, "r");
    }
    sim_settle(s);
    sim_tick_all(s, 1);
    cr_assert_eq(sim_compact(s, 2, 0), 0);
    uint64_t state = sim_state(s, 2);
    sim_crash(s, 2);
    cr_assert_eq(sim_restart(s, 2), 0);
    cr_assert_eq(sim_state(s, 2), state, "state restored from the snapshot");
    sim_propose(s, 1, "after");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 2, "after"), 1);
    done(s);
}

Test(raft_snapshot, stale_snapshot_ignored)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 2, 3, &ms);
    raft_entry_t ents[10];
    for (int i = 0; i < 10; i++) {
        ents[i] = (raft_entry_t){.term = 1, .index = (uint64_t)i + 1};
    }
    raft_msg_t app = {.type = RAFT_MSG_APP,
                      .from = 1,
                      .to = 2,
                      .term = 1,
                      .n_entries = 10,
                      .entries = ents,
                      .commit = 10};
    raft_step(r, &app);
    sim_solo_cycle(r, ms);
    raft_snapshot_t snap = {.index = 5, .term = 1};
    snap.conf.voters[0] = 1;
    snap.conf.n_voters = 1;
    raft_msg_t m = {.type = RAFT_MSG_SNAP, .from = 1, .to = 2, .term = 1, .snapshot = &snap};
    raft_step(r, &m);
    raft_ready_t rd;
    raft_ready(r, &rd);
    cr_assert_null(rd.snapshot);
    const raft_msg_t *resp = sim_find_msg(&rd, RAFT_MSG_APP_RESP, true);
    cr_assert(resp && resp->index == 10, "answers with its commit index");
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

/* A snapshot whose last entry we already hold only moves the commit. */
Test(raft_snapshot, matching_snapshot_fast_forwards_commit)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 2, 3, &ms);
    raft_entry_t ents[10];
    for (int i = 0; i < 10; i++) {
        ents[i] = (raft_entry_t){.term = 1, .index = (uint64_t)i + 1};
    }
    raft_msg_t app = {.type = RAFT_MSG_APP,
                      .from = 1,
                      .to = 2,
                      .term = 1,
                      .n_entries = 10,
                      .entries = ents,
                      .commit = 2};
    raft_step(r, &app);
    sim_solo_cycle(r, ms);
    raft_snapshot_t snap = {.index = 8, .term = 1};
    snap.conf = (raft_conf_state_t){.voters = {1, 2, 3}, .n_voters = 3};
    raft_msg_t m = {.type = RAFT_MSG_SNAP, .from = 1, .to = 2, .term = 1, .snapshot = &snap};
    raft_step(r, &m);
    raft_ready_t rd;
    raft_ready(r, &rd);
    cr_assert_null(rd.snapshot);
    cr_assert_eq(rd.hs.commit, 8);
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

Test(raft_snapshot, new_member_joins_via_snapshot)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    for (int i = 0; i < 10; i++) {
        sim_propose(s, 1, "j");
    }
    sim_settle(s);
    sim_compact(s, 1, 0);
    cr_assert_eq(change(s, 1, RAFT_CC_ADD_LEARNER, 4), 0);
    sim_tick_all(s, 5);
    cr_assert_eq(sim_state(s, 4), sim_state(s, 1));
    cr_assert_eq(conf_of(s, 4).n_learners, 1);
    done(s);
}
