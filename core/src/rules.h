/*
 * rules.h - validity rules that open (recover.c) and the file checker
 * (harness/check) must apply identically. Each rule is stated once, here,
 * and both include this header, so a forged image cannot be accepted by
 * one and refused by the other (issue 12 item 7). FORMAT.md names the
 * rules in the sections given with each.
 *
 * Only plain numbers and bytes go in and out: no pager, no checker state.
 */
#ifndef MP_RULES_H
#define MP_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crc32c.h"

/*
 * R1 (FORMAT.md sections 3 and 7): a page count never ends a group g >= 1
 * inside its two map-leaf copies, i.e. never in (g*B, g*B + 3) with
 * B = 8 * page_size. Such a file would hold a group with leaf pages but no
 * page for them to describe (g*B + 2), or cut leaf copy 1 off (g*B + 1).
 * Growth rounds up with mp__total_round(); a metadata copy that records
 * such a count does not validate. total must be at least 1.
 */
static inline bool mp__total_ok(uint64_t total, size_t page_size)
{
    uint64_t b = 8 * (uint64_t)page_size, g = (total - 1) / b;
    return g == 0 || total - g * b >= 3;
}

/* The smallest page count >= total that R1 allows. */
static inline uint64_t mp__total_round(uint64_t total, size_t page_size)
{
    uint64_t b = 8 * (uint64_t)page_size, g = (total - 1) / b;
    return mp__total_ok(total, page_size) ? total : g * b + 3;
}

/*
 * R2 (FORMAT.md section 7): a metadata copy's counts must leave room for
 * the pages its own header proves allocated: the 3 reserved pages, both
 * copies of each of the ceil(total / B) map leaves and of each of the
 * ceil(slots / E) directory blocks (E = floor(page_size / 24)), and both
 * pages of each of the protected_in_use protected pages
 * (mp__counts_need()). A copy whose free_pages leaves fewer allocated
 * pages than that is not a candidate.
 * Index nodes are not counted: their number needs the tree shape, which
 * is checked when the trees are read. Inputs are header fields already
 * bounded (total <= 2^40, slots <= total / 2, in_use <= slots,
 * free_pages <= total), so nothing overflows.
 */
static inline uint64_t mp__counts_need(uint64_t total, uint64_t slots,
                                       uint64_t in_use, size_t page_size)
{
    uint64_t b = 8 * (uint64_t)page_size, e = page_size / 24;
    return 3 + 2 * ((total + b - 1) / b) + 2 * ((slots + e - 1) / e) +
           2 * in_use;
}

static inline bool mp__counts_ok(uint64_t total, uint64_t free_pages,
                                 uint64_t slots, uint64_t in_use,
                                 size_t page_size)
{
    return mp__counts_need(total, slots, in_use, page_size) <=
           total - free_pages;
}

/*
 * R3 (FORMAT.md section 6): a protected entry in use names its committed
 * copy by flags bit 0, and its CRC is the checksum of that copy's whole
 * page. The bit is authoritative: the pager never serves the other copy.
 * If the named copy does not have the stated checksum (even when the other
 * copy does), that page is damaged, not the metadata copy: open accepts the
 * file (falling back to the other metadata copy would undo the last commit
 * of every page for one bad page), verifies every protected page in use
 * once, and mp_protected_get() and mp_protected_begin() refuse a damaged
 * one with MP_ECORRUPT; the checker calls the file corrupt and predicts
 * exactly those refusals.
 */
static inline bool mp__protected_ok(const void *committed, size_t page_size,
                                    uint32_t crc)
{
    return mp__crc32c(0, committed, page_size) == crc;
}

#endif /* MP_RULES_H */
