/*
 * copy.c - COPY FROM STDIN / TO STDOUT in text and CSV format, and the
 * maintenance statements bulk loaders send (VACUUM, ANALYZE), which are
 * no-ops here once their tables are known to exist.
 *
 * COPY FROM STDIN spans several calls. sql__copy (from the statement's
 * dispatch, in its transaction) resolves the table and columns and starts
 * the COPY; the client's CopyData then arrive through
 * sql_session_copy_data, which cuts them into records (a record may span
 * CopyData messages: its incomplete tail waits in `buf`), splits records
 * into fields, converts fields with the columns' input functions and
 * inserts rows through the table's INSERT path: a plan
 *     INSERT INTO t (cols) VALUES ($1, ..., $n), ..., ($k, ...)
 * of one batch of rows, planned once and run per full batch, so defaults,
 * NOT NULL, CHECK and UNIQUE apply as to any INSERT. sql_session_copy_end
 * inserts the last, partial batch and ends an implicit transaction. At
 * most one batch of parsed rows is held.
 *
 * COPY TO STDOUT plans SELECT cols FROM t and sends one CopyData per row.
 *
 * Data formats, as PostgreSQL's (one record per line):
 *   text  fields split by DELIMITER (tab); NULL as the NULL option spells
 *         it (\N); escapes \b \f \n \r \t \v, \NNN octal, \xHH hex, \c for
 *         any other c; a backslash before a line end makes it data
 *   csv   fields split by DELIMITER (,); a field holding the delimiter, a
 *         quote or a line end is quoted with QUOTE ("), a quote inside
 *         doubled or preceded by ESCAPE; NULL as the NULL option spells it
 *         (unquoted empty)
 *   both  lines end in \n or \r\n; a line \. ends the data; HEADER: a
 *         first line of column names, skipped (FROM) or written (TO)
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/session_int.h"
#include "sql/vtable.h"

/* Rows per INSERT plan run; fewer when the columns would need more
 * parameters than a statement may have. */
#define BATCH_ROWS 1000
#define MAX_PARAMS 65535
/* COPY TO formats its values in an arena replaced this often. */
#define ROWS_PER_ARENA 256

/* The columns a COPY reads or writes, in the COPY's order. */
typedef struct copy_target {
    const char **names;
    sql_type *types;
    size_t n;
} copy_target;

typedef struct sql__copy_in {
    kv_arena *arena; /* everything below but buf and rows */
    sql__copy_fmt fmt;
    const char *query;
    sql_name table;
    copy_target cols;
    size_t batch_rows;
    sql_plan *plan;  /* for batch_rows rows; NULL until the first */
    sql_datum *vals; /* batch_rows x cols.n parameters */
    sql_type *param_types;
    size_t nrows;   /* rows in vals */
    kv_arena *rows; /* their payloads (and the runs' memory) */
    uint64_t count; /* rows inserted */
    bool skip_header;
    bool ended; /* a \. line was seen: what follows is ignored */
    char *buf;  /* an incomplete record (malloc'd) */
    size_t len, cap;
} copy_in;

/* ---- options ------------------------------------------------------------ */

static int opt_error(const char *query, const sql_option *o, sql_error *err, kv_arena *arena,
                     sql_sqlstate state, const char *msg)
{
    sql_error_set(err, arena, state, "%s", msg);
    err->position = sql_parse_position(query, o->location);
    return -1;
}

/* A boolean option's value (none given: true); 1 for HEADER MATCH. */
static int opt_bool(const char *query, const sql_option *o, bool *out, sql_error *err,
                    kv_arena *arena)
{
    static const char *const yes[] = {"true", "on", "1", "yes", NULL};
    static const char *const no[] = {"false", "off", "0", "no", NULL};
    char msg[128];

    *out = true;
    if (!o->value)
        return 0;
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(o->value, yes[i]))
            return 0;
    *out = false;
    for (int i = 0; no[i]; i++)
        if (!strcasecmp(o->value, no[i]))
            return 0;
    if (!strcmp(o->name, "header") && !strcasecmp(o->value, "match"))
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "HEADER MATCH is not supported yet");
    snprintf(msg, sizeof msg, "%s requires a Boolean value%s", o->name,
             strcmp(o->name, "header") ? "" : " or \"match\"");
    return opt_error(query, o, err, arena, SQL_STATE_SYNTAX_ERROR, msg);
}

/* A string option's value: NULL with 42601 when none was given. */
static const char *opt_string(const char *query, const sql_option *o, sql_error *err,
                              kv_arena *arena)
{
    char msg[128];

    if (o->value)
        return o->value;
    snprintf(msg, sizeof msg, "%s requires a parameter", o->name);
    opt_error(query, o, err, arena, SQL_STATE_SYNTAX_ERROR, msg);
    return NULL;
}

