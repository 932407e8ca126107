/*
 * mappedpages/shared.h - one pager shared by many threads.
 *
 * A pager is not internally locked (pager.h). mp_shared puts it behind a
 * reader/writer lock: any number of threads read at once (page and
 * protected reads, iterators, counts), one thread at a time changes the
 * allocation state (alloc, free, the bulk calls, grow, sync, the protected
 * calls), and no reader runs while it does.
 *
 * Two ways to use it:
 *
 *  - The lock calls: mp_shared_read_lock() hands out the pager as const for
 *    any number of const calls (several iterators, a get and a count that
 *    must agree, ...) until mp_shared_read_unlock(); mp_shared_write_lock()
 *    hands it out for every call until mp_shared_write_unlock(). The try
 *    forms return MP_EWOULDBLOCK instead of waiting; composing them with
 *    any pager call gives a non-blocking form of that call.
 *  - The one-call wrappers below, each of which takes the right lock for
 *    exactly one pager call (blocking).
 *
 * Lock rules. A thread holds at most one lock on an mp_shared at a time:
 * taking the read lock twice can deadlock against a waiting writer (writers
 * are preferred where the platform allows it, so a steady stream of readers
 * cannot starve them), and taking the write lock while holding either lock
 * deadlocks or fails (MP_EINVAL where the platform detects it). Only the
 * thread that took a lock releases it. While a thread holds a lock it must
 * not call the one-call wrappers on the same mp_shared.
 *
 * Pointer lifetimes, with other threads writing:
 *
 *  - The pager pointer the lock calls hand out is valid until
 *    mp_shared_close(); the right to use it ends at the unlock.
 *  - Regular pages never move (growth keeps every page in place), so a
 *    page pointer from mp_pager_get()/mp_pager_get_mut() stays valid after
 *    the unlock, until that page is freed. "Until freed" is the caller's
 *    to guarantee: once another thread may free the page, it may also be
 *    handed out again and written by its new owner. The lock guards the
 *    allocation state, not the bytes of regular pages: threads that share
 *    a regular page's bytes synchronise those accesses themselves (for
 *    example by writing them under the write lock and reading them under
 *    the read lock), or use protected pages.
 *  - A pointer from mp_protected_get() is valid only while the read lock
 *    is held: a commit by another thread makes the other copy live and the
 *    next write begun reuses the old one. mp_shared_protected_read()
 *    copies the committed content under the lock instead.
 *  - The staging pointer of mp_shared_protected_begin() is the beginning
 *    thread's until it commits or aborts that page: it may write there
 *    without any lock, since readers only ever see the committed copy. No
 *    other thread may commit, abort or free that page meanwhile (a second
 *    begin is refused with MP_ESTAGED).
 *  - Iterators: open, run and finish them inside one read lock. An
 *    iterator left open makes every writer fail with MP_EITERATING.
 *
 * Allocation hooks given in the pager's options (struct mp_options.mem)
 * are called from reader threads concurrently (iterators allocate), so
 * they must be thread-safe; malloc is.
 *
 * Only threads of one process share an mp_shared; processes exclude each
 * other with the file lock (pager.h: a writer is exclusive, read-only
 * opens share).
 */
#ifndef MAPPEDPAGES_SHARED_H
#define MAPPEDPAGES_SHARED_H

#include <stddef.h>
#include <stdint.h>

#include "mappedpages/pager.h"
#include "mappedpages/protected.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A pager behind a reader/writer lock. Opaque. */
typedef struct mp_shared mp_shared;

/**
 * Put an open pager behind a lock. Call before other threads see it.
 *
 * @param[in]  pager  an open pager with no iterator open; on success the
 *                    mp_shared owns it (mp_shared_close() closes it) and
 *                    the caller reaches it only through the lock calls.
 * @param[out] out    the new mp_shared; NULL on failure.
 * @return MP_OK; MP_EINVAL (NULL argument); MP_EITERATING (an iterator
 *         is open on pager); MP_ENOMEM (memory or lock resources). On
 *         failure the caller still owns pager.
 */
