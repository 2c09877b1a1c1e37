/*
 * pgserver_fixture.h - the pgwire and HTTP servers on their own loop
 * thread, over the fake_session.c engine, for the Criterion suite and the
 * TSan stress program alike. One server per process at a time.
 */
#ifndef TESTS_NET_PGSERVER_FIXTURE_H
#define TESTS_NET_PGSERVER_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>

#include "net/http.h"
#include "net/pgserver.h"

extern struct fx_server {
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t thread;
    net_workers *workers;
    sql_engine *engine;
    net_pg_server *pg;
    net_http_server *http;
    int pg_port, http_port; /* picked by the kernel */
    int running;            /* loop thread: servers not yet stopped */
    bool stop_requested;    /* test thread only */
} fx;

/* Starts both servers on 127.0.0.1 with `auth`; 0 or -1 (reason on
 * stderr). */
int fx_start(net_pg_auth_method auth);
/* Starts the shutdown that SIGTERM starts in the node binary; once. */
void fx_request_stop(void);
/* Stops (if not yet), waits for the loop to end and frees everything.
 * -1 when a handle or a session was left behind. */
int fx_stop(void);

#endif /* TESTS_NET_PGSERVER_FIXTURE_H */
