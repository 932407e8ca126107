/*
 * test_check_damage.c - each kind of damage gets the right verdict, a
 * problem string that names it, and a prediction that mp_pager_open
 * confirms (return code, recovery choice and reason, counts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "check_util.h"
#include "crc32c.h"

#define PS 4096

/* Check, assert verdict and message, and confirm with the core. */
static void expect(const char *path, size_t ps, int verdict, int open_error,
                   const char *says, struct mph_check_report *r)
{
    cu_check(path, ps, r);
    cu_assert_verdict(r, verdict);
    assert_int_equal(r->open_error, open_error);
    if (says) {
        cu_assert_says(r, says);
    }
    if (verdict == MPH_CHECK_CLEAN) {
        assert_string_equal(r->problem, "");
    } else {
        assert_true(r->problem[0] != '\0');
        assert_int_not_equal(r->problem_count, 0);
    }
    assert_int_equal(mph_check_passed(r), verdict != MPH_CHECK_CORRUPT);
    cu_assert_agrees(path, ps, r);
}

static void fix_header_crc(const char *path)
{
    unsigned char h[64];
    assert_int_equal(mpt_peek(path, 0, h, 60), 0);
    cu_put(path, 60, 4, mp__crc32c(0, h, 60));
}

static void superblock_damage_is_corrupt_with_opens_error(void **state)
{
    struct mph_check_report r;
    const char *path;
    (void)state;

    /* Page 0's header damaged: each copy carries it (FORMAT.md 9.1). */
    path = cu_two_commits("magic.mp", PS);
    mpt_flip(path, 0);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK,
           "header is damaged (bad magic); open takes it from copy A", &r);

    path = cu_two_commits("hdrcrc.mp", PS);
    mpt_flip(path, 62);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK,
           "header is damaged (checksum mismatch)", &r);

    /* ... and neither copy carries it either. */
    path = cu_two_commits("nocopy.mp", PS);
    mpt_flip(path, 0);
    mpt_flip(path, PS + 76);
    mpt_flip(path, 2 * PS + 76);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_SUPER,
           "no metadata copy carries the header", &r);

    path = cu_two_commits("major.mp", PS);
    cu_put(path, 8, 2, 3);
    fix_header_crc(path);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_EVERSION, "major", &r);

    path = cu_two_commits("flags.mp", PS);
    cu_put(path, 16, 4, 0x80000000u);
    fix_header_crc(path);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_SUPER, "flags", &r);

    path = cu_two_commits("log2.mp", PS);
    cu_put(path, 12, 4, 40);
    fix_header_crc(path);
    expect(path, 0, MPH_CHECK_CORRUPT, MP_EPAGESIZE, "log2", &r);

    /* A superblock claiming 8 KiB pages over a 4 KiB file: no copy's
     * page size matches. */
    path = cu_two_commits("log2b.mp", PS);
    cu_put(path, 12, 4, 13);
    fix_header_crc(path);
    expect(path, 0, MPH_CHECK_CORRUPT, MP_ECORRUPT_META, "log2", &r);
}

static void superblock_reserved_and_ignored_bytes(void **state)
{
    struct mph_check_report r;
    const char *path;
    (void)state;

    /* Reserved bytes under a valid CRC: open refuses them too (issue 12
     * item 7a; layout.h holds the rule for both). */
    path = cu_two_commits("resv.mp", PS);
    cu_put(path, 30, 2, 0xBEEF);
    fix_header_crc(path);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_SUPER,
           "reserved bytes 20-59", &r);

    /* Ignored bytes: a note, never a verdict (a torn record sector may
     * leave garbage behind the record for good). */
    path = cu_two_commits("ign1.mp", PS);
    mpt_flip(path, 100);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, "64-511", &r);
    path = cu_two_commits("ign2.mp", PS);
    mpt_flip(path, 600);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, "536-4095", &r);
    assert_int_equal(r.note_count, 1);
}

