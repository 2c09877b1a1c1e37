/*
 * plan_int.h - inside the planner and executor (plan.c, plan_agg.c,
 * exec_scan.c, exec_select.c, exec_agg.c, exec_write.c): the layout of a
 * bound DML plan and the calls between these files. The session sees
 * only sql/exec_int.h.
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
    SQL__PATH_INDEX,  /* a secondary index: a prefix by =, then IN or a range
                       * on the next column, or nothing (order only) */
} sql__path_kind;

typedef struct sql__path {
    sql__path_kind kind;
    uint32_t neq;               /* leading pk (UNIQUE, INDEX: index) columns by = */
    const sql_bexpr *const *eq; /* [neq] their values (stable) */
    uint32_t ix;                /* UNIQUE, INDEX: the index, into table->indexes */
    const sql_bexpr *const *in; /* POINTS, INDEX: the values of column neq */
    int nin;
    /* SPAN, INDEX: bounds on column neq (NULL: open), in value order */
    const sql_bexpr *lo, *hi;
    bool lo_incl, hi_incl;
    bool reverse;    /* scan backwards (ORDER BY the reverse of the index) */
    bool index_only; /* INDEX: the entries hold every column read */
} sql__path;

/* One ORDER BY key of an in-memory sort. */
typedef struct sql__sortkey {
    const sql_bexpr *expr;
    bool desc;
    bool nulls_first;
} sql__sortkey;

/* The per-query memory budget of the operators that hold rows (hash
 * aggregation, DISTINCT): beyond it a query fails with 53200 rather than
 * exhausting the node. */
#define SQL__QUERY_MEM_BUDGET ((size_t)64 << 20)

/* What an aggregate call computes (exec_agg.c implements each). */
typedef enum sql__agg_fn {
    SQL__AGG_COUNT_STAR,
    SQL__AGG_COUNT,
    SQL__AGG_SUM_INT,     /* int2/int4 -> int8, int8 -> numeric */
    SQL__AGG_SUM_NUMERIC, /* numeric -> numeric */
    SQL__AGG_SUM_FLOAT,   /* float4 -> float4, float8 -> float8 */
    SQL__AGG_AVG_INT,     /* ints -> numeric */
    SQL__AGG_AVG_NUMERIC,
    SQL__AGG_AVG_FLOAT, /* -> float8 */
    SQL__AGG_MIN,
    SQL__AGG_MAX,
    SQL__AGG_BOOL_AND,
    SQL__AGG_BOOL_OR,
    SQL__AGG_STRING_AGG, /* text or bytea */
    SQL__AGG_ARRAY_AGG,  /* any non-array type -> its array, NULLs kept */
} sql__agg_fn;

/* One aggregate call; arg and delim are bound over the input row. */
typedef struct sql__aggcall {
    sql__agg_fn fn;
    const sql_bexpr *arg;   /* NULL for count(*) */
    const sql_bexpr *delim; /* string_agg's delimiter */
    bool distinct;          /* agg(DISTINCT arg) */
    sql_type type;          /* the result type */
} sql__aggcall;

/* A hash aggregation over any row source. Its output row holds the
 * group key values at [0, nkeys) and the result of call i at
 * [key_slots + i]; key_slots >= nkeys is fixed before binding starts so
 * that slots handed out early stay valid when keys are added later (a
 * column functionally dependent on the grouped primary key). */
typedef struct sql__agg {
    const sql_bexpr *const *keys; /* over the input row */
    int nkeys;
    int key_slots;
    const sql__aggcall *calls;
    int ncalls;
    const sql_bexpr *having; /* over the output row; NULL: none */
    /* where a correlated subquery over the output row finds input column
     * i: the key slot outer_cols[i] (-1: none read) */
    const int *outer_cols;
} sql__agg;

/* A set operation's input (plan_setop.c, exec_setop.c): the result rows
 * of `left`, then of `right`, each converted to the common column types
 * by conv[0] (over a left row) and conv[1] (over a right row). */
