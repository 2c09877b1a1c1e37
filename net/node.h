/*
 * node.h - a node of a cluster on the node loop: the transport to its
 * peers, the replicated store (kv/node.h) it drives, joining a cluster,
 * forwarding KV batches to other nodes, and the JSON status the HTTP
 * server shows (docs/operations.md, docs/kv.md "Replication").
 *
 * Life of a node:
 *
 *   store without identity ── init (HTTP) or start-single-node ──► bootstrap
 *        │                                                          │
 *        └─ JOIN to --join addresses until a member answers ──► identity
 *                                                                   │
 *   store with identity ─────────────────────────────────────► running:
 *        transport with the node id, Raft groups, gossip of the directory
 *
 * A node waiting to join uses a provisional transport id (>= 2^62) and
 * talks only to its --join addresses (seed ids >= 2^63, whose real id it
 * does not know); the member that answers allocates the node id from a
 * counter in the KV system space and sends the cluster id, the node id,
 * the first range's descriptor and the directory of nodes. The joiner
 * persists its identity, restarts its transport under the real id and
 * starts its Raft groups; ranges come to it as leaseholders add replicas.
 *
 * Messages (net/transport types; kv/node.h owns 1..3):
 *
 *   10 KV request   call id 8, kv_request_encode() bytes
 *   11 KV response  call id 8, kv_response_encode() bytes
 *   12 join         rpc, sql, http addresses (each: length 2, bytes)
 *   13 welcome      cluster id 16, node id 8, then a directory message
 *   14 directory    first range descriptor (length 4, bytes; 0: none),
 *                   count 2, per node: id 8, rpc, sql, http addresses
 *
 * Threads: everything here on the loop thread, except the KV forwarding
 * hook the store calls from workers.
 */
#ifndef NET_NODE_H
#define NET_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "kv/store.h"
#include "net/pgserver.h"
#include "net/workers.h"

typedef struct net_node net_node;

typedef struct net_node_options {
    const char *listen;      /* the RPC address HOST:PORT (numeric) */
    const char *sql_addr;    /* advertised in the directory */
    const char *http_addr;   /* advertised in the directory */
    const char *join;        /* comma-separated RPC addresses; NULL: none */
    bool single;             /* start-single-node: bootstrap now, one replica */
    uint64_t raft_log_limit; /* 0: kv/node.h's default */
    net_workers *workers;    /* borrowed: forwarded batches and snapshots run here */
    net_log_fn log;
    /* Loop: the node has its identity and its Raft groups run: the
     * caller may open SQL (which reads the catalog through KV). */
    void (*on_running)(void *ctx);
    void *ctx; /* for log and on_running */
} net_node_options;

/* Starts the node on `loop` over store `s` (borrowed until net_node_free).
 * Strings in `o` are copied. NET_EINVAL (a store of another format),
 * NET_EADDR, NET_ESYSTEM (listen failed, `err` says why), NET_ENOMEM. */
int net_node_start(uv_loop_t *loop, kv_store *s, const net_node_options *o, net_node **out,
                   char *err, size_t errlen);

/* The HTTP routes of a node, for net_http_set_handler (ctx: the node):
 * GET /_status/nodes, GET /_status/ranges (JSON), POST /_admin/init. */
int net_node_http(net_node *n, const char *method, const char *path, char **body,
                  const char **type);

/* Stops the Raft groups (waiting proposals end ambiguous), the timers and
 * the transport; done(ctx) runs on the loop once nothing of the node is
 * left on it. The workers must be joined before net_node_free. */
void net_node_close(net_node *n, void (*done)(void *ctx), void *ctx);
void net_node_free(net_node *n);

#endif /* NET_NODE_H */
