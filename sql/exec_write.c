/*
 * exec_write.c - INSERT, UPDATE and DELETE (plan_int.h, sql__run_write):
 * row checks (NOT NULL, CHECK), the KV writes of the primary index and of
 * the secondary indexes, uniqueness by KV_CPUT on an absent key, and
 * RETURNING; and the backfill of a new index (sql__run_backfill).
 *
 * Writes are collected into one KV batch and sent every FLUSH_ROWS rows
 * (and between the batches of the scan an UPDATE or DELETE reads), so a
 * large statement runs in bounded memory. The last batch of a statement
 * allowed to commit (`may_commit`) goes with the commit itself: a
 * single-row write then commits in one KV round (1PC).
 *
 * RETURNING rows are held back until the batch that wrote them succeeded,
 * so no row reaches the client for a write that then fails (which also
 * keeps an implicit transaction retryable until its commit).
 *
 * An UPDATE that changes pk columns moves rows to new keys, which the
 * scan could meet again further on (the Halloween problem), and a
 * subquery of an UPDATE or DELETE must not see the statement's own
 * writes (PostgreSQL's snapshot); such statements therefore read every
 * target row before writing any (plan read_first), holding them in the
 * statement arena.
 *
 * Memory: the rows of a flush and their RETURNING values live in the
 * pending arena, renewed at each flush; keys and values are built in
 * buffers reused for every row (kv_request_add copies them); error
 * strings live in the statement arena.
 */
#include <assert.h>
#include <string.h>
#include <xxhash.h>

#include "sql/plan_join_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"

/* Rows per KV write batch. */
#define FLUSH_ROWS 1000

/* The pending batch's keys, to notice a second write of one key (the KV
 * layer refuses overlapping writes in a batch): open addressing over
 * request indexes + 1 (0: empty). */
typedef struct keyset {
    size_t *slot;
    size_t cap, n;
} keyset;

typedef struct writer {
    const sql_plan *p;
    sql_run_ctx *ctx;
    kv_arena *arena; /* the statement's */
    sql_error *err;
    bool may_commit, committed;
    kv_request req; /* pending writes */
    keyset keys;    /* of req */
    size_t nrows;   /* rows since the pending arena was renewed */
    kv_arena *pend; /* those rows and their RETURNING values */
    sql_datum **ret;
    size_t nret, capret;
    uint64_t affected;
    /* reused for every row: keys and values are copied into req */
    sql_keybuf key, okey, val;
    sql_datum *scratch;
    /* read_first, and joined UPDATE and DELETE: the (old, new) rows of
     * UPDATE, the rows of DELETE, read before writing */
    sql_datum **moves;
    size_t nmoves, capmoves;
    uint32_t backfill_ix; /* sql__run_backfill: the index being built */
    struct upsert *up;    /* INSERT ... ON CONFLICT; NULL: none */
    /* joined UPDATE and DELETE: the target rows met (by pk) */
    sql__rowset *seen;
    const sql_column_info *pk_types;
} writer;

static int writer_init(writer *w)
{
    sql_keybuf_init(&w->key, w->arena);
    sql_keybuf_init(&w->okey, w->arena);
    sql_keybuf_init(&w->val, w->arena);
    w->scratch = kv_arena_alloc(w->arena, (w->p->table->ncols + 1) * sizeof(*w->scratch));
    if (w->scratch == NULL)
        return sql__oom(w->arena, w->err);
    if (kv_request_init(&w->req) != 0)
        return sql__oom(w->arena, w->err);
    if (kv_arena_create(&w->pend) != 0) {
        kv_request_free(&w->req);
        return sql__oom(w->arena, w->err);
    }
    return 0;
}

static void upsert_free(struct upsert *u);

static void writer_free(writer *w)
{
    kv_request_free(&w->req);
    kv_arena_destroy(w->pend);
    if (w->up != NULL)
        upsert_free(w->up);
}

/* An empty buffer that keeps its storage. */
static sql_keybuf *reuse(sql_keybuf *b)
{
    b->len = 0;
    return b;
}

/* Appends a pointer to an arena-grown array. */
static int push_ptr(kv_arena *a, sql_datum ***arr, size_t *n, size_t *cap, sql_datum *v,
                    sql_error *err)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 64;
        sql_datum **na = kv_arena_alloc(a, nc * sizeof(*na));
        if (na == NULL)
            return sql__oom(a, err);
        if (*n > 0)
            memcpy(na, *arr, *n * sizeof(*na));
        *arr = na;
        *cap = nc;
    }
    (*arr)[(*n)++] = v;
    return 0;
}

/* ---- errors ---------------------------------------------------------- */

static bool upsert_lost_race(const writer *w, const kv_span *key);

