/*
 * catalog.h - databases, tables, sequences and roles, stored in KV and
 * cached per node.
 *
 * Every catalog object is a descriptor in a system table (docs/sql-encoding.md,
 * "Catalog", has the key layout and descriptor byte tables): a descriptor
 * table keyed by id, a namespace table keyed by (parent id, name), a roles
 * table keyed by name, and counters (the descriptor id generator and one
 * counter per sequence). Catalog reads and writes made inside a sql_txn are
 * part of that transaction, so DDL is transactional like any other write.
 *
 * Descriptors handed out are immutable and reference counted: a lookup
 * returns a reference the caller releases with sql_table_release(). A
 * session holds its references for the statement (or prepared statement)
 * that uses them. To change a table, copy its descriptor
 * (sql_table_copy), edit the copy, and write it with sql_catalog_put_table.
 *
 * Cache: each node caches descriptors per catalog version, a counter in
 * KV that every transaction writing the catalog increments as it commits.
 * A lookup in a transaction that has not written the catalog reads the
 * version through the transaction (once per transaction epoch, remembered
 * on the sql_txn) and is served from the cache only while the cache holds
 * that version; a newer version empties the cache first. So DDL committed
 * through any node is seen by the next transaction on every node, and a
 * transaction that used a cached descriptor conflicts with DDL committed
 * after its version read (it is serialised before it, or fails with
 * 40001). A transaction that wrote the catalog reads it through KV (it
 * must see its own uncommitted DDL). Lookups with `txn` == NULL take what
 * the cache holds or the newest committed state, a hint to be checked in
 * a transaction later. After a DDL transaction commits, the session calls
 * sql_catalog_invalidate() so that this node stops serving hints from
 * before it at once.
 *
 * Expressions in descriptors (DEFAULT, CHECK) are parse trees (sql/parse.h)
 * stored with sql_expr_encode and decoded into the descriptor's memory.
 *
 * Errors: 0 or -1 with `err` set (strings in `arena`); lookups return 1
 * (not -1) when the object does not exist, leaving `err` untouched, so the
 * caller words the 42P01/3D000/42704 message with the statement's position.
 *
 * Threads: every function may be called from any number of worker threads.
 */
#ifndef SQL_CATALOG_H
#define SQL_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "kv/store.h"
#include "sql/keyenc.h"
#include "sql/parse.h"
#include "sql/txn.h"

/* Fixed ids. System table ids are below SQL_FIRST_USER_ID; descriptor ids
 * (databases, tables, sequences) are allocated from SQL_FIRST_USER_ID on.
 * Tables live in the `public` schema of their database; PostgreSQL's oids
 * for it and for pg_catalog are used so that clients see familiar values. */
#define SQL_FIRST_USER_ID     100u
#define SQL_PUBLIC_SCHEMA_OID 2200u
#define SQL_PG_CATALOG_OID    11u
#define SQL_PRIMARY_INDEX_ID  1u

typedef struct sql_catalog sql_catalog;

typedef struct sql_col_desc {
    uint32_t id; /* > 0, stable, never reused within a table */
    const char *name;
    sql_type type;
    bool not_null;
    bool hidden;                  /* rowid of a table created without a primary key */
    const sql_expr *default_expr; /* NULL: none (serial: nextval('<seq>')) */
} sql_col_desc;

typedef struct sql_index_desc {
    uint32_t id; /* SQL_PRIMARY_INDEX_ID for the primary key */
    const char *name;
    bool unique;
    /* made by CREATE INDEX (DROP INDEX may drop it), not by a PRIMARY KEY
     * or UNIQUE constraint */
    bool standalone;
    uint32_t ncols;
    const uint32_t *col_ids;
    const sql_key_dir *dirs;
} sql_index_desc;

typedef struct sql_check_desc {
    const char *name;
    const sql_expr *expr;
} sql_check_desc;

