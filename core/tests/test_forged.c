/*
 * test_forged.c - images whose every checksum is right but whose meaning
 * is not: the rules of core/src/rules.h, which open and the file checker
 * (harness/check) apply alike (issue 12 item 7 c/d, issue 11 item 6).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../src/crc32c.h"
#include "../src/endian.h"
#include "mpt.h"

static uint64_t get(const char *path, uint64_t off, unsigned size)
{
    unsigned char b[8];
    assert_int_equal(mpt_peek(path, off, b, size), 0);
    return size == 8 ? mp__le64(b) : mp__le32(b);
}

static void put(const char *path, uint64_t off, unsigned size, uint64_t v)
{
    unsigned char b[8];
    if (size == 8) {
        mp__put64(b, v);
    } else {
        mp__put32(b, (uint32_t)v);
    }
    assert_int_equal(mpt_poke(path, off, b, size), 0);
}

static uint32_t crc_at(const char *path, uint64_t off, size_t len)
{
    unsigned char b[4096];
    assert_true(len <= sizeof(b));
    assert_int_equal(mpt_peek(path, off, b, len), 0);
    return mp__crc32c(0, b, len);
}

/* Reseal metadata copy c (page 1 + c) and point the record at it, as a
 * commit would have written them. */
static void reseal(const char *path, size_t ps, int c)
{
    uint64_t m = (uint64_t)(1 + c) * ps;
    unsigned char rec[24];
    put(path, m + 4, 4, crc_at(path, m + 8, get(path, m + 8, 4) - 8));
    memcpy(rec, "MPCR", 4);
    mp__put32(rec + 4, (uint32_t)c);
    mp__put64(rec + 8, get(path, m + 16, 8));
    mp__put32(rec + 16, (uint32_t)get(path, m + 4, 4));
    mp__put32(rec + 20, mp__crc32c(0, rec, 20));
    assert_int_equal(mpt_poke(path, 512, rec, 24), 0);
}

static int selected(const char *path)
{
    return (int)get(path, 516, 4);
}

static int open_it(const char *path, size_t ps, mp_pager **p)
{
    struct mp_options opt;
    mpt_options(&opt);
    return mp_pager_open(path, ps, &opt, p);
}

/* Growth rounds every total that would end inside a group's leaf copies
 * up to the group's third page (rules.h R1); B + 2 is asked for below. */
static void growth_never_ends_inside_the_leaf_copies(void **state)
{
    const size_t ps = 1024;
    const uint64_t b = 8 * ps;
    const char *path = mpt_path("round.mp");
    mp_pager *p;
    (void)state;
    remove(path);
    p = mpt_create(path, ps);
    assert_int_equal(mp_pager_grow(p, b + 1), MP_OK);
    assert_int_equal(mp_pager_page_count(p), b + 3);
    mp_pager_close(p);
}

/* A copy recording total = B + 2 does not validate: open falls back to
 * the other copy (it used to take it, while mp-check called it corrupt). */
