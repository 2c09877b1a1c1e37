/*
 * datum_array.c - array values of the types module: PostgreSQL 15's
 * text form (array_in / array_out), binary form (array_send /
 * array_recv, which the row value encoding also stores), the btree
 * order and hash, deep copies and element typmods.
 *
 * Only one-dimensional arrays exist here: input with more dimensions is
 * refused with 0A000, never flattened. Elements are ordinary datums of
 * the element type, so every element operation reuses that type's own
 * functions.
 *
 * Memory: every array and element payload produced lives in the arena
 * passed in; inputs are borrowed for the call.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/types_int.h"

int sql__array_build(sql_type_id elem, const sql_datum *elems, int32_t n, int32_t lbound,
                     kv_arena *arena, sql_datum *out, sql_error *err)
{
    sql_array *a = kv_arena_alloc(arena, sizeof *a);
    sql_datum *v = kv_arena_alloc(arena, (n ? (size_t)n : 1) * sizeof *v);

    assert(n >= 0);
    if (!a || !v)
        return sql__oom(arena, err);
    if (n)
        memcpy(v, elems, (size_t)n * sizeof *v);
    *a = (sql_array){.elem = elem, .n = n, .lbound = lbound, .elems = v};
    *out = (sql_datum){.v.arr = a};
    return 0;
}

int sql_array_make(sql_type_id elem, const sql_datum *elems, int32_t n, kv_arena *arena,
                   sql_datum *out, sql_error *err)
{
    return sql__array_build(elem, elems, n, 1, arena, out, err);
}

/* ---- text input --------------------------------------------------------- */

