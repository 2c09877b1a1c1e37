/*
 * session_suite.h - what the suites driving one session (session_rec.h)
 * share: their environment E and record R, q() and EXPECT on them, the
 * plan a query gets (plan_of, EXPECT_PLAN), and a teardown. Each suite
 * defines a setup that calls sess_open(&E) and runs its schema, then
 * TestSuite(name, .init = setup, .fini = suite_teardown).
 */
#ifndef TESTS_SQL_SESSION_SUITE_H
#define TESTS_SQL_SESSION_SUITE_H

#include "session_rec.h"

extern sess_env E;
extern rec R;

/* What E's session sent for simple query `text` (see q_on). */
const char *q(const char *text);

/* Expects what E's session sends for `query` to be `want`. */
#define EXPECT(query, want) EXPECT_ON(E.s, &R, query, want)

/* The plan sql__plan_explain gives `query` in words (in E.arena). */
const char *plan_of(const char *query);

/* Expects the plan of `query` in words to be `want`. */
#define EXPECT_PLAN(query, want)                                                   \
    do {                                                                           \
        const char *got_ = plan_of(query);                                         \
        cr_expect_str_eq(got_, want, "%s\n got: %s\nwant: %s", query, got_, want); \
    } while (0)

/* Frees E (sess_close). */
void suite_teardown(void);

#endif /* TESTS_SQL_SESSION_SUITE_H */
