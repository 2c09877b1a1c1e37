/*
 * pq_client.h - client-side helpers the server suites share: raw sockets
 * for what libpq will not send or show (startup SQLSTATEs, garbage), and
 * libpq conveniences that assert with Criterion.
 */
#ifndef TESTS_NET_PQ_CLIENT_H
#define TESTS_NET_PQ_CLIENT_H

#include <libpq-fe.h>
#include <stddef.h>

/* A TCP connection to 127.0.0.1:port (asserts it connects); the caller
 * closes it. */
int pq_raw_connect(int port);
/* Everything the peer sends until it closes, NUL-terminated in buf
 * (at most cap - 1 bytes). */
size_t pq_read_all(int fd, char *buf, size_t cap);
/* The result's SQLSTATE, "(none)" without one; borrowed from `r`. */
const char *pq_sqlstate(const PGresult *r);
/* Runs `sql` and asserts the result status. */
void pq_exec_expect(PGconn *c, const char *sql, ExecStatusType want);
/* Cancels the statement running on `c` until its result comes: a cancel
 * that arrives before the statement started is lost (as in PostgreSQL),
 * so it is repeated. Returns the result (the caller clears it); later
 * results are drained. */
PGresult *pq_cancel_until_done(PGconn *c);

#endif /* TESTS_NET_PQ_CLIENT_H */
