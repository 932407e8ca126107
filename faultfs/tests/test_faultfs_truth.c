/*
 * test_faultfs_truth.c - "memory tells the truth" (mappedpages/pager.h):
 * after any failed call the open pager reports exactly what a reopen of
 * the same disk, and a crash image of it, would show.
 *
 * For every mutating call and for every sync, sync_file, grow and
 * extend_map that the call makes (the n-th, n = 1, 2, ... until the call
 * makes no more), fail that call with faultfs, once or from then on, with
 * each persist mode: the call returns the fault's code; the open pager's
 * whole observable state (mpt_state.h) equals the state before the call; a
 * failed sync leaves the pager unavailable (MP_EUNAVAILABLE), a failed grow
 * or extend_map leaves it usable and the same call then succeeds. Then a
 * reopen of the same disk, the crash image with nothing unsynced kept
 * (index 0) and the one with everything kept ("all=new") must each show
 * exactly the state memory showed. The documented exception (pager.h: the
 * sync restoring the commit record fails too, after the record's own sync
 * persisted it) has its own test: memory and reopen still show the state
 * before the call, and image 0 exactly the state after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/tests/support/mpt_state.h"
#include "fft.h"

#define PS   1024
#define NAME "truth.mp"

typedef int (*op_fn)(mp_pager *p);

static void open_on(faultfs *fs, mp_pager **p)
{
    struct mp_options opt;
    fft_options(fs, &opt);
    assert_int_equal(mp_pager_open(NAME, PS, &opt, p), MP_OK);
}

/* Pages 5, 6, 7 regular, two protected pages (the first written), and no
 * free page: the next alloc has to grow the file. */
static void setup(faultfs *fs)
{
    struct mp_options opt;
    mp_pager *p;
    mp_pgno pgs[3], *rest;
    mp_protected_id ids[2];
    unsigned char *w;
    size_t n;
    fft_options(fs, &opt);
    assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc_bulk(p, 3, pgs), MP_OK);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    assert_int_equal(mp_protected_begin(p, ids[0], (void **)&w), MP_OK);
    memset(w, 0x42, PS);
    assert_int_equal(mp_protected_commit(p, ids[0]), MP_OK);
    n = (size_t)mp_pager_free_count(p);
    if (n > 0) {
        rest = test_malloc(n * sizeof(*rest));
        assert_int_equal(mp_pager_alloc_bulk(p, n, rest), MP_OK);
        test_free(rest);
    }
    assert_int_equal(mp_pager_close(p), MP_OK);
}

static int op_alloc(mp_pager *p)
{
    mp_pgno pg;
    return mp_pager_alloc(p, &pg);
}
static int op_free(mp_pager *p)
{
    return mp_pager_free(p, 6);
}
static int op_alloc_bulk(mp_pager *p)
{
    mp_pgno pgs[300];
    return mp_pager_alloc_bulk(p, 300, pgs);
}
static int op_free_bulk(mp_pager *p)
{
    static const mp_pgno pgs[] = { 6, 7 };
    return mp_pager_free_bulk(p, pgs, 2);
}
static int op_grow(mp_pager *p)
{
    return mp_pager_grow(p, 10000);
}
static int op_protected_alloc(mp_pager *p)
{
    mp_protected_id id;
    return mp_protected_alloc(p, &id);
}
static int op_protected_alloc_bulk(mp_pager *p)
{
    mp_protected_id ids[3];
    return mp_protected_alloc_bulk(p, 3, ids);
}
static int op_protected_free(mp_pager *p)
{
    return mp_protected_free(p, MP_ID_KIND_PROTECT | 0);
}
static int op_protected_free_bulk(mp_pager *p)
{
    static const mp_protected_id ids[] = { MP_ID_KIND_PROTECT | 1,
                                           MP_ID_KIND_PROTECT | 0 };
    return mp_protected_free_bulk(p, ids, 2);
}
/* The write is staged before the fault is armed; the commit fails. */
static void stage(mp_pager *p)
{
    unsigned char *w;
    assert_int_equal(mp_protected_begin(p, MP_ID_KIND_PROTECT | 0, (void **)&w),
                     MP_OK);
    memset(w, 0x99, PS);
}
static int op_protected_commit(mp_pager *p)
{
    return mp_protected_commit(p, MP_ID_KIND_PROTECT | 0);
}
static int op_subpage_parent(mp_pager *p)
{
    mp_subpage *sp;
    mp_subpage_id id;
    int rc = mp_subpage_create(p, 256, &sp);
    if (rc == MP_OK) {
        rc = mp_subpage_alloc(sp, &id);
        mp_subpage_destroy(sp);
    }
    return rc;
}

struct ctx {
    const char *op;
    const char *fault;
    long n;
};

