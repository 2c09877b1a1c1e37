/*
 * parse.h - the SQL parser adapter: query text -> our own statement tree.
 *
 * Parsing is PostgreSQL 15's own grammar (libpg_query); its protobuf parse
 * tree is decoded with protobuf-c and translated into the arena-allocated
 * tree below, which is all the binder and planner ever see. Syntax errors
 * therefore carry PostgreSQL's exact wording and cursor position (42601);
 * syntax PostgreSQL accepts but we do not implement yet is refused with
 * 0A000 "<feature> is not supported yet" at the offending node. Nothing
 * is silently dropped: every clause of the PostgreSQL tree either maps onto
 * the tree below or makes the statement 0A000.
 *
 * Locations: every `location` below is a 0-based BYTE offset into the query
 * text passed to sql_parse (-1: unknown). ErrorResponse wants a 1-based
 * CHARACTER position; sql_parse_position() converts.
 *
 * Memory: the whole tree (nodes, strings, arrays) lives in the kv_arena
 * given to sql_parse and stays valid until that arena is destroyed; the
 * query text is not referenced after the call. Strings are NUL-terminated.
 *
 * Threads: sql_parse may run on several threads at once. libpg_query keeps
 * a memory context per thread and frees it itself when the thread exits
 * (a pthread key destructor), so callers need no per-thread cleanup.
 * Stack: parsing recurses once per tree level; nesting is capped (54000)
 * so that about 2 MB of stack suffice (more under ASan).
 */
#ifndef SQL_PARSE_H
#define SQL_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "kv/kv.h"
#include "sql/sql_error.h"
#include "sql/types.h"

typedef struct sql_expr sql_expr;
typedef struct sql_select sql_select;

/* A possibly schema-qualified object name (schema NULL: unqualified). */
typedef struct sql_name {
    const char *schema;
    const char *name;
    int location;
} sql_name;

/* ---- expressions ---------------------------------------------------- */

typedef enum sql_expr_kind {
    SQL_EXPR_COLUMN,    /* [[schema.]table.]column */
    SQL_EXPR_STAR,      /* * or table.* (column NULL) */
    SQL_EXPR_CONST,     /* a literal, as text plus a hint */
    SQL_EXPR_PARAM,     /* $n */
    SQL_EXPR_OP,        /* left op right; prefix operators have left NULL */
    SQL_EXPR_FUNC,      /* name(args), also COALESCE, GREATEST, NULLIF, ... */
    SQL_EXPR_CAST,      /* arg::type, CAST(arg AS type), type 'literal' */
    SQL_EXPR_AND,       /* args[0] AND args[1] AND ... */
    SQL_EXPR_OR,        /* args[0] OR args[1] OR ... */
    SQL_EXPR_NOT,       /* NOT args[0] */
    SQL_EXPR_NULLTEST,  /* arg IS [NOT] NULL */
    SQL_EXPR_DISTINCT,  /* left IS [NOT] DISTINCT FROM right */
    SQL_EXPR_IN,        /* arg [NOT] IN (args) */
    SQL_EXPR_BETWEEN,   /* arg [NOT] BETWEEN args[0] AND args[1] */
    SQL_EXPR_CASE,      /* CASE [arg] WHEN whens[i] THEN thens[i] ... ELSE els END */
    SQL_EXPR_DEFAULT,   /* DEFAULT in INSERT ... VALUES or UPDATE ... SET */
    SQL_EXPR_SUBLINK,   /* a subquery: EXISTS (subselect), (subselect),
                         * left name ANY/ALL (subselect), ARRAY(subselect);
                         * IN is = ANY */
    SQL_EXPR_ARRAY,     /* ARRAY[args] (one dimension) */
    SQL_EXPR_SUBSCRIPT, /* arg[right] */
    SQL_EXPR_SLICE,     /* arg[left:right], either bound NULL when omitted */
    SQL_EXPR_ANY,       /* left name ANY (right), right an array */
    SQL_EXPR_ALL,       /* left name ALL (right), right an array */
} sql_expr_kind;

/* What a subquery expression tests (PostgreSQL's SubLinkType). */
typedef enum sql_sublink {
    SQL_SUBLINK_EXISTS, /* any row at all */
    SQL_SUBLINK_EXPR,   /* the value of the one row's one column */
    SQL_SUBLINK_ANY,    /* left op some row's value */
    SQL_SUBLINK_ALL,    /* left op every row's value */
    SQL_SUBLINK_ARRAY,  /* an array of the one column's values */
} sql_sublink;

