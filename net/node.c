/*
 * node.c - a node's lifecycle on the loop: its identity, joining a
 * cluster, the directory of nodes (gossiped every second to every peer,
 * persisted in the store), the transport callbacks and the hooks the
 * replicated store needs (contract in net/node.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kv/kv.h"
#include "net/net_int.h"
#include "net/node_int.h"

#define TICK_MS   100
#define GOSSIP_MS 1000
#define DIR_KEY   "peers"

void net__node_log(net_node *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    net__logv(n->o.log, n->o.ctx, fmt, ap);
    va_end(ap);
}

/* ---- addresses and the directory -------------------------------------------- */

static size_t put_str(uint8_t *p, const char *s)
{
    size_t len = strlen(s);
    p[0] = (uint8_t)(len >> 8);
    p[1] = (uint8_t)len;
    memcpy(p + 2, s, len);
    return 2 + len;
}

int net__get_str(const uint8_t *p, size_t len, size_t *off, char out[NET__ADDR_MAX])
{
    if (len - *off < 2)
        return -1;
    size_t n = (size_t)p[*off] << 8 | p[*off + 1];
    if (n >= NET__ADDR_MAX || len - *off - 2 < n)
        return -1;
    memcpy(out, p + *off + 2, n);
    out[n] = 0;
    *off += 2 + n;
    return 0;
}

net__peer *net__node_peer(net_node *n, uint64_t id)
{
    for (size_t i = 0; i < n->n_peers; i++) {
        if (n->peers[i].id == id)
            return &n->peers[i];
    }
    return NULL;
}

void net__node_learn(net_node *n, const net__peer *p)
{
    if (p->id == n->id || p->id == 0 || p->id >= NET__PROVISIONAL_ID)
        return;
    net__peer *e = net__node_peer(n, p->id);
    if (e == NULL) {
        net__peer *a = realloc(n->peers, (n->n_peers + 1) * sizeof(*a));
        if (a == NULL)
            return;
        n->peers = a;
        e = &a[n->n_peers++];
        *e = (net__peer){.id = p->id};
    }
    bool moved = strcmp(e->rpc, p->rpc) != 0;
    memcpy(e->rpc, p->rpc, sizeof(e->rpc));
    memcpy(e->sql, p->sql, sizeof(e->sql));
    memcpy(e->http, p->http, sizeof(e->http));
    if (moved && n->t != NULL)
        net_transport_set_peer(n->t, e->id, e->rpc);
}

/* The directory message: the first range's descriptor, then every node we
 * know, ourselves included. *out is malloc'd. */
int net__node_directory(net_node *n, kv_buf *out, size_t at)
{
    kv_arena *a = NULL;
    kv_buf desc = {0};
    kv_range_desc d;
    if (kv_arena_create(&a) == 0 && kv_store_lookup(n->s, "", 0, a, &d) == 0)
        (void)kv_range_desc_encode(&d, &desc);
    kv_arena_destroy(a);
    size_t cap = at + 6 + desc.len + (n->n_peers + 1) * (8 + 3 * (2 + NET__ADDR_MAX));
    if (kv_buf_reserve(out, cap) != 0) {
        kv_buf_free(&desc);
        return -1;
    }
    uint8_t *p = (uint8_t *)out->data + at;
    net__put_be32(p, (uint32_t)desc.len);
    if (desc.len > 0) /* a joiner may know no first range yet */
        memcpy(p + 4, desc.data, desc.len);
    size_t off = 4 + desc.len;
    p[off] = (uint8_t)((n->n_peers + 1) >> 8), p[off + 1] = (uint8_t)(n->n_peers + 1);
    off += 2;
    net__peer self = {.id = n->id};
    snprintf(self.rpc, sizeof(self.rpc), "%s", n->listen);
    snprintf(self.sql, sizeof(self.sql), "%s", n->sql);
    snprintf(self.http, sizeof(self.http), "%s", n->http);
    for (size_t i = 0; i <= n->n_peers; i++) {
        const net__peer *e = i < n->n_peers ? &n->peers[i] : &self;
        net__put_be64(p + off, e->id);
        off += 8;
        off += put_str(p + off, e->rpc);
        off += put_str(p + off, e->sql);
        off += put_str(p + off, e->http);
    }
    kv_buf_free(&desc);
    out->len = at + off;
    return 0;
}

