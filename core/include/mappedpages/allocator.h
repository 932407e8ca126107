/*
 * mappedpages/allocator.h - one interface over the three kinds of
 * allocation: regular pages, protected pages and sub-page slots.
 *
 * The original library's PageHandle / PageAllocator / BulkPageAllocator
 * traits, in C: a table of function pointers and a context. Generic code
 * (tests, fuzz targets, an application's own containers) takes a
 * const struct mp_allocator * and calls through it, or through the
 * mp_allocator_* wrappers below, without knowing which kind it drives.
 *
 * Every id is a uint64_t carrying its kind in its top bits
 * (MP_ID_KIND_*), so an id of one kind handed to another kind's allocator
 * is refused with MP_EWRONGKIND. Each function keeps the contract of the
 * call it forwards to: same errors, same all-or-nothing bulk rules, same
 * pointer lifetimes (see pager.h, protected.h, subpage.h).
 *
 * Views: get gives a read-only view for every kind (for a protected page,
 * its committed copy). get_mut gives a writable view where writing in
 * place is the kind's model (regular pages and slots); it is NULL for
 * protected pages, whose writes go through mp_protected_begin() and
 * mp_protected_commit() so that they stay atomic.
 *
 * The struct is plain data: users may fill one in for an allocator of
 * their own. Its ctx must outlive it; copying the struct is fine.
 *
 * Thread rules: those of the wrapped pager or sub-page allocator.
 */
#ifndef MAPPEDPAGES_ALLOCATOR_H
#define MAPPEDPAGES_ALLOCATOR_H

#include "mappedpages/pager.h"
#include "mappedpages/subpage.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An allocator of fixed-size units, whatever backs them. */
struct mp_allocator {
    /** "regular", "protected", "subpage" or the user's own. */
    const char *name;
    /** MP_ID_KIND_* of the ids it hands out. */
    uint64_t kind;
    /** Bytes behind each id (page size or slot size). */
    size_t unit_size;
    /** First argument of every function below. */
    void *ctx;
    /** Allocate one unit. */
    int (*alloc)(void *ctx, uint64_t *id);
    /** Free one unit. */
    int (*free)(void *ctx, uint64_t id);
    /** Read-only view of unit_size bytes. */
    int (*get)(void *ctx, uint64_t id, const void **bytes);
    /** Writable view, or NULL if the kind has none (protected pages). */
    int (*get_mut)(void *ctx, uint64_t id, void **bytes);
    /** Allocate count units, all or nothing; count 0 is MP_ECOUNT. */
    int (*alloc_bulk)(void *ctx, size_t count, uint64_t *ids);
    /** Free count units; all are validated before any is freed. */
    int (*free_bulk)(void *ctx, const uint64_t *ids, size_t count);
};

/**
 * Fill *out with regular pages of pager: mp_pager_alloc, mp_pager_free,
 * mp_pager_get, mp_pager_get_mut, mp_pager_alloc_bulk, mp_pager_free_bulk.
 * @return MP_OK; MP_EINVAL (pager or out NULL).
 * Lifetime: *out is usable while the pager is open.
 */
MP_API MP_NODISCARD int mp_allocator_regular(mp_pager *pager,
                                             struct mp_allocator *out);

/**
 * Fill *out with protected pages of pager: mp_protected_alloc, _free,
 * _get, _alloc_bulk, _free_bulk; get_mut is NULL.
 * @return MP_OK; MP_EINVAL (pager or out NULL).
 * Lifetime: *out is usable while the pager is open.
 */
MP_API MP_NODISCARD int mp_allocator_protected(mp_pager *pager,
                                               struct mp_allocator *out);

/**
 * Fill *out with the slots of sub: mp_subpage_alloc, _free, _get,
 * _get_mut, _alloc_bulk, _free_bulk.
 * @return MP_OK; MP_EINVAL (sub or out NULL).
 * Lifetime: *out is usable until sub is destroyed.
 */
MP_API MP_NODISCARD int mp_allocator_subpage(mp_subpage *sub,
                                             struct mp_allocator *out);

/**
 * Wrappers that call through the table: a->alloc(a->ctx, id) and so on.
 * They return what the function returns; mp_allocator_get_mut() returns
 * MP_EWRONGKIND (and sets *bytes to NULL) when a->get_mut is NULL.
 */
MP_API MP_NODISCARD int mp_allocator_alloc(const struct mp_allocator *a,
                                           uint64_t *id);
MP_API MP_NODISCARD int mp_allocator_free(const struct mp_allocator *a,
                                          uint64_t id);
MP_API MP_NODISCARD int mp_allocator_get(const struct mp_allocator *a,
                                         uint64_t id, const void **bytes);
MP_API MP_NODISCARD int mp_allocator_get_mut(const struct mp_allocator *a,
                                             uint64_t id, void **bytes);
MP_API MP_NODISCARD int mp_allocator_alloc_bulk(const struct mp_allocator *a,
                                                size_t count, uint64_t *ids);
MP_API MP_NODISCARD int mp_allocator_free_bulk(const struct mp_allocator *a,
                                               const uint64_t *ids,
                                               size_t count);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_ALLOCATOR_H */
