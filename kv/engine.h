/*
 * engine.h - the storage engine: one RocksDB instance per store.
 *
 * A store directory holds one RocksDB database with two column families:
 *
 *   KV_CF_LOCAL  range-local state: Raft log entries, hard states, applied
 *                state, range descriptors (key prefixes in docs/storage.md)
 *   KV_CF_MVCC   versioned user data written through kv/mvcc.h
 *
 * Both use lz4 block compression and share one bounded LRU block cache.
 * Writes are collected in a kv_batch and committed atomically with or without
 * fsync; the batch's bytes (kv_batch_data) can be shipped through Raft and
 * rebuilt on every replica (kv_batch_from_data), so all replicas apply the
 * same bytes. Reads are point gets and bounded iterators, either at the
 * latest state or at a kv_snapshot.
 *
 * Thread safety: a kv_engine may be used from any number of threads at once
 * (RocksDB is thread-safe). A kv_batch, kv_iter or kv_buf belongs to one
 * thread at a time. A kv_snapshot may be shared by readers once created.
 *
 * Errors: every RocksDB error is returned as a KV_E* code (kv/kv_error.h)
 * plus RocksDB's message in the caller's `err` buffer; nothing here aborts.
 */
#ifndef KV_ENGINE_H
#define KV_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kv_engine kv_engine;
typedef struct kv_batch kv_batch;
typedef struct kv_iter kv_iter;
typedef struct kv_snapshot kv_snapshot;

typedef enum kv_cf {
    KV_CF_LOCAL = 0,
    KV_CF_MVCC = 1,
    KV_CF_COUNT /* not a column family: the number of them */
} kv_cf;

typedef struct kv_engine_options {
    size_t block_cache_bytes; /* 0: 64 MiB */
    bool create_if_missing;   /* create the directory and the database */
    bool error_if_exists;     /* fail with KV_EINVAL if a database exists */
} kv_engine_options;

/* A growable byte buffer the caller owns and reuses across calls, so hot
 * paths do not allocate once it has grown. Zero-initialise it ({0}); free
 * with kv_buf_free(). Functions that fill a kv_buf replace its contents. */
typedef struct kv_buf {
    char *data;
    size_t len;
    size_t cap;
} kv_buf;

/* Makes room for `cap` bytes, keeping the contents; KV_ENOMEM leaves the
 * buffer unchanged. */
int kv_buf_reserve(kv_buf *buf, size_t cap);
/* Replaces the contents with a copy of [p, p+n). */
int kv_buf_set(kv_buf *buf, const void *p, size_t n);
/* Frees the memory and leaves an empty, reusable buffer. */
void kv_buf_free(kv_buf *buf);

/* Opens (or with create_if_missing creates) the store at `dir`. `opts` may
 * be NULL for defaults (create_if_missing true). On success *out owns the
 * engine; release it with kv_engine_close(). Errors: KV_ENOTDIR (path is a
 * file or under one), KV_EACCES (cannot create or write it), KV_ELOCKED
 * (another process or another kv_engine holds it), KV_EBADCF (the store has
 * column families this build does not know), KV_ECORRUPT, KV_EIO. */
int kv_engine_open(const char *dir, const kv_engine_options *opts, kv_engine **out, char *err,
                   size_t errlen);

/* Closes the engine. All iterators and snapshots must be closed first
 * (asserted). NULL is a no-op. */
void kv_engine_close(kv_engine *e);

/* The directory the engine was opened on; valid until kv_engine_close. */
const char *kv_engine_dir(const kv_engine *e);

/* Commits `b` atomically. With `sync` the write is fsynced before return
 * (one WAL fsync for the whole batch). The batch is left unchanged, so the
 * caller clears or destroys it. */
int kv_engine_write(kv_engine *e, kv_batch *b, bool sync, char *err, size_t errlen);

/* Reads `key` from `cf` at `snap` (NULL: latest). On success copies the
 * value into `val`; KV_ENOTFOUND if the key is absent. */
int kv_engine_get(kv_engine *e, const kv_snapshot *snap, kv_cf cf, const void *key, size_t klen,
                  kv_buf *val, char *err, size_t errlen);

/* Writes a consistent, openable copy of the store into `dir`, which must
 * not exist (hard links where possible). */
int kv_engine_checkpoint(kv_engine *e, const char *dir, char *err, size_t errlen);

/* RocksDB's estimate of the bytes [start, end) of `cf` takes in SST files
 * (memtables not counted), for status pages. end NULL/0: unbounded. */
