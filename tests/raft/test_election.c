/*
 * test_election.c - leader election scenarios: randomized timeouts, the
 * election restriction, dueling (pre-)candidates, pre-vote, check-quorum
 * and the durability of votes (Raft paper §5.2, §5.4.1; dissertation §9.6,
 * §6.2, §4.2.3).
 */
#include <criterion/criterion.h>

#include "sim.h"

static sim_t *cluster(int n, bool pre_vote, bool check_quorum)
{
    raft_config_t cfg = sim_default_config();
    cfg.pre_vote = pre_vote;
    cfg.check_quorum = check_quorum;
    sim_t *s = sim_new(n, &cfg, 42);
    cr_assert_not_null(s);
    return s;
}

static void done(sim_t *s)
{
    cr_assert(sim_ok(s), "%s", sim_error(s));
    sim_free(s);
}

static int count_leaders(sim_t *s)
{
    int n = 0;
    for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
        n += sim_raft(s, id) && raft_role(sim_raft(s, id)) == RAFT_LEADER;
    }
    return n;
}

Test(raft_election, single_node_elects_itself)
{
    sim_t *s = cluster(1, false, false);
    sim_tick_all(s, 25);
    cr_assert_eq(sim_leader(s), 1);
    cr_assert_eq(sim_commit(s, 1), 1, "the new leader commits its empty entry");
    done(s);
}

Test(raft_election, three_nodes_agree_on_one_leader)
{
    sim_t *s = cluster(3, false, false);
    sim_tick_all(s, 40);
    uint64_t l = sim_leader(s);
    cr_assert_neq(l, 0);
    cr_assert_eq(count_leaders(s), 1);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(raft_leader(sim_raft(s, id)), l);
    }
    done(s);
}

Test(raft_election, five_nodes_agree_on_one_leader)
{
    sim_t *s = cluster(5, true, true);
    sim_tick_all(s, 40);
    cr_assert_neq(sim_leader(s), 0);
    cr_assert_eq(count_leaders(s), 1);
    done(s);
}

/* §5.2: timeouts are drawn from [election_tick, 2 * election_tick). */
Test(raft_election, randomized_timeouts_in_range_and_spread)
{
    int seen[40] = {0}, distinct = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        raft_config_t cfg = sim_default_config();
        sim_t *s = sim_new(3, &cfg, seed);
        sim_isolate(s, 1);
        int ticks = 0;
        while (raft_term(sim_raft(s, 1)) == 0 && ticks < 40) {
            sim_tick(s, 1);
            ticks++;
        }
        cr_assert(ticks >= 10 && ticks < 20, "campaigned after %d ticks", ticks);
        distinct += !seen[ticks]++;
        done(s);
    }
    cr_assert_geq(distinct, 3, "timeouts are randomized");
}

Test(raft_election, votes_once_per_term)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 1, 3, &ms);
    raft_msg_t v = {.type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 1};
    cr_assert_eq(raft_step(r, &v), 0);
    v.from = 3;
    cr_assert_eq(raft_step(r, &v), 0);
    raft_ready_t rd;
    cr_assert_eq(raft_ready(r, &rd), 0);
    cr_assert_eq(rd.n_persist_msgs, 2);
    cr_assert(!rd.persist_msgs[0].reject && rd.persist_msgs[0].to == 2);
    cr_assert(rd.persist_msgs[1].reject && rd.persist_msgs[1].to == 3);
    cr_assert_eq(rd.hs.vote, 2);
    sim_solo_persist(ms, &rd);
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

/* A vote must be durable before it is sent, and survives a restart. */
Test(raft_election, vote_is_durable_before_sent_and_survives_restart)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 1, 3, &ms);
    raft_msg_t v = {.type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 1};
    raft_step(r, &v);
    raft_ready_t rd;
    raft_ready(r, &rd);
    cr_assert_null(sim_find_msg(&rd, RAFT_MSG_VOTE_RESP, false), "never sent before persisting");
    cr_assert_not_null(sim_find_msg(&rd, RAFT_MSG_VOTE_RESP, true));
    cr_assert(rd.must_sync);
    sim_solo_persist(ms, &rd);
    raft_free(r);
    cfg.id = 1;
    cfg.storage = raft_memstore_storage(ms);
    cr_assert_eq(raft_new(&cfg, &r, NULL, 0), 0);
    v.from = 3;
    raft_step(r, &v);
    raft_ready(r, &rd);
    const raft_msg_t *resp = sim_find_msg(&rd, RAFT_MSG_VOTE_RESP, true);
    cr_assert(resp && resp->reject, "already voted for 2 in term 1");
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

