/*
 * tardigrade.c - the node binary.
 *
 *   tardigrade start --store DIR --listen HOST:PORT --join HOST:PORT[,...]
 *              [--sql-listen HOST:PORT] [--http-listen HOST:PORT]
 *              [--insecure | --auth scram|password] [--max-workers N]
 *              [--raft-log-limit N]
 *   tardigrade start-single-node --store DIR [same flags, no --join]
 *   tardigrade init --host HOST:HTTPPORT
 *
 * A node opens (creating if needed) its store and serves HTTP at once;
 * its cluster part (net/node.h) joins or bootstraps; once its Raft groups
 * run, a worker opens the SQL engine and the pgwire listener starts. All
 * of it on one libuv loop, SQL and blocking work on a worker pool, until
 * SIGINT or SIGTERM; then it ends every SQL connection (FATAL 57P01),
 * stops replication, waits for the workers and closes engine and store,
 * in that order, and exits 0. `init` asks a started node to bootstrap the
 * cluster. docs/operations.md is the user's guide.
 *
 * Exit status: 0 clean stop, 1 the node could not start (or init failed),
 * 2 bad usage. Log lines go to stderr, one per event, prefixed with the
 * UTC time.
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
#include <unistd.h>

#include <curl/curl.h>

#include "kv/kv_error.h"
#include "kv/store.h"
#include "net/http.h"
#include "net/node.h"
#include "net/pgserver.h"
#include "net/scram.h"
#include "net/tcp.h"
#include "net/workers.h"
#include "sql/session.h"

#define ENGINE_ATTEMPTS 50

typedef struct node_flags {
    bool single;
    const char *store, *join, *listen;
    char sql_host[256], http_host[256];
    int sql_port, http_port;
    const char *sql, *http; /* as given */
    net_pg_auth_method auth;
    size_t max_workers;
    unsigned long long raft_log_limit;
} node_flags;

