/*
 * catalog.c - databases, tables, sequences and roles in KV system tables,
 * with a per-node descriptor cache (catalog.h has the contract,
 * docs/sql-encoding.md "Catalog" the key layout and byte tables).
 *
 * Cache. A node of the cache is one descriptor (database, table or
 * sequence) in its own arena, reference counted with an atomic: the cache
 * holds one reference, every lookup one more, and the last release frees
 * the arena (which also holds the node). Nodes are linked in two hash
 * chains, by id and by (parent id, name). The mutex guards only the
 * chains, the generation and the version; no KV I/O happens under it.
 *
 * Versions. Every cached node is exactly the committed descriptor at
 * catalog version c->version (docs/sql-encoding.md, "Catalog version").
 * Only a transaction that read that same version through itself fills
 * the cache, with what it read through itself, and only if no
 * invalidation ran meanwhile (same generation): whatever its timestamp,
 * the catalog it sees is the one of its version, since every change of
 * the catalog commits with a new version. A lookup in a transaction
 * first reads the version (view_of, once per epoch): a newer one empties
 * the cache and becomes its version; an older one (the transaction began
 * before the cache moved on) bypasses the cache. Because the version key
 * is in the transaction's read set, a transaction that trusted the cache
 * is serialised before any DDL that committed a newer version, or fails
 * to commit (40001). A transaction that wrote the catalog reads through
 * itself and bypasses the cache in both directions.
 *
 * Lookups without a transaction (Parse and Bind outside a transaction)
 * take what the cache holds and read
 * the newest committed state on a miss, which they do not cache: their
 * answers are hints that the session checks again in the transaction
 * that executes.
 *
 * Writes happen only inside a sql_txn. Names are claimed with a CPut that
 * expects no value, so a name taken by a concurrent or earlier creation
 * reports 1, and the CPut is sent alone: a failed batch leaves nothing of
 * the creation behind in the transaction.
 */
#include <assert.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "sql/catalog_int.h"
#include "sql/types_int.h"

#define NBUCKETS 256

/* What names a descriptor: its id, and its namespace key (parent 0 for
 * databases, the database for tables and sequences). */
typedef struct ident {
    uint32_t id;
    uint32_t parent;
    const char *name;
} ident;

typedef struct cnode {
    atomic_int refs;
    kv_arena *arena; /* holds the node itself and everything it points to */
    struct cnode *next_by_id, *next_by_name;
    ident key; /* desc_ident(&d) */
    sql__desc d;
} cnode;

struct sql_catalog {
    kv_store *store;
    kv_txn_hb *hb;
    pthread_mutex_t mu;
    uint64_t gen;     /* bumped by every invalidation */
    uint64_t version; /* the catalog version every cached node belongs to */
    cnode *by_id[NBUCKETS];
    cnode *by_name[NBUCKETS];
};

/* A generation no cache reaches: cache_put never caches under it. */
#define NO_FILL UINT64_MAX

/* ---- descriptor identity ------------------------------------------------ */

static ident desc_ident(const sql__desc *d)
{
    switch (d->kind) {
    case SQL__DESC_DATABASE:
        return (ident){d->u.db.id, 0, d->u.db.name};
    case SQL__DESC_TABLE:
        return (ident){d->u.table.id, d->u.table.db_id, d->u.table.name};
    case SQL__DESC_SEQUENCE:
        return (ident){d->u.seq.id, d->u.seq.db_id, d->u.seq.name};
    }
    abort();
}

/* ---- keys -------------------------------------------------------------- */

static int put_id_col(sql_keybuf *b, uint32_t id, sql_error *err)
{
    sql_datum d = {.v.i = id};
    return sql_key_put(b, (sql_type){SQL_T_INT8, -1}, SQL_KEY_ASC, false, &d, err);
}

static int put_name_col(sql_keybuf *b, const char *name, sql_error *err)
{
    sql_datum d = {.v.s = {(const uint8_t *)name, strlen(name)}};
    return sql_key_put(b, (sql_type){SQL_T_TEXT, -1}, SQL_KEY_ASC, false, &d, err);
}

/* /table/1/id/ of the descriptor and counter tables. */
static int id_key(sql_keybuf *b, kv_arena *arena, uint32_t table, uint32_t id, sql_error *err)
{
    sql_keybuf_init(b, arena);
    if (sql_key_put_prefix(b, table, SQL_PRIMARY_INDEX_ID, err) != 0)
        return -1;
    return put_id_col(b, id, err);
}

static int ns_key(sql_keybuf *b, kv_arena *arena, uint32_t parent, const char *name, sql_error *err)
{
    if (id_key(b, arena, SQL__SYS_NAMESPACE, parent, err) != 0)
        return -1;
    return put_name_col(b, name, err);
}

static int version_key(sql_keybuf *b, kv_arena *arena, sql_error *err)
{
    sql_keybuf_init(b, arena);
    return sql_key_put_prefix(b, SQL__SYS_VERSION, SQL_PRIMARY_INDEX_ID, err);
}

static int role_key(sql_keybuf *b, kv_arena *arena, const char *name, sql_error *err)
{
    sql_keybuf_init(b, arena);
    if (sql_key_put_prefix(b, SQL__SYS_ROLES, SQL_PRIMARY_INDEX_ID, err) != 0)
        return -1;
    return put_name_col(b, name, err);
}

