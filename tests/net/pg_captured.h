/*
 * pg_captured.h - PostgreSQL 15 wire traffic transcribed byte for byte from
 * the captures of psql, pgbench, psycopg2 and pgjdbc (the team's
 * pgclients reference, README "What real PostgreSQL clients send").
 * Each macro is one complete message as it crossed the socket; the comment
 * quotes the decoded capture line it was transcribed from.
 */
#ifndef TESTS_NET_PG_CAPTURED_H
#define TESTS_NET_PG_CAPTURED_H

/* Literal length without the compiler's trailing NUL. */
#define LIT_LEN(s) (sizeof(s) - 1)

/* ---- frontend (F>) ---- */
/* F> SSLRequest (every client but node-postgres) */
#define PG_SSL "\x00\x00\x00\x08\x04\xd2\x16/"
/* pgbench: F> StartupMessage v3.0 {user: postgres, database: bench, application_name: pgbench} */
#define PG_STARTUP_PGBENCH                                 \
    "\x00\x00\x00\x3f\x00\x03\x00\x00user\x00postgres\x00" \
    "database\x00"                                         \
    "bench\x00"                                            \
    "application_name\x00pgbench\x00\x00"
/* pgjdbc: F> StartupMessage v3.0 {user: scramuser, database: testdb, client_encoding: UTF8,
 * DateStyle: ISO, TimeZone: Etc/UTC, extra_float_digits: 2} */
#define PG_STARTUP_PGJDBC                                \
    "\x00\x00\x00q\x00\x03\x00\x00user\x00scramuser\x00" \
    "database\x00testdb\x00"                             \
    "client_encoding\x00UTF8\x00"                        \
    "DateStyle\x00ISO\x00TimeZone\x00"                   \
    "Etc/UTC\x00"                                        \
    "extra_float_digits\x00"                             \
    "2\x00\x00"
/* pgjdbc: F> Parse stmt='' query='SELECT id, name FROM accounts WHERE id = $1' paramOIDs=[23] */
#define PG_PARSE_JDBC \
    "P\x00\x00\x00"   \
    "7\x00SELECT id, name FROM accounts WHERE id = $1\x00\x00\x01\x00\x00\x00\x17"
/* pgjdbc: F> Bind portal='' stmt='' paramFormats=[1] params=[00 00 00 01] resultFormats=[] */
#define PG_BIND_JDBC \
    "B\x00\x00\x00\x16\x00\x00\x00\x01\x00\x01\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00"
/* pgjdbc: F> Describe P '' */
#define PG_DESCRIBE_P "D\x00\x00\x00\x06P\x00"
/* pgjdbc: F> Execute portal='' maxrows=0 */
#define PG_EXECUTE_0 "E\x00\x00\x00\x09\x00\x00\x00\x00\x00"
/* F> Sync */
#define PG_SYNC "S\x00\x00\x00\x04"
/* pgjdbc: F> Parse stmt=S_3 query='INSERT INTO orders (acct, amount, note) VALUES ($1, $2, $3)'
 * paramOIDs=[23, 23, 1043] */
#define PG_PARSE_S3                                                                 \
    "P\x00\x00\x00RS_3\x00INSERT INTO orders (acct, amount, note) VALUES ($1, $2, " \
    "$3)\x00\x00\x03\x00\x00\x00\x17\x00\x00\x00\x17\x00\x00\x04\x13"
/* pgjdbc: F> Bind portal='' stmt=S_3 paramFormats=[1, 1, 0] params=[00 00 00 01, 00 00 00 0a, n0]
 * resultFormats=[] */
#define PG_BIND_S3                                                                              \
    "B\x00\x00\x00+\x00S_"                                                                      \
    "3\x00\x00\x03\x00\x01\x00\x01\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00" \
    "\x04\x00\x00\x00\x0a\x00\x00\x00\x02n0\x00\x00"
/* pgbench -M prepared: F> Bind portal='' stmt=P_0 paramFormats=[] params=[] resultFormats=[0] */
#define PG_BIND_P0 "B\x00\x00\x00\x11\x00P_0\x00\x00\x00\x00\x00\x00\x01\x00\x00"
/* psycopg2 copy_from: F> CopyData b'100\tx\t1\t2024-01-01\n' */
#define PG_COPYDATA     \
    "d\x00\x00\x00\x17" \
    "100\x09x\x09"      \
    "1\x09"             \
    "2024-01-01\x0a"
