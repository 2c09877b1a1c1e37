/*
 * test_codec.c - the binary encodings (docs/raft.md) and the in-memory
 * storage. Decoders must reject every truncation and never read outside
 * their input (the ASan build checks the random-bytes test).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "raft/raft.h"

static raft_entry_t ents[3] = {
    {.term = 3, .index = 7, .type = RAFT_ENTRY_NORMAL, .len = 5, .data = (const uint8_t *)"hello"},
    {.term = 3, .index = 8, .type = RAFT_ENTRY_CONF_CHANGE, .len = 0, .data = NULL},
    {.term = 4, .index = 9, .type = RAFT_ENTRY_NORMAL, .len = 3, .data = (const uint8_t *)"xyz"},
};

static raft_msg_t sample_app(void)
{
    return (raft_msg_t){.type = RAFT_MSG_APP,
                        .from = 1,
                        .to = 2,
                        .term = 4,
                        .log_term = 3,
                        .index = 6,
                        .commit = 5,
                        .reject_hint = 0,
                        .context = 99,
                        .n_entries = 3,
                        .entries = ents};
}

static raft_snapshot_t sample_snap(void)
{
    raft_snapshot_t s = {.index = 100, .term = 9, .len = 4, .data = (const uint8_t *)"snap"};
    s.conf.voters[0] = 1;
    s.conf.voters[1] = 2;
    s.conf.n_voters = 2;
    s.conf.voters_outgoing[0] = 3;
    s.conf.n_voters_outgoing = 1;
    s.conf.learners[0] = 4;
    s.conf.n_learners = 1;
    s.conf.learners_next[0] = 5;
    s.conf.n_learners_next = 1;
    s.conf.auto_leave = true;
    return s;
}

static uint8_t *encode(const raft_msg_t *m, size_t *len)
{
    *len = raft_msg_encoded_size(m);
    uint8_t *buf = malloc(*len);
    size_t n;
    cr_assert_eq(raft_msg_encode(m, buf, *len, &n), 0);
    cr_assert_eq(n, *len);
    return buf;
}

Test(raft_codec, app_message_roundtrip)
{
    raft_msg_t m = sample_app(), out;
    m.reject = true;
    size_t len;
    uint8_t *buf = encode(&m, &len);
    raft_entry_t dec[4];
    raft_snapshot_t snap;
    cr_assert_eq(raft_msg_decode(buf, len, &out, dec, 4, &snap), 0);
    cr_assert_eq(out.type, m.type);
    cr_assert(out.reject);
    cr_assert_eq(out.from, 1);
    cr_assert_eq(out.to, 2);
    cr_assert_eq(out.term, 4);
    cr_assert_eq(out.log_term, 3);
    cr_assert_eq(out.index, 6);
    cr_assert_eq(out.commit, 5);
    cr_assert_eq(out.context, 99);
    cr_assert_eq(out.n_entries, 3);
    cr_assert_null(out.snapshot);
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(out.entries[i].term, ents[i].term);
        cr_assert_eq(out.entries[i].index, ents[i].index);
        cr_assert_eq(out.entries[i].type, ents[i].type);
        cr_assert_eq(out.entries[i].len, ents[i].len);
        cr_assert(ents[i].len == 0 || !memcmp(out.entries[i].data, ents[i].data, ents[i].len));
    }
    free(buf);
}

Test(raft_codec, snapshot_message_roundtrip)
{
    raft_snapshot_t s = sample_snap(), got;
    raft_msg_t m = {.type = RAFT_MSG_SNAP, .from = 1, .to = 3, .term = 9, .snapshot = &s}, out;
    size_t len;
    uint8_t *buf = encode(&m, &len);
    cr_assert_eq(raft_msg_decode(buf, len, &out, NULL, 0, &got), 0);
    cr_assert_eq(out.snapshot, &got);
    cr_assert_eq(got.index, 100);
    cr_assert_eq(got.term, 9);
    cr_assert_eq(got.len, 4);
    cr_assert(!memcmp(got.data, "snap", 4));
    cr_assert(!memcmp(&got.conf, &s.conf, sizeof(s.conf)));
    free(buf);
}

static void every_prefix_truncated(const uint8_t *buf, size_t len, size_t cap)
{
    raft_entry_t dec[4];
    raft_snapshot_t snap;
    raft_msg_t out;
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(copy, buf, n);
        int rc = raft_msg_decode(copy, n, &out, dec, cap, &snap);
        cr_assert_eq(rc, RAFT_ETRUNCATED, "prefix %zu gave %d", n, rc);
        free(copy);
    }
}

Test(raft_codec, every_truncation_is_rejected)
{
    raft_msg_t m = sample_app();
    size_t len;
    uint8_t *buf = encode(&m, &len);
    every_prefix_truncated(buf, len, 4);
    free(buf);
    raft_snapshot_t s = sample_snap();
    raft_msg_t sm = {.type = RAFT_MSG_SNAP, .from = 1, .to = 3, .term = 9, .snapshot = &s};
    buf = encode(&sm, &len);
    every_prefix_truncated(buf, len, 0);
    free(buf);
}

Test(raft_codec, trailing_bytes_are_corrupt)
{
    raft_msg_t m = sample_app(), out;
    size_t len;
    uint8_t *buf = encode(&m, &len);
    uint8_t *longer = calloc(1, len + 1);
    memcpy(longer, buf, len);
    raft_entry_t dec[4];
    raft_snapshot_t snap;
    cr_assert_eq(raft_msg_decode(longer, len + 1, &out, dec, 4, &snap), RAFT_ECORRUPT);
    free(longer);
    free(buf);
}

Test(raft_codec, bad_header_fields_are_corrupt)
{
    raft_msg_t m = sample_app(), out;
    size_t len;
    uint8_t *buf = encode(&m, &len);
    raft_entry_t dec[4];
    raft_snapshot_t snap;
    struct {
        size_t off;
        uint8_t val;
    } bad[] = {{0, 2}, {1, 0}, {1, 200}, {2, 0x80}, {2, 0x02}, {3, 1}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint8_t saved = buf[bad[i].off];
        buf[bad[i].off] = bad[i].val;
        cr_assert_eq(raft_msg_decode(buf, len, &out, dec, 4, &snap), RAFT_ECORRUPT, "case %zu", i);
        buf[bad[i].off] = saved;
    }
    buf[72 + 16] = 9; /* first entry's type */
    cr_assert_eq(raft_msg_decode(buf, len, &out, dec, 4, &snap), RAFT_ECORRUPT);
    free(buf);
}

