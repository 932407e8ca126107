/*
 * mappedpages/iter.h - iterating over allocated pages.
 *
 * Two iterators: over allocated regular pages (never pages 0-2, never a
 * page the pager uses internally), and over protected pages in use. The two
 * sets are disjoint; with the internal pages they account for every
 * allocated page.
 *
 * While an iterator is open on a pager, every call that changes allocation
 * state on that pager fails with MP_EITERATING (the C stand-in for the
 * original's borrow rule). An iterator closes when mp_iter_next() returns
 * false or when mp_iter_finish() is called; finishing twice is harmless.
 *
 * The iterator struct is the caller's (stack is fine); its fields are
 * private.
 *
 * Thread rules: an iterator holds the pager as a reader. Several iterators
 * may be open at once, also from several threads.
 */
#ifndef MAPPEDPAGES_ITER_H
#define MAPPEDPAGES_ITER_H

#include "mappedpages/pager.h"
#include "mappedpages/protected.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Iterator state. Fields are private to the library. */
typedef struct mp_iter {
    const mp_pager *priv_pager;
    int priv_kind;
    int priv_open;
    uint64_t priv_pos;
    uint64_t priv_word;
    uint64_t priv_end;
    const uint64_t *priv_skip;
    size_t priv_nskip;
    size_t priv_skip_pos;
    int priv_error;
} mp_iter;

/**
 * Start iterating over allocated regular pages in ascending order.
 * @return MP_OK; MP_ENOMEM (the iterator needs a sorted list of the
 *         internal pages; the iterator is then closed, yields nothing, and
 *         mp_iter_error() returns MP_ENOMEM); MP_EINVAL (it or pager NULL;
 *         nothing is written to it).
 * Ownership: release with mp_iter_finish() unless iterated to the end.
 */
MP_API MP_NODISCARD int mp_iter_pages(mp_iter *it, const mp_pager *pager);

/**
 * Start iterating over protected pages in use, by ascending id.
 * @return MP_OK; MP_EINVAL.
 */
MP_API MP_NODISCARD int mp_iter_protected(mp_iter *it, const mp_pager *pager);

/**
 * Next id. Returns false (and closes the iterator) when there is none;
 * keeps returning false after that.
 */
MP_API bool mp_iter_next(mp_iter *it, uint64_t *id);

/**
 * Up to cap next ids into ids[], in the same order mp_iter_next() gives
 * them; the number written. 0 means the end (the iterator is then closed,
 * as when mp_iter_next() returns false) or bad arguments. For scans of
 * large files: it hands out a map word's pages without a call per page.
 */
MP_API size_t mp_iter_next_batch(mp_iter *it, uint64_t *ids, size_t cap);

/** Close the iterator early. Safe to call on a closed iterator. */
MP_API void mp_iter_finish(mp_iter *it);

/**
 * Why the iterator yields nothing more: MP_OK if it was started and ran
 * (or is running) normally, else the code its start returned (MP_ENOMEM).
 * This is how a loop written with mp_for_each_page() or
 * mp_for_each_protected() tells "no pages" from "could not iterate":
 *
 *     mp_for_each_page(&it, pager, id) { ... }
 *     if (mp_iter_error(&it) != MP_OK) { ... the loop did not run ... }
 *
 * Valid on an iterator that mp_iter_pages() or mp_iter_protected() was
 * called on with it non-NULL, until it is started again. Thread-safe as a
 * read of the caller's struct.
 */
MP_API MP_NODISCARD int mp_iter_error(const mp_iter *it);

/**
 * mp_iter_next() with its common case inline: the next page of the map
 * word the iterator holds, without a call. Same contract and results.
 */
static inline bool mp_iter_next_inline(mp_iter *it, uint64_t *id)
{
#if defined(__GNUC__) || defined(__clang__)
    uint64_t w = it->priv_word;
    if (w) {
        *id = ((it->priv_pos - 1) << 6) + (uint64_t)__builtin_ctzll(w);
        it->priv_word = w & (w - 1);
        return true;
    }
#endif
    return mp_iter_next(it, id);
}

/**
 * for (each allocated regular page) with automatic cleanup at the end.
 * If the iterator cannot start (MP_ENOMEM) the body never runs: check
 * mp_iter_error(it) after the loop.
 */
#define mp_for_each_page(it, pager, id)               \
 for (int mp__rc_##id = mp_iter_pages((it), (pager)); \
      mp__rc_##id == MP_OK && mp_iter_next_inline((it), &(id));)

/** for (each protected page in use); mp_iter_error(it) after it, too. */
#define mp_for_each_protected(it, pager, id)              \
 for (int mp__rc_##id = mp_iter_protected((it), (pager)); \
      mp__rc_##id == MP_OK && mp_iter_next((it), &(id));)

/** Pages the pager uses itself (free-space map, directory, backing pages). */
MP_API uint64_t mp_pager_internal_count(const mp_pager *pager);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_ITER_H */