/* 22P02 malformed array literal with PostgreSQL's detail. */
static int malformed(const char *s, size_t len, kv_arena *arena, sql_error *err, const char *detail,
                     char c)
{
    sql_error_set(err, arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                  "malformed array literal: \"%.*s\"", (int)len, s);
    sql_error_detail(err, arena, detail, c);
    return -1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The parser's position in the literal. */
typedef struct in_state {
    const char *s;
    size_t len, i;
    size_t body; /* where the braces start: errors inside name the rest */
    kv_arena *arena;
    sql_error *err;
} in_state;

static void skip_space(in_state *st)
{
    while (st->i < st->len && is_space(st->s[st->i]))
        st->i++;
}

/* PostgreSQL names the text from the opening brace in these. */
static int body_error(in_state *st, const char *detail, char c)
{
    return malformed(st->s + st->body, st->len - st->body, st->arena, st->err, detail, c);
}

static int unexpected(in_state *st)
{
    if (st->i >= st->len)
        return body_error(st, "Unexpected end of input.", 0);
    return body_error(st, "Unexpected \"%c\" character.", st->s[st->i]);
}

/* One bound of `[lo:hi]`: an optionally signed integer at st->i. */
static bool dim_bound(in_state *st, long *out)
{
    char buf[24];
    size_t n = 0;
    char *end;

    for (; st->i + n < st->len && n < sizeof buf - 1; n++) {
        char c = st->s[st->i + n];
        if (!(c == '+' || c == '-' ? n == 0 : c >= '0' && c <= '9'))
            break;
    }
    memcpy(buf, st->s + st->i, n);
    buf[n] = 0;
    *out = strtol(buf, &end, 10);
    if (n == 0 || *end)
        return false;
    st->i += n;
    return true;
}

/* `[lo:hi]=` (or `[hi]=`) before the braces, as PostgreSQL's array_in
 * reads it: *lbound and the element count it promises (*count, -1 when
 * there is no decoration). More than one dimension is 0A000. */
static int dimensions(in_state *st, int32_t *lbound, int64_t *count)
{
    long lo = 1, hi;

    *lbound = 1;
    *count = -1;
    if (st->i >= st->len || st->s[st->i] != '[')
        return 0;
    st->i++;
    if (!dim_bound(st, &hi))
        return malformed(st->s, st->len, st->arena, st->err,
                         "\"[\" must introduce explicitly-specified array dimensions.", 0);
    if (st->i < st->len && st->s[st->i] == ':') {
        lo = hi;
        st->i++;
        if (!dim_bound(st, &hi))
            return malformed(st->s, st->len, st->arena, st->err, "Missing array dimension value.",
                             0);
    }
    if (st->i >= st->len || st->s[st->i] != ']')
        return malformed(st->s, st->len, st->arena, st->err,
                         "Missing \"]\" after array dimensions.", 0);
    st->i++;
    if (hi < lo)
        return sql_error_set(st->err, st->arena, SQL_STATE_ARRAY_SUBSCRIPT_ERROR,
                             "upper bound cannot be less than lower bound");
    skip_space(st);
    if (st->i < st->len && st->s[st->i] == '[')
        return sql_error_set(st->err, st->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "multidimensional arrays are not supported yet");
    if (st->i >= st->len || st->s[st->i] != '=')
        return malformed(st->s, st->len, st->arena, st->err,
                         "Missing \"=\" after array dimensions.", 0);
    st->i++;
    skip_space(st);
    if (lo < INT32_MIN || hi > INT32_MAX)
        return sql_error_set(st->err, st->arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                             "array size exceeds the maximum allowed (134217727)");
    *lbound = (int32_t)lo;
    *count = hi - lo + 1;
    return 0;
}

/* A '{' where an element starts. PostgreSQL takes a well-formed nested
 * literal as a multidimensional array, which this module refuses (0A000);
 * '{{a},b}' and the like are malformed there too. */
static int multidimensional(in_state *st)
{
    int depth = 1; /* inside the outer braces */

    for (size_t i = st->i; i < st->len && depth > 0; i++) {
        char c = st->s[i];
        depth += c == '{' ? 1 : c == '}' ? -1 : 0;
        if (depth == 1 && c != '}' && c != ',' && !is_space(c))
            return body_error(st, "Unexpected array element.", 0);
    }
    return sql_error_set(st->err, st->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                         "multidimensional arrays are not supported yet");
}

/* One element's text, unquoted and unescaped, into a buffer in the
 * arena; *is_null for an unquoted NULL. Leaves st at the ',' or '}'. */
static int element(in_state *st, char **out, size_t *out_len, bool *is_null)
{
    char *buf = kv_arena_alloc(st->arena, st->len - st->i + 1);
    size_t n = 0, keep = 0; /* keep: length up to the last escaped or quoted char */
    bool quoted = false, in_quotes = false, escaped = false;

    if (!buf)
        return sql__oom(st->arena, st->err);
    for (; st->i < st->len; st->i++) {
        char c = st->s[st->i];
        if (c == '\\') {
            if (++st->i >= st->len)
                break;
            buf[n++] = st->s[st->i];
            keep = n;
            escaped = true;
        } else if (c == '"') {
            if (!in_quotes && (quoted || n > 0))
                return body_error(st, "Unexpected array element.", 0);
            in_quotes = !in_quotes;
            quoted = true;
            keep = n;
        } else if (in_quotes) {
            buf[n++] = c;
            keep = n;
        } else if (c == ',' || c == '}') {
            break;
        } else if (c == '{') {
            return unexpected(st);
        } else if (quoted && !is_space(c)) {
            return body_error(st, "Unexpected array element.", 0);
        } else if (!is_space(c) || n > 0) {
            buf[n++] = c;
            if (!is_space(c))
                keep = n;
        }
    }
    if (st->i >= st->len || in_quotes)
        return unexpected(st);
    if (keep == 0 && !quoted)
        return unexpected(st); /* an empty element: "{1,,2}" */
    buf[keep] = 0;
    *is_null = !quoted && !escaped && keep == 4 && strncasecmp(buf, "NULL", 4) == 0;
    *out = buf;
    *out_len = keep;
    return 0;
}

/* The elements between the braces, each through the element type's
 * input function; st is just past the '{'. */
static int elements(in_state *st, sql_type elem, const sql_io_ctx *ctx, sql_datum **out, int32_t *n)
{
    size_t cap = 8;
    sql_datum *v = kv_arena_alloc(st->arena, cap * sizeof *v);

    *n = 0;
    if (!v)
        return sql__oom(st->arena, st->err);
    skip_space(st);
    if (st->i < st->len && st->s[st->i] == '{')
        return multidimensional(st);
    if (st->i < st->len && st->s[st->i] == '}') {
        st->i++;
        *out = v;
        return 0;
    }
    for (;;) {
        char *text = NULL;
        size_t len = 0;
        bool is_null = false;
        if (element(st, &text, &len, &is_null) < 0)
            return -1;
        if ((size_t)*n == cap) {
            sql_datum *w = kv_arena_alloc(st->arena, 2 * cap * sizeof *w);
            if (!w)
                return sql__oom(st->arena, st->err);
            memcpy(w, v, cap * sizeof *w);
            v = w, cap *= 2;
        }
        if (is_null)
            v[*n] = (sql_datum){.isnull = true};
        else if (sql_datum_from_text(elem, text, len, ctx, st->arena, &v[*n], st->err) < 0)
            return -1;
        ++*n;
        if (st->s[st->i++] == '}')
            break;
    }
    *out = v;
    return 0;
}

int sql__array_parse(sql_type type, const char *s, size_t len, const sql_io_ctx *ctx,
                     kv_arena *arena, sql_datum *out, sql_error *err)
{
    in_state st = {.s = s, .len = len, .arena = arena, .err = err};
    sql_type elem = {sql_type_array_elem(type.oid), type.typmod};
    sql_datum *v = NULL;
    int32_t n = 0, lbound;
    int64_t count;

    assert(elem.oid != 0);
    skip_space(&st);
    if (dimensions(&st, &lbound, &count) < 0)
        return -1;
    if (st.i >= st.len || s[st.i] != '{')
        return malformed(s, len, arena, err,
                         count < 0 ? "Array value must start with \"{\" or dimension information."
                                   : "Array contents must start with \"{\".",
                         0);
    st.body = st.i++;
    if (elements(&st, elem, ctx, &v, &n) < 0)
        return -1;
    skip_space(&st);
    if (st.i < st.len)
        return body_error(&st, "Junk after closing right brace.", 0);
    if (count >= 0 && count != n)
        return malformed(s, len, arena, err,
                         "Specified array dimensions do not match array contents.", 0);
    return sql__array_build(elem.oid, v, n, n ? lbound : 1, arena, out, err);
}

/* ---- text output -------------------------------------------------------- */

/* Whether array_out puts an element's text in double quotes. */
static bool needs_quotes(const char *s, size_t len)
{
    if (len == 0 || (len == 4 && strncasecmp(s, "NULL", 4) == 0))
        return true;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '{' || s[i] == '}' || s[i] == '"' || s[i] == ',' || s[i] == '\\' ||
            is_space(s[i]))
            return true;
    return false;
}

