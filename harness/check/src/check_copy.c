/*
 * check_copy.c - one metadata copy (FORMAT.md section 7): its header, then
 * everything it reaches, then the counts that tie the two trees, the map
 * and the header together.
 *
 * The header checks follow FORMAT.md section 9 step 2 in the order recovery
 * applies them, so the first reason given is the one a person would find
 * by reading recovery. The rest of the predicate is a conjunction: its
 * order changes only which failure is named first.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "crc32c.h"
#include "endian.h"
#include "layout.h"
#include "rules.h"

static void decode_meta(const unsigned char *m, struct mph__ck_meta *h)
{
    h->crc = mp__le32(m + 4);
    h->used = mp__le32(m + 8);
    h->major = mp__le16(m + 12);
    h->minor = mp__le16(m + 14);
    h->generation = mp__le64(m + 16);
    h->total = mp__le64(m + 24);
    h->free_pages = mp__le64(m + 32);
    h->slots = mp__le64(m + 40);
    h->in_use = mp__le64(m + 48);
    h->log2 = mp__le32(m + 56);
    h->map_depth = mp__le32(m + 60);
    h->map_roots = mp__le32(m + 64);
    h->dir_depth = mp__le32(m + 68);
    h->dir_roots = mp__le32(m + 72);
}

static bool all_zero(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i]) {
            return false;
        }
    }
    return true;
}

/* FORMAT.md section 9 step 2: is copy c a candidate? */
static bool header_check(const struct mph__ck_img *im, struct mph__ck_copy *c,
                         const unsigned char *m)
{
    const struct mph__ck_meta *h = &c->h;
    uint64_t roots = (uint64_t)h->map_roots + h->dir_roots;
    uint32_t crc;

    if (memcmp(m, "MPMD", 4) != 0) {
        mph__ck_fail(c, all_zero(m, MPH_CK_META_HDR)
                            ? "never written (all zeros)"
                            : "bad magic (not \"MPMD\")");
        return false;
    }
    if (h->used < MPH_CK_META_HDR || h->used > im->ps) {
        mph__ck_fail(c, "used_len %" PRIu32 " outside [128, %zu]", h->used,
                     im->ps);
        return false;
    }
    crc = mp__crc32c(0, m + 8, h->used - 8);
    if (crc != h->crc) {
        mph__ck_fail(c,
                     "checksum 0x%08" PRIx32 " but the copy says 0x%08" PRIx32,
                     crc, h->crc);
        return false;
    }
    if (h->major != MP_FORMAT_MAJOR) {
        mph__ck_fail(c, "format major %u, not %d", h->major, MP_FORMAT_MAJOR);
        return false;
    }
    if (h->log2 != im->log2) {
        mph__ck_fail(c, "log2(page size) %" PRIu32 ", the superblock says %u",
                     h->log2, im->log2);
        return false;
    }
    if (!mp__md_static_ok(m, im->flags)) {
        /* layout.h decides; the message says which part failed. */
        if (memcmp(m + MP__MD_FILE_MAGIC, MP__HDR_MAGIC, 8) != 0) {
            mph__ck_fail(c, "does not carry the static header (bytes 76-83 "
                            "are not \"MAPPEDPG\")");
        } else if (mp__le32(m + MP__MD_FLAGS) != im->flags) {
            mph__ck_fail(
                c, "flags 0x%08" PRIx32 ", the superblock says 0x%08" PRIx32,
                mp__le32(m + MP__MD_FLAGS), im->flags);
        } else if (mp__le32(m + MP__MD_COMMIT) & ~MP__CF_KNOWN) {
            mph__ck_fail(c, "commit flags 0x%08" PRIx32 " have unknown bits",
                         mp__le32(m + MP__MD_COMMIT));
        } else {
            mph__ck_fail(c,
                         "reserved bytes %" PRIu32 "-%" PRIu32 " are not zero",
                         mp__md_reserved.from, mp__md_reserved.to - 1);
        }
        return false;
    }
    if (h->total < MPH_CK_MIN_PAGES || h->total > MP_MAX_PAGES) {
        mph__ck_fail(c, "total_pages %" PRIu64 " outside [8, 2^40]", h->total);
        return false;
    }
    if (h->total > im->pages) {
        mph__ck_fail(c,
                     "total_pages %" PRIu64 " but the file holds %" PRIu64
                     " whole pages (truncated?)",
                     h->total, im->pages);
        return false;
    }
    if (h->map_depth >= MPH_CK_LEVELS || h->dir_depth >= MPH_CK_LEVELS) {
        mph__ck_fail(c, "tree depth %" PRIu32 "/%" PRIu32 " above 8",
                     h->map_depth, h->dir_depth);
        return false;
    }
    if (h->map_roots > mph__ck_root_cap(im->ps, MPH_CK_TREE_MAP) ||
        h->dir_roots > mph__ck_root_cap(im->ps, MPH_CK_TREE_DIR)) {
        mph__ck_fail(c,
                     "root counts %" PRIu32 "/%" PRIu32
                     " above the capacities %" PRIu64 "/%" PRIu64,
                     h->map_roots, h->dir_roots,
                     mph__ck_root_cap(im->ps, MPH_CK_TREE_MAP),
                     mph__ck_root_cap(im->ps, MPH_CK_TREE_DIR));
        return false;
    }
    if (h->used != MPH_CK_META_HDR + MPH_CK_REF * roots) {
        mph__ck_fail(c,
                     "used_len %" PRIu32 " does not match %" PRIu64
                     " root references",
                     h->used, roots);
        return false;
    }
    if (h->free_pages > h->total) {
        mph__ck_fail(c, "free_pages %" PRIu64 " above total_pages %" PRIu64,
                     h->free_pages, h->total);
        return false;
    }
    /* Every slot ever used cost two pages. */
    if (h->slots > h->total / 2 || h->in_use > h->slots) {
        mph__ck_fail(c,
                     "slots %" PRIu64 " / protected_in_use %" PRIu64
                     " impossible for %" PRIu64 " pages",
                     h->slots, h->in_use, h->total);
        return false;
    }
    /* core/src/rules.h R1 and R2: the rules recovery applies, from the
     * same header. */
    if (!mp__total_ok(h->total, im->ps)) {
        mph__ck_fail(c,
                     "total_pages %" PRIu64 " ends group %" PRIu64
                     " inside its map-leaf copies",
                     h->total, (h->total - 1) / (8 * (uint64_t)im->ps));
        return false;
    }
    if (!mp__counts_ok(h->total, h->free_pages, h->slots, h->in_use, im->ps)) {
        mph__ck_fail(c,
                     "free_pages %" PRIu64 " leaves %" PRIu64
                     " pages allocated, fewer than the %" PRIu64
                     " that the map leaves, directory blocks and %" PRIu64
                     " protected pages need",
                     h->free_pages, h->total - h->free_pages,
                     mp__counts_need(h->total, h->slots, h->in_use, im->ps),
                     h->in_use);
        return false;
    }
    return true;
}

