/*
 * tardigrade.c - the node binary.
 *
 *   tardigrade start-single-node --store DIR [--sql-listen HOST:PORT]
 *              [--http-listen HOST:PORT] [--insecure | --auth scram|password]
 *              [--max-workers N]
 *
 * Opens (creating if needed) the store, bootstraps one range on a new one,
 * opens the SQL engine, and serves pgwire and HTTP on one libuv loop with
 * SQL on a worker pool until SIGINT or SIGTERM; then ends every connection
 * (FATAL 57P01), waits for the workers and closes engine and store, in
 * that order, and exits 0. docs/operations.md is the user's guide.
 *
 * Exit status: 0 clean stop, 1 the node could not start, 2 bad usage or a
 * command that does not exist yet. Log lines go to stderr, one per event,
 * prefixed with the UTC time.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "kv/kv_error.h"
#include "kv/store.h"
#include "net/http.h"
#include "net/pgserver.h"
#include "net/scram.h"
#include "net/tcp.h"
#include "net/workers.h"
#include "sql/session.h"

#define NODE_ID 1

typedef struct node_flags {
    const char *store;
    char sql_host[256], http_host[256];
    int sql_port, http_port;
    net_pg_auth_method auth;
    size_t max_workers;
} node_flags;

typedef struct node {
    node_flags flags;
    kv_store *store;
    net_workers *workers;
    sql_engine *engine;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    net_pg_server *pg;
    net_http_server *http;
    bool ready;
} node;

/* ---- logging ----------------------------------------------------------- */

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
    char msg[600], stamp[32];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One fprintf per line: lines from several threads do not interleave. */
    fprintf(stderr, "%s.%03dZ %s\n", stamp, (int)(tv.tv_usec / 1000), msg);
}

static void log_from_net(void *ctx, const char *line)
{
    (void)ctx;
    log_line("%s", line);
}

