/*
 * recover.c - choosing the live metadata copy at open (FORMAT.md section 9).
 * The rule (which copy, for which reason) is rules.h's, shared with the
 * checker; this file validates the copies it names, in its order.
 *
 * Every number read from the file is validated before it is used: a
 * hostile file gets an error code, never an access outside the mapping.
 * Recovery writes nothing; the next commit overwrites the copy not chosen.
 */
#include <string.h>

#include "crc32c.h"
#include "endian.h"
#include "internal.h"
#include "layout.h"
#include "mutant.h"
#include "rules.h"

struct meta_hdr {
    uint32_t crc;
    uint32_t used;
    uint64_t generation;
    uint64_t total;
    uint64_t free_pages;
    uint64_t slots;
    uint64_t in_use;
    uint32_t map_depth, map_roots, dir_depth, dir_roots;
    bool one_flush; /* commit flags bit 0 (FORMAT.md 7) */
};

/* Header-level checks of copy c: cheap, no tree is read. */
static bool header_ok(const mp_pager *p, int c, uint64_t file_bytes,
                      struct meta_hdr *h)
{
    const unsigned char *m = mp__page(p, 1 + (uint64_t)c);
    uint64_t total;

    if (memcmp(m, "MPMD", 4) != 0) {
        return false;
    }
    h->crc = mp__le32(m + 4);
    h->used = mp__le32(m + 8);
    if (h->used < MP__META_HDR || h->used > p->page_size) {
        return false;
    }
    if (!MP_MUTANT(MP_MUT_TRUST_SELECTOR) &&
        mp__crc32c(0, m + 8, h->used - 8) != h->crc) {
        return false;
    }
    if (mp__le16(m + 12) != MP_FORMAT_MAJOR || mp__le32(m + 56) != p->log2 ||
        !mp__md_static_ok(m, p->hdr_flags)) {
        return false;
    }
    h->generation = mp__le64(m + 16);
    total = h->total = mp__le64(m + 24);
    h->free_pages = mp__le64(m + 32);
    h->slots = mp__le64(m + 40);
    h->in_use = mp__le64(m + 48);
    h->map_depth = mp__le32(m + 60);
    h->map_roots = mp__le32(m + 64);
    h->dir_depth = mp__le32(m + 68);
    h->dir_roots = mp__le32(m + 72);
    h->one_flush = mp__md_one_flush(m);
    if (total < MP__MIN_PAGES || total > MP_MAX_PAGES ||
        total > file_bytes / p->page_size) {
        return false;
    }
    if (h->map_depth >= MP__LEVELS || h->dir_depth >= MP__LEVELS ||
        h->map_roots > mp__root_cap(p->page_size, MP__TREE_MAP) ||
        h->dir_roots > mp__root_cap(p->page_size, MP__TREE_DIR) ||
        h->used != MP__META_HDR +
                       MP__REF_SIZE * ((uint64_t)h->map_roots + h->dir_roots)) {
        return false;
    }
    /* Every slot costs two pages; more slots than that is a lie. */
    if (h->free_pages > total || h->slots > total / 2 || h->in_use > h->slots) {
        return false;
    }
    /* rules.h R1 and R2, shared with the checker. */
    if (!mp__total_ok(total, p->page_size) ||
        !mp__counts_ok(total, h->free_pages, h->slots, h->in_use,
                       p->page_size)) {
        return false;
    }
    return true;
}

/*
 * Empty the in-memory state but keep every array: load_copy then needs no
 * memory for any state the pager has held, which is what lets a rollback
 * (mp__reload) work when the memory hooks fail.
 */
static void reset_state(mp_pager *p)
{
    mp__tree_clear(&p->tree[MP__TREE_MAP]);
    mp__tree_clear(&p->tree[MP__TREE_DIR]);
    mp__pageset_clear(&p->internal, &p->mem);
    if (p->bitmap) {
        memset(p->bitmap, 0, (size_t)p->bitmap_words * sizeof(uint64_t));
    }
    p->prot_in_use = 0;
    p->slots = 0;
    p->total = 0;
}

