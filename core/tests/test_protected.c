/*
 * test_protected.c - protected (copy-on-write) pages and their directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

#define PS 1024

static void new_protected_page_reads_as_zeros_even_when_reused(void **state)
{
    const char *path = mpt_path("zero.mp");
    mp_pager *p = mpt_create(path, PS);
    mp_pgno pages[8];
    mp_protected_id id;
    const unsigned char *b;
    (void)state;
    /* Dirty some pages, free them, then let protected pages reuse them. */
    assert_int_equal(mp_pager_alloc_bulk(p, 8, pages), MP_OK);
    for (int i = 0; i < 8; i++) {
        void *w;
        assert_int_equal(mp_pager_get_mut(p, pages[i], &w), MP_OK);
        memset(w, 0x55, PS);
    }
    assert_int_equal(mp_pager_free_bulk(p, pages, 8), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(id & MP_ID_KIND_MASK, MP_ID_KIND_PROTECT);
    assert_int_equal(mp_protected_get(p, id, (const void **)&b), MP_OK);
    for (int i = 0; i < PS; i++) {
        assert_int_equal(b[i], 0);
    }
    assert_int_equal(mp_protected_count(p), 1);
    mp_pager_close(p);
}

static void commit_makes_the_staged_content_live_and_durable(void **state)
{
    const char *path = mpt_path("commit.mp");
    mp_pager *p = mpt_create(path, PS);
    mp_protected_id id;
    struct mp_pager_stats s0, s1;
    unsigned char *w;
    const unsigned char *r;
    (void)state;
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(mp_protected_begin(p, id, (void **)&w), MP_OK);
    memset(w, 0x11, PS);
    /* Uncommitted bytes are invisible to readers. */
    assert_int_equal(mp_protected_get(p, id, (const void **)&r), MP_OK);
    assert_int_equal(r[0], 0);
    mp_pager_stats(p, &s0);
    assert_int_equal(mp_protected_commit(p, id), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.sync_calls - s0.sync_calls, 2);
    assert_int_equal(mp_protected_get(p, id, (const void **)&r), MP_OK);
    assert_int_equal(r[PS - 1], 0x11);

    /* The staging copy starts from the live content, not an older one. */
    assert_int_equal(mp_protected_begin(p, id, (void **)&w), MP_OK);
    assert_int_equal(w[7], 0x11);
    w[0] = 0x22;
    assert_int_equal(mp_protected_commit(p, id), MP_OK);
    assert_int_equal(mp_protected_begin(p, id, (void **)&w), MP_OK);
    assert_int_equal(w[0], 0x22);
    assert_int_equal(w[1], 0x11);
    w[1] = 0x33;
    assert_int_equal(mp_protected_abort(p, id), MP_OK);
    mp_pager_close(p);

    p = mpt_open(path, PS);
    assert_int_equal(mp_protected_get(p, id, (const void **)&r), MP_OK);
    assert_int_equal(r[0], 0x22);
    assert_int_equal(r[1], 0x11);
    assert_int_equal(mp_protected_count(p), 1);
    mp_pager_close(p);
}

static void misuse_gets_distinct_errors_and_changes_nothing(void **state)
{
    mp_pager *p = mpt_create(mpt_path("misuse.mp"), PS);
    mp_protected_id id, ids[2];
    mp_pgno pg;
    void *w;
    const void *r;
    uint64_t free0;
    (void)state;
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    free0 = mp_pager_free_count(p);

    assert_int_equal(mp_protected_commit(p, id), MP_ENOTSTAGED);
    assert_int_equal(mp_protected_abort(p, id), MP_ENOTSTAGED);
    assert_int_equal(mp_protected_begin(p, id, &w), MP_OK);
    assert_int_equal(mp_protected_begin(p, id, &w), MP_ESTAGED);
    assert_int_equal(mp_protected_abort(p, id), MP_OK);
    assert_int_equal(mp_protected_begin(p, id, NULL), MP_EINVAL);

    assert_int_equal(mp_pager_free(p, id), MP_EWRONGKIND);
    assert_int_equal(mp_protected_free(p, pg), MP_EWRONGKIND);
    assert_int_equal(mp_protected_get(p, pg, &r), MP_EWRONGKIND);
    assert_int_equal(mp_protected_get(p, MP_ID_KIND_PROTECT | 99, &r),
                     MP_EOUTOFBOUNDS);
    assert_int_equal(mp_protected_alloc_bulk(p, 0, ids), MP_ECOUNT);
    assert_int_equal(mp_protected_free_bulk(p, ids, 0), MP_ECOUNT);
    ids[0] = id;
    ids[1] = id;
    assert_int_equal(mp_protected_free_bulk(p, ids, 2), MP_EDUPLICATE);
    ids[1] = MP_ID_KIND_PROTECT | 50;
    assert_int_equal(mp_protected_free_bulk(p, ids, 2), MP_EOUTOFBOUNDS);
    assert_int_equal(mp_protected_count(p), 1);
    assert_int_equal(mp_pager_free_count(p), free0);

    /* The backing pages are internal, not regular pages. */
    assert_int_equal(mp_protected_get(p, id, &r), MP_OK);
    assert_int_equal(mp_protected_free(p, id), MP_OK);
    assert_int_equal(mp_protected_free(p, id), MP_EDOUBLEFREE);
    assert_int_equal(mp_protected_get(p, id, &r), MP_EDOUBLEFREE);
    assert_int_equal(mp_pager_free_count(p), free0 + 2);
    mp_pager_close(p);
}

