/*
 * pgwire_parse_test.c - typed parsers of frontend messages: the captured
 * client messages decode to what the capture says; every malformed shape
 * (truncated strings, counts beyond the payload, trailing garbage, unknown
 * types, bad format codes) is FATAL 08P01 with a precise detail; and a
 * truncation sweep plus a seeded mutation loop never crash or accept
 * garbage silently (run under ASan+UBSan too).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/pgwire.h"
#include "pg_captured.h"

static kv_arena *arena;
static sql_error err;

static void setup(void)
{
    cr_assert_eq(kv_arena_create(&arena), 0);
    memset(&err, 0, sizeof(err));
}

static void teardown(void)
{
    kv_arena_destroy(arena);
}

TestSuite(parse, .init = setup, .fini = teardown);

/* Frames a captured message the way the reader would: typed messages skip
 * type and length, startup packets only the length. */
static net_pg_frame frame_of(const char *bytes, size_t len)
{
    int typed = bytes[0] != 0;
    size_t hdr = typed ? 5 : 4;
    return (net_pg_frame){
        .type = typed ? bytes[0] : 0, .body = (const uint8_t *)bytes + hdr, .len = len - hdr};
}

#define PARSE_OK(lit, m) cr_assert_eq(parse_lit(lit, LIT_LEN(lit), m), 0, "%s", err.message)
static int parse_lit(const char *bytes, size_t len, net_pg_msg *m)
{
    net_pg_frame f = frame_of(bytes, len);
    return net_pg_parse(&f, m, arena, &err);
}

/* Parses a typed body and expects FATAL 08P01 with `message` and `detail`. */
static void expect_bad(char type, const char *body, size_t len, const char *message,
                       const char *detail)
{
    net_pg_frame f = {.type = type, .body = (const uint8_t *)body, .len = len};
    net_pg_msg m;
    cr_assert_eq(net_pg_parse(&f, &m, arena, &err), NET_EPROTO, "type %c accepted", type);
    cr_assert_eq(err.state, SQL_STATE_PROTOCOL_VIOLATION);
    cr_assert_eq(err.severity, SQL_SEV_FATAL);
    cr_assert_str_eq(err.message, message);
    if (detail != NULL)
        cr_assert_str_eq(err.detail, detail);
}

Test(parse, ssl_request)
{
    net_pg_msg m;
    PARSE_OK(PG_SSL, &m);
    cr_assert_eq(m.kind, NET_PG_SSL_REQUEST);
}

Test(parse, gssenc_and_cancel_requests)
{
    net_pg_msg m;
    PARSE_OK("\x00\x00\x00\x08\x04\xd2\x16\x30", &m);
    cr_assert_eq(m.kind, NET_PG_GSSENC_REQUEST);
    PARSE_OK("\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x3c\xb7\xa7\x64\x5e\xd7", &m);
    cr_assert_eq(m.kind, NET_PG_CANCEL_REQUEST);
    cr_assert_eq(m.u.cancel.pid, 15543);
    cr_assert_eq(m.u.cancel.secret, -1486594345);
}

Test(parse, pgjdbc_startup)
{
    static const char *const names[] = {"user",      "database", "client_encoding",
                                        "DateStyle", "TimeZone", "extra_float_digits"};
    static const char *const values[] = {"scramuser", "testdb", "UTF8", "ISO", "Etc/UTC", "2"};
    net_pg_msg m;
    PARSE_OK(PG_STARTUP_PGJDBC, &m);
    cr_assert_eq(m.kind, NET_PG_STARTUP);
    cr_assert_eq(m.u.startup.major, 3);
    cr_assert_eq(m.u.startup.minor, 0);
    cr_assert_eq(m.u.startup.nparams, 6);
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(m.u.startup.names[i], names[i]);
        cr_assert_str_eq(m.u.startup.values[i], values[i]);
    }
}

