/*
 * store_test_util.c - see store_test_util.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "store_test_util.h"

int64_t st_clock_ns = 1000000000;

static int64_t fake_clock(void *arg)
{
    (void)arg;
    return __atomic_load_n(&st_clock_ns, __ATOMIC_RELAXED);
}

static kv_store *open_at(const char *dir)
{
    kv_store_options o = {.engine = {.create_if_missing = true},
                          .clock = fake_clock,
                          .no_sync = true,
                          .node_id = 1,
                          .store_id = 1};
    kv_store *s = NULL;
    char err[256] = "";
    int rc = kv_store_open(dir, &o, &s, err, sizeof(err));
    cr_assert_eq(rc, 0, "open: %s (%s)", kv_strerror(rc), err);
    return s;
}

kv_store *st_open(char *dir, const char *const *splits)
{
    kv_test_mkdtemp(dir);
    kv_store *s = open_at(dir);
    const uint8_t *keys[16];
    size_t lens[16], n = 0;
    for (; splits != NULL && splits[n] != NULL; n++) {
        keys[n] = (const uint8_t *)splits[n];
        lens[n] = strlen(splits[n]);
    }
    char err[256] = "";
    int rc = kv_store_bootstrap(s, keys, lens, n, err, sizeof(err));
    cr_assert_eq(rc, 0, "bootstrap: %s (%s)", kv_strerror(rc), err);
    return s;
}

char st_dir[KV_TEST_PATH_MAX];
kv_store *st_store;

void st_setup(void)
{
    static const char *const splits[] = {"c", "f", NULL};
    st_store = st_open(st_dir, splits);
}

void st_teardown(void)
{
    kv_store_close(st_store);
    kv_test_rmrf(st_dir);
}

int st_coord_get(kv_txn_coord *c, const char *key, bool *found)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    cr_assert_eq(kv_response_init(&resp), 0);
    st_get(&req, key);
    int rc = kv_txn_coord_send(c, &req, &resp);
    if (found != NULL)
        *found = rc == 0 && resp.resps[0].found;
    kv_response_free(&resp);
    kv_request_free(&req);
    return rc;
}

kv_store *st_reopen(kv_store *s, const char *dir)
{
    kv_store_close(s);
    return open_at(dir);
}

static kv_span key_span(const char *k)
{
    return (kv_span){(const uint8_t *)k, strlen(k), NULL, 0};
}

static void add(kv_request *r, const kv_req *q)
{
    int rc = kv_request_add(r, q);
    cr_assert_eq(rc, 0, "kv_request_add: %s", kv_strerror(rc));
}

void st_get(kv_request *r, const char *key)
{
    add(r, &(kv_req){.method = KV_GET, .span = key_span(key)});
}

void st_put(kv_request *r, const char *key, const char *val)
{
    kv_req q = {.method = KV_PUT, .span = key_span(key)};
    q.u.put.value = (const uint8_t *)val;
    q.u.put.value_len = strlen(val);
    add(r, &q);
}

void st_del(kv_request *r, const char *key)
{
    add(r, &(kv_req){.method = KV_DELETE, .span = key_span(key)});
}

void st_scan(kv_request *r, kv_method m, const char *start, const char *end, size_t max_rows,
             size_t max_bytes)
{
    kv_req q = {.method = m,
                .span = {(const uint8_t *)start, strlen(start), (const uint8_t *)end, strlen(end)}};
    q.u.scan.max_rows = max_rows;
    q.u.scan.max_bytes = max_bytes;
    add(r, &q);
}

void st_end(kv_request *r, bool commit, const kv_span *locks, size_t n)
{
    kv_req q = {.method = KV_END_TXN};
    q.u.end_txn.commit = commit;
    q.u.end_txn.lock_spans = locks;
    q.u.end_txn.n_lock_spans = n;
    add(r, &q);
}

int st_send(kv_store *s, kv_request *req, kv_response *resp)
{
    cr_assert_eq(kv_response_init(resp), 0);
    int rc = kv_store_send(s, req, resp);
    cr_assert_eq(rc, resp->err);
    kv_request_free(req);
    return rc;
}

int st_put1(kv_store *s, const char *key, const char *val)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    st_put(&req, key, val);
    int rc = st_send(s, &req, &resp);
    kv_response_free(&resp);
    return rc;
}

const char *st_get1(kv_store *s, const char *key, char *buf, int *rcp)
{
    kv_request req;
    kv_response resp;
    cr_assert_eq(kv_request_init(&req), 0);
    st_get(&req, key);
    int rc = st_send(s, &req, &resp);
    if (rcp != NULL)
        *rcp = rc;
    const char *out = NULL;
    if (rc == 0 && resp.resps[0].found) {
        snprintf(buf, 64, "%.*s", (int)resp.resps[0].row.value_len,
                 (const char *)resp.resps[0].row.value);
        out = buf;
    }
    kv_response_free(&resp);
    return out;
}

kv_txn st_txn(uint8_t id, kv_ts ts)
{
    kv_txn t = {.meta = {.id = {id}, .epoch = 1}, .read_ts = ts, .write_ts = ts};
    return t;
}

bool st_has_prefix(kv_store *s, kv_cf cf, const void *prefix, size_t len)
{
    kv_iter *it;
    int rc = kv_iter_open(kv_store_engine(s), NULL, cf, NULL, 0, NULL, 0, &it, NULL, 0);
    cr_assert_eq(rc, 0);
    kv_iter_seek_ge(it, prefix, len);
    bool found = false;
    if (kv_iter_valid(it)) {
        size_t klen;
        const char *k = kv_iter_key(it, &klen);
        found = klen >= len && memcmp(k, prefix, len) == 0;
    }
    kv_iter_close(it);
    return found;
}
