/*
 * fuzz_subpage.c - the subpage target's checks after the model-checked
 * workload, on a reopened pager (mappedpages/subpage.h):
 *  - a new allocator refuses bad rebuild lists (duplicate, another tag, a
 *    slot past the slots per parent, a regular id, a reserved parent) and
 *    stays empty after each refusal;
 *  - the model's ids rebuild it, and mp_subpage_ids() gives them back;
 *  - every slot holds its own bytes: fill all, then read all back (two
 *    slots or two allocators sharing bytes would show here), also through
 *    the generic interface (mappedpages/allocator.h);
 *  - freeing every slot in one bulk call returns every parent page to the
 *    pager, and the file checks clean after close.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mph/check.h"

struct sub_run {
    const char *target;
    const struct mph_workload *w;
};

static void refuse(const struct sub_run *s, mp_subpage *sp, const char *what,
                   const uint64_t *ids, size_t n, int want)
{
    int rc = mp_subpage_rebuild(sp, ids, n);
    if (rc != want || mp_subpage_count(sp) != 0) {
        fz_fail(s->target, s->w,
                "rebuild with %s returned %s (expected %s), %llu slots "
                "live after",
                what, mp_error_name(rc), mp_error_name(want),
                (unsigned long long)mp_subpage_count(sp));
    }
}

static void bad_lists(const struct sub_run *s, mp_subpage *sp,
                      const uint64_t *ids, size_t n)
{
    const uint64_t page_mask =
        ((((uint64_t)1 << MP_SUBPAGE_PAGE_BITS) - 1) << MP_SUBPAGE_PAGE_SHIFT);
    unsigned slots = mp_subpage_slots_per_parent(sp);
    uint64_t bad[2];
    if (n == 0) {
        return;
    }
    bad[0] = bad[1] = ids[0];
    refuse(s, sp, "a duplicate", bad, 2, MP_EDUPLICATE);
    bad[0] = ids[0] ^ ((uint64_t)1 << MP_SUBPAGE_TAG_SHIFT);
    refuse(s, sp, "another allocator's tag", bad, 1, MP_ENOTOWNER);
    bad[0] = ids[0] & ~MP_ID_KIND_MASK;
    refuse(s, sp, "a regular page id", bad, 1, MP_EWRONGKIND);
    bad[0] = (ids[0] & ~page_mask) | ((uint64_t)1 << MP_SUBPAGE_PAGE_SHIFT);
    refuse(s, sp, "a reserved parent", bad, 1, MP_ERESERVED);
    if (slots < MP_SUBPAGE_MAX_SLOTS) {
        bad[0] = (ids[0] & ~(uint64_t)(MP_SUBPAGE_MAX_SLOTS - 1)) | slots;
        refuse(s, sp, "a slot past the parent", bad, 1, MP_EOUTOFBOUNDS);
    }
}

/* The byte slot i of allocator k is filled with. */
static unsigned char pattern(size_t k, size_t i)
{
    return (unsigned char)(0x11 + 37 * k + 11 * i);
}

static void fill_and_verify(const struct sub_run *s, mp_subpage **sp,
                            uint64_t **ids, const size_t *n, size_t nsubs)
{
    struct mp_allocator a;
    const void *got;
    void *b;
    int rc;

    for (size_t k = 0; k < nsubs; k++) {
        size_t sz = mp_subpage_slot_size(sp[k]);
        for (size_t i = 0; i < n[k]; i++) {
            rc = mp_subpage_get_mut(sp[k], ids[k][i], &b);
            if (rc != MP_OK) {
                fz_fail(s->target, s->w, "get_mut of a rebuilt slot: %s",
                        mp_error_name(rc));
            }
            memset(b, pattern(k, i), sz);
        }
    }
    for (size_t k = 0; k < nsubs; k++) {
        size_t sz = mp_subpage_slot_size(sp[k]);
        if (mp_allocator_subpage(sp[k], &a) != MP_OK) {
            fz_fail(s->target, s->w, "mp_allocator_subpage failed");
        }
        for (size_t i = 0; i < n[k]; i++) {
            const unsigned char *p;
            rc = mp_allocator_get(&a, ids[k][i], &got);
            if (rc != MP_OK) {
                fz_fail(s->target, s->w, "generic get of a slot: %s",
                        mp_error_name(rc));
            }
            p = got;
            for (size_t j = 0; j < sz; j++) {
                if (p[j] != pattern(k, i)) {
                    fz_fail(s->target, s->w,
                            "slot %zu of the %zu-byte allocator: byte %zu "
                            "holds 0x%02x, not its own 0x%02x: slots overlap",
                            i, sz, j, p[j], pattern(k, i));
                }
            }
        }
    }
}