Test(parse, startup_without_terminator)
{
    net_pg_frame f = {.body = (const uint8_t *)"\x00\x03\x00\x00user\x00x\x00", .len = 11};
    net_pg_msg m;
    cr_assert_eq(net_pg_parse(&f, &m, arena, &err), NET_EPROTO);
    cr_assert_str_eq(err.message, "invalid string in message");
    f.body = (const uint8_t *)"\x00\x03\x00\x00user\x00x\x00\x00z";
    f.len = 13;
    cr_assert_eq(net_pg_parse(&f, &m, arena, &err), NET_EPROTO);
    cr_assert_str_eq(err.message,
                     "invalid startup packet layout: expected terminator as last byte");
}

Test(parse, unsupported_protocol_version)
{
    net_pg_frame f = {.body = (const uint8_t *)"\x00\x02\x00\x00\x00", .len = 5};
    net_pg_msg m;
    cr_assert_eq(net_pg_parse(&f, &m, arena, &err), NET_EPROTO);
    cr_assert_eq(err.state, SQL_STATE_FEATURE_NOT_SUPPORTED);
    cr_assert_str_eq(err.detail, "startup message: version 2.0; server supports 3.0 to 3.0");
}

Test(parse, pgjdbc_parse_with_type_oids)
{
    net_pg_msg m;
    PARSE_OK(PG_PARSE_S3, &m);
    cr_assert_eq(m.kind, NET_PG_PARSE);
    cr_assert_str_eq(m.u.parse.name, "S_3");
    cr_assert_str_eq(m.u.parse.sql, "INSERT INTO orders (acct, amount, note) VALUES ($1, $2, $3)");
    cr_assert_eq(m.u.parse.ntypes, 3);
    cr_assert_eq(m.u.parse.types[0], 23);
    cr_assert_eq(m.u.parse.types[2], 1043);
}

Test(parse, pgjdbc_bind_mixed_formats)
{
    net_pg_msg m;
    PARSE_OK(PG_BIND_S3, &m);
    cr_assert_eq(m.kind, NET_PG_BIND);
    cr_assert_str_eq(m.u.bind.portal, "");
    cr_assert_str_eq(m.u.bind.stmt, "S_3");
    cr_assert_eq(m.u.bind.nparams, 3);
    cr_assert_eq(net_pg_bind_format(&m, 0), 1);
    cr_assert_eq(net_pg_bind_format(&m, 2), 0);
    cr_assert_eq(m.u.bind.params[1].len, 4);
    cr_assert_eq(memcmp(m.u.bind.params[1].data, "\x00\x00\x00\x0a", 4), 0);
    cr_assert_eq(m.u.bind.params[2].len, 2);
    cr_assert_eq(memcmp(m.u.bind.params[2].data, "n0", 2), 0);
    cr_assert_eq(m.u.bind.nresult_formats, 0);
}

Test(parse, bind_one_format_applies_to_all_and_null)
{
    /* formats [1], params [NULL, 00000001] */
    static const char bind[] = "B\x00\x00\x00\x1a\x00\x00\x00\x01\x00\x01\x00\x02\xff\xff\xff\xff"
                               "\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00";
    net_pg_msg m;
    PARSE_OK(bind, &m);
    cr_assert_eq(m.u.bind.nparams, 2);
    cr_assert_eq(m.u.bind.params[0].len, -1);
    cr_assert_null(m.u.bind.params[0].data);
    cr_assert_eq(net_pg_bind_format(&m, 1), 1);
}

Test(parse, pgbench_prepared_bind_result_formats)
{
    net_pg_msg m;
    PARSE_OK(PG_BIND_P0, &m);
    cr_assert_str_eq(m.u.bind.stmt, "P_0");
    cr_assert_eq(m.u.bind.nparams, 0);
    cr_assert_eq(m.u.bind.nresult_formats, 1);
    cr_assert_eq(m.u.bind.result_formats[0], 0);
    cr_assert_eq(net_pg_bind_format(&m, 0), 0);
}

