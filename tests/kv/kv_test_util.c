/*
 * kv_test_util.c - temp store directories for the kv suites.
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv_error.h"
#include "kv_test_util.h"

void kv_test_mkdtemp(char *path)
{
    snprintf(path, KV_TEST_PATH_MAX, "/tmp/kvtest-XXXXXX");
    cr_assert_not_null(mkdtemp(path), "mkdtemp failed");
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

void kv_test_rmrf(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

kv_engine *kv_test_open(char *dir)
{
    char err[256] = "";
    kv_engine *e = NULL;
    kv_test_mkdtemp(dir);
    int rc = kv_engine_open(dir, NULL, &e, err, sizeof(err));
    cr_assert_eq(rc, 0, "open %s: %s (%s)", dir, kv_strerror(rc), err);
    return e;
}
