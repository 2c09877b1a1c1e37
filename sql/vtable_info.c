/*
 * vtable_info.c - information_schema's virtual tables (vtable_int.h):
 * schemata, tables, columns, table_constraints and key_column_usage
 * with PostgreSQL 15's columns: tables and columns over the database's
 * tables (schema public) and the catalogs, the constraints over the
 * tables. Its domains (sql_identifier, character_data, yes_or_no,
 * cardinal_number) are text and integer here. NOT NULL, which
 * PostgreSQL also lists as CHECK constraints named after oids, is only
 * in columns.is_nullable.
 */
#include <stdio.h>
#include <string.h>

#include "sql/types_int.h"
#include "sql/vtable_int.h"

#define I4 SQL_T_INT4
#define TX SQL_T_TEXT

/* ---- schemata ---------------------------------------------------------- */

static const sql__vcol schemata_cols[] = {
    {"catalog_name", TX},
    {"schema_name", TX},
    {"schema_owner", TX},
    {"default_character_set_catalog", TX},
    {"default_character_set_schema", TX},
    {"default_character_set_name", TX},
    {"sql_path", TX},
};

static int gen_schemata(sql__vgen *g, const sql__vsnap *s)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sql__nschemas; i++) {
        sql__vput_text(g, s->database);
        sql__vput_text(g, sql__schemas[i].name);
        sql__vput_text(g, sql__role_name(s->roles, s->nroles, sql__schemas[i].owner));
        for (int k = 0; k < 4; k++)
            sql__vput_null(g);
        rc = sql__vemit(g);
    }
    return rc;
}

/* ---- tables ------------------------------------------------------------ */

static const sql__vcol tables_cols[] = {
    {"table_catalog", TX},
    {"table_schema", TX},
    {"table_name", TX},
    {"table_type", TX},
    {"self_referencing_column_name", TX},
    {"reference_generation", TX},
    {"user_defined_type_catalog", TX},
    {"user_defined_type_schema", TX},
    {"user_defined_type_name", TX},
    {"is_insertable_into", TX},
    {"is_typed", TX},
    {"commit_action", TX},
};

static int table_row(sql__vgen *g, const sql__vsnap *s, const sql__vrel *r)
{
    const sql__schema *nsp = sql__schema_by_oid(r->nsp);
    if (r->kind != 'r' && r->kind != 'v')
        return 0;
    sql__vput_text(g, s->database);
    sql__vput_text(g, nsp->name);
    sql__vput_text(g, r->name);
    sql__vput_text(g, r->kind == 'r' ? "BASE TABLE" : "VIEW");
    for (int k = 0; k < 5; k++)
        sql__vput_null(g);
    sql__vput_text(g, r->kind == 'r' ? "YES" : "NO");
    sql__vput_text(g, "NO");
    sql__vput_null(g);
    return sql__vemit(g);
}

/* Every table and view, the catalogs' included, as in PostgreSQL. */
static int gen_tables(sql__vgen *g, const sql__vsnap *s)
{
    return sql__each_relation(g, s, table_row);
}

/* ---- columns ----------------------------------------------------------- */

static const sql__vcol columns_cols[] = {
    {"table_catalog", TX},
    {"table_schema", TX},
    {"table_name", TX},
    {"column_name", TX},
    {"ordinal_position", I4},
    {"column_default", TX},
    {"is_nullable", TX},
    {"data_type", TX},
    {"character_maximum_length", I4},
    {"character_octet_length", I4},
    {"numeric_precision", I4},
    {"numeric_precision_radix", I4},
    {"numeric_scale", I4},
    {"datetime_precision", I4},
    {"interval_type", TX},
    {"interval_precision", I4},
    {"character_set_catalog", TX},
    {"character_set_schema", TX},
    {"character_set_name", TX},
    {"collation_catalog", TX},
    {"collation_schema", TX},
    {"collation_name", TX},
    {"domain_catalog", TX},
    {"domain_schema", TX},
    {"domain_name", TX},
    {"udt_catalog", TX},
    {"udt_schema", TX},
    {"udt_name", TX},
    {"scope_catalog", TX},
    {"scope_schema", TX},
    {"scope_name", TX},
    {"maximum_cardinality", I4},
    {"dtd_identifier", TX},
    {"is_self_referencing", TX},
    {"is_identity", TX},
    {"identity_generation", TX},
    {"identity_start", TX},
    {"identity_increment", TX},
    {"identity_maximum", TX},
    {"identity_minimum", TX},
    {"identity_cycle", TX},
    {"is_generated", TX},
    {"generation_expression", TX},
    {"is_updatable", TX},
};

