/*
 * sql_test_util.c - see sql_test_util.h.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sql_test_util.h"

/* ---- random values ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

uint64_t tu_rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int64_t rnd_range(int64_t lo, int64_t hi)
{
    return (int64_t)((uint64_t)lo + tu_rnd() % ((uint64_t)hi - (uint64_t)lo + 1));
}

const sql_type_id tu_all_types[] = {
    SQL_T_BOOL,      SQL_T_INT2,        SQL_T_INT4,     SQL_T_INT8,  SQL_T_FLOAT4,  SQL_T_FLOAT8,
    SQL_T_TEXT,      SQL_T_VARCHAR,     SQL_T_BPCHAR,   SQL_T_BYTEA, SQL_T_NUMERIC, SQL_T_DATE,
    SQL_T_TIMESTAMP, SQL_T_TIMESTAMPTZ, SQL_T_INTERVAL, SQL_T_UUID,
};

/* Short strings over an alphabet rich in the bytes the escaping handles. */
static void rnd_bytes(sql_datum *d, bool spaces)
{
    static const uint8_t alpha[] = {0x00, 0x01, 0xFF, 'a', 'b', ' '};
    size_t n = (size_t)rnd_range(0, 6);
    uint8_t *p = kv_arena_alloc(tu_arena, n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = spaces ? (tu_rnd() % 3 ? 'a' + (uint8_t)(tu_rnd() % 2) : ' ') : alpha[tu_rnd() % 6];
    d->v.s.p = p, d->v.s.len = n;
}

static void rnd_numeric(sql_datum *d)
{
    static const char *const special[] = {"NaN", "Infinity", "-Infinity", "0", "-0.000"};
    char buf[80];
    if (tu_rnd() % 8 == 0) {
        *d = tu_in(tu_type("numeric"), special[tu_rnd() % 5]);
        return;
    }
    int n = 0, ints = (int)rnd_range(0, 12), fracs = (int)rnd_range(0, 12);
    n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", tu_rnd() % 2 ? "-" : "");
    for (int i = 0; i < ints; i++)
        buf[n++] = (char)('0' + (tu_rnd() % 4 ? tu_rnd() % 10 : 0));
    buf[n++] = '.';
    for (int i = 0; i < fracs; i++)
        buf[n++] = (char)('0' + (tu_rnd() % 4 ? tu_rnd() % 10 : 0));
    if (ints + fracs == 0)
        buf[n++] = '7';
    snprintf(buf + n, sizeof(buf) - (size_t)n, "e%d", (int)rnd_range(-30, 30));
    *d = tu_in(tu_type("numeric"), buf);
}

static double rnd_double(void)
{
    static const double special[] = {0.0, -0.0, 1.0 / 0.0, -1.0 / 0.0, 1e-310, -1e-310};
    union {
        uint64_t u;
        double d;
    } x = {.u = tu_rnd()};
    switch (tu_rnd() % 5) {
    case 0:
        return special[tu_rnd() % 6];
    case 1:
        return (double)rnd_range(-5, 5) / 4;
    case 2:
        return 0.0 / 0.0;
    default:
        return x.d; /* includes NaNs with payloads and both signs */
    }
}

sql_datum tu_random_datum(sql_type_id t)
{
    sql_datum d = {0};
    if (tu_rnd() % 10 == 0) {
        d.isnull = true;
        return d;
    }
    switch (t) {
    case SQL_T_BOOL:
        d.v.b = tu_rnd() % 2;
        break;
    case SQL_T_INT2:
        d.v.i = (int16_t)tu_rnd();
        break;
    case SQL_T_INT4:
        d.v.i = tu_rnd() % 4 ? rnd_range(-3, 3) : (int32_t)tu_rnd();
        break;
    case SQL_T_INT8:
        d.v.i = (int64_t)tu_rnd();
        break;
    case SQL_T_FLOAT4:
        d.v.f = (float)rnd_double();
        break;
    case SQL_T_FLOAT8:
        d.v.f = rnd_double();
        break;
    case SQL_T_TEXT:
    case SQL_T_VARCHAR:
    case SQL_T_BYTEA:
        rnd_bytes(&d, false);
        break;
    case SQL_T_BPCHAR:
        rnd_bytes(&d, true);
        break;
    case SQL_T_NUMERIC:
        rnd_numeric(&d);
        break;
    case SQL_T_DATE:
        d.v.date = tu_rnd() % 10 == 0 ? (tu_rnd() % 2 ? INT32_MAX : INT32_MIN)
                                      : (int32_t)rnd_range(-2451545, 2145031948);
        break;
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        d.v.ts = tu_rnd() % 10 == 0 ? (tu_rnd() % 2 ? INT64_MAX : INT64_MIN)
                                    : rnd_range(-211813488000000000, 9223371331199999999);
        break;
    case SQL_T_INTERVAL:
        d.v.iv.months = (int32_t)(tu_rnd() % 3 ? rnd_range(-3, 3) : (int32_t)tu_rnd());
        d.v.iv.days = (int32_t)(tu_rnd() % 3 ? rnd_range(-90, 90) : (int32_t)tu_rnd());
        d.v.iv.micros = tu_rnd() % 3 ? rnd_range(-3, 3) * 86400000000 : (int64_t)tu_rnd();
        break;
    case SQL_T_UUID:
        for (int i = 0; i < 16; i++)
            d.v.uuid[i] = tu_rnd() % 2 ? 0 : (uint8_t)tu_rnd();
        break;
    case SQL_T_VOID: /* one value, no payload */
        break;
    default: { /* arrays: up to 4 random elements, in tu_arena */
        sql_datum elems[4];
        sql_error err = {0};
        int32_t n = (int32_t)(tu_rnd() % 5);
        assert(sql_type_array_elem(t));
        for (int32_t i = 0; i < n; i++)
            elems[i] = tu_random_datum(sql_type_array_elem(t));
        cr_assert_eq(sql_array_make(sql_type_array_elem(t), elems, n, tu_arena, &d, &err), 0);
        break;
    }
    }
    return d;
}

kv_arena *tu_arena;

void tu_setup(void)
{
    cr_assert_eq(kv_arena_create(&tu_arena), 0);
}

void tu_teardown(void)
{
    kv_arena_destroy(tu_arena);
    tu_arena = NULL;
}

sql_type tu_type(const char *pgname)
{
    static const struct {
        const char *name;
        sql_type_id oid;
    } names[] = {
        {"boolean", SQL_T_BOOL},        {"smallint", SQL_T_INT2},
        {"integer", SQL_T_INT4},        {"bigint", SQL_T_INT8},
        {"real", SQL_T_FLOAT4},         {"double precision", SQL_T_FLOAT8},
        {"numeric", SQL_T_NUMERIC},     {"text", SQL_T_TEXT},
        {"varchar", SQL_T_VARCHAR},     {"char", SQL_T_BPCHAR},
        {"bytea", SQL_T_BYTEA},         {"uuid", SQL_T_UUID},
        {"date", SQL_T_DATE},           {"timestamp with time zone", SQL_T_TIMESTAMPTZ},
        {"timestamp", SQL_T_TIMESTAMP}, {"interval", SQL_T_INTERVAL},
    };
    size_t base = strcspn(pgname, "(");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strlen(names[i].name) != base || strncmp(pgname, names[i].name, base) != 0)
            continue;
        sql_type t = {.oid = names[i].oid, .typmod = -1};
        int a, b;
        if (pgname[base] == '\0')
            return t;
        if (sscanf(pgname + base, "(%d,%d)", &a, &b) == 2)
            t.typmod = sql_typmod_numeric(a, b);
        else if (sscanf(pgname + base, "(%d)", &a) == 1)
            t.typmod =
                t.oid == SQL_T_TIMESTAMP || t.oid == SQL_T_TIMESTAMPTZ ? a : sql_typmod_char(a);
        return t;
    }
    cr_assert_fail("unknown type name %s", pgname);
    abort();
}

sql_datum tu_in(sql_type t, const char *text)
{
    sql_datum d;
    sql_error err = {0};
    int rc = sql_datum_from_text(t, text, strlen(text), NULL, tu_arena, &d, &err);
    cr_assert_eq(rc, 0, "input of \"%s\" as %u failed: %s", text, (unsigned)t.oid, err.message);
    return d;
}

const char *tu_out(sql_type t, const sql_datum *d)
{
    const char *s;
    sql_error err = {0};
    int rc = sql_datum_to_text(t, d, NULL, tu_arena, &s, NULL, &err);
    cr_assert_eq(rc, 0, "output failed: %s", err.message);
    return s;
}