static int opt_format(const char *query, const sql_option *o, sql__copy_fmt *f, sql_error *err,
                      kv_arena *arena)
{
    const char *v = opt_string(query, o, err, arena);

    if (!v)
        return -1;
    if (!strcmp(v, "csv") || !strcmp(v, "text")) {
        f->csv = !strcmp(v, "csv");
        return 0;
    }
    if (!strcmp(v, "binary"))
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "COPY FORMAT binary is not supported yet");
    sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                  "COPY format \"%s\" not recognized", v);
    err->position = sql_parse_position(query, o->location);
    return -1;
}

/* The options as written, before their combination is checked. */
typedef struct copy_opts {
    const char *delim, *null, *quote, *escape;
    bool freeze;
} copy_opts;

enum { OPT_FORMAT, OPT_DELIMITER, OPT_NULL, OPT_QUOTE, OPT_ESCAPE, OPT_HEADER, OPT_FREEZE, OPT_N };
static const char *const option_names[OPT_N] = {"format", "delimiter", "null",  "quote",
                                                "escape", "header",    "freeze"};

/* The index of option `o`, or -1 with 42601 (0A000 for PostgreSQL's
 * options we do not implement). */
static int option_index(const char *query, const sql_option *o, sql_error *err, kv_arena *arena)
{
    char msg[128];

    for (int i = 0; i < OPT_N; i++)
        if (!strcmp(option_names[i], o->name))
            return i;
    if (!strcmp(o->name, "force_quote") || !strcmp(o->name, "force_not_null") ||
        !strcmp(o->name, "force_null") || !strcmp(o->name, "encoding"))
        return sql_error_set(err, arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "COPY option \"%s\" is not supported yet", o->name);
    snprintf(msg, sizeof msg, "option \"%s\" not recognized", o->name);
    return opt_error(query, o, err, arena, SQL_STATE_SYNTAX_ERROR, msg);
}

static int copy_option(const char *query, const sql_option *o, int i, sql__copy_fmt *f,
                       copy_opts *v, sql_error *err, kv_arena *arena)
{
    const char **slot[OPT_N] = {[OPT_DELIMITER] = &v->delim,
                                [OPT_NULL] = &v->null,
                                [OPT_QUOTE] = &v->quote,
                                [OPT_ESCAPE] = &v->escape};

    if (i == OPT_FORMAT)
        return opt_format(query, o, f, err, arena);
    if (i == OPT_HEADER)
        return opt_bool(query, o, &f->header, err, arena);
    if (i == OPT_FREEZE) /* accepted: there is nothing to freeze */
        return opt_bool(query, o, &v->freeze, err, arena);
    return (*slot[i] = opt_string(query, o, err, arena)) ? 0 : -1;
}

/* PostgreSQL's checks of the combination (copy.c ProcessCopyOptions). */
static int check_format(const sql__copy_fmt *f, const copy_opts *v, sql_error *err, kv_arena *arena)
{
    sql_sqlstate bad = SQL_STATE_INVALID_PARAMETER_VALUE;
    sql_sqlstate unsup = SQL_STATE_FEATURE_NOT_SUPPORTED;

    if (v->delim && strlen(v->delim) != 1)
        return sql_error_set(err, arena, unsup,
                             "COPY delimiter must be a single one-byte character");
    if (f->delim == '\n' || f->delim == '\r')
        return sql_error_set(err, arena, bad,
                             "COPY delimiter cannot be newline or carriage return");
    if (strpbrk(f->null, "\r\n"))
        return sql_error_set(err, arena, bad,
                             "COPY null representation cannot use newline or carriage return");
    if (!f->csv && strchr("\\.abcdefghijklmnopqrstuvwxyz0123456789", f->delim))
        return sql_error_set(err, arena, unsup, "COPY delimiter cannot be \"%c\"", f->delim);
    if (!f->csv && v->quote)
        return sql_error_set(err, arena, unsup, "COPY quote available only in CSV mode");
    if (v->quote && strlen(v->quote) != 1)
        return sql_error_set(err, arena, unsup, "COPY quote must be a single one-byte character");
    if (f->csv && f->delim == f->quote)
        return sql_error_set(err, arena, bad, "COPY delimiter and quote must be different");
    if (!f->csv && v->escape)
        return sql_error_set(err, arena, unsup, "COPY escape available only in CSV mode");
    if (v->escape && strlen(v->escape) != 1)
        return sql_error_set(err, arena, unsup, "COPY escape must be a single one-byte character");
    if (memchr(f->null, f->delim, f->null_len))
        return sql_error_set(err, arena, bad,
                             "COPY delimiter must not appear in the NULL specification");
    if (f->csv && memchr(f->null, f->quote, f->null_len))
        return sql_error_set(err, arena, bad,
                             "CSV quote character must not appear in the NULL specification");
    return 0;
}

