/*
 * test_allocator.c - the generic allocator interface: one contract, run
 * through the table against regular pages, protected pages and sub-page
 * slots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

#define PS   1024
#define SLOT 64
#define N    40 /* spans several parents of 16 slots */

/*
 * The contract every allocator keeps. `foreign` is an id of another kind;
 * the allocator must refuse it and change nothing.
 */
static void contract(const struct mp_allocator *a, uint64_t foreign)
{
    uint64_t id, ids[N], list[3];
    const unsigned char *r;
    unsigned char *w;

    assert_non_null(a->name);
    assert_int_equal(mp_allocator_alloc(a, &id), MP_OK);
    assert_int_equal(id & MP_ID_KIND_MASK, a->kind);
    assert_int_equal(mp_allocator_get(a, id, (const void **)&r), MP_OK);
    assert_non_null(r);
    /* Writing in place only where the kind's model allows it. */
    if (a->get_mut) {
        assert_int_equal(mp_allocator_get_mut(a, id, (void **)&w), MP_OK);
        assert_ptr_equal(w, r);
        memset(w, 0x5A, a->unit_size);
        assert_int_equal(r[0], 0x5A);
        assert_int_equal(r[a->unit_size - 1], 0x5A);
    } else {
        w = (unsigned char *)&w;
        assert_int_equal(mp_allocator_get_mut(a, id, (void **)&w),
                         MP_EWRONGKIND);
        assert_null(w);
    }

    /* Bulk: distinct, usable, all of our kind. */
    assert_int_equal(mp_allocator_alloc_bulk(a, N, ids), MP_OK);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(ids[i] & MP_ID_KIND_MASK, a->kind);
        assert_int_not_equal(ids[i], id);
        for (size_t j = 0; j < i; j++) {
            assert_int_not_equal(ids[i], ids[j]);
        }
        assert_int_equal(mp_allocator_get(a, ids[i], (const void **)&r), MP_OK);
    }
    assert_int_equal(mp_allocator_alloc_bulk(a, 0, ids), MP_ECOUNT);
    assert_int_equal(mp_allocator_free_bulk(a, ids, 0), MP_ECOUNT);

    /* free_bulk validates everything before freeing anything. */
    list[0] = ids[0];
    list[1] = ids[1];
    list[2] = ids[0];
    assert_int_equal(mp_allocator_free_bulk(a, list, 3), MP_EDUPLICATE);
    list[2] = foreign;
    assert_int_equal(mp_allocator_free_bulk(a, list, 3), MP_EWRONGKIND);
    assert_int_equal(mp_allocator_free(a, ids[N - 1]), MP_OK);
    assert_int_equal(mp_allocator_free_bulk(a, ids, N), MP_EDOUBLEFREE);
    for (size_t i = 0; i < N - 1; i++) {
        assert_int_equal(mp_allocator_get(a, ids[i], (const void **)&r), MP_OK);
    }

    /* Other kinds are refused. */
    assert_int_equal(mp_allocator_free(a, foreign), MP_EWRONGKIND);
    assert_int_equal(mp_allocator_get(a, foreign, (const void **)&r),
                     MP_EWRONGKIND);

    /* Freeing: gone afterwards, and a second free is a double free. */
    assert_int_equal(mp_allocator_free_bulk(a, ids, N - 1), MP_OK);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(mp_allocator_get(a, ids[i], (const void **)&r),
                         MP_EDOUBLEFREE);
    }
    assert_int_equal(mp_allocator_get(a, id, (const void **)&r), MP_OK);
    assert_int_equal(mp_allocator_free(a, id), MP_OK);
    assert_int_equal(mp_allocator_free(a, id), MP_EDOUBLEFREE);
}

static void regular_pages_keep_the_contract(void **state)
{
    mp_pager *p = mpt_create(mpt_path("reg.mp"), PS);
    struct mp_allocator a;
    mp_protected_id prot;
    (void)state;
    assert_int_equal(mp_allocator_regular(p, &a), MP_OK);
    assert_string_equal(a.name, "regular");
    assert_int_equal(a.kind, MP_ID_KIND_PAGE);
    assert_int_equal(a.unit_size, PS);
    assert_int_equal(mp_protected_alloc(p, &prot), MP_OK);
    contract(&a, prot);
    mp_pager_close(p);
}

static void protected_pages_keep_the_contract(void **state)
{
    mp_pager *p = mpt_create(mpt_path("prot.mp"), PS);
    struct mp_allocator a;
    mp_pgno pg;
    (void)state;
    assert_int_equal(mp_allocator_protected(p, &a), MP_OK);
    assert_string_equal(a.name, "protected");
    assert_int_equal(a.kind, MP_ID_KIND_PROTECT);
    assert_int_equal(a.unit_size, PS);
    assert_null(a.get_mut);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    contract(&a, pg);
    mp_pager_close(p);
}

