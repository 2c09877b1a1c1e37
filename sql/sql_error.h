/*
 * sql_error.h - SQL errors in PostgreSQL's ereport discipline.
 *
 * Every error that sql/ and net/pgwire report carries a SQLSTATE, a
 * severity, a primary message and optionally a detail, a hint and a 1-based
 * character position in the statement text. The fields map one to one onto
 * the fields of the protocol's ErrorResponse / NoticeResponse ('S'/'V', 'C',
 * 'M', 'D', 'H', 'P'), so pgwire sends exactly what the SQL layer decided.
 *
 * SQLSTATEs come from ONE X-macro table (names follow PostgreSQL's
 * errcodes.txt); add rows there, never a second table.
 *
 * Memory: the strings of a sql_error live in the kv_arena passed to
 * sql_error_set() (a per-statement or per-message arena) and stay valid
 * until that arena is destroyed. A sql_error itself is a plain struct the
 * caller owns; zero-initialised means "no error".
 */
#ifndef SQL_SQL_ERROR_H
#define SQL_SQL_ERROR_H

#include <stdarg.h>

#include "kv/kv.h"

/* X(NAME, "SQLSTATE") -> SQL_STATE_NAME. */
#define SQL_SQLSTATE_MAP(X)                         \
    X(SUCCESSFUL_COMPLETION, "00000")               \
    X(WARNING, "01000")                             \
    X(CONNECTION_FAILURE, "08006")                  \
    X(PROTOCOL_VIOLATION, "08P01")                  \
    X(FEATURE_NOT_SUPPORTED, "0A000")               \
    X(INVALID_TRANSACTION_INITIATION, "0B000")      \
    X(CARDINALITY_VIOLATION, "21000")               \
    X(STRING_DATA_RIGHT_TRUNCATION, "22001")        \
    X(NUMERIC_VALUE_OUT_OF_RANGE, "22003")          \
    X(NULL_VALUE_NOT_ALLOWED, "22004")              \
    X(INVALID_DATETIME_FORMAT, "22007")             \
    X(DATETIME_FIELD_OVERFLOW, "22008")             \
    X(INTERVAL_FIELD_OVERFLOW, "22015")             \
    X(DIVISION_BY_ZERO, "22012")                    \
    X(SUBSTRING_ERROR, "22011")                     \
    X(INVALID_ESCAPE_SEQUENCE, "22025")             \
    X(INVALID_ARGUMENT_FOR_POWER_FUNCTION, "2201F") \
    X(INVALID_ARGUMENT_FOR_LOG, "2201E")            \
    X(INVALID_ARGUMENT_FOR_WIDTH_BUCKET, "2201G")   \
    X(INVALID_REGULAR_EXPRESSION, "2201B")          \
    X(INVALID_PARAMETER_VALUE, "22023")             \
    X(INVALID_LIMIT_ROW_COUNT, "2201W")             \
    X(INVALID_OFFSET_ROW_COUNT, "2201X")            \
    X(CHARACTER_NOT_IN_REPERTOIRE, "22021")         \
    X(INVALID_BINARY_REPRESENTATION, "22P03")       \
    X(INVALID_TEXT_REPRESENTATION, "22P02")         \
    X(ARRAY_SUBSCRIPT_ERROR, "2202E")               \
    X(BAD_COPY_FILE_FORMAT, "22P04")                \
    X(NOT_NULL_VIOLATION, "23502")                  \
    X(FOREIGN_KEY_VIOLATION, "23503")               \
    X(UNIQUE_VIOLATION, "23505")                    \
    X(CHECK_VIOLATION, "23514")                     \
    X(ACTIVE_SQL_TRANSACTION, "25001")              \
    X(NO_ACTIVE_SQL_TRANSACTION, "25P01")           \
    X(IN_FAILED_SQL_TRANSACTION, "25P02")           \
    X(READ_ONLY_SQL_TRANSACTION, "25006")           \
    X(INVALID_SQL_STATEMENT_NAME, "26000")          \
    X(INVALID_AUTHORIZATION_SPECIFICATION, "28000") \
    X(INVALID_PASSWORD, "28P01")                    \
    X(DEPENDENT_OBJECTS_STILL_EXIST, "2BP01")       \
    X(INVALID_CURSOR_NAME, "34000")                 \
    X(INVALID_CATALOG_NAME, "3D000")                \
    X(INVALID_SCHEMA_NAME, "3F000")                 \
    X(SERIALIZATION_FAILURE, "40001")               \
    X(STATEMENT_COMPLETION_UNKNOWN, "40003")        \
    X(DEADLOCK_DETECTED, "40P01")                   \
    X(SYNTAX_ERROR, "42601")                        \
    X(INSUFFICIENT_PRIVILEGE, "42501")              \
    X(UNDEFINED_COLUMN, "42703")                    \
    X(UNDEFINED_TABLE, "42P01")                     \
    X(UNDEFINED_FUNCTION, "42883")                  \
    X(AMBIGUOUS_FUNCTION, "42725")                  \
    X(UNDEFINED_OBJECT, "42704")                    \
    X(UNDEFINED_PARAMETER, "42P02")                 \
    X(DUPLICATE_COLUMN, "42701")                    \
    X(DUPLICATE_CURSOR, "42P03")                    \
    X(DUPLICATE_DATABASE, "42P04")                  \
    X(DUPLICATE_PREPARED_STATEMENT, "42P05")        \
    X(DUPLICATE_SCHEMA, "42P06")                    \
    X(DUPLICATE_TABLE, "42P07")                     \
    X(DUPLICATE_OBJECT, "42710")                    \
    X(AMBIGUOUS_COLUMN, "42702")                    \
    X(DUPLICATE_ALIAS, "42712")                     \
    X(INVALID_COLUMN_REFERENCE, "42P10")            \
    X(DATATYPE_MISMATCH, "42804")                   \
    X(WRONG_OBJECT_TYPE, "42809")                   \
    X(CANNOT_COERCE, "42846")                       \
    X(INDETERMINATE_DATATYPE, "42P18")              \
    X(INVALID_COLUMN_DEFINITION, "42611")           \
    X(INVALID_TABLE_DEFINITION, "42P16")            \
    X(INVALID_OBJECT_DEFINITION, "42P17")           \
    X(GROUPING_ERROR, "42803")                      \
    X(OUT_OF_MEMORY, "53200")                       \
    X(PROGRAM_LIMIT_EXCEEDED, "54000")              \
    X(OBJECT_NOT_IN_PREREQUISITE_STATE, "55000")    \
    X(OBJECT_IN_USE, "55006")                       \
    X(CANT_CHANGE_RUNTIME_PARAM, "55P02")           \
    X(QUERY_CANCELED, "57014")                      \
    X(ADMIN_SHUTDOWN, "57P01")                      \
    X(INTERNAL_ERROR, "XX000")

