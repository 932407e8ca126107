/*
 * tree.c - trees of A/B nodes (FORMAT.md sections 4 and 5), shared by the
 * free-space map (leaves = map leaves) and the protected directory (leaves =
 * directory blocks).
 *
 * Invariants:
 *  (1) A node is only ever written into the copy its reference does not name
 *      as live, and always with its whole payload: the other copy may hold a
 *      torn write or content many commits old, and the durable metadata must
 *      still reach only intact bytes until the commit record moves.
 *  (2) Writing a node dirties its parent, so one changed leaf rewrites the
 *      path to the root and nothing else: a commit costs the depth of the
 *      tree, not the size of the file.
 */
#include <string.h>

#include "crc32c.h"
#include "endian.h"
#include "internal.h"
#include "layout.h"
#include "mutant.h"

uint64_t mp__root_cap(size_t page_size, int kind)
{
    uint64_t c = (page_size - MP__META_HDR) / MP__REF_SIZE;
    return kind == MP__TREE_MAP ? c / 2 : c - c / 2;
}

uint64_t mp__dir_per_block(const mp_pager *p)
{
    return mp__dir_entries(p->page_size);
}

void mp__ref_encode(unsigned char *b, const struct mp__ref *r)
{
    mp__put64(b, r->page[0]);
    mp__put64(b + 8, r->page[1]);
    mp__put32(b + 16, r->crc);
    mp__put32(b + 20, r->flags & MP__REF_LIVE);
}

void mp__ref_decode(const unsigned char *b, struct mp__ref *r)
{
    r->page[0] = mp__le64(b);
    r->page[1] = mp__le64(b + 8);
    r->crc = mp__le32(b + 16);
    r->flags = mp__le32(b + 20);
}

void mp__tree_init(mp_pager *p, struct mp__tree *t, int kind)
{
    memset(t, 0, sizeof(*t));
    t->kind = kind;
    t->root_cap = mp__root_cap(p->page_size, kind);
}

void mp__tree_free(mp_pager *p, struct mp__tree *t)
{
    for (unsigned l = 0; l < MP__LEVELS; l++) {
        mp__free(p, t->refs[l]);
        mp__free(p, t->dirty[l]);
    }
    mp__tree_init(p, t, t->kind);
}

void mp__tree_clear(struct mp__tree *t)
{
    t->depth = 0;
    for (unsigned l = 0; l < MP__LEVELS; l++) {
        t->count[l] = 0;
        t->ndirty[l] = 0;
    }
}

/* Node counts per level for `leaves` leaves; MP_ELIMIT if too deep. */
static int shape(const mp_pager *p, const struct mp__tree *t, uint64_t leaves,
                 uint64_t counts[MP__LEVELS], unsigned *depth)
{
    uint64_t f = mp__ref_fanout(p);
    unsigned l = 0;
    memset(counts, 0, sizeof(uint64_t) * MP__LEVELS);
    counts[0] = leaves;
    while (counts[l] > t->root_cap) {
        if (l + 1 >= MP__LEVELS) {
            return MP_ELIMIT;
        }
        counts[l + 1] = (counts[l] + f - 1) / f;
        l++;
    }
    *depth = l;
    return MP_OK;
}

int mp__tree_mark(mp_pager *p, struct mp__tree *t, unsigned level, uint64_t i)
{
    struct mp__ref *r = &t->refs[level][i];
    int rc;
    if (r->flags & MP__REF_DIRTY) {
        return MP_OK;
    }
    if (t->ndirty[level] == t->dirty_cap[level]) {
        uint64_t cap = t->dirty_cap[level];
        rc = mp__grow_array(p, (void **)&t->dirty[level], sizeof(uint64_t),
                            &cap, cap + 1);
        if (rc != MP_OK) {
            return rc;
        }
        t->dirty_cap[level] = (size_t)cap;
    }
    t->dirty[level][t->ndirty[level]++] = i;
    r->flags |= MP__REF_DIRTY;
    return MP_OK;
}

uint64_t mp__tree_new_pages(const mp_pager *p, const struct mp__tree *t,
                            uint64_t leaves)
{
    uint64_t counts[MP__LEVELS], n = 0;
    unsigned depth;
    if (shape(p, t, leaves, counts, &depth) != MP_OK) {
        return UINT64_MAX;
    }
    /* Map leaves bring their own pages (FORMAT.md section 3). */
    for (unsigned l = t->kind == MP__TREE_MAP ? 1 : 0; l <= depth; l++) {
        if (counts[l] > t->count[l]) {
            n += 2 * (counts[l] - t->count[l]);
        }
    }
    return n;
}

