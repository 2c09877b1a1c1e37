/*
 * expr.h - binding and evaluating scalar expressions.
 *
 * sql_expr_bind() turns a parse-tree expression (sql/parse.h) into a typed
 * sql_bexpr against a scope (the columns of the one table a statement
 * reads, or none; a subquery's scope links to its enclosing query's),
 * resolving column names, choosing operator and function
 * implementations, inserting implicit casts, typing literals of unknown
 * type from context as PostgreSQL does ('1' = int_col makes '1' an int4),
 * and inferring the types of $n parameters whose type the client left
 * unspecified (0) from the same context. sql_expr_eval() evaluates a bound
 * expression over one row.
 *
 * Semantics follow PostgreSQL 15: three-valued logic, integer overflow
 * 22003, division by zero 22012, numeric arithmetic exact (GMP), text
 * concatenation, comparison across numeric types by promotion, error
 * messages worded like PostgreSQL's (operator does not exist: integer =
 * text, 42883 with a hint; column "x" does not exist, 42703; ...), each
 * carrying the 1-based position of the offending node.
 *
 * Memory: bound trees, and every datum eval produces, live in the arena
 * given in the context; inputs are borrowed for the call.
 */
#ifndef SQL_EXPR_H
#define SQL_EXPR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sql/parse.h"
#include "sql/types.h"

/* SQL_T_UNKNOWN: the type of a string literal or parameter whose type is
 * not decided yet (PostgreSQL's "unknown", oid 705); never a column type. */
#define SQL_T_UNKNOWN ((sql_type_id)705)

typedef struct sql_bexpr sql_bexpr;

/* What a bound operator or function computes; `args` are evaluated
 * already (NULL-strict functions are never called with a NULL argument).
 * Returns 0 with *out set, or -1 with `err` set. */
typedef struct sql_eval_ctx sql_eval_ctx;
typedef int (*sql_fn_impl)(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args,
                           sql_datum *out);

typedef enum sql_bexpr_kind {
    SQL_BEXPR_CONST,    /* value */
    SQL_BEXPR_COLUMN,   /* the row's column `column` (an index into the scope) */
    SQL_BEXPR_PARAM,    /* parameter `param` (0-based) */
    SQL_BEXPR_CMP,      /* args[0] cmp args[1], both of type cmp_type */
    SQL_BEXPR_FUNC,     /* fn(args): operators other than comparisons,
                         * functions and casts */
    SQL_BEXPR_AND,      /* args[0..nargs) */
    SQL_BEXPR_OR,       /* args[0..nargs) */
    SQL_BEXPR_NOT,      /* args[0] */
    SQL_BEXPR_NULLTEST, /* args[0] IS [NOT] NULL (negated) */
    SQL_BEXPR_DISTINCT, /* args[0] IS [NOT] DISTINCT FROM args[1] (negated) */
    SQL_BEXPR_IN,       /* args[0] [NOT] IN (args[1..nargs)) of cmp_type */
    SQL_BEXPR_CASE,     /* WHEN args[2i] THEN args[2i+1] ... ELSE els */
    SQL_BEXPR_COALESCE, /* first non-NULL of args (lazy) */
    SQL_BEXPR_AGGREF,   /* an aggregate's result: item `column` of the row the
                         * aggregation operator produces (see sql_bind_ctx.agg) */
    SQL_BEXPR_SUBQUERY, /* subquery `sub` (see sql_bind_ctx.subquery): EXISTS,
                         * its one value (EXPR), or for ANY/ALL the test
                         * args[0] over each of its rows */
    SQL_BEXPR_SUBVALUE, /* in an ANY/ALL test: column `column` of the
                         * subquery row being tested */
    SQL_BEXPR_OUTER,    /* column `column` of the row of the query
                         * `levels_up` levels out (a correlated reference) */
} sql_bexpr_kind;

struct sql_bexpr {
    sql_bexpr_kind kind;
    sql_type type; /* the result type */
    int location;  /* byte offset in the query text, -1 unknown */
    bool negated;
    sql_datum value; /* CONST */
    int column;      /* COLUMN */
    int param;       /* PARAM */
    sql_cmp_op cmp;  /* CMP */
    sql_type_id cmp_type;
    sql_fn_impl fn;   /* FUNC */
    bool strict;      /* FUNC: NULL in any argument gives NULL without a call */
    bool volatile_;   /* FUNC: random(), nextval(), ...: never folded */
    const char *name; /* FUNC: for messages and EXPLAIN */
    sql_bexpr **args;
    int nargs;
    sql_bexpr *els; /* CASE: NULL is ELSE NULL */
    /* SUBQUERY: the planned subquery (opaque here, the planner's), what
     * it tests, and whether it reads columns of enclosing queries (then
     * it runs again for every row; else once per execution) */
    const void *sub;
    sql_sublink sublink;
    bool correlated;
    int levels_up;   /* OUTER: >= 1 */
    const void *aux; /* FUNC: what the implementation prepared at bind time
                      * from constant arguments (a compiled regular
                      * expression), in the bind arena; NULL: nothing */
};

