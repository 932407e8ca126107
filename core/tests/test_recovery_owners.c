/*
 * test_recovery_owners.c - recovery refuses a metadata copy in which two
 * structures claim one page (found by the file checker, harness/check):
 * every checksum may be right and every page allocated, yet such a copy
 * would let a later commit write one structure over another.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../src/crc32c.h"
#include "../src/endian.h"
#include "mpt.h"

#define PS 4096

static uint64_t get64(const char *path, uint64_t off)
{
    unsigned char b[8];
    assert_int_equal(mpt_peek(path, off, b, 8), 0);
    return mp__le64(b);
}

static uint32_t get32(const char *path, uint64_t off)
{
    unsigned char b[4];
    assert_int_equal(mpt_peek(path, off, b, 4), 0);
    return mp__le32(b);
}

static void put64(const char *path, uint64_t off, uint64_t v)
{
    unsigned char b[8];
    mp__put64(b, v);
    assert_int_equal(mpt_poke(path, off, b, 8), 0);
}

static void put32(const char *path, uint64_t off, uint32_t v)
{
    unsigned char b[4];
    mp__put32(b, v);
    assert_int_equal(mpt_poke(path, off, b, 4), 0);
}

static uint32_t crc_of(const char *path, uint64_t off, size_t len)
{
    unsigned char *b = malloc(len);
    uint32_t c;
    assert_non_null(b);
    assert_int_equal(mpt_peek(path, off, b, len), 0);
    c = mp__crc32c(0, b, len);
    free(b);
    return c;
}

/* Make copy c's CRC and the commit record (which names c) right again. */
static void reseal(const char *path, int c)
{
    uint64_t m = (uint64_t)(1 + c) * PS;
    unsigned char rec[24];
    put32(path, m + 4, crc_of(path, m + 8, get32(path, m + 8) - 8));
    memcpy(rec, "MPCR", 4);
    mp__put32(rec + 4, (uint32_t)c);
    mp__put64(rec + 8, get64(path, m + 16));
    mp__put32(rec + 16, get32(path, m + 4));
    mp__put32(rec + 20, mp__crc32c(0, rec, 20));
    assert_int_equal(mpt_poke(path, 512, rec, 24), 0);
}

/* Create, then two protected pages (gen 2, copy B, which the record
 * names). Copy A (gen 1) has no directory and stays a valid fallback. */
static const char *two_protected(const char *name, uint64_t *dirref)
{
    const char *path = mpt_path(name);
    mp_protected_id ids[2];
    mp_pager *p;
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(get32(path, 516), 1);
    /* Copy B's directory root follows its map roots. */
    *dirref = 2 * PS + 128 + 24 * (uint64_t)get32(path, 2 * PS + 64);
    return path;
}

static void expect_fallback_to_copy_a(const char *path)
{
    struct mp_options opt;
    struct mp_recovery_info ri;
    mp_pager *p = NULL;
    mpt_options(&opt);
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.chosen_copy, 0);
    assert_int_equal(ri.reason, MP_RECOVERY_BAD_SELECTED);
    assert_int_equal(mp_protected_count(p), 0);
    mp_pager_close(p);
}

static void two_protected_pages_sharing_a_page_are_refused(void **state)
{
    uint64_t ref, blk;
    const char *path = two_protected("share.mp", &ref);
    (void)state;
    /* Slot 1's copy 0 onto slot 0's copy 0; every checksum resealed. */
    blk = get64(path, ref + 8 * (get32(path, ref + 20) & 1)) * PS;
    put64(path, blk + 24, get64(path, blk));
    put32(path, ref + 16, crc_of(path, blk, 2 * 24));
    reseal(path, 1);
    expect_fallback_to_copy_a(path);
}

static void a_node_on_a_map_leaf_place_is_refused(void **state)
{
    uint64_t ref;
    const char *path = two_protected("onleaf.mp", &ref);
    int live;
    (void)state;
    /* The directory block's spare copy onto page 3 (map leaf 0, copy 0). */
    live = (int)(get32(path, ref + 20) & 1);
    put64(path, ref + 8 * (uint64_t)(1 - live), 3);
    reseal(path, 1);
    expect_fallback_to_copy_a(path);
}

static void a_node_on_a_protected_page_is_refused(void **state)
{
    uint64_t ref, blk;
    const char *path = two_protected("onprot.mp", &ref);
    int live;
    (void)state;
    /* The directory block's spare copy onto slot 0's copy 1. */
    live = (int)(get32(path, ref + 20) & 1);
    blk = get64(path, ref + 8 * (uint64_t)live) * PS;
    put64(path, ref + 8 * (uint64_t)(1 - live), get64(path, blk + 8));
    reseal(path, 1);
    expect_fallback_to_copy_a(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_protected_pages_sharing_a_page_are_refused),
        cmocka_unit_test(a_node_on_a_map_leaf_place_is_refused),
        cmocka_unit_test(a_node_on_a_protected_page_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
