/*
 * session.h - what the pgwire layer asks of SQL: a node-wide engine and
 * one session per connection that executes simple and extended-protocol
 * requests and reports results through a sink.
 *
 * The engine owns the catalog (sql/catalog.h), the transaction
 * heartbeater and the store reference; sessions borrow it. A session
 * holds the connection's SQL state: the open transaction (or none), the
 * transaction status ReadyForQuery reports, session settings (SET/SHOW),
 * prepared statements and portals.
 *
 * Results go to a sql_sink as they are produced. A statement's output is:
 *   columns(...)        RowDescription (only for statements that return
 *                       rows, and only in the simple protocol: the
 *                       extended protocol describes with Describe)
 *   row(...)            DataRow, values already formatted (text, or binary
 *                       where the portal asked for it)
 *   complete(tag)       CommandComplete ("INSERT 0 3", "SELECT 2", ...)
 *   or suspended()      PortalSuspended (Execute's row limit reached)
 *   or empty()          EmptyQueryResponse
 *   or error(e)         ErrorResponse
 * plus notice(e) (NoticeResponse) and param(name, value) (ParameterStatus
 * after SET of a reported parameter) at any time. Sink callbacks return 0,
 * or a negative value to abort the statement (the client went away).
 *
 * Transactions: outside BEGIN, each statement runs in its own implicit
 * transaction, committed when it completes and retried on the server on a
 * retryable conflict as long as no row has been sent to the sink. Inside
 * BEGIN, an error puts the session in the failed state ('E') where every
 * statement but ROLLBACK/COMMIT gets 25P02.
 *
 * Threads: one session is driven by one thread at a time (a worker);
 * sql_session_cancel may be called from any thread at any time while the
 * session exists. Sessions run concurrently on many workers. Every call
 * may block (KV I/O): never call them on the node loop.
 *
 * Memory: strings and values passed to the sink are valid during the
 * callback only. Inputs (query text, parameters) are borrowed for the call.
 */
#ifndef SQL_SESSION_H
#define SQL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/store.h"
#include "sql/sql_error.h"
#include "sql/types.h"

typedef struct sql_engine sql_engine;
typedef struct sql_session sql_session;

/* A formatted value: len -1 is NULL (same layout as net_pg_value). */
typedef struct sql_value {
    const uint8_t *data;
    int32_t len;
} sql_value;

/* A result column, as RowDescription describes it. */
typedef struct sql_column_info {
    const char *name;
    uint32_t table_oid; /* 0: not a table column */
    int16_t attnum;     /* 0: not a table column */
    sql_type type;
    int16_t format; /* 0 text, 1 binary */
} sql_column_info;

typedef struct sql_sink {
    int (*columns)(void *ctx, const sql_column_info *cols, size_t n);
    int (*row)(void *ctx, const sql_value *vals, size_t n);
    int (*complete)(void *ctx, const char *tag);
    int (*suspended)(void *ctx);
    int (*empty)(void *ctx);
    int (*error)(void *ctx, const sql_error *e);
    int (*notice)(void *ctx, const sql_error *e);
    int (*param)(void *ctx, const char *name, const char *value);
    void *ctx;
    /* COPY, simple protocol only; NULL callbacks make COPY 0A000.
     * copy_start: CopyInResponse (in) or CopyOutResponse for `ncols` text
     * columns; copy_data: one CopyData of COPY TO STDOUT (valid during the
     * call); copy_done: CopyDone. */
    int (*copy_start)(void *ctx, bool in, size_t ncols);
    int (*copy_data)(void *ctx, const void *data, size_t len);
    int (*copy_done)(void *ctx);
} sql_sink;

/* Computes a SCRAM verifier for a password (CREATE/ALTER USER); net/
 * provides it (net_scram_verifier) since sql/ must not depend on net/.
 * The result is malloc'd; the caller frees it. NULL on failure. */
typedef char *(*sql_password_hash_fn)(const char *password);

typedef struct sql_engine_options {
    sql_password_hash_fn hash_password;
    uint32_t node_id; /* for unique_rowid() and the hidden rowid column */
} sql_engine_options;

/* Opens the SQL engine over store `s` (borrowed until close), starting the
 * transaction heartbeater and bootstrapping the catalog on a new store.
 * *out is owned by the caller. -1 with `err` set (strings in `arena`). */
int sql_engine_open(kv_store *s, const sql_engine_options *opts, sql_engine **out, sql_error *err,
                    kv_arena *arena);
/* Closes the engine; every session must be destroyed first. */
void sql_engine_close(sql_engine *e);

/* For authentication (net_pg_config callbacks): role `user` -> 0 with
 * *verifier (malloc'd, NULL without password; the caller frees) and
 * *superuser, 1 when there is no such role or it may not log in; database
 * `name` -> 1 exists, 0 not. -1 on KV failure. */
int sql_engine_role(sql_engine *e, const char *user, char **verifier, bool *superuser);
int sql_engine_database_exists(sql_engine *e, const char *name);

/* A session for `user` on database `database` with the client's startup
 * parameters (names[i] = values[i]: application_name, client_encoding,
 * DateStyle, TimeZone, options, ...; borrowed for the call). Settings
 * the session applies and clients track are reported to `sink->param`
 * (the initial ParameterStatus set is the caller's). -1 with `err` set
 * (e.g. 22023 for an unsupported client_encoding), strings in `arena`. */
