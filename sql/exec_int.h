/*
 * exec_int.h - inside sql/: how the session (session.c, DDL and
 * transaction control) hands a DML statement (SELECT, INSERT, UPDATE,
 * DELETE) to the planner and executor (plan.c, exec_*.c).
 *
 * Two steps, so prepared statements plan once:
 *   sql__plan()  binds the statement against the catalog: resolves the
 *                table, binds every expression (sql/expr.h), infers
 *                parameter types, chooses the access path (primary-key
 *                or secondary-index lookups and ranges, full scan) from
 *                the WHERE clause, and describes the result columns.
 *   sql__run()   executes a plan with parameter values inside a sql_txn,
 *                feeding result rows (datums, in result-column order) to a
 *                callback, and counts the rows affected.
 *
 * A plan holds references to the descriptors it was bound against
 * (released by sql__plan_free) and records their versions;
 * sql__plan_stale() tells the session to re-plan after DDL.
 */
#ifndef SQL_EXEC_INT_H
#define SQL_EXEC_INT_H

#include <stdatomic.h>

#include "sql/catalog.h"
#include "sql/expr.h"
#include "sql/session.h"

typedef struct sql_plan sql_plan;

/* What planning needs from the session. */
typedef struct sql_plan_ctx {
    sql_catalog *catalog;
    sql_txn *txn; /* catalog reads in this transaction (may be NULL) */
    uint32_t db_id;
    const char *query;  /* the statement text, for error positions */
    sql_params *params; /* declared types in, inferred types out */
} sql_plan_ctx;

/* Plans DML statement `st` (kind SELECT, INSERT, UPDATE or DELETE; the
 * tree is borrowed for the call). The plan and everything it points to
 * live in `arena`, which must outlive it; descriptor references are
 * released by sql__plan_free. -1 with `err` set (42P01, 42703, 42804,
 * 0A000, ...), strings in `arena`. */
int sql__plan(sql_plan_ctx *ctx, const sql_stmt *st, kv_arena *arena, sql_plan **out,
              sql_error *err);

/* The table `name` names in database `db_id`, read in `t` (may be NULL):
 * 0 and a reference (sql_table_release), or -1 with `err` set: 42P01
 * "relation ... does not exist" at the name's position in `query` (NULL:
 * none, as PostgreSQL reports it for COPY and VACUUM; only the public
 * schema holds tables), or the catalog's error. */
int sql__open_table(sql_catalog *c, sql_txn *t, uint32_t db_id, const sql_name *name,
                    const char *query, kv_arena *arena, const sql_table_desc **out, sql_error *err);

/* Releases the plan's descriptor references. NULL: no-op. */
void sql__plan_free(sql_plan *p);

/* The result columns (RETURNING or SELECT list; none for a DML statement
 * without RETURNING). Formats in the returned array are 0. Borrowed from
 * the plan. */
const sql_column_info *sql__plan_columns(const sql_plan *p, size_t *n);
bool sql__plan_returns_rows(const sql_plan *p);
/* Whether the plan writes (INSERT/UPDATE/DELETE). */
bool sql__plan_writes(const sql_plan *p);
/* The command tag verb: "SELECT", "INSERT 0", "UPDATE", "DELETE". */
const char *sql__plan_tag(const sql_plan *p);
/* Whether a descriptor the plan used changed since it was planned. */
bool sql__plan_stale(const sql_plan *p, sql_catalog *c);

/* Receives one result row: `vals` in result-column order, valid during
 * the call. Return 0, or -1 with `err` set to stop the statement (inside
 * the executor also 1: no more rows wanted, see sql__run_select). */
typedef int (*sql_row_fn)(void *arg, const sql_datum *vals, size_t n, sql_error *err);

/* EXPLAIN ANALYZE's counters, filled by sql__run when asked for. */
typedef struct sql_exec_stats {
    uint64_t scan_rows; /* rows the access path produced (its filter passed) */
    uint64_t scan_ns;   /* time in the scan, its consumers' excluded */
    uint64_t agg_rows;  /* groups out of the aggregation */
} sql_exec_stats;

/* What running needs from the session. */
typedef struct sql_run_ctx {
    sql_txn *txn;
    sql_catalog *catalog;
    uint32_t db_id;
    const sql_datum *params; /* as many as the plan's parameters */
    const sql_type *param_types;
    sql_io_ctx io;
    const sql_eval_env *env;
    atomic_int *cancel;
    const char *query;
    sql_row_fn row;
    void *row_arg;
    sql_exec_stats *stats; /* EXPLAIN ANALYZE; NULL: not counted */
    /* Inside the executor (NULL from the session): the evaluation of the
     * enclosing query's row a subquery runs for, and the execution's
     * subquery state (plan_int.h). */
    const sql_eval_ctx *outer;
    struct sql__subq *subq;
} sql_run_ctx;

/* Executes the plan: rows go to ctx->row; *affected is the count for the
 * command tag (rows returned for SELECT, written for DML). Scratch memory
 * comes from `arena` (the statement's).
 *
 * With `may_commit` (an implicit transaction that ends with this
 * statement), sql__run may commit the transaction itself, sending its
 * writes together with the EndTxn (sql_txn_commit) so that a single-range
 * write commits in one round; it then sets *committed. Errors of that
 * commit are mapped like those of any write (a unique violation found by
 * the commit's CPut is 23505 naming the index). -1 with `err` set. */
int sql__run(const sql_plan *p, sql_run_ctx *ctx, bool may_commit, kv_arena *arena,
             uint64_t *affected, bool *committed, sql_error *err);

/* CREATE INDEX's backfill: writes the entry of index `ix` (into
 * p->table->indexes) for every row of p, a plan of `DELETE FROM t` made
 * against the descriptor that has the index (it reads every row and
 * decodes every column), CPut for a unique entry without NULLs. Does not
 * commit; *rows counts the entries. -1 with `err` set (23505 naming the
 * index on a duplicate). */
int sql__run_backfill(const sql_plan *p, uint32_t ix, sql_run_ctx *ctx, kv_arena *arena,
                      uint64_t *rows, sql_error *err);

#endif /* SQL_EXEC_INT_H */
