/*
 * net_error_test.c - the NET_E* table: every code has its own string and
 * unknown codes are reported as such.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "net/net_error.h"

Test(net_error, every_code_described)
{
    static const int codes[] = {NET_EINVAL, NET_ENOMEM, NET_EPROTO, NET_EAUTH, NET_ECRYPTO};
    cr_assert_str_eq(net_strerror(0), "success");
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        cr_assert_eq(codes[i], -(int)i - 1);
        cr_assert_str_neq(net_strerror(codes[i]), "unknown net error");
    }
    cr_assert_str_eq(net_strerror(NET_EPROTO), "protocol violation");
    cr_assert_str_eq(net_strerror(-1000), "unknown net error");
    cr_assert_str_eq(net_strerror(7), "unknown net error");
}
