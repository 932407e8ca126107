/*
 * test_check_clean.c - files the core wrote, of many shapes, are CLEAN; the
 * checker's counts equal the pager's; the cross-check agrees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "check_util.h"

static void expect_clean(const char *path, size_t ps)
{
    struct mph_check_report r;
    cu_check(path, ps, &r);
    cu_assert_verdict(&r, MPH_CHECK_CLEAN);
    assert_int_equal(r.problem_count, 0);
    assert_string_equal(r.problem, "");
    assert_int_equal(r.cross_check, MPH_CROSS_AGREES);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_RECORD);
    assert_int_equal(r.recovery_would_choose, r.selected_copy);
    assert_true(mph_check_passed(&r));
    cu_assert_agrees(path, ps, &r);
    /* The caller's page size, or none, gives the same answer. */
    cu_check(path, 0, &r);
    cu_assert_verdict(&r, MPH_CHECK_CLEAN);
}

static void fresh_file_is_clean_and_copy_b_is_unwritten(void **state)
{
    static const size_t sizes[] = { 1024, 4096, 65536 };
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct mph_check_report r;
        const char *path = cu_empty("fresh.mp", sizes[i]);
        expect_clean(path, sizes[i]);
        cu_check(path, sizes[i], &r);
        assert_int_equal(r.page_count, 8);
        assert_int_equal(r.free_count, 3);
        assert_int_equal(r.regular_count, 0);
        assert_int_equal(r.internal_count, 2); /* leaf 0's two copies */
        assert_int_equal(r.generation, 1);
        assert_int_equal(r.selected_copy, 0);
        assert_true(r.copy[0].valid);
        assert_false(r.copy[1].header_ok);
        cu_assert_says(&r, "never written");
        /* Plus the device note where a writer would meet MP_EDEVICE (1 KiB
         * pages on /tmp's 4 KiB-sector disk: FORMAT.md 2.3). */
        assert_int_not_equal(r.device_sector, 0);
        if (sizes[i] < r.device_sector &&
            !(r.device_flags & MP_IO_DEV_POWERSAFE)) {
            cu_assert_says(&r, "read-write open fails with MP_EDEVICE");
            assert_int_equal(r.note_count, 2);
        } else {
            assert_int_equal(r.note_count, 1);
        }
    }
}

static void file_after_commits_has_both_copies_valid(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("two.mp", 4096);
    (void)state;
    expect_clean(path, 4096);
    cu_check(path, 4096, &r);
    assert_true(r.copy[0].valid && r.copy[1].valid);
    assert_int_equal(r.copy[0].generation, 1);
    assert_int_equal(r.copy[1].generation, 2);
    assert_int_equal(r.selected_copy, 1);
    assert_int_equal(r.regular_count, 1);
    assert_int_equal(r.note_count, 0);
}

static void grown_file_is_clean(void **state)
{
    const char *path = mpt_path("grown.mp");
    mp_pgno pages[100];
    mp_pager *p;
    (void)state;
    remove(path);
    p = mpt_create(path, 1024);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(mp_pager_alloc(p, &pages[i]), MP_OK);
    }
    assert_int_equal(mp_pager_close(p), MP_OK);
    expect_clean(path, 1024);
}

