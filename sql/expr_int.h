/*
 * expr_int.h - what the files of the expression module share: the
 * operator and function table (expr_func.c) that the binder
 * (expr_bind.c) resolves calls against, the cast rules and their
 * implementation, and the type categories both need. Not a public
 * interface.
 */
#ifndef SQL_EXPR_INT_H
#define SQL_EXPR_INT_H

#include "sql/expr.h"

/* Pseudo argument type of a table entry: accepts any type (concat). */
#define SQL__T_ANY ((sql_type_id)2276)

/* Flags of a table entry. */
enum {
    SQL__FN_STRICT = 1,   /* NULL in, NULL out, no call */
    SQL__FN_VOLATILE = 2, /* differs between calls: never folded */
    SQL__FN_STABLE = 4,   /* fixed within a statement (now()): folded per
                           * execution by the planner, not at bind time */
    SQL__FN_VARIADIC = 8, /* nargs or more arguments, the rest of argt[last] */
};

/* One implementation of an operator or function: `name` over `nargs`
 * arguments of types argt (operators: 1 = prefix, 2 = binary), returning
 * `ret` (0: the common type the binder chooses, for GREATEST and kin).
 * The entries of one name are adjacent and ordered by preference: on a
 * tie the earlier entry wins after PostgreSQL's preferred-type rule. */
typedef struct sql__fn {
    const char *name;
    int nargs;
    sql_type_id argt[3];
    sql_type_id ret;
    sql_fn_impl impl;
    unsigned flags;
} sql__fn;

/* The operator table entries (is_op) or the function table entries named
 * `name`: *n entries from the returned pointer (static storage); NULL
 * when the name is unknown. */
const sql__fn *sql__fn_find(const char *name, bool is_op, int *n);

/* The 0A000 message for a function PostgreSQL has and we refuse
 * (aggregates, functions over time types); static storage; NULL for
 * any other name. */
const char *sql__fn_unsupported(const char *name);

/* Type categories, after PostgreSQL's pg_type.typcategory. */
typedef enum sql__cat {
    SQL__CAT_BOOL,
    SQL__CAT_NUMERIC,  /* int2 < int4 < int8 < numeric < float4 < float8 */
    SQL__CAT_STRING,   /* text (preferred), varchar, bpchar */
    SQL__CAT_DATETIME, /* date < timestamp < timestamptz (preferred) */
    SQL__CAT_TIMESPAN, /* interval */
    SQL__CAT_USER,     /* uuid */
    SQL__CAT_BYTEA,
    SQL__CAT_OTHER, /* void, unknown */
} sql__cat;

sql__cat sql__type_cat(sql_type_id t);
/* PostgreSQL's preferred type of its category (float8, text, timestamptz). */
bool sql__type_preferred(sql_type_id t);

/* When a cast from one type to another may be applied. */
typedef enum sql__cast_ctx {
    SQL__CAST_NONE = 0,
    SQL__CAST_EXPLICIT, /* only written as ::type / CAST */
    SQL__CAST_ASSIGN,   /* also for INSERT/UPDATE targets */
    SQL__CAST_IMPLICIT, /* also inserted silently around operators */
} sql__cast_ctx;

/* PostgreSQL's pg_cast (plus I/O conversion casts) for our types. */
sql__cast_ctx sql__cast_context(sql_type_id from, sql_type_id to);

/* The implementations of a FUNC node casting args[0] to e->type: explicit
 * casts truncate char(n)/varchar(n) silently, assignment casts raise
 * 22001 (PostgreSQL's difference between the two). */
int sql__cast_explicit(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args,
                       sql_datum *out);
int sql__cast_assign(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args, sql_datum *out);

/* Whether datums of type t hold their value as text bytes (v.s): the
 * string types, and literals and parameters of still unknown type. */
static inline bool sql__is_text_repr(sql_type_id t)
{
    return t == SQL_T_TEXT || t == SQL_T_VARCHAR || t == SQL_T_BPCHAR || t == SQL_T_UNKNOWN;
}

#endif /* SQL_EXPR_INT_H */