static void torn_record_is_recoverable_newest_copy(void **state)
{
    struct mph_check_report r;
    const char *path;
    (void)state;

    path = cu_two_commits("torn.mp", PS);
    mpt_flip(path, 512 + 21);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "torn (checksum", &r);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_TORN_RECORD);
    assert_int_equal(r.recovery_would_choose, 1);
    assert_int_equal(r.selected_copy, -1);
    assert_false(r.record_intact);

    path = cu_two_commits("torn2.mp", PS);
    mpt_flip(path, 512 + 4);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "selector", &r);

    path = cu_two_commits("torn3.mp", PS);
    mpt_flip(path, 512);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "bad magic", &r);
    assert_int_equal(r.recovery_would_choose, 1);
}

static void damaged_selected_copy_is_recoverable_with_fallback(void **state)
{
    struct mph_check_report r;
    const char *path;
    (void)state;

    path = cu_two_commits("badsel.mp", PS);
    assert_int_equal(cu_selected(path), 1);
    mpt_flip(path, 2 * PS + 30);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "falls back to copy A", &r);
    assert_int_equal(r.selected_copy, 1);
    assert_int_equal(r.recovery_would_choose, 0);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_BAD_SELECTED);
    assert_false(r.copy[1].header_ok);
    cu_assert_says(&r, "checksum");
    /* Copy A is one commit older: it has no regular page. */
    assert_int_equal(r.regular_count, 0);
    assert_int_equal(r.generation, 1);
}

static void record_naming_a_stale_copy_is_recoverable(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("stale.mp", PS);
    (void)state;
    /* A valid record naming copy A but carrying B's generation. */
    cu_name_copy(path, PS, 1);
    cu_put(path, 516, 4, 0);
    {
        unsigned char rec[20];
        assert_int_equal(mpt_peek(path, 512, rec, 20), 0);
        cu_put(path, 532, 4, mp__crc32c(0, rec, 20));
    }
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "has generation 1", &r);
    assert_int_equal(r.recovery_would_choose, 1);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_BAD_SELECTED);
}

static void damaged_inactive_copy_is_a_note(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("inact.mp", PS);
    (void)state;
    mpt_flip(path, PS + 20);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, "copy A (not in use) does not",
           &r);
    assert_int_equal(r.recovery_would_choose, 1);
}

static void both_copies_damaged_is_corrupt(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("both.mp", PS);
    (void)state;
    mpt_flip(path, PS + 20);
    mpt_flip(path, 2 * PS + 20);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_META,
           "no metadata copy validates", &r);
    assert_int_equal(r.recovery_would_choose, -1);
    assert_int_equal(r.recovery_reason, -1);
}

static void bad_map_leaf_checksum(void **state)
{
    struct mph_check_report r;
    const char *path;
    mp_protected_id id;
    mp_pager *p;
    void *w;
    (void)state;

    /* Copy B's live leaf is page 4, copy A's page 3. */
    path = cu_two_commits("leaf.mp", PS);
    mpt_flip(path, 4 * PS + 100);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "map leaf 0", &r);
    cu_assert_says(&r, "checksum");
    assert_int_equal(r.recovery_would_choose, 0);

    /* A commit that changes only the directory: both copies reach the
     * same live leaf, so damage to it leaves nothing to fall back to. */
    path = mpt_path("leaf2.mp");
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(mp_protected_begin(p, id, &w), MP_OK);
    memset(w, 1, PS);
    assert_int_equal(mp_protected_commit(p, id), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(cu_ref_live(path, PS, 1, 128),
                     cu_ref_live(path, PS, 2, 128));
    mpt_flip(path, cu_ref_live(path, PS, 1, 128) * PS + 7);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_META, "map leaf 0", &r);
}

