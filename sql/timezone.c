/*
 * timezone.c - time zones for timestamptz without the C library's global
 * TZ state (setenv/tzset are process-wide and the SQL layer is
 * multi-threaded): fixed offsets, and IANA zones read from the TZif files
 * of the system tzdata.
 *
 * TZif (RFC 8536) as used here: the version-2+ 64-bit block.
 *   offset  size        field
 *   0       4           "TZif"
 *   4       1           version ('2', '3', '4')
 *   5       15          unused
 *   20      6 x 4       isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
 *                       (big-endian)
 *   44      ...         version-1 block with 4-byte times (skipped)
 *   then a second header like the first, then:
 *           timecnt x 8 transition times (UTC seconds, big-endian)
 *           timecnt x 1 index of the local time type after each transition
 *           typecnt x 6 types: int32 utoff, uint8 isdst, uint8 abbrind
 *           ...          abbreviations, leap seconds, indicators (unused)
 *           then "\n" POSIX-TZ-string "\n" (the footer)
 * Instants after the last transition follow the footer's rule, e.g.
 * "CET-1CEST,M3.5.0,M10.5.0/3" (std name, offset west of UTC, DST name
 * [offset], start and end as Mmonth.week.weekday[/time]). The rarely used
 * Jn and n day forms are not interpreted: such zones keep the last
 * transition's offset.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/types_int.h"

#define TZDIR "/usr/share/zoneinfo"

/* One end of a POSIX DST period: weekday `wday` (0 = Sunday) of week
 * `week` (1..4, 5 = last) of `month`, at `secs` of local wall time. */
typedef struct tz_rule_day {
    int month, week, wday;
    int32_t secs;
} tz_rule_day;

/* The footer's rule for instants after the last transition. */
typedef struct tz_rule {
    int32_t std_off, dst_off; /* seconds east of UTC */
    bool has_dst;
    tz_rule_day start, end;
} tz_rule;

struct sql_tz {
    int32_t fixed; /* the offset when ntrans == 0 and no rule */
    size_t ntrans;
    const int64_t *trans;  /* ascending UTC seconds */
    const int32_t *offset; /* offset[i] applies from trans[i] on */
    int32_t initial;       /* before trans[0] */
    bool has_rule;
    tz_rule rule;
};

static const sql_tz utc_zone = {0};

