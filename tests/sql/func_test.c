/*
 * func_test.c - the scalar functions of sql/expr_func_{str,math,time}.c
 * and sql/expr_regex.c, for what the e2e script tests/e2e/sql/functions.sql
 * (checked against PostgreSQL 15) cannot see: that constant patterns are
 * compiled once at bind time and others per row, that a bad constant
 * pattern fails at evaluation (as in PostgreSQL, an empty table raises
 * nothing), PCRE2's wording of pattern errors, numeric exp/ln/log at
 * high precision (expected digits from PostgreSQL 15), and what we refuse.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sql/expr.h"
#include "sql_test_util.h"

/* One table t(s text, p text, n numeric) and one row of it. */
#define NCOLS 3
static sql_scope_col cols[NCOLS];
static sql_datum row[NCOLS];
static sql_scope scope = {.table = "t", .cols = cols, .ncols = NCOLS};

static void setup(void)
{
    tu_setup();
    cols[0] = (sql_scope_col){"s", tu_type("text"), false};
    cols[1] = (sql_scope_col){"p", tu_type("text"), false};
    cols[2] = (sql_scope_col){"n", tu_type("numeric"), false};
}

TestSuite(func, .init = setup, .fini = tu_teardown);

typedef struct run {
    char query[512];
    sql_bexpr *bound;
    sql_datum value;
    sql_error err;
} run;

/* Binds `select E from t` into r->bound; 0 or -1 with r->err set. */
static int bind(run *r, const char *e)
{
    sql_stmt_list l;

    memset(r, 0, sizeof *r);
    snprintf(r->query, sizeof r->query, "select %s from t", e);
    cr_assert_eq(sql_parse(r->query, tu_arena, &l, &r->err), 0, "%s: %s", e, r->err.message);
    sql_bind_ctx bc = {.arena = tu_arena, .query = r->query, .scope = &scope};
    return sql_expr_bind(&bc, l.stmts[0].u.select.targets[0].expr, (sql_type){SQL_T_UNKNOWN, -1},
                         &r->bound, &r->err);
}

/* Evaluates r->bound over row (s, p, n). */
static int eval(run *r, const char *s, const char *p, const char *n)
{
    sql_eval_ctx ec = {.arena = tu_arena,
                       .row = row,
                       .io = {.tz = sql_tz_utc()},
                       .err = &r->err,
                       .query = r->query};

    row[0] = s ? tu_in(cols[0].type, s) : (sql_datum){.isnull = true};
    row[1] = p ? tu_in(cols[1].type, p) : (sql_datum){.isnull = true};
    row[2] = n ? tu_in(cols[2].type, n) : (sql_datum){.isnull = true};
    return sql_expr_eval(&ec, r->bound, &r->value);
}

static const char *out(const run *r)
{
    return r->value.isnull ? "NULL" : tu_out(r->bound->type, &r->value);
}

static void expect_value(const char *e, const char *s, const char *p, const char *want)
{
    run r;

    cr_assert_eq(bind(&r, e), 0, "%s: %s", e, r.err.message);
    cr_assert_eq(eval(&r, s, p, NULL), 0, "%s: %s", e, r.err.message);
    cr_expect_str_eq(out(&r), want, "%s over (%s, %s)", e, s, p);
}

static void expect_eval_error(const char *e, const char *state, const char *msg)
{
    run r;

    cr_assert_eq(bind(&r, e), 0, "%s binds: %s", e, r.err.message);
    cr_assert_eq(eval(&r, "abc", "b", "1"), -1, "%s evaluates", e);
    cr_expect_str_eq(sql_sqlstate_code(r.err.state), state, "%s: %s", e, r.err.message);
    cr_expect_str_eq(r.err.message, msg, "%s", e);
}

Test(func, constant_pattern_compiled_at_bind)
{
    static const char *const constant[] = {"s ~ 'b+'", "s !~* 'B'", "regexp_replace(s, 'b', 'x')",
                                           "regexp_replace(s, 'B', 'x', 'gi')",
                                           "substring(s from 'a(.)')"};
    run r;

    for (size_t i = 0; i < sizeof constant / sizeof *constant; i++) {
        cr_assert_eq(bind(&r, constant[i]), 0, "%s: %s", constant[i], r.err.message);
        cr_expect_neq(r.bound->aux, NULL, "%s: compiled at bind time", constant[i]);
    }
    cr_assert_eq(bind(&r, "s ~ p"), 0);
    cr_expect_eq(r.bound->aux, NULL, "a column pattern is compiled per row");
    cr_assert_eq(bind(&r, "regexp_replace(s, 'b', 'x', p)"), 0);
    cr_expect_eq(r.bound->aux, NULL, "flags from a column: compiled per row");
}