static void recv_directory(net_node *n, const uint8_t *p, size_t len)
{
    if (len < 6)
        return;
    size_t dlen = net__get_be32(p);
    if (len - 4 < dlen + 2)
        return;
    kv_arena *a;
    kv_range_desc d;
    if (dlen > 0 && kv_arena_create(&a) == 0) {
        if (kv_range_desc_decode(p + 4, dlen, a, &d) == 0)
            (void)kv_store_cache_desc(n->s, &d);
        kv_arena_destroy(a);
    }
    size_t off = 4 + dlen;
    size_t count = (size_t)p[off] << 8 | p[off + 1];
    off += 2;
    for (size_t i = 0; i < count; i++) {
        net__peer e = {0};
        if (len - off < 8)
            return;
        e.id = net__get_be64(p + off);
        off += 8;
        if (net__get_str(p, len, &off, e.rpc) < 0 || net__get_str(p, len, &off, e.sql) < 0 ||
            net__get_str(p, len, &off, e.http) < 0)
            return;
        net__node_learn(n, &e);
    }
}

/* Persists the directory (n->dir, just made) so a restarted node finds
 * its peers; only when it changed. */
static void save_directory(net_node *n)
{
    if (n->saved_dir.len == n->dir.len && memcmp(n->saved_dir.data, n->dir.data, n->dir.len) == 0)
        return;
    if (kv_store_local_put(n->s, DIR_KEY, n->dir.data, n->dir.len, NULL, 0) == 0)
        (void)kv_buf_set(&n->saved_dir, n->dir.data, n->dir.len);
}

/* ---- gossip and joining (every second) ----------------------------------------- */

/* Calls fn for the --join addresses other than our own: all of them, or
 * (one != 0) only the next one in turn. */
static void for_each_seed(net_node *n, bool one, void (*fn)(net_node *n, uint64_t seed))
{
    char list[sizeof(n->join)];
    memcpy(list, n->join, sizeof(list));
    uint64_t k = 0, pick = 0, count = 0;
    char *save;
    for (char *a = strtok_r(list, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save))
        count += strcmp(a, n->listen) != 0;
    if (count > 0)
        pick = n->seed_turn++ % count;
    memcpy(list, n->join, sizeof(list));
    for (char *a = strtok_r(list, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save)) {
        if (strcmp(a, n->listen) == 0)
            continue;
        uint64_t seed = NET__SEED_ID | k;
        if ((!one || k == pick) && net_transport_set_peer(n->t, seed, a) == 0)
            fn(n, seed);
        k++;
    }
}

static void send_join(net_node *n, uint64_t seed)
{
    uint8_t p[3 * (2 + NET__ADDR_MAX)];
    size_t off = put_str(p, n->listen);
    off += put_str(p + off, n->sql);
    off += put_str(p + off, n->http);
    net_transport_send(n->t, seed, NET__MSG_JOIN, p, off);
}

/* Sends this round's directory (n->dir). */
static void send_directory_to(net_node *n, uint64_t to)
{
    net_transport_send(n->t, to, NET__MSG_DIRECTORY, n->dir.data, n->dir.len);
}

/* A peer's liveness, as workers' forwarded calls and the replicas see it:
 * a peer that goes down fails the calls waiting on it. */
static void set_live(net_node *n, uint64_t node, bool up)
{
    net__peer *e = net__node_peer(n, node);
    if (e != NULL)
        e->up = up;
    net__rpc_peer(n, node, up);
    if (!up)
        net__rpc_fail(n, node);
}

/* Every peer gossips every second, so one silent for NET__SILENT_MS is
 * cut off by a partition, paused or overloaded even though its TCP
 * connection looks up: waiting calls fail (retried elsewhere or
 * ambiguous) rather than wait for their timeout, and new ones go
 * elsewhere, until a frame from it arrives again. */
static void check_silence(net_node *n)
{
    uint64_t now = uv_now(n->loop);
    for (size_t i = 0; i < n->n_peers; i++) {
        net__peer *e = &n->peers[i];
        if (e->up && now - e->heard_ms > NET__SILENT_MS) {
            net__node_log(n, "node %llu silent for %llu ms: treated as down",
                          (unsigned long long)e->id, (unsigned long long)(now - e->heard_ms));
            set_live(n, e->id, false);
        }
    }
}

static void on_gossip(uv_timer_t *h)
{
    net_node *n = h->data;
    if (n->t == NULL)
        return; /* the transport is being replaced */
    check_silence(n);
    if (!n->has_ident) {
        /* One member at a time, so that one joiner gets one node id. */
        for_each_seed(n, true, send_join);
        return;
    }
    if (net__node_directory(n, &n->dir, 0) != 0)
        return;
    for (size_t i = 0; i < n->n_peers; i++)
        send_directory_to(n, n->peers[i].id);
    if (n->n_peers == 0)
        for_each_seed(n, false, send_directory_to);
    save_directory(n);
}

