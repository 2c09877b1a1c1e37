/*
 * pgserver_fixture.c - see pgserver_fixture.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_session.h"
#include "net/scram.h"
#include "pgserver_fixture.h"

struct fx_server fx;

static char *hash_password(const char *password)
{
    char v[256];
    if (net_scram_verifier(password, NULL, 0, NET_SCRAM_ITERATIONS, v, sizeof(v)) < 0)
        return NULL;
    return strdup(v);
}

static bool always_ready(void *ctx)
{
    (void)ctx;
    return true;
}

static void on_server_stopped(void *ctx)
{
    (void)ctx;
    if (--fx.running == 0)
        uv_close((uv_handle_t *)&fx.stop, NULL);
}

static void on_stop(uv_async_t *h)
{
    (void)h;
    fx.running = 2;
    net_http_stop(fx.http, on_server_stopped, NULL);
    net_pg_server_shutdown(fx.pg, on_server_stopped, NULL);
}

static void *loop_main(void *arg)
{
    (void)arg;
    uv_run(&fx.loop, UV_RUN_DEFAULT);
    return NULL;
}

static int open_engine(void)
{
    kv_arena *arena;
    sql_error err = {0};
    sql_engine_options eo = {.hash_password = hash_password, .node_id = 1};
    if (kv_arena_create(&arena) != 0)
        return -1;
    int rc = sql_engine_open(NULL, &eo, &fx.engine, &err, arena);
    kv_arena_destroy(arena);
    return rc;
}

int fx_start(net_pg_auth_method auth)
{
    memset(&fx, 0, sizeof(fx));
    net_workers_options wo = {.min_threads = 2, .max_threads = 64, .idle_ms = 200};
    char msg[256];
    net_pg_server_options po = {.auth = auth};
    if (open_engine() < 0 || net_workers_create(&wo, &fx.workers) < 0 ||
        uv_loop_init(&fx.loop) != 0) {
        fprintf(stderr, "fixture: cannot set up engine, workers or loop\n");
        return -1;
    }
    uv_async_init(&fx.loop, &fx.stop, on_stop);
    po.engine = fx.engine;
    po.workers = fx.workers;
    if (net_pg_server_start(&fx.loop, "127.0.0.1", 0, &po, &fx.pg, msg, sizeof(msg)) < 0 ||
        net_http_start(&fx.loop, "127.0.0.1", 0, always_ready, NULL, &fx.http, msg, sizeof(msg)) <
            0) {
        fprintf(stderr, "fixture: %s\n", msg);
        return -1;
    }
    fx.pg_port = net_pg_server_port(fx.pg);
    fx.http_port = net_http_port(fx.http);
    return pthread_create(&fx.thread, NULL, loop_main, NULL) == 0 ? 0 : -1;
}

void fx_request_stop(void)
{
    if (!fx.stop_requested)
        uv_async_send(&fx.stop);
    fx.stop_requested = true;
}

int fx_stop(void)
{
    fx_request_stop();
    pthread_join(fx.thread, NULL);
    net_workers_destroy(fx.workers);
    net_pg_server_free(fx.pg);
    net_http_free(fx.http);
    int rc = uv_loop_close(&fx.loop) == 0 ? 0 : -1;
    if (rc < 0)
        fprintf(stderr, "fixture: a handle was left open\n");
    if (atomic_load(&fake_live_sessions) != 0) {
        fprintf(stderr, "fixture: %d sessions were not destroyed\n",
                atomic_load(&fake_live_sessions));
        rc = -1;
    }
    sql_engine_close(fx.engine);
    return rc;
}
