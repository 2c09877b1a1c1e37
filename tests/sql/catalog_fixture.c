/*
 * catalog_fixture.c - see catalog_fixture.h.
 */
#include <stdio.h>

#include "catalog_fixture.h"

char dir[KV_TEST_PATH_MAX];
kv_store *store;
sql_catalog *cat;
kv_arena *A;
sql_error err;

void cf_open_catalog(void)
{
    OK(sql_catalog_open(store, NULL, &cat, &err, A));
}

void cf_setup(void)
{
    cr_assert_eq(kv_arena_create(&A), 0);
    store = st_open(dir, NULL);
    cf_open_catalog();
}

void cf_teardown(void)
{
    sql_catalog_close(cat);
    kv_store_close(store);
    kv_test_rmrf(dir);
    kv_arena_destroy(A);
}

sql_txn *cf_begin(void)
{
    sql_txn *t;
    OK(sql_txn_begin(store, NULL, NULL, &t, &err, A));
    return t;
}

void cf_commit(sql_txn *t)
{
    OK(sql_txn_commit(t, NULL, NULL, &err, A));
    sql_txn_destroy(t);
    sql_catalog_invalidate(cat);
}

sql_expr *cf_parse_expr(const char *text)
{
    char q[512];
    snprintf(q, sizeof(q), "SELECT %s", text);
    sql_stmt_list l;
    OK(sql_parse(q, A, &l, &err));
    return l.stmts[0].u.select.targets[0].expr;
}
