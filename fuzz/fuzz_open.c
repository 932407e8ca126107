/*
 * fuzz_open.c - the open target: a hostile file image against open.
 *
 * Rules (DESIGN.md: "every on-disk number is validated before use; a
 * hostile file gets a clear error code"):
 *  - open returns MP_OK or a corruption code (MP_ECORRUPT_SUPER,
 *    MP_EVERSION, MP_EPAGESIZE, MP_ECORRUPT_META, MP_ECORRUPT), and the
 *    same code the independent checker (harness/check) predicts from the
 *    bytes, with the same recovery choice when it opens;
 *  - when it opens, the checker's cross-check with the core agrees, and
 *    if the checker finds nothing corrupt a short workload succeeds and
 *    leaves a file the checker finds clean (read-only opens: reads work,
 *    writes are refused);
 *  - when the checker finds damage open does not look for (a protected
 *    page's bytes, reserved bytes), the workload may fail, but only with
 *    an error code.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mph/check.h"
#include "mph/failmem.h"

struct open_run {
    const char *target;
    faultfs *fs;
    size_t ps;   /* expected page size (0: the file's) */
    bool strict; /* the checker found nothing corrupt */
    bool readonly;
    bool shared;            /* run the workload through mp_shared */
    bool tight;             /* reserve no address space beyond the file */
    struct mph_failmem mem; /* the ENOMEM paths of recovery and commits */
};

/* Results must be exact: a sound file and no allocation failed. */
static bool exact(const struct open_run *o)
{
    return o->strict && !o->mem.fired;
}

static bool corruption_code(int rc)
{
    return rc == MP_ECORRUPT_SUPER || rc == MP_EVERSION || rc == MP_EPAGESIZE ||
           rc == MP_ECORRUPT_META || rc == MP_ECORRUPT;
}

static void options(struct open_run *o, struct mp_options *opt, bool readonly,
                    bool hooks)
{
    mp_options_init(opt);
    opt->vfs = faultfs_vfs(o->fs);
    /* Tight: a reservation below the file's size means exactly the file,
     * so every growth must fail with MP_ELIMIT (or, if the backend
     * rounds the reservation up, succeed). */
    opt->reserve_bytes = hooks && o->tight ? 1 : FZ_RESERVE;
    opt->flags = readonly ? MP_OPEN_READONLY : 0;
    if (hooks && o->mem.armed) {
        mph_failmem_hooks(&o->mem, &opt->mem);
    }
}

/* A call of the workload returned rc; in strict mode it must be want. */
static void expect(const struct open_run *o, const char *what, int rc, int want)
{
    if (rc == want) {
        return;
    }
    if (exact(o) || rc > 0 || rc < MP_ERROR_MIN) {
        fz_fail(o->target, NULL, "image opened%s; %s returned %s, expected %s",
                exact(o) ? " and the checker found it sound" : "", what,
                mp_error_name(rc), mp_error_name(want));
    }
}

/* A call that may need to grow the file: MP_ELIMIT is also right when
 * the reservation is tight. */
static void expect_alloc(const struct open_run *o, const char *what, int rc)
{
    expect(o, what, rc, o->tight && rc == MP_ELIMIT ? MP_ELIMIT : MP_OK);
}

/* Every page both iterators give, read; the batch form must give the
 * same ids as one at a time. */
