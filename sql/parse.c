/*
 * parse.c - sql_parse: runs libpg_query, maps its errors onto sql_error,
 * decodes the protobuf tree and hands each statement to parse_stmt.c.
 * Also the helpers shared by the translation files (parse_int.h).
 *
 * libpg_query reports a failed parse with PostgreSQL's message and a
 * 1-based character cursor but without a SQLSTATE; every error its raw
 * grammar raises is a syntax-class error, so all become 42601.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <pg_query.h>

#include "sql/parse_int.h"

void *sql__palloc(sql__pctx *c, size_t n)
{
    void *p = kv_arena_alloc(c->arena, n);

    if (!p) {
        sql_error_set(c->err, c->arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
        return NULL;
    }
    memset(p, 0, n);
    return p;
}

const char *sql__pstrdup(sql__pctx *c, const char *s)
{
    char *p;

    if (!s)
        return NULL;
    p = kv_arena_strdup(c->arena, s);
    if (!p)
        sql_error_set(c->err, c->arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
    return p;
}

int sql_parse_position(const char *query, int location)
{
    int chars = 0;

    if (location < 0)
        return 0;
    /* count UTF-8 lead bytes, as PostgreSQL's pg_mbstrlen_with_len does */
    for (int i = 0; i < location && query[i]; i++)
        chars += ((unsigned char)query[i] & 0xC0) != 0x80;
    return chars + 1;
}

int sql__error_at(sql__pctx *c, int location, sql_sqlstate state, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sql_error_set(c->err, c->arena, state, "%s", msg);
    c->err->position = sql_parse_position(c->query, location);
    return -1;
}

int sql__unsupported(sql__pctx *c, int location, const char *feature)
{
    return sql__error_at(c, location, SQL_STATE_FEATURE_NOT_SUPPORTED, "%s is not supported yet",
                         feature);
}

const char *sql__node_str(const PgQuery__Node *n)
{
    if (!n || n->node_case != PG_QUERY__NODE__NODE_STRING)
        return NULL;
    return n->string->sval;
}

int sql__name_list(sql__pctx *c, PgQuery__Node **items, size_t n, int location, sql_name *out)
{
    const char *parts[2] = {NULL, NULL};

    if (n > 2)
        return sql__unsupported(c, location, "cross-database reference");
    for (size_t i = 0; i < n; i++) {
        parts[2 - n + i] = sql__node_str(items[i]);
        if (!parts[2 - n + i])
            return sql__unsupported_node(c, items[i], location);
    }
    out->location = location;
    out->schema = sql__pstrdup(c, parts[0]);
    out->name = sql__pstrdup(c, parts[1]);
    return (parts[0] && !out->schema) || !out->name ? -1 : 0;
}

int sql__range_var(sql__pctx *c, const PgQuery__RangeVar *rv, sql_name *out, const char **alias)
{
    if (rv->catalogname && rv->catalogname[0])
        return sql__unsupported(c, rv->location, "cross-database reference");
    if (rv->alias && rv->alias->n_colnames)
        return sql__unsupported(c, rv->location, "column alias list");
    if (!rv->inh)
        return sql__unsupported(c, rv->location, "ONLY");
    if (rv->relpersistence && strcmp(rv->relpersistence, "p") != 0)
        return sql__unsupported(c, rv->location, "TEMPORARY or UNLOGGED table");
    out->location = rv->location;
    out->schema = rv->schemaname[0] ? sql__pstrdup(c, rv->schemaname) : NULL;
    out->name = sql__pstrdup(c, rv->relname);
    if ((rv->schemaname[0] && !out->schema) || !out->name)
        return -1;
    if (alias && rv->alias) {
        *alias = sql__pstrdup(c, rv->alias->aliasname);
        if (!*alias)
            return -1;
    }
    return 0;
}

/* ---- nesting guards ------------------------------------------------------
 *
 * libpg_query's protobuf output and protobuf-c's unpacking both recurse
 * once per tree level with no limit (about 1 KB of stack per level for the
 * unpack), so a query like "SELECT 1+1+...+1" with 50000 terms would
 * overflow a worker's stack. Two guards keep every recursion bounded:
 *  - before parsing, a query long enough to nest dangerously is scanned
 *    and refused if it has more than MAX_OPERATORS tokens that can each
 *    add a tree level (a query shorter than that many bytes cannot have
 *    that many tokens); the scanner itself does not recurse;
 *  - before unpacking, the encoded tree is walked iteratively and refused
 *    if messages nest more than MAX_WIRE_DEPTH deep (an expression level
 *    is two messages: a Node and its A_Expr, FuncCall, ...), which also
 *    bounds the recursion of our translation and of the binder after it.
 */
