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

/* The set changes: the sorted view no longer describes it. */
static void drop_sorted(struct mp__pageset *s,
                        const struct mp_allocator_hooks *m)
{
    uint64_t *v =
        atomic_exchange_explicit(&s->sorted, NULL, memory_order_relaxed);
    if (v) {
        mem_free(m, v);
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
    drop_sorted(s, mem);
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

void mp__pageset_remove(struct mp__pageset *s,
                        const struct mp_allocator_hooks *mem, uint64_t pg)
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
    drop_sorted(s, mem);
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
    drop_sorted(s, mem);
    mem_free(mem, s->slots);
    s->slots = NULL;
    s->cap = 0;
    s->count = 0;
}

void mp__pageset_clear(struct mp__pageset *s,
                       const struct mp_allocator_hooks *mem)
{
    drop_sorted(s, mem);
    if (s->slots) {
        memset(s->slots, 0, (size_t)s->cap * sizeof(*s->slots));
    }
    s->count = 0;
}

/*
 * Sort v[0..n) with tmp[0..n) as scratch: least significant byte first,
 * skipping bytes in which all members agree (page numbers stay below 2^40,
 * and members of small files differ in one or two bytes). Linear in n and
 * no calls through a comparison function: iterators rebuild this list
 * after every change of the set.
 */
static void radix_sort(uint64_t *v, uint64_t *tmp, uint64_t n)
{
    uint64_t *out = v, lo = ~(uint64_t)0, hi = 0;
    for (uint64_t i = 0; i < n; i++) {
        lo &= v[i];
        hi |= v[i];
    }
    for (unsigned shift = 0; shift < 64; shift += 8) {
        uint64_t count[256] = { 0 }, pos = 0;
        uint64_t *t;
        if (((lo ^ hi) >> shift & 0xFF) == 0) {
            continue; /* every member has the same byte here */
        }
        for (uint64_t i = 0; i < n; i++) {
            count[v[i] >> shift & 0xFF]++;
        }
        for (unsigned b = 0; b < 256; b++) {
            uint64_t c = count[b];
            count[b] = pos;
            pos += c;
        }
        for (uint64_t i = 0; i < n; i++) {
            tmp[count[v[i] >> shift & 0xFF]++] = v[i];
        }
        t = v;
        v = tmp;
        tmp = t;
    }
    if (v != out) {
        memcpy(out, v, n * sizeof(*v)); /* an odd number of passes */
    }
}

int mp__pageset_sorted(struct mp__pageset *s,
                       const struct mp_allocator_hooks *mem,
                       const uint64_t **out)
{
    uint64_t *v = atomic_load_explicit(&s->sorted, memory_order_acquire);
    uint64_t *none = NULL, *tmp, n = 0;

    if (v || !s->count) {
        *out = v;
        return MP_OK;
    }
    v = mem_alloc(mem, s->count * sizeof(*v));
    tmp = mem_alloc(mem, s->count * sizeof(*tmp));
    if (!v || !tmp) {
        mem_free(mem, v);
        mem_free(mem, tmp);
        return MP_ENOMEM;
    }
    for (uint64_t i = 0; i < s->cap; i++) {
        if (s->slots[i]) {
            v[n++] = s->slots[i];
        }
    }
    radix_sort(v, tmp, n);
    mem_free(mem, tmp);
    if (!atomic_compare_exchange_strong_explicit(
            &s->sorted, &none, v, memory_order_acq_rel, memory_order_acquire)) {
        /* Another reader published the same list first. */
        mem_free(mem, v);
        v = none;
    }
    *out = v;
    return MP_OK;
}
