/*
 * raft_storage.c - a range's Raft log, hard, truncated and applied state in
 * KV_CF_LOCAL (contract in raft_storage.h, formats in docs/kv.md).
 *
 * The cache holds a suffix of the durable log, [cache_lo, last], in a ring of
 * slots whose buffers are reused, so steady appends do not allocate. Keeping
 * it a suffix makes "is entry i cached" a comparison, and followers catching
 * up on fresh entries (the common read) never reach RocksDB.
 */
#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/raft_storage_int.h"

#define APPLIED_VERSION    2
#define APPLIED_LEASE      (1 + 8 + 8 + 8 * 8) /* offset of the lease index */
#define APPLIED_FIXED      (APPLIED_LEASE + 8 + 8 + 8 + 8 + 12 + 12)
#define TRUNCATED_SIZE     16
#define SLOT_KEEP_BYTES    4096 /* slot buffers above this are freed on eviction */
#define DEFAULT_CACHE_SIZE (256 * 1024)
#define DEFAULT_CACHE_ENTS 1024

struct slot {
    raft_entry_t e; /* e.data points into buf */
    uint8_t *buf;
    size_t cap;
};

struct cache {
    struct slot *slots; /* ring of max_entries */
    size_t max_entries, max_bytes;
    size_t head, n, bytes;
    uint64_t lo; /* index of the oldest cached entry (when n > 0) */
};

struct kv_raft_storage {
    kv_engine *engine;
    uint64_t range_id;
    pthread_mutex_t mu; /* guards everything below up to the writer's part */
    raft_hard_state_t hs;
    uint64_t trunc_index, trunc_term;
    uint64_t last;
    kv_applied_state applied;
    struct cache cache;
    uint64_t hits, misses;
    int last_err;
    char last_msg[256];
    /* Node loop only: read results handed to raft/. */
    kv_buf rbuf;
    size_t *roffs;
    size_t roffs_cap;
    /* Writer thread only. */
    uint64_t staged_last, staged_trunc;
    kv_buf wbuf;
};

/* ---- cache ---------------------------------------------------------------- */

static struct slot *cache_at(struct cache *c, size_t i)
{
    return &c->slots[(c->head + i) % c->max_entries];
}

static void cache_pop_front(struct cache *c)
{
    struct slot *sl = cache_at(c, 0);
    c->bytes -= sl->e.len;
    if (sl->cap > SLOT_KEEP_BYTES) {
        free(sl->buf);
        sl->buf = NULL;
        sl->cap = 0;
    }
    c->head = (c->head + 1) % c->max_entries;
    c->n--;
    c->lo++;
}

/* Keeps only entries below index `i`. */
static void cache_drop_from(struct cache *c, uint64_t i)
{
    while (c->n > 0 && c->lo + c->n - 1 >= i) {
        c->n--;
        c->bytes -= cache_at(c, c->n)->e.len;
    }
}

/* Keeps only entries above index `i`. */
static void cache_drop_through(struct cache *c, uint64_t i)
{
    while (c->n > 0 && c->lo <= i)
        cache_pop_front(c);
}

static void cache_clear(struct cache *c)
{
    c->n = 0;
    c->bytes = 0;
}

/* Appends e after the cached suffix (the caller keeps it contiguous). An
 * entry that cannot be cached empties the cache, which keeps it a suffix. */
static void cache_push(struct cache *c, const raft_entry_t *e)
{
    if (e->len > c->max_bytes) {
        cache_clear(c);
        return;
    }
    while (c->n > 0 && (c->n == c->max_entries || c->bytes + e->len > c->max_bytes))
        cache_pop_front(c);
    struct slot *sl = cache_at(c, c->n);
    if (sl->cap < e->len) {
        uint8_t *nb = realloc(sl->buf, e->len);
        if (nb == NULL) {
            cache_clear(c); /* caching is optional; RocksDB still has it */
            return;
        }
        sl->buf = nb;
        sl->cap = e->len;
    }
    if (e->len > 0)
        memcpy(sl->buf, e->data, e->len);
    sl->e = *e;
    sl->e.data = sl->buf;
    if (c->n == 0)
        c->lo = e->index;
    c->n++;
    c->bytes += e->len;
}