/* F> CopyDone */
#define PG_COPYDONE "c\x00\x00\x00\x04"
/* F> Terminate */
#define PG_TERMINATE "X\x00\x00\x00\x04"
/* psycopg2: F> Query BEGIN */
#define PG_QUERY_BEGIN  \
    "Q\x00\x00\x00\x0a" \
    "BEGIN\x00"

/* ---- backend (<B) ---- */
/* <B AuthenticationOk */
#define PG_AUTH_OK "R\x00\x00\x00\x08\x00\x00\x00\x00"
/* pgbench: <B ParameterStatus application_name=pgbench */
#define PG_PS_APPNAME   \
    "S\x00\x00\x00\x1d" \
    "application_name\x00pgbench\x00"
/* psycopg2: <B BackendKeyData pid=15543 key=-1486594345 */
#define PG_BKD                           \
    "K\x00\x00\x00\x0c\x00\x00<\xb7\xa7" \
    "d^\xd7"
/* <B ReadyForQuery I */
#define PG_RFQ_I "Z\x00\x00\x00\x05I"
/* psycopg2: <B RowDescription int4(23,len 4), ?column?(25,-1), ?column?(16,1), ?column?(1700,-1),
 * all tbl=0 att=0 mod=-1 fmt=0 */
#define PG_ROWDESC_PSY                                                                           \
    "T\x00\x00\x00n\x00\x04int4\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x17\x00\x04\xff\xff\xff" \
    "\xff\x00\x00\x3f"                                                                           \
    "column\x3f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x00\x3f" \
    "column\x3f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x01\xff\xff\xff\xff\x00\x00\x3f" \
    "column\x3f\x00\x00\x00\x00\x00\x00\x00\x00\x00\x06\xa4\xff\xff\xff\xff\xff\xff\x00\x00"
/* psycopg2: <B DataRow ['1', None, 't', '1.5'] */
#define PG_DATAROW_PSY                                   \
    "D\x00\x00\x00\x1b\x00\x04\x00\x00\x00\x01"          \
    "1\xff\xff\xff\xff\x00\x00\x00\x01t\x00\x00\x00\x03" \
    "1.5"
/* <B CommandComplete 'SELECT 1' */
#define PG_CC_SELECT1 "C\x00\x00\x00\x0dSELECT 1\x00"
/* psycopg2: <B CopyInResponse overallfmt=0 ncols=4 colfmts=[0, 0, 0, 0] */
#define PG_COPYIN "G\x00\x00\x00\x0f\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00"
/* pgjdbc: <B ParameterDescription [23, 23, 1043] */
#define PG_PARAMDESC "t\x00\x00\x00\x12\x00\x03\x00\x00\x00\x17\x00\x00\x00\x17\x00\x00\x04\x13"
/* pgjdbc: <B ErrorResponse S=ERROR V=ERROR C=42P01 M=relation "nosuch" does not exist P=15 (without
 * PostgreSQL's F/L/R source fields) */
#define PG_ERR_42P01                     \
    "E\x00\x00\x00@SERROR\x00VERROR\x00" \
    "C42P01\x00Mrelation \x22nosuch\x22 does not exist\x00P15\x00\x00"
/* pgbench -i: <B NoticeResponse S=NOTICE V=NOTICE C=00000 M=table "pgbench_tellers" does not exist,
 * skipping (without F/L/R) */
#define PG_NOTICE                          \
    "N\x00\x00\x00NSNOTICE\x00VNOTICE\x00" \
    "C00000\x00Mtable \x22pgbench_tellers\x22 does not exist, skipping\x00\x00"
/* pgjdbc: <B RowDescription id(tbl=16388,att=1,type=23,len=4),
 * name(tbl=16388,att=2,type=25,len=-1), mod=-1 fmt=0 */
#define PG_ROWDESC_JDBC                                                             \
    "T\x00\x00\x00"                                                                 \
    "2\x00\x02id\x00\x00\x00@"                                                      \
    "\x04\x00\x01\x00\x00\x00\x17\x00\x04\xff\xff\xff\xff\x00\x00name\x00\x00\x00@" \
    "\x04\x00\x02\x00\x00\x00\x19\xff\xff\xff\xff\xff\xff\x00\x00"
/* pgjdbc: <B DataRow ['1', "o'brien"] */
#define PG_DATAROW_JDBC                         \
    "D\x00\x00\x00\x16\x00\x02\x00\x00\x00\x01" \
    "1\x00\x00\x00\x07o'brien"

#endif /* TESTS_NET_PG_CAPTURED_H */
