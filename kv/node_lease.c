/*
 * node_lease.c - range leases, replica placement and log truncation.
 *
 * Leases are expiration-based and go through Raft (docs/kv.md,
 * "Leases"). The holder serves a request only while its clock is more
 * than the maximum clock offset before the expiration, and a new holder's
 * lease starts no earlier than the previous one expires, so the two never
 * serve at once even with clocks up to that offset apart. A new holder
 * raises its timestamp cache's floor to its lease start: no write lands
 * under a read the previous holder served. A lease names the holder's
 * process incarnation, so a node that restarted (and may not have applied
 * everything yet) waits for a fresh lease before serving.
 *
 * Per tick, on each replica:
 *   - the Raft leader acquires the lease when nobody holds a valid one, and
 *     the holder extends its lease once less than half of it is left;
 *   - a leader that does not hold a valid lease held by a live peer hands
 *     leadership to that holder, so holder and leader coincide;
 *   - the leaseholder adds a learner on a live node when the range has
 *     fewer voters than wanted, promotes a learner that caught up,
 *     removes a learner whose node is no longer live, and truncates the
 *     log beyond raft_log_limit entries (snapshots serve whoever falls
 *     behind the truncation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/node_int.h"

#define LEASE_RETRY_TICKS     5
#define PLACEMENT_RETRY_TICKS 20
#define REPROPOSE_TICKS       20
#define GIVE_UP_TICKS         100 /* a write that has not applied in 10 s is ambiguous */
#define PROMOTE_LAG           64  /* entries a learner may trail when promoted */
#define DEAD_TICKS            600 /* a node down this long is replaced (60 s) */

static bool held_by(const kv_lease *l, const kv_node *n)
{
    return l->holder == n->o.node_id && l->incarnation == n->o.incarnation;
}

/* Whether `l` is usable by its holder at `now`. */
static bool lease_valid(const kv_lease *l, kv_ts now, int64_t max_offset)
{
    return l->holder != 0 && kv_ts_cmp(now, l->start) >= 0 &&
           now.wall + max_offset < l->expiration.wall;
}

static void ask_lease(kv_node *n)
{
    pthread_mutex_lock(&n->mu);
    n->lease_wanted = true;
    pthread_mutex_unlock(&n->mu);
    n->o.hooks.wake(n->o.hooks.arg);
}

int kv__lease_check(kv__replica *r, kv_response *resp, uint64_t *seq, kv_ts *start)
{
    kv_node *n = r->store->node;
    kv_ts now = kv_hlc_now(r->store->hlc);
    int64_t off = kv_hlc_max_offset(r->store->hlc);
    pthread_mutex_lock(&r->mu);
    kv_lease l = r->lease;
    uint64_t leader = r->leader;
    pthread_mutex_unlock(&r->mu);
    bool valid = lease_valid(&l, now, off);
    if (valid && held_by(&l, n)) {
        *seq = l.seq;
        *start = l.start;
        return 0;
    }
    uint64_t hint = valid ? l.holder : leader;
    if (hint == n->o.node_id || hint == 0)
        ask_lease(n);
    resp->detail.leaseholder = hint == n->o.node_id && !valid ? 0 : hint;
    int rc = kv__replica_desc(r, resp->arena, &resp->detail.desc);
    if (rc != 0)
        return rc;
    snprintf(resp->msg, sizeof(resp->msg), "range r%llu: lease held by n%llu",
             (unsigned long long)r->desc.range_id, (unsigned long long)hint);
    return KV_ENOTLEASEHOLDER;
}

void kv__lease_acquired(kv_node *n, kv__rraft *rr)
{
    /* Reads the previous holder served are at or below its expiration,
     * which is at or below our start. */
    kv_tscache_set_low_water(rr->r->tscache, rr->as.lease.start);
    (void)kv_hlc_update(n->s->hlc, rr->as.lease.start, NULL);
}

