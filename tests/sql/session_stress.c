/*
 * session_stress.c - sessions on several threads at once, for TSan and
 * ASan (td_stress; exit status 0 means pass), in two scenarios:
 *
 * Counter: two sessions increment the same row with implicit transactions
 * under a statement_timeout (so every statement goes through the engine's
 * timer list), while a third thread keeps sending CancelRequests to the
 * first session. Every increment is either acknowledged ("C UPDATE 1") or
 * refused with 57014 or 40001, and the row must end at exactly the number
 * acknowledged: nothing lost, nothing applied twice.
 *
 * Two nodes: two engines over one store (two descriptor caches). One
 * session on node A keeps adding NOT NULL columns with defaults while two
 * sessions on node B insert rows naming only the key. An insert through a
 * stale descriptor would store a row without the new column, which then
 * reads as NULL: at the end no added column may be NULL anywhere, and
 * the rows must be exactly the inserts acknowledged.
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

#define ROUNDS      400
#define DDL_COLUMNS 10
#define INSERTS     150

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

static atomic_bool writers_done;

typedef struct writer {
    sql_session *s;
    int base; /* two nodes: the first id this writer inserts */
    int acked;
    const char *bad; /* an unexpected answer (static copy below) */
    char bad_buf[512];
} writer;

/* Counts `r` as acknowledged when it is `ok`; anything but `ok` and
 * 40001 (or 57014 with `cancels`) is remembered as bad. */
static void tally(writer *w, const char *r, const char *ok, bool cancels)
{
    if (!strcmp(r, ok))
        w->acked++;
    else if (strncmp(r, "E 40001 ", 8) && (!cancels || strncmp(r, "E 57014 ", 8)) && !w->bad) {
        snprintf(w->bad_buf, sizeof w->bad_buf, "%s", r);
        w->bad = w->bad_buf;
    }
}

static sql_session *open_session(sql_engine *eng)
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

    for (int i = 0; i < ROUNDS; i++)
        tally(w, run(w->s, &o, "UPDATE c SET n = n + 1 WHERE id = 1"), "C UPDATE 1", true);
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

static int report_bad(const writer *w, int n)
{
    int fail = 0;
    for (int i = 0; i < n; i++)
        if (w[i].bad) {
            fprintf(stderr, "writer %d got: %s\n", i, w[i].bad);
            fail = 1;
        }
    return fail;
}

/* `q`'s single value must be `want`. */
static int expect_value(sql_session *s, const char *q, int want)
{
    out o;
    char buf[32];
    snprintf(buf, sizeof buf, "D %d", want);
    const char *got = run(s, &o, q);
    if (!strcmp(got, buf))
        return 0;
    fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", q, got, buf);
    return 1;
}

static int counter_scenario(kv_store *st)
{
    kv_arena *a;
    sql_error err = {0};
    sql_engine *eng;
    writer w[2] = {{0}};
    pthread_t th[3];
    out o;

    if (kv_arena_create(&a) != 0 || sql_engine_open(st, NULL, &eng, &err, a) != 0) {
        fprintf(stderr, "engine: %s\n", err.message ? err.message : "no memory");
        exit(1);
    }
    sql_session *reader = open_session(eng);
    run(reader, &o, "CREATE TABLE c (id int PRIMARY KEY, n int)");
    run(reader, &o, "INSERT INTO c VALUES (1, 0)");
    for (int i = 0; i < 2; i++) {
        w[i].s = open_session(eng);
        pthread_create(&th[i], NULL, write_loop, &w[i]);
    }
    pthread_create(&th[2], NULL, cancel_loop, w[0].s);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    atomic_store(&writers_done, true);
    pthread_join(th[2], NULL);
    int fail = report_bad(w, 2) |
               expect_value(reader, "SELECT n FROM c WHERE id = 1", w[0].acked + w[1].acked);
    printf("acknowledged %d + %d increments\n", w[0].acked, w[1].acked);
    for (int i = 0; i < 2; i++)
        sql_session_destroy(w[i].s);
    sql_session_destroy(reader);
    sql_engine_close(eng);
    kv_arena_destroy(a);
    return fail;
}

static void *insert_loop(void *arg)
{
    writer *w = arg;
    out o;
    char q[64];

    for (int i = 0; i < INSERTS; i++) {
        snprintf(q, sizeof q, "INSERT INTO t (id) VALUES (%d)", w->base + i);
        tally(w, run(w->s, &o, q), "C INSERT 0 1", false);
    }
    return NULL;
}

/* Adds columns c1 .. cN; a column refused with 40001 is tried again, so
 * that all of them exist at the end. */
static void *ddl_loop(void *arg)
{
    writer *w = arg;
    out o;
    char q[96];

    for (int i = 1; i <= DDL_COLUMNS && !w->bad; i = w->acked + 1) {
        snprintf(q, sizeof q, "ALTER TABLE t ADD COLUMN c%d int NOT NULL DEFAULT %d", i, i);
        tally(w, run(w->s, &o, q), "C ALTER TABLE", false);
    }
    return NULL;
}

static int two_nodes_scenario(kv_store *st)
{
    kv_arena *a;
    sql_error err = {0};
    sql_engine *node[2];
    writer w[3] = {{0}}; /* the DDL session on A, two inserters on B */
    pthread_t th[3];
    out o;
    char q[64 + 16 * DDL_COLUMNS] = "SELECT count(*) FROM t WHERE false";

    if (kv_arena_create(&a) != 0)
        exit(1);
    for (int i = 0; i < 2; i++)
        if (sql_engine_open(st, NULL, &node[i], &err, a) != 0) {
            fprintf(stderr, "engine: %s\n", err.message ? err.message : "no memory");
            exit(1);
        }
    w[0].s = open_session(node[0]);
    run(w[0].s, &o, "CREATE TABLE t (id int PRIMARY KEY)");
    for (int i = 1; i < 3; i++) {
        w[i] = (writer){.s = open_session(node[1]), .base = i * 100000};
        run(w[i].s, &o, "SELECT * FROM t"); /* node B caches the first descriptor */
    }
    pthread_create(&th[0], NULL, ddl_loop, &w[0]);
    for (int i = 1; i < 3; i++)
        pthread_create(&th[i], NULL, insert_loop, &w[i]);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (int i = 1; i <= DDL_COLUMNS; i++)
        snprintf(q + strlen(q), sizeof q - strlen(q), " OR c%d IS NULL", i);
    int fail = report_bad(w, 3) | expect_value(w[0].s, q, 0) |
               expect_value(w[0].s, "SELECT count(*) FROM t", w[1].acked + w[2].acked);
    printf("two nodes: %d columns added, %d + %d rows inserted\n", w[0].acked, w[1].acked,
           w[2].acked);
    for (int i = 0; i < 3; i++)
        sql_session_destroy(w[i].s);
    for (int i = 0; i < 2; i++)
        sql_engine_close(node[i]);
    kv_arena_destroy(a);
    return fail;
}

int main(void)
{
    char dir[] = "/tmp/session-stress-XXXXXX";
    kv_store *st = open_store(dir);
    int fail = counter_scenario(st) | two_nodes_scenario(st);
    kv_store_close(st);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return fail;
}
