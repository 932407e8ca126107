/*
 * model_compare.c - an open pager against a state of the model, through
 * the public API only (iterators, get calls, counters), so the comparison
 * sees what a user of the library would see.
 */
#include <inttypes.h>
#include <string.h>

#include "model_internal.h"

/* First byte of p[0, n) that is not b, or n. */
static size_t first_not(const unsigned char *p, size_t n, unsigned char b)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != b) {
            return i;
        }
    }
    return n;
}

static int compare_regular(const struct mph_state *s, mp_pager *p,
                           struct mph_diff *d)
{
    mp_iter it;
    uint64_t pg, k = 0;
    int rc = mp_iter_pages(&it, p);
    if (rc != MP_OK) {
        return rc;
    }
    while (mp_iter_next(&it, &pg)) {
        if (k < s->nreg && s->reg[k] == pg) {
            k++;
            continue;
        }
        if (k < s->nreg && s->reg[k] < pg) {
            mph_diff_set(d, MPH_RULE_ATOMIC, s->reg[k],
                         "page %" PRIu64 ": expected an allocated regular "
                         "page, found it not allocated (or internal)",
                         s->reg[k]);
        } else {
            mph_diff_set(d, MPH_RULE_ATOMIC, pg,
                         "page %" PRIu64 ": expected free, found it "
                         "allocated as a regular page",
                         pg);
        }
        mp_iter_finish(&it);
        return MP_OK;
    }
    if (k < s->nreg) {
        mph_diff_set(d, MPH_RULE_ATOMIC, s->reg[k],
                     "page %" PRIu64 ": expected an allocated regular page, "
                     "found it not allocated (or internal)",
                     s->reg[k]);
    }
    return MP_OK;
}

static int compare_protected(const struct mph_model *m,
                             const struct mph_state *s, mp_pager *p,
                             unsigned flags, struct mph_diff *d)
{
    mp_iter it;
    uint64_t id, k = 0;
    int rc = mp_iter_protected(&it, p);
    if (rc != MP_OK) {
        return rc;
    }
    while (mp_iter_next(&it, &id)) {
        if (k < s->nprot && s->prot[k].id == id) {
            k++;
            continue;
        }
        if (k < s->nprot && s->prot[k].id < id) {
            id = s->prot[k].id;
            mph_diff_set(d, MPH_RULE_ATOMIC, id,
                         "protected P%" PRIu64 ": expected in use, found "
                         "free",
                         id & ~MP_ID_KIND_MASK);
        } else {
            mph_diff_set(d, MPH_RULE_ATOMIC, id,
                         "protected P%" PRIu64 ": expected free, found in "
                         "use",
                         id & ~MP_ID_KIND_MASK);
        }
        mp_iter_finish(&it);
        return MP_OK;
    }
    if (k < s->nprot) {
        mph_diff_set(d, MPH_RULE_ATOMIC, s->prot[k].id,
                     "protected P%" PRIu64 ": expected in use, found free",
                     s->prot[k].id & ~MP_ID_KIND_MASK);
        return MP_OK;
    }
    for (k = 0; !(flags & MPH_CMP_NO_PROTECTED_BYTES) && k < s->nprot; k++) {
        const unsigned char *want = m->blobs[s->prot[k].blob];
        const unsigned char *got;
        const void *vp;
        size_t at;
        rc = mp_protected_get(p, s->prot[k].id, &vp);
        got = vp;
        if (rc != MP_OK) {
            mph_diff_set(d, MPH_RULE_ATOMIC, s->prot[k].id,
                         "protected P%" PRIu64 ": get failed: %s",
                         s->prot[k].id & ~MP_ID_KIND_MASK, mp_error_name(rc));
            return MP_OK;
        }
        if (memcmp(want, got, m->ps) == 0) {
            continue;
        }
        for (at = 0; want[at] == got[at]; at++) {
        }
        mph_diff_set(d, MPH_RULE_PROTECTED, s->prot[k].id,
                     "protected P%" PRIu64 ": byte %zu expected 0x%02x, "
                     "found 0x%02x",
                     s->prot[k].id & ~MP_ID_KIND_MASK, at, want[at], got[at]);
        return MP_OK;
    }
    return MP_OK;
}

static void compare_data(const struct mph_state *s, mp_pager *p, size_t ps,
                         unsigned flags, struct mph_diff *d)
{
    for (uint64_t k = 0; k < s->ndata; k++) {
        const struct mph_pdata *pd = &s->data[k];
        const void *bytes;
        unsigned want;
        size_t at;
        bool vol =
            (flags & MPH_CMP_VOLATILE) && (pd->flags & MPH_DATA_VOLATILE);
        bool dur = (flags & MPH_CMP_DURABLE) && (pd->flags & MPH_DATA_DURABLE);
        if (!vol && !dur) {
            continue;
        }
        want = vol ? pd->vbyte : pd->dbyte;
        if (mp_pager_get(p, pd->page, &bytes) != MP_OK) {
            continue; /* compare_regular reports the page itself */
        }
        at = first_not(bytes, ps, (unsigned char)want);
        if (at < ps) {
            mph_diff_set(d, MPH_RULE_ATOMIC, pd->page,
                         "page %" PRIu64 ": %s bytes 0x%02x, byte %zu "
                         "found 0x%02x",
                         pd->page, vol ? "expected written" : "synced", want,
                         at, ((const unsigned char *)bytes)[at]);
            return;
        }
    }
}

int mph_state_compare(const struct mph_model *m, const struct mph_state *s,
                      mp_pager *p, unsigned flags, struct mph_diff *d)
{
    uint64_t count = mp_pager_page_count(p);
    uint64_t internal = mp_pager_internal_count(p);
    uint64_t free_pages = mp_pager_free_count(p);
    int rc;

    mph_diff_clear(d);
    if (count != s->page_count) {
        mph_diff_set(d, MPH_RULE_ATOMIC, MPH_ID_UNSET,
                     "page count: expected %" PRIu64 ", found %" PRIu64,
                     s->page_count, count);
        return MP_OK;
    }
    rc = compare_regular(s, p, d);
    if (rc == MP_OK && d->rule == MPH_RULE_NONE) {
        rc = compare_protected(m, s, p, flags, d);
    }
    if (rc != MP_OK || d->rule != MPH_RULE_NONE) {
        return rc;
    }
    compare_data(s, p, m->ps, flags, d);
    if (d->rule != MPH_RULE_NONE) {
        return MP_OK;
    }
    if (mp_protected_count(p) != s->nprot) {
        mph_diff_set(d, MPH_RULE_STRUCTURE, MPH_ID_UNSET,
                     "protected count %" PRIu64 ", iterator found %" PRIu64,
                     mp_protected_count(p), s->nprot);
    } else if (MP_RESERVED_PAGES + s->nreg + internal + free_pages != count) {
        mph_diff_set(d, MPH_RULE_STRUCTURE, MPH_ID_UNSET,
                     "counts do not add up: 3 reserved + %" PRIu64
                     " regular + %" PRIu64 " internal + %" PRIu64
                     " free != %" PRIu64 " pages",
                     s->nreg, internal, free_pages, count);
    }
    return MP_OK;
}
