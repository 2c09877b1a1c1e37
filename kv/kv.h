/*
 * kv.h - the KV API: batches of requests and their responses. This is the
 * only kv header sql/ includes; docs/kv.md states the contracts.
 *
 * A kv_request is a header (timestamp, optional transaction) plus an
 * ordered list of kv_req. Sending it (kv_store_send, later the network
 * client) fills a kv_response with one kv_resp per kv_req, in the same
 * order, or with an error for the whole batch. Requests in one batch that
 * fall in one range are evaluated atomically there.
 *
 * Memory: a request and a response each own one arena. Every byte string a
 * request points to was copied into its arena by kv_request_add /
 * kv_request_set_txn; every byte string in a response (rows, resume keys,
 * the updated transaction, error details) lives in the response's arena.
 * kv_request_free / kv_response_free release everything in one call; a
 * pointer read from either stays valid until then.
 *
 * Encoding: the structs hold only scalars and (pointer, length) byte
 * strings, so a batch encodes to bytes field by field (net/ will do so);
 * nothing here refers to process state.
 */
#ifndef KV_KV_H
#define KV_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/kv_error.h"
#include "kv/mvcc.h"

/* ---- arena ----------------------------------------------------------- */

typedef struct kv_arena kv_arena;

/* An empty arena owned by the caller (kv_arena_destroy). KV_ENOMEM. */
int kv_arena_create(kv_arena **out);
/* Frees the arena and everything allocated from it; NULL is a no-op. */
void kv_arena_destroy(kv_arena *a);
/* n bytes aligned for any scalar, valid until the arena is destroyed;
 * NULL when out of memory. n == 0 returns a valid non-NULL pointer. */
void *kv_arena_alloc(kv_arena *a, size_t n);
/* A copy of [p, p+n) in the arena (NULL when out of memory). */
void *kv_arena_dup(kv_arena *a, const void *p, size_t n);
/* A NUL-terminated copy of the n bytes at s / of the string s in the
 * arena (NULL when out of memory). */
char *kv_arena_strndup(kv_arena *a, const char *s, size_t n);
char *kv_arena_strdup(kv_arena *a, const char *s);

/* ---- keys, spans, ranges -------------------------------------------- */

/* A single key (end_key NULL) or the key range [key, end_key). */
typedef struct kv_span {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *end_key;
    size_t end_len;
} kv_span;

#define KV_MAX_REPLICAS 7

typedef struct kv_replica_desc {
    uint32_t node_id;
    uint32_t store_id;
    uint32_t replica_id;
} kv_replica_desc;

/* A range covers [start_key, end_key). The first range starts at the empty
 * key; end_len == 0 means "no upper bound" (the last range), which no other
 * range can have since ranges are non-empty. */
typedef struct kv_range_desc {
    uint64_t range_id;
    uint64_t generation; /* bumped by every split, merge, replica change */
    const uint8_t *start_key;
    size_t start_len;
    const uint8_t *end_key;
    size_t end_len;
    uint32_t n_replicas;
    kv_replica_desc replicas[KV_MAX_REPLICAS];
} kv_range_desc;

/* Whether `desc` contains the key. */
bool kv_range_contains(const kv_range_desc *desc, const void *key, size_t klen);

/* ---- transactions ---------------------------------------------------- */

typedef enum kv_txn_state {
    KV_TXN_STATE_PENDING = 0,
    KV_TXN_STATE_COMMITTED = 1,
    KV_TXN_STATE_ABORTED = 2,
} kv_txn_state;

/* The client's view of a transaction; the response returns it updated
 * (write_ts pushed, status). A transaction reads at read_ts and writes at
 * write_ts; it may commit only while they are equal (otherwise it must
 * refresh its reads to write_ts or restart: KV_ETXNRETRY). */
