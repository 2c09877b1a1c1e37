/*
 * parse_dump.c - prints statement trees (parse_dump.h). Expressions print
 * fully parenthesised: (a + b), f(x), (and a b), (x::23), const kinds as
 * i:1 n:1.5 s:'x' b:true null; statements as "kind field=value ...".
 */
#include <stdio.h>
#include <stdlib.h>

#include "parse_dump.h"

static void expr(FILE *f, const sql_expr *e);
static void select_stmt(FILE *f, const sql_select *s);

static void exprs(FILE *f, sql_expr *const *v, int n)
{
    for (int i = 0; i < n; i++) {
        fputs(i ? " " : "", f);
        expr(f, v[i]);
    }
}

static void qualified(FILE *f, const sql_expr *e)
{
    if (e->schema)
        fprintf(f, "%s.", e->schema);
    if (e->table)
        fprintf(f, "%s.", e->table);
}

static void constant(FILE *f, const sql_expr *e)
{
    static const char *const kinds[] = {"null", "b", "i", "n", "s"};

    if (e->const_kind == SQL_CONST_NULL)
        fputs("null", f);
    else if (e->const_kind == SQL_CONST_STRING)
        fprintf(f, "s:'%s'", e->text);
    else
        fprintf(f, "%s:%s", kinds[e->const_kind], e->text);
}

static void func(FILE *f, const sql_expr *e)
{
    if (e->schema)
        fprintf(f, "%s.", e->schema);
    fprintf(f, "%s(%s%s", e->name, e->agg_distinct ? "distinct " : "", e->agg_star ? "*" : "");
    exprs(f, e->args, e->nargs);
    fputc(')', f);
}

static void case_expr(FILE *f, const sql_expr *e)
{
    fputs("(case", f);
    if (e->arg) {
        fputc(' ', f);
        expr(f, e->arg);
    }
    for (int i = 0; i < e->nargs; i++) {
        fputs(" when ", f);
        expr(f, e->whens[i]);
        fputs(" then ", f);
        expr(f, e->thens[i]);
    }
    if (e->els) {
        fputs(" else ", f);
        expr(f, e->els);
    }
    fputc(')', f);
}

static void listed(FILE *f, const sql_expr *e, const char *word)
{
    fputc('(', f);
    expr(f, e->arg);
    fprintf(f, " %s%s ", e->negated ? "not " : "", word);
    exprs(f, e->args, e->nargs);
    fputc(')', f);
}

static void sublink(FILE *f, const sql_expr *e)
{
    static const char *const kinds[] = {[SQL_SUBLINK_EXISTS] = "exists",
                                        [SQL_SUBLINK_EXPR] = "expr",
                                        [SQL_SUBLINK_ANY] = "any",
                                        [SQL_SUBLINK_ALL] = "all",
                                        [SQL_SUBLINK_ARRAY] = "array"};

    fprintf(f, "(%s ", kinds[e->sublink]);
    if (e->left) {
        expr(f, e->left);
        fprintf(f, " %s ", e->name);
    }
    fputc('(', f);
    select_stmt(f, e->subselect);
    fputs("))", f);
}

