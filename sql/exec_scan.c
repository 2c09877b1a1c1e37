/*
 * exec_scan.c - reading the rows of a plan's access path through the
 * transaction (plan_int.h, sql__scan): key construction from the bound
 * key expressions, KV_GET for point lookups, one batch of gets for an IN
 * list, a unique index entry then the row it names, and
 * KV_SCAN / KV_REVERSE_SCAN in batches of SCAN_BATCH rows over
 * a span of the primary or a secondary index (one span per IN value on
 * a secondary index), resuming where the previous batch stopped so a
 * huge table is never loaded at once. A batch of secondary index
 * entries becomes one batch of gets of the rows they name, unless the
 * scan is index-only (the entries hold every column read). Each row is
 * decoded (only the projected columns) and passed through the residual
 * filter before the caller sees it.
 *
 * A lookup join's batch of keys (sql__lookup) is one request of gets or
 * prefix scans of the primary or a secondary index; the entries of a
 * secondary index name rows fetched like those of an index scan, in
 * batches of SCAN_BATCH gets, unless the lookup is index-only.
 *
 * Memory: keys and point-lookup rows live in the statement arena (a
 * point select allocates nothing else); each scan batch decodes into its
 * own arena, freed before the next batch, so scans run in bounded memory.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sql/plan_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"
#include "sql/vtable.h"

/* Rows per scan batch: large enough to amortise a KV round, small enough
 * to bound a batch's memory. */
#define SCAN_BATCH 1000

typedef struct scan {
    const sql_plan *p;
    const sql__rowproj *proj;
    /* the index the path reads: the primary or a secondary one (its
     * entries then lead to rows, or are the rows for an index-only scan) */
    const sql_index_desc *ix;
    const int *cols; /* table position of each of its columns */
    bool entries;    /* a secondary index */
    sql_run_ctx *ctx;
    sql__row_cb cb;
    int (*between)(void *arg, sql_error *err);
    void *arg;
    uint64_t want;  /* rows the caller takes; 0: all */
    uint64_t seen;  /* rows passed to cb */
    uint64_t cb_ns; /* EXPLAIN ANALYZE: time spent in cb */
    kv_arena *arena;
    sql_datum *row;
    sql_error *err;
} scan;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sql__eval_init(sql_eval_ctx *ec, const sql_run_ctx *ctx, const sql_datum *row, kv_arena *arena,
                    sql_error *err)
{
    *ec = (sql_eval_ctx){.arena = arena,
                         .row = row,
                         .params = ctx->params,
                         .param_types = ctx->param_types,
                         .io = ctx->io,
                         .env = ctx->env,
                         .err = err,
                         .query = ctx->query,
                         .outer = ctx->outer,
                         .subquery = sql__subquery_eval,
                         .subquery_arg = (void *)ctx};
}

/* What a key expression evaluated to. */
enum { KEY_OK = 0, KEY_NULL = 1, KEY_BELOW = 2, KEY_ABOVE = 3 };

/* The value of key expression `e` for table column `col`: KEY_OK (a NULL
 * datum for the test `col IS NULL`), KEY_NULL (no row compares equal to
 * NULL), or KEY_BELOW / KEY_ABOVE when an
 * integer compared in a type wider than the column's (plan.c lets the
 * binder's widening casts serve keys) lies outside the column's range, so
 * no key holds it. -1 on error. */
static int key_value(scan *s, int col, const sql_bexpr *e, sql_datum *d)
{
    if (e->kind == SQL_BEXPR_NULLTEST) { /* col IS NULL on a secondary index */
        d->isnull = true;
        return KEY_OK;
    }
    sql_eval_ctx ec;
    sql__eval_init(&ec, s->ctx, NULL, s->arena, s->err);
    if (sql_expr_eval(&ec, e, d) != 0)
        return -1;
    if (d->isnull)
        return KEY_NULL;
    sql_type_id t = s->p->table->cols[col].type.oid;
    if (t != SQL_T_INT2 && t != SQL_T_INT4)
        return KEY_OK;
    int64_t max = t == SQL_T_INT2 ? INT16_MAX : INT32_MAX;
    return d->v.i > max ? KEY_ABOVE : d->v.i < -max - 1 ? KEY_BELOW : KEY_OK;
}

/* Appends column `at` of the scanned index; NULLs sort last ascending,
 * first descending (rowcodec.c writes them so). */
