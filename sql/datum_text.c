/*
 * datum_text.c - PostgreSQL 15's text input and output functions for
 * every type in types.h, with their error codes and message wording, and
 * the typmod coercions (varchar(n), char(n), numeric(p,s), timestamp(p)).
 * Numeric lives in numeric.c and the date/time types in datetime.c; this
 * file dispatches and handles the rest.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/types_int.h"

int sql__oom(kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
}

/* ---- bool -------------------------------------------------------------- */

/* parse_bool_with_len: full words or unique prefixes, any case. */
static bool parse_bool(const char *p, size_t n, bool *out)
{
    static const struct {
        const char *word;
        size_t min;
        bool value;
    } words[] = {{"true", 1, true}, {"false", 1, false}, {"yes", 1, true}, {"no", 1, false},
                 {"on", 2, true},   {"off", 2, false},   {"1", 1, true},   {"0", 1, false}};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (n >= words[i].min && n <= strlen(words[i].word) &&
            strncasecmp(p, words[i].word, n) == 0) {
            *out = words[i].value;
            return true;
        }
    return false;
}

static int bool_in(const char *s, size_t len, kv_arena *arena, sql_datum *out, sql_error *err)
{
    const char *p = s, *end = s + len;
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (!parse_bool(p, (size_t)(end - p), &out->v.b))
        return sql_error_set(err, arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                             "invalid input syntax for type boolean: \"%.*s\"", (int)len, s);
    return 0;
}

/* ---- integers ------------------------------------------------------------- */

static int int_in(sql_type_id t, const char *s, size_t len, kv_arena *arena, sql_datum *out,
                  sql_error *err)
{
    int64_t lo = t == SQL_T_INT2 ? INT16_MIN : t == SQL_T_INT4 ? INT32_MIN : INT64_MIN;
    int64_t hi = t == SQL_T_INT2 ? INT16_MAX : t == SQL_T_INT4 ? INT32_MAX : INT64_MAX;
    const char *p = s, *end = s + len;
    while (p < end && isspace((unsigned char)*p))
        p++;
    bool neg = p < end && *p == '-';
    if (p < end && (*p == '-' || *p == '+'))
        p++;
    if (p == end || !isdigit((unsigned char)*p))
        goto bad;
    /* accumulate negatively so INT64_MIN fits, as pg_strtoint64 */
    int64_t v = 0;
    for (; p < end && isdigit((unsigned char)*p); p++) {
        int d = *p - '0';
        if (v < lo / 10 || (v == lo / 10 && d > -(lo % 10)))
            goto range;
        v = v * 10 - d;
    }
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p != end)
        goto bad;
    if (!neg && v < -hi)
        goto range;
    out->v.i = neg ? v : -v;
    return 0;
bad:
    return sql_error_set(err, arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                         "invalid input syntax for type %s: \"%.*s\"", sql_type_name(t), (int)len,
                         s);
range:
    return sql_error_set(err, arena, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                         "value \"%.*s\" is out of range for type %s", (int)len, s,
                         sql_type_name(t));
}

/* ---- floats ----------------------------------------------------------- */

static int float_in(sql_type_id t, const char *s, size_t len, kv_arena *arena, sql_datum *out,
                    sql_error *err)
{
    char *copy = kv_arena_strndup(arena, s, len);
    if (copy == NULL)
        return sql__oom(arena, err);
    char *p = copy, *endp;
    while (isspace((unsigned char)*p))
        p++;
    errno = 0;
    double v = t == SQL_T_FLOAT4 ? (double)strtof(p, &endp) : strtod(p, &endp);
    if (endp == p)
        goto bad;
    double huge = t == SQL_T_FLOAT4 ? (double)HUGE_VALF : HUGE_VAL;
    if (errno == ERANGE && (v == 0.0 || v >= huge || v <= -huge))
        return sql_error_set(err, arena, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                             "\"%.*s\" is out of range for type %s", (int)(endp - p), p,
                             sql_type_name(t));
    while (isspace((unsigned char)*endp))
        endp++;
    if (endp != copy + len) /* also rejects an embedded NUL */
        goto bad;
    out->v.f = v;
    return 0;
bad:
    return sql_error_set(err, arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                         "invalid input syntax for type %s: \"%.*s\"", sql_type_name(t), (int)len,
                         s);
}

