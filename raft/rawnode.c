/*
 * rawnode.c - the public entry points: creation, the message outbox, the
 * ready/advance cycle, configuration switching and introspection.
 *
 * Durability contract (etcd-raft's async storage writes, restricted to one
 * outstanding ready): messages whose meaning depends on local state being
 * durable (acknowledgements, votes and vote requests) go to
 * ready.persist_msgs; the rest (a leader's APPs and heartbeats, which a
 * leader may send before its own write completes, dissertation §10.2.1) go
 * to ready.msgs. The leader counts its own entries toward commit only after
 * raft_advance reports them durable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

raft__progress_t *raft__progress(raft_node_t *r, uint64_t id)
{
    for (size_t i = 0; i < r->n_prs; i++) {
        if (r->prs[i].id == id) {
            return &r->prs[i];
        }
    }
    return NULL;
}

static bool needs_persist(uint8_t type)
{
    return type == RAFT_MSG_APP_RESP || type == RAFT_MSG_VOTE || type == RAFT_MSG_VOTE_RESP ||
           type == RAFT_MSG_HEARTBEAT_RESP;
}

/* Queues m (copied; what it points to must live in the current out arena
 * or outlive the ready). Stamps our id and, except for forwarded requests
 * and votes (which carry their own), our term. */
int raft__send(raft_node_t *r, raft_msg_t *m)
{
    m->from = r->id;
    bool own_term = m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_VOTE_RESP ||
                    m->type == RAFT_MSG_PREVOTE || m->type == RAFT_MSG_PREVOTE_RESP;
    if (m->type == RAFT_MSG_PROP || m->type == RAFT_MSG_READ_INDEX) {
        m->term = 0;
    } else if (!own_term) {
        m->term = r->term;
    }
    raft__outbox_t *ob = needs_persist(m->type) ? &r->out_persist : &r->out_now;
    int rc = raft__grow((void **)&ob->msgs, &ob->cap, ob->n + 1, sizeof(*ob->msgs));
    if (rc == 0) {
        ob->msgs[ob->n++] = *m;
    }
    return rc;
}

/* Copies n entries and their data into the current out arena; *dst lives
 * until the ready that carries it has been advanced. */
int raft__copy_entries(raft_node_t *r, const raft_entry_t *src, size_t n, raft_entry_t **dst)
{
    raft__arena_t *a = &r->out_arena[r->cur_arena];
    *dst = NULL;
    if (n == 0) {
        return 0;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += src[i].len;
    }
    raft_entry_t *e = raft__arena_alloc(a, n * sizeof(*e) + bytes);
    if (!e) {
        return RAFT_ENOMEM;
    }
    uint8_t *data = (uint8_t *)(e + n);
    for (size_t i = 0; i < n; i++) {
        e[i] = src[i];
        if (src[i].len > 0) {
            memcpy(data, src[i].data, src[i].len);
            e[i].data = data;
            data += src[i].len;
        }
    }
    *dst = e;
    return 0;
}

static int add_progress(raft_node_t *r, uint64_t id)
{
    if (raft__progress(r, id)) {
        return 0;
    }
    if (r->n_prs == sizeof(r->prs) / sizeof(r->prs[0])) {
        return RAFT_ECONF_INVALID; /* raft__conf_apply refuses such configurations */
    }
    raft__progress_t *pr = &r->prs[r->n_prs];
    uint64_t last = raft__log_last(&r->log);
    int rc = raft__pr_init(pr, id, last + 1, r->cfg.max_inflight_msgs, r->cfg.max_inflight_bytes);
    if (rc != 0) {
        return rc;
    }
    /* A new peer gets an election timeout before check-quorum counts it. */
    pr->recent_active = true;
    if (id == r->id) {
        pr->match = raft__log_last_stable(&r->log);
    }
    r->n_prs++;
    return 0;
}

