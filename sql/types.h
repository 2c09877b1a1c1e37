/*
 * types.h - SQL types, datums and their PostgreSQL text and binary I/O,
 * comparison with NULL semantics, hashing, and numeric arithmetic.
 *
 * Type ids are PostgreSQL OIDs and typmods are PostgreSQL's atttypmod
 * values, so RowDescription can send both unchanged:
 *   varchar(n), char(n): n + 4          numeric(p,s): ((p << 16) | s) + 4
 *   timestamp(p), timestamptz(p): p     -1 everywhere: no modifier
 * serial/bigserial are int4/int8 with a default; they need no type of their
 * own.
 *
 * A sql_datum is a small value type. Variable-length payloads (text, bytea,
 * numeric limbs) point into a kv_arena chosen by whoever made the datum:
 * every function below that produces a datum or a string takes that arena,
 * and the result stays valid until the arena is destroyed. Input datums are
 * borrowed only for the duration of the call.
 *
 * Errors: functions return 0 or -1; on -1 `err` holds the SQLSTATE and the
 * message PostgreSQL 15 gives for the same input (22P02, 22003, 22007,
 * 22008, 22001, 22021, 22012, 22P03), its strings in the same arena.
 *
 * Threads: every function is reentrant and touches no global state (time
 * zones are read from tzdata files, never through TZ/tzset); number
 * parsing and printing use the C library in the "C" locale, which the
 * server never changes (no setlocale call).
 *
 * Representations (all PostgreSQL's own, so binary I/O is a byte copy):
 *   date         days since 2000-01-01; INT32_MIN/MAX = -infinity/infinity
 *   timestamp(tz) microseconds since 2000-01-01 00:00 (UTC for tz);
 *                INT64_MIN/MAX = -infinity/infinity
 *   interval     months, days, microseconds (three independent fields)
 *   numeric      kind (finite, NaN, +-Infinity) + signed unscaled integer as
 *                GMP limbs + display scale: value = unscaled * 10^-dscale
 *   text types   bytes in UTF-8, not NUL-terminated; char(n) keeps its pad
 *   void         no payload (pg_sleep's result): text "", binary zero bytes
 *   arrays       a pointer to an sql_array of element datums (below)
 */
#ifndef SQL_TYPES_H
#define SQL_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "kv/kv.h"
#include "sql/sql_error.h"

/* X(NAME, oid, "name in messages", "typname", typlen): typname is
 * pg_type.typname, typlen pg_type.typlen, what RowDescription reports (-1:
 * variable length). */
#define SQL_TYPE_MAP(X)                                                \
    X(BOOL, 16, "boolean", "bool", 1)                                  \
    X(BYTEA, 17, "bytea", "bytea", -1)                                 \
    X(INT8, 20, "bigint", "int8", 8)                                   \
    X(INT2, 21, "smallint", "int2", 2)                                 \
    X(INT4, 23, "integer", "int4", 4)                                  \
    X(TEXT, 25, "text", "text", -1)                                    \
    X(FLOAT4, 700, "real", "float4", 4)                                \
    X(FLOAT8, 701, "double precision", "float8", 8)                    \
    X(BPCHAR, 1042, "character", "bpchar", -1)                         \
    X(VARCHAR, 1043, "character varying", "varchar", -1)               \
    X(DATE, 1082, "date", "date", 4)                                   \
    X(TIMESTAMP, 1114, "timestamp without time zone", "timestamp", 8)  \
    X(TIMESTAMPTZ, 1184, "timestamp with time zone", "timestamptz", 8) \
    X(INTERVAL, 1186, "interval", "interval", 16)                      \
    X(NUMERIC, 1700, "numeric", "numeric", -1)                         \
    X(UUID, 2950, "uuid", "uuid", 16)                                  \
    X(VOID, 2278, "void", "void", 4)

/* The one-dimensional array type of each element type above but void,
 * with PostgreSQL's oids: X(ELEMENT NAME, array oid, "name in messages",
 * "typname"). Its typlen is -1, its typmod the element's (varchar(3)[]:
 * 7). A type added to SQL_TYPE_MAP gets its array type with a row here
 * (the oid is PostgreSQL's pg_type.typarray); every array function then
 * takes it. */
