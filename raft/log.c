/*
 * log.c - the Raft log: durable entries read through raft_storage_t, then
 * entries (and possibly a snapshot) not yet reported durable.
 *
 * Unstable entries own copies of their data in an arena that is reset once
 * they have all been reported durable (raft_advance), which is how proposals
 * avoid one allocation each. Indices below first-1 are compacted; the entry
 * at first-1 is known by its term only (the snapshot's last entry).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

int raft__log_init(raft__log_t *l, const raft_storage_t *st)
{
    memset(l, 0, sizeof(*l));
    l->storage = *st;
    uint64_t first = st->first_index(st->ud);
    uint64_t last = st->last_index(st->ud);
    if (first == 0 || last + 1 < first) {
        return RAFT_ESTORAGE;
    }
    l->offset = last + 1;
    l->committed = first - 1;
    l->applied = first - 1;
    return 0;
}

void raft__log_close(raft__log_t *l)
{
    free(l->snap);
    free(l->ents);
    free(l->scratch);
    raft__arena_free(&l->arena);
}

uint64_t raft__log_first(const raft__log_t *l)
{
    if (l->snap) {
        return l->snap->index + 1;
    }
    return l->storage.first_index(l->storage.ud);
}

uint64_t raft__log_last(const raft__log_t *l)
{
    if (l->n > 0) {
        return l->offset + l->n - 1;
    }
    if (l->snap) {
        return l->snap->index;
    }
    return l->storage.last_index(l->storage.ud);
}

/* Last index the caller has reported durable: what the leader may count for
 * itself toward commit (etcd's async storage contract). */
uint64_t raft__log_last_stable(const raft__log_t *l)
{
    uint64_t last = l->storage.last_index(l->storage.ud);
    return l->offset - 1 < last ? l->offset - 1 : last;
}

/* Term of entry i: RAFT_ECOMPACTED below first-1; 0 beyond the last index. */
int raft__log_term(raft__log_t *l, uint64_t i, uint64_t *t)
{
    uint64_t dummy = raft__log_first(l) - 1;
    *t = 0;
    if (i < dummy) {
        return RAFT_ECOMPACTED;
    }
    if (i > raft__log_last(l)) {
        return 0;
    }
    if (l->snap && i == l->snap->index) {
        *t = l->snap->term;
        return 0;
    }
    if (l->n > 0 && i >= l->offset) {
        *t = l->ents[i - l->offset].term;
        return 0;
    }
    return l->storage.term(l->storage.ud, i, t);
}

uint64_t raft__log_term_or0(raft__log_t *l, uint64_t i)
{
    uint64_t t;
    return raft__log_term(l, i, &t) == 0 ? t : 0;
}

bool raft__log_match_term(raft__log_t *l, uint64_t i, uint64_t t)
{
    uint64_t got;
    return raft__log_term(l, i, &got) == 0 && got == t;
}

/* Election restriction, Raft paper §5.4.1: grant a vote only to a candidate
 * whose log is at least as up to date as ours. */
bool raft__log_up_to_date(raft__log_t *l, uint64_t last_index, uint64_t last_term)
{
    uint64_t li = raft__log_last(l);
    uint64_t lt = raft__log_term_or0(l, li);
    return last_term > lt || (last_term == lt && last_index >= li);
}

/* Appends copies of ents to the unstable log, discarding any suffix from
 * ents[0].index. The data is copied into the log's arena. */
int raft__log_append(raft__log_t *l, const raft_entry_t *ents, size_t n)
{
    if (n == 0) {
        return 0;
    }
    uint64_t fi = ents[0].index;
    assert(fi > l->committed);
    if (fi <= l->offset) {
        /* The storage suffix from fi is replaced too: the ready says so. */
        l->offset = fi;
        l->n = 0;
    } else if (fi < l->offset + l->n) {
        l->n = fi - l->offset;
    } else {
        assert(fi == l->offset + l->n);
    }
    if (l->n == 0) {
        raft__arena_reset(&l->arena);
    }
    int rc = raft__grow((void **)&l->ents, &l->cap, l->n + n, sizeof(*l->ents));
    if (rc != 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        raft_entry_t *e = &l->ents[l->n];
        *e = ents[i];
        if (e->len > 0) {
            uint8_t *d = raft__arena_alloc(&l->arena, e->len);
            if (!d) {
                return RAFT_ENOMEM;
            }
            memcpy(d, ents[i].data, e->len);
            e->data = d;
        } else {
            e->data = NULL;
        }
        l->n++;
    }
    return 0;
}

/* Index of the first entry of ents whose term differs from ours, or 0. */
static uint64_t find_conflict(raft__log_t *l, const raft_entry_t *ents, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!raft__log_match_term(l, ents[i].index, ents[i].term)) {
            return ents[i].index;
        }
    }
    return 0;
}

/* Consistency check and append of an APP (Raft paper §5.3): *ok is false
 * when our log has no entry (m->index, m->log_term); otherwise conflicting
 * entries are replaced and the commit index follows the leader's. */
