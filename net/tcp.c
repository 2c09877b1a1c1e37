/*
 * tcp.c - HOST:PORT parsing and listening sockets (net/tcp.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp.h"

int net_parse_hostport(const char *s, char *host, size_t cap, int *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || colon[1] == '\0')
        return NET_EADDR;
    const char *h = s;
    size_t hlen = (size_t)(colon - s);
    if (h[0] == '[') {
        if (hlen < 2 || h[hlen - 1] != ']')
            return NET_EADDR;
        h++;
        hlen -= 2;
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end != '\0' || p < 0 || p > 65535 || hlen == 0 || hlen >= cap)
        return NET_EADDR;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (int)p;
    return 0;
}

int net_tcp_listen(uv_tcp_t *h, const char *host, int port, int backlog, uv_connection_cb cb,
                   int *bound, char *err, size_t errlen)
{
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0) {
        snprintf(err, errlen, "invalid address \"%s\": a numeric IPv4 or IPv6 address is needed",
                 host);
        return NET_EADDR;
    }
    int rc = uv_tcp_bind(h, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)h, backlog, cb);
    if (rc != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
        return NET_ESYSTEM;
    }
    int len = sizeof(addr);
    uv_tcp_getsockname(h, (struct sockaddr *)&addr, &len);
    *bound = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                              : ((struct sockaddr_in *)&addr)->sin_port);
    return 0;
}
