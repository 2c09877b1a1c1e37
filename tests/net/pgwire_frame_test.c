/*
 * pgwire_frame_test.c - the incremental frame reader: captured client
 * streams split at every byte boundary and fed byte by byte yield the same
 * frames; impossible or oversized length words are FATAL 08P01 before the
 * payload is buffered, and a reader that lost framing stays failed.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "net/pgwire.h"
#include "pg_captured.h"

/* pgjdbc's first extended round trip after SSLRequest and startup. */
static const char stream[] = PG_SSL PG_STARTUP_PGJDBC PG_PARSE_JDBC PG_BIND_JDBC PG_DESCRIBE_P
    PG_EXECUTE_0 PG_SYNC PG_TERMINATE;

static const struct {
    char type;
    size_t len;
} expected[] = {
    {0, LIT_LEN(PG_SSL) - 4},
    {0, LIT_LEN(PG_STARTUP_PGJDBC) - 4},
    {'P', LIT_LEN(PG_PARSE_JDBC) - 5},
    {'B', LIT_LEN(PG_BIND_JDBC) - 5},
    {'D', LIT_LEN(PG_DESCRIBE_P) - 5},
    {'E', LIT_LEN(PG_EXECUTE_0) - 5},
    {'S', 0},
    {'X', 0},
};
#define NEXPECTED (sizeof(expected) / sizeof(expected[0]))

typedef struct fixture {
    net_pg_reader *r;
    kv_arena *arena;
    sql_error err;
    size_t nframes;
} fixture;

static void fixture_init(fixture *f, size_t max_message)
{
    memset(f, 0, sizeof(*f));
    cr_assert_eq(net_pg_reader_create(max_message, &f->r), 0);
    cr_assert_eq(kv_arena_create(&f->arena), 0);
}

static void fixture_fini(fixture *f)
{
    net_pg_reader_destroy(f->r);
    kv_arena_destroy(f->arena);
}

/* Takes every complete frame and checks it against `expected`; switches
 * the reader to typed frames after the startup packet, as the conn does. */
static void drain(fixture *f)
{
    net_pg_frame fr;
    int rc;
    while ((rc = net_pg_reader_next(f->r, &fr, &f->err, f->arena)) == 1) {
        cr_assert_lt(f->nframes, NEXPECTED);
        cr_assert_eq(fr.type, expected[f->nframes].type, "frame %zu", f->nframes);
        cr_assert_eq(fr.len, expected[f->nframes].len, "frame %zu", f->nframes);
        if (f->nframes == 1)
            net_pg_reader_start_typed(f->r);
        f->nframes++;
    }
    cr_assert_eq(rc, 0);
}

Test(frame, split_at_every_boundary)
{
    for (size_t cut = 0; cut <= LIT_LEN(stream); cut++) {
        fixture f;
        fixture_init(&f, 0);
        cr_assert_eq(net_pg_reader_feed(f.r, stream, cut), 0);
        drain(&f);
        cr_assert_eq(net_pg_reader_feed(f.r, stream + cut, LIT_LEN(stream) - cut), 0);
        drain(&f);
        cr_assert_eq(f.nframes, NEXPECTED, "cut at %zu", cut);
        fixture_fini(&f);
    }
}

Test(frame, byte_by_byte)
{
    fixture f;
    fixture_init(&f, 0);
    for (size_t i = 0; i < LIT_LEN(stream); i++) {
        cr_assert_eq(net_pg_reader_feed(f.r, stream + i, 1), 0);
        drain(&f);
    }
    cr_assert_eq(f.nframes, NEXPECTED);
    fixture_fini(&f);
}

Test(frame, body_points_at_payload)
{
    fixture f;
    fixture_init(&f, 0);
    net_pg_reader_start_typed(f.r);
    cr_assert_eq(net_pg_reader_feed(f.r, PG_QUERY_BEGIN, LIT_LEN(PG_QUERY_BEGIN)), 0);
    net_pg_frame fr;
    cr_assert_eq(net_pg_reader_next(f.r, &fr, &f.err, f.arena), 1);
    cr_assert_eq(fr.type, 'Q');
    cr_assert_eq(fr.len, 6);
    cr_assert_eq(memcmp(fr.body, "BEGIN", 6), 0);
    fixture_fini(&f);
}

