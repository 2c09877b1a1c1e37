/*
 * expr_func_catalog.c - the functions over the system catalogs that
 * psql's and drivers' catalog queries call (docs/sql.md, "System
 * catalogs"): pg_get_indexdef, pg_get_constraintdef, pg_get_expr,
 * pg_get_userbyid, format_type, pg_table_is_visible, pg_encoding_to_char,
 * the *_description functions, and the oid alias casts (::regclass,
 * ::regtype, ::regnamespace, ::regrole become calls of these names; the
 * parser rewrites them). An alias function maps a name (text) to its oid
 * and an oid to its name, so `'t'::regclass` compares with oid columns
 * and `relid::regclass` prints the relation's name.
 *
 * Catalog reads go through the statement's transaction (sql_eval_env's
 * catalog and txn); descriptor references are released before return,
 * results copied into ctx->arena first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql/catalog.h"
#include "sql/expr_int.h"
#include "sql/vtable.h"

static int need_catalog(sql_eval_ctx *ctx)
{
    if (ctx->env == NULL || ctx->env->catalog == NULL)
        return sql__fn_fail(ctx, SQL_STATE_FEATURE_NOT_SUPPORTED,
                            "system catalog functions are not supported here");
    return 0;
}

/* The table (slot 0) or index (slot = index id) relation oid `oid` names,
 * for the pg_get_* functions: 0 with *t held (sql_table_release), 1 when
 * it names none, -1 on error. */
static int rel_of(sql_eval_ctx *ctx, int64_t oid, const sql_table_desc **t, uint32_t *slot)
{
    if (need_catalog(ctx) != 0)
        return -1;
    return sql__rel_by_oid(ctx->env->catalog, ctx->env->txn, oid, t, slot, ctx->err, ctx->arena);
}

static int text_of(sql_eval_ctx *ctx, const char *s, sql_datum *out)
{
    if (s == NULL) {
        out->isnull = true;
        return 0;
    }
    return sql__text_out(ctx, s, strlen(s), out);
}

/* args[i] (text) as a C string in ctx->arena. */
static const char *cstr(sql_eval_ctx *ctx, const sql_datum *args, int i)
{
    return kv_arena_strndup(ctx->arena, (const char *)args[i].v.s.p, args[i].v.s.len);
}

/* A name that names nothing: `state` and message `fmt` (over `name`),
 * at the literal's position when the argument is one (PostgreSQL reads
 * a literal while parsing). */
static int no_such(sql_eval_ctx *ctx, const sql_bexpr *e, sql_sqlstate state, const char *fmt,
                   const char *name)
{
    sql_error_set(ctx->err, ctx->arena, state, fmt, name);
    if (e->args[0]->kind == SQL_BEXPR_CONST)
        sql_expr_error_position(ctx->err, ctx->query, e->args[0]->location);
    return -1;
}

/* The oid number when `s` is all digits (the alias input functions
 * take an oid as well as a name); -1 otherwise. */
static int64_t numeric_oid(const char *s)
{
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12)
        return -1;
    return strtoll(s, NULL, 10);
}

/* What relation oid `oid` names, as `'oid'::regclass::text` prints it
 * into *name (ctx->arena); NULL when it names nothing. */
static int rel_name(sql_eval_ctx *ctx, int64_t oid, const char **name)
{
    const sql_eval_env *env = ctx->env;
    const sql_table_desc *t;
    uint32_t slot;
    const sql_table_desc *v = sql__vtable_by_oid(oid);
    if (v != NULL) { /* information_schema is not on the search path */
        bool info = strcmp(sql__vtable_schema_of(v), "information_schema") == 0;
        char *q = info ? kv_arena_alloc(ctx->arena, strlen(v->name) + 20) : NULL;
        if (info && q == NULL)
            return sql__fn_oom(ctx);
        if (info)
            sprintf(q, "information_schema.%s", v->name);
        *name = info ? q : v->name;
        return 0;
    }
    *name = NULL;
    int rc = sql__rel_by_oid(env->catalog, env->txn, oid, &t, &slot, ctx->err, ctx->arena);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        const sql_index_desc *ix = slot ? sql__index_by_id(t, slot) : NULL;
        const char *n = slot == 0 ? t->name : ix ? ix->name : NULL;
        *name = n ? kv_arena_strndup(ctx->arena, n, strlen(n)) : NULL;
        sql_table_release(t);
        return 0;
    }
    /* a sequence: not a table descriptor, found among the database's */
    sql_catalog_entry *ents;
    size_t n;
    if (sql_catalog_list(env->catalog, env->txn, env->db_id, &ents, &n, ctx->err, ctx->arena) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (ents[i].kind == SQL_ENTRY_SEQUENCE && SQL__REL_OID(ents[i].id, 0) == oid)
            *name = ents[i].name;
    return 0;
}

