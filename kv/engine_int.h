/*
 * engine_int.h - layouts shared by engine.c (open, writes, reads) and
 * engine_iter.c (batches, iterators).
 */
#ifndef KV_ENGINE_INT_H
#define KV_ENGINE_INT_H

#include <rocksdb/c.h>
#include <stdatomic.h>

#include "kv/engine.h"
#include "kv/mvcc.h"

typedef struct kv__vcache kv__vcache;

struct kv_engine {
    rocksdb_t *db;
    rocksdb_options_t *opts;      /* database and KV_CF_LOCAL */
    rocksdb_options_t *mvcc_opts; /* KV_CF_MVCC: adds the user-key prefix extractor */
    rocksdb_block_based_table_options_t *table_opts;
    rocksdb_cache_t *cache;
    rocksdb_column_family_handle_t *cf[KV_CF_COUNT];
    rocksdb_writeoptions_t *wo_sync;
    rocksdb_writeoptions_t *wo_nosync;
    rocksdb_readoptions_t *ro_latest;
    atomic_int open_views; /* snapshots + iterators; must be 0 at close */
    kv__vcache *vcache;    /* newest versions of recently read keys */
    uint32_t mvcc_cf_id;   /* KV_CF_MVCC's id in write batch records */
    char *dir;
};

struct kv_snapshot {
    kv_engine *engine;
    const rocksdb_snapshot_t *snap;
    rocksdb_readoptions_t *ro;
};

struct kv_batch {
    rocksdb_writebatch_t *wb;
};

/* Write batch record tags (engine_iter.c has the whole format). */
enum { KV__WB_DELETE = 0x04, KV__WB_PUT = 0x05, KV__WB_RANGE_DELETE = 0x0E };

/* One record of a write batch; the pointers borrow the batch's bytes.
 * A range deletion's begin and end are key and val. */
typedef struct kv__batch_record {
    uint8_t tag;
    uint32_t cf;
    const uint8_t *key, *val;
    size_t klen, vlen;
} kv__batch_record;

/* Calls fn for each record of `b` in order; 0, or KV_ECORRUPT if its bytes
 * do not parse (never for a batch that kv_batch_from_data accepted or the
 * kv_batch_* mutators built). */
int kv__batch_walk(const kv_batch *b, void (*fn)(void *arg, const kv__batch_record *r), void *arg);

/* The column family handle for `cf`, or NULL if `cf` is not a kv_cf. */
rocksdb_column_family_handle_t *kv__engine_cf(kv_engine *e, kv_cf cf);

/* As kv_iter_open on KV_CF_MVCC, for iterators that stay within the
 * entries of one user key: they seek in prefix mode, so the memtable and
 * SST prefix blooms skip keys that have no entries at all (the common case
 * for a write of a new key). kv_iter_open iterators use total order. */
int kv__iter_open_prefix(kv_engine *e, const kv_snapshot *snap, const void *lower, size_t llen,
                         const void *upper, size_t ulen, kv_iter **out, char *err, size_t errlen);

/* The MVCC prefix extractor (mvcc_codec.c): the length of the escaped user
 * key that starts an encoded MVCC key, 0 if it has no terminator. */
size_t kv__mvcc_prefix_len(const char *key, size_t len);

/* ---- the newest-version cache (vcache.c) ----------------------------- */

/* On success *out is owned by the caller (kv__vcache_destroy). KV_ENOMEM. */
int kv__vcache_create(kv__vcache **out);
void kv__vcache_destroy(kv__vcache *c);

/* The cache entries one engine write voids, gathered before it: the slots
 * of the user keys it writes (as escaped MVCC key prefixes), or `all`. */
#define KV__VCACHE_WRITE_SLOTS 32
typedef struct kv__vcache_write {
    bool all; /* a range deletion, or more keys than fit: every entry */
    unsigned n;
    uint16_t slot[KV__VCACHE_WRITE_SLOTS];
} kv__vcache_write;

/* Adds the user key whose escaped MVCC prefix is `prefix` to `w`. */
void kv__vcache_write_key(kv__vcache_write *w, const void *prefix, size_t plen);

/* Bracket the engine write that `w` describes: from begin on, its keys'
 * entries do not serve, and no read that began before end fills them. */
void kv__vcache_write_begin(kv__vcache *c, const kv__vcache_write *w);
void kv__vcache_write_end(kv__vcache *c, const kv__vcache_write *w);

/* What a fill must show to be accepted: the state of the key's slot and of
 * the whole cache when the read began. */
typedef struct kv__vcache_tag {
    uint64_t epoch, wgen;
    bool ok; /* no write touching the key was in flight */
} kv__vcache_tag;

/* Answers a point read of the user key whose escaped MVCC prefix is
 * `prefix` at `read_ts` from the cache when it can: returns true with
 * *rc = 0 (value copied into `val`, its ts into *val_ts if not NULL),
 * KV_ENOTFOUND, or KV_ENOMEM. False: ask the engine, after which
 * kv__vcache_put may record the answer with the *tag given here, which
 * must be taken BEFORE the engine's iterator is created. */
bool kv__vcache_get(kv__vcache *c, const void *prefix, size_t plen, kv_ts read_ts, kv_buf *val,
                    kv_ts *val_ts, int *rc, kv__vcache_tag *tag);

/* Records what a read tagged `tag` found as the key's newest state: a live
 * value at ts (`found`), a tombstone at ts, or no entries (ts zero). The
 * bytes are copied. Does nothing if a write touching the key began since
 * the tag was taken, or for oversized keys/values. */
void kv__vcache_put(kv__vcache *c, const kv__vcache_tag *tag, const void *prefix, size_t plen,
                    bool found, const void *val, size_t vlen, kv_ts ts);

#endif /* KV_ENGINE_INT_H */
