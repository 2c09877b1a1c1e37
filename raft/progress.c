/*
 * progress.c - the leader's view of one peer (etcd-raft's tracker.Progress).
 *
 * PROBE: one APP at a time until the peer's match is found (after a
 * rejection or restart). REPLICATE: optimistic pipelining, next advances on
 * send, bounded by an in-flight window counted in messages and bytes.
 * SNAPSHOT: nothing is sent until the snapshot is reported done. See the Raft
 * dissertation §3.5 (nextIndex/matchIndex) and §10.2.1 (pipelining).
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft_int.h"

/* The in-flight ring is allocated here and freed by raft__pr_close. */
int raft__pr_init(raft__progress_t *pr, uint64_t id, uint64_t next, uint32_t max_msgs,
                  uint64_t max_bytes)
{
    memset(pr, 0, sizeof(*pr));
    pr->infl_index = calloc(max_msgs, sizeof(uint64_t));
    pr->infl_bytes = calloc(max_msgs, sizeof(uint64_t));
    if (!pr->infl_index || !pr->infl_bytes) {
        raft__pr_close(pr);
        return RAFT_ENOMEM;
    }
    pr->id = id;
    pr->next = next;
    pr->infl_cap = max_msgs;
    pr->infl_max_bytes = max_bytes;
    return 0;
}

void raft__pr_close(raft__progress_t *pr)
{
    free(pr->infl_index);
    free(pr->infl_bytes);
    pr->infl_index = pr->infl_bytes = NULL;
}

void raft__pr_reset_inflights(raft__progress_t *pr)
{
    pr->infl_start = pr->infl_count = 0;
    pr->infl_total_bytes = 0;
}

static void reset_state(raft__progress_t *pr, uint8_t state)
{
    pr->probe_sent = false;
    pr->pending_snapshot = 0;
    pr->state = state;
    raft__pr_reset_inflights(pr);
}

void raft__pr_become_probe(raft__progress_t *pr)
{
    /* After a snapshot, the peer holds at least the snapshot's entries. */
    if (pr->state == RAFT__PR_SNAPSHOT) {
        uint64_t snap = pr->pending_snapshot;
        reset_state(pr, RAFT__PR_PROBE);
        pr->next = (pr->match > snap ? pr->match : snap) + 1;
    } else {
        reset_state(pr, RAFT__PR_PROBE);
        pr->next = pr->match + 1;
    }
}

void raft__pr_become_replicate(raft__progress_t *pr)
{
    reset_state(pr, RAFT__PR_REPLICATE);
    pr->next = pr->match + 1;
}

void raft__pr_become_snapshot(raft__progress_t *pr, uint64_t snapi)
{
    reset_state(pr, RAFT__PR_SNAPSHOT);
    pr->pending_snapshot = snapi;
}

/* The peer acknowledged n durable: true if that is news. */
bool raft__pr_maybe_update(raft__progress_t *pr, uint64_t n)
{
    bool updated = false;
    if (pr->match < n) {
        pr->match = n;
        updated = true;
        pr->probe_sent = false;
    }
    if (pr->next < n + 1) {
        pr->next = n + 1;
    }
    return updated;
}

/* The peer rejected an APP at index `rejected`; match_hint is its guess of
 * the last index that may match. False when the rejection is stale. */
bool raft__pr_maybe_decr_to(raft__progress_t *pr, uint64_t rejected, uint64_t match_hint)
{
    if (pr->state == RAFT__PR_REPLICATE) {
        if (rejected <= pr->match) {
            return false;
        }
        pr->next = pr->match + 1;
        return true;
    }
    if (pr->next - 1 != rejected) {
        return false;
    }
    uint64_t next = rejected < match_hint + 1 ? rejected : match_hint + 1;
    pr->next = next > pr->match + 1 ? next : pr->match + 1;
    pr->probe_sent = false;
    return true;
}

static bool inflights_full(const raft__progress_t *pr)
{
    return pr->infl_count == pr->infl_cap ||
           (pr->infl_max_bytes != 0 && pr->infl_total_bytes >= pr->infl_max_bytes);
}

bool raft__pr_is_paused(const raft__progress_t *pr)
{
    switch (pr->state) {
    case RAFT__PR_PROBE:
        return pr->probe_sent;
    case RAFT__PR_REPLICATE:
        return inflights_full(pr);
    default:
        return true;
    }
}

/* Records an APP carrying ents (bytes of data) sent to the peer. */
void raft__pr_sent_entries(raft__progress_t *pr, const raft_entry_t *ents, size_t n, uint64_t bytes)
{
    if (pr->state == RAFT__PR_REPLICATE) {
        if (n > 0) {
            uint64_t last = ents[n - 1].index;
            pr->next = last + 1;
            assert(!inflights_full(pr));
            uint32_t slot = (pr->infl_start + pr->infl_count) % pr->infl_cap;
            pr->infl_index[slot] = last;
            pr->infl_bytes[slot] = bytes;
            pr->infl_count++;
            pr->infl_total_bytes += bytes;
        }
    } else if (pr->state == RAFT__PR_PROBE) {
        pr->probe_sent = true;
    }
}

/* Frees the in-flight slots of APPs up to `index`, now acknowledged. */
void raft__pr_free_le(raft__progress_t *pr, uint64_t index)
{
    while (pr->infl_count > 0 && pr->infl_index[pr->infl_start] <= index) {
        pr->infl_total_bytes -= pr->infl_bytes[pr->infl_start];
        pr->infl_start = (pr->infl_start + 1) % pr->infl_cap;
        pr->infl_count--;
    }
}

void raft__pr_free_first(raft__progress_t *pr)
{
    if (pr->infl_count > 0) {
        raft__pr_free_le(pr, pr->infl_index[pr->infl_start]);
    }
}