typedef struct kv_txn {
    kv_txn_meta meta; /* id, epoch, seq of the latest write */
    int32_t priority;
    kv_ts read_ts;
    kv_ts write_ts;
    kv_txn_state status;
    /* The first key the transaction writes; its record lives on the range
     * holding this key. The client may leave it NULL: kv_store_send sets it
     * to the first write of the first batch that writes and returns it in
     * resp.txn (also when the batch fails). */
    const uint8_t *anchor_key;
    size_t anchor_len;
    /* Reads treat values in (read_ts, uncertainty_limit] as possibly
     * written before the transaction began (KV_EREADUNCERTAIN); the
     * coordinator sets it to the first read_ts plus the maximum clock
     * offset. Zero: no uncertainty. */
    kv_ts uncertainty_limit;
    /* A reading of the serving node's clock taken no earlier than the
     * transaction's start (CockroachDB's observed timestamp). Every write
     * applied on the node before that reading has a timestamp at or below
     * it (replicas forward the clock past what they apply), so a value
     * above it was written after the transaction began and is not
     * uncertain: reads there use min(uncertainty_limit, observed_ts).
     * Without this, readers would push intents up to the full limit,
     * running write timestamps ahead of the clock. A replica whose lease
     * started later than the observation uses its lease start instead
     * (writes of an earlier leaseholder lie below it). Zero: not observed
     * (kv/dist.c clears it on requests sent to another node). */
    kv_ts observed_ts;
} kv_txn;

/* A PENDING record whose last heartbeat (or, before it has a record, the
 * intent a pusher met) is older than this on the pushee's clock belongs to
 * an abandoned transaction: any pusher aborts it. Coordinators heartbeat
 * (KV_HEARTBEAT_TXN) well within it. */
#define KV_TXN_EXPIRY_NS INT64_C(2000000000)

/* ---- requests -------------------------------------------------------- */

/* Methods. Internal requests (sent by kv itself, not by sql/) follow the
 * public ones, with their arguments in kv_req.u. */
typedef enum kv_method {
    KV_GET,
    KV_PUT,
    KV_CPUT,      /* put if the current value equals the expectation */
    KV_INCREMENT, /* values are 8-byte big-endian two's complement */
    KV_DELETE,
    KV_DELETE_RANGE,
    KV_SCAN,
    KV_REVERSE_SCAN,
    KV_END_TXN,
    KV_RESOLVE_INTENT, /* internal: resolve one txn's intents in a span */
    KV_PUSH_TXN,       /* internal: push a conflicting txn via its record */
    KV_QUERY_TXN,      /* read a txn record (span: its anchor key) */
    KV_HEARTBEAT_TXN,  /* header txn: create or refresh its PENDING record */
    KV_REFRESH,        /* internal: the span is unchanged in (from, read_ts] */
    KV_METHOD_COUNT
} kv_method;

/* What a PushTxn wants: readers push the pushee's write timestamp above
 * their read timestamp, writers need it aborted; FORCE_ABORT aborts it
 * whatever its state (a deadlock victim aborting itself). */
typedef enum kv_push_type {
    KV_PUSH_TIMESTAMP,
    KV_PUSH_ABORT,
    KV_PUSH_FORCE_ABORT,
} kv_push_type;

typedef struct kv_req {
    kv_method method;
    /* The key, or [key, end_key) for DeleteRange, Scan, ReverseScan and a
     * ranged ResolveIntent. EndTxn: ignored (it goes to the anchor). */
    kv_span span;
    union {
        struct {
            const uint8_t *value;
            size_t value_len;
        } put;
        struct {
            const uint8_t *value;
            size_t value_len;
            bool exp_exists; /* false: succeed only if the key is absent */
            const uint8_t *exp;
            size_t exp_len;
        } cput;
        struct {
            int64_t delta;
        } inc;
        struct {
            size_t max_rows;  /* 0: unlimited */
            size_t max_bytes; /* keys + values; 0: unlimited; >= 1 row */
        } scan;
        struct {
            bool commit;
            /* Intents written by the transaction's earlier batches (the
             * coordinator tracks them); writes in this batch are added. */
            const kv_span *lock_spans;
            size_t n_lock_spans;
        } end_txn;
        struct {
            kv_txn_meta txn;
            kv_txn_status status;
            kv_ts commit_ts;
            /* The transaction is still pending, its write timestamp pushed
             * to commit_ts: move its intent up there (status ignored). */
            bool pending;
        } resolve;
        struct {
            /* The pushee: id, epoch and priority as the intent that was
             * met records them (the priority is used while it has no
             * record) and that intent's timestamp (its liveness while it
             * has no record). The span is the anchor key the intent
             * names. */
            kv_txn_meta pushee;
            int32_t pushee_priority;
            kv_ts intent_ts;
            int32_t pusher_priority;
            kv_push_type type;
            kv_ts push_to; /* PUSH_TIMESTAMP: the pushee must write above */
        } push;
        struct {
            kv_txn_meta txn; /* QueryTxn: id (span: the anchor key) */
        } query;
        struct {
            /* The timestamp the span was read at; the header's txn read_ts
             * is the one to move it to. */
            kv_ts from;
        } refresh;
    } u;
} kv_req;