const sql_tz *sql_tz_utc(void)
{
    return &utc_zone;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int64_t year_of(int64_t days)
{
    int64_t y = 1970 + days / 366; /* an underestimate, then step up */
    while (days_from_civil(y + 1, 1, 1) <= days)
        y++;
    while (days_from_civil(y, 1, 1) > days)
        y--;
    return y;
}

/* Local seconds since 1970 at which `r` happens in year y. */
static int64_t rule_local_secs(const tz_rule_day *r, int64_t y)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = days_from_civil(y, r->month, 1);
    int wday_first = (int)(((first % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    int dim = mdays[r->month - 1] + (r->month == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
    int day = 1 + (r->wday - wday_first + 7) % 7 + (r->week - 1) * 7;
    while (day > dim)
        day -= 7;
    return (first + day - 1) * 86400 + r->secs;
}

static int32_t rule_offset_at(const tz_rule *r, int64_t utc_secs)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t local = utc_secs + r->std_off;
    int64_t y = year_of(local >= 0 ? local / 86400 : (local - 86399) / 86400);
    int64_t start = rule_local_secs(&r->start, y) - r->std_off;
    int64_t end = rule_local_secs(&r->end, y) - r->dst_off;
    bool dst = start < end ? utc_secs >= start && utc_secs < end
                           : !(utc_secs >= end && utc_secs < start); /* southern hemisphere */
    return dst ? r->dst_off : r->std_off;
}

int32_t sql_tz_offset_at(const sql_tz *tz, int64_t utc_secs)
{
    if (tz->has_rule && (tz->ntrans == 0 || utc_secs >= tz->trans[tz->ntrans - 1]))
        return rule_offset_at(&tz->rule, utc_secs);
    if (tz->ntrans == 0 || utc_secs < tz->trans[0])
        return tz->ntrans == 0 ? tz->fixed : tz->initial;
    size_t lo = 0, hi = tz->ntrans; /* trans[lo] <= utc_secs < trans[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= utc_secs)
            lo = mid;
        else
            hi = mid;
    }
    return tz->offset[lo];
}

int32_t sql__tz_offset_local(const sql_tz *tz, int64_t local_secs)
{
    /* Guess with the offsets a day either side; transitions are further
     * apart than that in every zone. In an overlap the later (after the
     * transition) reading wins, in a gap the offset before it, as
     * PostgreSQL's DetermineTimeZoneOffset. */
    int32_t before = sql_tz_offset_at(tz, local_secs - 86400);
    int32_t after = sql_tz_offset_at(tz, local_secs + 86400);
    return sql_tz_offset_at(tz, local_secs - after) == after ? after : before;
}

/* "+05:30", "-08", "+0530" in the POSIX sign convention PostgreSQL applies
 * to the TimeZone setting: positive is WEST of Greenwich ('+05:30' prints
 * as -05:30). Offsets inside timestamp literals are ISO (east positive);
 * datetime.c parses those itself. */
static bool parse_fixed(const char *name, int32_t *out)
{
    if (name[0] != '+' && name[0] != '-')
        return false;
    int sign = name[0] == '-' ? 1 : -1;
    int h = 0, m = 0, nd = 0;
    const char *p = name + 1;
    for (; isdigit((unsigned char)*p) && nd < 4; p++, nd++)
        h = h * 10 + (*p - '0');
    if (nd == 4)
        m = h % 100, h /= 100;
    else if (nd == 0 || nd > 2)
        return false;
    if (*p == ':' && nd <= 2) {
        if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
            return false;
        m = (p[1] - '0') * 10 + (p[2] - '0');
        p += 3;
    }
    if (*p != '\0' || h > 15 || m > 59)
        return false;
    *out = sign * (h * 3600 + m * 60);
    return true;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* [+-]hh[:mm[:ss]] as seconds; NULL when malformed. */
static const char *posix_hms(const char *p, int32_t *out)
{
    int sign = *p == '-' ? -1 : 1;
    p += *p == '-' || *p == '+';
    int32_t v = 0, part = 0;
    for (int field = 0; field < 3; field++) {
        if (!isdigit((unsigned char)*p))
            return NULL;
        for (part = 0; isdigit((unsigned char)*p); p++)
            part = part * 10 + (*p - '0');
        v = v * 60 + part;
        if (*p != ':' || field == 2) {
            for (; field < 2; field++)
                v *= 60;
            break;
        }
        p++;
    }
    *out = sign * v;
    return p;
}

static const char *posix_name(const char *p)
{
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q ? q + 1 : NULL;
    }
    const char *q = p;
    while (isalpha((unsigned char)*q))
        q++;
    return q - p >= 3 ? q : NULL;
}

/* ",Mm.w.d[/time]" */
static const char *posix_rule_day(const char *p, tz_rule_day *d)
{
    if (p[0] != ',' || p[1] != 'M')
        return NULL;
    char *e;
    d->month = (int)strtol(p + 2, &e, 10);
    if (*e != '.')
        return NULL;
    d->week = (int)strtol(e + 1, &e, 10);
    if (*e != '.')
        return NULL;
    d->wday = (int)strtol(e + 1, &e, 10);
    if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 || d->wday < 0 || d->wday > 6)
        return NULL;
    d->secs = 7200;
    return *e == '/' ? posix_hms(e + 1, &d->secs) : e;
}

/* A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3" (offsets are
 * west-positive there). */
static bool parse_posix_tz(const char *p, tz_rule *r)
{
    int32_t west;
    *r = (tz_rule){0};
    if ((p = posix_name(p)) == NULL || (p = posix_hms(p, &west)) == NULL)
        return false;
    r->std_off = r->dst_off = -west;
    if (*p == '\0')
        return true;
    if ((p = posix_name(p)) == NULL)
        return false;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if ((p = posix_hms(p, &west)) == NULL)
            return false;
        r->dst_off = -west;
    }
    r->has_dst = true;
    return (p = posix_rule_day(p, &r->start)) != NULL && (p = posix_rule_day(p, &r->end)) != NULL &&
           *p == '\0';
}

/* The footer after the 64-bit block at `data` (counts c[]), if any. */
static void parse_footer(const uint8_t *data, const size_t c[6], const uint8_t *b, size_t n,
                         sql_tz *tz)
{
    size_t body = c[3] * 9 + c[4] * 6 + c[5] + c[2] * 12 + c[1] + c[0];
    const uint8_t *f = data + body;
    if ((size_t)(f - b) + 2 > n || f[0] != '\n')
        return;
    const uint8_t *nl = memchr(f + 1, '\n', n - (size_t)(f + 1 - b));
    char text[128];
    if (nl == NULL || (size_t)(nl - f - 1) >= sizeof(text))
        return;
    memcpy(text, f + 1, (size_t)(nl - f - 1));
    text[nl - f - 1] = '\0';
    tz->has_rule = parse_posix_tz(text, &tz->rule);
}

/* Parses the 64-bit block of a TZif image into *tz (arrays in `arena`). */
static bool parse_tzif(const uint8_t *b, size_t n, kv_arena *arena, sql_tz *tz)
{
    if (n < 44 || memcmp(b, "TZif", 4) != 0 || b[4] < '2')
        return false;
    size_t c[6];
    for (int i = 0; i < 6; i++)
        c[i] = be32(b + 20 + 4 * i);
    size_t v1 = c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (44 + v1 + 44 > n)
        return false;
    const uint8_t *h = b + 44 + v1;
    for (int i = 0; i < 6; i++)
        c[i] = be32(h + 20 + 4 * i);
    size_t timecnt = c[3], typecnt = c[4];
    const uint8_t *times = h + 44, *idx = times + timecnt * 8, *types = idx + timecnt;
    if (typecnt == 0 || (size_t)(types + typecnt * 6 - b) > n)
        return false;
    int64_t *trans = kv_arena_alloc(arena, timecnt * sizeof(int64_t) + 1);
    int32_t *offset = kv_arena_alloc(arena, timecnt * sizeof(int32_t) + 1);
    if (trans == NULL || offset == NULL)
        return false;
    for (size_t i = 0; i < timecnt; i++) {
        if (idx[i] >= typecnt)
            return false;
        trans[i] = be64(times + 8 * i);
        offset[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    *tz = (sql_tz){.ntrans = timecnt,
                   .trans = trans,
                   .offset = offset,
                   .initial = (int32_t)be32(types),
                   .fixed = (int32_t)be32(types)};
    parse_footer(times, c, b, n, tz);
    return true;
}

/* Zone names are paths below TZDIR: refuse anything that could leave it. */
static bool safe_name(const char *name)
{
    if (name[0] == '\0' || name[0] == '/' || strlen(name) > 255 || strstr(name, "..") != NULL)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && strchr("/_+-", *p) == NULL)
            return false;
    return true;
}

static bool load_iana(const char *name, kv_arena *arena, sql_tz *tz)
{
    char path[320];
    snprintf(path, sizeof(path), "%s/%s", TZDIR, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    bool ok = false;
    uint8_t *buf = malloc(1 << 17);
    if (buf == NULL)
        goto out_close;
    size_t n = fread(buf, 1, 1 << 17, f);
    ok = !ferror(f) && parse_tzif(buf, n, arena, tz);
    free(buf);
out_close:
    fclose(f);
    return ok;
}

int sql_tz_open(const char *name, kv_arena *arena, const sql_tz **out, sql_error *err)
{
    sql_tz *tz = kv_arena_alloc(arena, sizeof(*tz));
    if (tz == NULL)
        return sql__oom(arena, err);
    *tz = (sql_tz){0};
    if (strcasecmp(name, "UTC") == 0 || strcasecmp(name, "GMT") == 0 ||
        strcasecmp(name, "Z") == 0 || parse_fixed(name, &tz->fixed) ||
        (safe_name(name) && load_iana(name, arena, tz))) {
        *out = tz;
        return 0;
    }
    return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                         "time zone \"%s\" not recognized", name);
}
