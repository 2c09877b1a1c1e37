/*
 * session_int.h - what the session files share: the engine and session
 * layouts, prepared statements and portals, the per-statement execution
 * record, and the entry points of DDL (ddl.c) and settings (settings.c).
 *
 * session.c     engine, session lifecycle, the transaction state machine,
 *               simple query, statement dispatch and server-side retry
 * session_ext.c Parse, Bind, Describe, Execute, Close, Sync
 * ddl.c         CREATE/DROP/ALTER TABLE, TRUNCATE, databases, roles
 * copy.c        COPY FROM STDIN / TO STDOUT, VACUUM and ANALYZE
 * settings.c    the table of session settings, SET, SHOW, RESET
 *
 * Transaction states (sql_session_txn_status in parentheses):
 *   IDLE      no transaction ('I')
 *   IMPLICIT  an implicit transaction: several statements of one simple
 *             query string, or the Executes before a Sync ('I')
 *   BLOCK     inside BEGIN ... COMMIT ('T')
 *   FAILED    a block after an error; the KV transaction is already rolled
 *             back and only ROLLBACK/COMMIT leave the state ('E')
 * `txn` is non-NULL exactly in IMPLICIT and BLOCK.
 */
#ifndef SQL_SESSION_INT_H
#define SQL_SESSION_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "sql/catalog.h"
#include "sql/exec_int.h"
#include "sql/session.h"
#include "sql/types_int.h" /* sql__oom */

struct sql_engine {
    kv_store *store;
    kv_txn_hb *hb;
    sql_catalog *catalog;
    sql_engine_options opts;
    /* statement_timeout: sessions with a deadline, watched by one thread */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t timer;
    bool stop;
    sql_session *timed; /* doubly linked through timed_next/timed_prev */
};

typedef enum sql__txn_state {
    SQL__TXN_IDLE,
    SQL__TXN_IMPLICIT,
    SQL__TXN_BLOCK,
    SQL__TXN_FAILED,
} sql__txn_state;

/* A plan shared by a prepared statement and the portals bound from it:
 * re-planning after DDL gives the statement a new one while portals keep
 * theirs. The plan lives in `arena`. A plan made in a transaction that
 * had not written the catalog is `exact`: its descriptors are those of
 * `catalog_version` (sql_catalog_version), so any transaction reading
 * that version may run it unchanged. */
typedef struct sql__planref {
    sql_plan *plan;
    kv_arena *arena;
    int refs;
    bool exact;
    uint64_t catalog_version;
} sql__planref;

/* A prepared statement; freed when closed and no portal refers to it. */
typedef struct sql__prepared {
    char *name;      /* malloc'd */
    kv_arena *arena; /* query text, tree, parameter types */
    const char *query;
    const sql_stmt *stmt; /* NULL: the empty query */
    sql_params params;    /* declared types in, inferred types out */
    sql__planref *plan;   /* DML only */
    int refs;             /* the name table's and one per portal */
    struct sql__prepared *next;
} sql__prepared;

/* A portal: a bound statement and, once run with a row limit, its
 * remaining rows (already formatted, in `arena`). */
typedef struct sql__portal {
    char *name; /* malloc'd */
    kv_arena *arena;
    sql__prepared *ps;
    sql__planref *plan;
    sql_datum *params;
    sql_type *param_types;
    int16_t *formats; /* one per result column */
    size_t ncols;
    bool ran;
    sql_value **rows; /* materialised rows */
    size_t nrows, cap, next;
    char tag[64];
    struct sql__portal *next_portal;
} sql__portal;

struct sql_session {
    sql_engine *eng;
    char *user;
    char *database;
    uint32_t db_id;
    bool superuser;
    atomic_int cancel; /* sql_cancel_reason */
    atomic_bool running;

    sql__txn_state state;
    sql_txn *txn;
    bool read_only; /* of the open transaction */

    /* settings (settings.c) */
    char **values; /* one malloc'd string per setting */
    char **resets; /* what RESET restores: the value after startup */
    kv_arena *tz_arena;
    const sql_tz *tz;
    int64_t timeout_ms;
    int float_digits_offset; /* extra_float_digits - 1 (sql_io_ctx) */
    bool default_read_only;

