#!/usr/bin/python3
"""Regenerates the golden tables of the sql suites from a real PostgreSQL 15
server (DateStyle ISO, MDY, IntervalStyle postgres, extra_float_digits 1):
  text_golden.inc   (type, input) -> output or error, TimeZone UTC
  tz_golden.inc     (TimeZone, timestamptz input) -> output
  arith_golden.inc  numeric a op b -> result or error
  send_golden.inc   (type, input) -> binary send format as hex

  cd tests/sql && ./gen_golden.py 'host=127.0.0.1 port=5432 user=postgres'

The tests never need the server; this script only documents where the
expected strings came from and refreshes them."""
import sys

import psycopg2
import psycopg2.extensions

CASES = [
    ("boolean", ["t", "TRUE", " yes ", "of", "o", "n", "1", "0", "tr", "maybe", "", "on"]),
    ("smallint", ["32767", "-32768", "32768", " 12 ", "1x", "", "+5", "-0"]),
    ("integer", ["2147483647", "-2147483648", "2147483648", "  -17  ", "abc", "1 2",
                 "99999999999x", "007"]),
    ("bigint", ["9223372036854775807", "-9223372036854775808", "9223372036854775808",
                "-9223372036854775809", "42"]),
    ("real", ["0.1", "1e6", "123456", "1234567", "3.4e38", "3.5e38", "1e-46", "-0", "NaN",
              "inf", "-Infinity", "1.5e-5", "0.0001", "abc", " 2.5 ", "16777217"]),
    ("double precision", ["0.1", "1e15", "123456789012345", "1.5e-05", "1e-5", "1e308",
                          "1e309", "1e-400", "5e-324", "-0", "nan", "Infinity", "-inf",
                          "3.141592653589793", "100", "0.3", "2.5e-4", "x1", ""]),
    ("numeric", ["1.50", "-0.000", "0", "1e3", "1.23e-2", "-12.345e1", " +7 ", "NaN",
                 "nan", "Infinity", "-inf", "1.2.3", "e5", "1e", ".5", "5.", "-.5e-3",
                 "123456789012345678901234567890.123456789", "1e-16384", "1e131072",
                 "1e999999999999", "0e999999", "1.5e-40",
                 "-", "  ", "+inf", "-Inf", "-NaN", "0.000001e-3", "1_000"]),
    ("numeric(5,2)", ["1.005", "-1.005", "999.994", "999.995", "0.001", "Infinity", "NaN",
                      "12"]),
    ("numeric(3,-1)", ["123", "1234", "5"]),
    ("numeric(2,2)", ["0.995", "0.994"]),
    ("text", ["hello", "", "  spaced  ", "ünïcödé"]),
    ("varchar(3)", ["abc", "ab", "abcd", "abc   ", "äöüß"]),
    ("char(3)", ["a", "abc", "abcd", "ab  ", ""]),
    ("bytea", ["\\x0102ff", "\\x", "abc", "a\\\\b", "\\001x", "\\x0", "\\xzz", "\\q",
               "\\X01", "\\x 01 02"]),
    ("uuid", ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "A0EEBC999C0B4EF8BB6D6BB9BD380A11",
              "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}", "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
              "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1", "xyz"]),
    ("date", ["2024-01-02", "", "  2024-01-02  ", "2024-1-2", "Feb 29 2023", "1-2-3", "01/02/03", "12/31/1999", "20240102", "Jan 2 2024",
              "January 2, 2024", "0044-03-15 BC", "2024-02-29", "2023-02-29", "2024-13-01",
              "infinity", "-infinity", "epoch", "foo", "4714-11-24 BC", "4714-11-23 BC",
              "5874897-12-31", "5874898-01-01", "0001-01-01", "0000-01-01", "70-01-01",
              "2024-01-02 +01", "2024-01-02 03:04:05", "02 Jan 2024", "2 January 2024",
              "2024-Jan-02", "Jan-02-2024", "2024.01.02", "1/2/2024", "2024/01/02",
              "Tue Jan 2 2024", "Jan 2", "2024-01", "1 2 3", "Foo 2 2024", "2024-01-02 x",
              "Jan 2 99", "32 Jan 2024", "2024 Jan 2 03:04"]),
    ("timestamp", ["2024-01-02 03:04:05", "2024-01-02T03:04:05.123456",
                   "2024-01-02 03:04:05.1234567", "2024-01-02 03:04", "2024-01-02",
                   "2024-01-02 24:00:00", "2024-01-02 24:00:01", "2024-01-02 25:00",
                   "2024-01-02 03:04:05+05:30", "0044-03-15 10:00:00 BC", "294276-12-31 23:59:59",
                   "294277-01-01", "infinity", "-infinity", "epoch", "bad", "2024-01-02 3:4:5.5"]),
    ("timestamp(2)", ["2024-01-02 03:04:05.125", "2024-01-02 03:04:05.994999",
                      "2024-01-02 23:59:59.995"]),
    ("timestamp with time zone", ["2024-01-02 03:04:05", "2024-01-02 03:04:05+05:30",
                                  "2024-01-02T03:04:05Z", "2024-01-02 03:04:05-08",
                                  "2024-01-02 03:04:05 America/New_York",
                                  "2024-07-02 03:04:05 Europe/Paris", "2024-01-02 03:04:05 UTC",
                                  "2024-01-02 03:04:05+0530", "2024-01-02 03:04:05 Mars/Base",
                                  "2024-01-02 03:04:05.5-03:30", "2024-01-02 03:04:05 +01",
                                  "2024-01-02 03:04:05 +01:00:00", "2024-01-02 03:04:05z",
                                  "2024-01-02T03:04", "02 Jan 2024 10:00", "2024-01-02 Foo",
                                  "2024-01-02 03:04:05 Europe/Nowhere", "20240102T030405",
                                  "2024-01-02 03:04:05-08:00 BC",
                                  "infinity", "0044-03-15 10:00:00+01 BC"]),
    ("interval", ["1 day", "1 day 02:03:04", "1 year 2 months 3 days", "-1 day 2 hours",
                  "1 day -2 hours", "@ 1 day ago", "1.5 years", "1.5 months", "1.5 days",
                  "1.5 hours", "90 minutes", "3600", "1 week", "1 mon", "-1:02:03", "0",
                  "00:00:00.5", "2 decades", "1 century", "1 millennium",
                  "10 ms", "100 us", "1 day 1 day", "-1 years -2 mons", "1 year -1 mon",
                  "x", "1 fortnight", "23:59:59.999999", "100:00:00", "nan days", "inf",
                  "0x10 days", "1.2.3 days", "-1.5 days", "+2 hours -3 minutes",
                  "1 hour 01:00:00", "1 week 2 days", "1 ms 1 us", "", "ago",
                  "2 mons 40 days 25:00:00", "5 01:00", "5 01:00:00.25", "1-2", "-1-2",
                  "1-2 3 04:05:06", "P1Y2M3DT4H5M6S", "P1.5D", "PT90M", "P2W", "PT0.5S",
                  "P1Y2X", "P", "1-13", "2147483647 months", "2147483648 months",
                  "178956970 years", "178956971 years", "2147483648 days",
                  "2562047788 hours"]),
]


