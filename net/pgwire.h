/*
 * pgwire.h - the PostgreSQL v3 frontend/backend protocol, without sockets.
 *
 * Three layers the pgwire listener drives (docs/pgwire.md):
 *   1. net_pg_reader: an incremental frame reader. Feed it bytes as a socket
 *      delivers them; take out complete frames. Startup-phase packets have no
 *      type byte; every later message does. Length limits are enforced before
 *      a byte of payload is buffered.
 *   2. net_pg_parse(): one typed parser for every frontend message; every
 *      malformed shape is 08P01 with a precise detail. net_pg_put_*(): one
 *      builder per backend message into a growable net_pg_buf that the
 *      caller writes out completely (PostgreSQL's discipline: a message is
 *      built whole before any byte of it is sent).
 *   3. net_pg_conn: the connection-level state machine: startup, trust /
 *      cleartext / SCRAM-SHA-256 authentication, ParameterStatus set,
 *      BackendKeyData, ReadyForQuery status, and "after an error in the
 *      extended protocol, skip until Sync". Statement execution is the
 *      caller's: the conn hands it Query/Parse/Bind/... messages.
 *
 * Frame layout (all integers big-endian):
 *
 *   startup phase            | later messages
 *   offset size field        | offset size field
 *   0      4    length (incl) | 0      1    type byte ('Q', 'P', ...)
 *   4      4    code          | 1      4    length (incl. itself, not type)
 *   8      n    body          | 5      n    body
 *
 * Errors: functions return 0 (or a documented non-negative result) or a
 * negative NET_E* code (net/net_error.h); protocol errors the client must
 * see are also described in a caller-supplied sql_error whose strings live
 * in the arena passed alongside.
 */
#ifndef NET_PGWIRE_H
#define NET_PGWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "kv/kv.h"
#include "net/net_error.h"
#include "sql/sql_error.h"

/* PostgreSQL's own limits: a startup packet may not exceed 10000 bytes
 * (MAX_STARTUP_PACKET_LENGTH), any other message 1 GiB (PQ_LARGE_MESSAGE_LIMIT). */
#define NET_PG_MAX_STARTUP 10000u
#define NET_PG_MAX_MESSAGE (1u << 30)

/* The PostgreSQL version advertised in server_version. psql and pgbench 15
 * choose their catalog queries and COPY syntax by it, pgjdbc refuses to
 * connect without it; docs/pgwire.md explains the choice. */
#define NET_PG_SERVER_VERSION "15.18"

/* The protocol version this server speaks: 3.0. */
#define NET_PG_PROTOCOL_MAJOR 3
#define NET_PG_PROTOCOL_MINOR 0

/* ---- output buffer --------------------------------------------------- */

/* A growable byte buffer owned by the caller. Zero-initialise it; release
 * it with net_pg_buf_free(). `data[0, len)` is what to send. A failed
 * allocation leaves the buffer as it was before the failing builder call
 * (no half message) and returns NET_ENOMEM. */
typedef struct net_pg_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} net_pg_buf;

/* Frees the buffer's memory; the struct may be reused zeroed. */
void net_pg_buf_free(net_pg_buf *b);
/* Forgets the content (after it was sent) but keeps the memory. */
void net_pg_buf_reset(net_pg_buf *b);

/* ---- frame reader ---------------------------------------------------- */

typedef struct net_pg_reader net_pg_reader;

/* A complete frame. `type` is 0 for startup-phase packets. `body` points
 * into the reader's buffer and stays valid until the next call of
 * net_pg_reader_feed() or net_pg_reader_destroy(). */
typedef struct net_pg_frame {
    char type;
    const uint8_t *body;
    size_t len;
} net_pg_frame;

/* A reader in the startup phase. `max_message` bounds the body of typed
 * messages (0: NET_PG_MAX_MESSAGE); startup packets are bounded by
 * NET_PG_MAX_STARTUP. The caller frees it with net_pg_reader_destroy().
 * NET_ENOMEM. */
int net_pg_reader_create(size_t max_message, net_pg_reader **out);
void net_pg_reader_destroy(net_pg_reader *r);
/* Leaves the startup phase: from now on every frame has a type byte. */
void net_pg_reader_start_typed(net_pg_reader *r);
/* Copies [data, data+len) into the reader (the caller keeps `data`).
 * Invalidates frames returned earlier. NET_ENOMEM. */
int net_pg_reader_feed(net_pg_reader *r, const void *data, size_t len);
/* Takes the next complete frame: 1 and *f set; 0 when more bytes are
 * needed; NET_EPROTO with `err` set (08P01, strings in `arena`) when the
 * length word is impossible or beyond the limit: framing is lost, send the
 * error and close the connection. A reader that failed keeps failing. */
