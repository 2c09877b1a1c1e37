/*
 * numeric.c - arbitrary-precision numeric on GMP with PostgreSQL 15's
 * semantics: text input/output keeping the display scale, numeric(p,s)
 * rounding half away from zero, NaN and +-Infinity, comparison, and the
 * four operators with PostgreSQL's result scales.
 *
 * The unscaled integer lives as mpz limbs in an arena; temporaries are
 * ordinary mpz_t values cleared before every return.
 */
#include <assert.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sql/types_int.h"

/* PostgreSQL's division result scale constants (numeric.c). */
#define NUMERIC_MIN_SIG_DIGITS    16
#define NUMERIC_MAX_DISPLAY_SCALE 1000
/* Exponents beyond this overflow whatever the digits are. */
#define NUMERIC_MAX_EXPONENT_INPUT 1000000000

/* Frees a string mpz_get_str allocated; GMP's free function takes the
 * allocation size, which is the untrimmed string's length + 1. */
static void gmp_free_str(char *s)
{
    void (*freefn)(void *, size_t);
    mp_get_memory_functions(NULL, NULL, &freefn);
    freefn(s, strlen(s) + 1);
}

/* A read-only mpz view of n's unscaled integer; no allocation, valid while
 * n's limbs are. Only for SQL_NUM_FINITE. */
static void numeric_view(const sql_numeric *n, mpz_t view)
{
    assert(n->kind == SQL_NUM_FINITE);
    static const mp_limb_t zero_limb = 0;
    mpz_roinit_n(view, n->size != 0 ? n->limbs : &zero_limb, n->size);
}

int sql__numeric_from_mpz(const mpz_t z, int32_t dscale, kv_arena *arena, sql_numeric *out,
                          sql_error *err)
{
    size_t nlimbs = mpz_size(z);
    mp_limb_t *limbs = kv_arena_alloc(arena, nlimbs * sizeof(mp_limb_t));
    if (limbs == NULL)
        return sql__oom(arena, err);
    if (nlimbs > 0)
        memcpy(limbs, mpz_limbs_read(z), nlimbs * sizeof(mp_limb_t));
    *out = (sql_numeric){.kind = SQL_NUM_FINITE,
                         .dscale = dscale,
                         .size = mpz_sgn(z) < 0 ? -(int32_t)nlimbs : (int32_t)nlimbs,
                         .limbs = limbs};
    return 0;
}

static int overflow(kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                         "value overflows numeric format");
}

/* Rejects results PostgreSQL's storage format cannot hold: more than
 * 16383 digits after the point or 131072 before it. */
static int check_limits(const mpz_t z, int32_t dscale, kv_arena *arena, sql_error *err)
{
    if (dscale > SQL__NUMERIC_MAX_DSCALE)
        return overflow(arena, err);
    /* sizeinbase may exceed the digit count by one: decide exactly then */
    if (mpz_sgn(z) == 0 || (int64_t)mpz_sizeinbase(z, 10) - dscale <= SQL__NUMERIC_MAX_INT_DIGITS)
        return 0;
    mpz_t limit;
    mpz_init(limit);
    mpz_ui_pow_ui(limit, 10, (unsigned long)SQL__NUMERIC_MAX_INT_DIGITS + (unsigned long)dscale);
    bool over = mpz_cmpabs(z, limit) >= 0;
    mpz_clear(limit);
    return over ? overflow(arena, err) : 0;
}

/* Ends a parse: applies the sign, checks the limits and builds *out from
 * the digits in z, which it clears either way. */
static int finish_parsed(mpz_t z, bool neg, int32_t dscale, kv_arena *arena, sql_numeric *out,
                         sql_error *err)
{
    if (neg)
        mpz_neg(z, z);
    int rc = check_limits(z, dscale, arena, err);
    if (rc == 0)
        rc = sql__numeric_from_mpz(z, dscale, arena, out, err);
    mpz_clear(z);
    return rc;
}

/* ---- text input ------------------------------------------------------ */

static int bad_input(const char *s, size_t len, kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                         "invalid input syntax for type numeric: \"%.*s\"", (int)len, s);
}

