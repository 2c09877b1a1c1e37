/*
 * vcache.c - the newest-version cache: for a few recently read user keys,
 * the newest MVCC version (value or tombstone, and its timestamp) or the
 * fact that the key has no entries at all, so that a point read at or above
 * that timestamp is answered without a RocksDB iterator (engine_int.h).
 *
 * Why it is safe. An entry is filled only from a read that began at the
 * key's first entry and found a committed version there (no intent), or no
 * entry at all: nothing newer existed. Every engine write (kv_engine_write)
 * moves the write generation, and an entry serves only while the
 * generation is still the one read before its iterator was created and no
 * write is in flight; so an entry never outlives any write to the store,
 * however unrelated. A read at ts >= the version's ts then sees exactly that
 * version, with no intent and nothing in its uncertainty interval - the
 * answer kv_mvcc_get would give. Reads below the version, snapshot reads and
 * keys or values too large for a slot go to the engine.
 *
 * Layout: VCACHE_SLOTS direct-mapped slots (XXH3 of the key), each behind
 * its own mutex so that workers reading different keys do not contend.
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
    uint64_t gen; /* the write generation the entry is valid for; 0: empty */
    bool found;   /* a live value (else: tombstone or no entries) */
    kv_ts ts;     /* the newest version's ts; zero when the key has none */
    uint8_t klen;
    uint16_t vlen;
    uint8_t key[VCACHE_KEY_MAX];
    uint8_t val[VCACHE_VAL_MAX];
};

struct kv__vcache {
    _Atomic uint64_t gen;     /* starts at 1; +1 after every engine write */
    _Atomic uint32_t writing; /* engine writes in flight */
    struct slot slots[VCACHE_SLOTS];
};

int kv__vcache_create(kv__vcache **out)
{
    kv__vcache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return KV_ENOMEM;
    atomic_init(&c->gen, 1);
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

void kv__vcache_write_begin(kv__vcache *c)
{
    atomic_fetch_add(&c->writing, 1);
}

void kv__vcache_write_end(kv__vcache *c)
{
    atomic_fetch_add(&c->gen, 1);
    atomic_fetch_sub(&c->writing, 1);
}

uint64_t kv__vcache_gen(kv__vcache *c)
{
    uint64_t gen = atomic_load(&c->gen);
    return atomic_load(&c->writing) == 0 ? gen : 0;
}

static struct slot *slot_of(kv__vcache *c, const void *key, size_t klen)
{
    return &c->slots[XXH3_64bits(key, klen) & (VCACHE_SLOTS - 1)];
}

static bool slot_holds(const struct slot *s, const void *key, size_t klen)
{
    return s->klen == klen && memcmp(s->key, key, klen) == 0;
}

bool kv__vcache_get(kv__vcache *c, const void *key, size_t klen, kv_ts read_ts, kv_buf *val,
                    kv_ts *val_ts, int *rc)
{
    uint64_t gen = kv__vcache_gen(c);
    if (gen == 0 || klen > VCACHE_KEY_MAX)
        return false;
    struct slot *s = slot_of(c, key, klen);
    pthread_mutex_lock(&s->mu);
    bool hit = s->gen == gen && slot_holds(s, key, klen) && kv_ts_cmp(s->ts, read_ts) <= 0;
    if (hit) {
        *rc = s->found ? kv_buf_set(val, s->val, s->vlen) : KV_ENOTFOUND;
        if (*rc == 0 && val_ts != NULL)
            *val_ts = s->ts;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

void kv__vcache_put(kv__vcache *c, uint64_t gen, const void *key, size_t klen, bool found,
                    const void *val, size_t vlen, kv_ts ts)
{
    if (gen == 0 || klen > VCACHE_KEY_MAX || (found && vlen > VCACHE_VAL_MAX))
        return;
    struct slot *s = slot_of(c, key, klen);
    pthread_mutex_lock(&s->mu);
    s->gen = gen;
    s->found = found;
    s->ts = ts;
    s->klen = (uint8_t)klen;
    memcpy(s->key, key, klen);
    s->vlen = found ? (uint16_t)vlen : 0;
    if (found && vlen > 0)
        memcpy(s->val, val, vlen);
    pthread_mutex_unlock(&s->mu);
}