typedef struct sql__setop {
    sql_setop op;
    bool all;
    const sql_plan *left, *right;
    const sql_bexpr *const *conv[2]; /* [ncols] each */
    const sql_column_info *cols;     /* the common types */
    int ncols;
} sql__setop;

/* sql__conflict.arbiter: every unique index and the primary key. */
#define SQL__ARBITER_ANY (-2)
/* sql__conflict.arbiter: the primary key. */
#define SQL__ARBITER_PK (-1)

/* INSERT ... ON CONFLICT: what decides that a proposed row conflicts
 * (an existing row holds its arbiter key) and what happens then. DO
 * UPDATE's assignments are the plan's `set` and, like `where`, are bound
 * over the existing row's columns followed by the proposed row's
 * (`excluded`), 2 * ncols values. */
typedef struct sql__conflict {
    bool update;            /* DO UPDATE; else DO NOTHING */
    int arbiter;            /* an index into table->indexes, or SQL__ARBITER_* */
    const sql_bexpr *where; /* DO UPDATE ... WHERE; NULL: none */
} sql__conflict;

struct sql_plan {
    sql_stmt_kind kind;
    sql_catalog *catalog;
    const sql_table_desc *table; /* referenced; NULL without FROM */
    uint64_t catalog_gen;        /* sql_catalog_generation before the lookup */
    sql__rowcodec rc;
    sql__path path;
    sql__rowproj proj;        /* what a scan decodes */
    const sql_bexpr *filter;  /* residual WHERE; NULL: none */
    const sql_bexpr *limit;   /* NULL: none */
    const sql_bexpr *offset;  /* NULL: none */
    const sql__sortkey *sort; /* NULL: rows come in the wanted order */
    int nsort;
    /* SELECT with aggregates or GROUP BY: targets, sort keys and DISTINCT
     * are over agg's output rows; NULL: over the scanned rows */
    const sql__agg *agg;
    bool distinct;                   /* SELECT DISTINCT: duplicate result rows dropped */
    int ndistinct_on;                /* DISTINCT ON: the first ndistinct_on sort keys */
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
    /* UPDATE, DELETE: every target row is read before the first write
     * (set_pk; an assignment to a column of the secondary index the path
     * reads; or subqueries that must not see the statement's writes) */
    bool read_first;
    /* INSERT, UPDATE: CHECK constraints over the row */
    const sql_bexpr *const *checks;
    const char *explain; /* "point lookup on t_pkey", ... */
    /* the plans of the subqueries in this plan's expressions (SUBQUERY
     * nodes point at them), freed with it */
    sql_plan **subs;
    int nsubs, capsubs;
    /* SELECT ... FROM (subquery) or a WITH query: the subquery, whose
     * result rows are the input rows (table NULL); NULL: none */
    const sql_plan *from;
    /* A WITH query's plan: the FROM items that read it; from 2 on its
     * rows are computed once per execution and kept (sql__subq_rows) */
    int cte_refs;
    /* INSERT ... SELECT: the query whose rows are inserted; rows[0]
     * then gives every table column's value over one of its result rows */
    const sql_plan *source;
    const sql__conflict *conflict; /* INSERT ... ON CONFLICT; NULL: none */
    /* SELECT over joined tables (plan_join_int.h; table NULL): the
     * scanned rows are the joined rows */
    const struct sql__join *join;
    /* SELECT over a set operation (table NULL): its rows are the input
     * rows, the targets their columns; NULL: none */
    const sql__setop *setop;
    /* VALUES as a query (table NULL): values[r][c] over no row (an
     * enclosing query's columns at most) gives the input rows, the
     * targets their columns; nvalues 0: none */
    const sql_bexpr *const *const *values;
    int nvalues;
    /* A set-returning function in FROM (srf.c; table NULL): its rows are
     * the input rows, the targets their columns; NULL: none */
    const struct sql__srf *srf;
    /* The plan of a view's query where the view is read (plan_view.c):
     * the view's descriptor, referenced until the plan is freed; NULL:
     * none */
    const sql_table_desc *view;
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

/* Called by sql__lookup with each row found for keys[i] that passes
 * the plan's filter (row as for sql__row_cb). 0 goes on, 1 stops, -1
 * with `err` set fails. */
typedef int (*sql__found_cb)(void *arg, size_t i, const sql_datum *row, kv_arena *arena,
                             sql_error *err);

/* Looks up keys[0..n) in one KV batch in the index p's path reads: the
 * primary key (path SPAN) or secondary index p->path.ix (path INDEX).
 * Each key is a whole key (a get) or, with `prefix`, a key prefix (a
 * scan of every pair under it). The entries of a secondary index name
 * rows fetched in further batches of gets, unless p->path.index_only.
 * Rows are decoded with p->proj, filtered with p->filter and passed to
 * `found`; their memory is `arena`'s. 0 (also when found stopped) or -1
 * with `err` set. */
int sql__lookup(const sql_plan *p, sql_run_ctx *ctx, const sql_keybuf *keys, size_t n, bool prefix,
                sql__found_cb found, void *arg, kv_arena *arena, sql_error *err);

/* A row source: calls cb with each row (as sql__row_cb; cb's 1 stops
 * the source early, which still returns 0). 0 or -1 with `err` set. */
typedef int (*sql__source_fn)(void *src, sql__row_cb cb, void *cb_arg, sql_error *err);

/* A single-table plan for a leaf of a join: table `name` opened (its
 * reference released by sql__plan_free), no access path yet. The plan
 * lives in `arena`. -1 with `err` set (42P01). */
int sql__scan_open(sql_plan_ctx *ctx, const sql_name *name, const char *alias, kv_arena *arena,
                   sql_plan **out, sql_error *err);

/* Chooses leaf p's access path from the conjuncts conj[0..n) bound over
 * its table's columns (the rest is its filter) and decodes all columns. */
int sql__scan_path(sql_plan_ctx *ctx, sql_plan *p, const sql_bexpr *const *conj, int n,
                   kv_arena *arena, sql_error *err);

/* Names leaf p's access path again in p->explain (in `arena`), once
 * projection has found whether it is index-only. */
int sql__scan_explain(sql_plan *p, kv_arena *arena, sql_error *err);

/* Whether the entries of secondary index p->path.ix hold every column
 * needed[c] asks for (an index-only scan or lookup): its own columns
 * (exactly only when not composite: keys keep a canonical value) and
 * the pk columns (exact, in the entry's value). */
bool sql__index_covers(const sql_plan *p, const bool *needed);

/* Sets needed[c] for every column `e` (NULL: none) reads, of the
 * ncols a row has: all of them under a correlated subquery. */
void sql__mark_columns(const sql_bexpr *e, bool *needed, size_t ncols);

/* ---- plan_agg.c: binding grouped queries ---- */

/* What binding expressions over a query's input rows needs. */
typedef struct sql__bindenv {
    kv_arena *arena;
    const char *query;
    sql_params *params;
    const sql_scope *scope;      /* the input row's columns */
    const char *tname;           /* table name or alias, for messages */
    const sql_table_desc *table; /* NULL without FROM */
    const int *pk_cols;          /* the table's pk columns (functional dependency) */
    sql_subquery_hook subquery;  /* the planner's (sql_bind_ctx.subquery) */
    void *subquery_arg;
    /* FROM with joins (table NULL): which table each column comes from */
    const struct sql__joinbind *join;
} sql__bindenv;

typedef struct sql__grouping sql__grouping;

/* Starts binding grouped SELECT `s`: binds its GROUP BY items (a
 * position or an output name refers to the select list) over env's
 * input rows. `env` must outlive the grouping; everything lives in
 * env->arena. -1 with `err` set (42P10, 42803, ...). */
int sql__group_begin(const sql__bindenv *env, const sql_select *s, sql__grouping **out,
                     sql_error *err);

/* Binds `e` over the groups: aggregate calls become slots of the
 * aggregation, column references must be grouped (42803 `column "t.x"
 * must appear in the GROUP BY clause or be used in an aggregate
 * function`). `clause` names the clause in a 42804 for a boolean want. */
int sql__group_bind(sql__grouping *g, const sql_expr *e, sql_type want, const char *clause,
                    const sql_bexpr **out, sql_error *err);

/* `e`, bound over the input rows, rewritten over the groups (as
 * sql__group_bind). */
int sql__group_output(sql__grouping *g, const sql_bexpr *e, const sql_bexpr **out, sql_error *err);

/* The input column an output expression passes through (its origin for
 * RowDescription), -1 when it is no plain grouped column. */
int sql__group_origin(const sql__grouping *g, const sql_bexpr *e);

/* The aggregation to run, HAVING (bound with sql__group_bind) attached;
 * borrowed from the grouping's arena. */
const sql__agg *sql__group_finish(sql__grouping *g, const sql_bexpr *having);

/* Structural equality of bound expressions (GROUP BY matching, DISTINCT
 * ON against ORDER BY). */
bool sql__bexpr_equal(const sql_bexpr *a, const sql_bexpr *b);

/* ---- exec_agg.c ---- */

/* Resolves aggregate call `call` over its bound arguments
 * args[0..call->nargs) into *out, coercing arguments through `bc` (an
 * unknown literal or parameter becomes text where a string is taken).
 * 42883 when no such aggregate exists for the argument types, 42725 when
 * an unknown argument leaves it ambiguous; strings in bc->arena. */
int sql__agg_resolve(sql_bind_ctx *bc, const sql_expr *call, sql_bexpr **args, sql__aggcall *out,
                     sql_error *err);

/* The memory the row-holding operators of one execution have taken. */
typedef struct sql__membudget {
    size_t used;
} sql__membudget;

/* Counts n bytes against `mem`: 0, or -1 with 53200 set in `err`
 * (strings in `arena`, detail naming operator `op`) past
 * SQL__QUERY_MEM_BUDGET. */
int sql__mem_account(sql__membudget *mem, kv_arena *arena, size_t n, const char *op,
                     sql_error *err);

/* n bytes of `arena` counted against `mem` (sql__mem_account); NULL
 * with `err` set when over budget or out of memory. */
void *sql__mem_charge(sql__membudget *mem, kv_arena *arena, size_t n, const char *op,
                      sql_error *err);

/* The bytes of a datum's out-of-line payload (text, numeric limbs). */
size_t sql__datum_payload(sql_type_id t, const sql_datum *d);

/* Runs aggregation `a` over the rows of `source` and passes each group's
 * output row (through HAVING) to `out`, groups in order of first
 * appearance; stops early when out returns 1. Groups, states and
 * DISTINCT sets live in `arena`, charged to `mem` (53200 past
 * SQL__QUERY_MEM_BUDGET); the output row and its payloads are valid
 * during the call. 0 or -1 with `err` set. */
int sql__agg_run(const sql__agg *a, sql_run_ctx *ctx, sql__source_fn source, void *src,
                 sql__row_cb out, void *out_arg, sql__membudget *mem, kv_arena *arena,
                 sql_error *err);

/* A set of rows for DISTINCT: hashed by value (datums that compare equal
 * are one member), kept in `arena` and charged to `mem`. */
typedef struct sql__rowset sql__rowset;

/* A new, empty set; NULL on OOM with `err` set. */
sql__rowset *sql__rowset_new(sql__membudget *mem, kv_arena *arena, sql_error *err);

/* Adds the row vals[0..n) (value i of type types[i]); *added false when
 * an equal row is in the set already. `scratch` holds temporary key bytes.
 * 53200 past the budget. */
int sql__rowset_add(sql__rowset *s, const sql_column_info *types, const sql_datum *vals, int n,
                    kv_arena *scratch, bool *added, sql_error *err);

/* The member of set `s` equal to the row vals[0..n) (as sql__rowset_add)
 * and its payload of `size` bytes (every call on one set passes one
 * size): added, zeroed, with *added set, when absent and `add`; *payload
 * NULL when absent otherwise. Valid as long as the set. 53200 past the
 * budget. */
int sql__rowset_member(sql__rowset *s, const sql_column_info *types, const sql_datum *vals, int n,
                       size_t size, bool add, kv_arena *scratch, void **payload, bool *added,
                       sql_error *err);

/* An evaluation context over `row` with the run's parameters. */
void sql__eval_init(sql_eval_ctx *ec, const sql_run_ctx *ctx, const sql_datum *row, kv_arena *arena,
                    sql_error *err);

/* SELECT plan `p` (exec_select.c): rows go to ctx->row, which may
 * return 1 to stop early; *affected counts them. Scratch memory from
 * `arena`. 0 or -1 with `err` set. */
int sql__run_select(const sql_plan *p, sql_run_ctx *ctx, kv_arena *arena, uint64_t *affected,
                    sql_error *err);

/* ---- plan_setop.c, exec_setop.c: UNION, INTERSECT, EXCEPT, VALUES ---- */

/* Completes p, the plan of set operation `s` whose branches are planned
 * (left, right; subplans of p): the common column types (42601 when the
 * widths differ, 42804 when the types cannot be matched), the targets
 * named after the left branch's, and ORDER BY over the result columns
 * (0A000 for other expressions). Everything in `arena`. */
int sql__setop_bind(const sql_plan_ctx *ctx, const sql_select *s, sql_plan *left, sql_plan *right,
                    sql_plan *p, kv_arena *arena, sql_error *err);

/* Completes p, the plan of VALUES query `s` whose items are bound,
 * rows[r][c] (typed unknown for string and NULL literals): each column
 * takes the common type of its items (42804 "VALUES types ... cannot be
 * matched"), named column1, column2, ...; targets pass the row through.
 * The items are coerced in place; everything in `arena`. */
int sql__values_bind(const sql_plan_ctx *ctx, const sql_select *s, sql_bexpr ***rows, sql_plan *p,
                     kv_arena *arena, sql_error *err);

/* The rows of VALUES plan p to cb (as sql__row_cb, 1 stops); scratch
 * memory per batch of rows, errors' strings in `arena`. 0 or -1. */
int sql__values_run(const sql_plan *p, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg,
                    kv_arena *arena, sql_error *err);

/* Runs set operation `s`: its rows (as sql__row_cb) to cb, which may
 * return 1 to stop. Rows held for UNION, INTERSECT and EXCEPT live in
 * `arena`, charged to `mem` (53200 past SQL__QUERY_MEM_BUDGET). 0 or -1
 * with `err` set (strings in `arena`). */
int sql__setop_run(const sql__setop *s, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg,
                   sql__membudget *mem, kv_arena *arena, sql_error *err);

/* ---- srf.c: set-returning functions in FROM ---- */

typedef struct sql__srf sql__srf;

/* Makes p the plan of FROM function `call` [WITH ORDINALITY] named
 * `alias` (for EXPLAIN): its arguments bound through bc (over no
 * columns of their own), the function and signature chosen (0A000 for
 * a function that is not set-returning here, 42883 when no signature
 * fits), p's targets its columns (the value, then "ordinality").
 * Everything in bc->arena. */
int sql__srf_bind(sql_bind_ctx *bc, const sql_expr *call, bool ordinality, const char *alias,
                  sql_plan *p, sql_error *err);

/* SELECT `s` with a set-returning call in its select list: 0 when it
 * has none; 1 with *out, a copy of s that reads the call as FROM call
 * AS name (one call in a query without FROM or grouping: PostgreSQL's
 * ProjectSet gives the same rows); else -1 with 0A000 at the call.
 * Everything in `arena`. */
int sql__srf_targets(const sql_select *s, kv_arena *arena, const char *query, sql_select **out,
                     sql_error *err);

/* The rows of function plan p to cb (as sql__row_cb, 1 stops), scratch
 * memory per batch of rows; errors' strings in `arena`. 0 or -1. */
int sql__srf_run(const sql_plan *p, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg, kv_arena *arena,
                 sql_error *err);

/* The function's name and the relation's alias (NULL: none other),
 * borrowed from the plan, for EXPLAIN. */
void sql__srf_names(const sql__srf *f, const char **name, const char **alias);

/* ---- plan_view.c: views ---- */

/* The query of view `v`, parsed from its text into `arena`. -1 with
 * `err` set. */
int sql__view_query(const sql_table_desc *v, kv_arena *arena, const sql_select **out,
                    sql_error *err);

/* The error of statement `kind` (INSERT, UPDATE, DELETE) writing to
 * view `v`: PostgreSQL's 55000 "cannot insert into view" with its reason
 * when the view is not automatically updatable, else 0A000 (strings in
 * `arena`). Returns -1. */
int sql__view_write_error(const sql_table_desc *v, sql_stmt_kind kind, kv_arena *arena,
                          sql_error *err);

/* Write `st` (INSERT, UPDATE, DELETE) whose target may be a view: *out
 * is st itself when the target is no view; else st rewritten against
 * the table under the view (and under the views it reads), the
 * outermost view's reference in *view (the caller's to release). A view
 * Tardigrade does not write through is sql__view_write_error's error;
 * ON CONFLICT, UPDATE ... FROM and subqueries through a view are 0A000.
 * The new statement lives in `arena`. */
int sql__view_write(const sql_plan_ctx *ctx, const sql_stmt *st, kv_arena *arena,
                    const sql_stmt **out, const sql_table_desc **view, sql_error *err);

/* The ids of the tables and views plan `p` reads directly (not those a
 * view it reads reads), *ids[0..*n) in `arena`. -1 with `err` set. */
int sql__plan_relations(const sql_plan *p, kv_arena *arena, uint32_t **ids, uint32_t *n,
                        sql_error *err);

/* ---- exec_subquery.c ---- */

typedef struct sql__subresult sql__subresult;

/* The subqueries' state during one execution (sql_run_ctx.subq): the
 * results of uncorrelated subqueries, computed at their first use and
 * kept in `arena` (the statement's), charged to `mem`. */
typedef struct sql__subq {
    kv_arena *arena;
    sql__membudget mem;
    sql__subresult *results; /* a list, one per subquery run so far */
} sql__subq;

/* The result rows of uncorrelated plan `p` (a WITH query read more than
 * once) in this execution: run at the first call, kept in ctx->subq's
 * arena (charged to its budget, 53200 past it), *rows[0..*n) of
 * p->ntargets values each, valid until the statement ends. 0 or -1 with
 * `err` set (strings in that arena). */
int sql__subq_rows(const sql_run_ctx *ctx, const sql_plan *p, sql_datum *const **rows, size_t *n,
                   sql_error *err);

/* The sql_subquery_fn of every evaluation context of a run
 * (sql__eval_init); ctx->subquery_arg is the run's sql_run_ctx. */
int sql__subquery_eval(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out);

/* ---- exec_upsert.c ---- */

/* The keys of p->conflict's arbiter for proposed row `row` (none for an
 * index key with a NULL, which conflicts with nothing): *keys[0..*n),
 * in `arena`. -1 with `err` set. */
int sql__arbiter_keys(const sql_plan *p, const sql_datum *row, kv_arena *arena, sql_keybuf **keys,
                      size_t *n, sql_error *err);

/* Reads the arbiter keys keys[r][0..nkeys[r]) of proposed rows
 * r < nrows in one KV batch (then, for DO UPDATE with an index arbiter,
 * the rows the entries name in a second): found[r] tells whether row r
 * conflicts and, for DO UPDATE, existing[r] is the row it conflicts with
 * (table order; payloads in `arena`). -1 with `err` set. */
int sql__conflict_read(const sql_plan *p, sql_run_ctx *ctx, sql_keybuf *const *keys,
                       const size_t *nkeys, size_t nrows, kv_arena *arena, bool *found,
                       sql_datum **existing, sql_error *err);

/* INSERT, UPDATE, DELETE (exec_write.c), as sql__run. */
int sql__run_write(const sql_plan *p, sql_run_ctx *ctx, bool may_commit, kv_arena *arena,
                   uint64_t *affected, bool *committed, sql_error *err);

/* The plan's access path in words ("point lookup on t_pkey"), for tests
 * and EXPLAIN; borrowed from the plan. */
const char *sql__plan_explain(const sql_plan *p);

#endif /* SQL_PLAN_INT_H */
