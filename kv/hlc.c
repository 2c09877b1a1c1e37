/*
 * hlc.c - hybrid logical clock (Kulkarni et al., "Logical Physical Clocks",
 * 2014), guarded by one mutex.
 *
 * Logical overflow: the counter is an int32. When a tick would overflow it,
 * the wall component advances by 1 ns and the counter restarts at 0, which
 * keeps timestamps strictly increasing at the price of the wall component
 * running a nanosecond ahead of the physical clock; it catches up as soon as
 * the physical clock passes it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "kv/hlc.h"
#include "kv/kv_error.h"

struct kv_hlc {
    pthread_mutex_t mu;
    kv_hlc_clock_fn clock;
    void *arg;
    int64_t max_offset;
    kv_ts last; /* guarded by mu */
};

int64_t kv_hlc_wall_clock(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int kv_hlc_create(kv_hlc_clock_fn clock, void *arg, int64_t max_offset_ns, kv_hlc **out)
{
    if (clock == NULL || max_offset_ns < 0)
        return KV_EINVAL;
    kv_hlc *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return KV_ENOMEM;
    pthread_mutex_init(&c->mu, NULL);
    c->clock = clock;
    c->arg = arg;
    c->max_offset = max_offset_ns ? max_offset_ns : KV_HLC_DEFAULT_MAX_OFFSET_NS;
    *out = c;
    return 0;
}

void kv_hlc_destroy(kv_hlc *c)
{
    if (c == NULL)
        return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

int64_t kv_hlc_max_offset(const kv_hlc *c)
{
    return c->max_offset;
}

/* The smallest timestamp after t. */
static kv_ts hlc_tick(kv_ts t)
{
    if (t.logical == INT32_MAX)
        return (kv_ts){t.wall + 1, 0};
    return (kv_ts){t.wall, t.logical + 1};
}

/* Advances c->last past `floor` and the physical clock. Caller holds mu. */
static kv_ts hlc_advance(kv_hlc *c, kv_ts floor, int64_t phys)
{
    kv_ts base = kv_ts_cmp(floor, c->last) > 0 ? floor : c->last;
    c->last = phys > base.wall ? (kv_ts){phys, 0} : hlc_tick(base);
    return c->last;
}

kv_ts kv_hlc_now(kv_hlc *c)
{
    int64_t phys = c->clock(c->arg);
    pthread_mutex_lock(&c->mu);
    kv_ts t = hlc_advance(c, c->last, phys);
    pthread_mutex_unlock(&c->mu);
    return t;
}

int kv_hlc_update(kv_hlc *c, kv_ts remote, kv_ts *out)
{
    int64_t phys = c->clock(c->arg);
    if (remote.wall > phys && remote.wall - phys > c->max_offset)
        return KV_ECLOCKOFFSET;
    pthread_mutex_lock(&c->mu);
    kv_ts t = hlc_advance(c, remote, phys);
    pthread_mutex_unlock(&c->mu);
    if (out != NULL)
        *out = t;
    return 0;
}
