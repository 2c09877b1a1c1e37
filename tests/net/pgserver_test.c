/*
 * pgserver_test.c - the pgwire server and the HTTP status server on a
 * real libuv loop and real sockets (127.0.0.1, ports picked by the
 * kernel), driven by libpq and raw sockets. The SQL engine is the test
 * double in fake_session.c, so what is tested is the server: startup and
 * authentication through the worker pool, SSLRequest refusal, FATAL
 * 3D000/28P01/08P01, 300 idle connections, cancel, a result far larger
 * than the flush threshold, the extended protocol's sync_follows, a
 * blocked session not starving others, a client vanishing mid-statement,
 * and shutdown with FATAL 57P01. Last, socket-free: the net_pg_conn hooks
 * the server relies on (session and setting callbacks, peek).
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_session.h"
#include "pg_captured.h"
#include "pgserver_fixture.h"
#include "pq_client.h"

static void start_trust(void)
{
    cr_assert_eq(fx_start(NET_PG_AUTH_METHOD_TRUST), 0);
}

static void stop_server(void)
{
    cr_assert_eq(fx_stop(), 0);
}

/* ---- clients ---------------------------------------------------------- */

static PGconn *connect_as(const char *user, const char *db, const char *extra)
{
    char info[256];
    snprintf(info, sizeof(info), "host=127.0.0.1 port=%d user=%s dbname=%s %s", fx.pg_port, user,
             db, extra);
    return PQconnectdb(info);
}

static PGconn *connect_ok(void)
{
    PGconn *c = connect_as("tester", "postgres", "sslmode=disable");
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    return c;
}

/* ---- tests ------------------------------------------------------------ */

TestSuite(pgserver, .init = start_trust, .fini = stop_server, .timeout = 120);

Test(pgserver, simple_query_and_parameter_status)
{
    PGconn *c = connect_ok();
    cr_assert_str_eq(PQparameterStatus(c, "server_version"), NET_PG_SERVER_VERSION);
    cr_assert_str_eq(PQparameterStatus(c, "TimeZone"), "Europe/Berlin"); /* from the session */
    cr_assert_neq(PQbackendPID(c), 0);
    PGresult *r = PQexec(c, "SELECT rows(3)");
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    cr_assert_eq(PQntuples(r), 3);
    cr_assert_str_eq(PQfname(r, 0), "n");
    cr_assert_eq(PQftype(r, 0), 23);
    cr_assert_str_eq(PQgetvalue(r, 2, 0), "3");
    PQclear(r);
    pq_exec_expect(c, "BEGIN", PGRES_COMMAND_OK);
    cr_assert_eq(PQtransactionStatus(c), PQTRANS_INTRANS);
    pq_exec_expect(c, "COMMIT", PGRES_COMMAND_OK);
    pq_exec_expect(c, "SET application_name = probe", PGRES_COMMAND_OK);
    cr_assert_str_eq(PQparameterStatus(c, "application_name"), "probe");
    r = PQexec(c, "garbage");
    cr_assert_str_eq(pq_sqlstate(r), "42601");
    PQclear(r);
    pq_exec_expect(c, "SELECT rows(1)", PGRES_TUPLES_OK);
    PQfinish(c);
}

Test(pgserver, ssl_request_refused_then_plain_startup)
{
    PGconn *c = connect_as("tester", "postgres", "sslmode=prefer");
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    cr_assert_eq(PQsslInUse(c), 0);
    pq_exec_expect(c, "SELECT rows(1)", PGRES_TUPLES_OK);
    PQfinish(c);
}

/* Sends a protocol 3.0 StartupMessage with the given user and database. */
static void send_startup(int fd, const char *user, const char *db)
{
    char pkt[256];
    size_t len = 8;
    len += (size_t)sprintf(pkt + len, "user%c%s%cdatabase%c%s%c", 0, user, 0, 0, db, 0);
    pkt[len++] = '\0';
    uint32_t be_len = htonl((uint32_t)len), version = htonl(3u << 16);
    memcpy(pkt, &be_len, 4);
    memcpy(pkt + 4, &version, 4);
    cr_assert_eq(write(fd, pkt, len), (ssize_t)len);
}

