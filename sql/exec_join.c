/*
 * exec_join.c - running a join tree (plan_join_int.h, sql__join_run).
 *
 * Every node writes its slots into one joined row and calls its parent
 * with it. A leaf copies each scanned row into its slots. A hash join
 * first runs its inner side and keeps copies of that side's slots in a
 * hash table keyed by the inner key values (written with the canonical
 * key encoding, as aggregation groups them, so values that compare
 * equal meet); then it runs its outer side and, for each outer row,
 * restores every held row with equal keys into the joined row, checks
 * the rest of the condition and passes matches up. A nested loop is the
 * same with no keys: every held row is a candidate. NULL keys never
 * match. Outer joins:
 *   preserved outer side: an outer row without a match goes up with the
 *                         inner slots NULL;
 *   preserved inner side: after the outer side is done, each held row
 *                         that never matched goes up with the outer
 *                         slots NULL.
 * A FULL JOIN's merged USING columns are computed on the way up, then
 * the node's filter (WHERE conjuncts that must see the NULL-extended
 * rows) applies. Since each node runs once, no side is ever rescanned.
 *
 * A lookup join holds LOOKUP_BATCH outer rows with the key (or key
 * prefix) each looks up in the primary or a secondary index of the
 * inner table, fetches each distinct key once (outer rows of a
 * many-to-one join share it) in one KV batch (sql__lookup; index
 * entries then name rows fetched in a second batch, unless the index
 * holds every column read), and passes each found row that meets the
 * condition up with its outer row; outer rows that found none go up
 * NULL-extended when the outer side is preserved.
 *
 * Memory: held rows and their payloads are copied into the statement
 * arena and charged to the execution's budget ("hash join", 53200 past
 * SQL__QUERY_MEM_BUDGET); keys of probing rows live in the arena of the
 * scan batch that produced the row; a lookup batch's rows and keys in an
 * arena of their own, freed after the batch.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sql/plan_join_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"

#define CANCEL_EVERY 4096

typedef struct jrun {
    const sql__join *j;
    sql_run_ctx *ctx;
    sql__membudget *mem;
    kv_arena *arena;
    sql_datum *row; /* the joined row */
    uint64_t probes;
    sql_error *err;
} jrun;

/* A row of the inner side, held in memory. */
typedef struct held {
    struct held *next;  /* in its bucket */
    struct held *after; /* in arrival order */
    uint64_t hash;
    size_t keylen;
    const uint8_t *key;
    bool matched;
    sql_datum vals[]; /* the inner side's slots */
} held;

/* One node's execution. */
typedef struct nrun {
    jrun *r;
    const sql__jnode *n;
    sql__row_cb cb; /* the parent's */
    void *cb_arg;
    held **buckets;
    size_t nbuckets, count;
    held *all, **last;
} nrun;

static int run_node(jrun *r, const sql__jnode *n, sql__row_cb cb, void *cb_arg);

/* ---- leaves ---------------------------------------------------------- */

typedef struct leafrun {
    jrun *r;
    const sql__jnode *n;
    sql__row_cb cb;
    void *cb_arg;
} leafrun;

static int leaf_row(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    leafrun *lr = arg;
    memcpy(lr->r->row + lr->n->first, row, (size_t)lr->n->nslots * sizeof(*row));
    return lr->cb(lr->cb_arg, lr->r->row, arena, err);
}

/* A result row of a leaf without a table, on to leaf_row. */
static int leaf_result(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    leafrun *lr = arg;
    assert(n == (size_t)lr->n->nslots);
    (void)n;
    return leaf_row(arg, vals, lr->r->arena, err);
}

/* A leaf's rows: its table's through the access path, or the result
 * rows of its plan (a subquery, function or WITH query: exec_select.c
 * runs it, its filter holding the conjuncts pushed down). */
static int run_leaf(jrun *r, const sql__jnode *n, sql__row_cb cb, void *cb_arg)
{
    leafrun lr = {r, n, cb, cb_arg};
    if (n->scan->table != NULL)
        return sql__scan(n->scan, &n->scan->proj, r->ctx, 0, leaf_row, NULL, &lr, r->arena, r->err);
    sql_run_ctx in = *r->ctx;
    in.row = leaf_result;
    in.row_arg = &lr;
    uint64_t rows;
    return sql__run_select(n->scan, &in, r->arena, &rows, r->err);
}

/* ---- joins ------------------------------------------------------------ */

static bool outer_preserved(const sql__jnode *n)
{
    return n->kind == SQL_JOIN_FULL || (n->kind == SQL_JOIN_LEFT && !n->inner_left) ||
           (n->kind == SQL_JOIN_RIGHT && n->inner_left);
}

