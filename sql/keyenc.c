/*
 * keyenc.c - the order-preserving key encoding (keyenc.h); the byte
 * layout is documented in docs/sql-encoding.md.
 *
 * Every column is a marker byte (never complemented, so NULL placement
 * is independent of direction) followed, for non-NULL values, by the
 * ascending payload; a descending column stores the bitwise complement of
 * the ascending payload, which reverses memcmp order and keeps it
 * prefix-free because every payload is self-delimiting.
 */
#include <assert.h>
#include <math.h>
#include <string.h>

#include "sql/keyenc.h"
#include "sql/types_int.h"

#define MARK_NULL_FIRST 0x00
#define MARK_VALUE      0x01
#define MARK_NULL_LAST  0x02

#define STR_ESC  0x00 /* 0x00 in the data becomes 0x00 0xFF */
#define STR_ESC0 0xFF
#define STR_END  0x01 /* the terminator is 0x00 0x01 */

enum numeric_tag {
    NUM_NINF = 0x01,
    NUM_NEG = 0x02,
    NUM_ZERO = 0x03,
    NUM_POS = 0x04,
    NUM_PINF = 0x05,
    NUM_NAN = 0x06,
};

#define UVARINT_MAX_SINGLE 0xEF
#define UVARINT_TAG        0xF0 /* 0xF0 + n: n big-endian bytes follow */

void sql_keybuf_init(sql_keybuf *b, kv_arena *arena)
{
    *b = (sql_keybuf){.arena = arena};
}

static int corrupt(kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "corrupt key");
}

/* Room for n more bytes. */
static int reserve(sql_keybuf *b, size_t n, sql_error *err)
{
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap * 2 : 64;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = kv_arena_alloc(b->arena, cap);
    if (p == NULL)
        return sql__oom(b->arena, err);
    if (b->len > 0)
        memcpy(p, b->p, b->len);
    b->p = p, b->cap = cap;
    return 0;
}

