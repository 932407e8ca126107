/*
 * test_pager.c - create, open, close, accessors, regular pages, bulk calls,
 * growth and persistence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

static void create_makes_an_empty_file_that_reopens(void **state)
{
    const char *path = mpt_path("empty.mp");
    struct mp_recovery_info ri;
    mp_pager *p = mpt_create(path, 4096);
    (void)state;
    assert_int_equal(mp_pager_page_size(p), 4096);
    assert_int_equal(mp_pager_page_count(p), 8);
    /* Pages 0-2 reserved, 3-4 the first map leaf's copies. */
    assert_int_equal(mp_pager_free_count(p), 3);
    assert_int_equal(mp_pager_internal_count(p), 2);
    assert_false(mp_pager_is_readonly(p));
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_CREATED);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(mpt_file_size(path), 8 * 4096);

    p = mpt_open(path, 4096);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
    assert_false(ri.fallback);
    assert_int_equal(ri.chosen_copy, 0);
    assert_int_equal(ri.generation, 1);
    assert_true(ri.copy_valid[0]);
    assert_false(ri.copy_valid[1]);
    assert_int_equal(mp_pager_free_count(p), 3);
    assert_int_equal(mp_pager_close(p), MP_OK);
}

static void create_refuses_an_existing_file(void **state)
{
    const char *path = mpt_path("exists.mp");
    struct mp_options opt;
    mp_pager *p = mpt_create(path, 4096), *q = (mp_pager *)1;
    (void)state;
    mp_pager_close(p);
    mpt_options(&opt);
    assert_int_equal(mp_pager_create(path, 4096, &opt, &q), MP_EEXIST);
    assert_null(q);
}

static void create_refuses_bad_page_sizes(void **state)
{
    static const size_t bad[] = { 0, 512, 1000, 3000, 4097, (size_t)1 << 25 };
    struct mp_options opt;
    mp_pager *p;
    (void)state;
    mpt_options(&opt);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mp_pager_create(mpt_path("bad.mp"), bad[i], &opt, &p),
                         MP_EPAGESIZE);
        assert_int_equal(mpt_file_size(mpt_path("bad.mp")), UINT64_MAX);
    }
}

static void create_works_for_every_page_size_from_1k_to_1m(void **state)
{
    (void)state;
    for (size_t ps = 1024; ps <= ((size_t)1 << 20); ps *= 2) {
        const char *path = mpt_path("sizes.mp");
        mp_pgno pg;
        void *b;
        mp_pager *p = mpt_create(path, ps);
        assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
        assert_int_equal(mp_pager_get_mut(p, pg, &b), MP_OK);
        memset(b, 0xA5, ps);
        assert_int_equal(mp_pager_sync_pages(p, pg, 1), MP_OK);
        mp_pager_close(p);
        p = mpt_open(path, 0);
        assert_int_equal(mp_pager_page_size(p), ps);
        assert_int_equal(mp_pager_get(p, pg, (const void **)&b), MP_OK);
        assert_int_equal(((unsigned char *)b)[ps - 1], 0xA5);
        mp_pager_close(p);
        remove(path);
    }
}

static void
create_and_open_refuse_null_arguments_and_readonly_create(void **state)
{
    struct mp_options opt;
    mp_pager *p;
    (void)state;
    mpt_options(&opt);
    assert_int_equal(mp_pager_create(NULL, 4096, &opt, &p), MP_EINVAL);
    assert_int_equal(mp_pager_create("x", 4096, &opt, NULL), MP_EINVAL);
    assert_int_equal(mp_pager_open(NULL, 4096, &opt, &p), MP_EINVAL);
    opt.flags = MP_OPEN_READONLY;
    assert_int_equal(mp_pager_create(mpt_path("ro.mp"), 4096, &opt, &p),
                     MP_EINVAL);
    mpt_options(&opt);
    opt.version = 99;
    assert_int_equal(mp_pager_create(mpt_path("v.mp"), 4096, &opt, &p),
                     MP_EINVAL);
    assert_int_equal(mp_pager_close(NULL), MP_OK);
}

static void open_of_a_missing_file_is_enoent(void **state)
{
    struct mp_options opt;
    mp_pager *p;
    (void)state;
    mpt_options(&opt);
    assert_int_equal(mp_pager_open(mpt_path("missing.mp"), 4096, &opt, &p),
                     MP_ENOENT);
}

