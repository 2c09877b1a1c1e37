/*
 * pgwire_parse.c - typed parsers of frontend messages (net_pg_parse).
 *
 * A cursor walks the body; its first failure is sticky and recorded as a
 * FATAL 08P01 whose message is PostgreSQL's wording ("insufficient data
 * left in message", "invalid string in message", ...) and whose detail
 * names the message and the field. Counts are checked against the bytes
 * left before anything is allocated, so a hostile count costs nothing.
 *
 * Bodies (after the type byte and length word; Int16/Int32 big-endian,
 * String NUL-terminated):
 *   Startup   Int32 code; v3.0: (String name, String value)* then '\0'
 *   Cancel    Int32 80877102, Int32 pid, Int32 secret
 *   Query  Q  String sql
 *   Parse  P  String stmt, String sql, Int16 n, Int32 type_oid[n]
 *   Bind   B  String portal, String stmt, Int16 nf, Int16 fmt[nf],
 *             Int16 np, (Int32 len (-1 NULL), Byte[len])[np],
 *             Int16 nr, Int16 result_fmt[nr]
 *   Describe D / Close C   Byte 'S'|'P', String name
 *   Execute E String portal, Int32 max_rows
 *   CopyFail f String message
 *   Sync S, Flush H, Terminate X, CopyDone c   (empty)
 *   Password p, CopyData d                     (raw bytes)
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "net/pgwire.h"

#define CODE_CANCEL 80877102u
#define CODE_SSL    80877103u
#define CODE_GSSENC 80877104u

typedef struct cursor {
    const uint8_t *p;
    size_t left;
    const char *what; /* message name for error details */
    kv_arena *arena;
    sql_error *err;
    int rc; /* 0, or the first failure */
} cursor;

/* Records the first failure: 08P01 `msg` (FATAL) with a detail naming the
 * message. Returns the (negative) failure so callers can bail out with it. */
