/*
 * failmem.c - allocator hooks that fail chosen allocations.
 */
#include "mph/failmem.h"

#include <stdlib.h>
#include <string.h>

static bool fail_now(struct mph_failmem *f)
{
    if (!f->armed) {
        return false;
    }
    f->count++;
    if (f->count == f->nth || (f->sticky && f->count > f->nth)) {
        f->fired++;
        return true;
    }
    return false;
}

static void *fm_alloc(void *ctx, size_t n)
{
    return fail_now(ctx) ? NULL : malloc(n);
}

static void *fm_realloc(void *ctx, void *ptr, size_t n)
{
    return fail_now(ctx) ? NULL : realloc(ptr, n);
}

static void fm_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

void mph_failmem_hooks(struct mph_failmem *f, struct mp_allocator_hooks *hooks)
{
    memset(hooks, 0, sizeof(*hooks));
    hooks->alloc = fm_alloc;
    hooks->realloc = fm_realloc;
    hooks->free = fm_free;
    hooks->ctx = f;
}

void mph_failmem_arm(struct mph_failmem *f, uint64_t nth, bool sticky)
{
    f->count = 0;
    f->fired = 0;
    f->nth = nth;
    f->sticky = sticky;
    f->armed = true;
}