/* What the lexer saw; the binder decides the type (an INTEGER literal
 * that overflows int8 is numeric, a STRING is of unknown type). */
typedef enum sql_const_kind {
    SQL_CONST_NULL,
    SQL_CONST_BOOL,    /* text "true" or "false" */
    SQL_CONST_INTEGER, /* digits with an optional leading '-' */
    SQL_CONST_NUMERIC, /* has a '.' or an exponent */
    SQL_CONST_STRING,  /* the string's value, quotes and escapes resolved */
} sql_const_kind;

struct sql_expr {
    sql_expr_kind kind;
    int location;
    bool negated; /* NOT IN, IS NOT NULL, IS NOT DISTINCT FROM, NOT BETWEEN */
    /* COLUMN, STAR: column NULL for STAR */
    const char *schema;
    const char *table;
    const char *column;
    /* CONST */
    sql_const_kind const_kind;
    const char *text; /* NULL for SQL_CONST_NULL */
    /* PARAM */
    int param; /* 1-based */
    /* OP, FUNC, ANY, ALL: name is the unqualified operator or function name;
     * schema is set when the query qualified it (pg_catalog.now()) */
    const char *name;
    sql_expr *left, *right;
    sql_expr *arg; /* CAST, NULLTEST, IN, BETWEEN, CASE (NULL: searched CASE) */
    /* FUNC, AND, OR, NOT, IN, BETWEEN: args; FUNC also: */
    sql_expr **args;
    int nargs;
    bool agg_star;     /* count(*) */
    bool agg_distinct; /* count(DISTINCT x) */
    /* CAST */
    sql_type type;
    /* a cast to an oid alias type (oid, regclass, ...; a CAST to bigint
     * or a FUNC of the alias's name): the type's name, which names the
     * output column as the cast would */
    const char *alias_type;
    /* CASE: nargs pairs when/then */
    sql_expr **whens;
    sql_expr **thens;
    sql_expr *els; /* NULL: ELSE NULL */
    /* SUBLINK: the subquery; name and left for ANY/ALL */
    sql_sublink sublink;
    sql_select *subselect;
};

/* An output column (SELECT list, RETURNING). alias NULL: none given. */
typedef struct sql_target {
    sql_expr *expr;
    const char *alias;
    int location;
} sql_target;

/* ---- statements ----------------------------------------------------- */

/* name = value of WITH (...), CREATE DATABASE and role options; value is
 * the argument's text (NULL: none given). */
typedef struct sql_option {
    const char *name;
    const char *value;
    int location;
} sql_option;

typedef struct sql_column_def {
    const char *name;
    sql_type type;
    bool serial;            /* serial/bigserial: an int column with a sequence default */
    bool not_null;          /* NOT NULL given (the binder adds it for keys) */
    sql_expr *default_expr; /* NULL: none */
    int location;
} sql_column_def;

typedef enum sql_constraint_kind {
    SQL_CONSTRAINT_PRIMARY_KEY,
    SQL_CONSTRAINT_UNIQUE,
    SQL_CONSTRAINT_CHECK,
} sql_constraint_kind;

/* Table constraints; a column constraint (id int PRIMARY KEY) becomes one
 * naming its column. */
typedef struct sql_constraint {
    sql_constraint_kind kind;
    const char *name;     /* CONSTRAINT name; NULL: none given */
    const char **columns; /* PRIMARY KEY, UNIQUE */
    int ncolumns;
    sql_expr *check; /* CHECK */
    int location;
} sql_constraint;

typedef struct sql_create_table {
    sql_name table;
    bool if_not_exists;
    sql_column_def *columns;
    int ncolumns;
    sql_constraint *constraints;
    int nconstraints;
    sql_option *options; /* WITH (...) */
    int noptions;
} sql_create_table;

/* DROP TABLE [IF EXISTS] a, b and TRUNCATE [TABLE] a, b. */
typedef struct sql_table_list {
    sql_name *tables;
    int ntables;
    bool if_exists;
} sql_table_list;

typedef enum sql_alter_kind {
    SQL_ALTER_ADD_COLUMN,      /* column; missing_ok: IF NOT EXISTS */
    SQL_ALTER_DROP_COLUMN,     /* name; missing_ok: IF EXISTS */
    SQL_ALTER_ADD_PRIMARY_KEY, /* constraint */
} sql_alter_kind;

typedef struct sql_alter_cmd {
    sql_alter_kind kind;
    bool missing_ok;
    const char *name;      /* DROP COLUMN */
    sql_column_def column; /* ADD COLUMN */
    /* ADD COLUMN: the new column's PRIMARY KEY/UNIQUE/CHECK constraints;
     * ADD PRIMARY KEY: the key */
    sql_constraint *constraints;
    int nconstraints;
} sql_alter_cmd;