static void free_count_mismatch_with_valid_checksums(void **state)
{
    struct mph_check_report r;
    const char *path;
    uint64_t fp;
    (void)state;

    path = cu_two_commits("free.mp", PS);
    fp = cu_get(path, 2 * PS + 32, 8);
    cu_set_meta(path, PS, 1, 32, 8, fp - 1);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "free_pages says", &r);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_BAD_SELECTED);
    assert_false(r.copy[1].valid);
    assert_true(r.copy[1].header_ok);

    path = cu_two_commits("free2.mp", PS);
    for (int c = 0; c < 2; c++) {
        fp = cu_get(path, (uint64_t)(1 + c) * PS + 32, 8);
        cu_set_meta(path, PS, c, 32, 8, fp + 1);
    }
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_META, "free_pages says",
           &r);
}

static void map_bits_that_lie(void **state)
{
    struct mph_check_report r;
    const char *path;
    (void)state;

    /* A reserved page marked free (and the count adjusted to match). */
    path = cu_two_commits("resbit.mp", PS);
    cu_edit_leaf0(path, PS, 1, 0, 0x02);
    cu_set_meta(path, PS, 1, 32, 8, cu_get(path, 2 * PS + 32, 8) + 1);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "reserved page 1", &r);

    /* A bit past total_pages. */
    path = cu_two_commits("beyond.mp", PS);
    cu_edit_leaf0(path, PS, 1, 100, 0x10);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "beyond total_pages", &r);

    /* A leaf copy marked free. */
    path = cu_two_commits("leafbit.mp", PS);
    cu_edit_leaf0(path, PS, 1, 0, 0x10);
    cu_set_meta(path, PS, 1, 32, 8, cu_get(path, 2 * PS + 32, 8) + 1);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "copy 1 (page 4)", &r);
}

static void truncated_files(void **state)
{
    struct mph_check_report r;
    const char *path;
    mp_pgno pg;
    mp_pager *p;
    (void)state;

    path = cu_two_commits("t0.mp", PS);
    assert_int_equal(mpt_truncate(path, 0), 0);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_SUPER, "0 bytes", &r);

    path = cu_two_commits("t40.mp", PS);
    assert_int_equal(mpt_truncate(path, 40), 0);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_SUPER, "too short", &r);

    path = cu_two_commits("t2p.mp", PS);
    assert_int_equal(mpt_truncate(path, 2 * PS), 0);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_SUPER, "3 pages", &r);
    /* Asking for another page size fails first, as open does. */
    expect(path, 1024, MPH_CHECK_CORRUPT, MP_EPAGESIZE, "3 pages", &r);

    path = cu_two_commits("t7p.mp", PS);
    assert_int_equal(mpt_truncate(path, 7 * PS), 0);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_ECORRUPT_META, "truncated", &r);

    /* Cut back to the size before a growth: the copy before the growth
     * still fits and open falls back to it. */
    path = mpt_path("tgrow.mp");
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_pager_grow(p, 20), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(mpt_truncate(path, 8 * PS), 0);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "truncated", &r);
    assert_int_equal(r.page_count, 8);

    /* Longer than the pages it holds (a crash during growth): a note. */
    path = cu_two_commits("long.mp", PS);
    assert_int_equal(mpt_truncate(path, 12 * PS + 100), 0);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, "beyond total_pages", &r);
    cu_assert_says(&r, "not a multiple");
}

static void wrong_page_size(void **state)
{
    struct mph_check_report r;
    const char *path = cu_mixed("ps.mp", PS);
    (void)state;
    expect(path, 8192, MPH_CHECK_CORRUPT, MP_EPAGESIZE,
           "the caller expects 8192", &r);
    /* The rest of the file was read at its own size and is sound. */
    assert_int_equal(r.problem_count, 1);
    assert_true(r.copy[0].valid && r.copy[1].valid);
    assert_int_equal(r.recovery_would_choose, -1);
    expect(path, 1024, MPH_CHECK_CORRUPT, MP_EPAGESIZE,
           "the caller expects 1024", &r);
    assert_int_equal(mph_check_file(NULL, path, 3000, &r), MP_EPAGESIZE);
}

/* Damage open does not look for: the checker fails the file, open
 * succeeds. */
