/*
 * pgwire_read.c - the incremental frame reader (net_pg_reader).
 *
 * Bytes are appended to one buffer; [start, end) is what has not been
 * handed out yet. A frame is returned only once all of it is buffered, and
 * its length word is checked against the limit as soon as the header has
 * arrived, so a hostile length never makes us buffer more than the limit.
 * Buffer space before `start` is reclaimed on the next feed, which is why
 * frames stay valid only until then.
 */
#include <stdlib.h>
#include <string.h>

#include "net/pgwire.h"

#define READER_KEEP (64 * 1024) /* buffer bytes an idle reader may keep */

struct net_pg_reader {
    uint8_t *buf;
    size_t start, end, cap;
    size_t max_message;
    int typed;  /* past the startup phase: frames carry a type byte */
    int failed; /* framing lost: every later call fails */
};

int net_pg_reader_create(size_t max_message, net_pg_reader **out)
{
    net_pg_reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NET_ENOMEM;
    r->max_message = max_message ? max_message : NET_PG_MAX_MESSAGE;
    *out = r;
    return 0;
}

void net_pg_reader_destroy(net_pg_reader *r)
{
    if (r != NULL)
        free(r->buf);
    free(r);
}

void net_pg_reader_start_typed(net_pg_reader *r)
{
    r->typed = 1;
}

int net_pg_reader_feed(net_pg_reader *r, const void *data, size_t len)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    /* An idle connection should not keep the buffer of its largest message. */
    if (r->end == 0 && r->cap > READER_KEEP) {
        free(r->buf);
        r->buf = NULL;
        r->cap = 0;
    }
    if (r->end + len > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->end + len)
            cap *= 2;
        uint8_t *buf = realloc(r->buf, cap);
        if (buf == NULL)
            return NET_ENOMEM;
        r->buf = buf;
        r->cap = cap;
    }
    if (len > 0)
        memcpy(r->buf + r->end, data, len);
    r->end += len;
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Marks framing as lost and describes it as FATAL 08P01. */
static int lost_framing(net_pg_reader *r, sql_error *err, kv_arena *arena, const char *what)
{
    r->failed = 1;
    sql_error_set(err, arena, SQL_STATE_PROTOCOL_VIOLATION, "%s", what);
    err->severity = SQL_SEV_FATAL;
    return NET_EPROTO;
}

/* lost_framing() for an impossible length word, which the detail quotes. */
static int bad_length(net_pg_reader *r, sql_error *err, kv_arena *arena, const char *what,
                      uint32_t len, size_t limit)
{
    int rc = lost_framing(r, err, arena, what);
    sql_error_detail(err, arena, "length word %u, limit %zu", len, limit);
    return rc;
}

int net_pg_reader_next(net_pg_reader *r, net_pg_frame *f, sql_error *err, kv_arena *arena)
{
    if (r->failed)
        return lost_framing(r, err, arena, "message framing was lost earlier");
    size_t avail = r->end - r->start, hdr = r->typed ? 5 : 4;
    const uint8_t *p = r->buf + r->start;
    if (avail < hdr)
        return 0;
    uint32_t len = be32(p + hdr - 4);
    /* PostgreSQL's ProcessStartupPacket and pq_getmessage checks. */
    if (!r->typed && (len < 8 || len > NET_PG_MAX_STARTUP))
        return bad_length(r, err, arena, "invalid length of startup packet", len,
                          NET_PG_MAX_STARTUP);
    if (r->typed && (len < 4 || len - 4 > r->max_message))
        return bad_length(r, err, arena, "invalid message length", len, r->max_message + 4);
    size_t total = len + (r->typed ? 1 : 0);
    if (avail < total)
        return 0;
    *f = (net_pg_frame){
        .type = r->typed ? (char)p[0] : 0,
        .body = p + hdr,
        .len = total - hdr,
    };
    r->start += total;
    return 1;
}

char net_pg_reader_peek(const net_pg_reader *r)
{
    size_t avail = r->end - r->start;
    if (!r->typed || r->failed || avail < 5)
        return 0;
    uint32_t len = be32(r->buf + r->start + 1);
    return len >= 4 && avail >= (size_t)len + 1 ? (char)r->buf[r->start] : 0;
}