/* The oid of relation `name` (a catalog, or a table, sequence or index
 * of the database; qualified, or found in pg_catalog before public as
 * the search path finds it); -1 when there is none. */
static int rel_oid(sql_eval_ctx *ctx, const char *name, int64_t *oid)
{
    const sql_eval_env *env = ctx->env;
    sql_catalog_entry *ents;
    size_t n;
    const char *dot = strchr(name, '.');
    char *schema = dot ? kv_arena_strndup(ctx->arena, name, (size_t)(dot - name)) : NULL;
    if (dot && schema == NULL)
        return sql__fn_oom(ctx);
    const sql_table_desc *v = schema && strcmp(schema, "public") == 0
                                  ? NULL
                                  : sql__vtable_find(schema, dot ? dot + 1 : name);
    *oid = v ? (int64_t)v->id : -1;
    if (v || (schema && strcmp(schema, "public") != 0))
        return 0;
    name = dot ? dot + 1 : name;
    if (sql_catalog_list(env->catalog, env->txn, env->db_id, &ents, &n, ctx->err, ctx->arena) != 0)
        return -1;
    for (size_t i = 0; i < n && *oid < 0; i++) {
        if (strcmp(ents[i].name, name) == 0) {
            *oid = SQL__REL_OID(ents[i].id, 0);
            break;
        }
        const sql_table_desc *t;
        int rc = ents[i].kind != SQL_ENTRY_TABLE
                     ? 1
                     : sql_catalog_table_by_id(env->catalog, env->txn, ents[i].id, &t, ctx->err,
                                               ctx->arena);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        if (t->primary.name && strcmp(t->primary.name, name) == 0)
            *oid = SQL__REL_OID(t->id, t->primary.id);
        for (uint32_t x = 0; x < t->nindexes; x++)
            if (strcmp(t->indexes[x].name, name) == 0)
                *oid = SQL__REL_OID(t->id, t->indexes[x].id);
        sql_table_release(t);
    }
    return 0;
}

static int regclass_in(FN_ARGS)
{
    const char *name = cstr(ctx, args, 0);
    if (name == NULL)
        return sql__fn_oom(ctx);
    int64_t oid = numeric_oid(name);
    if (oid < 0 && (need_catalog(ctx) != 0 || rel_oid(ctx, name, &oid) != 0))
        return -1;
    if (oid < 0)
        return no_such(ctx, e, SQL_STATE_UNDEFINED_TABLE, "relation \"%s\" does not exist", name);
    *out = (sql_datum){.v.i = oid};
    return 0;
}

/* An oid without a name prints as its number, as PostgreSQL's alias
 * output functions do. */
static int oid_text(sql_eval_ctx *ctx, int64_t oid, const char *name, sql_datum *out)
{
    char buf[24];
    if (name == NULL)
        snprintf(buf, sizeof buf, "%lld", (long long)oid);
    return text_of(ctx, name ? name : buf, out);
}

static int regclass_out(FN_ARGS)
{
    const char *name;
    if (need_catalog(ctx) != 0 || rel_name(ctx, args[0].v.i, &name) != 0)
        return -1;
    return oid_text(ctx, args[0].v.i, name, out);
}

static int regtype_in(FN_ARGS)
{
    const char *name = cstr(ctx, args, 0);
    sql_type_id t;
    bool serial;
    if (name == NULL)
        return sql__fn_oom(ctx);
    int64_t oid = numeric_oid(name);
    if (strncmp(name, "pg_catalog.", 11) == 0)
        name += 11;
    if (oid < 0 && (sql_type_from_name(name, ctx->arena, &t, &serial, ctx->err) != 0 || serial))
        return no_such(ctx, e, SQL_STATE_UNDEFINED_OBJECT, "type \"%s\" does not exist", name);
    *out = (sql_datum){.v.i = oid >= 0 ? oid : (int64_t)t};
    return 0;
}

