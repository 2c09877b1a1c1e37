/*
 * kv_error.h - the error codes of the whole kv library.
 *
 * Every kv function that can fail returns an int: 0 on success or one of the
 * negative KV_E* codes below. The codes come from ONE X-macro table so the
 * names, values and strings cannot drift apart; later kv modules (ranges,
 * replicas, transactions) add their rows here rather than inventing a second
 * table. Codes are stable only within a build: never persist them.
 *
 * Where context matters (which file, which key, what RocksDB said) functions
 * also take a caller-supplied message buffer `char *err, size_t errlen`; it
 * may be NULL/0, is always NUL-terminated when errlen > 0, and is written
 * only when the function fails.
 */
#ifndef KV_KV_ERROR_H
#define KV_KV_ERROR_H

/* X(NAME, "description") -> KV_ENAME. Append new rows at the end. */
#define KV_ERRNO_MAP(X)                                                     \
    X(INVAL, "invalid argument")                                            \
    X(NOMEM, "out of memory")                                               \
    X(IO, "storage I/O error")                                              \
    X(CORRUPT, "corrupt or undecodable data")                               \
    X(NOTFOUND, "not found")                                                \
    X(LOCKED, "store is locked by another process")                         \
    X(NOTDIR, "store path is not a directory")                              \
    X(ACCES, "store path is not writable")                                  \
    X(BADCF, "unknown column family")                                       \
    X(ENGINE, "storage engine error")                                       \
    X(WRITETOOOLD, "write too old: a newer committed version exists")       \
    X(WRITEINTENT, "conflicting write intent of another transaction")       \
    X(CANCELED, "request canceled while waiting")                           \
    X(CLOCKOFFSET, "remote clock ahead by more than the maximum offset")    \
    X(RANGEKEYMISMATCH, "key outside the range the request was sent to")    \
    X(CONDFAILED, "condition failed: the current value differs")            \
    X(TXNRETRY, "transaction must restart: serializable conflict")          \
    X(TXNABORTED, "transaction aborted")                                    \
    X(AMBIGUOUS, "result ambiguous: the write may or may not have applied") \
    X(READUNCERTAIN, "value in the read's clock uncertainty interval")      \
    X(NOTLEASEHOLDER, "this replica does not hold the range lease")         \
    X(RANGENOTFOUND, "this node holds no replica of the range")             \
    X(UNAVAILABLE, "range unavailable: no quorum or node unreachable")      \
    X(STOPPED, "node is shutting down")                                     \
    X(UNREACHABLE, "node unreachable: the request was not sent")

/* Internal: dense indices, so the public codes can be -(index + 1). */
enum kv__errno_index {
#define KV__X(name, str) KV__IDX_##name,
    KV_ERRNO_MAP(KV__X)
#undef KV__X
        KV__IDX_COUNT
};

enum kv_errno {
#define KV__X(name, str) KV_E##name = -(KV__IDX_##name + 1),
    KV_ERRNO_MAP(KV__X)
#undef KV__X
};

/* A static description of `code` (0 gives "success"); never NULL, never
 * freed. Unknown codes give "unknown kv error". */
const char *kv_strerror(int code);

/* The symbolic name of `code` ("KV_EWRITEINTENT"), for logs and tests;
 * static storage like kv_strerror(). */
const char *kv_err_name(int code);

#endif /* KV_KV_ERROR_H */