static void put_int_or_null(sql__vgen *g, bool have, int64_t v)
{
    if (have)
        sql__vput_int(g, v);
    else
        sql__vput_null(g);
}

/* character_maximum_length .. datetime_precision, as PostgreSQL's
 * _pg_char_max_length, _pg_numeric_precision and friends compute them. */
static void put_type_facts(sql__vgen *g, sql_type t)
{
    int32_t m = t.typmod;
    bool chars = t.oid == SQL_T_VARCHAR || t.oid == SQL_T_BPCHAR;
    bool text = chars || t.oid == SQL_T_TEXT;
    put_int_or_null(g, chars && m >= 4, m - 4);
    put_int_or_null(g, text, chars && m >= 4 ? (int64_t)(m - 4) * 4 : 1073741824);
    int prec = t.oid == SQL_T_INT2     ? 16
               : t.oid == SQL_T_INT4   ? 32
               : t.oid == SQL_T_INT8   ? 64
               : t.oid == SQL_T_FLOAT4 ? 24
               : t.oid == SQL_T_FLOAT8 ? 53
                                       : 0;
    bool num = t.oid == SQL_T_NUMERIC;
    bool ints = t.oid == SQL_T_INT2 || t.oid == SQL_T_INT4 || t.oid == SQL_T_INT8;
    put_int_or_null(g, prec > 0 || (num && m >= 4), prec ? prec : ((m - 4) >> 16) & 0xffff);
    put_int_or_null(g, prec > 0 || num, num ? 10 : 2);
    put_int_or_null(g, ints || (num && m >= 4), ints ? 0 : (m - 4) & 0xffff);
    bool dt = t.oid == SQL_T_DATE || t.oid == SQL_T_TIMESTAMP || t.oid == SQL_T_TIMESTAMPTZ ||
              t.oid == SQL_T_INTERVAL;
    put_int_or_null(g, dt, t.oid == SQL_T_DATE ? 0 : m >= 0 ? m : 6);
}

static int column_row(sql__vgen *g, const sql__vsnap *s, const char *schema,
                      const sql_table_desc *t, const sql_col_desc *c, int pos)
{
    kv_arena *arena = sql__vgen_arena(g);
    char *dtd = kv_arena_alloc(arena, 12);
    const char *dfl =
        c->default_expr ? sql__deparse(c->default_expr, c->type.oid, false, arena) : "";
    if (dtd == NULL || dfl == NULL)
        return sql__oom(arena, sql__vgen_err(g));
    snprintf(dtd, 12, "%d", pos);
    sql__vput_text(g, s->database);
    sql__vput_text(g, schema);
    sql__vput_text(g, t->name);
    sql__vput_text(g, c->name);
    sql__vput_int(g, pos);
    sql__vput_text(g, c->default_expr ? dfl : NULL);
    sql__vput_text(g, c->not_null ? "NO" : "YES");
    sql__vput_text(g, sql_type_array_elem(c->type.oid) ? "ARRAY" : sql_type_name(c->type.oid));
    put_type_facts(g, c->type);
    sql__vput_null(g);          /* interval_type */
    sql__vput_null(g);          /* interval_precision */
    for (int k = 0; k < 9; k++) /* character set, collation, domain */
        sql__vput_null(g);
    sql__vput_text(g, s->database);
    sql__vput_text(g, "pg_catalog");
    sql__vput_text(g, sql_type_typname(c->type.oid));
    for (int k = 0; k < 4; k++) /* scope, maximum_cardinality */
        sql__vput_null(g);
    sql__vput_text(g, dtd);
    sql__vput_text(g, "NO");
    sql__vput_text(g, "NO");
    for (int k = 0; k < 6; k++) /* identity_* */
        sql__vput_null(g);
    sql__vput_text(g, "NEVER");
    sql__vput_null(g);
    sql__vput_text(g, "YES");
    return sql__vemit(g);
}