/* The log's new suffix from ents[0].index on is ents[0..n). */
static void cache_append(struct cache *c, const raft_entry_t *ents, size_t n)
{
    uint64_t first = ents[0].index;
    if (c->n > 0 && (first < c->lo || first > c->lo + c->n))
        cache_clear(c);
    cache_drop_from(c, first);
    for (size_t i = 0; i < n; i++)
        cache_push(c, &ents[i]);
}

static const raft_entry_t *cache_get(struct cache *c, uint64_t i)
{
    if (c->n == 0 || i < c->lo || i >= c->lo + c->n)
        return NULL;
    return &cache_at(c, (size_t)(i - c->lo))->e;
}

static void cache_free(struct cache *c)
{
    for (size_t i = 0; c->slots && i < c->max_entries; i++)
        free(c->slots[i].buf);
    free(c->slots);
}

/* ---- values ------------------------------------------------------------------ */

static void put_ts(uint8_t *p, kv_ts t)
{
    kv__put_be64(p, (uint64_t)t.wall);
    kv__put_be32(p + 8, (uint32_t)t.logical);
}

static kv_ts get_ts(const uint8_t *p)
{
    return (kv_ts){(int64_t)kv__get_be64(p), (int32_t)kv__get_be32(p + 8)};
}

static void encode_lease(uint8_t *p, uint64_t lease_index, const kv_lease *l)
{
    kv__put_be64(p, lease_index);
    kv__put_be64(p + 8, l->seq);
    kv__put_be64(p + 16, l->holder);
    kv__put_be64(p + 24, l->incarnation);
    put_ts(p + 32, l->start);
    put_ts(p + 44, l->expiration);
}

static void decode_lease(const uint8_t *p, uint64_t *lease_index, kv_lease *l)
{
    *lease_index = kv__get_be64(p);
    l->seq = kv__get_be64(p + 8);
    l->holder = kv__get_be64(p + 16);
    l->incarnation = kv__get_be64(p + 24);
    l->start = get_ts(p + 32);
    l->expiration = get_ts(p + 44);
}

static int encode_applied(const kv_applied_state *as, uint8_t *buf, size_t cap, size_t *n)
{
    const int64_t *st = &as->stats.live_bytes;
    size_t cn;
    if (cap < APPLIED_FIXED)
        return KV_EINVAL;
    buf[0] = APPLIED_VERSION;
    kv__put_be64(buf + 1, as->index);
    kv__put_be64(buf + 9, as->term);
    for (int i = 0; i < 8; i++)
        kv__put_be64(buf + 17 + 8 * i, (uint64_t)st[i]);
    encode_lease(buf + APPLIED_LEASE, as->lease_index, &as->lease);
    if (raft_conf_state_encode(&as->conf, buf + APPLIED_FIXED, cap - APPLIED_FIXED, &cn) != 0)
        return KV_EINVAL;
    *n = APPLIED_FIXED + cn;
    return 0;
}

int kv__raft_applied_decode(const uint8_t *p, size_t len, kv_applied_state *as)
{
    int64_t *st = &as->stats.live_bytes;
    size_t used;
    if (len < APPLIED_FIXED || p[0] != APPLIED_VERSION)
        return KV_ECORRUPT;
    as->index = kv__get_be64(p + 1);
    as->term = kv__get_be64(p + 9);
    for (int i = 0; i < 8; i++)
        st[i] = (int64_t)kv__get_be64(p + 17 + 8 * i);
    decode_lease(p + APPLIED_LEASE, &as->lease_index, &as->lease);
    if (raft_conf_state_decode(p + APPLIED_FIXED, len - APPLIED_FIXED, &as->conf, &used) != 0 ||
        used != len - APPLIED_FIXED)
        return KV_ECORRUPT;
    return 0;
}

/* Decodes a log value that must be entry `index`; data points into p. */
static int decode_entry(const uint8_t *p, size_t len, uint64_t index, raft_entry_t *e)
{
    size_t used;
    if (raft_entry_decode(p, len, e, &used) != 0 || used != len || e->index != index)
        return KV_ECORRUPT;
    return 0;
}

/* ---- loading -------------------------------------------------------------------- */

/* Reads the value of `kind`; *found false if absent. */
static int get_local(kv_raft_storage *s, enum kv_local_kind kind, kv_buf *val, bool *found,
                     char *err, size_t errlen)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    size_t klen = kv_local_key(key, s->range_id, kind, 0);
    int rc = kv_engine_get(s->engine, NULL, KV_CF_LOCAL, key, klen, val, err, errlen);
    *found = rc == 0;
    return rc == KV_ENOTFOUND ? 0 : rc;
}