static void read_all(const struct open_run *o, const mp_pager *p)
{
    uint64_t id, batch[7];
    const void *bytes;
    mp_iter it, bt;
    size_t nb = 0, k = 0;
    int rc = mp_iter_pages(&it, p);
    expect(o, "mp_iter_pages", rc, MP_OK);
    if (rc == MP_OK) {
        rc = mp_iter_pages(&bt, p);
        expect(o, "a second mp_iter_pages", rc, MP_OK);
        if (rc != MP_OK) {
            mp_iter_finish(&it);
        }
    }
    while (rc == MP_OK && mp_iter_next(&it, &id)) {
        expect(o, "mp_pager_get of an iterated page",
               mp_pager_get(p, id, &bytes), MP_OK);
        if (k == nb) {
            nb = mp_iter_next_batch(&bt, batch, 7);
            k = 0;
        }
        if (k >= nb || batch[k++] != id) {
            fz_fail(o->target, NULL,
                    "mp_iter_next_batch disagrees with "
                    "mp_iter_next at page %llu",
                    (unsigned long long)id);
        }
    }
    if (rc == MP_OK && (k < nb || mp_iter_next_batch(&bt, batch, 7) != 0)) {
        fz_fail(o->target, NULL,
                "mp_iter_next_batch gives more pages than "
                "mp_iter_next");
    }
    rc = mp_iter_protected(&it, p);
    expect(o, "mp_iter_protected", rc, MP_OK);
    while (rc == MP_OK && mp_iter_next(&it, &id)) {
        expect(o, "mp_protected_get of an iterated page",
               mp_protected_get(p, id, &bytes), MP_OK);
    }
}

/* One page more than are free: a growth in the same commit; then all
 * freed again. */
static void grow_past_end(const struct open_run *o,
                          const struct mp_allocator *reg, mp_pager *p)
{
    uint64_t ids[257], want = mp_pager_free_count(p) + 1;
    int rc;
    if (want > 256) {
        return;
    }
    rc = mp_allocator_alloc_bulk(reg, (size_t)want, ids);
    expect_alloc(o, "alloc_bulk past the free pages", rc);
    if (rc == MP_OK) {
        expect(o, "free_bulk of them",
               mp_allocator_free_bulk(reg, ids, (size_t)want), MP_OK);
    }
}

/* Sub-page slots on the hostile file: two parents taken and returned. */
static void sub_slots(const struct open_run *o, mp_pager *p)
{
    uint64_t ids[5];
    mp_subpage *sp;
    int rc = mp_subpage_create(p, mp_pager_page_size(p) / 4, &sp);
    expect(o, "subpage create", rc, MP_OK);
    if (rc != MP_OK) {
        return;
    }
    rc = mp_subpage_alloc_bulk(sp, 5, ids);
    expect_alloc(o, "subpage alloc_bulk(5)", rc);
    if (rc == MP_OK) {
        expect(o, "subpage free_bulk", mp_subpage_free_bulk(sp, ids, 5), MP_OK);
        if (exact(o) && mp_subpage_parent_count(sp) != 0) {
            fz_fail(o->target, NULL,
                    "sub-page parents kept after every "
                    "slot was freed");
        }
    }
    mp_subpage_destroy(sp);
}

/* The short workload through the generic allocator interface. */
static void work_generic(struct open_run *o, mp_pager *p)
{
    struct mp_allocator reg, prot;
    uint64_t pages[2] = { 0, 0 }, pid = 0;
    size_t ps = mp_pager_page_size(p);
    const void *got;
    void *bytes;
    int rc;

    expect(o, "mp_allocator_regular", mp_allocator_regular(p, &reg), MP_OK);
    expect(o, "mp_allocator_protected", mp_allocator_protected(p, &prot),
           MP_OK);
    rc = mp_allocator_alloc_bulk(&reg, 2, pages);
    expect_alloc(o, "alloc_bulk(2)", rc);
    if (rc == MP_OK && mp_allocator_get_mut(&reg, pages[1], &bytes) == MP_OK) {
        memset(bytes, 0xA5, ps);
    }
    rc = mp_allocator_alloc(&prot, &pid);
    expect_alloc(o, "protected alloc", rc);
    if (rc == MP_OK) {
        expect(o, "get_mut of a protected page",
               mp_allocator_get_mut(&prot, pid, &bytes), MP_EWRONGKIND);
        rc = mp_protected_begin(p, pid, &bytes);
        expect(o, "protected begin", rc, MP_OK);
    }
    if (rc == MP_OK) {
        memset(bytes, 0x5A, ps);
        rc = mp_protected_commit(p, pid);
        expect(o, "protected commit", rc, MP_OK);
    }
    if (rc == MP_OK) {
        rc = mp_allocator_get(&prot, pid, &got);
        expect(o, "protected get", rc, MP_OK);
        if (rc == MP_OK && exact(o) &&
            ((const unsigned char *)got)[ps - 1] != 0x5A) {
            fz_fail(o->target, NULL,
                    "a committed protected page reads back "
                    "wrong bytes");
        }
        expect(o, "protected free", mp_allocator_free(&prot, pid), MP_OK);
    }
    if (pages[0]) {
        expect(o, "free_bulk", mp_allocator_free_bulk(&reg, pages, 2), MP_OK);
    }
    grow_past_end(o, &reg, p);
    sub_slots(o, p);
}

