/*
 * expr_func_math.c - mathematical functions beyond the arithmetic of
 * expr_func.c: exp, ln, log, log10, pi, div, cbrt, degrees, radians, gcd,
 * lcm, factorial, scale, width_bucket, num_nulls, num_nonnulls.
 *
 * float8 versions call libm and check results like PostgreSQL's float.c.
 * numeric versions are exact or correctly rounded at PostgreSQL 15's
 * result scale (numeric.c's rscale rules: 16 significant digits, at least
 * the input's scale, at most 1000 digits after the point): exp and ln run
 * in GMP fixed point with enough guard digits that the digit kept is
 * exact, then round half away from zero. Every datum produced lives in
 * ctx->arena.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "sql/expr_int.h"

/* numeric.c's NUMERIC_MIN_SIG_DIGITS, NUMERIC_MAX_DISPLAY_SCALE. */
#define MIN_SIG_DIGITS    16
#define MAX_DISPLAY_SCALE 1000
/* Guard digits carried past the kept ones in fixed-point series. */
#define GUARD_DIGITS 24

static int log_domain(sql_eval_ctx *ctx, bool zero)
{
    return sql__fn_fail(ctx, SQL_STATE_INVALID_ARGUMENT_FOR_LOG,
                        zero ? "cannot take logarithm of zero"
                             : "cannot take logarithm of a negative number");
}

static int num_overflow(sql_eval_ctx *ctx)
{
    return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "value overflows numeric format");
}

static int32_t clamp_scale(int64_t s)
{
    return (int32_t)(s < 0 ? 0 : s > MAX_DISPLAY_SCALE ? MAX_DISPLAY_SCALE : s);
}

/* ---- float8 ------------------------------------------------------------ */

static int float_exp(FN_ARGS)
{
    double x = args[0].v.f;

    out->isnull = false;
    out->v.f = isinf(x) ? (x > 0 ? x : 0.0) : exp(x);
    if (isnan(x) || isinf(x))
        return 0;
    return sql__float_result(ctx, SQL_T_FLOAT8, out->v.f, false, false, out);
}

/* ln and log10 (dlog1, dlog10): zero and negatives are 2201E. */
static int float_log_impl(sql_eval_ctx *ctx, double x, double (*f)(double), sql_datum *out)
{
    if (x == 0.0 || x < 0.0)
        return log_domain(ctx, x == 0.0);
    return sql__float_result(ctx, SQL_T_FLOAT8, f(x), isinf(x), x == 1.0, out);
}

static int float_ln(FN_ARGS)
{
    return float_log_impl(ctx, args[0].v.f, log, out);
}

static int float_log10(FN_ARGS)
{
    return float_log_impl(ctx, args[0].v.f, log10, out);
}

static int float_cbrt(FN_ARGS)
{
    return sql__float_result(ctx, SQL_T_FLOAT8, cbrt(args[0].v.f), isinf(args[0].v.f),
                             args[0].v.f == 0.0, out);
}

static int float_degrees(FN_ARGS)
{
    double x = args[0].v.f;
    return sql__float_result(ctx, SQL_T_FLOAT8, x * (180.0 / M_PI), isinf(x), x == 0.0, out);
}

static int float_radians(FN_ARGS)
{
    double x = args[0].v.f;
    return sql__float_result(ctx, SQL_T_FLOAT8, x * (M_PI / 180.0), isinf(x), x == 0.0, out);
}

static int pi_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.f = M_PI;
    return 0;
}

/* ---- numeric fixed point -------------------------------------------- */

/* z := n * 10^w (truncated); n finite. */
static void to_fixed(mpz_t z, const sql_numeric *n, int64_t w)
{
    mpz_t v, p;

    sql__num_mpz(v, n);
    mpz_init(p);
    if (w >= n->dscale) {
        mpz_ui_pow_ui(p, 10, (unsigned long)(w - n->dscale));
        mpz_mul(z, v, p);
    } else {
        mpz_ui_pow_ui(p, 10, (unsigned long)(n->dscale - w));
        mpz_tdiv_q(z, v, p);
    }
    mpz_clear(p);
}

