/*
 * test_replication.c - log replication scenarios (Raft paper §5.3-5.4,
 * Figures 7 and 8), flow control, proposal handling and the asynchronous
 * persistence contract.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"

static sim_t *cluster_cfg(int n, const raft_config_t *cfg)
{
    sim_t *s = sim_new(n, cfg, 7);
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

static uint64_t term_at(sim_t *s, uint64_t id, uint64_t index)
{
    const raft_entry_t *e = raft_memstore_entry(sim_store(s, id), index);
    return e ? e->term : 0;
}

/* Delivers queued messages one by one (FIFO), running the recipient's
 * ready after each, until stop(s) holds or the network is quiet. */
static bool pump_until(sim_t *s, bool (*stop)(sim_t *s))
{
    for (int i = 0; i < 10000; i++) {
        if (stop(s)) {
            return true;
        }
        sim_process_all(s);
        if (stop(s)) {
            return true;
        }
        if (sim_queue_len(s) == 0) {
            return false;
        }
        sim_deliver(s, 0);
    }
    return false;
}

Test(raft_replication, basic_commit_and_apply)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    cr_assert_eq(sim_propose(s, 1, "a"), 0);
    sim_settle(s);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(sim_applied_count(s, id, "a"), 1);
        cr_assert_eq(sim_commit(s, id), 2);
    }
    done(s);
}

Test(raft_replication, commit_needs_a_majority)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_isolate(s, 1);
    sim_propose(s, 1, "a");
    sim_settle(s);
    cr_assert_eq(sim_commit(s, 1), 1);
    sim_heal(s);
    sim_tick_all(s, 2);
    cr_assert_eq(sim_commit(s, 1), 2);
    done(s);
}

static bool node5_leads(sim_t *s)
{
    return sim_raft(s, 5) && raft_role(sim_raft(s, 5)) == RAFT_LEADER;
}

static bool node3_has_index2(sim_t *s)
{
    raft_status_t st;
    raft_status(sim_raft(s, 1), &st);
    for (size_t i = 0; i < st.n_progress; i++) {
        if (st.progress[i].id == 3 && st.progress[i].match >= 2) {
            return true;
        }
    }
    return false;
}

/* Raft paper Figure 8: a leader may not commit an entry of an earlier term
 * by counting replicas (§5.4.2). Entry 2 of term 1 reaches a majority
 * under the term-3 leader, which must not commit it; the term-4 leader
 * then legitimately overwrites it. The checker would flag the overwrite of
 * a committed entry. */
Test(raft_replication, figure8_no_commit_by_counting_old_term_replicas)
{
    raft_config_t cfg = sim_default_config();
    cfg.max_size_per_msg = 1; /* one entry per APP, so replication is stepwise */
    sim_t *s = cluster_cfg(5, &cfg);
    sim_elect(s, 1); /* (a) S1 leads term 1, replicates entry 2 to S2 only */
    sim_cut(s, 1, 3);
    sim_cut(s, 1, 4);
    sim_cut(s, 1, 5);
    sim_propose(s, 1, "t1");
    sim_settle(s);
    cr_assert_eq(term_at(s, 2, 2), 1);
    sim_crash(s, 1); /* (b) S5 leads term 2 with votes of S3, S4, S5 */
    sim_heal(s);
    sim_cut(s, 5, 2);
    raft_campaign(sim_raft(s, 5));
    cr_assert(pump_until(s, node5_leads));
    sim_isolate(s, 5);
    sim_settle(s);
    cr_assert_eq(term_at(s, 5, 2), 2);
    sim_crash(s, 5);
    sim_heal(s); /* (c) S1 restarts, leads term 3, replicates entry 2 to S3 */
    sim_restart(s, 1);
    for (int i = 0; i < 3 && raft_role(sim_raft(s, 1)) != RAFT_LEADER; i++) {
        raft_campaign(sim_raft(s, 1));
        pump_until(s, node3_has_index2);
    }
    cr_assert_eq(raft_term(sim_raft(s, 1)), 3);
    cr_assert(pump_until(s, node3_has_index2));
    cr_assert_lt(sim_commit(s, 1), 2, "entry 2 of term 1 is on a majority, yet uncommitted");
    sim_crash(s, 1); /* (d) S1 crashes before its term-3 entry spreads */
    sim_restart(s, 5);
    sim_drop_matching(s, 0, 1, 0);
    for (int i = 0; i < 3 && raft_role(sim_raft(s, 5)) != RAFT_LEADER; i++) {
        sim_elect(s, 5);
    }
    cr_assert_eq(sim_leader(s), 5, "S5 wins with S2, S3, S4: its last term 2 beats 1");
    sim_settle(s);
    cr_assert_eq(term_at(s, 3, 2), 2, "S5 overwrote entry 2 on S3");
    sim_restart(s, 1);
    sim_tick_all(s, 5);
    cr_assert_eq(term_at(s, 1, 2), 2);
    done(s);
}

