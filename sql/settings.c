/*
 * settings.c - session settings: SET, RESET, SHOW and startup parameters.
 *
 * One table lists every setting a client may name: its canonical
 * spelling (what SHOW's column and ParameterStatus use; lookups ignore
 * case as PostgreSQL's do), its boot value, a description for SHOW ALL,
 * flags, and a check function that validates a new value, normalises it
 * and applies its side effect on the session (time zone, timeout, read
 * only). Values are kept as strings, one malloc'd string per setting.
 *
 * Settings in PostgreSQL's GUC_REPORT list carry REPORT: a change goes to
 * sink->param so pgwire sends ParameterStatus. What this server cannot do
 * (other DateStyles, IntervalStyles, encodings) is refused rather than
 * silently ignored; isolation levels all run as SERIALIZABLE and say so.
 * SET is not transactional here (a ROLLBACK does not undo it) and SET
 * LOCAL is refused with 0A000.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/session_int.h"

enum {
    REPORT = 1,   /* GUC_REPORT: ParameterStatus on change */
    READONLY = 2, /* SET fails with 55P02 */
    LIST = 4,     /* GUC_LIST_INPUT: SET x = a, b */
};

typedef struct setting_def setting_def;

/* Validates `in`, applies it to `s` and sets *out to the value SHOW
 * prints (malloc'd; the caller owns it). -1 with `err` set. */
typedef int (*check_fn)(sql_session *s, const setting_def *g, const char *in, char **out,
                        sql_error *err, kv_arena *a);

struct setting_def {
    const char *name;
    const char *boot; /* is_superuser, session_authorization: from the session */
    const char *desc;
    unsigned flags;
    check_fn check;
};

static int invalid(const setting_def *g, const char *in, sql_error *err, kv_arena *a)
{
    return sql_error_set(err, a, SQL_STATE_INVALID_PARAMETER_VALUE,
                         "invalid value for parameter \"%s\": \"%s\"", g->name, in);
}

static int dup_out(const char *v, char **out, sql_error *err, kv_arena *a)
{
    if (!(*out = strdup(v)))
        return sql__oom(a, err);
    return 0;
}

static int check_any(sql_session *s, const setting_def *g, const char *in, char **out,
                     sql_error *err, kv_arena *a)
{
    (void)s, (void)g;
    return dup_out(in, out, err, a);
}

/* Case-insensitive equality ignoring '-' and '_' ("UTF-8" = "utf8"). */
static bool loose_eq(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-' || *a == '_')
            a++;
        while (*b == '-' || *b == '_')
            b++;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        if (!*a)
            return true;
        a++, b++;
    }
}

static int check_encoding(sql_session *s, const setting_def *g, const char *in, char **out,
                          sql_error *err, kv_arena *a)
{
    (void)s;
    if (!loose_eq(in, "utf8") && !loose_eq(in, "unicode"))
        return invalid(g, in, err, a);
    return dup_out("UTF8", out, err, a);
}

/* DateStyle: a list of an output style and an order; only ISO and MDY. */
static int check_datestyle(sql_session *s, const setting_def *g, const char *in, char **out,
                           sql_error *err, kv_arena *a)
{
    static const char *const other[] = {"sql", "postgres", "german",   "dmy",
                                        "ymd", "euro",     "european", "default"};
    char word[32];
    const char *p = in;
    int n;

    (void)s;
    while (sscanf(p, " %31[^, ]%n", word, &n) == 1) {
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
        if (!strcasecmp(word, "iso") || !strcasecmp(word, "mdy") || !strcasecmp(word, "us") ||
            !strcasecmp(word, "noneuropean"))
            continue;
        for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
            if (!strcasecmp(word, other[i]))
                return sql_error_set(err, a, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                     "setting DateStyle to \"%s\" is not supported", word);
        for (char *w = word; *w; w++)
            *w = (char)tolower((unsigned char)*w);
        invalid(g, in, err, a);
        sql_error_detail(err, a, "Unrecognized key word: \"%s\".", word);
        return -1;
    }
    return dup_out("ISO, MDY", out, err, a);
}

