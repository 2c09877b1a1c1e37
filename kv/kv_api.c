/*
 * kv_api.c - the arena and the request/response containers of kv.h.
 *
 * The arena is a list of chunks with a bump pointer: a batch makes many
 * small allocations (keys, values, rows) that all die together, so they
 * are never freed one by one.
 */
#include <stdlib.h>
#include <string.h>

#include "kv/store_int.h"

#define ARENA_CHUNK 4096
#define ARENA_ALIGN 16

struct arena_chunk {
    struct arena_chunk *next;
    size_t cap;
    size_t used;
    _Alignas(ARENA_ALIGN) uint8_t data[];
};

struct kv_arena {
    struct arena_chunk *head;
};

int kv_arena_create(kv_arena **out)
{
    *out = calloc(1, sizeof(**out));
    return *out == NULL ? KV_ENOMEM : 0;
}

void kv_arena_destroy(kv_arena *a)
{
    if (a == NULL)
        return;
    for (struct arena_chunk *c = a->head, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}

void *kv_arena_alloc(kv_arena *a, size_t n)
{
    size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    struct arena_chunk *c = a->head;
    if (c == NULL || c->cap - c->used < need) {
        size_t cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        c = malloc(sizeof(*c) + cap);
        if (c == NULL)
            return NULL;
        c->cap = cap;
        c->used = 0;
        /* A chunk made for one big object goes behind the current one so
         * the current one's free space stays in use. */
        if (need > ARENA_CHUNK && a->head != NULL) {
            c->next = a->head->next;
            a->head->next = c;
        } else {
            c->next = a->head;
            a->head = c;
        }
    }
    void *p = c->data + c->used;
    c->used += need;
    return p;
}

void *kv_arena_dup(kv_arena *a, const void *p, size_t n)
{
    void *q = kv_arena_alloc(a, n);
    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

char *kv_arena_strndup(kv_arena *a, const char *s, size_t n)
{
    char *q = kv_arena_alloc(a, n + 1);
    if (q != NULL) {
        memcpy(q, s, n);
        q[n] = '\0';
    }
    return q;
}

char *kv_arena_strdup(kv_arena *a, const char *s)
{
    return kv_arena_strndup(a, s, strlen(s));
}

int kv__key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n == 0 ? 0 : memcmp(a, b, n);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

bool kv_range_contains(const kv_range_desc *desc, const void *key, size_t klen)
{
    if (kv__key_cmp(key, klen, desc->start_key, desc->start_len) < 0)
        return false;
    return desc->end_len == 0 || kv__key_cmp(key, klen, desc->end_key, desc->end_len) < 0;
}

int kv_request_init(kv_request *r)
{
    memset(r, 0, sizeof(*r));
    return kv_arena_create(&r->arena);
}

/* Copies a byte string into the arena; a NULL source stays NULL. */
static int dup_bytes(kv_arena *a, const uint8_t **p, size_t n)
{
    if (*p == NULL)
        return 0;
    *p = kv_arena_dup(a, *p, n);
    return *p == NULL ? KV_ENOMEM : 0;
}

static int dup_span(kv_arena *a, kv_span *s)
{
    int rc = dup_bytes(a, &s->key, s->key_len);
    return rc != 0 ? rc : dup_bytes(a, &s->end_key, s->end_len);
}

int kv_request_set_txn(kv_request *r, const kv_txn *txn)
{
    kv_txn *t = kv_arena_dup(r->arena, txn, sizeof(*txn));
    if (t == NULL || dup_bytes(r->arena, &t->anchor_key, t->anchor_len) != 0)
        return KV_ENOMEM;
    r->h.txn = t;
    return 0;
}

static bool span_valid(const kv_span *s)
{
    if (s->key == NULL && s->key_len != 0)
        return false;
    return s->end_key == NULL || kv__key_cmp(s->key, s->key_len, s->end_key, s->end_len) < 0;
}

/* Deep-copies the method-specific byte strings of `q`. */
static int dup_args(kv_arena *a, kv_req *q)
{
    switch (q->method) {
    case KV_PUT:
        return dup_bytes(a, &q->u.put.value, q->u.put.value_len);
    case KV_CPUT:
        if (dup_bytes(a, &q->u.cput.value, q->u.cput.value_len) != 0)
            return KV_ENOMEM;
        return dup_bytes(a, &q->u.cput.exp, q->u.cput.exp_len);
    case KV_END_TXN: {
        size_t n = q->u.end_txn.n_lock_spans;
        kv_span *spans = kv_arena_alloc(a, n * sizeof(*spans));
        if (spans == NULL)
            return KV_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            spans[i] = q->u.end_txn.lock_spans[i];
            if (!span_valid(&spans[i]))
                return KV_EINVAL;
            if (dup_span(a, &spans[i]) != 0)
                return KV_ENOMEM;
        }
        q->u.end_txn.lock_spans = spans;
        return 0;
    }
    default:
        return 0;
    }
}

int kv_request_add(kv_request *r, const kv_req *q)
{
    if ((unsigned)q->method >= KV_METHOD_COUNT || !span_valid(&q->span))
        return KV_EINVAL;
    bool ranged =
        q->method == KV_SCAN || q->method == KV_REVERSE_SCAN || q->method == KV_DELETE_RANGE;
    if (ranged && q->span.end_key == NULL)
        return KV_EINVAL;
    if (r->n == r->cap) {
        size_t cap = r->cap == 0 ? 8 : 2 * r->cap;
        kv_req *reqs = kv_arena_alloc(r->arena, cap * sizeof(*reqs));
        if (reqs == NULL)
            return KV_ENOMEM;
        if (r->n > 0)
            memcpy(reqs, r->reqs, r->n * sizeof(*reqs));
        r->reqs = reqs;
        r->cap = cap;
    }
    kv_req *slot = &r->reqs[r->n];
    *slot = *q;
    int rc = dup_span(r->arena, &slot->span);
    if (rc == 0)
        rc = dup_args(r->arena, slot);
    if (rc == 0)
        r->n++;
    return rc;
}

void kv_request_free(kv_request *r)
{
    kv_arena_destroy(r->arena);
    memset(r, 0, sizeof(*r));
}

int kv_response_init(kv_response *r)
{
    memset(r, 0, sizeof(*r));
    return kv_arena_create(&r->arena);
}

void kv_response_free(kv_response *r)
{
    kv_arena_destroy(r->arena);
    memset(r, 0, sizeof(*r));
}

bool kv_err_retryable(int code)
{
    switch (code) {
    case KV_ETXNRETRY:
    case KV_ETXNABORTED:
    /* Nothing was applied: no leaseholder could be reached, or the node
     * stopped before proposing. */
    case KV_EUNAVAILABLE:
    case KV_ENOTLEASEHOLDER:
    case KV_ERANGENOTFOUND:
    case KV_EUNREACHABLE:
    case KV_ESTOPPED:
        return true;
    default:
        return false;
    }
}

bool kv_err_ambiguous(int code)
{
    return code == KV_EAMBIGUOUS;
}
