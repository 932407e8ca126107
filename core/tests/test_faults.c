/*
 * test_faults.c - fault loops: fail the Nth backend call of an operation,
 * N = 1, 2, ... until it succeeds, transient and persistent, with each kind
 * of error. Every run must end in success or the injected error. Memory
 * tells the truth (pager.h): after the error the open pager's whole
 * observable state (mpt_state.h) equals the state before the call. A
 * failed sync leaves it unavailable, and a reopen shows exactly that state;
 * a failure before anything was written leaves it usable, the same call
 * then succeeds and a reopen shows exactly the state after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"
#include "mpt_state.h"

#define PS 1024

typedef int (*op_fn)(mp_pager *p);

/* A file just full enough that the next alloc has to grow it. */
static void setup(const char *path)
{
    mp_pager *p;
    mp_pgno pgs[3];
    mp_protected_id ids[2];
    unsigned char *w;
    remove(path);
    p = mpt_create(path, PS);
    /* Pages 5, 6, 7 first: the regular pages the ops below free. */
    assert_int_equal(mp_pager_alloc_bulk(p, 3, pgs), MP_OK);
    assert_int_equal(pgs[0], 5);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    assert_int_equal(mp_protected_begin(p, ids[0], (void **)&w), MP_OK);
    memset(w, 0x42, PS);
    assert_int_equal(mp_protected_commit(p, ids[0]), MP_OK);
    /* One bulk commit fills the file: the loops below rebuild it hundreds
     * of times, and a commit per page made them crawl under valgrind. */
    {
        size_t n = (size_t)mp_pager_free_count(p);
        mp_pgno *rest = test_malloc(n * sizeof(*rest) + 1);
        if (n > 0) {
            assert_int_equal(mp_pager_alloc_bulk(p, n, rest), MP_OK);
        }
        test_free(rest);
    }
    assert_int_equal(mp_pager_free_count(p), 0);
    mp_pager_close(p);
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
    static const mp_pgno pgs[] = { 5, 6, 7 };
    return mp_pager_free_bulk(p, pgs, 3);
}
static int op_grow(mp_pager *p)
{
    return mp_pager_grow(p, 20000);
}
static int op_protected_alloc(mp_pager *p)
{
    mp_protected_id id;
    return mp_protected_alloc(p, &id);
}
static int op_protected_commit(mp_pager *p)
{
    unsigned char *w;
    int rc = mp_protected_begin(p, MP_ID_KIND_PROTECT | 0, (void **)&w);
    if (rc != MP_OK) {
        return rc;
    }
    memset(w, 0x99, PS);
    return mp_protected_commit(p, MP_ID_KIND_PROTECT | 0);
}
static int op_protected_free(mp_pager *p)
{
    return mp_protected_free(p, MP_ID_KIND_PROTECT | 1);
}

static void expect_state(const char *name, long n, int code, int sticky,
                         const char *when, const struct mpt_state *want,
                         mp_pager *p)
{
    char buf[200];
    const char *d = mpt_state_diff_pager(want, p, buf, sizeof(buf));
    if (d) {
        fail_msg("%s: call %ld failing with %s%s: %s: %s", name, n,
                 mp_error_name(code), sticky ? " (sticky)" : "", when, d);
    }
}

