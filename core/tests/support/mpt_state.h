/*
 * mpt_state.h - a pager's full observable state, captured through the
 * public API only, and an exact comparison of two captures. "Memory tells
 * the truth" (pager.h) is tested by comparing what an open pager reports
 * after a failed call with the state before the call and with what a
 * reopen, or a crash image, shows.
 *
 * Captured: page count, free count, protected count, internal count; for
 * every page below the page count the code mp_pager_get returns (allocated,
 * free, reserved, internal) and that mp_pager_get_mut agrees; the regular
 * and protected iterators; for every protected slot up to a margin past the
 * highest one in use the code mp_protected_get returns and a hash of the
 * committed bytes. Not captured: the bytes of regular pages (the caller's,
 * never synced by the pager) and staged writes (begin would change them).
 *
 * Header-only (static inline), so both the core's tests and faultfs's
 * tests use it without another library. Uses malloc: the pager's memory
 * hooks must not be failing while a capture runs.
 */
#ifndef MPT_STATE_H
#define MPT_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mappedpages.h"

/* Protected slots probed past the highest slot in use. */
#define MPT_STATE_SLOT_MARGIN 8

struct mpt_state {
    uint64_t page_count, free_count, prot_count, internal_count;
    signed char *get_rc; /* page_count codes of mp_pager_get */
    int mut_mismatch;    /* first page + 1 where get_mut disagreed, or 0 */
    int iter_rc, piter_rc;
    uint64_t *pages, npages; /* the regular-page iterator */
    uint64_t *prot, nprot;   /* the protected iterator */
    uint64_t nslots;         /* protected slots probed */
    signed char *prot_rc;    /* mp_protected_get per slot */
    uint64_t *prot_hash;     /* hash of the committed bytes per slot */
};

/* FNV-1a over 8-byte words (page sizes are multiples of 8): every byte
 * counts, at an eighth of the bytewise cost under valgrind. */
