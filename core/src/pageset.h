/*
 * pageset.h - a set of page numbers (open addressing, linear probing), for
 * the internal pages whose places are not fixed: index nodes, directory
 * blocks, protected backing pages. Lookups sit on the free and get paths.
 */
#ifndef MP_PAGESET_H
#define MP_PAGESET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages/pager.h"

struct mp__pageset {
    uint64_t *slots; /* 0 = empty (page 0 is never a member) */
    uint64_t cap;    /* power of two, or 0 */
    uint64_t count;
    /*
     * The members in ascending order (count of them), or NULL until a
     * reader asks. Readers may build it concurrently (iterators on an
     * mp_shared pager): each builds its own and the first to publish wins.
     * Every change of the set drops it; changes happen only with no
     * reader present (writers are exclusive, iterators block writes).
     */
    _Atomic(uint64_t *) sorted;
};

int mp__pageset_add(struct mp__pageset *s, const struct mp_allocator_hooks *mem,
                    uint64_t pg);
bool mp__pageset_has(const struct mp__pageset *s, uint64_t pg);
void mp__pageset_remove(struct mp__pageset *s,
                        const struct mp_allocator_hooks *mem, uint64_t pg);
void mp__pageset_free(struct mp__pageset *s,
                      const struct mp_allocator_hooks *mem);
/* Remove every member but keep the table: adding back as many members as
 * the set ever held allocates nothing (a rollback relies on it). */
void mp__pageset_clear(struct mp__pageset *s,
                       const struct mp_allocator_hooks *mem);
/*
 * The members in ascending order, s->count of them, owned by the set: valid
 * until the set next changes. Safe to call from concurrent readers.
 * @return MP_OK; MP_ENOMEM (nothing changed).
 */
int mp__pageset_sorted(struct mp__pageset *s,
                       const struct mp_allocator_hooks *mem,
                       const uint64_t **out);

#endif /* MP_PAGESET_H */
