/*
 * store_cluster.c - what a store knows about the cluster around it: its
 * identity, the node's own small values, descriptors of ranges held
 * elsewhere, and the initial Raft state and meta records of bootstrapped
 * ranges.
 *
 * Store-local keys (KV_CF_LOCAL, never replicated):
 *
 *   0x02 'i'          identity: cluster id 16, node id 4 (big-endian)
 *   0x02 'n' <name>   a node value (the peer directory)
 *
 * Meta records (KV_CF_MVCC, in the first range, replicated): for each
 * range, KV_META_PREFIX + end key (KV_META_MAX for the last range) holds
 * its descriptor. The range holding key k is the one of the first meta
 * record above KV_META_PREFIX + k.
 */
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/raft_storage_int.h"
#include "kv/store_int.h"

#define IDENT_LEN 20

void kv_store_set_remote(kv_store *s, const kv_store_remote *remote)
{
    s->remote = *remote;
}

void kv_store_set_node_id(kv_store *s, uint32_t node_id)
{
    s->opts.node_id = node_id;
}

uint32_t kv_store_node_id(kv_store *s)
{
    return s->opts.node_id;
}

int kv_range_desc_encode(const kv_range_desc *d, kv_buf *out)
{
    return kv__desc_encode(d, out);
}

int kv_range_desc_decode(const void *p, size_t n, kv_arena *a, kv_range_desc *out)
{
    return kv__desc_decode(p, n, a, out);
}

/* ---- store-local values ------------------------------------------------------------ */

static size_t local_name(uint8_t *key, size_t cap, const char *name)
{
    size_t n = strlen(name);
    if (n + 2 > cap)
        n = cap - 2;
    key[0] = KV_LOCAL_STORE_MARKER;
    key[1] = 'n';
    memcpy(key + 2, name, n);
    return n + 2;
}

int kv_store_local_get(kv_store *s, const char *name, kv_buf *val)
{
    uint8_t key[64];
    size_t klen = local_name(key, sizeof(key), name);
    return kv_engine_get(s->engine, NULL, KV_CF_LOCAL, key, klen, val, NULL, 0);
}

static int put_local(kv_store *s, const void *key, size_t klen, const void *val, size_t vlen,
                     bool sync, char *err, size_t errlen)
{
    kv_batch *b;
    if (kv_batch_create(&b) != 0)
        return KV_ENOMEM;
    int rc = kv_batch_put(b, s->engine, KV_CF_LOCAL, key, klen, val, vlen);
    if (rc == 0)
        rc = kv_engine_write(s->engine, b, sync, err, errlen);
    kv_batch_destroy(b);
    return rc;
}

int kv_store_local_put(kv_store *s, const char *name, const void *val, size_t len, char *err,
                       size_t errlen)
{
    uint8_t key[64];
    size_t klen = local_name(key, sizeof(key), name);
    return put_local(s, key, klen, val, len, false, err, errlen);
}

int kv_store_ident_get(kv_store *s, uint8_t cluster_id[16], uint32_t *node_id)
{
    static const uint8_t key[2] = {KV_LOCAL_STORE_MARKER, 'i'};
    kv_buf val = {0};
    int rc = kv_engine_get(s->engine, NULL, KV_CF_LOCAL, key, sizeof(key), &val, NULL, 0);
    if (rc == 0 && val.len != IDENT_LEN)
        rc = KV_ECORRUPT;
    if (rc == 0) {
        memcpy(cluster_id, val.data, 16);
        *node_id = kv__get_be32((const uint8_t *)val.data + 16);
    }
    kv_buf_free(&val);
    return rc;
}

int kv_store_ident_put(kv_store *s, const uint8_t cluster_id[16], uint32_t node_id, char *err,
                       size_t errlen)
{
    static const uint8_t key[2] = {KV_LOCAL_STORE_MARKER, 'i'};
    uint8_t val[IDENT_LEN];
    memcpy(val, cluster_id, 16);
    kv__put_be32(val + 16, node_id);
    return put_local(s, key, sizeof(key), val, sizeof(val), true, err, errlen);
}

/* ---- descriptors of ranges held elsewhere ------------------------------------------ */

int kv_store_cache_desc(kv_store *s, const kv_range_desc *d)
{
    kv_arena *a;
    if (kv_arena_create(&a) != 0)
        return KV_ENOMEM;
    kv_range_desc copy;
    int rc = kv__desc_copy(a, d, &copy);
    if (rc != 0) {
        kv_arena_destroy(a);
        return rc;
    }
    pthread_rwlock_wrlock(&s->lock);
    size_t i = 0;
    while (i < s->n_cache && s->cache[i].range_id != d->range_id &&
           kv__key_cmp(s->cache[i].start_key, s->cache[i].start_len, d->start_key, d->start_len) <
               0)
        i++;
    if (i < s->n_cache && (s->cache[i].range_id == d->range_id ||
                           kv__key_cmp(s->cache[i].start_key, s->cache[i].start_len, d->start_key,
                                       d->start_len) == 0)) {
        if (s->cache[i].generation > d->generation && s->cache[i].range_id == d->range_id) {
            kv_arena_destroy(a); /* what we have is newer */
        } else {
            kv_arena_destroy(s->cache_arenas[i]);
            s->cache[i] = copy;
            s->cache_arenas[i] = a;
        }
        pthread_rwlock_unlock(&s->lock);
        return 0;
    }
    kv_range_desc *c = realloc(s->cache, (s->n_cache + 1) * sizeof(*c));
    kv_arena **ca = c != NULL ? realloc(s->cache_arenas, (s->n_cache + 1) * sizeof(*ca)) : NULL;
    if (c != NULL)
        s->cache = c;
    if (ca == NULL) {
        pthread_rwlock_unlock(&s->lock);
        kv_arena_destroy(a);
        return KV_ENOMEM;
    }
    s->cache_arenas = ca;
    memmove(c + i + 1, c + i, (s->n_cache - i) * sizeof(*c));
    memmove(ca + i + 1, ca + i, (s->n_cache - i) * sizeof(*ca));
    c[i] = copy;
    ca[i] = a;
    s->n_cache++;
    pthread_rwlock_unlock(&s->lock);
    return 0;
}

