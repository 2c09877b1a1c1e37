/*
 * extended_test.c - the extended query protocol as libpq drives it, against
 * a running server (Tardigrade or PostgreSQL 15; expected bytes are
 * PostgreSQL's).
 *
 * Run through the harness, which starts a server and sets PGHOST, PGPORT,
 * PGUSER and PGDATABASE (libpq reads them: PQconnectdb("")):
 *
 *     tests/e2e/harness.py exec -- build/tests/e2e/e2e_extended_test
 *
 * Covered: Parse with unspecified parameter types and the types the server
 * infers (PQdescribePrepared: ParameterDescription, RowDescription), Bind
 * with text and binary parameters and NULLs, binary and text results for
 * bool, int2/4/8, float4/8, text, bytea, numeric, date, timestamp,
 * timestamptz and uuid, Bind errors, single-row mode, and pipeline mode
 * with an error in the middle (the rest of the pipeline is aborted, the
 * implicit transaction rolled back, the next Sync starts afresh).
 * libpq always sends Execute with no row limit, so PortalSuspended cannot
 * be reached from here.
 *
 * Each Criterion test runs in its own process on its own connection and
 * its own table (tests may run in any order).
 */
#include <criterion/criterion.h>
#include <endian.h>
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Type OIDs (pg_type.dat). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
    OID_UUID = 2950,
};

/* One column of the test table: its type, a value as PostgreSQL prints it
 * (TimeZone UTC, extra_float_digits 1), and the same value in the binary
 * format (big-endian; numeric as ndigits, weight, sign, dscale, base-10000
 * digits; date as days and timestamps as microseconds since 2000-01-01). */
typedef struct column {
    const char *name;
    const char *type;
    Oid oid;
    const char *text;
    const char *binary;
    int binary_len;
} column;

#define BIN(s) s, (int)sizeof(s) - 1

static const column columns[] = {
    {"b", "bool", OID_BOOL, "t", BIN("\x01")},
    {"i2", "int2", OID_INT2, "-32768", BIN("\x80\x00")},
    {"i4", "int4", OID_INT4, "2147483647", BIN("\x7f\xff\xff\xff")},
    {"i8", "int8", OID_INT8, "-9223372036854775808", BIN("\x80\0\0\0\0\0\0\0")},
    {"f4", "float4", OID_FLOAT4, "1.5", BIN("\x3f\xc0\x00\x00")},
    {"f8", "float8", OID_FLOAT8, "-0.1", BIN("\xbf\xb9\x99\x99\x99\x99\x99\x9a")},
    {"t", "text", OID_TEXT, "h\xc3\xa9llo", BIN("h\xc3\xa9llo")},
    {"by", "bytea", OID_BYTEA, "\\x00ff0a", BIN("\x00\xff\x0a")},
    {"n", "numeric", OID_NUMERIC, "-1234.5678",
     BIN("\x00\x02\x00\x00\x40\x00\x00\x04\x04\xd2\x16\x2e")},
    {"d", "date", OID_DATE, "2000-01-02", BIN("\x00\x00\x00\x01")},
    {"ts", "timestamp", OID_TIMESTAMP, "2000-01-01 00:00:01.5", BIN("\0\0\0\0\0\x16\xe3\x60")},
    {"tz", "timestamptz", OID_TIMESTAMPTZ, "1999-12-31 23:00:00+00",
     BIN("\xff\xff\xff\xff\x29\x6c\x5c\x00")},
    {"u", "uuid", OID_UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
     BIN("\xa0\xee\xbc\x99\x9c\x0b\x4e\xf8\xbb\x6d\x6b\xb9\xbd\x38\x0a\x11")},
};
#define NCOLS ((int)(sizeof(columns) / sizeof(columns[0])))

static PGconn *conn;

/* Runs `sql` (simple protocol) and checks its status; the result is
 * cleared here. */
