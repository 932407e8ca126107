/*
 * test_recovery.c - recovery at open: the commit record, fallback between
 * the metadata copies, and hostile or damaged files.
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

#define PS 4096

/* A file with two commits: gen 1 in copy A (create), gen 2 in copy B. */
static const char *two_commits(const char *name, mp_pgno *page)
{
    const char *path = mpt_path(name);
    mp_pager *p = mpt_create(path, PS);
    assert_int_equal(mp_pager_alloc(p, page), MP_OK);
    mp_pager_close(p);
    return path;
}

static int try_open(const char *path, size_t ps, mp_pager **p)
{
    struct mp_options opt;
    mpt_options(&opt);
    return mp_pager_open(path, ps, &opt, p);
}

static void fix_meta_crc(const char *path, int copy)
{
    unsigned char m[PS];
    uint32_t used;
    assert_int_equal(mpt_peek(path, (uint64_t)(1 + copy) * PS, m, PS), 0);
    used = mp__le32(m + 8);
    if (used < 8 || used > PS) {
        used = PS; /* a lie about the length itself: checksum the page */
    }
    mp__put32(m + 4, mp__crc32c(0, m + 8, used - 8));
    assert_int_equal(mpt_poke(path, (uint64_t)(1 + copy) * PS, m, PS), 0);
}

static void fix_header_crc(const char *path)
{
    unsigned char h[64];
    assert_int_equal(mpt_peek(path, 0, h, 64), 0);
    mp__put32(h + 60, mp__crc32c(0, h, 60));
    assert_int_equal(mpt_poke(path, 0, h, 64), 0);
}

static void crc32c_matches_the_known_vector_on_both_paths(void **state)
{
    unsigned char big[1000];
    (void)state;
    assert_int_equal(mp__crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(mp__crc32c_portable(0, "123456789", 9), 0xE3069283u);
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (unsigned char)(i * 7 + 3);
    }
    for (size_t off = 0; off < 9; off++) {
        assert_int_equal(mp__crc32c(0, big + off, sizeof(big) - off),
                         mp__crc32c_portable(0, big + off, sizeof(big) - off));
    }
    assert_int_equal(mp__crc32c(mp__crc32c(0, big, 100), big + 100, 900),
                     mp__crc32c(0, big, 1000));
}

static void intact_record_is_followed_without_fallback(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("ok.mp", &pg);
    struct mp_recovery_info ri;
    mp_pager *p;
    const void *b;
    (void)state;
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
    assert_false(ri.fallback);
    assert_int_equal(ri.chosen_copy, 1);
    assert_int_equal(ri.generation, 2);
    assert_true(ri.copy_valid[0] && ri.copy_valid[1]);
    assert_int_equal(ri.copy_generation[0], 1);
    assert_int_equal(ri.copy_generation[1], 2);
    assert_int_equal(mp_pager_get(p, pg, &b), MP_OK);
    mp_pager_close(p);
}

static void damaged_selected_copy_falls_back_and_says_so(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("badsel.mp", &pg);
    struct mp_recovery_info ri;
    mp_pager *p;
    const void *b;
    (void)state;
    mpt_flip(path, 2 * PS + 30); /* inside copy B's header */
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_BAD_SELECTED);
    assert_true(ri.fallback);
    assert_int_equal(ri.chosen_copy, 0);
    assert_false(ri.copy_valid[1]);
    /* Copy A is one commit older: the alloc is not there. */
    assert_int_equal(mp_pager_get(p, pg, &b), MP_EDOUBLEFREE);
    /* Life goes on: the next commit writes copy B afresh. */
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    mp_pager_close(p);
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
    assert_int_equal(ri.chosen_copy, 1);
    mp_pager_close(p);
}

static void damaged_leaf_of_the_selected_copy_falls_back(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("badleaf.mp", &pg);
    struct mp_recovery_info ri;
    mp_pager *p;
    (void)state;
    /* Create wrote leaf 0 into page 3; the alloc wrote it into page 4. */
    mpt_flip(path, 4 * PS + 100);
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_BAD_SELECTED);
    assert_int_equal(ri.chosen_copy, 0);
    mp_pager_close(p);
}

static void damaged_inactive_copy_changes_nothing(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("inact.mp", &pg);
    struct mp_recovery_info ri;
    mp_pager *p;
    (void)state;
    mpt_flip(path, 1 * PS + 20);
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
    assert_false(ri.fallback);
    assert_false(ri.copy_valid[0]);
    mp_pager_close(p);
}