Test(pgserver, unknown_database_is_fatal_3D000)
{
    /* The raw bytes show the SQLSTATE, which libpq keeps to itself. */
    int fd = pq_raw_connect(fx.pg_port);
    send_startup(fd, "tester", "nope");
    char buf[1024];
    size_t n = pq_read_all(fd, buf, sizeof(buf));
    close(fd);
    cr_assert(memmem(buf, n, "SFATAL", 6) != NULL);
    cr_assert(memmem(buf, n, "C3D000", 6) != NULL);
    cr_assert(memmem(buf, n, "database \"nope\" does not exist", 30) != NULL);
}

Test(pgserver, garbage_is_08P01_and_others_keep_working)
{
    PGconn *other = connect_ok();
    int fd = pq_raw_connect(fx.pg_port);
    static const char garbage[] = "GET / HTTP/1.1\r\n\r\n";
    cr_assert_eq(write(fd, garbage, sizeof(garbage) - 1), (ssize_t)sizeof(garbage) - 1);
    char buf[1024];
    size_t n = pq_read_all(fd, buf, sizeof(buf));
    close(fd);
    cr_assert(memmem(buf, n, "C08P01", 6) != NULL);
    cr_assert(memmem(buf, n, "invalid length of startup packet", 32) != NULL);
    pq_exec_expect(other, "SELECT rows(2)", PGRES_TUPLES_OK);
    PQfinish(other);
}

Test(pgserver, oversized_message_after_login_is_fatal)
{
    PGconn *c = connect_ok();
    /* A Query whose length word claims 2 GiB: framing is lost at once. */
    static const char huge[] = "Q\x7f\xff\xff\xff";
    int fd = PQsocket(c);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK); /* read_all blocks */
    cr_assert_eq(send(fd, huge, 5, 0), 5);
    char buf[1024];
    size_t n = pq_read_all(fd, buf, sizeof(buf));
    cr_assert(memmem(buf, n, "C08P01", 6) != NULL);
    cr_assert(memmem(buf, n, "invalid message length", 22) != NULL);
    PQfinish(c);
}

Test(pgserver, three_hundred_idle_connections)
{
    enum { N = 300 };
    static PGconn *conns[N];
    for (int i = 0; i < N; i++)
        conns[i] = connect_ok();
    cr_assert_eq(atomic_load(&fake_live_sessions), N);
    for (int i = 0; i < N; i += 37)
        pq_exec_expect(conns[i], "SELECT rows(1)", PGRES_TUPLES_OK);
    for (int i = 0; i < N; i++)
        PQfinish(conns[i]);
}

Test(pgserver, cancel_gives_57014)
{
    PGconn *c = connect_ok();
    cr_assert(PQsendQuery(c, "SELECT pg_sleep(30)"));
    PGresult *r = pq_cancel_until_done(c);
    cr_assert_str_eq(pq_sqlstate(r), "57014");
    cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
                     "canceling statement due to user request");
    PQclear(r);
    pq_exec_expect(c, "SELECT rows(1)", PGRES_TUPLES_OK);
    PQfinish(c);
}

Test(pgserver, result_much_larger_than_the_flush_threshold)
{
    PGconn *c = connect_ok();
    cr_assert(PQsendQuery(c, "SELECT rows(1000000)"));
    cr_assert(PQsetSingleRowMode(c));
    long rows = 0;
    PGresult *r;
    while ((r = PQgetResult(c)) != NULL) {
        if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
            rows++;
            if (rows == 1000000)
                cr_assert_str_eq(PQgetvalue(r, 0, 0), "1000000");
        } else {
            cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
        }
        PQclear(r);
    }
    cr_assert_eq(rows, 1000000);
    PQfinish(c);
}

/* CopyIn: CopyData across messages, then CopyDone or CopyFail, each
 * answered with ReadyForQuery only at the end; CopyOut: rows then CopyDone. */
