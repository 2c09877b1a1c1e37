/*
 * pq_client.c - see pq_client.h.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pq_client.h"

int pq_raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

size_t pq_read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    for (ssize_t n; len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0;)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

const char *pq_sqlstate(const PGresult *r)
{
    const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    return s != NULL ? s : "(none)";
}

void pq_exec_expect(PGconn *c, const char *sql, ExecStatusType want)
{
    PGresult *r = PQexec(c, sql);
    cr_assert_eq(PQresultStatus(r), want, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
}

PGresult *pq_cancel_until_done(PGconn *c)
{
    PGcancel *cancel = PQgetCancel(c);
    char err[256];
    while (PQconsumeInput(c) && PQisBusy(c)) {
        cr_assert(PQcancel(cancel, err, sizeof(err)), "%s", err);
        usleep(50 * 1000);
    }
    PQfreeCancel(cancel);
    PGresult *r = PQgetResult(c);
    PGresult *extra;
    while ((extra = PQgetResult(c)) != NULL)
        PQclear(extra);
    return r;
}
