/*
 * rowcodec.c - table rows <-> primary and secondary-index KV pairs
 * (rowcodec_int.h; byte layouts in docs/sql-encoding.md).
 *
 * Everything that depends only on the descriptor (which columns live in
 * the value, in which id order, where each index column sits in the row)
 * is computed once in sql__rowcodec_init, so encoding and decoding a row
 * walk flat arrays.
 */
#include <assert.h>
#include <string.h>

#include "sql/rowcodec_int.h"
#include "sql/types_int.h"

int sql__col_pos(const sql_table_desc *t, uint32_t col_id)
{
    for (uint32_t i = 0; i < t->ncols; i++)
        if (t->cols[i].id == col_id)
            return (int)i;
    return -1;
}

const sql_index_desc *sql__index_by_id(const sql_table_desc *t, uint32_t index_id)
{
    if (t->primary.id == index_id)
        return &t->primary;
    for (uint32_t i = 0; i < t->nindexes; i++)
        if (t->indexes[i].id == index_id)
            return &t->indexes[i];
    return NULL;
}

static int corrupt_desc(const sql_table_desc *t, kv_arena *arena, sql_error *err)
{
    return sql_error_set(err, arena, SQL_STATE_INTERNAL_ERROR,
                         "index of table \"%s\" names a missing column", t->name);
}

/* Table positions of the columns of index `ix`, in `arena`. */
static int index_positions(const sql_table_desc *t, const sql_index_desc *ix, kv_arena *arena,
                           int **out, sql_error *err)
{
    int *pos = kv_arena_alloc(arena, (ix->ncols + 1) * sizeof(*pos));
    if (pos == NULL)
        return sql__oom(arena, err);
    for (uint32_t i = 0; i < ix->ncols; i++) {
        pos[i] = sql__col_pos(t, ix->col_ids[i]);
        if (pos[i] < 0)
            return corrupt_desc(t, arena, err);
    }
    *out = pos;
    return 0;
}

/* Fills vals/cols with the table columns flagged in `pick`, ascending by
 * id as valenc requires; returns how many. */
static size_t pick_by_id(const sql_table_desc *t, const bool *pick, sql_value_col *vals, int *cols)
{
    size_t n = 0;
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (!pick[i])
            continue;
        size_t j = n++;
        while (j > 0 && vals[j - 1].col_id > t->cols[i].id) {
            vals[j] = vals[j - 1];
            cols[j] = cols[j - 1];
            j--;
        }
        vals[j] = (sql_value_col){.col_id = t->cols[i].id, .type = t->cols[i].type};
        cols[j] = (int)i;
    }
    return n;
}

/* The value columns (non-pk, composite pk) and the id-ordered pk list. */
static int init_value_cols(sql__rowcodec *rc, kv_arena *arena, sql_error *err)
{
    const sql_table_desc *t = rc->table;
    size_t n = t->ncols ? t->ncols : 1;
    bool *in_value = kv_arena_alloc(arena, n * sizeof(bool));
    bool *is_pk = kv_arena_alloc(arena, n * sizeof(bool));
    sql_value_col *vals = kv_arena_alloc(arena, n * sizeof(*vals));
    int *val_cols = kv_arena_alloc(arena, n * sizeof(int));
    sql_value_col *pk_vals = kv_arena_alloc(arena, n * sizeof(*pk_vals));
    int *pk_val_cols = kv_arena_alloc(arena, n * sizeof(int));
    if (!in_value || !is_pk || !vals || !val_cols || !pk_vals || !pk_val_cols)
        return sql__oom(arena, err);
    memset(is_pk, 0, n * sizeof(bool));
    for (uint32_t i = 0; i < t->primary.ncols; i++)
        is_pk[rc->pk_cols[i]] = true;
    for (uint32_t i = 0; i < t->ncols; i++)
        in_value[i] = !is_pk[i] || sql_key_composite(t->cols[i].type.oid);
    rc->nvals = pick_by_id(t, in_value, vals, val_cols);
    pick_by_id(t, is_pk, pk_vals, pk_val_cols);
    rc->in_value = in_value;
    rc->vals = vals;
    rc->val_cols = val_cols;
    rc->pk_vals = pk_vals;
    rc->pk_val_cols = pk_val_cols;
    return 0;
}

int sql__rowcodec_init(sql__rowcodec *rc, const sql_table_desc *t, kv_arena *arena, sql_error *err)
{
    *rc = (sql__rowcodec){.table = t};
    int *pk;
    if (index_positions(t, &t->primary, arena, &pk, err) != 0)
        return -1;
    rc->pk_cols = pk;
    const int **ix = kv_arena_alloc(arena, (t->nindexes + 1) * sizeof(*ix));
    if (ix == NULL)
        return sql__oom(arena, err);
    for (uint32_t i = 0; i < t->nindexes; i++) {
        int *pos;
        if (index_positions(t, &t->indexes[i], arena, &pos, err) != 0)
            return -1;
        ix[i] = pos;
    }
    rc->ix_cols = ix;
    return init_value_cols(rc, arena, err);
}

