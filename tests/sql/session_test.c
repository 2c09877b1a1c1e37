/*
 * session_test.c - sessions (sql/session.h) over a real store in a temp
 * dir: every sink callback is recorded as one text line (session_rec.h),
 * so each test compares what a client would have received.
 *
 * Covers transaction states and ReadyForQuery status, 25P02, implicit
 * multi-statement transactions, conflicting sessions on threads (nothing
 * lost, server-side retry of implicit transactions), DDL and its notices,
 * databases and roles, SET/SHOW, cancel and statement_timeout, and the
 * extended protocol.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kv/kv_test_util.h"
#include "session_rec.h"

static char dir[KV_TEST_PATH_MAX];
static kv_store *store;
static sql_engine *eng;
static kv_arena *A;

static rec R;
static sql_session *S;

static const char *q(const char *text)
{
    return q_on(S, &R, text);
}

#define EXPECT(query, want) EXPECT_ON(S, &R, query, want)

static char *fake_hash(const char *password)
{
    char *v = malloc(strlen(password) + 8);
    if (v)
        sprintf(v, "hash:%s", password);
    return v;
}

static sql_session *new_session(const char *db, size_t n, const char *const *names,
                                const char *const *values)
{
    sql_session *s = NULL;
    sql_error err = {0};
    cr_assert_eq(sql_session_create(eng, "root", db, n, names, values, &s, &err, A), 0, "%s",
                 err.message);
    return s;
}

static void setup(void)
{
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = true, .node_id = 1};
    char msg[256] = "";
    sql_error err = {0};
    sql_engine_options eo = {.hash_password = fake_hash, .node_id = 1};

    cr_assert_eq(kv_arena_create(&A), 0);
    kv_test_mkdtemp(dir);
    cr_assert_eq(kv_store_open(dir, &o, &store, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(kv_store_bootstrap(store, NULL, NULL, 0, msg, sizeof msg), 0, "%s", msg);
    cr_assert_eq(sql_engine_open(store, &eo, &eng, &err, A), 0, "%s", err.message);
    S = new_session("defaultdb", 0, NULL, NULL);
}

static void teardown(void)
{
    sql_session_destroy(S);
    sql_engine_close(eng);
    kv_store_close(store);
    kv_test_rmrf(dir);
    kv_arena_destroy(A);
}

TestSuite(session, .init = setup, .fini = teardown, .timeout = 120);

/* ---- simple query and transactions ----------------------------------- */

Test(session, simple_query_round_trip)
{
    EXPECT("CREATE TABLE t (id int PRIMARY KEY, v text)", "C CREATE TABLE\n");
    EXPECT("INSERT INTO t VALUES (1, 'a'), (2, NULL)", "C INSERT 0 2\n");
    EXPECT("SELECT id, v FROM t ORDER BY id", "T id,v\nD 1|a\nD 2|NULL\nC SELECT 2\n");
    EXPECT("SELECT id FROM t WHERE id = 3", "T id\nC SELECT 0\n");
    EXPECT("", "I\n");
    EXPECT(";", "I\n");
    EXPECT("SELEC 1", "E 42601 syntax error at or near \"SELEC\"\n");
    cr_expect_eq(sql_session_txn_status(S), 'I');
}

Test(session, transaction_block_states)
{
    q("CREATE TABLE t (id int PRIMARY KEY)");
    EXPECT("BEGIN", "C BEGIN\n");
    cr_expect_eq(sql_session_txn_status(S), 'T');
    EXPECT("BEGIN", "N WARNING 25001 there is already a transaction in progress\nC BEGIN\n");
    EXPECT("INSERT INTO t VALUES (1)", "C INSERT 0 1\n");
    EXPECT("SELECT * FROM nope", "E 42P01 relation \"nope\" does not exist\n");
    cr_expect_eq(sql_session_txn_status(S), 'E');
    EXPECT("SELECT 1", "E 25P02 current transaction is aborted, commands ignored until end of "
                       "transaction block\n");
    EXPECT("SHOW TimeZone", "E 25P02 current transaction is aborted, commands ignored until "
                            "end of transaction block\n");
    EXPECT("COMMIT", "C ROLLBACK\n");
    cr_expect_eq(sql_session_txn_status(S), 'I');
    EXPECT("SELECT id FROM t", "T id\nC SELECT 0\n");
    EXPECT("COMMIT", "N WARNING 25P01 there is no transaction in progress\nC COMMIT\n");
    EXPECT("ROLLBACK", "N WARNING 25P01 there is no transaction in progress\nC ROLLBACK\n");
    EXPECT("START TRANSACTION ISOLATION LEVEL READ COMMITTED", "C START TRANSACTION\n");
    EXPECT("SHOW transaction_isolation", "T transaction_isolation\nD serializable\nC SHOW\n");
    EXPECT("INSERT INTO t VALUES (2)", "C INSERT 0 1\n");
    EXPECT("END", "C COMMIT\n");
    EXPECT("BEGIN; INSERT INTO t VALUES (3); ABORT", "C BEGIN\nC INSERT 0 1\nC ROLLBACK\n");
    EXPECT("SELECT id FROM t", "T id\nD 2\nC SELECT 1\n");
}