#define MAX_OPERATORS  4000
#define MAX_WIRE_DEPTH 1000
/* libpg_query's Token enum lacks the scanner's generic operator token */
#define TOKEN_OP 265

static bool is_operator(int token)
{
    switch (token) {
    case '%':
    case '*':
    case '+':
    case '-':
    case '/':
    case '<':
    case '=':
    case '>':
    case '^':
    case '[':
    case TOKEN_OP:
    case PG_QUERY__TOKEN__TYPECAST:
    case PG_QUERY__TOKEN__LESS_EQUALS:
    case PG_QUERY__TOKEN__GREATER_EQUALS:
    case PG_QUERY__TOKEN__NOT_EQUALS:
    case PG_QUERY__TOKEN__NOT:
    case PG_QUERY__TOKEN__NOT_LA:
    case PG_QUERY__TOKEN__IS:
    case PG_QUERY__TOKEN__LIKE:
    case PG_QUERY__TOKEN__ILIKE:
    case PG_QUERY__TOKEN__SIMILAR:
    case PG_QUERY__TOKEN__BETWEEN:
    case PG_QUERY__TOKEN__CASE:
        return true;
    default:
        return false;
    }
}

/* A sign the grammar folds into the number it precedes, as in the rows
 * of a bulk INSERT: VALUES (-1), (-2), ... */
static bool is_folded_sign(PgQuery__ScanToken **t, size_t i, size_t n)
{
    int prev = i ? (int)t[i - 1]->token : ',';
    int next = i + 1 < n ? (int)t[i + 1]->token : 0;

    return ((int)t[i]->token == '-' || (int)t[i]->token == '+') && (prev == '(' || prev == ',') &&
           (next == PG_QUERY__TOKEN__ICONST || next == PG_QUERY__TOKEN__FCONST);
}

/* Operators plus the deepest parenthesis nesting: an upper bound of the
 * tree depth that long lists of rows or OR-ed terms do not inflate. */
static size_t depth_bound(const PgQuery__ScanResult *scan)
{
    size_t ops = 0, parens = 0, max_parens = 0;

    for (size_t i = 0; i < scan->n_tokens; i++) {
        int token = (int)scan->tokens[i]->token;

        if (token == '(' && ++parens > max_parens)
            max_parens = parens;
        else if (token == ')' && parens)
            parens--;
        else if (is_operator(token) && !is_folded_sign(scan->tokens, i, scan->n_tokens))
            ops++;
    }
    return ops + max_parens;
}

/* A scan failure is left to the parser, which reports it as a syntax
 * error without building a tree. */
static int check_operators(sql__pctx *c, size_t query_len)
{
    PgQueryScanResult res;
    PgQuery__ScanResult *scan;
    size_t n = 0;

    if (query_len < MAX_OPERATORS)
        return 0;
    res = pg_query_scan(c->query);
    scan = res.error
               ? NULL
               : pg_query__scan_result__unpack(NULL, res.pbuf.len, (const uint8_t *)res.pbuf.data);
    if (scan) {
        n = depth_bound(scan);
        pg_query__scan_result__free_unpacked(scan, NULL);
    }
    pg_query_free_scan_result(res);
    if (n <= MAX_OPERATORS)
        return 0;
    return sql__error_at(c, -1, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                         "statement is too complex: more than %d operators", MAX_OPERATORS);
}

