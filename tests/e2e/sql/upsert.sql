-- INSERT ... ON CONFLICT (issue #7).
CREATE TABLE kv (k int PRIMARY KEY, v text, n int NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX kv_v ON kv (v);
CREATE TABLE pair (a int, b int, c text, CONSTRAINT pair_ab UNIQUE (a, b));
INSERT INTO kv VALUES (1, 'one', 1), (2, 'two', 2);

-- DO NOTHING: any unique violation, the primary key or a unique index
INSERT INTO kv VALUES (1, 'uno') ON CONFLICT DO NOTHING;
INSERT INTO kv VALUES (3, 'one') ON CONFLICT DO NOTHING;
INSERT INTO kv VALUES (3, 'three'), (4, 'three'), (3, 'tres') ON CONFLICT DO NOTHING RETURNING k, v;
SELECT * FROM kv ORDER BY k;

-- DO NOTHING with a target: only that index decides
INSERT INTO kv VALUES (1, 'eins') ON CONFLICT (k) DO NOTHING;
INSERT INTO kv VALUES (5, 'one') ON CONFLICT (k) DO NOTHING;
INSERT INTO kv VALUES (5, 'one') ON CONFLICT (v) DO NOTHING RETURNING *;
INSERT INTO kv VALUES (5, NULL), (6, NULL) ON CONFLICT (v) DO NOTHING RETURNING *;
INSERT INTO pair VALUES (1, 1, 'x'), (1, NULL, 'y'), (1, NULL, 'z') ON CONFLICT (b, a) DO NOTHING;
INSERT INTO pair VALUES (1, 1, 'w') ON CONFLICT ON CONSTRAINT pair_ab DO NOTHING;
SELECT * FROM pair ORDER BY a, b, c;

-- DO UPDATE with excluded, the existing row by name and by alias
INSERT INTO kv VALUES (1, 'uno', 10) ON CONFLICT (k) DO UPDATE SET v = excluded.v, n = kv.n + excluded.n
  RETURNING *;
INSERT INTO kv AS t VALUES (2, 'dos', 20), (7, 'seven', 7) ON CONFLICT (k)
  DO UPDATE SET n = t.n + excluded.n RETURNING k, v, n;
INSERT INTO kv VALUES (8, 'uno', 8) ON CONFLICT (v) DO UPDATE SET n = kv.n * 100 RETURNING *;
INSERT INTO kv VALUES (2, 'x', 1) ON CONFLICT ON CONSTRAINT kv_pkey DO UPDATE SET n = DEFAULT RETURNING *;
SELECT * FROM kv ORDER BY k;

-- DO UPDATE ... WHERE: rows it rejects are neither updated nor returned
INSERT INTO kv VALUES (1, 'a', 1), (2, 'b', 2), (9, 'nine', 9) ON CONFLICT (k)
  DO UPDATE SET v = excluded.v WHERE kv.n > 50 RETURNING *;
-- the primary key moves; secondary index entries follow
INSERT INTO kv VALUES (7, 'x', 0) ON CONFLICT (k) DO UPDATE SET k = 70, v = 'seventy' RETURNING *;
SELECT * FROM kv WHERE v = 'seventy';
SELECT * FROM kv WHERE v = 'seven';
SELECT * FROM kv ORDER BY k;

-- INSERT ... SELECT
INSERT INTO kv SELECT k, v || '!', n FROM kv WHERE k < 3 ORDER BY k ON CONFLICT (k)
  DO UPDATE SET v = excluded.v RETURNING *;
INSERT INTO pair SELECT a, b, 'sel' FROM pair ON CONFLICT DO NOTHING;
SELECT count(*) FROM pair;

-- a row affected twice, a violation of another index, other constraints
INSERT INTO kv VALUES (40, 'p', 1), (40, 'q', 2) ON CONFLICT (k) DO UPDATE SET n = excluded.n;
INSERT INTO kv VALUES (1, 'r', 1), (1, 's', 2) ON CONFLICT (k) DO UPDATE SET n = excluded.n;
INSERT INTO kv VALUES (1, 'x', 1) ON CONFLICT (k) DO UPDATE SET v = 'seventy';
INSERT INTO kv VALUES (41, 'two') ON CONFLICT (k) DO UPDATE SET n = 0;
INSERT INTO kv VALUES (1, 'x', 1) ON CONFLICT (k) DO UPDATE SET n = NULL;
SELECT * FROM kv WHERE k IN (1, 40, 41) ORDER BY k;

-- errors
INSERT INTO kv VALUES (1) ON CONFLICT DO UPDATE SET n = 1;
INSERT INTO kv VALUES (1) ON CONFLICT (n) DO NOTHING;
INSERT INTO kv VALUES (1) ON CONFLICT (k, v) DO NOTHING;
INSERT INTO kv VALUES (1) ON CONFLICT (nope) DO NOTHING;
INSERT INTO kv VALUES (1) ON CONFLICT ON CONSTRAINT kv_v DO NOTHING;
INSERT INTO kv VALUES (1) ON CONFLICT ON CONSTRAINT nope DO NOTHING;
INSERT INTO kv VALUES (1) ON CONFLICT (k) DO UPDATE SET n = n + 1;
INSERT INTO kv VALUES (1) ON CONFLICT (k) DO UPDATE SET n = other.n;
INSERT INTO kv AS t VALUES (1) ON CONFLICT (k) DO UPDATE SET n = kv.n;
INSERT INTO kv VALUES (1) ON CONFLICT (k) DO UPDATE SET nope = 1;
INSERT INTO kv VALUES (1) ON CONFLICT (k) DO UPDATE SET n = 'x';
INSERT INTO kv VALUES (1) ON CONFLICT (k) DO UPDATE SET n = 1 WHERE excluded.v;

-- EXPLAIN
EXPLAIN (COSTS OFF) INSERT INTO kv VALUES (1) ON CONFLICT DO NOTHING;
EXPLAIN (COSTS OFF) INSERT INTO kv VALUES (1, 'x') ON CONFLICT (v) DO UPDATE SET n = 1;
EXPLAIN (COSTS OFF) INSERT INTO kv VALUES (1) ON CONFLICT ON CONSTRAINT kv_pkey DO NOTHING;

-- in a transaction, the statement's writes are seen by the next one
BEGIN;
INSERT INTO kv VALUES (50, 'fifty', 1) ON CONFLICT (k) DO UPDATE SET n = kv.n + 1;
INSERT INTO kv VALUES (50, 'fifty', 1) ON CONFLICT (k) DO UPDATE SET n = kv.n + 1;
INSERT INTO kv VALUES (50, 'fifty', 1) ON CONFLICT (k) DO UPDATE SET n = kv.n + 1 RETURNING n;
COMMIT;
