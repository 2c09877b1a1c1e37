/*
 * vtable.c - the virtual-table mechanism of the system catalogs
 * (vtable.h): the registry of pg_catalog and information_schema tables
 * and their static descriptors, the scan that builds a catalog snapshot
 * and runs a table's generator, relation oids, and the text that
 * pg_get_indexdef, pg_get_constraintdef and pg_get_expr return.
 */
#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/types_int.h"
#include "sql/vtable_int.h"

/* ---- registry ---------------------------------------------------------- */

static sql_table_desc *descs_pg, *descs_info;
static pthread_once_t descs_once = PTHREAD_ONCE_INIT;

/* A static descriptor per declaration: no key columns, no indexes. Made
 * once per process and never freed (like the tables it declares). */
static sql_table_desc *make_descs(const sql__vdecl *d, size_t n)
{
    sql_table_desc *out = calloc(n, sizeof(*out));
    if (out == NULL)
        abort();
    for (size_t i = 0; i < n; i++) {
        sql_col_desc *cols = calloc((size_t)d[i].ncols, sizeof(*cols));
        if (cols == NULL)
            abort();
        for (int c = 0; c < d[i].ncols; c++)
            cols[c] = (sql_col_desc){
                .id = (uint32_t)c + 1, .name = d[i].cols[c].name, .type = {d[i].cols[c].type, -1}};
        out[i] = (sql_table_desc){.is_virtual = true,
                                  .id = d[i].oid,
                                  .name = d[i].name,
                                  .ncols = (uint32_t)d[i].ncols,
                                  .cols = cols,
                                  .primary = {.id = SQL_PRIMARY_INDEX_ID, .name = d[i].name}};
    }
    return out;
}

static void init_descs(void)
{
    descs_pg = make_descs(sql__vtables_pg, sql__nvtables_pg);
    descs_info = make_descs(sql__vtables_info, sql__nvtables_info);
}

const sql__schema sql__schemas[] = {
    {99, "pg_toast", SQL__BOOTSTRAP_ROLE_OID, {NULL, NULL}, "reserved schema for TOAST tables"},
    {SQL_PG_CATALOG_OID,
     "pg_catalog",
     SQL__BOOTSTRAP_ROLE_OID,
     {"root=UC/root", "=U/root"},
     "system catalog schema"},
    {SQL_PUBLIC_SCHEMA_OID,
     "public",
     SQL__DB_OWNER_ROLE_OID,
     {"pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"},
     "standard public schema"},
    /* PostgreSQL 15.x's oid */
    {13207, "information_schema", SQL__BOOTSTRAP_ROLE_OID, {"root=UC/root", "=U/root"}, NULL},
};
const size_t sql__nschemas = sizeof sql__schemas / sizeof *sql__schemas;

const sql_table_desc *sql__vtable_find(const char *schema, const char *name)
{
    pthread_once(&descs_once, init_descs);
    bool info = schema != NULL && strcmp(schema, "information_schema") == 0;
    if (schema != NULL && !info && strcmp(schema, "pg_catalog") != 0)
        return NULL;
    const sql__vdecl *d = info ? sql__vtables_info : sql__vtables_pg;
    size_t n = info ? sql__nvtables_info : sql__nvtables_pg;
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].name, name) == 0)
            return info ? &descs_info[i] : &descs_pg[i];
    return NULL;
}

/* The declaration behind virtual descriptor t. */
static const sql__vdecl *decl_of(const sql_table_desc *t)
{
    assert(t->is_virtual);
    pthread_once(&descs_once, init_descs);
    if (t >= descs_pg && t < descs_pg + sql__nvtables_pg)
        return &sql__vtables_pg[t - descs_pg];
    assert(t >= descs_info && t < descs_info + sql__nvtables_info);
    return &sql__vtables_info[t - descs_info];
}

