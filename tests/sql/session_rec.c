/*
 * session_rec.c - the recording sink of session_rec.h.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session_rec.h"
#include "sql/session_int.h"

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

static char *keep_password(const char *password)
{
    return strdup(password);
}

void sess_open(sess_env *e)
{
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = true, .node_id = 1};
    char msg[256] = "";
    sql_error err = {0};
    sql_engine_options eo = {.hash_password = keep_password, .node_id = 1};

    cr_assert_eq(kv_arena_create(&e->arena), 0);
    kv_test_mkdtemp(e->dir);
    cr_assert_eq(kv_store_open(e->dir, &o, &e->store, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(kv_store_bootstrap(e->store, NULL, NULL, 0, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(sql_engine_open(e->store, &eo, &e->eng, &err, e->arena), 0, "%s", err.message);
    cr_assert_eq(
        sql_session_create(e->eng, "root", "defaultdb", 0, NULL, NULL, &e->s, &err, e->arena), 0,
        "%s", err.message);
}

void sess_close(sess_env *e)
{
    sql_session_destroy(e->s);
    sql_engine_close(e->eng);
    kv_store_close(e->store);
    kv_test_rmrf(e->dir);
    kv_arena_destroy(e->arena);
}

sql_plan *sess_plan(sess_env *e, const char *query)
{
    sql_error err = {0};
    sql_database_desc d;
    sql_stmt_list l;
    uint32_t oids[4] = {0};
    sql_params params = {.oids = oids, .cap = 4};
    sql_plan *p;
    cr_assert_eq(sql_catalog_database(e->eng->catalog, NULL, "defaultdb", &d, &err, e->arena), 0);
    cr_assert_eq(sql_parse(query, e->arena, &l, &err), 0, "%s", err.message);
    sql_plan_ctx pc = {
        .catalog = e->eng->catalog, .db_id = d.id, .query = query, .params = &params};
    cr_assert_eq(sql__plan(&pc, &l.stmts[0], e->arena, &p, &err), 0, "%s: %s", query, err.message);
    return p;
}