int sql_keybuf_append(sql_keybuf *b, const void *p, size_t n, sql_error *err)
{
    if (reserve(b, n, err) != 0)
        return -1;
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

/* n big-endian bytes of v, top bit flipped when `flip` (signed order). */
static int put_be(sql_keybuf *b, uint64_t v, int n, bool flip, sql_error *err)
{
    uint8_t tmp[8];
    if (flip)
        v ^= UINT64_C(1) << (8 * n - 1);
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        tmp[i] = (uint8_t)v;
    return sql_keybuf_append(b, tmp, (size_t)n, err);
}

/* ---- prefix -------------------------------------------------------------- */

static int put_uvarint(sql_keybuf *b, uint64_t v, sql_error *err)
{
    if (v <= UVARINT_MAX_SINGLE) {
        uint8_t c = (uint8_t)v;
        return sql_keybuf_append(b, &c, 1, err);
    }
    int n = 1;
    while (n < 8 && v >> (8 * n) != 0)
        n++;
    uint8_t tag = (uint8_t)(UVARINT_TAG + n);
    if (sql_keybuf_append(b, &tag, 1, err) != 0)
        return -1;
    return put_be(b, v, n, false, err);
}

int sql_key_put_prefix(sql_keybuf *b, uint32_t table_id, uint32_t index_id, sql_error *err)
{
    if (put_uvarint(b, table_id, err) != 0)
        return -1;
    return put_uvarint(b, index_id, err);
}

/* ---- encoders ---------------------------------------------------------------- */

/* IEEE 754 bits made memcmp-ordered: negatives complemented, positives
 * with the sign bit set; NaN canonical (above +Infinity), -0 as 0. */
static uint64_t float_key(double f, bool single)
{
    if (f == 0)
        f = 0.0;
    if (single) {
        union {
            float f;
            uint32_t u;
        } x = {.f = isnan(f) ? NAN : (float)f};
        return (x.u & UINT32_C(0x80000000)) ? ~x.u : x.u | UINT32_C(0x80000000);
    }
    union {
        double f;
        uint64_t u;
    } x = {.f = isnan(f) ? NAN : f};
    return (x.u >> 63) ? ~x.u : x.u | (UINT64_C(1) << 63);
}

static int put_string(sql_keybuf *b, const uint8_t *s, size_t n, sql_error *err)
{
    static const uint8_t esc[2] = {STR_ESC, STR_ESC0}, end[2] = {STR_ESC, STR_END};
    for (size_t i = 0; i < n;) {
        const uint8_t *z = memchr(s + i, 0, n - i);
        size_t run = z ? (size_t)(z - (s + i)) : n - i;
        if (sql_keybuf_append(b, s + i, run, err) != 0)
            return -1;
        i += run;
        if (z != NULL) {
            if (sql_keybuf_append(b, esc, 2, err) != 0)
                return -1;
            i++;
        }
    }
    return sql_keybuf_append(b, end, 2, err);
}

/* Tag, then for finite non-zero values the exponent and digits (d+1 per
 * digit, 0x00 terminator), complemented for negatives so that larger
 * magnitudes sort first. */
static int put_numeric(sql_keybuf *b, const sql_numeric *n, sql_error *err)
{
    static const uint8_t tags[] = {
        [SQL_NUM_NAN] = NUM_NAN, [SQL_NUM_PINF] = NUM_PINF, [SQL_NUM_NINF] = NUM_NINF};
    uint8_t tag = n->kind != SQL_NUM_FINITE ? tags[n->kind]
                  : n->size == 0            ? NUM_ZERO
                  : n->size < 0             ? NUM_NEG
                                            : NUM_POS;
    if (sql_keybuf_append(b, &tag, 1, err) != 0)
        return -1;
    if (tag != NUM_NEG && tag != NUM_POS)
        return 0;
    sql__decimal d;
    if (sql__numeric_decimal(n, &d) != 0)
        return sql__oom(b->arena, err);
    size_t start = b->len;
    int rc = put_be(b, (uint32_t)d.exp10, 4, true, err);
    for (size_t i = 0; rc == 0 && i < d.ndigits; i++) {
        uint8_t c = (uint8_t)(d.digits[i] - '0' + 1);
        rc = sql_keybuf_append(b, &c, 1, err);
    }
    uint8_t term = 0;
    if (rc == 0)
        rc = sql_keybuf_append(b, &term, 1, err);
    if (rc == 0 && d.neg)
        for (size_t i = start; i < b->len; i++)
            b->p[i] = (uint8_t)~b->p[i];
    sql__numeric_digits_free(&d);
    return rc;
}

static int put_payload(sql_keybuf *b, sql_type_id t, const sql_datum *d, sql_error *err);

/* An array: each element as MARK_VALUE + payload or MARK_NULL_LAST (a
 * NULL element sorts above values, as in PostgreSQL), then 0x00, which
 * sorts a prefix before its extensions, then the lower bound. */
static int put_array(sql_keybuf *b, const sql_array *a, sql_error *err)
{
    static const uint8_t end = 0x00;

    for (int32_t i = 0; i < a->n; i++) {
        uint8_t mark = a->elems[i].isnull ? MARK_NULL_LAST : MARK_VALUE;
        if (sql_keybuf_append(b, &mark, 1, err) != 0 ||
            (!a->elems[i].isnull && put_payload(b, a->elem, &a->elems[i], err) != 0))
            return -1;
    }
    if (sql_keybuf_append(b, &end, 1, err) != 0)
        return -1;
    return put_be(b, (uint64_t)(int64_t)a->lbound, 4, true, err);
}

static int put_payload(sql_keybuf *b, sql_type_id t, const sql_datum *d, sql_error *err)
{
    switch (t) {
    case SQL_T_BOOL:
        return put_be(b, d->v.b, 1, false, err);
    case SQL_T_INT2:
        return put_be(b, (uint64_t)d->v.i, 2, true, err);
    case SQL_T_INT4:
        return put_be(b, (uint64_t)d->v.i, 4, true, err);
    case SQL_T_INT8:
        return put_be(b, (uint64_t)d->v.i, 8, true, err);
    case SQL_T_FLOAT4:
        return put_be(b, float_key(d->v.f, true), 4, false, err);
    case SQL_T_FLOAT8:
        return put_be(b, float_key(d->v.f, false), 8, false, err);
    case SQL_T_DATE:
        return put_be(b, (uint64_t)(int64_t)d->v.date, 4, true, err);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        return put_be(b, (uint64_t)d->v.ts, 8, true, err);
    case SQL_T_INTERVAL: {
        unsigned __int128 span = (unsigned __int128)sql__interval_span(&d->v.iv);
        if (put_be(b, (uint64_t)(span >> 64), 8, true, err) != 0)
            return -1;
        return put_be(b, (uint64_t)span, 8, false, err);
    }
    case SQL_T_UUID:
        return sql_keybuf_append(b, d->v.uuid, 16, err);
    case SQL_T_BPCHAR: {
        size_t n = d->v.s.len;
        while (n > 0 && d->v.s.p[n - 1] == ' ')
            n--;
        return put_string(b, d->v.s.p, n, err);
    }
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BYTEA:
        return put_string(b, d->v.s.p, d->v.s.len, err);
    case SQL_T_NUMERIC:
        return put_numeric(b, &d->v.num, err);
    case SQL_T_VOID:
        break;
    default:
        if (sql_type_array_elem(t))
            return put_array(b, d->v.arr, err);
        break;
    }
    return sql_error_set(err, b->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                         "type %u cannot be a key column", (unsigned)t);
}

int sql_key_put(sql_keybuf *b, sql_type type, sql_key_dir dir, bool nulls_first, const sql_datum *d,
                sql_error *err)
{
    uint8_t mark = d->isnull ? (nulls_first ? MARK_NULL_FIRST : MARK_NULL_LAST) : MARK_VALUE;
    if (sql_keybuf_append(b, &mark, 1, err) != 0)
        return -1;
    if (d->isnull)
        return 0;
    size_t start = b->len;
    if (put_payload(b, type.oid, d, err) != 0)
        return -1;
    if (dir == SQL_KEY_DESC)
        for (size_t i = start; i < b->len; i++)
            b->p[i] = (uint8_t)~b->p[i];
    return 0;
}

/* ---- decoders ------------------------------------------------------------- */

/* A cursor that undoes the descending complement as it reads. */
typedef struct reader {
    const uint8_t *p, *end;
    uint8_t mask;
} reader;

static bool get_byte(reader *r, uint8_t *c)
{
    if (r->p >= r->end)
        return false;
    *c = *r->p++ ^ r->mask;
    return true;
}

static bool get_be(reader *r, int n, bool flip, uint64_t *v)
{
    uint8_t c;
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (!get_byte(r, &c))
            return false;
        *v = *v << 8 | c;
    }
    if (flip)
        *v ^= UINT64_C(1) << (8 * n - 1);
    return true;
}