static void expr(FILE *f, const sql_expr *e)
{
    static const char *const bools[] = {
        [SQL_EXPR_AND] = "and", [SQL_EXPR_OR] = "or", [SQL_EXPR_NOT] = "not"};

    switch (e->kind) {
    case SQL_EXPR_COLUMN:
        qualified(f, e);
        fputs(e->column, f);
        break;
    case SQL_EXPR_STAR:
        qualified(f, e);
        fputc('*', f);
        break;
    case SQL_EXPR_CONST:
        constant(f, e);
        break;
    case SQL_EXPR_PARAM:
        fprintf(f, "$%d", e->param);
        break;
    case SQL_EXPR_OP:
        fputc('(', f);
        if (e->left) {
            expr(f, e->left);
            fputc(' ', f);
        }
        if (e->schema)
            fprintf(f, "%s.", e->schema);
        fprintf(f, "%s ", e->name);
        expr(f, e->right);
        fputc(')', f);
        break;
    case SQL_EXPR_FUNC:
        func(f, e);
        break;
    case SQL_EXPR_CAST:
        fputc('(', f);
        expr(f, e->arg);
        fprintf(f, "::%d/%d)", (int)e->type.oid, (int)e->type.typmod);
        break;
    case SQL_EXPR_AND:
    case SQL_EXPR_OR:
    case SQL_EXPR_NOT:
        fprintf(f, "(%s ", bools[e->kind]);
        exprs(f, e->args, e->nargs);
        fputc(')', f);
        break;
    case SQL_EXPR_NULLTEST:
        fputc('(', f);
        expr(f, e->arg);
        fprintf(f, " is %snull)", e->negated ? "not " : "");
        break;
    case SQL_EXPR_DISTINCT:
        fputc('(', f);
        expr(f, e->left);
        fprintf(f, " is %sdistinct ", e->negated ? "not " : "");
        expr(f, e->right);
        fputc(')', f);
        break;
    case SQL_EXPR_IN:
        listed(f, e, "in");
        break;
    case SQL_EXPR_BETWEEN:
        listed(f, e, "between");
        break;
    case SQL_EXPR_CASE:
        case_expr(f, e);
        break;
    case SQL_EXPR_DEFAULT:
        fputs("default", f);
        break;
    case SQL_EXPR_SUBLINK:
        sublink(f, e);
        break;
    case SQL_EXPR_ARRAY:
        fputs("array[", f);
        for (int i = 0; i < e->nargs; i++) {
            if (i)
                fputs(", ", f);
            expr(f, e->args[i]);
        }
        fputc(']', f);
        break;
    case SQL_EXPR_SUBSCRIPT:
    case SQL_EXPR_SLICE:
        expr(f, e->arg);
        fputc('[', f);
        if (e->left)
            expr(f, e->left);
        if (e->kind == SQL_EXPR_SLICE)
            fputc(':', f);
        if (e->right)
            expr(f, e->right);
        fputc(']', f);
        break;
    case SQL_EXPR_ANY:
    case SQL_EXPR_ALL:
        fputc('(', f);
        expr(f, e->left);
        fprintf(f, " %s %s (", e->name, e->kind == SQL_EXPR_ANY ? "any" : "all");
        expr(f, e->right);
        fputs("))", f);
        break;
    }
}

static void name(FILE *f, const sql_name *n)
{
    if (n->schema)
        fprintf(f, "%s.", n->schema);
    fputs(n->name, f);
}

static void opt_expr(FILE *f, const char *label, const sql_expr *e)
{
    if (!e)
        return;
    fprintf(f, " %s=", label);
    expr(f, e);
}

static void targets(FILE *f, const char *label, const sql_target *t, int n)
{
    if (!n)
        return;
    fprintf(f, " %s=[", label);
    for (int i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        expr(f, t[i].expr);
        if (t[i].alias)
            fprintf(f, " as %s", t[i].alias);
    }
    fputc(']', f);
}

static void options(FILE *f, const sql_option *o, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(f, " %s=%s", o[i].name, o[i].value ? o[i].value : "<none>");
}

static void strings(FILE *f, const char *label, const char *const *v, int n)
{
    fprintf(f, " %s=(", label);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? " " : "", v[i]);
    fputc(')', f);
}

static void column(FILE *f, const sql_column_def *c)
{
    fprintf(f, " col=%s:%d/%d%s%s", c->name, (int)c->type.oid, (int)c->type.typmod,
            c->serial ? " serial" : "", c->not_null ? " not_null" : "");
    opt_expr(f, "default", c->default_expr);
}

static void constraint(FILE *f, const sql_constraint *k)
{
    static const char *const kinds[] = {"pk", "unique", "check"};

    fprintf(f, " %s", kinds[k->kind]);
    if (k->name)
        fprintf(f, ":%s", k->name);
    if (k->kind == SQL_CONSTRAINT_CHECK) {
        fputc('=', f);
        expr(f, k->check);
    } else {
        strings(f, "", k->columns, k->ncolumns);
    }
}

static void create_table(FILE *f, const sql_create_table *t)
{
    fputs("create_table ", f);
    name(f, &t->table);
    if (t->if_not_exists)
        fputs(" if_not_exists", f);
    for (int i = 0; i < t->ncolumns; i++)
        column(f, &t->columns[i]);
    for (int i = 0; i < t->nconstraints; i++)
        constraint(f, &t->constraints[i]);
    options(f, t->options, t->noptions);
}