TZ_CASES = [
    ("Europe/Paris", ["2024-03-31 02:30", "2024-10-27 02:30", "2024-10-27 01:59:59",
                      "1900-01-01", "2024-07-14 12:00", "2024-01-02 03:04:05+05:30",
                      "2100-07-01", "2100-03-28 02:30", "2100-10-31 02:30", "2100-12-31"]),
    ("Australia/Sydney", ["2024-01-01 12:00", "2024-07-01 12:00", "2080-01-01 12:00",
                          "2080-07-01 12:00", "2080-04-07 02:30"]),
    ("America/Sao_Paulo", ["2050-01-01 00:00"]),
    ("America/New_York", ["2024-03-10 02:30", "2024-11-03 01:30", "1883-11-18 12:00",
                          "2200-03-14 02:30", "2200-11-07 01:30", "2200-11-07 03:30",
                          "2024-06-01 00:00:00.5"]),
    ("Asia/Kolkata", ["2024-01-01 00:00", "1941-10-01 00:00"]),
    ("+05:30", ["2024-01-01 00:00", "2024-01-01 00:00Z"]),
    ("UTC", ["2024-01-01 00:00 Asia/Tokyo", "0044-03-15 12:00 BC"]),
]

ARITH_CASES = [
    ("1.50", "+", "2.250"), ("1", "-", "1.000"), ("-0.5", "+", "0.5"), ("1.5", "*", "2.25"),
    ("1", "/", "3"), ("10", "/", "4"), ("2", "/", "3.0000000000000000000001"),
    ("123456789", "/", "0.001"), ("0", "/", "7"), ("1", "/", "0"), ("0.001", "/", "7"),
    ("1e-20", "/", "3"), ("-7", "/", "2"), ("99999", "/", "0.3"), ("1", "/", "-7.00"),
    ("Infinity", "+", "-Infinity"), ("Infinity", "-", "-Infinity"), ("Infinity", "*", "0"),
    ("-Infinity", "*", "-2"), ("NaN", "+", "1"), ("Infinity", "/", "0"),
    ("Infinity", "/", "Infinity"), ("5", "/", "Infinity"), ("-2", "/", "Infinity"),
    ("1.000", "*", "1.00"), ("123.456", "-", "123.456"), ("0.5", "/", "0.25"),
]

