/*
 * workers.h - the worker thread pool that runs SQL sessions off the node
 * loop.
 *
 * SQL statements block (KV latches, fsync, lock waits), so they never run
 * on the libuv loop thread. The loop submits one job per connection at a
 * time; a worker runs it to completion. The pool starts with
 * `min_threads` and adds a thread whenever a job is submitted while no
 * thread is idle, up to `max_threads`: a session blocked on a lock must not
 * starve the others. Threads above `min_threads` exit after `idle_ms`
 * without work, so a burst does not pin its threads forever.
 *
 * Jobs are intrusive: the caller owns the net_work (typically embedded in
 * its connection) and must keep it alive until the job function has
 * started; the pool never allocates per job, so submit cannot fail for
 * lack of memory. Jobs run in submission order, each exactly once.
 *
 * Threads: net_workers_submit may be called from any thread;
 * net_workers_destroy from one thread, after the last submit.
 */
#ifndef NET_WORKERS_H
#define NET_WORKERS_H

#include <stddef.h>

#include "net/net_error.h"

typedef struct net_workers net_workers;

typedef void (*net_work_fn)(void *arg);

/* A job: fill fn and arg, then submit. `next` is the pool's. */
typedef struct net_work {
    net_work_fn fn;
    void *arg;
    struct net_work *next;
} net_work;

typedef struct net_workers_options {
    size_t min_threads; /* started at once; 0: 2 x online CPUs */
    size_t max_threads; /* 0: 256 */
    size_t stack_bytes; /* 0: 4 MiB (the SQL parser needs about 2 MiB) */
    unsigned idle_ms;   /* 0: 10000 */
} net_workers_options;

/* Starts the pool (`opts` NULL: all defaults). *out is the caller's, freed
 * by net_workers_destroy(). NET_ENOMEM, NET_ESYSTEM (pthread_create). */
int net_workers_create(const net_workers_options *opts, net_workers **out);

/* Queues `w` (caller-owned, untouched by the pool once w->fn has been
 * called). May start a thread; if that fails while others exist the job
 * simply waits for one, so submit always succeeds. */
void net_workers_submit(net_workers *p, net_work *w);

/* Runs every queued job, then joins all threads and frees the pool. NULL
 * is a no-op. */
void net_workers_destroy(net_workers *p);

/* Threads now alive (for logs and tests). */
size_t net_workers_threads(net_workers *p);

#endif /* NET_WORKERS_H */
