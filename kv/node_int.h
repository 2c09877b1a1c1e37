/*
 * node_int.h - layouts shared by the files of the replicated store:
 *
 *   node.c        start/stop, the inbox, the scheduler, readies, messages
 *   node_apply.c  command encoding, proposals, applying committed entries
 *   node_lease.c  lease checks (workers), lease renewal, replica placement
 *                 and log truncation (ticks)
 *   node_snap.c   snapshot streams between leader and follower
 *   replica.c     kv__replica_apply hands commands to kv__node_propose
 *
 * Threads: `kv__rraft` and everything reached only through it belong to
 * the loop thread. What workers read (the lease, the leader, the
 * replicas of the descriptor) lives in kv__replica under its `mu`.
 */
#ifndef KV_NODE_INT_H
#define KV_NODE_INT_H

#include <pthread.h>
#include <semaphore.h>

#include "kv/node.h"
#include "kv/raft_storage.h"
#include "kv/raft_writer.h"
#include "kv/store_int.h"

/* Entry kinds (first byte after the version; docs/kv.md). */
enum { KV__CMD_WRITE = 1, KV__CMD_LEASE = 2 };

/* A proposal. A worker's write proposal lives on the worker's stack and is
 * the worker's again once `done` is set (under the node's mutex); lease
 * proposals are the node's and freed when they finish. */
typedef struct kv__prop kv__prop;
struct kv__prop {
    kv__prop *next; /* inbox, then the replica's pending list */
    kv__replica *r;
    uint8_t kind;
    uint64_t id;
    uint64_t lease_seq; /* write: the lease it was evaluated under */
    kv_ts ts;           /* write: the timestamp the clock must pass */
    const char *batch;  /* write: borrowed from the worker until done */
    size_t batch_len;
    kv_lease lease; /* lease: the lease asked for (prev seq in lease.seq) */
    kv_buf enc;     /* the entry data, made at the first proposal */
    uint64_t lease_index;
    uint64_t submitted_tick; /* when it left the inbox */
    uint64_t proposed_tick;  /* its latest (re-)proposal */
    int result;
    sem_t done; /* write: posted once, with `result` set; the worker waits */
};

/* raft/ refuses input while a ready is outstanding (RAFT_EBUSY): what
 * arrives meanwhile waits here and is fed in, in order, after advance. */
typedef enum {
    KV__DEFER_STEP,
    KV__DEFER_PROPOSE,
    KV__DEFER_TICK,
    KV__DEFER_SNAP_REPORT
} kv__defer_kind;

typedef struct kv__deferred {
    kv__defer_kind kind;
    uint64_t to;  /* SNAP_REPORT */
    bool ok;      /* SNAP_REPORT */
    kv__prop *p;  /* PROPOSE */
    uint8_t *msg; /* STEP: raft_msg_encode() bytes, malloc'd */
    size_t len;
} kv__deferred;

/* A replica's Raft side (loop thread). */
typedef struct kv__rraft {
    kv__replica *r;
    uint64_t range_id;
    bool initialized; /* has data (a descriptor and an applied state) */
    raft_node_t *raft;
    kv_raft_storage *st;
    raft_ready_t rd;
    bool rd_out;         /* rd taken, not yet advanced */
    bool persisting;     /* preq submitted, not yet durable */
    bool storage_failed; /* the storage thread failed: the ready stays out */
    kv_raft_persist_req preq;
    kv_raft_persist_req treq; /* a log truncation */
    bool truncating;
    kv_applied_state as; /* as applied */
    uint64_t next_lease_index;
    kv__prop *pending; /* proposed, not yet applied */
    bool scheduled;
    struct kv__rraft *next_work;
    uint64_t lease_asked_tick; /* last lease proposal */
    uint64_t placement_tick;   /* last membership change proposed */
    uint64_t last_leader;
    struct kv__snap_out *snap_out; /* streams to followers */
    struct kv__snap_in *snap_in;   /* stream from the leader */
    kv__deferred *deferred;        /* input while rd_out */
    size_t n_deferred, cap_deferred;
} kv__rraft;

struct kv_node {
    kv_store *s;
    kv_node_options o;
    kv_raft_writer *writer;
    uint64_t ticks;
    bool stopped;
    /* Guards the inbox, proposal completion and `stopped` for workers. */
    pthread_mutex_t mu;
    kv__prop *inbox_head, *inbox_tail;
    kv_raft_persist_req *durable; /* delivered by the writer */
    struct kv__snap_done *snap_done;
    uint64_t next_prop_id;
    bool lease_wanted; /* a worker found no lease: try at the next process */
    /* Loop thread: the nodes up at the last tick, and when each node was
     * last seen up (ticks), for replacing replicas on nodes gone for good. */
    uint64_t live[64];
    size_t n_live;
    uint64_t seen_id[64], seen_tick[64];
    size_t n_seen;
    /* Loop thread. */
    kv__rraft **rafts; /* every replica with a Raft group, by range id */
    size_t n_rafts, cap_rafts;
    kv__rraft *work_head, *work_tail;
    raft_entry_t *ents; /* decoding buffer for received messages */
    kv_buf *out;        /* per destination: pending KV_NODE_MSG_RAFT payload */
    uint64_t *out_to;   /* destination of out[i] */
    uint16_t *out_n;    /* messages in out[i] */
    size_t n_out, cap_out;
};

