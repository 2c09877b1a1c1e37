/*
 * parse_expr.c - expressions, target lists and type names of the
 * PostgreSQL raw parse tree translated into sql_expr trees.
 *
 * What PostgreSQL's grammar spells as special syntax but evaluates like a
 * function (COALESCE, GREATEST, LEAST, NULLIF, CURRENT_TIMESTAMP, ...)
 * becomes SQL_EXPR_FUNC under its PostgreSQL function name, so the binder
 * resolves one kind of call; LIKE and ILIKE become the operators PostgreSQL
 * itself rewrites them to (~~, !~~, ~~*, !~~*).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sql/parse_int.h"

static sql_expr *new_expr(sql__pctx *c, sql_expr_kind kind, int location)
{
    sql_expr *e = sql__palloc(c, sizeof *e);

    if (e) {
        e->kind = kind;
        e->location = location;
    }
    return e;
}

static int column_ref(sql__pctx *c, const PgQuery__ColumnRef *r, sql_expr **out)
{
    const char *parts[3] = {NULL, NULL, NULL};
    bool star = r->fields[r->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR;
    size_t nnames = r->n_fields - star;
    sql_expr *e;

    if (nnames + star > 3)
        return sql__unsupported(c, r->location, "cross-database reference");
    /* right-align: the last name is the column (or the table for t.*) */
    for (size_t i = 0; i < nnames; i++) {
        parts[3 - nnames - star + i] = sql__node_str(r->fields[i]);
        if (!parts[3 - nnames - star + i])
            return sql__unsupported(c, r->location, "this column reference");
    }
    e = new_expr(c, star ? SQL_EXPR_STAR : SQL_EXPR_COLUMN, r->location);
    if (!e)
        return -1;
    e->schema = sql__pstrdup(c, parts[0]);
    e->table = sql__pstrdup(c, parts[1]);
    e->column = sql__pstrdup(c, parts[2]);
    if ((parts[0] && !e->schema) || (parts[1] && !e->table) || (parts[2] && !e->column))
        return -1;
    *out = e;
    return 0;
}

static int set_const_text(sql__pctx *c, sql_expr *e, sql_const_kind kind, const char *text)
{
    e->const_kind = kind;
    e->text = sql__pstrdup(c, text);
    return e->text ? 0 : -1;
}

