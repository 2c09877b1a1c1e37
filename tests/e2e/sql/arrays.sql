-- Arrays: text I/O, constructors, subscripts, = ANY / <> ALL, ||, the array
-- functions, array_agg, ARRAY(subquery) and array columns (docs/sql.md, "Arrays").
-- text input and output
SELECT '{1,2,NULL}'::int[] AS a, '{}'::text[] AS empty, '{ 1 , 2 }'::int8[] AS spaced;
SELECT '{"a b",c,NULL,"","NULL","x\"y","back\\slash",null}'::text[] AS quoted;
SELECT ARRAY['a b', 'c', NULL, '', 'NULL', 'x"y', 'back\slash', '{}', 'a,b'] AS needs_quotes;
SELECT '[0:2]={1,2,3}'::int[] AS bounds, array_lower('[0:2]={1,2,3}'::int[], 1) AS lo,
       array_upper('[0:2]={1,2,3}'::int[], 1) AS hi, ('[0:2]={1,2,3}'::int[])[0] AS first;
SELECT '{1.50,NaN}'::numeric[], '{t,f,NULL}'::bool[], '{2020-01-01,infinity}'::date[],
       '{"1 day","2 hours"}'::interval[], '{3.5,-0}'::float8[], '{\\x41}'::bytea[];
SELECT '{a,bb}'::varchar(1)[] AS cut, '{a,bb}'::char(2)[] AS padded;
SELECT '{1,2'::int[];
SELECT '{1,a}'::int[];
SELECT 'x'::int[];
SELECT '{1,,2}'::int[];
SELECT '{1}x'::int[];
SELECT '{"a"b}'::text[];
SELECT '{{a},b}'::text[];
SELECT '[1:2]={1}'::int[];
SELECT '[2:1]={}'::int[];
SELECT '[a]={1}'::int[];
SELECT '[1:1]={1}x'::int[];
-- constructors
SELECT ARRAY[1, 2, 3] AS ints, ARRAY[1, 2.5] AS nums, ARRAY['x', NULL] AS texts,
       ARRAY[]::int[] AS empty, ARRAY(SELECT 1 UNION ALL SELECT 2) AS sub;
SELECT ARRAY[1, 'a'];
SELECT ARRAY[];
SELECT ARRAY[1, true];
SELECT ARRAY(SELECT 1, 2);
-- casts between array types and to text
SELECT ARRAY[1.5, 2.4]::int[] AS rounded, '{1,2}'::int[]::text AS as_text,
       ARRAY[1, 2]::bigint[] || 3 AS widened, CAST('{7}' AS integer ARRAY) AS sql_spelling;
-- subscripts and slices
SELECT (ARRAY[10, 20, 30])[2] AS second, (ARRAY[10, 20, 30])[4] AS beyond,
       (ARRAY[10, 20, 30])[NULL] AS null_index, (ARRAY[10, 20, 30])[2:3] AS slice,
       (ARRAY[10, 20, 30])[:2] AS head, (ARRAY[10, 20, 30])[2:] AS tail,
       (ARRAY[10, 20, 30])[3:2] AS nothing;
SELECT (1)[1];
SELECT (ARRAY[1])['a'];
-- comparisons
SELECT ARRAY[1, 2] = ARRAY[1, 2] AS eq, ARRAY[1, 2] < ARRAY[1, 3] AS lt,
       ARRAY[1] < ARRAY[1, 0] AS shorter_first, ARRAY[1, NULL] > ARRAY[1, 2] AS null_above,
       ARRAY[1, 2] <> ARRAY[2, 1] AS ne, ARRAY[1] = ARRAY[1.0] AS across_types;
