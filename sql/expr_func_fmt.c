/*
 * expr_func_fmt.c - to_char: PostgreSQL 15's template patterns
 * (formatting.c) for timestamps and for numbers.
 *
 * Timestamps (DCH keywords): YYYY YYY YY Y Y,YYY IYYY IYY IY I, MM Mon MON mon Month MONTH
 * month RM rm, DD DDD IDDD D ID, Day DAY day Dy DY dy, WW IW W Q CC J,
 * HH HH12 HH24 MI SS MS US SSSS SSSSS, AM PM A.M. P.M. (and lower case),
 * AD BC A.D. B.C. (and lower case), OF TZH TZM, the FM prefix, the TH/th
 * suffix, "quoted text" (with \" inside) and any other character copied.
 * TZ/tz (zone abbreviations) is refused with 0A000 for timestamptz (the
 * zone files' abbreviations are not kept); for timestamp it is empty, as
 * in PostgreSQL.
 *
 * Numbers (NUM keywords): 9 0 . D , G, S leading or trailing, PR, FM and
 * literal text, written the way NUM_processor writes them (one position
 * for an anchored sign before the first digit, '#'s when the integer part
 * does not fit, a lone 0 before a fraction left blank, FM dropping
 * padding and trailing fraction zeros). The locale is C: D is '.', G ','.
 * V, L, RN, EEEE, TH, MI, PL, SG and NaN/infinite values are 0A000.
 *
 * Every datum produced lives in ctx->arena.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sql/expr_int.h"

typedef enum dch {
    DCH_YYYY_COMMA,
    DCH_YYYY,
    DCH_YYY,
    DCH_YY,
    DCH_Y,
    DCH_IYYY,
    DCH_IYY,
    DCH_IY,
    DCH_I,
    DCH_MM,
    DCH_MON,
    DCH_MONTH,
    DCH_RM,
    DCH_DDD,
    DCH_IDDD,
    DCH_DD,
    DCH_D,
    DCH_ID,
    DCH_DAY,
    DCH_DY,
    DCH_WW,
    DCH_IW,
    DCH_W,
    DCH_Q,
    DCH_CC,
    DCH_J,
    DCH_HH24,
    DCH_HH12,
    DCH_HH,
    DCH_MI,
    DCH_SSSSS,
    DCH_SSSS,
    DCH_SS,
    DCH_MS,
    DCH_US,
    DCH_AM,
    DCH_AM_DOTS,
    DCH_AD,
    DCH_AD_DOTS,
    DCH_TZH,
    DCH_TZM,
    DCH_TZ,
    DCH_OF,
} dch;

/* How a name or letter field is cased: as written in the keyword. */
typedef enum dcase { C_UPPER, C_CAP, C_LOWER } dcase;