/* The short workload through the thread-safe wrapper (mappedpages/shared.h). */
/* Bulk calls, growth, an aborted write and the write lock, wrapped. */
static void shared_bulk(const struct open_run *o, mp_shared *sh)
{
    mp_protected_id pids[2];
    uint64_t ids[3];
    mp_pager *wp;
    void *staging;
    int rc = mp_shared_alloc_bulk(sh, 3, ids);
    expect_alloc(o, "shared alloc_bulk(3)", rc);
    if (rc == MP_OK) {
        expect(o, "shared free_bulk", mp_shared_free_bulk(sh, ids, 3), MP_OK);
    }
    rc = mp_shared_protected_alloc_bulk(sh, 2, pids);
    expect_alloc(o, "shared protected alloc_bulk(2)", rc);
    if (rc == MP_OK) {
        rc = mp_shared_protected_begin(sh, pids[1], &staging);
        expect(o, "shared protected begin", rc, MP_OK);
        if (rc == MP_OK) {
            expect(o, "shared protected abort",
                   mp_shared_protected_abort(sh, pids[1]), MP_OK);
        }
        expect(o, "shared protected free_bulk",
               mp_shared_protected_free_bulk(sh, pids, 2), MP_OK);
    }
    rc = mp_shared_try_write_lock(sh, &wp);
    expect(o, "shared try_write_lock", rc, MP_OK);
    if (rc == MP_OK) {
        uint64_t count = mp_pager_page_count(wp);
        mp_shared_write_unlock(sh);
        expect_alloc(o, "shared grow", mp_shared_grow(sh, count + 1));
    }
}

