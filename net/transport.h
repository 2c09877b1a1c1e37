/*
 * transport.h - the inter-node transport: opaque messages between nodes
 * over one outbound TCP connection per peer, on the node loop
 * (docs/transport.md).
 *
 * Contract:
 *   - Messages are (type 1..127, payload bytes); what they mean is the
 *     caller's business. Per (sender, receiver) pair they arrive in the
 *     order they were sent, or not at all: a full send queue drops new
 *     messages (counted), a lost connection drops what was being written.
 *     Nothing here ever blocks the loop or grows without bound.
 *   - A node sends on the connection it dialled itself (lazily, on the
 *     first message to a peer, redialled with capped exponential backoff
 *     and jitter) and receives on the connections others dialled to its
 *     listener. Every connection starts with a handshake both ways that
 *     names the cluster and the node.
 *   - Messages queued while the loop runs one iteration are written with
 *     one uv_write per peer from a uv_prepare handle, i.e. just before the
 *     loop next waits for I/O.
 *
 * Threads: every function is called on the loop thread, except
 * net_transport_send_threadsafe() (any thread, until net_transport_free).
 * Every callback runs on the loop thread.
 *
 * Lifetime: net_transport_start() -> ... -> net_transport_close()
 * (asynchronous: its callback fires once every handle is closed) ->
 * net_transport_free().
 */
#ifndef NET_TRANSPORT_H
#define NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/net_error.h"

typedef struct net_transport net_transport;

/* Peer ids at or above this name an address whose node id is not known
 * yet (a --join address): whoever answers there is accepted as that peer,
 * subject to the accept callback. */
#define NET_TRANSPORT_SEED_ID (UINT64_C(1) << 63)

/* A received message; `payload` is valid during the call only. The
 * callback may call any loop-thread function, net_transport_close too. */
typedef void (*net_transport_recv_cb)(void *ctx, uint64_t from, uint8_t type,
                                      const uint8_t *payload, size_t len);
/* Our connection to `node` completed its handshake (up) or was lost
 * (down): the input of the caller's failure detection. */
typedef void (*net_transport_peer_cb)(void *ctx, uint64_t node, bool up);
/* Decides whether to talk to `node` which names `cluster_id` in its
 * handshake (all zero: it does not know one yet); called for inbound and
 * outbound connections alike. */
typedef bool (*net_transport_accept_cb)(void *ctx, const uint8_t cluster_id[16], uint64_t node);
/* One log line without newline, valid during the call (same shape as
 * pgserver.h's net_log_fn, so one function serves both). */
typedef void (*net_transport_log_fn)(void *ctx, const char *line);

typedef struct net_transport_options {
    uint64_t node_id;       /* this node; never 0 */
    uint8_t cluster_id[16]; /* sent in handshakes; zero while unknown */
    const char *listen;     /* "HOST:PORT", numeric, port 0 = any; NULL: none */
    net_transport_recv_cb recv;
    net_transport_peer_cb peer_event; /* NULL: not told */
    net_transport_accept_cb accept;   /* NULL: cluster ids must be equal */
    net_transport_log_fn log;         /* NULL: silent */
    void *ctx;                        /* passed to every callback above */
    size_t max_payload;               /* largest payload either way; 0: 64 MiB */
    size_t compress_min;              /* payloads this large go lz4; 0: 64 KiB */
    size_t queue_bytes;               /* per peer, frames not yet written; 0: 16 MiB */
    size_t queue_msgs;                /* per peer; 0: 8192 */
    unsigned backoff_min_ms;          /* first redial delay; 0: 50 */
    unsigned backoff_max_ms;          /* cap; 0: 5000 */
    unsigned handshake_timeout_ms;    /* connect + both handshakes; 0: 10000 */
} net_transport_options;

/* Creates the transport on `loop` and starts listening on opts->listen.
 * `opts` is copied (the string too). *out is the caller's. NET_EINVAL
 * (node id 0, no recv callback, max_payload of 1 GiB or more), NET_EADDR (malformed address),
 * NET_ESYSTEM (bind/listen failed; `err` says why), NET_ENOMEM. On failure
 * nothing is left on the loop. */
