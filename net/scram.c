/*
 * scram.c - SCRAM-SHA-256 server and client (scram.h) over libcrypto.
 *
 * RFC 5802 section 3 in the notation used below:
 *   SaltedPassword  = PBKDF2-HMAC-SHA-256(password, salt, i)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")
 *   StoredKey       = H(ClientKey)
 *   ServerKey       = HMAC(SaltedPassword, "Server Key")
 *   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
 *   ClientSignature = HMAC(StoredKey, AuthMessage)
 *   ClientProof     = ClientKey XOR ClientSignature
 *   ServerSignature = HMAC(ServerKey, AuthMessage)
 * The server recovers ClientKey = ClientProof XOR ClientSignature and
 * accepts when H(ClientKey) equals StoredKey.
 *
 * Messages are at most NET_SCRAM_MAX_MSG bytes and are copied into
 * NUL-terminated stack buffers before parsing, so no parse step can run
 * past its input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "net/scram.h"

#define KEY_LEN   32 /* SHA-256 output */
#define SALT_MAX  64 /* bytes; PostgreSQL uses 16 */
#define NONCE_RAW 18 /* bytes of randomness in a nonce, as PostgreSQL */
#define AUTH_MAX  (3 * NET_SCRAM_MAX_MSG + 8)

typedef struct keys {
    int iterations;
    uint8_t salt[SALT_MAX];
    size_t saltlen;
    uint8_t stored_key[KEY_LEN];
    uint8_t server_key[KEY_LEN];
} keys;

struct net_scram_server {
    keys k;
    int mock;    /* no verifier: the exchange must fail */
    int state;   /* 0 before first, 1 after first, 2 done */
    char gs2[4]; /* "n,," or "y,,": what the c= attribute must encode */
    char nonce[NET_SCRAM_MAX_MSG];
    char auth[AUTH_MAX];
};

struct net_scram_client {
    char *password;
    char nonce[NET_SCRAM_MAX_MSG];
    char auth[AUTH_MAX];
    uint8_t server_signature[KEY_LEN];
};

/* ---- primitives ------------------------------------------------------ */

/* Base64 of [in, in+n) into out; length or NET_EINVAL if it does not fit. */
static int b64_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
    if (4 * ((n + 2) / 3) + 1 > cap)
        return NET_EINVAL;
    return EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decodes [in, in+n) (padded base64) into out; length or NET_EPROTO. */
static int b64_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
    uint8_t tmp[NET_SCRAM_MAX_MSG];
    if (n == 0 || n % 4 != 0 || n / 4 * 3 > sizeof(tmp))
        return NET_EPROTO;
    int len = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)n);
    if (len < 0)
        return NET_EPROTO;
    /* EVP_DecodeBlock counts the padding as zero bytes. */
    len -= (in[n - 1] == '=') + (in[n - 2] == '=');
    if ((size_t)len > cap)
        return NET_EPROTO;
    memcpy(out, tmp, (size_t)len);
    return len;
}

static int hmac(const uint8_t *key, size_t keylen, const void *msg, size_t len, uint8_t *out)
{
    unsigned int outlen = KEY_LEN;
    if (HMAC(EVP_sha256(), key, (int)keylen, msg, len, out, &outlen) == NULL)
        return NET_ECRYPTO;
    return 0;
}

static int sha256(const uint8_t *in, size_t n, uint8_t *out)
{
    return EVP_Digest(in, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : NET_ECRYPTO;
}

/* Fills k's keys from the password and k's salt and iterations. ClientKey
 * goes to client_key when non-NULL. */
static int derive_keys(keys *k, const char *password, uint8_t *client_key)
{
    uint8_t salted[KEY_LEN], ck[KEY_LEN];
    int rc = NET_ECRYPTO;
    if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), k->salt, (int)k->saltlen, k->iterations,
                          EVP_sha256(), KEY_LEN, salted) != 1)
        goto out_wipe;
    if ((rc = hmac(salted, KEY_LEN, "Client Key", 10, ck)) < 0 ||
        (rc = sha256(ck, KEY_LEN, k->stored_key)) < 0 ||
        (rc = hmac(salted, KEY_LEN, "Server Key", 10, k->server_key)) < 0)
        goto out_wipe;
    if (client_key != NULL)
        memcpy(client_key, ck, KEY_LEN);
out_wipe:
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(ck, sizeof(ck));
    return rc;
}

/* A printable random nonce (base64 never contains ','). */
static int random_nonce(char *out, size_t cap)
{
    uint8_t raw[NONCE_RAW];
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        return NET_ECRYPTO;
    return b64_encode(raw, sizeof(raw), out, cap);
}

/* Copies a message into a NUL-terminated buffer of NET_SCRAM_MAX_MSG;
 * NET_EPROTO when too long or when it holds a NUL byte. */
