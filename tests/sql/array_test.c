/*
 * array_test.c - array values of the types module (sql/datum_array.c):
 * text input and output against what PostgreSQL 15 prints (quoting,
 * NULL elements, dimension decorations, element typmods), malformed
 * literals with PostgreSQL's SQLSTATE, message and detail, the binary
 * form byte for byte and its receive checks, and, over random arrays of
 * every element type, the key encoding's order and round trip, the row
 * value encoding's round trip, and hashing consistent with equality.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "sql/keyenc.h"
#include "sql/valenc.h"
#include "sql_test_util.h"

TestSuite(sql_array, .init = tu_setup, .fini = tu_teardown);

static const sql_type int4s = {SQL_T_INT4_ARRAY, -1};
static const sql_type texts = {SQL_T_TEXT_ARRAY, -1};

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

Test(sql_array, text_round_trips)
{
    static const struct {
        sql_type_id type;
        int32_t typmod;
        const char *in, *out;
    } cases[] = {
        {SQL_T_INT4_ARRAY, -1, "{1,2,NULL}", "{1,2,NULL}"},
        {SQL_T_INT4_ARRAY, -1, " { 1 , -2 } ", "{1,-2}"},
        {SQL_T_INT4_ARRAY, -1, "{}", "{}"},
        {SQL_T_INT4_ARRAY, -1, "{ }", "{}"},
        {SQL_T_INT4_ARRAY, -1, "[0:1]={5,6}", "[0:1]={5,6}"},
        {SQL_T_INT4_ARRAY, -1, "[1:2] = {5,6}", "{5,6}"},
        {SQL_T_INT4_ARRAY, -1, "[2]={5,6}", "{5,6}"},
        {SQL_T_TEXT_ARRAY, -1, "{\"a b\",c,null,\"\",\"NULL\",\"x\\\"y\",\"b\\\\s\"}",
         "{\"a b\",c,NULL,\"\",\"NULL\",\"x\\\"y\",\"b\\\\s\"}"},
        {SQL_T_TEXT_ARRAY, -1, "{a\\,b,\\ x ,  y z  }", "{\"a,b\",\" x\",\"y z\"}"},
        {SQL_T_TEXT_ARRAY, -1, "{\\NULL,\"{}\"}", "{\"NULL\",\"{}\"}"},
        {SQL_T_VARCHAR_ARRAY, 6, "{ab}", "{ab}"},
        {SQL_T_BPCHAR_ARRAY, 7, "{a,bcd}", "{\"a  \",bcd}"},
        {SQL_T_NUMERIC_ARRAY, -1, "{1.50,NaN,-0}", "{1.50,NaN,0}"},
        {SQL_T_BOOL_ARRAY, -1, "{t,false,NULL}", "{t,f,NULL}"},
        {SQL_T_FLOAT8_ARRAY, -1, "{1e300,-Infinity}", "{1e+300,-Infinity}"},
        {SQL_T_DATE_ARRAY, -1, "{2020-02-29,infinity}", "{2020-02-29,infinity}"},
        {SQL_T_INTERVAL_ARRAY, -1, "{\"1 day\"}", "{\"1 day\"}"},
        {SQL_T_BYTEA_ARRAY, -1, "{\"\\\\x4142\"}", "{\"\\\\x4142\"}"},
        {SQL_T_UUID_ARRAY, -1, "{12345678-1234-5678-1234-567812345678}",
         "{12345678-1234-5678-1234-567812345678}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sql_type t = {cases[i].type, cases[i].typmod};
        sql_datum d = tu_in(t, cases[i].in);
        cr_expect_str_eq(tu_out(t, &d), cases[i].out, "%s", cases[i].in);
    }
    /* the NULL the text names is a NULL element, a quoted one a string */
    sql_datum d = tu_in(texts, "{NULL,\"NULL\"}");
    cr_expect(d.v.arr->elems[0].isnull && !d.v.arr->elems[1].isnull);
}