typedef struct sql_alter_table {
    sql_name table;
    bool if_exists;
    sql_alter_cmd *cmds;
    int ncmds;
} sql_alter_table;

/* CREATE [OR REPLACE] VIEW name [(cols)] AS query. The query as a tree
 * (its locations in this statement's text) and as text, what the catalog
 * stores and the planner parses again wherever the view is read. */
typedef struct sql_create_view {
    sql_name view;
    const char **cols; /* column aliases; NULL, 0: the query's names */
    int ncols;
    bool replace;
    sql_select *query;
    const char *query_text; /* from the query's first word to the statement's end */
} sql_create_view;

/* CREATE [UNIQUE] INDEX [IF NOT EXISTS] [name] ON t (col [ASC|DESC], ...). */
typedef struct sql_create_index {
    const char *name; /* NULL: none given (t_a_idx is chosen) */
    sql_name table;
    bool unique;
    bool if_not_exists;
    const char **columns;
    const bool *desc; /* per column: DESC */
    int ncolumns;
} sql_create_index;

/* EXPLAIN [ANALYZE] statement (SELECT, INSERT, UPDATE or DELETE). */
typedef struct sql_explain {
    bool analyze;
    struct sql_stmt *stmt;
} sql_explain;

/* CREATE DATABASE name [WITH options] / DROP DATABASE [IF EXISTS] name. */
typedef struct sql_database {
    const char *name;
    bool if_exists;
    sql_option *options;
    int noptions;
} sql_database;

/* CREATE/ALTER USER (or ROLE) name [WITH] options, DROP USER [IF EXISTS]
 * a, b. The PASSWORD option is lifted out of `options`. */
typedef struct sql_role {
    const char **names; /* one for CREATE/ALTER */
    int nnames;
    bool is_user; /* USER (LOGIN by default) rather than ROLE */
    bool if_exists;
    bool has_password; /* PASSWORD given; password NULL for PASSWORD NULL */
    const char *password;
    sql_option *options;
    int noptions;
} sql_role;

typedef struct sql_assign {
    const char *column;
    sql_expr *value; /* SQL_EXPR_DEFAULT for DEFAULT */
    int location;
} sql_assign;

/* INSERT ... ON CONFLICT: the arbiter is given by columns (ncols > 0),
 * by constraint name, or not at all (DO NOTHING only: any unique
 * index); DO UPDATE's SET and WHERE see the existing row by the table's
 * name or alias and the proposed one as `excluded`. */
typedef struct sql_on_conflict {
    bool update; /* DO UPDATE; else DO NOTHING */
    const char **cols;
    int ncols;
    int cols_location;      /* where the column list was written */
    const char *constraint; /* ON CONSTRAINT name; NULL: none */
    sql_assign *assigns;
    int nassigns;
    sql_expr *where; /* DO UPDATE ... WHERE; NULL: none */
    int location;
} sql_on_conflict;

typedef struct sql_insert {
    sql_name table;
    const char *alias;
    const char **columns;        /* NULL, 0: all columns in table order */
    const int *column_locations; /* where each of `columns` was written (NULL: unknown) */
    int ncolumns;
    bool default_values; /* DEFAULT VALUES; else rows */
    sql_expr ***rows;    /* rows[i][j], SQL_EXPR_DEFAULT for DEFAULT */
    int nrows;
    int rowlen;                   /* every row has rowlen items */
    sql_select *select;           /* INSERT ... SELECT: the query (nrows 0); NULL: rows */
    sql_on_conflict *on_conflict; /* NULL: none */
    sql_target *returning;
    int nreturning;
} sql_insert;

/* FROM items other than one plain table: a table, or a join of two
 * items. Joins follow PostgreSQL: CROSS JOIN is an INNER join with no
 * condition; NATURAL becomes USING over the common column names when
 * the binder sees the tables. */
typedef enum sql_join_kind {
    SQL_JOIN_INNER,
    SQL_JOIN_LEFT,
    SQL_JOIN_RIGHT,
    SQL_JOIN_FULL,
} sql_join_kind;