/* Longest keywords first where one is a prefix of another. */
static const struct {
    const char *kw;
    dch id;
    dcase c;
} keywords[] = {
    {"Y,YYY", DCH_YYYY_COMMA, C_UPPER},
    {"y,yyy", DCH_YYYY_COMMA, C_LOWER},
    {"YYYY", DCH_YYYY, C_UPPER},
    {"yyyy", DCH_YYYY, C_LOWER},
    {"YYY", DCH_YYY, C_UPPER},
    {"yyy", DCH_YYY, C_LOWER},
    {"YY", DCH_YY, C_UPPER},
    {"yy", DCH_YY, C_LOWER},
    {"Y", DCH_Y, C_UPPER},
    {"y", DCH_Y, C_LOWER},
    {"IYYY", DCH_IYYY, C_UPPER},
    {"iyyy", DCH_IYYY, C_LOWER},
    {"IYY", DCH_IYY, C_UPPER},
    {"iyy", DCH_IYY, C_LOWER},
    {"IY", DCH_IY, C_UPPER},
    {"iy", DCH_IY, C_LOWER},
    {"IDDD", DCH_IDDD, C_UPPER},
    {"iddd", DCH_IDDD, C_LOWER},
    {"ID", DCH_ID, C_UPPER},
    {"id", DCH_ID, C_LOWER},
    {"IW", DCH_IW, C_UPPER},
    {"iw", DCH_IW, C_LOWER},
    {"I", DCH_I, C_UPPER},
    {"i", DCH_I, C_LOWER},
    {"MM", DCH_MM, C_UPPER},
    {"mm", DCH_MM, C_LOWER},
    {"MONTH", DCH_MONTH, C_UPPER},
    {"Month", DCH_MONTH, C_CAP},
    {"month", DCH_MONTH, C_LOWER},
    {"MON", DCH_MON, C_UPPER},
    {"Mon", DCH_MON, C_CAP},
    {"mon", DCH_MON, C_LOWER},
    {"MS", DCH_MS, C_UPPER},
    {"ms", DCH_MS, C_LOWER},
    {"MI", DCH_MI, C_UPPER},
    {"mi", DCH_MI, C_LOWER},
    {"RM", DCH_RM, C_UPPER},
    {"rm", DCH_RM, C_LOWER},
    {"DDD", DCH_DDD, C_UPPER},
    {"ddd", DCH_DDD, C_LOWER},
    {"DD", DCH_DD, C_UPPER},
    {"dd", DCH_DD, C_LOWER},
    {"DAY", DCH_DAY, C_UPPER},
    {"Day", DCH_DAY, C_CAP},
    {"day", DCH_DAY, C_LOWER},
    {"DY", DCH_DY, C_UPPER},
    {"Dy", DCH_DY, C_CAP},
    {"dy", DCH_DY, C_LOWER},
    {"D", DCH_D, C_UPPER},
    {"d", DCH_D, C_LOWER},
    {"WW", DCH_WW, C_UPPER},
    {"ww", DCH_WW, C_LOWER},
    {"W", DCH_W, C_UPPER},
    {"w", DCH_W, C_LOWER},
    {"Q", DCH_Q, C_UPPER},
    {"q", DCH_Q, C_LOWER},
    {"CC", DCH_CC, C_UPPER},
    {"cc", DCH_CC, C_LOWER},
    {"J", DCH_J, C_UPPER},
    {"j", DCH_J, C_LOWER},
    {"HH24", DCH_HH24, C_UPPER},
    {"hh24", DCH_HH24, C_LOWER},
    {"HH12", DCH_HH12, C_UPPER},
    {"hh12", DCH_HH12, C_LOWER},
    {"HH", DCH_HH, C_UPPER},
    {"hh", DCH_HH, C_LOWER},
    {"SSSSS", DCH_SSSSS, C_UPPER},
    {"sssss", DCH_SSSSS, C_LOWER},
    {"SSSS", DCH_SSSS, C_UPPER},
    {"ssss", DCH_SSSS, C_LOWER},
    {"SS", DCH_SS, C_UPPER},
    {"ss", DCH_SS, C_LOWER},
    {"US", DCH_US, C_UPPER},
    {"us", DCH_US, C_LOWER},
    {"A.M.", DCH_AM_DOTS, C_UPPER},
    {"a.m.", DCH_AM_DOTS, C_LOWER},
    {"P.M.", DCH_AM_DOTS, C_UPPER},
    {"p.m.", DCH_AM_DOTS, C_LOWER},
    {"AM", DCH_AM, C_UPPER},
    {"am", DCH_AM, C_LOWER},
    {"PM", DCH_AM, C_UPPER},
    {"pm", DCH_AM, C_LOWER},
    {"A.D.", DCH_AD_DOTS, C_UPPER},
    {"a.d.", DCH_AD_DOTS, C_LOWER},
    {"B.C.", DCH_AD_DOTS, C_UPPER},
    {"b.c.", DCH_AD_DOTS, C_LOWER},
    {"AD", DCH_AD, C_UPPER},
    {"ad", DCH_AD, C_LOWER},
    {"BC", DCH_AD, C_UPPER},
    {"bc", DCH_AD, C_LOWER},
    {"TZH", DCH_TZH, C_UPPER},
    {"tzh", DCH_TZH, C_LOWER},
    {"TZM", DCH_TZM, C_UPPER},
    {"tzm", DCH_TZM, C_LOWER},
    {"TZ", DCH_TZ, C_UPPER},
    {"tz", DCH_TZ, C_LOWER},
    {"OF", DCH_OF, C_UPPER},
    {"of", DCH_OF, C_LOWER},
};

