/*
 * memstore.c - raft_storage_t kept in memory (etcd-raft's MemoryStorage).
 *
 * ents[0] is a dummy standing for the compaction point: its index and term
 * are those of the last compacted entry (the snapshot's last entry), so
 * term(first-1) is always answerable. Entry data lives in shared chunks of
 * at least CHUNK_SIZE bytes; a chunk is freed when no live entry uses it
 * and it is not the one being filled, so appends do not allocate per entry.
 */
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

#define CHUNK_SIZE (256 * 1024)

typedef struct ms_chunk {
    struct ms_chunk *next;
    size_t used, cap, live;
    unsigned char mem[];
} ms_chunk_t;

typedef struct {
    raft_entry_t e;
    ms_chunk_t *chunk; /* holder of e.data, or NULL */
} ms_ent_t;

struct raft_memstore {
    raft_hard_state_t hs;
    raft_snapshot_t snap; /* data malloc'd, owned */
    ms_ent_t *ents;
    size_t n, cap;
    ms_chunk_t *chunks; /* newest first; chunks->mem is being filled */
};

raft_memstore_t *raft_memstore_new(const raft_conf_state_t *cs)
{
    raft_memstore_t *ms = calloc(1, sizeof(*ms));
    if (!ms) {
        return NULL;
    }
    if (raft__grow((void **)&ms->ents, &ms->cap, 1, sizeof(*ms->ents)) != 0) {
        free(ms);
        return NULL;
    }
    memset(&ms->ents[0], 0, sizeof(ms->ents[0]));
    ms->n = 1;
    ms->snap.conf = *cs;
    return ms;
}

static void release(raft_memstore_t *ms, ms_ent_t *e)
{
    ms_chunk_t *c = e->chunk;
    e->chunk = NULL;
    if (!c || --c->live > 0 || c == ms->chunks) {
        return;
    }
    for (ms_chunk_t **p = &ms->chunks; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            free(c);
            return;
        }
    }
}

void raft_memstore_free(raft_memstore_t *ms)
{
    if (!ms) {
        return;
    }
    ms_chunk_t *c = ms->chunks;
    while (c) {
        ms_chunk_t *next = c->next;
        free(c);
        c = next;
    }
    free((void *)ms->snap.data);
    free(ms->ents);
    free(ms);
}

uint64_t raft_memstore_first_index(const raft_memstore_t *ms)
{
    return ms->ents[0].e.index + 1;
}

uint64_t raft_memstore_last_index(const raft_memstore_t *ms)
{
    return ms->ents[0].e.index + ms->n - 1;
}

const raft_entry_t *raft_memstore_entry(const raft_memstore_t *ms, uint64_t i)
{
    if (i < raft_memstore_first_index(ms) || i > raft_memstore_last_index(ms)) {
        return NULL;
    }
    return &ms->ents[i - ms->ents[0].e.index].e;
}

static int st_initial_state(void *ud, raft_hard_state_t *hs, raft_conf_state_t *cs)
{
    raft_memstore_t *ms = ud;
    *hs = ms->hs;
    *cs = ms->snap.conf;
    return 0;
}

static int st_entries(void *ud, uint64_t lo, uint64_t hi, uint64_t max_size, raft_entry_t *out,
                      size_t *n)
{
    raft_memstore_t *ms = ud;
    uint64_t off = ms->ents[0].e.index;
    *n = 0;
    if (lo <= off) {
        return RAFT_ECOMPACTED;
    }
    if (hi > raft_memstore_last_index(ms) + 1) {
        return RAFT_EUNAVAILABLE;
    }
    uint64_t size = 0;
    for (uint64_t i = lo; i < hi; i++) {
        const raft_entry_t *e = &ms->ents[i - off].e;
        if (*n > 0 && size + e->len > max_size) {
            break;
        }
        size += e->len;
        out[(*n)++] = *e;
    }
    return 0;
}

static int st_term(void *ud, uint64_t i, uint64_t *term)
{
    raft_memstore_t *ms = ud;
    uint64_t off = ms->ents[0].e.index;
    if (i < off) {
        return RAFT_ECOMPACTED;
    }
    if (i > raft_memstore_last_index(ms)) {
        return RAFT_EUNAVAILABLE;
    }
    *term = ms->ents[i - off].e.term;
    return 0;
}

static uint64_t st_first_index(void *ud)
{
    return raft_memstore_first_index(ud);
}

static uint64_t st_last_index(void *ud)
{
    return raft_memstore_last_index(ud);
}

static int st_snapshot(void *ud, raft_snapshot_t *snap)
{
    raft_memstore_t *ms = ud;
    *snap = ms->snap;
    return 0;
}

raft_storage_t raft_memstore_storage(raft_memstore_t *ms)
{
    return (raft_storage_t){
        .ud = ms,
        .initial_state = st_initial_state,
        .entries = st_entries,
        .term = st_term,
        .first_index = st_first_index,
        .last_index = st_last_index,
        .snapshot = st_snapshot,
    };
}