/* A numeric of fixed-point z (scale w) rounded half away to `scale`. */
static int from_fixed(sql_eval_ctx *ctx, mpz_t z, int64_t w, int32_t scale, sql_numeric *out)
{
    mpz_t p, r;
    int rc;

    assert(w >= scale);
    mpz_inits(p, r, NULL);
    mpz_ui_pow_ui(p, 10, (unsigned long)(w - scale));
    mpz_tdiv_qr(z, r, z, p);
    mpz_mul_2exp(r, r, 1);
    if (mpz_cmpabs(r, p) >= 0)
        mpz_sgn(r) > 0 ? mpz_add_ui(z, z, 1) : mpz_sub_ui(z, z, 1);
    rc = sql__num_from_mpz(ctx, z, scale, out);
    mpz_clears(p, r, NULL);
    return rc;
}

/* e^x for fixed-point x at scale w (result at scale w): halve x until
 * below 0.01, sum the Taylor series, square back. */
static void exp_fixed(mpz_t r, const mpz_t x, int64_t w)
{
    mpz_t one, y, term;
    unsigned long k = 0;

    mpz_inits(one, y, term, NULL);
    mpz_ui_pow_ui(one, 10, (unsigned long)w);
    mpz_abs(y, x);
    mpz_tdiv_q_ui(term, one, 100);
    for (; mpz_cmp(y, term) > 0; k++)
        mpz_tdiv_q_2exp(y, y, 1);
    if (mpz_sgn(x) < 0)
        mpz_neg(y, y);
    mpz_set(r, one);
    mpz_set(term, one);
    for (unsigned long n = 1; mpz_sgn(term) != 0; n++) {
        mpz_mul(term, term, y);
        mpz_tdiv_q(term, term, one);
        mpz_tdiv_q_ui(term, term, n);
        mpz_add(r, r, term);
    }
    for (; k > 0; k--) {
        mpz_mul(r, r, r);
        mpz_tdiv_q(r, r, one);
    }
    mpz_clears(one, y, term, NULL);
}

/* ln(x) for fixed-point x > 0 at scale w: square roots until x is
 * within 0.01 of 1, then 2 atanh((x-1)/(x+1)) times 2^k. */
static void ln_fixed(mpz_t r, const mpz_t x, int64_t w)
{
    mpz_t one, y, lo, hi, z, z2, p, t;
    unsigned long k = 0;

    mpz_inits(one, y, lo, hi, z, z2, p, t, NULL);
    mpz_ui_pow_ui(one, 10, (unsigned long)w);
    mpz_tdiv_q_ui(t, one, 100);
    mpz_sub(lo, one, t);
    mpz_add(hi, one, t);
    for (mpz_set(y, x); mpz_cmp(y, lo) < 0 || mpz_cmp(y, hi) > 0; k++) {
        mpz_mul(y, y, one);
        mpz_sqrt(y, y);
    }
    mpz_sub(z, y, one);
    mpz_mul(z, z, one);
    mpz_add(t, y, one);
    mpz_tdiv_q(z, z, t);
    mpz_mul(z2, z, z);
    mpz_tdiv_q(z2, z2, one);
    mpz_set(r, z);
    mpz_set(p, z);
    for (unsigned long n = 3; mpz_sgn(p) != 0; n += 2) {
        mpz_mul(p, p, z2);
        mpz_tdiv_q(p, p, one);
        mpz_tdiv_q_ui(t, p, n);
        mpz_add(r, r, t);
    }
    mpz_mul_2exp(r, r, k + 1);
    mpz_clears(one, y, lo, hi, z, z2, p, t, NULL);
}