Test(pgserver, copy_in_and_out)
{
    PGconn *c = connect_ok();
    PGresult *r = PQexec(c, "COPY FROM STDIN");
    cr_assert_eq(PQresultStatus(r), PGRES_COPY_IN, "%s", PQerrorMessage(c));
    PQclear(r);
    cr_assert_eq(PQputCopyData(c, "a\nb", 3), 1);
    cr_assert_eq(PQputCopyData(c, "\nc\n", 3), 1);
    cr_assert_eq(PQputCopyEnd(c, NULL), 1);
    r = PQgetResult(c);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    cr_expect_str_eq(PQcmdTuples(r), "3");
    PQclear(r);
    cr_assert_null(PQgetResult(c));

    PQclear(PQexec(c, "COPY FROM STDIN"));
    cr_assert_eq(PQputCopyEnd(c, "client gave up"), 1);
    r = PQgetResult(c);
    cr_expect_str_eq(pq_sqlstate(r), "57014");
    PQclear(r);
    cr_assert_null(PQgetResult(c));

    r = PQexec(c, "COPY TO STDOUT");
    cr_assert_eq(PQresultStatus(r), PGRES_COPY_OUT, "%s", PQerrorMessage(c));
    PQclear(r);
    char *buf;
    cr_assert_eq(PQgetCopyData(c, &buf, 0), 2);
    cr_expect(memcmp(buf, "1\n", 2) == 0);
    PQfreemem(buf);
    cr_assert_eq(PQgetCopyData(c, &buf, 0), 2);
    PQfreemem(buf);
    cr_assert_eq(PQgetCopyData(c, &buf, 0), -1);
    r = PQgetResult(c);
    cr_expect_str_eq(PQcmdTuples(r), "2");
    PQclear(r);
    cr_assert_null(PQgetResult(c));
    pq_exec_expect(c, "SELECT rows(1)", PGRES_TUPLES_OK);
    PQfinish(c);
}

Test(pgserver, extended_protocol_with_sync_follows)
{
    PGconn *c = connect_ok();
    PGresult *r = PQexecParams(c, "SELECT rows(5)", 0, NULL, NULL, NULL, NULL, 0);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    cr_assert_eq(PQntuples(r), 5);
    cr_assert_str_eq(PQfname(r, 0), "n");
    PQclear(r);
    cr_assert(atomic_load(&fake_last_sync_follows), "Execute was followed by Sync");
    /* A failing Parse: the Bind/Execute behind it are skipped until Sync,
     * and the connection goes on. */
    r = PQexecParams(c, "garbage", 0, NULL, NULL, NULL, NULL, 0);
    cr_assert_str_eq(pq_sqlstate(r), "42601");
    PQclear(r);
    r = PQprepare(c, "", "SELECT rows(4)", 0, NULL);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
    PQclear(r);
    r = PQdescribePrepared(c, "");
    cr_assert_eq(PQnfields(r), 1);
    PQclear(r);
    pq_exec_expect(c, "SELECT rows(1)", PGRES_TUPLES_OK);
    PQfinish(c);
}

Test(pgserver, blocked_sessions_do_not_starve_others)
{
    enum { SLEEPERS = 6 }; /* three times the pool's starting threads */
    PGconn *sleepers[SLEEPERS];
    for (int i = 0; i < SLEEPERS; i++) {
        sleepers[i] = connect_ok();
        cr_assert(PQsendQuery(sleepers[i], "SELECT pg_sleep(60)"));
    }
    PGconn *c = connect_ok();
    pq_exec_expect(c, "SELECT rows(1)", PGRES_TUPLES_OK);
    cr_assert_geq(net_workers_threads(fx.workers), 3);
    for (int i = 0; i < SLEEPERS; i++) {
        PGresult *r = pq_cancel_until_done(sleepers[i]);
        cr_assert_str_eq(pq_sqlstate(r), "57014");
        PQclear(r);
        PQfinish(sleepers[i]);
    }
    PQfinish(c);
}

Test(pgserver, client_vanishing_mid_statement_ends_its_session)
{
    PGconn *keep = connect_ok();
    PGconn *c = connect_ok();
    cr_assert_eq(atomic_load(&fake_live_sessions), 2);
    cr_assert(PQsendQuery(c, "SELECT pg_sleep(60)"));
    PQfinish(c);
    /* The loop sees the hang-up, cancels the statement, and the session
     * is destroyed once its job ends; long before the 60 s sleep would. */
    while (atomic_load(&fake_live_sessions) != 1)
        usleep(10 * 1000);
    pq_exec_expect(keep, "SELECT rows(1)", PGRES_TUPLES_OK);
    PQfinish(keep);
}