static bool is_integer_text(const char *s)
{
    s += *s == '-';
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int a_const(sql__pctx *c, const PgQuery__AConst *k, sql_expr **out)
{
    char buf[16];
    sql_expr *e = new_expr(c, SQL_EXPR_CONST, k->location);

    if (!e)
        return -1;
    *out = e;
    if (k->isnull) {
        e->const_kind = SQL_CONST_NULL;
        return 0;
    }
    switch (k->val_case) {
    case PG_QUERY__A__CONST__VAL_IVAL:
        snprintf(buf, sizeof buf, "%d", (int)k->ival->ival);
        return set_const_text(c, e, SQL_CONST_INTEGER, buf);
    case PG_QUERY__A__CONST__VAL_FVAL:
        /* integers beyond int4 arrive as Float with digits only */
        return set_const_text(
            c, e, is_integer_text(k->fval->fval) ? SQL_CONST_INTEGER : SQL_CONST_NUMERIC,
            k->fval->fval);
    case PG_QUERY__A__CONST__VAL_BOOLVAL:
        return set_const_text(c, e, SQL_CONST_BOOL, k->boolval->boolval ? "true" : "false");
    case PG_QUERY__A__CONST__VAL_SVAL:
        return set_const_text(c, e, SQL_CONST_STRING, k->sval->sval);
    default:
        return sql__unsupported(c, k->location, "bit string literal");
    }
}

int sql__expr_list(sql__pctx *c, PgQuery__Node **items, size_t n, sql_expr ***out)
{
    sql_expr **v = sql__palloc(c, (n ? n : 1) * sizeof *v);

    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (sql__expr(c, items[i], &v[i]) < 0)
            return -1;
    *out = v;
    return 0;
}

/* A call named `name` (static storage or arena) over `args`. */
static int make_call(sql__pctx *c, const char *name, PgQuery__Node **args, size_t nargs,
                     int location, sql_expr **out)
{
    sql_expr *e = new_expr(c, SQL_EXPR_FUNC, location);

    if (!e || sql__expr_list(c, args, nargs, &e->args) < 0)
        return -1;
    e->name = name;
    e->nargs = (int)nargs;
    *out = e;
    return 0;
}

/* The operator of an A_Expr: its last name; a schema only via OPERATOR(). */
static int op_name(sql__pctx *c, const PgQuery__AExpr *a, sql_expr *e)
{
    const char *name = sql__node_str(a->name[a->n_name - 1]);
    const char *schema = a->n_name > 1 ? sql__node_str(a->name[0]) : NULL;

    e->name = sql__pstrdup(c, name);
    e->schema = sql__pstrdup(c, schema);
    return !e->name || (schema && !e->schema) ? -1 : 0;
}

/* IN and BETWEEN: arg, then the items of the List on the right. */
static int list_expr(sql__pctx *c, const PgQuery__AExpr *a, sql_expr_kind kind, bool negated,
                     sql_expr **out)
{
    const PgQuery__List *l = a->rexpr->list;
    sql_expr *e = new_expr(c, kind, a->location);

    assert(a->rexpr->node_case == PG_QUERY__NODE__NODE_LIST);
    if (!e || sql__expr(c, a->lexpr, &e->arg) < 0 ||
        sql__expr_list(c, l->items, l->n_items, &e->args) < 0)
        return -1;
    e->nargs = (int)l->n_items;
    e->negated = negated;
    *out = e;
    return 0;
}

static int binary(sql__pctx *c, const PgQuery__AExpr *a, sql_expr_kind kind, bool negated,
                  sql_expr **out)
{
    sql_expr *e = new_expr(c, kind, a->location);

    if (!e || sql__expr_opt(c, a->lexpr, &e->left) < 0 || sql__expr(c, a->rexpr, &e->right) < 0)
        return -1;
    e->negated = negated;
    *out = e;
    return kind == SQL_EXPR_OP || kind == SQL_EXPR_ANY || kind == SQL_EXPR_ALL ? op_name(c, a, e)
                                                                               : 0;
}

/* The grammar names IN "=" and NOT IN "<>". */
static bool is_not_in(const PgQuery__AExpr *a)
{
    const char *op = sql__node_str(a->name[0]);

    return op && strcmp(op, "<>") == 0;
}

static int a_expr(sql__pctx *c, const PgQuery__AExpr *a, sql_expr **out)
{
    PgQuery__Node *pair[2] = {a->lexpr, a->rexpr};

    switch (a->kind) {
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP:
    case PG_QUERY__A__EXPR__KIND__AEXPR_LIKE:
    case PG_QUERY__A__EXPR__KIND__AEXPR_ILIKE:
        return binary(c, a, SQL_EXPR_OP, false, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_DISTINCT:
        return binary(c, a, SQL_EXPR_DISTINCT, false, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_DISTINCT:
        return binary(c, a, SQL_EXPR_DISTINCT, true, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_NULLIF:
        return make_call(c, "nullif", pair, 2, a->location, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_IN:
        return list_expr(c, a, SQL_EXPR_IN, is_not_in(a), out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN:
        return list_expr(c, a, SQL_EXPR_BETWEEN, false, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN:
        return list_expr(c, a, SQL_EXPR_BETWEEN, true, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ANY:
        return binary(c, a, SQL_EXPR_ANY, false, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_OP_ALL:
        return binary(c, a, SQL_EXPR_ALL, false, out);
    case PG_QUERY__A__EXPR__KIND__AEXPR_SIMILAR:
        return sql__unsupported(c, a->location, "SIMILAR TO");
    case PG_QUERY__A__EXPR__KIND__AEXPR_BETWEEN_SYM:
    case PG_QUERY__A__EXPR__KIND__AEXPR_NOT_BETWEEN_SYM:
        return sql__unsupported(c, a->location, "BETWEEN SYMMETRIC");
    default:
        return sql__unsupported(c, a->location, "this operator form");
    }
}

static int func_call(sql__pctx *c, const PgQuery__FuncCall *f, sql_expr **out)
{
    const char *name = sql__node_str(f->funcname[f->n_funcname - 1]);
    const char *schema = f->n_funcname > 1 ? sql__node_str(f->funcname[0]) : NULL;
    sql_expr *e;

    if (f->over)
        return sql__unsupported(c, f->location, "window function");
    if (f->n_agg_order || f->agg_within_group)
        return sql__unsupported(c, f->location, "ORDER BY in aggregate");
    if (f->agg_filter)
        return sql__unsupported(c, f->location, "FILTER");
    if (f->func_variadic)
        return sql__unsupported(c, f->location, "VARIADIC");
    if (f->n_funcname > 2 || !name)
        return sql__unsupported(c, f->location, "cross-database reference");
    if (make_call(c, NULL, f->args, f->n_args, f->location, &e) < 0)
        return -1;
    e->name = sql__pstrdup(c, name);
    e->schema = sql__pstrdup(c, schema);
    if (!e->name || (schema && !e->schema))
        return -1;
    e->agg_star = f->agg_star;
    e->agg_distinct = f->agg_distinct;
    *out = e;
    return 0;
}

static int bool_expr(sql__pctx *c, const PgQuery__BoolExpr *b, sql_expr **out)
{
    static const sql_expr_kind kinds[] = {
        [PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR] = SQL_EXPR_AND,
        [PG_QUERY__BOOL_EXPR_TYPE__OR_EXPR] = SQL_EXPR_OR,
        [PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR] = SQL_EXPR_NOT,
    };
    sql_expr *e;

    assert(b->boolop >= PG_QUERY__BOOL_EXPR_TYPE__AND_EXPR &&
           b->boolop <= PG_QUERY__BOOL_EXPR_TYPE__NOT_EXPR);
    e = new_expr(c, kinds[b->boolop], b->location);
    if (!e || sql__expr_list(c, b->args, b->n_args, &e->args) < 0)
        return -1;
    e->nargs = (int)b->n_args;
    *out = e;
    return 0;
}

static int case_expr(sql__pctx *c, const PgQuery__CaseExpr *k, sql_expr **out)
{
    sql_expr *e = new_expr(c, SQL_EXPR_CASE, k->location);

    if (!e || sql__expr_opt(c, k->arg, &e->arg) < 0 || sql__expr_opt(c, k->defresult, &e->els) < 0)
        return -1;
    e->whens = sql__palloc(c, k->n_args * sizeof *e->whens);
    e->thens = sql__palloc(c, k->n_args * sizeof *e->thens);
    if (!e->whens || !e->thens)
        return -1;
    for (size_t i = 0; i < k->n_args; i++) {
        const PgQuery__CaseWhen *w = k->args[i]->case_when;

        assert(k->args[i]->node_case == PG_QUERY__NODE__NODE_CASE_WHEN);
        if (sql__expr(c, w->expr, &e->whens[i]) < 0 || sql__expr(c, w->result, &e->thens[i]) < 0)
            return -1;
    }
    e->nargs = (int)k->n_args;
    *out = e;
    return 0;
}

static int simple_kind(sql__pctx *c, sql_expr_kind kind, int location, const PgQuery__Node *arg,
                       bool negated, sql_expr **out)
{
    sql_expr *e = new_expr(c, kind, location);

    if (!e || sql__expr_opt(c, arg, &e->arg) < 0)
        return -1;
    e->negated = negated;
    *out = e;
    return 0;
}

/* The oid alias types of the system catalogs (docs/sql.md, "System
 * catalogs"): a cast to one becomes a call of the function of its name,
 * which maps a name to its oid and an oid to its name; a cast to oid is
 * one to bigint, the type oid columns have here. NULL for other types. */
static const char *oid_alias(const PgQuery__TypeName *tn)
{
    static const char *const names[] = {"regclass", "regtype", "regnamespace", "regrole", "oid"};
    const char *name = tn->n_names ? sql__node_str(tn->names[tn->n_names - 1]) : NULL;
    const char *schema = tn->n_names == 2 ? sql__node_str(tn->names[0]) : NULL;

    if (!name || tn->n_names > 2 || tn->n_array_bounds || tn->n_typmods ||
        (schema && strcmp(schema, "pg_catalog") != 0))
        return NULL;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strcmp(names[i], name) == 0)
            return names[i];
    return NULL;
}

static int type_cast(sql__pctx *c, const PgQuery__TypeCast *t, sql_expr **out)
{
    const char *alias = oid_alias(t->type_name);
    PgQuery__Node *arg = t->arg;

    if (alias && strcmp(alias, "oid") != 0) {
        if (make_call(c, alias, &arg, 1, t->location, out) < 0)
            return -1;
        (*out)->alias_type = alias;
        return 0;
    }
    if (simple_kind(c, SQL_EXPR_CAST, t->location, t->arg, false, out) < 0)
        return -1;
    if (alias) {
        (*out)->type = (sql_type){SQL_T_INT8, -1};
        (*out)->alias_type = alias;
        return 0;
    }
    return sql__type(c, t->type_name, &(*out)->type, NULL);
}

/* x IS [NOT] TRUE/FALSE/UNKNOWN are exactly x IS [NOT] DISTINCT FROM
 * true/false and x IS [NOT] NULL, so they become those nodes. */
static int boolean_test(sql__pctx *c, const PgQuery__BooleanTest *b, sql_expr **out)
{
    typedef PgQuery__BoolTestType T;
    T t = b->booltesttype;
    bool is_true =
        t == PG_QUERY__BOOL_TEST_TYPE__IS_TRUE || t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_TRUE;
    sql_expr *e;

    if (t == PG_QUERY__BOOL_TEST_TYPE__IS_UNKNOWN || t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN)
        return simple_kind(c, SQL_EXPR_NULLTEST, b->location, b->arg,
                           t == PG_QUERY__BOOL_TEST_TYPE__IS_NOT_UNKNOWN, out);
    e = new_expr(c, SQL_EXPR_DISTINCT, b->location);
    if (!e || sql__expr(c, b->arg, &e->left) < 0)
        return -1;
    e->negated = t == PG_QUERY__BOOL_TEST_TYPE__IS_TRUE || t == PG_QUERY__BOOL_TEST_TYPE__IS_FALSE;
    e->right = new_expr(c, SQL_EXPR_CONST, b->location);
    if (!e->right || set_const_text(c, e->right, SQL_CONST_BOOL, is_true ? "true" : "false") < 0)
        return -1;
    *out = e;
    return 0;
}

/* CURRENT_DATE & co.: PostgreSQL's SQLValueFunction, by op. */
static const char *const svf_names[] = {
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_DATE] = "current_date",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME] = "current_time",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIME_N] = "current_time",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP] = "current_timestamp",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_TIMESTAMP_N] = "current_timestamp",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME] = "localtime",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIME_N] = "localtime",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP] = "localtimestamp",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_LOCALTIMESTAMP_N] = "localtimestamp",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_ROLE] = "current_role",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_USER] = "current_user",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_USER] = "user",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_SESSION_USER] = "session_user",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_CATALOG] = "current_catalog",
    [PG_QUERY__SQLVALUE_FUNCTION_OP__SVFOP_CURRENT_SCHEMA] = "current_schema",
};