static void backing_pages_are_internal(void **state)
{
    mp_pager *p = mpt_create(mpt_path("internal.mp"), PS);
    mp_protected_id id;
    uint64_t internal0 = mp_pager_internal_count(p);
    (void)state;
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    /* Two backing pages and the directory block's two copies. */
    assert_int_equal(mp_pager_internal_count(p), internal0 + 4);
    for (uint64_t pg = 5; pg < mp_pager_page_count(p); pg++) {
        const void *r;
        int rc = mp_pager_get(p, pg, &r);
        assert_true(rc == MP_EINTERNAL || rc == MP_EDOUBLEFREE);
        assert_int_equal(mp_pager_free(p, pg),
                         rc == MP_EINTERNAL ? MP_EINTERNAL : MP_EDOUBLEFREE);
    }
    mp_pager_close(p);
}

static void bulk_protected_calls_are_one_commit_each(void **state)
{
    const char *path = mpt_path("pbulk.mp");
    mp_pager *p = mpt_create(path, PS);
    mp_protected_id ids[300];
    struct mp_pager_stats s0, s1;
    (void)state;
    mp_pager_stats(p, &s0);
    /* 300 slots at 42 per block: several blocks, and an index level. */
    assert_int_equal(mp_protected_alloc_bulk(p, 300, ids), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.commits - s0.commits, 1);
    assert_int_equal(s1.sync_calls - s0.sync_calls, 2);
    for (int i = 0; i < 300; i++) {
        assert_int_equal(ids[i], MP_ID_KIND_PROTECT | (uint64_t)i);
    }
    for (int i = 0; i < 300; i += 7) {
        unsigned char *w;
        assert_int_equal(mp_protected_begin(p, ids[i], (void **)&w), MP_OK);
        memset(w, i & 0xFF, PS);
        assert_int_equal(mp_protected_commit(p, ids[i]), MP_OK);
    }
    mp_pager_close(p);
    p = mpt_open(path, PS);
    assert_int_equal(mp_protected_count(p), 300);
    for (int i = 0; i < 300; i += 7) {
        const unsigned char *r;
        assert_int_equal(mp_protected_get(p, ids[i], (const void **)&r), MP_OK);
        assert_int_equal(r[PS / 2], i & 0xFF);
    }
    mp_pager_stats(p, &s0);
    assert_int_equal(mp_protected_free_bulk(p, ids, 300), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.commits - s0.commits, 1);
    assert_int_equal(mp_protected_count(p), 0);
    /* Slots are reused lowest first. */
    assert_int_equal(mp_protected_alloc(p, &ids[0]), MP_OK);
    assert_int_equal(ids[0], MP_ID_KIND_PROTECT | 0);
    mp_pager_close(p);
}

static void regular_and_protected_pages_coexist(void **state)
{
    const char *path = mpt_path("mix.mp");
    mp_pager *p = mpt_create(path, PS);
    mp_pgno pgs[50];
    mp_protected_id ids[20];
    (void)state;
    for (int round = 0; round < 3; round++) {
        assert_int_equal(mp_pager_alloc_bulk(p, 50, pgs), MP_OK);
        assert_int_equal(mp_protected_alloc_bulk(p, 20, ids), MP_OK);
        for (int i = 0; i < 50; i++) {
            void *w;
            assert_int_equal(mp_pager_get_mut(p, pgs[i], &w), MP_OK);
            for (int j = 0; j < 20; j++) {
                const void *r;
                assert_int_equal(mp_protected_get(p, ids[j], &r), MP_OK);
                assert_ptr_not_equal(r, w);
            }
        }
        assert_int_equal(mp_pager_free_bulk(p, pgs, 25), MP_OK);
        assert_int_equal(mp_protected_free_bulk(p, ids, 10), MP_OK);
    }
    mp_pager_close(p);
    p = mpt_open(path, PS);
    assert_int_equal(mp_protected_count(p), 30);
    mp_pager_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_protected_page_reads_as_zeros_even_when_reused),
        cmocka_unit_test(commit_makes_the_staged_content_live_and_durable),
        cmocka_unit_test(misuse_gets_distinct_errors_and_changes_nothing),
        cmocka_unit_test(backing_pages_are_internal),
        cmocka_unit_test(bulk_protected_calls_are_one_commit_each),
        cmocka_unit_test(regular_and_protected_pages_coexist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
