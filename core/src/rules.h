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
#include "layout.h"
#include "mappedpages/pager.h"

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
 * ceil(slots / E) directory blocks (E = floor(page_size / 32)), and both
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
    uint64_t b = 8 * (uint64_t)page_size, e = mp__dir_entries(page_size);
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

/*
 * R4 (FORMAT.md section 6): a directory entry in use carries the
 * generation of the commit that last wrote its committed content, so it is
 * at least 1 (create's) and at most the generation of the metadata copy
 * that reaches it. An entry that breaks it fails the copy (the entry was
 * forged or the block is not this copy's).
 */
static inline bool mp__entry_gen_ok(uint64_t entry_gen, uint64_t copy_gen)
{
    return entry_gen >= 1 && entry_gen <= copy_gen;
}

/*
 * R5 (FORMAT.md sections 8.2 and 9), the generation check: a one-flush
 * commit makes its protected data pages durable in the same barrier as its
 * metadata copy, so a crash can leave the copy and its trees intact but a
 * data page old. In a copy written by a one-flush commit, an entry in use
 * committed in that very generation whose committed copy fails its CRC
 * (R3) therefore fails the metadata copy, and recovery falls back. Anywhere
 * else (an older generation, or a two-barrier copy, whose barrier 1 made
 * the data durable before any record named it) a mismatch is page damage
 * (R3), not a reason to fall back.
 */
static inline bool mp__gen_check_ok(bool copy_one_flush, uint64_t copy_gen,
                                    uint64_t entry_gen, bool content_ok)
{
    return content_ok || !copy_one_flush || entry_gen != copy_gen;
}

/*
 * Selection (FORMAT.md 9, steps 3-5): which metadata copy open takes. Open
 * and the checker validate copies differently (open lazily, the checker
 * both), so the rule is two functions over plain facts: the order in
 * which to try the candidates (the first that validates completely is
 * taken) and, once one was taken, the reason reported for it.
 */
struct mp__sel_copy {
    bool cand;      /* passed the header checks (9 step 2) */
    bool one_flush; /* commit flags bit 0 */
    uint64_t gen;
    uint32_t crc;
};

struct mp__sel_record {
    bool ok; /* magic, CRC and selector right */
    int sel;
    uint64_t gen;
    uint32_t crc;
};

/* The copy the record names, generation and CRC matching, or -1. */
static inline int mp__sel_named(const struct mp__sel_copy c[2],
                                const struct mp__sel_record *r)
{
    if (!r->ok || !c[r->sel].cand || c[r->sel].gen != r->gen ||
        c[r->sel].crc != r->crc) {
        return -1;
    }
    return r->sel;
}

/* True if copy y is the one-flush successor of the named copy x (FORMAT.md 9
 * step 4). */
static inline bool mp__sel_successor(const struct mp__sel_copy c[2], int x)
{
    int y = 1 - x;
    return c[y].cand && c[y].one_flush && c[y].gen == c[x].gen + 1;
}

/* The newest candidate (copy A on a tie, as the search order has it), or
 * -1 if neither is one. */
static inline int mp__sel_newest(const struct mp__sel_copy c[2])
{
    if (!c[1].cand) {
        return c[0].cand ? 0 : -1;
    }
    return !c[0].cand || c[1].gen > c[0].gen ? 1 : 0;
}

/* Fill order[0..2) with the copies to try, first to last; the caller skips
 * those that are not candidates. */
static inline void mp__sel_order(const struct mp__sel_copy c[2],
                                 const struct mp__sel_record *r, int order[2])
{
    int x = mp__sel_named(c, r), first;
    if (x >= 0) {
        first = mp__sel_successor(c, x) ? 1 - x : x;
    } else {
        first = mp__sel_newest(c);
        first = first < 0 ? 0 : first;
    }
    order[0] = first;
    order[1] = 1 - first;
}

/* The reason for taking copy `chosen` (enum mp_recovery_reason). */
static inline int mp__sel_reason(const struct mp__sel_copy c[2],
                                 const struct mp__sel_record *r, int chosen)
{
    int x = mp__sel_named(c, r), n = mp__sel_newest(c);
    if (x >= 0 && mp__sel_successor(c, x)) {
        return chosen == x ? MP_RECOVERY_ONE_FLUSH_FALLBACK
                           : MP_RECOVERY_ONE_FLUSH;
    }
    if (x == chosen) {
        return MP_RECOVERY_RECORD;
    }
    if (!r->ok) {
        return MP_RECOVERY_TORN_RECORD;
    }
    if (n >= 0 && c[n].one_flush) {
        return chosen == n ? MP_RECOVERY_ONE_FLUSH
                           : MP_RECOVERY_ONE_FLUSH_FALLBACK;
    }
    return MP_RECOVERY_BAD_SELECTED;
}

#endif /* MP_RULES_H */