static void alter_table(FILE *f, const sql_alter_table *t)
{
    static const char *const kinds[] = {"add_column", "drop_column", "add_pk"};

    fputs("alter_table ", f);
    name(f, &t->table);
    if (t->if_exists)
        fputs(" if_exists", f);
    for (int i = 0; i < t->ncmds; i++) {
        const sql_alter_cmd *c = &t->cmds[i];

        fprintf(f, " %s%s", kinds[c->kind], c->missing_ok ? " missing_ok" : "");
        if (c->kind == SQL_ALTER_ADD_COLUMN)
            column(f, &c->column);
        if (c->kind == SQL_ALTER_DROP_COLUMN)
            fprintf(f, " %s", c->name);
        for (int j = 0; j < c->nconstraints; j++)
            constraint(f, &c->constraints[j]);
    }
}

static void tables(FILE *f, const char *kind, const sql_table_list *t)
{
    fputs(kind, f);
    for (int i = 0; i < t->ntables; i++) {
        fputc(' ', f);
        name(f, &t->tables[i]);
    }
    if (t->if_exists)
        fputs(" if_exists", f);
}

static void copy(FILE *f, const sql_copy *c)
{
    fputs("copy ", f);
    name(f, &c->table);
    if (c->ncolumns)
        strings(f, "columns", c->columns, c->ncolumns);
    fputs(c->from ? " from_stdin" : " to_stdout", f);
    options(f, c->options, c->noptions);
}

static void role(FILE *f, const char *kind, const sql_role *r)
{
    fputs(kind, f);
    strings(f, "names", r->names, r->nnames);
    if (r->is_user)
        fputs(" user", f);
    if (r->if_exists)
        fputs(" if_exists", f);
    if (r->has_password)
        fprintf(f, " password=%s", r->password ? r->password : "<null>");
    options(f, r->options, r->noptions);
}

/* ON CONFLICT [target] DO NOTHING | DO UPDATE set ... [where] */
static void on_conflict(FILE *f, const sql_on_conflict *o)
{
    fputs(" on_conflict", f);
    if (o->ncols)
        strings(f, "cols", o->cols, o->ncols);
    if (o->constraint)
        fprintf(f, " constraint=%s", o->constraint);
    fputs(o->update ? " do_update" : " do_nothing", f);
    for (int i = 0; i < o->nassigns; i++) {
        fprintf(f, " set %s=", o->assigns[i].column);
        expr(f, o->assigns[i].value);
    }
    opt_expr(f, "where", o->where);
}

static void insert(FILE *f, const sql_insert *s)
{
    fputs("insert ", f);
    name(f, &s->table);
    if (s->alias)
        fprintf(f, " alias=%s", s->alias);
    if (s->ncolumns)
        strings(f, "cols", s->columns, s->ncolumns);
    if (s->default_values)
        fputs(" default_values", f);
    for (int i = 0; i < s->nrows; i++) {
        fputs(" row=(", f);
        exprs(f, s->rows[i], s->rowlen);
        fputc(')', f);
    }
    if (s->select) {
        fputs(" query=(", f);
        select_stmt(f, s->select);
        fputc(')', f);
    }
    if (s->on_conflict)
        on_conflict(f, s->on_conflict);
    targets(f, "returning", s->returning, s->nreturning);
}

/* A FROM item: name[:alias], (sub):alias[ cols=(...)] or (left KIND right
 * [on=...|using=(...)|natural]). */
static void from_item(FILE *f, const sql_from *it)
{
    static const char *const kinds[] = {"inner", "left", "right", "full"};
    if (it->sub) {
        fputc('(', f);
        select_stmt(f, it->sub);
        fprintf(f, "):%s", it->alias);
        if (it->nsub_cols)
            strings(f, "cols", it->sub_cols, it->nsub_cols);
        return;
    }
    if (!it->is_join) {
        name(f, &it->table);
        if (it->alias)
            fprintf(f, ":%s", it->alias);
        return;
    }
    fputc('(', f);
    from_item(f, it->left);
    fprintf(f, " %s ", kinds[it->join]);
    from_item(f, it->right);
    if (it->on)
        opt_expr(f, "on", it->on);
    for (int i = 0; i < it->nusing; i++)
        fprintf(f, "%s%s", i ? " " : " using=(", it->using_[i]);
    fputs(it->nusing ? ")" : "", f);
    fputs(it->natural ? " natural)" : ")", f);
}