static mp_pager *work_shared(struct open_run *o, mp_pager *p)
{
    struct mp_shared_counts c;
    const void *got;
    unsigned char buf[64], want[64];
    const mp_pager *rp;
    mp_shared *sh;
    mp_protected_id pid = 0;
    mp_pgno pg = 0;
    void *bytes;
    int rc = mp_shared_wrap(p, &sh);

    expect(o, "mp_shared_wrap", rc, MP_OK);
    if (rc != MP_OK) {
        return p;
    }
    rc = mp_shared_alloc(sh, &pg);
    expect_alloc(o, "shared alloc", rc);
    if (rc == MP_OK && mp_shared_get_mut(sh, pg, &bytes) == MP_OK) {
        memset(bytes, 0x3C, sizeof(buf));
        expect(o, "shared sync_pages", mp_shared_sync_pages(sh, pg, 1), MP_OK);
        rc = mp_shared_page_read(sh, pg, buf, sizeof(buf));
        expect(o, "shared page_read", rc, MP_OK);
        memset(want, 0x3C, sizeof(want));
        if (rc == MP_OK && exact(o) && memcmp(buf, want, sizeof(buf)) != 0) {
            fz_fail(o->target, NULL, "mp_shared_page_read: wrong bytes");
        }
    }
    rc = mp_shared_protected_alloc(sh, &pid);
    expect_alloc(o, "shared protected alloc", rc);
    if (rc == MP_OK) {
        memset(want, 0x77, sizeof(want));
        expect(o, "shared protected write",
               mp_shared_protected_write(sh, pid, want, sizeof(want)), MP_OK);
        rc = mp_shared_protected_read(sh, pid, buf, sizeof(buf));
        expect(o, "shared protected read", rc, MP_OK);
        if (rc == MP_OK && exact(o) && memcmp(buf, want, sizeof(buf)) != 0) {
            fz_fail(o->target, NULL, "mp_shared_protected_read: wrong bytes");
        }
        expect(o, "shared protected free", mp_shared_protected_free(sh, pid),
               MP_OK);
    }
    if (pg) {
        expect(o, "shared get", mp_shared_get(sh, pg, &got), MP_OK);
        expect(o, "shared free", mp_shared_free(sh, pg), MP_OK);
    }
    shared_bulk(o, sh);
    rc = mp_shared_counts(sh, &c);
    expect(o, "shared counts", rc, MP_OK);
    rc = mp_shared_try_read_lock(sh, &rp);
    expect(o, "shared try_read_lock", rc, MP_OK);
    if (rc == MP_OK) {
        if (c.pages != mp_pager_page_count(rp) ||
            c.free_pages != mp_pager_free_count(rp)) {
            fz_fail(o->target, NULL,
                    "mp_shared_counts disagrees with the "
                    "pager");
        }
        read_all(o, rp);
        mp_shared_read_unlock(sh);
    }
    return mp_shared_unwrap(sh);
}

/* The short workload on a read-write pager; closes it. */
static int workload(struct open_run *o, mp_pager *p)
{
    struct mph_check_report rep;
    struct mp_recovery_info ri;
    struct mp_pager_stats st;
    struct mp_options opt;
    int rc;

    read_all(o, p);
    if (o->shared) {
        p = work_shared(o, p);
    } else {
        work_generic(o, p);
    }
    read_all(o, p);
    mp_pager_stats(p, &st);
    mp_pager_close(p);
    if (!o->strict) {
        return MP_OK;
    }
    /* After a commit the record names a copy that validates, so the next
     * open follows it and the checker finds a clean file. Without one (a
     * tight reservation or failed allocations refused every change) the
     * file is as it was: it may still need the fallback. */
    options(o, &opt, false, false);
    rc = mp_pager_open(FZ_PATH, o->ps, &opt, &p);
    if (rc != MP_OK) {
        fz_fail(o->target, NULL, "reopen after the workload returned %s%s",
                mp_error_name(rc),
                o->mem.fired ? " (an allocation had failed)" : "");
    }
    mp_pager_recovery(p, &ri);
    if (ri.fallback && st.commits > 0) {
        fz_fail(o->target, NULL,
                "reopen after %llu commits used the fallback copy "
                "(reason %d)",
                (unsigned long long)st.commits, ri.reason);
    }
    mp_pager_close(p);
    rc = mph_check_file(faultfs_vfs(o->fs), FZ_PATH, o->ps, &rep);
    if (rc == MP_ENOMEM) {
        return rc;
    }
    if (rc != MP_OK || rep.cross_check == MPH_CROSS_DISAGREES ||
        rep.verdict == MPH_CHECK_CORRUPT ||
        (rep.verdict != MPH_CHECK_CLEAN && st.commits > 0 && !o->mem.fired)) {
        fz_fail(o->target, NULL,
                "after a short workload (%llu commits) on a sound image%s "
                "the checker says %s (%s): %s",
                (unsigned long long)st.commits,
                o->mem.fired ? " (an allocation had failed)" : "",
                rc == MP_OK ? mph_check_verdict_name(rep.verdict) : "-",
                mp_error_name(rc), rep.problem);
    }
    return MP_OK;
}