Test(session, read_only_transaction)
{
    q("CREATE TABLE t (id int PRIMARY KEY)");
    q("BEGIN READ ONLY");
    EXPECT("INSERT INTO t VALUES (1)",
           "E 25006 cannot execute INSERT in a read-only transaction\n");
    q("ROLLBACK");
    EXPECT("INSERT INTO t VALUES (1)", "C INSERT 0 1\n");
    EXPECT("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",
           "P default_transaction_read_only=on\nC SET\n");
    EXPECT("CREATE TABLE u (a int)",
           "E 25006 cannot execute CREATE TABLE in a read-only transaction\n");
    EXPECT("SELECT id FROM t", "T id\nD 1\nC SELECT 1\n");
    EXPECT("SET default_transaction_read_only = off",
           "P default_transaction_read_only=off\nC SET\n");
    EXPECT("CREATE TABLE u (a int)", "C CREATE TABLE\n");
}

Test(session, multi_statement_string_is_one_transaction)
{
    q("CREATE TABLE t (id int PRIMARY KEY)");
    EXPECT("INSERT INTO t VALUES (1); INSERT INTO t VALUES (1)",
           "C INSERT 0 1\nE 23505 duplicate key value violates unique constraint \"t_pkey\"\n");
    EXPECT("SELECT id FROM t", "T id\nC SELECT 0\n");
    /* with transaction control each statement stands alone */
    EXPECT("INSERT INTO t VALUES (1); BEGIN; INSERT INTO t VALUES (1)",
           "C INSERT 0 1\nC BEGIN\n"
           "E 23505 duplicate key value violates unique constraint \"t_pkey\"\n");
    cr_expect_eq(sql_session_txn_status(S), 'E');
    q("ROLLBACK");
    EXPECT("SELECT id FROM t", "T id\nD 1\nC SELECT 1\n");
    EXPECT("INSERT INTO t VALUES (2); SET application_name = 'x'",
           "C INSERT 0 1\nP application_name=x\nC SET\n");
    EXPECT("SELECT id FROM t", "T id\nD 1\nD 2\nC SELECT 2\n");
}

/* ---- concurrency --------------------------------------------------------- */

#define ROUNDS 15

typedef struct worker {
    sql_session *s;
    rec r;
    int done;
    int conflicts;
    bool block; /* explicit BEGIN ... COMMIT with client-side retry */
} worker;