static int put_key_col(scan *s, uint32_t at, const sql_datum *d, sql_keybuf *b)
{
    sql_key_dir dir = s->ix->dirs[at];
    return sql_key_put(b, s->p->table->cols[s->cols[at]].type, dir, dir == SQL_KEY_DESC, d, s->err);
}

/* /table/index/ and the values of the leading index columns fixed by =.
 * Returns 1 when no key can match. */
static int key_base(scan *s, sql_keybuf *b)
{
    const sql_plan *p = s->p;
    sql_keybuf_init(b, s->arena);
    if (sql_key_put_prefix(b, p->table->id, s->ix->id, s->err) != 0)
        return -1;
    for (uint32_t i = 0; i < p->path.neq; i++) {
        sql_datum d;
        int rc = key_value(s, s->cols[i], p->path.eq[i], &d);
        if (rc != KEY_OK)
            return rc < 0 ? -1 : 1;
        if (put_key_col(s, i, &d, b) != 0)
            return -1;
    }
    return 0;
}

/* `base` followed by index column neq = the value of `e`; the key_value
 * status (the key is built only for KEY_OK). */
static int key_with(scan *s, const sql_keybuf *base, const sql_bexpr *e, sql_keybuf *out)
{
    uint32_t at = s->p->path.neq;
    sql_datum d;
    int rc = key_value(s, s->cols[at], e, &d);
    if (rc != KEY_OK)
        return rc;
    sql_keybuf_init(out, s->arena);
    if (sql_keybuf_append(out, base->p, base->len, s->err) != 0 || put_key_col(s, at, &d, out) != 0)
        return -1;
    return KEY_OK;
}

/* The first key after every key that starts with b (b's "prefix end"). */
static int prefix_end(scan *s, const sql_keybuf *b, sql_keybuf *out)
{
    sql_keybuf_init(out, s->arena);
    size_t n = b->len;
    while (n > 0 && b->p[n - 1] == 0xFF)
        n--;
    assert(n > 0); /* every key starts with the table id, never 0xFF */
    if (sql_keybuf_append(out, b->p, n, s->err) != 0)
        return -1;
    out->p[n - 1]++;
    return 0;
}

/* Whether the decoded s->row passes the filter: 1 it does, 0 it does
 * not, -1 with s->err set. */
static int filter_row(scan *s, kv_arena *arena)
{
    const sql_plan *p = s->p;
    if (p->filter == NULL)
        return 1;
    sql_eval_ctx ec;
    sql_tribool ok;
    sql__eval_init(&ec, s->ctx, s->row, arena, s->err);
    if (sql_expr_eval_bool(&ec, p->filter, &ok) != 0)
        return -1;
    return ok == SQL_TRUE;
}

/* Filters the decoded s->row and hands it to the callback. */
static int pass(scan *s, kv_arena *arena)
{
    int ok = filter_row(s, arena);
    if (ok <= 0)
        return ok;
    s->seen++;
    if (s->ctx->stats == NULL)
        return s->cb(s->arg, s->row, arena, s->err);
    uint64_t t0 = now_ns();
    int rc = s->cb(s->arg, s->row, arena, s->err);
    s->cb_ns += now_ns() - t0;
    return rc;
}

/* Decodes one row of the primary index into s->row. */
static int decode(scan *s, const kv_row *kr, kv_arena *arena)
{
    const sql_plan *p = s->p;
    return sql__row_decode(&p->rc, s->proj, kr->key, kr->key_len, kr->value, kr->value_len, arena,
                           s->row, s->err);
}

/* Decodes one row of the primary index and passes it on. */
static int emit(scan *s, const kv_row *kr, kv_arena *arena)
{
    if (decode(s, kr, arena) != 0)
        return -1;
    return pass(s, arena);
}

/* Sends one batch of gets for `keys` into `resp`, which the caller frees
 * (kv_response_free) whatever the result. */
static int send_gets(scan *s, const sql_keybuf *keys, size_t n, kv_response *resp)
{
    kv_request req;
    int rc = -1;
    if (kv_response_init(resp) != 0)
        return sql__oom(s->arena, s->err);
    if (kv_request_init(&req) != 0)
        return sql__oom(s->arena, s->err);
    for (size_t i = 0; i < n; i++) {
        kv_req q = {.method = KV_GET, .span = {.key = keys[i].p, .key_len = keys[i].len}};
        if (kv_request_add(&req, &q) != 0) {
            sql__oom(s->arena, s->err);
            goto out_free_req;
        }
    }
    rc = sql_txn_send(s->ctx->txn, &req, resp, s->err, s->arena);
out_free_req:
    kv_request_free(&req);
    return rc;
}

