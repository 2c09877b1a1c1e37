/*
 * mvcc.c - MVCC reads, writes, intent resolution and garbage collection
 * (contract in mvcc.h, encodings in mvcc_codec.c).
 *
 * All operations walk the entries of one user key in encoded order:
 * [intent metadata] [provisional version] [committed versions, newest
 * first]. Invariant kept by the writes below: while an intent exists, its
 * provisional version is the key's newest version, because every other
 * writer fails with KV_EWRITEINTENT and commits never move a version below
 * the intent's timestamp.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/engine_int.h"
#include "kv/kv_int.h"
#include "kv/mvcc_int.h"

/* Versions to step over with next() before one seek is cheaper. */
#define MVCC_NEXTS_BEFORE_SEEK 4

/* The encoded form of one user key: escaped prefix plus room for a
 * timestamp, on the stack for ordinary keys so that hot paths do not
 * allocate. Not copyable (p may point into small). */
struct mkey {
    uint8_t *p;
    size_t plen;
    uint8_t small[512];
};

static int mkey_init(struct mkey *k, const void *key, size_t klen)
{
    /* Room for the prefix plus either a timestamp or, in mkey_iter, a
     * second copy of the prefix. */
    size_t need = 2 * KV__MVCC_ESCAPED_MAX(klen) + KV_MVCC_TS_LEN;
    k->p = need <= sizeof(k->small) ? k->small : malloc(need);
    if (k->p == NULL)
        return KV_ENOMEM;
    k->plen = kv__mvcc_escape(k->p, key, klen);
    return 0;
}

static void mkey_free(struct mkey *k)
{
    if (k->p != k->small)
        free(k->p);
}

/* The version key of k at ts, KV_MVCC_TS_LEN bytes longer than the prefix;
 * borrowed from k and overwritten by the next call. */
static const char *mkey_version(struct mkey *k, kv_ts ts)
{
    kv__mvcc_put_ts(k->p + k->plen, ts);
    return (const char *)k->p;
}

/* An iterator over exactly the entries of k, positioned at the first. Every
 * encoded key of k starts with the prefix, whose last byte is the
 * terminator 0x01, so the prefix ending in 0x02 instead is the smallest key
 * above all of them; kv_iter_open copies the bound, so k is restored. */
static int mkey_iter(kv_engine *e, const kv_snapshot *snap, struct mkey *k, kv_iter **it, char *err,
                     size_t errlen)
{
    k->p[k->plen - 1] = 0x02;
    uint8_t *upper = k->p + k->plen;
    memcpy(upper, k->p, k->plen);
    k->p[k->plen - 1] = 0x01;
    int rc = kv__iter_open_prefix(e, snap, k->p, k->plen, upper, k->plen, it, err, errlen);
    if (rc == 0)
        kv_iter_seek_ge(*it, k->p, k->plen);
    return rc;
}

static int mvcc_corrupt(char *err, size_t errlen, const char *what, const void *key, size_t klen)
{
    char hex[2 * 32 + 4];
    size_t n = klen < 32 ? klen : 32, o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%02x", ((const uint8_t *)key)[i]);
    snprintf(hex + o, sizeof(hex) - o, "%s", klen > n ? "..." : "");
    return kv__errf(err, errlen, KV_ECORRUPT, "corrupt MVCC data: %s at key %s", what, hex);
}

static bool txn_owns(const kv_txn_meta *txn, const kv_intent *in)
{
    return txn != NULL && memcmp(txn->id, in->txn.id, KV_TXN_ID_LEN) == 0;
}

/* Fills c (may be NULL) with the intent `in`, whose anchor may borrow from
 * an iterator: it is copied into c->anchor. */
static int report_intent(kv_mvcc_conflict *c, const kv_intent *in, const uint8_t *prefix,
                         size_t plen, char *err, size_t errlen)
{
    if (c != NULL) {
        c->intent = *in;
        if (kv__mvcc_unescape(prefix, plen, &c->key) != 0 ||
            kv_buf_set(&c->anchor, in->anchor, in->anchor_len) != 0)
            return kv__errf(err, errlen, KV_ENOMEM, "out of memory reporting an intent");
        c->intent.anchor = (const uint8_t *)c->anchor.data;
    }
    return kv__errf(err, errlen, KV_EWRITEINTENT,
                    "conflicting intent at %" PRId64 ".%" PRId32 " (epoch %" PRIu32 ")",
                    in->ts.wall, in->ts.logical, in->txn.epoch);
}