Test(parse, describe_execute_sync_copy)
{
    net_pg_msg m;
    PARSE_OK(PG_DESCRIBE_P, &m);
    cr_assert_eq(m.kind, NET_PG_DESCRIBE);
    cr_assert_eq(m.u.describe.what, 'P');
    cr_assert_str_eq(m.u.describe.name, "");
    PARSE_OK(PG_EXECUTE_0, &m);
    cr_assert_eq(m.kind, NET_PG_EXECUTE);
    cr_assert_eq(m.u.execute.max_rows, 0);
    PARSE_OK(PG_SYNC, &m);
    cr_assert_eq(m.kind, NET_PG_SYNC);
    PARSE_OK(PG_COPYDATA, &m);
    cr_assert_eq(m.kind, NET_PG_COPY_DATA);
    cr_assert_eq(m.u.copy_data.len, 19);
    cr_assert_eq(memcmp(m.u.copy_data.data, "100\tx\t1\t2024-01-01\n", 19), 0);
    PARSE_OK(PG_COPYDONE, &m);
    cr_assert_eq(m.kind, NET_PG_COPY_DONE);
    PARSE_OK("f\x00\x00\x00\x09oops\x00", &m);
    cr_assert_eq(m.kind, NET_PG_COPY_FAIL);
    cr_assert_str_eq(m.u.copy_fail.message, "oops");
    PARSE_OK("C\x00\x00\x00\x09S\x53_1\x00", &m);
    cr_assert_eq(m.kind, NET_PG_CLOSE);
    cr_assert_eq(m.u.close.what, 'S');
    cr_assert_str_eq(m.u.close.name, "S_1");
    PARSE_OK("H\x00\x00\x00\x04", &m);
    cr_assert_eq(m.kind, NET_PG_FLUSH);
}

Test(parse, malformed_shapes)
{
    expect_bad('Q', "BEGIN", 5, "invalid string in message",
               "Query message: query string is not NUL-terminated");
    expect_bad('Q', "BEGIN\0x", 7, "invalid message format", "Query message: 1 trailing bytes");
    expect_bad('S', "x", 1, "invalid message format", "Sync message: 1 trailing bytes");
    expect_bad('P', "\0q\0\x7f\xff", 5, "insufficient data left in message",
               "Parse message: parameter type count 32767 exceeds the 0 bytes left");
    expect_bad('P', "\0q\0\xff\xff", 5, "insufficient data left in message",
               "Parse message: parameter type count -1 exceeds the 0 bytes left");
    expect_bad('B', "\0\0\0\x01\0\x02\0\0", 8, "invalid message format",
               "Bind message: unsupported format code 2 in parameter formats");
    expect_bad('B', "\0\0\0\0\0\x01\xff\xff\xff\xfe\0\0", 12, "invalid message format",
               "Bind message: parameter 1 has length -2");
    expect_bad('B',
               "\0\0\0\0\0\x01\0\0\0\x09"
               "ab\0\0",
               14, "insufficient data left in message",
               "Bind message: parameter value needs 9 bytes, 4 left");
    expect_bad('B', "\0\0\0\x02\0\0\0\0\0\x01\0\0\0\0\0\0", 16, "invalid message format",
               "Bind message: 2 parameter formats but 1 parameters");
    expect_bad('D', "X\0", 2, "invalid message format",
               "Describe message: target kind 88 is neither 'S' nor 'P'");
    expect_bad('E', "\0\0\0", 3, "insufficient data left in message",
               "Execute message: row limit needs 4 bytes, 2 left");
    expect_bad('Z', "", 0, "invalid frontend message type", "unknown message: type byte 90");
}

Test(parse, password_and_sasl_bodies)
{
    net_pg_msg m = {.kind = NET_PG_PASSWORD};
    const char *pw;
    m.u.password.data = (const uint8_t *)"secret";
    m.u.password.len = 7;
    cr_assert_eq(net_pg_parse_password(&m, &pw, arena, &err), 0);
    cr_assert_str_eq(pw, "secret");
    m.u.password.len = 6;
    cr_assert_eq(net_pg_parse_password(&m, &pw, arena, &err), NET_EPROTO);

    static const char sasl[] = "SCRAM-SHA-256\0\0\0\0\x03n,,";
    const char *mech;
    net_pg_value data;
    m.u.password.data = (const uint8_t *)sasl;
    m.u.password.len = LIT_LEN(sasl);
    cr_assert_eq(net_pg_parse_sasl_initial(&m, &mech, &data, arena, &err), 0);
    cr_assert_str_eq(mech, "SCRAM-SHA-256");
    cr_assert_eq(data.len, 3);
    m.u.password.len = LIT_LEN(sasl) - 1;
    cr_assert_eq(net_pg_parse_sasl_initial(&m, &mech, &data, arena, &err), NET_EPROTO);
    cr_assert_str_eq(err.detail, "SASLInitialResponse message: response needs 3 bytes, 2 left");
}