int sql_index_span(uint32_t table_id, uint32_t index_id, kv_arena *arena, kv_span *out,
                   sql_error *err)
{
    /* The varint encoding is order-preserving and prefix-free, so every
     * key under /t/i/ sorts below /t/i+1/. */
    assert(index_id < UINT32_MAX);
    sql_keybuf start, end;
    sql_keybuf_init(&start, arena);
    sql_keybuf_init(&end, arena);
    if (sql_key_put_prefix(&start, table_id, index_id, err) != 0 ||
        sql_key_put_prefix(&end, table_id, index_id + 1, err) != 0)
        return -1;
    *out = (kv_span){start.p, start.len, end.p, end.len};
    return 0;
}

/* ---- KV requests ------------------------------------------------------- */

static kv_span key_span(const sql_keybuf *k)
{
    return (kv_span){k->p, k->len, NULL, 0};
}

/* Sends the n requests `qs` (copied) in `t` (NULL: non-transactional)
 * into `resp`, which this initialises first and the caller frees in every
 * case. */
static int run(sql_catalog *c, sql_txn *t, const kv_req *qs, size_t n, kv_response *resp,
               sql_error *err, kv_arena *arena)
{
    if (kv_response_init(resp) != 0)
        return sql__oom(arena, err);
    kv_request req;
    if (kv_request_init(&req) != 0)
        return sql__oom(arena, err);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = kv_request_add(&req, &qs[i])) != 0)
            rc = sql_error_from_kv(err, arena, rc, NULL);
    if (rc == 0 && t != NULL)
        rc = sql_txn_send(t, &req, resp, err, arena);
    else if (rc == 0)
        rc = sql_kv_send(c->store, &req, resp, err, arena);
    kv_request_free(&req);
    return rc;
}

/* Called after every catalog write in `t`; the first one arranges the
 * version increment that commits with t. The version is read through t
 * (unless a lookup already has), so two DDL transactions conflict on it;
 * the Put goes with the commit (sql_txn_put_at_commit) so that the key
 * every transaction reads holds an intent only while the commit
 * resolves, not for as long as the DDL transaction stays open. */
static int wrote(sql_catalog *c, sql_txn *t, sql_error *err, kv_arena *arena)
{
    if (sql_txn_did_ddl(t))
        return 0;
    uint64_t v;
    sql_keybuf key;
    uint8_t val[8];
    if (sql_catalog_version(c, t, &v, err, arena) != 0 || version_key(&key, arena, err) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(val); i++)
        val[i] = (uint8_t)((v + 1) >> (56 - 8 * i));
    if (sql_txn_put_at_commit(t, key.p, key.len, val, sizeof(val), err, arena) != 0)
        return -1;
    sql_txn_mark_ddl(t);
    return 0;
}

/* run() for catalog writes, whose responses say nothing. */
static int write_reqs(sql_catalog *c, sql_txn *t, const kv_req *qs, size_t n, sql_error *err,
                      kv_arena *arena)
{
    assert(t != NULL);
    kv_response resp;
    int rc = run(c, t, qs, n, &resp, err, arena);
    kv_response_free(&resp);
    if (rc == 0)
        rc = wrote(c, t, err, arena);
    return rc;
}

/* The value of `key` copied into `arena`: 0, 1 when absent, -1. */
static int get_value(sql_catalog *c, sql_txn *t, const sql_keybuf *key, const uint8_t **val,
                     size_t *len, sql_error *err, kv_arena *arena)
{
    kv_response resp;
    kv_req q = {.method = KV_GET, .span = key_span(key)};
    int rc = run(c, t, &q, 1, &resp, err, arena);
    if (rc == 0) {
        const kv_resp *r = &resp.resps[0];
        rc = r->found ? 0 : 1;
        *len = r->row.value_len;
        if (r->found && (*val = kv_arena_dup(arena, r->row.value, *len)) == NULL)
            rc = sql__oom(arena, err);
    }
    kv_response_free(&resp);
    return rc;
}

static int put_value(sql_catalog *c, sql_txn *t, const sql_keybuf *key, const sql_keybuf *val,
                     sql_error *err, kv_arena *arena)
{
    kv_req q = {.method = KV_PUT, .span = key_span(key)};
    q.u.put.value = val->p;
    q.u.put.value_len = val->len;
    return write_reqs(c, t, &q, 1, err, arena);
}

/* Puts `val` under `key` only if the key has no value: 0, 1 when it has
 * one (nothing written, `err` untouched), -1. */
static int put_new_value(sql_catalog *c, sql_txn *t, const sql_keybuf *key, const sql_keybuf *val,
                         sql_error *err, kv_arena *arena)
{
    kv_req q = {.method = KV_CPUT, .span = key_span(key)};
    q.u.cput.value = val->p;
    q.u.cput.value_len = val->len;
    q.u.cput.exp_exists = false;
    sql_error saved = *err;
    kv_response resp;
    int rc = run(c, t, &q, 1, &resp, err, arena);
    if (rc != 0 && resp.err == KV_ECONDFAILED)
        *err = saved, rc = 1;
    kv_response_free(&resp);
    if (rc == 0)
        rc = wrote(c, t, err, arena);
    return rc;
}

