/*
 * tdctl.c - the admin CLI: shows a running cluster's nodes and ranges.
 *
 *   tdctl [--host HOST:HTTPPORT] [--format table|json] nodes | ranges | range ID
 *
 * Everything comes from the nodes' HTTP status servers (docs/operations.md):
 *
 *   nodes     GET /_status/nodes on --host.
 *   ranges    GET /_status/nodes on --host, then GET /_status/ranges on every
 *             live node; each node reports only its own replicas, so the
 *             views are merged per range id. A range shows the view of the
 *             node holding its lease (it is the one that serves and proposes,
 *             so its indexes are the newest), else of its Raft leader, else
 *             of any replica. A node that is not live or does not answer is
 *             skipped with a note on stderr: a cluster that lost a node is
 *             exactly when an operator runs this.
 *   range ID  one row per replica of that range, each from its own node.
 *
 * --format json prints the same data as JSON instead of a table:
 *
 *   nodes     the /_status/nodes document as the node sent it
 *   ranges    {"ranges":[<chosen view>...], "skipped_nodes":[<node id>...]},
 *             each view as /_status/ranges has it plus "reported_by": <node id>
 *   range ID  {"range_id":ID, "replicas":[{"node_id","replica_id","type",
 *             "view": <that node's view, or null>}...]}
 *
 * Exit status: 0 success; 1 --host unreachable, a malformed answer or an
 * unknown range (the reason on stderr, prefixed "tdctl: "); 2 bad usage.
 *
 * HTTP goes through libcurl and JSON through jansson: both are Debian
 * packages, and a hand-written HTTP/1.1 client would only duplicate them.
 * One request at a time, each bounded in time (connect 5 s, total 10 s)
 * and size (64 MiB), so a hung node delays tdctl but cannot hang it.
 */
#define _GNU_SOURCE /* vasprintf */
#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#define DEFAULT_HOST      "127.0.0.1:26457"
#define MAX_BODY          ((size_t)64 << 20)
#define CONNECT_TIMEOUT_S 5L
#define REQUEST_TIMEOUT_S 10L
#define ERRLEN            512

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

typedef enum { FORMAT_TABLE, FORMAT_JSON } out_format;

typedef struct options {
    const char *host;
    out_format format;
    const char *command;
    json_int_t range_id; /* `range ID` only */
} options;

/* ---- HTTP -------------------------------------------------------------- */

typedef struct body {
    char *data; /* NUL-terminated, malloc'd */
    size_t len;
} body;

/* libcurl's write callback: returning less than it got aborts the transfer
 * (CURLE_WRITE_ERROR), which is how the size bound is enforced. */
static size_t body_append(char *ptr, size_t size, size_t nmemb, void *ctx)
{
    body *b = ctx;
    size_t n = size * nmemb;
    if (n > MAX_BODY - b->len)
        return 0;
    char *grown = realloc(b->data, b->len + n + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->len, ptr, n);
    b->len += n;
    grown[b->len] = '\0';
    b->data = grown;
    return n;
}

/* Why a transfer failed, worded like the OS says it ("Connection refused")
 * when the failure was a system call's. */
static const char *transfer_reason(CURL *curl, CURLcode rc, const char *curl_err)
{
    long os_errno = 0;
    if (rc == CURLE_COULDNT_CONNECT &&
        curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno != 0)
        return strerror((int)os_errno);
    if (rc == CURLE_WRITE_ERROR)
        return "answer too large or out of memory";
    return curl_err[0] != '\0' ? curl_err : curl_easy_strerror(rc);
}

/* One GET of http://HOST PATH into *out (out->data: malloc'd, the caller
 * frees it, also on failure). 0, or -1 with the reason in err. */
