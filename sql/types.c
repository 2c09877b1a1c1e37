/*
 * types.c - the type catalog of types.h: names, lengths, the names a type
 * declaration may use, and typmods built from declared modifiers with
 * PostgreSQL 15's validation and messages.
 */
#include <string.h>
#include <strings.h>

#include "sql/types_int.h"

#define MAX_CHAR_LENGTH    10485760 /* PostgreSQL's MaxAttrSize / 1 */
#define NUMERIC_MAX_PREC   1000
#define NUMERIC_MIN_SCALE  (-1000)
#define NUMERIC_MAX_SCALE  1000
#define MAX_TIMESTAMP_PREC 6

const char *sql_type_name(sql_type_id oid)
{
    switch (oid) {
#define SQL__X(name, o, pg, typname, len) \
    case SQL_T_##name:                    \
        return pg;
        SQL_TYPE_MAP(SQL__X)
#undef SQL__X
#define SQL__X(name, o, pg, typname) \
    case SQL_T_##name##_ARRAY:       \
        return pg;
        SQL_ARRAY_TYPE_MAP(SQL__X)
#undef SQL__X
    }
    return NULL;
}

const char *sql_type_typname(sql_type_id oid)
{
    switch (oid) {
#define SQL__X(name, o, pg, typname, len) \
    case SQL_T_##name:                    \
        return typname;
        SQL_TYPE_MAP(SQL__X)
#undef SQL__X
#define SQL__X(name, o, pg, typname) \
    case SQL_T_##name##_ARRAY:       \
        return typname;
        SQL_ARRAY_TYPE_MAP(SQL__X)
#undef SQL__X
    }
    return NULL;
}

sql_type_id sql_type_array_elem(sql_type_id oid)
{
    switch (oid) {
#define SQL__X(name, o, pg, typname) \
    case SQL_T_##name##_ARRAY:       \
        return SQL_T_##name;
        SQL_ARRAY_TYPE_MAP(SQL__X)
#undef SQL__X
    default:
        return 0;
    }
}

sql_type_id sql_type_array_of(sql_type_id elem)
{
    switch (elem) {
#define SQL__X(name, o, pg, typname) \
    case SQL_T_##name:               \
        return SQL_T_##name##_ARRAY;
        SQL_ARRAY_TYPE_MAP(SQL__X)
#undef SQL__X
    default:
        return 0;
    }
}

bool sql_type_known(uint32_t oid)
{
    return sql_type_name((sql_type_id)oid) != NULL;
}

int sql_type_len(sql_type_id oid)
{
    switch (oid) {
#define SQL__X(name, o, pg, typname, len) \
    case SQL_T_##name:                    \
        return len;
        SQL_TYPE_MAP(SQL__X)
#undef SQL__X
    default:
        return sql_type_array_elem(oid) ? -1 : 0;
    }
}

int32_t sql_typmod_char(int32_t n)
{
    return n + 4;
}

int32_t sql_typmod_numeric(int32_t precision, int32_t scale)
{
    return (int32_t)(((uint32_t)precision << 16) | ((uint32_t)scale & 0x7ff)) + 4;
}

int sql_datum_copy(sql_type_id type, const sql_datum *in, kv_arena *arena, sql_datum *out,
                   sql_error *err)
{
    sql_datum d = *in;
    if (!d.isnull && (type == SQL_T_TEXT || type == SQL_T_VARCHAR || type == SQL_T_BPCHAR ||
                      type == SQL_T_BYTEA)) {
        if ((d.v.s.p = kv_arena_dup(arena, in->v.s.p, in->v.s.len)) == NULL)
            return sql__oom(arena, err);
    } else if (!d.isnull && type == SQL_T_NUMERIC && d.v.num.kind == SQL_NUM_FINITE) {
        size_t bytes =
            (size_t)(d.v.num.size < 0 ? -d.v.num.size : d.v.num.size) * sizeof(mp_limb_t);
        if ((d.v.num.limbs = kv_arena_dup(arena, in->v.num.limbs, bytes)) == NULL)
            return sql__oom(arena, err);
    } else if (!d.isnull && sql_type_array_elem(type))
        return sql__array_copy(in, arena, out, err);
    *out = d;
    return 0;
}

