/*
 * txn_history.c - see txn_history.h.
 */
#define _GNU_SOURCE /* program_invocation_short_name */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "txn_history.h"

#ifndef TD_SOURCE_DIR
#error "TD_SOURCE_DIR must name the source tree (for jepsen/check)"
#endif

struct th_history {
    pthread_mutex_t mu;
    FILE *f;
    long index;
    char path[512];
};

void th_die(const char *what, int rc, const char *msg)
{
    fprintf(stderr, "%s: %s: %s (%s)\n", program_invocation_short_name, what, kv_err_name(rc),
            msg != NULL ? msg : "");
    exit(1);
}

long th_env(const char *name, long def)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? strtol(v, NULL, 10) : def;
}

void th_backoff(int attempt, uint64_t rnd)
{
    uint64_t bound = 50u << (attempt < 7 ? attempt : 7);
    usleep((useconds_t)(rnd % bound));
}

kv_store *th_open_store(char *dir, const char *const *splits)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, 256, "%s/kvtxn-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        th_die("mkdtemp", KV_EIO, dir);
    kv_store_options o = {.engine = {.create_if_missing = true}, .no_sync = true};
    kv_store *s;
    char err[256] = "";
    int rc = kv_store_open(dir, &o, &s, err, sizeof(err));
    if (rc != 0)
        th_die("open", rc, err);
    const uint8_t *keys[16];
    size_t lens[16], n = 0;
    for (; splits[n] != NULL && n < 16; n++) {
        keys[n] = (const uint8_t *)splits[n];
        lens[n] = strlen(splits[n]);
    }
    if ((rc = kv_store_bootstrap(s, keys, lens, n, err, sizeof(err))) != 0)
        th_die("bootstrap", rc, err);
    return s;
}

void th_close_store(kv_store *s, const char *dir)
{
    kv_store_close(s);
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Reads every user key without a transaction (see th_count_intents). */
static void read_all(kv_store *s)
{
    kv_request req;
    kv_response resp;
    if (kv_request_init(&req) != 0 || kv_response_init(&resp) != 0)
        th_die("init", KV_ENOMEM, "");
    kv_req q = {.method = KV_SCAN,
                .span = {(const uint8_t *)"\x01", 1, (const uint8_t *)"\xff", 1}};
    int rc = kv_request_add(&req, &q);
    if (rc == 0)
        rc = kv_store_send(s, &req, &resp);
    if (rc != 0)
        th_die("final scan", rc, resp.msg);
    kv_response_free(&resp);
    kv_request_free(&req);
}

size_t th_count_intents(kv_store *s)
{
    read_all(s);
    kv_iter *it;
    char err[256] = "";
    int rc =
        kv_iter_open(kv_store_engine(s), NULL, KV_CF_MVCC, NULL, 0, NULL, 0, &it, err, sizeof(err));
    if (rc != 0)
        th_die("iterator", rc, err);
    kv_buf user = {0};
    size_t n = 0;
    for (kv_iter_seek_first(it); kv_iter_valid(it); kv_iter_next(it)) {
        size_t klen;
        const char *k = kv_iter_key(it, &klen);
        kv_ts ts;
        bool meta;
        if ((rc = kv_mvcc_decode_key(k, klen, &user, &ts, &meta)) != 0)
            th_die("decode", rc, "MVCC key");
        n += meta;
    }
    if ((rc = kv_iter_status(it, err, sizeof(err))) != 0)
        th_die("iterate", rc, err);
    kv_iter_close(it);
    kv_buf_free(&user);
    return n;
}

th_history *th_history_open(const char *dir)
{
    th_history *h = calloc(1, sizeof(*h));
    if (h == NULL)
        th_die("history", KV_ENOMEM, "");
    snprintf(h->path, sizeof(h->path), "%s.history.jsonl", dir);
    if ((h->f = fopen(h->path, "w")) == NULL)
        th_die("history", KV_EIO, h->path);
    pthread_mutex_init(&h->mu, NULL);
    return h;
}

void th_history_event(th_history *h, const char *type, const char *f, long process,
                      const char *value_json, const char *error)
{
    pthread_mutex_lock(&h->mu);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long ns = (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
    fprintf(h->f,
            "{\"index\":%ld,\"type\":\"%s\",\"f\":\"%s\",\"process\":%ld,\"time\":%lld,"
            "\"value\":%s",
            h->index++, type, f, process, ns, value_json);
    if (error != NULL)
        fprintf(h->f, ",\"error\":\"%s\"", error);
    fputs("}\n", h->f);
    pthread_mutex_unlock(&h->mu);
}

int th_history_check(th_history *h, const char *workload, const char *extra)
{
    if (fclose(h->f) != 0)
        th_die("history", KV_EIO, h->path);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/jepsen/check --workload %s %s %s",
             TD_SOURCE_DIR, workload, extra, h->path);
    int st = system(cmd);
    int code = st == -1 || !WIFEXITED(st) ? 127 : WEXITSTATUS(st);
    if (code != 0)
        fprintf(stderr, "\nchecker exit status %d; history kept at %s\n", code, h->path);
    else
        remove(h->path);
    pthread_mutex_destroy(&h->mu);
    free(h);
    return code;
}