int kv__store_cached(kv_store *s, const void *key, size_t klen, bool before, kv_arena *a,
                     kv_range_desc *out)
{
    int rc = KV_ENOTFOUND;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->n_cache; i++) {
        const kv_range_desc *d = &s->cache[i];
        bool in = before
                      ? kv__key_cmp(d->start_key, d->start_len, key, klen) < 0 &&
                            (d->end_len == 0 || kv__key_cmp(key, klen, d->end_key, d->end_len) <= 0)
                      : kv_range_contains(d, key, klen);
        if (in) {
            rc = kv__desc_copy(a, d, out);
            break;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

void kv__store_cache_free(kv_store *s)
{
    for (size_t i = 0; i < s->n_cache; i++)
        kv_arena_destroy(s->cache_arenas[i]);
    free(s->cache);
    free(s->cache_arenas);
}

/* ---- bootstrap ------------------------------------------------------------------------ */

/* The initial Raft state of a bootstrapped range: applied and committed at
 * KV_RAFT_INIT_INDEX with this node the only voter, the log truncated
 * there, so a new replica always starts from a snapshot. */
int kv__bootstrap_raft(kv_store *s, kv_batch *b, uint64_t range_id)
{
    kv_raft_storage *st;
    int rc = kv_raft_storage_open(s->engine, range_id, NULL, &st, NULL, 0);
    if (rc != 0)
        return rc;
    kv_applied_state as = {.index = KV_RAFT_INIT_INDEX, .term = KV_RAFT_INIT_TERM};
    as.conf.voters[0] = s->opts.node_id;
    as.conf.n_voters = 1;
    raft_snapshot_t snap = {.index = as.index, .term = as.term, .conf = as.conf};
    raft_hard_state_t hs = {.term = KV_RAFT_INIT_TERM, .commit = KV_RAFT_INIT_INDEX};
    kv_raft_persist_req req = {.storage = st, .snapshot = &snap, .hs = &hs};
    rc = kv_raft_storage_applied_put(st, b, &as);
    if (rc == 0)
        rc = kv__raft_storage_stage(st, b, &req);
    kv_raft_storage_close(st);
    return rc;
}

int kv__meta_key(const kv_range_desc *d, kv_buf *out)
{
    int rc = kv_buf_reserve(out, 2 + d->end_len);
    if (rc != 0)
        return rc;
    memcpy(out->data, d->end_len > 0 ? KV_META_PREFIX : KV_META_MAX, 2);
    if (d->end_len > 0)
        memcpy(out->data + 2, d->end_key, d->end_len);
    out->len = 2 + d->end_len;
    return 0;
}

/* Adds the meta record of `d` to the bootstrap batch, at timestamp `ts`. */
int kv__bootstrap_meta(kv_store *s, kv_batch *b, const kv_range_desc *d, kv_ts ts)
{
    kv_buf key = {0}, val = {0};
    int rc = kv__meta_key(d, &key);
    if (rc == 0)
        rc = kv__desc_encode(d, &val);
    kv_mvcc_conflict conflict = {0};
    if (rc == 0)
        rc = kv_mvcc_put(s->engine, NULL, b, key.data, key.len, ts, NULL, val.data, val.len,
                         &conflict, NULL, 0);
    kv_buf_free(&conflict.key);
    kv_buf_free(&conflict.anchor);
    kv_buf_free(&key);
    kv_buf_free(&val);
    return rc;
}

/* ---- replicas that arrive by snapshot --------------------------------------------------- */

int kv__store_adopt(kv_store *s, kv__replica *r)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    size_t klen = kv_local_key(key, r->desc.range_id, KV_LOCAL_DESCRIPTOR, 0);
    kv_buf val = {0};
    int rc = kv_engine_get(s->engine, NULL, KV_CF_LOCAL, key, klen, &val, NULL, 0);
    kv_range_desc d;
    if (rc == 0)
        rc = kv__desc_decode(val.data, val.len, r->arena, &d);
    kv_buf_free(&val);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&r->mu);
    r->desc = d;
    pthread_mutex_unlock(&r->mu);
    pthread_rwlock_wrlock(&s->lock);
    bool present = false;
    for (size_t i = 0; i < s->n_ranges; i++)
        present |= s->ranges[i] == r;
    if (!present)
        rc = kv__store_insert(s, r);
    pthread_rwlock_unlock(&s->lock);
    return rc;
}
