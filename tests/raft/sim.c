/*
 * sim.c - the simulated cluster and its safety checker (see sim.h).
 *
 * The checker looks inside the nodes (raft_int.h) only to read terms of
 * log entries; everything else goes through the public API.
 */
#include "sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

typedef struct {
    uint8_t *buf;
    size_t len;
    uint64_t from, to;
    uint8_t type;
} sim_msg_t;

typedef struct {
    uint64_t id;
    bool exists, up;
    raft_memstore_t *store;
    raft_node_t *raft;
    uint64_t applied, state;
    uint64_t checked_leader_term;
    int crash_at;
    uint64_t *cmds; /* hashes of applied normal entries */
    size_t n_cmds, cap_cmds;
} sim_node_t;

typedef struct {
    uint64_t term, hash, prev_term;
} lm_slot_t;

/* What the checker knows about one log index. */
typedef struct {
    uint64_t term;        /* committed entry's term, 0 if not known */
    uint64_t commit_term; /* term of the leader that first committed it */
    uint64_t hash;        /* committed entry's hash, valid if has_hash */
    uint64_t state;       /* state machine after applying it, if has_state */
    bool has_hash, has_state;
    lm_slot_t *lm; /* distinct (term) entries ever persisted at this index */
    size_t n_lm, cap_lm;
} idx_info_t;

typedef struct {
    uint64_t ctx, required, index;
    bool done;
} sim_read_t;

struct sim {
    raft_config_t tmpl;
    raft_conf_state_t boot;
    uint64_t seed;
    sim_node_t nodes[SIM_MAX_NODES + 1];
    sim_msg_t *q;
    size_t nq, qcap;
    uint64_t rng;
    bool cut[SIM_MAX_NODES + 1][SIM_MAX_NODES + 1];
    int drop_pct, dup_pct;
    uint64_t *leader_of; /* by term */
    size_t leader_cap;
    idx_info_t *idx;
    size_t idx_cap;
    uint64_t commit; /* highest commit index any leader reached */
    sim_read_t *reads;
    size_t n_reads, reads_cap;
    uint64_t next_ctx;
    bool failed;
    char err[512];
    raft_entry_t ents[4096];
    raft_snapshot_t snap;
};

#define U(x) ((unsigned long long)(x))

/* Records the first violation; later ones are consequences. */
__attribute__((format(printf, 2, 3))) static void fail(sim_t *s, const char *fmt, ...)
{
    if (s->failed) {
        return;
    }
    s->failed = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
}

static void must(sim_t *s, int rc, const char *what)
{
    if (rc != 0 && !s->failed) {
        s->failed = true;
        snprintf(s->err, sizeof(s->err), "%s: %s", what, raft_strerror(rc));
    }
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return p;
    }
    size_t old = *cap, ncap = old ? old : 16;
    while (ncap < need) {
        ncap *= 2;
    }
    p = realloc(p, ncap * size);
    if (!p) {
        abort(); /* test harness: out of memory is not a scenario */
    }
    memset((char *)p + old * size, 0, (ncap - old) * size);
    *cap = ncap;
    return p;
}

uint64_t sim_rand(sim_t *s)
{
    return raft__rand(&s->rng);
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return h;
}

static uint64_t entry_hash(const raft_entry_t *e)
{
    uint64_t h = fnv(0xcbf29ce484222325ULL, &e->type, 1);
    return fnv(h, e->data, e->len);
}

static idx_info_t *info(sim_t *s, uint64_t i)
{
    s->idx = grow(s->idx, &s->idx_cap, i + 1, sizeof(*s->idx));
    return &s->idx[i];
}

raft_config_t sim_default_config(void)
{
    return (raft_config_t){.election_tick = 10, .heartbeat_tick = 1, .max_inflight_msgs = 256};
}

/* ---- nodes ------------------------------------------------------------------------ */

