/*
 * expr_regex.c - POSIX-style regular expressions: the operators ~, !~,
 * ~*, !~* on text, regexp_replace(source, pattern, replacement [, flags])
 * and substring(text FROM pattern).
 *
 * PostgreSQL uses Henry Spencer's ARE engine; we use PCRE2 (Debian
 * libpcre2-dev), whose syntax agrees with AREs for the common forms
 * (classes, bracket expressions with [:alpha:], quantifiers incl. {m,n}
 * and non-greedy ones, groups, (?:...), back references, \d \s \w, anchors,
 * lookahead). It is compiled so the remaining defaults match ARE's: '.'
 * and negated brackets match a newline, '$' matches only at the very end,
 * patterns and subjects are UTF-8. Differences are listed in docs/sql.md
 * (ARE's \m \M \y \Y \Z and [[:<:]] are not PCRE2 syntax; ARE's
 * leftmost-longest rule for alternatives is PCRE2's leftmost-first; error
 * messages quote PCRE2's wording after PostgreSQL's "invalid regular
 * expression: " prefix).
 *
 * A pattern (and flags) that are constants are compiled once at bind time
 * into the bind arena (sql__regex_prepare, kept in sql_bexpr.aux); others
 * are compiled per evaluation and freed at once. Match data is one
 * buffer per thread, released when the thread ends.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <assert.h>
#include <pcre2.h>
#include <pthread.h>
#include <string.h>

#include "sql/expr_int.h"

/* Capture groups a replacement can name: \1 .. \9, and \& for the match. */
#define MAX_GROUPS 10

/* What a flags string of regexp_replace asks for. */
typedef struct re_flags {
    uint32_t options; /* PCRE2 compile options */
    bool global;      /* 'g': replace every match */
} re_flags;

static const uint32_t BASE_OPTIONS = PCRE2_UTF | PCRE2_DOTALL | PCRE2_DOLLAR_ENDONLY;

/* PostgreSQL's parse_re_flags for the letters we can honour: c/i case,
 * n/m newline-sensitive ('.' and brackets stop at newlines, ^ $ match
 * at them), s the default, x expanded syntax; the rest are refused. */
static int parse_flags(sql_eval_ctx *ctx, const sql_datum *f, bool allow_g, re_flags *out)
{
    *out = (re_flags){BASE_OPTIONS, false};
    for (size_t i = 0; f && i < f->v.s.len; i++) {
        char c = (char)f->v.s.p[i];
        if (c == 'g' && allow_g)
            out->global = true;
        else if (c == 'i')
            out->options |= PCRE2_CASELESS;
        else if (c == 'c')
            out->options &= ~(uint32_t)PCRE2_CASELESS;
        else if (c == 'n' || c == 'm')
            out->options = (out->options & ~(uint32_t)PCRE2_DOTALL) | PCRE2_MULTILINE;
        else if (c == 's')
            out->options = (out->options | PCRE2_DOTALL) & ~(uint32_t)PCRE2_MULTILINE;
        else if (c == 'x')
            out->options |= PCRE2_EXTENDED;
        else if (strchr("bepqtw", c))
            return sql_error_set(ctx->err, ctx->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                 "regular expression option \"%c\" is not supported yet", c);
        else
            return sql_error_set(ctx->err, ctx->arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                                 "invalid regular expression option: \"%.*s\"",
                                 (int)sql__utf8_width((uint8_t)c), (const char *)f->v.s.p + i);
    }
    return 0;
}

/* ---- compiling ------------------------------------------------------- */

static void *arena_malloc(PCRE2_SIZE n, void *arena)
{
    return kv_arena_alloc(arena, n);
}

static void arena_free(void *p, void *arena)
{
    (void)p; /* the arena goes as a whole */
    (void)arena;
}

static pcre2_code *compile(const sql_datum *pat, uint32_t options, pcre2_compile_context *cc,
                           int *errcode)
{
    PCRE2_SIZE erroff;

    return pcre2_compile(pat->v.s.p, pat->v.s.len, options, errcode, &erroff, cc);
}

/* The 2201B error for PCRE2 error `code`. */
static int compile_error(sql_eval_ctx *ctx, int code)
{
    PCRE2_UCHAR msg[256];

    if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
        strcpy((char *)msg, "unknown error");
    return sql_error_set(ctx->err, ctx->arena, SQL_STATE_INVALID_REGULAR_EXPRESSION,
                         "invalid regular expression: %s", (const char *)msg);
}

/* Options a row implies before any flags argument: ~* is caseless. */
static uint32_t row_options(const sql_bexpr *b);

static bool is_regex_call(const sql_bexpr *b);