static const char *const months[] = {"January",   "February", "March",    "April",
                                     "May",       "June",     "July",     "August",
                                     "September", "October",  "November", "December"};
static const char *const days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                   "Thursday", "Friday", "Saturday"};
static const char *const roman[] = {"I",   "II",   "III", "IV", "V",  "VI",
                                    "VII", "VIII", "IX",  "X",  "XI", "XII"};

/* The broken-down local time to_char reads. */
typedef struct dtm {
    int64_t year; /* astronomical: 1 BC = 0 */
    int mon, mday, hour, min, sec, usec;
    int64_t day;    /* days since 2000-01-01 */
    int32_t offset; /* seconds east of UTC (timestamptz) */
    bool with_tz;
} dtm;

static int put(sql__buf *b, const char *s, size_t n)
{
    return sql__buf_put(b, s, n);
}

static int put_str(sql__buf *b, const char *s)
{
    return put(b, s, strlen(s));
}

/* English ordinal suffix of n: st, nd, rd, th (11-13 th). */
static const char *ordinal(int64_t n, bool upper)
{
    static const char *const lower_s[] = {"th", "st", "nd", "rd"};
    static const char *const upper_s[] = {"TH", "ST", "ND", "RD"};
    int64_t m = (n < 0 ? -n : n) % 100, d = m % 10;
    int i = (m >= 11 && m <= 13) || d > 3 ? 0 : (int)d;

    return upper ? upper_s[i] : lower_s[i];
}

/* A number zero-padded to `width` digits unless `fm`, with an optional
 * ordinal suffix (`th`: 0 none, 1 lower, 2 upper). */
static int put_num(sql__buf *b, int64_t v, int width, bool fm, int th)
{
    char buf[48];
    int n = snprintf(buf, sizeof buf, "%0*lld", fm ? 0 : width + (v < 0), (long long)v);

    if (th)
        n += snprintf(buf + n, sizeof buf - (size_t)n, "%s", ordinal(v, th == 2));
    return put(b, buf, (size_t)n);
}

/* A name cased like its keyword, padded to `pad` characters unless fm. */
static int put_name(sql__buf *b, const char *name, size_t maxlen, dcase c, bool fm, int pad)
{
    char buf[16];
    size_t n = strlen(name) < maxlen ? strlen(name) : maxlen;

    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        if (c == C_UPPER && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        else if (c == C_LOWER && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch + 32);
        buf[i] = ch;
    }
    for (; !fm && (int)n < pad; n++)
        buf[n] = ' ';
    return put(b, buf, n);
}

static int64_t dow(const dtm *t)
{
    return sql__dow(t->day);
}

static int64_t iso_year(const dtm *t)
{
    int64_t y, week;

    sql__iso_week(t->day, &y, &week);
    return y;
}

/* Year as printed: BC years count from 1 backwards. */
static int64_t shown_year(int64_t y)
{
    return y <= 0 ? -(y - 1) : y;
}

static int put_offset(sql__buf *b, int32_t off, bool minutes_always)
{
    char buf[16];
    int32_t a = off < 0 ? -off : off;
    int n = snprintf(buf, sizeof buf, "%c%02d", off < 0 ? '-' : '+', a / 3600);

    if (minutes_always || a % 3600)
        n += snprintf(buf + n, sizeof buf - (size_t)n, ":%02d", a % 3600 / 60);
    return put(b, buf, (size_t)n);
}

/* Year fields: YYYY and its shorter forms, ISO years, Y,YYY. */
static int put_year_field(sql__buf *b, dch id, const dtm *t, bool fm, int th)
{
    int64_t y = shown_year(id >= DCH_IYYY && id <= DCH_I ? iso_year(t) : t->year);
    char buf[48];

    switch (id) {
    case DCH_YYYY_COMMA:
        snprintf(buf, sizeof buf, "%lld,%03lld", (long long)(y / 1000), (long long)(y % 1000));
        return put_str(b, buf) < 0 || (th && put_str(b, ordinal(y, th == 2)) < 0) ? -1 : 0;
    case DCH_YYYY:
    case DCH_IYYY:
        return put_num(b, y, 4, fm, th);
    case DCH_YYY:
    case DCH_IYY:
        return put_num(b, y % 1000, 3, fm, th);
    case DCH_YY:
    case DCH_IY:
        return put_num(b, y % 100, 2, fm, th);
    default:
        return put_num(b, y % 10, 1, fm, th);
    }
}

