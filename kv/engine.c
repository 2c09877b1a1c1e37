/*
 * engine.c - opening and closing a store, commits, point reads, snapshots
 * and checkpoints over the RocksDB C API. Batches and iterators live in
 * engine_iter.c.
 *
 * Every RocksDB call that reports through `errptr` is checked, and its
 * message is handed to the caller through kv__rocksdb_err().
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kv/engine_int.h"
#include "kv/kv_int.h"

#define KV_DEFAULT_CACHE_BYTES ((size_t)64 << 20)

/* RocksDB requires the "default" family to be opened; kv never writes it.
 * The order fixes the handle index: cf_names[i + 1] is kv_cf i. */
static const char *const cf_names[KV_CF_COUNT + 1] = {"default", "local", "mvcc"};

int kv_buf_reserve(kv_buf *buf, size_t cap)
{
    if (cap <= buf->cap)
        return 0;
    size_t ncap = buf->cap < 64 ? 64 : buf->cap;
    while (ncap < cap)
        ncap *= 2;
    char *p = realloc(buf->data, ncap);
    if (p == NULL)
        return KV_ENOMEM;
    buf->data = p;
    buf->cap = ncap;
    return 0;
}

int kv_buf_set(kv_buf *buf, const void *p, size_t n)
{
    int rc = kv_buf_reserve(buf, n);
    if (rc != 0)
        return rc;
    if (n > 0)
        memcpy(buf->data, p, n);
    buf->len = n;
    return 0;
}

void kv_buf_free(kv_buf *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

rocksdb_column_family_handle_t *kv__engine_cf(kv_engine *e, kv_cf cf)
{
    if ((int)cf < 0 || cf >= KV_CF_COUNT)
        return NULL;
    return e->cf[cf];
}

/* RocksDB would report a file in the way as a generic I/O error and creates
 * only the last path component; checking first gives a precise code. */
static int kv_check_dir(const char *dir, bool create, char *err, size_t errlen)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return kv__errf(err, errlen, KV_ENOTDIR, "store path %s is not a directory", dir);
        if (access(dir, W_OK | X_OK) != 0)
            return kv__errno_err(errno, err, errlen, "cannot write store directory", dir);
        return 0;
    }
    if (errno != ENOENT)
        return kv__errno_err(errno, err, errlen, "cannot stat store directory", dir);
    if (!create)
        return kv__errf(err, errlen, KV_EINVAL, "store directory %s does not exist", dir);
    if (mkdir(dir, 0755) != 0)
        return kv__errno_err(errno, err, errlen, "cannot create store directory", dir);
    return 0;
}

static void kv_engine_free(kv_engine *e)
{
    for (int i = 0; i < KV_CF_COUNT; i++) {
        if (e->cf[i] != NULL)
            rocksdb_column_family_handle_destroy(e->cf[i]);
    }
    if (e->db != NULL)
        rocksdb_close(e->db);
    if (e->ro_latest != NULL)
        rocksdb_readoptions_destroy(e->ro_latest);
    kv__vcache_destroy(e->vcache);
    if (e->wo_nosync != NULL)
        rocksdb_writeoptions_destroy(e->wo_nosync);
    if (e->wo_sync != NULL)
        rocksdb_writeoptions_destroy(e->wo_sync);
    if (e->mvcc_opts != NULL)
        rocksdb_options_destroy(e->mvcc_opts);
    if (e->opts != NULL)
        rocksdb_options_destroy(e->opts);
    if (e->table_opts != NULL)
        rocksdb_block_based_options_destroy(e->table_opts);
    if (e->cache != NULL)
        rocksdb_cache_destroy(e->cache);
    free(e->dir);
    free(e);
}

static char *mvcc_prefix(void *state, const char *key, size_t len, size_t *plen)
{
    (void)state;
    *plen = kv__mvcc_prefix_len(key, len);
    return (char *)key;
}

/* RocksDB calls the destructor unconditionally; there is no state. */
static void mvcc_prefix_destroy(void *state)
{
    (void)state;
}

static unsigned char mvcc_prefix_in_domain(void *state, const char *key, size_t len)
{
    (void)state;
    return kv__mvcc_prefix_len(key, len) > 0;
}

static unsigned char mvcc_prefix_in_range(void *state, const char *key, size_t len)
{
    (void)state, (void)key, (void)len;
    return 0;
}

static const char *mvcc_prefix_name(void *state)
{
    (void)state;
    return "tardigrade.mvcc.userkey.v1";
}

/* The MVCC family groups all entries of a user key under one prefix (the
 * escaped key): a write or get then seeks in prefix mode and the memtable
 * and SST blooms answer "no entries" without a skiplist or block search. */