int net_pg_reader_next(net_pg_reader *r, net_pg_frame *f, sql_error *err, kv_arena *arena);
/* The type byte of the next frame if it is completely buffered and the
 * reader is past the startup phase, else 0. Takes nothing out. */
char net_pg_reader_peek(const net_pg_reader *r);

/* ---- frontend messages ----------------------------------------------- */

typedef enum net_pg_msg_kind {
    NET_PG_SSL_REQUEST,    /* startup phase, code 80877103 */
    NET_PG_GSSENC_REQUEST, /* startup phase, code 80877104 */
    NET_PG_CANCEL_REQUEST, /* startup phase, code 80877102 */
    NET_PG_STARTUP,        /* startup phase, code major << 16 | minor */
    NET_PG_PASSWORD,       /* 'p': password, SASLInitialResponse or SASLResponse */
    NET_PG_QUERY,          /* 'Q' */
    NET_PG_PARSE,          /* 'P' */
    NET_PG_BIND,           /* 'B' */
    NET_PG_DESCRIBE,       /* 'D' */
    NET_PG_EXECUTE,        /* 'E' */
    NET_PG_CLOSE,          /* 'C' */
    NET_PG_SYNC,           /* 'S' */
    NET_PG_FLUSH,          /* 'H' */
    NET_PG_TERMINATE,      /* 'X' */
    NET_PG_COPY_DATA,      /* 'd' */
    NET_PG_COPY_DONE,      /* 'c' */
    NET_PG_COPY_FAIL,      /* 'f' */
} net_pg_msg_kind;

/* A parameter value or a column value: len -1 is SQL NULL (data NULL). */
typedef struct net_pg_value {
    const uint8_t *data;
    int32_t len;
} net_pg_value;

/* A parsed frontend message. Strings and byte ranges point into the frame
 * (valid as long as the frame is); arrays live in the arena given to
 * net_pg_parse(). Strings are NUL-terminated. */
typedef struct net_pg_msg {
    net_pg_msg_kind kind;
    union {
        struct {
            uint16_t major, minor;
            size_t nparams; /* name/value pairs in order, "user" among them */
            const char **names, **values;
        } startup;
        struct {
            int32_t pid, secret;
        } cancel;
        struct {
            const uint8_t *data; /* the raw 'p' body; see net_pg_parse_password() etc. */
            size_t len;
        } password, copy_data;
        struct {
            const char *sql;
        } query;
        struct {
            const char *name, *sql;
            size_t ntypes;
            const uint32_t *types; /* 0: unspecified */
        } parse;
        struct {
            const char *portal, *stmt;
            size_t nformats; /* 0 (all text), 1 (applies to all) or nparams */
            const int16_t *formats;
            size_t nparams;
            const net_pg_value *params;
            size_t nresult_formats;
            const int16_t *result_formats;
        } bind;
        struct {
            char what; /* 'S' statement or 'P' portal */
            const char *name;
        } describe, close;
        struct {
            const char *portal;
            int32_t max_rows; /* 0: no limit */
        } execute;
        struct {
            const char *message;
        } copy_fail;
    } u;
} net_pg_msg;

/* Parses frame `f` into *m. Arrays are allocated in `arena`; strings stay
 * in the frame. 0, or NET_EPROTO with `err` set to a 08P01 whose detail
 * names the message and the defect (strings in `arena`), or NET_ENOMEM. */
int net_pg_parse(const net_pg_frame *f, net_pg_msg *m, kv_arena *arena, sql_error *err);

/* The format code (0 text, 1 binary) of Bind parameter `i`. */
int16_t net_pg_bind_format(const net_pg_msg *bind, size_t i);

/* Second-level parsers of a NET_PG_PASSWORD body, chosen by the
 * authentication state: a cleartext PasswordMessage (string), and a
 * SASLInitialResponse (mechanism string, int32 length or -1, bytes). The
 * results point into the body. 0 or NET_EPROTO with `err` set. */
int net_pg_parse_password(const net_pg_msg *m, const char **password, kv_arena *arena,
                          sql_error *err);
int net_pg_parse_sasl_initial(const net_pg_msg *m, const char **mechanism, net_pg_value *data,
                              kv_arena *arena, sql_error *err);

/* ---- backend messages ------------------------------------------------ */

/* Every builder appends one complete message to `b` and returns 0 or
 * NET_ENOMEM (then `b` is unchanged). Borrowed inputs are only read. */

/* The single byte 'N' that refuses SSLRequest and GSSENCRequest. */
int net_pg_put_refuse_encryption(net_pg_buf *b);