int raft__log_maybe_append(raft__log_t *l, const raft_msg_t *m, uint64_t *last_new, bool *ok)
{
    *ok = false;
    if (!raft__log_match_term(l, m->index, m->log_term)) {
        return 0;
    }
    *last_new = m->index + m->n_entries;
    uint64_t ci = find_conflict(l, m->entries, m->n_entries);
    if (ci != 0) {
        /* A committed entry never conflicts (Log Matching, §5.3). */
        assert(ci > l->committed);
        size_t skip = ci - (m->index + 1);
        int rc = raft__log_append(l, m->entries + skip, m->n_entries - skip);
        if (rc != 0) {
            return rc;
        }
    }
    raft__log_commit_to(l, m->commit < *last_new ? m->commit : *last_new);
    *ok = true;
    return 0;
}

/* Fast backtracking (dissertation §5.3 "optimization"): the largest index
 * <= index whose term is <= term, so the leader can skip a whole term of
 * conflicting entries per round trip. */
void raft__log_find_conflict_by_term(raft__log_t *l, uint64_t index, uint64_t term,
                                     uint64_t *out_index, uint64_t *out_term)
{
    uint64_t t = 0;
    if (index > raft__log_last(l)) {
        *out_index = index;
        *out_term = 0;
        return;
    }
    for (; index > 0; index--) {
        if (raft__log_term(l, index, &t) != 0) {
            t = 0;
            break;
        }
        if (t <= term) {
            break;
        }
    }
    *out_index = index;
    *out_term = t;
}

/* Entries [lo, hi) limited to max_size bytes of data (at least one entry).
 * *out points into a log-owned buffer whose data pointers are borrowed from
 * the storage or the unstable log: copy before the log or storage changes. */
int raft__log_slice(raft__log_t *l, uint64_t lo, uint64_t hi, uint64_t max_size,
                    const raft_entry_t **out, size_t *n)
{
    *n = 0;
    *out = l->scratch;
    if (lo >= hi) {
        return 0;
    }
    if (lo < raft__log_first(l)) {
        return RAFT_ECOMPACTED;
    }
    assert(hi <= raft__log_last(l) + 1);
    int rc = raft__grow((void **)&l->scratch, &l->scratch_cap, hi - lo, sizeof(*l->scratch));
    if (rc != 0) {
        return rc;
    }
    *out = l->scratch;
    uint64_t size = 0;
    if (lo < l->offset) {
        uint64_t shi = hi < l->offset ? hi : l->offset;
        rc = l->storage.entries(l->storage.ud, lo, shi, max_size, l->scratch, n);
        if (rc != 0) {
            return rc;
        }
        if (*n < shi - lo) {
            return 0; /* size limit reached inside the storage */
        }
        for (size_t i = 0; i < *n; i++) {
            size += l->scratch[i].len;
        }
    }
    for (uint64_t i = lo > l->offset ? lo : l->offset; i < hi; i++) {
        const raft_entry_t *e = &l->ents[i - l->offset];
        if (*n > 0 && size + e->len > max_size) {
            break;
        }
        size += e->len;
        l->scratch[(*n)++] = *e;
    }
    return 0;
}

void raft__log_commit_to(raft__log_t *l, uint64_t c)
{
    if (c > l->committed) {
        assert(c <= raft__log_last(l));
        l->committed = c;
    }
}

/* Commits index only if its entry is from `term`, the leader's current term:
 * Raft paper §5.4.2 (Figure 8) forbids counting replicas of older terms. */
bool raft__log_maybe_commit(raft__log_t *l, uint64_t index, uint64_t term)
{
    if (index > l->committed && raft__log_term_or0(l, index) == term) {
        raft__log_commit_to(l, index);
        return true;
    }
    return false;
}

/* Entries up to (i, t) are durable. Ignored if the unstable log changed
 * since (different term at i). */
void raft__log_stable_to(raft__log_t *l, uint64_t i, uint64_t t)
{
    if (l->n == 0 || i < l->offset || i >= l->offset + l->n || l->ents[i - l->offset].term != t) {
        return;
    }
    size_t drop = i - l->offset + 1;
    memmove(l->ents, l->ents + drop, (l->n - drop) * sizeof(*l->ents));
    l->n -= drop;
    l->offset = i + 1;
    if (l->n == 0) {
        raft__arena_reset(&l->arena);
    }
}

void raft__log_stable_snap_to(raft__log_t *l, uint64_t i)
{
    if (l->snap && l->snap->index == i) {
        free(l->snap);
        l->snap = NULL;
    }
}

/* Replaces the log by snapshot s (copied). */
int raft__log_restore(raft__log_t *l, const raft_snapshot_t *s)
{
    raft_snapshot_t *c = malloc(sizeof(*c) + s->len);
    if (!c) {
        return RAFT_ENOMEM;
    }
    *c = *s;
    if (s->len > 0) {
        memcpy(c + 1, s->data, s->len);
    }
    c->data = (const uint8_t *)(c + 1);
    free(l->snap);
    l->snap = c;
    l->committed = s->index;
    l->offset = s->index + 1;
    l->n = 0;
    raft__arena_reset(&l->arena);
    return 0;
}

/* The newest snapshot; borrowed from the log or the storage. */
int raft__log_snapshot(raft__log_t *l, raft_snapshot_t *s)
{
    if (l->snap) {
        *s = *l->snap;
        return 0;
    }
    return l->storage.snapshot(l->storage.ud, s);
}

bool raft__log_has_next_committed(const raft__log_t *l)
{
    return l->snap == NULL && l->committed > l->applied;
}