static int regtype_out(FN_ARGS)
{
    int64_t oid = args[0].v.i;
    bool known = oid >= 0 && oid <= UINT32_MAX && sql_type_known((uint32_t)oid);
    return oid_text(ctx, oid, known ? sql_type_name((sql_type_id)oid) : NULL, out);
}

static int regnamespace_in(FN_ARGS)
{
    const char *name = cstr(ctx, args, 0);
    if (name == NULL)
        return sql__fn_oom(ctx);
    int64_t oid = numeric_oid(name);
    if (oid < 0 && sql__schema_oid(name) != 0)
        oid = sql__schema_oid(name);
    if (oid < 0)
        return no_such(ctx, e, SQL_STATE_INVALID_SCHEMA_NAME, "schema \"%s\" does not exist", name);
    *out = (sql_datum){.v.i = oid};
    return 0;
}

static int regnamespace_out(FN_ARGS)
{
    const sql__schema *nsp = sql__schema_by_oid(args[0].v.i);
    return oid_text(ctx, args[0].v.i, nsp ? nsp->name : NULL, out);
}

/* The name of the role of oid `oid` into *name (ctx->arena or static);
 * NULL when none. */
static int role_name(sql_eval_ctx *ctx, int64_t oid, const char **name)
{
    sql_role_desc *roles;
    size_t n;
    if (need_catalog(ctx) != 0 || sql_catalog_list_roles(ctx->env->catalog, ctx->env->txn, &roles,
                                                         &n, ctx->err, ctx->arena) != 0)
        return -1;
    *name = sql__role_name(roles, n, oid);
    return 0;
}

static int regrole_in(FN_ARGS)
{
    const char *name = cstr(ctx, args, 0);
    sql_role_desc r;
    if (name == NULL)
        return sql__fn_oom(ctx);
    int64_t oid = numeric_oid(name);
    if (oid >= 0 || strcmp(name, "pg_database_owner") == 0) {
        *out = (sql_datum){.v.i = oid >= 0 ? oid : SQL__DB_OWNER_ROLE_OID};
        return 0;
    }
    if (need_catalog(ctx) != 0)
        return -1;
    int rc = sql_catalog_role(ctx->env->catalog, ctx->env->txn, name, &r, ctx->err, ctx->arena);
    if (rc < 0)
        return -1;
    if (rc == 1)
        return no_such(ctx, e, SQL_STATE_UNDEFINED_OBJECT, "role \"%s\" does not exist", name);
    *out = (sql_datum){.v.i = sql__role_oid(name)};
    return 0;
}

static int regrole_out(FN_ARGS)
{
    const char *name;
    if (role_name(ctx, args[0].v.i, &name) != 0)
        return -1;
    return oid_text(ctx, args[0].v.i, name, out);
}

/* pg_get_userbyid: PostgreSQL's text for an unknown oid. */
static int userbyid(FN_ARGS)
{
    const char *name;
    char buf[48];
    if (role_name(ctx, args[0].v.i, &name) != 0)
        return -1;
    if (name == NULL)
        snprintf(buf, sizeof buf, "unknown (OID=%lld)", (long long)args[0].v.i);
    return text_of(ctx, name ? name : buf, out);
}

static int indexdef(FN_ARGS)
{
    const sql_table_desc *t;
    uint32_t slot;
    int rc = rel_of(ctx, args[0].v.i, &t, &slot);
    if (rc < 0)
        return -1;
    const char *def = NULL;
    if (rc == 0) {
        const sql_index_desc *ix = slot ? sql__index_by_id(t, slot) : NULL;
        int col = e->nargs > 1 ? (int)args[1].v.i : 0;
        def = ix ? sql__indexdef(t, ix, col, ctx->arena) : NULL;
        sql_table_release(t);
    }
    return text_of(ctx, def, out);
}