static void subpage_slots_keep_the_contract(void **state)
{
    mp_pager *p = mpt_create(mpt_path("sub.mp"), PS);
    mp_subpage *sp;
    struct mp_allocator a;
    mp_pgno pg;
    (void)state;
    assert_int_equal(mp_subpage_create(p, SLOT, &sp), MP_OK);
    assert_int_equal(mp_allocator_subpage(sp, &a), MP_OK);
    assert_string_equal(a.name, "subpage");
    assert_int_equal(a.kind, MP_ID_KIND_SUBPAGE);
    assert_int_equal(a.unit_size, SLOT);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    contract(&a, pg);
    assert_int_equal(mp_subpage_parent_count(sp), 0);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void each_allocator_refuses_the_ids_of_the_others(void **state)
{
    mp_pager *p = mpt_create(mpt_path("cross.mp"), PS);
    mp_subpage *sp, *sp2;
    struct mp_allocator a[4];
    uint64_t ids[4];
    (void)state;
    assert_int_equal(mp_subpage_create(p, SLOT, &sp), MP_OK);
    assert_int_equal(mp_subpage_create(p, SLOT, &sp2), MP_OK);
    assert_int_equal(mp_allocator_regular(p, &a[0]), MP_OK);
    assert_int_equal(mp_allocator_protected(p, &a[1]), MP_OK);
    assert_int_equal(mp_allocator_subpage(sp, &a[2]), MP_OK);
    assert_int_equal(mp_allocator_subpage(sp2, &a[3]), MP_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(mp_allocator_alloc(&a[i], &ids[i]), MP_OK);
    }
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            int want = i == j                   ? MP_OK
                       : a[i].kind != a[j].kind ? MP_EWRONGKIND
                                                : MP_ENOTOWNER;
            const void *r;
            assert_int_equal(mp_allocator_get(&a[i], ids[j], &r), want);
            if (want != MP_OK) {
                assert_int_equal(mp_allocator_free(&a[i], ids[j]), want);
            }
        }
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(mp_allocator_free(&a[i], ids[i]), MP_OK);
    }
    mp_subpage_destroy(sp);
    mp_subpage_destroy(sp2);
    mp_pager_close(p);
}

static void constructors_refuse_null_arguments(void **state)
{
    mp_pager *p = mpt_create(mpt_path("null.mp"), PS);
    mp_subpage *sp;
    struct mp_allocator a;
    (void)state;
    assert_int_equal(mp_subpage_create(p, SLOT, &sp), MP_OK);
    assert_int_equal(mp_allocator_regular(NULL, &a), MP_EINVAL);
    assert_int_equal(mp_allocator_regular(p, NULL), MP_EINVAL);
    assert_int_equal(mp_allocator_protected(NULL, &a), MP_EINVAL);
    assert_int_equal(mp_allocator_protected(p, NULL), MP_EINVAL);
    assert_int_equal(mp_allocator_subpage(NULL, &a), MP_EINVAL);
    assert_int_equal(mp_allocator_subpage(sp, NULL), MP_EINVAL);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

/* A user-built table reaches the same wrappers. */
struct counter {
    uint64_t next;
    unsigned char unit[16];
};
static int c_alloc(void *ctx, uint64_t *id)
{
    *id = ((struct counter *)ctx)->next++;
    return MP_OK;
}
static int c_free(void *ctx, uint64_t id)
{
    return id < ((struct counter *)ctx)->next ? MP_OK : MP_EDOUBLEFREE;
}
static int c_get(void *ctx, uint64_t id, const void **bytes)
{
    (void)id;
    *bytes = ((struct counter *)ctx)->unit;
    return MP_OK;
}
static int c_alloc_bulk(void *ctx, size_t count, uint64_t *ids)
{
    for (size_t i = 0; i < count; i++) {
        c_alloc(ctx, &ids[i]);
    }
    return count ? MP_OK : MP_ECOUNT;
}
static int c_free_bulk(void *ctx, const uint64_t *ids, size_t count)
{
    (void)ids;
    (void)ctx;
    return count ? MP_OK : MP_ECOUNT;
}

static void a_user_table_works_through_the_wrappers(void **state)
{
    struct counter c = { 7, { 0 } };
    struct mp_allocator a = { "counter",    MP_ID_KIND_PAGE, 16,    &c,
                              c_alloc,      c_free,          c_get, NULL,
                              c_alloc_bulk, c_free_bulk };
    uint64_t id, ids[3];
    const void *r;
    void *w = &w;
    (void)state;
    assert_int_equal(mp_allocator_alloc(&a, &id), MP_OK);
    assert_int_equal(id, 7);
    assert_int_equal(mp_allocator_alloc_bulk(&a, 3, ids), MP_OK);
    assert_int_equal(ids[2], 10);
    assert_int_equal(mp_allocator_get(&a, id, &r), MP_OK);
    assert_ptr_equal(r, c.unit);
    assert_int_equal(mp_allocator_get_mut(&a, id, &w), MP_EWRONGKIND);
    assert_null(w);
    assert_int_equal(mp_allocator_free(&a, 99), MP_EDOUBLEFREE);
    assert_int_equal(mp_allocator_free_bulk(&a, ids, 3), MP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(regular_pages_keep_the_contract),
        cmocka_unit_test(protected_pages_keep_the_contract),
        cmocka_unit_test(subpage_slots_keep_the_contract),
        cmocka_unit_test(each_allocator_refuses_the_ids_of_the_others),
        cmocka_unit_test(constructors_refuse_null_arguments),
        cmocka_unit_test(a_user_table_works_through_the_wrappers),
    };
    /* Files here stay small; under valgrind each pager's reservation
     * costs time in proportion to its size. */
    mpt_cap_reserve((uint64_t)64 << 20);
    /* Run one test by name pattern, e.g. under valgrind. */
    if (getenv("MPT_TEST_FILTER")) {
        cmocka_set_test_filter(getenv("MPT_TEST_FILTER"));
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
