/*
 * datetime.c - date, timestamp, timestamptz and interval text I/O in
 * PostgreSQL 15's formats with DateStyle 'ISO, MDY' and IntervalStyle
 * 'postgres'.
 *
 * Accepted input (a subset of PostgreSQL's ParseDateTime: the forms
 * clients and people send; tests/sql/text_golden.inc lists them):
 *   date       three fields separated by - / . space or comma: Y-M-D when
 *              the first has 3+ digits, else M-D-Y, 2-digit years
 *              (<70 -> 20xx); a month name with day and year in either
 *              order; YYYYMMDD; weekday names ignored; BC/AD; a trailing
 *              time and zone are accepted and ignored
 *   timestamp  a date, then ' ' or 'T', HH:MM[:SS[.frac]] or HHMM[SS],
 *              a zone (Z, +-HH[:MM[:SS]], +-HHMM, an IANA name), BC
 *   special    infinity, -infinity, epoch; now, today, tomorrow and
 *              yesterday against sql_io_ctx.now
 *   interval   '@', "<number> <unit>" pairs (PostgreSQL's unit names),
 *              [-]H:M[:S[.frac]], "D H:M:S", SQL "Y-M", ISO 8601
 *              "P1Y2M3DT4H5M6S", a bare number (seconds), trailing 'ago';
 *              each unit at most once
 * Not accepted: timezone abbreviations other than UTC/GMT/Z (PST, CEST),
 * POSIX zone strings in literals, the ISO 8601 alternative format
 * (P0001-02-03T...), Julian days (J2451545).
 * Calendar arithmetic is PostgreSQL's date2j/j2date (proleptic Gregorian,
 * astronomical year numbering inside: 1 BC is year 0).
 */
#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/types_int.h"

#define POSTGRES_EPOCH_JDATE 2451545
#define USECS_PER_HOUR       INT64_C(3600000000)
#define USECS_PER_MINUTE     INT64_C(60000000)
/* 4714-11-24 BC 00:00 and 294277-01-01 00:00 (exclusive), PG's limits. */
#define MIN_TIMESTAMP INT64_C(-211813488000000000)
#define END_TIMESTAMP INT64_C(9223371331200000000)
#define DATE_MIN      (-POSTGRES_EPOCH_JDATE)
#define DATE_END      (2147483494 - POSTGRES_EPOCH_JDATE)

static int64_t date2j(int64_t y, int m, int d)
{
    if (m > 2) {
        m += 1;
        y += 4800;
    } else {
        m += 13;
        y += 4799;
    }
    int64_t century = y / 100;
    int64_t julian = y * 365 - 32167;
    julian += y / 4 - century + century / 4;
    julian += 7834 * m / 256 + d;
    return julian;
}

/* Valid for PostgreSQL's range; other inputs give some date, never UB. */
static void j2date(int64_t jd, int *year, int *month, int *day)
{
    unsigned int julian = (unsigned int)jd + 32044;
    unsigned int quad = julian / 146097;
    unsigned int extra = (julian - quad * 146097) * 4 + 3;
    julian += 60 + quad * 3 + extra / 146097;
    quad = julian / 1461;
    julian -= quad * 1461;
    int y = (int)(julian * 4 / 1461);
    julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366)) + 123;
    y += (int)quad * 4;
    *year = y - 4800;
    quad = julian * 2141 / 65536;
    *day = (int)(julian - 7834 * quad / 256);
    *month = (int)((quad + 10) % 12 + 1);
}

