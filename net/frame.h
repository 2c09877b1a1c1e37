/*
 * frame.h - the socket-free codec of the inter-node transport: frames,
 * lz4 payload compression and the handshake (docs/transport.md, "Frames").
 *
 * A frame on the wire:
 *
 *   offset | size  | field
 *   -------+-------+-----------------------------------------------------
 *        0 |     4 | length L of what follows, big-endian, 1 <= L
 *        4 |     1 | bits 0-6: type (0 = handshake, 1..127 the caller's),
 *          |       | bit 7: NET_FRAME_LZ4 (payload is compressed)
 *        5 | L - 1 | payload
 *
 * A compressed payload:
 *
 *   offset | size  | field
 *   -------+-------+-----------------------------------------------------
 *        0 |     4 | uncompressed length, big-endian (<= the receiver's
 *          |       | max_payload: the guard against decompression bombs)
 *        4 |   ... | one LZ4 block (LZ4_compress_default)
 *
 * The handshake payload (type 0, never compressed, exactly 30 bytes):
 *
 *   offset | size  | field
 *   -------+-------+-----------------------------------------------------
 *        0 |     4 | magic "TDGT" (0x54 0x44 0x47 0x54)
 *        4 |     2 | protocol version, big-endian (NET_FRAME_VERSION)
 *        6 |    16 | cluster id (all zero: the sender does not know it yet)
 *       22 |     8 | sender's node id, big-endian, never 0
 *
 * Nothing here allocates except into a caller-owned net_frame_buf.
 */
#ifndef NET_FRAME_H
#define NET_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net_error.h"

#define NET_FRAME_HEADER        5 /* length word + type byte */
#define NET_FRAME_LZ4           0x80
#define NET_FRAME_TYPE_MASK     0x7f
#define NET_FRAME_HELLO         0 /* the handshake's type */
#define NET_FRAME_HELLO_PAYLOAD 30
#define NET_FRAME_HELLO_SIZE    (NET_FRAME_HEADER + NET_FRAME_HELLO_PAYLOAD)
#define NET_FRAME_VERSION       1
/* The largest max_payload a caller may configure: frame sizes then fit an
 * int return value and LZ4's int sizes. */
#define NET_FRAME_PAYLOAD_LIMIT (1u << 30)

/* A growable byte buffer. The owner frees it with net_frame_buf_free();
 * a zeroed struct is an empty buffer. */
typedef struct net_frame_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} net_frame_buf;

/* Makes room for `extra` more bytes after `len`. NET_ENOMEM leaves the
 * buffer as it was. */
int net_frame_buf_reserve(net_frame_buf *b, size_t extra);
void net_frame_buf_free(net_frame_buf *b);

/* Appends one frame of `type` (1..127) carrying `payload[0, len)`; the
 * payload is copied. A payload of at least `compress_min` bytes is
 * lz4-compressed when that makes it smaller. Returns 1 when the frame was
 * compressed, 0 when not; NET_EINVAL (type 0 or above 127, payload of
 * NET_FRAME_PAYLOAD_LIMIT or more), NET_ENOMEM (buffer unchanged). */
int net_frame_append(net_frame_buf *b, uint8_t type, const void *payload, size_t len,
                     size_t compress_min);

/* The handshake carried by a type-0 frame. */
typedef struct net_frame_hello {
    uint8_t cluster_id[16];
    uint64_t node_id;
} net_frame_hello;

/* Writes the whole handshake frame (NET_FRAME_HELLO_SIZE bytes). */
void net_frame_put_hello(uint8_t out[NET_FRAME_HELLO_SIZE], const net_frame_hello *h);

/* One parsed frame; `payload` points into the parser's input and is
 * valid as long as that input is. */
typedef struct net_frame {
    uint8_t type; /* without the NET_FRAME_LZ4 bit */
    bool lz4;
    const uint8_t *payload;
    size_t len; /* on-wire payload length */
} net_frame;

/* Parses the frame at the start of `p[0, avail)`. Returns the frame's
 * total size (> 0) when it is complete; 0 when more input is needed, with
 * *need set to the total size once the length word is known (else to
 * NET_FRAME_HEADER); NET_EPROTO when the length word is 0 or exceeds what
 * a payload of `max_payload` bytes can take on the wire. */
int net_frame_parse(const uint8_t *p, size_t avail, size_t max_payload, net_frame *out,
                    size_t *need);

/* The payload of `f` as the sender passed it: `f`'s own bytes when it is
 * not compressed, else decompressed into `scratch` (grown as needed).
 * *out is valid until `scratch` or `f`'s input changes. NET_EPROTO when
 * the compressed form is malformed or would exceed `max_payload`;
 * NET_ENOMEM. */
int net_frame_inflate(const net_frame *f, size_t max_payload, net_frame_buf *scratch,
                      const uint8_t **out, size_t *outlen);

/* Decodes a handshake frame. NET_EPROTO unless it is an uncompressed
 * type-0 frame of exactly 30 bytes with our magic and version and a
 * nonzero node id. */
int net_frame_get_hello(const net_frame *f, net_frame_hello *out);

#endif /* NET_FRAME_H */