/* NaN, Infinity and inf (any case, Infinity signed) after trimming. */
static bool parse_special(const char *p, size_t n, sql_numeric *out)
{
    if (n == 3 && strncasecmp(p, "nan", 3) == 0) {
        *out = (sql_numeric){.kind = SQL_NUM_NAN};
        return true;
    }
    bool neg = n > 0 && p[0] == '-';
    if (n > 0 && (p[0] == '-' || p[0] == '+'))
        p++, n--;
    if ((n == 8 && strncasecmp(p, "infinity", 8) == 0) ||
        (n == 3 && strncasecmp(p, "inf", 3) == 0)) {
        *out = (sql_numeric){.kind = neg ? SQL_NUM_NINF : SQL_NUM_PINF};
        return true;
    }
    return false;
}

typedef enum scan_rc { SCAN_OK, SCAN_BAD, SCAN_OVERFLOW } scan_rc;

/* Digits of [p, end) with an optional point and exponent, copied without
 * the point into `digits`; *frac = digits after the point. */
static scan_rc scan_number(const char *p, const char *end, char *digits, size_t *nd, int64_t *frac,
                           int64_t *exp)
{
    bool point = false, any = false;
    *nd = 0, *frac = 0, *exp = 0;
    for (; p < end && (isdigit((unsigned char)*p) || (*p == '.' && !point)); p++) {
        if (*p == '.') {
            point = true;
            continue;
        }
        any = true;
        digits[(*nd)++] = *p;
        *frac += point;
    }
    if (!any)
        return SCAN_BAD;
    digits[*nd] = '\0';
    if (p == end || (*p != 'e' && *p != 'E'))
        return p == end ? SCAN_OK : SCAN_BAD;
    p++;
    bool eneg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    if (p == end || !isdigit((unsigned char)*p))
        return SCAN_BAD;
    bool huge = false;
    for (; p < end && isdigit((unsigned char)*p); p++) {
        *exp = *exp * 10 + (*p - '0');
        huge |= *exp > NUMERIC_MAX_EXPONENT_INPUT;
        *exp = huge ? NUMERIC_MAX_EXPONENT_INPUT : *exp;
    }
    *exp = eneg ? -*exp : *exp;
    return p != end ? SCAN_BAD : huge ? SCAN_OVERFLOW : SCAN_OK;
}

/* Whether digits * 10^(exp - frac) has too many digits before the point to
 * be worth computing (zero never does). */
static bool input_too_large(const char *digits, int64_t frac, int64_t exp)
{
    size_t lead = strspn(digits, "0"), nd = strlen(digits);
    return lead < nd && (int64_t)(nd - lead) - frac + exp > SQL__NUMERIC_MAX_INT_DIGITS + 1;
}

int sql__numeric_parse(const char *s, size_t len, kv_arena *arena, sql_numeric *out, sql_error *err)
{
    const char *p = s, *end = s + len;
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (parse_special(p, (size_t)(end - p), out))
        return 0;
    bool neg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    char *digits = kv_arena_alloc(arena, (size_t)(end - p) + 1);
    if (digits == NULL)
        return sql__oom(arena, err);
    size_t nd;
    int64_t frac, exp;
    scan_rc src = scan_number(p, end, digits, &nd, &frac, &exp);
    if (src == SCAN_BAD)
        return bad_input(s, len, arena, err);
    if (src == SCAN_OVERFLOW || input_too_large(digits, frac, exp) ||
        frac - exp > SQL__NUMERIC_MAX_DSCALE)
        return overflow(arena, err);
    int64_t dscale = frac - exp;
    mpz_t z;
    mpz_init_set_str(z, digits, 10);
    if (dscale < 0 && mpz_sgn(z) != 0) {
        mpz_t pow;
        mpz_init(pow);
        mpz_ui_pow_ui(pow, 10, (unsigned long)-dscale);
        mpz_mul(z, z, pow);
        mpz_clear(pow);
    }
    dscale = dscale < 0 ? 0 : dscale;
    return finish_parsed(z, neg, (int32_t)dscale, arena, out, err);
}

/* ---- text output ----------------------------------------------------- */

