/*
 * replication.c - log replication (Raft paper §5.3, dissertation §3.5,
 * §10.2.1): the leader's handling of proposals, acknowledgements, transfer
 * requests; APP/heartbeat/snapshot sending; the follower side of
 * APP, heartbeat and snapshot messages.
 */
#include <assert.h>
#include <string.h>

#include "raft/raft_int.h"

bool raft__committed_in_term(raft_node_t *r)
{
    return raft__log_term_or0(&r->log, r->log.committed) == r->term;
}

static uint64_t match_of(void *ud, uint64_t id)
{
    raft__progress_t *pr = raft__progress(ud, id);
    return pr ? pr->match : 0;
}

/* Advances the commit index to what a (joint) quorum holds durably, only
 * for an entry of the current term (§5.4.2). */
bool raft__maybe_commit(raft_node_t *r)
{
    uint64_t idx = raft__joint_committed(&r->conf, match_of, r);
    return raft__log_maybe_commit(&r->log, idx, r->term);
}

/* Leader: stamps ents with our term and the next indices and appends them.
 * Data stays borrowed by ents until the log has copied it. */
int raft__append_entries(raft_node_t *r, raft_entry_t *ents, size_t n)
{
    uint64_t last = raft__log_last(&r->log);
    uint64_t size = 0;
    for (size_t i = 0; i < n; i++) {
        ents[i].term = r->term;
        ents[i].index = last + 1 + i;
        size += ents[i].len;
    }
    /* Bound the uncommitted tail so a partitioned leader cannot grow its
     * log forever; one proposal is always admitted into an empty tail. */
    uint64_t max = r->cfg.max_uncommitted_size;
    if (max != 0 && size > 0 && r->uncommitted_size > 0 && r->uncommitted_size + size > max) {
        return RAFT_ETOO_LARGE;
    }
    int rc = raft__log_append(&r->log, ents, n);
    if (rc == 0) {
        r->uncommitted_size += size;
    }
    return rc;
}

static int send_snapshot(raft_node_t *r, raft__progress_t *pr, bool *sent)
{
    /* Do not ship a snapshot to a peer we have not heard from lately. */
    if (!pr->recent_active) {
        return 0;
    }
    raft_snapshot_t snap;
    int rc = raft__log_snapshot(&r->log, &snap);
    if (rc == RAFT_ESNAP_TEMP) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }
    if (snap.index == 0) {
        return RAFT_ESTORAGE; /* entries compacted without a snapshot */
    }
    raft__arena_t *a = &r->out_arena[r->cur_arena];
    raft_snapshot_t *copy = raft__arena_alloc(a, sizeof(*copy) + snap.len);
    if (!copy) {
        return RAFT_ENOMEM;
    }
    *copy = snap;
    if (snap.len > 0) {
        memcpy(copy + 1, snap.data, snap.len);
    }
    copy->data = (const uint8_t *)(copy + 1);
    raft__pr_become_snapshot(pr, snap.index);
    raft_msg_t m = {.type = RAFT_MSG_SNAP, .to = pr->id, .snapshot = copy};
    *sent = true;
    return raft__send(r, &m);
}

/* Sends the peer the entries it lacks (or a snapshot if they are
 * compacted), unless its progress is paused. *sent tells whether a message
 * left; an empty APP only carries the commit index when send_if_empty. */
