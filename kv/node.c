/*
 * node.c - the replicated store's engine room on the node loop: starting
 * a Raft group per replica, the inbox fed by workers and the storage
 * thread, the scheduler that visits only replicas with work, and the
 * Raft message batches between nodes (contract in kv/node.h).
 *
 * One ready per replica is outstanding at a time (raft/'s rule):
 *
 *   raft_ready ─► send rd.msgs at once
 *              ─► persist snapshot/entries/hard state (storage thread,
 *                 one synced batch per round for every range); a hard
 *                 state whose commit index alone moved is not written
 *                 (kv/raft_storage.c reports commit >= applied instead)
 *              ─► once durable: send rd.persist_msgs (votes and appends
 *                 acknowledged only after they are on disk, Raft §3.8),
 *                 apply rd.committed, raft_advance
 *
 * Messages to one node produced while the loop handles one batch of work
 * go out as one KV_NODE_MSG_RAFT payload (heartbeats of all ranges to a
 * node pair coalesce this way):
 *
 *   offset  size  field
 *   0       2     count of messages
 *   then per message:
 *   0       8     range id
 *   8       4     length L
 *   12      L     raft_msg_encode() bytes
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/node_int.h"

#define MAX_MSG_ENTRIES 4096
#define MAX_DEFERRED    8192 /* input queued while one ready is out */

/* ---- the inbox ---------------------------------------------------------- */

static void deliver_durable(void *arg, kv_raft_persist_req *head)
{
    kv_node *n = arg;
    pthread_mutex_lock(&n->mu);
    kv_raft_persist_req **tail = &n->durable;
    while (*tail != NULL)
        tail = &(*tail)->next;
    *tail = head;
    pthread_mutex_unlock(&n->mu);
    n->o.hooks.wake(n->o.hooks.arg);
}

/* ---- replicas ------------------------------------------------------------ */

kv__rraft *kv__node_raft(kv_node *n, uint64_t range_id)
{
    for (size_t i = 0; i < n->n_rafts; i++) {
        if (n->rafts[i]->range_id == range_id)
            return n->rafts[i];
    }
    return NULL;
}

static int new_raft(kv_node *n, kv__rraft *rr, char *err, size_t errlen)
{
    raft_config_t cfg = {
        .id = n->o.node_id,
        .election_tick = (int)n->o.election_ticks,
        .heartbeat_tick = (int)n->o.heartbeat_ticks,
        .storage = kv_raft_storage_table(rr->st),
        .applied = rr->as.index,
        .max_size_per_msg = 1 << 20,
        .max_inflight_msgs = 128,
        .check_quorum = true,
        .pre_vote = true,
        .seed = n->o.incarnation ^ rr->range_id,
    };
    int rc = raft_new(&cfg, &rr->raft, err, errlen);
    return rc == 0 ? 0 : rc == RAFT_ENOMEM ? KV_ENOMEM : KV_ECORRUPT;
}

int kv__node_add_raft(kv_node *n, kv__replica *r, bool initialized, kv__rraft **out)
{
    char err[256];
    if (n->n_rafts == n->cap_rafts) {
        size_t cap = n->cap_rafts ? 2 * n->cap_rafts : 8;
        kv__rraft **a = realloc(n->rafts, cap * sizeof(*a));
        if (a == NULL)
            return KV_ENOMEM;
        n->rafts = a;
        n->cap_rafts = cap;
    }
    kv__rraft *rr = calloc(1, sizeof(*rr));
    if (rr == NULL)
        return KV_ENOMEM;
    rr->r = r;
    rr->range_id = r->desc.range_id;
    rr->initialized = initialized;
    int rc = kv_raft_storage_open(n->s->engine, rr->range_id, NULL, &rr->st, err, sizeof(err));
    if (rc != 0)
        goto out_free;
    kv_raft_storage_applied(rr->st, &rr->as);
    rr->next_lease_index = rr->as.lease_index;
    rc = new_raft(n, rr, err, sizeof(err));
    if (rc != 0)
        goto out_close_storage;
    r->rr = rr;
    n->rafts[n->n_rafts++] = rr;
    /* The only voter need not wait an election timeout to lead. */
    if (rr->as.conf.n_voters == 1 && rr->as.conf.voters[0] == n->o.node_id)
        raft_campaign(rr->raft);
    kv__rraft_publish(rr);
    *out = rr;
    return 0;

out_close_storage:
    kv_raft_storage_close(rr->st);
out_free:
    free(rr);
    return rc;
}