static int check_intervalstyle(sql_session *s, const setting_def *g, const char *in, char **out,
                               sql_error *err, kv_arena *a)
{
    (void)s;
    if (!strcasecmp(in, "postgres"))
        return dup_out("postgres", out, err, a);
    if (!strcasecmp(in, "postgres_verbose") || !strcasecmp(in, "sql_standard") ||
        !strcasecmp(in, "iso_8601"))
        return sql_error_set(err, a, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "setting IntervalStyle to \"%s\" is not supported", in);
    invalid(g, in, err, a);
    sql_error_hint(err, a, "Available values: postgres, postgres_verbose, sql_standard, iso_8601.");
    return -1;
}

static int check_timezone(sql_session *s, const setting_def *g, const char *in, char **out,
                          sql_error *err, kv_arena *a)
{
    kv_arena *za;
    const sql_tz *tz;
    sql_error ignored = {0};

    if (kv_arena_create(&za) < 0)
        return sql__oom(a, err);
    if (sql_tz_open(in, za, &tz, &ignored) < 0 || dup_out(in, out, err, a) < 0) {
        kv_arena_destroy(za);
        return err->state ? -1 : invalid(g, in, err, a);
    }
    kv_arena_destroy(s->tz_arena);
    s->tz_arena = za;
    s->tz = tz;
    return 0;
}

static int check_float_digits(sql_session *s, const setting_def *g, const char *in, char **out,
                              sql_error *err, kv_arena *a)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(in, &end, 10);
    if (end == in || *end || errno)
        return invalid(g, in, err, a);
    if (v < -15 || v > 3)
        return sql_error_set(err, a, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "%ld is outside the valid range for parameter \"%s\" (-15 .. 3)", v,
                             g->name);
    char buf[8];
    snprintf(buf, sizeof buf, "%ld", v);
    if (dup_out(buf, out, err, a) < 0)
        return -1;
    s->float_digits_offset = (int)v - 1;
    return 0;
}

sql_io_ctx sql__session_io(const sql_session *s)
{
    return (sql_io_ctx){.tz = s->tz, .float_digits_offset = s->float_digits_offset};
}

/* statement_timeout units, largest first (PostgreSQL prints the largest
 * that divides the value). */
static const struct {
    const char *unit;
    int64_t ms;
} units[] = {{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}, {"ms", 1}};

static int check_timeout(sql_session *s, const setting_def *g, const char *in, char **out,
                         sql_error *err, kv_arena *a)
{
    char *end;
    int64_t ms = -1;
    char buf[32];

    errno = 0;
    long long v = strtoll(in, &end, 10);
    while (*end == ' ')
        end++;
    for (size_t i = 0; end != in && !errno && v >= 0 && i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].unit) || (!*end && units[i].ms == 1))
            ms = v <= INT32_MAX / units[i].ms ? v * units[i].ms : -1;
    if (ms < 0) {
        invalid(g, in, err, a);
        if (end != in) /* PostgreSQL hints at units only after a number */
            sql_error_hint(err, a,
                           "Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", "
                           "\"h\", and \"d\".");
        return -1;
    }
    snprintf(buf, sizeof buf, "0");
    for (size_t i = 0; ms > 0 && i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].ms == 0) {
            snprintf(buf, sizeof buf, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            break;
        }
    if (dup_out(buf, out, err, a) < 0)
        return -1;
    s->timeout_ms = ms;
    return 0;
}

