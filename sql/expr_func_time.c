/*
 * expr_func_time.c - date/time functions: date_trunc, extract/date_part,
 * age, make_date, make_timestamp, to_timestamp(float8), timezone (AT TIME
 * ZONE), isfinite, justify_days/justify_hours/justify_interval.
 *
 * Fields are computed the way PostgreSQL 15's timestamp.c does: a value is
 * split into a broken-down `tm` (astronomical year, 1 BC = year 0, as
 * PostgreSQL's tm_year), fields are read or truncated there, and the
 * timestamptz variants work on the session time zone's wall time.
 * EXTRACT gives numeric (exact: seconds keep their 6 decimals), date_part
 * float8 of the same value. Every datum produced lives in ctx->arena.
 */
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/expr_int.h"

/* A broken-down time: a timestamp's or an interval's fields. */
typedef struct tm_fields {
    int64_t year; /* astronomical for timestamps; interval: whole years */
    int64_t mon;  /* 1..12 for timestamps; interval: 0..11 */
    int64_t mday; /* interval: days */
    int64_t hour, min, sec;
    int64_t usec; /* fraction of the second, µs */
} tm_fields;

typedef enum unit {
    U_MICROSEC,
    U_MILLISEC,
    U_SECOND,
    U_MINUTE,
    U_HOUR,
    U_DAY,
    U_WEEK,
    U_MONTH,
    U_QUARTER,
    U_YEAR,
    U_DECADE,
    U_CENTURY,
    U_MILLENNIUM,
    U_DOW,
    U_ISODOW,
    U_DOY,
    U_EPOCH,
    U_JULIAN,
    U_ISOYEAR,
    U_TZ,
    U_TZ_HOUR,
    U_TZ_MINUTE,
} unit;

/* PostgreSQL's deltatktbl and datetktbl spellings of the units. */
static const struct {
    const char *name;
    unit u;
} unit_names[] = {
    {"microsecond", U_MICROSEC},
    {"microseconds", U_MICROSEC},
    {"us", U_MICROSEC},
    {"usec", U_MICROSEC},
    {"usecs", U_MICROSEC},
    {"millisecond", U_MILLISEC},
    {"milliseconds", U_MILLISEC},
    {"ms", U_MILLISEC},
    {"msec", U_MILLISEC},
    {"msecs", U_MILLISEC},
    {"second", U_SECOND},
    {"seconds", U_SECOND},
    {"s", U_SECOND},
    {"sec", U_SECOND},
    {"secs", U_SECOND},
    {"minute", U_MINUTE},
    {"minutes", U_MINUTE},
    {"m", U_MINUTE},
    {"min", U_MINUTE},
    {"mins", U_MINUTE},
    {"hour", U_HOUR},
    {"hours", U_HOUR},
    {"h", U_HOUR},
    {"hr", U_HOUR},
    {"hrs", U_HOUR},
    {"day", U_DAY},
    {"days", U_DAY},
    {"d", U_DAY},
    {"week", U_WEEK},
    {"weeks", U_WEEK},
    {"w", U_WEEK},
    {"month", U_MONTH},
    {"months", U_MONTH},
    {"mon", U_MONTH},
    {"mons", U_MONTH},
    {"quarter", U_QUARTER},
    {"qtr", U_QUARTER},
    {"year", U_YEAR},
    {"years", U_YEAR},
    {"y", U_YEAR},
    {"yr", U_YEAR},
    {"yrs", U_YEAR},
    {"decade", U_DECADE},
    {"decades", U_DECADE},
    {"dec", U_DECADE},
    {"decs", U_DECADE},
    {"century", U_CENTURY},
    {"centuries", U_CENTURY},
    {"c", U_CENTURY},
    {"cent", U_CENTURY},
    {"millennium", U_MILLENNIUM},
    {"millennia", U_MILLENNIUM},
    {"mil", U_MILLENNIUM},
    {"mils", U_MILLENNIUM},
    {"dow", U_DOW},
    {"isodow", U_ISODOW},
    {"doy", U_DOY},
    {"epoch", U_EPOCH},
    {"julian", U_JULIAN},
    {"j", U_JULIAN},
    {"isoyear", U_ISOYEAR},
    {"timezone", U_TZ},
    {"timezone_h", U_TZ_HOUR},
    {"timezone_hour", U_TZ_HOUR},
    {"timezone_m", U_TZ_MINUTE},
    {"timezone_minute", U_TZ_MINUTE},
};

/* The lower-cased unit name of d (static until the next call on this
 * thread is not needed: it lives in ctx->arena). */
