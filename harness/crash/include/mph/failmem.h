/*
 * mph/failmem.h - allocator hooks that fail chosen allocations, so tests
 * and fuzz targets reach a pager's MP_ENOMEM paths (mp_options.mem,
 * mph_exec_config.mem).
 *
 * Not thread-safe: one pager (or one thread) per mph_failmem.
 */
#ifndef MPH_FAILMEM_H
#define MPH_FAILMEM_H

#include <stdbool.h>
#include <stdint.h>

#include "mappedpages/pager.h"

/** State of the hooks. Zero-initialised: disarmed, nothing counted. */
struct mph_failmem {
    /** Allocations (alloc and realloc) seen while armed. */
    uint64_t count;
    /** The allocation that fails, 1-based among those counted. */
    uint64_t nth;
    /** Failures returned so far. */
    uint64_t fired;
    /** Counting and failing happen only while armed. */
    bool armed;
    /** Fail every allocation after nth too. */
    bool sticky;
};

/**
 * Fill *hooks with allocator hooks driven by f: malloc/realloc/free,
 * except that while f->armed the nth counted allocation fails (returns
 * NULL), and with f->sticky every later one. f must outlive every pager
 * given the hooks.
 */
void mph_failmem_hooks(struct mph_failmem *f, struct mp_allocator_hooks *hooks);

/** Count from zero again and fail allocation nth (sticky: and later). */
void mph_failmem_arm(struct mph_failmem *f, uint64_t nth, bool sticky);

#endif /* MPH_FAILMEM_H */
