/*
 * raft.h - Tardigrade's Raft consensus library: the public interface.
 *
 * A pure state machine in the style of etcd-raft's RawNode. It performs no
 * I/O, reads no clock, starts no thread and keeps no global state; the only
 * randomness is a PRNG seeded from raft_config_t.seed. The caller drives it:
 *
 *   raft_tick()       once per logical tick (election/heartbeat timers)
 *   raft_step()       for every message received from a peer
 *   raft_propose()    to append a command (leader, or forwarded to it)
 *   raft_ready()      to collect a raft_ready_t bundle, then in this order:
 *                     1. send ready.msgs (they may leave at once),
 *                     2. make ready.snapshot, ready.entries and ready.hs
 *                        durable (snapshot first; entries[0].index and beyond
 *                        replace any suffix the storage already holds),
 *                     3. only then send ready.persist_msgs,
 *                     4. apply ready.committed to the state machine (those
 *                        an earlier ready made durable, below
 *                        entries[0].index, may be applied before step 2),
 *   raft_advance()    to report that steps 1-4 are done.
 *
 * Between raft_ready() and raft_advance() the node refuses every mutating call
 * with RAFT_EBUSY; getters (raft_status, raft_has_ready...) stay usable. A node
 * therefore never counts its own entry toward commit, nor acknowledges one to
 * a peer, before the caller has reported it durable through raft_advance().
 *
 * Storage is the caller's: the node reads the durable log through the
 * raft_storage_t function table (raft_memstore_t below is a pure in-memory
 * implementation used by tests and the benchmark). Committed entries of type
 * RAFT_ENTRY_CONF_CHANGE take effect inside raft_advance().
 *
 * Error codes are negative, from the single RAFT_ERRNO_MAP table;
 * raft_strerror() names them. See docs/raft.md for the full contract.
 */
#ifndef TARDIGRADE_RAFT_H
#define TARDIGRADE_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors -------------------------------------------------------------- */

#define RAFT_ERRNO_MAP(X)                                                                      \
    X(NOMEM, -1, "out of memory")                                                              \
    X(INVAL, -2, "invalid argument")                                                           \
    X(BUSY, -3, "a ready bundle is outstanding; call raft_advance first")                      \
    X(DROPPED, -4, "proposal dropped: no leader, forwarding disabled or transfer in progress") \
    X(COMPACTED, -5, "requested index has been compacted")                                     \
    X(UNAVAILABLE, -6, "requested entries are not available")                                  \
    X(SNAP_TEMP, -7, "snapshot temporarily unavailable")                                       \
    X(CONF_PENDING, -8, "a configuration change is already pending")                           \
    X(CONF_INVALID, -9, "configuration change is not valid for the current configuration")     \
    X(TOO_LARGE, -10, "uncommitted log size bound reached")                                    \
    X(TRUNCATED, -11, "encoded input is truncated")                                            \
    X(CORRUPT, -12, "encoded input is corrupt")                                                \
    X(NOSPC, -13, "output buffer too small")                                                   \
    X(STORAGE, -14, "storage callback failed")

enum {
#define RAFT__ERRNO_ENUM(name, code, msg) RAFT_E##name = (code),
    RAFT_ERRNO_MAP(RAFT__ERRNO_ENUM)
#undef RAFT__ERRNO_ENUM
};

/* Returns a static string naming `rc` (0 or a RAFT_E* code). */
const char *raft_strerror(int rc);

/* ---- basic types ----------------------------------------------------------- */

/* Bound on the members of one configuration (voters, learners each). */
#define RAFT_MAX_MEMBERS 16
/* Node ids are non-zero; 0 means "none". */
#define RAFT_NONE 0

typedef enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 0,
    RAFT_ENTRY_CONF_CHANGE = 1, /* data is a raft_conf_change_encode()d change */
} raft_entry_type_t;

/* A log entry. `data` is always borrowed; each function says for how long. */
typedef struct raft_entry {
    uint64_t term;
    uint64_t index;
    uint8_t type; /* raft_entry_type_t */
    uint32_t len;
    const uint8_t *data;
} raft_entry_t;

