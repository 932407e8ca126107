/*
 * test_faultfs_faults.c - injected faults reach the caller, through the raw
 * seam and through the pager; locks conflict like flock(2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fft.h"

#define PG 4096

static void inject(faultfs *fs, int call, uint64_t nth, int code, int persist,
                   bool sticky)
{
    struct faultfs_fault f;
    memset(&f, 0, sizeof(f));
    f.call = call;
    f.nth = nth;
    f.code = code;
    f.persist = persist;
    f.sticky = sticky;
    assert_int_equal(faultfs_inject(fs, &f), MP_OK);
}

/* Sectors of page 0 whose first byte is `v` in the durable image. */
static int durable_sectors(faultfs *fs, unsigned char v)
{
    int n = 0;
    for (uint64_t s = 0; s < 4 * PG; s += 512) {
        n += fft_byte(fs, "f", 1, s) == v;
    }
    return n;
}

static void a_failed_sync_persists_none_part_or_all(void **state)
{
    static const int want_min[] = { 0, 1, 32 }, want_max[] = { 0, 31, 32 };
    (void)state;
    for (int persist = 0; persist < 3; persist++) {
        faultfs *fs = fft_new(11, 512, 0);
        unsigned char *m;
        struct mp_io_file *f = fft_raw_file(fs, "f", 4 * PG, &m);
        struct mp_io_range r = { 0, 4 * PG };
        struct faultfs_stats st;
        int n;
        assert_int_equal(f->methods->sync_file(f), MP_OK);
        memset(m, 0x77, 4 * PG);
        inject(fs, FAULTFS_CALL_SYNC, 1, 0, persist, false);
        assert_int_equal(f->methods->sync(f, &r, 1), MP_EIO);
        assert_int_equal(f->os_error != 0, 1);
        n = durable_sectors(fs, 0x77);
        assert_true(n >= want_min[persist] && n <= want_max[persist]);
        /* One-shot: the next sync works. */
        assert_int_equal(f->methods->sync(f, &r, 1), MP_OK);
        assert_int_equal(durable_sectors(fs, 0x77), 32);
        faultfs_stats(fs, &st);
        assert_int_equal(st.faults_injected, 1);
        f->methods->close(f);
        faultfs_free(fs);
    }
}

static void a_failed_file_sync_keeps_the_old_length(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m);
    uint64_t sz;
    (void)state;
    inject(fs, FAULTFS_CALL_SYNC_FILE, 1, 0, FAULTFS_PERSIST_PART, false);
    assert_int_equal(f->methods->sync_file(f), MP_EIO);
    assert_int_equal(faultfs_file_durable_size(fs, "f", &sz), MP_OK);
    assert_int_equal(sz, 0);
    inject(fs, FAULTFS_CALL_SYNC_FILE, 1, 0, FAULTFS_PERSIST_ALL, false);
    assert_int_equal(f->methods->sync_file(f), MP_EIO);
    assert_int_equal(faultfs_file_durable_size(fs, "f", &sz), MP_OK);
    assert_int_equal(sz, PG);
    f->methods->close(f);
    faultfs_free(fs);
}

static void every_kind_of_call_can_fail(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m), *g;
    uint64_t sz, res;
    void *b;
    int os = 0;
    (void)state;
    assert_int_equal(f->methods->reserve(f, 0, PG), MP_OK);
    assert_int_equal(f->methods->reserve(f, 0, 2 * PG), MP_EINVAL);
    assert_int_equal(f->methods->reserve(f, 0, 0), MP_EINVAL);
    inject(fs, FAULTFS_CALL_RESERVE, 1, 0, 0, false);
    assert_int_equal(f->methods->reserve(f, 0, PG), MP_ENOSPC);
    assert_int_equal(f->os_error, 28); /* ENOSPC */
    faultfs_clear_faults(fs);
    inject(fs, FAULTFS_CALL_GROW, 1, 0, 0, false);
    assert_int_equal(f->methods->grow(f, 2 * PG), MP_ENOSPC);
    assert_int_equal(f->methods->size(f, &sz), MP_OK);
    assert_int_equal(sz, PG);
    inject(fs, FAULTFS_CALL_EXTEND_MAP, 1, 0, 0, false);
    assert_int_equal(f->methods->grow(f, 2 * PG), MP_OK);
    assert_int_equal(f->methods->extend_map(f, 2 * PG), MP_ENOMEM);
    assert_int_equal(f->methods->extend_map(f, 2 * PG), MP_OK);
    inject(fs, FAULTFS_CALL_OPEN, 1, 0, 0, false);
    assert_int_equal(vfs->open(vfs, "f", 0, &g, &os), MP_EIO);
    assert_null(g);
    assert_int_equal(vfs->open(vfs, "f", 0, &g, &os), MP_OK);
    inject(fs, FAULTFS_CALL_MAP, 1, 0, 0, false);
    assert_int_equal(g->methods->map(g, 1 << 20, PG, &b, &res), MP_ENOMEM);
    assert_int_equal(g->methods->map(g, 1 << 20, PG, &b, &res), MP_OK);
    assert_ptr_equal(b, m); /* one page cache: the same address */
    inject(fs, FAULTFS_CALL_LOCK, 1, 0, 0, false);
    assert_int_equal(g->methods->lock(g, MP_IO_LOCK_SHARED), MP_ELOCKED);
    assert_int_equal(g->methods->lock(g, MP_IO_LOCK_SHARED), MP_OK);
    inject(fs, FAULTFS_CALL_RENAME, 1, MP_ENOSPC, 0, false);
    assert_int_equal(vfs->rename(vfs, "f", "g", &os), MP_ENOSPC);
    inject(fs, FAULTFS_CALL_SYNC_DIR, 1, 0, 0, false);
    assert_int_equal(vfs->sync_dir(vfs, "f", &os), MP_EIO);
    inject(fs, FAULTFS_CALL_REMOVE, 1, 0, 0, false);
    assert_int_equal(vfs->remove(vfs, "f", &os), MP_EIO);
    assert_int_equal(faultfs_file_size(fs, "f", &sz), MP_OK);
    g->methods->close(g);
    f->methods->close(f);
    faultfs_free(fs);
}