/* The precision of CURRENT_TIMESTAMP(p) becomes an integer argument. */
/* x COLLATE name: the collations that compare as we always do (bytewise,
 * PostgreSQL's C) are accepted and dropped, so psql's \d queries (which
 * say COLLATE pg_catalog.default) run; any other is refused. */
static int collate_clause(sql__pctx *c, const PgQuery__CollateClause *cc, sql_expr **out)
{
    const char *name = cc->n_collname ? sql__node_str(cc->collname[cc->n_collname - 1]) : NULL;
    const char *schema = cc->n_collname > 1 ? sql__node_str(cc->collname[0]) : NULL;

    if (!name || (schema && strcmp(schema, "pg_catalog") != 0) ||
        (strcmp(name, "default") != 0 && strcmp(name, "C") != 0 && strcmp(name, "POSIX") != 0))
        return sql__unsupported(c, cc->location, "COLLATE");
    return sql__expr(c, cc->arg, out);
}

static int sql_value_function(sql__pctx *c, const PgQuery__SQLValueFunction *f, sql_expr **out)
{
    char buf[16];
    sql_expr *e;

    if ((size_t)f->op >= sizeof svf_names / sizeof svf_names[0] || !svf_names[f->op])
        return sql__unsupported(c, f->location, "SQLValueFunction");
    if (make_call(c, svf_names[f->op], NULL, 0, f->location, &e) < 0)
        return -1;
    *out = e;
    if (f->typmod < 0)
        return 0;
    e->args[0] = new_expr(c, SQL_EXPR_CONST, f->location);
    if (!e->args[0])
        return -1;
    e->nargs = 1;
    snprintf(buf, sizeof buf, "%d", (int)f->typmod);
    return set_const_text(c, e->args[0], SQL_CONST_INTEGER, buf);
}