static bool bits_beyond_total_clear(const mp_pager *p)
{
    uint64_t w = p->total >> 6;
    if (p->total & 63) {
        if (p->bitmap[w] >> (p->total & 63)) {
            return false;
        }
        w++;
    }
    for (; w < p->bitmap_words; w++) {
        if (p->bitmap[w]) {
            return false;
        }
    }
    return true;
}

/* Load everything copy c reaches into memory, validating as it goes. */
static int load_copy(mp_pager *p, int c, const struct meta_hdr *h)
{
    const unsigned char *m = mp__page(p, 1 + (uint64_t)c);
    uint64_t leaves, e = mp__dir_per_block(p);
    int rc;

    reset_state(p);
    p->load_gen = h->generation; /* rules.h R4 bounds the entries by it */
    p->total = h->total;
    leaves = mp__leaf_count(p, h->total);
    rc = mp__bitmap_resize(p, leaves);
    if (rc != MP_OK) {
        return rc;
    }
    rc = mp__tree_load(p, &p->tree[MP__TREE_MAP], leaves, h->map_depth,
                       h->map_roots, m + MP__META_HDR);
    if (rc != MP_OK) {
        return rc;
    }
    if (!bits_beyond_total_clear(p) || mp__count_free(p) != h->free_pages) {
        return MP_ECORRUPT_META;
    }
    for (uint64_t pg = 0; pg < MP_RESERVED_PAGES; pg++) {
        if (!mp__bit(p, pg)) {
            return MP_ECORRUPT_META;
        }
    }
    for (uint64_t g = 0; g < leaves; g++) {
        if (!mp__bit(p, mp__leaf_page(p, g, 0)) ||
            !mp__bit(p, mp__leaf_page(p, g, 1))) {
            return MP_ECORRUPT_META;
        }
    }
    p->slots = h->slots;
    rc = mp__grow_array(p, (void **)&p->dir, sizeof(*p->dir), &p->dir_cap,
                        h->slots);
    if (rc != MP_OK) {
        return rc;
    }
    /* Slots below h->slots are all decoded; those keep a staged write
     * (in memory only) if they stay in use. */
    if (p->dir_cap > h->slots) {
        memset(p->dir + h->slots, 0,
               (size_t)(p->dir_cap - h->slots) * sizeof(*p->dir));
    }
    rc = mp__tree_load(p, &p->tree[MP__TREE_DIR], (h->slots + e - 1) / e,
                       h->dir_depth, h->dir_roots,
                       m + MP__META_HDR + MP__REF_SIZE * h->map_roots);
    if (rc != MP_OK) {
        return rc;
    }
    if (p->prot_in_use != h->in_use) {
        return MP_ECORRUPT_META;
    }
    /* Every internal page must be allocated in the map. With the one-owner
     * checks of the tree walk and free_pages equal to the map's zero bits,
     * this also bounds the internal pages by the allocated ones; the count
     * that the header alone can refute is rules.h R2 in header_ok(). */
    for (uint64_t i = 0; i < p->internal.cap; i++) {
        uint64_t pg = p->internal.slots[i];
        if (pg && !mp__bit(p, pg)) {
            return MP_ECORRUPT_META;
        }
    }
    p->free_pages = h->free_pages;
    p->live_copy = c;
    p->generation = h->generation;
    p->live_crc = h->crc;
    p->hint = 0;
    p->slot_hint = 0;
    return MP_OK;
}

static struct mp__sel_record read_record(const mp_pager *p)
{
    const unsigned char *r = p->base + MP__RECORD_OFF;
    struct mp__sel_record rec = { false, 0, 0, 0 };
    uint32_t sel = mp__le32(r + 4);
    rec.sel = (int)(sel & 1);
    rec.gen = mp__le64(r + 8);
    rec.crc = mp__le32(r + 16);
    if (MP_MUTANT(MP_MUT_TRUST_SELECTOR)) {
        rec.ok = true; /* the original's mistake: believe the selector */
        return rec;
    }
    rec.ok = memcmp(r, "MPCR", 4) == 0 && sel <= 1 &&
             mp__crc32c(0, r, 20) == mp__le32(r + 20);
    return rec;
}