/* What PostgreSQL says to a write into view `name`. */
static int view_write(const char *name, sql_stmt_kind kind, kv_arena *arena, sql_error *err)
{
    const char *verb = kind == SQL_STMT_INSERT   ? "insert into"
                       : kind == SQL_STMT_UPDATE ? "update"
                                                 : "delete from";
    const char *what = kind == SQL_STMT_INSERT   ? "inserting into"
                       : kind == SQL_STMT_UPDATE ? "updating"
                                                 : "deleting from";
    const char *cmd = kind == SQL_STMT_INSERT   ? "INSERT"
                      : kind == SQL_STMT_UPDATE ? "UPDATE"
                                                : "DELETE";
    sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED, "cannot %s view \"%s\"", verb, name);
    sql_error_detail(err, arena,
                     "Views that do not select from a single table or view are not automatically "
                     "updatable.");
    sql_error_hint(err, arena,
                   "To enable %s the view, provide an INSTEAD OF %s trigger or an unconditional ON "
                   "%s DO INSTEAD rule.",
                   what, cmd, cmd);
    return -1;
}

int sql__vtable_open(const sql_name *name, sql_stmt_kind kind, const char *query, kv_arena *arena,
                     const sql_table_desc **out, sql_error *err)
{
    const char *schema = name->schema;
    const sql_table_desc *t = sql__vtable_find(schema, name->name);
    bool system = schema != NULL &&
                  (strcmp(schema, "pg_catalog") == 0 || strcmp(schema, "information_schema") == 0);
    if (t == NULL && !system)
        return 1;
    if (t == NULL) {
        sql_error_set(err, arena, SQL_STATE_UNDEFINED_TABLE, "relation \"%s.%s\" does not exist",
                      schema, name->name);
        if (query != NULL)
            sql_expr_error_position(err, query, name->location);
        return -1;
    }
    if (kind == SQL_STMT_SELECT) {
        *out = t;
        return 0;
    }
    if (decl_of(t)->view)
        return view_write(name->name, kind, arena, err);
    return sql_error_set(err, arena, SQL_STATE_INSUFFICIENT_PRIVILEGE,
                         "permission denied for table %s", name->name);
}

int sql__vtable_refuse(const sql_name *name, kv_arena *arena, sql_error *err)
{
    if (sql__vtable_find(name->schema, name->name) == NULL)
        return 0;
    return sql_error_set(err, arena, SQL_STATE_INSUFFICIENT_PRIVILEGE,
                         "permission denied: \"%s\" is a system catalog", name->name);
}

size_t sql__nvtables(void)
{
    return sql__nvtables_pg + sql__nvtables_info;
}

const sql_table_desc *sql__vtable_at(size_t i, const sql__vdecl **decl)
{
    assert(i < sql__nvtables());
    pthread_once(&descs_once, init_descs);
    bool info = i >= sql__nvtables_pg;
    size_t k = info ? i - sql__nvtables_pg : i;
    *decl = info ? &sql__vtables_info[k] : &sql__vtables_pg[k];
    return info ? &descs_info[k] : &descs_pg[k];
}

const sql_table_desc *sql__vtable_by_oid(int64_t oid)
{
    const sql__vdecl *d;
    for (size_t i = 0; i < sql__nvtables(); i++) {
        const sql_table_desc *t = sql__vtable_at(i, &d);
        if (t->id == oid)
            return t;
    }
    return NULL;
}

const char *sql__vtable_schema_of(const sql_table_desc *t)
{
    return decl_of(t)->schema;
}

int64_t sql__schema_oid(const char *name)
{
    for (size_t i = 0; i < sql__nschemas; i++)
        if (strcmp(sql__schemas[i].name, name) == 0)
            return sql__schemas[i].oid;
    return 0;
}

const sql__schema *sql__schema_by_oid(int64_t oid)
{
    for (size_t i = 0; i < sql__nschemas; i++)
        if (sql__schemas[i].oid == oid)
            return &sql__schemas[i];
    return NULL;
}

/* ---- the scan ---------------------------------------------------------- */

struct sql__vgen {
    const sql_plan *p;
    sql_run_ctx *ctx;
    sql__row_cb cb;
    void *arg;
    kv_arena *arena;
    sql_error *err;
    sql_datum *row;
    int ncols, at;
};

