/*
 * store_send.c - kv_store_send: routing a batch to the ranges of a store.
 *
 * A batch whose keys all lie in one range goes to that range's replica
 * whole (atomic there, and the only way to a one-phase commit). Otherwise
 * it is cut into per-range parts visited in key order (descending when it
 * holds reverse scans): each range gets one sub-batch with the pieces of
 * every request that overlap it, and scans carry their remaining row and
 * byte budgets from range to range, so a limit reached in one range leaves
 * a resume span and the later ranges are not read for that scan. An EndTxn
 * that cannot travel with the rest goes last, alone, to the anchor's range,
 * with the batch's writes added to its lock spans.
 *
 * Sub-responses share the caller's response arena, so their rows are
 * merged by pointer. KV_ERANGEKEYMISMATCH (ranges changed under the batch)
 * restarts the routing; every part is idempotent when re-sent (a
 * transaction rewrites its own intents, reads are reads).
 */
#include <stdio.h>
#include <string.h>

#include "kv/kv_int.h"
#include "kv/store_int.h"

#define MAX_ROUTING_ATTEMPTS 16

/* Per-request progress while walking the ranges. */
struct part_state {
    bool done;
    size_t rows_left, bytes_left; /* scans: 0 with a limit means exhausted */
};

struct walk {
    kv_store *s;
    const kv_request *req;
    kv_response *resp;
    size_t n; /* requests walked: all but a trailing EndTxn */
    kv_arena *tmp;
    bool reverse;
    kv_txn txn; /* working copy of a transaction */
    kv_ts ts;   /* a non-transactional batch's single timestamp */
    struct part_state *st;
    kv_req *parts;
    size_t *orig; /* parts[k] is a piece of request orig[k] */
};

static int route_errf(kv_response *resp, int code, const char *msg)
{
    snprintf(resp->msg, sizeof(resp->msg), "%s", msg);
    return code;
}

static bool is_scan(kv_method m)
{
    return m == KV_SCAN || m == KV_REVERSE_SCAN;
}

/* Finds the range that can take the whole batch into *d (and *local, the
 * replica of this store holding it, if any); false if none can. An EndTxn
 * with lock spans travels with other requests only when it is alone. */
static bool single_range(kv_store *s, const kv_request *req, kv_arena *a, kv_range_desc *d,
                         kv__replica **local)
{
    const kv_req *last = &req->reqs[req->n - 1];
    if (last->method == KV_END_TXN && last->u.end_txn.n_lock_spans > 0 && req->n > 1)
        return false;
    bool found = false;
    for (size_t i = 0; i < req->n; i++) {
        kv_span sp = kv__route_span(req, &req->reqs[i]);
        if (sp.key == NULL)
            continue;
        if (!found && kv__route_lookup(s, sp.key, sp.key_len, false, a, d, local) != 0)
            return false;
        found = true;
        if (!kv__desc_has_span(d, &sp))
            return false;
    }
    return found || kv__route_lookup(s, "", 0, false, a, d, local) == 0;
}

/* The piece of request i inside range d, if any. */
static bool piece(const kv_req *q, const kv_range_desc *d, kv_span *out)
{
    *out = q->span;
    if (q->span.end_key == NULL)
        return kv_range_contains(d, q->span.key, q->span.key_len);
    if (kv__key_cmp(out->key, out->key_len, d->start_key, d->start_len) < 0) {
        out->key = d->start_key;
        out->key_len = d->start_len;
    }
    if (d->end_len > 0 && kv__key_cmp(out->end_key, out->end_len, d->end_key, d->end_len) > 0) {
        out->end_key = d->end_key;
        out->end_len = d->end_len;
    }
    return kv__key_cmp(out->key, out->key_len, out->end_key, out->end_len) < 0;
}

/* Builds the sub-batch of range d; returns the number of parts. */
static size_t build_parts(struct walk *w, const kv_range_desc *d)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n; i++) {
        const kv_req *q = &w->req->reqs[i];
        kv_span sp;
        if (w->st[i].done || !piece(q, d, &sp))
            continue;
        w->parts[k] = *q;
        w->parts[k].span = sp;
        if (is_scan(q->method)) {
            w->parts[k].u.scan.max_rows = w->st[i].rows_left;
            w->parts[k].u.scan.max_bytes = w->st[i].bytes_left;
        }
        w->orig[k++] = i;
    }
    return k;
}