/* 23505 for the CPut that found its key taken. */
static int unique_violation(writer *w, const kv_request *req, size_t index)
{
    const sql_table_desc *t = w->p->table;
    if (index >= req->n)
        return sql_error_set(w->err, w->arena, SQL_STATE_INTERNAL_ERROR,
                             "condition failed on an unknown request");
    const kv_span *k = &req->reqs[index].span;
    const uint8_t *p = k->key;
    uint32_t tid, iid;
    if (sql_key_get_prefix(&p, k->key + k->key_len, &tid, &iid, w->arena, w->err) != 0)
        return -1;
    const sql_index_desc *ix = sql__index_by_id(t, iid);
    if (ix == NULL)
        return sql_error_set(w->err, w->arena, SQL_STATE_INTERNAL_ERROR,
                             "condition failed on a key of no index of \"%s\"", t->name);
    /* ON CONFLICT read this key as absent in this transaction: another
     * one wrote it since, and retrying sees that row */
    if (w->up != NULL && upsert_lost_race(w, k))
        return sql_error_set(w->err, w->arena, SQL_STATE_SERIALIZATION_FAILURE,
                             "could not serialize access due to concurrent update");
    const char *desc =
        sql__key_describe(&w->p->rc, ix, k->key, k->key_len, &w->ctx->io, w->arena, w->err);
    if (desc == NULL)
        return -1;
    sql_error_set(w->err, w->arena, SQL_STATE_UNIQUE_VIOLATION,
                  "duplicate key value violates unique constraint \"%s\"", ix->name);
    sql_error_detail(w->err, w->arena, "Key %s already exists.", desc);
    return -1;
}

/* Adds the detail to the error just set (or replaces it by the error
 * that prevented formatting the row). */
static int failing_row(writer *w, const sql_datum *row)
{
    const char *txt = sql__row_text(w->p->table, row, &w->ctx->io, w->arena, w->err);
    if (txt == NULL)
        return -1;
    sql_error_detail(w->err, w->arena, "Failing row contains %s.", txt);
    return -1;
}

/* NOT NULL in column order, then the CHECK constraints (UNKNOWN
 * passes), as PostgreSQL checks a new row. */
static int check_row(writer *w, const sql_datum *row, kv_arena *arena)
{
    const sql_table_desc *t = w->p->table;
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].not_null && row[i].isnull) {
            sql_error_set(w->err, w->arena, SQL_STATE_NOT_NULL_VIOLATION,
                          "null value in column \"%s\" of relation \"%s\" violates not-null "
                          "constraint",
                          t->cols[i].name, t->name);
            return failing_row(w, row);
        }
    }
    for (uint32_t i = 0; i < t->nchecks; i++) {
        sql_eval_ctx ec;
        sql_tribool ok;
        sql__eval_init(&ec, w->ctx, row, arena, w->err);
        if (sql_expr_eval_bool(&ec, w->p->checks[i], &ok) != 0)
            return -1;
        if (ok == SQL_FALSE) {
            sql_error_set(w->err, w->arena, SQL_STATE_CHECK_VIOLATION,
                          "new row for relation \"%s\" violates check constraint \"%s\"", t->name,
                          t->checks[i].name);
            return failing_row(w, row);
        }
    }
    return 0;
}

/* ---- KV writes ------------------------------------------------------- */

/* The slot of `key` in the set: its own, or the empty one to take. */
static size_t *keyset_find(writer *w, const uint8_t *key, size_t len)
{
    keyset *ks = &w->keys;
    size_t mask = ks->cap - 1;
    for (size_t i = XXH3_64bits(key, len) & mask;; i = (i + 1) & mask) {
        size_t *s = &ks->slot[i];
        if (*s == 0)
            return s;
        const kv_span *k = &w->req.reqs[*s - 1].span;
        if (k->key_len == len && memcmp(k->key, key, len) == 0)
            return s;
    }
}

/* Records request `index` of the batch; the table stays at most half
 * full. */
static int keyset_add(writer *w, size_t index)
{
    keyset *ks = &w->keys;
    if (2 * (ks->n + 1) > ks->cap) {
        size_t cap = ks->cap ? 2 * ks->cap : 256;
        size_t *slot = kv_arena_alloc(w->arena, cap * sizeof(*slot));
        if (slot == NULL)
            return sql__oom(w->arena, w->err);
        memset(slot, 0, cap * sizeof(*slot));
        *ks = (keyset){.slot = slot, .cap = cap};
        for (size_t i = 0; i < index; i++)
            *keyset_find(w, w->req.reqs[i].span.key, w->req.reqs[i].span.key_len) = i + 1;
        ks->n = index;
    }
    const kv_span *k = &w->req.reqs[index].span;
    *keyset_find(w, k->key, k->key_len) = index + 1;
    ks->n++;
    return 0;
}