int sql__numeric_format(const sql_numeric *n, kv_arena *arena, const char **out, size_t *len,
                        sql_error *err)
{
    static const char *const special[] = {
        [SQL_NUM_NAN] = "NaN", [SQL_NUM_PINF] = "Infinity", [SQL_NUM_NINF] = "-Infinity"};
    if (n->kind != SQL_NUM_FINITE) {
        *out = special[n->kind];
        *len = strlen(*out);
        return 0;
    }
    mpz_t z;
    numeric_view(n, z);
    size_t nd = mpz_sizeinbase(z, 10) + 1; /* may overestimate by one */
    size_t cap = nd + (size_t)n->dscale + 4;
    char *digits = kv_arena_alloc(arena, nd + 1);
    char *buf = kv_arena_alloc(arena, cap);
    if (digits == NULL || buf == NULL)
        return sql__oom(arena, err);
    mpz_t a;
    mpz_roinit_n(a, mpz_limbs_read(z), (mp_size_t)mpz_size(z)); /* |z| */
    mpz_get_str(digits, 10, a);
    nd = strlen(digits);
    size_t scale = (size_t)n->dscale;
    char *w = buf;
    if (mpz_sgn(z) < 0)
        *w++ = '-';
    if (nd <= scale) {
        *w++ = '0';
    } else {
        memcpy(w, digits, nd - scale);
        w += nd - scale;
    }
    if (scale > 0) {
        *w++ = '.';
        size_t lead = nd < scale ? scale - nd : 0;
        memset(w, '0', lead);
        w += lead;
        size_t tail = nd < scale ? nd : scale;
        memcpy(w, digits + nd - tail, tail);
        w += tail;
    }
    *w = '\0';
    *out = buf;
    *len = (size_t)(w - buf);
    return 0;
}

/* ---- rounding and typmod --------------------------------------------- */

/* q = n / d rounded half away from zero (d != 0). */
static void div_round(mpz_t q, const mpz_t n, const mpz_t d)
{
    mpz_t r;
    mpz_init(r);
    mpz_tdiv_qr(q, r, n, d);
    mpz_mul_2exp(r, r, 1);
    if (mpz_cmpabs(r, d) >= 0) {
        if (mpz_sgn(n) * mpz_sgn(d) < 0)
            mpz_sub_ui(q, q, 1);
        else
            mpz_add_ui(q, q, 1);
    }
    mpz_clear(r);
}

/* z * 10^k for k >= 0, z / 10^-k rounded for k < 0. */
static void rescale(mpz_t out, const mpz_t z, int64_t k)
{
    mpz_t pow;
    mpz_init(pow);
    mpz_ui_pow_ui(pow, 10, (unsigned long)(k < 0 ? -k : k));
    if (k >= 0)
        mpz_mul(out, z, pow);
    else
        div_round(out, z, pow);
    mpz_clear(pow);
}

static int field_overflow(int32_t precision, int32_t scale, bool inf, kv_arena *arena,
                          sql_error *err)
{
    sql_error_set(err, arena, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE, "numeric field overflow");
    int32_t maxdigits = precision - scale;
    if (inf)
        sql_error_detail(err, arena,
                         "A field with precision %d, scale %d cannot hold an infinite value.",
                         precision, scale);
    else
        sql_error_detail(err, arena,
                         "A field with precision %d, scale %d must round to an absolute value "
                         "less than %s%d.",
                         precision, scale, maxdigits ? "10^" : "", maxdigits ? maxdigits : 1);
    return -1;
}

int sql__numeric_typmod(const sql_numeric *in, int32_t typmod, kv_arena *arena, sql_numeric *out,
                        sql_error *err)
{
    if (typmod < 4 || in->kind == SQL_NUM_NAN) {
        *out = *in;
        return 0;
    }
    /* PostgreSQL 15 packs a signed 11-bit scale (negative scales allowed). */
    int32_t precision = ((typmod - 4) >> 16) & 0xffff;
    int32_t scale = (((typmod - 4) & 0x7ff) ^ 1024) - 1024;
    if (in->kind != SQL_NUM_FINITE)
        return field_overflow(precision, scale, true, arena, err);
    mpz_t z, q, limit;
    numeric_view(in, z);
    mpz_inits(q, limit, NULL);
    rescale(q, z, (int64_t)scale - in->dscale); /* units of 10^-scale */
    mpz_ui_pow_ui(limit, 10, (unsigned long)precision);
    int rc;
    if (mpz_cmpabs(q, limit) >= 0) {
        rc = field_overflow(precision, scale, false, arena, err);
    } else {
        if (scale < 0)
            rescale(q, q, -scale);
        rc = sql__numeric_from_mpz(q, scale < 0 ? 0 : scale, arena, out, err);
    }
    mpz_clears(q, limit, NULL);
    return rc;
}

/* ---- comparison ------------------------------------------------------ */

/* Rank of the kinds in PostgreSQL's order; finite values rank 1. */
static int kind_rank(sql_numeric_kind k)
{
    switch (k) {
    case SQL_NUM_NINF:
        return 0;
    case SQL_NUM_FINITE:
        return 1;
    case SQL_NUM_PINF:
        return 2;
    case SQL_NUM_NAN:
        return 3;
    }
    return 1;
}