typedef struct kv_header {
    /* Non-transactional batches: the timestamp; zero lets the replica's
     * clock pick it (writes are then moved above conflicting reads and
     * newer versions, which makes single-key operations linearizable). */
    kv_ts ts;
    kv_txn *txn; /* NULL: not transactional; in the request's arena */
    /* Meeting an intent whose transaction cannot be pushed at once (live,
     * not lower priority) fails with KV_EWRITEINTENT (detail names the
     * intent) instead of waiting for it: SQL's NOWAIT. */
    bool no_wait;
} kv_header;

typedef struct kv_request {
    kv_arena *arena;
    kv_header h;
    kv_req *reqs;
    size_t n;
    size_t cap;
} kv_request;

/* Initialises an empty non-transactional request with its own arena.
 * KV_ENOMEM (then nothing needs freeing). */
int kv_request_init(kv_request *r);
/* Makes the request transactional with a copy of `txn` (anchor key
 * included). KV_ENOMEM. */
int kv_request_set_txn(kv_request *r, const kv_txn *txn);
/* Appends a deep copy of `q`: every byte string, and EndTxn's lock spans,
 * are copied into the request's arena, so `q` is borrowed only for the
 * call. KV_EINVAL for an unknown method or an empty span; KV_ENOMEM. */
int kv_request_add(kv_request *r, const kv_req *q);
/* Frees the arena and the request list; the struct may be re-initialised. */
void kv_request_free(kv_request *r);

/* ---- responses ------------------------------------------------------- */

typedef struct kv_row {
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
    kv_ts ts; /* the version's timestamp */
} kv_row;

typedef struct kv_resp {
    kv_method method;
    bool found;        /* Get: the key exists */
    kv_row row;        /* Get: the value; Increment: the new value */
    int64_t new_value; /* Increment */
    kv_row *rows;      /* Scan, ReverseScan, in scan order */
    size_t n_rows;
    /* Scan, ReverseScan: the part of the span not read because a limit was
     * reached (key NULL: none). Sending it again continues the scan. */
    kv_span resume;
    uint64_t n_deleted; /* DeleteRange */
    /* PushTxn, QueryTxn, HeartbeatTxn: the record as the request left it
     * (`found` false: there is none; anchor in the response arena).
     * PushTxn: `pushed` says the pushee is finished or its write
     * timestamp is at or above push_to; false means wait and retry. */
    kv_txn txn;
    bool pushed;
} kv_resp;

/* What an error is about; which fields are set depends on the code. */
typedef struct kv_error_detail {
    size_t index;         /* the request that failed */
    kv_range_desc desc;   /* RANGEKEYMISMATCH: the range holding the key;
                           * NOTLEASEHOLDER: the range as the replica knows it */
    uint64_t leaseholder; /* NOTLEASEHOLDER: the holder or leader; 0: unknown */
    kv_intent intent;     /* WRITEINTENT: the conflicting intent (its anchor in
                           * the response arena) ... */
    kv_span intent_key;   /* ... and its key */
    kv_ts existing_ts;    /* WRITETOOOLD: the newer version; READUNCERTAIN: the
                           * uncertain one (read again at or above it) */
    bool actual_exists;   /* CONDFAILED: the current value */
    const uint8_t *actual;
    size_t actual_len;
} kv_error_detail;

typedef struct kv_response {
    kv_arena *arena;
    int err; /* 0, or the batch's error; then resps is empty */
    char msg[192];
    kv_error_detail detail;
    kv_ts ts;     /* the timestamp a non-transactional batch used */
    bool has_txn; /* txn: the transaction as the batch left it */
    kv_txn txn;
    kv_resp *resps;
    size_t n;
} kv_response;

/* Initialises an empty response with its own arena. KV_ENOMEM. */
int kv_response_init(kv_response *r);
/* Frees everything the response points to. */
void kv_response_free(kv_response *r);

/* ---- error classes --------------------------------------------------- */

/* The transaction (or a non-transactional batch) may be retried from the
 * start and may then succeed: SQLSTATE 40001. Includes the routing errors
 * that mean "not applied, nobody reachable served it" (KV_EUNAVAILABLE as
 * returned by kv_store_send: a send whose outcome is unknown comes back as
 * KV_EAMBIGUOUS instead). */
bool kv_err_retryable(int code);
/* The outcome is unknown (a commit may have applied): SQLSTATE 40003;
 * never report it as a failure. */
bool kv_err_ambiguous(int code);

#endif /* KV_KV_H */