/* One keyword's text for t. */
static int put_field(sql_eval_ctx *ctx, sql__buf *b, dch id, dcase c, const dtm *t, bool fm, int th)
{
    int64_t doy = t->day - sql__ymd_to_days(t->year, 1, 1) + 1;
    int h12 = t->hour % 12 == 0 ? 12 : t->hour % 12;

    if (id <= DCH_I)
        return put_year_field(b, id, t, fm, th);
    switch (id) {
    case DCH_MM:
        return put_num(b, t->mon, 2, fm, th);
    case DCH_MON:
        return put_name(b, months[t->mon - 1], 3, c, true, 0);
    case DCH_MONTH:
        return put_name(b, months[t->mon - 1], 9, c, fm, 9);
    case DCH_RM:
        return put_name(b, roman[t->mon - 1], 4, c, fm, 4);
    case DCH_DDD:
        return put_num(b, doy, 3, fm, th);
    case DCH_IDDD:
        return put_num(b, t->day - sql__iso_week1(iso_year(t)) + 1, 3, fm, th);
    case DCH_DD:
        return put_num(b, t->mday, 2, fm, th);
    case DCH_D:
        return put_num(b, dow(t) + 1, 1, fm, th);
    case DCH_ID:
        return put_num(b, dow(t) == 0 ? 7 : dow(t), 1, fm, th);
    case DCH_DAY:
        return put_name(b, days[dow(t)], 9, c, fm, 9);
    case DCH_DY:
        return put_name(b, days[dow(t)], 3, c, true, 0);
    case DCH_WW:
        return put_num(b, (doy - 1) / 7 + 1, 2, fm, th);
    case DCH_IW:
        return put_num(b, (t->day - sql__iso_week1(iso_year(t))) / 7 + 1, 2, fm, th);
    case DCH_W:
        return put_num(b, (t->mday - 1) / 7 + 1, 1, fm, th);
    case DCH_Q:
        return put_num(b, (t->mon - 1) / 3 + 1, 1, fm, th);
    case DCH_CC: {
        int64_t cc = t->year > 0 ? (t->year + 99) / 100 : -((99 - (t->year - 1)) / 100);
        return put_num(b, cc, 2, fm, th);
    }
    case DCH_J:
        return put_num(b, t->day + 2451545, 1, fm, th);
    case DCH_HH24:
        return put_num(b, t->hour, 2, fm, th);
    case DCH_HH12:
    case DCH_HH:
        return put_num(b, h12, 2, fm, th);
    case DCH_MI:
        return put_num(b, t->min, 2, fm, th);
    case DCH_SS:
        return put_num(b, t->sec, 2, fm, th);
    case DCH_SSSS:
    case DCH_SSSSS:
        return put_num(b, (t->hour * 60 + t->min) * 60 + t->sec, 1, fm, th);
    case DCH_MS:
        return put_num(b, t->usec / 1000, 3, fm, th);
    case DCH_US:
        return put_num(b, t->usec, 6, fm, th);
    case DCH_AM:
    case DCH_AM_DOTS: {
        const char *s =
            t->hour >= 12 ? (id == DCH_AM ? "PM" : "P.M.") : (id == DCH_AM ? "AM" : "A.M.");
        return put_name(b, s, 4, c, true, 0);
    }
    case DCH_AD:
    case DCH_AD_DOTS: {
        const char *s =
            t->year <= 0 ? (id == DCH_AD ? "BC" : "B.C.") : (id == DCH_AD ? "AD" : "A.D.");
        return put_name(b, s, 4, c, true, 0);
    }
    case DCH_TZH:
        return put_offset(b, t->offset - t->offset % 3600, false);
    case DCH_TZM:
        return put_num(b, (t->offset < 0 ? -t->offset : t->offset) % 3600 / 60, 2, fm, th);
    case DCH_OF:
        return put_offset(b, t->offset, false);
    default:
        if (t->with_tz)
            return sql__fn_fail(
                ctx, SQL_STATE_FEATURE_NOT_SUPPORTED,
                "to_char pattern TZ is not supported yet for timestamp with time zone");
        return 0; /* TZ of a timestamp without zone is empty */
    }
}