static bool leap(int64_t y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int days_in_month(int64_t y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : mdays[m - 1];
}

bool sql__date_valid(int32_t date)
{
    return date >= DATE_MIN && date < DATE_END;
}

bool sql__timestamp_valid(int64_t ts)
{
    return ts >= MIN_TIMESTAMP && ts < END_TIMESTAMP;
}

/* ---- a tiny tokenizer -------------------------------------------------- */

/* The special words PostgreSQL accepts in place of a date/time. */
typedef enum dt_special {
    DT_NONE = 0,
    DT_INFINITY,
    DT_NEG_INFINITY,
    DT_EPOCH,
    DT_NOW,
    DT_TODAY,
    DT_TOMORROW,
    DT_YESTERDAY,
} dt_special;

/* The parsed pieces of a date/time string. */
typedef struct dt_fields {
    int64_t year;
    int month, day;
    bool bc;
    int64_t time; /* microseconds since midnight */
    bool have_time;
    bool have_zone;
    int32_t zone;       /* seconds east of UTC */
    char zone_name[64]; /* an unrecognised zone name, for the message */
    dt_special special;
} dt_fields;

typedef enum dt_rc {
    DT_OK = 0,
    DT_BAD = -1,         /* 22007 invalid input syntax */
    DT_RANGE = -2,       /* 22008 field value out of range */
    DT_ZONE = -3,        /* 22023 time zone not recognized */
    DT_NO_NOW = -4,      /* 'now' and friends without a transaction timestamp */
    DT_IV_OVERFLOW = -5, /* 22008 interval out of range */
    DT_MD_RANGE = -6,    /* 22008 month or day outside any calendar: maybe
                          * another DateStyle's field order was meant */
} dt_rc;

static const char *skip_space(const char *p, const char *end)
{
    while (p < end && isspace((unsigned char)*p))
        p++;
    return p;
}

/* Reads unsigned decimal digits; *n = their count. */
static const char *read_uint(const char *p, const char *end, int64_t *v, int *n)
{
    *v = 0, *n = 0;
    while (p < end && isdigit((unsigned char)*p) && *n < 18) {
        *v = *v * 10 + (*p++ - '0');
        (*n)++;
    }
    return p;
}

static int month_by_name(const char *p, size_t n)
{
    static const char *const names[] = {"january",   "february", "march",    "april",
                                        "may",       "june",     "july",     "august",
                                        "september", "october",  "november", "december"};
    if (n < 3)
        return 0;
    for (int i = 0; i < 12; i++)
        if (n <= strlen(names[i]) && strncasecmp(p, names[i], n) == 0)
            return i + 1;
    return 0;
}

static int64_t two_digit_year(int64_t y, int ndigits)
{
    if (ndigits <= 2)
        return y < 70 ? y + 2000 : y + 1900;
    return y;
}

/* Whether an H:M time field starts at p (in an interval a bare number
 * before one counts days, as in "5 01:00:00"). */
static bool next_is_time(const char *p, const char *end)
{
    const char *q = p;
    while (q < end && isdigit((unsigned char)*q))
        q++;
    return q > p && q < end && *q == ':';
}

static bool is_date_sep(char c)
{
    return c == '-' || c == '/' || c == '.' || c == ' ' || c == ',';
}

static bool is_weekday(const char *p, size_t n)
{
    static const char *const days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    for (int i = 0; i < 7; i++)
        if (n >= 3 && strncasecmp(p, days[i], 3) == 0)
            return true;
    return false;
}

/* The fields of a date: numbers and at most one month name, separated by
 * '-', '/', '.', ' ' or ','; weekday names are skipped. Stops before a
 * time ("03:04"). */
typedef struct date_tokens {
    int64_t num[3];
    int ndigits[3];
    int nnum;
    int month; /* by name; 0: none */
} date_tokens;

static const char *scan_date(const char *p, const char *end, date_tokens *t)
{
    *t = (date_tokens){0};
    const char *start = p;
    for (int fields = 0; p < end && fields < 3;) {
        const char *before = p;
        while (p > start && p < end && is_date_sep(*p))
            p++;
        if (p < end && isdigit((unsigned char)*p) && !next_is_time(p, end)) {
            if (t->nnum == 3)
                return NULL;
            p = read_uint(p, end, &t->num[t->nnum], &t->ndigits[t->nnum]);
            fields += t->ndigits[t->nnum++] == 8 ? 3 : 1; /* YYYYMMDD */
            continue;
        }
        const char *w = p;
        while (p < end && isalpha((unsigned char)*p))
            p++;
        size_t n = (size_t)(p - w);
        if (n > 0 && !t->month && (t->month = month_by_name(w, n)) != 0) {
            fields++;
        } else if (n == 0 || !is_weekday(w, n)) {
            return before;
        }
    }
    return p;
}

/* Assigns year, month and day: with a month name the number with 3+
 * digits (else the second) is the year; without, Y-M-D when the first
 * number has 3+ digits, else M-D-Y (DateStyle MDY). */
static bool assign_date(const date_tokens *t, dt_fields *f)
{
    if (t->nnum == 1 && t->ndigits[0] == 8 && !t->month) {
        f->year = t->num[0] / 10000;
        f->month = (int)(t->num[0] / 100 % 100), f->day = (int)(t->num[0] % 100);
        return true;
    }
    if (t->month && t->nnum == 2) {
        bool year_first = t->ndigits[0] >= 3;
        f->month = t->month;
        f->year = two_digit_year(t->num[!year_first], t->ndigits[!year_first]);
        f->day = (int)t->num[year_first];
        return t->ndigits[year_first] <= 2 && f->day <= 31;
    }
    if (t->month || t->nnum != 3)
        return false;
    if (t->ndigits[0] >= 3)
        f->year = t->num[0], f->month = (int)t->num[1], f->day = (int)t->num[2];
    else
        f->year = two_digit_year(t->num[2], t->ndigits[2]), f->month = (int)t->num[0],
        f->day = (int)t->num[1];
    return true;
}

/* ".ffffff..." rounded to microseconds (digits past the 7th ignored). */
static const char *parse_fraction(const char *p, const char *end, int64_t *frac)
{
    int nf = 0;
    *frac = 0;
    if (p < end && *p == '.')
        for (p++; p < end && isdigit((unsigned char)*p); p++)
            if (nf < 7)
                *frac = *frac * 10 + (*p - '0'), nf++;
    for (; nf < 7; nf++)
        *frac *= 10;
    *frac = (*frac + 5) / 10;
    return p;
}

/* ":MM[:SS]" at p (which points at the colon): the minutes, and the
 * seconds if present (*have_sec). NULL when a colon has no digits after it. */
static const char *read_min_sec(const char *p, const char *end, int64_t *m, int64_t *s,
                                bool *have_sec)
{
    int n;
    p = read_uint(p + 1, end, m, &n);
    if (n == 0)
        return NULL;
    *have_sec = p < end && *p == ':';
    if (*have_sec) {
        p = read_uint(p + 1, end, s, &n);
        if (n == 0)
            return NULL;
    }
    return p;
}

/* HH:MM[:SS[.frac]] into microseconds, or the ISO basic HHMM[SS[.frac]]
 * for a timestamp; hours may be 24 only at 24:00:00 unless `any_hours`
 * (an interval's time field). */
static const char *parse_time(const char *p, const char *end, bool any_hours, int64_t *out,
                              dt_rc *rc)
{
    int64_t h, m = 0, s = 0, frac = 0;
    int nh;
    bool have_sec = false;
    p = read_uint(p, end, &h, &nh);
    if (!any_hours && (nh == 4 || nh == 6) && (p == end || *p != ':')) {
        if ((have_sec = nh == 6))
            s = h % 100, h /= 100;
        m = h % 100, h /= 100;
    } else {
        if (nh == 0 || p == end || *p != ':')
            return NULL;
        if ((p = read_min_sec(p, end, &m, &s, &have_sec)) == NULL)
            return NULL;
    }
    if (have_sec)
        p = parse_fraction(p, end, &frac);
    __int128 t = (((__int128)h * 60 + m) * 60 + s) * SQL__USECS_PER_SEC + frac;
    if ((!any_hours && (h > 24 || (h == 24 && (m || s || frac)))) || m > 59 || s > 60 ||
        t > INT64_MAX) {
        *rc = DT_RANGE;
        return NULL;
    }
    *out = (int64_t)t;
    return p;
}

/* +-HH, +-HH:MM[:SS], +-HHMM after the sign. */
static const char *parse_offset(const char *p, const char *end, int32_t *out, dt_rc *rc)
{
    int sign = *p == '-' ? -1 : 1;
    int64_t h, m = 0, s = 0;
    int nh;
    p = read_uint(p + 1, end, &h, &nh);
    if (nh == 4)
        m = h % 100, h /= 100;
    else if (nh == 0 || nh > 2)
        return NULL;
    bool have_sec;
    if (p < end && *p == ':' && (p = read_min_sec(p, end, &m, &s, &have_sec)) == NULL)
        return NULL;
    if (h > 15 || m > 59 || s > 59) {
        *rc = DT_RANGE;
        return NULL;
    }
    *out = sign * (int32_t)(h * 3600 + m * 60 + s);
    return p;
}

static bool word_is(const char *p, const char *end, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(end - p) >= n && strncasecmp(p, w, n) == 0 &&
           (p + n == end || !isalpha((unsigned char)p[n]));
}

static dt_rc parse_special(const char *p, const char *end, dt_fields *f)
{
    static const struct {
        const char *word;
        int special;
    } words[] = {{"infinity", DT_INFINITY},
                 {"+infinity", DT_INFINITY},
                 {"-infinity", DT_NEG_INFINITY},
                 {"epoch", DT_EPOCH},
                 {"now", DT_NOW},
                 {"today", DT_TODAY},
                 {"tomorrow", DT_TOMORROW},
                 {"yesterday", DT_YESTERDAY}};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if ((size_t)(end - p) == strlen(words[i].word) && word_is(p, end, words[i].word)) {
            f->special = words[i].special;
            return DT_OK;
        }
    return DT_BAD;
}

/* A zone name (letters, digits, '/', '_', '+', '-') looked up with
 * sql_tz_open; its offset is the one in force at the parsed local time. */
static const char *parse_zone_name(const char *p, const char *end, kv_arena *arena, dt_fields *f,
                                   int64_t local_secs, dt_rc *rc)
{
    const char *w = p;
    while (p < end &&
           (isalnum((unsigned char)*p) || *p == '/' || *p == '_' || *p == '+' || *p == '-'))
        p++;
    char name[64];
    if ((size_t)(p - w) >= sizeof(name))
        return NULL;
    memcpy(name, w, (size_t)(p - w));
    name[p - w] = '\0';
    const sql_tz *tz = NULL;
    sql_error ignored = {0};
    if (sql_tz_open(name, arena, &tz, &ignored) != 0) {
        /* PostgreSQL calls only a name with a '/' an unknown zone (and
         * reports it downcased); another unknown word is bad syntax */
        *rc = strchr(name, '/') != NULL ? DT_ZONE : DT_BAD;
        for (size_t i = 0; name[i]; i++)
            f->zone_name[i] = (char)tolower((unsigned char)name[i]);
        f->zone_name[p - w] = '\0';
        return NULL;
    }
    f->have_zone = true;
    f->zone = sql__tz_offset_local(tz, local_secs);
    return p;
}

static int64_t local_secs_of(const dt_fields *f)
{
    int64_t days = date2j(f->year, f->month, f->day) - POSTGRES_EPOCH_JDATE + SQL__UNIX_EPOCH_DAYS;
    return days * 86400 + f->time / SQL__USECS_PER_SEC;
}

/* Everything after the date: time, zone, BC/AD in any order. */
static dt_rc parse_tail(const char *p, const char *end, kv_arena *arena, dt_fields *f)
{
    dt_rc rc = DT_BAD;
    for (p = skip_space(p, end); p < end; p = skip_space(p, end)) {
        if (word_is(p, end, "bc") || word_is(p, end, "ad")) {
            f->bc = tolower((unsigned char)*p) == 'b';
            p += 2;
        } else if (!f->have_time && isdigit((unsigned char)*p)) {
            if ((p = parse_time(p, end, false, &f->time, &rc)) == NULL)
                return rc;
            f->have_time = true;
        } else if (!f->have_zone && (*p == '+' || *p == '-')) {
            if ((p = parse_offset(p, end, &f->zone, &rc)) == NULL)
                return rc;
            f->have_zone = true;
        } else if (!f->have_zone && (*p == 'z' || *p == 'Z') &&
                   (p + 1 == end || !isalpha((unsigned char)p[1]))) {
            f->have_zone = true, f->zone = 0, p++;
        } else if (!f->have_zone && isalpha((unsigned char)*p)) {
            if ((p = parse_zone_name(p, end, arena, f, local_secs_of(f), &rc)) == NULL)
                return rc;
        } else {
            return DT_BAD;
        }
    }
    return DT_OK;
}

static dt_rc parse_datetime(const char *s, size_t len, kv_arena *arena, dt_fields *f)
{
    *f = (dt_fields){0};
    const char *p = skip_space(s, s + len), *end = s + len;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (p == end)
        return DT_BAD;
    if (parse_special(p, end, f) == DT_OK)
        return DT_OK;
    date_tokens t;
    const char *q = scan_date(p, end, &t);
    if (q == NULL || !assign_date(&t, f))
        return DT_BAD;
    if (f->year > 1000000000) /* far beyond every type's range; keeps date2j exact */
        return DT_RANGE;
    if (q < end && (*q == 'T' || *q == 't') && q + 1 < end && isdigit((unsigned char)q[1]))
        q++;
    dt_rc rc = parse_tail(q, end, arena, f);
    if (rc != DT_OK)
        return rc;
    if (f->bc) {
        if (f->year < 1)
            return DT_RANGE;
        f->year = 1 - f->year;
    } else if (f->year == 0) {
        return DT_RANGE; /* there is no year 0 AD */
    }
    if (f->month < 1 || f->month > 12 || f->day < 1 || f->day > 31)
        return DT_MD_RANGE;
    return f->day > days_in_month(f->year, f->month) ? DT_RANGE : DT_OK;
}

/* ---- errors ------------------------------------------------------------- */

static int dt_error(dt_rc rc, const char *type, const char *s, size_t len, const dt_fields *f,
                    kv_arena *arena, sql_error *err)
{
    switch (rc) {
    case DT_RANGE:
    case DT_MD_RANGE:
        sql_error_set(err, arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                      "date/time field value out of range: \"%.*s\"", (int)len, s);
        if (rc == DT_MD_RANGE)
            sql_error_hint(err, arena, "Perhaps you need a different \"datestyle\" setting.");
        return -1;
    case DT_NO_NOW:
        return sql_error_set(err, arena, SQL_STATE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                             "\"%.*s\" needs the transaction timestamp", (int)len, s);
    case DT_ZONE:
        return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "time zone \"%s\" not recognized", f->zone_name);
    default:
        return sql_error_set(err, arena, SQL_STATE_INVALID_DATETIME_FORMAT,
                             "invalid input syntax for type %s: \"%.*s\"", type, (int)len, s);
    }
}

