/*
 * raft_int.h - layouts and internal helpers shared by the files of raft/.
 *
 * One file per concern: log.c (durable + unstable log), progress.c (per-peer
 * replication state), quorum.c (majority and joint quorums), confchange.c
 * (membership transitions), election.c, replication.c, read_only.c,
 * rawnode.c (public entry points, ready/advance), codec.c, memstore.c,
 * util.c (errors, arena, PRNG). Nothing here is visible to users.
 */
#ifndef TARDIGRADE_RAFT_INT_H
#define TARDIGRADE_RAFT_INT_H

#include "raft/raft.h"

/* Entries fetched for one APP at most (besides max_size_per_msg). */
#define RAFT__MAX_ENTS_PER_MSG 4096
/* Pending ReadIndex requests on a leader at most. */
#define RAFT__MAX_READS 1024

/* ---- util.c: bump arena ---------------------------------------------------------- */

/* A chunked bump allocator. Memory stays put until raft__arena_reset, which
 * keeps the chunks for reuse, so steady state allocates nothing. */
typedef struct raft__chunk raft__chunk_t;
typedef struct raft__arena {
    raft__chunk_t *head; /* all chunks */
    raft__chunk_t *cur;  /* chunk being filled */
} raft__arena_t;

void *raft__arena_alloc(raft__arena_t *a, size_t size);
void raft__arena_reset(raft__arena_t *a);
void raft__arena_free(raft__arena_t *a);

/* Grows *arr (elements of `size` bytes) to hold at least `need`. */
int raft__grow(void **arr, size_t *cap, size_t need, size_t size);

uint64_t raft__rand(uint64_t *state);

/* ---- log.c --------------------------------------------------------------------- */

/* The log: durable entries in the caller's storage, followed by entries not
 * yet reported durable ("unstable", owned here, data in `arena`). */
typedef struct raft__log {
    raft_storage_t storage;
    raft_snapshot_t *snap; /* unstable snapshot (malloc'd with its data) or NULL */
    raft_entry_t *ents;    /* unstable entries; ents[i].index == offset + i */
    size_t n, cap;
    uint64_t offset;
    raft__arena_t arena; /* data of ents; reset when ents becomes empty */
    uint64_t committed;
    uint64_t applied;
    raft_entry_t *scratch; /* buffer for storage reads */
    size_t scratch_cap;
} raft__log_t;

int raft__log_init(raft__log_t *l, const raft_storage_t *st);
void raft__log_close(raft__log_t *l);
uint64_t raft__log_first(const raft__log_t *l);
uint64_t raft__log_last(const raft__log_t *l);
uint64_t raft__log_last_stable(const raft__log_t *l);
int raft__log_term(raft__log_t *l, uint64_t i, uint64_t *t);
uint64_t raft__log_term_or0(raft__log_t *l, uint64_t i);
bool raft__log_match_term(raft__log_t *l, uint64_t i, uint64_t t);
bool raft__log_up_to_date(raft__log_t *l, uint64_t last_index, uint64_t last_term);
int raft__log_append(raft__log_t *l, const raft_entry_t *ents, size_t n);
int raft__log_maybe_append(raft__log_t *l, const raft_msg_t *m, uint64_t *last_new, bool *ok);
void raft__log_find_conflict_by_term(raft__log_t *l, uint64_t index, uint64_t term,
                                     uint64_t *out_index, uint64_t *out_term);
int raft__log_slice(raft__log_t *l, uint64_t lo, uint64_t hi, uint64_t max_size,
                    const raft_entry_t **out, size_t *n);
void raft__log_commit_to(raft__log_t *l, uint64_t c);
bool raft__log_maybe_commit(raft__log_t *l, uint64_t index, uint64_t term);
void raft__log_stable_to(raft__log_t *l, uint64_t i, uint64_t t);
void raft__log_stable_snap_to(raft__log_t *l, uint64_t i);
int raft__log_restore(raft__log_t *l, const raft_snapshot_t *s);
int raft__log_snapshot(raft__log_t *l, raft_snapshot_t *s);
bool raft__log_has_next_committed(const raft__log_t *l);