int sql_type_from_name(const char *name, kv_arena *arena, sql_type_id *out, bool *serial,
                       sql_error *err)
{
    static const struct {
        const char *name;
        sql_type_id oid;
        bool serial;
    } names[] = {
        {"bool", SQL_T_BOOL, false},
        {"boolean", SQL_T_BOOL, false},
        {"int2", SQL_T_INT2, false},
        {"smallint", SQL_T_INT2, false},
        {"int4", SQL_T_INT4, false},
        {"int", SQL_T_INT4, false},
        {"integer", SQL_T_INT4, false},
        {"int8", SQL_T_INT8, false},
        {"bigint", SQL_T_INT8, false},
        {"float4", SQL_T_FLOAT4, false},
        {"real", SQL_T_FLOAT4, false},
        {"float8", SQL_T_FLOAT8, false},
        {"float", SQL_T_FLOAT8, false},
        {"double precision", SQL_T_FLOAT8, false},
        {"numeric", SQL_T_NUMERIC, false},
        {"decimal", SQL_T_NUMERIC, false},
        {"text", SQL_T_TEXT, false},
        {"varchar", SQL_T_VARCHAR, false},
        {"character varying", SQL_T_VARCHAR, false},
        {"bpchar", SQL_T_BPCHAR, false},
        {"char", SQL_T_BPCHAR, false},
        {"character", SQL_T_BPCHAR, false},
        {"bytea", SQL_T_BYTEA, false},
        {"date", SQL_T_DATE, false},
        {"timestamp", SQL_T_TIMESTAMP, false},
        {"timestamptz", SQL_T_TIMESTAMPTZ, false},
        {"interval", SQL_T_INTERVAL, false},
        {"uuid", SQL_T_UUID, false},
        {"smallserial", SQL_T_INT2, true},
        {"serial2", SQL_T_INT2, true},
        {"serial", SQL_T_INT4, true},
        {"serial4", SQL_T_INT4, true},
        {"bigserial", SQL_T_INT8, true},
        {"serial8", SQL_T_INT8, true},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(name, names[i].name) == 0) {
            *out = names[i].oid;
            *serial = names[i].serial;
            return 0;
        }
        /* array types by their pg_type names (_int4), as psql's queries
         * write them */
#define SQL__X(elem, o, pg, typname)      \
    if (strcasecmp(name, typname) == 0) { \
        *out = SQL_T_##elem##_ARRAY;      \
        *serial = false;                  \
        return 0;                         \
    }
    SQL_ARRAY_TYPE_MAP(SQL__X)
#undef SQL__X
    return sql_error_set(err, arena, SQL_STATE_UNDEFINED_OBJECT, "type \"%s\" does not exist",
                         name);
}

/* anychar_typmodin: 1 <= n <= 10485760. */
static int char_mods(sql_type_id oid, const int32_t *mods, int n, kv_arena *arena, int32_t *out,
                     sql_error *err)
{
    const char *name = oid == SQL_T_VARCHAR ? "varchar" : "char";
    if (n != 1)
        return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "invalid type modifier");
    if (mods[0] < 1)
        return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "length for type %s must be at least 1", name);
    if (mods[0] > MAX_CHAR_LENGTH)
        return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "length for type %s cannot exceed %d", name, MAX_CHAR_LENGTH);
    *out = sql_typmod_char(mods[0]);
    return 0;
}

/* numerictypmodin (PostgreSQL 15: negative scales and scale > precision
 * allowed). */
static int numeric_mods(const int32_t *mods, int n, kv_arena *arena, int32_t *out, sql_error *err)
{
    if (n < 1 || n > 2)
        return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "invalid NUMERIC type modifier");
    int32_t scale = n == 2 ? mods[1] : 0;
    if (mods[0] < 1 || mods[0] > NUMERIC_MAX_PREC)
        return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "NUMERIC precision %d must be between 1 and %d", mods[0],
                             NUMERIC_MAX_PREC);
    if (scale < NUMERIC_MIN_SCALE || scale > NUMERIC_MAX_SCALE)
        return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                             "NUMERIC scale %d must be between %d and %d", scale, NUMERIC_MIN_SCALE,
                             NUMERIC_MAX_SCALE);
    *out = sql_typmod_numeric(mods[0], scale);
    return 0;
}

int sql_typmod_from_mods(sql_type_id oid, const int32_t *mods, int n, kv_arena *arena, int32_t *out,
                         sql_error *err)
{
    *out = -1;
    if (n == 0)
        return 0;
    switch (oid) {
    case SQL_T_VARCHAR:
    case SQL_T_BPCHAR:
        return char_mods(oid, mods, n, arena, out, err);
    case SQL_T_NUMERIC:
        return numeric_mods(mods, n, arena, out, err);
    case SQL_T_TIMESTAMP:
    case SQL_T_TIMESTAMPTZ:
        if (n != 1 || mods[0] < 0)
            return sql_error_set(err, arena, SQL_STATE_INVALID_PARAMETER_VALUE,
                                 "invalid type modifier");
        /* PostgreSQL warns and reduces; the value is what matters here */
        *out = mods[0] > MAX_TIMESTAMP_PREC ? MAX_TIMESTAMP_PREC : mods[0];
        return 0;
    default:
        return sql_error_set(err, arena, SQL_STATE_SYNTAX_ERROR,
                             "type modifier is not allowed for type \"%s\"",
                             sql_type_known(oid) ? sql_type_typname(oid) : "?");
    }
}