Test(sql_array, malformed_literals_fail_like_postgresql)
{
    static const struct {
        sql_type_id type;
        const char *in, *state, *message, *detail;
    } cases[] = {
        {SQL_T_INT4_ARRAY, "{1,2", "22P02", "malformed array literal: \"{1,2\"",
         "Unexpected end of input."},
        {SQL_T_INT4_ARRAY, "x", "22P02", "malformed array literal: \"x\"",
         "Array value must start with \"{\" or dimension information."},
        {SQL_T_INT4_ARRAY, "{1,,2}", "22P02", "malformed array literal: \"{1,,2}\"",
         "Unexpected \",\" character."},
        {SQL_T_INT4_ARRAY, "{1}x", "22P02", "malformed array literal: \"{1}x\"",
         "Junk after closing right brace."},
        {SQL_T_TEXT_ARRAY, "{\"a\"b}", "22P02", "malformed array literal: \"{\"a\"b}\"",
         "Unexpected array element."},
        {SQL_T_TEXT_ARRAY, "{{a},b}", "22P02", "malformed array literal: \"{{a},b}\"",
         "Unexpected array element."},
        {SQL_T_TEXT_ARRAY, "{a,{b}}", "22P02", "malformed array literal: \"{a,{b}}\"",
         "Unexpected \"{\" character."},
        {SQL_T_INT4_ARRAY, "[1:2]={1}", "22P02", "malformed array literal: \"[1:2]={1}\"",
         "Specified array dimensions do not match array contents."},
        {SQL_T_INT4_ARRAY, "[1:1]={1}x", "22P02", "malformed array literal: \"{1}x\"",
         "Junk after closing right brace."},
        {SQL_T_INT4_ARRAY, "[a]={1}", "22P02", "malformed array literal: \"[a]={1}\"",
         "\"[\" must introduce explicitly-specified array dimensions."},
        {SQL_T_INT4_ARRAY, "[1:2]{1,2}", "22P02", "malformed array literal: \"[1:2]{1,2}\"",
         "Missing \"=\" after array dimensions."},
        {SQL_T_INT4_ARRAY, "[2:1]={}", "2202E", "upper bound cannot be less than lower bound",
         NULL},
        {SQL_T_INT4_ARRAY, "{1,a}", "22P02", "invalid input syntax for type integer: \"a\"", NULL},
        {SQL_T_INT4_ARRAY, "{{1,2},{3,4}}", "0A000",
         "multidimensional arrays are not supported yet", NULL},
        {SQL_T_INT4_ARRAY, "[1:2][1:1]={{1},{2}}", "0A000",
         "multidimensional arrays are not supported yet", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sql_error err = {0};
        sql_datum d;
        const char *in = cases[i].in;
        cr_assert_eq(sql_datum_from_text((sql_type){cases[i].type, -1}, in, strlen(in), NULL,
                                         tu_arena, &d, &err),
                     -1, "%s", in);
        cr_expect_str_eq(sql_sqlstate_code(err.state), cases[i].state, "%s", in);
        cr_expect_str_eq(err.message, cases[i].message, "%s", in);
        if (cases[i].detail)
            cr_expect_str_eq(err.detail, cases[i].detail, "%s", in);
    }
}

Test(sql_array, binary_form_is_array_send)
{
    static const uint8_t want[] = {
        0,    0,    0,    1,    0, 0, 0, 1, 0, 0, 0, 23, /* 1 dimension, has NULLs, int4 */
        0,    0,    0,    2,    0, 0, 0, 1,              /* 2 elements from 1 */
        0,    0,    0,    4,    0, 0, 0, 7,              /* 7 */
        0xff, 0xff, 0xff, 0xff,                          /* NULL */
    };
    static const uint8_t empty[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 25};
    sql_datum d = tu_in(int4s, "{7,NULL}"), back;
    const uint8_t *p;
    size_t len;
    sql_error err = {0};

    cr_assert_eq(sql_datum_send(int4s, &d, tu_arena, &p, &len, &err), 0);
    cr_assert_eq(len, sizeof want);
    cr_expect_arr_eq(p, want, sizeof want);
    cr_assert_eq(sql_datum_recv(int4s, want, sizeof want, tu_arena, &back, &err), 0);
    cr_expect_eq(sql_datum_cmp(SQL_T_INT4_ARRAY, &d, &back), 0);
    d = tu_in(texts, "{}");
    cr_assert_eq(sql_datum_send(texts, &d, tu_arena, &p, &len, &err), 0);
    cr_assert_eq(len, sizeof empty);
    cr_expect_arr_eq(p, empty, sizeof empty);
}

Test(sql_array, binary_receive_checks)
{
    static const uint8_t text_elems[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 25, 0,
                                         0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 'x'};
    static const uint8_t two_dims[] = {0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0,
                                       0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0,  0, 1};
    static const uint8_t short_elem[] = {0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0,
                                         0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 4, 0};
    static const struct {
        const uint8_t *p;
        size_t len;
        const char *state, *message;
    } cases[] = {
        {text_elems, sizeof text_elems, "42804",
         "binary data has array element type 25 (text) instead of expected 23 (int4)"},
        {two_dims, sizeof two_dims, "0A000", "multidimensional arrays are not supported yet"},
        {short_elem, sizeof short_elem, "08P01", "insufficient data left in message"},
        {text_elems, 8, "08P01", "insufficient data left in message"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sql_error err = {0};
        sql_datum d;
        cr_assert_eq(sql_datum_recv(int4s, cases[i].p, cases[i].len, tu_arena, &d, &err), -1);
        cr_expect_str_eq(sql_sqlstate_code(err.state), cases[i].state, "case %zu", i);
        cr_expect_str_eq(err.message, cases[i].message, "case %zu", i);
    }
}

/* The array types of tu_all_types (void has none). */
static int array_types(sql_type_id *out)
{
    int n = 0;
    for (int i = 0; i < TU_NTYPES; i++)
        if (sql_type_array_of(tu_all_types[i]))
            out[n++] = sql_type_array_of(tu_all_types[i]);
    return n;
}

static sql_keybuf key_of(sql_type_id t, sql_key_dir dir, const sql_datum *d)
{
    sql_keybuf b;
    sql_error err = {0};
    sql_keybuf_init(&b, tu_arena);
    cr_assert_eq(sql_key_put(&b, (sql_type){t, -1}, dir, false, d, &err), 0, "%s", err.message);
    return b;
}

static int key_cmp(const sql_keybuf *a, const sql_keybuf *b)
{
    int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
    return c ? sign(c) : sign((int)(a->len > b->len) - (int)(a->len < b->len));
}

Test(sql_array, documented_key_bytes)
{
    static const uint8_t want[] = {0x01, 0x01, 0x80, 0, 0, 1, 0x02, 0x00, 0x80, 0, 0, 1};
    sql_datum d = tu_in(int4s, "{1,NULL}");
    sql_keybuf k = key_of(SQL_T_INT4_ARRAY, SQL_KEY_ASC, &d);

    cr_assert_eq(k.len, sizeof want);
    cr_expect_arr_eq(k.p, want, sizeof want);
}

Test(sql_array, key_order_and_round_trip_over_random_arrays)
{
    sql_type_id types[TU_NTYPES];
    int ntypes = array_types(types);

    for (int ti = 0; ti < ntypes; ti++)
        for (int round = 0; round < 300; round++) {
            sql_type_id t = types[ti];
            sql_key_dir dir = round % 2 ? SQL_KEY_DESC : SQL_KEY_ASC;
            sql_datum a = tu_random_datum(t), b = tu_random_datum(t), back;
            sql_keybuf ka = key_of(t, dir, &a), kb = key_of(t, dir, &b);
            int want = sign(sql_datum_cmp_nulls(t, &a, &b, false));
            sql_error err = {0};
            const uint8_t *p = ka.p;
            cr_assert_eq(
                key_cmp(&ka, &kb), dir == SQL_KEY_DESC && !a.isnull && !b.isnull ? -want : want,
                "%s: %s vs %s", sql_type_name(t), a.isnull ? "NULL" : tu_out((sql_type){t, -1}, &a),
                b.isnull ? "NULL" : tu_out((sql_type){t, -1}, &b));
            cr_assert_eq(
                sql_key_get(&p, ka.p + ka.len, (sql_type){t, -1}, dir, tu_arena, &back, &err), 0,
                "%s", err.message);
            cr_assert_eq(p, ka.p + ka.len);
            cr_assert(!sql_datum_distinct(t, &a, &back), "%s", sql_type_name(t));
        }
}

/* A random array for the value encoding, whose receive validates text:
 * text and varchar elements from valid UTF-8 (tu_random_datum's bytes
 * are not). */
static sql_datum column_value(sql_type_id t)
{
    static const char *const literals[] = {"{}", "{\"a b\",NULL,héllo}", "{\"\"}"};
    sql_type_id elem = sql_type_array_elem(t);
    if (elem != SQL_T_TEXT && elem != SQL_T_VARCHAR)
        return tu_random_datum(t);
    return tu_in((sql_type){t, -1}, literals[tu_rnd() % 3]);
}

Test(sql_array, value_encoding_round_trip_and_hash)
{
    sql_type_id types[TU_NTYPES];
    int ntypes = array_types(types);

    for (int round = 0; round < 200; round++) {
        sql_value_col cols[TU_NTYPES];
        sql_datum vals[TU_NTYPES], back[TU_NTYPES], copy;
        sql_keybuf b;
        sql_error err = {0};
        for (int i = 0; i < ntypes; i++) {
            cols[i] = (sql_value_col){.col_id = (uint32_t)i + 1, .type = {types[i], -1}};
            vals[i] = column_value(types[i]);
        }
        sql_keybuf_init(&b, tu_arena);
        cr_assert_eq(sql_value_encode(&b, cols, vals, (size_t)ntypes, &err), 0, "%s", err.message);
        cr_assert_eq(sql_value_decode(b.p, b.len, cols, (size_t)ntypes, tu_arena, back, &err), 0,
                     "%s", err.message);
        for (int i = 0; i < ntypes; i++) {
            cr_assert(!sql_datum_distinct(types[i], &vals[i], &back[i]), "%s",
                      sql_type_name(types[i]));
            cr_assert_eq(sql_datum_copy(types[i], &vals[i], tu_arena, &copy, &err), 0);
            cr_assert_eq(sql_datum_hash(types[i], &vals[i], 7), sql_datum_hash(types[i], &copy, 7));
        }
    }
    /* equal arrays of unequal representations hash alike */
    sql_type nums = {SQL_T_NUMERIC_ARRAY, -1};
    sql_datum x = tu_in(nums, "{1.5,NULL}"), y = tu_in(nums, "{1.50,NULL}");
    cr_expect_eq(sql_datum_cmp(nums.oid, &x, &y), 0);
    cr_expect_eq(sql_datum_hash(nums.oid, &x, 1), sql_datum_hash(nums.oid, &y, 1));
}

Test(sql_array, type_names_and_lookups)
{
    sql_type_id t;
    bool serial;
    sql_error err = {0};

    cr_expect_str_eq(sql_type_name(SQL_T_INT4_ARRAY), "integer[]");
    cr_expect_str_eq(sql_type_typname(SQL_T_VARCHAR_ARRAY), "_varchar");
    cr_expect_eq(sql_type_len(SQL_T_UUID_ARRAY), -1);
    cr_expect_eq(sql_type_array_elem(SQL_T_INT8_ARRAY), SQL_T_INT8);
    cr_expect_eq(sql_type_array_of(SQL_T_TIMESTAMPTZ), SQL_T_TIMESTAMPTZ_ARRAY);
    cr_expect_eq(sql_type_array_of(SQL_T_VOID), 0);
    cr_expect_eq(sql_type_array_of(SQL_T_INT4_ARRAY), 0);
    cr_expect_eq(sql_type_array_elem(SQL_T_INT4), 0);
    cr_assert_eq(sql_type_from_name("_int4", tu_arena, &t, &serial, &err), 0);
    cr_expect_eq(t, SQL_T_INT4_ARRAY);
}
