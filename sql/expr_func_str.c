/*
 * expr_func_str.c - the string functions beyond the basic ones of
 * expr_func.c: md5, reverse, initcap, chr, ascii, translate, overlay,
 * to_hex, format, quote_ident/quote_literal/quote_nullable, starts_with,
 * bit_length.
 *
 * Each follows PostgreSQL 15's varlena.c/oracle_compat.c: characters are
 * UTF-8 code points, case mapping is C.UTF-8's, errors carry the same
 * SQLSTATE and wording. quote_ident asks libpg_query's copy of the
 * PostgreSQL keyword table which words need quotes, so it agrees with the
 * grammar we parse with. Every datum produced lives in ctx->arena.
 */
#include <assert.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "sql/expr_int.h"

/* libpg_query's keyword table (PostgreSQL's common/kwlookup.h): the
 * index of a keyword or -1, and its category per index. */
typedef struct ScanKeywordList ScanKeywordList;
extern const ScanKeywordList ScanKeywords;
extern const uint8_t ScanKeywordCategories[];
int ScanKeywordLookup(const char *str, const ScanKeywordList *keywords);
#define UNRESERVED_KEYWORD 0

/* An arena buffer of `cap` bytes for a result; NULL after setting 53200. */
static uint8_t *result_buf(sql_eval_ctx *ctx, size_t cap)
{
    uint8_t *p = kv_arena_alloc(ctx->arena, cap ? cap : 1);
    if (!p)
        sql__fn_oom(ctx);
    return p;
}

static void set_text(sql_datum *out, const uint8_t *p, size_t len)
{
    out->isnull = false;
    out->v.s.p = p;
    out->v.s.len = len;
}

static int md5_fn(FN_ARGS)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char buf[2 * EVP_MAX_MD_SIZE];

    if (!EVP_Digest(args[0].v.s.p, args[0].v.s.len, digest, &n, EVP_md5(), NULL))
        return sql__fn_fail(ctx, SQL_STATE_INTERNAL_ERROR, "could not compute MD5 hash");
    for (unsigned i = 0; i < n; i++) {
        buf[2 * i] = hex[digest[i] >> 4];
        buf[2 * i + 1] = hex[digest[i] & 15];
    }
    return sql__text_out(ctx, buf, 2 * n, out);
}

static int reverse_fn(FN_ARGS)
{
    const uint8_t *p = args[0].v.s.p;
    size_t len = args[0].v.s.len;
    uint8_t *q = result_buf(ctx, len);

    if (!q)
        return -1;
    for (size_t i = 0, w; i < len; i += w) {
        w = sql__utf8_width(p[i]);
        memcpy(q + len - i - w, p + i, w);
    }
    set_text(out, q, len);
    return 0;
}

/* Upper case after a non-alphanumeric character, lower case elsewhere. */
static int initcap_fn(FN_ARGS)
{
    const uint8_t *p = args[0].v.s.p;
    uint8_t *q = result_buf(ctx, 4 * args[0].v.s.len);
    bool in_word = false;
    size_t n = 0;

    if (!q)
        return -1;
    for (size_t i = 0, w; i < args[0].v.s.len; i += w) {
        w = sql__utf8_width(p[i]);
        uint32_t c = sql__utf8_decode(p + i, w);
        n += sql__utf8_encode(sql__map_case(c, !in_word), q + n);
        in_word = sql__is_alnum(c);
    }
    set_text(out, q, n);
    return 0;
}

static int chr_fn(FN_ARGS)
{
    int64_t c = args[0].v.i;
    uint8_t *q = result_buf(ctx, 4);

    if (!q)
        return -1;
    if (c < 0)
        return sql__fn_fail(ctx, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                            "character number must be positive");
    if (c == 0)
        return sql__fn_fail(ctx, SQL_STATE_PROGRAM_LIMIT_EXCEEDED, "null character not permitted");
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                             "requested character %s for encoding: %" PRId64,
                             c > 0x10FFFF ? "too large" : "not valid", c);
    set_text(out, q, sql__utf8_encode((uint32_t)c, q));
    return 0;
}

