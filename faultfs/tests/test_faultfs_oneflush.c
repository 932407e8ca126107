/*
 * test_faultfs_oneflush.c - the one-flush commit mode (MP_OPEN_ONE_FLUSH,
 * FORMAT.md 8.2 and 9): one sync per commit, recovery from a crash in it by
 * the newest copy that validates completely (the generation check of
 * protected pages included), page damage in older generations kept apart
 * from a fallback, and files written in both modes by turns, with a crash
 * in the first commit of every session.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/tests/support/mpt_valgrind.h"
#include "fft.h"

#define PS   4096
#define NAME "of.mp"

static void options(faultfs *fs, unsigned flags, struct mp_options *opt)
{
    fft_options(fs, opt);
    opt->flags = flags;
}

static mp_pager *open_as(faultfs *fs, unsigned flags)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    options(fs, flags, &opt);
    assert_int_equal(mp_pager_open(NAME, PS, &opt, &p), MP_OK);
    return p;
}

static uint64_t digest(mp_pager *p)
{
    return fft_digest(p, 64);
}

/* ---- one sync per commit ---------------------------------------------- */

static void syncs_of(mp_pager *p, faultfs *fs, uint64_t *pager,
                     uint64_t *backend)
{
    struct mp_pager_stats ps;
    struct faultfs_stats fs_st;
    mp_pager_stats(p, &ps);
    faultfs_stats(fs, &fs_st);
    *pager = ps.sync_calls;
    *backend = fs_st.syncs;
}

/* Run op once and return the sync calls it made (pager and backend must
 * agree). */
static uint64_t syncs_for(mp_pager *p, faultfs *fs, int which,
                          mp_protected_id *prot, mp_pgno *pg)
{
    static mp_pgno pgs[5];
    uint64_t a0, b0, a1, b1;
    mp_protected_id ids[2];
    void *w;

    if (which == 5) {
        assert_int_equal(mp_protected_begin(p, *prot, &w), MP_OK);
        memset(w, 0x5A, PS);
    }
    syncs_of(p, fs, &a0, &b0);
    switch (which) {
    case 0:
        assert_int_equal(mp_pager_alloc(p, pg), MP_OK);
        break;
    case 1:
        assert_int_equal(mp_pager_free(p, *pg), MP_OK);
        break;
    case 2:
        assert_int_equal(mp_pager_alloc_bulk(p, 5, pgs), MP_OK);
        break;
    case 3:
        assert_int_equal(mp_pager_free_bulk(p, pgs, 5), MP_OK);
        break;
    case 4:
        assert_int_equal(mp_protected_alloc(p, prot), MP_OK);
        break;
    case 5:
        assert_int_equal(mp_protected_commit(p, *prot), MP_OK);
        break;
    case 6:
        assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
        break;
    default:
        assert_int_equal(mp_protected_free(p, *prot), MP_OK);
        break;
    }
    syncs_of(p, fs, &a1, &b1);
    assert_int_equal(a1 - a0, b1 - b0);
    return a1 - a0;
}

/*
 * Alloc, free, bulk calls, protected alloc, commit and free: one sync call
 * each in one-flush mode (mp_pager_stats and faultfs's own count agree),
 * two in the default mode; the mode is reported, and a read-only open
 * ignores the flag.
 */
static void one_flush_commit_is_one_sync(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        unsigned flags = mode ? MP_OPEN_ONE_FLUSH : 0;
        faultfs *fs = fft_new(3, 512, 0);
        struct mp_options opt;
        mp_protected_id prot = 0;
        mp_pgno pg = 0;
        mp_pager *p = NULL;

        options(fs, flags, &opt);
        assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
        assert_int_equal(mp_pager_one_flush(p), mode == 1);
        /* Room first: no growth (and its sync_file) in the counted calls. */
        assert_int_equal(mp_pager_grow(p, 64), MP_OK);
        for (int which = 0; which < 8; which++) {
            uint64_t n = syncs_for(p, fs, which, &prot, &pg);
            if (n != (mode ? 1u : 2u)) {
                fail_msg("mode %d call %d: %llu sync calls", mode, which,
                         (unsigned long long)n);
            }
        }
        assert_int_equal(mp_pager_close(p), MP_OK);
        p = open_as(fs, flags);
        assert_int_equal(mp_pager_one_flush(p), mode == 1);
        assert_int_equal(mp_pager_close(p), MP_OK);
        p = open_as(fs, flags | MP_OPEN_READONLY);
        assert_false(mp_pager_one_flush(p));
        assert_int_equal(mp_pager_close(p), MP_OK);
        faultfs_free(fs);
    }
}

