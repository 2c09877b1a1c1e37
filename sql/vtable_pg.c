/*
 * vtable_pg.c - pg_catalog's virtual tables (vtable_int.h): their
 * columns, named as in PostgreSQL 15, and the generators that fill them
 * from the catalog snapshot. Types: oid, regproc and xid columns are
 * int8; name and "char" are text; arrays are arrays (aclitem[], name[]
 * and "char"[] as text[], oid[] as int8[]); int2vector and oidvector are
 * int2[] and int8[] subscripted from 0, as PostgreSQL's are;
 * pg_node_tree is text (see sql__expr_tree).
 *
 * Rows: the database's tables (relkind r), their primary keys and
 * secondary indexes (i) and its sequences (S), then the catalogs
 * themselves; the schemas pg_catalog, public, information_schema and
 * pg_toast; the types of sql/types.h and their array types; the access
 * methods heap and btree; every database and role. The
 * catalogs whose objects Tardigrade does not have (triggers, policies,
 * publications, inheritance, collations, ...) exist and are empty, so
 * that psql's describe queries bind and run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sql/expr_int.h"
#include "sql/types_int.h"
#include "sql/vtable_int.h"

#define I8   SQL_T_INT8
#define I4   SQL_T_INT4
#define I2   SQL_T_INT2
#define B    SQL_T_BOOL
#define TX   SQL_T_TEXT
#define F4   SQL_T_FLOAT4
#define TSTZ SQL_T_TIMESTAMPTZ
/* aclitem[], name[], text[], "char"[] */
#define TXA SQL_T_TEXT_ARRAY
/* int2vector (subscripts from 0, as PostgreSQL's) and int2[] */
#define I2A SQL_T_INT2_ARRAY
/* oidvector (from 0) and oid[] */
#define I8A SQL_T_INT8_ARRAY

/* PostgreSQL's fixed oids. */
enum {
    HEAP_AM_OID = 2,
    BTREE_AM_OID = 403,
    DEFAULT_COLLATION_OID = 100,
    PG_CLASS_OID = 1259,
    PG_NAMESPACE_OID = 2615,
};

/* ---- helpers ----------------------------------------------------------- */

/* A table's primary key as PostgreSQL would show it: none when the key
 * is the hidden rowid of a table created without one. */
const sql_index_desc *sql__real_pkey(const sql_table_desc *t)
{
    for (uint32_t k = 0; k < t->primary.ncols; k++)
        for (uint32_t i = 0; i < t->ncols; i++)
            if (t->cols[i].id == t->primary.col_ids[k] && t->cols[i].hidden)
                return NULL;
    return t->primary.ncols > 0 ? &t->primary : NULL;
}

/* The attnum of column id `id`: its position among the visible
 * columns, 0 when hidden or absent. */
static int attnum_of(const sql_table_desc *t, uint32_t id)
{
    int n = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        n += !t->cols[i].hidden;
        if (t->cols[i].id == id)
            return t->cols[i].hidden ? 0 : n;
    }
    return 0;
}

static int visible_cols(const sql_table_desc *t)
{
    int n = 0;
    for (uint32_t i = 0; i < t->ncols; i++)
        n += !t->cols[i].hidden;
    return n;
}

/* Calls fn for every index PostgreSQL would list of t: the primary key
 * first, then the secondary ones. */
typedef int (*index_fn)(sql__vgen *g, const sql_table_desc *t, const sql_index_desc *ix);

static int each_index(sql__vgen *g, const sql__vsnap *s, index_fn fn)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        const sql_index_desc *pk = sql__real_pkey(t);
        int rc = pk ? fn(g, t, pk) : 0;
        for (uint32_t x = 0; rc == 0 && x < t->nindexes; x++)
            if (SQL__INDEX_LISTED(&t->indexes[x]))
                rc = fn(g, t, &t->indexes[x]);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int index_relations(sql__vgen *g, const sql__vsnap *s, const sql_table_desc *t,
                           int (*fn)(sql__vgen *g, const sql__vsnap *s, const sql__vrel *r))
{
    const sql_index_desc *pk = sql__real_pkey(t);
    int rc = 0;
    for (int64_t x = pk ? -1 : 0; rc == 0 && x < (int64_t)t->nindexes; x++) {
        const sql_index_desc *ix = x < 0 ? pk : &t->indexes[x];
        if (!SQL__INDEX_LISTED(ix))
            continue;
        sql__vrel r = {SQL__REL_OID(t->id, ix->id),
                       ix->name,
                       SQL_PUBLIC_SCHEMA_OID,
                       'i',
                       (int)ix->ncols,
                       0,
                       false,
                       t};
        rc = fn(g, s, &r);
    }
    return rc;
}

int sql__each_relation(sql__vgen *g, const sql__vsnap *s,
                       int (*fn)(sql__vgen *g, const sql__vsnap *s, const sql__vrel *r))
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        bool hasindex = sql__real_pkey(t) != NULL || t->nindexes > 0;
        sql__vrel r = {SQL__REL_OID(t->id, 0),
                       t->name,
                       SQL_PUBLIC_SCHEMA_OID,
                       sql_relkind(t),
                       visible_cols(t),
                       (int)t->nchecks,
                       hasindex,
                       t};
        rc = fn(g, s, &r);
    }
    for (size_t i = 0; rc == 0 && i < s->nseqs; i++) {
        sql__vrel r = {SQL__REL_OID(s->seqs[i].id, 0),
                       s->seqs[i].name,
                       SQL_PUBLIC_SCHEMA_OID,
                       'S',
                       3,
                       0,
                       false,
                       NULL};
        rc = fn(g, s, &r);
    }
    for (size_t i = 0; rc == 0 && i < s->ntables; i++)
        rc = index_relations(g, s, s->tables[i], fn);
    const sql__vdecl *d;
    for (size_t i = 0; rc == 0 && i < sql__nvtables(); i++) {
        const sql_table_desc *t = sql__vtable_at(i, &d);
        sql__vrel r = {
            t->id, t->name, sql__schema_oid(d->schema), d->view ? 'v' : 'r', (int)t->ncols, 0,
            false, NULL};
        rc = fn(g, s, &r);
    }
    return rc;
}