/* ---- special words ------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The timestamp a finite special word names: UTC when `with_tz`, else
 * local wall time in the session zone ('now' is the transaction
 * timestamp, 'today' local midnight), as PostgreSQL. */
static dt_rc special_ts(dt_special sp, bool with_tz, const sql_io_ctx *ctx, int64_t *out)
{
    if (sp == DT_EPOCH) {
        *out = -SQL__UNIX_EPOCH_DAYS * SQL__USECS_PER_DAY;
        return DT_OK;
    }
    if (ctx == NULL || !ctx->has_now)
        return DT_NO_NOW;
    const sql_tz *tz = ctx->tz ? ctx->tz : sql_tz_utc();
    int64_t unix_secs = floor_div(ctx->now, SQL__USECS_PER_SEC) + SQL__UNIX_EPOCH_DAYS * 86400;
    int64_t local = ctx->now + (int64_t)sql_tz_offset_at(tz, unix_secs) * SQL__USECS_PER_SEC;
    if (sp == DT_NOW) {
        *out = with_tz ? ctx->now : local;
        return DT_OK;
    }
    int64_t days =
        floor_div(local, SQL__USECS_PER_DAY) + (sp == DT_TOMORROW) - (sp == DT_YESTERDAY);
    int64_t midnight = days * SQL__USECS_PER_DAY;
    if (with_tz)
        midnight -= (int64_t)sql__tz_offset_local(tz, (days + SQL__UNIX_EPOCH_DAYS) * 86400) *
                    SQL__USECS_PER_SEC;
    *out = midnight;
    return DT_OK;
}

