/*
 * allocator.c - the generic allocator interface (mappedpages/allocator.h):
 * adapters from the table's void *ctx signatures to each kind's calls.
 * Adapters rather than casts: calling a function through a pointer of
 * another type is undefined behaviour (and UBSan's -fsanitize=function
 * reports it).
 */
#include "mappedpages/allocator.h"
#include "mappedpages/protected.h"

/* Regular pages. */
static int reg_alloc(void *ctx, uint64_t *id)
{
    return mp_pager_alloc(ctx, id);
}
static int reg_free(void *ctx, uint64_t id)
{
    return mp_pager_free(ctx, id);
}
static int reg_get(void *ctx, uint64_t id, const void **bytes)
{
    return mp_pager_get(ctx, id, bytes);
}
static int reg_get_mut(void *ctx, uint64_t id, void **bytes)
{
    return mp_pager_get_mut(ctx, id, bytes);
}
static int reg_alloc_bulk(void *ctx, size_t count, uint64_t *ids)
{
    return mp_pager_alloc_bulk(ctx, count, ids);
}
static int reg_free_bulk(void *ctx, const uint64_t *ids, size_t count)
{
    return mp_pager_free_bulk(ctx, ids, count);
}

/* Protected pages. */
static int prot_alloc(void *ctx, uint64_t *id)
{
    return mp_protected_alloc(ctx, id);
}
static int prot_free(void *ctx, uint64_t id)
{
    return mp_protected_free(ctx, id);
}
static int prot_get(void *ctx, uint64_t id, const void **bytes)
{
    return mp_protected_get(ctx, id, bytes);
}
static int prot_alloc_bulk(void *ctx, size_t count, uint64_t *ids)
{
    return mp_protected_alloc_bulk(ctx, count, ids);
}
static int prot_free_bulk(void *ctx, const uint64_t *ids, size_t count)
{
    return mp_protected_free_bulk(ctx, ids, count);
}

/* Sub-page slots. */
static int sub_alloc(void *ctx, uint64_t *id)
{
    return mp_subpage_alloc(ctx, id);
}
static int sub_free(void *ctx, uint64_t id)
{
    return mp_subpage_free(ctx, id);
}
static int sub_get(void *ctx, uint64_t id, const void **bytes)
{
    return mp_subpage_get(ctx, id, bytes);
}
static int sub_get_mut(void *ctx, uint64_t id, void **bytes)
{
    return mp_subpage_get_mut(ctx, id, bytes);
}
static int sub_alloc_bulk(void *ctx, size_t count, uint64_t *ids)
{
    return mp_subpage_alloc_bulk(ctx, count, ids);
}
static int sub_free_bulk(void *ctx, const uint64_t *ids, size_t count)
{
    return mp_subpage_free_bulk(ctx, ids, count);
}

int mp_allocator_regular(mp_pager *pager, struct mp_allocator *out)
{
    if (!pager || !out) {
        return MP_EINVAL;
    }
    *out = (struct mp_allocator){
        .name = "regular",
        .kind = MP_ID_KIND_PAGE,
        .unit_size = mp_pager_page_size(pager),
        .ctx = pager,
        .alloc = reg_alloc,
        .free = reg_free,
        .get = reg_get,
        .get_mut = reg_get_mut,
        .alloc_bulk = reg_alloc_bulk,
        .free_bulk = reg_free_bulk,
    };
    return MP_OK;
}

int mp_allocator_protected(mp_pager *pager, struct mp_allocator *out)
{
    if (!pager || !out) {
        return MP_EINVAL;
    }
    *out = (struct mp_allocator){
        .name = "protected",
        .kind = MP_ID_KIND_PROTECT,
        .unit_size = mp_pager_page_size(pager),
        .ctx = pager,
        .alloc = prot_alloc,
        .free = prot_free,
        .get = prot_get,
        .get_mut = NULL,
        .alloc_bulk = prot_alloc_bulk,
        .free_bulk = prot_free_bulk,
    };
    return MP_OK;
}

int mp_allocator_subpage(mp_subpage *sub, struct mp_allocator *out)
{
    if (!sub || !out) {
        return MP_EINVAL;
    }
    *out = (struct mp_allocator){
        .name = "subpage",
        .kind = MP_ID_KIND_SUBPAGE,
        .unit_size = mp_subpage_slot_size(sub),
        .ctx = sub,
        .alloc = sub_alloc,
        .free = sub_free,
        .get = sub_get,
        .get_mut = sub_get_mut,
        .alloc_bulk = sub_alloc_bulk,
        .free_bulk = sub_free_bulk,
    };
    return MP_OK;
}

int mp_allocator_alloc(const struct mp_allocator *a, uint64_t *id)
{
    return a->alloc(a->ctx, id);
}

int mp_allocator_free(const struct mp_allocator *a, uint64_t id)
{
    return a->free(a->ctx, id);
}

int mp_allocator_get(const struct mp_allocator *a, uint64_t id,
                     const void **bytes)
{
    return a->get(a->ctx, id, bytes);
}

int mp_allocator_get_mut(const struct mp_allocator *a, uint64_t id,
                         void **bytes)
{
    if (!a->get_mut) {
        if (bytes) {
            *bytes = NULL;
        }
        return MP_EWRONGKIND;
    }
    return a->get_mut(a->ctx, id, bytes);
}

int mp_allocator_alloc_bulk(const struct mp_allocator *a, size_t count,
                            uint64_t *ids)
{
    return a->alloc_bulk(a->ctx, count, ids);
}

int mp_allocator_free_bulk(const struct mp_allocator *a, const uint64_t *ids,
                           size_t count)
{
    return a->free_bulk(a->ctx, ids, count);
}