/* ---- flags ------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: tardigrade start-single-node --store DIR [--sql-listen HOST:PORT]\n"
          "                  [--http-listen HOST:PORT] [--insecure | --auth scram|password]\n"
          "                  [--max-workers N]\n"
          "       tardigrade start ... | init ...   (multi-node: not yet supported)\n"
          "defaults: --sql-listen 127.0.0.1:26257 --http-listen 127.0.0.1:26457 --auth scram\n",
          stderr);
}

/* 0, or -1 after explaining what is wrong on stderr. */
static int parse_flags(int argc, char **argv, node_flags *f)
{
    static const struct option opts[] = {
        {"store", required_argument, NULL, 's'},
        {"sql-listen", required_argument, NULL, 'q'},
        {"http-listen", required_argument, NULL, 'h'},
        {"insecure", no_argument, NULL, 'i'},
        {"auth", required_argument, NULL, 'a'},
        {"max-workers", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0},
    };
    const char *sql = "127.0.0.1:26257", *http = "127.0.0.1:26457", *auth = "scram";
    bool insecure = false;
    char *end;
    for (int opt; (opt = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (opt) {
        case 's':
            f->store = optarg;
            break;
        case 'q':
            sql = optarg;
            break;
        case 'h':
            http = optarg;
            break;
        case 'i':
            insecure = true;
            break;
        case 'a':
            auth = optarg;
            break;
        case 'w':
            f->max_workers = strtoul(optarg, &end, 10);
            if (*end != '\0' || f->max_workers == 0) {
                fprintf(stderr, "tardigrade: --max-workers needs a positive number\n");
                return -1;
            }
            break;
        default:
            return -1; /* getopt has said what is wrong */
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tardigrade: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (f->store == NULL) {
        fprintf(stderr, "tardigrade: --store is required\n");
        return -1;
    }
    if (net_parse_hostport(sql, f->sql_host, sizeof(f->sql_host), &f->sql_port) < 0 ||
        net_parse_hostport(http, f->http_host, sizeof(f->http_host), &f->http_port) < 0) {
        fprintf(stderr, "tardigrade: listen addresses are HOST:PORT\n");
        return -1;
    }
    if (strcmp(auth, "scram") == 0)
        f->auth = NET_PG_AUTH_METHOD_SCRAM;
    else if (strcmp(auth, "password") == 0)
        f->auth = NET_PG_AUTH_METHOD_CLEARTEXT;
    else {
        fprintf(stderr, "tardigrade: --auth is scram or password\n");
        return -1;
    }
    if (insecure)
        f->auth = NET_PG_AUTH_METHOD_TRUST;
    return 0;
}

/* ---- start ------------------------------------------------------------- */

/* sql_password_hash_fn: a PostgreSQL SCRAM verifier with a random salt. */
static char *hash_password(const char *password)
{
    char v[256];
    if (net_scram_verifier(password, NULL, 0, NET_SCRAM_ITERATIONS, v, sizeof(v)) < 0)
        return NULL;
    return strdup(v);
}

/* Creates the parents of `path` as `mkdir -p` would; the engine creates
 * the store directory itself. */
static int make_parents(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return -1;
    for (char *p = strchr(buf + 1, '/'); p != NULL; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return 0;
}

static int open_store(node *n)
{
    kv_store_options o = {
        .engine = {.create_if_missing = true},
        .node_id = NODE_ID,
        .store_id = 1,
    };
    char err[512] = "";
    if (make_parents(n->flags.store) < 0) {
        log_line("cannot create the parents of %s: %s", n->flags.store, strerror(errno));
        return -1;
    }
    int rc = kv_store_open(n->flags.store, &o, &n->store, err, sizeof(err));
    if (rc < 0) {
        log_line("cannot open store %s: %s (%s)", n->flags.store, kv_strerror(rc), err);
        return -1;
    }
    if (kv_store_range_count(n->store) > 0)
        return 0;
    if ((rc = kv_store_bootstrap(n->store, NULL, NULL, 0, err, sizeof(err))) < 0) {
        log_line("cannot bootstrap store %s: %s (%s)", n->flags.store, kv_strerror(rc), err);
        return -1;
    }
    log_line("bootstrapped a new store at %s", n->flags.store);
    return 0;
}

static int open_engine(node *n)
{
    kv_arena *arena;
    if (kv_arena_create(&arena) != 0)
        return -1;
    sql_engine_options o = {.hash_password = hash_password, .node_id = NODE_ID};
    sql_error err = {0};
    int rc = sql_engine_open(n->store, &o, &n->engine, &err, arena);
    if (rc < 0)
        log_line("cannot open the SQL engine: %s (SQLSTATE %s)", err.message,
                 sql_sqlstate_code(err.state));
    kv_arena_destroy(arena);
    return rc < 0 ? -1 : 0;
}

static bool node_ready(void *ctx)
{
    return ((node *)ctx)->ready;
}

static void on_http_stopped(void *ctx)
{
    (void)ctx;
}

static void on_pg_stopped(void *ctx)
{
    (void)ctx;
    log_line("sql server stopped: every session ended");
}

static void on_signal(uv_signal_t *h, int signum)
{
    node *n = h->data;
    log_line("received %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    n->ready = false;
    /* Closing the signal handles lets uv_run return once the servers
     * have closed everything else. */
    uv_close((uv_handle_t *)&n->sigint, NULL);
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    net_http_stop(n->http, on_http_stopped, n);
    net_pg_server_shutdown(n->pg, on_pg_stopped, n);
}

static int start_listeners(node *n)
{
    node_flags *f = &n->flags;
    char err[512] = "";
    net_pg_server_options po = {
        .auth = f->auth,
        .engine = n->engine,
        .workers = n->workers,
        .log = log_from_net,
    };
    int rc = net_pg_server_start(&n->loop, f->sql_host, f->sql_port, &po, &n->pg, err, sizeof(err));
    if (rc < 0) {
        log_line("sql listener: %s", err);
        return -1;
    }
    rc = net_http_start(&n->loop, f->http_host, f->http_port, node_ready, n, &n->http, err,
                        sizeof(err));
    if (rc < 0) {
        log_line("http listener: %s", err);
        net_pg_server_shutdown(n->pg, on_pg_stopped, n);
        uv_run(&n->loop, UV_RUN_DEFAULT);
        net_pg_server_free(n->pg);
        n->pg = NULL;
        return -1;
    }
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    n->sigint.data = n->sigterm.data = n;
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    return 0;
}

static const char *auth_name(net_pg_auth_method m)
{
    return m == NET_PG_AUTH_METHOD_TRUST       ? "insecure: no authentication"
           : m == NET_PG_AUTH_METHOD_CLEARTEXT ? "password authentication (cleartext)"
                                               : "SCRAM-SHA-256 authentication";
}

/* Runs the node until a signal has stopped it. 0 clean, 1 failed start. */
static int run_single_node(node *n)
{
    int status = 1;
    signal(SIGPIPE, SIG_IGN); /* a vanished client is a failed write, not a death */
    if (open_store(n) < 0)
        return 1;
    if (open_engine(n) < 0)
        goto out_close_store;
    net_workers_options wo = {.max_threads = n->flags.max_workers};
    if (net_workers_create(&wo, &n->workers) < 0) {
        log_line("cannot start worker threads");
        goto out_close_engine;
    }
    if (uv_loop_init(&n->loop) != 0)
        goto out_stop_workers;
    if (start_listeners(n) < 0)
        goto out_close_loop;
    n->ready = true;
    log_line("node started; sql at %s:%d, http at %s:%d, store %s, %s", n->flags.sql_host,
             net_pg_server_port(n->pg), n->flags.http_host, net_http_port(n->http), n->flags.store,
             auth_name(n->flags.auth));
    uv_run(&n->loop, UV_RUN_DEFAULT);
    status = 0;
out_close_loop:
    uv_loop_close(&n->loop);
out_stop_workers:
    net_workers_destroy(n->workers);
    /* Freed only once the workers are joined: none may still be inside
     * the server's wake-up. NULL after a failed start. */
    net_http_free(n->http);
    net_pg_server_free(n->pg);
out_close_engine:
    sql_engine_close(n->engine);
out_close_store:
    kv_store_close(n->store);
    if (status == 0)
        log_line("node stopped");
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "start") == 0 || strcmp(cmd, "init") == 0) {
        fprintf(stderr,
                "tardigrade %s: not yet supported (multi-node comes in a later issue); "
                "use start-single-node\n",
                cmd);
        return 2;
    }
    if (strcmp(cmd, "start-single-node") != 0) {
        fprintf(stderr, "tardigrade: unknown command \"%s\"\n", cmd);
        usage();
        return 2;
    }
    node n = {0};
    if (parse_flags(argc - 1, argv + 1, &n.flags) < 0) {
        usage();
        return 2;
    }
    return run_single_node(&n);
}
