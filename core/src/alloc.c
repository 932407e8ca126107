/*
 * alloc.c - regular pages: alloc, free, the bulk calls, growth, access.
 *
 * Every call validates all of its input before it changes anything; an
 * error after the first change (MP_ENOMEM, a failed commit) rolls memory
 * back to the durable state (mp__rollback, I6 in commit.c), so every error
 * leaves the pager reporting exactly what it reported before the call.
 */
#include <string.h>

#include "internal.h"
#include "mutant.h"
#include "rules.h"

int mp__check_writable(const mp_pager *p)
{
    if (p->readonly) {
        return MP_EREADONLY;
    }
    if (p->failed) {
        return MP_EUNAVAILABLE;
    }
    if (atomic_load(&((mp_pager *)p)->iterators) != 0) {
        return MP_EITERATING;
    }
    return MP_OK;
}

/* Validate a regular page id that must be allocated. */
static int check_page(const mp_pager *p, uint64_t pg)
{
    if (pg & MP_ID_KIND_MASK) {
        return MP_EWRONGKIND;
    }
    if (pg < MP_RESERVED_PAGES) {
        return MP_ERESERVED;
    }
    if (pg >= p->total) {
        return MP_EOUTOFBOUNDS;
    }
    if (mp__is_leaf_page(p, pg) || mp__pageset_has(&p->internal, pg)) {
        return MP_EINTERNAL;
    }
    if (!mp__bit(p, pg)) {
        return MP_EDOUBLEFREE;
    }
    return MP_OK;
}

static int mark_leaf_of(mp_pager *p, uint64_t pg)
{
    return mp__tree_mark(p, &p->tree[MP__TREE_MAP], 0, pg / mp__group_pages(p));
}

int mp__take_page(mp_pager *p, uint64_t *out)
{
    uint64_t pg = mp__find_free(p);
    int rc;
    if (pg >= p->total) {
        return MP_ENOSPC;
    }
    rc = mp__pageset_add(&p->internal, &p->mem, pg);
    if (rc != MP_OK) {
        return rc;
    }
    mp__bit_set(p, pg);
    p->free_pages--;
    p->hint = pg + 1;
    *out = pg;
    return mark_leaf_of(p, pg);
}

/* A total that leaves no group with its leaf pages cut off: rules.h R1,
 * the rule open and the checker enforce (FORMAT.md 3). */
static uint64_t round_total(const mp_pager *p, uint64_t t)
{
    return mp__total_round(t, p->page_size);
}

/* Free pages a growth to t pages would leave, or 0 if none. */
static uint64_t free_after(const mp_pager *p, uint64_t t)
{
    uint64_t leaves = mp__leaf_count(p, t);
    uint64_t cost = 2 * (leaves - mp__leaf_count(p, p->total));
    uint64_t nodes = mp__tree_new_pages(p, &p->tree[MP__TREE_MAP], leaves);
    if (nodes == UINT64_MAX || cost + nodes > t - p->total + p->free_pages) {
        return 0;
    }
    return p->free_pages + (t - p->total) - cost - nodes;
}

/*
 * Step 1 of the commit protocol: grow the file to t pages. The length is
 * made durable (sync_file) before anything can reference a new page (I3);
 * the backend calls that fail before anything is written leave the pager
 * usable and unchanged.
 */