int raft__maybe_send_append(raft_node_t *r, uint64_t to, bool send_if_empty, bool *sent)
{
    raft__progress_t *pr = raft__progress(r, to);
    *sent = false;
    if (!pr || raft__pr_is_paused(pr)) {
        return 0;
    }
    uint64_t prev = pr->next - 1, prev_term;
    int rc = raft__log_term(&r->log, prev, &prev_term);
    const raft_entry_t *ents = NULL;
    size_t n = 0;
    if (rc == 0) {
        uint64_t hi = raft__log_last(&r->log) + 1;
        if (hi - pr->next > RAFT__MAX_ENTS_PER_MSG) {
            hi = pr->next + RAFT__MAX_ENTS_PER_MSG;
        }
        rc = raft__log_slice(&r->log, pr->next, hi, r->cfg.max_size_per_msg, &ents, &n);
    }
    if (rc == RAFT_ECOMPACTED) {
        return send_snapshot(r, pr, sent);
    }
    if (rc != 0) {
        return rc;
    }
    if (n == 0 && !send_if_empty) {
        return 0;
    }
    raft_msg_t m = {.type = RAFT_MSG_APP,
                    .to = to,
                    .index = prev,
                    .log_term = prev_term,
                    .n_entries = n,
                    .commit = r->log.committed};
    rc = raft__copy_entries(r, ents, n, (raft_entry_t **)&m.entries);
    if (rc != 0) {
        return rc;
    }
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += ents[i].len;
    }
    raft__pr_sent_entries(pr, m.entries, n, bytes);
    *sent = true;
    return raft__send(r, &m);
}