static int ascii_fn(FN_ARGS)
{
    const uint8_t *p = args[0].v.s.p;

    out->isnull = false;
    out->v.i = args[0].v.s.len ? sql__utf8_decode(p, sql__utf8_width(p[0])) : 0;
    return 0;
}

/* The byte offset of the character at p (width w) in s, or -1; *index
 * gets its character index. */
static int64_t char_index(const sql_datum *s, const uint8_t *p, size_t w, int64_t *index)
{
    *index = 0;
    for (size_t i = 0; i < s->v.s.len; i += sql__utf8_width(s->v.s.p[i]), ++*index)
        if (sql__utf8_width(s->v.s.p[i]) == w && memcmp(s->v.s.p + i, p, w) == 0)
            return (int64_t)i;
    return -1;
}

/* translate(s, from, to): characters of `from` become the character at
 * the same index of `to`, or vanish when `to` is shorter. */
static int translate_fn(FN_ARGS)
{
    const sql_datum *s = &args[0], *from = &args[1], *to = &args[2];
    uint8_t *q = result_buf(ctx, s->v.s.len * 4);
    size_t n = 0;

    if (!q)
        return -1;
    for (size_t i = 0, w; i < s->v.s.len; i += w) {
        int64_t idx;
        w = sql__utf8_width(s->v.s.p[i]);
        if (char_index(from, s->v.s.p + i, w, &idx) < 0) {
            memcpy(q + n, s->v.s.p + i, w);
            n += w;
            continue;
        }
        size_t at = sql__utf8_offset(to->v.s.p, to->v.s.len, idx);
        if (at < to->v.s.len) {
            size_t tw = sql__utf8_width(to->v.s.p[at]);
            memcpy(q + n, to->v.s.p + at, tw);
            n += tw;
        }
    }
    set_text(out, q, n);
    return 0;
}

/* overlay(s placing r from start [for count]) = the characters before
 * start, r, then those from start + count on (text_overlay). */
static int overlay_impl(sql_eval_ctx *ctx, const sql_datum *args, int64_t start, int64_t count,
                        sql_datum *out)
{
    const sql_datum *s = &args[0], *r = &args[1];
    int64_t rest;

    if (__builtin_add_overflow(start, count, &rest) || rest > INT32_MAX || rest < INT32_MIN)
        return sql__fn_fail(ctx, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE, "integer out of range");
    if (start < 1)
        return sql__fn_fail(ctx, SQL_STATE_SUBSTRING_ERROR,
                            "negative substring length not allowed");
    size_t head = sql__utf8_offset(s->v.s.p, s->v.s.len, start - 1);
    size_t tail = rest > 1 ? sql__utf8_offset(s->v.s.p, s->v.s.len, rest - 1) : 0;
    uint8_t *q = result_buf(ctx, head + r->v.s.len + s->v.s.len - tail);

    if (!q)
        return -1;
    memcpy(q, s->v.s.p, head);
    memcpy(q + head, r->v.s.p, r->v.s.len);
    memcpy(q + head + r->v.s.len, s->v.s.p + tail, s->v.s.len - tail);
    set_text(out, q, head + r->v.s.len + s->v.s.len - tail);
    return 0;
}

static int overlay3(FN_ARGS)
{
    return overlay_impl(ctx, args, args[2].v.i, sql__utf8_count(args[1].v.s.p, args[1].v.s.len),
                        out);
}

static int overlay4(FN_ARGS)
{
    return overlay_impl(ctx, args, args[2].v.i, args[3].v.i, out);
}

/* to_hex of the two's complement at the argument's width. */
static int to_hex_fn(FN_ARGS)
{
    char buf[24];
    uint64_t v = (uint64_t)args[0].v.i;

    if (e->args[0]->type.oid == SQL_T_INT4)
        v &= UINT32_MAX;
    return sql__text_out(ctx, buf, (size_t)snprintf(buf, sizeof buf, "%" PRIx64, v), out);
}

static int starts_with_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.b = args[0].v.s.len >= args[1].v.s.len &&
               memcmp(args[0].v.s.p, args[1].v.s.p, args[1].v.s.len) == 0;
    return 0;
}

