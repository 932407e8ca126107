/*
 * sub_route.h - which sub-page allocator a sub-page op goes to. The
 * executor and the model must agree, so the rule lives in one place:
 *
 *  - salloc and salloc_bulk go to the allocator of their slot size,
 *    created (after the ones already there) if there is none;
 *  - sfree and sfree_bulk go to the allocator whose slot size the first
 *    id's tag names; if none does (or the id is no sub-page id, or there
 *    is no id), to the allocator created first; if there is no allocator
 *    at all, to a new one of slot size page_size / 64.
 *
 * Every allocator is instance 0 of its slot size (there is one per size),
 * so its tag is log2(slot size) << 11.
 */
#ifndef MPH_SUB_ROUTE_H
#define MPH_SUB_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "mappedpages/subpage.h"
#include "mph/workload.h"

/*
 * Index of the allocator for op among sizes[0, n), or n when a new one of
 * *size must be created first.
 */
static inline size_t mph__sub_route(const size_t *sizes, size_t n,
                                    size_t page_size, const struct mph_op *op,
                                    const uint64_t *ids, size_t *size)
{
    size_t want;
    if (op->kind == MPH_OP_SALLOC || op->kind == MPH_OP_SALLOC_BULK) {
        want = op->size;
    } else {
        want = 0;
        if (op->nargs > 0 && (ids[0] & MP_ID_KIND_MASK) == MP_ID_KIND_SUBPAGE) {
            unsigned l = mp_subpage_id_tag(ids[0]) >> 11;
            want = l < 32 ? (size_t)1 << l : 0;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (sizes[i] == want) {
            *size = want;
            return i;
        }
    }
    if (op->kind == MPH_OP_SALLOC || op->kind == MPH_OP_SALLOC_BULK) {
        *size = want;
        return n;
    }
    if (n > 0) {
        *size = sizes[0];
        return 0;
    }
    *size = page_size / 64;
    return n;
}

/* The owner tag of the (only) allocator of a slot size. */
static inline unsigned mph__sub_tag(size_t slot_size)
{
    return (unsigned)__builtin_ctzll((unsigned long long)slot_size) << 11;
}

/* Whether mp_subpage_create accepts the slot size for the page size. */
static inline int mph__sub_size_ok(size_t slot_size, size_t page_size)
{
    return slot_size != 0 && (slot_size & (slot_size - 1)) == 0 &&
           slot_size < page_size &&
           page_size / slot_size <= MP_SUBPAGE_MAX_SLOTS;
}

#endif /* MPH_SUB_ROUTE_H */