static void nth_sticky_and_any_count_as_documented(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m);
    struct mp_io_range r = { 0, PG };
    struct faultfs_fault bad;
    (void)state;
    /* The 3rd failure-capable call from now, and every one after it. */
    inject(fs, FAULTFS_CALL_ANY, 3, 0, 0, true);
    assert_int_equal(f->methods->sync(f, &r, 1), MP_OK);
    assert_int_equal(f->methods->lock(f, MP_IO_LOCK_SHARED), MP_OK);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(f->methods->grow(f, 2 * PG), MP_ENOSPC); /* natural */
    assert_int_equal(f->methods->sync(f, &r, 1), MP_EIO);
    assert_int_equal(f->methods->extend_map(f, PG), MP_ENOMEM);
    faultfs_clear_faults(fs);
    assert_int_equal(f->methods->sync(f, &r, 1), MP_OK);
    /* The first fault added wins. */
    inject(fs, FAULTFS_CALL_SYNC, 1, MP_ENOSPC, 0, false);
    inject(fs, FAULTFS_CALL_ANY, 1, MP_EIO, 0, false);
    assert_int_equal(f->methods->sync(f, &r, 1), MP_ENOSPC);
    assert_int_equal(f->methods->sync(f, &r, 1), MP_OK);
    /* Refusals. */
    memset(&bad, 0, sizeof(bad));
    bad.call = FAULTFS_CALL_SYNC;
    assert_int_equal(faultfs_inject(fs, &bad), MP_EINVAL); /* nth 0 */
    bad.nth = 1;
    bad.call = FAULTFS_CALL_SIZE;
    assert_int_equal(faultfs_inject(fs, &bad), MP_EINVAL);
    bad.call = FAULTFS_CALL_SYNC;
    bad.code = 5;
    assert_int_equal(faultfs_inject(fs, &bad), MP_EINVAL);
    bad.code = 0;
    for (int i = 2; i < FAULTFS_MAX_FAULTS; i++) {
        assert_int_equal(faultfs_inject(fs, &bad), MP_OK);
    }
    assert_int_equal(faultfs_inject(fs, &bad), MP_ELIMIT);
    f->methods->close(f);
    faultfs_free(fs);
}

static void locks_conflict_between_opens(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    unsigned char *m;
    struct mp_io_file *a = fft_raw_file(fs, "f", PG, &m), *b, *c;
    int os;
    (void)state;
    assert_int_equal(vfs->open(vfs, "f", MP_IO_READONLY, &b, &os), MP_OK);
    assert_int_equal(vfs->open(vfs, "f", MP_IO_READONLY, &c, &os), MP_OK);
    assert_int_equal(a->methods->lock(a, MP_IO_LOCK_EXCLUSIVE), MP_OK);
    assert_int_equal(a->methods->lock(a, MP_IO_LOCK_EXCLUSIVE), MP_OK);
    assert_int_equal(b->methods->lock(b, MP_IO_LOCK_SHARED), MP_ELOCKED);
    assert_int_equal(a->methods->lock(a, MP_IO_LOCK_SHARED), MP_OK);
    assert_int_equal(b->methods->lock(b, MP_IO_LOCK_SHARED), MP_OK);
    assert_int_equal(c->methods->lock(c, MP_IO_LOCK_SHARED), MP_OK);
    assert_int_equal(c->methods->lock(c, MP_IO_LOCK_EXCLUSIVE), MP_ELOCKED);
    b->methods->close(b); /* closing drops its lock */
    assert_int_equal(a->methods->lock(a, MP_IO_UNLOCK), MP_OK);
    assert_int_equal(c->methods->lock(c, MP_IO_LOCK_EXCLUSIVE), MP_OK);
    assert_int_equal(a->methods->lock(a, MP_IO_LOCK_SHARED), MP_ELOCKED);
    c->methods->close(c);
    a->methods->close(a);
    faultfs_free(fs);
}

