/*
 * exec_agg.c - hash aggregation and DISTINCT sets (plan_int.h,
 * sql__agg_run, sql__rowset_*; docs/sql.md, "Aggregation").
 *
 * Groups are found by their key: the group key values written with the
 * order-preserving key encoding (sql/keyenc.h), which is canonical -
 * values that compare equal (1.5 and 1.50, -0 and 0, NULL and NULL)
 * encode to the same bytes - so a hash table over those bytes groups as
 * PostgreSQL's GROUP BY does. Groups are emitted in order of first
 * appearance. A query without GROUP BY has one group, even over no rows.
 *
 * Aggregate states (one per call per group):
 *   count          int64
 *   sum/avg of ints __int128 sum (no overflow short of 2^64 rows), count
 *   sum/avg numeric GMP integer at the largest scale seen, count, and
 *                  NaN / +-Infinity flags
 *   sum/avg float  double (float4's sum is rounded to float each step,
 *                  as float4pl does), overflow is 22003 like float8pl
 *   min/max        the value, its payload kept in a reusable buffer
 *   bool_and/or    bool
 *   string_agg     a growing buffer
 *   array_agg      a growing array of the inputs, NULLs included (the one
 *                  aggregate here that is not strict)
 * agg(DISTINCT x) first checks (group, x) against a set of its own.
 *
 * Memory: groups, states and sets live in the statement arena, and
 * every allocation is charged to the execution's sql__membudget: past
 * SQL__QUERY_MEM_BUDGET the query fails with 53200 instead of exhausting
 * the node. GMP integers (numeric sums) are malloc'd by GMP and freed
 * with the run, success or not. Output rows are built in an arena
 * recycled every EMIT_BATCH groups.
 */
#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sql/keyenc.h"
#include "sql/plan_int.h"
#include "sql/txn.h"
#include "sql/types_int.h"

/* Groups whose output rows share one arena. */
#define EMIT_BATCH 1024

/* ---- resolution -------------------------------------------------------- */

static const sql_type type_text = {SQL_T_TEXT, -1};
static const sql_type type_bool = {SQL_T_BOOL, -1};

static const char *arg_type_name(const sql_bexpr *a)
{
    return a->type.oid == SQL_T_UNKNOWN ? "unknown" : sql_type_name(a->type.oid);
}

/* "name(type, ...)" for 42883 and 42725. */
static void signature(const sql_expr *call, sql_bexpr **args, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "%s(", call->name);
    for (int i = 0; i < call->nargs && len < cap; i++)
        len +=
            (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", arg_type_name(args[i]));
    if (call->agg_star && len < cap)
        len += (size_t)snprintf(buf + len, cap - len, "*");
    if (len < cap)
        snprintf(buf + len, cap - len, ")");
}

static int no_such(sql_bind_ctx *bc, const sql_expr *call, sql_bexpr **args, bool ambiguous,
                   sql_error *err)
{
    char sig[256];
    signature(call, args, sig, sizeof sig);
    if (ambiguous) {
        sql_error_set(err, bc->arena, SQL_STATE_AMBIGUOUS_FUNCTION, "function %s is not unique",
                      sig);
        sql_error_hint(err, bc->arena,
                       "Could not choose a best candidate function. You might need to add "
                       "explicit type casts.");
    } else {
        sql_error_set(err, bc->arena, SQL_STATE_UNDEFINED_FUNCTION, "function %s does not exist",
                      sig);
        sql_error_hint(err, bc->arena,
                       "No function matches the given name and argument types. You might need "
                       "to add explicit type casts.");
    }
    sql_expr_error_position(err, bc->query, call->location);
    return -1;
}

static bool is_int(sql_type_id t)
{
    return t == SQL_T_INT2 || t == SQL_T_INT4 || t == SQL_T_INT8;
}

static bool is_string(sql_type_id t)
{
    return t == SQL_T_TEXT || t == SQL_T_VARCHAR || t == SQL_T_BPCHAR || t == SQL_T_UNKNOWN;
}

/* sum and avg: by the argument's numeric type. 1 when none fits. */
static int resolve_arith(bool avg, sql_type_id t, sql__aggcall *c)
{
    static const sql_type numeric = {SQL_T_NUMERIC, -1}, int8 = {SQL_T_INT8, -1},
                          float8 = {SQL_T_FLOAT8, -1}, float4 = {SQL_T_FLOAT4, -1};
    if (is_int(t)) {
        c->fn = avg ? SQL__AGG_AVG_INT : SQL__AGG_SUM_INT;
        c->type = avg || t == SQL_T_INT8 ? numeric : int8;
    } else if (t == SQL_T_NUMERIC) {
        c->fn = avg ? SQL__AGG_AVG_NUMERIC : SQL__AGG_SUM_NUMERIC;
        c->type = numeric;
    } else if (t == SQL_T_FLOAT4 || t == SQL_T_FLOAT8) {
        c->fn = avg ? SQL__AGG_AVG_FLOAT : SQL__AGG_SUM_FLOAT;
        c->type = avg || t == SQL_T_FLOAT8 ? float8 : float4;
    } else {
        return 1;
    }
    return 0;
}