/* Messages whose every proper prefix is malformed: the captured ones plus
 * one of each remaining shape. */
#define CLOSE_S1  "C\x00\x00\x00\x09S\x53_1\x00"
#define COPY_FAIL "f\x00\x00\x00\x09oops\x00"
#define CANCEL    "\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x3c\xb7\xa7\x64\x5e\xd7"
static const struct {
    const char *bytes;
    size_t len;
} strict[] = {
#define S(x)          \
    {                 \
        x, LIT_LEN(x) \
    }
    S(PG_STARTUP_PGBENCH), S(PG_STARTUP_PGJDBC), S(PG_PARSE_JDBC), S(PG_BIND_JDBC),
    S(PG_DESCRIBE_P),      S(PG_EXECUTE_0),      S(PG_PARSE_S3),   S(PG_BIND_S3),
    S(PG_BIND_P0),         S(PG_QUERY_BEGIN),    S(PG_SSL),        S(PG_SYNC),
    S(CLOSE_S1),           S(COPY_FAIL),         S(CANCEL),
#undef S
};
#define NSTRICT (sizeof(strict) / sizeof(strict[0]))

Test(parse, every_truncation_rejected)
{
    for (size_t i = 0; i < NSTRICT; i++) {
        net_pg_frame full = frame_of(strict[i].bytes, strict[i].len);
        for (size_t cut = 0; cut < full.len; cut++) {
            net_pg_frame f = full;
            f.len = cut;
            net_pg_msg m;
            cr_assert_eq(net_pg_parse(&f, &m, arena, &err), NET_EPROTO, "msg %zu cut %zu", i, cut);
            cr_assert_eq(err.state, SQL_STATE_PROTOCOL_VIOLATION);
            cr_assert_not_null(err.detail);
        }
    }
}

/* xorshift64: a fixed seed makes every failure reproducible. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Mutates one captured message (flipped bytes, a cut or appended junk)
 * 50000 times: the parser must either accept or fail with a described
 * 08P01/0A000, never read outside the body (ASan watches). */
Test(parse, mutation_fuzz)
{
    uint64_t seed = 0x9e3779b97f4a7c15u;
    uint8_t buf[256];
    for (int iter = 0; iter < 50000; iter++) {
        size_t i = rnd(&seed) % NSTRICT;
        net_pg_frame f = frame_of(strict[i].bytes, strict[i].len);
        size_t len = f.len;
        cr_assert_leq(len + 8, sizeof(buf));
        memcpy(buf, f.body, len);
        for (int k = (int)(rnd(&seed) % 4); k >= 0; k--) {
            switch (rnd(&seed) % 3) {
            case 0:
                if (len > 0)
                    buf[rnd(&seed) % len] = (uint8_t)rnd(&seed);
                break;
            case 1:
                len = len > 0 ? rnd(&seed) % len : 0;
                break;
            default:
                if (len < sizeof(buf))
                    buf[len++] = (uint8_t)rnd(&seed);
            }
        }
        /* A heap copy of exactly `len` bytes so ASan sees any overrun. */
        uint8_t *body = malloc(len ? len : 1);
        memcpy(body, buf, len);
        f.body = body;
        f.len = len;
        if (rnd(&seed) % 8 == 0)
            f.type = (char)rnd(&seed); /* also unknown types and startup (0) */
        net_pg_msg m;
        kv_arena *a;
        cr_assert_eq(kv_arena_create(&a), 0);
        int rc = net_pg_parse(&f, &m, a, &err);
        if (rc != 0) {
            cr_assert_eq(rc, NET_EPROTO);
            cr_assert(err.state == SQL_STATE_PROTOCOL_VIOLATION ||
                      err.state == SQL_STATE_FEATURE_NOT_SUPPORTED);
            cr_assert_not_null(err.message);
        }
        kv_arena_destroy(a);
        free(body);
    }
}
