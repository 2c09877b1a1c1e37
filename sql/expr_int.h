/*
 * expr_int.h - what the files of the expression module share: the
 * operator and function table (expr_func.c) that the binder
 * (expr_bind.c) resolves calls against, the cast rules and their
 * implementation, and the type categories both need. Not a public
 * interface.
 */
#ifndef SQL_EXPR_INT_H
#define SQL_EXPR_INT_H

#include <gmp.h>
#include <stddef.h>

#include "sql/expr.h"

/* Pseudo argument type of a table entry: accepts any type (concat). */
#define SQL__T_ANY ((sql_type_id)2276)
/* Any type but an array (text || anynonarray). */
#define SQL__T_ANYNONARRAY ((sql_type_id)2776)
/* Polymorphic arguments and results, resolved per call like
 * PostgreSQL's anycompatiblearray / anycompatible: the element type is
 * the common type of the ANYARRAY arguments' elements and the
 * ANYELEMENT arguments (all unknown: text), which those arguments are
 * then cast to; an ANYARRAY or ANYELEMENT result is that array type or
 * that element type. ANYELEMENT takes no array (no multidimensional
 * arrays here). */
#define SQL__T_ANYARRAY   ((sql_type_id)5078)
#define SQL__T_ANYELEMENT ((sql_type_id)5077)

/* Flags of a table entry. */
enum {
    SQL__FN_STRICT = 1,     /* NULL in, NULL out, no call */
    SQL__FN_VOLATILE = 2,   /* differs between calls: never folded */
    SQL__FN_STABLE = 4,     /* fixed within a statement (now()): folded per
                             * execution by the planner, not at bind time */
    SQL__FN_VARIADIC = 8,   /* nargs or more arguments, the rest of argt[last] */
    SQL__FN_SAME_POLY = 16, /* polymorphic arguments of one type already
                             * (PostgreSQL's anyarray, not anycompatible) */
};

/* One implementation of an operator or function: `name` over `nargs`
 * arguments of types argt (operators: 1 = prefix, 2 = binary), returning
 * `ret` (0: the common type the binder chooses, for GREATEST and kin).
 * The entries of one name are adjacent and ordered by preference: on a
 * tie the earlier entry wins after PostgreSQL's preferred-type rule. */