static bool shape_check(const struct mph__ck_img *im, struct mph__ck_copy *c,
                        int kind, uint64_t leaves, uint32_t depth,
                        uint32_t roots)
{
    struct mph__ck_shape *s = &c->tree[kind];
    const char *name = kind == MPH_CK_TREE_MAP ? "map" : "directory";
    if (!mph__ck_shape(im->ps, kind, leaves, s)) {
        mph__ck_fail(c,
                     "%s tree of %" PRIu64 " leaves needs more than 8 index "
                     "levels",
                     name, leaves);
        return false;
    }
    if (s->depth != depth || s->count[s->depth] != roots) {
        mph__ck_fail(c,
                     "%s tree: depth %" PRIu32 " with %" PRIu32
                     " roots stored, but %" PRIu64
                     " leaves need depth %u with %" PRIu64 " roots",
                     name, depth, roots, leaves, s->depth, s->count[s->depth]);
        return false;
    }
    return true;
}

/* First set bit of a & ~b below n bits, or n. */
static uint64_t first_extra(const uint64_t *a, const uint64_t *b, uint64_t n)
{
    for (uint64_t w = 0; w * 64 < n; w++) {
        uint64_t x = a[w] & ~b[w];
        if (x) {
            uint64_t pg = w * 64 + (uint64_t)__builtin_ctzll(x);
            return pg < n ? pg : n;
        }
    }
    return n;
}