static const char *unit_text(sql_eval_ctx *ctx, const sql_datum *d)
{
    char *s = kv_arena_strndup(ctx->arena, (const char *)d->v.s.p, d->v.s.len);

    for (char *p = s; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return s;
}

static int unit_error(sql_eval_ctx *ctx, const char *name, sql_type_id t, bool recognized)
{
    return sql_error_set(ctx->err, ctx->arena,
                         recognized ? SQL_STATE_FEATURE_NOT_SUPPORTED
                                    : SQL_STATE_INVALID_PARAMETER_VALUE,
                         "unit \"%s\" %s for type %s", name,
                         recognized ? "not supported" : "not recognized", sql_type_name(t));
}

/* The unit d names, or -1 with 22023 "not recognized for type t". */
static int parse_unit(sql_eval_ctx *ctx, const sql_datum *d, sql_type_id t, unit *u,
                      const char **name)
{
    *name = unit_text(ctx, d);
    if (!*name)
        return sql__fn_oom(ctx);
    for (size_t i = 0; i < sizeof unit_names / sizeof *unit_names; i++)
        if (strcmp(unit_names[i].name, *name) == 0) {
            *u = unit_names[i].u;
            return 0;
        }
    return unit_error(ctx, *name, t, false);
}

/* ---- broken-down times ----------------------------------------------- */

static void ts_to_tm(int64_t t, tm_fields *tm)
{
    int64_t day = sql__floor_div(t, USECS_PER_DAY), tod = t - day * USECS_PER_DAY;
    int m, d;

    sql__days_to_ymd(day, &tm->year, &m, &d);
    tm->mon = m;
    tm->mday = d;
    tm->hour = tod / (3600 * USECS_PER_SEC);
    tm->min = tod / (60 * USECS_PER_SEC) % 60;
    tm->sec = tod / USECS_PER_SEC % 60;
    tm->usec = tod % USECS_PER_SEC;
}

/* The timestamp of tm; false outside timestamp's range. */
static bool tm_to_ts(const tm_fields *tm, int64_t *out)
{
    int64_t day = sql__ymd_to_days(tm->year, (int)tm->mon, (int)tm->mday);
    if (day < TS_MIN / USECS_PER_DAY - 1 || day > TS_END / USECS_PER_DAY)
        return false;
    *out =
        day * USECS_PER_DAY + ((tm->hour * 60 + tm->min) * 60 + tm->sec) * USECS_PER_SEC + tm->usec;
    return *out >= TS_MIN && *out < TS_END;
}

static void iv_to_tm(const sql_interval *iv, tm_fields *tm)
{
    tm->year = iv->months / 12;
    tm->mon = iv->months % 12;
    tm->mday = iv->days;
    tm->hour = iv->micros / (3600 * USECS_PER_SEC);
    tm->min = iv->micros / (60 * USECS_PER_SEC) % 60;
    tm->sec = iv->micros / USECS_PER_SEC % 60;
    tm->usec = iv->micros % USECS_PER_SEC;
}

static int tm_to_iv(sql_eval_ctx *ctx, const tm_fields *tm, sql_datum *out)
{
    int64_t us = ((tm->hour * 60 + tm->min) * 60 + tm->sec) * USECS_PER_SEC + tm->usec;
    return sql__iv_result(ctx, false, tm->year * 12 + tm->mon, tm->mday, us, out);
}

int64_t sql__dow(int64_t days)
{
    int64_t r = (days + 6) % 7;
    return r < 0 ? r + 7 : r;
}

int64_t sql__iso_week1(int64_t y)
{
    int64_t jan4 = sql__ymd_to_days(y, 1, 4);
    return jan4 - (sql__dow(jan4) + 6) % 7;
}

void sql__iso_week(int64_t days, int64_t *iso_year, int64_t *week)
{
    int64_t y;
    int m, d;

    sql__days_to_ymd(days, &y, &m, &d);
    if (days >= sql__iso_week1(y + 1))
        y++;
    else if (days < sql__iso_week1(y))
        y--;
    *iso_year = y;
    *week = (days - sql__iso_week1(y)) / 7 + 1;
}

/* ---- date_trunc ------------------------------------------------------- */

/* PostgreSQL's year truncations, BC years included. */
static int64_t trunc_year(unit u, int64_t y)
{
    if (u == U_MILLENNIUM)
        return y > 0 ? ((y + 999) / 1000) * 1000 - 999 : -((999 - (y - 1)) / 1000) * 1000 + 1;
    if (u == U_CENTURY)
        return y > 0 ? ((y + 99) / 100) * 100 - 99 : -((99 - (y - 1)) / 100) * 100 + 1;
    return y > 0 ? (y / 10) * 10 : -((8 - (y - 1)) / 10) * 10;
}

/* Truncates timestamp fields to unit u (timestamp_trunc's cascade);
 * false for a unit date_trunc does not take. */
static bool trunc_tm(unit u, tm_fields *tm)
{
    if (u == U_WEEK) {
        int64_t iy, wk, day = sql__ymd_to_days(tm->year, (int)tm->mon, (int)tm->mday);
        int m, d;
        sql__iso_week(day, &iy, &wk);
        sql__days_to_ymd(sql__iso_week1(iy) + (wk - 1) * 7, &tm->year, &m, &d);
        tm->mon = m;
        tm->mday = d;
        u = U_DAY;
    }
    switch (u) {
    case U_MILLENNIUM:
    case U_CENTURY:
    case U_DECADE:
        tm->year = trunc_year(u, tm->year);
        /* fall through */
    case U_YEAR:
        tm->mon = 1;
        /* fall through */
    case U_QUARTER:
        tm->mon = 3 * ((tm->mon - 1) / 3) + 1;
        /* fall through */
    case U_MONTH:
        tm->mday = 1;
        /* fall through */
    case U_DAY:
        tm->hour = 0;
        /* fall through */
    case U_HOUR:
        tm->min = 0;
        /* fall through */
    case U_MINUTE:
        tm->sec = 0;
        /* fall through */
    case U_SECOND:
        tm->usec = 0;
        return true;
    case U_MILLISEC:
        tm->usec = tm->usec / 1000 * 1000;
        return true;
    case U_MICROSEC:
        return true;
    default:
        return false;
    }
}

static int trunc_ts(FN_ARGS)
{
    sql_type_id t = e->type.oid;
    bool tz = t == SQL_T_TIMESTAMPTZ;
    int64_t ts = args[1].v.ts, off = 0, r;
    const char *name;
    tm_fields tm = {.year = 2000, .mon = 1, .mday = 1};
    unit u;

    if (parse_unit(ctx, &args[0], t, &u, &name) < 0)
        return -1;
    out->isnull = false;
    out->v.ts = ts;
    if (!sql__ts_finite(ts))
        return trunc_tm(u, &tm) ? 0 : unit_error(ctx, name, t, false);
    if (tz)
        off = sql__tz_off_utc(ctx, ts);
    ts_to_tm(ts + off, &tm);
    if (!trunc_tm(u, &tm))
        return unit_error(ctx, name, t, false);
    if (!tm_to_ts(&tm, &r))
        return sql__time_range_error(ctx, SQL_T_TIMESTAMP);
    /* from a day up the zone's offset is that of the truncated time;
     * below, the original one (a DST change inside the hour) */
    out->v.ts = !tz ? r : u >= U_DAY ? sql__tz_local_to_utc(ctx, r) : r - off;
    return 0;
}

static int trunc_iv(FN_ARGS)
{
    const char *name;
    tm_fields tm;
    unit u;

    if (parse_unit(ctx, &args[0], SQL_T_INTERVAL, &u, &name) < 0)
        return -1;
    iv_to_tm(&args[1].v.iv, &tm);
    if (u == U_WEEK) {
        unit_error(ctx, name, SQL_T_INTERVAL, true);
        sql_error_detail(ctx->err, ctx->arena, "Months usually have fractional weeks.");
        return -1;
    }
    if (u > U_MILLENNIUM)
        return unit_error(ctx, name, SQL_T_INTERVAL, false);
    if (u >= U_DECADE) {
        int64_t div = u == U_MILLENNIUM ? 1000 : u == U_CENTURY ? 100 : 10;
        tm.year = tm.year / div * div;
        u = U_YEAR;
    }
    if (u == U_YEAR || u == U_QUARTER) {
        tm.mon = u == U_YEAR ? 0 : 3 * (tm.mon / 3);
        u = U_MONTH;
    }
    if (u == U_MONTH) {
        tm.mday = 0;
        u = U_DAY;
    }
    tm.mon += 1; /* trunc_tm's months are 1-based */
    trunc_tm(u, &tm);
    tm.mon -= 1;
    return tm_to_iv(ctx, &tm, out);
}

/* ---- extract / date_part ----------------------------------------------- */

/* A field's value: v * 10^-scale, or infinite (sign), or NULL. */
typedef struct field_val {
    int64_t v;
    int scale;
    int inf; /* -1, +1: -Infinity, Infinity */
    bool isnull;
} field_val;

/* PostgreSQL's year-based fields of (astronomical) year y. */
static int64_t year_field(unit u, int64_t y)
{
    switch (u) {
    case U_YEAR:
        return y > 0 ? y : y - 1;
    case U_DECADE:
        return y >= 0 ? y / 10 : -((8 - (y - 1)) / 10);
    case U_CENTURY:
        return y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100);
    default:
        assert(u == U_MILLENNIUM);
        return y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000);
    }
}