/* One read: the iterator, what to read, and the escaped prefix of the user
 * key being read, in a buffer with KV_MVCC_TS_LEN spare bytes for seeks. */
struct reader {
    kv_iter *it;
    const kv_mvcc_read_opts *ro;
    kv_mvcc_conflict *conflict;
    char *err;
    size_t errlen;
    uint8_t *prefix;
    size_t plen;
};

struct version {
    bool found;
    bool tombstone;
    bool newest;     /* nothing newer exists: no intent, no later version */
    const char *val; /* borrowed from the iterator */
    size_t vlen;
    kv_ts ts;
};

/* The current key if it belongs to the user key being read. */
static const char *reader_key(const struct reader *r, size_t *klen)
{
    if (!kv_iter_valid(r->it))
        return NULL;
    const char *k = kv_iter_key(r->it, klen);
    if (*klen < r->plen || memcmp(k, r->prefix, r->plen) != 0)
        return NULL;
    return k;
}

static int reader_take(struct reader *r, const char *k, size_t klen, kv_ts ts, struct version *v)
{
    size_t vlen;
    const char *raw = kv_iter_value(r->it, &vlen);
    if (kv__mvcc_decode_value((const uint8_t *)raw, vlen, &v->tombstone, &v->val, &v->vlen) != 0)
        return mvcc_corrupt(r->err, r->errlen, "bad version value", k, klen);
    v->found = true;
    v->ts = ts;
    return 0;
}

/* The highest timestamp a version or intent can have and still matter to
 * the read: the uncertainty limit when there is one. */
static kv_ts reader_horizon(const kv_mvcc_read_opts *ro)
{
    return kv_ts_cmp(ro->uncertainty_limit, ro->ts) > 0 ? ro->uncertainty_limit : ro->ts;
}

static int report_uncertain(struct reader *r, kv_ts ts)
{
    if (r->conflict != NULL)
        r->conflict->existing_ts = ts;
    return kv__errf(r->err, r->errlen, KV_EREADUNCERTAIN,
                    "value at %" PRId64 ".%" PRId32 " is within the uncertainty interval of a read "
                    "at %" PRId64 ".%" PRId32,
                    ts.wall, ts.logical, r->ro->ts.wall, r->ro->ts.logical);
}

/* From the current entry on, finds the newest version at or below the read
 * timestamp, ignoring the provisional version at *skip when skip != NULL.
 * A version above the read timestamp but within the horizon is uncertain. */
static int reader_find(struct reader *r, const kv_ts *skip, struct version *v)
{
    v->found = false;
    const char *k;
    size_t klen;
    kv_ts horizon = reader_horizon(r->ro);
    for (int steps = 0; (k = reader_key(r, &klen)) != NULL; steps++) {
        size_t plen;
        bool meta;
        kv_ts ts;
        if (kv__mvcc_split_key((const uint8_t *)k, klen, &plen, &meta, &ts) != 0 || meta)
            return mvcc_corrupt(r->err, r->errlen, "bad version key", k, klen);
        bool newer = kv_ts_cmp(ts, r->ro->ts) > 0;
        bool skipped = skip != NULL && kv_ts_cmp(ts, *skip) == 0;
        if (!newer && !skipped) {
            v->newest = steps == 0 && skip == NULL;
            return reader_take(r, k, klen, ts, v);
        }
        if (newer && !skipped && kv_ts_cmp(ts, horizon) <= 0)
            return report_uncertain(r, ts);
        if (newer && steps >= MVCC_NEXTS_BEFORE_SEEK) {
            kv__mvcc_put_ts(r->prefix + r->plen, horizon);
            kv_iter_seek_ge(r->it, r->prefix, r->plen + KV_MVCC_TS_LEN);
            continue;
        }
        kv_iter_next(r->it);
    }
    return kv_iter_status(r->it, r->err, r->errlen);
}