static int constraintdef(FN_ARGS)
{
    const sql_table_desc *t;
    uint32_t slot;
    int rc = rel_of(ctx, args[0].v.i - SQL__CON_BASE, &t, &slot);
    if (rc < 0)
        return -1;
    const char *def = NULL;
    if (rc == 0) {
        bool pretty = e->nargs > 1 && args[1].v.b;
        def = sql__constraintdef(t, args[0].v.i, pretty, ctx->arena);
        sql_table_release(t);
    }
    return text_of(ctx, def, out);
}

/* pg_get_expr(tree, relid [, pretty]) over the references that
 * pg_attrdef.adbin and pg_constraint.conbin hold (sql__expr_tree);
 * NULL when relid names no table. */
static int get_expr(FN_ARGS)
{
    const sql_table_desc *t;
    uint32_t slot;
    const char *tree = cstr(ctx, args, 0), *text = NULL;
    if (tree == NULL)
        return sql__fn_oom(ctx);
    int rc = rel_of(ctx, args[1].v.i, &t, &slot);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        bool pretty = e->nargs > 2 && args[2].v.b;
        rc = slot == 0 ? sql__expr_tree_text(t, tree, pretty, ctx->arena, &text) : 0;
        sql_table_release(t);
    }
    if (rc < 0)
        return sql__fn_oom(ctx);
    if (rc == 1) {
        sql_error_set(ctx->err, ctx->arena, SQL_STATE_INVALID_TEXT_REPRESENTATION,
                      "invalid input syntax for type pg_node_tree");
        return -1;
    }
    return text_of(ctx, text, out);
}

/* Not strict: a NULL typmod is none (-1), as in PostgreSQL. */
static int format_type(FN_ARGS)
{
    int64_t oid = args[0].v.i;
    if (args[0].isnull) {
        out->isnull = true;
        return 0;
    }
    if (oid < 0 || oid > UINT32_MAX || !sql_type_known((uint32_t)oid))
        return text_of(ctx, "???", out);
    int32_t typmod = args[1].isnull ? -1 : (int32_t)args[1].v.i;
    const char *s = sql__format_type((sql_type){(sql_type_id)oid, typmod}, ctx->arena);
    return s ? text_of(ctx, s, out) : sql__fn_oom(ctx);
}

/* Every relation is in pg_catalog or public, both on the search path,
 * but for information_schema's. */
static int table_is_visible(FN_ARGS)
{
    const sql_table_desc *v = sql__vtable_by_oid(args[0].v.i);
    bool info = v && strcmp(sql__vtable_schema_of(v), "information_schema") == 0;
    *out = (sql_datum){.v.b = !info};
    return 0;
}

static int relation_is_publishable(FN_ARGS)
{
    const char *name;
    if (need_catalog(ctx) != 0 || rel_name(ctx, args[0].v.i, &name) != 0)
        return -1;
    *out = (sql_datum){.v.b = name != NULL};
    return 0;
}

static int encoding_to_char(FN_ARGS)
{
    return text_of(ctx, args[0].v.i == 6 ? "UTF8" : args[0].v.i == 0 ? "SQL_ASCII" : "", out);
}

/* current_schemas(implicit): the search path, pg_catalog first when the
 * implicitly searched schemas are wanted. */
static int current_schemas(FN_ARGS)
{
    static const char *const names[] = {"pg_catalog", "public"};
    sql_datum v[2];
    for (int i = 0; i < 2; i++)
        v[i] = (sql_datum){.v.s = {(const uint8_t *)names[i], strlen(names[i])}};
    bool implicit = args[0].v.b;
    return sql_array_make(SQL_T_TEXT, v + !implicit, 2 - !implicit, ctx->arena, out, ctx->err);
}

/* obj_description(oid [, catalog]): the schemas' comments (pg_description
 * has no others: COMMENT ON is not supported). */
static int obj_description(FN_ARGS)
{
    bool namespaces =
        e->nargs == 1 || (args[1].v.s.len == 12 && memcmp(args[1].v.s.p, "pg_namespace", 12) == 0);
    const sql__schema *nsp = namespaces ? sql__schema_by_oid(args[0].v.i) : NULL;
    return text_of(ctx, nsp ? nsp->description : NULL, out);
}

/* pg_type_is_visible: every type is in pg_catalog. */
static int type_is_visible(FN_ARGS)
{
    *out = (sql_datum){.v.b = true};
    return 0;
}

