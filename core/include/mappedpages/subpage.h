/*
 * mappedpages/subpage.h - the sub-page (slab) allocator: slots smaller than
 * a page, carved out of regular pages.
 *
 * A sub-page allocator wraps a pager and one slot size. It takes regular
 * pages ("parents") from the pager with mp_pager_alloc_bulk() as it needs
 * them, divides each into page_size / slot_size slots (2 to 64; one 64-bit
 * occupancy mask per parent), and gives a parent back with
 * mp_pager_free_bulk() as soon as its last slot is freed.
 *
 * State lives in memory only (as in the original library). The file never
 * records which slots are in use; slot bytes live inside the parent pages,
 * which are ordinary regular pages to the pager (they show up in
 * mp_iter_pages(), and the caller must never free them through the pager).
 *
 * Crash and restart semantics:
 *  - Taking or returning a parent is a pager commit: durable when the call
 *    returns MP_OK, atomic across a crash.
 *  - Which slots are in use is the caller's to remember. After a reopen
 *    (or after mp_subpage_destroy() and a new mp_subpage_create()), pass
 *    the ids of the live slots to mp_subpage_rebuild() before allocating.
 *  - Two windows the caller's records must tolerate: a crash after a call
 *    that took a new parent returned but before the caller recorded the
 *    new id leaves that parent allocated and unknown (a leak, visible as a
 *    regular page no one owns); a crash after the free of a parent's last
 *    slot returned but before the caller dropped the id makes rebuild
 *    refuse that id (MP_EDOUBLEFREE: its parent is no longer allocated).
 *    Record new ids after alloc returns and drop ids before calling free
 *    to be left with leaks only, never with refused lists.
 *  - Slot bytes are the caller's data, like regular page bytes: made
 *    durable only by mp_pager_sync_pages() on the parent page
 *    (mp_subpage_id_page()).
 *
 * Sub-page ids (64 bits, stable across runs, ordered by parent then slot):
 *
 *    63 62 61            46 45                         6 5      0
 *   +-----+----------------+----------------------------+--------+
 *   | 1 0 | owner tag (16) | parent page number (40)    |slot (6)|
 *   +-----+----------------+----------------------------+--------+
 *
 *   kind      MP_ID_KIND_SUBPAGE, so regular and protected calls refuse a
 *             sub-page id (MP_EWRONGKIND) and vice versa.
 *   owner tag log2(slot_size) << 11 | instance, where instance (0-2047) is
 *             the lowest number no other live allocator of the same slot
 *             size on the same pager holds. An id whose tag differs from
 *             the allocator's is refused with MP_ENOTOWNER. The tag needs
 *             no global state and is reproducible: an application that
 *             creates one allocator per slot size always gets instance 0,
 *             so its ids stay valid across restarts; several allocators of
 *             one size get the same tags again if created in the same
 *             order. Allocators on different pagers may share a tag (their
 *             ids are then told apart only by their parents).
 *   parent    the regular page holding the slot (pages are < 2^40).
 *   slot      index of the slot inside the parent, 0 .. slots - 1; the slot
 *             starts slot * slot_size bytes into the parent page.
 *
 * Thread rules: an allocator is not locked. Calls taking a const
 * mp_subpage * may run concurrently with each other and with the pager's
 * const calls; everything else (and create and destroy, which register the
 * allocator in its pager) needs exclusive access to the allocator and its
 * pager.
 */
#ifndef MAPPEDPAGES_SUBPAGE_H
#define MAPPEDPAGES_SUBPAGE_H

#include "mappedpages/pager.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A sub-page allocator. Opaque. */
typedef struct mp_subpage mp_subpage;

/** A sub-page id: see the layout above. */
typedef uint64_t mp_subpage_id;

/** Slots per parent page, at most. */
#define MP_SUBPAGE_MAX_SLOTS 64

/* Id layout. */
#define MP_SUBPAGE_SLOT_BITS  6
#define MP_SUBPAGE_PAGE_SHIFT 6
#define MP_SUBPAGE_PAGE_BITS  40
#define MP_SUBPAGE_TAG_SHIFT  46
#define MP_SUBPAGE_TAG_BITS   16
/** Instances of one slot size a pager can hold at once. */
#define MP_SUBPAGE_MAX_INSTANCES 2048

/** The parent page number of a sub-page id (no validation). */
static inline mp_pgno mp_subpage_id_page(mp_subpage_id id)
{
    return (id >> MP_SUBPAGE_PAGE_SHIFT) &
           (((uint64_t)1 << MP_SUBPAGE_PAGE_BITS) - 1);
}