#define SQL_ARRAY_TYPE_MAP(X)                                          \
    X(BOOL, 1000, "boolean[]", "_bool")                                \
    X(BYTEA, 1001, "bytea[]", "_bytea")                                \
    X(INT2, 1005, "smallint[]", "_int2")                               \
    X(INT4, 1007, "integer[]", "_int4")                                \
    X(TEXT, 1009, "text[]", "_text")                                   \
    X(BPCHAR, 1014, "character[]", "_bpchar")                          \
    X(VARCHAR, 1015, "character varying[]", "_varchar")                \
    X(INT8, 1016, "bigint[]", "_int8")                                 \
    X(FLOAT4, 1021, "real[]", "_float4")                               \
    X(FLOAT8, 1022, "double precision[]", "_float8")                   \
    X(TIMESTAMP, 1115, "timestamp without time zone[]", "_timestamp")  \
    X(DATE, 1182, "date[]", "_date")                                   \
    X(TIMESTAMPTZ, 1185, "timestamp with time zone[]", "_timestamptz") \
    X(INTERVAL, 1187, "interval[]", "_interval")                       \
    X(NUMERIC, 1231, "numeric[]", "_numeric")                          \
    X(UUID, 2951, "uuid[]", "_uuid")

typedef enum sql_type_id {
#define SQL__X(name, oid, pg, typname, len) SQL_T_##name = oid,
    SQL_TYPE_MAP(SQL__X)
#undef SQL__X
#define SQL__X(name, oid, pg, typname) SQL_T_##name##_ARRAY = oid,
        SQL_ARRAY_TYPE_MAP(SQL__X)
#undef SQL__X
} sql_type_id;

typedef struct sql_type {
    sql_type_id oid;
    int32_t typmod; /* PostgreSQL atttypmod; -1: none */
} sql_type;

/* The type's name as PostgreSQL prints it in messages ("integer",
 * "integer[]"); static storage; NULL for an unknown oid. */
const char *sql_type_name(sql_type_id oid);
/* Whether `oid` is one of the types above. */
bool sql_type_known(uint32_t oid);

/* pg_type.typlen of `oid` (-1: variable length; 0: unknown oid). */
int sql_type_len(sql_type_id oid);
/* pg_type.typname ("int4", "_int4"); static storage; NULL for an
 * unknown oid. */
const char *sql_type_typname(sql_type_id oid);

/* Arrays: the element type of array type `oid` (0 when `oid` is not an
 * array type), and the array type whose elements are `elem` (0 when
 * there is none: void, an array type, an unknown oid). */
sql_type_id sql_type_array_elem(sql_type_id oid);
sql_type_id sql_type_array_of(sql_type_id elem);

/* typmod constructors (PostgreSQL's encodings, see above) */
int32_t sql_typmod_char(int32_t n);
int32_t sql_typmod_numeric(int32_t precision, int32_t scale);

/* The type a name in a type declaration denotes: PostgreSQL's internal
 * names as the parser produces them (int4, varchar, bpchar, float8,
 * timestamptz, ...) and the SQL spellings that reach the binder as plain
 * names (integer, int, boolean, decimal, float, ...). *serial is set for
 * smallserial/serial/bigserial (and serial2/4/8): the int2/int4/int8
 * column whose default is a sequence. 42704 "type \"x\" does not exist". */
int sql_type_from_name(const char *name, kv_arena *arena, sql_type_id *out, bool *serial,
                       sql_error *err);

/* The typmod of `oid` written with the `n` modifiers `mods`, as the
 * type's typmodin function: varchar(n)/char(n) with 1 <= n <= 10485760,
 * numeric(p[,s]) with 1 <= p <= 1000 and -1000 <= s <= 1000,
 * timestamp(p) and timestamptz(p) with p > 6 reduced to 6; n == 0 gives -1.
 * 22023 with PostgreSQL's messages on bad values, 42601 "type modifier is
 * not allowed for type \"x\"" for the other types. */
int sql_typmod_from_mods(sql_type_id oid, const int32_t *mods, int n, kv_arena *arena, int32_t *out,
                         sql_error *err);

typedef enum sql_numeric_kind {
    SQL_NUM_FINITE = 0,
    SQL_NUM_NAN,
    SQL_NUM_PINF,
    SQL_NUM_NINF,
} sql_numeric_kind;

/* A numeric value: unscaled integer in GMP's limb layout (`size` is
 * mpz's signed limb count, 0 for zero) times 10^-dscale. Read it with
 * mpz_roinit_n(z, limbs, size). */