static int add_all(raft_node_t *r, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int rc = add_progress(r, ids[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* A leader no longer among the voters hands leadership to the most up to
 * date voter (dissertation §4.2.2): the new voters may not even know that
 * the change committed, so stepping down at once could leave nobody able
 * to win an election. Meanwhile it refuses proposals; if the transfer does
 * not finish within an election timeout it steps down anyway. */
static int hand_over(raft_node_t *r)
{
    raft__progress_t *best = NULL;
    for (size_t i = 0; i < r->n_prs; i++) {
        raft__progress_t *pr = &r->prs[i];
        if (pr->id != r->id && !pr->is_learner && (!best || pr->match > best->match)) {
            best = pr;
        }
    }
    if (!best) {
        raft__become_follower(r, r->term, RAFT_NONE);
        return 0;
    }
    r->lead_transferee = RAFT_NONE;
    raft_msg_t m = {.type = RAFT_MSG_TRANSFER_LEADER, .from = r->id, .context = best->id};
    return raft__leader_step(r, &m);
}

/* Tracks the peers of cs: progress is dropped for nodes that left and
 * created for nodes that joined; the leader pushes the log to new peers and
 * hands over if it is no longer a voter. */
int raft__switch_config(raft_node_t *r, const raft_conf_state_t *cs)
{
    r->conf = *cs;
    for (size_t i = 0; i < r->n_prs;) {
        if (raft__cs_is_member(cs, r->prs[i].id)) {
            i++;
            continue;
        }
        raft__pr_close(&r->prs[i]);
        r->prs[i] = r->prs[--r->n_prs];
    }
    int rc = add_all(r, cs->voters, cs->n_voters);
    rc = rc ? rc : add_all(r, cs->voters_outgoing, cs->n_voters_outgoing);
    rc = rc ? rc : add_all(r, cs->learners, cs->n_learners);
    rc = rc ? rc : add_all(r, cs->learners_next, cs->n_learners_next);
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < r->n_prs; i++) {
        r->prs[i].is_learner = !raft__cs_is_voter(cs, r->prs[i].id);
    }
    r->is_learner = !raft__cs_is_voter(cs, r->id);
    if (r->role != RAFT_LEADER) {
        return 0;
    }
    if (r->lead_transferee != RAFT_NONE && !raft__cs_is_voter(cs, r->lead_transferee)) {
        r->lead_transferee = RAFT_NONE;
    }
    raft__maybe_commit(r);
    rc = raft__bcast_append(r);
    return rc == 0 && r->is_learner ? hand_over(r) : rc;
}

static int check_config(const raft_config_t *c, char *errmsg, size_t errlen)
{
    const char *why = NULL;
    const raft_storage_t *s = &c->storage;
    if (c->id == RAFT_NONE) {
        why = "id must be non-zero";
    } else if (c->heartbeat_tick <= 0 || c->election_tick <= c->heartbeat_tick) {
        why = "need 0 < heartbeat_tick < election_tick";
    } else if (!s->initial_state || !s->entries || !s->term || !s->first_index || !s->last_index ||
               !s->snapshot) {
        why = "storage callbacks missing";
    } else if (c->read_only == RAFT_READ_LEASE && !c->check_quorum) {
        why = "lease-based reads require check_quorum";
    } else if (c->read_only > RAFT_READ_LEASE) {
        why = "unknown read_only option";
    }
    if (why && errmsg && errlen) {
        snprintf(errmsg, errlen, "raft config: %s", why);
    }
    return why ? RAFT_EINVAL : 0;
}

static int restore_state(raft_node_t *r, char *errmsg, size_t errlen)
{
    raft_hard_state_t hs;
    raft_conf_state_t cs;
    int rc = raft__log_init(&r->log, &r->cfg.storage);
    rc = rc ? rc : r->cfg.storage.initial_state(r->cfg.storage.ud, &hs, &cs);
    if (rc != 0) {
        if (errmsg && errlen) {
            snprintf(errmsg, errlen, "raft storage: %s", raft_strerror(rc));
        }
        return rc;
    }
    uint64_t last = raft__log_last(&r->log);
    if (hs.commit > last || hs.commit < r->log.committed || r->cfg.applied > hs.commit ||
        (r->cfg.applied != 0 && r->cfg.applied < r->log.applied)) {
        if (errmsg && errlen) {
            snprintf(errmsg, errlen, "raft storage: commit %llu / applied %llu out of range",
                     (unsigned long long)hs.commit, (unsigned long long)r->cfg.applied);
        }
        return RAFT_ESTORAGE;
    }
    r->log.committed = hs.commit;
    if (r->cfg.applied != 0) {
        r->log.applied = r->cfg.applied;
    }
    rc = raft__switch_config(r, &cs);
    if (rc != 0) {
        return rc;
    }
    raft__become_follower(r, hs.term, RAFT_NONE);
    r->vote = hs.vote;
    r->prev_hs = hs;
    return 0;
}

int raft_new(const raft_config_t *cfg, raft_node_t **out, char *errmsg, size_t errlen)
{
    int rc = check_config(cfg, errmsg, errlen);
    if (rc != 0) {
        return rc;
    }
    raft_node_t *r = calloc(1, sizeof(*r));
    if (!r) {
        return RAFT_ENOMEM;
    }
    r->cfg = *cfg;
    r->id = cfg->id;
    r->cfg.max_size_per_msg = cfg->max_size_per_msg ? cfg->max_size_per_msg : 1 << 20;
    r->cfg.max_committed_per_ready =
        cfg->max_committed_per_ready ? cfg->max_committed_per_ready : 16 << 20;
    r->cfg.max_inflight_msgs = cfg->max_inflight_msgs ? cfg->max_inflight_msgs : 256;
    r->prng = cfg->seed ^ (cfg->id * 0x9e3779b97f4a7c15ULL);
    rc = restore_state(r, errmsg, errlen);
    if (rc != 0) {
        raft_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void raft_free(raft_node_t *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n_prs; i++) {
        raft__pr_close(&r->prs[i]);
    }
    raft__log_close(&r->log);
    free(r->out_now.msgs);
    free(r->out_persist.msgs);
    raft__arena_free(&r->out_arena[0]);
    raft__arena_free(&r->out_arena[1]);
    free(r->read_states);
    free(r->prop);
    free(r);
}

int raft_tick(raft_node_t *r)
{
    return r->ready_out ? RAFT_EBUSY : raft__tick(r);
}

/* An APP must carry consecutive entries following m->index, of terms no
 * newer than the sender's: the log code relies on it. */
static bool valid_message(const raft_msg_t *m)
{
    if (m->type == 0 || m->type >= RAFT__MSG_TYPE_END || m->from == RAFT_NONE ||
        (m->n_entries > 0 && !m->entries) || (m->type == RAFT_MSG_SNAP && !m->snapshot)) {
        return false;
    }
    for (size_t i = 0; m->type == RAFT_MSG_APP && i < m->n_entries; i++) {
        const raft_entry_t *e = &m->entries[i];
        if (e->index != m->index + 1 + i || e->term > m->term || (e->len > 0 && !e->data) ||
            (i > 0 && e->term < e[-1].term)) {
            return false;
        }
    }
    return true;
}

int raft_step(raft_node_t *r, const raft_msg_t *m)
{
    if (r->ready_out) {
        return RAFT_EBUSY;
    }
    return valid_message(m) ? raft__step(r, m) : RAFT_EINVAL;
}

static int step_local(raft_node_t *r, raft_msg_t *m)
{
    if (r->ready_out) {
        return RAFT_EBUSY;
    }
    m->from = r->id;
    return raft__step(r, m);
}

int raft_propose(raft_node_t *r, const void *data, size_t len)
{
    if (len > UINT32_MAX) {
        return RAFT_EINVAL;
    }
    raft_entry_t e = {.type = RAFT_ENTRY_NORMAL, .len = (uint32_t)len, .data = data};
    raft_msg_t m = {.type = RAFT_MSG_PROP, .n_entries = 1, .entries = &e};
    return step_local(r, &m);
}

int raft_propose_conf_change(raft_node_t *r, const raft_conf_change_t *cc)
{
    uint8_t buf[2 + RAFT_MAX_MEMBERS * 9];
    size_t n;
    int rc = raft_conf_change_encode(cc, buf, sizeof(buf), &n);
    if (rc != 0) {
        return rc;
    }
    raft_entry_t e = {.type = RAFT_ENTRY_CONF_CHANGE, .len = (uint32_t)n, .data = buf};
    raft_msg_t m = {.type = RAFT_MSG_PROP, .n_entries = 1, .entries = &e};
    return step_local(r, &m);
}

int raft_campaign(raft_node_t *r)
{
    return r->ready_out ? RAFT_EBUSY : raft__hup(r, false);
}

int raft_transfer_leadership(raft_node_t *r, uint64_t target)
{
    raft_msg_t m = {.type = RAFT_MSG_TRANSFER_LEADER, .context = target};
    return step_local(r, &m);
}

int raft_read_index(raft_node_t *r, uint64_t context)
{
    raft_msg_t m = {.type = RAFT_MSG_READ_INDEX, .context = context};
    return step_local(r, &m);
}

int raft_report_snapshot(raft_node_t *r, uint64_t to, bool ok)
{
    if (r->ready_out) {
        return RAFT_EBUSY;
    }
    raft__progress_t *pr = raft__progress(r, to);
    if (r->role != RAFT_LEADER || !pr || pr->state != RAFT__PR_SNAPSHOT) {
        return 0;
    }
    if (!ok) {
        pr->pending_snapshot = 0;
    }
    raft__pr_become_probe(pr);
    /* Wait for a heartbeat response before probing again. */
    pr->probe_sent = true;
    return 0;
}

int raft_report_unreachable(raft_node_t *r, uint64_t to)
{
    if (r->ready_out) {
        return RAFT_EBUSY;
    }
    raft__progress_t *pr = raft__progress(r, to);
    if (r->role == RAFT_LEADER && pr && pr->state == RAFT__PR_REPLICATE) {
        raft__pr_become_probe(pr);
    }
    return 0;
}

static bool hs_equal(const raft_hard_state_t *a, const raft_hard_state_t *b)
{
    return a->term == b->term && a->vote == b->vote && a->commit == b->commit;
}

bool raft_has_ready(const raft_node_t *r)
{
    raft_hard_state_t hs = {r->term, r->vote, r->log.committed};
    return !r->ready_out &&
           (r->lead != r->prev_lead || r->role != r->prev_role || !hs_equal(&hs, &r->prev_hs) ||
            r->log.snap || r->log.n > 0 || raft__log_has_next_committed(&r->log) ||
            r->out_now.n > 0 || r->out_persist.n > 0 || r->n_read_states > 0);
}

static int next_committed(raft_node_t *r, raft_ready_t *rd)
{
    if (!raft__log_has_next_committed(&r->log)) {
        return 0;
    }
    uint64_t lo = r->log.applied + 1, hi = r->log.committed + 1;
    if (hi - lo > RAFT__MAX_ENTS_PER_MSG) {
        hi = lo + RAFT__MAX_ENTS_PER_MSG;
    }
    const raft_entry_t *ents;
    int rc =
        raft__log_slice(&r->log, lo, hi, r->cfg.max_committed_per_ready, &ents, &rd->n_committed);
    return rc ? rc : raft__copy_entries(r, ents, rd->n_committed, (raft_entry_t **)&rd->committed);
}

int raft_ready(raft_node_t *r, raft_ready_t *rd)
{
    if (r->ready_out) {
        return RAFT_EBUSY;
    }
    memset(rd, 0, sizeof(*rd));
    int rc = r->append_pending && r->role == RAFT_LEADER ? raft__flush_appends(r) : 0;
    rc = rc ? rc : next_committed(r, rd);
    if (rc != 0) {
        return rc;
    }
    rd->lead = r->lead;
    rd->role = r->role;
    rd->hs = (raft_hard_state_t){r->term, r->vote, r->log.committed};
    rd->hs_changed = !hs_equal(&rd->hs, &r->prev_hs);
    rd->snapshot = r->log.snap;
    rd->entries = r->log.ents;
    rd->n_entries = r->log.n;
    rd->msgs = r->out_now.msgs;
    rd->n_msgs = r->out_now.n;
    rd->persist_msgs = r->out_persist.msgs;
    rd->n_persist_msgs = r->out_persist.n;
    rd->read_states = r->read_states;
    rd->n_read_states = r->n_read_states;
    rd->must_sync = rd->n_entries > 0 || rd->hs.term != r->prev_hs.term ||
                    rd->hs.vote != r->prev_hs.vote || rd->snapshot;
    r->ready_out = true;
    return 0;
}

/* Applies the committed entries of rd: configuration changes take effect,
 * the leader's uncommitted budget shrinks. */
static int apply_committed(raft_node_t *r, const raft_ready_t *rd)
{
    for (size_t i = 0; i < rd->n_committed; i++) {
        const raft_entry_t *e = &rd->committed[i];
        r->uncommitted_size -= e->len < r->uncommitted_size ? e->len : r->uncommitted_size;
        r->log.applied = e->index;
        if (e->type != RAFT_ENTRY_CONF_CHANGE) {
            continue;
        }
        raft_conf_change_t cc;
        raft_conf_state_t next;
        /* The leader validated the change against the same configuration,
         * so an invalid one can only be corrupt input: skip it everywhere. */
        if (raft_conf_change_decode(e->data, e->len, &cc) != 0 ||
            raft__conf_apply(&r->conf, &cc, &next) != 0) {
            continue;
        }
        int rc = raft__switch_config(r, &next);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* A joint configuration with auto_leave is left as soon as it is applied. */
static int maybe_auto_leave(raft_node_t *r)
{
    if (r->role != RAFT_LEADER || !r->conf.auto_leave || r->pending_conf_index > r->log.applied) {
        return 0;
    }
    raft_conf_change_t leave = {.transition = RAFT_CC_AUTO, .n_changes = 0};
    int rc = raft_propose_conf_change(r, &leave);
    return rc == RAFT_EDROPPED ? 0 : rc;
}

int raft_advance(raft_node_t *r, const raft_ready_t *rd)
{
    if (!r->ready_out) {
        return RAFT_EINVAL;
    }
    r->ready_out = false;
    r->prev_lead = rd->lead;
    r->prev_role = rd->role;
    r->prev_hs = rd->hs;
    /* rd stays readable in the old arena while we produce new messages. */
    r->out_now.n = r->out_persist.n = 0;
    r->n_read_states = 0;
    r->cur_arena ^= 1;
    raft__arena_reset(&r->out_arena[r->cur_arena]);
    if (rd->snapshot) {
        uint64_t index = rd->snapshot->index; /* rd->snapshot is freed below */
        raft__log_stable_snap_to(&r->log, index);
        if (index > r->log.applied) {
            r->log.applied = index;
        }
    }
    if (rd->n_entries > 0) {
        const raft_entry_t *last = &rd->entries[rd->n_entries - 1];
        raft__log_stable_to(&r->log, last->index, last->term);
    }
    int rc = apply_committed(r, rd);
    if (rc == 0 && r->campaign_after_apply) {
        r->campaign_after_apply = false;
        rc = raft__hup(r, true);
    }
    if (rc == 0 && r->role == RAFT_LEADER) {
        /* Our own entries now count toward commit. */
        raft__progress_t *self = raft__progress(r, r->id);
        if (self && raft__pr_maybe_update(self, raft__log_last_stable(&r->log)) &&
            raft__maybe_commit(r)) {
            rc = raft__release_deferred_reads(r);
            rc = rc ? rc : raft__bcast_append(r);
        }
    }
    return rc ? rc : maybe_auto_leave(r);
}

void raft_status(const raft_node_t *r, raft_status_t *st)
{
    memset(st, 0, sizeof(*st));
    st->id = r->id;
    st->term = r->term;
    st->vote = r->vote;
    st->commit = r->log.committed;
    st->applied = r->log.applied;
    st->lead = r->lead;
    st->role = r->role;
    st->first_index = raft__log_first(&r->log);
    st->last_index = raft__log_last(&r->log);
    st->lead_transferee = r->lead_transferee;
    st->conf = r->conf;
    if (r->role != RAFT_LEADER) {
        return;
    }
    for (size_t i = 0; i < r->n_prs; i++) {
        const raft__progress_t *pr = &r->prs[i];
        st->progress[st->n_progress++] = (raft_progress_info_t){
            .id = pr->id,
            .match = pr->match,
            .next = pr->next,
            .state = pr->state,
            .recent_active = pr->recent_active,
            .is_learner = pr->is_learner,
            .inflight = pr->infl_count,
        };
    }
}

uint64_t raft_term(const raft_node_t *r)
{
    return r->term;
}

uint64_t raft_leader(const raft_node_t *r)
{
    return r->lead;
}

raft_role_t raft_role(const raft_node_t *r)
{
    return r->role;
}