int mp__tree_resize(mp_pager *p, struct mp__tree *t, uint64_t leaves)
{
    uint64_t counts[MP__LEVELS];
    unsigned depth;
    int rc = shape(p, t, leaves, counts, &depth);
    if (rc != MP_OK) {
        return rc;
    }
    for (unsigned l = 0; l <= depth; l++) {
        rc = mp__grow_array(p, (void **)&t->refs[l], sizeof(struct mp__ref),
                            &t->cap[l], counts[l]);
        if (rc != MP_OK) {
            return rc;
        }
    }
    for (unsigned l = 0; l <= depth; l++) {
        for (uint64_t i = t->count[l]; i < counts[l]; i++) {
            struct mp__ref *r = &t->refs[l][i];
            memset(r, 0, sizeof(*r));
            if (t->kind == MP__TREE_MAP && l == 0) {
                /* Fixed places, free until now: a new group's first pages. */
                r->page[0] = mp__leaf_page(p, i, 0);
                r->page[1] = mp__leaf_page(p, i, 1);
                mp__bit_set(p, r->page[0]);
                mp__bit_set(p, r->page[1]);
                p->free_pages -= 2;
            } else {
                rc = mp__take_page(p, &r->page[0]);
                if (rc == MP_OK) {
                    rc = mp__take_page(p, &r->page[1]);
                }
                if (rc != MP_OK) {
                    return rc;
                }
            }
            /* Copy 1 "was" live, so the first write lands in copy 0. */
            r->flags = MP__REF_LIVE;
            t->count[l] = i + 1;
            rc = mp__tree_mark(p, t, l, i);
            if (rc != MP_OK) {
                return rc;
            }
        }
    }
    t->depth = depth;
    return MP_OK;
}

static void put_words(unsigned char *dst, const uint64_t *w, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(dst, w, n * 8);
#else
    for (size_t i = 0; i < n; i++) {
        mp__put64(dst + 8 * i, w[i]);
    }
#endif
}

static void get_words(uint64_t *w, const unsigned char *src, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(w, src, n * 8);
#else
    for (size_t i = 0; i < n; i++) {
        w[i] = mp__le64(src + 8 * i);
    }
#endif
}

/* Encode node i of level l into dst; its payload length into *len. */
static void encode_node(const mp_pager *p, const struct mp__tree *t, unsigned l,
                        uint64_t i, unsigned char *dst, size_t *len)
{
    uint64_t f = mp__ref_fanout(p);
    if (l == 0 && t->kind == MP__TREE_MAP) {
        size_t words = p->page_size / 8;
        put_words(dst, p->bitmap + i * words, words);
        *len = p->page_size;
    } else if (l == 0) {
        mp__dir_encode_block(p, i, dst, len);
    } else {
        uint64_t first = i * f, end = first + f;
        if (end > t->count[l - 1]) {
            end = t->count[l - 1];
        }
        for (uint64_t c = first; c < end; c++) {
            mp__ref_encode(dst + (c - first) * MP__REF_SIZE,
                           &t->refs[l - 1][c]);
        }
        *len = (size_t)(end - first) * MP__REF_SIZE;
    }
}

int mp__tree_write(mp_pager *p, struct mp__tree *t)
{
    uint64_t f = mp__ref_fanout(p);
    for (unsigned l = 0; l <= t->depth; l++) {
        bool in_place = l == 0 && (t->kind == MP__TREE_MAP
                                       ? MP_MUTANT(MP_MUT_NODE_IN_PLACE)
                                       : MP_MUTANT(MP_MUT_DIR_IN_PLACE));
        for (size_t k = 0; k < t->ndirty[l]; k++) {
            uint64_t i = t->dirty[l][k];
            struct mp__ref *r = &t->refs[l][i];
            uint32_t live = (r->flags & MP__REF_LIVE) ^ (in_place ? 0 : 1);
            unsigned char *dst = mp__page(p, r->page[live]);
            size_t len;
            int rc;

            /* Invariant (1): never the live copy, always the whole node. */
            encode_node(p, t, l, i, dst, &len);
            r->crc = mp__crc32c(0, dst, len);
            r->flags = live;
            p->stats.pages_written++;
            rc = mp__add_range(p, r->page[live]);
            if (rc == MP_OK && l < t->depth) {
                rc = mp__tree_mark(p, t, l + 1, i / f);
            }
            if (rc != MP_OK) {
                return rc;
            }
        }
        t->ndirty[l] = 0;
    }
    return MP_OK;
}