int sql__copy_format(const char *query, const sql_copy *c, sql__copy_fmt *f, sql_error *err,
                     kv_arena *arena)
{
    copy_opts v = {0};
    unsigned seen = 0;

    *f = (sql__copy_fmt){0};
    for (int i = 0; i < c->noptions; i++) {
        const sql_option *o = &c->options[i];
        int k = option_index(query, o, err, arena);
        if (k < 0)
            return -1;
        if (seen & (1u << k))
            return opt_error(query, o, err, arena, SQL_STATE_SYNTAX_ERROR,
                             "conflicting or redundant options");
        seen |= 1u << k;
        if (copy_option(query, o, k, f, &v, err, arena) < 0)
            return -1;
    }
    f->delim = v.delim ? v.delim[0] : f->csv ? ',' : '\t';
    f->null = v.null ? v.null : f->csv ? "" : "\\N";
    f->null_len = strlen(f->null);
    f->quote = v.quote ? v.quote[0] : '"';
    f->escape = v.escape ? v.escape[0] : f->quote;
    return check_format(f, &v, err, arena);
}

/* ---- reading records ------------------------------------------------------ */

int sql__copy_record(const sql__copy_fmt *f, const char *p, size_t len, bool at_eof, size_t *reclen,
                     size_t *used, sql_error *err, kv_arena *arena)
{
    bool quoted = false;

    for (size_t i = 0; i < len; i++) {
        char ch = p[i];
        if (!f->csv && ch == '\\') {
            i++; /* an escaped line end is data */
            continue;
        }
        if (f->csv && quoted && ch == f->escape && f->escape != f->quote && i + 1 < len &&
            (p[i + 1] == f->quote || p[i + 1] == f->escape)) {
            i++;
            continue;
        }
        if (f->csv && ch == f->quote) {
            quoted = !quoted;
            continue;
        }
        if (ch == '\n' && !quoted) {
            *reclen = i > 0 && p[i - 1] == '\r' ? i - 1 : i;
            *used = i + 1;
            return 1;
        }
    }
    if (!at_eof || len == 0)
        return 0;
    if (quoted)
        return sql_error_set(err, arena, SQL_STATE_BAD_COPY_FILE_FORMAT,
                             "unterminated CSV quoted field");
    *reclen = *used = len;
    return 1;
}

