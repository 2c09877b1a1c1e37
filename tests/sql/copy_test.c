/*
 * copy_test.c - COPY's data formats without a server: the parser's COPY,
 * VACUUM and ANALYZE trees, options and their PostgreSQL 15 errors,
 * record boundaries across CopyData chunks, text and CSV field splitting
 * with escapes, quotes and NULLs, the row-shape errors, and output
 * escaping read back by the input side. End-to-end COPY (psql, psycopg2,
 * pgbench) is in tests/e2e/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "parse_dump.h"
#include "sql/session_int.h"
#include "sql_test_util.h"

TestSuite(sql_copy, .init = tu_setup, .fini = tu_teardown);

static const sql_stmt *parse_one(const char *q)
{
    sql_stmt_list l;
    sql_error err = {0};

    cr_assert_eq(sql_parse(q, tu_arena, &l, &err), 0, "%s: %s", q, err.message);
    cr_assert_eq(l.n, 1, "%s", q);
    return &l.stmts[0];
}

/* The format of COPY statement q, which must be valid. */
static sql__copy_fmt format_of(const char *q)
{
    sql__copy_fmt f;
    sql_error err = {0};

    cr_assert_eq(sql__copy_format(q, &parse_one(q)->u.copy, &f, &err, tu_arena), 0, "%s: %s", q,
                 err.message);
    return f;
}

/* A record split into fields, as "a|NULL|c" (NULL for SQL NULL). */
static const char *split(const sql__copy_fmt *f, const char *rec, size_t max)
{
    sql__copy_field out[8];
    sql_error err = {0};
    size_t n;
    static char buf[256];
    size_t len = 0;

    cr_assert(max <= 8);
    if (sql__copy_split(f, rec, strlen(rec), out, max, &n, &err, tu_arena) < 0)
        return err.message;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "|" : "",
                                out[i].isnull ? "NULL" : out[i].data);
    return buf;
}

