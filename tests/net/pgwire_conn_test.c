/*
 * pgwire_conn_test.c - the connection state machine driven with the bytes
 * real clients send: trust, cleartext and SCRAM-SHA-256 logins up to
 * ReadyForQuery with PostgreSQL's ParameterStatus set; bad password FATAL
 * 28P01, unknown database FATAL 3D000, unknown role FATAL 28000; protocol
 * negotiation; CancelRequest; pgjdbc's "error in the extended protocol ->
 * skip until Sync"; FATAL 08P01 and close on malformed or oversized input.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "net/pgwire.h"
#include "net/scram.h"
#include "pg_captured.h"

#define PENCIL_VERIFIER                                                                         \
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

/* ---- the catalog the callbacks see ---- */

static int role_cb(void *ctx, const char *user, net_pg_role *role)
{
    (void)ctx;
    if (strcmp(user, "postgres") == 0)
        *role = (net_pg_role){.verifier = PENCIL_VERIFIER, .superuser = 1};
    else if (strcmp(user, "scramuser") == 0)
        *role = (net_pg_role){.verifier = PENCIL_VERIFIER};
    else if (strcmp(user, "nopass") == 0)
        *role = (net_pg_role){0};
    else
        return 1;
    return 0;
}

static int database_cb(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "bench") == 0 || strcmp(name, "testdb") == 0 ||
           strcmp(name, "nopass") == 0 || strcmp(name, "postgres") == 0;
}

/* ---- fixture ---- */

static net_pg_conn *conn;
static net_pg_buf out;
static net_pg_msg msg;
static size_t seen; /* bytes of `out` already checked */

static void open_conn(net_pg_auth_method auth, size_t max_message)
{
    net_pg_config cfg = {.auth = auth,
                         .role = role_cb,
                         .database = database_cb,
                         .pid = 15543,
                         .secret = -1486594345,
                         .max_message = max_message};
    cr_assert_eq(net_pg_conn_create(&cfg, &conn), 0);
}

static void teardown(void)
{
    net_pg_conn_destroy(conn);
    conn = NULL;
    net_pg_buf_free(&out);
    seen = 0;
}

TestSuite(conn, .fini = teardown);

static int feed_step(const void *bytes, size_t len)
{
    cr_assert_eq(net_pg_conn_feed(conn, bytes, len), 0);
    return net_pg_conn_step(conn, &out, &msg);
}
#define FEED(lit) feed_step(lit, LIT_LEN(lit))

/* A framed frontend message. */
static size_t frame(uint8_t *buf, char type, const void *body, size_t len)
{
    uint32_t n = (uint32_t)len + 4;
    buf[0] = (uint8_t)type;
    buf[1] = (uint8_t)(n >> 24);
    buf[2] = (uint8_t)(n >> 16);
    buf[3] = (uint8_t)(n >> 8);
    buf[4] = (uint8_t)n;
    memcpy(buf + 5, body, len);
    return len + 5;
}

/* The next backend message in `out` after what was checked: its type, and
 * its body in *body / *len. */
static char next_out(const uint8_t **body, size_t *len)
{
    cr_assert_geq(out.len, seen + 5, "no further backend message");
    const uint8_t *p = out.data + seen;
    size_t n = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4];
    cr_assert_leq(seen + 1 + n, out.len);
    *body = p + 5;
    *len = n - 4;
    seen += 1 + n;
    return (char)p[0];
}

static void expect_out(char type, const void *body, size_t len)
{
    const uint8_t *b;
    size_t n;
    char t = next_out(&b, &n);
    cr_assert_eq(t, type, "got '%c', expected '%c'", t, type);
    cr_assert_eq(n, len, "'%c' body %zu bytes, expected %zu", type, n, len);
    cr_assert_eq(memcmp(b, body, len), 0, "'%c' body differs", type);
}
#define EXPECT_OUT(type, lit) expect_out(type, lit, LIT_LEN(lit))