MP_API MP_NODISCARD int mp_shared_wrap(mp_pager *pager, mp_shared **out);

/**
 * Destroy the lock and return the pager, which the caller owns again.
 * No thread may hold or wait for a lock. Accepts NULL (returns NULL).
 */
MP_API mp_pager *mp_shared_unwrap(mp_shared *shared);

/**
 * Destroy the lock and close the pager (mp_pager_close()). No thread may
 * hold or wait for a lock, and no other thread may use shared afterwards.
 * Accepts NULL.
 * @return the result of mp_pager_close().
 */
MP_API int mp_shared_close(mp_shared *shared);

/**
 * Take the read lock, waiting while a writer holds it (or, where writers
 * are preferred, waits for it).
 *
 * @param[out] pager  the pager, for const calls only, until the unlock.
 * @return MP_OK; MP_EINVAL (NULL argument, or this thread already holds
 *         the write lock where the platform detects it); MP_ELIMIT (the
 *         platform's limit on simultaneous readers).
 */
MP_API MP_NODISCARD int mp_shared_read_lock(mp_shared *shared,
                                            const mp_pager **pager);

/**
 * Take the read lock if that needs no waiting.
 * @return MP_OK; MP_EWOULDBLOCK (a writer holds or waits for the lock;
 *         *pager is NULL); the errors of mp_shared_read_lock().
 */
MP_API MP_NODISCARD int mp_shared_try_read_lock(mp_shared *shared,
                                                const mp_pager **pager);

/** Release the read lock this thread holds. */
MP_API void mp_shared_read_unlock(mp_shared *shared);

/**
 * Take the write lock, waiting until no thread holds any lock.
 *
 * @param[out] pager  the pager, for every call, until the unlock.
 * @return MP_OK; MP_EINVAL (NULL argument, or this thread already holds a
 *         lock where the platform detects it).
 */
MP_API MP_NODISCARD int mp_shared_write_lock(mp_shared *shared,
                                             mp_pager **pager);

/**
 * Take the write lock if that needs no waiting.
 * @return MP_OK; MP_EWOULDBLOCK (some thread holds a lock; *pager is NULL);
 *         the errors of mp_shared_write_lock().
 */
MP_API MP_NODISCARD int mp_shared_try_write_lock(mp_shared *shared,
                                                 mp_pager **pager);

/** Release the write lock this thread holds. */
MP_API void mp_shared_write_unlock(mp_shared *shared);

/*
 * One-call wrappers. Each takes the write lock (or, where marked, the read
 * lock), makes the pager call of the same name and releases the lock. It
 * returns what that call returns (see pager.h and protected.h for the
 * errors), or a lock error of mp_shared_write_lock()/mp_shared_read_lock().
 */

/** mp_pager_alloc() under the write lock. */
MP_API MP_NODISCARD int mp_shared_alloc(mp_shared *shared, mp_pgno *out);

/** mp_pager_free() under the write lock. */
MP_API MP_NODISCARD int mp_shared_free(mp_shared *shared, mp_pgno page);

/** mp_pager_alloc_bulk() under the write lock. */
MP_API MP_NODISCARD int mp_shared_alloc_bulk(mp_shared *shared, size_t count,
                                             mp_pgno *out);

/** mp_pager_free_bulk() under the write lock. */
MP_API MP_NODISCARD int mp_shared_free_bulk(mp_shared *shared,
                                            const mp_pgno *pages, size_t count);

/** mp_pager_grow() under the write lock. */
MP_API MP_NODISCARD int mp_shared_grow(mp_shared *shared, uint64_t min_pages);

/** mp_pager_sync_pages() under the write lock. */
MP_API MP_NODISCARD int mp_shared_sync_pages(mp_shared *shared, mp_pgno first,
                                             uint64_t count);

