/*
 * hlc.h - hybrid logical clock.
 *
 * Timestamps (kv_ts, kv/mvcc.h) combine the physical clock's nanoseconds
 * with a logical counter that orders events within one wall value. now()
 * never returns the same or a smaller timestamp twice; update() merges a
 * timestamp carried by a received message so causally later events get
 * larger timestamps across nodes. A remote timestamp more than the maximum
 * clock offset (default 500 ms) ahead of the local physical clock is
 * rejected: accepting it would drag this node's clock forward and shrink
 * every reader's uncertainty guarantees.
 *
 * The physical clock is injected so tests control time. All functions are
 * thread-safe (one mutex; the node loop and SQL workers share a clock).
 */
#ifndef KV_HLC_H
#define KV_HLC_H

#include <stdint.h>

#include "kv/mvcc.h"

typedef struct kv_hlc kv_hlc;

/* Returns the physical time in nanoseconds; must be callable from any
 * thread. `arg` is the pointer given to kv_hlc_create. */
typedef int64_t (*kv_hlc_clock_fn)(void *arg);

#define KV_HLC_DEFAULT_MAX_OFFSET_NS INT64_C(500000000)

/* CLOCK_REALTIME in nanoseconds; the clock production code passes. */
int64_t kv_hlc_wall_clock(void *arg);

/* Creates a clock reading `clock(arg)`; max_offset_ns 0 means the default,
 * negative is KV_EINVAL. On success *out is owned by the caller and freed
 * with kv_hlc_destroy; `arg` is borrowed for the clock's lifetime. */
int kv_hlc_create(kv_hlc_clock_fn clock, void *arg, int64_t max_offset_ns, kv_hlc **out);
void kv_hlc_destroy(kv_hlc *c);

/* A timestamp greater than every one this clock returned before. */
kv_ts kv_hlc_now(kv_hlc *c);

/* Merges `remote` (from a received message): on success the clock is past
 * `remote` and *out (may be NULL) gets a fresh timestamp greater than both
 * `remote` and everything returned before. KV_ECLOCKOFFSET, leaving the
 * clock unchanged, if remote.wall is more than the maximum offset ahead of
 * the physical clock. */
int kv_hlc_update(kv_hlc *c, kv_ts remote, kv_ts *out);

int64_t kv_hlc_max_offset(const kv_hlc *c);

#endif /* KV_HLC_H */