static void exec_ok(const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(conn, sql);
    cr_assert_eq(PQresultStatus(r), want, "%s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
}

static void connect_db(void)
{
    conn = PQconnectdb("");
    cr_assert_eq(PQstatus(conn), CONNECTION_OK, "connect: %s", PQerrorMessage(conn));
    exec_ok("SET TimeZone = 'UTC'", PGRES_COMMAND_OK);
}

static void disconnect_db(void)
{
    PQfinish(conn);
}

TestSuite(extended, .init = connect_db, .fini = disconnect_db);

/* CREATE TABLE `name` (id int PRIMARY KEY, <every column>). */
static void create_table(const char *name)
{
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "CREATE TABLE %s (id int PRIMARY KEY", name);
    for (int i = 0; i < NCOLS; i++)
        n += snprintf(sql + n, sizeof sql - n, ", %s %s", columns[i].name, columns[i].type);
    snprintf(sql + n, sizeof sql - n, ")");
    exec_ok(sql, PGRES_COMMAND_OK);
}

/* Prepares `stmt` as INSERT INTO `table` VALUES ($1, ..., $NCOLS+1) with
 * every parameter type left to the server. */
static void prepare_insert(const char *stmt, const char *table)
{
    char sql[512];
    int n = snprintf(sql, sizeof sql, "INSERT INTO %s VALUES ($1", table);
    for (int i = 0; i < NCOLS; i++)
        n += snprintf(sql + n, sizeof sql - n, ", $%d", i + 2);
    snprintf(sql + n, sizeof sql - n, ")");
    PGresult *r = PQprepare(conn, stmt, sql, 0, NULL);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "prepare: %s", PQresultErrorMessage(r));
    PQclear(r);
}

/* Inserts row `id` with every column's value in `format` (0 text, 1
 * binary), or NULLs when `nulls`. */
static void insert_row(const char *stmt, int id, int format, int nulls)
{
    const char *values[NCOLS + 1];
    int lengths[NCOLS + 1], formats[NCOLS + 1];
    char idtext[16];
    snprintf(idtext, sizeof idtext, "%d", id);
    values[0] = idtext, lengths[0] = 0, formats[0] = 0;
    for (int i = 0; i < NCOLS; i++) {
        values[i + 1] = nulls ? NULL : format ? columns[i].binary : columns[i].text;
        lengths[i + 1] = format ? columns[i].binary_len : 0;
        formats[i + 1] = format;
    }
    PGresult *r = PQexecPrepared(conn, stmt, NCOLS + 1, values, lengths, formats, 0);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "insert %d: %s", id, PQresultErrorMessage(r));
    cr_assert_str_eq(PQcmdStatus(r), "INSERT 0 1");
    PQclear(r);
}

/* SELECT * FROM `table` WHERE id = $1 (an int8 parameter sent in binary),
 * results in `format`. The caller clears the result. */
static PGresult *select_row(const char *table, int id, int format)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT * FROM %s WHERE id = $1", table);
    uint64_t be = htobe64((uint64_t)id);
    const char *values[] = {(const char *)&be};
    const Oid types[] = {OID_INT8};
    const int lengths[] = {8}, formats[] = {1};
    PGresult *r = PQexecParams(conn, sql, 1, types, values, lengths, formats, format);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
    cr_assert_eq(PQntuples(r), 1);
    cr_assert_eq(PQnfields(r), NCOLS + 1);
    return r;
}

/* Every column of row 0 of `r` equals the expected value in `format`. */
static void check_row(PGresult *r, int format)
{
    for (int i = 0; i < NCOLS; i++) {
        const column *c = &columns[i];
        cr_expect_str_eq(PQfname(r, i + 1), c->name);
        cr_expect_eq(PQftype(r, i + 1), c->oid, "%s: type %u", c->name, PQftype(r, i + 1));
        cr_expect_eq(PQfformat(r, i + 1), format, "%s", c->name);
        cr_assert_not(PQgetisnull(r, 0, i + 1), "%s is NULL", c->name);
        int len = PQgetlength(r, 0, i + 1);
        const char *want = format ? c->binary : c->text;
        int want_len = format ? c->binary_len : (int)strlen(c->text);
        cr_expect(len == want_len && memcmp(PQgetvalue(r, 0, i + 1), want, len) == 0,
                  "%s: %d bytes, want %d (text %s)", c->name, len, want_len,
                  format ? "-" : PQgetvalue(r, 0, i + 1));
    }
}

Test(extended, text_params_binary_results)
{
    create_table("tp");
    prepare_insert("ins_tp", "tp");
    insert_row("ins_tp", 1, 0, 0);
    PGresult *r = select_row("tp", 1, 1);
    check_row(r, 1);
    PQclear(r);
    r = select_row("tp", 1, 0);
    check_row(r, 0);
    PQclear(r);
}

