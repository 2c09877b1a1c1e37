/*
 * cmp_test.c - comparison in PostgreSQL's btree order, SQL's three-valued
 * logic, IS DISTINCT FROM, hashing consistent with equality, and numeric
 * arithmetic against PostgreSQL 15's results (arith_golden.inc).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "sql_test_util.h"

TestSuite(sql_cmp, .init = tu_setup, .fini = tu_teardown);

static int cmp_text(const char *type, const char *a, const char *b)
{
    sql_type t = tu_type(type);
    sql_datum da = tu_in(t, a), db = tu_in(t, b);
    return sql_datum_cmp(t.oid, &da, &db);
}

Test(sql_cmp, postgresql_order_and_equality)
{
    cr_expect_eq(cmp_text("double precision", "NaN", "Infinity"), 1);
    cr_expect_eq(cmp_text("double precision", "NaN", "NaN"), 0);
    cr_expect_eq(cmp_text("double precision", "-0", "0"), 0);
    cr_expect_eq(cmp_text("real", "-Infinity", "-3.4e38"), -1);
    cr_expect_eq(cmp_text("numeric", "1.5", "1.50"), 0);
    cr_expect_eq(cmp_text("numeric", "NaN", "Infinity"), 1);
    cr_expect_eq(cmp_text("numeric", "-Infinity", "-1e1000"), -1);
    cr_expect_eq(cmp_text("numeric", "0.1", "0.09999999999999999999999"), 1);
    cr_expect_eq(cmp_text("interval", "1 mon", "30 days"), 0);
    cr_expect_eq(cmp_text("interval", "1 day", "23:59:59.999999"), 1);
    cr_expect_eq(cmp_text("char(5)", "ab", "ab   "), 0);
    cr_expect_eq(cmp_text("text", "ab", "ab "), -1);
    cr_expect_eq(cmp_text("text", "b", "ab"), 1);
    cr_expect_eq(cmp_text("bytea", "\\x00", "\\x"), 1);
    cr_expect_eq(cmp_text("date", "-infinity", "4714-11-24 BC"), -1);
    cr_expect_eq(cmp_text("timestamp", "infinity", "294276-12-31"), 1);
    cr_expect_eq(cmp_text("boolean", "f", "t"), -1);
    cr_expect_eq(cmp_text("uuid", "00000000-0000-0000-0000-000000000001",
                          "00000000-0000-0000-0000-000000000000"),
                 1);
}

Test(sql_cmp, three_valued_logic_truth_tables)
{
    const sql_tribool F = SQL_FALSE, T = SQL_TRUE, U = SQL_UNKNOWN;
    const sql_tribool v[3] = {F, T, U};
    const sql_tribool and_table[3][3] = {{F, F, F}, {F, T, U}, {F, U, U}};
    const sql_tribool or_table[3][3] = {{F, T, U}, {T, T, T}, {U, T, U}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            cr_expect_eq(sql_tri_and(v[i], v[j]), and_table[i][j]);
            cr_expect_eq(sql_tri_or(v[i], v[j]), or_table[i][j]);
        }
    cr_expect_eq(sql_tri_not(T), F);
    cr_expect_eq(sql_tri_not(F), T);
    cr_expect_eq(sql_tri_not(U), U);
}

Test(sql_cmp, null_semantics)
{
    sql_datum one = {.v.i = 1}, two = {.v.i = 2}, null = {.isnull = true};
    cr_expect_eq(sql_datum_compare_op(SQL_T_INT4, SQL_CMP_LT, &one, &two), SQL_TRUE);
    cr_expect_eq(sql_datum_compare_op(SQL_T_INT4, SQL_CMP_GE, &one, &two), SQL_FALSE);
    cr_expect_eq(sql_datum_compare_op(SQL_T_INT4, SQL_CMP_EQ, &one, &null), SQL_UNKNOWN);
    cr_expect_eq(sql_datum_compare_op(SQL_T_INT4, SQL_CMP_NE, &null, &null), SQL_UNKNOWN);
    cr_expect(!sql_datum_distinct(SQL_T_INT4, &null, &null));
    cr_expect(sql_datum_distinct(SQL_T_INT4, &one, &null));
    cr_expect(!sql_datum_distinct(SQL_T_INT4, &one, &one));
    cr_expect_gt(sql_datum_cmp_nulls(SQL_T_INT4, &null, &two, false), 0);
    cr_expect_lt(sql_datum_cmp_nulls(SQL_T_INT4, &null, &two, true), 0);
    cr_expect_eq(sql_datum_cmp_nulls(SQL_T_INT4, &null, &null, true), 0);
}

/* Values that compare equal hash equally, whatever their representation. */
Test(sql_cmp, hash_agrees_with_equality)
{
    static const struct {
        const char *type, *a, *b;
    } eq[] = {
        {"numeric", "1.5", "1.500"},       {"numeric", "0", "-0.000"},
        {"numeric", "100", "1e2"},         {"interval", "1 mon", "30 days"},
        {"interval", "1 day", "24:00:00"}, {"double precision", "-0", "0"},
        {"char(4)", "ab", "ab  "},         {"double precision", "NaN", "-NaN"},
    };
    for (size_t i = 0; i < sizeof(eq) / sizeof(eq[0]); i++) {
        sql_type t = tu_type(eq[i].type);
        sql_datum a = tu_in(t, eq[i].a), b = tu_in(t, eq[i].b);
        cr_expect_eq(sql_datum_cmp(t.oid, &a, &b), 0, "%s %s %s", eq[i].type, eq[i].a, eq[i].b);
        cr_expect_eq(sql_datum_hash(t.oid, &a, 7), sql_datum_hash(t.oid, &b, 7), "%s %s %s",
                     eq[i].type, eq[i].a, eq[i].b);
    }
    sql_type t = tu_type("numeric");
    sql_datum a = tu_in(t, "1.5"), b = tu_in(t, "1.05");
    cr_expect_neq(sql_datum_hash(t.oid, &a, 7), sql_datum_hash(t.oid, &b, 7));
    cr_expect_neq(sql_datum_hash(t.oid, &a, 7), sql_datum_hash(t.oid, &a, 8));
}

