/*
 * etcd_put.c - closed-loop put load against etcd v3, run by
 * tests/bench/replicated.sh beside pgbench on Tardigrade. Not a test: it
 * prints figures and judges nothing.
 *
 *   etcd_put HOST:PORT CLIENTS SECONDS VALUE_BYTES LATENCY_FILE
 *
 * CLIENTS threads, each with its own connection to the etcd member at
 * HOST:PORT (numeric IPv4), put unique keys one at a time - the next put
 * leaves only when the previous one is acknowledged, as pgbench runs one
 * transaction at a time per client - for SECONDS. Keys are 12 bytes,
 * "k" + 3 digits of client + 8 digits of sequence, values VALUE_BYTES of
 * 'v'. Every thread first puts one key untimed, so the connection exists
 * before the clock starts (pgbench reports TPS without connection time).
 *
 * Output: LATENCY_FILE gets one latency per line in microseconds ("%.3f");
 * stdout gets one line
 *
 *     ops N seconds S cpu_us_per_op C
 *
 * N puts acknowledged in S seconds of wall time (from the start barrier to
 * the last thread's last reply), C this process's user+system CPU per put,
 * printed so a run shows the client is not what limits etcd.
 *
 * Why gRPC over HTTP/2 written with nghttp2: gRPC is etcd's native API,
 * what its own clients and its benchmark tool speak. The JSON gateway
 * (HTTP/1.1 POST /v3/kv/put) is a proxy inside etcd that decodes JSON and
 * base64 and re-issues the call to etcd's own gRPC port, so it would
 * charge etcd an extra hop and inflate Tardigrade's ratio. etcdctl has no
 * load generator that reports percentiles at a given concurrency (`check
 * perf` runs fixed 60-second load levels), Debian does not package etcd's
 * `benchmark` tool, and Debian 12's libcurl 7.88.1 fails every request
 * after the first on a reused prior-knowledge HTTP/2 connection (curl
 * issue #10634, fixed in 7.89). A unary gRPC call is one HTTP/2 request;
 * nghttp2 (the library under libcurl) frames it, this file does blocking
 * socket I/O around it, one stream at a time per connection. The request
 * body is built once per thread and only the key's digits change; a put
 * costs the client about 100 us of CPU (the cpu_us_per_op figure), most of
 * it the kernel's: two writes and two reads, because etcd's gRPC server
 * answers each request's data with a PING (its flow-control estimator)
 * that must be acknowledged. replicated.sh prints pgbench's CPU per
 * transaction beside it, which is of the same order.
 *
 * The request: HTTP/2 POST /etcdserverpb.KV/Put, content-type
 * application/grpc, te: trailers, body
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 *
 *     offset  size  field
 *     0       1     compressed flag, 0
 *     1       4     message length n, big endian
 *     5       n     etcdserverpb.PutRequest: 0x0a <varint len> key,
 *                   0x12 <varint len> value (fields 1 and 2, bytes)
 *
 * Success is :status 200 with grpc-status 0 (a trailer, or a header in a
 * trailers-only error reply); the PutResponse body is ignored.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define KEY_LEN     12
#define MAX_CLIENTS 999
#define MAX_VALUE   (1 << 20)
#define PREFIX_LEN  5

typedef struct client {
    pthread_t thread;
    int id;
    int fd;
    nghttp2_session *h2;
    uint8_t *body; /* the whole gRPC message; only the key digits change */
    size_t body_len, body_sent;
    uint8_t *key; /* points into body */
    long seq;
    int32_t stream;               /* the put in flight */
    int closed;                   /* its stream has ended */
    uint32_t reset;               /* its RST_STREAM error code, 0 if it ended normally */
    int http_status, grpc_status; /* -1 until the reply names them */
    char grpc_message[256];
    double *lat; /* microseconds, lat_len used of lat_cap */
    size_t lat_len, lat_cap;
    double end_us; /* when the last reply arrived */
} client;

static struct sockaddr_in server;
static char authority[64];
static double run_seconds;
static size_t value_bytes;
static pthread_barrier_t start_barrier;
static double start_us; /* written by thread 0 between the two barriers */

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const client *c, const char *msg)
{
    if (c)
        fprintf(stderr, "etcd_put: client %d: %s\n", c->id, msg);
    else
        fprintf(stderr, "etcd_put: %s\n", msg);
    exit(1);
}

