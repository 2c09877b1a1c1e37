/*
 * confchange.c - membership transitions (Raft dissertation §4.3, etcd-raft's
 * confchange package).
 *
 * A change of at most one voter under RAFT_CC_AUTO applies directly (§4.1:
 * any two majorities of configurations differing by one voter overlap).
 * Anything else enters a joint configuration: the current voters become the
 * outgoing set and the changes apply to the incoming set; the empty change
 * leaves it. A voter demoted while it is still an outgoing voter waits in
 * learners_next until the joint configuration is left.
 */
#include <string.h>

#include "raft/raft_int.h"

static void ids_remove(uint64_t *ids, uint8_t *n, uint64_t id)
{
    for (size_t i = 0; i < *n; i++) {
        if (ids[i] == id) {
            ids[i] = ids[--*n];
            return;
        }
    }
}

static int ids_add(uint64_t *ids, uint8_t *n, uint64_t id)
{
    if (raft__ids_contain(ids, *n, id)) {
        return 0;
    }
    if (*n == RAFT_MAX_MEMBERS) {
        return RAFT_ECONF_INVALID;
    }
    ids[(*n)++] = id;
    return 0;
}

static int make_voter(raft_conf_state_t *c, uint64_t id)
{
    ids_remove(c->learners, &c->n_learners, id);
    ids_remove(c->learners_next, &c->n_learners_next, id);
    return ids_add(c->voters, &c->n_voters, id);
}

static int make_learner(raft_conf_state_t *c, uint64_t id)
{
    if (raft__ids_contain(c->learners, c->n_learners, id)) {
        return 0;
    }
    ids_remove(c->voters, &c->n_voters, id);
    ids_remove(c->learners, &c->n_learners, id);
    ids_remove(c->learners_next, &c->n_learners_next, id);
    /* A node cannot be a learner and an outgoing voter at once. */
    if (raft__ids_contain(c->voters_outgoing, c->n_voters_outgoing, id)) {
        return ids_add(c->learners_next, &c->n_learners_next, id);
    }
    return ids_add(c->learners, &c->n_learners, id);
}

static void remove_node(raft_conf_state_t *c, uint64_t id)
{
    ids_remove(c->voters, &c->n_voters, id);
    ids_remove(c->learners, &c->n_learners, id);
    ids_remove(c->learners_next, &c->n_learners_next, id);
}

static int apply_changes(raft_conf_state_t *c, const raft_conf_change_t *cc)
{
    for (size_t i = 0; i < cc->n_changes; i++) {
        uint64_t id = cc->changes[i].node;
        int rc = 0;
        if (id == RAFT_NONE) {
            return RAFT_ECONF_INVALID;
        }
        switch (cc->changes[i].type) {
        case RAFT_CC_ADD_VOTER:
            rc = make_voter(c, id);
            break;
        case RAFT_CC_ADD_LEARNER:
            rc = make_learner(c, id);
            break;
        case RAFT_CC_REMOVE:
            remove_node(c, id);
            break;
        default:
            return RAFT_ECONF_INVALID;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return c->n_voters == 0 ? RAFT_ECONF_INVALID : 0;
}

/* Number of voters in exactly one of a and b. */
static size_t voters_delta(const raft_conf_state_t *a, const raft_conf_state_t *b)
{
    size_t d = 0;
    for (size_t i = 0; i < a->n_voters; i++) {
        d += !raft__ids_contain(b->voters, b->n_voters, a->voters[i]);
    }
    for (size_t i = 0; i < b->n_voters; i++) {
        d += !raft__ids_contain(a->voters, a->n_voters, b->voters[i]);
    }
    return d;
}

static int leave_joint(const raft_conf_state_t *cur, raft_conf_state_t *out)
{
    if (!raft__cs_is_joint(cur)) {
        return RAFT_ECONF_INVALID;
    }
    *out = *cur;
    for (size_t i = 0; i < cur->n_learners_next; i++) {
        int rc = ids_add(out->learners, &out->n_learners, cur->learners_next[i]);
        if (rc != 0) {
            return rc;
        }
    }
    out->n_learners_next = 0;
    out->n_voters_outgoing = 0;
    out->auto_leave = false;
    return 0;
}

/* Members a node must track; bounded by its progress table. */
static size_t n_members(const raft_conf_state_t *c)
{
    size_t n = c->n_voters + c->n_learners;
    for (size_t i = 0; i < c->n_voters_outgoing; i++) {
        n += !raft__ids_contain(c->voters, c->n_voters, c->voters_outgoing[i]);
    }
    return n; /* learners_next are outgoing voters, counted above */
}

/* A simple change, or entering a joint configuration. */
static int enter(const raft_conf_state_t *cur, const raft_conf_change_t *cc, raft_conf_state_t *out)
{
    if (raft__cs_is_joint(cur)) {
        return RAFT_ECONF_INVALID; /* leave the joint configuration first */
    }
    *out = *cur;
    bool joint = cc->transition == RAFT_CC_JOINT_EXPLICIT;
    int rc = apply_changes(out, cc);
    if (rc != 0) {
        return rc;
    }
    if (!joint && voters_delta(cur, out) <= 1) {
        return 0;
    }
    /* Enter joint consensus: redo the changes against the old voters as the
     * outgoing majority. */
    *out = *cur;
    memcpy(out->voters_outgoing, cur->voters, sizeof(cur->voters));
    out->n_voters_outgoing = cur->n_voters;
    out->auto_leave = !joint;
    return apply_changes(out, cc);
}

/* Computes in *out the configuration that results from applying cc to cur;
 * RAFT_ECONF_INVALID if cc does not fit cur. */
int raft__conf_apply(const raft_conf_state_t *cur, const raft_conf_change_t *cc,
                     raft_conf_state_t *out)
{
    int rc = cc->n_changes == 0 ? leave_joint(cur, out) : enter(cur, cc, out);
    if (rc == 0 && n_members(out) > 2 * RAFT_MAX_MEMBERS) {
        rc = RAFT_ECONF_INVALID;
    }
    return rc;
}
