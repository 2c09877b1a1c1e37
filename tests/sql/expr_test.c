/*
 * expr_test.c - binding and evaluating expressions (sql/expr.h) against
 * what PostgreSQL 15 answers.
 *
 * `golden` was generated once from a PostgreSQL 15.x server: for each
 * expression E, `select E from t` (value, as psql prints it, NULL as
 * NULL) and `select pg_typeof(E) from t`, or the error's SQLSTATE, primary
 * message and position, with psycopg2 under timezone UTC against
 *   create table t (a int, b text, n int, f float8, c varchar(5),
 *     bp char(3), d date, ts timestamp, tz timestamptz, iv interval,
 *     num numeric, bo bool, i8 bigint, i2 smallint);
 *   insert into t values (1, 'x', NULL, 1.5, 'abc', 'ab', '2024-02-29',
 *     '2024-01-31 10:00', '2024-03-10 12:00+00', '1 mon 2 days', 12.345,
 *     true, 9223372036854775807, 32767);
 * The only edit: current_schema() is "name" there and text here.
 * The other suites check what PostgreSQL cannot (parameter inference,
 * volatile functions, cancellation) or what the lead specified.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sql/expr.h"
#include "sql/txn.h"
#include "sql_test_util.h"

#define NCOLS 15

static sql_scope_col cols[NCOLS];
static sql_datum row[NCOLS];
static sql_scope scope = {.table = "t", .cols = cols, .ncols = NCOLS};

/* The table of the header comment, plus a hidden rowid. */
static void setup(void)
{
    static const struct {
        const char *name, *type, *value;
    } defs[NCOLS] = {
        {"a", "integer", "1"},
        {"b", "text", "x"},
        {"n", "integer", NULL},
        {"f", "double precision", "1.5"},
        {"c", "varchar(5)", "abc"},
        {"bp", "char(3)", "ab"},
        {"d", "date", "2024-02-29"},
        {"ts", "timestamp", "2024-01-31 10:00"},
        {"tz", "timestamp with time zone", "2024-03-10 12:00+00"},
        {"iv", "interval", "1 mon 2 days"},
        {"num", "numeric", "12.345"},
        {"bo", "boolean", "true"},
        {"i8", "bigint", "9223372036854775807"},
        {"i2", "smallint", "32767"},
        {"rowid", "bigint", "42"},
    };

    tu_setup();
    for (int i = 0; i < NCOLS; i++) {
        cols[i] = (sql_scope_col){defs[i].name, tu_type(defs[i].type), i == NCOLS - 1};
        row[i] = defs[i].value ? tu_in(cols[i].type, defs[i].value) : (sql_datum){.isnull = true};
    }
    scope.alias = NULL;
}

TestSuite(expr, .init = setup, .fini = tu_teardown);

static const sql_type type_unknown = {SQL_T_UNKNOWN, -1};
static const sql_type type_text = {SQL_T_TEXT, -1};

/* One expression run as `select E from t`. */
typedef struct run {
    char query[512];
    const sql_expr *expr;
    sql_bexpr *bound;
    sql_datum value;
    sql_error err;
} run;

static atomic_int cancel_flag;
static int64_t next_seq;

static int fake_nextval(void *env, const char *seq, int64_t *out, sql_error *err, kv_arena *arena)
{
    (void)env;
    if (strcmp(seq, "s") != 0)
        return sql_error_set(err, arena, SQL_STATE_UNDEFINED_TABLE,
                             "relation \"%s\" does not exist", seq);
    *out = ++next_seq;
    return 0;
}

static const sql_eval_env test_env = {
    .nextval = fake_nextval, .cancel = &cancel_flag, .database = "db1", .user = "alice"};

/* Parses `select E from t` into r->query and r->expr. */
static void parse_expr(run *r, const char *e)
{
    sql_stmt_list l;

    snprintf(r->query, sizeof r->query, "select %s from t", e);
    cr_assert_eq(sql_parse(r->query, tu_arena, &l, &r->err), 0, "%s: %s", e, r->err.message);
    cr_assert_eq(l.n, 1);
    r->expr = l.stmts[0].u.select.targets[0].expr;
}

/* Parses and binds E (want: SQL_T_UNKNOWN or a target type); an unknown
 * result becomes text as in a select list. 0 or -1 with r->err set. */
static int bind_expr(run *r, const char *e, sql_params *params, sql_type want)
{
    parse_expr(r, e);
    sql_bind_ctx bc = {.arena = tu_arena, .query = r->query, .scope = &scope, .params = params};
    if (sql_expr_bind(&bc, r->expr, want, &r->bound, &r->err) < 0)
        return -1;
    if (r->bound->type.oid == SQL_T_UNKNOWN &&
        sql_expr_coerce(&bc, r->bound, type_text, &r->bound, &r->err) < 0)
        return -1;
    return 0;
}

/* 2024-06-01 12:00 UTC, the transaction time of every evaluation */
#define TEST_NOW INT64_C(770558400000000)

static int eval_expr(run *r, const sql_datum *params, const sql_type *param_types)
{
    sql_eval_ctx ec = {.arena = tu_arena,
                       .row = row,
                       .params = params,
                       .param_types = param_types,
                       .io = {.tz = sql_tz_utc(), .has_now = true, .now = TEST_NOW},
                       .env = &test_env,
                       .err = &r->err,
                       .query = r->query};
    return sql_expr_eval(&ec, r->bound, &r->value);
}

static int run_expr(run *r, const char *e)
{
    memset(r, 0, sizeof *r);
    if (bind_expr(r, e, NULL, type_unknown) < 0)
        return -1;
    return eval_expr(r, NULL, NULL);
}

static const char *value_text(const run *r)
{
    return r->value.isnull ? NULL : tu_out(r->bound->type, &r->value);
}

static void expect_error(const run *r, const char *e, const char *state, const char *msg, int pos)
{
    cr_expect_str_eq(sql_sqlstate_code(r->err.state), state, "%s: SQLSTATE (%s)", e,
                     r->err.message ? r->err.message : "");
    cr_expect_str_eq(r->err.message, msg, "%s: message", e);
    cr_expect_eq(r->err.position, pos, "%s: position %d, want %d", e, r->err.position, pos);
}

/* ---- the golden table ------------------------------------------------- */

typedef struct golden_case {
    const char *expr;
    const char *type;  /* pg_typeof; NULL: an error */
    const char *value; /* NULL: SQL NULL */
    const char *state;
    const char *message;
    int position;
} golden_case;