typedef struct node {
    node_flags flags;
    kv_store *store;
    net_workers *workers;
    sql_engine *engine;
    uv_loop_t loop;
    uv_signal_t sigint, sigterm;
    uv_async_t engine_opened;
    net_work open_job;
    net_node *cluster;
    net_pg_server *pg;
    net_http_server *http;
    bool ready, stopping;
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
    fputs("usage: tardigrade start --store DIR --listen HOST:PORT --join HOST:PORT[,...]\n"
          "                  [--sql-listen HOST:PORT] [--http-listen HOST:PORT]\n"
          "                  [--insecure | --auth scram|password] [--max-workers N]\n"
          "                  [--raft-log-limit N]\n"
          "       tardigrade start-single-node --store DIR [the same flags but --join]\n"
          "       tardigrade init --host HOST:HTTPPORT\n"
          "defaults: --listen 127.0.0.1:26357 (single node: any free port)\n"
          "          --sql-listen 127.0.0.1:26257\n"
          "          --http-listen 127.0.0.1:26457 --auth scram\n",
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
        {"listen", required_argument, NULL, 'l'},
        {"join", required_argument, NULL, 'j'},
        {"raft-log-limit", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *sql = "127.0.0.1:26257", *http = "127.0.0.1:26457", *auth = "scram";
    /* A single node talks to no peer: its RPC port is any free one. */
    f->listen = f->single ? "127.0.0.1:0" : "127.0.0.1:26357";
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
        case 'l':
            f->listen = optarg;
            break;
        case 'j':
            f->join = optarg;
            break;
        case 'r':
            f->raft_log_limit = strtoull(optarg, &end, 10);
            if (*end != '\0' || f->raft_log_limit < 4) {
                fprintf(stderr, "tardigrade: --raft-log-limit needs a number of at least 4\n");
                return -1;
            }
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
    if (f->single && f->join != NULL) {
        fprintf(stderr, "tardigrade: start-single-node takes no --join\n");
        return -1;
    }
    if (!f->single && f->join == NULL) {
        fprintf(stderr, "tardigrade: --join is required (the nodes to join, or this node's "
                        "own --listen address for the first node)\n");
        return -1;
    }
    f->sql = sql;
    f->http = http;
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
    kv_store_options o = {.engine = {.create_if_missing = true}, .store_id = 1};
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
    return 0;
}

/* Worker: opens the SQL engine, which reads (and on the first node
 * creates) the catalog through KV; nodes starting together may collide
 * on that first transaction, and a range may still be electing a leader,
 * so a failure is tried again for a while. */
static void open_engine(void *arg)
{
    node *n = arg;
    for (int attempt = 1; attempt <= ENGINE_ATTEMPTS && !n->stopping; attempt++) {
        kv_arena *arena;
        if (kv_arena_create(&arena) != 0)
            break;
        sql_engine_options o = {.hash_password = hash_password,
                                .node_id = kv_store_node_id(n->store)};
        sql_error err = {0};
        int rc = sql_engine_open(n->store, &o, &n->engine, &err, arena);
        if (rc < 0)
            log_line("cannot open the SQL engine (attempt %d): %s (SQLSTATE %s)", attempt,
                     err.message, sql_sqlstate_code(err.state));
        kv_arena_destroy(arena);
        if (rc == 0)
            break;
        n->engine = NULL;
        sleep(1);
    }
    uv_async_send(&n->engine_opened);
}

static bool node_ready(void *ctx)
{
    return ((node *)ctx)->ready;
}

static int node_http(void *ctx, const char *method, const char *path, char **body,
                     const char **type)
{
    node *n = ctx;
    return n->cluster != NULL ? net_node_http(n->cluster, method, path, body, type) : 0;
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

static void on_cluster_closed(void *ctx)
{
    (void)ctx;
    log_line("replication stopped");
}

static void shutdown_node(node *n)
{
    n->ready = false;
    n->stopping = true;
    /* Closing the signal handles lets uv_run return once the servers
     * have closed everything else. */
    uv_close((uv_handle_t *)&n->sigint, NULL);
    uv_close((uv_handle_t *)&n->sigterm, NULL);
    uv_close((uv_handle_t *)&n->engine_opened, NULL);
    net_http_stop(n->http, on_http_stopped, n);
    if (n->pg != NULL)
        net_pg_server_shutdown(n->pg, on_pg_stopped, n);
    if (n->cluster != NULL) /* NULL when the cluster part never started */
        net_node_close(n->cluster, on_cluster_closed, n);
}

static void on_signal(uv_signal_t *h, int signum)
{
    node *n = h->data;
    log_line("received %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    shutdown_node(n);
}

static const char *auth_name(net_pg_auth_method m)
{
    return m == NET_PG_AUTH_METHOD_TRUST       ? "insecure: no authentication"
           : m == NET_PG_AUTH_METHOD_CLEARTEXT ? "password authentication (cleartext)"
                                               : "SCRAM-SHA-256 authentication";
}

/* Loop: the engine is open (or could not be): SQL starts listening. */
static void on_engine_opened(uv_async_t *h)
{
    node *n = h->data;
    node_flags *f = &n->flags;
    if (n->stopping || n->pg != NULL)
        return;
    if (n->engine == NULL) {
        log_line("giving up: the SQL engine cannot open");
        shutdown_node(n);
        return;
    }
    char err[512] = "";
    net_pg_server_options po = {
        .auth = f->auth, .engine = n->engine, .workers = n->workers, .log = log_from_net};
    if (net_pg_server_start(&n->loop, f->sql_host, f->sql_port, &po, &n->pg, err, sizeof(err)) <
        0) {
        log_line("sql listener: %s", err);
        n->pg = NULL;
        shutdown_node(n);
        return;
    }
    n->ready = true;
    log_line("node started; sql at %s:%d, http at %s:%d, store %s, %s", f->sql_host,
             net_pg_server_port(n->pg), f->http_host, net_http_port(n->http), f->store,
             auth_name(f->auth));
}

/* Loop: the node is part of a cluster and its Raft groups run. */
static void on_running(void *ctx)
{
    node *n = ctx;
    n->open_job = (net_work){.fn = open_engine, .arg = n};
    net_workers_submit(n->workers, &n->open_job);
}

static void log_from_cluster(void *ctx, const char *line)
{
    (void)ctx;
    log_line("%s", line);
}

static int start_cluster(node *n)
{
    node_flags *f = &n->flags;
    net_node_options o = {
        .listen = f->listen,
        .sql_addr = f->sql,
        .http_addr = f->http,
        .join = f->join,
        .single = f->single,
        .raft_log_limit = f->raft_log_limit,
        .workers = n->workers,
        .log = log_from_cluster,
        .on_running = on_running,
        .ctx = n,
    };
    char err[512] = "";
    if (net_node_start(&n->loop, n->store, &o, &n->cluster, err, sizeof(err)) < 0) {
        log_line("cannot start the node: %s", err);
        return -1;
    }
    return 0;
}

static int start_listeners(node *n)
{
    node_flags *f = &n->flags;
    char err[512] = "";
    int rc = net_http_start(&n->loop, f->http_host, f->http_port, node_ready, n, &n->http, err,
                            sizeof(err));
    if (rc < 0) {
        log_line("http listener: %s", err);
        return -1;
    }
    net_http_set_handler(n->http, node_http);
    uv_signal_init(&n->loop, &n->sigint);
    uv_signal_init(&n->loop, &n->sigterm);
    uv_async_init(&n->loop, &n->engine_opened, on_engine_opened);
    n->sigint.data = n->sigterm.data = n->engine_opened.data = n;
    uv_signal_start(&n->sigint, on_signal, SIGINT);
    uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    if (start_cluster(n) < 0) {
        shutdown_node(n);
        return -1;
    }
    return 0;
}

/* Runs the node until a signal has stopped it. 0 clean, 1 failed start. */
static int run_node(node *n)
{
    int status = 1;
    signal(SIGPIPE, SIG_IGN); /* a vanished client is a failed write, not a death */
    if (open_store(n) < 0)
        return 1;
    net_workers_options wo = {.max_threads = n->flags.max_workers};
    if (net_workers_create(&wo, &n->workers) < 0) {
        log_line("cannot start worker threads");
        goto out_close_store;
    }
    if (uv_loop_init(&n->loop) != 0)
        goto out_stop_workers;
    bool started = start_listeners(n) == 0;
    uv_run(&n->loop, UV_RUN_DEFAULT);
    status = started ? 0 : 1;
    uv_loop_close(&n->loop);
out_stop_workers:
    net_workers_destroy(n->workers);
    /* Freed only once the workers are joined: none may still be inside
     * the servers' wake-ups or a forwarded batch. NULL after a failed start. */
    net_http_free(n->http);
    net_pg_server_free(n->pg);
    sql_engine_close(n->engine);
    net_node_free(n->cluster);
out_close_store:
    kv_store_close(n->store);
    if (status == 0)
        log_line("node stopped");
    return status;
}

/* ---- init ------------------------------------------------------------------- */

static size_t collect(char *p, size_t size, size_t count, void *arg)
{
    char *buf = arg;
    size_t have = strlen(buf), n = size * count;
    size_t room = 511 - have;
    memcpy(buf + have, p, n < room ? n : room);
    buf[have + (n < room ? n : room)] = 0;
    return n;
}

/* tardigrade init --host HOST:HTTPPORT: POST /_admin/init. */
static int run_init(int argc, char **argv)
{
    static const struct option opts[] = {{"host", required_argument, NULL, 'H'},
                                         {NULL, 0, NULL, 0}};
    const char *host = NULL;
    for (int opt; (opt = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (opt != 'H')
            return 2;
        host = optarg;
    }
    if (host == NULL || optind < argc) {
        fprintf(stderr, "usage: tardigrade init --host HOST:HTTPPORT\n");
        return 2;
    }
    char url[512], body[512] = "";
    snprintf(url, sizeof(url), "http://%s/_admin/init", host);
    CURL *c = curl_easy_init();
    if (c == NULL)
        return 1;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, (void *)body);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    body[strcspn(body, "\n")] = 0;
    if (rc != CURLE_OK) {
        fprintf(stderr, "tardigrade init: cannot reach %s: %s\n", host, curl_easy_strerror(rc));
        return 1;
    }
    if (code != 200) {
        fprintf(stderr, "tardigrade init: %s\n", body[0] ? body : "failed");
        return 1;
    }
    printf("cluster initialized through %s\n", host);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "init") == 0)
        return run_init(argc - 1, argv + 1);
    if (strcmp(cmd, "start") != 0 && strcmp(cmd, "start-single-node") != 0) {
        fprintf(stderr, "tardigrade: unknown command \"%s\"\n", cmd);
        usage();
        return 2;
    }
    node n = {0};
    n.flags.single = strcmp(cmd, "start-single-node") == 0;
    if (parse_flags(argc - 1, argv + 1, &n.flags) < 0) {
        usage();
        return 2;
    }
    return run_node(&n);
}
