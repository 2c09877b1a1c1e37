/*
 * vtable.h - the system catalogs: pg_catalog and information_schema as
 * read-only virtual tables (docs/sql.md, "System catalogs").
 *
 * A virtual table is a static sql_table_desc (is_virtual set, no primary
 * key columns, no indexes) plus a generator. The planner opens it like
 * a table (sql__open_table resolves pg_catalog.x, information_schema.x
 * and an unqualified name of pg_catalog before the public schema, as
 * PostgreSQL's search path does), always reads it by a full scan, and
 * the executor's sql__scan hands it to sql__vtable_scan, which builds
 * the rows from the catalog as the statement's transaction reads it and
 * applies the plan's filter. Everything above the scan (joins,
 * subqueries, aggregation, sorting) is the ordinary machinery.
 *
 * Oids (int8 columns here; PostgreSQL's oid type is not modelled): the
 * schemas, types, access methods and bootstrap roles keep PostgreSQL's;
 * a relation (table or sequence) of descriptor id `id` is
 * SQL__REL_OID(id, 0), its index of index id `ix` SQL__REL_OID(id, ix),
 * so one number names it in pg_class, pg_index, pg_attribute and
 * regclass; constraints and column defaults lie above 2^32. The catalogs
 * themselves have PostgreSQL 15's oids (pg_class 1259), which are also
 * their descriptors' ids.
 */
#ifndef SQL_VTABLE_H
#define SQL_VTABLE_H

#include "sql/plan_int.h"

/* PostgreSQL's first oid for user objects. */
#define SQL__FIRST_OID 16384u
/* Index ids of one table below this share its block of oids. */
#define SQL__REL_SLOTS 1024u
#define SQL__REL_OID(id, slot) \
    ((int64_t)SQL__FIRST_OID + ((int64_t)(id)-SQL_FIRST_USER_ID) * SQL__REL_SLOTS + (int64_t)(slot))
/* pg_constraint's oids: SQL__CON_BASE + the rel oid of the index (PRIMARY
 * KEY, UNIQUE) or of slot SQL__CHECK_SLOT + i (CHECK i); pg_attrdef's:
 * SQL__DEF_OID of the table's rel oid and the column's id. */
#define SQL__CON_BASE   ((int64_t)1 << 32)
#define SQL__CHECK_SLOT 512u
/* An index whose id reaches SQL__CHECK_SLOT (after some 500 CREATE INDEX
 * on one table) and CHECK constraints past the SQL__MAX_CHECKS-th have no
 * oid of their own: the catalogs do not list them. */
#define SQL__INDEX_LISTED(ix)        ((ix)->id < SQL__CHECK_SLOT)
#define SQL__MAX_CHECKS              (SQL__REL_SLOTS - SQL__CHECK_SLOT)
#define SQL__DEF_OID(reloid, col_id) (((int64_t)2 << 32) + ((int64_t)(reloid) << 16) + (col_id))

/* Role oids: the bootstrap superuser (the node's `root`) and
 * pg_database_owner, PostgreSQL's; other roles a stable hash of their
 * name (sql__role_oid). */
#define SQL__BOOTSTRAP_ROLE_OID 10
#define SQL__DB_OWNER_ROLE_OID  6171

/* The virtual table `name` of schema `schema` (NULL: unqualified, which
 * finds pg_catalog's); NULL when there is none. Static storage. */
const sql_table_desc *sql__vtable_find(const char *schema, const char *name);

/* The virtual table of oid `oid` (its descriptor id); NULL when none.
 * Static storage. */
const sql_table_desc *sql__vtable_by_oid(int64_t oid);

/* The schema of virtual table t: "pg_catalog" or "information_schema". */
const char *sql__vtable_schema_of(const sql_table_desc *t);

/* Opens the virtual table `name` names (see above) into *out for a
 * statement of kind `kind`: 0; 1 when the name is not one (the caller
 * looks for a table); -1 with `err` set: 42P01 for another name in
 * pg_catalog or information_schema (at the name's position in `query`,
 * NULL: none), and for INSERT, UPDATE and DELETE PostgreSQL's refusal
 * without a position (0A000 "cannot insert into view" for the catalogs
 * that are views there, else 42501 "permission denied for table"). */
