/*
 * datum_binary.c - PostgreSQL's binary send/receive formats (format code 1
 * in Bind and DataRow). All integers are big-endian.
 *
 *   bool        1 byte, 0 or 1 (receive: any non-zero is true)
 *   int2/4/8    2/4/8 bytes two's complement
 *   float4/8    4/8 bytes IEEE 754
 *   text types  the UTF-8 bytes (receive validates them and the typmod)
 *   bytea       the bytes
 *   date        int32 days since 2000-01-01
 *   timestamp   int64 microseconds since 2000-01-01 (UTC for timestamptz)
 *   interval    int64 microseconds, int32 days, int32 months
 *   uuid        16 bytes
 *   numeric     offset size field
 *               0      2    ndigits: count of base-10000 digits
 *               2      2    weight: 10000's exponent of the first digit
 *               4      2    sign: 0x0000 +, 0x4000 -, 0xC000 NaN,
 *                           0xD000 +Infinity, 0xF000 -Infinity
 *               6      2    dscale: decimal digits after the point
 *               8      2*n  digits, each 0..9999, most significant first;
 *                           no leading or trailing zero digits
 */
#include <assert.h>
#include <string.h>

#include "sql/types_int.h"

#define NUMERIC_POS  0x0000
#define NUMERIC_NEG  0x4000
#define NUMERIC_NAN  0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000
/* NUMERIC_MAX_PRECISION + NUMERIC_MAX_RESULT_SCALE, numeric_recv's bound */
#define NUMERIC_MAX_RECV_DIGITS 3000

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- numeric ------------------------------------------------------------ */

static int64_t floor_div4(int64_t e)
{
    return e >= 0 ? e / 4 : -((-e + 3) / 4);
}

static void put_header(uint8_t *p, int ndigits, int weight, unsigned sign, int dscale)
{
    put_be(p, (uint16_t)ndigits, 2);
    put_be(p + 2, (uint16_t)weight, 2);
    put_be(p + 4, sign, 2);
    put_be(p + 6, (uint16_t)dscale, 2);
}

static int numeric_send(const sql_numeric *n, kv_arena *arena, const uint8_t **out, size_t *len,
                        sql_error *err)
{
    static const unsigned special[] = {
        [SQL_NUM_NAN] = NUMERIC_NAN, [SQL_NUM_PINF] = NUMERIC_PINF, [SQL_NUM_NINF] = NUMERIC_NINF};
    /* PostgreSQL sends the dscale bits of its short header for the
     * infinities (32), an artefact clients ignore; match it byte for byte. */
    static const int special_dscale[] = {
        [SQL_NUM_NAN] = 0, [SQL_NUM_PINF] = 32, [SQL_NUM_NINF] = 32};
    uint8_t *buf;
    if (n->kind != SQL_NUM_FINITE || n->size == 0) {
        if ((buf = kv_arena_alloc(arena, 8)) == NULL)
            return sql__oom(arena, err);
        put_header(buf, 0, 0, n->kind == SQL_NUM_FINITE ? NUMERIC_POS : special[n->kind],
                   n->kind == SQL_NUM_FINITE ? n->dscale : special_dscale[n->kind]);
        *out = buf, *len = 8;
        return 0;
    }
    sql__decimal dec;
    if (sql__numeric_decimal(n, &dec) != 0)
        return sql__oom(arena, err);
    int64_t wlead = floor_div4((int64_t)dec.exp10 - 1);
    int64_t wlast = floor_div4((int64_t)dec.exp10 - (int64_t)dec.ndigits);
    size_t ndig = (size_t)(wlead - wlast + 1);
    buf = kv_arena_alloc(arena, 8 + 2 * ndig);
    uint16_t *groups = kv_arena_alloc(arena, sizeof(uint16_t) * ndig);
    if (buf == NULL || groups == NULL) {
        sql__numeric_digits_free(&dec);
        return sql__oom(arena, err);
    }
    static const int pow10[] = {1, 10, 100, 1000};
    memset(groups, 0, sizeof(uint16_t) * ndig);
    for (size_t k = 0; k < dec.ndigits; k++) {
        int64_t e = (int64_t)dec.exp10 - 1 - (int64_t)k, w = floor_div4(e);
        groups[wlead - w] += (uint16_t)((dec.digits[k] - '0') * pow10[e - 4 * w]);
    }
    put_header(buf, (int)ndig, (int)wlead, dec.neg ? NUMERIC_NEG : NUMERIC_POS, n->dscale);
    for (size_t i = 0; i < ndig; i++)
        put_be(buf + 8 + 2 * i, groups[i], 2);
    sql__numeric_digits_free(&dec);
    *out = buf, *len = 8 + 2 * ndig;
    return 0;
}

