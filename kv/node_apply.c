/*
 * node_apply.c - proposals and the application of committed entries.
 *
 * A command (the data of a normal Raft entry):
 *
 *   offset  size  field
 *   0       1     version, 1
 *   1       1     kind: 1 write, 2 lease
 *   2       8     proposer's node id
 *   10      8     proposal id (unique per proposer process)
 *   18      8     lease sequence the command was evaluated under
 *   26      8     lease index (write; 0 for a lease)
 *   34      12    timestamp: wall 8, logical 4 (the clock must pass it)
 *   46      n     write: kv_batch_data() bytes; lease: seq 8, holder 8,
 *                 incarnation 8, start 12, expiration 12 (seq is the
 *                 sequence of the lease it replaces)
 *
 * Applying decides by the command's bytes and the applied state alone, so
 * every replica decides the same (CockroachDB's below-Raft checks):
 *
 *   - a write applies only if its lease sequence is the range's current
 *     one (it was evaluated by the current leaseholder) and its lease
 *     index is above the highest applied: a command re-proposed after a
 *     leader change, or reordered behind a later one, never applies twice;
 *     its proposer learns KV_ENOTLEASEHOLDER and evaluates again;
 *   - a lease applies only if it replaces the current lease (its seq) and
 *     does not start before that lease expires, unless the holder extends
 *     its own lease.
 *
 * The effects of a ready's committed entries and the applied state (index,
 * lease, lease index, membership) are one unsynced RocksDB batch: the log
 * is durable, so a crash re-applies; a proposer hears back only after it.
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/node_int.h"

#define CMD_VERSION 1
#define CMD_HEADER  46
#define LEASE_BYTES 52

typedef struct cmd {
    uint8_t kind;
    uint64_t proposer, id, lease_seq, lease_index;
    kv_ts ts;
    const uint8_t *payload;
    size_t len;
} cmd;

static void put_ts(uint8_t *p, kv_ts t)
{
    kv__put_be64(p, (uint64_t)t.wall);
    kv__put_be32(p + 8, (uint32_t)t.logical);
}

static kv_ts get_ts(const uint8_t *p)
{
    return (kv_ts){(int64_t)kv__get_be64(p), (int32_t)kv__get_be32(p + 8)};
}

static void put_lease(uint8_t *p, const kv_lease *l)
{
    kv__put_be64(p, l->seq);
    kv__put_be64(p + 8, l->holder);
    kv__put_be64(p + 16, l->incarnation);
    put_ts(p + 24, l->start);
    put_ts(p + 36, l->expiration);
}

static void get_lease(const uint8_t *p, kv_lease *l)
{
    l->seq = kv__get_be64(p);
    l->holder = kv__get_be64(p + 8);
    l->incarnation = kv__get_be64(p + 16);
    l->start = get_ts(p + 24);
    l->expiration = get_ts(p + 36);
}

static int encode(kv_node *n, kv__prop *p)
{
    size_t len = p->kind == KV__CMD_WRITE ? p->batch_len : LEASE_BYTES;
    if (kv_buf_reserve(&p->enc, CMD_HEADER + len) != 0)
        return KV_ENOMEM;
    uint8_t *b = (uint8_t *)p->enc.data;
    b[0] = CMD_VERSION;
    b[1] = p->kind;
    kv__put_be64(b + 2, n->o.node_id);
    kv__put_be64(b + 10, p->id);
    kv__put_be64(b + 18, p->lease_seq);
    kv__put_be64(b + 26, p->lease_index);
    put_ts(b + 34, p->ts);
    if (p->kind == KV__CMD_WRITE)
        memcpy(b + CMD_HEADER, p->batch, len);
    else
        put_lease(b + CMD_HEADER, &p->lease);
    p->enc.len = CMD_HEADER + len;
    return 0;
}

static int decode(const raft_entry_t *e, cmd *c)
{
    const uint8_t *b = e->data;
    if (e->len < CMD_HEADER || b[0] != CMD_VERSION)
        return KV_ECORRUPT;
    *c = (cmd){.kind = b[1],
               .proposer = kv__get_be64(b + 2),
               .id = kv__get_be64(b + 10),
               .lease_seq = kv__get_be64(b + 18),
               .lease_index = kv__get_be64(b + 26),
               .ts = get_ts(b + 34),
               .payload = b + CMD_HEADER,
               .len = e->len - CMD_HEADER};
    if (c->kind == KV__CMD_LEASE && c->len != LEASE_BYTES)
        return KV_ECORRUPT;
    return c->kind == KV__CMD_WRITE || c->kind == KV__CMD_LEASE ? 0 : KV_ECORRUPT;
}

/* ---- proposals -------------------------------------------------------------- */