typedef struct sql__fn {
    const char *name;
    int nargs;
    sql_type_id argt[6];
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
    SQL__CAT_ARRAY, /* every array type */
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

/* PostgreSQL's pg_cast (plus I/O conversion casts) for our types; an
 * array type casts to another as its elements do. */
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

/* The signature of every table implementation, arguments marked unused
 * so an implementation names only what it reads. */
#define FN_ARGS                                                                            \
    __attribute__((unused)) sql_eval_ctx *ctx, __attribute__((unused)) const sql_bexpr *e, \
        __attribute__((unused)) const sql_datum *args, __attribute__((unused)) sql_datum *out

#define USECS_PER_SEC INT64_C(1000000)
#define USECS_PER_DAY INT64_C(86400000000)
/* Seconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch. */
#define EPOCH_SHIFT_SECS INT64_C(946684800)
/* PostgreSQL's timestamp range: 4714-11-24 BC .. 294277-01-01 (exclusive). */
#define TS_MIN INT64_C(-211813488000000000)
#define TS_END INT64_C(9223371331200000000)
/* Days of 4714-11-24 BC and 5874898-01-01 (exclusive), date's range. */
#define DATE_MIN (-2451545)
#define DATE_END 2145031949
/* What a month is worth in interval arithmetic. */
#define DAYS_PER_MONTH 30.0

/* The rows one file of the module contributes to the operator and
 * function tables; a name's rows all live in one file, adjacent. */
typedef struct sql__fn_set {
    const sql__fn *ops;
    size_t nops;
    const sql__fn *fns;
    size_t nfns;
} sql__fn_set;

extern const sql__fn_set sql__fn_set_str;   /* expr_func_str.c */
extern const sql__fn_set sql__fn_set_regex; /* expr_regex.c */
extern const sql__fn_set sql__fn_set_math;  /* expr_func_math.c */
extern const sql__fn_set sql__fn_set_time;  /* expr_func_time.c */
extern const sql__fn_set sql__fn_set_fmt;   /* expr_func_fmt.c */
extern const sql__fn_set sql__fn_set_array; /* expr_func_array.c */
/* the system catalogs' functions (expr_func_catalog.c) */
extern const sql__fn_set sql__fn_set_catalog;

/* The array nodes the binder builds (expr_func_array.c): ARRAY[args];
 * args[0][args[1]]; args[0][args[1]:args[2]]; args[0] op ANY/ALL
 * (args[1]) with the test `SUBVALUE 0 op SUBVALUE 1` in e->aux. */
int sql__array_ctor(FN_ARGS);
int sql__array_subscript(FN_ARGS);
int sql__array_slice(FN_ARGS);
int sql__array_any(FN_ARGS);
int sql__array_all(FN_ARGS);
/* array || array, array || element, element || array (array_cat,
 * array_append, array_prepend), for the operator table. */
int sql__array_cat(FN_ARGS);
int sql__array_append(FN_ARGS);
int sql__array_prepend(FN_ARGS);

/* Called by the binder on every call node `b` it builds: precomputes
 * into b->aux what b's implementation can from constant arguments
 * (a regular expression with constant pattern and flags, compiled; a
 * constant time zone, loaded), allocating from `arena`, which must outlive b. Raises
 * nothing: on any problem aux stays NULL and evaluation reports the
 * error when (and if) it happens, as PostgreSQL would. */
void sql__fn_prepare(kv_arena *arena, sql_bexpr *b);
/* Its parts, each ignoring calls that are not its own: constant regular
 * expressions (expr_regex.c), constant time zones (expr_func_time.c). */
void sql__regex_prepare(kv_arena *arena, sql_bexpr *b);
void sql__time_prepare(kv_arena *arena, sql_bexpr *b);
/* substring(s FROM pattern): the first parenthesized group's text when
 * the pattern has one, else the whole match; NULL when nothing matches
 * (textregexsubstr). The row lives with substring's others. */
int sql__re_substring(FN_ARGS);

/* ---- helpers of expr_func.c the other implementation files share ---- */
/* Every datum they produce lives in ctx->arena; -1 means ctx->err set. */

/* Sets ctx->err to `state` with the fixed message `msg`; returns -1. */
int sql__fn_fail(sql_eval_ctx *ctx, sql_sqlstate state, const char *msg);
int sql__fn_oom(sql_eval_ctx *ctx);
/* Room in ctx->arena for a datum per element of `a` (one when it has none,
 * so that an empty result is not mistaken for out of memory); NULL when
 * out of memory. */
sql_datum *sql__fn_elems(sql_eval_ctx *ctx, const sql_array *a);
/* A text datum over a copy (in ctx->arena) of p[0..len). */
int sql__text_out(sql_eval_ctx *ctx, const void *p, size_t len, sql_datum *out);
/* A result string grown in ctx->arena by doubling; start it as
 * {.ctx = ctx}. sql__buf_put appends (53200 on out of memory);
 * sql__buf_text makes the text datum of what was put (the buffer's
 * memory, valid as long as the arena). */
typedef struct sql__buf {
    sql_eval_ctx *ctx;
    uint8_t *p;
    size_t len, cap;
} sql__buf;
int sql__buf_put(sql__buf *b, const void *p, size_t n);
void sql__buf_text(const sql__buf *b, sql_datum *out);
/* The output-function text of args[i]; borrows args[i] when it is text. */
int sql__arg_text(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args, int i,
                  sql_datum *out);
/* UTF-8 (input is valid: the types module validates every text datum). */
size_t sql__utf8_width(uint8_t c);
int64_t sql__utf8_count(const uint8_t *p, size_t len);
size_t sql__utf8_offset(const uint8_t *p, size_t len, int64_t n);
uint32_t sql__utf8_decode(const uint8_t *p, size_t w);
size_t sql__utf8_encode(uint32_t c, uint8_t *p);
/* C.UTF-8 case mapping and letter-or-digit test of one code point. */
uint32_t sql__map_case(uint32_t c, bool upper);
bool sql__is_alnum(uint32_t c);
/* A float result checked like PostgreSQL's check_float8_val. */
int sql__float_result(sql_eval_ctx *ctx, sql_type_id t, double r, bool inf_ok, bool zero_ok,
                      sql_datum *out);
/* Numerics: `z` * 10^-dscale with limbs copied to ctx->arena; a
 * read-only mpz view of n's limbs (valid while n is); an integer. */
int sql__num_from_mpz(sql_eval_ctx *ctx, const mpz_t z, int32_t dscale, sql_numeric *out);
void sql__num_mpz(mpz_t z, const sql_numeric *n);
int sql__int_to_num(sql_eval_ctx *ctx, int64_t v, sql_numeric *out);
/* Time: 22008 "date/interval/timestamp out of range" for type t. */
int sql__time_range_error(sql_eval_ctx *ctx, sql_type_id t);
bool sql__ts_finite(int64_t ts);
bool sql__date_finite(int32_t d);
/* The session zone's offset (µs) at UTC instant ts; the UTC instant of
 * a local wall time in the session zone. */
int64_t sql__tz_off_utc(const sql_eval_ctx *ctx, int64_t ts);
int64_t sql__tz_local_to_utc(const sql_eval_ctx *ctx, int64_t local);
/* Days since 2000-01-01 <-> proleptic Gregorian year, month, day. */
void sql__days_to_ymd(int64_t days, int64_t *y, int *m, int *d);
int64_t sql__ymd_to_days(int64_t y, int m, int d);
int sql__days_in_month(int64_t y, int m);
int64_t sql__floor_div(int64_t a, int64_t b);
/* Midnight of date d as a timestamp (22008 past timestamp's range). */
int sql__date_to_ts(sql_eval_ctx *ctx, int32_t d, int64_t *ts);
/* An interval from 64-bit fields, 22008 when a field overflows. */
int sql__iv_result(sql_eval_ctx *ctx, bool overflow, int64_t months, int64_t days, int64_t micros,
                   sql_datum *out);
/* Calendar helpers of expr_func_time.c, over days since 2000-01-01: the
 * day of week (0 = Sunday), the Monday starting ISO week 1 of year y,
 * the ISO year and week of a day. */
int64_t sql__dow(int64_t days);
int64_t sql__iso_week1(int64_t y);
void sql__iso_week(int64_t days, int64_t *iso_year, int64_t *week);
/* The transaction's timestamp (now()). */
int64_t sql__txn_now(const sql_eval_ctx *ctx);

#endif /* SQL_EXPR_INT_H */