/* Reads the user key whose first entry is the current one. */
static int reader_read(struct reader *r, struct version *v)
{
    size_t klen, vlen;
    const char *k = reader_key(r, &klen);
    size_t plen;
    bool meta;
    kv_ts ts;
    v->found = false;
    v->newest = k == NULL;
    if (k == NULL)
        return kv_iter_status(r->it, r->err, r->errlen);
    if (kv__mvcc_split_key((const uint8_t *)k, klen, &plen, &meta, &ts) != 0)
        return mvcc_corrupt(r->err, r->errlen, "bad key", k, klen);
    if (!meta)
        return reader_find(r, NULL, v);
    kv_intent in;
    const char *raw = kv_iter_value(r->it, &vlen);
    if (kv__mvcc_decode_meta((const uint8_t *)raw, vlen, &in) != 0)
        return mvcc_corrupt(r->err, r->errlen, "bad intent metadata", k, klen);
    bool own = txn_owns(r->ro->txn, &in);
    if (!own && kv_ts_cmp(in.ts, reader_horizon(r->ro)) <= 0)
        return report_intent(r->conflict, &in, r->prefix, r->plen, r->err, r->errlen);
    kv_iter_next(r->it);
    if (!own || in.txn.epoch != r->ro->txn->epoch)
        return reader_find(r, &in.ts, v);
    /* The transaction's own current write: visible at any read timestamp. */
    if ((k = reader_key(r, &klen)) == NULL ||
        kv__mvcc_split_key((const uint8_t *)k, klen, &plen, &meta, &ts) != 0 || meta ||
        kv_ts_cmp(ts, in.ts) != 0)
        return mvcc_corrupt(r->err, r->errlen, "intent without provisional version", r->prefix,
                            r->plen);
    return reader_take(r, k, klen, ts, v);
}

int kv_mvcc_get(kv_engine *e, const kv_snapshot *snap, const kv_mvcc_read_opts *ro, const void *key,
                size_t klen, kv_buf *val, kv_ts *val_ts, kv_mvcc_conflict *conflict, char *err,
                size_t errlen)
{
    struct mkey k;
    if (mkey_init(&k, key, klen) != 0)
        return kv__errf(err, errlen, KV_ENOMEM, "out of memory encoding a %zu-byte key", klen);
    int rc;
    kv__vcache_tag tag = {0}; /* taken before the iterator exists */
    if (snap == NULL && kv__vcache_get(e->vcache, k.p, k.plen, ro->ts, val, val_ts, &rc, &tag)) {
        if (rc == KV_ENOMEM)
            kv__errf(err, errlen, rc, "out of memory copying a value");
        goto out_free_key;
    }
    kv_iter *it;
    rc = mkey_iter(e, snap, &k, &it, err, errlen);
    if (rc != 0)
        goto out_free_key;
    struct reader r = {it, ro, conflict, err, errlen, k.p, k.plen};
    struct version v = {0};
    if (kv_iter_valid(it))
        rc = reader_read(&r, &v);
    else if ((rc = kv_iter_status(it, err, errlen)) == 0)
        v.newest = true; /* the key has no entries at all */
    if (rc == 0 && v.newest)
        kv__vcache_put(e->vcache, &tag, k.p, k.plen, v.found && !v.tombstone, v.val, v.vlen,
                       v.found ? v.ts : (kv_ts){0, 0});
    if (rc == 0 && (!v.found || v.tombstone))
        rc = KV_ENOTFOUND;
    if (rc == 0 && (rc = kv_buf_set(val, v.val, v.vlen)) != 0)
        kv__errf(err, errlen, rc, "out of memory copying a %zu-byte value", v.vlen);
    if (rc == 0 && val_ts != NULL)
        *val_ts = v.ts;
    kv_iter_close(it);
out_free_key:
    mkey_free(&k);
    return rc;
}