static void total_inside_the_leaf_copies_is_refused(void **state)
{
    const size_t ps = 1024;
    const uint64_t b = 8 * ps;
    const char *path = mpt_path("total.mp");
    struct mp_recovery_info ri;
    uint64_t m;
    mp_pager *p;
    int sel;
    (void)state;
    remove(path);
    p = mpt_create(path, ps);
    assert_int_equal(mp_pager_grow(p, b + 2), MP_OK);
    assert_int_equal(mp_pager_page_count(p), b + 3);
    mp_pager_close(p);
    sel = selected(path);
    m = (uint64_t)(1 + sel) * ps;
    /* Page B + 2 is free: dropping it keeps the map and leaves right. */
    put(path, m + 24, 8, b + 2);
    put(path, m + 32, 8, get(path, m + 32, 8) - 1);
    reseal(path, ps, sel);
    assert_int_equal(open_it(path, ps, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_BAD_SELECTED);
    assert_int_equal(ri.chosen_copy, 1 - sel);
    assert_int_equal(mp_pager_page_count(p), 8);
    mp_pager_close(p);
}

/*
 * Issue 11 item 6: the "more internal pages than allocated" check read
 * free_pages before it was set, and after the tree walk it was implied by
 * the one-owner and allocated-bit checks anyway. Made real as rules.h R2,
 * a header check: copy A (not named by the record, so only its header is
 * checked) claims one free page too many for its 3 reserved pages and 2
 * leaf copies, and is no candidate.
 */
static void free_count_below_the_structures_fails_the_header(void **state)
{
    const size_t ps = 4096;
    const char *path = mpt_path("owned.mp");
    struct mp_recovery_info ri;
    mp_pager *p;
    mp_pgno pg;
    (void)state;
    remove(path);
    p = mpt_create(path, ps);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK); /* gen 2 in copy B */
    mp_pager_close(p);
    assert_int_equal(selected(path), 1);
    assert_int_equal(get(path, ps + 32, 8), 3);
    put(path, ps + 32, 8, 4);
    put(path, ps + 4, 4, crc_at(path, ps + 8, get(path, ps + 8, 4) - 8));
    assert_int_equal(open_it(path, ps, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
    assert_true(ri.copy_valid[1]);
    assert_false(ri.copy_valid[0]);
    assert_int_equal(ri.copy_generation[0], 0);
    mp_pager_close(p);
}

/*
 * Issue 12 item 7 (d): slot 0's committed-copy bit flipped and every
 * checksum above it made right: the bit names the old copy, the checksum
 * is the new copy's. The bit is authoritative and that page damaged
 * (rules.h R3): open accepts the file without falling back (the other
 * metadata copy would undo the last commit), but get and begin refuse the
 * page with MP_ECORRUPT instead of silently serving the other copy; the
 * other slot reads as before.
 */
static void protected_bit_against_its_checksum_is_refused(void **state)
{
    const size_t ps = 4096;
    const char *path = mpt_path("protbit.mp");
    mp_protected_id ids[2];
    uint64_t m, ref, blk, flags;
    const void *r;
    void *w;
    mp_pager *p;
    int sel;
    (void)state;
    remove(path);
    p = mpt_create(path, ps);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(mp_protected_begin(p, ids[k], &w), MP_OK);
        memset(w, 0xA0 + k, ps);
        assert_int_equal(mp_protected_commit(p, ids[k]), MP_OK);
    }
    mp_pager_close(p);

    sel = selected(path);
    m = (uint64_t)(1 + sel) * ps;
    assert_int_equal(get(path, m + 68, 4), 0); /* directory depth 0 */
    ref = m + 128 + 24 * get(path, m + 64, 4);
    blk = get(path, ref + 8 * (get(path, ref + 20, 4) & 1), 8);
    flags = get(path, blk * ps + 20, 4);
    assert_int_equal(flags & 2, 2);
    put(path, blk * ps + 20, 4, flags ^ 1);
    put(path, ref + 16, 4, crc_at(path, blk * ps, 2 * 32));
    reseal(path, ps, sel);

    assert_int_equal(open_it(path, ps, &p), MP_OK);
    assert_int_equal(mp_protected_get(p, ids[0], &r), MP_ECORRUPT);
    assert_null(r);
    assert_int_equal(mp_protected_begin(p, ids[0], &w), MP_ECORRUPT);
    assert_null(w);
    assert_int_equal(mp_protected_commit(p, ids[0]), MP_ENOTSTAGED);
    assert_int_equal(mp_protected_get(p, ids[1], &r), MP_OK);
    assert_int_equal(((const unsigned char *)r)[ps - 1], 0xA1);
    /* Freeing the damaged page is still allowed, and heals the file. */
    assert_int_equal(mp_protected_free(p, ids[0]), MP_OK);
    mp_pager_close(p);
}

/*
 * rules.h R4: a directory entry in use carries the generation of its
 * commit, at least 1 and at most the generation of the metadata copy that
 * reaches it. An entry claiming a later generation, checksums all right,
 * fails the copy: open falls back to the copy before (BAD_SELECTED), and
 * generation 0 fails it as well. mp-check agrees
 * (entry_generation_beyond_the_copy_fails_it in harness/check/tests).
 */
static void entry_generation_beyond_the_copy_is_refused(void **state)
{
    const size_t ps = 4096;
    const char *path = mpt_path("entgen.mp");
    mp_protected_id id;
    struct mp_recovery_info ri;
    mp_pager *p;
    (void)state;
    for (int bad = 0; bad < 3; bad++) {
        uint64_t m, ref, blk, gen;
        int sel;
        remove(path);
        p = mpt_create(path, ps);
        assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
        mp_pager_close(p);

        sel = selected(path);
        m = (uint64_t)(1 + sel) * ps;
        gen = get(path, m + 16, 8);
        ref = m + 128 + 24 * get(path, m + 64, 4);
        blk = get(path, ref + 8 * (get(path, ref + 20, 4) & 1), 8);
        assert_int_equal(get(path, blk * ps + 24, 8), gen); /* this commit */
        /* gen is allowed (the control); gen + 1 and 0 are not. */
        put(path, blk * ps + 24, 8, bad == 0 ? gen : bad == 1 ? gen + 1 : 0);
        put(path, ref + 16, 4, crc_at(path, blk * ps, 32));
        reseal(path, ps, sel);

        assert_int_equal(open_it(path, ps, &p), MP_OK);
        mp_pager_recovery(p, &ri);
        assert_int_equal(ri.reason,
                         bad ? MP_RECOVERY_BAD_SELECTED : MP_RECOVERY_RECORD);
        assert_int_equal(mp_protected_count(p), bad ? 0 : 1);
        mp_pager_close(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(growth_never_ends_inside_the_leaf_copies),
        cmocka_unit_test(total_inside_the_leaf_copies_is_refused),
        cmocka_unit_test(free_count_below_the_structures_fails_the_header),
        cmocka_unit_test(protected_bit_against_its_checksum_is_refused),
        cmocka_unit_test(entry_generation_beyond_the_copy_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
