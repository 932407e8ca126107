/*
 * protected.c - protected (copy-on-write) pages and their directory.
 *
 * Invariants:
 *  (1) An entry's committed copy is only written by mp_protected_alloc
 *      (zero fill, inside the same commit that makes the entry exist); a
 *      write in progress always goes to the other copy, which no durable
 *      state reaches until its commit flips the entry.
 *  (2) The staging page is in barrier 1 of its commit, so the record that
 *      makes the flip durable can only land after the new content has.
 *  (3) Alloc, free and commit change the entry, the map and the directory
 *      in one commit: no crash leaves a page leaked or owned twice.
 */
#include <string.h>

#include "crc32c.h"
#include "endian.h"
#include "internal.h"
#include "layout.h"
#include "rules.h"

#define MARK 0x40000000u /* in-memory: seen during bulk validation */

void mp__dir_encode_block(const mp_pager *p, uint64_t block, unsigned char *out,
                          size_t *len)
{
    uint64_t e = mp__dir_per_block(p), first = block * e, end = first + e;
    if (end > p->slots) {
        end = p->slots;
    }
    for (uint64_t s = first; s < end; s++) {
        const struct mp__dirent *d = &p->dir[s];
        unsigned char *b = out + (s - first) * MP__ENT_SIZE;
        mp__put64(b + MP__ENT_PAGE0, d->page[0]);
        mp__put64(b + MP__ENT_PAGE1, d->page[1]);
        mp__put32(b + MP__ENT_CRC, d->crc);
        mp__put32(b + MP__ENT_FLAGS, d->flags & MP__ENT_DISK_MASK);
        mp__put64(b + MP__ENT_GEN, d->gen);
    }
    *len = (size_t)(end - first) * MP__ENT_SIZE;
}

int mp__dir_decode_block(mp_pager *p, uint64_t block, const unsigned char *in)
{
    uint64_t e = mp__dir_per_block(p), first = block * e, end = first + e;
    if (end > p->slots) {
        end = p->slots;
    }
    for (uint64_t s = first; s < end; s++) {
        const unsigned char *b = in + (s - first) * MP__ENT_SIZE;
        struct mp__dirent *d = &p->dir[s];
        /* In memory only, kept through a rollback (mp__reload): a staged
         * write, and damage found at open (a reopen finds it again). */
        uint32_t staged = d->flags & (MP__ENT_STAGED | MP__ENT_DAMAGED);
        int rc;
        d->page[0] = mp__le64(b + MP__ENT_PAGE0);
        d->page[1] = mp__le64(b + MP__ENT_PAGE1);
        d->crc = mp__le32(b + MP__ENT_CRC);
        d->flags = mp__le32(b + MP__ENT_FLAGS);
        d->gen = mp__le64(b + MP__ENT_GEN);
        if (d->flags & ~MP__ENT_DISK_MASK) {
            return MP_ECORRUPT_META;
        }
        if (!(d->flags & MP__ENT_INUSE)) {
            if (d->page[0] || d->page[1] || d->crc || d->flags || d->gen) {
                return MP_ECORRUPT_META;
            }
            continue;
        }
        /* rules.h R4. */
        if (!mp__entry_gen_ok(d->gen, p->load_gen)) {
            return MP_ECORRUPT_META;
        }
        if (d->page[0] < MP_RESERVED_PAGES || d->page[1] < MP_RESERVED_PAGES ||
            d->page[0] >= p->total || d->page[1] >= p->total ||
            d->page[0] == d->page[1] || mp__is_leaf_page(p, d->page[0]) ||
            mp__is_leaf_page(p, d->page[1]) ||
            mp__pageset_has(&p->internal, d->page[0]) ||
            mp__pageset_has(&p->internal, d->page[1])) {
            return MP_ECORRUPT_META; /* one owner per page */
        }
        rc = mp__pageset_add(&p->internal, &p->mem, d->page[0]);
        if (rc == MP_OK) {
            rc = mp__pageset_add(&p->internal, &p->mem, d->page[1]);
        }
        if (rc != MP_OK) {
            return rc;
        }
        d->flags |= staged;
        p->prot_in_use++;
    }
    return MP_OK;
}

/*
 * rules.h R3, once per open, before the pager is handed out (so readers
 * only ever read the flag): a page is damaged, not the metadata copy that
 * names it. Falling back to the other copy instead would silently undo the
 * last commit for every page because one page was hit. The same pass is
 * the generation check (R5) of a one-flush copy: one read of each page.
 */
bool mp__dir_verify(mp_pager *p, bool one_flush)
{
    bool ok = true;
    for (uint64_t s = 0; s < p->slots; s++) {
        struct mp__dirent *d = &p->dir[s];
        bool good;
        if (!(d->flags & MP__ENT_INUSE)) {
            continue;
        }
        good = mp__protected_ok(mp__page(p, d->page[d->flags & MP__ENT_LIVE]),
                                p->page_size, d->crc);
        if (!good) {
            d->flags |= MP__ENT_DAMAGED;
        }
        if (!mp__gen_check_ok(one_flush, p->load_gen, d->gen, good)) {
            ok = false;
        }
    }
    return ok;
}

