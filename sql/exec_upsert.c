/*
 * exec_upsert.c - the reads of INSERT ... ON CONFLICT (plan_int.h,
 * sql__arbiter_keys, sql__conflict_read): which proposed rows find their
 * arbiter key taken, and by which existing row.
 *
 * The decision is a read in the statement's transaction: a get of each
 * arbiter key (the primary key, or the entry of a unique index, whose
 * value names the row). Transactions are serializable, so a concurrent
 * writer of the same key conflicts with that read and one of the two
 * retries (40001) instead of both deciding "absent". exec_write.c reads
 * the keys of a chunk of rows at once and then inserts (CPut), updates
 * or skips each row.
 *
 * Memory: keys, decoded rows and error strings live in the caller's
 * arena; KV responses are freed before returning.
 */
#include <assert.h>
#include <string.h>

#include "sql/plan_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"

/* Whether index `ix` (SQL__ARBITER_PK: the primary key) decides. */
static bool is_arbiter(const sql_plan *p, int ix)
{
    int a = p->conflict->arbiter;
    if (a != SQL__ARBITER_ANY)
        return a == ix;
    return ix == SQL__ARBITER_PK || p->table->indexes[ix].unique;
}

int sql__arbiter_keys(const sql_plan *p, const sql_datum *row, kv_arena *arena, sql_keybuf **keys,
                      size_t *n, sql_error *err)
{
    uint32_t nix = p->table->nindexes;
    sql_keybuf *k = kv_arena_alloc(arena, (nix + 1) * sizeof(*k));
    if (k == NULL)
        return sql__oom(arena, err);
    *n = 0;
    if (is_arbiter(p, SQL__ARBITER_PK)) {
        sql_keybuf_init(&k[*n], arena);
        if (sql__row_pk_key(&p->rc, row, &k[(*n)++], err) != 0)
            return -1;
    }
    for (uint32_t i = 0; i < nix; i++) {
        bool has_null;
        if (!is_arbiter(p, (int)i))
            continue;
        sql_keybuf_init(&k[*n], arena);
        if (sql__row_ix_key(&p->rc, i, row, &k[*n], &has_null, err) != 0)
            return -1;
        *n += !has_null;
    }
    *keys = k;
    return 0;
}

/* One get per arbiter key of every row, in row order. */
static int gets_request(sql_keybuf *const *keys, const size_t *nkeys, size_t nrows, kv_request *req,
                        kv_arena *arena, sql_error *err)
{
    if (kv_request_init(req) != 0)
        return sql__oom(arena, err);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t k = 0; k < nkeys[r]; k++) {
            kv_req q = {.method = KV_GET, .span = {.key = keys[r][k].p, .key_len = keys[r][k].len}};
            if (kv_request_add(req, &q) != 0) {
                kv_request_free(req);
                return sql__oom(arena, err);
            }
        }
    }
    return 0;
}

/* DO UPDATE through a unique index: the rows its entries name, second
 * batch; pk[i] is the key of the row that proposed row at[i] meets. */
typedef struct named_rows {
    const sql_plan *p;
    sql_datum **existing;
    const size_t *at;
} named_rows;

static int keep_named(void *arg, size_t i, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    named_rows *nr = arg;
    uint32_t ncols = nr->p->table->ncols;
    sql_datum *copy = kv_arena_alloc(arena, (ncols + 1) * sizeof(*copy));
    if (copy == NULL)
        return sql__oom(arena, err);
    memcpy(copy, row, ncols * sizeof(*copy)); /* payloads live in `arena` already */
    nr->existing[nr->at[i]] = copy;
    return 0;
}

/* Decodes the entry found for row r: the whole row (primary key), or
 * only its pk columns (a unique index), whose key goes to pk[*npk]. */
static int decode_found(const sql_plan *p, const kv_row *kr, size_t r, sql_keybuf *pk, size_t *at,
                        size_t *npk, sql_datum **existing, kv_arena *arena, sql_error *err)
{
    uint32_t ncols = p->table->ncols;
    sql_datum *row = kv_arena_alloc(arena, (ncols + 1) * sizeof(*row));
    if (row == NULL)
        return sql__oom(arena, err);
    if (p->conflict->arbiter == SQL__ARBITER_PK) {
        existing[r] = row;
        return sql__row_decode(&p->rc, &p->proj, kr->key, kr->key_len, kr->value, kr->value_len,
                               arena, row, err);
    }
    sql_keybuf_init(&pk[*npk], arena);
    at[*npk] = r;
    if (sql__row_ix_value_decode(&p->rc, kr->value, kr->value_len, arena, row, err) != 0 ||
        sql__row_pk_key(&p->rc, row, &pk[(*npk)++], err) != 0)
        return -1;
    return 0;
}

int sql__conflict_read(const sql_plan *p, sql_run_ctx *ctx, sql_keybuf *const *keys,
                       const size_t *nkeys, size_t nrows, kv_arena *arena, bool *found,
                       sql_datum **existing, sql_error *err)
{
    bool update = p->conflict->update;
    sql_keybuf *pk = kv_arena_alloc(arena, (nrows + 1) * sizeof(*pk));
    size_t *at = kv_arena_alloc(arena, (nrows + 1) * sizeof(*at));
    size_t npk = 0;
    if (pk == NULL || at == NULL)
        return sql__oom(arena, err);
    kv_request req;
    kv_response resp;
    if (gets_request(keys, nkeys, nrows, &req, arena, err) != 0)
        return -1;
    int rc = -1;
    if (kv_response_init(&resp) != 0) {
        sql__oom(arena, err);
        goto out_free_req;
    }
    rc = req.n > 0 ? sql_txn_send(ctx->txn, &req, &resp, err, arena) : 0;
    for (size_t r = 0, i = 0; r < nrows && rc == 0; r++) {
        found[r] = false;
        existing[r] = NULL;
        /* DO UPDATE has one arbiter: at most one key per row */
        assert(!update || nkeys[r] <= 1);
        for (size_t k = 0; k < nkeys[r] && rc == 0; k++, i++) {
            const kv_resp *x = &resp.resps[i];
            if (!x->found)
                continue;
            found[r] = true;
            if (update)
                rc = decode_found(p, &x->row, r, pk, at, &npk, existing, arena, err);
        }
    }
    kv_response_free(&resp);
out_free_req:
    kv_request_free(&req);
    if (rc != 0 || npk == 0)
        return rc;
    named_rows nr = {.p = p, .existing = existing, .at = at};
    if (sql__lookup(p, ctx, pk, npk, false, keep_named, &nr, arena, err) != 0)
        return -1;
    for (size_t i = 0; i < npk; i++)
        if (existing[at[i]] == NULL)
            return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR,
                                 "unique index entry of \"%s\" names no row", p->table->name);
    return 0;
}