/* EXISTS, scalar, ANY and ALL subqueries; x IN (SELECT ...) arrives as
 * ANY without an operator name, which means =. */
static int sub_link(sql__pctx *c, const PgQuery__SubLink *l, sql_expr **out)
{
    static const sql_sublink kinds[] = {
        [PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK] = SQL_SUBLINK_EXISTS,
        [PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK] = SQL_SUBLINK_ALL,
        [PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK] = SQL_SUBLINK_ANY,
        [PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK] = SQL_SUBLINK_EXPR,
        [PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK] = SQL_SUBLINK_ARRAY,
    };
    sql_expr *e = new_expr(c, SQL_EXPR_SUBLINK, l->location);
    const char *op = l->n_oper_name ? sql__node_str(l->oper_name[l->n_oper_name - 1]) : "=";
    const char *schema = l->n_oper_name > 1 ? sql__node_str(l->oper_name[0]) : NULL;

    if (!e)
        return -1;
    switch (l->sub_link_type) {
    case PG_QUERY__SUB_LINK_TYPE__EXISTS_SUBLINK:
    case PG_QUERY__SUB_LINK_TYPE__ALL_SUBLINK:
    case PG_QUERY__SUB_LINK_TYPE__ANY_SUBLINK:
    case PG_QUERY__SUB_LINK_TYPE__EXPR_SUBLINK:
    case PG_QUERY__SUB_LINK_TYPE__ARRAY_SUBLINK:
        break;
    default: /* (a, b) = (SELECT ...): a row comparison */
        return sql__unsupported(c, l->location, "row comparison with a subquery");
    }
    assert(l->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT);
    e->sublink = kinds[l->sub_link_type];
    e->subselect = sql__palloc(c, sizeof *e->subselect);
    e->name = sql__pstrdup(c, op);
    e->schema = sql__pstrdup(c, schema);
    if (!e->subselect || !e->name || (schema && !e->schema) ||
        sql__expr_opt(c, l->testexpr, &e->left) < 0 ||
        sql__select_stmt(c, l->subselect->select_stmt, l->location, e->subselect) < 0)
        return -1;
    *out = e;
    return 0;
}