/* Gets `keys` and emits the rows found, in the order of `keys`. */
static int get_keys(scan *s, const sql_keybuf *keys, size_t n)
{
    kv_response resp;
    int rc = send_gets(s, keys, n, &resp);
    for (size_t i = 0; i < resp.n && rc == 0; i++)
        if (resp.resps[i].found)
            rc = emit(s, &resp.resps[i].row, s->arena);
    kv_response_free(&resp);
    return rc < 0 ? -1 : 0;
}

/* The primary key of the row secondary index entry `e` names, in
 * `arena` (s->row's pk columns are overwritten). */
static int entry_pk_key(scan *s, const kv_row *e, kv_arena *arena, sql_keybuf *key)
{
    sql_keybuf_init(key, arena);
    if (sql__row_ix_value_decode(&s->p->rc, e->value, e->value_len, arena, s->row, s->err) != 0)
        return -1;
    return sql__row_pk_key(&s->p->rc, s->row, key, s->err);
}

/* The key of the unique index entry p->path asks for; 1 when no entry
 * can match. */
static int unique_key(scan *s, sql_keybuf *key)
{
    const sql_plan *p = s->p;
    const sql_table_desc *t = p->table;
    const sql_index_desc *ix = &t->indexes[p->path.ix];
    sql_keybuf_init(key, s->arena);
    if (sql_key_put_prefix(key, t->id, ix->id, s->err) != 0)
        return -1;
    for (uint32_t i = 0; i < ix->ncols; i++) {
        int col = p->rc.ix_cols[p->path.ix][i];
        sql_datum d;
        int rc = key_value(s, col, p->path.eq[i], &d);
        if (rc != KEY_OK)
            return rc < 0 ? -1 : 1;
        sql_key_dir dir = ix->dirs[i];
        if (sql_key_put(key, t->cols[col].type, dir, dir == SQL_KEY_DESC, &d, s->err) != 0)
            return -1;
    }
    return 0;
}

/* A unique index entry found by its columns, then the row it names. */
static int unique_lookup(scan *s)
{
    sql_keybuf key;
    int rc = unique_key(s, &key);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    kv_response resp;
    bool found = false;
    rc = send_gets(s, &key, 1, &resp);
    if (rc == 0 && (found = resp.resps[0].found))
        rc = entry_pk_key(s, &resp.resps[0].row, s->arena, &key);
    kv_response_free(&resp);
    if (rc != 0 || !found)
        return rc;
    return get_keys(s, &key, 1);
}

static int point(scan *s)
{
    sql_keybuf key;
    int rc = key_base(s, &key);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    return get_keys(s, &key, 1);
}

static int cmp_keys(const void *a, const void *b)
{
    const sql_keybuf *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->p, y->p, n);
    if (c == 0)
        c = (x->len > y->len) - (x->len < y->len);
    return c;
}

/* The distinct keys `base` + each IN value of p->path, in scan order;
 * *n of them in `arena`. */
static int in_keys(scan *s, const sql_keybuf *base, sql_keybuf **out, size_t *n)
{
    const sql__path *path = &s->p->path;
    sql_keybuf *keys = kv_arena_alloc(s->arena, (path->nin + 1) * sizeof(*keys));
    if (keys == NULL)
        return sql__oom(s->arena, s->err);
    size_t m = 0;
    for (int i = 0; i < path->nin; i++) {
        int rc = key_with(s, base, path->in[i], &keys[m]);
        if (rc < 0)
            return -1;
        m += rc == KEY_OK;
    }
    qsort(keys, m, sizeof(*keys), cmp_keys);
    *n = 0;
    for (size_t i = 0; i < m; i++)
        if (*n == 0 || cmp_keys(&keys[*n - 1], &keys[i]) != 0)
            keys[(*n)++] = keys[i];
    for (size_t i = 0; path->reverse && i < *n / 2; i++) {
        sql_keybuf k = keys[i];
        keys[i] = keys[*n - 1 - i];
        keys[*n - 1 - i] = k;
    }
    *out = keys;
    return 0;
}

