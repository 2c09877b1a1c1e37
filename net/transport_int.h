/*
 * transport_int.h - layouts shared by the files of the transport:
 * transport.c (peers, send queues, flush, backoff, the thread-safe queue,
 * close) and transport_conn.c (one TCP connection: dial, accept,
 * handshake, read, close).
 *
 * Everything here belongs to the loop thread except the thread-safe
 * queue (`mu` and the fields after it in net_transport).
 *
 * A peer's outgoing bytes are double-buffered: `pending` collects frames
 * as they are sent; a flush swaps it with the empty `inflight` and hands
 * `inflight` to one uv_write. The queue limits count both buffers, so a
 * slow peer holds at most queue_bytes of our memory.
 *
 * Outbound connection states of a peer:
 *
 *   IDLE --send--> DIALING --connected--> HELLO --their handshake--> UP
 *     ^                |                    |                        |
 *     +--timer, empty--BACKOFF <--failure---+-------lost-------------+
 *                      |--timer, queued--> DIALING
 */
#ifndef NET_TRANSPORT_INT_H
#define NET_TRANSPORT_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/frame.h"
#include "net/transport.h"

/* A buffer that grew past this for a large frame (a snapshot chunk) is
 * released once empty, so an idle connection keeps little memory. */
#define NET__TP_KEEP_BUFFER_BYTES (1u << 20)

typedef enum net__tp_state {
    NET__TP_IDLE,    /* no connection, none wanted yet */
    NET__TP_DIALING, /* uv_tcp_connect in progress */
    NET__TP_HELLO,   /* connected, waiting for the peer's handshake */
    NET__TP_UP,      /* frames flow */
    NET__TP_BACKOFF, /* the backoff timer runs */
} net__tp_state;

typedef struct net__tp_peer net__tp_peer;

/* One TCP connection, outbound (dialled for `peer`) or inbound (accepted;
 * `peer` is set by the sender's handshake, for the receive counters).
 * Freed in its close callback, so it outlives every callback of its
 * requests. */
typedef struct net__tp_conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t hello_req;
    uv_timer_t deadline; /* connect + handshake must finish before it fires */
    int open_handles;    /* tcp and deadline: freed when both closed */
    net_transport *t;
    net__tp_peer *peer;
    bool outbound;
    bool hello_seen; /* the other side's handshake arrived and was accepted */
    bool closing;
    uint8_t hello[NET_FRAME_HELLO_SIZE]; /* ours, while hello_req runs */
    net_frame_buf rbuf;                  /* received bytes not yet parsed */
    size_t need;                         /* bytes the frame at rbuf's start needs */
    struct net__tp_conn *prev, *next;    /* t->conns */
} net__tp_conn;

struct net__tp_peer {
    net_transport *t;
    uint64_t node;
    bool has_addr;
    struct sockaddr_storage addr;
    char addr_text[64];
    net__tp_state state;
    net__tp_conn *conn; /* outbound, while not closing */
    uv_timer_t backoff;
    unsigned failures; /* consecutive, for the backoff exponent */
    net_frame_buf pending, inflight;
    size_t pending_msgs, inflight_msgs;
    bool writing; /* write_req is in flight (possibly on a closing conn) */
    uv_write_t write_req;
    bool dirty; /* on t->dirty, to be flushed */
    net__tp_peer *next_dirty;
    net_transport_peer_stats st;
};

/* One net_transport_send_threadsafe message waiting for the loop. */
typedef struct net__tp_async_msg {
    struct net__tp_async_msg *next;
    uint64_t to;
    size_t len;
    uint8_t type;
    uint8_t payload[];
} net__tp_async_msg;

struct net_transport {
    uv_loop_t *loop;
    net_transport_options opts;
    char *listen_text; /* opts.listen's copy */
    uv_tcp_t listener;
    int port;
    uv_prepare_t flusher;
    uv_async_t wake;
    int open_handles; /* handles of the transport and its peers not yet closed */
    int nconns;
    net__tp_conn *conns;
    net__tp_peer **peers; /* in the order they became known; never shrinks */
    size_t npeers, cap_peers;
    net__tp_peer *dirty;
    net_frame_buf scratch; /* decompressed payloads */
    uint64_t rng;
    bool closing;
    void (*done)(void *ctx);
    void *done_ctx;
    net_transport_stats st; /* async_dropped is kept under mu, below */

    pthread_mutex_t mu;
    net__tp_async_msg *ahead, *atail;
    size_t abytes, amsgs;
    uint64_t async_dropped;
    bool aclosed;
};

void net__tp_log(net_transport *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Finds the peer record of `node`; NULL when unknown. */
net__tp_peer *net__tp_peer_find(const net_transport *t, uint64_t node);
/* Finds or creates (without address) the record of `node`; NULL when out
 * of memory. */
net__tp_peer *net__tp_peer_get(net_transport *t, uint64_t node);

/* The peer's outbound connection failed or was lost: drop what was being
 * written, tell the caller if it was up, arm the backoff timer. */
void net__tp_peer_failed(net__tp_peer *p);
/* The peer's handshake arrived on its outbound connection. */
void net__tp_peer_up(net__tp_peer *p);

/* Dials the peer's address; failures go through net__tp_peer_failed. */
void net__tp_dial(net_transport *t, net__tp_peer *p);
/* The listener's connection callback. */
void net__tp_on_connection(uv_stream_t *server, int status);
/* Closes a connection once (later calls are no-ops); `why` is logged
 * when not NULL. An outbound connection's peer is told it failed. */
void net__tp_conn_close(net__tp_conn *c, const char *why);
/* A connection's handle is gone: called from its close callback. */
void net__tp_conn_gone(net_transport *t);

#endif /* NET_TRANSPORT_INT_H */
