/*
 * net_int.h - helpers shared by the modules of the net library; not for
 * other libraries.
 */
#ifndef NET_NET_INT_H
#define NET_NET_INT_H

#include <stdarg.h>
#include <stdint.h>

/* Formats one log line (at most 511 bytes) and hands it to log(ctx, line);
 * a NULL log is silent. The line is valid during the call only. */
void net__logv(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt, va_list ap);

/* Big-endian integers, the byte order of every net/ format. */
static inline void net__put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline uint32_t net__get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void net__put_be64(uint8_t *p, uint64_t v)
{
    net__put_be32(p, (uint32_t)(v >> 32));
    net__put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t net__get_be64(const uint8_t *p)
{
    return (uint64_t)net__get_be32(p) << 32 | net__get_be32(p + 4);
}

#endif /* NET_NET_INT_H */
