/*
 * kv_codec.h - the wire encoding of KV batches (kv_request) and their
 * responses (kv_response), so that a node can forward a batch to the
 * leaseholder of a range over net/transport and return its answer. Byte
 * tables: docs/kv.md, "Wire format of batches".
 *
 * Contract:
 *  - Round trip is exact: decode(encode(x)) holds the same values as x in
 *    every field the API defines, including which byte strings are NULL and
 *    which are present but empty (a NULL end key is a single key, a NULL
 *    resume key is "scan complete", an empty start key is the first range).
 *  - Decoders trust nothing: every read is bounds-checked, counts are
 *    checked against the bytes left before anything is allocated (so memory
 *    stays proportional to the input), enums, booleans and flag bits are
 *    range-checked, and trailing bytes are refused. Anything malformed is
 *    KV_ECORRUPT, never a crash or an over-read.
 *  - A decoded request goes through kv_request_add / kv_request_set_txn, so
 *    it satisfies the same validation as a locally built one (a span whose
 *    end is not above its key is KV_ECORRUPT on decode).
 *  - Error codes travel as their index in kv_error.h's table, which only
 *    ever grows at the end; nodes of one cluster run one build for now, and
 *    the version byte changes if the table is ever reordered.
 *
 * Functions are pure (no globals) and may run on any thread.
 */
#ifndef KV_KV_CODEC_H
#define KV_KV_CODEC_H

#include <stddef.h>

#include "kv/kv.h"

/* Encodes `req` (borrowed for the call) into `out`, replacing its contents;
 * the caller owns `out` (kv_buf_free). KV_ENOMEM; KV_EINVAL if a byte string
 * is 2^32 - 1 bytes or longer or a count exceeds 2^32 - 1 (the format's
 * limits, far beyond any frame the transport accepts). On error `out` holds
 * no valid encoding. */
int kv_request_encode(const kv_request *req, kv_buf *out);

/* Decodes [p, p+n) into `req`, which the caller initialised with
 * kv_request_init (fresh, n == 0, no txn); every byte string is copied into
 * req's arena, so `p` is borrowed only for the call. KV_ECORRUPT for
 * anything malformed (truncated, trailing bytes, unknown version, method or
 * enum value, lengths beyond the input, a count that cannot fit, a span
 * kv_request_add refuses), KV_ENOMEM. On error the request may hold partial
 * contents; the caller frees it with kv_request_free as usual. */
int kv_request_decode(const void *p, size_t n, kv_request *req);

/* Encodes `resp` (borrowed for the call) into `out`, replacing its
 * contents. Errors as kv_request_encode. */
int kv_response_encode(const kv_response *resp, kv_buf *out);

/* Decodes [p, p+n) into `resp`, which the caller initialised with
 * kv_response_init (fresh). The input is copied once into resp's arena and
 * every decoded byte string points into that copy, so `p` is borrowed only
 * for the call and the pointers live until kv_response_free. Errors as
 * kv_request_decode; on error the caller frees the response as usual. */
int kv_response_decode(const void *p, size_t n, kv_response *resp);

#endif /* KV_KV_CODEC_H */
