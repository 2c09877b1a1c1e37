/*
 * pgwire_build_test.c - backend message builders produce PostgreSQL 15's
 * exact bytes for the responses captured from psql, pgbench, psycopg2 and
 * pgjdbc sessions, and append whole messages one after another.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/pgwire.h"
#include "pg_captured.h"

static net_pg_buf buf;

static void teardown(void)
{
    net_pg_buf_free(&buf);
}

TestSuite(build, .fini = teardown);

#define EXPECT_BYTES(lit)                                                                       \
    do {                                                                                        \
        cr_assert_eq(buf.len, LIT_LEN(lit), "length %zu, expected %zu", buf.len, LIT_LEN(lit)); \
        cr_assert_eq(memcmp(buf.data, lit, LIT_LEN(lit)), 0);                                   \
    } while (0)

Test(build, startup_responses)
{
    cr_assert_eq(net_pg_put_refuse_encryption(&buf), 0);
    cr_assert_eq(net_pg_put_auth(&buf, NET_PG_AUTH_OK, NULL, 0), 0);
    cr_assert_eq(net_pg_put_parameter_status(&buf, "application_name", "pgbench"), 0);
    cr_assert_eq(net_pg_put_backend_key(&buf, 15543, -1486594345), 0);
    cr_assert_eq(net_pg_put_ready(&buf, 'I'), 0);
    EXPECT_BYTES("N" PG_AUTH_OK PG_PS_APPNAME PG_BKD PG_RFQ_I);
}

Test(build, psycopg2_select_result)
{
    static const net_pg_field fields[] = {
        {.name = "int4", .type_oid = 23, .typlen = 4, .typmod = -1},
        {.name = "?column?", .type_oid = 25, .typlen = -1, .typmod = -1},
        {.name = "?column?", .type_oid = 16, .typlen = 1, .typmod = -1},
        {.name = "?column?", .type_oid = 1700, .typlen = -1, .typmod = -1},
    };
    static const net_pg_value row[] = {
        {(const uint8_t *)"1", 1},
        {NULL, -1},
        {(const uint8_t *)"t", 1},
        {(const uint8_t *)"1.5", 3},
    };
    cr_assert_eq(net_pg_put_row_description(&buf, 4, fields), 0);
    cr_assert_eq(net_pg_put_data_row(&buf, 4, row), 0);
    cr_assert_eq(net_pg_put_command_complete(&buf, "SELECT 1"), 0);
    EXPECT_BYTES(PG_ROWDESC_PSY PG_DATAROW_PSY PG_CC_SELECT1);
}

Test(build, pgjdbc_table_columns)
{
    static const net_pg_field fields[] = {
        {.name = "id", .table_oid = 16388, .attnum = 1, .type_oid = 23, .typlen = 4, .typmod = -1},
        {.name = "name",
         .table_oid = 16388,
         .attnum = 2,
         .type_oid = 25,
         .typlen = -1,
         .typmod = -1},
    };
    static const net_pg_value row[] = {{(const uint8_t *)"1", 1}, {(const uint8_t *)"o'brien", 7}};
    cr_assert_eq(net_pg_put_row_description(&buf, 2, fields), 0);
    cr_assert_eq(net_pg_put_data_row(&buf, 2, row), 0);
    EXPECT_BYTES(PG_ROWDESC_JDBC PG_DATAROW_JDBC);
}

Test(build, extended_protocol_acknowledgements)
{
    static const uint32_t oids[] = {23, 23, 1043};
    cr_assert_eq(net_pg_put_empty(&buf, NET_PG_PARSE_COMPLETE), 0);
    cr_assert_eq(net_pg_put_parameter_description(&buf, 3, oids), 0);
    cr_assert_eq(net_pg_put_empty(&buf, NET_PG_NO_DATA), 0);
    cr_assert_eq(net_pg_put_empty(&buf, NET_PG_BIND_COMPLETE), 0);
    cr_assert_eq(net_pg_put_empty(&buf, NET_PG_PORTAL_SUSPENDED), 0);
    cr_assert_eq(net_pg_put_empty(&buf, NET_PG_CLOSE_COMPLETE), 0);
    cr_assert_eq(net_pg_put_empty(&buf, NET_PG_EMPTY_QUERY), 0);
    EXPECT_BYTES("1\x00\x00\x00\x04" PG_PARAMDESC "n\x00\x00\x00\x04"
                 "2\x00\x00\x00\x04"
                 "s\x00\x00\x00\x04"
                 "3\x00\x00\x00\x04"
                 "I\x00\x00\x00\x04");
}

Test(build, error_response_field_for_field)
{
    sql_error e = {.state = SQL_STATE_UNDEFINED_TABLE,
                   .message = "relation \"nosuch\" does not exist",
                   .position = 15};
    cr_assert_eq(net_pg_put_error(&buf, &e), 0);
    EXPECT_BYTES(PG_ERR_42P01);
}

Test(build, notice_response)
{
    sql_error e = {.state = SQL_STATE_SUCCESSFUL_COMPLETION,
                   .severity = SQL_SEV_NOTICE,
                   .message = "table \"pgbench_tellers\" does not exist, skipping"};
    cr_assert_eq(net_pg_put_error(&buf, &e), 0);
    EXPECT_BYTES(PG_NOTICE);
}

Test(build, fatal_with_detail_and_hint)
{
    sql_error e = {.state = SQL_STATE_PROTOCOL_VIOLATION,
                   .severity = SQL_SEV_FATAL,
                   .message = "m",
                   .detail = "d",
                   .hint = "h"};
    cr_assert_eq(net_pg_put_error(&buf, &e), 0);
    EXPECT_BYTES("E\x00\x00\x00\x23"
                 "SFATAL\x00VFATAL\x00"
                 "C08P01\x00Mm\x00"
                 "Dd\x00Hh\x00\x00");
}

Test(build, copy_messages)
{
    static const int16_t fmts[4] = {0};
    cr_assert_eq(net_pg_put_copy_response(&buf, 'G', 0, 4, fmts), 0);
    cr_assert_eq(net_pg_put_copy_data(&buf, "100\tx\t1\t2024-01-01\n", 19), 0);
    cr_assert_eq(net_pg_put_empty(&buf, NET_PG_COPY_DONE_MSG), 0);
    /* CopyData and CopyDone have the same layout in both directions. */
    EXPECT_BYTES(PG_COPYIN PG_COPYDATA PG_COPYDONE);
}