static bool inner_preserved(const sql__jnode *n)
{
    return n->kind == SQL_JOIN_FULL || (n->kind == SQL_JOIN_LEFT && n->inner_left) ||
           (n->kind == SQL_JOIN_RIGHT && !n->inner_left);
}

/* The encoded values of keys[0..n->nkeys) over the joined row in `kb`;
 * 1 when one is NULL (it matches nothing). */
static int eval_keys(nrun *nr, const sql_bexpr *const *keys, kv_arena *arena, sql_keybuf *kb)
{
    const sql__jnode *n = nr->n;
    sql_eval_ctx ec;
    sql__eval_init(&ec, nr->r->ctx, nr->r->row, arena, nr->r->err);
    sql_keybuf_init(kb, arena);
    for (int i = 0; i < n->nkeys; i++) {
        sql_datum d;
        if (sql_expr_eval(&ec, keys[i], &d) != 0)
            return -1;
        if (d.isnull)
            return 1;
        if (sql_key_put(kb, n->keytypes[i], SQL_KEY_ASC, false, &d, nr->r->err) != 0)
            return -1;
    }
    return 0;
}

static int grow_buckets(nrun *nr)
{
    size_t n = nr->nbuckets ? 2 * nr->nbuckets : 64;
    held **b = sql__mem_charge(nr->r->mem, nr->r->arena, n * sizeof(*b), "hash join", nr->r->err);
    if (b == NULL)
        return -1;
    memset(b, 0, n * sizeof(*b));
    for (held *h = nr->all; h != NULL; h = h->after) {
        if (h->key == NULL)
            continue;
        h->next = b[h->hash & (n - 1)];
        b[h->hash & (n - 1)] = h;
    }
    nr->buckets = b;
    nr->nbuckets = n;
    return 0;
}

/* Copies the inner side's slots and keys into a held row. */
static int hold(nrun *nr, const sql_keybuf *kb, bool null_key, held **out)
{
    jrun *r = nr->r;
    const sql__jnode *in = nr->n->inner;
    size_t size = sizeof(held) + (size_t)in->nslots * sizeof(sql_datum) + kb->len;
    held *h = sql__mem_charge(r->mem, r->arena, size, "hash join", r->err);
    if (h == NULL)
        return -1;
    *h = (held){.hash = XXH3_64bits(kb->p, kb->len), .keylen = kb->len};
    for (int i = 0; i < in->nslots; i++) {
        int s = in->slots[i];
        sql_type_id t = r->j->types[s].oid;
        if (sql__mem_account(r->mem, r->arena, sql__datum_payload(t, &r->row[s]), "hash join",
                             r->err) != 0 ||
            sql_datum_copy(t, &r->row[s], r->arena, &h->vals[i], r->err) != 0)
            return -1;
    }
    if (!null_key) {
        uint8_t *key = (uint8_t *)&h->vals[in->nslots];
        if (kb->len > 0) /* a nested loop's key is empty (p may be NULL) */
            memcpy(key, kb->p, kb->len);
        h->key = key;
    }
    *out = h;
    return 0;
}

static int build_row(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    nrun *nr = arg;
    (void)row;
    (void)err;
    sql_keybuf kb;
    int rc = eval_keys(nr, nr->n->ikeys, arena, &kb);
    if (rc < 0)
        return -1;
    if (rc == 1 && !inner_preserved(nr->n))
        return 0;
    held *h;
    if (hold(nr, &kb, rc == 1, &h) != 0)
        return -1;
    /* grow before h joins `all`: growing rehashes all, and h must enter
     * its bucket once (twice would make the chain a cycle) */
    if (h->key != NULL && nr->count >= nr->nbuckets && grow_buckets(nr) != 0)
        return -1;
    *nr->last = h;
    nr->last = &h->after;
    if (h->key == NULL)
        return 0;
    h->next = nr->buckets[h->hash & (nr->nbuckets - 1)];
    nr->buckets[h->hash & (nr->nbuckets - 1)] = h;
    nr->count++;
    return 0;
}

static void set_slots(jrun *r, const sql__jnode *side, const held *h)
{
    for (int i = 0; i < side->nslots; i++) {
        if (h != NULL)
            r->row[side->slots[i]] = h->vals[i];
        else
            r->row[side->slots[i]] = (sql_datum){.isnull = true};
    }
}

