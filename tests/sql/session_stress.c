/*
 * session_stress.c - sessions on several threads at once, for TSan and
 * ASan (td_stress; exit status 0 means pass): two sessions increment the
 * same row with implicit transactions under a statement_timeout (so every
 * statement goes through the engine's timer list), while a third thread
 * keeps sending CancelRequests to the first session. Every increment is
 * either acknowledged ("C UPDATE 1") or refused with 57014 or 40001, and
 * the row must end at exactly the number acknowledged: nothing lost,
 * nothing applied twice.
 */
#define _GNU_SOURCE /* nftw, mkdtemp, usleep */
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sql/session.h"

#define ROUNDS 400

typedef struct out {
    char last[512];
} out;

static int ignore_cols(void *ctx, const sql_column_info *c, size_t n)
{
    (void)ctx, (void)c, (void)n;
    return 0;
}

static int keep_row(void *ctx, const sql_value *v, size_t n)
{
    out *o = ctx;
    snprintf(o->last, sizeof o->last, "D %.*s", n && v[0].len > 0 ? (int)v[0].len : 0,
             n && v[0].len > 0 ? (const char *)v[0].data : "");
    return 0;
}

static int keep_tag(void *ctx, const char *tag)
{
    out *o = ctx;
    if (strncmp(o->last, "D ", 2) != 0)
        snprintf(o->last, sizeof o->last, "C %s", tag);
    return 0;
}

static int nothing(void *ctx)
{
    (void)ctx;
    return 0;
}

static int keep_error(void *ctx, const sql_error *e)
{
    out *o = ctx;
    snprintf(o->last, sizeof o->last, "E %s %s", sql_sqlstate_code(e->state), e->message);
    return 0;
}

static int ignore_notice(void *ctx, const sql_error *e)
{
    (void)ctx, (void)e;
    return 0;
}

static int ignore_param(void *ctx, const char *name, const char *value)
{
    (void)ctx, (void)name, (void)value;
    return 0;
}

/* The last row or, without rows, the tag or error of `q`. */
static const char *run(sql_session *s, out *o, const char *q)
{
    sql_sink k = {ignore_cols,   keep_row,     keep_tag, nothing, nothing, keep_error,
                  ignore_notice, ignore_param, o,        NULL,    NULL,    NULL}; /* no COPY */
    o->last[0] = '\0';
    if (sql_session_simple(s, q, &k) != 0) {
        fprintf(stderr, "%s: sink failure\n", q);
        exit(1);
    }
    return o->last;
}

static sql_engine *eng;
static atomic_bool writers_done;

typedef struct writer {
    sql_session *s;
    int acked;
    const char *bad; /* an unexpected answer (static copy below) */
    char bad_buf[512];
} writer;

static sql_session *open_session(void)
{
    static const char *const names[] = {"statement_timeout"};
    static const char *const values[] = {"30s"};
    kv_arena *a;
    sql_error err = {0};
    sql_session *s;

    if (kv_arena_create(&a) != 0 ||
        sql_session_create(eng, "root", "defaultdb", 1, names, values, &s, &err, a) != 0) {
        fprintf(stderr, "session: %s\n", err.message ? err.message : "no memory");
        exit(1);
    }
    kv_arena_destroy(a);
    return s;
}

static void *write_loop(void *arg)
{
    writer *w = arg;
    out o;

    for (int i = 0; i < ROUNDS; i++) {
        const char *r = run(w->s, &o, "UPDATE c SET n = n + 1 WHERE id = 1");
        if (!strcmp(r, "C UPDATE 1"))
            w->acked++;
        else if (strncmp(r, "E 57014 ", 8) && strncmp(r, "E 40001 ", 8) && !w->bad) {
            snprintf(w->bad_buf, sizeof w->bad_buf, "%s", r);
            w->bad = w->bad_buf;
        }
    }
    return NULL;
}

static void *cancel_loop(void *arg)
{
    while (!atomic_load(&writers_done)) {
        sql_session_cancel(arg);
        usleep(300);
    }
    return NULL;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static kv_store *open_store(char *dir)
{
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = true, .node_id = 1};
    char msg[256] = "";
    kv_store *st;

    if (!mkdtemp(dir) || kv_store_open(dir, &o, &st, msg, sizeof msg) != 0 ||
        kv_store_bootstrap(st, NULL, NULL, 0, msg, sizeof msg) != 0) {
        fprintf(stderr, "store: %s\n", msg);
        exit(1);
    }
    return st;
}

static int check(writer *w, sql_session *reader)
{
    out o;
    char want[32];
    int fail = 0;

    for (int i = 0; i < 2; i++)
        if (w[i].bad) {
            fprintf(stderr, "writer %d got: %s\n", i, w[i].bad);
            fail = 1;
        }
    snprintf(want, sizeof want, "D %d", w[0].acked + w[1].acked);
    const char *got = run(reader, &o, "SELECT n FROM c WHERE id = 1");
    if (strcmp(got, want)) {
        fprintf(stderr, "counter: got \"%s\", acknowledged \"%s\"\n", got, want);
        fail = 1;
    }
    return fail;
}

int main(void)
{
    char dir[] = "/tmp/session-stress-XXXXXX";
    kv_store *st = open_store(dir);
    kv_arena *a;
    sql_error err = {0};
    writer w[2] = {{0}};
    pthread_t th[3];
    out o;

    if (kv_arena_create(&a) != 0 || sql_engine_open(st, NULL, &eng, &err, a) != 0) {
        fprintf(stderr, "engine: %s\n", err.message ? err.message : "no memory");
        return 1;
    }
    sql_session *reader = open_session();
    run(reader, &o, "CREATE TABLE c (id int PRIMARY KEY, n int)");
    run(reader, &o, "INSERT INTO c VALUES (1, 0)");
    for (int i = 0; i < 2; i++) {
        w[i].s = open_session();
        pthread_create(&th[i], NULL, write_loop, &w[i]);
    }
    pthread_create(&th[2], NULL, cancel_loop, w[0].s);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    atomic_store(&writers_done, true);
    pthread_join(th[2], NULL);
    int fail = check(w, reader);
    printf("acknowledged %d + %d increments\n", w[0].acked, w[1].acked);
    for (int i = 0; i < 2; i++)
        sql_session_destroy(w[i].s);
    sql_session_destroy(reader);
    sql_engine_close(eng);
    kv_store_close(st);
    kv_arena_destroy(a);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return fail;
}