/* pg_get_viewdef(oid [, pretty]): the view's query as written
 * (PostgreSQL deparses its own form); NULL for anything else. */
static int viewdef(FN_ARGS)
{
    const sql_table_desc *t;
    uint32_t slot;
    int rc = rel_of(ctx, args[0].v.i, &t, &slot);
    if (rc < 0)
        return -1;
    const char *q = NULL;
    if (rc == 0) {
        q = slot == 0 && t->view_query
                ? kv_arena_strndup(ctx->arena, t->view_query, strlen(t->view_query))
                : NULL;
        sql_table_release(t);
    }
    return text_of(ctx, q, out);
}

/* Comments, statistics objects and triggers do not exist here. */
static int no_object(FN_ARGS)
{
    out->isnull = true;
    return 0;
}

#define T(x) SQL_T_##x
#define S    SQL__FN_STRICT
#define ST   (SQL__FN_STRICT | SQL__FN_STABLE)

static const sql__fn fn_table[] = {
    {"regclass", 1, {T(TEXT)}, T(INT8), regclass_in, ST},
    {"regclass", 1, {T(INT8)}, T(TEXT), regclass_out, ST},
    {"regtype", 1, {T(TEXT)}, T(INT8), regtype_in, S},
    {"regtype", 1, {T(INT8)}, T(TEXT), regtype_out, S},
    {"regnamespace", 1, {T(TEXT)}, T(INT8), regnamespace_in, S},
    {"regnamespace", 1, {T(INT8)}, T(TEXT), regnamespace_out, S},
    {"regrole", 1, {T(TEXT)}, T(INT8), regrole_in, ST},
    {"regrole", 1, {T(INT8)}, T(TEXT), regrole_out, ST},
    {"pg_get_userbyid", 1, {T(INT8)}, T(TEXT), userbyid, ST},
    {"pg_get_indexdef", 1, {T(INT8)}, T(TEXT), indexdef, ST},
    {"pg_get_indexdef", 3, {T(INT8), T(INT4), T(BOOL)}, T(TEXT), indexdef, ST},
    {"pg_get_constraintdef", 1, {T(INT8)}, T(TEXT), constraintdef, ST},
    {"pg_get_constraintdef", 2, {T(INT8), T(BOOL)}, T(TEXT), constraintdef, ST},
    {"pg_get_expr", 2, {T(TEXT), T(INT8)}, T(TEXT), get_expr, ST},
    {"pg_get_expr", 3, {T(TEXT), T(INT8), T(BOOL)}, T(TEXT), get_expr, ST},
    {"format_type", 2, {T(INT8), T(INT4)}, T(TEXT), format_type, 0},
    {"pg_table_is_visible", 1, {T(INT8)}, T(BOOL), table_is_visible, ST},
    {"pg_relation_is_publishable", 1, {T(INT8)}, T(BOOL), relation_is_publishable, ST},
    {"pg_encoding_to_char", 1, {T(INT4)}, T(TEXT), encoding_to_char, S},
    {"obj_description", 1, {T(INT8)}, T(TEXT), obj_description, ST},
    {"obj_description", 2, {T(INT8), T(TEXT)}, T(TEXT), obj_description, ST},
    {"pg_type_is_visible", 1, {T(INT8)}, T(BOOL), type_is_visible, ST},
    {"col_description", 2, {T(INT8), T(INT4)}, T(TEXT), no_object, ST},
    {"shobj_description", 2, {T(INT8), T(TEXT)}, T(TEXT), no_object, ST},
    {"pg_get_statisticsobjdef_columns", 1, {T(INT8)}, T(TEXT), no_object, ST},
    {"pg_get_triggerdef", 2, {T(INT8), T(BOOL)}, T(TEXT), no_object, ST},
    {"pg_get_viewdef", 1, {T(INT8)}, T(TEXT), viewdef, ST},
    {"pg_get_viewdef", 2, {T(INT8), T(BOOL)}, T(TEXT), viewdef, ST},
    {"current_schemas", 1, {T(BOOL)}, T(TEXT_ARRAY), current_schemas, ST},
};

#undef T
#undef S
#undef ST

const sql__fn_set sql__fn_set_catalog = {NULL, 0, fn_table, sizeof fn_table / sizeof *fn_table};