/* Fields a date and a timestamp share; false when u is not one. */
static bool date_field(unit u, int64_t day, const tm_fields *tm, field_val *f)
{
    int64_t iy, wk;

    switch (u) {
    case U_DAY:
        f->v = tm->mday;
        return true;
    case U_MONTH:
        f->v = tm->mon;
        return true;
    case U_QUARTER:
        f->v = (tm->mon - 1) / 3 + 1;
        return true;
    case U_YEAR:
    case U_DECADE:
    case U_CENTURY:
    case U_MILLENNIUM:
        f->v = year_field(u, tm->year);
        return true;
    case U_WEEK:
    case U_ISOYEAR:
        sql__iso_week(day, &iy, &wk);
        f->v = u == U_WEEK ? wk : iy > 0 ? iy : iy - 1;
        return true;
    case U_DOW:
    case U_ISODOW:
        f->v = sql__dow(day);
        if (u == U_ISODOW && f->v == 0)
            f->v = 7;
        return true;
    case U_DOY:
        f->v = day - sql__ymd_to_days(tm->year, 1, 1) + 1;
        return true;
    default:
        return false;
    }
}

static bool time_field(unit u, const tm_fields *tm, field_val *f)
{
    int64_t us = tm->sec * USECS_PER_SEC + tm->usec;

    switch (u) {
    case U_MICROSEC:
        f->v = us;
        return true;
    case U_MILLISEC:
        f->v = us;
        f->scale = 3;
        return true;
    case U_SECOND:
        f->v = us;
        f->scale = 6;
        return true;
    case U_MINUTE:
        f->v = tm->min;
        return true;
    case U_HOUR:
        f->v = tm->hour;
        return true;
    default:
        return false;
    }
}