/* Authentication request codes ('R'). */
enum {
    NET_PG_AUTH_OK = 0,
    NET_PG_AUTH_CLEARTEXT = 3,
    NET_PG_AUTH_SASL = 10,
    NET_PG_AUTH_SASL_CONTINUE = 11,
    NET_PG_AUTH_SASL_FINAL = 12,
};
/* 'R' with `code` followed by [data, data+len): for NET_PG_AUTH_SASL the
 * data is the mechanism list ("SCRAM-SHA-256\0\0"), for CONTINUE / FINAL the
 * SCRAM message; empty otherwise. */
int net_pg_put_auth(net_pg_buf *b, int32_t code, const void *data, size_t len);
int net_pg_put_parameter_status(net_pg_buf *b, const char *name, const char *value);
int net_pg_put_backend_key(net_pg_buf *b, int32_t pid, int32_t secret);
/* status: 'I' idle, 'T' in a transaction block, 'E' in a failed one. */
int net_pg_put_ready(net_pg_buf *b, char status);

/* One RowDescription column. */
typedef struct net_pg_field {
    const char *name;
    uint32_t table_oid; /* 0: not a table column */
    int16_t attnum;     /* 0: not a table column */
    uint32_t type_oid;
    int16_t typlen; /* -1 varlena */
    int32_t typmod; /* -1 none */
    int16_t format; /* 0 text, 1 binary */
} net_pg_field;

int net_pg_put_row_description(net_pg_buf *b, size_t n, const net_pg_field *fields);
int net_pg_put_data_row(net_pg_buf *b, size_t n, const net_pg_value *values);
int net_pg_put_command_complete(net_pg_buf *b, const char *tag);
int net_pg_put_parameter_description(net_pg_buf *b, size_t n, const uint32_t *type_oids);
/* ErrorResponse 'E' for severities ERROR, FATAL and PANIC, NoticeResponse
 * 'N' otherwise; fields S, V, C, M, then D, H, P when present. */
int net_pg_put_error(net_pg_buf *b, const sql_error *e);
/* NegotiateProtocolVersion: the newest minor version we speak and the
 * `_pq_.` options we did not recognise. */
int net_pg_put_negotiate_version(net_pg_buf *b, int32_t minor, size_t n, const char *const *opts);
/* CopyInResponse (type 'G') or CopyOutResponse ('H'). */
int net_pg_put_copy_response(net_pg_buf *b, char type, int8_t format, size_t ncols,
                             const int16_t *col_formats);
int net_pg_put_copy_data(net_pg_buf *b, const void *data, size_t len);

/* The backend messages without a body. */
typedef enum net_pg_empty_msg {
    NET_PG_PARSE_COMPLETE = '1',
    NET_PG_BIND_COMPLETE = '2',
    NET_PG_CLOSE_COMPLETE = '3',
    NET_PG_NO_DATA = 'n',
    NET_PG_PORTAL_SUSPENDED = 's',
    NET_PG_EMPTY_QUERY = 'I',
    NET_PG_COPY_DONE_MSG = 'c',
} net_pg_empty_msg;
int net_pg_put_empty(net_pg_buf *b, net_pg_empty_msg type);

/* ---- connection state machine ---------------------------------------- */

typedef enum net_pg_auth_method {
    NET_PG_AUTH_METHOD_TRUST,     /* --insecure */
    NET_PG_AUTH_METHOD_CLEARTEXT, /* password checked against the SCRAM verifier */
    NET_PG_AUTH_METHOD_SCRAM,
} net_pg_auth_method;

/* What the catalog says about a role. `verifier` is a PostgreSQL SCRAM
 * verifier ("SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>") or NULL
 * when the role has no password; the conn copies it during the call. */
typedef struct net_pg_role {
    const char *verifier;
    int superuser;
} net_pg_role;

/* Looks up role `user`: 0 and *role filled, 1 when there is no such role,
 * negative NET_E* on failure. */
typedef int (*net_pg_role_cb)(void *ctx, const char *user, net_pg_role *role);
/* 1 when database `name` exists, 0 when not, negative NET_E* on failure. */
typedef int (*net_pg_database_cb)(void *ctx, const char *name);
/* Starts the SQL session of a connection that passed authentication and
 * the database check, before any ParameterStatus goes out; `names[i]` =
 * `values[i]` are the startup parameters (borrowed for the call). 0, 1
 * with `err` set (strings in `arena`) to refuse the connection with that
 * error as FATAL, or a negative NET_E* on failure. */
typedef int (*net_pg_session_cb)(void *ctx, const char *user, const char *database, size_t nparams,
                                 const char *const *names, const char *const *values,
                                 sql_error *err, kv_arena *arena);
/* The session's value of reported parameter `name` for the initial
 * ParameterStatus set (copied at once), or NULL to report the conn's own. */
typedef const char *(*net_pg_setting_cb)(void *ctx, const char *name);