/* A column a name can resolve to. */
typedef struct sql_scope_col {
    const char *name;
    sql_type type;
    bool hidden; /* not part of `*`, but resolvable by name */
} sql_scope_col;

/* One relation of a scope over several (a join): its columns are
 * cols[first, first + ncols). A relation with name NULL holds the
 * columns a join's USING (or NATURAL) merged: they are found by
 * unqualified names only and hide the columns they were merged from,
 * slots hides[0..nhides). */
typedef struct sql_scope_rel {
    const char *name;  /* table name */
    const char *alias; /* FROM alias; when set, only it qualifies columns */
    int first, ncols;
    const int *hides;
    int nhides;
} sql_scope_rel;

/* The names visible to an expression: one table or subquery (or none),
 * or with nrels > 0 the relations of a FROM clause with joins, whose
 * columns are the concatenated row cols[0..ncols) (table and alias
 * unused); then those of the enclosing queries. Relations before
 * first_rel are out of reach (an ON condition sees its own join's only):
 * their names give 42P01 "invalid reference". */
typedef struct sql_scope sql_scope;
struct sql_scope {
    const char *table; /* table name (NULL: no FROM) */
    const char *alias; /* FROM alias; when set, only it qualifies columns */
    const sql_scope_col *cols;
    int ncols;
    const sql_scope_rel *rels;
    int nrels;
    int first_rel;
    /* A subquery's scope: the enclosing query's, where names this scope
     * lacks are looked up (becoming OUTER references); NULL: none. A
     * lookup that passes through this scope to an outer one sets
     * *outer_used (the subquery is correlated); may be NULL when outer
     * is. */
    const sql_scope *outer;
    bool *outer_used;
};

/* Parameter types: `oids[i]` is the declared type of $i+1, 0 while
 * unknown; binding fills unknown ones from context (and grows `n` up to
 * the highest $n seen, up to `cap`). After the statement is bound, a
 * parameter still unknown is text (PostgreSQL does the same for
 * SELECT $1). */
typedef struct sql_params {
    uint32_t *oids;
    int n;
    int cap;
} sql_params;

/* A planned subquery, as the binder sees it. */
typedef struct sql_subquery_info {
    const void *sub;       /* the plan, opaque to the expression module */
    const sql_type *types; /* its result columns' types */
    int ncols;
    bool correlated; /* it reads columns of enclosing queries */
} sql_subquery_info;

struct sql_bind_ctx;

/* Plans subquery `s` with ctx->scope as its enclosing scope and fills
 * *out; `sub` and `types` must live as long as the bound tree (the
 * caller's arena). -1 with `err` set. */
typedef int (*sql_subquery_hook)(void *arg, const struct sql_bind_ctx *ctx, const sql_select *s,
                                 sql_subquery_info *out, sql_error *err);

typedef struct sql_bind_ctx {
    kv_arena *arena;
    const char *query; /* for error positions */
    const sql_scope *scope;
    sql_params *params;
    /* Optional, for the 42804 raised when `want` cannot be met: the target
     * column (column "x" is of type integer but expression is of type
     * text) or the clause a boolean is wanted for (argument of WHERE must
     * be type boolean, not type integer). NULL: a wording naming neither. */
    const char *column;
    const char *clause;
    /* Aggregate calls (count(*), sum(x), ...). With `agg` set, each call
     * is handed to it, which binds the arguments (in its own scope) and
     * returns the node standing for the result, normally an AGGREF; the
     * planner owns the aggregation. Without it an aggregate is 42803
     * "aggregate functions are not allowed in <agg_clause>" (agg_clause
     * NULL: 0A000, the context does not take aggregates). */
    int (*agg)(void *agg_arg, const sql_expr *call, sql_bexpr **out, sql_error *err);
    void *agg_arg;
    const char *agg_clause;
    /* Subqueries: with `subquery` set, each is handed to it and becomes
     * a SUBQUERY node over the plan it returns; without it a subquery is
     * 0A000 (DDL defaults and checks). */
    sql_subquery_hook subquery;
    void *subquery_arg;
} sql_bind_ctx;

/* Binds `e`. `want` is the type the context expects (an INSERT target
 * column, a boolean for WHERE) or SQL_T_UNKNOWN when the context imposes
 * none; the result is then coerced to `want` by assignment rules
 * (sql_expr_coerce) when `want` is known. A DEFAULT item is the caller's
 * to replace with the column default; met here it is 42601. -1 with `err`
 * set. */
int sql_expr_bind(sql_bind_ctx *ctx, const sql_expr *e, sql_type want, sql_bexpr **out,
                  sql_error *err);

