/*
 * bench_heap.h - memory hooks that count the pager's own heap use, so the
 * benchmark can report bookkeeping bytes per page.
 */
#ifndef MPH_BENCH_HEAP_H
#define MPH_BENCH_HEAP_H

#include <stddef.h>

#include "mappedpages.h"

struct mph_heap {
    size_t live; /* bytes currently allocated through the hooks */
    size_t peak; /* high-water mark of live */
};

/* Point opt->mem at hooks that count into h (h must outlive the pager). */
void mph_heap_hook(struct mph_heap *h, struct mp_options *opt);

#endif /* MPH_BENCH_HEAP_H */
