/*
 * parse_stress.c - sql_parse from several threads at once (libpg_query
 * keeps per-thread state): every thread parses the same queries over and
 * over and must get the tree the main thread got. Built for TSan and ASan
 * (td_stress); exit status 0 means pass.
 */
#define _GNU_SOURCE /* asprintf */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_dump.h"

#define THREADS 4
#define ROUNDS  300

static const char *const queries[] = {
    "CREATE TABLE t (id int PRIMARY KEY, v varchar(10) NOT NULL DEFAULT 'x')",
    "SELECT a, count(*) FROM t WHERE a IN (1, 2) AND b IS NULL ORDER BY a DESC LIMIT 3",
    "INSERT INTO t VALUES (1, 'a'), (2, DEFAULT) RETURNING id",
    "UPDATE t SET v = v || 'y' WHERE id = $1",
    "BEGIN ISOLATION LEVEL REPEATABLE READ",
    "SELEC 1",                        /* syntax error */
    "SELECT * FROM a JOIN b ON true", /* 0A000 */
};
#define NQ (sizeof queries / sizeof queries[0])

static char *expected[NQ];

/* The dump of the query's first statement, or its error; malloc'd. */
static char *outcome(const char *q)
{
    kv_arena *arena;
    sql_stmt_list l;
    sql_error err = {0};
    char *s;

    if (kv_arena_create(&arena) != 0)
        abort();
    if (sql_parse(q, arena, &l, &err) == 0) {
        s = pd_stmt(&l.stmts[0]);
    } else if (asprintf(&s, "%s %s @%d", sql_sqlstate_code(err.state), err.message, err.position) <
               0) {
        abort();
    }
    kv_arena_destroy(arena);
    return s;
}

static void *worker(void *arg)
{
    long failures = 0;

    for (int r = 0; r < ROUNDS; r++) {
        for (size_t i = 0; i < NQ; i++) {
            size_t q = (i + (size_t)arg) % NQ; /* threads start at different queries */
            char *got = outcome(queries[q]);

            if (strcmp(got, expected[q]) != 0) {
                fprintf(stderr, "thread %ld: %s\n  got  %s\n  want %s\n", (long)(size_t)arg,
                        queries[q], got, expected[q]);
                failures++;
            }
            free(got);
        }
    }
    return (void *)failures; /* libpg_query frees its thread state at exit */
}

int main(void)
{
    pthread_t t[THREADS];
    long failures = 0;

    for (size_t i = 0; i < NQ; i++)
        expected[i] = outcome(queries[i]);
    for (size_t i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 2;
    for (size_t i = 0; i < THREADS; i++) {
        void *res;

        pthread_join(t[i], &res);
        failures += (long)res;
    }
    for (size_t i = 0; i < NQ; i++)
        free(expected[i]);
    printf("parse_stress: %d threads x %d rounds x %zu queries, %ld mismatches\n", THREADS, ROUNDS,
           NQ, failures);
    return failures ? 1 : 0;
}