typedef struct arith_golden {
    const char *a, *op, *b, *sqlstate, *expect;
} arith_golden;

static const arith_golden arith[] = {
#include "arith_golden.inc"
};

Test(sql_cmp, numeric_arithmetic_matches_postgresql15)
{
    sql_type t = tu_type("numeric");
    for (size_t i = 0; i < sizeof(arith) / sizeof(arith[0]); i++) {
        const arith_golden *g = &arith[i];
        sql_datum a = tu_in(t, g->a), b = tu_in(t, g->b), r = {0};
        sql_numeric_op op = g->op[0] == '+'   ? SQL_NUM_ADD
                            : g->op[0] == '-' ? SQL_NUM_SUB
                            : g->op[0] == '*' ? SQL_NUM_MUL
                                              : SQL_NUM_DIV;
        sql_error err = {0};
        int rc = sql_numeric_arith(op, &a.v.num, &b.v.num, tu_arena, &r.v.num, &err);
        if (g->sqlstate != NULL) {
            cr_expect_eq(rc, -1, "%s %s %s", g->a, g->op, g->b);
            if (rc == -1)
                cr_expect_str_eq(sql_sqlstate_code(err.state), g->sqlstate);
            continue;
        }
        cr_assert_eq(rc, 0, "%s %s %s: %s", g->a, g->op, g->b, err.message);
        const char *got = tu_out(t, &r);
        cr_expect_str_eq(got, g->expect, "%s %s %s: got %s, want %s", g->a, g->op, g->b, got,
                         g->expect);
    }
}

/* numeric_mul rounds to the largest display scale instead of failing. */
Test(sql_cmp, numeric_product_scale_is_capped)
{
    sql_type t = tu_type("numeric");
    sql_datum a = tu_in(t, "1.5e-9000"), b = tu_in(t, "1e-7383"), r = {0};
    sql_error err = {0};
    cr_assert_eq(sql_numeric_arith(SQL_NUM_MUL, &a.v.num, &b.v.num, tu_arena, &r.v.num, &err), 0);
    const char *s = tu_out(t, &r);
    cr_expect_eq(strlen(s), 16385); /* "0." + 16383 digits, as PostgreSQL 15 */
    cr_expect_str_eq(s + 16382, "002");
}