/* The keyword at p (longest table entry that matches), or -1. */
static int match_keyword(const char *p, const char *end)
{
    for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++) {
        size_t n = strlen(keywords[i].kw);
        if ((size_t)(end - p) >= n && memcmp(p, keywords[i].kw, n) == 0)
            return (int)i;
    }
    return -1;
}

/* Literal text at *p: a "quoted" run copied without its quotes (\"
 * inside standing for a quote), \" for a quote, else one character. */
static int put_literal(sql__buf *b, const char **p, const char *end)
{
    if (**p != '"') {
        if (**p == '\\' && *p + 1 < end && (*p)[1] == '"')
            ++*p;
        return put(b, (*p)++, 1);
    }
    for (++*p; *p < end && **p != '"'; ++*p) {
        if (**p == '\\' && *p + 1 < end && (*p)[1] == '"')
            ++*p;
        if (put(b, *p, 1) < 0)
            return -1;
    }
    if (*p < end)
        ++*p;
    return 0;
}

static int format_dtm(sql_eval_ctx *ctx, const sql_datum *fmt, const dtm *t, sql_datum *out)
{
    const char *p = (const char *)fmt->v.s.p, *end = p + fmt->v.s.len;
    sql__buf b = {.ctx = ctx};

    while (p < end) {
        bool fm = end - p >= 2 && (memcmp(p, "FM", 2) == 0 || memcmp(p, "fm", 2) == 0);
        int k = match_keyword(p + (fm ? 2 : 0), end);
        if (k < 0 && fm) { /* FM before nothing it applies to */
            p += 2;
            continue;
        }
        if (k < 0) {
            if (put_literal(&b, &p, end) < 0)
                return -1;
            continue;
        }
        p += (fm ? 2 : 0) + strlen(keywords[k].kw);
        int th = end - p >= 2 && memcmp(p, "TH", 2) == 0   ? 2
                 : end - p >= 2 && memcmp(p, "th", 2) == 0 ? 1
                                                           : 0;
        p += th ? 2 : 0;
        if (put_field(ctx, &b, keywords[k].id, keywords[k].c, t, fm, th) < 0)
            return -1;
    }
    sql__buf_text(&b, out);
    return 0;
}

/* to_char(timestamp | timestamptz, text); NULL for infinite values. */
static int to_char_ts(FN_ARGS)
{
    bool tz = e->args[0]->type.oid == SQL_T_TIMESTAMPTZ;
    int64_t ts = args[0].v.ts;
    dtm t = {.with_tz = tz};
    int m, d;

    if (!sql__ts_finite(ts)) {
        out->isnull = true;
        return 0;
    }
    if (tz) {
        int64_t off = sql__tz_off_utc(ctx, ts);
        t.offset = (int32_t)(off / USECS_PER_SEC);
        ts += off;
    }
    t.day = sql__floor_div(ts, USECS_PER_DAY);
    int64_t tod = ts - t.day * USECS_PER_DAY;
    sql__days_to_ymd(t.day, &t.year, &m, &d);
    t.mon = m;
    t.mday = d;
    t.hour = (int)(tod / (3600 * USECS_PER_SEC));
    t.min = (int)(tod / (60 * USECS_PER_SEC) % 60);
    t.sec = (int)(tod / USECS_PER_SEC % 60);
    t.usec = (int)(tod % USECS_PER_SEC);
    return format_dtm(ctx, &args[1], &t, out);
}

/* ---- numbers ------------------------------------------------------------ */