int fz_subpage_check(const char *target, const struct mph_workload *w,
                     const struct mph_model *m, faultfs *fs)
{
    struct sub_run s = { target, w };
    size_t nsubs = mph_model_sub_count(m), k;
    mp_subpage **sp = calloc(nsubs + 1, sizeof(*sp));
    uint64_t **ids = calloc(nsubs + 1, sizeof(*ids));
    size_t *n = calloc(nsubs + 1, sizeof(*n));
    uint64_t parents = 0, free_before;
    struct mph_check_report rep;
    struct mp_options opt;
    mp_pager *p = NULL;
    int rc = MP_ENOMEM;

    if (!sp || !ids || !n) {
        goto out;
    }
    mp_options_init(&opt);
    opt.vfs = faultfs_vfs(fs);
    opt.reserve_bytes = FZ_RESERVE;
    rc = mp_pager_open(FZ_PATH, FZ_PAGE, &opt, &p);
    if (rc == MP_ENOMEM) {
        goto out;
    }
    if (rc != MP_OK) {
        fz_fail(target, w, "reopen after the workload: %s", mp_error_name(rc));
    }
    for (k = 0; k < nsubs; k++) {
        size_t size;
        uint64_t *got;
        size_t ng;
        rc = mph_model_sub_ids(m, k, &size, &ids[k], &n[k]);
        if (rc == MP_OK) {
            rc = mp_subpage_create(p, size, &sp[k]);
        }
        if (rc == MP_ENOMEM) {
            goto out;
        }
        if (rc != MP_OK) {
            fz_fail(target, w, "allocator of %zu-byte slots: %s", size,
                    mp_error_name(rc));
        }
        bad_lists(&s, sp[k], ids[k], n[k]);
        rc = mp_subpage_rebuild(sp[k], ids[k], n[k]);
        if (rc == MP_ENOMEM) {
            goto out;
        }
        if (rc != MP_OK) {
            fz_fail(target, w, "rebuild of %zu-byte slots from %zu ids: %s",
                    size, n[k], mp_error_name(rc));
        }
        got = malloc((n[k] + 1) * sizeof(*got));
        if (!got) {
            rc = MP_ENOMEM;
            goto out;
        }
        rc = mp_subpage_ids(sp[k], got, n[k], &ng);
        if (rc != MP_OK || ng != n[k] ||
            (ng && memcmp(got, ids[k], ng * sizeof(*got)) != 0)) {
            free(got);
            fz_fail(target, w,
                    "mp_subpage_ids after rebuild differs from "
                    "the rebuild list");
        }
        free(got);
        parents += mp_subpage_parent_count(sp[k]);
    }
    fill_and_verify(&s, sp, ids, n, nsubs);
    free_before = mp_pager_free_count(p);
    for (k = 0; k < nsubs; k++) {
        if (n[k] == 0) {
            continue;
        }
        rc = mp_subpage_free_bulk(sp[k], ids[k], n[k]);
        if (rc != MP_OK || mp_subpage_count(sp[k]) != 0 ||
            mp_subpage_parent_count(sp[k]) != 0) {
            fz_fail(target, w,
                    "freeing all %zu slots of the %zu-byte allocator: %s, "
                    "%llu parents left",
                    n[k], mp_subpage_slot_size(sp[k]), mp_error_name(rc),
                    (unsigned long long)mp_subpage_parent_count(sp[k]));
        }
    }
    if (mp_pager_free_count(p) != free_before + parents) {
        fz_fail(target, w,
                "freeing every slot gave back %llu pages, the allocators "
                "held %llu parents",
                (unsigned long long)(mp_pager_free_count(p) - free_before),
                (unsigned long long)parents);
    }
    for (k = 0; k < nsubs; k++) {
        mp_subpage_destroy(sp[k]);
        sp[k] = NULL;
    }
    mp_pager_close(p);
    p = NULL;
    rc = mph_check_file(faultfs_vfs(fs), FZ_PATH, FZ_PAGE, &rep);
    if (rc == MP_OK && rep.verdict != MPH_CHECK_CLEAN) {
        fz_fail(target, w, "after freeing every slot the checker says %s: %s",
                mph_check_verdict_name(rep.verdict), rep.problem);
    }
out:
    for (k = 0; sp && k < nsubs; k++) {
        mp_subpage_destroy(sp[k]);
    }
    mp_pager_close(p);
    for (k = 0; ids && k < nsubs; k++) {
        free(ids[k]);
    }
    free(sp);
    free(ids);
    free(n);
    return rc == MP_ENOMEM ? rc : MP_OK;
}