int sql__array_format(sql_type type, const sql_datum *d, const sql_io_ctx *ctx, kv_arena *arena,
                      const char **out, size_t *len_out, sql_error *err)
{
    const sql_array *a = d->v.arr;
    sql_type elem = {a->elem, type.typmod};
    const char **texts = kv_arena_alloc(arena, (a->n ? (size_t)a->n : 1) * sizeof *texts);
    size_t *lens = kv_arena_alloc(arena, (a->n ? (size_t)a->n : 1) * sizeof *lens);
    size_t total = 64; /* braces and the [lo:hi]= decoration */
    char *buf, *p;

    if (!texts || !lens)
        return sql__oom(arena, err);
    for (int32_t i = 0; i < a->n; i++) {
        if (a->elems[i].isnull)
            texts[i] = "NULL", lens[i] = 4;
        else if (sql_datum_to_text(elem, &a->elems[i], ctx, arena, &texts[i], &lens[i], err) < 0)
            return -1;
        total += 2 * lens[i] + 3; /* every byte escaped, quotes, comma */
    }
    if (!(buf = kv_arena_alloc(arena, total)))
        return sql__oom(arena, err);
    p = buf;
    if (a->n && a->lbound != 1)
        p += sprintf(p, "[%d:%lld]=", (int)a->lbound, (long long)a->lbound + a->n - 1);
    *p++ = '{';
    for (int32_t i = 0; i < a->n; i++) {
        bool q = !a->elems[i].isnull && needs_quotes(texts[i], lens[i]);
        if (i)
            *p++ = ',';
        if (q)
            *p++ = '"';
        for (size_t k = 0; k < lens[i]; k++) {
            if (q && (texts[i][k] == '"' || texts[i][k] == '\\'))
                *p++ = '\\';
            *p++ = texts[i][k];
        }
        if (q)
            *p++ = '"';
    }
    *p++ = '}';
    *p = 0;
    *out = buf;
    *len_out = (size_t)(p - buf);
    return 0;
}