/* create_view [or_replace] name [cols=(...)] query=(...) text=<query text> */
static void create_view(FILE *f, const sql_create_view *v)
{
    fputs(v->replace ? "create_view or_replace " : "create_view ", f);
    name(f, &v->view);
    if (v->ncols)
        strings(f, "cols", v->cols, v->ncols);
    fputs(" query=(", f);
    select_stmt(f, v->query);
    fprintf(f, ") text=%s", v->query_text);
}

static void modify(FILE *f, const char *kind, const sql_modify *s)
{
    fprintf(f, "%s ", kind);
    name(f, &s->table);
    if (s->alias)
        fprintf(f, " alias=%s", s->alias);
    for (int i = 0; i < s->nfrom; i++) {
        fputs(" from=", f);
        from_item(f, s->from_items[i]);
    }
    for (int i = 0; i < s->nassigns; i++) {
        fprintf(f, " set %s=", s->assigns[i].column);
        expr(f, s->assigns[i].value);
    }
    opt_expr(f, "where", s->where);
    targets(f, "returning", s->returning, s->nreturning);
}

static void select_stmt(FILE *f, const sql_select *s)
{
    static const char *const setops[] = {"", "union", "intersect", "except"};

    if (s->setop != SQL_SETOP_NONE) {
        fprintf(f, "%s%s (", setops[s->setop], s->setop_all ? " all" : "");
        select_stmt(f, s->larg);
        fputs(") (", f);
        select_stmt(f, s->rarg);
        fputc(')', f);
    } else if (s->func) {
        fputs("function ", f);
        expr(f, s->func);
        fputs(s->func_ordinality ? " with ordinality" : "", f);
    } else {
        fputs(s->nvalues ? "values" : "select", f);
    }
    for (int i = 0; i < s->nvalues; i++) {
        fputs(" row=(", f);
        exprs(f, s->values[i], s->values_width);
        fputc(')', f);
    }
    targets(f, "targets", s->targets, s->ntargets);
    if (s->has_from && !s->from_sub) {
        fputs(" from=", f);
        name(f, &s->from);
    }
    for (int i = 0; i < s->nfrom; i++) {
        fputs(" from=", f);
        from_item(f, s->from_items[i]);
    }
    if (s->alias)
        fprintf(f, " alias=%s", s->alias);
    if (s->from_sub) {
        fputs(" sub=(", f);
        select_stmt(f, s->from_sub);
        fputc(')', f);
    }
    if (s->nfrom_cols)
        strings(f, "cols", s->from_cols, s->nfrom_cols);
    for (int i = 0; i < s->nctes; i++) {
        fprintf(f, " with %s", s->ctes[i].name);
        if (s->ctes[i].ncols)
            strings(f, "cols", s->ctes[i].cols, s->ctes[i].ncols);
        fputs(" as (", f);
        select_stmt(f, s->ctes[i].query);
        fputc(')', f);
    }
    opt_expr(f, "where", s->where);
    for (int i = 0; i < s->ngroup_by; i++) {
        fputs(" group=", f);
        expr(f, s->group_by[i]);
    }
    opt_expr(f, "having", s->having);
    if (s->distinct)
        fputs(" distinct", f);
    for (int i = 0; i < s->ndistinct_on; i++) {
        fputs(" on=", f);
        expr(f, s->distinct_on[i]);
    }
    for (int i = 0; i < s->norder; i++) {
        fputs(" order=", f);
        expr(f, s->order[i].expr);
        fprintf(f, "%s%s", s->order[i].desc ? " desc" : " asc",
                s->order[i].nulls_first ? " nulls_first" : " nulls_last");
    }
    opt_expr(f, "limit", s->limit);
    opt_expr(f, "offset", s->offset);
}

static void modes(FILE *f, const sql_txn_modes *m)
{
    fprintf(f, " iso=%d ro=%d def=%d", (int)m->isolation, m->read_only, m->deferrable);
}