static int oom(sql__vgen *g)
{
    return sql__oom(sql__vgen_arena(g), sql__vgen_err(g));
}

/* What one of an index's per-key-column vectors holds. */
typedef enum keyvec { KEY_ATTNUMS, KEY_OPTIONS, KEY_COLLATIONS } keyvec;

/* Puts the vector `what` of index ix: the key columns' attnums
 * (pg_index.indkey, from subscript 0 like PostgreSQL's int2vector, or
 * from 1 for pg_constraint.conkey), their options (indoption: 3, DESC
 * with NULLS FIRST, or 0) or collations (indcollation). */
static int put_key_vector(sql__vgen *g, const sql_table_desc *t, const sql_index_desc *ix,
                          keyvec what, int lbound)
{
    sql_datum *v = kv_arena_alloc(sql__vgen_arena(g), ((size_t)ix->ncols + 1) * sizeof(*v));
    if (v == NULL)
        return oom(g);
    for (uint32_t k = 0; k < ix->ncols; k++) {
        const sql_col_desc *c = sql__col_by_id(t, ix->col_ids[k]);
        int64_t x = what == KEY_ATTNUMS                   ? attnum_of(t, ix->col_ids[k])
                    : what == KEY_OPTIONS                 ? (ix->dirs[k] == SQL_KEY_DESC ? 3 : 0)
                    : c && sql__is_text_repr(c->type.oid) ? DEFAULT_COLLATION_OID
                                                          : 0;
        v[k] = (sql_datum){.v.i = x};
    }
    sql_type_id elem = what == KEY_COLLATIONS ? SQL_T_INT8 : SQL_T_INT2;
    return sql__vput_array(g, elem, v, (int)ix->ncols, lbound);
}

/* ---- pg_namespace ------------------------------------------------------ */

static const sql__vcol namespace_cols[] = {
    {"oid", I8}, {"nspname", TX}, {"nspowner", I8}, {"nspacl", TXA}};

/* An aclitem[] of the items acl[0..2) (text here), NULL when none. */
static int put_acl(sql__vgen *g, const char *const acl[2])
{
    sql_datum v[2];
    int n = 0;
    for (; n < 2 && acl[n]; n++)
        v[n] = (sql_datum){.v.s = {(const uint8_t *)acl[n], strlen(acl[n])}};
    if (n == 0) {
        sql__vput_null(g);
        return 0;
    }
    return sql__vput_array(g, SQL_T_TEXT, v, n, 1);
}