static int delete_key(sql_catalog *c, sql_txn *t, const sql_keybuf *key, sql_error *err,
                      kv_arena *arena)
{
    kv_req q = {.method = KV_DELETE, .span = key_span(key)};
    return write_reqs(c, t, &q, 1, err, arena);
}

/* A non-transactional KV_INCREMENT of counter `id`: the new value. */
static int increment(sql_catalog *c, uint32_t id, int64_t *out, sql_error *err, kv_arena *arena)
{
    sql_keybuf key;
    if (id_key(&key, arena, SQL__SYS_COUNTERS, id, err) != 0)
        return -1;
    kv_req q = {.method = KV_INCREMENT, .span = key_span(&key)};
    q.u.inc.delta = 1;
    kv_response resp;
    int rc = run(c, NULL, &q, 1, &resp, err, arena);
    if (rc == 0)
        *out = resp.resps[0].new_value;
    kv_response_free(&resp);
    return rc;
}

/* ---- descriptor nodes and the cache ------------------------------------ */

static void node_release(cnode *n)
{
    if (n != NULL && atomic_fetch_sub(&n->refs, 1) == 1)
        kv_arena_destroy(n->arena);
}

void sql_table_release(const sql_table_desc *d)
{
    if (d != NULL && !d->is_virtual)
        node_release((cnode *)((const char *)d - offsetof(cnode, d.u.table)));
}

/* Reads descriptor `id` through `t` (NULL: newest committed) into a new
 * node holding one reference: 0, 1 when there is none, -1. */
static int load_node(sql_catalog *c, sql_txn *t, uint32_t id, cnode **out, sql_error *err,
                     kv_arena *arena)
{
    sql_keybuf key;
    const uint8_t *val;
    size_t len;
    if (id_key(&key, arena, SQL__SYS_DESCRIPTORS, id, err) != 0)
        return -1;
    int rc = get_value(c, t, &key, &val, &len, err, arena);
    if (rc != 0)
        return rc;
    kv_arena *na;
    if (kv_arena_create(&na) != 0)
        return sql__oom(arena, err);
    cnode *n = kv_arena_alloc(na, sizeof(*n));
    if (n == NULL) {
        rc = sql__oom(arena, err);
        goto out_destroy_arena;
    }
    if ((rc = sql__desc_decode(val, len, na, &n->d, err)) != 0) {
        /* the message lives in the node's arena: move it to the caller's */
        sql_error_set(err, arena, err->state, "%s", err->message);
        sql_error_detail(err, arena, "The descriptor with id %u cannot be read.", id);
        goto out_destroy_arena;
    }
    atomic_init(&n->refs, 1);
    n->arena = na, n->next_by_id = n->next_by_name = NULL;
    n->key = desc_ident(&n->d);
    *out = n;
    return 0;
out_destroy_arena:
    kv_arena_destroy(na);
    return rc;
}

static size_t id_bucket(uint32_t id)
{
    return id % NBUCKETS;
}

static size_t name_bucket(uint32_t parent, const char *name)
{
    return XXH3_64bits_withSeed(name, strlen(name), parent) % NBUCKETS;
}

/* What one lookup may take from the cache (see the file comment). */
typedef struct view {
    bool cache;       /* hits may be served */
    bool pinned;      /* only while the cache holds `version`; misses are cached */
    uint64_t version; /* pinned: the version the transaction reads */
} view;

static cnode *find_node(sql_catalog *c, bool by_name, uint32_t key, const char *name)
{
    cnode *n;
    if (by_name) {
        n = c->by_name[name_bucket(key, name)];
        while (n != NULL && (n->key.parent != key || strcmp(n->key.name, name) != 0))
            n = n->next_by_name;
    } else {
        n = c->by_id[id_bucket(key)];
        while (n != NULL && n->key.id != key)
            n = n->next_by_id;
    }
    return n;
}

/* A cached node with a new reference, or NULL. After a miss, *gen is the
 * generation to present to cache_put, or NO_FILL when the view may not
 * fill the cache (or the cache holds another version than it pins). */
