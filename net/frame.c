/*
 * frame.c - frame codec, lz4 payloads and the handshake (net/frame.h).
 *
 * A payload is sent compressed only when the compressed form (with its
 * 4-byte length prefix) is strictly smaller, so no frame is ever longer
 * on the wire than its payload plus the header: the parser can reject
 * any length word above max_payload + 1 before reading the body.
 */
#include <lz4.h>
#include <stdlib.h>
#include <string.h>

#include "net/frame.h"
#include "net/net_int.h"

static const uint8_t hello_magic[4] = {'T', 'D', 'G', 'T'};

int net_frame_buf_reserve(net_frame_buf *b, size_t extra)
{
    if (b->cap - b->len >= extra)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (d == NULL)
        return NET_ENOMEM;
    b->data = d;
    b->cap = cap;
    return 0;
}

void net_frame_buf_free(net_frame_buf *b)
{
    free(b->data);
    *b = (net_frame_buf){0};
}

/* Compresses `payload` right after a frame header at `frame`; returns the
 * compressed payload's size (prefix included), or 0 when it would not be
 * smaller than the original. `frame` has room for `bound` bytes after the
 * header and the prefix. */
static size_t compress_into(uint8_t *frame, const void *payload, size_t len, int bound)
{
    uint8_t *dst = frame + NET_FRAME_HEADER + 4;
    int n = LZ4_compress_default(payload, (char *)dst, (int)len, bound);
    if (n <= 0 || (size_t)n + 4 >= len)
        return 0;
    net__put_be32(frame + NET_FRAME_HEADER, (uint32_t)len);
    return (size_t)n + 4;
}

int net_frame_append(net_frame_buf *b, uint8_t type, const void *payload, size_t len,
                     size_t compress_min)
{
    if (type == NET_FRAME_HELLO || type > NET_FRAME_TYPE_MASK || len >= NET_FRAME_PAYLOAD_LIMIT)
        return NET_EINVAL;
    /* The bound is never below len: room for either outcome. */
    int bound = len >= compress_min ? LZ4_compressBound((int)len) : 0;
    size_t room = bound > 0 ? NET_FRAME_HEADER + 4 + (size_t)bound : NET_FRAME_HEADER + len;
    if (net_frame_buf_reserve(b, room) < 0)
        return NET_ENOMEM;
    uint8_t *frame = b->data + b->len;
    size_t wire = bound > 0 ? compress_into(frame, payload, len, bound) : 0;
    bool lz4 = wire > 0;
    if (!lz4) {
        memcpy(frame + NET_FRAME_HEADER, payload, len);
        wire = len;
    }
    net__put_be32(frame, (uint32_t)(wire + 1));
    frame[4] = (uint8_t)(type | (lz4 ? NET_FRAME_LZ4 : 0));
    b->len += NET_FRAME_HEADER + wire;
    return lz4 ? 1 : 0;
}

void net_frame_put_hello(uint8_t out[NET_FRAME_HELLO_SIZE], const net_frame_hello *h)
{
    net__put_be32(out, NET_FRAME_HELLO_PAYLOAD + 1);
    out[4] = NET_FRAME_HELLO;
    uint8_t *p = out + NET_FRAME_HEADER;
    memcpy(p, hello_magic, 4);
    p[4] = (uint8_t)(NET_FRAME_VERSION >> 8);
    p[5] = (uint8_t)NET_FRAME_VERSION;
    memcpy(p + 6, h->cluster_id, 16);
    net__put_be64(p + 22, h->node_id);
}

int net_frame_parse(const uint8_t *p, size_t avail, size_t max_payload, net_frame *out,
                    size_t *need)
{
    *need = NET_FRAME_HEADER;
    if (avail < 4)
        return 0;
    uint32_t l = net__get_be32(p);
    if (l == 0 || l - 1 > max_payload)
        return NET_EPROTO;
    size_t total = 4 + (size_t)l;
    *need = total;
    if (avail < total)
        return 0;
    out->type = p[4] & NET_FRAME_TYPE_MASK;
    out->lz4 = (p[4] & NET_FRAME_LZ4) != 0;
    out->payload = p + NET_FRAME_HEADER;
    out->len = l - 1;
    return (int)total;
}

int net_frame_inflate(const net_frame *f, size_t max_payload, net_frame_buf *scratch,
                      const uint8_t **out, size_t *outlen)
{
    if (!f->lz4) {
        *out = f->payload;
        *outlen = f->len;
        return 0;
    }
    if (f->len < 4)
        return NET_EPROTO;
    uint32_t orig = net__get_be32(f->payload);
    if (orig > max_payload)
        return NET_EPROTO;
    scratch->len = 0;
    if (net_frame_buf_reserve(scratch, orig) < 0)
        return NET_ENOMEM;
    int n = LZ4_decompress_safe((const char *)f->payload + 4, (char *)scratch->data,
                                (int)(f->len - 4), (int)orig);
    if (n < 0 || (uint32_t)n != orig)
        return NET_EPROTO;
    *out = scratch->data;
    *outlen = orig;
    return 0;
}

int net_frame_get_hello(const net_frame *f, net_frame_hello *out)
{
    const uint8_t *p = f->payload;
    if (f->type != NET_FRAME_HELLO || f->lz4 || f->len != NET_FRAME_HELLO_PAYLOAD ||
        memcmp(p, hello_magic, 4) != 0 || (p[4] << 8 | p[5]) != NET_FRAME_VERSION)
        return NET_EPROTO;
    memcpy(out->cluster_id, p + 6, 16);
    out->node_id = net__get_be64(p + 22);
    return out->node_id == 0 ? NET_EPROTO : 0;
}
