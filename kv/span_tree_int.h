/*
 * span_tree_int.h - an intrusive interval tree of timestamped key spans,
 * shared by the latch manager (kv/latch.c) and the timestamp cache
 * (kv/tscache.c); not for other libraries.
 *
 * A span is [start, end) over byte strings compared like memcmp with the
 * shorter string first on a common prefix. A single key k is the span
 * [k, k\0): its end is k's immediate successor, written as a bound with
 * `succ` set so that no byte needs to be allocated for it.
 *
 * The tree is a treap ordered by (start, node address), so nodes with equal
 * starts coexist, and augmented with each subtree's greatest end and greatest
 * timestamp. That makes "every node overlapping [s, e)" O(log n + k) and lets
 * a max-timestamp query skip subtrees that cannot beat the best so far.
 *
 * Nodes are embedded in the callers' own structures and never allocated or
 * freed here; the key bytes a node's bounds point at are borrowed for as long
 * as the node is in a tree. Not thread-safe: callers lock.
 */
#ifndef KV_SPAN_TREE_INT_H
#define KV_SPAN_TREE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kv/mvcc.h"

/* `key` (len bytes), followed by one 0x00 byte when `succ` is set. */
typedef struct kv__bound {
    const uint8_t *key;
    size_t len;
    bool succ;
} kv__bound;

typedef struct kv__span_node {
    struct kv__span_node *left, *right;
    uint64_t prio; /* treap heap order: a parent's prio >= its children's */
    kv__bound start, end;
    kv_ts ts;
    /* Augmentation, maintained by the tree: the greatest end and the greatest
     * ts in the subtree rooted here. */
    const kv__bound *max_end;
    kv_ts max_ts;
} kv__span_node;

/* Memcmp-like order of the byte strings the bounds stand for. */
int kv__bound_cmp(const kv__bound *a, const kv__bound *b);

/* Fills `start` and `end` from a caller's span; `end` NULL means the single
 * key `start`. KV_EINVAL if the span is empty (end <= start). The bounds
 * borrow the caller's bytes. */
int kv__span_bounds(const void *start, size_t slen, const void *end, size_t elen, kv__bound *s,
                    kv__bound *e);

/* The next treap priority from a splitmix64 sequence in *state. */
uint64_t kv__span_prio(uint64_t *state);

/* Links `n` into the tree at *root. The caller has set n->start, n->end,
 * n->ts and n->prio; the links and augmentation are set here. */
void kv__span_tree_insert(kv__span_node **root, kv__span_node *n);

/* Unlinks `n`, which must be in the tree at *root. */
void kv__span_tree_remove(kv__span_node **root, kv__span_node *n);

/* Visits a node overlapping the queried span. Returning non-zero stops the
 * walk. The visitor must not change the tree. */
typedef int (*kv__span_visit_fn)(void *arg, kv__span_node *n);

/* Calls `visit` for every node overlapping [start, end) in start order.
 * With a non-NULL `floor`, subtrees whose greatest ts is below *floor are
 * skipped; the visitor may raise *floor as it goes. Returns what the last
 * visit returned (0 if the walk finished). */
int kv__span_tree_overlaps(kv__span_node *root, const kv__bound *start, const kv__bound *end,
                           const kv_ts *floor, kv__span_visit_fn visit, void *arg);

#endif /* KV_SPAN_TREE_INT_H */
