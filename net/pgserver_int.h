/*
 * pgserver_int.h - layouts shared by the files of the pgwire server:
 * pgserver.c (listener, wake-up queue, cancel registry, shutdown),
 * pgserver_conn.c (a connection on the loop: read, write, close) and
 * pgserver_job.c (a connection's job on a worker: protocol steps and SQL).
 *
 * Ownership of a connection's fields moves between the loop and one
 * worker, never shared at the same time:
 *
 *   field            | loop thread                 | worker (job running)
 *   -----------------+-----------------------------+----------------------
 *   pg, session, out | when !busy, and while the   | while busy
 *                    | job waits in a flush        |
 *   job_flushed      | never                       | while busy
 *   fd (writes)      | when !busy, or the job      | while busy, until its
 *                    | flushed                     | first flush
 *   wbuf             | always (what uv_write sends)| never
 *   job results      | after NET__PGS_EV_DONE           | written during the job
 *   event, qnext,    | under srv->mu               | under srv->mu
 *   flush_wait/rc    |                             |
 *   peer_gone,       | atomics, set by the loop    | read by the job
 *   terminating      |                             |
 *
 * The hand-over is srv->mu: a job's writes are published by posting its
 * event, the loop's by net_workers_submit (the pool's mutex) or by
 * clearing flush_wait.
 *
 * Output is double-buffered: a write moves `out` into `wbuf` (swapping
 * their memory), so a job fills `out` while `wbuf` is on the wire. A job
 * whose `out` passes NET__PGS_FLUSH_BYTES waits only while the previous write
 * is still in flight: at most two buffers per connection, and a client
 * that reads slowly slows only its own statement.
 */
#ifndef NET_PGSERVER_INT_H
#define NET_PGSERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "net/pgserver.h"

#define NET__PGS_REGISTRY_BUCKETS 256
/* Output is handed to the loop for writing once it grows past this, so a
 * huge result never sits in memory whole; see the double-buffering above
 * for the backpressure. */
#define NET__PGS_FLUSH_BYTES (256u * 1024)
/* Bytes read while a job runs are held back up to this much, then reading
 * pauses until the job is done. */
#define NET__PGS_PENDING_MAX (64u * 1024)
/* On shutdown, connections still open after this long (clients that do
 * not read what is being written to them) are closed without waiting. */
#define NET__PGS_SHUTDOWN_GRACE_MS 5000

typedef enum net__pgs_event {
    NET__PGS_EV_NONE,
    NET__PGS_EV_DONE,  /* the job finished */
    NET__PGS_EV_FLUSH, /* the job waits to hand `out` over for writing */
} net__pgs_event;

typedef enum net__pgs_job_kind {
    NET__PGS_JOB_INPUT,   /* step the protocol over buffered input */
    NET__PGS_JOB_DESTROY, /* destroy the session before the socket closes */
} net__pgs_job_kind;

typedef struct net__pgs_conn {
    uv_tcp_t tcp;  /* tcp.data points back here */
    uv_os_fd_t fd; /* tcp's socket, for the job's own writes */
    struct net_pg_server *srv;
    net_pg_conn *pg;
    sql_session *session;
    net_pg_buf out;  /* what the job answers */
    net_pg_buf wbuf; /* what is being written */
    net_work work;
    net__pgs_job_kind job;

    /* Results of the last job. */
    bool job_close; /* the protocol ended the connection, or output failed */
    bool job_cancel;
    bool fatal_sent;  /* the session ended the connection: no ReadyForQuery */
    bool job_flushed; /* the running job handed output to the loop */
    int32_t cancel_pid, cancel_secret;

    atomic_bool peer_gone;   /* the client hung up: abort, answer nothing */
    atomic_bool terminating; /* server shutdown: a 57014 becomes FATAL 57P01 */

    net__pgs_event event; /* under srv->mu */
    struct net__pgs_conn *qnext;
    bool flush_wait; /* under srv->mu: the job waits to hand `out` over */
    int flush_rc;

    /* Loop only. */
    uv_write_t wreq;
    net_pg_buf pending;
    bool busy;           /* a job runs (or is queued) for this connection */
    bool writing;        /* a uv_write of `wbuf` is in flight */
    bool flush_pending;  /* a job waits to flush until that write is done */
    bool reading;        /* uv_read_start is on */
    bool has_input;      /* bytes were fed into `pg` since the last job */
    bool closing;        /* end the connection once the output is written */
    bool handle_closing; /* uv_close called */
    bool session_live;   /* `session` exists and may be cancelled */
    bool force_close;    /* shutdown grace over: write nothing more */
    int32_t pid, secret;
    struct net__pgs_conn *prev, *next; /* every connection of the server */
    struct net__pgs_conn *hnext;       /* cancel registry bucket */
} net__pgs_conn;

struct net_pg_server {
    uv_loop_t *loop;
    net_pg_server_options opts;
    uv_tcp_t listener;
    uv_async_t wake;
    uv_timer_t grace; /* shutdown: the end of waiting for slow clients */
    int port;

    pthread_mutex_t mu; /* the event queue and flush hand-shakes */
    pthread_cond_t flushed;
    net__pgs_conn *qhead, *qtail;

    /* Loop only. */
    net__pgs_conn *conns;
    size_t nconns;
    net__pgs_conn *registry[NET__PGS_REGISTRY_BUCKETS];
    bool shutting_down;
    int open_handles; /* listener, wake and grace, until their close callbacks */
    void (*done)(void *ctx);
    void *done_ctx;
    /* One read buffer for every connection: read callbacks copy out of it
     * at once, so an idle connection holds no read buffer. */
    char readbuf[64 * 1024];
};

/* pgserver.c */
void net__pgs_log(struct net_pg_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Worker side: hands `ev` for `c` to the loop. */
void net__pgs_post(net__pgs_conn *c, net__pgs_event ev);
/* Loop side: a fresh unique (pid, secret) for `c`, entered in the
 * registry; removal when the connection is freed. */
void net__pgs_register(net__pgs_conn *c);
void net__pgs_unregister(net__pgs_conn *c);
/* Cancels the statement running under (pid, secret), if any. */
void net__pgs_cancel(struct net_pg_server *s, int32_t pid, int32_t secret);
/* Called when a connection is freed: may complete a shutdown. */
void net__pgs_conn_gone(struct net_pg_server *s);

/* pgserver_conn.c (loop) */
void net__pgs_on_connection(uv_stream_t *listener, int status);
void net__pgs_on_event(net__pgs_conn *c, net__pgs_event ev);
/* Shutdown: ends the connection with FATAL 57P01 as soon as it is idle. */
void net__pgs_terminate(net__pgs_conn *c);
/* Shutdown grace over: closes the connection without writing more. */
void net__pgs_force_close(net__pgs_conn *c);

/* pgserver_job.c (worker) */
void net__pgs_job(void *arg);
/* The protocol configuration of a new connection: callbacks that run on
 * the worker stepping the conn. */
void net__pgs_pg_config(net__pgs_conn *c, net_pg_config *cfg);

#endif /* NET_PGSERVER_INT_H */