static int start_node(sim_t *s, uint64_t id)
{
    sim_node_t *n = &s->nodes[id];
    raft_config_t cfg = s->tmpl;
    cfg.id = id;
    cfg.seed = s->seed * 31 + id;
    cfg.storage = raft_memstore_storage(n->store);
    raft_snapshot_t snap;
    cfg.storage.snapshot(n->store, &snap);
    cfg.applied = snap.index;
    n->applied = snap.index;
    n->state = 0;
    if (snap.len == 16) {
        memcpy(&n->state, snap.data + 8, 8);
    }
    n->n_cmds = 0;
    n->checked_leader_term = 0;
    n->crash_at = SIM_CRASH_NONE;
    char msg[128];
    int rc = raft_new(&cfg, &n->raft, msg, sizeof(msg));
    if (rc != 0) {
        fail(s, "raft_new(%llu) failed: %s", U(id), msg);
        return rc;
    }
    n->up = true;
    return 0;
}

int sim_add_node(sim_t *s, uint64_t id)
{
    sim_node_t *n = &s->nodes[id];
    if (id == 0 || id > SIM_MAX_NODES || n->exists) {
        return RAFT_EINVAL;
    }
    n->id = id;
    n->store = raft_memstore_new(&s->boot);
    if (!n->store) {
        return RAFT_ENOMEM;
    }
    n->exists = true;
    return start_node(s, id);
}

sim_t *sim_new(int n_voters, const raft_config_t *tmpl, uint64_t seed)
{
    sim_t *s = calloc(1, sizeof(*s));
    if (!s) {
        return NULL;
    }
    s->tmpl = *tmpl;
    s->seed = seed;
    s->rng = seed;
    for (int i = 1; i <= n_voters; i++) {
        s->boot.voters[s->boot.n_voters++] = (uint64_t)i;
    }
    for (int i = 1; i <= n_voters; i++) {
        if (sim_add_node(s, (uint64_t)i) != 0) {
            sim_free(s);
            return NULL;
        }
    }
    return s;
}

void sim_free(sim_t *s)
{
    if (!s) {
        return;
    }
    for (int i = 1; i <= SIM_MAX_NODES; i++) {
        raft_free(s->nodes[i].raft);
        raft_memstore_free(s->nodes[i].store);
        free(s->nodes[i].cmds);
    }
    for (size_t i = 0; i < s->nq; i++) {
        free(s->q[i].buf);
    }
    for (size_t i = 0; i < s->idx_cap; i++) {
        free(s->idx[i].lm);
    }
    free(s->q);
    free(s->idx);
    free(s->leader_of);
    free(s->reads);
    free(s);
}

raft_node_t *sim_raft(sim_t *s, uint64_t id)
{
    return s->nodes[id].up ? s->nodes[id].raft : NULL;
}

raft_memstore_t *sim_store(sim_t *s, uint64_t id)
{
    return s->nodes[id].store;
}

bool sim_up(sim_t *s, uint64_t id)
{
    return id >= 1 && id <= SIM_MAX_NODES && s->nodes[id].up;
}

void sim_crash(sim_t *s, uint64_t id)
{
    sim_node_t *n = &s->nodes[id];
    if (!n->up) {
        return;
    }
    raft_free(n->raft);
    n->raft = NULL;
    n->up = false;
}

int sim_restart(sim_t *s, uint64_t id)
{
    if (!s->nodes[id].exists || s->nodes[id].up) {
        return RAFT_EINVAL;
    }
    return start_node(s, id);
}

void sim_crash_next_ready(sim_t *s, uint64_t id, int point)
{
    s->nodes[id].crash_at = point;
}

/* ---- network ---------------------------------------------------------------------- */

void sim_isolate(sim_t *s, uint64_t id)
{
    for (int i = 1; i <= SIM_MAX_NODES; i++) {
        sim_cut(s, id, (uint64_t)i);
    }
}

void sim_cut(sim_t *s, uint64_t a, uint64_t b)
{
    if (a != b) {
        s->cut[a][b] = s->cut[b][a] = true;
    }
}