/** mp_pager_get() under the read lock; see "Pointer lifetimes" above. */
MP_API MP_NODISCARD int mp_shared_get(mp_shared *shared, mp_pgno page,
                                      const void **out);

/**
 * mp_pager_get_mut() under the write lock (it needs a mutable pager); see
 * "Pointer lifetimes" above: the bytes are the caller's to synchronise.
 */
MP_API MP_NODISCARD int mp_shared_get_mut(mp_shared *shared, mp_pgno page,
                                          void **out);

/**
 * Copy bytes [0, len) of an allocated regular page into buf, under the
 * read lock.
 * @return MP_OK; MP_EINVAL (buf NULL, or len above the page size); the
 *         errors of mp_pager_get().
 */
MP_API MP_NODISCARD int mp_shared_page_read(mp_shared *shared, mp_pgno page,
                                            void *buf, size_t len);

/** mp_protected_alloc() under the write lock. */
MP_API MP_NODISCARD int mp_shared_protected_alloc(mp_shared *shared,
                                                  mp_protected_id *out);

/** mp_protected_free() under the write lock. */
MP_API MP_NODISCARD int mp_shared_protected_free(mp_shared *shared,
                                                 mp_protected_id id);

/** mp_protected_alloc_bulk() under the write lock. */
MP_API MP_NODISCARD int mp_shared_protected_alloc_bulk(mp_shared *shared,
                                                       size_t count,
                                                       mp_protected_id *out);

/** mp_protected_free_bulk() under the write lock. */
MP_API MP_NODISCARD int
mp_shared_protected_free_bulk(mp_shared *shared, const mp_protected_id *ids,
                              size_t count);

/**
 * mp_protected_begin() under the write lock. The staging copy is then the
 * calling thread's (see "Pointer lifetimes" above) until it calls
 * mp_shared_protected_commit() or mp_shared_protected_abort().
 */
MP_API MP_NODISCARD int mp_shared_protected_begin(mp_shared *shared,
                                                  mp_protected_id id,
                                                  void **staging);

/** mp_protected_commit() under the write lock. */
MP_API MP_NODISCARD int mp_shared_protected_commit(mp_shared *shared,
                                                   mp_protected_id id);

/** mp_protected_abort() under the write lock. */
MP_API MP_NODISCARD int mp_shared_protected_abort(mp_shared *shared,
                                                  mp_protected_id id);

/**
 * Replace bytes [0, len) of a protected page with data and commit, in one
 * hold of the write lock: begin, copy, commit (abort if the commit cannot
 * start). The rest of the page keeps its committed content. Readers see
 * the old content or the new one, never a mix, and so does the file after
 * a crash.
 * @return MP_OK; MP_EINVAL (data NULL, or len above the page size); the
 *         errors of mp_protected_begin() and mp_protected_commit().
 */
MP_API MP_NODISCARD int mp_shared_protected_write(mp_shared *shared,
                                                  mp_protected_id id,
                                                  const void *data, size_t len);

/**
 * Copy bytes [0, len) of a protected page's committed content into buf,
 * under the read lock: always one whole committed version.
 * @return MP_OK; MP_EINVAL (buf NULL, or len above the page size); the
 *         errors of mp_protected_get().
 */
MP_API MP_NODISCARD int mp_shared_protected_read(mp_shared *shared,
                                                 mp_protected_id id, void *buf,
                                                 size_t len);

/** Counts taken together under one read lock, so they agree. */
struct mp_shared_counts {
    uint64_t pages;           /**< mp_pager_page_count() */
    uint64_t free_pages;      /**< mp_pager_free_count() */
    uint64_t protected_pages; /**< mp_protected_count() */
    uint64_t internal_pages;  /**< mp_pager_internal_count() */
};

/**
 * Fill *counts under the read lock.
 * @return MP_OK; MP_EINVAL (counts NULL); the errors of
 *         mp_shared_read_lock().
 */
MP_API MP_NODISCARD int mp_shared_counts(mp_shared *shared,
                                         struct mp_shared_counts *counts);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_SHARED_H */
