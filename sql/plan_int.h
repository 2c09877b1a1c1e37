/*
 * plan_int.h - inside the planner and executor (plan.c, exec_scan.c,
 * exec_write.c): the layout of a bound DML plan and the calls between
 * the three files. The session sees only sql/exec_int.h.
 *
 * A plan is immutable once built, so a prepared statement runs it many
 * times (possibly with different parameters): everything that depends on
 * parameter values (key bounds, LIMIT) is a bound expression evaluated
 * per execution.
 */
#ifndef SQL_PLAN_INT_H
#define SQL_PLAN_INT_H

#include "sql/exec_int.h"
#include "sql/rowcodec_int.h"

/* How rows are found in the primary index. */
typedef enum sql__path_kind {
    SQL__PATH_NONE,   /* SELECT without FROM: one empty row */
    SQL__PATH_POINT,  /* every pk column given by =: one KV_GET */
    SQL__PATH_POINTS, /* the last pk column given by IN: one batch of gets */
    SQL__PATH_SPAN,   /* a pk prefix by = and an optional range: a scan */
    SQL__PATH_UNIQUE, /* a unique index's columns by =: index get, row get */
} sql__path_kind;

typedef struct sql__path {
    sql__path_kind kind;
    uint32_t neq;               /* leading pk (UNIQUE: index) columns by = */
    const sql_bexpr *const *eq; /* [neq] their values (stable) */
    uint32_t ix;                /* UNIQUE: the index, into table->indexes */
    const sql_bexpr *const *in; /* POINTS: the values of pk column neq */
    int nin;
    /* SPAN: bounds on pk column neq (NULL: open), in value order */
    const sql_bexpr *lo, *hi;
    bool lo_incl, hi_incl;
    bool reverse; /* scan backwards (ORDER BY the reverse of the pk) */
} sql__path;

/* One ORDER BY key of an in-memory sort. */
typedef struct sql__sortkey {
    const sql_bexpr *expr;
    bool desc;
    bool nulls_first;
} sql__sortkey;

struct sql_plan {
    sql_stmt_kind kind;
    sql_catalog *catalog;
    const sql_table_desc *table; /* referenced; NULL without FROM */
    sql__rowcodec rc;
    sql__path path;
    sql__rowproj proj;        /* what a scan decodes */
    const sql_bexpr *filter;  /* residual WHERE; NULL: none */
    const sql_bexpr *limit;   /* NULL: none */
    const sql_bexpr *offset;  /* NULL: none */
    const sql__sortkey *sort; /* NULL: rows come in the wanted order */
    int nsort;
    const sql_bexpr *const *targets; /* SELECT list or RETURNING */
    sql_column_info *cols;
    int ntargets;
    bool returns_rows;
    /* INSERT: rows[r][c] per table column (NULL: the value NULL) */
    const sql_bexpr *const *const *rows;
    int nrows;
    /* UPDATE: per table column the new value, NULL: unchanged */
    const sql_bexpr *const *set;
    bool set_pk; /* an assignment targets a pk column */
    /* INSERT, UPDATE: CHECK constraints over the row */
    const sql_bexpr *const *checks;
    const char *explain; /* "point lookup on t_pkey", ... */
};

/* Called with each row that passes the filter: row[0..ncols) in table
 * order, valid until the callback returns (its payloads live in `arena`,
 * the current batch's). 0 goes on, 1 stops the scan, -1 with `err` set
 * fails it. */
typedef int (*sql__row_cb)(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err);

/* Reads the rows of p->path through ctx->txn, applying p->filter and the
 * projection p->proj (writes pass a full projection in `proj`). `want` > 0
 * bounds the rows the caller will take, pushed into the scan when there is
 * no filter. Between KV batches `between` (may be NULL) runs, e.g. to
 * flush writes. 0 or -1 with `err` set (strings in `arena`). */
int sql__scan(const sql_plan *p, const sql__rowproj *proj, sql_run_ctx *ctx, uint64_t want,
              sql__row_cb cb, int (*between)(void *arg, sql_error *err), void *arg, kv_arena *arena,
              sql_error *err);

/* An evaluation context over `row` with the run's parameters. */
void sql__eval_init(sql_eval_ctx *ec, const sql_run_ctx *ctx, const sql_datum *row, kv_arena *arena,
                    sql_error *err);

/* INSERT, UPDATE, DELETE (exec_write.c), as sql__run. */
int sql__run_write(const sql_plan *p, sql_run_ctx *ctx, bool may_commit, kv_arena *arena,
                   uint64_t *affected, bool *committed, sql_error *err);

/* The plan's access path in words ("point lookup on t_pkey"), for tests
 * and EXPLAIN; borrowed from the plan. */
const char *sql__plan_explain(const sql_plan *p);

#endif /* SQL_PLAN_INT_H */