/*
 * Create is the create protocol (FORMAT.md 10) in either mode: the same
 * syncs, and a file created with MP_OPEN_ONE_FLUSH and closed reopens by
 * its intact record (RECORD, no fallback). Reported by the harness
 * (to-core.md 1): a one-flush create left no record.
 */
static void one_flush_create_is_the_create_protocol(void **state)
{
    uint64_t syncs[2];
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        unsigned flags = mode ? MP_OPEN_ONE_FLUSH : 0;
        faultfs *fs = fft_new(3, 512, 0);
        struct mp_recovery_info ri;
        struct mp_options opt;
        struct mp_pager_stats st;
        mp_pager *p = NULL;
        options(fs, flags, &opt);
        assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
        mp_pager_stats(p, &st);
        syncs[mode] = st.sync_calls + st.file_syncs;
        assert_int_equal(mp_pager_close(p), MP_OK);
        p = open_as(fs, flags);
        mp_pager_recovery(p, &ri);
        assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
        assert_false(ri.fallback);
        assert_int_equal(mp_pager_close(p), MP_OK);
        faultfs_free(fs);
    }
    assert_int_equal(syncs[0], syncs[1]);
}

/* ---- the generation check --------------------------------------------- */

/*
 * A one-flush file with a regular page and a protected page holding 0xAA;
 * then 0xBB is committed and the commit crashes in its only barrier. The
 * page the commit wrote the content to goes to *data.
 */
static faultfs *crashed_protected_commit(mp_protected_id *id, uint64_t *data)
{
    faultfs *fs = fft_new(5, 512, 0);
    struct mp_options opt;
    const unsigned char *r;
    unsigned char *w;
    mp_pager *p = NULL;
    mp_pgno reg;

    options(fs, MP_OPEN_ONE_FLUSH, &opt);
    assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &reg), MP_OK);
    assert_int_equal(mp_protected_alloc(p, id), MP_OK);
    assert_int_equal(fft_protected_write(p, *id, 0xAA), MP_OK);
    assert_int_equal(mp_protected_begin(p, *id, (void **)&w), MP_OK);
    memset(w, 0xBB, PS);
    assert_int_equal(mp_pager_get(p, reg, (const void **)&r), MP_OK);
    *data = reg + (uint64_t)((uintptr_t)w - (uintptr_t)r) / PS;
    assert_int_equal(
        faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC, 1, FAULTFS_DURING), MP_OK);
    assert_int_not_equal(mp_protected_commit(p, *id), MP_OK);
    assert_true(faultfs_crashed(fs));
    mp_pager_close(p);
    return fs;
}

static int reopen_image(faultfs *fs, const char *pattern,
                        struct mp_recovery_info *ri, int *byte)
{
    faultfs *img;
    mp_pager *p;
    const unsigned char *b;
    mp_protected_id id;
    mp_iter it;
    int rc;

    assert_int_equal(faultfs_image_from_pattern(fs, pattern, &img), MP_OK);
    p = open_as(img, MP_OPEN_ONE_FLUSH);
    mp_pager_recovery(p, ri);
    *byte = -1;
    rc = MP_OK;
    mp_for_each_protected(&it, p, id) {
        rc = mp_protected_get(p, id, (const void **)&b);
        *byte = rc == MP_OK ? b[0] : -1;
    }
    mp_pager_close(p);
    faultfs_free(img);
    return rc;
}

/*
 * The protected commit's metadata copy and tree landed, its data page did
 * not: the copy fails the generation check (rules.h R5), recovery falls
 * back (ONE_FLUSH_FALLBACK) and the page reads its old content. With the
 * data page too: the new copy (ONE_FLUSH). Fails under mutant 12, which
 * takes the new copy and serves a damaged page (MP_ECORRUPT).
 */