static bool get_uvarint(reader *r, uint64_t *v)
{
    uint8_t c;
    if (!get_byte(r, &c))
        return false;
    if (c <= UVARINT_MAX_SINGLE) {
        *v = c;
        return true;
    }
    int n = c - UVARINT_TAG;
    return n >= 1 && n <= 8 && get_be(r, n, false, v);
}

int sql_key_get_prefix(const uint8_t **p, const uint8_t *end, uint32_t *table_id,
                       uint32_t *index_id, kv_arena *arena, sql_error *err)
{
    reader r = {.p = *p, .end = end};
    uint64_t t, i;
    if (!get_uvarint(&r, &t) || !get_uvarint(&r, &i) || t > UINT32_MAX || i > UINT32_MAX)
        return corrupt(arena, err);
    *table_id = (uint32_t)t, *index_id = (uint32_t)i;
    *p = r.p;
    return 0;
}

/* Reads an escaped string up to its terminator; when `buf` is NULL only
 * measures. *len = the unescaped length. */
static bool read_string(reader *r, uint8_t *buf, size_t *len)
{
    size_t n = 0;
    uint8_t c, c2;
    while (get_byte(r, &c)) {
        if (c != STR_ESC) {
            if (buf)
                buf[n] = c;
            n++;
            continue;
        }
        if (!get_byte(r, &c2))
            return false;
        if (c2 == STR_END) {
            *len = n;
            return true;
        }
        if (c2 != STR_ESC0)
            return false;
        if (buf)
            buf[n] = 0;
        n++;
    }
    return false;
}