static int http_get(CURL *curl, const char *host, const char *path, body *out, char *err)
{
    char url[600], curl_err[CURL_ERROR_SIZE] = "";
    int len = snprintf(url, sizeof(url), "http://%s%s", host, path);
    if (len < 0 || (size_t)len >= sizeof(url)) {
        snprintf(err, ERRLEN, "cannot reach %.64s...: address too long", host);
        return -1;
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, REQUEST_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
    CURLcode rc = curl_easy_perform(curl);
    if (rc != CURLE_OK) {
        snprintf(err, ERRLEN, "cannot reach %s: %s", host, transfer_reason(curl, rc, curl_err));
        return -1;
    }
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) {
        snprintf(err, ERRLEN, "GET http://%s%s: HTTP status %ld", host, path, status);
        return -1;
    }
    return 0;
}

/* GET http://HOST PATH parsed as JSON: a new reference the caller
 * json_decref()s, or NULL with the reason in err. */
static json_t *http_get_json(CURL *curl, const char *host, const char *path, char *err)
{
    body b = {NULL, 0};
    json_t *doc = NULL;
    if (http_get(curl, host, path, &b, err) != 0)
        goto out_free_body;
    json_error_t jerr;
    doc = json_loadb(b.data != NULL ? b.data : "", b.len, 0, &jerr);
    if (doc == NULL)
        snprintf(err, ERRLEN, "GET http://%s%s: invalid JSON: %s (line %d)", host, path, jerr.text,
                 jerr.line);
out_free_body:
    free(b.data);
    return doc;
}

/* ---- the status documents ---------------------------------------------- */

/* obj[key] as an array (borrowed from obj), or NULL with the reason in jerr. */
static json_t *array_member(json_t *obj, const char *key, json_error_t *jerr)
{
    json_t *a = json_object_get(obj, key);
    if (!json_is_array(a))
        snprintf(jerr->text, sizeof(jerr->text), "\"%s\" is %s", key,
                 a == NULL ? "missing" : "not an array");
    return json_is_array(a) ? a : NULL;
}

typedef struct node_info {
    json_int_t id, ranges, leases;
    const char *rpc, *sql, *http; /* borrowed from the document */
    int live;
} node_info;

static int node_unpack(json_t *node, node_info *n, json_error_t *jerr)
{
    return json_unpack_ex(node, jerr, 0, "{s:I, s:s, s:s, s:s, s:b, s:I, s:I}", "node_id", &n->id,
                          "rpc_addr", &n->rpc, "sql_addr", &n->sql, "http_addr", &n->http, "live",
                          &n->live, "ranges", &n->ranges, "leases", &n->leases);
}

/* GET /_status/nodes on host, every node checked for the fields tdctl
 * shows. A new reference the caller json_decref()s, or NULL with the reason
 * in err. Its "nodes" array is what the node_unpack() calls walk. */
static json_t *fetch_nodes(CURL *curl, const char *host, char *err)
{
    json_t *doc = http_get_json(curl, host, "/_status/nodes", err), *nodes, *node;
    if (doc == NULL)
        return NULL;
    json_error_t jerr;
    size_t i;
    node_info n;
    if ((nodes = array_member(doc, "nodes", &jerr)) == NULL)
        goto out_malformed;
    json_array_foreach(nodes, i, node)
    {
        if (node_unpack(node, &n, &jerr) != 0)
            goto out_malformed;
    }
    return doc;
out_malformed:
    snprintf(err, ERRLEN, "GET http://%s/_status/nodes: unexpected answer: %s", host, jerr.text);
    json_decref(doc);
    return NULL;
}

/* One node's view of one range; pointers borrowed from that node's
 * /_status/ranges document, which the enclosing cluster_view keeps. */
typedef struct range_view {
    json_t *obj;
    json_int_t reporter; /* the node that answered */
    json_int_t id, leader, leaseholder, term, commit, applied, log_entries, approx_bytes;
    const char *start, *end, *status;
    json_t *replicas;
} range_view;

