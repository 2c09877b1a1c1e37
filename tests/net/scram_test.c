/*
 * scram_test.c - SCRAM-SHA-256: RFC 7677's test vector (user "user",
 * password "pencil") byte for byte on the server side, PostgreSQL's
 * verifier format, a full client/server exchange, and every way the
 * exchange must fail (wrong password, unknown role, channel binding,
 * nonce mismatch, garbage).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/scram.h"

/* RFC 7677 section 3. */
#define RFC_SALT         "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CLIENT_NONCE "rOprNGfwEbeRWgbNEkqO"
#define RFC_SERVER_NONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_CLIENT_FIRST "n,,n=user,r=" RFC_CLIENT_NONCE
#define RFC_SERVER_FIRST "r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",s=" RFC_SALT ",i=4096"
#define RFC_CLIENT_FINAL                                                \
    "c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzbZapWIk4jUhN+" \
    "Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
/* The same keys in pg_authid.rolpassword form. */
#define PENCIL_VERIFIER                                                             \
    "SCRAM-SHA-256$4096:" RFC_SALT "$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:" \
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="

static const uint8_t rfc_salt[] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
                                   0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};

#define STR(s) (const uint8_t *)(s), strlen(s)

Test(scram, verifier_matches_postgresql_format)
{
    char v[NET_SCRAM_MAX_MSG];
    int n = net_scram_verifier("pencil", rfc_salt, sizeof(rfc_salt), 4096, v, sizeof(v));
    cr_assert_eq(n, (int)strlen(PENCIL_VERIFIER));
    cr_assert_str_eq(v, PENCIL_VERIFIER);
}

Test(scram, rfc7677_vector_server_side)
{
    net_scram_server *s;
    char out[NET_SCRAM_MAX_MSG];
    cr_assert_eq(net_scram_server_create(PENCIL_VERIFIER, RFC_SERVER_NONCE, &s), 0);
    int n = net_scram_server_first(s, STR(RFC_CLIENT_FIRST), out, sizeof(out));
    cr_assert_eq(n, (int)strlen(RFC_SERVER_FIRST));
    cr_assert_str_eq(out, RFC_SERVER_FIRST);
    n = net_scram_server_final(s, STR(RFC_CLIENT_FINAL), out, sizeof(out));
    cr_assert_eq(n, (int)strlen(RFC_SERVER_FINAL));
    cr_assert_str_eq(out, RFC_SERVER_FINAL);
    net_scram_server_destroy(s);
}

Test(scram, cleartext_check_against_verifier)
{
    cr_assert_eq(net_scram_check_password(PENCIL_VERIFIER, "pencil"), 0);
    cr_assert_eq(net_scram_check_password(PENCIL_VERIFIER, "pencil2"), NET_EAUTH);
    cr_assert_eq(net_scram_check_password("md5abc", "pencil"), NET_EINVAL);
    cr_assert_eq(net_scram_check_password("SCRAM-SHA-256$4096:" RFC_SALT "$x:y", "p"), NET_EINVAL);
}

/* Runs a whole exchange: client password `pw` against a server holding
 * `verifier`; returns the server's final result, checks the client's
 * verdict on success. */
static int exchange(const char *verifier, const char *pw)
{
    net_scram_client *c;
    net_scram_server *s;
    char a[NET_SCRAM_MAX_MSG], b[NET_SCRAM_MAX_MSG];
    cr_assert_eq(net_scram_client_create(pw, NULL, &c), 0);
    cr_assert_eq(net_scram_server_create(verifier, NULL, &s), 0);
    int n = net_scram_client_first(c, a, sizeof(a));
    cr_assert_gt(n, 0);
    cr_assert_eq(strncmp(a, "n,,n=,r=", 8), 0); /* libpq's shape: empty user name */
    n = net_scram_server_first(s, (uint8_t *)a, (size_t)n, b, sizeof(b));
    cr_assert_gt(n, 0);
    n = net_scram_client_final(c, (uint8_t *)b, (size_t)n, a, sizeof(a));
    cr_assert_gt(n, 0);
    int rc = net_scram_server_final(s, (uint8_t *)a, (size_t)n, b, sizeof(b));
    if (rc > 0)
        cr_assert_eq(net_scram_client_verify(c, (uint8_t *)b, (size_t)rc), 0);
    net_scram_client_destroy(c);
    net_scram_server_destroy(s);
    return rc;
}