static int copy_msg(const uint8_t *in, size_t len, char *buf)
{
    if (len >= NET_SCRAM_MAX_MSG || memchr(in, 0, len) != NULL)
        return NET_EPROTO;
    memcpy(buf, in, len);
    buf[len] = '\0';
    return 0;
}

/* If *p starts with "<name>=", returns the value, NUL-terminates it at the
 * next ',' and moves *p past that ','. NULL otherwise. */
static char *take_attr(char **p, char name)
{
    char *s = *p;
    if (s == NULL || s[0] != name || s[1] != '=')
        return NULL;
    char *comma = strchr(s, ',');
    if (comma != NULL)
        *comma = '\0';
    *p = comma != NULL ? comma + 1 : NULL;
    return s + 2;
}

/* Appends "," and `part` to the AuthMessage being assembled in `auth`
 * (AUTH_MAX bytes); NET_EPROTO when it would not fit. */
static int auth_append(char *auth, const char *part)
{
    size_t used = strlen(auth), n = strlen(part);
    if (used + 1 + n + 1 > AUTH_MAX)
        return NET_EPROTO;
    auth[used] = ',';
    memcpy(auth + used + 1, part, n + 1);
    return 0;
}

/* ---- verifiers ------------------------------------------------------- */

static int parse_verifier(const char *v, keys *k)
{
    char buf[NET_SCRAM_MAX_MSG];
    static const char prefix[] = NET_SCRAM_MECHANISM "$";
    if (strncmp(v, prefix, sizeof(prefix) - 1) != 0 ||
        copy_msg((const uint8_t *)v, strlen(v), buf) < 0)
        return NET_EINVAL;
    char *iter = buf + sizeof(prefix) - 1;
    char *salt = strchr(iter, ':');
    char *stored = salt ? strchr(salt, '$') : NULL;
    char *server = stored ? strchr(stored, ':') : NULL;
    if (server == NULL)
        return NET_EINVAL;
    *salt++ = *stored++ = *server++ = '\0';
    char *end;
    long it = strtol(iter, &end, 10);
    if (*end != '\0' || it <= 0 || it > 100000000)
        return NET_EINVAL;
    k->iterations = (int)it;
    int n = b64_decode(salt, strlen(salt), k->salt, sizeof(k->salt));
    if (n <= 0 || b64_decode(stored, strlen(stored), k->stored_key, KEY_LEN) != KEY_LEN ||
        b64_decode(server, strlen(server), k->server_key, KEY_LEN) != KEY_LEN)
        return NET_EINVAL;
    k->saltlen = (size_t)n;
    return 0;
}

int net_scram_verifier(const char *password, const uint8_t *salt, size_t saltlen, int iterations,
                       char *out, size_t cap)
{
    keys k = {.iterations = iterations, .saltlen = salt ? saltlen : 16};
    if (iterations <= 0 || k.saltlen == 0 || k.saltlen > SALT_MAX)
        return NET_EINVAL;
    if (salt != NULL)
        memcpy(k.salt, salt, saltlen);
    else if (RAND_bytes(k.salt, (int)k.saltlen) != 1)
        return NET_ECRYPTO;
    int rc = derive_keys(&k, password, NULL);
    if (rc < 0)
        return rc;
    char s64[SALT_MAX * 2], st64[64], sv64[64];
    b64_encode(k.salt, k.saltlen, s64, sizeof(s64));
    b64_encode(k.stored_key, KEY_LEN, st64, sizeof(st64));
    b64_encode(k.server_key, KEY_LEN, sv64, sizeof(sv64));
    int n = snprintf(out, cap, NET_SCRAM_MECHANISM "$%d:%s$%s:%s", iterations, s64, st64, sv64);
    return n < 0 || (size_t)n >= cap ? NET_EINVAL : n;
}

int net_scram_check_password(const char *verifier, const char *password)
{
    keys stored, computed;
    int rc = parse_verifier(verifier, &stored);
    if (rc < 0)
        return rc;
    computed = stored;
    if ((rc = derive_keys(&computed, password, NULL)) < 0)
        return rc;
    return CRYPTO_memcmp(computed.stored_key, stored.stored_key, KEY_LEN) == 0 ? 0 : NET_EAUTH;
}

/* ---- server ---------------------------------------------------------- */

