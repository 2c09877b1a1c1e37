/*
 * util.c - error names, the bump arena and the PRNG of raft/.
 *
 * The arena backs everything a ready bundle points to and the data of
 * unstable entries: it is reset wholesale (at raft_advance) and keeps its
 * chunks, so a node in steady state does not allocate per proposal.
 */
#include <stdlib.h>

#include "raft/raft_int.h"

const char *raft_strerror(int rc)
{
    switch (rc) {
    case 0:
        return "success";
#define RAFT__ERRNO_STR(name, code, msg) \
    case code:                           \
        return msg;
        RAFT_ERRNO_MAP(RAFT__ERRNO_STR)
#undef RAFT__ERRNO_STR
    default:
        return "unknown raft error";
    }
}

struct raft__chunk {
    raft__chunk_t *next;
    size_t used, cap;
    _Alignas(16) unsigned char mem[];
};

#define RAFT__CHUNK_SIZE (64 * 1024)

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

/* Returns size bytes (16-aligned) valid until the next reset or free; NULL
 * when out of memory. */
void *raft__arena_alloc(raft__arena_t *a, size_t size)
{
    size = align16(size ? size : 1);
    for (raft__chunk_t *c = a->cur; c; c = c->next) {
        if (c->cap - c->used >= size) {
            void *p = c->mem + c->used;
            c->used += size;
            a->cur = c;
            return p;
        }
    }
    size_t cap = size > RAFT__CHUNK_SIZE ? size : RAFT__CHUNK_SIZE;
    raft__chunk_t *c = malloc(sizeof(*c) + cap);
    if (!c) {
        return NULL;
    }
    c->cap = cap;
    c->used = size;
    /* Insert after cur so that chunks later in the list stay unused. */
    if (a->cur) {
        c->next = a->cur->next;
        a->cur->next = c;
    } else {
        c->next = a->head;
        a->head = c;
    }
    a->cur = c;
    return c->mem;
}

/* Keeps the standard chunks for reuse; oversized ones (a large snapshot)
 * are returned so that one big message does not pin memory forever. */
void raft__arena_reset(raft__arena_t *a)
{
    for (raft__chunk_t **p = &a->head; *p;) {
        raft__chunk_t *c = *p;
        if (c->cap > RAFT__CHUNK_SIZE) {
            *p = c->next;
            free(c);
            continue;
        }
        c->used = 0;
        p = &c->next;
    }
    a->cur = a->head;
}

void raft__arena_free(raft__arena_t *a)
{
    raft__chunk_t *c = a->head;
    while (c) {
        raft__chunk_t *next = c->next;
        free(c);
        c = next;
    }
    a->head = a->cur = NULL;
}

/* On success *arr may have moved; on failure it is untouched. */
int raft__grow(void **arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) {
        return 0;
    }
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        ncap *= 2;
    }
    void *p = realloc(*arr, ncap * size);
    if (!p) {
        return RAFT_ENOMEM;
    }
    *arr = p;
    *cap = ncap;
    return 0;
}

/* splitmix64: tiny, seedable, good enough for election jitter. */
uint64_t raft__rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
