/*
 * parse_ddl.c - CREATE TABLE, ALTER TABLE and the generic WITH (...)
 * option lists.
 *
 * Column constraints are normalised: NOT NULL and DEFAULT stay on the
 * column, PRIMARY KEY / UNIQUE / CHECK become table constraints naming the
 * column, so the binder validates one list. Storage-related clauses we do
 * not implement (INHERITS, PARTITION BY, TABLESPACE, foreign keys, ...)
 * are refused rather than ignored, since accepting them would promise
 * behaviour the table does not have.
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sql/parse_int.h"

/* The text of a DefElem argument. */
static int def_arg_text(sql__pctx *c, const PgQuery__DefElem *d, const char **out)
{
    const PgQuery__Node *a = d->arg;
    char buf[16];

    *out = NULL;
    if (!a)
        return 0;
    switch (a->node_case) {
    case PG_QUERY__NODE__NODE_STRING:
        *out = sql__pstrdup(c, a->string->sval);
        break;
    case PG_QUERY__NODE__NODE_INTEGER:
        snprintf(buf, sizeof buf, "%d", (int)a->integer->ival);
        *out = sql__pstrdup(c, buf);
        break;
    case PG_QUERY__NODE__NODE_FLOAT:
        *out = sql__pstrdup(c, a->float_->fval);
        break;
    case PG_QUERY__NODE__NODE_BOOLEAN:
        *out = a->boolean->boolval ? "true" : "false";
        break;
    case PG_QUERY__NODE__NODE_TYPE_NAME: /* unquoted words: WITH (x = on) */
        *out = sql__pstrdup(c, sql__node_str(a->type_name->names[a->type_name->n_names - 1]));
        break;
    default:
        return sql__unsupported(c, d->location, "this option value");
    }
    return *out ? 0 : -1;
}

int sql__options(sql__pctx *c, PgQuery__Node **items, size_t n, sql_option **out, int *nout)
{
    sql_option *o = sql__palloc(c, (n ? n : 1) * sizeof *o);
    char name[256];

    if (!o)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const PgQuery__DefElem *d = items[i]->def_elem;

        assert(items[i]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM);
        if (d->defaction != PG_QUERY__DEF_ELEM_ACTION__DEFELEM_UNSPEC)
            return sql__unsupported(c, d->location, "ADD/SET/DROP in options");
        /* namespaced options (toast.x) keep their namespace */
        snprintf(name, sizeof name, "%s%s%s", d->defnamespace, d->defnamespace[0] ? "." : "",
                 d->defname);
        o[i].location = d->location;
        if (!(o[i].name = sql__pstrdup(c, name)) || def_arg_text(c, d, &o[i].value) < 0)
            return -1;
    }
    *out = o;
    *nout = (int)n;
    return 0;
}

static int key_columns(sql__pctx *c, const PgQuery__Constraint *k, const char *colname,
                       sql_constraint *out)
{
    size_t n = colname ? 1 : k->n_keys;

    out->columns = sql__palloc(c, (n ? n : 1) * sizeof *out->columns);
    if (!out->columns)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *name = colname ? colname : sql__node_str(k->keys[i]);

        if (!(out->columns[i] = sql__pstrdup(c, name)))
            return -1;
    }
    out->ncolumns = (int)n;
    return 0;
}

/* A PRIMARY KEY, UNIQUE or CHECK constraint; colname set for a column
 * constraint. */
static int constraint(sql__pctx *c, const PgQuery__Constraint *k, const char *colname,
                      sql_constraint *out)
{
    if (k->deferrable || k->initdeferred)
        return sql__unsupported(c, k->location, "deferrable constraint");
    if (k->n_including || k->n_options || k->indexspace[0] || k->nulls_not_distinct)
        return sql__unsupported(c, k->location, "index options of a constraint");
    if (k->is_no_inherit)
        return sql__unsupported(c, k->location, "NO INHERIT");
    out->location = k->location;
    if (k->conname[0] && !(out->name = sql__pstrdup(c, k->conname)))
        return -1;
    switch (k->contype) {
    case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
        out->kind = SQL_CONSTRAINT_PRIMARY_KEY;
        return key_columns(c, k, colname, out);
    case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
        out->kind = SQL_CONSTRAINT_UNIQUE;
        return key_columns(c, k, colname, out);
    case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
        out->kind = SQL_CONSTRAINT_CHECK;
        return sql__expr(c, k->raw_expr, &out->check);
    case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
        return sql__unsupported(c, k->location, "FOREIGN KEY");
    case PG_QUERY__CONSTR_TYPE__CONSTR_EXCLUSION:
        return sql__unsupported(c, k->location, "EXCLUDE constraint");
    case PG_QUERY__CONSTR_TYPE__CONSTR_IDENTITY:
        return sql__unsupported(c, k->location, "identity column");
    case PG_QUERY__CONSTR_TYPE__CONSTR_GENERATED:
        return sql__unsupported(c, k->location, "generated column");
    default:
        return sql__unsupported(c, k->location, "constraint attribute");
    }
}