typedef struct sql_numeric {
    sql_numeric_kind kind;
    int32_t dscale;
    int32_t size;
    const mp_limb_t *limbs;
} sql_numeric;

typedef struct sql_interval {
    int64_t micros;
    int32_t days;
    int32_t months;
} sql_interval;

typedef struct sql_array sql_array;

typedef struct sql_datum {
    bool isnull;
    union {
        bool b;
        int64_t i; /* int2, int4, int8 */
        double f;  /* float8; float4 holds an exactly representable float */
        struct {   /* text, varchar, bpchar, bytea */
            const uint8_t *p;
            size_t len;
        } s;
        sql_numeric num;
        int32_t date;
        int64_t ts; /* timestamp, timestamptz */
        sql_interval iv;
        uint8_t uuid[16];
        const sql_array *arr; /* array types */
    } v;
} sql_datum;

/* An array value (PostgreSQL's one-dimensional arrays): n elements of
 * one type, subscripts lbound .. lbound + n - 1 (lbound is 1 unless the
 * text or binary input said otherwise); elements may be NULL. The empty
 * array has n == 0 (and no dimensions, as in PostgreSQL). Set-returning
 * code (unnest) walks elems[0..n). Arrays are immutable once built: the
 * functions that "change" one build a new one in their arena. */
struct sql_array {
    sql_type_id elem;
    int32_t n;
    int32_t lbound;
    const sql_datum *elems; /* n datums, payloads in the same arena */
};

/* A new array of `n` elements of type `elem`, copied (shallowly: their
 * payloads stay where they are) from elems[0..n) into `arena`;
 * lbound 1. -1 (53200) when out of memory. */
int sql_array_make(sql_type_id elem, const sql_datum *elems, int32_t n, kv_arena *arena,
                   sql_datum *out, sql_error *err);

/* ---- time zones ------------------------------------------------------ */

/* A time zone for timestamptz I/O. Immutable once opened, so sessions on
 * different threads may share one; no process-global TZ state is touched. */
typedef struct sql_tz sql_tz;

/* Opens `name`: "UTC"/"GMT"/"Z", a POSIX-sign offset as PostgreSQL's
 * TimeZone setting reads it ("+05:30" is 5h30 WEST of UTC; "-08", "+0530")
 * or an IANA name read from the system tzdata (/usr/share/zoneinfo).
 * The zone lives in `arena`. 22023 "time zone \"x\" not recognized". */
int sql_tz_open(const char *name, kv_arena *arena, const sql_tz **out, sql_error *err);
/* UTC; static storage. */
const sql_tz *sql_tz_utc(void);
/* The zone's UTC offset in seconds (east positive) at UTC instant
 * `utc_secs` (seconds since 1970). */
int32_t sql_tz_offset_at(const sql_tz *tz, int64_t utc_secs);

/* ---- text and binary I/O -------------------------------------------- */

/* Session settings that text I/O depends on. */
typedef struct sql_io_ctx {
    const sql_tz *tz; /* TimeZone; NULL = UTC */
    bool has_now;     /* whether `now` is set */
    int64_t now;      /* transaction timestamp (µs since 2000-01-01 UTC) that
                       * 'now', 'today', 'tomorrow', 'yesterday' refer to */
    /* extra_float_digits minus its default 1, so that a zeroed context
     * prints like PostgreSQL's default: at or above the default, floats
     * print their shortest exact digits; below, FLT_DIG/DBL_DIG +
     * extra_float_digits significant digits (%g), as float4out/float8out. */
    int float_digits_offset;
} sql_io_ctx;

/* Parses `len` bytes of `text` (PostgreSQL's input function for `type`,
 * including its typmod coercion: varchar(n) length, char(n) padding,
 * numeric(p,s) rounding, timestamp(p) rounding) into a non-NULL *out whose
 * payload lives in `arena`. */
int sql_datum_from_text(sql_type type, const char *text, size_t len, const sql_io_ctx *ctx,
                        kv_arena *arena, sql_datum *out, sql_error *err);

/* PostgreSQL's output function: a NUL-terminated string in `arena`, its
 * length in *len_out (may be NULL). `d` must not be NULL. */
int sql_datum_to_text(sql_type type, const sql_datum *d, const sql_io_ctx *ctx, kv_arena *arena,
                      const char **out, size_t *len_out, sql_error *err);

/* PostgreSQL's binary send format (what a DataRow carries with format
 * code 1). Every type above has one. For text types and bytea *out borrows
 * d's payload (valid as long as that is); otherwise it is allocated in
 * `arena`. */