/** The slot index of a sub-page id inside its parent (no validation). */
static inline unsigned mp_subpage_id_slot(mp_subpage_id id)
{
    return (unsigned)(id & (((uint64_t)1 << MP_SUBPAGE_SLOT_BITS) - 1));
}

/** The owner tag of a sub-page id (no validation). */
static inline unsigned mp_subpage_id_tag(mp_subpage_id id)
{
    return (unsigned)((id >> MP_SUBPAGE_TAG_SHIFT) &
                      (((uint64_t)1 << MP_SUBPAGE_TAG_BITS) - 1));
}

/**
 * Create an empty sub-page allocator over pager. Takes no page yet.
 *
 * Works on a read-only pager too (rebuild and get then work; every call
 * that would change allocation refuses with MP_EREADONLY).
 *
 * @param[in]  pager      the pager; must outlive the allocator.
 * @param[in]  slot_size  a power of two, below the page size, with at most
 *                        MP_SUBPAGE_MAX_SLOTS slots per page.
 * @param[out] out        the allocator; NULL on failure.
 * @return MP_OK; MP_EPAGESIZE (slot size not a power of two, not below the
 *         page size, or more than 64 slots per page); MP_ELIMIT
 *         (MP_SUBPAGE_MAX_INSTANCES allocators of this slot size already
 *         live on the pager); MP_ENOMEM; MP_EINVAL (pager or out NULL).
 * Ownership: the caller owns *out; release it with mp_subpage_destroy()
 * before closing the pager. mp_pager_close() releases any allocator still
 * live on the pager (so nothing leaks), after which its handle is dangling:
 * destroying it then is a use after free.
 */
MP_API MP_NODISCARD int mp_subpage_create(mp_pager *pager, size_t slot_size,
                                          mp_subpage **out);

/**
 * Forget the allocator's state and free it. Parents are NOT returned to
 * the pager: they hold live slots the caller may rebuild later. Pointers
 * from mp_subpage_get() stay readable until the pager is closed, but the
 * allocator no longer vouches for them. Accepts NULL.
 */
MP_API void mp_subpage_destroy(mp_subpage *sub);

/**
 * Allocate one slot: the lowest free slot of a parent that has one, else
 * slot 0 of a new parent taken from the pager in one commit. A new slot
 * reads as zeros.
 *
 * Every call checks first that the pager is writable, also when no parent
 * is needed, so the outcome never depends on the fill level.
 *
 * @return MP_OK with *out set; MP_EREADONLY; MP_EUNAVAILABLE;
 *         MP_EITERATING; the errors of mp_pager_alloc_bulk() when a parent
 *         is needed (nothing changed, except that MP_EIO from the commit
 *         leaves the pager unavailable); MP_ENOMEM; MP_EINVAL (out NULL).
 */
MP_API MP_NODISCARD int mp_subpage_alloc(mp_subpage *sub, mp_subpage_id *out);

/**
 * Free one slot. If it was its parent's last slot, the parent goes back to
 * the pager (one commit) before the slot is marked free: if that fails,
 * nothing changed.
 *
 * @return MP_OK; MP_EWRONGKIND (not a sub-page id); MP_ENOTOWNER (another
 *         allocator's id); MP_EOUTOFBOUNDS (slot index beyond the slots of
 *         a parent); MP_EDOUBLEFREE (slot not allocated, or its parent is
 *         not one of this allocator's); MP_EREADONLY; MP_EUNAVAILABLE;
 *         MP_EITERATING; the errors of mp_pager_free_bulk() when the
 *         parent goes back. On any error nothing changed.
 */
MP_API MP_NODISCARD int mp_subpage_free(mp_subpage *sub, mp_subpage_id id);

/**
 * Allocate count slots; all or nothing. Free slots of existing parents are
 * used first; the parents still needed are taken in one pager commit
 * (mp_pager_alloc_bulk()), so a pager that cannot provide them (growth
 * refused, out of space, I/O error) fails the call with nothing changed.
 *
 * @param[in]  count  1 .. MP_BULK_MAX.
 * @param[out] out    room for count ids.
 * @return MP_OK; MP_ECOUNT (count 0 or above MP_BULK_MAX); the errors of
 *         mp_subpage_alloc().
 */
MP_API MP_NODISCARD int mp_subpage_alloc_bulk(mp_subpage *sub, size_t count,
                                              mp_subpage_id *out);