/* Every level is accepted and runs as SERIALIZABLE. */
static int check_isolation(sql_session *s, const setting_def *g, const char *in, char **out,
                           sql_error *err, kv_arena *a)
{
    (void)s;
    if (strcasecmp(in, "serializable") && strcasecmp(in, "repeatable read") &&
        strcasecmp(in, "read committed") && strcasecmp(in, "read uncommitted")) {
        invalid(g, in, err, a);
        sql_error_hint(err, a,
                       "Available values: serializable, repeatable read, read "
                       "committed, read uncommitted.");
        return -1;
    }
    return dup_out("serializable", out, err, a);
}

/* PostgreSQL's boolean spellings; -1 for none. */
static int parse_bool(const char *in)
{
    static const char *const t[] = {"on", "true", "yes", "1", "t", "y"};
    static const char *const f[] = {"off", "false", "no", "0", "f", "n"};

    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!strcasecmp(in, t[i]))
            return 1;
        if (!strcasecmp(in, f[i]))
            return 0;
    }
    return -1;
}

static int bool_value(const setting_def *g, const char *in, sql_error *err, kv_arena *a)
{
    int b = parse_bool(in);

    if (b < 0)
        return sql_error_set(err, a, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "parameter \"%s\" requires a Boolean value", g->name);
    return b;
}

static int check_on_only(sql_session *s, const setting_def *g, const char *in, char **out,
                         sql_error *err, kv_arena *a)
{
    int b = bool_value(g, in, err, a);

    (void)s;
    if (b < 0)
        return -1;
    if (!b)
        return sql_error_set(err, a, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "setting %s to off is not supported", g->name);
    return dup_out("on", out, err, a);
}

static int check_read_only(sql_session *s, const setting_def *g, const char *in, char **out,
                           sql_error *err, kv_arena *a)
{
    int b = bool_value(g, in, err, a);

    if (b < 0 || dup_out(b ? "on" : "off", out, err, a) < 0)
        return -1;
    s->default_read_only = b;
    return 0;
}

static int check_c_locale(sql_session *s, const setting_def *g, const char *in, char **out,
                          sql_error *err, kv_arena *a)
{
    (void)s;
    if (strcmp(in, "C") && strcmp(in, "POSIX"))
        return invalid(g, in, err, a);
    return dup_out("C", out, err, a);
}

/* Sorted by name, as SHOW ALL lists them. */
static const setting_def table[] = {
    {"application_name", "", "Sets the application name to be reported in statistics and logs.",
     REPORT, check_any},
    {"client_encoding", "UTF8", "Sets the client's character set encoding.", REPORT,
     check_encoding},
    {"DateStyle", "ISO, MDY", "Sets the display format for date and time values.", REPORT | LIST,
     check_datestyle},
    {"default_transaction_isolation", "serializable",
     "Sets the transaction isolation level of each new transaction.", 0, check_isolation},
    {"default_transaction_read_only", "off",
     "Sets the default read-only status of new transactions.", REPORT, check_read_only},
    {"extra_float_digits", "1", "Sets the number of digits displayed for floating-point values.", 0,
     check_float_digits},
    {"in_hot_standby", "off", "Shows whether hot standby is currently active.", REPORT | READONLY,
     NULL},
    {"integer_datetimes", "on", "Shows whether datetimes are integer based.", REPORT | READONLY,
     NULL},
    {"IntervalStyle", "postgres", "Sets the display format for interval values.", REPORT,
     check_intervalstyle},
    {"is_superuser", "off", "Shows whether the current user is a superuser.", REPORT | READONLY,
     NULL},
    {"lc_collate", "C", "Shows the collation order locale.", READONLY, NULL},
    {"lc_ctype", "C", "Shows the character classification and case conversion locale.", READONLY,
     NULL},
    {"lc_messages", "C", "Sets the language in which messages are displayed.", 0, check_c_locale},
    {"lc_monetary", "C", "Sets the locale for formatting monetary amounts.", 0, check_c_locale},
    {"lc_numeric", "C", "Sets the locale for formatting numbers.", 0, check_c_locale},
    {"lc_time", "C", "Sets the locale for formatting date and time values.", 0, check_c_locale},
    {"max_identifier_length", "63", "Shows the maximum identifier length.", READONLY, NULL},
    {"search_path", "\"$user\", public",
     "Sets the schema search order for names that are not schema-qualified.", LIST, check_any},
    {"server_encoding", "UTF8", "Shows the server (database) character set encoding.",
     REPORT | READONLY, NULL},
    {"server_version", "15.18", "Shows the server version.", REPORT | READONLY, NULL},
    {"session_authorization", "", "Sets the session user name.", REPORT | READONLY, NULL},
    {"standard_conforming_strings", "on", "Causes '...' strings to treat backslashes literally.",
     REPORT, check_on_only},
    {"statement_timeout", "0", "Sets the maximum allowed duration of any statement.", 0,
     check_timeout},
    {"TimeZone", "UTC", "Sets the time zone for displaying and interpreting time stamps.", REPORT,
     check_timezone},
    {"transaction_isolation", "serializable",
     "Sets the current transaction's isolation level (always serializable).", 0, check_isolation},
};
#define NSETTINGS (sizeof table / sizeof table[0])

