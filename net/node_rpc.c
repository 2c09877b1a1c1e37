/*
 * node_rpc.c - KV batches between nodes, and the member side of joining.
 *
 * A worker that must reach a range held elsewhere (kv/dist.c) calls
 * net__rpc_send: it registers a call, hands the encoded batch to the
 * transport (thread-safe send) and sleeps until the answer arrives, the
 * connection to that node goes down, or CALL_TIMEOUT_S passes; the last two
 * are KV_EUNAVAILABLE, which the store retries elsewhere or reports as
 * ambiguous. The serving node evaluates the batch on a worker against its
 * own replicas only (kv_store_send_local) and sends the response back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kv/kv.h"
#include "kv/kv_codec.h"
#include "net/net_int.h"
#include "net/node_int.h"

#define CALL_TIMEOUT_S 10

/* ---- the calling side (workers) --------------------------------------------------- */

static void unlink_call(net_node *n, net__call *c)
{
    for (net__call **pp = &n->calls; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            return;
        }
    }
}

void net__rpc_peer(net_node *n, uint64_t node, bool up)
{
    pthread_mutex_lock(&n->mu);
    size_t i = 0;
    while (i < n->n_down && n->down[i] != node)
        i++;
    if (up && i < n->n_down)
        n->down[i] = n->down[--n->n_down];
    else if (!up && i == n->n_down && n->n_down < sizeof(n->down) / sizeof(n->down[0]))
        n->down[n->n_down++] = node;
    pthread_mutex_unlock(&n->mu);
}

static bool is_down(const net_node *n, uint64_t node)
{
    for (size_t i = 0; i < n->n_down; i++) {
        if (n->down[i] == node)
            return true;
    }
    return false;
}

/* A message of the protocol: the call id (put in by the caller at
 * msg->data[0..8)) and the encoded batch after it. KV_ENOMEM. */
static int frame(const kv_buf *body, kv_buf *msg)
{
    int rc = kv_buf_reserve(msg, 8 + body->len);
    if (rc != 0)
        return rc;
    memcpy(msg->data + 8, body->data, body->len);
    msg->len = 8 + body->len;
    return 0;
}

/* The request framed, before any lock is taken. */
static int encode_call(const kv_request *req, kv_buf *msg)
{
    kv_buf body = {0};
    int rc = kv_request_encode(req, &body);
    if (rc == 0)
        rc = frame(&body, msg);
    kv_buf_free(&body);
    return rc;
}

/* Sends call c (its id now in msg); the caller holds n->mu. */
static int post(net_node *n, const net__call *c, kv_buf *msg)
{
    net__put_be64((uint8_t *)msg->data, c->id);
    if (n->send_t == NULL || is_down(n, c->node) ||
        net_transport_send_threadsafe(n->send_t, c->node, NET__MSG_KV_REQ, msg->data, msg->len) !=
            0)
        return KV_EUNREACHABLE; /* nothing left: safe to try elsewhere */
    return 0;
}

int net__rpc_send(void *arg, uint64_t node, const kv_request *req, kv_response *resp)
{
    net_node *n = arg;
    net__call c = {.node = node, .resp = resp, .rc = KV_EUNAVAILABLE};
    kv_buf msg = {0};
    if (encode_call(req, &msg) != 0 || pthread_cond_init(&c.cv, NULL) != 0) {
        kv_buf_free(&msg);
        return resp->err = KV_ENOMEM;
    }
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += CALL_TIMEOUT_S;
    pthread_mutex_lock(&n->mu);
    c.id = ++n->next_call;
    c.next = n->calls;
    n->calls = &c;
    int rc = post(n, &c, &msg);
    while (rc == 0 && !c.done) {
        if (pthread_cond_timedwait(&c.cv, &n->mu, &deadline) == ETIMEDOUT)
            break;
    }
    if (!c.done) {
        unlink_call(n, &c);
        c.rc = rc != 0 ? rc : KV_EUNAVAILABLE;
    }
    pthread_mutex_unlock(&n->mu);
    pthread_cond_destroy(&c.cv);
    kv_buf_free(&msg);
    if (c.rc == KV_EUNAVAILABLE || c.rc == KV_EUNREACHABLE)
        snprintf(resp->msg, sizeof(resp->msg), "node %llu %s", (unsigned long long)node,
                 c.rc == KV_EUNAVAILABLE ? "did not answer" : "is unreachable");
    return resp->err = c.rc;
}