/* 42883 "function f(type, ...) does not exist" for call `e` over its
 * bound arguments args[0..e->nargs), with PostgreSQL's hint and the
 * call's position (strings in ctx->arena); returns -1. */
int sql_expr_no_function(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args, sql_error *err);

/* 42725 "function f(type, ...) is not unique", as sql_expr_no_function
 * words it, with PostgreSQL's hint. Returns -1. */
int sql_expr_ambiguous_function(sql_bind_ctx *ctx, const sql_expr *e, sql_bexpr **args,
                                sql_error *err);

/* Wraps `e` in an assignment cast to `to` (INSERT/UPDATE targets:
 * int8 -> int4 with range check, numeric -> numeric(p,s), text ->
 * varchar(n) with 22001, unknown literals parsed as `to`); e itself when
 * no cast is needed. 42804 when no assignment cast exists. */
int sql_expr_coerce(sql_bind_ctx *ctx, sql_bexpr *e, sql_type to, sql_bexpr **out, sql_error *err);

/* PostgreSQL's select_common_type over v[0..n) (an unknown literal
 * counts for none; all unknown: text), then each v[i] coerced to it
 * implicitly: 42804 "<construct> types x and y cannot be matched" at the
 * first node that does not fit. *out the type; new nodes in ctx->arena. */
int sql_expr_unify(sql_bind_ctx *ctx, sql_bexpr **v, int n, const char *construct, sql_type *out,
                   sql_error *err);

/* Services the evaluator needs from the statement that runs it. */
typedef struct sql_eval_env {
    /* nextval('name'); NULL: not allowed here (0A000) */
    int (*nextval)(void *env, const char *seq, int64_t *out, sql_error *err, kv_arena *arena);
    void *env;
    atomic_int *cancel; /* pg_sleep and long loops stop at a cancel */
    const char *database;
    const char *user;
    /* the system catalogs' functions (pg_get_indexdef, regclass, ...)
     * read the catalog through txn; catalog NULL: not available here */
    struct sql_catalog *catalog;
    struct sql_txn *txn;
    uint32_t db_id;
} sql_eval_env;

/* Runs SUBQUERY node `e` for the current row of `ctx` into *out (its
 * value, or the boolean of EXISTS/ANY/ALL). -1 with *ctx->err set. */
typedef int (*sql_subquery_fn)(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out);

struct sql_eval_ctx {
    kv_arena *arena;
    const sql_datum *row; /* the scope's columns, in scope order */
    /* the evaluation of the enclosing query's row (OUTER references
     * read its row); NULL outside subqueries */
    const sql_eval_ctx *outer;
    /* how OUTER references from subqueries read `row`: column i is
     * row[outer_cols[i]] (a grouped query's output row); NULL: row[i] */
    const int *outer_cols;
    const sql_datum *subrow;  /* an ANY/ALL test's subquery row (SUBVALUE) */
    sql_subquery_fn subquery; /* NULL: SUBQUERY nodes cannot run here */
    void *subquery_arg;       /* the runner's state, for subquery */
    const sql_datum *params;
    const sql_type *param_types;
    sql_io_ctx io; /* time zone, and `now` = the transaction's timestamp */
    const sql_eval_env *env;
    sql_error *err;
    const char *query; /* for error positions */
};

/* Evaluates `e` over ctx->row. -1 with *ctx->err set. */
int sql_expr_eval(sql_eval_ctx *ctx, const sql_bexpr *e, sql_datum *out);

/* A WHERE / CHECK result: TRUE, FALSE or UNKNOWN (NULL). */
int sql_expr_eval_bool(sql_eval_ctx *ctx, const sql_bexpr *e, sql_tribool *out);

/* Whether `e` depends only on constants, parameters and enclosing
 * queries' columns (no column of its own row, no volatile function, no
 * correlated subquery): the planner may evaluate it once per execution
 * to build a key. */
bool sql_expr_is_stable(const sql_bexpr *e);

/* Whether `call` names (unqualified or in pg_catalog) an aggregate function
 * we implement (count, sum, avg, min, max, bool_and, bool_or, every,
 * string_agg, array_agg). */
bool sql_expr_is_aggregate(const sql_expr *call);

/* Whether parse tree `e` (NULL: none) has a node for which pred holds,
 * at any depth, not looking into subqueries' own SELECTs. */
bool sql_expr_contains(const sql_expr *e, bool (*pred)(const sql_expr *));

/* Whether parse tree `e` contains an aggregate call (at any depth). */
bool sql_expr_has_aggregate(const sql_expr *e);

/* The output column name PostgreSQL gives an unaliased target: the column
 * name, the function name, the cast's type name, else "?column?". */
const char *sql_expr_colname(const sql_expr *e);

/* Sets 1-based position of byte offset `location` of ctx query into err. */
void sql_expr_error_position(sql_error *err, const char *query, int location);

#endif /* SQL_EXPR_H */
