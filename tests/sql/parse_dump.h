/*
 * parse_dump.h - a statement tree printed as one line of text, so tests
 * state the expected tree of a query as a string. The format is the
 * test's own (see parse_dump.c); locations are left out except where a
 * test asks for them directly.
 */
#ifndef TESTS_SQL_PARSE_DUMP_H
#define TESTS_SQL_PARSE_DUMP_H

#include "sql/parse.h"

/* The dump of `s`, malloc'd; the caller frees it. */
char *pd_stmt(const sql_stmt *s);

#endif
