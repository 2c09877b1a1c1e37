/*
 * session_suite.c - the environment, record and helpers of a suite over
 * one session (session_suite.h).
 */
#include <string.h>

#include "session_suite.h"

sess_env E;
rec R;

const char *q(const char *text)
{
    return q_on(E.s, &R, text);
}

const char *plan_of(const char *query)
{
    sql_plan *p = sess_plan(&E, query);
    char *text = kv_arena_strdup(E.arena, sql__plan_explain(p));
    sql__plan_free(p);
    return text;
}

void suite_teardown(void)
{
    sess_close(&E);
}