/* ---- date --------------------------------------------------------------- */

int sql__date_parse(const char *s, size_t len, const sql_io_ctx *ctx, kv_arena *arena, int32_t *out,
                    sql_error *err)
{
    dt_fields f;
    /* a time and zone may follow; PostgreSQL ignores them for a date */
    dt_rc rc = parse_datetime(s, len, arena, &f);
    if (rc == DT_OK && f.special > DT_NEG_INFINITY) {
        int64_t ts;
        rc = special_ts(f.special, false, ctx, &ts);
        *out = (int32_t)floor_div(ts, SQL__USECS_PER_DAY);
    } else if (f.special) {
        *out = f.special == DT_INFINITY ? INT32_MAX : INT32_MIN;
    }
    if (rc != DT_OK)
        return dt_error(rc, "date", s, len, &f, arena, err);
    if (f.special)
        return 0;
    if (f.year < -4713 || f.year > 5874898)
        return sql_error_set(err, arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "date out of range: \"%.*s\"", (int)len, s);
    int64_t d = (int64_t)date2j(f.year, f.month, f.day) - POSTGRES_EPOCH_JDATE;
    if (!sql__date_valid((int32_t)d) || d != (int32_t)d)
        return sql_error_set(err, arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "date out of range: \"%.*s\"", (int)len, s);
    *out = (int32_t)d;
    return 0;
}

