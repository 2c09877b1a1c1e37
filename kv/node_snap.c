/*
 * node_snap.c - Raft snapshots as streams of chunks (kv/snapshot.h makes
 * and applies the chunks; this file moves them and tells Raft).
 *
 * When the leader's Raft wants to send a snapshot to a follower (new, or
 * behind the truncated log), the leader opens a kv_snap_sender at once on
 * the loop (a RocksDB snapshot: nothing applies meanwhile, so data and
 * applied state agree), then makes one chunk at a time on a worker and
 * sends it; the follower applies each chunk on a worker and acknowledges
 * it; the next chunk goes only after that acknowledgement, so each side
 * holds one chunk in memory whatever the range's size. After the last
 * chunk the follower steps a RAFT_MSG_SNAP with the metadata that came
 * with the data, persists it (the log restarts after the snapshot index)
 * and acknowledges; the leader then reports success to Raft. A stream
 * without progress for STALL_TICKS is abandoned and reported failed;
 * Raft asks again.
 *
 *   KV_NODE_MSG_SNAP                    KV_NODE_MSG_SNAP_ACK
 *   offset size field                   offset size field
 *   0      8    range id                0      8    range id
 *   8      8    stream id               8      8    stream id
 *   16     4    chunk sequence          16     4    chunk sequence
 *   20     1    1: last chunk           20     1    0 ok, 1 refused/failed
 *   21     8    leader's term
 *   29     n    chunk (kv/snapshot.h); the first chunk is preceded by the
 *                 range descriptor: length 4, encoding (docs/kv.md)
 *
 * A follower refuses a stream while it has a ready outstanding, or when
 * its log has committed at least as far as the leader's applied index.
 * While it receives, it ignores other Raft messages of the range, so no
 * entry applies into data being replaced.
 */
#include <stdlib.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/local_keys.h"
#include "kv/node_int.h"
#include "kv/snapshot.h"

#define SNAP_HDR    29
#define ACK_LEN     21
#define STALL_TICKS 100
#define CHUNK_BYTES (1u << 20)

struct kv__snap_out {
    struct kv__snap_out *next;
    uint64_t to, stream, term;
    uint32_t seq; /* of the chunk being made or awaiting its ack */
    bool busy;    /* a worker makes the next chunk */
    bool sent_last;
    uint64_t progress_tick;
    kv_snap_sender *sender;
    kv_buf desc; /* encoded, sent before the first chunk */
};

struct kv__snap_in {
    uint64_t from, stream, term;
    uint32_t next_seq;
    bool busy; /* a worker applies a chunk */
    uint64_t progress_tick;
    kv_snap_receiver *recv;
    kv_applied_state as; /* from the data, after the last chunk */
    bool installing;     /* stepped into Raft, waiting for persistence */
};

enum job_kind { JOB_MAKE, JOB_APPLY, JOB_FINISH };

struct kv__snap_done {
    struct kv__snap_done *next;
    kv_node *n;
    kv__rraft *rr;
    enum job_kind kind;
    uint64_t peer, stream;
    uint32_t seq;
    bool last;
    kv_buf chunk;
    kv_snap_sender *sender; /* JOB_MAKE */
    kv_snap_receiver *recv; /* JOB_APPLY, JOB_FINISH */
    kv_applied_state as;
    int rc;
};

/* ---- worker side --------------------------------------------------------------- */

static void run_job(void *data)
{
    struct kv__snap_done *j = data;
    char err[256];
    if (j->kind == JOB_MAKE)
        j->rc = kv_snap_sender_next(j->sender, &j->chunk, &j->last, err, sizeof(err));
    else
        j->rc = kv_snap_receiver_add(j->recv, j->chunk.data, j->chunk.len, err, sizeof(err));
    if (j->rc == 0 && j->kind == JOB_FINISH)
        j->rc = kv_snap_receiver_finish(j->recv, &j->as, err, sizeof(err));
    kv_node *n = j->n;
    pthread_mutex_lock(&n->mu);
    j->next = n->snap_done;
    n->snap_done = j;
    pthread_mutex_unlock(&n->mu);
    n->o.hooks.wake(n->o.hooks.arg);
}