static void kv_engine_configure_mvcc(kv_engine *e)
{
    e->mvcc_opts = rocksdb_options_create_copy(e->opts);
    rocksdb_slicetransform_t *st =
        rocksdb_slicetransform_create(NULL, mvcc_prefix_destroy, mvcc_prefix, mvcc_prefix_in_domain,
                                      mvcc_prefix_in_range, mvcc_prefix_name);
    rocksdb_options_set_prefix_extractor(e->mvcc_opts, st); /* the options own it now */
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(e->mvcc_opts, 0.1);
}

static void kv_engine_configure(kv_engine *e, const kv_engine_options *o)
{
    size_t cache = o->block_cache_bytes ? o->block_cache_bytes : KV_DEFAULT_CACHE_BYTES;
    e->cache = rocksdb_cache_create_lru(cache);
    e->table_opts = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_block_cache(e->table_opts, e->cache);
    rocksdb_block_based_options_set_filter_policy(e->table_opts,
                                                  rocksdb_filterpolicy_create_bloom_full(10));
    e->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(e->opts, o->create_if_missing);
    rocksdb_options_set_create_missing_column_families(e->opts, o->create_if_missing);
    rocksdb_options_set_error_if_exists(e->opts, o->error_if_exists);
    rocksdb_options_set_compression(e->opts, rocksdb_lz4_compression);
    rocksdb_options_set_block_based_table_factory(e->opts, e->table_opts);
    kv_engine_configure_mvcc(e);
    e->wo_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(e->wo_sync, 1);
    e->wo_nosync = rocksdb_writeoptions_create();
    e->ro_latest = rocksdb_readoptions_create();
}

int kv_engine_open(const char *dir, const kv_engine_options *opts, kv_engine **out, char *err,
                   size_t errlen)
{
    static const kv_engine_options defaults = {.create_if_missing = true};
    const kv_engine_options *o = opts ? opts : &defaults;
    if (dir == NULL || dir[0] == '\0')
        return kv__errf(err, errlen, KV_EINVAL, "empty store path");
    int rc = kv_check_dir(dir, o->create_if_missing, err, errlen);
    if (rc != 0)
        return rc;
    kv_engine *e = calloc(1, sizeof(*e));
    if (e == NULL || (e->dir = strdup(dir)) == NULL || kv__vcache_create(&e->vcache) != 0) {
        rc = kv__errf(err, errlen, KV_ENOMEM, "out of memory opening %s", dir);
        goto out_free_engine;
    }
    kv_engine_configure(e, o);
    const rocksdb_options_t *cf_opts[KV_CF_COUNT + 1];
    rocksdb_column_family_handle_t *handles[KV_CF_COUNT + 1] = {0};
    for (int i = 0; i <= KV_CF_COUNT; i++)
        cf_opts[i] = i == KV_CF_MVCC + 1 ? e->mvcc_opts : e->opts;
    char *errptr = NULL;
    e->db = rocksdb_open_column_families(e->opts, dir, KV_CF_COUNT + 1, cf_names, cf_opts, handles,
                                         &errptr);
    if (errptr != NULL) {
        rc = kv__rocksdb_err(errptr, err, errlen, "cannot open store");
        goto out_free_engine;
    }
    /* kv never touches "default"; its handle is owned by the DB. */
    rocksdb_column_family_handle_destroy(handles[0]);
    for (int i = 0; i < KV_CF_COUNT; i++)
        e->cf[i] = handles[i + 1];
    e->mvcc_cf_id = rocksdb_column_family_handle_get_id(e->cf[KV_CF_MVCC]);
    *out = e;
    return 0;

out_free_engine:
    if (e != NULL)
        kv_engine_free(e);
    return rc;
}

void kv_engine_close(kv_engine *e)
{
    if (e == NULL)
        return;
    assert(atomic_load(&e->open_views) == 0);
    kv_engine_free(e);
}

const char *kv_engine_dir(const kv_engine *e)
{
    return e->dir;
}

struct write_keys {
    kv__vcache_write w;
    uint32_t mvcc_cf_id;
};

/* Names the user key a record writes in the newest-version cache. */
static void note_record(void *arg, const kv__batch_record *r)
{
    struct write_keys *wk = arg;
    if (r->cf != wk->mvcc_cf_id || wk->w.all)
        return; /* not user data, or every entry is voided already */
    size_t plen =
        r->tag == KV__WB_RANGE_DELETE ? 0 : kv__mvcc_prefix_len((const char *)r->key, r->klen);
    if (plen == 0)
        wk->w.all = true;
    else
        kv__vcache_write_key(&wk->w, r->key, plen);
}