typedef enum sql_sqlstate {
#define SQL__X(name, code) SQL_STATE_##name,
    SQL_SQLSTATE_MAP(SQL__X)
#undef SQL__X
        SQL_STATE_COUNT
} sql_sqlstate;

/* Severities as PostgreSQL names them ('S' and 'V' fields). */
typedef enum sql_severity {
    SQL_SEV_ERROR = 0, /* the default: zero-initialised errors are ERRORs */
    SQL_SEV_FATAL,
    SQL_SEV_PANIC,
    SQL_SEV_WARNING,
    SQL_SEV_NOTICE,
    SQL_SEV_DEBUG,
    SQL_SEV_INFO,
    SQL_SEV_LOG,
} sql_severity;

typedef struct sql_error {
    sql_sqlstate state; /* SQL_STATE_SUCCESSFUL_COMPLETION: no error */
    sql_severity severity;
    const char *message; /* never NULL once set */
    const char *detail;  /* NULL: none */
    const char *hint;    /* NULL: none */
    int position;        /* 1-based character offset into the query, 0: none */
} sql_error;

/* The five-character SQLSTATE of `s` ("XX000" for out-of-range values);
 * static storage. */
const char *sql_sqlstate_code(sql_sqlstate s);

/* The severity's protocol name ("ERROR", "FATAL", ...); static storage. */
const char *sql_severity_name(sql_severity sev);

/* Sets *e to an ERROR of `state` with a printf-formatted message copied into
 * `arena`; clears detail, hint and position. Returns -1 so callers can
 * `return sql_error_set(...)`. If the arena cannot hold the message, the
 * state becomes OUT_OF_MEMORY with a static message. */
int sql_error_set(sql_error *e, kv_arena *arena, sql_sqlstate state, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Adds a printf-formatted detail or hint to an error already set; on
 * allocation failure the field stays NULL (the error itself stands). */
void sql_error_detail(sql_error *e, kv_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sql_error_hint(sql_error *e, kv_arena *arena, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies the strings of an error that is set into `to`, for when the
 * arena they live in (a batch's, a portal's) is about to go. */
void sql_error_move(sql_error *e, kv_arena *to);

#endif /* SQL_SQL_ERROR_H */