/* §5.4.1: a candidate whose log lacks committed entries cannot win. */
Test(raft_election, stale_log_candidate_loses)
{
    sim_t *s = cluster(3, false, false);
    cr_assert_eq(sim_elect(s, 1), 1);
    sim_isolate(s, 3);
    sim_propose(s, 1, "a");
    sim_propose(s, 1, "b");
    sim_settle(s);
    sim_crash(s, 1);
    sim_heal(s);
    uint64_t before = raft_term(sim_raft(s, 3));
    sim_elect(s, 3);
    cr_assert_neq(raft_role(sim_raft(s, 3)), RAFT_LEADER);
    cr_assert_gt(raft_term(sim_raft(s, 3)), before);
    cr_assert_eq(sim_elect(s, 2), 2, "the up-to-date node wins");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 3, "b"), 1);
    done(s);
}

Test(raft_election, up_to_date_candidate_wins_with_equal_logs)
{
    sim_t *s = cluster(5, false, false);
    sim_elect(s, 1);
    sim_propose(s, 1, "x");
    sim_settle(s);
    cr_assert_eq(sim_elect(s, 4), 4);
    cr_assert_eq(count_leaders(s), 1);
    done(s);
}

/* etcd TestDuelingCandidates: two candidates split the vote, then one wins
 * and the other's higher term does not break safety. */
Test(raft_election, dueling_candidates)
{
    sim_t *s = cluster(3, false, false);
    sim_cut(s, 1, 3);
    raft_campaign(sim_raft(s, 1));
    raft_campaign(sim_raft(s, 3));
    sim_settle(s);
    cr_assert_eq(count_leaders(s), 1, "node 2 votes for only one of them");
    sim_heal(s);
    sim_tick_all(s, 60);
    cr_assert_eq(count_leaders(s), 1);
    uint64_t l = sim_leader(s);
    sim_propose(s, l, "after-duel");
    sim_settle(s);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(sim_applied_count(s, id, "after-duel"), 1);
    }
    done(s);
}

Test(raft_election, dueling_precandidates_do_not_bump_terms)
{
    sim_t *s = cluster(3, true, false);
    sim_cut(s, 1, 3);
    raft_campaign(sim_raft(s, 1));
    raft_campaign(sim_raft(s, 3));
    sim_settle(s);
    cr_assert_eq(count_leaders(s), 1);
    uint64_t l = sim_leader(s);
    cr_assert_eq(raft_term(sim_raft(s, l)), 1, "only the pre-vote winner bumped its term");
    uint64_t other = l == 1 ? 3 : 1;
    cr_assert_leq(raft_term(sim_raft(s, other)), 1);
    done(s);
}

Test(raft_election, prevote_does_not_change_term_when_it_fails)
{
    sim_t *s = cluster(3, true, false);
    sim_isolate(s, 2);
    for (int i = 0; i < 100; i++) {
        sim_tick(s, 2);
        sim_process(s, 2);
    }
    cr_assert_eq(raft_term(sim_raft(s, 2)), 0);
    cr_assert_eq(raft_role(sim_raft(s, 2)), RAFT_PRECANDIDATE);
    done(s);
}

/* §9.6: a follower cut off from the cluster rejoins without deposing the
 * working leader, because its pre-votes fail. */
Test(raft_election, partitioned_follower_rejoins_without_disruption)
{
    sim_t *s = cluster(3, true, false);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    for (int i = 0; i < 100; i++) {
        sim_tick(s, 3);
        sim_process(s, 3);
    }
    sim_heal(s);
    sim_tick_all(s, 5);
    cr_assert_eq(sim_leader(s), 1);
    cr_assert_eq(raft_term(sim_raft(s, 1)), 1);
    cr_assert_eq(raft_term(sim_raft(s, 3)), 1);
    done(s);
}

/* The same without pre-vote: the rejoining node forces a new term. */
Test(raft_election, without_prevote_rejoining_follower_disrupts)
{
    sim_t *s = cluster(3, false, false);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    for (int i = 0; i < 100; i++) {
        sim_tick(s, 3);
        sim_process(s, 3);
    }
    uint64_t t3 = raft_term(sim_raft(s, 3));
    cr_assert_gt(t3, 1);
    sim_heal(s);
    sim_tick_all(s, 60);
    cr_assert_geq(raft_term(sim_raft(s, sim_leader(s))), t3);
    done(s);
}

Test(raft_election, prevote_rejected_for_stale_log)
{
    sim_t *s = cluster(3, true, false);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    sim_propose(s, 1, "newer");
    sim_settle(s);
    sim_crash(s, 1);
    sim_heal(s);
    sim_elect(s, 3);
    cr_assert_eq(raft_term(sim_raft(s, 3)), 1, "pre-vote lost: term unchanged");
    cr_assert_eq(raft_term(sim_raft(s, 2)), 1);
    done(s);
}