static void open_with_another_page_size_is_epagesize(void **state)
{
    const char *path = mpt_path("ps.mp");
    struct mp_options opt;
    mp_pager *p = mpt_create(path, 4096);
    (void)state;
    mp_pager_close(p);
    mpt_options(&opt);
    assert_int_equal(mp_pager_open(path, 1024, &opt, &p), MP_EPAGESIZE);
    assert_int_equal(mp_pager_open(path, 3000, &opt, &p), MP_EPAGESIZE);
}

static void alloc_returns_distinct_pages_and_free_reuses_them(void **state)
{
    const char *path = mpt_path("alloc.mp");
    mp_pager *p = mpt_create(path, 1024);
    mp_pgno a, b, c;
    (void)state;
    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &b), MP_OK);
    assert_true(a >= 5 && b >= 5 && a != b);
    assert_int_equal(mp_pager_free(p, a), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &c), MP_OK);
    assert_int_equal(c, a);
    assert_int_equal(mp_pager_alloc(p, NULL), MP_EINVAL);
    mp_pager_close(p);
}

static void free_distinguishes_every_bad_id(void **state)
{
    const char *path = mpt_path("badfree.mp");
    mp_pager *p = mpt_create(path, 1024);
    mp_pgno a;
    uint64_t before;
    (void)state;
    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    before = mp_pager_free_count(p);
    assert_int_equal(mp_pager_free(p, 0), MP_ERESERVED);
    assert_int_equal(mp_pager_free(p, 2), MP_ERESERVED);
    assert_int_equal(mp_pager_free(p, 3), MP_EINTERNAL);
    assert_int_equal(mp_pager_free(p, 4), MP_EINTERNAL);
    assert_int_equal(mp_pager_free(p, 1000000), MP_EOUTOFBOUNDS);
    assert_int_equal(mp_pager_free(p, MP_ID_KIND_PROTECT | 0), MP_EWRONGKIND);
    assert_int_equal(mp_pager_free(p, MP_ID_KIND_SUBPAGE | a), MP_EWRONGKIND);
    assert_int_equal(mp_pager_free(p, a + 1), MP_EDOUBLEFREE);
    assert_int_equal(mp_pager_free(p, a), MP_OK);
    assert_int_equal(mp_pager_free(p, a), MP_EDOUBLEFREE);
    assert_int_equal(mp_pager_free_count(p), before + 1);
    mp_pager_close(p);
}

static void
get_refuses_free_reserved_internal_and_out_of_range_pages(void **state)
{
    mp_pager *p = mpt_create(mpt_path("get.mp"), 1024);
    const void *r = (const void *)1;
    void *w = (void *)1;
    mp_pgno a;
    (void)state;
    assert_int_equal(mp_pager_get(p, 1, &r), MP_ERESERVED);
    assert_null(r);
    assert_int_equal(mp_pager_get_mut(p, 2, &w), MP_ERESERVED);
    assert_null(w);
    assert_int_equal(mp_pager_get(p, 3, &r), MP_EINTERNAL);
    assert_int_equal(mp_pager_get(p, 7, &r), MP_EDOUBLEFREE);
    assert_int_equal(mp_pager_get(p, 8, &r), MP_EOUTOFBOUNDS);
    assert_int_equal(mp_pager_get(p, MP_ID_KIND_PROTECT, &r), MP_EWRONGKIND);
    assert_int_equal(mp_pager_get(p, 7, NULL), MP_EINVAL);
    assert_int_equal(mp_pager_get_mut(p, 7, NULL), MP_EINVAL);
    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    assert_int_equal(mp_pager_get(p, a, &r), MP_OK);
    assert_int_equal(mp_pager_get_mut(p, a, &w), MP_OK);
    assert_ptr_equal(r, w);
    mp_pager_close(p);
}

static void alloc_bulk_takes_the_lowest_pages_in_one_commit(void **state)
{
    mp_pager *p = mpt_create(mpt_path("bulk.mp"), 1024);
    struct mp_pager_stats s0, s1;
    mp_pgno ids[100];
    (void)state;
    mp_pager_stats(p, &s0);
    assert_int_equal(mp_pager_alloc_bulk(p, 100, ids), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.commits - s0.commits, 1);
    assert_int_equal(s1.sync_calls - s0.sync_calls, 2);
    for (int i = 1; i < 100; i++) {
        assert_true(ids[i] > ids[i - 1]);
    }
    assert_int_equal(ids[0], 5);
    assert_int_equal(mp_pager_alloc_bulk(p, 0, ids), MP_ECOUNT);
    assert_int_equal(mp_pager_alloc_bulk(p, 1, NULL), MP_EINVAL);
    assert_int_equal(mp_pager_free_bulk(p, ids, 100), MP_OK);
    assert_int_equal(mp_pager_free_bulk(p, ids, 0), MP_ECOUNT);
    assert_int_equal(mp_pager_free_bulk(p, NULL, 1), MP_EINVAL);
    mp_pager_close(p);
}