/* Forward scans: moves past the remaining entries of the current user key. */
static void reader_skip_key(struct reader *r)
{
    size_t klen;
    for (int steps = 0; reader_key(r, &klen) != NULL; steps++) {
        if (steps == MVCC_NEXTS_BEFORE_SEEK) {
            /* The oldest possible version key of this user key. */
            memset(r->prefix + r->plen, 0xFF, KV_MVCC_TS_LEN);
            kv_iter_seek_ge(r->it, r->prefix, r->plen + KV_MVCC_TS_LEN);
            if (reader_key(r, &klen) == NULL)
                return;
        }
        kv_iter_next(r->it);
    }
}

/* Reverse scans: moves to the last entry of the previous user key. */
static void reader_prev_key(struct reader *r)
{
    size_t klen;
    kv_iter_seek_le(r->it, r->prefix, r->plen);
    if (reader_key(r, &klen) != NULL && klen == r->plen)
        kv_iter_prev(r->it);
}

/* Makes the current entry's user key the one being read; for reverse scans
 * also moves to that key's first entry. */
static int reader_enter_key(struct reader *r, kv_buf *prefix)
{
    size_t klen, plen;
    bool meta;
    kv_ts ts;
    const char *k = kv_iter_key(r->it, &klen);
    if (kv__mvcc_split_key((const uint8_t *)k, klen, &plen, &meta, &ts) != 0)
        return mvcc_corrupt(r->err, r->errlen, "bad key", k, klen);
    if (kv_buf_reserve(prefix, plen + KV_MVCC_TS_LEN) != 0)
        return kv__errf(r->err, r->errlen, KV_ENOMEM, "out of memory scanning");
    memcpy(prefix->data, k, plen);
    r->prefix = (uint8_t *)prefix->data;
    r->plen = plen;
    if (r->ro->reverse)
        kv_iter_seek_ge(r->it, r->prefix, r->plen);
    return 0;
}

struct scan_out {
    kv_mvcc_scan_cb cb;
    void *arg;
    kv_buf ukey;
    size_t count;
};

static int scan_emit(struct reader *r, struct scan_out *o, const struct version *v)
{
    if (kv__mvcc_unescape(r->prefix, r->plen, &o->ukey) != 0)
        return kv__errf(r->err, r->errlen, KV_ENOMEM, "out of memory scanning");
    o->count++;
    return o->cb(o->arg, o->ukey.data, o->ukey.len, v->val, v->vlen, v->ts);
}

static int scan_loop(struct reader *r, struct scan_out *o, kv_buf *prefix)
{
    int rc = 0;
    size_t limit = r->ro->limit;
    while (rc == 0 && kv_iter_valid(r->it) && (limit == 0 || o->count < limit)) {
        struct version v;
        if ((rc = reader_enter_key(r, prefix)) != 0 || (rc = reader_read(r, &v)) != 0)
            break;
        if (v.found && !v.tombstone && (rc = scan_emit(r, o, &v)) != 0)
            break;
        if (r->ro->reverse)
            reader_prev_key(r);
        else
            reader_skip_key(r);
    }
    if (rc > 0)
        return 0; /* the callback asked to stop */
    return rc != 0 ? rc : kv_iter_status(r->it, r->err, r->errlen);
}

int kv_mvcc_scan(kv_engine *e, const kv_snapshot *snap, const kv_mvcc_read_opts *ro,
                 const void *start, size_t slen, const void *end, size_t elen, kv_mvcc_scan_cb cb,
                 void *arg, kv_mvcc_conflict *conflict, char *err, size_t errlen)
{
    struct mkey lo, hi;
    int rc = KV_ENOMEM;
    if (mkey_init(&lo, start, start ? slen : 0) != 0)
        return kv__errf(err, errlen, rc, "out of memory encoding a scan bound");
    if (mkey_init(&hi, end, end ? elen : 0) != 0) {
        kv__errf(err, errlen, rc, "out of memory encoding a scan bound");
        goto out_free_lo;
    }
    kv_iter *it;
    rc = kv_iter_open(e, snap, KV_CF_MVCC, lo.p, lo.plen, end ? hi.p : NULL, hi.plen, &it, err,
                      errlen);
    if (rc != 0)
        goto out_free_hi;
    struct reader r = {it, ro, conflict, err, errlen, NULL, 0};
    struct scan_out o = {cb, arg, {0}, 0};
    kv_buf prefix = {0};
    if (ro->reverse)
        kv_iter_seek_last(it);
    else
        kv_iter_seek_first(it);
    rc = scan_loop(&r, &o, &prefix);
    kv_buf_free(&prefix);
    kv_buf_free(&o.ukey);
    kv_iter_close(it);
out_free_hi:
    mkey_free(&hi);
out_free_lo:
    mkey_free(&lo);
    return rc;
}