static void job_free(struct kv__snap_done *j)
{
    kv_buf_free(&j->chunk);
    free(j);
}

static int spawn(kv_node *n, struct kv__snap_done *j)
{
    j->n = n;
    if (n->o.hooks.spawn(n->o.hooks.arg, run_job, j) == 0)
        return 0;
    job_free(j);
    return -1;
}

/* ---- leader side ------------------------------------------------------------------- */

static void out_end(kv_node *n, kv__rraft *rr, struct kv__snap_out *o, bool ok)
{
    for (struct kv__snap_out **pp = &rr->snap_out; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == o) {
            *pp = o->next;
            break;
        }
    }
    kv__raft_report_snapshot(n, rr, o->to, ok);
    kv_snap_sender_close(o->sender);
    kv_buf_free(&o->desc);
    free(o);
}

static void make_chunk(kv_node *n, kv__rraft *rr, struct kv__snap_out *o)
{
    struct kv__snap_done *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return; /* the stall timer ends the stream */
    *j = (struct kv__snap_done){
        .rr = rr, .kind = JOB_MAKE, .peer = o->to, .stream = o->stream, .sender = o->sender};
    if (spawn(n, j) == 0)
        o->busy = true;
}

void kv__snap_send(kv_node *n, kv__rraft *rr, const raft_msg_t *m)
{
    for (struct kv__snap_out *o = rr->snap_out; o != NULL; o = o->next) {
        if (o->to == m->to)
            return; /* one stream per follower */
    }
    struct kv__snap_out *o = calloc(1, sizeof(*o));
    if (o == NULL)
        return;
    kv_range_desc d;
    kv_arena *a;
    char err[256];
    kv_applied_state as;
    if (kv_arena_create(&a) != 0)
        goto out_free;
    if (kv__replica_desc(rr->r, a, &d) != 0 || kv__desc_encode(&d, &o->desc) != 0 ||
        kv_snap_sender_open(n->s->engine, &d, CHUNK_BYTES, &o->sender, &as, err, sizeof(err)) != 0)
        goto out_destroy;
    kv_arena_destroy(a);
    o->to = m->to;
    o->term = m->term;
    o->stream = (n->o.incarnation << 20) ^ ++n->next_prop_id;
    o->progress_tick = n->ticks;
    o->next = rr->snap_out;
    rr->snap_out = o;
    make_chunk(n, rr, o);
    return;

out_destroy:
    kv_arena_destroy(a);
out_free:
    kv_buf_free(&o->desc);
    free(o);
    kv__raft_report_snapshot(n, rr, m->to, false);
}

static void send_chunk(kv_node *n, kv__rraft *rr, struct kv__snap_out *o, struct kv__snap_done *j)
{
    o->busy = false;
    if (j->rc != 0) {
        out_end(n, rr, o, false);
        return;
    }
    size_t dlen = o->seq == 0 ? 4 + o->desc.len : 0;
    size_t len = SNAP_HDR + dlen + j->chunk.len;
    uint8_t *p = malloc(len);
    if (p == NULL)
        return;
    kv__put_be64(p, rr->range_id);
    kv__put_be64(p + 8, o->stream);
    kv__put_be32(p + 16, o->seq);
    p[20] = j->last;
    kv__put_be64(p + 21, o->term);
    if (dlen > 0) {
        kv__put_be32(p + SNAP_HDR, (uint32_t)o->desc.len);
        memcpy(p + SNAP_HDR + 4, o->desc.data, o->desc.len);
    }
    memcpy(p + SNAP_HDR + dlen, j->chunk.data, j->chunk.len);
    n->o.hooks.send(n->o.hooks.arg, o->to, KV_NODE_MSG_SNAP, p, len);
    free(p);
    o->sent_last = j->last;
    o->progress_tick = n->ticks;
}