static void expect_end(void)
{
    cr_assert_eq(seen, out.len, "%zu unexpected bytes", out.len - seen);
}

/* An ErrorResponse with this severity, SQLSTATE and message. */
static void expect_error(const char *sev, const char *code, const char *message)
{
    const uint8_t *b;
    size_t n;
    cr_assert_eq(next_out(&b, &n), 'E');
    char want[256];
    int w = snprintf(want, sizeof(want), "S%s%cV%s%cC%s%cM%s", sev, 0, sev, 0, code, 0, message);
    cr_assert_geq(n, (size_t)w + 1);
    cr_assert_eq(memcmp(b, want, (size_t)w + 1), 0, "error body: %.*s", (int)n, b);
}

/* After AuthenticationOk: the ParameterStatus set PostgreSQL 15 sends,
 * BackendKeyData and ReadyForQuery 'I'. `app` and `user` vary. */
static void expect_session_start(const char *app, const char *superuser, const char *user)
{
    const char *const ps[][2] = {
        {"application_name", app},       {"client_encoding", "UTF8"},
        {"DateStyle", "ISO, MDY"},       {"default_transaction_read_only", "off"},
        {"in_hot_standby", "off"},       {"integer_datetimes", "on"},
        {"IntervalStyle", "postgres"},   {"is_superuser", superuser},
        {"server_encoding", "UTF8"},     {"server_version", NET_PG_SERVER_VERSION},
        {"session_authorization", user}, {"standard_conforming_strings", "on"},
        {"TimeZone", "Etc/UTC"},
    };
    for (size_t i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
        uint8_t body[128];
        size_t a = strlen(ps[i][0]) + 1, b = strlen(ps[i][1]) + 1;
        memcpy(body, ps[i][0], a);
        memcpy(body + a, ps[i][1], b);
        expect_out('S', body, a + b);
    }
    EXPECT_OUT('K', "\x00\x00\x3c\xb7\xa7\x64\x5e\xd7");
    EXPECT_OUT('Z', "I");
    expect_end();
}

/* pgbench's opening bytes under trust, as in the captured session. */
static void login_pgbench_trust(void)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED(PG_SSL), NET_PG_STEP_NEED_INPUT);
    cr_assert_eq(out.len, 1);
    cr_assert_eq(out.data[0], 'N');
    seen = 1;
    cr_assert_eq(FEED(PG_STARTUP_PGBENCH), NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x00");
    expect_session_start("pgbench", "on", "postgres");
}

Test(conn, trust_login_matches_pgbench_capture)
{
    login_pgbench_trust();
    cr_assert_str_eq(net_pg_conn_user(conn), "postgres");
    cr_assert_str_eq(net_pg_conn_database(conn), "bench");
    cr_assert_eq(FEED(PG_QUERY_BEGIN), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_QUERY);
    cr_assert_str_eq(msg.u.query.sql, "BEGIN");
    cr_assert_eq(FEED(PG_TERMINATE), NET_PG_STEP_CLOSE);
}

Test(conn, trust_rejects_unknown_role)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x14\x00\x03\x00\x00user\x00ghost\x00\x00"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "28000", "role \"ghost\" does not exist");
    expect_end();
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_CLOSE);
}

Test(conn, unknown_database_is_fatal_3d000_after_auth_ok)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x27\x00\x03\x00\x00user\x00postgres\x00"
                      "database\x00nosuch\x00\x00"),
                 NET_PG_STEP_CLOSE);
    EXPECT_OUT('R', "\x00\x00\x00\x00");
    expect_error("FATAL", "3D000", "database \"nosuch\" does not exist");
    expect_end();
}

Test(conn, database_defaults_to_user_name)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x15\x00\x03\x00\x00user\x00nopass\x00\x00"),
                 NET_PG_STEP_NEED_INPUT);
    cr_assert_str_eq(net_pg_conn_database(conn), "nopass");
}