static cnode *cache_get(sql_catalog *c, const view *v, bool by_name, uint32_t key, const char *name,
                        uint64_t *gen)
{
    cnode *n = NULL;
    *gen = NO_FILL;
    if (!v->cache)
        return NULL;
    pthread_mutex_lock(&c->mu);
    if (!v->pinned || v->version == c->version) {
        if ((n = find_node(c, by_name, key, name)) != NULL)
            atomic_fetch_add(&n->refs, 1);
        else if (v->pinned)
            *gen = c->gen;
    }
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Caches `n` (the caller's reference stays the caller's) unless the cache
 * was invalidated since generation `gen`; when another thread cached the
 * same id meanwhile, the caller gets that node instead. */
static cnode *cache_put(sql_catalog *c, cnode *n, uint64_t gen)
{
    uint32_t id = n->key.id;
    pthread_mutex_lock(&c->mu);
    if (gen != c->gen) {
        pthread_mutex_unlock(&c->mu);
        return n;
    }
    cnode *old = find_node(c, false, id, NULL);
    if (old != NULL) {
        atomic_fetch_add(&old->refs, 1);
    } else {
        atomic_fetch_add(&n->refs, 1);
        n->next_by_id = c->by_id[id_bucket(id)];
        c->by_id[id_bucket(id)] = n;
        size_t nb = name_bucket(n->key.parent, n->key.name);
        n->next_by_name = c->by_name[nb];
        c->by_name[nb] = n;
    }
    pthread_mutex_unlock(&c->mu);
    if (old == NULL)
        return n;
    node_release(n);
    return old;
}

uint64_t sql_catalog_generation(sql_catalog *c)
{
    pthread_mutex_lock(&c->mu);
    uint64_t gen = c->gen;
    pthread_mutex_unlock(&c->mu);
    return gen;
}

/* Empties the cache (c->mu held): the nodes go to chains[], which
 * release_chains() drops after the lock is released. Unlinked nodes are
 * reachable only from there and from references outside the cache, which
 * never follow the chains. */
static void unlink_all(sql_catalog *c, cnode **chains)
{
    c->gen++;
    memcpy(chains, c->by_id, sizeof(c->by_id));
    memset(c->by_id, 0, sizeof(c->by_id));
    memset(c->by_name, 0, sizeof(c->by_name));
}

static void release_chains(cnode **chains)
{
    for (size_t i = 0; i < NBUCKETS; i++)
        for (cnode *n = chains[i], *next; n != NULL; n = next) {
            next = n->next_by_id;
            node_release(n);
        }
}

void sql_catalog_invalidate(sql_catalog *c)
{
    cnode *chains[NBUCKETS];
    pthread_mutex_lock(&c->mu);
    unlink_all(c, chains);
    pthread_mutex_unlock(&c->mu);
    release_chains(chains);
}

/* Moves the cache to version `v` if that is newer than the one it holds,
 * emptying it; an older `v` (a transaction that began before the cache
 * moved on) leaves it alone. */
static void advance(sql_catalog *c, uint64_t v)
{
    cnode *chains[NBUCKETS];
    pthread_mutex_lock(&c->mu);
    bool newer = v > c->version;
    if (newer) {
        unlink_all(c, chains);
        c->version = v;
    }
    pthread_mutex_unlock(&c->mu);
    if (newer)
        release_chains(chains);
}

/* Reads the version key through `t` and remembers the value on it. An
 * absent key is version 0. */
static int read_version(sql_catalog *c, sql_txn *t, uint64_t *out, sql_error *err, kv_arena *arena)
{
    sql_keybuf key;
    const uint8_t *val;
    size_t len;
    if (version_key(&key, arena, err) != 0)
        return -1;
    int rc = get_value(c, t, &key, &val, &len, err, arena);
    if (rc < 0)
        return -1;
    if (rc == 0 && len != 8) {
        sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "corrupt descriptor");
        sql_error_detail(err, arena, "The catalog version has %zu bytes, not 8.", len);
        return -1;
    }
    *out = 0;
    for (size_t i = 0; rc == 0 && i < len; i++)
        *out = *out << 8 | val[i];
    sql_txn_set_catalog_version(t, *out);
    return 0;
}

int sql_catalog_version(sql_catalog *c, sql_txn *t, uint64_t *out, sql_error *err, kv_arena *arena)
{
    if (sql_txn_catalog_version(t, out))
        return 0; /* the cache was advanced when it was read */
    if (read_version(c, t, out, err, arena) != 0)
        return -1;
    advance(c, *out);
    return 0;
}

/* The view of lookups in `t`: NULL takes what the cache holds; a
 * transaction that wrote the catalog bypasses it; any other transaction
 * reads the version first and pins it. */
static int view_of(sql_catalog *c, sql_txn *t, view *v, sql_error *err, kv_arena *arena)
{
    *v = (view){.cache = t == NULL || !sql_txn_did_ddl(t)};
    if (t == NULL || !v->cache)
        return 0;
    v->pinned = true;
    return sql_catalog_version(c, t, &v->version, err, arena);
}

static int lookup_id(sql_catalog *c, sql_txn *t, uint32_t id, cnode **out, sql_error *err,
                     kv_arena *arena)
{
    view v;
    uint64_t gen;
    if (view_of(c, t, &v, err, arena) != 0)
        return -1;
    if ((*out = cache_get(c, &v, false, id, NULL, &gen)) != NULL)
        return 0;
    int rc = load_node(c, t, id, out, err, arena);
    if (rc == 0)
        *out = cache_put(c, *out, gen);
    return rc;
}

/* The namespace entry (parent, name) read through `t`: 0, 1, -1. */
static int ns_get(sql_catalog *c, sql_txn *t, uint32_t parent, const char *name, sql__ns_entry *out,
                  sql_error *err, kv_arena *arena)
{
    sql_keybuf key;
    const uint8_t *val;
    size_t len;
    if (ns_key(&key, arena, parent, name, err) != 0)
        return -1;
    int rc = get_value(c, t, &key, &val, &len, err, arena);
    if (rc != 0)
        return rc;
    return sql__ns_decode(val, len, arena, out, err);
}

/* A name whose descriptor is missing: both are written in one
 * transaction, so the catalog is damaged. */
static int dangling(kv_arena *arena, sql_error *err, const char *name)
{
    sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR, "corrupt descriptor");
    sql_error_detail(err, arena, "The name \"%s\" refers to a missing descriptor.", name);
    return -1;
}