/* The decimal exponent of the leading digit of v * 10^-dscale (v != 0). */
static int64_t dweight_of(const mpz_t v, int32_t dscale)
{
    int64_t digits = (int64_t)mpz_sizeinbase(v, 10);
    mpz_t p;

    mpz_init(p);
    mpz_ui_pow_ui(p, 10, (unsigned long)(digits - 1));
    if (mpz_cmpabs(v, p) < 0) /* sizeinbase may be one too large */
        digits--;
    mpz_clear(p);
    return digits - 1 - dscale;
}

static int64_t dweight(const sql_numeric *n)
{
    mpz_t v;

    sql__num_mpz(v, n);
    return dweight_of(v, n->dscale);
}

/* numeric.c's estimate_ln_dweight: the decimal weight of ln(n) for
 * n > 0; for n in [0.9, 1.1] exactly that of n - 1. */
static int64_t ln_dweight(const sql_numeric *n)
{
    mpz_t v, one, t, lo, hi;
    long exp2;
    int64_t dw = 0;

    sql__num_mpz(v, n);
    mpz_inits(one, t, lo, hi, NULL);
    mpz_ui_pow_ui(one, 10, (unsigned long)n->dscale);
    mpz_mul_ui(t, v, 10); /* 9 <= 10 n <= 11, in units of 10^-dscale */
    mpz_mul_ui(lo, one, 9);
    mpz_mul_ui(hi, one, 11);
    if (mpz_cmp(t, lo) >= 0 && mpz_cmp(t, hi) <= 0) {
        mpz_sub(t, v, one);
        if (mpz_sgn(t) != 0)
            dw = dweight_of(t, n->dscale);
    } else {
        double d = mpz_get_d_2exp(&exp2, v);
        double lnv = log(d) + (double)exp2 * M_LN2 - (double)n->dscale * M_LN10;
        dw = (int64_t)log10(fabs(lnv));
    }
    mpz_clears(one, t, lo, hi, NULL);
    return dw;
}

/* Checks n > 0 for a logarithm; 1 when n is NaN (result NaN). */
static int log_arg(sql_eval_ctx *ctx, const sql_numeric *n)
{
    if (n->kind == SQL_NUM_NAN)
        return 1;
    if (n->kind == SQL_NUM_NINF || (n->kind == SQL_NUM_FINITE && n->size <= 0))
        return log_domain(ctx, n->kind == SQL_NUM_FINITE && n->size == 0);
    return 0;
}

static int num_ln(FN_ARGS)
{
    const sql_numeric *n = &args[0].v.num;
    int rc = log_arg(ctx, n);
    mpz_t x, r;

    out->isnull = false;
    if (rc != 0 || n->kind == SQL_NUM_PINF) {
        out->v.num = *n;
        return rc < 0 ? -1 : 0;
    }
    int32_t scale = clamp_scale(MIN_SIG_DIGITS - ln_dweight(n));
    scale = scale > n->dscale ? scale : clamp_scale(n->dscale);
    int64_t dw = dweight(n), w = scale + GUARD_DIGITS + (dw < 0 ? -dw : dw);
    mpz_inits(x, r, NULL);
    to_fixed(x, n, w);
    ln_fixed(r, x, w);
    rc = from_fixed(ctx, r, w, scale, &out->v.num);
    mpz_clears(x, r, NULL);
    return rc;
}

