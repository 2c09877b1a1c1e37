/*
 * vcache.c - the newest-version cache: for a few recently read user keys,
 * the newest MVCC version (value or tombstone, and its timestamp) or the
 * fact that the key has no entries at all, so that a point read at or above
 * that timestamp is answered without a RocksDB iterator (engine_int.h).
 *
 * Why it is safe. An entry is filled only from a read that began at the
 * key's first entry and found a committed version there (no intent), or no
 * entry at all: nothing newer existed. Every engine write (kv_engine_write)
 * names the slots of the user keys it writes before it starts: each such
 * slot drops its entry and counts the write as in flight until it ends,
 * when the slot's write generation moves. A fill is accepted only if the
 * slot's generation is the one read before the fill's iterator was created
 * and no write of the slot is in flight; so no entry outlives a write of
 * its key. Writes that cannot name their keys (range deletions, batches of
 * more keys than a write records) do the same for every slot at once
 * through the cache-wide epoch. A read at ts >= the version's ts then sees
 * exactly that version, with no intent and nothing in its uncertainty
 * interval - the answer kv_mvcc_get would give. Reads below the version,
 * snapshot reads and keys or values too large for a slot go to the engine.
 *
 * Slots are keyed by the escaped MVCC prefix of the user key, the form in
 * which a write batch holds it. Keys sharing a slot void each other.
 *
 * Layout: VCACHE_SLOTS direct-mapped slots (XXH3 of the prefix), each
 * behind its own mutex so that workers reading different keys do not
 * contend.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "kv/engine_int.h"
#include "kv/kv_error.h"

#define VCACHE_SLOTS   1024
#define VCACHE_KEY_MAX 64
#define VCACHE_VAL_MAX 256

struct slot {
    pthread_mutex_t mu;
    uint64_t wgen;    /* +1 when a write of the slot's keys ends */
    uint32_t writing; /* writes of the slot's keys in flight */
    bool valid;       /* the fields below hold an entry */
    uint64_t epoch;   /* the cache-wide epoch the entry was filled in */
    bool found;       /* a live value (else: tombstone or no entries) */
    kv_ts ts;         /* the newest version's ts; zero when the key has none */
    uint8_t klen;
    uint16_t vlen;
    uint8_t key[VCACHE_KEY_MAX];
    uint8_t val[VCACHE_VAL_MAX];
};

struct kv__vcache {
    _Atomic uint64_t epoch;       /* +1 when a write of every slot ends */
    _Atomic uint32_t writing_all; /* such writes in flight */
    struct slot slots[VCACHE_SLOTS];
};

int kv__vcache_create(kv__vcache **out)
{
    kv__vcache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return KV_ENOMEM;
    for (size_t i = 0; i < VCACHE_SLOTS; i++)
        pthread_mutex_init(&c->slots[i].mu, NULL);
    *out = c;
    return 0;
}

void kv__vcache_destroy(kv__vcache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < VCACHE_SLOTS; i++)
        pthread_mutex_destroy(&c->slots[i].mu);
    free(c);
}

static size_t slot_index(const void *prefix, size_t plen)
{
    return XXH3_64bits(prefix, plen) & (VCACHE_SLOTS - 1);
}

void kv__vcache_write_key(kv__vcache_write *w, const void *prefix, size_t plen)
{
    if (w->all)
        return;
    uint16_t i = (uint16_t)slot_index(prefix, plen);
    for (unsigned j = 0; j < w->n; j++) {
        if (w->slot[j] == i)
            return;
    }
    if (w->n == KV__VCACHE_WRITE_SLOTS)
        w->all = true;
    else
        w->slot[w->n++] = i;
}

void kv__vcache_write_begin(kv__vcache *c, const kv__vcache_write *w)
{
    if (w->all) {
        atomic_fetch_add(&c->writing_all, 1);
        return;
    }
    for (unsigned j = 0; j < w->n; j++) {
        struct slot *s = &c->slots[w->slot[j]];
        pthread_mutex_lock(&s->mu);
        s->writing++;
        s->valid = false;
        pthread_mutex_unlock(&s->mu);
    }
}

void kv__vcache_write_end(kv__vcache *c, const kv__vcache_write *w)
{
    if (w->all) {
        atomic_fetch_add(&c->epoch, 1);
        atomic_fetch_sub(&c->writing_all, 1);
        return;
    }
    for (unsigned j = 0; j < w->n; j++) {
        struct slot *s = &c->slots[w->slot[j]];
        pthread_mutex_lock(&s->mu);
        assert(s->writing > 0);
        s->writing--;
        s->wgen++;
        pthread_mutex_unlock(&s->mu);
    }
}

/* The slot's state as a fill must find it again (under s->mu). */
static kv__vcache_tag tag_of(kv__vcache *c, const struct slot *s)
{
    uint64_t epoch = atomic_load(&c->epoch);
    return (kv__vcache_tag){
        .epoch = epoch,
        .wgen = s->wgen,
        .ok = s->writing == 0 && atomic_load(&c->writing_all) == 0,
    };
}

static bool tag_holds(const kv__vcache_tag *a, const kv__vcache_tag *b)
{
    return a->ok && b->ok && a->epoch == b->epoch && a->wgen == b->wgen;
}

bool kv__vcache_get(kv__vcache *c, const void *prefix, size_t plen, kv_ts read_ts, kv_buf *val,
                    kv_ts *val_ts, int *rc, kv__vcache_tag *tag)
{
    *tag = (kv__vcache_tag){0};
    if (plen > VCACHE_KEY_MAX)
        return false;
    struct slot *s = &c->slots[slot_index(prefix, plen)];
    pthread_mutex_lock(&s->mu);
    *tag = tag_of(c, s);
    bool hit = s->valid && tag->ok && s->epoch == tag->epoch && s->klen == plen &&
               memcmp(s->key, prefix, plen) == 0 && kv_ts_cmp(s->ts, read_ts) <= 0;
    if (hit) {
        *rc = s->found ? kv_buf_set(val, s->val, s->vlen) : KV_ENOTFOUND;
        if (*rc == 0 && val_ts != NULL)
            *val_ts = s->ts;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

void kv__vcache_put(kv__vcache *c, const kv__vcache_tag *tag, const void *prefix, size_t plen,
                    bool found, const void *val, size_t vlen, kv_ts ts)
{
    if (!tag->ok || plen > VCACHE_KEY_MAX || (found && vlen > VCACHE_VAL_MAX))
        return;
    struct slot *s = &c->slots[slot_index(prefix, plen)];
    pthread_mutex_lock(&s->mu);
    kv__vcache_tag now = tag_of(c, s);
    if (tag_holds(tag, &now)) {
        s->valid = true;
        s->epoch = now.epoch;
        s->found = found;
        s->ts = ts;
        s->klen = (uint8_t)plen;
        memcpy(s->key, prefix, plen);
        s->vlen = found ? (uint16_t)vlen : 0;
        if (found && vlen > 0)
            memcpy(s->val, val, vlen);
    }
    pthread_mutex_unlock(&s->mu);
}