static void expect_lost(fixture *f, const char *msg)
{
    net_pg_frame fr;
    cr_assert_eq(net_pg_reader_next(f->r, &fr, &f->err, f->arena), NET_EPROTO);
    cr_assert_eq(f->err.state, SQL_STATE_PROTOCOL_VIOLATION);
    cr_assert_eq(f->err.severity, SQL_SEV_FATAL);
    cr_assert_str_eq(f->err.message, msg);
}

Test(frame, oversized_typed_message_rejected_from_header)
{
    fixture f;
    fixture_init(&f, 100);
    net_pg_reader_start_typed(f.r);
    /* Only the header of a 105-byte Query: rejected before any payload. */
    cr_assert_eq(net_pg_reader_feed(f.r, "Q\x00\x00\x00\x69", 5), 0);
    expect_lost(&f, "invalid message length");
    cr_assert_str_eq(f.err.detail, "length word 105, limit 104");
    /* Framing is lost for good, even if valid bytes follow. */
    cr_assert_eq(net_pg_reader_feed(f.r, PG_SYNC, LIT_LEN(PG_SYNC)), 0);
    expect_lost(&f, "message framing was lost earlier");
    fixture_fini(&f);
}

Test(frame, message_at_the_limit_accepted)
{
    fixture f;
    fixture_init(&f, 6);
    net_pg_reader_start_typed(f.r);
    cr_assert_eq(net_pg_reader_feed(f.r, PG_QUERY_BEGIN, LIT_LEN(PG_QUERY_BEGIN)), 0);
    net_pg_frame fr;
    cr_assert_eq(net_pg_reader_next(f.r, &fr, &f.err, f.arena), 1);
    fixture_fini(&f);
}

Test(frame, length_below_four_rejected)
{
    fixture f;
    fixture_init(&f, 0);
    net_pg_reader_start_typed(f.r);
    cr_assert_eq(net_pg_reader_feed(f.r, "S\x00\x00\x00\x03", 5), 0);
    expect_lost(&f, "invalid message length");
    fixture_fini(&f);
}

Test(frame, negative_length_rejected)
{
    fixture f;
    fixture_init(&f, 0);
    net_pg_reader_start_typed(f.r);
    cr_assert_eq(net_pg_reader_feed(f.r, "Q\xff\xff\xff\xff", 5), 0);
    expect_lost(&f, "invalid message length");
    fixture_fini(&f);
}

Test(frame, startup_packet_limits)
{
    static const char *const bad[] = {
        "\x00\x00\x00\x07", /* shorter than length + code */
        "\x00\x00\x27\x11", /* 10001 > PostgreSQL's 10000 */
    };
    for (size_t i = 0; i < 2; i++) {
        fixture f;
        fixture_init(&f, 0);
        cr_assert_eq(net_pg_reader_feed(f.r, bad[i], 4), 0);
        expect_lost(&f, "invalid length of startup packet");
        fixture_fini(&f);
    }
}

Test(frame, startup_packet_of_10000_bytes_waits_for_payload)
{
    fixture f;
    fixture_init(&f, 0);
    cr_assert_eq(net_pg_reader_feed(f.r, "\x00\x00\x27\x10", 4), 0);
    net_pg_frame fr;
    cr_assert_eq(net_pg_reader_next(f.r, &fr, &f.err, f.arena), 0);
    fixture_fini(&f);
}

Test(frame, large_message_then_small_ones)
{
    fixture f;
    fixture_init(&f, 0);
    net_pg_reader_start_typed(f.r);
    /* A 200 KiB CopyData, then a Sync: the big buffer is released on the
     * next feed and later frames still arrive intact. */
    size_t n = 200 * 1024;
    uint8_t *big = calloc(1, n + 5);
    big[0] = 'd';
    big[1] = (uint8_t)((n + 4) >> 24);
    big[2] = (uint8_t)((n + 4) >> 16);
    big[3] = (uint8_t)((n + 4) >> 8);
    big[4] = (uint8_t)(n + 4);
    cr_assert_eq(net_pg_reader_feed(f.r, big, n + 5), 0);
    net_pg_frame fr;
    cr_assert_eq(net_pg_reader_next(f.r, &fr, &f.err, f.arena), 1);
    cr_assert_eq(fr.len, n);
    cr_assert_eq(net_pg_reader_feed(f.r, PG_SYNC, LIT_LEN(PG_SYNC)), 0);
    cr_assert_eq(net_pg_reader_next(f.r, &fr, &f.err, f.arena), 1);
    cr_assert_eq(fr.type, 'S');
    cr_assert_eq(net_pg_reader_next(f.r, &fr, &f.err, f.arena), 0);
    free(big);
    fixture_fini(&f);
}