/* ---- through the pager -------------------------------------------------- */

static mp_pager *create(faultfs *fs, const char *name)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    fft_options(fs, &opt);
    assert_int_equal(mp_pager_create(name, 4096, &opt, &p), MP_OK);
    return p;
}

static int open_pager(faultfs *fs, const char *name, mp_pager **p)
{
    struct mp_options opt;
    fft_options(fs, &opt);
    return mp_pager_open(name, 4096, &opt, p);
}

static void pager_sees_every_injected_error(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    mp_pager *p = create(fs, "db"), *q;
    mp_pgno pg, many[16];
    uint64_t free0 = mp_pager_free_count(p);
    int code, os;
    (void)state;
    /* Growth refused: nothing changed, the pager goes on. */
    inject(fs, FAULTFS_CALL_GROW, 1, 0, 0, false);
    assert_int_equal(mp_pager_alloc_bulk(p, (size_t)free0 + 1, many),
                     MP_ENOSPC);
    assert_int_equal(mp_pager_free_count(p), free0);
    inject(fs, FAULTFS_CALL_EXTEND_MAP, 1, 0, 0, false);
    assert_int_equal(mp_pager_alloc_bulk(p, (size_t)free0 + 1, many),
                     MP_ENOMEM);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    /* A commit barrier fails: EIO, then the pager refuses writes. */
    inject(fs, FAULTFS_CALL_SYNC, 1, 0, FAULTFS_PERSIST_ALL, false);
    assert_int_equal(mp_pager_free(p, pg), MP_EIO);
    mp_pager_last_failure(p, &code, &os);
    assert_int_equal(code, MP_EIO);
    assert_int_equal(os, 5); /* EIO */
    assert_int_equal(mp_pager_alloc(p, &pg), MP_EUNAVAILABLE);
    /* A lock held elsewhere, mapping refused. */
    inject(fs, FAULTFS_CALL_LOCK, 1, 0, 0, false);
    assert_int_equal(open_pager(fs, "db2", &q), MP_ENOENT);
    mp_pager_close(p);
    assert_int_equal(open_pager(fs, "db", &q), MP_ELOCKED);
    inject(fs, FAULTFS_CALL_MAP, 1, 0, 0, false);
    assert_int_equal(open_pager(fs, "db", &q), MP_ENOMEM);
    inject(fs, FAULTFS_CALL_OPEN, 1, 0, 0, false);
    assert_int_equal(open_pager(fs, "db", &q), MP_EIO);
    assert_int_equal(open_pager(fs, "db", &q), MP_OK);
    mp_pager_close(q);
    faultfs_free(fs);
}

/* Pages allocated, as a hash: the state a fault must leave before/after. */
static uint64_t digest(mp_pager *p)
{
    uint64_t h = 1469598103934665603ull, id;
    mp_iter it;
    mp_for_each_page(&it, p, id) {
        h = (h ^ id) * 1099511628211ull;
    }
    return h;
}

/* Create "db", then run alloc_bulk(64) with fault f (f.nth 0: none);
 * return the operation's result and the state a reopen shows. */
static int run_alloc(uint64_t n, uint64_t *before, uint64_t *after)
{
    faultfs *fs = fft_new(n, 512, 0);
    mp_pager *p = create(fs, "db");
    mp_pgno many[64];
    int rc;
    *before = digest(p);
    mp_pager_close(p);
    assert_int_equal(open_pager(fs, "db", &p), MP_OK);
    if (n) {
        inject(fs, FAULTFS_CALL_ANY, n, MP_EIO, FAULTFS_PERSIST_PART, false);
    }
    rc = mp_pager_alloc_bulk(p, 64, many);
    mp_pager_close(p);
    faultfs_clear_faults(fs);
    assert_int_equal(open_pager(fs, "db", &p), MP_OK);
    *after = digest(p);
    mp_pager_close(p);
    faultfs_free(fs);
    return rc;
}