void sql__regex_prepare(kv_arena *arena, sql_bexpr *b)
{
    sql_error err = {0};
    sql_eval_ctx probe = {.arena = arena, .err = &err};
    re_flags rf;
    int code;

    if (!is_regex_call(b))
        return;
    const sql_bexpr *pat = b->args[1], *flags = b->nargs == 4 ? b->args[3] : NULL;
    if (pat->kind != SQL_BEXPR_CONST || pat->value.isnull ||
        (flags && (flags->kind != SQL_BEXPR_CONST || flags->value.isnull)))
        return;
    if (parse_flags(&probe, flags ? &flags->value : NULL, true, &rf) < 0)
        return;
    pcre2_general_context *gc = pcre2_general_context_create(arena_malloc, arena_free, arena);
    pcre2_compile_context *cc = gc ? pcre2_compile_context_create(gc) : NULL;
    if (cc)
        b->aux = compile(&pat->value, rf.options | row_options(b), cc, &code);
}

/* The compiled pattern of call `e` over args: its prepared one, or one
 * compiled now that the caller frees with release(). */
static int get_code(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args,
                    const re_flags *rf, pcre2_code **out)
{
    int code;

    if (e->aux) {
        *out = (pcre2_code *)e->aux;
        return 0;
    }
    *out = compile(&args[1], rf->options | row_options(e), NULL, &code);
    return *out ? 0 : compile_error(ctx, code);
}

static void release(const sql_bexpr *e, pcre2_code *code)
{
    if (code != e->aux)
        pcre2_code_free(code);
}

/* ---- matching -------------------------------------------------------- */

static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

static void md_free(void *md)
{
    pcre2_match_data_free(md);
}

static void md_key_init(void)
{
    int rc = pthread_key_create(&md_key, md_free);
    assert(rc == 0);
    (void)rc;
}

/* This thread's match data (MAX_GROUPS pairs); NULL on out of memory.
 * Valid until the thread ends; one match at a time uses it. */
static pcre2_match_data *thread_md(sql_eval_ctx *ctx)
{
    pcre2_match_data *md;

    pthread_once(&md_once, md_key_init);
    md = pthread_getspecific(md_key);
    if (!md) {
        md = pcre2_match_data_create(MAX_GROUPS, NULL);
        if (!md || pthread_setspecific(md_key, md) != 0) {
            pcre2_match_data_free(md);
            sql__fn_oom(ctx);
            return NULL;
        }
    }
    return md;
}

/* Matches code against s from byte `from`: 1 match (ovector in md), 0
 * none, -1 error set. */
static int match(sql_eval_ctx *ctx, pcre2_code *code, const sql_datum *s, size_t from,
                 pcre2_match_data *md)
{
    int rc = pcre2_match(code, s->v.s.p, s->v.s.len, from, 0, md, NULL);

    if (rc >= 0) /* 0: more groups than MAX_GROUPS; the first ones are set */
        return 1;
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    return compile_error(ctx, rc);
}

static int regex_test(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args, bool negate,
                      sql_datum *out)
{
    re_flags rf = {BASE_OPTIONS, false};
    pcre2_match_data *md = thread_md(ctx);
    pcre2_code *code;
    int rc;

    if (!md || get_code(ctx, e, args, &rf, &code) < 0)
        return -1;
    rc = match(ctx, code, &args[0], 0, md);
    release(e, code);
    if (rc < 0)
        return -1;
    out->isnull = false;
    out->v.b = (rc == 1) != negate;
    return 0;
}

static int re_match(FN_ARGS)
{
    return regex_test(ctx, e, args, false, out);
}

static int re_nomatch(FN_ARGS)
{
    return regex_test(ctx, e, args, true, out);
}

static int re_imatch(FN_ARGS)
{
    return regex_test(ctx, e, args, false, out);
}

static int re_inomatch(FN_ARGS)
{
    return regex_test(ctx, e, args, true, out);
}

static uint32_t row_options(const sql_bexpr *b)
{
    return b->fn == re_imatch || b->fn == re_inomatch ? PCRE2_CASELESS : 0;
}