static int grow_to(mp_pager *p, uint64_t t)
{
    uint64_t bytes = t * (uint64_t)p->page_size;
    uint64_t leaves = mp__leaf_count(p, t);
    int rc;

    if (t > MP_MAX_PAGES || bytes / p->page_size != t) {
        return MP_ELIMIT;
    }
    if (bytes > p->reserved) {
        return MP_ELIMIT;
    }
    if (bytes > p->file_bytes) {
        rc = mp__io_grow(p, bytes);
        if (rc != MP_OK) {
            return rc;
        }
        p->file_bytes = bytes;
    }
    if (bytes > p->mapped) {
        rc = mp__io_extend_map(p, bytes);
        if (rc != MP_OK) {
            return rc;
        }
        p->mapped = bytes;
    }
    if (!MP_MUTANT(MP_MUT_SKIP_GROW_FSYNC)) {
        rc = mp__io_sync_file(p);
        if (rc != MP_OK) {
            mp__fail(p, rc);
            return rc;
        }
    }
    rc = mp__bitmap_resize(p, leaves);
    if (rc != MP_OK) {
        return rc;
    }
    p->free_pages += t - p->total;
    if (p->hint > p->total) {
        p->hint = p->total;
    }
    p->total = t;
    rc = mp__tree_resize(p, &p->tree[MP__TREE_MAP], leaves);
    if (rc != MP_OK) {
        /* Memory holds half a new shape: back to the durable one. */
        return mp__rollback(p, rc);
    }
    return MP_OK;
}

int mp__ensure_free(mp_pager *p, uint64_t need)
{
    uint64_t t = p->total;
    if (p->free_pages >= need) {
        return MP_OK;
    }
    /* Geometric growth: double, or more if one call needs more. */
    for (;;) {
        uint64_t next = t * 2;
        if (next < t || t >= MP_MAX_PAGES) {
            return MP_ELIMIT;
        }
        if (next - p->total < need) {
            next = p->total + need;
        }
        t = round_total(p, next);
        if (t > MP_MAX_PAGES) {
            t = MP_MAX_PAGES;
        }
        if (free_after(p, t) >= need) {
            break;
        }
        if (t == MP_MAX_PAGES) {
            return MP_ELIMIT;
        }
    }
    return grow_to(p, t);
}

int mp_pager_grow(mp_pager *p, uint64_t min_pages)
{
    int rc = mp__check_writable(p);
    if (rc != MP_OK) {
        return rc;
    }
    if (min_pages <= p->total) {
        return MP_OK;
    }
    if (min_pages > MP_MAX_PAGES) {
        return MP_ELIMIT;
    }
    rc = grow_to(p, round_total(p, min_pages));
    if (rc != MP_OK) {
        return rc;
    }
    return mp__commit(p, -1);
}

int mp_pager_alloc(mp_pager *p, mp_pgno *out)
{
    uint64_t pg;
    int rc;

    if (!out) {
        return MP_EINVAL;
    }
    rc = mp__check_writable(p);
    if (rc == MP_OK) {
        rc = mp__ensure_free(p, 1);
    }
    if (rc != MP_OK) {
        return rc;
    }
    pg = mp__find_free(p);
    mp__bit_set(p, pg);
    p->free_pages--;
    p->hint = pg + 1;
    rc = mark_leaf_of(p, pg);
    if (rc != MP_OK) {
        return mp__rollback(p, rc);
    }
    rc = mp__commit(p, -1);
    if (rc == MP_OK) {
        *out = pg;
    }
    return rc;
}

int mp_pager_free(mp_pager *p, mp_pgno pg)
{
    int rc = mp__check_writable(p);
    if (rc == MP_OK) {
        rc = check_page(p, pg);
    }
    if (rc != MP_OK) {
        return rc;
    }
    mp__bit_clear(p, pg);
    p->free_pages++;
    rc = mark_leaf_of(p, pg);
    if (rc != MP_OK) {
        return mp__rollback(p, rc);
    }
    return mp__commit(p, -1);
}

