/*
 * node_int.h - the layout shared by net/node.c (lifecycle, joining, the
 * directory), net/node_rpc.c (KV batches between nodes) and
 * net/node_status.c (JSON status, init).
 */
#ifndef NET_NODE_INT_H
#define NET_NODE_INT_H

#include <pthread.h>

#include "kv/node.h"
#include "net/node.h"
#include "net/transport.h"

#define NET__PROVISIONAL_ID (UINT64_C(1) << 62)   /* joiners: [2^62, 2^63) */
#define NET__SEED_ID        NET_TRANSPORT_SEED_ID /* --join addresses */
#define NET__ADDR_MAX       64
#define NET__SILENT_MS      3000 /* a live peer gossips every second */

enum {
    NET__MSG_KV_REQ = 10,
    NET__MSG_KV_RESP = 11,
    NET__MSG_JOIN = 12,
    NET__MSG_WELCOME = 13,
    NET__MSG_DIRECTORY = 14,
};

typedef struct net__peer {
    uint64_t id;
    char rpc[NET__ADDR_MAX], sql[NET__ADDR_MAX], http[NET__ADDR_MAX];
    bool up;           /* live: connected, and heard from within NET__SILENT_MS */
    uint64_t heard_ms; /* uv_now() at its last frame */
} net__peer;

/* A KV batch forwarded to another node, waited for by a worker. */
typedef struct net__call {
    struct net__call *next;
    uint64_t id, node;
    bool done;
    int rc;
    kv_response *resp;
    pthread_cond_t cv;
} net__call;

/* A member's answer to a joiner, once its node id is allocated. */
typedef struct net__joiner {
    uint64_t provisional, node_id; /* node_id 0: being allocated */
    net__peer addr;                /* its addresses, id once allocated */
} net__joiner;

#define NET__JOINERS 16

struct net_node {
    uv_loop_t *loop;
    kv_store *s;
    net_node_options o;
    char listen[NET__ADDR_MAX], sql[NET__ADDR_MAX], http[NET__ADDR_MAX];
    char join[512];
    uint64_t id; /* the transport's: provisional until joined */
    uint8_t cluster[16];
    bool has_ident;
    uint64_t incarnation;
    uint64_t seed_turn; /* the --join address asked next */
    net_transport *t;
    net_transport *closing_t; /* being replaced by t */
    kv_node *kv;
    uv_timer_t tick, gossip;
    uv_async_t wake;
    int open_handles;
    bool closing;
    void (*done)(void *ctx);
    void *done_ctx;
    net__peer *peers; /* the directory, without ourselves (loop) */
    kv_buf dir;       /* this gossip round's directory message (loop) */
    kv_buf saved_dir; /* what the store holds (loop) */
    size_t n_peers;
    net__joiner joiners[NET__JOINERS]; /* recent allocations (loop) */
    size_t n_joiners;
    /* Forwarded batches: shared by workers and the loop. */
    pthread_mutex_t mu;
    net__call *calls;
    uint64_t next_call;
    net_transport *send_t;  /* the transport workers send on (under mu) */
    struct joining *joined; /* allocations finished by workers (under mu) */
    uint64_t down[64];      /* peers whose connection is down (under mu) */
    size_t n_down;
};

/* ---- node.c ---- */
void net__node_log(net_node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Bootstraps a new cluster with this node as node 1 (init, single node).
 * 0, or -1 with `err` filled. */
int net__node_bootstrap(net_node *n, char *err, size_t errlen);
net__peer *net__node_peer(net_node *n, uint64_t id);
/* Reads a length-prefixed string of at most NET__ADDR_MAX - 1 bytes at
 * p[*off] and moves *off past it; -1 if malformed. */
int net__get_str(const uint8_t *p, size_t len, size_t *off, char out[NET__ADDR_MAX]);
/* Adds or updates a peer of the directory. */
void net__node_learn(net_node *n, const net__peer *p);
/* A member's welcome message: take the identity it carries. */
void net__node_welcome(net_node *n, const uint8_t *p, size_t len);
/* Writes the directory message into out from offset `at` (the bytes
 * before it are the caller's) and sets out->len. 0, or -1 out of memory. */
int net__node_directory(net_node *n, kv_buf *out, size_t at);

/* ---- node_rpc.c ---- */
/* The store's remote hook (worker threads). */
int net__rpc_send(void *arg, uint64_t node, const kv_request *req, kv_response *resp);
/* Loop: a request from a peer (runs on a worker) and a response to one of
 * our calls. */
void net__rpc_serve(net_node *n, uint64_t from, const uint8_t *p, size_t len);
void net__rpc_answer(net_node *n, const uint8_t *p, size_t len);
/* Loop: fails every call to `node` (its connection went down), or every
 * call with node 0. */
void net__rpc_fail(net_node *n, uint64_t node);
/* Loop: records whether our connection to `node` is up; calls to a node
 * that is down fail at once instead of waiting for a timeout. */
void net__rpc_peer(net_node *n, uint64_t node, bool up);
/* Loop: a join request; allocates the node id on a worker. */
void net__rpc_join(net_node *n, uint64_t from, const uint8_t *p, size_t len);
/* Loop: welcomes the joiners whose ids the workers allocated. */
void net__rpc_joined(net_node *n);

#endif /* NET_NODE_INT_H */
