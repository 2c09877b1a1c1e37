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

/* Bracket every engine write: entries filled before the write's end never
 * serve again. */
void kv__vcache_write_begin(kv__vcache *c);
void kv__vcache_write_end(kv__vcache *c);

/* The write generation to tag a fill with, read BEFORE the fill's iterator
 * is created; 0 while a write is in flight (then nothing is filled). */
uint64_t kv__vcache_gen(kv__vcache *c);

/* Answers a point read of user key `key` at `read_ts` from the cache when it
 * can: returns true with *rc = 0 (value copied into `val`, its ts into
 * *val_ts if not NULL), KV_ENOTFOUND, or KV_ENOMEM. False: ask the engine. */
bool kv__vcache_get(kv__vcache *c, const void *key, size_t klen, kv_ts read_ts, kv_buf *val,
                    kv_ts *val_ts, int *rc);

/* Records what a read tagged `gen` found as the key's newest state: a live
 * value at ts (`found`), a tombstone at ts, or no entries (ts zero). The
 * bytes are copied. Does nothing for gen 0 or oversized keys/values. */
void kv__vcache_put(kv__vcache *c, uint64_t gen, const void *key, size_t klen, bool found,
                    const void *val, size_t vlen, kv_ts ts);

#endif /* KV_ENGINE_INT_H */
