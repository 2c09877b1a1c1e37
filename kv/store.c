/*
 * store.c - opening a store, bootstrapping its ranges and finding the
 * range of a key.
 *
 * Ranges are a sorted array of replicas behind a read-write lock: every
 * request looks a range up, only splits and merges (later) change the
 * array. Replicas are freed only when the store closes, so a pointer found
 * under the lock stays usable after it is dropped; a request that reaches
 * a replica whose bounds changed meanwhile gets KV_ERANGEKEYMISMATCH and
 * is re-routed by kv_store_send.
 */
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/store_int.h"

#define DEFAULT_TSCACHE_BYTES (1u << 20)

int kv__store_insert(kv_store *s, kv__replica *r)
{
    kv__replica **ranges = realloc(s->ranges, (s->n_ranges + 1) * sizeof(*ranges));
    if (ranges == NULL)
        return KV_ENOMEM;
    s->ranges = ranges;
    size_t i = s->n_ranges;
    while (i > 0 && kv__key_cmp(ranges[i - 1]->desc.start_key, ranges[i - 1]->desc.start_len,
                                r->desc.start_key, r->desc.start_len) > 0) {
        ranges[i] = ranges[i - 1];
        i--;
    }
    ranges[i] = r;
    s->n_ranges++;
    return 0;
}

static int add_range(kv_store *s, const kv_range_desc *d)
{
    kv__replica *r;
    int rc = kv__replica_create(s, d, &r);
    if (rc != 0)
        return rc;
    rc = kv__store_insert(s, r);
    if (rc != 0)
        kv__replica_destroy(r);
    return rc;
}

/* Decodes the descriptor stored at the iterator's position and adds its
 * range. */
static int load_descriptor(kv_store *s, kv_iter *it, char *err, size_t errlen)
{
    size_t vlen;
    const char *val = kv_iter_value(it, &vlen);
    kv_arena *a;
    if (kv_arena_create(&a) != 0)
        return KV_ENOMEM;
    kv_range_desc d;
    int rc = kv__desc_decode(val, vlen, a, &d);
    if (rc == 0)
        rc = add_range(s, &d);
    else
        kv__errf(err, errlen, rc, "range descriptor: %s", kv_strerror(rc));
    kv_arena_destroy(a);
    return rc;
}

/* Loads every descriptor of the local column family. The iterator visits
 * one key per range: after each it skips the rest of that range's state
 * (hard state, Raft log) with a seek. */
static int load_ranges(kv_store *s, char *err, size_t errlen)
{
    uint8_t lo = KV_LOCAL_RANGE_MARKER, hi = KV_LOCAL_RANGE_MARKER + 1;
    kv_iter *it;
    int rc = kv_iter_open(s->engine, NULL, KV_CF_LOCAL, &lo, 1, &hi, 1, &it, err, errlen);
    if (rc != 0)
        return rc;
    uint8_t key[KV_LOCAL_KEY_MAX];
    kv_iter_seek_first(it);
    while (rc == 0 && kv_iter_valid(it)) {
        size_t klen;
        const char *k = kv_iter_key(it, &klen);
        uint64_t id, index;
        enum kv_local_kind kind;
        rc = kv_local_key_decode((const uint8_t *)k, klen, &id, &kind, &index);
        if (rc != 0) {
            kv__errf(err, errlen, rc, "undecodable range-local key");
            break;
        }
        if (kind < KV_LOCAL_DESCRIPTOR) {
            kv_iter_seek_ge(it, key, kv_local_key(key, id, KV_LOCAL_DESCRIPTOR, 0));
            continue;
        }
        if (kind == KV_LOCAL_DESCRIPTOR)
            rc = load_descriptor(s, it, err, errlen);
        kv_iter_seek_ge(it, key, kv_local_range_end(key, id));
    }
    if (rc == 0)
        rc = kv_iter_status(it, err, errlen);
    kv_iter_close(it);
    return rc;
}

int kv_store_open(const char *dir, const kv_store_options *opts, kv_store **out, char *err,
                  size_t errlen)
{
    kv_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return KV_ENOMEM;
    if (opts != NULL)
        s->opts = *opts;
    else
        s->opts.engine.create_if_missing = true;
    if (s->opts.tscache_bytes == 0)
        s->opts.tscache_bytes = DEFAULT_TSCACHE_BYTES;
    kv_hlc_clock_fn clock = s->opts.clock != NULL ? s->opts.clock : kv_hlc_wall_clock;
    int rc = KV_ENOMEM;
    if (pthread_rwlock_init(&s->lock, NULL) != 0)
        goto out_free_store;
    if (pthread_mutex_init(&s->lh_mu, NULL) != 0) {
        pthread_rwlock_destroy(&s->lock);
        goto out_free_store;
    }
    rc = kv_hlc_create(clock, s->opts.clock_arg, s->opts.max_offset_ns, &s->hlc);
    if (rc != 0)
        goto out_destroy_lock;
    rc = kv_engine_open(dir, &s->opts.engine, &s->engine, err, errlen);
    if (rc != 0)
        goto out_destroy_hlc;
    rc = load_ranges(s, err, errlen);
    if (rc == 0)
        rc = kv__txn_wait_create(&s->waits);
    if (rc == 0)
        rc = kv__resolver_create(s, &s->resolver);
    if (rc != 0)
        goto out_close;
    *out = s;
    return 0;

out_close:
    kv_store_close(s);
    return rc;
out_destroy_hlc:
    kv_hlc_destroy(s->hlc);
out_destroy_lock:
    pthread_mutex_destroy(&s->lh_mu);
    pthread_rwlock_destroy(&s->lock);
out_free_store:
    free(s);
    return rc;
}

