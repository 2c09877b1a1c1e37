/*
 * node.h - the replicated store: one Raft group per range, driven by the
 * node loop (docs/kv.md, "Replication").
 *
 * A kv_node attaches to a kv_store and from then on every command the
 * store's replicas evaluate is replicated before it applies: the
 * leaseholder evaluates a batch into a write batch (kv__replica_send), the
 * node proposes its bytes to the range's Raft group, and every replica
 * applies the same bytes once the entry commits. The worker that proposed
 * waits for the outcome: applied, definitely not applied (a retry), or
 * ambiguous (the node stopped).
 *
 * kv/ has no event loop and no sockets: the caller (net/node.c) owns both
 * and drives this module through the functions below, all on its loop
 * thread except where stated. It hands in received messages, ticks every
 * tick_ms, and calls kv_node_process() whenever `wake` asked for it; the
 * node hands out messages through `send` and blocking work (snapshot
 * chunks, which read or write a whole range) through `spawn`.
 *
 *   worker threads ── proposals ──► inbox ──wake──► loop: kv_node_process
 *   storage thread ── durable rounds ─┘               raft ready per replica
 *   loop: kv_node_recv ─► raft_step            ──► send / persist / apply
 *
 * Message types (net/transport types; payload formats in docs/kv.md):
 * KV_NODE_MSG_RAFT (a batch of Raft messages of many ranges to one node)
 * and KV_NODE_MSG_SNAP / KV_NODE_MSG_SNAP_ACK (snapshot streams). The
 * caller routes these three types here and may use the others itself.
 */
#ifndef KV_NODE_H
#define KV_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/store.h"

enum {
    KV_NODE_MSG_RAFT = 1,
    KV_NODE_MSG_SNAP = 2,
    KV_NODE_MSG_SNAP_ACK = 3,
};

typedef struct kv_node kv_node;

typedef struct kv_node_hooks {
    /* Loop thread: queue a message for node `to` (payload copied). A
     * failure is a dropped message; Raft retransmits. */
    int (*send)(void *arg, uint64_t to, uint8_t type, const void *payload, size_t len);
    /* Any thread: make the loop call kv_node_process() soon. */
    void (*wake)(void *arg);
    /* Loop thread: run fn(data) on a thread that may block; fn reports
     * back through the node (which wakes the loop). 0, or -1 when it
     * cannot be queued (the node retries later). */
    int (*spawn)(void *arg, void (*fn)(void *data), void *data);
    /* Node ids of the nodes that are up now (for placing replicas): fills
     * ids[0..cap) and returns how many there are. */
    size_t (*live_nodes)(void *arg, uint64_t *ids, size_t cap);
    void *arg;
} kv_node_hooks;

typedef struct kv_node_options {
    uint64_t node_id;
    /* Distinguishes this process from earlier ones of the same node: a
     * lease taken before a restart is not served after it. */
    uint64_t incarnation;
    kv_node_hooks hooks;
    unsigned tick_ms;         /* the caller's tick period; 0: 100 */
    unsigned election_ticks;  /* 0: 10 */
    unsigned heartbeat_ticks; /* 0: 1 */
    int64_t lease_ns;         /* lease duration; 0: 3 s */
    uint64_t raft_log_limit;  /* entries kept per range before truncation; 0: 10000 */
    unsigned replication;     /* voters per range wanted; 0: 3 */
} kv_node_options;

/* Starts replication on store `s` (borrowed until kv_node_free): starts
 * the storage thread and a Raft group for every range the store holds.
 * From now on the store's writes go through Raft. `opts` is copied. *out
 * is the caller's. KV_EINVAL, KV_ENOMEM, KV_EIO, storage errors with
 * `err`. Loop thread. */
int kv_node_start(kv_store *s, const kv_node_options *opts, kv_node **out, char *err,
                  size_t errlen);

/* Loop thread: one tick of every replica (elections, heartbeats), lease
 * renewal, placement of replicas and log truncation. */
void kv_node_tick(kv_node *n);

/* Loop thread: a message of type KV_NODE_MSG_* from node `from`; the
 * payload is borrowed for the call. Malformed messages are dropped. */
void kv_node_recv(kv_node *n, uint64_t from, uint8_t type, const uint8_t *payload, size_t len);

/* Loop thread: handles everything queued since the last call (proposals,
 * durable writes, finished snapshot work) and the replicas with work. */
void kv_node_process(kv_node *n);

/* Loop thread: fails every waiting proposal (ambiguous) and refuses new
 * ones with KV_ESTOPPED, stops the storage thread and detaches from the
 * store, which then accepts no writes. Blocking work spawned earlier must
 * have finished (the caller joins its workers first) before kv_node_free. */
void kv_node_stop(kv_node *n);
void kv_node_free(kv_node *n);

/* ---- status (any thread) ---------------------------------------------- */

typedef struct kv_replica_status {
    uint64_t range_id;
    bool initialized;
    kv_range_desc desc;             /* keys in the arena given to kv_node_status */
    uint8_t voter[KV_MAX_REPLICAS]; /* per desc.replicas[i]: 1 voter, 0 learner */
    uint64_t raft_leader, term, commit, applied;
    uint8_t raft_role;    /* raft_role_t */
    uint64_t leaseholder; /* 0: none valid now */
    int64_t lease_remaining_ms;
    uint64_t log_entries;
    uint64_t log_bytes, approx_bytes; /* RocksDB's estimates, flushed data only */
} kv_replica_status;

/* Fills *out (allocated from `a`, like every key it points to) with one
 * entry per replica of this node. KV_ENOMEM. */
int kv_node_status(kv_node *n, kv_arena *a, kv_replica_status **out, size_t *count);

#endif /* KV_NODE_H */