/* A parsed number template (formatting.c's NUMDesc, for what we take). */
typedef struct numfmt {
    int pre, post;  /* digit positions before / after the point */
    int zero_start; /* first pre position padded with '0'; pre: none */
    int zero_end;   /* last post position that is a '0'; -1: none */
    bool fm;        /* FM: no padding, no trailing fraction zeros */
    bool plus;      /* S: '+' for positive numbers */
    bool sign_end;  /* S after the digits: the sign goes there */
    bool bracket;   /* PR: <negative> */
} numfmt;

static int num_refuse(sql_eval_ctx *ctx, const char *what)
{
    return sql_error_set(ctx->err, ctx->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                         "to_char pattern \"%s\" is not supported yet for numbers", what);
}

/* Whether the template at q starts with the two letters `w`. */
static bool at2(const char *q, const char *end, const char *w)
{
    return end - q >= 2 && q[0] == w[0] && q[1] == w[1];
}

/* Reads the template's digit layout and flags; 0A000 for the patterns
 * we do not implement (V, L, RN, EEEE, TH, MI, PL, SG). */
static int parse_numfmt(sql_eval_ctx *ctx, const char *p, const char *end, numfmt *f)
{
    static const char *const refused[] = {"MI", "PL", "SG", "RN", "rn", "TH", "th", "EE"};
    bool point = false;

    *f = (numfmt){.zero_start = -1, .zero_end = -1};
    for (const char *q = p; q < end; q++) {
        for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
            if (at2(q, end, refused[i]))
                return num_refuse(ctx, refused[i]);
        if (*q == 'V' || *q == 'v' || *q == 'L' || *q == 'l')
            return num_refuse(ctx, (char[2]){*q, 0});
        if (*q == '0' && !point && f->zero_start < 0)
            f->zero_start = f->pre;
        if (*q == '0' && point)
            f->zero_end = f->post;
        if (*q == '9' || *q == '0')
            point ? f->post++ : f->pre++;
        else if (*q == '.' || *q == 'D')
            point = true;
        else if (at2(q, end, "FM") || at2(q, end, "fm"))
            f->fm = true;
        else if (*q == 'S') {
            f->plus = true;
            f->sign_end = f->pre + f->post > 0;
        } else if (at2(q, end, "PR") && q + 2 != end)
            return sql__fn_fail(ctx, SQL_STATE_SYNTAX_ERROR, "\"9\" must be ahead of \"PR\"");
        else if (at2(q, end, "PR"))
            f->bracket = true;
    }
    if (f->zero_start < 0)
        f->zero_start = f->pre;
    return 0;
}

/* |value| rounded to `post` decimals as integer and fraction digits, and
 * its sign: numeric rounds half away from zero (numeric_round), float8
 * prints with at most 15 significant digits (DBL_DIG, so the fraction may
 * be shorter than `post`), integers get `post` zeros. Strings live in
 * ctx->arena. */
typedef struct numstr {
    const char *ip, *fp;
    bool neg;
} numstr;

static int float_string(sql_eval_ctx *ctx, double f, int post, numstr *ns)
{
    char probe[400];
    int pre_len = snprintf(probe, sizeof probe, "%.0f", fabs(f));

    post = pre_len >= 15 ? 0 : pre_len + post > 15 ? 15 - pre_len : post;
    char *s = kv_arena_alloc(ctx->arena, (size_t)pre_len + (size_t)post + 4);
    if (!s)
        return sql__fn_oom(ctx);
    sprintf(s, "%.*f", post, f);
    char *dot = strchr(s, '.');
    ns->neg = s[0] == '-';
    ns->ip = s + ns->neg;
    ns->fp = dot ? dot + 1 : "";
    if (dot)
        *dot = 0;
    return 0;
}

/* The decimal digits of a (>= 0) split `post` digits from the right. */
static int split_digits(sql_eval_ctx *ctx, const mpz_t a, int post, numstr *ns)
{
    char *d = kv_arena_alloc(ctx->arena, mpz_sizeinbase(a, 10) + 2);
    char *fp = kv_arena_alloc(ctx->arena, (size_t)post + 1);

    if (!d || !fp)
        return sql__fn_oom(ctx);
    mpz_get_str(d, 10, a);
    size_t nd = strlen(d), up = (size_t)post;
    if (nd > up) {
        memcpy(fp, d + nd - up, up + 1);
        d[nd - up] = 0;
        ns->ip = d;
    } else { /* 0.00ddd */
        memset(fp, '0', up - nd);
        memcpy(fp + up - nd, d, nd + 1);
        ns->ip = "0";
    }
    ns->fp = fp;
    return 0;
}