static bool ref_ok(const mp_pager *p, const struct mp__tree *t, unsigned l,
                   uint64_t i, const struct mp__ref *r)
{
    if (r->flags & ~(uint32_t)MP__REF_LIVE) {
        return false;
    }
    if (r->page[0] < MP_RESERVED_PAGES || r->page[1] < MP_RESERVED_PAGES ||
        r->page[0] >= p->total || r->page[1] >= p->total ||
        r->page[0] == r->page[1]) {
        return false;
    }
    if (t->kind == MP__TREE_MAP && l == 0) {
        return r->page[0] == mp__leaf_page(p, i, 0) &&
               r->page[1] == mp__leaf_page(p, i, 1);
    }
    return true;
}

int mp__tree_load(mp_pager *p, struct mp__tree *t, uint64_t leaves,
                  unsigned depth, uint64_t roots, const unsigned char *rootp)
{
    uint64_t counts[MP__LEVELS], f = mp__ref_fanout(p);
    unsigned d;
    int rc;

    if (shape(p, t, leaves, counts, &d) != MP_OK || d != depth ||
        roots != counts[depth]) {
        return MP_ECORRUPT_META;
    }
    for (unsigned l = 0; l <= depth; l++) {
        rc = mp__grow_array(p, (void **)&t->refs[l], sizeof(struct mp__ref),
                            &t->cap[l], counts[l]);
        if (rc != MP_OK) {
            return rc;
        }
        t->count[l] = counts[l];
    }
    t->depth = depth;
    for (uint64_t i = 0; i < roots; i++) {
        mp__ref_decode(rootp + i * MP__REF_SIZE, &t->refs[depth][i]);
    }
    for (unsigned l = depth + 1; l-- > 0;) {
        for (uint64_t i = 0; i < counts[l]; i++) {
            struct mp__ref *r = &t->refs[l][i];
            const unsigned char *src;
            size_t len;

            if (!ref_ok(p, t, l, i, r)) {
                return MP_ECORRUPT_META;
            }
            src = mp__page(p, r->page[r->flags & MP__REF_LIVE]);
            if (l == 0 && t->kind == MP__TREE_MAP) {
                len = p->page_size;
            } else if (l == 0) {
                uint64_t e = mp__dir_per_block(p);
                uint64_t n = p->slots - i * e < e ? p->slots - i * e : e;
                len = (size_t)n * MP__ENT_SIZE;
            } else {
                uint64_t n =
                    counts[l - 1] - i * f < f ? counts[l - 1] - i * f : f;
                len = (size_t)n * MP__REF_SIZE;
            }
            if (!MP_MUTANT(MP_MUT_TRUST_SELECTOR) &&
                mp__crc32c(0, src, len) != r->crc) {
                return MP_ECORRUPT_META;
            }
            if (l > 0) {
                for (uint64_t c = 0; c * MP__REF_SIZE < len; c++) {
                    mp__ref_decode(src + c * MP__REF_SIZE,
                                   &t->refs[l - 1][i * f + c]);
                }
            } else if (t->kind == MP__TREE_MAP) {
                size_t words = p->page_size / 8;
                get_words(p->bitmap + i * words, src, words);
            } else {
                rc = mp__dir_decode_block(p, i, src);
                if (rc != MP_OK) {
                    return rc;
                }
            }
            if (!(t->kind == MP__TREE_MAP && l == 0)) {
                /* One owner per page: a node on a map-leaf place or on a
                 * page another structure holds would let a later commit
                 * write over that structure (FORMAT.md section 7). */
                for (int k = 0; k < 2; k++) {
                    if (mp__is_leaf_page(p, r->page[k]) ||
                        mp__pageset_has(&p->internal, r->page[k])) {
                        return MP_ECORRUPT_META;
                    }
                }
                rc = mp__pageset_add(&p->internal, &p->mem, r->page[0]);
                if (rc == MP_OK) {
                    rc = mp__pageset_add(&p->internal, &p->mem, r->page[1]);
                }
                if (rc != MP_OK) {
                    return rc;
                }
            }
        }
    }
    return MP_OK;
}
