/*
 * pageset.c - open-addressing set of page numbers with backward-shift
 * deletion (no tombstones, so lookups stay short after many frees).
 */
#include "pageset.h"

#include <stdlib.h>
#include <string.h>

static uint64_t slot_of(uint64_t pg, uint64_t cap)
{
    /* Fibonacci hashing: pages come in runs; spread them. */
    return (pg * 0x9E3779B97F4A7C15ull) >> 20 & (cap - 1);
}

static void *mem_alloc(const struct mp_allocator_hooks *m, size_t n)
{
    return m->alloc ? m->alloc(m->ctx, n) : malloc(n);
}

static void mem_free(const struct mp_allocator_hooks *m, void *ptr)
{
    if (m->free) {
        m->free(m->ctx, ptr);
    } else {
        free(ptr);
    }
}

static void insert(uint64_t *slots, uint64_t cap, uint64_t pg)
{
    uint64_t i = slot_of(pg, cap);
    while (slots[i] != 0) {
        i = (i + 1) & (cap - 1);
    }
    slots[i] = pg;
}

int mp__pageset_add(struct mp__pageset *s, const struct mp_allocator_hooks *mem,
                    uint64_t pg)
{
    if (mp__pageset_has(s, pg)) {
        return MP_OK;
    }
    if ((s->count + 1) * 2 > s->cap) {
        uint64_t ncap = s->cap ? s->cap * 2 : 64;
        uint64_t *n = mem_alloc(mem, ncap * sizeof(*n));
        if (!n) {
            return MP_ENOMEM;
        }
        memset(n, 0, ncap * sizeof(*n));
        for (uint64_t i = 0; i < s->cap; i++) {
            if (s->slots[i]) {
                insert(n, ncap, s->slots[i]);
            }
        }
        mem_free(mem, s->slots);
        s->slots = n;
        s->cap = ncap;
    }
    insert(s->slots, s->cap, pg);
    s->count++;
    return MP_OK;
}

bool mp__pageset_has(const struct mp__pageset *s, uint64_t pg)
{
    uint64_t i;
    if (!s->count || pg == 0) {
        return false;
    }
    for (i = slot_of(pg, s->cap); s->slots[i] != 0;
         i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == pg) {
            return true;
        }
    }
    return false;
}

void mp__pageset_remove(struct mp__pageset *s, uint64_t pg)
{
    uint64_t i, j;
    if (!s->count || pg == 0) {
        return;
    }
    for (i = slot_of(pg, s->cap); s->slots[i] != pg;
         i = (i + 1) & (s->cap - 1)) {
        if (s->slots[i] == 0) {
            return;
        }
    }
    s->slots[i] = 0;
    s->count--;
    /* Shift back followers whose probe run crossed the hole. */
    for (j = (i + 1) & (s->cap - 1); s->slots[j] != 0;
         j = (j + 1) & (s->cap - 1)) {
        uint64_t home = slot_of(s->slots[j], s->cap);
        bool between =
            i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!between) {
            s->slots[i] = s->slots[j];
            s->slots[j] = 0;
            i = j;
        }
    }
}

void mp__pageset_free(struct mp__pageset *s,
                      const struct mp_allocator_hooks *mem)
{
    mem_free(mem, s->slots);
    s->slots = NULL;
    s->cap = 0;
    s->count = 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void mp__pageset_sorted(const struct mp__pageset *s, uint64_t *out)
{
    uint64_t n = 0;
    for (uint64_t i = 0; i < s->cap; i++) {
        if (s->slots[i]) {
            out[n++] = s->slots[i];
        }
    }
    qsort(out, n, sizeof(*out), cmp_u64);
}