static void free_bulk_validates_everything_before_freeing_anything(void **state)
{
    mp_pager *p = mpt_create(mpt_path("fbulk.mp"), 1024);
    mp_pgno ids[4], bad[4];
    uint64_t before;
    (void)state;
    assert_int_equal(mp_pager_alloc_bulk(p, 4, ids), MP_OK);
    before = mp_pager_free_count(p);

    memcpy(bad, ids, sizeof(bad));
    bad[3] = bad[1];
    assert_int_equal(mp_pager_free_bulk(p, bad, 4), MP_EDUPLICATE);
    bad[3] = 1;
    assert_int_equal(mp_pager_free_bulk(p, bad, 4), MP_ERESERVED);
    bad[3] = 99999;
    assert_int_equal(mp_pager_free_bulk(p, bad, 4), MP_EOUTOFBOUNDS);
    bad[3] = 3;
    assert_int_equal(mp_pager_free_bulk(p, bad, 4), MP_EINTERNAL);
    bad[3] = MP_ID_KIND_PROTECT;
    assert_int_equal(mp_pager_free_bulk(p, bad, 4), MP_EWRONGKIND);
    bad[3] = ids[3] + 1;
    assert_int_equal(mp_pager_free_bulk(p, bad, 4), MP_EDOUBLEFREE);
    assert_int_equal(mp_pager_free_count(p), before);
    for (int i = 0; i < 4; i++) {
        const void *b;
        assert_int_equal(mp_pager_get(p, ids[i], &b), MP_OK);
    }
    assert_int_equal(mp_pager_free_bulk(p, ids, 4), MP_OK);
    assert_int_equal(mp_pager_free_count(p), before + 4);
    mp_pager_close(p);
}

static void growth_keeps_pointers_and_bytes_valid(void **state)
{
    const char *path = mpt_path("grow.mp");
    mp_pager *p = mpt_create(path, 1024);
    unsigned char *first;
    mp_pgno a, many[3000];
    uint64_t count0 = mp_pager_page_count(p);
    struct mp_pager_stats s;
    (void)state;
    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    assert_int_equal(mp_pager_get_mut(p, a, (void **)&first), MP_OK);
    memset(first, 0x5C, 1024);
    /* Several doublings, then past a group (8192 pages at 1 KiB). */
    for (int i = 0; i < 20; i++) {
        mp_pgno x;
        assert_int_equal(mp_pager_alloc(p, &x), MP_OK);
    }
    assert_true(mp_pager_page_count(p) > count0);
    assert_int_equal(mp_pager_alloc_bulk(p, 3000, many), MP_OK);
    assert_int_equal(mp_pager_alloc_bulk(p, 3000, many), MP_OK);
    assert_int_equal(mp_pager_alloc_bulk(p, 3000, many), MP_OK);
    assert_true(mp_pager_page_count(p) > 8192);
    mp_pager_stats(p, &s);
    assert_true(s.file_syncs >= 4);
    /* The pointer taken before every growth still reaches the page. */
    for (int i = 0; i < 1024; i++) {
        assert_int_equal(first[i], 0x5C);
    }
    assert_int_equal(mp_pager_sync_pages(p, 0, 0), MP_OK);
    mp_pager_close(p);
    p = mpt_open(path, 1024);
    assert_int_equal(mp_pager_get(p, a, (const void **)&first), MP_OK);
    assert_int_equal(first[1023], 0x5C);
    for (int i = 0; i < 3000; i++) {
        const void *b;
        assert_int_equal(mp_pager_get(p, many[i], &b), MP_OK);
    }
    /* The second group's leaf copies are internal. */
    assert_int_equal(mp_pager_free(p, 8192), MP_EINTERNAL);
    assert_int_equal(mp_pager_free(p, 8193), MP_EINTERNAL);
    mp_pager_close(p);
}