void sim_heal(sim_t *s)
{
    memset(s->cut, 0, sizeof(s->cut));
}

void sim_set_faults(sim_t *s, int drop_pct, int dup_pct)
{
    s->drop_pct = drop_pct;
    s->dup_pct = dup_pct;
}

size_t sim_queue_len(const sim_t *s)
{
    return s->nq;
}

void sim_queue_peek(const sim_t *s, size_t k, uint8_t *type, uint64_t *from, uint64_t *to)
{
    *type = s->q[k].type;
    *from = s->q[k].from;
    *to = s->q[k].to;
}

static void enqueue(sim_t *s, const raft_msg_t *m)
{
    size_t len = raft_msg_encoded_size(m), n;
    uint8_t *buf = malloc(len);
    if (!buf) {
        abort();
    }
    must(s, raft_msg_encode(m, buf, len, &n), "encode");
    s->q = grow(s->q, &s->qcap, s->nq + 1, sizeof(*s->q));
    s->q[s->nq++] = (sim_msg_t){buf, len, m->from, m->to, m->type};
}

/* Like a transport, tells the sender whether a snapshot was delivered. */
static void snapshot_sent(sim_t *s, const sim_msg_t *m, bool ok)
{
    if (m->type == RAFT_MSG_SNAP && sim_up(s, m->from)) {
        must(s, raft_report_snapshot(s->nodes[m->from].raft, m->to, ok), "report snapshot");
    }
}

void sim_drop(sim_t *s, size_t k)
{
    snapshot_sent(s, &s->q[k], false);
    free(s->q[k].buf);
    memmove(&s->q[k], &s->q[k + 1], (s->nq - k - 1) * sizeof(*s->q));
    s->nq--;
}

static bool matches(const sim_msg_t *m, uint8_t type, uint64_t from, uint64_t to)
{
    return (!type || m->type == type) && (!from || m->from == from) && (!to || m->to == to);
}

size_t sim_drop_matching(sim_t *s, uint8_t type, uint64_t from, uint64_t to)
{
    size_t n = 0;
    for (size_t k = 0; k < s->nq;) {
        if (matches(&s->q[k], type, from, to)) {
            sim_drop(s, k);
            n++;
        } else {
            k++;
        }
    }
    return n;
}

size_t sim_count_matching(const sim_t *s, uint8_t type, uint64_t from, uint64_t to)
{
    size_t n = 0;
    for (size_t k = 0; k < s->nq; k++) {
        n += matches(&s->q[k], type, from, to);
    }
    return n;
}

static void check(sim_t *s);

void sim_queue_msg(sim_t *s, size_t k, raft_msg_t *m)
{
    must(s, raft_msg_decode(s->q[k].buf, s->q[k].len, m, s->ents, 4096, &s->snap), "decode");
}

void sim_deliver(sim_t *s, size_t k)
{
    sim_msg_t m = s->q[k];
    bool dup = s->dup_pct && (int)(sim_rand(s) % 100) < s->dup_pct;
    if (dup) {
        m.buf = malloc(m.len);
        if (!m.buf) {
            abort();
        }
        memcpy(m.buf, s->q[k].buf, m.len);
    } else {
        memmove(&s->q[k], &s->q[k + 1], (s->nq - k - 1) * sizeof(*s->q));
        s->nq--;
    }
    bool drop = s->drop_pct && (int)(sim_rand(s) % 100) < s->drop_pct;
    sim_node_t *to = &s->nodes[m.to];
    if (!drop && !s->cut[m.from][m.to] && m.to <= SIM_MAX_NODES && to->up) {
        raft_msg_t msg;
        must(s, raft_msg_decode(m.buf, m.len, &msg, s->ents, 4096, &s->snap), "decode");
        if (!s->failed) {
            int rc = raft_step(to->raft, &msg);
            /* A forwarded proposal may be refused; the proposer retries. */
            bool refused = rc == RAFT_EDROPPED || rc == RAFT_ETOO_LARGE ||
                           rc == RAFT_ECONF_PENDING || rc == RAFT_ECONF_INVALID;
            if (!refused) {
                must(s, rc, "raft_step");
            }
        }
        snapshot_sent(s, &m, true);
    } else {
        snapshot_sent(s, &m, false);
    }
    free(m.buf);
    check(s);
}

