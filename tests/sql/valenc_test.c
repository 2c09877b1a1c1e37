/*
 * valenc_test.c - the row value encoding: random rows of every type decode
 * to exactly what was encoded (display scales, padding, -0 included),
 * NULLs cost nothing, columns the reader does not know are skipped, and
 * malformed values are errors, never crashes.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "sql/valenc.h"
#include "sql_test_util.h"

TestSuite(sql_valenc, .init = tu_setup, .fini = tu_teardown);

/* Binary formats are exact, so equal send bytes mean equal values. */
static bool same_value(sql_type t, const sql_datum *a, const sql_datum *b)
{
    if (a->isnull || b->isnull)
        return a->isnull == b->isnull;
    const uint8_t *pa, *pb;
    size_t la, lb;
    sql_error err = {0};
    cr_assert_eq(sql_datum_send(t, a, tu_arena, &pa, &la, &err), 0);
    cr_assert_eq(sql_datum_send(t, b, tu_arena, &pb, &lb, &err), 0);
    return la == lb && memcmp(pa, pb, la) == 0;
}

/* A value a column of type t can hold (text types need valid UTF-8). */
static sql_datum column_value(sql_type_id t)
{
    if (t != SQL_T_TEXT && t != SQL_T_VARCHAR && t != SQL_T_BPCHAR)
        return tu_random_datum(t);
    static const char *const words[] = {"", "a", "ab  ", "héllo", "x y"};
    if (tu_rnd() % 10 == 0)
        return (sql_datum){.isnull = true};
    return tu_in((sql_type){t, -1}, words[tu_rnd() % 5]);
}

Test(sql_valenc, random_rows_round_trip)
{
    for (int row = 0; row < 2000; row++) {
        sql_value_col cols[8];
        sql_datum vals[8], back[8];
        size_t n = 1 + tu_rnd() % 8;
        uint32_t id = 0;
        for (size_t i = 0; i < n; i++) {
            id += 1 + (uint32_t)(tu_rnd() % (tu_rnd() % 4 ? 3 : 300));
            cols[i] = (sql_value_col){id, {tu_all_types[tu_rnd() % TU_NTYPES], -1}};
            vals[i] = column_value(cols[i].type.oid);
        }
        sql_keybuf b;
        sql_error err = {0};
        sql_keybuf_init(&b, tu_arena);
        cr_assert_eq(sql_value_encode(&b, cols, vals, n, &err), 0, "%s", err.message);
        cr_assert_eq(sql_value_decode(b.p, b.len, cols, n, tu_arena, back, &err), 0, "%s",
                     err.message);
        for (size_t i = 0; i < n; i++)
            cr_assert(same_value(cols[i].type, &vals[i], &back[i]), "row %d column %zu (%s)", row,
                      i, sql_type_name(cols[i].type.oid));
    }
}

Test(sql_valenc, nulls_absent_and_unknown_columns_skipped)
{
    sql_type num = tu_type("numeric"), txt = tu_type("text");
    sql_value_col cols[3] = {{1, num}, {2, txt}, {300, num}};
    sql_datum vals[3] = {tu_in(num, "1.50"), {.isnull = true}, tu_in(num, "-7")};
    sql_keybuf b;
    sql_error err = {0};
    sql_keybuf_init(&b, tu_arena);
    cr_assert_eq(sql_value_encode(&b, cols, vals, 3, &err), 0);
    /* 01 0c <1.50: 12 bytes> ab 02 0a <-7: 10 bytes>: the NULL costs nothing */
    cr_expect_eq(b.len, 2 + 12 + 3 + 10);
    cr_expect_eq(b.p[0], 0x01);
    cr_expect_eq(b.p[14], 0xAB); /* delta 299 = 0xAB 0x02 */
    cr_expect_eq(b.p[15], 0x02);
    /* a reader that dropped column 1 and added column 5 */
    sql_value_col want[3] = {{2, txt}, {5, txt}, {300, num}};
    sql_datum out[3];
    cr_assert_eq(sql_value_decode(b.p, b.len, want, 3, tu_arena, out, &err), 0);
    cr_expect(out[0].isnull && out[1].isnull);
    cr_expect_str_eq(tu_out(num, &out[2]), "-7");
    cr_assert_eq(sql_value_decode(b.p, b.len, cols, 1, tu_arena, out, &err), 0);
    cr_expect_str_eq(tu_out(num, &out[0]), "1.50");
}

Test(sql_valenc, malformed_values_are_errors)
{
    sql_type i4 = tu_type("integer");
    sql_value_col cols[1] = {{1, i4}};
    sql_datum out[1];
    static const uint8_t truncated[] = {0x01, 0x04, 0x00, 0x00};
    static const uint8_t zero_delta[] = {0x00, 0x00};
    static const uint8_t endless[] = {0x81, 0x81, 0x81};
    static const uint8_t short_int[] = {0x01, 0x02, 0x00, 0x01};
    sql_error err = {0};
    cr_expect_eq(sql_value_decode(truncated, 4, cols, 1, tu_arena, out, &err), -1);
    cr_expect_str_eq(err.message, "corrupt row value");
    cr_expect_eq(sql_value_decode(zero_delta, 2, cols, 1, tu_arena, out, &err), -1);
    cr_expect_eq(sql_value_decode(endless, 3, cols, 1, tu_arena, out, &err), -1);
    cr_expect_eq(sql_value_decode(short_int, 4, cols, 1, tu_arena, out, &err), -1);
    cr_expect_str_eq(sql_sqlstate_code(err.state), "XX000");
    cr_expect_str_eq(err.message, "corrupt row value");
    for (int i = 0; i < 20000; i++) {
        uint8_t buf[16];
        size_t n = tu_rnd() % sizeof(buf);
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)(tu_rnd() % 4 ? tu_rnd() % 8 : tu_rnd());
        sql_value_col c[2] = {{1, {tu_all_types[tu_rnd() % TU_NTYPES], -1}},
                              {2, {tu_all_types[tu_rnd() % TU_NTYPES], -1}}};
        sql_datum o[2];
        int rc = sql_value_decode(buf, n, c, 2, tu_arena, o, &err);
        cr_assert(rc == 0 || err.message != NULL);
    }
}
