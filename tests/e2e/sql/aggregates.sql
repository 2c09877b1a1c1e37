-- Aggregates, GROUP BY, HAVING, DISTINCT and DISTINCT ON (issue #7).
CREATE TABLE emp (id int PRIMARY KEY, dept text, grade smallint, salary int, bonus bigint,
                  rate numeric(6,2), score float8, ratio real, active bool, code char(4),
                  nick varchar(10), hired date);
INSERT INTO emp VALUES
  (1, 'eng', 1, 100, 10, 1.25, 0.5, 0.25, true, 'ab', 'al', '2020-01-05'),
  (2, 'eng', 2, 200, NULL, 2.50, 1.5, 0.5, false, 'cd  ', 'bo', '2021-03-01'),
  (3, 'ops', 1, NULL, 30, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 'ops', 3, 300, 40, 3.125, 2.25, 1.5, true, 'ef', 'cy', '2019-07-20'),
  (5, NULL, 2, 50, 5, 0.10, -1, 2, true, 'gh', 'di', '2022-12-31'),
  (6, 'eng', 1, 100, 10, 1.25, 0.5, 0.25, true, 'ab', 'al', '2020-01-05');

-- without GROUP BY: one row, even over no rows
SELECT count(*), count(salary), sum(salary), avg(salary), min(salary), max(salary) FROM emp;
SELECT count(*), count(salary), sum(salary), avg(salary), min(salary), bool_and(active),
       string_agg(nick, ',') FROM emp WHERE id > 100;
SELECT count(*);
SELECT sum(2), avg(3), count(*) WHERE false;

-- result types and scales
SELECT sum(grade), sum(salary), sum(bonus), sum(rate), sum(score), sum(ratio) FROM emp;
SELECT avg(grade), avg(bonus), avg(rate), avg(score), avg(ratio) FROM emp;
SELECT min(rate), max(rate), min(score), max(score), min(hired), max(hired) FROM emp;
SELECT min(dept), max(dept), min(code), max(code), min(nick), max(nick) FROM emp;
SELECT bool_and(active), bool_or(active), every(active), bool_or(NOT active) FROM emp;
SELECT string_agg(dept, ', '), string_agg(code, '|'), string_agg(nick, NULL) FROM emp;
SELECT sum(bonus * 1000000000000) FROM emp;
SELECT sum(salary::numeric / 3) FROM emp;
SELECT max(rate) * 2, count(*) + 1, sum(salary) / count(salary) FROM emp;

-- GROUP BY expressions, positions, output names
SELECT dept, count(*), sum(salary), min(id) FROM emp GROUP BY dept ORDER BY dept;
SELECT dept, count(*) FROM emp GROUP BY 1 ORDER BY 1 DESC;
SELECT grade % 2 AS parity, count(*) FROM emp GROUP BY parity ORDER BY parity;
SELECT grade + 1, count(*) FROM emp GROUP BY grade + 1 ORDER BY 1;
SELECT (grade + 1) * 10 AS g10, max(salary) FROM emp GROUP BY grade + 1 ORDER BY g10;
SELECT dept, grade, count(*) FROM emp GROUP BY dept, grade ORDER BY dept, grade;
SELECT dept, grade, count(*) FROM emp GROUP BY 2, 1 ORDER BY 1, 2;
SELECT count(*) FROM emp GROUP BY dept ORDER BY count(*);
SELECT 'x'::text AS k, count(*) FROM emp GROUP BY 'x'::text;
SELECT dept FROM emp GROUP BY dept, dept ORDER BY dept;
SELECT active, count(*) FROM emp GROUP BY active ORDER BY active;
SELECT rate, count(*) FROM emp GROUP BY rate ORDER BY rate;
SELECT code, count(*) FROM emp GROUP BY code ORDER BY code;

-- the primary key determines every other column
SELECT id, dept, salary FROM emp GROUP BY id ORDER BY id;
SELECT * FROM emp GROUP BY id ORDER BY id LIMIT 2;

-- HAVING
SELECT dept, count(*) FROM emp GROUP BY dept HAVING count(*) > 1 ORDER BY dept;
SELECT dept, sum(salary) FROM emp GROUP BY dept HAVING sum(salary) > 100 AND dept <> 'ops'
  ORDER BY 1;
SELECT dept FROM emp GROUP BY dept HAVING max(grade) = 3;
SELECT count(*) FROM emp HAVING count(*) > 100;
SELECT count(*) FROM emp HAVING count(*) > 1;
SELECT 1 AS one FROM emp HAVING min(id) = 1;

-- aggregates in ORDER BY, LIMIT and OFFSET over groups
SELECT dept FROM emp GROUP BY dept ORDER BY sum(salary) DESC NULLS LAST, dept;
SELECT dept, count(*) FROM emp GROUP BY dept ORDER BY count(*) DESC, dept LIMIT 2;
SELECT dept, count(*) FROM emp GROUP BY dept ORDER BY dept OFFSET 1 LIMIT 1;
SELECT grade, string_agg(nick, ',') FROM emp WHERE nick IS NOT NULL GROUP BY grade
  ORDER BY grade;

-- DISTINCT inside aggregates
SELECT count(DISTINCT dept), count(DISTINCT salary), sum(DISTINCT salary), avg(DISTINCT grade)
  FROM emp;
SELECT dept, count(DISTINCT salary), string_agg(DISTINCT nick, ',') FROM emp
  GROUP BY dept ORDER BY dept;

-- SELECT DISTINCT
SELECT DISTINCT dept FROM emp ORDER BY dept;
SELECT DISTINCT dept, grade FROM emp ORDER BY dept, grade;
SELECT DISTINCT salary FROM emp ORDER BY salary NULLS FIRST;
SELECT DISTINCT rate FROM emp ORDER BY 1 LIMIT 2 OFFSET 1;
SELECT DISTINCT count(*) FROM emp GROUP BY dept ORDER BY 1;

-- DISTINCT ON
SELECT DISTINCT ON (dept) dept, id, salary FROM emp ORDER BY dept, salary DESC NULLS LAST, id;
SELECT DISTINCT ON (dept) dept, id FROM emp ORDER BY dept, id;
SELECT DISTINCT ON (grade) grade, nick FROM emp ORDER BY grade, nick NULLS FIRST;
SELECT DISTINCT ON (1) grade, id FROM emp ORDER BY 1, 2 DESC;
SELECT DISTINCT ON (dept, grade) dept, grade, id FROM emp ORDER BY dept, grade, id;
SELECT DISTINCT ON (grade % 2) grade % 2 AS p, id FROM emp ORDER BY grade % 2, id LIMIT 1;

-- errors
SELECT dept, salary FROM emp GROUP BY dept;
SELECT e.salary FROM emp e GROUP BY e.dept;
SELECT * FROM emp GROUP BY dept;
SELECT dept, count(*) FROM emp GROUP BY dept ORDER BY salary;
SELECT dept FROM emp GROUP BY dept HAVING salary > 1;
SELECT grade FROM emp GROUP BY grade + 1;
SELECT count(*) FROM emp WHERE count(*) > 1;
SELECT sum(count(*)) FROM emp;
SELECT count(*) FROM emp GROUP BY count(*);
SELECT count(*) FROM emp GROUP BY 1;
SELECT dept FROM emp GROUP BY 2;
SELECT dept FROM emp GROUP BY 0;
SELECT sum(dept) FROM emp;
SELECT avg(active) FROM emp;
SELECT sum('1') FROM emp;
SELECT min(active) FROM emp;
SELECT bool_and(salary) FROM emp;
SELECT string_agg(salary, ',') FROM emp;
SELECT count(*) FROM emp LIMIT count(*);
SELECT dept FROM emp GROUP BY dept HAVING count(*);
SELECT DISTINCT dept FROM emp ORDER BY salary;
SELECT DISTINCT ON (dept) dept, id FROM emp ORDER BY id;
SELECT DISTINCT ON (dept) dept, id FROM emp ORDER BY id, dept;
SELECT DISTINCT ON (3) dept, id FROM emp;
SELECT dept FROM emp GROUP BY 'x';
SELECT dept FROM emp GROUP BY 1.5;
SELECT dept FROM emp ORDER BY 'x';
SELECT sum(9223372036854775807::bigint) FROM emp;
SELECT sum(salary::bigint * 4000000000000000) FROM emp;
SELECT sum(score * 1e308) FROM emp;
INSERT INTO emp (id) VALUES (count(*));
UPDATE emp SET salary = max(salary);
DELETE FROM emp WHERE id = 1 RETURNING sum(id);
SELECT count(*) FROM emp OFFSET sum(1);
DROP TABLE emp;