/* Whether `prec` significant digits of v read back as v (left in tmp). */
static bool round_trips(double v, bool single, int prec, char *tmp, size_t cap)
{
    snprintf(tmp, cap, "%.*e", prec - 1, v);
    return single ? strtof(tmp, NULL) == (float)v : strtod(tmp, NULL) == v;
}

/* Shortest digits that read back as `v` (what PostgreSQL 12+'s Ryu code
 * produces): *exp is the decimal exponent of the first digit. */
static void shortest_digits(double v, bool single, char *digits, int *exp)
{
    /* Reading back is monotonic in the precision (p digits round-trip =>
     * p + 1 do), so binary-search the smallest; 9 / 17 always suffice. */
    char tmp[40];
    int lo = 1, hi = single ? 9 : 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (round_trips(v, single, mid, tmp, sizeof(tmp)))
            hi = mid;
        else
            lo = mid + 1;
    }
    round_trips(v, single, lo, tmp, sizeof(tmp));
    char *e = strchr(tmp, 'e');
    *exp = atoi(e + 1);
    size_t n = 0;
    for (const char *p = tmp; p < e; p++)
        if (isdigit((unsigned char)*p))
            digits[n++] = *p;
    while (n > 1 && digits[n - 1] == '0')
        n--;
    digits[n] = '\0';
}

/* float4out/float8out with extra_float_digits >= 1: fixed notation for
 * decimal exponents in [-4, 6) (real) or [-4, 15) (double precision),
 * else d.ddde+XX, as PostgreSQL's f2s/d2s to_chars. With fewer digits
 * asked for (`offset` < 0), %g with FLT_DIG/DBL_DIG + extra_float_digits
 * significant digits, at least 1. */
static int format_float(double v, bool single, int offset, char *buf, size_t cap)
{
    if (isnan(v))
        return snprintf(buf, cap, "NaN");
    if (isinf(v))
        return snprintf(buf, cap, "%s", v > 0 ? "Infinity" : "-Infinity");
    if (offset < 0) {
        int ndig = (single ? FLT_DIG : DBL_DIG) + 1 + offset;
        return snprintf(buf, cap, "%.*g", ndig < 1 ? 1 : ndig, v);
    }
    if (v == 0)
        return snprintf(buf, cap, "%s", signbit(v) ? "-0" : "0");
    char d[24];
    int exp, n = 0;
    shortest_digits(fabs(v), single, d, &exp);
    int nd = (int)strlen(d);
    const char *sign = v < 0 ? "-" : "";
    if (exp < -4 || exp >= (single ? 6 : 15))
        return snprintf(buf, cap, "%s%c%s%.*se%c%02d", sign, d[0], nd > 1 ? "." : "", nd - 1, d + 1,
                        exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    if (exp < 0) {
        n = snprintf(buf, cap, "%s0.", sign);
        for (int i = 0; i < -exp - 1; i++)
            buf[n++] = '0';
        return n + snprintf(buf + n, cap - (size_t)n, "%s", d);
    }
    n = snprintf(buf, cap, "%s%.*s", sign, nd < exp + 1 ? nd : exp + 1, d);
    for (int i = nd; i < exp + 1; i++)
        buf[n++] = '0';
    buf[n] = '\0';
    if (nd > exp + 1)
        n += snprintf(buf + n, cap - (size_t)n, ".%s", d + exp + 1);
    return n;
}

/* ---- text types -------------------------------------------------------------- */

/* Number of UTF-8 characters in valid UTF-8 [s, s+len). */
static size_t utf8_chars(const uint8_t *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (s[i] & 0xC0) != 0x80;
    return n;
}

/* Length of the valid UTF-8 sequence at s (0: invalid), as
 * pg_utf8_islegal. */
static size_t utf8_seq(const uint8_t *s, size_t avail)
{
    size_t n = s[0] < 0x80   ? 1
               : s[0] < 0xC2 ? 0
               : s[0] < 0xE0 ? 2
               : s[0] < 0xF0 ? 3
               : s[0] < 0xF5 ? 4
                             : 0;
    if (n == 0 || n > avail || s[0] == 0)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] > 0x9F) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