static int send_pending(writer *w, bool last);

/* Adds a write; a key the batch writes already is written after the
 * batch has gone out, so the second write sees the first. */
static int add_write(writer *w, kv_method m, const sql_keybuf *key, const sql_keybuf *val)
{
    kv_req q = {.method = m, .span = {.key = key->p, .key_len = key->len}};
    if (m == KV_PUT) {
        q.u.put.value = val->p;
        q.u.put.value_len = val->len;
    } else if (m == KV_CPUT) {
        q.u.cput.value = val->p;
        q.u.cput.value_len = val->len;
    }
    if (w->keys.n > 0 && *keyset_find(w, key->p, key->len) != 0 && send_pending(w, false) != 0)
        return -1;
    if (kv_request_add(&w->req, &q) != 0)
        return sql__oom(w->arena, w->err);
    return keyset_add(w, w->req.n - 1);
}

static int pk_key(writer *w, const sql_datum *row, sql_keybuf *key)
{
    return sql__row_pk_key(&w->p->rc, row, reuse(key), w->err);
}

static int ix_key(writer *w, uint32_t ix, const sql_datum *row, sql_keybuf *key, bool *has_null)
{
    return sql__row_ix_key(&w->p->rc, ix, row, reuse(key), has_null, w->err);
}

/* Writes `row` at w->key of the primary index (CPut unless `in_place`). */
static int put_pk(writer *w, const sql_datum *row, bool in_place)
{
    if (sql__row_pk_value(&w->p->rc, row, w->scratch, reuse(&w->val), w->err) != 0)
        return -1;
    return add_write(w, in_place ? KV_PUT : KV_CPUT, &w->key, &w->val);
}

/* Writes secondary index `ix` entry of `row` at w->key, checking
 * uniqueness unless `no_check` (a NULL in the key, or a key the row
 * already owns). */
static int put_ix(writer *w, uint32_t ix, const sql_datum *row, bool no_check)
{
    if (sql__row_ix_value(&w->p->rc, row, w->scratch, reuse(&w->val), w->err) != 0)
        return -1;
    bool unique = w->p->table->indexes[ix].unique && !no_check;
    return add_write(w, unique ? KV_CPUT : KV_PUT, &w->key, &w->val);
}

static int insert_row(writer *w, const sql_datum *row)
{
    if (pk_key(w, row, &w->key) != 0 || put_pk(w, row, false) != 0)
        return -1;
    for (uint32_t i = 0; i < w->p->table->nindexes; i++) {
        bool has_null;
        if (ix_key(w, i, row, &w->key, &has_null) != 0 || put_ix(w, i, row, has_null) != 0)
            return -1;
    }
    return 0;
}

static int delete_row(writer *w, const sql_datum *row)
{
    if (pk_key(w, row, &w->key) != 0 || add_write(w, KV_DELETE, &w->key, NULL) != 0)
        return -1;
    for (uint32_t i = 0; i < w->p->table->nindexes; i++) {
        bool has_null;
        if (ix_key(w, i, row, &w->key, &has_null) != 0 ||
            add_write(w, KV_DELETE, &w->key, NULL) != 0)
            return -1;
    }
    return 0;
}