static void lost_data_page_falls_back(void **state)
{
    struct mp_recovery_info ri;
    mp_protected_id id;
    uint64_t data;
    char pat[64];
    int byte;
    faultfs *fs;
    (void)state;

    fs = crashed_protected_commit(&id, &data);
    snprintf(pat, sizeof(pat), "all=new f0.p%llu=o", (unsigned long long)data);
    assert_int_equal(reopen_image(fs, pat, &ri, &byte), MP_OK);
    assert_int_equal(ri.reason, MP_RECOVERY_ONE_FLUSH_FALLBACK);
    assert_true(ri.fallback);
    assert_int_equal(byte, 0xAA);
    assert_false(ri.copy_valid[1 - ri.chosen_copy]);

    assert_int_equal(reopen_image(fs, "all=new", &ri, &byte), MP_OK);
    assert_int_equal(ri.reason, MP_RECOVERY_ONE_FLUSH);
    assert_false(ri.fallback);
    assert_int_equal(byte, 0xBB);

    /* Pages still dirty at the crash old (the barrier had persisted some
     * of its pages): the old content, by the old copy or a fallback. */
    assert_int_equal(reopen_image(fs, "all=old", &ri, &byte), MP_OK);
    assert_true(ri.reason == MP_RECOVERY_ONE_FLUSH ||
                ri.reason == MP_RECOVERY_ONE_FLUSH_FALLBACK);
    assert_int_equal(byte, 0xAA);
    faultfs_free(fs);
}

/*
 * A bit flipped in a protected page committed in an older generation of a
 * one-flush file is page damage (R3): no fallback, the newest copy is
 * taken, and only that page is refused with MP_ECORRUPT.
 */
static void damaged_older_page_is_not_a_fallback(void **state)
{
    faultfs *fs = fft_new(9, 512, 0);
    struct mp_recovery_info ri;
    struct mp_options opt;
    mp_protected_id ids[2];
    const unsigned char *r;
    mp_pager *p = NULL;
    mp_pgno reg, more;
    unsigned char b;
    uint64_t gen;
    (void)state;

    options(fs, MP_OPEN_ONE_FLUSH, &opt);
    assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &reg), MP_OK);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    assert_int_equal(fft_protected_write(p, ids[0], 0x11), MP_OK);
    assert_int_equal(fft_protected_write(p, ids[1], 0x22), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &more), MP_OK); /* a newer commit */
    assert_int_equal(mp_protected_get(p, ids[0], (const void **)&r), MP_OK);
    {
        const unsigned char *base;
        assert_int_equal(mp_pager_get(p, reg, (const void **)&base), MP_OK);
        b = (unsigned char)(r[100] ^ 0x01);
        assert_int_equal(
            faultfs_file_write(
                fs, NAME, (reg + (uint64_t)(r - base) / PS) * PS + 100, &b, 1),
            MP_OK);
    }
    mp_pager_recovery(p, &ri);
    gen = ri.generation;
    assert_int_equal(mp_pager_close(p), MP_OK);

    p = open_as(fs, MP_OPEN_ONE_FLUSH);
    mp_pager_recovery(p, &ri);
    assert_false(ri.fallback);
    assert_int_equal(ri.reason, MP_RECOVERY_ONE_FLUSH);
    assert_true(ri.generation > gen);
    assert_int_equal(mp_protected_get(p, ids[0], (const void **)&r),
                     MP_ECORRUPT);
    assert_int_equal(mp_protected_get(p, ids[1], (const void **)&r), MP_OK);
    assert_int_equal(r[0], 0x22);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_free(fs);
}

/* ---- both modes by turns, a crash in each session's first commit ------ */

struct blob {
    unsigned char *b;
    uint64_t n;
};

static struct blob save(faultfs *fs)
{
    struct blob s;
    assert_int_equal(faultfs_file_durable_size(fs, NAME, &s.n), MP_OK);
    s.b = malloc((size_t)s.n);
    assert_non_null(s.b);
    assert_int_equal(faultfs_file_read(fs, NAME, true, 0, s.b, (size_t)s.n),
                     MP_OK);
    return s;
}

static faultfs *load(const struct blob *s)
{
    faultfs *fs = fft_new(11, 512, 1);
    assert_int_equal(faultfs_load_bytes(fs, NAME, s->b, (size_t)s->n), MP_OK);
    return fs;
}

struct session {
    unsigned flags;
    int value; /* written into protected page 0 by the first commit */
};

static const struct session sessions[] = {
    { 0, 0x22 },
    { MP_OPEN_ONE_FLUSH, 0x33 },
    { MP_OPEN_ONE_FLUSH, 0x44 },
    { 0, 0x55 },
};
#define NSESSIONS (sizeof(sessions) / sizeof(sessions[0]))

static uint64_t chains;

/* Session i from the file in `start`: its first commit crashed at every
 * point, each crash image recovered and checked (the state before or after
 * that commit), then the next session from it; a few images go on. */