static void set(FILE *f, const sql_set *s)
{
    static const char *const kinds[] = {"set",       "set_default",     "reset",
                                        "reset_all", "set_transaction", "set_session"};

    fputs(kinds[s->kind], f);
    if (s->is_local)
        fputs(" local", f);
    if (s->name)
        fprintf(f, " %s", s->name);
    if (s->kind == SQL_SET_VALUE)
        strings(f, "values", s->values, s->nvalues);
    if (s->kind == SQL_SET_TRANSACTION || s->kind == SQL_SET_SESSION_DEFAULTS)
        modes(f, &s->modes);
}

static void database(FILE *f, const char *kind, const sql_database *d)
{
    fprintf(f, "%s %s%s", kind, d->name, d->if_exists ? " if_exists" : "");
    options(f, d->options, d->noptions);
}

static void create_index(FILE *f, const sql_create_index *c)
{
    fprintf(f, "create_index %s", c->name ? c->name : "(none)");
    if (c->unique)
        fputs(" unique", f);
    if (c->if_not_exists)
        fputs(" if_not_exists", f);
    fputs(" on=", f);
    name(f, &c->table);
    for (int i = 0; i < c->ncolumns; i++)
        fprintf(f, " %s%s", c->columns[i], c->desc[i] ? " desc" : "");
}

static void stmt(FILE *f, const sql_stmt *s);

static void explain(FILE *f, const sql_explain *e)
{
    fprintf(f, "explain%s ", e->analyze ? " analyze" : "");
    stmt(f, e->stmt);
}

static void stmt(FILE *f, const sql_stmt *s)
{
    switch (s->kind) {
    case SQL_STMT_CREATE_TABLE:
        create_table(f, &s->u.create_table);
        break;
    case SQL_STMT_DROP_TABLE:
        tables(f, "drop_table", &s->u.tables);
        break;
    case SQL_STMT_TRUNCATE:
        tables(f, "truncate", &s->u.tables);
        break;
    case SQL_STMT_ALTER_TABLE:
        alter_table(f, &s->u.alter_table);
        break;
    case SQL_STMT_CREATE_DATABASE:
        database(f, "create_database", &s->u.database);
        break;
    case SQL_STMT_DROP_DATABASE:
        database(f, "drop_database", &s->u.database);
        break;
    case SQL_STMT_CREATE_ROLE:
        role(f, "create_role", &s->u.role);
        break;
    case SQL_STMT_ALTER_ROLE:
        role(f, "alter_role", &s->u.role);
        break;
    case SQL_STMT_DROP_ROLE:
        role(f, "drop_role", &s->u.role);
        break;
    case SQL_STMT_INSERT:
        insert(f, &s->u.insert);
        break;
    case SQL_STMT_UPDATE:
        modify(f, "update", &s->u.modify);
        break;
    case SQL_STMT_DELETE:
        modify(f, "delete", &s->u.modify);
        break;
    case SQL_STMT_SELECT:
        select_stmt(f, &s->u.select);
        break;
    case SQL_STMT_CREATE_INDEX:
        create_index(f, &s->u.create_index);
        break;
    case SQL_STMT_DROP_INDEX:
        tables(f, "drop_index", &s->u.tables);
        break;
    case SQL_STMT_CREATE_VIEW:
        create_view(f, &s->u.create_view);
        break;
    case SQL_STMT_DROP_VIEW:
        tables(f, "drop_view", &s->u.tables);
        break;
    case SQL_STMT_EXPLAIN:
        explain(f, &s->u.explain);
        break;
    case SQL_STMT_BEGIN:
        fputs("begin", f);
        modes(f, &s->u.begin);
        break;
    case SQL_STMT_COMMIT:
        fputs("commit", f);
        break;
    case SQL_STMT_ROLLBACK:
        fputs("rollback", f);
        break;
    case SQL_STMT_SET:
        set(f, &s->u.set);
        break;
    case SQL_STMT_SHOW:
        fprintf(f, "show %s", s->u.show);
        break;
    case SQL_STMT_COPY:
        copy(f, &s->u.copy);
        break;
    case SQL_STMT_VACUUM:
        tables(f, "vacuum", &s->u.tables);
        break;
    case SQL_STMT_ANALYZE:
        tables(f, "analyze", &s->u.tables);
        break;
    }
}

char *pd_stmt(const sql_stmt *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    if (!f)
        abort();
    stmt(f, s);
    fclose(f);
    return buf;
}
