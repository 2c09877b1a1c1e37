/*
 * valenc.h - the row value encoding: the columns of a row that the key
 * does not hold (and the exact values of composite key columns, see
 * keyenc.h), as (column id, PostgreSQL binary format) entries.
 *
 * docs/sql-encoding.md has the byte table. NULL columns are simply absent,
 * so adding a nullable column needs no rewrite, and entries of columns the
 * reader does not ask for (dropped ones) are skipped.
 *
 * Memory: encoding appends to a sql_keybuf (its arena owns the bytes);
 * decoded payloads live in the arena passed to sql_value_decode. Inputs
 * are borrowed for the call only.
 */
#ifndef SQL_VALENC_H
#define SQL_VALENC_H

#include "sql/keyenc.h"

/* A column of the row value: its stable id (> 0) and type. */
typedef struct sql_value_col {
    uint32_t col_id;
    sql_type type;
} sql_value_col;

/* Appends the n columns `cols` (ids strictly ascending) with values
 * `vals`; NULL values are omitted. */
int sql_value_encode(sql_keybuf *b, const sql_value_col *cols, const sql_datum *vals, size_t n,
                     sql_error *err);

/* Fills out[i] with column cols[i] (ids strictly ascending) from the value
 * [p, p+len): NULL when the value has no entry for it. XX000 "corrupt row
 * value" on malformed bytes; a payload that does not decode as its type
 * reports the type's receive error. */
int sql_value_decode(const uint8_t *p, size_t len, const sql_value_col *cols, size_t n,
                     kv_arena *arena, sql_datum *out, sql_error *err);

#endif /* SQL_VALENC_H */
