/*
 * txn.c - sql_txn over the KV transaction coordinator, and the mapping of
 * KV error codes onto SQLSTATEs (txn.h has the table).
 *
 * The coordinator already refreshes reads and retries what it can; what
 * reaches this file is final for the statement. The mapping lives here
 * alone so that the executor, the catalog and the session word the same
 * KV failure the same way.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "sql/txn.h"

struct sql_txn {
    kv_txn_coord *coord;
    atomic_int *cancel; /* borrowed; NULL: never canceled */
    bool finished;      /* committed or rolled back */
    /* the epoch's: reset by sql_txn_restart */
    bool did_ddl;
    bool has_catalog_version;
    uint64_t catalog_version;
    uint8_t *commit_put; /* malloc'd: key then value; NULL: none */
    size_t commit_klen, commit_vlen;
};

int sql_error_from_kv(sql_error *err, kv_arena *arena, int code, const char *msg)
{
    assert(code < 0);
    if (msg == NULL || msg[0] == '\0')
        msg = kv_strerror(code);
    if (kv_err_retryable(code)) {
        sql_error_set(err, arena, SQL_STATE_SERIALIZATION_FAILURE, "restart transaction: %s", msg);
        sql_error_hint(err, arena, "The transaction may be retried.");
        return -1;
    }
    if (kv_err_ambiguous(code))
        return sql_error_set(err, arena, SQL_STATE_STATEMENT_COMPLETION_UNKNOWN,
                             "result is ambiguous: %s", msg);
    if (code == KV_ENOMEM)
        return sql_error_set(err, arena, SQL_STATE_OUT_OF_MEMORY, "out of memory");
    return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "%s", msg);
}

int sql_txn_check_cancel(atomic_int *cancel, sql_error *err, kv_arena *arena)
{
    if (cancel == NULL)
        return 0;
    switch ((sql_cancel_reason)atomic_load(cancel)) {
    case SQL_CANCEL_NONE:
        return 0;
    case SQL_CANCEL_REQUEST:
        return sql_error_set(err, arena, SQL_STATE_QUERY_CANCELED,
                             "canceling statement due to user request");
    case SQL_CANCEL_TIMEOUT:
        return sql_error_set(err, arena, SQL_STATE_QUERY_CANCELED,
                             "canceling statement due to statement timeout");
    case SQL_CANCEL_SHUTDOWN:
        sql_error_set(err, arena, SQL_STATE_ADMIN_SHUTDOWN,
                      "terminating connection due to administrator command");
        /* PostgreSQL ends the session with this one: it is FATAL. */
        err->severity = SQL_SEV_FATAL;
        return -1;
    }
    return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "unknown cancel reason %d",
                         atomic_load(cancel));
}

int sql_txn_begin(kv_store *s, kv_txn_hb *hb, atomic_int *cancel, sql_txn **out, sql_error *err,
                  kv_arena *arena)
{
    sql_txn *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return sql_error_from_kv(err, arena, KV_ENOMEM, NULL);
    int rc = kv_txn_coord_begin(s, hb, 0, &t->coord);
    if (rc != 0) {
        free(t);
        return sql_error_from_kv(err, arena, rc, NULL);
    }
    t->cancel = cancel;
    *out = t;
    return 0;
}

int sql_txn_send(sql_txn *t, kv_request *req, kv_response *resp, sql_error *err, kv_arena *arena)
{
    assert(!t->finished);
    if (sql_txn_check_cancel(t->cancel, err, arena) != 0)
        return -1;
    int rc = kv_txn_coord_send(t->coord, req, resp);
    if (rc != 0)
        return sql_error_from_kv(err, arena, rc, resp->msg);
    return 0;
}

/* Appends the registered commit Put to `req`, or makes `*local` a request
 * of it alone (freed by the caller) and points `*req` there. */