static int check_utf8(const uint8_t *s, size_t len, kv_arena *arena, sql_error *err)
{
    for (size_t i = 0; i < len;) {
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0) {
            char hex[32] = "";
            /* as report_invalid_encoding: the bytes the lead byte claims */
            size_t want = s[i] >= 0xF0 ? 4 : s[i] >= 0xE0 ? 3 : s[i] >= 0xC0 ? 2 : 1, w = 0;
            size_t show = len - i < want ? len - i : want;
            for (size_t k = 0; k < show; k++)
                w += (size_t)snprintf(hex + w, sizeof(hex) - w, "%s0x%02x", k ? " " : "", s[i + k]);
            return sql_error_set(err, arena, SQL_STATE_CHARACTER_NOT_IN_REPERTOIRE,
                                 "invalid byte sequence for encoding \"UTF8\": %s", hex);
        }
        i += n;
    }
    return 0;
}

/* Byte length of the first `chars` characters of valid UTF-8. */
static size_t utf8_prefix(const uint8_t *s, size_t len, size_t chars)
{
    size_t i = 0;
    for (; i < len; i++)
        if ((s[i] & 0xC0) != 0x80 && chars-- == 0)
            break;
    return i;
}

/* varchar(n) and char(n) as their input functions apply them: too long is
 * 22001 unless only spaces are cut; char(n) pads. */
static int char_typmod(sql_type type, const sql_datum *in, kv_arena *arena, sql_datum *out,
                       sql_error *err)
{
    *out = *in;
    if (type.typmod < 4 || (type.oid != SQL_T_VARCHAR && type.oid != SQL_T_BPCHAR))
        return 0;
    size_t max = (size_t)(type.typmod - 4), chars = utf8_chars(in->v.s.p, in->v.s.len);
    if (chars > max) {
        size_t keep = utf8_prefix(in->v.s.p, in->v.s.len, max);
        for (size_t i = keep; i < in->v.s.len; i++)
            if (in->v.s.p[i] != ' ')
                return sql_error_set(err, arena, SQL_STATE_STRING_DATA_RIGHT_TRUNCATION,
                                     "value too long for type %s(%zu)", sql_type_name(type.oid),
                                     max);
        out->v.s.len = keep;
        return 0;
    }
    if (type.oid == SQL_T_BPCHAR && chars < max) {
        uint8_t *p = kv_arena_alloc(arena, in->v.s.len + (max - chars));
        if (p == NULL)
            return sql__oom(arena, err);
        memcpy(p, in->v.s.p, in->v.s.len);
        memset(p + in->v.s.len, ' ', max - chars);
        out->v.s.p = p;
        out->v.s.len = in->v.s.len + (max - chars);
    }
    return 0;
}

/* ---- bytea ------------------------------------------------------------ */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int bytea_hex_in(const char *s, size_t len, kv_arena *arena, sql_datum *out, sql_error *err)
{
    uint8_t *buf = kv_arena_alloc(arena, len / 2 + 1);
    if (buf == NULL)
        return sql__oom(arena, err);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (isspace((unsigned char)s[i])) {
            i++;
            continue;
        }
        int hi = hex_value(s[i]);
        if (hi < 0)
            return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                                 "invalid hexadecimal digit: \"%c\"", s[i]);
        if (i + 1 >= len)
            return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                                 "invalid hexadecimal data: odd number of digits");
        int lo = hex_value(s[i + 1]);
        if (lo < 0)
            return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                                 "invalid hexadecimal digit: \"%c\"", s[i + 1]);
        buf[n++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    out->v.s.p = buf;
    out->v.s.len = n;
    return 0;
}

static bool is_oct(char c, char max)
{
    return c >= '0' && c <= max;
}

/* The escape format: \\ and \ooo, everything else literal. */
static int bytea_escape_in(const char *s, size_t len, kv_arena *arena, sql_datum *out,
                           sql_error *err)
{
    uint8_t *buf = kv_arena_alloc(arena, len + 1);
    if (buf == NULL)
        return sql__oom(arena, err);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (s[i] != '\\') {
            buf[n++] = (uint8_t)s[i++];
        } else if (i + 1 < len && s[i + 1] == '\\') {
            buf[n++] = '\\';
            i += 2;
        } else if (i + 3 < len && is_oct(s[i + 1], '3') && is_oct(s[i + 2], '7') &&
                   is_oct(s[i + 3], '7')) {
            buf[n++] = (uint8_t)((s[i + 1] - '0') << 6 | (s[i + 2] - '0') << 3 | (s[i + 3] - '0'));
            i += 4;
        } else {
            return sql_error_set(err, arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                                 "invalid input syntax for type bytea");
        }
    }
    out->v.s.p = buf;
    out->v.s.len = n;
    return 0;
}