/* An escaped string unescaped into exactly-sized arena memory. */
static bool get_string(reader *r, kv_arena *arena, const uint8_t **out, size_t *len)
{
    reader probe = *r;
    if (!read_string(&probe, NULL, len))
        return false;
    uint8_t *buf = kv_arena_alloc(arena, *len);
    if (buf == NULL || !read_string(r, buf, len))
        return false;
    *out = buf;
    return true;
}

static bool get_numeric_digits(reader *r, bool neg, kv_arena *arena, sql_numeric *out)
{
    uint8_t inv = neg ? 0xFF : 0x00, c = 1;
    uint64_t e;
    reader er = {.p = r->p, .end = r->end, .mask = r->mask ^ inv};
    if (!get_be(&er, 4, true, &e))
        return false;
    char *digits = kv_arena_alloc(arena, (size_t)(er.end - er.p) + 1);
    size_t n = 0;
    if (digits == NULL)
        return false;
    while (get_byte(&er, &c) && c != 0) {
        if (c > 10)
            return false;
        digits[n++] = (char)('0' + c - 1);
    }
    if (c != 0 || n == 0)
        return false;
    r->p = er.p;
    sql_error ignored = {0};
    return sql__numeric_from_decimal(neg, digits, n, (int32_t)(uint32_t)e, arena, out, &ignored) ==
           0;
}

static bool get_numeric(reader *r, kv_arena *arena, sql_numeric *out)
{
    uint8_t tag;
    if (!get_byte(r, &tag))
        return false;
    switch (tag) {
    case NUM_NINF:
        *out = (sql_numeric){.kind = SQL_NUM_NINF};
        return true;
    case NUM_PINF:
        *out = (sql_numeric){.kind = SQL_NUM_PINF};
        return true;
    case NUM_NAN:
        *out = (sql_numeric){.kind = SQL_NUM_NAN};
        return true;
    case NUM_ZERO: {
        static const mp_limb_t none = 0;
        *out = (sql_numeric){.kind = SQL_NUM_FINITE, .limbs = &none};
        return true;
    }
    case NUM_NEG:
    case NUM_POS:
        return get_numeric_digits(r, tag == NUM_NEG, arena, out);
    }
    return false;
}

static __int128 clamp32(__int128 v)
{
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : v;
}

/* The 30-day-month span back into months, days and microseconds: as many
 * whole months as fit, then days, the rest in microseconds (every span an
 * interval can have fits this way). */
static sql_interval interval_from_span(__int128 span)
{
    __int128 days = span / SQL__USECS_PER_DAY, micros = span % SQL__USECS_PER_DAY;
    __int128 months = clamp32(days / SQL__DAYS_PER_MONTH);
    days -= months * SQL__DAYS_PER_MONTH;
    __int128 d = clamp32(days);
    micros += (days - d) * SQL__USECS_PER_DAY;
    return (sql_interval){.months = (int32_t)months, .days = (int32_t)d, .micros = (int64_t)micros};
}

static bool get_float(reader *r, bool single, double *out)
{
    uint64_t k;
    if (!get_be(r, single ? 4 : 8, false, &k))
        return false;
    uint64_t top = UINT64_C(1) << (single ? 31 : 63);
    uint64_t bits = (k & top) ? k ^ top : ~k & (single ? UINT32_MAX : UINT64_MAX);
    if (single) {
        union {
            uint32_t u;
            float f;
        } x = {.u = (uint32_t)bits};
        *out = x.f;
    } else {
        union {
            uint64_t u;
            double f;
        } x = {.u = bits};
        *out = x.f;
    }
    return true;
}

static bool get_payload(reader *r, sql_type_id t, kv_arena *arena, sql_datum *d);

