/*
 * expr_func.c - the operator and function table and the implementations
 * behind it, and casts between our types.
 *
 * Every operator other than a comparison and every function the binder
 * knows is one row of `fn_table` below: name, argument types, result
 * type, implementation, flags. The binder picks a row the way PostgreSQL's
 * func_select_candidate does (exact matches, then implicit casts, then the
 * preferred type of the category), so adding a function is adding a row.
 *
 * Implementations follow PostgreSQL 15's: integer overflow is 22003
 * "integer out of range" (per type), float overflow "value out of range:
 * overflow", division by zero 22012, numeric arithmetic exact through
 * sql_numeric_arith, text functions count UTF-8 characters, case mapping
 * is the C.UTF-8 locale's (PostgreSQL's with LC_CTYPE C.UTF-8), comparison
 * bytewise (the C collation). Every datum produced lives in
 * ctx->arena; run-time errors carry no position, as in PostgreSQL.
 */
#include <assert.h>
#include <errno.h>
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <wctype.h>

#include "sql/expr_int.h"
#include "sql/txn.h"

int sql__fn_fail(sql_eval_ctx *ctx, sql_sqlstate state, const char *msg)
{
    return sql_error_set(ctx->err, ctx->arena, state, "%s", msg);
}

int sql__fn_oom(sql_eval_ctx *ctx)
{
    return sql__fn_fail(ctx, SQL_STATE_OUT_OF_MEMORY, "out of memory");
}

sql_datum *sql__fn_elems(sql_eval_ctx *ctx, const sql_array *a)
{
    return kv_arena_alloc(ctx->arena, (a->n ? (size_t)a->n : 1) * sizeof(sql_datum));
}

/* A text datum over `len` bytes copied into ctx->arena. */
int sql__text_out(sql_eval_ctx *ctx, const void *p, size_t len, sql_datum *out)
{
    uint8_t *copy = kv_arena_alloc(ctx->arena, len ? len : 1);

    if (!copy)
        return sql__fn_oom(ctx);
    memcpy(copy, p, len);
    out->isnull = false;
    out->v.s.p = copy;
    out->v.s.len = len;
    return 0;
}

static int text_str(sql_eval_ctx *ctx, const char *s, sql_datum *out)
{
    return sql__text_out(ctx, s, strlen(s), out);
}