-- x op ANY / ALL (array), with PostgreSQL's NULL rules
SELECT 1 = ANY (ARRAY[1, 2]) AS found, 3 = ANY ('{1,2}') AS missing,
       3 = ANY (ARRAY[1, NULL]) AS unknown, 1 = ANY (ARRAY[1, NULL]) AS found_anyway,
       NULL = ANY (ARRAY[1]) AS null_left, 1 = ANY ('{}'::int[]) AS empty_any,
       NULL::int = ALL ('{}'::int[]) AS empty_all, 1 = ANY (NULL::int[]) AS null_array;
SELECT 3 <> ALL (ARRAY[1, 2]) AS not_in, 1 <> ALL (ARRAY[1, 2]) AS in_it,
       3 <> ALL (ARRAY[1, NULL]) AS unknown, 2 > ALL ('{0,1}') AS greater,
       'abc' LIKE ANY (ARRAY['x%', 'a%']) AS like_any, 1.5 = ANY (ARRAY[1, 2]) AS promoted;
SELECT 'a' = ANY (ARRAY[1]);
SELECT 1 = ANY (1);
SELECT 1 + ANY (ARRAY[1]);
-- || and the array functions
SELECT ARRAY[1, 2] || ARRAY[3] AS cat, ARRAY[1] || 2 AS append, 0 || ARRAY[1] AS prepend,
       ARRAY[1] || '{2,3}' AS literal, NULL::int[] || ARRAY[1] AS with_null, 'x' || 1 AS text_cat;
SELECT ARRAY['a'] || 'b';
SELECT array_length(ARRAY[1, 2, 3], 1) AS len, array_length(ARRAY[1], 2) AS dim2,
       array_length('{}'::int[], 1) AS empty_len, cardinality(ARRAY[1, 2]) AS card,
       cardinality('{}'::int[]) AS empty_card, array_ndims(ARRAY[1]) AS ndims,
       array_dims(ARRAY[1, 2]) AS dims;
SELECT array_to_string(ARRAY[1, NULL, 3], ',') AS skip, array_to_string(ARRAY[1, NULL, 3], '-', '*') AS star,
       array_to_string(ARRAY[true, false], ' ') AS bools, array_to_string('{}'::text[], ',') AS empty;
SELECT string_to_array('a,b,,c', ',') AS split, string_to_array('a,b,', ',') AS trailing,
       string_to_array('abc', NULL) AS chars, string_to_array('a,x,b', ',', 'x') AS nulled,
       string_to_array('', ',') AS empty, string_to_array('a b', '') AS whole,
       string_to_array(NULL, ',') AS null_input;
SELECT array_append(ARRAY[1, 2], 3), array_append(NULL, 1), array_prepend(0, ARRAY[1]),
       array_cat(ARRAY[1], ARRAY[2, 3]), array_cat(NULL, ARRAY[1]),
       array_position(ARRAY['a', 'b', 'a'], 'a', 2), array_position(ARRAY[1, NULL], NULL),
       array_remove(ARRAY[1, 2, 1], 1);
SELECT array_append(ARRAY[1], 'x');
SELECT array_positions(ARRAY[1, 2, 1, NULL], 1), array_positions(ARRAY[1, NULL], NULL),
       array_replace(ARRAY[1, 2, 1], 1, 9), array_replace(ARRAY[1, NULL], NULL, 0);
-- containment and overlap: NULL elements never match
SELECT ARRAY[1, 2, 3] @> ARRAY[2, 1] AS contains, ARRAY[1, 2] @> ARRAY[3] AS not_contains,
       ARRAY[1, NULL] @> ARRAY[NULL::int] AS null_elem, ARRAY[1] @> '{}' AS empty,
       ARRAY[1, 2] <@ ARRAY[1, 2, 3] AS contained, ARRAY[1, 2] && ARRAY[2, 5] AS overlap,
       ARRAY[1] && ARRAY[3] AS disjoint, NULL::int[] @> ARRAY[1] AS null_array;
SELECT ARRAY[1]::int8[] @> ARRAY[1];
-- array columns
CREATE TABLE arr (id int PRIMARY KEY, tags text[] NOT NULL DEFAULT '{}', nums numeric(5,2)[],
                  codes varchar(2)[], ids bigint ARRAY);