/* Units whose value grows with time: infinite for infinite inputs. */
static bool monotonic(unit u)
{
    return u == U_YEAR || u == U_DECADE || u == U_CENTURY || u == U_MILLENNIUM || u == U_JULIAN ||
           u == U_ISOYEAR || u == U_EPOCH;
}

/* Units that cycle: NULL for infinite inputs. */
static bool oscillating(unit u, bool has_time)
{
    return u == U_DAY || u == U_MONTH || u == U_QUARTER || u == U_WEEK || u == U_DOW ||
           u == U_ISODOW || u == U_DOY || (has_time && u <= U_HOUR);
}

/* The field u of value args[1] of type t. 0, or -1 with 22023/0A000. */
static int ts_field(sql_eval_ctx *ctx, unit u, const char *name, sql_type_id t, int64_t ts,
                    field_val *f)
{
    tm_fields tm;

    if (!sql__ts_finite(ts)) {
        if (!monotonic(u) && !oscillating(u, true) && !(u >= U_TZ && t == SQL_T_TIMESTAMPTZ))
            return unit_error(ctx, name, t, true);
        f->isnull = !monotonic(u);
        f->inf = ts == INT64_MIN ? -1 : 1;
        return 0;
    }
    /* only now: the sentinels of +-infinity overflow when shifted */
    int64_t off = t == SQL_T_TIMESTAMPTZ ? sql__tz_off_utc(ctx, ts) : 0, local = ts + off;
    ts_to_tm(local, &tm);
    if (date_field(u, sql__floor_div(local, USECS_PER_DAY), &tm, f) || time_field(u, &tm, f))
        return 0;
    if (u == U_EPOCH) {
        f->v = ts + EPOCH_SHIFT_SECS * USECS_PER_SEC;
        f->scale = 6;
        return 0;
    }
    if (u >= U_TZ && t == SQL_T_TIMESTAMPTZ) {
        int64_t secs = off / USECS_PER_SEC;
        f->v = u == U_TZ ? secs : u == U_TZ_HOUR ? secs / 3600 : secs / 60 % 60;
        return 0;
    }
    if (u == U_JULIAN) /* its numeric scale comes from numeric division rules */
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "unit \"%s\" is not supported yet for type %s", name,
                             sql_type_name(t));
    return unit_error(ctx, name, t, true);
}