int sql_datum_send(sql_type type, const sql_datum *d, kv_arena *arena, const uint8_t **out,
                   size_t *len_out, sql_error *err);
/* PostgreSQL's binary receive function; the typmod is applied as for text
 * input. Too few bytes are 08P01 "insufficient data left in message" (a
 * protocol violation, as in PostgreSQL), bytes left over or a malformed
 * value 22P03 "incorrect binary data format". */
int sql_datum_recv(sql_type type, const uint8_t *buf, size_t len, kv_arena *arena, sql_datum *out,
                   sql_error *err);
/* Whether `e`, from sql_datum_recv, says bytes were left over after the
 * value (PostgreSQL's Bind reports that one with the parameter number). */
bool sql_datum_recv_left_over(const sql_error *e);

/* A deep copy of `in` whose payload (text bytes, numeric limbs) lives in
 * `arena`, e.g. to keep a value beyond the per-row arena it came from.
 * *out may alias `in`. */
int sql_datum_copy(sql_type_id type, const sql_datum *in, kv_arena *arena, sql_datum *out,
                   sql_error *err);

/* Applies a typmod to a datum of the same type (the cast varchar -> varchar(n)
 * or numeric -> numeric(p,s)); *out may alias `in`. */
int sql_datum_coerce(sql_type type, const sql_datum *in, kv_arena *arena, sql_datum *out,
                     sql_error *err);

/* ---- comparison, three-valued logic, hashing ------------------------ */

/* SQL's three truth values. */
typedef enum sql_tribool {
    SQL_FALSE = 0,
    SQL_TRUE = 1,
    SQL_UNKNOWN = 2,
} sql_tribool;

sql_tribool sql_tri_not(sql_tribool a);
sql_tribool sql_tri_and(sql_tribool a, sql_tribool b);
sql_tribool sql_tri_or(sql_tribool a, sql_tribool b);

/* The total order PostgreSQL's btree uses for two non-NULL datums of one
 * type: <0, 0, >0. NaN sorts above every other float and numeric and equals
 * itself; -0.0 equals 0; numerics compare by value (1.5 = 1.50); intervals
 * by their 30-day-month span ('1 mon' = '30 days'); char(n) ignores
 * trailing spaces; text compares bytewise (the C collation). */
int sql_datum_cmp(sql_type_id type, const sql_datum *a, const sql_datum *b);

/* The same order with NULLs placed first or last (ORDER BY). */
int sql_datum_cmp_nulls(sql_type_id type, const sql_datum *a, const sql_datum *b, bool nulls_first);

typedef enum sql_cmp_op {
    SQL_CMP_EQ,
    SQL_CMP_NE,
    SQL_CMP_LT,
    SQL_CMP_LE,
    SQL_CMP_GT,
    SQL_CMP_GE,
} sql_cmp_op;

/* `a op b` in SQL semantics: UNKNOWN when either side is NULL. */
sql_tribool sql_datum_compare_op(sql_type_id type, sql_cmp_op op, const sql_datum *a,
                                 const sql_datum *b);

/* `a IS [NOT] DISTINCT FROM b`: never UNKNOWN (NULL is not distinct from
 * NULL). Returns true when distinct. */
bool sql_datum_distinct(sql_type_id type, const sql_datum *a, const sql_datum *b);

/* A 64-bit hash consistent with sql_datum_cmp: datums that compare equal
 * hash equally (so 1.5 and 1.50, '1 mon' and '30 days'). NULL hashes to a
 * fixed value. `seed` lets hash joins re-partition. */
uint64_t sql_datum_hash(sql_type_id type, const sql_datum *d, uint64_t seed);

/* ---- numeric arithmetic --------------------------------------------- */

typedef enum sql_numeric_op {
    SQL_NUM_ADD,
    SQL_NUM_SUB,
    SQL_NUM_MUL,
    SQL_NUM_DIV,
} sql_numeric_op;

/* a op b with PostgreSQL's result display scale (max of the scales for +
 * and -, their sum for *, select_div_scale for /), NaN and infinity rules.
 * 22012 "division by zero"; 22003 "value overflows numeric format". */
int sql_numeric_arith(sql_numeric_op op, const sql_numeric *a, const sql_numeric *b,
                      kv_arena *arena, sql_numeric *out, sql_error *err);

#endif /* SQL_TYPES_H */