static void propose_lease(kv_node *n, kv__rraft *rr, kv_ts now)
{
    kv__prop *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return;
    const kv_lease *cur = &rr->as.lease;
    p->r = rr->r;
    p->kind = KV__CMD_LEASE;
    pthread_mutex_lock(&n->mu);
    p->id = ++n->next_prop_id;
    pthread_mutex_unlock(&n->mu);
    p->ts = now;
    p->lease = (kv_lease){.seq = cur->seq, .holder = n->o.node_id, .incarnation = n->o.incarnation};
    /* A new holder starts where the old lease ends; an extension keeps its
     * start. */
    p->lease.start = held_by(cur, n)                       ? cur->start
                     : kv_ts_cmp(now, cur->expiration) > 0 ? now
                                                           : cur->expiration;
    p->lease.expiration = (kv_ts){now.wall + n->o.lease_ns, 0};
    p->lease_seq = cur->seq;
    rr->lease_asked_tick = n->ticks;
    kv__prop_submit(n, rr, p);
}

static bool node_live(kv_node *n, uint64_t id, const uint64_t *live, size_t n_live)
{
    if (id == n->o.node_id)
        return true;
    for (size_t i = 0; i < n_live; i++) {
        if (live[i] == id)
            return true;
    }
    return false;
}

static void maintain_lease(kv_node *n, kv__rraft *rr, const uint64_t *live, size_t n_live)
{
    kv_ts now = kv_hlc_now(n->s->hlc);
    int64_t off = kv_hlc_max_offset(n->s->hlc);
    const kv_lease *l = &rr->as.lease;
    bool mine = held_by(l, n);
    bool expired = kv_ts_cmp(now, l->expiration) > 0;
    if (!mine && !expired && l->holder == n->o.node_id)
        return; /* our lease from before a restart: wait until it expires */
    if (!mine && !expired && l->holder != 0 && node_live(n, l->holder, live, n_live)) {
        /* Leadership goes to the holder (it renews only as leader). */
        if (raft_role(rr->raft) == RAFT_LEADER && n->ticks % 10 == 0)
            raft_transfer_leadership(rr->raft, l->holder);
        return;
    }
    if (raft_role(rr->raft) != RAFT_LEADER)
        return;
    if (n->ticks - rr->lease_asked_tick < LEASE_RETRY_TICKS && rr->lease_asked_tick != 0)
        return;
    bool renew = mine && l->expiration.wall - now.wall < n->o.lease_ns / 2 + off;
    if (!mine || renew)
        propose_lease(n, rr, now);
}

/* ---- meta records ------------------------------------------------------------ */

/* Worker: writes the replica's descriptor as it is now into its meta
 * record, so nodes without a replica find the new members. Best effort: a
 * stale record is corrected by the hints of the replicas it names. */
static void write_meta(void *data)
{
    kv__replica *r = data;
    kv_request req;
    kv_response resp;
    kv_buf key = {0}, val = {0};
    kv_range_desc d;
    if (kv_request_init(&req) != 0)
        return;
    if (kv_response_init(&resp) != 0)
        goto out_free_req;
    if (kv__replica_desc(r, resp.arena, &d) == 0 && kv__meta_key(&d, &key) == 0 &&
        kv__desc_encode(&d, &val) == 0) {
        kv_req q = {.method = KV_PUT, .span = {(uint8_t *)key.data, key.len, NULL, 0}};
        q.u.put.value = (uint8_t *)val.data;
        q.u.put.value_len = val.len;
        if (kv_request_add(&req, &q) == 0)
            (void)kv_store_send(r->store, &req, &resp);
    }
    kv_buf_free(&key);
    kv_buf_free(&val);
    kv_response_free(&resp);
out_free_req:
    kv_request_free(&req);
}

void kv__meta_update(kv_node *n, kv__rraft *rr)
{
    if (held_by(&rr->as.lease, n))
        (void)n->o.hooks.spawn(n->o.hooks.arg, write_meta, rr->r);
}

/* ---- placement --------------------------------------------------------------- */

static bool in_conf(const raft_conf_state_t *cs, uint64_t id)
{
    for (unsigned i = 0; i < cs->n_voters; i++) {
        if (cs->voters[i] == id)
            return true;
    }
    for (unsigned i = 0; i < cs->n_learners; i++) {
        if (cs->learners[i] == id)
            return true;
    }
    return false;
}

