/*
 * local_keys.c - encoding of KV_CF_LOCAL keys (layout in local_keys.h and
 * docs/storage.md).
 */
#include "kv/kv_int.h"
#include "kv/local_keys.h"

size_t kv_local_key(uint8_t *out, uint64_t range_id, enum kv_local_kind kind, uint64_t index)
{
    out[0] = KV_LOCAL_RANGE_MARKER;
    kv__put_be64(out + 1, range_id);
    out[9] = (uint8_t)kind;
    if (kind != KV_LOCAL_RAFT_LOG)
        return 10;
    kv__put_be64(out + 10, index);
    return 18;
}

size_t kv_local_range_end(uint8_t *out, uint64_t range_id)
{
    out[0] = KV_LOCAL_RANGE_MARKER;
    kv__put_be64(out + 1, range_id);
    out[9] = 0xFF; /* above every kind */
    return 10;
}

int kv_local_key_decode(const uint8_t *key, size_t len, uint64_t *range_id,
                        enum kv_local_kind *kind, uint64_t *index)
{
    if (len < 10 || key[0] != KV_LOCAL_RANGE_MARKER)
        return KV_ECORRUPT;
    switch (key[9]) {
    case KV_LOCAL_APPLIED_STATE:
    case KV_LOCAL_RAFT_TRUNCATED:
    case KV_LOCAL_DESCRIPTOR:
    case KV_LOCAL_HARD_STATE:
        if (len != 10)
            return KV_ECORRUPT;
        *index = 0;
        break;
    case KV_LOCAL_RAFT_LOG:
        if (len != 18)
            return KV_ECORRUPT;
        *index = kv__get_be64(key + 10);
        break;
    default:
        return KV_ECORRUPT;
    }
    *range_id = kv__get_be64(key + 1);
    *kind = (enum kv_local_kind)key[9];
    return 0;
}
