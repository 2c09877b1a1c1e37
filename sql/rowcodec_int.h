/*
 * rowcodec_int.h - inside sql/: a table row (one datum per descriptor
 * column, in table order) <-> the KV pairs of its primary index and its
 * secondary indexes (docs/sql-encoding.md has the bytes).
 *
 *   primary key    /table id/1/pk columns (dirs from the index)
 *   primary value  sql_value_encode of the non-pk columns plus the exact
 *                  values of composite pk columns (keyenc.h), by column id
 *   unique key     /table id/index id/indexed columns; when one of them is
 *                  NULL the pk columns follow, so NULLs never collide
 *                  (PostgreSQL: NULLs are distinct in a unique index)
 *   other index    /table id/index id/indexed columns/pk columns: entries
 *   key            of different rows never collide
 *   index value    sql_value_encode of the pk columns (exact values, also
 *                  of composite types, so a lookup rebuilds the pk key)
 *
 * Index columns use PostgreSQL's default NULL placement (ASC NULLS LAST,
 * DESC NULLS FIRST).
 *
 * A sql__rowcodec is computed once per plan from a descriptor; a
 * sql__rowproj says which columns a reader decodes, so a point select of
 * one column decodes one value entry and no key.
 *
 * Memory: both structures live in the arena given to their init and
 * borrow the descriptor, which must outlive them. Encoders append to the
 * caller's sql_keybuf; decoded payloads live in the arena of the call.
 */
#ifndef SQL_ROWCODEC_INT_H
#define SQL_ROWCODEC_INT_H

#include "sql/catalog.h"
#include "sql/valenc.h"

typedef struct sql__rowcodec {
    const sql_table_desc *table;
    const int *pk_cols; /* table column position of each pk column */
    /* value columns in ascending id order and their table positions */
    size_t nvals;
    const sql_value_col *vals;
    const int *val_cols;
    const bool *in_value; /* per table column: decoded from the value */
    /* the pk columns in ascending id order (secondary index values) */
    const sql_value_col *pk_vals;
    const int *pk_val_cols;
    const int *const *ix_cols; /* per secondary index: column positions */
} sql__rowcodec;

/* Which columns a reader needs. */
typedef struct sql__rowproj {
    bool decode_key; /* a needed pk column is only in the key */
    size_t nvals;
    const sql_value_col *vals;
    const int *val_cols;
} sql__rowproj;

/* The position of column `col_id` in the table, -1 when absent. */
int sql__col_pos(const sql_table_desc *t, uint32_t col_id);

int sql__rowcodec_init(sql__rowcodec *rc, const sql_table_desc *t, kv_arena *arena, sql_error *err);
/* `needed[i]` for each table column; NULL: all of them. */
int sql__rowproj_init(const sql__rowcodec *rc, const bool *needed, kv_arena *arena,
                      sql__rowproj *out, sql_error *err);

/* Appends the primary key of `row`, prefix included. */
int sql__row_pk_key(const sql__rowcodec *rc, const sql_datum *row, sql_keybuf *b, sql_error *err);
/* Appends the primary index value of `row`; `scratch` has room for
 * table->ncols datums (callers reuse it for every row). */
int sql__row_pk_value(const sql__rowcodec *rc, const sql_datum *row, sql_datum *scratch,
                      sql_keybuf *b, sql_error *err);
/* Appends the key of secondary index `ix` (0-based into table->indexes);
 * *has_null tells the caller not to check uniqueness. */
int sql__row_ix_key(const sql__rowcodec *rc, uint32_t ix, const sql_datum *row, sql_keybuf *b,
                    bool *has_null, sql_error *err);
/* Appends a secondary index value (the pk columns); `scratch` as above. */
int sql__row_ix_value(const sql__rowcodec *rc, const sql_datum *row, sql_datum *scratch,
                      sql_keybuf *b, sql_error *err);

/* Decodes a secondary index value into the pk columns of `row` (the
 * other columns untouched); payloads in `arena`. */
int sql__row_ix_value_decode(const sql__rowcodec *rc, const uint8_t *val, size_t len,
                             kv_arena *arena, sql_datum *row, sql_error *err);

/* Decodes an entry of secondary index `ix` into row[0..ncols): the
 * indexed columns from the key (canonical values: callers decode only
 * non-composite columns this way), the pk columns from the value, the
 * others NULL. Payloads in `arena`. */
int sql__row_ix_decode(const sql__rowcodec *rc, uint32_t ix, const uint8_t *key, size_t klen,
                       const uint8_t *val, size_t vlen, kv_arena *arena, sql_datum *row,
                       sql_error *err);

/* Decodes a primary index pair into row[0..ncols): the projection's
 * columns, the others NULL. */
int sql__row_decode(const sql__rowcodec *rc, const sql__rowproj *proj, const uint8_t *key,
                    size_t klen, const uint8_t *val, size_t vlen, kv_arena *arena, sql_datum *row,
                    sql_error *err);

/* The index (primary or secondary) of the table with id `index_id`; NULL
 * when the key names none of them. */
const sql_index_desc *sql__index_by_id(const sql_table_desc *t, uint32_t index_id);

/* The indexed column values of key `key` of index `ix` as PostgreSQL's
 * detail prints them: "(a, b)=(1, x)", in `arena`. NULL on error. */
const char *sql__key_describe(const sql__rowcodec *rc, const sql_index_desc *ix, const uint8_t *key,
                              size_t klen, const sql_io_ctx *io, kv_arena *arena, sql_error *err);

/* The visible columns of `row` as PostgreSQL's "Failing row contains"
 * detail prints them: "(1, null, x)", in `arena`. NULL on error. */
const char *sql__row_text(const sql_table_desc *t, const sql_datum *row, const sql_io_ctx *io,
                          kv_arena *arena, sql_error *err);

#endif /* SQL_ROWCODEC_INT_H */