int kv__node_propose(kv_node *n, kv__replica *r, uint64_t seq, kv_ts ts, const kv_batch *b)
{
    kv__prop p = {.r = r, .kind = KV__CMD_WRITE, .lease_seq = seq, .ts = ts};
    p.batch = kv_batch_data(b, &p.batch_len);
    if (sem_init(&p.done, 0, 0) != 0)
        return KV_ENOMEM;
    pthread_mutex_lock(&n->mu);
    bool stopped = n->stopped;
    if (!stopped) {
        p.id = ++n->next_prop_id;
        if (n->inbox_tail != NULL)
            n->inbox_tail->next = &p;
        else
            n->inbox_head = &p;
        n->inbox_tail = &p;
    }
    pthread_mutex_unlock(&n->mu);
    int rc = KV_ESTOPPED;
    if (!stopped) {
        n->o.hooks.wake(n->o.hooks.arg);
        while (sem_wait(&p.done) != 0)
            assert(errno == EINTR);
        rc = p.result;
    }
    sem_destroy(&p.done);
    kv_buf_free(&p.enc);
    return rc;
}

void kv__prop_finish(kv__prop *p, int result)
{
    if (p->kind == KV__CMD_LEASE) {
        kv_buf_free(&p->enc);
        free(p);
        return;
    }
    /* No lock: the worker reads the result only after the post, and glibc's
     * sem_post reads nothing of the semaphore after the increment that lets
     * the waiter go (its futex wake only names the address), so the worker
     * may return, and `p` go, as soon as it wakes. */
    p->result = result;
    sem_post(&p->done);
}

void kv__prop_submit(kv_node *n, kv__rraft *rr, kv__prop *p)
{
    if (rr == NULL || !rr->initialized) {
        kv__prop_finish(p, KV_ENOTLEASEHOLDER);
        return;
    }
    if (rr->next_lease_index < rr->as.lease_index)
        rr->next_lease_index = rr->as.lease_index;
    if (p->kind == KV__CMD_WRITE)
        p->lease_index = ++rr->next_lease_index;
    if (encode(n, p) != 0) {
        kv__prop_finish(p, KV_ENOMEM);
        return;
    }
    p->submitted_tick = n->ticks;
    p->next = rr->pending;
    rr->pending = p;
    kv__raft_propose(n, rr, p);
}

void kv__prop_repropose(kv_node *n, kv__rraft *rr, uint64_t age)
{
    for (kv__prop *p = rr->pending; p != NULL; p = p->next) {
        if (n->ticks - p->proposed_tick >= age)
            kv__raft_propose(n, rr, p);
    }
}

