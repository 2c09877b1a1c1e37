/*
 * plan_join_int.h - joins inside the planner and executor: the plan tree
 * plan_join.c builds for a FROM clause with joins or several items, and
 * exec_join.c runs (docs/sql.md, "Joins").
 *
 * A joined row is one array of datums, `width` slots: every table's
 * columns at its leaf's `first` slot, then (in FROM order) the columns a
 * USING or NATURAL join merged. Each node fills its own slots and hands
 * the row up; targets, ORDER BY and aggregation above the join read the
 * final row through the scope sql__join_from returns.
 *
 * The tree is small and immutable, for EXPLAIN: sql__join_describe prints
 * it. Every pointer in it lives in the statement arena.
 */
#ifndef SQL_PLAN_JOIN_INT_H
#define SQL_PLAN_JOIN_INT_H

#include "sql/plan_int.h"

typedef enum sql__join_method {
    SQL__JOIN_SCAN,   /* a leaf: one table through its access path, or the
                       * result rows of a plan with no table (its `from`:
                       * a subquery, function or WITH query) */
    SQL__JOIN_HASH,   /* hash join on equal keys, inner side in a hash table */
    SQL__JOIN_NESTED, /* nested loop over the materialised inner side */
    SQL__JOIN_LOOKUP, /* per batch of outer rows, the inner table's rows by key */
} sql__join_method;

typedef struct sql__jnode sql__jnode;
struct sql__jnode {
    sql__join_method method;
    sql_join_kind kind; /* INNER for leaves */
    /* SCAN: a single-table plan with the pushed-down conjuncts (its path
     * and filter over the table's own columns) */
    const sql_plan *scan;
    const char *name; /* table alias or name, for the description */
    int first;        /* the table's first slot */
    /* HASH, NESTED: the outer side streams, the inner side is held in
     * memory; inner_left: the inner side is the join's left operand */
    const sql__jnode *outer, *inner;
    bool inner_left;
    /* HASH: okeys[i] over the outer side's slots equals ikeys[i] over the
     * inner side's, compared in type keytypes[i] */
    const sql_bexpr *const *okeys, *const *ikeys;
    const sql_type *keytypes;
    int nkeys;
    /* LOOKUP: the inner side is a table read by the leading columns of
     * its pk or, when its path is SQL__PATH_INDEX, of that secondary
     * index (all of a unique key's unless `prefix`), lookup[k] over the
     * outer side */
    const sql_bexpr *const *lookup;
    int nlookup;
    bool prefix;
    const sql_bexpr *cond;   /* the rest of the join condition; NULL: none */
    const sql_bexpr *filter; /* WHERE conjuncts over the output of an outer join */
    /* FULL JOIN USING: slot merged[i] = COALESCE(slot from[2i], from[2i+1]) */
    const int *merged, *from;
    int nmerged;
    const int *slots; /* the slots the node fills (NULL-extended rows) */
    int nslots;
    double rows; /* the planner's estimate, orders the joins */
};

typedef struct sql__join {
    const sql__jnode *root;
    int width;
    const sql_type *types; /* per slot */
    /* per slot: the slot a USING column of an INNER, LEFT or RIGHT join
     * is copied from once the row is complete, -1: none */
    const int *copy_from;
    sql_plan **scans;      /* the leaves' plans (descriptor references) */
    const int *scan_first; /* each leaf's first slot */
    int nscans;
} sql__join;

typedef struct sql__joinbind sql__joinbind;

/* What binding a FROM tree asks of the planner (plan.c). */
typedef struct sql__join_hooks {
    /* A FROM item that is no join: 1 when it names a table; else 0 with
     * *out a plan whose result rows are the item's rows (a subquery, a
     * set-returning function or a WITH query, planned as a nested plan
     * it owns), its columns named as the item's, in `arena`; -1 with
     * `err` set. */
    int (*open_item)(void *arg, const sql_from *f, sql_plan **out, sql_error *err);
    /* Plans the subqueries of ON conditions (sql_bind_ctx.subquery). */
    sql_subquery_hook subquery;
    void *arg;
} sql__join_hooks;

/* Binds FROM items items[0..n) (borrowed for the call): opens the
 * tables (the other items through `hooks`, borrowed for the call),
 * builds the scope of the joined row into *scope, binds ON and USING. The first item's columns are
 * the first slots. In a subquery, `outer` (NULL: none) is the enclosing query's scope: names ON and
 * WHERE find only there become OUTER references and set *outer_used (see sql_scope). The binding
 * and scope live in `arena`; the tables are referenced until the plan is freed (sql__join_free) or
 * the binding abandoned. -1 with `err` set (42P01, 42712, 42702, 42703, ...). */
int sql__join_from(sql_plan_ctx *ctx, const sql__join_hooks *hooks, kv_arena *arena,
                   sql_from *const *items, int n, const sql_scope *outer, bool *outer_used,
                   sql__joinbind **out, const sql_scope **scope, sql_error *err);

/* Binds WHERE (NULL: none) over the joined row and plans the joins:
 * conjunct placement, join order and methods. The plan lives in the
 * binding's arena; it owns the table references from then on. Each
 * table decodes all its columns until sql__join_project. */
int sql__join_plan(sql__joinbind *jb, const sql_expr *where, sql__join **out, sql_error *err);

/* Lets each table decode only the columns the joins and needed[0..width)
 * (the slots the statement reads above the joins) use; needed is
 * updated with the joins' own. Projections in `arena`. */
int sql__join_project(sql__join *j, bool *needed, kv_arena *arena, sql_error *err);

/* Releases the table references of a binding that was never planned
 * (an error before sql__join_plan). NULL: no-op. */
void sql__join_abandon(sql__joinbind *jb);

/* The slots `*` (table NULL) or `table.*` expands to, in PostgreSQL's
 * order, into *slots (in the binding's arena). 42P01 for an unknown
 * table. */
int sql__join_star(const sql__joinbind *jb, const char *table, int location, int **slots, int *n,
                   sql_error *err);

/* The slot whose value slot `col` copies (a USING column of an INNER,
 * LEFT or RIGHT join), else col itself; col with jb NULL. */
int sql__join_base_slot(const sql__joinbind *jb, int col);

/* The table slot `col` of the joined row comes from: its leaf's plan
 * and first slot; false for a merged USING column. */
bool sql__join_table_of(const sql__joinbind *jb, int col, int *first, const sql_plan **scan);

/* The relation name (alias or table) that qualifies slot `col` in
 * `scope`; NULL for a merged USING column. Borrowed from the scope. */
const char *sql__scope_col_rel(const sql_scope *scope, int col);

/* The join tree in words, e.g. "hash join (inner) on (t1.a = t2.b):
 * [full scan on t1_pkey; point lookup on t2_pkey]", in `arena`. */
const char *sql__join_describe(const sql__join *j, kv_arena *arena);

/* Releases the leaves' descriptor references. */
void sql__join_free(const sql__join *j);

/* Whether a descriptor a leaf used changed since planning. */
bool sql__join_stale(const sql__join *j, sql_catalog *c);

/* Runs the join and passes each joined row (j->width datums, valid
 * during the call) to cb; cb's 1 stops early (still 0). Rows the hash
 * and nested-loop joins hold live in `arena`, charged to `mem` (53200
 * past SQL__QUERY_MEM_BUDGET). 0 or -1 with `err` set. */
int sql__join_run(const sql__join *j, sql_run_ctx *ctx, sql__row_cb cb, void *cb_arg,
                  sql__membudget *mem, kv_arena *arena, sql_error *err);

#endif /* SQL_PLAN_JOIN_INT_H */