int mp__reload(mp_pager *p)
{
    struct meta_hdr h;
    int c = p->live_copy;
    /* I2 (commit.c) kept the live copy and all it reaches intact. */
    if (!header_ok(p, c, p->file_bytes, &h) || h.generation != p->generation ||
        h.crc != p->live_crc) {
        return MP_ECORRUPT_META;
    }
    return load_copy(p, c, &h);
}

/*
 * Copy c validates completely: everything it reaches, and for a copy of a
 * one-flush commit the generation check (rules.h R5), done in the same
 * pass as R3's verification of every protected page, so each page is read
 * once per copy tried. MP_OK, MP_ECORRUPT_META or MP_ENOMEM.
 */
static int try_copy(mp_pager *p, int c, const struct meta_hdr *h)
{
    bool check = h->one_flush && !MP_MUTANT(MP_MUT_ONE_FLUSH_NO_PROT_CHECK) &&
                 !MP_MUTANT(MP_MUT_ONE_FLUSH_TRUST_NEWEST);
    int rc = load_copy(p, c, h);
    if (rc != MP_OK) {
        return rc;
    }
    if (!mp__dir_verify(p, check)) {
        return MP_ECORRUPT_META;
    }
    return MP_OK;
}

/* FORMAT.md section 9: the selection rule is rules.h's, which the checker
 * applies too; this tries the copies in its order. */
int mp__recover(mp_pager *p, uint64_t file_bytes)
{
    struct meta_hdr h[2];
    struct mp__sel_copy sc[2];
    struct mp__sel_record rec = read_record(p);
    struct mp_recovery_info *ri = &p->recovery;
    int order[2], chosen = -1, rc = MP_ECORRUPT_META;

    memset(ri, 0, sizeof(*ri));
    for (int c = 0; c < 2; c++) {
        sc[c].cand = header_ok(p, c, file_bytes, &h[c]);
        sc[c].one_flush = sc[c].cand && h[c].one_flush;
        sc[c].gen = sc[c].cand ? h[c].generation : 0;
        sc[c].crc = sc[c].cand ? h[c].crc : 0;
        ri->copy_valid[c] = sc[c].cand;
        ri->copy_generation[c] = sc[c].gen;
    }
    if (MP_MUTANT(MP_MUT_TRUST_SELECTOR) && sc[rec.sel].cand) {
        rec.gen = sc[rec.sel].gen; /* any candidate the selector names */
        rec.crc = sc[rec.sel].crc;
    }
    mp__sel_order(sc, &rec, order);
    if (MP_MUTANT(MP_MUT_ONE_FLUSH_TRUST_NEWEST)) {
        int n = mp__sel_newest(sc);
        if (n >= 0 && sc[n].one_flush) {
            /* The mutant: the newest one-flush copy, no fallback. */
            order[0] = n;
            sc[1 - n].cand = false;
        }
    }
    for (int k = 0; k < 2; k++) {
        int c = order[k];
        if (!sc[c].cand) {
            continue;
        }
        /* The in-memory entry flags that a rollback keeps (staged, damaged)
         * must not pass from one copy tried to the next. */
        if (p->dir) {
            memset(p->dir, 0, (size_t)p->dir_cap * sizeof(*p->dir));
        }
        rc = try_copy(p, c, &h[c]);
        if (rc == MP_OK) {
            chosen = c;
            break;
        }
        ri->copy_valid[c] = false;
        if (rc == MP_ENOMEM) {
            return rc;
        }
        rc = MP_ECORRUPT_META;
    }
    if (rc != MP_OK) {
        reset_state(p);
        return MP_ECORRUPT_META;
    }
    ri->chosen_copy = chosen;
    ri->reason = mp__sel_reason(sc, &rec, chosen);
    ri->fallback =
        ri->reason != MP_RECOVERY_RECORD && ri->reason != MP_RECOVERY_ONE_FLUSH;
    ri->generation = p->generation;
    return MP_OK;
}