static const char hex_digits[] = "0123456789abcdef";

static int bytea_out(const sql_datum *d, kv_arena *arena, const char **out, size_t *len,
                     sql_error *err)
{
    char *buf = kv_arena_alloc(arena, 2 * d->v.s.len + 3);
    if (buf == NULL)
        return sql__oom(arena, err);
    buf[0] = '\\', buf[1] = 'x';
    for (size_t i = 0; i < d->v.s.len; i++) {
        buf[2 + 2 * i] = hex_digits[d->v.s.p[i] >> 4];
        buf[3 + 2 * i] = hex_digits[d->v.s.p[i] & 15];
    }
    *len = 2 * d->v.s.len + 2;
    buf[*len] = '\0';
    *out = buf;
    return 0;
}

/* ---- uuid ------------------------------------------------------------------ */

/* string_to_uuid: optional braces, a hyphen allowed after any group of
 * four hex digits. */
static int uuid_in(const char *s, size_t len, kv_arena *arena, sql_datum *out, sql_error *err)
{
    const char *p = s, *end = s + len;
    bool braces = p < end && *p == '{';
    p += braces;
    for (int i = 0; i < 16; i++) {
        if (end - p < 2 || hex_value(p[0]) < 0 || hex_value(p[1]) < 0)
            goto bad;
        out->v.uuid[i] = (uint8_t)(hex_value(p[0]) << 4 | hex_value(p[1]));
        p += 2;
        if (p < end && *p == '-' && i % 2 == 1 && i < 15)
            p++;
    }
    if (braces && (p == end || *p++ != '}'))
        goto bad;
    if (p == end)
        return 0;
bad:
    return sql_error_set(err, arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                         "invalid input syntax for type uuid: \"%.*s\"", (int)len, s);
}

/* Canonical lower-case 8-4-4-4-12 form into buf (37 bytes). */
static int uuid_out(const uint8_t *u, char *buf)
{
    int n = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            buf[n++] = '-';
        buf[n++] = hex_digits[u[i] >> 4];
        buf[n++] = hex_digits[u[i] & 15];
    }
    buf[n] = '\0';
    return n;
}

/* ---- dispatch --------------------------------------------------------- */

static int text_in(sql_type type, const char *s, size_t len, kv_arena *arena, sql_datum *out,
                   sql_error *err)
{
    if (check_utf8((const uint8_t *)s, len, arena, err) != 0)
        return -1;
    uint8_t *p = kv_arena_dup(arena, s, len);
    if (p == NULL)
        return sql__oom(arena, err);
    out->v.s.p = p;
    out->v.s.len = len;
    return char_typmod(type, out, arena, out, err);
}

int sql_datum_from_text(sql_type type, const char *s, size_t len, const sql_io_ctx *ctx,
                        kv_arena *arena, sql_datum *out, sql_error *err)
{
    *out = (sql_datum){0};
    switch (type.oid) {
    case SQL_T_BOOL:
        return bool_in(s, len, arena, out, err);
    case SQL_T_INT2:
    case SQL_T_INT4:
    case SQL_T_INT8:
        return int_in(type.oid, s, len, arena, out, err);
    case SQL_T_FLOAT4:
    case SQL_T_FLOAT8:
        return float_in(type.oid, s, len, arena, out, err);
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
        return text_in(type, s, len, arena, out, err);
    case SQL_T_BYTEA:
        if (len >= 2 && s[0] == '\\' && s[1] == 'x')
            return bytea_hex_in(s + 2, len - 2, arena, out, err);
        return bytea_escape_in(s, len, arena, out, err);
    case SQL_T_UUID:
        return uuid_in(s, len, arena, out, err);
    case SQL_T_NUMERIC:
        if (sql__numeric_parse(s, len, arena, &out->v.num, err) != 0)
            return -1;
        return sql__numeric_typmod(&out->v.num, type.typmod, arena, &out->v.num, err);
    case SQL_T_DATE:
        return sql__date_parse(s, len, ctx, arena, &out->v.date, err);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        if (sql__timestamp_parse(s, len, type.oid == SQL_T_TIMESTAMPTZ, ctx, arena, &out->v.ts,
                                 err) != 0)
            return -1;
        return sql__timestamp_typmod(out->v.ts, type.typmod, arena, &out->v.ts, err);
    case SQL_T_INTERVAL:
        return sql__interval_parse(s, len, arena, &out->v.iv, err);
    case SQL_T_VOID:
        break;
    default:
        if (sql_type_array_elem(type.oid))
            return sql__array_parse(type, s, len, ctx, arena, out, err);
        break;
    }
    return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED, "type %u is not supported",
                         (unsigned)type.oid);
}