static int eval_true(jrun *r, const sql_bexpr *e, kv_arena *arena, bool *yes)
{
    *yes = true;
    if (e == NULL)
        return 0;
    sql_eval_ctx ec;
    sql_tribool ok;
    sql__eval_init(&ec, r->ctx, r->row, arena, r->err);
    if (sql_expr_eval_bool(&ec, e, &ok) != 0)
        return -1;
    *yes = ok == SQL_TRUE;
    return 0;
}

/* Completes a joined row (FULL JOIN's merged columns), filters it and
 * passes it up. */
static int emit(nrun *nr, kv_arena *arena)
{
    jrun *r = nr->r;
    const sql__jnode *n = nr->n;
    for (int i = 0; i < n->nmerged; i++) {
        const sql_datum *l = &r->row[n->from[2 * i]];
        r->row[n->merged[i]] = l->isnull ? r->row[n->from[2 * i + 1]] : *l;
    }
    bool pass;
    if (eval_true(r, n->filter, arena, &pass) != 0)
        return -1;
    return pass ? nr->cb(nr->cb_arg, r->row, arena, r->err) : 0;
}

static int probe_row(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    nrun *nr = arg;
    jrun *r = nr->r;
    (void)row;
    sql_keybuf kb;
    int rc = eval_keys(nr, nr->n->okeys, arena, &kb);
    if (rc < 0)
        return -1;
    bool matched = false;
    uint64_t hash = XXH3_64bits(kb.p, kb.len);
    held *h = rc == 0 && nr->nbuckets > 0 ? nr->buckets[hash & (nr->nbuckets - 1)] : NULL;
    for (; h != NULL; h = h->next) {
        if (++r->probes % CANCEL_EVERY == 0 && sql_txn_check_cancel(r->ctx->cancel, err, arena))
            return -1;
        if (h->hash != hash || h->keylen != kb.len ||
            (kb.len > 0 && memcmp(h->key, kb.p, kb.len) != 0))
            continue;
        bool pass;
        set_slots(r, nr->n->inner, h);
        if (eval_true(r, nr->n->cond, arena, &pass) != 0)
            return -1;
        if (!pass)
            continue;
        h->matched = matched = true;
        if ((rc = emit(nr, arena)) != 0)
            return rc;
    }
    if (matched || !outer_preserved(nr->n))
        return 0;
    set_slots(r, nr->n->inner, NULL);
    return emit(nr, arena);
}