static int date_fieldv(sql_eval_ctx *ctx, unit u, const char *name, int32_t date, field_val *f)
{
    tm_fields tm = {0};
    int m, d;

    if (!sql__date_finite(date)) {
        if (!monotonic(u) && !oscillating(u, false))
            return unit_error(ctx, name, SQL_T_DATE, true);
        f->isnull = !monotonic(u);
        f->inf = date == INT32_MIN ? -1 : 1;
        return 0;
    }
    sql__days_to_ymd(date, &tm.year, &m, &d);
    tm.mon = m;
    tm.mday = d;
    if (date_field(u, date, &tm, f))
        return 0;
    if (u == U_EPOCH || u == U_JULIAN) {
        /* days from 1970-01-01 and from the Julian day 0 to 2000-01-01 */
        f->v = u == U_EPOCH ? ((int64_t)date + 10957) * 86400 : (int64_t)date + 2451545;
        return 0;
    }
    return unit_error(ctx, name, SQL_T_DATE, true);
}

static int iv_field(sql_eval_ctx *ctx, unit u, const char *name, const sql_interval *iv,
                    field_val *f)
{
    tm_fields tm;

    iv_to_tm(iv, &tm);
    if (time_field(u, &tm, f))
        return 0;
    switch (u) {
    case U_DAY:
        f->v = tm.mday;
        return 0;
    case U_MONTH:
        f->v = tm.mon;
        return 0;
    case U_QUARTER:
        f->v = tm.mon / 3 + 1;
        return 0;
    case U_YEAR:
        f->v = tm.year;
        return 0;
    case U_DECADE:
        f->v = tm.year / 10;
        return 0;
    case U_CENTURY:
        f->v = tm.year / 100;
        return 0;
    case U_MILLENNIUM:
        f->v = tm.year / 1000;
        return 0;
    case U_EPOCH:
        /* a year counts 365.25 days, a month 30 */
        f->v = ((int64_t)(365.25 * 86400 * (iv->months / 12)) +
                (int64_t)(DAYS_PER_MONTH * 86400 * (iv->months % 12)) + (int64_t)iv->days * 86400) *
                   USECS_PER_SEC +
               iv->micros;
        f->scale = 6;
        return 0;
    default:
        return unit_error(ctx, name, SQL_T_INTERVAL, true);
    }
}

/* The field args[0] of args[1], whose type is e->args[1]'s. */
static int field_of(sql_eval_ctx *ctx, const sql_bexpr *e, const sql_datum *args, field_val *f)
{
    sql_type_id t = e->args[1]->type.oid;
    const char *name;
    unit u;

    *f = (field_val){0};
    if (parse_unit(ctx, &args[0], t, &u, &name) < 0)
        return -1;
    if (t == SQL_T_DATE && e->type.oid == SQL_T_NUMERIC)
        return date_fieldv(ctx, u, name, args[1].v.date, f);
    if (t == SQL_T_DATE) { /* date_part(text, date) is that of the timestamp */
        int64_t ts;
        return sql__date_to_ts(ctx, args[1].v.date, &ts) < 0
                   ? -1
                   : ts_field(ctx, u, name, SQL_T_TIMESTAMP, ts, f);
    }
    if (t == SQL_T_INTERVAL)
        return iv_field(ctx, u, name, &args[1].v.iv, f);
    return ts_field(ctx, u, name, t, args[1].v.ts, f);
}

static int extract_fn(FN_ARGS)
{
    field_val f;
    mpz_t z;
    int rc;

    if (field_of(ctx, e, args, &f) < 0)
        return -1;
    out->isnull = f.isnull;
    if (f.isnull || f.inf) {
        out->v.num = (sql_numeric){.kind = f.inf < 0 ? SQL_NUM_NINF : SQL_NUM_PINF};
        return 0;
    }
    mpz_init_set_si(z, f.v);
    rc = sql__num_from_mpz(ctx, z, f.scale, &out->v.num);
    mpz_clear(z);
    return rc;
}

static int date_part_fn(FN_ARGS)
{
    static const double pow10[] = {1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0};
    field_val f;

    if (field_of(ctx, e, args, &f) < 0)
        return -1;
    out->isnull = f.isnull;
    out->v.f = f.inf ? f.inf * INFINITY : (double)f.v / pow10[f.scale];
    return 0;
}

/* ---- age -------------------------------------------------------------- */

/* timestamp_age: field-wise difference borrowing from the next field,
 * days borrowed at the length of the month of the earlier value. */