static bool same_key(const sql_keybuf *a, const sql_keybuf *b)
{
    return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* A moved row leaves its old keys; index entries whose key did not move
 * are rewritten only when they hold a new pk. */
static int update_row(writer *w, const sql_datum *old, const sql_datum *row)
{
    if (pk_key(w, old, &w->okey) != 0 || pk_key(w, row, &w->key) != 0)
        return -1;
    bool moved = !same_key(&w->okey, &w->key);
    if (moved && add_write(w, KV_DELETE, &w->okey, NULL) != 0)
        return -1;
    if (put_pk(w, row, !moved) != 0)
        return -1;
    for (uint32_t i = 0; i < w->p->table->nindexes; i++) {
        bool onull, has_null;
        if (ix_key(w, i, old, &w->okey, &onull) != 0 || ix_key(w, i, row, &w->key, &has_null) != 0)
            return -1;
        bool ix_moved = !same_key(&w->okey, &w->key);
        if (ix_moved && add_write(w, KV_DELETE, &w->okey, NULL) != 0)
            return -1;
        if ((ix_moved || moved) && put_ix(w, i, row, has_null || !ix_moved) != 0)
            return -1;
    }
    return 0;
}

/* ---- RETURNING and flushing ------------------------------------------ */

/* Evaluates RETURNING over the written row and keeps it until its batch
 * is written. */
static int keep_returning(writer *w, const sql_datum *row, kv_arena *arena)
{
    const sql_plan *p = w->p;
    if (!p->returns_rows)
        return 0;
    sql_datum *out = kv_arena_alloc(w->pend, ((size_t)p->ntargets + 1) * sizeof(*out));
    if (out == NULL)
        return sql__oom(w->arena, w->err);
    sql_eval_ctx ec;
    sql__eval_init(&ec, w->ctx, row, arena, w->err);
    for (int i = 0; i < p->ntargets; i++) {
        if (sql_expr_eval(&ec, p->targets[i], &out[i]) != 0 ||
            sql_datum_copy(p->targets[i]->type.oid, &out[i], w->pend, &out[i], w->err) != 0)
            return -1;
    }
    return push_ptr(w->pend, &w->ret, &w->nret, &w->capret, out, w->err);
}

/* Sends the pending writes (with the commit when `last` and allowed),
 * then the RETURNING rows they produced, and starts an empty batch. */
static int send_pending(writer *w, bool last)
{
    kv_response resp;
    if (kv_response_init(&resp) != 0)
        return sql__oom(w->arena, w->err);
    int rc = 0;
    if (last && w->may_commit) {
        rc = sql_txn_commit(w->ctx->txn, w->req.n ? &w->req : NULL, &resp, w->err, w->arena);
        w->committed = rc == 0;
    } else if (w->req.n > 0) {
        rc = sql_txn_send(w->ctx->txn, &w->req, &resp, w->err, w->arena);
    }
    if (rc != 0 && resp.err == KV_ECONDFAILED)
        unique_violation(w, &w->req, resp.detail.index);
    kv_response_free(&resp);
    for (size_t i = 0; i < w->nret && rc == 0; i++)
        rc = w->ctx->row(w->ctx->row_arg, w->ret[i], (size_t)w->p->ntargets, w->err);
    if (rc != 0)
        return -1;
    kv_request_free(&w->req);
    if (kv_request_init(&w->req) != 0)
        return sql__oom(w->arena, w->err);
    if (w->keys.cap > 0)
        memset(w->keys.slot, 0, w->keys.cap * sizeof(*w->keys.slot));
    w->keys.n = 0;
    w->ret = NULL;
    w->nret = w->capret = 0;
    return 0;
}

/* At a row boundary: sends the batch and frees the rows it came from. */
static int flush(writer *w)
{
    if (send_pending(w, false) != 0)
        return -1;
    kv_arena_destroy(w->pend);
    w->nrows = 0;
    if (kv_arena_create(&w->pend) != 0) {
        w->pend = NULL;
        return sql__oom(w->arena, w->err);
    }
    return 0;
}

static int flush_between(void *arg, sql_error *err)
{
    (void)err;
    return flush(arg);
}

/* Counts a written row and flushes every FLUSH_ROWS rows. */
static int wrote(writer *w)
{
    w->affected++;
    if (++w->nrows < FLUSH_ROWS)
        return 0;
    return flush(w);
}

/* ---- statements ------------------------------------------------------ */

/* The proposed row whose columns `vals` give, evaluated over `src` (a
 * source query's row; NULL for VALUES) into `arena` and checked. */
static int proposed_row(writer *w, const sql_bexpr *const *vals, const sql_datum *src,
                        kv_arena *arena, sql_datum **out)
{
    uint32_t ncols = w->p->table->ncols;
    sql_datum *row = kv_arena_alloc(arena, (ncols + 1) * sizeof(*row));
    if (row == NULL)
        return sql__oom(w->arena, w->err);
    sql_eval_ctx ec;
    sql__eval_init(&ec, w->ctx, src, arena, w->err);
    for (uint32_t c = 0; c < ncols; c++) {
        row[c].isnull = true;
        if (vals[c] != NULL && sql_expr_eval(&ec, vals[c], &row[c]) != 0)
            return -1;
    }
    *out = row;
    return check_row(w, row, arena);
}

static int apply_insert(writer *w, const sql_datum *row, kv_arena *arena)
{
    if (insert_row(w, row) != 0 || keep_returning(w, row, arena) != 0)
        return -1;
    return wrote(w);
}

static int insert_one(writer *w, const sql_bexpr *const *vals, const sql_datum *src)
{
    sql_datum *row;
    if (proposed_row(w, vals, src, w->pend, &row) != 0)
        return -1;
    return apply_insert(w, row, w->pend);
}

/* INSERT ... SELECT's source rows, all read before the first write. */
typedef struct source_rows {
    writer *w;
    sql__membudget mem;
    sql_datum **rows;
    size_t n, cap;
} source_rows;

static int keep_source_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    source_rows *s = arg;
    const sql_plan *src = s->w->p->source;
    kv_arena *a = s->w->arena;
    sql_datum *row = sql__mem_charge(&s->mem, a, (n + 1) * sizeof(*row), "INSERT ... SELECT", err);
    if (row == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        sql_type_id t = src->cols[i].type.oid;
        if (sql__mem_account(&s->mem, a, sql__datum_payload(t, &vals[i]), "INSERT ... SELECT",
                             err) != 0 ||
            sql_datum_copy(t, &vals[i], a, &row[i], err) != 0)
            return -1;
    }
    return push_ptr(a, &s->rows, &s->n, &s->cap, row, err);
}