    sql__prepared *stmts;
    sql__portal *portals;
    struct sql__copy_in *copy; /* COPY FROM STDIN waiting for data (copy.c) */

    /* statement_timeout: `armed` is the session thread's; the rest is
     * under engine->mu */
    bool armed;
    int64_t deadline_ns;
    bool timed_linked;
    sql_session *timed_next, *timed_prev;
};

/* COPY's data format, from the statement's options (copy.c). */
typedef struct sql__copy_fmt {
    bool csv;
    bool header;
    char delim;
    char quote;       /* csv only */
    char escape;      /* csv only */
    const char *null; /* how NULL is spelled; static storage or the arena */
    size_t null_len;
} sql__copy_fmt;

/* A field of a COPY record: NULL, or `len` bytes with escapes and quotes
 * resolved (NUL-terminated). */
typedef struct sql__copy_field {
    const char *data;
    size_t len;
    bool isnull;
} sql__copy_field;

/* One statement's execution: its inputs, where output goes, its result. */
typedef struct sql__exec {
    sql_session *s;
    const sql_sink *sink;
    const char *query; /* the whole text, for positions */
    const sql_stmt *st;
    sql__portal *portal; /* prepared DML runs its plan (sql__portal_plan); NULL: plan here */
    const sql_datum *params;
    const sql_type *param_types;
    const int16_t *formats; /* one per column; NULL: all text */
    bool describe;          /* simple protocol: columns() before rows */
    sql__portal *store;     /* materialise rows there instead of sending */
    bool ends_implicit;     /* commit an implicit transaction at the end */
    kv_arena *arena;        /* the statement's */
    kv_arena *scratch;      /* streamed rows' values (sql__exec_done frees) */
    /* results */
    char tag[64];
    uint64_t nsent; /* rows delivered to the sink or the portal */
    bool cols_sent;
    bool noticed; /* a notice went out: the statement is not retried */
    int sink_rc;  /* a sink callback's negative value */
    sql_error err;
} sql__exec;

/* ---- session.c --------------------------------------------------------- */

/* Runs x->st with the transaction handling its kind needs. 0, or -1 with
 * x->err set (or x->sink_rc negative). Does not report the error. */
int sql__exec_stmt(sql__exec *x);
/* Frees what running x left behind (not x->arena, the caller's). */
void sql__exec_done(sql__exec *x);
/* Reports x's error to the sink (unless a sink call failed) and returns
 * the value sql_session_simple/execute return. */
int sql__exec_report(sql__exec *x);
/* A sink callback returned rc < 0: records it in x->sink_rc and sets
 * x->err ("the client went away"). Returns -1. */
int sql__sink_failed(sql__exec *x, int rc);
/* Ends what stmt_start began for x's statement: the cancel window and the
 * statement_timeout deadline. A COPY FROM STDIN calls it when its data
 * ends, so cancel and timeout cover the whole COPY. */
void sql__stmt_end(sql_session *s);
/* Sends x's command tag. */
int sql__exec_complete(sql__exec *x);
/* Sends a notice (severity set by the caller) through x's sink; a sink
 * failure is remembered in x->sink_rc and makes this return -1. */
