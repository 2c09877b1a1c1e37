/*
 * parse_int.h - what the parser adapter's files (parse.c, parse_expr.c,
 * parse_stmt.c, parse_ddl.c) share: the translation context and the
 * helpers every translation step uses.
 *
 * Every translator takes the decoded protobuf node (borrowed: it is freed
 * when sql_parse returns, so every string is copied into the arena) and
 * returns 0, or -1 with ctx->err set.
 */
#ifndef SQL_PARSE_INT_H
#define SQL_PARSE_INT_H

#include <pg_query/pg_query.pb-c.h>

#include "sql/parse.h"

typedef struct sql__pctx {
    const char *query; /* for byte offset -> character position */
    kv_arena *arena;
    sql_error *err;
} sql__pctx;

/* n zeroed bytes in the arena; NULL with 53200 set when out of memory. */
void *sql__palloc(sql__pctx *c, size_t n);
/* A copy of `s` in the arena, or NULL for s == NULL; on failure NULL with
 * 53200 set, so callers test `s && !copy`. */
const char *sql__pstrdup(sql__pctx *c, const char *s);
/* 0A000 "<feature> is not supported yet" at byte offset `location` (-1:
 * no position). Returns -1. */
int sql__unsupported(sql__pctx *c, int location, const char *feature);
/* Sets an error of `state` at byte offset `location`. Returns -1. */
int sql__error_at(sql__pctx *c, int location, sql_sqlstate state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The location PostgreSQL recorded for `n` (-1: none, or n NULL). */
int sql__node_location(const PgQuery__Node *n);
/* 0A000 naming the kind of `n` (its protobuf message name when we have
 * no better word for it), at its location. */
int sql__unsupported_node(sql__pctx *c, const PgQuery__Node *n, int fallback_location);

/* The text of a String node; NULL when `n` is something else. Borrowed
 * from the protobuf tree. */
const char *sql__node_str(const PgQuery__Node *n);
/* An object name from a list of String nodes (schema.name or name);
 * three parts give 0A000 "cross-database references". */
int sql__name_list(sql__pctx *c, PgQuery__Node **items, size_t n, int location, sql_name *out);
/* A RangeVar as a name (and its alias, when alias is not NULL; a RangeVar
 * with an alias where none is allowed is refused by the grammar). */
int sql__range_var(sql__pctx *c, const PgQuery__RangeVar *rv, sql_name *out, const char **alias);

/* ---- parse_expr.c ---- */
int sql__expr(sql__pctx *c, const PgQuery__Node *n, sql_expr **out);
/* NULL in, NULL out (an absent WHERE). */
int sql__expr_opt(sql__pctx *c, const PgQuery__Node *n, sql_expr **out);
int sql__expr_list(sql__pctx *c, PgQuery__Node **items, size_t n, sql_expr ***out);
int sql__targets(sql__pctx *c, PgQuery__Node **items, size_t n, sql_target **out, int *nout);
int sql__type(sql__pctx *c, const PgQuery__TypeName *tn, sql_type *out, bool *serial);

/* ---- parse_view.c ---- */
/* CREATE VIEW `s` of statement `st` (its location and len set). */
int sql__parse_create_view(sql__pctx *c, const PgQuery__ViewStmt *s, const sql_stmt *st,
                           sql_create_view *out);

/* ---- parse_ddl.c ---- */
int sql__create_table(sql__pctx *c, const PgQuery__CreateStmt *s, sql_create_table *out);
int sql__alter_table(sql__pctx *c, const PgQuery__AlterTableStmt *s, int location,
                     sql_alter_table *out);
/* DefElem options as name/value text. */
int sql__options(sql__pctx *c, PgQuery__Node **items, size_t n, sql_option **out, int *nout);

/* ---- parse_index.c ---- */
int sql__parse_create_index(sql__pctx *c, const PgQuery__IndexStmt *s, int location,
                            sql_create_index *out);
/* EXPLAIN [(options)] stmt: the inner statement parsed with sql__stmt. */
int sql__explain_stmt(sql__pctx *c, const PgQuery__ExplainStmt *s, int location, sql_explain *out);

/* ---- parse_stmt.c ---- */
/* A SELECT (a statement's, or a subquery's); `loc` for clause errors
 * without a location of their own. */
int sql__select_stmt(sql__pctx *c, const PgQuery__SelectStmt *s, int loc, sql_select *out);

/* A FROM item that is no table: (subquery) or a set-returning function
 * call, its alias and column aliases (sql_select.from_sub, sql_from.sub). */
typedef struct sql__derived {
    sql_select *sub;
    const char *alias;
    const char **cols;
    int ncols;
} sql__derived;

/* Translates RangeSubselect or RangeFunction `n` into *out (zeroed by
 * the caller); everything in the parse arena. -1 with the error set. */
int sql__from_derived(sql__pctx *c, const PgQuery__Node *n, int loc, sql__derived *out);
/* One raw statement; out->location and out->len are the caller's. */
int sql__stmt(sql__pctx *c, const PgQuery__Node *n, int location, sql_stmt *out);

/* ---- parse_from.c ---- */
/* FROM items (tables and joins) into *out[0..*nout) (the statement's
 * location `loc` for errors without a position of their own). */
int sql__from_items(sql__pctx *c, PgQuery__Node **items, size_t n, int loc, sql_from ***out,
                    int *nout);

/* ---- parse_copy.c ---- */
int sql__copy_stmt(sql__pctx *c, const PgQuery__CopyStmt *s, int location, sql_copy *out);
/* Sets out->kind (VACUUM or ANALYZE) and out->u.tables. */
int sql__vacuum_stmt(sql__pctx *c, const PgQuery__VacuumStmt *s, sql_stmt *out);

#endif /* SQL_PARSE_INT_H */