static void run_session(const struct blob *start, size_t i, uint64_t seed)
{
    uint64_t before, after;
    mp_protected_id id = MP_ID_KIND_PROTECT | 0;
    faultfs *fs;
    mp_pager *p;

    if (i == NSESSIONS) {
        chains++;
        return;
    }
    /* Before and after, without a crash. */
    fs = load(start);
    p = open_as(fs, sessions[i].flags);
    before = digest(p);
    assert_int_equal(fft_protected_write(p, id, sessions[i].value), MP_OK);
    after = digest(p);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_free(fs);
    assert_true(before != after);

    for (uint64_t k = 0;; k++) {
        static const char *const pats[] = { "all=old", "all=new" };
        int rc;
        fs = load(start);
        p = open_as(fs, sessions[i].flags);
        assert_int_equal(faultfs_arm_crash(fs, faultfs_point_count(fs) + k),
                         MP_OK);
        rc = fft_protected_write(p, id, sessions[i].value);
        mp_pager_close(p);
        if (!faultfs_crashed(fs)) {
            assert_int_equal(rc, MP_OK);
            faultfs_free(fs);
            break;
        }
        for (int s = 0; s < 4; s++) {
            faultfs *img;
            uint64_t h;
            mp_pager *q;
            if (s < 2) {
                assert_int_equal(faultfs_image_from_pattern(fs, pats[s], &img),
                                 MP_OK);
            } else {
                assert_int_equal(
                    faultfs_image_random(fs, seed * 131 + k * 7 + (uint64_t)s,
                                         &img),
                    MP_OK);
            }
            q = open_as(img, sessions[i].flags);
            h = digest(q);
            mp_pager_close(q);
            if (h != before && h != after) {
                fail_msg("session %zu (%s) point %llu image [%.200s]: neither "
                         "before nor after",
                         i, sessions[i].flags ? "one-flush" : "two-barrier",
                         (unsigned long long)k, faultfs_image_pattern(img));
            }
            /* Go on from every image of the first session, from one image
             * per point later (the chains stay a few hundred); under
             * memcheck, which checks memory, not coverage, from one image
             * per point in every session. */
            if ((i == 0 && !RUNNING_ON_VALGRIND) ||
                (uint64_t)s == (seed + k) % 4) {
                struct blob next = save(img);
                run_session(&next, i + 1, seed * 4 + (uint64_t)s + k);
                free(next.b);
            }
            faultfs_free(img);
        }
        faultfs_free(fs);
    }
}

/*
 * Two-barrier, one-flush, one-flush, two-barrier sessions on one file,
 * each crashing in its first commit (a protected write) at every crash
 * point, torn and lost pages included: every reopen shows the state before
 * or after that commit, never a mix, and the next session starts from it
 * (FORMAT.md 8.3).
 */