/* ---- ready processing ------------------------------------------------------------ */

/* Log matching (Raft paper §5.3): one command and one predecessor term per
 * (index, term), whichever node persists it. */
static void check_persisted(sim_t *s, sim_node_t *n, const raft_entry_t *e, uint64_t prev_term)
{
    idx_info_t *ii = info(s, e->index);
    uint64_t h = entry_hash(e);
    for (size_t i = 0; i < ii->n_lm; i++) {
        if (ii->lm[i].term == e->term) {
            if (ii->lm[i].hash != h || ii->lm[i].prev_term != prev_term) {
                fail(s, "log matching violated at index %llu term %llu (node %llu)", U(e->index),
                     U(e->term), U(n->id));
            }
            return;
        }
    }
    ii->lm = grow(ii->lm, &ii->cap_lm, ii->n_lm + 1, sizeof(*ii->lm));
    ii->lm[ii->n_lm++] = (lm_slot_t){e->term, h, prev_term};
}

static void install_snapshot(sim_t *s, sim_node_t *n, const raft_snapshot_t *snap)
{
    must(s, raft_memstore_apply_snapshot(n->store, snap), "apply snapshot");
    if (snap->len != 16) {
        fail(s, "snapshot %llu has %u bytes", U(snap->index), snap->len);
        return;
    }
    memcpy(&n->state, snap->data + 8, 8);
    n->applied = snap->index;
    n->n_cmds = 0;
    idx_info_t *ii = info(s, snap->index);
    if (ii->has_state && ii->state != n->state) {
        fail(s, "node %llu installed a snapshot at %llu with a different state", U(n->id),
             U(snap->index));
    }
}

static void persist(sim_t *s, sim_node_t *n, const raft_ready_t *rd)
{
    if (rd->snapshot) {
        install_snapshot(s, n, rd->snapshot);
    }
    if (rd->n_entries > 0) {
        raft_storage_t st = raft_memstore_storage(n->store);
        uint64_t prev = 0, pi = rd->entries[0].index - 1;
        if (pi > 0 && st.term(st.ud, pi, &prev) != 0) {
            fail(s, "node %llu: entries from %llu leave a gap", U(n->id), U(pi + 1));
        }
        for (size_t i = 0; i < rd->n_entries; i++) {
            check_persisted(s, n, &rd->entries[i], prev);
            prev = rd->entries[i].term;
        }
        must(s, raft_memstore_append(n->store, rd->entries, rd->n_entries), "append");
    }
    if (rd->hs_changed) {
        must(s, raft_memstore_set_hard_state(n->store, &rd->hs), "hard state");
    }
}

/* State machine safety (§5.4.3): every node applies the same entry at an
 * index, which is the entry the leaders committed there. */
static void apply(sim_t *s, sim_node_t *n, const raft_entry_t *e)
{
    if (e->index != n->applied + 1) {
        fail(s, "node %llu applied %llu after %llu", U(n->id), U(e->index), U(n->applied));
        return;
    }
    uint64_t h = entry_hash(e);
    idx_info_t *ii = info(s, e->index);
    if ((ii->term && ii->term != e->term) || (ii->has_hash && ii->hash != h)) {
        fail(s, "node %llu applied a different entry at %llu (term %llu)", U(n->id), U(e->index),
             U(e->term));
        return;
    }
    ii->term = e->term;
    ii->hash = h;
    ii->has_hash = true;
    n->state = fnv(fnv(n->state, &e->term, 8), &h, 8);
    if (ii->has_state && ii->state != n->state) {
        fail(s, "node %llu state differs at %llu", U(n->id), U(e->index));
    }
    ii->state = n->state;
    ii->has_state = true;
    n->applied = e->index;
    if (e->type == RAFT_ENTRY_NORMAL && e->len > 0) {
        n->cmds = grow(n->cmds, &n->cap_cmds, n->n_cmds + 1, sizeof(*n->cmds));
        n->cmds[n->n_cmds++] = h;
    }
}

