/*
 * test_big_file.c - a sparse file of 2^28 pages (1 TiB at 4 KiB pages):
 * growth, a commit whose cost does not depend on the size, reopen, and
 * iteration. Needs ~1 TiB of address space, so it is labelled nomemcheck.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

#define PS    4096
#define PAGES ((uint64_t)1 << 28)

static void a_sparse_2_28_page_file_works(void **state)
{
    const char *path = mpt_path("big.mp");
    mp_pager *p = mpt_create(path, PS);
    struct mp_pager_stats s0, s1;
    mp_pgno pgs[16], id;
    mp_iter it;
    uint64_t n = 0, free_before;
    (void)state;
    assert_int_equal(mp_pager_grow(p, PAGES), MP_OK);
    assert_int_equal(mp_pager_page_count(p), PAGES);
    /* One map leaf per 32768 pages, two copies each, plus index nodes. */
    assert_true(mp_pager_internal_count(p) >= 2 * (PAGES / (8 * PS)));
    free_before = mp_pager_free_count(p);

    /* A single alloc rewrites one leaf, its index node and the metadata. */
    mp_pager_stats(p, &s0);
    assert_int_equal(mp_pager_alloc(p, &pgs[0]), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.sync_calls - s0.sync_calls, 2);
    assert_true(s1.sync_bytes - s0.sync_bytes <= 3 * PS + 24);
    assert_int_equal(mp_pager_alloc_bulk(p, 15, pgs + 1), MP_OK);
    for (int i = 0; i < 16; i++) {
        void *w;
        assert_int_equal(mp_pager_get_mut(p, pgs[i], &w), MP_OK);
        memset(w, i + 1, PS);
        assert_int_equal(mp_pager_sync_pages(p, pgs[i], 1), MP_OK);
    }
    assert_int_equal(mp_pager_free_count(p), free_before - 16);
    mp_pager_close(p);

    p = mpt_open(path, PS);
    assert_int_equal(mp_pager_page_count(p), PAGES);
    assert_int_equal(mp_pager_free_count(p), free_before - 16);
    for (int i = 0; i < 16; i++) {
        const unsigned char *r;
        assert_int_equal(mp_pager_get(p, pgs[i], (const void **)&r), MP_OK);
        assert_int_equal(r[PS - 1], i + 1);
    }
    mp_for_each_page(&it, p, id) {
        assert_int_equal(id, pgs[n]);
        n++;
    }
    assert_int_equal(n, 16);
    /* The last group's leaf copies are internal and allocated. */
    assert_int_equal(mp_pager_free(p, PAGES - 8 * PS), MP_EINTERNAL);
    assert_int_equal(mp_pager_free(p, PAGES - 1), MP_EDOUBLEFREE);
    assert_int_equal(mp_pager_free_bulk(p, pgs, 16), MP_OK);
    mp_pager_close(p);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_sparse_2_28_page_file_works),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