void net__rpc_answer(net_node *n, const uint8_t *p, size_t len)
{
    if (len < 8)
        return;
    uint64_t id = net__get_be64(p);
    pthread_mutex_lock(&n->mu);
    for (net__call *c = n->calls; c != NULL; c = c->next) {
        if (c->id != id)
            continue;
        unlink_call(n, c);
        int rc = kv_response_decode(p + 8, len - 8, c->resp);
        c->rc = rc != 0 ? KV_EUNAVAILABLE : c->resp->err;
        c->done = true;
        pthread_cond_signal(&c->cv);
        break;
    }
    pthread_mutex_unlock(&n->mu);
}

void net__rpc_fail(net_node *n, uint64_t node)
{
    pthread_mutex_lock(&n->mu);
    for (net__call **pp = &n->calls; *pp != NULL;) {
        net__call *c = *pp;
        if (node != 0 && c->node != node) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        c->rc = KV_EUNAVAILABLE;
        c->done = true;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&n->mu);
}

/* ---- the serving side --------------------------------------------------------------- */

typedef struct served {
    net_work w;
    net_node *n;
    uint64_t from, id;
    size_t len;
    uint8_t body[]; /* the encoded request */
} served;

static void reply(net_node *n, uint64_t to, uint64_t id, const kv_response *resp)
{
    kv_buf msg = {0}, body = {0};
    if (kv_response_encode(resp, &body) == 0 && frame(&body, &msg) == 0) {
        net__put_be64((uint8_t *)msg.data, id);
        pthread_mutex_lock(&n->mu);
        if (n->send_t != NULL)
            (void)net_transport_send_threadsafe(n->send_t, to, NET__MSG_KV_RESP, msg.data, msg.len);
        pthread_mutex_unlock(&n->mu);
    }
    kv_buf_free(&body);
    kv_buf_free(&msg);
}

static void serve(void *arg)
{
    served *s = arg;
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0)
        goto out_free;
    if (kv_response_init(&resp) != 0)
        goto out_free_req;
    if (kv_request_decode(s->body, s->len, &req) != 0) {
        resp.err = KV_EINVAL;
        snprintf(resp.msg, sizeof(resp.msg), "malformed request");
    } else {
        kv_ts ts = req.h.txn != NULL ? req.h.txn->write_ts : req.h.ts;
        if (!kv_ts_is_zero(ts))
            (void)kv_hlc_update(kv_store_clock(s->n->s), ts, NULL);
        (void)kv_store_send_local(s->n->s, &req, &resp);
    }
    reply(s->n, s->from, s->id, &resp);
    kv_response_free(&resp);
out_free_req:
    kv_request_free(&req);
out_free:
    free(s);
}

void net__rpc_serve(net_node *n, uint64_t from, const uint8_t *p, size_t len)
{
    if (len < 8)
        return;
    served *s = malloc(sizeof(*s) + len - 8);
    if (s == NULL)
        return; /* the caller times out and retries */
    *s = (served){.w = {.fn = serve}, .n = n, .from = from, .id = net__get_be64(p), .len = len - 8};
    s->w.arg = s;
    memcpy(s->body, p + 8, len - 8);
    net_workers_submit(n->o.workers, &s->w);
}

/* ---- joining: the member's side -------------------------------------------------------- */

