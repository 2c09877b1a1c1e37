/*
 * valenc.c - the row value encoding (valenc.h): per non-NULL column
 *   uvarint  column id minus the previous entry's id (the first: minus 0)
 *   uvarint  payload length
 *   bytes    the value in PostgreSQL's binary send format (datum_binary.c),
 *            which keeps numeric display scales, interval fields, char(n)
 *            padding and -0.0 exactly
 * uvarint = LEB128: 7 bits per byte, least significant group first, high
 * bit set on every byte but the last.
 */
#include <assert.h>

#include "sql/valenc.h"
#include "sql/types_int.h"

#define UVARINT_MAX_BYTES 10

static int corrupt(kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "corrupt row value");
}

static int put_uvarint(sql_keybuf *b, uint64_t v, sql_error *err)
{
    uint8_t tmp[UVARINT_MAX_BYTES];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v != 0);
    return sql_keybuf_append(b, tmp, n, err);
}

/* Reads a uvarint at *p; false when truncated or longer than 64 bits. */
static bool get_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t c = *(*p)++;
        *v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return true;
    }
    return false;
}

int sql_value_encode(sql_keybuf *b, const sql_value_col *cols, const sql_datum *vals, size_t n,
                     sql_error *err)
{
    uint32_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        assert(cols[i].col_id > 0 && (i == 0 || cols[i].col_id > cols[i - 1].col_id));
        if (vals[i].isnull)
            continue;
        const uint8_t *payload;
        size_t len;
        if (sql_datum_send(cols[i].type, &vals[i], b->arena, &payload, &len, err) != 0 ||
            put_uvarint(b, cols[i].col_id - prev, err) != 0 || put_uvarint(b, len, err) != 0 ||
            sql_keybuf_append(b, payload, len, err) != 0)
            return -1;
        prev = cols[i].col_id;
    }
    return 0;
}

int sql_value_decode(const uint8_t *p, size_t len, const sql_value_col *cols, size_t n,
                     kv_arena *arena, sql_datum *out, sql_error *err)
{
    const uint8_t *end = p + len;
    uint64_t id = 0;
    size_t i = 0;
    for (size_t k = 0; k < n; k++)
        out[k] = (sql_datum){.isnull = true};
    while (p < end && i < n) {
        uint64_t delta, plen;
        if (!get_uvarint(&p, end, &delta) || !get_uvarint(&p, end, &plen) || delta == 0 ||
            plen > (uint64_t)(end - p) || (id += delta) > UINT32_MAX)
            return corrupt(arena, err);
        while (i < n && cols[i].col_id < id)
            i++; /* asked for but absent: stays NULL */
        /* the payload was written by sql_datum_send: failing to read it back
         * is corruption, whatever recv calls it (unless memory ran out) */
        if (i < n && cols[i].col_id == id &&
            sql_datum_recv(cols[i].type, p, (size_t)plen, arena, &out[i], err) != 0)
            return err->state == SQL_STATE_OUT_OF_MEMORY ? -1 : corrupt(arena, err);
        p += plen;
    }
    return 0;
}