static size_t put_varint(uint8_t *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* Builds the framed PutRequest into c->body (malloc'd, freed by
 * client_close) and points c->key at its key bytes. */
static void build_body(client *c)
{
    c->body = malloc(PREFIX_LEN + 2 * 11 + KEY_LEN + value_bytes);
    if (c->body == NULL)
        die(c, "out of memory");
    uint8_t *p = c->body + PREFIX_LEN;
    *p++ = 0x0a;
    p += put_varint(p, KEY_LEN);
    c->key = p;
    p += KEY_LEN;
    *p++ = 0x12;
    p += put_varint(p, value_bytes);
    memset(p, 'v', value_bytes);
    p += value_bytes;
    c->body_len = (size_t)(p - c->body);
    uint32_t msg_len = (uint32_t)(c->body_len - PREFIX_LEN);
    c->body[0] = 0;
    for (int i = 0; i < 4; i++)
        c->body[1 + i] = (uint8_t)(msg_len >> (8 * (3 - i)));
}

/* nghttp2 callbacks; user_data is the client. */

static ssize_t read_body(nghttp2_session *h2, int32_t stream, uint8_t *buf, size_t len,
                         uint32_t *flags, nghttp2_data_source *src, void *arg)
{
    client *c = arg;
    (void)h2;
    (void)stream;
    (void)src;
    size_t n = c->body_len - c->body_sent;
    if (n > len)
        n = len;
    memcpy(buf, c->body + c->body_sent, n);
    c->body_sent += n;
    if (c->body_sent == c->body_len)
        *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int is_name(const uint8_t *name, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(name, want, len) == 0;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                     size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags,
                     void *arg)
{
    client *c = arg;
    (void)h2;
    (void)flags;
    if (frame->hd.stream_id != c->stream)
        return 0;
    if (is_name(name, name_len, ":status"))
        c->http_status = atoi((const char *)value); /* nghttp2 NUL-terminates values */
    else if (is_name(name, name_len, "grpc-status"))
        c->grpc_status = atoi((const char *)value);
    else if (is_name(name, name_len, "grpc-message"))
        snprintf(c->grpc_message, sizeof c->grpc_message, "%.*s", (int)value_len, value);
    return 0;
}

static int on_stream_close(nghttp2_session *h2, int32_t stream, uint32_t error_code, void *arg)
{
    client *c = arg;
    (void)h2;
    if (stream == c->stream) {
        c->closed = 1;
        c->reset = error_code;
    }
    return 0;
}

/* Connects c->fd to the server and starts an HTTP/2 session on it
 * (c->h2, deleted by client_close). */
static void client_open(client *c)
{
    nghttp2_session_callbacks *cbs;
    int one = 1;
    build_body(c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&server, sizeof server) != 0)
        die(c, strerror(errno));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (nghttp2_session_callbacks_new(&cbs) != 0)
        die(c, "out of memory");
    nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
    int rc = nghttp2_session_client_new(&c->h2, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0 || nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, NULL, 0) != 0)
        die(c, "cannot start an HTTP/2 session");
}

static void client_close(client *c)
{
    nghttp2_session_del(c->h2);
    close(c->fd);
    free(c->body);
    free(c->lat);
}

static void write_all(client *c, const uint8_t *data, size_t len)
{
    while (len > 0) {
        /* send, not write: a member that goes away must fail the put with a
         * message, not kill the process with SIGPIPE */
        ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die(c, strerror(errno));
        data += n;
        len -= (size_t)n;
    }
}

/* Sends every frame the session has queued in as few writes as the buffer
 * allows: a loopback write costs tens of microseconds of kernel time, and
 * a put queues two frames or more (HEADERS, DATA, control frames left
 * from the previous reply), which one write each would multiply. */
static void flush_frames(client *c)
{
    uint8_t out[16384];
    size_t used = 0;
    const uint8_t *frame;
    ssize_t n;
    while ((n = nghttp2_session_mem_send(c->h2, &frame)) > 0) {
        if (used + (size_t)n > sizeof out) {
            write_all(c, out, used);
            used = 0;
        }
        if ((size_t)n > sizeof out)
            write_all(c, frame, (size_t)n);
        else {
            memcpy(out + used, frame, (size_t)n);
            used += (size_t)n;
        }
    }
    if (n < 0)
        die(c, nghttp2_strerror((int)n));
    write_all(c, out, used);
}

/* Sends the put and reads until its stream has ended. Frames the session
 * queues in answer to the reply (WINDOW_UPDATE, SETTINGS or PING acks)
 * wait for the next put's write unless the stream is still open, which
 * saves a write per put. */
static void run_until_closed(client *c)
{
    uint8_t buf[16384];
    flush_frames(c);
    while (!c->closed) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            die(c, n == 0 ? "etcd closed the connection" : strerror(errno));
        if (nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0)
            die(c, "bad HTTP/2 from etcd");
        if (!c->closed)
            flush_frames(c);
    }
}

/* A request header; the names are literals, so nghttp2 need not copy them. */
#define NV(n, v)                                                                               \
    {                                                                                          \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NO_COPY_NAME \
    }

