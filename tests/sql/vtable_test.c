/*
 * vtable_test.c - the system catalogs (sql/vtable.c, sql/vtable_pg.c,
 * sql/vtable_info.c, sql/expr_func_catalog.c) through a session over a
 * real store: virtual tables joined, filtered, aggregated and used in
 * subqueries by the ordinary executor; the catalog read through the
 * statement's transaction (its own uncommitted DDL); prepared statements
 * that see tables created after they were planned; one oid per relation
 * across pg_class, pg_index, pg_attribute and regclass; writes and DDL
 * refused as PostgreSQL refuses them; EXPLAIN. The e2e script
 * tests/e2e/sql/psql_describe.sql checks psql's own queries against
 * PostgreSQL 15.
 */
#include <criterion/criterion.h>

#include "session_suite.h"

static void setup(void)
{
    sess_open(&E);
    q("CREATE TABLE acc (id int PRIMARY KEY, name text NOT NULL UNIQUE, bal int DEFAULT 0)");
    q("CREATE TABLE ord (id bigserial PRIMARY KEY, acc int, amt int CHECK (amt > 0))");
    q("CREATE INDEX ord_acc_idx ON ord (acc)");
}

TestSuite(vtable, .init = setup, .fini = suite_teardown, .timeout = 120);

Test(vtable, relations_and_their_kinds)
{
    EXPECT("SELECT relname, relkind, relnatts FROM pg_class WHERE relnamespace = 2200 ORDER BY "
           "relname",
           "T relname,relkind,relnatts\n"
           "D acc|r|3\nD acc_name_key|i|1\nD acc_pkey|i|1\nD ord|r|3\nD ord_acc_idx|i|1\n"
           "D ord_id_seq|S|3\nD ord_pkey|i|1\nC SELECT 7\n");
    /* qualified and unqualified names reach the same table */
    EXPECT("SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_class d ON c.oid = d.oid "
           "WHERE c.relnamespace = 'public'::regnamespace",
           "T count\nD 7\nC SELECT 1\n");
}

Test(vtable, one_oid_per_relation)
{
    /* table oids: descriptor ids mapped into PostgreSQL's user range */
    EXPECT("SELECT count(*) FROM pg_class WHERE oid < 16384 AND relnamespace = 2200",
           "T count\nD 0\nC SELECT 1\n");
    EXPECT("SELECT 'ord'::regclass = oid, oid::regclass FROM pg_class WHERE relname = 'ord'",
           "T ?column?,oid\nD t|ord\nC SELECT 1\n");
    EXPECT("SELECT c.relname, t.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
           "JOIN pg_class t ON t.oid = i.indrelid ORDER BY 1",
           "T relname,relname\nD acc_name_key|acc\nD acc_pkey|acc\nD ord_acc_idx|ord\n"
           "D ord_pkey|ord\nC SELECT 4\n");
    EXPECT("SELECT a.attname FROM pg_attribute a WHERE a.attrelid = 'ord_acc_idx'::regclass",
           "T attname\nD acc\nC SELECT 1\n");
    EXPECT("SELECT 'ord_id_seq'::regclass::oid = (SELECT oid FROM pg_class WHERE relkind = 'S')",
           "T ?column?\nD t\nC SELECT 1\n");
    /* an oid that names nothing prints as its number */
    EXPECT("SELECT 12::regclass, 12::regtype, 23::regtype, 2200::regnamespace",
           "T regclass,regtype,regtype,regnamespace\nD 12|12|integer|public\nC SELECT 1\n");
}

