/*
 * tcp.h - what every libuv listener of the node shares: parsing a
 * HOST:PORT flag and binding a listening uv_tcp_t.
 */
#ifndef NET_TCP_H
#define NET_TCP_H

#include <stddef.h>
#include <uv.h>

#include "net/net_error.h"

/* Splits "HOST:PORT" ("[::1]:26257" for IPv6) into host (written to
 * `host`, NUL-terminated) and port 0..65535. NET_EADDR when malformed or
 * the host does not fit `cap`. */
int net_parse_hostport(const char *s, char *host, size_t cap, int *port);

/* Binds the initialised handle `h` to numeric host:port and listens with
 * `cb`; *bound is the port actually bound (port 0 picks a free one). On
 * failure the handle stays initialised (the caller closes it) and `err`
 * says why: NET_EADDR (not a numeric address), NET_ESYSTEM. */
int net_tcp_listen(uv_tcp_t *h, const char *host, int port, int backlog, uv_connection_cb cb,
                   int *bound, char *err, size_t errlen);

#endif /* NET_TCP_H */
