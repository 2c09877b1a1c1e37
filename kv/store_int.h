/*
 * store_int.h - layouts and internal functions shared by the files of the
 * store, replica and evaluation code:
 *
 *   store.c       open, bootstrap, range lookup
 *   range_desc.c  descriptor encoding (byte table in docs/kv.md)
 *   store_send.c  kv_store_send: splitting a batch by range
 *   replica.c     kv__replica_send: latches, tscache, evaluate, apply
 *   eval.c        evaluation of the data requests
 *   eval_txn.c    EndTxn, one-phase commit, intent resolution, PushTxn,
 *                 QueryTxn, HeartbeatTxn
 *   txn_push.c    pushing the transaction of an intent met (may wait)
 *   txn_record.c  transaction record keys and encoding
 */
#ifndef KV_STORE_INT_H
#define KV_STORE_INT_H

#include <pthread.h>

#include "kv/latch.h"
#include "kv/resolver.h"
#include "kv/txn_wait.h"
#include "kv/mvcc.h"
#include "kv/raft_storage.h"
#include "kv/store.h"
#include "kv/tscache.h"

typedef struct kv__replica kv__replica;

struct kv__replica {
    kv_store *store;
    kv_arena *arena; /* owns desc's keys */
    /* The bounds never change while the replica exists (no splits yet);
     * the replicas do, under `mu`, when a membership change applies. */
    kv_range_desc desc;
    kv_latch_mgr *latches;
    kv_tscache *tscache;
    pthread_mutex_t mu;   /* guards the fields below and desc's replicas */
    kv_lease lease;       /* as applied (kv/node.h); zero without replication */
    uint64_t leader;      /* the Raft leader as last seen; 0: unknown */
    struct kv__rraft *rr; /* the Raft side (loop thread); NULL without */
};

struct kv_store {
    kv_engine *engine;
    kv_hlc *hlc;
    kv_store_options opts;
    pthread_rwlock_t lock; /* guards ranges / n_ranges */
    kv__replica **ranges;  /* sorted by start key */
    size_t n_ranges;
    kv__txn_wait *waits;    /* blocked pushers, deadlock detection */
    kv__resolver *resolver; /* asynchronous intent resolution */
    /* Set by kv_node_start before any send, cleared by kv_node_stop after
     * every send has drained: NULL means commands apply directly. */
    struct kv_node *node;
    kv_store_remote remote; /* sends to other nodes (kv_store_set_remote) */
    /* Descriptors of ranges this store holds no replica of, sorted by
     * start key, each with its own arena; guarded by `lock`. */
    kv_range_desc *cache;
    kv_arena **cache_arenas;
    size_t n_cache;
    pthread_mutex_t lh_mu; /* guards the leaseholder guesses */
    uint64_t *lh_range, *lh_node;
    size_t n_lh;
};

/* A leaseholder-local side effect: a read to record in the tscache. */
typedef struct kv__read_span {
    kv_span span;
    kv_ts ts;
} kv__read_span;

/*
 * An evaluated command: what kv__replica_apply needs (the write batch,
 * which Raft will replicate as kv_batch_data bytes) and the side effects
 * the leaseholder performs after applying it. Arrays live in the batch's
 * response arena.
 */
typedef struct kv__cmd {
    kv_batch *batch;
    bool sync;
    uint64_t lease_seq;   /* replicated: the lease it is evaluated under */
    kv_ts ts;             /* replicated: followers' clocks pass it */
    kv__read_span *reads; /* for the tscache */
    size_t n_reads, cap_reads;
    /* Intents of a finished transaction outside this range: resolved
     * after the latches are released, through kv_store_send. */
    const kv_span *resolve;
    size_t n_resolve;
    kv_txn_meta resolve_txn;
    kv_txn_status resolve_status;
    kv_ts resolve_ts;
    /* The record of transaction finished_id became final in this command:
     * its waiters are woken once it applies. */
    bool finished;
    uint8_t finished_id[KV_TXN_ID_LEN];
} kv__cmd;

/* Evaluation state of one batch on one replica. */
typedef struct kv__eval {
    kv__replica *r;
    const kv_request *req;
    kv_response *resp;
    bool is_txn;
    kv_txn txn;    /* working copy: write_ts moves up */
    kv_ts ts;      /* non-transactional batches */
    bool one_pc;   /* writes go in committed, no intents, no record */
    kv_ts bump_to; /* set with KV_EWRITETOOOLD: re-evaluate at this ts */
    /* The lease this replica serves under started here (zero without
     * replication): values up to it may have been written by an earlier
     * leaseholder before an observation of this node's clock. */
    kv_ts lease_start;
    kv__cmd cmd;
    kv_mvcc_conflict conflict;
    kv_buf scratch;
} kv__eval;

