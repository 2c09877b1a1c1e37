/*
 * sql_error.c - the SQLSTATE table and error construction (sql_error.h).
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sql/sql_error.h"

static const char *const sqlstate_codes[SQL_STATE_COUNT] = {
#define SQL__X(name, code) [SQL_STATE_##name] = code,
    SQL_SQLSTATE_MAP(SQL__X)
#undef SQL__X
};

static const char *const severity_names[] = {
    [SQL_SEV_ERROR] = "ERROR",     [SQL_SEV_FATAL] = "FATAL",   [SQL_SEV_PANIC] = "PANIC",
    [SQL_SEV_WARNING] = "WARNING", [SQL_SEV_NOTICE] = "NOTICE", [SQL_SEV_DEBUG] = "DEBUG",
    [SQL_SEV_INFO] = "INFO",       [SQL_SEV_LOG] = "LOG",
};

const char *sql_sqlstate_code(sql_sqlstate s)
{
    if ((int)s < 0 || s >= SQL_STATE_COUNT)
        return sqlstate_codes[SQL_STATE_INTERNAL_ERROR];
    return sqlstate_codes[s];
}

const char *sql_severity_name(sql_severity sev)
{
    if ((int)sev < 0 || (size_t)sev >= sizeof(severity_names) / sizeof(severity_names[0]))
        return "ERROR";
    return severity_names[sev];
}

/* A printf result copied into the arena; NULL when it cannot be. */
static const char *arena_vprintf(kv_arena *arena, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *s = kv_arena_alloc(arena, (size_t)n + 1);
    if (s != NULL)
        vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

int sql_error_set(sql_error *e, kv_arena *arena, sql_sqlstate state, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = arena_vprintf(arena, fmt, ap);
    va_end(ap);
    *e = (sql_error){.state = state, .severity = SQL_SEV_ERROR, .message = msg};
    if (msg == NULL) {
        e->state = SQL_STATE_OUT_OF_MEMORY;
        e->message = "out of memory";
    }
    return -1;
}

void sql_error_detail(sql_error *e, kv_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->detail = arena_vprintf(arena, fmt, ap);
    va_end(ap);
}

void sql_error_hint(sql_error *e, kv_arena *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->hint = arena_vprintf(arena, fmt, ap);
    va_end(ap);
}

void sql_error_move(sql_error *e, kv_arena *to)
{
    sql_error from = *e;

    assert(from.message);
    sql_error_set(e, to, from.state, "%s", from.message);
    if (from.detail)
        sql_error_detail(e, to, "%s", from.detail);
    if (from.hint)
        sql_error_hint(e, to, "%s", from.hint);
    e->severity = from.severity;
    e->position = from.position;
}