Test(raft_codec, random_bytes_never_crash)
{
    srand(1234);
    raft_entry_t dec[8];
    raft_snapshot_t snap;
    raft_msg_t out;
    raft_msg_t m = sample_app();
    size_t len;
    uint8_t *good = encode(&m, &len);
    int accepted = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = (size_t)rand() % 200;
        uint8_t *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) {
            buf[i] = (uint8_t)rand();
        }
        if (iter % 2 && n > 0) { /* mutate a valid message instead */
            n = len;
            buf = realloc(buf, n);
            memcpy(buf, good, n);
            buf[(size_t)rand() % n] ^= (uint8_t)(1 + rand() % 255);
        }
        int rc = raft_msg_decode(buf, n, &out, dec, 8, &snap);
        cr_assert(rc == 0 || rc == RAFT_ETRUNCATED || rc == RAFT_ECORRUPT || rc == RAFT_ENOSPC);
        if (rc == 0) {
            accepted++;
            for (size_t i = 0; i < out.n_entries; i++) {
                cr_assert(out.entries[i].len == 0 ||
                          (out.entries[i].data >= buf &&
                           out.entries[i].data + out.entries[i].len <= buf + n));
            }
        }
        free(buf);
    }
    cr_assert_gt(accepted, 0, "field flips that keep the layout valid decode");
    free(good);
}

Test(raft_codec, entries_scratch_too_small)
{
    raft_msg_t m = sample_app(), out;
    size_t len;
    uint8_t *buf = encode(&m, &len);
    raft_entry_t dec[2];
    raft_snapshot_t snap;
    cr_assert_eq(raft_msg_decode(buf, len, &out, dec, 2, &snap), RAFT_ENOSPC);
    cr_assert_eq(out.n_entries, 3);
    free(buf);
}

Test(raft_codec, encode_reports_needed_space)
{
    raft_msg_t m = sample_app();
    uint8_t small[10];
    size_t n;
    cr_assert_eq(raft_msg_encode(&m, small, sizeof(small), &n), RAFT_ENOSPC);
    cr_assert_eq(n, raft_msg_encoded_size(&m));
    cr_assert_eq(n, 72 + 3 * 21 + 8);
}

