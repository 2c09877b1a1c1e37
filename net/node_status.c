/*
 * node_status.c - the node's HTTP routes: JSON status for tdctl and
 * operators, and cluster initialisation.
 *
 *   GET  /_status/nodes    this node's id, the cluster id, every node it
 *                          knows with its addresses and whether it is up
 *   GET  /_status/ranges   this node's replicas: bounds, members, leader,
 *                          leaseholder, term, commit/applied index, log
 *   POST /_admin/init      bootstraps the cluster (409 if it exists)
 *
 * Keys are shown readably: /Min, /Max, /Meta/<key>, /System/<bytes>,
 * /Table/<id>/<rest in hex>; ids are the SQL key encoding's ordered
 * varints (docs/sql-encoding.md).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv/kv.h"
#include "net/node_int.h"

/* ---- readable keys ----------------------------------------------------------------- */

static void hex_tail(char *out, size_t cap, size_t *len, const uint8_t *k, size_t n)
{
    for (size_t i = 0; i < n && *len + 3 < cap; i++)
        *len += (size_t)snprintf(out + *len, cap - *len, "%02x", k[i]);
}

static void pretty_key(const uint8_t *k, size_t n, bool end, char *out, size_t cap)
{
    size_t len = 0;
    if (n == 0) {
        snprintf(out, cap, "%s", end ? "/Max" : "/Min");
        return;
    }
    if (k[0] == 0) {
        len = (size_t)snprintf(out, cap, "%s/",
                               n >= 2 && (k[1] == 1 || k[1] == 2) ? "/Meta" : "/System");
        hex_tail(out, cap, &len, k + 1, n - 1);
        return;
    }
    uint64_t id = k[0];
    size_t used = 1;
    if (k[0] >= 0xF0) {
        size_t w = k[0] - 0xF0u;
        id = 0;
        for (size_t i = 0; i < w && 1 + i < n; i++)
            id = id << 8 | k[1 + i];
        used = 1 + w;
    }
    len = (size_t)snprintf(out, cap, "/Table/%llu", (unsigned long long)id);
    if (used < n && len + 1 < cap) {
        out[len++] = '/';
        out[len] = 0;
        hex_tail(out, cap, &len, k + used, n - used);
    }
}

/* ---- JSON ---------------------------------------------------------------------------- */

static char *cluster_hex(const net_node *n, char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", n->cluster[i]);
    return out;
}

static json_t *node_json(uint64_t id, const char *rpc, const char *sql, const char *http, bool live,
                         long long ranges, long long leases)
{
    return json_pack("{sI ss ss ss sb sI sI}", "node_id", (json_int_t)id, "rpc_addr", rpc,
                     "sql_addr", sql, "http_addr", http, "live", live, "ranges", (json_int_t)ranges,
                     "leases", (json_int_t)leases);
}

static json_t *nodes_json(net_node *n)
{
    long long ranges = 0, leases = 0;
    kv_arena *a;
    kv_replica_status *st;
    size_t count = 0;
    if (n->kv != NULL && kv_arena_create(&a) == 0) {
        if (kv_node_status(n->kv, a, &st, &count) == 0) {
            for (size_t i = 0; i < count; i++) {
                ranges++;
                leases += st[i].leaseholder == n->id;
            }
        }
        kv_arena_destroy(a);
    }
    char hex[33];
    json_t *list = json_array();
    json_array_append_new(list, node_json(n->id, n->listen, n->sql, n->http, true, ranges, leases));
    for (size_t i = 0; i < n->n_peers; i++) {
        const net__peer *p = &n->peers[i];
        json_array_append_new(list, node_json(p->id, p->rpc, p->sql, p->http, p->up, -1, -1));
    }
    return json_pack("{sI ss so}", "node_id", (json_int_t)(n->has_ident ? n->id : 0), "cluster_id",
                     n->has_ident ? cluster_hex(n, hex) : "", "nodes", list);
}

static const char *role_name(uint8_t role)
{
    static const char *const names[] = {"follower", "candidate", "precandidate", "leader"};
    return role < 4 ? names[role] : "unknown";
}

static json_t *range_json(const kv_replica_status *st)
{
    char start[256], end[256];
    pretty_key(st->desc.start_key, st->desc.start_len, false, start, sizeof(start));
    pretty_key(st->desc.end_key, st->desc.end_len, true, end, sizeof(end));
    json_t *reps = json_array();
    for (uint32_t i = 0; i < st->desc.n_replicas; i++)
        json_array_append_new(
            reps, json_pack("{sI sI ss}", "node_id", (json_int_t)st->desc.replicas[i].node_id,
                            "replica_id", (json_int_t)st->desc.replicas[i].replica_id, "type",
                            st->voter[i] ? "voter" : "learner"));
    return json_pack(
        "{sI ss ss so sI sI sI sI sI sI sI sI sI ss ss}", "range_id", (json_int_t)st->range_id,
        "start_key", start, "end_key", end, "replicas", reps, "raft_leader",
        (json_int_t)st->raft_leader, "leaseholder", (json_int_t)st->leaseholder,
        "lease_expires_in_ms", (json_int_t)st->lease_remaining_ms, "term", (json_int_t)st->term,
        "commit_index", (json_int_t)st->commit, "applied_index", (json_int_t)st->applied,
        "log_entries", (json_int_t)st->log_entries, "log_bytes", (json_int_t)st->log_bytes,
        "approx_bytes", (json_int_t)st->approx_bytes, "raft_state", role_name(st->raft_role),
        "status", st->initialized ? "ok" : "uninitialized");
}

static json_t *ranges_json(net_node *n)
{
    json_t *list = json_array();
    kv_arena *a;
    kv_replica_status *st;
    size_t count = 0;
    if (n->kv != NULL && kv_arena_create(&a) == 0) {
        if (kv_node_status(n->kv, a, &st, &count) == 0) {
            for (size_t i = 0; i < count; i++)
                json_array_append_new(list, range_json(&st[i]));
        }
        kv_arena_destroy(a);
    }
    return json_pack("{sI so}", "node_id", (json_int_t)(n->has_ident ? n->id : 0), "ranges", list);
}

static int json_reply(json_t *j, char **body, const char **type)
{
    *body = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    *type = "application/json";
    return *body != NULL ? 200 : 500;
}

static int text_reply(int code, const char *text, char **body, const char **type)
{
    *body = malloc(strlen(text) + 2);
    if (*body != NULL)
        sprintf(*body, "%s\n", text);
    *type = "text/plain";
    return code;
}

/* ---- routes ------------------------------------------------------------------------- */

static int init_cluster(net_node *n, char **body, const char **type)
{
    if (n->has_ident)
        return text_reply(409, "cluster is already initialized", body, type);
    char err[256] = "";
    if (net__node_bootstrap(n, err, sizeof(err)) != 0)
        return text_reply(500, err, body, type);
    return text_reply(200, "initialized", body, type);
}

int net_node_http(net_node *n, const char *method, const char *path, char **body, const char **type)
{
    bool get = strcmp(method, "GET") == 0;
    if (get && strcmp(path, "/_status/nodes") == 0)
        return json_reply(nodes_json(n), body, type);
    if (get && strcmp(path, "/_status/ranges") == 0)
        return json_reply(ranges_json(n), body, type);
    if (strcmp(method, "POST") == 0 && strcmp(path, "/_admin/init") == 0)
        return init_cluster(n, body, type);
    return 0;
}