int sql_session_create(sql_engine *e, const char *user, const char *database, size_t nparams,
                       const char *const *names, const char *const *values, sql_session **out,
                       sql_error *err, kv_arena *arena);
/* Rolls back an open transaction and frees the session. NULL: no-op. */
void sql_session_destroy(sql_session *s);

/* The current value of a session setting for ParameterStatus at startup
 * ("server_version", "TimeZone", ...; NULL when unknown); valid until the
 * next call on the session. */
const char *sql_session_setting(sql_session *s, const char *name);

/* 'I' idle, 'T' in a transaction block, 'E' in a failed block. */
char sql_session_txn_status(const sql_session *s);

/* Asks the running statement to stop with 57014 at its next check; a
 * no-op when nothing runs. Any thread. */
void sql_session_cancel(sql_session *s);

/* Simple query: every statement of `query` in order, stopping at the
 * first error (an implicit transaction spanning several statements of
 * one query string is committed or rolled back as PostgreSQL does).
 * Returns 0, or a sink callback's negative value. */
int sql_session_simple(sql_session *s, const char *query, const sql_sink *sink);

/* ---- COPY FROM STDIN ------------------------------------------------- */

/* COPY ... FROM STDIN, which must be the last statement of its query
 * string (0A000 otherwise), makes sql_session_simple call copy_start(in)
 * and return with the COPY waiting for data: until it ends, the session
 * takes only the calls below, sql_session_cancel and sql_session_destroy
 * (which rolls it back). The rows go into the open transaction block or
 * into an implicit transaction committed by a successful end. */
bool sql_session_copy_active(const sql_session *s);

/* The bytes of one CopyData (borrowed for the call; a row may span
 * several). Rows are inserted in batches as they complete. An error goes
 * to sink->error and ends the COPY, nothing of it committed. Returns 0 or
 * a sink callback's negative value. */
int sql_session_copy_data(sql_session *s, const void *data, size_t len, const sql_sink *sink);

/* Ends the COPY. CopyDone (`fail` NULL): the last rows are inserted, an
 * implicit transaction commits and complete("COPY n") reports the count.
 * CopyFail: 57014 "COPY from stdin failed: <fail>" goes to sink->error.
 * Returns 0 or a sink callback's negative value. */
int sql_session_copy_end(sql_session *s, const char *fail, const sql_sink *sink);

/* ---- extended protocol ----------------------------------------------- */

/* Parse: prepares statement `name` ("" = unnamed, replaced freely; a named
 * one must not exist: 42P05) from `query` with declared parameter types
 * (0 = infer). -1 with `err` set (strings in `arena`). */
int sql_session_prepare(sql_session *s, const char *name, const char *query, size_t ntypes,
                        const uint32_t *types, sql_error *err, kv_arena *arena);

/* Bind: creates portal `portal` ("" = unnamed) from statement `stmt` with
 * parameters (formats as in the Bind message: 0, 1 or n codes) and result
 * formats (0, 1 or ncolumns codes). 26000 unknown statement, 08P01 wrong
 * parameter count, 22P02/22P03 bad values. */
int sql_session_bind(sql_session *s, const char *portal, const char *stmt, size_t nformats,
                     const int16_t *formats, size_t nparams, const sql_value *params,
                     size_t nresult_formats, const int16_t *result_formats, sql_error *err,
                     kv_arena *arena);

/* Describe: of a statement, its parameter types then its columns; of a
 * portal, its columns (with the portal's formats). *ncols == 0 with
 * *returns_rows false means NoData. Arrays and strings in `arena`. 26000
 * or 34000 for unknown names. */
int sql_session_describe(sql_session *s, char what, const char *name, const uint32_t **param_types,
                         size_t *nparams, const sql_column_info **cols, size_t *ncols,
                         bool *returns_rows, sql_error *err, kv_arena *arena);

/* Execute: runs portal `portal` sending at most `max_rows` rows (0: all)
 * to the sink, then complete() or, when rows remain, suspended(); a later
 * Execute continues. Errors go to sink->error. Returns 0 or a sink
 * callback's negative value.
 *
 * Outside a transaction block, the statements executed between two Syncs
 * form one implicit transaction, committed at Sync (PostgreSQL's rule).
 * `sync_follows` says the client's next message is already known to be
 * Sync (the usual Parse/Bind/Execute/Sync pipeline): the portal's implicit
 * transaction may then commit as part of this Execute when the portal
 * completes, which lets a single-row write commit in one round (1PC) and
 * lets a retryable conflict be retried before any row was sent. */
int sql_session_execute(sql_session *s, const char *portal, uint32_t max_rows, bool sync_follows,
                        const sql_sink *sink);

/* Close: 'S' statement or 'P' portal; closing a missing one is not an
 * error. */
void sql_session_close(sql_session *s, char what, const char *name);

/* Sync: ends the implicit transaction of the extended-protocol requests
 * since the last Sync (commit, or rollback after an error) and drops the
 * unnamed portal, and every portal when no transaction block remains open
 * (portals end with their transaction). Errors of the commit go to the
 * sink. */
int sql_session_sync(sql_session *s, const sql_sink *sink);

#endif /* SQL_SESSION_H */
