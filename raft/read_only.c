/*
 * read_only.c - linearizable reads without log writes (Raft dissertation
 * §6.4, etcd-raft's read_only.go).
 *
 * ReadIndex: the leader records its commit index as the read index, then
 * confirms it is still the leader by a round of heartbeats acknowledged by a
 * quorum; the read is served once the state machine has applied the read
 * index. A new leader does not know the latest commit index until it has
 * committed an entry of its own term (§6.4 step 1), so reads arriving before
 * that wait in `deferred`. Each read gets the number of the heartbeat round
 * sent after it arrived; any later round echoed by a quorum confirms it.
 * With RAFT_READ_LEASE the heartbeat round is skipped (§6.4.1): safe only
 * with check_quorum and bounded clock drift.
 */
#include "raft/raft_int.h"

int raft__add_read_state(raft_node_t *r, uint64_t index, uint64_t context)
{
    int rc = raft__grow((void **)&r->read_states, &r->read_states_cap, r->n_read_states + 1,
                        sizeof(*r->read_states));
    if (rc == 0) {
        r->read_states[r->n_read_states++] = (raft_read_state_t){index, context};
    }
    return rc;
}

static int respond(raft_node_t *r, const raft__read_t *rd)
{
    if (rd->from == r->id || rd->from == RAFT_NONE) {
        return raft__add_read_state(r, rd->index, rd->context);
    }
    raft_msg_t m = {.type = RAFT_MSG_READ_INDEX_RESP,
                    .to = rd->from,
                    .index = rd->index,
                    .context = rd->context};
    return raft__send(r, &m);
}

static bool single_voter(const raft_node_t *r)
{
    return r->conf.n_voters == 1 && r->conf.n_voters_outgoing == 0 && r->conf.voters[0] == r->id;
}

int raft__read_request(raft_node_t *r, uint64_t context, uint64_t from)
{
    raft__read_t rd = {.index = r->log.committed, .context = context, .from = from};
    if (!raft__committed_in_term(r)) {
        if (r->n_deferred == RAFT__MAX_READS) {
            return RAFT_EDROPPED;
        }
        r->deferred[r->n_deferred++] = rd;
        return 0;
    }
    if (single_voter(r) || r->cfg.read_only == RAFT_READ_LEASE) {
        return respond(r, &rd);
    }
    if (r->n_reads == RAFT__MAX_READS) {
        return RAFT_EDROPPED;
    }
    rd.round = ++r->read_round;
    r->reads[r->n_reads++] = rd;
    return raft__bcast_heartbeat(r, rd.round);
}

/* The leader has just committed an entry of its term: serve waiting reads. */
int raft__release_deferred_reads(raft_node_t *r)
{
    size_t n = r->n_deferred;
    r->n_deferred = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = raft__read_request(r, r->deferred[i].context, r->deferred[i].from);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static uint64_t round_of(void *ud, uint64_t id)
{
    raft_node_t *r = ud;
    raft__progress_t *pr = raft__progress(r, id);
    if (!pr) {
        return 0;
    }
    return id == r->id ? r->read_round : pr->acked_round;
}

/* pr echoed heartbeat `round`: answer every read whose round a quorum has
 * now confirmed, oldest first. */
int raft__read_ack(raft_node_t *r, raft__progress_t *pr, uint64_t round)
{
    if (round > r->read_round) {
        return 0; /* from a previous term's rounds; cannot confirm ours */
    }
    if (round > pr->acked_round) {
        pr->acked_round = round;
    }
    uint64_t confirmed = raft__joint_committed(&r->conf, round_of, r);
    size_t done = 0;
    while (done < r->n_reads && r->reads[done].round <= confirmed) {
        int rc = respond(r, &r->reads[done]);
        if (rc != 0) {
            return rc;
        }
        done++;
    }
    for (size_t i = done; i < r->n_reads; i++) {
        r->reads[i - done] = r->reads[i];
    }
    r->n_reads -= done;
    return 0;
}

void raft__reads_reset(raft_node_t *r)
{
    r->n_reads = 0;
    r->n_deferred = 0;
    r->read_round = 0;
}
