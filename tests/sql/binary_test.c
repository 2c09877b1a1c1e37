/*
 * binary_test.c - PostgreSQL binary send/receive formats: byte-exact
 * against what PostgreSQL 15's *send functions return (send_golden.inc),
 * receive(send(x)) == x, and the 22P03 errors of malformed input.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sql/keyenc.h"
#include "sql_test_util.h"

typedef struct send_golden {
    const char *type, *input, *hex;
} send_golden;

static const send_golden cases[] = {
#include "send_golden.inc"
};

TestSuite(sql_binary, .init = tu_setup, .fini = tu_teardown);

static const char *hex(const uint8_t *p, size_t n)
{
    char *s = kv_arena_alloc(tu_arena, 2 * n + 1);
    cr_assert_not_null(s);
    for (size_t i = 0; i < n; i++)
        snprintf(s + 2 * i, 3, "%02x", p[i]);
    s[2 * n] = '\0';
    return s;
}

Test(sql_binary, send_matches_postgresql15)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sql_type t = tu_type(cases[i].type);
        sql_datum d = tu_in(t, cases[i].input);
        const uint8_t *buf;
        size_t len;
        sql_error err = {0};
        cr_assert_eq(sql_datum_send(t, &d, tu_arena, &buf, &len, &err), 0);
        const char *got = hex(buf, len);
        cr_expect_str_eq(got, cases[i].hex, "%s '%s': got %s, want %s", cases[i].type,
                         cases[i].input, got, cases[i].hex);
    }
}

Test(sql_binary, recv_inverts_send)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        sql_type t = tu_type(cases[i].type);
        sql_datum d = tu_in(t, cases[i].input), back;
        const uint8_t *buf;
        size_t len;
        sql_error err = {0};
        cr_assert_eq(sql_datum_send(t, &d, tu_arena, &buf, &len, &err), 0);
        cr_assert_eq(sql_datum_recv(t, buf, len, tu_arena, &back, &err), 0, "%s '%s': %s",
                     cases[i].type, cases[i].input, err.message);
        cr_expect_str_eq(tu_out(t, &back), tu_out(t, &d), "%s '%s'", cases[i].type, cases[i].input);
    }
}

static void expect_recv_error(sql_type t, const uint8_t *buf, size_t len, const char *state,
                              const char *msg)
{
    sql_datum d;
    sql_error err = {0};
    cr_assert_eq(sql_datum_recv(t, buf, len, tu_arena, &d, &err), -1);
    cr_expect_str_eq(sql_sqlstate_code(err.state), state);
    cr_expect_str_eq(err.message, msg);
}

Test(sql_binary, malformed_input)
{
    static const uint8_t three[] = {0, 0, 1};
    expect_recv_error(tu_type("integer"), three, 3, "08P01", "insufficient data left in message");
    expect_recv_error(tu_type("smallint"), three, 3, "22P03", "incorrect binary data format");
    static const uint8_t bad_sign[] = {0, 1, 0, 0, 0x12, 0x34, 0, 0, 0, 1};
    expect_recv_error(tu_type("numeric"), bad_sign, sizeof(bad_sign), "22P03",
                      "invalid sign in external \"numeric\" value");
    static const uint8_t bad_digit[] = {0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10};
    expect_recv_error(tu_type("numeric"), bad_digit, sizeof(bad_digit), "22P03",
                      "invalid digit in external \"numeric\" value");
    static const uint8_t short_digits[] = {0, 2, 0, 0, 0, 0, 0, 0, 0, 1};
    expect_recv_error(tu_type("numeric"), short_digits, sizeof(short_digits), "22P03",
                      "incorrect binary data format");
    static const uint8_t bad_date[] = {0x7f, 0xff, 0xff, 0xf0};
    expect_recv_error(tu_type("date"), bad_date, 4, "22008", "date out of range");
    expect_recv_error(tu_type("text"), (const uint8_t *)"\xff", 1, "22021",
                      "invalid byte sequence for encoding \"UTF8\": 0xff");
}

/* Binary parameters get the column's typmod like text ones. */
Test(sql_binary, recv_applies_typmod)
{
    /* 1.005 as ndigits 2, weight 0, dscale 3: digits 1, 0050 */
    static const uint8_t n[] = {0, 2, 0, 0, 0, 0, 0, 3, 0, 1, 0, 50};
    sql_datum d;
    sql_error err = {0};
    cr_assert_eq(sql_datum_recv(tu_type("numeric(5,2)"), n, sizeof(n), tu_arena, &d, &err), 0);
    cr_expect_str_eq(tu_out(tu_type("numeric"), &d), "1.01");
    /* digits below dscale are truncated, as numeric_recv */
    static const uint8_t t[] = {0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88};
    cr_assert_eq(sql_datum_recv(tu_type("numeric"), t, sizeof(t), tu_arena, &d, &err), 0);
    cr_expect_str_eq(tu_out(tu_type("numeric"), &d), "1.5");
    cr_assert_eq(
        sql_datum_recv(tu_type("varchar(2)"), (const uint8_t *)"abc", 3, tu_arena, &d, &err), -1);
    cr_expect_str_eq(sql_sqlstate_code(err.state), "22001");
}

/* recv(send(x)) == x exactly, numeric display scale included. */
Test(sql_binary, random_values_round_trip)
{
    for (size_t ti = 0; ti < TU_NTYPES; ti++) {
        sql_type t = {.oid = tu_all_types[ti], .typmod = -1};
        if (t.oid == SQL_T_TEXT || t.oid == SQL_T_VARCHAR || t.oid == SQL_T_BPCHAR)
            continue; /* random bytes are not UTF-8; golden cases cover text */
        for (int i = 0; i < 2000; i++) {
            sql_datum d = tu_random_datum(t.oid), back;
            if (d.isnull)
                continue;
            const uint8_t *buf;
            size_t len;
            sql_error err = {0};
            cr_assert_eq(sql_datum_send(t, &d, tu_arena, &buf, &len, &err), 0);
            cr_assert_eq(sql_datum_recv(t, buf, len, tu_arena, &back, &err), 0, "%s: %s",
                         sql_type_name(t.oid), err.message);
            cr_assert_str_eq(tu_out(t, &back), tu_out(t, &d), "%s", sql_type_name(t.oid));
        }
    }
}

/* Arbitrary bytes never crash a receive function or the key decoder. */
Test(sql_binary, random_bytes_are_received_or_rejected)
{
    for (int i = 0; i < 20000; i++) {
        uint8_t buf[20];
        size_t n = tu_rnd() % sizeof(buf);
        for (size_t k = 0; k < n; k++)
            buf[k] = tu_rnd() % 3 ? (uint8_t)tu_rnd() : (uint8_t)(tu_rnd() % 3);
        sql_type t = {.oid = tu_all_types[tu_rnd() % TU_NTYPES], .typmod = -1};
        sql_datum d;
        sql_error err = {0};
        int rc = sql_datum_recv(t, buf, n, tu_arena, &d, &err);
        cr_assert(rc == 0 || (rc == -1 && err.message != NULL), "%s", sql_type_name(t.oid));
        const uint8_t *p = buf;
        rc = sql_key_get(&p, buf + n, t, tu_rnd() % 2, tu_arena, &d, &err);
        cr_assert(rc == 0 ? p <= buf + n : err.message != NULL, "%s", sql_type_name(t.oid));
    }
}