/* ---- binary form -------------------------------------------------------- */

/* array_send: int32 ndim (0 or 1), int32 flags (1: has NULLs), uint32
 * element type oid, per dimension int32 count and int32 lower bound,
 * then per element int32 length (-1: NULL) and the element's send bytes.
 * All integers big-endian. */
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8),
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int sql__array_send(sql_type type, const sql_datum *d, kv_arena *arena, const uint8_t **out,
                    size_t *len_out, sql_error *err)
{
    const sql_array *a = d->v.arr;
    sql_type elem = {a->elem, type.typmod};
    const uint8_t **bytes = kv_arena_alloc(arena, (a->n ? (size_t)a->n : 1) * sizeof *bytes);
    size_t *lens = kv_arena_alloc(arena, (a->n ? (size_t)a->n : 1) * sizeof *lens);
    size_t total = 12 + (a->n ? 8 : 0);
    bool has_null = false;
    uint8_t *buf, *p;

    if (!bytes || !lens)
        return sql__oom(arena, err);
    for (int32_t i = 0; i < a->n; i++) {
        has_null |= a->elems[i].isnull;
        if (!a->elems[i].isnull &&
            sql_datum_send(elem, &a->elems[i], arena, &bytes[i], &lens[i], err) < 0)
            return -1;
        total += 4 + (a->elems[i].isnull ? 0 : lens[i]);
    }
    if (!(p = buf = kv_arena_alloc(arena, total)))
        return sql__oom(arena, err);
    put32(p, a->n ? 1 : 0), put32(p + 4, has_null), put32(p + 8, (uint32_t)a->elem);
    p += 12;
    if (a->n) {
        put32(p, (uint32_t)a->n), put32(p + 4, (uint32_t)a->lbound);
        p += 8;
    }
    for (int32_t i = 0; i < a->n; i++) {
        put32(p, a->elems[i].isnull ? UINT32_MAX : (uint32_t)lens[i]);
        p += 4;
        if (!a->elems[i].isnull && lens[i])
            memcpy(p, bytes[i], lens[i]);
        p += a->elems[i].isnull ? 0 : lens[i];
    }
    *out = buf;
    *len_out = total;
    return 0;
}

static int short_data(kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION,
                         "insufficient data left in message");
}

/* array_recv's header checks: *n elements from *lbound; p past it. */
static int recv_header(sql_type_id want, const uint8_t **p, const uint8_t *end, int32_t *n,
                       int32_t *lbound, kv_arena *arena, sql_error *err)
{
    if (end - *p < 12)
        return short_data(arena, err);
    int32_t ndim = (int32_t)get32(*p), flags = (int32_t)get32(*p + 4);
    uint32_t elem = get32(*p + 8);
    *p += 12;
    if (ndim < 0 || ndim > 6)
        return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION,
                             "invalid number of dimensions: %d", (int)ndim);
    if (ndim > 1)
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "multidimensional arrays are not supported yet");
    if (flags != 0 && flags != 1)
        return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION,
                             "invalid array flags");
    if (elem != (uint32_t)want)
        return sql_error_set(err, arena, SQL_STATE_DATATYPE_MISMATCH,
                             "binary data has array element type %u (%s) instead of expected "
                             "%u (%s)",
                             elem, sql_type_known(elem) ? sql_type_typname(elem) : "???",
                             (unsigned)want, sql_type_typname(want));
    *n = 0, *lbound = 1;
    if (ndim == 0)
        return 0;
    if (end - *p < 8)
        return short_data(arena, err);
    *n = (int32_t)get32(*p), *lbound = (int32_t)get32(*p + 4);
    *p += 8;
    if (*n < 0 || (int64_t)*lbound + *n - 1 > INT32_MAX)
        return sql_error_set(err, arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                             "array size exceeds the maximum allowed (134217727)");
    return 0;
}