/* log_b(x) = ln x / ln b at numeric_log's scale. */
static int num_log_impl(sql_eval_ctx *ctx, const sql_numeric *b, const sql_numeric *n,
                        sql_datum *out)
{
    int rb = log_arg(ctx, b), rn = rb < 0 ? 0 : log_arg(ctx, n);
    mpz_t xb, xn, lb, ln;
    int rc;

    out->isnull = false;
    if (rb < 0 || rn < 0)
        return -1;
    if (rb || rn || b->kind != SQL_NUM_FINITE || n->kind != SQL_NUM_FINITE) {
        /* NaN, or an infinite argument: PostgreSQL gives NaN or infinity */
        out->v.num =
            (rb || rn || b->kind == SQL_NUM_PINF) ? (sql_numeric){.kind = SQL_NUM_NAN} : *n;
        return 0;
    }
    int64_t rscale = MIN_SIG_DIGITS - (ln_dweight(n) - ln_dweight(b));
    rscale = rscale > b->dscale ? rscale : b->dscale;
    int32_t scale = clamp_scale(rscale > n->dscale ? rscale : n->dscale);
    int64_t dwb = dweight(b), dwn = dweight(n);
    int64_t w = scale + 2 * GUARD_DIGITS + (dwb < 0 ? -dwb : dwb) + (dwn < 0 ? -dwn : dwn);
    mpz_inits(xb, xn, lb, ln, NULL);
    to_fixed(xb, b, w);
    to_fixed(xn, n, w);
    ln_fixed(lb, xb, w);
    ln_fixed(ln, xn, w);
    if (mpz_sgn(lb) == 0) {
        rc = sql__fn_fail(ctx, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
    } else {
        mpz_ui_pow_ui(xb, 10, (unsigned long)w);
        mpz_mul(ln, ln, xb);
        mpz_tdiv_q(ln, ln, lb);
        rc = from_fixed(ctx, ln, w, scale, &out->v.num);
    }
    mpz_clears(xb, xn, lb, ln, NULL);
    return rc;
}

static int num_log2(FN_ARGS)
{
    return num_log_impl(ctx, &args[0].v.num, &args[1].v.num, out);
}

static int num_log10(FN_ARGS)
{
    static const mp_limb_t ten_limb = 10;
    static const sql_numeric ten = {.kind = SQL_NUM_FINITE, .size = 1, .limbs = &ten_limb};
    return num_log_impl(ctx, &ten, &args[0].v.num, out);
}

static int num_exp(FN_ARGS)
{
    const sql_numeric *n = &args[0].v.num;
    mpz_t x, r;
    int rc;

    out->isnull = false;
    if (n->kind != SQL_NUM_FINITE) {
        out->v.num = n->kind == SQL_NUM_NINF ? (sql_numeric){.kind = SQL_NUM_FINITE} : *n;
        return 0;
    }
    mpz_init(x);
    to_fixed(x, n, 17);
    double val = mpz_get_d(x) / 1e17;
    mpz_clear(x);
    if (fabs(val) > 6000.0) { /* numeric.c: NUMERIC_MAX_RESULT_SCALE * 3 */
        if (val > 0)
            return num_overflow(ctx);
        out->v.num = (sql_numeric){.kind = SQL_NUM_FINITE, .dscale = MAX_DISPLAY_SCALE};
        return 0;
    }
    int32_t scale = clamp_scale(MIN_SIG_DIGITS - (int64_t)(val * 0.434294481903252));
    scale = scale > n->dscale ? scale : clamp_scale(n->dscale);
    int64_t w = scale + GUARD_DIGITS + (int64_t)(fabs(val) * 0.4343) + 20;
    mpz_inits(x, r, NULL);
    to_fixed(x, n, w);
    exp_fixed(r, x, w);
    rc = from_fixed(ctx, r, w, scale, &out->v.num);
    mpz_clears(x, r, NULL);
    return rc;
}

/* ---- integer-valued numeric functions ---------------------------------- */

/* div(a, b): the truncated integer quotient. */
static int num_div_trunc(FN_ARGS)
{
    const sql_numeric *a = &args[0].v.num, *b = &args[1].v.num;
    mpz_t x, y, q;
    int rc;

    out->isnull = false;
    if (b->kind == SQL_NUM_FINITE && b->size == 0)
        return sql__fn_fail(ctx, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
    if (a->kind == SQL_NUM_NAN || b->kind == SQL_NUM_NAN ||
        (a->kind != SQL_NUM_FINITE && b->kind != SQL_NUM_FINITE)) {
        out->v.num = (sql_numeric){.kind = SQL_NUM_NAN};
        return 0;
    }
    if (b->kind != SQL_NUM_FINITE)
        return sql__int_to_num(ctx, 0, &out->v.num);
    if (a->kind != SQL_NUM_FINITE) {
        bool neg = (a->kind == SQL_NUM_NINF) != (b->size < 0);
        out->v.num = (sql_numeric){.kind = neg ? SQL_NUM_NINF : SQL_NUM_PINF};
        return 0;
    }
    int64_t s = a->dscale > b->dscale ? a->dscale : b->dscale;
    mpz_inits(x, y, q, NULL);
    to_fixed(x, a, s);
    to_fixed(y, b, s);
    mpz_tdiv_q(q, x, y);
    rc = sql__num_from_mpz(ctx, q, 0, &out->v.num);
    mpz_clears(x, y, q, NULL);
    return rc;
}

static int num_scale(FN_ARGS)
{
    out->isnull = args[0].v.num.kind != SQL_NUM_FINITE;
    out->v.i = args[0].v.num.dscale;
    return 0;
}

static int num_factorial(FN_ARGS)
{
    int64_t n = args[0].v.i;
    mpz_t r;
    int rc;

    if (n < 0)
        return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            "factorial of a negative number is undefined");
    if (n > 32177) /* n! has more digits than numeric's 131072 */
        return num_overflow(ctx);
    mpz_init(r);
    mpz_fac_ui(r, (unsigned long)n);
    out->isnull = false;
    rc = sql__num_from_mpz(ctx, r, 0, &out->v.num);
    mpz_clear(r);
    return rc;
}

/* gcd/lcm over integers: the result must fit the type (gcd(INT_MIN, 0)
 * does not). */
static int int_gcd_lcm(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args, bool lcm,
                       sql_datum *out)
{
    mpz_t a, b, r;
    bool fits;

    mpz_inits(a, b, r, NULL);
    mpz_set_si(a, args[0].v.i);
    mpz_set_si(b, args[1].v.i);
    lcm ? mpz_lcm(r, a, b) : mpz_gcd(r, a, b);
    fits = e->type.oid == SQL_T_INT4 ? mpz_cmp_si(r, INT32_MAX) <= 0 : mpz_fits_slong_p(r);
    out->isnull = false;
    out->v.i = fits ? mpz_get_si(r) : 0;
    mpz_clears(a, b, r, NULL);
    if (!fits)
        return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                            e->type.oid == SQL_T_INT4 ? "integer out of range"
                                                      : "bigint out of range");
    return 0;
}

