/*
 * catalog_codec.c - the byte forms of catalog values (catalog_int.h) and
 * of expression trees in descriptors (sql_expr_encode/sql_expr_decode).
 * docs/sql-encoding.md, "Catalog", has the byte tables.
 *
 * Hand-written rather than protobuf: libpg_query.a bundles its own
 * protobuf-c runtime and a second one would not link. The writer and the
 * reader keep a sticky failure so that the field-by-field code reads like
 * the byte tables; the result is checked once at the end.
 *
 * Decoding trusts nothing: lengths and counts are checked against the
 * bytes left before anything is allocated, enum values and type oids are
 * range-checked, so corrupt bytes give XX000 and never a crash or a huge
 * allocation.
 */
#include <assert.h>
#include <string.h>

#include "sql/catalog_int.h"
#include "sql/types_int.h"

#define STR_NULL UINT32_MAX

/* ---- writer ---------------------------------------------------------- */

typedef struct writer {
    sql_keybuf *b;
    sql_error *err;
    int rc; /* sticky: -1 once an append failed, err set */
} writer;

static void put_bytes(writer *w, const void *p, size_t n)
{
    if (w->rc == 0)
        w->rc = sql_keybuf_append(w->b, p, n, w->err);
}

static void put_u8(writer *w, uint8_t v)
{
    put_bytes(w, &v, 1);
}

static void put_u32(writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put_bytes(w, b, sizeof(b));
}

static void put_u64(writer *w, uint64_t v)
{
    put_u32(w, (uint32_t)(v >> 32));
    put_u32(w, (uint32_t)v);
}

static void put_str(writer *w, const char *s)
{
    if (s == NULL) {
        put_u32(w, STR_NULL);
        return;
    }
    size_t n = strlen(s);
    assert(n < STR_NULL);
    put_u32(w, (uint32_t)n);
    put_bytes(w, s, n);
}

/* ---- reader ---------------------------------------------------------- */

typedef struct reader {
    const uint8_t *p, *end;
    kv_arena *arena;
    bool corrupt;
    bool oom;
} reader;

static bool failed(const reader *r)
{
    return r->corrupt || r->oom;
}