static int append_rows(struct walk *w, kv_resp *dst, const kv_resp *src)
{
    if (src->n_rows == 0)
        return 0;
    kv_row *rows = kv_arena_alloc(w->resp->arena, (dst->n_rows + src->n_rows) * sizeof(*rows));
    if (rows == NULL)
        return KV_ENOMEM;
    if (dst->n_rows > 0)
        memcpy(rows, dst->rows, dst->n_rows * sizeof(*rows));
    memcpy(rows + dst->n_rows, src->rows, src->n_rows * sizeof(*rows));
    dst->rows = rows;
    dst->n_rows += src->n_rows;
    return 0;
}

/* Takes a budget down by what a part used; a budget reaching zero is
 * exhausted, which build_parts must not send as "unlimited". */
static void spend(size_t *left, size_t used, bool *exhausted)
{
    if (*left == 0)
        return;
    *left = used >= *left ? 0 : *left - used;
    *exhausted |= *left == 0;
}

/* Where a scan stopped by its budget at the edge of range d resumes: the
 * rest of its span beyond d (key NULL: nothing is left). */
static kv_span rest_beyond(const struct walk *w, const kv_req *q, const kv_range_desc *d)
{
    kv_span r = q->span;
    if (w->reverse) {
        r.end_key = d->start_key;
        r.end_len = d->start_len;
    } else if (d->end_len > 0) {
        r.key = d->end_key;
        r.key_len = d->end_len;
    } else {
        return (kv_span){0};
    }
    if (kv__key_cmp(r.key, r.key_len, r.end_key, r.end_len) >= 0)
        return (kv_span){0};
    return r;
}

/* Copies a span's keys into the response arena: a response must not
 * point into the request or the walk's scratch memory. */
static int own_span(kv_arena *a, kv_span *s)
{
    s->key = kv_arena_dup(a, s->key, s->key_len);
    s->end_key = kv_arena_dup(a, s->end_key, s->end_len);
    return s->key == NULL || s->end_key == NULL ? KV_ENOMEM : 0;
}

static int merge_scan(struct walk *w, size_t i, const kv_resp *src, const kv_range_desc *d)
{
    const kv_req *q = &w->req->reqs[i];
    kv_resp *dst = &w->resp->resps[i];
    int rc = append_rows(w, dst, src);
    if (rc != 0)
        return rc;
    size_t bytes = 0;
    for (size_t j = 0; j < src->n_rows; j++)
        bytes += src->rows[j].key_len + src->rows[j].value_len;
    bool exhausted = false;
    spend(&w->st[i].rows_left, src->n_rows, &exhausted);
    spend(&w->st[i].bytes_left, bytes, &exhausted);
    if (src->resume.key != NULL) {
        dst->resume = q->span;
        if (w->reverse) {
            dst->resume.end_key = src->resume.end_key;
            dst->resume.end_len = src->resume.end_len;
        } else {
            dst->resume.key = src->resume.key;
            dst->resume.key_len = src->resume.key_len;
        }
        w->st[i].done = true;
    } else if (exhausted) {
        dst->resume = rest_beyond(w, q, d);
        w->st[i].done = true;
    }
    return dst->resume.key == NULL ? 0 : own_span(w->resp->arena, &dst->resume);
}

static int merge(struct walk *w, const kv_response *sub, size_t k, const kv_range_desc *d)
{
    for (size_t j = 0; j < k; j++) {
        size_t i = w->orig[j];
        kv_resp *dst = &w->resp->resps[i];
        const kv_resp *src = &sub->resps[j];
        if (is_scan(src->method)) {
            int rc = merge_scan(w, i, src, d);
            if (rc != 0)
                return rc;
        } else if (src->method == KV_DELETE_RANGE || src->method == KV_RESOLVE_INTENT) {
            dst->n_deleted += src->n_deleted;
        } else {
            *dst = *src;
        }
    }
    if (sub->has_txn)
        w->txn = sub->txn;
    return 0;
}