/* Appends v in decimal, zero-padded to at least `width` digits. */
static char *put_uint(char *p, uint64_t v, int width)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n < width)
        tmp[n++] = '0';
    while (n > 0)
        *p++ = tmp[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    size_t n = strlen(s);
    memcpy(p, s, n);
    return p + n;
}

/* "YYYY-MM-DD" with the year of astronomical `y` in BC form when <= 0. */
static char *put_ymd(char *p, int y, int m, int d, bool *bc)
{
    *bc = y <= 0;
    p = put_uint(p, (uint64_t)(*bc ? 1 - y : y), 4);
    *p++ = '-';
    p = put_uint(p, (uint64_t)m, 2);
    *p++ = '-';
    return put_uint(p, (uint64_t)d, 2);
}

int sql__date_format(int32_t date, char buf[static SQL__DATETIME_BUF])
{
    char *p = buf;
    if (date == INT32_MAX || date == INT32_MIN) {
        p = put_str(p, date == INT32_MAX ? "infinity" : "-infinity");
    } else {
        int y, m, d;
        bool bc;
        j2date((int64_t)date + POSTGRES_EPOCH_JDATE, &y, &m, &d);
        p = put_ymd(p, y, m, d, &bc);
        if (bc)
            p = put_str(p, " BC");
    }
    *p = '\0';
    return (int)(p - buf);
}

/* ---- timestamp ------------------------------------------------------------ */

int sql__timestamp_parse(const char *s, size_t len, bool with_tz, const sql_io_ctx *ctx,
                         kv_arena *arena, int64_t *out, sql_error *err)
{
    const char *type = with_tz ? "timestamp with time zone" : "timestamp";
    const sql_tz *tz = ctx != NULL ? ctx->tz : NULL;
    dt_fields f;
    dt_rc rc = parse_datetime(s, len, arena, &f);
    if (rc == DT_OK && f.special > DT_NEG_INFINITY)
        rc = special_ts(f.special, with_tz, ctx, out);
    else if (f.special)
        *out = f.special == DT_INFINITY ? INT64_MAX : INT64_MIN;
    if (rc != DT_OK)
        return dt_error(rc, type, s, len, &f, arena, err);
    if (f.special)
        return 0;
    if (f.year < -4713 || f.year > 294277)
        goto out_of_range;
    int64_t days = (int64_t)date2j(f.year, f.month, f.day) - POSTGRES_EPOCH_JDATE;
    int64_t ts = days * SQL__USECS_PER_DAY + f.time;
    if (with_tz) {
        int32_t zone =
            f.have_zone ? f.zone : sql__tz_offset_local(tz ? tz : sql_tz_utc(), local_secs_of(&f));
        ts -= (int64_t)zone * SQL__USECS_PER_SEC;
    }
    if (!sql__timestamp_valid(ts))
        goto out_of_range;
    *out = ts;
    return 0;
out_of_range:
    return sql_error_set(err, arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                         "timestamp out of range: \"%.*s\"", (int)len, s);
}

