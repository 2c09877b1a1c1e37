/*
 * datum_cmp.c - PostgreSQL's btree order for every type, SQL's
 * three-valued comparison operators, IS DISTINCT FROM, and a hash that
 * agrees with the order's equality.
 */
#include <assert.h>
#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "sql/types_int.h"

/* ---- three-valued logic (SQL:2016 8.2 truth tables) ------------------ */

sql_tribool sql_tri_not(sql_tribool a)
{
    return a == SQL_UNKNOWN ? SQL_UNKNOWN : a == SQL_TRUE ? SQL_FALSE : SQL_TRUE;
}

sql_tribool sql_tri_and(sql_tribool a, sql_tribool b)
{
    if (a == SQL_FALSE || b == SQL_FALSE)
        return SQL_FALSE;
    return a == SQL_TRUE && b == SQL_TRUE ? SQL_TRUE : SQL_UNKNOWN;
}

sql_tribool sql_tri_or(sql_tribool a, sql_tribool b)
{
    if (a == SQL_TRUE || b == SQL_TRUE)
        return SQL_TRUE;
    return a == SQL_FALSE && b == SQL_FALSE ? SQL_FALSE : SQL_UNKNOWN;
}

/* ---- order ------------------------------------------------------------ */

__int128 sql__interval_span(const sql_interval *iv)
{
    return ((__int128)iv->months * SQL__DAYS_PER_MONTH + iv->days) * SQL__USECS_PER_DAY +
           iv->micros;
}