/* The database's tables' columns, then the catalogs'. */
static int gen_columns(sql__vgen *g, const sql__vsnap *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        int pos = 0;
        for (uint32_t c = 0; c < t->ncols; c++) {
            if (t->cols[c].hidden)
                continue;
            int rc = column_row(g, s, "public", t, &t->cols[c], ++pos);
            if (rc != 0)
                return rc;
        }
    }
    const sql__vdecl *d;
    for (size_t i = 0; i < sql__nvtables(); i++) {
        const sql_table_desc *t = sql__vtable_at(i, &d);
        for (uint32_t c = 0; c < t->ncols; c++) {
            int rc = column_row(g, s, d->schema, t, &t->cols[c], (int)c + 1);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- table_constraints, key_column_usage -------------------------------- */

static const sql__vcol table_constraints_cols[] = {
    {"constraint_catalog", TX}, {"constraint_schema", TX}, {"constraint_name", TX},
    {"table_catalog", TX},      {"table_schema", TX},      {"table_name", TX},
    {"constraint_type", TX},    {"is_deferrable", TX},     {"initially_deferred", TX},
    {"enforced", TX},           {"nulls_distinct", TX},
};

static const sql__vcol key_column_usage_cols[] = {
    {"constraint_catalog", TX}, {"constraint_schema", TX}, {"constraint_name", TX},
    {"table_catalog", TX},      {"table_schema", TX},      {"table_name", TX},
    {"column_name", TX},        {"ordinal_position", I4},  {"position_in_unique_constraint", I4},
};

/* The constraints of t as PostgreSQL lists them: its primary key, the
 * UNIQUE constraints (not CREATE INDEX's indexes), then CHECKs. The
 * hidden rowid key of a table without a primary key is none. */
typedef int (*constraint_fn)(sql__vgen *g, const sql__vsnap *s, const sql_table_desc *t,
                             const char *name, const char *type, const sql_index_desc *ix);

static int each_constraint(sql__vgen *g, const sql__vsnap *s, constraint_fn fn)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        int rc = 0;
        if (sql__real_pkey(t) != NULL)
            rc = fn(g, s, t, t->primary.name, "PRIMARY KEY", &t->primary);
        for (uint32_t x = 0; rc == 0 && x < t->nindexes; x++)
            if (!t->indexes[x].standalone && SQL__INDEX_LISTED(&t->indexes[x]))
                rc = fn(g, s, t, t->indexes[x].name, "UNIQUE", &t->indexes[x]);
        for (uint32_t c = 0; rc == 0 && c < t->nchecks && c < SQL__MAX_CHECKS; c++)
            rc = fn(g, s, t, t->checks[c].name, "CHECK", NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void put_names(sql__vgen *g, const sql__vsnap *s, const sql_table_desc *t, const char *name)
{
    sql__vput_text(g, s->database);
    sql__vput_text(g, "public");
    sql__vput_text(g, name);
    sql__vput_text(g, s->database);
    sql__vput_text(g, "public");
    sql__vput_text(g, t->name);
}

static int table_constraint_row(sql__vgen *g, const sql__vsnap *s, const sql_table_desc *t,
                                const char *name, const char *type, const sql_index_desc *ix)
{
    put_names(g, s, t, name);
    sql__vput_text(g, type);
    sql__vput_text(g, "NO");
    sql__vput_text(g, "NO");
    sql__vput_text(g, "YES");
    sql__vput_text(g, ix ? "YES" : NULL);
    return sql__vemit(g);
}

static int gen_table_constraints(sql__vgen *g, const sql__vsnap *s)
{
    return each_constraint(g, s, table_constraint_row);
}

static int key_column_rows(sql__vgen *g, const sql__vsnap *s, const sql_table_desc *t,
                           const char *name, const char *type, const sql_index_desc *ix)
{
    (void)type;
    for (uint32_t k = 0; ix && k < ix->ncols; k++) {
        const char *col = NULL;
        for (uint32_t i = 0; i < t->ncols; i++)
            if (t->cols[i].id == ix->col_ids[k])
                col = t->cols[i].name;
        put_names(g, s, t, name);
        sql__vput_text(g, col);
        sql__vput_int(g, (int64_t)k + 1);
        sql__vput_null(g);
        int rc = sql__vemit(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int gen_key_column_usage(sql__vgen *g, const sql__vsnap *s)
{
    return each_constraint(g, s, key_column_rows);
}

const sql__vdecl sql__vtables_info[] = {
    {"information_schema", "schemata", true, 13382, SQL__VCOLS(schemata_cols), gen_schemata},
    {"information_schema", "tables", true, 13425, SQL__VCOLS(tables_cols), gen_tables},
    {"information_schema", "columns", true, 13295, SQL__VCOLS(columns_cols), gen_columns},
    {"information_schema", "table_constraints", true, 13411, SQL__VCOLS(table_constraints_cols),
     gen_table_constraints},
    {"information_schema", "key_column_usage", true, 13329, SQL__VCOLS(key_column_usage_cols),
     gen_key_column_usage},
};
const size_t sql__nvtables_info = sizeof sql__vtables_info / sizeof *sql__vtables_info;