int kv_engine_write(kv_engine *e, kv_batch *b, bool sync, char *err, size_t errlen)
{
    char *errptr = NULL;
    struct write_keys wk = {.mvcc_cf_id = e->mvcc_cf_id};
    if (kv__batch_walk(b, note_record, &wk) != 0)
        wk.w.all = true;
    kv__vcache_write_begin(e->vcache, &wk.w);
    rocksdb_write(e->db, sync ? e->wo_sync : e->wo_nosync, b->wb, &errptr);
    kv__vcache_write_end(e->vcache, &wk.w);
    if (errptr != NULL)
        return kv__rocksdb_err(errptr, err, errlen, "write failed");
    return 0;
}

int kv_engine_get(kv_engine *e, const kv_snapshot *snap, kv_cf cf, const void *key, size_t klen,
                  kv_buf *val, char *err, size_t errlen)
{
    rocksdb_column_family_handle_t *h = kv__engine_cf(e, cf);
    if (h == NULL)
        return kv__errf(err, errlen, KV_EBADCF, "unknown column family %d", (int)cf);
    char *errptr = NULL;
    rocksdb_pinnableslice_t *ps = rocksdb_get_pinned_cf(e->db, snap ? snap->ro : e->ro_latest, h,
                                                        (const char *)key, klen, &errptr);
    if (errptr != NULL)
        return kv__rocksdb_err(errptr, err, errlen, "get failed");
    if (ps == NULL)
        return KV_ENOTFOUND;
    size_t vlen;
    const char *v = rocksdb_pinnableslice_value(ps, &vlen);
    int rc = kv_buf_set(val, v, vlen);
    rocksdb_pinnableslice_destroy(ps);
    if (rc != 0)
        return kv__errf(err, errlen, rc, "out of memory copying a %zu-byte value", vlen);
    return 0;
}

int kv_engine_checkpoint(kv_engine *e, const char *dir, char *err, size_t errlen)
{
    char *errptr = NULL;
    rocksdb_checkpoint_t *cp = rocksdb_checkpoint_object_create(e->db, &errptr);
    if (errptr != NULL)
        return kv__rocksdb_err(errptr, err, errlen, "cannot create checkpoint object");
    rocksdb_checkpoint_create(cp, dir, 0, &errptr);
    rocksdb_checkpoint_object_destroy(cp);
    if (errptr != NULL)
        return kv__rocksdb_err(errptr, err, errlen, "checkpoint failed");
    return 0;
}

int kv_engine_approximate_size(kv_engine *e, kv_cf cf, const void *start, size_t slen,
                               const void *end, size_t elen, uint64_t *size)
{
    static const char max[8] = {(char)0xff, (char)0xff, (char)0xff, (char)0xff,
                                (char)0xff, (char)0xff, (char)0xff, (char)0xff};
    if ((unsigned)cf >= KV_CF_COUNT)
        return KV_EBADCF;
    const char *s = start, *l = end != NULL && elen > 0 ? end : max;
    size_t ll = end != NULL && elen > 0 ? elen : sizeof(max);
    char *errptr = NULL;
    rocksdb_approximate_sizes_cf(e->db, e->cf[cf], 1, &s, &slen, &l, &ll, size, &errptr);
    return errptr != NULL ? kv__rocksdb_err(errptr, NULL, 0, "approximate size") : 0;
}

int kv_engine_flush(kv_engine *e, char *err, size_t errlen)
{
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    char *errptr = NULL;
    for (int i = 0; i < KV_CF_COUNT && errptr == NULL; i++)
        rocksdb_flush_cf(e->db, fo, e->cf[i], &errptr);
    rocksdb_flushoptions_destroy(fo);
    if (errptr != NULL)
        return kv__rocksdb_err(errptr, err, errlen, "flush failed");
    return 0;
}

int kv_snapshot_open(kv_engine *e, kv_snapshot **out)
{
    kv_snapshot *s = malloc(sizeof(*s));
    if (s == NULL)
        return KV_ENOMEM;
    s->engine = e;
    s->snap = rocksdb_create_snapshot(e->db);
    s->ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_snapshot(s->ro, s->snap);
    atomic_fetch_add(&e->open_views, 1);
    *out = s;
    return 0;
}

void kv_snapshot_close(kv_snapshot *s)
{
    if (s == NULL)
        return;
    rocksdb_readoptions_destroy(s->ro);
    rocksdb_release_snapshot(s->engine->db, s->snap);
    atomic_fetch_sub(&s->engine->open_views, 1);
    free(s);
}