static const golden_case golden[] = {
    {"1 + 2", "integer", "3", NULL, NULL, 0},
    {"2147483647 + 1", NULL, NULL, "22003", "integer out of range", 0},
    {"i2 + i2", NULL, NULL, "22003", "smallint out of range", 0},
    {"i2 * 2", "integer", "65534", NULL, NULL, 0},
    {"i8 + 1", NULL, NULL, "22003", "bigint out of range", 0},
    {"-i8 - 2", NULL, NULL, "22003", "bigint out of range", 0},
    {"7 / 2", "integer", "3", NULL, NULL, 0},
    {"-7 / 2", "integer", "-3", NULL, NULL, 0},
    {"7 % -3", "integer", "1", NULL, NULL, 0},
    {"-7 % 3", "integer", "-1", NULL, NULL, 0},
    {"1 / 0", NULL, NULL, "22012", "division by zero", 0},
    {"1 % 0", NULL, NULL, "22012", "division by zero", 0},
    {"1.0 / 0", NULL, NULL, "22012", "division by zero", 0},
    {"(-2147483648) / -1", NULL, NULL, "22003", "integer out of range", 0},
    {"9223372036854775807 + 1", NULL, NULL, "22003", "bigint out of range", 0},
    {"99999999999999999999 + 1", "numeric", "100000000000000000000", NULL, NULL, 0},
    {"1.5 + 1", "numeric", "2.5", NULL, NULL, 0},
    {"f * 2", "double precision", "3", NULL, NULL, 0},
    {"f / 0", NULL, NULL, "22012", "division by zero", 0},
    {"1e308::float8 * 10", NULL, NULL, "22003", "value out of range: overflow", 0},
    {"1::float4 + 1", "double precision", "2", NULL, NULL, 0},
    {"1.5::float4 * 2::float4", "real", "3", NULL, NULL, 0},
    {"num * 2", "numeric", "24.690", NULL, NULL, 0},
    {"num / 3", "numeric", "4.1150000000000000", NULL, NULL, 0},
    {"num % 5", "numeric", "2.345", NULL, NULL, 0},
    {"10.5 % 3", "numeric", "1.5", NULL, NULL, 0},
    {"-num", "numeric", "-12.345", NULL, NULL, 0},
    {"- a", "integer", "-1", NULL, NULL, 0},
    {"5 / 2.0", "numeric", "2.5000000000000000", NULL, NULL, 0},
    {"'a' || 'b'", "text", "ab", NULL, NULL, 0},
    {"b || 1", "text", "x1", NULL, NULL, 0},
    {"1 || b", "text", "1x", NULL, NULL, 0},
    {"b || NULL", "text", NULL, NULL, NULL, 0},
    {"'x' || n", "text", NULL, NULL, NULL, 0},
    {"length('héllo')", "integer", "5", NULL, NULL, 0},
    {"char_length(bp)", "integer", "2", NULL, NULL, 0},
    {"length(bp)", "integer", "2", NULL, NULL, 0},
    {"octet_length('é')", "integer", "2", NULL, NULL, 0},
    {"lower('AbC')", "text", "abc", NULL, NULL, 0},
    {"upper(b)", "text", "X", NULL, NULL, 0},
    {"substr('hello', 2, 3)", "text", "ell", NULL, NULL, 0},
    {"substr('hello', -1, 3)", "text", "h", NULL, NULL, 0},
    {"substring('hello' from 2)", "text", "ello", NULL, NULL, 0},
    {"substring('hello' from 2 for 2)", "text", "el", NULL, NULL, 0},
    {"substr('hello', 2, -1)", NULL, NULL, "22011", "negative substring length not allowed", 0},
    {"trim('  x  ')", "text", "x", NULL, NULL, 0},
    {"trim(both 'x' from 'xxaxx')", "text", "a", NULL, NULL, 0},
    {"ltrim('  x')", "text", "x", NULL, NULL, 0},
    {"rtrim('xyy', 'y')", "text", "x", NULL, NULL, 0},
    {"btrim('xyx', 'x')", "text", "y", NULL, NULL, 0},
    {"replace('abcabc', 'b', 'XX')", "text", "aXXcaXXc", NULL, NULL, 0},
    {"concat(1, true, NULL, 'x', 1.5)", "text", "1tx1.5", NULL, NULL, 0},
    {"position('c' in 'abcd')", "integer", "3", NULL, NULL, 0},
    {"strpos('abcd', 'cd')", "integer", "3", NULL, NULL, 0},
    {"'abc' like 'a%'", "boolean", "t", NULL, NULL, 0},
    {"'abc' like 'a_c'", "boolean", "t", NULL, NULL, 0},
    {"'abc' not like 'b%'", "boolean", "t", NULL, NULL, 0},
    {"'ABC' ilike 'a%'", "boolean", "t", NULL, NULL, 0},
    {"'abc' not ilike 'A%'", "boolean", "f", NULL, NULL, 0},
    {"'a%c' like 'a\\%c'", "boolean", "t", NULL, NULL, 0},
    {"'abc' like 'ab\\'", NULL, NULL, "22025", "LIKE pattern must not end with escape character",
     0},
    {"'aXbXc' like '%b%c'", "boolean", "t", NULL, NULL, 0},
    {"b like 'x'", "boolean", "t", NULL, NULL, 0},
    {"c || bp", "text", "abcab", NULL, NULL, 0},
    {"1 like 'a'", NULL, NULL, "42883", "operator does not exist: integer ~~ unknown", 10},
    {"1 = 1", "boolean", "t", NULL, NULL, 0},
    {"1 = 'a'", NULL, NULL, "22P02", "invalid input syntax for type integer: \"a\"", 12},
    {"1 = 'a'::text", NULL, NULL, "42883", "operator does not exist: integer = text", 10},
    {"a = '1'", "boolean", "t", NULL, NULL, 0},
    {"1 < 2.5", "boolean", "t", NULL, NULL, 0},
    {"1::float4 = 1", "boolean", "t", NULL, NULL, 0},
    {"b > 'a'", "boolean", "t", NULL, NULL, 0},
    {"n = 1", "boolean", NULL, NULL, NULL, 0},
    {"null = null", "boolean", NULL, NULL, NULL, 0},
    {"d = '2024-02-29'", "boolean", "t", NULL, NULL, 0},
    {"d < ts", "boolean", "f", NULL, NULL, 0},
    {"tz > '2024-01-01'", "boolean", "t", NULL, NULL, 0},
    {"iv = '32 days'::interval", "boolean", "t", NULL, NULL, 0},
    {"bo = true", "boolean", "t", NULL, NULL, 0},
    {"'a' = 'a'", "boolean", "t", NULL, NULL, 0},
    {"bp = 'ab'", "boolean", "t", NULL, NULL, 0},
    {"c <> 'abc'", "boolean", "f", NULL, NULL, 0},
    {"true and null", "boolean", NULL, NULL, NULL, 0},
    {"false and null", "boolean", "f", NULL, NULL, 0},
    {"null and null", "boolean", NULL, NULL, NULL, 0},
    {"true or null", "boolean", "t", NULL, NULL, 0},
    {"false or null", "boolean", NULL, NULL, NULL, 0},
    {"null or null", "boolean", NULL, NULL, NULL, 0},
    {"not null::bool", "boolean", NULL, NULL, NULL, 0},
    {"not (n = 1)", "boolean", NULL, NULL, NULL, 0},
    {"a and true", NULL, NULL, "42804", "argument of AND must be type boolean, not type integer",
     8},
    {"not 1", NULL, NULL, "42804", "argument of NOT must be type boolean, not type integer", 12},
    {"n is null", "boolean", "t", NULL, NULL, 0},
    {"a is not null", "boolean", "t", NULL, NULL, 0},
    {"n is distinct from null", "boolean", "f", NULL, NULL, 0},
    {"n is not distinct from null", "boolean", "t", NULL, NULL, 0},
    {"a is distinct from 2", "boolean", "t", NULL, NULL, 0},
    {"'a' is distinct from 1", NULL, NULL, "22P02", "invalid input syntax for type integer: \"a\"",
     8},
    {"null is null", "boolean", "t", NULL, NULL, 0},
    {"a in (1, 2)", "boolean", "t", NULL, NULL, 0},
    {"a in (2, 3)", "boolean", "f", NULL, NULL, 0},
    {"a in (2, null)", "boolean", NULL, NULL, NULL, 0},
    {"a not in (2, null)", "boolean", NULL, NULL, NULL, 0},
    {"n in (1)", "boolean", NULL, NULL, NULL, 0},
    {"a not in (2, 3)", "boolean", "t", NULL, NULL, 0},
    {"1 in (1, 'x')", NULL, NULL, "22P02", "invalid input syntax for type integer: \"x\"", 17},
    {"'a'::text in (1, 2)", NULL, NULL, "42883", "operator does not exist: text = integer", 18},
    {"a in (1.5, 1)", "boolean", "t", NULL, NULL, 0},
    {"a between 0 and 2", "boolean", "t", NULL, NULL, 0},
    {"a not between 0 and 2", "boolean", "f", NULL, NULL, 0},
    {"2 between 1 and n", "boolean", NULL, NULL, NULL, 0},
    {"1 between 'a'::text and 2", NULL, NULL, "42883", "operator does not exist: integer >= text",
     10},
    {"case when a = 1 then 'one' else 'other' end", "text", "one", NULL, NULL, 0},
    {"case a when 1 then 10 when 2 then 20 end", "integer", "10", NULL, NULL, 0},
    {"case when n = 1 then 1 end", "integer", NULL, NULL, NULL, 0},
    {"case when true then 1 else 'a'::text end", NULL, NULL, "42804",
     "CASE types text and integer cannot be matched", 28},
    {"case when 1 then 1 end", NULL, NULL, "42804",
     "argument of CASE/WHEN must be type boolean, not type integer", 18},
    {"case when false then 1 else 2.5 end", "numeric", "2.5", NULL, NULL, 0},
    {"coalesce(n, 5)", "integer", "5", NULL, NULL, 0},
    {"coalesce(null, null, 'x')", "text", "x", NULL, NULL, 0},
    {"coalesce(1, 'a'::text)", NULL, NULL, "42804",
     "COALESCE types integer and text cannot be matched", 20},
    {"nullif(a, 1)", "integer", NULL, NULL, NULL, 0},
    {"nullif(a, 2)", "integer", "1", NULL, NULL, 0},
    {"nullif(1, 'a'::text)", NULL, NULL, "42883", "operator does not exist: integer = text", 8},
    {"greatest(1, 5, 3)", "integer", "5", NULL, NULL, 0},
    {"least(1, null, -2)", "integer", "-2", NULL, NULL, 0},
    {"greatest(1, 2.5)", "numeric", "2.5", NULL, NULL, 0},
    {"greatest(1, 'a'::text)", NULL, NULL, "42804",
     "GREATEST types integer and text cannot be matched", 20},
    {"'2.5'::numeric::int4", "integer", "3", NULL, NULL, 0},
    {"2.5::int", "integer", "3", NULL, NULL, 0},
    {"3.5::int", "integer", "4", NULL, NULL, 0},
    {"(-2.5)::int", "integer", "-3", NULL, NULL, 0},
    {"2.5::float8::int", "integer", "2", NULL, NULL, 0},
    {"3.5::float8::int", "integer", "4", NULL, NULL, 0},
    {"1e10::int", NULL, NULL, "22003", "integer out of range", 0},
    {"'abc'::int", NULL, NULL, "22P02", "invalid input syntax for type integer: \"abc\"", 8},
    {"1::uuid", NULL, NULL, "42846", "cannot cast type integer to uuid", 9},
    {"'abcdef'::varchar(3)", "character varying", "abc", NULL, NULL, 0},
    {"'ab'::char(4) || '|'", "text", "ab|", NULL, NULL, 0},
    {"12.345::numeric(4,2)", "numeric", "12.35", NULL, NULL, 0},
    {"123.45::numeric(4,2)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"true::text", "text", "true", NULL, NULL, 0},
    {"true::int", "integer", "1", NULL, NULL, 0},
    {"1::bool", "boolean", "t", NULL, NULL, 0},
    {"0::bool", "boolean", "f", NULL, NULL, 0},
    {"'yes'::bool", "boolean", "t", NULL, NULL, 0},
    {"d::timestamp", "timestamp without time zone", "2024-02-29 00:00:00", NULL, NULL, 0},
    {"ts::date", "date", "2024-01-31", NULL, NULL, 0},
    {"'1 day'::interval", "interval", "1 day", NULL, NULL, 0},
    {"'3000000000'::int8::int4", NULL, NULL, "22003", "integer out of range", 0},
    {"70000::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"1e39::float8::float4", NULL, NULL, "22003", "value out of range: overflow", 0},
    {"num::float8", "double precision", "12.345", NULL, NULL, 0},
    {"f::numeric", "numeric", "1.5", NULL, NULL, 0},
    {"0.1::float4::numeric", "numeric", "0.1", NULL, NULL, 0},
    {"a::text", "text", "1", NULL, NULL, 0},
    {"c::char(2)", "character", "ab", NULL, NULL, 0},
    {"b::varchar(10)", "character varying", "x", NULL, NULL, 0},
    {"d + 1", "date", "2024-03-01", NULL, NULL, 0},
    {"d - 1", "date", "2024-02-28", NULL, NULL, 0},
    {"1 + d", "date", "2024-03-01", NULL, NULL, 0},
    {"d - '2024-01-01'::date", "integer", "59", NULL, NULL, 0},
    {"d + '1 mon'::interval", "timestamp without time zone", "2024-03-29 00:00:00", NULL, NULL, 0},
    {"ts + '1 mon'::interval", "timestamp without time zone", "2024-02-29 10:00:00", NULL, NULL, 0},
    {"ts - '1 day'::interval", "timestamp without time zone", "2024-01-30 10:00:00", NULL, NULL, 0},
    {"ts - '2024-01-01'::timestamp", "interval", "30 days 10:00:00", NULL, NULL, 0},
    {"iv + iv", "interval", "2 mons 4 days", NULL, NULL, 0},
    {"-iv", "interval", "-1 mons -2 days", NULL, NULL, 0},
    {"tz + '1 day'", "timestamp with time zone", "2024-03-11 12:00:00+00", NULL, NULL, 0},
    {"date '2024-01-31' + interval '1 month'", "timestamp without time zone", "2024-02-29 00:00:00",
     NULL, NULL, 0},
    {"abs(-5)", "integer", "5", NULL, NULL, 0},
    {"abs(-5.5)", "numeric", "5.5", NULL, NULL, 0},
    {"abs(f)", "double precision", "1.5", NULL, NULL, 0},
    {"round(2.5)", "numeric", "3", NULL, NULL, 0},
    {"round(2.5::float8)", "double precision", "2", NULL, NULL, 0},
    {"round(3.14159, 2)", "numeric", "3.14", NULL, NULL, 0},
    {"round(1234.5, -2)", "numeric", "1200", NULL, NULL, 0},
    {"ceil(1.2)", "numeric", "2", NULL, NULL, 0},
    {"floor(-1.2)", "numeric", "-2", NULL, NULL, 0},
    {"ceil(1.2::float8)", "double precision", "2", NULL, NULL, 0},
    {"mod(7, 3)", "integer", "1", NULL, NULL, 0},
    {"mod(-7.5, 2)", "numeric", "-1.5", NULL, NULL, 0},
    {"power(2, 10)", "double precision", "1024", NULL, NULL, 0},
    {"sqrt(16)", "double precision", "4", NULL, NULL, 0},
    {"sqrt(-1)", NULL, NULL, "2201F", "cannot take square root of a negative number", 0},
    {"power(0, -1)", NULL, NULL, "2201F", "zero raised to a negative power is undefined", 0},
    {"version() like 'PostgreSQL 15%'", "boolean", "t", NULL, NULL, 0},
    {"current_schema()", "text", "public", NULL, NULL, 0},
    {"length(gen_random_uuid()::text)", "integer", "36", NULL, NULL, 0},
    {"random() < 1", "boolean", "t", NULL, NULL, 0},
    {"foo(1)", NULL, NULL, "42883", "function foo(integer) does not exist", 8},
    {"lower(1)", NULL, NULL, "42883", "function lower(integer) does not exist", 8},
    {"pg_catalog.foo(1)", NULL, NULL, "42883", "function pg_catalog.foo(integer) does not exist",
     8},
    {"x", NULL, NULL, "42703", "column \"x\" does not exist", 8},
    {"t.a", "integer", "1", NULL, NULL, 0},
    {"t.x", NULL, NULL, "42703", "column t.x does not exist", 8},
    {"u.a", NULL, NULL, "42P01", "missing FROM-clause entry for table \"u\"", 8},
    {"a + b", NULL, NULL, "42883", "operator does not exist: integer + text", 10},
    {"- b", NULL, NULL, "42883", "operator does not exist: - text", 8},
    {"1::int2 + 1::int2", "smallint", "2", NULL, NULL, 0},
    {"1::int2 + 1", "integer", "2", NULL, NULL, 0},
    {"1::int8 * 2", "bigint", "2", NULL, NULL, 0},
    {"-2147483648", "integer", "-2147483648", NULL, NULL, 0},
    {"-(-2147483648)", "bigint", "2147483648", NULL, NULL, 0},
    {"abs(-2147483648)", NULL, NULL, "22003", "integer out of range", 0},
    {"2147483648", "bigint", "2147483648", NULL, NULL, 0},
    {"5 % 0.0", NULL, NULL, "22012", "division by zero", 0},
    {"'NaN'::numeric + 1", "numeric", "NaN", NULL, NULL, 0},
    {"'Infinity'::float8 + 1", "double precision", "Infinity", NULL, NULL, 0},
    {"'NaN'::float8 = 'NaN'::float8", "boolean", "t", NULL, NULL, 0},
    {"1/3::float8", "double precision", "0.3333333333333333", NULL, NULL, 0},
    {"0.1::float8 + 0.2::float8", "double precision", "0.30000000000000004", NULL, NULL, 0},
    {"1e-320::float8 * 1e-10", NULL, NULL, "22003", "value out of range: underflow", 0},
    {"10::float4 / 3", "double precision", "3.3333333333333335", NULL, NULL, 0},
    {"'1.5'::float8::int8", "bigint", "2", NULL, NULL, 0},
    {"'-0.5'::float8::int", "integer", "0", NULL, NULL, 0},
    {"0.5::float8::int", "integer", "0", NULL, NULL, 0},
    {"1.5::float8::int", "integer", "2", NULL, NULL, 0},
    {"'12.5'::numeric::int8", "bigint", "13", NULL, NULL, 0},
    {"(-12.5)::numeric::int2", "smallint", "-13", NULL, NULL, 0},
    {"9223372036854775807::numeric + 1", "numeric", "9223372036854775808", NULL, NULL, 0},
    {"123::numeric(5,2)", "numeric", "123.00", NULL, NULL, 0},
    {"'abc'::char(5) = 'abc'", "boolean", "t", NULL, NULL, 0},
    {"length('abc'::char(5))", "integer", "3", NULL, NULL, 0},
    {"'abc'::char(5)::text || '|'", "text", "abc|", NULL, NULL, 0},
    {"'abc  '::varchar(3)", "character varying", "abc", NULL, NULL, 0},
    {"'abcd'::char(2)", "character", "ab", NULL, NULL, 0},
    {"'x'::bytea", "bytea", "\\x78", NULL, NULL, 0},
    {"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
     "boolean", "t", NULL, NULL, 0},
    {"uuid 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::text", "text",
     "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", NULL, NULL, 0},
    {"timestamp '2024-01-01' + interval '1 day 2 hours'", "timestamp without time zone",
     "2024-01-02 02:00:00", NULL, NULL, 0},
    {"timestamptz '2024-03-31 01:30+00' + interval '1 day'", "timestamp with time zone",
     "2024-04-01 01:30:00+00", NULL, NULL, 0},
    {"date '2024-12-31' + 1", "date", "2025-01-01", NULL, NULL, 0},
    {"'2024-01-01'::date - '2023-01-01'::date", "integer", "365", NULL, NULL, 0},
    {"date 'infinity' + 1", "date", "infinity", NULL, NULL, 0},
    {"now() > '2000-01-01'", "boolean", "t", NULL, NULL, 0},
    {"current_date > '2000-01-01'", "boolean", "t", NULL, NULL, 0},
    {"'2024-01-01'::timestamptz::date", "date", "2024-01-01", NULL, NULL, 0},
    {"'2024-01-01 10:00'::timestamp::timestamptz", "timestamp with time zone",
     "2024-01-01 10:00:00+00", NULL, NULL, 0},
    {"d::timestamptz", "timestamp with time zone", "2024-02-29 00:00:00+00", NULL, NULL, 0},
    {"'1 day'::interval::text", "text", "1 day", NULL, NULL, 0},
    {"1.5::text", "text", "1.5", NULL, NULL, 0},
    {"1e3", "numeric", "1000", NULL, NULL, 0},
    {"1.0e3", "numeric", "1000", NULL, NULL, 0},
    {"'  1  '::int", "integer", "1", NULL, NULL, 0},
    {"'1.5'::int", NULL, NULL, "22P02", "invalid input syntax for type integer: \"1.5\"", 8},
    {"'abc' < 'abd'", "boolean", "t", NULL, NULL, 0},
    {"'a' < 'B'", "boolean", "f", NULL, NULL, 0},
    {"coalesce(null, 1, 2.5)", "numeric", "1", NULL, NULL, 0},
    {"greatest('a', 'b')", "text", "b", NULL, NULL, 0},
    {"least(null, null)", "text", NULL, NULL, NULL, 0},
    {"nullif('a', 'a')", "text", NULL, NULL, NULL, 0},
    {"case 1 when 1.0 then 'x' end", "text", "x", NULL, NULL, 0},
    {"case when null then 1 else 2 end", "integer", "2", NULL, NULL, 0},
    {"1 in (null)", "boolean", NULL, NULL, NULL, 0},
    {"null in (1)", "boolean", NULL, NULL, NULL, 0},
    {"1 not in (1, null)", "boolean", "f", NULL, NULL, 0},
    {"a between 1 and 1", "boolean", "t", NULL, NULL, 0},
    {"upper('héllo')", "text", "HÉLLO", NULL, NULL, 0},
    {"lower('HÉLLO')", "text", "héllo", NULL, NULL, 0},
    {"substr('héllo', 2, 2)", "text", "él", NULL, NULL, 0},
    {"replace('aaa', 'a', '')", "text", "", NULL, NULL, 0},
    {"replace('abc', '', 'x')", "text", "abc", NULL, NULL, 0},
    {"strpos('héllo', 'l')", "integer", "3", NULL, NULL, 0},
    {"trim(leading 'x' from 'xxax')", "text", "ax", NULL, NULL, 0},
    {"trim(trailing from '  a  ')", "text", "  a", NULL, NULL, 0},
    {"'%' like '\\%'", "boolean", "t", NULL, NULL, 0},
    {"'abc' like '%'", "boolean", "t", NULL, NULL, 0},
    {"'' like '%'", "boolean", "t", NULL, NULL, 0},
    {"'' like '_'", "boolean", "f", NULL, NULL, 0},
    {"'abc' like 'ABC'", "boolean", "f", NULL, NULL, 0},
    {"'a_c' like 'a\\_c'", "boolean", "t", NULL, NULL, 0},
    {"'abcabc' like '%abc'", "boolean", "t", NULL, NULL, 0},
    {"'aab' like '%ab'", "boolean", "t", NULL, NULL, 0},
    {"'héllo' like 'h_llo'", "boolean", "t", NULL, NULL, 0},
    {"'HÉllo' ilike 'hé%'", "boolean", "t", NULL, NULL, 0},
    {"concat()", NULL, NULL, "42883", "function concat() does not exist", 8},
    {"concat('a', NULL)", "text", "a", NULL, NULL, 0},
    {"round(-2.5)", "numeric", "-3", NULL, NULL, 0},
    {"round(2.567, 1)", "numeric", "2.6", NULL, NULL, 0},
    {"round(-0.5::float8)", "double precision", "-0", NULL, NULL, 0},
    {"ceil(-0.5)", "numeric", "0", NULL, NULL, 0},
    {"ceil(-0.5::float8)", "double precision", "-0", NULL, NULL, 0},
    {"mod(-7, 3)", "integer", "-1", NULL, NULL, 0},
    {"mod(7, 0)", NULL, NULL, "22012", "division by zero", 0},
    {"power(-8, 1.0/3)", NULL, NULL, "2201F",
     "a negative number raised to a non-integer power yields a complex result", 0},
    {"sqrt(2)", "double precision", "1.4142135623730951", NULL, NULL, 0},
    {"abs(-0.0::float8)", "double precision", "0", NULL, NULL, 0},
    {"-0.0::float8", "double precision", "-0", NULL, NULL, 0},
    {"1::bool::int", "integer", "1", NULL, NULL, 0},
    {"'f'::bool::int", "integer", "0", NULL, NULL, 0},
    {"2::bool", "boolean", "t", NULL, NULL, 0},
    {"b::int", NULL, NULL, "22P02", "invalid input syntax for type integer: \"x\"", 0},
    {"a::varchar(1) || 'z'", "text", "1z", NULL, NULL, 0},
    {"f::int", "integer", "2", NULL, NULL, 0},
    {"f::float4", "real", "1.5", NULL, NULL, 0},
    {"i8::float8", "double precision", "9.223372036854776e+18", NULL, NULL, 0},
    {"i8::numeric", "numeric", "9223372036854775807", NULL, NULL, 0},
    {"i8::int4", NULL, NULL, "22003", "integer out of range", 0},
    {"num::int", "integer", "12", NULL, NULL, 0},
    {"num::numeric(3,1)", "numeric", "12.3", NULL, NULL, 0},
    {"num::numeric(2,1)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"iv::text", "text", "1 mon 2 days", NULL, NULL, 0},
    {"tz::date", "date", "2024-03-10", NULL, NULL, 0},
    {"tz::timestamp", "timestamp without time zone", "2024-03-10 12:00:00", NULL, NULL, 0},
    {"ts::timestamptz", "timestamp with time zone", "2024-01-31 10:00:00+00", NULL, NULL, 0},
    {"bo::text", "text", "true", NULL, NULL, 0},
    {"bo::int", "integer", "1", NULL, NULL, 0},
    {"bp::text || '|'", "text", "ab|", NULL, NULL, 0},
    {"bp || '|'", "text", "ab|", NULL, NULL, 0},
    {"bp::varchar || '|'", "text", "ab|", NULL, NULL, 0},
    {"c::int", NULL, NULL, "22P02", "invalid input syntax for type integer: \"abc\"", 0},
    {"'2024-02-30'::date", NULL, NULL, "22008",
     "date/time field value out of range: \"2024-02-30\"", 8},
    {"a = 1.0", "boolean", "t", NULL, NULL, 0},
    {"a = 1.5", "boolean", "f", NULL, NULL, 0},
    {"i2 = 32767.0", "boolean", "t", NULL, NULL, 0},
    {"f = 1.5::float4", "boolean", "t", NULL, NULL, 0},
    {"num > 12", "boolean", "t", NULL, NULL, 0},
    {"1 < 'x'", NULL, NULL, "22P02", "invalid input syntax for type integer: \"x\"", 12},
    {"'x' < 1", NULL, NULL, "22P02", "invalid input syntax for type integer: \"x\"", 8},
    {"a || 'x'", "text", "1x", NULL, NULL, 0},
    {"'1' + '2'", NULL, NULL, "42725", "operator is not unique: unknown + unknown", 12},
    {"'1' + 2", "integer", "3", NULL, NULL, 0},
    {"null + 1", "integer", NULL, NULL, NULL, 0},
    {"a + null", "integer", NULL, NULL, NULL, 0},
    {"null || null", "text", NULL, NULL, NULL, 0},
    {"-null", NULL, NULL, "42725", "operator is not unique: - unknown", 8},
    {"not 'x'", NULL, NULL, "22P02", "invalid input syntax for type boolean: \"x\"", 12},
    {"'true' and true", "boolean", "t", NULL, NULL, 0},
    {"b is null and a = 1", "boolean", "f", NULL, NULL, 0},
    {"(a = 1) = true", "boolean", "t", NULL, NULL, 0},
    {"a in ('1', '2')", "boolean", "t", NULL, NULL, 0},
    {"a in (b)", NULL, NULL, "42883", "operator does not exist: integer = text", 10},
    {"1 between 2 and 'x'", NULL, NULL, "22P02", "invalid input syntax for type integer: \"x\"",
     24},
    {"coalesce(a)", "integer", "1", NULL, NULL, 0},
    {"coalesce(n, null)", "integer", NULL, NULL, NULL, 0},
    {"greatest(a, null)", "integer", "1", NULL, NULL, 0},
    {"greatest(b, 'y', null)", "text", "y", NULL, NULL, 0},
    {"nullif(n, 1)", "integer", NULL, NULL, NULL, 0},
    {"nullif(1, null)", "integer", "1", NULL, NULL, 0},
    {"nullif(null, 1)", "integer", NULL, NULL, NULL, 0},
    {"case when a = 1 then null else 1 end", "integer", NULL, NULL, NULL, 0},
    {"case when a = 1 then null end", "text", NULL, NULL, NULL, 0},
    {"case a when 2 then 'x' else null end", "text", NULL, NULL, NULL, 0},
    {"case null when null then 1 else 2 end", "integer", "2", NULL, NULL, 0},
    {"1 = all_cols", NULL, NULL, "42703", "column \"all_cols\" does not exist", 12},
    {"t.a = 1", "boolean", "t", NULL, NULL, 0},
    {"public.t.a", "integer", "1", NULL, NULL, 0},
    {"x.t.a", NULL, NULL, "42P01", "invalid reference to FROM-clause entry for table \"t\"", 8},
    {"char_length('')", "integer", "0", NULL, NULL, 0},
    {"length(null)", "integer", NULL, NULL, NULL, 0},
    {"lower(null)", "text", NULL, NULL, NULL, 0},
    {"substr(b, 0)", "text", "x", NULL, NULL, 0},
    {"substr(b, 0, 1)", "text", "", NULL, NULL, 0},
    {"substr('hello', 3, 100)", "text", "llo", NULL, NULL, 0},
    {"substr('hello', 10)", "text", "", NULL, NULL, 0},
    {"substr('hello', 2, 2147483647)", "text", "ello", NULL, NULL, 0},
    {"b || b || b", "text", "xxx", NULL, NULL, 0},
    {"concat(d, ts, tz, iv, num, bo, c, bp)", "text",
     "2024-02-292024-01-31 10:00:002024-03-10 12:00:00+001 mon 2 days12.345tabcab ", NULL, NULL, 0},
    {"1e39::float4", NULL, NULL, "22003",
     "\"1000000000000000000000000000000000000000\" is out of range for type real", 0},
    {"1e-50::float4", NULL, NULL, "22003",
     "\"0.00000000000000000000000000000000000000000000000001\" is out of range for type real", 0},
    {"1e309::float8", NULL, NULL, "22003",
     "\"1000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "000000000000000000000000000000000\" is out of range for type double precision",
     0},
    {"'123.45'::numeric(4,2)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"'1e39'::float4", NULL, NULL, "22003", "\"1e39\" is out of range for type real", 8},
    {"'5000000-01-01'::date::timestamp", NULL, NULL, "22008", "date out of range for timestamp", 0},
    {"date '5000000-01-01' + interval '1 day'", NULL, NULL, "22008",
     "date out of range for timestamp", 0},
    {"timestamp '294276-12-31' + interval '1 day'", NULL, NULL, "22008", "timestamp out of range",
     0},
    {"timestamp '4713-11-25 BC' - interval '1 day'", "timestamp without time zone",
     "4713-11-24 00:00:00 BC", NULL, NULL, 0},
    {"date '5874897-12-31' + 1", NULL, NULL, "22008", "date out of range", 0},
    {"date '4714-11-24 BC' - 1", NULL, NULL, "22008", "date out of range", 0},
    {"'infinity'::timestamp + interval '1 day'", "timestamp without time zone", "infinity", NULL,
     NULL, 0},
    {"'-infinity'::date::timestamp", "timestamp without time zone", "-infinity", NULL, NULL, 0},
    {"'infinity'::date - 1", "date", "infinity", NULL, NULL, 0},
    {"interval '2147483647 days' + interval '1 day'", NULL, NULL, "22008", "interval out of range",
     0},
    {"timestamp '2024-01-01' - timestamp 'infinity'", NULL, NULL, "22008",
     "cannot subtract infinite timestamps", 0},
    {"date '2024-03-31' - interval '1 month'", "timestamp without time zone", "2024-02-29 00:00:00",
     NULL, NULL, 0},
    {"timestamp '2024-01-31' + interval '1 month 1 day 1 hour'", "timestamp without time zone",
     "2024-03-01 01:00:00", NULL, NULL, 0},
    {"2 ^ 10", "double precision", "1024", NULL, NULL, 0},
    {"trunc(2.7)", "numeric", "2", NULL, NULL, 0},
    {"trunc(-2.567, 2)", "numeric", "-2.56", NULL, NULL, 0},
    {"trunc(2.7::float8)", "double precision", "2", NULL, NULL, 0},
    {"sign(-3)", "double precision", "-1", NULL, NULL, 0},
    {"left('hello', 2)", "text", "he", NULL, NULL, 0},
    {"right('hello', 2)", "text", "lo", NULL, NULL, 0},
    {"repeat('ab', 3)", "text", "ababab", NULL, NULL, 0},
    {"lpad('x', 3)", "text", "  x", NULL, NULL, 0},
    {"rpad('x', 3, 'ab')", "text", "xab", NULL, NULL, 0},
    {"split_part('a,b,c', ',', 2)", "text", "b", NULL, NULL, 0},
    {"(-8) ^ (1.0/3)", NULL, NULL, "2201F",
     "a negative number raised to a non-integer power yields a complex result", 0},
    {"trunc(-2.7::float8)", "double precision", "-2", NULL, NULL, 0},
    {"trunc(1234.567, -2)", "numeric", "1200", NULL, NULL, 0},
    {"sign(-3.5)", "numeric", "-1", NULL, NULL, 0},
    {"sign(0.0)", "numeric", "0", NULL, NULL, 0},
    {"left('héllo', -2)", "text", "hél", NULL, NULL, 0},
    {"right('héllo', -2)", "text", "llo", NULL, NULL, 0},
    {"left('abc', 10)", "text", "abc", NULL, NULL, 0},
    {"repeat('ab', -1)", "text", "", NULL, NULL, 0},
    {"repeat('é', 2)", "text", "éé", NULL, NULL, 0},
    {"lpad('hello', 3)", "text", "hel", NULL, NULL, 0},
    {"lpad('x', 5, 'ab')", "text", "ababx", NULL, NULL, 0},
    {"lpad('x', -1)", "text", "", NULL, NULL, 0},
    {"rpad('x', 4, '')", "text", "x", NULL, NULL, 0},
    {"split_part('a,b,c', ',', -1)", "text", "c", NULL, NULL, 0},
    {"split_part('a,b,c', ',', 4)", "text", "", NULL, NULL, 0},
    {"split_part('abc', '', 1)", "text", "abc", NULL, NULL, 0},
    {"split_part('a,b', ',', 0)", NULL, NULL, "22023", "field position must not be zero", 0},
    {"split_part('a,,b', ',', 2)", "text", "", NULL, NULL, 0},
    {"interval '1 day' * 2", "interval", "2 days", NULL, NULL, 0},
    {"2 * interval '1 hour'", "interval", "02:00:00", NULL, NULL, 0},
    {"interval '1 month' * 1.5", "interval", "1 mon 15 days", NULL, NULL, 0},
    {"interval '1 mon 3 days' / 2", "interval", "16 days 12:00:00", NULL, NULL, 0},
    {"interval '1 day' / 0", NULL, NULL, "22012", "division by zero", 0},
    {"interval '1 day' * 0.5", "interval", "12:00:00", NULL, NULL, 0},
    {"interval '2 hours 30 minutes' * 3.5", "interval", "08:45:00", NULL, NULL, 0},
    {"iv * 2", "interval", "2 mons 4 days", NULL, NULL, 0},
    {"interval '1 year' / 7", "interval", "1 mon 21 days 10:17:08.5344", NULL, NULL, 0},
    {"interval '1 day' * 'NaN'::float8", NULL, NULL, "22008", "interval out of range", 0},
    {"round('2.5')", "double precision", "2", NULL, NULL, 0},
    {"abs('-1')", "double precision", "1", NULL, NULL, 0},
    {"sign('1')", "double precision", "1", NULL, NULL, 0},
    {"mod('7', 3)", "integer", "1", NULL, NULL, 0},
    {"substr('abc', '2')", "text", "bc", NULL, NULL, 0},
    {"'a' || 'b' || 'c'", "text", "abc", NULL, NULL, 0},
    {"'1' = '1'", "boolean", "t", NULL, NULL, 0},
    {"'1' < 2", "boolean", "t", NULL, NULL, 0},
    {"lpad('5', 3, '0')", "text", "005", NULL, NULL, 0},
    {"greatest('1', 2)", "integer", "2", NULL, NULL, 0},
    {"coalesce('1', 2)", "integer", "1", NULL, NULL, 0},
    {"nullif('1', 1)", "integer", NULL, NULL, NULL, 0},
    {"case when true then '1' else 2 end", "integer", "1", NULL, NULL, 0},
    {"'x' in ('x', 'y')", "boolean", "t", NULL, NULL, 0},
    {"now() - '1 day'", NULL, NULL, "22007",
     "invalid input syntax for type timestamp with time zone: \"1 day\"", 16},
    {"now() - interval '1 day' < now()", "boolean", "t", NULL, NULL, 0},
    {"d - '1 day'::interval", "timestamp without time zone", "2024-02-28 00:00:00", NULL, NULL, 0},
    {"length(1::text)", "integer", "1", NULL, NULL, 0},
    {"upper(c)", "text", "ABC", NULL, NULL, 0},
    {"c like 'a%'", "boolean", "t", NULL, NULL, 0},
    {"bp like 'a%'", "boolean", "t", NULL, NULL, 0},
    {"i2 + 1", "integer", "32768", NULL, NULL, 0},
    {"i2 + i8", NULL, NULL, "22003", "bigint out of range", 0},
    {"f + num", "double precision", "13.845", NULL, NULL, 0},
    {"num + 1", "numeric", "13.345", NULL, NULL, 0},
    {"num < f", "boolean", "f", NULL, NULL, 0},
    {"c = bp", "boolean", "f", NULL, NULL, 0},
    {"1 = true", NULL, NULL, "42883", "operator does not exist: integer = boolean", 10},
    {"true < false", "boolean", "f", NULL, NULL, 0},
    {"'2024-01-01'::date = '2024-01-01 00:00'::timestamp", "boolean", "t", NULL, NULL, 0},
    {"'2024-01-01'::date < now()", "boolean", "t", NULL, NULL, 0},
    {"length('abc'::varchar(2))", "integer", "2", NULL, NULL, 0},
    {"substr(c, 2)", "text", "bc", NULL, NULL, 0},
    /* random operands (Python's random, seed 7) for %, /, *, round, trunc,
     * ceil, floor, numeric/float/int casts, numeric(6,2), LIKE and interval
     * arithmetic; every fifth of 1080 generated */
    {"(-19772.018) % (-0)", NULL, NULL, "22012", "division by zero", 0},
    {"(-19772.018)::numeric::int8", "bigint", "-19772", NULL, NULL, 0},
    {"(-19772.018) / (-0)", NULL, NULL, "22012", "division by zero", 0},
    {"'a' like '%bab'", "boolean", "f", NULL, NULL, 0},
    {"trunc(6066345.32, -2)", "numeric", "6066300", NULL, NULL, 0},
    {"(6066345.32)::float4::numeric", "numeric", "6066350", NULL, NULL, 0},
    {"(-47403134)::int2 + (722481616)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '11 mons 33 days 21 hours' * (-4774720.65075)", "interval",
     "-4376827 years -3 mons -157565786 days -100269138:59:59.101056", NULL, NULL, 0},
    {"floor(-7)", "double precision", "-7", NULL, NULL, 0},
    {"(-7)::numeric(6,2)", "numeric", "-7.00", NULL, NULL, 0},
    {"(-1145312790) / (2)", "integer", "-572656395", NULL, NULL, 0},
    {"round(451.1, -2)", "numeric", "500", NULL, NULL, 0},
    {"(451.1)::float8::int4", "integer", "451", NULL, NULL, 0},
    {"(488497824) * (-531590838)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '17 mons 3 days'", "timestamp without time zone",
     "2025-07-03 00:00:00", NULL, NULL, 0},
    {"ceil(48553593.8)", "numeric", "48553594", NULL, NULL, 0},
    {"(48553593.8)::float8::numeric", "numeric", "48553593.8", NULL, NULL, 0},
    {"(-4096337922031703770) - (542676315313335174)", "bigint", "-4639014237345038944", NULL, NULL,
     0},
    {"(489.6) % (11370.676122)", "numeric", "489.600000", NULL, NULL, 0},
    {"(489.6)::numeric::int8", "bigint", "490", NULL, NULL, 0},
    {"(489.6) / (11370.676122)", "numeric", "0.04305812554564994055", NULL, NULL, 0},
    {"'ab' like '_b'", "boolean", "t", NULL, NULL, 0},
    {"trunc(3072040.0222, -2)", "numeric", "3072000", NULL, NULL, 0},
    {"(3072040.0222)::float4::numeric", "numeric", "3072040", NULL, NULL, 0},
    {"(-1875316555)::int2 + (-956980812)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '-3 mons -31 days 6 hours' * (-2004.252427)", "interval",
     "501 years 62154 days -12012:27:59.5944", NULL, NULL, 0},
    {"floor(6.232)", "numeric", "6", NULL, NULL, 0},
    {"(6.232)::numeric(6,2)", "numeric", "6.23", NULL, NULL, 0},
    {"(-1697458703) / (-1)", "integer", "1697458703", NULL, NULL, 0},
    {"round(-54, 4)", "numeric", "-54.0000", NULL, NULL, 0},
    {"(-54)::float8::int4", "integer", "-54", NULL, NULL, 0},
    {"(227908657) * (-1592467352)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '12 mons 15 days'", "timestamp without time zone",
     "2025-02-15 00:00:00", NULL, NULL, 0},
    {"ceil(-51.02)", "numeric", "-51", NULL, NULL, 0},
    {"(-51.02)::float8::numeric", "numeric", "-51.02", NULL, NULL, 0},
    {"(3612326552338929407) - (244291524994362114)", "bigint", "3368035027344567293", NULL, NULL,
     0},
    {"(0.12) % (-1)", "numeric", "0.12", NULL, NULL, 0},
    {"(0.12)::numeric::int8", "bigint", "0", NULL, NULL, 0},
    {"(0.12) / (-1)", "numeric", "-0.12000000000000000000", NULL, NULL, 0},
    {"'' like '%'", "boolean", "t", NULL, NULL, 0},
    {"trunc(-8.1817, 4)", "numeric", "-8.1817", NULL, NULL, 0},
    {"(-8.1817)::float4::numeric", "numeric", "-8.1817", NULL, NULL, 0},
    {"(-1295834044)::int2 + (428230880)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '-12 mons 26 days 9 hours' * (7816464.183)", "interval",
     "-7816464 years -2 mons +203228063 days 70348174:43:08.401408", NULL, NULL, 0},
    {"floor(-7)", "double precision", "-7", NULL, NULL, 0},
    {"(-7)::numeric(6,2)", "numeric", "-7.00", NULL, NULL, 0},
    {"(-1153698625) / (2)", "integer", "-576849312", NULL, NULL, 0},
    {"round(730, -2)", "numeric", "700", NULL, NULL, 0},
    {"(730)::float8::int4", "integer", "730", NULL, NULL, 0},
    {"(1827145625) * (1098035864)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '21 mons 40 days'", "timestamp without time zone",
     "2025-12-10 00:00:00", NULL, NULL, 0},
    {"ceil(472761.2470)", "numeric", "472762", NULL, NULL, 0},
    {"(472761.2470)::float8::numeric", "numeric", "472761.247", NULL, NULL, 0},
    {"(-1629641396863822384) - (-777114799346654893)", "bigint", "-852526597517167491", NULL, NULL,
     0},
    {"(908) % (-401434.836)", "numeric", "908.000", NULL, NULL, 0},
    {"(908)::numeric::int8", "bigint", "908", NULL, NULL, 0},
    {"(908) / (-401434.836)", "numeric", "-0.00226188640987799076", NULL, NULL, 0},
    {"'baab' like '__ba'", "boolean", "f", NULL, NULL, 0},
    {"trunc(1.4, 0)", "numeric", "1", NULL, NULL, 0},
    {"(1.4)::float4::numeric", "numeric", "1.4", NULL, NULL, 0},
    {"(2131910324)::int2 + (-1106565683)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '-25 mons -8 days 7 hours' * (-970101.37)", "interval",
     "2021044 years 6 mons 7760818 days -6790698:33:00.000004", NULL, NULL, 0},
    {"floor(-94153.563)", "numeric", "-94154", NULL, NULL, 0},
    {"(-94153.563)::numeric(6,2)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"(-64198009) / (5)", "integer", "-12839601", NULL, NULL, 0},
    {"round(42.2, 3)", "numeric", "42.200", NULL, NULL, 0},
    {"(42.2)::float8::int4", "integer", "42", NULL, NULL, 0},
    {"(2082985603) * (-247239139)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-27 mons 20 days'", "timestamp without time zone",
     "2021-11-20 00:00:00", NULL, NULL, 0},
    {"ceil(260060.606071)", "numeric", "260061", NULL, NULL, 0},
    {"(260060.606071)::float8::numeric", "numeric", "260060.606071", NULL, NULL, 0},
    {"(-2633063028754569021) - (3979772509387972930)", "bigint", "-6612835538142541951", NULL, NULL,
     0},
    {"(1.8526) % (4.1316)", "numeric", "1.8526", NULL, NULL, 0},
    {"(1.8526)::numeric::int8", "bigint", "2", NULL, NULL, 0},
    {"(1.8526) / (4.1316)", "numeric", "0.44839771517087811018", NULL, NULL, 0},
    {"'b' like 'b'", "boolean", "t", NULL, NULL, 0},
    {"trunc(-519.3170, -2)", "numeric", "-500", NULL, NULL, 0},
    {"(-519.3170)::float4::numeric", "numeric", "-519.317", NULL, NULL, 0},
    {"(515172654)::int2 + (-1212703672)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '-28 mons 23 days 17 hours' * (-1061512.168)", "interval",
     "2476861 years 8 mons -24414758 days -18045724:42:43.200008", NULL, NULL, 0},
    {"floor(12234294.26464)", "numeric", "12234294", NULL, NULL, 0},
    {"(12234294.26464)::numeric(6,2)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"(1375972606) / (1)", "integer", "1375972606", NULL, NULL, 0},
    {"round(8, 4)", "numeric", "8.0000", NULL, NULL, 0},
    {"(8)::float8::int4", "integer", "8", NULL, NULL, 0},
    {"(-481486510) * (1487567843)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-11 mons 34 days'", "timestamp without time zone",
     "2023-04-03 00:00:00", NULL, NULL, 0},
    {"ceil(7805987.7)", "numeric", "7805988", NULL, NULL, 0},
    {"(7805987.7)::float8::numeric", "numeric", "7805987.7", NULL, NULL, 0},
    {"(-2099502898520776074) - (-1038416971650173371)", "bigint", "-1061085926870602703", NULL,
     NULL, 0},
    {"(186.245) % (-100.18)", "numeric", "86.065", NULL, NULL, 0},
    {"(186.245)::numeric::int8", "bigint", "186", NULL, NULL, 0},
    {"(186.245) / (-100.18)", "numeric", "-1.8591036134957077", NULL, NULL, 0},
    {"'a' like 'a%%%'", "boolean", "t", NULL, NULL, 0},
    {"trunc(-437976.5027, 1)", "numeric", "-437976.5", NULL, NULL, 0},
    {"(-437976.5027)::float4::numeric", "numeric", "-437976", NULL, NULL, 0},
    {"(382645541)::int2 + (-1270518437)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '27 mons 4 days 19 hours' * (-8683593.73200)", "interval",
     "-19538085 years -10 mons -34734397 days -164988301:15:36.086656", NULL, NULL, 0},
    {"floor(-1.3)", "numeric", "-2", NULL, NULL, 0},
    {"(-1.3)::numeric(6,2)", "numeric", "-1.30", NULL, NULL, 0},
    {"(-1394181890) / (-4)", "integer", "348545472", NULL, NULL, 0},
    {"round(87.0243, 3)", "numeric", "87.024", NULL, NULL, 0},
    {"(87.0243)::float8::int4", "integer", "87", NULL, NULL, 0},
    {"(434783508) * (156147511)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-24 mons 39 days'", "timestamp without time zone",
     "2022-03-11 00:00:00", NULL, NULL, 0},
    {"ceil(88.01019)", "numeric", "89", NULL, NULL, 0},
    {"(88.01019)::float8::numeric", "numeric", "88.01019", NULL, NULL, 0},
    {"(1275387224097140989) - (3205405691554948721)", "bigint", "-1930018467457807732", NULL, NULL,
     0},
    {"(-9.426083) % (0.71)", "numeric", "-0.196083", NULL, NULL, 0},
    {"(-9.426083)::numeric::int8", "bigint", "-9", NULL, NULL, 0},
    {"(-9.426083) / (0.71)", "numeric", "-13.2761732394366197", NULL, NULL, 0},
    {"'abbabb' like 'a_a%b'", "boolean", "f", NULL, NULL, 0},
    {"trunc(1.5827, 4)", "numeric", "1.5827", NULL, NULL, 0},
    {"(1.5827)::float4::numeric", "numeric", "1.5827", NULL, NULL, 0},
    {"(-998653836)::int2 + (503939043)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '-20 mons -27 days 6 hours' * (158293.4)", "interval",
     "-263822 years -4 mons -4273921 days +949741:12:00.000016", NULL, NULL, 0},
    {"floor(287121.1)", "numeric", "287121", NULL, NULL, 0},
    {"(287121.1)::numeric(6,2)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"(-1613982156) / (1)", "integer", "-1613982156", NULL, NULL, 0},
    {"round(-0.83, 0)", "numeric", "-1", NULL, NULL, 0},
    {"(-0.83)::float8::int4", "integer", "-1", NULL, NULL, 0},
    {"(52360643) * (1412981198)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-26 mons 13 days'", "timestamp without time zone",
     "2021-12-13 00:00:00", NULL, NULL, 0},
    {"ceil(-985589.3673)", "numeric", "-985589", NULL, NULL, 0},
    {"(-985589.3673)::float8::numeric", "numeric", "-985589.3673", NULL, NULL, 0},
    {"(1991831839672466758) - (1297184492393601002)", "bigint", "694647347278865756", NULL, NULL,
     0},
    {"(9964) % (-190.752368)", "numeric", "44.876864", NULL, NULL, 0},
    {"(9964)::numeric::int8", "bigint", "9964", NULL, NULL, 0},
    {"(9964) / (-190.752368)", "numeric", "-52.2352624214866890", NULL, NULL, 0},
    {"'abba' like '_b_ba'", "boolean", "f", NULL, NULL, 0},
    {"trunc(2.50090, -1)", "numeric", "0", NULL, NULL, 0},
    {"(2.50090)::float4::numeric", "numeric", "2.5009", NULL, NULL, 0},
    {"(-1242425424)::int2 + (-278358836)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '20 mons -25 days 10 hours' * (324.42910)", "interval",
     "540 years 8 mons -8093 days +3237:52:15.6", NULL, NULL, 0},
    {"floor(-54496309.9064)", "numeric", "-54496310", NULL, NULL, 0},
    {"(-54496309.9064)::numeric(6,2)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"(1230680144) / (3)", "integer", "410226714", NULL, NULL, 0},
    {"round(-622710.2768, -3)", "numeric", "-623000", NULL, NULL, 0},
    {"(-622710.2768)::float8::int4", "integer", "-622710", NULL, NULL, 0},
    {"(1539604062) * (-1626300237)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-27 mons -39 days'", "timestamp without time zone",
     "2021-09-22 00:00:00", NULL, NULL, 0},
    {"ceil(1002925.59)", "numeric", "1002926", NULL, NULL, 0},
    {"(1002925.59)::float8::numeric", "numeric", "1002925.59", NULL, NULL, 0},
    {"(1080937534179436793) - (3293884969560887626)", "bigint", "-2212947435381450833", NULL, NULL,
     0},
    {"(91890663.758188) % (210166.349067)", "numeric", "47969.215909", NULL, NULL, 0},
    {"(91890663.758188)::numeric::int8", "bigint", "91890664", NULL, NULL, 0},
    {"(91890663.758188) / (210166.349067)", "numeric", "437.2282440367925298", NULL, NULL, 0},
    {"'a' like ''", "boolean", "f", NULL, NULL, 0},
    {"trunc(82934.125, 0)", "numeric", "82934", NULL, NULL, 0},
    {"(82934.125)::float4::numeric", "numeric", "82934.1", NULL, NULL, 0},
    {"(1917701105)::int2 + (1990580772)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '10 mons 10 days 29 hours' * (-1.59)", "interval",
     "-1 years -3 mons -42 days -67:42:36", NULL, NULL, 0},
    {"floor(10.6272)", "numeric", "10", NULL, NULL, 0},
    {"(10.6272)::numeric(6,2)", "numeric", "10.63", NULL, NULL, 0},
    {"(-551095777) / (1)", "integer", "-551095777", NULL, NULL, 0},
    {"round(98184.7, 4)", "numeric", "98184.7000", NULL, NULL, 0},
    {"(98184.7)::float8::int4", "integer", "98185", NULL, NULL, 0},
    {"(-1142968728) * (-575387839)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '21 mons -19 days'", "timestamp without time zone",
     "2025-10-12 00:00:00", NULL, NULL, 0},
    {"ceil(573.414)", "numeric", "574", NULL, NULL, 0},
    {"(573.414)::float8::numeric", "numeric", "573.414", NULL, NULL, 0},
    {"(671359379820143198) - (2030971863346311365)", "bigint", "-1359612483526168167", NULL, NULL,
     0},
    {"(-596.30) % (-54777338.085547)", "numeric", "-596.300000", NULL, NULL, 0},
    {"(-596.30)::numeric::int8", "bigint", "-596", NULL, NULL, 0},
    {"(-596.30) / (-54777338.085547)", "numeric", "0.000010885888596279448414", NULL, NULL, 0},
    {"'' like ''", "boolean", "t", NULL, NULL, 0},
    {"trunc(-18035055, -3)", "numeric", "-18035000", NULL, NULL, 0},
    {"(-18035055)::float4::numeric", "numeric", "-18035100", NULL, NULL, 0},
    {"(98403160)::int2 + (870355114)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '26 mons -23 days 17 hours' * (881.2)", "interval",
     "1909 years 3 mons -20261 days +14966:00:00", NULL, NULL, 0},
    {"floor(6654050.0)", "numeric", "6654050", NULL, NULL, 0},
    {"(6654050.0)::numeric(6,2)", NULL, NULL, "22003", "numeric field overflow", 0},
    {"(569898454) / (0)", NULL, NULL, "22012", "division by zero", 0},
    {"round(-4479.80914, 1)", "numeric", "-4479.8", NULL, NULL, 0},
    {"(-4479.80914)::float8::int4", "integer", "-4480", NULL, NULL, 0},
    {"(633594013) * (-1630450070)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-29 mons -9 days'", "timestamp without time zone",
     "2021-08-22 00:00:00", NULL, NULL, 0},
    {"ceil(30.85)", "numeric", "31", NULL, NULL, 0},
    {"(30.85)::float8::numeric", "numeric", "30.85", NULL, NULL, 0},
    {"(493403845160410380) - (-2858290923558896692)", "bigint", "3351694768719307072", NULL, NULL,
     0},
    {"(79915986.507) % (3018.4269)", "numeric", "115.9026", NULL, NULL, 0},
    {"(79915986.507)::numeric::int8", "bigint", "79915987", NULL, NULL, 0},
    {"(79915986.507) / (3018.4269)", "numeric", "26476.038398345840", NULL, NULL, 0},
    {"'ab' like 'aab'", "boolean", "f", NULL, NULL, 0},
    {"trunc(6738414.995, -1)", "numeric", "6738410", NULL, NULL, 0},
    {"(6738414.995)::float4::numeric", "numeric", "6738420", NULL, NULL, 0},
    {"(49847991)::int2 + (-1339565199)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '1 mons 30 days 18 hours' * (8707.2936)", "interval",
     "725 years 7 mons 261227 days 156746:04:07.680002", NULL, NULL, 0},
    {"floor(-20.8101)", "numeric", "-21", NULL, NULL, 0},
    {"(-20.8101)::numeric(6,2)", "numeric", "-20.81", NULL, NULL, 0},
    {"(-2063524146) / (-2)", "integer", "1031762073", NULL, NULL, 0},
    {"round(1132897.6, 0)", "numeric", "1132898", NULL, NULL, 0},
    {"(1132897.6)::float8::int4", "integer", "1132898", NULL, NULL, 0},
    {"(-1402445994) * (-608184330)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-8 mons -10 days'", "timestamp without time zone",
     "2023-05-21 00:00:00", NULL, NULL, 0},
    {"ceil(71.732)", "numeric", "72", NULL, NULL, 0},
    {"(71.732)::float8::numeric", "numeric", "71.732", NULL, NULL, 0},
    {"(-4081954448522123077) - (-1935620193114682782)", "bigint", "-2146334255407440295", NULL,
     NULL, 0},
    {"(2217408.20) % (54076)", "numeric", "292.20", NULL, NULL, 0},
    {"(2217408.20)::numeric::int8", "bigint", "2217408", NULL, NULL, 0},
    {"(2217408.20) / (54076)", "numeric", "41.0054035061764923", NULL, NULL, 0},
    {"'b' like 'a%bb_'", "boolean", "f", NULL, NULL, 0},
    {"trunc(703.990310, 0)", "numeric", "703", NULL, NULL, 0},
    {"(703.990310)::float4::numeric", "numeric", "703.99", NULL, NULL, 0},
    {"(1847732155)::int2 + (851499546)::int2", NULL, NULL, "22003", "smallint out of range", 0},
    {"interval '-4 mons -29 days 6 hours' * (2247.7)", "interval",
     "-749 years -2 mons -65207 days +13479:00:00", NULL, NULL, 0},
    {"floor(722.0)", "numeric", "722", NULL, NULL, 0},
    {"(722.0)::numeric(6,2)", "numeric", "722.00", NULL, NULL, 0},
    {"(-1260861638) / (-5)", "integer", "252172327", NULL, NULL, 0},
    {"round(0, 4)", "numeric", "0.0000", NULL, NULL, 0},
    {"(0)::float8::int4", "integer", "0", NULL, NULL, 0},
    {"(-765307170) * (856256568)", NULL, NULL, "22003", "integer out of range", 0},
    {"date '2024-01-31' + interval '-16 mons 7 days'", "timestamp without time zone",
     "2022-10-07 00:00:00", NULL, NULL, 0},
    {"ceil(949166)", "double precision", "949166", NULL, NULL, 0},
    {"(949166)::float8::numeric", "numeric", "949166", NULL, NULL, 0},
    {"(-585218219865197645) - (2259530989851329881)", "bigint", "-2844749209716527526", NULL, NULL,
     0},
};

Test(expr, golden_table)
{
    for (size_t i = 0; i < sizeof golden / sizeof *golden; i++) {
        const golden_case *g = &golden[i];
        run r;
        int rc = run_expr(&r, g->expr);

        if (g->state) {
            cr_expect_eq(rc, -1, "%s: succeeded, want %s", g->expr, g->state);
            if (rc < 0)
                expect_error(&r, g->expr, g->state, g->message, g->position);
            continue;
        }
        cr_expect_eq(rc, 0, "%s: %s %s", g->expr, sql_sqlstate_code(r.err.state),
                     r.err.message ? r.err.message : "");
        if (rc < 0)
            continue;
        cr_expect_str_eq(sql_type_name(r.bound->type.oid), g->type, "%s: type", g->expr);
        const char *v = value_text(&r);
        if (!g->value || !v)
            cr_expect_eq(v == NULL, g->value == NULL, "%s: %s, want %s", g->expr, v ? v : "NULL",
                         g->value ? g->value : "NULL");
        else
            cr_expect_str_eq(v, g->value, "%s", g->expr);
    }
}

/* ---- three-valued logic ------------------------------------------------ */

Test(expr, truth_tables)
{
    /* PostgreSQL: select x.a and y.b, x.a or y.b, not x.a from (values
     * (true),(false),(null)) x(a), (values (true),(false),(null)) y(b) */
    static const char *const lit[] = {"true", "false", "null"};
    static const char *const want_and[3][3] = {
        {"t", "f", NULL}, {"f", "f", "f"}, {NULL, "f", NULL}};
    static const char *const want_or[3][3] = {{"t", "t", "t"}, {"t", "f", NULL}, {"t", NULL, NULL}};
    static const char *const want_not[3] = {"f", "t", NULL};
    char e[64];
    run r;

    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            const char *want[2] = {want_and[i][j], want_or[i][j]};
            for (int k = 0; k < 2; k++) {
                snprintf(e, sizeof e, "%s::bool %s %s::bool", lit[i], k ? "or" : "and", lit[j]);
                cr_assert_eq(run_expr(&r, e), 0, "%s", e);
                const char *v = value_text(&r);
                cr_expect(v == want[k] || (v && want[k] && strcmp(v, want[k]) == 0), "%s: %s", e,
                          v ? v : "NULL");
            }
        }
        snprintf(e, sizeof e, "not %s::bool", lit[i]);
        cr_assert_eq(run_expr(&r, e), 0, "%s", e);
        const char *v = value_text(&r);
        cr_expect(v == want_not[i] || (v && strcmp(v, want_not[i]) == 0), "%s", e);
    }
}

/* ---- parameters ---------------------------------------------------------- */

typedef struct param_case {
    const char *expr;
    uint32_t declared; /* oid of $1 before binding, 0: unspecified */
    uint32_t inferred; /* oid of $1 after binding */
    const char *type;  /* result type */
} param_case;

Test(expr, parameter_inference)
{
    /* PostgreSQL: PREPARE p AS SELECT E FROM t; then the types
     * pg_prepared_statements.parameter_types reports */
    static const param_case cases[] = {
        {"$1 = a", 0, SQL_T_INT4, "boolean"},
        {"a + $1", 0, SQL_T_INT4, "integer"},
        {"$1 || 'x'", 0, SQL_T_TEXT, "text"},
        {"$1", 0, SQL_T_TEXT, "text"},
        {"$1::int8", 0, SQL_T_INT8, "bigint"},
        {"substr($1, 2)", 0, SQL_T_TEXT, "text"},
        {"d > $1", 0, SQL_T_DATE, "boolean"},
        {"$1 = a", SQL_T_INT8, SQL_T_INT8, "boolean"},
        {"$1 in (1, 2)", 0, SQL_T_INT4, "boolean"},
        {"coalesce($1, 2.5)", 0, SQL_T_NUMERIC, "numeric"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t oids[2] = {cases[i].declared, 0};
        sql_params p = {.oids = oids, .n = cases[i].declared ? 1 : 0, .cap = 2};
        run r = {0};
        cr_assert_eq(bind_expr(&r, cases[i].expr, &p, type_unknown), 0, "%s: %s", cases[i].expr,
                     r.err.message);
        cr_expect_eq(p.n, 1, "%s", cases[i].expr);
        cr_expect_eq(oids[0], cases[i].inferred, "%s: $1 is %u", cases[i].expr, oids[0]);
        cr_expect_str_eq(sql_type_name(r.bound->type.oid), cases[i].type, "%s", cases[i].expr);
    }
}

Test(expr, parameter_values)
{
    uint32_t oids[1] = {0};
    sql_params p = {.oids = oids, .cap = 1};
    sql_datum v = tu_in(tu_type("integer"), "41");
    sql_type t = {SQL_T_INT4, -1};
    run r = {0};

    cr_assert_eq(bind_expr(&r, "a + $1", &p, type_unknown), 0);
    cr_assert_eq(eval_expr(&r, &v, &t), 0);
    cr_expect_str_eq(value_text(&r), "42");
    cr_expect(sql_expr_is_stable(r.bound->args[1]));
    cr_expect(!sql_expr_is_stable(r.bound));
}

Test(expr, parameter_errors)
{
    static const struct {
        const char *expr, *state, *message;
        int position;
    } cases[] = {
        /* PostgreSQL: PREPARE p AS SELECT $1 IS NULL */
        {"$1 is null", "42P18", "could not determine data type of parameter $1", 0},
        {"concat($1)", "42P18", "could not determine data type of parameter $1", 0},
        /* PostgreSQL: SELECT $2 (one parameter) */
        {"$2", "42P02", "there is no parameter $2", 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint32_t oids[1] = {0};
        sql_params p = {.oids = oids, .cap = 1};
        run r = {0};
        cr_expect_eq(bind_expr(&r, cases[i].expr, &p, type_unknown), -1, "%s", cases[i].expr);
        expect_error(&r, cases[i].expr, cases[i].state, cases[i].message, cases[i].position);
    }
}

/* ---- scope ---------------------------------------------------------------- */

Test(expr, alias_and_hidden_columns)
{
    run r;

    scope.alias = "u";
    cr_expect_eq(run_expr(&r, "u.a + rowid"), 0, "%s", r.err.message);
    cr_expect_str_eq(value_text(&r), "43");
    /* PostgreSQL: select t.a from t u */
    cr_expect_eq(run_expr(&r, "t.a"), -1);
    expect_error(&r, "t.a", "42P01", "invalid reference to FROM-clause entry for table \"t\"", 8);
    cr_expect_str_eq(r.err.hint, "Perhaps you meant to reference the table alias \"u\".");
}

Test(expr, hints)
{
    run r;

    cr_expect_eq(run_expr(&r, "a + b"), -1);
    cr_expect_str_eq(r.err.hint, "No operator matches the given name and argument types. You "
                                 "might need to add explicit type casts.");
    cr_expect_eq(run_expr(&r, "- b"), -1);
    cr_expect_str_eq(r.err.hint, "No operator matches the given name and argument type. You "
                                 "might need to add an explicit type cast.");
    cr_expect_eq(run_expr(&r, "foo(1, 'x')"), -1);
    cr_expect_str_eq(r.err.message, "function foo(integer, unknown) does not exist");
    cr_expect_str_eq(r.err.hint, "No function matches the given name and argument types. You "
                                 "might need to add explicit type casts.");
}

Test(expr, unsupported)
{
    run r;

    cr_expect_eq(run_expr(&r, "count(*)"), -1);
    expect_error(&r, "count(*)", "0A000", "aggregate functions are not supported yet", 8);
    cr_expect_eq(run_expr(&r, "sum(a) + 1"), -1);
    expect_error(&r, "sum(a)", "0A000", "aggregate functions are not supported yet", 8);
    cr_expect_eq(run_expr(&r, "current_time"), -1);
    expect_error(&r, "current_time", "0A000", "type time with time zone is not supported yet", 8);
}

/* ---- assignment and boolean contexts ------------------------------------- */

Test(expr, assignment)
{
    static const struct {
        const char *expr, *type, *value, *state, *message;
        int position;
    } cases[] = {
        /* PostgreSQL: insert into t2 (a) values (E), a of the type given */
        {"i8", "integer", NULL, "22003", "integer out of range", 0},
        {"'abcdef'::text", "varchar(3)", NULL, "22001",
         "value too long for type character varying(3)", 0},
        {"'abcdef'", "varchar(3)", NULL, "22001", "value too long for type character varying(3)",
         0},
        {"'ab   '", "varchar(3)", "ab ", NULL, NULL, 0},
        {"12.345", "numeric(4,2)", "12.35", NULL, NULL, 0},
        {"'123.45'", "numeric(4,2)", NULL, "22003", "numeric field overflow", 0},
        {"'1x'", "numeric(4,2)", NULL, "22P02", "invalid input syntax for type numeric: \"1x\"", 8},
        {"a", "text", "1", NULL, NULL, 0},
        {"2.5", "integer", "3", NULL, NULL, 0},
        {"'x'::text", "integer", NULL, "42804",
         "column \"a\" is of type integer but expression is of type text", 8},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run r = {0};
        sql_bind_ctx bc = {.arena = tu_arena, .query = r.query, .scope = &scope, .column = "a"};
        parse_expr(&r, cases[i].expr);
        int rc = sql_expr_bind(&bc, r.expr, tu_type(cases[i].type), &r.bound, &r.err);
        if (rc == 0)
            rc = eval_expr(&r, NULL, NULL);
        if (cases[i].state) {
            cr_expect_eq(rc, -1, "%s", cases[i].expr);
            cr_expect_str_eq(sql_sqlstate_code(r.err.state), cases[i].state, "%s", cases[i].expr);
            cr_expect_str_eq(r.err.message, cases[i].message, "%s", cases[i].expr);
            cr_expect_eq(r.err.position, cases[i].position, "%s: position %d", cases[i].expr,
                         r.err.position);
        } else {
            cr_expect_eq(rc, 0, "%s: %s", cases[i].expr, r.err.message);
            cr_expect_str_eq(value_text(&r), cases[i].value, "%s", cases[i].expr);
        }
    }
}

Test(expr, where_clause)
{
    run r = {0};
    sql_stmt_list l;
    sql_bexpr *b;
    const char *q = "select * from t where a";

    cr_assert_eq(sql_parse(q, tu_arena, &l, &r.err), 0);
    sql_bind_ctx bc = {.arena = tu_arena, .query = q, .scope = &scope, .clause = "WHERE"};
    cr_expect_eq(
        sql_expr_bind(&bc, l.stmts[0].u.select.where, (sql_type){SQL_T_BOOL, -1}, &b, &r.err), -1);
    /* PostgreSQL: select * from t where 1 */
    expect_error(&r, "where a", "42804", "argument of WHERE must be type boolean, not type integer",
                 23);
}

/* ---- output names ------------------------------------------------------- */

Test(expr, colname)
{
    /* PostgreSQL: the column headers psql prints for select E from t */
    static const char *const cases[][2] = {
        {"a", "a"},
        {"t.a", "a"},
        {"1", "?column?"},
        {"true", "?column?"},
        {"a + 1", "?column?"},
        {"a::text", "a"},
        {"1::int", "int4"},
        {"'x'::varchar(3)", "varchar"},
        {"case when true then 1 end", "case"},
        {"case when true then 1 else a end", "a"},
        {"now()", "now"},
        {"current_date", "current_date"},
        {"coalesce(n, 1)", "coalesce"},
        {"trim(b)", "btrim"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run r = {0};
        cr_assert_eq(bind_expr(&r, cases[i][0], NULL, type_unknown), 0, "%s", cases[i][0]);
        cr_expect_str_eq(sql_expr_colname(r.expr), cases[i][1], "%s", cases[i][0]);
    }
}

/* ---- session functions, volatility, folding ------------------------------ */

Test(expr, session_functions)
{
    static const char *const cases[][2] = {
        {"now()", "2024-06-01 12:00:00+00"},
        {"current_timestamp", "2024-06-01 12:00:00+00"},
        {"transaction_timestamp()", "2024-06-01 12:00:00+00"},
        {"localtimestamp", "2024-06-01 12:00:00"},
        {"current_date", "2024-06-01"},
        {"current_date - 1", "2024-05-31"},
        {"now() - interval '1 hour'", "2024-06-01 11:00:00+00"},
        {"current_database()", "db1"},
        {"current_user", "alice"},
        {"session_user", "alice"},
        {"current_schema", "public"},
        {"version()", "PostgreSQL 15.18 (Tardigrade 0.1) on x86_64-pc-linux-gnu, compiled by "
                      "gcc, 64-bit"},
        {"nextval('s') + nextval('s')", "3"},
        {"pg_sleep(0)", ""},
    };
    next_seq = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        run r;
        cr_assert_eq(run_expr(&r, cases[i][0]), 0, "%s: %s", cases[i][0], r.err.message);
        cr_expect_str_eq(value_text(&r), cases[i][1], "%s", cases[i][0]);
    }
}

Test(expr, volatile_functions)
{
    run r;
    sql_datum first;

    cr_assert_eq(run_expr(&r, "unique_rowid()"), 0);
    cr_expect_eq(r.bound->kind, SQL_BEXPR_FUNC);
    cr_expect(r.bound->volatile_);
    cr_expect(!sql_expr_is_stable(r.bound));
    first = r.value;
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(eval_expr(&r, NULL, NULL), 0);
        cr_assert_gt(r.value.v.i, first.v.i);
        first = r.value;
    }
    cr_assert_eq(run_expr(&r, "gen_random_uuid() <> gen_random_uuid()"), 0);
    cr_expect_str_eq(value_text(&r), "t");
    cr_assert_eq(run_expr(&r, "1 + 2 * 3"), 0);
    cr_expect_eq(r.bound->kind, SQL_BEXPR_CONST, "constant arithmetic is folded");
    cr_assert_eq(run_expr(&r, "now()"), 0);
    cr_expect(sql_expr_is_stable(r.bound));
}

Test(expr, nextval_errors)
{
    run r;

    cr_expect_eq(run_expr(&r, "nextval('nope')"), -1);
    cr_expect_str_eq(r.err.message, "relation \"nope\" does not exist");
}

Test(expr, pg_sleep_cancel)
{
    run r;

    atomic_store(&cancel_flag, SQL_CANCEL_REQUEST);
    cr_expect_eq(run_expr(&r, "pg_sleep(30)"), -1);
    atomic_store(&cancel_flag, SQL_CANCEL_NONE);
    expect_error(&r, "pg_sleep", "57014", "canceling statement due to user request", 0);
}