int kv_engine_approximate_size(kv_engine *e, kv_cf cf, const void *start, size_t slen,
                               const void *end, size_t elen, uint64_t *size);

/* Flushes memtables of every column family to SST files (waits). */
int kv_engine_flush(kv_engine *e, char *err, size_t errlen);

/* A consistent read view of the whole store. On success *out is owned by
 * the caller and released with kv_snapshot_close() (NULL is a no-op) before
 * the engine closes. Fails only with KV_ENOMEM. */
int kv_snapshot_open(kv_engine *e, kv_snapshot **out);
void kv_snapshot_close(kv_snapshot *s);

/* Batches. kv_batch_create fails only with KV_ENOMEM; on success *out is
 * owned by the caller and freed with kv_batch_destroy() (NULL is a no-op).
 * A batch is not tied to an engine. Keys and values are copied into the
 * batch; the caller keeps ownership of its buffers. Mutators return
 * KV_EBADCF, adding nothing, for a column family outside kv_cf. */
int kv_batch_create(kv_batch **out);
void kv_batch_destroy(kv_batch *b);
void kv_batch_clear(kv_batch *b);
int kv_batch_put(kv_batch *b, kv_engine *e, kv_cf cf, const void *key, size_t klen, const void *val,
                 size_t vlen);
int kv_batch_delete(kv_batch *b, kv_engine *e, kv_cf cf, const void *key, size_t klen);
/* Deletes every key in [start, end) of `cf` with one range tombstone. */
int kv_batch_delete_range(kv_batch *b, kv_engine *e, kv_cf cf, const void *start, size_t slen,
                          const void *end, size_t elen);
/* Number of operations in the batch. */
int kv_batch_count(const kv_batch *b);
/* The batch's serialized bytes (RocksDB WriteBatch format); the pointer is
 * borrowed and valid until the batch is next modified or destroyed. */
const char *kv_batch_data(const kv_batch *b, size_t *len);
/* Builds a batch from bytes produced by kv_batch_data (on this or another
 * node), validating every record first: KV_ECORRUPT if the bytes do not
 * parse as a batch, KV_EBADCF if a record names a column family `e` does not
 * have. The bytes are copied; on success *out is owned by the caller. */
int kv_batch_from_data(kv_engine *e, const void *data, size_t len, kv_batch **out, char *err,
                       size_t errlen);

/* Adds the records of `data` (bytes kv_batch_data produced) to `rep`, the
 * bytes of a batch being gathered (start with an empty kv_buf: the header
 * comes with the first call), so that many replicated batches apply in one
 * write: kv_batch_from_data(rep) validates and builds it. KV_ECORRUPT
 * (shorter than a header), KV_ENOMEM. */
int kv_batch_rep_append(kv_buf *rep, const void *data, size_t len);

/* Iterators over one column family, bounded to [lower, upper) (either may
 * be NULL/0 for unbounded); bounds are copied. They see the state at `snap`
 * or, with NULL, the state when the iterator was opened. On success *out is
 * owned by the caller and closed with kv_iter_close() (NULL is a no-op)
 * before the engine closes; on failure nothing is allocated. A positioning
 * call leaves the iterator either valid or exhausted; after it, check
 * kv_iter_valid() and, when it is false, kv_iter_status() for an error. */
int kv_iter_open(kv_engine *e, const kv_snapshot *snap, kv_cf cf, const void *lower, size_t llen,
                 const void *upper, size_t ulen, kv_iter **out, char *err, size_t errlen);
void kv_iter_close(kv_iter *it);
void kv_iter_seek_first(kv_iter *it);
void kv_iter_seek_last(kv_iter *it);
/* Positions at the first key >= key. */
void kv_iter_seek_ge(kv_iter *it, const void *key, size_t klen);
/* Positions at the last key <= key. */
void kv_iter_seek_le(kv_iter *it, const void *key, size_t klen);
void kv_iter_next(kv_iter *it);
void kv_iter_prev(kv_iter *it);
bool kv_iter_valid(const kv_iter *it);
/* Key and value of the current entry; borrowed, valid until the iterator
 * moves or closes. Only while kv_iter_valid(). */
const char *kv_iter_key(const kv_iter *it, size_t *klen);
const char *kv_iter_value(const kv_iter *it, size_t *vlen);
/* 0, or the error that stopped the iteration. */
int kv_iter_status(const kv_iter *it, char *err, size_t errlen);

#endif /* KV_ENGINE_H */