static void damaged_protected_content_is_corrupt(void **state)
{
    struct mph_check_report r;
    const char *path = cu_mixed("protdata.mp", PS);
    int sel;
    uint64_t ref, live, e0;
    (void)state;
    sel = cu_selected(path);
    ref = 128 + 24 * cu_get(path, (uint64_t)(1 + sel) * PS + 64, 4);
    live = cu_ref_live(path, PS, 1 + (uint64_t)sel, (unsigned)ref);
    /* Slot 0's committed copy. */
    e0 = cu_ref_live(path, PS, live, 0);
    mpt_flip(path, e0 * PS + 33);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_OK, "protected slot 0", &r);
    cu_assert_says(&r, "checksum");
}

static void two_owners_of_one_page_fail_the_copy(void **state)
{
    struct mph_check_report r;
    const char *path;
    mp_protected_id ids[2];
    mp_pager *p;
    uint64_t a;
    (void)state;

    /* Slot 1's copy 0 moved onto slot 0's copy 0. */
    path = mpt_path("owners.mp");
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    {
        int sel = cu_selected(path);
        uint64_t ref =
            128 + 24 * cu_get(path, (uint64_t)(1 + sel) * PS + 64, 4);
        uint64_t blk = cu_ref_live(path, PS, 1 + (uint64_t)sel, (unsigned)ref);
        a = cu_get(path, blk * PS, 8);
        cu_edit_dir0(path, PS, sel, 32, 8, a); /* slot 1's page 0 */
    }
    /* Recovery refuses the copy (FORMAT.md section 7) and falls back to the
     * one before the protected pages. */
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "two owners", &r);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_BAD_SELECTED);
    assert_int_equal(r.protected_count, 0);

    /* A directory block's spare copy on map leaf 0's place. */
    path = mpt_path("owners2.mp");
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    {
        int sel = cu_selected(path);
        uint64_t meta = (uint64_t)(1 + sel) * PS;
        uint64_t ref = 128 + 24 * cu_get(path, meta + 64, 4);
        int live = (int)(cu_get(path, meta + ref + 20, 4) & 1);
        cu_set_meta(path, PS, sel, (unsigned)ref + 8 * (unsigned)(1 - live), 8,
                    3);
    }
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "two owners", &r);
    cu_assert_says(&r, "directory block 0");
}

static void reserved_metadata_bytes_fail_the_copy(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("mresv.mp", PS);
    (void)state;
    /* Issue 12 item 7b: the copy in use fails, as it fails for open. */
    cu_set_meta(path, PS, 1, 100, 4, 0x12345678);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "reserved bytes 92-127", &r);
    assert_int_equal(r.recovery_would_choose, 0);
    /* The same in the copy not in use is a note. */
    path = cu_two_commits("mresv2.mp", PS);
    cu_set_meta(path, PS, 0, 100, 4, 0x12345678);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, "copy A (not in use)", &r);
}

static void newer_copy_without_record_is_a_note(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("inflight.mp", PS);
    (void)state;
    /* As if a commit wrote copy A with generation 3 and crashed before its
     * record: the record still names B. */
    cu_set_meta(path, PS, 0, 16, 8, 3);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, "newer, generation 3", &r);
    assert_int_equal(r.recovery_would_choose, 1);
}

/*
 * Issue 12 item 7 (c): a page count ending group 1 inside its map-leaf
 * copies (B + 2). Growth never writes one (core/src/rules.h R1); the
 * checker and open both refuse the copy, so open falls back and the
 * checker says so (it used to call the file corrupt while open took it).
 */
static void total_inside_the_leaf_copies_fails_the_copy(void **state)
{
    const size_t ps = 1024;
    const uint64_t b = 8 * ps;
    struct mph_check_report r;
    const char *path = mpt_path("total-b2.mp");
    mp_pager *p;
    uint64_t fp;
    int sel;
    (void)state;

    remove(path);
    p = mpt_create(path, ps);
    assert_int_equal(mp_pager_grow(p, b + 3), MP_OK);
    assert_int_equal(mp_pager_page_count(p), b + 3);
    mp_pager_close(p);
    sel = cu_selected(path);
    fp = cu_get(path, (uint64_t)(1 + sel) * ps + 32, 8);
    cu_set_meta(path, ps, sel, 24, 8, b + 2); /* page b + 2 was free */
    cu_set_meta(path, ps, sel, 32, 8, fp - 1);
    expect(path, ps, MPH_CHECK_RECOVERABLE, MP_OK, "inside its map-leaf copies",
           &r);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_BAD_SELECTED);
    assert_false(r.copy[sel].header_ok);
    assert_int_equal(r.page_count, 8);
}