/* What a write found on its key: the intent (if any; its anchor is not
 * kept, since it borrowed from the iterator) and the newest committed
 * version's timestamp (if any). */
struct key_state {
    bool has_intent;
    kv_intent intent;
    bool has_committed;
    kv_ts committed;
};

static int read_key_state(kv_iter *it, struct key_state *st, char *err, size_t errlen)
{
    memset(st, 0, sizeof(*st));
    for (; kv_iter_valid(it); kv_iter_next(it)) {
        size_t klen, vlen, plen;
        bool meta;
        kv_ts ts;
        const char *k = kv_iter_key(it, &klen);
        if (kv__mvcc_split_key((const uint8_t *)k, klen, &plen, &meta, &ts) != 0)
            return mvcc_corrupt(err, errlen, "bad key", k, klen);
        if (meta) {
            const char *raw = kv_iter_value(it, &vlen);
            if (kv__mvcc_decode_meta((const uint8_t *)raw, vlen, &st->intent) != 0)
                return mvcc_corrupt(err, errlen, "bad intent metadata", k, klen);
            st->intent.anchor = NULL;
            st->intent.anchor_len = 0;
            st->has_intent = true;
        } else if (!st->has_intent || kv_ts_cmp(ts, st->intent.ts) != 0) {
            st->has_committed = true;
            st->committed = ts;
            return 0;
        }
    }
    return kv_iter_status(it, err, errlen);
}

/* Reports the intent of k to c after read_key_state: seeks `it` back to
 * the metadata, whose anchor the key state did not keep. */
static int report_key_intent(kv_iter *it, struct mkey *k, kv_mvcc_conflict *c, char *err,
                             size_t errlen)
{
    size_t klen, vlen;
    kv_intent in;
    kv_iter_seek_ge(it, k->p, k->plen);
    const char *got = kv_iter_valid(it) ? kv_iter_key(it, &klen) : NULL;
    if (got == NULL || klen != k->plen || memcmp(got, k->p, klen) != 0) {
        int rc = kv_iter_status(it, err, errlen);
        return rc != 0 ? rc : mvcc_corrupt(err, errlen, "intent metadata vanished", k->p, k->plen);
    }
    const char *raw = kv_iter_value(it, &vlen);
    if (kv__mvcc_decode_meta((const uint8_t *)raw, vlen, &in) != 0)
        return mvcc_corrupt(err, errlen, "bad intent metadata", k->p, k->plen);
    return report_intent(c, &in, k->p, k->plen, err, errlen);
}

/* Checks a write of `txn` (NULL: non-transactional) at *ts against the key
 * state read through `it`; may raise *ts to the transaction's own intent
 * timestamp. */
static int check_write(kv_iter *it, const struct key_state *st, struct mkey *k, kv_ts *ts,
                       const kv_txn_meta *txn, kv_mvcc_conflict *c, char *err, size_t errlen)
{
    if (st->has_intent) {
        if (!txn_owns(txn, &st->intent))
            return report_key_intent(it, k, c, err, errlen);
        if (st->intent.txn.epoch > txn->epoch)
            return kv__errf(err, errlen, KV_EINVAL,
                            "write of epoch %" PRIu32 " under its own intent of epoch %" PRIu32,
                            txn->epoch, st->intent.txn.epoch);
        if (kv_ts_cmp(*ts, st->intent.ts) < 0)
            *ts = st->intent.ts;
    }
    if (st->has_committed && kv_ts_cmp(st->committed, *ts) >= 0) {
        if (c != NULL) {
            c->existing_ts = st->committed;
            if (kv__mvcc_unescape(k->p, k->plen, &c->key) != 0)
                return kv__errf(err, errlen, KV_ENOMEM, "out of memory reporting a conflict");
        }
        return kv__errf(err, errlen, KV_EWRITETOOOLD,
                        "write at %" PRId64 ".%" PRId32 " below committed %" PRId64 ".%" PRId32,
                        ts->wall, ts->logical, st->committed.wall, st->committed.logical);
    }
    return 0;
}

