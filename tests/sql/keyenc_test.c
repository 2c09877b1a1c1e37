/*
 * keyenc_test.c - property tests of the key encoding over random values of
 * every type: memcmp order of the encodings equals sql_datum_cmp order
 * (ascending, descending, NULLs first and last), equal datums encode to
 * identical bytes, decoding inverts encoding and consumes exactly the
 * column, and concatenated composite keys compare like tuples (which only
 * holds if every column encoding is prefix-free).
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sql/keyenc.h"
#include "sql_test_util.h"

TestSuite(sql_keyenc, .init = tu_setup, .fini = tu_teardown);

static int sign(int c)
{
    return (c > 0) - (c < 0);
}

static int key_cmp(const sql_keybuf *a, const sql_keybuf *b)
{
    int c = memcmp(a->p, b->p, a->len < b->len ? a->len : b->len);
    return c ? sign(c) : sign((int)(a->len > b->len) - (int)(a->len < b->len));
}

static sql_keybuf encode(sql_type_id t, sql_key_dir dir, bool nulls_first, const sql_datum *d)
{
    sql_keybuf b;
    sql_error err = {0};
    sql_keybuf_init(&b, tu_arena);
    cr_assert_eq(sql_key_put(&b, (sql_type){t, -1}, dir, nulls_first, d, &err), 0, "%s",
                 err.message);
    return b;
}

/* The order a column of this direction and NULL placement must produce. */
static int want_cmp(sql_type_id t, sql_key_dir dir, bool nulls_first, const sql_datum *a,
                    const sql_datum *b)
{
    if (a->isnull || b->isnull)
        return sign(sql_datum_cmp_nulls(t, a, b, nulls_first));
    int c = sign(sql_datum_cmp(t, a, b));
    return dir == SQL_KEY_DESC ? -c : c;
}

Test(sql_keyenc, memcmp_order_is_datum_order)
{
    for (size_t ti = 0; ti < TU_NTYPES; ti++) {
        sql_type_id t = tu_all_types[ti];
        for (int cfg = 0; cfg < 4; cfg++) {
            sql_key_dir dir = cfg & 1 ? SQL_KEY_DESC : SQL_KEY_ASC;
            bool nulls_first = cfg & 2;
            for (int i = 0; i < 3000; i++) {
                sql_datum a = tu_random_datum(t), b = tu_random_datum(t);
                if (i % 7 == 0)
                    b = a;
                sql_keybuf ka = encode(t, dir, nulls_first, &a);
                sql_keybuf kb = encode(t, dir, nulls_first, &b);
                int want = want_cmp(t, dir, nulls_first, &a, &b);
                cr_assert_eq(key_cmp(&ka, &kb), want, "type %u cfg %d: key order %d, datum %d",
                             (unsigned)t, cfg, key_cmp(&ka, &kb), want);
            }
        }
    }
}

Test(sql_keyenc, decode_inverts_encode)
{
    for (size_t ti = 0; ti < TU_NTYPES; ti++) {
        sql_type_id t = tu_all_types[ti];
        for (int i = 0; i < 3000; i++) {
            sql_key_dir dir = i & 1 ? SQL_KEY_DESC : SQL_KEY_ASC;
            sql_datum a = tu_random_datum(t), back;
            sql_keybuf k = encode(t, dir, i & 2, &a);
            const uint8_t *p = k.p;
            sql_error err = {0};
            cr_assert_eq(
                sql_key_get(&p, k.p + k.len, (sql_type){t, -1}, dir, tu_arena, &back, &err), 0,
                "type %u: %s", (unsigned)t, err.message);
            cr_assert_eq(p, k.p + k.len, "type %u: decoder stopped early", (unsigned)t);
            cr_assert_eq(back.isnull, a.isnull);
            if (a.isnull)
                continue;
            cr_assert_eq(sql_datum_cmp(t, &a, &back), 0, "type %u: decoded value differs",
                         (unsigned)t);
            if (!sql_key_composite(t))
                cr_assert_eq(sql_datum_hash(t, &a, 0), sql_datum_hash(t, &back, 0));
        }
    }
}

/* Tuples whose first columns often tie: the second column decides only if
 * the first column's encoding cannot run into it. */
Test(sql_keyenc, composite_keys_compare_like_tuples)
{
    for (int i = 0; i < 20000; i++) {
        sql_type_id t1 = tu_all_types[tu_rnd() % TU_NTYPES],
                    t2 = tu_all_types[tu_rnd() % TU_NTYPES];
        sql_key_dir d1 = tu_rnd() % 2, d2 = tu_rnd() % 2;
        bool n1 = tu_rnd() % 2, n2 = tu_rnd() % 2;
        sql_datum a1 = tu_random_datum(t1), b1 = tu_rnd() % 2 ? a1 : tu_random_datum(t1);
        sql_datum a2 = tu_random_datum(t2), b2 = tu_random_datum(t2);
        sql_keybuf ka, kb;
        sql_error err = {0};
        sql_keybuf_init(&ka, tu_arena);
        sql_keybuf_init(&kb, tu_arena);
        cr_assert_eq(sql_key_put_prefix(&ka, 52, 1, &err), 0);
        cr_assert_eq(sql_key_put_prefix(&kb, 52, 1, &err), 0);
        sql_key_put(&ka, (sql_type){t1, -1}, d1, n1, &a1, &err);
        sql_key_put(&ka, (sql_type){t2, -1}, d2, n2, &a2, &err);
        sql_key_put(&kb, (sql_type){t1, -1}, d1, n1, &b1, &err);
        sql_key_put(&kb, (sql_type){t2, -1}, d2, n2, &b2, &err);
        int want = want_cmp(t1, d1, n1, &a1, &b1);
        if (want == 0)
            want = want_cmp(t2, d2, n2, &a2, &b2);
        cr_assert_eq(key_cmp(&ka, &kb), want, "types %u/%u", (unsigned)t1, (unsigned)t2);
    }
}