Test(pgserver, shutdown_ends_sessions_with_57P01)
{
    PGconn *idle = connect_ok();
    PGconn *busy = connect_ok();
    cr_assert(PQsendQuery(busy, "SELECT pg_sleep(60)"));
    /* The statement must be running before the shutdown, or the job ends
     * before it starts: wait until the loop has handed it to a worker. */
    usleep(100 * 1000);
    fx_request_stop();
    PGresult *r = PQgetResult(busy);
    cr_assert_str_eq(pq_sqlstate(r), "57P01");
    cr_assert_str_eq(PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED), "FATAL");
    PQclear(r);
    while ((r = PQgetResult(busy)) != NULL)
        PQclear(r);
    r = PQexec(idle, "SELECT rows(1)");
    cr_assert(strstr(PQerrorMessage(idle), "terminating connection due to administrator command"),
              "%s", PQerrorMessage(idle));
    PQclear(r);
    PQfinish(idle);
    PQfinish(busy);
}

/* ---- authentication ---------------------------------------------------- */

static void start_scram(void)
{
    cr_assert_eq(fx_start(NET_PG_AUTH_METHOD_SCRAM), 0);
}

static void start_cleartext(void)
{
    cr_assert_eq(fx_start(NET_PG_AUTH_METHOD_CLEARTEXT), 0);
}

static void expect_password_auth(void)
{
    PGconn *c = connect_as("tester", "testdb", "sslmode=disable password=secret");
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    pq_exec_expect(c, "SELECT rows(1)", PGRES_TUPLES_OK);
    PQfinish(c);
    c = connect_as("tester", "testdb", "sslmode=disable password=wrong");
    cr_assert_eq(PQstatus(c), CONNECTION_BAD);
    cr_assert(strstr(PQerrorMessage(c), "password authentication failed for user \"tester\""), "%s",
              PQerrorMessage(c));
    PQfinish(c);
    c = connect_as("nopass", "testdb", "sslmode=disable password=any");
    cr_assert_eq(PQstatus(c), CONNECTION_BAD);
    PQfinish(c);
}

Test(pgserver_auth, scram, .init = start_scram, .fini = stop_server, .timeout = 60)
{
    expect_password_auth();
}

Test(pgserver_auth, cleartext, .init = start_cleartext, .fini = stop_server, .timeout = 60)
{
    expect_password_auth();
}

/* ---- HTTP --------------------------------------------------------------- */

/* The whole response to `request`. */
static size_t http(const char *request, size_t len, char *buf, size_t cap)
{
    int fd = pq_raw_connect(fx.http_port);
    cr_assert_eq(write(fd, request, len), (ssize_t)len);
    size_t n = pq_read_all(fd, buf, cap);
    close(fd);
    return n;
}

static void expect_http(const char *request, const char *status, const char *body)
{
    char buf[1024];
    http(request, strlen(request), buf, sizeof(buf));
    cr_assert(strncmp(buf, status, strlen(status)) == 0, "%s -> %s", request, buf);
    const char *b = strstr(buf, "\r\n\r\n");
    cr_assert(b != NULL);
    cr_assert_str_eq(b + 4, body);
}

Test(http, routes_and_limits, .init = start_trust, .fini = stop_server, .timeout = 60)
{
    expect_http("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK", "ok\n");
    expect_http("GET /ready HTTP/1.0\r\n\r\n", "HTTP/1.1 200 OK", "ready\n");
    expect_http("GET /nothing HTTP/1.1\r\n\r\n", "HTTP/1.1 404", "not found\n");
    expect_http("POST /health HTTP/1.1\r\n\r\n", "HTTP/1.1 405", "method not allowed\n");
    expect_http("nonsense\r\n\r\n", "HTTP/1.1 400", "bad request\n");
    static char big[20000];
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET /", 5);
    char buf[1024];
    http(big, sizeof(big), buf, sizeof(buf));
    cr_assert(strncmp(buf, "HTTP/1.1 431", 12) == 0, "%s", buf);
}

/* ---- the net_pg_conn hooks the server relies on (no sockets) ------------ */

static int hook_role(void *ctx, const char *user, net_pg_role *role)
{
    (void)ctx, (void)user;
    *role = (net_pg_role){.superuser = 1};
    return 0;
}

static int hook_database(void *ctx, const char *name)
{
    (void)ctx, (void)name;
    return 1;
}

