/*
 * election.c - roles, timers, elections and the term rules every message
 * goes through (Raft paper §5.1-5.2, §5.4.1; dissertation §3.10 transfer,
 * §4.2.3 disruptive servers, §9.6 pre-vote, §6.2 check-quorum).
 */
#include <assert.h>

#include "raft/raft_int.h"

/* A node may campaign only as a voter and not while a snapshot is pending. */
bool raft__promotable(const raft_node_t *r)
{
    return raft__cs_is_voter(&r->conf, r->id) && r->log.snap == NULL;
}

/* §5.2: randomized timeouts in [election_tick, 2*election_tick) make split
 * votes rare. */
static void reset_randomized_timeout(raft_node_t *r)
{
    r->randomized_timeout =
        r->cfg.election_tick + (int)(raft__rand(&r->prng) % (uint64_t)r->cfg.election_tick);
}

void raft__reset(raft_node_t *r, uint64_t term)
{
    if (term != r->term) {
        r->term = term;
        r->vote = RAFT_NONE;
    }
    r->lead = RAFT_NONE;
    r->election_elapsed = 0;
    r->heartbeat_elapsed = 0;
    reset_randomized_timeout(r);
    r->lead_transferee = RAFT_NONE;
    r->n_votes = 0;
    uint64_t last = raft__log_last(&r->log);
    for (size_t i = 0; i < r->n_prs; i++) {
        raft__progress_t *pr = &r->prs[i];
        pr->state = RAFT__PR_PROBE;
        pr->probe_sent = false;
        pr->pending_snapshot = 0;
        pr->recent_active = false;
        pr->acked_round = 0;
        raft__pr_reset_inflights(pr);
        pr->next = last + 1;
        /* Only what the caller reported durable counts for ourselves. */
        pr->match = pr->id == r->id ? raft__log_last_stable(&r->log) : 0;
    }
    r->pending_conf_index = 0;
    r->uncommitted_size = 0;
    r->append_pending = false;
    r->campaign_after_apply = false;
    raft__reads_reset(r);
}

void raft__become_follower(raft_node_t *r, uint64_t term, uint64_t lead)
{
    raft__reset(r, term);
    r->lead = lead;
    r->role = RAFT_FOLLOWER;
}

static void become_candidate(raft_node_t *r)
{
    assert(r->role != RAFT_LEADER);
    raft__reset(r, r->term + 1);
    r->vote = r->id;
    r->role = RAFT_CANDIDATE;
}

/* §9.6: a pre-candidate asks whether it could win before bumping its term,
 * so a partitioned node rejoining does not disrupt a working leader. */
static void become_pre_candidate(raft_node_t *r)
{
    assert(r->role != RAFT_LEADER);
    r->n_votes = 0;
    r->lead = RAFT_NONE;
    r->role = RAFT_PRECANDIDATE;
}

int raft__become_leader(raft_node_t *r)
{
    assert(r->role != RAFT_FOLLOWER);
    raft__reset(r, r->term);
    r->lead = r->id;
    r->role = RAFT_LEADER;
    raft__progress_t *self = raft__progress(r, r->id);
    raft__pr_become_replicate(self);
    self->recent_active = true;
    /* Any configuration change in our log may still be unapplied. */
    r->pending_conf_index = raft__log_last(&r->log);
    /* §8 / §6.4: an empty entry of the new term lets the leader commit
     * (and learn the commit index) promptly. */
    raft_entry_t empty = {.type = RAFT_ENTRY_NORMAL};
    return raft__append_entries(r, &empty, 1);
}

static int vote_of(void *ud, uint64_t id)
{
    raft_node_t *r = ud;
    for (size_t i = 0; i < r->n_votes; i++) {
        if (r->votes_id[i] == id) {
            return r->votes_granted[i];
        }
    }
    return -1;
}

static raft__vote_result_t poll(raft_node_t *r, uint64_t id, bool granted)
{
    if (vote_of(r, id) < 0 && r->n_votes < 2 * RAFT_MAX_MEMBERS) {
        r->votes_id[r->n_votes] = id;
        r->votes_granted[r->n_votes++] = granted;
    }
    return raft__joint_vote(&r->conf, vote_of, r);
}

