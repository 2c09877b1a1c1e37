-- COPY FROM STDIN and TO STDOUT in text and CSV format, through psql's
-- COPY and \copy: column lists and defaults, NULLs, escapes, quoting,
-- headers, the old option syntax; bad rows fail the whole COPY (nothing
-- of it is kept); COPY in a transaction block; VACUUM and ANALYZE.
-- PostgreSQL adds a CONTEXT line (COPY c, line 2) to errors of COPY, which
-- Tardigrade does not send: psql is told not to show it.
\set SHOW_CONTEXT never
CREATE TABLE c (id int PRIMARY KEY, name text NOT NULL, score numeric(6,2) CHECK (score >= 0),
                note text DEFAULT 'none');
COPY c (id, name, score) FROM stdin;
1	alice	10.5
2	bob	\N
3	tab\there	7
4	back\\slash\x21	0
\.
COPY c FROM stdin WITH (FORMAT csv, HEADER);
id,name,score,note
5,"comma, inside",1,
6,"say ""hi""",2,""
7,"two
lines",3,x
\.
SELECT id, name, score, note FROM c ORDER BY id;
COPY c TO stdout;
COPY c (name, id) TO stdout WITH (FORMAT csv, HEADER);
COPY c TO stdout WITH CSV DELIMITER '|' NULL 'NULL';
COPY c (id, note) FROM stdin WITH (DELIMITER ',', NULL '');
8,
\.
\copy c (id, name) from stdin
9	nine
\.
\copy c (id, name, note) to stdout with csv
-- errors: nothing of a failed COPY is kept
COPY c (id, name) FROM stdin;
10	ten
11
\.
COPY c (id, name) FROM stdin;
10	ten	extra
\.
COPY c (id, score, name) FROM stdin;
10	abc	ten
\.
COPY c (id, name) FROM stdin;
10	ten
1	duplicate
\.
COPY c (id, name) FROM stdin;
10	\N
\.
COPY c (id, name, score) FROM stdin;
10	ten	-1
\.
COPY c (id, name) FROM stdin WITH (FORMAT csv);
10,"unterminated
\.
SELECT count(*) FROM c;
-- a COPY that fails before its data makes psql skip the data
COPY nosuch FROM stdin;
1	x
\.
COPY c (nosuch) FROM stdin;
\.
COPY c (id, id) TO stdout;
COPY c FROM stdin WITH (FORMAT xml);
\.
COPY c TO stdout WITH (DELIMITER 'ab');
COPY c TO stdout WITH (FORMAT csv, FORMAT text);
COPY c TO stdout WITH (bogus true);
-- in a transaction block: rolled back with it, and an error fails it
BEGIN;
COPY c (id, name) FROM stdin;
20	twenty
\.
SELECT count(*) FROM c;
ROLLBACK;
SELECT count(*) FROM c WHERE id = 20;
BEGIN;
COPY c (id, name) FROM stdin;
21	x	y
\.
SELECT 1;
ROLLBACK;
-- VACUUM and ANALYZE do nothing, but their tables must exist
VACUUM ANALYZE c;
VACUUM (ANALYZE, VERBOSE false) c;
ANALYZE c;
VACUUM nosuch;
ANALYZE nosuch;
BEGIN;
VACUUM c;
ROLLBACK;
BEGIN;
ANALYZE c;
COMMIT;
DROP TABLE c;