/* IN on the last pk column: the distinct keys in scan order, one batch. */
static int points(scan *s)
{
    sql_keybuf base;
    int rc = key_base(s, &base);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    sql_keybuf *keys;
    size_t m;
    if (in_keys(s, &base, &keys, &m) != 0)
        return -1;
    return m == 0 ? 0 : get_keys(s, keys, m);
}

/* The key of value bound `e` (NULL: none) into *k, or *open when the
 * bound excludes nothing; 1 when it excludes everything. */
static int value_bound(scan *s, const sql_keybuf *base, const sql_bexpr *e, bool lower,
                       sql_keybuf *k, bool *open)
{
    *open = e == NULL;
    if (e == NULL)
        return 0;
    int rc = key_with(s, base, e, k);
    if (rc < 0 || rc == KEY_NULL)
        return rc < 0 ? -1 : 1;
    if (rc != KEY_OK) {
        /* outside the column's range: below a lower bound or above an
         * upper one excludes nothing, the other way round everything */
        *open = (rc == KEY_BELOW) == lower;
        return *open ? 0 : 1;
    }
    return 0;
}

/* A span edge: key `k` itself, or (`past`) the first key after every key
 * that starts with it. */
static int edge(scan *s, const sql_keybuf *k, bool past, sql_keybuf *out)
{
    if (past)
        return prefix_end(s, k, out);
    *out = *k;
    return 0;
}

/* `base` followed by NULL in index column neq. */
static int null_key(scan *s, const sql_keybuf *base, sql_keybuf *out)
{
    sql_datum null = {.isnull = true};
    sql_keybuf_init(out, s->arena);
    if (sql_keybuf_append(out, base->p, base->len, s->err) != 0)
        return -1;
    return put_key_col(s, s->p->path.neq, &null, out);
}

/* [start, end) in key order. A DESC column stores values in reverse, so
 * the value range's upper bound gives the start key. 1: empty. */
static int span_keys(scan *s, sql_keybuf *start, sql_keybuf *end)
{
    const sql__path *path = &s->p->path;
    sql_keybuf base, lo, hi;
    bool lo_open, hi_open;
    int rc = key_base(s, &base);
    if (rc == 0)
        rc = value_bound(s, &base, path->lo, true, &lo, &lo_open);
    if (rc == 0)
        rc = value_bound(s, &base, path->hi, false, &hi, &hi_open);
    if (rc != 0)
        return rc;
    bool desc = path->neq < s->ix->ncols && s->ix->dirs[path->neq] == SQL_KEY_DESC;
    const sql_keybuf *first = desc ? &hi : &lo, *last = desc ? &lo : &hi;
    bool first_open = desc ? hi_open : lo_open, last_open = desc ? lo_open : hi_open;
    bool first_incl = desc ? path->hi_incl : path->lo_incl;
    bool last_incl = desc ? path->lo_incl : path->hi_incl;
    /* a range rejects NULL, whose keys sit after the values ascending and
     * before them descending: the open side stops at them */
    bool ranged = path->lo != NULL || path->hi != NULL;
    bool skip_nulls = ranged && desc, stop_at_nulls = ranged && !desc;
    sql_keybuf nulls;
    if (ranged && null_key(s, &base, &nulls) != 0)
        return -1;
    int rc1 = first_open ? edge(s, skip_nulls ? &nulls : &base, skip_nulls, start)
                         : edge(s, first, !first_incl, start);
    int rc2 = last_open ? edge(s, stop_at_nulls ? &nulls : &base, !stop_at_nulls, end)
                        : edge(s, last, last_incl, end);
    if (rc1 != 0 || rc2 != 0)
        return -1;
    return cmp_keys(start, end) >= 0 ? 1 : 0;
}

/* Appends the scan of `span` to a fresh request. */
static int scan_request(scan *s, const kv_span *span, kv_request *req)
{
    if (kv_request_init(req) != 0)
        return sql__oom(s->arena, s->err);
    size_t max = SCAN_BATCH;
    if (s->want > 0 && s->p->filter == NULL && s->want - s->seen < max)
        max = (size_t)(s->want - s->seen);
    kv_req q = {.method = s->p->path.reverse ? KV_REVERSE_SCAN : KV_SCAN, .span = *span};
    q.u.scan.max_rows = max;
    if (kv_request_add(req, &q) != 0) {
        kv_request_free(req);
        return sql__oom(s->arena, s->err);
    }
    return 0;
}

/* The rows a batch of index entries names, fetched in one batch of gets
 * and emitted in index order. */
