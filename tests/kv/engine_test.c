/*
 * engine_test.c - the storage engine: column families, batches, reads,
 * iterators, snapshots, range deletion, checkpoints, batch bytes, and every
 * bad-input path of opening a store.
 */
#include <criterion/criterion.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kv/engine.h"
#include "kv/kv_error.h"
#include "kv/local_keys.h"
#include "kv_test_util.h"

static char dir[KV_TEST_PATH_MAX];
static kv_engine *eng;
static kv_batch *batch;
static kv_buf val;
static char err[512];

static void setup(void)
{
    eng = kv_test_open(dir);
    cr_assert_eq(kv_batch_create(&batch), 0);
}

static void teardown(void)
{
    kv_buf_free(&val);
    kv_batch_destroy(batch);
    kv_engine_close(eng);
    kv_test_rmrf(dir);
}

TestSuite(engine, .init = setup, .fini = teardown);

static void put(kv_cf cf, const char *k, const char *v)
{
    cr_assert_eq(kv_batch_put(batch, eng, cf, k, strlen(k), v, strlen(v)), 0);
}

static void commit(bool sync)
{
    int rc = kv_engine_write(eng, batch, sync, err, sizeof(err));
    cr_assert_eq(rc, 0, "write: %s", err);
    kv_batch_clear(batch);
}

static void expect_get(const kv_snapshot *snap, kv_cf cf, const char *k, const char *want)
{
    int rc = kv_engine_get(eng, snap, cf, k, strlen(k), &val, err, sizeof(err));
    if (want == NULL) {
        cr_assert_eq(rc, KV_ENOTFOUND, "get %s: %s", k, kv_err_name(rc));
        return;
    }
    cr_assert_eq(rc, 0, "get %s: %s %s", k, kv_err_name(rc), err);
    cr_assert_eq(val.len, strlen(want));
    if (val.len > 0)
        cr_assert_arr_eq(val.data, want, val.len);
}

Test(engine, column_families_are_separate)
{
    put(KV_CF_LOCAL, "k", "local");
    put(KV_CF_MVCC, "k", "mvcc");
    cr_assert_eq(kv_batch_count(batch), 2);
    commit(true);
    expect_get(NULL, KV_CF_LOCAL, "k", "local");
    expect_get(NULL, KV_CF_MVCC, "k", "mvcc");
    expect_get(NULL, KV_CF_MVCC, "absent", NULL);
}

Test(engine, data_survives_reopen)
{
    put(KV_CF_LOCAL, "durable", "yes");
    commit(true);
    kv_engine_close(eng);
    kv_engine_options o = {.create_if_missing = false};
    cr_assert_eq(kv_engine_open(dir, &o, &eng, err, sizeof(err)), 0, "%s", err);
    expect_get(NULL, KV_CF_LOCAL, "durable", "yes");
    cr_assert_str_eq(kv_engine_dir(eng), dir);
}

Test(engine, batch_is_atomic_and_deletes)
{
    put(KV_CF_MVCC, "a", "1");
    put(KV_CF_MVCC, "b", "2");
    commit(false);
    cr_assert_eq(kv_batch_delete(batch, eng, KV_CF_MVCC, "a", 1), 0);
    put(KV_CF_MVCC, "c", "3");
    expect_get(NULL, KV_CF_MVCC, "c", NULL); /* not before commit */
    commit(false);
    expect_get(NULL, KV_CF_MVCC, "a", NULL);
    expect_get(NULL, KV_CF_MVCC, "b", "2");
    expect_get(NULL, KV_CF_MVCC, "c", "3");
}