/* Only entries of the leader's term are committed by counting; older ones
 * follow with them. */
Test(raft_replication, old_term_entries_commit_with_current_term_entry)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_cut(s, 1, 3);
    sim_cut(s, 1, 2);
    sim_propose(s, 1, "old");
    sim_settle(s);
    sim_crash(s, 1);
    sim_restart(s, 1);
    sim_heal(s);
    cr_assert_eq(sim_elect(s, 1), 1);
    cr_assert_eq(raft_term(sim_raft(s, 1)), 2);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(sim_applied_count(s, id, "old"), 1);
        cr_assert_eq(sim_commit(s, id), 3, "old entry 2 commits with the empty entry 3");
    }
    done(s);
}

static void craft_log(sim_t *s, uint64_t id, const uint64_t *terms, size_t n, uint64_t term)
{
    raft_entry_t ents[16];
    char data[16][48];
    for (size_t i = 0; i < n; i++) {
        snprintf(data[i], sizeof(data[i]), "%zu-%llu", i + 1, (unsigned long long)terms[i]);
        ents[i] =
            (raft_entry_t){.term = terms[i], .index = i + 1, .len = (uint32_t)strlen(data[i])};
        ents[i].data = (const uint8_t *)data[i];
    }
    raft_memstore_append(sim_store(s, id), ents, n);
    raft_hard_state_t hs = {.term = term};
    raft_memstore_set_hard_state(sim_store(s, id), &hs);
}

/* Raft paper Figure 7: the leader of term 8 brings six followers with
 * missing, extra and conflicting entries back in line (§5.3). */
Test(raft_replication, figure7_divergent_followers_repaired)
{
    static const uint64_t leader[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
    static const uint64_t a[] = {1, 1, 1, 4, 4, 5, 5, 6, 6};
    static const uint64_t b[] = {1, 1, 1, 4};
    static const uint64_t c[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6};
    static const uint64_t d[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7};
    static const uint64_t e[] = {1, 1, 1, 4, 4, 4, 4};
    static const uint64_t f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};
    const uint64_t *logs[] = {leader, a, b, c, d, e, f};
    size_t lens[] = {10, 9, 4, 11, 12, 7, 11};
    raft_config_t cfg = sim_default_config();
    sim_t *s = cluster_cfg(7, &cfg);
    for (uint64_t id = 1; id <= 7; id++) {
        sim_crash(s, id);
        craft_log(s, id, logs[id - 1], lens[id - 1], 7);
        sim_restart(s, id);
    }
    cr_assert_eq(sim_elect(s, 1), 1);
    cr_assert_eq(raft_term(sim_raft(s, 1)), 8);
    sim_tick_all(s, 3);
    for (uint64_t id = 2; id <= 7; id++) {
        cr_assert_eq(raft_memstore_last_index(sim_store(s, id)), 11, "node %llu",
                     (unsigned long long)id);
        for (uint64_t i = 1; i <= 11; i++) {
            cr_assert_eq(term_at(s, id, i), term_at(s, 1, i));
        }
        cr_assert_eq(sim_state(s, id), sim_state(s, 1));
    }
    done(s);
}

/* The follower's rejection names the last index of a term <= the leader's,
 * skipping a whole conflicting term in one round trip. */
