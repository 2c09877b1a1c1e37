/*
 * engine_iter.c - write batches and bounded iterators.
 *
 * kv_batch_from_data() accepts bytes from the network (Raft entries), so it
 * parses the RocksDB WriteBatch format itself before handing the bytes to
 * RocksDB, which trusts them. The records it accepts are exactly those the
 * kv_batch_* mutators produce:
 *
 *   header   8 bytes sequence (ignored) | 4 bytes LE record count
 *   record   tag (1 byte), then by tag:
 *     0x05   varint32 cf id | varstring key | varstring value   (put)
 *     0x04   varint32 cf id | varstring key                     (delete)
 *     0x0E   varint32 cf id | varstring begin | varstring end   (range delete)
 *   varstring = varint32 length | bytes
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kv/engine_int.h"
#include "kv/kv_int.h"

enum { WB_HEADER = 12 };

int kv_batch_create(kv_batch **out)
{
    kv_batch *b = malloc(sizeof(*b));
    if (b == NULL)
        return KV_ENOMEM;
    b->wb = rocksdb_writebatch_create();
    *out = b;
    return 0;
}

void kv_batch_destroy(kv_batch *b)
{
    if (b == NULL)
        return;
    rocksdb_writebatch_destroy(b->wb);
    free(b);
}

void kv_batch_clear(kv_batch *b)
{
    rocksdb_writebatch_clear(b->wb);
}

int kv_batch_put(kv_batch *b, kv_engine *e, kv_cf cf, const void *key, size_t klen, const void *val,
                 size_t vlen)
{
    rocksdb_column_family_handle_t *h = kv__engine_cf(e, cf);
    if (h == NULL)
        return KV_EBADCF;
    rocksdb_writebatch_put_cf(b->wb, h, key, klen, val, vlen);
    return 0;
}

int kv_batch_delete(kv_batch *b, kv_engine *e, kv_cf cf, const void *key, size_t klen)
{
    rocksdb_column_family_handle_t *h = kv__engine_cf(e, cf);
    if (h == NULL)
        return KV_EBADCF;
    rocksdb_writebatch_delete_cf(b->wb, h, key, klen);
    return 0;
}

int kv_batch_delete_range(kv_batch *b, kv_engine *e, kv_cf cf, const void *start, size_t slen,
                          const void *end, size_t elen)
{
    rocksdb_column_family_handle_t *h = kv__engine_cf(e, cf);
    if (h == NULL)
        return KV_EBADCF;
    rocksdb_writebatch_delete_range_cf(b->wb, h, start, slen, end, elen);
    return 0;
}

int kv_batch_count(const kv_batch *b)
{
    return rocksdb_writebatch_count(b->wb);
}

const char *kv_batch_data(const kv_batch *b, size_t *len)
{
    return rocksdb_writebatch_data(b->wb, len);
}

/* A cursor over untrusted batch bytes; every read checks the bounds. */
struct wb_cursor {
    const uint8_t *p;
    const uint8_t *end;
};

static bool wb_varint32(struct wb_cursor *c, uint32_t *v)
{
    uint32_t r = 0;
    for (int shift = 0; shift <= 28 && c->p < c->end; shift += 7) {
        uint8_t byte = *c->p++;
        r |= (uint32_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *v = r;
            return true;
        }
    }
    return false;
}

static bool wb_varstring(struct wb_cursor *c, const uint8_t **s, size_t *len)
{
    uint32_t n;
    if (!wb_varint32(c, &n) || (size_t)(c->end - c->p) < n)
        return false;
    *s = c->p, *len = n;
    c->p += n;
    return true;
}

static bool wb_known_cf(kv_engine *e, uint32_t id)
{
    for (int i = 0; i < KV_CF_COUNT; i++) {
        if (rocksdb_column_family_handle_get_id(e->cf[i]) == id)
            return true;
    }
    return false;
}