static int age_impl(sql_eval_ctx *ctx, int64_t t1, int64_t t2, bool tz, sql_datum *out)
{
    tm_fields a, b, r;
    bool neg = t1 < t2;

    if (!sql__ts_finite(t1) || !sql__ts_finite(t2))
        return sql__time_range_error(ctx, SQL_T_TIMESTAMP);
    ts_to_tm(tz ? t1 + sql__tz_off_utc(ctx, t1) : t1, &a);
    ts_to_tm(tz ? t2 + sql__tz_off_utc(ctx, t2) : t2, &b);
    int s = neg ? -1 : 1;
    r = (tm_fields){s * (a.year - b.year), s * (a.mon - b.mon), s * (a.mday - b.mday),
                    s * (a.hour - b.hour), s * (a.min - b.min), s * (a.sec - b.sec),
                    s * (a.usec - b.usec)};
    const tm_fields *earlier = neg ? &a : &b;
    for (; r.usec < 0; r.sec--)
        r.usec += USECS_PER_SEC;
    for (; r.sec < 0; r.min--)
        r.sec += 60;
    for (; r.min < 0; r.hour--)
        r.min += 60;
    for (; r.hour < 0; r.mday--)
        r.hour += 24;
    for (; r.mday < 0; r.mon--)
        r.mday += sql__days_in_month(earlier->year, (int)earlier->mon);
    for (; r.mon < 0; r.year--)
        r.mon += 12;
    r = (tm_fields){s * r.year, s * r.mon, s * r.mday, s * r.hour,
                    s * r.min,  s * r.sec, s * r.usec};
    return tm_to_iv(ctx, &r, out);
}

static int age2(FN_ARGS)
{
    return age_impl(ctx, args[0].v.ts, args[1].v.ts, e->args[0]->type.oid == SQL_T_TIMESTAMPTZ,
                    out);
}

/* age(t) = age(current_date at midnight, t). */
static int age1(FN_ARGS)
{
    bool tz = e->args[0]->type.oid == SQL_T_TIMESTAMPTZ;
    int64_t now = sql__txn_now(ctx), local = now + sql__tz_off_utc(ctx, now);
    int64_t midnight = sql__floor_div(local, USECS_PER_DAY) * USECS_PER_DAY;

    return age_impl(ctx, tz ? sql__tz_local_to_utc(ctx, midnight) : midnight, args[0].v.ts, tz,
                    out);
}

/* ---- constructors ------------------------------------------------------ */

/* The day of y-m-d (negative y: BC), or -1 with the 22008 make_date
 * raises. */
static int make_day(sql_eval_ctx *ctx, int64_t y, int64_t m, int64_t d, int64_t *day)
{
    int64_t ay = y < 0 ? y + 1 : y; /* astronomical */

    if (y == 0 || m < 1 || m > 12 || d < 1 || d > sql__days_in_month(ay, (int)m) || ay < -4713 ||
        ay > 5874897)
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "date field value out of range: %lld-%02lld-%02lld", (long long)y,
                             (long long)m, (long long)d);
    *day = sql__ymd_to_days(ay, (int)m, (int)d);
    return 0;
}

static int make_date_fn(FN_ARGS)
{
    int64_t day;

    if (make_day(ctx, args[0].v.i, args[1].v.i, args[2].v.i, &day) < 0)
        return -1;
    if (day < DATE_MIN || day >= DATE_END)
        return sql__time_range_error(ctx, SQL_T_DATE);
    out->isnull = false;
    out->v.date = (int32_t)day;
    return 0;
}

static int make_timestamp_fn(FN_ARGS)
{
    int64_t h = args[3].v.i, mi = args[4].v.i, day, r;
    double sec = args[5].v.f;

    if (make_day(ctx, args[0].v.i, args[1].v.i, args[2].v.i, &day) < 0)
        return -1;
    if (h < 0 || mi < 0 || mi > 59 || !(sec >= 0.0) || sec > 60.0 || h > 24 ||
        (h == 24 && (mi > 0 || sec > 0.0)))
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "time field value out of range: %lld:%02lld:%02g", (long long)h,
                             (long long)mi, sec);
    double us = rint(sec * 1e6) + (double)((h * 60 + mi) * 60 * USECS_PER_SEC);
    if (__builtin_mul_overflow(day, USECS_PER_DAY, &r) ||
        __builtin_add_overflow(r, (int64_t)us, &r) || r < TS_MIN || r >= TS_END)
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "timestamp out of range: %lld-%02lld-%02lld %lld:%02lld:%02g",
                             (long long)args[0].v.i, (long long)args[1].v.i, (long long)args[2].v.i,
                             (long long)h, (long long)mi, sec);
    out->isnull = false;
    out->v.ts = r;
    return 0;
}

