/*
 * iter.c - iterators over allocated regular pages and protected pages.
 *
 * The regular iterator walks the map a word at a time, skipping empty
 * words, and steps over internal pages by arithmetic (map-leaf copies) and
 * by a sorted list taken at the start (everything else), so its cost is one
 * pass over the map plus the internal pages, never pages x internal pages.
 */
#include <string.h>

#include "internal.h"
#include "mappedpages/iter.h"

enum {
    KIND_PAGES = 1,
    KIND_PROTECTED = 2
};

static void open_on(mp_iter *it, const mp_pager *p, int kind)
{
    memset(it, 0, sizeof(*it));
    it->priv_pager = p;
    it->priv_kind = kind;
    it->priv_open = 1;
    /* Iterators take the pager as readers; the counter is the borrow. */
    atomic_fetch_add(&((mp_pager *)p)->iterators, 1);
}

int mp_iter_pages(mp_iter *it, const mp_pager *pager)
{
    mp_pager *p = (mp_pager *)pager;
    if (!it || !pager) {
        return MP_EINVAL;
    }
    open_on(it, pager, KIND_PAGES);
    if (p->internal.count) {
        it->priv_skip = mp__alloc(p, p->internal.count * sizeof(uint64_t));
        if (!it->priv_skip) {
            mp_iter_finish(it);
            return MP_ENOMEM;
        }
        mp__pageset_sorted(&p->internal, it->priv_skip);
        it->priv_nskip = p->internal.count;
    }
    it->priv_pos = MP_RESERVED_PAGES;
    it->priv_end = p->total;
    return MP_OK;
}

int mp_iter_protected(mp_iter *it, const mp_pager *pager)
{
    if (!it || !pager) {
        return MP_EINVAL;
    }
    open_on(it, pager, KIND_PROTECTED);
    it->priv_end = pager->slots;
    return MP_OK;
}

void mp_iter_finish(mp_iter *it)
{
    if (!it || !it->priv_open) {
        return;
    }
    mp__free((mp_pager *)it->priv_pager, it->priv_skip);
    it->priv_skip = NULL;
    it->priv_open = 0;
    atomic_fetch_sub(&((mp_pager *)it->priv_pager)->iterators, 1);
}

static bool next_page(mp_iter *it, uint64_t *id)
{
    const mp_pager *p = it->priv_pager;
    uint64_t pos = it->priv_pos, end = it->priv_end;

    while (pos < end) {
        uint64_t w = pos >> 6;
        uint64_t bits = p->bitmap[w] & (~(uint64_t)0 << (pos & 63));
        uint64_t pg;
        if (!bits) {
            pos = (w + 1) << 6;
            continue;
        }
        pg = (w << 6) + (uint64_t)__builtin_ctzll(bits);
        if (pg >= end) {
            break;
        }
        pos = pg + 1;
        if (mp__is_leaf_page(p, pg)) {
            continue;
        }
        while (it->priv_skip_pos < it->priv_nskip &&
               it->priv_skip[it->priv_skip_pos] < pg) {
            it->priv_skip_pos++;
        }
        if (it->priv_skip_pos < it->priv_nskip &&
            it->priv_skip[it->priv_skip_pos] == pg) {
            continue;
        }
        it->priv_pos = pos;
        *id = pg;
        return true;
    }
    it->priv_pos = end;
    return false;
}

static bool next_protected(mp_iter *it, uint64_t *id)
{
    const mp_pager *p = it->priv_pager;
    while (it->priv_pos < it->priv_end) {
        uint64_t s = it->priv_pos++;
        if (p->dir[s].flags & MP__ENT_INUSE) {
            *id = MP_ID_KIND_PROTECT | s;
            return true;
        }
    }
    return false;
}

bool mp_iter_next(mp_iter *it, uint64_t *id)
{
    bool more;
    if (!it || !it->priv_open || !id) {
        return false;
    }
    more = it->priv_kind == KIND_PAGES ? next_page(it, id)
                                       : next_protected(it, id);
    if (!more) {
        mp_iter_finish(it);
    }
    return more;
}
