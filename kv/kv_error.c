/*
 * kv_error.c - kv_strerror() and the translation of foreign errors (RocksDB
 * status strings, errno) into KV_E* codes at the library boundary.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"

static const char *const kv_err_strings[] = {
#define KV__X(name, str) str,
    KV_ERRNO_MAP(KV__X)
#undef KV__X
};

static const char *const kv_err_names[] = {
#define KV__X(name, str) "KV_E" #name,
    KV_ERRNO_MAP(KV__X)
#undef KV__X
};

static int kv_err_index(int code)
{
    int idx = -code - 1;
    return idx >= 0 && idx < KV__IDX_COUNT ? idx : -1;
}

const char *kv_strerror(int code)
{
    if (code == 0)
        return "success";
    int idx = kv_err_index(code);
    return idx < 0 ? "unknown kv error" : kv_err_strings[idx];
}

const char *kv_err_name(int code)
{
    if (code == 0)
        return "0";
    int idx = kv_err_index(code);
    return idx < 0 ? "KV_E?" : kv_err_names[idx];
}

int kv__errf(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* RocksDB's C API only gives Status::ToString(): "<Code>: <detail>". The
 * code prefix decides the class; the detail distinguishes lock contention
 * and path problems, which callers handle differently from generic I/O. */
static int kv_rocksdb_code(const char *msg)
{
    if (strstr(msg, "lock") != NULL && (strstr(msg, "Resource temporarily unavailable") != NULL ||
                                        strstr(msg, "lock hold by current process") != NULL))
        return KV_ELOCKED;
    if (strstr(msg, "Not a directory") != NULL)
        return KV_ENOTDIR;
    if (strstr(msg, "Permission denied") != NULL || strstr(msg, "Read-only file system") != NULL)
        return KV_EACCES;
    if (strstr(msg, "Column families not opened") != NULL ||
        strstr(msg, "Invalid column family") != NULL)
        return KV_EBADCF;
    if (strncmp(msg, "Corruption", 10) == 0)
        return KV_ECORRUPT;
    if (strncmp(msg, "IO error", 8) == 0)
        return KV_EIO;
    if (strncmp(msg, "Invalid argument", 16) == 0)
        return KV_EINVAL;
    if (strncmp(msg, "NotFound", 8) == 0)
        return KV_ENOTFOUND;
    return KV_EENGINE;
}

int kv__rocksdb_err(char *errptr, char *err, size_t errlen, const char *what)
{
    int code = kv_rocksdb_code(errptr);
    kv__errf(err, errlen, code, "%s: %s", what, errptr);
    free(errptr);
    return code;
}

int kv__errno_err(int errnum, char *err, size_t errlen, const char *what, const char *path)
{
    int code;
    switch (errnum) {
    case ENOTDIR:
        code = KV_ENOTDIR;
        break;
    case EACCES:
    case EPERM:
    case EROFS:
        code = KV_EACCES;
        break;
    case ENOMEM:
        code = KV_ENOMEM;
        break;
    case ENOENT:
    case ENAMETOOLONG:
    case ELOOP:
        code = KV_EINVAL;
        break;
    default:
        code = KV_EIO;
        break;
    }
    return kv__errf(err, errlen, code, "%s %s: %s", what, path, strerror(errnum));
}
