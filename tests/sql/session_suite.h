/*
 * session_suite.h - what the suites driving one session (session_rec.h)
 * share: their environment E and record R, q() and EXPECT on them, and a
 * teardown. Each suite defines a setup that calls sess_open(&E) and runs
 * its schema, then TestSuite(name, .init = setup, .fini = suite_teardown).
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

/* Frees E (sess_close). */
void suite_teardown(void);

#endif /* TESTS_SQL_SESSION_SUITE_H */
