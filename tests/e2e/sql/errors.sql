-- Errors as psql shows them: message, DETAIL, HINT, and the LINE with a
-- caret under the 1-based position, for syntax, name, type and constraint
-- errors; the session goes on after each.
CREATE TABLE e (id int PRIMARY KEY, v text NOT NULL, n int);
SELEC 1;
SELECT * FRM e;
SELECT 1 +;
SELECT 1 + 2);
SELECT 1 2 3;
CREATE TABLE e2 (id int PRIMARY KEY,);
INSERT INTO e VALUES (1, 'a', 1) garbage;
SELECT * FROM nosuch;
SELECT * FROM public.nosuch WHERE id = 1;
SELECT nosuch FROM e;
SELECT id FROM e WHERE nosuch = 1;
SELECT e.nosuch FROM e;
SELECT id FROM e ORDER BY nosuch;
INSERT INTO e (id, v, nosuch) VALUES (1, 'a', 1);
UPDATE e SET v = 'x' WHERE nosuch IS NULL;
SELECT id FROM e WHERE v = 1;
SELECT id FROM e WHERE id = 'abc';
SELECT 1 + 'abc';
SELECT id FROM e WHERE v;
SELECT nosuchfunc(1);
SELECT 'a' || 1 + 2;
INSERT INTO e VALUES (1, 'a', 1);
INSERT INTO e VALUES (1, 'b', 2);
INSERT INTO e VALUES (2, NULL, 2);
INSERT INTO e (id) VALUES (3);
INSERT INTO e VALUES (4, 'x', 'y');
INSERT INTO e VALUES (5, 'x', 99999999999);
INSERT INTO e VALUES (6, 'x', 1, 'extra');
UPDATE e SET id = NULL;
UPDATE e SET n = n / 0;
SELECT id FROM e WHERE n / 0 = 1;
SELECT 2147483647 + 1;
SELECT -32768::smallint;
SELECT 10 /
  0
  AS x;
SELECT *
  FROM e
  WHERE nosuch = 3;
SELECT id FROM e;
DROP TABLE e;