static void want_readonly(const struct open_run *o, const char *what, int rc)
{
    if (rc != MP_EREADONLY) {
        fz_fail(o->target, NULL,
                "read-only pager: %s returned %s, not MP_EREADONLY", what,
                mp_error_name(rc));
    }
}

/* A read-only pager refuses every change (given valid arguments). */
static void readonly_refusals(const struct open_run *o, mp_pager *p)
{
    mp_pgno pg = 0, two[2];
    mp_protected_id pid = 0, np;
    mp_subpage *sp;
    mp_subpage_id sid;
    void *bytes;
    mp_iter it;
    int rc;

    if (!mp_pager_is_readonly(p)) {
        fz_fail(o->target, NULL, "a read-only open is not read-only");
    }
    if (mp_iter_pages(&it, p) == MP_OK && mp_iter_next(&it, &pg)) {
        mp_iter_finish(&it);
    }
    if (mp_iter_protected(&it, p) == MP_OK && mp_iter_next(&it, &pid)) {
        mp_iter_finish(&it);
    }
    want_readonly(o, "alloc", mp_pager_alloc(p, &two[0]));
    want_readonly(o, "alloc_bulk", mp_pager_alloc_bulk(p, 2, two));
    want_readonly(o, "grow", mp_pager_grow(p, mp_pager_page_count(p) + 1));
    want_readonly(o, "sync_pages", mp_pager_sync_pages(p, 0, 0));
    want_readonly(o, "protected alloc", mp_protected_alloc(p, &np));
    want_readonly(o, "protected alloc_bulk",
                  mp_protected_alloc_bulk(p, 2, two));
    if (pg) {
        want_readonly(o, "free", mp_pager_free(p, pg));
        want_readonly(o, "free_bulk", mp_pager_free_bulk(p, &pg, 1));
        want_readonly(o, "get_mut", mp_pager_get_mut(p, pg, &bytes));
    }
    if (pid) {
        want_readonly(o, "protected free", mp_protected_free(p, pid));
        want_readonly(o, "protected free_bulk",
                      mp_protected_free_bulk(p, &pid, 1));
        want_readonly(o, "protected begin", mp_protected_begin(p, pid, &bytes));
    }
    rc = mp_subpage_create(p, mp_pager_page_size(p) / 2, &sp);
    if (rc == MP_OK) {
        want_readonly(o, "subpage alloc", mp_subpage_alloc(sp, &sid));
        want_readonly(o, "subpage alloc_bulk",
                      mp_subpage_alloc_bulk(sp, 2, two));
        mp_subpage_destroy(sp);
    } else {
        expect(o, "subpage create on a read-only pager", rc, MP_OK);
    }
}

static int opened(struct open_run *o, mp_pager *p,
                  const struct mph_check_report *pred)
{
    struct mph_check_report rep;
    struct mp_recovery_info ri;
    int rc;

    mp_pager_recovery(p, &ri);
    if (pred->recovery_would_choose != ri.chosen_copy ||
        pred->recovery_reason != ri.reason) {
        fz_fail(o->target, NULL,
                "checker predicts recovery takes copy %d (reason %d), the "
                "core took copy %d (reason %d)",
                pred->recovery_would_choose, pred->recovery_reason,
                ri.chosen_copy, ri.reason);
    }
    rc = mph_check_file(faultfs_vfs(o->fs), FZ_PATH, o->ps, &rep);
    if (rc == MP_ENOMEM) {
        mp_pager_close(p);
        return rc;
    }
    if (rc != MP_OK || rep.cross_check == MPH_CROSS_DISAGREES ||
        rep.verdict != pred->verdict) {
        fz_fail(o->target, NULL,
                "image opened; checking the file gives %s (%s, cross-check "
                "%d), checking the bytes gave %s: %s",
                rc == MP_OK ? mph_check_verdict_name(rep.verdict) : "-",
                mp_error_name(rc), rep.cross_check,
                mph_check_verdict_name(pred->verdict), rep.problem);
    }
    o->strict = rep.verdict != MPH_CHECK_CORRUPT;
    if (fz_verbose()) {
        fprintf(stderr, "%s: opened, copy %d reason %d, checker %s%s\n",
                o->target, ri.chosen_copy, ri.reason,
                mph_check_verdict_name(rep.verdict),
                o->readonly ? ", read-only" : "");
    }
    if (!o->readonly) {
        return workload(o, p);
    }
    read_all(o, p);
    readonly_refusals(o, p);
    mp_pager_close(p);
    return MP_OK;
}

