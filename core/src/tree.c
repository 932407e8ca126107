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
 *  (3) After every successful commit (and after a load, which checks it),
 *      the live copy of every node holds that node's current payload and
 *      its reference's CRC is that payload's, except for nodes flagged
 *      FRESH: new ones, and ones whose payload length changed since. So a
 *      node's next payload differs from its live copy only in the words
 *      that changed since, and its CRC follows from the live one and those
 *      words (crc32c.h); bytes are still written whole, as (1) requires.
 *      A failed commit reloads everything from the live copies, which I2
 *      of commit.c kept intact.
 */
#include <stddef.h>
#include <string.h>

#include "crc32c.h"
#include "endian.h"
#include "internal.h"
#include "layout.h"
#include "mutant.h"

/* In memory only, beside MP__REF_DIRTY: the live copy is not known to hold
 * this node's payload at its current length (invariant 3), so the next
 * write computes the whole CRC. */
#define REF_FRESH 0x40000000u

/* Beyond this many changed words per 8 KiB of payload (and this many
 * changed children of an index node), one pass of CRC over the whole
 * payload is cheaper than a zero-extension step per change. */
#define INCR_MAX_WORDS(ps) ((ps) / 256)
#define INCR_MAX_CHILDREN  8

uint64_t mp__root_cap(size_t page_size, int kind)
{
    uint64_t c = (page_size - MP__META_HDR) / MP__REF_SIZE;
    return kind == MP__TREE_MAP ? c / 2 : c - c / 2;
}

