/*
 * pgserver.h - the PostgreSQL wire protocol server: a libuv TCP listener
 * on the node loop that drives one net_pg_conn per client and executes
 * its requests on the worker pool (docs/pgwire.md, "Server").
 *
 * Threads: the loop thread owns every socket; all functions here are
 * called on it. SQL (sql/session.h) and the startup's catalog look-ups
 * run on workers, one job per connection at a time; results travel back
 * through a uv_async_t. An idle connection holds no thread.
 *
 * Lifetime: net_pg_server_start() -> ... -> net_pg_server_shutdown()
 * (asynchronous: its callback fires on the loop once every connection is
 * closed and every session destroyed) -> net_pg_server_free(). The engine
 * and the worker pool are borrowed: destroy the pool (which joins its
 * threads) before freeing the server, since a worker may still be
 * returning from its last report when the callback fires.
 */
#ifndef NET_PGSERVER_H
#define NET_PGSERVER_H

#include <stddef.h>
#include <uv.h>

#include "net/pgwire.h"
#include "net/workers.h"
#include "sql/session.h"

typedef struct net_pg_server net_pg_server;

/* One log line without trailing newline (the caller adds time and
 * newline); valid during the call. */
typedef void (*net_log_fn)(void *ctx, const char *line);

typedef struct net_pg_server_options {
    net_pg_auth_method auth;
    size_t max_message;   /* largest frontend message body; 0: 64 MiB */
    sql_engine *engine;   /* borrowed */
    net_workers *workers; /* borrowed */
    net_log_fn log;       /* NULL: silent */
    void *log_ctx;
} net_pg_server_options;

/* Listens on host:port (numeric IPv4 or IPv6; port 0 picks a free one).
 * `opts` is copied. *out is the caller's (net_pg_server_free after the
 * shutdown callback). NET_ENOMEM, NET_EADDR (unparsable host), NET_ESYSTEM
 * (bind/listen failed; `err` says why). */
int net_pg_server_start(uv_loop_t *loop, const char *host, int port,
                        const net_pg_server_options *opts, net_pg_server **out, char *err,
                        size_t errlen);

/* The port actually bound. */
int net_pg_server_port(const net_pg_server *s);

/* Stops accepting, ends running statements and idle connections with
 * FATAL 57P01, destroys every session on the workers, and calls
 * done(ctx) on the loop when nothing of the server is left running.
 * Called once. */
void net_pg_server_shutdown(net_pg_server *s, void (*done)(void *ctx), void *ctx);

/* Frees the server after its shutdown callback. NULL is a no-op. */
void net_pg_server_free(net_pg_server *s);

#endif /* NET_PGSERVER_H */