static int lookup_name(sql_catalog *c, sql_txn *t, uint32_t parent, const char *name, cnode **out,
                       sql_error *err, kv_arena *arena)
{
    view v;
    uint64_t gen;
    if (view_of(c, t, &v, err, arena) != 0)
        return -1;
    if ((*out = cache_get(c, &v, true, parent, name, &gen)) != NULL)
        return 0;
    sql__ns_entry e;
    int rc = ns_get(c, t, parent, name, &e, err, arena);
    if (rc != 0)
        return rc;
    if ((rc = load_node(c, t, e.id, out, err, arena)) != 0)
        return rc == 1 ? dangling(arena, err, name) : -1;
    *out = cache_put(c, *out, gen);
    return 0;
}

/* lookup_name for an object of `kind`: 1 when the name is something else. */
static int lookup_kind(sql_catalog *c, sql_txn *t, uint32_t parent, const char *name,
                       sql__desc_kind kind, cnode **out, sql_error *err, kv_arena *arena)
{
    int rc = lookup_name(c, t, parent, name, out, err, arena);
    if (rc == 0 && (*out)->d.kind != kind) {
        node_release(*out);
        return 1;
    }
    return rc;
}

/* ---- writing descriptors ----------------------------------------------- */

static int put_desc(sql_catalog *c, sql_txn *t, const sql__desc *d, sql_error *err, kv_arena *arena)
{
    sql_keybuf key, val;
    sql_keybuf_init(&val, arena);
    if (id_key(&key, arena, SQL__SYS_DESCRIPTORS, desc_ident(d).id, err) != 0 ||
        sql__desc_encode(d, &val, err) != 0)
        return -1;
    return put_value(c, t, &key, &val, err, arena);
}

/* Claims the name of `d` and writes it: 0, 1 when the name is taken
 * (nothing written), -1. */
static int create_desc(sql_catalog *c, sql_txn *t, const sql__desc *d, sql_error *err,
                       kv_arena *arena)
{
    sql_keybuf key, val;
    sql_keybuf_init(&val, arena);
    ident id = desc_ident(d);
    sql__ns_entry e = {.kind = d->kind, .id = id.id};
    if (ns_key(&key, arena, id.parent, id.name, err) != 0 || sql__ns_encode(&e, &val, err) != 0)
        return -1;
    int rc = put_new_value(c, t, &key, &val, err, arena);
    if (rc != 0)
        return rc;
    return put_desc(c, t, d, err, arena);
}

/* Deletes the name and the descriptor of object `id` and, for a
 * sequence, its counter. */
static int delete_desc(sql_catalog *c, sql_txn *t, uint32_t parent, const char *name, uint32_t id,
                       bool counter, sql_error *err, kv_arena *arena)
{
    sql_keybuf keys[3];
    if (ns_key(&keys[0], arena, parent, name, err) != 0 ||
        id_key(&keys[1], arena, SQL__SYS_DESCRIPTORS, id, err) != 0 ||
        id_key(&keys[2], arena, SQL__SYS_COUNTERS, id, err) != 0)
        return -1;
    kv_req qs[3];
    for (size_t i = 0; i < 3; i++)
        qs[i] = (kv_req){.method = KV_DELETE, .span = key_span(&keys[i])};
    return write_reqs(c, t, qs, counter ? 3 : 2, err, arena);
}

int sql_catalog_new_id(sql_catalog *c, uint32_t *out, sql_error *err, kv_arena *arena)
{
    int64_t v;
    if (increment(c, SQL__ID_COUNTER, &v, err, arena) != 0)
        return -1;
    if (v < 1 || v > (int64_t)(UINT32_MAX - SQL_FIRST_USER_ID))
        return sql_error_set(err, arena, SQL_STATE_PROGRAM_LIMIT_EXCEEDED,
                             "no more descriptor ids");
    *out = SQL_FIRST_USER_ID + (uint32_t)(v - 1);
    return 0;
}

/* ---- databases ---------------------------------------------------------- */

static const char *dup_str(kv_arena *arena, const char *s)
{
    return s == NULL ? NULL : kv_arena_strdup(arena, s);
}

int sql_catalog_database(sql_catalog *c, sql_txn *t, const char *name, sql_database_desc *out,
                         sql_error *err, kv_arena *arena)
{
    cnode *n;
    int rc = lookup_kind(c, t, 0, name, SQL__DESC_DATABASE, &n, err, arena);
    if (rc != 0)
        return rc;
    *out = (sql_database_desc){.id = n->d.u.db.id,
                               .name = dup_str(arena, n->d.u.db.name),
                               .owner = dup_str(arena, n->d.u.db.owner)};
    node_release(n);
    if (out->name == NULL || out->owner == NULL)
        return sql__oom(arena, err);
    return 0;
}

int sql_catalog_create_database(sql_catalog *c, sql_txn *t, const char *name, const char *owner,
                                sql_error *err, kv_arena *arena)
{
    /* Look first: every open re-creates the default databases, and an
     * existing name must cost no descriptor id. */
    sql__ns_entry e;
    int rc = ns_get(c, t, 0, name, &e, err, arena);
    if (rc != 1)
        return rc == 0 ? 1 : -1;
    sql__desc d = {.kind = SQL__DESC_DATABASE, .u.db = {.name = name, .owner = owner}};
    if (sql_catalog_new_id(c, &d.u.db.id, err, arena) != 0)
        return -1;
    return create_desc(c, t, &d, err, arena);
}

