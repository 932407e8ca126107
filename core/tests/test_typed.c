/*
 * test_typed.c - the typed API of mappedpages/typed.h at run time: the
 * wrappers reach the right untyped calls, pass their page size, and
 * check it where a size can still be wrong (a file of another size, an
 * untyped pager). What must not compile is proved by tests/typed/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

MP_DECLARE_PAGE_SIZE(1024);
MP_DECLARE_PAGE_SIZE(4096);

static mp_pager_4096 create_4096(const char *name)
{
    struct mp_options opt;
    mp_pager_4096 p = { NULL };
    mpt_options(&opt);
    assert_int_equal(mp_pager_4096_create(mpt_path(name), &opt, &p), MP_OK);
    assert_non_null(p.p);
    return p;
}

static void typed_pages_reach_the_pager(void **state)
{
    mp_pager_4096 p = create_4096("pages.mp");
    mp_pgno_4096 a, bulk[3], dup[2];
    mp_page_iter_4096 it;
    unsigned char *w;
    const unsigned char *r;
    int n = 0;
    (void)state;

    assert_int_equal(mp_pager_page_size(p.p), 4096);
    assert_int_equal(mp_pager_4096_alloc(p, &a), MP_OK);
    assert_int_equal(mp_pager_4096_get_mut(p, a, (void **)&w), MP_OK);
    memset(w, 0x5A, 4096);
    assert_int_equal(mp_pager_4096_get(p, a, (const void **)&r), MP_OK);
    assert_ptr_equal(r, w);
    assert_int_equal(r[4095], 0x5A);
    assert_int_equal(mp_pager_4096_sync_pages(p, a, 1), MP_OK);
    assert_int_equal(mp_pager_4096_sync_pages(p, mp_pgno_4096_from(0), 0),
                     MP_OK);

    assert_int_equal(mp_pager_4096_alloc_bulk(p, 3, bulk), MP_OK);
    assert_true(bulk[0].v < bulk[1].v && bulk[1].v < bulk[2].v);
    /* The typed arrays reach the untyped bulk calls intact: a duplicate
     * is seen, and nothing is freed. */
    dup[0] = bulk[1];
    dup[1] = bulk[1];
    assert_int_equal(mp_pager_4096_free_bulk(p, dup, 2), MP_EDUPLICATE);
    assert_int_equal(mp_pager_4096_get(p, bulk[1], (const void **)&r), MP_OK);

    assert_int_equal(mp_page_iter_4096_start(&it, p), MP_OK);
    for (mp_pgno_4096 x; mp_page_iter_4096_next(&it, &x);) {
        assert_true(x.v == a.v || x.v == bulk[0].v || x.v == bulk[1].v ||
                    x.v == bulk[2].v);
        n++;
    }
    assert_int_equal(n, 4);
    /* Finishing early, and twice, is harmless. */
    assert_int_equal(mp_page_iter_4096_start(&it, p), MP_OK);
    mp_page_iter_4096_finish(&it);
    mp_page_iter_4096_finish(&it);

    assert_int_equal(mp_pager_4096_free_bulk(p, bulk, 3), MP_OK);
    assert_int_equal(mp_pager_4096_free(p, a), MP_OK);
    assert_int_equal(mp_pager_4096_free(p, a), MP_EDOUBLEFREE);
    assert_int_equal(mp_pager_4096_free(p, mp_pgno_4096_from(1)), MP_ERESERVED);
    assert_int_equal(mp_pager_4096_grow(p, 128), MP_OK);
    assert_true(mp_pager_4096_page_count(p) >= 128);
    assert_int_equal(mp_pager_4096_page_count(p) - mp_pager_4096_free_count(p),
                     3 + mp_pager_internal_count(p.p));
    assert_int_equal(mp_pager_4096_close(p), MP_OK);
}