int sql__rowproj_init(const sql__rowcodec *rc, const bool *needed, kv_arena *arena,
                      sql__rowproj *out, sql_error *err)
{
    const sql_table_desc *t = rc->table;
    *out = (sql__rowproj){0};
    for (uint32_t i = 0; i < t->primary.ncols; i++) {
        int c = rc->pk_cols[i];
        if ((needed == NULL || needed[c]) && !rc->in_value[c])
            out->decode_key = true;
    }
    sql_value_col *vals = kv_arena_alloc(arena, (rc->nvals + 1) * sizeof(*vals));
    int *cols = kv_arena_alloc(arena, (rc->nvals + 1) * sizeof(int));
    if (vals == NULL || cols == NULL)
        return sql__oom(arena, err);
    for (size_t i = 0; i < rc->nvals; i++) {
        if (needed != NULL && !needed[rc->val_cols[i]])
            continue;
        vals[out->nvals] = rc->vals[i];
        cols[out->nvals++] = rc->val_cols[i];
    }
    out->vals = vals;
    out->val_cols = cols;
    return 0;
}

/* Appends columns `pos` of `row` with the directions of index `ix`. */
static int put_cols(const sql_table_desc *t, const sql_index_desc *ix, const int *pos,
                    const sql_datum *row, sql_keybuf *b, sql_error *err)
{
    for (uint32_t i = 0; i < ix->ncols; i++) {
        const sql_col_desc *c = &t->cols[pos[i]];
        sql_key_dir dir = ix->dirs[i];
        if (sql_key_put(b, c->type, dir, dir == SQL_KEY_DESC, &row[pos[i]], err) != 0)
            return -1;
    }
    return 0;
}

int sql__row_pk_key(const sql__rowcodec *rc, const sql_datum *row, sql_keybuf *b, sql_error *err)
{
    const sql_table_desc *t = rc->table;
    if (sql_key_put_prefix(b, t->id, t->primary.id, err) != 0)
        return -1;
    return put_cols(t, &t->primary, rc->pk_cols, row, b, err);
}

/* Gathers row[cols[i]] into `tmp` for sql_value_encode. */
static int encode_subset(const sql_value_col *vals, const int *cols, size_t n, const sql_datum *row,
                         sql_datum *tmp, sql_keybuf *b, sql_error *err)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = row[cols[i]];
    return sql_value_encode(b, vals, tmp, n, err);
}

int sql__row_pk_value(const sql__rowcodec *rc, const sql_datum *row, sql_datum *scratch,
                      sql_keybuf *b, sql_error *err)
{
    return encode_subset(rc->vals, rc->val_cols, rc->nvals, row, scratch, b, err);
}

int sql__row_ix_key(const sql__rowcodec *rc, uint32_t ix, const sql_datum *row, sql_keybuf *b,
                    bool *has_null, sql_error *err)
{
    const sql_table_desc *t = rc->table;
    assert(ix < t->nindexes);
    const sql_index_desc *d = &t->indexes[ix];
    *has_null = false;
    for (uint32_t i = 0; i < d->ncols; i++)
        *has_null |= row[rc->ix_cols[ix][i]].isnull;
    if (sql_key_put_prefix(b, t->id, d->id, err) != 0)
        return -1;
    if (put_cols(t, d, rc->ix_cols[ix], row, b, err) != 0)
        return -1;
    if (*has_null || !d->unique)
        return put_cols(t, &t->primary, rc->pk_cols, row, b, err);
    return 0;
}

int sql__row_ix_value(const sql__rowcodec *rc, const sql_datum *row, sql_datum *scratch,
                      sql_keybuf *b, sql_error *err)
{
    return encode_subset(rc->pk_vals, rc->pk_val_cols, rc->table->primary.ncols, row, scratch, b,
                         err);
}

int sql__row_ix_value_decode(const sql__rowcodec *rc, const uint8_t *val, size_t len,
                             kv_arena *arena, sql_datum *row, sql_error *err)
{
    uint32_t n = rc->table->primary.ncols;
    sql_datum *tmp = kv_arena_alloc(arena, (n + 1) * sizeof(*tmp));
    if (tmp == NULL)
        return sql__oom(arena, err);
    if (sql_value_decode(val, len, rc->pk_vals, n, arena, tmp, err) != 0)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        row[rc->pk_val_cols[i]] = tmp[i];
    return 0;
}

int sql__row_ix_decode(const sql__rowcodec *rc, uint32_t ix, const uint8_t *key, size_t klen,
                       const uint8_t *val, size_t vlen, kv_arena *arena, sql_datum *row,
                       sql_error *err)
{
    const sql_table_desc *t = rc->table;
    const sql_index_desc *d = &t->indexes[ix];
    const uint8_t *p = key, *end = key + klen;
    uint32_t tid, iid;
    for (uint32_t i = 0; i < t->ncols; i++)
        row[i].isnull = true;
    if (sql_key_get_prefix(&p, end, &tid, &iid, arena, err) != 0)
        return -1;
    for (uint32_t i = 0; i < d->ncols; i++) {
        int pos = rc->ix_cols[ix][i];
        if (sql_key_get(&p, end, t->cols[pos].type, d->dirs[i], arena, &row[pos], err) != 0)
            return -1;
    }
    return sql__row_ix_value_decode(rc, val, vlen, arena, row, err);
}