static int int_gcd(FN_ARGS)
{
    return int_gcd_lcm(ctx, e, args, false, out);
}

static int int_lcm(FN_ARGS)
{
    return int_gcd_lcm(ctx, e, args, true, out);
}

/* numeric gcd/lcm at the larger scale; special values give NaN. */
static int num_gcd_lcm(sql_eval_ctx *ctx, const sql_datum *args, bool lcm, sql_datum *out)
{
    const sql_numeric *a = &args[0].v.num, *b = &args[1].v.num;
    mpz_t x, y, r;
    int rc;

    out->isnull = false;
    if (a->kind != SQL_NUM_FINITE || b->kind != SQL_NUM_FINITE) {
        out->v.num = (sql_numeric){.kind = SQL_NUM_NAN};
        return 0;
    }
    int64_t s = a->dscale > b->dscale ? a->dscale : b->dscale;
    mpz_inits(x, y, r, NULL);
    to_fixed(x, a, s);
    to_fixed(y, b, s);
    lcm ? mpz_lcm(r, x, y) : mpz_gcd(r, x, y);
    rc = sql__num_from_mpz(ctx, r, (int32_t)s, &out->v.num);
    mpz_clears(x, y, r, NULL);
    return rc;
}

static int num_gcd(FN_ARGS)
{
    return num_gcd_lcm(ctx, args, false, out);
}