Test(raft_replication, fast_backtracking_hint_skips_a_term)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 2, 3, &ms);
    raft_entry_t ents[30];
    for (int i = 0; i < 30; i++) {
        ents[i] = (raft_entry_t){.term = i < 5 ? 1 : 2, .index = (uint64_t)i + 1};
    }
    raft_memstore_append(ms, ents, 30);
    raft_free(r);
    cfg.id = 2;
    cfg.storage = raft_memstore_storage(ms);
    raft_new(&cfg, &r, NULL, 0);
    raft_msg_t app = {
        .type = RAFT_MSG_APP, .from = 1, .to = 2, .term = 3, .index = 40, .log_term = 3};
    raft_step(r, &app);
    raft_ready_t rd;
    raft_ready(r, &rd);
    const raft_msg_t *resp = sim_find_msg(&rd, RAFT_MSG_APP_RESP, true);
    cr_assert(resp && resp->reject);
    cr_assert_eq(resp->reject_hint, 30);
    cr_assert_eq(resp->log_term, 2);
    raft_advance(r, &rd);
    app.index = 30; /* the leader has term 1 up to 30: skip all of term 2 */
    app.log_term = 1;
    raft_step(r, &app);
    raft_ready(r, &rd);
    resp = sim_find_msg(&rd, RAFT_MSG_APP_RESP, true);
    cr_assert(resp && resp->reject);
    cr_assert_eq(resp->reject_hint, 5);
    cr_assert_eq(resp->log_term, 1);
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

Test(raft_replication, reordered_appends_converge)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    char cmd[16];
    for (int i = 0; i < 8; i++) {
        snprintf(cmd, sizeof(cmd), "r%d", i);
        sim_propose(s, 1, cmd);
        sim_process(s, 1);
    }
    while (sim_queue_len(s) > 0) { /* newest first */
        sim_deliver(s, sim_queue_len(s) - 1);
        sim_process_all(s);
    }
    sim_tick_all(s, 3);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(sim_applied_count(s, id, "r7"), 1);
        cr_assert_eq(sim_state(s, id), sim_state(s, 1));
    }
    done(s);
}

Test(raft_replication, duplicated_appends_are_idempotent)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_set_faults(s, 0, 50);
    char cmd[16];
    for (int i = 0; i < 10; i++) {
        snprintf(cmd, sizeof(cmd), "d%d", i);
        sim_propose(s, 1, cmd);
        sim_settle(s);
    }
    sim_set_faults(s, 0, 0);
    sim_tick_all(s, 2);
    for (uint64_t id = 1; id <= 3; id++) {
        for (int i = 0; i < 10; i++) {
            snprintf(cmd, sizeof(cmd), "d%d", i);
            cr_assert_eq(sim_applied_count(s, id, cmd), 1);
        }
    }
    done(s);
}

static size_t apps_to(sim_t *s, uint64_t to)
{
    return sim_count_matching(s, RAFT_MSG_APP, 1, to);
}

Test(raft_replication, inflight_window_bounded_by_count)
{
    raft_config_t cfg = sim_default_config();
    cfg.max_inflight_msgs = 2;
    sim_t *s = cluster_cfg(3, &cfg);
    sim_elect(s, 1);
    for (int i = 0; i < 6; i++) {
        sim_propose(s, 1, "w");
        sim_process(s, 1);
    }
    cr_assert_eq(apps_to(s, 2), 2);
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 2, "w"), 6, "the window reopens as acks arrive");
    done(s);
}

Test(raft_replication, inflight_window_bounded_by_bytes)
{
    raft_config_t cfg = sim_default_config();
    cfg.max_inflight_bytes = 20;
    sim_t *s = cluster_cfg(3, &cfg);
    sim_elect(s, 1);
    for (int i = 0; i < 6; i++) {
        sim_propose(s, 1, "0123456789");
        sim_process(s, 1);
    }
    cr_assert_eq(apps_to(s, 2), 2, "two 10-byte APPs fill a 20-byte window");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 3, "0123456789"), 6);
    done(s);
}

/* Proposals made between two readies travel in one APP per follower. */
Test(raft_replication, proposals_between_readies_are_batched)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_crash(s, 3);
    for (int i = 0; i < 10; i++) {
        sim_propose(s, 1, "0123456789");
    }
    sim_settle(s);
    sim_restart(s, 3);
    sim_tick(s, 1);
    sim_process(s, 1);
    sim_settle(s); /* probe finds the match; then batched catch-up */
    size_t max_seen = 0;
    sim_crash(s, 2);
    for (int i = 0; i < 4; i++) {
        sim_propose(s, 1, "0123456789");
    }
    sim_process(s, 1);
    for (size_t k = 0; k < sim_queue_len(s); k++) {
        raft_msg_t m;
        sim_queue_msg(s, k, &m);
        if (m.type == RAFT_MSG_APP && m.n_entries > max_seen) {
            max_seen = m.n_entries;
        }
    }
    cr_assert_eq(max_seen, 4, "all four proposals go out in one APP");
    sim_restart(s, 2);
    sim_settle(s);
    sim_tick_all(s, 3);
    cr_assert_eq(sim_applied_count(s, 3, "0123456789"), 14);
    done(s);
}