/* Output of the fixed-size types into a stack buffer, then the arena. */
static int fixed_out(sql_type type, const sql_datum *d, const sql_tz *tz, int float_offset,
                     char buf[static SQL__DATETIME_BUF])
{
    const size_t cap = SQL__DATETIME_BUF;
    switch (type.oid) {
    case SQL_T_BOOL:
        return snprintf(buf, cap, "%s", d->v.b ? "t" : "f");
    case SQL_T_INT2:
    case SQL_T_INT4:
    case SQL_T_INT8:
        return snprintf(buf, cap, "%" PRId64, d->v.i);
    case SQL_T_FLOAT4:
    case SQL_T_FLOAT8:
        return format_float(d->v.f, type.oid == SQL_T_FLOAT4, float_offset, buf, cap);
    case SQL_T_UUID:
        return uuid_out(d->v.uuid, buf);
    case SQL_T_DATE:
        return sql__date_format(d->v.date, buf);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        return sql__timestamp_format(d->v.ts, type.oid == SQL_T_TIMESTAMPTZ, tz, buf);
    case SQL_T_INTERVAL:
        return sql__interval_format(&d->v.iv, buf);
    default:
        return -1;
    }
}

int sql_datum_to_text(sql_type type, const sql_datum *d, const sql_io_ctx *ctx, kv_arena *arena,
                      const char **out, size_t *len_out, sql_error *err)
{
    assert(!d->isnull);
    size_t len_ignored;
    size_t *len = len_out != NULL ? len_out : &len_ignored;
    char buf[SQL__DATETIME_BUF];
    char *s;
    switch (type.oid) {
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
        if ((s = kv_arena_strndup(arena, (const char *)d->v.s.p, d->v.s.len)) == NULL)
            return sql__oom(arena, err);
        *out = s, *len = d->v.s.len;
        return 0;
    case SQL_T_BYTEA:
        return bytea_out(d, arena, out, len, err);
    case SQL_T_NUMERIC:
        return sql__numeric_format(&d->v.num, arena, out, len, err);
    case SQL_T_VOID: /* pg_sleep()'s result prints as an empty string */
        *out = "", *len = 0;
        return 0;
    default: {
        if (sql_type_array_elem(type.oid))
            return sql__array_format(type, d, ctx, arena, out, len, err);
        int n = fixed_out(type, d, ctx != NULL ? ctx->tz : NULL,
                          ctx != NULL ? ctx->float_digits_offset : 0, buf);
        if (n < 0)
            return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                 "type %u is not supported", (unsigned)type.oid);
        if ((s = kv_arena_dup(arena, buf, (size_t)n + 1)) == NULL)
            return sql__oom(arena, err);
        *out = s, *len = (size_t)n;
        return 0;
    }
    }
}

int sql_datum_coerce(sql_type type, const sql_datum *in, kv_arena *arena, sql_datum *out,
                     sql_error *err)
{
    if (in->isnull) {
        *out = *in;
        return 0;
    }
    switch (type.oid) {
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
        return char_typmod(type, in, arena, out, err);
    case SQL_T_NUMERIC:
        *out = *in;
        return sql__numeric_typmod(&in->v.num, type.typmod, arena, &out->v.num, err);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        *out = *in;
        return sql__timestamp_typmod(in->v.ts, type.typmod, arena, &out->v.ts, err);
    default:
        if (sql_type_array_elem(type.oid))
            return sql__array_coerce(type, in, arena, out, err);
        *out = *in;
        return 0;
    }
}