static int request_votes(raft_node_t *r, uint8_t type, uint64_t term, bool transfer)
{
    uint64_t last = raft__log_last(&r->log);
    const raft_conf_state_t *c = &r->conf;
    for (size_t i = 0; i < (size_t)c->n_voters + c->n_voters_outgoing; i++) {
        uint64_t id = i < c->n_voters ? c->voters[i] : c->voters_outgoing[i - c->n_voters];
        bool dup = i >= c->n_voters && raft__ids_contain(c->voters, c->n_voters, id);
        if (id == r->id || dup) {
            continue;
        }
        raft_msg_t m = {.type = type,
                        .to = id,
                        .term = term,
                        .index = last,
                        .log_term = raft__log_term_or0(&r->log, last),
                        .context = transfer};
        int rc = raft__send(r, &m);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int campaign(raft_node_t *r, bool pre, bool transfer)
{
    uint8_t type;
    uint64_t term;
    if (pre) {
        become_pre_candidate(r);
        type = RAFT_MSG_PREVOTE;
        term = r->term + 1; /* the term we would campaign in */
    } else {
        become_candidate(r);
        type = RAFT_MSG_VOTE;
        term = r->term;
    }
    if (poll(r, r->id, true) == RAFT__VOTE_WON) {
        /* A single voter wins at once. */
        return pre ? campaign(r, false, transfer) : raft__become_leader(r);
    }
    return request_votes(r, type, term, transfer);
}

/* An unapplied configuration change between applied and commit could make
 * our view of the voters wrong; etcd-raft refuses to campaign then. */
static bool pending_conf_to_apply(raft_node_t *r)
{
    uint64_t lo = r->log.applied + 1, hi = r->log.committed + 1;
    while (lo < hi) {
        const raft_entry_t *e;
        size_t n;
        uint64_t top = hi - lo > RAFT__MAX_ENTS_PER_MSG ? lo + RAFT__MAX_ENTS_PER_MSG : hi;
        if (raft__log_slice(&r->log, lo, top, UINT64_MAX, &e, &n) != 0 || n == 0) {
            return true;
        }
        for (size_t i = 0; i < n; i++) {
            if (e[i].type == RAFT_ENTRY_CONF_CHANGE) {
                return true;
            }
        }
        lo += n;
    }
    return false;
}

/* Starts an election; `transfer` for TimeoutNow (§3.10), which skips
 * pre-vote and overrides the leader lease of the voters. */
int raft__hup(raft_node_t *r, bool transfer)
{
    if (r->role == RAFT_LEADER || !raft__promotable(r)) {
        return 0;
    }
    if (pending_conf_to_apply(r)) {
        /* A TimeoutNow may overtake the change that caused the handover;
         * campaign once it is applied (raft_advance), not with a stale view
         * of the voters. */
        r->campaign_after_apply |= transfer;
        return 0;
    }
    return campaign(r, r->cfg.pre_vote && !transfer, transfer);
}

static int active_of(void *ud, uint64_t id)
{
    raft_node_t *r = ud;
    raft__progress_t *pr = raft__progress(r, id);
    return pr && (id == r->id || pr->recent_active);
}

/* §6.2 check-quorum: true if a quorum was heard from in the last election
 * timeout; clears the activity flags for the next period. */
static bool quorum_active(raft_node_t *r)
{
    bool ok = raft__joint_vote(&r->conf, active_of, r) == RAFT__VOTE_WON;
    for (size_t i = 0; i < r->n_prs; i++) {
        r->prs[i].recent_active = false;
    }
    return ok;
}

static int tick_heartbeat(raft_node_t *r)
{
    r->heartbeat_elapsed++;
    r->election_elapsed++;
    if (r->election_elapsed >= r->cfg.election_tick) {
        r->election_elapsed = 0;
        if (r->cfg.check_quorum && !quorum_active(r)) {
            raft__become_follower(r, r->term, RAFT_NONE);
            return 0;
        }
        /* §3.10: a transfer that did not finish in an election timeout is
         * aborted so that proposals flow again; a leader that is no longer
         * a voter gives up instead. */
        r->lead_transferee = RAFT_NONE;
        if (r->is_learner) {
            raft__become_follower(r, r->term, RAFT_NONE);
            return 0;
        }
    }
    if (r->heartbeat_elapsed >= r->cfg.heartbeat_tick) {
        r->heartbeat_elapsed = 0;
        return raft__bcast_heartbeat(r, r->read_round);
    }
    return 0;
}

int raft__tick(raft_node_t *r)
{
    if (r->role == RAFT_LEADER) {
        return tick_heartbeat(r);
    }
    r->election_elapsed++;
    if (raft__promotable(r) && r->election_elapsed >= r->randomized_timeout) {
        r->election_elapsed = 0;
        return raft__hup(r, false);
    }
    return 0;
}

/* §5.2 / §5.4.1 with the pre-vote variant: grant when we have not voted for
 * someone else this term and the candidate's log is up to date. */
static int handle_vote(raft_node_t *r, const raft_msg_t *m)
{
    bool pre = m->type == RAFT_MSG_PREVOTE;
    bool can_vote = r->vote == m->from || (r->vote == RAFT_NONE && r->lead == RAFT_NONE) ||
                    (pre && m->term > r->term);
    raft_msg_t resp = {.type = pre ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP, .to = m->from};
    if (can_vote && raft__log_up_to_date(&r->log, m->index, m->log_term)) {
        resp.term = m->term;
        if (!pre) {
            r->election_elapsed = 0;
            r->vote = m->from;
        }
    } else {
        resp.term = r->term;
        resp.reject = true;
    }
    return raft__send(r, &resp);
}

static int step_candidate(raft_node_t *r, const raft_msg_t *m)
{
    uint8_t my_resp = r->role == RAFT_PRECANDIDATE ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP;
    switch (m->type) {
    case RAFT_MSG_PROP:
    case RAFT_MSG_READ_INDEX:
        return RAFT_EDROPPED;
    case RAFT_MSG_APP:
        raft__become_follower(r, m->term, m->from);
        return raft__handle_append(r, m);
    case RAFT_MSG_HEARTBEAT:
        raft__become_follower(r, m->term, m->from);
        return raft__handle_heartbeat(r, m);
    case RAFT_MSG_SNAP:
        raft__become_follower(r, m->term, m->from);
        return raft__handle_snapshot(r, m);
    default:
        break;
    }
    if (m->type != my_resp) {
        return 0;
    }
    raft__vote_result_t res = poll(r, m->from, !m->reject);
    if (res == RAFT__VOTE_WON && !raft__promotable(r)) {
        res = RAFT__VOTE_LOST; /* a snapshot or change made us a non-voter */
    }
    switch (res) {
    case RAFT__VOTE_WON:
        if (r->role == RAFT_PRECANDIDATE) {
            return campaign(r, false, false);
        }
        int rc = raft__become_leader(r);
        return rc != 0 ? rc : raft__bcast_append(r);
    case RAFT__VOTE_LOST:
        raft__become_follower(r, r->term, RAFT_NONE);
        return 0;
    default:
        return 0;
    }
}

static int forward_to_leader(raft_node_t *r, const raft_msg_t *m)
{
    if (r->lead == RAFT_NONE || (m->type == RAFT_MSG_PROP && r->cfg.disable_proposal_forwarding)) {
        return RAFT_EDROPPED;
    }
    raft_msg_t fwd = *m;
    fwd.to = r->lead;
    int rc = raft__copy_entries(r, m->entries, m->n_entries, (raft_entry_t **)&fwd.entries);
    return rc != 0 ? rc : raft__send(r, &fwd);
}

static int step_follower(raft_node_t *r, const raft_msg_t *m)
{
    switch (m->type) {
    case RAFT_MSG_PROP:
    case RAFT_MSG_READ_INDEX:
    case RAFT_MSG_TRANSFER_LEADER:
        return forward_to_leader(r, m);
    case RAFT_MSG_APP:
        r->election_elapsed = 0;
        r->lead = m->from;
        return raft__handle_append(r, m);
    case RAFT_MSG_HEARTBEAT:
        r->election_elapsed = 0;
        r->lead = m->from;
        return raft__handle_heartbeat(r, m);
    case RAFT_MSG_SNAP:
        r->election_elapsed = 0;
        r->lead = m->from;
        return raft__handle_snapshot(r, m);
    case RAFT_MSG_TIMEOUT_NOW:
        return raft__hup(r, true);
    case RAFT_MSG_READ_INDEX_RESP:
        return raft__add_read_state(r, m->index, m->context);
    default:
        return 0;
    }
}

/* Term rules shared by every role (Raft paper §5.1, Figure 2 "all servers"),
 * then dispatch by role. Messages with term 0 are forwarded requests. */
int raft__step(raft_node_t *r, const raft_msg_t *m)
{
    bool vote = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PREVOTE;
    if (m->term > r->term && m->term != 0) {
        /* §4.2.3: within the minimum election timeout after hearing from a
         * leader, ignore vote requests, unless this is a transfer. */
        bool in_lease = r->cfg.check_quorum && r->lead != RAFT_NONE &&
                        r->election_elapsed < r->cfg.election_tick;
        if (vote && m->context == 0 && in_lease) {
            return 0;
        }
        bool keep_term =
            m->type == RAFT_MSG_PREVOTE || (m->type == RAFT_MSG_PREVOTE_RESP && !m->reject);
        if (!keep_term) {
            bool from_leader = m->type == RAFT_MSG_APP || m->type == RAFT_MSG_HEARTBEAT ||
                               m->type == RAFT_MSG_SNAP;
            raft__become_follower(r, m->term, from_leader ? m->from : RAFT_NONE);
        }
    } else if (m->term < r->term && m->term != 0) {
        if ((r->cfg.check_quorum || r->cfg.pre_vote) &&
            (m->type == RAFT_MSG_HEARTBEAT || m->type == RAFT_MSG_APP)) {
            /* A leader cut off by a partition learns our term and steps down
             * (frees a stuck candidate under check-quorum, see etcd). */
            raft_msg_t resp = {.type = RAFT_MSG_APP_RESP, .to = m->from};
            return raft__send(r, &resp);
        }
        if (m->type == RAFT_MSG_PREVOTE) {
            raft_msg_t resp = {
                .type = RAFT_MSG_PREVOTE_RESP, .to = m->from, .term = r->term, .reject = true};
            return raft__send(r, &resp);
        }
        return 0;
    }
    if (vote) {
        return handle_vote(r, m);
    }
    switch (r->role) {
    case RAFT_LEADER:
        return raft__leader_step(r, m);
    case RAFT_FOLLOWER:
        return step_follower(r, m);
    default:
        return step_candidate(r, m);
    }
}