static inline uint64_t mpt__fnv(const unsigned char *b, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

static inline void *mpt__grow(void *v, uint64_t *cap, uint64_t n, size_t el)
{
    if (n < *cap) {
        return v;
    }
    *cap = *cap ? *cap * 2 : 64;
    v = realloc(v, (size_t)*cap * el);
    if (!v) {
        abort();
    }
    return v;
}

/* Capture p's observable state into *s (release with mpt_state_free). */
static inline void mpt_state_capture(mp_pager *p, struct mpt_state *s)
{
    uint64_t cap = 0, id, top = 0;
    size_t ps = mp_pager_page_size(p);
    mp_iter it;

    memset(s, 0, sizeof(*s));
    s->page_count = mp_pager_page_count(p);
    s->free_count = mp_pager_free_count(p);
    s->prot_count = mp_protected_count(p);
    s->internal_count = mp_pager_internal_count(p);
    s->get_rc = malloc((size_t)s->page_count + 1);
    if (!s->get_rc) {
        abort();
    }
    for (uint64_t pg = 0; pg < s->page_count; pg++) {
        const void *r;
        void *w;
        int rc = mp_pager_get(p, pg, &r);
        s->get_rc[pg] = (signed char)rc;
        if (!mp_pager_is_readonly(p) && mp_pager_get_mut(p, pg, &w) != rc &&
            !s->mut_mismatch) {
            s->mut_mismatch = (int)pg + 1;
        }
    }
    s->iter_rc = mp_iter_pages(&it, p);
    if (s->iter_rc == MP_OK) {
        while (mp_iter_next(&it, &id)) {
            s->pages = mpt__grow(s->pages, &cap, s->npages, sizeof(id));
            s->pages[s->npages++] = id;
        }
    }
    cap = 0;
    s->piter_rc = mp_iter_protected(&it, p);
    if (s->piter_rc == MP_OK) {
        while (mp_iter_next(&it, &id)) {
            uint64_t slot = id & ~MP_ID_KIND_MASK;
            s->prot = mpt__grow(s->prot, &cap, s->nprot, sizeof(id));
            s->prot[s->nprot++] = id;
            top = slot + 1 > top ? slot + 1 : top;
        }
    }
    s->nslots = top + MPT_STATE_SLOT_MARGIN;
    s->prot_rc = malloc((size_t)s->nslots);
    s->prot_hash = calloc((size_t)s->nslots, sizeof(uint64_t));
    if (!s->prot_rc || !s->prot_hash) {
        abort();
    }
    for (uint64_t slot = 0; slot < s->nslots; slot++) {
        const void *b;
        int rc = mp_protected_get(p, MP_ID_KIND_PROTECT | slot, &b);
        s->prot_rc[slot] = (signed char)rc;
        if (rc == MP_OK) {
            s->prot_hash[slot] = mpt__fnv(b, ps);
        }
    }
}

static inline void mpt_state_free(struct mpt_state *s)
{
    free(s->get_rc);
    free(s->pages);
    free(s->prot);
    free(s->prot_rc);
    free(s->prot_hash);
    memset(s, 0, sizeof(*s));
}

/*
 * Compare exactly. @return NULL if a and b are equal; otherwise what
 * differs first, written into buf (len bytes).
 */
static inline const char *mpt_state_diff(const struct mpt_state *a,
                                         const struct mpt_state *b, char *buf,
                                         size_t len)
{
#define MPT__NUM(f)                                                 \
 if (a->f != b->f) {                                                \
  snprintf(buf, len, #f ": %llu vs %llu", (unsigned long long)a->f, \
           (unsigned long long)b->f);                               \
  return buf;                                                       \
 }
    MPT__NUM(page_count)
    MPT__NUM(free_count)
    MPT__NUM(prot_count)
    MPT__NUM(internal_count)
    MPT__NUM(iter_rc)
    MPT__NUM(piter_rc)
    MPT__NUM(npages)
    MPT__NUM(nprot)
    MPT__NUM(nslots)
#undef MPT__NUM
    if (a->mut_mismatch || b->mut_mismatch) {
        snprintf(buf, len, "get_mut disagrees with get at page %d",
                 (a->mut_mismatch ? a->mut_mismatch : b->mut_mismatch) - 1);
        return buf;
    }
    for (uint64_t pg = 0; pg < a->page_count; pg++) {
        if (a->get_rc[pg] != b->get_rc[pg]) {
            snprintf(buf, len, "mp_pager_get(%llu): %s vs %s",
                     (unsigned long long)pg, mp_error_name(a->get_rc[pg]),
                     mp_error_name(b->get_rc[pg]));
            return buf;
        }
    }
    for (uint64_t i = 0; i < a->npages; i++) {
        if (a->pages[i] != b->pages[i]) {
            snprintf(buf, len, "page iterator item %llu: %llu vs %llu",
                     (unsigned long long)i, (unsigned long long)a->pages[i],
                     (unsigned long long)b->pages[i]);
            return buf;
        }
    }
    for (uint64_t i = 0; i < a->nprot; i++) {
        if (a->prot[i] != b->prot[i]) {
            snprintf(buf, len, "protected iterator item %llu differs",
                     (unsigned long long)i);
            return buf;
        }
    }
    for (uint64_t slot = 0; slot < a->nslots; slot++) {
        if (a->prot_rc[slot] != b->prot_rc[slot] ||
            a->prot_hash[slot] != b->prot_hash[slot]) {
            snprintf(buf, len, "protected slot %llu: %s vs %s%s",
                     (unsigned long long)slot, mp_error_name(a->prot_rc[slot]),
                     mp_error_name(b->prot_rc[slot]),
                     a->prot_hash[slot] != b->prot_hash[slot]
                         ? " (content differs)"
                         : "");
            return buf;
        }
    }
    return NULL;
}

/*
 * What p shows now against want: mpt_state_diff() of a capture of p.
 * @return NULL if equal; otherwise what differs first, written into buf.
 */
static inline const char *mpt_state_diff_pager(const struct mpt_state *want,
                                               mp_pager *p, char *buf,
                                               size_t len)
{
    struct mpt_state got;
    const char *d;
    mpt_state_capture(p, &got);
    d = mpt_state_diff(want, &got, buf, len);
    mpt_state_free(&got);
    return d;
}

#endif /* MPT_STATE_H */