Test(build, negotiate_protocol_version)
{
    static const char *const opts[] = {"_pq_.foo"};
    cr_assert_eq(net_pg_put_negotiate_version(&buf, 0, 1, opts), 0);
    EXPECT_BYTES("v\x00\x00\x00\x15\x00\x03\x00\x00\x00\x00\x00\x01_pq_.foo\x00");
}

Test(build, sasl_authentication_requests)
{
    cr_assert_eq(net_pg_put_auth(&buf, NET_PG_AUTH_SASL, "SCRAM-SHA-256\0", 15), 0);
    cr_assert_eq(net_pg_put_auth(&buf, NET_PG_AUTH_SASL_FINAL, "v=x", 3), 0);
    cr_assert_eq(net_pg_put_auth(&buf, NET_PG_AUTH_CLEARTEXT, NULL, 0), 0);
    EXPECT_BYTES("R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00"
                 "R\x00\x00\x00\x0b\x00\x00\x00\x0cv=x"
                 "R\x00\x00\x00\x08\x00\x00\x00\x03");
}

Test(build, reset_keeps_memory)
{
    cr_assert_eq(net_pg_put_ready(&buf, 'T'), 0);
    uint8_t *data = buf.data;
    net_pg_buf_reset(&buf);
    cr_assert_eq(buf.len, 0);
    cr_assert_eq(net_pg_put_ready(&buf, 'E'), 0);
    cr_assert_eq(buf.data, data);
    EXPECT_BYTES("Z\x00\x00\x00\x05"
                 "E");
}