/* ---- the replicated store's hooks ------------------------------------------------ */

static int hook_send(void *arg, uint64_t to, uint8_t type, const void *p, size_t len)
{
    net_node *n = arg;
    return n->t != NULL ? net_transport_send(n->t, to, type, p, len) : -1;
}

static void hook_wake(void *arg)
{
    uv_async_send(&((net_node *)arg)->wake);
}

typedef struct spawned {
    net_work w;
    void (*fn)(void *data);
    void *data;
} spawned;

static void run_spawned(void *arg)
{
    spawned *s = arg;
    s->fn(s->data);
    free(s);
}

static int hook_spawn(void *arg, void (*fn)(void *data), void *data)
{
    net_node *n = arg;
    spawned *s = malloc(sizeof(*s));
    if (s == NULL)
        return -1;
    *s = (spawned){.w = {.fn = run_spawned}, .fn = fn, .data = data};
    s->w.arg = s;
    net_workers_submit(n->o.workers, &s->w);
    return 0;
}

static size_t hook_live(void *arg, uint64_t *ids, size_t cap)
{
    net_node *n = arg;
    size_t k = 0;
    for (size_t i = 0; i < n->n_peers; i++) {
        if (n->peers[i].up && k < cap)
            ids[k++] = n->peers[i].id;
    }
    return k;
}

static void on_wake(uv_async_t *h)
{
    net_node *n = h->data;
    net__rpc_joined(n);
    if (n->kv != NULL)
        kv_node_process(n->kv);
}

static void on_tick(uv_timer_t *h)
{
    net_node *n = h->data;
    if (n->kv != NULL)
        kv_node_tick(n->kv);
}

/* ---- transport callbacks ------------------------------------------------------------ */

/* Any frame shows a peer alive. */
static void heard(net_node *n, uint64_t from)
{
    net__peer *e = net__node_peer(n, from);
    if (e == NULL)
        return;
    bool was_heard = e->heard_ms != 0;
    e->heard_ms = uv_now(n->loop);
    if (!e->up) {
        if (was_heard)
            net__node_log(n, "node %llu is heard again", (unsigned long long)from);
        set_live(n, from, true);
    }
}

static void on_recv(void *ctx, uint64_t from, uint8_t type, const uint8_t *p, size_t len)
{
    net_node *n = ctx;
    heard(n, from);
    if (type >= KV_NODE_MSG_RAFT && type <= KV_NODE_MSG_SNAP_ACK) {
        if (n->kv != NULL)
            kv_node_recv(n->kv, from, type, p, len);
    } else if (type == NET__MSG_KV_REQ && n->kv != NULL) {
        net__rpc_serve(n, from, p, len);
    } else if (type == NET__MSG_KV_RESP) {
        net__rpc_answer(n, p, len);
    } else if (type == NET__MSG_JOIN && n->kv != NULL) {
        net__rpc_join(n, from, p, len);
    } else if (type == NET__MSG_DIRECTORY) {
        recv_directory(n, p, len);
    } else if (type == NET__MSG_WELCOME && !n->has_ident) {
        net__node_welcome(n, p, len);
    }
}

static void on_peer(void *ctx, uint64_t node, bool up)
{
    net_node *n = ctx;
    net__peer *e = net__node_peer(n, node);
    if (e != NULL)
        e->heard_ms = uv_now(n->loop);
    set_live(n, node, up);
}

/* Members talk to members and to joiners; a node waiting to join talks to
 * whoever answers at its --join addresses. */
static bool on_accept(void *ctx, const uint8_t cluster[16], uint64_t node)
{
    net_node *n = ctx;
    static const uint8_t zero[16];
    if (!n->has_ident)
        return true;
    if (memcmp(cluster, n->cluster, 16) == 0)
        return true;
    return memcmp(cluster, zero, 16) == 0 && node >= NET__PROVISIONAL_ID && node < NET__SEED_ID;
}

static void log_transport(void *ctx, const char *line)
{
    net__node_log(ctx, "%s", line);
}

static int start_transport(net_node *n, char *err, size_t errlen)
{
    net_transport_options to = {
        .node_id = n->id,
        .listen = n->listen,
        .recv = on_recv,
        .peer_event = on_peer,
        .accept = on_accept,
        .log = log_transport,
        .ctx = n,
        .backoff_max_ms = 1000,
        .handshake_timeout_ms = 3000,
    };
    memcpy(to.cluster_id, n->cluster, 16);
    net_transport *t;
    int rc = net_transport_start(n->loop, &to, &t, err, errlen);
    if (rc != 0)
        return rc;
    n->t = t;
    pthread_mutex_lock(&n->mu);
    n->send_t = t;
    pthread_mutex_unlock(&n->mu);
    for (size_t i = 0; i < n->n_peers; i++)
        net_transport_set_peer(t, n->peers[i].id, n->peers[i].rpc);
    return 0;
}