typedef struct sql_table_desc {
    uint32_t id; /* also the table's oid on the wire */
    /* a system catalog view (sql/vtable.h): static, never stored, not
     * reference counted (sql_table_release ignores it) */
    bool is_virtual;
    uint32_t db_id;
    const char *name;
    uint64_t version; /* bumped by every sql_catalog_put_table */
    uint32_t ncols;   /* in table order, hidden ones included */
    const sql_col_desc *cols;
    uint32_t next_col_id;
    sql_index_desc primary;
    uint32_t nindexes; /* secondary indexes (UNIQUE constraints, CREATE INDEX) */
    const sql_index_desc *indexes;
    uint32_t next_index_id;
    uint32_t nchecks;
    const sql_check_desc *checks;
    /* sequences owned by the table's serial columns, dropped with it */
    uint32_t nsequences;
    const uint32_t *sequence_ids;
    /* A view (sql_relkind 'v'): the text of its query (CREATE VIEW ...
     * AS <query>), which the planner parses and plans wherever the view
     * is read (pg_get_viewdef's source); its result columns are `cols`
     * (no rows, no indexes: primary.ncols 0). NULL: a table. */
    const char *view_query;
    /* A view: the ids of the tables and views its query reads, which
     * cannot be dropped while it exists (2BP01) */
    uint32_t ndeps;
    const uint32_t *dep_ids;
} sql_table_desc;

/* PostgreSQL's pg_class.relkind of a descriptor: 'v' for a view, 'r'
 * for a table. */
static inline char sql_relkind(const sql_table_desc *d)
{
    return d->view_query ? 'v' : 'r';
}

typedef struct sql_database_desc {
    uint32_t id;
    const char *name;
    const char *owner;
} sql_database_desc;

typedef struct sql_role_desc {
    const char *name;
    const char *verifier; /* SCRAM verifier; NULL: no password */
    bool superuser;
    bool login;
} sql_role_desc;

/* Opens the catalog of store `s` (borrowed until close), bootstrapping it
 * on a new store: database `defaultdb` (and `postgres`, which clients
 * connect to by default), role `root` (superuser, no password). *out is
 * owned by the caller. -1 with `err` set. */
int sql_catalog_open(kv_store *s, kv_txn_hb *hb, sql_catalog **out, sql_error *err,
                     kv_arena *arena);
/* Frees the cache; every descriptor reference must have been released. */
void sql_catalog_close(sql_catalog *c);
/* Drops every cached descriptor (after a DDL commit). */
void sql_catalog_invalidate(sql_catalog *c);
/* A counter bumped whenever the cache is emptied (sql_catalog_invalidate,
 * or a transaction that read a newer version): while it stays the same,
 * lookups without a transaction answer as they did, so Bind needs no
 * lookup to keep a prepared plan. Only a hint across nodes: see
 * sql_catalog_version. */
uint64_t sql_catalog_generation(sql_catalog *c);
/* The catalog version transaction `t` reads: read through t at most once
 * per epoch (sql_txn_catalog_version keeps it), moving the cache to it
 * when it is newer. Lookups in t that did not write the catalog return
 * the descriptors of exactly this version, so something looked up in
 * another transaction at the same version is still current in t. -1 with
 * `err` set (40001 and the like from KV; XX000 for a malformed value). */
int sql_catalog_version(sql_catalog *c, sql_txn *t, uint64_t *out, sql_error *err, kv_arena *arena);

/* ---- databases ------------------------------------------------------- */

/* 0 and *out (strings in `arena`), 1 when there is no such database. */
int sql_catalog_database(sql_catalog *c, sql_txn *t, const char *name, sql_database_desc *out,
                         sql_error *err, kv_arena *arena);
/* Creates database `name`; 1 (nothing written) when it exists. */
int sql_catalog_create_database(sql_catalog *c, sql_txn *t, const char *name, const char *owner,
                                sql_error *err, kv_arena *arena);
/* Drops database `name` with all its tables and their data; 1 when there
 * is no such database. */
int sql_catalog_drop_database(sql_catalog *c, sql_txn *t, const char *name, sql_error *err,
                              kv_arena *arena);

/* ---- tables ---------------------------------------------------------- */

/* The table `name` of database `db_id`: 0 and a reference in *out, 1 when
 * there is no such table. */
int sql_catalog_table(sql_catalog *c, sql_txn *t, uint32_t db_id, const char *name,
                      const sql_table_desc **out, sql_error *err, kv_arena *arena);
/* The same by id. */
int sql_catalog_table_by_id(sql_catalog *c, sql_txn *t, uint32_t id, const sql_table_desc **out,
                            sql_error *err, kv_arena *arena);
/* The names of database `db_id`'s tables in name order, in `arena`. */
int sql_catalog_list_tables(sql_catalog *c, sql_txn *t, uint32_t db_id, const char ***names,
                            size_t *n, sql_error *err, kv_arena *arena);