int raft__bcast_append(raft_node_t *r)
{
    for (size_t i = 0; i < r->n_prs; i++) {
        bool sent;
        int rc = r->prs[i].id == r->id ? 0 : raft__maybe_send_append(r, r->prs[i].id, true, &sent);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Heartbeats carry the commit index only as far as the peer is known to
 * match, and the current ReadIndex round to be echoed back (§6.4). */
int raft__bcast_heartbeat(raft_node_t *r, uint64_t round)
{
    for (size_t i = 0; i < r->n_prs; i++) {
        raft__progress_t *pr = &r->prs[i];
        if (pr->id == r->id) {
            continue;
        }
        raft_msg_t m = {.type = RAFT_MSG_HEARTBEAT,
                        .to = pr->id,
                        .commit = pr->match < r->log.committed ? pr->match : r->log.committed,
                        .context = round};
        int rc = raft__send(r, &m);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int raft__send_timeout_now(raft_node_t *r, uint64_t to)
{
    raft_msg_t m = {.type = RAFT_MSG_TIMEOUT_NOW, .to = to};
    int rc = raft__send(r, &m);
    /* A leader handing over because it left the voters is done here: the
     * successor may never send it a message of the new term. */
    if (rc == 0 && r->is_learner) {
        raft__become_follower(r, r->term, RAFT_NONE);
    }
    return rc;
}

/* Follower side of APP (§5.3). The acknowledgement is a persist message:
 * it leaves only once the appended entries are durable. */
int raft__handle_append(raft_node_t *r, const raft_msg_t *m)
{
    raft_msg_t resp = {.type = RAFT_MSG_APP_RESP, .to = m->from};
    if (m->index < r->log.committed) {
        resp.index = r->log.committed;
        return raft__send(r, &resp);
    }
    uint64_t last_new = 0;
    bool ok;
    int rc = raft__log_maybe_append(&r->log, m, &last_new, &ok);
    if (rc != 0) {
        return rc;
    }
    if (ok) {
        resp.index = last_new;
        return raft__send(r, &resp);
    }
    /* Rejection with a hint for fast backtracking: our best guess of the
     * last index that can match, and its term. */
    uint64_t last = raft__log_last(&r->log);
    uint64_t hint = m->index < last ? m->index : last;
    raft__log_find_conflict_by_term(&r->log, hint, m->log_term, &resp.reject_hint, &resp.log_term);
    resp.reject = true;
    resp.index = m->index;
    return raft__send(r, &resp);
}

int raft__handle_heartbeat(raft_node_t *r, const raft_msg_t *m)
{
    raft__log_commit_to(&r->log, m->commit);
    raft_msg_t resp = {.type = RAFT_MSG_HEARTBEAT_RESP, .to = m->from, .context = m->context};
    return raft__send(r, &resp);
}

/* Installs a leader's snapshot (§7) unless our log already has it. */
static int restore(raft_node_t *r, const raft_snapshot_t *s, bool *restored)
{
    *restored = false;
    /* We may be absent from s->conf: a node added after the snapshot was
     * taken learns of its membership from the entries that follow. */
    if (s->index <= r->log.committed) {
        return 0;
    }
    if (raft__log_match_term(&r->log, s->index, s->term)) {
        raft__log_commit_to(&r->log, s->index); /* fast-forward */
        return 0;
    }
    int rc = raft__log_restore(&r->log, s);
    if (rc == 0) {
        rc = raft__switch_config(r, &s->conf);
        *restored = true;
    }
    return rc;
}

int raft__handle_snapshot(raft_node_t *r, const raft_msg_t *m)
{
    bool restored;
    if (!m->snapshot) {
        return RAFT_EINVAL;
    }
    int rc = restore(r, m->snapshot, &restored);
    if (rc != 0) {
        return rc;
    }
    raft_msg_t resp = {.type = RAFT_MSG_APP_RESP, .to = m->from};
    resp.index = restored ? raft__log_last(&r->log) : r->log.committed;
    return raft__send(r, &resp);
}

static int handle_app_resp(raft_node_t *r, raft__progress_t *pr, const raft_msg_t *m)
{
    bool sent;
    int rc;
    pr->recent_active = true;
    if (m->reject) {
        uint64_t probe = m->reject_hint, t;
        if (m->log_term > 0) {
            raft__log_find_conflict_by_term(&r->log, m->reject_hint, m->log_term, &probe, &t);
        }
        if (!raft__pr_maybe_decr_to(pr, m->index, probe)) {
            return 0;
        }
        if (pr->state == RAFT__PR_REPLICATE) {
            raft__pr_become_probe(pr);
        }
        return raft__maybe_send_append(r, pr->id, true, &sent);
    }
    bool was_paused = raft__pr_is_paused(pr);
    if (!raft__pr_maybe_update(pr, m->index) &&
        !(pr->match == m->index && pr->state == RAFT__PR_PROBE)) {
        return 0;
    }
    if (pr->state == RAFT__PR_PROBE) {
        raft__pr_become_replicate(pr);
    } else if (pr->state == RAFT__PR_SNAPSHOT && pr->match + 1 >= raft__log_first(&r->log)) {
        raft__pr_become_probe(pr);
        raft__pr_become_replicate(pr);
    } else if (pr->state == RAFT__PR_REPLICATE) {
        raft__pr_free_le(pr, m->index);
    }
    if (raft__maybe_commit(r)) {
        rc = raft__release_deferred_reads(r);
        rc = rc != 0 ? rc : raft__bcast_append(r);
    } else if (was_paused) {
        rc = raft__maybe_send_append(r, pr->id, true, &sent);
    } else {
        rc = 0;
    }
    /* Fill the in-flight window. */
    for (sent = true; rc == 0 && sent;) {
        rc = raft__maybe_send_append(r, pr->id, false, &sent);
    }
    /* §3.10: the transfer target has caught up; tell it to campaign. */
    if (rc == 0 && pr->id == r->lead_transferee && pr->match == raft__log_last(&r->log)) {
        rc = raft__send_timeout_now(r, pr->id);
    }
    return rc;
}

static int transfer_leader(raft_node_t *r, uint64_t target)
{
    raft__progress_t *pr = raft__progress(r, target);
    if (target == RAFT_NONE) {
        r->lead_transferee = RAFT_NONE; /* explicit abort */
        return 0;
    }
    if (!pr || pr->is_learner || target == r->lead_transferee) {
        return 0;
    }
    r->lead_transferee = RAFT_NONE; /* abort a transfer to someone else */
    if (target == r->id) {
        return 0;
    }
    /* §3.10: the transfer must finish within an election timeout. */
    r->election_elapsed = 0;
    r->lead_transferee = target;
    if (pr->match == raft__log_last(&r->log)) {
        return raft__send_timeout_now(r, target);
    }
    bool sent;
    return raft__maybe_send_append(r, target, true, &sent);
}

/* Checks a proposal's configuration changes: one at a time (§4.1), each
 * valid against the current configuration. */
static int check_conf_changes(raft_node_t *r, const raft_msg_t *m)
{
    for (size_t i = 0; i < m->n_entries; i++) {
        if (m->entries[i].type != RAFT_ENTRY_CONF_CHANGE) {
            continue;
        }
        if (r->pending_conf_index > r->log.applied) {
            return RAFT_ECONF_PENDING;
        }
        raft_conf_change_t cc;
        raft_conf_state_t next;
        int rc = raft_conf_change_decode(m->entries[i].data, m->entries[i].len, &cc);
        rc = rc != 0 ? rc : raft__conf_apply(&r->conf, &cc, &next);
        if (rc != 0) {
            return RAFT_ECONF_INVALID;
        }
    }
    return 0;
}

static int propose(raft_node_t *r, const raft_msg_t *m)
{
    if (m->n_entries == 0) {
        return RAFT_EINVAL;
    }
    if (r->is_learner || r->lead_transferee != RAFT_NONE) {
        return RAFT_EDROPPED;
    }
    int rc = check_conf_changes(r, m);
    if (rc != 0) {
        return rc;
    }
    rc = raft__grow((void **)&r->prop, &r->prop_cap, m->n_entries, sizeof(*r->prop));
    if (rc != 0) {
        return rc;
    }
    memcpy(r->prop, m->entries, m->n_entries * sizeof(*r->prop));
    rc = raft__append_entries(r, r->prop, m->n_entries);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < m->n_entries; i++) {
        if (r->prop[i].type == RAFT_ENTRY_CONF_CHANGE) {
            r->pending_conf_index = r->prop[i].index;
        }
    }
    /* Sent at the next raft_ready, so that all proposals made in between
     * travel in one APP per follower. */
    r->append_pending = true;
    return 0;
}

/* Sends each follower what its window allows of the entries not yet sent. */
int raft__flush_appends(raft_node_t *r)
{
    r->append_pending = false;
    for (size_t i = 0; i < r->n_prs; i++) {
        bool sent = r->prs[i].id != r->id;
        int rc = 0;
        while (rc == 0 && sent) {
            rc = raft__maybe_send_append(r, r->prs[i].id, false, &sent);
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int raft__leader_step(raft_node_t *r, const raft_msg_t *m)
{
    switch (m->type) {
    case RAFT_MSG_PROP:
        return propose(r, m);
    case RAFT_MSG_READ_INDEX:
        return raft__read_request(r, m->context, m->from);
    case RAFT_MSG_TRANSFER_LEADER:
        return transfer_leader(r, m->context);
    default:
        break;
    }
    raft__progress_t *pr = raft__progress(r, m->from);
    if (!pr) {
        return 0;
    }
    if (m->type == RAFT_MSG_APP_RESP) {
        return handle_app_resp(r, pr, m);
    }
    if (m->type == RAFT_MSG_HEARTBEAT_RESP) {
        pr->recent_active = true;
        pr->probe_sent = false;
        /* APPs in the window may have been lost: free one slot so the
         * next send can reveal a gap (the follower will reject it). */
        if (pr->state == RAFT__PR_REPLICATE && raft__pr_is_paused(pr)) {
            raft__pr_free_first(pr);
        }
        int rc = 0;
        if (pr->match < raft__log_last(&r->log) || pr->state == RAFT__PR_PROBE) {
            bool sent;
            rc = raft__maybe_send_append(r, pr->id, true, &sent);
        }
        return rc != 0 || m->context == 0 ? rc : raft__read_ack(r, pr, m->context);
    }
    return 0;
}