static int range_unpack(json_t *obj, json_int_t reporter, range_view *v, json_error_t *jerr)
{
    v->obj = obj;
    v->reporter = reporter;
    if (json_unpack_ex(obj, jerr, 0, "{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
                       "range_id", &v->id, "start_key", &v->start, "end_key", &v->end,
                       "raft_leader", &v->leader, "leaseholder", &v->leaseholder, "term", &v->term,
                       "commit_index", &v->commit, "applied_index", &v->applied, "log_entries",
                       &v->log_entries, "approx_bytes", &v->approx_bytes, "status",
                       &v->status) != 0)
        return -1;
    if ((v->replicas = array_member(obj, "replicas", jerr)) == NULL)
        return -1;
    json_t *r;
    size_t i;
    json_int_t node_id, replica_id;
    const char *type;
    json_array_foreach(v->replicas, i, r)
    {
        if (json_unpack_ex(r, jerr, 0, "{s:I, s:I, s:s}", "node_id", &node_id, "replica_id",
                           &replica_id, "type", &type) != 0)
            return -1;
    }
    return 0;
}

/* Every range view of every live node, sorted by range id and, within a
 * range, most authoritative view first (see the file comment). */
typedef struct cluster_view {
    json_t *docs;    /* owns the /_status/ranges documents */
    json_t *skipped; /* node ids skipped, for the JSON output */
    range_view *v;   /* malloc'd */
    size_t n, cap;
} cluster_view;

static void cluster_view_free(cluster_view *cv)
{
    free(cv->v);
    json_decref(cv->docs);
    json_decref(cv->skipped);
}

static int cluster_view_push(cluster_view *cv, const range_view *v)
{
    if (cv->n == cv->cap) {
        size_t cap = cv->cap != 0 ? 2 * cv->cap : 16;
        range_view *grown = realloc(cv->v, cap * sizeof(*grown));
        if (grown == NULL)
            return -1;
        cv->v = grown;
        cv->cap = cap;
    }
    cv->v[cv->n++] = *v;
    return 0;
}

/* Adds one node's /_status/ranges document to cv, which takes the
 * reference (also on failure). 0, or -1 with the reason in err. */
static int cluster_view_add(cluster_view *cv, json_t *doc, const char *http, char *err)
{
    json_t *ranges, *obj;
    json_int_t reporter;
    json_error_t jerr;
    size_t i;
    range_view v;
    if (json_array_append_new(cv->docs, doc) != 0)
        goto out_oom;
    if (json_unpack_ex(doc, &jerr, 0, "{s:I}", "node_id", &reporter) != 0 ||
        (ranges = array_member(doc, "ranges", &jerr)) == NULL)
        goto out_malformed;
    json_array_foreach(ranges, i, obj)
    {
        if (range_unpack(obj, reporter, &v, &jerr) != 0)
            goto out_malformed;
        if (cluster_view_push(cv, &v) != 0)
            goto out_oom;
    }
    return 0;
out_oom:
    snprintf(err, ERRLEN, "out of memory");
    return -1;
out_malformed:
    snprintf(err, ERRLEN, "GET http://%s/_status/ranges: unexpected answer: %s", http, jerr.text);
    return -1;
}

static int view_rank(const range_view *v)
{
    if (v->leaseholder != 0 && v->reporter == v->leaseholder)
        return 0;
    if (v->leader != 0 && v->reporter == v->leader)
        return 1;
    return 2;
}

static int view_cmp(const void *a, const void *b)
{
    const range_view *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    if (view_rank(x) != view_rank(y))
        return view_rank(x) - view_rank(y);
    return x->reporter < y->reporter ? -1 : x->reporter > y->reporter;
}

/* Fetches /_status/ranges from every live node listed in nodes_doc.
 * 0 with *cv filled (the caller cluster_view_free()s it), or -1 with the
 * reason in err when no node could be asked or memory ran out. */