/* Parses one record at the cursor into *r; 0 or KV_ECORRUPT. */
static int wb_next(struct wb_cursor *c, kv__batch_record *r)
{
    r->tag = *c->p++;
    int strings;
    switch (r->tag) {
    case KV__WB_DELETE:
        strings = 1;
        break;
    case KV__WB_PUT:
    case KV__WB_RANGE_DELETE:
        strings = 2;
        break;
    default:
        return KV_ECORRUPT;
    }
    if (!wb_varint32(c, &r->cf))
        return KV_ECORRUPT;
    r->val = NULL, r->vlen = 0;
    if (!wb_varstring(c, &r->key, &r->klen))
        return KV_ECORRUPT;
    return strings == 1 || wb_varstring(c, &r->val, &r->vlen) ? 0 : KV_ECORRUPT;
}

/* Checks one record at the cursor; returns 0, KV_ECORRUPT or KV_EBADCF. */
static int wb_check_record(kv_engine *e, struct wb_cursor *c)
{
    kv__batch_record r;
    if (wb_next(c, &r) != 0)
        return KV_ECORRUPT;
    return wb_known_cf(e, r.cf) ? 0 : KV_EBADCF;
}

static uint32_t wb_count(const uint8_t *data)
{
    return (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 |
           (uint32_t)data[11] << 24;
}

static int wb_validate(kv_engine *e, const uint8_t *data, size_t len, char *err, size_t errlen)
{
    if (len < WB_HEADER)
        return kv__errf(err, errlen, KV_ECORRUPT, "batch of %zu bytes is shorter than its header",
                        len);
    uint32_t count = wb_count(data);
    struct wb_cursor c = {data + WB_HEADER, data + len};
    uint32_t seen = 0;
    while (c.p < c.end) {
        size_t off = (size_t)(c.p - data);
        int rc = wb_check_record(e, &c);
        if (rc != 0)
            return kv__errf(err, errlen, rc, "batch record %u at offset %zu: %s", seen, off,
                            kv_strerror(rc));
        seen++;
    }
    if (seen != count)
        return kv__errf(err, errlen, KV_ECORRUPT, "batch header counts %u records, found %u", count,
                        seen);
    return 0;
}

int kv_batch_rep_append(kv_buf *rep, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (len < WB_HEADER)
        return KV_ECORRUPT;
    size_t at = rep->len < WB_HEADER ? WB_HEADER : rep->len;
    int rc = kv_buf_reserve(rep, at + len - WB_HEADER);
    if (rc != 0)
        return rc;
    uint8_t *h = (uint8_t *)rep->data;
    uint32_t count = rep->len < WB_HEADER ? 0 : wb_count(h);
    if (rep->len < WB_HEADER)
        memset(h, 0, WB_HEADER);
    count += wb_count(p); /* a wrong count is caught by kv_batch_from_data */
    h[8] = (uint8_t)count, h[9] = (uint8_t)(count >> 8);
    h[10] = (uint8_t)(count >> 16), h[11] = (uint8_t)(count >> 24);
    memcpy(h + at, p + WB_HEADER, len - WB_HEADER);
    rep->len = at + len - WB_HEADER;
    return 0;
}

int kv__batch_walk(const kv_batch *b, void (*fn)(void *arg, const kv__batch_record *r), void *arg)
{
    size_t len;
    const uint8_t *data = (const uint8_t *)rocksdb_writebatch_data(b->wb, &len);
    if (len < WB_HEADER)
        return KV_ECORRUPT;
    struct wb_cursor c = {data + WB_HEADER, data + len};
    kv__batch_record r;
    while (c.p < c.end) {
        if (wb_next(&c, &r) != 0)
            return KV_ECORRUPT;
        fn(arg, &r);
    }
    return 0;
}

int kv_batch_from_data(kv_engine *e, const void *data, size_t len, kv_batch **out, char *err,
                       size_t errlen)
{
    int rc = wb_validate(e, data, len, err, errlen);
    if (rc != 0)
        return rc;
    kv_batch *b = malloc(sizeof(*b));
    if (b == NULL)
        return kv__errf(err, errlen, KV_ENOMEM, "out of memory for a batch");
    b->wb = rocksdb_writebatch_create_from(data, len);
    *out = b;
    return 0;
}

struct kv_iter {
    kv_engine *engine;
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *ro;
    char bounds[]; /* lower then upper; RocksDB borrows them */
};

static int iter_open(kv_engine *e, const kv_snapshot *snap, kv_cf cf, const void *lower,
                     size_t llen, const void *upper, size_t ulen, bool prefix_mode, kv_iter **out,
                     char *err, size_t errlen)
{
    rocksdb_column_family_handle_t *h = kv__engine_cf(e, cf);
    if (h == NULL)
        return kv__errf(err, errlen, KV_EBADCF, "unknown column family %d", (int)cf);
    llen = lower ? llen : 0;
    ulen = upper ? ulen : 0;
    kv_iter *it = malloc(sizeof(*it) + llen + ulen);
    if (it == NULL)
        return kv__errf(err, errlen, KV_ENOMEM, "out of memory for an iterator");
    it->engine = e;
    it->ro = rocksdb_readoptions_create();
    rocksdb_readoptions_set_total_order_seek(it->ro, !prefix_mode);
    if (snap != NULL)
        rocksdb_readoptions_set_snapshot(it->ro, snap->snap);
    if (lower != NULL) {
        memcpy(it->bounds, lower, llen);
        rocksdb_readoptions_set_iterate_lower_bound(it->ro, it->bounds, llen);
    }
    if (upper != NULL) {
        memcpy(it->bounds + llen, upper, ulen);
        rocksdb_readoptions_set_iterate_upper_bound(it->ro, it->bounds + llen, ulen);
    }
    it->it = rocksdb_create_iterator_cf(e->db, it->ro, h);
    atomic_fetch_add(&e->open_views, 1);
    *out = it;
    return 0;
}

int kv_iter_open(kv_engine *e, const kv_snapshot *snap, kv_cf cf, const void *lower, size_t llen,
                 const void *upper, size_t ulen, kv_iter **out, char *err, size_t errlen)
{
    return iter_open(e, snap, cf, lower, llen, upper, ulen, false, out, err, errlen);
}

int kv__iter_open_prefix(kv_engine *e, const kv_snapshot *snap, const void *lower, size_t llen,
                         const void *upper, size_t ulen, kv_iter **out, char *err, size_t errlen)
{
    return iter_open(e, snap, KV_CF_MVCC, lower, llen, upper, ulen, true, out, err, errlen);
}

void kv_iter_close(kv_iter *it)
{
    if (it == NULL)
        return;
    rocksdb_iter_destroy(it->it);
    rocksdb_readoptions_destroy(it->ro);
    atomic_fetch_sub(&it->engine->open_views, 1);
    free(it);
}

void kv_iter_seek_first(kv_iter *it)
{
    rocksdb_iter_seek_to_first(it->it);
}

void kv_iter_seek_last(kv_iter *it)
{
    rocksdb_iter_seek_to_last(it->it);
}

void kv_iter_seek_ge(kv_iter *it, const void *key, size_t klen)
{
    rocksdb_iter_seek(it->it, key, klen);
}

void kv_iter_seek_le(kv_iter *it, const void *key, size_t klen)
{
    rocksdb_iter_seek_for_prev(it->it, key, klen);
}

void kv_iter_next(kv_iter *it)
{
    assert(kv_iter_valid(it));
    rocksdb_iter_next(it->it);
}

void kv_iter_prev(kv_iter *it)
{
    assert(kv_iter_valid(it));
    rocksdb_iter_prev(it->it);
}

bool kv_iter_valid(const kv_iter *it)
{
    return rocksdb_iter_valid(it->it) != 0;
}

const char *kv_iter_key(const kv_iter *it, size_t *klen)
{
    return rocksdb_iter_key(it->it, klen);
}

const char *kv_iter_value(const kv_iter *it, size_t *vlen)
{
    return rocksdb_iter_value(it->it, vlen);
}

int kv_iter_status(const kv_iter *it, char *err, size_t errlen)
{
    char *errptr = NULL;
    rocksdb_iter_get_error(it->it, &errptr);
    if (errptr != NULL)
        return kv__rocksdb_err(errptr, err, errlen, "iteration failed");
    return 0;
}
