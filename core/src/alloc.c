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

/*
 * The one rule for how far the file may grow: the largest total within
 * MP_MAX_PAGES and the address reservation (growth never moves the
 * mapping), lowered so that it does not end inside a group's leaf copies.
 * Every growth (alloc's geometric growth and mp_pager_grow) asks this.
 */
static uint64_t max_total(const mp_pager *p)
{
    uint64_t b = mp__group_pages(p);
    uint64_t m = p->reserved / p->page_size;
    uint64_t g;
    if (m > MP_MAX_PAGES) {
        m = MP_MAX_PAGES;
    }
    g = (m - 1) / b;
    if (g > 0 && m - g * b < 3) {
        m = g * b;
    }
    return m;
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

/* Bytes reserved ahead of the allocation frontier in one backend call. */
#define RESERVE_AHEAD_BYTES ((uint64_t)1 << 20)

/*
 * Reserve the run [lo, hi) of pages to be claimed, and the map nodes its
 * commit rewrites: the leaves of the existing groups it lies in and the
 * nodes above them (*last_g: the last group done).
 */
static int reserve_run(mp_pager *p, uint64_t lo, uint64_t hi, uint64_t ahead,
                       uint64_t *last_g)
{
    const struct mp__tree *m = &p->tree[MP__TREE_MAP];
    uint64_t b = mp__group_pages(p);
    int rc = mp__reserve(p, lo, hi, ahead);
    for (uint64_t g = lo / b; rc == MP_OK && lo < hi && g <= (hi - 1) / b;
         g++) {
        if (g < m->count[0] && (*last_g == UINT64_MAX || g > *last_g)) {
            rc = mp__reserve_chain(p, m, 0, g);
            *last_g = g;
        }
    }
    return rc;
}

/*
 * Reserve disk blocks for every page the call in progress may store into
 * or hand out, before anything is stored (issue 12: a store into a page
 * the device cannot hold is SIGBUS): the two leaf copies of each group a
 * growth to t pages adds (both: the second commit writes the other), and
 * the first k pages that will be free once the file has t pages, in the
 * order alloc, alloc_bulk and mp__take_page claim them (lowest first from
 * the hint), with the leaves (and nodes above) of the groups they lie in
 * and pages 0-2. Index nodes, directory blocks and protected copies come
 * from mp__take_page, so every internal page gets its blocks when it is
 * born and later commits store only into reserved pages. Runs of pages are
 * reserved together, with RESERVE_AHEAD_BYTES more when the device has
 * them, so a run of single allocs costs one backend call per chunk. Only
 * what is handed out or written is reserved: a sparse growth stays sparse.
 */
static int reserve_ahead(mp_pager *p, uint64_t t, uint64_t k)
{
    uint64_t ahead = RESERVE_AHEAD_BYTES / p->page_size;
    uint64_t g = mp__leaf_count(p, p->total), last = mp__leaf_count(p, t);
    uint64_t pg = p->hint, lo = 0, hi = 0, last_g = UINT64_MAX;
    /* The record's page and both metadata copies: every commit's. */
    int rc = mp__reserve(p, 0, MP_RESERVED_PAGES, 0);

    if (rc != MP_OK) {
        return rc;
    }
    for (; g < last; g++) {
        rc = mp__reserve(p, mp__leaf_page(p, g, 0), mp__leaf_page(p, g, 0) + 2,
                         0);
        if (rc != MP_OK) {
            return rc;
        }
    }
    while (k > 0 && pg < t) {
        bool is_free;
        if (pg < p->total && (pg & 63) == 0 && pg + 64 <= p->total) {
            /* Whole words: all taken, or 64 free pages in one step. */
            uint64_t word = p->bitmap[pg >> 6];
            if (word == ~(uint64_t)0) {
                pg += 64;
                continue;
            }
            if (word == 0 && k >= 64) {
                if (pg != hi) {
                    rc = reserve_run(p, lo, hi, hi + ahead, &last_g);
                    if (rc != MP_OK) {
                        return rc;
                    }
                    lo = pg;
                }
                hi = pg + 64;
                k -= 64;
                pg += 64;
                continue;
            }
        }
        is_free = pg < p->total ? !mp__bit(p, pg) : !mp__is_leaf_page(p, pg);
        if (is_free) {
            if (pg != hi) {
                rc = reserve_run(p, lo, hi, hi + ahead, &last_g);
                if (rc != MP_OK) {
                    return rc;
                }
                lo = pg;
            }
            hi = pg + 1;
            k--;
        }
        pg++;
    }
    return reserve_run(p, lo, hi, hi + ahead, &last_g);
}

/*
 * Step 1 of the commit protocol: grow the file to t pages, with blocks for
 * the new groups' leaves and the next `need` free pages. The length is
 * made durable (sync_file) before anything can reference a new page (I3);
 * the backend calls that fail before anything is written (grow, map,
 * reserve) leave the pager usable and unchanged.
 */
static int grow_to(mp_pager *p, uint64_t t, uint64_t need)
{
    uint64_t bytes = t * (uint64_t)p->page_size;
    uint64_t leaves = mp__leaf_count(p, t);
    uint64_t nodes = mp__tree_new_pages(p, &p->tree[MP__TREE_MAP], leaves);
    int rc;

    if (t > max_total(p) || nodes == UINT64_MAX) {
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
    rc = reserve_ahead(p, t, need + nodes);
    if (rc != MP_OK) {
        return rc;
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
    uint64_t t = p->total, limit = max_total(p);
    if (p->free_pages >= need) {
        return reserve_ahead(p, p->total, need);
    }
    /* Geometric growth: double, or more if one call needs more, but never
     * past the limit growth itself accepts. */
    for (;;) {
        uint64_t next = t * 2;
        if (t >= limit) {
            return MP_ELIMIT;
        }
        if (next < t || next - p->total < need) {
            next = p->total + need;
        }
        t = next < p->total ? limit : round_total(p, next);
        if (t > limit) {
            t = limit;
        }
        if (free_after(p, t) >= need) {
            break;
        }
    }
    return grow_to(p, t, need);
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
    if (min_pages > max_total(p)) {
        return MP_ELIMIT;
    }
    rc = grow_to(p, round_total(p, min_pages), 0);
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