Test(conn, missing_user_is_fatal)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x09\x00\x03\x00\x00\x00"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "28000", "no PostgreSQL user name specified in startup packet");
}

static int send_password(const char *pw)
{
    uint8_t buf[128];
    return feed_step(buf, frame(buf, 'p', pw, strlen(pw) + 1));
}

Test(conn, cleartext_login)
{
    open_conn(NET_PG_AUTH_METHOD_CLEARTEXT, 0);
    cr_assert_eq(FEED(PG_STARTUP_PGJDBC), NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x03");
    expect_end();
    cr_assert_eq(send_password("pencil"), NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x00");
    seen = out.len;
    /* pgjdbc's startup parameters: DateStyle "ISO" reported the way
     * PostgreSQL does, extra_float_digits kept for the session. */
    cr_assert_str_eq(net_pg_conn_param(conn, "datestyle"), "ISO, MDY");
    cr_assert_str_eq(net_pg_conn_param(conn, "extra_float_digits"), "2");
    cr_assert_str_eq(net_pg_conn_param(conn, "is_superuser"), "off");
}

Test(conn, cleartext_bad_password_is_fatal_28p01)
{
    open_conn(NET_PG_AUTH_METHOD_CLEARTEXT, 0);
    cr_assert_eq(FEED(PG_STARTUP_PGJDBC), NET_PG_STEP_NEED_INPUT);
    seen = out.len;
    cr_assert_eq(send_password("pen"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "28P01", "password authentication failed for user \"scramuser\"");
    expect_end();
}

Test(conn, cleartext_role_without_password_fails)
{
    open_conn(NET_PG_AUTH_METHOD_CLEARTEXT, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x15\x00\x03\x00\x00user\x00nopass\x00\x00"),
                 NET_PG_STEP_NEED_INPUT);
    seen = out.len;
    cr_assert_eq(send_password(""), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "28P01", "password authentication failed for user \"nopass\"");
}

/* Sends `startup`, then runs libpq's side of SCRAM with `pw` through the
 * conn; returns the step after the client-final message. */
static int scram_login_as(const char *startup, size_t startup_len, const char *pw)
{
    net_scram_client *cl;
    char text[NET_SCRAM_MAX_MSG];
    uint8_t body[NET_SCRAM_MAX_MSG], buf[NET_SCRAM_MAX_MSG + 8];
    const uint8_t *b;
    size_t n;

    cr_assert_eq(feed_step(startup, startup_len), NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00");
    cr_assert_eq(net_scram_client_create(pw, NULL, &cl), 0);
    int len = net_scram_client_first(cl, text, sizeof(text));
    /* SASLInitialResponse: mechanism, Int32 length, client-first-message. */
    memcpy(body, "SCRAM-SHA-256\0\0\0\0", 18);
    body[17] = (uint8_t)len;
    memcpy(body + 18, text, (size_t)len);
    cr_assert_eq(feed_step(buf, frame(buf, 'p', body, 18 + (size_t)len)), NET_PG_STEP_NEED_INPUT);
    cr_assert_eq(next_out(&b, &n), 'R');
    cr_assert_eq(memcmp(b, "\x00\x00\x00\x0b", 4), 0);
    len = net_scram_client_final(cl, b + 4, n - 4, text, sizeof(text));
    cr_assert_gt(len, 0);
    int rc = feed_step(buf, frame(buf, 'p', text, (size_t)len));
    if (rc == NET_PG_STEP_NEED_INPUT) {
        cr_assert_eq(next_out(&b, &n), 'R');
        cr_assert_eq(memcmp(b, "\x00\x00\x00\x0c", 4), 0);
        cr_assert_eq(net_scram_client_verify(cl, b + 4, n - 4), 0);
    }
    net_scram_client_destroy(cl);
    return rc;
}

/* scram_login_as() with pgjdbc's startup packet (user scramuser). */
static int scram_login(const char *pw)
{
    return scram_login_as(PG_STARTUP_PGJDBC, LIT_LEN(PG_STARTUP_PGJDBC), pw);
}

Test(conn, scram_login)
{
    open_conn(NET_PG_AUTH_METHOD_SCRAM, 0);
    cr_assert_eq(scram_login("pencil"), NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x00");
    expect_session_start("", "off", "scramuser");
}

/* RFC 7677's exchange through the conn, with the server nonce fixed by
 * the config's test hook: the R11 and R12 payloads are the RFC's bytes. */
Test(conn, scram_rfc7677_vector_through_the_conn)
{
    net_pg_config cfg = {.auth = NET_PG_AUTH_METHOD_SCRAM,
                         .role = role_cb,
                         .database = database_cb,
                         .scram_nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"};
    cr_assert_eq(net_pg_conn_create(&cfg, &conn), 0);
    cr_assert_eq(FEED(PG_STARTUP_PGJDBC), NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00");
    cr_assert_eq(FEED("p\x00\x00\x00\x36SCRAM-SHA-256\x00\x00\x00\x00\x20"
                      "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
                 NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x0b"
                    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    cr_assert_eq(FEED("p\x00\x00\x00\x6e"
                      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                 NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('R', "\x00\x00\x00\x0cv=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    EXPECT_OUT('R', "\x00\x00\x00\x00");
}

Test(conn, scram_bad_password_is_fatal_28p01)
{
    open_conn(NET_PG_AUTH_METHOD_SCRAM, 0);
    cr_assert_eq(scram_login("crayon"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "28P01", "password authentication failed for user \"scramuser\"");
    expect_end();
}

Test(conn, scram_unknown_role_fails_like_a_bad_password)
{
    /* Same bytes as a wrong password: the mock exchange reveals nothing. */
    static const char ghost[] = "\x00\x00\x00\x14\x00\x03\x00\x00user\x00ghost\x00\x00";
    open_conn(NET_PG_AUTH_METHOD_SCRAM, 0);
    cr_assert_eq(scram_login_as(ghost, LIT_LEN(ghost), "pencil"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "28P01", "password authentication failed for user \"ghost\"");
}

Test(conn, scram_wrong_mechanism)
{
    open_conn(NET_PG_AUTH_METHOD_SCRAM, 0);
    cr_assert_eq(FEED(PG_STARTUP_PGJDBC), NET_PG_STEP_NEED_INPUT);
    seen = out.len;
    uint8_t buf[64];
    cr_assert_eq(feed_step(buf, frame(buf, 'p', "PLAIN\0\xff\xff\xff\xff", 10)), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "08P01", "client selected an invalid SASL authentication mechanism");
}

Test(conn, query_during_authentication_is_fatal)
{
    open_conn(NET_PG_AUTH_METHOD_CLEARTEXT, 0);
    cr_assert_eq(FEED(PG_STARTUP_PGJDBC), NET_PG_STEP_NEED_INPUT);
    seen = out.len;
    cr_assert_eq(FEED(PG_QUERY_BEGIN), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "08P01", "expected password response, got another message");
}

Test(conn, negotiate_newer_minor_and_pq_options)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    /* Protocol 3.2 with user=postgres and _pq_.compression=on. */
    cr_assert_eq(FEED("\x00\x00\x00\x2b\x00\x03\x00\x02user\x00postgres\x00"
                      "_pq_.compression\x00on\x00\x00"),
                 NET_PG_STEP_NEED_INPUT);
    EXPECT_OUT('v', "\x00\x03\x00\x00\x00\x00\x00\x01_pq_.compression\x00");
    EXPECT_OUT('R', "\x00\x00\x00\x00");
}

Test(conn, unsupported_client_encoding)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x2e\x00\x03\x00\x00user\x00postgres\x00"
                      "client_encoding\x00LATIN1\x00\x00"),
                 NET_PG_STEP_CLOSE);
    EXPECT_OUT('R', "\x00\x00\x00\x00");
    expect_error("FATAL", "22023", "invalid value for parameter \"client_encoding\": \"LATIN1\"");
}

Test(conn, datestyle_canonicalised_or_rejected)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x2a\x00\x03\x00\x00user\x00postgres\x00"
                      "DateStyle\x00sql, dmy\x00\x00"),
                 NET_PG_STEP_NEED_INPUT);
    cr_assert_str_eq(net_pg_conn_param(conn, "DateStyle"), "SQL, DMY");
    net_pg_conn_destroy(conn);
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x2a\x00\x03\x00\x00user\x00postgres\x00"
                      "DateStyle\x00iso, mmm\x00\x00"),
                 NET_PG_STEP_CLOSE);
}

Test(conn, cancel_request)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 0);
    cr_assert_eq(FEED("\x00\x00\x00\x10\x04\xd2\x16\x2e\x00\x00\x3c\xb7\xa7\x64\x5e\xd7"),
                 NET_PG_STEP_CANCEL);
    cr_assert_eq(msg.kind, NET_PG_CANCEL_REQUEST);
    cr_assert_eq(msg.u.cancel.pid, 15543);
    cr_assert_eq(msg.u.cancel.secret, -1486594345);
    cr_assert_eq(out.len, 0);
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_CLOSE);
}

/* pgjdbc's failing statement (capture lines 138-144): Parse fails, Bind,
 * Describe and Execute are skipped, Sync yields ReadyForQuery. */
Test(conn, extended_error_skips_until_sync)
{
#define PARSE_NOSUCH "P\x00\x00\x00\x1c\x00SELECT * FROM nosuch\x00\x00\x00"
    login_pgbench_trust();
    cr_assert_eq(FEED(PARSE_NOSUCH PG_BIND_JDBC PG_DESCRIBE_P PG_EXECUTE_0 PG_SYNC),
                 NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_PARSE);
    sql_error e;
    sql_error_set(&e, net_pg_conn_arena(conn), SQL_STATE_UNDEFINED_TABLE,
                  "relation \"%s\" does not exist", "nosuch");
    e.position = 15;
    cr_assert_eq(net_pg_conn_error(conn, &out, &e), 0);
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_SYNC);
    cr_assert_eq(net_pg_conn_ready(conn, &out), 0);
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_NEED_INPUT);
    cr_assert_eq(out.len - seen, LIT_LEN(PG_ERR_42P01 PG_RFQ_I));
    cr_assert_eq(memcmp(out.data + seen, PG_ERR_42P01 PG_RFQ_I, out.len - seen), 0);
    /* After Sync the next extended message is processed again. */
    cr_assert_eq(FEED(PG_PARSE_JDBC), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_PARSE);
}