static bool is_octal(char c)
{
    return c >= '0' && c <= '7';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The byte text-format escape \<rec[*i]...> stands for; *i moves past it. */
static unsigned char unescape(const char *rec, size_t len, size_t *i)
{
    static const char from[] = "bfnrtv", to[] = "\b\f\n\r\t\v";
    char c = rec[(*i)++];
    const char *k;
    int v = 0;

    if (is_octal(c)) {
        v = c - '0';
        for (int n = 1; n < 3 && *i < len && is_octal(rec[*i]); n++)
            v = v * 8 + (rec[(*i)++] - '0');
        return (unsigned char)v;
    }
    if (c == 'x' && *i < len && hex_value(rec[*i]) >= 0) {
        for (int n = 0; n < 2 && *i < len && hex_value(rec[*i]) >= 0; n++)
            v = v * 16 + hex_value(rec[(*i)++]);
        return (unsigned char)v;
    }
    k = c ? strchr(from, c) : NULL;
    return (unsigned char)(k ? to[k - from] : c);
}

/* Splitting one record: where reading and writing are. */
typedef struct splitter {
    const sql__copy_fmt *f;
    const char *rec;
    size_t len, i;
    size_t raw;       /* where the field's raw text starts */
    char *w, *start;  /* the unescaped bytes: next, and the field's first */
    bool inq, quoted; /* CSV: inside quotes; the field had some */
    sql__copy_field *out;
    size_t k, max;
} splitter;

/* The field ends at sp->i: NULL when its raw text spells NULL (and, in
 * CSV, nothing of it was quoted). */
static int end_field(splitter *sp, sql_error *err, kv_arena *arena)
{
    const sql__copy_fmt *f = sp->f;
    size_t rawlen = sp->i - sp->raw;
    sql__copy_field *o = &sp->out[sp->k];

    if (sp->k++ == sp->max)
        return sql_error_set(err, arena, SQL_STATE_BAD_COPY_FILE_FORMAT,
                             "extra data after last expected column");
    o->isnull = !sp->quoted && rawlen == f->null_len && !memcmp(sp->rec + sp->raw, f->null, rawlen);
    o->data = sp->start;
    o->len = (size_t)(sp->w - sp->start);
    *sp->w++ = '\0';
    sp->start = sp->w;
    sp->raw = ++sp->i;
    sp->quoted = false;
    return 0;
}

/* The next text-format byte (an escape resolved); 22021 for a NUL. */
static int text_byte(splitter *sp, sql_error *err, kv_arena *arena)
{
    unsigned char b = (unsigned char)sp->rec[sp->i++];

    if (b == '\\' && sp->i < sp->len && !(b = unescape(sp->rec, sp->len, &sp->i)))
        return sql_error_set(err, arena, SQL_STATE_CHARACTER_NOT_IN_REPERTOIRE,
                             "invalid byte sequence for encoding \"UTF8\": 0x00");
    *sp->w++ = (char)b;
    return 0;
}

/* The next CSV byte: quotes open and close, ESCAPE makes a quote data. */
static void csv_byte(splitter *sp)
{
    const sql__copy_fmt *f = sp->f;
    char c = sp->rec[sp->i++];

    if (sp->inq && c == f->escape && sp->i < sp->len &&
        (sp->rec[sp->i] == f->quote || sp->rec[sp->i] == f->escape)) {
        *sp->w++ = sp->rec[sp->i++];
    } else if (c == f->quote) {
        sp->inq = !sp->inq;
        sp->quoted = true;
    } else {
        *sp->w++ = c;
    }
}

int sql__copy_split(const sql__copy_fmt *f, const char *rec, size_t len, sql__copy_field *out,
                    size_t max, size_t *n, sql_error *err, kv_arena *arena)
{
    /* unescaping never lengthens: the record plus a NUL per field fits */
    char *buf = kv_arena_alloc(arena, len + max + 2);
    splitter sp = {.f = f, .rec = rec, .len = len, .w = buf, .start = buf, .out = out, .max = max};

    if (!buf)
        return sql__oom(arena, err);
    for (;;) {
        if (sp.i == len || (rec[sp.i] == f->delim && !sp.inq)) {
            bool last = sp.i == len;
            if (end_field(&sp, err, arena) < 0)
                return -1;
            if (last)
                break;
        } else if (f->csv) {
            csv_byte(&sp);
        } else if (text_byte(&sp, err, arena) < 0) {
            return -1;
        }
    }
    *n = sp.k;
    return 0;
}

/* ---- writing records -------------------------------------------------------- */

/* Appends [p, p + n) to the malloc'd *buf (*len used of *cap). */
static int put_bytes(const char *p, size_t n, char **buf, size_t *len, size_t *cap)
{
    if (n == 0) /* *buf may still be NULL */
        return 0;
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n)
            c *= 2;
        char *b = realloc(*buf, c);
        if (!b)
            return -1;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, p, n);
    *len += n;
    return 0;
}

static int put_text(const sql__copy_fmt *f, const char *v, size_t n, char **buf, size_t *len,
                    size_t *cap)
{
    static const char from[] = "\b\f\n\r\t\v\\", to[] = "bfnrtv\\";

    for (size_t i = 0; i < n; i++) {
        const char *k = v[i] ? strchr(from, v[i]) : NULL;
        char esc[2] = {'\\', k ? to[k - from] : v[i]};
        bool escape = k || v[i] == f->delim;
        if (put_bytes(escape ? esc : &v[i], escape ? 2 : 1, buf, len, cap) < 0)
            return -1;
    }
    return 0;
}

/* PostgreSQL quotes a CSV value that could be misread: one holding the
 * delimiter, the quote, a line end, or spelling NULL. */