/* ---- input while a ready is outstanding ------------------------------------------- */

static kv__deferred *defer(kv__rraft *rr, kv__defer_kind kind)
{
    if (rr->n_deferred == MAX_DEFERRED)
        return NULL; /* a replica whose storage failed: stop queueing */
    if (rr->n_deferred == rr->cap_deferred) {
        size_t cap = rr->cap_deferred ? 2 * rr->cap_deferred : 16;
        kv__deferred *d = realloc(rr->deferred, cap * sizeof(*d));
        if (d == NULL)
            return NULL; /* dropped: Raft retransmits, proposals are re-proposed */
        rr->deferred = d;
        rr->cap_deferred = cap;
    }
    kv__deferred *d = &rr->deferred[rr->n_deferred++];
    *d = (kv__deferred){.kind = kind};
    return d;
}

static void step_now(kv_node *n, kv__rraft *rr, const raft_msg_t *m)
{
    raft_step(rr->raft, m);
    kv__node_schedule(n, rr);
}

void kv__raft_step(kv_node *n, kv__rraft *rr, const raft_msg_t *m)
{
    if (!rr->rd_out) {
        step_now(n, rr, m);
        return;
    }
    size_t len = raft_msg_encoded_size(m);
    uint8_t *buf = malloc(len);
    kv__deferred *d = buf != NULL ? defer(rr, KV__DEFER_STEP) : NULL;
    if (d == NULL || raft_msg_encode(m, buf, len, &d->len) != 0) {
        if (d != NULL)
            rr->n_deferred--;
        free(buf);
        return;
    }
    d->msg = buf;
}

static void propose_now(kv_node *n, kv__rraft *rr, kv__prop *p)
{
    p->proposed_tick = n->ticks;
    /* RAFT_EDROPPED (no leader known yet): the proposal stays pending and
     * goes again with the next re-proposal round. */
    (void)raft_propose(rr->raft, p->enc.data, p->enc.len);
    kv__node_schedule(n, rr);
}

void kv__raft_propose(kv_node *n, kv__rraft *rr, kv__prop *p)
{
    kv__deferred *d = rr->rd_out ? defer(rr, KV__DEFER_PROPOSE) : NULL;
    if (d != NULL)
        d->p = p;
    else
        propose_now(n, rr, p);
}

void kv__raft_report_snapshot(kv_node *n, kv__rraft *rr, uint64_t to, bool ok)
{
    kv__deferred *d = rr->rd_out ? defer(rr, KV__DEFER_SNAP_REPORT) : NULL;
    if (d != NULL) {
        d->to = to;
        d->ok = ok;
        return;
    }
    raft_report_snapshot(rr->raft, to, ok);
    kv__node_schedule(n, rr);
}

static void replay_one(kv_node *n, kv__rraft *rr, kv__deferred *d)
{
    raft_msg_t m;
    raft_snapshot_t snap;
    switch (d->kind) {
    case KV__DEFER_STEP:
        if (raft_msg_decode(d->msg, d->len, &m, n->ents, MAX_MSG_ENTRIES, &snap) == 0)
            step_now(n, rr, &m);
        free(d->msg);
        break;
    case KV__DEFER_PROPOSE:
        /* Finished meanwhile (a lease change failed it): nothing to do. */
        for (kv__prop *p = rr->pending; p != NULL; p = p->next) {
            if (p == d->p)
                propose_now(n, rr, p);
        }
        break;
    case KV__DEFER_TICK:
        raft_tick(rr->raft);
        break;
    case KV__DEFER_SNAP_REPORT:
        raft_report_snapshot(rr->raft, d->to, d->ok);
        break;
    }
}

/* After advance: what arrived while the ready was out, in arrival order. */
static void replay(kv_node *n, kv__rraft *rr)
{
    for (size_t i = 0; i < rr->n_deferred; i++)
        replay_one(n, rr, &rr->deferred[i]);
    rr->n_deferred = 0;
}

static void free_raft(kv__rraft *rr)
{
    for (size_t i = 0; i < rr->n_deferred; i++)
        free(rr->deferred[i].msg);
    free(rr->deferred);
    kv__snap_free(rr);
    raft_free(rr->raft);
    kv_raft_storage_close(rr->st);
    free(rr);
}