static void read_answered(sim_t *s, const raft_read_state_t *rs)
{
    for (size_t i = 0; i < s->n_reads; i++) {
        sim_read_t *r = &s->reads[i];
        if (r->ctx != rs->context) {
            continue;
        }
        if (rs->index < r->required) {
            fail(s, "read %llu answered at %llu, but %llu was committed before it began", U(r->ctx),
                 U(rs->index), U(r->required));
        }
        r->done = true;
        r->index = rs->index;
    }
}

void sim_process(sim_t *s, uint64_t id)
{
    sim_node_t *n = &s->nodes[id];
    if (s->failed || !n->up || !raft_has_ready(n->raft)) {
        return;
    }
    raft_ready_t rd;
    must(s, raft_ready(n->raft, &rd), "ready");
    if (s->failed) {
        return;
    }
    for (size_t i = 0; i < rd.n_msgs; i++) {
        enqueue(s, &rd.msgs[i]);
    }
    int crash = n->crash_at;
    n->crash_at = SIM_CRASH_NONE;
    if (crash == SIM_CRASH_BEFORE_PERSIST) {
        sim_crash(s, id);
        check(s);
        return;
    }
    persist(s, n, &rd);
    if (crash == SIM_CRASH_AFTER_PERSIST) {
        sim_crash(s, id);
        check(s);
        return;
    }
    for (size_t i = 0; i < rd.n_persist_msgs; i++) {
        enqueue(s, &rd.persist_msgs[i]);
    }
    for (size_t i = 0; i < rd.n_committed && !s->failed; i++) {
        apply(s, n, &rd.committed[i]);
    }
    for (size_t i = 0; i < rd.n_read_states; i++) {
        read_answered(s, &rd.read_states[i]);
    }
    must(s, raft_advance(n->raft, &rd), "advance");
    check(s);
}

void sim_process_all(sim_t *s)
{
    for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
        sim_process(s, id);
    }
}

static bool any_ready(sim_t *s)
{
    for (int id = 1; id <= SIM_MAX_NODES; id++) {
        if (s->nodes[id].up && raft_has_ready(s->nodes[id].raft)) {
            return true;
        }
    }
    return false;
}

void sim_settle(sim_t *s)
{
    for (int round = 0; round < 100000 && !s->failed; round++) {
        sim_process_all(s);
        if (s->nq == 0 && !any_ready(s)) {
            return;
        }
        for (size_t i = s->nq; i > 0 && s->nq > 0 && !s->failed; i--) {
            sim_deliver(s, 0);
        }
    }
}

void sim_tick(sim_t *s, uint64_t id)
{
    if (sim_up(s, id)) {
        must(s, raft_tick(s->nodes[id].raft), "tick");
        check(s);
    }
}

void sim_tick_all(sim_t *s, int k)
{
    for (int i = 0; i < k && !s->failed; i++) {
        for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
            sim_tick(s, id);
        }
        sim_settle(s);
    }
}

uint64_t sim_elect(sim_t *s, uint64_t id)
{
    must(s, raft_campaign(s->nodes[id].raft), "campaign");
    sim_settle(s);
    return sim_up(s, id) ? raft_leader(s->nodes[id].raft) : 0;
}

uint64_t sim_leader(sim_t *s)
{
    uint64_t best = 0, term = 0;
    for (uint64_t id = 1; id <= SIM_MAX_NODES; id++) {
        raft_node_t *r = sim_raft(s, id);
        if (r && raft_role(r) == RAFT_LEADER && raft_term(r) >= term) {
            best = id;
            term = raft_term(r);
        }
    }
    return best;
}