static int fail(cursor *c, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(cursor *c, const char *msg, const char *fmt, ...)
{
    if (c->rc < 0)
        return c->rc;
    char detail[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    c->rc = NET_EPROTO;
    sql_error_set(c->err, c->arena, SQL_STATE_PROTOCOL_VIOLATION, "%s", msg);
    sql_error_detail(c->err, c->arena, "%s message: %s", c->what, detail);
    c->err->severity = SQL_SEV_FATAL;
    return c->rc;
}

static const uint8_t *take(cursor *c, size_t n, const char *field)
{
    if (c->rc < 0)
        return NULL;
    if (n > c->left) {
        fail(c, "insufficient data left in message", "%s needs %zu bytes, %zu left", field, n,
             c->left);
        return NULL;
    }
    const uint8_t *p = c->p;
    c->p += n;
    c->left -= n;
    return p;
}

static int32_t get_i32(cursor *c, const char *field)
{
    const uint8_t *p = take(c, 4, field);
    if (p == NULL)
        return 0;
    return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

static int16_t get_i16(cursor *c, const char *field)
{
    const uint8_t *p = take(c, 2, field);
    return p ? (int16_t)((uint16_t)p[0] << 8 | p[1]) : 0;
}

static const char *get_str(cursor *c, const char *field)
{
    if (c->rc < 0)
        return NULL;
    const uint8_t *nul = c->left > 0 ? memchr(c->p, 0, c->left) : NULL;
    if (nul == NULL) {
        fail(c, "invalid string in message", "%s is not NUL-terminated", field);
        return NULL;
    }
    return (const char *)take(c, (size_t)(nul - c->p) + 1, field);
}

/* A count (Int16) of elements of at least `min_size` bytes each that must
 * fit in what is left; 0 after a failure. */
static size_t get_count(cursor *c, const char *field, size_t min_size)
{
    int16_t n = get_i16(c, field);
    if (c->rc < 0)
        return 0;
    if (n < 0 || (size_t)n * min_size > c->left) {
        fail(c, "insufficient data left in message", "%s %d exceeds the %zu bytes left", field, n,
             c->left);
        return 0;
    }
    return (size_t)n;
}

static void *alloc_array(cursor *c, size_t n, size_t size)
{
    if (c->rc < 0)
        return NULL;
    void *p = kv_arena_alloc(c->arena, n * size);
    if (p == NULL) {
        c->rc = NET_ENOMEM;
        sql_error_set(c->err, c->arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
    }
    return p;
}

static int16_t get_format(cursor *c, const char *field)
{
    int16_t f = get_i16(c, field);
    if (c->rc == 0 && f != 0 && f != 1)
        fail(c, "invalid message format", "unsupported format code %d in %s", f, field);
    return f;
}

/* The body must be used up exactly. */
static int finish(cursor *c)
{
    if (c->rc == 0 && c->left != 0)
        fail(c, "invalid message format", "%zu trailing bytes", c->left);
    return c->rc;
}

/* ---- startup phase --------------------------------------------------- */

/* Walks the name/value pairs of a v3 startup packet; fills the arrays when
 * non-NULL. The number of pairs, or -1. */
static long startup_pairs(cursor *c, const char **names, const char **values)
{
    long n = 0;
    for (;;) {
        const char *name = get_str(c, "parameter name");
        if (name == NULL)
            return -1;
        if (*name == '\0')
            break;
        const char *value = get_str(c, "parameter value");
        if (value == NULL)
            return -1;
        if (names != NULL) {
            names[n] = name;
            values[n] = value;
        }
        n++;
    }
    if (c->left != 0)
        return fail(c, "invalid startup packet layout: expected terminator as last byte",
                    "%zu bytes after the terminator", c->left);
    return n;
}

static int parse_startup(cursor *c, uint32_t code, net_pg_msg *m)
{
    m->kind = NET_PG_STARTUP;
    m->u.startup.major = (uint16_t)(code >> 16);
    m->u.startup.minor = (uint16_t)code;
    if (code >> 16 != NET_PG_PROTOCOL_MAJOR) {
        fail(c, "unsupported frontend protocol", "version %u.%u; server supports 3.0 to 3.0",
             code >> 16, code & 0xffff);
        c->err->state = SQL_STATE_FEATURE_NOT_SUPPORTED;
        return c->rc;
    }
    cursor probe = *c;
    long n = startup_pairs(&probe, NULL, NULL);
    if (n < 0) {
        *c = probe;
        return c->rc;
    }
    const char **names = alloc_array(c, (size_t)n, sizeof(char *));
    const char **values = alloc_array(c, (size_t)n, sizeof(char *));
    if (c->rc < 0)
        return c->rc;
    startup_pairs(c, names, values);
    m->u.startup.nparams = (size_t)n;
    m->u.startup.names = names;
    m->u.startup.values = values;
    return c->rc;
}

static int parse_untyped(cursor *c, net_pg_msg *m)
{
    uint32_t code = (uint32_t)get_i32(c, "request code");
    if (c->rc < 0)
        return c->rc;
    switch (code) {
    case CODE_SSL:
        m->kind = NET_PG_SSL_REQUEST;
        return finish(c);
    case CODE_GSSENC:
        m->kind = NET_PG_GSSENC_REQUEST;
        return finish(c);
    case CODE_CANCEL:
        m->kind = NET_PG_CANCEL_REQUEST;
        m->u.cancel.pid = get_i32(c, "process id");
        m->u.cancel.secret = get_i32(c, "secret key");
        return finish(c);
    default:
        return parse_startup(c, code, m);
    }
}

/* ---- typed messages -------------------------------------------------- */

static int parse_parse(cursor *c, net_pg_msg *m)
{
    m->u.parse.name = get_str(c, "statement name");
    m->u.parse.sql = get_str(c, "query string");
    size_t n = get_count(c, "parameter type count", 4);
    uint32_t *types = alloc_array(c, n, sizeof(uint32_t));
    for (size_t i = 0; i < n && c->rc == 0; i++)
        types[i] = (uint32_t)get_i32(c, "parameter type");
    m->u.parse.ntypes = n;
    m->u.parse.types = types;
    return finish(c);
}

static const net_pg_value *parse_bind_params(cursor *c, size_t n)
{
    net_pg_value *params = alloc_array(c, n, sizeof(net_pg_value));
    for (size_t i = 0; i < n && c->rc == 0; i++) {
        int32_t len = get_i32(c, "parameter length");
        if (c->rc == 0 && len < -1)
            fail(c, "invalid message format", "parameter %zu has length %d", i + 1, len);
        params[i].len = len;
        params[i].data = len >= 0 ? take(c, (size_t)len, "parameter value") : NULL;
    }
    return params;
}

static int parse_bind(cursor *c, net_pg_msg *m)
{
    m->u.bind.portal = get_str(c, "portal name");
    m->u.bind.stmt = get_str(c, "statement name");
    size_t nf = get_count(c, "parameter format count", 2);
    int16_t *formats = alloc_array(c, nf, sizeof(int16_t));
    for (size_t i = 0; i < nf && c->rc == 0; i++)
        formats[i] = get_format(c, "parameter formats");
    size_t np = get_count(c, "parameter count", 4);
    m->u.bind.params = parse_bind_params(c, np);
    size_t nr = get_count(c, "result format count", 2);
    int16_t *result_formats = alloc_array(c, nr, sizeof(int16_t));
    for (size_t i = 0; i < nr && c->rc == 0; i++)
        result_formats[i] = get_format(c, "result formats");
    if (finish(c) < 0)
        return c->rc;
    if (nf > 1 && nf != np)
        return fail(c, "invalid message format", "%zu parameter formats but %zu parameters", nf,
                    np);
    m->u.bind.nformats = nf;
    m->u.bind.formats = formats;
    m->u.bind.nparams = np;
    m->u.bind.nresult_formats = nr;
    m->u.bind.result_formats = result_formats;
    return 0;
}

/* Describe and Close share a layout: 'S' or 'P', then a name. */
static int parse_target(cursor *c, char *what, const char **name)
{
    const uint8_t *p = take(c, 1, "target kind");
    if (p != NULL && *p != 'S' && *p != 'P')
        return fail(c, "invalid message format", "target kind %d is neither 'S' nor 'P'", *p);
    *what = p ? (char)*p : 0;
    *name = get_str(c, "name");
    return finish(c);
}

static int parse_raw(cursor *c, const uint8_t **data, size_t *len)
{
    *data = c->p;
    *len = c->left;
    c->left = 0;
    return 0;
}

static int parse_typed(cursor *c, char type, net_pg_msg *m)
{
    switch (type) {
    case 'p':
        m->kind = NET_PG_PASSWORD;
        return parse_raw(c, &m->u.password.data, &m->u.password.len);
    case 'd':
        m->kind = NET_PG_COPY_DATA;
        return parse_raw(c, &m->u.copy_data.data, &m->u.copy_data.len);
    case 'Q':
        m->kind = NET_PG_QUERY;
        m->u.query.sql = get_str(c, "query string");
        return finish(c);
    case 'P':
        m->kind = NET_PG_PARSE;
        return parse_parse(c, m);
    case 'B':
        m->kind = NET_PG_BIND;
        return parse_bind(c, m);
    case 'D':
        m->kind = NET_PG_DESCRIBE;
        return parse_target(c, &m->u.describe.what, &m->u.describe.name);
    case 'C':
        m->kind = NET_PG_CLOSE;
        return parse_target(c, &m->u.close.what, &m->u.close.name);
    case 'E':
        m->kind = NET_PG_EXECUTE;
        m->u.execute.portal = get_str(c, "portal name");
        m->u.execute.max_rows = get_i32(c, "row limit");
        return finish(c);
    case 'f':
        m->kind = NET_PG_COPY_FAIL;
        m->u.copy_fail.message = get_str(c, "error message");
        return finish(c);
    case 'S':
        m->kind = NET_PG_SYNC;
        return finish(c);
    case 'H':
        m->kind = NET_PG_FLUSH;
        return finish(c);
    case 'X':
        m->kind = NET_PG_TERMINATE;
        return finish(c);
    case 'c':
        m->kind = NET_PG_COPY_DONE;
        return finish(c);
    default:
        return fail(c, "invalid frontend message type", "type byte %d", (unsigned char)type);
    }
}

static const char *message_name(char type)
{
    static const char *const names[256] = {
        ['p'] = "password", ['d'] = "CopyData", ['Q'] = "Query", ['P'] = "Parse",
        ['B'] = "Bind",     ['D'] = "Describe", ['C'] = "Close", ['E'] = "Execute",
        ['f'] = "CopyFail", ['S'] = "Sync",     ['H'] = "Flush", ['X'] = "Terminate",
        ['c'] = "CopyDone", [0] = "startup",
    };
    const char *n = names[(unsigned char)type];
    return n ? n : "unknown";
}

int net_pg_parse(const net_pg_frame *f, net_pg_msg *m, kv_arena *arena, sql_error *err)
{
    cursor c = {
        .p = f->body, .left = f->len, .what = message_name(f->type), .arena = arena, .err = err};
    memset(m, 0, sizeof(*m));
    return f->type == 0 ? parse_untyped(&c, m) : parse_typed(&c, f->type, m);
}

int16_t net_pg_bind_format(const net_pg_msg *bind, size_t i)
{
    if (bind->u.bind.nformats == 0)
        return 0;
    return bind->u.bind.formats[bind->u.bind.nformats == 1 ? 0 : i];
}

int net_pg_parse_password(const net_pg_msg *m, const char **password, kv_arena *arena,
                          sql_error *err)
{
    cursor c = {.p = m->u.password.data,
                .left = m->u.password.len,
                .what = "PasswordMessage",
                .arena = arena,
                .err = err};
    *password = get_str(&c, "password");
    return finish(&c);
}

int net_pg_parse_sasl_initial(const net_pg_msg *m, const char **mechanism, net_pg_value *data,
                              kv_arena *arena, sql_error *err)
{
    cursor c = {.p = m->u.password.data,
                .left = m->u.password.len,
                .what = "SASLInitialResponse",
                .arena = arena,
                .err = err};
    *mechanism = get_str(&c, "mechanism");
    data->len = get_i32(&c, "response length");
    if (c.rc == 0 && data->len < -1)
        fail(&c, "invalid message format", "response length %d", data->len);
    data->data = data->len >= 0 ? take(&c, (size_t)data->len, "response") : NULL;
    return finish(&c);
}
