/*
 * catalog_int.h - what catalog.c and catalog_codec.c share: the system
 * table ids, the in-memory form of every stored catalog value and the
 * codecs that turn them into bytes. Not a public interface.
 *
 * Byte layouts (docs/sql-encoding.md, "Catalog", has the full tables).
 * Integers are big-endian; a string is a u32 length (0xFFFFFFFF: NULL)
 * followed by that many bytes. Every value starts with a format byte so
 * the encoding can evolve; an unknown one is XX000 "corrupt descriptor".
 *
 *   descriptor  | format 1 | kind u8 | id u32 | kind-specific fields |
 *   namespace   | format 1 | kind u8 | id u32 |
 *   role        | format 1 | flags u8 (1 superuser, 2 login) | verifier str |
 */
#ifndef SQL_CATALOG_INT_H
#define SQL_CATALOG_INT_H

#include "sql/catalog.h"

/* System tables: /id/SQL_PRIMARY_INDEX_ID/key columns/ like user rows. */
#define SQL__SYS_DESCRIPTORS 1u /* key: id int8 -> descriptor */
#define SQL__SYS_NAMESPACE   2u /* key: parent id int8, name text -> namespace value */
#define SQL__SYS_ROLES       3u /* key: name text -> role value */
#define SQL__SYS_COUNTERS    4u /* key: counter id int8 -> 8-byte KV_INCREMENT value */
#define SQL__SYS_VERSION     5u /* no key column: one key -> 8-byte catalog version */

/* Counter 0 allocates descriptor ids; a sequence's counter is its id. */
#define SQL__ID_COUNTER 0u

#define SQL__DESC_FORMAT 1u

/* Deeper DEFAULT/CHECK trees are refused (54000) when written and corrupt
 * when read, which bounds the decoder's recursion. The parser's own
 * nesting cap keeps real trees far below it. */
#define SQL__EXPR_MAX_DEPTH 1000

typedef enum sql__desc_kind {
    SQL__DESC_DATABASE = 1,
    SQL__DESC_TABLE = 2,
    SQL__DESC_SEQUENCE = 3,
} sql__desc_kind;

typedef struct sql__seq_desc {
    uint32_t id;
    uint32_t db_id;
    const char *name;
} sql__seq_desc;

/* One descriptor of any kind, as stored under its id. */
typedef struct sql__desc {
    sql__desc_kind kind;
    union {
        sql_database_desc db;
        sql_table_desc table;
        sql__seq_desc seq;
    } u;
} sql__desc;

/* A namespace entry: what (parent id, name) names. */
typedef struct sql__ns_entry {
    sql__desc_kind kind;
    uint32_t id;
} sql__ns_entry;

/* Encoders append to `b` (growing in its arena); 0, or -1 with 53200 (or
 * 54000 for a too deep expression) in `err`. */
int sql__desc_encode(const sql__desc *d, sql_keybuf *b, sql_error *err);
int sql__ns_encode(const sql__ns_entry *e, sql_keybuf *b, sql_error *err);
int sql__role_encode(const sql_role_desc *r, sql_keybuf *b, sql_error *err);

/* Decoders read exactly `len` bytes; everything *out points to is
 * allocated in `arena` and lives as long as it. -1 with XX000 "corrupt
 * descriptor" (malformed bytes or an unknown format) or 53200 in `err`,
 * its strings in `arena`. The role's name is not part of its value: the
 * caller fills it from the key. */
int sql__desc_decode(const uint8_t *p, size_t len, kv_arena *arena, sql__desc *out, sql_error *err);
int sql__ns_decode(const uint8_t *p, size_t len, kv_arena *arena, sql__ns_entry *out,
                   sql_error *err);
int sql__role_decode(const uint8_t *p, size_t len, kv_arena *arena, sql_role_desc *out,
                     sql_error *err);

#endif /* SQL_CATALOG_INT_H */