/* ctx non-NULL: refuse the session with 22023. */
static int hook_session(void *ctx, const char *user, const char *database, size_t nparams,
                        const char *const *names, const char *const *values, sql_error *err,
                        kv_arena *arena)
{
    (void)database;
    cr_assert_str_eq(user, "postgres");
    bool saw_app = false;
    for (size_t i = 0; i < nparams; i++)
        saw_app |= strcmp(names[i], "application_name") == 0 && strcmp(values[i], "pgbench") == 0;
    cr_assert(saw_app, "the startup parameters reach the session");
    if (ctx == NULL)
        return 0;
    sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE, "refused by the session");
    return 1;
}

static const char *hook_setting(void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "TimeZone") == 0 ? "Asia/Tokyo" : NULL;
}

static net_pg_conn *hooked_conn(void *ctx)
{
    net_pg_config cfg = {.auth = NET_PG_AUTH_METHOD_TRUST,
                         .role = hook_role,
                         .database = hook_database,
                         .session = hook_session,
                         .setting = hook_setting,
                         .ctx = ctx};
    net_pg_conn *c;
    cr_assert_eq(net_pg_conn_create(&cfg, &c), 0);
    return c;
}

static int feed_step(net_pg_conn *c, net_pg_buf *out, net_pg_msg *m, const char *bytes, size_t n)
{
    cr_assert_eq(net_pg_conn_feed(c, bytes, n), 0);
    return net_pg_conn_step(c, out, m);
}

Test(pgwire_hooks, session_and_settings_shape_the_startup)
{
    net_pg_conn *c = hooked_conn(NULL);
    net_pg_buf out = {0};
    net_pg_msg m;
    cr_assert_eq(feed_step(c, &out, &m, PG_STARTUP_PGBENCH, LIT_LEN(PG_STARTUP_PGBENCH)),
                 NET_PG_STEP_NEED_INPUT);
    cr_assert(memmem(out.data, out.len, "TimeZone\0Asia/Tokyo", 20) != NULL);
    cr_assert(memmem(out.data, out.len, "application_name\0pgbench", 25) != NULL);
    cr_assert_eq(out.data[out.len - 6], 'Z');
    net_pg_buf_free(&out);
    net_pg_conn_destroy(c);
}

Test(pgwire_hooks, a_refused_session_is_fatal_before_any_parameter)
{
    net_pg_conn *c = hooked_conn("refuse");
    net_pg_buf out = {0};
    net_pg_msg m;
    cr_assert_eq(feed_step(c, &out, &m, PG_STARTUP_PGBENCH, LIT_LEN(PG_STARTUP_PGBENCH)),
                 NET_PG_STEP_CLOSE);
    cr_assert(memmem(out.data, out.len, "C22023", 6) != NULL);
    cr_assert(memmem(out.data, out.len, "refused by the session", 22) != NULL);
    cr_assert_null(memmem(out.data, out.len, "server_version", 14));
    net_pg_buf_free(&out);
    net_pg_conn_destroy(c);
}

Test(pgwire_hooks, peek_sees_a_buffered_sync_only_when_complete)
{
    net_pg_conn *c = hooked_conn(NULL);
    net_pg_buf out = {0};
    net_pg_msg m;
    cr_assert_eq(feed_step(c, &out, &m, PG_STARTUP_PGBENCH, LIT_LEN(PG_STARTUP_PGBENCH)),
                 NET_PG_STEP_NEED_INPUT);
    cr_assert_eq(net_pg_conn_peek(c), 0);
    /* Execute, then the first 3 bytes of Sync: not yet a Sync. */
    static const char exec_part[] = PG_EXECUTE_0 "S\x00\x00";
    cr_assert_eq(feed_step(c, &out, &m, exec_part, LIT_LEN(exec_part)), NET_PG_STEP_MESSAGE);
    cr_assert_eq(m.kind, NET_PG_EXECUTE);
    cr_assert_eq(net_pg_conn_peek(c), 0);
    /* The rest arrives; the peek does not take the Sync out. */
    cr_assert_eq(net_pg_conn_feed(c, "\x00\x04", 2), 0);
    cr_assert_eq(net_pg_conn_peek(c), 'S');
    cr_assert_eq(net_pg_conn_step(c, &out, &m), NET_PG_STEP_MESSAGE);
    cr_assert_eq(m.kind, NET_PG_SYNC);
    cr_assert_eq(net_pg_conn_peek(c), 0);
    net_pg_buf_free(&out);
    net_pg_conn_destroy(c);
}