/* "SS[.ffffff]" with trailing fractional zeros dropped, as AppendSeconds. */
static char *put_seconds(char *p, int64_t usec_of_minute)
{
    p = put_uint(p, (uint64_t)(usec_of_minute / SQL__USECS_PER_SEC), 2);
    int64_t frac = usec_of_minute % SQL__USECS_PER_SEC;
    if (frac != 0) {
        *p++ = '.';
        p = put_uint(p, (uint64_t)frac, 6);
        while (p[-1] == '0')
            p--;
    }
    return p;
}

/* "+HH", "+HH:MM" or "+HH:MM:SS" for `off` seconds east of UTC. */
static char *put_offset(char *p, int32_t off)
{
    int a = off < 0 ? -off : off;
    *p++ = off < 0 ? '-' : '+';
    p = put_uint(p, (uint64_t)(a / 3600), 2);
    if (a % 3600 != 0) {
        *p++ = ':';
        p = put_uint(p, (uint64_t)(a / 60 % 60), 2);
    }
    if (a % 60 != 0) {
        *p++ = ':';
        p = put_uint(p, (uint64_t)(a % 60), 2);
    }
    return p;
}

int sql__timestamp_format(int64_t ts, bool with_tz, const sql_tz *tz,
                          char buf[static SQL__DATETIME_BUF])
{
    if (ts == INT64_MAX || ts == INT64_MIN) {
        char *p = put_str(buf, ts == INT64_MAX ? "infinity" : "-infinity");
        *p = '\0';
        return (int)(p - buf);
    }
    int32_t off = 0;
    if (with_tz) {
        int64_t unix_secs = ts / SQL__USECS_PER_SEC - (ts % SQL__USECS_PER_SEC < 0) +
                            (int64_t)SQL__UNIX_EPOCH_DAYS * 86400;
        off = sql_tz_offset_at(tz ? tz : sql_tz_utc(), unix_secs);
        ts += (int64_t)off * SQL__USECS_PER_SEC;
    }
    int64_t days = ts / SQL__USECS_PER_DAY, tod = ts % SQL__USECS_PER_DAY;
    if (tod < 0)
        tod += SQL__USECS_PER_DAY, days--;
    int y, m, d;
    bool bc;
    j2date(days + POSTGRES_EPOCH_JDATE, &y, &m, &d);
    char *p = put_ymd(buf, y, m, d, &bc);
    *p++ = ' ';
    p = put_uint(p, (uint64_t)(tod / USECS_PER_HOUR), 2);
    *p++ = ':';
    p = put_uint(p, (uint64_t)(tod / USECS_PER_MINUTE % 60), 2);
    *p++ = ':';
    p = put_seconds(p, tod % USECS_PER_MINUTE);
    if (with_tz)
        p = put_offset(p, off);
    if (bc)
        p = put_str(p, " BC");
    *p = '\0';
    return (int)(p - buf);
}

int sql__timestamp_typmod(int64_t ts, int32_t typmod, kv_arena *arena, int64_t *out, sql_error *err)
{
    if (typmod < 0 || typmod >= 6 || ts == INT64_MAX || ts == INT64_MIN) {
        *out = ts;
        return 0;
    }
    int64_t scale = 1;
    for (int i = typmod; i < 6; i++)
        scale *= 10;
    /* half away from zero, as AdjustTimestampForTypmod */
    int64_t r = ts >= 0 ? (ts + scale / 2) / scale * scale : -((-ts + scale / 2) / scale * scale);
    if (!sql__timestamp_valid(r))
        return sql_error_set(err, arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "timestamp out of range");
    *out = r;
    return 0;
}

/* ---- interval ------------------------------------------------------------- */

/* A unit: how many months, days or microseconds one of it is. */
typedef struct iv_unit {
    const char *names; /* space separated, all lower case */
    int32_t months;
    int32_t days;
    int64_t micros;
} iv_unit;

static const iv_unit iv_units[] = {
    {"microsecond microseconds us usec usecs", 0, 0, 1},
    {"millisecond milliseconds ms msec msecs", 0, 0, 1000},
    {"second seconds s sec secs", 0, 0, SQL__USECS_PER_SEC},
    {"minute minutes m min mins", 0, 0, USECS_PER_MINUTE},
    {"hour hours h hr hrs", 0, 0, USECS_PER_HOUR},
    {"day days d", 0, 1, 0},
    {"week weeks w", 0, 7, 0},
    {"month months mon mons", 1, 0, 0},
    {"year years y yr yrs", 12, 0, 0},
    {"decade decades dec decs", 120, 0, 0},
    {"century centuries c cent", 1200, 0, 0},
    {"millennium millennia mil mils millenniums", 12000, 0, 0},
};

static const iv_unit *find_unit(const char *p, size_t n)
{
    for (size_t i = 0; i < sizeof(iv_units) / sizeof(iv_units[0]); i++)
        for (const char *w = iv_units[i].names; *w;) {
            size_t wl = strcspn(w, " ");
            if (wl == n && strncasecmp(w, p, n) == 0)
                return &iv_units[i];
            w += wl + (w[wl] == ' ');
        }
    return NULL;
}