/* ---- node.c ---- */
kv__rraft *kv__node_raft(kv_node *n, uint64_t range_id);
/* Creates the Raft side of replica r (initialized or not). */
int kv__node_add_raft(kv_node *n, kv__replica *r, bool initialized, kv__rraft **out);
void kv__node_schedule(kv_node *n, kv__rraft *rr);
/* Queues one Raft message for its destination (flushed by kv_node_process). */
void kv__node_send_raft(kv_node *n, uint64_t range_id, const raft_msg_t *m);
void kv__node_flush(kv_node *n);
/* Input to rr's Raft group that waits while a ready is outstanding. */
void kv__raft_step(kv_node *n, kv__rraft *rr, const raft_msg_t *m);
void kv__raft_propose(kv_node *n, kv__rraft *rr, kv__prop *p);
void kv__raft_report_snapshot(kv_node *n, kv__rraft *rr, uint64_t to, bool ok);
/* Truncates rr's log up to `index` (term `term`) through the storage
 * thread, unless a truncation is already on its way. */
void kv__node_truncate(kv_node *n, kv__rraft *rr, uint64_t index, uint64_t term);

/* ---- node_apply.c ---- */
/* Worker: proposes cmd's batch under lease `seq` and waits for the outcome:
 * 0 applied; KV_ENOTLEASEHOLDER definitely not applied; KV_EAMBIGUOUS or
 * KV_ESTOPPED when the node stopped with the outcome unknown. */
int kv__node_propose(kv_node *n, kv__replica *r, uint64_t seq, kv_ts ts, const kv_batch *b);
/* Loop: proposes an inbox entry (or re-proposes a pending one). */
void kv__prop_submit(kv_node *n, kv__rraft *rr, kv__prop *p);
/* Loop: applies rd.committed of rr. */
int kv__apply_committed(kv_node *n, kv__rraft *rr, const raft_entry_t *ents, size_t count);
/* Completes p with `result` (wakes its worker or frees it); `p` may be
 * gone when this returns. Takes no lock. */
void kv__prop_finish(kv__prop *p, int result);
/* Re-proposes the pending proposals of rr older than `age` ticks. */
void kv__prop_repropose(kv_node *n, kv__rraft *rr, uint64_t age);
/* Fails with KV_EAMBIGUOUS the write proposals of rr pending for `age`
 * ticks: their range has no quorum (or no leader) this node can reach,
 * and the client deserves an answer rather than a wait until it heals. */
void kv__prop_give_up(kv_node *n, kv__rraft *rr, uint64_t age);
/* Publishes rr's lease and membership to workers (under r->mu). */
void kv__rraft_publish(kv__rraft *rr);

/* ---- node_lease.c ---- */
/* Worker: 0, the lease sequence and the lease start when this replica
 * holds a lease valid now; else KV_ENOTLEASEHOLDER with the hint and
 * descriptor in resp. */
int kv__lease_check(kv__replica *r, kv_response *resp, uint64_t *seq, kv_ts *start);
/* Loop: per tick and replica: lease, placement, truncation. */
void kv__lease_tick(kv_node *n, kv__rraft *rr);
/* Loop: a membership change applied; the leaseholder rewrites the meta
 * record (on a worker). */
void kv__meta_update(kv_node *n, kv__rraft *rr);
/* Loop: after a worker found no valid lease, acquire where we lead. */
void kv__lease_wanted(kv_node *n);
/* Loop: the lease just applied changed holder to this node. */
void kv__lease_acquired(kv_node *n, kv__rraft *rr);

/* ---- node_snap.c ---- */
/* Loop: the leader's Raft wants a snapshot sent to `to`. */
void kv__snap_send(kv_node *n, kv__rraft *rr, const raft_msg_t *m);
void kv__snap_recv(kv_node *n, uint64_t from, const uint8_t *p, size_t len);
void kv__snap_ack(kv_node *n, uint64_t from, const uint8_t *p, size_t len);
/* Loop: finished blocking snapshot work queued by the workers. */
void kv__snap_process_done(kv_node *n);
/* kv_node_free: frees the jobs that finished after the node stopped. */
void kv__snap_drop_done(kv_node *n);
void kv__snap_tick(kv_node *n, kv__rraft *rr);
/* After a snapshot's Raft state is durable (on_durable). */
void kv__snap_installed(kv__rraft *rr);
/* Whether rr is receiving a snapshot: its other Raft messages wait. */
bool kv__snap_receiving(const kv__rraft *rr);
void kv__snap_free(kv__rraft *rr);

#endif /* KV_NODE_INT_H */
