/*
 * scram.h - SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL speaks it.
 *
 * The server side checks a client against a stored verifier in
 * PostgreSQL's format; the client side exists so tests and tools can log
 * in. Channel binding is not offered (gs2 flag 'n' or 'y', never 'p'), the
 * user name inside the SCRAM messages is ignored (the startup packet's user
 * counts), as in PostgreSQL. All cryptography is OpenSSL's libcrypto.
 *
 * Verifier (one line, as in pg_authid.rolpassword):
 *   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
 *
 * Messages are written into caller buffers: functions taking `char *out,
 * size_t cap` return the length written (NUL-terminated, cap must leave
 * room) or NET_EINVAL when it does not fit.
 */
#ifndef NET_SCRAM_H
#define NET_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#include "net/net_error.h"

#define NET_SCRAM_MECHANISM  "SCRAM-SHA-256"
#define NET_SCRAM_ITERATIONS 4096 /* PostgreSQL's scram_iterations default */
#define NET_SCRAM_MAX_MSG    512  /* enough for any message we produce */

/* Writes the verifier of `password` with `salt` (NULL: 16 random bytes)
 * and `iterations` into out. Length, NET_EINVAL, NET_ECRYPTO. */
int net_scram_verifier(const char *password, const uint8_t *salt, size_t saltlen, int iterations,
                       char *out, size_t cap);

/* 0 when `password` matches `verifier`, NET_EAUTH when not, NET_EINVAL when
 * the verifier is malformed, NET_ECRYPTO. Used for cleartext passwords. */
int net_scram_check_password(const char *verifier, const char *password);

typedef struct net_scram_server net_scram_server;

/* A server exchange against `verifier`; NULL (unknown role or no password)
 * runs a mock exchange with a random salt that always ends in NET_EAUTH, so
 * a client cannot probe which roles exist. `nonce` fixes the server nonce
 * (printable, no ','; tests only), NULL draws 18 random bytes. Freed by
 * net_scram_server_destroy(). NET_ENOMEM, NET_EINVAL (bad verifier),
 * NET_ECRYPTO. */
int net_scram_server_create(const char *verifier, const char *nonce, net_scram_server **out);
void net_scram_server_destroy(net_scram_server *s);
/* client-first-message -> server-first-message. Length, NET_EPROTO
 * (malformed or channel binding requested), NET_ENOMEM, NET_EINVAL. */
int net_scram_server_first(net_scram_server *s, const uint8_t *in, size_t len, char *out,
                           size_t cap);
/* client-final-message -> server-final-message. Length, NET_EAUTH (wrong
 * proof: the password is wrong), NET_EPROTO (malformed, nonce or channel
 * binding mismatch), NET_ECRYPTO. */
int net_scram_server_final(net_scram_server *s, const uint8_t *in, size_t len, char *out,
                           size_t cap);

typedef struct net_scram_client net_scram_client;

/* A client exchange for `password` (copied); `nonce` as for the server.
 * Freed by net_scram_client_destroy(). NET_ENOMEM, NET_ECRYPTO. */
int net_scram_client_create(const char *password, const char *nonce, net_scram_client **out);
void net_scram_client_destroy(net_scram_client *c);
/* "n,,n=,r=<nonce>". Length or NET_EINVAL. */
int net_scram_client_first(net_scram_client *c, char *out, size_t cap);
/* server-first-message -> client-final-message. Length, NET_EPROTO,
 * NET_ECRYPTO, NET_ENOMEM. */
int net_scram_client_final(net_scram_client *c, const uint8_t *in, size_t len, char *out,
                           size_t cap);
/* 0 when the server-final-message proves the server knew the verifier,
 * NET_EAUTH when not, NET_EPROTO when malformed. */
int net_scram_client_verify(net_scram_client *c, const uint8_t *in, size_t len);

#endif /* NET_SCRAM_H */