int net_transport_start(uv_loop_t *loop, const net_transport_options *opts, net_transport **out,
                        char *err, size_t errlen);

/* The listener's bound port; 0 without a listener. */
int net_transport_port(const net_transport *t);

/* Sets the cluster id sent in later handshakes (a joining node learns it). */
void net_transport_set_cluster_id(net_transport *t, const uint8_t cluster_id[16]);

/* Adds `node` at "HOST:PORT" (numeric) or changes its address; a
 * connection to the old address is closed and the peer redialled after
 * backoff. NET_EINVAL (node 0 or ourselves), NET_EADDR, NET_ENOMEM,
 * NET_ECLOSED after net_transport_close. */
int net_transport_set_peer(net_transport *t, uint64_t node, const char *addr);

/* Queues a copy of `payload[0, len)` for `to` (loop thread). 0: queued;
 * NET_EDROPPED: the peer's queue is full, counted, nothing queued;
 * NET_ENOPEER: no address known for `to`; NET_EINVAL: type not 1..127
 * or len above max_payload; NET_ECLOSED after net_transport_close;
 * NET_ENOMEM. Success does not mean delivery. */
int net_transport_send(net_transport *t, uint64_t to, uint8_t type, const void *payload,
                       size_t len);

/* net_transport_send() from any thread: the copy is handed to the loop
 * through a queue bounded by the per-peer limits (NET_EDROPPED when
 * full, counted in async_dropped) and an uv_async_t. Errors found on the
 * loop are only counted: an unknown peer in async_unknown_peer, a full
 * peer queue in that peer's `dropped`.
 * NET_EINVAL, NET_ECLOSED, NET_ENOMEM as above. */
int net_transport_send_threadsafe(net_transport *t, uint64_t to, uint8_t type, const void *payload,
                                  size_t len);

/* Counters of one peer since the transport started, for /_status. */
typedef struct net_transport_peer_stats {
    uint64_t node;
    bool connected;      /* our connection to it is past the handshake */
    uint64_t msgs_sent;  /* written to the socket */
    uint64_t bytes_sent; /* frame bytes, compressed size */
    uint64_t msgs_recv;
    uint64_t bytes_recv;
    uint64_t dropped;    /* queue full, or lost with a connection */
    uint64_t writes;     /* uv_write calls: msgs_sent / writes = coalescing */
    uint64_t compressed; /* messages sent lz4-compressed */
    uint64_t reconnects; /* dials after a failed or lost connection */
    size_t queued_msgs;  /* queued or being written now */
    size_t queued_bytes;
} net_transport_peer_stats;

/* Copies `node`'s counters into *out. NET_ENOPEER when the transport
 * never heard of it (neither set_peer nor a handshake from it). */
int net_transport_peer_stats_get(const net_transport *t, uint64_t node,
                                 net_transport_peer_stats *out);

/* Calls fn once per known peer, in the order peers became known; `s` is
 * valid during the call. fn must not add peers. */
void net_transport_foreach_peer(const net_transport *t,
                                void (*fn)(void *ctx, const net_transport_peer_stats *s),
                                void *ctx);

/* Counters of the transport as a whole. */
typedef struct net_transport_stats {
    uint64_t accepted;      /* inbound connections */
    uint64_t rejected;      /* closed: a malformed frame, a refused handshake or none in time */
    uint64_t async_dropped; /* send_threadsafe calls refused on a full queue */
    uint64_t async_unknown_peer; /* send_threadsafe messages to a peer without address */
} net_transport_stats;

void net_transport_stats_get(net_transport *t, net_transport_stats *out);

/* Closes the listener and every connection (queued messages are
 * dropped) and calls done(ctx) on the loop once nothing of the transport
 * is left on it. Called once; no loop-thread call but net_transport_free
 * may follow. */
void net_transport_close(net_transport *t, void (*done)(void *ctx), void *ctx);

/* Frees the transport after its close callback; threads that may still
 * call net_transport_send_threadsafe must be joined first. NULL: no-op. */
void net_transport_free(net_transport *t);

#endif /* NET_TRANSPORT_H */