Test(conn, skip_mode_drops_flush_and_honours_terminate)
{
    login_pgbench_trust();
    cr_assert_eq(FEED(PG_PARSE_JDBC), NET_PG_STEP_MESSAGE);
    sql_error e;
    sql_error_set(&e, net_pg_conn_arena(conn), SQL_STATE_SYNTAX_ERROR, "x");
    cr_assert_eq(net_pg_conn_error(conn, &out, &e), 0);
    cr_assert_eq(FEED("H\x00\x00\x00\x04" PG_BIND_JDBC), NET_PG_STEP_NEED_INPUT);
    cr_assert_eq(FEED(PG_TERMINATE), NET_PG_STEP_CLOSE);
}

Test(conn, simple_query_error_does_not_skip)
{
    login_pgbench_trust();
    cr_assert_eq(FEED(PG_QUERY_BEGIN PG_QUERY_BEGIN), NET_PG_STEP_MESSAGE);
    sql_error e;
    sql_error_set(&e, net_pg_conn_arena(conn), SQL_STATE_SYNTAX_ERROR, "x");
    cr_assert_eq(net_pg_conn_error(conn, &out, &e), 0);
    net_pg_conn_set_txn_status(conn, 'E');
    cr_assert_eq(net_pg_conn_ready(conn, &out), 0);
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_QUERY);
    expect_error("ERROR", "42601", "x");
    EXPECT_OUT('Z', "E");
}