static int put_csv(const sql__copy_fmt *f, const char *v, size_t n, char **buf, size_t *len,
                   size_t *cap)
{
    bool quote = n == f->null_len && !memcmp(v, f->null, n);

    for (size_t i = 0; i < n && !quote; i++)
        quote = v[i] == f->delim || v[i] == f->quote || v[i] == '\n' || v[i] == '\r';
    if (!quote)
        return put_bytes(v, n, buf, len, cap);
    if (put_bytes(&f->quote, 1, buf, len, cap) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (((v[i] == f->quote || v[i] == f->escape) &&
             put_bytes(&f->escape, 1, buf, len, cap) < 0) ||
            put_bytes(&v[i], 1, buf, len, cap) < 0)
            return -1;
    return put_bytes(&f->quote, 1, buf, len, cap);
}

int sql__copy_put(const sql__copy_fmt *f, const char *v, size_t vlen, char **buf, size_t *len,
                  size_t *cap)
{
    if (!v)
        return put_bytes(f->null, f->null_len, buf, len, cap);
    return f->csv ? put_csv(f, v, vlen, buf, len, cap) : put_text(f, v, vlen, buf, len, cap);
}

/* ---- target ----------------------------------------------------------------- */

/* The table `n` (a reference the caller releases), or 42P01. */
static int open_table(sql__exec *x, const sql_name *n, const sql_table_desc **out)
{
    return sql__open_table(x->s->eng->catalog, x->s->txn, x->s->db_id, n, NULL, x->arena, out,
                           &x->err);
}

/* COPY's table, as open_table; a view is 42809 as in PostgreSQL, which
 * copies only a query's rows from it. */
static int open_copy_table(sql__exec *x, const sql_name *n, const sql_table_desc **out)
{
    if (sql__vtable_find(n->schema, n->name) != NULL)
        return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "COPY of system catalog \"%s\" is not supported yet", n->name);
    if (open_table(x, n, out) < 0)
        return -1;
    if ((*out)->view_query == NULL)
        return 0;
    bool from = x->st->u.copy.from;
    sql_error_set(&x->err, x->arena, SQL_STATE_WRONG_OBJECT_TYPE, "cannot copy %s view \"%s\"",
                  from ? "to" : "from", n->name);
    sql_error_hint(&x->err, x->arena,
                   from ? "To enable copying to a view, provide an INSTEAD OF INSERT trigger."
                        : "Try the COPY (SELECT ...) TO variant.");
    sql_table_release(*out);
    return -1;
}

static const sql_col_desc *find_column(const sql_table_desc *d, const char *name)
{
    for (uint32_t i = 0; i < d->ncols; i++)
        if (!d->cols[i].hidden && !strcmp(d->cols[i].name, name))
            return &d->cols[i];
    return NULL;
}

/* The COPY's columns: those listed, or the table's visible ones. */
static int target_columns(sql__exec *x, const sql_table_desc *d, const sql_copy *c, copy_target *t)
{
    size_t max = c->ncolumns ? (size_t)c->ncolumns : d->ncols;

    t->names = kv_arena_alloc(x->arena, (max + 1) * sizeof *t->names);
    t->types = kv_arena_alloc(x->arena, (max + 1) * sizeof *t->types);
    if (!t->names || !t->types)
        return sql__oom(x->arena, &x->err);
    t->n = 0;
    for (size_t i = 0; i < max; i++) {
        const sql_col_desc *col = c->ncolumns ? find_column(d, c->columns[i]) : &d->cols[i];
        if (!col)
            return sql_error_set(&x->err, x->arena, SQL_STATE_UNDEFINED_COLUMN,
                                 "column \"%s\" of relation \"%s\" does not exist", c->columns[i],
                                 d->name);
        for (size_t j = 0; j < t->n; j++)
            if (!strcmp(t->names[j], col->name))
                return sql_error_set(&x->err, x->arena, SQL_STATE_DUPLICATE_COLUMN,
                                     "column \"%s\" specified more than once", col->name);
        if (col->hidden)
            continue;
        t->names[t->n] = col->name;
        t->types[t->n++] = col->type;
    }
    if (t->n == 0)
        return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "COPY of a table without columns is not supported yet");
    return 0;
}

/* ---- COPY TO STDOUT --------------------------------------------------------- */

typedef struct copy_out {
    sql__exec *x;
    const sql__copy_fmt *f;
    const copy_target *cols;
    kv_arena *values; /* the rows' text, replaced every ROWS_PER_ARENA */
    char *line;       /* malloc'd */
    size_t len, cap;
    uint64_t count;
} copy_out;

/* Sends the line built in o->line, ending it first. */
static int send_line(copy_out *o)
{
    sql__exec *x = o->x;

    if (put_bytes("\n", 1, &o->line, &o->len, &o->cap) < 0)
        return sql__oom(x->arena, &x->err);
    int rc = x->sink->copy_data(x->sink->ctx, o->line, o->len);
    o->len = 0;
    return rc < 0 ? sql__sink_failed(x, rc) : 0;
}

static int put_value(copy_out *o, size_t i, const char *v, size_t n)
{
    if ((i > 0 && put_bytes(&o->f->delim, 1, &o->line, &o->len, &o->cap) < 0) ||
        sql__copy_put(o->f, v, n, &o->line, &o->len, &o->cap) < 0)
        return sql__oom(o->x->arena, &o->x->err);
    return 0;
}

