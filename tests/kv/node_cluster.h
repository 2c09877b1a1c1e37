/*
 * node_cluster.h - an in-process cluster of replicated stores (kv/node.h)
 * for the kv_node suite: no sockets, no libuv, one manual loop the test
 * steps.
 *
 * Each node is a kv_store in a temp dir with a kv_node whose hooks go to
 * this harness:
 *
 *   send        appends to one cluster-wide message queue (copied)
 *   wake        sets the node's woken flag (any thread)
 *   spawn       queues the job on a small thread pool (never the loop)
 *   live_nodes  the nodes this one is connected to and that run
 *   remote      (kv_store_set_remote) encodes the batch (kv/kv_codec.h),
 *               serves it with kv_store_send_local on a server pool
 *               thread of the target, and decodes the answer back; like
 *               net/node_rpc.c, a cut link fails it with KV_EUNREACHABLE
 *               when it is sent, KV_EUNAVAILABLE when it was in flight
 *
 * The calling (test) thread is every node's loop thread. A tick first
 * settles the cluster: it delivers queued messages (dropping, duplicating
 * or reordering them with a seeded PRNG when faults are set, never across
 * a cut link) and processes woken nodes until nothing is queued, no node
 * is woken and no Raft write is outstanding (spawned jobs get one short
 * wait: some wait on proposals that need ticks); then the simulated clock
 * moves by NC_TICK_MS and every running node ticks. Each node's physical
 * clock is the simulated one plus its skew. Time therefore passes only
 * while the cluster is quiet, so a lease cannot expire because the
 * machine was slow, and a run is repeatable up to the interleaving of
 * the client and worker threads. At most one tick per millisecond of real
 * time: clients back off in real time (kv/dist.c). A settle that never
 * goes quiet gives up after a few seconds of real time (the tick then
 * happens anyway) rather than hanging the suite.
 *
 * Node 1 bootstraps the cluster (kv_store_bootstrap_cluster, first split
 * "\x64" then the given splits); the others start empty and know only the
 * first range's descriptor, like `tardigrade start --join`.
 *
 * Client requests run on their own threads (kv_store_send blocks) while
 * the test keeps ticking: nc_call_start / nc_call_finish.
 */
#ifndef TESTS_KV_NODE_CLUSTER_H
#define TESTS_KV_NODE_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "kv/kv.h"
#include "kv/node.h"
#include "kv/store.h"

#define NC_MAX_NODES 5
#define NC_TICK_MS   10
/* Every store's maximum clock offset (kv_store_options.max_offset_ns). */
#define NC_MAX_OFFSET_NS INT64_C(50000000)
/* A remote call without an answer fails after this (10 s, net/'s). */
#define NC_CALL_TIMEOUT_TICKS 1000

typedef struct nc_cluster nc_cluster;

typedef struct nc_options {
    unsigned nodes;            /* 1..NC_MAX_NODES */
    const char *const *splits; /* NULL-terminated, above "\x64"; may be NULL */
    int64_t lease_ns;          /* 0: 1 s */
    uint64_t raft_log_limit;   /* 0: kv/node.h's default */
    uint64_t seed;             /* faults and incarnations */
    int64_t skew_ns;           /* node i's clock runs (i - 2) * skew_ns ahead */
} nc_options;

/* Opens and starts the cluster; aborts the test on failure. Free with
 * nc_free (after every call finished). */
nc_cluster *nc_start(const nc_options *o);
void nc_free(nc_cluster *c);

/* ---- the loop ---------------------------------------------------------- */

/* Delivers and processes until the cluster is quiet, without ticking. */
void nc_settle(nc_cluster *c);
void nc_tick(nc_cluster *c);
void nc_run(nc_cluster *c, unsigned ticks);
/* Ticks until pred(c, arg) holds (checked before each tick); false if it
 * still does not after max_ticks. */
bool nc_run_until(nc_cluster *c, bool (*pred)(nc_cluster *c, void *arg), void *arg,
                  unsigned max_ticks);
/* Simulated milliseconds since the start. */
int64_t nc_now_ms(nc_cluster *c);