int sql__buf_put(sql__buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (b->len + n > b->cap) {
        size_t cap = 2 * b->cap > b->len + n ? 2 * b->cap : b->len + n + 64;
        uint8_t *q = kv_arena_alloc(b->ctx->arena, cap);
        if (!q)
            return sql__fn_oom(b->ctx);
        if (b->len)
            memcpy(q, b->p, b->len);
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

void sql__buf_text(const sql__buf *b, sql_datum *out)
{
    out->isnull = false;
    out->v.s.p = b->p ? b->p : (const uint8_t *)"";
    out->v.s.len = b->len;
}

/* ---- integers -------------------------------------------------------- */

static int int_range_error(sql_eval_ctx *ctx, sql_type_id t)
{
    return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        t == SQL_T_INT2   ? "smallint out of range"
                        : t == SQL_T_INT4 ? "integer out of range"
                                          : "bigint out of range");
}

static bool int_fits(sql_type_id t, int64_t v)
{
    if (t == SQL_T_INT2)
        return v >= INT16_MIN && v <= INT16_MAX;
    if (t == SQL_T_INT4)
        return v >= INT32_MIN && v <= INT32_MAX;
    return true;
}

static int int_result(sql_eval_ctx *ctx, sql_type_id t, bool overflow, int64_t v, sql_datum *out)
{
    if (overflow || !int_fits(t, v))
        return int_range_error(ctx, t);
    out->isnull = false;
    out->v.i = v;
    return 0;
}

static int int_add(FN_ARGS)
{
    int64_t r;
    bool o = __builtin_add_overflow(args[0].v.i, args[1].v.i, &r);
    return int_result(ctx, e->type.oid, o, r, out);
}

static int int_sub(FN_ARGS)
{
    int64_t r;
    bool o = __builtin_sub_overflow(args[0].v.i, args[1].v.i, &r);
    return int_result(ctx, e->type.oid, o, r, out);
}

static int int_mul(FN_ARGS)
{
    int64_t r;
    bool o = __builtin_mul_overflow(args[0].v.i, args[1].v.i, &r);
    return int_result(ctx, e->type.oid, o, r, out);
}

static int int_div(FN_ARGS)
{
    if (args[1].v.i == 0)
        return sql__fn_fail(ctx, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
    if (args[1].v.i == -1) /* INT_MIN / -1 overflows */
        return int_result(ctx, e->type.oid, args[0].v.i == INT64_MIN, -args[0].v.i, out);
    return int_result(ctx, e->type.oid, false, args[0].v.i / args[1].v.i, out);
}

static int int_mod(FN_ARGS)
{
    if (args[1].v.i == 0)
        return sql__fn_fail(ctx, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
    /* INT_MIN % -1 traps in C; the answer is 0 */
    return int_result(ctx, e->type.oid, false, args[1].v.i == -1 ? 0 : args[0].v.i % args[1].v.i,
                      out);
}

static int int_neg(FN_ARGS)
{
    return int_result(ctx, e->type.oid, args[0].v.i == INT64_MIN, -args[0].v.i, out);
}

static int int_abs(FN_ARGS)
{
    int64_t v = args[0].v.i;
    return int_result(ctx, e->type.oid, v == INT64_MIN, v < 0 ? -v : v, out);
}

static int identity(FN_ARGS)
{
    *out = args[0];
    return 0;
}

/* ---- floats ---------------------------------------------------------- */

/* PostgreSQL's check_float8_val: an infinite result needs an infinite
 * input, a zero result a zero input. */
int sql__float_result(sql_eval_ctx *ctx, sql_type_id t, double r, bool inf_ok, bool zero_ok,
                      sql_datum *out)
{
    if (t == SQL_T_FLOAT4)
        r = (float)r;
    if (isinf(r) && !inf_ok)
        return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "value out of range: overflow");
    if (r == 0.0 && !zero_ok)
        return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "value out of range: underflow");
    out->isnull = false;
    out->v.f = r;
    return 0;
}

/* float4 op float4 is computed in single precision, as PostgreSQL does. */
static double float_op(sql_type_id t, char op, double a, double b)
{
    if (t == SQL_T_FLOAT4) {
        float x = (float)a, y = (float)b;
        return op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
    }
    return op == '+' ? a + b : op == '-' ? a - b : op == '*' ? a * b : a / b;
}

static int float_add(FN_ARGS)
{
    double a = args[0].v.f, b = args[1].v.f;
    return sql__float_result(ctx, e->type.oid, float_op(e->type.oid, '+', a, b),
                             isinf(a) || isinf(b), true, out);
}

static int float_sub(FN_ARGS)
{
    double a = args[0].v.f, b = args[1].v.f;
    return sql__float_result(ctx, e->type.oid, float_op(e->type.oid, '-', a, b),
                             isinf(a) || isinf(b), true, out);
}

static int float_mul(FN_ARGS)
{
    double a = args[0].v.f, b = args[1].v.f;
    return sql__float_result(ctx, e->type.oid, float_op(e->type.oid, '*', a, b),
                             isinf(a) || isinf(b), a == 0.0 || b == 0.0, out);
}

static int float_div(FN_ARGS)
{
    double a = args[0].v.f, b = args[1].v.f;
    if (b == 0.0 && !isnan(a))
        return sql__fn_fail(ctx, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
    return sql__float_result(ctx, e->type.oid, float_op(e->type.oid, '/', a, b), isinf(a),
                             a == 0.0 || isinf(b), out);
}

static int float_neg(FN_ARGS)
{
    out->isnull = false;
    out->v.f = -args[0].v.f;
    return 0;
}

static int float_abs(FN_ARGS)
{
    out->isnull = false;
    out->v.f = fabs(args[0].v.f);
    return 0;
}

/* ---- numeric --------------------------------------------------------- */

/* A finite numeric from `z` * 10^-dscale, limbs copied into ctx->arena. */
int sql__num_from_mpz(sql_eval_ctx *ctx, const mpz_t z, int32_t dscale, sql_numeric *out)
{
    size_t n = mpz_size(z);
    mp_limb_t *limbs = kv_arena_dup(ctx->arena, mpz_limbs_read(z), (n ? n : 1) * sizeof *limbs);

    if (!limbs)
        return sql__fn_oom(ctx);
    *out = (sql_numeric){.kind = SQL_NUM_FINITE,
                         .dscale = dscale,
                         .size = mpz_sgn(z) < 0 ? -(int32_t)n : (int32_t)n,
                         .limbs = limbs};
    return 0;
}

void sql__num_mpz(mpz_t z, const sql_numeric *n)
{
    mpz_roinit_n(z, n->limbs, n->size);
}

typedef enum round_mode { ROUND_HALF_AWAY, ROUND_TRUNC, ROUND_CEIL, ROUND_FLOOR } round_mode;

/* `in` rounded to `scale` digits after the point (negative: before it),
 * with PostgreSQL's result scale max(scale, 0). */
static int num_round(sql_eval_ctx *ctx, const sql_numeric *in, int32_t scale, round_mode mode,
                     sql_numeric *out)
{
    mpz_t u, q, r, p;
    int rc;

    if (in->kind != SQL_NUM_FINITE) {
        *out = *in;
        return 0;
    }
    sql__num_mpz(u, in);
    mpz_inits(q, r, p, NULL);
    if (scale >= in->dscale) {
        mpz_ui_pow_ui(p, 10, (unsigned long)(scale - in->dscale));
        mpz_mul(q, u, p);
    } else {
        mpz_ui_pow_ui(p, 10, (unsigned long)(in->dscale - scale));
        mpz_tdiv_qr(q, r, u, p);
        int sign = mpz_sgn(r);
        mpz_mul_2exp(r, r, 1);
        if ((mode == ROUND_HALF_AWAY && mpz_cmpabs(r, p) >= 0) ||
            (mode == ROUND_CEIL && sign > 0) || (mode == ROUND_FLOOR && sign < 0))
            sign > 0 ? mpz_add_ui(q, q, 1) : mpz_sub_ui(q, q, 1);
        if (scale < 0) {
            mpz_ui_pow_ui(p, 10, (unsigned long)-scale);
            mpz_mul(q, q, p);
        }
    }
    rc = sql__num_from_mpz(ctx, q, scale > 0 ? scale : 0, out);
    mpz_clears(q, r, p, NULL);
    return rc;
}

static int num_arith(sql_eval_ctx *ctx, sql_numeric_op op, const sql_datum *args, sql_datum *out)
{
    out->isnull = false;
    return sql_numeric_arith(op, &args[0].v.num, &args[1].v.num, ctx->arena, &out->v.num, ctx->err);
}

static int num_add(FN_ARGS)
{
    return num_arith(ctx, SQL_NUM_ADD, args, out);
}

static int num_sub(FN_ARGS)
{
    return num_arith(ctx, SQL_NUM_SUB, args, out);
}

static int num_mul(FN_ARGS)
{
    return num_arith(ctx, SQL_NUM_MUL, args, out);
}

static int num_div(FN_ARGS)
{
    return num_arith(ctx, SQL_NUM_DIV, args, out);
}

/* a - trunc(a / b) * b at the larger of the two scales (numeric_mod). */
static int num_mod(FN_ARGS)
{
    const sql_numeric *a = &args[0].v.num, *b = &args[1].v.num;
    mpz_t x, y, ax, by, r;
    int32_t s = a->dscale > b->dscale ? a->dscale : b->dscale;
    int rc;

    if (b->kind == SQL_NUM_FINITE && b->size == 0)
        return sql__fn_fail(ctx, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
    out->isnull = false;
    if (a->kind != SQL_NUM_FINITE || b->kind != SQL_NUM_FINITE) {
        /* NaN and infinite dividends give NaN; x % inf = x */
        out->v.num = a->kind == SQL_NUM_FINITE && b->kind != SQL_NUM_NAN
                         ? *a
                         : (sql_numeric){.kind = SQL_NUM_NAN};
        return 0;
    }
    sql__num_mpz(x, a);
    sql__num_mpz(y, b);
    mpz_inits(ax, by, r, NULL);
    mpz_ui_pow_ui(ax, 10, (unsigned long)(s - a->dscale));
    mpz_mul(ax, ax, x);
    mpz_ui_pow_ui(by, 10, (unsigned long)(s - b->dscale));
    mpz_mul(by, by, y);
    mpz_tdiv_r(r, ax, by);
    rc = sql__num_from_mpz(ctx, r, s, &out->v.num);
    mpz_clears(ax, by, r, NULL);
    return rc;
}

static int num_neg(FN_ARGS)
{
    *out = args[0];
    out->v.num.size = -out->v.num.size;
    if (out->v.num.kind == SQL_NUM_PINF || out->v.num.kind == SQL_NUM_NINF)
        out->v.num.kind = out->v.num.kind == SQL_NUM_PINF ? SQL_NUM_NINF : SQL_NUM_PINF;
    return 0;
}

static int num_abs(FN_ARGS)
{
    *out = args[0];
    if (out->v.num.size < 0)
        out->v.num.size = -out->v.num.size;
    if (out->v.num.kind == SQL_NUM_NINF)
        out->v.num.kind = SQL_NUM_PINF;
    return 0;
}

static int num_round0(FN_ARGS)
{
    out->isnull = false;
    return num_round(ctx, &args[0].v.num, 0, ROUND_HALF_AWAY, &out->v.num);
}

static int num_round_n(FN_ARGS)
{
    int64_t s = args[1].v.i;
    s = s > 2000 ? 2000 : s < -2000 ? -2000 : s;
    out->isnull = false;
    return num_round(ctx, &args[0].v.num, (int32_t)s, ROUND_HALF_AWAY, &out->v.num);
}

static int num_ceil(FN_ARGS)
{
    out->isnull = false;
    return num_round(ctx, &args[0].v.num, 0, ROUND_CEIL, &out->v.num);
}

static int num_floor(FN_ARGS)
{
    out->isnull = false;
    return num_round(ctx, &args[0].v.num, 0, ROUND_FLOOR, &out->v.num);
}

static int num_trunc0(FN_ARGS)
{
    out->isnull = false;
    return num_round(ctx, &args[0].v.num, 0, ROUND_TRUNC, &out->v.num);
}

static int num_trunc_n(FN_ARGS)
{
    int64_t s = args[1].v.i;
    s = s > 2000 ? 2000 : s < -2000 ? -2000 : s;
    out->isnull = false;
    return num_round(ctx, &args[0].v.num, (int32_t)s, ROUND_TRUNC, &out->v.num);
}

int sql__int_to_num(sql_eval_ctx *ctx, int64_t v, sql_numeric *out)
{
    mpz_t z;
    int rc;

    mpz_init_set_si(z, v);
    rc = sql__num_from_mpz(ctx, z, 0, out);
    mpz_clear(z);
    return rc;
}

static int num_sign(FN_ARGS)
{
    const sql_numeric *n = &args[0].v.num;
    out->isnull = false;
    if (n->kind == SQL_NUM_NAN) {
        out->v.num = *n;
        return 0;
    }
    return sql__int_to_num(ctx,
                           n->kind == SQL_NUM_PINF   ? 1
                           : n->kind == SQL_NUM_NINF ? -1
                                                     : (n->size > 0) - (n->size < 0),
                           &out->v.num);
}

static int float_trunc(FN_ARGS)
{
    out->isnull = false;
    out->v.f = trunc(args[0].v.f);
    return 0;
}

static int float_sign(FN_ARGS)
{
    double f = args[0].v.f;
    out->isnull = false;
    out->v.f = isnan(f) ? f : (f > 0) - (f < 0);
    return 0;
}

static int float_round(FN_ARGS)
{
    out->isnull = false;
    out->v.f = rint(args[0].v.f);
    return 0;
}

static int float_ceil(FN_ARGS)
{
    out->isnull = false;
    out->v.f = ceil(args[0].v.f);
    return 0;
}

static int float_floor(FN_ARGS)
{
    out->isnull = false;
    out->v.f = floor(args[0].v.f);
    return 0;
}

/* dpow's checks, in PostgreSQL's order. */
static int float_power(FN_ARGS)
{
    double a = args[0].v.f, b = args[1].v.f, r;

    if (a == 0.0 && b < 0.0)
        return sql__fn_fail(ctx, SQL_STATE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                            "zero raised to a negative power is undefined");
    if (a < 0.0 && floor(b) != b)
        return sql__fn_fail(
            ctx, SQL_STATE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
            "a negative number raised to a non-integer power yields a complex result");
    r = pow(a, b);
    return sql__float_result(ctx, SQL_T_FLOAT8, r, isinf(a) || isinf(b), a == 0.0 || fabs(a) > 1.0,
                             out);
}

static int float_sqrt(FN_ARGS)
{
    if (args[0].v.f < 0.0)
        return sql__fn_fail(ctx, SQL_STATE_INVALID_ARGUMENT_FOR_POWER_FUNCTION,
                            "cannot take square root of a negative number");
    out->isnull = false;
    out->v.f = sqrt(args[0].v.f);
    return 0;
}

/* ---- dates, timestamps, intervals ------------------------------------ */

int sql__time_range_error(sql_eval_ctx *ctx, sql_type_id t)
{
    return sql__fn_fail(ctx, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                        t == SQL_T_DATE       ? "date out of range"
                        : t == SQL_T_INTERVAL ? "interval out of range"
                                              : "timestamp out of range");
}

bool sql__ts_finite(int64_t ts)
{
    return ts != INT64_MIN && ts != INT64_MAX;
}

bool sql__date_finite(int32_t d)
{
    return d != INT32_MIN && d != INT32_MAX;
}

static const sql_tz *session_tz(const sql_eval_ctx *ctx)
{
    return ctx->io.tz ? ctx->io.tz : sql_tz_utc();
}

/* The session zone's offset (µs, east positive) at UTC timestamp `ts`. */
int64_t sql__tz_off_utc(const sql_eval_ctx *ctx, int64_t ts)
{
    int64_t secs = ts / USECS_PER_SEC + EPOCH_SHIFT_SECS;
    return (int64_t)sql_tz_offset_at(session_tz(ctx), secs) * USECS_PER_SEC;
}

/* The UTC instant of local wall time `local` in the session zone. */
int64_t sql__tz_local_to_utc(const sql_eval_ctx *ctx, int64_t local)
{
    return local - sql__tz_off_utc(ctx, local - sql__tz_off_utc(ctx, local));
}

/* Days since 2000-01-01 <-> proleptic Gregorian y/m/d (Hinnant's civil
 * date algorithms, shifted to PostgreSQL's epoch). */
void sql__days_to_ymd(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 10957 + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int64_t sql__ymd_to_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468 - 10957;
}

int sql__days_in_month(int64_t y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : mdays[m - 1];
}

int64_t sql__floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Local wall time `t` plus interval `iv` (sign -1: minus): months with the
 * day clamped to the month's end, then days, then microseconds, like
 * timestamp_pl_interval. false when the result leaves the range. */
static bool local_add_interval(int64_t t, const sql_interval *iv, int sign, int64_t *out)
{
    int64_t day = sql__floor_div(t, USECS_PER_DAY), tod = t - day * USECS_PER_DAY, y;
    int m, d;

    if (iv->months) {
        sql__days_to_ymd(day, &y, &m, &d);
        int64_t mon = y * 12 + (m - 1) + sign * (int64_t)iv->months;
        y = sql__floor_div(mon, 12);
        m = (int)(mon - y * 12) + 1;
        if (d > sql__days_in_month(y, m))
            d = sql__days_in_month(y, m);
        day = sql__ymd_to_days(y, m, d);
    }
    day += sign * (int64_t)iv->days;
    if (day < TS_MIN / USECS_PER_DAY - 1 || day > TS_END / USECS_PER_DAY)
        return false; /* and day * USECS_PER_DAY cannot overflow */
    return !__builtin_add_overflow(day * USECS_PER_DAY + tod, sign * iv->micros, out) &&
           *out >= TS_MIN && *out < TS_END;
}

/* timestamp(tz) +/- interval: infinite timestamps stay what they are. */
static int ts_interval(sql_eval_ctx *ctx, const sql_bexpr *e, int64_t ts, const sql_interval *iv,
                       int sign, sql_datum *out)
{
    bool tz = e->type.oid == SQL_T_TIMESTAMPTZ;
    int64_t local = ts, r;

    out->isnull = false;
    out->v.ts = ts;
    if (!sql__ts_finite(ts))
        return 0;
    if (tz)
        local = ts + sql__tz_off_utc(ctx, ts);
    if (!local_add_interval(local, iv, sign, &r))
        return sql__time_range_error(ctx, SQL_T_TIMESTAMP);
    out->v.ts = tz ? sql__tz_local_to_utc(ctx, r) : r;
    return 0;
}

static int ts_pl_iv(FN_ARGS)
{
    return ts_interval(ctx, e, args[0].v.ts, &args[1].v.iv, 1, out);
}

static int iv_pl_ts(FN_ARGS)
{
    return ts_interval(ctx, e, args[1].v.ts, &args[0].v.iv, 1, out);
}

static int ts_mi_iv(FN_ARGS)
{
    return ts_interval(ctx, e, args[0].v.ts, &args[1].v.iv, -1, out);
}

/* Midnight of date d (infinities map to infinities); 22008 when the day
 * lies beyond timestamp's range. */
int sql__date_to_ts(sql_eval_ctx *ctx, int32_t d, int64_t *ts)
{
    if (!sql__date_finite(d)) {
        *ts = d == INT32_MIN ? INT64_MIN : INT64_MAX;
        return 0;
    }
    if (d < TS_MIN / USECS_PER_DAY || d >= TS_END / USECS_PER_DAY)
        return sql__fn_fail(ctx, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                            "date out of range for timestamp");
    *ts = d * USECS_PER_DAY;
    return 0;
}

static int date_pl_iv(FN_ARGS)
{
    int64_t ts = 0;
    if (sql__date_to_ts(ctx, args[0].v.date, &ts) < 0)
        return -1;
    return ts_interval(ctx, e, ts, &args[1].v.iv, 1, out);
}

static int iv_pl_date(FN_ARGS)
{
    sql_datum swapped[2] = {args[1], args[0]};
    return date_pl_iv(ctx, e, swapped, out);
}

static int date_mi_iv(FN_ARGS)
{
    int64_t ts = 0;
    if (sql__date_to_ts(ctx, args[0].v.date, &ts) < 0)
        return -1;
    return ts_interval(ctx, e, ts, &args[1].v.iv, -1, out);
}

/* timestamp - timestamp: the difference with whole days split off
 * (interval_justify_hours). */
static int ts_mi_ts(FN_ARGS)
{
    int64_t diff;

    if (!sql__ts_finite(args[0].v.ts) || !sql__ts_finite(args[1].v.ts))
        return sql__fn_fail(ctx, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                            "cannot subtract infinite timestamps");
    if (__builtin_sub_overflow(args[0].v.ts, args[1].v.ts, &diff))
        return sql__time_range_error(ctx, SQL_T_INTERVAL);
    out->isnull = false;
    out->v.iv =
        (sql_interval){.days = (int32_t)(diff / USECS_PER_DAY), .micros = diff % USECS_PER_DAY};
    return 0;
}

static int date_result(sql_eval_ctx *ctx, int64_t d, sql_datum *out)
{
    if (d < DATE_MIN || d >= DATE_END)
        return sql__time_range_error(ctx, SQL_T_DATE);
    out->isnull = false;
    out->v.date = (int32_t)d;
    return 0;
}

static int date_pl_int(FN_ARGS)
{
    if (!sql__date_finite(args[0].v.date)) {
        *out = args[0];
        return 0;
    }
    return date_result(ctx, (int64_t)args[0].v.date + args[1].v.i, out);
}

static int int_pl_date(FN_ARGS)
{
    sql_datum swapped[2] = {args[1], args[0]};
    return date_pl_int(ctx, e, swapped, out);
}

static int date_mi_int(FN_ARGS)
{
    if (!sql__date_finite(args[0].v.date)) {
        *out = args[0];
        return 0;
    }
    return date_result(ctx, (int64_t)args[0].v.date - args[1].v.i, out);
}

static int date_mi_date(FN_ARGS)
{
    if (!sql__date_finite(args[0].v.date) || !sql__date_finite(args[1].v.date))
        return sql__fn_fail(ctx, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                            "cannot subtract infinite dates");
    out->isnull = false;
    out->v.i = (int64_t)args[0].v.date - args[1].v.date;
    return 0;
}

int sql__iv_result(sql_eval_ctx *ctx, bool overflow, int64_t months, int64_t days, int64_t micros,
                   sql_datum *out)
{
    if (overflow || months < INT32_MIN || months > INT32_MAX || days < INT32_MIN ||
        days > INT32_MAX)
        return sql__time_range_error(ctx, SQL_T_INTERVAL);
    out->isnull = false;
    out->v.iv = (sql_interval){.months = (int32_t)months, .days = (int32_t)days, .micros = micros};
    return 0;
}

static int iv_pl(FN_ARGS)
{
    const sql_interval *a = &args[0].v.iv, *b = &args[1].v.iv;
    int64_t us;
    bool o = __builtin_add_overflow(a->micros, b->micros, &us);
    return sql__iv_result(ctx, o, (int64_t)a->months + b->months, (int64_t)a->days + b->days, us,
                          out);
}

static int iv_mi(FN_ARGS)
{
    const sql_interval *a = &args[0].v.iv, *b = &args[1].v.iv;
    int64_t us;
    bool o = __builtin_sub_overflow(a->micros, b->micros, &us);
    return sql__iv_result(ctx, o, (int64_t)a->months - b->months, (int64_t)a->days - b->days, us,
                          out);
}

static int iv_neg(FN_ARGS)
{
    const sql_interval *a = &args[0].v.iv;
    return sql__iv_result(ctx, a->micros == INT64_MIN, -(int64_t)a->months, -(int64_t)a->days,
                          -a->micros, out);
}

/* PostgreSQL's TSROUND: to microsecond precision. */
static double ts_round(double x)
{
    return rint(x * 1e6) / 1e6;
}

/* interval_mul / interval_div: each field scaled, fractional months
 * cascading into days (30 per month) and fractional days into time. */
static int iv_scale(sql_eval_ctx *ctx, const sql_interval *iv, double f, bool divide,
                    sql_datum *out)
{
    double months = divide ? iv->months / f : iv->months * f;
    double days = divide ? iv->days / f : iv->days * f;
    double us, month_days, secs;
    sql_interval r;

    if (divide && f == 0.0)
        return sql__fn_fail(ctx, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
    if (isnan(months) || isnan(days) || fabs(months) >= 2147483648.0 || fabs(days) >= 2147483648.0)
        return sql__time_range_error(ctx, SQL_T_INTERVAL);
    r.months = (int32_t)months;
    r.days = (int32_t)days;
    month_days = ts_round((months - r.months) * DAYS_PER_MONTH);
    secs = ts_round((days - r.days + month_days - (int32_t)month_days) * 86400.0);
    if (fabs(secs) >= 86400.0) {
        r.days += (int32_t)(secs / 86400.0);
        secs -= (int32_t)(secs / 86400.0) * 86400.0;
    }
    r.days += (int32_t)month_days;
    us = rint((divide ? iv->micros / f : iv->micros * f) + secs * 1e6);
    if (isnan(us) || fabs(us) >= 0x1p63)
        return sql__time_range_error(ctx, SQL_T_INTERVAL);
    r.micros = (int64_t)us;
    out->isnull = false;
    out->v.iv = r;
    return 0;
}

static int iv_mul(FN_ARGS)
{
    return iv_scale(ctx, &args[0].v.iv, args[1].v.f, false, out);
}

static int mul_iv(FN_ARGS)
{
    return iv_scale(ctx, &args[1].v.iv, args[0].v.f, false, out);
}

static int iv_div(FN_ARGS)
{
    return iv_scale(ctx, &args[0].v.iv, args[1].v.f, true, out);
}

/* ---- text ------------------------------------------------------------ */

/* Bytes of the UTF-8 character starting with byte `c` (input is valid
 * UTF-8: the types module validates every text datum). */
size_t sql__utf8_width(uint8_t c)
{
    return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

int64_t sql__utf8_count(const uint8_t *p, size_t len)
{
    int64_t n = 0;
    for (size_t i = 0; i < len; i += sql__utf8_width(p[i]))
        n++;
    return n;
}

/* Byte offset of character `n` (0-based), clamped to len. */
size_t sql__utf8_offset(const uint8_t *p, size_t len, int64_t n)
{
    size_t i = 0;
    for (; i < len && n > 0; n--)
        i += sql__utf8_width(p[i]);
    return i < len ? i : len;
}

static int text_cat(FN_ARGS)
{
    size_t a = args[0].v.s.len, b = args[1].v.s.len;
    uint8_t *p = kv_arena_alloc(ctx->arena, a + b + 1);

    if (!p)
        return sql__fn_oom(ctx);
    memcpy(p, args[0].v.s.p, a);
    memcpy(p + a, args[1].v.s.p, b);
    out->isnull = false;
    out->v.s.p = p;
    out->v.s.len = a + b;
    return 0;
}

/* The output-function text of args[i] (of e->args[i]'s type). */
int sql__arg_text(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args, int i,
                  sql_datum *out)
{
    sql_type t = e->args[i]->type;
    const char *s;
    size_t len;

    if (sql__is_text_repr(t.oid)) {
        *out = args[i];
        return 0;
    }
    if (sql_datum_to_text(t, &args[i], &ctx->io, ctx->arena, &s, &len, ctx->err) < 0)
        return -1;
    *out = (sql_datum){.v.s = {(const uint8_t *)s, len}};
    return 0;
}

/* text || anynonarray and anynonarray || text (textanycat, anytextcat) */
static int any_cat(FN_ARGS)
{
    sql_datum t[2];

    if (sql__arg_text(ctx, e, args, 0, &t[0]) < 0 || sql__arg_text(ctx, e, args, 1, &t[1]) < 0)
        return -1;
    return text_cat(ctx, e, t, out);
}

/* concat(any, ...): NULLs are skipped. */
static int concat_fn(FN_ARGS)
{
    sql_datum acc = {.v.s = {(const uint8_t *)"", 0}}, t;

    for (int i = 0; i < e->nargs; i++) {
        if (args[i].isnull)
            continue;
        sql_datum pair[2] = {acc, {0}};
        if (sql__arg_text(ctx, e, args, i, &t) < 0)
            return -1;
        pair[1] = t;
        if (text_cat(ctx, e, pair, &acc) < 0)
            return -1;
    }
    *out = acc;
    out->isnull = false;
    return 0;
}

static int text_length(FN_ARGS)
{
    out->isnull = false;
    out->v.i = sql__utf8_count(args[0].v.s.p, args[0].v.s.len);
    return 0;
}

/* char_length(bpchar) ignores the pad. */
static int bpchar_length(FN_ARGS)
{
    size_t len = args[0].v.s.len;
    while (len > 0 && args[0].v.s.p[len - 1] == ' ')
        len--;
    out->isnull = false;
    out->v.i = sql__utf8_count(args[0].v.s.p, len);
    return 0;
}

static int text_octet_length(FN_ARGS)
{
    out->isnull = false;
    out->v.i = (int64_t)args[0].v.s.len;
    return 0;
}

/* The C.UTF-8 locale for towupper_l/towlower_l, opened once; newlocale
 * leaves the process locale alone. NULL: not installed (ASCII only). */
static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void open_utf8_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

uint32_t sql__utf8_decode(const uint8_t *p, size_t w)
{
    static const uint8_t lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t c = p[0] & lead_mask[w];
    for (size_t i = 1; i < w; i++)
        c = (c << 6) | (p[i] & 0x3F);
    return c;
}

size_t sql__utf8_encode(uint32_t c, uint8_t *p)
{
    if (c < 0x80) {
        p[0] = (uint8_t)c;
        return 1;
    }
    size_t w = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    for (size_t i = w - 1; i > 0; i--, c >>= 6)
        p[i] = (uint8_t)(0x80 | (c & 0x3F));
    p[0] = (uint8_t)((w == 2 ? 0xC0 : w == 3 ? 0xE0 : 0xF0) | c);
    return w;
}

bool sql__is_alnum(uint32_t c)
{
    pthread_once(&utf8_once, open_utf8_locale);
    if (utf8_locale)
        return iswalnum_l((wint_t)c, utf8_locale);
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

uint32_t sql__map_case(uint32_t c, bool upper)
{
    pthread_once(&utf8_once, open_utf8_locale);
    if (utf8_locale)
        return (uint32_t)(upper ? towupper_l((wint_t)c, utf8_locale)
                                : towlower_l((wint_t)c, utf8_locale));
    if (upper ? (c >= 'a' && c <= 'z') : (c >= 'A' && c <= 'Z'))
        return c ^ 0x20;
    return c;
}

static int text_map_case(sql_eval_ctx *ctx, const sql_datum *in, bool upper, sql_datum *out)
{
    const uint8_t *p = in->v.s.p;
    uint8_t *q = kv_arena_alloc(ctx->arena, 4 * in->v.s.len + 1);
    size_t n = 0;

    if (!q)
        return sql__fn_oom(ctx);
    for (size_t i = 0, w; i < in->v.s.len; i += w) {
        w = sql__utf8_width(p[i]);
        n += sql__utf8_encode(sql__map_case(sql__utf8_decode(p + i, w), upper), q + n);
    }
    out->isnull = false;
    out->v.s.p = q;
    out->v.s.len = n;
    return 0;
}

static int text_lower(FN_ARGS)
{
    return text_map_case(ctx, &args[0], false, out);
}

static int text_upper(FN_ARGS)
{
    return text_map_case(ctx, &args[0], true, out);
}

/* substr(s, start[, count]) with 1-based start, which may lie before the
 * string (text_substring). */
static int substr_impl(sql_eval_ctx *ctx, const sql_datum *s, int64_t start, bool has_count,
                       int64_t count, sql_datum *out)
{
    int64_t end;

    if (has_count && count < 0)
        return sql__fn_fail(ctx, SQL_STATE_SUBSTRING_ERROR,
                            "negative substring length not allowed");
    if (!has_count || __builtin_add_overflow(start, count, &end))
        end = INT64_MAX;
    start = start < 1 ? 1 : start;
    size_t from = sql__utf8_offset(s->v.s.p, s->v.s.len, start - 1);
    size_t to = end <= start ? from : sql__utf8_offset(s->v.s.p, s->v.s.len, end - 1);
    out->isnull = false;
    out->v.s.p = s->v.s.p + from;
    out->v.s.len = to - from;
    return 0;
}

static int text_substr2(FN_ARGS)
{
    return substr_impl(ctx, &args[0], args[1].v.i, false, 0, out);
}

static int text_substr3(FN_ARGS)
{
    return substr_impl(ctx, &args[0], args[1].v.i, true, args[2].v.i, out);
}

/* Whether the character at p (width w) occurs in `set`. */
static bool in_set(const uint8_t *p, size_t w, const sql_datum *set)
{
    for (size_t i = 0; i < set->v.s.len; i += sql__utf8_width(set->v.s.p[i]))
        if (sql__utf8_width(set->v.s.p[i]) == w && memcmp(set->v.s.p + i, p, w) == 0)
            return true;
    return false;
}

/* Strips characters of `set` from the left and/or right of s. */
static void trim_impl(const sql_datum *s, const sql_datum *set, bool left, bool right,
                      sql_datum *out)
{
    const uint8_t *p = s->v.s.p;
    size_t from = 0, to = s->v.s.len;

    while (left && from < to && in_set(p + from, sql__utf8_width(p[from]), set))
        from += sql__utf8_width(p[from]);
    while (right && from < to) {
        size_t last = to - 1;
        while (last > from && (p[last] & 0xC0) == 0x80)
            last--;
        if (!in_set(p + last, to - last, set))
            break;
        to = last;
    }
    out->isnull = false;
    out->v.s.p = p + from;
    out->v.s.len = to - from;
}

static const sql_datum space_set = {.v.s = {(const uint8_t *)" ", 1}};

static int text_btrim1(FN_ARGS)
{
    trim_impl(&args[0], &space_set, true, true, out);
    return 0;
}

static int text_btrim2(FN_ARGS)
{
    trim_impl(&args[0], &args[1], true, true, out);
    return 0;
}

static int text_ltrim1(FN_ARGS)
{
    trim_impl(&args[0], &space_set, true, false, out);
    return 0;
}

static int text_ltrim2(FN_ARGS)
{
    trim_impl(&args[0], &args[1], true, false, out);
    return 0;
}

static int text_rtrim1(FN_ARGS)
{
    trim_impl(&args[0], &space_set, false, true, out);
    return 0;
}

static int text_rtrim2(FN_ARGS)
{
    trim_impl(&args[0], &args[1], false, true, out);
    return 0;
}

/* The byte offset of `needle` in `hay` at or after `from`; -1: none. */
static int64_t find_bytes(const sql_datum *hay, const sql_datum *needle, size_t from)
{
    size_t n = needle->v.s.len;
    for (size_t i = from; i + n <= hay->v.s.len; i++)
        if (memcmp(hay->v.s.p + i, needle->v.s.p, n) == 0)
            return (int64_t)i;
    return -1;
}

/* strpos(s, sub); position(sub IN s) reaches us as position(s, sub). */
static int text_strpos(FN_ARGS)
{
    int64_t at = find_bytes(&args[0], &args[1], 0);
    out->isnull = false;
    out->v.i = at < 0 ? 0 : sql__utf8_count(args[0].v.s.p, (size_t)at) + 1;
    return 0;
}

static int text_replace(FN_ARGS)
{
    const sql_datum *s = &args[0], *from = &args[1], *to = &args[2];
    sql_datum acc = {.v.s = {(const uint8_t *)"", 0}};
    size_t pos = 0;
    int64_t at;

    if (from->v.s.len == 0) {
        *out = *s;
        return 0;
    }
    while ((at = find_bytes(s, from, pos)) >= 0) {
        sql_datum parts[2] = {acc, {.v.s = {s->v.s.p + pos, (size_t)at - pos}}};
        if (text_cat(ctx, e, parts, &acc) < 0)
            return -1;
        parts[0] = acc;
        parts[1] = *to;
        if (text_cat(ctx, e, parts, &acc) < 0)
            return -1;
        pos = (size_t)at + from->v.s.len;
    }
    sql_datum tail[2] = {acc, {.v.s = {s->v.s.p + pos, s->v.s.len - pos}}};
    return text_cat(ctx, e, tail, out);
}

/* `count` characters of s from character `from` (both clamped). */
static void char_slice(const sql_datum *s, int64_t from, int64_t count, sql_datum *out)
{
    size_t a = sql__utf8_offset(s->v.s.p, s->v.s.len, from < 0 ? 0 : from);
    size_t b = count <= 0 ? a : a + sql__utf8_offset(s->v.s.p + a, s->v.s.len - a, count);
    out->isnull = false;
    out->v.s.p = s->v.s.p + a;
    out->v.s.len = b - a;
}

/* left(s, n): the first n characters; n < 0: all but the last -n. */
static int text_left(FN_ARGS)
{
    int64_t n = args[1].v.i, len = sql__utf8_count(args[0].v.s.p, args[0].v.s.len);
    char_slice(&args[0], 0, n >= 0 ? n : len + n, out);
    return 0;
}

/* right(s, n): the last n characters; n < 0: all but the first -n. */
static int text_right(FN_ARGS)
{
    int64_t n = args[1].v.i, len = sql__utf8_count(args[0].v.s.p, args[0].v.s.len);
    int64_t keep = n >= 0 ? (n < len ? n : len) : (len + n > 0 ? len + n : 0);
    char_slice(&args[0], len - keep, keep, out);
    return 0;
}

/* PostgreSQL's limit on one value (MaxAllocSize). */
#define MAX_VALUE_BYTES ((size_t)0x3fffffff)

static int text_repeat(FN_ARGS)
{
    size_t len = args[0].v.s.len, n = args[1].v.i > 0 ? (size_t)args[1].v.i : 0;
    uint8_t *p;

    if (len && n > MAX_VALUE_BYTES / len)
        return sql__fn_fail(ctx, SQL_STATE_PROGRAM_LIMIT_EXCEEDED, "requested length too large");
    if (!(p = kv_arena_alloc(ctx->arena, len * n + 1)))
        return sql__fn_oom(ctx);
    for (size_t i = 0; i < n; i++)
        memcpy(p + i * len, args[0].v.s.p, len);
    out->isnull = false;
    out->v.s.p = p;
    out->v.s.len = len * n;
    return 0;
}

/* lpad/rpad: s cut or filled (cycling through `fill`) to `len` characters. */
static int pad(sql_eval_ctx *ctx, const sql_datum *s, int64_t len, const sql_datum *fill, bool left,
               sql_datum *out)
{
    int64_t have = sql__utf8_count(s->v.s.p, s->v.s.len), need = len - have;
    size_t fi = 0, n = 0;
    uint8_t *p;

    if (need <= 0 || fill->v.s.len == 0) {
        char_slice(s, 0, len < have ? len : have, out);
        return 0;
    }
    if ((size_t)need > MAX_VALUE_BYTES / 4)
        return sql__fn_fail(ctx, SQL_STATE_PROGRAM_LIMIT_EXCEEDED, "requested length too large");
    if (!(p = kv_arena_alloc(ctx->arena, (size_t)need * 4 + s->v.s.len + 1)))
        return sql__fn_oom(ctx);
    if (!left) {
        memcpy(p, s->v.s.p, s->v.s.len);
        n = s->v.s.len;
    }
    for (int64_t i = 0; i < need; i++) {
        size_t w = sql__utf8_width(fill->v.s.p[fi]);
        memcpy(p + n, fill->v.s.p + fi, w);
        n += w;
        fi += w;
        if (fi >= fill->v.s.len)
            fi = 0;
    }
    if (left) {
        memcpy(p + n, s->v.s.p, s->v.s.len);
        n += s->v.s.len;
    }
    out->isnull = false;
    out->v.s.p = p;
    out->v.s.len = n;
    return 0;
}

static int text_lpad2(FN_ARGS)
{
    return pad(ctx, &args[0], args[1].v.i, &space_set, true, out);
}

static int text_lpad3(FN_ARGS)
{
    return pad(ctx, &args[0], args[1].v.i, &args[2], true, out);
}

static int text_rpad2(FN_ARGS)
{
    return pad(ctx, &args[0], args[1].v.i, &space_set, false, out);
}

static int text_rpad3(FN_ARGS)
{
    return pad(ctx, &args[0], args[1].v.i, &args[2], false, out);
}

/* split_part(s, delim, n): field n (1-based; negative counts from the end). */
static int text_split_part(FN_ARGS)
{
    const sql_datum *s = &args[0], *d = &args[1];
    int64_t n = args[2].v.i, fields = 1, at;
    size_t pos = 0;

    if (n == 0)
        return sql__fn_fail(ctx, SQL_STATE_INVALID_PARAMETER_VALUE,
                            "field position must not be zero");
    *out = (sql_datum){.v.s = {s->v.s.p, 0}};
    if (d->v.s.len == 0) {
        if (n == 1 || n == -1)
            *out = *s;
        return 0;
    }
    for (at = 0; (at = find_bytes(s, d, (size_t)at)) >= 0; at += (int64_t)d->v.s.len)
        fields++;
    if (n < 0)
        n += fields + 1;
    if (n < 1 || n > fields)
        return 0;
    for (int64_t i = 1; i < n; i++)
        pos = (size_t)find_bytes(s, d, pos) + d->v.s.len;
    at = find_bytes(s, d, pos);
    out->v.s.p = s->v.s.p + pos;
    out->v.s.len = (at < 0 ? s->v.s.len : (size_t)at) - pos;
    return 0;
}

/* ---- LIKE ------------------------------------------------------------ */

/* Whether pattern character at pat[*pi] matches the character at s;
 * advances *pi past it (and its escape). -1 on a trailing escape. */
static int like_one(const uint8_t *pat, size_t plen, size_t *pi, const uint8_t *s, size_t sw)
{
    size_t i = *pi, w;

    if (pat[i] == '_') {
        *pi = i + 1;
        return 1;
    }
    if (pat[i] == '\\' && ++i == plen)
        return -1;
    w = sql__utf8_width(pat[i]);
    *pi = i + w;
    return w == sw && memcmp(pat + i, s, w) == 0;
}

/* Greedy match with backtracking to the last '%': O(len(s) * len(pat)). */
static int like_match(sql_eval_ctx *ctx, const sql_datum *str, const sql_datum *pattern,
                      bool *match)
{
    const uint8_t *s = str->v.s.p, *pat = pattern->v.s.p;
    size_t slen = str->v.s.len, plen = pattern->v.s.len, si = 0, pi = 0;
    size_t star_p = SIZE_MAX, star_s = 0;

    while (si < slen) {
        size_t sw = sql__utf8_width(s[si]), next = pi;
        int m = 0;
        if (pi < plen && pat[pi] == '%') {
            star_p = ++pi;
            star_s = si;
            continue;
        }
        if (pi < plen && (m = like_one(pat, plen, &next, s + si, sw)) < 0)
            return sql__fn_fail(ctx, SQL_STATE_INVALID_ESCAPE_SEQUENCE,
                                "LIKE pattern must not end with escape character");
        if (m) {
            pi = next;
            si += sw;
        } else if (star_p != SIZE_MAX) {
            pi = star_p;
            star_s += sql__utf8_width(s[star_s]);
            si = star_s;
        } else {
            *match = false;
            return 0;
        }
    }
    while (pi < plen && pat[pi] == '%')
        pi++;
    *match = pi == plen;
    return 0;
}

/* ILIKE lower-cases both sides first, as PostgreSQL does for multibyte
 * encodings. */
static int like_result(sql_eval_ctx *ctx, const sql_datum *args, bool icase, bool negate,
                       sql_datum *out)
{
    sql_datum s = args[0], p = args[1];
    bool m;

    if (icase && (text_map_case(ctx, &args[0], false, &s) < 0 ||
                  text_map_case(ctx, &args[1], false, &p) < 0))
        return -1;
    if (like_match(ctx, &s, &p, &m) < 0)
        return -1;
    out->isnull = false;
    out->v.b = m != negate;
    return 0;
}

static int text_like(FN_ARGS)
{
    return like_result(ctx, args, false, false, out);
}

static int text_not_like(FN_ARGS)
{
    return like_result(ctx, args, false, true, out);
}

static int text_ilike(FN_ARGS)
{
    return like_result(ctx, args, true, false, out);
}

static int text_not_ilike(FN_ARGS)
{
    return like_result(ctx, args, true, true, out);
}

/* ---- NULLIF, GREATEST, LEAST (not strict) ---------------------------- */

static int nullif_fn(FN_ARGS)
{
    *out = args[0];
    if (!args[0].isnull && !args[1].isnull &&
        sql_datum_cmp(e->args[0]->type.oid, &args[0], &args[1]) == 0)
        out->isnull = true;
    return 0;
}

/* The largest (sign 1) or smallest (sign -1) non-NULL argument. */
static int extreme(const sql_bexpr *e, const sql_datum *args, int sign, sql_datum *out)
{
    *out = (sql_datum){.isnull = true};
    for (int i = 0; i < e->nargs; i++)
        if (!args[i].isnull &&
            (out->isnull || sign * sql_datum_cmp(e->type.oid, &args[i], out) > 0))
            *out = args[i];
    return 0;
}

static int greatest_fn(FN_ARGS)
{
    return extreme(e, args, 1, out);
}

static int least_fn(FN_ARGS)
{
    return extreme(e, args, -1, out);
}

/* ---- time and session functions -------------------------------------- */

static int64_t clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((int64_t)ts.tv_sec - EPOCH_SHIFT_SECS) * USECS_PER_SEC + ts.tv_nsec / 1000;
}

/* The transaction's timestamp (the wall clock when the caller gave none). */
int64_t sql__txn_now(const sql_eval_ctx *ctx)
{
    return ctx->io.has_now ? ctx->io.now : clock_now();
}

static int now_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.ts = sql__txn_now(ctx);
    return 0;
}

/* current_timestamp(p) / localtimestamp(p): rounded to p digits. */
static int ts_precision(sql_eval_ctx *ctx, sql_type_id t, int64_t ts, int64_t p, sql_datum *out)
{
    sql_datum d = {.v.ts = ts};
    sql_type type = {t, (int32_t)(p < 0 ? 0 : p > 6 ? 6 : p)};
    return sql_datum_coerce(type, &d, ctx->arena, out, ctx->err);
}

static int now_p(FN_ARGS)
{
    return ts_precision(ctx, SQL_T_TIMESTAMPTZ, sql__txn_now(ctx), args[0].v.i, out);
}

static int clock_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.ts = clock_now();
    return 0;
}

static int64_t local_now(const sql_eval_ctx *ctx)
{
    int64_t now = sql__txn_now(ctx);
    return now + sql__tz_off_utc(ctx, now);
}

static int localts_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.ts = local_now(ctx);
    return 0;
}

static int localts_p(FN_ARGS)
{
    return ts_precision(ctx, SQL_T_TIMESTAMP, local_now(ctx), args[0].v.i, out);
}

static int current_date_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.date = (int32_t)sql__floor_div(local_now(ctx), USECS_PER_DAY);
    return 0;
}

static int version_fn(FN_ARGS)
{
    return text_str(ctx,
                    "PostgreSQL 15.18 (Tardigrade 0.1) on x86_64-pc-linux-gnu, compiled by gcc, "
                    "64-bit",
                    out);
}

/* A session string from the environment; NULL when it has none. */
static int env_str(sql_eval_ctx *ctx, const char *s, sql_datum *out)
{
    if (!s) {
        out->isnull = true;
        return 0;
    }
    return text_str(ctx, s, out);
}

static int database_fn(FN_ARGS)
{
    return env_str(ctx, ctx->env ? ctx->env->database : NULL, out);
}

static int user_fn(FN_ARGS)
{
    return env_str(ctx, ctx->env ? ctx->env->user : NULL, out);
}

/* Tables live in one schema (docs/sql.md). */
static int schema_fn(FN_ARGS)
{
    return text_str(ctx, "public", out);
}

static int random_bytes(sql_eval_ctx *ctx, void *buf, size_t n)
{
    if (getrandom(buf, n, 0) != (ssize_t)n)
        return sql__fn_fail(ctx, SQL_STATE_INTERNAL_ERROR, "could not generate random values");
    return 0;
}

static int random_fn(FN_ARGS)
{
    uint64_t r;
    if (random_bytes(ctx, &r, sizeof r) < 0)
        return -1;
    out->isnull = false;
    out->v.f = (double)(r >> 11) * 0x1.0p-53;
    return 0;
}

static int uuid_fn(FN_ARGS)
{
    if (random_bytes(ctx, out->v.uuid, 16) < 0)
        return -1;
    out->v.uuid[6] = (uint8_t)((out->v.uuid[6] & 0x0F) | 0x40); /* version 4 */
    out->v.uuid[8] = (uint8_t)((out->v.uuid[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    out->isnull = false;
    return 0;
}

/* CockroachDB's unique_rowid: wall µs shifted left 10 bits, bumped past
 * the previous value so that ids are unique and increasing within the
 * process even when the clock stalls or steps back. */
static int unique_rowid_fn(FN_ARGS)
{
    static _Atomic int64_t last;
    int64_t prev = atomic_load(&last), next;

    do {
        int64_t wall = clock_now() << 10;
        next = wall > prev ? wall : prev + 1;
    } while (!atomic_compare_exchange_weak(&last, &prev, next));
    out->isnull = false;
    out->v.i = next;
    return 0;
}

static int nextval_fn(FN_ARGS)
{
    const sql_eval_env *env = ctx->env;
    char *name;

    if (!env || !env->nextval)
        return sql__fn_fail(ctx, SQL_STATE_FEATURE_NOT_SUPPORTED,
                            "nextval() is not supported here");
    name = kv_arena_strndup(ctx->arena, (const char *)args[0].v.s.p, args[0].v.s.len);
    if (!name)
        return sql__fn_oom(ctx);
    out->isnull = false;
    return env->nextval(env->env, name, &out->v.i, ctx->err, ctx->arena);
}

/* Sleeps in steps of at most 10 ms so that a cancel stops it promptly;
 * NaN and non-positive durations return at once, huge ones are capped at
 * about 30 years. */
static int pg_sleep_fn(FN_ARGS)
{
    double secs = args[0].v.f;
    int64_t end, left;

    out->isnull = false;
    if (!(secs > 0))
        return 0;
    end = clock_now() + (secs < 1e9 ? (int64_t)(secs * 1e6) : INT64_C(1000000000000000));
    while ((left = end - clock_now()) > 0) {
        atomic_int *cancel = ctx->env ? ctx->env->cancel : NULL;
        if (sql_txn_check_cancel(cancel, ctx->err, ctx->arena) < 0)
            return -1;
        int64_t step = left < 10000 ? left : 10000;
        nanosleep(&(struct timespec){.tv_nsec = step * 1000}, NULL);
    }
    return 0;
}

/* ---- casts ----------------------------------------------------------- */

static int num_rank(sql_type_id t)
{
    switch (t) {
    case SQL_T_INT2:
        return 0;
    case SQL_T_INT4:
        return 1;
    case SQL_T_INT8:
        return 2;
    case SQL_T_NUMERIC:
        return 3;
    case SQL_T_FLOAT4:
        return 4;
    case SQL_T_FLOAT8:
        return 5;
    case SQL_T_DATE:
        return 0;
    case SQL_T_TIMESTAMP:
        return 1;
    case SQL_T_TIMESTAMPTZ:
        return 2;
    default:
        return 0;
    }
}

sql__cat sql__type_cat(sql_type_id t)
{
    switch (t) {
    case SQL_T_BOOL:
        return SQL__CAT_BOOL;
    case SQL_T_INT2:
    case SQL_T_INT4:
    case SQL_T_INT8:
    case SQL_T_NUMERIC:
    case SQL_T_FLOAT4:
    case SQL_T_FLOAT8:
        return SQL__CAT_NUMERIC;
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
        return SQL__CAT_STRING;
    case SQL_T_DATE:
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        return SQL__CAT_DATETIME;
    case SQL_T_INTERVAL:
        return SQL__CAT_TIMESPAN;
    case SQL_T_UUID:
        return SQL__CAT_USER;
    case SQL_T_BYTEA:
        return SQL__CAT_BYTEA;
    default:
        return sql_type_array_elem(t) ? SQL__CAT_ARRAY : SQL__CAT_OTHER;
    }
}

bool sql__type_preferred(sql_type_id t)
{
    return t == SQL_T_FLOAT8 || t == SQL_T_TEXT || t == SQL_T_TIMESTAMPTZ || t == SQL_T_BOOL ||
           t == SQL_T_INTERVAL;
}

sql__cast_ctx sql__cast_context(sql_type_id from, sql_type_id to)
{
    sql__cat cf = sql__type_cat(from), ct = sql__type_cat(to);

    if (from == to || from == SQL_T_UNKNOWN)
        return SQL__CAST_IMPLICIT;
    if (cf == SQL__CAT_ARRAY && ct == SQL__CAT_ARRAY)
        return sql__cast_context(sql_type_array_elem(from), sql_type_array_elem(to));
    if (cf == ct && (cf == SQL__CAT_NUMERIC || cf == SQL__CAT_DATETIME))
        return num_rank(from) < num_rank(to) ? SQL__CAST_IMPLICIT : SQL__CAST_ASSIGN;
    if (cf == SQL__CAT_STRING && ct == SQL__CAT_STRING)
        return SQL__CAST_IMPLICIT;
    if (ct == SQL__CAT_STRING && cf != SQL__CAT_OTHER) /* I/O conversion casts */
        return SQL__CAST_ASSIGN;
    if (cf == SQL__CAT_STRING && ct != SQL__CAT_OTHER)
        return SQL__CAST_EXPLICIT;
    if ((from == SQL_T_INT4 && to == SQL_T_BOOL) || (from == SQL_T_BOOL && to == SQL_T_INT4))
        return SQL__CAST_EXPLICIT;
    return SQL__CAST_NONE;
}

/* numeric -> int: round half away from zero, then the range check. */
static int num_to_int(sql_eval_ctx *ctx, sql_type_id to, const sql_numeric *n, int64_t *out)
{
    sql_numeric r;
    mpz_t z;

    if (n->kind == SQL_NUM_NAN)
        return sql__fn_fail(ctx, SQL_STATE_FEATURE_NOT_SUPPORTED,
                            to == SQL_T_INT8   ? "cannot convert NaN to bigint"
                            : to == SQL_T_INT4 ? "cannot convert NaN to integer"
                                               : "cannot convert NaN to smallint");
    if (n->kind != SQL_NUM_FINITE)
        return sql__fn_fail(ctx, SQL_STATE_FEATURE_NOT_SUPPORTED,
                            to == SQL_T_INT8   ? "cannot convert infinity to bigint"
                            : to == SQL_T_INT4 ? "cannot convert infinity to integer"
                                               : "cannot convert infinity to smallint");
    if (num_round(ctx, n, 0, ROUND_HALF_AWAY, &r) < 0)
        return -1;
    sql__num_mpz(z, &r);
    if (!mpz_fits_slong_p(z) || !int_fits(to, mpz_get_si(z)))
        return int_range_error(ctx, to);
    *out = mpz_get_si(z);
    return 0;
}

/* float8_numeric / float4_numeric: through DBL_DIG / FLT_DIG digits. */
static int float_to_num(sql_eval_ctx *ctx, sql_type_id from, double f, sql_datum *out)
{
    char buf[64];
    sql_type num = {SQL_T_NUMERIC, -1};

    if (isnan(f) || isinf(f))
        snprintf(buf, sizeof buf, "%s", isnan(f) ? "NaN" : f > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(buf, sizeof buf, "%.*g", from == SQL_T_FLOAT4 ? FLT_DIG : DBL_DIG, f);
    return sql_datum_from_text(num, buf, strlen(buf), &ctx->io, ctx->arena, out, ctx->err);
}

/* numeric_float8 / numeric_float4: through the text form, like
 * PostgreSQL, whose float input words the overflow. */
static int num_to_float(sql_eval_ctx *ctx, sql_type_id to, const sql_datum *in, double *out)
{
    sql_type num = {SQL_T_NUMERIC, -1};
    const char *s;

    if (sql_datum_to_text(num, in, &ctx->io, ctx->arena, &s, NULL, ctx->err) < 0)
        return -1;
    *out = to == SQL_T_FLOAT4 ? (double)strtof(s, NULL) : strtod(s, NULL);
    if (in->v.num.kind == SQL_NUM_FINITE && (isinf(*out) || (*out == 0.0 && in->v.num.size != 0)))
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                             "\"%s\" is out of range for type %s", s, sql_type_name(to));
    return 0;
}

/* float -> int: rint (half to even) and PostgreSQL's FLOAT8_FITS_IN_* test. */
static int float_to_int(sql_eval_ctx *ctx, sql_type_id to, double f, int64_t *out)
{
    double r = rint(f), lim = to == SQL_T_INT2 ? 32768.0 : to == SQL_T_INT4 ? 2147483648.0 : 0x1p63;

    if (isnan(r) || r < -lim || r >= lim)
        return int_range_error(ctx, to);
    *out = (int64_t)r;
    return 0;
}

/* Between two types of the numeric category. */
static int cast_numeric(sql_eval_ctx *ctx, sql_type_id from, sql_type_id to, const sql_datum *in,
                        sql_datum *out)
{
    bool from_int = from == SQL_T_INT2 || from == SQL_T_INT4 || from == SQL_T_INT8;
    bool to_int = to == SQL_T_INT2 || to == SQL_T_INT4 || to == SQL_T_INT8;

    out->isnull = false;
    if (to == SQL_T_NUMERIC)
        return from_int ? sql__int_to_num(ctx, in->v.i, &out->v.num)
                        : float_to_num(ctx, from, in->v.f, out);
    if (from == SQL_T_NUMERIC)
        return to_int ? num_to_int(ctx, to, &in->v.num, &out->v.i)
                      : num_to_float(ctx, to, in, &out->v.f);
    if (to_int)
        return from_int ? int_result(ctx, to, false, in->v.i, out)
                        : float_to_int(ctx, to, in->v.f, &out->v.i);
    if (from_int)
        return sql__float_result(ctx, to, (double)in->v.i, true, true, out);
    return sql__float_result(ctx, to, in->v.f, isinf(in->v.f), in->v.f == 0.0, out);
}

/* Between date, timestamp and timestamptz; the zone is the session's. */
static int cast_datetime(sql_eval_ctx *ctx, sql_type_id from, sql_type_id to, const sql_datum *in,
                         sql_datum *out)
{
    int64_t ts = in->v.ts;

    if (from == SQL_T_DATE && sql__date_to_ts(ctx, in->v.date, &ts) < 0)
        return -1;
    bool finite = sql__ts_finite(ts);
    out->isnull = false;
    if (finite && from == SQL_T_TIMESTAMPTZ)
        ts += sql__tz_off_utc(ctx, ts); /* now local wall time */
    if (to == SQL_T_DATE) {
        out->v.date =
            !finite ? (ts < 0 ? INT32_MIN : INT32_MAX) : (int32_t)sql__floor_div(ts, USECS_PER_DAY);
        return 0;
    }
    out->v.ts = finite && to == SQL_T_TIMESTAMPTZ ? sql__tz_local_to_utc(ctx, ts) : ts;
    return 0;
}

/* Any type to a string type: bpchar loses its pad, bool spells itself
 * out (booltext), everything else goes through its output function. */
static int cast_to_string(sql_eval_ctx *ctx, sql_type from, const sql_datum *in, sql_datum *out)
{
    const char *s;
    size_t len;

    *out = *in;
    if (from.oid == SQL_T_BPCHAR)
        while (out->v.s.len > 0 && out->v.s.p[out->v.s.len - 1] == ' ')
            out->v.s.len--;
    if (sql__is_text_repr(from.oid))
        return 0;
    if (from.oid == SQL_T_BOOL)
        return text_str(ctx, in->v.b ? "true" : "false", out);
    if (sql_datum_to_text(from, in, &ctx->io, ctx->arena, &s, &len, ctx->err) < 0)
        return -1;
    out->v.s.p = (const uint8_t *)s;
    out->v.s.len = len;
    return 0;
}

/* Explicit casts to char(n)/varchar(n) cut the string to n characters. */
static void truncate_chars(sql_type to, sql_datum *d)
{
    if ((to.oid == SQL_T_VARCHAR || to.oid == SQL_T_BPCHAR) && to.typmod >= 4)
        d->v.s.len = sql__utf8_offset(d->v.s.p, d->v.s.len, to.typmod - 4);
}

static int do_cast(sql_eval_ctx *ctx, sql_type from, sql_type to, const sql_datum *in,
                   bool explicit, sql_datum *out);

/* Between array types, or to a typmod of the same (explicitly, which
 * truncates strings): each element cast as its type casts (the element
 * typmod is the array's). */
static int cast_array(sql_eval_ctx *ctx, sql_type from, sql_type to, const sql_datum *in,
                      bool explicit, sql_datum *out)
{
    const sql_array *a = in->v.arr;
    sql_type ef = {a->elem, from.typmod}, et = {sql_type_array_elem(to.oid), to.typmod};
    sql_datum *v = sql__fn_elems(ctx, a);

    if (!v)
        return sql__fn_oom(ctx);
    for (int32_t i = 0; i < a->n; i++) {
        v[i] = a->elems[i];
        if (!v[i].isnull && do_cast(ctx, ef, et, &a->elems[i], explicit, &v[i]) < 0)
            return -1;
    }
    return sql_array_make(et.oid, v, a->n, ctx->arena, out, ctx->err);
}

/* The cast of `in` from `from` to `to`, typmod included. */
static int do_cast(sql_eval_ctx *ctx, sql_type from, sql_type to, const sql_datum *in,
                   bool explicit, sql_datum *out)
{
    sql__cat cf = sql__type_cat(from.oid), ct = sql__type_cat(to.oid);
    sql_datum tmp = *in;
    int rc = 0;

    if (ct == SQL__CAT_STRING) {
        rc = cast_to_string(ctx, from, in, &tmp);
        if (rc == 0 && explicit)
            truncate_chars(to, &tmp);
    } else if (sql__is_text_repr(from.oid)) {
        return sql_datum_from_text(to, (const char *)in->v.s.p, in->v.s.len, &ctx->io, ctx->arena,
                                   out, ctx->err);
    } else if (from.oid != to.oid && cf == SQL__CAT_NUMERIC && ct == SQL__CAT_NUMERIC) {
        rc = cast_numeric(ctx, from.oid, to.oid, in, &tmp);
    } else if (from.oid != to.oid && cf == SQL__CAT_DATETIME && ct == SQL__CAT_DATETIME) {
        rc = cast_datetime(ctx, from.oid, to.oid, in, &tmp);
    } else if ((from.oid != to.oid || explicit) && cf == SQL__CAT_ARRAY && ct == SQL__CAT_ARRAY) {
        return cast_array(ctx, from, to, in, explicit, out);
    } else if (to.oid == SQL_T_BOOL && from.oid == SQL_T_INT4) {
        tmp.v.b = in->v.i != 0;
    } else if (to.oid == SQL_T_INT4 && from.oid == SQL_T_BOOL) {
        tmp.v.i = in->v.b;
    }
    if (rc < 0)
        return -1;
    return sql_datum_coerce(to, &tmp, ctx->arena, out, ctx->err);
}

int sql__cast_explicit(FN_ARGS)
{
    return do_cast(ctx, e->args[0]->type, e->type, &args[0], true, out);
}

int sql__cast_assign(FN_ARGS)
{
    return do_cast(ctx, e->args[0]->type, e->type, &args[0], false, out);
}

/* ---- the table ------------------------------------------------------- */

#define S    SQL__FN_STRICT
#define V    (SQL__FN_STRICT | SQL__FN_VOLATILE)
#define T(x) SQL_T_##x
#define ANY  SQL__T_ANY

/* Operators: prefix (1 argument) and infix (2); comparisons are not here
 * (the binder compares any two values of a common type). */
static const sql__fn op_table[] = {
    {"+", 2, {T(INT2), T(INT2)}, T(INT2), int_add, S},
    {"+", 2, {T(INT4), T(INT4)}, T(INT4), int_add, S},
    {"+", 2, {T(INT8), T(INT8)}, T(INT8), int_add, S},
    {"+", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_add, S},
    {"+", 2, {T(FLOAT4), T(FLOAT4)}, T(FLOAT4), float_add, S},
    {"+", 2, {T(FLOAT8), T(FLOAT8)}, T(FLOAT8), float_add, S},
    {"+", 2, {T(FLOAT4), T(FLOAT8)}, T(FLOAT8), float_add, S},
    {"+", 2, {T(FLOAT8), T(FLOAT4)}, T(FLOAT8), float_add, S},
    {"+", 2, {T(DATE), T(INT4)}, T(DATE), date_pl_int, S},
    {"+", 2, {T(INT4), T(DATE)}, T(DATE), int_pl_date, S},
    {"+", 2, {T(DATE), T(INTERVAL)}, T(TIMESTAMP), date_pl_iv, S},
    {"+", 2, {T(TIMESTAMP), T(INTERVAL)}, T(TIMESTAMP), ts_pl_iv, S},
    {"+", 2, {T(TIMESTAMPTZ), T(INTERVAL)}, T(TIMESTAMPTZ), ts_pl_iv, S},
    {"+", 2, {T(INTERVAL), T(DATE)}, T(TIMESTAMP), iv_pl_date, S},
    {"+", 2, {T(INTERVAL), T(TIMESTAMP)}, T(TIMESTAMP), iv_pl_ts, S},
    {"+", 2, {T(INTERVAL), T(TIMESTAMPTZ)}, T(TIMESTAMPTZ), iv_pl_ts, S},
    {"+", 2, {T(INTERVAL), T(INTERVAL)}, T(INTERVAL), iv_pl, S},
    {"+", 1, {T(INT2)}, T(INT2), identity, S},
    {"+", 1, {T(INT4)}, T(INT4), identity, S},
    {"+", 1, {T(INT8)}, T(INT8), identity, S},
    {"+", 1, {T(NUMERIC)}, T(NUMERIC), identity, S},
    {"+", 1, {T(FLOAT4)}, T(FLOAT4), identity, S},
    {"+", 1, {T(FLOAT8)}, T(FLOAT8), identity, S},
    {"-", 2, {T(INT2), T(INT2)}, T(INT2), int_sub, S},
    {"-", 2, {T(INT4), T(INT4)}, T(INT4), int_sub, S},
    {"-", 2, {T(INT8), T(INT8)}, T(INT8), int_sub, S},
    {"-", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_sub, S},
    {"-", 2, {T(FLOAT4), T(FLOAT4)}, T(FLOAT4), float_sub, S},
    {"-", 2, {T(FLOAT8), T(FLOAT8)}, T(FLOAT8), float_sub, S},
    {"-", 2, {T(FLOAT4), T(FLOAT8)}, T(FLOAT8), float_sub, S},
    {"-", 2, {T(FLOAT8), T(FLOAT4)}, T(FLOAT8), float_sub, S},
    {"-", 2, {T(DATE), T(DATE)}, T(INT4), date_mi_date, S},
    {"-", 2, {T(DATE), T(INT4)}, T(DATE), date_mi_int, S},
    {"-", 2, {T(DATE), T(INTERVAL)}, T(TIMESTAMP), date_mi_iv, S},
    {"-", 2, {T(TIMESTAMP), T(TIMESTAMP)}, T(INTERVAL), ts_mi_ts, S},
    {"-", 2, {T(TIMESTAMPTZ), T(TIMESTAMPTZ)}, T(INTERVAL), ts_mi_ts, S},
    {"-", 2, {T(TIMESTAMP), T(INTERVAL)}, T(TIMESTAMP), ts_mi_iv, S},
    {"-", 2, {T(TIMESTAMPTZ), T(INTERVAL)}, T(TIMESTAMPTZ), ts_mi_iv, S},
    {"-", 2, {T(INTERVAL), T(INTERVAL)}, T(INTERVAL), iv_mi, S},
    {"-", 1, {T(INT2)}, T(INT2), int_neg, S},
    {"-", 1, {T(INT4)}, T(INT4), int_neg, S},
    {"-", 1, {T(INT8)}, T(INT8), int_neg, S},
    {"-", 1, {T(NUMERIC)}, T(NUMERIC), num_neg, S},
    {"-", 1, {T(FLOAT4)}, T(FLOAT4), float_neg, S},
    {"-", 1, {T(FLOAT8)}, T(FLOAT8), float_neg, S},
    {"-", 1, {T(INTERVAL)}, T(INTERVAL), iv_neg, S},
    {"*", 2, {T(INT2), T(INT2)}, T(INT2), int_mul, S},
    {"*", 2, {T(INT4), T(INT4)}, T(INT4), int_mul, S},
    {"*", 2, {T(INT8), T(INT8)}, T(INT8), int_mul, S},
    {"*", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_mul, S},
    {"*", 2, {T(FLOAT4), T(FLOAT4)}, T(FLOAT4), float_mul, S},
    {"*", 2, {T(FLOAT8), T(FLOAT8)}, T(FLOAT8), float_mul, S},
    {"*", 2, {T(FLOAT4), T(FLOAT8)}, T(FLOAT8), float_mul, S},
    {"*", 2, {T(FLOAT8), T(FLOAT4)}, T(FLOAT8), float_mul, S},
    {"*", 2, {T(INTERVAL), T(FLOAT8)}, T(INTERVAL), iv_mul, S},
    {"*", 2, {T(FLOAT8), T(INTERVAL)}, T(INTERVAL), mul_iv, S},
    {"/", 2, {T(INT2), T(INT2)}, T(INT2), int_div, S},
    {"/", 2, {T(INT4), T(INT4)}, T(INT4), int_div, S},
    {"/", 2, {T(INT8), T(INT8)}, T(INT8), int_div, S},
    {"/", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_div, S},
    {"/", 2, {T(FLOAT4), T(FLOAT4)}, T(FLOAT4), float_div, S},
    {"/", 2, {T(FLOAT8), T(FLOAT8)}, T(FLOAT8), float_div, S},
    {"/", 2, {T(FLOAT4), T(FLOAT8)}, T(FLOAT8), float_div, S},
    {"/", 2, {T(FLOAT8), T(FLOAT4)}, T(FLOAT8), float_div, S},
    {"/", 2, {T(INTERVAL), T(FLOAT8)}, T(INTERVAL), iv_div, S},
    {"^", 2, {T(FLOAT8), T(FLOAT8)}, T(FLOAT8), float_power, S},
    {"%", 2, {T(INT2), T(INT2)}, T(INT2), int_mod, S},
    {"%", 2, {T(INT4), T(INT4)}, T(INT4), int_mod, S},
    {"%", 2, {T(INT8), T(INT8)}, T(INT8), int_mod, S},
    {"%", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_mod, S},
    {"||", 2, {T(TEXT), T(TEXT)}, T(TEXT), text_cat, S},
    {"||", 2, {T(TEXT), SQL__T_ANYNONARRAY}, T(TEXT), any_cat, S},
    {"||", 2, {SQL__T_ANYNONARRAY, T(TEXT)}, T(TEXT), any_cat, S},
    /* array || array first: an unknown literal beside an array is read
     * as an array, as in PostgreSQL */
    {"||", 2, {SQL__T_ANYARRAY, SQL__T_ANYARRAY}, SQL__T_ANYARRAY, sql__array_cat, 0},
    {"||", 2, {SQL__T_ANYARRAY, SQL__T_ANYELEMENT}, SQL__T_ANYARRAY, sql__array_append, 0},
    {"||", 2, {SQL__T_ANYELEMENT, SQL__T_ANYARRAY}, SQL__T_ANYARRAY, sql__array_prepend, 0},
    {"~~", 2, {T(TEXT), T(TEXT)}, T(BOOL), text_like, S},
    {"!~~", 2, {T(TEXT), T(TEXT)}, T(BOOL), text_not_like, S},
    {"~~*", 2, {T(TEXT), T(TEXT)}, T(BOOL), text_ilike, S},
    {"!~~*", 2, {T(TEXT), T(TEXT)}, T(BOOL), text_not_ilike, S},
};

static const sql__fn fn_table[] = {
    {"abs", 1, {T(INT2)}, T(INT2), int_abs, S},
    {"abs", 1, {T(INT4)}, T(INT4), int_abs, S},
    {"abs", 1, {T(INT8)}, T(INT8), int_abs, S},
    {"abs", 1, {T(NUMERIC)}, T(NUMERIC), num_abs, S},
    {"abs", 1, {T(FLOAT4)}, T(FLOAT4), float_abs, S},
    {"abs", 1, {T(FLOAT8)}, T(FLOAT8), float_abs, S},
    {"round", 1, {T(FLOAT8)}, T(FLOAT8), float_round, S},
    {"round", 1, {T(NUMERIC)}, T(NUMERIC), num_round0, S},
    {"round", 2, {T(NUMERIC), T(INT4)}, T(NUMERIC), num_round_n, S},
    {"ceil", 1, {T(FLOAT8)}, T(FLOAT8), float_ceil, S},
    {"ceil", 1, {T(NUMERIC)}, T(NUMERIC), num_ceil, S},
    {"ceiling", 1, {T(FLOAT8)}, T(FLOAT8), float_ceil, S},
    {"ceiling", 1, {T(NUMERIC)}, T(NUMERIC), num_ceil, S},
    {"floor", 1, {T(FLOAT8)}, T(FLOAT8), float_floor, S},
    {"floor", 1, {T(NUMERIC)}, T(NUMERIC), num_floor, S},
    {"trunc", 1, {T(FLOAT8)}, T(FLOAT8), float_trunc, S},
    {"trunc", 1, {T(NUMERIC)}, T(NUMERIC), num_trunc0, S},
    {"trunc", 2, {T(NUMERIC), T(INT4)}, T(NUMERIC), num_trunc_n, S},
    {"sign", 1, {T(FLOAT8)}, T(FLOAT8), float_sign, S},
    {"sign", 1, {T(NUMERIC)}, T(NUMERIC), num_sign, S},
    {"mod", 2, {T(INT2), T(INT2)}, T(INT2), int_mod, S},
    {"mod", 2, {T(INT4), T(INT4)}, T(INT4), int_mod, S},
    {"mod", 2, {T(INT8), T(INT8)}, T(INT8), int_mod, S},
    {"mod", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_mod, S},
    {"power", 2, {T(FLOAT8), T(FLOAT8)}, T(FLOAT8), float_power, S},
    {"pow", 2, {T(FLOAT8), T(FLOAT8)}, T(FLOAT8), float_power, S},
    {"sqrt", 1, {T(FLOAT8)}, T(FLOAT8), float_sqrt, S},
    {"random", 0, {0}, T(FLOAT8), random_fn, V},
    {"length", 1, {T(TEXT)}, T(INT4), text_length, S},
    {"length", 1, {T(BPCHAR)}, T(INT4), bpchar_length, S},
    {"char_length", 1, {T(TEXT)}, T(INT4), text_length, S},
    {"char_length", 1, {T(BPCHAR)}, T(INT4), bpchar_length, S},
    {"character_length", 1, {T(TEXT)}, T(INT4), text_length, S},
    {"character_length", 1, {T(BPCHAR)}, T(INT4), bpchar_length, S},
    {"octet_length", 1, {T(TEXT)}, T(INT4), text_octet_length, S},
    {"lower", 1, {T(TEXT)}, T(TEXT), text_lower, S},
    {"upper", 1, {T(TEXT)}, T(TEXT), text_upper, S},
    {"substr", 2, {T(TEXT), T(INT4)}, T(TEXT), text_substr2, S},
    {"substr", 3, {T(TEXT), T(INT4), T(INT4)}, T(TEXT), text_substr3, S},
    {"substring", 2, {T(TEXT), T(INT4)}, T(TEXT), text_substr2, S},
    {"substring", 3, {T(TEXT), T(INT4), T(INT4)}, T(TEXT), text_substr3, S},
    {"substring", 2, {T(TEXT), T(TEXT)}, T(TEXT), sql__re_substring, S},
    {"btrim", 1, {T(TEXT)}, T(TEXT), text_btrim1, S},
    {"btrim", 2, {T(TEXT), T(TEXT)}, T(TEXT), text_btrim2, S},
    {"ltrim", 1, {T(TEXT)}, T(TEXT), text_ltrim1, S},
    {"ltrim", 2, {T(TEXT), T(TEXT)}, T(TEXT), text_ltrim2, S},
    {"rtrim", 1, {T(TEXT)}, T(TEXT), text_rtrim1, S},
    {"rtrim", 2, {T(TEXT), T(TEXT)}, T(TEXT), text_rtrim2, S},
    {"replace", 3, {T(TEXT), T(TEXT), T(TEXT)}, T(TEXT), text_replace, S},
    {"strpos", 2, {T(TEXT), T(TEXT)}, T(INT4), text_strpos, S},
    {"position", 2, {T(TEXT), T(TEXT)}, T(INT4), text_strpos, S},
    {"left", 2, {T(TEXT), T(INT4)}, T(TEXT), text_left, S},
    {"right", 2, {T(TEXT), T(INT4)}, T(TEXT), text_right, S},
    {"repeat", 2, {T(TEXT), T(INT4)}, T(TEXT), text_repeat, S},
    {"lpad", 2, {T(TEXT), T(INT4)}, T(TEXT), text_lpad2, S},
    {"lpad", 3, {T(TEXT), T(INT4), T(TEXT)}, T(TEXT), text_lpad3, S},
    {"rpad", 2, {T(TEXT), T(INT4)}, T(TEXT), text_rpad2, S},
    {"rpad", 3, {T(TEXT), T(INT4), T(TEXT)}, T(TEXT), text_rpad3, S},
    {"split_part", 3, {T(TEXT), T(TEXT), T(INT4)}, T(TEXT), text_split_part, S},
    {"concat", 1, {ANY}, T(TEXT), concat_fn, SQL__FN_VARIADIC | SQL__FN_STABLE},
    {"nullif", 2, {ANY, ANY}, 0, nullif_fn, 0},
    {"greatest", 1, {ANY}, 0, greatest_fn, SQL__FN_VARIADIC},
    {"least", 1, {ANY}, 0, least_fn, SQL__FN_VARIADIC},
    {"now", 0, {0}, T(TIMESTAMPTZ), now_fn, SQL__FN_STABLE},
    {"current_timestamp", 0, {0}, T(TIMESTAMPTZ), now_fn, SQL__FN_STABLE},
    {"current_timestamp", 1, {T(INT4)}, T(TIMESTAMPTZ), now_p, S | SQL__FN_STABLE},
    {"transaction_timestamp", 0, {0}, T(TIMESTAMPTZ), now_fn, SQL__FN_STABLE},
    /* we keep no statement start time: the transaction's stands in */
    {"statement_timestamp", 0, {0}, T(TIMESTAMPTZ), now_fn, SQL__FN_STABLE},
    {"clock_timestamp", 0, {0}, T(TIMESTAMPTZ), clock_fn, V},
    {"localtimestamp", 0, {0}, T(TIMESTAMP), localts_fn, SQL__FN_STABLE},
    {"localtimestamp", 1, {T(INT4)}, T(TIMESTAMP), localts_p, S | SQL__FN_STABLE},
    {"current_date", 0, {0}, T(DATE), current_date_fn, SQL__FN_STABLE},
    {"version", 0, {0}, T(TEXT), version_fn, 0},
    {"current_database", 0, {0}, T(TEXT), database_fn, SQL__FN_STABLE},
    {"current_catalog", 0, {0}, T(TEXT), database_fn, SQL__FN_STABLE},
    {"current_user", 0, {0}, T(TEXT), user_fn, SQL__FN_STABLE},
    {"current_role", 0, {0}, T(TEXT), user_fn, SQL__FN_STABLE},
    {"session_user", 0, {0}, T(TEXT), user_fn, SQL__FN_STABLE},
    {"user", 0, {0}, T(TEXT), user_fn, SQL__FN_STABLE},
    {"current_schema", 0, {0}, T(TEXT), schema_fn, SQL__FN_STABLE},
    {"gen_random_uuid", 0, {0}, T(UUID), uuid_fn, V},
    {"unique_rowid", 0, {0}, T(INT8), unique_rowid_fn, V},
    {"nextval", 1, {T(TEXT)}, T(INT8), nextval_fn, V},
    {"pg_sleep", 1, {T(FLOAT8)}, T(VOID), pg_sleep_fn, V},
};

#undef S
#undef V
#undef T
#undef ANY

/* Names PostgreSQL resolves that we refuse with 0A000 rather than let
 * fall through to "function does not exist". */
static const struct {
    const char *name;
    const char *message;
} unsupported[] = {
    {"stddev", "aggregate function stddev is not supported yet"},
    {"variance", "aggregate function variance is not supported yet"},
    {"current_time", "type time with time zone is not supported yet"},
    {"localtime", "type time without time zone is not supported yet"},
    /* random() draws from the kernel; there is no session generator to seed */
    {"setseed", "setseed() is not supported yet"},
};

/* The aggregates the planner's aggregation operator implements
 * (sql/exec_agg.c). */
static const char *const aggregates[] = {
    "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg", "array_agg",
};

bool sql_expr_is_aggregate(const sql_expr *call)
{
    if (call->kind != SQL_EXPR_FUNC || (call->schema && strcmp(call->schema, "pg_catalog") != 0))
        return false;
    for (size_t i = 0; i < sizeof aggregates / sizeof *aggregates; i++)
        if (strcmp(aggregates[i], call->name) == 0)
            return true;
    return false;
}

static bool any_match(sql_expr *const *v, int n, bool (*pred)(const sql_expr *))
{
    for (int i = 0; v && i < n; i++)
        if (sql_expr_contains(v[i], pred))
            return true;
    return false;
}

bool sql_expr_contains(const sql_expr *e, bool (*pred)(const sql_expr *))
{
    if (e == NULL)
        return false;
    if (pred(e))
        return true;
    int nwhen = e->kind == SQL_EXPR_CASE ? e->nargs : 0;
    return sql_expr_contains(e->left, pred) || sql_expr_contains(e->right, pred) ||
           sql_expr_contains(e->arg, pred) || sql_expr_contains(e->els, pred) ||
           any_match(e->kind == SQL_EXPR_CASE ? NULL : e->args, e->nargs, pred) ||
           any_match(e->whens, nwhen, pred) || any_match(e->thens, nwhen, pred);
}

bool sql_expr_has_aggregate(const sql_expr *e)
{
    return sql_expr_contains(e, sql_expr_is_aggregate);
}

static const sql__fn_set base_set = {op_table, sizeof op_table / sizeof *op_table, fn_table,
                                     sizeof fn_table / sizeof *fn_table};

/* The files contributing rows; a name's rows all come from one of them. */
static const sql__fn_set *const fn_sets[] = {
    &base_set,         &sql__fn_set_str, &sql__fn_set_regex,   &sql__fn_set_math,
    &sql__fn_set_time, &sql__fn_set_fmt, &sql__fn_set_catalog, &sql__fn_set_array,
};

/* The run of rows named `name` in t[0..len): its length into *n. */
static const sql__fn *find_run(const sql__fn *t, size_t len, const char *name, int *n)
{
    size_t i = 0;

    while (i < len && strcmp(t[i].name, name) != 0)
        i++;
    size_t j = i;
    while (j < len && strcmp(t[j].name, name) == 0)
        j++;
    for (size_t k = j; k < len; k++) /* the rows of one name are adjacent */
        assert(strcmp(t[k].name, name) != 0);
    *n = (int)(j - i);
    return j > i ? &t[i] : NULL;
}

const sql__fn *sql__fn_find(const char *name, bool is_op, int *n)
{
    for (size_t i = 0; i < sizeof fn_sets / sizeof *fn_sets; i++) {
        const sql__fn_set *s = fn_sets[i];
        const sql__fn *rows =
            is_op ? find_run(s->ops, s->nops, name, n) : find_run(s->fns, s->nfns, name, n);
        if (rows)
            return rows;
    }
    *n = 0;
    return NULL;
}

void sql__fn_prepare(kv_arena *arena, sql_bexpr *b)
{
    sql__regex_prepare(arena, b);
    sql__time_prepare(arena, b);
}

const char *sql__fn_unsupported(const char *name)
{
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++)
        if (strcmp(unsupported[i].name, name) == 0)
            return unsupported[i].message;
    return NULL;
}