static int load_states(kv_raft_storage *s, kv_buf *val, char *err, size_t errlen)
{
    bool found;
    int rc = get_local(s, KV_LOCAL_HARD_STATE, val, &found, err, errlen);
    if (rc == 0 && found && raft_hard_state_decode((uint8_t *)val->data, val->len, &s->hs) != 0)
        return kv__errf(err, errlen, KV_ECORRUPT, "range %llu: corrupt hard state",
                        (unsigned long long)s->range_id);
    rc = rc ? rc : get_local(s, KV_LOCAL_RAFT_TRUNCATED, val, &found, err, errlen);
    if (rc == 0 && found) {
        if (val->len != TRUNCATED_SIZE)
            return kv__errf(err, errlen, KV_ECORRUPT, "range %llu: corrupt truncated state",
                            (unsigned long long)s->range_id);
        s->trunc_index = kv__get_be64((uint8_t *)val->data);
        s->trunc_term = kv__get_be64((uint8_t *)val->data + 8);
    }
    rc = rc ? rc : get_local(s, KV_LOCAL_APPLIED_STATE, val, &found, err, errlen);
    if (rc == 0 && found &&
        kv__raft_applied_decode((uint8_t *)val->data, val->len, &s->applied) != 0)
        return kv__errf(err, errlen, KV_ECORRUPT, "range %llu: corrupt applied state",
                        (unsigned long long)s->range_id);
    return rc;
}

/* Finds the last log entry; the log must start at trunc_index + 1. */
static int load_bounds(kv_raft_storage *s, char *err, size_t errlen)
{
    uint8_t lo[KV_LOCAL_KEY_MAX], hi[KV_LOCAL_KEY_MAX];
    size_t llen = kv_local_key(lo, s->range_id, KV_LOCAL_RAFT_LOG, 0);
    size_t hlen = kv_local_range_end(hi, s->range_id);
    kv_iter *it;
    int rc = kv_iter_open(s->engine, NULL, KV_CF_LOCAL, lo, llen, hi, hlen, &it, err, errlen);
    if (rc != 0)
        return rc;
    uint64_t first = 0;
    s->last = s->trunc_index;
    kv_iter_seek_first(it);
    if (kv_iter_valid(it)) {
        size_t klen;
        const char *k = kv_iter_key(it, &klen);
        first = kv__get_be64((const uint8_t *)k + 10);
        kv_iter_seek_last(it);
        k = kv_iter_key(it, &klen);
        s->last = kv__get_be64((const uint8_t *)k + 10);
    }
    rc = kv_iter_status(it, err, errlen);
    kv_iter_close(it);
    if (rc == 0 && first != 0 && first != s->trunc_index + 1)
        rc = kv__errf(err, errlen, KV_ECORRUPT,
                      "range %llu: log starts at %llu but is truncated at %llu",
                      (unsigned long long)s->range_id, (unsigned long long)first,
                      (unsigned long long)s->trunc_index);
    return rc;
}

int kv_raft_storage_open(kv_engine *e, uint64_t range_id, const kv_raft_storage_options *opts,
                         kv_raft_storage **out, char *err, size_t errlen)
{
    kv_raft_storage *s = calloc(1, sizeof(*s));
    kv_buf val = {0};
    int rc = KV_ENOMEM;
    if (s == NULL)
        goto out;
    s->engine = e;
    s->range_id = range_id;
    s->cache.max_bytes = opts && opts->cache_bytes ? opts->cache_bytes : DEFAULT_CACHE_SIZE;
    s->cache.max_entries = opts && opts->cache_entries ? opts->cache_entries : DEFAULT_CACHE_ENTS;
    s->cache.slots = calloc(s->cache.max_entries, sizeof(struct slot));
    if (s->cache.slots == NULL)
        goto out_free_storage;
    rc = load_states(s, &val, err, errlen);
    rc = rc ? rc : load_bounds(s, err, errlen);
    if (rc != 0)
        goto out_free_cache;
    s->staged_last = s->last;
    s->staged_trunc = s->trunc_index;
    pthread_mutex_init(&s->mu, NULL);
    kv_buf_free(&val);
    *out = s;
    return 0;

out_free_cache:
    cache_free(&s->cache);
out_free_storage:
    free(s);
out:
    kv_buf_free(&val);
    if (rc == KV_ENOMEM)
        kv__errf(err, errlen, rc, "range %llu: out of memory", (unsigned long long)range_id);
    return rc;
}