static int add_commit_put(sql_txn *t, kv_request **req, kv_request *local)
{
    if (t->commit_put == NULL)
        return 0;
    kv_req q = {.method = KV_PUT, .span = {t->commit_put, t->commit_klen, NULL, 0}};
    q.u.put.value = t->commit_put + t->commit_klen;
    q.u.put.value_len = t->commit_vlen;
    if (*req == NULL) {
        if (kv_request_init(local) != 0)
            return KV_ENOMEM;
        *req = local;
    }
    return kv_request_add(*req, &q);
}

/* Commit with the caller's response, or a local one when the caller has
 * nothing to read back (req == NULL). */
int sql_txn_commit(sql_txn *t, kv_request *req, kv_response *resp, sql_error *err, kv_arena *arena)
{
    assert(!t->finished);
    assert(resp != NULL || req == NULL);
    if (sql_txn_check_cancel(t->cancel, err, arena) != 0)
        return -1;
    kv_response local;
    kv_response *r = resp;
    if (r == NULL) {
        if (kv_response_init(&local) != 0)
            return sql_error_from_kv(err, arena, KV_ENOMEM, NULL);
        r = &local;
    }
    kv_request own = {0};
    int rc = add_commit_put(t, &req, &own);
    if (rc == 0)
        rc = kv_txn_coord_commit(t->coord, req, r);
    if (rc == 0)
        t->finished = true;
    else
        sql_error_from_kv(err, arena, rc, r->msg);
    if (req == &own)
        kv_request_free(&own);
    if (r == &local)
        kv_response_free(&local);
    return rc == 0 ? 0 : -1;
}

void sql_txn_rollback(sql_txn *t)
{
    if (t->finished)
        return;
    /* The coordinator finishes the transaction even when the abort fails;
     * leftover intents are pushed away by whoever meets them. */
    (void)kv_txn_coord_rollback(t->coord, NULL, 0);
    t->finished = true;
}

int sql_txn_restart(sql_txn *t, sql_error *err, kv_arena *arena)
{
    int rc = kv_txn_coord_restart(t->coord);
    if (rc != 0)
        return sql_error_from_kv(err, arena, rc, NULL);
    /* The new epoch reads at a new timestamp and has dropped the old read
     * spans: a version read before is no longer protected, and the
     * increment computed from it may be stale. */
    t->did_ddl = false;
    t->has_catalog_version = false;
    free(t->commit_put);
    t->commit_put = NULL;
    return 0;
}

void sql_txn_destroy(sql_txn *t)
{
    if (t == NULL)
        return;
    kv_txn_coord_destroy(t->coord);
    free(t->commit_put);
    free(t);
}

kv_ts sql_txn_read_ts(const sql_txn *t)
{
    return kv_txn_coord_txn(t->coord)->read_ts;
}

void sql_txn_mark_ddl(sql_txn *t)
{
    t->did_ddl = true;
}

bool sql_txn_did_ddl(const sql_txn *t)
{
    return t->did_ddl;
}

bool sql_txn_catalog_version(const sql_txn *t, uint64_t *out)
{
    if (t->has_catalog_version)
        *out = t->catalog_version;
    return t->has_catalog_version;
}

void sql_txn_set_catalog_version(sql_txn *t, uint64_t v)
{
    t->catalog_version = v;
    t->has_catalog_version = true;
}

int sql_txn_put_at_commit(sql_txn *t, const uint8_t *key, size_t klen, const uint8_t *val,
                          size_t vlen, sql_error *err, kv_arena *arena)
{
    uint8_t *p = malloc(klen + vlen);
    if (p == NULL)
        return sql_error_from_kv(err, arena, KV_ENOMEM, NULL);
    memcpy(p, key, klen);
    memcpy(p + klen, val, vlen);
    free(t->commit_put);
    t->commit_put = p;
    t->commit_klen = klen;
    t->commit_vlen = vlen;
    return 0;
}

int sql_kv_send(kv_store *s, const kv_request *req, kv_response *resp, sql_error *err,
                kv_arena *arena)
{
    assert(req->h.txn == NULL);
    int rc = kv_store_send(s, req, resp);
    if (rc != 0)
        return sql_error_from_kv(err, arena, rc, resp->msg);
    return 0;
}