static void typed_protected_pages_reach_the_pager(void **state)
{
    mp_pager_4096 p = create_4096("prot.mp");
    mp_protected_id_4096 id, bulk[2];
    mp_protected_iter_4096 it;
    const char *r;
    void *staging;
    int n = 0;
    (void)state;

    assert_int_equal(mp_protected_4096_alloc(p, &id), MP_OK);
    assert_int_equal(id.v & MP_ID_KIND_MASK, MP_ID_KIND_PROTECT);
    assert_int_equal(mp_protected_4096_begin(p, id, &staging), MP_OK);
    memcpy(staging, "new", 4);
    assert_int_equal(mp_protected_4096_get(p, id, (const void **)&r), MP_OK);
    assert_int_equal(r[0], 0);
    assert_int_equal(mp_protected_4096_commit(p, id), MP_OK);
    assert_int_equal(mp_protected_4096_get(p, id, (const void **)&r), MP_OK);
    assert_string_equal(r, "new");
    assert_int_equal(mp_protected_4096_begin(p, id, &staging), MP_OK);
    memcpy(staging, "old", 4);
    assert_int_equal(mp_protected_4096_abort(p, id), MP_OK);
    assert_int_equal(mp_protected_4096_commit(p, id), MP_ENOTSTAGED);
    assert_int_equal(mp_protected_4096_get(p, id, (const void **)&r), MP_OK);
    assert_string_equal(r, "new");

    assert_int_equal(mp_protected_4096_alloc_bulk(p, 2, bulk), MP_OK);
    assert_int_equal(mp_protected_4096_count(p), 3);
    assert_int_equal(mp_protected_iter_4096_start(&it, p), MP_OK);
    for (mp_protected_id_4096 x; mp_protected_iter_4096_next(&it, &x);) {
        assert_true(x.v == id.v || x.v == bulk[0].v || x.v == bulk[1].v);
        n++;
    }
    assert_int_equal(n, 3);
    mp_protected_iter_4096_finish(&it);
    assert_int_equal(mp_protected_4096_free_bulk(p, bulk, 2), MP_OK);
    assert_int_equal(mp_protected_4096_free(p, id), MP_OK);
    assert_int_equal(mp_protected_4096_free(p, id), MP_EDOUBLEFREE);
    assert_int_equal(mp_protected_4096_count(p), 0);
    /* Ids restored from the caller's storage are checked at use. */
    assert_int_equal(mp_protected_4096_free(p, mp_protected_id_4096_from(id.v)),
                     MP_EDOUBLEFREE);
    assert_int_equal(mp_protected_4096_free(p, mp_protected_id_4096_from(5)),
                     MP_EWRONGKIND);
    assert_int_equal(mp_pager_4096_close(p), MP_OK);
}

static void a_file_of_another_size_is_refused(void **state)
{
    const char *path = mpt_path("size.mp");
    struct mp_options opt;
    mp_pager_1024 small = { NULL };
    mp_pager_4096 big = { NULL };
    mp_pgno_1024 a;
    (void)state;

    mpt_options(&opt);
    assert_int_equal(mp_pager_1024_create(path, &opt, &small), MP_OK);
    assert_int_equal(mp_pager_page_size(small.p), 1024);
    assert_int_equal(mp_pager_1024_alloc(small, &a), MP_OK);
    assert_int_equal(mp_pager_1024_close(small), MP_OK);
    assert_int_equal(mp_pager_4096_open(path, &opt, &big), MP_EPAGESIZE);
    assert_null(big.p);
    assert_int_equal(mp_pager_1024_open(path, &opt, &small), MP_OK);
    assert_int_equal(mp_pager_1024_free(small, a), MP_OK);
    assert_int_equal(mp_pager_1024_close(small), MP_OK);
}

static void wrap_checks_the_page_size(void **state)
{
    mp_pager *raw = mpt_create(mpt_path("wrap.mp"), 4096);
    mp_pager_1024 small = { NULL };
    mp_pager_4096 big = { NULL };
    mp_pgno_4096 a;
    (void)state;

    assert_int_equal(mp_pager_1024_wrap(raw, &small), MP_EPAGESIZE);
    assert_null(small.p);
    assert_int_equal(mp_pager_4096_wrap(NULL, &big), MP_EINVAL);
    assert_int_equal(mp_pager_4096_wrap(raw, NULL), MP_EINVAL);
    assert_int_equal(mp_pager_4096_wrap(raw, &big), MP_OK);
    assert_ptr_equal(big.p, raw);
    assert_int_equal(mp_pager_4096_alloc(big, &a), MP_OK);
    assert_int_equal(mp_pager_4096_close(big), MP_OK);
}

static void null_out_arguments_are_refused(void **state)
{
    mp_pager_4096 p = create_4096("null.mp");
    mp_page_iter_4096 it;
    (void)state;
    assert_int_equal(mp_pager_4096_create(mpt_path("x.mp"), NULL, NULL),
                     MP_EINVAL);
    assert_int_equal(mp_pager_4096_open(mpt_path("x.mp"), NULL, NULL),
                     MP_EINVAL);
    assert_int_equal(mp_pager_4096_alloc(p, NULL), MP_EINVAL);
    assert_int_equal(mp_protected_4096_alloc(p, NULL), MP_EINVAL);
    assert_int_equal(mp_page_iter_4096_start(NULL, p), MP_EINVAL);
    assert_int_equal(mp_page_iter_4096_start(&it, p), MP_OK);
    assert_false(mp_page_iter_4096_next(&it, NULL));
    mp_page_iter_4096_finish(&it);
    mp_page_iter_4096_finish(NULL);
    assert_int_equal(mp_pager_4096_close(p), MP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(typed_pages_reach_the_pager),
        cmocka_unit_test(typed_protected_pages_reach_the_pager),
        cmocka_unit_test(a_file_of_another_size_is_refused),
        cmocka_unit_test(wrap_checks_the_page_size),
        cmocka_unit_test(null_out_arguments_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