Test(conn, notice_keeps_the_extended_protocol_going)
{
    login_pgbench_trust();
    cr_assert_eq(FEED(PG_PARSE_JDBC PG_BIND_JDBC), NET_PG_STEP_MESSAGE);
    sql_error e = {.severity = SQL_SEV_NOTICE, .message = "n"};
    cr_assert_eq(net_pg_conn_error(conn, &out, &e), 0);
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_BIND);
}

Test(conn, set_reports_tracked_parameters_only)
{
    login_pgbench_trust();
    cr_assert_eq(net_pg_conn_set_param(conn, &out, "datestyle", "ISO, DMY"), 0);
    cr_assert_eq(net_pg_conn_set_param(conn, &out, "extra_float_digits", "3"), 0);
    EXPECT_OUT('S', "DateStyle\0ISO, DMY\0");
    expect_end();
    cr_assert_str_eq(net_pg_conn_param(conn, "DateStyle"), "ISO, DMY");
}

Test(conn, malformed_message_is_fatal_08p01_and_closes)
{
    login_pgbench_trust();
    cr_assert_eq(FEED("B\x00\x00\x00\x06\x00\x00"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "08P01", "insufficient data left in message");
    expect_end();
    cr_assert_eq(FEED(PG_SYNC), NET_PG_STEP_CLOSE);
    cr_assert_eq(out.len, seen);
}

Test(conn, oversized_message_is_fatal_08p01)
{
    open_conn(NET_PG_AUTH_METHOD_TRUST, 64);
    cr_assert_eq(FEED(PG_STARTUP_PGBENCH), NET_PG_STEP_NEED_INPUT);
    seen = out.len;
    cr_assert_eq(FEED("Q\x00\x00\x01\x00"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "08P01", "invalid message length");
}

Test(conn, password_message_after_login_is_fatal)
{
    login_pgbench_trust();
    cr_assert_eq(send_password("x"), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "08P01", "unexpected password message");
}

/* psycopg2's copy_from (capture): Query COPY, CopyInResponse, CopyData,
 * CopyDone, CommandComplete. */
Test(conn, copy_in_flow)
{
    static const int16_t fmts[4] = {0};
    login_pgbench_trust();
    cr_assert_eq(FEED(PG_QUERY_BEGIN), NET_PG_STEP_MESSAGE);
    cr_assert_eq(net_pg_conn_copy_in(conn, &out, 0, 4, fmts), 0);
    EXPECT_OUT('G', "\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00");
    cr_assert_eq(FEED(PG_COPYDATA PG_SYNC PG_COPYDONE PG_COPYDATA), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_COPY_DATA);
    cr_assert_eq(msg.u.copy_data.len, 19);
    /* Sync inside COPY is ignored; CopyDone ends it. */
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_COPY_DONE);
    /* A stray CopyData after the COPY is dropped. */
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_NEED_INPUT);
    expect_end();
}

