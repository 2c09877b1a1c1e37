/*
 * catalog_nodes_test.c - descriptor caches of several nodes (sql/catalog.h,
 * "Cache"). Two sql_engines over one kv_store are two nodes as the catalog
 * sees them: each has its own cache, and they share the KV state. DDL
 * committed through node A must be seen by the next transaction on node
 * B, with no invalidation on B; a transaction on B that trusted its cache
 * before A's DDL committed must be serialised before that DDL or fail
 * with 40001, never write through the replaced descriptor afterwards.
 *
 * Sessions are driven through simple queries and the extended protocol,
 * their output recorded as text lines (session_rec.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kv/kv_test_util.h"
#include "session_rec.h"

static char dir[KV_TEST_PATH_MAX];
static kv_store *store;
static kv_arena *A;
static sql_engine *eng_a, *eng_b;
static sql_session *sa, *sb; /* root on defaultdb, on node A and node B */
static rec ra, rb;

static char *fake_hash(const char *password)
{
    char *v = malloc(strlen(password) + 8);
    if (v)
        sprintf(v, "hash:%s", password);
    return v;
}

static sql_engine *open_node(uint32_t node_id)
{
    sql_engine_options eo = {.hash_password = fake_hash, .node_id = node_id};
    sql_error err = {0};
    sql_engine *e;
    cr_assert_eq(sql_engine_open(store, &eo, &e, &err, A), 0, "%s", err.message);
    return e;
}

static sql_session *open_session(sql_engine *e)
{
    sql_error err = {0};
    sql_session *s;
    cr_assert_eq(sql_session_create(e, "root", "defaultdb", 0, NULL, NULL, &s, &err, A), 0, "%s",
                 err.message);
    return s;
}