static int bad_numeric(const char *what, kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION,
                         "invalid %s in external \"numeric\" value", what);
}

/* The digits as one integer z; value = z * 10^(4 * (weight - n + 1)). */
static int numeric_recv_digits(const uint8_t *p, size_t n, mpz_t z, kv_arena *arena, sql_error *err)
{
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)get_be(p + 2 * i, 2);
        if (d >= 10000)
            return bad_numeric("digit", arena, err);
        mpz_mul_ui(z, z, 10000);
        mpz_add_ui(z, z, d);
    }
    return 0;
}

/* The error for bytes left over after a value: a Bind names the
 * parameter (sql_datum_recv_left_over). */
static const char left_over_msg[] = "incorrect binary data format";

bool sql_datum_recv_left_over(const sql_error *e)
{
    return e->state == SQL_STATE_INVALID_BINARY_REPRESENTATION && e->message &&
           strcmp(e->message, left_over_msg) == 0;
}

static int numeric_recv(const uint8_t *p, size_t len, kv_arena *arena, sql_numeric *out,
                        sql_error *err)
{
    if (len < 8)
        return sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION,
                             "insufficient data left in message");
    size_t n = (size_t)get_be(p, 2);
    int weight = (int16_t)get_be(p + 2, 2);
    unsigned sign = (unsigned)get_be(p + 4, 2);
    int dscale = (int)get_be(p + 6, 2);
    if (n > NUMERIC_MAX_RECV_DIGITS)
        return bad_numeric("length", arena, err);
    if (len != 8 + 2 * n)
        return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION, "%s",
                             left_over_msg);
    if (sign == NUMERIC_NAN || sign == NUMERIC_PINF || sign == NUMERIC_NINF) {
        *out = (sql_numeric){.kind = sign == NUMERIC_NAN    ? SQL_NUM_NAN
                                     : sign == NUMERIC_PINF ? SQL_NUM_PINF
                                                            : SQL_NUM_NINF};
        return 0;
    }
    if (sign != NUMERIC_POS && sign != NUMERIC_NEG)
        return bad_numeric("sign", arena, err);
    if (dscale > SQL__NUMERIC_MAX_DSCALE)
        return bad_numeric("scale", arena, err);
    mpz_t z, pow;
    mpz_inits(z, pow, NULL);
    int rc = numeric_recv_digits(p + 8, n, z, arena, err);
    if (rc == 0) {
        /* Digits below dscale are truncated away, as numeric_recv's trunc_var. */
        int64_t k = 4 * ((int64_t)weight - (int64_t)n + 1) + dscale;
        mpz_ui_pow_ui(pow, 10, (unsigned long)(k < 0 ? -k : k));
        if (k >= 0)
            mpz_mul(z, z, pow);
        else
            mpz_tdiv_q(z, z, pow);
        if (sign == NUMERIC_NEG)
            mpz_neg(z, z);
        rc = sql__numeric_from_mpz(z, dscale, arena, out, err);
    }
    mpz_clears(z, pow, NULL);
    return rc;
}

/* ---- send ------------------------------------------------------------- */

/* Width of the fixed-size formats; 0 for variable-length ones. */
static size_t fixed_width(sql_type_id t)
{
    switch (t) {
    case SQL_T_BOOL:
        return 1;
    case SQL_T_INT2:
        return 2;
    case SQL_T_INT4:
    case SQL_T_FLOAT4:
    case SQL_T_DATE:
        return 4;
    case SQL_T_INT8:
    case SQL_T_FLOAT8:
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        return 8;
    case SQL_T_INTERVAL:
    case SQL_T_UUID:
        return 16;
    default:
        return 0;
    }
}

static void fixed_send(sql_type_id t, const sql_datum *d, uint8_t *p)
{
    union {
        float f;
        uint32_t u;
    } f4;
    union {
        double f;
        uint64_t u;
    } f8;
    switch (t) {
    case SQL_T_BOOL:
        p[0] = d->v.b;
        break;
    case SQL_T_INT2:
    case SQL_T_INT4:
    case SQL_T_INT8:
        put_be(p, (uint64_t)d->v.i, (int)fixed_width(t));
        break;
    case SQL_T_FLOAT4:
        f4.f = (float)d->v.f;
        put_be(p, f4.u, 4);
        break;
    case SQL_T_FLOAT8:
        f8.f = d->v.f;
        put_be(p, f8.u, 8);
        break;
    case SQL_T_DATE:
        put_be(p, (uint32_t)d->v.date, 4);
        break;
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        put_be(p, (uint64_t)d->v.ts, 8);
        break;
    case SQL_T_INTERVAL:
        put_be(p, (uint64_t)d->v.iv.micros, 8);
        put_be(p + 8, (uint32_t)d->v.iv.days, 4);
        put_be(p + 12, (uint32_t)d->v.iv.months, 4);
        break;
    case SQL_T_UUID:
        memcpy(p, d->v.uuid, 16);
        break;
    default:
        assert(!"not a fixed-width type");
    }
}