/* The catalogs list themselves under PostgreSQL's oids. */
Test(vtable, catalogs_describe_themselves)
{
    EXPECT("SELECT 'pg_class'::regclass::oid, 'pg_catalog.pg_type'::regclass::oid, "
           "1259::regclass, 13425::regclass, pg_table_is_visible(13425)",
           "T oid,oid,regclass,regclass,pg_table_is_visible\n"
           "D 1259|1247|pg_class|information_schema.tables|f\nC SELECT 1\n");
    EXPECT("SELECT relkind, relnatts FROM pg_class WHERE oid = 'pg_roles'::regclass",
           "T relkind,relnatts\nD v|13\nC SELECT 1\n");
    EXPECT("SELECT attname FROM pg_attribute WHERE attrelid = 'pg_am'::regclass ORDER BY attnum",
           "T attname\nD oid\nD amname\nD amhandler\nD amtype\nC SELECT 4\n");
    EXPECT("SELECT table_schema, table_type FROM information_schema.tables "
           "WHERE table_name IN ('pg_class', 'columns') ORDER BY 1",
           "T table_schema,table_type\nD information_schema|VIEW\nD pg_catalog|BASE TABLE\n"
           "C SELECT 2\n");
    EXPECT("SELECT 'public.pg_class'::regclass",
           "E 42P01 relation \"public.pg_class\" does not exist\n");
}

Test(vtable, sequences_tables_and_indexes_views)
{
    EXPECT("SELECT seqrelid::regclass, format_type(seqtypid, NULL), seqmax FROM pg_sequence",
           "T seqrelid,format_type,seqmax\nD ord_id_seq|bigint|9223372036854775807\nC SELECT 1\n");
    EXPECT("SELECT objid::regclass, refobjid::regclass, refobjsubid, deptype FROM pg_depend",
           "T objid,refobjid,refobjsubid,deptype\nD ord_id_seq|ord|1|a\nC SELECT 1\n");
    EXPECT("SELECT tablename, hasindexes FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
           "T tablename,hasindexes\nD acc|t\nD ord|t\nC SELECT 2\n");
    EXPECT("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'acc' ORDER BY 1",
           "T indexname,indexdef\n"
           "D acc_name_key|CREATE UNIQUE INDEX acc_name_key ON public.acc USING btree (name)\n"
           "D acc_pkey|CREATE UNIQUE INDEX acc_pkey ON public.acc USING btree (id)\nC SELECT 2\n");
    q("CREATE TABLE small (id serial PRIMARY KEY)");
    EXPECT("SELECT format_type(seqtypid, NULL), seqmax FROM pg_sequence "
           "WHERE seqrelid = 'small_id_seq'::regclass",
           "T format_type,seqmax\nD integer|2147483647\nC SELECT 1\n");
}

/* int2vector columns are arrays from subscript 0, as in PostgreSQL. */
Test(vtable, array_columns)
{
    q("CREATE INDEX ord_two_idx ON ord (amt DESC, acc)");
    EXPECT("SELECT indkey[0], indkey[1], indoption, indcollation FROM pg_index "
           "WHERE indexrelid = 'ord_two_idx'::regclass",
           "T indkey,indkey,indoption,indcollation\nD 3|2|[0:1]={3,0}|[0:1]={0,0}\nC SELECT 1\n");
    EXPECT("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
           "AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'acc'::regclass AND i.indisprimary",
           "T attname\nD id\nC SELECT 1\n");
    EXPECT("SELECT conkey FROM pg_constraint WHERE contype = 'u'", "T conkey\nD {2}\nC SELECT 1\n");
    EXPECT("SELECT datname, datacl FROM pg_database WHERE datistemplate ORDER BY 1",
           "T datname,datacl\nD template0|{=c/root,root=CTc/root}\n"
           "D template1|{=c/root,root=CTc/root}\nC SELECT 2\n");
    EXPECT("SELECT current_schemas(true), 'public' = ANY (current_schemas(false))",
           "T current_schemas,?column?\nD {pg_catalog,public}|t\nC SELECT 1\n");
    EXPECT("SELECT typname, typelem FROM pg_type WHERE oid = 1007",
           "T typname,typelem\nD _int4|23\nC SELECT 1\n");
}

Test(vtable, views)
{
    q("CREATE VIEW rich AS SELECT id, name FROM acc WHERE bal > 100");
    EXPECT("SELECT relkind, relnatts, relhasindex FROM pg_class WHERE relname = 'rich'",
           "T relkind,relnatts,relhasindex\nD v|2|f\nC SELECT 1\n");
    EXPECT("SELECT viewname, definition = pg_get_viewdef('rich'::regclass) FROM pg_views",
           "T viewname,?column?\nD rich|t\nC SELECT 1\n");
    EXPECT("SELECT table_type FROM information_schema.tables WHERE table_name = 'rich'",
           "T table_type\nD VIEW\nC SELECT 1\n");
    EXPECT("SELECT count(*) FROM pg_index WHERE indrelid = 'rich'::regclass",
           "T count\nD 0\nC SELECT 1\n");
    /* a view over a catalog does not depend on it */
    q("CREATE VIEW rels AS SELECT relname FROM pg_class");
    EXPECT("SELECT count(*) > 0 FROM rels", "T ?column?\nD t\nC SELECT 1\n");
    EXPECT("SELECT pg_partition_ancestors('acc'::regclass)",
           "T pg_partition_ancestors\nC SELECT 0\n");
}

