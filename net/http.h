/*
 * http.h - the node's minimal HTTP/1.1 status server on the node loop.
 *
 *   GET /health  200 "ok"         the process is up and its loop turns
 *   GET /ready   200 "ready"      the node accepts SQL (503 "not ready"
 *   GET /health?ready=1           while starting or shutting down)
 *   anything else                 the handler's answer, if one is set
 *                                 (net_http_set_handler), else 404/405
 *   other method 405, malformed request 400, request head > 8 KiB 431
 *
 * One request per connection (responses carry "Connection: close");
 * a client that has not sent a complete request head within 10 s is
 * dropped. Bodies are plain text with a trailing newline.
 *
 * Threads: the loop thread only. Lifetime: net_http_start() ->
 * net_http_stop() (asynchronous; its callback fires on the loop when every
 * handle is closed) -> net_http_free().
 */
#ifndef NET_HTTP_H
#define NET_HTTP_H

#include <stdbool.h>
#include <uv.h>

#include "net/net_error.h"

typedef struct net_http_server net_http_server;

/* Whether the node is ready to serve; called on the loop per request. */
typedef bool (*net_http_ready_fn)(void *ctx);

/* Listens on host:port (numeric; port 0 picks one). `ready` and `ctx` are
 * borrowed until the server is freed. *out is the caller's. NET_ENOMEM,
 * NET_EADDR, NET_ESYSTEM (`err` says why). */
int net_http_start(uv_loop_t *loop, const char *host, int port, net_http_ready_fn ready, void *ctx,
                   net_http_server **out, char *err, size_t errlen);

/* Answers a request the server does not know itself: returns the HTTP
 * status (> 0) with *body a malloc'd NUL-terminated body (the server frees
 * it) and *type its content type (static), or 0 for "not mine". Called on
 * the loop with the ctx given to net_http_start. */
typedef int (*net_http_handler_fn)(void *ctx, const char *method, const char *path, char **body,
                                   const char **type);
void net_http_set_handler(net_http_server *s, net_http_handler_fn fn);

/* The port actually bound. */
int net_http_port(const net_http_server *s);

/* Closes the listener and every connection; done(ctx) runs on the loop
 * once all are closed. Called once. */
void net_http_stop(net_http_server *s, void (*done)(void *ctx), void *ctx);

/* Frees the server after its stop callback. NULL is a no-op. */
void net_http_free(net_http_server *s);

#endif /* NET_HTTP_H */