static void propose_change(kv_node *n, kv__rraft *rr, raft_cc_type_t type, uint64_t node)
{
    raft_conf_change_t cc = {.transition = RAFT_CC_AUTO, .n_changes = 1};
    cc.changes[0].type = type;
    cc.changes[0].node = node;
    if (raft_propose_conf_change(rr->raft, &cc) == 0) {
        rr->placement_tick = n->ticks;
        kv__node_schedule(n, rr);
    }
}

/* Promotes a learner that installed its snapshot and follows the log
 * (replicating, close to the commit index: under steady writes the
 * commit index moves on while the learner catches up); removes one whose
 * node is gone, or the range would wait for it forever (one change at a
 * time). */
static bool tend_learners(kv_node *n, kv__rraft *rr, const uint64_t *live, size_t n_live)
{
    raft_status_t st;
    raft_status(rr->raft, &st);
    if (st.conf.n_learners == 0)
        return false;
    for (size_t i = 0; i < st.n_progress; i++) {
        const raft_progress_info_t *pr = &st.progress[i];
        if (pr->is_learner && !node_live(n, pr->id, live, n_live)) {
            propose_change(n, rr, RAFT_CC_REMOVE, pr->id);
            return true;
        }
        if (pr->is_learner && pr->state == 1 && pr->match + PROMOTE_LAG >= st.commit) {
            propose_change(n, rr, RAFT_CC_ADD_VOTER, pr->id);
            return true;
        }
    }
    return true; /* a learner is still catching up: one change at a time */
}

/* Ticks since `node` was last seen up (since this process started if
 * never). */
static uint64_t down_for(const kv_node *n, uint64_t node)
{
    for (size_t i = 0; i < n->n_seen; i++) {
        if (n->seen_id[i] == node)
            return n->ticks - n->seen_tick[i];
    }
    return n->ticks;
}

/* A voter whose node has been down for DEAD_TICKS while a live node could
 * take its place is removed; the next round adds the replacement (a
 * learner, then a voter), so the range goes 3 -> 2 -> 3 replicas and never
 * needs the dead node for a quorum in between. */
static void remove_dead_voter(kv_node *n, kv__rraft *rr)
{
    const raft_conf_state_t *cs = &rr->as.conf;
    for (unsigned i = 0; i < cs->n_voters; i++) {
        uint64_t v = cs->voters[i];
        if (v != n->o.node_id && down_for(n, v) > DEAD_TICKS) {
            propose_change(n, rr, RAFT_CC_REMOVE, v);
            return;
        }
    }
}

static void place_replicas(kv_node *n, kv__rraft *rr, const uint64_t *live, size_t n_live)
{
    if (n->ticks - rr->placement_tick < PLACEMENT_RETRY_TICKS && rr->placement_tick != 0)
        return;
    const raft_conf_state_t *cs = &rr->as.conf;
    if (cs->n_voters_outgoing > 0 || tend_learners(n, rr, live, n_live))
        return;
    uint64_t spare = 0;
    for (size_t i = 0; i < n_live && spare == 0; i++) {
        if (live[i] != n->o.node_id && !in_conf(cs, live[i]))
            spare = live[i];
    }
    if (spare == 0)
        return;
    if (cs->n_voters < n->o.replication)
        propose_change(n, rr, RAFT_CC_ADD_LEARNER, spare);
    else
        remove_dead_voter(n, rr);
}

/* Keeps the log within raft_log_limit entries past the applied index. */
static void truncate_log(kv_node *n, kv__rraft *rr)
{
    uint64_t first = kv_raft_storage_first_index(rr->st);
    if (rr->as.index < first + n->o.raft_log_limit || rr->persisting)
        return;
    uint64_t upto = rr->as.index - n->o.raft_log_limit / 2;
    uint64_t term;
    raft_storage_t t = kv_raft_storage_table(rr->st);
    if (t.term(t.ud, upto, &term) != 0)
        return;
    kv__node_truncate(n, rr, upto, term);
}