void kv_raft_storage_close(kv_raft_storage *s)
{
    if (s == NULL)
        return;
    pthread_mutex_destroy(&s->mu);
    cache_free(&s->cache);
    kv_buf_free(&s->rbuf);
    kv_buf_free(&s->wbuf);
    free(s->roffs);
    free(s);
}

/* ---- raft_storage_t callbacks (node loop) ---------------------------------------- */

/* Remembers a kv error for kv_raft_storage_last_error(); returns
 * RAFT_ESTORAGE, the code raft/ understands. Called under s->mu. */
static int storage_fail(kv_raft_storage *s, int code, const char *msg)
{
    s->last_err = code;
    snprintf(s->last_msg, sizeof(s->last_msg), "range %llu: %s", (unsigned long long)s->range_id,
             msg);
    return RAFT_ESTORAGE;
}

/* The replica layer does not persist a hard state whose commit index alone
 * moved (raft/'s must_sync is false): whatever was applied was committed,
 * so the commit index is at least the applied one. */
static int st_initial_state(void *ud, raft_hard_state_t *hs, raft_conf_state_t *cs)
{
    kv_raft_storage *s = ud;
    pthread_mutex_lock(&s->mu);
    *hs = s->hs;
    if (hs->commit < s->applied.index)
        hs->commit = s->applied.index;
    *cs = s->applied.conf;
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Appends a copy of e's data to rbuf; the offset goes to roffs[k]. */
static int copy_out(kv_raft_storage *s, const raft_entry_t *e, raft_entry_t *out, size_t k)
{
    if (k >= s->roffs_cap) {
        size_t cap = s->roffs_cap ? 2 * s->roffs_cap : 64;
        size_t *no = realloc(s->roffs, cap * sizeof(*no));
        if (no == NULL)
            return RAFT_ENOMEM;
        s->roffs = no;
        s->roffs_cap = cap;
    }
    if (kv_buf_reserve(&s->rbuf, s->rbuf.len + e->len) != 0)
        return RAFT_ENOMEM;
    s->roffs[k] = s->rbuf.len;
    if (e->len > 0)
        memcpy(s->rbuf.data + s->rbuf.len, e->data, e->len);
    s->rbuf.len += e->len;
    out[k] = *e;
    return 0;
}

/* Reads entries [lo, hi) from RocksDB into out[*n...], under max_size. */
static int read_db(kv_raft_storage *s, uint64_t lo, uint64_t hi, uint64_t max_size, uint64_t *size,
                   raft_entry_t *out, size_t *n)
{
    uint8_t lk[KV_LOCAL_KEY_MAX], hk[KV_LOCAL_KEY_MAX];
    char msg[200];
    size_t llen = kv_local_key(lk, s->range_id, KV_LOCAL_RAFT_LOG, lo);
    size_t hlen = kv_local_key(hk, s->range_id, KV_LOCAL_RAFT_LOG, hi);
    kv_iter *it;
    int rc = kv_iter_open(s->engine, NULL, KV_CF_LOCAL, lk, llen, hk, hlen, &it, msg, sizeof msg);
    if (rc != 0)
        return storage_fail(s, rc, msg);
    uint64_t i = lo;
    bool full = false;
    for (kv_iter_seek_first(it); rc == 0 && !full && kv_iter_valid(it); kv_iter_next(it)) {
        size_t vlen;
        const char *v = kv_iter_value(it, &vlen);
        raft_entry_t e;
        if (decode_entry((const uint8_t *)v, vlen, i, &e) != 0) {
            rc = storage_fail(s, KV_ECORRUPT, "corrupt or out-of-order log entry");
        } else if (*n > 0 && *size + e.len > max_size) {
            full = true;
        } else {
            *size += e.len;
            rc = copy_out(s, &e, out, (*n)++);
            s->misses++;
            i++;
        }
    }
    if (rc == 0 && (rc = kv_iter_status(it, msg, sizeof msg)) != 0)
        rc = storage_fail(s, rc, msg);
    else if (rc == 0 && !full && i < hi)
        rc = storage_fail(s, KV_ECORRUPT, "log entry missing below the last index");
    kv_iter_close(it);
    return rc;
}

static int read_entries(kv_raft_storage *s, uint64_t lo, uint64_t hi, uint64_t max_size,
                        raft_entry_t *out, size_t *n)
{
    uint64_t size = 0;
    /* [lo, db_hi) is older than the cache, [db_hi, hi) is in it. */
    uint64_t db_hi = s->cache.n > 0 && s->cache.lo < hi ? s->cache.lo : hi;
    db_hi = db_hi > lo ? db_hi : lo;
    int rc = 0;
    if (lo < db_hi)
        rc = read_db(s, lo, db_hi, max_size, &size, out, n);
    if (rc != 0 || *n < db_hi - lo)
        return rc; /* failed, or the size limit stopped the read */
    for (uint64_t i = lo + *n; i < hi && rc == 0; i++) {
        const raft_entry_t *e = cache_get(&s->cache, i);
        assert(e != NULL); /* the cache is a suffix ending at last */
        if (*n > 0 && size + e->len > max_size)
            break;
        size += e->len;
        rc = copy_out(s, e, out, (*n)++);
        s->hits++;
    }
    return rc;
}

static int st_entries(void *ud, uint64_t lo, uint64_t hi, uint64_t max_size, raft_entry_t *out,
                      size_t *n)
{
    kv_raft_storage *s = ud;
    int rc = 0;
    *n = 0;
    s->rbuf.len = 0;
    pthread_mutex_lock(&s->mu);
    if (lo <= s->trunc_index)
        rc = RAFT_ECOMPACTED;
    else if (hi > s->last + 1)
        rc = RAFT_EUNAVAILABLE;
    else if (lo < hi)
        rc = read_entries(s, lo, hi, max_size, out, n);
    pthread_mutex_unlock(&s->mu);
    /* rbuf may have moved while growing: point the entries at it last. */
    for (size_t k = 0; rc == 0 && k < *n; k++)
        out[k].data = (const uint8_t *)s->rbuf.data + s->roffs[k];
    if (rc != 0)
        *n = 0;
    return rc;
}

/* Uses its own buffer rather than rbuf, so term() never invalidates what
 * entries() returned and may be called from any thread. */
static int term_db(kv_raft_storage *s, uint64_t i, uint64_t *term)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    char msg[200];
    kv_buf val = {0};
    raft_entry_t e;
    size_t klen = kv_local_key(key, s->range_id, KV_LOCAL_RAFT_LOG, i);
    int rc = kv_engine_get(s->engine, NULL, KV_CF_LOCAL, key, klen, &val, msg, sizeof msg);
    if (rc != 0)
        rc = storage_fail(s, rc, msg);
    else if (decode_entry((uint8_t *)val.data, val.len, i, &e) != 0)
        rc = storage_fail(s, KV_ECORRUPT, "corrupt log entry");
    else
        *term = e.term;
    s->misses++;
    kv_buf_free(&val);
    return rc;
}