static void fault_loop(const char *name, op_fn op)
{
    static const int codes[] = { MP_EIO, MP_ENOSPC, MP_ENOMEM };
    const char *path = mpt_path(name);
    struct mpt_state before, after;
    char buf[200];
    mp_pager *p;

    setup(path);
    p = mpt_open(path, PS);
    mpt_state_capture(p, &before);
    assert_int_equal(op(p), MP_OK);
    mp_pager_close(p);
    p = mpt_open(path, PS);
    mpt_state_capture(p, &after);
    mp_pager_close(p);
    assert_non_null(mpt_state_diff(&before, &after, buf, sizeof(buf)));

    for (size_t c = 0; c < 3; c++) {
        for (int sticky = 0; sticky < 2; sticky++) {
            for (long n = 1;; n++) {
                struct mpt_faulty f;
                struct mp_options opt;
                int rc, code, os;
                mp_pgno pg;

                setup(path);
                mpt_options(&opt);
                mpt_faulty_init(&f, opt.vfs ? opt.vfs : mp_vfs_posix(), 0,
                                codes[c], sticky);
                opt.vfs = &f.vfs;
                assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
                f.fail_at = f.calls + n;
                rc = op(p);
                if (rc == MP_OK) {
                    mp_pager_close(p);
                    p = mpt_open(path, PS);
                    expect_state(name, n, codes[c], sticky, "reopened", &after,
                                 p);
                    assert_int_equal(op_alloc(p), MP_OK);
                    mp_pager_close(p);
                    break;
                }
                if (rc != codes[c]) {
                    fail_msg("%s: call %ld failing with %s gave %s", name, n,
                             mp_error_name(codes[c]), mp_error_name(rc));
                }
                /* Memory equals the durable state before the call. */
                expect_state(name, n, codes[c], sticky, "memory", &before, p);
                mp_pager_last_failure(p, &code, &os);
                if (code != 0) {
                    /* A sync failed: writes refused, reads work (above),
                     * and the disk shows what memory showed. */
                    assert_int_equal(code, codes[c]);
                    assert_int_equal(mp_pager_alloc(p, &pg), MP_EUNAVAILABLE);
                    mp_pager_close(p);
                    p = mpt_open(path, PS);
                    expect_state(name, n, codes[c], sticky, "reopened", &before,
                                 p);
                } else {
                    /* Refused before anything was written: the same call
                     * succeeds once the fault is gone. */
                    f.fail_at = 0;
                    f.sticky = 0;
                    assert_int_equal(op(p), MP_OK);
                    mp_pager_close(p);
                    p = mpt_open(path, PS);
                    expect_state(name, n, codes[c], sticky, "retried, reopened",
                                 &after, p);
                }
                /* Life goes on after the failure. */
                assert_int_equal(op_alloc(p), MP_OK);
                mp_pager_close(p);
                assert_true(n < 100);
            }
        }
    }
    mpt_state_free(&before);
    mpt_state_free(&after);
}

static void alloc_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_alloc.mp", op_alloc);
}
static void free_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_free.mp", op_free);
}
static void alloc_bulk_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_abulk.mp", op_alloc_bulk);
}
static void free_bulk_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_fbulk.mp", op_free_bulk);
}
static void grow_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_grow.mp", op_grow);
}
static void protected_alloc_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_palloc.mp", op_protected_alloc);
}
static void protected_commit_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_pcommit.mp", op_protected_commit);
}
static void protected_free_survives_faults(void **s)
{
    (void)s;
    fault_loop("f_pfree.mp", op_protected_free);
}
static void create_leaves_no_file_or_a_complete_one(void **state)
{
    const char *path = mpt_path("f_create.mp");
    (void)state;
    for (long n = 1;; n++) {
        struct mpt_faulty f;
        struct mp_options opt;
        mp_pager *p;
        int rc;
        remove(path);
        mpt_options(&opt);
        mpt_faulty_init(&f, opt.vfs ? opt.vfs : mp_vfs_posix(), n, MP_EIO, 0);
        opt.vfs = &f.vfs;
        rc = mp_pager_create(path, PS, &opt, &p);
        if (rc == MP_OK) {
            mp_pager_close(p);
            break;
        }
        assert_int_equal(rc, MP_EIO);
        assert_int_equal(mpt_file_size(path), UINT64_MAX);
        assert_true(n < 100);
    }
    mp_pager_close(mpt_open(path, PS));
}

static void open_failures_are_reported_and_harmless(void **state)
{
    const char *path = mpt_path("f_open.mp");
    (void)state;
    setup(path);
    for (long n = 1;; n++) {
        struct mpt_faulty f;
        struct mp_options opt;
        mp_pager *p;
        int rc;
        mpt_options(&opt);
        mpt_faulty_init(&f, opt.vfs ? opt.vfs : mp_vfs_posix(), n, MP_ENOMEM,
                        0);
        opt.vfs = &f.vfs;
        rc = mp_pager_open(path, PS, &opt, &p);
        if (rc == MP_OK) {
            mp_pager_close(p);
            break;
        }
        assert_int_equal(rc, MP_ENOMEM);
        assert_true(n < 100);
    }
    mp_pager_close(mpt_open(path, PS));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alloc_survives_faults),
        cmocka_unit_test(free_survives_faults),
        cmocka_unit_test(alloc_bulk_survives_faults),
        cmocka_unit_test(free_bulk_survives_faults),
        cmocka_unit_test(grow_survives_faults),
        cmocka_unit_test(protected_alloc_survives_faults),
        cmocka_unit_test(protected_commit_survives_faults),
        cmocka_unit_test(protected_free_survives_faults),
        cmocka_unit_test(create_leaves_no_file_or_a_complete_one),
        cmocka_unit_test(open_failures_are_reported_and_harmless),
    };
    /* Files here stay under 32 MiB and are reopened hundreds of times. */
    mpt_cap_reserve((uint64_t)64 << 20);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
