/*
 * net_error.h - the error codes of the whole net library.
 *
 * Every net function that can fail returns an int: 0 (or a documented
 * non-negative result) on success, or one of the negative NET_E* codes
 * below. The codes come from ONE X-macro table so names, values and strings
 * cannot drift apart; later net modules (transport, HTTP) add rows here.
 * Codes are stable only within a build: never persist or send them.
 *
 * Protocol-level failures that a PostgreSQL client must see (08P01,
 * 28P01, ...) travel as a sql_error next to the code; the code says only
 * what kind of failure it was.
 */
#ifndef NET_NET_ERROR_H
#define NET_NET_ERROR_H

/* X(NAME, "description") -> NET_ENAME. Append new rows at the end. */
#define NET_ERRNO_MAP(X)                           \
    X(INVAL, "invalid argument")                   \
    X(NOMEM, "out of memory")                      \
    X(PROTO, "protocol violation")                 \
    X(AUTH, "authentication failed")               \
    X(CRYPTO, "cryptographic library failure")     \
    X(SYSTEM, "operating system call failed")      \
    X(ADDR, "invalid network address")             \
    X(NOPEER, "unknown peer node")                 \
    X(DROPPED, "message dropped: send queue full") \
    X(CLOSED, "transport closed")

/* Internal: dense indices, so the public codes can be -(index + 1). */
enum net__errno_index {
#define NET__X(name, str) NET__IDX_##name,
    NET_ERRNO_MAP(NET__X)
#undef NET__X
        NET__IDX_COUNT
};

enum net_errno {
#define NET__X(name, str) NET_E##name = -(NET__IDX_##name + 1),
    NET_ERRNO_MAP(NET__X)
#undef NET__X
};

/* A static description of `code` (0 gives "success"); never NULL, never
 * freed. Unknown codes give "unknown net error". */
const char *net_strerror(int code);

#endif /* NET_NET_ERROR_H */
