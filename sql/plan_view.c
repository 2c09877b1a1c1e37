/*
 * plan_view.c - what the planner and CREATE VIEW need of views
 * (plan_int.h; docs/sql.md, "Views").
 *
 * A view is a descriptor whose view_query holds its query's text
 * (catalog.h). Where a view is read, plan.c parses that text here and
 * plans it as a FROM subquery. A write to a view is refused: with
 * PostgreSQL's 55000 and its reason when PostgreSQL would refuse it too
 * (the view is not automatically updatable), else with 0A000, since
 * PostgreSQL would write through the view and Tardigrade does not yet.
 * CREATE VIEW records what the view reads from its plan
 * (sql__plan_relations), so that DROP refuses to orphan it.
 */
#include <assert.h>
#include <string.h>

#include "sql/plan_join_int.h"
#include "sql/types_int.h"

int sql__view_query(const sql_table_desc *v, kv_arena *arena, const sql_select **out,
                    sql_error *err)
{
    sql_stmt_list l;
    assert(v->view_query != NULL);
    if (sql_parse(v->view_query, arena, &l, err) != 0)
        return -1;
    if (l.n != 1 || l.stmts[0].kind != SQL_STMT_SELECT)
        return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR,
                             "the query of view \"%s\" is no SELECT", v->name);
    *out = &l.stmts[0].u.select;
    return 0;
}

/* Why PostgreSQL would not write through a view with query `q`
 * (view_query_is_auto_updatable, in its order); NULL: it would. */
static const char *not_updatable(const sql_select *q)
{
    bool aggregates = false;
    for (int i = 0; i < q->ntargets; i++)
        aggregates |= sql_expr_has_aggregate(q->targets[i].expr);
    if (q->distinct)
        return "Views containing DISTINCT are not automatically updatable.";
    if (q->ngroup_by > 0)
        return "Views containing GROUP BY are not automatically updatable.";
    if (q->having != NULL)
        return "Views containing HAVING are not automatically updatable.";
    if (q->setop != SQL_SETOP_NONE)
        return "Views containing UNION, INTERSECT, or EXCEPT are not automatically updatable.";
    if (q->nctes > 0)
        return "Views containing WITH are not automatically updatable.";
    if (q->limit != NULL || q->offset != NULL)
        return "Views containing LIMIT or OFFSET are not automatically updatable.";
    if (aggregates)
        return "Views that return aggregate functions are not automatically updatable.";
    if (!q->has_from || q->from_sub != NULL)
        return "Views that do not select from a single table or view are not automatically "
               "updatable.";
    return NULL;
}

int sql__view_write_error(const sql_table_desc *v, sql_stmt_kind kind, kv_arena *arena,
                          sql_error *err)
{
    static const struct {
        const char *msg, *verb;
    } words[] = {
        [SQL_STMT_INSERT] = {"cannot insert into view", "INSERT"},
        [SQL_STMT_UPDATE] = {"cannot update view", "UPDATE"},
        [SQL_STMT_DELETE] = {"cannot delete from view", "DELETE"},
    };
    static const char *const gerund[] = {[SQL_STMT_INSERT] = "inserting into",
                                         [SQL_STMT_UPDATE] = "updating",
                                         [SQL_STMT_DELETE] = "deleting from"};
    const sql_select *q;
    assert(kind == SQL_STMT_INSERT || kind == SQL_STMT_UPDATE || kind == SQL_STMT_DELETE);
    if (sql__view_query(v, arena, &q, err) != 0)
        return -1;
    const char *why = not_updatable(q);
    if (why == NULL)
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "%s through a view is not supported yet", words[kind].verb);
    sql_error_set(err, arena, SQL_STATE_OBJECT_NOT_IN_PREREQUISITE_STATE, "%s \"%s\"",
                  words[kind].msg, v->name);
    sql_error_detail(err, arena, "%s", why);
    sql_error_hint(err, arena,
                   "To enable %s the view, provide an INSTEAD OF %s trigger or an unconditional "
                   "ON %s DO INSTEAD rule.",
                   gerund[kind], words[kind].verb, words[kind].verb);
    return -1;
}

/* Adds id to ids[0..*n) unless there. */
static int add_id(uint32_t id, uint32_t **ids, uint32_t *n, uint32_t *cap, kv_arena *arena,
                  sql_error *err)
{
    for (uint32_t i = 0; i < *n; i++)
        if ((*ids)[i] == id)
            return 0;
    if (*n == *cap) {
        uint32_t *grown = kv_arena_alloc(arena, (*cap * 2 + 8) * sizeof(*grown));
        if (grown == NULL)
            return sql__oom(arena, err);
        if (*n > 0)
            memcpy(grown, *ids, *n * sizeof(*grown));
        *ids = grown;
        *cap = *cap * 2 + 8;
    }
    (*ids)[(*n)++] = id;
    return 0;
}

static int relations(const sql_plan *p, uint32_t **ids, uint32_t *n, uint32_t *cap, kv_arena *arena,
                     sql_error *err)
{
    if (p->view != NULL) /* what the view reads is its own dependency */
        return add_id(p->view->id, ids, n, cap, arena, err);
    if (p->table != NULL && add_id(p->table->id, ids, n, cap, arena, err) != 0)
        return -1;
    for (int i = 0; i < p->nsubs; i++)
        if (relations(p->subs[i], ids, n, cap, arena, err) != 0)
            return -1;
    for (int i = 0; p->join != NULL && i < p->join->nscans; i++)
        if (relations(p->join->scans[i], ids, n, cap, arena, err) != 0)
            return -1;
    return 0;
}

int sql__plan_relations(const sql_plan *p, kv_arena *arena, uint32_t **ids, uint32_t *n,
                        sql_error *err)
{
    uint32_t cap = 0;
    *ids = NULL;
    *n = 0;
    return relations(p, ids, n, &cap, arena, err);
}