int sql__re_substring(FN_ARGS)
{
    re_flags rf = {BASE_OPTIONS, false};
    pcre2_match_data *md = thread_md(ctx);
    pcre2_code *code;
    uint32_t groups = 0;
    int rc;

    if (!md || get_code(ctx, e, args, &rf, &code) < 0)
        return -1;
    pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
    rc = match(ctx, code, &args[0], 0, md);
    release(e, code);
    if (rc <= 0) {
        out->isnull = true;
        return rc;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    int g = groups > 0 ? 1 : 0;
    if (ov[2 * g] == PCRE2_UNSET) {
        out->isnull = true;
        return 0;
    }
    out->isnull = false;
    out->v.s.p = args[0].v.s.p + ov[2 * g];
    out->v.s.len = ov[2 * g + 1] - ov[2 * g];
    return 0;
}

/* ---- regexp_replace -------------------------------------------------- */

static int put(sql__buf *b, const uint8_t *p, size_t n)
{
    return sql__buf_put(b, p, n);
}

/* Appends replacement `r` for the match in ov over s: \1..\9 are groups
 * (empty when unset or absent), \& the match, \\ a backslash; any other
 * backslash stays (appendStringInfoRegexpSubstr). */
static int put_replacement(sql__buf *b, const sql_datum *r, const sql_datum *s,
                           const PCRE2_SIZE *ov, uint32_t npairs)
{
    const uint8_t *p = r->v.s.p;
    size_t n = r->v.s.len;

    for (size_t i = 0; i < n; i++) {
        int g = -1;
        if (p[i] != '\\' || i + 1 == n) {
            if (put(b, p + i, 1) < 0)
                return -1;
            continue;
        }
        if (p[i + 1] >= '1' && p[i + 1] <= '9')
            g = p[i + 1] - '0';
        else if (p[i + 1] == '&')
            g = 0;
        else if (p[i + 1] == '\\')
            i++;
        if (g < 0) {
            if (put(b, p + i, 1) < 0)
                return -1;
            continue;
        }
        i++;
        if ((uint32_t)g < npairs && ov[2 * g] != PCRE2_UNSET &&
            put(b, s->v.s.p + ov[2 * g], ov[2 * g + 1] - ov[2 * g]) < 0)
            return -1;
    }
    return 0;
}

/* Replaces the first (or with 'g' every) match of code in s by r. */
static int replace_all(sql_eval_ctx *ctx, pcre2_code *code, const re_flags *rf, const sql_datum *s,
                       const sql_datum *r, sql_datum *out)
{
    pcre2_match_data *md = thread_md(ctx);
    sql__buf b = {.ctx = ctx};
    size_t pos = 0, copied = 0;
    int rc = 0;

    if (!md)
        return -1;
    uint32_t npairs = pcre2_get_ovector_count(md);
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    while (pos <= s->v.s.len && (rc = match(ctx, code, s, pos, md)) == 1) {
        if (put(&b, s->v.s.p + copied, ov[0] - copied) < 0 ||
            put_replacement(&b, r, s, ov, npairs) < 0)
            return -1;
        copied = ov[1];
        /* an empty match moves on by one character (copied next round) */
        pos = ov[1] > ov[0] ? ov[1]
                            : ov[1] + (ov[1] < s->v.s.len ? sql__utf8_width(s->v.s.p[ov[1]]) : 1);
        if (!rf->global)
            break;
    }
    if (rc < 0 || put(&b, s->v.s.p + copied, s->v.s.len - copied) < 0)
        return -1;
    sql__buf_text(&b, out);
    return 0;
}

static int regexp_replace_fn(FN_ARGS)
{
    re_flags rf;
    pcre2_code *code;
    int rc;

    if (parse_flags(ctx, e->nargs == 4 ? &args[3] : NULL, true, &rf) < 0 ||
        get_code(ctx, e, args, &rf, &code) < 0)
        return -1;
    rc = replace_all(ctx, code, &rf, &args[0], &args[2], out);
    release(e, code);
    return rc;
}

static bool is_regex_call(const sql_bexpr *b)
{
    return b->kind == SQL_BEXPR_FUNC &&
           (b->fn == re_match || b->fn == re_nomatch || b->fn == re_imatch ||
            b->fn == re_inomatch || b->fn == regexp_replace_fn || b->fn == sql__re_substring);
}

#define S    SQL__FN_STRICT
#define T(x) SQL_T_##x

static const sql__fn regex_ops[] = {
    {"~", 2, {T(TEXT), T(TEXT)}, T(BOOL), re_match, S},
    {"!~", 2, {T(TEXT), T(TEXT)}, T(BOOL), re_nomatch, S},
    {"~*", 2, {T(TEXT), T(TEXT)}, T(BOOL), re_imatch, S},
    {"!~*", 2, {T(TEXT), T(TEXT)}, T(BOOL), re_inomatch, S},
};

static const sql__fn regex_fns[] = {
    {"regexp_replace", 3, {T(TEXT), T(TEXT), T(TEXT)}, T(TEXT), regexp_replace_fn, S},
    {"regexp_replace", 4, {T(TEXT), T(TEXT), T(TEXT), T(TEXT)}, T(TEXT), regexp_replace_fn, S},
};

#undef S
#undef T

const sql__fn_set sql__fn_set_regex = {regex_ops, sizeof regex_ops / sizeof *regex_ops, regex_fns,
                                       sizeof regex_fns / sizeof *regex_fns};