/* ---- faults ------------------------------------------------------------ */

/* Per delivered message: percent dropped, percent delivered twice; with
 * `reorder`, each batch of queued messages is shuffled. */
void nc_set_faults(nc_cluster *c, unsigned drop_pct, unsigned dup_pct, bool reorder);
/* Cuts (or restores) every link of `node`; calls across a new cut fail
 * at once (a connection dropped), unless cuts are silent. */
void nc_isolate(nc_cluster *c, uint64_t node, bool isolated);
/* Silent cuts: senders do not notice them (a hung peer, a black hole);
 * calls across them fail only after NC_CALL_TIMEOUT_TICKS, like the
 * transport's call timeout, and as ambiguous as such a timeout is. */
void nc_set_silent(nc_cluster *c, bool silent);
/* Holds (or releases) the jobs nodes spawn: they stay queued meanwhile. */
void nc_pause_jobs(nc_cluster *c, bool paused);
/* Spawned jobs queued or running. */
unsigned nc_jobs(nc_cluster *c);
/* Stops node `node` (kv_node_stop): it gets no more messages or ticks. */
void nc_stop(nc_cluster *c, uint64_t node);

/* Remote requests node `from` sent to node `to` so far. */
uint64_t nc_remote_calls(nc_cluster *c, uint64_t from, uint64_t to);
/* Restarts node `node` (stopped first if it runs): once every worker is
 * idle, frees its kv_node, closes and reopens its store and starts a new
 * kv_node on it with a new incarnation. */
void nc_restart(nc_cluster *c, uint64_t node);
/* Sees every message a node sends, before faults apply. `call` numbers the
 * loop's calls into kv_node_* (tick, process, recv): two sends with the
 * same number come from one call. Set NULL to stop observing. */
typedef void (*nc_observe_fn)(void *arg, uint64_t call, uint64_t from, uint64_t to, uint8_t type,
                              const uint8_t *p, size_t len);
void nc_observe(nc_cluster *c, nc_observe_fn fn, void *arg);

/* ---- clients ------------------------------------------------------------ */

typedef struct nc_call nc_call;

/* Ticks a request may take before the suite gives up on it. */
#define NC_CALL_TICKS 20000

/* Sends a batch of the one request `q` (copied) through node `node`'s
 * store on a new thread. */
nc_call *nc_call_start(nc_cluster *c, uint64_t node, const kv_req *q);
bool nc_call_done(const nc_call *call);
/* Ticks until the call is done (at most max_ticks, else the test fails),
 * joins its thread and returns its code; the response stays readable
 * through nc_call_resp until nc_call_free. */
int nc_call_finish(nc_cluster *c, nc_call *call, unsigned max_ticks);
const kv_response *nc_call_resp(const nc_call *call);
void nc_call_free(nc_call *call);

/* A request on C strings, borrowed by the result: a Put of `val`, an
 * Increment by `delta`, or any method on the single key. */
kv_req nc_req(kv_method method, const char *key, const char *val, int64_t delta);
/* Put and Get through node `node` (values at most 63 bytes). */
int nc_put(nc_cluster *c, uint64_t node, const char *key, const char *val);
int nc_get(nc_cluster *c, uint64_t node, const char *key, char val[64], bool *found);

/* ---- observation -------------------------------------------------------- */

/* Node `node`'s replica of `range_id` into *out (keys in `a`); false when
 * the node holds none. */
bool nc_replica(nc_cluster *c, uint64_t node, uint64_t range_id, kv_arena *a,
                kv_replica_status *out);
/* The node holding a valid lease on `range_id` as its own replica reports
 * it; 0: none. */
uint64_t nc_leaseholder(nc_cluster *c, uint64_t range_id);
/* A digest of what node `node` stores for range `d`: every MVCC record of
 * [start, end) and the range's applied state, in key order. */
uint64_t nc_range_digest(nc_cluster *c, uint64_t node, const kv_range_desc *d, size_t *records);

#endif /* TESTS_KV_NODE_CLUSTER_H */