static void fault_loop_ends_in_success_or_the_error(void **state)
{
    uint64_t before, after, b, h;
    int errors = 0, rc;
    (void)state;
    assert_int_equal(run_alloc(0, &before, &after), MP_OK);
    assert_true(after != before);
    /* Fail call 1, 2, ... until the operation succeeds. */
    for (uint64_t n = 1;; n++) {
        rc = run_alloc(n, &b, &h);
        assert_int_equal(b, before);
        assert_true(h == before || h == after);
        if (rc == MP_OK) {
            assert_int_equal(h, after);
            break;
        }
        assert_int_equal(rc, MP_EIO);
        errors++;
        assert_true(n < 100);
    }
    assert_true(errors >= 4); /* grow, sync_file, two barriers at least */
}

/* The calls that need new disk blocks (issue 12 item 1). */
enum {
    R_ALLOC,
    R_BULK,
    R_PROT,
    R_GROW,
    R_SUB,
    R_KINDS
};

static int run_reserving(mp_pager *p, int kind)
{
    mp_pgno pg, many[64];
    mp_protected_id prot;
    mp_subpage *sp;
    mp_subpage_id sid;
    int rc;
    switch (kind) {
    case R_ALLOC:
        return mp_pager_alloc(p, &pg);
    case R_BULK: /* past the free pages: growth, then 64 new pages */
        return mp_pager_alloc_bulk(p, 64, many);
    case R_PROT:
        return mp_protected_alloc(p, &prot);
    case R_GROW: /* two new groups (8192 pages each): their leaves */
        return mp_pager_grow(p, 20000);
    default:
        rc = mp_subpage_create(p, 256, &sp);
        if (rc == MP_OK) {
            rc = mp_subpage_alloc(sp, &sid);
            mp_subpage_destroy(sp);
        }
        return rc;
    }
}

/*
 * Fail the 1st, 2nd, ... reservation of each call, and every one after it,
 * until the call succeeds: every
 * refusal is MP_ENOSPC with the pager unchanged and usable, nothing synced
 * (nothing written), and reopen shows the state before the call.
 */
static void a_refused_reservation_leaves_the_pager_unchanged(void **state)
{
    (void)state;
    for (int kind = 0; kind < R_KINDS; kind++) {
        int refusals = 0;
        for (uint64_t n = 1;; n++) {
            faultfs *fs = fft_new(n, 512, 0);
            struct mp_options opt;
            struct faultfs_stats s0, s1;
            uint64_t pages, free0, d0;
            mp_pager *p;
            int rc, code = 1, os = 1;
            fft_options(fs, &opt);
            opt.reserve_bytes = (uint64_t)32 << 20;
            assert_int_equal(mp_pager_create("db", 1024, &opt, &p), MP_OK);
            mp_pager_close(p);
            /* Reopened: this pager has reserved nothing yet. */
            assert_int_equal(mp_pager_open("db", 1024, &opt, &p), MP_OK);
            pages = mp_pager_page_count(p);
            free0 = mp_pager_free_count(p);
            d0 = digest(p);
            faultfs_stats(fs, &s0);
            /* Sticky: a full device stays full (a refused reservation
             * ahead of need is retried for just what is needed). */
            inject(fs, FAULTFS_CALL_RESERVE, n, 0, 0, true);
            rc = run_reserving(p, kind);
            faultfs_clear_faults(fs);
            if (rc == MP_OK) {
                mp_pager_close(p);
                faultfs_free(fs);
                break;
            }
            assert_int_equal(rc, MP_ENOSPC);
            refusals++;
            faultfs_stats(fs, &s1);
            assert_int_equal(s1.syncs, s0.syncs);
            assert_int_equal(s1.sync_files, s0.sync_files);
            assert_int_equal(mp_pager_page_count(p), pages);
            assert_int_equal(mp_pager_free_count(p), free0);
            assert_int_equal(digest(p), d0);
            mp_pager_last_failure(p, &code, &os);
            assert_int_equal(code, 0);
            /* Usable: the same call now succeeds. */
            assert_int_equal(run_reserving(p, kind), MP_OK);
            mp_pager_close(p);
            faultfs_free(fs);
            assert_true(n < 100000);
        }
        /* Each of these calls needs at least one reservation. */
        assert_true(refusals >= 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_failed_sync_persists_none_part_or_all),
        cmocka_unit_test(a_failed_file_sync_keeps_the_old_length),
        cmocka_unit_test(every_kind_of_call_can_fail),
        cmocka_unit_test(nth_sticky_and_any_count_as_documented),
        cmocka_unit_test(locks_conflict_between_opens),
        cmocka_unit_test(pager_sees_every_injected_error),
        cmocka_unit_test(fault_loop_ends_in_success_or_the_error),
        cmocka_unit_test(a_refused_reservation_leaves_the_pager_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