SEND_CASES = [
    ("boolean", ["t", "f"]), ("smallint", ["-2"]), ("integer", ["305419896"]),
    ("bigint", ["-1"]), ("real", ["1.5", "NaN"]), ("double precision", ["-0.1"]),
    ("text", ["h\u00e9"]), ("bytea", ["\\x00ff"]),
    ("numeric", ["0", "0.00", "1.50", "-12345.6789", "10000", "0.0001", "1e-10",
                 "123456789012.5", "NaN", "Infinity", "-Infinity", "99999999", "-0.00012"]),
    ("date", ["2000-01-01", "1999-12-31", "infinity"]),
    ("timestamp", ["2000-01-01 00:00:01.5", "-infinity"]),
    ("timestamp with time zone", ["2024-01-02 03:04:05+01"]),
    ("interval", ["1 year 2 days 00:00:01"]),
    ("uuid", ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]),
]

SEND_FUNCS = {"boolean": "boolsend", "smallint": "int2send", "integer": "int4send",
              "bigint": "int8send", "real": "float4send", "double precision": "float8send",
              "text": "textsend", "bytea": "byteasend", "numeric": "numeric_send",
              "date": "date_send", "timestamp": "timestamp_send",
              "timestamp with time zone": "timestamptz_send", "interval": "interval_send",
              "uuid": "uuid_send"}


def run(cur, typ, value):
    # Assignment to a column of the type: the input function plus the
    # typmod coercion that INSERT applies (an explicit cast would truncate
    # varchar(n) instead of failing). The output function's text comes back
    # unconverted through the RAW caster.
    cur.execute("SAVEPOINT s")
    try:
        cur.execute("CREATE TEMP TABLE g (v " + typ + ")")
        cur.execute("INSERT INTO g VALUES (%s)", (value,))
        cur.execute("SELECT v FROM g")
        out = cur.fetchone()[0]
        cur.execute("DROP TABLE g")
        cur.execute("RELEASE SAVEPOINT s")
        return ("ok", out, None)
    except psycopg2.Error as e:
        cur.execute("ROLLBACK TO SAVEPOINT s")
        return ("err", e.pgcode, e.diag.message_primary)


def c_str(s):
    out = '"'
    for ch in s.encode():
        if ch in (0x22, 0x5C):
            out += "\\" + chr(ch)
        elif 0x20 <= ch < 0x7F:
            out += chr(ch)
        else:
            out += "\\%03o" % ch
    return out + '"'


def main():
    oids = (16, 17, 20, 21, 23, 25, 700, 701, 1042, 1043, 1082, 1114, 1184, 1186, 1700, 2950)
    raw = psycopg2.extensions.new_type(oids, "RAW", lambda value, cur: value)
    psycopg2.extensions.register_type(raw)
    conn = psycopg2.connect(sys.argv[1])
    cur = conn.cursor()
    cur.execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY';"
                " SET IntervalStyle = 'postgres'; SET extra_float_digits = 1")
    head = "/* Generated by tests/sql/gen_golden.py from PostgreSQL %s; do not edit. */\n" % (
        conn.server_version)

    def row(*fields):
        return "{" + ", ".join("NULL" if f is None else c_str(f) for f in fields) + "},\n"

    with open("text_golden.inc", "w") as f:
        f.write(head + "/* {type, input, SQLSTATE (NULL: success), output or message} */\n")
        for typ, values in CASES:
            for v in values:
                kind, a, b = run(cur, typ, v)
                f.write(row(typ, v, None, a) if kind == "ok" else row(typ, v, a, b))
    with open("tz_golden.inc", "w") as f:
        f.write(head + "/* {TimeZone, timestamptz input, output} */\n")
        for zone, values in TZ_CASES:
            cur.execute("SET TimeZone = %s", (zone,))
            for v in values:
                kind, a, b = run(cur, "timestamp with time zone", v)
                assert kind == "ok", (zone, v, a, b)
                f.write(row(zone, v, a))
        cur.execute("SET TimeZone = 'UTC'")
    with open("arith_golden.inc", "w") as f:
        f.write(head + "/* {a, op, b, SQLSTATE (NULL: success), result or message} */\n")
        for a, op, b in ARITH_CASES:
            cur.execute("SAVEPOINT s")
            try:
                cur.execute("SELECT %s::numeric " + op + " %s::numeric", (a, b))
                f.write(row(a, op, b, None, cur.fetchone()[0]))
                cur.execute("RELEASE SAVEPOINT s")
            except psycopg2.Error as e:
                cur.execute("ROLLBACK TO SAVEPOINT s")
                f.write(row(a, op, b, e.pgcode, e.diag.message_primary))
    with open("send_golden.inc", "w") as f:
        f.write(head + "/* {type, input, send format as hex} */\n")
        for typ, values in SEND_CASES:
            for v in values:
                cur.execute("SELECT encode(" + SEND_FUNCS[typ] + "(%s::" + typ + "), 'hex')",
                            (v,))
                f.write(row(typ, v, cur.fetchone()[0]))


main()