Test(sql_copy, parse_trees)
{
    static const struct {
        const char *sql, *tree;
    } cases[] = {
        {"COPY t FROM STDIN", "copy t from_stdin"},
        {"copy s.t (a, b) to stdout with (format csv, header true, delimiter ';')",
         "copy s.t columns=(a b) to_stdout format=csv header=true delimiter=;"},
        /* the old syntax pgbench and psql send */
        {"COPY t FROM STDIN WITH CSV HEADER DELIMITER ','",
         "copy t from_stdin format=csv header=true delimiter=,"},
        {"copy pgbench_accounts from stdin with (freeze on)",
         "copy pgbench_accounts from_stdin freeze=on"},
        {"VACUUM", "vacuum"},
        {"vacuum analyze pgbench_branches", "vacuum pgbench_branches"},
        {"VACUUM (VERBOSE, ANALYZE) a, b", "vacuum a b"},
        {"ANALYZE t", "analyze t"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = pd_stmt(parse_one(cases[i].sql));
        cr_expect_str_eq(got, cases[i].tree, "%s", cases[i].sql);
        free(got);
    }
}

Test(sql_copy, parse_refusals)
{
    static const struct {
        const char *sql, *state, *msg;
    } cases[] = {
        {"COPY (SELECT 1) TO STDOUT", "0A000", "COPY (query) is not supported yet"},
        {"COPY t FROM '/etc/passwd'", "0A000", "COPY to or from a file is not supported yet"},
        {"COPY t TO PROGRAM 'cat'", "0A000", "COPY with PROGRAM is not supported yet"},
        {"COPY t FROM STDIN WHERE a > 1", "0A000", "COPY FROM with WHERE is not supported yet"},
        {"VACUUM (BOGUS) t", "42601", "unrecognized VACUUM option \"bogus\""},
        {"ANALYZE (FULL) t", "42601", "unrecognized ANALYZE option \"full\""},
        {"ANALYZE t (a)", "0A000", "ANALYZE with a column list is not supported yet"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sql_stmt_list l;
        sql_error err = {0};
        cr_assert_eq(sql_parse(cases[i].sql, tu_arena, &l, &err), -1, "%s", cases[i].sql);
        cr_expect_str_eq(sql_sqlstate_code(err.state), cases[i].state, "%s", cases[i].sql);
        cr_expect_str_eq(err.message, cases[i].msg, "%s", cases[i].sql);
    }
}

Test(sql_copy, format_defaults)
{
    sql__copy_fmt t = format_of("COPY t FROM STDIN");
    sql__copy_fmt c = format_of("COPY t FROM STDIN (FORMAT csv, HEADER)");

    cr_expect(!t.csv && !t.header && t.delim == '\t' && !strcmp(t.null, "\\N"));
    cr_expect(c.csv && c.header && c.delim == ',' && !strcmp(c.null, "") && c.quote == '"' &&
              c.escape == '"');
    c = format_of("COPY t TO STDOUT (FORMAT csv, DELIMITER '|', NULL 'nil', QUOTE '''', ESCAPE "
                  "'\\', HEADER off)");
    cr_expect(c.delim == '|' && !strcmp(c.null, "nil") && c.quote == '\'' && c.escape == '\\' &&
              !c.header);
}

Test(sql_copy, format_errors)
{
    /* wording checked against PostgreSQL 15 */
    static const struct {
        const char *sql, *state, *msg;
    } cases[] = {
        {"COPY t FROM STDIN (FORMAT xml)", "22023", "COPY format \"xml\" not recognized"},
        {"COPY t FROM STDIN (FORMAT binary)", "0A000", "COPY FORMAT binary is not supported yet"},
        {"COPY t FROM STDIN (BOGUS 1)", "42601", "option \"bogus\" not recognized"},
        {"COPY t FROM STDIN (FORMAT csv, FORMAT text)", "42601",
         "conflicting or redundant options"},
        {"COPY t FROM STDIN (DELIMITER 'ab')", "0A000",
         "COPY delimiter must be a single one-byte character"},
        {"COPY t FROM STDIN (DELIMITER E'\\n')", "22023",
         "COPY delimiter cannot be newline or carriage return"},
        {"COPY t FROM STDIN (DELIMITER 'a')", "0A000", "COPY delimiter cannot be \"a\""},
        {"COPY t FROM STDIN (QUOTE '''')", "0A000", "COPY quote available only in CSV mode"},
        {"COPY t FROM STDIN (FORMAT csv, DELIMITER '\"')", "22023",
         "COPY delimiter and quote must be different"},
        {"COPY t FROM STDIN (NULL 'a\tb')", "22023",
         "COPY delimiter must not appear in the NULL specification"},
        {"COPY t FROM STDIN (HEADER maybe)", "42601",
         "header requires a Boolean value or \"match\""},
        {"COPY t FROM STDIN (ENCODING 'LATIN1')", "0A000",
         "COPY option \"encoding\" is not supported yet"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sql__copy_fmt f;
        sql_error err = {0};
        const sql_stmt *st = parse_one(cases[i].sql);
        cr_assert_eq(sql__copy_format(cases[i].sql, &st->u.copy, &f, &err, tu_arena), -1, "%s",
                     cases[i].sql);
        cr_expect_str_eq(sql_sqlstate_code(err.state), cases[i].state, "%s", cases[i].sql);
        cr_expect_str_eq(err.message, cases[i].msg, "%s", cases[i].sql);
    }
}

Test(sql_copy, text_fields)
{
    sql__copy_fmt f = format_of("COPY t FROM STDIN");

    cr_expect_str_eq(split(&f, "1\thello\t\\N", 3), "1|hello|NULL");
    cr_expect_str_eq(split(&f, "", 1), "");
    cr_expect_str_eq(split(&f, "a\\tb\\nc\\\\d\\.", 1), "a\tb\nc\\d.");
    cr_expect_str_eq(split(&f, "\\101\\x42\\x4a\\7", 1), "ABJ\a");
    cr_expect_str_eq(split(&f, "\\b\\f\\r\\v", 1), "\b\f\r\v");
    /* an escaped delimiter is data; an escaped N is not NULL */
    cr_expect_str_eq(split(&f, "a\\\tb\t\\\\N", 2), "a\tb|\\N");
    cr_expect_str_eq(split(&f, "1\t2\t3", 2), "extra data after last expected column");
    cr_expect_str_eq(split(&f, "a\\000b", 1), "invalid byte sequence for encoding \"UTF8\": 0x00");
    f = format_of("COPY t FROM STDIN (DELIMITER '|', NULL '')");
    cr_expect_str_eq(split(&f, "|x|", 3), "NULL|x|NULL");
}

Test(sql_copy, csv_fields)
{
    sql__copy_fmt f = format_of("COPY t FROM STDIN CSV");

    cr_expect_str_eq(split(&f, "1,,\"\"", 3), "1|NULL|");
    cr_expect_str_eq(split(&f, "\"a,b\",\"say \"\"hi\"\"\",c", 3), "a,b|say \"hi\"|c");
    cr_expect_str_eq(split(&f, "\"line\nbreak\",x\\y", 2), "line\nbreak|x\\y");
    cr_expect_str_eq(split(&f, "a,b,c", 2), "extra data after last expected column");
    f = format_of("COPY t FROM STDIN (FORMAT csv, ESCAPE '\\', NULL 'NA')");
    cr_expect_str_eq(split(&f, "\"a\\\"b\",NA,\"NA\"", 3), "a\"b|NULL|NA");
}

Test(sql_copy, records_across_chunks)
{
    sql__copy_fmt t = format_of("COPY t FROM STDIN");
    sql__copy_fmt c = format_of("COPY t FROM STDIN CSV");
    sql_error err = {0};
    size_t reclen, used;

    cr_expect_eq(sql__copy_record(&t, "ab\r\ncd", 6, false, &reclen, &used, &err, tu_arena), 1);
    cr_expect(reclen == 2 && used == 4);
    /* an escaped line end is data; without a line end, wait for more */
    cr_expect_eq(sql__copy_record(&t, "a\\\nb", 4, false, &reclen, &used, &err, tu_arena), 0);
    cr_expect_eq(sql__copy_record(&t, "a\\\nb", 4, true, &reclen, &used, &err, tu_arena), 1);
    cr_expect(reclen == 4 && used == 4);
    cr_expect_eq(sql__copy_record(&t, "", 0, true, &reclen, &used, &err, tu_arena), 0);
    /* a quoted CSV line end does not end the record */
    cr_expect_eq(sql__copy_record(&c, "\"a\nb\",c\nx", 9, false, &reclen, &used, &err, tu_arena),
                 1);
    cr_expect(reclen == 7 && used == 8);
    cr_expect_eq(sql__copy_record(&c, "\"a\n", 3, false, &reclen, &used, &err, tu_arena), 0);
    cr_expect_eq(sql__copy_record(&c, "\"a\n", 3, true, &reclen, &used, &err, tu_arena), -1);
    cr_expect_str_eq(sql_sqlstate_code(err.state), "22P04");
    cr_expect_str_eq(err.message, "unterminated CSV quoted field");
}

/* What COPY TO writes for `v`, and that COPY FROM reads it back. */
static void round_trip(const sql__copy_fmt *f, const char *v, const char *want)
{
    char *line = NULL, *got;
    size_t len = 0, cap = 0;

    cr_assert_eq(sql__copy_put(f, v, v ? strlen(v) : 0, &line, &len, &cap), 0);
    got = strndup(line ? line : "", len);
    cr_expect_str_eq(got, want, "%s", v ? v : "NULL");
    cr_expect_str_eq(split(f, got, 1), v ? v : "NULL", "%s", got);
    free(got);
    free(line);
}

Test(sql_copy, output_reads_back)
{
    sql__copy_fmt t = format_of("COPY t TO STDOUT");
    sql__copy_fmt c = format_of("COPY t TO STDOUT CSV");

    round_trip(&t, "plain", "plain");
    round_trip(&t, NULL, "\\N");
    round_trip(&t, "\\N", "\\\\N");
    round_trip(&t, "tab\there\nnl\\", "tab\\there\\nnl\\\\");
    round_trip(&c, NULL, "");
    round_trip(&c, "", "\"\"");
    round_trip(&c, "a,b", "\"a,b\"");
    round_trip(&c, "say \"hi\"", "\"say \"\"hi\"\"\"");
    round_trip(&c, "two\nlines", "\"two\nlines\"");
}
