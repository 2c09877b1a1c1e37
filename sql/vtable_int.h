/*
 * vtable_int.h - inside the system catalogs (vtable.c, vtable_pg.c,
 * vtable_info.c): how a virtual table is declared and how its generator
 * produces rows.
 *
 * A generator appends one value per column in declaration order
 * (sql__vput_*) and then calls sql__vemit, which checks the count,
 * applies the scan's filter and hands the row on. Every string it puts
 * must live at least until sql__vemit returns (the snapshot's arena or
 * static storage).
 */
#ifndef SQL_VTABLE_INT_H
#define SQL_VTABLE_INT_H

#include "sql/vtable.h"

/* The catalog as one scan sees it, read through the statement's
 * transaction when the scan starts; everything in the scan's arena. */
typedef struct sql__vsnap {
    const char *database; /* the session's */
    uint32_t db_id;
    const sql_table_desc **tables; /* references, in name order */
    size_t ntables;
    const sql_catalog_entry *seqs; /* the database's sequences */
    size_t nseqs;
    const sql_catalog_entry *dbs; /* every database */
    size_t ndbs;
    const sql_role_desc *roles;
    size_t nroles;
} sql__vsnap;

typedef struct sql__vgen sql__vgen;

/* One virtual column: its name and type (typmod -1). */
typedef struct sql__vcol {
    const char *name;
    sql_type_id type;
} sql__vcol;

/* A virtual table's declaration: gen NULL for a catalog that is always
 * empty here (pg_trigger, pg_policy, ...). gen returns 0, 1 when the
 * consumer stopped, -1 with the error set. */
typedef struct sql__vdecl {
    const char *schema;
    const char *name;
    bool view;    /* a view in PostgreSQL (pg_roles, information_schema) */
    uint32_t oid; /* PostgreSQL 15's (pg_class 1259), also the descriptor's id */
    const sql__vcol *cols;
    int ncols;
    int (*gen)(sql__vgen *g, const sql__vsnap *snap);
} sql__vdecl;

#define SQL__VCOLS(a) a, (int)(sizeof(a) / sizeof((a)[0]))

extern const sql__vdecl sql__vtables_pg[];
extern const size_t sql__nvtables_pg;
extern const sql__vdecl sql__vtables_info[];
extern const size_t sql__nvtables_info;

/* Every virtual table, i < sql__nvtables(), in declaration order
 * (pg_catalog's, then information_schema's): its descriptor, and its
 * declaration into *decl. */
size_t sql__nvtables(void);
const sql_table_desc *sql__vtable_at(size_t i, const sql__vdecl **decl);

/* A relation as pg_class, pg_tables and information_schema.tables show
 * it; strings borrowed from the snapshot or static. */
typedef struct sql__vrel {
    int64_t oid;
    const char *name;
    int64_t nsp;
    char kind; /* r, i, S, v */
    int natts, nchecks;
    bool hasindex;
    const sql_table_desc *table; /* r and i of stored tables: the table */
} sql__vrel;

/* Calls fn with every relation: the database's tables, sequences and
 * indexes (of its tables, in name order, primary key first), then the
 * catalogs themselves. Stops at fn's first non-zero result and returns
 * it. */
int sql__each_relation(sql__vgen *g, const sql__vsnap *s,
                       int (*fn)(sql__vgen *g, const sql__vsnap *s, const sql__vrel *r));

/* A table's primary key as PostgreSQL would show it: NULL when the key
 * is the hidden rowid of a table created without one. */
const sql_index_desc *sql__real_pkey(const sql_table_desc *t);

/* Appending the next column's value of the row being built. */
void sql__vput_null(sql__vgen *g);
void sql__vput_int(sql__vgen *g, int64_t v);
void sql__vput_bool(sql__vgen *g, bool v);
void sql__vput_float(sql__vgen *g, double v);
/* An array of elems[0..n) of type `elem`, subscripts from `lbound`
 * (elems copied into the scan's arena); -1 when out of memory. */
int sql__vput_array(sql__vgen *g, sql_type_id elem, const sql_datum *elems, int n, int lbound);
/* s borrowed until sql__vemit returns; NULL puts NULL */
void sql__vput_text(sql__vgen *g, const char *s);
/* The row is complete: filtered and passed on. 0 goes on, 1 stop, -1. */
int sql__vemit(sql__vgen *g);

/* The scan's arena and error, for generators' own strings. */
kv_arena *sql__vgen_arena(sql__vgen *g);
sql_error *sql__vgen_err(sql__vgen *g);

#endif /* SQL_VTABLE_INT_H */