static int out_row(void *arg, const sql_datum *vals, size_t n, sql_error *err)
{
    copy_out *o = arg;
    sql_io_ctx io = sql__session_io(o->x->s);

    if (o->count++ % ROWS_PER_ARENA == 0) {
        kv_arena_destroy(o->values);
        if (kv_arena_create(&o->values) < 0) {
            o->values = NULL;
            return sql__oom(o->x->arena, err);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *t = NULL;
        size_t len = 0;
        if (!vals[i].isnull &&
            sql_datum_to_text(o->cols->types[i], &vals[i], &io, o->values, &t, &len, err) < 0) {
            sql_error_move(err, o->x->arena); /* o->values is recycled */
            return -1;
        }
        if (put_value(o, i, t, len) < 0) {
            *err = o->x->err;
            return -1;
        }
    }
    if (send_line(o) < 0) {
        *err = o->x->err;
        return -1;
    }
    return 0;
}

static int out_header(copy_out *o)
{
    for (size_t i = 0; i < o->cols->n; i++)
        if (put_value(o, i, o->cols->names[i], strlen(o->cols->names[i])) < 0)
            return -1;
    return send_line(o);
}

/* SELECT cols FROM t, planned in x->arena. */
static int plan_select(sql__exec *x, const sql_name *table, const copy_target *t, sql_plan **out)
{
    sql_target *targets = kv_arena_alloc(x->arena, t->n * sizeof *targets);
    sql_expr *cols = kv_arena_alloc(x->arena, t->n * sizeof *cols);
    sql_params none = {0};

    if (!targets || !cols)
        return sql__oom(x->arena, &x->err);
    for (size_t i = 0; i < t->n; i++) {
        cols[i] = (sql_expr){.kind = SQL_EXPR_COLUMN, .location = -1, .column = t->names[i]};
        targets[i] = (sql_target){.expr = &cols[i], .location = -1};
    }
    sql_stmt sel = {
        .kind = SQL_STMT_SELECT,
        .location = -1,
        .u.select = {.targets = targets, .ntargets = (int)t->n, .has_from = true, .from = *table}};
    return sql__internal_plan(x, &sel, &none, out);
}

static int copy_to(sql__exec *x, const sql__copy_fmt *f, const copy_target *t)
{
    copy_out o = {.x = x, .f = f, .cols = t};
    sql_plan *p;
    uint64_t n;
    int rc;

    if (plan_select(x, &x->st->u.copy.table, t, &p) < 0)
        return -1;
    rc = x->sink->copy_start(x->sink->ctx, false, t->n);
    if (rc < 0) {
        rc = sql__sink_failed(x, rc);
        goto out_free_plan;
    }
    x->nsent++; /* output went out: no retry */
    rc = f->header ? out_header(&o) : 0;
    if (rc == 0)
        rc = sql__internal_run(x, p, NULL, NULL, out_row, &o, &n);
    if (rc == 0 && (rc = x->sink->copy_done(x->sink->ctx)) < 0)
        rc = sql__sink_failed(x, rc);
    snprintf(x->tag, sizeof x->tag, "COPY %llu", (unsigned long long)o.count);
    free(o.line);
    kv_arena_destroy(o.values);
out_free_plan:
    sql__plan_free(p);
    return rc;
}

/* ---- COPY FROM STDIN: start and end ---------------------------------------- */

void sql__copy_free(sql_session *s)
{
    copy_in *cp = s->copy;

    if (!cp)
        return;
    s->copy = NULL;
    sql__plan_free(cp->plan);
    kv_arena_destroy(cp->rows);
    kv_arena_destroy(cp->arena);
    free(cp->buf);
    free(cp);
    sql__stmt_end(s);
}

static const char *dup_str(kv_arena *a, const char *s)
{
    return s ? kv_arena_strdup(a, s) : NULL;
}

/* Copies what the COPY needs past the statement's arena into cp->arena. */
static int keep_target(copy_in *cp, const sql__exec *x, const copy_target *t)
{
    kv_arena *a = cp->arena;
    size_t n = t->n;
    const sql_name *tn = &x->st->u.copy.table;

    cp->query = dup_str(a, x->query);
    cp->table = (sql_name){dup_str(a, tn->schema), dup_str(a, tn->name), -1};
    cp->cols.n = n;
    cp->cols.names = kv_arena_alloc(a, n * sizeof *cp->cols.names);
    cp->cols.types = kv_arena_dup(a, t->types, n * sizeof *t->types);
    cp->batch_rows = n > MAX_PARAMS / BATCH_ROWS ? MAX_PARAMS / n : BATCH_ROWS;
    cp->vals = kv_arena_alloc(a, cp->batch_rows * n * sizeof *cp->vals);
    cp->param_types = kv_arena_alloc(a, cp->batch_rows * n * sizeof *cp->param_types);
    if (!cp->query || !cp->table.name || !cp->cols.names || !cp->cols.types || !cp->vals ||
        !cp->param_types)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(cp->cols.names[i] = dup_str(a, t->names[i])))
            return -1;
    for (size_t i = 0; i < cp->batch_rows * n; i++)
        cp->param_types[i] = t->types[i % n];
    return 0;
}

