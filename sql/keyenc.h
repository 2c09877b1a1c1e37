/*
 * keyenc.h - the order-preserving, prefix-free key encoding of SQL rows:
 * /table id/index id/column.../ so that memcmp on the encoded keys orders
 * rows as PostgreSQL's btree orders the column tuples, in ascending or
 * descending direction per column with NULLs first or last.
 *
 * docs/sql-encoding.md has the byte tables. The encoding is canonical:
 * datums that compare equal (sql_datum_cmp) encode to identical bytes,
 * which is what lets a unique index detect duplicates by key collision.
 * For "composite" types that equality is coarser than the value
 * (numeric 1.5 = 1.50, interval '1 mon' = '30 days', char(n) padding,
 * float -0 = 0) decoding a key yields the canonical representative; the
 * row encoder must keep such columns' exact values in the row value as
 * well, e.g. with sql/valenc.h (sql_key_composite says which).
 *
 * Memory: a sql_keybuf grows inside the arena it was initialised with;
 * its bytes stay valid until that arena is destroyed (an older p pointer
 * stays valid too, growth copies). Decoded payloads live in the arena
 * passed to sql_key_get.
 */
#ifndef SQL_KEYENC_H
#define SQL_KEYENC_H

#include "sql/types.h"

typedef enum sql_key_dir {
    SQL_KEY_ASC = 0,
    SQL_KEY_DESC = 1,
} sql_key_dir;

typedef struct sql_keybuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    kv_arena *arena;
} sql_keybuf;

/* An empty buffer allocating from `arena`. */
void sql_keybuf_init(sql_keybuf *b, kv_arena *arena);

/* Appends n raw bytes (row values reuse the buffer); 53200 when the arena
 * cannot grow it. */
int sql_keybuf_append(sql_keybuf *b, const void *p, size_t n, sql_error *err);

/* Appends /table id/index id/ (two order-preserving unsigned varints). */
int sql_key_put_prefix(sql_keybuf *b, uint32_t table_id, uint32_t index_id, sql_error *err);

/* Appends one column. NULL datums take the NULL marker that sorts before
 * (nulls_first) or after every value, whatever the direction. */
int sql_key_put(sql_keybuf *b, sql_type type, sql_key_dir dir, bool nulls_first, const sql_datum *d,
                sql_error *err);

/* Reads /table id/index id/ at *p (advanced past it). 22P03-free: a
 * malformed key is XX000 "corrupt key". */
int sql_key_get_prefix(const uint8_t **p, const uint8_t *end, uint32_t *table_id,
                       uint32_t *index_id, kv_arena *arena, sql_error *err);

/* Reads one column written by sql_key_put with the same type and
 * direction; *p advances past it. Typmod re-pads char(n). */
int sql_key_get(const uint8_t **p, const uint8_t *end, sql_type type, sql_key_dir dir,
                kv_arena *arena, sql_datum *out, sql_error *err);

/* True when decoding a key of this type can lose part of the value (see
 * above), so the exact datum must also be stored in the row value. */
bool sql_key_composite(sql_type_id type);

#endif /* SQL_KEYENC_H */