static int cluster_view_fetch(CURL *curl, json_t *nodes_doc, cluster_view *cv, char *err)
{
    *cv = (cluster_view){json_array(), json_array(), NULL, 0, 0};
    if (cv->docs == NULL || cv->skipped == NULL)
        goto out_oom;
    json_t *node;
    size_t i, answered = 0;
    node_info n;
    json_error_t jerr;
    char why[ERRLEN];
    json_array_foreach(json_object_get(nodes_doc, "nodes"), i, node)
    {
        node_unpack(node, &n, &jerr); /* fetch_nodes() checked every one */
        json_t *doc = n.live ? http_get_json(curl, n.http, "/_status/ranges", why) : NULL;
        size_t before = cv->n;
        if (doc == NULL || cluster_view_add(cv, doc, n.http, why) != 0) {
            cv->n = before; /* a node's answer counts whole or not at all */
            fprintf(stderr, "tdctl: skipping node %" JSON_INTEGER_FORMAT ": %s\n", n.id,
                    n.live ? why : "not live");
            json_array_append_new(cv->skipped, json_integer(n.id));
            continue;
        }
        answered++;
    }
    if (answered == 0) {
        snprintf(err, ERRLEN, "no live node answered GET /_status/ranges");
        goto out_free_view;
    }
    qsort(cv->v, cv->n, sizeof(*cv->v), view_cmp);
    return 0;
out_oom:
    snprintf(err, ERRLEN, "out of memory");
out_free_view:
    cluster_view_free(cv);
    return -1;
}

/* ---- tables ------------------------------------------------------------ */

/* An aligned text table. Cells are added row-major; an allocation failure
 * is sticky (like an LMDB transaction's) and reported by table_print(), so
 * the code that fills a table does not check every cell. */
typedef struct table {
    const char *const *head; /* column titles, borrowed */
    size_t ncols;
    char **cells; /* malloc'd strings */
    size_t n, cap;
    bool oom;
} table;

static void table_cell(table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void table_cell(table *t, const char *fmt, ...)
{
    if (t->oom)
        return;
    if (t->n == t->cap) {
        size_t cap = t->cap != 0 ? 2 * t->cap : 64;
        char **grown = realloc(t->cells, cap * sizeof(*grown));
        if (grown == NULL) {
            t->oom = true;
            return;
        }
        t->cells = grown;
        t->cap = cap;
    }
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&t->cells[t->n], fmt, ap);
    va_end(ap);
    if (rc < 0)
        t->oom = true;
    else
        t->n++;
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->cells[i]);
    free(t->cells);
}

static void print_row(const char *const *row, size_t ncols, const size_t *width)
{
    for (size_t c = 0; c < ncols; c++) {
        if (c + 1 < ncols)
            printf("%-*s  ", (int)width[c], row[c]);
        else
            printf("%s\n", row[c]);
    }
}

/* Prints the table with a title row, then frees it. 0, or -1 after a
 * failed allocation. */
static int table_print(table *t)
{
    size_t width[32] = {0};
    assert(t->ncols <= sizeof(width) / sizeof(width[0]));
    if (t->oom)
        goto out_free;
    assert(t->n % t->ncols == 0);
    for (size_t c = 0; c < t->ncols; c++)
        width[c] = strlen(t->head[c]);
    for (size_t i = 0; i < t->n; i++) {
        size_t len = strlen(t->cells[i]);
        if (len > width[i % t->ncols])
            width[i % t->ncols] = len;
    }
    print_row(t->head, t->ncols, width);
    for (size_t i = 0; i < t->n; i += t->ncols)
        print_row((const char *const *)&t->cells[i], t->ncols, width);
out_free:
    table_free(t);
    if (t->oom)
        fputs("tdctl: out of memory\n", stderr);
    return t->oom ? -1 : 0;
}

/* "n3", or "-" for 0: the status documents use 0 for "unknown". */
static void cell_node(table *t, json_int_t id)
{
    if (id > 0)
        table_cell(t, "n%" JSON_INTEGER_FORMAT, id);
    else
        table_cell(t, "-");
}

/* -1 means "only the answering node knows" in /_status/nodes. */
static void cell_count(table *t, json_int_t n)
{
    if (n >= 0)
        table_cell(t, "%" JSON_INTEGER_FORMAT, n);
    else
        table_cell(t, "-");
}

static void cell_size(table *t, json_int_t bytes)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        table_cell(t, "%" JSON_INTEGER_FORMAT " B", bytes);
    else
        table_cell(t, "%.1f %s", v, unit[u]);
}