/* Removes and returns the pending proposal `id` of this node, if any. */
static kv__prop *take_pending(kv__rraft *rr, uint64_t id)
{
    for (kv__prop **pp = &rr->pending; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->id == id) {
            kv__prop *p = *pp;
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

/* Fails, with `result`, the pending write proposals `doomed` picks. */
static void fail_writes(kv_node *n, kv__rraft *rr,
                        bool (*doomed)(const kv_node *, const kv__rraft *, const kv__prop *,
                                       uint64_t),
                        uint64_t arg, int result)
{
    for (kv__prop **pp = &rr->pending; *pp != NULL;) {
        kv__prop *p = *pp;
        if (p->kind == KV__CMD_WRITE && doomed(n, rr, p, arg)) {
            *pp = p->next;
            kv__prop_finish(p, result);
        } else {
            pp = &p->next;
        }
    }
}

static bool under_old_lease(const kv_node *n, const kv__rraft *rr, const kv__prop *p, uint64_t arg)
{
    (void)n, (void)arg;
    return p->lease_seq != rr->as.lease.seq;
}

static bool older_than(const kv_node *n, const kv__rraft *rr, const kv__prop *p, uint64_t age)
{
    (void)rr;
    return n->ticks - p->submitted_tick >= age;
}

/* A new lease holder: whatever was proposed under another lease can no
 * longer apply; its proposers evaluate again (at the new holder). */
static void fail_stale(kv_node *n, kv__rraft *rr)
{
    fail_writes(n, rr, under_old_lease, 0, KV_ENOTLEASEHOLDER);
}

void kv__prop_give_up(kv_node *n, kv__rraft *rr, uint64_t age)
{
    fail_writes(n, rr, older_than, age, KV_EAMBIGUOUS);
}

/* ---- applying ------------------------------------------------------------------- */

/* Whether the lease request `want` applies over the current lease. */
static bool lease_applies(const kv__rraft *rr, const kv_lease *want)
{
    const kv_lease *cur = &rr->as.lease;
    if (want->seq != cur->seq)
        return false; /* it replaces a lease that is gone already */
    bool same = want->holder == cur->holder && want->incarnation == cur->incarnation;
    return same || kv_ts_cmp(want->start, cur->expiration) >= 0;
}

/* The lease of a lease command, if it applies, into rr->as.lease; *changed
 * when the holder is a new one. */
static void apply_lease(kv__rraft *rr, const cmd *c, bool *applied, bool *changed)
{
    kv_lease want;
    get_lease(c->payload, &want);
    *applied = lease_applies(rr, &want);
    if (!*applied)
        return;
    *changed = want.holder != rr->as.lease.holder || want.incarnation != rr->as.lease.incarnation;
    want.seq = *changed ? rr->as.lease.seq + 1 : rr->as.lease.seq;
    rr->as.lease = want;
}

/* The membership after the single change `cc` (raft/ applies it itself in
 * raft_advance; the applied state must record it in the same batch). */
static void apply_conf(kv__rraft *rr, const raft_conf_change_t *cc)
{
    raft_conf_state_t *cs = &rr->as.conf;
    for (unsigned i = 0; i < cc->n_changes; i++) {
        uint64_t id = cc->changes[i].node;
        for (unsigned j = 0; j < cs->n_voters; j++) {
            if (cs->voters[j] == id)
                cs->voters[j--] = cs->voters[--cs->n_voters];
        }
        for (unsigned j = 0; j < cs->n_learners; j++) {
            if (cs->learners[j] == id)
                cs->learners[j--] = cs->learners[--cs->n_learners];
        }
        if (cc->changes[i].type == RAFT_CC_ADD_VOTER)
            cs->voters[cs->n_voters++] = id;
        else if (cc->changes[i].type == RAFT_CC_ADD_LEARNER)
            cs->learners[cs->n_learners++] = id;
    }
}

/* The descriptor's replicas follow the membership: voters, then learners. */
static int put_descriptor(kv_node *n, kv__rraft *rr, kv_batch *b)
{
    kv__replica *r = rr->r;
    const raft_conf_state_t *cs = &rr->as.conf;
    pthread_mutex_lock(&r->mu);
    r->desc.n_replicas = 0;
    for (unsigned i = 0; i < cs->n_voters && r->desc.n_replicas < KV_MAX_REPLICAS; i++)
        r->desc.replicas[r->desc.n_replicas++] =
            (kv_replica_desc){(uint32_t)cs->voters[i], 1, (uint32_t)cs->voters[i]};
    for (unsigned i = 0; i < cs->n_learners && r->desc.n_replicas < KV_MAX_REPLICAS; i++)
        r->desc.replicas[r->desc.n_replicas++] =
            (kv_replica_desc){(uint32_t)cs->learners[i], 1, (uint32_t)cs->learners[i]};
    r->desc.generation++;
    kv_buf val = {0};
    int rc = kv__desc_encode(&r->desc, &val);
    pthread_mutex_unlock(&r->mu);
    uint8_t key[KV_LOCAL_KEY_MAX];
    size_t klen = kv_local_key(key, rr->range_id, KV_LOCAL_DESCRIPTOR, 0);
    if (rc == 0)
        rc = kv_batch_put(b, n->s->engine, KV_CF_LOCAL, key, klen, val.data, val.len);
    kv_buf_free(&val);
    return rc;
}

/* What applying one entry did, for the steps after the write. */
typedef struct outcome {
    cmd c;
    bool is_cmd, applied, lease_changed, conf_changed;
} outcome;

/* The effects of a ready's committed entries, gathered into one RocksDB
 * batch: the records of every applied write command, then the descriptor
 * if the membership changed, then the applied state. */
typedef struct apply_round {
    kv_buf rep; /* kv_batch_rep_append() bytes */
    bool desc_changed;
} apply_round;

/* Applies entry e to rr->as and gathers its effects into `ar`. */
static int stage_entry(kv__rraft *rr, const raft_entry_t *e, apply_round *ar, outcome *o)
{
    if (e->type == RAFT_ENTRY_CONF_CHANGE) {
        raft_conf_change_t cc;
        if (raft_conf_change_decode(e->data, e->len, &cc) != 0)
            return KV_ECORRUPT;
        apply_conf(rr, &cc);
        o->conf_changed = ar->desc_changed = true;
        return 0;
    }
    if (e->len == 0)
        return 0; /* a new leader's empty entry */
    int rc = decode(e, &o->c);
    if (rc != 0)
        return rc;
    o->is_cmd = true;
    if (o->c.kind == KV__CMD_LEASE) {
        apply_lease(rr, &o->c, &o->applied, &o->lease_changed);
        return 0;
    }
    o->applied = o->c.lease_seq == rr->as.lease.seq && o->c.lease_index > rr->as.lease_index;
    if (!o->applied)
        return 0;
    rr->as.lease_index = o->c.lease_index;
    return kv_batch_rep_append(&ar->rep, o->c.payload, o->c.len);
}

/* After the write: the clock, leases, meta records, proposers. */
static void after_entry(kv_node *n, kv__rraft *rr, const outcome *o)
{
    if (o->conf_changed)
        kv__meta_update(n, rr);
    if (!o->is_cmd)
        return;
    if (o->applied && o->c.kind == KV__CMD_WRITE)
        (void)kv_hlc_update(n->s->hlc, o->c.ts, NULL);
    if (o->lease_changed) {
        fail_stale(n, rr);
        if (rr->as.lease.holder == n->o.node_id && rr->as.lease.incarnation == n->o.incarnation)
            kv__lease_acquired(n, rr);
    }
    if (o->c.proposer != n->o.node_id)
        return;
    kv__prop *p = take_pending(rr, o->c.id);
    if (p != NULL)
        kv__prop_finish(p, o->applied ? 0 : KV_ENOTLEASEHOLDER);
}

/* Writes the round: effects, descriptor and applied state in one batch,
 * so a crash never separates them. */
static int write_round(kv_node *n, kv__rraft *rr, apply_round *ar)
{
    char err[256];
    kv_batch *b;
    int rc = ar->rep.len > 0
                 ? kv_batch_from_data(n->s->engine, ar->rep.data, ar->rep.len, &b, err, sizeof(err))
                 : kv_batch_create(&b);
    if (rc != 0)
        return rc;
    if (ar->desc_changed)
        rc = put_descriptor(n, rr, b);
    if (rc == 0)
        rc = kv_raft_storage_applied_put(rr->st, b, &rr->as);
    if (rc == 0)
        rc = kv_engine_write(n->s->engine, b, false, err, sizeof(err));
    kv_batch_destroy(b);
    return rc;
}

int kv__apply_committed(kv_node *n, kv__rraft *rr, const raft_entry_t *ents, size_t count)
{
    kv_applied_state before = rr->as;
    apply_round ar = {0};
    outcome *os = calloc(count, sizeof(*os));
    int rc = os == NULL ? KV_ENOMEM : 0;
    size_t k = 0;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (ents[i].index <= rr->as.index)
            continue;
        rc = stage_entry(rr, &ents[i], &ar, &os[k++]);
        rr->as.index = ents[i].index;
        rr->as.term = ents[i].term;
    }
    if (rc == 0 && k > 0)
        rc = write_round(n, rr, &ar);
    kv_buf_free(&ar.rep);
    if (rc != 0) {
        rr->as = before; /* the ready is applied again later */
    } else if (k > 0) {
        kv_raft_storage_set_applied(rr->st, &rr->as);
        for (size_t i = 0; i < k; i++)
            after_entry(n, rr, &os[i]);
    }
    free(os);
    kv__rraft_publish(rr);
    return rc;
}

void kv__rraft_publish(kv__rraft *rr)
{
    kv__replica *r = rr->r;
    pthread_mutex_lock(&r->mu);
    r->lease = rr->as.lease;
    r->leader = raft_leader(rr->raft);
    pthread_mutex_unlock(&r->mu);
}