Test(sql_keyenc, table_index_prefix)
{
    static const uint32_t ids[] = {0, 1, 0xEF, 0xF0, 0xFF, 0x100, 0xFFFF, 0x10000, UINT32_MAX};
    size_t n = sizeof(ids) / sizeof(ids[0]);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            sql_keybuf a, b;
            sql_error err = {0};
            sql_keybuf_init(&a, tu_arena);
            sql_keybuf_init(&b, tu_arena);
            cr_assert_eq(sql_key_put_prefix(&a, ids[i], ids[j], &err), 0);
            cr_assert_eq(sql_key_put_prefix(&b, ids[j], ids[i], &err), 0);
            int want = sign((int)(ids[i] > ids[j]) - (int)(ids[i] < ids[j]));
            cr_expect_eq(key_cmp(&a, &b), want, "%u/%u vs %u/%u", ids[i], ids[j], ids[j], ids[i]);
            uint32_t t, x;
            const uint8_t *p = a.p;
            cr_assert_eq(sql_key_get_prefix(&p, a.p + a.len, &t, &x, tu_arena, &err), 0);
            cr_expect(t == ids[i] && x == ids[j] && p == a.p + a.len);
        }
}

/* Known bytes from docs/sql-encoding.md, so the documented layout and the
 * code cannot drift apart. */
Test(sql_keyenc, documented_examples)
{
    static const struct {
        const char *type, *value;
        sql_key_dir dir;
        const char *hex;
    } ex[] = {
        {"integer", "1", SQL_KEY_ASC, "0180000001"},
        {"integer", "-1", SQL_KEY_ASC, "017fffffff"},
        {"integer", "1", SQL_KEY_DESC, "017ffffffe"},
        {"text", "a\001", SQL_KEY_ASC, "0161010001"},
        {"bytea", "\\x6100ff", SQL_KEY_ASC, "016100ffff0001"},
        {"text", "ab", SQL_KEY_DESC, "019e9dfffe"},
        {"double precision", "-0", SQL_KEY_ASC, "018000000000000000"},
        {"double precision", "NaN", SQL_KEY_ASC, "01fff8000000000000"},
        {"numeric", "12.5", SQL_KEY_ASC, "01048000000202030600"},
        {"numeric", "-12.5", SQL_KEY_ASC, "01027ffffffdfdfcf9ff"},
        {"numeric", "0.00", SQL_KEY_ASC, "0103"},
        {"numeric", "NaN", SQL_KEY_ASC, "0106"},
        {"boolean", "t", SQL_KEY_ASC, "0101"},
        {"date", "2000-01-02", SQL_KEY_ASC, "0180000001"},
    };
    for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
        sql_type t = tu_type(ex[i].type);
        sql_datum d = tu_in(t, ex[i].value);
        sql_keybuf k = encode(t.oid, ex[i].dir, false, &d);
        char got[128] = "";
        for (size_t j = 0; j < k.len && 2 * j + 2 < sizeof(got); j++)
            snprintf(got + 2 * j, 3, "%02x", k.p[j]);
        cr_expect_str_eq(got, ex[i].hex, "%s '%s'", ex[i].type, ex[i].value);
    }
    sql_datum null = {.isnull = true};
    cr_expect_eq(encode(SQL_T_INT4, SQL_KEY_DESC, true, &null).p[0], 0x00);
    cr_expect_eq(encode(SQL_T_INT4, SQL_KEY_ASC, false, &null).p[0], 0x02);
}

Test(sql_keyenc, corrupt_keys_are_errors)
{
    static const uint8_t bad[][3] = {{0x03, 0, 0}, {0x01, 0x61, 0x00}, {0x01, 0x07, 0}};
    static const sql_type_id types[] = {SQL_T_INT4, SQL_T_TEXT, SQL_T_NUMERIC};
    for (size_t i = 0; i < 3; i++) {
        const uint8_t *p = bad[i];
        sql_datum d;
        sql_error err = {0};
        cr_expect_eq(
            sql_key_get(&p, bad[i] + 3, (sql_type){types[i], -1}, SQL_KEY_ASC, tu_arena, &d, &err),
            -1);
        cr_expect_str_eq(sql_sqlstate_code(err.state), "XX000");
    }
}