int sql__notice(sql__exec *x, sql_sqlstate state, sql_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Emits one result row of datums of `cols` (borrowed for the call),
 * formatted as x asks: to the sink (values valid during the callback) or
 * into x->store (values in the portal's arena). */
int sql__emit_row(sql__exec *x, const sql_column_info *cols, const sql_datum *vals, size_t n);
/* Ends the implicit transaction (commit, or rollback when `commit` is
 * false); the catalog cache is invalidated after a DDL commit. */
int sql__txn_end(sql_session *s, bool commit, sql_error *err, kv_arena *arena);
/* After an error: an implicit transaction is rolled back, a block fails
 * (state FAILED). No-op in IDLE and FAILED. */
void sql__txn_fail(sql_session *s);
/* Plans and runs statements DDL builds itself (ADD COLUMN's backfill,
 * ADD PRIMARY KEY's rewrite) in the session's transaction, never
 * committing it; the plan lives in x->arena. */
int sql__internal_plan(sql__exec *x, const sql_stmt *st, sql_params *params, sql_plan **out);
int sql__internal_run(sql__exec *x, const sql_plan *p, const sql_datum *params,
                      const sql_type *types, sql_row_fn row, void *arg, uint64_t *affected);
/* Fills *ctx for running a plan in x's transaction with the session's
 * services; *env, which ctx points to, and the borrowed params, types
 * and arg must outlive the run. */
void sql__run_ctx_init(sql__exec *x, sql_run_ctx *ctx, sql_eval_env *env, const sql_datum *params,
                       const sql_type *types, sql_row_fn row, void *arg);
/* Plans INSERT INTO `table` (cols) VALUES of `nrows` rows of parameters
 * ($1 .. $nrows*ncols, row after row, typed types[i % ncols]) in `arena`,
 * which the plan lives in: how COPY and ADD PRIMARY KEY write rows in
 * batches through the table's ordinary INSERT path. */
int sql__plan_insert_rows(sql__exec *x, const sql_name *table, const char *const *cols,
                          const sql_type *types, size_t ncols, size_t nrows, kv_arena *arena,
                          sql_plan **out);
/* Plans prepared DML statement ps into a new planref (its own arena,
 * one reference, owned by ps); ps's previous planref is released, and
 * survives while portals hold it. -1 with `err` set (strings in `arena`). */
int sql__prepared_plan(sql_session *s, sql__prepared *ps, sql_error *err, kv_arena *arena);
/* Drops one reference; the last frees the plan and its arena. NULL: no-op. */
void sql__planref_release(sql__planref *r);
/* Gives portal p, about to run in s->txn, a plan made at the catalog
 * version that transaction reads: planned again when its own plan is not
 * (DDL committed since, through this node or another, or DDL earlier in
 * this transaction). The result columns must stay those the portal was
 * bound with (0A000 otherwise). -1 with `err` set (strings in `arena`). */
int sql__portal_plan(sql_session *s, sql__portal *p, sql_error *err, kv_arena *arena);

/* ---- ddl.c --------------------------------------------------------------- */

/* The command tag of DDL kind `kind` ("CREATE TABLE"); static storage. */
const char *sql__ddl_tag(sql_stmt_kind kind);
/* Runs DDL statement x->st in x->s->txn; sets x->tag. */
int sql__ddl(sql__exec *x);

/* The table `n` names in x's database: 0 and a reference, 1 when there
 * is none, -1 with x->err set (3F000 for a schema other than public). */
int sql__ddl_find_table(sql__exec *x, const sql_name *n, const sql_table_desc **out);
/* Turns the 23505 an index build met ("Key (a)=(1) already exists.")
 * into PostgreSQL's `could not create unique index "name"`, detail
 * "Key (a)=(1) is duplicated.". Returns -1. */
int sql__ddl_index_duplicate(sql__exec *x, const char *name);

/* ---- ddl_index.c --------------------------------------------------------- */

/* CREATE INDEX (backfilled in x's transaction) and DROP INDEX. */
int sql__ddl_create_index(sql__exec *x);
int sql__ddl_drop_index(sql__exec *x);

/* ---- ddl_view.c ---------------------------------------------------------- */

/* CREATE [OR REPLACE] VIEW and DROP VIEW. */
int sql__ddl_create_view(sql__exec *x);
int sql__ddl_drop_view(sql__exec *x);
/* 0 when `d` is a table; for a view -1 with the error statement x->st
 * (DROP TABLE, TRUNCATE, ALTER TABLE, CREATE INDEX) meets in PostgreSQL
 * (42809 "x" is not a table; 0A000 for ALTER TABLE). */
int sql__ddl_not_view(sql__exec *x, const sql_table_desc *d);
/* 0 when no view reads table or view `d` (views that DROP statement
 * x->st names too do not count); else -1 with 2BP01 "cannot drop table
 * t because other objects depend on it" naming them. */
int sql__ddl_check_dependents(sql__exec *x, const sql_table_desc *d);

/* ---- explain.c ------------------------------------------------------------ */

/* EXPLAIN [ANALYZE] x->st: one text column "QUERY PLAN", a row per line;
 * ANALYZE runs the statement (its rows are not sent). Sets x->tag. */
int sql__explain(sql__exec *x);
/* EXPLAIN's result column for Describe; static storage. */
extern const sql_column_info sql__explain_column;

/* ---- copy.c -------------------------------------------------------------- */

/* COPY x->st (simple protocol only, else 0A000): TO STDOUT runs to the
 * end and sets x->tag; FROM STDIN resolves its target, sends copy_start
 * and leaves s->copy waiting for data in the open transaction, which
 * sql_session_copy_end ends. */
int sql__copy(sql__exec *x);
/* Frees an unfinished COPY FROM STDIN (session destroy); its rows are
 * rolled back with the transaction. No-op without one. */
void sql__copy_free(sql_session *s);
/* VACUUM and ANALYZE: no-ops once their tables are known to exist; sets
 * x->tag. */
int sql__vacuum(sql__exec *x);

/* The data format of COPY `c`'s options (positions from `query`). -1
 * with `err` set (42601, 22023, 0A000), strings in `arena`. */
int sql__copy_format(const char *query, const sql_copy *c, sql__copy_fmt *f, sql_error *err,
                     kv_arena *arena);
/* Finds the first record of [p, p + len): 1 with its length without the
 * line end in *reclen and with it in *used; 0 when it may continue past
 * `len`. With `at_eof` the rest is the last record (0 only when len is
 * 0), and an open CSV quote is 22P04 (-1, `err` in `arena`). */
int sql__copy_record(const sql__copy_fmt *f, const char *p, size_t len, bool at_eof, size_t *reclen,
                     size_t *used, sql_error *err, kv_arena *arena);
/* Splits a record (without its line end) into at most `max` fields in
 * out[] (*n of them), their bytes in `arena`. -1 with `err` set: 22P04
 * for more than `max` fields, 22021 for an escaped NUL byte. */
int sql__copy_split(const sql__copy_fmt *f, const char *rec, size_t len, sql__copy_field *out,
                    size_t max, size_t *n, sql_error *err, kv_arena *arena);
/* Appends field `v` (`len` bytes; NULL data: SQL NULL), escaped or quoted
 * as the format wants, to the line being built in *buf (`*len` used of
 * `*cap`, malloc'd; the caller frees). -1 when out of memory. */
int sql__copy_put(const sql__copy_fmt *f, const char *v, size_t vlen, char **buf, size_t *len,
                  size_t *cap);

/* ---- settings.c ---------------------------------------------------------- */

/* What text I/O needs of the session's settings (time zone, float
 * digits); the zone is the session's and valid until TimeZone changes. */
sql_io_ctx sql__session_io(const sql_session *s);

/* Fills s->values (malloc'd strings the session owns) with defaults and
 * the role-derived values; -1 when out of memory. settings_free frees
 * them, the reset values and the time zone. */
int sql__settings_init(sql_session *s);
void sql__settings_free(sql_session *s);
/* Applies startup parameters (and -c name=value of `options`); the
 * values they leave are what RESET restores, as in PostgreSQL. Protocol
 * options (`_pq_.*`) are the connection's, not settings. */
int sql__settings_startup(sql_session *s, size_t n, const char *const *names,
                          const char *const *values, sql_error *err, kv_arena *arena);
/* SET / RESET / SET TRANSACTION and SHOW; set x->tag. */
int sql__set(sql__exec *x);
int sql__show(sql__exec *x);
/* The result columns of a utility statement for Describe: SHOW's and
 * EXPLAIN's (static storage or `arena`), none for the others. -1 when out of memory. */
int sql__utility_columns(const sql_stmt *st, const sql_column_info **cols, size_t *n,
                         kv_arena *arena);

#endif /* SQL_SESSION_INT_H */