INSERT INTO arr (id, nums, codes, ids) VALUES (1, '{1.234, NULL}', '{ab}', ARRAY[1, 2]);
INSERT INTO arr (id, codes) VALUES (2, '{abc}');
INSERT INTO arr (id, tags, ids) VALUES (3, ARRAY['x', 'y'], '{}'), (4, '{"a b",NULL}', NULL);
UPDATE arr SET tags = tags || 'z'::text WHERE id = 3;
UPDATE arr SET tags = array_append(tags, 'w'), ids = ids || 3::bigint WHERE id = 1;
SELECT * FROM arr ORDER BY id;
SELECT id, tags[1] AS first_tag, cardinality(tags) AS n FROM arr ORDER BY tags, id;
SELECT id FROM arr WHERE 'z' = ANY (tags) OR 3 = ANY (ids) ORDER BY id;
SELECT id FROM arr WHERE tags @> ARRAY['y'] OR tags && '{w}' ORDER BY id;
SELECT id FROM arr WHERE id = ANY ('{2,3,4}') AND id <> ALL (ARRAY[4]) ORDER BY id;
SELECT tags, count(*) FROM arr GROUP BY tags ORDER BY tags;
SELECT 'x' = ANY (tags) AS has_x, count(*) FROM arr GROUP BY 'x' = ANY (tags) ORDER BY 1;
SELECT 'x' < ANY (tags), count(*) FROM arr GROUP BY 'x' = ANY (tags);
CREATE INDEX arr_tags ON arr (tags);
SELECT id FROM arr WHERE tags = '{x,y,z}';
SELECT id FROM arr WHERE tags > '{a}' ORDER BY tags DESC;
-- array_agg keeps NULLs; ARRAY(subquery) per row
SELECT array_agg(id) AS ids, array_agg(nums[1]) AS firsts FROM (SELECT * FROM arr ORDER BY id) s;
SELECT array_agg(DISTINCT x) FROM (VALUES (3), (1), (NULL), (3)) v (x);
SELECT array_agg(id) FROM arr WHERE id > 100;
SELECT a.id, ARRAY(SELECT b.id FROM arr b WHERE b.id < a.id ORDER BY b.id) AS smaller
  FROM arr a ORDER BY a.id;
SELECT array_agg('a');
DROP TABLE arr;
-- array expressions in stored defaults and checks
CREATE TABLE arr_ddl (id int PRIMARY KEY, a int[] DEFAULT ARRAY[1, 2],
                      s text CHECK (s = ANY (ARRAY['x', 'y'])),
                      b int[] CHECK (cardinality(b) < 3 AND b[1] > 0 AND b[2:] <> '{9}'));
INSERT INTO arr_ddl (id, s) VALUES (1, 'x');
INSERT INTO arr_ddl (id, s) VALUES (2, 'z');
INSERT INTO arr_ddl (id, b) VALUES (3, '{1,2,3}');
INSERT INTO arr_ddl (id, b) VALUES (4, '{1,9}');
INSERT INTO arr_ddl (id, b) VALUES (5, '{5}');
SELECT * FROM arr_ddl ORDER BY id;
DROP TABLE arr_ddl;
-- COPY carries the text form (with COPY's own escaping on top)
CREATE TABLE arr_copy (id int PRIMARY KEY, a text[], n int[]);
INSERT INTO arr_copy VALUES (1, ARRAY['a b', 'x\y', NULL, 'q"t'], '{1,NULL}'), (2, '{}', NULL);
COPY arr_copy TO STDOUT;
COPY arr_copy TO STDOUT (FORMAT csv);
COPY arr_copy FROM STDIN;
3	{"z\\\\w",NULL}	{5}
\.
SELECT * FROM arr_copy ORDER BY id;
DROP TABLE arr_copy;