typedef struct raft_hard_state {
    uint64_t term;
    uint64_t vote;
    uint64_t commit;
} raft_hard_state_t;

/* A membership configuration. Joint consensus (Raft dissertation §4.3) holds
 * while n_voters_outgoing > 0; learners_next are outgoing voters that become
 * learners when the joint configuration is left. */
typedef struct raft_conf_state {
    uint64_t voters[RAFT_MAX_MEMBERS];
    uint64_t voters_outgoing[RAFT_MAX_MEMBERS];
    uint64_t learners[RAFT_MAX_MEMBERS];
    uint64_t learners_next[RAFT_MAX_MEMBERS];
    uint8_t n_voters, n_voters_outgoing, n_learners, n_learners_next;
    bool auto_leave; /* leave the joint configuration automatically */
} raft_conf_state_t;

typedef struct raft_snapshot {
    uint64_t index; /* last log index the snapshot covers; 0 = no snapshot */
    uint64_t term;
    raft_conf_state_t conf;
    uint32_t len;
    const uint8_t *data; /* borrowed, see the producing function */
} raft_snapshot_t;

typedef enum raft_cc_type {
    RAFT_CC_ADD_VOTER = 0,
    RAFT_CC_ADD_LEARNER = 1, /* also demotes a voter */
    RAFT_CC_REMOVE = 2,
} raft_cc_type_t;

typedef enum raft_cc_transition {
    /* One voter change: applied directly. Otherwise: joint, left by itself. */
    RAFT_CC_AUTO = 0,
    /* Always enter a joint configuration; the caller proposes the empty
     * change (n_changes == 0) to leave it. */
    RAFT_CC_JOINT_EXPLICIT = 1,
} raft_cc_transition_t;

/* A membership change (etcd's ConfChangeV2). n_changes == 0 leaves a joint
 * configuration. */
typedef struct raft_conf_change {
    uint8_t transition; /* raft_cc_transition_t */
    uint8_t n_changes;
    struct {
        uint8_t type; /* raft_cc_type_t */
        uint64_t node;
    } changes[RAFT_MAX_MEMBERS];
} raft_conf_change_t;

typedef enum raft_msg_type {
    RAFT_MSG_APP = 1,
    RAFT_MSG_APP_RESP,
    RAFT_MSG_VOTE,
    RAFT_MSG_VOTE_RESP,
    RAFT_MSG_PREVOTE,
    RAFT_MSG_PREVOTE_RESP,
    RAFT_MSG_HEARTBEAT,
    RAFT_MSG_HEARTBEAT_RESP,
    RAFT_MSG_SNAP,
    RAFT_MSG_TIMEOUT_NOW,
    RAFT_MSG_PROP,            /* proposal forwarded to the leader */
    RAFT_MSG_READ_INDEX,      /* read request forwarded to the leader */
    RAFT_MSG_READ_INDEX_RESP, /* leader's answer: index + context */
    RAFT_MSG_TRANSFER_LEADER, /* transfer request forwarded to the leader */
    RAFT__MSG_TYPE_END
} raft_msg_type_t;

/* A message between peers. All pointers are borrowed (see raft_ready_t and
 * raft_msg_decode for their lifetimes); raft_step() copies what it keeps. */
typedef struct raft_msg {
    uint8_t type; /* raft_msg_type_t */
    bool reject;
    uint64_t from, to;
    uint64_t term;
    uint64_t log_term; /* APP: term of `index`; APP_RESP reject: hint term */
    uint64_t index;
    uint64_t commit;
    uint64_t reject_hint;
    uint64_t context; /* read request id, heartbeat read round, transfer flag */
    size_t n_entries;
    const raft_entry_t *entries;
    const raft_snapshot_t *snapshot; /* RAFT_MSG_SNAP only */
} raft_msg_t;

/* ---- storage interface ------------------------------------------------------ */