static int st_term(void *ud, uint64_t i, uint64_t *term)
{
    kv_raft_storage *s = ud;
    const raft_entry_t *e;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (i < s->trunc_index) {
        rc = RAFT_ECOMPACTED;
    } else if (i > s->last) {
        rc = RAFT_EUNAVAILABLE;
    } else if (i == s->trunc_index) {
        *term = s->trunc_term;
    } else if ((e = cache_get(&s->cache, i)) != NULL) {
        *term = e->term;
        s->hits++;
    } else {
        rc = term_db(s, i, term);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static uint64_t st_first_index(void *ud)
{
    return kv_raft_storage_first_index(ud);
}

static uint64_t st_last_index(void *ud)
{
    return kv_raft_storage_last_index(ud);
}

/* The state the store holds is the applied one: a snapshot of it is sent at
 * the applied index with the applied membership; its data is streamed by the
 * replica layer, not carried here. Until an installed snapshot's data is
 * ingested (applied below the truncation point) there is nothing to send. */
static int st_snapshot(void *ud, raft_snapshot_t *snap)
{
    kv_raft_storage *s = ud;
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    if (s->applied.index < s->trunc_index) {
        rc = RAFT_ESNAP_TEMP;
    } else {
        *snap = (raft_snapshot_t){.index = s->applied.index, .term = s->applied.term};
        snap->conf = s->applied.conf;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

raft_storage_t kv_raft_storage_table(kv_raft_storage *s)
{
    return (raft_storage_t){
        .ud = s,
        .initial_state = st_initial_state,
        .entries = st_entries,
        .term = st_term,
        .first_index = st_first_index,
        .last_index = st_last_index,
        .snapshot = st_snapshot,
    };
}

/* ---- getters ------------------------------------------------------------------------ */

uint64_t kv_raft_storage_range_id(const kv_raft_storage *s)
{
    return s->range_id;
}

uint64_t kv_raft_storage_first_index(kv_raft_storage *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->trunc_index + 1;
    pthread_mutex_unlock(&s->mu);
    return v;
}

uint64_t kv_raft_storage_last_index(kv_raft_storage *s)
{
    pthread_mutex_lock(&s->mu);
    uint64_t v = s->last;
    pthread_mutex_unlock(&s->mu);
    return v;
}

void kv_raft_storage_hard_state(kv_raft_storage *s, raft_hard_state_t *hs)
{
    pthread_mutex_lock(&s->mu);
    *hs = s->hs;
    pthread_mutex_unlock(&s->mu);
}

void kv_raft_storage_truncated(kv_raft_storage *s, uint64_t *index, uint64_t *term)
{
    pthread_mutex_lock(&s->mu);
    *index = s->trunc_index;
    *term = s->trunc_term;
    pthread_mutex_unlock(&s->mu);
}

void kv_raft_storage_applied(kv_raft_storage *s, kv_applied_state *as)
{
    pthread_mutex_lock(&s->mu);
    *as = s->applied;
    pthread_mutex_unlock(&s->mu);
}

int kv_raft_storage_last_error(kv_raft_storage *s, char *err, size_t errlen)
{
    pthread_mutex_lock(&s->mu);
    int code = s->last_err;
    if (code != 0 && err && errlen)
        snprintf(err, errlen, "%s", s->last_msg);
    pthread_mutex_unlock(&s->mu);
    return code;
}

void kv_raft_storage_cache_stats(kv_raft_storage *s, uint64_t *hits, uint64_t *misses)
{
    pthread_mutex_lock(&s->mu);
    *hits = s->hits;
    *misses = s->misses;
    pthread_mutex_unlock(&s->mu);
}

/* ---- applied state ------------------------------------------------------------------- */

int kv_raft_storage_applied_put(kv_raft_storage *s, kv_batch *b, const kv_applied_state *as)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    uint8_t val[APPLIED_FIXED + 5 + 4 * 8 * RAFT_MAX_MEMBERS];
    size_t klen = kv_local_key(key, s->range_id, KV_LOCAL_APPLIED_STATE, 0);
    size_t vlen = 0;
    int rc = encode_applied(as, val, sizeof val, &vlen);
    assert(rc == 0); /* the buffer fits the largest configuration */
    (void)rc;
    return kv_batch_put(b, s->engine, KV_CF_LOCAL, key, klen, val, vlen);
}

void kv_raft_storage_set_applied(kv_raft_storage *s, const kv_applied_state *as)
{
    pthread_mutex_lock(&s->mu);
    s->applied = *as;
    pthread_mutex_unlock(&s->mu);
}

/* ---- staging (writer thread) ------------------------------------------------------------ */

int kv__raft_storage_check(kv_raft_storage *s, const kv_raft_persist_req *req)
{
    for (size_t i = 1; i < req->n_entries; i++) {
        if (req->entries[i].index != req->entries[i - 1].index + 1)
            return KV_EINVAL;
    }
    if (req->truncate_index == 0)
        return 0;
    pthread_mutex_lock(&s->mu);
    bool ok = req->truncate_index <= s->applied.index;
    pthread_mutex_unlock(&s->mu);
    return ok ? 0 : KV_EINVAL;
}

static int put_truncated(kv_raft_storage *s, kv_batch *b, uint64_t index, uint64_t term)
{
    uint8_t key[KV_LOCAL_KEY_MAX], val[TRUNCATED_SIZE];
    size_t klen = kv_local_key(key, s->range_id, KV_LOCAL_RAFT_TRUNCATED, 0);
    kv__put_be64(val, index);
    kv__put_be64(val + 8, term);
    return kv_batch_put(b, s->engine, KV_CF_LOCAL, key, klen, val, sizeof val);
}

/* Deletes log entries [from, to) - to == 0: to the end of the log. */
static int delete_log(kv_raft_storage *s, kv_batch *b, uint64_t from, uint64_t to)
{
    uint8_t lk[KV_LOCAL_KEY_MAX], hk[KV_LOCAL_KEY_MAX];
    size_t llen = kv_local_key(lk, s->range_id, KV_LOCAL_RAFT_LOG, from);
    size_t hlen = to ? kv_local_key(hk, s->range_id, KV_LOCAL_RAFT_LOG, to)
                     : kv_local_range_end(hk, s->range_id);
    return kv_batch_delete_range(b, s->engine, KV_CF_LOCAL, lk, llen, hk, hlen);
}

static int stage_entries(kv_raft_storage *s, kv_batch *b, const raft_entry_t *ents, size_t n)
{
    uint8_t key[KV_LOCAL_KEY_MAX];
    assert(ents[0].index > s->staged_trunc && ents[0].index <= s->staged_last + 1);
    for (size_t i = 0; i < n; i++) {
        size_t need = 0;
        raft_entry_encode(&ents[i], NULL, 0, &need);
        if (kv_buf_reserve(&s->wbuf, need) != 0)
            return KV_ENOMEM;
        int rc = raft_entry_encode(&ents[i], (uint8_t *)s->wbuf.data, s->wbuf.cap, &need);
        assert(rc == 0);
        size_t klen = kv_local_key(key, s->range_id, KV_LOCAL_RAFT_LOG, ents[i].index);
        rc = kv_batch_put(b, s->engine, KV_CF_LOCAL, key, klen, s->wbuf.data, need);
        if (rc != 0)
            return rc;
    }
    uint64_t new_last = ents[n - 1].index;
    int rc = 0;
    /* A conflicting suffix beyond the new last entry goes (the part below it
     * was overwritten by the puts). Rare: only after a leader change. */
    if (s->staged_last > new_last)
        rc = delete_log(s, b, new_last + 1, 0);
    s->staged_last = new_last;
    return rc;
}

static int stage_hard_state(kv_raft_storage *s, kv_batch *b, const raft_hard_state_t *hs)
{
    uint8_t key[KV_LOCAL_KEY_MAX], val[24];
    size_t klen = kv_local_key(key, s->range_id, KV_LOCAL_HARD_STATE, 0);
    size_t vlen = 0;
    int rc = raft_hard_state_encode(hs, val, sizeof val, &vlen);
    assert(rc == 0);
    (void)rc;
    return kv_batch_put(b, s->engine, KV_CF_LOCAL, key, klen, val, vlen);
}

int kv__raft_storage_stage(kv_raft_storage *s, kv_batch *b, const kv_raft_persist_req *req)
{
    int rc = 0;
    if (req->snapshot) {
        rc = delete_log(s, b, 0, 0);
        rc = rc ? rc : put_truncated(s, b, req->snapshot->index, req->snapshot->term);
        s->staged_trunc = s->staged_last = req->snapshot->index;
    }
    if (rc == 0 && req->n_entries > 0)
        rc = stage_entries(s, b, req->entries, req->n_entries);
    if (rc == 0 && req->hs)
        rc = stage_hard_state(s, b, req->hs);
    if (rc == 0 && req->truncate_index > s->staged_trunc) {
        assert(req->truncate_index <= s->staged_last);
        rc = delete_log(s, b, 0, req->truncate_index + 1);
        rc = rc ? rc : put_truncated(s, b, req->truncate_index, req->truncate_term);
        s->staged_trunc = req->truncate_index;
    }
    return rc;
}

void kv__raft_storage_persisted(kv_raft_storage *s, const kv_raft_persist_req *req)
{
    pthread_mutex_lock(&s->mu);
    if (req->snapshot) {
        s->trunc_index = s->last = req->snapshot->index;
        s->trunc_term = req->snapshot->term;
        cache_clear(&s->cache);
    }
    if (req->n_entries > 0) {
        cache_append(&s->cache, req->entries, req->n_entries);
        s->last = req->entries[req->n_entries - 1].index;
    }
    if (req->hs)
        s->hs = *req->hs;
    if (req->truncate_index > s->trunc_index) {
        s->trunc_index = req->truncate_index;
        s->trunc_term = req->truncate_term;
        cache_drop_through(&s->cache, req->truncate_index);
    }
    pthread_mutex_unlock(&s->mu);
}

void kv__raft_storage_unstage(kv_raft_storage *s)
{
    pthread_mutex_lock(&s->mu);
    s->staged_last = s->last;
    s->staged_trunc = s->trunc_index;
    pthread_mutex_unlock(&s->mu);
}