/* Adds value * unit, cascading fractions down (months -> days -> micros)
 * as PostgreSQL's AdjustFractDays/AdjustFractSeconds. */
static dt_rc add_unit(sql_interval *iv, long double value, const iv_unit *u)
{
    /* year-based units overflow the month count as a whole interval, the
     * others as a field (PostgreSQL's two messages) */
    dt_rc overflow = u->months > 1 ? DT_IV_OVERFLOW : DT_RANGE;
    long double months = value * u->months;
    if (fabsl(months) > 4e9L || fabsl(value * u->days) > 4e9L)
        return overflow;
    long double days = value * u->days + (months - (int64_t)months) * SQL__DAYS_PER_MONTH;
    long double micros = value * u->micros + (days - (int64_t)days) * SQL__USECS_PER_DAY;
    long double m = (long double)iv->months + (int64_t)months;
    long double d = (long double)iv->days + (int64_t)days;
    long double us = roundl((long double)iv->micros + micros);
    if (m > INT32_MAX || m < INT32_MIN)
        return overflow;
    if (d > INT32_MAX || d < INT32_MIN || us > 9223372036854775807.0L ||
        us < -9223372036854775808.0L)
        return DT_RANGE;
    iv->months = (int32_t)m, iv->days = (int32_t)d, iv->micros = (int64_t)us;
    return DT_OK;
}

/* Indexes into iv_units. */
enum { IV_SECOND = 2, IV_MINUTE, IV_HOUR, IV_DAY, IV_WEEK, IV_MONTH, IV_YEAR };

/* Bits of `used` for a unit; a unit may appear once (PostgreSQL's fmask). */
#define IV_BIT(u)    (1u << ((u)-iv_units))
#define IV_TIME_BITS (IV_BIT(&iv_units[2]) | IV_BIT(&iv_units[3]) | IV_BIT(&iv_units[4]))

/* SQL-standard year-month "Y-M" after the years were read. */
static const char *parse_year_month(long double years, const char *p, const char *end,
                                    sql_interval *iv, unsigned *used, dt_rc *rc)
{
    const unsigned bits = IV_BIT(&iv_units[IV_YEAR]) | IV_BIT(&iv_units[IV_MONTH]);
    int64_t months;
    int n;
    p = read_uint(p, end, &months, &n);
    if (*used & bits)
        return NULL;
    if (months > 11 || years > 178956970 || years < -178956970) {
        *rc = months > 11 ? DT_RANGE : DT_IV_OVERFLOW;
        return NULL;
    }
    *used |= bits;
    iv->months += (int32_t)(years * 12 + (years < 0 ? -months : months));
    return p;
}

/* ISO 8601 "P[nY][nM][nW][nD][T[nH][nM][nS]]" after the 'P'. */
static bool parse_iso_interval(const char *p, const char *end, sql_interval *iv, dt_rc *rc)
{
    bool time = false, any = false;
    while (p < end && !isspace((unsigned char)*p)) {
        if (*p == 'T' && !time) {
            time = true, p++;
            continue;
        }
        char *e;
        long double v = strtold(p, &e);
        if (e == p || e >= end || !isfinite((double)v))
            return false;
        const char *units = time ? "HMS" : "YMWD";
        const char *hit = strchr(units, *e);
        if (hit == NULL || *e == '\0')
            return false;
        static const int date_units[] = {IV_YEAR, IV_MONTH, IV_WEEK, IV_DAY};
        static const int time_units[] = {IV_HOUR, IV_MINUTE, IV_SECOND};
        int idx = time ? time_units[hit - units] : date_units[hit - units];
        if ((*rc = add_unit(iv, v, &iv_units[idx])) != DT_OK)
            return false;
        any = true;
        p = e + 1;
    }
    return any && skip_space(p, end) == end;
}

/* One element: "[+-]H:M[:S]", or "[+-]number [unit]". */
static const char *parse_iv_item(const char *p, const char *end, sql_interval *iv, unsigned *used,
                                 dt_rc *rc)
{
    int sign = *p == '-' ? -1 : 1;
    const char *q = (*p == '-' || *p == '+') ? p + 1 : p;
    const char *colon = q;
    while (colon < end && isdigit((unsigned char)*colon))
        colon++;
    if (colon < end && *colon == ':' && colon > q) {
        int64_t t;
        if ((*used & IV_TIME_BITS) || (q = parse_time(q, end, true, &t, rc)) == NULL)
            return NULL;
        *used |= IV_TIME_BITS;
        if (__builtin_add_overflow(iv->micros, sign * t, &iv->micros)) {
            *rc = DT_RANGE;
            return NULL;
        }
        return q;
    }
    /* [+-]digits[.digits]: strtold alone would also take inf, nan, hex */
    const char *num_end = q;
    int ndigits = 0, npoints = 0;
    for (; num_end < end && (isdigit((unsigned char)*num_end) || *num_end == '.'); num_end++)
        *num_end == '.' ? npoints++ : ndigits++;
    if (ndigits == 0 || npoints > 1)
        return NULL;
    long double v = strtold(p, NULL);
    if (npoints == 0 && num_end + 1 < end && *num_end == '-' && isdigit((unsigned char)num_end[1]))
        return parse_year_month(v, num_end + 1, end, iv, used, rc);
    q = skip_space(num_end, end);
    const char *w = q;
    while (q < end && isalpha((unsigned char)*q))
        q++;
    const iv_unit *u = q > w                  ? find_unit(w, (size_t)(q - w))
                       : next_is_time(q, end) ? &iv_units[IV_DAY]
                                              : &iv_units[IV_SECOND];
    if (u == NULL || (*used & IV_BIT(u)))
        return NULL;
    *used |= IV_BIT(u);
    if (q == w)
        q = num_end;
    if ((*rc = add_unit(iv, v, u)) != DT_OK)
        return NULL;
    return q;
}