Test(scram, full_exchange_with_random_salt_and_nonces)
{
    char v[NET_SCRAM_MAX_MSG];
    cr_assert_gt(net_scram_verifier("s3cret", NULL, 0, NET_SCRAM_ITERATIONS, v, sizeof(v)), 0);
    cr_assert_gt(exchange(v, "s3cret"), 0);
    cr_assert_eq(exchange(v, "wrong"), NET_EAUTH);
}

Test(scram, unknown_role_runs_a_mock_that_fails)
{
    cr_assert_eq(exchange(NULL, "anything"), NET_EAUTH);
}

Test(scram, client_rejects_forged_server_signature)
{
    net_scram_client *c;
    char a[NET_SCRAM_MAX_MSG];
    cr_assert_eq(net_scram_client_create("pencil", RFC_CLIENT_NONCE, &c), 0);
    cr_assert_gt(net_scram_client_first(c, a, sizeof(a)), 0);
    cr_assert_gt(net_scram_client_final(c, STR(RFC_SERVER_FIRST), a, sizeof(a)), 0);
    /* Our client-first carries n= (empty), so the RFC's signature is not ours. */
    cr_assert_eq(net_scram_client_verify(c, STR(RFC_SERVER_FINAL)), NET_EAUTH);
    cr_assert_eq(net_scram_client_verify(c, STR("e=invalid-proof")), NET_EAUTH);
    cr_assert_eq(net_scram_client_verify(c, STR("v=short")), NET_EPROTO);
    net_scram_client_destroy(c);
}

/* A server past a valid client-first message. */
static net_scram_server *started(void)
{
    net_scram_server *s;
    char out[NET_SCRAM_MAX_MSG];
    cr_assert_eq(net_scram_server_create(PENCIL_VERIFIER, RFC_SERVER_NONCE, &s), 0);
    cr_assert_gt(net_scram_server_first(s, STR(RFC_CLIENT_FIRST), out, sizeof(out)), 0);
    return s;
}

Test(scram, malformed_client_first)
{
    static const char *const bad[] = {
        "p=tls-server-end-point,,n=,r=abc", /* channel binding: not offered */
        "n,a=admin,n=,r=abc",               /* authorization identity */
        "n,,r=abc",                         /* no n= */
        "n,,n=,r=",                         /* empty nonce */
        "x",
        "",
    };
    char out[NET_SCRAM_MAX_MSG];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        net_scram_server *s;
        cr_assert_eq(net_scram_server_create(PENCIL_VERIFIER, NULL, &s), 0);
        cr_assert_eq(net_scram_server_first(s, STR(bad[i]), out, sizeof(out)), NET_EPROTO, "%s",
                     bad[i]);
        net_scram_server_destroy(s);
    }
}

Test(scram, malformed_client_final)
{
    static const char *const bad[] = {
        /* nonce not the combined one */
        "c=biws,r=" RFC_CLIENT_NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        /* channel binding data for 'y' while the client said 'n' */
        "c=eSws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE
        ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
        /* no proof */
        "c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE,
        /* proof of the wrong length */
        "c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE ",p=dHzb",
    };
    char out[NET_SCRAM_MAX_MSG];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        net_scram_server *s = started();
        cr_assert_eq(net_scram_server_final(s, STR(bad[i]), out, sizeof(out)), NET_EPROTO, "%s",
                     bad[i]);
        net_scram_server_destroy(s);
    }
}

Test(scram, wrong_proof_is_an_authentication_failure)
{
    net_scram_server *s = started();
    char out[NET_SCRAM_MAX_MSG];
    cr_assert_eq(net_scram_server_final(s,
                                        STR("c=biws,r=" RFC_CLIENT_NONCE RFC_SERVER_NONCE
                                            ",p=AHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                                        out, sizeof(out)),
                 NET_EAUTH);
    net_scram_server_destroy(s);
}

Test(scram, steps_out_of_order_refused)
{
    net_scram_server *s;
    char out[NET_SCRAM_MAX_MSG];
    cr_assert_eq(net_scram_server_create(PENCIL_VERIFIER, NULL, &s), 0);
    cr_assert_eq(net_scram_server_final(s, STR(RFC_CLIENT_FINAL), out, sizeof(out)), NET_EINVAL);
    net_scram_server_destroy(s);
}
