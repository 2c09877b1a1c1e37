/*
 * types_test.c - the type catalog: names a declaration may use, typlen and
 * typname, and typmods from declared modifiers with PostgreSQL 15's
 * validation messages.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "sql_test_util.h"

TestSuite(sql_types, .init = tu_setup, .fini = tu_teardown);

Test(sql_types, names_in_declarations)
{
    static const struct {
        const char *name;
        sql_type_id oid;
        bool serial;
    } ok[] = {
        {"int4", SQL_T_INT4, false},       {"INTEGER", SQL_T_INT4, false},
        {"bigserial", SQL_T_INT8, true},   {"serial", SQL_T_INT4, true},
        {"smallserial", SQL_T_INT2, true}, {"decimal", SQL_T_NUMERIC, false},
        {"float", SQL_T_FLOAT8, false},    {"timestamptz", SQL_T_TIMESTAMPTZ, false},
        {"bpchar", SQL_T_BPCHAR, false},   {"boolean", SQL_T_BOOL, false},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        sql_type_id oid;
        bool serial;
        sql_error err = {0};
        cr_assert_eq(sql_type_from_name(ok[i].name, tu_arena, &oid, &serial, &err), 0);
        cr_expect_eq(oid, ok[i].oid, "%s", ok[i].name);
        cr_expect_eq(serial, ok[i].serial, "%s", ok[i].name);
    }
    sql_type_id oid;
    bool serial;
    sql_error err = {0};
    cr_assert_eq(sql_type_from_name("jsonb", tu_arena, &oid, &serial, &err), -1);
    cr_expect_str_eq(sql_sqlstate_code(err.state), "42704");
    cr_expect_str_eq(err.message, "type \"jsonb\" does not exist");
}

Test(sql_types, typlen_and_typname)
{
    cr_expect_eq(sql_type_len(SQL_T_INT8), 8);
    cr_expect_eq(sql_type_len(SQL_T_UUID), 16);
    cr_expect_eq(sql_type_len(SQL_T_NUMERIC), -1);
    cr_expect_eq(sql_type_len((sql_type_id)12345), 0);
    cr_expect_str_eq(sql_type_typname(SQL_T_TIMESTAMPTZ), "timestamptz");
    cr_expect_str_eq(sql_type_name(SQL_T_FLOAT8), "double precision");
    cr_expect(!sql_type_known(114));
}

/* Messages as PostgreSQL 15 prints them for CREATE TABLE t (a <type>). */
Test(sql_types, typmods_from_modifiers)
{
    static const struct {
        sql_type_id oid;
        int32_t mods[3];
        int n;
        int32_t typmod; /* when state is NULL */
        const char *state, *message;
    } cases[] = {
        {SQL_T_VARCHAR, {10}, 1, 14, NULL, NULL},
        {SQL_T_NUMERIC, {10, 2}, 2, (10 << 16 | 2) + 4, NULL, NULL},
        {SQL_T_NUMERIC, {5}, 1, (5 << 16) + 4, NULL, NULL},
        {SQL_T_TIMESTAMP, {7}, 1, 6, NULL, NULL},
        {SQL_T_NUMERIC, {0}, 0, -1, NULL, NULL},
        {SQL_T_VARCHAR, {0}, 1, 0, "22023", "length for type varchar must be at least 1"},
        {SQL_T_BPCHAR, {10485761}, 1, 0, "22023", "length for type char cannot exceed 10485760"},
        {SQL_T_NUMERIC, {1001}, 1, 0, "22023", "NUMERIC precision 1001 must be between 1 and 1000"},
        {SQL_T_NUMERIC, {0}, 1, 0, "22023", "NUMERIC precision 0 must be between 1 and 1000"},
        {SQL_T_NUMERIC,
         {5, -1001},
         2,
         0,
         "22023",
         "NUMERIC scale -1001 must be between -1000 and 1000"},
        {SQL_T_NUMERIC, {1, 2, 3}, 3, 0, "22023", "invalid NUMERIC type modifier"},
        {SQL_T_INT4, {3}, 1, 0, "42601", "type modifier is not allowed for type \"int4\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int32_t typmod;
        sql_error err = {0};
        int rc =
            sql_typmod_from_mods(cases[i].oid, cases[i].mods, cases[i].n, tu_arena, &typmod, &err);
        if (cases[i].state == NULL) {
            cr_expect_eq(rc, 0, "case %zu", i);
            cr_expect_eq(typmod, cases[i].typmod, "case %zu", i);
            continue;
        }
        cr_expect_eq(rc, -1, "case %zu", i);
        cr_expect_str_eq(sql_sqlstate_code(err.state), cases[i].state, "case %zu", i);
        cr_expect_str_eq(err.message, cases[i].message, "case %zu", i);
    }
    /* numeric(5,2) built here behaves as the input function expects */
    int32_t tm;
    sql_error err = {0};
    int32_t m[2] = {5, 2};
    cr_assert_eq(sql_typmod_from_mods(SQL_T_NUMERIC, m, 2, tu_arena, &tm, &err), 0);
    sql_datum d = tu_in((sql_type){SQL_T_NUMERIC, tm}, "3.14159");
    cr_expect_str_eq(tu_out((sql_type){SQL_T_NUMERIC, tm}, &d), "3.14");
}

/* A copy outlives the arena its source came from. */
Test(sql_types, datum_copy_is_deep)
{
    static const struct {
        const char *type, *text;
    } cases[] = {
        {"text", "héllo"},   {"bytea", "\\x00ff"},         {"numeric", "-12345678901234567890.50"},
        {"numeric", "0.00"}, {"interval", "1 mon 2 days"}, {"char(4)", "ab"}};
    kv_arena *keep;
    cr_assert_eq(kv_arena_create(&keep), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        kv_arena *tmp;
        cr_assert_eq(kv_arena_create(&tmp), 0);
        sql_type t = tu_type(cases[i].type);
        sql_datum d, copy;
        sql_error err = {0};
        cr_assert_eq(
            sql_datum_from_text(t, cases[i].text, strlen(cases[i].text), NULL, tmp, &d, &err), 0);
        const char *want = tu_out(t, &d);
        cr_assert_eq(sql_datum_copy(t.oid, &d, keep, &copy, &err), 0);
        kv_arena_destroy(tmp); /* ASan flags any pointer still into it */
        cr_expect_str_eq(tu_out(t, &copy), want, "%s", cases[i].type);
    }
    sql_datum null = {.isnull = true}, out;
    sql_error err = {0};
    cr_assert_eq(sql_datum_copy(SQL_T_TEXT, &null, keep, &out, &err), 0);
    cr_expect(out.isnull);
    kv_arena_destroy(keep);
}
