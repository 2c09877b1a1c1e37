/*
 * catalog_fixture.h - a store in a temp dir with the catalog open over
 * it, for the suites that need descriptors (catalog, planner/executor).
 * The fixture's state is plain globals the suites use directly; one
 * fixture per process, set up and torn down around every test.
 */
#ifndef TESTS_SQL_CATALOG_FIXTURE_H
#define TESTS_SQL_CATALOG_FIXTURE_H

#include <criterion/criterion.h>

#include "../kv/store_test_util.h"
#include "sql/catalog.h"

extern char dir[KV_TEST_PATH_MAX];
extern kv_store *store;
extern sql_catalog *cat;
extern kv_arena *A; /* the test's arena: everything a test allocates */
extern sql_error err;

#define OK(call) cr_assert_eq((call), 0, "%s: %s", #call, err.message)

/* Opens a fresh store and its catalog / closes both and removes the dir. */
void cf_setup(void);
void cf_teardown(void);
/* (Re)opens the catalog over `store` (after the suite closed it). */
void cf_open_catalog(void);

/* A transaction on `store`; cf_commit commits it, frees it and drops the
 * cached descriptors, as a session does after DDL. */
sql_txn *cf_begin(void);
void cf_commit(sql_txn *t);

/* The parse tree of expression `text` (in A). */
sql_expr *cf_parse_expr(const char *text);

#endif /* TESTS_SQL_CATALOG_FIXTURE_H */