static int lookup(const char *name)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (!strcasecmp(table[i].name, name))
            return (int)i;
    return -1;
}

const char *sql_session_setting(sql_session *s, const char *name)
{
    int i = lookup(name);
    return i < 0 ? NULL : s->values[i];
}

int sql__settings_init(sql_session *s)
{
    if (!(s->values = calloc(NSETTINGS, sizeof *s->values)))
        return -1;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = table[i].boot;
        if (!strcmp(table[i].name, "is_superuser"))
            v = s->superuser ? "on" : "off";
        else if (!strcmp(table[i].name, "session_authorization"))
            v = s->user;
        if (!(s->values[i] = strdup(v)))
            goto out_free;
    }
    s->tz = sql_tz_utc();
    return 0;
out_free:
    sql__settings_free(s);
    return -1;
}

void sql__settings_free(sql_session *s)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        free(s->values ? s->values[i] : NULL);
        free(s->resets ? s->resets[i] : NULL);
    }
    free(s->values);
    free(s->resets);
    s->values = NULL;
    s->resets = NULL;
    kv_arena_destroy(s->tz_arena);
    s->tz_arena = NULL;
}

/* Sets setting i to `in`, reporting a change of a REPORT one to `sink`
 * (NULL: none). */
static int set_value(sql_session *s, int i, const char *in, const sql_sink *sink, sql_error *err,
                     kv_arena *a)
{
    const setting_def *g = &table[i];
    char *v;

    if (g->flags & READONLY)
        return sql_error_set(err, a, SQL_STATE_CANT_CHANGE_RUNTIME_PARAM,
                             "parameter \"%s\" cannot be changed", g->name);
    if (g->check(s, g, in, &v, err, a) < 0)
        return -1;
    bool changed = strcmp(v, s->values[i]) != 0;
    free(s->values[i]);
    s->values[i] = v;
    if (changed && (g->flags & REPORT) && sink && sink->param(sink->ctx, g->name, v) < 0)
        return sql_error_set(err, a, SQL_STATE_CONNECTION_FAILURE, "the client went away");
    return 0;
}

static int unknown(const char *name, sql_error *err, kv_arena *a)
{
    return sql_error_set(err, a, SQL_STATE_UNDEFINED_OBJECT,
                         "unrecognized configuration parameter \"%s\"", name);
}

/* -c name=value and --name=value words of the `options` startup
 * parameter ('-' in names reads as '_', as in PostgreSQL). */