void kv__snap_ack(kv_node *n, uint64_t from, const uint8_t *p, size_t len)
{
    if (len != ACK_LEN)
        return;
    kv__rraft *rr = kv__node_raft(n, kv__get_be64(p));
    if (rr == NULL)
        return;
    for (struct kv__snap_out *o = rr->snap_out; o != NULL; o = o->next) {
        if (o->to != from || o->stream != kv__get_be64(p + 8) || o->seq != kv__get_be32(p + 16))
            continue;
        if (p[20] != 0 || o->sent_last) {
            out_end(n, rr, o, p[20] == 0);
            return;
        }
        o->seq++;
        o->progress_tick = n->ticks;
        make_chunk(n, rr, o);
        return;
    }
}

/* ---- follower side ------------------------------------------------------------------ */

static void send_ack(kv_node *n, uint64_t to, uint64_t range_id, uint64_t stream, uint32_t seq,
                     bool ok)
{
    uint8_t p[ACK_LEN];
    kv__put_be64(p, range_id);
    kv__put_be64(p + 8, stream);
    kv__put_be32(p + 16, seq);
    p[20] = ok ? 0 : 1;
    n->o.hooks.send(n->o.hooks.arg, to, KV_NODE_MSG_SNAP_ACK, p, sizeof(p));
}

static void in_end(kv__rraft *rr)
{
    if (rr->snap_in == NULL)
        return;
    kv_snap_receiver_close(rr->snap_in->recv);
    free(rr->snap_in);
    rr->snap_in = NULL;
}

/* Opens the receiver for a first chunk (the descriptor at *p, which is
 * moved past it); false: refuse the stream. */
static bool in_begin(kv_node *n, kv__rraft *rr, uint64_t from, uint64_t stream, uint64_t term,
                     const uint8_t **p, size_t *len)
{
    if (rr->rd_out || rr->persisting || (rr->snap_in != NULL && rr->snap_in->busy) || *len < 4)
        return false;
    size_t dlen = kv__get_be32(*p);
    kv_arena *a;
    kv_range_desc d;
    if (*len - 4 < dlen || kv_arena_create(&a) != 0)
        return false;
    bool ok = kv__desc_decode(*p + 4, dlen, a, &d) == 0 && d.range_id == rr->range_id;
    *p += 4 + dlen;
    *len -= 4 + dlen;
    in_end(rr);
    struct kv__snap_in *in = ok ? calloc(1, sizeof(*in)) : NULL;
    char err[256];
    if (in != NULL && kv_snap_receiver_open(n->s->engine, &d, &in->recv, err, sizeof(err)) != 0) {
        free(in);
        in = NULL;
    }
    kv_arena_destroy(a);
    if (in == NULL)
        return false;
    *in = (struct kv__snap_in){.from = from, .stream = stream, .term = term, .recv = in->recv};
    rr->snap_in = in;
    return true;
}

void kv__snap_recv(kv_node *n, uint64_t from, const uint8_t *p, size_t len)
{
    if (len < SNAP_HDR)
        return;
    uint64_t range_id = kv__get_be64(p), stream = kv__get_be64(p + 8);
    uint32_t seq = kv__get_be32(p + 16);
    kv__rraft *rr = kv__node_raft(n, range_id);
    if (rr == NULL)
        return; /* a Raft message creates the replica first */
    bool last = p[20] != 0;
    uint64_t term = kv__get_be64(p + 21);
    p += SNAP_HDR;
    len -= SNAP_HDR;
    if (seq == 0 && !in_begin(n, rr, from, stream, term, &p, &len)) {
        send_ack(n, from, range_id, stream, seq, false);
        return;
    }
    struct kv__snap_in *in = rr->snap_in;
    if (in == NULL || in->stream != stream || in->next_seq != seq || in->busy)
        return;
    struct kv__snap_done *j = calloc(1, sizeof(*j));
    if (j == NULL || kv_buf_set(&j->chunk, p, len) != 0) {
        free(j);
        return;
    }
    j->rr = rr;
    j->kind = last ? JOB_FINISH : JOB_APPLY;
    j->peer = from;
    j->stream = stream;
    j->seq = seq;
    j->recv = in->recv;
    if (spawn(n, j) == 0)
        in->busy = true;
}