/* ARRAY[...]; ARRAY[[...], ...] would be a multidimensional array. */
static int array_expr(sql__pctx *c, const PgQuery__AArrayExpr *a, sql_expr **out)
{
    sql_expr *e = new_expr(c, SQL_EXPR_ARRAY, a->location);

    for (size_t i = 0; i < a->n_elements; i++)
        if (a->elements[i]->node_case == PG_QUERY__NODE__NODE_A_ARRAY_EXPR)
            return sql__unsupported(c, a->location, "multidimensional array");
    if (!e || sql__expr_list(c, a->elements, a->n_elements, &e->args) < 0)
        return -1;
    e->nargs = (int)a->n_elements;
    *out = e;
    return 0;
}

/* x[i] and x[lo:hi]: one subscript (arrays have one dimension here);
 * field selection (x).f has no composite types to apply to. */
static int indirection(sql__pctx *c, const PgQuery__AIndirection *ind, sql_expr **out)
{
    int location = sql__node_location(ind->arg);
    const PgQuery__AIndices *ix;
    sql_expr *e;

    if (ind->n_indirection != 1 || ind->indirection[0]->node_case != PG_QUERY__NODE__NODE_A_INDICES)
        return sql__unsupported(c, location,
                                ind->n_indirection > 1 ? "multidimensional array subscript"
                                                       : "field selection");
    ix = ind->indirection[0]->a_indices;
    e = new_expr(c, ix->is_slice ? SQL_EXPR_SLICE : SQL_EXPR_SUBSCRIPT, location);
    if (!e || sql__expr(c, ind->arg, &e->arg) < 0 || sql__expr_opt(c, ix->lidx, &e->left) < 0 ||
        sql__expr_opt(c, ix->uidx, &e->right) < 0)
        return -1;
    *out = e;
    return 0;
}