static int num_lcm(FN_ARGS)
{
    return num_gcd_lcm(ctx, args, true, out);
}

/* ---- width_bucket ---------------------------------------------------- */

static int bucket_error(sql_eval_ctx *ctx, const char *msg)
{
    return sql__fn_fail(ctx, SQL_STATE_INVALID_ARGUMENT_FOR_WIDTH_BUCKET, msg);
}

/* The bucket of op below (-1), above (1) or inside the range, where
 * it lies `dist` from the lower bound of a range `width` wide. */
static int bucket_result(sql_eval_ctx *ctx, int64_t count, int below_above, double dist,
                         double width, sql_datum *out)
{
    out->isnull = false;
    if (below_above < 0)
        out->v.i = 0;
    else if (below_above > 0)
        out->v.i = count + 1;
    else
        out->v.i = (int64_t)((double)count * dist / width) + 1;
    if (out->v.i > INT32_MAX)
        return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE, "integer out of range");
    return 0;
}

static int float_width_bucket(FN_ARGS)
{
    double op = args[0].v.f, b1 = args[1].v.f, b2 = args[2].v.f;
    int64_t count = args[3].v.i;

    if (count <= 0)
        return bucket_error(ctx, "count must be greater than zero");
    if (isnan(op) || isnan(b1) || isnan(b2))
        return bucket_error(ctx, "operand, lower bound, and upper bound cannot be NaN");
    if (isinf(b1) || isinf(b2))
        return bucket_error(ctx, "lower and upper bounds must be finite");
    if (b1 == b2)
        return bucket_error(ctx, "lower bound cannot equal upper bound");
    if (b1 < b2)
        return bucket_result(ctx, count, op < b1 ? -1 : op >= b2 ? 1 : 0, op - b1, b2 - b1, out);
    return bucket_result(ctx, count, op > b1 ? -1 : op <= b2 ? 1 : 0, b1 - op, b1 - b2, out);
}

/* The numeric version computes floor(count * (op - lo) / (hi - lo)) + 1
 * exactly. */
static int num_width_bucket(FN_ARGS)
{
    const sql_numeric *o = &args[0].v.num, *b1 = &args[1].v.num, *b2 = &args[2].v.num;
    int64_t count = args[3].v.i;
    mpz_t x, lo, hi, q;

    if (count <= 0)
        return bucket_error(ctx, "count must be greater than zero");
    if (o->kind == SQL_NUM_NAN || b1->kind == SQL_NUM_NAN || b2->kind == SQL_NUM_NAN)
        return bucket_error(ctx, "operand, lower bound, and upper bound cannot be NaN");
    if (b1->kind != SQL_NUM_FINITE || b2->kind != SQL_NUM_FINITE)
        return bucket_error(ctx, "lower and upper bounds must be finite");
    int64_t s = o->dscale > b1->dscale ? o->dscale : b1->dscale;
    s = s > b2->dscale ? s : b2->dscale;
    mpz_inits(x, lo, hi, q, NULL);
    to_fixed(lo, b1, s);
    to_fixed(hi, b2, s);
    int c = mpz_cmp(lo, hi), pos;
    if (o->kind != SQL_NUM_FINITE) {
        pos = (o->kind == SQL_NUM_PINF) == (c < 0) ? 1 : -1;
    } else {
        to_fixed(x, o, s);
        if (c > 0) { /* a descending range mirrors an ascending one */
            mpz_neg(x, x);
            mpz_neg(lo, lo);
            mpz_neg(hi, hi);
        }
        pos = mpz_cmp(x, lo) < 0 ? -1 : mpz_cmp(x, hi) >= 0 ? 1 : 0;
        mpz_sub(x, x, lo);
        mpz_mul_si(x, x, count);
        mpz_sub(hi, hi, lo);
        if (c != 0)
            mpz_fdiv_q(q, x, hi);
    }
    int64_t bucket = mpz_get_si(q) + 1;
    mpz_clears(x, lo, hi, q, NULL);
    if (c == 0)
        return bucket_error(ctx, "lower bound cannot equal upper bound");
    out->isnull = false;
    out->v.i = pos < 0 ? 0 : pos > 0 ? count + 1 : bucket;
    if (out->v.i > INT32_MAX)
        return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE, "integer out of range");
    return 0;
}