void sql__vput_null(sql__vgen *g)
{
    assert(g->at < g->ncols);
    g->row[g->at++] = (sql_datum){.isnull = true};
}

void sql__vput_int(sql__vgen *g, int64_t v)
{
    assert(g->at < g->ncols);
    g->row[g->at++] = (sql_datum){.v.i = v};
}

void sql__vput_bool(sql__vgen *g, bool v)
{
    assert(g->at < g->ncols);
    g->row[g->at++] = (sql_datum){.v.b = v};
}

void sql__vput_float(sql__vgen *g, double v)
{
    assert(g->at < g->ncols);
    g->row[g->at++] = (sql_datum){.v.f = v};
}

int sql__vput_array(sql__vgen *g, sql_type_id elem, const sql_datum *elems, int n, int lbound)
{
    assert(g->at < g->ncols);
    return sql__array_build(elem, elems, n, lbound, g->arena, &g->row[g->at++], g->err);
}

void sql__vput_text(sql__vgen *g, const char *s)
{
    if (s == NULL) {
        sql__vput_null(g);
        return;
    }
    assert(g->at < g->ncols);
    g->row[g->at++] = (sql_datum){.v.s = {(const uint8_t *)s, strlen(s)}};
}

int sql__vemit(sql__vgen *g)
{
    assert(g->at == g->ncols);
    g->at = 0;
    if (g->p->filter != NULL) {
        sql_eval_ctx ec;
        sql_tribool ok;
        sql__eval_init(&ec, g->ctx, g->row, g->arena, g->err);
        if (sql_expr_eval_bool(&ec, g->p->filter, &ok) != 0)
            return -1;
        if (ok != SQL_TRUE)
            return 0;
    }
    if (g->ctx->stats)
        g->ctx->stats->scan_rows++;
    return g->cb(g->arg, g->row, g->arena, g->err);
}

kv_arena *sql__vgen_arena(sql__vgen *g)
{
    return g->arena;
}

sql_error *sql__vgen_err(sql__vgen *g)
{
    return g->err;
}

static void release_tables(sql__vsnap *s)
{
    for (size_t i = 0; i < s->ntables; i++)
        sql_table_release(s->tables[i]);
}

/* Reads the snapshot through ctx->txn; the caller releases its tables
 * (release_tables) also after an error. */
static int load_snapshot(sql_run_ctx *ctx, sql__vsnap *s, kv_arena *arena, sql_error *err)
{
    sql_catalog_entry *ents, *dbs;
    sql_role_desc *roles;
    size_t n;
    *s = (sql__vsnap){.database = ctx->env ? ctx->env->database : NULL, .db_id = ctx->db_id};
    if (sql_catalog_list(ctx->catalog, ctx->txn, 0, &dbs, &s->ndbs, err, arena) != 0 ||
        sql_catalog_list_roles(ctx->catalog, ctx->txn, &roles, &s->nroles, err, arena) != 0 ||
        sql_catalog_list(ctx->catalog, ctx->txn, ctx->db_id, &ents, &n, err, arena) != 0)
        return -1;
    s->dbs = dbs, s->roles = roles;
    const sql_table_desc **tables = kv_arena_alloc(arena, (n + 1) * sizeof(*tables));
    sql_catalog_entry *seqs = kv_arena_alloc(arena, (n + 1) * sizeof(*seqs));
    if (tables == NULL || seqs == NULL)
        return sql__oom(arena, err);
    s->tables = tables, s->seqs = seqs;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].kind == SQL_ENTRY_SEQUENCE) {
            seqs[s->nseqs++] = ents[i];
            continue;
        }
        int rc = sql_catalog_table_by_id(ctx->catalog, ctx->txn, ents[i].id, &tables[s->ntables],
                                         err, arena);
        if (rc < 0)
            return -1;
        s->ntables += rc == 0;
    }
    return 0;
}