Test(func, constant_zone_loaded_at_bind)
{
    run r;

    cr_assert_eq(bind(&r, "timestamp '2024-07-01 12:00' at time zone 'Europe/Paris'"), 0, "%s",
                 r.err.message);
    cr_expect_neq(r.bound->aux, NULL);
    cr_assert_eq(eval(&r, NULL, NULL, NULL), 0, "%s", r.err.message);
    cr_expect_str_eq(out(&r), "2024-07-01 10:00:00+00");
    cr_assert_eq(bind(&r, "timestamp '2024-07-01 12:00' at time zone p"), 0, "%s", r.err.message);
    cr_expect_eq(r.bound->aux, NULL);
    cr_assert_eq(eval(&r, NULL, "Asia/Tokyo", NULL), 0, "%s", r.err.message);
    cr_expect_str_eq(out(&r), "2024-07-01 03:00:00+00");
    cr_assert_eq(bind(&r, "timestamp '2024-07-01 12:00' at time zone 'Nowhere/Else'"), 0);
    cr_expect_eq(eval(&r, NULL, NULL, NULL), -1);
    cr_expect_str_eq(r.err.message, "time zone \"Nowhere/Else\" not recognized");
}

Test(func, pattern_per_row)
{
    static const struct {
        const char *s, *p, *want;
    } rows[] = {
        {"foobar", "o+b", "t"}, {"foobar", "^o", "f"}, {"héllo", "^h.l", "t"},
        {"a\nb", "a.b", "t"},   {"ab\n", "b$", "f"},   {"x", "", "t"},
    };

    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        expect_value("s ~ p", rows[i].s, rows[i].p, rows[i].want);
    expect_value("regexp_replace(s, p, '[\\&]', 'g')", "banana", "an", "b[an][an]a");
    expect_value("substring(s from p)", "banana", "n(a)n", "a");
    expect_value("substring(s from p)", "banana", "x", "NULL");
    expect_value("s ~ p", NULL, "a", "NULL");
}

Test(func, bad_pattern_fails_when_evaluated)
{
    expect_eval_error("s ~ '('", "2201B",
                      "invalid regular expression: missing closing parenthesis");
    expect_eval_error("s ~ (p || '[')", "2201B",
                      "invalid regular expression: missing terminating ] for character class");
    expect_eval_error("regexp_replace(s, 'b', 'x', 'gz')", "22023",
                      "invalid regular expression option: \"z\"");
    expect_eval_error("regexp_replace(s, 'b', 'x', 'q')", "0A000",
                      "regular expression option \"q\" is not supported yet");
}

Test(func, numeric_logarithms_at_high_precision)
{
    /* PostgreSQL 15's digits */
    static const struct {
        const char *e, *want;
    } cases[] = {
        {"ln(2.000000000000000000000000000000)", "0.693147180559945309417232121458"},
        {"exp(1.000000000000000000000000000000)", "2.718281828459045235360287471353"},
        {"log(2.0, 1024.00000000000000000000)", "10.00000000000000000000"},
        {"exp(-20.5)", "0.000000001250152866386743"},
        {"ln(1e300)", "690.77552789821371"},
        {"log(7, 0.000001)", "-7.099767974729630"},
        {"ln(n)", "-46.05170185988091368036"},
    };
    run r;

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cr_assert_eq(bind(&r, cases[i].e), 0, "%s: %s", cases[i].e, r.err.message);
        cr_assert_eq(eval(&r, NULL, NULL, "1e-20"), 0, "%s: %s", cases[i].e, r.err.message);
        cr_expect_str_eq(out(&r), cases[i].want, "%s", cases[i].e);
    }
}

Test(func, format_grows_its_buffer)
{
    run r;

    cr_assert_eq(bind(&r, "format('%s-%s-%1$s', repeat(s, 3000), p)"), 0, "%s", r.err.message);
    cr_assert_eq(eval(&r, "abc", "z", NULL), 0, "%s", r.err.message);
    cr_expect_eq(r.value.v.s.len, 9000 + 1 + 1 + 1 + 9000);
    cr_expect_eq(memcmp(r.value.v.s.p + 9000, "-z-abc", 6), 0);
}

Test(func, refused)
{
    run r;

    cr_expect_eq(bind(&r, "setseed(0.5)"), -1);
    cr_expect_str_eq(sql_sqlstate_code(r.err.state), "0A000");
    cr_expect_str_eq(r.err.message, "setseed() is not supported yet");
    expect_eval_error("to_char(n, '9.99EEEE')", "0A000",
                      "to_char pattern \"EE\" is not supported yet for numbers");
    expect_eval_error("to_char(n, 'RN')", "0A000",
                      "to_char pattern \"RN\" is not supported yet for numbers");
    expect_eval_error("to_char(timestamptz '2024-01-01', 'TZ')", "0A000",
                      "to_char pattern TZ is not supported yet for timestamp with time zone");
    expect_eval_error("extract(julian from timestamp '2020-01-01 12:00')", "0A000",
                      "unit \"julian\" is not supported yet for type timestamp without time zone");
}
