/*
 * iter.c - iterators over allocated regular pages and protected pages.
 *
 * The regular iterator walks the map a word at a time, skipping empty
 * words, and steps over internal pages by arithmetic (map-leaf copies) and
 * by the pager's sorted list of the others (built once per change of the
 * set and shared by iterators), so its cost is one pass over the map plus
 * the internal pages, never pages x internal pages.
 *
 * Ids reach the caller through the iterator's public ids[] (iter.h): the
 * loop macros and mp_iter_next_inline() drain it without a call, and
 * mp_iter_refill() fills it with the batch loop below, a map word at a
 * time, so a dense file costs one call per MP_ITER_BUFFER pages.
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"
#include "mappedpages/iter.h"

/* A refill takes whole map words (fill()), so it always takes one. */
_Static_assert(MP_ITER_BUFFER >= 64 && MP_ITER_BUFFER % 64 == 0,
               "MP_ITER_BUFFER must hold whole map words");

enum {
    KIND_PAGES = 1,
    KIND_PROTECTED = 2
};

static void open_on(mp_iter *it, const mp_pager *p, int kind)
{
    /* ids[] need not be cleared: next == count == 0 holds nothing. */
    memset(it, 0, offsetof(mp_iter, ids));
    memset((char *)it + offsetof(mp_iter, priv_pager), 0,
           sizeof(*it) - offsetof(mp_iter, priv_pager));
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
        /* Borrowed from the pager: writes, the only changes of the set,
         * are refused while an iterator is open. */
        if (mp__pageset_sorted(&p->internal, &p->mem, &it->priv_skip) !=
            MP_OK) {
            mp_iter_finish(it);
            /* Kept for mp_iter_error(): mp_for_each_page() cannot return
             * it, and an empty loop must not pass for an empty file. */
            it->priv_error = MP_ENOMEM;
            return MP_ENOMEM;
        }
        it->priv_nskip = p->internal.count;
    }
    it->priv_pos = 0;
    it->priv_word = 0;
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

int mp_iter_error(const mp_iter *it)
{
    return it ? it->priv_error : MP_EINVAL;
}

void mp_iter_finish(mp_iter *it)
{
    if (!it || !it->priv_open) {
        return;
    }
    it->priv_skip = NULL;
    it->priv_open = 0;
    it->priv_word = 0;
    it->next = 0; /* the inline fast path must see nothing held */
    it->count = 0;
    atomic_fetch_sub(&((mp_pager *)it->priv_pager)->iterators, 1);
}

/*
 * The allocated, non-internal pages of map word w, as bits. Internal pages
 * are masked a word at a time: map-leaf copies sit at the first two pages
 * of each group (pages 3 and 4 in group 0, after the reserved pages), and a
 * group is a whole number of words, so they fall in one word; everything
 * else comes from the sorted skip list, consumed in step with the words.
 */
static uint64_t word_bits(mp_iter *it, uint64_t w)
{
    const mp_pager *p = it->priv_pager;
    uint64_t base = w << 6, bits = p->bitmap[w];

    if (w == 0) {
        bits &= ~(uint64_t)0x1F; /* reserved 0-2, leaf copies 3-4 */
    } else if ((base & (mp__group_pages(p) - 1)) == 0) { /* a power of 2 */
        bits &= ~(uint64_t)3;
    }
    if (it->priv_end - base < 64) {
        bits &= ((uint64_t)1 << (it->priv_end - base)) - 1;
    }
    while (it->priv_skip_pos < it->priv_nskip &&
           it->priv_skip[it->priv_skip_pos] < base + 64) {
        uint64_t s = it->priv_skip[it->priv_skip_pos++];
        if (s >= base) {
            bits &= ~((uint64_t)1 << (s - base));
        }
    }
    return bits;
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

/*
 * A full map word: 64 consecutive ids, a loop the compiler vectorises and
 * the store-bound core of dense iteration. Its own function, aligned, so
 * that the loop sits the same way in every build: placed across a 64-byte
 * boundary by unrelated code nearby it ran 1.6x slower on this machine.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline, aligned(64)))
#endif
static void
full_word(uint64_t *ids, uint64_t base)
{
    for (uint64_t b = 0; b < 64; b++) {
        ids[b] = base + b;
    }
}

/* The first map word at or after w with a bit set, or words. */
static uint64_t first_used_word(const uint64_t *map, uint64_t w, uint64_t words)
{
    if (w < words && map[w] != 0) {
        return w; /* dense files: the next word, with no more tests */
    }
    /* Sparse files: 256 free pages per step, one branch per step. */
    while (w + 4 <= words &&
           (map[w] | map[w + 1] | map[w + 2] | map[w + 3]) == 0) {
        w += 4;
    }
    while (w < words && map[w] == 0) {
        w++;
    }
    return w;
}

/*
 * Up to cap next ids into ids[], after the ones held in it->ids; the number
 * written. Leaves the iterator open. For pages, priv_pos is the next map
 * word to load and priv_word the pages of the word before it not yet
 * handed out. With whole set, a map word is loaded only when all its pages
 * fit: a refill that split words would leave every later word split, off
 * the full-word path.
 */
static size_t fill(mp_iter *it, uint64_t *ids, size_t cap, bool whole)
{
    size_t n = 0;
    if (it->priv_kind == KIND_PAGES) {
        const mp_pager *p = it->priv_pager;
        uint64_t words = (it->priv_end + 63) >> 6;
        /* A word at a time while a whole word fits: the loop that makes
         * dense iteration cheap. */
        while (n < cap) {
            uint64_t bits = it->priv_word, base;
            if (!bits) {
                uint64_t w = it->priv_pos;
                if (whole && cap - n < 64) {
                    break;
                }
                w = first_used_word(p->bitmap, w, words);
                if (w >= words) {
                    it->priv_pos = words;
                    break;
                }
                bits = word_bits(it, w);
                it->priv_pos = w + 1;
            }
            base = (it->priv_pos - 1) << 6;
            if (bits == ~(uint64_t)0 && cap - n >= 64) {
                full_word(ids + n, base);
                n += 64;
                bits = 0;
            }
            while (bits && n < cap) {
                ids[n++] = base + (uint64_t)__builtin_ctzll(bits);
                bits &= bits - 1;
            }
            it->priv_word = bits;
        }
    } else {
        while (n < cap && next_protected(it, &ids[n])) {
            n++;
        }
    }
    return n;
}

bool mp_iter_refill(mp_iter *it)
{
    if (!it || !it->priv_open) {
        return false;
    }
    if (it->next < it->count) {
        return true;
    }
    it->next = 0;
    it->count = (uint32_t)fill(it, it->ids, MP_ITER_BUFFER, true);
    if (it->count == 0) {
        mp_iter_finish(it);
        return false;
    }
    return true;
}

bool mp_iter_next(mp_iter *it, uint64_t *id)
{
    if (!it || !it->priv_open || !id || !mp_iter_refill(it)) {
        return false;
    }
    *id = it->ids[it->next++];
    return true;
}

size_t mp_iter_next_batch(mp_iter *it, uint64_t *ids, size_t cap)
{
    size_t n = 0;
    if (!it || !it->priv_open || !ids) {
        return 0;
    }
    if (it->next < it->count) {
        n = it->count - it->next;
        n = n < cap ? n : cap;
        memcpy(ids, it->ids + it->next, n * sizeof(*ids));
        it->next += (uint32_t)n;
    }
    n += fill(it, ids + n, cap - n, false);
    if (n == 0) {
        mp_iter_finish(it);
    }
    return n;
}