/* ---- progress.c ------------------------------------------------------------------- */

typedef enum {
    RAFT__PR_PROBE = 0,
    RAFT__PR_REPLICATE = 1,
    RAFT__PR_SNAPSHOT = 2,
} raft__pr_state_t;

/* What the leader knows of one peer's log (dissertation §3.5, §10.2.1). */
typedef struct raft__progress {
    uint64_t id;
    uint64_t match, next;
    uint8_t state;
    bool probe_sent; /* PROBE: one APP outstanding, wait for its answer */
    bool recent_active;
    bool is_learner;
    uint64_t pending_snapshot;
    /* in-flight APPs: ring of (last index, bytes) */
    uint64_t *infl_index;
    uint64_t *infl_bytes;
    uint32_t infl_start, infl_count, infl_cap;
    uint64_t infl_total_bytes;
    uint64_t infl_max_bytes;
    uint64_t acked_round; /* highest ReadIndex heartbeat round echoed */
} raft__progress_t;

int raft__pr_init(raft__progress_t *pr, uint64_t id, uint64_t next, uint32_t max_msgs,
                  uint64_t max_bytes);
void raft__pr_close(raft__progress_t *pr);
void raft__pr_become_probe(raft__progress_t *pr);
void raft__pr_become_replicate(raft__progress_t *pr);
void raft__pr_become_snapshot(raft__progress_t *pr, uint64_t snapi);
bool raft__pr_maybe_update(raft__progress_t *pr, uint64_t n);
bool raft__pr_maybe_decr_to(raft__progress_t *pr, uint64_t rejected, uint64_t match_hint);
bool raft__pr_is_paused(const raft__progress_t *pr);
void raft__pr_sent_entries(raft__progress_t *pr, const raft_entry_t *ents, size_t n,
                           uint64_t bytes);
void raft__pr_free_le(raft__progress_t *pr, uint64_t index);
void raft__pr_free_first(raft__progress_t *pr);
void raft__pr_reset_inflights(raft__progress_t *pr);

/* ---- quorum.c ---------------------------------------------------------------------- */

typedef enum { RAFT__VOTE_PENDING, RAFT__VOTE_LOST, RAFT__VOTE_WON } raft__vote_result_t;

/* Looks up a voter's acknowledged index (or vote: 1 yes, 0 no, -1 missing). */
typedef uint64_t (*raft__index_fn)(void *ud, uint64_t id);
typedef int (*raft__vote_fn)(void *ud, uint64_t id);

bool raft__ids_contain(const uint64_t *ids, size_t n, uint64_t id);
uint64_t raft__joint_committed(const raft_conf_state_t *cs, raft__index_fn fn, void *ud);
raft__vote_result_t raft__joint_vote(const raft_conf_state_t *cs, raft__vote_fn fn, void *ud);
bool raft__cs_is_joint(const raft_conf_state_t *cs);
bool raft__cs_is_voter(const raft_conf_state_t *cs, uint64_t id);
bool raft__cs_is_member(const raft_conf_state_t *cs, uint64_t id);

/* ---- confchange.c ---------------------------------------------------------------- */

int raft__conf_apply(const raft_conf_state_t *cur, const raft_conf_change_t *cc,
                     raft_conf_state_t *out);

/* ---- the node ------------------------------------------------------------------ */

typedef struct raft__read {
    uint64_t index;   /* commit index when the read arrived */
    uint64_t context; /* caller's id */
    uint64_t from;    /* node to answer (self: read state) */
    uint64_t round;   /* heartbeat round confirming leadership */
} raft__read_t;

typedef struct raft__outbox {
    raft_msg_t *msgs;
    size_t n, cap;
} raft__outbox_t;

