/*
 * test_subpage.c - the sub-page (slab) allocator.
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

#define PS   1024
#define SLOT 64 /* 16 slots per parent */
#define PER  (PS / SLOT)

static mp_subpage *make(mp_pager *p, size_t slot)
{
    mp_subpage *sp = NULL;
    assert_int_equal(mp_subpage_create(p, slot, &sp), MP_OK);
    assert_non_null(sp);
    return sp;
}

/* A pager with room to spare, so parents come and go without growth. */
static mp_pager *roomy(const char *name)
{
    mp_pager *p = mpt_create(mpt_path(name), PS);
    assert_int_equal(mp_pager_grow(p, 256), MP_OK);
    return p;
}

static void assert_live(const mp_subpage *sp, const mp_subpage_id *ids,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const void *r;
        assert_int_equal(mp_subpage_get(sp, ids[i], &r), MP_OK);
    }
}

static void create_refuses_bad_slot_sizes(void **state)
{
    mp_pager *p = mpt_create(mpt_path("sizes.mp"), PS);
    mp_subpage *sp = (mp_subpage *)&sp;
    (void)state;
    static const size_t bad[] = { 0, 3, 48, 100, PS / 128, 8, 1, PS, 2 * PS };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(mp_subpage_create(p, bad[i], &sp), MP_EPAGESIZE);
        assert_null(sp);
    }
    assert_int_equal(mp_subpage_create(NULL, SLOT, &sp), MP_EINVAL);
    assert_int_equal(mp_subpage_create(p, SLOT, NULL), MP_EINVAL);
    /* The extremes that are allowed: 64 slots and 2 slots per page. */
    sp = make(p, PS / 64);
    assert_int_equal(mp_subpage_slots_per_parent(sp), 64);
    assert_int_equal(mp_subpage_slot_size(sp), PS / 64);
    mp_subpage_destroy(sp);
    sp = make(p, PS / 2);
    assert_int_equal(mp_subpage_slots_per_parent(sp), 2);
    assert_ptr_equal(mp_subpage_pager(sp), p);
    mp_subpage_destroy(sp);
    mp_subpage_destroy(NULL);
    mp_pager_close(p);
}

/* Closing the pager releases allocators the caller did not destroy: under
 * memcheck (and cmocka's own checks) a leak here fails the test. */
static void close_releases_allocators_left_live(void **state)
{
    mp_pager *p = mpt_create(mpt_path("leftlive.mp"), PS);
    mp_subpage *a = make(p, SLOT), *b = make(p, PS / 4);
    mp_subpage_id id;
    (void)state;
    assert_int_equal(mp_subpage_alloc(a, &id), MP_OK);
    assert_int_equal(mp_subpage_alloc(b, &id), MP_OK);
    mp_pager_close(p);
}