/* The inverse of put_array. */
static bool get_array(reader *r, sql_type_id elem, kv_arena *arena, sql_datum *d)
{
    sql_datum *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t lbound;
    uint8_t mark;
    sql_error ignored = {0};

    for (;;) {
        if (!get_byte(r, &mark))
            return false;
        if (mark == 0x00)
            break;
        if (n == cap) {
            sql_datum *w = kv_arena_alloc(arena, (cap = cap ? 2 * cap : 8) * sizeof *w);
            if (!w)
                return false;
            if (n)
                memcpy(w, v, n * sizeof *w);
            v = w;
        }
        v[n] = (sql_datum){.isnull = mark == MARK_NULL_LAST};
        if ((mark != MARK_VALUE && mark != MARK_NULL_LAST) ||
            (mark == MARK_VALUE && !get_payload(r, elem, arena, &v[n])))
            return false;
        n++;
    }
    return get_be(r, 4, true, &lbound) && n <= INT32_MAX &&
           sql__array_build(elem, v, (int32_t)n, (int32_t)lbound, arena, d, &ignored) == 0;
}

static bool get_payload(reader *r, sql_type_id t, kv_arena *arena, sql_datum *d)
{
    uint64_t v, lo;
    switch (t) {
    case SQL_T_BOOL:
        return get_be(r, 1, false, &v) && v <= 1 && ((d->v.b = v), true);
    case SQL_T_INT2:
        return get_be(r, 2, true, &v) && ((d->v.i = (int16_t)v), true);
    case SQL_T_INT4:
        return get_be(r, 4, true, &v) && ((d->v.i = (int32_t)v), true);
    case SQL_T_INT8:
        return get_be(r, 8, true, &v) && ((d->v.i = (int64_t)v), true);
    case SQL_T_FLOAT4:
    case SQL_T_FLOAT8:
        return get_float(r, t == SQL_T_FLOAT4, &d->v.f);
    case SQL_T_DATE:
        return get_be(r, 4, true, &v) && ((d->v.date = (int32_t)v), true);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        return get_be(r, 8, true, &v) && ((d->v.ts = (int64_t)v), true);
    case SQL_T_INTERVAL:
        if (!get_be(r, 8, true, &v) || !get_be(r, 8, false, &lo))
            return false;
        d->v.iv = interval_from_span((__int128)((unsigned __int128)v << 64 | lo));
        return true;
    case SQL_T_UUID:
        for (int i = 0; i < 16; i++)
            if (!get_byte(r, &d->v.uuid[i]))
                return false;
        return true;
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
    case SQL_T_BYTEA:
        return get_string(r, arena, &d->v.s.p, &d->v.s.len);
    case SQL_T_NUMERIC:
        return get_numeric(r, arena, &d->v.num);
    case SQL_T_VOID:
        break;
    default:
        return sql_type_array_elem(t) && get_array(r, sql_type_array_elem(t), arena, d);
    }
    return false;
}

int sql_key_get(const uint8_t **p, const uint8_t *end, sql_type type, sql_key_dir dir,
                kv_arena *arena, sql_datum *out, sql_error *err)
{
    *out = (sql_datum){0};
    if (*p >= end)
        return corrupt(arena, err);
    uint8_t mark = **p;
    if (mark == MARK_NULL_FIRST || mark == MARK_NULL_LAST) {
        out->isnull = true;
        (*p)++;
        return 0;
    }
    reader r = {.p = *p + 1, .end = end, .mask = dir == SQL_KEY_DESC ? 0xFF : 0x00};
    if (mark != MARK_VALUE || !get_payload(&r, type.oid, arena, out))
        return corrupt(arena, err);
    *p = r.p;
    if (type.oid == SQL_T_BPCHAR)
        return sql_datum_coerce(type, out, arena, out, err); /* re-pad char(n) */
    return 0;
}

bool sql_key_composite(sql_type_id type)
{
    switch (type) {
    case SQL_T_NUMERIC:
    case SQL_T_INTERVAL:
    case SQL_T_FLOAT4:
    case SQL_T_FLOAT8:
    case SQL_T_BPCHAR:
        return true;
    default: /* arrays: their elements may be, and the key drops typmods */
        return sql_type_array_elem(type) != 0;
    }
}