struct raft_node {
    raft_config_t cfg;
    uint64_t id;
    uint64_t term, vote, lead;
    uint8_t role;
    raft__log_t log;

    raft_conf_state_t conf;
    raft__progress_t prs[2 * RAFT_MAX_MEMBERS];
    size_t n_prs;
    uint64_t votes_id[2 * RAFT_MAX_MEMBERS];
    int8_t votes_granted[2 * RAFT_MAX_MEMBERS];
    size_t n_votes;
    bool is_learner;

    int election_elapsed, heartbeat_elapsed, randomized_timeout;
    uint64_t lead_transferee;
    uint64_t pending_conf_index;
    uint64_t uncommitted_size;
    uint64_t prng;

    /* ReadIndex (§6.4): requests waiting for a heartbeat quorum, in order */
    raft__read_t reads[RAFT__MAX_READS];
    size_t n_reads;
    uint64_t read_round;                    /* last heartbeat round sent */
    raft__read_t deferred[RAFT__MAX_READS]; /* before first commit in term */
    size_t n_deferred;
    raft_read_state_t *read_states;
    size_t n_read_states, read_states_cap;

    /* outgoing messages and what they point to, until raft_advance */
    raft__outbox_t out_now, out_persist;
    /* Two arenas used in turn: raft_advance switches to the other one, so
     * the consumed ready stays readable while advance produces messages. */
    raft__arena_t out_arena[2];
    int cur_arena;
    raft_entry_t *prop; /* entry headers of a proposal being appended */
    size_t prop_cap;

    raft_hard_state_t prev_hs;
    uint64_t prev_lead;
    uint8_t prev_role;
    bool ready_out;            /* a ready is outstanding */
    bool append_pending;       /* leader: proposals not yet sent to followers */
    bool campaign_after_apply; /* TimeoutNow received with changes to apply */
};

/* rawnode.c */
int raft__send(raft_node_t *r, raft_msg_t *m);
int raft__copy_entries(raft_node_t *r, const raft_entry_t *src, size_t n, raft_entry_t **dst);
raft__progress_t *raft__progress(raft_node_t *r, uint64_t id);
int raft__switch_config(raft_node_t *r, const raft_conf_state_t *cs);

/* election.c */
void raft__become_follower(raft_node_t *r, uint64_t term, uint64_t lead);
int raft__become_leader(raft_node_t *r);
int raft__hup(raft_node_t *r, bool transfer);
int raft__step(raft_node_t *r, const raft_msg_t *m);
int raft__tick(raft_node_t *r);
void raft__reset(raft_node_t *r, uint64_t term);
bool raft__promotable(const raft_node_t *r);

/* replication.c */
int raft__maybe_send_append(raft_node_t *r, uint64_t to, bool send_if_empty, bool *sent);
int raft__bcast_append(raft_node_t *r);
int raft__flush_appends(raft_node_t *r);
int raft__bcast_heartbeat(raft_node_t *r, uint64_t round);
bool raft__maybe_commit(raft_node_t *r);
int raft__append_entries(raft_node_t *r, raft_entry_t *ents, size_t n);
int raft__handle_append(raft_node_t *r, const raft_msg_t *m);
int raft__handle_heartbeat(raft_node_t *r, const raft_msg_t *m);
int raft__handle_snapshot(raft_node_t *r, const raft_msg_t *m);
int raft__leader_step(raft_node_t *r, const raft_msg_t *m);
int raft__send_timeout_now(raft_node_t *r, uint64_t to);
bool raft__committed_in_term(raft_node_t *r);

/* read_only.c */
int raft__read_request(raft_node_t *r, uint64_t context, uint64_t from);
int raft__read_ack(raft_node_t *r, raft__progress_t *pr, uint64_t round);
int raft__release_deferred_reads(raft_node_t *r);
int raft__add_read_state(raft_node_t *r, uint64_t index, uint64_t context);
void raft__reads_reset(raft_node_t *r);

#endif
