/*
 * codec.c - the binary encoding of messages, entries, hard state,
 * configurations and configuration changes (byte tables in docs/raft.md).
 *
 * Fixed-width little-endian fields: simple to audit and to decode without
 * reading out of bounds. Every read goes through `rd_*`, which checks the
 * remaining length first; decoders reject unknown versions, types, flags
 * and counts, and trailing bytes.
 */
#include <string.h>

#include "raft/raft_int.h"

#define MSG_VERSION      1
#define MSG_HEADER_SIZE  72
#define ENTRY_HEADER     21 /* term 8, index 8, type 1, len 4 */
#define FLAG_REJECT      0x01
#define FLAG_SNAPSHOT    0x02
#define HARD_STATE_SIZE  24
#define CONF_HEADER_SIZE 5

typedef struct {
    uint8_t *p, *end;
} wr_t;

typedef struct {
    const uint8_t *p, *end;
    int err;
} rd_t;

static void wr_u8(wr_t *w, uint8_t v)
{
    *w->p++ = v;
}

static void wr_u32(wr_t *w, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        *w->p++ = (uint8_t)(v >> (8 * i));
    }
}

static void wr_u64(wr_t *w, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        *w->p++ = (uint8_t)(v >> (8 * i));
    }
}

static void wr_bytes(wr_t *w, const void *d, size_t n)
{
    if (n > 0) {
        memcpy(w->p, d, n);
        w->p += n;
    }
}

/* Returns false (and sets RAFT_ETRUNCATED) if n bytes are not available. */
static bool rd_need(rd_t *r, size_t n)
{
    if (r->err == 0 && (size_t)(r->end - r->p) < n) {
        r->err = RAFT_ETRUNCATED;
    }
    return r->err == 0;
}

static uint8_t rd_u8(rd_t *r)
{
    return rd_need(r, 1) ? *r->p++ : 0;
}

static uint32_t rd_u32(rd_t *r)
{
    uint32_t v = 0;
    if (rd_need(r, 4)) {
        for (int i = 0; i < 4; i++) {
            v |= (uint32_t)*r->p++ << (8 * i);
        }
    }
    return v;
}

static uint64_t rd_u64(rd_t *r)
{
    uint64_t v = 0;
    if (rd_need(r, 8)) {
        for (int i = 0; i < 8; i++) {
            v |= (uint64_t)*r->p++ << (8 * i);
        }
    }
    return v;
}

static const uint8_t *rd_bytes(rd_t *r, size_t n)
{
    const uint8_t *d = r->p;
    if (!rd_need(r, n)) {
        return NULL;
    }
    r->p += n;
    return d;
}

static void corrupt(rd_t *r)
{
    if (r->err == 0) {
        r->err = RAFT_ECORRUPT;
    }
}

static size_t conf_size(const raft_conf_state_t *cs)
{
    return CONF_HEADER_SIZE + 8 * ((size_t)cs->n_voters + cs->n_voters_outgoing + cs->n_learners +
                                   cs->n_learners_next);
}

static void wr_ids(wr_t *w, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wr_u64(w, ids[i]);
    }
}

static void wr_conf(wr_t *w, const raft_conf_state_t *cs)
{
    wr_u8(w, cs->n_voters);
    wr_u8(w, cs->n_voters_outgoing);
    wr_u8(w, cs->n_learners);
    wr_u8(w, cs->n_learners_next);
    wr_u8(w, cs->auto_leave);
    wr_ids(w, cs->voters, cs->n_voters);
    wr_ids(w, cs->voters_outgoing, cs->n_voters_outgoing);
    wr_ids(w, cs->learners, cs->n_learners);
    wr_ids(w, cs->learners_next, cs->n_learners_next);
}

static uint8_t rd_count(rd_t *r)
{
    uint8_t n = rd_u8(r);
    if (n > RAFT_MAX_MEMBERS) {
        corrupt(r);
        return 0;
    }
    return n;
}

static void rd_ids(rd_t *r, uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ids[i] = rd_u64(r);
    }
}

static void rd_conf(rd_t *r, raft_conf_state_t *cs)
{
    memset(cs, 0, sizeof(*cs));
    cs->n_voters = rd_count(r);
    cs->n_voters_outgoing = rd_count(r);
    cs->n_learners = rd_count(r);
    cs->n_learners_next = rd_count(r);
    uint8_t al = rd_u8(r);
    if (al > 1) {
        corrupt(r);
    }
    cs->auto_leave = al == 1;
    rd_ids(r, cs->voters, cs->n_voters);
    rd_ids(r, cs->voters_outgoing, cs->n_voters_outgoing);
    rd_ids(r, cs->learners, cs->n_learners);
    rd_ids(r, cs->learners_next, cs->n_learners_next);
}