/**
 * Free count slots. Every id is validated before any slot is freed; the
 * parents left empty go back to the pager in one commit before any slot
 * is marked free. On error nothing changed.
 *
 * @return MP_OK; MP_ECOUNT (count 0 or above MP_BULK_MAX); MP_EDUPLICATE
 *         (an allocated slot listed twice); the per-id errors of
 *         mp_subpage_free() for the first bad id in list order;
 *         MP_EREADONLY; MP_EUNAVAILABLE; MP_EITERATING; MP_ENOMEM; the
 *         errors of mp_pager_free_bulk(); MP_EINVAL (ids NULL).
 */
MP_API MP_NODISCARD int
mp_subpage_free_bulk(mp_subpage *sub, const mp_subpage_id *ids, size_t count);

/**
 * Pointer to the slot_size bytes of an allocated slot, for reading.
 * Lifetime: until the slot is freed, the allocator destroyed or the pager
 * closed; taking or returning other parents never moves it.
 * @return MP_OK; MP_EWRONGKIND; MP_ENOTOWNER; MP_EOUTOFBOUNDS;
 *         MP_EDOUBLEFREE (slot not allocated); MP_EINVAL (out NULL).
 */
MP_API MP_NODISCARD int mp_subpage_get(const mp_subpage *sub, mp_subpage_id id,
                                       const void **out);

/**
 * Pointer to the bytes of an allocated slot, for writing. Same lifetime
 * and errors as mp_subpage_get(), plus MP_EREADONLY.
 */
MP_API MP_NODISCARD int mp_subpage_get_mut(mp_subpage *sub, mp_subpage_id id,
                                           void **out);

/**
 * Rebuild the in-memory state of an empty allocator from the caller's list
 * of live ids (after a reopen, or after destroy and create). Touches
 * neither the file nor the slot bytes; works on a read-only pager.
 *
 * Each id must carry this allocator's tag, name a slot index below the
 * slots per parent, and name a parent that is an allocated regular page of
 * the pager and not a parent of another live allocator on it; no slot may
 * be listed twice. Validation is complete before the state is adopted: on
 * error the allocator stays empty.
 *
 * Parents that held slots no longer listed are not known to the allocator
 * afterwards (they stay allocated in the pager; see the crash windows
 * above). count 0 is a valid (empty) list.
 *
 * @return MP_OK; MP_EINVAL (the allocator is not empty, or ids NULL with
 *         count > 0); MP_ECOUNT (count above MP_BULK_MAX); MP_EWRONGKIND;
 *         MP_ENOTOWNER (another allocator's tag, or a parent another live
 *         allocator holds); MP_EOUTOFBOUNDS (slot index, or parent beyond
 *         the file); MP_ERESERVED, MP_EINTERNAL, MP_EDOUBLEFREE (the parent
 *         is a reserved, internal or free page, as mp_pager_get() says);
 *         MP_EDUPLICATE; MP_ENOMEM.
 */
MP_API MP_NODISCARD int
mp_subpage_rebuild(mp_subpage *sub, const mp_subpage_id *ids, size_t count);

/**
 * Copy the ids of every allocated slot into out, in ascending order (by
 * parent page, then slot): the list mp_subpage_rebuild() takes.
 *
 * @param[out] out  room for cap ids.
 * @param[out] n    the number written (mp_subpage_count()).
 * @return MP_OK; MP_EINVAL (n NULL, or cap below mp_subpage_count();
 *         nothing written). out may be NULL when no slot is live.
 */
MP_API MP_NODISCARD int mp_subpage_ids(const mp_subpage *sub,
                                       mp_subpage_id *out, size_t cap,
                                       size_t *n);

/** Slots in use. */
MP_API uint64_t mp_subpage_count(const mp_subpage *sub);

/** Parent pages the allocator holds. */
MP_API uint64_t mp_subpage_parent_count(const mp_subpage *sub);

/** The slot size in bytes. */
MP_API size_t mp_subpage_slot_size(const mp_subpage *sub);

/** Slots per parent page (page size / slot size). */
MP_API unsigned mp_subpage_slots_per_parent(const mp_subpage *sub);

/** The owner tag every id of this allocator carries. */
MP_API unsigned mp_subpage_tag(const mp_subpage *sub);

/** The pager the allocator takes its parents from. */
MP_API mp_pager *mp_subpage_pager(const mp_subpage *sub);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_SUBPAGE_H */