/* Small values are copied behind their tag on the stack and added with a
 * plain put; RocksDB's gather put (putv) allocates vectors and is measurably
 * slower per write, so it is kept for values too large to copy cheaply. */
#define MVCC_INLINE_VALUE_MAX 1024

static void put_version(kv_batch *b, rocksdb_column_family_handle_t *cf, struct mkey *k, kv_ts ts,
                        const void *val, size_t vlen, bool tombstone)
{
    const char tag = tombstone ? KV__MVCC_TAG_TOMBSTONE : KV__MVCC_TAG_VALUE;
    const char *key = mkey_version(k, ts);
    size_t key_len = k->plen + KV_MVCC_TS_LEN;
    vlen = tombstone ? 0 : vlen;
    if (vlen < MVCC_INLINE_VALUE_MAX) {
        char buf[MVCC_INLINE_VALUE_MAX];
        buf[0] = tag;
        if (vlen > 0)
            memcpy(buf + 1, val, vlen);
        rocksdb_writebatch_put_cf(b->wb, cf, key, key_len, buf, vlen + 1);
        return;
    }
    const char *parts[2] = {&tag, val};
    size_t sizes[2] = {1, vlen};
    rocksdb_writebatch_putv_cf(b->wb, cf, 1, &key, &key_len, 2, parts, sizes);
}

/* Intent metadata with an anchor up to this long is built on the stack; a
 * longer anchor goes through the gather put, as large values do. */
#define MVCC_INLINE_META_MAX 256

static void put_meta(kv_batch *b, rocksdb_column_family_handle_t *cf, struct mkey *k,
                     const kv_mvcc_writer *txn, kv_ts ts)
{
    kv_intent in = {txn->txn, ts, txn->priority, txn->anchor, txn->anchor_len};
    uint8_t buf[MVCC_INLINE_META_MAX];
    const char *key = (const char *)k->p;
    kv__mvcc_encode_meta(buf, &in);
    if (KV__MVCC_META_FIXED_LEN + in.anchor_len <= sizeof(buf)) {
        if (in.anchor_len > 0)
            memcpy(buf + KV__MVCC_META_FIXED_LEN, in.anchor, in.anchor_len);
        rocksdb_writebatch_put_cf(b->wb, cf, key, k->plen, (const char *)buf,
                                  KV__MVCC_META_FIXED_LEN + in.anchor_len);
        return;
    }
    const char *parts[2] = {(const char *)buf, (const char *)in.anchor};
    size_t sizes[2] = {KV__MVCC_META_FIXED_LEN, in.anchor_len};
    rocksdb_writebatch_putv_cf(b->wb, cf, 1, &key, &k->plen, 2, parts, sizes);
}

static int mvcc_write(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *key,
                      size_t klen, kv_ts ts, const kv_mvcc_writer *txn, const void *val,
                      size_t vlen, bool tombstone, kv_mvcc_conflict *c, char *err, size_t errlen)
{
    if (kv_ts_is_zero(ts))
        return kv__errf(err, errlen, KV_EINVAL, "MVCC write at the zero timestamp");
    struct mkey k;
    if (mkey_init(&k, key, klen) != 0)
        return kv__errf(err, errlen, KV_ENOMEM, "out of memory encoding a %zu-byte key", klen);
    kv_iter *it;
    struct key_state st;
    int rc = mkey_iter(e, snap, &k, &it, err, errlen);
    if (rc != 0)
        goto out_free_key;
    rc = read_key_state(it, &st, err, errlen);
    if (rc == 0)
        rc = check_write(it, &st, &k, &ts, txn ? &txn->txn : NULL, c, err, errlen);
    kv_iter_close(it);
    if (rc != 0)
        goto out_free_key;
    rocksdb_column_family_handle_t *cf = e->cf[KV_CF_MVCC];
    put_version(b, cf, &k, ts, val, vlen, tombstone);
    if (st.has_intent && kv_ts_cmp(st.intent.ts, ts) != 0)
        rocksdb_writebatch_delete_cf(b->wb, cf, mkey_version(&k, st.intent.ts),
                                     k.plen + KV_MVCC_TS_LEN);
    if (txn != NULL)
        put_meta(b, cf, &k, txn, ts);
out_free_key:
    mkey_free(&k);
    return rc;
}