typedef struct sql_from sql_from;
struct sql_from {
    bool is_join;
    /* a table: its name and alias (NULL: none) */
    sql_name table;
    const char *alias;
    /* a subquery or a function (sub; alias set) with its column aliases
     * (NULL, 0: the query's names); NULL: a table */
    sql_select *sub;
    const char **sub_cols;
    int nsub_cols;
    /* a join: left JOIN right ON on / USING (using) / NATURAL */
    sql_join_kind join;
    sql_from *left, *right;
    sql_expr *on;        /* NULL: none (CROSS JOIN, USING, NATURAL) */
    const char **using_; /* USING column names */
    int nusing;
    bool natural;
    int location; /* the join's left item (PostgreSQL records none) */
};

/* UPDATE (assigns set) and DELETE (nassigns 0). */
typedef struct sql_modify {
    sql_name table;
    const char *alias;
    sql_from **from_items; /* UPDATE ... FROM, DELETE ... USING items */
    int nfrom;
    sql_assign *assigns;
    int nassigns;
    sql_expr *where; /* NULL: every row */
    sql_target *returning;
    int nreturning;
} sql_modify;

typedef struct sql_order {
    sql_expr *expr;
    bool desc;
    bool nulls_first; /* resolved: PostgreSQL's default is NULLS LAST for
                       * ASC and NULLS FIRST for DESC */
    int location;
} sql_order;

/* A common table expression: WITH name [(cols)] AS (query). */
typedef struct sql_cte {
    const char *name;
    const char **cols; /* column aliases (NULL, 0: the query's names) */
    int ncols;
    sql_select *query;
    int location;
} sql_cte;

/* What a set operation computes (SELECT ... UNION SELECT ...). */
typedef enum sql_setop {
    SQL_SETOP_NONE, /* a plain SELECT */
    SQL_SETOP_UNION,
    SQL_SETOP_INTERSECT,
    SQL_SETOP_EXCEPT,
} sql_setop;

struct sql_select {
    /* A set operation (setop != NONE): larg setop [ALL] rarg, nested for
     * chains as PostgreSQL's grammar nests them (INTERSECT binds tighter);
     * of the fields below only ctes, order, limit and offset are set, and
     * they apply to the whole */
    sql_setop setop;
    bool setop_all;
    sql_select *larg, *rarg;
    /* VALUES (...), ... as a query (nvalues > 0): values[i][j], every row
     * values_width items long; of the fields below only ctes, order,
     * limit and offset are set */
    sql_expr ***values;
    int nvalues, values_width;
    sql_target *targets;
    int ntargets;
    bool has_from; /* FROM table or subquery; else SELECT without FROM */
    sql_name from;
    const char *alias; /* FROM alias; NULL: none */
    /* FROM (subquery) AS alias [(cols)]: the subquery, its column aliases
     * (NULL, 0: the subquery's names); NULL: FROM names a table (or a
     * common table expression, which the planner tells apart) */
    sql_select *from_sub;
    const char **from_cols;
    int nfrom_cols;
    /* A set-returning function in FROM (from_sub->func): the call, and
     * WITH ORDINALITY; of the other fields only alias (the relation's
     * name) is set */
    sql_expr *func;
    bool func_ordinality;
    /* WITH: visible in this SELECT and the subqueries inside it */
    sql_cte *ctes;
    int nctes;
    /* FROM with a join or several items (has_from false then): the
     * comma-separated items, each a table or a join tree */
    sql_from **from_items;
    int nfrom;
    sql_expr *where;
    sql_expr **group_by; /* GROUP BY items (an integer constant: a position) */
    int ngroup_by;
    sql_expr *having; /* NULL: none */
    /* SELECT DISTINCT: distinct set, ndistinct_on 0; DISTINCT ON (exprs):
     * distinct set and the expressions in distinct_on */
    bool distinct;
    sql_expr **distinct_on;
    int ndistinct_on;
    sql_order *order;
    int norder;
    sql_expr *limit;  /* NULL: none (LIMIT ALL is none too) */
    sql_expr *offset; /* NULL: none */
};

/* COPY table [(columns)] FROM STDIN / TO STDOUT [WITH] (options). The
 * old option syntax (CSV HEADER, DELIMITER ',') arrives as options too;
 * their values are checked when the statement runs (sql/copy.c). */
typedef struct sql_copy {
    sql_name table;
    const char **columns; /* NULL, 0: every column in table order */
    int ncolumns;
    bool from; /* FROM STDIN; else TO STDOUT */
    sql_option *options;
    int noptions;
} sql_copy;

typedef enum sql_isolation {
    SQL_ISO_DEFAULT = 0, /* not given: the session's default */
    SQL_ISO_READ_UNCOMMITTED,
    SQL_ISO_READ_COMMITTED,
    SQL_ISO_REPEATABLE_READ,
    SQL_ISO_SERIALIZABLE,
} sql_isolation;