Test(raft_replication, max_message_size_limits_catch_up_batches)
{
    raft_config_t cfg = sim_default_config();
    cfg.max_size_per_msg = 25;
    sim_t *s = cluster_cfg(3, &cfg);
    sim_elect(s, 1);
    sim_isolate(s, 3);
    for (int i = 0; i < 10; i++) {
        sim_propose(s, 1, "0123456789");
    }
    sim_settle(s);
    sim_heal(s);
    size_t most = 0;
    for (int round = 0; round < 50 && sim_applied_count(s, 3, "0123456789") < 10; round++) {
        sim_tick(s, 1);
        sim_process_all(s);
        for (size_t k = 0; k < sim_queue_len(s); k++) {
            raft_msg_t m;
            sim_queue_msg(s, k, &m);
            if (m.type == RAFT_MSG_APP && m.to == 3 && m.n_entries > most) {
                most = m.n_entries;
            }
        }
        sim_settle(s);
    }
    cr_assert_eq(sim_applied_count(s, 3, "0123456789"), 10);
    cr_assert_leq(most, 3, "25-byte messages carry at most three 10-byte entries");
    done(s);
}

Test(raft_replication, probe_state_sends_one_append_at_a_time)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    raft_report_unreachable(sim_raft(s, 1), 2);
    for (int i = 0; i < 5; i++) {
        sim_propose(s, 1, "p");
        sim_process(s, 1);
    }
    cr_assert_eq(apps_to(s, 2), 1);
    cr_assert_eq(apps_to(s, 3), 5, "the replicating follower gets every APP");
    sim_settle(s);
    cr_assert_eq(sim_applied_count(s, 2, "p"), 5);
    done(s);
}

/* Heartbeats carry the commit index only up to what the peer matches. */
Test(raft_replication, heartbeat_commit_bounded_by_match)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_cut(s, 1, 3);
    sim_propose(s, 1, "h");
    sim_settle(s);
    sim_heal(s);
    sim_tick(s, 1);
    sim_process(s, 1);
    sim_drop_matching(s, RAFT_MSG_APP, 1, 3);
    for (size_t k = 0; k < sim_queue_len(s); k++) {
        raft_msg_t m;
        sim_queue_msg(s, k, &m);
        if (m.type == RAFT_MSG_HEARTBEAT && m.to == 3) {
            cr_assert_eq(m.commit, 1);
        }
        if (m.type == RAFT_MSG_HEARTBEAT && m.to == 2) {
            cr_assert_eq(m.commit, 2);
        }
    }
    done(s);
}

Test(raft_replication, follower_commit_follows_leader)
{
    sim_t *s = cluster(5);
    sim_elect(s, 1);
    for (int i = 0; i < 5; i++) {
        sim_propose(s, 1, "f");
    }
    sim_settle(s);
    sim_tick_all(s, 1);
    for (uint64_t id = 2; id <= 5; id++) {
        cr_assert_eq(sim_commit(s, id), sim_commit(s, 1));
        cr_assert_eq(sim_applied(s, id), sim_applied(s, 1));
    }
    done(s);
}

/* A partitioned leader cannot grow its uncommitted tail without bound. */
Test(raft_replication, bounded_log_growth_while_partitioned)
{
    raft_config_t cfg = sim_default_config();
    cfg.max_uncommitted_size = 100;
    sim_t *s = cluster_cfg(3, &cfg);
    sim_elect(s, 1);
    sim_isolate(s, 1);
    int accepted = 0, rc = 0;
    for (int i = 0; i < 50 && rc == 0; i++) {
        rc = sim_propose(s, 1, "0123456789012345678901234");
        accepted += rc == 0;
        sim_process(s, 1);
    }
    cr_assert_eq(rc, RAFT_ETOO_LARGE);
    cr_assert_eq(accepted, 4, "100 bytes hold four 25-byte commands");
    sim_heal(s);
    sim_tick_all(s, 3);
    cr_assert_eq(sim_propose(s, 1, "after"), 0, "committing frees the budget");
    done(s);
}