/* ---- running ------------------------------------------------------------------------- */

static int start_kv(net_node *n)
{
    kv_node_options ko = {
        .node_id = n->id,
        .incarnation = n->incarnation,
        .hooks = {hook_send, hook_wake, hook_spawn, hook_live, n},
        .tick_ms = TICK_MS,
        .raft_log_limit = n->o.raft_log_limit,
        .replication = n->o.single ? 1 : 0,
    };
    char err[256] = "";
    kv_store_set_node_id(n->s, (uint32_t)n->id);
    kv_store_remote remote = {net__rpc_send, n};
    kv_store_set_remote(n->s, &remote);
    int rc = kv_node_start(n->s, &ko, &n->kv, err, sizeof(err));
    if (rc != 0) {
        net__node_log(n, "cannot start replication: %s (%s)", kv_strerror(rc), err);
        return -1;
    }
    uv_timer_start(&n->tick, on_tick, TICK_MS, TICK_MS);
    net__node_log(n, "node %llu running (cluster %02x%02x%02x%02x...)", (unsigned long long)n->id,
                  n->cluster[0], n->cluster[1], n->cluster[2], n->cluster[3]);
    if (n->o.on_running != NULL)
        n->o.on_running(n->o.ctx);
    return 0;
}

static void on_transport_closed(void *ctx);

static void on_old_transport_closed(void *ctx)
{
    net_node *n = ctx;
    if (n->closing) {
        on_transport_closed(n);
        return;
    }
    net_transport_free(n->closing_t);
    n->closing_t = NULL;
    char err[256] = "";
    if (start_transport(n, err, sizeof(err)) != 0) {
        net__node_log(n, "cannot restart the transport as node %llu: %s", (unsigned long long)n->id,
                      err);
        return;
    }
    (void)start_kv(n);
}

/* Takes the identity (cluster, node id): the transport restarts under it,
 * then the Raft groups start. */
static void take_identity(net_node *n, const uint8_t cluster[16], uint64_t id)
{
    memcpy(n->cluster, cluster, 16);
    n->id = id;
    n->has_ident = true;
    net__rpc_fail(n, 0);
    pthread_mutex_lock(&n->mu);
    n->send_t = NULL;
    pthread_mutex_unlock(&n->mu);
    n->closing_t = n->t;
    n->t = NULL;
    net_transport_close(n->closing_t, on_old_transport_closed, n);
}

int net__node_bootstrap(net_node *n, char *err, size_t errlen)
{
    uint8_t cluster[16];
    if (getrandom(cluster, sizeof(cluster), 0) != (ssize_t)sizeof(cluster)) {
        snprintf(err, errlen, "no randomness for the cluster id");
        return -1;
    }
    static const uint8_t user_start[1] = {100}; /* the first SQL user table id */
    const uint8_t *keys[1] = {user_start};
    size_t lens[1] = {1};
    kv_store_set_node_id(n->s, 1);
    int rc = kv_store_bootstrap_cluster(n->s, keys, lens, 1, err, errlen);
    if (rc == 0)
        rc = kv_store_ident_put(n->s, cluster, 1, err, errlen);
    if (rc != 0)
        return -1;
    net__node_log(n, "bootstrapped a new cluster as node 1");
    take_identity(n, cluster, 1);
    return 0;
}

/* A member's welcome: our identity and the cluster's directory. */
void net__node_welcome(net_node *n, const uint8_t *p, size_t len)
{
    if (len < 24)
        return;
    uint64_t id = net__get_be64(p + 16);
    if (id == 0 || id >= NET__PROVISIONAL_ID)
        return;
    recv_directory(n, p + 24, len - 24);
    char err[256] = "";
    if (kv_store_ident_put(n->s, p, (uint32_t)id, err, sizeof(err)) != 0) {
        net__node_log(n, "cannot persist the node identity: %s", err);
        return;
    }
    net__node_log(n, "joined the cluster as node %llu", (unsigned long long)id);
    take_identity(n, p, id); /* the next gossip round persists the directory */
}

/* ---- start and close ---------------------------------------------------------------- */