void kv__node_schedule(kv_node *n, kv__rraft *rr)
{
    if (rr->scheduled)
        return;
    rr->scheduled = true;
    rr->next_work = NULL;
    if (n->work_tail != NULL)
        n->work_tail->next_work = rr;
    else
        n->work_head = rr;
    n->work_tail = rr;
}

/* ---- outgoing messages -------------------------------------------------- */

static kv_buf *out_buf(kv_node *n, uint64_t to, size_t *idx)
{
    for (size_t i = 0; i < n->n_out; i++) {
        if (n->out_to[i] == to) {
            *idx = i;
            return &n->out[i];
        }
    }
    if (n->n_out == n->cap_out) {
        size_t cap = n->cap_out ? 2 * n->cap_out : 8;
        kv_buf *o = realloc(n->out, cap * sizeof(*o));
        if (o != NULL)
            n->out = o;
        uint64_t *t = realloc(n->out_to, cap * sizeof(*t));
        if (t != NULL)
            n->out_to = t;
        uint16_t *c = realloc(n->out_n, cap * sizeof(*c));
        if (c != NULL)
            n->out_n = c;
        if (o == NULL || t == NULL || c == NULL)
            return NULL;
        memset(n->out + n->cap_out, 0, (cap - n->cap_out) * sizeof(*o));
        n->cap_out = cap;
    }
    *idx = n->n_out;
    n->out_to[n->n_out] = to;
    n->out_n[n->n_out] = 0;
    n->out[n->n_out].len = 2;
    kv_buf *b = &n->out[n->n_out++];
    return kv_buf_reserve(b, 256) == 0 ? b : NULL;
}

void kv__node_send_raft(kv_node *n, uint64_t range_id, const raft_msg_t *m)
{
    size_t idx, need = raft_msg_encoded_size(m);
    kv_buf *b = out_buf(n, m->to, &idx);
    if (b == NULL || n->out_n[idx] == UINT16_MAX || kv_buf_reserve(b, b->len + 12 + need) != 0)
        return; /* dropped: Raft retransmits */
    uint8_t *p = (uint8_t *)b->data + b->len;
    size_t used;
    if (raft_msg_encode(m, p + 12, need, &used) != 0)
        return;
    kv__put_be64(p, range_id);
    kv__put_be32(p + 8, (uint32_t)used);
    b->len += 12 + used;
    n->out_n[idx]++;
}

void kv__node_flush(kv_node *n)
{
    for (size_t i = 0; i < n->n_out; i++) {
        kv_buf *b = &n->out[i];
        b->data[0] = (char)(n->out_n[i] >> 8);
        b->data[1] = (char)n->out_n[i];
        n->o.hooks.send(n->o.hooks.arg, n->out_to[i], KV_NODE_MSG_RAFT, b->data, b->len);
    }
    n->n_out = 0;
}

/* A message of the ready: snapshots go through the snapshot stream. */
static void send_msgs(kv_node *n, kv__rraft *rr, const raft_msg_t *msgs, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        if (msgs[i].to == n->o.node_id)
            continue; /* raft/ handles its own acknowledgements in advance */
        if (msgs[i].type == RAFT_MSG_SNAP)
            kv__snap_send(n, rr, &msgs[i]);
        else
            kv__node_send_raft(n, rr->range_id, &msgs[i]);
    }
}

/* ---- readies -------------------------------------------------------------- */

static void on_durable(kv_raft_persist_req *req, int status);

/* Everything after persistence: acknowledgements, applying, advancing. */
static void finish_ready(kv_node *n, kv__rraft *rr)
{
    send_msgs(n, rr, rr->rd.persist_msgs, rr->rd.n_persist_msgs);
    if (rr->rd.n_committed > 0 &&
        kv__apply_committed(n, rr, rr->rd.committed, rr->rd.n_committed) != 0) {
        /* The state machine cannot move on; keep the ready so nothing is
         * acknowledged as applied that was not (retried by the next tick). */
        return;
    }
    raft_advance(rr->raft, &rr->rd);
    rr->rd_out = false;
    replay(n, rr);
    uint64_t lead = raft_leader(rr->raft);
    if (lead != rr->last_leader) {
        rr->last_leader = lead;
        kv__rraft_publish(rr);
        kv__prop_repropose(n, rr, 0);
    }
    kv__node_schedule(n, rr);
}