/* ---- range_desc.c ---- */
/* Encodes into `out`, replacing its contents. KV_ENOMEM. */
int kv__desc_encode(const kv_range_desc *d, kv_buf *out);
/* Decodes into *out with keys copied into `a`. KV_ECORRUPT, KV_ENOMEM. */
int kv__desc_decode(const void *p, size_t n, kv_arena *a, kv_range_desc *out);
/* Copies `src` into *dst, keys into `a`. KV_ENOMEM. */
int kv__desc_copy(kv_arena *a, const kv_range_desc *src, kv_range_desc *dst);

/* ---- kv_api.c ---- */
/* Bytewise key order (a proper prefix sorts first). */
int kv__key_cmp(const void *a, size_t alen, const void *b, size_t blen);

/* ---- store.c ---- */
/* Inserts `r` keeping the array sorted; the caller holds the write lock. */
int kv__store_insert(kv_store *s, kv__replica *r);

/* ---- store_cluster.c ---- */
/* The cached descriptor of the range holding `key` (with `before`: the
 * greatest key below it), copied into `a`. KV_ENOTFOUND, KV_ENOMEM. */
int kv__store_cached(kv_store *s, const void *key, size_t klen, bool before, kv_arena *a,
                     kv_range_desc *out);
void kv__store_cache_free(kv_store *s);
/* The meta record key of range d (KV_META_PREFIX + end key, KV_META_MAX for
 * the last range), replacing the contents of `out`. KV_ENOMEM. */
int kv__meta_key(const kv_range_desc *d, kv_buf *out);
/* Bootstrap: range `range_id`'s initial Raft state, and the meta record of
 * `d`, added to `b`. */
int kv__bootstrap_raft(kv_store *s, kv_batch *b, uint64_t range_id);
int kv__bootstrap_meta(kv_store *s, kv_batch *b, const kv_range_desc *d, kv_ts ts);
/* The replica holding `key`, or with `before` the one holding the greatest
 * key below `key`; NULL if none. The pointer stays valid until the store
 * closes (replicas are never freed while it is open). */
kv__replica *kv__store_replica_for(kv_store *s, const void *key, size_t klen, bool before);

/* Makes replica r (whose descriptor a snapshot just wrote) one of the
 * store's ranges: loads the descriptor, and inserts r into the array unless
 * it is there. KV_ECORRUPT, KV_ENOMEM. */
int kv__store_adopt(kv_store *s, kv__replica *r);

/* ---- store_send.c ---- */
/* Resolves a finished transaction's intents in `spans` (anywhere in the
 * store) by sending ResolveIntent batches. Best effort: what it cannot
 * resolve stays for readers, who find the record through the intent. */
void kv__store_resolve(kv_store *s, const kv_span *spans, size_t n, const kv_txn_meta *txn,
                       kv_txn_status status, kv_ts commit_ts);

/* ---- dist.c ---- */
/* The range holding `key` (with `before`: the greatest key below it) into
 * *out, keys in `a`; *local is this store's replica of it or NULL.
 * KV_ENOTFOUND, KV_ENOMEM, errors of the meta lookup. */
int kv__route_lookup(kv_store *s, const void *key, size_t klen, bool before, kv_arena *a,
                     kv_range_desc *out, kv__replica **local);
/* Sends `sub`, all of whose keys lie in range `desc`, to its leaseholder
 * (locally or through the remote hook) and fills `sr` (its arena kept).
 * Retries on stale leaseholders; KV_EUNAVAILABLE when none answers,
 * KV_EAMBIGUOUS when a commit's outcome is unknown. */
int kv__route_send(kv_store *s, const kv_range_desc *desc, kv__replica *local,
                   const kv_request *sub, kv_response *sr);

/* ---- replica.c ---- */
/* Copies r's descriptor (replicas under r->mu) into *out, keys into `a`. */
int kv__replica_desc(kv__replica *r, kv_arena *a, kv_range_desc *out);
/* The span request q must lie in: EndTxn's is its transaction's anchor
 * (key NULL for a transaction that has not written). Borrowed from req. */