/* min and max: the types with a btree order PostgreSQL aggregates over;
 * varchar and unknown go through text. 1 when none fits. */
static int resolve_minmax(sql_bind_ctx *bc, bool max, sql_bexpr **arg, sql__aggcall *c,
                          sql_error *err)
{
    sql_type_id t = (*arg)->type.oid;
    c->fn = max ? SQL__AGG_MAX : SQL__AGG_MIN;
    if (t == SQL_T_BOOL || t == SQL_T_UUID || t == SQL_T_BYTEA || t == SQL_T_VOID)
        return 1;
    if ((t == SQL_T_VARCHAR || t == SQL_T_UNKNOWN) &&
        sql_expr_coerce(bc, *arg, type_text, arg, err))
        return -1;
    c->type = (sql_type){(*arg)->type.oid, -1};
    return 0;
}

/* string_agg(text, text) or string_agg(bytea, bytea). 1 when none fits. */
static int resolve_string_agg(sql_bind_ctx *bc, sql_bexpr **args, sql__aggcall *c, sql_error *err)
{
    c->fn = SQL__AGG_STRING_AGG;
    sql_type_id a = args[0]->type.oid, b = args[1]->type.oid;
    if (a == SQL_T_BYTEA && (b == SQL_T_BYTEA || b == SQL_T_UNKNOWN)) {
        c->type = (sql_type){SQL_T_BYTEA, -1};
        return sql_expr_coerce(bc, args[1], c->type, &args[1], err) != 0 ? -1 : 0;
    }
    if (!is_string(a) || !is_string(b))
        return 1;
    c->type = type_text;
    if (sql_expr_coerce(bc, args[0], type_text, &args[0], err) != 0 ||
        sql_expr_coerce(bc, args[1], type_text, &args[1], err) != 0)
        return -1;
    return 0;
}

/* array_agg(anynonarray): 2 (ambiguous, as PostgreSQL finds it) for an
 * unknown input; an array input (whose result would have two dimensions)
 * is 0A000. */
static int resolve_array_agg(sql_bind_ctx *bc, const sql_expr *call, sql_type t, sql__aggcall *c,
                             sql_error *err)
{
    c->fn = SQL__AGG_ARRAY_AGG;
    if (t.oid == SQL_T_UNKNOWN) /* anynonarray or anyarray: PostgreSQL cannot choose */
        return 2;
    if (sql_type_array_elem(t.oid)) {
        sql_error_set(err, bc->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                      "array_agg over arrays is not supported yet");
        sql_expr_error_position(err, bc->query, call->location);
        return -1;
    }
    if (!sql_type_array_of(t.oid))
        return 1;
    c->type = (sql_type){sql_type_array_of(t.oid), t.typmod};
    return 0;
}

static int resolve_call(sql_bind_ctx *bc, const sql_expr *call, sql_bexpr **args, sql__aggcall *c,
                        sql_error *err)
{
    const char *name = call->name;
    sql_type_id t = call->nargs > 0 ? args[0]->type.oid : 0;
    if (strcmp(name, "count") == 0) {
        c->fn = call->agg_star ? SQL__AGG_COUNT_STAR : SQL__AGG_COUNT;
        c->type = (sql_type){SQL_T_INT8, -1};
        return call->nargs == (call->agg_star ? 0 : 1) ? 0 : 1;
    }
    if (call->agg_star || call->nargs != (strcmp(name, "string_agg") == 0 ? 2 : 1))
        return 1;
    if (strcmp(name, "sum") == 0 || strcmp(name, "avg") == 0)
        return t == SQL_T_UNKNOWN ? 2 : resolve_arith(name[0] == 'a', t, c);
    if (strcmp(name, "min") == 0 || strcmp(name, "max") == 0)
        return resolve_minmax(bc, name[1] == 'a', &args[0], c, err);
    if (strcmp(name, "string_agg") == 0)
        return resolve_string_agg(bc, args, c, err);
    if (strcmp(name, "array_agg") == 0)
        return resolve_array_agg(bc, call, args[0]->type, c, err);
    /* bool_and, bool_or, every */
    if (t != SQL_T_BOOL && t != SQL_T_UNKNOWN)
        return 1;
    c->fn = strcmp(name, "bool_or") == 0 ? SQL__AGG_BOOL_OR : SQL__AGG_BOOL_AND;
    c->type = type_bool;
    return sql_expr_coerce(bc, args[0], type_bool, &args[0], err) != 0 ? -1 : 0;
}