/* Validate a protected id that must be in use; *slot receives its slot. */
static int check_id(const mp_pager *p, mp_protected_id id, uint64_t *slot)
{
    if ((id & MP_ID_KIND_MASK) != MP_ID_KIND_PROTECT) {
        return MP_EWRONGKIND;
    }
    *slot = id & ~MP_ID_KIND_MASK;
    if (*slot >= p->slots) {
        return MP_EOUTOFBOUNDS;
    }
    if (!(p->dir[*slot].flags & MP__ENT_INUSE)) {
        return MP_EDOUBLEFREE;
    }
    return MP_OK;
}

static int mark_slot(mp_pager *p, uint64_t s)
{
    return mp__tree_mark(p, &p->tree[MP__TREE_DIR], 0,
                         s / mp__dir_per_block(p));
}

/* Lowest slot not in use, at or after slot_hint (may be p->slots). */
static uint64_t free_slot(mp_pager *p)
{
    uint64_t s = p->slot_hint;
    while (s < p->slots && (p->dir[s].flags & MP__ENT_INUSE)) {
        s++;
    }
    p->slot_hint = s;
    return s;
}

int mp_protected_alloc_bulk(mp_pager *p, size_t count, mp_protected_id *out)
{
    uint64_t e, reuse, new_slots, blocks, need, zero_crc;
    struct mp__tree *t = &p->tree[MP__TREE_DIR];
    int rc;

    if (count == 0 || (uint64_t)count > MP_BULK_MAX) {
        return MP_ECOUNT;
    }
    if (!out) {
        return MP_EINVAL;
    }
    rc = mp__check_writable(p);
    if (rc != MP_OK) {
        return rc;
    }
    e = mp__dir_per_block(p);
    reuse = p->slots - p->prot_in_use;
    new_slots = p->slots + (count > reuse ? count - reuse : 0);
    if (new_slots > MP_MAX_PAGES / 2) {
        return MP_ELIMIT;
    }
    blocks = (new_slots + e - 1) / e;
    need = mp__tree_new_pages(p, t, blocks);
    if (need == UINT64_MAX) {
        return MP_ELIMIT;
    }
    need += 2 * (uint64_t)count;
    /* Room for the slots before growing: a growth followed by a refusal
     * would leave an uncommitted page count behind. Only capacity changes. */
    rc = mp__grow_array(p, (void **)&p->dir, sizeof(*p->dir), &p->dir_cap,
                        new_slots);
    if (rc != MP_OK) {
        return rc;
    }
    rc = mp__ensure_free(p, need);
    if (rc != MP_OK) {
        return rc;
    }
    p->slots = new_slots;
    rc = mp__tree_resize(p, t, blocks);
    if (rc != MP_OK) {
        goto out_fail;
    }
    zero_crc = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t s = free_slot(p);
        struct mp__dirent *d = &p->dir[s];
        unsigned char *pg;

        rc = mp__take_page(p, &d->page[0]);
        if (rc == MP_OK) {
            rc = mp__take_page(p, &d->page[1]);
        }
        if (rc != MP_OK) {
            goto out_fail;
        }
        /* A new page reads as zeros, never as a previous owner's bytes. */
        pg = mp__page(p, d->page[0]);
        memset(pg, 0, p->page_size);
        if (i == 0) {
            zero_crc = mp__crc32c(0, pg, p->page_size);
        }
        d->crc = (uint32_t)zero_crc;
        d->flags = MP__ENT_INUSE;
        d->gen = p->generation + 1; /* this commit's (rules.h R4) */
        p->prot_in_use++;
        rc = mp__add_range(p, d->page[0]);
        if (rc == MP_OK) {
            rc = mark_slot(p, s);
        }
        if (rc != MP_OK) {
            goto out_fail;
        }
        out[i] = MP_ID_KIND_PROTECT | s;
    }
    return mp__commit(p, -1);

out_fail:
    return mp__rollback(p, rc);
}

int mp_protected_alloc(mp_pager *p, mp_protected_id *out)
{
    return mp_protected_alloc_bulk(p, 1, out);
}