static int startup_options(sql_session *s, const char *opts, sql_error *err, kv_arena *a)
{
    char word[256];
    const char *p = opts;
    int n;
    bool after_c = false;

    while (sscanf(p, " %255s%n", word, &n) == 1) {
        p += n;
        char *kv = word;
        if (!strcmp(word, "-c")) {
            after_c = true;
            continue;
        }
        if (!after_c && !strncmp(kv, "--", 2))
            kv += 2;
        else if (!after_c && !strncmp(kv, "-c", 2))
            kv += 2;
        else if (!after_c)
            return sql_error_set(err, a, SQL_STATE_FEATURE_NOT_SUPPORTED,
                                 "startup option \"%s\" is not supported", word);
        after_c = false;
        char *eq = strchr(kv, '=');
        if (!eq)
            return sql_error_set(err, a, SQL_STATE_SYNTAX_ERROR,
                                 "invalid command-line argument: %s", word);
        *eq = '\0';
        for (char *q = kv; *q; q++)
            *q = *q == '-' ? '_' : *q;
        int i = lookup(kv);
        if (i < 0)
            return unknown(kv, err, a);
        if (set_value(s, i, eq + 1, NULL, err, a) < 0)
            return -1;
    }
    return 0;
}

/* Records the current values as what RESET restores. */
static int save_resets(sql_session *s, sql_error *err, kv_arena *a)
{
    if (!(s->resets = calloc(NSETTINGS, sizeof *s->resets)))
        return sql__oom(a, err);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (!(s->resets[i] = strdup(s->values[i])))
            return sql__oom(a, err);
    return 0;
}

int sql__settings_startup(sql_session *s, size_t n, const char *const *names,
                          const char *const *values, sql_error *err, kv_arena *a)
{
    for (size_t j = 0; j < n; j++) {
        /* pgwire passes the whole startup packet; these are its own */
        if (!strcmp(names[j], "user") || !strcmp(names[j], "database") ||
            !strcmp(names[j], "replication") || !strncmp(names[j], "_pq_.", 5))
            continue;
        if (!strcmp(names[j], "options")) {
            if (startup_options(s, values[j], err, a) < 0)
                return -1;
            continue;
        }
        int i = lookup(names[j]);
        if (i < 0)
            return unknown(names[j], err, a);
        if (set_value(s, i, values[j], NULL, err, a) < 0)
            return -1;
    }
    return save_resets(s, err, a);
}

/* Whether a search_path element needs double quotes to read back. */
static bool needs_quotes(const char *v)
{
    if (!*v || isdigit((unsigned char)*v))
        return true;
    for (const char *p = v; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            return true;
    return false;
}

/* SET's values as one string: list settings join them with ", ". */
static const char *set_arg(sql__exec *x, int i)
{
    const sql_set *set = &x->st->u.set;
    size_t len = 1;

    if (set->nvalues == 1 && !(table[i].flags & LIST))
        return set->values[0];
    if (!(table[i].flags & LIST)) {
        sql_error_set(&x->err, x->arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                      "SET %s takes only one argument", set->name);
        return NULL;
    }
    for (int j = 0; j < set->nvalues; j++)
        len += strlen(set->values[j]) + 4;
    char *out = kv_arena_alloc(x->arena, len), *p = out;
    if (!out) {
        sql__oom(x->arena, &x->err);
        return NULL;
    }
    *p = '\0';
    for (int j = 0; j < set->nvalues; j++) {
        const char *v = set->values[j];
        bool q = !strcmp(table[i].name, "search_path") && needs_quotes(v);
        p += sprintf(p, "%s%s%s%s", j ? ", " : "", q ? "\"" : "", v, q ? "\"" : "");
    }
    return out;
}

static int reset_all(sql__exec *x)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (!(table[i].flags & READONLY) &&
            set_value(x->s, (int)i, x->s->resets[i], x->sink, &x->err, x->arena) < 0)
            return -1;
    return 0;
}

/* SET TRANSACTION and SET SESSION CHARACTERISTICS: isolation levels are
 * all serializable; READ ONLY is kept. */