int kv_mvcc_put(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *key, size_t klen,
                kv_ts ts, const kv_mvcc_writer *txn, const void *val, size_t vlen,
                kv_mvcc_conflict *conflict, char *err, size_t errlen)
{
    return mvcc_write(e, snap, b, key, klen, ts, txn, val, vlen, false, conflict, err, errlen);
}

int kv_mvcc_delete(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *key, size_t klen,
                   kv_ts ts, const kv_mvcc_writer *txn, kv_mvcc_conflict *conflict, char *err,
                   size_t errlen)
{
    return mvcc_write(e, snap, b, key, klen, ts, txn, NULL, 0, true, conflict, err, errlen);
}

/* Commits the intent at the current entry (its metadata) at commit_ts,
 * moving the provisional version when the timestamp was pushed. */
static int resolve_commit(kv_iter *it, kv_batch *b, rocksdb_column_family_handle_t *cf,
                          struct mkey *k, const kv_intent *in, kv_ts commit_ts, char *err,
                          size_t errlen)
{
    if (kv_ts_is_zero(commit_ts) || kv_ts_cmp(commit_ts, in->ts) == 0)
        return 0;
    if (kv_ts_cmp(commit_ts, in->ts) < 0)
        return kv__errf(err, errlen, KV_EINVAL, "commit timestamp below the intent's");
    size_t klen, vlen;
    kv_iter_next(it);
    const char *want = mkey_version(k, in->ts);
    const char *got = kv_iter_valid(it) ? kv_iter_key(it, &klen) : NULL;
    if (got == NULL || klen != k->plen + KV_MVCC_TS_LEN || memcmp(got, want, klen) != 0)
        return mvcc_corrupt(err, errlen, "intent without provisional version", k->p, k->plen);
    const char *val = kv_iter_value(it, &vlen);
    const char *key = mkey_version(k, commit_ts);
    rocksdb_writebatch_put_cf(b->wb, cf, key, klen, val, vlen);
    rocksdb_writebatch_delete_cf(b->wb, cf, got, klen);
    return 0;
}

int kv_mvcc_resolve(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *key,
                    size_t klen, const kv_txn_meta *txn, kv_txn_status status, kv_ts commit_ts,
                    bool *resolved, char *err, size_t errlen)
{
    struct mkey k;
    if (mkey_init(&k, key, klen) != 0)
        return kv__errf(err, errlen, KV_ENOMEM, "out of memory encoding a %zu-byte key", klen);
    kv_iter *it;
    struct key_state st;
    bool done = false;
    int rc = mkey_iter(e, snap, &k, &it, err, errlen);
    if (rc != 0)
        goto out_free_key;
    rc = read_key_state(it, &st, err, errlen);
    if (rc != 0 || !st.has_intent || !txn_owns(txn, &st.intent))
        goto out_close_iter;
    rocksdb_column_family_handle_t *cf = e->cf[KV_CF_MVCC];
    bool commit = status == KV_TXN_COMMITTED;
    if (commit && st.intent.txn.epoch > txn->epoch)
        goto out_close_iter;
    if (commit && st.intent.txn.epoch == txn->epoch) {
        kv_iter_seek_ge(it, k.p, k.plen); /* back to the metadata */
        rc = resolve_commit(it, b, cf, &k, &st.intent, commit_ts, err, errlen);
        if (rc != 0)
            goto out_close_iter;
    } else {
        rocksdb_writebatch_delete_cf(b->wb, cf, mkey_version(&k, st.intent.ts),
                                     k.plen + KV_MVCC_TS_LEN);
    }
    rocksdb_writebatch_delete_cf(b->wb, cf, (const char *)k.p, k.plen);
    done = true;
out_close_iter:
    kv_iter_close(it);
out_free_key:
    mkey_free(&k);
    if (resolved != NULL)
        *resolved = done;
    return rc;
}