Test(conn, copy_error_drops_the_rest_of_the_data)
{
    login_pgbench_trust();
    cr_assert_eq(FEED(PG_QUERY_BEGIN), NET_PG_STEP_MESSAGE);
    cr_assert_eq(net_pg_conn_copy_in(conn, &out, 0, 0, NULL), 0);
    cr_assert_eq(FEED(PG_COPYDATA PG_COPYDATA PG_COPYDONE PG_QUERY_BEGIN), NET_PG_STEP_MESSAGE);
    sql_error e;
    sql_error_set(&e, net_pg_conn_arena(conn), SQL_STATE_INVALID_TEXT_REPRESENTATION, "bad");
    cr_assert_eq(net_pg_conn_error(conn, &out, &e), 0);
    cr_assert_eq(net_pg_conn_step(conn, &out, &msg), NET_PG_STEP_MESSAGE);
    cr_assert_eq(msg.kind, NET_PG_QUERY);
}

Test(conn, query_during_copy_is_fatal)
{
    login_pgbench_trust();
    cr_assert_eq(FEED(PG_QUERY_BEGIN), NET_PG_STEP_MESSAGE);
    cr_assert_eq(net_pg_conn_copy_in(conn, &out, 0, 0, NULL), 0);
    seen = out.len;
    cr_assert_eq(FEED(PG_QUERY_BEGIN), NET_PG_STEP_CLOSE);
    expect_error("FATAL", "08P01", "unexpected message type during COPY from stdin");
}