static int iv_error(dt_rc rc, const char *s, size_t len, kv_arena *arena, sql_error *err)
{
    if (rc == DT_IV_OVERFLOW)
        return sql_error_set(err, arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "interval out of range");
    if (rc == DT_RANGE)
        return sql_error_set(err, arena, SQL_STATE_INTERVAL_FIELD_OVERFLOW,
                             "interval field value out of range: \"%.*s\"", (int)len, s);
    return dt_error(rc, "interval", s, len, NULL, arena, err);
}

int sql__interval_parse(const char *s, size_t len, kv_arena *arena, sql_interval *out,
                        sql_error *err)
{
    /* strtold needs a terminated copy */
    char *copy = kv_arena_strndup(arena, s, len);
    if (copy == NULL)
        return sql__oom(arena, err);
    const char *p = skip_space(copy, copy + len), *end = copy + len;
    sql_interval iv = {0};
    bool any = false, ago = false;
    unsigned used = 0;
    dt_rc rc = DT_BAD;
    if (p < end && *p == '@')
        p = skip_space(p + 1, end);
    if (p < end && *p == 'P') {
        if (!parse_iso_interval(p + 1, end, &iv, &rc))
            return iv_error(rc, s, len, arena, err);
        *out = iv;
        return 0;
    }
    while (p < end) {
        if (word_is(p, end, "ago")) {
            ago = true;
            p = skip_space(p + 3, end);
            if (p != end)
                return dt_error(DT_BAD, "interval", s, len, NULL, arena, err);
            break;
        }
        if ((p = parse_iv_item(p, end, &iv, &used, &rc)) == NULL)
            return iv_error(rc, s, len, arena, err);
        any = true;
        p = skip_space(p, end);
    }
    if (!any)
        return dt_error(DT_BAD, "interval", s, len, NULL, arena, err);
    if (ago)
        iv = (sql_interval){.months = -iv.months, .days = -iv.days, .micros = -iv.micros};
    *out = iv;
    return 0;
}

/* One "N unit[s]" part of the postgres style; updates the sign state. */
static size_t add_part(char *buf, size_t cap, int64_t value, const char *unit, bool *is_zero,
                       bool *is_before)
{
    if (value == 0)
        return 0;
    int n = snprintf(buf, cap, "%s%s%" PRId64 " %s%s", *is_zero ? "" : " ",
                     (!*is_zero && *is_before && value > 0) ? "+" : "", value, unit,
                     value != 1 ? "s" : "");
    *is_before = value < 0;
    *is_zero = false;
    return (size_t)n;
}

int sql__interval_format(const sql_interval *iv, char buf[static SQL__DATETIME_BUF])
{
    const size_t cap = SQL__DATETIME_BUF;
    bool is_zero = true, is_before = false;
    size_t n = 0;
    n += add_part(buf + n, cap - n, iv->months / 12, "year", &is_zero, &is_before);
    n += add_part(buf + n, cap - n, iv->months % 12, "mon", &is_zero, &is_before);
    n += add_part(buf + n, cap - n, iv->days, "day", &is_zero, &is_before);
    int64_t t = iv->micros;
    if (is_zero || t != 0) {
        int64_t hour = t / USECS_PER_HOUR, rest = t % USECS_PER_HOUR;
        bool minus = t < 0;
        uint64_t urest = (uint64_t)(rest < 0 ? -rest : rest);
        n += (size_t)snprintf(buf + n, cap - n, "%s%s%02" PRIu64 ":%02d:", is_zero ? "" : " ",
                              minus ? "-" : (is_before ? "+" : ""),
                              hour < 0 ? (uint64_t)0 - (uint64_t)hour : (uint64_t)hour,
                              (int)(urest / (uint64_t)USECS_PER_MINUTE));
        n = (size_t)(put_seconds(buf + n, (int64_t)(urest % (uint64_t)USECS_PER_MINUTE)) - buf);
    }
    buf[n] = '\0';
    return (int)n;
}