/* One namespace entry of a database, as listed by scan_names. */
typedef struct ns_item {
    const char *name;
    sql__ns_entry e;
} ns_item;

/* The name in the key of namespace row `row`. */
static int ns_key_name(const kv_row *row, const char **name, sql_error *err, kv_arena *arena)
{
    const uint8_t *p = row->key, *end = row->key + row->key_len;
    uint32_t table, index;
    sql_datum parent, d;
    if (sql_key_get_prefix(&p, end, &table, &index, arena, err) != 0 ||
        sql_key_get(&p, end, (sql_type){SQL_T_INT8, -1}, SQL_KEY_ASC, arena, &parent, err) != 0 ||
        sql_key_get(&p, end, (sql_type){SQL_T_TEXT, -1}, SQL_KEY_ASC, arena, &d, err) != 0)
        return -1;
    if ((*name = kv_arena_strndup(arena, (const char *)d.v.s.p, d.v.s.len)) == NULL)
        return sql__oom(arena, err);
    return 0;
}

/* Every namespace entry under `parent`, in name order, read through `t`. */
static int scan_names(sql_catalog *c, sql_txn *t, uint32_t parent, ns_item **items, size_t *n,
                      sql_error *err, kv_arena *arena)
{
    sql_keybuf start, end;
    if (id_key(&start, arena, SQL__SYS_NAMESPACE, parent, err) != 0 ||
        id_key(&end, arena, SQL__SYS_NAMESPACE, parent + 1, err) != 0)
        return -1;
    kv_req q = {.method = KV_SCAN, .span = {start.p, start.len, end.p, end.len}};
    kv_response resp;
    int rc = run(c, t, &q, 1, &resp, err, arena);
    const kv_resp *r = rc == 0 ? &resp.resps[0] : NULL;
    if (rc == 0 && (*items = kv_arena_alloc(arena, r->n_rows * sizeof(ns_item))) == NULL)
        rc = sql__oom(arena, err);
    for (size_t i = 0; rc == 0 && i < r->n_rows; i++) {
        ns_item *it = &(*items)[i];
        rc = ns_key_name(&r->rows[i], &it->name, err, arena);
        if (rc == 0)
            rc = sql__ns_decode(r->rows[i].value, r->rows[i].value_len, arena, &it->e, err);
    }
    if (rc == 0)
        *n = r->n_rows;
    kv_response_free(&resp);
    return rc;
}

static int drop_table_id(sql_catalog *c, sql_txn *t, uint32_t id, sql_error *err, kv_arena *arena)
{
    cnode *n;
    int rc = load_node(c, t, id, &n, err, arena);
    if (rc != 0)
        return rc == 1 ? 0 : -1; /* dropped already */
    if (n->d.kind == SQL__DESC_TABLE)
        rc = sql_catalog_drop_table(c, t, &n->d.u.table, err, arena);
    node_release(n);
    return rc;
}

int sql_catalog_drop_database(sql_catalog *c, sql_txn *t, const char *name, sql_error *err,
                              kv_arena *arena)
{
    sql__ns_entry db;
    ns_item *items;
    size_t n;
    int rc = ns_get(c, t, 0, name, &db, err, arena);
    if (rc != 0)
        return rc;
    if (scan_names(c, t, db.id, &items, &n, err, arena) != 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (items[i].e.kind == SQL__DESC_TABLE)
            rc = drop_table_id(c, t, items[i].e.id, err, arena);
        else
            rc = delete_desc(c, t, db.id, items[i].name, items[i].e.id, true, err, arena);
    }
    if (rc != 0)
        return rc;
    return delete_desc(c, t, 0, name, db.id, false, err, arena);
}

/* ---- tables ------------------------------------------------------------ */

int sql_catalog_table(sql_catalog *c, sql_txn *t, uint32_t db_id, const char *name,
                      const sql_table_desc **out, sql_error *err, kv_arena *arena)
{
    cnode *n;
    int rc = lookup_kind(c, t, db_id, name, SQL__DESC_TABLE, &n, err, arena);
    if (rc == 0)
        *out = &n->d.u.table;
    return rc;
}

int sql_catalog_table_by_id(sql_catalog *c, sql_txn *t, uint32_t id, const sql_table_desc **out,
                            sql_error *err, kv_arena *arena)
{
    cnode *n;
    int rc = lookup_id(c, t, id, &n, err, arena);
    if (rc == 0 && n->d.kind != SQL__DESC_TABLE) {
        node_release(n);
        return 1;
    }
    if (rc == 0)
        *out = &n->d.u.table;
    return rc;
}

int sql_catalog_list_tables(sql_catalog *c, sql_txn *t, uint32_t db_id, const char ***names,
                            size_t *n, sql_error *err, kv_arena *arena)
{
    ns_item *items;
    size_t nitems;
    if (scan_names(c, t, db_id, &items, &nitems, err, arena) != 0)
        return -1;
    const char **out = kv_arena_alloc(arena, nitems * sizeof(*out));
    if (out == NULL)
        return sql__oom(arena, err);
    size_t k = 0;
    for (size_t i = 0; i < nitems; i++)
        if (items[i].e.kind == SQL__DESC_TABLE)
            out[k++] = items[i].name;
    *names = out, *n = k;
    return 0;
}