static void both_copies_damaged_is_ecorrupt_meta(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("both.mp", &pg);
    mp_pager *p = (mp_pager *)1;
    (void)state;
    mpt_flip(path, 1 * PS + 20);
    mpt_flip(path, 2 * PS + 20);
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_META);
    assert_null(p);
}

static void torn_record_takes_the_newer_valid_copy(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("torn.mp", &pg);
    struct mp_recovery_info ri;
    mp_pager *p;
    const void *b;
    (void)state;
    mpt_flip(path, 512 + 21); /* the record's own CRC */
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_TORN_RECORD);
    assert_true(ri.fallback);
    assert_int_equal(ri.chosen_copy, 1);
    assert_int_equal(mp_pager_get(p, pg, &b), MP_OK);
    mp_pager_close(p);

    /* A record whose selector is garbage is torn too. */
    path = two_commits("torn2.mp", &pg);
    mpt_flip(path, 512 + 4);
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_TORN_RECORD);
    assert_int_equal(ri.chosen_copy, 1);
    mp_pager_close(p);
}

static void record_naming_a_stale_valid_copy_is_not_trusted(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("stale.mp", &pg);
    unsigned char rec[24];
    struct mp_recovery_info ri;
    mp_pager *p;
    (void)state;
    /* Point the record at copy A (gen 1) while keeping gen 2 and its CRC:
     * a valid record that does not identify the copy it names. */
    assert_int_equal(mpt_peek(path, 512, rec, 24), 0);
    mp__put32(rec + 4, 0);
    mp__put32(rec + 20, mp__crc32c(0, rec, 20));
    assert_int_equal(mpt_poke(path, 512, rec, 24), 0);
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_BAD_SELECTED);
    assert_int_equal(ri.chosen_copy, 1);
    mp_pager_close(p);
}

/* The record names copy `copy` by generation and checksum again. */
static void fix_record_for(const char *path, int copy)
{
    unsigned char rec[24], m[24];
    assert_int_equal(mpt_peek(path, (uint64_t)(1 + copy) * PS, m, 24), 0);
    assert_int_equal(mpt_peek(path, 512, rec, 24), 0);
    mp__put32(rec + 4, (uint32_t)copy);
    memcpy(rec + 8, m + 16, 8); /* generation */
    memcpy(rec + 16, m + 4, 4); /* the copy's checksum */
    mp__put32(rec + 20, mp__crc32c(0, rec, 20));
    assert_int_equal(mpt_poke(path, 512, rec, 24), 0);
}

static void superblock_damage_gives_clear_errors(void **state)
{
    mp_pgno pg;
    const char *path;
    unsigned char b;
    mp_pager *p;
    (void)state;

    /* Page 0's header is damaged but each copy carries it: no copy does
     * either, so it is not a mappedpages file. */
    path = two_commits("nocopy.mp", &pg);
    mpt_flip(path, 0);
    mpt_flip(path, PS + 76);
    mpt_flip(path, 2 * PS + 76);
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_SUPER);

    path = two_commits("major.mp", &pg);
    b = 3;
    assert_int_equal(mpt_poke(path, 8, &b, 1), 0);
    fix_header_crc(path);
    assert_int_equal(try_open(path, PS, &p), MP_EVERSION);

    path = two_commits("flags.mp", &pg);
    b = 0x80;
    assert_int_equal(mpt_poke(path, 19, &b, 1), 0);
    fix_header_crc(path);
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_SUPER);

    path = two_commits("psize.mp", &pg);
    b = 13;
    assert_int_equal(mpt_poke(path, 12, &b, 1), 0);
    fix_header_crc(path);
    assert_int_equal(try_open(path, PS, &p), MP_EPAGESIZE);
    b = 40;
    assert_int_equal(mpt_poke(path, 12, &b, 1), 0);
    fix_header_crc(path);
    assert_int_equal(try_open(path, 0, &p), MP_EPAGESIZE);
}

/* FORMAT.md 9.1: a damaged page-0 header is taken from a metadata copy,
 * the state is the committed one, and the next commit rewrites page 0. */