int sim_propose(sim_t *s, uint64_t id, const char *cmd)
{
    if (!sim_up(s, id)) {
        return RAFT_EINVAL;
    }
    int rc = raft_propose(s->nodes[id].raft, cmd, strlen(cmd));
    check(s);
    return rc;
}

int sim_conf_change(sim_t *s, uint64_t id, uint8_t type, uint64_t node)
{
    raft_conf_change_t cc = {.transition = RAFT_CC_AUTO, .n_changes = 1};
    cc.changes[0].type = type;
    cc.changes[0].node = node;
    if (!sim_up(s, id)) {
        return RAFT_EINVAL;
    }
    int rc = raft_propose_conf_change(s->nodes[id].raft, &cc);
    check(s);
    return rc;
}

int sim_read(sim_t *s, uint64_t id, uint64_t *ctx)
{
    if (!sim_up(s, id)) {
        return RAFT_EINVAL;
    }
    *ctx = ++s->next_ctx;
    s->reads = grow(s->reads, &s->reads_cap, s->n_reads + 1, sizeof(*s->reads));
    s->reads[s->n_reads++] = (sim_read_t){.ctx = *ctx, .required = s->commit};
    int rc = raft_read_index(s->nodes[id].raft, *ctx);
    check(s);
    return rc;
}

bool sim_read_done(const sim_t *s, uint64_t ctx, uint64_t *index)
{
    for (size_t i = 0; i < s->n_reads; i++) {
        if (s->reads[i].ctx == ctx && s->reads[i].done) {
            *index = s->reads[i].index;
            return true;
        }
    }
    return false;
}

int sim_compact(sim_t *s, uint64_t id, uint64_t keep)
{
    sim_node_t *n = &s->nodes[id];
    if (!n->up) {
        return RAFT_EINVAL;
    }
    raft_snapshot_t cur;
    raft_storage_t st = raft_memstore_storage(n->store);
    st.snapshot(st.ud, &cur);
    if (n->applied <= cur.index) {
        return 0;
    }
    raft_status_t status;
    raft_status(n->raft, &status);
    uint8_t data[16];
    memcpy(data, &n->applied, 8);
    memcpy(data + 8, &n->state, 8);
    int rc = raft_memstore_create_snapshot(n->store, n->applied, &status.conf, data, 16);
    if (rc == 0 && n->applied > keep) {
        rc = raft_memstore_compact(n->store, n->applied - keep);
    }
    return rc;
}

uint64_t sim_applied(const sim_t *s, uint64_t id)
{
    return s->nodes[id].applied;
}

uint64_t sim_commit(sim_t *s, uint64_t id)
{
    raft_status_t st;
    if (!sim_up(s, id)) {
        return 0;
    }
    raft_status(s->nodes[id].raft, &st);
    return st.commit;
}

uint64_t sim_state(const sim_t *s, uint64_t id)
{
    return s->nodes[id].state;
}

int sim_applied_count(const sim_t *s, uint64_t id, const char *cmd)
{
    raft_entry_t e = {.type = RAFT_ENTRY_NORMAL, .len = (uint32_t)strlen(cmd)};
    e.data = (const uint8_t *)cmd;
    uint64_t h = entry_hash(&e);
    int c = 0;
    for (size_t i = 0; i < s->nodes[id].n_cmds; i++) {
        c += s->nodes[id].cmds[i] == h;
    }
    return c;
}

bool sim_ok(const sim_t *s)
{
    return !s->failed;
}

const char *sim_error(const sim_t *s)
{
    return s->failed ? s->err : "ok";
}

/* ---- the checker ------------------------------------------------------------------ */

/* Leader completeness (§5.4): a leader of term T holds every entry committed
 * by a leader of an earlier term (compacted entries live in its snapshot). */