static void expect(const struct ctx *c, const char *when,
                   const struct mpt_state *want, mp_pager *p)
{
    char buf[200];
    const char *d = mpt_state_diff_pager(want, p, buf, sizeof(buf));
    if (d) {
        fail_msg("%s, %s #%ld failing: %s: %s", c->op, c->fault, c->n, when, d);
    }
}

static void expect_image(const struct ctx *c, faultfs *fs, int by_pattern,
                         const struct mpt_state *want)
{
    faultfs *img = NULL;
    mp_pager *p;
    if (by_pattern) {
        assert_int_equal(faultfs_image_from_pattern(fs, "all=new", &img),
                         MP_OK);
    } else {
        assert_int_equal(
            faultfs_image_by_index(fs, FAULTFS_SPACE_PAGES, 0, &img), MP_OK);
    }
    open_on(img, &p);
    expect(c, by_pattern ? "crash image all=new" : "crash image 0", want, p);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_free(img);
}

static uint64_t fired(const faultfs *fs)
{
    struct faultfs_stats st;
    faultfs_stats(fs, &st);
    return st.faults_injected;
}

static void truth_loop(const char *name, op_fn op, void (*prep)(mp_pager *))
{
    static const struct {
        int call;
        int persist;
        int sticky;
        const char *what;
    } faults[] = {
        { FAULTFS_CALL_SYNC, FAULTFS_PERSIST_NONE, 0, "sync (persist none)" },
        { FAULTFS_CALL_SYNC, FAULTFS_PERSIST_PART, 0, "sync (persist part)" },
        { FAULTFS_CALL_SYNC, FAULTFS_PERSIST_ALL, 0, "sync (persist all)" },
        { FAULTFS_CALL_SYNC, FAULTFS_PERSIST_NONE, 1, "sticky sync (none)" },
        { FAULTFS_CALL_SYNC, FAULTFS_PERSIST_PART, 1, "sticky sync (part)" },
        { FAULTFS_CALL_SYNC, FAULTFS_PERSIST_ALL, 1, "sticky sync (all)" },
        { FAULTFS_CALL_SYNC_FILE, FAULTFS_PERSIST_NONE, 0, "sync_file" },
        { FAULTFS_CALL_SYNC_FILE, FAULTFS_PERSIST_ALL, 1,
          "sticky sync_file (all)" },
        { FAULTFS_CALL_GROW, 0, 0, "grow" },
        { FAULTFS_CALL_GROW, 0, 1, "sticky grow" },
        { FAULTFS_CALL_EXTEND_MAP, 0, 0, "extend_map" },
        { FAULTFS_CALL_EXTEND_MAP, 0, 1, "sticky extend_map" },
    };
    struct mpt_state before, after;
    faultfs *fs = fft_new(7, 512, 0);
    mp_pager *p;
    long failures = 0;
    char buf[200];

    /* The states before and after, without faults. */
    setup(fs);
    open_on(fs, &p);
    if (prep) {
        prep(p);
    }
    mpt_state_capture(p, &before);
    assert_int_equal(op(p), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    open_on(fs, &p);
    mpt_state_capture(p, &after);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_free(fs);
    assert_non_null(mpt_state_diff(&before, &after, buf, sizeof(buf)));

    for (size_t k = 0; k < sizeof(faults) / sizeof(faults[0]); k++) {
        for (long n = 1;; n++) {
            struct faultfs_fault f;
            struct ctx c = { name, faults[k].what, n };
            unsigned char rec[2][24];
            int rc, code, os;
            bool sync_kind = faults[k].call == FAULTFS_CALL_SYNC ||
                             faults[k].call == FAULTFS_CALL_SYNC_FILE;
            const struct mpt_state *want;
            mp_pgno pg;

            fs = fft_new(7 + (uint64_t)n, 512, 0);
            setup(fs);
            open_on(fs, &p);
            if (prep) {
                prep(p);
            }
            memset(&f, 0, sizeof(f));
            f.call = faults[k].call;
            f.nth = (uint64_t)n;
            f.persist = faults[k].persist;
            f.sticky = faults[k].sticky != 0;
            assert_int_equal(faultfs_inject(fs, &f), MP_OK);
            rc = op(p);
            if (fired(fs) == 0) {
                /* The call makes fewer than n such calls: done. */
                faultfs_clear_faults(fs);
                assert_int_equal(rc, MP_OK);
                assert_int_equal(mp_pager_close(p), MP_OK);
                faultfs_free(fs);
                break;
            }
            failures++;
            if (rc == MP_OK) {
                fail_msg("%s, %s #%ld failing: the call returned MP_OK", name,
                         faults[k].what, n);
            }
            /* Memory equals the state before the call. */
            expect(&c, "memory", &before, p);
            mp_pager_last_failure(p, &code, &os);
            faultfs_clear_faults(fs);
            if (sync_kind) {
                /* A failed sync: writes refused until reopen. */
                assert_int_equal(code, rc);
                assert_int_equal(mp_pager_alloc(p, &pg), MP_EUNAVAILABLE);
                want = &before;
            } else {
                /* Refused before anything was written: usable, and the
                 * same call succeeds with the fault gone. */
                assert_int_equal(code, 0);
                assert_int_equal(op(p), MP_OK);
                want = &after;
            }
            assert_int_equal(mp_pager_close(p), MP_OK);
            open_on(fs, &p);
            expect(&c, "reopened", want, p);
            assert_int_equal(mp_pager_close(p), MP_OK);

            /* With one fault the record is durable as memory has it: a
             * sticky fault fails the restoring sync the same way as the
             * record's own (nothing, or the whole one-sector record,
             * persisted both times). Two faults that split them are
             * record_restore_failure_keeps_memory_and_reopen_true. */
            assert_int_equal(
                faultfs_file_read(fs, NAME, false, 512, rec[0], sizeof(rec[0])),
                MP_OK);
            assert_int_equal(
                faultfs_file_read(fs, NAME, true, 512, rec[1], sizeof(rec[1])),
                MP_OK);
            assert_memory_equal(rec[0], rec[1], sizeof(rec[0]));
            assert_int_equal(faultfs_crash_now(fs), MP_OK);
            expect_image(&c, fs, 0, want);
            expect_image(&c, fs, 1, want);
            faultfs_free(fs);
            assert_true(n < 20);
        }
    }
    mpt_state_free(&before);
    mpt_state_free(&after);
    assert_true(failures > 0);
}

/* Both commit modes (FORMAT.md 8.1 and 8.2). */
#define TRUTH_TEST(fn, op, prep)            \
 static void fn(void **s)                   \
 {                                          \
  (void)s;                                  \
  fft_open_flags = 0;                       \
  truth_loop(#fn, op, prep);                \
  fft_open_flags = MP_OPEN_ONE_FLUSH;       \
  truth_loop(#fn " (one-flush)", op, prep); \
  fft_open_flags = 0;                       \
 }
TRUTH_TEST(alloc_failure_tells_the_truth, op_alloc, NULL)
TRUTH_TEST(free_failure_tells_the_truth, op_free, NULL)
TRUTH_TEST(alloc_bulk_failure_tells_the_truth, op_alloc_bulk, NULL)
TRUTH_TEST(free_bulk_failure_tells_the_truth, op_free_bulk, NULL)
TRUTH_TEST(grow_failure_tells_the_truth, op_grow, NULL)
TRUTH_TEST(protected_alloc_failure_tells_the_truth, op_protected_alloc, NULL)
TRUTH_TEST(protected_alloc_bulk_failure_tells_the_truth,
           op_protected_alloc_bulk, NULL)
TRUTH_TEST(protected_free_failure_tells_the_truth, op_protected_free, NULL)
TRUTH_TEST(protected_free_bulk_failure_tells_the_truth, op_protected_free_bulk,
           NULL)
TRUTH_TEST(protected_commit_failure_tells_the_truth, op_protected_commit, stage)
TRUTH_TEST(subpage_parent_failure_tells_the_truth, op_subpage_parent, NULL)

/*
 * A protected page found damaged at open (rules.h R3) stays refused after
 * a failed call rolled memory back, as a reopen refuses it: for a failed
 * alloc (growth refused, the pager stays usable) and a failed free of that
 * very page (its sync fails). Found while adding the generation check: the
 * rollback decoded the entries afresh and forgot the damage.
 */
static void damaged_page_stays_refused_after_a_rollback(void **s)
{
    (void)s;
    for (int k = 0; k < 2; k++) {
        faultfs *fs = fft_new(21, 512, 0);
        struct faultfs_fault f = { k ? FAULTFS_CALL_SYNC : FAULTFS_CALL_GROW, 1,
                                   0, FAULTFS_PERSIST_NONE, false };
        mp_protected_id id = MP_ID_KIND_PROTECT | 0;
        const unsigned char *r, *base;
        unsigned char b;
        mp_pager *p;
        mp_pgno pg;

        setup(fs);
        open_on(fs, &p);
        assert_int_equal(mp_protected_get(p, id, (const void **)&r), MP_OK);
        assert_int_equal(mp_pager_get(p, 5, (const void **)&base), MP_OK);
        b = (unsigned char)(r[7] ^ 0x10);
        assert_int_equal(
            faultfs_file_write(fs, NAME,
                               (5 + (uint64_t)(r - base) / PS) * PS + 7, &b, 1),
            MP_OK);
        assert_int_equal(mp_pager_close(p), MP_OK);
        open_on(fs, &p);
        assert_int_equal(mp_protected_get(p, id, (const void **)&r),
                         MP_ECORRUPT);
        assert_int_equal(faultfs_inject(fs, &f), MP_OK);
        if (k == 0) {
            assert_int_not_equal(mp_pager_alloc(p, &pg), MP_OK);
        } else {
            assert_int_equal(mp_protected_free(p, id), MP_EIO);
        }
        assert_int_equal(mp_protected_get(p, id, (const void **)&r),
                         MP_ECORRUPT);
        assert_int_equal(mp_pager_close(p), MP_OK);
        faultfs_free(fs);
    }
}

/* The case, step by step: a bulk free whose first sync fails. */
static void failed_bulk_free_still_reports_both_pages(void **s)
{
    faultfs *fs = fft_new(1, 512, 0);
    struct faultfs_fault f = { FAULTFS_CALL_SYNC, 1, 0, FAULTFS_PERSIST_NONE,
                               false };
    static const mp_pgno two[] = { 6, 7 };
    uint64_t free_before, id, seen = 0;
    const void *b;
    mp_iter it;
    mp_pager *p;
    (void)s;
    setup(fs);
    open_on(fs, &p);
    free_before = mp_pager_free_count(p);
    assert_int_equal(faultfs_inject(fs, &f), MP_OK);
    assert_int_equal(mp_pager_free_bulk(p, two, 2), MP_EIO);
    assert_int_equal(mp_pager_free_count(p), free_before);
    assert_int_equal(mp_pager_get(p, 6, &b), MP_OK);
    assert_int_equal(mp_pager_get(p, 7, &b), MP_OK);
    assert_int_equal(mp_iter_pages(&it, p), MP_OK);
    while (mp_iter_next(&it, &id)) {
        seen += id == 6 || id == 7;
    }
    assert_int_equal(seen, 2);
    assert_int_equal(mp_pager_free(p, 6), MP_EUNAVAILABLE);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_free(fs);
}

/* Barrier 2 fails having persisted the new record, and the sync that
 * restores the old one fails having persisted nothing. */
static void record_restore_failure_keeps_memory_and_reopen_true(void **s)
{
    struct faultfs_fault rec = { FAULTFS_CALL_SYNC, 2, 0, FAULTFS_PERSIST_ALL,
                                 false };
    struct faultfs_fault restore = { FAULTFS_CALL_SYNC, 3, 0,
                                     FAULTFS_PERSIST_NONE, false };
    struct ctx c = { "free", "record sync, then restoring sync", 2 };
    struct mpt_state before, after;
    faultfs *fs = fft_new(3, 512, 0);
    mp_pager *p;
    int code, os;
    (void)s;
    setup(fs);
    open_on(fs, &p);
    mpt_state_capture(p, &before);
    assert_int_equal(faultfs_inject(fs, &rec), MP_OK);
    assert_int_equal(faultfs_inject(fs, &restore), MP_OK);
    assert_int_equal(op_free(p), MP_EIO);
    assert_int_equal(fired(fs), 2);
    mp_pager_last_failure(p, &code, &os);
    assert_int_equal(code, MP_EIO);
    expect(&c, "memory", &before, p);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_clear_faults(fs);
    open_on(fs, &p);
    expect(&c, "reopened", &before, p);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    expect_image(&c, fs, 1, &before);
    /* The state after, from a run without faults. */
    {
        faultfs *clean = fft_new(3, 512, 0);
        setup(clean);
        open_on(clean, &p);
        assert_int_equal(op_free(p), MP_OK);
        mpt_state_capture(p, &after);
        assert_int_equal(mp_pager_close(p), MP_OK);
        faultfs_free(clean);
    }
    expect_image(&c, fs, 0, &after);
    faultfs_free(fs);
    mpt_state_free(&before);
    mpt_state_free(&after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_bulk_free_still_reports_both_pages),
        cmocka_unit_test(damaged_page_stays_refused_after_a_rollback),
        cmocka_unit_test(record_restore_failure_keeps_memory_and_reopen_true),
        cmocka_unit_test(alloc_failure_tells_the_truth),
        cmocka_unit_test(free_failure_tells_the_truth),
        cmocka_unit_test(alloc_bulk_failure_tells_the_truth),
        cmocka_unit_test(free_bulk_failure_tells_the_truth),
        cmocka_unit_test(grow_failure_tells_the_truth),
        cmocka_unit_test(protected_alloc_failure_tells_the_truth),
        cmocka_unit_test(protected_alloc_bulk_failure_tells_the_truth),
        cmocka_unit_test(protected_free_failure_tells_the_truth),
        cmocka_unit_test(protected_free_bulk_failure_tells_the_truth),
        cmocka_unit_test(protected_commit_failure_tells_the_truth),
        cmocka_unit_test(subpage_parent_failure_tells_the_truth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