typedef struct net_pg_config {
    net_pg_auth_method auth;
    net_pg_role_cb role;
    net_pg_database_cb database;
    net_pg_session_cb session; /* NULL: no session to start */
    net_pg_setting_cb setting; /* NULL: report the conn's own values */
    void *ctx;                 /* passed to the callbacks */
    int32_t pid, secret;       /* BackendKeyData: what a CancelRequest must quote */
    size_t max_message;        /* 0: NET_PG_MAX_MESSAGE */
    const char *scram_nonce;   /* tests only: fixed server nonce; NULL: RAND_bytes */
} net_pg_config;

typedef struct net_pg_conn net_pg_conn;

/* A connection in the startup phase. `cfg` is copied (scram_nonce is
 * borrowed for the conn's lifetime). Freed by net_pg_conn_destroy().
 * NET_ENOMEM. */
int net_pg_conn_create(const net_pg_config *cfg, net_pg_conn **out);
void net_pg_conn_destroy(net_pg_conn *c);

/* Copies bytes received from the socket into the conn. NET_ENOMEM. */
int net_pg_conn_feed(net_pg_conn *c, const void *data, size_t len);

typedef enum net_pg_step {
    NET_PG_STEP_NEED_INPUT, /* send `out`, then feed more bytes */
    NET_PG_STEP_MESSAGE,    /* *m is a message for the executor */
    NET_PG_STEP_CANCEL,     /* *m is a CancelRequest: cancel that backend, then close */
    NET_PG_STEP_CLOSE,      /* send `out`, then close the connection */
} net_pg_step;

/* Advances the state machine over buffered input. Startup, encryption
 * refusal, protocol negotiation and authentication are handled inside,
 * their responses appended to `out`; once the session is ready, each
 * Query/Parse/Bind/Describe/Execute/Close/Sync/Flush/Copy* message is
 * returned as NET_PG_STEP_MESSAGE. After net_pg_conn_error() on an
 * extended-protocol message, everything up to Sync is skipped here.
 * Framing or parse failures append FATAL 08P01 and return CLOSE.
 *
 * *m and every pointer in it stay valid until the next net_pg_conn_step()
 * or net_pg_conn_feed() call (they live in the conn's per-message arena and
 * input buffer). Returns a net_pg_step, or NET_ENOMEM / a callback's
 * error (the connection should then be closed). */
int net_pg_conn_step(net_pg_conn *c, net_pg_buf *out, net_pg_msg *m);

/* The type byte of the next message if it is already completely
 * buffered, else 0: lets the executor see that an Execute is followed by
 * Sync (the usual pipeline) without taking the Sync out. Does not
 * invalidate the message last returned. */
char net_pg_conn_peek(const net_pg_conn *c);

/* The per-message arena: memory for error strings and results of the
 * current message, released by the next net_pg_conn_step(). */
kv_arena *net_pg_conn_arena(net_pg_conn *c);

/* Reports that the last message failed: appends the ErrorResponse (or
 * NoticeResponse for lower severities). After an extended-protocol message
 * the conn skips input until Sync; a FATAL makes the next step CLOSE. */
int net_pg_conn_error(net_pg_conn *c, net_pg_buf *out, const sql_error *e);

/* Starts COPY FROM STDIN for the statement being executed: appends
 * CopyInResponse ('G') and from then on hands the executor CopyData until
 * CopyDone or CopyFail. Flush and Sync in between are ignored, any other
 * message is FATAL 08P01. After net_pg_conn_error() during the COPY, the
 * client's remaining CopyData/CopyDone/CopyFail are dropped, as the protocol
 * specifies. NET_ENOMEM. */
int net_pg_conn_copy_in(net_pg_conn *c, net_pg_buf *out, int8_t format, size_t ncols,
                        const int16_t *col_formats);

/* The transaction status ReadyForQuery reports; the executor drives it. */
void net_pg_conn_set_txn_status(net_pg_conn *c, char status);
/* Appends ReadyForQuery with the current transaction status: after a
 * simple Query's results, and when the executor has handled a Sync. */
int net_pg_conn_ready(net_pg_conn *c, net_pg_buf *out);

/* Records a SET of a session parameter: when `name` is one that clients
 * track (server_version, DateStyle, ...; case-insensitive) the value is
 * copied and a ParameterStatus appended. NET_ENOMEM. */
int net_pg_conn_set_param(net_pg_conn *c, net_pg_buf *out, const char *name, const char *value);
/* The current value of a reported parameter, or a startup parameter the
 * client sent (e.g. extra_float_digits); NULL when neither. Valid until the
 * parameter changes or the conn is destroyed. */
const char *net_pg_conn_param(const net_pg_conn *c, const char *name);

/* The authenticated user and database (NULL before startup completes);
 * valid until the conn is destroyed. */
const char *net_pg_conn_user(const net_pg_conn *c);
const char *net_pg_conn_database(const net_pg_conn *c);

#endif /* NET_PGWIRE_H */