static bool read_varint(const uint8_t *buf, size_t end, size_t *pos, uint64_t *out)
{
    *out = 0;
    for (int shift = 0; *pos < end && shift < 64; shift += 7) {
        uint8_t b = buf[(*pos)++];

        *out |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Walks the protobuf encoding with the message descriptors, keeping the
 * open messages on an explicit stack. Protobuf wire types: 0 varint,
 * 1 fixed 64-bit, 2 length-delimited (a sub-message when the field's type
 * says so), 5 fixed 32-bit. Returns false when messages nest deeper than
 * MAX_WIRE_DEPTH or the encoding is malformed. */
static bool wire_depth_ok(const uint8_t *buf, size_t len)
{
    struct {
        const ProtobufCMessageDescriptor *desc;
        size_t end;
    } stack[MAX_WIRE_DEPTH];
    int top = 0;
    size_t pos = 0;
    uint64_t key, n;

    stack[0].desc = &pg_query__parse_result__descriptor;
    stack[0].end = len;
    while (top >= 0) {
        const ProtobufCFieldDescriptor *f;

        if (pos == stack[top].end) {
            top--;
            continue;
        }
        if (!read_varint(buf, stack[top].end, &pos, &key))
            return false;
        switch (key & 7) {
        case 0:
            if (!read_varint(buf, stack[top].end, &pos, &n))
                return false;
            continue;
        case 1:
            n = 8;
            break;
        case 5:
            n = 4;
            break;
        case 2:
            if (!read_varint(buf, stack[top].end, &pos, &n) || n > stack[top].end - pos)
                return false;
            f = protobuf_c_message_descriptor_get_field(stack[top].desc, (unsigned)(key >> 3));
            if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE)
                break;
            if (++top == MAX_WIRE_DEPTH)
                return false;
            stack[top].desc = f->descriptor;
            stack[top].end = pos + n;
            continue;
        default:
            return false;
        }
        if (n > stack[top].end - pos)
            return false;
        pos += n;
    }
    return true;
}

/* The first non-blank byte from `location`: PostgreSQL starts a statement
 * right after the previous ';', blanks included, but an error about the
 * statement should point at its first word. */
static int first_token(const char *query, int location)
{
    while (query[location] == ' ' || query[location] == '\n' || query[location] == '\t' ||
           query[location] == '\r')
        location++;
    return location;
}

/* Split the translation from the libpg_query call so every protobuf
 * allocation is freed on one path. */
static int translate(sql__pctx *c, const PgQuery__ParseResult *tree, int query_len,
                     sql_stmt_list *out)
{
    sql_stmt *stmts;

    if (tree->n_stmts == 0)
        return 0;
    stmts = sql__palloc(c, tree->n_stmts * sizeof *stmts);
    if (!stmts)
        return -1;
    for (size_t i = 0; i < tree->n_stmts; i++) {
        const PgQuery__RawStmt *raw = tree->stmts[i];

        stmts[i].location = raw->stmt_location;
        /* PostgreSQL leaves stmt_len 0 for "to the end of the string" */
        stmts[i].len = raw->stmt_len ? raw->stmt_len : query_len - raw->stmt_location;
        if (sql__stmt(c, raw->stmt, first_token(c->query, raw->stmt_location), &stmts[i]) < 0)
            return -1;
    }
    out->stmts = stmts;
    out->n = (int)tree->n_stmts;
    return 0;
}

int sql_parse(const char *query, kv_arena *arena, sql_stmt_list *out, sql_error *err)
{
    sql__pctx c = {.query = query, .arena = arena, .err = err};
    PgQueryProtobufParseResult res;
    PgQuery__ParseResult *tree;
    int rc = -1;

    out->stmts = NULL;
    out->n = 0;
    if (check_operators(&c, strlen(query)) < 0)
        return -1;
    res = pg_query_parse_protobuf(query);
    if (res.error) {
        sql_error_set(err, arena, SQL_STATE_SYNTAX_ERROR, "%s", res.error->message);
        err->position = res.error->cursorpos;
        goto out_free_result;
    }
    if (!wire_depth_ok((const uint8_t *)res.parse_tree.data, res.parse_tree.len)) {
        sql_error_set(err, arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                      "statement is nested too deeply (more than %d levels)", MAX_WIRE_DEPTH / 2);
        goto out_free_result;
    }
    tree = pg_query__parse_result__unpack(NULL, res.parse_tree.len,
                                          (const uint8_t *)res.parse_tree.data);
    if (!tree) {
        sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR,
                      "could not decode the parse tree of libpg_query");
        goto out_free_result;
    }
    rc = translate(&c, tree, (int)strlen(query), out);
    if (rc < 0) {
        out->stmts = NULL;
        out->n = 0;
    }
    pg_query__parse_result__free_unpacked(tree, NULL);
out_free_result:
    pg_query_free_protobuf_parse_result(res);
    return rc;
}