/* INSERT ... ON CONFLICT's insert_one (below). */
static int upsert_one(writer *w, const sql_bexpr *const *vals, const sql_datum *src);

/* Reading every source row first gives PostgreSQL's snapshot semantics
 * without a snapshot: INSERT INTO t SELECT * FROM t doubles t once. */
static int run_insert(writer *w)
{
    const sql_plan *p = w->p;
    int (*add)(writer *, const sql_bexpr *const *, const sql_datum *) =
        p->conflict ? upsert_one : insert_one;
    if (p->source == NULL) {
        for (int r = 0; r < p->nrows; r++)
            if (add(w, p->rows[r], NULL) != 0)
                return -1;
        return 0;
    }
    source_rows s = {.w = w};
    sql_run_ctx in = *w->ctx;
    in.row = keep_source_row;
    in.row_arg = &s;
    uint64_t n;
    if (sql__run_select(p->source, &in, w->arena, &n, w->err) != 0)
        return -1;
    for (size_t i = 0; i < s.n; i++)
        if (add(w, p->rows[0], s.rows[i]) != 0)
            return -1;
    return 0;
}

/* The row after UPDATE's assignments, all evaluated over the old row. */
static int new_row(writer *w, const sql_datum *old, kv_arena *arena, sql_datum **out)
{
    const sql_plan *p = w->p;
    uint32_t ncols = p->table->ncols;
    sql_datum *row = kv_arena_alloc(arena, (ncols + 1) * sizeof(*row));
    if (row == NULL)
        return sql__oom(w->arena, w->err);
    sql_eval_ctx ec;
    sql__eval_init(&ec, w->ctx, old, arena, w->err);
    for (uint32_t c = 0; c < ncols; c++) {
        row[c] = old[c];
        if (p->set[c] != NULL && sql_expr_eval(&ec, p->set[c], &row[c]) != 0)
            return -1;
    }
    *out = row;
    return 0;
}

static int apply_update(writer *w, const sql_datum *old, const sql_datum *row, kv_arena *arena)
{
    if (check_row(w, row, arena) != 0 || update_row(w, old, row) != 0 ||
        keep_returning(w, row, arena) != 0)
        return -1;
    return wrote(w);
}

/* ---- INSERT ... ON CONFLICT ------------------------------------------ */

/* Proposed rows per read of their arbiter keys (exec_upsert.c). */
#define CONFLICT_CHUNK 256

/* The rows of one chunk: their arbiter keys are distinct, so a row never
 * conflicts with one inserted or updated by an earlier row of its chunk,
 * which the chunk's read cannot see; a repeated key starts a new chunk.
 * Everything of a chunk lives in its arena. */
typedef struct upsert {
    kv_arena *chunk;
    sql__membudget chunk_mem;
    sql__rowset *chunk_keys;
    sql_datum *rows[CONFLICT_CHUNK];
    sql_keybuf *keys[CONFLICT_CHUNK];
    size_t nkeys[CONFLICT_CHUNK];
    bool found[CONFLICT_CHUNK];
    sql_datum *existing[CONFLICT_CHUNK];
    size_t n;
    /* DO UPDATE: the pk keys of the rows this statement inserted or
     * updated (21000 when one is to be updated again), in the statement
     * arena */
    sql__membudget mem;
    sql__rowset *affected;
} upsert;

static const sql_column_info bytea_key = {.type = {SQL_T_BYTEA, -1}};

/* Frees the last chunk (the rest lives in the statement arena). */
static void upsert_free(upsert *u)
{
    kv_arena_destroy(u->chunk);
}

/* Whether `key`, whose CPut failed, is the arbiter key of a row of the
 * chunk that its read found absent. */
static bool upsert_lost_race(const writer *w, const kv_span *key)
{
    const upsert *u = w->up;
    for (size_t i = 0; i < u->n; i++) {
        for (size_t k = 0; k < u->nkeys[i] && !u->found[i]; k++) {
            const sql_keybuf *b = &u->keys[i][k];
            if (b->len == key->key_len && memcmp(b->p, key->key, b->len) == 0)
                return true;
        }
    }
    return false;
}