static void setup(void)
{
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = true, .node_id = 1};
    char msg[256] = "";

    cr_assert_eq(kv_arena_create(&A), 0);
    kv_test_mkdtemp(dir);
    cr_assert_eq(kv_store_open(dir, &o, &store, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(kv_store_bootstrap(store, NULL, NULL, 0, msg, sizeof msg), 0, "%s", msg);
    eng_a = open_node(1);
    eng_b = open_node(2);
    sa = open_session(eng_a);
    sb = open_session(eng_b);
}

static void teardown(void)
{
    sql_session_destroy(sa);
    sql_session_destroy(sb);
    sql_engine_close(eng_a);
    sql_engine_close(eng_b);
    kv_store_close(store);
    kv_test_rmrf(dir);
    kv_arena_destroy(A);
}

TestSuite(catalog_nodes, .init = setup, .fini = teardown, .timeout = 120);

#define ON_A(query, want) expect(sa, &ra, query, want)
#define ON_B(query, want) expect(sb, &rb, query, want)

static void expect(sql_session *s, rec *r, const char *query, const char *want)
{
    const char *got = q_on(s, r, query);
    cr_expect_str_eq(got, want, "%s\n--- got:\n%s--- want:\n%s", query, got, want);
}

/* Like expect, for an answer that must start with `prefix` (40001 carries
 * the KV layer's reason after it). */
static void expect_prefix(sql_session *s, rec *r, const char *query, const char *prefix)
{
    const char *got = q_on(s, r, query);
    cr_expect(strncmp(got, prefix, strlen(prefix)) == 0, "%s\n--- got:\n%s--- want prefix:\n%s",
              query, got, prefix);
}

/* ---- DDL through A, the next transaction on B ------------------------- */

Test(catalog_nodes, alter_drop_create_through_a_are_seen_on_b)
{
    ON_A("CREATE TABLE t (id int PRIMARY KEY, v text)", "C CREATE TABLE\n");
    ON_B("INSERT INTO t VALUES (1, 'a')", "C INSERT 0 1\n");
    ON_B("SELECT * FROM t", "T id,v\nD 1|a\nC SELECT 1\n"); /* B caches t */

    ON_A("ALTER TABLE t ADD COLUMN w int NOT NULL DEFAULT 7", "C ALTER TABLE\n");
    ON_B("SELECT * FROM t", "T id,v,w\nD 1|a|7\nC SELECT 1\n");
    ON_B("INSERT INTO t (id, v) VALUES (2, 'b')", "C INSERT 0 1\n");
    ON_A("SELECT id, w FROM t ORDER BY id", "T id,w\nD 1|7\nD 2|7\nC SELECT 2\n");

    ON_A("ALTER TABLE t DROP COLUMN v", "C ALTER TABLE\n");
    ON_B("INSERT INTO t VALUES (3, 'c', 9)",
         "E 42601 INSERT has more expressions than target columns\n");
    ON_B("INSERT INTO t VALUES (3, 9)", "C INSERT 0 1\n");

    ON_A("DROP TABLE t", "C DROP TABLE\n");
    ON_B("INSERT INTO t VALUES (4, 9)", "E 42P01 relation \"t\" does not exist\n");

    ON_A("CREATE TABLE t (k text PRIMARY KEY)", "C CREATE TABLE\n");
    ON_B("SELECT * FROM t", "T k\nC SELECT 0\n");
}

Test(catalog_nodes, alter_add_primary_key_through_a_is_seen_on_b)
{
    ON_A("CREATE TABLE t (a int NOT NULL, b text)", "C CREATE TABLE\n");
    ON_B("INSERT INTO t VALUES (1, 'x')", "C INSERT 0 1\n");
    ON_A("ALTER TABLE t ADD PRIMARY KEY (a)", "C ALTER TABLE\n");
    /* with the rowid descriptor B would add a second row under a new rowid */
    ON_B("INSERT INTO t VALUES (1, 'y')",
         "E 23505 duplicate key value violates unique constraint \"t_pkey\"\n");
    ON_B("SELECT * FROM t", "T a,b\nD 1|x\nC SELECT 1\n");
}

Test(catalog_nodes, databases_through_a_are_seen_on_b)
{
    sql_session *in_d;
    sql_error err = {0};

    ON_A("CREATE DATABASE d", "C CREATE DATABASE\n");
    cr_expect_eq(sql_engine_database_exists(eng_b, "d"), 1);
    /* a connection to d through B caches d on B */
    cr_assert_eq(sql_session_create(eng_b, "root", "d", 0, NULL, NULL, &in_d, &err, A), 0, "%s",
                 err.message);
    sql_session_destroy(in_d);
    ON_A("DROP DATABASE d", "C DROP DATABASE\n");
    cr_expect_eq(sql_engine_database_exists(eng_b, "d"), 0);
    cr_expect_eq(sql_session_create(eng_b, "root", "d", 0, NULL, NULL, &in_d, &err, A), -1);
    cr_expect_str_eq(err.message, "database \"d\" does not exist");
}

Test(catalog_nodes, role_changes_through_a_are_seen_on_b)
{
    char *verifier;
    bool superuser;

    ON_A("CREATE USER bob WITH PASSWORD 'one'", "C CREATE ROLE\n");
    cr_assert_eq(sql_engine_role(eng_b, "bob", &verifier, &superuser), 0);
    cr_expect_str_eq(verifier, "hash:one");
    cr_expect_not(superuser);
    free(verifier);
    ON_A("ALTER USER bob WITH PASSWORD 'two'", "C ALTER ROLE\n");
    cr_assert_eq(sql_engine_role(eng_b, "bob", &verifier, &superuser), 0);
    cr_expect_str_eq(verifier, "hash:two");
    free(verifier);
    ON_A("DROP USER bob", "C DROP ROLE\n");
    cr_expect_eq(sql_engine_role(eng_b, "bob", &verifier, &superuser), 1);
    ON_B("DROP USER IF EXISTS bob", "N NOTICE 00000 role \"bob\" does not exist, skipping\n"
                                    "C DROP ROLE\n");
}

/* ---- prepared statements on B ---------------------------------------- */

static void prepare_b(const char *name, const char *text)
{
    sql_error err = {0};
    cr_assert_eq(sql_session_prepare(sb, name, text, 0, NULL, &err, A), 0, "%s: %s", text,
                 err.message);
}

/* Bind + Execute + Sync of statement `stmt` on B with text parameters;
 * a failed Bind is recorded like any error and skips the Execute, as a
 * server skips to Sync. */
static const char *run_b(const char *stmt, size_t n, const char *const *params)
{
    sql_value v[4];
    sql_error err = {0};
    sql_sink k = sink_for(&rb);

    cr_assert_leq(n, 4);
    for (size_t i = 0; i < n; i++)
        v[i] = (sql_value){(const uint8_t *)params[i], (int32_t)strlen(params[i])};
    rb.len = 0;
    rb.buf[0] = '\0';
    if (sql_session_bind(sb, "", stmt, 0, NULL, n, v, 0, NULL, &err, A) == 0)
        cr_assert_eq(sql_session_execute(sb, "", 0, true, &k), 0);
    else
        cr_assert_eq(k.error(k.ctx, &err), 0);
    cr_assert_eq(sql_session_sync(sb, &k), 0);
    return rb.buf;
}

Test(catalog_nodes, prepared_statements_on_b_follow_ddl_through_a)
{
    ON_A("CREATE TABLE t (id int PRIMARY KEY, v text)", "C CREATE TABLE\n");
    prepare_b("ins", "INSERT INTO t (id, v) VALUES ($1, $2)");
    prepare_b("sel", "SELECT v FROM t WHERE id = $1");
    prepare_b("all", "SELECT * FROM t WHERE id = $1");
    cr_expect_str_eq(run_b("ins", 2, (const char *const[]){"1", "a"}), "C INSERT 0 1\n");
    cr_expect_str_eq(run_b("sel", 1, (const char *const[]){"1"}), "D a\nC SELECT 1\n");

    /* The plans B made still name two columns: its inserts must take the
     * new default, and * must not silently keep the old column list. */
    ON_A("ALTER TABLE t ADD COLUMN w int NOT NULL DEFAULT 5", "C ALTER TABLE\n");
    cr_expect_str_eq(run_b("ins", 2, (const char *const[]){"2", "b"}), "C INSERT 0 1\n");
    cr_expect_str_eq(run_b("sel", 1, (const char *const[]){"2"}), "D b\nC SELECT 1\n");
    cr_expect_str_eq(run_b("all", 1, (const char *const[]){"2"}),
                     "E 0A000 cached plan must not change result type\n");
    ON_A("SELECT id, w FROM t ORDER BY id", "T id,w\nD 1|5\nD 2|5\nC SELECT 2\n");

    ON_A("DROP TABLE t", "C DROP TABLE\n");
    cr_expect_str_eq(run_b("ins", 2, (const char *const[]){"3", "c"}),
                     "E 42P01 relation \"t\" does not exist\n");
}

/* ---- transactions racing DDL ------------------------------------------ */

/* B's block read t through its cache at the old version; A drops t. B's
 * insert through the old descriptor would land in the dropped table's
 * key space: it must fail to commit instead. */
Test(catalog_nodes, b_block_writing_after_a_dropped_the_table_fails)
{
    ON_A("CREATE TABLE t (id int PRIMARY KEY)", "C CREATE TABLE\n");
    ON_B("BEGIN", "C BEGIN\n");
    ON_B("SELECT * FROM t", "T id\nC SELECT 0\n");
    ON_A("DROP TABLE t", "C DROP TABLE\n");
    const char *got = q_on(sb, &rb, "INSERT INTO t VALUES (1)");
    if (strcmp(got, "C INSERT 0 1\n") == 0)
        expect_prefix(sb, &rb, "COMMIT", "E 40001 restart transaction");
    else
        cr_expect(strncmp(got, "E 40001 restart transaction", 27) == 0, "%s", got);
    ON_B("ROLLBACK", "C ROLLBACK\n");
    ON_B("SELECT * FROM t", "E 42P01 relation \"t\" does not exist\n");
}

/* The same for a column A adds (with a backfilled default): a row B
 * writes with the old column list must not survive next to A's DDL. */
Test(catalog_nodes, b_block_writing_after_a_added_a_column_fails)
{
    ON_A("CREATE TABLE t (id int PRIMARY KEY)", "C CREATE TABLE\n");
    ON_A("INSERT INTO t VALUES (1)", "C INSERT 0 1\n");
    ON_B("BEGIN", "C BEGIN\n");
    ON_B("SELECT * FROM t", "T id\nD 1\nC SELECT 1\n");
    ON_A("ALTER TABLE t ADD COLUMN w int NOT NULL DEFAULT 7", "C ALTER TABLE\n");
    const char *got = q_on(sb, &rb, "INSERT INTO t VALUES (2)");
    if (strcmp(got, "C INSERT 0 1\n") == 0)
        expect_prefix(sb, &rb, "COMMIT", "E 40001 restart transaction");
    else
        cr_expect(strncmp(got, "E 40001 restart transaction", 27) == 0, "%s", got);
    ON_B("ROLLBACK", "C ROLLBACK\n");
    ON_B("SELECT * FROM t WHERE w IS NULL", "T id,w\nC SELECT 0\n");
    ON_B("INSERT INTO t VALUES (2)", "C INSERT 0 1\n");
    ON_A("SELECT * FROM t ORDER BY id", "T id,w\nD 1|7\nD 2|7\nC SELECT 2\n");
}

/* Two DDL transactions on different tables still conflict: both read the
 * catalog version and both would write the next one. */
Test(catalog_nodes, concurrent_ddl_through_a_and_b_conflicts)
{
    ON_A("BEGIN", "C BEGIN\n");
    ON_B("BEGIN", "C BEGIN\n");
    ON_A("CREATE TABLE x1 (id int PRIMARY KEY)", "C CREATE TABLE\n");
    ON_B("CREATE TABLE x2 (id int PRIMARY KEY)", "C CREATE TABLE\n");
    ON_A("COMMIT", "C COMMIT\n");
    expect_prefix(sb, &rb, "COMMIT", "E 40001 restart transaction");
    ON_B("SELECT * FROM x1", "T id\nC SELECT 0\n");
    ON_B("SELECT * FROM x2", "E 42P01 relation \"x2\" does not exist\n");
}

/* A transaction that only reads keeps the catalog it began with: B's
 * block, begun before A's ALTER, still reads t's old column list after
 * another session has moved B's cache to the new version. */
Test(catalog_nodes, b_block_reading_before_a_ddl_keeps_its_version)
{
    sql_session *other = open_session(eng_b);
    rec ro;

    ON_A("CREATE TABLE t (id int PRIMARY KEY)", "C CREATE TABLE\n");
    ON_A("INSERT INTO t VALUES (1)", "C INSERT 0 1\n");
    ON_B("BEGIN", "C BEGIN\n");
    ON_B("SELECT * FROM t", "T id\nD 1\nC SELECT 1\n");
    ON_A("ALTER TABLE t ADD COLUMN w int DEFAULT 3", "C ALTER TABLE\n");
    expect(other, &ro, "SELECT * FROM t", "T id,w\nD 1|3\nC SELECT 1\n");
    ON_B("SELECT * FROM t", "T id\nD 1\nC SELECT 1\n");
    ON_B("COMMIT", "C COMMIT\n");
    ON_B("SELECT * FROM t", "T id,w\nD 1|3\nC SELECT 1\n");
    sql_session_destroy(other);
}
