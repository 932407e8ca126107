/*
 * mem.c - the pager's memory, through the caller's hooks (zstd's customMem),
 * so out-of-memory paths can be tested without global state.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void *mp__alloc(mp_pager *p, size_t size)
{
    return p->mem.alloc ? p->mem.alloc(p->mem.ctx, size) : malloc(size);
}

void *mp__zalloc(mp_pager *p, size_t size)
{
    void *q = mp__alloc(p, size);
    if (q) {
        memset(q, 0, size);
    }
    return q;
}

void *mp__realloc(mp_pager *p, void *ptr, size_t size)
{
    if (p->mem.realloc) {
        return p->mem.realloc(p->mem.ctx, ptr, size);
    }
    return realloc(ptr, size);
}

void mp__free(mp_pager *p, void *ptr)
{
    if (!ptr) {
        return;
    }
    if (p->mem.free) {
        p->mem.free(p->mem.ctx, ptr);
    } else {
        free(ptr);
    }
}

/* Grow *arr (of *cap elements) to hold at least need; new room zeroed. */
int mp__grow_array(mp_pager *p, void **arr, size_t elem, uint64_t *cap,
                   uint64_t need)
{
    uint64_t ncap = *cap ? *cap : 4;
    void *n;
    if (need <= *cap) {
        return MP_OK;
    }
    while (ncap < need) {
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem) {
        return MP_ENOMEM;
    }
    n = mp__realloc(p, *arr, (size_t)(ncap * elem));
    if (!n) {
        return MP_ENOMEM;
    }
    memset((char *)n + *cap * elem, 0, (size_t)((ncap - *cap) * elem));
    *arr = n;
    *cap = ncap;
    return MP_OK;
}