static int numeric_string(sql_eval_ctx *ctx, const sql_numeric *n, int post, numstr *ns)
{
    int32_t shift = post - n->dscale;
    mpz_t z, a, p, r;
    int rc;

    sql__num_mpz(z, n);
    mpz_inits(a, p, r, NULL);
    mpz_abs(a, z);
    mpz_ui_pow_ui(p, 10, (unsigned long)(shift < 0 ? -shift : shift));
    if (shift >= 0) {
        mpz_mul(a, a, p);
    } else {
        mpz_tdiv_qr(a, r, a, p);
        mpz_mul_2exp(r, r, 1);
        if (mpz_cmp(r, p) >= 0)
            mpz_add_ui(a, a, 1);
    }
    ns->neg = mpz_sgn(z) < 0 && mpz_sgn(a) != 0;
    rc = split_digits(ctx, a, post, ns);
    mpz_clears(a, p, r, NULL);
    return rc;
}

static int number_string(sql_eval_ctx *ctx, sql_type_id t, const sql_datum *v, int post, numstr *ns)
{
    mpz_t a;
    int rc;

    if ((t == SQL_T_FLOAT8 || t == SQL_T_FLOAT4) && !isfinite(v->v.f))
        return sql__fn_fail(ctx, SQL_STATE_FEATURE_NOT_SUPPORTED,
                            "to_char of NaN or infinity is not supported yet");
    if (t == SQL_T_FLOAT8 || t == SQL_T_FLOAT4)
        return float_string(ctx, v->v.f, post, ns);
    if (t == SQL_T_NUMERIC && v->v.num.kind != SQL_NUM_FINITE)
        return sql__fn_fail(ctx, SQL_STATE_FEATURE_NOT_SUPPORTED,
                            "to_char of NaN or infinity is not supported yet");
    if (t == SQL_T_NUMERIC)
        return numeric_string(ctx, &v->v.num, post, ns);
    mpz_t p;
    mpz_init_set_si(a, v->v.i);
    mpz_init(p);
    ns->neg = mpz_sgn(a) < 0;
    mpz_abs(a, a);
    mpz_ui_pow_ui(p, 10, (unsigned long)post);
    mpz_mul(a, a, p);
    rc = split_digits(ctx, a, post, ns);
    mpz_clears(a, p, NULL);
    return rc;
}

/* The state of one number being written (NUM_processor's). */
typedef struct numout {
    sql__buf *b;
    const numfmt *f;
    const numstr *ns;
    int blanks;     /* pre positions left of the integer digits */
    bool overflow;  /* more integer digits than positions: '#'s */
    int keep_last;  /* FM: last fraction position written; -1: none */
    bool sign_done; /* the anchored sign is out */
    bool started;   /* a digit (or padding zero) is out */
} numout;

/* The anchored sign, once, before the first digit or point. */
static int put_sign(numout *o)
{
    const numfmt *f = o->f;
    const char *c = o->ns->neg ? (f->bracket ? "<" : "-") : f->plus ? "+" : " ";

    if (o->sign_done)
        return 0;
    o->sign_done = true;
    if (f->sign_end)
        return 0;
    if (f->fm && strcmp(c, " ") == 0)
        return 0;
    return put(o->b, c, 1);
}

/* Pre-point digit position i. */
static int put_int_digit(numout *o, int i)
{
    const numfmt *f = o->f;
    const char *ip = o->ns->ip;

    if (o->overflow)
        return put_sign(o) < 0 ? -1 : put(o->b, "#", 1);
    if (i < o->blanks) {
        if (i < f->zero_start)
            return f->fm ? 0 : put(o->b, " ", 1);
        o->started = true;
        return put_sign(o) < 0 ? -1 : put(o->b, "0", 1);
    }
    /* a lone 0 before a fraction is a blank: '0.1' -- 9.9 --> '  .1' */
    if (strcmp(ip, "0") == 0 && f->post > 0 && f->zero_start == f->pre) {
        if (!f->fm)
            return put(o->b, " ", 1);
        if (o->keep_last >= 0)
            return 0;
        /* FM9.9 of 0 --> '0.' */
    }
    o->started = true;
    return put_sign(o) < 0 ? -1 : put(o->b, ip + (i - o->blanks), 1);
}