int sql__vtable_open(const sql_name *name, sql_stmt_kind kind, const char *query, kv_arena *arena,
                     const sql_table_desc **out, sql_error *err);

/* DDL on a table (DROP, TRUNCATE, ALTER, CREATE INDEX): -1 with 42501
 * `permission denied: "x" is a system catalog` set when `name` names a
 * virtual table, else 0. */
int sql__vtable_refuse(const sql_name *name, kv_arena *arena, sql_error *err);

/* pg_namespace's rows: the schemas there are. */
typedef struct sql__schema {
    int64_t oid;
    const char *name;
    int64_t owner;           /* a role oid */
    const char *acl[2];      /* nspacl's items as initdb grants them; NULL: none */
    const char *description; /* pg_description's comment; NULL: none */
} sql__schema;

extern const sql__schema sql__schemas[];
extern const size_t sql__nschemas;

/* The oid of schema `name` (0: none), and the schema of an oid (NULL:
 * none). */
int64_t sql__schema_oid(const char *name);
const sql__schema *sql__schema_by_oid(int64_t oid);

/* Runs the scan of virtual-table plan p: its rows (in table order,
 * valid during the call) that pass p->filter go to cb (1 stops). The
 * catalog is read through ctx->txn; everything lives in `arena`. 0 or -1
 * with `err` set. */
int sql__vtable_scan(const sql_plan *p, sql_run_ctx *ctx, sql__row_cb cb, void *arg,
                     kv_arena *arena, sql_error *err);

/* The oid of role `name`. */
int64_t sql__role_oid(const char *name);

/* The name of the role of oid `oid` among roles[0..n) (pg_database_owner
 * is implicit); NULL when none has it. Borrowed from roles or static. */
const char *sql__role_name(const sql_role_desc *roles, size_t n, int64_t oid);

/* What relation oid `oid` names, read through `t`: the table (a
 * reference the caller releases) and *slot (0: the table, else the
 * index id), or 1 when it names no stored table (a catalog, a sequence,
 * nothing). */
int sql__rel_by_oid(sql_catalog *c, sql_txn *t, int64_t oid, const sql_table_desc **out,
                    uint32_t *slot, sql_error *err, kv_arena *arena);

/* The column of t with id `id`; NULL when none. */
const sql_col_desc *sql__col_by_id(const sql_table_desc *t, uint32_t id);

/* pg_get_indexdef's text for index `ix` of `t`: the CREATE INDEX
 * statement, or with `col` > 0 that key column's name; in `arena`. */
const char *sql__indexdef(const sql_table_desc *t, const sql_index_desc *ix, int col,
                          kv_arena *arena);

/* pg_get_constraintdef's text for the constraint of oid `oid` of `t`
 * (`pretty`: its pretty form); NULL (not an error) when there is none.
 * In `arena`. */
const char *sql__constraintdef(const sql_table_desc *t, int64_t oid, bool pretty, kv_arena *arena);

/* pg_attrdef.adbin and pg_constraint.conbin: instead of PostgreSQL's
 * node tree, a reference to the column default (`check` false) or
 * CHECK constraint `n` of the table (column id, index into checks),
 * which pg_get_expr deparses; in `arena`, NULL when out of memory. */
const char *sql__expr_tree(bool check, uint32_t n, kv_arena *arena);

/* pg_get_expr's text for `tree` (from sql__expr_tree) over table t,
 * plain or `pretty`, into *out (`arena`; NULL when t has no such
 * expression). 1 when `tree` is no such reference, -1 when out of
 * memory. */
int sql__expr_tree_text(const sql_table_desc *t, const char *tree, bool pretty, kv_arena *arena,
                        const char **out);

/* A default or CHECK expression as PostgreSQL deparses it, plainly or
 * (`pretty`) with the parentheses precedence needs only; a string
 * literal is typed `string_type` (a default's column type, else text).
 * In `arena`; NULL when out of memory. */
const char *sql__deparse(const sql_expr *e, sql_type_id string_type, bool pretty, kv_arena *arena);

/* PostgreSQL's format_type text of `t` (format_type, \d, casts in
 * deparsed expressions, information_schema); static or in `arena`,
 * NULL when out of memory. */
const char *sql__format_type(sql_type t, kv_arena *arena);

#endif /* SQL_VTABLE_H */