/* The durable log, implemented by the caller. Every callback returns 0 or a
 * RAFT_E* code (RAFT_ECOMPACTED, RAFT_EUNAVAILABLE, RAFT_ESNAP_TEMP, or
 * RAFT_ESTORAGE for I/O failures). Data pointers returned by callbacks are
 * borrowed and need only stay valid until the caller next mutates the
 * storage; the node copies whatever it keeps. The node calls these only
 * from inside its own API functions. */
typedef struct raft_storage {
    void *ud;
    /* Durable hard state and the configuration as of the storage snapshot. */
    int (*initial_state)(void *ud, raft_hard_state_t *hs, raft_conf_state_t *cs);
    /* Entries [lo, hi) into out[0 .. hi-lo), stopping before the total data
     * size exceeds max_size but returning at least one entry. */
    int (*entries)(void *ud, uint64_t lo, uint64_t hi, uint64_t max_size, raft_entry_t *out,
                   size_t *n);
    /* Term of entry i, for first_index-1 <= i <= last_index. */
    int (*term)(void *ud, uint64_t i, uint64_t *term);
    /* Bounds of the log, kept in memory by any sane implementation. */
    uint64_t (*first_index)(void *ud);
    uint64_t (*last_index)(void *ud);
    /* Most recent snapshot; its data is borrowed as above. */
    int (*snapshot)(void *ud, raft_snapshot_t *snap);
} raft_storage_t;

/* ---- node ---------------------------------------------------------------------- */

typedef enum raft_read_only_option {
    RAFT_READ_SAFE = 0,  /* ReadIndex confirmed by a heartbeat quorum (§6.4) */
    RAFT_READ_LEASE = 1, /* leader lease (§6.4.1); requires check_quorum */
} raft_read_only_option_t;

typedef struct raft_config {
    uint64_t id;
    int election_tick;  /* ticks without leader contact before campaigning */
    int heartbeat_tick; /* leader heartbeat period, < election_tick */
    raft_storage_t storage;
    uint64_t applied;                 /* last index applied before a restart */
    uint64_t max_size_per_msg;        /* bytes of entry data per APP; 0: 1 MiB */
    uint64_t max_committed_per_ready; /* bytes of committed data per ready; 0: 16 MiB */
    uint64_t max_uncommitted_size;    /* leader's uncommitted data bound; 0: none */
    uint32_t max_inflight_msgs;       /* APPs in flight per follower; 0: 256 */
    uint64_t max_inflight_bytes;      /* data bytes in flight per follower; 0: none */
    bool check_quorum;
    bool pre_vote;
    bool disable_proposal_forwarding;
    uint8_t read_only; /* raft_read_only_option_t */
    uint64_t seed;     /* PRNG seed for randomized election timeouts */
} raft_config_t;

typedef struct raft_node raft_node_t;

typedef struct raft_read_state {
    uint64_t index;   /* apply up to here, then serve the read */
    uint64_t context; /* the caller's id from raft_read_index() */
} raft_read_state_t;

typedef enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_CANDIDATE,
    RAFT_PRECANDIDATE,
    RAFT_LEADER,
} raft_role_t;

/* What the caller must persist, send and apply; see the header comment for
 * the order. Every pointer stays valid until raft_advance() for this ready or
 * raft_free(), whichever is first, and belongs to the node. */
typedef struct raft_ready {
    uint64_t lead; /* soft state: current leader (RAFT_NONE if unknown) */
    uint8_t role;  /* soft state: raft_role_t */
    bool hs_changed;
    raft_hard_state_t hs;
    const raft_snapshot_t *snapshot; /* NULL, or install and persist first */
    size_t n_entries;
    const raft_entry_t *entries; /* persist; replaces the log from entries[0].index */
    size_t n_committed;
    const raft_entry_t *committed; /* apply in order after persisting */
    size_t n_msgs;
    const raft_msg_t *msgs; /* may be sent before anything is durable */
    size_t n_persist_msgs;
    const raft_msg_t *persist_msgs; /* send only once hs/entries/snapshot are durable */
    size_t n_read_states;
    const raft_read_state_t *read_states;
    bool must_sync; /* entries or term/vote changed: the write must be synced */
} raft_ready_t;