static int copy_from(sql__exec *x, const sql__copy_fmt *f, const copy_target *t)
{
    copy_in *cp;

    if (x->s->read_only)
        return sql_error_set(&x->err, x->arena, SQL_STATE_READ_ONLY_SQL_TRANSACTION,
                             "cannot execute COPY FROM in a read-only transaction");
    if (!(cp = calloc(1, sizeof *cp)))
        return sql__oom(x->arena, &x->err);
    if (kv_arena_create(&cp->arena) < 0) {
        sql__oom(x->arena, &x->err);
        goto out_free;
    }
    if (kv_arena_create(&cp->rows) < 0) {
        sql__oom(x->arena, &x->err);
        goto out_free_arena;
    }
    cp->fmt = *f;
    cp->skip_header = f->header;
    if (keep_target(cp, x, t) < 0 || !(cp->fmt.null = dup_str(cp->arena, f->null))) {
        sql__oom(x->arena, &x->err);
        goto out_free_rows;
    }
    int rc = x->sink->copy_start(x->sink->ctx, true, t->n);
    if (rc < 0) {
        sql__sink_failed(x, rc);
        goto out_free_rows;
    }
    x->s->copy = cp;
    return 0;
out_free_rows:
    kv_arena_destroy(cp->rows);
out_free_arena:
    kv_arena_destroy(cp->arena);
out_free:
    free(cp);
    return -1;
}

int sql__copy(sql__exec *x)
{
    const sql_copy *c = &x->st->u.copy;
    const sql_table_desc *d;
    sql__copy_fmt f;
    copy_target t;
    int rc;

    if (!x->describe || !x->sink->copy_start)
        return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "COPY in the extended query protocol is not supported yet");
    if (sql__copy_format(x->query, c, &f, &x->err, x->arena) < 0 ||
        open_copy_table(x, &c->table, &d) < 0)
        return -1;
    /* the target's names are the descriptor's until copy_from keeps them */
    rc = target_columns(x, d, c, &t);
    if (rc == 0)
        rc = c->from ? copy_from(x, &f, &t) : copy_to(x, &f, &t);
    sql_table_release(d);
    return rc;
}

/* ---- COPY FROM STDIN: rows ------------------------------------------------- */

/* Inserts the rows held; the full batch's plan is kept for the next. */
static int insert_rows(sql__exec *x, copy_in *cp)
{
    bool full = cp->nrows == cp->batch_rows;
    sql_plan *p = full ? cp->plan : NULL;
    uint64_t n = 0;

    if (cp->nrows == 0)
        return 0;
    if (!p && sql__plan_insert_rows(x, &cp->table, cp->cols.names, cp->param_types, cp->cols.n,
                                    cp->nrows, full ? cp->arena : cp->rows, &p) < 0)
        return -1;
    if (full)
        cp->plan = p;
    kv_arena *call = x->arena;
    x->arena = cp->rows; /* the run's memory goes with the batch */
    int rc = sql__internal_run(x, p, cp->vals, cp->param_types, NULL, NULL, &n);
    x->arena = call;
    if (!full)
        sql__plan_free(p);
    if (rc < 0)
        return -1;
    cp->count += n;
    cp->nrows = 0;
    kv_arena_destroy(cp->rows);
    if (kv_arena_create(&cp->rows) < 0) {
        cp->rows = NULL;
        return sql__oom(x->arena, &x->err);
    }
    return 0;
}

/* One record: skipped (header), the end marker, or a row for the batch. */
static int copy_record(sql__exec *x, copy_in *cp, const char *rec, size_t len)
{
    size_t ncols = cp->cols.n, n;
    sql__copy_field *fields;
    sql_io_ctx io = sql__session_io(x->s);
    sql_datum *row = &cp->vals[cp->nrows * ncols];

    if (cp->skip_header) {
        cp->skip_header = false;
        return 0;
    }
    if (len == 2 && rec[0] == '\\' && rec[1] == '.') {
        cp->ended = true;
        return 0;
    }
    if (!(fields = kv_arena_alloc(cp->rows, ncols * sizeof *fields)))
        return sql__oom(x->arena, &x->err);
    if (sql__copy_split(&cp->fmt, rec, len, fields, ncols, &n, &x->err, cp->rows) < 0)
        return -1;
    if (n < ncols)
        return sql_error_set(&x->err, x->arena, SQL_STATE_BAD_COPY_FILE_FORMAT,
                             "missing data for column \"%s\"", cp->cols.names[n]);
    for (size_t i = 0; i < ncols; i++) {
        row[i] = (sql_datum){.isnull = true};
        if (!fields[i].isnull &&
            sql_datum_from_text(cp->cols.types[i], fields[i].data, fields[i].len, &io, cp->rows,
                                &row[i], &x->err) < 0)
            return -1;
    }
    return ++cp->nrows == cp->batch_rows ? insert_rows(x, cp) : 0;
}

