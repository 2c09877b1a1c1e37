-- The scalar functions and operators of issue #7 beyond arithmetic:
-- strings, regular expressions, mathematics, date/time. Each over
-- constants (folded at bind time) and over columns (evaluated per row),
-- with the errors PostgreSQL raises.
SET TimeZone = 'UTC';
CREATE TABLE s (id int PRIMARY KEY, t text, p text, n numeric, f float8, ts timestamp, tz timestamptz, d date, iv interval);
INSERT INTO s VALUES
  (1, 'foobarbaz', 'b(a)r', 12.345, 1.5, '2024-05-17 13:45:12.345678', '2024-03-10 12:00+00', '2024-02-29', '1 year 2 mons 3 days 04:05:06.7'),
  (2, 'Hello World', '^h', -0.5, -2.25, '2021-01-02 00:00', '2024-11-03 06:30+00', '0001-01-01 BC', '-27 hours'),
  (3, 'héllo', 'l+', 1e-20, 1e10, 'infinity', '-infinity', 'infinity', '35 days'),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- strings
SELECT md5('abc'), md5(''), reverse('héllo'), initcap('hi THOMAS o''neil 3rd-x'), chr(233), ascii('é'), ascii('');
SELECT translate('12345', '143', 'ax'), overlay('Txxxxas' placing 'hom' from 2 for 4), overlay('abc' placing 'X' from 2);
SELECT to_hex(-1), to_hex(255::bigint), to_hex(-1::bigint), starts_with('alphabet', 'alph'), starts_with('a', 'ab'), bit_length('jose');
SELECT quote_ident('select'), quote_ident('a b'), quote_ident('name'), quote_ident('Ab'), quote_literal(E'a''b\\c'), quote_literal(42), quote_nullable(NULL), quote_nullable('x');
SELECT format('%s|%I|%L|%%|%2$s|%-5s|%5s|', 'a', 'B c', NULL, 'x'), format('x'), format('%*s|%-*s|', 4, 'a', 3, 'b'), format('%1$s %1$s', 'z'), format(NULL, 1);
SELECT id, md5(t), reverse(t), initcap(replace(t, 'é', 'e')), lpad(t, 12, '.'), rpad(t, 7), repeat(t, 2), octet_length(t), bit_length(t) FROM s ORDER BY id;
SELECT chr(-1);
SELECT chr(0);
SELECT chr(1114112);
SELECT chr(55296);
SELECT overlay('abc' placing 'x' from 0);
SELECT format('%d', 1);
SELECT format('%s %s', 1);
SELECT format('%0$s', 1);
SELECT format('%', 1);
SELECT format('%I', NULL);
-- regular expressions
SELECT 'abc' ~ 'b' AS a, 'abc' ~ '^b' AS b, 'abc' !~ 'B' AS c, 'abc' ~* 'B' AS d, 'abc' !~* 'B' AS e, E'a\nb' ~ 'a.b' AS f, E'ab\n' ~ 'b$' AS g;
SELECT 'x1y22z' ~ '[[:digit:]]{2}', 'aaa' ~ '^a{2,3}$', 'abab' ~ '^(ab)\1$', 'foo.bar' ~ '\.', 'ABC' ~* 'b';
SELECT regexp_replace('foobarbaz', 'b..', 'X'), regexp_replace('foobarbaz', 'b..', 'X', 'g'), regexp_replace('fooBARbaz', 'b(.)(.)', '[\2\1\&\\]', 'gi');
SELECT regexp_replace('abc', '', '-', 'g'), regexp_replace('héllo', 'l', 'L', 'g'), regexp_replace(E'a\nb\nc', '^b$', 'B', 'n'), regexp_replace('a.b.c', '.', '_');
SELECT substring('foobar' from 'o.b'), substring('foobar' from 'o(.)b'), substring('foobar' from 'x'), substring('foobar' from '(x)?bar');
SELECT id, t ~ p AS m, t ~* p AS mi, t !~ 'o' AS no_o, regexp_replace(t, p, '<\&>', 'g') AS r, substring(t from p) AS sub FROM s ORDER BY id;
SELECT id FROM s WHERE t ~ '^[a-z]+$' ORDER BY id;
-- psql's \d queries: OPERATOR(pg_catalog.~) and COLLATE pg_catalog.default
SELECT 'abc' OPERATOR(pg_catalog.~) '^(abc)$' COLLATE pg_catalog.default, 'B' < 'a' COLLATE "C", 'x' COLLATE "POSIX" = 'x';
SELECT regexp_replace('a', 'a', 'b', 'z');
-- mathematics
SELECT exp(1.0), exp(1), ln(2.0), ln(10), log(100.0), log(2.0), log(2, 8.0), log10(1000), exp(100.5), exp(-10.0);
SELECT ln(1.00001), ln(1e-20), log(10, 1e100::numeric), exp(2.5), ln(1234.5678), log(0.001), log(3, 81), exp(0.0), ln(1.0), exp(-3);
SELECT div(7.5, 2), div(-7, 2), div(7.0, -2.5), gcd(12, 18), gcd(12.5, 5), gcd(12::bigint, -18), gcd(0, 0), lcm(4, 6), lcm(-4, 6), lcm(1.5, 2.25);
SELECT scale(1.230), scale(5), factorial(20), factorial(0), cbrt(27), degrees(1), radians(180), pi(), trunc(12.3456, 2), trunc(-12.3456, -1), sign(-2.5), sign(0.0);
SELECT width_bucket(5.35, 0.024, 10.06, 5), width_bucket(5.35::float8, 0.024, 10.06, 5), width_bucket(-1, 0, 10, 5), width_bucket(10, 0, 10, 5), width_bucket(7, 10, 0, 5), width_bucket(3.3::numeric, 10, 0, 4);
SELECT num_nulls(1, NULL, 'a'), num_nonnulls(1, NULL, 'a'), num_nulls(), num_nonnulls();
SELECT id, exp(f), ln(abs(n)), log(abs(n)), scale(n), sign(f), cbrt(f) FROM s WHERE id <> 3 ORDER BY id;
SELECT factorial(-1);
SELECT factorial(40000);
SELECT log(0);
SELECT ln(-1.0);
SELECT log(1.0, 2.0);
SELECT exp(-1000);
SELECT exp(10000.0);
SELECT gcd(-2147483648, 0);
SELECT width_bucket(1, 1, 1, 0);
SELECT width_bucket(1, 1, 1, 3);
-- date and time
SELECT date_trunc('year', ts), date_trunc('quarter', ts), date_trunc('month', ts), date_trunc('week', ts), date_trunc('day', ts), date_trunc('hour', ts), date_trunc('second', ts), date_trunc('milliseconds', ts), date_trunc('decade', ts), date_trunc('century', ts), date_trunc('millennium', ts) FROM s ORDER BY id;
SELECT date_trunc('year', iv), date_trunc('quarter', iv), date_trunc('day', iv), date_trunc('minute', iv), date_trunc('hour', iv) FROM s ORDER BY id;
SET TimeZone = 'America/New_York';
SELECT tz, date_trunc('day', tz), date_trunc('hour', tz), date_trunc('month', tz) FROM s ORDER BY id;
SELECT extract(hour from tz), extract(timezone from tz), extract(epoch from tz), date_part('day', tz) FROM s ORDER BY id;
SET TimeZone = 'UTC';
SELECT extract(year from ts), extract(month from ts), extract(day from ts), extract(second from ts), extract(milliseconds from ts), extract(microseconds from ts), extract(epoch from ts), extract(dow from ts), extract(isodow from ts), extract(doy from ts), extract(week from ts), extract(isoyear from ts), extract(quarter from ts), extract(century from ts), extract(decade from ts) FROM s ORDER BY id;
SELECT extract(year from d), extract(century from d), extract(decade from d), extract(millennium from d), extract(isoyear from d), extract(epoch from d), extract(julian from d), extract(day from d) FROM s ORDER BY id;
SELECT extract(epoch from iv), extract(second from iv), extract(hour from iv), extract(day from iv), extract(month from iv), extract(year from iv) FROM s ORDER BY id;
SELECT date_part('second', ts), date_part('epoch', ts), date_part('hour', d), date_part('epoch', iv), date_part('dow', d) FROM s ORDER BY id;
SELECT age(timestamp '2024-03-01', timestamp '2023-01-31'), age(timestamp '2023-01-31', timestamp '2024-03-01'), age(timestamp '2001-04-10', timestamp '1957-06-13'), age(timestamp '2024-05-17 10:00', timestamp '2024-05-16 12:30:15.5');
SELECT make_date(2024, 2, 29), make_date(-44, 3, 15), make_timestamp(2024, 5, 17, 13, 45, 12.345678), make_timestamp(2024, 5, 17, 24, 0, 0);
SELECT to_timestamp(1700000000.5), to_timestamp(0), to_timestamp('infinity'), to_timestamp(-1);
SELECT timezone('Asia/Tokyo', timestamptz '2024-01-01 12:00+00'), timestamp '2024-07-01 12:00' AT TIME ZONE 'Europe/Paris', timestamptz '2024-07-01 12:00+00' AT TIME ZONE 'America/Los_Angeles';
SELECT id, isfinite(d), isfinite(ts), isfinite(tz), isfinite(iv) FROM s ORDER BY id;
SELECT justify_days(interval '35 days'), justify_days(interval '-35 days'), justify_days(interval '1 mon -35 days'), justify_hours(interval '27 hours'), justify_hours(interval '-27 hours'), justify_hours(interval '1 day -27 hours');
SELECT justify_interval(interval '1 mon -1 hour'), justify_interval(interval '-1 mon 1 hour'), justify_interval(interval '40 days 30 hours'), justify_interval(interval '-40 days -30 hours');
SELECT timestamp '2024-01-31' + interval '1 month', date '2024-01-31' + 30, 7 + date '2024-01-01', date '2024-03-01' - date '2024-02-01', interval '1 day' * 1.5, 2 * interval '1 day', interval '1 hour' / 4;
SELECT timestamptz '2024-03-10 12:00+00' - timestamptz '2024-03-09 00:00+00', date '2024-01-01' + interval '1 hour', interval '1 day' + date '2024-01-01', date '2024-01-01' - interval '1 day', timestamp '2024-01-01' - interval '1 mon', date '2024-02-29' + interval '1 year';
SELECT date_trunc('foo', now());
SELECT date_trunc('dow', timestamp '2020-01-01');
SELECT date_trunc('week', interval '1 day');
SELECT extract(foo from now());
SELECT extract(hour from date '2024-01-01');
SELECT extract(dow from interval '1 day');
SELECT extract(timezone from timestamp '2024-01-01');
SELECT make_date(2020, 2, 30);
SELECT make_date(0, 2, 3);
SELECT make_timestamp(2020, 1, 1, 25, 0, 0);
SELECT to_timestamp('nan');
SELECT to_timestamp(1e20);
SELECT timezone('foo', now());
SELECT justify_days(interval '2147483647 months 30 days');
-- to_char
SELECT to_char(timestamp '2024-05-07 03:04:05.006789', 'YYYY-MM-DD HH24:MI:SS.MS.US HH12 AM am P.M. Mon MON mon Month|FMMonth|Day|FMDay|Dy|DDD|D|ID|IW|WW|W|Q|CC|J|SSSS|RM|FMRM|IYYY|YYY|YY|Y|DDth|FMDDth|ddTH|Y,YYY|"YYYY"|bc|AD|FMHH12');
SELECT to_char(timestamp '2021-01-03 23:59:59', 'IYYY-IW-ID IDDD WW D Dy dy DY day DAY FMDay, FMMonth FMDDth, YYYY "at" HH12:MI:SS pm a.m.'), to_char(timestamp '0044-03-15 BC', 'YYYY BC CC'), to_char(date '2024-02-29', 'FMDD/FMMM/YYYY');
SELECT id, to_char(ts, 'DD Mon YYYY HH24:MI:SS.US'), to_char(tz, 'YYYY-MM-DD HH24:MI OF'), to_char(n, 'FM999990.999'), to_char(f, 'S9,999,999,999.99'), to_char(id, '000') FROM s ORDER BY id;
SET TimeZone = 'Asia/Kolkata';
SELECT to_char(timestamptz '2024-01-01 00:00+00', 'YYYY-MM-DD HH24:MI OF TZH TZM');
SET TimeZone = 'UTC';
SELECT to_char(123.456, '999.99'), to_char(-123.456, 'FM999.99'), to_char(0.5, '999.99'), to_char(0, 'FM999.99'), to_char(-0.05, '0000.00'), to_char(1234.5, '9,999.9'), to_char(1234567, '9G999G999'), to_char(5, 'FM9,999');
SELECT to_char(123.456, 'S999.9'), to_char(-123.456, '999.9S'), to_char(-12, '999PR'), to_char(12, '999PR'), to_char(1234.5, '99.99'), to_char(1.5, 'FM9.0099'), to_char(-1.5, 'FM09.9909'), to_char(12, 'x99y'), to_char(12, '99.');
SELECT to_char(0.5::float8, '99'), to_char(2.5::float8, '9'), to_char(1234567.891::float8, '999999999.999999999'), to_char(42::bigint, 'FM0000'), to_char(-42, '9999');
DROP TABLE s;