/* "n1,n2,n3"; replicas that are not voters carry their type ("n4:learner"). */
static void cell_replicas(table *t, json_t *replicas)
{
    char buf[1024] = "";
    size_t len = 0, i;
    json_t *r;
    json_array_foreach(replicas, i, r)
    {
        const char *type = json_string_value(json_object_get(r, "type"));
        bool voter = strcmp(type, "voter") == 0;
        int w = snprintf(buf + len, sizeof(buf) - len, "%sn%" JSON_INTEGER_FORMAT "%s%s",
                         i > 0 ? "," : "", json_integer_value(json_object_get(r, "node_id")),
                         voter ? "" : ":", voter ? "" : type);
        if (w < 0 || (size_t)w >= sizeof(buf) - len)
            break; /* a row that long is cut rather than failing the listing */
        len += (size_t)w;
    }
    table_cell(t, "%s", buf);
}

/* ---- output ------------------------------------------------------------ */

/* Prints doc as indented JSON; does not take the reference. */
static int print_json(json_t *doc)
{
    if (doc == NULL) {
        fputs("tdctl: out of memory\n", stderr);
        return -1;
    }
    if (json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "tdctl: cannot write the output: %s\n", strerror(errno));
        return -1;
    }
    putchar('\n');
    return 0;
}

static int print_nodes(json_t *doc, out_format format)
{
    if (format == FORMAT_JSON)
        return print_json(doc);
    static const char *const head[] = {"id", "rpc", "sql", "http", "live", "ranges", "leases"};
    table t = {head, sizeof(head) / sizeof(head[0]), NULL, 0, 0, false};
    json_t *node;
    size_t i;
    node_info n;
    json_error_t jerr;
    json_array_foreach(json_object_get(doc, "nodes"), i, node)
    {
        node_unpack(node, &n, &jerr); /* fetch_nodes() checked every one */
        table_cell(&t, "%" JSON_INTEGER_FORMAT, n.id);
        table_cell(&t, "%s", n.rpc);
        table_cell(&t, "%s", n.sql);
        table_cell(&t, "%s", n.http);
        table_cell(&t, "%s", n.live ? "true" : "false");
        cell_count(&t, n.ranges);
        cell_count(&t, n.leases);
    }
    return table_print(&t);
}

/* The cells both range tables end with: leader to status. */
static void raft_cells(table *t, const range_view *v)
{
    cell_node(t, v->leader);
    cell_node(t, v->leaseholder);
    table_cell(t, "%" JSON_INTEGER_FORMAT, v->term);
    table_cell(t, "%" JSON_INTEGER_FORMAT, v->commit);
    table_cell(t, "%" JSON_INTEGER_FORMAT, v->applied);
    table_cell(t, "%" JSON_INTEGER_FORMAT, v->log_entries);
    cell_size(t, v->approx_bytes);
    table_cell(t, "%s", v->status);
}

static void range_row(table *t, const range_view *v)
{
    table_cell(t, "%" JSON_INTEGER_FORMAT, v->id);
    table_cell(t, "%s", v->start);
    table_cell(t, "%s", v->end);
    cell_replicas(t, v->replicas);
    raft_cells(t, v);
}

/* A shallow copy of obj with key set to value (whose reference it takes,
 * also on failure): a new reference, or NULL when memory ran out. */