static int fail_from(kv_response *resp, const kv_response *sub, size_t orig_index)
{
    resp->err = sub->err;
    memcpy(resp->msg, sub->msg, sizeof(resp->msg));
    resp->detail = sub->detail;
    resp->detail.index = orig_index;
    return sub->err;
}

/* Sends the parts of range d (whose keys live in the walk's arena, so the
 * parts can borrow them whatever happens to the range). */
static int visit(struct walk *w, const kv_range_desc *d, kv__replica *local)
{
    size_t k = build_parts(w, d);
    if (k == 0)
        return 0;
    kv_request sub = {.arena = w->tmp, .reqs = w->parts, .n = k};
    sub.h.ts = w->ts;
    sub.h.txn = w->req->h.txn != NULL ? &w->txn : NULL;
    sub.h.no_wait = w->req->h.no_wait;
    kv_response sr = {.arena = w->resp->arena};
    int rc = kv__route_send(w->s, d, local, &sub, &sr);
    if (rc != 0)
        return fail_from(w->resp, &sr, w->orig[sr.detail.index < k ? sr.detail.index : 0]);
    return merge(w, &sr, k, d);
}

/* The smallest start and greatest end of the walked requests (a single key
 * k ends at k\0). */
static int extent(struct walk *w, kv_span *out)
{
    *out = (kv_span){0};
    for (size_t i = 0; i < w->n; i++) {
        const kv_span *s = &w->req->reqs[i].span;
        const uint8_t *end = s->end_key;
        size_t elen = s->end_len;
        if (end == NULL) {
            uint8_t *e = kv_arena_alloc(w->tmp, s->key_len + 1);
            if (e == NULL)
                return KV_ENOMEM;
            memcpy(e, s->key, s->key_len);
            e[s->key_len] = 0;
            end = e;
            elen = s->key_len + 1;
        }
        if (i == 0 || kv__key_cmp(s->key, s->key_len, out->key, out->key_len) < 0) {
            out->key = s->key;
            out->key_len = s->key_len;
        }
        if (i == 0 || kv__key_cmp(end, elen, out->end_key, out->end_len) > 0) {
            out->end_key = end;
            out->end_len = elen;
        }
    }
    return 0;
}

/* Visits the ranges overlapping the walked requests in scan order. */
static int walk_ranges(struct walk *w)
{
    kv_span ext;
    int rc = extent(w, &ext);
    const uint8_t *cur = w->reverse ? ext.end_key : ext.key;
    size_t cur_len = w->reverse ? ext.end_len : ext.key_len;
    while (rc == 0) {
        kv__replica *local;
        kv_range_desc d;
        if (kv__route_lookup(w->s, cur, cur_len, w->reverse, w->tmp, &d, &local) != 0)
            return route_errf(w->resp, KV_ENOTFOUND, "no range for the batch's keys");
        rc = visit(w, &d, local);
        if (rc != 0)
            break;
        if (w->reverse) {
            if (kv__key_cmp(d.start_key, d.start_len, ext.key, ext.key_len) <= 0)
                break;
            cur = d.start_key;
            cur_len = d.start_len;
        } else {
            if (d.end_len == 0 || kv__key_cmp(d.end_key, d.end_len, ext.end_key, ext.end_len) >= 0)
                break;
            cur = d.end_key;
            cur_len = d.end_len;
        }
    }
    return rc;
}

/* The EndTxn's lock spans plus the spans the walked requests wrote. */
static int end_txn_spans(struct walk *w, const kv_req *end, kv_req *out)
{
    size_t n = end->u.end_txn.n_lock_spans;
    kv_span *spans = kv_arena_alloc(w->tmp, (n + w->n) * sizeof(*spans));
    if (spans == NULL)
        return KV_ENOMEM;
    if (n > 0)
        memcpy(spans, end->u.end_txn.lock_spans, n * sizeof(*spans));
    for (size_t i = 0; i < w->n; i++) {
        if (kv__method_writes(w->req->reqs[i].method))
            spans[n++] = w->req->reqs[i].span;
    }
    *out = *end;
    out->u.end_txn.lock_spans = spans;
    out->u.end_txn.n_lock_spans = n;
    return 0;
}