/* Adds key `k` to `set`; *added false when it was there. */
static int key_add(sql__rowset *set, const sql_keybuf *k, kv_arena *scratch, bool *added,
                   sql_error *err)
{
    sql_datum d = {.v.s = {k->p, k->len}};
    return sql__rowset_add(set, &bytea_key, &d, 1, scratch, added, err);
}

/* A fresh chunk, the previous one's memory freed; *carry (NULL: none),
 * a row of the previous chunk, is copied into it. */
static int chunk_reset(writer *w, upsert *u, sql_datum **carry)
{
    const sql_table_desc *t = w->p->table;
    kv_arena *old = u->chunk;
    if (kv_arena_create(&u->chunk) != 0) {
        u->chunk = old;
        return sql__oom(w->arena, w->err);
    }
    u->n = 0;
    u->chunk_mem = (sql__membudget){0};
    int rc = (u->chunk_keys = sql__rowset_new(&u->chunk_mem, u->chunk, w->err)) ? 0 : -1;
    sql_datum *row = carry ? kv_arena_alloc(u->chunk, (t->ncols + 1) * sizeof(*row)) : NULL;
    if (rc == 0 && carry != NULL && row == NULL)
        rc = sql__oom(w->arena, w->err);
    for (uint32_t c = 0; carry != NULL && c < t->ncols && rc == 0; c++)
        rc = sql_datum_copy(t->cols[c].type.oid, &(*carry)[c], u->chunk, &row[c], w->err);
    if (carry != NULL)
        *carry = row;
    kv_arena_destroy(old);
    return rc;
}

/* DO UPDATE: records the pk of `row`, written by this statement; 21000
 * as PostgreSQL words it when it was written already. */
static int affect(writer *w, upsert *u, const sql_datum *row, bool check)
{
    bool added;
    if (pk_key(w, row, &w->okey) != 0 || key_add(u->affected, &w->okey, u->chunk, &added, w->err))
        return -1;
    if (added || !check)
        return 0;
    sql_error_set(w->err, w->arena, SQL_STATE_CARDINALITY_VIOLATION,
                  "ON CONFLICT DO UPDATE command cannot affect row a second time");
    sql_error_hint(w->err, w->arena,
                   "Ensure that no rows proposed for insertion within the same command have "
                   "duplicate constrained values.");
    return -1;
}

/* Whether rows `a` and `b` have different arbiter keys. */
static int arbiter_moved(writer *w, upsert *u, const sql_datum *a, const sql_datum *b, bool *moved)
{
    sql_keybuf *ka, *kb;
    size_t na, nb;
    if (sql__arbiter_keys(w->p, a, u->chunk, &ka, &na, w->err) != 0 ||
        sql__arbiter_keys(w->p, b, u->chunk, &kb, &nb, w->err) != 0)
        return -1;
    *moved = na != nb || (na > 0 && !same_key(&ka[0], &kb[0]));
    return 0;
}

/* DO UPDATE of `old` by proposed row `row`: SET and WHERE see both.
 * *moved tells that the row left its arbiter key, which the chunk's
 * later rows must then read again. */
static int upsert_update(writer *w, upsert *u, const sql_datum *old, const sql_datum *row,
                         bool *moved)
{
    uint32_t ncols = w->p->table->ncols;
    sql_datum *both = kv_arena_alloc(u->chunk, (2 * ncols + 1) * sizeof(*both));
    if (both == NULL)
        return sql__oom(w->arena, w->err);
    memcpy(both, old, ncols * sizeof(*both));
    memcpy(both + ncols, row, ncols * sizeof(*both));
    if (affect(w, u, old, true) != 0)
        return -1;
    const sql_bexpr *where = w->p->conflict->where;
    if (where != NULL) {
        sql_eval_ctx ec;
        sql_tribool ok;
        sql__eval_init(&ec, w->ctx, both, u->chunk, w->err);
        if (sql_expr_eval_bool(&ec, where, &ok) != 0)
            return -1;
        if (ok != SQL_TRUE)
            return 0;
    }
    sql_datum *nrow;
    if (new_row(w, both, u->chunk, &nrow) != 0 || apply_update(w, old, nrow, u->chunk) != 0 ||
        arbiter_moved(w, u, old, nrow, moved) != 0)
        return -1;
    return affect(w, u, nrow, false);
}

/* Reads the arbiter keys of the chunk's rows from `first` on (after
 * sending the writes so far, which the read must see), then inserts,
 * updates or skips each row; *next is the row after the last one
 * resolved (before u->n when an update moved a key). */