/* Applies the ready's committed entries that are already durable here,
 * before its new entries are: they wait for no fsync of this ready (a
 * leader's entries commit by the acknowledgements stepped in after the
 * previous round, so this is the common case). Committed entries never
 * change, so those at or above the first new entry, which rewrites the log
 * from there, merely wait. finish_ready applies the rest; applying skips
 * what is applied already, and a failure here is retried there. */
static void apply_durable(kv_node *n, kv__rraft *rr)
{
    const raft_ready_t *rd = &rr->rd;
    uint64_t durable = kv_raft_storage_last_index(rr->st);
    if (rd->n_entries > 0 && rd->entries[0].index <= durable)
        durable = rd->entries[0].index - 1;
    size_t k = 0;
    while (k < rd->n_committed && rd->committed[k].index <= durable)
        k++;
    if (rd->snapshot == NULL && k > 0)
        (void)kv__apply_committed(n, rr, rd->committed, k);
}

static int submit_persist(kv_node *n, kv__rraft *rr)
{
    const raft_ready_t *rd = &rr->rd;
    rr->preq = (kv_raft_persist_req){
        .storage = rr->st,
        .snapshot = rd->snapshot,
        .entries = rd->entries,
        .n_entries = rd->n_entries,
        .hs = rd->hs_changed ? &rd->hs : NULL,
        .cb = on_durable,
        .data = rr,
    };
    rr->persisting = true;
    int rc = kv_raft_writer_submit(n->writer, &rr->preq);
    if (rc != 0)
        rr->persisting = false;
    return rc;
}

static void process_replica(kv_node *n, kv__rraft *rr)
{
    if (rr->rd_out) {
        if (!rr->persisting && !rr->storage_failed)
            finish_ready(n, rr); /* an apply failed earlier: try again */
        return;
    }
    if (!raft_has_ready(rr->raft) || raft_ready(rr->raft, &rr->rd) != 0)
        return;
    rr->rd_out = true;
    send_msgs(n, rr, rr->rd.msgs, rr->rd.n_msgs);
    /* A hard state whose commit index alone moved need not be written:
     * the storage reports commit >= applied at restart. */
    if (rr->rd.snapshot != NULL || rr->rd.n_entries > 0 || rr->rd.must_sync) {
        apply_durable(n, rr);
        /* A failure means the storage thread failed for good: the ready
         * stays out and nothing more is acknowledged. */
        rr->storage_failed = submit_persist(n, rr) != 0;
        return;
    }
    finish_ready(n, rr);
}

static void on_durable(kv_raft_persist_req *req, int status)
{
    kv__rraft *rr = req->data;
    rr->persisting = false;
    if (status != 0) {
        /* Nothing of the ready is durable and the writer stays failed:
         * acknowledge and apply nothing more (the other replicas go on). */
        rr->storage_failed = true;
        return;
    }
    if (req->snapshot != NULL)
        kv__snap_installed(rr);
    finish_ready(rr->r->store->node, rr);
}

static void on_truncated(kv_raft_persist_req *req, int status)
{
    (void)status; /* a failed truncation is tried again by a later tick */
    ((kv__rraft *)req->data)->truncating = false;
}

void kv__node_truncate(kv_node *n, kv__rraft *rr, uint64_t index, uint64_t term)
{
    if (rr->truncating)
        return;
    rr->treq = (kv_raft_persist_req){.storage = rr->st,
                                     .truncate_index = index,
                                     .truncate_term = term,
                                     .cb = on_truncated,
                                     .data = rr};
    rr->truncating = kv_raft_writer_submit(n->writer, &rr->treq) == 0;
}

/* ---- incoming messages ----------------------------------------------------- */

/* A message for a range we hold no replica of: a leader adding us. */
static kv__rraft *create_uninitialized(kv_node *n, uint64_t range_id)
{
    kv_range_desc d = {.range_id = range_id};
    kv__replica *r;
    kv__rraft *rr;
    if (kv__replica_create(n->s, &d, &r) != 0)
        return NULL;
    if (kv__node_add_raft(n, r, false, &rr) != 0) {
        kv__replica_destroy(r);
        return NULL;
    }
    return rr;
}