int sql__expr(sql__pctx *c, const PgQuery__Node *n, sql_expr **out)
{
    assert(n);
    switch (n->node_case) {
    case PG_QUERY__NODE__NODE_COLUMN_REF:
        return column_ref(c, n->column_ref, out);
    case PG_QUERY__NODE__NODE_A_CONST:
        return a_const(c, n->a_const, out);
    case PG_QUERY__NODE__NODE_PARAM_REF:
        *out = new_expr(c, SQL_EXPR_PARAM, n->param_ref->location);
        if (*out)
            (*out)->param = n->param_ref->number;
        return *out ? 0 : -1;
    case PG_QUERY__NODE__NODE_A_EXPR:
        return a_expr(c, n->a_expr, out);
    case PG_QUERY__NODE__NODE_FUNC_CALL:
        return func_call(c, n->func_call, out);
    case PG_QUERY__NODE__NODE_TYPE_CAST:
        return type_cast(c, n->type_cast, out);
    case PG_QUERY__NODE__NODE_BOOL_EXPR:
        return bool_expr(c, n->bool_expr, out);
    case PG_QUERY__NODE__NODE_NULL_TEST:
        return simple_kind(c, SQL_EXPR_NULLTEST, n->null_test->location, n->null_test->arg,
                           n->null_test->nulltesttype == PG_QUERY__NULL_TEST_TYPE__IS_NOT_NULL,
                           out);
    case PG_QUERY__NODE__NODE_BOOLEAN_TEST:
        return boolean_test(c, n->boolean_test, out);
    case PG_QUERY__NODE__NODE_CASE_EXPR:
        return case_expr(c, n->case_expr, out);
    case PG_QUERY__NODE__NODE_COALESCE_EXPR:
        return make_call(c, "coalesce", n->coalesce_expr->args, n->coalesce_expr->n_args,
                         n->coalesce_expr->location, out);
    case PG_QUERY__NODE__NODE_MIN_MAX_EXPR:
        return make_call(
            c, n->min_max_expr->op == PG_QUERY__MIN_MAX_OP__IS_LEAST ? "least" : "greatest",
            n->min_max_expr->args, n->min_max_expr->n_args, n->min_max_expr->location, out);
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
        return sql_value_function(c, n->sqlvalue_function, out);
    case PG_QUERY__NODE__NODE_SET_TO_DEFAULT:
        *out = new_expr(c, SQL_EXPR_DEFAULT, n->set_to_default->location);
        return *out ? 0 : -1;
    case PG_QUERY__NODE__NODE_SUB_LINK:
        return sub_link(c, n->sub_link, out);
    case PG_QUERY__NODE__NODE_COLLATE_CLAUSE:
        return collate_clause(c, n->collate_clause, out);
    case PG_QUERY__NODE__NODE_A_ARRAY_EXPR:
        return array_expr(c, n->a_array_expr, out);
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
        return indirection(c, n->a_indirection, out);
    default:
        return sql__unsupported_node(c, n, -1);
    }
}