static void allocation_state_persists_across_reopen(void **state)
{
    const char *path = mpt_path("persist.mp");
    mp_pager *p = mpt_create(path, 4096);
    mp_pgno ids[10];
    uint64_t free0;
    (void)state;
    assert_int_equal(mp_pager_alloc_bulk(p, 10, ids), MP_OK);
    assert_int_equal(mp_pager_free(p, ids[3]), MP_OK);
    free0 = mp_pager_free_count(p);
    mp_pager_close(p);
    p = mpt_open(path, 4096);
    assert_int_equal(mp_pager_free_count(p), free0);
    for (int i = 0; i < 10; i++) {
        const void *b;
        assert_int_equal(mp_pager_get(p, ids[i], &b),
                         i == 3 ? MP_EDOUBLEFREE : MP_OK);
    }
    mp_pager_close(p);
}

static void grow_preallocates_in_one_commit(void **state)
{
    mp_pager *p = mpt_create(mpt_path("pre.mp"), 1024);
    struct mp_pager_stats s0, s1;
    (void)state;
    mp_pager_stats(p, &s0);
    assert_int_equal(mp_pager_grow(p, 100000), MP_OK);
    mp_pager_stats(p, &s1);
    assert_true(mp_pager_page_count(p) >= 100000);
    assert_int_equal(s1.commits - s0.commits, 1);
    assert_int_equal(s1.sync_calls - s0.sync_calls, 2);
    assert_int_equal(s1.file_syncs - s0.file_syncs, 1);
    assert_int_equal(mp_pager_grow(p, 10), MP_OK);
    assert_int_equal(mp_pager_grow(p, MP_MAX_PAGES + 1), MP_ELIMIT);
    mp_pager_close(p);
}

static void growth_past_the_reservation_is_elimit(void **state)
{
    struct mp_options opt;
    mp_pager *p;
    mp_pgno ids[64], one;
    uint64_t free0, total0;
    (void)state;
    mpt_options(&opt);
    opt.reserve_bytes = 64 * 1024;
    assert_int_equal(mp_pager_create(mpt_path("res.mp"), 1024, &opt, &p),
                     MP_OK);
    assert_int_equal(mp_pager_alloc_bulk(p, 40, ids), MP_OK);
    free0 = mp_pager_free_count(p);
    total0 = mp_pager_page_count(p);
    assert_int_equal(mp_pager_alloc_bulk(p, 64, ids), MP_ELIMIT);
    /* Nothing changed; the pager is still usable. */
    assert_int_equal(mp_pager_free_count(p), free0);
    assert_int_equal(mp_pager_page_count(p), total0);
    assert_int_equal(mp_pager_free(p, ids[0]), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &one), MP_OK);
    assert_int_equal(one, ids[0]);
    mp_pager_close(p);
}

static void strerror_and_names_cover_every_code(void **state)
{
    (void)state;
    /* Every code of the list (values may have gaps: some are set aside
     * for work not merged yet). */
    static const int codes[] = {
#define CODE(name, value, msg) value,
        MP_ERROR_MAP(CODE)
#undef CODE
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        int e = codes[i];
        assert_true(e >= MP_ERROR_MIN && e <= 0);
        assert_string_not_equal(mp_strerror(e), "unknown error");
        assert_string_not_equal(mp_error_name(e), "MP_E?");
    }
    assert_string_equal(mp_strerror(1), "unknown error");
    assert_string_equal(mp_error_name(MP_EIO), "MP_EIO");
    assert_int_equal(mp_version(), 0x000100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_makes_an_empty_file_that_reopens),
        cmocka_unit_test(create_refuses_an_existing_file),
        cmocka_unit_test(create_refuses_bad_page_sizes),
        cmocka_unit_test(create_works_for_every_page_size_from_1k_to_1m),
        cmocka_unit_test(
            create_and_open_refuse_null_arguments_and_readonly_create),
        cmocka_unit_test(open_of_a_missing_file_is_enoent),
        cmocka_unit_test(open_with_another_page_size_is_epagesize),
        cmocka_unit_test(alloc_returns_distinct_pages_and_free_reuses_them),
        cmocka_unit_test(free_distinguishes_every_bad_id),
        cmocka_unit_test(
            get_refuses_free_reserved_internal_and_out_of_range_pages),
        cmocka_unit_test(alloc_bulk_takes_the_lowest_pages_in_one_commit),
        cmocka_unit_test(
            free_bulk_validates_everything_before_freeing_anything),
        cmocka_unit_test(growth_keeps_pointers_and_bytes_valid),
        cmocka_unit_test(allocation_state_persists_across_reopen),
        cmocka_unit_test(grow_preallocates_in_one_commit),
        cmocka_unit_test(growth_past_the_reservation_is_elimit),
        cmocka_unit_test(strerror_and_names_cover_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