int mp_pager_alloc_bulk(mp_pager *p, size_t count, mp_pgno *out)
{
    uint64_t got = 0, w, leaf = UINT64_MAX, lshift;
    int rc;

    if (count == 0 || (uint64_t)count > MP_BULK_MAX) {
        return MP_ECOUNT;
    }
    if (!out) {
        return MP_EINVAL;
    }
    rc = mp__check_writable(p);
    if (rc == MP_OK) {
        rc = mp__ensure_free(p, count);
    }
    if (rc != MP_OK) {
        return rc;
    }
    lshift = (uint64_t)__builtin_ctzll(mp__group_pages(p));
    /* Take free bits a word at a time: no rescan from page 0 per page. */
    mp__find_free(p);
    w = p->hint >> 6;
    while (got < count) {
        uint64_t bits = ~p->bitmap[w];
        if (w == p->hint >> 6) {
            bits &= ~(uint64_t)0 << (p->hint & 63);
        }
        while (bits && got < count) {
            uint64_t pg = (w << 6) + (uint64_t)__builtin_ctzll(bits);
            bits &= bits - 1;
            p->bitmap[w] |= (uint64_t)1 << (pg & 63);
            out[got++] = pg;
            if (pg >> lshift != leaf) {
                leaf = pg >> lshift;
                rc = mp__tree_mark(p, &p->tree[MP__TREE_MAP], 0, leaf);
                if (rc != MP_OK) {
                    return mp__rollback(p, rc);
                }
            }
        }
        w++;
    }
    p->free_pages -= count;
    p->hint = out[count - 1] + 1;
    return mp__commit(p, -1);
}

int mp_pager_free_bulk(mp_pager *p, const mp_pgno *pages, size_t count)
{
    uint64_t leaf = UINT64_MAX, lshift;
    size_t i;
    int rc;

    if (count == 0 || (uint64_t)count > MP_BULK_MAX) {
        return MP_ECOUNT;
    }
    if (!pages) {
        return MP_EINVAL;
    }
    rc = mp__check_writable(p);
    if (rc != MP_OK) {
        return rc;
    }
    /*
     * Validate by clearing: a bit already clear is either a free page or
     * an id listed earlier. O(n), no sort; undone on any error.
     */
    for (i = 0; i < count; i++) {
        rc = check_page(p, pages[i]);
        if (rc == MP_EDOUBLEFREE) {
            for (size_t j = 0; j < i; j++) {
                if (pages[j] == pages[i]) {
                    rc = MP_EDUPLICATE;
                    break;
                }
            }
        }
        if (rc != MP_OK) {
            break;
        }
        p->bitmap[pages[i] >> 6] &= ~((uint64_t)1 << (pages[i] & 63));
    }
    if (rc != MP_OK) {
        while (i-- > 0) {
            mp__bit_set(p, pages[i]);
        }
        return rc;
    }
    lshift = (uint64_t)__builtin_ctzll(mp__group_pages(p));
    for (i = 0; i < count; i++) {
        if (pages[i] < p->hint) {
            p->hint = pages[i];
        }
        if (pages[i] >> lshift != leaf) {
            leaf = pages[i] >> lshift;
            rc = mp__tree_mark(p, &p->tree[MP__TREE_MAP], 0, leaf);
            if (rc != MP_OK) {
                return mp__rollback(p, rc);
            }
        }
    }
    p->free_pages += count;
    return mp__commit(p, -1);
}

int mp_pager_get(const mp_pager *p, mp_pgno pg, const void **out)
{
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    rc = check_page(p, pg);
    if (rc == MP_OK) {
        *out = mp__page(p, pg);
    }
    return rc;
}

int mp_pager_get_mut(mp_pager *p, mp_pgno pg, void **out)
{
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    if (p->readonly) {
        return MP_EREADONLY;
    }
    rc = check_page(p, pg);
    if (rc == MP_OK) {
        *out = mp__page(p, pg);
    }
    return rc;
}

int mp_pager_sync_pages(mp_pager *p, mp_pgno first, uint64_t count)
{
    struct mp_io_range r;
    int rc;

    if (p->readonly) {
        return MP_EREADONLY;
    }
    if (p->failed) {
        return MP_EUNAVAILABLE;
    }
    if (first == 0 && count == 0) {
        count = p->total;
    }
    if (first >= p->total || count > p->total - first || count == 0) {
        return MP_EOUTOFBOUNDS;
    }
    r.offset = first * (uint64_t)p->page_size;
    r.length = count * (uint64_t)p->page_size;
    rc = mp__io_sync(p, &r, 1);
    if (rc != MP_OK) {
        mp__fail(p, rc);
    }
    return rc;
}