int sql__expr_opt(sql__pctx *c, const PgQuery__Node *n, sql_expr **out)
{
    *out = NULL;
    return n ? sql__expr(c, n, out) : 0;
}

int sql__targets(sql__pctx *c, PgQuery__Node **items, size_t n, sql_target **out, int *nout)
{
    sql_target *t = sql__palloc(c, (n ? n : 1) * sizeof *t);

    if (!t)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const PgQuery__ResTarget *r = items[i]->res_target;

        assert(items[i]->node_case == PG_QUERY__NODE__NODE_RES_TARGET);
        t[i].location = r->location;
        if (sql__expr(c, r->val, &t[i].expr) < 0)
            return -1;
        if (r->name[0] && !(t[i].alias = sql__pstrdup(c, r->name)))
            return -1;
    }
    *out = t;
    *nout = (int)n;
    return 0;
}

/* Type modifiers must be integer constants, as in PostgreSQL's typenameTypeMod. */
static int typmods(sql__pctx *c, const PgQuery__TypeName *tn, sql_type_id oid, int32_t *out)
{
    int32_t mods[4];

    if (tn->n_typmods > sizeof mods / sizeof mods[0])
        return sql__error_at(c, tn->location, SQL_STATE_SYNTAX_ERROR, "invalid type modifier");
    for (size_t i = 0; i < tn->n_typmods; i++) {
        const PgQuery__Node *m = tn->typmods[i];

        if (m->node_case != PG_QUERY__NODE__NODE_A_CONST ||
            m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL)
            return sql__error_at(c, sql__node_location(m), SQL_STATE_SYNTAX_ERROR,
                                 "type modifiers must be simple constants or identifiers");
        mods[i] = m->a_const->ival->ival;
    }
    if (sql_typmod_from_mods(oid, mods, (int)tn->n_typmods, c->arena, out, c->err) < 0) {
        c->err->position = sql_parse_position(c->query, tn->location);
        return -1;
    }
    return 0;
}

int sql__type(sql__pctx *c, const PgQuery__TypeName *tn, sql_type *out, bool *serial)
{
    const char *name = sql__node_str(tn->names[tn->n_names - 1]);
    const char *schema = tn->n_names > 1 ? sql__node_str(tn->names[tn->n_names - 2]) : NULL;
    bool is_serial = false;

    if (tn->setof)
        return sql__unsupported(c, tn->location, "SETOF");
    if (tn->pct_type)
        return sql__unsupported(c, tn->location, "%TYPE");
    if (!name || tn->n_names > 2)
        return sql__unsupported(c, tn->location, "cross-database reference");
    /* built-in types live in pg_catalog; public exists but holds none */
    if (schema && strcmp(schema, "pg_catalog") != 0 && strcmp(schema, "public") != 0)
        return sql__error_at(c, tn->location, SQL_STATE_INVALID_SCHEMA_NAME,
                             "schema \"%s\" does not exist", schema);
    if (schema && strcmp(schema, "public") == 0)
        return sql__error_at(c, tn->location, SQL_STATE_UNDEFINED_OBJECT,
                             "type \"public.%s\" does not exist", name);
    if (sql_type_from_name(name, c->arena, &out->oid, &is_serial, c->err) < 0) {
        c->err->position = sql_parse_position(c->query, tn->location);
        return -1;
    }
    if (is_serial && !serial)
        return sql__error_at(c, tn->location, SQL_STATE_UNDEFINED_OBJECT,
                             "type \"%s\" does not exist", name);
    if (serial)
        *serial = is_serial;
    if (typmods(c, tn, out->oid, &out->typmod) < 0)
        return -1;
    /* int[], int[3], int[][], int ARRAY: all the one array type, as in
     * PostgreSQL, which ignores declared sizes and dimensions; the typmod
     * stays the element's */
    if (tn->n_array_bounds && !(out->oid = sql_type_array_of(out->oid)))
        return sql__error_at(c, tn->location, SQL_STATE_UNDEFINED_OBJECT,
                             "could not find array type for data type %s", name);
    if (is_serial && tn->n_array_bounds)
        return sql__unsupported(c, tn->location, "array of serial");
    return 0;
}