/* §6.2: a leader that cannot reach a quorum steps down. */
Test(raft_election, check_quorum_partitioned_leader_steps_down)
{
    sim_t *s = cluster(3, false, true);
    sim_elect(s, 1);
    sim_isolate(s, 1);
    for (int i = 0; i < 25; i++) {
        sim_tick(s, 1);
        sim_process(s, 1);
    }
    cr_assert_eq(raft_role(sim_raft(s, 1)), RAFT_FOLLOWER);
    done(s);
}

Test(raft_election, check_quorum_leader_with_quorum_stays)
{
    sim_t *s = cluster(3, false, true);
    sim_elect(s, 1);
    sim_crash(s, 3);
    sim_tick_all(s, 60);
    cr_assert_eq(sim_leader(s), 1);
    cr_assert_eq(raft_term(sim_raft(s, 1)), 1);
    done(s);
}

/* §4.2.3: within the lease a follower ignores vote requests. */
Test(raft_election, check_quorum_follower_ignores_votes_in_lease)
{
    sim_t *s = cluster(3, false, true);
    sim_elect(s, 1);
    sim_cut(s, 1, 3);
    raft_campaign(sim_raft(s, 3));
    sim_settle(s);
    cr_assert_eq(raft_term(sim_raft(s, 2)), 1, "node 2 heard from the leader: ignores");
    cr_assert_eq(sim_leader(s), 1);
    done(s);
}

/* etcd TestFreeStuckCandidateWithCheckQuorum: a candidate with a higher
 * term that the leader's lease keeps from winning is freed once the leader
 * learns its term. */
Test(raft_election, check_quorum_frees_stuck_candidate)
{
    sim_t *s = cluster(3, false, true);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    for (int i = 0; i < 3; i++) {
        raft_campaign(sim_raft(s, 3));
        sim_settle(s);
    }
    uint64_t t3 = raft_term(sim_raft(s, 3));
    cr_assert_eq(raft_role(sim_raft(s, 3)), RAFT_CANDIDATE);
    sim_heal(s);
    sim_tick_all(s, 60);
    uint64_t l = sim_leader(s);
    cr_assert_neq(l, 0);
    cr_assert_gt(raft_term(sim_raft(s, l)), t3);
    cr_assert_eq(count_leaders(s), 1);
    done(s);
}

Test(raft_election, leader_steps_down_on_higher_term)
{
    sim_t *s = cluster(3, false, false);
    sim_elect(s, 1);
    sim_isolate(s, 1);
    cr_assert_eq(sim_elect(s, 2), 2);
    sim_heal(s);
    sim_tick_all(s, 3);
    cr_assert_eq(raft_role(sim_raft(s, 1)), RAFT_FOLLOWER);
    cr_assert_eq(raft_leader(sim_raft(s, 1)), 2);
    done(s);
}

Test(raft_election, stale_leader_messages_are_ignored)
{
    sim_t *s = cluster(3, false, false);
    sim_elect(s, 1);
    sim_isolate(s, 1);
    sim_propose(s, 1, "stale");
    sim_process(s, 1);
    sim_heal(s); /* the stale APPs are still queued */
    sim_elect(s, 2);
    sim_settle(s);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(sim_applied_count(s, id, "stale"), 0);
    }
    done(s);
}

Test(raft_election, learner_never_campaigns)
{
    sim_t *s = cluster(3, false, false);
    sim_elect(s, 1);
    sim_add_node(s, 4);
    cr_assert_eq(sim_conf_change(s, 1, RAFT_CC_ADD_LEARNER, 4), 0);
    sim_settle(s);
    sim_isolate(s, 4);
    for (int i = 0; i < 100; i++) {
        sim_tick(s, 4);
        sim_process(s, 4);
    }
    cr_assert_eq(raft_role(sim_raft(s, 4)), RAFT_FOLLOWER);
    cr_assert_eq(raft_term(sim_raft(s, 4)), 1);
    done(s);
}

Test(raft_election, candidate_with_single_vote_cannot_win)
{
    sim_t *s = cluster(3, false, false);
    sim_crash(s, 2);
    sim_crash(s, 3);
    raft_campaign(sim_raft(s, 1));
    sim_settle(s);
    cr_assert_eq(raft_role(sim_raft(s, 1)), RAFT_CANDIDATE);
    done(s);
}

Test(raft_election, config_is_validated)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 1, 1, &ms);
    cr_assert_not_null(r);
    raft_config_t bad = cfg;
    bad.id = 1;
    bad.storage = raft_memstore_storage(ms);
    bad.election_tick = 1;
    char msg[128] = "";
    raft_node_t *r2;
    cr_assert_eq(raft_new(&bad, &r2, msg, sizeof(msg)), RAFT_EINVAL);
    cr_assert_neq(msg[0], 0);
    bad.election_tick = 10;
    bad.id = 0;
    cr_assert_eq(raft_new(&bad, &r2, NULL, 0), RAFT_EINVAL);
    sim_solo_free(r, ms);
}
