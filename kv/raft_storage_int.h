/*
 * raft_storage_int.h - what the storage thread (raft_writer.c) and the
 * snapshot streams (snapshot.c) need of raft_storage.c; not for other
 * libraries.
 *
 * Staging happens on the writer thread only and tracks the log bounds as they
 * will be once the round is durable ("staged" bounds), so that several
 * requests of one range in one round stage correctly; the in-memory durable
 * state changes only through kv__raft_storage_persisted() after the write.
 */
#ifndef KV_RAFT_STORAGE_INT_H
#define KV_RAFT_STORAGE_INT_H

#include <stddef.h>

#include "kv/engine.h"
#include "kv/raft_storage.h"
#include "kv/raft_writer.h"

/* Decodes an applied state value ('a', byte table in docs/kv.md) into *as.
 * KV_ECORRUPT unless p is exactly one well-formed encoding. */
int kv__raft_applied_decode(const uint8_t *p, size_t len, kv_applied_state *as);

/* Checks a request before it is queued (any thread): KV_EINVAL if malformed. */
int kv__raft_storage_check(kv_raft_storage *s, const kv_raft_persist_req *req);

/* Writer thread: adds req's writes to `b` and moves the staged bounds. On
 * failure (KV_ENOMEM, KV_EBADCF) `b` may hold part of them; the round fails. */
int kv__raft_storage_stage(kv_raft_storage *s, kv_batch *b, const kv_raft_persist_req *req);

/* Writer thread, after the round's write is durable: applies req to the
 * in-memory state (bounds, hard state, cache). */
void kv__raft_storage_persisted(kv_raft_storage *s, const kv_raft_persist_req *req);

/* Writer thread, after a failed round: forgets the staged bounds. */
void kv__raft_storage_unstage(kv_raft_storage *s);

#endif /* KV_RAFT_STORAGE_INT_H */