int sql__numeric_cmp(const sql_numeric *a, const sql_numeric *b)
{
    int ra = kind_rank(a->kind), rb = kind_rank(b->kind);
    if (ra != rb || ra != 1)
        return (ra > rb) - (ra < rb);
    mpz_t za, zb, t;
    numeric_view(a, za);
    numeric_view(b, zb);
    if (a->dscale == b->dscale)
        return mpz_cmp(za, zb);
    mpz_init(t);
    int c;
    if (a->dscale < b->dscale) {
        rescale(t, za, (int64_t)b->dscale - a->dscale);
        c = mpz_cmp(t, zb);
    } else {
        rescale(t, zb, (int64_t)a->dscale - b->dscale);
        c = mpz_cmp(za, t);
    }
    mpz_clear(t);
    return c;
}

/* ---- canonical decimal form ----------------------------------------- */

int sql__numeric_decimal(const sql_numeric *n, sql__decimal *out)
{
    assert(n->kind == SQL_NUM_FINITE && n->size != 0);
    mpz_t z, a;
    numeric_view(n, z);
    mpz_roinit_n(a, mpz_limbs_read(z), (mp_size_t)mpz_size(z));
    char *digits = mpz_get_str(NULL, 10, a);
    if (digits == NULL)
        return -1;
    size_t nd = strlen(digits);
    out->neg = mpz_sgn(z) < 0;
    out->exp10 = (int32_t)nd - n->dscale;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    out->digits = digits;
    out->ndigits = nd;
    return 0;
}

void sql__numeric_digits_free(sql__decimal *d)
{
    gmp_free_str(d->digits);
    d->digits = NULL;
}

int sql__numeric_from_decimal(bool neg, const char *digits, size_t ndigits, int32_t exp10,
                              kv_arena *arena, sql_numeric *out, sql_error *err)
{
    char *s = kv_arena_alloc(arena, ndigits + 1);
    if (s == NULL)
        return sql__oom(arena, err);
    memcpy(s, digits, ndigits);
    s[ndigits] = '\0';
    mpz_t z;
    if (mpz_init_set_str(z, s, 10) != 0) {
        mpz_clear(z);
        return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION,
                             "invalid numeric digits");
    }
    int64_t dscale = (int64_t)ndigits - exp10;
    if (dscale < 0) {
        rescale(z, z, -dscale);
        dscale = 0;
    }
    return finish_parsed(z, neg, (int32_t)dscale, arena, out, err);
}

/* ---- arithmetic ------------------------------------------------------ */

static int sign_of(const sql_numeric *n)
{
    switch (n->kind) {
    case SQL_NUM_PINF:
        return 1;
    case SQL_NUM_NINF:
        return -1;
    case SQL_NUM_FINITE:
        return n->size > 0 ? 1 : n->size < 0 ? -1 : 0;
    case SQL_NUM_NAN:
        break;
    }
    return 0;
}

static sql_numeric_kind inf_of_sign(int s)
{
    return s > 0 ? SQL_NUM_PINF : SQL_NUM_NINF;
}

static int div_by_zero(kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_DIVISION_BY_ZERO, "division by zero");
}

/* The special-value rules of numeric_add/sub/mul/div; *done false when
 * both operands are finite. */
static int arith_special(sql_numeric_op op, const sql_numeric *a, const sql_numeric *b,
                         kv_arena *arena, sql_numeric *out, sql_error *err, bool *done)
{
    static const mp_limb_t none = 0;
    *done = true;
    int sa = sign_of(a), sb = sign_of(b);
    bool ia = a->kind == SQL_NUM_PINF || a->kind == SQL_NUM_NINF;
    bool ib = b->kind == SQL_NUM_PINF || b->kind == SQL_NUM_NINF;
    sql_numeric nan = {.kind = SQL_NUM_NAN};
    if (a->kind == SQL_NUM_NAN || b->kind == SQL_NUM_NAN) {
        *out = nan;
        return 0;
    }
    if (op == SQL_NUM_DIV && !ib && sb == 0)
        return div_by_zero(arena, err);
    if (!ia && !ib) {
        *done = false;
        return 0;
    }
    switch (op) {
    case SQL_NUM_ADD:
    case SQL_NUM_SUB: {
        int eb = op == SQL_NUM_SUB ? -sb : sb;
        if (ia && ib && sa != eb)
            *out = nan;
        else
            *out = (sql_numeric){.kind = inf_of_sign(ia ? sa : eb)};
        return 0;
    }
    case SQL_NUM_MUL:
        *out = sa * sb == 0 ? nan : (sql_numeric){.kind = inf_of_sign(sa * sb)};
        return 0;
    case SQL_NUM_DIV:
        if (ia && ib)
            *out = nan;
        else if (ia)
            *out = (sql_numeric){.kind = inf_of_sign(sa * sb)};
        else /* finite / infinity */
            *out = (sql_numeric){.kind = SQL_NUM_FINITE, .limbs = &none};
        return 0;
    }
    return 0;
}