static json_t *copy_with(json_t *obj, const char *key, json_t *value)
{
    json_t *copy = json_copy(obj);
    if (copy == NULL) {
        json_decref(value);
        return NULL;
    }
    if (json_object_set_new(copy, key, value) != 0) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

/* {"ranges":[<the chosen view, plus "reported_by">...],"skipped_nodes":[...]} */
static int print_ranges_json(const cluster_view *cv)
{
    json_t *ranges = json_array();
    for (size_t i = 0; i < cv->n && ranges != NULL; i++) {
        if (i > 0 && cv->v[i].id == cv->v[i - 1].id)
            continue;
        json_t *row = copy_with(cv->v[i].obj, "reported_by", json_integer(cv->v[i].reporter));
        if (json_array_append_new(ranges, row) != 0) {
            json_decref(ranges); /* print_json() reports the failed json_pack() */
            ranges = NULL;
        }
    }
    json_t *doc = json_pack("{s:o, s:O}", "ranges", ranges, "skipped_nodes", cv->skipped);
    int rc = print_json(doc);
    json_decref(doc);
    return rc;
}

static int print_ranges(const cluster_view *cv, out_format format)
{
    if (format == FORMAT_JSON)
        return print_ranges_json(cv);
    static const char *const head[] = {"id",      "start",       "end",         "replicas",
                                       "leader",  "leaseholder", "term",        "commit",
                                       "applied", "log entries", "approx size", "status"};
    table t = {head, sizeof(head) / sizeof(head[0]), NULL, 0, 0, false};
    for (size_t i = 0; i < cv->n; i++) {
        if (i == 0 || cv->v[i].id != cv->v[i - 1].id)
            range_row(&t, &cv->v[i]);
    }
    return table_print(&t);
}

/* The view of range `id` reported by node `node` (0: by any node, so the
 * most authoritative one, cv being sorted), or NULL. Borrowed from cv. */
static const range_view *find_view(const cluster_view *cv, json_int_t id, json_int_t node)
{
    for (size_t i = 0; i < cv->n; i++) {
        if (cv->v[i].id == id && (node == 0 || cv->v[i].reporter == node))
            return &cv->v[i];
    }
    return NULL;
}

static bool node_skipped(const cluster_view *cv, json_int_t node)
{
    json_t *id;
    size_t i;
    json_array_foreach(cv->skipped, i, id)
    {
        if (json_integer_value(id) == node)
            return true;
    }
    return false;
}

/* One replica's row from its own node's view v; without one, the status
 * says whether that node did not answer or answered without the replica. */
static void replica_row(table *t, const cluster_view *cv, json_t *replica, const range_view *v)
{
    json_int_t node = json_integer_value(json_object_get(replica, "node_id"));
    table_cell(t, "n%" JSON_INTEGER_FORMAT, node);
    table_cell(t, "%" JSON_INTEGER_FORMAT,
               json_integer_value(json_object_get(replica, "replica_id")));
    table_cell(t, "%s", json_string_value(json_object_get(replica, "type")));
    if (v == NULL) {
        for (int c = 0; c < 8; c++)
            table_cell(t, "-");
        table_cell(t, "%s", node_skipped(cv, node) ? "node skipped" : "not on its node");
        return;
    }
    const char *state = json_string_value(json_object_get(v->obj, "raft_state"));
    table_cell(t, "%s", state != NULL ? state : "-");
    raft_cells(t, v);
}

/* {"range_id":N,"replicas":[{"node_id","replica_id","type","view":{...}|null}]} */
static int print_range_json(const cluster_view *cv, const range_view *best)
{
    json_t *replicas = json_array(), *r;
    size_t i;
    json_array_foreach(best->replicas, i, r)
    {
        json_int_t node = json_integer_value(json_object_get(r, "node_id"));
        const range_view *v = find_view(cv, best->id, node);
        json_t *row = copy_with(r, "view", v != NULL ? json_copy(v->obj) : json_null());
        if (json_array_append_new(replicas, row) != 0) {
            json_decref(replicas); /* print_json() reports the failed json_pack() */
            replicas = NULL;
            break;
        }
    }
    json_t *doc = json_pack("{s:I, s:o}", "range_id", best->id, "replicas", replicas);
    int rc = print_json(doc);
    json_decref(doc);
    return rc;
}

/* The replica list comes from the most authoritative view (cv is sorted),
 * each row's figures from that replica's own node. */
static int print_range(const cluster_view *cv, json_int_t id, out_format format)
{
    const range_view *best = find_view(cv, id, 0);
    if (best == NULL) {
        fprintf(stderr, "tdctl: range %" JSON_INTEGER_FORMAT " not found on any live node\n", id);
        return -1;
    }
    if (format == FORMAT_JSON)
        return print_range_json(cv, best);
    static const char *const head[] = {"node",    "replica",     "type",        "state",
                                       "leader",  "leaseholder", "term",        "commit",
                                       "applied", "log entries", "approx size", "status"};
    table t = {head, sizeof(head) / sizeof(head[0]), NULL, 0, 0, false};
    json_t *r;
    size_t i;
    json_array_foreach(best->replicas, i, r)
    {
        replica_row(&t, cv, r,
                    find_view(cv, id, json_integer_value(json_object_get(r, "node_id"))));
    }
    return table_print(&t);
}

/* ---- commands ---------------------------------------------------------- */

static int run(CURL *curl, const options *o)
{
    char err[ERRLEN];
    int rc = -1;
    json_t *nodes = fetch_nodes(curl, o->host, err);
    if (nodes == NULL) {
        fprintf(stderr, "tdctl: %s\n", err);
        return -1;
    }
    if (strcmp(o->command, "nodes") == 0) {
        rc = print_nodes(nodes, o->format);
        goto out_free_nodes;
    }
    cluster_view cv;
    if (cluster_view_fetch(curl, nodes, &cv, err) != 0) {
        fprintf(stderr, "tdctl: %s\n", err);
        goto out_free_nodes;
    }
    if (strcmp(o->command, "ranges") == 0)
        rc = print_ranges(&cv, o->format);
    else
        rc = print_range(&cv, o->range_id, o->format);
    cluster_view_free(&cv);
out_free_nodes:
    json_decref(nodes);
    return rc;
}

static void usage(FILE *to)
{
    fputs("usage: tdctl [--host HOST:HTTPPORT] [--format table|json] nodes | ranges | range ID\n"
          "default --host " DEFAULT_HOST "\n",
          to);
}

/* 0, or -1 after saying what is wrong on stderr; 1 for --help. */
static int parse_args(int argc, char **argv, options *o)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (options){DEFAULT_HOST, FORMAT_TABLE, NULL, 0};
    for (int opt; (opt = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (opt == 'h')
            return 1;
        if (opt == 'H' && optarg[0] != '\0') {
            o->host = optarg;
        } else if (opt == 'f' && (strcmp(optarg, "table") == 0 || strcmp(optarg, "json") == 0)) {
            o->format = optarg[0] == 'j' ? FORMAT_JSON : FORMAT_TABLE;
        } else {
            if (opt != '?')
                fprintf(stderr, "tdctl: invalid --%s \"%s\"\n", opt == 'H' ? "host" : "format",
                        optarg);
            return -1;
        }
    }
    int left = argc - optind;
    if (left == 0) {
        fputs("tdctl: no command\n", stderr);
        return -1;
    }
    o->command = argv[optind];
    bool is_range = strcmp(o->command, "range") == 0;
    if (!is_range && strcmp(o->command, "nodes") != 0 && strcmp(o->command, "ranges") != 0) {
        fprintf(stderr, "tdctl: unknown command \"%s\"\n", o->command);
        return -1;
    }
    if (left != (is_range ? 2 : 1)) {
        fprintf(stderr, "tdctl: %s takes %s\n", o->command,
                is_range ? "one range ID" : "no argument");
        return -1;
    }
    if (!is_range)
        return 0;
    char *end;
    errno = 0;
    long long id = strtoll(argv[optind + 1], &end, 10);
    if (errno != 0 || end == argv[optind + 1] || *end != '\0' || id <= 0) {
        fprintf(stderr, "tdctl: invalid range ID \"%s\"\n", argv[optind + 1]);
        return -1;
    }
    o->range_id = (json_int_t)id;
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    int parsed = parse_args(argc, argv, &o);
    if (parsed != 0) {
        usage(parsed > 0 ? stdout : stderr);
        return parsed > 0 ? EXIT_OK : EXIT_USAGE;
    }
    int status = EXIT_FAIL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("tdctl: cannot initialise libcurl\n", stderr);
        return EXIT_FAIL;
    }
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        fputs("tdctl: cannot initialise libcurl\n", stderr);
        goto out_cleanup_global;
    }
    status = run(curl, &o) == 0 ? EXIT_OK : EXIT_FAIL;
    curl_easy_cleanup(curl);
out_cleanup_global:
    curl_global_cleanup();
    return status;
}