static int upsert_rows(writer *w, upsert *u, size_t first, size_t *next)
{
    if (w->req.n > 0 && send_pending(w, false) != 0)
        return -1;
    if (sql__conflict_read(w->p, w->ctx, u->keys + first, u->nkeys + first, u->n - first, u->chunk,
                           u->found + first, u->existing + first, w->err) != 0)
        return -1;
    bool moved = false;
    size_t i = first;
    for (; i < u->n && !moved; i++) {
        const sql_datum *row = u->rows[i];
        int rc = 0;
        if (!u->found[i]) {
            rc = apply_insert(w, row, u->chunk);
            if (rc == 0 && u->affected != NULL)
                rc = affect(w, u, row, false);
        } else if (w->p->conflict->update) {
            rc = upsert_update(w, u, u->existing[i], row, &moved);
        }
        if (rc != 0)
            return -1;
    }
    *next = i;
    return 0;
}

/* Resolves the chunk's rows, reading again after a moved key. */
static int upsert_chunk(writer *w, upsert *u)
{
    for (size_t i = 0; i < u->n;)
        if (upsert_rows(w, u, i, &i) != 0)
            return -1;
    return 0;
}

/* Adds a proposed row to the chunk, resolving the chunk first when it
 * is full or holds one of the row's arbiter keys. */
static int upsert_one(writer *w, const sql_bexpr *const *vals, const sql_datum *src)
{
    upsert *u = w->up;
    sql_datum *row;
    sql_keybuf *keys;
    size_t n;
    bool fresh = u->n < CONFLICT_CHUNK;
    if (proposed_row(w, vals, src, u->chunk, &row) != 0 ||
        sql__arbiter_keys(w->p, row, u->chunk, &keys, &n, w->err) != 0)
        return -1;
    for (size_t k = 0; k < n && fresh; k++)
        if (key_add(u->chunk_keys, &keys[k], u->chunk, &fresh, w->err) != 0)
            return -1;
    if (!fresh) {
        /* the row moves to the next chunk, whose keys it starts */
        if (upsert_chunk(w, u) != 0 || chunk_reset(w, u, &row) != 0 ||
            sql__arbiter_keys(w->p, row, u->chunk, &keys, &n, w->err) != 0)
            return -1;
        for (size_t k = 0; k < n; k++)
            if (key_add(u->chunk_keys, &keys[k], u->chunk, &fresh, w->err) != 0)
                return -1;
    }
    u->rows[u->n] = row;
    u->keys[u->n] = keys;
    u->nkeys[u->n++] = n;
    return 0;
}

/* INSERT ... ON CONFLICT: the rows in chunks. The last chunk stays
 * until writer_free: the last batch, sent after this returns, may fail
 * on one of its keys (upsert_lost_race). */
static int run_upsert(writer *w)
{
    upsert *u = kv_arena_alloc(w->arena, sizeof(*u));
    if (u == NULL)
        return sql__oom(w->arena, w->err);
    memset(u, 0, sizeof(*u));
    w->up = u;
    if (chunk_reset(w, u, NULL) != 0)
        return -1;
    if (w->p->conflict->update &&
        (u->affected = sql__rowset_new(&u->mem, w->arena, w->err)) == NULL)
        return -1;
    if (run_insert(w) != 0)
        return -1;
    return upsert_chunk(w, u);
}

/* Keeps copies of `old` and (UPDATE) `row` until the scan is over. */
static int keep_target(writer *w, const sql_datum *old, const sql_datum *row)
{
    uint32_t ncols = w->p->table->ncols;
    sql_datum *pair = kv_arena_alloc(w->arena, (2 * ncols + 1) * sizeof(*pair));
    if (pair == NULL)
        return sql__oom(w->arena, w->err);
    for (uint32_t c = 0; c < ncols; c++) {
        sql_type_id t = w->p->table->cols[c].type.oid;
        if (sql_datum_copy(t, &old[c], w->arena, &pair[c], w->err) != 0 ||
            (row && sql_datum_copy(t, &row[c], w->arena, &pair[ncols + c], w->err) != 0))
            return -1;
    }
    return push_ptr(w->arena, &w->moves, &w->nmoves, &w->capmoves, pair, w->err);
}

static int on_update(void *arg, const sql_datum *old, kv_arena *arena, sql_error *err)
{
    writer *w = arg;
    (void)err;
    sql_datum *row = NULL;
    if (new_row(w, old, arena, &row) != 0)
        return -1;
    if (w->p->read_first)
        return keep_target(w, old, row);
    return apply_update(w, old, row, arena);
}

static int apply_delete(writer *w, const sql_datum *row, kv_arena *arena)
{
    if (delete_row(w, row) != 0 || keep_returning(w, row, arena) != 0)
        return -1;
    return wrote(w);
}

static int on_delete(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    writer *w = arg;
    (void)err;
    if (w->p->read_first)
        return keep_target(w, row, NULL);
    return apply_delete(w, row, arena);
}