/* Base-10000 weight and leading digit of |z| * 10^-dscale, as
 * PostgreSQL's select_div_scale sees them (0, 0 for zero). */
static void nbase_lead(const mpz_t z, int32_t dscale, int64_t *weight, long *first)
{
    *weight = 0, *first = 0;
    if (mpz_sgn(z) == 0)
        return;
    char *digits = mpz_get_str(NULL, 10, z);
    const char *d = digits[0] == '-' ? digits + 1 : digits;
    int64_t nd = (int64_t)strlen(d);
    int64_t e10 = nd - dscale - 1; /* 10^e10 <= value */
    int64_t w = e10 >= 0 ? e10 / 4 : -((-e10 + 3) / 4);
    int64_t nlead = e10 - 4 * w + 1; /* 1..4 digits form the first NBASE digit */
    long f = 0;
    for (int64_t i = 0; i < nlead; i++)
        f = f * 10 + (i < nd ? d[i] - '0' : 0);
    *weight = w, *first = f;
    gmp_free_str(digits);
}

static int32_t div_scale(const mpz_t za, int32_t da, const mpz_t zb, int32_t db)
{
    int64_t w1, w2;
    long f1, f2;
    nbase_lead(za, da, &w1, &f1);
    nbase_lead(zb, db, &w2, &f2);
    int64_t qweight = w1 - w2 - (f1 <= f2);
    int64_t rscale = NUMERIC_MIN_SIG_DIGITS - qweight * 4;
    rscale = rscale > da ? rscale : da;
    rscale = rscale > db ? rscale : db;
    rscale = rscale > 0 ? rscale : 0;
    return (int32_t)(rscale < NUMERIC_MAX_DISPLAY_SCALE ? rscale : NUMERIC_MAX_DISPLAY_SCALE);
}

/* Finite a op b into r (dscale in *rs); b != 0 for division. */
static void arith_finite(sql_numeric_op op, const mpz_t za, int32_t da, const mpz_t zb, int32_t db,
                         mpz_t r, int32_t *rs)
{
    mpz_t t;
    mpz_init(t);
    switch (op) {
    case SQL_NUM_ADD:
    case SQL_NUM_SUB:
        *rs = da > db ? da : db;
        rescale(r, za, *rs - da);
        rescale(t, zb, *rs - db);
        if (op == SQL_NUM_ADD)
            mpz_add(r, r, t);
        else
            mpz_sub(r, r, t);
        break;
    case SQL_NUM_MUL:
        mpz_mul(r, za, zb);
        *rs = da + db;
        if (*rs > SQL__NUMERIC_MAX_DSCALE) { /* numeric_mul rounds to the limit */
            rescale(r, r, SQL__NUMERIC_MAX_DSCALE - (int64_t)*rs);
            *rs = SQL__NUMERIC_MAX_DSCALE;
        }
        break;
    case SQL_NUM_DIV:
        *rs = div_scale(za, da, zb, db);
        rescale(t, za, (int64_t)*rs - da + db);
        div_round(r, t, zb);
        break;
    }
    mpz_clear(t);
}

int sql_numeric_arith(sql_numeric_op op, const sql_numeric *a, const sql_numeric *b,
                      kv_arena *arena, sql_numeric *out, sql_error *err)
{
    bool done;
    int rc = arith_special(op, a, b, arena, out, err, &done);
    if (rc != 0 || done)
        return rc;
    mpz_t za, zb, r;
    numeric_view(a, za);
    numeric_view(b, zb);
    mpz_init(r);
    int32_t rs = 0;
    arith_finite(op, za, a->dscale, zb, b->dscale, r, &rs);
    rc = check_limits(r, rs, arena, err);
    if (rc == 0)
        rc = sql__numeric_from_mpz(r, rs, arena, out, err);
    mpz_clear(r);
    return rc;
}