void kv_store_close(kv_store *s)
{
    if (s == NULL)
        return;
    /* The resolver drains its queue through the ranges: stop it first. */
    kv__resolver_destroy(s->resolver);
    kv__txn_wait_destroy(s->waits);
    for (size_t i = 0; i < s->n_ranges; i++)
        kv__replica_destroy(s->ranges[i]);
    free(s->ranges);
    kv__store_cache_free(s);
    free(s->lh_range);
    free(s->lh_node);
    kv_engine_close(s->engine);
    kv_hlc_destroy(s->hlc);
    pthread_mutex_destroy(&s->lh_mu);
    pthread_rwlock_destroy(&s->lock);
    free(s);
}

static int check_splits(const uint8_t *const *keys, const size_t *lens, size_t n, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (lens[i] == 0)
            return kv__errf(err, errlen, KV_EINVAL, "split key %zu is empty", i);
        if (i > 0 && kv__key_cmp(keys[i - 1], lens[i - 1], keys[i], lens[i]) >= 0)
            return kv__errf(err, errlen, KV_EINVAL, "split keys not increasing at %zu", i);
    }
    return 0;
}

/* Adds range i of a bootstrap (bounded by split keys i-1 and i) to the
 * batch and to the store. */
static int bootstrap_range(kv_store *s, kv_batch *b, kv_buf *val, const uint8_t *const *keys,
                           const size_t *lens, size_t n, size_t i, bool meta)
{
    kv_range_desc d = {
        .range_id = i + 1,
        .start_key = i == 0 ? NULL : keys[i - 1],
        .start_len = i == 0 ? 0 : lens[i - 1],
        .end_key = i == n ? NULL : keys[i],
        .end_len = i == n ? 0 : lens[i],
        .n_replicas = 1,
        .replicas = {{s->opts.node_id, s->opts.store_id, 1}},
    };
    uint8_t key[KV_LOCAL_KEY_MAX];
    size_t klen = kv_local_key(key, d.range_id, KV_LOCAL_DESCRIPTOR, 0);
    int rc = kv__desc_encode(&d, val);
    if (rc == 0)
        rc = kv_batch_put(b, s->engine, KV_CF_LOCAL, key, klen, val->data, val->len);
    if (rc == 0)
        rc = kv__bootstrap_raft(s, b, d.range_id);
    if (rc == 0 && meta)
        rc = kv__bootstrap_meta(s, b, &d, kv_hlc_now(s->hlc));
    if (rc == 0)
        rc = add_range(s, &d);
    return rc;
}

static int bootstrap(kv_store *s, const uint8_t *const *keys, const size_t *lens, size_t n,
                     bool meta, char *err, size_t errlen)
{
    if (s->n_ranges > 0)
        return kv__errf(err, errlen, KV_EINVAL, "store already has %zu ranges", s->n_ranges);
    int rc = check_splits(keys, lens, n, err, errlen);
    if (rc != 0)
        return rc;
    kv_batch *b;
    if (kv_batch_create(&b) != 0)
        return KV_ENOMEM;
    kv_buf val = {0};
    for (size_t i = 0; rc == 0 && i <= n; i++)
        rc = bootstrap_range(s, b, &val, keys, lens, n, i, meta);
    if (rc == 0)
        rc = kv_engine_write(s->engine, b, true, err, errlen);
    if (rc != 0) {
        /* Nothing persisted (or not known to be): forget the ranges. */
        for (size_t i = 0; i < s->n_ranges; i++)
            kv__replica_destroy(s->ranges[i]);
        s->n_ranges = 0;
    }
    kv_buf_free(&val);
    kv_batch_destroy(b);
    return rc;
}

int kv_store_bootstrap(kv_store *s, const uint8_t *const *keys, const size_t *lens, size_t n,
                       char *err, size_t errlen)
{
    return bootstrap(s, keys, lens, n, false, err, errlen);
}

int kv_store_bootstrap_cluster(kv_store *s, const uint8_t *const *keys, const size_t *lens,
                               size_t n, char *err, size_t errlen)
{
    if (n == 0 || kv__key_cmp(keys[0], lens[0], KV_META_MAX, 2) <= 0)
        return kv__errf(err, errlen, KV_EINVAL, "the first range must hold the meta records");
    return bootstrap(s, keys, lens, n, true, err, errlen);
}

size_t kv_store_range_count(kv_store *s)
{
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->n_ranges;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

/* Index of the last range whose start is <= key (< key with `before`),
 * or -1. The caller holds the lock. */
static ptrdiff_t search(kv_store *s, const void *key, size_t klen, bool before)
{
    size_t lo = 0, hi = s->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const kv_range_desc *d = &s->ranges[mid]->desc;
        int c = kv__key_cmp(d->start_key, d->start_len, key, klen);
        if (c < 0 || (c == 0 && !before))
            lo = mid + 1;
        else
            hi = mid;
    }
    return (ptrdiff_t)lo - 1;
}

kv__replica *kv__store_replica_for(kv_store *s, const void *key, size_t klen, bool before)
{
    pthread_rwlock_rdlock(&s->lock);
    ptrdiff_t i = search(s, key, klen, before);
    kv__replica *r = i < 0 ? NULL : s->ranges[i];
    pthread_rwlock_unlock(&s->lock);
    return r;
}

int kv_store_lookup(kv_store *s, const void *key, size_t klen, kv_arena *a, kv_range_desc *out)
{
    kv__replica *r = kv__store_replica_for(s, key, klen, false);
    if (r == NULL)
        return KV_ENOTFOUND;
    return kv__desc_copy(a, &r->desc, out);
}

kv_engine *kv_store_engine(kv_store *s)
{
    return s->engine;
}

kv_hlc *kv_store_clock(kv_store *s)
{
    return s->hlc;
}
