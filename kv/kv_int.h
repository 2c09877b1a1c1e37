/*
 * kv_int.h - helpers shared by the .c files of the kv library; not for
 * other libraries.
 */
#ifndef KV_KV_INT_H
#define KV_KV_INT_H

#include <stddef.h>
#include <stdint.h>

#include "kv/kv_error.h"

/* Formats a message into the caller's buffer (which may be NULL/0) and
 * returns `code`, so error paths read `return kv__errf(...)`. */
int kv__errf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Translates a RocksDB error string into a KV_E* code, writes
 * "<what>: <rocksdb message>" into the caller's buffer and frees `errptr`
 * (RocksDB allocates it with malloc). `errptr` must be non-NULL. */
int kv__rocksdb_err(char *errptr, char *err, size_t errlen, const char *what);

/* Translates an errno value from a file-system call on a store path. */
int kv__errno_err(int errnum, char *err, size_t errlen, const char *what, const char *path);

/* Big-endian integers: every on-disk integer in kv sorts bytewise. */
static inline void kv__put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void kv__put_be32(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline uint64_t kv__get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static inline uint32_t kv__get_be32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 8 | p[i];
    return v;
}

#endif /* KV_KV_INT_H */