Test(vtable, ordinary_machinery_over_catalogs)
{
    /* correlated subqueries, EXISTS, aggregation, DISTINCT and LIMIT */
    EXPECT("SELECT c.relname, (SELECT count(*) FROM pg_attribute a WHERE a.attrelid = c.oid "
           "AND a.attnum > 0) FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 2200 "
           "ORDER BY 1",
           "T relname,count\nD acc|3\nD ord|3\nC SELECT 2\n");
    EXPECT("SELECT relname FROM pg_class c WHERE EXISTS (SELECT 1 FROM pg_constraint "
           "WHERE conrelid = c.oid AND contype = 'c')",
           "T relname\nD ord\nC SELECT 1\n");
    EXPECT("SELECT contype, count(*) FROM pg_constraint GROUP BY contype ORDER BY 1",
           "T contype,count\nD c|1\nD p|2\nD u|1\nC SELECT 3\n");
    EXPECT(
        "SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' "
        "ORDER BY 1",
        "T table_name\nD acc\nD ord\nC SELECT 2\n");
    EXPECT("SELECT typname FROM pg_type ORDER BY oid LIMIT 2",
           "T typname\nD bool\nD bytea\nC SELECT 2\n");
    /* a catalog joined with a stored table */
    q("INSERT INTO acc VALUES (1, 'x', 5)");
    EXPECT("SELECT a.name, c.relname FROM acc a CROSS JOIN pg_class c WHERE c.relkind = 'S'",
           "T name,relname\nD x|ord_id_seq\nC SELECT 1\n");
}

Test(vtable, explain_names_a_seq_scan)
{
    EXPECT("EXPLAIN SELECT c.relname FROM pg_class c JOIN pg_namespace n "
           "ON n.oid = c.relnamespace",
           "T QUERY PLAN\nD Hash Join\nD   ->  Seq Scan on pg_class c\nD   ->  Hash\n"
           "D         ->  Seq Scan on pg_namespace n\nC EXPLAIN\n");
}

Test(vtable, the_transactions_own_ddl_is_seen)
{
    q("BEGIN");
    q("CREATE TABLE fresh (a int)");
    EXPECT("SELECT relname FROM pg_class WHERE relname = 'fresh'",
           "T relname\nD fresh\nC SELECT 1\n");
    q("ROLLBACK");
    EXPECT("SELECT relname FROM pg_class WHERE relname = 'fresh'", "T relname\nC SELECT 0\n");
}

Test(vtable, a_prepared_statement_reads_the_catalog_each_time)
{
    sql_error err;
    sql_sink k = sink_for(&R);
    cr_assert_eq(sql_session_prepare(
                     E.s, "p",
                     "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relnamespace = 2200", 0,
                     NULL, &err, E.arena),
                 0);
    for (int round = 0; round < 2; round++) {
        cr_assert_eq(sql_session_bind(E.s, "", "p", 0, NULL, 0, NULL, 0, NULL, &err, E.arena), 0);
        R.len = 0;
        R.buf[0] = '\0';
        cr_assert_eq(sql_session_execute(E.s, "", 0, true, &k), 0);
        cr_expect_str_eq(R.buf, round == 0 ? "D 2\nC SELECT 1\n" : "D 3\nC SELECT 1\n");
        cr_assert_eq(sql_session_sync(E.s, &k), 0);
        if (round == 0)
            q("CREATE TABLE later (a int PRIMARY KEY)");
    }
}