static void wr_entry(wr_t *w, const raft_entry_t *e)
{
    wr_u64(w, e->term);
    wr_u64(w, e->index);
    wr_u8(w, e->type);
    wr_u32(w, e->len);
    wr_bytes(w, e->data, e->len);
}

static void rd_entry(rd_t *r, raft_entry_t *e)
{
    e->term = rd_u64(r);
    e->index = rd_u64(r);
    e->type = rd_u8(r);
    e->len = rd_u32(r);
    e->data = rd_bytes(r, e->len);
    if (e->type > RAFT_ENTRY_CONF_CHANGE) {
        corrupt(r);
    }
    if (e->len == 0) {
        e->data = NULL;
    }
}

/* Finishes a decode: the error, or RAFT_ECORRUPT for trailing bytes. */
static int rd_done(rd_t *r)
{
    if (r->err == 0 && r->p != r->end) {
        r->err = RAFT_ECORRUPT;
    }
    return r->err;
}

static int need_space(size_t need, size_t cap, size_t *n)
{
    *n = need;
    return need > cap ? RAFT_ENOSPC : 0;
}

size_t raft_msg_encoded_size(const raft_msg_t *m)
{
    size_t n = MSG_HEADER_SIZE;
    for (size_t i = 0; i < m->n_entries; i++) {
        n += ENTRY_HEADER + m->entries[i].len;
    }
    if (m->snapshot) {
        n += 16 + conf_size(&m->snapshot->conf) + 4 + m->snapshot->len;
    }
    return n;
}

int raft_msg_encode(const raft_msg_t *m, uint8_t *buf, size_t cap, size_t *n)
{
    int rc = need_space(raft_msg_encoded_size(m), cap, n);
    if (rc != 0 || m->n_entries > UINT32_MAX) {
        return rc ? rc : RAFT_EINVAL;
    }
    wr_t w = {buf, buf + cap};
    wr_u8(&w, MSG_VERSION);
    wr_u8(&w, m->type);
    wr_u8(&w, (m->reject ? FLAG_REJECT : 0) | (m->snapshot ? FLAG_SNAPSHOT : 0));
    wr_u8(&w, 0);
    wr_u32(&w, (uint32_t)m->n_entries);
    uint64_t f[] = {m->from,  m->to,     m->term,        m->log_term,
                    m->index, m->commit, m->reject_hint, m->context};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        wr_u64(&w, f[i]);
    }
    for (size_t i = 0; i < m->n_entries; i++) {
        wr_entry(&w, &m->entries[i]);
    }
    if (m->snapshot) {
        wr_u64(&w, m->snapshot->index);
        wr_u64(&w, m->snapshot->term);
        wr_conf(&w, &m->snapshot->conf);
        wr_u32(&w, m->snapshot->len);
        wr_bytes(&w, m->snapshot->data, m->snapshot->len);
    }
    return 0;
}

static void rd_msg_header(rd_t *r, raft_msg_t *m, uint8_t *flags)
{
    memset(m, 0, sizeof(*m));
    uint8_t version = rd_u8(r);
    m->type = rd_u8(r);
    *flags = rd_u8(r);
    uint8_t reserved = rd_u8(r);
    m->n_entries = rd_u32(r);
    uint64_t *f[] = {&m->from,  &m->to,     &m->term,        &m->log_term,
                     &m->index, &m->commit, &m->reject_hint, &m->context};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        *f[i] = rd_u64(r);
    }
    m->reject = *flags & FLAG_REJECT;
    bool snap = *flags & FLAG_SNAPSHOT;
    if (version != MSG_VERSION || m->type == 0 || m->type >= RAFT__MSG_TYPE_END || reserved ||
        (*flags & ~(FLAG_REJECT | FLAG_SNAPSHOT)) || snap != (m->type == RAFT_MSG_SNAP)) {
        corrupt(r);
    }
}