Test(raft_replication, proposal_forwarded_to_leader)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    cr_assert_eq(sim_propose(s, 3, "fwd"), 0);
    sim_settle(s);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(sim_applied_count(s, id, "fwd"), 1);
    }
    done(s);
}

Test(raft_replication, proposal_forwarding_can_be_disabled)
{
    raft_config_t cfg = sim_default_config();
    cfg.disable_proposal_forwarding = true;
    sim_t *s = cluster_cfg(3, &cfg);
    sim_elect(s, 1);
    cr_assert_eq(sim_propose(s, 3, "fwd"), RAFT_EDROPPED);
    cr_assert_eq(sim_propose(s, 1, "direct"), 0);
    done(s);
}

Test(raft_replication, proposal_without_leader_is_dropped)
{
    sim_t *s = cluster(3);
    cr_assert_eq(sim_propose(s, 2, "nobody"), RAFT_EDROPPED);
    raft_campaign(sim_raft(s, 2));
    cr_assert_eq(sim_propose(s, 2, "candidate"), RAFT_EDROPPED);
    done(s);
}

/* Persistence contract: the leader's own entry counts toward commit only
 * after raft_advance reported it durable. */
Test(raft_replication, leader_counts_itself_only_after_advance)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 1, 1, &ms);
    raft_campaign(r);
    sim_solo_cycle(r, ms);
    sim_solo_cycle(r, ms);
    cr_assert_eq(raft_role(r), RAFT_LEADER);
    raft_propose(r, "x", 1);
    raft_ready_t rd;
    raft_ready(r, &rd);
    cr_assert_eq(rd.n_entries, 1);
    cr_assert_eq(rd.entries[0].index, 2);
    cr_assert_lt(rd.hs.commit, 2, "not committed before it is durable");
    cr_assert_eq(rd.n_committed, 0);
    sim_solo_persist(ms, &rd);
    raft_advance(r, &rd);
    raft_ready(r, &rd);
    cr_assert_eq(rd.hs.commit, 2);
    cr_assert_eq(rd.n_committed, 1);
    cr_assert_eq(rd.committed[0].len, 1);
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

Test(raft_replication, follower_ack_waits_for_persistence)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 2, 3, &ms);
    raft_entry_t e = {.term = 1, .index = 1, .len = 3, .data = (const uint8_t *)"abc"};
    raft_msg_t app = {
        .type = RAFT_MSG_APP, .from = 1, .to = 2, .term = 1, .n_entries = 1, .entries = &e};
    raft_step(r, &app);
    raft_ready_t rd;
    raft_ready(r, &rd);
    cr_assert_eq(rd.n_entries, 1);
    cr_assert(rd.must_sync);
    cr_assert_null(sim_find_msg(&rd, RAFT_MSG_APP_RESP, false));
    const raft_msg_t *ack = sim_find_msg(&rd, RAFT_MSG_APP_RESP, true);
    cr_assert(ack && !ack->reject && ack->index == 1);
    cr_assert_eq(raft_step(r, &app), RAFT_EBUSY, "no step while a ready is outstanding");
    cr_assert_eq(raft_tick(r), RAFT_EBUSY);
    cr_assert_eq(raft_ready(r, &rd), RAFT_EBUSY);
    sim_solo_persist(ms, &rd);
    cr_assert_eq(raft_advance(r, &rd), 0);
    cr_assert_eq(raft_advance(r, &rd), RAFT_EINVAL);
    sim_solo_free(r, ms);
}

Test(raft_replication, commit_only_change_needs_no_sync)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 2, 3, &ms);
    raft_entry_t e = {.term = 1, .index = 1};
    raft_msg_t app = {
        .type = RAFT_MSG_APP, .from = 1, .to = 2, .term = 1, .n_entries = 1, .entries = &e};
    raft_step(r, &app);
    sim_solo_cycle(r, ms);
    raft_msg_t hb = {.type = RAFT_MSG_HEARTBEAT, .from = 1, .to = 2, .term = 1, .commit = 1};
    raft_step(r, &hb);
    raft_ready_t rd;
    raft_ready(r, &rd);
    cr_assert(rd.hs_changed);
    cr_assert_eq(rd.hs.commit, 1);
    cr_assert(!rd.must_sync);
    cr_assert_eq(rd.n_committed, 1);
    raft_advance(r, &rd);
    sim_solo_free(r, ms);
}

