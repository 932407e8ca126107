/*
 * bitmap.c - the in-memory free-space map: exactly one bit per page, in the
 * on-disk bit order, so a leaf is written out by copying its words.
 */
#include <string.h>

#include "internal.h"

void mp__bit_set(mp_pager *p, uint64_t pg)
{
    p->bitmap[pg >> 6] |= (uint64_t)1 << (pg & 63);
}

void mp__bit_clear(mp_pager *p, uint64_t pg)
{
    p->bitmap[pg >> 6] &= ~((uint64_t)1 << (pg & 63));
    if (pg < p->hint) {
        p->hint = pg;
    }
}

uint64_t mp__find_free(mp_pager *p)
{
    uint64_t w = p->hint >> 6;
    uint64_t nwords = (p->total + 63) >> 6;
    uint64_t word;

    if (p->hint >= p->total) {
        return p->total;
    }
    word = ~p->bitmap[w] & (~(uint64_t)0 << (p->hint & 63));
    while (!word) {
        if (++w >= nwords) {
            p->hint = p->total;
            return p->total;
        }
        word = ~p->bitmap[w];
    }
    p->hint = (w << 6) + (uint64_t)__builtin_ctzll(word);
    if (p->hint > p->total) {
        p->hint = p->total;
    }
    return p->hint;
}

uint64_t mp__count_free(const mp_pager *p)
{
    uint64_t used = 0, full = p->total >> 6;
    for (uint64_t w = 0; w < full; w++) {
        used += (uint64_t)__builtin_popcountll(p->bitmap[w]);
    }
    if (p->total & 63) {
        uint64_t mask = ((uint64_t)1 << (p->total & 63)) - 1;
        used += (uint64_t)__builtin_popcountll(p->bitmap[full] & mask);
    }
    return p->total - used;
}

/* Words for `leaves` whole leaves; new words are zero (all free). */
int mp__bitmap_resize(mp_pager *p, uint64_t leaves)
{
    uint64_t need = leaves * (p->page_size / 8);
    uint64_t *n;
    /* Exact, not doubling: the map is the pager's one per-page cost. */
    if (need <= p->bitmap_words) {
        return MP_OK;
    }
    if (need > SIZE_MAX / sizeof(uint64_t)) {
        return MP_ENOMEM;
    }
    n = mp__realloc(p, p->bitmap, (size_t)need * sizeof(uint64_t));
    if (!n) {
        return MP_ENOMEM;
    }
    memset(n + p->bitmap_words, 0,
           (size_t)(need - p->bitmap_words) * sizeof(uint64_t));
    p->bitmap = n;
    p->bitmap_words = need;
    return MP_OK;
}