/* Writes the rows kept until the read was over (keep_target). */
static int apply_moves(writer *w)
{
    uint32_t ncols = w->p->table->ncols;
    bool upd = w->p->kind == SQL_STMT_UPDATE;
    for (size_t i = 0; i < w->nmoves; i++) {
        const sql_datum *pair = w->moves[i];
        if ((upd ? apply_update(w, pair, pair + ncols, w->pend) : apply_delete(w, pair, w->pend)) !=
            0)
            return -1;
    }
    return 0;
}

/* UPDATE ... FROM, DELETE ... USING: a joined row whose first columns
 * are a target row; the first joined row that finds a target row
 * decides its new values (PostgreSQL takes an arbitrary one). The writes
 * wait until the join is done, so no side of it reads them. */
static int on_joined(void *arg, const sql_datum *jrow, kv_arena *arena, sql_error *err)
{
    writer *w = arg;
    const sql_plan *p = w->p;
    uint32_t npk = p->table->primary.ncols;
    sql_datum *key = kv_arena_alloc(arena, (npk + 1) * sizeof(*key));
    if (key == NULL)
        return sql__oom(arena, err);
    for (uint32_t k = 0; k < npk; k++)
        key[k] = jrow[p->rc.pk_cols[k]];
    bool fresh;
    if (sql__rowset_add(w->seen, w->pk_types, key, (int)npk, arena, &fresh, err) != 0)
        return -1;
    if (!fresh)
        return 0;
    sql_datum *row = NULL;
    if (p->kind == SQL_STMT_UPDATE && new_row(w, jrow, arena, &row) != 0)
        return -1;
    return keep_target(w, jrow, row);
}

/* The target rows of a joined UPDATE or DELETE, then their writes. */
static int run_modify_join(writer *w)
{
    const sql_plan *p = w->p;
    uint32_t npk = p->table->primary.ncols;
    sql__membudget mem = {0};
    sql_column_info *types = kv_arena_alloc(w->arena, (npk + 1) * sizeof(*types));
    if (types == NULL)
        return sql__oom(w->arena, w->err);
    for (uint32_t k = 0; k < npk; k++)
        types[k] = (sql_column_info){.type = p->table->cols[p->rc.pk_cols[k]].type};
    w->pk_types = types;
    if ((w->seen = sql__rowset_new(&mem, w->arena, w->err)) == NULL ||
        sql__join_run(p->join, w->ctx, on_joined, w, &mem, w->arena, w->err) != 0)
        return -1;
    return apply_moves(w);
}

static int run_modify(writer *w)
{
    const sql_plan *p = w->p;
    if (p->join != NULL)
        return run_modify_join(w);
    bool upd = p->kind == SQL_STMT_UPDATE;
    if (sql__scan(p, &p->proj, w->ctx, 0, upd ? on_update : on_delete,
                  p->read_first ? NULL : flush_between, w, w->arena, w->err) != 0)
        return -1;
    return apply_moves(w);
}

/* Backfill: the entry of index w->backfill_ix for one existing row. */
static int on_backfill(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    writer *w = arg;
    bool has_null;
    (void)arena;
    (void)err;
    if (ix_key(w, w->backfill_ix, row, &w->key, &has_null) != 0 ||
        put_ix(w, w->backfill_ix, row, has_null) != 0)
        return -1;
    return wrote(w);
}

int sql__run_backfill(const sql_plan *p, uint32_t ix, sql_run_ctx *ctx, kv_arena *arena,
                      uint64_t *rows, sql_error *err)
{
    assert(p->kind == SQL_STMT_DELETE && p->filter == NULL && ix < p->table->nindexes);
    writer w = {.p = p, .ctx = ctx, .arena = arena, .err = err, .backfill_ix = ix};
    if (writer_init(&w) != 0)
        return -1;
    int rc = sql__scan(p, &p->proj, ctx, 0, on_backfill, flush_between, &w, arena, err);
    if (rc == 0)
        rc = send_pending(&w, true);
    *rows = w.affected;
    writer_free(&w);
    return rc;
}

int sql__run_write(const sql_plan *p, sql_run_ctx *ctx, bool may_commit, kv_arena *arena,
                   uint64_t *affected, bool *committed, sql_error *err)
{
    writer w = {.p = p, .ctx = ctx, .arena = arena, .err = err, .may_commit = may_commit};
    if (writer_init(&w) != 0)
        return -1;
    int rc;
    if (p->kind != SQL_STMT_INSERT)
        rc = run_modify(&w);
    else
        rc = p->conflict ? run_upsert(&w) : run_insert(&w);
    if (rc == 0)
        rc = send_pending(&w, true);
    *affected = w.affected;
    *committed = w.committed;
    writer_free(&w);
    return rc;
}
