/*
 * pageset.h - a set of page numbers (open addressing, linear probing), for
 * the internal pages whose places are not fixed: index nodes, directory
 * blocks, protected backing pages. Lookups sit on the free and get paths.
 */
#ifndef MP_PAGESET_H
#define MP_PAGESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages/pager.h"

struct mp__pageset {
    uint64_t *slots; /* 0 = empty (page 0 is never a member) */
    uint64_t cap;    /* power of two, or 0 */
    uint64_t count;
};

int mp__pageset_add(struct mp__pageset *s, const struct mp_allocator_hooks *mem,
                    uint64_t pg);
bool mp__pageset_has(const struct mp__pageset *s, uint64_t pg);
void mp__pageset_remove(struct mp__pageset *s, uint64_t pg);
void mp__pageset_free(struct mp__pageset *s,
                      const struct mp_allocator_hooks *mem);
/* Copy the members into out (room for s->count) in ascending order. */
void mp__pageset_sorted(const struct mp__pageset *s, uint64_t *out);

#endif /* MP_PAGESET_H */