/*
 * Issue 11 item 6: a free count that leaves fewer allocated pages than
 * the header's own structures need (core/src/rules.h R2) fails the header
 * checks, in open and in the checker alike: copy A, which the record does
 * not name, is then not a candidate.
 */
static void free_count_below_the_structures_fails_the_header(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("owned.mp", PS);
    (void)state;
    assert_int_equal(cu_selected(path), 1);
    /* Copy A: 8 pages, 3 reserved + 2 leaf copies allocated, 3 free. */
    assert_int_equal(cu_get(path, PS + 32, 8), 3);
    cu_set_meta(path, PS, 0, 32, 8, 4);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK,
           "4 pages allocated, fewer than the 5", &r);
    assert_false(r.copy[0].header_ok);
    assert_true(r.copy[1].valid);
}

/*
 * Issue 12 item 7 (d): slot 0's committed-copy bit flipped, the directory
 * block's checksums made right again: the bit names the old copy, the
 * checksum is the new copy's. The bit is authoritative and the page is
 * damaged (core/src/rules.h R3): open accepts the file (it reads no
 * protected page), mp_protected_get refuses the page with MP_ECORRUPT, and
 * the checker predicts exactly that.
 */
static void protected_bit_against_its_checksum_is_corrupt(void **state)
{
    struct mph_check_report r;
    const char *path = cu_mixed("protbit.mp", PS);
    uint64_t ref, live, flags;
    int sel;
    (void)state;
    sel = cu_selected(path);
    ref = 128 + 24 * cu_get(path, (uint64_t)(1 + sel) * PS + 64, 4);
    live = cu_ref_live(path, PS, 1 + (uint64_t)sel, (unsigned)ref);
    flags = cu_get(path, live * PS + 20, 4);
    assert_true(flags & 2);
    cu_edit_dir0(path, PS, sel, 20, 4, flags ^ 1);
    expect(path, PS, MPH_CHECK_CORRUPT, MP_OK, "refuses it (MP_ECORRUPT)", &r);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_RECORD);
    assert_int_equal(r.cross_check, MPH_CROSS_AGREES);
}

/* rules.h R4: an entry generation beyond its copy's (or 0) fails the
 * copy, for the checker as for open (the cross-check agrees). */
static void entry_generation_beyond_the_copy_fails_it(void **state)
{
    struct mph_check_report r;
    (void)state;
    for (int bad = 1; bad < 3; bad++) {
        const char *path = cu_mixed(bad == 1 ? "entgen1.mp" : "entgen2.mp", PS);
        int sel = cu_selected(path);
        uint64_t gen = cu_get(path, (uint64_t)(1 + sel) * PS + 16, 8);
        cu_edit_dir0(path, PS, sel, 24, 8, bad == 1 ? gen + 1 : 0);
        expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "rules.h R4", &r);
        assert_int_equal(r.recovery_reason, MP_RECOVERY_BAD_SELECTED);
        assert_int_equal(r.recovery_would_choose, 1 - sel);
        assert_int_equal(r.cross_check, MPH_CROSS_AGREES);
    }
}

/*
 * One-flush copies (FORMAT.md 8.2, 9): a clean one-flush file is taken by
 * the newest copy (reason one_flush, verdict clean, the copy reported as
 * one-flush). The committed page of a protected write of the newest
 * generation damaged: that copy fails the generation check (rules.h R5)
 * and the checker predicts the fallback open makes.
 */