static void check_completeness(sim_t *s, sim_node_t *n, uint64_t term)
{
    raft__log_t *l = &n->raft->log;
    for (uint64_t i = raft__log_first(l); i <= s->commit; i++) {
        idx_info_t *ii = info(s, i);
        if (ii->commit_term && ii->commit_term < term && raft__log_term_or0(l, i) != ii->term) {
            fail(s, "leader %llu of term %llu lacks committed entry %llu", U(n->id), U(term), U(i));
            return;
        }
    }
}

/* Records what a leader committed; a different term at an index already
 * committed means a committed entry was lost. */
static void track_commit(sim_t *s, sim_node_t *n, uint64_t term)
{
    raft__log_t *l = &n->raft->log;
    for (uint64_t i = s->commit + 1; i <= l->committed; i++) {
        idx_info_t *ii = info(s, i);
        uint64_t t = raft__log_term_or0(l, i);
        if (ii->term && ii->term != t) {
            fail(s, "leader %llu committed term %llu at %llu over a committed entry", U(n->id),
                 U(t), U(i));
            return;
        }
        ii->term = t;
        ii->commit_term = term;
    }
    if (l->committed > s->commit) {
        s->commit = l->committed;
    }
}

static void check(sim_t *s)
{
    for (uint64_t id = 1; id <= SIM_MAX_NODES && !s->failed; id++) {
        sim_node_t *n = &s->nodes[id];
        if (!n->up || raft_role(n->raft) != RAFT_LEADER) {
            continue;
        }
        uint64_t term = raft_term(n->raft);
        s->leader_of = grow(s->leader_of, &s->leader_cap, term + 1, sizeof(*s->leader_of));
        if (s->leader_of[term] && s->leader_of[term] != id) {
            fail(s, "two leaders in term %llu: %llu and %llu", U(term), U(s->leader_of[term]),
                 U(id));
            return;
        }
        s->leader_of[term] = id;
        if (n->checked_leader_term != term) {
            n->checked_leader_term = term;
            check_completeness(s, n, term);
        }
        track_commit(s, n, term);
    }
}

/* ---- a lone node ------------------------------------------------------------------- */

raft_node_t *sim_solo(const raft_config_t *tmpl, uint64_t id, int n_voters, raft_memstore_t **ms)
{
    raft_conf_state_t cs = {0};
    for (int i = 1; i <= n_voters; i++) {
        cs.voters[cs.n_voters++] = (uint64_t)i;
    }
    *ms = raft_memstore_new(&cs);
    if (!*ms) {
        return NULL;
    }
    raft_config_t cfg = *tmpl;
    cfg.id = id;
    cfg.storage = raft_memstore_storage(*ms);
    raft_node_t *r;
    if (raft_new(&cfg, &r, NULL, 0) != 0) {
        raft_memstore_free(*ms);
        return NULL;
    }
    return r;
}

void sim_solo_free(raft_node_t *r, raft_memstore_t *ms)
{
    raft_free(r);
    raft_memstore_free(ms);
}

void sim_solo_persist(raft_memstore_t *ms, const raft_ready_t *rd)
{
    if (rd->snapshot) {
        raft_memstore_apply_snapshot(ms, rd->snapshot);
    }
    raft_memstore_append(ms, rd->entries, rd->n_entries);
    if (rd->hs_changed) {
        raft_memstore_set_hard_state(ms, &rd->hs);
    }
}

const raft_msg_t *sim_find_msg(const raft_ready_t *rd, uint8_t type, bool persist)
{
    const raft_msg_t *m = persist ? rd->persist_msgs : rd->msgs;
    size_t n = persist ? rd->n_persist_msgs : rd->n_msgs;
    for (size_t i = 0; i < n; i++) {
        if (m[i].type == type) {
            return &m[i];
        }
    }
    return NULL;
}

size_t sim_solo_cycle(raft_node_t *r, raft_memstore_t *ms)
{
    raft_ready_t rd;
    if (!raft_has_ready(r) || raft_ready(r, &rd) != 0) {
        return 0;
    }
    sim_solo_persist(ms, &rd);
    size_t n = rd.n_msgs + rd.n_persist_msgs;
    raft_advance(r, &rd);
    return n;
}
