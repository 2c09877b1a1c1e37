-- NULL semantics: three-valued logic, comparisons, IS [NOT] NULL, IS
-- DISTINCT FROM, IN with NULLs, COALESCE, NULL ordering, NOT NULL.
CREATE TABLE n (id int PRIMARY KEY, a int, b bool, t text NOT NULL DEFAULT 'd');
INSERT INTO n (id, a, b) VALUES (1, 1, true), (2, NULL, false), (3, 3, NULL), (4, NULL, NULL), (5, 0, true);
INSERT INTO n (id, t) VALUES (6, NULL);
INSERT INTO n VALUES (NULL, 1, true, 'x');
UPDATE n SET t = NULL WHERE id = 1;
SELECT id, a, b, a = 1 AS eq, a <> 1 AS ne, a IS NULL AS isnull, a IS NOT NULL AS notnull FROM n ORDER BY id;
SELECT id, b AND true AS and_t, b AND false AS and_f, b OR true AS or_t, b OR false AS or_f, NOT b AS not_b FROM n ORDER BY id;
SELECT id FROM n WHERE a = NULL;
SELECT id FROM n WHERE a IS NULL ORDER BY id;
SELECT id FROM n WHERE NOT (a = 1) ORDER BY id;
SELECT id FROM n WHERE a IS DISTINCT FROM 1 ORDER BY id;
SELECT id FROM n WHERE a IS NOT DISTINCT FROM NULL ORDER BY id;
SELECT id FROM n WHERE b ORDER BY id;
SELECT id FROM n WHERE b IS NOT TRUE ORDER BY id;
SELECT id FROM n WHERE b IS UNKNOWN ORDER BY id;
SELECT id, a IN (1, 2) AS in12, a IN (1, NULL) AS in1null, a NOT IN (3, NULL) AS notin FROM n ORDER BY id;
SELECT id, COALESCE(a, -1) AS a, COALESCE(NULL, b, false) AS b, a + 1 AS plus, a || 'x' AS cat FROM n ORDER BY id;
SELECT id, CASE WHEN b THEN 'yes' WHEN NOT b THEN 'no' END AS yn FROM n ORDER BY id;
SELECT id, a FROM n ORDER BY a, id;
SELECT id, a FROM n ORDER BY a DESC, id;
SELECT id, a FROM n ORDER BY a NULLS FIRST, id;
SELECT id, a FROM n ORDER BY a DESC NULLS LAST, id;
SELECT NULL::int AS i, NULL::text AS t, NULL = NULL AS eq, NULL IS NULL AS isnull;
UPDATE n SET a = NULL WHERE a = 0 RETURNING id, a;
DELETE FROM n WHERE b IS NULL RETURNING id;
SELECT * FROM n ORDER BY id;
-- BETWEEN copies its operand into both comparisons: each NULL is typed alone
SELECT id FROM n WHERE NULL BETWEEN NULL AND id ORDER BY id;
SELECT id FROM n WHERE NOT NULL BETWEEN NULL AND -id ORDER BY id;
SELECT id FROM n WHERE NULL NOT BETWEEN NULL AND id ORDER BY id;
SELECT count(*) FROM n WHERE id BETWEEN 1 AND 2;
DROP TABLE n;