/* What sql_catalog_list finds (the values of the stored kinds). */
typedef enum sql_entry_kind {
    SQL_ENTRY_DATABASE = 1,
    SQL_ENTRY_TABLE = 2,
    SQL_ENTRY_SEQUENCE = 3,
} sql_entry_kind;

typedef struct sql_catalog_entry {
    const char *name;
    uint32_t id;
    sql_entry_kind kind;
} sql_catalog_entry;

/* Every database (parent 0), or every table and sequence of database
 * `parent`, in name order: *out[0..*n) in `arena`. For the system
 * catalogs (sql/vtable.h). */
int sql_catalog_list(sql_catalog *c, sql_txn *t, uint32_t parent, sql_catalog_entry **out,
                     size_t *n, sql_error *err, kv_arena *arena);
/* Releases a reference from a lookup; NULL and virtual tables: no-op. */
void sql_table_release(const sql_table_desc *d);

/* A deep copy of `src` in `arena` that the caller may edit (arrays
 * included) before sql_catalog_put_table. */
int sql_table_copy(const sql_table_desc *src, kv_arena *arena, sql_table_desc *out, sql_error *err);

/* A new descriptor id (databases, tables, sequences; never reused). */
int sql_catalog_new_id(sql_catalog *c, uint32_t *out, sql_error *err, kv_arena *arena);

/* Writes a new table (d->id from sql_catalog_new_id) and its name. 1 when
 * the name is taken in the database (nothing written). */
int sql_catalog_create_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                             kv_arena *arena);
/* Replaces the descriptor of table d->id (version bumped). */
int sql_catalog_put_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                          kv_arena *arena);
/* Removes the table, its name, its sequences and all its rows. */
int sql_catalog_drop_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                           kv_arena *arena);
/* Deletes all rows of the table (every index), keeping the table. */
int sql_catalog_truncate_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                               kv_arena *arena);

/* ---- sequences (serial columns) -------------------------------------- */

/* Creates sequence `name` in database `db_id` starting at 1; *id set.
 * 1 when the name is taken. */
int sql_catalog_create_sequence(sql_catalog *c, sql_txn *t, uint32_t db_id, const char *name,
                                uint32_t *id, sql_error *err, kv_arena *arena);
/* nextval('name'): the next value, non-transactional like PostgreSQL's
 * (a rolled-back transaction leaves a gap). 1 when there is no such
 * sequence. */
int sql_catalog_nextval(sql_catalog *c, sql_txn *t, uint32_t db_id, const char *name, int64_t *out,
                        sql_error *err, kv_arena *arena);

/* ---- roles ----------------------------------------------------------- */

/* 0 and *out (strings in `arena`), 1 when there is no such role. */
int sql_catalog_role(sql_catalog *c, sql_txn *t, const char *name, sql_role_desc *out,
                     sql_error *err, kv_arena *arena);
/* Every role in name order: *out[0..*n) (strings in `arena`). */
int sql_catalog_list_roles(sql_catalog *c, sql_txn *t, sql_role_desc **out, size_t *n,
                           sql_error *err, kv_arena *arena);
/* Writes role r->name; with `create`, 1 when it exists (nothing written);
 * without, 1 when it does not. */
int sql_catalog_put_role(sql_catalog *c, sql_txn *t, const sql_role_desc *r, bool create,
                         sql_error *err, kv_arena *arena);
/* 1 when there is no such role. */
int sql_catalog_drop_role(sql_catalog *c, sql_txn *t, const char *name, sql_error *err,
                          kv_arena *arena);

/* ---- rows ------------------------------------------------------------ */

/* The key prefix /table id/index id/ of index `index_id` of table
 * `table_id` and the span covering all its keys. */
int sql_index_span(uint32_t table_id, uint32_t index_id, kv_arena *arena, kv_span *out,
                   sql_error *err);

/* ---- expression trees in descriptors --------------------------------- */

/* Appends the binary form of `e` (docs/sql-encoding.md, "Catalog", has
 * the byte table). Locations are not stored: decoded trees have -1. 54000
 * for a tree nested deeper than the decoder accepts, 53200. */
int sql_expr_encode(const sql_expr *e, sql_keybuf *b, sql_error *err);
/* Decodes a tree written by sql_expr_encode into `arena`; 22P03-free:
 * malformed bytes are XX000 (a corrupt descriptor). */
int sql_expr_decode(const uint8_t *p, size_t len, kv_arena *arena, sql_expr **out, sql_error *err);

#endif /* SQL_CATALOG_H */