/* Sends the trailing EndTxn alone to the anchor's range. */
static int send_end_txn(struct walk *w)
{
    kv_req end;
    int rc = end_txn_spans(w, &w->req->reqs[w->n], &end);
    if (rc != 0)
        return rc;
    kv_request sub = {.arena = w->tmp, .reqs = &end, .n = 1};
    sub.h.txn = &w->txn;
    sub.h.no_wait = w->req->h.no_wait;
    const uint8_t *key = w->txn.anchor_key != NULL ? w->txn.anchor_key : (const uint8_t *)"";
    kv__replica *local;
    kv_range_desc d;
    if (kv__route_lookup(w->s, key, w->txn.anchor_len, false, w->tmp, &d, &local) != 0)
        return route_errf(w->resp, KV_ENOTFOUND, "no range for the anchor key");
    kv_response sr = {.arena = w->resp->arena};
    rc = kv__route_send(w->s, &d, local, &sub, &sr);
    if (rc != 0)
        return fail_from(w->resp, &sr, w->n);
    w->resp->resps[w->n] = sr.resps[0];
    w->txn = sr.txn;
    return 0;
}

static int init_walk(struct walk *w, kv_store *s, const kv_request *req, kv_response *resp)
{
    *w = (struct walk){.s = s, .req = req, .resp = resp, .n = req->n};
    if (req->reqs[req->n - 1].method == KV_END_TXN)
        w->n--;
    if (req->h.txn != NULL)
        w->txn = *req->h.txn;
    else
        w->ts = kv_ts_is_zero(req->h.ts) ? kv_hlc_now(s->hlc) : req->h.ts;
    int rc = kv_arena_create(&w->tmp);
    if (rc != 0)
        return rc;
    w->st = kv_arena_alloc(w->tmp, req->n * sizeof(*w->st));
    w->parts = kv_arena_alloc(w->tmp, req->n * sizeof(*w->parts));
    w->orig = kv_arena_alloc(w->tmp, req->n * sizeof(*w->orig));
    if (w->st == NULL || w->parts == NULL || w->orig == NULL)
        return KV_ENOMEM;
    for (size_t i = 0; i < req->n; i++) {
        const kv_req *q = &req->reqs[i];
        w->reverse |= q->method == KV_REVERSE_SCAN;
        w->st[i] = (struct part_state){0};
        if (is_scan(q->method)) {
            w->st[i].rows_left = q->u.scan.max_rows;
            w->st[i].bytes_left = q->u.scan.max_bytes;
        }
    }
    return 0;
}

static int send_split(kv_store *s, const kv_request *req, kv_response *resp)
{
    struct walk w;
    int rc = init_walk(&w, s, req, resp);
    if (rc == 0 && w.n > 0)
        rc = walk_ranges(&w);
    if (rc == 0 && w.n < req->n)
        rc = send_end_txn(&w);
    if (rc == 0 && req->h.txn != NULL) {
        resp->has_txn = true;
        resp->txn = w.txn;
    }
    resp->ts = w.ts;
    kv_arena_destroy(w.tmp);
    return rc;
}

/* Batch shapes the router refuses before sending anything. */
static int check_shape(const kv_request *req, kv_response *resp)
{
    bool fwd = false, rev = false, writes = false;
    for (size_t i = 0; i < req->n; i++) {
        kv_method m = req->reqs[i].method;
        fwd |= m == KV_SCAN;
        rev |= m == KV_REVERSE_SCAN;
        writes |= kv__method_writes(m);
        if (m == KV_END_TXN && i + 1 != req->n)
            return route_errf(resp, KV_EINVAL, "EndTxn must be the last request");
    }
    if (fwd && rev)
        return route_errf(resp, KV_EINVAL, "a batch cannot mix Scan and ReverseScan");
    if (writes && req->h.txn == NULL)
        return route_errf(resp, KV_EINVAL,
                          "non-transactional writes across ranges: use a transaction");
    return 0;
}