/* The held rows that never matched, outer slots NULL. */
static int emit_unmatched(nrun *nr)
{
    jrun *r = nr->r;
    set_slots(r, nr->n->outer, NULL);
    for (held *h = nr->all; h != NULL; h = h->after) {
        if (h->matched)
            continue;
        set_slots(r, nr->n->inner, h);
        int rc = emit(nr, r->arena);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    return 0;
}

/* Stops the outer side once the parent wants no more rows. */
typedef struct stopper {
    sql__row_cb cb;
    void *arg;
    bool stopped;
} stopper;

static int stop_row(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    stopper *st = arg;
    int rc = st->cb(st->arg, row, arena, err);
    st->stopped |= rc == 1;
    return rc;
}

static int run_join(jrun *r, const sql__jnode *n, sql__row_cb cb, void *cb_arg)
{
    stopper st = {cb, cb_arg, false};
    nrun nr = {.r = r, .n = n, .cb = stop_row, .cb_arg = &st};
    nr.last = &nr.all;
    if (grow_buckets(&nr) != 0 || run_node(r, n->inner, build_row, &nr) != 0)
        return -1;
    if (nr.all == NULL && !outer_preserved(n))
        return 0;
    if (run_node(r, n->outer, probe_row, &nr) != 0)
        return -1;
    if (st.stopped || !inner_preserved(n))
        return 0;
    return emit_unmatched(&nr);
}

/* ---- lookup joins ------------------------------------------------------ */

/* Outer rows per KV batch of lookups. */
#define LOOKUP_BATCH 1000

typedef struct lookrun {
    nrun nr;
    kv_arena *batch;  /* the batch's outer rows and keys */
    sql_datum *rows;  /* LOOKUP_BATCH rows of the outer side's slots */
    sql_keybuf *keys; /* their keys; len 0: a NULL key, no lookup */
    int *at;          /* per lookup sent: the first outer row with its key */
    int *same;        /* per outer row: the next one with the same key, or -1 */
    bool *matched;
    size_t n;
    bool stopped;
} lookrun;

/* The key (prefix) of the primary or secondary index the inner leaf's
 * path reads that the outer row in the joined row looks up; 1 when a
 * value is NULL. */
static int lookup_key(lookrun *lr, kv_arena *arena, sql_keybuf *kb)
{
    jrun *r = lr->nr.r;
    const sql__jnode *n = lr->nr.n;
    const sql_plan *p = n->inner->scan;
    const sql_table_desc *t = p->table;
    bool secondary = p->path.kind == SQL__PATH_INDEX;
    const sql_index_desc *ix = secondary ? &t->indexes[p->path.ix] : &t->primary;
    const int *cols = secondary ? p->rc.ix_cols[p->path.ix] : p->rc.pk_cols;
    sql_eval_ctx ec;
    sql__eval_init(&ec, r->ctx, r->row, arena, r->err);
    sql_keybuf_init(kb, arena);
    if (sql_key_put_prefix(kb, t->id, ix->id, r->err) != 0)
        return -1;
    for (int k = 0; k < n->nlookup; k++) {
        sql_datum d;
        if (sql_expr_eval(&ec, n->lookup[k], &d) != 0)
            return -1;
        if (d.isnull)
            return 1;
        sql_key_dir dir = ix->dirs[k];
        if (sql_key_put(kb, t->cols[cols[k]].type, dir, dir == SQL_KEY_DESC, &d, r->err) != 0)
            return -1;
    }
    return 0;
}

static void restore_outer(lookrun *lr, size_t b)
{
    const sql__jnode *o = lr->nr.n->outer;
    for (int i = 0; i < o->nslots; i++)
        lr->nr.r->row[o->slots[i]] = lr->rows[b * (size_t)o->nslots + (size_t)i];
}

/* A row found for the i-th key sent: joined with every outer row of the
 * batch that looked that key up. */
static int lookup_found(void *arg, size_t i, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    lookrun *lr = arg;
    jrun *r = lr->nr.r;
    const sql__jnode *in = lr->nr.n->inner;
    (void)err;
    for (int b = lr->at[i]; b >= 0; b = lr->same[b]) {
        bool pass;
        restore_outer(lr, (size_t)b);
        memcpy(r->row + in->first, row, (size_t)in->nslots * sizeof(*row));
        if (eval_true(r, lr->nr.n->cond, arena, &pass) != 0)
            return -1;
        if (!pass)
            continue;
        lr->matched[b] = true;
        int rc = emit(&lr->nr, arena);
        lr->stopped |= rc == 1;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Collects the batch's distinct keys into sent[] (their count into *m):
 * outer rows that look up the same key - every row of a many-to-one
 * join - share one lookup, chained through same[] from at[]. */
static int distinct_keys(lookrun *lr, sql_keybuf *sent, size_t *m)
{
    size_t n = 0, nslots = 2; /* a power of two, at most half full */
    while (nslots < 2 * lr->n)
        nslots *= 2;
    int *slot = kv_arena_alloc(lr->batch, nslots * sizeof(*slot));
    int *tail = kv_arena_alloc(lr->batch, (lr->n + 1) * sizeof(*tail)); /* per key sent */
    if (slot == NULL || tail == NULL)
        return sql__oom(lr->nr.r->arena, lr->nr.r->err);
    memset(slot, -1, nslots * sizeof(*slot));
    for (size_t b = 0; b < lr->n; b++) {
        const sql_keybuf *k = &lr->keys[b];
        lr->same[b] = -1;
        if (k->len == 0)
            continue;
        size_t h = XXH3_64bits(k->p, k->len) & (nslots - 1);
        while (slot[h] >= 0 &&
               (sent[slot[h]].len != k->len || memcmp(sent[slot[h]].p, k->p, k->len) != 0))
            h = (h + 1) & (nslots - 1);
        if (slot[h] < 0) {
            slot[h] = (int)n;
            lr->at[n] = tail[n] = (int)b;
            sent[n++] = *k;
        } else { /* appended: the outer rows keep their order */
            lr->same[tail[slot[h]]] = (int)b;
            tail[slot[h]] = (int)b;
        }
    }
    *m = n;
    return 0;
}

/* Looks up the batch's keys in one KV round, then passes the outer rows
 * without a match on when the outer side is preserved. 1: stopped. */
static int lookup_flush(lookrun *lr)
{
    jrun *r = lr->nr.r;
    size_t m = 0;
    sql_keybuf *sent = kv_arena_alloc(lr->batch, (lr->n + 1) * sizeof(*sent));
    if (sent == NULL)
        return sql__oom(r->arena, r->err);
    if (distinct_keys(lr, sent, &m) != 0)
        return -1;
    const sql__jnode *n = lr->nr.n;
    if (m > 0 && sql__lookup(n->inner->scan, r->ctx, sent, m, n->prefix, lookup_found, lr,
                             lr->batch, r->err) != 0) {
        sql_error_move(r->err, r->arena);
        return -1;
    }
    for (size_t b = 0; b < lr->n && !lr->stopped && outer_preserved(n); b++) {
        if (lr->matched[b])
            continue;
        restore_outer(lr, b);
        set_slots(r, n->inner, NULL);
        int rc = emit(&lr->nr, lr->batch);
        if (rc < 0)
            return -1;
        lr->stopped |= rc == 1;
    }
    /* a new arena for the next batch: the old one's rows are done */
    kv_arena_destroy(lr->batch);
    lr->n = 0;
    if (kv_arena_create(&lr->batch) != 0) {
        lr->batch = NULL;
        return sql__oom(r->arena, r->err);
    }
    return lr->stopped ? 1 : 0;
}

/* Holds an outer row and its key for the next batch. */
static int lookup_row(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    lookrun *lr = arg;
    jrun *r = lr->nr.r;
    const sql__jnode *o = lr->nr.n->outer;
    size_t b = lr->n;
    sql_keybuf kb;
    (void)row, (void)arena; /* the outer side's values are in the joined row */
    int rc = lookup_key(lr, lr->batch, &kb);
    if (rc < 0)
        return -1;
    lr->keys[b] = kb;
    lr->keys[b].len = rc == 1 ? 0 : kb.len;
    lr->matched[b] = false;
    for (int i = 0; i < o->nslots; i++) {
        int s = o->slots[i];
        if (sql_datum_copy(r->j->types[s].oid, &r->row[s], lr->batch,
                           &lr->rows[b * (size_t)o->nslots + (size_t)i], err) != 0)
            return -1;
    }
    return ++lr->n == LOOKUP_BATCH ? lookup_flush(lr) : 0;
}

static int run_lookup(jrun *r, const sql__jnode *n, sql__row_cb cb, void *cb_arg)
{
    lookrun lr = {.nr = {.r = r, .n = n, .cb = cb, .cb_arg = cb_arg}};
    size_t width = (size_t)n->outer->nslots + 1;
    lr.rows = kv_arena_alloc(r->arena, LOOKUP_BATCH * width * sizeof(*lr.rows));
    lr.keys = kv_arena_alloc(r->arena, LOOKUP_BATCH * sizeof(*lr.keys));
    lr.at = kv_arena_alloc(r->arena, LOOKUP_BATCH * sizeof(*lr.at));
    lr.same = kv_arena_alloc(r->arena, LOOKUP_BATCH * sizeof(*lr.same));
    lr.matched = kv_arena_alloc(r->arena, LOOKUP_BATCH * sizeof(*lr.matched));
    if (!lr.rows || !lr.keys || !lr.at || !lr.same || !lr.matched ||
        kv_arena_create(&lr.batch) != 0)
        return sql__oom(r->arena, r->err);
    int rc = run_node(r, n->outer, lookup_row, &lr);
    if (rc == 0 && lr.n > 0 && !lr.stopped)
        rc = lookup_flush(&lr) < 0 ? -1 : 0;
    if (rc != 0)
        sql_error_move(r->err, r->arena);
    kv_arena_destroy(lr.batch);
    return rc;
}

static int run_node(jrun *r, const sql__jnode *n, sql__row_cb cb, void *cb_arg)
{
    switch (n->method) {
    case SQL__JOIN_SCAN:
        return run_leaf(r, n, cb, cb_arg);
    case SQL__JOIN_LOOKUP:
        return run_lookup(r, n, cb, cb_arg);
    default:
        return run_join(r, n, cb, cb_arg);
    }
}

/* ---- the root ---------------------------------------------------------- */

typedef struct rootrun {
    jrun *r;
    sql__row_cb cb;
    void *cb_arg;
} rootrun;

/* Fills the merged USING columns that copy another slot. */
static int root_row(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    rootrun *rr = arg;
    const sql__join *j = rr->r->j;
    for (int s = 0; s < j->width; s++)
        if (j->copy_from[s] >= 0)
            rr->r->row[s] = row[j->copy_from[s]];
    return rr->cb(rr->cb_arg, rr->r->row, arena, err);
}

int sql__join_run(const sql__join *j, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg,
                  sql__membudget *mem, kv_arena *arena, sql_error *err)
{
    jrun r = {.j = j, .ctx = ctx, .mem = mem, .arena = arena, .err = err};
    r.row = kv_arena_alloc(arena, ((size_t)j->width + 1) * sizeof(*r.row));
    if (r.row == NULL)
        return sql__oom(arena, err);
    for (int s = 0; s < j->width; s++)
        r.row[s] = (sql_datum){.isnull = true};
    rootrun rr = {&r, cb, cb_arg};
    return run_node(&r, j->root, root_row, &rr);
}