static int set_transaction(sql__exec *x)
{
    const sql_set *set = &x->st->u.set;
    sql_session *s = x->s;

    if (set->kind == SQL_SET_SESSION_DEFAULTS) {
        if (set->modes.read_only < 0)
            return 0;
        return set_value(s, lookup("default_transaction_read_only"),
                         set->modes.read_only ? "on" : "off", x->sink, &x->err, x->arena);
    }
    if (s->state != SQL__TXN_BLOCK)
        return sql__notice(x, SQL_STATE_NO_ACTIVE_SQL_TRANSACTION, SQL_SEV_WARNING,
                           "SET TRANSACTION can only be used in transaction blocks");
    if (set->modes.read_only >= 0)
        s->read_only = set->modes.read_only;
    return 0;
}

int sql__set(sql__exec *x)
{
    const sql_set *set = &x->st->u.set;
    int i;

    snprintf(x->tag, sizeof x->tag, "%s",
             set->kind == SQL_SET_RESET || set->kind == SQL_SET_RESET_ALL ? "RESET" : "SET");
    if (set->kind == SQL_SET_TRANSACTION || set->kind == SQL_SET_SESSION_DEFAULTS)
        return set_transaction(x);
    if (set->kind == SQL_SET_RESET_ALL)
        return reset_all(x);
    if (set->is_local)
        return sql_error_set(&x->err, x->arena, SQL_STATE_FEATURE_NOT_SUPPORTED,
                             "SET LOCAL is not supported yet");
    if ((i = lookup(set->name)) < 0)
        return unknown(set->name, &x->err, x->arena);
    const char *v = set->kind == SQL_SET_VALUE ? set_arg(x, i) : x->s->resets[i];
    if (!v)
        return -1;
    return set_value(x->s, i, v, x->sink, &x->err, x->arena);
}

static const sql_column_info show_all_cols[] = {
    {.name = "name", .type = {SQL_T_TEXT, -1}},
    {.name = "setting", .type = {SQL_T_TEXT, -1}},
    {.name = "description", .type = {SQL_T_TEXT, -1}},
};

static sql_datum text_datum(const char *v)
{
    return (sql_datum){.v.s = {(const uint8_t *)v, strlen(v)}};
}

int sql__utility_columns(const sql_stmt *st, const sql_column_info **cols, size_t *n,
                         kv_arena *arena)
{
    const char *name;
    sql_column_info *c;

    if (st->kind == SQL_STMT_EXPLAIN) {
        *cols = &sql__explain_column;
        *n = 1;
        return 0;
    }
    if (st->kind != SQL_STMT_SHOW) {
        *n = 0;
        return 0;
    }
    if (!strcmp(st->u.show, "all")) {
        *cols = show_all_cols;
        *n = 3;
        return 0;
    }
    int i = lookup(st->u.show);
    name = i < 0 ? st->u.show : table[i].name;
    if (!(c = kv_arena_alloc(arena, sizeof *c)))
        return -1;
    *c = (sql_column_info){.name = name, .type = {SQL_T_TEXT, -1}};
    *cols = c;
    *n = 1;
    return 0;
}

int sql__show(sql__exec *x)
{
    const char *name = x->st->u.show;
    const sql_column_info *cols;
    size_t ncols;

    snprintf(x->tag, sizeof x->tag, "SHOW");
    if (strcmp(name, "all") != 0) {
        int i = lookup(name);
        if (i < 0)
            return unknown(name, &x->err, x->arena);
        sql_datum d = text_datum(x->s->values[i]);
        if (sql__utility_columns(x->st, &cols, &ncols, x->arena) < 0)
            return sql__oom(x->arena, &x->err);
        return sql__emit_row(x, cols, &d, 1);
    }
    for (size_t i = 0; i < NSETTINGS; i++) {
        sql_datum row[3] = {text_datum(table[i].name), text_datum(x->s->values[i]),
                            text_datum(table[i].desc)};
        if (sql__emit_row(x, show_all_cols, row, 3) < 0)
            return -1;
    }
    return 0;
}