static void mode_switching_with_crashes_is_old_or_new(void **state)
{
    faultfs *fs = fft_new(13, 512, 1);
    struct mp_options opt;
    mp_protected_id id;
    mp_pager *p = NULL;
    mp_pgno pg;
    struct blob start;
    (void)state;

    fft_options(fs, &opt);
    assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(fft_protected_write(p, id, 0x11), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    start = save(fs);
    faultfs_free(fs);
    chains = 0;
    run_session(&start, 0, 1);
    free(start.b);
    printf("%llu chains of %zu sessions\n", (unsigned long long)chains,
           NSESSIONS);
    assert_true(chains > 10);
}

/*
 * Page 0's header damaged (taken from a copy at open): the first one-flush
 * commit rewrites page 0 in its one barrier, with a record naming the copy
 * before it. A crash at any point of that commit, page 0 torn or garbage
 * included, recovers the state before or after it; once it succeeded,
 * page 0 is intact and the new copy is its named copy's one-flush
 * successor (reason ONE_FLUSH, no fallback).
 */
static void damaged_header_is_rewritten_in_the_barrier(void **state)
{
    faultfs *fs = fft_new(17, 512, 1);
    struct mp_recovery_info ri;
    struct mp_options opt;
    mp_protected_id id;
    mp_pager *p = NULL;
    mp_pgno pg;
    struct blob start;
    uint64_t before, after, images = 0;
    unsigned char b;
    (void)state;

    fft_options(fs, &opt);
    assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(fft_protected_write(p, id, 0x11), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    b = (unsigned char)(fft_byte(fs, NAME, 0, 3) ^ 0x20);
    assert_int_equal(faultfs_file_write(fs, NAME, 3, &b, 1), MP_OK);
    assert_int_equal(faultfs_sync_all(fs), MP_OK);
    start = save(fs);
    faultfs_free(fs);

    fs = load(&start);
    p = open_as(fs, MP_OPEN_ONE_FLUSH);
    before = digest(p);
    assert_int_equal(fft_protected_write(p, id, 0x22), MP_OK);
    after = digest(p);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(fft_byte(fs, NAME, 1, 3), 'P'); /* "MAPPEDPG" again */
    p = open_as(fs, MP_OPEN_ONE_FLUSH);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_ONE_FLUSH);
    assert_false(ri.fallback);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_free(fs);

    for (uint64_t k = 0;; k++) {
        static const char *const pats[] = { "all=old", "all=new",
                                            "all=new f0.p0=tg-------",
                                            "all=old f0.p0=tng------" };
        int rc;
        fs = load(&start);
        p = open_as(fs, MP_OPEN_ONE_FLUSH);
        assert_int_equal(faultfs_arm_crash(fs, faultfs_point_count(fs) + k),
                         MP_OK);
        rc = fft_protected_write(p, id, 0x22);
        mp_pager_close(p);
        if (!faultfs_crashed(fs)) {
            assert_int_equal(rc, MP_OK);
            faultfs_free(fs);
            break;
        }
        for (int s = 0; s < 6; s++) {
            faultfs *img;
            uint64_t h;
            mp_pager *q;
            if (s < 4) {
                if (faultfs_image_from_pattern(fs, pats[s], &img) != MP_OK) {
                    continue; /* page 0 not in flight at this point */
                }
            } else {
                assert_int_equal(
                    faultfs_image_random(fs, k * 10 + (uint64_t)s, &img),
                    MP_OK);
            }
            q = open_as(img, MP_OPEN_ONE_FLUSH);
            h = digest(q);
            mp_pager_close(q);
            if (h != before && h != after) {
                fail_msg("point %llu image [%.200s]: neither before nor after",
                         (unsigned long long)k, faultfs_image_pattern(img));
            }
            images++;
            faultfs_free(img);
        }
        faultfs_free(fs);
    }
    free(start.b);
    assert_true(images > 4);
}

/*
 * A torn record (a crash in barrier 2 of a two-barrier commit, the record
 * sector garbage), then a one-flush session: its first commit rewrites
 * page 0 in its barrier (header, and a record naming the copy before the
 * commit), so every later reopen after a clean close takes the newest
 * copy as ONE_FLUSH, not as a fallback. Reported by the harness
 * (to-core.md item 2: TORN_RECORD forever).
 */
static void torn_record_is_repaired_by_a_one_flush_commit(void **state)
{
    faultfs *fs = fft_new(19, 512, 1), *img;
    struct mp_recovery_info ri;
    struct mp_options opt;
    mp_pager *p = NULL;
    mp_pgno pg;
    char pat[64];
    (void)state;

    fft_options(fs, &opt);
    assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(
        faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC, 2, FAULTFS_DURING), MP_OK);
    assert_int_not_equal(mp_pager_alloc(p, &pg), MP_OK);
    mp_pager_close(p);
    snprintf(pat, sizeof(pat), "all=new f0.p0=t-g------");
    assert_int_equal(faultfs_image_from_pattern(fs, pat, &img), MP_OK);
    faultfs_free(fs);

    p = open_as(img, MP_OPEN_ONE_FLUSH);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_TORN_RECORD);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
        assert_int_equal(mp_pager_close(p), MP_OK);
        p = open_as(img, MP_OPEN_ONE_FLUSH);
        mp_pager_recovery(p, &ri);
        assert_int_equal(ri.reason, MP_RECOVERY_ONE_FLUSH);
        assert_false(ri.fallback);
    }
    /* And a two-barrier session after it, as after any one-flush one. */
    assert_int_equal(mp_pager_close(p), MP_OK);
    p = open_as(img, 0);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    p = open_as(img, 0);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_RECORD);
    assert_int_equal(mp_pager_close(p), MP_OK);
    faultfs_free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_flush_commit_is_one_sync),
        cmocka_unit_test(one_flush_create_is_the_create_protocol),
        cmocka_unit_test(lost_data_page_falls_back),
        cmocka_unit_test(damaged_older_page_is_not_a_fallback),
        cmocka_unit_test(mode_switching_with_crashes_is_old_or_new),
        cmocka_unit_test(damaged_header_is_rewritten_in_the_barrier),
        cmocka_unit_test(torn_record_is_repaired_by_a_one_flush_commit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