static void slots_fill_one_parent_lowest_first_then_take_another(void **state)
{
    mp_pager *p = roomy("fill.mp");
    mp_subpage *sp = make(p, SLOT);
    uint64_t free0 = mp_pager_free_count(p);
    mp_subpage_id ids[PER + 1];
    (void)state;
    for (unsigned i = 0; i < PER; i++) {
        assert_int_equal(mp_subpage_alloc(sp, &ids[i]), MP_OK);
        assert_int_equal(mp_subpage_id_slot(ids[i]), i);
        assert_int_equal(mp_subpage_id_page(ids[i]),
                         mp_subpage_id_page(ids[0]));
    }
    assert_int_equal(mp_subpage_parent_count(sp), 1);
    assert_int_equal(mp_pager_free_count(p), free0 - 1);
    assert_int_equal(mp_subpage_alloc(sp, &ids[PER]), MP_OK);
    assert_int_not_equal(mp_subpage_id_page(ids[PER]),
                         mp_subpage_id_page(ids[0]));
    assert_int_equal(mp_subpage_id_slot(ids[PER]), 0);
    assert_int_equal(mp_subpage_parent_count(sp), 2);
    assert_int_equal(mp_subpage_count(sp), PER + 1);
    assert_int_equal(mp_pager_free_count(p), free0 - 2);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void id_encodes_kind_tag_parent_and_slot(void **state)
{
    mp_pager *p = roomy("enc.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id id, id2;
    const unsigned char *slot, *parent;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_OK);
    assert_int_equal(mp_subpage_alloc(sp, &id2), MP_OK);
    assert_int_equal(id & MP_ID_KIND_MASK, MP_ID_KIND_SUBPAGE);
    /* log2(64) = 6 in the size field, instance 0. */
    assert_int_equal(mp_subpage_tag(sp), 6u << 11);
    assert_int_equal(mp_subpage_id_tag(id), mp_subpage_tag(sp));
    assert_int_equal(id, MP_ID_KIND_SUBPAGE |
                             (uint64_t)mp_subpage_tag(sp)
                                 << MP_SUBPAGE_TAG_SHIFT |
                             mp_subpage_id_page(id) << MP_SUBPAGE_PAGE_SHIFT |
                             mp_subpage_id_slot(id));
    /* The parent is a regular page, and the slot sits inside it. */
    assert_int_equal(
        mp_pager_get(p, mp_subpage_id_page(id), (const void **)&parent), MP_OK);
    assert_int_equal(mp_subpage_get(sp, id2, (const void **)&slot), MP_OK);
    assert_ptr_equal(slot, parent + SLOT * mp_subpage_id_slot(id2));
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void new_slot_reads_as_zeros_even_when_reused(void **state)
{
    mp_pager *p = roomy("zero.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id keep, id, again;
    unsigned char *w;
    const unsigned char *r;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &keep), MP_OK);
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_OK);
    assert_int_equal(mp_subpage_get_mut(sp, id, (void **)&w), MP_OK);
    memset(w, 0xAA, SLOT);
    assert_int_equal(mp_subpage_free(sp, id), MP_OK);
    assert_int_equal(mp_subpage_alloc(sp, &again), MP_OK);
    assert_int_equal(again, id);
    assert_int_equal(mp_subpage_get(sp, again, (const void **)&r), MP_OK);
    for (int i = 0; i < SLOT; i++) {
        assert_int_equal(r[i], 0);
    }
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void slots_do_not_overlap(void **state)
{
    mp_pager *p = roomy("overlap.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id ids[3 * PER];
    (void)state;
    assert_int_equal(mp_subpage_alloc_bulk(sp, 3 * PER, ids), MP_OK);
    for (size_t i = 0; i < 3 * PER; i++) {
        void *w;
        assert_int_equal(mp_subpage_get_mut(sp, ids[i], &w), MP_OK);
        memset(w, (int)i + 1, SLOT);
    }
    for (size_t i = 0; i < 3 * PER; i++) {
        const unsigned char *r;
        assert_int_equal(mp_subpage_get(sp, ids[i], (const void **)&r), MP_OK);
        assert_int_equal(r[0], i + 1);
        assert_int_equal(r[SLOT - 1], i + 1);
    }
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void
parent_goes_back_to_the_pager_when_its_last_slot_is_freed(void **state)
{
    mp_pager *p = roomy("back.mp");
    mp_subpage *sp = make(p, SLOT);
    uint64_t free0 = mp_pager_free_count(p);
    mp_subpage_id a, b;
    struct mp_pager_stats s0, s1;
    const void *r;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &a), MP_OK);
    assert_int_equal(mp_subpage_alloc(sp, &b), MP_OK);
    mp_pager_stats(p, &s0);
    assert_int_equal(mp_subpage_free(sp, a), MP_OK);
    mp_pager_stats(p, &s1);
    /* A slot alone is no commit. */
    assert_int_equal(s1.commits, s0.commits);
    assert_int_equal(mp_subpage_parent_count(sp), 1);
    assert_int_equal(mp_subpage_free(sp, b), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.commits, s0.commits + 1);
    assert_int_equal(mp_subpage_parent_count(sp), 0);
    assert_int_equal(mp_subpage_count(sp), 0);
    assert_int_equal(mp_pager_free_count(p), free0);
    assert_int_equal(mp_pager_get(p, mp_subpage_id_page(b), &r),
                     MP_EDOUBLEFREE);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void freeing_a_slot_twice_is_a_double_free(void **state)
{
    mp_pager *p = roomy("twice.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id keep, id;
    const void *r;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &keep), MP_OK);
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_OK);
    assert_int_equal(mp_subpage_free(sp, id), MP_OK);
    /* The parent is still held (keep): the bit says no. */
    assert_int_equal(mp_subpage_free(sp, id), MP_EDOUBLEFREE);
    assert_int_equal(mp_subpage_get(sp, id, &r), MP_EDOUBLEFREE);
    assert_null(r);
    /* The parent is gone: the id is stale, still a double free. */
    assert_int_equal(mp_subpage_free(sp, keep), MP_OK);
    assert_int_equal(mp_subpage_free(sp, keep), MP_EDOUBLEFREE);
    assert_int_equal(mp_subpage_get(sp, keep, &r), MP_EDOUBLEFREE);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void free_of_a_never_allocated_slot_changes_nothing(void **state)
{
    mp_pager *p = roomy("never.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id id, other;
    mp_pgno pg;
    uint64_t free0;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    free0 = mp_pager_free_count(p);
    /* A free slot of a held parent. */
    other = id + 1;
    assert_int_equal(mp_subpage_free(sp, other), MP_EDOUBLEFREE);
    /* A slot of a page that is not one of ours. */
    other = (id & ~(((uint64_t)1 << MP_SUBPAGE_TAG_SHIFT) - 1)) |
            pg << MP_SUBPAGE_PAGE_SHIFT;
    assert_int_equal(mp_subpage_id_tag(other), mp_subpage_tag(sp));
    assert_int_equal(mp_subpage_free(sp, other), MP_EDOUBLEFREE);
    /* A slot index past the slots of a parent. */
    other = id + PER;
    assert_int_equal(mp_subpage_free(sp, other), MP_EOUTOFBOUNDS);
    assert_int_equal(mp_subpage_count(sp), 1);
    assert_int_equal(mp_subpage_parent_count(sp), 1);
    assert_int_equal(mp_pager_free_count(p), free0);
    assert_live(sp, &id, 1);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void ids_of_another_allocator_are_enotowner(void **state)
{
    mp_pager *p = roomy("owner.mp");
    mp_subpage *a = make(p, SLOT), *b = make(p, SLOT), *c = make(p, SLOT * 2);
    mp_subpage_id ia, ib, ic, list[2];
    const void *r;
    void *w;
    uint64_t free0;
    (void)state;
    assert_int_not_equal(mp_subpage_tag(a), mp_subpage_tag(b));
    assert_int_equal(mp_subpage_alloc(a, &ia), MP_OK);
    assert_int_equal(mp_subpage_alloc(b, &ib), MP_OK);
    assert_int_equal(mp_subpage_alloc(c, &ic), MP_OK);
    free0 = mp_pager_free_count(p);
    assert_int_equal(mp_subpage_free(b, ia), MP_ENOTOWNER);
    assert_int_equal(mp_subpage_free(a, ib), MP_ENOTOWNER);
    assert_int_equal(mp_subpage_free(a, ic), MP_ENOTOWNER);
    assert_int_equal(mp_subpage_get(b, ia, &r), MP_ENOTOWNER);
    assert_int_equal(mp_subpage_get_mut(c, ia, &w), MP_ENOTOWNER);
    list[0] = ib;
    list[1] = ia;
    assert_int_equal(mp_subpage_free_bulk(b, list, 2), MP_ENOTOWNER);
    /* Nothing changed anywhere. */
    assert_int_equal(mp_subpage_count(a), 1);
    assert_int_equal(mp_subpage_count(b), 1);
    assert_int_equal(mp_subpage_count(c), 1);
    assert_int_equal(mp_pager_free_count(p), free0);
    assert_live(a, &ia, 1);
    assert_live(b, &ib, 1);
    assert_live(c, &ic, 1);
    mp_subpage_destroy(a);
    mp_subpage_destroy(b);
    mp_subpage_destroy(c);
    mp_pager_close(p);
}

static void other_kinds_of_ids_are_ewrongkind_both_ways(void **state)
{
    mp_pager *p = roomy("kind.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id id;
    mp_protected_id prot;
    mp_pgno pg;
    const void *r;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &prot), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_subpage_free(sp, pg), MP_EWRONGKIND);
    assert_int_equal(mp_subpage_free(sp, prot), MP_EWRONGKIND);
    assert_int_equal(mp_subpage_get(sp, pg, &r), MP_EWRONGKIND);
    assert_int_equal(mp_pager_free(p, id), MP_EWRONGKIND);
    assert_int_equal(mp_pager_get(p, id, &r), MP_EWRONGKIND);
    assert_int_equal(mp_protected_free(p, id), MP_EWRONGKIND);
    assert_int_equal(mp_subpage_count(sp), 1);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void instance_numbers_are_reused_after_destroy(void **state)
{
    mp_pager *p = roomy("inst.mp");
    mp_subpage *a = make(p, SLOT), *b = make(p, SLOT), *c;
    (void)state;
    assert_int_equal(mp_subpage_tag(a) & 2047, 0);
    assert_int_equal(mp_subpage_tag(b) & 2047, 1);
    mp_subpage_destroy(a);
    c = make(p, SLOT);
    assert_int_equal(mp_subpage_tag(c) & 2047, 0);
    mp_subpage_destroy(b);
    mp_subpage_destroy(c);
    mp_pager_close(p);
}

static void bulk_counts_of_zero_or_too_many_are_ecount(void **state)
{
    mp_pager *p = roomy("count.mp");
    mp_subpage *sp = make(p, SLOT), *empty = make(p, SLOT);
    mp_subpage_id id;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_OK);
    assert_int_equal(mp_subpage_alloc_bulk(sp, 0, &id), MP_ECOUNT);
    assert_int_equal(mp_subpage_free_bulk(sp, &id, 0), MP_ECOUNT);
#if SIZE_MAX > UINT32_MAX
    assert_int_equal(mp_subpage_alloc_bulk(sp, (size_t)MP_BULK_MAX + 1, &id),
                     MP_ECOUNT);
    assert_int_equal(mp_subpage_free_bulk(sp, &id, (size_t)MP_BULK_MAX + 1),
                     MP_ECOUNT);
    assert_int_equal(mp_subpage_rebuild(empty, &id, (size_t)MP_BULK_MAX + 1),
                     MP_ECOUNT);
#endif
    assert_int_equal(mp_subpage_alloc_bulk(sp, 1, NULL), MP_EINVAL);
    assert_int_equal(mp_subpage_free_bulk(sp, NULL, 1), MP_EINVAL);
    assert_int_equal(mp_subpage_alloc(sp, NULL), MP_EINVAL);
    assert_int_equal(mp_subpage_get(sp, id, NULL), MP_EINVAL);
    assert_int_equal(mp_subpage_get_mut(sp, id, NULL), MP_EINVAL);
    assert_int_equal(mp_subpage_count(sp), 1);
    assert_int_equal(mp_subpage_count(empty), 0);
    mp_subpage_destroy(sp);
    mp_subpage_destroy(empty);
    mp_pager_close(p);
}

static void alloc_bulk_uses_spare_slots_then_parents_in_one_commit(void **state)
{
    mp_pager *p = roomy("abulk.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id ids[50];
    struct mp_pager_stats s0, s1;
    uint64_t free0 = mp_pager_free_count(p);
    (void)state;
    assert_int_equal(mp_subpage_alloc_bulk(sp, 10, ids), MP_OK);
    assert_int_equal(mp_pager_free_count(p), free0 - 1);
    mp_pager_stats(p, &s0);
    /* 6 spare slots, then 34 more: 3 parents, taken in one commit. */
    assert_int_equal(mp_subpage_alloc_bulk(sp, 40, ids + 10), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.commits - s0.commits, 1);
    assert_int_equal(mp_subpage_parent_count(sp), 4);
    assert_int_equal(mp_pager_free_count(p), free0 - 4);
    for (int i = 10; i < 16; i++) {
        assert_int_equal(mp_subpage_id_page(ids[i]),
                         mp_subpage_id_page(ids[0]));
    }
    for (int i = 0; i < 50; i++) {
        for (int j = 0; j < i; j++) {
            assert_int_not_equal(ids[i], ids[j]);
        }
    }
    assert_live(sp, ids, 50);
    /* Spare slots only: no commit at all. */
    mp_pager_stats(p, &s0);
    assert_int_equal(mp_subpage_alloc_bulk(sp, 14, ids), MP_OK);
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.commits, s0.commits);
    assert_int_equal(mp_subpage_parent_count(sp), 4);
    assert_int_equal(mp_subpage_count(sp), 64);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void alloc_bulk_changes_nothing_when_the_pager_cannot_grow(void **state)
{
    struct mp_options opt;
    mp_pager *p;
    mp_subpage *sp;
    mp_subpage_id first[5], *many;
    uint64_t free0, total0;
    (void)state;
    mpt_options(&opt);
    opt.reserve_bytes = 64 * 1024; /* 64 pages, never more */
    assert_int_equal(mp_pager_create(mpt_path("full.mp"), PS, &opt, &p), MP_OK);
    sp = make(p, SLOT);
    assert_int_equal(mp_subpage_alloc_bulk(sp, 5, first), MP_OK);
    free0 = mp_pager_free_count(p);
    total0 = mp_pager_page_count(p);
    many = malloc(100 * PER * sizeof(*many));
    assert_non_null(many);
    assert_int_equal(mp_subpage_alloc_bulk(sp, 100 * PER, many), MP_ELIMIT);
    assert_int_equal(mp_subpage_count(sp), 5);
    assert_int_equal(mp_subpage_parent_count(sp), 1);
    assert_int_equal(mp_pager_free_count(p), free0);
    assert_int_equal(mp_pager_page_count(p), total0);
    assert_live(sp, first, 5);
    /* The spare slots were not handed out: they still come first. */
    assert_int_equal(mp_subpage_alloc(sp, &many[0]), MP_OK);
    assert_int_equal(mp_subpage_id_page(many[0]), mp_subpage_id_page(first[0]));
    assert_int_equal(mp_subpage_id_slot(many[0]), 5);
    free(many);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void alloc_bulk_changes_nothing_when_the_backend_fails(void **state)
{
    static const int codes[] = { MP_EIO, MP_ENOSPC };
    const char *path = mpt_path("abfault.mp");
    (void)state;
    for (size_t c = 0; c < 2; c++) {
        for (int sticky = 0; sticky < 2; sticky++) {
            for (long n = 1;; n++) {
                struct mpt_faulty f;
                struct mp_options opt;
                mp_pager *p;
                mp_subpage *sp;
                mp_subpage_id first[3], ids[200];
                uint64_t free0;
                int rc, failed, os;

                remove(path);
                mpt_options(&opt);
                mpt_faulty_init(&f, opt.vfs ? opt.vfs : mp_vfs_posix(), 0,
                                codes[c], sticky);
                opt.vfs = &f.vfs;
                assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_OK);
                sp = make(p, SLOT);
                assert_int_equal(mp_subpage_alloc_bulk(sp, 3, first), MP_OK);
                free0 = mp_pager_free_count(p);
                /* 197 more slots: 13 parents, which needs growth. */
                f.fail_at = f.calls + n;
                rc = mp_subpage_alloc_bulk(sp, 200, ids);
                if (rc == MP_OK) {
                    assert_int_equal(mp_subpage_count(sp), 203);
                    mp_subpage_destroy(sp);
                    mp_pager_close(p);
                    break;
                }
                assert_int_equal(rc, codes[c]);
                assert_int_equal(mp_subpage_count(sp), 3);
                assert_int_equal(mp_subpage_parent_count(sp), 1);
                assert_live(sp, first, 3);
                mp_pager_last_failure(p, &failed, &os);
                if (!failed) {
                    /* Refused before writing: the pager goes on. */
                    assert_int_equal(mp_pager_free_count(p), free0);
                    f.fail_at = 0;
                    assert_int_equal(mp_subpage_alloc_bulk(sp, 200, ids),
                                     MP_OK);
                } else {
                    assert_int_equal(mp_subpage_alloc(sp, ids),
                                     MP_EUNAVAILABLE);
                }
                mp_subpage_destroy(sp);
                mp_pager_close(p);
                mp_pager_close(mpt_open(path, PS));
                assert_true(n < 100);
            }
        }
    }
}

/* Fill the allocator with n slots: parents of PER slots, in order. */
static void fill(mp_subpage *sp, mp_subpage_id *ids, size_t n)
{
    assert_int_equal(mp_subpage_alloc_bulk(sp, n, ids), MP_OK);
}

static void free_bulk_validates_every_id_before_freeing_any(void **state)
{
    mp_pager *p = roomy("fbval.mp");
    mp_subpage *sp = make(p, SLOT), *other = make(p, SLOT);
    mp_subpage_id ids[2 * PER + 1], freed, foreign;
    mp_pgno pg;
    uint64_t free0;
    (void)state;
    fill(sp, ids, 2 * PER);
    assert_int_equal(mp_subpage_alloc(sp, &freed), MP_OK);
    assert_int_equal(mp_subpage_free(sp, freed), MP_OK);
    assert_int_equal(mp_subpage_alloc(other, &foreign), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    free0 = mp_pager_free_count(p);
    /* Each bad id comes last, after ids that would empty both parents. */
    struct {
        mp_subpage_id bad;
        int rc;
    } cases[] = {
        { ids[3], MP_EDUPLICATE },         { freed, MP_EDOUBLEFREE },
        { foreign, MP_ENOTOWNER },         { pg, MP_EWRONGKIND },
        { ids[0] + PER, MP_EOUTOFBOUNDS },
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        ids[2 * PER] = cases[k].bad;
        assert_int_equal(mp_subpage_free_bulk(sp, ids, 2 * PER + 1),
                         cases[k].rc);
        assert_int_equal(mp_subpage_count(sp), 2 * PER);
        assert_int_equal(mp_subpage_parent_count(sp), 2);
        assert_int_equal(mp_pager_free_count(p), free0);
        assert_live(sp, ids, 2 * PER);
    }
    /* The pending marks were all cleared: the good list frees cleanly. */
    assert_int_equal(mp_subpage_free_bulk(sp, ids, 2 * PER), MP_OK);
    assert_int_equal(mp_subpage_count(sp), 0);
    assert_int_equal(mp_pager_free_count(p), free0 + 2);
    mp_subpage_destroy(sp);
    mp_subpage_destroy(other);
    mp_pager_close(p);
}

static void free_bulk_returns_emptied_parents_in_one_commit(void **state)
{
    mp_pager *p = roomy("fbulk.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id ids[3 * PER], again;
    struct mp_pager_stats s0, s1;
    uint64_t free0;
    (void)state;
    fill(sp, ids, 3 * PER);
    free0 = mp_pager_free_count(p);
    mp_pager_stats(p, &s0);
    /* Parents 0 and 2 whole, half of parent 1, in a scrambled order. */
    {
        mp_subpage_id list[2 * PER + PER / 2];
        size_t n = 0;
        for (size_t i = 0; i < PER; i++) {
            list[n++] = ids[2 * PER + i];
            list[n++] = ids[i];
            if (i % 2) {
                list[n++] = ids[PER + i];
            }
        }
        assert_int_equal(mp_subpage_free_bulk(sp, list, n), MP_OK);
    }
    mp_pager_stats(p, &s1);
    assert_int_equal(s1.commits - s0.commits, 1);
    assert_int_equal(mp_subpage_parent_count(sp), 1);
    assert_int_equal(mp_subpage_count(sp), PER / 2);
    assert_int_equal(mp_pager_free_count(p), free0 + 2);
    /* The half-empty parent takes the next slot, lowest first. */
    assert_int_equal(mp_subpage_alloc(sp, &again), MP_OK);
    assert_int_equal(again, ids[PER + 1]);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

/* A pager over the faulty vfs, filled with two full parents. */
static mp_pager *faulty_two_parents(struct mpt_faulty *f, const char *name,
                                    mp_subpage **sp, mp_subpage_id *ids)
{
    struct mp_options opt;
    mp_pager *p;
    mpt_options(&opt);
    mpt_faulty_init(f, opt.vfs ? opt.vfs : mp_vfs_posix(), 0, MP_EIO, 0);
    opt.vfs = &f->vfs;
    assert_int_equal(mp_pager_create(mpt_path(name), PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_grow(p, 64), MP_OK);
    *sp = make(p, SLOT);
    fill(*sp, ids, 2 * PER);
    return p;
}

static void free_bulk_changes_nothing_when_returning_parents_fails(void **state)
{
    struct mpt_faulty f;
    mp_subpage *sp;
    mp_subpage_id ids[2 * PER];
    mp_pager *p = faulty_two_parents(&f, "fbfail.mp", &sp, ids);
    (void)state;
    f.fail_at = f.calls + 1;
    assert_int_equal(mp_subpage_free_bulk(sp, ids, PER + 1), MP_EIO);
    assert_int_equal(mp_subpage_count(sp), 2 * PER);
    assert_int_equal(mp_subpage_parent_count(sp), 2);
    assert_live(sp, ids, 2 * PER);
    /* The pager is now unavailable, and says so for every change. */
    assert_int_equal(mp_subpage_free(sp, ids[PER + 1]), MP_EUNAVAILABLE);
    assert_int_equal(mp_subpage_alloc(sp, ids), MP_EUNAVAILABLE);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void free_changes_nothing_when_returning_the_parent_fails(void **state)
{
    struct mpt_faulty f;
    mp_subpage *sp;
    mp_subpage_id ids[2 * PER];
    mp_pager *p = faulty_two_parents(&f, "ffail.mp", &sp, ids);
    (void)state;
    assert_int_equal(mp_subpage_free_bulk(sp, ids, PER - 1), MP_OK);
    f.fail_at = f.calls + 1;
    assert_int_equal(mp_subpage_free(sp, ids[PER - 1]), MP_EIO);
    assert_int_equal(mp_subpage_count(sp), PER + 1);
    assert_int_equal(mp_subpage_parent_count(sp), 2);
    assert_live(sp, ids + PER - 1, PER + 1);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static unsigned char stamp(mp_subpage_id id)
{
    return (unsigned char)(mp_subpage_id_page(id) * 31 +
                           mp_subpage_id_slot(id) + 7);
}

static void rebuild_after_reopen_restores_the_live_slots(void **state)
{
    const char *path = mpt_path("rebuild.mp");
    mp_pager *p = mpt_create(path, PS);
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id ids[3 * PER], live[3 * PER], back[3 * PER], more;
    size_t n, m;
    uint64_t free0;
    (void)state;
    fill(sp, ids, 3 * PER);
    for (size_t i = 0; i < 3 * PER; i++) {
        void *w;
        assert_int_equal(mp_subpage_get_mut(sp, ids[i], &w), MP_OK);
        memset(w, stamp(ids[i]), SLOT);
    }
    /* Keep every third slot. */
    for (size_t i = 0, k = 0; i < 3 * PER; i++) {
        if (i % 3 != 0) {
            ids[k++] = ids[i];
        }
    }
    assert_int_equal(mp_subpage_free_bulk(sp, ids, 2 * PER), MP_OK);
    assert_int_equal(mp_subpage_ids(sp, live, 3 * PER, &n), MP_OK);
    assert_int_equal(n, PER);
    for (size_t i = 1; i < n; i++) {
        assert_true(live[i - 1] < live[i]); /* documented: ascending */
    }
    mp_subpage_destroy(sp);
    assert_int_equal(mp_pager_sync_pages(p, 0, 0), MP_OK);
    mp_pager_close(p);

    p = mpt_open(path, PS);
    sp = make(p, SLOT);
    assert_int_equal(mp_subpage_rebuild(sp, live, n), MP_OK);
    assert_int_equal(mp_subpage_count(sp), PER);
    assert_int_equal(mp_subpage_parent_count(sp), 3);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r;
        assert_int_equal(mp_subpage_get(sp, live[i], (const void **)&r), MP_OK);
        assert_int_equal(r[SLOT / 2], stamp(live[i]));
    }
    assert_int_equal(mp_subpage_ids(sp, back, 3 * PER, &m), MP_OK);
    assert_int_equal(m, n);
    assert_memory_equal(back, live, n * sizeof(*live));
    /* Free slots of rebuilt parents are used before any new parent. */
    free0 = mp_pager_free_count(p);
    assert_int_equal(mp_subpage_alloc(sp, &more), MP_OK);
    assert_int_equal(mp_pager_free_count(p), free0);
    assert_int_equal(mp_subpage_free(sp, more), MP_OK);
    assert_int_equal(mp_subpage_free_bulk(sp, live, n), MP_OK);
    assert_int_equal(mp_subpage_parent_count(sp), 0);
    assert_int_equal(mp_pager_free_count(p), free0 + 3);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void rebuild_refuses_invalid_lists_and_stays_empty(void **state)
{
    const char *path = mpt_path("rbad.mp");
    mp_pager *p = mpt_create(path, PS);
    mp_subpage *sp = make(p, SLOT), *other;
    mp_subpage_id ids[PER + 1], good[2], held;
    mp_protected_id prot;
    mp_pgno pg;
    uint64_t tagbits;
    (void)state;
    fill(sp, ids, PER + 1);
    tagbits = ids[0] & ~(((uint64_t)1 << MP_SUBPAGE_TAG_SHIFT) - 1);
    assert_int_equal(mp_protected_alloc(p, &prot), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    /* Slots of the second parent; any slot of a held page may be listed. */
    good[0] = ids[PER];
    good[1] = ids[PER] + 1;
    mp_subpage_destroy(sp);
    sp = make(p, SLOT);
    other = make(p, SLOT);
    /* other holds the parent of ids[0..PER): adopt it there first. */
    assert_int_equal(mp_subpage_tag(other), mp_subpage_tag(sp) + 1);
    held = (ids[0] & ~((uint64_t)0xFFFF << MP_SUBPAGE_TAG_SHIFT)) |
           (uint64_t)mp_subpage_tag(other) << MP_SUBPAGE_TAG_SHIFT;
    assert_int_equal(mp_subpage_rebuild(other, &held, 1), MP_OK);
    {
        struct {
            mp_subpage_id bad;
            int rc;
        } cases[] = {
            { pg, MP_EWRONGKIND },
            { prot, MP_EWRONGKIND },
            { held, MP_ENOTOWNER },              /* another allocator's tag */
            { ids[1], MP_ENOTOWNER },            /* parent held by another */
            { ids[PER] + PER, MP_EOUTOFBOUNDS }, /* slot index */
            { tagbits | (uint64_t)1 << 39 << 6, MP_EOUTOFBOUNDS }, /* page */
            { tagbits | 1 << 6, MP_ERESERVED },
            { tagbits | 3 << 6, MP_EINTERNAL },
            { ids[PER], MP_EDUPLICATE },
        };
        for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
            mp_subpage_id list[3] = { good[0], good[1], cases[k].bad };
            assert_int_equal(mp_subpage_rebuild(sp, list, 3), cases[k].rc);
            assert_int_equal(mp_subpage_count(sp), 0);
            assert_int_equal(mp_subpage_parent_count(sp), 0);
        }
    }
    /* A page that is not allocated at all. */
    assert_int_equal(mp_pager_free(p, pg), MP_OK);
    {
        mp_subpage_id list[2] = { good[1],
                                  tagbits | pg << MP_SUBPAGE_PAGE_SHIFT };
        assert_int_equal(mp_subpage_rebuild(sp, list, 2), MP_EDOUBLEFREE);
        assert_int_equal(mp_subpage_count(sp), 0);
    }
    assert_int_equal(mp_subpage_rebuild(sp, NULL, 1), MP_EINVAL);
    assert_int_equal(mp_subpage_rebuild(sp, &good[1], 1), MP_OK);
    /* Only an empty allocator can be rebuilt. */
    assert_int_equal(mp_subpage_rebuild(sp, &good[1], 1), MP_EINVAL);
    assert_int_equal(mp_subpage_count(sp), 1);
    mp_subpage_destroy(sp);
    mp_subpage_destroy(other);
    mp_pager_close(p);
}

static void rebuild_of_an_empty_list_leaves_an_empty_allocator(void **state)
{
    mp_pager *p = roomy("rempty.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id id;
    size_t n = 99;
    (void)state;
    assert_int_equal(mp_subpage_rebuild(sp, NULL, 0), MP_OK);
    assert_int_equal(mp_subpage_count(sp), 0);
    assert_int_equal(mp_subpage_ids(sp, NULL, 0, &n), MP_OK);
    assert_int_equal(n, 0);
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_OK);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void ids_lists_the_live_slots_in_ascending_order(void **state)
{
    mp_pager *p = roomy("list.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id ids[4 * PER], out[4 * PER];
    size_t n;
    (void)state;
    fill(sp, ids, 4 * PER);
    /* Free a scattered half so the table is not in allocation order. */
    for (size_t i = 0; i < 4 * PER; i += 2) {
        assert_int_equal(mp_subpage_free(sp, ids[i]), MP_OK);
    }
    assert_int_equal(mp_subpage_ids(sp, out, 2 * PER - 1, &n), MP_EINVAL);
    assert_int_equal(mp_subpage_ids(sp, out, 2 * PER, NULL), MP_EINVAL);
    assert_int_equal(mp_subpage_ids(sp, NULL, 2 * PER, &n), MP_EINVAL);
    assert_int_equal(mp_subpage_ids(sp, out, 4 * PER, &n), MP_OK);
    assert_int_equal(n, 2 * PER);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(out[i], ids[2 * i + 1]);
    }
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void readonly_pager_refuses_changes_and_serves_reads(void **state)
{
    const char *path = mpt_path("ro.mp");
    mp_pager *p = mpt_create(path, PS);
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id ids[PER + 2], id, marked;
    struct mp_options opt;
    const unsigned char *r;
    void *w;
    size_t n;
    (void)state;
    fill(sp, ids, PER + 2);
    marked = ids[PER];
    assert_int_equal(mp_subpage_get_mut(sp, marked, &w), MP_OK);
    memset(w, 0x3C, SLOT);
    assert_int_equal(mp_subpage_ids(sp, ids, PER + 2, &n), MP_OK);
    mp_subpage_destroy(sp);
    mp_pager_close(p);

    mpt_options(&opt);
    opt.flags |= MP_OPEN_READONLY;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    sp = make(p, SLOT);
    assert_int_equal(mp_subpage_rebuild(sp, ids, n), MP_OK);
    assert_int_equal(mp_subpage_get(sp, marked, (const void **)&r), MP_OK);
    assert_int_equal(r[SLOT - 1], 0x3C);
    assert_int_equal(mp_subpage_alloc(sp, &id), MP_EREADONLY);
    assert_int_equal(mp_subpage_alloc_bulk(sp, 3, ids), MP_EREADONLY);
    assert_int_equal(mp_subpage_free(sp, ids[0]), MP_EREADONLY);
    assert_int_equal(mp_subpage_free_bulk(sp, ids, 2), MP_EREADONLY);
    assert_int_equal(mp_subpage_get_mut(sp, ids[0], &w), MP_EREADONLY);
    assert_null(w);
    assert_int_equal(mp_subpage_count(sp), PER + 2);
    assert_int_equal(mp_subpage_parent_count(sp), 2);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void changes_are_refused_while_an_iterator_is_open(void **state)
{
    mp_pager *p = roomy("iter.mp");
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id a, b;
    mp_iter it;
    uint64_t pg, seen = 0;
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &a), MP_OK);
    assert_int_equal(mp_iter_pages(&it, p), MP_OK);
    /* Even with a spare slot at hand, the outcome does not depend on it. */
    assert_int_equal(mp_subpage_alloc(sp, &b), MP_EITERATING);
    assert_int_equal(mp_subpage_free(sp, a), MP_EITERATING);
    while (mp_iter_next(&it, &pg)) {
        seen += pg == mp_subpage_id_page(a);
    }
    /* Parents are regular pages to the pager's iterator. */
    assert_int_equal(seen, 1);
    assert_int_equal(mp_subpage_alloc(sp, &b), MP_OK);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void pointers_stay_valid_while_the_file_grows(void **state)
{
    mp_pager *p = mpt_create(mpt_path("grow.mp"), PS);
    mp_subpage *sp = make(p, SLOT);
    mp_subpage_id first, *many;
    unsigned char *w;
    const void *r;
    uint64_t total0 = mp_pager_page_count(p);
    (void)state;
    assert_int_equal(mp_subpage_alloc(sp, &first), MP_OK);
    assert_int_equal(mp_subpage_get_mut(sp, first, (void **)&w), MP_OK);
    memset(w, 0x77, SLOT);
    many = malloc(5000 * sizeof(*many));
    assert_non_null(many);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(mp_subpage_alloc_bulk(sp, 500, many + i * 500), MP_OK);
    }
    assert_true(mp_pager_page_count(p) > 8 * total0);
    assert_int_equal(mp_subpage_get(sp, first, &r), MP_OK);
    assert_ptr_equal(r, w);
    assert_int_equal(w[0], 0x77);
    assert_int_equal(w[SLOT - 1], 0x77);
    assert_int_equal(mp_subpage_free_bulk(sp, many, 5000), MP_OK);
    assert_int_equal(mp_subpage_parent_count(sp), 1);
    free(many);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

static void sixty_four_slots_share_one_parent(void **state)
{
    mp_pager *p = roomy("s64.mp");
    mp_subpage *sp = make(p, PS / 64);
    mp_subpage_id ids[65];
    uint64_t free0 = mp_pager_free_count(p);
    (void)state;
    fill(sp, ids, 64);
    assert_int_equal(mp_subpage_parent_count(sp), 1);
    assert_int_equal(mp_subpage_id_slot(ids[63]), 63);
    assert_int_equal(mp_subpage_alloc(sp, &ids[64]), MP_OK);
    assert_int_equal(mp_subpage_parent_count(sp), 2);
    assert_int_equal(mp_subpage_free(sp, ids[64]), MP_OK);
    assert_int_equal(mp_subpage_free(sp, ids[10]), MP_OK);
    assert_int_equal(mp_subpage_alloc(sp, &ids[10]), MP_OK);
    assert_int_equal(mp_subpage_id_slot(ids[10]), 10);
    assert_int_equal(mp_subpage_free_bulk(sp, ids, 64), MP_OK);
    assert_int_equal(mp_pager_free_count(p), free0);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

/* Memory hooks that fail once `left` allocations have succeeded. */
struct oom {
    long left; /* -1: never fail */
};
static void *oom_alloc(void *ctx, size_t n)
{
    struct oom *o = ctx;
    if (o->left == 0) {
        return NULL;
    }
    if (o->left > 0) {
        o->left--;
    }
    return malloc(n);
}
static void *oom_realloc(void *ctx, void *ptr, size_t n)
{
    struct oom *o = ctx;
    if (o->left == 0) {
        return NULL;
    }
    if (o->left > 0) {
        o->left--;
    }
    return realloc(ptr, n);
}
static void oom_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

static mp_pager *oom_pager(struct oom *o, const char *path)
{
    struct mp_options opt;
    mp_pager *p;
    remove(path);
    mpt_options(&opt);
    o->left = -1;
    opt.mem.alloc = oom_alloc;
    opt.mem.realloc = oom_realloc;
    opt.mem.free = oom_free;
    opt.mem.ctx = o;
    assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_OK);
    return p;
}

static void calls_change_nothing_when_memory_runs_out(void **state)
{
    const char *path = mpt_path("oom.mp");
    static mp_subpage_id ids[41 * PER];
    (void)state;
    for (long n = 0;; n++) {
        struct oom o;
        mp_pager *p = oom_pager(&o, path);
        mp_subpage *sp = NULL;
        mp_subpage_id first[3];
        size_t live;
        int rc;

        o.left = n;
        rc = mp_subpage_create(p, SLOT, &sp);
        if (rc != MP_OK) {
            assert_int_equal(rc, MP_ENOMEM);
            assert_null(sp);
            mp_pager_close(p);
            assert_true(n < 100);
            continue;
        }
        o.left = -1;
        fill(sp, first, 3);
        o.left = n;
        rc = mp_subpage_alloc_bulk(sp, 40 * PER, ids);
        o.left = -1;
        if (rc != MP_OK) {
            assert_int_equal(rc, MP_ENOMEM);
            assert_int_equal(mp_subpage_count(sp), 3);
            assert_int_equal(mp_subpage_parent_count(sp), 1);
            assert_live(sp, first, 3);
            mp_subpage_destroy(sp);
            mp_pager_close(p);
            assert_true(n < 100);
            continue;
        }
        /* Rebuild of the same state, again failing at each allocation. */
        assert_int_equal(mp_subpage_ids(sp, ids, 41 * PER, &live), MP_OK);
        assert_int_equal(live, 40 * PER + 3);
        mp_subpage_destroy(sp);
        sp = make(p, SLOT);
        for (long k = 0;; k++) {
            o.left = k;
            rc = mp_subpage_rebuild(sp, ids, live);
            o.left = -1;
            if (rc == MP_OK) {
                break;
            }
            assert_int_equal(rc, MP_ENOMEM);
            assert_int_equal(mp_subpage_count(sp), 0);
            assert_int_equal(mp_subpage_parent_count(sp), 0);
            assert_true(k < 100);
        }
        assert_int_equal(mp_subpage_count(sp), live);
        assert_int_equal(mp_subpage_parent_count(sp), 41);
        mp_subpage_destroy(sp);
        mp_pager_close(p);
        break;
    }
}

/* xorshift64*: deterministic, seed printed so a failure can be replayed. */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void check_model(mp_subpage *sp, uint64_t *live, size_t n,
                        uint64_t *scratch, uint64_t seed, int op)
{
    size_t got, parents = 0;
    if (mp_subpage_count(sp) != n) {
        fail_msg("seed %llu op %d: count %llu, model %zu",
                 (unsigned long long)seed, op,
                 (unsigned long long)mp_subpage_count(sp), n);
    }
    assert_int_equal(mp_subpage_ids(sp, scratch, n, &got), MP_OK);
    qsort(live, n, sizeof(*live), cmp_u64);
    for (size_t i = 0; i < n; i++) {
        const uint64_t *r;
        if (scratch[i] != live[i]) {
            fail_msg("seed %llu op %d: live lists differ at %zu",
                     (unsigned long long)seed, op, i);
        }
        assert_int_equal(mp_subpage_get(sp, live[i], (const void **)&r), MP_OK);
        if (*r != live[i]) {
            fail_msg("seed %llu op %d: slot %llx holds %llx",
                     (unsigned long long)seed, op, (unsigned long long)live[i],
                     (unsigned long long)*r);
        }
        if (i == 0 ||
            mp_subpage_id_page(live[i]) != mp_subpage_id_page(live[i - 1])) {
            const void *pg;
            parents++;
            assert_int_equal(mp_pager_get(mp_subpage_pager(sp),
                                          mp_subpage_id_page(live[i]), &pg),
                             MP_OK);
        }
    }
    if (mp_subpage_parent_count(sp) != parents) {
        fail_msg("seed %llu op %d: %llu parents, model %zu",
                 (unsigned long long)seed, op,
                 (unsigned long long)mp_subpage_parent_count(sp), parents);
    }
}

static void random_operations_match_a_model(void **state)
{
    enum {
        OPS = 4000,
        CAP = 3000,
        BULK = 40
    };
    mp_pager *p = mpt_create(mpt_path("model.mp"), PS);
    mp_subpage *sp = make(p, 128); /* 8 slots per parent */
    const char *env = getenv("MPT_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : 0x5EED5ull;
    uint64_t s = seed | 1;
    uint64_t *live = malloc(CAP * sizeof(*live));
    uint64_t *scratch = malloc(CAP * sizeof(*scratch));
    uint64_t batch[BULK];
    size_t n = 0;
    (void)state;
    assert_non_null(live);
    assert_non_null(scratch);
    print_message("seed %llu (MPT_SEED to replay)\n", (unsigned long long)seed);
    for (int op = 0; op < OPS; op++) {
        unsigned r = (unsigned)(rng_next(&s) % 100);
        size_t k = 1 + (size_t)(rng_next(&s) % BULK);
        if (r < 55 && n + k <= CAP) {
            k = r < 45 ? 1 : k;
            assert_int_equal(mp_subpage_alloc_bulk(sp, k, batch), MP_OK);
            for (size_t i = 0; i < k; i++) {
                uint64_t *w;
                assert_int_equal(mp_subpage_get_mut(sp, batch[i], (void **)&w),
                                 MP_OK);
                *w = batch[i];
                live[n++] = batch[i];
            }
        } else if (n > 0) {
            k = r < 90 ? 1 : (k < n ? k : n);
            /* Move k random live ids to the end, then free them. */
            for (size_t i = 0; i < k; i++) {
                size_t j = (size_t)(rng_next(&s) % (n - i));
                uint64_t t = live[j];
                live[j] = live[n - 1 - i];
                live[n - 1 - i] = t;
            }
            assert_int_equal(mp_subpage_free_bulk(sp, live + n - k, k), MP_OK);
            n -= k;
        }
        if (op % 250 == 249) {
            check_model(sp, live, n, scratch, seed, op);
        }
    }
    check_model(sp, live, n, scratch, seed, OPS);
    if (n > 0) {
        assert_int_equal(mp_subpage_free_bulk(sp, live, n), MP_OK);
    }
    assert_int_equal(mp_subpage_parent_count(sp), 0);
    free(live);
    free(scratch);
    mp_subpage_destroy(sp);
    mp_pager_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_refuses_bad_slot_sizes),
        cmocka_unit_test(close_releases_allocators_left_live),
        cmocka_unit_test(slots_fill_one_parent_lowest_first_then_take_another),
        cmocka_unit_test(id_encodes_kind_tag_parent_and_slot),
        cmocka_unit_test(new_slot_reads_as_zeros_even_when_reused),
        cmocka_unit_test(slots_do_not_overlap),
        cmocka_unit_test(
            parent_goes_back_to_the_pager_when_its_last_slot_is_freed),
        cmocka_unit_test(freeing_a_slot_twice_is_a_double_free),
        cmocka_unit_test(free_of_a_never_allocated_slot_changes_nothing),
        cmocka_unit_test(ids_of_another_allocator_are_enotowner),
        cmocka_unit_test(other_kinds_of_ids_are_ewrongkind_both_ways),
        cmocka_unit_test(instance_numbers_are_reused_after_destroy),
        cmocka_unit_test(bulk_counts_of_zero_or_too_many_are_ecount),
        cmocka_unit_test(
            alloc_bulk_uses_spare_slots_then_parents_in_one_commit),
        cmocka_unit_test(alloc_bulk_changes_nothing_when_the_pager_cannot_grow),
        cmocka_unit_test(alloc_bulk_changes_nothing_when_the_backend_fails),
        cmocka_unit_test(free_bulk_validates_every_id_before_freeing_any),
        cmocka_unit_test(free_bulk_returns_emptied_parents_in_one_commit),
        cmocka_unit_test(
            free_bulk_changes_nothing_when_returning_parents_fails),
        cmocka_unit_test(free_changes_nothing_when_returning_the_parent_fails),
        cmocka_unit_test(rebuild_after_reopen_restores_the_live_slots),
        cmocka_unit_test(rebuild_refuses_invalid_lists_and_stays_empty),
        cmocka_unit_test(rebuild_of_an_empty_list_leaves_an_empty_allocator),
        cmocka_unit_test(ids_lists_the_live_slots_in_ascending_order),
        cmocka_unit_test(readonly_pager_refuses_changes_and_serves_reads),
        cmocka_unit_test(changes_are_refused_while_an_iterator_is_open),
        cmocka_unit_test(pointers_stay_valid_while_the_file_grows),
        cmocka_unit_test(sixty_four_slots_share_one_parent),
        cmocka_unit_test(calls_change_nothing_when_memory_runs_out),
        cmocka_unit_test(random_operations_match_a_model),
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