/* Per-key state of a GC pass. */
struct gc_key {
    kv_buf prefix;
    bool has_intent;
    kv_ts intent_ts;
    bool kept; /* the newest committed version <= threshold was seen */
};

/* Decides whether the current entry goes; `k` is its key, already split. */
static int gc_entry(kv_iter *it, struct gc_key *g, const char *k, size_t klen, bool meta, kv_ts ts,
                    kv_ts threshold, bool *drop, char *err, size_t errlen)
{
    size_t vlen;
    const char *raw = kv_iter_value(it, &vlen);
    *drop = false;
    if (meta) {
        kv_intent in;
        if (kv__mvcc_decode_meta((const uint8_t *)raw, vlen, &in) != 0)
            return mvcc_corrupt(err, errlen, "bad intent metadata", k, klen);
        g->has_intent = true;
        g->intent_ts = in.ts;
        return 0;
    }
    if ((g->has_intent && kv_ts_cmp(ts, g->intent_ts) == 0) || kv_ts_cmp(ts, threshold) > 0)
        return 0;
    if (g->kept) {
        *drop = true;
        return 0;
    }
    g->kept = true;
    bool tombstone;
    const char *payload;
    size_t plen;
    if (kv__mvcc_decode_value((const uint8_t *)raw, vlen, &tombstone, &payload, &plen) != 0)
        return mvcc_corrupt(err, errlen, "bad version value", k, klen);
    *drop = tombstone;
    return 0;
}

static int gc_loop(kv_iter *it, kv_batch *b, rocksdb_column_family_handle_t *cf, kv_ts threshold,
                   size_t *removed, char *err, size_t errlen)
{
    struct gc_key g = {{0}, false, {0, 0}, false};
    int rc = 0;
    for (kv_iter_seek_first(it); kv_iter_valid(it); kv_iter_next(it)) {
        size_t klen, plen;
        bool meta, drop;
        kv_ts ts;
        const char *k = kv_iter_key(it, &klen);
        if (kv__mvcc_split_key((const uint8_t *)k, klen, &plen, &meta, &ts) != 0) {
            rc = mvcc_corrupt(err, errlen, "bad key", k, klen);
            break;
        }
        if (plen != g.prefix.len || memcmp(k, g.prefix.data, plen) != 0) {
            if ((rc = kv_buf_set(&g.prefix, k, plen)) != 0)
                break;
            g.has_intent = g.kept = false;
        }
        if ((rc = gc_entry(it, &g, k, klen, meta, ts, threshold, &drop, err, errlen)) != 0)
            break;
        if (drop) {
            rocksdb_writebatch_delete_cf(b->wb, cf, k, klen);
            (*removed)++;
        }
    }
    kv_buf_free(&g.prefix);
    return rc != 0 ? rc : kv_iter_status(it, err, errlen);
}

int kv_mvcc_gc(kv_engine *e, const kv_snapshot *snap, kv_batch *b, const void *start, size_t slen,
               const void *end, size_t elen, kv_ts threshold, size_t *removed, char *err,
               size_t errlen)
{
    struct mkey lo, hi;
    size_t n = 0;
    int rc = KV_ENOMEM;
    if (mkey_init(&lo, start, start ? slen : 0) != 0)
        return kv__errf(err, errlen, rc, "out of memory encoding a GC bound");
    if (mkey_init(&hi, end, end ? elen : 0) != 0) {
        kv__errf(err, errlen, rc, "out of memory encoding a GC bound");
        goto out_free_lo;
    }
    kv_iter *it;
    rc = kv_iter_open(e, snap, KV_CF_MVCC, lo.p, lo.plen, end ? hi.p : NULL, hi.plen, &it, err,
                      errlen);
    if (rc != 0)
        goto out_free_hi;
    rc = gc_loop(it, b, e->cf[KV_CF_MVCC], threshold, &n, err, errlen);
    kv_iter_close(it);
out_free_hi:
    mkey_free(&hi);
out_free_lo:
    mkey_free(&lo);
    if (removed != NULL)
        *removed = n;
    return rc;
}