static int route(kv_store *s, const kv_request *req, kv_response *resp)
{
    kv_arena *a;
    if (kv_arena_create(&a) != 0)
        return KV_ENOMEM;
    kv_range_desc d;
    kv__replica *local;
    bool single = single_range(s, req, a, &d, &local);
    int rc = single ? kv__route_send(s, &d, local, req, resp) : 0;
    kv_arena_destroy(a);
    if (single)
        return rc;
    rc = check_shape(req, resp);
    if (rc != 0)
        return rc;
    resp->resps = kv_arena_alloc(resp->arena, req->n * sizeof(*resp->resps));
    if (resp->resps == NULL)
        return KV_ENOMEM;
    memset(resp->resps, 0, req->n * sizeof(*resp->resps));
    for (size_t i = 0; i < req->n; i++)
        resp->resps[i].method = req->reqs[i].method;
    return send_split(s, req, resp);
}

/* A transaction's first write fixes its anchor, before anything is sent:
 * then a partly failed batch still names the range of its record. With no
 * change needed it returns `req` itself, else `copy`. */
static const kv_request *anchored(const kv_request *req, kv_request *copy, kv_txn *txn)
{
    if (req->h.txn == NULL || req->h.txn->anchor_key != NULL)
        return req;
    for (size_t i = 0; i < req->n; i++) {
        if (kv__method_writes(req->reqs[i].method)) {
            *txn = *req->h.txn;
            txn->anchor_key = req->reqs[i].span.key;
            txn->anchor_len = req->reqs[i].span.key_len;
            *copy = *req;
            copy->h.txn = txn;
            return copy;
        }
    }
    return req;
}

/* On failure the response still carries the transaction as sent (with
 * its anchor), so the caller can abort what a partial batch wrote. */
static int report_txn(const kv_request *req, kv_response *resp)
{
    if (req->h.txn == NULL || resp->has_txn)
        return 0;
    resp->has_txn = true;
    resp->txn = *req->h.txn;
    if (resp->txn.anchor_key == NULL)
        return 0;
    resp->txn.anchor_key = kv_arena_dup(resp->arena, resp->txn.anchor_key, resp->txn.anchor_len);
    return resp->txn.anchor_key == NULL ? KV_ENOMEM : 0;
}

int kv_store_send(kv_store *s, const kv_request *req, kv_response *resp)
{
    if (req->n == 0)
        return resp->err = 0;
    kv_request copy;
    kv_txn txn;
    req = anchored(req, &copy, &txn);
    int rc;
    for (int attempt = 0;; attempt++) {
        rc = route(s, req, resp);
        if (rc != KV_ERANGEKEYMISMATCH || attempt + 1 == MAX_ROUTING_ATTEMPTS)
            break;
        kv_arena *a = resp->arena;
        memset(resp, 0, sizeof(*resp));
        resp->arena = a;
    }
    resp->n = rc == 0 ? req->n : 0;
    if (rc != 0 && report_txn(req, resp) != 0)
        rc = KV_ENOMEM;
    resp->err = rc;
    return rc;
}

int kv_store_send_local(kv_store *s, const kv_request *req, kv_response *resp)
{
    if (req->n == 0)
        return resp->err = 0;
    kv_span sp = kv__route_span(req, &req->reqs[req->n - 1]);
    if (sp.key == NULL)
        sp = kv__route_span(req, &req->reqs[0]);
    kv__replica *r = sp.key != NULL ? kv__store_replica_for(s, sp.key, sp.key_len, false) : NULL;
    if (r == NULL || !kv_range_contains(&r->desc, sp.key, sp.key_len)) {
        snprintf(resp->msg, sizeof(resp->msg), "no replica of the range here");
        return resp->err = KV_ERANGENOTFOUND;
    }
    return kv__replica_send(r, req, resp);
}

void kv__store_resolve(kv_store *s, const kv_span *spans, size_t n, const kv_txn_meta *txn,
                       kv_txn_status status, kv_ts commit_ts)
{
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0)
        return;
    if (kv_response_init(&resp) != 0)
        goto out_free_req;
    for (size_t i = 0; i < n; i++) {
        kv_req q = {.method = KV_RESOLVE_INTENT, .span = spans[i]};
        q.u.resolve.txn = *txn;
        q.u.resolve.status = status;
        q.u.resolve.commit_ts = commit_ts;
        if (kv_request_add(&req, &q) != 0)
            goto out_free_resp;
    }
    /* Best effort by contract: intents left behind are found by readers. */
    (void)kv_store_send(s, &req, &resp);
out_free_resp:
    kv_response_free(&resp);
out_free_req:
    kv_request_free(&req);
}