static void damaged_header_is_taken_from_a_copy(void **state)
{
    static const uint64_t spots[] = { 0, 62 }; /* magic, CRC */
    unsigned char h[64];
    mp_pgno pg, pg2;
    const void *ro;
    (void)state;
    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        char name[32];
        const char *path;
        snprintf(name, sizeof(name), "hdrcopy%zu.mp", i);
        path = two_commits(name, &pg);
        mp_pager *p = NULL;
        struct mp_recovery_info ri;
        mpt_flip(path, spots[i]);
        assert_int_equal(try_open(path, 0, &p), MP_OK);
        assert_int_equal(mp_pager_page_size(p), PS);
        mp_pager_recovery(p, &ri);
        assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
        assert_int_equal(ri.generation, 2);
        assert_int_equal(mp_pager_get(p, pg, &ro), MP_OK);
        assert_int_equal(mp_pager_alloc(p, &pg2), MP_OK);
        mp_pager_close(p);
        assert_int_equal(mpt_peek(path, 0, h, 64), 0);
        assert_memory_equal(h, "MAPPEDPG", 8);
        assert_int_equal(mp__crc32c(0, h, 60), mp__le32(h + 60));
    }
}

/* Page 0 all garbage (zeros here): header from a copy, record torn, the
 * newest valid copy; the next commit rewrites page 0 whole. */
static void page_0_lost_whole_opens_and_is_repaired(void **state)
{
    static unsigned char zero[PS];
    struct mp_recovery_info ri;
    unsigned char h[64];
    mp_pgno pg, pg2;
    const char *path = two_commits("page0.mp", &pg);
    mp_pager *p = NULL;
    (void)state;
    assert_int_equal(mpt_poke(path, 0, zero, PS), 0);
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_TORN_RECORD);
    assert_int_equal(ri.generation, 2);
    assert_int_equal(mp_pager_alloc(p, &pg2), MP_OK);
    mp_pager_close(p);
    assert_int_equal(mpt_peek(path, 0, h, 64), 0);
    assert_memory_equal(h, "MAPPEDPG", 8);
    assert_int_equal(try_open(path, PS, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
    assert_int_equal(ri.generation, 3);
    mp_pager_close(p);
}

/* Format 1 files are refused, not upgraded (FORMAT.md 2.1). */
static void format_1_files_are_refused(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("v1.mp", &pg);
    unsigned char b = 1;
    mp_pager *p = NULL;
    (void)state;
    assert_int_equal(mpt_poke(path, 8, &b, 1), 0);
    fix_header_crc(path);
    assert_int_equal(try_open(path, PS, &p), MP_EVERSION);
    assert_null(p);
}

/* Issue 12 item 7a: bytes 20-59 of an intact header are reserved zeros. */
static void nonzero_reserved_header_bytes_are_refused(void **state)
{
    static const uint64_t spots[] = { 20, 59 };
    mp_pgno pg;
    (void)state;
    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        char name[32];
        const char *path;
        snprintf(name, sizeof(name), "hdrres%zu.mp", i);
        path = two_commits(name, &pg);
        unsigned char b = 0x01;
        mp_pager *p = NULL;
        assert_int_equal(mpt_poke(path, spots[i], &b, 1), 0);
        fix_header_crc(path);
        assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_SUPER);
        assert_null(p);
    }
}

/* Issue 12 item 7b: bytes 88-127 of a metadata copy are reserved zeros; a
 * copy with others does not validate, even when the record names it. */
static void nonzero_reserved_copy_bytes_fail_the_copy(void **state)
{
    /* 89: commit flags bits 8-15, unknown; 92: the 4 reserved bytes after
     * them; 96-127: the reserved range. */
    static const uint64_t spots[] = { 89, 92, 96, 127 };
    mp_pgno pg;
    (void)state;
    for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
        char name[32];
        const char *path;
        snprintf(name, sizeof(name), "mdres%zu.mp", i);
        path = two_commits(name, &pg);
        struct mp_recovery_info ri;
        unsigned char b = 0x01;
        mp_pager *p = NULL;
        /* Copy B (page 2) holds generation 2, the one the record names. */
        assert_int_equal(mpt_poke(path, 2 * PS + spots[i], &b, 1), 0);
        fix_meta_crc(path, 1);
        fix_record_for(path, 1);
        assert_int_equal(try_open(path, PS, &p), MP_OK);
        mp_pager_recovery(p, &ri);
        assert_int_equal(ri.reason, MP_RECOVERY_BAD_SELECTED);
        assert_int_equal(ri.chosen_copy, 0);
        assert_int_equal(ri.generation, 1);
        mp_pager_close(p);
    }
}

