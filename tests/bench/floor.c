/*
 * floor.c - the machine's physical floor for a replicated write, run by
 * tests/bench/replicated.sh beside Tardigrade and etcd. Not a test: it
 * prints samples and judges nothing.
 *
 *   floor fsync DIR COUNT    COUNT fdatasync()s of a 4 KiB write over
 *                            allocated blocks of a file in DIR (DIR's
 *                            filesystem is what is measured)
 *   floor append DIR COUNT   the same, each write appending to the file
 *   floor rtt COUNT          COUNT ping-pongs of a 64-byte message over one
 *                            loopback TCP connection
 *
 * Output: one latency per line in microseconds ("%.3f"), in the order
 * measured; the caller computes percentiles (replicated.sh does it with
 * one function for every source, so the floor, pgbench's log and the etcd
 * client are ranked the same way).
 *
 * Why C and not python3: a fast loopback round trip is 10-30 us, which is
 * the order of the interpreter's own per-call cost, so python would
 * measure itself.
 *
 * fsync: the file is first filled with COUNT blocks and synced, so the
 * timed writes overwrite allocated blocks in place: an fdatasync then
 * flushes data and the disk cache but no size or extent change - the
 * lowest a durable write costs, and the floor the ratios use. append: each
 * write grows the file, so each fdatasync also commits the new size and
 * extent through the filesystem's journal, as a log that appends to its
 * file pays (RocksDB's WAL by default; etcd's WAL writes into fallocated
 * segments, which costs a journal commit too, for the unwritten extent).
 * Printed beside the floor so that the gap between the two is visible.
 *
 * rtt: an echo thread in this process answers on the other end of the
 * connection. Both ends set TCP_NODELAY, as the transport and pgwire do;
 * the measure includes the wake-up of a blocked thread on each side,
 * which every real round trip between two processes pays too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BLOCK   4096
#define MSG_LEN 64

static void die(const char *what)
{
    fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Writes all of buf at off; a short write of a regular file is an error. */
static void write_block(int fd, const char *buf, off_t off)
{
    if (pwrite(fd, buf, BLOCK, off) != BLOCK)
        die("pwrite");
}

/* prefill: overwrite blocks written and synced first, else append. */
static void measure_fsync(const char *dir, long count, int prefill)
{
    char path[4096];
    static char buf[BLOCK];
    snprintf(path, sizeof path, "%s/floor-fsync.XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        die(path);
    memset(buf, 'f', sizeof buf);
    for (long i = 0; prefill && i < count; i++)
        write_block(fd, buf, (off_t)i * BLOCK);
    if (fsync(fd) != 0)
        die("fsync");
    for (long i = 0; i < count; i++) {
        double t0 = now_us();
        write_block(fd, buf, (off_t)i * BLOCK);
        if (fdatasync(fd) != 0)
            die("fdatasync");
        printf("%.3f\n", now_us() - t0);
    }
    close(fd);
    /* Unlinked only now: an open file without a name is an orphan inode,
     * whose syncs the filesystem may treat differently from a log's. */
    unlink(path);
}

/* Reads exactly MSG_LEN bytes; returns 0, or -1 at end of stream. */
static int read_msg(int fd, char *msg)
{
    size_t got = 0;
    while (got < MSG_LEN) {
        ssize_t n = read(fd, msg + got, MSG_LEN - got);
        if (n == 0)
            return -1;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        got += (size_t)n;
    }
    return 0;
}

static void write_msg(int fd, const char *msg)
{
    if (write(fd, msg, MSG_LEN) != MSG_LEN)
        die("write"); /* a blocking socket writes all 64 bytes or fails */
}

static void *echo_main(void *arg)
{
    int fd = *(int *)arg;
    char msg[MSG_LEN];
    while (read_msg(fd, msg) == 0)
        write_msg(fd, msg);
    return NULL;
}

static void set_nodelay(int fd)
{
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        die("TCP_NODELAY");
}

/* Connects a client socket to an accepted one on 127.0.0.1, port chosen by
 * the kernel so parallel runs never collide. Both fds are the caller's. */
static void loopback_pair(int *client, int *server)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &len) != 0)
        die("listen on 127.0.0.1");
    *client = socket(AF_INET, SOCK_STREAM, 0);
    if (*client < 0 || connect(*client, (struct sockaddr *)&a, sizeof a) != 0)
        die("connect");
    *server = accept(lfd, NULL, NULL);
    if (*server < 0)
        die("accept");
    close(lfd);
    set_nodelay(*client);
    set_nodelay(*server);
}

static void measure_rtt(long count)
{
    int cfd, sfd;
    pthread_t echo;
    char msg[MSG_LEN];
    loopback_pair(&cfd, &sfd);
    if (pthread_create(&echo, NULL, echo_main, &sfd) != 0)
        die("pthread_create");
    memset(msg, 'r', sizeof msg);
    for (long i = 0; i < count; i++) {
        double t0 = now_us();
        write_msg(cfd, msg);
        if (read_msg(cfd, msg) != 0) {
            fprintf(stderr, "floor: echo thread closed the connection\n");
            exit(1);
        }
        printf("%.3f\n", now_us() - t0);
    }
    shutdown(cfd, SHUT_WR); /* the echo thread sees end of stream and returns */
    pthread_join(echo, NULL);
    close(cfd);
    close(sfd);
}

static long parse_count(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || n <= 0) {
        fprintf(stderr, "floor: COUNT must be a positive integer, not '%s'\n", s);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "fsync") == 0)
        measure_fsync(argv[2], parse_count(argv[3]), 1);
    else if (argc == 4 && strcmp(argv[1], "append") == 0)
        measure_fsync(argv[2], parse_count(argv[3]), 0);
    else if (argc == 3 && strcmp(argv[1], "rtt") == 0)
        measure_rtt(parse_count(argv[2]));
    else {
        fprintf(stderr, "usage: floor fsync|append DIR COUNT | floor rtt COUNT\n");
        return 2;
    }
    return 0;
}
