-- System catalogs: psql's describe commands (\d, \dt, \di, \dn, \d INDEX)
-- and the catalog queries drivers send, over a schema like the one in
-- ../shared/pgclients (primary keys, unique and plain indexes, CHECK,
-- defaults, a serial column and its sequence).
\d
CREATE TABLE accounts (
    id int PRIMARY KEY,
    name text NOT NULL,
    balance numeric(12, 2) DEFAULT 0,
    created timestamptz DEFAULT now()
);
CREATE UNIQUE INDEX accounts_name_idx ON accounts (name);
CREATE TABLE orders (
    oid bigserial PRIMARY KEY,
    acct int,
    amount int CHECK (amount > 0),
    note varchar(40)
);
CREATE INDEX orders_acct_idx ON orders (acct);
CREATE TABLE tags (
    tag varchar(10) UNIQUE,
    label text DEFAULT 'none',
    weight smallint NOT NULL DEFAULT -1,
    flag boolean DEFAULT true,
    CONSTRAINT weight_small CHECK (weight < 100 AND weight > -100)
);
CREATE INDEX tags_weight_flag_idx ON tags (weight DESC, flag);
CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100;
CREATE USER describe_user;
\d
\dt
\di
\dn
\d accounts_name_idx
\d orders_pkey
\d tags_weight_flag_idx
\d orders_oid_seq
\ds
\di orders*
\dt pg_catalog.pg_am
\dv pg_catalog.pg_roles
\dv
\d orders
\d accounts
\d tags
\d big_orders
\l
\du
\dn+
\dT
\dp
-- what drivers and ORMs ask: primary key columns, a type's schema
SELECT a.attname, format_type(a.atttypid, a.atttypmod)
  FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
 WHERE i.indrelid = 'tags'::regclass AND i.indisunique ORDER BY a.attnum;
SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname
  FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid
 WHERE t.oid = 1009;
SELECT current_schemas(true), current_schemas(false);
SELECT typname, typcategory, typelem::regtype::text, typlen FROM pg_type
 WHERE oid IN (1007, 1015) ORDER BY oid;
SELECT format_type(1015, 7), format_type(1007, -1);
SELECT i.indkey[0], i.indkey[1], array_length(i.indkey, 1), c.conkey
  FROM pg_index i LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid
 WHERE i.indexrelid = 'tags_weight_flag_idx'::regclass;
-- information_schema
SELECT table_name, table_type FROM information_schema.tables
 WHERE table_schema = 'public' ORDER BY 1;
SELECT schema_name, schema_owner FROM information_schema.schemata ORDER BY 1;
SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default,
       character_maximum_length, numeric_precision, numeric_scale, datetime_precision, udt_name
  FROM information_schema.columns
 WHERE table_schema = 'public' ORDER BY table_name, ordinal_position;
SELECT constraint_name, table_name, constraint_type, is_deferrable
  FROM information_schema.table_constraints
 WHERE table_schema = 'public' AND constraint_name NOT LIKE '%not_null' ORDER BY 1;
SELECT constraint_name, table_name, column_name, ordinal_position
  FROM information_schema.key_column_usage
 WHERE table_schema = 'public' ORDER BY 1, 4;
-- pg_catalog lookups by oid and name
SELECT oid, typname, typlen, typbyval, typtype, typcategory, typarray
  FROM pg_catalog.pg_type WHERE oid IN (16, 20, 21, 23, 25, 1043, 1184, 1700) ORDER BY oid;
SELECT typname FROM pg_type WHERE oid = 1184;
SELECT format_type(23, -1), format_type(1043, 44), format_type(1700, 786438), format_type(1184, 7);
SELECT 'orders'::regclass = (SELECT oid FROM pg_class WHERE relname = 'orders') AS same_oid;
SELECT relname, relkind, relnatts, relchecks, relhasindex, am.amname
  FROM pg_class c LEFT JOIN pg_am am ON am.oid = c.relam
 WHERE relnamespace = 'public'::regnamespace ORDER BY relname;
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relname IN ('tags', 'tags_weight_flag_idx') AND a.attnum > 0 ORDER BY 1, 2;
SELECT i.indexrelid::regclass::text AS index, i.indrelid::regclass::text AS table, i.indnatts,
       i.indisunique, i.indisprimary, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1;