/* xorshift64: a fixed seed makes every failure reproducible. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Drives a logged-in conn with streams of captured messages, some bytes
 * flipped, fed in random chunks; the "executor" fails every third message
 * so skip-until-Sync is exercised. The conn must never crash and must end
 * every connection it closes on bad input with a FATAL ErrorResponse. */
Test(conn, mutated_streams_never_crash)
{
    static const struct {
        const char *bytes;
        size_t len;
    } corpus[] = {
#define S(x) {x, LIT_LEN(x)}
        S(PG_PARSE_JDBC), S(PG_BIND_JDBC), S(PG_DESCRIBE_P), S(PG_EXECUTE_0),   S(PG_SYNC),
        S(PG_PARSE_S3),   S(PG_BIND_S3),   S(PG_BIND_P0),    S(PG_QUERY_BEGIN), S(PG_COPYDATA),
#undef S
    };
    const size_t ncorpus = sizeof(corpus) / sizeof(corpus[0]);
    uint64_t seed = 0x2545f4914f6cdd1du;
    for (int round = 0; round < 300; round++) {
        login_pgbench_trust();
        uint8_t stream[4096];
        size_t len = 0;
        while (len < sizeof(stream) - 128) {
            size_t i = rnd(&seed) % ncorpus;
            memcpy(stream + len, corpus[i].bytes, corpus[i].len);
            if (rnd(&seed) % 8 == 0)
                stream[len + rnd(&seed) % corpus[i].len] = (uint8_t)rnd(&seed);
            len += corpus[i].len;
        }
        int rc = NET_PG_STEP_NEED_INPUT, calls = 0;
        for (size_t off = 0; off < len && rc != NET_PG_STEP_CLOSE;) {
            size_t chunk = 1 + rnd(&seed) % 64;
            chunk = chunk < len - off ? chunk : len - off;
            cr_assert_eq(net_pg_conn_feed(conn, stream + off, chunk), 0);
            off += chunk;
            while ((rc = net_pg_conn_step(conn, &out, &msg)) == NET_PG_STEP_MESSAGE) {
                if (++calls % 3 == 0) {
                    sql_error e;
                    sql_error_set(&e, net_pg_conn_arena(conn), SQL_STATE_SYNTAX_ERROR, "no");
                    cr_assert_eq(net_pg_conn_error(conn, &out, &e), 0);
                }
                if (msg.kind == NET_PG_SYNC)
                    cr_assert_eq(net_pg_conn_ready(conn, &out), 0);
            }
            cr_assert(rc == NET_PG_STEP_NEED_INPUT || rc == NET_PG_STEP_CLOSE, "rc %d", rc);
        }
        if (rc == NET_PG_STEP_CLOSE) {
            /* The last backend message is the FATAL that explains it. */
            const uint8_t *b;
            size_t n;
            char last = 0;
            while (seen < out.len)
                last = next_out(&b, &n);
            cr_assert_eq(last, 'E');
            cr_assert_eq(memcmp(b, "SFATAL", 7), 0);
        }
        teardown();
    }
}