static void step_one(kv_node *n, uint64_t range_id, const uint8_t *p, size_t len)
{
    raft_msg_t m;
    raft_snapshot_t snap;
    if (raft_msg_decode(p, len, &m, n->ents, MAX_MSG_ENTRIES, &snap) != 0 || m.to != n->o.node_id ||
        m.type == RAFT_MSG_SNAP)
        return;
    kv__rraft *rr = kv__node_raft(n, range_id);
    if (rr == NULL && m.type != RAFT_MSG_APP && m.type != RAFT_MSG_HEARTBEAT)
        return;
    if (rr == NULL && (rr = create_uninitialized(n, range_id)) == NULL)
        return;
    if (kv__snap_receiving(rr))
        return;
    kv__raft_step(n, rr, &m);
}

static void recv_raft(kv_node *n, const uint8_t *p, size_t len)
{
    if (len < 2)
        return;
    size_t count = (size_t)p[0] << 8 | p[1], off = 2;
    for (size_t i = 0; i < count; i++) {
        if (len - off < 12)
            return;
        uint64_t range_id = kv__get_be64(p + off);
        size_t mlen = kv__get_be32(p + off + 8);
        if (len - off - 12 < mlen)
            return;
        step_one(n, range_id, p + off + 12, mlen);
        off += 12 + mlen;
    }
}

void kv_node_recv(kv_node *n, uint64_t from, uint8_t type, const uint8_t *payload, size_t len)
{
    if (n->stopped)
        return;
    if (type == KV_NODE_MSG_RAFT)
        recv_raft(n, payload, len);
    else if (type == KV_NODE_MSG_SNAP)
        kv__snap_recv(n, from, payload, len);
    else if (type == KV_NODE_MSG_SNAP_ACK)
        kv__snap_ack(n, from, payload, len);
    kv_node_process(n);
}

/* ---- processing ---------------------------------------------------------------- */

static void drain_inbox(kv_node *n)
{
    pthread_mutex_lock(&n->mu);
    kv__prop *props = n->inbox_head;
    n->inbox_head = n->inbox_tail = NULL;
    kv_raft_persist_req *durable = n->durable;
    n->durable = NULL;
    pthread_mutex_unlock(&n->mu);
    while (props != NULL) {
        kv__prop *p = props;
        props = p->next;
        kv__prop_submit(n, p->r->rr, p);
    }
    while (durable != NULL) {
        kv_raft_persist_req *req = durable;
        durable = req->next;
        kv_raft_persist_req_complete(req);
    }
}

void kv_node_process(kv_node *n)
{
    if (n->stopped)
        return;
    drain_inbox(n);
    kv__snap_process_done(n);
    kv__lease_wanted(n);
    /* Each visit may schedule the replica again (more ready): bounded by
     * taking the list as it is now. */
    for (int round = 0; round < 4 && n->work_head != NULL; round++) {
        kv__rraft *rr = n->work_head;
        n->work_head = n->work_tail = NULL;
        while (rr != NULL) {
            kv__rraft *next = rr->next_work;
            rr->scheduled = false;
            process_replica(n, rr);
            rr = next;
        }
    }
    if (n->work_head != NULL)
        n->o.hooks.wake(n->o.hooks.arg);
    kv__node_flush(n);
}

/* Refreshes the live nodes and when each was last seen up. */
static void observe_nodes(kv_node *n)
{
    size_t cap = sizeof(n->live) / sizeof(n->live[0]);
    n->n_live = n->o.hooks.live_nodes(n->o.hooks.arg, n->live, cap);
    if (n->n_live > cap)
        n->n_live = cap;
    for (size_t i = 0; i < n->n_live; i++) {
        size_t j = 0;
        while (j < n->n_seen && n->seen_id[j] != n->live[i])
            j++;
        if (j == n->n_seen && n->n_seen == cap)
            continue;
        n->n_seen += j == n->n_seen;
        n->seen_id[j] = n->live[i];
        n->seen_tick[j] = n->ticks;
    }
}

void kv_node_tick(kv_node *n)
{
    if (n->stopped)
        return;
    n->ticks++;
    observe_nodes(n);
    for (size_t i = 0; i < n->n_rafts; i++) {
        kv__rraft *rr = n->rafts[i];
        if (!rr->rd_out)
            raft_tick(rr->raft);
        else
            (void)defer(rr, KV__DEFER_TICK);
        if (rr->initialized)
            kv__lease_tick(n, rr);
        kv__snap_tick(n, rr);
        kv__node_schedule(n, rr);
    }
    kv_node_process(n);
}

/* ---- start and stop -------------------------------------------------------------- */