/* Checks that need the whole map (FORMAT.md sections 3 and 7). */
static void map_checks(const struct mph__ck_img *im, struct mph__ck_copy *c)
{
    uint64_t total = c->h.total, used = 0, leaves = c->tree[0].leaves;
    uint64_t full = total >> 6;

    for (uint64_t w = 0; w < full; w++) {
        used += mph__ck_popcount(c->map[w]);
    }
    if (total & 63) {
        uint64_t tail = c->map[full];
        used += mph__ck_popcount(tail & (((uint64_t)1 << (total & 63)) - 1));
        if (tail >> (total & 63)) {
            mph__ck_fail(c,
                         "the map marks page %" PRIu64
                         " allocated, beyond total_pages %" PRIu64,
                         full * 64 + (total & 63) +
                             (uint64_t)__builtin_ctzll(tail >> (total & 63)),
                         total);
        }
        full++;
    }
    for (uint64_t w = full; w < c->words; w++) {
        if (c->map[w]) {
            mph__ck_fail(c,
                         "the map marks page %" PRIu64
                         " allocated, beyond total_pages %" PRIu64,
                         w * 64 + (uint64_t)__builtin_ctzll(c->map[w]), total);
            break;
        }
    }
    if (total - used != c->h.free_pages) {
        mph__ck_fail(c,
                     "free_pages says %" PRIu64 " but the map has %" PRIu64
                     " free pages",
                     c->h.free_pages, total - used);
    }
    for (uint64_t pg = 0; pg < MP_RESERVED_PAGES; pg++) {
        if (!mph__ck_bit(c->map, pg)) {
            mph__ck_fail(c, "reserved page %" PRIu64 " is free in the map", pg);
        }
    }
    for (uint64_t g = 0; g < leaves; g++) {
        for (int k = 0; k < 2; k++) {
            uint64_t pg = mph__ck_leaf_page(im->ps, g, k);
            if (pg < total && !mph__ck_bit(c->map, pg)) {
                mph__ck_fail(c,
                             "map leaf %" PRIu64 "'s copy %d (page %" PRIu64
                             ") is free in the map",
                             g, k, pg);
            }
        }
    }
}

static void deep_header_checks(struct mph__ck_copy *c, const unsigned char *m)
{
    (void)m;
    if (c->h.minor > MP_FORMAT_MINOR) {
        mph__ck_cnote(c, "format minor %u is newer than this checker's %d",
                      c->h.minor, MP_FORMAT_MINOR);
    }
}

static int alloc_bits(struct mph__ck_copy *c, uint64_t words)
{
    c->words = words;
    c->map = calloc((size_t)words, sizeof(uint64_t));
    c->owned = calloc((size_t)words, sizeof(uint64_t));
    c->inset = calloc((size_t)words, sizeof(uint64_t));
    return c->map && c->owned && c->inset ? MP_OK : MP_ENOMEM;
}

int mph__ck_copy_check(const struct mph__ck_img *im, int index,
                       struct mph__ck_copy *c)
{
    const unsigned char *m = mph__ck_page(im, 1 + (uint64_t)index);
    uint64_t total, leaves, per = mp__dir_entries(im->ps),
                            b = 8 * (uint64_t)im->ps;
    unsigned before;
    int rc;