static void truncated_files_are_refused(void **state)
{
    mp_pgno pg;
    const char *path;
    mp_pager *p;
    (void)state;
    path = two_commits("trunc0.mp", &pg);
    assert_int_equal(mpt_truncate(path, 0), 0);
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_SUPER);

    path = two_commits("trunc1.mp", &pg);
    assert_int_equal(mpt_truncate(path, 40), 0);
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_SUPER);

    path = two_commits("trunc2.mp", &pg);
    assert_int_equal(mpt_truncate(path, 2 * PS), 0);
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_SUPER);

    /* Shorter than the metadata says: neither copy may be believed. */
    path = two_commits("trunc3.mp", &pg);
    assert_int_equal(mpt_truncate(path, 7 * PS), 0);
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_META);
}

static void metadata_pointing_past_the_file_is_refused(void **state)
{
    mp_pgno pg;
    const char *path = two_commits("past.mp", &pg);
    unsigned char v[8];
    mp_pager *p;
    (void)state;
    /* CRC-valid copies claiming 2^30 pages in a file of 8. */
    for (int c = 0; c < 2; c++) {
        mp__put64(v, (uint64_t)1 << 30);
        assert_int_equal(mpt_poke(path, (uint64_t)(1 + c) * PS + 24, v, 8), 0);
        fix_meta_crc(path, c);
    }
    assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_META);
}

static void hostile_numbers_in_a_valid_copy_are_refused(void **state)
{
    static const struct {
        unsigned off, size;
        uint64_t value;
    } lies[] = {
        { 8, 4, 1 << 20 },     /* used_len past the page */
        { 8, 4, 100 },         /* used_len below the header */
        { 24, 8, 3 },          /* total below the minimum */
        { 32, 8, 0 },          /* free count that disagrees with the map */
        { 40, 8, 1000000 },    /* more slots than pages */
        { 60, 4, 7 },          /* map depth not derived from total */
        { 64, 4, 5 },          /* map root count */
        { 68, 4, 99 },         /* dir depth out of range */
        { 128, 8, 0 },         /* root ref: leaf copy moved to page 0 */
        { 128 + 8, 8, 99999 }, /* root ref: copy past the end */
        { 128 + 20, 4, 6 },    /* root ref: unknown flag bits */
    };
    (void)state;
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        mp_pgno pg;
        const char *path = two_commits("lies.mp", &pg);
        unsigned char v[8];
        mp_pager *p;
        for (int c = 0; c < 2; c++) {
            if (lies[i].size == 4) {
                mp__put32(v, (uint32_t)lies[i].value);
            } else {
                mp__put64(v, lies[i].value);
            }
            assert_int_equal(mpt_poke(path,
                                      (uint64_t)(1 + c) * PS + lies[i].off, v,
                                      lies[i].size),
                             0);
            fix_meta_crc(path, c);
        }
        assert_int_equal(try_open(path, PS, &p), MP_ECORRUPT_META);
        remove(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_matches_the_known_vector_on_both_paths),
        cmocka_unit_test(intact_record_is_followed_without_fallback),
        cmocka_unit_test(damaged_selected_copy_falls_back_and_says_so),
        cmocka_unit_test(damaged_leaf_of_the_selected_copy_falls_back),
        cmocka_unit_test(damaged_inactive_copy_changes_nothing),
        cmocka_unit_test(both_copies_damaged_is_ecorrupt_meta),
        cmocka_unit_test(torn_record_takes_the_newer_valid_copy),
        cmocka_unit_test(record_naming_a_stale_valid_copy_is_not_trusted),
        cmocka_unit_test(superblock_damage_gives_clear_errors),
        cmocka_unit_test(damaged_header_is_taken_from_a_copy),
        cmocka_unit_test(page_0_lost_whole_opens_and_is_repaired),
        cmocka_unit_test(format_1_files_are_refused),
        cmocka_unit_test(nonzero_reserved_header_bytes_are_refused),
        cmocka_unit_test(nonzero_reserved_copy_bytes_fail_the_copy),
        cmocka_unit_test(truncated_files_are_refused),
        cmocka_unit_test(metadata_pointing_past_the_file_is_refused),
        cmocka_unit_test(hostile_numbers_in_a_valid_copy_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