SELECT conname, contype, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true)
  FROM pg_constraint WHERE conrelid IN ('orders'::regclass, 'tags'::regclass) ORDER BY 1;
SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)
  FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = 'tags'::regclass ORDER BY a.attnum;
SELECT nspname, pg_get_userbyid(nspowner) FROM pg_namespace ORDER BY 1;
SELECT count(*) FROM pg_trigger WHERE tgrelid = 'orders'::regclass;
SELECT count(*) FROM pg_inherits, pg_policy, pg_publication;
SELECT datname, pg_encoding_to_char(encoding), datcollate, datistemplate, datallowconn
  FROM pg_database WHERE datname IN ('defaultdb', 'template0') ORDER BY 1;
SELECT rolname, rolsuper, rolcanlogin FROM pg_roles WHERE rolname = current_user;
SELECT pg_table_is_visible('orders'::regclass), obj_description('orders'::regclass, 'pg_class');
-- unknown catalog relations and names are 42P01
SELECT * FROM pg_catalog.no_such_catalog;
SELECT 'no_such_table'::regclass;
SELECT 'no_such_type'::regtype;
SELECT 'no_such_schema'::regnamespace;
SELECT 'no_such_role'::regrole;
SELECT 'int4'::regtype::oid, 'public'::regnamespace::oid;
-- defaults and CHECK constraints as PostgreSQL deparses them, plain and pretty
CREATE TABLE exprs (a int, b int, c text DEFAULT 'x', e numeric DEFAULT 1.5,
    f bool DEFAULT (NOT false), g int DEFAULT (1 + 2) * 3, h varchar(5) DEFAULT 'v',
    CHECK (a + b > 0), CHECK (a IS NOT NULL OR b IS NULL), CHECK (a IN (1, 2, 3)),
    CHECK (a NOT IN (7, 8)), CHECK (NOT (a = 5 AND b = 6)), CHECK (c <> 'q'));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true)
  FROM pg_constraint WHERE conrelid = 'exprs'::regclass ORDER BY 1;
CREATE TABLE nested (a int, b int, c int,
    CHECK (CASE WHEN a > 0 THEN b ELSE 0 END >= 0), CHECK (COALESCE(a, 0) < 10),
    CHECK (a IS DISTINCT FROM b), CHECK (a BETWEEN 1 AND 5), CHECK (CASE a WHEN 1 THEN true ELSE false END),
    CHECK (-a < 3), CHECK (a::text <> 'z'), CHECK (a > 0 AND (b > 0 OR c > 0)),
    CHECK ((a > 0 AND b > 0) OR c > 0), CHECK (a > 0 OR (b > 0 OR c > 0)),
    CHECK (NOT (a > 0 OR b > 0) AND c > 0), CHECK (c > 0 AND a NOT BETWEEN 1 AND 5),
    CHECK (NOT a > 5), CHECK (a + b + c > 0), CHECK (a * (b + c) > 0), CHECK (a - (b - c) > 0),
    CHECK (a IS NULL OR NOT (b IS NULL)));
SELECT conname, pg_get_constraintdef(oid), pg_get_constraintdef(oid, true)
  FROM pg_constraint WHERE conrelid = 'nested'::regclass ORDER BY 1;
DROP TABLE nested;
SELECT a.attname, pg_get_expr(d.adbin, d.adrelid), pg_get_expr(d.adbin, d.adrelid, true)
  FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
 WHERE d.adrelid = 'exprs'::regclass ORDER BY a.attnum;
SELECT format_type(12345, -1), format_type(NULL, -1), format_type(23, NULL), pg_get_userbyid(5),
       pg_get_indexdef(0), pg_get_constraintdef(0);
-- a table without a primary key has no index (its hidden key is no column)
CREATE TABLE nopk (x int, y text);
SELECT relname, relhasindex, relnatts FROM pg_class WHERE relname = 'nopk';
SELECT attname, attnum FROM pg_attribute
 WHERE attrelid = 'nopk'::regclass AND attnum > 0 ORDER BY attnum;
SELECT count(*) FROM pg_index WHERE indrelid = 'nopk'::regclass;
\d nopk
DROP TABLE exprs, nopk;
DROP VIEW big_orders;
DROP USER describe_user;
DROP TABLE tags;
DROP TABLE orders;
DROP TABLE accounts;
\dt
