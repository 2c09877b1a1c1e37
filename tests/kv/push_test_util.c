/*
 * push_test_util.c - see push_test_util.h.
 */
#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "kv/hlc.h"
#include "kv/store_int.h"
#include "push_test_util.h"
#include "store_test_util.h"

kv_store *pt_store;

kv_txn pt_begin(uint8_t id, int32_t prio)
{
    kv_txn t = st_txn(id, kv_hlc_now(kv_store_clock(pt_store)));
    t.priority = prio;
    return t;
}

static kv_request new_req(void)
{
    kv_request r;
    cr_assert_eq(kv_request_init(&r), 0);
    return r;
}

/* Sends `r` in *t and takes the response's transaction (keeping t's own
 * anchor string). The caller frees resp. */
static int send_in(kv_txn *t, kv_request *r, kv_response *resp)
{
    cr_assert_eq(kv_request_set_txn(r, t), 0);
    int rc = st_send(pt_store, r, resp);
    if (resp->has_txn) {
        const uint8_t *anchor = t->anchor_key;
        size_t alen = t->anchor_len;
        *t = resp->txn;
        t->anchor_key = anchor;
        t->anchor_len = alen;
    }
    return rc;
}

static void set_anchor(kv_txn *t, const char *key)
{
    if (t->anchor_key == NULL) {
        t->anchor_key = (const uint8_t *)key;
        t->anchor_len = strlen(key);
    }
}

int pt_put(kv_txn *t, const char *key, const char *val)
{
    set_anchor(t, key);
    kv_request r = new_req();
    kv_response resp;
    st_put(&r, key, val);
    int rc = send_in(t, &r, &resp);
    kv_response_free(&resp);
    return rc;
}

int pt_get(kv_txn *t, const char *key, bool *found, char value[64])
{
    kv_request r = new_req();
    kv_response resp;
    st_get(&r, key);
    int rc = t != NULL ? send_in(t, &r, &resp) : st_send(pt_store, &r, &resp);
    *found = rc == 0 && resp.resps[0].found;
    if (*found && value != NULL)
        snprintf(value, 64, "%.*s", (int)resp.resps[0].row.value_len,
                 (const char *)resp.resps[0].row.value);
    kv_response_free(&resp);
    return rc;
}

int pt_get_nowait(const char *key)
{
    kv_request r = new_req();
    kv_response resp;
    r.h.no_wait = true;
    st_get(&r, key);
    int rc = st_send(pt_store, &r, &resp);
    kv_response_free(&resp);
    return rc;
}

int pt_put_nowait(const char *key, const char *val)
{
    kv_request r = new_req();
    kv_response resp;
    r.h.no_wait = true;
    st_put(&r, key, val);
    int rc = st_send(pt_store, &r, &resp);
    kv_response_free(&resp);
    return rc;
}

static int end_into(kv_txn *t, bool commit, const char *const *keys, size_t n, kv_response *resp)
{
    kv_span locks[8];
    cr_assert(n <= 8);
    for (size_t i = 0; i < n; i++)
        locks[i] = (kv_span){(const uint8_t *)keys[i], strlen(keys[i]), NULL, 0};
    kv_request r = new_req();
    st_end(&r, commit, locks, n);
    return send_in(t, &r, resp);
}

int pt_end_keys(kv_txn *t, bool commit, const char *const *keys, size_t n)
{
    kv_response resp;
    int rc = end_into(t, commit, keys, n, &resp);
    kv_response_free(&resp);
    return rc;
}

int pt_end(kv_txn *t, bool commit, const char *key)
{
    return pt_end_keys(t, commit, &key, 1);
}

int pt_end_resp(kv_txn *t, bool commit, const char *key, kv_response *resp)
{
    return end_into(t, commit, &key, 1, resp);
}

/* Sends a record request about t into *rec; returns the error code. */
static int record_req(const kv_txn *t, kv_method m, bool *found, kv_txn *rec)
{
    kv_request r = new_req();
    kv_response resp;
    kv_req q = {.method = m, .span = {t->anchor_key, t->anchor_len, NULL, 0}};
    q.u.query.txn = t->meta;
    cr_assert_eq(kv_request_add(&r, &q), 0);
    if (m == KV_HEARTBEAT_TXN)
        cr_assert_eq(kv_request_set_txn(&r, t), 0);
    int rc = st_send(pt_store, &r, &resp);
    if (rc == 0) {
        *found = resp.resps[0].found;
        *rec = resp.resps[0].txn;
        rec->anchor_key = NULL;
    }
    kv_response_free(&resp);
    return rc;
}

bool pt_query(const kv_txn *t, kv_txn *rec)
{
    bool found = false;
    cr_assert_eq(record_req(t, KV_QUERY_TXN, &found, rec), 0);
    return found;
}

int pt_heartbeat(const kv_txn *t, kv_txn *rec)
{
    bool found;
    return record_req(t, KV_HEARTBEAT_TXN, &found, rec);
}

/* The intent on `key` straight from MVCC, or a zero timestamp. */
kv_ts pt_intent_ts(const char *key)
{
    kv_buf val = {0};
    kv_mvcc_conflict c = {0};
    kv_mvcc_read_opts ro = {.ts = {INT64_MAX, 0}};
    int rc = kv_mvcc_get(kv_store_engine(pt_store), NULL, &ro, key, strlen(key), &val, NULL, &c,
                         NULL, 0);
    kv_buf_free(&val);
    kv_buf_free(&c.key);
    kv_buf_free(&c.anchor);
    return rc == KV_EWRITEINTENT ? c.intent.ts : (kv_ts){0, 0};
}

bool pt_has_intent(const char *key)
{
    return !kv_ts_is_zero(pt_intent_ts(key));
}

void pt_wait_for_waiters(kv_store *s, size_t n)
{
    while (kv__txn_wait_count(s->waits) < n)
        sched_yield();
}

static void *bg_run(void *arg)
{
    pt_bg *b = arg;
    if (b->val == NULL) {
        b->rc = pt_get(b->txn, b->key, &b->found, b->value);
    } else if (b->txn == NULL) {
        kv_request r = new_req();
        kv_response resp;
        st_put(&r, b->key, b->val);
        b->rc = st_send(pt_store, &r, &resp);
        kv_response_free(&resp);
    } else {
        b->rc = pt_put(b->txn, b->key, b->val);
        const char *keys[] = {b->key, (const char *)b->txn->anchor_key};
        /* It read nothing, so a refresh to a pushed write ts succeeds. */
        b->txn->read_ts = b->txn->write_ts;
        if (b->rc == 0 && b->commit)
            b->rc = pt_end_keys(b->txn, true, keys, 2);
    }
    return NULL;
}

static void bg_start(pt_bg *b, kv_txn *t, const char *key, const char *val, bool commit)
{
    *b = (pt_bg){.txn = t, .key = key, .val = val, .commit = commit};
    cr_assert_eq(pthread_create(&b->thread, NULL, bg_run, b), 0);
}

void pt_bg_get(pt_bg *b, const char *key)
{
    bg_start(b, NULL, key, NULL, false);
}

void pt_bg_put(pt_bg *b, const char *key, const char *val)
{
    bg_start(b, NULL, key, val, false);
}

void pt_bg_txn_put(pt_bg *b, kv_txn *t, const char *key)
{
    bg_start(b, t, key, "v", true);
}

int pt_bg_join(pt_bg *b)
{
    pthread_join(b->thread, NULL);
    return b->rc;
}