/* One put of the client's next key; exits the process on any failure. */
static void put_one(client *c)
{
    char key[KEY_LEN + 1];
    nghttp2_nv hdrs[] = {
        NV(":method", "POST"),
        NV(":scheme", "http"),
        NV(":path", "/etcdserverpb.KV/Put"),
        NV(":authority", authority),
        NV("content-type", "application/grpc"),
        NV("te", "trailers"),
    };
    nghttp2_data_provider body = {.read_callback = read_body};
    snprintf(key, sizeof key, "k%03d%08ld", c->id, c->seq++);
    memcpy(c->key, key, KEY_LEN);
    c->body_sent = 0;
    c->closed = 0;
    c->http_status = c->grpc_status = -1;
    c->grpc_message[0] = '\0';
    c->stream = nghttp2_submit_request(c->h2, NULL, hdrs, sizeof hdrs / sizeof hdrs[0], &body, c);
    if (c->stream < 0)
        die(c, nghttp2_strerror(c->stream));
    run_until_closed(c);
    if (c->reset != 0 || c->http_status != 200 || c->grpc_status != 0) {
        fprintf(stderr, "etcd_put: client %d: stream error %u, HTTP %d, grpc-status %d %s\n", c->id,
                c->reset, c->http_status, c->grpc_status, c->grpc_message);
        exit(1);
    }
}

static void record(client *c, double us)
{
    if (c->lat_len == c->lat_cap) {
        c->lat_cap = c->lat_cap ? 2 * c->lat_cap : 4096;
        c->lat = realloc(c->lat, c->lat_cap * sizeof *c->lat);
        if (c->lat == NULL)
            die(c, "out of memory");
    }
    c->lat[c->lat_len++] = us;
}

static void *client_main(void *arg)
{
    client *c = arg;
    put_one(c); /* untimed: opens the connection */
    pthread_barrier_wait(&start_barrier);
    if (c->id == 0)
        start_us = now_us();
    pthread_barrier_wait(&start_barrier);
    double deadline = start_us + run_seconds * 1e6;
    double t = now_us();
    while (t < deadline) {
        double t0 = t;
        put_one(c);
        t = now_us();
        record(c, t - t0);
    }
    c->end_us = t;
    return NULL;
}

static long parse_long(const char *s, long min, long max, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "etcd_put: %s must be an integer in [%ld, %ld], not '%s'\n", what, min, max,
                s);
        exit(2);
    }
    return v;
}

/* Fills server and authority from "A.B.C.D:PORT". */
static void parse_endpoint(const char *s)
{
    char host[32];
    const char *colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof host) {
        fprintf(stderr, "etcd_put: endpoint must be IPV4:PORT, not '%s'\n", s);
        exit(2);
    }
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)parse_long(colon + 1, 1, 65535, "PORT"));
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1) {
        fprintf(stderr, "etcd_put: '%s' is not a numeric IPv4 address\n", host);
        exit(2);
    }
    snprintf(authority, sizeof authority, "%s", s);
}

/* Writes every latency to path and returns how many there were. */
static size_t write_latencies(const char *path, const client *cs, int n)
{
    size_t ops = 0;
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die(NULL, "cannot create the latency file");
    for (int i = 0; i < n; i++) {
        for (size_t j = 0; j < cs[i].lat_len; j++)
            fprintf(f, "%.3f\n", cs[i].lat[j]);
        ops += cs[i].lat_len;
    }
    if (fclose(f) != 0)
        die(NULL, "cannot write the latency file");
    return ops;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: etcd_put HOST:PORT CLIENTS SECONDS VALUE_BYTES LATENCY_FILE\n");
        return 2;
    }
    parse_endpoint(argv[1]);
    int n = (int)parse_long(argv[2], 1, MAX_CLIENTS, "CLIENTS");
    run_seconds = (double)parse_long(argv[3], 1, 86400, "SECONDS");
    value_bytes = (size_t)parse_long(argv[4], 0, MAX_VALUE, "VALUE_BYTES");
    client *cs = calloc((size_t)n, sizeof *cs);
    if (cs == NULL)
        die(NULL, "out of memory");
    pthread_barrier_init(&start_barrier, NULL, (unsigned)n);
    double cpu0 = cpu_seconds();
    for (int i = 0; i < n; i++) {
        cs[i].id = i;
        client_open(&cs[i]);
        if (pthread_create(&cs[i].thread, NULL, client_main, &cs[i]) != 0)
            die(NULL, "pthread_create failed");
    }
    double end_us = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(cs[i].thread, NULL);
        if (cs[i].end_us > end_us)
            end_us = cs[i].end_us;
    }
    double cpu = cpu_seconds() - cpu0;
    size_t ops = write_latencies(argv[5], cs, n);
    printf("ops %zu seconds %.3f cpu_us_per_op %.1f\n", ops, (end_us - start_us) / 1e6,
           ops ? cpu * 1e6 / (double)ops : 0.0);
    for (int i = 0; i < n; i++)
        client_close(&cs[i]);
    free(cs);
    pthread_barrier_destroy(&start_barrier);
    return 0;
}