    memset(c, 0, sizeof(*c));
    c->index = index;
    c->valid = true;
    decode_meta(m, &c->h);
    c->one_flush = mp__md_one_flush(m);
    mph__ck_dump(
        im,
        "%s (page %d): magic \"%.4s\" crc 0x%08" PRIx32 " used_len %" PRIu32
        " version %u.%u generation %" PRIu64 "\n"
        "    total_pages %" PRIu64 " free_pages %" PRIu64 " slots %" PRIu64
        " protected_in_use %" PRIu64 " log2 %" PRIu32 "\n"
        "    map depth %" PRIu32 " roots %" PRIu32 ", directory depth %" PRIu32
        " roots %" PRIu32 "\n",
        mph__ck_copy_name(index), 1 + index,
        memcmp(m, "MPMD", 4) ? "????" : "MPMD", c->h.crc, c->h.used, c->h.major,
        c->h.minor, c->h.generation, c->h.total, c->h.free_pages, c->h.slots,
        c->h.in_use, c->h.log2, c->h.map_depth, c->h.map_roots, c->h.dir_depth,
        c->h.dir_roots);
    c->header_ok = header_check(im, c, m);
    if (!c->header_ok) {
        mph__ck_dump(im, "    not a candidate: %s\n", c->why);
        return MP_OK;
    }
    total = c->h.total;
    leaves = (total + b - 1) / b;
    deep_header_checks(c, m);
    /* Bit arrays cover whole leaves, as the map itself does. total is at
     * most the file's page count, so these are at most file size / P / 8
     * bytes, plus one page. */
    rc = alloc_bits(c, leaves * (im->ps / 8));
    if (rc != MP_OK) {
        return rc;
    }
    for (uint64_t pg = 0; pg < MP_RESERVED_PAGES; pg++) {
        mph__ck_claim(c, pg, false, "reserved page", pg, 0);
    }
    for (uint64_t g = 0; g < leaves; g++) {
        for (int k = 0; k < 2; k++) {
            uint64_t pg = mph__ck_leaf_page(im->ps, g, k);
            if (pg < total) {
                mph__ck_claim(c, pg, false, "map leaf", g, k);
            }
        }
    }
    if (shape_check(im, c, MPH_CK_TREE_MAP, leaves, c->h.map_depth,
                    c->h.map_roots)) {
        before = c->nfail;
        mph__ck_tree_walk(im, c, MPH_CK_TREE_MAP, m + MPH_CK_META_HDR);
        if (c->nfail == before) {
            map_checks(im, c);
        }
    }
    if (c->h.slots) {
        c->prot = calloc((size_t)c->h.slots, sizeof(uint64_t));
        c->prot_crc = calloc((size_t)c->h.slots, sizeof(uint32_t));
        c->prot_bad = calloc((size_t)c->h.slots, sizeof(bool));
        if (!c->prot || !c->prot_crc || !c->prot_bad) {
            return MP_ENOMEM;
        }
    }
    if (shape_check(im, c, MPH_CK_TREE_DIR, (c->h.slots + per - 1) / per,
                    c->h.dir_depth, c->h.dir_roots)) {
        before = c->nfail;
        mph__ck_tree_walk(im, c, MPH_CK_TREE_DIR,
                          m + MPH_CK_META_HDR +
                              MPH_CK_REF * (uint64_t)c->h.map_roots);
        if (c->nfail == before && c->in_use != c->h.in_use) {
            mph__ck_fail(c,
                         "protected_in_use says %" PRIu64
                         " but the directory has %" PRIu64 " entries in use",
                         c->h.in_use, c->in_use);
        }
    }
    if (c->valid) {
        uint64_t pg = first_extra(c->inset, c->map, total);
        if (pg < total) {
            mph__ck_fail(c,
                         "page %" PRIu64 " (an index node, directory block "
                         "or protected page) is free in the map",
                         pg);
        }
    }
    if (c->valid) {
        uint64_t owned_free = first_extra(c->owned, c->map, total);
        for (uint64_t w = 0; w < c->words; w++) {
            c->regular += mph__ck_popcount(c->map[w] & ~c->owned[w]);
        }
        if (owned_free < total) {
            mph__ck_deep(c,
                         "page %" PRIu64 " is owned by a structure but "
                         "free in the map",
                         owned_free);
        }
    }
    mph__ck_dump(im, "    %s\n", c->valid ? "validates" : c->why);
    return MP_OK;
}

void mph__ck_copy_free(struct mph__ck_copy *c)
{
    free(c->map);
    free(c->owned);
    free(c->inset);
    free(c->prot);
    free(c->prot_crc);
    free(c->prot_bad);
    c->map = c->owned = c->inset = c->prot = NULL;
    c->prot_crc = NULL;
    c->prot_bad = NULL;
}

void mph__ck_copy_content(const struct mph__ck_img *im, struct mph__ck_copy *c)
{
    for (uint64_t s = 0; c->prot && s < c->h.slots; s++) {
        const unsigned char *pg;
        if (!c->prot[s]) {
            continue;
        }
        /* prot[s] was checked to be below total_pages, so in the file. */
        pg = mph__ck_page(im, c->prot[s]);
        if (!mp__protected_ok(pg, im->ps, c->prot_crc[s])) {
            c->prot_bad[s] = true;
            mph__ck_deep(
                c,
                "protected slot %" PRIu64 ": committed copy (page %" PRIu64
                ") has checksum 0x%08" PRIx32
                ", the directory says 0x%08" PRIx32
                ": mp_protected_get refuses it (MP_ECORRUPT)",
                s, c->prot[s], mp__crc32c(0, pg, im->ps), c->prot_crc[s]);
        }
    }
}
