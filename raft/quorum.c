/*
 * quorum.c - majority and joint quorums (Raft dissertation §4.3: during
 * joint consensus, agreement needs separate majorities of both the old and
 * the new configuration).
 */
#include <string.h>

#include "raft/raft_int.h"

bool raft__ids_contain(const uint64_t *ids, size_t n, uint64_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == id) {
            return true;
        }
    }
    return false;
}

bool raft__cs_is_joint(const raft_conf_state_t *cs)
{
    return cs->n_voters_outgoing > 0;
}

bool raft__cs_is_voter(const raft_conf_state_t *cs, uint64_t id)
{
    return raft__ids_contain(cs->voters, cs->n_voters, id) ||
           raft__ids_contain(cs->voters_outgoing, cs->n_voters_outgoing, id);
}

bool raft__cs_is_member(const raft_conf_state_t *cs, uint64_t id)
{
    return raft__cs_is_voter(cs, id) || raft__ids_contain(cs->learners, cs->n_learners, id) ||
           raft__ids_contain(cs->learners_next, cs->n_learners_next, id);
}

/* Largest index acknowledged by a majority of ids; UINT64_MAX for an empty
 * set so that a non-joint configuration is not constrained by it. */
static uint64_t majority_committed(const uint64_t *ids, size_t n, raft__index_fn fn, void *ud)
{
    if (n == 0) {
        return UINT64_MAX;
    }
    uint64_t v[RAFT_MAX_MEMBERS];
    for (size_t i = 0; i < n; i++) {
        uint64_t x = fn(ud, ids[i]);
        size_t j = i;
        for (; j > 0 && v[j - 1] < x; j--) {
            v[j] = v[j - 1];
        }
        v[j] = x;
    }
    return v[n / 2]; /* descending: the (n/2+1)-th largest */
}

uint64_t raft__joint_committed(const raft_conf_state_t *cs, raft__index_fn fn, void *ud)
{
    uint64_t a = majority_committed(cs->voters, cs->n_voters, fn, ud);
    uint64_t b = majority_committed(cs->voters_outgoing, cs->n_voters_outgoing, fn, ud);
    return a < b ? a : b;
}

static raft__vote_result_t majority_vote(const uint64_t *ids, size_t n, raft__vote_fn fn, void *ud)
{
    if (n == 0) {
        return RAFT__VOTE_WON;
    }
    size_t yes = 0, missing = 0, q = n / 2 + 1;
    for (size_t i = 0; i < n; i++) {
        int v = fn(ud, ids[i]);
        yes += v == 1;
        missing += v < 0;
    }
    if (yes >= q) {
        return RAFT__VOTE_WON;
    }
    return yes + missing >= q ? RAFT__VOTE_PENDING : RAFT__VOTE_LOST;
}

raft__vote_result_t raft__joint_vote(const raft_conf_state_t *cs, raft__vote_fn fn, void *ud)
{
    raft__vote_result_t a = majority_vote(cs->voters, cs->n_voters, fn, ud);
    raft__vote_result_t b = majority_vote(cs->voters_outgoing, cs->n_voters_outgoing, fn, ud);
    if (a == b) {
        return a;
    }
    if (a == RAFT__VOTE_LOST || b == RAFT__VOTE_LOST) {
        return RAFT__VOTE_LOST;
    }
    return RAFT__VOTE_PENDING;
}