static int lookup_rows(scan *s, const kv_resp *r, kv_arena *batch)
{
    if (r->n_rows == 0)
        return 0;
    sql_keybuf *keys = kv_arena_alloc(batch, r->n_rows * sizeof(*keys));
    if (keys == NULL)
        return sql__oom(s->arena, s->err);
    for (size_t i = 0; i < r->n_rows; i++)
        if (entry_pk_key(s, &r->rows[i], batch, &keys[i]) != 0)
            return -1;
    kv_response resp;
    int rc = send_gets(s, keys, r->n_rows, &resp);
    for (size_t i = 0; i < resp.n && rc == 0; i++)
        if (resp.resps[i].found)
            rc = emit(s, &resp.resps[i].row, batch);
    kv_response_free(&resp);
    return rc;
}

/* Decodes pair kr into s->row: with `entry` an index-only entry of the
 * secondary index s reads, else a row of the primary index. */
static int decode_pair(scan *s, const kv_row *kr, bool entry, kv_arena *arena)
{
    if (!entry)
        return decode(s, kr, arena);
    return sql__row_ix_decode(&s->p->rc, s->p->path.ix, kr->key, kr->key_len, kr->value,
                              kr->value_len, arena, s->row, s->err);
}

/* Index-only: each entry holds every column the statement reads. */
static int entry_rows(scan *s, const kv_resp *r, kv_arena *batch)
{
    int rc = 0;
    for (size_t i = 0; i < r->n_rows && rc == 0; i++) {
        rc = decode_pair(s, &r->rows[i], true, batch);
        if (rc == 0)
            rc = pass(s, batch);
    }
    return rc;
}

/* Emits one batch's rows into a batch arena freed afterwards. 1: the
 * callback stopped the scan. */
static int scan_rows(scan *s, const kv_resp *r)
{
    kv_arena *batch;
    if (kv_arena_create(&batch) != 0)
        return sql__oom(s->arena, s->err);
    int rc = 0;
    if (s->entries && s->p->path.index_only)
        rc = entry_rows(s, r, batch);
    else if (s->entries)
        rc = lookup_rows(s, r, batch);
    for (size_t i = 0; !s->entries && i < r->n_rows && rc == 0; i++)
        rc = emit(s, &r->rows[i], batch);
    if (rc < 0) /* the error may be in the batch's memory */
        sql_error_move(s->err, s->arena);
    kv_arena_destroy(batch);
    if (rc == 0 && s->want > 0 && s->seen >= s->want)
        rc = 1;
    return rc;
}

/* Scans [start, end) batch by batch. 1: the callback stopped it. */
static int scan_span(scan *s, const sql_keybuf *start, const sql_keybuf *end)
{
    int rc;
    kv_span span = {.key = start->p, .key_len = start->len, .end_key = end->p, .end_len = end->len};
    kv_request req;
    if (scan_request(s, &span, &req) != 0)
        return -1;
    for (;;) {
        kv_response resp;
        if (kv_response_init(&resp) != 0) {
            kv_request_free(&req);
            rc = sql__oom(s->arena, s->err);
            break;
        }
        rc = sql_txn_send(s->ctx->txn, &req, &resp, s->err, s->arena);
        kv_request_free(&req);
        if (rc == 0)
            rc = scan_rows(s, &resp.resps[0]);
        bool more = rc == 0 && resp.resps[0].resume.key != NULL;
        if (more)
            rc = scan_request(s, &resp.resps[0].resume, &req);
        kv_response_free(&resp);
        if (!more || rc != 0)
            break;
        if (s->between != NULL && (rc = s->between(s->arg, s->err)) != 0) {
            kv_request_free(&req);
            break;
        }
    }
    return rc;
}

static int span_scan(scan *s)
{
    sql_keybuf start, end;
    int rc = span_keys(s, &start, &end);
    if (rc == 0)
        rc = scan_span(s, &start, &end);
    return rc < 0 ? -1 : 0;
}