static void one_flush_generation_check_is_predicted(void **state)
{
    struct mph_check_report r;
    struct mp_options opt;
    const char *path = mpt_path("ofgen.mp");
    mp_protected_id id;
    mp_pager *p = NULL;
    uint64_t meta, ref, blk, flags, page;
    void *w;
    int newest;
    (void)state;
    remove(path);
    mpt_options(&opt);
    opt.flags |= MP_OPEN_ONE_FLUSH;
    assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(mp_protected_begin(p, id, &w), MP_OK);
    memset(w, 0x5A, PS);
    assert_int_equal(mp_protected_commit(p, id), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);

    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, NULL, &r);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_ONE_FLUSH);
    newest = r.recovery_would_choose;
    assert_true(r.copy[newest].one_flush);
    assert_int_equal(r.copy[newest].generation, 3);

    meta = 1 + (uint64_t)newest;
    ref = 128 + 24 * cu_get(path, meta * PS + 64, 4);
    blk = cu_ref_live(path, PS, meta, (unsigned)ref);
    flags = cu_get(path, blk * PS + 20, 4);
    assert_int_equal(cu_get(path, blk * PS + 24, 8), 3);
    page = cu_get(path, blk * PS + 8 * (flags & 1), 8);
    mpt_flip(path, page * PS + 9);
    expect(path, PS, MPH_CHECK_RECOVERABLE, MP_OK, "rules.h R5", &r);
    assert_int_equal(r.recovery_reason, MP_RECOVERY_ONE_FLUSH_FALLBACK);
    assert_int_equal(r.recovery_would_choose, 1 - newest);
    assert_false(r.copy[newest].valid);
    assert_int_equal(r.cross_check, MPH_CROSS_AGREES);
}

/* Issue 12 item 6: a newer format minor is a note; read-only opens take
 * the file, read-write opens refuse it with MP_EVERSION, and the report
 * predicts both (open_error, open_error_rw). */
static void newer_minor_opens_read_only_only(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("minor.mp", PS);
    (void)state;
    cu_put(path, 10, 2, MP_FORMAT_MINOR + 1);
    fix_header_crc(path);
    expect(path, PS, MPH_CHECK_CLEAN, MP_OK, "format minor", &r);
    assert_int_equal(r.open_error_rw, MP_EVERSION);
}

int main(void)
{
    /* Small files only: small reservations keep valgrind runs fast. */
    mpt_cap_reserve((uint64_t)64 << 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(superblock_damage_is_corrupt_with_opens_error),
        cmocka_unit_test(superblock_reserved_and_ignored_bytes),
        cmocka_unit_test(torn_record_is_recoverable_newest_copy),
        cmocka_unit_test(damaged_selected_copy_is_recoverable_with_fallback),
        cmocka_unit_test(record_naming_a_stale_copy_is_recoverable),
        cmocka_unit_test(damaged_inactive_copy_is_a_note),
        cmocka_unit_test(both_copies_damaged_is_corrupt),
        cmocka_unit_test(bad_map_leaf_checksum),
        cmocka_unit_test(free_count_mismatch_with_valid_checksums),
        cmocka_unit_test(map_bits_that_lie),
        cmocka_unit_test(truncated_files),
        cmocka_unit_test(wrong_page_size),
        cmocka_unit_test(damaged_protected_content_is_corrupt),
        cmocka_unit_test(two_owners_of_one_page_fail_the_copy),
        cmocka_unit_test(reserved_metadata_bytes_fail_the_copy),
        cmocka_unit_test(newer_copy_without_record_is_a_note),
        cmocka_unit_test(total_inside_the_leaf_copies_fails_the_copy),
        cmocka_unit_test(free_count_below_the_structures_fails_the_header),
        cmocka_unit_test(protected_bit_against_its_checksum_is_corrupt),
        cmocka_unit_test(entry_generation_beyond_the_copy_fails_it),
        cmocka_unit_test(one_flush_generation_check_is_predicted),
        cmocka_unit_test(newer_minor_opens_read_only_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