int sql__vtable_scan(const sql_plan *p, sql_run_ctx *ctx, sql__row_cb cb, void *arg,
                     kv_arena *arena, sql_error *err)
{
    const sql__vdecl *d = decl_of(p->table);
    if (d->gen == NULL)
        return 0;
    sql__vgen g = {.p = p,
                   .ctx = ctx,
                   .cb = cb,
                   .arg = arg,
                   .arena = arena,
                   .err = err,
                   .ncols = d->ncols,
                   .row = kv_arena_alloc(arena, (size_t)d->ncols * sizeof(sql_datum))};
    if (g.row == NULL)
        return sql__oom(arena, err);
    sql__vsnap snap;
    int rc = load_snapshot(ctx, &snap, arena, err);
    if (rc == 0)
        rc = d->gen(&g, &snap);
    release_tables(&snap);
    return rc < 0 ? -1 : 0;
}

/* ---- oids -------------------------------------------------------------- */

int64_t sql__role_oid(const char *name)
{
    if (strcmp(name, "root") == 0)
        return SQL__BOOTSTRAP_ROLE_OID;
    if (strcmp(name, "pg_database_owner") == 0)
        return SQL__DB_OWNER_ROLE_OID;
    /* FNV-1a folded into [2^30, 2^31): clear of relation oids in practice
     * and stable for as long as the role exists */
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return ((int64_t)1 << 30) + (h & (((uint32_t)1 << 30) - 1));
}

const char *sql__role_name(const sql_role_desc *roles, size_t n, int64_t oid)
{
    if (oid == SQL__DB_OWNER_ROLE_OID)
        return "pg_database_owner";
    for (size_t i = 0; i < n; i++)
        if (sql__role_oid(roles[i].name) == oid)
            return roles[i].name;
    return NULL;
}

int sql__rel_by_oid(sql_catalog *c, sql_txn *t, int64_t oid, const sql_table_desc **out,
                    uint32_t *slot, sql_error *err, kv_arena *arena)
{
    if (oid < SQL__FIRST_OID || oid >= SQL__CON_BASE)
        return 1;
    int64_t rel = oid - SQL__FIRST_OID;
    uint32_t id = (uint32_t)(rel / SQL__REL_SLOTS) + SQL_FIRST_USER_ID;
    *slot = (uint32_t)(rel % SQL__REL_SLOTS);
    return sql_catalog_table_by_id(c, t, id, out, err, arena);
}

/* ---- text of definitions ----------------------------------------------- */

/* A growing string in an arena; `failed` after an allocation failure. */
typedef struct strbuf {
    kv_arena *arena;
    char *p;
    size_t len, cap;
    bool failed;
} strbuf;