static int load_identity(net_node *n, char *err, size_t errlen)
{
    uint32_t id;
    int rc = kv_store_ident_get(n->s, n->cluster, &id);
    if (rc == KV_ENOTFOUND) {
        if (kv_store_range_count(n->s) > 0) {
            snprintf(err, errlen,
                     "the store has ranges but no cluster identity: it was "
                     "written by an older version; start with a new store");
            return NET_EINVAL;
        }
        uint64_t r = 0;
        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return NET_ESYSTEM;
        n->id = NET__PROVISIONAL_ID | (r & (NET__PROVISIONAL_ID - 1));
        return 0;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot read the store's identity: %s", kv_strerror(rc));
        return NET_EINVAL;
    }
    n->id = id;
    n->has_ident = true;
    kv_buf dir = {0};
    if (kv_store_local_get(n->s, DIR_KEY, &dir) == 0)
        recv_directory(n, (const uint8_t *)dir.data, dir.len);
    kv_buf_free(&dir);
    return 0;
}

static void copy_options(net_node *n, const net_node_options *o)
{
    n->o = *o;
    snprintf(n->listen, sizeof(n->listen), "%s", o->listen);
    snprintf(n->sql, sizeof(n->sql), "%s", o->sql_addr != NULL ? o->sql_addr : "");
    snprintf(n->http, sizeof(n->http), "%s", o->http_addr != NULL ? o->http_addr : "");
    snprintf(n->join, sizeof(n->join), "%s", o->join != NULL ? o->join : "");
}

static void init_handles(net_node *n)
{
    uv_timer_init(n->loop, &n->tick);
    uv_timer_init(n->loop, &n->gossip);
    uv_async_init(n->loop, &n->wake, on_wake);
    n->tick.data = n->gossip.data = n->wake.data = n;
    n->open_handles = 3;
    uv_timer_start(&n->gossip, on_gossip, 200, GOSSIP_MS);
}

int net_node_start(uv_loop_t *loop, kv_store *s, const net_node_options *o, net_node **out,
                   char *err, size_t errlen)
{
    net_node *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NET_ENOMEM;
    n->loop = loop;
    n->s = s;
    copy_options(n, o);
    int rc = NET_ESYSTEM;
    if (getrandom(&n->incarnation, sizeof(n->incarnation), 0) != sizeof(n->incarnation) ||
        pthread_mutex_init(&n->mu, NULL) != 0)
        goto out_free;
    rc = load_identity(n, err, errlen);
    if (rc != 0)
        goto out_destroy_mu;
    rc = start_transport(n, err, errlen);
    if (rc != 0)
        goto out_destroy_mu;
    init_handles(n);
    *out = n;
    if (n->has_ident)
        return start_kv(n) == 0 ? 0 : NET_EINVAL;
    if (o->single && net__node_bootstrap(n, err, errlen) != 0)
        return NET_EINVAL;
    if (!o->single)
        net__node_log(n, "waiting to join a cluster through %s (or for init)",
                      n->join[0] ? n->join : "no --join address");
    return 0;

out_destroy_mu:
    pthread_mutex_destroy(&n->mu);
out_free:
    free(n->peers);
    free(n);
    return rc;
}

static void on_handle_closed(uv_handle_t *h)
{
    net_node *n = h->data;
    if (--n->open_handles == 0 && n->t == NULL && n->closing_t == NULL)
        n->done(n->done_ctx);
}

static void on_transport_closed(void *ctx)
{
    net_node *n = ctx;
    net_transport_free(n->closing_t);
    n->closing_t = NULL;
    if (n->open_handles == 0)
        n->done(n->done_ctx);
}

void net_node_close(net_node *n, void (*done)(void *ctx), void *ctx)
{
    n->closing = true;
    n->done = done;
    n->done_ctx = ctx;
    if (n->kv != NULL)
        kv_node_stop(n->kv);
    net__rpc_fail(n, 0);
    pthread_mutex_lock(&n->mu);
    n->send_t = NULL;
    pthread_mutex_unlock(&n->mu);
    uv_close((uv_handle_t *)&n->tick, on_handle_closed);
    uv_close((uv_handle_t *)&n->gossip, on_handle_closed);
    uv_close((uv_handle_t *)&n->wake, on_handle_closed);
    if (n->t != NULL) { /* else a replacement is closing: its callback ends */
        n->closing_t = n->t;
        n->t = NULL;
        net_transport_close(n->closing_t, on_transport_closed, n);
    }
}

void net_node_free(net_node *n)
{
    if (n == NULL)
        return;
    kv_node_free(n->kv);
    pthread_mutex_destroy(&n->mu);
    kv_buf_free(&n->dir);
    kv_buf_free(&n->saved_dir);
    free(n->peers);
    free(n);
}