/* The last chunk is in: hand the snapshot's metadata to Raft. */
static void in_install(kv_node *n, kv__rraft *rr, struct kv__snap_in *in)
{
    raft_snapshot_t snap = {.index = in->as.index, .term = in->as.term, .conf = in->as.conf};
    raft_msg_t m = {.type = RAFT_MSG_SNAP,
                    .from = in->from,
                    .to = n->o.node_id,
                    .term = in->term,
                    .snapshot = &snap};
    in->installing = true;
    kv__raft_step(n, rr, &m);
}

static void in_done(kv_node *n, kv__rraft *rr, struct kv__snap_done *j)
{
    struct kv__snap_in *in = rr->snap_in;
    if (in == NULL || in->stream != j->stream)
        return;
    in->busy = false;
    in->progress_tick = n->ticks;
    if (j->rc != 0) {
        send_ack(n, j->peer, rr->range_id, j->stream, j->seq, false);
        in_end(rr);
        return;
    }
    in->next_seq++;
    if (j->kind == JOB_APPLY) {
        send_ack(n, j->peer, rr->range_id, j->stream, j->seq, true);
        return;
    }
    in->as = j->as;
    in_install(n, rr, in);
}

/* After the snapshot's Raft state is durable: the replica serves the new
 * data (on_durable in node.c calls this before finishing the ready). */
void kv__snap_installed(kv__rraft *rr)
{
    kv_node *n = rr->r->store->node;
    struct kv__snap_in *in = rr->snap_in;
    kv_raft_storage_set_applied(rr->st, &in->as);
    rr->as = in->as;
    rr->next_lease_index = rr->as.lease_index;
    if (kv__store_adopt(n->s, rr->r) == 0)
        rr->initialized = true;
    send_ack(n, in->from, rr->range_id, in->stream, in->next_seq - 1, rr->initialized);
    kv__rraft_publish(rr);
    in_end(rr);
}

bool kv__snap_receiving(const kv__rraft *rr)
{
    return rr->snap_in != NULL && !rr->snap_in->installing;
}

/* ---- both ------------------------------------------------------------------------------ */

void kv__snap_process_done(kv_node *n)
{
    pthread_mutex_lock(&n->mu);
    struct kv__snap_done *j = n->snap_done;
    n->snap_done = NULL;
    pthread_mutex_unlock(&n->mu);
    while (j != NULL) {
        struct kv__snap_done *next = j->next;
        if (j->kind == JOB_MAKE) {
            for (struct kv__snap_out *o = j->rr->snap_out; o != NULL; o = o->next) {
                if (o->stream == j->stream)
                    send_chunk(n, j->rr, o, j);
            }
        } else {
            in_done(n, j->rr, j);
        }
        job_free(j);
        j = next;
    }
}

void kv__snap_drop_done(kv_node *n)
{
    while (n->snap_done != NULL) {
        struct kv__snap_done *j = n->snap_done;
        n->snap_done = j->next;
        job_free(j);
    }
}

void kv__snap_tick(kv_node *n, kv__rraft *rr)
{
    for (struct kv__snap_out *o = rr->snap_out, *next; o != NULL; o = next) {
        next = o->next;
        if (!o->busy && n->ticks - o->progress_tick > STALL_TICKS)
            out_end(n, rr, o, false);
    }
    struct kv__snap_in *in = rr->snap_in;
    if (in != NULL && !in->busy && !in->installing && n->ticks - in->progress_tick > STALL_TICKS)
        in_end(rr);
}

void kv__snap_free(kv__rraft *rr)
{
    while (rr->snap_out != NULL) {
        struct kv__snap_out *o = rr->snap_out;
        rr->snap_out = o->next;
        kv_snap_sender_close(o->sender);
        kv_buf_free(&o->desc);
        free(o);
    }
    in_end(rr);
}
