/*
 * types_int.h - helpers shared by the files of the types module
 * (types.c, datum_text.c, datum_binary.c, datum_cmp.c, numeric.c,
 * datetime.c, timezone.c) and the key encoder (keyenc.c). Not a public
 * interface.
 */
#ifndef SQL_TYPES_INT_H
#define SQL_TYPES_INT_H

#include "sql/types.h"

/* PostgreSQL's limits and epochs. */
#define SQL__USECS_PER_SEC  INT64_C(1000000)
#define SQL__USECS_PER_DAY  INT64_C(86400000000)
#define SQL__DAYS_PER_MONTH 30
/* Days from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch). */
#define SQL__UNIX_EPOCH_DAYS    10957
#define SQL__NUMERIC_MAX_DSCALE 16383
/* Decimal digits before the point that a numeric may have (PG's limit). */
#define SQL__NUMERIC_MAX_INT_DIGITS 131072

/* ---- numeric.c ---- */

/* A finite numeric holding `z` * 10^-dscale; limbs copied into `arena`. */
int sql__numeric_from_mpz(const mpz_t z, int32_t dscale, kv_arena *arena, sql_numeric *out,
                          sql_error *err);
/* Text input (numeric_in) without a typmod. */
int sql__numeric_parse(const char *s, size_t len, kv_arena *arena, sql_numeric *out,
                       sql_error *err);
/* Text output (numeric_out): NUL-terminated in `arena`. */
int sql__numeric_format(const sql_numeric *n, kv_arena *arena, const char **out, size_t *len,
                        sql_error *err);
/* numeric(p,s) coercion for a PostgreSQL typmod (-1: copy). */
int sql__numeric_typmod(const sql_numeric *in, int32_t typmod, kv_arena *arena, sql_numeric *out,
                        sql_error *err);
/* PostgreSQL's numeric order (NaN above +Infinity). */
int sql__numeric_cmp(const sql_numeric *a, const sql_numeric *b);

/* The canonical decimal form of a finite non-zero numeric: value =
 * sign * 0.d1d2...dn * 10^exp10 with d1 != 0 and dn != 0. `digits` are
 * ASCII, malloc'd through GMP's allocator: release with
 * sql__numeric_digits_free. Returns -1 when out of memory. */
typedef struct sql__decimal {
    bool neg;
    int32_t exp10;
    char *digits;
    size_t ndigits;
} sql__decimal;
int sql__numeric_decimal(const sql_numeric *n, sql__decimal *out);
void sql__numeric_digits_free(sql__decimal *d);
/* The inverse: a finite numeric from canonical digits (dscale = digits
 * after the point, at least 0). */
int sql__numeric_from_decimal(bool neg, const char *digits, size_t ndigits, int32_t exp10,
                              kv_arena *arena, sql_numeric *out, sql_error *err);

/* ---- datetime.c ---- */

/* The *_format functions need buffers of at least this many bytes (the
 * longest interval, "-178956970 years -8 mons -2147483648 days
 * -2562047788:00:54.775808", fits with room to spare). */
#define SQL__DATETIME_BUF 128

/* 'now', 'today', 'tomorrow' and 'yesterday' need ctx->has_now. */
int sql__date_parse(const char *s, size_t len, const sql_io_ctx *ctx, kv_arena *arena, int32_t *out,
                    sql_error *err);
int sql__date_format(int32_t date, char buf[static SQL__DATETIME_BUF]);
/* with_tz: timestamptz (explicit offsets honoured, else ctx->tz applies). */
int sql__timestamp_parse(const char *s, size_t len, bool with_tz, const sql_io_ctx *ctx,
                         kv_arena *arena, int64_t *out, sql_error *err);
int sql__timestamp_format(int64_t ts, bool with_tz, const sql_tz *tz,
                          char buf[static SQL__DATETIME_BUF]);
/* timestamp(p) rounding; 22008 when the result leaves the valid range. */
int sql__timestamp_typmod(int64_t ts, int32_t typmod, kv_arena *arena, int64_t *out,
                          sql_error *err);
int sql__interval_parse(const char *s, size_t len, kv_arena *arena, sql_interval *out,
                        sql_error *err);
int sql__interval_format(const sql_interval *iv, char buf[static SQL__DATETIME_BUF]);
/* True when a finite timestamp lies in PostgreSQL's range (4713 BC ..
 * 294276 AD). */
bool sql__timestamp_valid(int64_t ts);
bool sql__date_valid(int32_t date);

/* ---- timezone.c ---- */

/* The UTC offset (seconds east) that applies to local wall time
 * `local_secs` (seconds since 1970 in local time), as PostgreSQL's
 * DetermineTimeZoneOffset: in a gap (spring forward) the offset before the
 * transition, in an overlap (fall back) the one after it. */
int32_t sql__tz_offset_local(const sql_tz *tz, int64_t local_secs);

/* ---- datum_cmp.c ---- */

/* An interval as one 128-bit microsecond count (months of 30 days, days of
 * 24 hours), PostgreSQL's interval_cmp_value. */
__int128 sql__interval_span(const sql_interval *iv);

/* ---- datum_array.c ---- */

/* sql_array_make with lower bound `lbound`. */
int sql__array_build(sql_type_id elem, const sql_datum *elems, int32_t n, int32_t lbound,
                     kv_arena *arena, sql_datum *out, sql_error *err);
/* The array forms of the datum functions of types.h, for an array type
 * `type` (its typmod applies to the elements); same contracts. */
int sql__array_parse(sql_type type, const char *s, size_t len, const sql_io_ctx *ctx,
                     kv_arena *arena, sql_datum *out, sql_error *err);
int sql__array_format(sql_type type, const sql_datum *d, const sql_io_ctx *ctx, kv_arena *arena,
                      const char **out, size_t *len_out, sql_error *err);
int sql__array_send(sql_type type, const sql_datum *d, kv_arena *arena, const uint8_t **out,
                    size_t *len_out, sql_error *err);
int sql__array_recv(sql_type type, const uint8_t *buf, size_t len, kv_arena *arena, sql_datum *out,
                    sql_error *err);
int sql__array_cmp(const sql_array *a, const sql_array *b);
uint64_t sql__array_hash(const sql_array *a, uint64_t seed);
int sql__array_copy(const sql_datum *in, kv_arena *arena, sql_datum *out, sql_error *err);
int sql__array_coerce(sql_type type, const sql_datum *in, kv_arena *arena, sql_datum *out,
                      sql_error *err);

/* ---- datum_text.c ---- */

/* Sets 53200 "out of memory" and returns -1. */
int sql__oom(kv_arena *arena, sql_error *err);

#endif /* SQL_TYPES_INT_H */