Test(raft_codec, entry_roundtrip_and_truncation)
{
    uint8_t buf[64];
    size_t n, used;
    cr_assert_eq(raft_entry_encode(&ents[0], buf, sizeof(buf), &n), 0);
    cr_assert_eq(n, 26);
    raft_entry_t e;
    cr_assert_eq(raft_entry_decode(buf, n, &e, &used), 0);
    cr_assert_eq(used, n);
    cr_assert_eq(e.index, 7);
    cr_assert(!memcmp(e.data, "hello", 5));
    for (size_t k = 0; k < n; k++) {
        cr_assert_eq(raft_entry_decode(buf, k, &e, &used), RAFT_ETRUNCATED);
    }
}

Test(raft_codec, hard_state_roundtrip)
{
    raft_hard_state_t hs = {.term = 5, .vote = 3, .commit = 77}, got;
    uint8_t buf[24];
    size_t n;
    cr_assert_eq(raft_hard_state_encode(&hs, buf, sizeof(buf), &n), 0);
    cr_assert_eq(n, 24);
    cr_assert_eq(raft_hard_state_decode(buf, n, &got), 0);
    cr_assert(got.term == 5 && got.vote == 3 && got.commit == 77);
    cr_assert_eq(raft_hard_state_decode(buf, 23, &got), RAFT_ETRUNCATED);
    cr_assert_eq(raft_hard_state_encode(&hs, buf, 23, &n), RAFT_ENOSPC);
}

Test(raft_codec, conf_state_roundtrip_and_bounds)
{
    raft_snapshot_t s = sample_snap();
    uint8_t buf[600];
    size_t n, used;
    cr_assert_eq(raft_conf_state_encode(&s.conf, buf, sizeof(buf), &n), 0);
    cr_assert_eq(n, 5 + 5 * 8);
    raft_conf_state_t got;
    cr_assert_eq(raft_conf_state_decode(buf, n, &got, &used), 0);
    cr_assert_eq(used, n);
    cr_assert(!memcmp(&got, &s.conf, sizeof(got)));
    buf[0] = RAFT_MAX_MEMBERS + 1;
    cr_assert_eq(raft_conf_state_decode(buf, n, &got, &used), RAFT_ECORRUPT);
    buf[0] = 2;
    buf[4] = 2; /* auto_leave must be 0 or 1 */
    cr_assert_eq(raft_conf_state_decode(buf, n, &got, &used), RAFT_ECORRUPT);
}

Test(raft_codec, conf_change_roundtrip_and_bad_type)
{
    raft_conf_change_t cc = {.transition = RAFT_CC_JOINT_EXPLICIT, .n_changes = 2}, got;
    cc.changes[0].type = RAFT_CC_ADD_VOTER;
    cc.changes[0].node = 4;
    cc.changes[1].type = RAFT_CC_REMOVE;
    cc.changes[1].node = 2;
    uint8_t buf[64];
    size_t n;
    cr_assert_eq(raft_conf_change_encode(&cc, buf, sizeof(buf), &n), 0);
    cr_assert_eq(n, 2 + 2 * 9);
    cr_assert_eq(raft_conf_change_decode(buf, n, &got), 0);
    cr_assert_eq(got.transition, RAFT_CC_JOINT_EXPLICIT);
    cr_assert_eq(got.n_changes, 2);
    cr_assert(got.changes[0].type == RAFT_CC_ADD_VOTER && got.changes[0].node == 4);
    cr_assert(got.changes[1].type == RAFT_CC_REMOVE && got.changes[1].node == 2);
    cr_assert_eq(raft_conf_change_decode(buf, n - 1, &got), RAFT_ETRUNCATED);
    buf[2] = 7;
    cr_assert_eq(raft_conf_change_decode(buf, n, &got), RAFT_ECORRUPT);
}

Test(raft_codec, strerror_names_every_code)
{
    cr_assert_str_eq(raft_strerror(0), "success");
    cr_assert_str_eq(raft_strerror(RAFT_ETRUNCATED), "encoded input is truncated");
    cr_assert_str_eq(raft_strerror(12345), "unknown raft error");
    for (int rc = RAFT_ENOMEM; rc >= RAFT_ESTORAGE; rc--) {
        cr_assert_str_neq(raft_strerror(rc), "unknown raft error");
    }
}