void kv__lease_wanted(kv_node *n)
{
    pthread_mutex_lock(&n->mu);
    bool wanted = n->lease_wanted;
    n->lease_wanted = false;
    pthread_mutex_unlock(&n->mu);
    if (!wanted)
        return;
    for (size_t i = 0; i < n->n_rafts; i++) {
        if (n->rafts[i]->initialized)
            maintain_lease(n, n->rafts[i], n->live, n->n_live);
    }
}

void kv__lease_tick(kv_node *n, kv__rraft *rr)
{
    const uint64_t *live = n->live;
    size_t n_live = n->n_live;
    maintain_lease(n, rr, live, n_live);
    kv__prop_repropose(n, rr, REPROPOSE_TICKS);
    kv__prop_give_up(n, rr, GIVE_UP_TICKS);
    if (raft_role(rr->raft) != RAFT_LEADER || !held_by(&rr->as.lease, n))
        return;
    place_replicas(n, rr, live, n_live);
    truncate_log(n, rr);
}

/* ---- status ------------------------------------------------------------------------ */

static void fill_status(kv_node *n, kv__rraft *rr, kv_arena *a, kv_replica_status *st)
{
    raft_status_t rs;
    raft_status(rr->raft, &rs);
    *st = (kv_replica_status){.range_id = rr->range_id, .initialized = rr->initialized};
    if (kv__replica_desc(rr->r, a, &st->desc) != 0)
        st->desc = (kv_range_desc){.range_id = rr->range_id};
    for (uint32_t i = 0; i < st->desc.n_replicas; i++) {
        st->voter[i] = 0;
        for (unsigned j = 0; j < rr->as.conf.n_voters; j++)
            st->voter[i] |= rr->as.conf.voters[j] == st->desc.replicas[i].node_id;
    }
    st->raft_leader = rs.lead;
    st->term = rs.term;
    st->commit = rs.commit;
    st->applied = rr->as.index;
    st->raft_role = rs.role;
    kv_ts now = kv_hlc_now(n->s->hlc);
    if (lease_valid(&rr->as.lease, now, kv_hlc_max_offset(n->s->hlc))) {
        st->leaseholder = rr->as.lease.holder;
        st->lease_remaining_ms = (rr->as.lease.expiration.wall - now.wall) / 1000000;
    }
    uint64_t first = kv_raft_storage_first_index(rr->st);
    uint64_t last = kv_raft_storage_last_index(rr->st);
    st->log_entries = last >= first ? last - first + 1 : 0;
    uint8_t lo[KV_LOCAL_KEY_MAX], hi[KV_LOCAL_KEY_MAX];
    size_t lolen = kv_local_key(lo, rr->range_id, KV_LOCAL_RAFT_LOG, 0);
    size_t hilen = kv_local_range_end(hi, rr->range_id);
    (void)kv_engine_approximate_size(n->s->engine, KV_CF_LOCAL, lo, lolen, hi, hilen,
                                     &st->log_bytes);
    kv_buf s = {0}, e = {0};
    if (kv_mvcc_encode_key(&s, st->desc.start_key, st->desc.start_len, NULL) == 0 &&
        (st->desc.end_len == 0 ||
         kv_mvcc_encode_key(&e, st->desc.end_key, st->desc.end_len, NULL) == 0))
        (void)kv_engine_approximate_size(n->s->engine, KV_CF_MVCC, s.data, s.len, e.data, e.len,
                                         &st->approx_bytes);
    kv_buf_free(&s);
    kv_buf_free(&e);
}

int kv_node_status(kv_node *n, kv_arena *a, kv_replica_status **out, size_t *count)
{
    kv_replica_status *st = kv_arena_alloc(a, (n->n_rafts + 1) * sizeof(*st));
    if (st == NULL)
        return KV_ENOMEM;
    for (size_t i = 0; i < n->n_rafts; i++)
        fill_status(n, n->rafts[i], a, &st[i]);
    *out = st;
    *count = n->n_rafts;
    return 0;
}