int net_scram_server_create(const char *verifier, const char *nonce, net_scram_server **out)
{
    net_scram_server *s = calloc(1, sizeof(*s));
    int rc = NET_ENOMEM;
    if (s == NULL)
        return rc;
    if (verifier != NULL) {
        rc = parse_verifier(verifier, &s->k);
    } else {
        /* Mock: random salt and keys nobody can match. */
        s->mock = 1;
        s->k.iterations = NET_SCRAM_ITERATIONS;
        s->k.saltlen = 16;
        rc = RAND_bytes(s->k.salt, 16) == 1 ? 0 : NET_ECRYPTO;
    }
    if (rc < 0)
        goto out_free;
    if (nonce != NULL)
        rc = snprintf(s->nonce, sizeof(s->nonce), "%s", nonce) < (int)sizeof(s->nonce) ? 0
                                                                                       : NET_EINVAL;
    else
        rc = random_nonce(s->nonce, sizeof(s->nonce));
    if (rc < 0)
        goto out_free;
    *out = s;
    return 0;
out_free:
    free(s);
    return rc;
}

void net_scram_server_destroy(net_scram_server *s)
{
    if (s != NULL)
        OPENSSL_cleanse(s, sizeof(*s));
    free(s);
}

int net_scram_server_first(net_scram_server *s, const uint8_t *in, size_t len, char *out,
                           size_t cap)
{
    char buf[NET_SCRAM_MAX_MSG];
    if (s->state != 0)
        return NET_EINVAL;
    if (copy_msg(in, len, buf) < 0)
        return NET_EPROTO;
    /* gs2-header: cbind-flag "," [authzid] ","; only 'n' and 'y' without
     * an authorization identity, as PostgreSQL. */
    if ((buf[0] != 'n' && buf[0] != 'y') || buf[1] != ',' || buf[2] != ',')
        return NET_EPROTO;
    memcpy(s->gs2, buf, 3);
    char *bare = buf + 3;
    snprintf(s->auth, sizeof(s->auth), "%s", bare);
    char *p = bare;
    char *client_nonce = take_attr(&p, 'n') ? take_attr(&p, 'r') : NULL;
    if (client_nonce == NULL || *client_nonce == '\0')
        return NET_EPROTO;
    char combined[NET_SCRAM_MAX_MSG];
    if (snprintf(combined, sizeof(combined), "%s%s", client_nonce, s->nonce) >=
        (int)sizeof(combined))
        return NET_EPROTO;
    memcpy(s->nonce, combined, sizeof(combined));
    char salt64[SALT_MAX * 2];
    b64_encode(s->k.salt, s->k.saltlen, salt64, sizeof(salt64));
    int n = snprintf(out, cap, "r=%s,s=%s,i=%d", s->nonce, salt64, s->k.iterations);
    if (n < 0 || (size_t)n >= cap)
        return NET_EINVAL;
    if (auth_append(s->auth, out) < 0)
        return NET_EPROTO;
    s->state = 1;
    return n;
}

/* Checks c= and r= of a client-final-message and extends the AuthMessage;
 * *proof64 is set to the p= value. */
static int server_check_final(net_scram_server *s, char *buf, char **proof64)
{
    char *p_attr = strstr(buf, ",p=");
    if (p_attr == NULL)
        return NET_EPROTO;
    *p_attr = '\0';
    *proof64 = p_attr + 3;
    if (auth_append(s->auth, buf) < 0)
        return NET_EPROTO;
    char *p = buf;
    char *cb = take_attr(&p, 'c');
    char *nonce = take_attr(&p, 'r');
    uint8_t gs2[NET_SCRAM_MAX_MSG];
    if (cb == NULL || nonce == NULL)
        return NET_EPROTO;
    int n = b64_decode(cb, strlen(cb), gs2, sizeof(gs2));
    if (n != 3 || memcmp(gs2, s->gs2, 3) != 0 || strcmp(nonce, s->nonce) != 0)
        return NET_EPROTO;
    return 0;
}

int net_scram_server_final(net_scram_server *s, const uint8_t *in, size_t len, char *out,
                           size_t cap)
{
    char buf[NET_SCRAM_MAX_MSG], *proof64;
    uint8_t proof[KEY_LEN], sig[KEY_LEN], key_hash[KEY_LEN];
    if (s->state != 1)
        return NET_EINVAL;
    s->state = 2;
    int rc = copy_msg(in, len, buf);
    if (rc < 0 || (rc = server_check_final(s, buf, &proof64)) < 0)
        return rc;
    if (b64_decode(proof64, strlen(proof64), proof, sizeof(proof)) != KEY_LEN)
        return NET_EPROTO;
    if ((rc = hmac(s->k.stored_key, KEY_LEN, s->auth, strlen(s->auth), sig)) < 0)
        return rc;
    for (int i = 0; i < KEY_LEN; i++)
        proof[i] ^= sig[i]; /* now ClientKey */
    if ((rc = sha256(proof, KEY_LEN, key_hash)) < 0)
        return rc;
    if (s->mock || CRYPTO_memcmp(key_hash, s->k.stored_key, KEY_LEN) != 0)
        return NET_EAUTH;
    if ((rc = hmac(s->k.server_key, KEY_LEN, s->auth, strlen(s->auth), sig)) < 0)
        return rc;
    if (cap < 3)
        return NET_EINVAL;
    memcpy(out, "v=", 2);
    rc = b64_encode(sig, KEY_LEN, out + 2, cap - 2);
    return rc < 0 ? rc : rc + 2;
}

