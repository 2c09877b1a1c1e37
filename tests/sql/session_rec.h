/*
 * session_rec.h - a sql_sink that records every callback as one text
 * line, for the suites that drive sessions (sql/session.h):
 *
 *   T a,b           RowDescription (column names)
 *   D 1|x|NULL      DataRow (bytes outside ASCII's printable range as \xNN)
 *   C INSERT 0 1    CommandComplete
 *   S / I           PortalSuspended / EmptyQueryResponse
 *   E 42P01 msg     ErrorResponse (SQLSTATE, message)
 *   N WARNING 25P01 msg   NoticeResponse
 *   P name=value    ParameterStatus
 *
 * A record overflowing its buffer fails the test.
 */
#ifndef TESTS_SQL_SESSION_REC_H
#define TESTS_SQL_SESSION_REC_H

#include <stddef.h>

#include "../kv/kv_test_util.h"
#include "sql/plan_int.h"
#include "sql/session.h"

typedef struct rec {
    char buf[16384];
    size_t len;
} rec;

/* A sink writing into `r` (borrowed while the sink is used); no COPY
 * callbacks, so COPY is refused. */
sql_sink sink_for(rec *r);
/* What session `s` sent for simple query `q`: r's text, valid until the
 * next call with the same record. */
const char *q_on(sql_session *s, rec *r, const char *q);

/* Expects what session s sends for simple query `query` (recorded in r)
 * to be `want` (Criterion; shows both on a mismatch). */
#define EXPECT_ON(s, r, query, want)                                                      \
    do {                                                                                  \
        const char *got_ = q_on(s, r, query);                                             \
        cr_expect_str_eq(got_, want, "%s\n--- got:\n%s--- want:\n%s", query, got_, want); \
    } while (0)

/* What a session-driven suite runs on: a store in a temporary directory,
 * an engine over it (passwords kept as given) and a session of root on
 * defaultdb; `arena` is the suite's scratch. */
typedef struct sess_env {
    char dir[KV_TEST_PATH_MAX];
    kv_store *store;
    sql_engine *eng;
    kv_arena *arena;
    sql_session *s;
} sess_env;

/* Makes everything in *e; aborts the test on failure. */
void sess_open(sess_env *e);
/* Frees what sess_open made, the directory too. */
void sess_close(sess_env *e);
/* Plans `query` (one statement; parameters typed from context) in
 * defaultdb; the plan is the caller's (sql__plan_free), its strings in
 * e->arena. Aborts the test on failure. */
sql_plan *sess_plan(sess_env *e, const char *query);

#endif /* TESTS_SQL_SESSION_REC_H */
