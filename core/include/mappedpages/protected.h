/*
 * mappedpages/protected.h - protected (copy-on-write) pages.
 *
 * A protected page is one logical page backed by two physical pages. Readers
 * see the committed copy. A writer begins a write, which hands out the other
 * physical copy pre-filled with the committed content; it edits that staging
 * copy freely, then commits (the staging copy becomes the committed one,
 * atomically and durably) or aborts (the staging copy is forgotten). After
 * any crash a protected page holds exactly its last committed content, or,
 * for a page whose commit was in flight, the new content: never a mix.
 *
 * Protected ids carry MP_ID_KIND_PROTECT in their top bits; the low bits
 * are a slot number in the pager's directory. Freed slots are reused
 * lowest first. A new protected page reads as zeros.
 *
 * Thread rules: as for the pager (mappedpages/pager.h).
 */
#ifndef MAPPEDPAGES_PROTECTED_H
#define MAPPEDPAGES_PROTECTED_H

#include "mappedpages/pager.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A protected page id (MP_ID_KIND_PROTECT | slot). */
typedef uint64_t mp_protected_id;

/**
 * Allocate one protected page (zero-filled). One commit.
 * @return MP_OK with *out set; MP_ELIMIT (directory full); the errors of
 *         mp_pager_alloc().
 */
MP_API MP_NODISCARD int mp_protected_alloc(mp_pager *pager,
                                           mp_protected_id *out);

/**
 * Free a protected page and both of its physical pages. One commit. A write
 * in progress on it is discarded when the free succeeds (a failed free
 * keeps it staged).
 * @return MP_OK; MP_EWRONGKIND (not a protected id); MP_EOUTOFBOUNDS (no
 *         such slot); MP_EDOUBLEFREE (slot not in use); MP_EREADONLY;
 *         MP_EUNAVAILABLE; MP_EITERATING; MP_EIO (pager now unavailable).
 */
MP_API MP_NODISCARD int mp_protected_free(mp_pager *pager, mp_protected_id id);

/**
 * Allocate count protected pages in one commit; all or nothing.
 * @return MP_OK; MP_ECOUNT; the errors of mp_protected_alloc().
 */
MP_API MP_NODISCARD int mp_protected_alloc_bulk(mp_pager *pager, size_t count,
                                                mp_protected_id *out);

/**
 * Free count protected pages in one commit. Every id is validated first;
 * on error nothing changed.
 * @return MP_OK; MP_ECOUNT; MP_EDUPLICATE; the per-id errors of
 *         mp_protected_free() for the first bad id in list order.
 */
MP_API MP_NODISCARD int mp_protected_free_bulk(mp_pager *pager,
                                               const mp_protected_id *ids,
                                               size_t count);

/**
 * Pointer to the committed copy of a protected page, for reading. Open
 * verifies the committed copy of every protected page against the checksum
 * its commit recorded (one CRC-32C pass over each), so a page damaged on
 * disk is never served.
 * Lifetime: until the next commit or free of that page, or close.
 * @return MP_OK; MP_EWRONGKIND; MP_EOUTOFBOUNDS; MP_EDOUBLEFREE;
 *         MP_ECORRUPT (at open the committed copy did not have its
 *         recorded checksum: the file is damaged; *out is NULL).
 */
MP_API MP_NODISCARD int mp_protected_get(const mp_pager *pager,
                                         mp_protected_id id, const void **out);

/**
 * Begin a write: *staging receives the page's other physical copy, filled
 * with the committed content. Writes to it are invisible to
 * mp_protected_get() until mp_protected_commit().
 * Lifetime of *staging: until commit, abort, free or close.
 * @return MP_OK; MP_ESTAGED (a write is already begun on this page);
 *         MP_EWRONGKIND; MP_EOUTOFBOUNDS; MP_EDOUBLEFREE; MP_EREADONLY;
 *         MP_EUNAVAILABLE; MP_ECORRUPT (the committed copy fails its
 *         checksum, as for mp_protected_get(); nothing changed).
 */
MP_API MP_NODISCARD int mp_protected_begin(mp_pager *pager, mp_protected_id id,
                                           void **staging);

/**
 * Commit the staged write: one commit that makes the staging copy the live
 * one (two sync barriers: the data with the metadata, then the commit
 * record; one barrier for all of it with MP_OPEN_ONE_FLUSH). On success the
 * page is no longer staged; on any error the write stays staged and
 * mp_protected_get() still returns the old content: after MP_ENOMEM the commit
 * can be made again, after a failed sync only mp_protected_abort() is left.
 * @return MP_OK; MP_ENOTSTAGED (no write begun); MP_EWRONGKIND;
 *         MP_EOUTOFBOUNDS; MP_EDOUBLEFREE; MP_EREADONLY; MP_EUNAVAILABLE;
 *         MP_EITERATING; MP_EIO (pager now unavailable).
 */
MP_API MP_NODISCARD int mp_protected_commit(mp_pager *pager,
                                            mp_protected_id id);

/**
 * Discard the staged write. The committed copy is untouched.
 * @return MP_OK; MP_ENOTSTAGED; MP_EWRONGKIND; MP_EOUTOFBOUNDS;
 *         MP_EDOUBLEFREE.
 */
MP_API MP_NODISCARD int mp_protected_abort(mp_pager *pager, mp_protected_id id);

/** Number of protected pages in use. */
MP_API uint64_t mp_protected_count(const mp_pager *pager);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_PROTECTED_H */