/* to_timestamp(seconds since 1970) */
static int to_timestamp_fn(FN_ARGS)
{
    double secs = args[0].v.f;

    out->isnull = false;
    if (isnan(secs))
        return sql__fn_fail(ctx, SQL_STATE_DATETIME_FIELD_OVERFLOW, "timestamp cannot be NaN");
    if (isinf(secs)) {
        out->v.ts = secs < 0 ? INT64_MIN : INT64_MAX;
        return 0;
    }
    secs -= (double)EPOCH_SHIFT_SECS;
    if (secs < (double)TS_MIN / 1e6 || secs >= (double)TS_END / 1e6)
        return sql_error_set(ctx->err, ctx->arena, SQL_STATE_DATETIME_FIELD_OVERFLOW,
                             "timestamp out of range: \"%g\"", args[0].v.f);
    out->v.ts = (int64_t)rint(secs * 1e6);
    return 0;
}

/* timezone(zone, t): AT TIME ZONE. A timestamp is read as wall time in
 * the zone (giving timestamptz); a timestamptz becomes the zone's wall
 * time (giving timestamp). */
static int open_zone(kv_arena *arena, const sql_datum *d, const sql_tz **tz, sql_error *err)
{
    const char *name = kv_arena_strndup(arena, (const char *)d->v.s.p, d->v.s.len);

    if (!name)
        return sql_error_set(err, arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
    return sql_tz_open(name, arena, tz, err);
}

static int timezone_fn(FN_ARGS)
{
    const sql_tz *tz = e->aux;
    int64_t ts = args[1].v.ts;

    if (!tz && open_zone(ctx->arena, &args[0], &tz, ctx->err) < 0)
        return -1;
    out->isnull = false;
    out->v.ts = ts;
    if (!sql__ts_finite(ts))
        return 0;
    int64_t off = (int64_t)sql_tz_offset_at(tz, ts / USECS_PER_SEC + EPOCH_SHIFT_SECS);
    if (e->type.oid == SQL_T_TIMESTAMP) {
        out->v.ts = ts + off * USECS_PER_SEC;
    } else { /* two steps find the offset in force at that wall time */
        int64_t guess = ts - off * USECS_PER_SEC;
        off = sql_tz_offset_at(tz, guess / USECS_PER_SEC + EPOCH_SHIFT_SECS);
        out->v.ts = ts - off * USECS_PER_SEC;
    }
    if (out->v.ts < TS_MIN || out->v.ts >= TS_END)
        return sql__time_range_error(ctx, SQL_T_TIMESTAMP);
    return 0;
}

/* A constant zone is loaded (its TZif file read) once, at bind time. */
void sql__time_prepare(kv_arena *arena, sql_bexpr *b)
{
    const sql_tz *tz;
    sql_error err = {0};

    if (b->kind != SQL_BEXPR_FUNC || b->fn != timezone_fn || b->args[0]->kind != SQL_BEXPR_CONST ||
        b->args[0]->value.isnull)
        return;
    if (open_zone(arena, &b->args[0]->value, &tz, &err) == 0)
        b->aux = tz;
}

static int isfinite_fn(FN_ARGS)
{
    sql_type_id t = e->args[0]->type.oid;

    out->isnull = false;
    out->v.b = t == SQL_T_DATE       ? sql__date_finite(args[0].v.date)
               : t == SQL_T_INTERVAL ? true
                                     : sql__ts_finite(args[0].v.ts);
    return 0;
}

/* ---- justify_* ----------------------------------------------------------- */

/* Moves whole 30-day months of *days into *months. */
static void days_to_months(int64_t *months, int64_t *days)
{
    *months += *days / 30;
    *days %= 30;
}

static void micros_to_days(int64_t *days, int64_t *us)
{
    *days += *us / USECS_PER_DAY;
    *us %= USECS_PER_DAY;
}

/* Gives b the sign of a by borrowing one unit of a (worth `unit` b). */
static void align_sign(int64_t *a, int64_t *b, int64_t unit, bool zero_b_counts, int64_t next)
{
    if (*a > 0 && (*b < 0 || (zero_b_counts && *b == 0 && next < 0))) {
        *b += unit;
        --*a;
    } else if (*a < 0 && (*b > 0 || (zero_b_counts && *b == 0 && next > 0))) {
        *b -= unit;
        ++*a;
    }
}

static int justify_days_fn(FN_ARGS)
{
    int64_t m = args[0].v.iv.months, d = args[0].v.iv.days;

    days_to_months(&m, &d);
    align_sign(&m, &d, 30, false, 0);
    return sql__iv_result(ctx, false, m, d, args[0].v.iv.micros, out);
}

static int justify_hours_fn(FN_ARGS)
{
    int64_t d = args[0].v.iv.days, us = args[0].v.iv.micros;

    micros_to_days(&d, &us);
    align_sign(&d, &us, USECS_PER_DAY, false, 0);
    return sql__iv_result(ctx, false, args[0].v.iv.months, d, us, out);
}

static int justify_interval_fn(FN_ARGS)
{
    int64_t m = args[0].v.iv.months, d = args[0].v.iv.days, us = args[0].v.iv.micros;

    micros_to_days(&d, &us);
    days_to_months(&m, &d);
    align_sign(&m, &d, 30, true, us);
    align_sign(&d, &us, USECS_PER_DAY, false, 0);
    return sql__iv_result(ctx, false, m, d, us, out);
}

#define S    SQL__FN_STRICT
#define ST   (SQL__FN_STRICT | SQL__FN_STABLE)
#define T(x) SQL_T_##x

/* Rows over timestamptz depend on the session zone: stable. */
static const sql__fn time_fns[] = {
    {"date_trunc", 2, {T(TEXT), T(TIMESTAMP)}, T(TIMESTAMP), trunc_ts, S},
    {"date_trunc", 2, {T(TEXT), T(TIMESTAMPTZ)}, T(TIMESTAMPTZ), trunc_ts, ST},
    {"date_trunc", 2, {T(TEXT), T(INTERVAL)}, T(INTERVAL), trunc_iv, S},
    {"extract", 2, {T(TEXT), T(TIMESTAMP)}, T(NUMERIC), extract_fn, S},
    {"extract", 2, {T(TEXT), T(TIMESTAMPTZ)}, T(NUMERIC), extract_fn, ST},
    {"extract", 2, {T(TEXT), T(DATE)}, T(NUMERIC), extract_fn, S},
    {"extract", 2, {T(TEXT), T(INTERVAL)}, T(NUMERIC), extract_fn, S},
    {"date_part", 2, {T(TEXT), T(TIMESTAMP)}, T(FLOAT8), date_part_fn, S},
    {"date_part", 2, {T(TEXT), T(TIMESTAMPTZ)}, T(FLOAT8), date_part_fn, ST},
    {"date_part", 2, {T(TEXT), T(DATE)}, T(FLOAT8), date_part_fn, S},
    {"date_part", 2, {T(TEXT), T(INTERVAL)}, T(FLOAT8), date_part_fn, S},
    {"age", 2, {T(TIMESTAMP), T(TIMESTAMP)}, T(INTERVAL), age2, S},
    {"age", 2, {T(TIMESTAMPTZ), T(TIMESTAMPTZ)}, T(INTERVAL), age2, ST},
    {"age", 1, {T(TIMESTAMP)}, T(INTERVAL), age1, ST},
    {"age", 1, {T(TIMESTAMPTZ)}, T(INTERVAL), age1, ST},
    {"make_date", 3, {T(INT4), T(INT4), T(INT4)}, T(DATE), make_date_fn, S},
    {"make_timestamp",
     6,
     {T(INT4), T(INT4), T(INT4), T(INT4), T(INT4), T(FLOAT8)},
     T(TIMESTAMP),
     make_timestamp_fn,
     S},
    {"to_timestamp", 1, {T(FLOAT8)}, T(TIMESTAMPTZ), to_timestamp_fn, S},
    {"timezone", 2, {T(TEXT), T(TIMESTAMPTZ)}, T(TIMESTAMP), timezone_fn, S},
    {"timezone", 2, {T(TEXT), T(TIMESTAMP)}, T(TIMESTAMPTZ), timezone_fn, S},
    {"isfinite", 1, {T(DATE)}, T(BOOL), isfinite_fn, S},
    {"isfinite", 1, {T(TIMESTAMP)}, T(BOOL), isfinite_fn, S},
    {"isfinite", 1, {T(TIMESTAMPTZ)}, T(BOOL), isfinite_fn, S},
    {"isfinite", 1, {T(INTERVAL)}, T(BOOL), isfinite_fn, S},
    {"justify_days", 1, {T(INTERVAL)}, T(INTERVAL), justify_days_fn, S},
    {"justify_hours", 1, {T(INTERVAL)}, T(INTERVAL), justify_hours_fn, S},
    {"justify_interval", 1, {T(INTERVAL)}, T(INTERVAL), justify_interval_fn, S},
};

#undef S
#undef ST
#undef T

const sql__fn_set sql__fn_set_time = {NULL, 0, time_fns, sizeof time_fns / sizeof *time_fns};