static bool starts_with(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static void *transfer(void *arg)
{
    worker *w = arg;

    while (w->done < ROUNDS) {
        if (!w->block) {
            const char *out = q_on(w->s, &w->r, "UPDATE acct SET bal = bal + 1 WHERE id = 1");
            if (strcmp(out, "C UPDATE 1\n") != 0)
                return strdup(out);
            w->done++;
            continue;
        }
        const char *out = q_on(w->s, &w->r,
                               "BEGIN; UPDATE acct SET bal = bal - 1 WHERE id = 1; "
                               "UPDATE acct SET bal = bal + 1 WHERE id = 2; COMMIT");
        if (!strcmp(out, "C BEGIN\nC UPDATE 1\nC UPDATE 1\nC COMMIT\n")) {
            w->done++;
            continue;
        }
        /* a conflict: 40001 from a statement or the commit */
        if (!strstr(out, "E 40001 "))
            return strdup(out);
        w->conflicts++;
        q_on(w->s, &w->r, "ROLLBACK");
    }
    return NULL;
}

static void run_workers(bool block)
{
    worker w[2] = {{.block = block}, {.block = block}};
    pthread_t th[2];

    for (int i = 0; i < 2; i++) {
        w[i].s = new_session("defaultdb", 0, NULL, NULL);
        cr_assert_eq(pthread_create(&th[i], NULL, transfer, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        void *bad;
        pthread_join(th[i], &bad);
        cr_expect_null(bad, "worker %d got %s", i, (char *)bad);
        free(bad);
        sql_session_destroy(w[i].s);
    }
}

Test(session, conflicting_blocks_lose_nothing)
{
    q("CREATE TABLE acct (id int PRIMARY KEY, bal int)");
    q("INSERT INTO acct VALUES (1, 100), (2, 100)");
    run_workers(true);
    EXPECT("SELECT id, bal FROM acct ORDER BY id", "T id,bal\nD 1|70\nD 2|130\nC SELECT 2\n");
}

Test(session, implicit_transactions_retry_on_the_server)
{
    q("CREATE TABLE acct (id int PRIMARY KEY, bal int)");
    q("INSERT INTO acct VALUES (1, 0)");
    run_workers(false);
    EXPECT("SELECT bal FROM acct", "T bal\nD 30\nC SELECT 1\n");
}

/* ---- DDL --------------------------------------------------------------------- */

Test(session, create_and_drop_table)
{
    EXPECT("CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL DEFAULT 'x')", "C CREATE TABLE\n");
    EXPECT("CREATE TABLE t (id int)", "E 42P07 relation \"t\" already exists\n");
    EXPECT("CREATE TABLE IF NOT EXISTS t (id int)",
           "N NOTICE 42P07 relation \"t\" already exists, skipping\nC CREATE TABLE\n");
    EXPECT("CREATE TABLE u (a int, a text)", "E 42701 column \"a\" specified more than once\n");
    EXPECT("CREATE TABLE u (a int, PRIMARY KEY (b))",
           "E 42703 column \"b\" named in key does not exist\n");
    EXPECT("CREATE TABLE u (a int) WITH (fillfactor = 70)", "C CREATE TABLE\n");
    EXPECT("INSERT INTO t (id) VALUES (1)", "C INSERT 0 1\n");
    EXPECT("SELECT * FROM t", "T id,v\nD 1|x\nC SELECT 1\n");
    EXPECT("INSERT INTO t VALUES (NULL, 'y')",
           "E 23502 null value in column \"id\" of relation \"t\" violates not-null "
           "constraint\n");
    EXPECT("DROP TABLE nope", "E 42P01 table \"nope\" does not exist\n");
    EXPECT("DROP TABLE IF EXISTS nope, t",
           "N NOTICE 00000 table \"nope\" does not exist, skipping\nC DROP TABLE\n");
    EXPECT("SELECT * FROM t", "E 42P01 relation \"t\" does not exist\n");
    EXPECT("CREATE TABLE t (id int PRIMARY KEY)", "C CREATE TABLE\n");
    EXPECT("SELECT * FROM t", "T id\nC SELECT 0\n");
}

Test(session, constraints_and_generated_names)
{
    q("CREATE TABLE t (id serial PRIMARY KEY, v int UNIQUE, w int CHECK (w > 0))");
    EXPECT("INSERT INTO t (v, w) VALUES (10, 1), (20, 2) RETURNING id",
           "T id\nD 1\nD 2\nC INSERT 0 2\n");
    EXPECT("INSERT INTO t (v, w) VALUES (10, 3)",
           "E 23505 duplicate key value violates unique constraint \"t_v_key\"\n");
    EXPECT("INSERT INTO t (v, w) VALUES (30, 0)",
           "E 23514 new row for relation \"t\" violates check constraint \"t_w_check\"\n");
    /* a table without a primary key has a hidden row id */
    q("CREATE TABLE h (a int)");
    EXPECT("INSERT INTO h VALUES (1), (1)", "C INSERT 0 2\n");
    EXPECT("SELECT * FROM h", "T a\nD 1\nD 1\nC SELECT 2\n");
}

Test(session, truncate)
{
    q("CREATE TABLE a (id int PRIMARY KEY)");
    q("CREATE TABLE b (id int PRIMARY KEY)");
    q("INSERT INTO a VALUES (1); INSERT INTO b VALUES (2)");
    EXPECT("TRUNCATE a, nope", "E 42P01 relation \"nope\" does not exist\n");
    EXPECT("SELECT id FROM a", "T id\nD 1\nC SELECT 1\n");
    EXPECT("TRUNCATE a, b", "C TRUNCATE TABLE\n");
    EXPECT("SELECT id FROM a", "T id\nC SELECT 0\n");
    EXPECT("SELECT id FROM b", "T id\nC SELECT 0\n");
}

Test(session, alter_table_columns)
{
    q("CREATE TABLE t (id int PRIMARY KEY, v int)");
    q("INSERT INTO t VALUES (1, 10), (2, 20)");
    EXPECT("ALTER TABLE t ADD COLUMN w int DEFAULT 7", "C ALTER TABLE\n");
    EXPECT("ALTER TABLE t ADD COLUMN n text", "C ALTER TABLE\n");
    EXPECT("SELECT * FROM t ORDER BY id", "T id,v,w,n\nD 1|10|7|NULL\nD 2|20|7|NULL\nC SELECT 2\n");
    EXPECT("ALTER TABLE t ADD COLUMN w int",
           "E 42701 column \"w\" of relation \"t\" already exists\n");
    EXPECT("ALTER TABLE t ADD COLUMN IF NOT EXISTS w int",
           "N NOTICE 42701 column \"w\" of relation \"t\" already exists, skipping\n"
           "C ALTER TABLE\n");
    EXPECT("ALTER TABLE t ADD COLUMN z int NOT NULL",
           "E 23502 column \"z\" of relation \"t\" contains null values\n");
    EXPECT("ALTER TABLE t DROP COLUMN v", "C ALTER TABLE\n");
    EXPECT("ALTER TABLE t DROP COLUMN v",
           "E 42703 column \"v\" of relation \"t\" does not exist\n");
    EXPECT("ALTER TABLE t DROP COLUMN IF EXISTS v",
           "N NOTICE 00000 column \"v\" of relation \"t\" does not exist, skipping\n"
           "C ALTER TABLE\n");
    EXPECT("ALTER TABLE t DROP COLUMN id",
           "E 0A000 dropping primary key column \"id\" is not supported\n");
    EXPECT("SELECT * FROM t ORDER BY id", "T id,w,n\nD 1|7|NULL\nD 2|7|NULL\nC SELECT 2\n");
    EXPECT("ALTER TABLE nope ADD COLUMN a int", "E 42P01 relation \"nope\" does not exist\n");
    EXPECT("ALTER TABLE IF EXISTS nope ADD COLUMN a int",
           "N NOTICE 00000 relation \"nope\" does not exist, skipping\nC ALTER TABLE\n");
}

Test(session, alter_table_drops_what_a_column_carries)
{
    q("CREATE TABLE u (id int PRIMARY KEY, a int UNIQUE, b int, CHECK (a < b))");
    EXPECT("INSERT INTO u VALUES (1, 1, 2), (2, 2, 3)", "C INSERT 0 2\n");
    EXPECT("INSERT INTO u VALUES (3, 5, 4)",
           "E 23514 new row for relation \"u\" violates check constraint \"u_check\"\n");
    EXPECT("ALTER TABLE u DROP COLUMN a", "C ALTER TABLE\n");
    EXPECT("INSERT INTO u VALUES (3, 1)", "C INSERT 0 1\n");
    EXPECT("ALTER TABLE u ADD COLUMN s serial", "C ALTER TABLE\n");
    EXPECT("SELECT id, b, s FROM u ORDER BY id",
           "T id,b,s\nD 1|2|1\nD 2|3|2\nD 3|1|3\nC SELECT 3\n");
    EXPECT("INSERT INTO u (id, b) VALUES (4, 0) RETURNING s", "T s\nD 4\nC INSERT 0 1\n");
}

Test(session, alter_table_add_primary_key)
{
    q("CREATE TABLE t (a int, b text)");
    q("INSERT INTO t VALUES (2, 'x'), (1, 'y'), (2, 'z')");
    EXPECT("ALTER TABLE t ADD PRIMARY KEY (a)",
           "E 23505 could not create unique index \"t_pkey\"\n");
    EXPECT("SELECT a, b FROM t ORDER BY b", "T a,b\nD 2|x\nD 1|y\nD 2|z\nC SELECT 3\n");
    q("DELETE FROM t WHERE b = 'z'");
    EXPECT("ALTER TABLE t ADD PRIMARY KEY (a)", "C ALTER TABLE\n");
    EXPECT("SELECT * FROM t", "T a,b\nD 1|y\nD 2|x\nC SELECT 2\n");
    EXPECT("INSERT INTO t VALUES (1, 'w')",
           "E 23505 duplicate key value violates unique constraint \"t_pkey\"\n");
    EXPECT("ALTER TABLE t ADD PRIMARY KEY (b)",
           "E 42P16 multiple primary keys for table \"t\" are not allowed\n");
}

Test(session, ddl_is_transactional)
{
    q("BEGIN");
    EXPECT("CREATE TABLE t (id int PRIMARY KEY)", "C CREATE TABLE\n");
    EXPECT("INSERT INTO t VALUES (1)", "C INSERT 0 1\n");
    q("ROLLBACK");
    EXPECT("SELECT * FROM t", "E 42P01 relation \"t\" does not exist\n");
}

Test(session, databases)
{
    EXPECT("CREATE DATABASE d", "C CREATE DATABASE\n");
    EXPECT("CREATE DATABASE d", "E 42P04 database \"d\" already exists\n");
    EXPECT("DROP DATABASE defaultdb", "E 55006 cannot drop the currently open database\n");
    cr_expect_eq(sql_engine_database_exists(eng, "d"), 1);
    sql_session *s2 = new_session("d", 0, NULL, NULL);
    rec r2;
    cr_expect_str_eq(q_on(s2, &r2, "CREATE TABLE only_in_d (a int)"), "C CREATE TABLE\n");
    sql_session_destroy(s2);
    EXPECT("SELECT * FROM only_in_d", "E 42P01 relation \"only_in_d\" does not exist\n");
    q("BEGIN");
    EXPECT("DROP DATABASE d", "E 25001 DROP DATABASE cannot run inside a transaction block\n");
    q("ROLLBACK");
    EXPECT("DROP DATABASE d", "C DROP DATABASE\n");
    EXPECT("DROP DATABASE d", "E 3D000 database \"d\" does not exist\n");
    EXPECT("DROP DATABASE IF EXISTS d",
           "N NOTICE 00000 database \"d\" does not exist, skipping\nC DROP DATABASE\n");
    cr_expect_eq(sql_engine_database_exists(eng, "d"), 0);
    cr_expect_eq(sql_engine_database_exists(eng, "postgres"), 1);
}

Test(session, users)
{
    char *verifier = NULL;
    bool super = true;

    EXPECT("CREATE USER alice WITH PASSWORD 'secret'", "C CREATE ROLE\n");
    cr_assert_eq(sql_engine_role(eng, "alice", &verifier, &super), 0);
    cr_expect_str_eq(verifier, "hash:secret");
    cr_expect_not(super);
    free(verifier);
    EXPECT("CREATE USER alice", "E 42710 role \"alice\" already exists\n");
    EXPECT("ALTER USER alice WITH PASSWORD 'other'", "C ALTER ROLE\n");
    cr_assert_eq(sql_engine_role(eng, "alice", &verifier, &super), 0);
    cr_expect_str_eq(verifier, "hash:other");
    free(verifier);
    EXPECT("ALTER USER bob WITH PASSWORD 'x'", "E 42704 role \"bob\" does not exist\n");
    EXPECT("CREATE ROLE nologin_role", "C CREATE ROLE\n");
    cr_expect_eq(sql_engine_role(eng, "nologin_role", &verifier, &super), 1);
    EXPECT("DROP USER alice, bob", "E 42704 role \"bob\" does not exist\n");
    EXPECT("DROP USER IF EXISTS alice, bob",
           "N NOTICE 00000 role \"bob\" does not exist, skipping\nC DROP ROLE\n");
    cr_expect_eq(sql_engine_role(eng, "alice", &verifier, &super), 1);
    EXPECT("DROP USER root", "E 55006 current user cannot be dropped\n");
    cr_assert_eq(sql_engine_role(eng, "root", &verifier, &super), 0);
    cr_expect(super);
    free(verifier);
}

/* ---- settings ---------------------------------------------------------------- */

Test(session, set_and_show)
{
    EXPECT("SET application_name = 'psql'", "P application_name=psql\nC SET\n");
    EXPECT("SET application_name = 'psql'", "C SET\n");
    EXPECT("SHOW application_name", "T application_name\nD psql\nC SHOW\n");
    EXPECT("SHOW timezone", "T TimeZone\nD UTC\nC SHOW\n");
    EXPECT("SET TIME ZONE 'Europe/Paris'", "P TimeZone=Europe/Paris\nC SET\n");
    EXPECT("SET TimeZone = 'Mars/Olympus'",
           "E 22023 invalid value for parameter \"TimeZone\": \"Mars/Olympus\"\n");
    EXPECT("SET nope = 1", "E 42704 unrecognized configuration parameter \"nope\"\n");
    EXPECT("SHOW nope", "E 42704 unrecognized configuration parameter \"nope\"\n");
    EXPECT("SET client_encoding = 'unicode'", "C SET\n");
    EXPECT("SET client_encoding = 'LATIN1'",
           "E 22023 invalid value for parameter \"client_encoding\": \"LATIN1\"\n");
    EXPECT("SET DateStyle = 'ISO'", "C SET\n");
    EXPECT("SET DateStyle = 'German'",
           "E 0A000 setting DateStyle to \"German\" is not supported\n");
    EXPECT("SET IntervalStyle = 'sql_standard'",
           "E 0A000 setting IntervalStyle to \"sql_standard\" is not supported\n");
    EXPECT("SET LOCAL TimeZone = 'UTC'", "E 0A000 SET LOCAL is not supported yet\n");
    EXPECT("SET TimeZone = 'UTC', 'GMT'", "E 22023 SET timezone takes only one argument\n");
    EXPECT("SET extra_float_digits = 3", "C SET\n");
    EXPECT("SET extra_float_digits = 9",
           "E 22023 9 is outside the valid range for parameter \"extra_float_digits\" (-15 .. "
           "3)\n");
    EXPECT("SET statement_timeout = '90s'", "C SET\n");
    EXPECT("SHOW statement_timeout", "T statement_timeout\nD 90s\nC SHOW\n");
    EXPECT("SET statement_timeout = 1500", "C SET\n");
    EXPECT("SHOW statement_timeout", "T statement_timeout\nD 1500ms\nC SHOW\n");
    EXPECT("RESET statement_timeout", "C RESET\n");
    EXPECT("SHOW statement_timeout", "T statement_timeout\nD 0\nC SHOW\n");
    EXPECT("SET search_path = public, \"$user\"", "C SET\n");
    EXPECT("SHOW search_path", "T search_path\nD public, \"$user\"\nC SHOW\n");
    EXPECT("SET server_version = '16'", "E 55P02 parameter \"server_version\" cannot be changed\n");
    EXPECT("SHOW server_version", "T server_version\nD 15.18\nC SHOW\n");
    EXPECT("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
           "N WARNING 25P01 SET TRANSACTION can only be used in transaction blocks\nC SET\n");
    EXPECT("SET default_transaction_isolation = 'repeatable read'", "C SET\n");
    EXPECT("SHOW default_transaction_isolation",
           "T default_transaction_isolation\nD serializable\nC SHOW\n");
    EXPECT("RESET ALL", "P application_name=\nP TimeZone=UTC\nC RESET\n");
    cr_expect_str_eq(sql_session_setting(S, "TimeZone"), "UTC");
    cr_expect_str_eq(sql_session_setting(S, "is_superuser"), "on");
    cr_expect_str_eq(sql_session_setting(S, "session_authorization"), "root");
    const char *all = q("SHOW ALL");
    cr_expect(starts_with(all, "T name,setting,description\nD application_name||"), "%s", all);
    cr_expect(strstr(all, "\nD server_version|15.18|") != NULL);
}

Test(session, timezone_changes_timestamptz_output)
{
    q("SET TimeZone = 'UTC'");
    EXPECT("SELECT '2024-01-01 12:00:00+00'::timestamptz",
           "T timestamptz\nD 2024-01-01 12:00:00+00\nC SELECT 1\n");
    q("SET TimeZone = 'Asia/Tokyo'");
    EXPECT("SELECT '2024-01-01 12:00:00+00'::timestamptz",
           "T timestamptz\nD 2024-01-01 21:00:00+09\nC SELECT 1\n");
}

Test(session, startup_parameters)
{
    static const char *const names[] = {"user", "application_name", "options", "client_encoding"};
    static const char *const values[] = {"root", "app", "-c statement_timeout=5s --DateStyle=ISO",
                                         "UTF8"};
    sql_session *s = new_session("defaultdb", 4, names, values);
    cr_expect_str_eq(sql_session_setting(s, "application_name"), "app");
    cr_expect_str_eq(sql_session_setting(s, "statement_timeout"), "5s");
    sql_session_destroy(s);

    static const char *const bad_names[] = {"client_encoding"};
    static const char *const bad_values[] = {"SQL_ASCII"};
    sql_error err = {0};
    cr_expect_eq(
        sql_session_create(eng, "root", "defaultdb", 1, bad_names, bad_values, &s, &err, A), -1);
    cr_expect_str_eq(sql_sqlstate_code(err.state), "22023");
    cr_expect_eq(sql_session_create(eng, "root", "nodb", 0, NULL, NULL, &s, &err, A), -1);
    cr_expect_str_eq(err.message, "database \"nodb\" does not exist");
}

/* ---- cancel and statement_timeout -------------------------------------------- */

Test(session, statement_timeout_cancels)
{
    EXPECT("SET statement_timeout = 50", "C SET\n");
    EXPECT("SELECT pg_sleep(30)", "E 57014 canceling statement due to statement timeout\n");
    EXPECT("BEGIN", "C BEGIN\n");
    EXPECT("SELECT pg_sleep(30)", "E 57014 canceling statement due to statement timeout\n");
    cr_expect_eq(sql_session_txn_status(S), 'E');
    q("ROLLBACK");
    EXPECT("SET statement_timeout = 0", "C SET\n");
    EXPECT("SELECT 1", "T ?column?\nD 1\nC SELECT 1\n");
}

static void *canceller(void *arg)
{
    volatile int *stop = arg;
    while (!*stop) {
        sql_session_cancel(S);
        usleep(20000);
    }
    return NULL;
}

Test(session, cancel_request)
{
    volatile int stop = 0;
    pthread_t th;

    cr_assert_eq(pthread_create(&th, NULL, canceller, (void *)&stop), 0);
    const char *out = q("SELECT pg_sleep(30)");
    stop = 1;
    pthread_join(th, NULL);
    cr_expect_str_eq(out, "E 57014 canceling statement due to user request\n");
    /* the flag does not outlive the statement */
    EXPECT("SELECT 1", "T ?column?\nD 1\nC SELECT 1\n");
}

/* ---- extended protocol -------------------------------------------------------- */

static sql_error xerr;

static void prepare(const char *name, const char *text, size_t n, const uint32_t *types)
{
    cr_assert_eq(sql_session_prepare(S, name, text, n, types, &xerr, A), 0, "%s: %s", text,
                 xerr.message);
}

static void bind(const char *portal, const char *stmt, size_t n, const char *const *texts,
                 int16_t result_format)
{
    sql_value v[8];
    for (size_t i = 0; i < n; i++)
        v[i] = texts[i] ? (sql_value){(const uint8_t *)texts[i], (int32_t)strlen(texts[i])}
                        : (sql_value){NULL, -1};
    cr_assert_eq(sql_session_bind(S, portal, stmt, 0, NULL, n, v, 1, &result_format, &xerr, A), 0,
                 "%s", xerr.message);
}

static const char *execute(const char *portal, uint32_t max_rows, bool sync_follows)
{
    sql_sink k = sink_for(&R);
    R.len = 0;
    R.buf[0] = '\0';
    cr_assert_eq(sql_session_execute(S, portal, max_rows, sync_follows, &k), 0);
    return R.buf;
}

static const char *sync_(void)
{
    sql_sink k = sink_for(&R);
    R.len = 0;
    R.buf[0] = '\0';
    cr_assert_eq(sql_session_sync(S, &k), 0);
    return R.buf;
}

Test(session, extended_prepare_bind_describe_execute)
{
    q("CREATE TABLE t (id int PRIMARY KEY, v text)");
    q("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')");
    prepare("sel", "SELECT v FROM t WHERE id >= $1 ORDER BY id", 0, NULL);

    const uint32_t *ptypes;
    size_t np, nc;
    const sql_column_info *cols;
    bool rows;
    cr_assert_eq(sql_session_describe(S, 'S', "sel", &ptypes, &np, &cols, &nc, &rows, &xerr, A), 0);
    cr_expect_eq(np, 1);
    cr_expect_eq(ptypes[0], SQL_T_INT4);
    cr_expect_eq(nc, 1);
    cr_expect_str_eq(cols[0].name, "v");
    cr_expect(rows);

    const char *one[] = {"1"};
    bind("", "sel", 1, one, 0);
    cr_expect_str_eq(execute("", 2, false), "D a\nD b\nS\n");
    cr_expect_str_eq(execute("", 2, false), "D c\nC SELECT 1\n");
    cr_expect_str_eq(sync_(), "");
    bind("p", "sel", 1, one, 0);
    cr_expect_str_eq(execute("p", 0, true), "D a\nD b\nD c\nC SELECT 3\n");
    sql_session_close(S, 'P', "p");
    cr_expect_str_eq(execute("p", 0, true), "E 34000 portal \"p\" does not exist\n");

    sql_value two[2] = {{(const uint8_t *)"1", 1}, {(const uint8_t *)"2", 1}};
    cr_expect_eq(sql_session_bind(S, "", "sel", 0, NULL, 2, two, 0, NULL, &xerr, A), -1);
    cr_expect_str_eq(xerr.message,
                     "bind message supplies 2 parameters, but prepared statement \"sel\" "
                     "requires 1");
    cr_expect_eq(sql_session_bind(S, "", "nope", 0, NULL, 0, NULL, 0, NULL, &xerr, A), -1);
    cr_expect_str_eq(sql_sqlstate_code(xerr.state), "26000");
    const char *bad[] = {"x"};
    cr_expect_eq(sql_session_bind(S, "", "sel", 0, NULL, 1,
                                  (sql_value[]){{(const uint8_t *)bad[0], 1}}, 0, NULL, &xerr, A),
                 -1);
    cr_expect_str_eq(xerr.message, "invalid input syntax for type integer: \"x\"");
    cr_expect_eq(sql_session_prepare(S, "sel", "SELECT 1", 0, NULL, &xerr, A), -1);
    cr_expect_str_eq(xerr.message, "prepared statement \"sel\" already exists");
    /* inside a block, a refused Bind fails the block as PostgreSQL's does */
    q("BEGIN");
    cr_expect_eq(sql_session_bind(S, "", "nope", 0, NULL, 0, NULL, 0, NULL, &xerr, A), -1);
    cr_expect_eq(sql_session_txn_status(S), 'E');
    cr_expect_eq(sql_session_bind(S, "", "sel", 0, NULL, 1,
                                  (sql_value[]){{(const uint8_t *)"1", 1}}, 0, NULL, &xerr, A),
                 -1);
    cr_expect_str_eq(sql_sqlstate_code(xerr.state), "25P02");
    q("ROLLBACK");
}

Test(session, extended_binary_and_null_parameters)
{
    q("CREATE TABLE t (id int8 PRIMARY KEY, v text)");
    uint32_t types[2] = {SQL_T_INT8, 0};
    prepare("ins", "INSERT INTO t VALUES ($1, $2) RETURNING id", 2, types);
    static const uint8_t id_be[8] = {0, 0, 0, 0, 0, 0, 0, 42};
    sql_value v[2] = {{id_be, 8}, {NULL, -1}};
    int16_t formats[2] = {1, 0};
    int16_t binary = 1;
    cr_assert_eq(sql_session_bind(S, "", "ins", 2, formats, 2, v, 1, &binary, &xerr, A), 0, "%s",
                 xerr.message);
    sql_sink k = sink_for(&R);
    R.len = 0;
    cr_assert_eq(sql_session_execute(S, "", 0, true, &k), 0);
    /* the binary int8 is 8 bytes ending in 42 ('*') */
    cr_expect_str_eq(R.buf, "D \\x00\\x00\\x00\\x00\\x00\\x00\\x00*\nC INSERT 0 1\n");
    sync_();
    EXPECT("SELECT id, v FROM t", "T id,v\nD 42|NULL\nC SELECT 1\n");
}

Test(session, extended_implicit_transaction_until_sync)
{
    sql_session *other = new_session("defaultdb", 0, NULL, NULL);
    rec r2;

    q("CREATE TABLE t (id int PRIMARY KEY)");
    prepare("ins", "INSERT INTO t VALUES ($1)", 0, NULL);
    const char *one[] = {"1"}, *two[] = {"2"};
    bind("", "ins", 1, one, 0);
    cr_expect_str_eq(execute("", 0, false), "C INSERT 0 1\n");
    bind("", "ins", 1, two, 0);
    cr_expect_str_eq(execute("", 0, false), "C INSERT 0 1\n");
    cr_expect_eq(sql_session_txn_status(S), 'I');
    cr_expect_str_eq(sync_(), "");
    cr_expect_str_eq(q_on(other, &r2, "SELECT id FROM t ORDER BY id"),
                     "T id\nD 1\nD 2\nC SELECT 2\n");
    /* an error before Sync rolls the implicit transaction back */
    const char *three[] = {"3"};
    bind("", "ins", 1, three, 0);
    cr_expect_str_eq(execute("", 0, false), "C INSERT 0 1\n");
    bind("", "ins", 1, one, 0);
    cr_expect_str_eq(execute("", 0, false),
                     "E 23505 duplicate key value violates unique constraint \"t_pkey\"\n");
    cr_expect_str_eq(sync_(), "");
    cr_expect_str_eq(q_on(other, &r2, "SELECT id FROM t ORDER BY id"),
                     "T id\nD 1\nD 2\nC SELECT 2\n");
    sql_session_destroy(other);
}

Test(session, extended_utility_statements)
{
    const uint32_t *ptypes;
    size_t np, nc;
    const sql_column_info *cols;
    bool rows;

    prepare("", "BEGIN", 0, NULL);
    bind("", "", 0, NULL, 0);
    cr_expect_str_eq(execute("", 0, true), "C BEGIN\n");
    sync_();
    cr_expect_eq(sql_session_txn_status(S), 'T');
    prepare("", "SHOW DateStyle", 0, NULL);
    cr_assert_eq(sql_session_describe(S, 'S', "", &ptypes, &np, &cols, &nc, &rows, &xerr, A), 0);
    cr_expect_eq(nc, 1);
    cr_expect_str_eq(cols[0].name, "DateStyle");
    bind("", "", 0, NULL, 0);
    cr_expect_str_eq(execute("", 0, true), "D ISO, MDY\nC SHOW\n");
    prepare("", "CREATE TABLE t (a int)", 0, NULL);
    cr_assert_eq(sql_session_describe(S, 'S', "", &ptypes, &np, &cols, &nc, &rows, &xerr, A), 0);
    cr_expect(nc == 0 && !rows);
    bind("", "", 0, NULL, 0);
    cr_expect_str_eq(execute("", 0, true), "C CREATE TABLE\n");
    prepare("", "COMMIT", 0, NULL);
    bind("", "", 0, NULL, 0);
    cr_expect_str_eq(execute("", 0, true), "C COMMIT\n");
    sync_();
    cr_expect_eq(sql_session_txn_status(S), 'I');
    prepare("", "", 0, NULL);
    bind("", "", 0, NULL, 0);
    cr_expect_str_eq(execute("", 0, true), "I\n");
}

Test(session, prepared_statement_replans_after_ddl)
{
    q("CREATE TABLE t (id int PRIMARY KEY, v int)");
    q("INSERT INTO t VALUES (1, 5)");
    prepare("v", "SELECT v FROM t", 0, NULL);
    prepare("all", "SELECT * FROM t", 0, NULL);
    q("ALTER TABLE t ADD COLUMN w int DEFAULT 9");
    bind("", "v", 0, NULL, 0);
    cr_expect_str_eq(execute("", 0, true), "D 5\nC SELECT 1\n");
    cr_expect_eq(sql_session_bind(S, "", "all", 0, NULL, 0, NULL, 0, NULL, &xerr, A), -1);
    cr_expect_str_eq(xerr.message, "cached plan must not change result type");
    q("ALTER TABLE t DROP COLUMN v");
    cr_expect_eq(sql_session_bind(S, "", "v", 0, NULL, 0, NULL, 0, NULL, &xerr, A), -1);
    cr_expect_str_eq(xerr.message, "column \"v\" does not exist");
}