int mp_protected_free_bulk(mp_pager *p, const mp_protected_id *ids,
                           size_t count)
{
    size_t i;
    uint64_t s;
    int rc;

    if (count == 0 || (uint64_t)count > MP_BULK_MAX) {
        return MP_ECOUNT;
    }
    if (!ids) {
        return MP_EINVAL;
    }
    rc = mp__check_writable(p);
    if (rc != MP_OK) {
        return rc;
    }
    for (i = 0; i < count; i++) {
        rc = check_id(p, ids[i], &s);
        if (rc == MP_OK && (p->dir[s].flags & MARK)) {
            rc = MP_EDUPLICATE;
        }
        if (rc != MP_OK) {
            break;
        }
        p->dir[s].flags |= MARK;
    }
    if (rc != MP_OK) {
        while (i-- > 0) {
            p->dir[ids[i] & ~MP_ID_KIND_MASK].flags &= ~MARK;
        }
        return rc;
    }
    for (i = 0; i < count; i++) {
        struct mp__dirent *d;
        s = ids[i] & ~MP_ID_KIND_MASK;
        d = &p->dir[s];
        for (int c = 0; c < 2; c++) {
            mp__pageset_remove(&p->internal, &p->mem, d->page[c]);
            mp__bit_clear(p, d->page[c]);
            rc = mp__tree_mark(p, &p->tree[MP__TREE_MAP], 0,
                               d->page[c] / mp__group_pages(p));
            if (rc != MP_OK) {
                return mp__rollback(p, rc);
            }
        }
        /* A staged write is dropped only once the free is committed: a
         * rollback keeps it (mp__reload). */
        d->page[0] = d->page[1] = 0;
        d->crc = 0;
        d->gen = 0;
        d->flags &= MP__ENT_STAGED | MP__ENT_DAMAGED;
        p->free_pages += 2;
        p->prot_in_use--;
        if (s < p->slot_hint) {
            p->slot_hint = s;
        }
        rc = mark_slot(p, s);
        if (rc != MP_OK) {
            return mp__rollback(p, rc);
        }
    }
    rc = mp__commit(p, -1);
    if (rc == MP_OK) {
        for (i = 0; i < count; i++) {
            p->dir[ids[i] & ~MP_ID_KIND_MASK].flags = 0;
        }
    }
    return rc;
}

int mp_protected_free(mp_pager *p, mp_protected_id id)
{
    return mp_protected_free_bulk(p, &id, 1);
}

int mp_protected_get(const mp_pager *p, mp_protected_id id, const void **out)
{
    uint64_t s;
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    rc = check_id(p, id, &s);
    if (rc == MP_OK) {
        const struct mp__dirent *d = &p->dir[s];
        /* rules.h R3: never hand out a committed copy that is not what was
         * committed (damage, or a commit whose data never became durable);
         * open verified each one (mp__dir_verify). */
        if (d->flags & MP__ENT_DAMAGED) {
            return MP_ECORRUPT;
        }
        *out = mp__page(p, d->page[d->flags & MP__ENT_LIVE]);
    }
    return rc;
}

int mp_protected_begin(mp_pager *p, mp_protected_id id, void **staging)
{
    struct mp__dirent *d;
    unsigned char *dst;
    uint64_t s;
    int rc;

    if (!staging) {
        return MP_EINVAL;
    }
    *staging = NULL;
    if (p->readonly) {
        return MP_EREADONLY;
    }
    if (p->failed) {
        return MP_EUNAVAILABLE;
    }
    rc = check_id(p, id, &s);
    if (rc != MP_OK) {
        return rc;
    }
    d = &p->dir[s];
    if (d->flags & MP__ENT_STAGED) {
        return MP_ESTAGED;
    }
    /* A damaged committed copy must not become the base of a new version
     * with a fresh, valid checksum (rules.h R3). */
    if (d->flags & MP__ENT_DAMAGED) {
        return MP_ECORRUPT;
    }
    /* The other copy may be two versions old: start from the live one. */
    dst = mp__page(p, d->page[(d->flags & MP__ENT_LIVE) ^ 1]);
    memcpy(dst, mp__page(p, d->page[d->flags & MP__ENT_LIVE]), p->page_size);
    d->flags |= MP__ENT_STAGED;
    *staging = dst;
    return MP_OK;
}

int mp_protected_commit(mp_pager *p, mp_protected_id id)
{
    struct mp__dirent *d;
    uint64_t s;
    uint32_t other;
    int rc = mp__check_writable(p);

    if (rc == MP_OK) {
        rc = check_id(p, id, &s);
    }
    if (rc != MP_OK) {
        return rc;
    }
    d = &p->dir[s];
    if (!(d->flags & MP__ENT_STAGED)) {
        return MP_ENOTSTAGED;
    }
    other = (d->flags & MP__ENT_LIVE) ^ 1;
    rc = mark_slot(p, s);
    if (rc != MP_OK) {
        return rc;
    }
    d->crc = mp__crc32c(0, mp__page(p, d->page[other]), p->page_size);
    /* Still staged until the commit succeeds: a failed one rolls the entry
     * back with the write staged, so it can be committed again (after
     * MP_ENOMEM) or aborted. */
    d->flags = MP__ENT_INUSE | MP__ENT_STAGED | other;
    d->gen = p->generation + 1;
    rc = mp__commit(p, (int64_t)d->page[other]);
    if (rc == MP_OK) {
        d->flags &= ~MP__ENT_STAGED;
    }
    return rc;
}

int mp_protected_abort(mp_pager *p, mp_protected_id id)
{
    uint64_t s;
    int rc = check_id(p, id, &s);
    if (rc != MP_OK) {
        return rc;
    }
    if (!(p->dir[s].flags & MP__ENT_STAGED)) {
        return MP_ENOTSTAGED;
    }
    p->dir[s].flags &= ~MP__ENT_STAGED;
    return MP_OK;
}

uint64_t mp_protected_count(const mp_pager *p)
{
    return p->prot_in_use;
}