/* A follower that persists entries and crashes before acknowledging them
 * is simply retried; nothing is committed on its behalf. */
Test(raft_replication, crash_between_persist_and_ack)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "c");
    sim_process(s, 1);
    sim_deliver(s, 0);
    sim_deliver(s, 0);
    sim_crash_next_ready(s, 2, SIM_CRASH_AFTER_PERSIST);
    sim_crash_next_ready(s, 3, SIM_CRASH_AFTER_PERSIST);
    sim_process_all(s);
    sim_settle(s);
    cr_assert_eq(sim_commit(s, 1), 1, "no acknowledgement left the crashed followers");
    cr_assert_eq(raft_memstore_last_index(sim_store(s, 2)), 2, "but the entry is durable");
    sim_restart(s, 2);
    sim_restart(s, 3);
    sim_tick_all(s, 3);
    cr_assert_eq(sim_commit(s, 1), 2);
    cr_assert_eq(sim_applied_count(s, 2, "c"), 1);
    done(s);
}

Test(raft_replication, crash_before_persist_loses_only_unacked_entries)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "lost");
    sim_process(s, 1);
    sim_deliver(s, 0);
    sim_crash_next_ready(s, 2, SIM_CRASH_BEFORE_PERSIST);
    sim_process(s, 2);
    cr_assert_eq(raft_memstore_last_index(sim_store(s, 2)), 1);
    sim_restart(s, 2);
    sim_settle(s);
    sim_tick_all(s, 3);
    cr_assert_eq(sim_applied_count(s, 2, "lost"), 1, "re-replicated after restart");
    done(s);
}

/* The leader may send its APPs before its own write completes (§10.2.1);
 * if it then crashes, the followers' copies still commit the entry. */
Test(raft_replication, leader_crash_before_persist_entry_survives_on_followers)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "early");
    sim_crash_next_ready(s, 1, SIM_CRASH_BEFORE_PERSIST);
    sim_process(s, 1);
    cr_assert(!sim_up(s, 1));
    sim_settle(s);
    sim_elect(s, 2);
    sim_restart(s, 1);
    sim_tick_all(s, 3);
    for (uint64_t id = 1; id <= 3; id++) {
        cr_assert_eq(sim_applied_count(s, id, "early"), 1);
    }
    done(s);
}

Test(raft_replication, status_reports_progress)
{
    sim_t *s = cluster(3);
    sim_elect(s, 1);
    sim_propose(s, 1, "st");
    sim_settle(s);
    raft_status_t st;
    raft_status(sim_raft(s, 1), &st);
    cr_assert_eq(st.role, RAFT_LEADER);
    cr_assert_eq(st.lead, 1);
    cr_assert_eq(st.term, 1);
    cr_assert_eq(st.commit, 2);
    cr_assert_eq(st.applied, 2);
    cr_assert_eq(st.n_progress, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(st.progress[i].match, 2);
        cr_assert_eq(st.progress[i].state, 1);
    }
    raft_status(sim_raft(s, 2), &st);
    cr_assert_eq(st.n_progress, 0);
    cr_assert_eq(st.vote, 1);
    done(s);
}

Test(raft_replication, malformed_append_rejected)
{
    raft_memstore_t *ms;
    raft_config_t cfg = sim_default_config();
    raft_node_t *r = sim_solo(&cfg, 2, 3, &ms);
    raft_entry_t ents[2] = {{.term = 1, .index = 1}, {.term = 1, .index = 3}};
    raft_msg_t app = {
        .type = RAFT_MSG_APP, .from = 1, .to = 2, .term = 1, .n_entries = 2, .entries = ents};
    cr_assert_eq(raft_step(r, &app), RAFT_EINVAL, "gap between entries");
    ents[1].index = 2;
    ents[1].term = 2;
    cr_assert_eq(raft_step(r, &app), RAFT_EINVAL, "entry newer than the sender's term");
    app.from = 0;
    ents[1].term = 1;
    cr_assert_eq(raft_step(r, &app), RAFT_EINVAL, "no sender");
    app.from = 1;
    cr_assert_eq(raft_step(r, &app), 0);
    sim_solo_free(r, ms);
}