/* ---- num_nulls / num_nonnulls ------------------------------------------ */

static int count_nulls(const sql_bexpr *e, const sql_datum *args)
{
    int n = 0;
    for (int i = 0; i < e->nargs; i++)
        n += args[i].isnull;
    return n;
}

static int num_nulls_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.i = count_nulls(e, args);
    return 0;
}

static int num_nonnulls_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.i = e->nargs - count_nulls(e, args);
    return 0;
}

#define S    SQL__FN_STRICT
#define T(x) SQL_T_##x
#define ANY  SQL__T_ANY

static const sql__fn math_fns[] = {
    {"exp", 1, {T(FLOAT8)}, T(FLOAT8), float_exp, S},
    {"exp", 1, {T(NUMERIC)}, T(NUMERIC), num_exp, S},
    {"ln", 1, {T(FLOAT8)}, T(FLOAT8), float_ln, S},
    {"ln", 1, {T(NUMERIC)}, T(NUMERIC), num_ln, S},
    {"log", 1, {T(FLOAT8)}, T(FLOAT8), float_log10, S},
    {"log", 1, {T(NUMERIC)}, T(NUMERIC), num_log10, S},
    {"log", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_log2, S},
    {"log10", 1, {T(FLOAT8)}, T(FLOAT8), float_log10, S},
    {"log10", 1, {T(NUMERIC)}, T(NUMERIC), num_log10, S},
    {"cbrt", 1, {T(FLOAT8)}, T(FLOAT8), float_cbrt, S},
    {"degrees", 1, {T(FLOAT8)}, T(FLOAT8), float_degrees, S},
    {"radians", 1, {T(FLOAT8)}, T(FLOAT8), float_radians, S},
    {"pi", 0, {0}, T(FLOAT8), pi_fn, 0},
    {"div", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_div_trunc, S},
    {"scale", 1, {T(NUMERIC)}, T(INT4), num_scale, S},
    {"factorial", 1, {T(INT8)}, T(NUMERIC), num_factorial, S},
    {"gcd", 2, {T(INT4), T(INT4)}, T(INT4), int_gcd, S},
    {"gcd", 2, {T(INT8), T(INT8)}, T(INT8), int_gcd, S},
    {"gcd", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_gcd, S},
    {"lcm", 2, {T(INT4), T(INT4)}, T(INT4), int_lcm, S},
    {"lcm", 2, {T(INT8), T(INT8)}, T(INT8), int_lcm, S},
    {"lcm", 2, {T(NUMERIC), T(NUMERIC)}, T(NUMERIC), num_lcm, S},
    {"width_bucket", 4, {T(FLOAT8), T(FLOAT8), T(FLOAT8), T(INT4)}, T(INT4), float_width_bucket, S},
    {"width_bucket",
     4,
     {T(NUMERIC), T(NUMERIC), T(NUMERIC), T(INT4)},
     T(INT4),
     num_width_bucket,
     S},
    {"num_nulls", 1, {ANY}, T(INT4), num_nulls_fn, SQL__FN_VARIADIC},
    {"num_nonnulls", 1, {ANY}, T(INT4), num_nonnulls_fn, SQL__FN_VARIADIC},
};

#undef S
#undef T
#undef ANY

const sql__fn_set sql__fn_set_math = {NULL, 0, math_fns, sizeof math_fns / sizeof *math_fns};
