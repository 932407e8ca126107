/*
 * bench_heap.c - counting memory hooks (see bench_heap.h). Each block
 * carries its size in a header so free and realloc can account for it.
 */
#include "bench_heap.h"

#include <stdalign.h>
#include <stdlib.h>

#define HDR (sizeof(max_align_t))

static void note(struct mph_heap *h, size_t add, size_t sub)
{
    h->live = h->live + add - sub;
    if (h->live > h->peak) {
        h->peak = h->live;
    }
}

static void *heap_alloc(void *ctx, size_t size)
{
    unsigned char *p = malloc(HDR + size);
    if (!p) {
        return NULL;
    }
    *(size_t *)p = size;
    note(ctx, size, 0);
    return p + HDR;
}

static void heap_free(void *ctx, void *ptr)
{
    unsigned char *p;
    if (!ptr) {
        return;
    }
    p = (unsigned char *)ptr - HDR;
    note(ctx, 0, *(size_t *)p);
    free(p);
}

static void *heap_realloc(void *ctx, void *ptr, size_t size)
{
    unsigned char *p, *q;
    size_t old;
    if (!ptr) {
        return heap_alloc(ctx, size);
    }
    p = (unsigned char *)ptr - HDR;
    old = *(size_t *)p;
    q = realloc(p, HDR + size);
    if (!q) {
        return NULL;
    }
    *(size_t *)q = size;
    note(ctx, size, old);
    return q + HDR;
}

void mph_heap_hook(struct mph_heap *h, struct mp_options *opt)
{
    opt->mem.alloc = heap_alloc;
    opt->mem.realloc = heap_realloc;
    opt->mem.free = heap_free;
    opt->mem.ctx = h;
}