kv_span kv__route_span(const kv_request *req, const kv_req *q);
/* Whether span s lies entirely in the range of d. */
bool kv__desc_has_span(const kv_range_desc *d, const kv_span *s);
/* A replica of range `desc` (copied) with an empty latch manager and
 * timestamp cache; *out is owned by the caller (kv__replica_destroy).
 * KV_ENOMEM. */
int kv__replica_create(kv_store *s, const kv_range_desc *desc, kv__replica **out);
void kv__replica_destroy(kv__replica *r);
/* Evaluates and applies `req` on `r`. Every key must lie in r's range,
 * else KV_ERANGEKEYMISMATCH with the descriptor of the range holding the
 * key (r's own if none does). Fills `resp`, whose arena may be shared with
 * a caller's response; returns resp->err. `req` is borrowed. */
int kv__replica_send(kv__replica *r, const kv_request *req, kv_response *resp);
/* Applies an evaluated command: the single boundary Raft goes behind.
 * `cmd` is borrowed; the caller destroys its batch. */
int kv__replica_apply(kv__replica *r, kv__cmd *cmd, char *err, size_t errlen);
/* Records an error with a formatted message into e->resp; returns code. */
int kv__eval_errf(kv__eval *e, size_t i, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Whether request method m writes user data. */
bool kv__method_writes(kv_method m);

/* ---- eval.c / eval_txn.c ---- */
/* Evaluates every request of e->req into e->cmd and e->resp->resps. */
int kv__eval_batch(kv__eval *e);
int kv__eval_end_txn(kv__eval *e, size_t i);
int kv__eval_resolve(kv__eval *e, size_t i);
/* The highest timestamp at which e's reads can meet a value: the read
 * timestamp or, above it, the uncertainty limit (eval.c). */
kv_ts kv__eval_read_horizon(const kv__eval *e);
/* PushTxn, QueryTxn, HeartbeatTxn (eval_txn.c). */
int kv__eval_push_txn(kv__eval *e, size_t i);
int kv__eval_query_txn(kv__eval *e, size_t i);
int kv__eval_heartbeat_txn(kv__eval *e, size_t i);
/* The key of the record a PushTxn, QueryTxn or HeartbeatTxn request
 * touches (e->scratch is left alone), replacing the contents of `out`. */
int kv__txn_request_record_key(const kv__eval *e, const kv_req *q, kv_buf *out);

/* ---- txn_push.c ---- */
/* Handles the KV_EWRITEINTENT that e's evaluation just returned (the
 * latches are released): pushes the intent's transaction through its
 * record, waiting in the store's wait queue while the push cannot succeed,
 * then resolves the intent so the batch can be evaluated again. 0, or the
 * error to return for the batch (KV_ETXNABORTED when e's transaction was
 * aborted to break a deadlock); the message is in e->resp. */
int kv__push_intent(kv__eval *e);
/* eval_refresh.c: KV_REFRESH. */
int kv__eval_refresh(kv__eval *e, size_t i);
/* Notes a read of `span` at `ts` for the timestamp cache; the span's keys
 * must live as long as the response arena. KV_ENOMEM. */
int kv__eval_add_read(kv__eval *e, kv_span span, kv_ts ts);
/* Resolves the intents of `txn` in `span` into e->cmd.batch. */
int kv__resolve_span(kv__eval *e, const kv_span *span, const kv_txn_meta *txn, kv_txn_status status,
                     kv_ts commit_ts);
/* The next timestamp above t. */
kv_ts kv__ts_next(kv_ts t);

/* ---- txn_record.c ---- */
typedef struct kv__txn_record {
    kv_txn_state status;
    uint32_t epoch;
    int32_t priority;
    kv_ts write_ts; /* the commit timestamp once committed */
    kv_ts heartbeat;
    const kv_span *lock_spans;
    size_t n_lock_spans;
} kv__txn_record;

/* The record's key (KV_CF_LOCAL) for a transaction anchored at `anchor`,
 * replacing the contents of `out` (caller-owned). */
int kv__txn_record_key(kv_buf *out, const void *anchor, size_t alen,
                       const uint8_t id[KV_TXN_ID_LEN]);
/* Encodes into `out`, replacing its contents. KV_ENOMEM. */
int kv__txn_record_encode(const kv__txn_record *rec, kv_buf *out);
/* Decodes; lock span keys are copied into `a` and live as long as it.
 * KV_ECORRUPT, KV_ENOMEM. */
int kv__txn_record_decode(const void *p, size_t n, kv_arena *a, kv__txn_record *out);

#endif /* KV_STORE_INT_H */