typedef struct raft_progress_info {
    uint64_t id;
    uint64_t match, next;
    uint8_t state; /* 0 probe, 1 replicate, 2 snapshot */
    bool recent_active;
    bool is_learner;
    uint32_t inflight;
} raft_progress_info_t;

typedef struct raft_status {
    uint64_t id, term, vote, commit, applied, lead;
    uint64_t first_index, last_index;
    uint8_t role; /* raft_role_t */
    uint64_t lead_transferee;
    raft_conf_state_t conf;
    size_t n_progress; /* filled on the leader only */
    raft_progress_info_t progress[2 * RAFT_MAX_MEMBERS];
} raft_status_t;

/* Creates a node from cfg (copied) and the state its storage reports. The
 * storage table is borrowed and must outlive the node. Returns 0 and *out
 * (free with raft_free) or RAFT_EINVAL / RAFT_ENOMEM / a storage error, with
 * a description in errmsg (may be NULL). */
int raft_new(const raft_config_t *cfg, raft_node_t **out, char *errmsg, size_t errlen);
void raft_free(raft_node_t *r);

/* Advances the logical clock by one tick. */
int raft_tick(raft_node_t *r);
/* Hands a received message to the node; m and everything it points to are
 * borrowed for the duration of the call. Stale or unknown messages are
 * ignored (return 0); malformed ones return RAFT_EINVAL. */
int raft_step(raft_node_t *r, const raft_msg_t *m);
/* Proposes a command; data is copied. RAFT_EDROPPED when it cannot be
 * appended or forwarded, RAFT_ETOO_LARGE when the uncommitted bound is hit. */
int raft_propose(raft_node_t *r, const void *data, size_t len);
/* Proposes a membership change (Raft dissertation §4.3); forwarded like a
 * proposal. The leader answers RAFT_ECONF_PENDING while a previous change is
 * not yet applied and RAFT_ECONF_INVALID if cc does not fit the current
 * configuration. The change takes effect when raft_advance() reports its
 * entry applied, on every node. */
int raft_propose_conf_change(raft_node_t *r, const raft_conf_change_t *cc);
/* Starts an election now (as if the election timeout elapsed). */
int raft_campaign(raft_node_t *r);
/* Asks the leader to hand leadership to `target` (§3.10): it catches the
 * target up, then sends it TimeoutNow; proposals are refused meanwhile. The
 * transfer is aborted after an election timeout, by a term change, or by
 * target RAFT_NONE. Forwarded to the leader from a follower. */
int raft_transfer_leadership(raft_node_t *r, uint64_t target);
/* Requests a linearizable read; the answer arrives as a read state carrying
 * `context` in a later ready (or never, if leadership is lost: retry). */
int raft_read_index(raft_node_t *r, uint64_t context);
/* The transport must report every RAFT_MSG_SNAP it was given: ok=false if
 * it could not be delivered, ok=true once sent. Until then the leader sends
 * `to` nothing else. */
int raft_report_snapshot(raft_node_t *r, uint64_t to, bool ok);
/* Reports that `to` could not be reached: stop pipelining to it. */
int raft_report_unreachable(raft_node_t *r, uint64_t to);

bool raft_has_ready(const raft_node_t *r);
/* Fills *rd; see raft_ready_t for lifetimes. A leader first sends its
 * followers the entries proposed since the last ready, so proposals made in
 * between share one APP per follower. RAFT_EBUSY if a ready is outstanding. */
int raft_ready(raft_node_t *r, raft_ready_t *rd);
/* Reports that rd (from the last raft_ready) has been persisted, sent and
 * applied. Committed configuration changes take effect here. */
int raft_advance(raft_node_t *r, const raft_ready_t *rd);