int sql__node_location(const PgQuery__Node *n)
{
    if (!n)
        return -1;
    switch (n->node_case) {
#define LOC(CASE, field)              \
    case PG_QUERY__NODE__NODE_##CASE: \
        return n->field->location;
        LOC(RANGE_VAR, range_var)
        LOC(A_EXPR, a_expr)
        LOC(COLUMN_REF, column_ref)
        LOC(PARAM_REF, param_ref)
        LOC(A_CONST, a_const)
        LOC(FUNC_CALL, func_call)
        LOC(TYPE_CAST, type_cast)
        LOC(BOOL_EXPR, bool_expr)
        LOC(NULL_TEST, null_test)
        LOC(BOOLEAN_TEST, boolean_test)
        LOC(CASE_EXPR, case_expr)
        LOC(SUB_LINK, sub_link)
        LOC(COALESCE_EXPR, coalesce_expr)
        LOC(MIN_MAX_EXPR, min_max_expr)
        LOC(SQLVALUE_FUNCTION, sqlvalue_function)
        LOC(SET_TO_DEFAULT, set_to_default)
        LOC(RES_TARGET, res_target)
        LOC(SORT_BY, sort_by)
        LOC(COLUMN_DEF, column_def)
        LOC(CONSTRAINT, constraint)
        LOC(DEF_ELEM, def_elem)
        LOC(TYPE_NAME, type_name)
        LOC(A_ARRAY_EXPR, a_array_expr)
        LOC(ROW_EXPR, row_expr)
        LOC(COLLATE_CLAUSE, collate_clause)
        LOC(GROUPING_FUNC, grouping_func)
        LOC(XML_EXPR, xml_expr)
        LOC(ROLE_SPEC, role_spec)
#undef LOC
    /* no location of their own: use the joined table's, the subscripted
     * expression's */
    case PG_QUERY__NODE__NODE_JOIN_EXPR:
        return sql__node_location(n->join_expr->rarg);
    case PG_QUERY__NODE__NODE_A_INDIRECTION:
        return sql__node_location(n->a_indirection->arg);
    default:
        return -1;
    }
}

/* Words for the node kinds users meet most; the rest are named by their
 * PostgreSQL node name, which is still specific enough to act on. */
static const struct {
    PgQuery__Node__NodeCase node;
    const char *feature;
} node_features[] = {
    {PG_QUERY__NODE__NODE_SUB_LINK, "subquery"},
    {PG_QUERY__NODE__NODE_JOIN_EXPR, "JOIN"},
    {PG_QUERY__NODE__NODE_A_ARRAY_EXPR, "ARRAY"},
    {PG_QUERY__NODE__NODE_A_INDIRECTION, "subscript or field selection"},
    {PG_QUERY__NODE__NODE_ROW_EXPR, "ROW constructor"},
    {PG_QUERY__NODE__NODE_COLLATE_CLAUSE, "COLLATE"},
    {PG_QUERY__NODE__NODE_GROUPING_FUNC, "GROUPING"},
    {PG_QUERY__NODE__NODE_MULTI_ASSIGN_REF, "multiple-column assignment"},
    {PG_QUERY__NODE__NODE_XML_EXPR, "XML"},
    {PG_QUERY__NODE__NODE_SELECT_STMT, "subquery"},
    {PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT, "CREATE SCHEMA"},
    {PG_QUERY__NODE__NODE_VIEW_STMT, "CREATE VIEW"},
    {PG_QUERY__NODE__NODE_CREATE_SEQ_STMT, "CREATE SEQUENCE"},
    {PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT, "CREATE TABLE AS"},
    {PG_QUERY__NODE__NODE_CREATE_FUNCTION_STMT, "CREATE FUNCTION"},
    {PG_QUERY__NODE__NODE_PREPARE_STMT, "PREPARE"},
    {PG_QUERY__NODE__NODE_EXECUTE_STMT, "EXECUTE"},
    {PG_QUERY__NODE__NODE_DEALLOCATE_STMT, "DEALLOCATE"},
    {PG_QUERY__NODE__NODE_GRANT_STMT, "GRANT"},
    {PG_QUERY__NODE__NODE_LOCK_STMT, "LOCK"},
    {PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT, "DECLARE CURSOR"},
    {PG_QUERY__NODE__NODE_RENAME_STMT, "RENAME"},
    {PG_QUERY__NODE__NODE_COMMENT_STMT, "COMMENT"},
    {PG_QUERY__NODE__NODE_DO_STMT, "DO"},
    {PG_QUERY__NODE__NODE_CALL_STMT, "CALL"},
    {PG_QUERY__NODE__NODE_MERGE_STMT, "MERGE"},
};

int sql__unsupported_node(sql__pctx *c, const PgQuery__Node *n, int fallback_location)
{
    const ProtobufCMessage *m;
    int loc = sql__node_location(n);

    if (loc < 0)
        loc = fallback_location;
    for (size_t i = 0; i < sizeof node_features / sizeof node_features[0]; i++)
        if (node_features[i].node == n->node_case)
            return sql__unsupported(c, loc, node_features[i].feature);
    /* every member of the Node oneof is a message: its descriptor names it */
    m = (const ProtobufCMessage *)n->alias;
    return sql__unsupported(c, loc, m ? m->descriptor->short_name : "this syntax");
}