__attribute__((format(printf, 2, 3))) static void sb_printf(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->failed || n < 0)
        return;
    if (b->len + (size_t)n + 1 > b->cap) {
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *p = kv_arena_alloc(b->arena, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        if (b->len)
            memcpy(p, b->p, b->len);
        b->p = p, b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static const char *sb_done(strbuf *b)
{
    if (b->p == NULL && !b->failed)
        sb_printf(b, "%s", "");
    return b->failed ? NULL : b->p;
}

/* An identifier as PostgreSQL's quote_identifier prints it: quoted
 * unless lower-case letters, digits and underscores not led by a digit. */
static void sb_ident(strbuf *b, const char *id)
{
    bool plain = (*id >= 'a' && *id <= 'z') || *id == '_';
    for (const char *p = id; *p && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (plain) {
        sb_printf(b, "%s", id);
        return;
    }
    sb_printf(b, "\"");
    for (const char *p = id; *p; p++)
        sb_printf(b, *p == '"' ? "\"\"" : "%c", *p);
    sb_printf(b, "\"");
}

static void sb_literal(strbuf *b, const char *s)
{
    sb_printf(b, "'");
    for (const char *p = s; *p; p++)
        sb_printf(b, *p == '\'' ? "''" : "%c", *p);
    sb_printf(b, "'");
}

/* How an expression is being deparsed: PostgreSQL's pretty mode drops
 * the parentheses its plain mode puts around every operator, boolean
 * and test node; a string literal takes the type it is assigned to. */
typedef struct deparser {
    strbuf *b;
    bool pretty;
    sql_type_id string_type;
    int indent; /* CASE's lines, as PostgreSQL always indents them */
} deparser;

/* Where a node stands: at the top, under AND, OR or NOT, or as the
 * operand of an operator, cast or test. */
typedef enum place { TOP, UNDER_AND, UNDER_OR, UNDER_NOT, UNDER_OP } place;

static void deparse(deparser *d, const sql_expr *e, place at);

/* The boolean a node is: AND, OR (NOT BETWEEN is an OR, BETWEEN an
 * AND of two comparisons), NOT; TOP for anything else. */
static place bool_kind(const sql_expr *e)
{
    switch (e->kind) {
    case SQL_EXPR_AND:
        return UNDER_AND;
    case SQL_EXPR_OR:
        return UNDER_OR;
    case SQL_EXPR_NOT:
        return UNDER_NOT;
    case SQL_EXPR_BETWEEN:
        return e->negated ? UNDER_OR : UNDER_AND;
    default:
        return TOP;
    }
}

/* Whether compound node e (an operator, boolean or test) is wrapped:
 * always in plain mode; in pretty mode as PostgreSQL's isSimpleNode
 * decides (AND and NOT need none under AND or OR, OR none under OR). */
static bool wraps(const deparser *d, const sql_expr *e, place at)
{
    if (!d->pretty || at == UNDER_OP)
        return true;
    place kind = bool_kind(e);
    if (at == TOP || kind == TOP)
        return false;
    if (at == UNDER_NOT)
        return true;
    return kind == UNDER_OR && at == UNDER_AND;
}

static void deparse_list(deparser *d, sql_expr *const *v, int n, const char *sep, place at)
{
    for (int i = 0; i < n; i++) {
        if (i)
            sb_printf(d->b, "%s", sep);
        deparse(d, v[i], at);
    }
}

static void deparse_const(deparser *d, const sql_expr *e)
{
    strbuf *b = d->b;
    switch (e->const_kind) {
    case SQL_CONST_NULL:
        sb_printf(b, "NULL");
        break;
    case SQL_CONST_BOOL:
        sb_printf(b, "%s", e->text);
        break;
    case SQL_CONST_INTEGER:
    case SQL_CONST_NUMERIC:
        if (e->text[0] == '-') { /* PostgreSQL quotes a negative constant */
            sb_literal(b, e->text);
            sb_printf(b, "::%s", e->const_kind == SQL_CONST_INTEGER ? "integer" : "numeric");
        } else {
            sb_printf(b, "%s", e->text);
        }
        break;
    case SQL_CONST_STRING:
        sb_literal(b, e->text);
        sb_printf(b, "::%s", sql_type_name(d->string_type));
        break;
    }
}

/* The forms PostgreSQL's grammar spells in capitals (COALESCE, ...),
 * which the parser made calls. */
static const char *func_name(const char *name)
{
    static const char *const forms[][2] = {{"coalesce", "COALESCE"},
                                           {"greatest", "GREATEST"},
                                           {"least", "LEAST"},
                                           {"nullif", "NULLIF"}};
    for (size_t i = 0; i < sizeof forms / sizeof *forms; i++)
        if (strcmp(forms[i][0], name) == 0)
            return forms[i][1];
    return name;
}

/* PostgreSQL's appendContextKeyword: `word` on a new line, indented. */
static void keyword(deparser *d, const char *word, int before, int after)
{
    strbuf *b = d->b;
    d->indent += before;
    while (!b->failed && b->len > 0 && b->p[b->len - 1] == ' ')
        b->p[--b->len] = '\0';
    sb_printf(b, "\n%*s%s", d->indent, "", word);
    d->indent += after;
}

enum { INDENT_STEP = 4 };

static void deparse_case(deparser *d, const sql_expr *e)
{
    keyword(d, "CASE", 0, INDENT_STEP);
    if (e->arg) {
        sb_printf(d->b, " ");
        deparse(d, e->arg, TOP);
    }
    for (int i = 0; i < e->nargs; i++) {
        keyword(d, "WHEN ", 0, 0);
        deparse(d, e->whens[i], TOP);
        sb_printf(d->b, " THEN ");
        deparse(d, e->thens[i], TOP);
    }
    keyword(d, "ELSE ", 0, 0);
    if (e->els)
        deparse(d, e->els, TOP);
    else
        sb_printf(d->b, "NULL");
    keyword(d, "END", -INDENT_STEP, 0);
}

static void deparse_func(deparser *d, const sql_expr *e)
{
    /* a serial column's nextval('seq') names its sequence by regclass */
    bool regclass_arg = strcmp(e->name, "nextval") == 0 && e->nargs == 1 &&
                        e->args[0]->kind == SQL_EXPR_CONST &&
                        e->args[0]->const_kind == SQL_CONST_STRING;
    sb_printf(d->b, "%s(", func_name(e->name));
    if (regclass_arg) {
        sb_literal(d->b, e->args[0]->text);
        sb_printf(d->b, "::regclass");
    } else {
        deparse_list(d, e->args, e->nargs, ", ", TOP);
    }
    sb_printf(d->b, ")");
}

static void deparse_cast(deparser *d, const sql_expr *e)
{
    /* a literal takes the type; anything else is wrapped in plain mode */
    bool literal = e->arg->kind == SQL_EXPR_CONST;
    sb_printf(d->b, literal || d->pretty ? "" : "(");
    if (literal && e->arg->const_kind == SQL_CONST_STRING)
        sb_literal(d->b, e->arg->text);
    else
        deparse(d, e->arg, UNDER_OP);
    sb_printf(d->b, "%s::%s", literal || d->pretty ? "" : ")",
              sql__format_type(e->type, d->b->arena));
}

/* Where operand `child` of binary operator `parent` stands: in pretty
 * mode PostgreSQL leaves out the parentheses of an arithmetic operand
 * that binds tighter than its parent, or as tightly on its left (a + b
 * + c, a * b + c; not a - (b - c)). */
static place operand_place(const deparser *d, const sql_expr *parent, const sql_expr *child,
                           bool left)
{
    if (!d->pretty || child->kind != SQL_EXPR_OP || !child->left || !parent->left)
        return UNDER_OP;
    bool child_lo = strchr("+-", child->name[0]) != NULL;
    bool child_hi = strchr("*/%", child->name[0]) != NULL;
    bool parent_lo = strchr("+-", parent->name[0]) != NULL;
    bool parent_hi = strchr("*/%", parent->name[0]) != NULL;
    if (!(child_lo || child_hi) || !(parent_lo || parent_hi))
        return UNDER_OP;
    if (child_hi && parent_lo)
        return TOP;
    if (child_lo && parent_hi)
        return UNDER_OP;
    return left ? TOP : UNDER_OP;
}

/* Operators, booleans and tests: the parts between the parentheses. */
static void deparse_compound(deparser *d, const sql_expr *e)
{
    strbuf *b = d->b;
    switch (e->kind) {
    case SQL_EXPR_OP:
        if (e->left) {
            deparse(d, e->left, operand_place(d, e, e->left, true));
            sb_printf(b, " ");
        }
        sb_printf(b, "%s ", e->name);
        deparse(d, e->right, operand_place(d, e, e->right, false));
        break;
    case SQL_EXPR_AND:
    case SQL_EXPR_OR:
        deparse_list(d, e->args, e->nargs, e->kind == SQL_EXPR_AND ? " AND " : " OR ",
                     bool_kind(e));
        break;
    case SQL_EXPR_NOT:
        sb_printf(b, "NOT ");
        deparse(d, e->args[0], UNDER_NOT);
        break;
    case SQL_EXPR_NULLTEST:
        deparse(d, e->arg, UNDER_OP);
        sb_printf(b, " IS %sNULL", e->negated ? "NOT " : "");
        break;
    case SQL_EXPR_IN: /* PostgreSQL keeps IN as an array comparison */
        deparse(d, e->arg, UNDER_OP);
        sb_printf(b, " %s (ARRAY[", e->negated ? "<> ALL" : "= ANY");
        deparse_list(d, e->args, e->nargs, ", ", TOP);
        sb_printf(b, "])");
        break;
    case SQL_EXPR_BETWEEN: /* PostgreSQL expands it into two comparisons */
        for (int i = 0; i < 2; i++) {
            const char *op = e->negated ? (i ? ">" : "<") : (i ? "<=" : ">=");
            const char *open = d->pretty ? "" : "(", *close = d->pretty ? "" : ")";
            sb_printf(b, "%s%s", i ? (e->negated ? " OR " : " AND ") : "", open);
            deparse(d, e->arg, UNDER_OP);
            sb_printf(b, " %s ", op);
            deparse(d, e->args[i], UNDER_OP);
            sb_printf(b, "%s", close);
        }
        break;
    case SQL_EXPR_DISTINCT:
        deparse(d, e->left, UNDER_OP);
        sb_printf(b, " IS %sDISTINCT FROM ", e->negated ? "NOT " : "");
        deparse(d, e->right, UNDER_OP);
        break;
    default:
        assert(!"not a compound node");
    }
}

static void deparse(deparser *d, const sql_expr *e, place at)
{
    switch (e->kind) {
    case SQL_EXPR_COLUMN:
        sb_ident(d->b, e->column);
        return;
    case SQL_EXPR_CONST:
        deparse_const(d, e);
        return;
    case SQL_EXPR_FUNC:
        deparse_func(d, e);
        return;
    case SQL_EXPR_CAST:
        deparse_cast(d, e);
        return;
    case SQL_EXPR_OP:
    case SQL_EXPR_AND:
    case SQL_EXPR_OR:
    case SQL_EXPR_NOT:
    case SQL_EXPR_NULLTEST:
    case SQL_EXPR_IN:
    case SQL_EXPR_BETWEEN:
    case SQL_EXPR_DISTINCT: {
        bool wrap = wraps(d, e, at);
        sb_printf(d->b, wrap ? "(" : "");
        deparse_compound(d, e);
        sb_printf(d->b, wrap ? ")" : "");
        return;
    }
    case SQL_EXPR_CASE:
        deparse_case(d, e);
        return;
    default:
        /* columns of another table, stars, parameters, DEFAULT and
         * subqueries never reach a stored DEFAULT or CHECK */
        assert(!"not a DEFAULT or CHECK expression");
        sb_printf(d->b, "?");
        return;
    }
}

const char *sql__deparse(const sql_expr *e, sql_type_id string_type, bool pretty, kv_arena *arena)
{
    strbuf b = {.arena = arena};
    deparser d = {.b = &b, .pretty = pretty, .string_type = string_type};
    deparse(&d, e, TOP);
    return sb_done(&b);
}

const char *sql__expr_tree(bool check, uint32_t n, kv_arena *arena)
{
    strbuf b = {.arena = arena};
    sb_printf(&b, check ? "{CHECK :index %u}" : "{DEFAULT :column %u}", n);
    return sb_done(&b);
}

int sql__expr_tree_text(const sql_table_desc *t, const char *tree, bool pretty, kv_arena *arena,
                        const char **out)
{
    unsigned n;
    char end;
    const sql_expr *e = NULL;
    sql_type_id string_type = SQL_T_TEXT;
    if (sscanf(tree, "{CHECK :index %u%c", &n, &end) == 2 && end == '}') {
        e = n < t->nchecks ? t->checks[n].expr : NULL;
    } else if (sscanf(tree, "{DEFAULT :column %u%c", &n, &end) == 2 && end == '}') {
        int pos = sql__col_pos(t, n);
        e = pos >= 0 ? t->cols[pos].default_expr : NULL;
        string_type = pos >= 0 ? t->cols[pos].type.oid : SQL_T_TEXT;
    } else {
        return 1;
    }
    *out = e ? sql__deparse(e, string_type, pretty, arena) : NULL;
    return e && *out == NULL ? -1 : 0;
}

const sql_col_desc *sql__col_by_id(const sql_table_desc *t, uint32_t id)
{
    int pos = sql__col_pos(t, id);
    return pos < 0 ? NULL : &t->cols[pos];
}

static void key_columns(strbuf *b, const sql_table_desc *t, const sql_index_desc *ix, bool dirs)
{
    for (uint32_t k = 0; k < ix->ncols; k++) {
        const sql_col_desc *c = sql__col_by_id(t, ix->col_ids[k]);
        sb_printf(b, k ? ", " : "");
        sb_ident(b, c ? c->name : "?");
        if (dirs && ix->dirs[k] == SQL_KEY_DESC)
            sb_printf(b, " DESC");
    }
}

const char *sql__indexdef(const sql_table_desc *t, const sql_index_desc *ix, int col,
                          kv_arena *arena)
{
    strbuf b = {.arena = arena};
    if (col > 0) {
        const sql_col_desc *c =
            (uint32_t)col <= ix->ncols ? sql__col_by_id(t, ix->col_ids[col - 1]) : NULL;
        if (c == NULL)
            return NULL;
        sb_ident(&b, c->name);
        return sb_done(&b);
    }
    sb_printf(&b, "CREATE %sINDEX ", ix->unique ? "UNIQUE " : "");
    sb_ident(&b, ix->name);
    sb_printf(&b, " ON public.");
    sb_ident(&b, t->name);
    sb_printf(&b, " USING btree (");
    key_columns(&b, t, ix, true);
    sb_printf(&b, ")");
    return sb_done(&b);
}

const char *sql__constraintdef(const sql_table_desc *t, int64_t oid, bool pretty, kv_arena *arena)
{
    int64_t slot = oid - SQL__CON_BASE - SQL__REL_OID(t->id, 0);
    strbuf b = {.arena = arena};
    if (slot >= SQL__CHECK_SLOT && slot - SQL__CHECK_SLOT < t->nchecks) {
        const sql_expr *e = t->checks[slot - SQL__CHECK_SLOT].expr;
        sb_printf(&b, "CHECK (%s)", sql__deparse(e, SQL_T_TEXT, pretty, arena));
        return sb_done(&b);
    }
    const sql_index_desc *ix = slot > 0 ? sql__index_by_id(t, (uint32_t)slot) : NULL;
    if (ix == NULL || (ix != &t->primary && ix->standalone))
        return NULL;
    sb_printf(&b, "%s (", ix == &t->primary ? "PRIMARY KEY" : "UNIQUE");
    key_columns(&b, t, ix, false);
    sb_printf(&b, ")");
    return sb_done(&b);
}

const char *sql__format_type(sql_type t, kv_arena *arena)
{
    sql_type_id elem = sql_type_array_elem(t.oid);
    if (elem) { /* varchar(3)[]: the element's text with its typmod */
        const char *e = sql__format_type((sql_type){elem, t.typmod}, arena);
        char *out = e ? kv_arena_alloc(arena, strlen(e) + 3) : NULL;
        if (out)
            sprintf(out, "%s[]", e);
        return out;
    }
    const char *name = sql_type_name(t.oid);
    char buf[96];
    int32_t m = t.typmod;
    if (name == NULL)
        return "???";
    if (m < 0)
        return t.oid == SQL_T_BPCHAR ? "bpchar" : name;
    switch (t.oid) {
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
        snprintf(buf, sizeof buf, "%s(%d)", name, m - 4);
        break;
    case SQL_T_NUMERIC:
        snprintf(buf, sizeof buf, "numeric(%d,%d)", ((m - 4) >> 16) & 0xffff, (m - 4) & 0xffff);
        break;
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        snprintf(buf, sizeof buf, "timestamp(%d) with%s time zone", m,
                 t.oid == SQL_T_TIMESTAMP ? "out" : "");
        break;
    default:
        return name;
    }
    return kv_arena_strndup(arena, buf, strlen(buf));
}