_Static_assert(SQL_ENTRY_DATABASE == (int)SQL__DESC_DATABASE &&
                   SQL_ENTRY_TABLE == (int)SQL__DESC_TABLE &&
                   SQL_ENTRY_SEQUENCE == (int)SQL__DESC_SEQUENCE,
               "sql_entry_kind mirrors sql__desc_kind");

int sql_catalog_list(sql_catalog *c, sql_txn *t, uint32_t parent, sql_catalog_entry **out,
                     size_t *n, sql_error *err, kv_arena *arena)
{
    ns_item *items;
    size_t nitems;
    if (scan_names(c, t, parent, &items, &nitems, err, arena) != 0)
        return -1;
    sql_catalog_entry *v = kv_arena_alloc(arena, (nitems + 1) * sizeof(*v));
    if (v == NULL)
        return sql__oom(arena, err);
    for (size_t i = 0; i < nitems; i++)
        v[i] = (sql_catalog_entry){items[i].name, items[i].e.id, (sql_entry_kind)items[i].e.kind};
    *out = v, *n = nitems;
    return 0;
}

/* A copy through the descriptor codec: one routine knows every field, so
 * a field added to the descriptor cannot be forgotten here. */
int sql_table_copy(const sql_table_desc *src, kv_arena *arena, sql_table_desc *out, sql_error *err)
{
    sql__desc d = {.kind = SQL__DESC_TABLE, .u.table = *src}, copy;
    sql_keybuf b;
    sql_keybuf_init(&b, arena);
    if (sql__desc_encode(&d, &b, err) != 0 || sql__desc_decode(b.p, b.len, arena, &copy, err) != 0)
        return -1;
    *out = copy.u.table;
    return 0;
}

int sql_catalog_create_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                             kv_arena *arena)
{
    assert(d->id >= SQL_FIRST_USER_ID);
    sql__desc desc = {.kind = SQL__DESC_TABLE, .u.table = *d};
    desc.u.table.version = 1;
    return create_desc(c, t, &desc, err, arena);
}

int sql_catalog_put_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                          kv_arena *arena)
{
    sql__desc desc = {.kind = SQL__DESC_TABLE, .u.table = *d};
    desc.u.table.version = d->version + 1;
    return put_desc(c, t, &desc, err, arena);
}

/* DeleteRange over every index of `d`. */
static int delete_rows(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                       kv_arena *arena)
{
    size_t n = (size_t)d->nindexes + 1;
    kv_req *qs = kv_arena_alloc(arena, n * sizeof(*qs));
    if (qs == NULL)
        return sql__oom(arena, err);
    for (size_t i = 0; i < n; i++) {
        const sql_index_desc *x = i == 0 ? &d->primary : &d->indexes[i - 1];
        qs[i] = (kv_req){.method = KV_DELETE_RANGE};
        if (sql_index_span(d->id, x->id, arena, &qs[i].span, err) != 0)
            return -1;
    }
    return write_reqs(c, t, qs, n, err, arena);
}

static int drop_sequence_id(sql_catalog *c, sql_txn *t, uint32_t id, sql_error *err,
                            kv_arena *arena)
{
    cnode *n;
    int rc = load_node(c, t, id, &n, err, arena);
    if (rc != 0)
        return rc == 1 ? 0 : -1; /* dropped already */
    if (n->d.kind == SQL__DESC_SEQUENCE)
        rc = delete_desc(c, t, n->d.u.seq.db_id, n->d.u.seq.name, id, true, err, arena);
    node_release(n);
    return rc;
}

int sql_catalog_drop_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                           kv_arena *arena)
{
    if (delete_rows(c, t, d, err, arena) != 0 ||
        delete_desc(c, t, d->db_id, d->name, d->id, false, err, arena) != 0)
        return -1;
    for (uint32_t i = 0; i < d->nsequences; i++)
        if (drop_sequence_id(c, t, d->sequence_ids[i], err, arena) != 0)
            return -1;
    return 0;
}

int sql_catalog_truncate_table(sql_catalog *c, sql_txn *t, const sql_table_desc *d, sql_error *err,
                               kv_arena *arena)
{
    return delete_rows(c, t, d, err, arena);
}

/* ---- sequences ---------------------------------------------------------- */

int sql_catalog_create_sequence(sql_catalog *c, sql_txn *t, uint32_t db_id, const char *name,
                                uint32_t *id, sql_error *err, kv_arena *arena)
{
    sql__desc d = {.kind = SQL__DESC_SEQUENCE, .u.seq = {.db_id = db_id, .name = name}};
    if (sql_catalog_new_id(c, &d.u.seq.id, err, arena) != 0)
        return -1;
    int rc = create_desc(c, t, &d, err, arena);
    if (rc == 0)
        *id = d.u.seq.id;
    return rc;
}

int sql_catalog_nextval(sql_catalog *c, sql_txn *t, uint32_t db_id, const char *name, int64_t *out,
                        sql_error *err, kv_arena *arena)
{
    cnode *n;
    int rc = lookup_kind(c, t, db_id, name, SQL__DESC_SEQUENCE, &n, err, arena);
    if (rc != 0)
        return rc;
    rc = increment(c, n->d.u.seq.id, out, err, arena);
    node_release(n);
    return rc;
}

/* ---- roles --------------------------------------------------------------- */