Test(extended, binary_params_text_results)
{
    create_table("bp");
    prepare_insert("ins_bp", "bp");
    insert_row("ins_bp", 2, 1, 0);
    PGresult *r = select_row("bp", 2, 0);
    check_row(r, 0);
    PQclear(r);
    r = select_row("bp", 2, 1);
    check_row(r, 1);
    PQclear(r);
}

Test(extended, null_params)
{
    create_table("np");
    prepare_insert("ins_np", "np");
    insert_row("ins_np", 3, 0, 1);
    insert_row("ins_np", 4, 1, 1);
    for (int id = 3; id <= 4; id++) {
        PGresult *r = select_row("np", id, 1);
        for (int i = 1; i <= NCOLS; i++)
            cr_expect(PQgetisnull(r, 0, i), "row %d column %s", id, columns[i - 1].name);
        PQclear(r);
    }
}

Test(extended, describe_prepared_infers_param_types)
{
    create_table("dp");
    prepare_insert("ins_dp", "dp");
    PGresult *r = PQdescribePrepared(conn, "ins_dp");
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
    cr_assert_eq(PQnparams(r), NCOLS + 1);
    cr_expect_eq(PQparamtype(r, 0), OID_INT4);
    for (int i = 0; i < NCOLS; i++)
        cr_expect_eq(PQparamtype(r, i + 1), columns[i].oid, "$%d (%s): %u", i + 2, columns[i].name,
                     PQparamtype(r, i + 1));
    cr_expect_eq(PQnfields(r), 0, "INSERT without RETURNING has no row description");
    PQclear(r);

    r = PQprepare(conn, "sel_dp",
                  "SELECT i8 + 1 AS next, t, $2::numeric AS n FROM dp WHERE i2 = $1 AND $3 = f8", 0,
                  NULL);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
    PQclear(r);
    r = PQdescribePrepared(conn, "sel_dp");
    cr_assert_eq(PQnparams(r), 3);
    cr_expect_eq(PQparamtype(r, 0), OID_INT2);
    cr_expect_eq(PQparamtype(r, 1), OID_NUMERIC);
    cr_expect_eq(PQparamtype(r, 2), OID_FLOAT8);
    cr_assert_eq(PQnfields(r), 3);
    cr_expect_str_eq(PQfname(r, 0), "next");
    cr_expect_eq(PQftype(r, 0), OID_INT8);
    cr_expect_eq(PQftype(r, 1), OID_TEXT);
    cr_expect_eq(PQftype(r, 2), OID_NUMERIC);
    PQclear(r);
}

/* `r` (cleared here) failed with `sqlstate` and primary message `message`. */
static void expect_error(PGresult *r, const char *sqlstate, const char *message)
{
    cr_assert_eq(PQresultStatus(r), PGRES_FATAL_ERROR, "expected %s, got %s", sqlstate,
                 PQresStatus(PQresultStatus(r)));
    cr_expect_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), sqlstate);
    cr_expect_str_eq(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), message);
    PQclear(r);
}

Test(extended, parse_and_bind_errors)
{
    exec_ok("CREATE TABLE be (k int PRIMARY KEY, v text)", PGRES_COMMAND_OK);
    PGresult *r = PQprepare(conn, "bad", "SELEC $1", 0, NULL);
    cr_expect_str_eq(PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION), "1");
    expect_error(r, "42601", "syntax error at or near \"SELEC\"");
    expect_error(PQprepare(conn, "missing", "SELECT * FROM nosuch WHERE k = $1", 0, NULL), "42P01",
                 "relation \"nosuch\" does not exist");

    r = PQprepare(conn, "ins_be", "INSERT INTO be VALUES ($1, $2)", 0, NULL);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQresultErrorMessage(r));
    PQclear(r);
    const char *bad_int[] = {"12abc", "x"};
    expect_error(PQexecPrepared(conn, "ins_be", 2, bad_int, NULL, NULL, 0), "22P02",
                 "invalid input syntax for type integer: \"12abc\"");
    const char *short_int[] = {"\x01\x02", "x"};
    const int lengths[] = {2, 1}, formats[] = {1, 0};
    expect_error(PQexecPrepared(conn, "ins_be", 2, short_int, lengths, formats, 0), "08P01",
                 "insufficient data left in message");
    expect_error(PQexecPrepared(conn, "ins_be", 1, bad_int, NULL, NULL, 0), "08P01",
                 "bind message supplies 1 parameters, but prepared statement \"ins_be\" "
                 "requires 2");
    expect_error(PQexecPrepared(conn, "nosuch", 0, NULL, NULL, NULL, 0), "26000",
                 "prepared statement \"nosuch\" does not exist");
    exec_ok("SELECT 1", PGRES_TUPLES_OK); /* the session goes on */
}

