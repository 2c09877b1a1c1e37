/*
 * snapshot.h - streaming one range's replicated data between stores, the
 * data half of a Raft snapshot.
 *
 * A replica that is new or too far behind the leader's truncated log gets
 * the range's data as a stream of chunks: the sender iterates a consistent
 * RocksDB snapshot over everything the range owns and cuts it into
 * lz4-compressed chunks of bounded raw size; the receiver validates each
 * chunk and applies it to its own engine. Both sides hold one chunk plus
 * one batch in memory, whatever the size of the range. Nothing here touches
 * a socket or Raft: the replica layer ships the chunks, acknowledges and
 * paces them, and hands the applied state to raft/ as snapshot metadata.
 *
 * A range [start, end) (end_len == 0: no upper bound) owns exactly:
 *
 *   KV_CF_MVCC   [enc(start), enc(end))      user data, every version and
 *                                            intent (enc = kv_mvcc_encode_key
 *                                            without timestamp)
 *   KV_CF_LOCAL  [0x03 esc(start), 0x03 esc(end))   transaction records
 *                                            anchored in the range
 *   KV_CF_LOCAL  descriptor 'd' and applied state 'a' of the range id
 *
 * The hard state 'h', the truncated state 'c' and the log 'l' are each
 * replica's own Raft state and never travel. The chunk format is the byte
 * table in docs/kv.md ("Snapshots").
 *
 * Crash safety on the receiver: opening deletes everything the range owns
 * plus its truncated state and log (the hard state stays, raft/ needs its
 * vote); chunks are written unsynced; the applied state that came with the
 * data is held back and written only by kv_snap_receiver_finish, synced,
 * together with the truncated state. RocksDB's WAL keeps writes in order, so
 * a crash at any point leaves either the old replica untouched or a replica
 * without applied state (uninitialized, to be filled by a new snapshot),
 * never an applied state over partial data.
 *
 * Threads: a sender or receiver belongs to one thread at a time; the engine
 * may be shared as usual.
 */
#ifndef KV_SNAPSHOT_H
#define KV_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "kv/engine.h"
#include "kv/kv.h"
#include "kv/raft_storage.h"

typedef struct kv_snap_sender kv_snap_sender;
typedef struct kv_snap_receiver kv_snap_receiver;

/* Opens a sender over range `desc` (copied; the caller's keys may go away
 * after the call) of `e` at a RocksDB snapshot taken now. The caller makes
 * sure nothing applies to the range while this runs (the node loop calls it
 * between applies), so the applied state read here matches the data.
 * *applied gets the range's applied state as stored. chunk_bytes: target
 * raw size of a chunk (0: 1 MiB); a chunk stops at the first record that
 * reaches it, so one record larger than the target makes a larger chunk.
 * On success *out is the caller's, freed with kv_snap_sender_close() before
 * `e` closes (it holds an engine snapshot). Errors: KV_ENOTFOUND (the range
 * has no applied state), KV_ECORRUPT (it does not decode), KV_EINVAL
 * (chunk_bytes above 1 GiB), KV_ENOMEM, engine errors; nothing is allocated
 * then. */
int kv_snap_sender_open(kv_engine *e, const kv_range_desc *desc, size_t chunk_bytes,
                        kv_snap_sender **out, kv_applied_state *applied, char *err, size_t errlen);

/* Fills `chunk` (caller-owned, replacing its contents) with the next chunk;
 * *last is set on the final one (a range with no data still yields one,
 * final, chunk). Errors: KV_EINVAL after the final chunk, KV_ENOMEM, engine
 * errors (the sender is then unusable: close it and start again). */
int kv_snap_sender_next(kv_snap_sender *s, kv_buf *chunk, bool *last, char *err, size_t errlen);

/* Frees the sender and its engine snapshot. NULL is a no-op. */
void kv_snap_sender_close(kv_snap_sender *s);

/* Starts receiving range `desc` (copied) into `e`: one unsynced write
 * deletes everything the range owns (the three spans above) and its
 * truncated state and log, keeping its hard state. Nothing else may write
 * the range's keys on this store until the receiver is closed (the replica
 * applies nothing meanwhile). On success *out is the
 * caller's, freed with kv_snap_receiver_close() before `e` closes. Errors:
 * KV_ENOMEM, engine errors (nothing allocated, nothing deleted). */
int kv_snap_receiver_open(kv_engine *e, const kv_range_desc *desc, kv_snap_receiver **out,
                          char *err, size_t errlen);

/* Applies one chunk (borrowed for the call). The chunk is validated
 * completely first: KV_ECORRUPT for a bad header, checksum or lz4 block, a
 * malformed record, a key outside the range's spans, an applied state that
 * does not decode, a chunk for another range or out of sequence (each must
 * carry the next sequence number, none may follow the final one). Then its
 * records are written in one unsynced batch, except the applied state, which
 * is kept for kv_snap_receiver_finish. A rejected chunk changes nothing: the
 * caller may offer the right chunk again or give up. Also KV_ENOMEM and
 * engine errors. */
int kv_snap_receiver_add(kv_snap_receiver *r, const void *chunk, size_t len, char *err,
                         size_t errlen);

/* After the final chunk: writes the applied state that came with the data
 * and the truncated state 'c' = (applied index, applied term) in one synced
 * batch, and returns that applied state in *applied (what raft/ needs as
 * snapshot metadata: index, term, membership). Errors: KV_EINVAL if the
 * final chunk has not arrived, KV_ECORRUPT if the stream carried no applied
 * state, engine errors. */
int kv_snap_receiver_finish(kv_snap_receiver *r, kv_applied_state *applied, char *err,
                            size_t errlen);

/* Frees the receiver; whatever it wrote stays (without applied state unless
 * finish succeeded). NULL is a no-op. */
void kv_snap_receiver_close(kv_snap_receiver *r);

#endif /* KV_SNAPSHOT_H */