/* BEGIN/START TRANSACTION modes and SET TRANSACTION; -1: not given. */
typedef struct sql_txn_modes {
    sql_isolation isolation;
    int read_only;
    int deferrable;
} sql_txn_modes;

typedef enum sql_set_kind {
    SQL_SET_VALUE,            /* SET name TO values */
    SQL_SET_DEFAULT,          /* SET name TO DEFAULT */
    SQL_SET_RESET,            /* RESET name */
    SQL_SET_RESET_ALL,        /* RESET ALL */
    SQL_SET_TRANSACTION,      /* SET TRANSACTION modes */
    SQL_SET_SESSION_DEFAULTS, /* SET SESSION CHARACTERISTICS AS TRANSACTION */
} sql_set_kind;

typedef struct sql_set {
    sql_set_kind kind;
    const char *name;    /* lower case as PostgreSQL folds it ("timezone" for
                          * SET TIME ZONE); NULL for the transaction kinds */
    const char **values; /* SET_VALUE: each value's text */
    int nvalues;
    bool is_local;       /* SET LOCAL */
    sql_txn_modes modes; /* the transaction kinds */
} sql_set;

typedef enum sql_stmt_kind {
    SQL_STMT_CREATE_TABLE,
    SQL_STMT_DROP_TABLE,
    SQL_STMT_TRUNCATE,
    SQL_STMT_ALTER_TABLE,
    SQL_STMT_CREATE_DATABASE,
    SQL_STMT_DROP_DATABASE,
    SQL_STMT_CREATE_ROLE,
    SQL_STMT_ALTER_ROLE,
    SQL_STMT_DROP_ROLE,
    SQL_STMT_INSERT,
    SQL_STMT_UPDATE,
    SQL_STMT_DELETE,
    SQL_STMT_SELECT,
    SQL_STMT_BEGIN,  /* BEGIN and START TRANSACTION */
    SQL_STMT_COMMIT, /* COMMIT and END */
    SQL_STMT_ROLLBACK,
    SQL_STMT_SET, /* SET, RESET, SET TRANSACTION */
    SQL_STMT_SHOW,
    SQL_STMT_COPY,    /* COPY FROM STDIN / TO STDOUT */
    SQL_STMT_VACUUM,  /* VACUUM [ANALYZE] [tables] (u.tables) */
    SQL_STMT_ANALYZE, /* ANALYZE [tables] (u.tables) */
    SQL_STMT_CREATE_INDEX,
    SQL_STMT_DROP_INDEX, /* DROP INDEX [IF EXISTS] a, b (u.tables) */
    SQL_STMT_EXPLAIN,
    SQL_STMT_CREATE_VIEW,
    SQL_STMT_DROP_VIEW, /* DROP VIEW [IF EXISTS] a, b (u.tables) */
} sql_stmt_kind;

typedef struct sql_stmt {
    sql_stmt_kind kind;
    /* The statement's text: PostgreSQL starts it right after the previous
     * ';' (so it may begin with blanks) and ends it before its own ';'. */
    int location;
    int len;
    union {
        sql_create_table create_table;
        sql_table_list tables; /* DROP TABLE/INDEX/VIEW, TRUNCATE, VACUUM, ANALYZE */
        sql_create_index create_index;
        sql_create_view create_view;
        sql_explain explain;
        sql_copy copy;
        sql_alter_table alter_table;
        sql_database database;
        sql_role role;
        sql_insert insert;
        sql_modify modify; /* UPDATE, DELETE */
        sql_select select;
        sql_txn_modes begin;
        sql_set set;
        const char *show; /* SHOW name ("all" for SHOW ALL) */
    } u;
} sql_stmt;

/* The statements of one query string; n == 0 is the empty query. */
typedef struct sql_stmt_list {
    sql_stmt *stmts;
    int n;
} sql_stmt_list;

/* Parses `query` (NUL-terminated) into *out, everything allocated in
 * `arena` (see the header comment). On error returns -1 with *err set
 * (its strings in `arena` too) and *out empty: 42601 for syntax errors,
 * 0A000 for unsupported features, 42704 / 3F000 for unknown type names or
 * their schemas, 22023 and 42601 for bad type modifiers, 54000 for
 * nesting too deep, 53200 when memory runs out. */
int sql_parse(const char *query, kv_arena *arena, sql_stmt_list *out, sql_error *err);

/* The 1-based character position (what ErrorResponse's 'P' field holds) of
 * byte offset `location` in `query`; 0 for location < 0. */
int sql_parse_position(const char *query, int location);

#endif /* SQL_PARSE_H */
