/*
 * check_cross.c - the cross-check: open the file read-only with the
 * production core and compare what it says with what the checker found.
 *
 * Compared: open's result; the copy recovery took, its reason and
 * generation; each copy's header generation; the page, free, internal and
 * protected counts; and the two iterators, page by page, against the
 * checker's own map: the regular-page iterator must yield exactly the
 * allocated pages no structure owns, the protected iterator exactly the
 * directory entries in use, with mp_protected_get() on the committed copy,
 * and no page may come out of both.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "internal.h" /* the pager's mapping base, to name pages */

static void differ(struct mph_check_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void differ(struct mph_check_report *r, const char *fmt, ...)
{
    char text[MPH_CHECK_MSG_LEN - 16];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    r->cross_check = MPH_CROSS_DISAGREES;
    mph__ck_msg(r, MPH_CHECK_CORRUPT, "core disagrees: %s", text);
}

static void compare_recovery(const mp_pager *p, struct mph_check_report *r)
{
    struct mp_recovery_info ri;
    mp_pager_recovery(p, &ri);
    if (ri.chosen_copy != r->recovery_would_choose ||
        ri.reason != r->recovery_reason) {
        differ(r,
               "recovery took copy %d (reason %d), the checker "
               "predicts copy %d (reason %d)",
               ri.chosen_copy, ri.reason, r->recovery_would_choose,
               r->recovery_reason);
    }
    if (ri.generation != r->generation) {
        differ(r, "generation %" PRIu64 ", the checker says %" PRIu64,
               ri.generation, r->generation);
    }
    for (int c = 0; c < 2; c++) {
        uint64_t want = r->copy[c].header_ok ? r->copy[c].generation : 0;
        if (ri.copy_generation[c] != want) {
            differ(r,
                   "copy %d header generation %" PRIu64
                   ", the checker says %" PRIu64,
                   c, ri.copy_generation[c], want);
        }
    }
}

static void compare_counts(const mp_pager *p, const struct mph__ck_copy *u,
                           struct mph_check_report *r)
{
    uint64_t internal = u->inset_n + 2 * u->tree[MPH_CK_TREE_MAP].leaves;
    if (mp_pager_page_size(p) != r->page_size ||
        mp_pager_page_count(p) != r->page_count ||
        mp_pager_free_count(p) != r->free_count) {
        differ(r,
               "page size/count/free %zu/%" PRIu64 "/%" PRIu64
               ", the checker says %" PRIu64 "/%" PRIu64 "/%" PRIu64,
               mp_pager_page_size(p), mp_pager_page_count(p),
               mp_pager_free_count(p), r->page_size, r->page_count,
               r->free_count);
    }
    if (mp_pager_internal_count(p) != internal) {
        differ(r, "%" PRIu64 " internal pages, the checker counts %" PRIu64,
               mp_pager_internal_count(p), internal);
    }
    if (mp_protected_count(p) != u->in_use) {
        differ(r, "%" PRIu64 " protected pages, the checker counts %" PRIu64,
               mp_protected_count(p), u->in_use);
    }
}

/* The protected iterator; marks each committed copy in seen. */
static void compare_protected(const mp_pager *p, const struct mph__ck_copy *u,
                              uint64_t *seen, struct mph_check_report *r)
{
    uint64_t id, n = 0;
    mp_iter it;
    int rc;

    if (mp_iter_protected(&it, p) != MP_OK) {
        differ(r, "mp_iter_protected failed");
        return;
    }
    while (mp_iter_next(&it, &id)) {
        uint64_t s = id & ~MP_ID_KIND_MASK, pg;
        const void *data;
        n++;
        if ((id & MP_ID_KIND_MASK) != MP_ID_KIND_PROTECT || s >= u->h.slots ||
            !u->prot[s]) {
            differ(r,
                   "protected iterator yields 0x%016" PRIx64
                   ", not an entry in use",
                   id);
            break;
        }
        rc = mp_protected_get(p, id, &data);
        if (rc != (u->prot_bad[s] ? MP_ECORRUPT : MP_OK)) {
            differ(r,
                   "mp_protected_get(slot %" PRIu64 ") returns %s, the "
                   "checker predicts %s",
                   s, mp_error_name(rc),
                   u->prot_bad[s] ? "MP_ECORRUPT" : "MP_OK");
            break;
        }
        if (rc != MP_OK) {
            continue;
        }
        pg = (uint64_t)((const unsigned char *)data - p->base) / p->page_size;
        if (pg != u->prot[s]) {
            differ(r,
                   "protected slot %" PRIu64 " reads page %" PRIu64
                   ", the directory's committed copy is page %" PRIu64,
                   s, pg, u->prot[s]);
            break;
        }
        mph__ck_set(seen, pg);
    }
    mp_iter_finish(&it);
    if (r->cross_check != MPH_CROSS_DISAGREES && n != u->in_use) {
        differ(r,
               "protected iterator yields %" PRIu64
               " pages, the directory has %" PRIu64,
               n, u->in_use);
    }
}

static void compare_pages(const mp_pager *p, const struct mph__ck_copy *u,
                          const uint64_t *seen, struct mph_check_report *r)
{
    uint64_t pg, n = 0, last = 0;
    mp_iter it;

    if (mp_iter_pages(&it, p) != MP_OK) {
        differ(r, "mp_iter_pages failed");
        return;
    }
    while (mp_iter_next(&it, &pg)) {
        n++;
        if (pg >= u->h.total || (n > 1 && pg <= last)) {
            differ(r,
                   "page iterator yields %" PRIu64 " out of order or "
                   "range",
                   pg);
            break;
        }
        last = pg;
        if (!mph__ck_bit(u->map, pg) || mph__ck_bit(u->owned, pg)) {
            differ(r, "page iterator yields page %" PRIu64 ", which is %s", pg,
                   mph__ck_bit(u->map, pg) ? "internal or reserved" : "free");
            break;
        }
        if (mph__ck_bit(seen, pg)) {
            differ(r, "page %" PRIu64 " comes out of both iterators", pg);
            break;
        }
    }
    mp_iter_finish(&it);
    if (r->cross_check != MPH_CROSS_DISAGREES && n != u->regular) {
        differ(r,
               "page iterator yields %" PRIu64
               " pages, the checker counts %" PRIu64 " regular pages",
               n, u->regular);
    }
}

/* The device rule (FORMAT.md 2.3): the read-only open applies none, so
 * say what a writer would meet, naming both sizes. */
static void device(const mp_pager *p, struct mph_check_report *r)
{
    struct mp_io_device dev;
    mp_pager_device(p, &dev);
    r->device_sector = dev.sector_size;
    r->device_flags = dev.flags;
    if (r->page_size < dev.sector_size && !(dev.flags & MP_IO_DEV_POWERSAFE)) {
        mph__ck_msg(r, MPH_CHECK_CLEAN,
                    "device: pages of %" PRIu64
                    " bytes are smaller than the device's %" PRIu32
                    "-byte power-fail unit, which is not power-safe: a "
                    "read-write open fails with MP_EDEVICE",
                    r->page_size, dev.sector_size);
    }
}

void mph__ck_cross(const struct mp_vfs *vfs, const char *path, size_t want_ps,
                   const struct mph__ck_copy *chosen,
                   struct mph_check_report *r)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    uint64_t *seen;
    int rc;

    mp_options_init(&opt);
    opt.vfs = vfs;
    opt.flags = MP_OPEN_READONLY | MP_OPEN_NOLOCK;
    /* Read-only never grows: reserving the file's length is enough, and
     * keeps valgrind runs fast. */
    opt.reserve_bytes = r->file_bytes ? r->file_bytes : 1;
    rc = mp_pager_open(path, want_ps, &opt, &p);
    if (rc != r->open_error) {
        if (r->open_error == MP_OK &&
            (rc == MP_ENOMEM || rc == MP_EIO || rc == MP_ENOENT)) {
            r->cross_check = MPH_CROSS_UNAVAILABLE;
            mph__ck_msg(r, MPH_CHECK_CLEAN, "cross-check not run: open: %s",
                        mp_error_name(rc));
        } else {
            differ(r, "mp_pager_open returns %s, the checker predicts %s",
                   mp_error_name(rc), mp_error_name(r->open_error));
        }
        mp_pager_close(p);
        return;
    }
    r->cross_check = MPH_CROSS_AGREES;
    if (rc != MP_OK) {
        return;
    }
    device(p, r);
    compare_recovery(p, r);
    if (chosen && r->cross_check == MPH_CROSS_AGREES) {
        compare_counts(p, chosen, r);
        seen = calloc((size_t)chosen->words ? (size_t)chosen->words : 1,
                      sizeof(uint64_t));
        if (!seen) {
            r->cross_check = MPH_CROSS_UNAVAILABLE;
            mph__ck_msg(r, MPH_CHECK_CLEAN, "cross-check cut short: no memory");
        } else {
            compare_protected(p, chosen, seen, r);
            compare_pages(p, chosen, seen, r);
            free(seen);
        }
    }
    mp_pager_close(p);
}