Test(extended, single_row_mode)
{
    exec_ok("CREATE TABLE sr (k int PRIMARY KEY, v text)", PGRES_COMMAND_OK);
    exec_ok("INSERT INTO sr VALUES (3, 'c'), (1, 'a'), (2, 'b')", PGRES_COMMAND_OK);
    const char *params[] = {"2"};
    cr_assert(PQsendQueryParams(conn, "SELECT k, v FROM sr WHERE k >= $1 - 1 ORDER BY k", 1, NULL,
                                params, NULL, NULL, 0));
    cr_assert(PQsetSingleRowMode(conn));
    const char *want[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        PGresult *r = PQgetResult(conn);
        cr_assert_eq(PQresultStatus(r), PGRES_SINGLE_TUPLE, "row %d: %s", i,
                     PQresultErrorMessage(r));
        cr_assert_eq(PQntuples(r), 1);
        cr_expect_str_eq(PQgetvalue(r, 0, 1), want[i]);
        PQclear(r);
    }
    PGresult *r = PQgetResult(conn);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    cr_expect_eq(PQntuples(r), 0);
    cr_expect_str_eq(PQcmdStatus(r), "SELECT 3");
    PQclear(r);
    cr_assert_null(PQgetResult(conn));
}

/* The next pipeline result has status `want` (and SQLSTATE `sqlstate`
 * when not NULL); then the NULL that ends each query's results. */
static void pipeline_expect(ExecStatusType want, const char *sqlstate)
{
    PGresult *r = PQgetResult(conn);
    cr_assert_not_null(r);
    cr_assert_eq(PQresultStatus(r), want, "got %s: %s", PQresStatus(PQresultStatus(r)),
                 PQresultErrorMessage(r));
    if (sqlstate)
        cr_expect_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), sqlstate);
    PQclear(r);
    if (want != PGRES_PIPELINE_SYNC)
        cr_assert_null(PQgetResult(conn));
}

static void pipeline_send(const char *sql)
{
    cr_assert(PQsendQueryParams(conn, sql, 0, NULL, NULL, NULL, NULL, 0), "%s",
              PQerrorMessage(conn));
}

Test(extended, pipeline_with_error_in_the_middle)
{
    exec_ok("CREATE TABLE pl (k int PRIMARY KEY)", PGRES_COMMAND_OK);
    cr_assert(PQenterPipelineMode(conn));
    pipeline_send("INSERT INTO pl VALUES (1)");
    pipeline_send("SELECT 1 / 0");
    pipeline_send("INSERT INTO pl VALUES (2)");
    cr_assert(PQpipelineSync(conn));
    pipeline_send("INSERT INTO pl VALUES (3)");
    pipeline_send("SELECT k FROM pl ORDER BY k");
    cr_assert(PQpipelineSync(conn));

    pipeline_expect(PGRES_COMMAND_OK, NULL);
    pipeline_expect(PGRES_FATAL_ERROR, "22012");
    pipeline_expect(PGRES_PIPELINE_ABORTED, NULL);
    pipeline_expect(PGRES_PIPELINE_SYNC, NULL);
    pipeline_expect(PGRES_COMMAND_OK, NULL);
    PGresult *r = PQgetResult(conn);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQresultErrorMessage(r));
    /* The first sync's implicit transaction was rolled back with its error. */
    cr_assert_eq(PQntuples(r), 1);
    cr_expect_str_eq(PQgetvalue(r, 0, 0), "3");
    PQclear(r);
    cr_assert_null(PQgetResult(conn));
    pipeline_expect(PGRES_PIPELINE_SYNC, NULL);
    cr_assert(PQexitPipelineMode(conn));
}