Test(engine, range_deletion_is_half_open)
{
    const char *keys[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        put(KV_CF_LOCAL, keys[i], "v");
    commit(false);
    cr_assert_eq(kv_batch_delete_range(batch, eng, KV_CF_LOCAL, "b", 1, "d", 1), 0);
    commit(false);
    expect_get(NULL, KV_CF_LOCAL, "a", "v");
    expect_get(NULL, KV_CF_LOCAL, "b", NULL);
    expect_get(NULL, KV_CF_LOCAL, "c", NULL);
    expect_get(NULL, KV_CF_LOCAL, "d", "v");
}

static void expect_key(kv_iter *it, const char *want)
{
    if (want == NULL) {
        cr_assert_not(kv_iter_valid(it), "iterator should be exhausted");
        cr_assert_eq(kv_iter_status(it, err, sizeof(err)), 0);
        return;
    }
    cr_assert(kv_iter_valid(it), "expected %s", want);
    size_t klen;
    const char *k = kv_iter_key(it, &klen);
    cr_assert_eq(klen, strlen(want));
    cr_assert_arr_eq(k, want, klen);
}

Test(engine, bounded_iterators_both_directions)
{
    const char *keys[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++)
        put(KV_CF_MVCC, keys[i], keys[i]);
    put(KV_CF_LOCAL, "bb", "other family");
    commit(false);
    kv_iter *it;
    cr_assert_eq(kv_iter_open(eng, NULL, KV_CF_MVCC, "b", 1, "e", 1, &it, err, sizeof(err)), 0);
    kv_iter_seek_first(it);
    expect_key(it, "b");
    size_t vlen;
    cr_assert_arr_eq(kv_iter_value(it, &vlen), "b", 1);
    kv_iter_next(it);
    expect_key(it, "c");
    kv_iter_next(it);
    expect_key(it, "d");
    kv_iter_next(it);
    expect_key(it, NULL);
    kv_iter_seek_last(it);
    expect_key(it, "d");
    kv_iter_prev(it);
    expect_key(it, "c");
    kv_iter_seek_le(it, "cc", 2);
    expect_key(it, "c");
    kv_iter_seek_ge(it, "bb", 2);
    expect_key(it, "c");
    kv_iter_seek_ge(it, "z", 1);
    expect_key(it, NULL);
    kv_iter_close(it);
    cr_assert_eq(kv_iter_open(eng, NULL, KV_CF_MVCC, NULL, 0, NULL, 0, &it, err, sizeof(err)), 0);
    kv_iter_seek_last(it);
    expect_key(it, "e");
    kv_iter_close(it);
}

Test(engine, snapshot_is_consistent)
{
    put(KV_CF_MVCC, "k", "old");
    commit(false);
    kv_snapshot *snap;
    cr_assert_eq(kv_snapshot_open(eng, &snap), 0);
    put(KV_CF_MVCC, "k", "new");
    put(KV_CF_MVCC, "k2", "new");
    commit(false);
    expect_get(snap, KV_CF_MVCC, "k", "old");
    expect_get(snap, KV_CF_MVCC, "k2", NULL);
    expect_get(NULL, KV_CF_MVCC, "k", "new");
    kv_iter *it;
    cr_assert_eq(kv_iter_open(eng, snap, KV_CF_MVCC, NULL, 0, NULL, 0, &it, err, sizeof(err)), 0);
    kv_iter_seek_first(it);
    expect_key(it, "k");
    kv_iter_next(it);
    expect_key(it, NULL);
    kv_iter_close(it);
    kv_snapshot_close(snap);
}

Test(engine, checkpoint_opens_as_a_store)
{
    put(KV_CF_LOCAL, "desc", "range 1");
    commit(false);
    char cp[KV_TEST_PATH_MAX + 16];
    snprintf(cp, sizeof(cp), "%s/cp", dir);
    cr_assert_eq(kv_engine_checkpoint(eng, cp, err, sizeof(err)), 0, "%s", err);
    put(KV_CF_LOCAL, "desc", "changed after");
    commit(false);
    /* The target must not exist yet. */
    int rc = kv_engine_checkpoint(eng, cp, err, sizeof(err));
    cr_assert_lt(rc, 0);
    cr_assert_neq(err[0], '\0');
    kv_engine *copy;
    cr_assert_eq(kv_engine_open(cp, NULL, &copy, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(kv_engine_get(copy, NULL, KV_CF_LOCAL, "desc", 4, &val, err, sizeof(err)), 0);
    cr_assert_arr_eq(val.data, "range 1", 7);
    kv_engine_close(copy);
}

Test(engine, batch_bytes_replay_on_another_store)
{
    put(KV_CF_MVCC, "x", "1");
    put(KV_CF_LOCAL, "y", "2");
    cr_assert_eq(kv_batch_delete_range(batch, eng, KV_CF_LOCAL, "a", 1, "b", 1), 0);
    cr_assert_eq(kv_batch_delete(batch, eng, KV_CF_MVCC, "z", 1), 0);
    size_t len;
    const char *data = kv_batch_data(batch, &len);
    char dir2[KV_TEST_PATH_MAX];
    kv_engine *other = kv_test_open(dir2);
    kv_batch *copy;
    cr_assert_eq(kv_batch_from_data(other, data, len, &copy, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(kv_batch_count(copy), 4);
    cr_assert_eq(kv_engine_write(other, copy, false, err, sizeof(err)), 0);
    cr_assert_eq(kv_engine_get(other, NULL, KV_CF_MVCC, "x", 1, &val, err, sizeof(err)), 0);
    cr_assert_eq(kv_engine_get(other, NULL, KV_CF_LOCAL, "y", 1, &val, err, sizeof(err)), 0);
    kv_batch_destroy(copy);
    kv_engine_close(other);
    kv_test_rmrf(dir2);
}

Test(engine, flush_keeps_data_readable)
{
    put(KV_CF_MVCC, "f", "flushed");
    commit(false);
    cr_assert_eq(kv_engine_flush(eng, err, sizeof(err)), 0, "%s", err);
    expect_get(NULL, KV_CF_MVCC, "f", "flushed");
}

static int cmp_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c != 0 ? c : (al > bl) - (al < bl);
}

Test(engine, local_keys_group_ranges_and_order_the_log)
{
    uint8_t a[KV_LOCAL_KEY_MAX], b[KV_LOCAL_KEY_MAX];
    /* Order: range 7's applied, descriptor, hard state, log 1, 2, 256, then range 8. */
    const struct {
        uint64_t range;
        enum kv_local_kind kind;
        uint64_t index;
    } seq[] = {{7, KV_LOCAL_APPLIED_STATE, 0}, {7, KV_LOCAL_DESCRIPTOR, 0},
               {7, KV_LOCAL_HARD_STATE, 0},    {7, KV_LOCAL_RAFT_LOG, 1},
               {7, KV_LOCAL_RAFT_LOG, 2},      {7, KV_LOCAL_RAFT_LOG, 256},
               {8, KV_LOCAL_APPLIED_STATE, 0}};
    size_t n = sizeof(seq) / sizeof(seq[0]);
    for (size_t i = 0; i + 1 < n; i++) {
        size_t al = kv_local_key(a, seq[i].range, seq[i].kind, seq[i].index);
        size_t bl = kv_local_key(b, seq[i + 1].range, seq[i + 1].kind, seq[i + 1].index);
        cr_assert_lt(cmp_bytes(a, al, b, bl), 0, "pair %zu", i);
        uint64_t range, index;
        enum kv_local_kind kind;
        cr_assert_eq(kv_local_key_decode(a, al, &range, &kind, &index), 0);
        cr_assert_eq(range, seq[i].range);
        cr_assert_eq(kind, seq[i].kind);
        cr_assert_eq(index, seq[i].index);
    }
    /* Removing a replica is one range deletion that spares its neighbours. */
    for (size_t i = 0; i < n; i++) {
        size_t al = kv_local_key(a, seq[i].range, seq[i].kind, seq[i].index);
        cr_assert_eq(kv_batch_put(batch, eng, KV_CF_LOCAL, a, al, "x", 1), 0);
    }
    size_t al = kv_local_key(a, 7, KV_LOCAL_APPLIED_STATE, 0);
    size_t bl = kv_local_range_end(b, 7);
    cr_assert_eq(kv_batch_delete_range(batch, eng, KV_CF_LOCAL, a, al, b, bl), 0);
    commit(false);
    kv_iter *it;
    cr_assert_eq(kv_iter_open(eng, NULL, KV_CF_LOCAL, NULL, 0, NULL, 0, &it, err, sizeof(err)), 0);
    kv_iter_seek_first(it);
    cr_assert(kv_iter_valid(it));
    size_t klen;
    uint64_t range, index;
    enum kv_local_kind kind;
    const uint8_t *k = (const uint8_t *)kv_iter_key(it, &klen);
    cr_assert_eq(kv_local_key_decode(k, klen, &range, &kind, &index), 0);
    cr_assert_eq(range, 8);
    kv_iter_next(it);
    cr_assert_not(kv_iter_valid(it));
    kv_iter_close(it);
}

Test(engine, bad_local_keys_are_corrupt)
{
    uint8_t k[KV_LOCAL_KEY_MAX];
    size_t len = kv_local_key(k, 1, KV_LOCAL_RAFT_LOG, 5);
    uint64_t range, index;
    enum kv_local_kind kind;
    cr_assert_eq(kv_local_key_decode(k, len - 1, &range, &kind, &index), KV_ECORRUPT);
    cr_assert_eq(kv_local_key_decode(k, 9, &range, &kind, &index), KV_ECORRUPT);
    k[9] = 'z';
    cr_assert_eq(kv_local_key_decode(k, len, &range, &kind, &index), KV_ECORRUPT);
    len = kv_local_key(k, 1, KV_LOCAL_HARD_STATE, 0);
    k[0] = KV_LOCAL_STORE_MARKER;
    cr_assert_eq(kv_local_key_decode(k, len, &range, &kind, &index), KV_ECORRUPT);
}

/* ---- bad input ---- */

static void expect_bad_batch(const void *data, size_t len, int want)
{
    kv_batch *b = NULL;
    err[0] = '\0';
    int rc = kv_batch_from_data(eng, data, len, &b, err, sizeof(err));
    cr_assert_eq(rc, want, "got %s (%s)", kv_err_name(rc), err);
    cr_assert_null(b);
    cr_assert_neq(err[0], '\0', "no message");
}

Test(engine, corrupt_batch_bytes_are_rejected)
{
    put(KV_CF_MVCC, "key", "value");
    size_t len;
    const char *good = kv_batch_data(batch, &len);
    char bad[64];
    cr_assert_lt(len, sizeof(bad));
    expect_bad_batch(good, 5, KV_ECORRUPT);       /* shorter than the header */
    expect_bad_batch(good, len - 2, KV_ECORRUPT); /* truncated value */
    memcpy(bad, good, len);
    bad[8] = 2; /* header claims two records */
    expect_bad_batch(bad, len, KV_ECORRUPT);
    memcpy(bad, good, len);
    bad[12] = 0x7f; /* unknown record type */
    expect_bad_batch(bad, len, KV_ECORRUPT);
    memcpy(bad, good, len);
    bad[13] = 42; /* column family id the store does not have */
    expect_bad_batch(bad, len, KV_EBADCF);
}

Test(engine, unknown_column_family_is_rejected)
{
    kv_cf bogus = (kv_cf)7;
    cr_assert_eq(kv_batch_put(batch, eng, bogus, "k", 1, "v", 1), KV_EBADCF);
    cr_assert_eq(kv_batch_delete(batch, eng, (kv_cf)-1, "k", 1), KV_EBADCF);
    cr_assert_eq(kv_batch_delete_range(batch, eng, KV_CF_COUNT, "a", 1, "b", 1), KV_EBADCF);
    cr_assert_eq(kv_engine_get(eng, NULL, bogus, "k", 1, &val, err, sizeof(err)), KV_EBADCF);
    cr_assert_neq(strstr(err, "column family"), NULL);
    kv_iter *it;
    cr_assert_eq(kv_iter_open(eng, NULL, bogus, NULL, 0, NULL, 0, &it, err, sizeof(err)),
                 KV_EBADCF);
    cr_assert_eq(kv_batch_count(batch), 0);
}

/* A store written by something else, with a column family kv does not
 * know, must be refused rather than silently half-opened. */
Test(engine, store_with_foreign_column_family_is_refused)
{
    char other[KV_TEST_PATH_MAX + 16];
    snprintf(other, sizeof(other), "%s/foreign", dir);
    rocksdb_options_t *o = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(o, 1);
    char *errptr = NULL;
    rocksdb_t *db = rocksdb_open(o, other, &errptr);
    cr_assert_null(errptr, "%s", errptr);
    rocksdb_column_family_handle_t *h = rocksdb_create_column_family(db, o, "foreign", &errptr);
    cr_assert_null(errptr, "%s", errptr);
    rocksdb_column_family_handle_destroy(h);
    rocksdb_close(db);
    rocksdb_options_destroy(o);
    kv_engine *e = NULL;
    int rc = kv_engine_open(other, NULL, &e, err, sizeof(err));
    cr_assert_eq(rc, KV_EBADCF, "got %s: %s", kv_err_name(rc), err);
    cr_assert_null(e);
    cr_assert_neq(strstr(err, "foreign"), NULL, "message: %s", err);
}

static void expect_open_fails(const char *path, const kv_engine_options *o, int want)
{
    kv_engine *e = NULL;
    err[0] = '\0';
    int rc = kv_engine_open(path, o, &e, err, sizeof(err));
    cr_assert_eq(rc, want, "open %s: got %s (%s)", path, kv_err_name(rc), err);
    cr_assert_null(e);
    cr_assert_neq(err[0], '\0', "no message for %s", path);
}

Test(engine, path_that_is_a_file_is_not_a_directory)
{
    char file[KV_TEST_PATH_MAX + 32], under[KV_TEST_PATH_MAX + 64];
    snprintf(file, sizeof(file), "%s/plain-file", dir);
    FILE *f = fopen(file, "w");
    cr_assert_not_null(f);
    fclose(f);
    expect_open_fails(file, NULL, KV_ENOTDIR);
    snprintf(under, sizeof(under), "%s/store", file);
    expect_open_fails(under, NULL, KV_ENOTDIR);
}

Test(engine, missing_store_without_create_and_empty_path)
{
    char missing[KV_TEST_PATH_MAX + 32];
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    kv_engine_options o = {.create_if_missing = false};
    expect_open_fails(missing, &o, KV_EINVAL);
    expect_open_fails("", NULL, KV_EINVAL);
    char parentless[KV_TEST_PATH_MAX + 32];
    snprintf(parentless, sizeof(parentless), "%s/no/such/parent", dir);
    expect_open_fails(parentless, NULL, KV_EINVAL);
}

Test(engine, error_if_exists)
{
    kv_engine_close(eng);
    eng = NULL;
    kv_engine_options o = {.create_if_missing = true, .error_if_exists = true};
    expect_open_fails(dir, &o, KV_EINVAL);
}

Test(engine, unwritable_store_path)
{
    char path[KV_TEST_PATH_MAX + 32];
    if (geteuid() == 0) {
        /* root ignores permission bits; sysfs refuses directories to all. */
        snprintf(path, sizeof(path), "/sys/tardigrade-store");
    } else {
        snprintf(path, sizeof(path), "%s/ro", dir);
        cr_assert_eq(mkdir(path, 0555), 0);
    }
    expect_open_fails(path, NULL, KV_EACCES);
}

Test(engine, second_open_in_same_process_is_locked)
{
    expect_open_fails(dir, NULL, KV_ELOCKED);
}

Test(engine, store_locked_by_another_process)
{
    kv_engine_close(eng);
    eng = NULL;
    int ready[2], done[2];
    cr_assert_eq(pipe(ready), 0);
    cr_assert_eq(pipe(done), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        kv_engine *e;
        char c = kv_engine_open(dir, NULL, &e, NULL, 0) == 0 ? 'y' : 'n';
        (void)!write(ready[1], &c, 1);
        (void)!read(done[0], &c, 1);
        _exit(0);
    }
    char c = 0;
    cr_assert_eq(read(ready[0], &c, 1), 1);
    cr_assert_eq(c, 'y', "child could not open the store");
    expect_open_fails(dir, NULL, KV_ELOCKED);
    cr_assert_neq(strstr(err, "LOCK"), NULL, "message: %s", err);
    cr_assert_eq(write(done[1], "x", 1), 1);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    /* Once the holder exits, the store opens again. */
    cr_assert_eq(kv_engine_open(dir, NULL, &eng, err, sizeof(err)), 0, "%s", err);
}

Test(engine, every_error_code_has_a_name_and_text)
{
    for (int code = -1; code >= -KV__IDX_COUNT; code--) {
        cr_assert_str_neq(kv_strerror(code), "unknown kv error");
        cr_assert_eq(strncmp(kv_err_name(code), "KV_E", 4), 0);
        for (int other = code + 1; other < 0; other++)
            cr_assert_str_neq(kv_strerror(code), kv_strerror(other));
    }
    cr_assert_str_eq(kv_strerror(0), "success");
    cr_assert_str_eq(kv_strerror(-KV__IDX_COUNT - 1), "unknown kv error");
    cr_assert_str_eq(kv_err_name(KV_EWRITEINTENT), "KV_EWRITEINTENT");
}