/* Entries point into buf; see raft.h for the scratch arguments. */
int raft_msg_decode(const uint8_t *buf, size_t len, raft_msg_t *m, raft_entry_t *ents,
                    size_t ents_cap, raft_snapshot_t *snap)
{
    rd_t r = {buf, buf + len, 0};
    uint8_t flags;
    rd_msg_header(&r, m, &flags);
    if (r.err != 0) {
        return r.err;
    }
    /* Each entry takes at least ENTRY_HEADER bytes: a count larger than the
     * input allows is truncation, not a reason to ask for more scratch. */
    if (m->n_entries > (size_t)(r.end - r.p) / ENTRY_HEADER) {
        return RAFT_ETRUNCATED;
    }
    if (m->n_entries > ents_cap) {
        return RAFT_ENOSPC;
    }
    for (size_t i = 0; i < m->n_entries; i++) {
        rd_entry(&r, &ents[i]);
    }
    m->entries = m->n_entries ? ents : NULL;
    if (flags & FLAG_SNAPSHOT) {
        snap->index = rd_u64(&r);
        snap->term = rd_u64(&r);
        rd_conf(&r, &snap->conf);
        snap->len = rd_u32(&r);
        snap->data = rd_bytes(&r, snap->len);
        m->snapshot = snap;
    }
    return rd_done(&r);
}

int raft_entry_encode(const raft_entry_t *e, uint8_t *buf, size_t cap, size_t *n)
{
    int rc = need_space(ENTRY_HEADER + (size_t)e->len, cap, n);
    if (rc == 0) {
        wr_t w = {buf, buf + cap};
        wr_entry(&w, e);
    }
    return rc;
}

/* Decodes one entry from the front of buf; *consumed says how much it took
 * (the rest may hold further entries). */
int raft_entry_decode(const uint8_t *buf, size_t len, raft_entry_t *e, size_t *consumed)
{
    rd_t r = {buf, buf + len, 0};
    rd_entry(&r, e);
    *consumed = (size_t)(r.p - buf);
    return r.err;
}

int raft_hard_state_encode(const raft_hard_state_t *hs, uint8_t *buf, size_t cap, size_t *n)
{
    int rc = need_space(HARD_STATE_SIZE, cap, n);
    if (rc == 0) {
        wr_t w = {buf, buf + cap};
        wr_u64(&w, hs->term);
        wr_u64(&w, hs->vote);
        wr_u64(&w, hs->commit);
    }
    return rc;
}

int raft_hard_state_decode(const uint8_t *buf, size_t len, raft_hard_state_t *hs)
{
    rd_t r = {buf, buf + len, 0};
    hs->term = rd_u64(&r);
    hs->vote = rd_u64(&r);
    hs->commit = rd_u64(&r);
    return rd_done(&r);
}

int raft_conf_state_encode(const raft_conf_state_t *cs, uint8_t *buf, size_t cap, size_t *n)
{
    int rc = need_space(conf_size(cs), cap, n);
    if (rc == 0) {
        wr_t w = {buf, buf + cap};
        wr_conf(&w, cs);
    }
    return rc;
}

int raft_conf_state_decode(const uint8_t *buf, size_t len, raft_conf_state_t *cs, size_t *consumed)
{
    rd_t r = {buf, buf + len, 0};
    rd_conf(&r, cs);
    *consumed = (size_t)(r.p - buf);
    return r.err;
}

int raft_conf_change_encode(const raft_conf_change_t *cc, uint8_t *buf, size_t cap, size_t *n)
{
    if (cc->n_changes > RAFT_MAX_MEMBERS) {
        return RAFT_EINVAL;
    }
    int rc = need_space(2 + 9 * (size_t)cc->n_changes, cap, n);
    if (rc == 0) {
        wr_t w = {buf, buf + cap};
        wr_u8(&w, cc->transition);
        wr_u8(&w, cc->n_changes);
        for (size_t i = 0; i < cc->n_changes; i++) {
            wr_u8(&w, cc->changes[i].type);
            wr_u64(&w, cc->changes[i].node);
        }
    }
    return rc;
}

int raft_conf_change_decode(const uint8_t *buf, size_t len, raft_conf_change_t *cc)
{
    rd_t r = {buf, buf + len, 0};
    memset(cc, 0, sizeof(*cc));
    cc->transition = rd_u8(&r);
    cc->n_changes = rd_count(&r);
    if (cc->transition > RAFT_CC_JOINT_EXPLICIT) {
        corrupt(&r);
    }
    for (size_t i = 0; i < cc->n_changes && r.err == 0; i++) {
        cc->changes[i].type = rd_u8(&r);
        cc->changes[i].node = rd_u64(&r);
        if (cc->changes[i].type > RAFT_CC_REMOVE) {
            corrupt(&r);
        }
    }
    return rd_done(&r);
}
