/*
 * net_error.c - net_strerror() over the one NET_ERRNO_MAP table.
 */
#include <stdio.h>

#include "net/net_error.h"
#include "net/net_int.h"

static const char *const net_err_strings[] = {
#define NET__X(name, str) str,
    NET_ERRNO_MAP(NET__X)
#undef NET__X
};

const char *net_strerror(int code)
{
    if (code == 0)
        return "success";
    if (code >= 0 || -code > NET__IDX_COUNT)
        return "unknown net error";
    return net_err_strings[-code - 1];
}

void net__logv(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt, va_list ap)
{
    if (log == NULL)
        return;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    log(ctx, line);
}