/* ---- client ---------------------------------------------------------- */

int net_scram_client_create(const char *password, const char *nonce, net_scram_client **out)
{
    net_scram_client *c = calloc(1, sizeof(*c));
    int rc = NET_ENOMEM;
    if (c == NULL)
        return rc;
    if ((c->password = strdup(password)) == NULL)
        goto out_free;
    if (nonce != NULL)
        rc = snprintf(c->nonce, sizeof(c->nonce), "%s", nonce) < (int)sizeof(c->nonce) ? 0
                                                                                       : NET_EINVAL;
    else
        rc = random_nonce(c->nonce, sizeof(c->nonce));
    if (rc < 0)
        goto out_free_password;
    *out = c;
    return 0;
out_free_password:
    free(c->password);
out_free:
    free(c);
    return rc;
}

void net_scram_client_destroy(net_scram_client *c)
{
    if (c == NULL)
        return;
    OPENSSL_cleanse(c->password, strlen(c->password));
    free(c->password);
    free(c);
}

int net_scram_client_first(net_scram_client *c, char *out, size_t cap)
{
    int n = snprintf(out, cap, "n,,n=,r=%s", c->nonce);
    if (n < 0 || (size_t)n >= cap)
        return NET_EINVAL;
    snprintf(c->auth, sizeof(c->auth), "%s", out + 3);
    return n;
}

/* Reads r=, s=, i= of a server-first-message into *nonce and k. */
static int client_parse_first(net_scram_client *c, char *buf, char **nonce, keys *k)
{
    char *p = buf;
    *nonce = take_attr(&p, 'r');
    char *salt = take_attr(&p, 's');
    char *iter = take_attr(&p, 'i');
    if (*nonce == NULL || salt == NULL || iter == NULL ||
        strncmp(*nonce, c->nonce, strlen(c->nonce)) != 0)
        return NET_EPROTO;
    char *end;
    long it = strtol(iter, &end, 10);
    int n = b64_decode(salt, strlen(salt), k->salt, sizeof(k->salt));
    if (*end != '\0' || it <= 0 || it > 100000000 || n <= 0)
        return NET_EPROTO;
    k->iterations = (int)it;
    k->saltlen = (size_t)n;
    return 0;
}

int net_scram_client_final(net_scram_client *c, const uint8_t *in, size_t len, char *out,
                           size_t cap)
{
    char buf[NET_SCRAM_MAX_MSG], *nonce, proof64[64];
    uint8_t client_key[KEY_LEN], sig[KEY_LEN];
    keys k = {0};
    int rc = copy_msg(in, len, buf);
    if (rc < 0 || auth_append(c->auth, buf) < 0)
        return NET_EPROTO;
    if ((rc = client_parse_first(c, buf, &nonce, &k)) < 0 ||
        (rc = derive_keys(&k, c->password, client_key)) < 0)
        return rc;
    int n = snprintf(out, cap, "c=biws,r=%s", nonce);
    if (n < 0 || (size_t)n >= cap)
        return NET_EINVAL;
    if (auth_append(c->auth, out) < 0)
        return NET_EPROTO;
    if ((rc = hmac(k.stored_key, KEY_LEN, c->auth, strlen(c->auth), sig)) < 0 ||
        (rc = hmac(k.server_key, KEY_LEN, c->auth, strlen(c->auth), c->server_signature)) < 0)
        return rc;
    for (int i = 0; i < KEY_LEN; i++)
        client_key[i] ^= sig[i]; /* now ClientProof */
    b64_encode(client_key, KEY_LEN, proof64, sizeof(proof64));
    int m = snprintf(out + n, cap - (size_t)n, ",p=%s", proof64);
    return m < 0 || (size_t)m >= cap - (size_t)n ? NET_EINVAL : n + m;
}

int net_scram_client_verify(net_scram_client *c, const uint8_t *in, size_t len)
{
    char buf[NET_SCRAM_MAX_MSG];
    uint8_t sig[KEY_LEN];
    if (copy_msg(in, len, buf) < 0)
        return NET_EPROTO;
    char *p = buf;
    if (buf[0] == 'e' && buf[1] == '=')
        return NET_EAUTH;
    char *v = take_attr(&p, 'v');
    if (v == NULL || b64_decode(v, strlen(v), sig, sizeof(sig)) != KEY_LEN)
        return NET_EPROTO;
    return CRYPTO_memcmp(sig, c->server_signature, KEY_LEN) == 0 ? 0 : NET_EAUTH;
}