/* float8_cmp_internal: NaN equals NaN and sorts above everything. */
static int float_cmp(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

static int bytes_cmp(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    if (c != 0)
        return c < 0 ? -1 : 1;
    return (na > nb) - (na < nb);
}

/* char(n) semantics: trailing spaces are insignificant (bcTruelen). */
static size_t bpchar_len(const uint8_t *p, size_t n)
{
    while (n > 0 && p[n - 1] == ' ')
        n--;
    return n;
}

#define CMP3(a, b) (((a) > (b)) - ((a) < (b)))

int sql_datum_cmp(sql_type_id type, const sql_datum *a, const sql_datum *b)
{
    assert(!a->isnull && !b->isnull);
    switch (type) {
    case SQL_T_BOOL:
        return CMP3(a->v.b, b->v.b);
    case SQL_T_INT2:
    case SQL_T_INT4:
    case SQL_T_INT8:
        return CMP3(a->v.i, b->v.i);
    case SQL_T_FLOAT4:
    case SQL_T_FLOAT8:
        return float_cmp(a->v.f, b->v.f);
    case SQL_T_BPCHAR:
        return bytes_cmp(a->v.s.p, bpchar_len(a->v.s.p, a->v.s.len), b->v.s.p,
                         bpchar_len(b->v.s.p, b->v.s.len));
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BYTEA:
        return bytes_cmp(a->v.s.p, a->v.s.len, b->v.s.p, b->v.s.len);
    case SQL_T_NUMERIC: {
        int c = sql__numeric_cmp(&a->v.num, &b->v.num);
        return CMP3(c, 0);
    }
    case SQL_T_DATE:
        return CMP3(a->v.date, b->v.date);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        return CMP3(a->v.ts, b->v.ts);
    case SQL_T_INTERVAL:
        return CMP3(sql__interval_span(&a->v.iv), sql__interval_span(&b->v.iv));
    case SQL_T_UUID:
        return bytes_cmp(a->v.uuid, 16, b->v.uuid, 16);
    case SQL_T_VOID: /* one value */
        return 0;
    default:
        if (sql_type_array_elem(type))
            return sql__array_cmp(a->v.arr, b->v.arr);
        break;
    }
    assert(!"unknown type");
    return 0;
}

int sql_datum_cmp_nulls(sql_type_id type, const sql_datum *a, const sql_datum *b, bool nulls_first)
{
    if (a->isnull || b->isnull) {
        int c = CMP3(a->isnull, b->isnull); /* NULL > value */
        return nulls_first ? -c : c;
    }
    return sql_datum_cmp(type, a, b);
}

sql_tribool sql_datum_compare_op(sql_type_id type, sql_cmp_op op, const sql_datum *a,
                                 const sql_datum *b)
{
    if (a->isnull || b->isnull)
        return SQL_UNKNOWN;
    int c = sql_datum_cmp(type, a, b);
    bool r = false;
    switch (op) {
    case SQL_CMP_EQ:
        r = c == 0;
        break;
    case SQL_CMP_NE:
        r = c != 0;
        break;
    case SQL_CMP_LT:
        r = c < 0;
        break;
    case SQL_CMP_LE:
        r = c <= 0;
        break;
    case SQL_CMP_GT:
        r = c > 0;
        break;
    case SQL_CMP_GE:
        r = c >= 0;
        break;
    }
    return r ? SQL_TRUE : SQL_FALSE;
}

bool sql_datum_distinct(sql_type_id type, const sql_datum *a, const sql_datum *b)
{
    if (a->isnull || b->isnull)
        return a->isnull != b->isnull;
    return sql_datum_cmp(type, a, b) != 0;
}

/* ---- hashing ------------------------------------------------------------ */

/* Equal numerics have one canonical decimal form; hash that. */
static uint64_t numeric_hash(const sql_numeric *n, uint64_t seed)
{
    if (n->kind != SQL_NUM_FINITE || n->size == 0) {
        int tag = n->kind == SQL_NUM_FINITE ? -1 : (int)n->kind;
        return XXH3_64bits_withSeed(&tag, sizeof(tag), seed);
    }
    sql__decimal d;
    if (sql__numeric_decimal(n, &d) != 0)
        return seed; /* out of memory: still a valid (weak) hash */
    uint64_t h = XXH3_64bits_withSeed(d.digits, d.ndigits, seed);
    int32_t head[2] = {d.neg, d.exp10};
    h = XXH3_64bits_withSeed(head, sizeof(head), h);
    sql__numeric_digits_free(&d);
    return h;
}

uint64_t sql_datum_hash(sql_type_id type, const sql_datum *d, uint64_t seed)
{
    if (d->isnull)
        return XXH3_64bits_withSeed("", 0, seed ^ UINT64_C(0x9e3779b97f4a7c15));
    switch (type) {
    case SQL_T_BOOL: {
        uint8_t b = d->v.b;
        return XXH3_64bits_withSeed(&b, 1, seed);
    }
    case SQL_T_FLOAT4:
    case SQL_T_FLOAT8: {
        double f = isnan(d->v.f) ? NAN : d->v.f == 0 ? 0.0 : d->v.f; /* NaN, -0 canonical */
        return XXH3_64bits_withSeed(&f, sizeof(f), seed);
    }
    case SQL_T_BPCHAR:
        return XXH3_64bits_withSeed(d->v.s.p, bpchar_len(d->v.s.p, d->v.s.len), seed);
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BYTEA:
        return XXH3_64bits_withSeed(d->v.s.p, d->v.s.len, seed);
    case SQL_T_NUMERIC:
        return numeric_hash(&d->v.num, seed);
    case SQL_T_DATE:
        return XXH3_64bits_withSeed(&d->v.date, sizeof(d->v.date), seed);
    case SQL_T_INTERVAL: {
        __int128 span = sql__interval_span(&d->v.iv);
        return XXH3_64bits_withSeed(&span, sizeof(span), seed);
    }
    case SQL_T_UUID:
        return XXH3_64bits_withSeed(d->v.uuid, 16, seed);
    case SQL_T_INT2:
    case SQL_T_INT4:
    case SQL_T_INT8:
        return XXH3_64bits_withSeed(&d->v.i, sizeof(d->v.i), seed);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        return XXH3_64bits_withSeed(&d->v.ts, sizeof(d->v.ts), seed);
    case SQL_T_VOID:
        break;
    default:
        if (sql_type_array_elem(type))
            return sql__array_hash(d->v.arr, seed);
        break;
    }
    return seed;
}