int sql_datum_send(sql_type type, const sql_datum *d, kv_arena *arena, const uint8_t **out,
                   size_t *len_out, sql_error *err)
{
    assert(!d->isnull);
    if (type.oid == SQL_T_NUMERIC)
        return numeric_send(&d->v.num, arena, out, len_out, err);
    if (sql_type_array_elem(type.oid))
        return sql__array_send(type, d, arena, out, len_out, err);
    if (type.oid == SQL_T_VOID) { /* void_send: no bytes */
        *out = (const uint8_t *)"", *len_out = 0;
        return 0;
    }
    size_t w = fixed_width(type.oid);
    if (w == 0) {
        if (!sql_type_known(type.oid))
            return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                 "no binary output function available for type %u",
                                 (unsigned)type.oid);
        *out = d->v.s.p, *len_out = d->v.s.len; /* text types, bytea: borrowed */
        return 0;
    }
    uint8_t *p = kv_arena_alloc(arena, w);
    if (p == NULL)
        return sql__oom(arena, err);
    fixed_send(type.oid, d, p);
    *out = p, *len_out = w;
    return 0;
}

/* ---- receive -------------------------------------------------------------- */

static int range_error(const char *what, kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_DATETIME_FIELD_OVERFLOW, "%s out of range", what);
}

static int fixed_recv(sql_type_id t, const uint8_t *p, kv_arena *arena, sql_datum *out,
                      sql_error *err)
{
    union {
        float f;
        uint32_t u;
    } f4;
    union {
        double f;
        uint64_t u;
    } f8;
    switch (t) {
    case SQL_T_BOOL:
        out->v.b = p[0] != 0;
        return 0;
    case SQL_T_INT2:
        out->v.i = (int16_t)get_be(p, 2);
        return 0;
    case SQL_T_INT4:
        out->v.i = (int32_t)get_be(p, 4);
        return 0;
    case SQL_T_INT8:
        out->v.i = (int64_t)get_be(p, 8);
        return 0;
    case SQL_T_FLOAT4:
        f4.u = (uint32_t)get_be(p, 4);
        out->v.f = f4.f;
        return 0;
    case SQL_T_FLOAT8:
        f8.u = get_be(p, 8);
        out->v.f = f8.f;
        return 0;
    case SQL_T_DATE:
        out->v.date = (int32_t)get_be(p, 4);
        if (out->v.date != INT32_MIN && out->v.date != INT32_MAX && !sql__date_valid(out->v.date))
            return range_error("date", arena, err);
        return 0;
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        out->v.ts = (int64_t)get_be(p, 8);
        if (out->v.ts != INT64_MIN && out->v.ts != INT64_MAX && !sql__timestamp_valid(out->v.ts))
            return range_error("timestamp", arena, err);
        return 0;
    case SQL_T_INTERVAL:
        out->v.iv.micros = (int64_t)get_be(p, 8);
        out->v.iv.days = (int32_t)get_be(p + 8, 4);
        out->v.iv.months = (int32_t)get_be(p + 12, 4);
        return 0;
    case SQL_T_UUID:
        memcpy(out->v.uuid, p, 16);
        return 0;
    default:
        assert(!"not a fixed-width type");
        return -1;
    }
}

int sql_datum_recv(sql_type type, const uint8_t *buf, size_t len, kv_arena *arena, sql_datum *out,
                   sql_error *err)
{
    *out = (sql_datum){0};
    switch (type.oid) {
    case SQL_T_NUMERIC:
        if (numeric_recv(buf, len, arena, &out->v.num, err) != 0)
            return -1;
        return sql_datum_coerce(type, out, arena, out, err);
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
        /* the bytes are the text form: validated, typmod applied */
        return sql_datum_from_text(type, (const char *)buf, len, NULL, arena, out, err);
    case SQL_T_BYTEA:
        if ((out->v.s.p = kv_arena_dup(arena, buf, len)) == NULL)
            return sql__oom(arena, err);
        out->v.s.len = len;
        return 0;
    default:
        if (sql_type_array_elem(type.oid))
            return sql__array_recv(type, buf, len, arena, out, err);
        break;
    }
    size_t w = fixed_width(type.oid);
    if (w == 0)
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "no binary input function available for type %u", (unsigned)type.oid);
    if (len < w)
        return sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION,
                             "insufficient data left in message");
    if (len > w)
        return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION, "%s",
                             left_over_msg);
    if (fixed_recv(type.oid, buf, arena, out, err) != 0)
        return -1;
    return sql_datum_coerce(type, out, arena, out, err);
}
