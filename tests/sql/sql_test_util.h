/*
 * sql_test_util.h - helpers shared by the sql suites: a per-test arena,
 * PostgreSQL type names to sql_type, and text round trips that fail the
 * test on error.
 */
#ifndef TESTS_SQL_TEST_UTIL_H
#define TESTS_SQL_TEST_UTIL_H

#include "sql/types.h"

/* The arena of the running test (created by tu_setup, freed by
 * tu_teardown; use them as Criterion .init/.fini). */
extern kv_arena *tu_arena;
void tu_setup(void);
void tu_teardown(void);

/* "integer", "varchar(3)", "numeric(5,2)", "timestamp with time zone", ...
 * as PostgreSQL spells them; aborts the test on an unknown name. */
sql_type tu_type(const char *pgname);

/* Text input that must succeed. */
sql_datum tu_in(sql_type t, const char *text);
/* Text output that must succeed; the string lives in tu_arena. */
const char *tu_out(sql_type t, const sql_datum *d);

/* Every type of types.h, for property tests. */
#define TU_NTYPES 16
extern const sql_type_id tu_all_types[TU_NTYPES];

/* A deterministic xorshift stream shared by the suites. */
uint64_t tu_rnd(void);
/* A random datum of type t (NULL one time in ten) rich in edge cases:
 * NaN, infinities, -0, strings with 0x00/0xFF bytes, numerics of many
 * scales; payloads in tu_arena. */
sql_datum tu_random_datum(sql_type_id t);

#endif
