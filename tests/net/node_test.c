/*
 * node_test.c - build/tardigrade as a person runs it: a real process on a
 * fresh store in a temporary directory, listening on ports the kernel
 * picks (the node is started with port 0 and its "node started" log line
 * says which, so parallel runs never collide), with libpq and raw sockets
 * as clients. Covers the command line (usage errors exit 2), startup,
 * SSLRequest refused then plain startup, FATAL 3D000, garbage -> 08P01
 * while others keep working, 300 concurrent idle connections (and their
 * memory), cancel of pg_sleep -> 57014, the HTTP status server, and
 * SIGTERM: running statements end with FATAL 57P01 and the node exits 0.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pq_client.h"

#ifndef TD_BINARY
#error "TD_BINARY must name build/tardigrade"
#endif

static struct {
    pid_t pid;
    FILE *log; /* the node's stderr */
    char dir[64];
    int sql_port, http_port;
} node;

/* Runs the binary with `args` (NULL-terminated); its stderr is a pipe. */
static pid_t spawn(char *const *args, FILE **err)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execv(TD_BINARY, args);
        _exit(127);
    }
    close(fds[1]);
    *err = fdopen(fds[0], "r");
    return pid;
}

static int wait_exit(pid_t pid)
{
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the node died of signal %d", WTERMSIG(status));
    return WEXITSTATUS(status);
}

/* Reads log lines until one contains `what`; that line is returned. */
static const char *await_log(const char *what)
{
    static char line[1024];
    while (fgets(line, sizeof(line), node.log) != NULL)
        if (strstr(line, what) != NULL)
            return line;
    cr_assert_fail("the node's log ended before \"%s\"", what);
    return NULL;
}

static void start_node(void)
{
    snprintf(node.dir, sizeof(node.dir), "/tmp/td_node_test.XXXXXX");
    cr_assert_not_null(mkdtemp(node.dir));
    char store[128];
    snprintf(store, sizeof(store), "%s/store", node.dir);
    char *args[] = {"tardigrade",  "start-single-node", "--store",     store,        "--sql-listen",
                    "127.0.0.1:0", "--http-listen",     "127.0.0.1:0", "--insecure", NULL};
    node.pid = spawn(args, &node.log);
    const char *line = await_log("node started");
    const char *sql = strstr(line, "sql at 127.0.0.1:"), *http = strstr(line, "http at 127.0.0.1:");
    cr_assert(sql != NULL && http != NULL, "%s", line);
    node.sql_port = atoi(sql + strlen("sql at 127.0.0.1:"));
    node.http_port = atoi(http + strlen("http at 127.0.0.1:"));
}

/* SIGTERM, as an operator stops the node; it must exit 0. */
static void stop_node(void)
{
    if (node.pid > 0) {
        kill(node.pid, SIGTERM);
        cr_expect_eq(wait_exit(node.pid), 0);
        node.pid = 0;
    }
    fclose(node.log);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", node.dir);
    cr_expect_eq(system(cmd), 0);
}

static PGconn *connect_db(const char *db, const char *extra)
{
    char info[256];
    snprintf(info, sizeof(info), "host=127.0.0.1 port=%d user=root dbname=%s %s", node.sql_port, db,
             extra);
    return PQconnectdb(info);
}

