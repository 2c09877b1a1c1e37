/*
 * pgwire_build.c - builders of backend messages into a net_pg_buf.
 *
 * Every builder goes through one writer: begin() puts the type byte and a
 * length placeholder, the put_*() helpers append (and remember the first
 * allocation failure), finish() patches the length word or, on failure,
 * truncates the buffer back to where the message began, so a buffer never
 * holds half a message.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/pgwire.h"

typedef struct writer {
    net_pg_buf *b;
    size_t start; /* offset of the type byte */
    int rc;
} writer;

void net_pg_buf_free(net_pg_buf *b)
{
    free(b->data);
    *b = (net_pg_buf){0};
}

void net_pg_buf_reset(net_pg_buf *b)
{
    b->len = 0;
}

static void put(writer *w, const void *p, size_t n)
{
    net_pg_buf *b = w->b;
    if (w->rc < 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *data = realloc(b->data, cap);
        if (data == NULL) {
            w->rc = NET_ENOMEM;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_i16(writer *w, int16_t v)
{
    uint8_t x[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};
    put(w, x, 2);
}

static void put_i32(writer *w, int32_t v)
{
    uint32_t u = (uint32_t)v;
    uint8_t x[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8), (uint8_t)u};
    put(w, x, 4);
}

/* A C string with its terminating NUL, as the protocol's String type. */
static void put_str(writer *w, const char *s)
{
    put(w, s, strlen(s) + 1);
}

static writer begin(net_pg_buf *b, char type)
{
    writer w = {.b = b, .start = b->len};
    put(&w, &type, 1);
    put_i32(&w, 0);
    return w;
}

static int finish(writer *w)
{
    net_pg_buf *b = w->b;
    size_t len = b->len - w->start - 1;
    if (w->rc == 0 && len > INT32_MAX)
        w->rc = NET_EINVAL;
    if (w->rc < 0) {
        b->len = w->start;
        return w->rc;
    }
    uint8_t *p = b->data + w->start + 1;
    p[0] = (uint8_t)(len >> 24);
    p[1] = (uint8_t)(len >> 16);
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    return 0;
}

int net_pg_put_refuse_encryption(net_pg_buf *b)
{
    writer w = {.b = b, .start = b->len};
    put(&w, "N", 1);
    return w.rc;
}

int net_pg_put_auth(net_pg_buf *b, int32_t code, const void *data, size_t len)
{
    writer w = begin(b, 'R');
    put_i32(&w, code);
    put(&w, data, len);
    return finish(&w);
}

int net_pg_put_parameter_status(net_pg_buf *b, const char *name, const char *value)
{
    writer w = begin(b, 'S');
    put_str(&w, name);
    put_str(&w, value);
    return finish(&w);
}

int net_pg_put_backend_key(net_pg_buf *b, int32_t pid, int32_t secret)
{
    writer w = begin(b, 'K');
    put_i32(&w, pid);
    put_i32(&w, secret);
    return finish(&w);
}

int net_pg_put_ready(net_pg_buf *b, char status)
{
    assert(status == 'I' || status == 'T' || status == 'E');
    writer w = begin(b, 'Z');
    put(&w, &status, 1);
    return finish(&w);
}

int net_pg_put_row_description(net_pg_buf *b, size_t n, const net_pg_field *fields)
{
    assert(n <= INT16_MAX);
    writer w = begin(b, 'T');
    put_i16(&w, (int16_t)n);
    for (size_t i = 0; i < n; i++) {
        const net_pg_field *f = &fields[i];
        put_str(&w, f->name);
        put_i32(&w, (int32_t)f->table_oid);
        put_i16(&w, f->attnum);
        put_i32(&w, (int32_t)f->type_oid);
        put_i16(&w, f->typlen);
        put_i32(&w, f->typmod);
        put_i16(&w, f->format);
    }
    return finish(&w);
}

int net_pg_put_data_row(net_pg_buf *b, size_t n, const net_pg_value *values)
{
    assert(n <= INT16_MAX);
    writer w = begin(b, 'D');
    put_i16(&w, (int16_t)n);
    for (size_t i = 0; i < n; i++) {
        assert(values[i].len >= -1);
        put_i32(&w, values[i].len);
        if (values[i].len > 0)
            put(&w, values[i].data, (size_t)values[i].len);
    }
    return finish(&w);
}

int net_pg_put_command_complete(net_pg_buf *b, const char *tag)
{
    writer w = begin(b, 'C');
    put_str(&w, tag);
    return finish(&w);
}

int net_pg_put_parameter_description(net_pg_buf *b, size_t n, const uint32_t *type_oids)
{
    assert(n <= INT16_MAX);
    writer w = begin(b, 't');
    put_i16(&w, (int16_t)n);
    for (size_t i = 0; i < n; i++)
        put_i32(&w, (int32_t)type_oids[i]);
    return finish(&w);
}

/* One ErrorResponse field: code byte then String; skipped when absent. */
static void put_field(writer *w, char code, const char *value)
{
    if (value == NULL)
        return;
    put(w, &code, 1);
    put_str(w, value);
}

int net_pg_put_error(net_pg_buf *b, const sql_error *e)
{
    int is_error = e->severity == SQL_SEV_ERROR || e->severity == SQL_SEV_FATAL ||
                   e->severity == SQL_SEV_PANIC;
    const char *sev = sql_severity_name(e->severity);
    char pos[16];
    snprintf(pos, sizeof(pos), "%d", e->position);
    writer w = begin(b, is_error ? 'E' : 'N');
    put_field(&w, 'S', sev);
    put_field(&w, 'V', sev);
    put_field(&w, 'C', sql_sqlstate_code(e->state));
    put_field(&w, 'M', e->message ? e->message : "");
    put_field(&w, 'D', e->detail);
    put_field(&w, 'H', e->hint);
    put_field(&w, 'P', e->position > 0 ? pos : NULL);
    put(&w, "", 1); /* terminator */
    return finish(&w);
}

int net_pg_put_negotiate_version(net_pg_buf *b, int32_t minor, size_t n, const char *const *opts)
{
    writer w = begin(b, 'v');
    put_i32(&w, NET_PG_PROTOCOL_MAJOR << 16 | minor);
    put_i32(&w, (int32_t)n);
    for (size_t i = 0; i < n; i++)
        put_str(&w, opts[i]);
    return finish(&w);
}

int net_pg_put_copy_response(net_pg_buf *b, char type, int8_t format, size_t ncols,
                             const int16_t *col_formats)
{
    assert((type == 'G' || type == 'H') && ncols <= INT16_MAX);
    writer w = begin(b, type);
    put(&w, &format, 1);
    put_i16(&w, (int16_t)ncols);
    for (size_t i = 0; i < ncols; i++)
        put_i16(&w, col_formats[i]);
    return finish(&w);
}

int net_pg_put_copy_data(net_pg_buf *b, const void *data, size_t len)
{
    writer w = begin(b, 'd');
    put(&w, data, len);
    return finish(&w);
}

int net_pg_put_empty(net_pg_buf *b, net_pg_empty_msg type)
{
    writer w = begin(b, (char)type);
    return finish(&w);
}