/* Copies len bytes into the chunk being filled, opening a new one if full. */
static int store_data(raft_memstore_t *ms, ms_ent_t *dst, const uint8_t *data, uint32_t len)
{
    dst->chunk = NULL;
    dst->e.data = NULL;
    if (len == 0) {
        return 0;
    }
    ms_chunk_t *c = ms->chunks;
    if (!c || c->cap - c->used < len) {
        size_t cap = len > CHUNK_SIZE ? len : CHUNK_SIZE;
        ms_chunk_t *nc = malloc(sizeof(*nc) + cap);
        if (!nc) {
            return RAFT_ENOMEM;
        }
        *nc = (ms_chunk_t){.next = c, .cap = cap};
        ms->chunks = nc;
        /* The previous chunk may now be freeable. */
        if (c && c->live == 0) {
            nc->next = c->next;
            free(c);
        }
        c = nc;
    }
    memcpy(c->mem + c->used, data, len);
    dst->e.data = c->mem + c->used;
    dst->chunk = c;
    c->used += len;
    c->live++;
    return 0;
}

static void truncate_to(raft_memstore_t *ms, size_t n)
{
    while (ms->n > n) {
        release(ms, &ms->ents[--ms->n]);
    }
}

int raft_memstore_append(raft_memstore_t *ms, const raft_entry_t *ents, size_t n)
{
    if (n == 0) {
        return 0;
    }
    uint64_t first = raft_memstore_first_index(ms);
    uint64_t last = ents[0].index + n - 1;
    if (last < first) {
        return 0; /* everything already compacted */
    }
    if (first > ents[0].index) {
        size_t skip = first - ents[0].index;
        ents += skip;
        n -= skip;
    }
    uint64_t at = ents[0].index - ms->ents[0].e.index;
    if (at > ms->n) {
        return RAFT_EUNAVAILABLE; /* would leave a gap */
    }
    int rc = raft__grow((void **)&ms->ents, &ms->cap, at + n, sizeof(*ms->ents));
    if (rc != 0) {
        return rc;
    }
    truncate_to(ms, at);
    for (size_t i = 0; i < n; i++) {
        ms_ent_t *d = &ms->ents[ms->n];
        d->e = ents[i];
        rc = store_data(ms, d, ents[i].data, ents[i].len);
        if (rc != 0) {
            return rc;
        }
        ms->n++;
    }
    return 0;
}

int raft_memstore_set_hard_state(raft_memstore_t *ms, const raft_hard_state_t *hs)
{
    ms->hs = *hs;
    return 0;
}

void raft_memstore_hard_state(const raft_memstore_t *ms, raft_hard_state_t *hs)
{
    *hs = ms->hs;
}

static int set_snapshot(raft_memstore_t *ms, const raft_snapshot_t *s)
{
    uint8_t *data = NULL;
    if (s->len > 0) {
        data = malloc(s->len);
        if (!data) {
            return RAFT_ENOMEM;
        }
        memcpy(data, s->data, s->len);
    }
    free((void *)ms->snap.data);
    ms->snap = *s;
    ms->snap.data = data;
    return 0;
}

int raft_memstore_apply_snapshot(raft_memstore_t *ms, const raft_snapshot_t *snap)
{
    if (snap->index < ms->snap.index) {
        return RAFT_EINVAL;
    }
    int rc = set_snapshot(ms, snap);
    if (rc != 0) {
        return rc;
    }
    truncate_to(ms, 1);
    release(ms, &ms->ents[0]);
    ms->ents[0].e = (raft_entry_t){.index = snap->index, .term = snap->term};
    return 0;
}

int raft_memstore_create_snapshot(raft_memstore_t *ms, uint64_t index, const raft_conf_state_t *cs,
                                  const void *data, size_t len)
{
    if (index <= ms->snap.index || len > UINT32_MAX) {
        return RAFT_EINVAL;
    }
    uint64_t term;
    int rc = st_term(ms, index, &term);
    if (rc != 0) {
        return rc;
    }
    raft_snapshot_t s = {
        .index = index, .term = term, .conf = *cs, .len = (uint32_t)len, .data = data};
    return set_snapshot(ms, &s);
}

int raft_memstore_compact(raft_memstore_t *ms, uint64_t index)
{
    uint64_t off = ms->ents[0].e.index;
    if (index <= off) {
        return 0;
    }
    if (index > ms->snap.index || index > raft_memstore_last_index(ms)) {
        return RAFT_EINVAL;
    }
    size_t drop = index - off;
    for (size_t i = 0; i <= drop; i++) {
        release(ms, &ms->ents[i]);
    }
    ms->ents[0].e = (raft_entry_t){.index = index, .term = ms->ents[drop].e.term};
    memmove(&ms->ents[1], &ms->ents[drop + 1], (ms->n - drop - 1) * sizeof(*ms->ents));
    ms->n -= drop;
    return 0;
}
