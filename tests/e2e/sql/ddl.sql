-- DDL: CREATE TABLE with constraints and defaults, IF [NOT] EXISTS, ALTER
-- TABLE, TRUNCATE, DROP of several tables, CREATE/DROP DATABASE.
CREATE TABLE kv (k int PRIMARY KEY, v text);
CREATE TABLE kv (k int PRIMARY KEY, v text);
CREATE TABLE IF NOT EXISTS kv (k int PRIMARY KEY, v text);
CREATE TABLE items (
    id bigint NOT NULL PRIMARY KEY,
    name varchar(20) NOT NULL UNIQUE,
    qty int DEFAULT 1 CHECK (qty >= 0),
    price numeric(10, 2) DEFAULT 0.00,
    note text
) WITH (fillfactor = 90);
CREATE TABLE nopk (a int, b text);
CREATE TABLE composite (a int, b text, c bool, PRIMARY KEY (a, b));
CREATE TABLE twopk (a int PRIMARY KEY, b int PRIMARY KEY);
CREATE TABLE badtype (a nosuchtype);
CREATE TABLE dupcol (a int, a text);
INSERT INTO items (id, name) VALUES (1, 'widget');
INSERT INTO items (id, name, qty, price) VALUES (2, 'gadget', 5, 9.5);
INSERT INTO items (id, name, qty) VALUES (3, 'gizmo', -1);
INSERT INTO items (id, name) VALUES (4, 'widget');
SELECT * FROM items ORDER BY id;
INSERT INTO nopk VALUES (1, 'x'), (1, 'x'), (NULL, NULL);
SELECT a, b FROM nopk ORDER BY a NULLS FIRST, b;
INSERT INTO composite VALUES (1, 'a', true), (1, 'b', false), (0, 'z', NULL);
INSERT INTO composite VALUES (1, 'a', false);
SELECT * FROM composite ORDER BY a, b;
ALTER TABLE items ADD COLUMN color text;
ALTER TABLE items ADD COLUMN stock int NOT NULL DEFAULT 7;
SELECT id, name, color, stock FROM items ORDER BY id;
ALTER TABLE items DROP COLUMN note;
ALTER TABLE items DROP COLUMN nosuch;
SELECT * FROM items ORDER BY id;
ALTER TABLE nopk ADD PRIMARY KEY (a);
DELETE FROM nopk WHERE a = 1;
ALTER TABLE nopk ADD PRIMARY KEY (a);
DELETE FROM nopk;
INSERT INTO nopk VALUES (2, 'y');
ALTER TABLE nopk ADD PRIMARY KEY (a);
INSERT INTO nopk VALUES (2, 'z');
TRUNCATE kv, items;
SELECT * FROM items;
TRUNCATE nosuch;
DROP TABLE kv, items;
DROP TABLE kv;
DROP TABLE IF EXISTS kv, nopk;
DROP TABLE IF EXISTS kv;
SELECT * FROM nopk;
CREATE DATABASE otherdb;
CREATE DATABASE otherdb;
DROP DATABASE otherdb;
DROP DATABASE otherdb;
DROP DATABASE IF EXISTS otherdb;
DROP TABLE composite;