static int gen_namespace(sql__vgen *g, const sql__vsnap *s)
{
    (void)s;
    for (size_t i = 0; i < sql__nschemas; i++) {
        sql__vput_int(g, sql__schemas[i].oid);
        sql__vput_text(g, sql__schemas[i].name);
        sql__vput_int(g, sql__schemas[i].owner);
        int rc = put_acl(g, sql__schemas[i].acl);
        if (rc == 0)
            rc = sql__vemit(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- pg_class ---------------------------------------------------------- */

static const sql__vcol class_cols[] = {
    {"oid", I8},           {"relname", TX},       {"relnamespace", I8},  {"reltype", I8},
    {"reloftype", I8},     {"relowner", I8},      {"relam", I8},         {"relfilenode", I8},
    {"reltablespace", I8}, {"relpages", I4},      {"reltuples", F4},     {"relallvisible", I4},
    {"reltoastrelid", I8}, {"relhasindex", B},    {"relisshared", B},    {"relpersistence", TX},
    {"relkind", TX},       {"relnatts", I2},      {"relchecks", I2},     {"relhasrules", B},
    {"relhastriggers", B}, {"relhassubclass", B}, {"relrowsecurity", B}, {"relforcerowsecurity", B},
    {"relispopulated", B}, {"relreplident", TX},  {"relispartition", B}, {"relrewrite", I8},
    {"relacl", TXA},       {"reloptions", TXA},   {"relpartbound", TX},
};

/* One pg_class row; kind 'r', 'i' or 'S' (and 'v' for views, once the
 * catalog has them, and for the catalogs that are views in PostgreSQL). */
static int class_row(sql__vgen *g, const sql__vsnap *s, const sql__vrel *r)
{
    char *k = kv_arena_alloc(sql__vgen_arena(g), 2);
    if (k == NULL)
        return oom(g);
    (void)s;
    k[0] = r->kind, k[1] = '\0';
    sql__vput_int(g, r->oid);
    sql__vput_text(g, r->name);
    sql__vput_int(g, r->nsp);
    sql__vput_int(g, 0); /* reltype */
    sql__vput_int(g, 0); /* reloftype */
    sql__vput_int(g, SQL__BOOTSTRAP_ROLE_OID);
    sql__vput_int(g, r->kind == 'r' ? HEAP_AM_OID : r->kind == 'i' ? BTREE_AM_OID : 0);
    sql__vput_int(g, r->kind == 'v' ? 0 : r->oid); /* relfilenode */
    sql__vput_int(g, 0);                           /* reltablespace: the database's default */
    sql__vput_int(g, 0);
    sql__vput_float(g, -1); /* reltuples: never analyzed */
    sql__vput_int(g, 0);
    sql__vput_int(g, 0); /* reltoastrelid */
    sql__vput_bool(g, r->hasindex);
    sql__vput_bool(g, false);
    sql__vput_text(g, "p");
    sql__vput_text(g, k);
    sql__vput_int(g, r->natts);
    sql__vput_int(g, r->nchecks);
    sql__vput_bool(g, r->kind == 'v'); /* relhasrules: a view's _RETURN */
    sql__vput_bool(g, false);          /* relhastriggers */
    sql__vput_bool(g, false);          /* relhassubclass */
    sql__vput_bool(g, false);          /* relrowsecurity */
    sql__vput_bool(g, false);          /* relforcerowsecurity */
    sql__vput_bool(g, true);           /* relispopulated */
    sql__vput_text(g, r->kind == 'r' && r->nsp == SQL_PUBLIC_SCHEMA_OID ? "d" : "n");
    sql__vput_bool(g, false); /* relispartition */
    sql__vput_int(g, 0);      /* relrewrite */
    sql__vput_null(g);        /* relacl */
    sql__vput_null(g);        /* reloptions */
    sql__vput_null(g);        /* relpartbound */
    return sql__vemit(g);
}

static int gen_class(sql__vgen *g, const sql__vsnap *s)
{
    return sql__each_relation(g, s, class_row);
}

/* ---- pg_am ------------------------------------------------------------- */

static const sql__vcol am_cols[] = {{"oid", I8}, {"amname", TX}, {"amhandler", TX}, {"amtype", TX}};

static int gen_am(sql__vgen *g, const sql__vsnap *s)
{
    (void)s;
    sql__vput_int(g, HEAP_AM_OID);
    sql__vput_text(g, "heap");
    sql__vput_text(g, "heap_tableam_handler");
    sql__vput_text(g, "t");
    int rc = sql__vemit(g);
    if (rc != 0)
        return rc;
    sql__vput_int(g, BTREE_AM_OID);
    sql__vput_text(g, "btree");
    sql__vput_text(g, "bthandler");
    sql__vput_text(g, "i");
    return sql__vemit(g);
}

/* ---- pg_index ---------------------------------------------------------- */

static const sql__vcol index_cols[] = {
    {"indexrelid", I8},    {"indrelid", I8},           {"indnatts", I2},      {"indnkeyatts", I2},
    {"indisunique", B},    {"indnullsnotdistinct", B}, {"indisprimary", B},   {"indisexclusion", B},
    {"indimmediate", B},   {"indisclustered", B},      {"indisvalid", B},     {"indcheckxmin", B},
    {"indisready", B},     {"indislive", B},           {"indisreplident", B}, {"indkey", I2A},
    {"indcollation", I8A}, {"indclass", I8A},          {"indoption", I2A},    {"indexprs", TX},
    {"indpred", TX},
};

static int index_row(sql__vgen *g, const sql_table_desc *t, const sql_index_desc *ix)
{
    sql__vput_int(g, SQL__REL_OID(t->id, ix->id));
    sql__vput_int(g, SQL__REL_OID(t->id, 0));
    sql__vput_int(g, ix->ncols);
    sql__vput_int(g, ix->ncols);
    sql__vput_bool(g, ix->unique || ix == &t->primary);
    sql__vput_bool(g, false);
    sql__vput_bool(g, ix == &t->primary);
    sql__vput_bool(g, false);
    sql__vput_bool(g, true); /* indimmediate: nothing is deferrable */
    sql__vput_bool(g, false);
    sql__vput_bool(g, true);
    sql__vput_bool(g, false);
    sql__vput_bool(g, true);
    sql__vput_bool(g, true);
    sql__vput_bool(g, false);
    if (put_key_vector(g, t, ix, KEY_ATTNUMS, 0) != 0 ||
        put_key_vector(g, t, ix, KEY_COLLATIONS, 0) != 0)
        return -1;
    sql__vput_null(g); /* indclass: operator classes are not modelled */
    if (put_key_vector(g, t, ix, KEY_OPTIONS, 0) != 0)
        return -1;
    sql__vput_null(g); /* indexprs: no expression indexes */
    sql__vput_null(g); /* indpred: no partial indexes */
    return sql__vemit(g);
}

static int gen_index(sql__vgen *g, const sql__vsnap *s)
{
    return each_index(g, s, index_row);
}

/* ---- pg_attribute ------------------------------------------------------ */

static const sql__vcol attribute_cols[] = {
    {"attrelid", I8},       {"attname", TX},       {"atttypid", I8},    {"attstattarget", I4},
    {"attlen", I2},         {"attnum", I2},        {"attndims", I4},    {"attcacheoff", I4},
    {"atttypmod", I4},      {"attbyval", B},       {"attalign", TX},    {"attstorage", TX},
    {"attcompression", TX}, {"attnotnull", B},     {"atthasdef", B},    {"atthasmissing", B},
    {"attidentity", TX},    {"attgenerated", TX},  {"attisdropped", B}, {"attislocal", B},
    {"attinhcount", I4},    {"attcollation", I8},  {"attacl", TXA},     {"attoptions", TXA},
    {"attfdwoptions", TXA}, {"attmissingval", TX},
};

static int attribute_row(sql__vgen *g, int64_t rel, const sql_col_desc *c, int attnum)
{
    int len = sql_type_len(c->type.oid);
    sql__vput_int(g, rel);
    sql__vput_text(g, c->name);
    sql__vput_int(g, c->type.oid);
    sql__vput_int(g, -1);
    sql__vput_int(g, len);
    sql__vput_int(g, attnum);
    sql__vput_int(g, 0);
    sql__vput_int(g, -1);
    sql__vput_int(g, c->type.typmod);
    sql__vput_bool(g, len > 0 && len <= 8);
    sql__vput_text(g, len == 1 ? "c" : len == 2 ? "s" : len == 8 ? "d" : "i");
    sql__vput_text(g, len > 0 ? "p" : "x");
    sql__vput_text(g, "");
    sql__vput_bool(g, c->not_null);
    sql__vput_bool(g, c->default_expr != NULL);
    sql__vput_bool(g, false);
    sql__vput_text(g, "");
    sql__vput_text(g, "");
    sql__vput_bool(g, false);
    sql__vput_bool(g, true);
    sql__vput_int(g, 0);
    sql__vput_int(g, sql__is_text_repr(c->type.oid) ? DEFAULT_COLLATION_OID : 0);
    sql__vput_null(g);
    sql__vput_null(g);
    sql__vput_null(g);
    sql__vput_null(g);
    return sql__vemit(g);
}

/* An index's attributes: its key columns, numbered 1.., never NOT NULL
 * nor with a default (as in PostgreSQL). */
static int attribute_index(sql__vgen *g, const sql_table_desc *t, const sql_index_desc *ix)
{
    for (uint32_t k = 0; k < ix->ncols; k++) {
        const sql_col_desc *c = sql__col_by_id(t, ix->col_ids[k]);
        if (c == NULL)
            continue;
        sql_col_desc plain = {.name = c->name, .type = c->type};
        int rc = attribute_row(g, SQL__REL_OID(t->id, ix->id), &plain, (int)k + 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The catalogs' own columns. */
static int attribute_catalogs(sql__vgen *g)
{
    const sql__vdecl *d;
    for (size_t i = 0; i < sql__nvtables(); i++) {
        const sql_table_desc *t = sql__vtable_at(i, &d);
        for (uint32_t c = 0; c < t->ncols; c++) {
            int rc = attribute_row(g, t->id, &t->cols[c], (int)c + 1);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

static int gen_attribute(sql__vgen *g, const sql__vsnap *s)
{
    int rc = attribute_catalogs(g);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        int attnum = 0;
        for (uint32_t c = 0; c < t->ncols; c++) {
            if (t->cols[c].hidden)
                continue;
            int rc = attribute_row(g, SQL__REL_OID(t->id, 0), &t->cols[c], ++attnum);
            if (rc != 0)
                return rc;
        }
    }
    return each_index(g, s, attribute_index);
}

/* ---- pg_attrdef -------------------------------------------------------- */

static const sql__vcol attrdef_cols[] = {
    {"oid", I8}, {"adrelid", I8}, {"adnum", I2}, {"adbin", TX}};

static int gen_attrdef(sql__vgen *g, const sql__vsnap *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        int64_t rel = SQL__REL_OID(t->id, 0);
        for (uint32_t c = 0; c < t->ncols; c++) {
            const sql_col_desc *col = &t->cols[c];
            if (col->hidden || col->default_expr == NULL)
                continue;
            const char *text = sql__expr_tree(false, col->id, sql__vgen_arena(g));
            if (text == NULL)
                return oom(g);
            sql__vput_int(g, SQL__DEF_OID(rel, col->id));
            sql__vput_int(g, rel);
            sql__vput_int(g, attnum_of(t, col->id));
            sql__vput_text(g, text);
            int rc = sql__vemit(g);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

/* ---- pg_constraint ----------------------------------------------------- */

static const sql__vcol constraint_cols[] = {
    {"oid", I8},          {"conname", TX},     {"connamespace", I8},  {"contype", TX},
    {"condeferrable", B}, {"condeferred", B},  {"convalidated", B},   {"conrelid", I8},
    {"contypid", I8},     {"conindid", I8},    {"conparentid", I8},   {"confrelid", I8},
    {"confupdtype", TX},  {"confdeltype", TX}, {"confmatchtype", TX}, {"conislocal", B},
    {"coninhcount", I4},  {"connoinherit", B}, {"conkey", I2A},       {"confkey", I2A},
    {"conbin", TX},
};

static int constraint_row(sql__vgen *g, const sql_table_desc *t, int64_t slot, const char *name,
                          const char *type, const sql_index_desc *ix, const char *bin)
{
    sql__vput_int(g, SQL__CON_BASE + SQL__REL_OID(t->id, slot));
    sql__vput_text(g, name);
    sql__vput_int(g, SQL_PUBLIC_SCHEMA_OID);
    sql__vput_text(g, type);
    sql__vput_bool(g, false);
    sql__vput_bool(g, false);
    sql__vput_bool(g, true);
    sql__vput_int(g, SQL__REL_OID(t->id, 0));
    sql__vput_int(g, 0);
    sql__vput_int(g, ix ? SQL__REL_OID(t->id, ix->id) : 0); /* conindid */
    sql__vput_int(g, 0);                                    /* conparentid */
    sql__vput_int(g, 0);                                    /* confrelid: no foreign keys */
    sql__vput_text(g, " ");
    sql__vput_text(g, " ");
    sql__vput_text(g, " ");
    sql__vput_bool(g, true);
    sql__vput_int(g, 0);
    sql__vput_bool(g, false);
    if (ix == NULL) /* a CHECK: its columns are not tracked */
        sql__vput_null(g);
    else if (put_key_vector(g, t, ix, KEY_ATTNUMS, 1) != 0)
        return -1;
    sql__vput_null(g);
    sql__vput_text(g, bin);
    return sql__vemit(g);
}

/* PRIMARY KEY and UNIQUE constraints: the indexes not made by CREATE
 * INDEX. */
static int constraint_index(sql__vgen *g, const sql_table_desc *t, const sql_index_desc *ix)
{
    bool pk = ix == &t->primary;
    if (!pk && ix->standalone)
        return 0;
    return constraint_row(g, t, ix->id, ix->name, pk ? "p" : "u", ix, NULL);
}

static int gen_constraint(sql__vgen *g, const sql__vsnap *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        for (uint32_t c = 0; c < t->nchecks && c < SQL__MAX_CHECKS; c++) {
            const char *bin = sql__expr_tree(true, c, sql__vgen_arena(g));
            if (bin == NULL)
                return oom(g);
            int rc = constraint_row(g, t, SQL__CHECK_SLOT + c, t->checks[c].name, "c", NULL, bin);
            if (rc != 0)
                return rc;
        }
    }
    return each_index(g, s, constraint_index);
}

/* ---- pg_type ----------------------------------------------------------- */

static const sql__vcol type_cols[] = {
    {"oid", I8},           {"typname", TX},     {"typnamespace", I8}, {"typowner", I8},
    {"typlen", I2},        {"typbyval", B},     {"typtype", TX},      {"typcategory", TX},
    {"typispreferred", B}, {"typisdefined", B}, {"typdelim", TX},     {"typrelid", I8},
    {"typelem", I8},       {"typarray", I8},    {"typalign", TX},     {"typstorage", TX},
    {"typnotnull", B},     {"typbasetype", I8}, {"typtypmod", I4},    {"typndims", I4},
    {"typcollation", I8},  {"typdefault", TX},  {"typacl", TXA},
};

/* pg_type.typcategory. */
static const char *type_category(sql_type_id t)
{
    switch (sql__type_cat(t)) {
    case SQL__CAT_BOOL:
        return "B";
    case SQL__CAT_NUMERIC:
        return "N";
    case SQL__CAT_STRING:
        return "S";
    case SQL__CAT_DATETIME:
        return "D";
    case SQL__CAT_TIMESPAN:
        return "T";
    case SQL__CAT_OTHER: /* void */
        return "P";
    default:
        return "U";
    }
}

/* One pg_type row: a base type, or (elem set) the array type of elem. */
static int type_row(sql__vgen *g, sql_type_id t, sql_type_id elem)
{
    int len = sql_type_len(t), elen = elem ? sql_type_len(elem) : len;
    sql__vput_int(g, t);
    sql__vput_text(g, sql_type_typname(t));
    sql__vput_int(g, SQL_PG_CATALOG_OID);
    sql__vput_int(g, SQL__BOOTSTRAP_ROLE_OID);
    sql__vput_int(g, len);
    sql__vput_bool(g, len > 0 && len <= 8);
    sql__vput_text(g, t == SQL_T_VOID ? "p" : "b");
    sql__vput_text(g, elem ? "A" : type_category(t));
    sql__vput_bool(g, !elem && sql__type_preferred(t));
    sql__vput_bool(g, true);
    sql__vput_text(g, ",");
    sql__vput_int(g, 0);
    sql__vput_int(g, elem);
    sql__vput_int(g, elem ? 0 : sql_type_array_of(t));
    /* an array aligns as its elements, at least as int4 */
    sql__vput_text(g, (elen == 1 || elem == SQL_T_UUID) && !elem ? "c"
                      : elen == 2 && !elem                       ? "s"
                      : elen == 8 || elen == 16                  ? "d"
                                                                 : "i");
    sql__vput_text(g, len > 0 ? "p" : t == SQL_T_NUMERIC ? "m" : "x");
    sql__vput_bool(g, false);
    sql__vput_int(g, 0);
    sql__vput_int(g, -1);
    sql__vput_int(g, 0);
    sql__vput_int(g, sql__is_text_repr(elem ? elem : t) ? DEFAULT_COLLATION_OID : 0);
    sql__vput_null(g);
    sql__vput_null(g);
    return sql__vemit(g);
}

/* The types of sql/types.h and their array types. */
static int gen_type(sql__vgen *g, const sql__vsnap *s)
{
    static const sql_type_id types[] = {
#define SQL__X(name, oid, pg, typname, len) SQL_T_##name,
        SQL_TYPE_MAP(SQL__X)
#undef SQL__X
#define SQL__X(name, oid, pg, typname) SQL_T_##name##_ARRAY,
            SQL_ARRAY_TYPE_MAP(SQL__X)
#undef SQL__X
    };
    (void)s;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < sizeof types / sizeof *types; i++)
        rc = type_row(g, types[i], sql_type_array_elem(types[i]));
    return rc;
}

/* ---- roles ------------------------------------------------------------- */

static const sql__vcol roles_cols[] = {
    {"rolname", TX},     {"rolsuper", B},         {"rolinherit", B},     {"rolcreaterole", B},
    {"rolcreatedb", B},  {"rolcanlogin", B},      {"rolreplication", B}, {"rolconnlimit", I4},
    {"rolpassword", TX}, {"rolvaliduntil", TSTZ}, {"rolbypassrls", B},   {"rolconfig", TXA},
    {"oid", I8},
};

/* The bootstrap superuser has every attribute, as initdb's does; other
 * roles only what CREATE ROLE gave them. */
static int role_row(sql__vgen *g, const char *name, bool super, bool login)
{
    bool boot = strcmp(name, "root") == 0;
    sql__vput_text(g, name);
    sql__vput_bool(g, super);
    sql__vput_bool(g, true);
    sql__vput_bool(g, boot);
    sql__vput_bool(g, boot);
    sql__vput_bool(g, login);
    sql__vput_bool(g, boot);
    sql__vput_int(g, -1);
    sql__vput_text(g, "********");
    sql__vput_null(g);
    sql__vput_bool(g, boot);
    sql__vput_null(g);
    sql__vput_int(g, sql__role_oid(name));
    return sql__vemit(g);
}

static int gen_roles(sql__vgen *g, const sql__vsnap *s)
{
    int rc = role_row(g, "pg_database_owner", false, false);
    for (size_t i = 0; rc == 0 && i < s->nroles; i++)
        rc = role_row(g, s->roles[i].name, s->roles[i].superuser, s->roles[i].login);
    return rc;
}

static const sql__vcol user_cols[] = {
    {"usename", TX},     {"usesysid", I8}, {"usecreatedb", B}, {"usesuper", B},    {"userepl", B},
    {"usebypassrls", B}, {"passwd", TX},   {"valuntil", TSTZ}, {"useconfig", TXA},
};

static int gen_user(sql__vgen *g, const sql__vsnap *s)
{
    for (size_t i = 0; i < s->nroles; i++) {
        const sql_role_desc *r = &s->roles[i];
        bool boot = strcmp(r->name, "root") == 0;
        if (!r->login)
            continue;
        sql__vput_text(g, r->name);
        sql__vput_int(g, sql__role_oid(r->name));
        sql__vput_bool(g, boot);
        sql__vput_bool(g, r->superuser);
        sql__vput_bool(g, boot);
        sql__vput_bool(g, boot);
        sql__vput_text(g, "********");
        sql__vput_null(g);
        sql__vput_null(g);
        int rc = sql__vemit(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const sql__vcol auth_members_cols[] = {
    {"roleid", I8}, {"member", I8}, {"grantor", I8}, {"admin_option", B}};

/* ---- pg_database, pg_tablespace ---------------------------------------- */

static const sql__vcol database_cols[] = {
    {"oid", I8},
    {"datname", TX},
    {"datdba", I8},
    {"encoding", I4},
    {"datlocprovider", TX},
    {"datistemplate", B},
    {"datallowconn", B},
    {"datconnlimit", I4},
    {"dattablespace", I8},
    {"datcollate", TX},
    {"datctype", TX},
    {"daticulocale", TX},
    {"datcollversion", TX},
    {"datacl", TXA},
};

enum { UTF8_ENCODING = 6, DEFAULT_TABLESPACE_OID = 1663, GLOBAL_TABLESPACE_OID = 1664 };

static int database_row(sql__vgen *g, int64_t oid, const char *name, int64_t owner, bool templ)
{
    sql__vput_int(g, oid);
    sql__vput_text(g, name);
    sql__vput_int(g, owner);
    sql__vput_int(g, UTF8_ENCODING);
    sql__vput_text(g, "c");
    sql__vput_bool(g, templ);
    sql__vput_bool(g, strcmp(name, "template0") != 0);
    sql__vput_int(g, -1);
    sql__vput_int(g, DEFAULT_TABLESPACE_OID);
    sql__vput_text(g, "C"); /* bytewise comparison, PostgreSQL's C locale */
    sql__vput_text(g, "C");
    sql__vput_null(g);
    sql__vput_null(g);
    if (!templ) {
        sql__vput_null(g); /* datacl: the default privileges */
        return sql__vemit(g);
    }
    /* initdb revokes CONNECT and TEMP on the templates from PUBLIC */
    static const char *const acl[2] = {"=c/root", "root=CTc/root"};
    return put_acl(g, acl) != 0 ? -1 : sql__vemit(g);
}

/* Every database, and PostgreSQL's templates (which CREATE DATABASE
 * copies there; here they stand for the empty database it makes). */
static int gen_database(sql__vgen *g, const sql__vsnap *s)
{
    int rc = database_row(g, 1, "template1", SQL__BOOTSTRAP_ROLE_OID, true);
    if (rc == 0)
        rc = database_row(g, 4, "template0", SQL__BOOTSTRAP_ROLE_OID, true);
    for (size_t i = 0; rc == 0 && i < s->ndbs; i++)
        rc = database_row(g, SQL__REL_OID(s->dbs[i].id, 0), s->dbs[i].name, SQL__BOOTSTRAP_ROLE_OID,
                          false);
    return rc;
}

static const sql__vcol tablespace_cols[] = {
    {"oid", I8}, {"spcname", TX}, {"spcowner", I8}, {"spcacl", TXA}, {"spcoptions", TXA}};

static int gen_tablespace(sql__vgen *g, const sql__vsnap *s)
{
    (void)s;
    int rc = 0;
    for (int i = 0; rc == 0 && i < 2; i++) {
        sql__vput_int(g, i ? GLOBAL_TABLESPACE_OID : DEFAULT_TABLESPACE_OID);
        sql__vput_text(g, i ? "pg_global" : "pg_default");
        sql__vput_int(g, SQL__BOOTSTRAP_ROLE_OID);
        sql__vput_null(g);
        sql__vput_null(g);
        rc = sql__vemit(g);
    }
    return rc;
}

/* ---- sequences: pg_sequence, pg_depend ---------------------------------- */

/* The serial column whose sequence is `seq` (its table into *table), or
 * NULL for a sequence no table owns. */
static const sql_col_desc *seq_owner(const sql__vsnap *s, const sql_catalog_entry *seq,
                                     const sql_table_desc **table)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        bool owns = false;
        for (uint32_t k = 0; k < t->nsequences; k++)
            owns |= t->sequence_ids[k] == seq->id;
        for (uint32_t c = 0; owns && c < t->ncols; c++) {
            const sql_expr *e = t->cols[c].default_expr;
            if (e && e->kind == SQL_EXPR_FUNC && strcmp(e->name, "nextval") == 0 && e->nargs == 1 &&
                e->args[0]->kind == SQL_EXPR_CONST && e->args[0]->text &&
                strcmp(e->args[0]->text, seq->name) == 0) {
                *table = t;
                return &t->cols[c];
            }
        }
    }
    return NULL;
}

static const sql__vcol sequence_cols[] = {
    {"seqrelid", I8}, {"seqtypid", I8}, {"seqstart", I8}, {"seqincrement", I8},
    {"seqmax", I8},   {"seqmin", I8},   {"seqcache", I8}, {"seqcycle", B},
};

/* A serial column's sequence has its column's type, as PostgreSQL
 * creates it; others are bigint. */
static int gen_sequence(sql__vgen *g, const sql__vsnap *s)
{
    for (size_t i = 0; i < s->nseqs; i++) {
        const sql_table_desc *t;
        const sql_col_desc *col = seq_owner(s, &s->seqs[i], &t);
        sql_type_id type = col ? col->type.oid : SQL_T_INT8;
        sql__vput_int(g, SQL__REL_OID(s->seqs[i].id, 0));
        sql__vput_int(g, type);
        sql__vput_int(g, 1);
        sql__vput_int(g, 1);
        sql__vput_int(g, type == SQL_T_INT2   ? INT16_MAX
                         : type == SQL_T_INT4 ? INT32_MAX
                                              : INT64_MAX);
        sql__vput_int(g, 1);
        sql__vput_int(g, 1);
        sql__vput_bool(g, false);
        int rc = sql__vemit(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static const sql__vcol depend_cols[] = {
    {"classid", I8},  {"objid", I8},       {"objsubid", I4}, {"refclassid", I8},
    {"refobjid", I8}, {"refobjsubid", I4}, {"deptype", TX},
};

/* Only what psql's \d of a sequence asks: a serial column's sequence
 * depends automatically ('a') on its column. */
static int gen_depend(sql__vgen *g, const sql__vsnap *s)
{
    for (size_t i = 0; i < s->nseqs; i++) {
        const sql_table_desc *t;
        const sql_col_desc *col = seq_owner(s, &s->seqs[i], &t);
        if (col == NULL)
            continue;
        sql__vput_int(g, PG_CLASS_OID);
        sql__vput_int(g, SQL__REL_OID(s->seqs[i].id, 0));
        sql__vput_int(g, 0);
        sql__vput_int(g, PG_CLASS_OID);
        sql__vput_int(g, SQL__REL_OID(t->id, 0));
        sql__vput_int(g, attnum_of(t, col->id));
        sql__vput_text(g, "a");
        int rc = sql__vemit(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- views over the others: pg_tables, pg_indexes, pg_views ------------ */

static const sql__vcol tables_cols[] = {
    {"schemaname", TX}, {"tablename", TX}, {"tableowner", TX}, {"tablespace", TX},
    {"hasindexes", B},  {"hasrules", B},   {"hastriggers", B}, {"rowsecurity", B},
};

static int table_row(sql__vgen *g, const sql__vsnap *s, const sql__vrel *r)
{
    (void)s;
    if (r->kind != 'r')
        return 0;
    sql__vput_text(g, sql__schema_by_oid(r->nsp)->name);
    sql__vput_text(g, r->name);
    sql__vput_text(g, "root"); /* the bootstrap superuser owns everything */
    sql__vput_null(g);
    sql__vput_bool(g, r->hasindex);
    sql__vput_bool(g, false);
    sql__vput_bool(g, false);
    sql__vput_bool(g, false);
    return sql__vemit(g);
}

static int gen_tables(sql__vgen *g, const sql__vsnap *s)
{
    return sql__each_relation(g, s, table_row);
}

static const sql__vcol indexes_cols[] = {
    {"schemaname", TX}, {"tablename", TX}, {"indexname", TX}, {"tablespace", TX}, {"indexdef", TX},
};

static int indexes_row(sql__vgen *g, const sql_table_desc *t, const sql_index_desc *ix)
{
    const char *def = sql__indexdef(t, ix, 0, sql__vgen_arena(g));
    if (def == NULL)
        return oom(g);
    sql__vput_text(g, "public");
    sql__vput_text(g, t->name);
    sql__vput_text(g, ix->name);
    sql__vput_null(g);
    sql__vput_text(g, def);
    return sql__vemit(g);
}

static int gen_indexes(sql__vgen *g, const sql__vsnap *s)
{
    return each_index(g, s, indexes_row);
}

static const sql__vcol views_cols[] = {
    {"schemaname", TX}, {"viewname", TX}, {"viewowner", TX}, {"definition", TX}};

/* The definition is the query as written (PostgreSQL prints its own
 * deparsed form of it). */
static int gen_views(sql__vgen *g, const sql__vsnap *s)
{
    for (size_t i = 0; i < s->ntables; i++) {
        const sql_table_desc *t = s->tables[i];
        if (t->view_query == NULL)
            continue;
        sql__vput_text(g, "public");
        sql__vput_text(g, t->name);
        sql__vput_text(g, "root");
        sql__vput_text(g, t->view_query);
        int rc = sql__vemit(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* ---- always empty ------------------------------------------------------ */

static const sql__vcol description_cols[] = {
    {"objoid", I8}, {"classoid", I8}, {"objsubid", I4}, {"description", TX}};

/* The schemas' comments; COMMENT ON is not supported, so nothing else
 * has one. */
static int gen_description(sql__vgen *g, const sql__vsnap *s)
{
    (void)s;
    for (size_t i = 0; i < sql__nschemas; i++) {
        if (sql__schemas[i].description == NULL)
            continue;
        sql__vput_int(g, sql__schemas[i].oid);
        sql__vput_int(g, PG_NAMESPACE_OID);
        sql__vput_int(g, 0);
        sql__vput_text(g, sql__schemas[i].description);
        int rc = sql__vemit(g);
        if (rc != 0)
            return rc;
    }
    return 0;
}
static const sql__vcol policy_cols[] = {{"oid", I8},     {"polname", TX},      {"polrelid", I8},
                                        {"polcmd", TX},  {"polpermissive", B}, {"polroles", I8A},
                                        {"polqual", TX}, {"polwithcheck", TX}};
static const sql__vcol trigger_cols[] = {
    {"oid", I8},           {"tgrelid", I8},       {"tgparentid", I8},   {"tgname", TX},
    {"tgfoid", I8},        {"tgtype", I2},        {"tgenabled", TX},    {"tgisinternal", B},
    {"tgconstrrelid", I8}, {"tgconstrindid", I8}, {"tgconstraint", I8}, {"tgdeferrable", B},
    {"tginitdeferred", B}, {"tgnargs", I2},       {"tgattr", I2A},      {"tgargs", SQL_T_BYTEA},
    {"tgqual", TX},        {"tgoldtable", TX},    {"tgnewtable", TX}};
static const sql__vcol publication_cols[] = {
    {"oid", I8},      {"pubname", TX},  {"pubowner", I8},   {"puballtables", B}, {"pubinsert", B},
    {"pubupdate", B}, {"pubdelete", B}, {"pubtruncate", B}, {"pubviaroot", B}};
static const sql__vcol publication_rel_cols[] = {
    {"oid", I8}, {"prpubid", I8}, {"prrelid", I8}, {"prqual", TX}, {"prattrs", I2A}};
static const sql__vcol publication_namespace_cols[] = {
    {"oid", I8}, {"pnpubid", I8}, {"pnnspid", I8}};
static const sql__vcol statistic_ext_cols[] = {
    {"oid", I8},          {"stxrelid", I8}, {"stxname", TX},
    {"stxnamespace", I8}, {"stxowner", I8}, {"stxstattarget", I4},
    {"stxkeys", I2A},     {"stxkind", TXA}, {"stxexprs", TX}};
static const sql__vcol inherits_cols[] = {
    {"inhrelid", I8}, {"inhparent", I8}, {"inhseqno", I4}, {"inhdetachpending", B}};
static const sql__vcol collation_cols[] = {
    {"oid", I8},          {"collname", TX},           {"collnamespace", I8}, {"collowner", I8},
    {"collprovider", TX}, {"collisdeterministic", B}, {"collencoding", I4},  {"collcollate", TX},
    {"collctype", TX},    {"colliculocale", TX},      {"collversion", TX}};
static const sql__vcol partitioned_table_cols[] = {
    {"partrelid", I8},  {"partstrat", TX},  {"partnatts", I2},      {"partdefid", I8},
    {"partattrs", I2A}, {"partclass", I8A}, {"partcollation", I8A}, {"partexprs", TX}};

const sql__vdecl sql__vtables_pg[] = {
    {"pg_catalog", "pg_namespace", false, 2615, SQL__VCOLS(namespace_cols), gen_namespace},
    {"pg_catalog", "pg_class", false, 1259, SQL__VCOLS(class_cols), gen_class},
    {"pg_catalog", "pg_am", false, 2601, SQL__VCOLS(am_cols), gen_am},
    {"pg_catalog", "pg_index", false, 2610, SQL__VCOLS(index_cols), gen_index},
    {"pg_catalog", "pg_attribute", false, 1249, SQL__VCOLS(attribute_cols), gen_attribute},
    {"pg_catalog", "pg_attrdef", false, 2604, SQL__VCOLS(attrdef_cols), gen_attrdef},
    {"pg_catalog", "pg_constraint", false, 2606, SQL__VCOLS(constraint_cols), gen_constraint},
    {"pg_catalog", "pg_type", false, 1247, SQL__VCOLS(type_cols), gen_type},
    {"pg_catalog", "pg_roles", true, 12000, SQL__VCOLS(roles_cols), gen_roles},
    {"pg_catalog", "pg_user", true, 12014, SQL__VCOLS(user_cols), gen_user},
    {"pg_catalog", "pg_auth_members", false, 1261, SQL__VCOLS(auth_members_cols), NULL},
    {"pg_catalog", "pg_database", false, 1262, SQL__VCOLS(database_cols), gen_database},
    {"pg_catalog", "pg_tablespace", false, 1213, SQL__VCOLS(tablespace_cols), gen_tablespace},
    {"pg_catalog", "pg_description", false, 2609, SQL__VCOLS(description_cols), gen_description},
    {"pg_catalog", "pg_policy", false, 3256, SQL__VCOLS(policy_cols), NULL},
    {"pg_catalog", "pg_trigger", false, 2620, SQL__VCOLS(trigger_cols), NULL},
    {"pg_catalog", "pg_publication", false, 6104, SQL__VCOLS(publication_cols), NULL},
    {"pg_catalog", "pg_publication_rel", false, 6106, SQL__VCOLS(publication_rel_cols), NULL},
    {"pg_catalog", "pg_publication_namespace", false, 6237, SQL__VCOLS(publication_namespace_cols),
     NULL},
    {"pg_catalog", "pg_statistic_ext", false, 3381, SQL__VCOLS(statistic_ext_cols), NULL},
    {"pg_catalog", "pg_inherits", false, 2611, SQL__VCOLS(inherits_cols), NULL},
    {"pg_catalog", "pg_collation", false, 3456, SQL__VCOLS(collation_cols), NULL},
    {"pg_catalog", "pg_sequence", false, 2224, SQL__VCOLS(sequence_cols), gen_sequence},
    {"pg_catalog", "pg_depend", false, 2608, SQL__VCOLS(depend_cols), gen_depend},
    {"pg_catalog", "pg_tables", true, 12033, SQL__VCOLS(tables_cols), gen_tables},
    {"pg_catalog", "pg_indexes", true, 12043, SQL__VCOLS(indexes_cols), gen_indexes},
    {"pg_catalog", "pg_views", true, 12028, SQL__VCOLS(views_cols), gen_views},
    {"pg_catalog", "pg_partitioned_table", false, 3350, SQL__VCOLS(partitioned_table_cols), NULL},
};
const size_t sql__nvtables_pg = sizeof sql__vtables_pg / sizeof *sql__vtables_pg;