static PGconn *connect_ok(void)
{
    PGconn *c = connect_db("defaultdb", "sslmode=disable");
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    return c;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    while (fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* ---- the command line --------------------------------------------------- */

static int run_to_exit(char *const *args, const char *expect_in_stderr)
{
    FILE *err;
    pid_t pid = spawn(args, &err);
    char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, err);
    out[n] = '\0';
    fclose(err);
    cr_assert(strstr(out, expect_in_stderr) != NULL, "stderr: %s", out);
    return wait_exit(pid);
}

Test(node_cli, usage_errors_exit_2, .timeout = 60)
{
    char *none[] = {"tardigrade", NULL};
    char *bad_flag[] = {"tardigrade", "start-single-node", "--store", "/tmp/x", "--bogus", NULL};
    char *no_store[] = {"tardigrade", "start-single-node", "--insecure", NULL};
    char *bad_addr[] = {"tardigrade",   "start-single-node", "--store", "/tmp/x",
                        "--sql-listen", "nowhere",           NULL};
    char *start[] = {"tardigrade", "start", "--store", "/tmp/x", NULL};
    char *init[] = {"tardigrade", "init", NULL};
    cr_assert_eq(run_to_exit(none, "usage:"), 2);
    cr_assert_eq(run_to_exit(bad_flag, "usage:"), 2);
    cr_assert_eq(run_to_exit(no_store, "--store is required"), 2);
    cr_assert_eq(run_to_exit(bad_addr, "HOST:PORT"), 2);
    cr_assert_eq(run_to_exit(start, "--join is required"), 2);
    cr_assert_eq(run_to_exit(init, "usage: tardigrade init"), 2);
}

/* ---- a running node --------------------------------------------------- */

TestSuite(node, .init = start_node, .fini = stop_node, .timeout = 180);

Test(node, startup_query_and_ssl_refusal)
{
    PGconn *c = connect_db("defaultdb", "sslmode=prefer");
    cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
    cr_assert_eq(PQsslInUse(c), 0);
    cr_assert_str_eq(PQparameterStatus(c, "server_version"), "15.18");
    PGresult *r = PQexec(c, "SELECT 1");
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s", PQerrorMessage(c));
    cr_assert_str_eq(PQgetvalue(r, 0, 0), "1");
    PQclear(r);
    PQfinish(c);
}

Test(node, unknown_database_is_fatal_3D000)
{
    PGconn *c = connect_db("nosuchdb", "sslmode=disable");
    cr_assert_eq(PQstatus(c), CONNECTION_BAD);
    cr_assert(strstr(PQerrorMessage(c), "database \"nosuchdb\" does not exist") != NULL, "%s",
              PQerrorMessage(c));
    PQfinish(c);
}

Test(node, garbage_is_08P01_and_others_keep_working)
{
    PGconn *other = connect_ok();
    int fd = pq_raw_connect(node.sql_port);
    static const char garbage[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not a startup";
    cr_assert_eq(write(fd, garbage, sizeof(garbage) - 1), (ssize_t)sizeof(garbage) - 1);
    char buf[1024];
    size_t n = pq_read_all(fd, buf, sizeof(buf));
    close(fd);
    cr_assert(memmem(buf, n, "SFATAL", 6) != NULL);
    cr_assert(memmem(buf, n, "C08P01", 6) != NULL);
    pq_exec_expect(other, "SELECT 1", PGRES_TUPLES_OK);
    PQfinish(other);
}

Test(node, three_hundred_idle_connections)
{
    enum { N = 300 };
    static PGconn *conns[N];
    PQfinish(connect_ok()); /* what a first session sets up once is not theirs */
    long before = rss_kib(node.pid);
    for (int i = 0; i < N; i++)
        conns[i] = connect_ok();
    long after = rss_kib(node.pid);
    for (int i = 0; i < N; i += 29)
        pq_exec_expect(conns[i], "SELECT 1", PGRES_TUPLES_OK);
    /* A figure for docs/operations.md, not a pass/fail threshold. */
    cr_log_info("%d idle connections: rss %ld -> %ld KiB, %.1f KiB each", N, before, after,
                (double)(after - before) / N);
    for (int i = 0; i < N; i++)
        PQfinish(conns[i]);
}

Test(node, cancel_pg_sleep_gives_57014)
{
    PGconn *c = connect_ok();
    cr_assert(PQsendQuery(c, "SELECT pg_sleep(30)"));
    PGresult *r = pq_cancel_until_done(c);
    cr_assert_str_eq(pq_sqlstate(r), "57014", "%s", PQerrorMessage(c));
    PQclear(r);
    pq_exec_expect(c, "SELECT 1", PGRES_TUPLES_OK);
    PQfinish(c);
}

Test(node, http_status)
{
    char buf[1024];
    int fd = pq_raw_connect(node.http_port);
    static const char req[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(write(fd, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
    pq_read_all(fd, buf, sizeof(buf));
    close(fd);
    cr_assert(strncmp(buf, "HTTP/1.1 200 OK", 15) == 0, "%s", buf);
    cr_assert(strstr(buf, "\r\n\r\nok\n") != NULL, "%s", buf);
}

Test(node, sigterm_ends_statements_with_57P01_and_exits_0)
{
    PGconn *idle = connect_ok();
    PGconn *busy = connect_ok();
    cr_assert(PQsendQuery(busy, "SELECT pg_sleep(60)"));
    usleep(200 * 1000); /* let the statement start; if not, it never does */
    kill(node.pid, SIGTERM);
    PGresult *r = PQgetResult(busy);
    cr_assert_str_eq(pq_sqlstate(r), "57P01", "%s", PQerrorMessage(busy));
    PQclear(r);
    while ((r = PQgetResult(busy)) != NULL)
        PQclear(r);
    r = PQexec(idle, "SELECT 1");
    cr_assert(strstr(PQerrorMessage(idle), "terminating connection due to administrator command"),
              "%s", PQerrorMessage(idle));
    PQclear(r);
    PQfinish(idle);
    PQfinish(busy);
    await_log("node stopped");
    cr_assert_eq(wait_exit(node.pid), 0);
    node.pid = 0;
}
