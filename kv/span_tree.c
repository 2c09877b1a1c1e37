/*
 * span_tree.c - the augmented treap behind latches and the timestamp cache
 * (contract in kv/span_tree_int.h).
 *
 * A treap keeps expected depth O(log n) with random priorities and needs no
 * rebalancing cases beyond two rotations, which is what keeps the subtree
 * augmentation (greatest end, greatest ts) easy to get right: every rotation
 * and every change of children recomputes it bottom-up.
 */
#include <assert.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/span_tree_int.h"

/* `a` holds a proper prefix of `b`'s bytes: compare a's optional trailing
 * 0x00 with the rest of b. */
static int bound_tail_cmp(const kv__bound *a, const kv__bound *b)
{
    if (!a->succ || b->key[a->len] != 0)
        return -1;
    /* a is p\0 and b begins with p\0: equal only if b stops right there. */
    return b->len == a->len + 1 && !b->succ ? 0 : -1;
}

int kv__bound_cmp(const kv__bound *a, const kv__bound *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n > 0 ? memcmp(a->key, b->key, n) : 0;
    if (c != 0)
        return c;
    if (a->len == b->len)
        return (int)a->succ - (int)b->succ;
    return a->len < b->len ? bound_tail_cmp(a, b) : -bound_tail_cmp(b, a);
}

int kv__span_bounds(const void *start, size_t slen, const void *end, size_t elen, kv__bound *s,
                    kv__bound *e)
{
    *s = (kv__bound){.key = start, .len = slen, .succ = false};
    if (end == NULL)
        *e = (kv__bound){.key = start, .len = slen, .succ = true};
    else
        *e = (kv__bound){.key = end, .len = elen, .succ = false};
    return kv__bound_cmp(e, s) > 0 ? 0 : KV_EINVAL;
}

uint64_t kv__span_prio(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void update(kv__span_node *n)
{
    n->max_end = &n->end;
    n->max_ts = n->ts;
    kv__span_node *kids[2] = {n->left, n->right};
    for (int i = 0; i < 2; i++) {
        if (kids[i] == NULL)
            continue;
        if (kv__bound_cmp(kids[i]->max_end, n->max_end) > 0)
            n->max_end = kids[i]->max_end;
        if (kv_ts_cmp(kids[i]->max_ts, n->max_ts) > 0)
            n->max_ts = kids[i]->max_ts;
    }
}

/* The tree order: by start, then by address so equal starts are distinct. */
static int node_cmp(const kv__span_node *a, const kv__span_node *b)
{
    int c = kv__bound_cmp(&a->start, &b->start);
    if (c != 0)
        return c;
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return (x > y) - (x < y);
}

static kv__span_node *rotate_right(kv__span_node *n)
{
    kv__span_node *l = n->left;
    n->left = l->right;
    l->right = n;
    update(n);
    update(l);
    return l;
}

static kv__span_node *rotate_left(kv__span_node *n)
{
    kv__span_node *r = n->right;
    n->right = r->left;
    r->left = n;
    update(n);
    update(r);
    return r;
}

static kv__span_node *insert(kv__span_node *root, kv__span_node *n)
{
    if (root == NULL) {
        n->left = n->right = NULL;
        update(n);
        return n;
    }
    if (node_cmp(n, root) < 0) {
        root->left = insert(root->left, n);
        if (root->left->prio > root->prio)
            return rotate_right(root);
    } else {
        root->right = insert(root->right, n);
        if (root->right->prio > root->prio)
            return rotate_left(root);
    }
    update(root);
    return root;
}

void kv__span_tree_insert(kv__span_node **root, kv__span_node *n)
{
    *root = insert(*root, n);
}

/* Joins two treaps where every node of `a` sorts before every node of `b`. */
static kv__span_node *merge(kv__span_node *a, kv__span_node *b)
{
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    if (a->prio >= b->prio) {
        a->right = merge(a->right, b);
        update(a);
        return a;
    }
    b->left = merge(a, b->left);
    update(b);
    return b;
}

static kv__span_node *remove_node(kv__span_node *root, kv__span_node *n)
{
    assert(root != NULL);
    if (root == n)
        return merge(n->left, n->right);
    if (node_cmp(n, root) < 0)
        root->left = remove_node(root->left, n);
    else
        root->right = remove_node(root->right, n);
    update(root);
    return root;
}

void kv__span_tree_remove(kv__span_node **root, kv__span_node *n)
{
    *root = remove_node(*root, n);
    n->left = n->right = NULL;
}

int kv__span_tree_overlaps(kv__span_node *root, const kv__bound *start, const kv__bound *end,
                           const kv_ts *floor, kv__span_visit_fn visit, void *arg)
{
    if (root == NULL || kv__bound_cmp(root->max_end, start) <= 0)
        return 0;
    if (floor != NULL && kv_ts_cmp(root->max_ts, *floor) < 0)
        return 0;
    int rc = kv__span_tree_overlaps(root->left, start, end, floor, visit, arg);
    if (rc != 0)
        return rc;
    /* Everything from here on starts at or after root->start. */
    if (kv__bound_cmp(&root->start, end) >= 0)
        return 0;
    if (kv__bound_cmp(&root->end, start) > 0 && (floor == NULL || kv_ts_cmp(root->ts, *floor) >= 0))
        rc = visit(arg, root);
    if (rc != 0)
        return rc;
    return kv__span_tree_overlaps(root->right, start, end, floor, visit, arg);
}