int fz_open_run(const char *target, const uint8_t *data, size_t size)
{
    struct mph_check_report pred;
    struct open_run o;
    struct mp_options opt;
    struct fz_disk disk;
    mp_pager *p = NULL;
    uint8_t *img = NULL, ctl;
    size_t len;
    int rc;

    if (size < 1) {
        return MP_OK;
    }
    memset(&o, 0, sizeof(o));
    o.target = target;
    ctl = data[0];
    data++;
    size--;
    if ((ctl & 64) && size > 0) {
        /* Allocation failure: the nth allocation (1-based) of the pager
         * fails, and with bit 7 every later one too. */
        mph_failmem_arm(&o.mem, 1 + (data[0] & 0x7Fu), (data[0] & 0x80) != 0);
        data++;
        size--;
    }
    len = size;
    o.readonly = (ctl & 8) != 0;
    o.shared = (ctl & 32) != 0;
    o.tight = (ctl & 128) != 0;
    o.ps = (ctl & 16) ? FZ_PAGE : 0;
    img = malloc(len ? len : 1);
    if (!img) {
        return MP_ENOMEM;
    }
    if (len) {
        memcpy(img, data, len);
    }
    fz_fix_image(img, len, ctl & 7u);

    rc = mph_check_image(img, len, o.ps, &pred);
    if (rc == MP_ENOMEM) {
        goto out;
    }
    if (rc != MP_OK) {
        fz_fail(target, NULL, "the checker could not check the image: %s",
                mp_error_name(rc));
    }
    fz_disk_from_bits(&disk, 0, 0);
    rc = fz_fs_new(&disk, &o.fs);
    if (rc == MP_OK) {
        rc = faultfs_load_bytes(o.fs, FZ_PATH, img, len);
    }
    if (rc != MP_OK) {
        goto out;
    }
    options(&o, &opt, o.readonly, true);
    rc = mp_pager_open(FZ_PATH, o.ps, &opt, &p);
    if (rc == MP_ENOMEM && o.mem.fired) {
        /* A clean refusal; nothing may leak (LeakSanitizer, memcheck). */
        rc = MP_OK;
        goto out;
    }
    if (rc == MP_ENOMEM) {
        goto out;
    }
    if (rc != MP_OK && !corruption_code(rc)) {
        fz_fail(target, NULL, "open of a %zu-byte image returned %s", len,
                mp_error_name(rc));
    }
    if (rc != (o.readonly ? pred.open_error : pred.open_error_rw)) {
        fz_fail(
            target, NULL,
            "open of a %zu-byte image returned %s, the checker "
            "predicts %s (%s)",
            len, mp_error_name(rc),
            mp_error_name(o.readonly ? pred.open_error : pred.open_error_rw),
            pred.problem);
    }
    if (fz_verbose()) {
        fprintf(stderr, "%s: %zu bytes, fix %u: open %s\n", target, len,
                ctl & 7u, mp_error_name(rc));
    }
    rc = rc == MP_OK ? opened(&o, p, &pred) : MP_OK;
    if (fz_verbose() && o.mem.armed) {
        fprintf(stderr, "%s: allocation %llu%s %s\n", target,
                (unsigned long long)o.mem.nth, o.mem.sticky ? "+" : "",
                o.mem.fired ? "failed" : "was never reached");
    }
out:
    fz_fs_free(o.fs);
    free(img);
    return rc;
}