/* Post-point digit position j. */
static int put_frac_digit(numout *o, int j)
{
    const char *fp = o->ns->fp;

    if (j >= (int)strlen(fp)) /* float8 keeps at most 15 digits */
        return 0;
    if (o->overflow)
        return put(o->b, "#", 1);
    if (o->f->fm && j > o->keep_last)
        return 0;
    return put(o->b, fp + j, 1);
}

/* Writes the number per template [p, end). */
static int format_number(numout *o, const char *p, const char *end)
{
    int pre_i = 0, post_i = 0;
    bool point = false;

    while (p < end) {
        int rc = 0;
        if (*p == '9' || *p == '0')
            rc = point ? put_frac_digit(o, post_i++) : put_int_digit(o, pre_i++);
        else if (*p == '.' || *p == 'D') {
            point = true; /* no point without digits after it, but with '#'s */
            rc = !o->ns->fp[0] && !o->overflow ? 0 : put_sign(o) < 0 ? -1 : put(o->b, ".", 1);
        } else if (*p == ',' || *p == 'G')
            rc = o->started || o->overflow ? put(o->b, ",", 1) : o->f->fm ? 0 : put(o->b, " ", 1);
        else if (at2(p, end, "FM") || at2(p, end, "fm"))
            p++;
        else if (*p == 'S')
            rc = o->f->sign_end ? put(o->b, o->ns->neg ? "-" : "+", 1) : 0;
        else if (at2(p, end, "PR")) {
            rc = o->ns->neg ? put(o->b, ">", 1) : o->f->fm ? 0 : put(o->b, " ", 1);
            p++;
        } else {
            rc = put_literal(o->b, &p, end);
            if (rc == 0)
                continue;
        }
        if (rc < 0)
            return -1;
        p++;
    }
    return 0;
}

/* to_char(numeric | int4 | int8 | float8, text) */
static int to_char_num(FN_ARGS)
{
    const char *p = (const char *)args[1].v.s.p, *end = p + args[1].v.s.len;
    sql__buf b = {.ctx = ctx};
    numfmt f;
    numstr ns;

    if (parse_numfmt(ctx, p, end, &f) < 0 ||
        number_string(ctx, e->args[0]->type.oid, &args[0], f.post, &ns) < 0)
        return -1;
    int ipn = (int)strlen(ns.ip);
    numout o = {.b = &b, .f = &f, .ns = &ns, .blanks = f.pre - ipn, .overflow = ipn > f.pre};
    o.keep_last = f.zero_end;
    for (int j = (int)strlen(ns.fp) - 1; j > o.keep_last; j--)
        if (ns.fp[j] != '0')
            o.keep_last = j;
    if (format_number(&o, p, end) < 0)
        return -1;
    sql__buf_text(&b, out);
    return 0;
}

#define S    SQL__FN_STRICT
#define T(x) SQL_T_##x

static const sql__fn fmt_fns[] = {
    {"to_char", 2, {T(TIMESTAMP), T(TEXT)}, T(TEXT), to_char_ts, S},
    {"to_char", 2, {T(TIMESTAMPTZ), T(TEXT)}, T(TEXT), to_char_ts, S | SQL__FN_STABLE},
    {"to_char", 2, {T(INT4), T(TEXT)}, T(TEXT), to_char_num, S},
    {"to_char", 2, {T(INT8), T(TEXT)}, T(TEXT), to_char_num, S},
    {"to_char", 2, {T(NUMERIC), T(TEXT)}, T(TEXT), to_char_num, S},
    {"to_char", 2, {T(FLOAT8), T(TEXT)}, T(TEXT), to_char_num, S},
};

#undef S
#undef T

const sql__fn_set sql__fn_set_fmt = {NULL, 0, fmt_fns, sizeof fmt_fns / sizeof *fmt_fns};