Test(vtable, roles_and_owners)
{
    q("CREATE USER alice");
    EXPECT("SELECT rolname, rolsuper, rolcanlogin, pg_get_userbyid(oid) = rolname FROM pg_roles "
           "ORDER BY 1",
           "T rolname,rolsuper,rolcanlogin,?column?\nD alice|f|t|t\nD pg_database_owner|f|f|t\n"
           "D root|t|t|t\nC SELECT 3\n");
    EXPECT("SELECT 'alice'::regrole::regrole, 'root'::regrole::oid",
           "T regrole,oid\nD alice|10\nC SELECT 1\n");
    EXPECT("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class",
           "T pg_get_userbyid\nD root\nC SELECT 1\n");
}

/* A sink that takes COPY TO STDOUT (its rows unrecorded). */
static int copy_start(void *ctx, bool in, size_t ncols)
{
    (void)ctx, (void)in, (void)ncols;
    return 0;
}

static int copy_data(void *ctx, const void *data, size_t len)
{
    (void)ctx, (void)data, (void)len;
    return 0;
}

static int copy_done(void *ctx)
{
    (void)ctx;
    return 0;
}

static const char *copy_out(const char *query)
{
    sql_sink k = sink_for(&R);
    k.copy_start = copy_start, k.copy_data = copy_data, k.copy_done = copy_done;
    R.len = 0;
    R.buf[0] = '\0';
    cr_assert_eq(sql_session_simple(E.s, query, &k), 0);
    return R.buf;
}

Test(vtable, writes_and_ddl_are_refused)
{
    EXPECT("INSERT INTO pg_class (relname) VALUES ('x')",
           "E 42501 permission denied for table pg_class\n");
    EXPECT("UPDATE pg_catalog.pg_attribute SET attname = 'x'",
           "E 42501 permission denied for table pg_attribute\n");
    EXPECT("DELETE FROM pg_roles", "E 0A000 cannot delete from view \"pg_roles\"\n");
    EXPECT("UPDATE information_schema.tables SET table_name = 'x'",
           "E 0A000 cannot update view \"tables\"\n");
    EXPECT("DROP TABLE pg_class", "E 42501 permission denied: \"pg_class\" is a system catalog\n");
    EXPECT("TRUNCATE pg_index", "E 42501 permission denied: \"pg_index\" is a system catalog\n");
    EXPECT("CREATE INDEX ON pg_type (typname)",
           "E 42501 permission denied: \"pg_type\" is a system catalog\n");
    cr_expect_str_eq(copy_out("COPY pg_class TO STDOUT"),
                     "E 0A000 COPY of system catalog \"pg_class\" is not supported yet\n");
    EXPECT("SELECT * FROM information_schema.nope",
           "E 42P01 relation \"information_schema.nope\" does not exist\n");
    /* public.pg_class may exist beside it, as in PostgreSQL */
    q("CREATE TABLE pg_class (a int)");
    EXPECT("SELECT count(*) FROM public.pg_class", "T count\nD 0\nC SELECT 1\n");
    EXPECT("SELECT count(*) > 0 FROM pg_class", "T ?column?\nD t\nC SELECT 1\n");
}

Test(vtable, definitions)
{
    EXPECT("SELECT pg_get_indexdef(indexrelid), pg_get_indexdef(indexrelid, 1, true) "
           "FROM pg_index WHERE indrelid = 'ord'::regclass ORDER BY 1",
           "T pg_get_indexdef,pg_get_indexdef\n"
           "D CREATE INDEX ord_acc_idx ON public.ord USING btree (acc)|acc\n"
           "D CREATE UNIQUE INDEX ord_pkey ON public.ord USING btree (id)|id\nC SELECT 2\n");
    EXPECT("SELECT pg_get_constraintdef(oid), pg_get_constraintdef(oid, true) FROM pg_constraint "
           "WHERE contype = 'c'",
           "T pg_get_constraintdef,pg_get_constraintdef\n"
           "D CHECK ((amt > 0))|CHECK (amt > 0)\nC SELECT 1\n");
    EXPECT("SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef ORDER BY 1",
           "T pg_get_expr\nD 0\nD nextval('ord_id_seq'::regclass)\nC SELECT 2\n");
    EXPECT("SELECT pg_get_expr('x', 'acc'::regclass)",
           "E 22P02 invalid input syntax for type pg_node_tree\n");
}
