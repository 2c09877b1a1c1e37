/*
 * session_rec.c - the recording sink of session_rec.h.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>

#include "session_rec.h"

static void add(rec *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(rec *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->buf + r->len, sizeof r->buf - r->len, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < sizeof r->buf - r->len, "record overflow");
    r->len += (size_t)n;
}

static int on_columns(void *ctx, const sql_column_info *cols, size_t n)
{
    add(ctx, "T ");
    for (size_t i = 0; i < n; i++)
        add(ctx, "%s%s", i ? "," : "", cols[i].name);
    add(ctx, "\n");
    return 0;
}

static int on_row(void *ctx, const sql_value *v, size_t n)
{
    add(ctx, "D ");
    for (size_t i = 0; i < n; i++) {
        add(ctx, "%s", i ? "|" : "");
        if (v[i].len < 0)
            add(ctx, "NULL");
        /* binary values: unprintable bytes as \xNN */
        for (int32_t j = 0; j < v[i].len; j++)
            add(ctx, v[i].data[j] >= 0x20 && v[i].data[j] < 0x7f ? "%c" : "\\x%02x", v[i].data[j]);
    }
    add(ctx, "\n");
    return 0;
}

static int on_complete(void *ctx, const char *tag)
{
    add(ctx, "C %s\n", tag);
    return 0;
}

static int on_suspended(void *ctx)
{
    add(ctx, "S\n");
    return 0;
}

static int on_empty(void *ctx)
{
    add(ctx, "I\n");
    return 0;
}

static int on_error(void *ctx, const sql_error *e)
{
    add(ctx, "E %s %s\n", sql_sqlstate_code(e->state), e->message);
    return 0;
}

static int on_notice(void *ctx, const sql_error *e)
{
    add(ctx, "N %s %s %s\n", sql_severity_name(e->severity), sql_sqlstate_code(e->state),
        e->message);
    return 0;
}

static int on_param(void *ctx, const char *name, const char *value)
{
    add(ctx, "P %s=%s\n", name, value);
    return 0;
}

sql_sink sink_for(rec *r)
{
    /* no COPY callbacks: COPY is refused */
    return (sql_sink){on_columns, on_row,   on_complete, on_suspended, on_empty, on_error,
                      on_notice,  on_param, r,           NULL,         NULL,     NULL};
}

const char *q_on(sql_session *s, rec *r, const char *q)
{
    sql_sink k = sink_for(r);
    r->len = 0;
    r->buf[0] = '\0';
    cr_assert_eq(sql_session_simple(s, q, &k), 0);
    return r->buf;
}