int sql__agg_resolve(sql_bind_ctx *bc, const sql_expr *call, sql_bexpr **args, sql__aggcall *out,
                     sql_error *err)
{
    *out = (sql__aggcall){.distinct = call->agg_distinct};
    int rc = resolve_call(bc, call, args, out, err);
    if (rc > 0)
        return no_such(bc, call, args, rc == 2, err);
    if (rc < 0)
        return -1;
    out->arg = call->nargs > 0 ? args[0] : NULL;
    out->delim = call->nargs > 1 ? args[1] : NULL;
    return 0;
}

/* ---- memory budget ------------------------------------------------------ */

/* Counts n bytes against the budget; 53200 naming operator `op` past it. */
int sql__mem_account(sql__membudget *mem, kv_arena *arena, size_t n, const char *op, sql_error *err)
{
    if (mem->used + n > SQL__QUERY_MEM_BUDGET) {
        sql_error_set(err, arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
        sql_error_detail(err, arena,
                         "Failed on request of size %zu in %s: the query's memory budget of %zu "
                         "MB is used up.",
                         n, op, SQL__QUERY_MEM_BUDGET >> 20);
        return -1;
    }
    mem->used += n;
    return 0;
}

/* n bytes of `arena`, counted against the budget. */
void *sql__mem_charge(sql__membudget *mem, kv_arena *arena, size_t n, const char *op,
                      sql_error *err)
{
    if (sql__mem_account(mem, arena, n, op, err) != 0)
        return NULL;
    void *p = kv_arena_alloc(arena, n ? n : 1);
    if (p == NULL)
        sql__oom(arena, err);
    return p;
}

/* The bytes a datum's payload (text, numeric limbs) takes. */
size_t sql__datum_payload(sql_type_id t, const sql_datum *d)
{
    if (d->isnull)
        return 0;
    if (t == SQL_T_NUMERIC)
        return (size_t)abs(d->v.num.size) * sizeof(mp_limb_t);
    if (t == SQL_T_TEXT || t == SQL_T_VARCHAR || t == SQL_T_BPCHAR || t == SQL_T_BYTEA)
        return d->v.s.len;
    if (sql_type_array_elem(t)) {
        const sql_array *a = d->v.arr;
        size_t n = sizeof *a + (size_t)a->n * sizeof *a->elems;
        for (int32_t i = 0; i < a->n; i++)
            n += sql__datum_payload(a->elem, &a->elems[i]);
        return n;
    }
    return 0;
}

/* ---- hash table over encoded keys --------------------------------------- */

typedef struct entry {
    struct entry *next;  /* in its bucket */
    struct entry *after; /* in order of insertion */
    uint64_t hash;
    size_t keylen;
    const uint8_t *key;
    max_align_t payload[]; /* the user's payload */
} entry;

typedef struct table {
    entry **buckets;
    size_t nbuckets, n;
    entry *first, **last;
    sql__membudget *mem;
    kv_arena *arena;
    const char *op; /* for the 53200 detail */
} table;

static int table_init(table *t, sql__membudget *mem, kv_arena *arena, const char *op,
                      sql_error *err)
{
    *t = (table){.mem = mem, .arena = arena, .op = op, .nbuckets = 64};
    t->last = &t->first;
    t->buckets = sql__mem_charge(mem, arena, t->nbuckets * sizeof(*t->buckets), op, err);
    if (t->buckets == NULL)
        return -1;
    memset(t->buckets, 0, t->nbuckets * sizeof(*t->buckets));
    return 0;
}

static int table_grow(table *t, sql_error *err)
{
    size_t n = t->nbuckets * 2;
    entry **b = sql__mem_charge(t->mem, t->arena, n * sizeof(*b), t->op, err);
    if (b == NULL)
        return -1;
    memset(b, 0, n * sizeof(*b));
    for (entry *e = t->first; e != NULL; e = e->after) {
        e->next = b[e->hash & (n - 1)];
        b[e->hash & (n - 1)] = e;
    }
    t->buckets = b;
    t->nbuckets = n;
    return 0;
}

/* The entry of key[0..len) (hash h), NULL when absent. */
static entry *table_find(const table *t, const uint8_t *key, size_t len, uint64_t h)
{
    for (entry *e = t->buckets[h & (t->nbuckets - 1)]; e != NULL; e = e->next)
        if (e->hash == h && e->keylen == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

/* The entry of key[0..len); a new one (payload of `size` bytes, zeroed)
 * when absent, with *added set. */
static int table_get(table *t, const uint8_t *key, size_t len, size_t size, entry **out,
                     bool *added, sql_error *err)
{
    uint64_t h = XXH3_64bits(key, len);
    if ((*out = table_find(t, key, len, h)) != NULL) {
        *added = false;
        return 0;
    }
    if (t->n >= t->nbuckets && table_grow(t, err) != 0)
        return -1;
    entry *e = sql__mem_charge(t->mem, t->arena, sizeof(*e) + size + len, t->op, err);
    if (e == NULL)
        return -1;
    memset(e, 0, sizeof(*e) + size);
    uint8_t *k = (uint8_t *)e->payload + size;
    memcpy(k, key, len);
    *e = (entry){.hash = h, .keylen = len, .key = k};
    e->next = t->buckets[h & (t->nbuckets - 1)];
    t->buckets[h & (t->nbuckets - 1)] = e;
    *t->last = e;
    t->last = &e->after;
    t->n++;
    *out = e;
    *added = true;
    return 0;
}

/* ---- DISTINCT sets ------------------------------------------------------ */

struct sql__rowset {
    table t;
};

sql__rowset *sql__rowset_new(sql__membudget *mem, kv_arena *arena, sql_error *err)
{
    sql__rowset *s = sql__mem_charge(mem, arena, sizeof(*s), "DISTINCT", err);
    if (s == NULL || table_init(&s->t, mem, arena, "DISTINCT", err) != 0)
        return NULL;
    return s;
}

int sql__rowset_member(sql__rowset *s, const sql_column_info *types, const sql_datum *vals, int n,
                       size_t size, bool add, kv_arena *scratch, void **payload, bool *added,
                       sql_error *err)
{
    sql_keybuf kb;
    sql_keybuf_init(&kb, scratch);
    for (int i = 0; i < n; i++)
        if (sql_key_put(&kb, types[i].type, SQL_KEY_ASC, false, &vals[i], err) != 0)
            return -1;
    entry *e = NULL;
    *added = false;
    if (add && table_get(&s->t, kb.p, kb.len, size, &e, added, err) != 0)
        return -1;
    if (!add)
        e = table_find(&s->t, kb.p, kb.len, XXH3_64bits(kb.p, kb.len));
    *payload = e ? e->payload : NULL;
    return 0;
}

int sql__rowset_add(sql__rowset *s, const sql_column_info *types, const sql_datum *vals, int n,
                    kv_arena *scratch, bool *added, sql_error *err)
{
    void *payload;
    return sql__rowset_member(s, types, vals, n, 0, true, scratch, &payload, added, err);
}

/* ---- aggregate states ---------------------------------------------------- */

typedef struct aggstate {
    int64_t count; /* inputs taken (rows for count(*)) */
    __int128 isum;
    double fsum;
    mpz_t num; /* numeric sum at scale dscale, when num_init */
    int32_t dscale;
    bool num_init, nan, pinf, ninf;
    bool b;
    sql_datum val;    /* min/max */
    uint8_t *buf;     /* min/max payload, string_agg text */
    size_t len, cap;  /* string_agg */
    sql_datum *elems; /* array_agg: count of them, room for ecap */
    size_t ecap;
} aggstate;

typedef struct group {
    sql_datum *keys; /* nkeys values, payloads in the statement arena */
    aggstate states[];
} group;

typedef struct aggrun {
    const sql__agg *a;
    sql_run_ctx *ctx;
    sql__membudget *mem;
    kv_arena *arena;
    table groups;
    group *single;      /* no GROUP BY: the one group */
    sql__rowset **seen; /* per call with DISTINCT */
    sql_datum *keyvals;
    mpz_t scratch;
    sql_error *err;
} aggrun;

static size_t group_size(const sql__agg *a)
{
    return sizeof(group) + (size_t)a->ncalls * sizeof(aggstate);
}

/* Room for `n` payload bytes in st->buf, charged once it must grow. */
static uint8_t *reserve(aggrun *r, aggstate *st, size_t n, bool keep)
{
    if (n <= st->cap)
        return st->buf;
    size_t cap = st->cap ? st->cap : 16;
    while (cap < n)
        cap *= 2;
    uint8_t *b = sql__mem_charge(r->mem, r->arena, cap, "hash aggregation", r->err);
    if (b == NULL)
        return NULL;
    if (keep && st->len > 0)
        memcpy(b, st->buf, st->len);
    st->buf = b;
    st->cap = cap;
    return b;
}

/* Keeps `v` as st->val, its payload copied into st->buf. */
static int keep_value(aggrun *r, aggstate *st, sql_type_id t, const sql_datum *v)
{
    st->val = *v;
    size_t n = sql__datum_payload(t, v);
    if (n == 0)
        return 0;
    uint8_t *b = reserve(r, st, n, false);
    if (b == NULL)
        return -1;
    if (t == SQL_T_NUMERIC) {
        memcpy(b, v->v.num.limbs, n);
        st->val.v.num.limbs = (const mp_limb_t *)b;
    } else {
        memcpy(b, v->v.s.p, n);
        st->val.v.s.p = b;
    }
    return 0;
}

static int append(aggrun *r, aggstate *st, const uint8_t *p, size_t n)
{
    if (reserve(r, st, st->len + n, true) == NULL)
        return -1;
    if (n > 0)
        memcpy(st->buf + st->len, p, n);
    st->len += n;
    return 0;
}

static int float_overflow(aggrun *r)
{
    return sql_error_set(r->err, r->arena, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                         "value out of range: overflow");
}

static int add_float(aggrun *r, const sql__aggcall *c, aggstate *st, double x)
{
    double sum = st->fsum + x;
    if (c->type.oid == SQL_T_FLOAT4)
        sum = (float)sum;
    if (isinf(sum) && !isinf(st->fsum) && !isinf(x))
        return float_overflow(r);
    st->fsum = sum;
    return 0;
}

/* Adds a numeric to the GMP sum, rescaling to the larger scale. */
static void add_numeric(aggrun *r, aggstate *st, const sql_numeric *n)
{
    if (n->kind != SQL_NUM_FINITE) {
        st->nan |= n->kind == SQL_NUM_NAN;
        st->pinf |= n->kind == SQL_NUM_PINF;
        st->ninf |= n->kind == SQL_NUM_NINF;
        return;
    }
    if (!st->num_init) {
        mpz_init(st->num);
        st->num_init = true;
        st->dscale = n->dscale;
    }
    if (n->dscale > st->dscale) {
        mpz_ui_pow_ui(r->scratch, 10, (unsigned long)(n->dscale - st->dscale));
        mpz_mul(st->num, st->num, r->scratch);
        st->dscale = n->dscale;
    }
    mpz_t view;
    mpz_roinit_n(view, n->limbs, n->size);
    mpz_ui_pow_ui(r->scratch, 10, (unsigned long)(st->dscale - n->dscale));
    mpz_addmul(st->num, view, r->scratch);
}

static int add_minmax(aggrun *r, const sql__aggcall *c, aggstate *st, const sql_datum *v)
{
    if (st->count > 1) {
        int cmp = sql_datum_cmp(c->type.oid, v, &st->val);
        if (c->fn == SQL__AGG_MIN ? cmp >= 0 : cmp <= 0)
            return 0;
    }
    return keep_value(r, st, c->type.oid, v);
}

static int add_string(aggrun *r, aggstate *st, sql_eval_ctx *ec, const sql__aggcall *c,
                      const sql_datum *v)
{
    if (st->count > 1) {
        sql_datum d;
        if (sql_expr_eval(ec, c->delim, &d) != 0)
            return -1;
        if (!d.isnull && append(r, st, d.v.s.p, d.v.s.len) != 0)
            return -1;
    }
    return append(r, st, v->v.s.p, v->v.s.len);
}

/* Appends a copy of `v` (possibly NULL) to array_agg's elements. */
static int add_element(aggrun *r, const sql__aggcall *c, aggstate *st, const sql_datum *v)
{
    sql_type_id t = c->arg->type.oid;
    if ((size_t)st->count > st->ecap) {
        size_t cap = st->ecap ? 2 * st->ecap : 8;
        sql_datum *e =
            sql__mem_charge(r->mem, r->arena, cap * sizeof(*e), "hash aggregation", r->err);
        if (e == NULL)
            return -1;
        if (st->ecap > 0)
            memcpy(e, st->elems, st->ecap * sizeof(*e));
        st->elems = e;
        st->ecap = cap;
    }
    if (sql__mem_account(r->mem, r->arena, sql__datum_payload(t, v), "hash aggregation", r->err) !=
        0)
        return -1;
    return sql_datum_copy(t, v, r->arena, &st->elems[st->count - 1], r->err);
}

/* Feeds input `v` to state `st`: non-NULL but for array_agg. */
static int transition(aggrun *r, sql_eval_ctx *ec, const sql__aggcall *c, aggstate *st,
                      const sql_datum *v)
{
    st->count++;
    switch (c->fn) {
    case SQL__AGG_COUNT_STAR:
    case SQL__AGG_COUNT:
        return 0;
    case SQL__AGG_SUM_INT:
    case SQL__AGG_AVG_INT:
        st->isum += v->v.i;
        return 0;
    case SQL__AGG_SUM_NUMERIC:
    case SQL__AGG_AVG_NUMERIC:
        add_numeric(r, st, &v->v.num);
        return 0;
    case SQL__AGG_SUM_FLOAT:
    case SQL__AGG_AVG_FLOAT:
        return add_float(r, c, st, v->v.f);
    case SQL__AGG_MIN:
    case SQL__AGG_MAX:
        return add_minmax(r, c, st, v);
    case SQL__AGG_BOOL_AND:
        st->b = st->count == 1 ? v->v.b : st->b && v->v.b;
        return 0;
    case SQL__AGG_BOOL_OR:
        st->b = st->count == 1 ? v->v.b : st->b || v->v.b;
        return 0;
    case SQL__AGG_STRING_AGG:
        return add_string(r, st, ec, c, v);
    case SQL__AGG_ARRAY_AGG:
        return add_element(r, c, st, v);
    }
    return 0;
}

/* Whether (group, v) is new to DISTINCT call i. */
static int first_time(aggrun *r, int i, const group *g, const sql_datum *v, kv_arena *scratch,
                      bool *fresh)
{
    const sql__aggcall *c = &r->a->calls[i];
    sql_column_info types[2] = {{.type = {SQL_T_INT8, -1}}, {.type = c->arg->type}};
    sql_datum vals[2] = {{.v.i = (int64_t)(uintptr_t)g}, *v};
    if (r->seen[i] == NULL && (r->seen[i] = sql__rowset_new(r->mem, r->arena, r->err)) == NULL)
        return -1;
    return sql__rowset_add(r->seen[i], types, vals, 2, scratch, fresh, r->err);
}

static int accumulate(aggrun *r, sql_eval_ctx *ec, group *g, kv_arena *scratch)
{
    const sql__agg *a = r->a;
    for (int i = 0; i < a->ncalls; i++) {
        const sql__aggcall *c = &a->calls[i];
        sql_datum v = {0};
        if (c->arg != NULL && sql_expr_eval(ec, c->arg, &v) != 0)
            return -1;
        if (v.isnull && c->fn != SQL__AGG_ARRAY_AGG)
            continue;
        bool fresh = true;
        if (c->distinct && first_time(r, i, g, &v, scratch, &fresh) != 0)
            return -1;
        if (fresh && transition(r, ec, c, &g->states[i], &v) != 0)
            return -1;
    }
    return 0;
}

/* ---- groups -------------------------------------------------------------- */

static int new_group(aggrun *r, group *g, const sql_datum *keys, sql_error *err)
{
    const sql__agg *a = r->a;
    g->keys = sql__mem_charge(r->mem, r->arena, (size_t)(a->nkeys + 1) * sizeof(*g->keys),
                              "hash aggregation", err);
    if (g->keys == NULL)
        return -1;
    for (int k = 0; k < a->nkeys; k++) {
        sql_type_id t = a->keys[k]->type.oid;
        if (sql__mem_account(r->mem, r->arena, sql__datum_payload(t, &keys[k]), "hash aggregation",
                             err) != 0 ||
            sql_datum_copy(t, &keys[k], r->arena, &g->keys[k], err) != 0)
            return -1;
    }
    return 0;
}

/* The group of the row `ec` evaluates over. */
static int find_group(aggrun *r, sql_eval_ctx *ec, kv_arena *scratch, group **out)
{
    const sql__agg *a = r->a;
    if (a->nkeys == 0) {
        *out = r->single;
        return 0;
    }
    sql_keybuf kb;
    sql_keybuf_init(&kb, scratch);
    for (int k = 0; k < a->nkeys; k++) {
        if (sql_expr_eval(ec, a->keys[k], &r->keyvals[k]) != 0 ||
            sql_key_put(&kb, a->keys[k]->type, SQL_KEY_ASC, false, &r->keyvals[k], r->err) != 0)
            return -1;
    }
    entry *e;
    bool added;
    if (table_get(&r->groups, kb.p, kb.len, group_size(a), &e, &added, r->err) != 0)
        return -1;
    *out = (group *)e->payload;
    return added ? new_group(r, *out, r->keyvals, r->err) : 0;
}

static int on_input(void *arg, const sql_datum *row, kv_arena *arena, sql_error *err)
{
    aggrun *r = arg;
    sql_eval_ctx ec;
    group *g;
    sql__eval_init(&ec, r->ctx, row, arena, err);
    if (find_group(r, &ec, arena, &g) != 0)
        return -1;
    return accumulate(r, &ec, g, arena) != 0 ? -1 : 0;
}

/* ---- results ------------------------------------------------------------- */

static int int128_numeric(__int128 v, kv_arena *arena, sql_numeric *out, sql_error *err)
{
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    uint64_t words[2] = {(uint64_t)u, (uint64_t)(u >> 64)};
    mpz_t z;
    mpz_init(z);
    mpz_import(z, 2, -1, sizeof(uint64_t), 0, 0, words);
    if (v < 0)
        mpz_neg(z, z);
    int rc = sql__numeric_from_mpz(z, 0, arena, out, err);
    mpz_clear(z);
    return rc;
}

/* The numeric sum of a state (a sum over at least one input). */
static int numeric_sum(const aggstate *st, kv_arena *arena, sql_numeric *out, sql_error *err)
{
    if (st->nan || (st->pinf && st->ninf)) {
        *out = (sql_numeric){.kind = SQL_NUM_NAN};
        return 0;
    }
    if (st->pinf || st->ninf) {
        *out = (sql_numeric){.kind = st->pinf ? SQL_NUM_PINF : SQL_NUM_NINF};
        return 0;
    }
    return sql__numeric_from_mpz(st->num, st->dscale, arena, out, err);
}

static int avg_numeric(const sql__aggcall *c, const aggstate *st, kv_arena *arena, sql_numeric *out,
                       sql_error *err)
{
    sql_numeric sum, n;
    if ((c->fn == SQL__AGG_AVG_INT ? int128_numeric(st->isum, arena, &sum, err)
                                   : numeric_sum(st, arena, &sum, err)) != 0 ||
        int128_numeric(st->count, arena, &n, err) != 0)
        return -1;
    return sql_numeric_arith(SQL_NUM_DIV, &sum, &n, arena, out, err);
}

static int sum_int(const sql__aggcall *c, const aggstate *st, kv_arena *arena, sql_datum *out,
                   sql_error *err)
{
    if (c->type.oid == SQL_T_NUMERIC)
        return int128_numeric(st->isum, arena, &out->v.num, err);
    if (st->isum > INT64_MAX || st->isum < INT64_MIN)
        return sql_error_set(err, arena, SQL_STATE_NUMERIC_VALUE_OUT_OF_RANGE,
                             "bigint out of range");
    out->v.i = (int64_t)st->isum;
    return 0;
}

/* An array_agg element with its type, for qsort. */
typedef struct typed {
    sql_type_id t;
    sql_datum d;
} typed;

static int cmp_typed(const void *a, const void *b)
{
    const typed *x = a, *y = b;
    return sql_datum_cmp_nulls(x->t, &x->d, &y->d, false);
}

/* array_agg(DISTINCT x): PostgreSQL feeds the distinct inputs sorted
 * (NULL last); so does this, in place, through scratch in `arena`. */
static int sort_elems(const sql__aggcall *c, const aggstate *st, kv_arena *arena, sql_error *err)
{
    size_t n = (size_t)st->count;
    typed *v = kv_arena_alloc(arena, (n ? n : 1) * sizeof(*v));
    if (v == NULL)
        return sql__oom(arena, err);
    for (size_t i = 0; i < n; i++)
        v[i] = (typed){c->arg->type.oid, st->elems[i]};
    qsort(v, n, sizeof(*v), cmp_typed);
    for (size_t i = 0; i < n; i++)
        st->elems[i] = v[i].d;
    return 0;
}

/* The result of call `c` from its state. */
static int final(const sql__aggcall *c, const aggstate *st, kv_arena *arena, sql_datum *out,
                 sql_error *err)
{
    *out = (sql_datum){.isnull = st->count == 0};
    switch (c->fn) {
    case SQL__AGG_COUNT_STAR:
    case SQL__AGG_COUNT:
        *out = (sql_datum){.v.i = st->count};
        return 0;
    default:
        break;
    }
    if (out->isnull)
        return 0;
    switch (c->fn) {
    case SQL__AGG_SUM_INT:
        return sum_int(c, st, arena, out, err);
    case SQL__AGG_SUM_NUMERIC:
        return numeric_sum(st, arena, &out->v.num, err);
    case SQL__AGG_AVG_INT:
    case SQL__AGG_AVG_NUMERIC:
        return avg_numeric(c, st, arena, &out->v.num, err);
    case SQL__AGG_SUM_FLOAT:
        out->v.f = st->fsum;
        return 0;
    case SQL__AGG_AVG_FLOAT:
        out->v.f = st->fsum / (double)st->count;
        return 0;
    case SQL__AGG_MIN:
    case SQL__AGG_MAX:
        *out = st->val;
        return 0;
    case SQL__AGG_BOOL_AND:
    case SQL__AGG_BOOL_OR:
        out->v.b = st->b;
        return 0;
    case SQL__AGG_ARRAY_AGG:
        if (c->distinct && sort_elems(c, st, arena, err) != 0)
            return -1;
        return sql_array_make(c->arg->type.oid, st->elems, (int32_t)st->count, arena, out, err);
    default:
        out->v.s.p = st->buf;
        out->v.s.len = st->len;
        return 0;
    }
}

/* Builds group g's output row in `row` and passes it on through HAVING.
 * 1 when the consumer stops. */
static int emit(aggrun *r, const group *g, sql_datum *row, kv_arena *arena, sql__row_cb out,
                void *out_arg)
{
    const sql__agg *a = r->a;
    for (int k = 0; k < a->nkeys; k++)
        row[k] = g->keys[k];
    for (int i = 0; i < a->ncalls; i++)
        if (final(&a->calls[i], &g->states[i], arena, &row[a->key_slots + i], r->err) != 0)
            return -1;
    if (a->having != NULL) {
        sql_eval_ctx ec;
        sql_tribool ok;
        sql__eval_init(&ec, r->ctx, row, arena, r->err);
        ec.outer_cols = a->outer_cols;
        if (sql_expr_eval_bool(&ec, a->having, &ok) != 0)
            return -1;
        if (ok != SQL_TRUE)
            return 0;
    }
    return out(out_arg, row, arena, r->err);
}

static int emit_all(aggrun *r, sql__row_cb out, void *out_arg)
{
    const sql__agg *a = r->a;
    int width = a->key_slots + a->ncalls;
    sql_datum *row = kv_arena_alloc(r->arena, (size_t)(width + 1) * sizeof(*row));
    if (row == NULL)
        return sql__oom(r->arena, r->err);
    for (int i = 0; i < width; i++)
        row[i] = (sql_datum){.isnull = true};
    kv_arena *batch = NULL;
    size_t n = 0;
    int rc = 0;
    for (entry *e = r->groups.first; rc == 0 && e != NULL; e = e->after, n++) {
        if (n % EMIT_BATCH == 0) {
            kv_arena_destroy(batch);
            batch = NULL;
            if (kv_arena_create(&batch) != 0 ||
                sql_txn_check_cancel(r->ctx->cancel, r->err, r->arena) != 0) {
                rc = batch ? -1 : sql__oom(r->arena, r->err);
                break;
            }
        }
        rc = emit(r, (const group *)e->payload, row, batch, out, out_arg);
    }
    if (rc == 0 && r->single != NULL)
        rc = emit(r, r->single, row, r->arena, out, out_arg);
    kv_arena_destroy(batch);
    return rc < 0 ? -1 : 0;
}

/* Frees the GMP integers of every group's numeric sums. */
static void free_states(aggrun *r)
{
    const sql__agg *a = r->a;
    for (entry *e = r->groups.first; e != NULL; e = e->after) {
        group *g = (group *)e->payload;
        for (int i = 0; i < a->ncalls; i++)
            if (g->states[i].num_init)
                mpz_clear(g->states[i].num);
    }
    for (int i = 0; r->single != NULL && i < a->ncalls; i++)
        if (r->single->states[i].num_init)
            mpz_clear(r->single->states[i].num);
}

static int agg_init(aggrun *r, sql_error *err)
{
    const sql__agg *a = r->a;
    if (table_init(&r->groups, r->mem, r->arena, "hash aggregation", err) != 0)
        return -1;
    r->seen = kv_arena_alloc(r->arena, (size_t)(a->ncalls + 1) * sizeof(*r->seen));
    r->keyvals = kv_arena_alloc(r->arena, (size_t)(a->nkeys + 1) * sizeof(*r->keyvals));
    if (r->seen == NULL || r->keyvals == NULL)
        return sql__oom(r->arena, err);
    memset(r->seen, 0, (size_t)(a->ncalls + 1) * sizeof(*r->seen));
    if (a->nkeys > 0)
        return 0;
    r->single = sql__mem_charge(r->mem, r->arena, group_size(a), "hash aggregation", err);
    if (r->single == NULL)
        return -1;
    memset(r->single, 0, group_size(a));
    return 0;
}

int sql__agg_run(const sql__agg *a, sql_run_ctx *ctx, sql__source_fn source, void *src,
                 sql__row_cb out, void *out_arg, sql__membudget *mem, kv_arena *arena,
                 sql_error *err)
{
    aggrun r = {.a = a, .ctx = ctx, .mem = mem, .arena = arena, .err = err};
    mpz_init(r.scratch);
    int rc = agg_init(&r, err);
    if (rc == 0)
        rc = source(src, on_input, &r, err);
    if (rc == 0)
        rc = emit_all(&r, out, out_arg);
    free_states(&r);
    mpz_clear(r.scratch);
    return rc;
}