/* A secondary index: one span, or one span per IN value. */
static int index_scan(scan *s)
{
    if (s->p->path.nin == 0)
        return span_scan(s);
    sql_keybuf base, *keys, end;
    size_t n;
    int rc = key_base(s, &base);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (in_keys(s, &base, &keys, &n) != 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        if ((rc = prefix_end(s, &keys[i], &end)) == 0)
            rc = scan_span(s, &keys[i], &end);
    return rc < 0 ? -1 : 0;
}

static int read_path(scan *s)
{
    switch (s->p->path.kind) {
    case SQL__PATH_POINT:
        return point(s);
    case SQL__PATH_POINTS:
        return points(s);
    case SQL__PATH_SPAN:
        return span_scan(s);
    case SQL__PATH_UNIQUE:
        return unique_lookup(s);
    case SQL__PATH_INDEX:
        return index_scan(s);
    case SQL__PATH_NONE:
        break;
    }
    assert(!"scan without a table");
    return -1;
}

/* The row buffer and the index s->p's path reads. */
static int scan_init(scan *s)
{
    const sql_plan *p = s->p;
    s->row = kv_arena_alloc(s->arena, (p->table->ncols + 1) * sizeof(*s->row));
    if (s->row == NULL)
        return sql__oom(s->arena, s->err);
    s->entries = p->path.kind == SQL__PATH_INDEX;
    s->ix = s->entries ? &p->table->indexes[p->path.ix] : &p->table->primary;
    s->cols = s->entries ? p->rc.ix_cols[p->path.ix] : p->rc.pk_cols;
    return 0;
}

int sql__scan(const sql_plan *p, const sql__rowproj *proj, sql_run_ctx *ctx, uint64_t want,
              sql__row_cb cb, int (*between)(void *arg, sql_error *err), void *arg, kv_arena *arena,
              sql_error *err)
{
    assert(p->table != NULL);
    if (p->table->is_virtual)
        return sql__vtable_scan(p, ctx, cb, arg, arena, err);
    scan s = {.p = p,
              .proj = proj,
              .ctx = ctx,
              .cb = cb,
              .between = between,
              .arg = arg,
              .want = want,
              .arena = arena,
              .err = err};
    if (scan_init(&s) != 0)
        return -1;
    uint64_t t0 = ctx->stats ? now_ns() : 0;
    int rc = read_path(&s);
    if (ctx->stats) {
        ctx->stats->scan_rows += s.seen;
        ctx->stats->scan_ns += now_ns() - t0 - s.cb_ns;
    }
    return rc;
}

/* ---- lookups for joins ------------------------------------------------ */

/* A batch of lookups. Through a secondary index that is not index-only,
 * the entries found queue the primary keys of the rows they name, which
 * go out in batches of SCAN_BATCH gets (a second KV round). */
typedef struct lookup {
    scan s;
    sql__found_cb found;
    bool fetch;       /* entries name rows to fetch */
    sql_keybuf *keys; /* fetch: SCAN_BATCH queued pk keys */
    size_t *at;       /* fetch: the lookup each queued key serves */
    size_t n;
} lookup;

/* Passes each pair (rows, or index-only entries with `entries`) found
 * for lookup i that passes the filter to found; 1 when it stopped. */
static int found_rows(lookup *l, size_t i, const kv_row *pairs, size_t n, bool entries)
{
    scan *s = &l->s;
    for (size_t r = 0; r < n; r++) {
        int ok = decode_pair(s, &pairs[r], entries, s->arena) != 0 ? -1 : filter_row(s, s->arena);
        if (ok < 0)
            return -1;
        int rc = ok ? l->found(s->arg, i, s->row, s->arena, s->err) : 0;
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Gets the queued rows in one batch and passes them on; 1: stopped. */
static int fetch_rows(lookup *l)
{
    kv_response resp;
    int rc = send_gets(&l->s, l->keys, l->n, &resp);
    for (size_t j = 0; j < resp.n && rc == 0; j++)
        if (resp.resps[j].found)
            rc = found_rows(l, l->at[j], &resp.resps[j].row, 1, false);
    kv_response_free(&resp);
    l->n = 0;
    return rc;
}

/* What lookup i found: passed on, or (fetch) queued. 1: stopped. */
static int lookup_pairs(lookup *l, size_t i, const kv_row *pairs, size_t n)
{
    if (!l->fetch)
        return found_rows(l, i, pairs, n, l->s.entries);
    for (size_t r = 0; r < n; r++) {
        int rc = l->n == SCAN_BATCH ? fetch_rows(l) : 0;
        if (rc != 0)
            return rc;
        if (entry_pk_key(&l->s, &pairs[r], l->s.arena, &l->keys[l->n]) != 0)
            return -1;
        l->at[l->n++] = i;
    }
    return 0;
}

/* The rest of a prefix lookup the KV layer cut short. */
static int lookup_resume(lookup *l, size_t i, kv_span resume)
{
    scan *s = &l->s;
    int rc = 0;
    while (rc == 0 && resume.key != NULL) {
        kv_request req;
        kv_response resp;
        if (scan_request(s, &resume, &req) != 0)
            return -1;
        if (kv_response_init(&resp) != 0) {
            kv_request_free(&req);
            return sql__oom(s->arena, s->err);
        }
        rc = sql_txn_send(s->ctx->txn, &req, &resp, s->err, s->arena);
        kv_request_free(&req);
        const kv_resp *r = &resp.resps[0];
        if (rc == 0)
            rc = lookup_pairs(l, i, r->rows, r->n_rows);
        resume = (kv_span){0};
        if (rc == 0 && r->resume.key != NULL) {
            /* the span's bytes live in resp: copy them before freeing it */
            sql_keybuf k, e;
            sql_keybuf_init(&k, s->arena);
            sql_keybuf_init(&e, s->arena);
            if (sql_keybuf_append(&k, r->resume.key, r->resume.key_len, s->err) != 0 ||
                sql_keybuf_append(&e, r->resume.end_key, r->resume.end_len, s->err) != 0)
                rc = -1;
            resume = (kv_span){.key = k.p, .key_len = k.len, .end_key = e.p, .end_len = e.len};
        }
        kv_response_free(&resp);
    }
    return rc;
}

/* One request: a get per key, or a scan of every key's prefix. */
static int lookup_request(scan *s, const sql_keybuf *keys, size_t n, bool prefix, kv_request *req)
{
    if (kv_request_init(req) != 0)
        return sql__oom(s->arena, s->err);
    for (size_t i = 0; i < n; i++) {
        kv_req q = {.method = KV_GET, .span = {.key = keys[i].p, .key_len = keys[i].len}};
        sql_keybuf end;
        if (prefix) {
            if (prefix_end(s, &keys[i], &end) != 0)
                goto out_free_req;
            q.method = KV_SCAN;
            q.span.end_key = end.p;
            q.span.end_len = end.len;
        }
        if (kv_request_add(req, &q) != 0) {
            sql__oom(s->arena, s->err);
            goto out_free_req;
        }
    }
    return 0;
out_free_req:
    kv_request_free(req);
    return -1;
}

/* Sets up a lookup through p's path: the fetch queue unless the path
 * is the primary key or an index-only one. */
static int lookup_init(lookup *l)
{
    if (scan_init(&l->s) != 0)
        return -1;
    l->fetch = l->s.entries && !l->s.p->path.index_only;
    if (!l->fetch)
        return 0;
    l->keys = kv_arena_alloc(l->s.arena, SCAN_BATCH * sizeof(*l->keys));
    l->at = kv_arena_alloc(l->s.arena, SCAN_BATCH * sizeof(*l->at));
    return l->keys && l->at ? 0 : sql__oom(l->s.arena, l->s.err);
}

int sql__lookup(const sql_plan *p, sql_run_ctx *ctx, const sql_keybuf *keys, size_t n, bool prefix,
                sql__found_cb found, void *arg, kv_arena *arena, sql_error *err)
{
    lookup l = {.s = {.p = p, .proj = &p->proj, .ctx = ctx, .arg = arg, .arena = arena, .err = err},
                .found = found};
    kv_request req;
    kv_response resp;
    if (lookup_init(&l) != 0 || lookup_request(&l.s, keys, n, prefix, &req) != 0)
        return -1;
    int rc = -1;
    if (kv_response_init(&resp) != 0) {
        sql__oom(arena, err);
        goto out_free_req;
    }
    rc = sql_txn_send(ctx->txn, &req, &resp, err, arena);
    for (size_t i = 0; i < resp.n && rc == 0; i++) {
        const kv_resp *r = &resp.resps[i];
        if (prefix)
            rc = lookup_pairs(&l, i, r->rows, r->n_rows);
        else if (r->found)
            rc = lookup_pairs(&l, i, &r->row, 1);
        if (rc == 0 && prefix)
            rc = lookup_resume(&l, i, r->resume);
    }
    if (rc == 0 && l.n > 0)
        rc = fetch_rows(&l);
    kv_response_free(&resp);
out_free_req:
    kv_request_free(&req);
    return rc < 0 ? -1 : 0;
}