/* ---- memstore ---------------------------------------------------------------------- */

static raft_memstore_t *store_with(uint64_t n)
{
    raft_conf_state_t cs = {.voters = {1}, .n_voters = 1};
    raft_memstore_t *ms = raft_memstore_new(&cs);
    for (uint64_t i = 1; i <= n; i++) {
        raft_entry_t e = {
            .term = i < 5 ? 1 : 2, .index = i, .len = 4, .data = (const uint8_t *)"data"};
        cr_assert_eq(raft_memstore_append(ms, &e, 1), 0);
    }
    return ms;
}

Test(raft_memstore, append_replaces_conflicting_suffix)
{
    raft_memstore_t *ms = store_with(10);
    raft_entry_t e = {.term = 3, .index = 6, .len = 1, .data = (const uint8_t *)"z"};
    cr_assert_eq(raft_memstore_append(ms, &e, 1), 0);
    cr_assert_eq(raft_memstore_last_index(ms), 6);
    cr_assert_eq(raft_memstore_entry(ms, 6)->term, 3);
    e.index = 9;
    cr_assert_eq(raft_memstore_append(ms, &e, 1), RAFT_EUNAVAILABLE, "gap");
    raft_memstore_free(ms);
}

Test(raft_memstore, compact_and_term_of_first_minus_one)
{
    raft_memstore_t *ms = store_with(10);
    raft_conf_state_t cs = {.voters = {1}, .n_voters = 1};
    cr_assert_eq(raft_memstore_compact(ms, 5), RAFT_EINVAL, "no snapshot covers 5 yet");
    cr_assert_eq(raft_memstore_create_snapshot(ms, 6, &cs, "s", 1), 0);
    cr_assert_eq(raft_memstore_compact(ms, 5), 0);
    cr_assert_eq(raft_memstore_first_index(ms), 6);
    raft_storage_t st = raft_memstore_storage(ms);
    uint64_t t;
    cr_assert_eq(st.term(st.ud, 5, &t), 0);
    cr_assert_eq(t, 2);
    cr_assert_eq(st.term(st.ud, 4, &t), RAFT_ECOMPACTED);
    raft_entry_t out[10];
    size_t n;
    cr_assert_eq(st.entries(st.ud, 5, 8, UINT64_MAX, out, &n), RAFT_ECOMPACTED);
    cr_assert_eq(st.entries(st.ud, 6, 11, 9, out, &n), 0);
    cr_assert_eq(n, 2, "size limit: 4 + 4 bytes fit in 9");
    cr_assert_eq(st.entries(st.ud, 6, 12, UINT64_MAX, out, &n), RAFT_EUNAVAILABLE);
    raft_memstore_free(ms);
}

Test(raft_memstore, apply_snapshot_replaces_log)
{
    raft_memstore_t *ms = store_with(10);
    raft_snapshot_t s = {.index = 20, .term = 5, .len = 2, .data = (const uint8_t *)"ab"};
    s.conf.voters[0] = 1;
    s.conf.n_voters = 1;
    cr_assert_eq(raft_memstore_apply_snapshot(ms, &s), 0);
    cr_assert_eq(raft_memstore_first_index(ms), 21);
    cr_assert_eq(raft_memstore_last_index(ms), 20);
    raft_storage_t st = raft_memstore_storage(ms);
    raft_snapshot_t got;
    st.snapshot(st.ud, &got);
    cr_assert_eq(got.index, 20);
    cr_assert(!memcmp(got.data, "ab", 2));
    s.index = 10;
    cr_assert_eq(raft_memstore_apply_snapshot(ms, &s), RAFT_EINVAL, "older snapshot");
    raft_hard_state_t hs = {.term = 5, .vote = 1, .commit = 20}, got_hs;
    raft_memstore_set_hard_state(ms, &hs);
    raft_memstore_hard_state(ms, &got_hs);
    cr_assert(got_hs.term == 5 && got_hs.vote == 1 && got_hs.commit == 20);
    raft_conf_state_t cs;
    cr_assert_eq(st.initial_state(st.ud, &got_hs, &cs), 0);
    cr_assert_eq(got_hs.commit, 20);
    cr_assert_eq(cs.n_voters, 1);
    raft_memstore_free(ms);
}