int sql_catalog_role(sql_catalog *c, sql_txn *t, const char *name, sql_role_desc *out,
                     sql_error *err, kv_arena *arena)
{
    sql_keybuf key;
    const uint8_t *val;
    size_t len;
    if (role_key(&key, arena, name, err) != 0)
        return -1;
    int rc = get_value(c, t, &key, &val, &len, err, arena);
    if (rc != 0)
        return rc;
    if (sql__role_decode(val, len, arena, out, err) != 0)
        return -1;
    if ((out->name = dup_str(arena, name)) == NULL)
        return sql__oom(arena, err);
    return 0;
}

/* The name in the key of roles row `row`. */
static int role_key_name(const kv_row *row, const char **name, sql_error *err, kv_arena *arena)
{
    const uint8_t *p = row->key, *end = row->key + row->key_len;
    uint32_t table, index;
    sql_datum d;
    if (sql_key_get_prefix(&p, end, &table, &index, arena, err) != 0 ||
        sql_key_get(&p, end, (sql_type){SQL_T_TEXT, -1}, SQL_KEY_ASC, arena, &d, err) != 0)
        return -1;
    if ((*name = kv_arena_strndup(arena, (const char *)d.v.s.p, d.v.s.len)) == NULL)
        return sql__oom(arena, err);
    return 0;
}

int sql_catalog_list_roles(sql_catalog *c, sql_txn *t, sql_role_desc **out, size_t *n,
                           sql_error *err, kv_arena *arena)
{
    kv_span span;
    if (sql_index_span(SQL__SYS_ROLES, SQL_PRIMARY_INDEX_ID, arena, &span, err) != 0)
        return -1;
    kv_req q = {.method = KV_SCAN, .span = span};
    kv_response resp;
    int rc = run(c, t, &q, 1, &resp, err, arena);
    const kv_resp *r = rc == 0 ? &resp.resps[0] : NULL;
    if (rc == 0 && (*out = kv_arena_alloc(arena, (r->n_rows + 1) * sizeof(**out))) == NULL)
        rc = sql__oom(arena, err);
    for (size_t i = 0; rc == 0 && i < r->n_rows; i++) {
        rc = sql__role_decode(r->rows[i].value, r->rows[i].value_len, arena, &(*out)[i], err);
        if (rc == 0)
            rc = role_key_name(&r->rows[i], &(*out)[i].name, err, arena);
    }
    if (rc == 0)
        *n = r->n_rows;
    kv_response_free(&resp);
    return rc;
}

int sql_catalog_put_role(sql_catalog *c, sql_txn *t, const sql_role_desc *r, bool create,
                         sql_error *err, kv_arena *arena)
{
    sql_keybuf key, val;
    sql_keybuf_init(&val, arena);
    if (role_key(&key, arena, r->name, err) != 0 || sql__role_encode(r, &val, err) != 0)
        return -1;
    if (create)
        return put_new_value(c, t, &key, &val, err, arena);
    const uint8_t *old;
    size_t len;
    int rc = get_value(c, t, &key, &old, &len, err, arena);
    if (rc != 0)
        return rc;
    return put_value(c, t, &key, &val, err, arena);
}

int sql_catalog_drop_role(sql_catalog *c, sql_txn *t, const char *name, sql_error *err,
                          kv_arena *arena)
{
    sql_keybuf key;
    const uint8_t *old;
    size_t len;
    if (role_key(&key, arena, name, err) != 0)
        return -1;
    int rc = get_value(c, t, &key, &old, &len, err, arena);
    if (rc != 0)
        return rc;
    return delete_key(c, t, &key, err, arena);
}

/* ---- open and close ------------------------------------------------------ */

/* The objects every store starts with; creating them again is a no-op
 * (each create reports 1), which makes reopening idempotent. */
static int bootstrap_in(sql_catalog *c, sql_txn *t, sql_error *err, kv_arena *arena)
{
    static const char *const dbs[] = {"defaultdb", "postgres"};
    const sql_role_desc root = {.name = "root", .superuser = true, .login = true};
    for (size_t i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++)
        if (sql_catalog_create_database(c, t, dbs[i], root.name, err, arena) < 0)
            return -1;
    return sql_catalog_put_role(c, t, &root, true, err, arena) < 0 ? -1 : 0;
}

static int bootstrap(sql_catalog *c, sql_error *err, kv_arena *arena)
{
    sql_txn *t;
    if (sql_txn_begin(c->store, c->hb, NULL, &t, err, arena) != 0)
        return -1;
    int rc = bootstrap_in(c, t, err, arena);
    if (rc == 0 && sql_txn_did_ddl(t))
        rc = sql_txn_commit(t, NULL, NULL, err, arena);
    sql_txn_destroy(t);
    return rc;
}

int sql_catalog_open(kv_store *s, kv_txn_hb *hb, sql_catalog **out, sql_error *err, kv_arena *arena)
{
    sql_catalog *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return sql__oom(arena, err);
    c->store = s, c->hb = hb;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        free(c);
        return sql__oom(arena, err);
    }
    if (bootstrap(c, err, arena) != 0) {
        sql_catalog_close(c);
        return -1;
    }
    *out = c;
    return 0;
}

void sql_catalog_close(sql_catalog *c)
{
    if (c == NULL)
        return;
    sql_catalog_invalidate(c);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
