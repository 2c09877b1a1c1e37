/*
 * session_suite.c - the environment, record and helpers of a suite over
 * one session (session_suite.h).
 */
#include "session_suite.h"

sess_env E;
rec R;

const char *q(const char *text)
{
    return q_on(E.s, &R, text);
}

void suite_teardown(void)
{
    sess_close(&E);
}