uint64_t mp__dir_per_block(const mp_pager *p)
{
    return mp__dir_entries(p->page_size);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
# define MP__HOST_LE 1
#else
# define MP__HOST_LE 0
#endif

/* On a little-endian host the struct is the on-disk reference, field for
 * field: one 24-byte copy instead of 24 byte stores (a commit encodes every
 * child of each index node it writes, and every root). */
_Static_assert(sizeof(struct mp__ref) == MP__REF_SIZE &&
                   offsetof(struct mp__ref, crc) == 16 &&
                   offsetof(struct mp__ref, flags) == 20,
               "struct mp__ref is laid out as FORMAT.md section 4");

void mp__ref_encode(unsigned char *b, const struct mp__ref *r)
{
    if (MP__HOST_LE) {
        uint32_t live = r->flags & MP__REF_LIVE;
        memcpy(b, r, 20);
        memcpy(b + 20, &live, 4);
        return;
    }
    mp__put64(b, r->page[0]);
    mp__put64(b + 8, r->page[1]);
    mp__put32(b + 16, r->crc);
    mp__put32(b + 20, r->flags & MP__REF_LIVE);
}

void mp__ref_decode(const unsigned char *b, struct mp__ref *r)
{
    if (MP__HOST_LE) {
        memcpy(r, b, sizeof(*r));
        return;
    }
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
    uint64_t counts[MP__LEVELS], old[MP__LEVELS];
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
    memcpy(old, t->count, sizeof(old));
    for (unsigned l = 1; l <= depth; l++) {
        /* Invariant (3): the last node of a level may gain children. */
        if (old[l] > 0 && old[l - 1] != counts[l - 1]) {
            t->refs[l][old[l] - 1].flags |= REF_FRESH;
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
            r->flags = MP__REF_LIVE | REF_FRESH;
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

/* Payload length of node i of level l >= 1. */
static size_t index_len(const mp_pager *p, const struct mp__tree *t, unsigned l,
                        uint64_t i)
{
    uint64_t f = mp__ref_fanout(p), n = t->count[l - 1] - i * f;
    return (size_t)(n < f ? n : f) * MP__REF_SIZE;
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
        uint64_t first = i * f;
        *len = index_len(p, t, l, i);
        for (uint64_t c = 0; c * MP__REF_SIZE < *len; c++) {
            mp__ref_encode(dst + c * MP__REF_SIZE, &t->refs[l - 1][first + c]);
        }
    }
}

/*
 * Map leaf i into dst, and its CRC from the live copy's (invariant 3): the
 * words that differ from the live copy, in order, make the raw CRC of the
 * difference, stretched over the gaps between them and to the end.
 * Returns false, having written nothing, if too many words changed.
 */
static bool leaf_incremental(const mp_pager *p, const struct mp__ref *r,
                             uint64_t i, const unsigned char *live,
                             unsigned char *dst, uint32_t *crc)
{
    size_t words = p->page_size / 8, changed = 0;
    const uint64_t *w = p->bitmap + i * words;
    uint64_t pos = 0;
    uint32_t c = 0;

    for (size_t b = 0; b < words; b += 8) {
        uint64_t any = 0;
        /* Eight words at a time: vectorised, and almost always equal. */
        for (size_t k = 0; k < 8; k++) {
            any |= w[b + k] ^ mp__le64(live + 8 * (b + k));
        }
        if (!any) {
            continue;
        }
        for (size_t k = b; k < b + 8; k++) {
            uint64_t d = w[k] ^ mp__le64(live + 8 * k);
            unsigned char db[8];
            if (!d) {
                continue;
            }
            if (++changed > INCR_MAX_WORDS(p->page_size)) {
                return false;
            }
            mp__put64(db, d);
            c = mp__crc32c_raw(mp__crc32c_zeros(c, 8 * k - pos), db, 8);
            pos = 8 * k + 8;
        }
    }
    put_words(dst, w, words);
    *crc = r->crc ^ mp__crc32c_zeros(c, p->page_size - pos);
    return true;
}

/*
 * Index node i of level l into dst, and its CRC, from its live copy: the
 * children written by this commit (written[0..n)) are the only ones whose
 * references changed since that copy was written (invariant 3). Returns
 * false, having written nothing, if there are too many of them.
 */
static bool index_incremental(const mp_pager *p, const struct mp__tree *t,
                              unsigned l, uint64_t i, const uint64_t *written,
                              size_t n, const unsigned char *live,
                              unsigned char *dst, size_t len, uint32_t *crc)
{
    uint64_t f = mp__ref_fanout(p), first = i * f;
    uint32_t delta = 0;

    if (n > INCR_MAX_CHILDREN) {
        return false;
    }
    if (dst != live) {
        memcpy(dst, live, len);
    }
    for (size_t k = 0; k < n; k++) {
        uint64_t c = written[k];
        unsigned char ref[MP__REF_SIZE], *at;
        if (c < first || c >= first + f) {
            continue;
        }
        at = dst + (c - first) * MP__REF_SIZE;
        mp__ref_encode(ref, &t->refs[l - 1][c]);
        for (size_t b = 0; b < MP__REF_SIZE; b++) {
            at[b] ^= ref[b]; /* the difference, for a moment */
        }
        delta ^= mp__crc32c_zeros(mp__crc32c_raw(0, at, MP__REF_SIZE),
                                  len - (c - first + 1) * MP__REF_SIZE);
        memcpy(at, ref, MP__REF_SIZE);
    }
    *crc = t->refs[l][i].crc ^ delta;
    return true;
}

/* Node i of level l into dst, with its payload's CRC. */
static uint32_t write_node(const mp_pager *p, const struct mp__tree *t,
                           unsigned l, uint64_t i, const uint64_t *written,
                           size_t nwritten, unsigned char *dst)
{
    const struct mp__ref *r = &t->refs[l][i];
    const unsigned char *live = mp__page(p, r->page[r->flags & MP__REF_LIVE]);
    uint32_t crc;
    size_t len;

    if (!(r->flags & REF_FRESH)) {
        if (l == 0 && t->kind == MP__TREE_MAP &&
            leaf_incremental(p, r, i, live, dst, &crc)) {
            return crc;
        }
        if (l > 0 && index_incremental(p, t, l, i, written, nwritten, live, dst,
                                       index_len(p, t, l, i), &crc)) {
            return crc;
        }
    }
    encode_node(p, t, l, i, dst, &len);
    return mp__crc32c(0, dst, len);
}

int mp__tree_write(mp_pager *p, struct mp__tree *t)
{
    uint64_t f = mp__ref_fanout(p);
    const uint64_t *written = NULL;
    size_t nwritten = 0;
    for (unsigned l = 0; l <= t->depth; l++) {
        bool in_place = l == 0 && (t->kind == MP__TREE_MAP
                                       ? MP_MUTANT(MP_MUT_NODE_IN_PLACE)
                                       : MP_MUTANT(MP_MUT_DIR_IN_PLACE));
        for (size_t k = 0; k < t->ndirty[l]; k++) {
            uint64_t i = t->dirty[l][k];
            struct mp__ref *r = &t->refs[l][i];
            uint32_t live = (r->flags & MP__REF_LIVE) ^ (in_place ? 0 : 1);
            unsigned char *dst = mp__page(p, r->page[live]);
            int rc;

            /* Invariant (1): never the live copy, always the whole node. */
            r->crc = write_node(p, t, l, i, written, nwritten, dst);
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
        /* Level l + 1 is written next, from the children written here
         * (level l + 1 only grows its own list meanwhile). */
        written = t->dirty[l];
        nwritten = t->ndirty[l];
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