int sql__array_recv(sql_type type, const uint8_t *buf, size_t len, kv_arena *arena, sql_datum *out,
                    sql_error *err)
{
    const uint8_t *p = buf, *end = buf + len;
    sql_type elem = {sql_type_array_elem(type.oid), type.typmod};
    int32_t n = 0, lbound = 1;
    sql_datum *v;

    if (recv_header(elem.oid, &p, end, &n, &lbound, arena, err) < 0)
        return -1;
    if ((size_t)n > len / 4) /* every element takes at least its length word */
        return short_data(arena, err);
    if (!(v = kv_arena_alloc(arena, (n ? (size_t)n : 1) * sizeof *v)))
        return sql__oom(arena, err);
    for (int32_t i = 0; i < n; i++) {
        if (end - p < 4)
            return short_data(arena, err);
        int32_t elen = (int32_t)get32(p);
        p += 4;
        if (elen == -1) {
            v[i] = (sql_datum){.isnull = true};
            continue;
        }
        if (elen < -1)
            return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION,
                                 "insufficient data left in message");
        if (end - p < elen)
            return short_data(arena, err);
        if (sql_datum_recv(elem, p, (size_t)elen, arena, &v[i], err) < 0)
            return -1;
        p += elen;
    }
    if (p != end)
        return sql_error_set(err, arena, SQL_STATE_INVALID_BINARY_REPRESENTATION,
                             "incorrect binary data format");
    return sql__array_build(elem.oid, v, n, n ? lbound : 1, arena, out, err);
}

/* ---- order, hash, copy, typmod ------------------------------------------ */

/* PostgreSQL's array_cmp: element by element, a NULL element above any
 * value; then the shorter array first; then the lower bound. */
int sql__array_cmp(const sql_array *a, const sql_array *b)
{
    int32_t n = a->n < b->n ? a->n : b->n;

    assert(a->elem == b->elem);
    for (int32_t i = 0; i < n; i++) {
        int c = sql_datum_cmp_nulls(a->elem, &a->elems[i], &b->elems[i], false);
        if (c)
            return c;
    }
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    return (a->lbound > b->lbound) - (a->lbound < b->lbound);
}

uint64_t sql__array_hash(const sql_array *a, uint64_t seed)
{
    uint64_t h = seed ^ (uint64_t)a->n ^ ((uint64_t)(uint32_t)a->lbound << 32);

    for (int32_t i = 0; i < a->n; i++)
        h = sql_datum_hash(a->elem, &a->elems[i], h);
    return h;
}

int sql__array_copy(const sql_datum *in, kv_arena *arena, sql_datum *out, sql_error *err)
{
    const sql_array *a = in->v.arr;
    sql_datum *v = kv_arena_alloc(arena, (a->n ? (size_t)a->n : 1) * sizeof *v);

    if (!v)
        return sql__oom(arena, err);
    for (int32_t i = 0; i < a->n; i++)
        if (sql_datum_copy(a->elem, &a->elems[i], arena, &v[i], err) < 0)
            return -1;
    return sql__array_build(a->elem, v, a->n, a->lbound, arena, out, err);
}

int sql__array_coerce(sql_type type, const sql_datum *in, kv_arena *arena, sql_datum *out,
                      sql_error *err)
{
    const sql_array *a = in->v.arr;
    sql_type elem = {a->elem, type.typmod};
    sql_datum *v;

    if (type.typmod < 0) {
        *out = *in;
        return 0;
    }
    if (!(v = kv_arena_alloc(arena, (a->n ? (size_t)a->n : 1) * sizeof *v)))
        return sql__oom(arena, err);
    for (int32_t i = 0; i < a->n; i++)
        if (sql_datum_coerce(elem, &a->elems[i], arena, &v[i], err) < 0)
            return -1;
    return sql__array_build(a->elem, v, a->n, a->lbound, arena, out, err);
}