/* Decodes the pk columns of `key` into row (composite ones are
 * overwritten by their exact value-side copy afterwards). */
static int decode_key(const sql__rowcodec *rc, const uint8_t *key, size_t klen, kv_arena *arena,
                      sql_datum *row, sql_error *err)
{
    const sql_table_desc *t = rc->table;
    const uint8_t *p = key, *end = key + klen;
    uint32_t tid, iid;
    if (sql_key_get_prefix(&p, end, &tid, &iid, arena, err) != 0)
        return -1;
    for (uint32_t i = 0; i < t->primary.ncols; i++) {
        const sql_col_desc *c = &t->cols[rc->pk_cols[i]];
        if (sql_key_get(&p, end, c->type, t->primary.dirs[i], arena, &row[rc->pk_cols[i]], err) !=
            0)
            return -1;
    }
    return 0;
}

int sql__row_decode(const sql__rowcodec *rc, const sql__rowproj *proj, const uint8_t *key,
                    size_t klen, const uint8_t *val, size_t vlen, kv_arena *arena, sql_datum *row,
                    sql_error *err)
{
    for (uint32_t i = 0; i < rc->table->ncols; i++)
        row[i].isnull = true;
    if (proj->decode_key && decode_key(rc, key, klen, arena, row, err) != 0)
        return -1;
    if (proj->nvals == 0)
        return 0;
    sql_datum *tmp = kv_arena_alloc(arena, proj->nvals * sizeof(*tmp));
    if (tmp == NULL)
        return sql__oom(arena, err);
    if (sql_value_decode(val, vlen, proj->vals, proj->nvals, arena, tmp, err) != 0)
        return -1;
    for (size_t i = 0; i < proj->nvals; i++)
        row[proj->val_cols[i]] = tmp[i];
    return 0;
}

/* Appends s to the growing detail text. */
static int put_str(sql_keybuf *b, const char *s, sql_error *err)
{
    return sql_keybuf_append(b, s, strlen(s), err);
}

/* Appends the text form of `d` ("null" for NULL, as PostgreSQL's detail
 * prints it). */
static int put_datum(sql_keybuf *b, sql_type type, const sql_datum *d, const sql_io_ctx *io,
                     sql_error *err)
{
    if (d->isnull)
        return put_str(b, "null", err);
    const char *txt;
    size_t len;
    if (sql_datum_to_text(type, d, io, b->arena, &txt, &len, err) != 0)
        return -1;
    return sql_keybuf_append(b, txt, len, err);
}

const char *sql__key_describe(const sql__rowcodec *rc, const sql_index_desc *ix, const uint8_t *key,
                              size_t klen, const sql_io_ctx *io, kv_arena *arena, sql_error *err)
{
    const sql_table_desc *t = rc->table;
    const uint8_t *p = key, *end = key + klen;
    uint32_t tid, iid;
    if (sql_key_get_prefix(&p, end, &tid, &iid, arena, err) != 0)
        return NULL;
    sql_keybuf names, vals;
    sql_keybuf_init(&names, arena);
    sql_keybuf_init(&vals, arena);
    if (put_str(&names, "(", err) != 0 || put_str(&vals, ")=(", err) != 0)
        return NULL;
    for (uint32_t i = 0; i < ix->ncols; i++) {
        int pos = sql__col_pos(t, ix->col_ids[i]);
        if (pos < 0) {
            corrupt_desc(t, arena, err);
            return NULL;
        }
        const sql_col_desc *c = &t->cols[pos];
        sql_datum d;
        const char *sep = i > 0 ? ", " : "";
        if (sql_key_get(&p, end, c->type, ix->dirs[i], arena, &d, err) != 0 ||
            put_str(&names, sep, err) != 0 || put_str(&names, c->name, err) != 0 ||
            put_str(&vals, sep, err) != 0 || put_datum(&vals, c->type, &d, io, err) != 0)
            return NULL;
    }
    if (put_str(&vals, ")", err) != 0 || sql_keybuf_append(&names, vals.p, vals.len, err) != 0 ||
        sql_keybuf_append(&names, "", 1, err) != 0)
        return NULL;
    return (const char *)names.p;
}

const char *sql__row_text(const sql_table_desc *t, const sql_datum *row, const sql_io_ctx *io,
                          kv_arena *arena, sql_error *err)
{
    sql_keybuf b;
    sql_keybuf_init(&b, arena);
    if (put_str(&b, "(", err) != 0)
        return NULL;
    const char *sep = "";
    for (uint32_t i = 0; i < t->ncols; i++) {
        if (t->cols[i].hidden)
            continue;
        if (put_str(&b, sep, err) != 0 || put_datum(&b, t->cols[i].type, &row[i], io, err) != 0)
            return NULL;
        sep = ", ";
    }
    if (sql_keybuf_append(&b, ")", 2, err) != 0)
        return NULL;
    return (const char *)b.p;
}