/* NULL, NOT NULL and DEFAULT, which stay on the column; PostgreSQL's
 * transformColumnDefinition rejects contradicting or repeated ones. */
static int column_property(sql__pctx *c, const char *table, const PgQuery__Constraint *k,
                           bool *saw_null, sql_column_def *col)
{
    bool is_null = k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_NULL;

    if (k->contype == PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT) {
        if (col->default_expr)
            return sql__error_at(c, k->location, SQL_STATE_SYNTAX_ERROR,
                                 "multiple default values specified for column \"%s\" of "
                                 "table \"%s\"",
                                 col->name, table);
        return sql__expr(c, k->raw_expr, &col->default_expr);
    }
    if ((is_null && col->not_null) || (!is_null && *saw_null))
        return sql__error_at(c, k->location, SQL_STATE_SYNTAX_ERROR,
                             "conflicting NULL/NOT NULL declarations for column \"%s\" of "
                             "table \"%s\"",
                             col->name, table);
    *saw_null |= is_null;
    col->not_null |= !is_null;
    return 0;
}

/* One ColumnDef; its PRIMARY KEY/UNIQUE/CHECK constraints are appended to
 * cons[*ncons...], which has room for all of d's constraints. */
static int column_def(sql__pctx *c, const char *table, const PgQuery__ColumnDef *d,
                      sql_column_def *col, sql_constraint *cons, int *ncons)
{
    bool saw_null = false;

    col->location = d->location;
    if (d->coll_clause)
        return sql__unsupported(c, d->coll_clause->location, "COLLATE");
    if (d->compression[0] || d->storage[0])
        return sql__unsupported(c, d->location, "column storage options");
    if (!(col->name = sql__pstrdup(c, d->colname)) ||
        sql__type(c, d->type_name, &col->type, &col->serial) < 0)
        return -1;
    for (size_t i = 0; i < d->n_constraints; i++) {
        const PgQuery__Constraint *k = d->constraints[i]->constraint;
        int rc;

        assert(d->constraints[i]->node_case == PG_QUERY__NODE__NODE_CONSTRAINT);
        switch (k->contype) {
        case PG_QUERY__CONSTR_TYPE__CONSTR_NULL:
        case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL:
        case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT:
            rc = column_property(c, table, k, &saw_null, col);
            break;
        default:
            rc = constraint(c, k, col->name, &cons[(*ncons)++]);
            break;
        }
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* PostgreSQL's transformIndexConstraints: one primary key per table. */
static int check_one_primary_key(sql__pctx *c, const sql_create_table *t)
{
    bool seen = false;

    for (int i = 0; i < t->nconstraints; i++) {
        if (t->constraints[i].kind != SQL_CONSTRAINT_PRIMARY_KEY)
            continue;
        if (seen)
            return sql__error_at(c, t->constraints[i].location, SQL_STATE_INVALID_TABLE_DEFINITION,
                                 "multiple primary keys for table \"%s\" are not allowed",
                                 t->table.name);
        seen = true;
    }
    return 0;
}

static int check_create_clauses(sql__pctx *c, const PgQuery__CreateStmt *s)
{
    int loc = s->relation->location;

    if (s->n_inh_relations)
        return sql__unsupported(c, loc, "INHERITS");
    if (s->partbound || s->partspec)
        return sql__unsupported(c, loc, "partitioned table");
    if (s->of_typename)
        return sql__unsupported(c, loc, "typed table");
    if (s->oncommit != PG_QUERY__ON_COMMIT_ACTION__ONCOMMIT_NOOP)
        return sql__unsupported(c, loc, "ON COMMIT");
    if (s->tablespacename[0])
        return sql__unsupported(c, loc, "TABLESPACE");
    if (s->access_method[0])
        return sql__unsupported(c, loc, "table access method");
    return 0;
}

/* Room for every constraint the statement may produce. */
static int alloc_create(sql__pctx *c, const PgQuery__CreateStmt *s, sql_create_table *out)
{
    size_t ncols = 0, ncons = 0;

    for (size_t i = 0; i < s->n_table_elts; i++) {
        const PgQuery__Node *e = s->table_elts[i];

        if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
            ncols++;
            ncons += e->column_def->n_constraints;
        } else if (e->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) {
            ncons++;
        } else {
            return sql__unsupported(c, s->relation->location, "LIKE in CREATE TABLE");
        }
    }
    out->columns = sql__palloc(c, (ncols ? ncols : 1) * sizeof *out->columns);
    out->constraints = sql__palloc(c, (ncons ? ncons : 1) * sizeof *out->constraints);
    return out->columns && out->constraints ? 0 : -1;
}

int sql__create_table(sql__pctx *c, const PgQuery__CreateStmt *s, sql_create_table *out)
{
    if (check_create_clauses(c, s) < 0 || sql__range_var(c, s->relation, &out->table, NULL) < 0 ||
        alloc_create(c, s, out) < 0)
        return -1;
    out->if_not_exists = s->if_not_exists;
    for (size_t i = 0; i < s->n_table_elts; i++) {
        const PgQuery__Node *e = s->table_elts[i];

        if (e->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
            if (column_def(c, out->table.name, e->column_def, &out->columns[out->ncolumns++],
                           out->constraints, &out->nconstraints) < 0)
                return -1;
        } else if (constraint(c, e->constraint, NULL, &out->constraints[out->nconstraints++]) < 0) {
            return -1;
        }
    }
    if (check_one_primary_key(c, out) < 0)
        return -1;
    return sql__options(c, s->options, s->n_options, &out->options, &out->noptions);
}

static int alter_add_column(sql__pctx *c, const char *table, const PgQuery__AlterTableCmd *a,
                            sql_alter_cmd *out)
{
    const PgQuery__ColumnDef *d = a->def->column_def;

    assert(a->def->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF);
    out->kind = SQL_ALTER_ADD_COLUMN;
    out->constraints =
        sql__palloc(c, (d->n_constraints ? d->n_constraints : 1) * sizeof *out->constraints);
    if (!out->constraints)
        return -1;
    return column_def(c, table, d, &out->column, out->constraints, &out->nconstraints);
}

static int alter_cmd(sql__pctx *c, const char *table, const PgQuery__AlterTableCmd *a, int location,
                     sql_alter_cmd *out)
{
    const ProtobufCEnumValue *v;

    out->missing_ok = a->missing_ok;
    if (a->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE)
        return sql__unsupported(c, location, "CASCADE");
    switch (a->subtype) {
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn:
        return alter_add_column(c, table, a, out);
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn:
        out->kind = SQL_ALTER_DROP_COLUMN;
        return (out->name = sql__pstrdup(c, a->name)) ? 0 : -1;
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint:
        assert(a->def->node_case == PG_QUERY__NODE__NODE_CONSTRAINT);
        if (a->def->constraint->contype != PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY)
            return sql__unsupported(c, a->def->constraint->location,
                                    "ALTER TABLE ADD CONSTRAINT other than PRIMARY KEY");
        out->kind = SQL_ALTER_ADD_PRIMARY_KEY;
        out->constraints = sql__palloc(c, sizeof *out->constraints);
        out->nconstraints = 1;
        return out->constraints ? constraint(c, a->def->constraint, NULL, out->constraints) : -1;
    default:
        /* the protobuf enum names the action (AT_AlterColumnType, ...) */
        v = protobuf_c_enum_descriptor_get_value(&pg_query__alter_table_type__descriptor,
                                                 a->subtype);
        return sql__error_at(c, location, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "ALTER TABLE action %s is not supported yet", v ? v->name : "?");
    }
}

int sql__alter_table(sql__pctx *c, const PgQuery__AlterTableStmt *s, int location,
                     sql_alter_table *out)
{
    if (s->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
        return sql__unsupported(c, location, "ALTER of an object other than a table");
    if (sql__range_var(c, s->relation, &out->table, NULL) < 0)
        return -1;
    out->if_exists = s->missing_ok;
    out->cmds = sql__palloc(c, (s->n_cmds ? s->n_cmds : 1) * sizeof *out->cmds);
    if (!out->cmds)
        return -1;
    for (size_t i = 0; i < s->n_cmds; i++) {
        assert(s->cmds[i]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD);
        if (alter_cmd(c, out->table.name, s->cmds[i]->alter_table_cmd, location, &out->cmds[i]) < 0)
            return -1;
    }
    out->ncmds = (int)s->n_cmds;
    return 0;
}