typedef struct joining {
    net_work w;
    struct joining *next; /* the finished list */
    net_node *n;
    uint64_t provisional;
    uint64_t node_id; /* out; 0: allocation failed */
} joining;

/* Worker: allocates a node id. Ids from the counter start at 2: node 1
 * bootstrapped the cluster. */
static void allocate_id(void *arg)
{
    joining *j = arg;
    net_node *n = j->n;
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) == 0) {
        if (kv_response_init(&resp) == 0) {
            kv_req q = {
                .method = KV_INCREMENT,
                .span = {(const uint8_t *)KV_NODE_ID_KEY, sizeof(KV_NODE_ID_KEY) - 1, NULL, 0},
                .u.inc = {.delta = 1}};
            if (kv_request_add(&req, &q) == 0 && kv_store_send(n->s, &req, &resp) == 0)
                j->node_id = (uint64_t)resp.resps[0].new_value + 1;
            kv_response_free(&resp);
        }
        kv_request_free(&req);
    }
    pthread_mutex_lock(&n->mu);
    j->next = n->joined;
    n->joined = j;
    pthread_mutex_unlock(&n->mu);
    uv_async_send(&n->wake);
}

static net__joiner *find_joiner(net_node *n, uint64_t provisional)
{
    for (size_t i = 0; i < n->n_joiners; i++) {
        if (n->joiners[i].provisional == provisional)
            return &n->joiners[i];
    }
    return NULL;
}

static void welcome(net_node *n, const net__joiner *e)
{
    kv_buf msg = {0};
    if (net__node_directory(n, &msg, 24) == 0 &&
        net_transport_set_peer(n->t, e->provisional, e->addr.rpc) == 0) {
        memcpy(msg.data, n->cluster, 16);
        net__put_be64((uint8_t *)msg.data + 16, e->node_id);
        net_transport_send(n->t, e->provisional, NET__MSG_WELCOME, msg.data, msg.len);
        net__node_log(n, "node %llu joins from %s", (unsigned long long)e->node_id, e->addr.rpc);
    }
    kv_buf_free(&msg);
}

void net__rpc_joined(net_node *n)
{
    pthread_mutex_lock(&n->mu);
    joining *j = n->joined;
    n->joined = NULL;
    pthread_mutex_unlock(&n->mu);
    while (j != NULL) {
        joining *next = j->next;
        net__joiner *e = find_joiner(n, j->provisional);
        if (e != NULL && j->node_id == 0)
            *e = n->joiners[--n->n_joiners]; /* failed: the joiner asks again */
        else if (e != NULL && n->t != NULL) {
            e->node_id = e->addr.id = j->node_id;
            net__node_learn(n, &e->addr); /* it may call us before it gossips */
            welcome(n, e);
        }
        free(j);
        j = next;
    }
}

void net__rpc_join(net_node *n, uint64_t from, const uint8_t *p, size_t len)
{
    if (from < NET__PROVISIONAL_ID || from >= NET__SEED_ID)
        return;
    net__joiner *e = find_joiner(n, from);
    if (e != NULL) {
        if (e->node_id != 0)
            welcome(n, e); /* our welcome was lost */
        return;            /* else its id is being allocated */
    }
    net__joiner fresh = {.provisional = from};
    size_t off = 0;
    if (net__get_str(p, len, &off, fresh.addr.rpc) < 0 ||
        net__get_str(p, len, &off, fresh.addr.sql) < 0 ||
        net__get_str(p, len, &off, fresh.addr.http) < 0)
        return;
    joining *j = calloc(1, sizeof(*j));
    if (j == NULL)
        return;
    size_t slot = n->n_joiners < NET__JOINERS ? n->n_joiners++ : (size_t)(from % NET__JOINERS);
    n->joiners[slot] = fresh;
    *j = (joining){.w = {.fn = allocate_id}, .n = n, .provisional = from};
    j->w.arg = j;
    net_workers_submit(n->o.workers, &j->w);
}