static void file_across_groups_is_clean(void **state)
{
    struct mph_check_report r;
    const char *path = mpt_path("groups.mp");
    mp_pgno pg;
    mp_pager *p;
    (void)state;
    remove(path);
    /* 1 KiB pages: a group is 8192 pages; three groups and a bit. */
    p = mpt_create(path, 1024);
    assert_int_equal(mp_pager_grow(p, 3 * 8192 + 1), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    expect_clean(path, 1024);
    cu_check(path, 1024, &r);
    assert_int_equal(r.map_leaves, 4);
    /* Rounded up past the last group's leaf copies. */
    assert_int_equal(r.page_count, 3 * 8192 + 3);
}

static void deep_map_tree_is_clean(void **state)
{
    struct mph_check_report r;
    const char *path = mpt_path("deepmap.mp");
    mp_pgno pg;
    mp_pager *p;
    (void)state;
    remove(path);
    /* 1 KiB pages: 18 map roots; 20 leaves need one index level. */
    p = mpt_create(path, 1024);
    assert_int_equal(mp_pager_grow(p, 20 * 8192), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    expect_clean(path, 1024);
    cu_check(path, 1024, &r);
    assert_int_equal(r.map_leaves, 20);
    assert_int_equal(r.map_depth, 1);
}

static void protected_pages_are_clean(void **state)
{
    const char *path = cu_mixed("mixed.mp", 4096);
    struct mph_check_report r;
    (void)state;
    expect_clean(path, 4096);
    cu_check(path, 4096, &r);
    assert_int_equal(r.protected_count, 2);
    assert_int_equal(r.slots, 3);
    /* 40 allocated, 6 freed, then 3 x 2 backing pages, 2 freed. */
    assert_int_equal(r.regular_count, 34);
    path = cu_mixed("mixed1k.mp", 1024);
    expect_clean(path, 1024);
}

static void deep_directory_tree_is_clean(void **state)
{
    static mp_protected_id ids[900];
    struct mph_check_report r;
    const char *path = mpt_path("deepdir.mp");
    mp_pager *p;
    void *w;
    (void)state;
    remove(path);
    /* 1 KiB pages: 42 entries per block, 19 directory roots: 798 slots
     * fit at depth 0, 900 need an index level. */
    p = mpt_create(path, 1024);
    assert_int_equal(mp_protected_alloc_bulk(p, 900, ids), MP_OK);
    assert_int_equal(mp_protected_begin(p, ids[850], &w), MP_OK);
    memset(w, 7, 1024);
    assert_int_equal(mp_protected_commit(p, ids[850]), MP_OK);
    assert_int_equal(mp_protected_free_bulk(p, ids + 100, 50), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    expect_clean(path, 1024);
    cu_check(path, 1024, &r);
    assert_int_equal(r.dir_depth, 1);
    assert_int_equal(r.protected_count, 850);
    assert_int_equal(r.slots, 900);
}

static void file_after_frees_is_clean(void **state)
{
    const char *path = mpt_path("frees.mp");
    mp_pgno pages[64];
    mp_protected_id prot[4];
    mp_pager *p;
    (void)state;
    remove(path);
    p = mpt_create(path, 4096);
    assert_int_equal(mp_pager_alloc_bulk(p, 64, pages), MP_OK);
    assert_int_equal(mp_protected_alloc_bulk(p, 4, prot), MP_OK);
    assert_int_equal(mp_pager_free_bulk(p, pages, 64), MP_OK);
    assert_int_equal(mp_protected_free_bulk(p, prot, 4), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    expect_clean(path, 4096);
}

static void readonly_image_check_matches_the_file_check(void **state)
{
    const char *path = cu_mixed("image.mp", 4096);
    struct mph_check_report a, b;
    uint64_t n = mpt_file_size(path);
    static unsigned char buf[1 << 20];
    (void)state;
    assert_true(n <= sizeof(buf));
    assert_int_equal(mpt_peek(path, 0, buf, n), 0);
    assert_int_equal(mph_check_image(buf, n, 0, &a), MP_OK);
    cu_check(path, 0, &b);
    assert_int_equal(a.verdict, b.verdict);
    assert_int_equal(a.cross_check, MPH_CROSS_SKIPPED);
    assert_int_equal(a.regular_count, b.regular_count);
    assert_int_equal(a.internal_count, b.internal_count);
    assert_int_equal(a.generation, b.generation);
    assert_int_equal(mph_check_file_ex(NULL, path, 0, MPH_CHECK_NO_CROSS, &b),
                     MP_OK);
    assert_int_equal(b.cross_check, MPH_CROSS_SKIPPED);
    assert_int_equal(b.verdict, MPH_CHECK_CLEAN);
}

int main(void)
{
    /* The largest file here is 160 MiB: reserve no more than needed, as
     * valgrind pays for every reserved byte. */
    mpt_cap_reserve((uint64_t)256 << 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_file_is_clean_and_copy_b_is_unwritten),
        cmocka_unit_test(file_after_commits_has_both_copies_valid),
        cmocka_unit_test(grown_file_is_clean),
        cmocka_unit_test(file_across_groups_is_clean),
        cmocka_unit_test(deep_map_tree_is_clean),
        cmocka_unit_test(protected_pages_are_clean),
        cmocka_unit_test(deep_directory_tree_is_clean),
        cmocka_unit_test(file_after_frees_is_clean),
        cmocka_unit_test(readonly_image_check_matches_the_file_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