/* Takes the complete records out of cp->buf (all of it at the end). */
static int copy_records(sql__exec *x, copy_in *cp, bool at_eof)
{
    size_t off = 0, reclen, used;
    int rc = 0;

    if (cp->len == 0) /* nothing buffered (buf may be NULL) */
        return 0;
    while (!cp->ended && (rc = sql__copy_record(&cp->fmt, cp->buf + off, cp->len - off, at_eof,
                                                &reclen, &used, &x->err, x->arena)) == 1) {
        rc = copy_record(x, cp, cp->buf + off, reclen);
        if (rc < 0)
            break;
        off += used;
    }
    cp->len = cp->ended ? 0 : cp->len - off;
    memmove(cp->buf, cp->buf + off, cp->len);
    return rc < 0 ? -1 : 0;
}

/* The COPY failed: report, roll back, forget it. */
static int copy_failed(sql__exec *x)
{
    int rc = sql__exec_report(x);

    sql__txn_fail(x->s);
    sql__copy_free(x->s);
    return rc;
}

/* What a call does to the COPY in progress: the CopyData bytes, or the
 * end (CopyFail's message, NULL for CopyDone). */
typedef int (*copy_step_fn)(sql__exec *x, copy_in *cp, const char *bytes, size_t len);

/* Runs `step` over the COPY in progress with a fresh exec record whose
 * arena lives for the call; a failure ends the COPY. */
static int copy_step(sql_session *s, const sql_sink *sink, const char *bytes, size_t len,
                     copy_step_fn step)
{
    sql__exec x = {.s = s, .sink = sink, .query = s->copy->query, .describe = true};
    int rc;

    assert(s->copy);
    if (kv_arena_create(&x.arena) < 0) {
        static const sql_error oom = {.state = SQL_STATE_OUT_OF_MEMORY, .message = "out of memory"};
        sql__txn_fail(s);
        sql__copy_free(s);
        return sink->error(sink->ctx, &oom);
    }
    rc = step(&x, s->copy, bytes, len);
    if (rc < 0)
        rc = copy_failed(&x);
    kv_arena_destroy(x.arena);
    return rc < 0 ? rc : 0;
}

static int step_data(sql__exec *x, copy_in *cp, const char *data, size_t len)
{
    if (cp->ended)
        return 0;
    if (put_bytes(data, len, &cp->buf, &cp->len, &cp->cap) < 0)
        return sql__oom(x->arena, &x->err);
    return copy_records(x, cp, false);
}

static int step_end(sql__exec *x, copy_in *cp, const char *fail, size_t len)
{
    (void)len;
    if (fail)
        return sql_error_set(&x->err, x->arena, SQL_STATE_QUERY_CANCELED,
                             "COPY from stdin failed: %s", fail);
    if (copy_records(x, cp, true) < 0 || insert_rows(x, cp) < 0)
        return -1;
    snprintf(x->tag, sizeof x->tag, "COPY %llu", (unsigned long long)cp->count);
    if (x->s->state == SQL__TXN_IMPLICIT && sql__txn_end(x->s, true, &x->err, x->arena) < 0)
        return -1;
    sql__copy_free(x->s);
    return sql__exec_complete(x);
}

bool sql_session_copy_active(const sql_session *s)
{
    return s->copy != NULL;
}

int sql_session_copy_data(sql_session *s, const void *data, size_t len, const sql_sink *sink)
{
    return copy_step(s, sink, (const char *)data, len, step_data);
}

int sql_session_copy_end(sql_session *s, const char *fail, const sql_sink *sink)
{
    return copy_step(s, sink, fail, 0, step_end);
}

/* ---- VACUUM, ANALYZE ------------------------------------------------------- */

int sql__vacuum(sql__exec *x)
{
    const sql_table_list *l = &x->st->u.tables;
    bool vacuum = x->st->kind == SQL_STMT_VACUUM;

    snprintf(x->tag, sizeof x->tag, "%s", vacuum ? "VACUUM" : "ANALYZE");
    /* a multi-statement query string is an implicit block (not the last
     * statement of it, or one after a statement that began it) */
    if (vacuum && (x->s->state != SQL__TXN_IDLE || !x->ends_implicit))
        return sql_error_set(&x->err, x->arena, SQL_STATE_ACTIVE_SQL_TRANSACTION,
                             "VACUUM cannot run inside a transaction block");
    for (int i = 0; i < l->ntables; i++) {
        const sql_table_desc *d;
        if (open_table(x, &l->tables[i], &d) < 0)
            return -1;
        sql_table_release(d);
    }
    return 0;
}
