/*
 * pgserver_stress.c - many libpq clients at once against the pgwire server
 * (fake_session.c engine), for ThreadSanitizer: the loop thread, a
 * growing and shrinking worker pool, flushes of large results with
 * backpressure, cancels from other connections, clients hanging up
 * mid-statement, and a shutdown while statements run. Exit 0 = pass.
 */
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_session.h"
#include "pgserver_fixture.h"

#define CLIENTS 6
#define ROUNDS  8

static atomic_int failures;

static void fail(const char *what, PGconn *c)
{
    fprintf(stderr, "pgserver_stress: %s: %s\n", what, c ? PQerrorMessage(c) : "");
    atomic_fetch_add(&failures, 1);
}

static PGconn *connect_ok(void)
{
    char info[128];
    snprintf(info, sizeof(info),
             "host=127.0.0.1 port=%d user=tester dbname=postgres sslmode=disable", fx.pg_port);
    PGconn *c = PQconnectdb(info);
    if (PQstatus(c) != CONNECTION_OK)
        fail("connect", c);
    return c;
}

static void expect_rows(PGconn *c, const char *sql, int n)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != n)
        fail(sql, c);
    PQclear(r);
}

/* Cancels until the statement ends; the result must be 57014. */
static void cancel_sleep(PGconn *c)
{
    PGcancel *cancel = PQgetCancel(c);
    char err[256];
    while (PQconsumeInput(c) && PQisBusy(c)) {
        PQcancel(cancel, err, sizeof(err));
        usleep(20 * 1000);
    }
    PQfreeCancel(cancel);
    PGresult *r = PQgetResult(c);
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state == NULL || strcmp(state, "57014") != 0)
        fail("cancel", c);
    PQclear(r);
    while ((r = PQgetResult(c)) != NULL)
        PQclear(r);
}

static void *client(void *arg)
{
    (void)arg;
    for (int round = 0; round < ROUNDS; round++) {
        PGconn *c = connect_ok();
        expect_rows(c, "SELECT rows(3)", 3);
        expect_rows(c, "SELECT rows(60000)", 60000); /* several flushes */
        PGresult *r = PQexecParams(c, "SELECT rows(7)", 0, NULL, NULL, NULL, NULL, 0);
        if (PQntuples(r) != 7)
            fail("extended", c);
        PQclear(r);
        if (PQsendQuery(c, "SELECT pg_sleep(30)"))
            cancel_sleep(c);
        /* Hang up in the middle of a statement. */
        PQsendQuery(c, round % 2 ? "SELECT pg_sleep(30)" : "SELECT rows(200000)");
        PQfinish(c);
    }
    return NULL;
}

int main(void)
{
    if (fx_start(NET_PG_AUTH_METHOD_TRUST) < 0)
        return 1;
    pthread_t t[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        pthread_create(&t[i], NULL, client, NULL);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(t[i], NULL);
    /* Shut down under load: sleepers, an idle session, a big result. */
    PGconn *busy[3];
    for (int i = 0; i < 3; i++) {
        busy[i] = connect_ok();
        PQsendQuery(busy[i], i == 2 ? "SELECT rows(2000000)" : "SELECT pg_sleep(30)");
    }
    PGconn *idle = connect_ok();
    usleep(100 * 1000);
    if (fx_stop() < 0)
        fail("stop", NULL);
    for (int i = 0; i < 3; i++)
        PQfinish(busy[i]);
    PQfinish(idle);
    int n = atomic_load(&failures);
    if (n == 0)
        printf("pgserver_stress: ok\n");
    return n == 0 ? 0 : 1;
}