void raft_status(const raft_node_t *r, raft_status_t *st);
uint64_t raft_term(const raft_node_t *r);
uint64_t raft_leader(const raft_node_t *r);
raft_role_t raft_role(const raft_node_t *r);

/* ---- binary encoding (byte tables in docs/raft.md) ------------------------------- */

/* Encoders write into buf[0..cap) and set *n to the bytes written; RAFT_ENOSPC
 * (and *n = bytes needed) when cap is too small. Decoders never read outside
 * buf[0..len), reject truncated input with RAFT_ETRUNCATED and malformed input
 * with RAFT_ECORRUPT, and return pointers into buf (valid while buf is). */
size_t raft_msg_encoded_size(const raft_msg_t *m);
int raft_msg_encode(const raft_msg_t *m, uint8_t *buf, size_t cap, size_t *n);
/* Decodes one message. Entries go into ents[0..ents_cap) and the snapshot
 * header into *snap, both caller-owned; RAFT_ENOSPC with m->n_entries set to
 * the needed count if ents_cap is too small. */
int raft_msg_decode(const uint8_t *buf, size_t len, raft_msg_t *m, raft_entry_t *ents,
                    size_t ents_cap, raft_snapshot_t *snap);
int raft_entry_encode(const raft_entry_t *e, uint8_t *buf, size_t cap, size_t *n);
int raft_entry_decode(const uint8_t *buf, size_t len, raft_entry_t *e, size_t *consumed);
int raft_hard_state_encode(const raft_hard_state_t *hs, uint8_t *buf, size_t cap, size_t *n);
int raft_hard_state_decode(const uint8_t *buf, size_t len, raft_hard_state_t *hs);
int raft_conf_state_encode(const raft_conf_state_t *cs, uint8_t *buf, size_t cap, size_t *n);
int raft_conf_state_decode(const uint8_t *buf, size_t len, raft_conf_state_t *cs, size_t *consumed);
int raft_conf_change_encode(const raft_conf_change_t *cc, uint8_t *buf, size_t cap, size_t *n);
int raft_conf_change_decode(const uint8_t *buf, size_t len, raft_conf_change_t *cc);

/* ---- in-memory storage ----------------------------------------------------------- */

/* A raft_storage_t that keeps everything in memory (tests, benchmark). Entry
 * data is copied into shared chunks, so appends do not allocate per entry. */
typedef struct raft_memstore raft_memstore_t;

/* Returns a store with an empty log whose configuration is `cs` (copied),
 * or NULL on allocation failure. Free with raft_memstore_free. */
raft_memstore_t *raft_memstore_new(const raft_conf_state_t *cs);
void raft_memstore_free(raft_memstore_t *ms);
/* A function table reading ms; valid while ms is. */
raft_storage_t raft_memstore_storage(raft_memstore_t *ms);
/* Appends copies of ents, replacing any suffix from ents[0].index. */
int raft_memstore_append(raft_memstore_t *ms, const raft_entry_t *ents, size_t n);
int raft_memstore_set_hard_state(raft_memstore_t *ms, const raft_hard_state_t *hs);
void raft_memstore_hard_state(const raft_memstore_t *ms, raft_hard_state_t *hs);
/* Replaces the whole log by snap (data copied). RAFT_EINVAL if older. */
int raft_memstore_apply_snapshot(raft_memstore_t *ms, const raft_snapshot_t *snap);
/* Records a snapshot of the state at `index` (<= last index; data copied). */
int raft_memstore_create_snapshot(raft_memstore_t *ms, uint64_t index, const raft_conf_state_t *cs,
                                  const void *data, size_t len);
/* Discards entries up to `index` (<= snapshot index). */
int raft_memstore_compact(raft_memstore_t *ms, uint64_t index);
uint64_t raft_memstore_first_index(const raft_memstore_t *ms);
uint64_t raft_memstore_last_index(const raft_memstore_t *ms);
/* Borrowed entry at index i (valid until the next mutation) or NULL. */
const raft_entry_t *raft_memstore_entry(const raft_memstore_t *ms, uint64_t i);

#endif