/* n bytes or NULL (corrupt) when fewer are left. */
static const uint8_t *get_bytes(reader *r, size_t n)
{
    if (failed(r) || (size_t)(r->end - r->p) < n) {
        r->corrupt = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    return p;
}

static uint8_t get_u8(reader *r)
{
    const uint8_t *p = get_bytes(r, 1);
    return p == NULL ? 0 : p[0];
}

static uint32_t get_u32(reader *r)
{
    const uint8_t *p = get_bytes(r, 4);
    if (p == NULL)
        return 0;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_u64(reader *r)
{
    uint64_t hi = get_u32(r);
    return hi << 32 | get_u32(r);
}

static bool get_bool(reader *r)
{
    uint8_t v = get_u8(r);
    if (v > 1)
        r->corrupt = true;
    return v == 1;
}

/* A NUL-terminated copy in the arena, or NULL (also for a stored NULL). */
static const char *get_str(reader *r)
{
    uint32_t n = get_u32(r);
    if (failed(r) || n == STR_NULL)
        return NULL;
    const uint8_t *p = get_bytes(r, n);
    if (p == NULL)
        return NULL;
    if (memchr(p, 0, n) != NULL) {
        r->corrupt = true;
        return NULL;
    }
    char *s = kv_arena_strndup(r->arena, (const char *)p, n);
    r->oom = r->oom || s == NULL;
    return s;
}

/* A string that must not be NULL (names). */
static const char *get_name(reader *r)
{
    const char *s = get_str(r);
    if (s == NULL)
        r->corrupt = true;
    return s;
}

/* A count of elements of at least `min_size` bytes each: bounded by the
 * bytes left, so a corrupt count cannot ask for a huge array. */
static uint32_t get_count(reader *r, size_t min_size)
{
    uint32_t n = get_u32(r);
    if (!failed(r) && (size_t)n > (size_t)(r->end - r->p) / min_size)
        r->corrupt = true;
    return failed(r) ? 0 : n;
}

static void *get_array(reader *r, size_t n, size_t size)
{
    if (failed(r))
        return NULL;
    void *a = kv_arena_alloc(r->arena, n * size);
    if (a == NULL)
        r->oom = true;
    return a;
}

static sql_type get_type(reader *r)
{
    sql_type t = {.oid = (sql_type_id)get_u32(r)};
    t.typmod = (int32_t)get_u32(r);
    if (!failed(r) && !sql_type_known(t.oid))
        r->corrupt = true;
    return t;
}

/* The final verdict: every byte consumed, nothing failed. */
static int finish(reader *r, sql_error *err)
{
    if (r->oom)
        return sql__oom(r->arena, err);
    if (r->corrupt || r->p != r->end)
        return sql_error_set(err, r->arena, SQL_STATE_INTERNAL_ERROR, "corrupt descriptor");
    return 0;
}

/* ---- expressions ----------------------------------------------------- */

/* The fields each expression kind carries, written in this order. */
enum {
    F_NAMES = 1 << 0, /* schema, table, column: str each */
    F_CONST = 1 << 1, /* const_kind u8, text str */
    F_PARAM = 1 << 2, /* param u32 */
    F_FUNC = 1 << 3,  /* name str, schema str */
    F_LEFT = 1 << 4,  /* left: opt expr */
    F_RIGHT = 1 << 5, /* right: opt expr */
    F_ARG = 1 << 6,   /* arg: opt expr */
    F_ARGS = 1 << 7,  /* nargs u32, args: expr each */
    F_TYPE = 1 << 8,  /* type oid u32, typmod i32 */
    F_CASE = 1 << 9,  /* nargs u32, (when expr, then expr) each, els: opt expr */
};

static const unsigned expr_fields[] = {
    [SQL_EXPR_COLUMN] = F_NAMES,
    [SQL_EXPR_STAR] = F_NAMES,
    [SQL_EXPR_CONST] = F_CONST,
    [SQL_EXPR_PARAM] = F_PARAM,
    [SQL_EXPR_OP] = F_FUNC | F_LEFT | F_RIGHT,
    [SQL_EXPR_FUNC] = F_FUNC | F_ARGS,
    [SQL_EXPR_CAST] = F_ARG | F_TYPE,
    [SQL_EXPR_AND] = F_ARGS,
    [SQL_EXPR_OR] = F_ARGS,
    [SQL_EXPR_NOT] = F_ARGS,
    [SQL_EXPR_NULLTEST] = F_ARG,
    [SQL_EXPR_DISTINCT] = F_LEFT | F_RIGHT,
    [SQL_EXPR_IN] = F_ARG | F_ARGS,
    [SQL_EXPR_BETWEEN] = F_ARG | F_ARGS,
    [SQL_EXPR_CASE] = F_ARG | F_CASE,
    [SQL_EXPR_DEFAULT] = 0,
    [SQL_EXPR_SUBLINK] = 0, /* never stored: defaults and checks refuse subqueries */
    [SQL_EXPR_ARRAY] = F_ARGS,
    [SQL_EXPR_SUBSCRIPT] = F_ARG | F_LEFT | F_RIGHT,
    [SQL_EXPR_SLICE] = F_ARG | F_LEFT | F_RIGHT,
    [SQL_EXPR_ANY] = F_FUNC | F_LEFT | F_RIGHT,
    [SQL_EXPR_ALL] = F_FUNC | F_LEFT | F_RIGHT,
};
#define EXPR_KIND_COUNT (sizeof(expr_fields) / sizeof(expr_fields[0]))

/* flags byte */
#define XF_NEGATED      0x01
#define XF_AGG_STAR     0x02
#define XF_AGG_DISTINCT 0x04
#define XF_ALL          0x07

/* Returns false when the tree is deeper than SQL__EXPR_MAX_DEPTH. */
static bool put_expr(writer *w, const sql_expr *e, int depth);

static bool put_opt_expr(writer *w, const sql_expr *e, int depth)
{
    put_u8(w, e != NULL);
    return e == NULL || put_expr(w, e, depth);
}

static bool put_expr_fields(writer *w, const sql_expr *e, unsigned f, int depth)
{
    if (f & F_NAMES)
        put_str(w, e->schema), put_str(w, e->table), put_str(w, e->column);
    if (f & F_CONST)
        put_u8(w, (uint8_t)e->const_kind), put_str(w, e->text);
    if (f & F_PARAM)
        put_u32(w, (uint32_t)e->param);
    if (f & F_FUNC)
        put_str(w, e->name), put_str(w, e->schema);
    bool ok = true;
    if (f & F_LEFT)
        ok = ok && put_opt_expr(w, e->left, depth);
    if (f & F_RIGHT)
        ok = ok && put_opt_expr(w, e->right, depth);
    if (f & F_ARG)
        ok = ok && put_opt_expr(w, e->arg, depth);
    if (f & F_ARGS) {
        put_u32(w, (uint32_t)e->nargs);
        for (int i = 0; ok && i < e->nargs; i++)
            ok = put_expr(w, e->args[i], depth);
    }
    if (f & F_TYPE)
        put_u32(w, (uint32_t)e->type.oid), put_u32(w, (uint32_t)e->type.typmod);
    if (f & F_CASE) {
        put_u32(w, (uint32_t)e->nargs);
        for (int i = 0; ok && i < e->nargs; i++)
            ok = put_expr(w, e->whens[i], depth) && put_expr(w, e->thens[i], depth);
        ok = ok && put_opt_expr(w, e->els, depth);
    }
    return ok;
}

static bool put_expr(writer *w, const sql_expr *e, int depth)
{
    assert((size_t)e->kind < EXPR_KIND_COUNT && e->kind != SQL_EXPR_SUBLINK);
    if (depth >= SQL__EXPR_MAX_DEPTH)
        return false;
    uint8_t flags = (e->negated ? XF_NEGATED : 0) | (e->agg_star ? XF_AGG_STAR : 0) |
                    (e->agg_distinct ? XF_AGG_DISTINCT : 0);
    put_u8(w, (uint8_t)e->kind);
    put_u8(w, flags);
    return put_expr_fields(w, e, expr_fields[e->kind], depth + 1);
}

static int put_expr_checked(writer *w, const sql_expr *e)
{
    if (!put_expr(w, e, 0) && w->rc == 0)
        w->rc = sql_error_set(w->err, w->b->arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                              "expression is too deeply nested to be stored");
    return w->rc;
}

int sql_expr_encode(const sql_expr *e, sql_keybuf *b, sql_error *err)
{
    writer w = {.b = b, .err = err};
    return put_expr_checked(&w, e);
}

static sql_expr *get_expr(reader *r, int depth);

static sql_expr *get_opt_expr(reader *r, int depth)
{
    return get_bool(r) ? get_expr(r, depth) : NULL;
}

/* n expressions (count read already) into an arena array. */
static sql_expr **get_exprs(reader *r, uint32_t n, int depth)
{
    sql_expr **a = get_array(r, n, sizeof(*a));
    for (uint32_t i = 0; a != NULL && i < n && !failed(r); i++)
        a[i] = get_expr(r, depth);
    return a;
}

static void get_case(reader *r, sql_expr *e, int depth)
{
    uint32_t n = get_count(r, 4);
    e->nargs = (int)n;
    e->whens = get_array(r, n, sizeof(*e->whens));
    e->thens = get_array(r, n, sizeof(*e->thens));
    for (uint32_t i = 0; i < n && !failed(r); i++) {
        e->whens[i] = get_expr(r, depth);
        e->thens[i] = get_expr(r, depth);
    }
    e->els = get_opt_expr(r, depth);
}

static void get_expr_fields(reader *r, sql_expr *e, unsigned f, int depth)
{
    if (f & F_NAMES)
        e->schema = get_str(r), e->table = get_str(r), e->column = get_str(r);
    if (f & F_CONST) {
        e->const_kind = (sql_const_kind)get_u8(r);
        e->text = get_str(r);
        if (e->const_kind > SQL_CONST_STRING ||
            (e->text == NULL) != (e->const_kind == SQL_CONST_NULL))
            r->corrupt = true;
    }
    if (f & F_PARAM)
        e->param = (int)get_u32(r);
    if (f & F_FUNC)
        e->name = get_name(r), e->schema = get_str(r);
    if (f & F_LEFT)
        e->left = get_opt_expr(r, depth);
    if (f & F_RIGHT)
        e->right = get_opt_expr(r, depth);
    if (f & F_ARG)
        e->arg = get_opt_expr(r, depth);
    if (f & F_ARGS) {
        uint32_t n = get_count(r, 2);
        e->nargs = (int)n;
        e->args = get_exprs(r, n, depth);
    }
    if (f & F_TYPE)
        e->type = get_type(r);
    if (f & F_CASE)
        get_case(r, e, depth);
}

/* Locations refer to the text of the statement that created the
 * descriptor, which is gone: decoded trees have none (-1). */
static sql_expr *get_expr(reader *r, int depth)
{
    uint8_t kind = get_u8(r);
    uint8_t flags = get_u8(r);
    if (depth >= SQL__EXPR_MAX_DEPTH || kind >= EXPR_KIND_COUNT || kind == SQL_EXPR_SUBLINK ||
        (flags & ~XF_ALL) != 0)
        r->corrupt = true;
    if (failed(r))
        return NULL;
    sql_expr *e = get_array(r, 1, sizeof(*e));
    if (e == NULL)
        return NULL;
    *e = (sql_expr){.kind = (sql_expr_kind)kind,
                    .location = -1,
                    .negated = flags & XF_NEGATED,
                    .agg_star = flags & XF_AGG_STAR,
                    .agg_distinct = flags & XF_AGG_DISTINCT};
    get_expr_fields(r, e, expr_fields[kind], depth + 1);
    return e;
}

int sql_expr_decode(const uint8_t *p, size_t len, kv_arena *arena, sql_expr **out, sql_error *err)
{
    reader r = {.p = p, .end = p + len, .arena = arena};
    sql_expr *e = get_expr(&r, 0);
    if (finish(&r, err) != 0)
        return -1;
    *out = e;
    return 0;
}

/* ---- descriptors ----------------------------------------------------- */

static void put_index(writer *w, const sql_index_desc *x)
{
    put_u32(w, x->id);
    put_str(w, x->name);
    put_u8(w, (uint8_t)(x->unique | x->standalone << 1));
    put_u32(w, x->ncols);
    for (uint32_t i = 0; i < x->ncols; i++)
        put_u32(w, x->col_ids[i]), put_u8(w, (uint8_t)x->dirs[i]);
}

static void put_col(writer *w, const sql_col_desc *col)
{
    put_u32(w, col->id);
    put_str(w, col->name);
    put_u32(w, (uint32_t)col->type.oid);
    put_u32(w, (uint32_t)col->type.typmod);
    put_u8(w, col->not_null);
    put_u8(w, col->hidden);
    put_u8(w, col->default_expr != NULL);
    if (col->default_expr != NULL)
        put_expr_checked(w, col->default_expr);
}

static void put_table(writer *w, const sql_table_desc *t)
{
    put_u32(w, t->db_id);
    put_str(w, t->name);
    put_u64(w, t->version);
    put_u32(w, t->next_col_id);
    put_u32(w, t->next_index_id);
    put_u32(w, t->ncols);
    for (uint32_t i = 0; i < t->ncols; i++)
        put_col(w, &t->cols[i]);
    put_index(w, &t->primary);
    put_u32(w, t->nindexes);
    for (uint32_t i = 0; i < t->nindexes; i++)
        put_index(w, &t->indexes[i]);
    put_u32(w, t->nchecks);
    for (uint32_t i = 0; i < t->nchecks; i++) {
        put_str(w, t->checks[i].name);
        put_expr_checked(w, t->checks[i].expr);
    }
    put_u32(w, t->nsequences);
    for (uint32_t i = 0; i < t->nsequences; i++)
        put_u32(w, t->sequence_ids[i]);
    if (t->view_query == NULL) /* a table's value ends here, as before views */
        return;
    put_str(w, t->view_query);
    put_u32(w, t->ndeps);
    for (uint32_t i = 0; i < t->ndeps; i++)
        put_u32(w, t->dep_ids[i]);
}

int sql__desc_encode(const sql__desc *d, sql_keybuf *b, sql_error *err)
{
    writer w = {.b = b, .err = err};
    put_u8(&w, SQL__DESC_FORMAT);
    put_u8(&w, (uint8_t)d->kind);
    switch (d->kind) {
    case SQL__DESC_DATABASE:
        put_u32(&w, d->u.db.id);
        put_str(&w, d->u.db.name);
        put_str(&w, d->u.db.owner);
        break;
    case SQL__DESC_TABLE:
        put_u32(&w, d->u.table.id);
        put_table(&w, &d->u.table);
        break;
    case SQL__DESC_SEQUENCE:
        put_u32(&w, d->u.seq.id);
        put_u32(&w, d->u.seq.db_id);
        put_str(&w, d->u.seq.name);
        break;
    }
    return w.rc;
}

static void get_index(reader *r, sql_index_desc *x)
{
    x->id = get_u32(r);
    x->name = get_name(r);
    /* flags: bit 0 unique, bit 1 standalone (descriptors written before
     * CREATE INDEX existed hold 0 or 1 here: constraint indexes) */
    uint8_t flags = get_u8(r);
    if (flags > 3)
        r->corrupt = true;
    x->unique = flags & 1;
    x->standalone = flags >> 1 & 1;
    x->ncols = get_count(r, 5);
    uint32_t *ids = get_array(r, x->ncols, sizeof(*ids));
    sql_key_dir *dirs = get_array(r, x->ncols, sizeof(*dirs));
    for (uint32_t i = 0; i < x->ncols && !failed(r); i++) {
        ids[i] = get_u32(r);
        uint8_t dir = get_u8(r);
        if (dir > SQL_KEY_DESC)
            r->corrupt = true;
        dirs[i] = (sql_key_dir)dir;
    }
    x->col_ids = ids, x->dirs = dirs;
}

static void get_col(reader *r, sql_col_desc *col)
{
    col->id = get_u32(r);
    col->name = get_name(r);
    col->type = get_type(r);
    col->not_null = get_bool(r);
    col->hidden = get_bool(r);
    col->default_expr = get_bool(r) ? get_expr(r, 0) : NULL;
}

static void get_table(reader *r, sql_table_desc *t)
{
    t->db_id = get_u32(r);
    t->name = get_name(r);
    t->version = get_u64(r);
    t->next_col_id = get_u32(r);
    t->next_index_id = get_u32(r);
    t->ncols = get_count(r, 20);
    sql_col_desc *cols = get_array(r, t->ncols, sizeof(*cols));
    for (uint32_t i = 0; i < t->ncols && !failed(r); i++)
        get_col(r, &cols[i]);
    t->cols = cols;
    get_index(r, &t->primary);
    t->nindexes = get_count(r, 13);
    sql_index_desc *idx = get_array(r, t->nindexes, sizeof(*idx));
    for (uint32_t i = 0; i < t->nindexes && !failed(r); i++)
        get_index(r, &idx[i]);
    t->indexes = idx;
    t->nchecks = get_count(r, 6);
    sql_check_desc *checks = get_array(r, t->nchecks, sizeof(*checks));
    for (uint32_t i = 0; i < t->nchecks && !failed(r); i++) {
        checks[i].name = get_name(r);
        checks[i].expr = get_expr(r, 0);
    }
    t->checks = checks;
    t->nsequences = get_count(r, 4);
    uint32_t *seqs = get_array(r, t->nsequences, sizeof(*seqs));
    for (uint32_t i = 0; i < t->nsequences && !failed(r); i++)
        seqs[i] = get_u32(r);
    t->sequence_ids = seqs;
    if (failed(r) || r->p == r->end)
        return;
    t->view_query = get_name(r);
    t->ndeps = get_count(r, 4);
    uint32_t *deps = get_array(r, t->ndeps, sizeof(*deps));
    for (uint32_t i = 0; i < t->ndeps && !failed(r); i++)
        deps[i] = get_u32(r);
    t->dep_ids = deps;
}

/* The leading format byte; anything but the one this build writes is a
 * value it cannot read. */
static void get_format(reader *r)
{
    if (get_u8(r) != SQL__DESC_FORMAT)
        r->corrupt = true;
}

int sql__desc_decode(const uint8_t *p, size_t len, kv_arena *arena, sql__desc *out, sql_error *err)
{
    reader r = {.p = p, .end = p + len, .arena = arena};
    sql__desc d = {0};
    get_format(&r);
    d.kind = (sql__desc_kind)get_u8(&r);
    switch (d.kind) {
    case SQL__DESC_DATABASE:
        d.u.db.id = get_u32(&r);
        d.u.db.name = get_name(&r);
        d.u.db.owner = get_name(&r);
        break;
    case SQL__DESC_TABLE:
        d.u.table.id = get_u32(&r);
        get_table(&r, &d.u.table);
        break;
    case SQL__DESC_SEQUENCE:
        d.u.seq.id = get_u32(&r);
        d.u.seq.db_id = get_u32(&r);
        d.u.seq.name = get_name(&r);
        break;
    default:
        r.corrupt = true;
    }
    if (finish(&r, err) != 0)
        return -1;
    *out = d;
    return 0;
}

/* ---- namespace and role values --------------------------------------- */

int sql__ns_encode(const sql__ns_entry *e, sql_keybuf *b, sql_error *err)
{
    writer w = {.b = b, .err = err};
    put_u8(&w, SQL__DESC_FORMAT);
    put_u8(&w, (uint8_t)e->kind);
    put_u32(&w, e->id);
    return w.rc;
}

int sql__ns_decode(const uint8_t *p, size_t len, kv_arena *arena, sql__ns_entry *out,
                   sql_error *err)
{
    reader r = {.p = p, .end = p + len, .arena = arena};
    get_format(&r);
    uint8_t kind = get_u8(&r);
    uint32_t id = get_u32(&r);
    if (kind < SQL__DESC_DATABASE || kind > SQL__DESC_SEQUENCE)
        r.corrupt = true;
    if (finish(&r, err) != 0)
        return -1;
    *out = (sql__ns_entry){.kind = (sql__desc_kind)kind, .id = id};
    return 0;
}

#define ROLE_SUPERUSER 0x01
#define ROLE_LOGIN     0x02

int sql__role_encode(const sql_role_desc *role, sql_keybuf *b, sql_error *err)
{
    writer w = {.b = b, .err = err};
    put_u8(&w, SQL__DESC_FORMAT);
    put_u8(&w, (role->superuser ? ROLE_SUPERUSER : 0) | (role->login ? ROLE_LOGIN : 0));
    put_str(&w, role->verifier);
    return w.rc;
}

int sql__role_decode(const uint8_t *p, size_t len, kv_arena *arena, sql_role_desc *out,
                     sql_error *err)
{
    reader r = {.p = p, .end = p + len, .arena = arena};
    get_format(&r);
    uint8_t flags = get_u8(&r);
    const char *verifier = get_str(&r);
    if ((flags & ~(ROLE_SUPERUSER | ROLE_LOGIN)) != 0)
        r.corrupt = true;
    if (finish(&r, err) != 0)
        return -1;
    *out = (sql_role_desc){
        .verifier = verifier, .superuser = flags & ROLE_SUPERUSER, .login = flags & ROLE_LOGIN};
    return 0;
}