static void set_defaults(kv_node_options *o)
{
    if (o->tick_ms == 0)
        o->tick_ms = 100;
    if (o->election_ticks == 0)
        o->election_ticks = 10;
    if (o->heartbeat_ticks == 0)
        o->heartbeat_ticks = 1;
    if (o->lease_ns == 0)
        o->lease_ns = INT64_C(3000000000);
    if (o->raft_log_limit == 0)
        o->raft_log_limit = 10000;
    if (o->replication == 0)
        o->replication = 3;
}

static int add_store_replicas(kv_node *n)
{
    kv_store *s = n->s;
    pthread_rwlock_rdlock(&s->lock);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->n_ranges; i++) {
        kv__rraft *rr;
        rc = kv__node_add_raft(n, s->ranges[i], true, &rr);
        if (rc == 0)
            kv__node_schedule(n, rr);
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int kv_node_start(kv_store *s, const kv_node_options *opts, kv_node **out, char *err, size_t errlen)
{
    if (opts->node_id == 0 || opts->hooks.send == NULL || opts->hooks.wake == NULL ||
        opts->hooks.spawn == NULL || opts->hooks.live_nodes == NULL)
        return kv__errf(err, errlen, KV_EINVAL, "node id and hooks are required");
    kv_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return KV_ENOMEM;
    n->s = s;
    n->o = *opts;
    set_defaults(&n->o);
    int rc = KV_ENOMEM;
    if (pthread_mutex_init(&n->mu, NULL) != 0)
        goto out_free;
    kv_raft_writer_options wo = {.deliver = deliver_durable, .deliver_arg = n};
    n->ents = calloc(MAX_MSG_ENTRIES, sizeof(*n->ents));
    if (n->ents == NULL)
        goto out_destroy_mu;
    rc = kv_raft_writer_start(s->engine, &wo, &n->writer);
    if (rc != 0)
        goto out_free_ents;
    rc = add_store_replicas(n);
    if (rc != 0) {
        kv__errf(err, errlen, rc, "cannot start the Raft groups: %s", kv_strerror(rc));
        goto out_stop;
    }
    s->node = n;
    *out = n;
    return 0;

out_stop:
    kv_node_stop(n);
    kv_node_free(n);
    return rc;
out_free_ents:
    free(n->ents);
out_destroy_mu:
    pthread_mutex_destroy(&n->mu);
out_free:
    free(n);
    return rc;
}

/* Fails what can no longer finish: the inbox and every pending proposal. */
static void fail_all(kv_node *n)
{
    pthread_mutex_lock(&n->mu);
    kv__prop *props = n->inbox_head;
    n->inbox_head = n->inbox_tail = NULL;
    pthread_mutex_unlock(&n->mu);
    while (props != NULL) {
        kv__prop *p = props;
        props = p->next;
        kv__prop_finish(p, KV_ESTOPPED);
    }
    for (size_t i = 0; i < n->n_rafts; i++) {
        kv__rraft *rr = n->rafts[i];
        while (rr->pending != NULL) {
            kv__prop *p = rr->pending;
            rr->pending = p->next;
            kv__prop_finish(p, KV_EAMBIGUOUS);
        }
    }
}

void kv_node_stop(kv_node *n)
{
    pthread_mutex_lock(&n->mu);
    n->stopped = true;
    pthread_mutex_unlock(&n->mu);
    /* The writer's last rounds deliver into the inbox: drain it once more
     * so no persist request stays referenced. */
    kv_raft_writer_stop(n->writer);
    n->writer = NULL;
    pthread_mutex_lock(&n->mu);
    n->durable = NULL;
    pthread_mutex_unlock(&n->mu);
    fail_all(n);
}

void kv_node_free(kv_node *n)
{
    if (n == NULL)
        return;
    kv__snap_drop_done(n);
    for (size_t i = 0; i < n->n_rafts; i++) {
        kv__rraft *rr = n->rafts[i];
        rr->r->rr = NULL;
        if (!rr->initialized)
            kv__replica_destroy(rr->r);
        free_raft(rr);
    }
    free(n->rafts);
    for (size_t i = 0; i < n->cap_out; i++)
        kv_buf_free(&n->out[i]);
    free(n->out);
    free(n->out_to);
    free(n->out_n);
    free(n->ents);
    n->s->node = NULL;
    pthread_mutex_destroy(&n->mu);
    free(n);
}
