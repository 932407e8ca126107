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
 * The iterator struct is the caller's (stack is fine). Its first three
 * fields are public so that the next id can be taken without a call (the
 * loop macros and mp_iter_next_inline() do): the library hands out ids
 * through ids[next .. count), refilled by mp_iter_refill(). Read them, and
 * advance next up to count to consume ids, nothing else; the priv_ fields
 * are the library's. The layout is part of the ABI (cmake/abi.cmake).
 *
 * Thread rules: an iterator holds the pager as a reader. Several iterators
 * may be open at once, also from several threads; one iterator is one
 * thread's at a time.
 */
#ifndef MAPPEDPAGES_ITER_H
#define MAPPEDPAGES_ITER_H

#include "mappedpages/pager.h"
#include "mappedpages/protected.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Ids an iterator holds at most between two refills. */
#define MP_ITER_BUFFER 128

/** Iterator state. */
typedef struct mp_iter {
    /**
     * ids[next] is the next id to return; next == count means none is
     * held (a call must refill). 0 <= next <= count <= MP_ITER_BUFFER.
     * Both are 0 after mp_iter_finish() and after a start.
     */
    uint32_t next;
    uint32_t count; /**< ids[0 .. count) were filled by the last refill */
    /** The next ids in iteration order, ids[next .. count). */
    uint64_t ids[MP_ITER_BUFFER];

    /* Private to the library. */
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
 * Ids the iterator holds (ids[next .. count)) come first.
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
 * Make sure the iterator holds ids: if it holds none (next == count),
 * fill ids[] with the next ones (at most MP_ITER_BUFFER; next becomes 0).
 * Ids already held are kept as they are.
 * @return true if ids[next .. count) is now non-empty; false at the end
 *         (the iterator is then closed, as when mp_iter_next() returns
 *         false), on a closed iterator, or for it NULL.
 */
MP_API bool mp_iter_refill(mp_iter *it);

/**
 * mp_iter_next() with its common case inline: the next held id, without a
 * call; mp_iter_next() when none is held. Same contract and results.
 */
static inline bool mp_iter_next_inline(mp_iter *it, uint64_t *id)
{
    if (it->next < it->count) {
        *id = it->ids[it->next++];
        return true;
    }
    return mp_iter_next(it, id);
}

/*
 * The loop macros drain ids[] in an inner loop (so a compiler keeps next in
 * a register and calls nothing per id) and refill in an outer one. The flag
 * mp__more_<id> is set only when the inner loop runs dry: a break in the
 * body leaves it clear, which ends the outer loop too, with the iterator
 * open and the ids after `id` still to come from mp_iter_next(). The
 * (void)(id) keeps a body that only counts free of "set but not used".
 */
#define MP__ITER_LOOP(it, id, start)                                  \
 for (int mp__rc_##id = (start), mp__more_##id = 1;                   \
      mp__rc_##id == MP_OK && mp__more_##id && mp_iter_refill((it));) \
  for (mp__more_##id = 0;                                             \
       (it)->next < (it)->count ? ((id) = (it)->ids[(it)->next++], 1) \
                                : (mp__more_##id = 1, 0);             \
       (void)(id))

/**
 * for (each allocated regular page) with automatic cleanup at the end.
 * If the iterator cannot start (MP_ENOMEM) the body never runs: check
 * mp_iter_error(it) after the loop. id must be a uint64_t lvalue (an
 * mp_pgno); it and id are evaluated more than once. break leaves the
 * iterator open (mp_iter_finish() it, or go on with mp_iter_next());
 * continue goes to the next page.
 */
#define mp_for_each_page(it, pager, id) \
 MP__ITER_LOOP(it, id, mp_iter_pages((it), (pager)))

/** for (each protected page in use); the same rules as mp_for_each_page. */
#define mp_for_each_protected(it, pager, id) \
 MP__ITER_LOOP(it, id, mp_iter_protected((it), (pager)))

/** Pages the pager uses itself (free-space map, directory, backing pages). */
MP_API uint64_t mp_pager_internal_count(const mp_pager *pager);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_ITER_H */
