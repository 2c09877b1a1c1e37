/*
 * sim.h - a deterministic in-process cluster for raft/ tests.
 *
 * N nodes (ids 1..SIM_MAX_NODES) each with a raft_memstore_t standing for
 * their disk, connected by a simulated network carrying encoded messages
 * (raft_msg_encode/decode) that can drop, duplicate, reorder (deliver any
 * queued message) and partition. A crash frees the raft node and keeps only
 * the memstore, i.e. exactly what was reported durable.
 *
 * After every operation a checker verifies Raft's safety properties: one
 * leader per term, log matching (per (index, term) one command and one
 * predecessor term), leader completeness, identical state machines at equal
 * applied indices, committed entries never lost, ReadIndex answers covering
 * every write committed before the read began. The first violation is kept
 * in sim_error() and sim_ok() turns false.
 */
#ifndef TARDIGRADE_TESTS_RAFT_SIM_H
#define TARDIGRADE_TESTS_RAFT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/raft.h"

#define SIM_MAX_NODES 7

typedef struct sim sim_t;

enum sim_crash_point {
    SIM_CRASH_NONE = 0,
    SIM_CRASH_BEFORE_PERSIST, /* after sending ready.msgs, nothing durable */
    SIM_CRASH_AFTER_PERSIST,  /* durable, but persist_msgs never sent */
};

/* Creates voters 1..n_voters from tmpl (id and storage are filled in; each
 * node's seed is derived from `seed`). Returns NULL on failure. */
sim_t *sim_new(int n_voters, const raft_config_t *tmpl, uint64_t seed);
void sim_free(sim_t *s);
/* Default template: election 10, heartbeat 1, no pre-vote/check-quorum. */
raft_config_t sim_default_config(void);

raft_node_t *sim_raft(sim_t *s, uint64_t id);
raft_memstore_t *sim_store(sim_t *s, uint64_t id);
/* Starts a node with an empty log and the bootstrap configuration. */
int sim_add_node(sim_t *s, uint64_t id);
void sim_crash(sim_t *s, uint64_t id);
int sim_restart(sim_t *s, uint64_t id);
bool sim_up(sim_t *s, uint64_t id);
/* Makes the next ready cycle of id crash at `point`. */
void sim_crash_next_ready(sim_t *s, uint64_t id, int point);

void sim_isolate(sim_t *s, uint64_t id);
void sim_cut(sim_t *s, uint64_t a, uint64_t b);
void sim_heal(sim_t *s);
void sim_set_faults(sim_t *s, int drop_pct, int dup_pct);

size_t sim_queue_len(const sim_t *s);
/* Type, from and to of queued message k. */
void sim_queue_peek(const sim_t *s, size_t k, uint8_t *type, uint64_t *from, uint64_t *to);
/* Decodes queued message k into *m (valid until the next sim call). */
void sim_queue_msg(sim_t *s, size_t k, raft_msg_t *m);
/* Delivers (or, under faults/partitions, drops) queued message k. */
void sim_deliver(sim_t *s, size_t k);
void sim_drop(sim_t *s, size_t k);
/* Drops every queued message of `type` (0: any) from `from` (0: any). */
size_t sim_drop_matching(sim_t *s, uint8_t type, uint64_t from, uint64_t to);
size_t sim_count_matching(const sim_t *s, uint8_t type, uint64_t from, uint64_t to);

/* Runs one ready cycle on id (if it has one). */
void sim_process(sim_t *s, uint64_t id);
void sim_process_all(sim_t *s);
/* Delivers in FIFO order and processes readies until nothing moves. */
void sim_settle(sim_t *s);
void sim_tick(sim_t *s, uint64_t id);
/* k rounds of: tick every up node once, then settle. */
void sim_tick_all(sim_t *s, int k);
/* Campaigns at id, settles, returns the leader then known to id. */
uint64_t sim_elect(sim_t *s, uint64_t id);
/* The up leader with the highest term, or 0. */
uint64_t sim_leader(sim_t *s);
int sim_propose(sim_t *s, uint64_t id, const char *cmd);
int sim_conf_change(sim_t *s, uint64_t id, uint8_t type, uint64_t node);
/* Issues a ReadIndex at id with a fresh context, returned in *ctx. */
int sim_read(sim_t *s, uint64_t id, uint64_t *ctx);
/* True once the read with ctx was answered; *index is its read index. */
bool sim_read_done(const sim_t *s, uint64_t ctx, uint64_t *index);
/* Snapshot at id's applied index, then compact all but `keep` entries. */
int sim_compact(sim_t *s, uint64_t id, uint64_t keep);

uint64_t sim_applied(const sim_t *s, uint64_t id);
uint64_t sim_commit(sim_t *s, uint64_t id);
/* Hash of id's state machine (the chain of applied entries). */
uint64_t sim_state(const sim_t *s, uint64_t id);
/* Number of applied entries whose data equals cmd. */
int sim_applied_count(const sim_t *s, uint64_t id, const char *cmd);

bool sim_ok(const sim_t *s);
const char *sim_error(const sim_t *s);
uint64_t sim_rand(sim_t *s);

/* ---- a lone node driven by hand --------------------------------------------------- */

/* A node `id` over a fresh memstore (*ms) whose configuration has voters
 * 1..n_voters; NULL on failure. Free both with sim_solo_free. */
raft_node_t *sim_solo(const raft_config_t *tmpl, uint64_t id, int n_voters, raft_memstore_t **ms);
void sim_solo_free(raft_node_t *r, raft_memstore_t *ms);
/* Persists rd into ms as a caller must before raft_advance. */
void sim_solo_persist(raft_memstore_t *ms, const raft_ready_t *rd);
/* The first message of `type` in rd.msgs (persist=false) or
 * rd.persist_msgs (persist=true), or NULL. */
const raft_msg_t *sim_find_msg(const raft_ready_t *rd, uint8_t type, bool persist);
/* Runs ready/persist/advance once; returns the number of messages. */
size_t sim_solo_cycle(raft_node_t *r, raft_memstore_t *ms);

#endif