static int bit_length_fn(FN_ARGS)
{
    out->isnull = false;
    out->v.i = (int64_t)args[0].v.s.len * 8;
    return 0;
}

/* s with every `q` doubled and wrapped in q; backslashes doubled too
 * (with an E prefix) when `backslash` (quote_literal). */
static int quote_impl(sql_eval_ctx *ctx, const sql_datum *s, char q, bool backslash, sql_datum *out)
{
    bool has_bs = backslash && memchr(s->v.s.p, '\\', s->v.s.len);
    uint8_t *buf = result_buf(ctx, 2 * s->v.s.len + 3);
    size_t n = 0;

    if (!buf)
        return -1;
    if (has_bs)
        buf[n++] = 'E';
    buf[n++] = (uint8_t)q;
    for (size_t i = 0; i < s->v.s.len; i++) {
        uint8_t c = s->v.s.p[i];
        if (c == q || (has_bs && c == '\\'))
            buf[n++] = c;
        buf[n++] = c;
    }
    buf[n++] = (uint8_t)q;
    set_text(out, buf, n);
    return 0;
}

/* Whether identifier s must be quoted: anything but lower-case letters,
 * digits and underscores (no leading digit), or a keyword that is not
 * unreserved (quote_identifier in ruleutils.c). */
static bool ident_needs_quotes(sql_eval_ctx *ctx, const sql_datum *s)
{
    const uint8_t *p = s->v.s.p;
    size_t len = s->v.s.len;

    if (len == 0 || !((p[0] >= 'a' && p[0] <= 'z') || p[0] == '_'))
        return true;
    for (size_t i = 0; i < len; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
            return true;
    char *z = kv_arena_strndup(ctx->arena, (const char *)p, len);
    int kw = z ? ScanKeywordLookup(z, &ScanKeywords) : -1;
    return kw >= 0 && ScanKeywordCategories[kw] != UNRESERVED_KEYWORD;
}

static int quote_ident_fn(FN_ARGS)
{
    if (!ident_needs_quotes(ctx, &args[0])) {
        *out = args[0];
        return 0;
    }
    return quote_impl(ctx, &args[0], '"', false, out);
}

static int quote_literal_fn(FN_ARGS)
{
    sql_datum t;

    if (sql__arg_text(ctx, e, args, 0, &t) < 0)
        return -1;
    return quote_impl(ctx, &t, '\'', true, out);
}

/* quote_nullable: NULL becomes the word NULL (the function is not strict). */
static int quote_nullable_fn(FN_ARGS)
{
    if (args[0].isnull)
        return sql__text_out(ctx, "NULL", 4, out);
    return quote_literal_fn(ctx, e, args, out);
}

/* ---- format() ---------------------------------------------------------- */

/* The state of one format() call: the output so far (an arena buffer
 * regrown by doubling) and the next sequential argument. */
typedef struct fmt_state {
    sql_eval_ctx *ctx;
    const sql_bexpr *e;
    const sql_datum *args;
    sql__buf out;
    int next_arg; /* index into args; args[0] is the format string */
} fmt_state;

static int fmt_put(fmt_state *st, const void *p, size_t n)
{
    return sql__buf_put(&st->out, p, n);
}

static int fmt_error(fmt_state *st, const char *msg, bool hint)
{
    sql__fn_fail(st->ctx, SQL_STATE_INVALID_PARAMETER_VALUE, msg);
    if (hint)
        sql_error_hint(st->ctx->err, st->ctx->arena, "For a single \"%%\" use \"%%%%\".");
    return -1;
}

/* Digits at *p into *v (up to INT32_MAX); whether there were any. */
static int fmt_number(fmt_state *st, const char **p, const char *end, int64_t *v, bool *any)
{
    *v = 0;
    *any = false;
    for (; *p < end && **p >= '0' && **p <= '9'; ++*p, *any = true)
        if ((*v = *v * 10 + (**p - '0')) > INT32_MAX)
            return fmt_error(st, "number is out of range", false);
    return 0;
}

/* One conversion's value: argument `arg` (1-based) as text, quoted per
 * `type`; *isnull for a NULL rendered as nothing (%s). */
static int fmt_value(fmt_state *st, int64_t arg, char type, sql_datum *v)
{
    sql_eval_ctx *ctx = st->ctx;

    if (arg >= st->e->nargs)
        return fmt_error(st, "too few arguments for format()", false);
    if (st->args[arg].isnull) {
        if (type == 'I')
            return sql__fn_fail(ctx, SQL_STATE_NULL_VALUE_NOT_ALLOWED,
                                "null values cannot be formatted as an SQL identifier");
        *v =
            (sql_datum){.v.s = {(const uint8_t *)(type == 'L' ? "NULL" : ""), type == 'L' ? 4 : 0}};
        return 0;
    }
    if (sql__arg_text(ctx, st->e, st->args, (int)arg, v) < 0)
        return -1;
    if (type == 'I')
        return quote_ident_fn(ctx, NULL, v, v);
    if (type == 'L')
        return quote_impl(ctx, v, '\'', true, v);
    return 0;
}

/* Emits v padded with spaces to `width` characters (left-aligned when
 * `left`). */
static int fmt_pad(fmt_state *st, const sql_datum *v, int64_t width, bool left)
{
    int64_t chars = sql__utf8_count(v->v.s.p, v->v.s.len);

    for (int64_t i = chars; !left && i < width; i++)
        if (fmt_put(st, " ", 1) < 0)
            return -1;
    if (fmt_put(st, v->v.s.p, v->v.s.len) < 0)
        return -1;
    for (int64_t i = chars; left && i < width; i++)
        if (fmt_put(st, " ", 1) < 0)
            return -1;
    return 0;
}

/* An argument position "n$" at *p, if one is there; *arg untouched
 * otherwise. */
static int fmt_position(fmt_state *st, const char **p, const char *end, int64_t *arg)
{
    const char *start = *p;
    int64_t n;
    bool any;

    if (fmt_number(st, p, end, &n, &any) < 0)
        return -1;
    if (any && *p < end && **p == '$') {
        if (n == 0)
            return fmt_error(st, "format specifies argument 0, but arguments are numbered from 1",
                             false);
        ++*p;
        *arg = n;
        return 1;
    }
    *p = start;
    return 0;
}

/* A width "*" or "*n$" argument: its integer value. */
static int fmt_star_width(fmt_state *st, const char **p, const char *end, int64_t *width,
                          bool *left)
{
    int64_t arg = st->next_arg;

    ++*p;
    int rc = fmt_position(st, p, end, &arg);
    if (rc < 0)
        return -1;
    if (rc == 0)
        st->next_arg++;
    if (arg >= st->e->nargs)
        return fmt_error(st, "too few arguments for format()", false);
    if (st->args[arg].isnull) {
        *width = 0;
        return 0;
    }
    /* an integer is taken as is, anything else read as one from its text */
    if (st->e->args[arg]->type.oid == SQL_T_INT4) {
        *width = st->args[arg].v.i;
    } else {
        sql_datum text, i4;
        if (sql__arg_text(st->ctx, st->e, st->args, (int)arg, &text) < 0 ||
            sql_datum_from_text((sql_type){SQL_T_INT4, -1}, (const char *)text.v.s.p, text.v.s.len,
                                &st->ctx->io, st->ctx->arena, &i4, st->ctx->err) < 0)
            return -1;
        *width = i4.v.i;
    }
    if (*width < 0) {
        *left = true;
        *width = -*width;
    }
    return 0;
}

/* One conversion after its '%': [n$][-][width|*[n$]]type. */
static int fmt_spec(fmt_state *st, const char **p, const char *end)
{
    int64_t arg = 0, width = 0;
    bool left = false, any;
    sql_datum v;

    if (*p < end && **p == '%') {
        ++*p;
        return fmt_put(st, "%", 1);
    }
    int rc = fmt_position(st, p, end, &arg);
    if (rc < 0)
        return -1;
    for (; *p < end && **p == '-'; ++*p)
        left = true;
    if (*p < end && **p == '*') {
        if (fmt_star_width(st, p, end, &width, &left) < 0)
            return -1;
    } else if (fmt_number(st, p, end, &width, &any) < 0) {
        return -1;
    }
    if (*p >= end)
        return fmt_error(st, "unterminated format() type specifier", true);
    if (rc == 0)
        arg = st->next_arg;
    st->next_arg = (int)arg + 1;
    char type = **p;
    if (type != 's' && type != 'I' && type != 'L') {
        size_t w = sql__utf8_width((uint8_t)type);
        sql_error_set(st->ctx->err, st->ctx->arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                      "unrecognized format() type specifier \"%.*s\"", (int)w, *p);
        sql_error_hint(st->ctx->err, st->ctx->arena, "For a single \"%%\" use \"%%%%\".");
        return -1;
    }
    ++*p;
    if (fmt_value(st, arg, type, &v) < 0)
        return -1;
    return fmt_pad(st, &v, width, left);
}

/* format(fmt, VARIADIC "any"): NULL only when fmt is NULL. */
static int format_fn(FN_ARGS)
{
    fmt_state st = {.ctx = ctx, .e = e, .args = args, .out = {.ctx = ctx}, .next_arg = 1};
    const char *p, *end;

    if (args[0].isnull) {
        *out = args[0];
        return 0;
    }
    p = (const char *)args[0].v.s.p;
    end = p + args[0].v.s.len;
    while (p < end) {
        const char *pct = memchr(p, '%', (size_t)(end - p));
        if (fmt_put(&st, p, pct ? (size_t)(pct - p) : (size_t)(end - p)) < 0)
            return -1;
        if (!pct)
            break;
        p = pct + 1;
        if (p >= end)
            return fmt_error(&st, "unterminated format() type specifier", true);
        if (fmt_spec(&st, &p, end) < 0)
            return -1;
    }
    sql__buf_text(&st.out, out);
    return 0;
}

#define S    SQL__FN_STRICT
#define T(x) SQL_T_##x
#define ANY  SQL__T_ANY

static const sql__fn str_fns[] = {
    {"md5", 1, {T(TEXT)}, T(TEXT), md5_fn, S},
    {"reverse", 1, {T(TEXT)}, T(TEXT), reverse_fn, S},
    {"initcap", 1, {T(TEXT)}, T(TEXT), initcap_fn, S},
    {"chr", 1, {T(INT4)}, T(TEXT), chr_fn, S},
    {"ascii", 1, {T(TEXT)}, T(INT4), ascii_fn, S},
    {"translate", 3, {T(TEXT), T(TEXT), T(TEXT)}, T(TEXT), translate_fn, S},
    {"overlay", 3, {T(TEXT), T(TEXT), T(INT4)}, T(TEXT), overlay3, S},
    {"overlay", 4, {T(TEXT), T(TEXT), T(INT4), T(INT4)}, T(TEXT), overlay4, S},
    {"to_hex", 1, {T(INT4)}, T(TEXT), to_hex_fn, S},
    {"to_hex", 1, {T(INT8)}, T(TEXT), to_hex_fn, S},
    {"starts_with", 2, {T(TEXT), T(TEXT)}, T(BOOL), starts_with_fn, S},
    {"bit_length", 1, {T(TEXT)}, T(INT4), bit_length_fn, S},
    {"quote_ident", 1, {T(TEXT)}, T(TEXT), quote_ident_fn, S},
    {"quote_literal", 1, {T(TEXT)}, T(TEXT), quote_literal_fn, S},
    {"quote_literal", 1, {ANY}, T(TEXT), quote_literal_fn, S},
    {"quote_nullable", 1, {T(TEXT)}, T(TEXT), quote_nullable_fn, 0},
    {"quote_nullable", 1, {ANY}, T(TEXT), quote_nullable_fn, 0},
    /* stable: the output of a timestamp argument depends on the zone */
    {"format", 1, {T(TEXT)}, T(TEXT), format_fn, SQL__FN_STABLE},
    {"format", 2, {T(TEXT), ANY}, T(TEXT), format_fn, SQL__FN_VARIADIC | SQL__FN_STABLE},
};

#undef S
#undef T
#undef ANY

const sql__fn_set sql__fn_set_str = {NULL, 0, str_fns, sizeof str_fns / sizeof *str_fns};
