/*
 * test_check_api.c - the library's contract: argument errors, reports for
 * files that cannot be read, print and dump output, and a cross-check that
 * fails when the core sees something else than the checker did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "check_util.h"

static void bad_arguments_are_refused(void **state)
{
    struct mph_check_report r;
    const char *path = cu_empty("args.mp", 1024);
    unsigned char b[8] = { 0 };
    (void)state;
    assert_int_equal(mph_check_file(NULL, NULL, 0, &r), MP_EINVAL);
    assert_int_equal(mph_check_file(NULL, path, 0, NULL), MP_EINVAL);
    assert_int_equal(mph_check_file(NULL, path, 1000, &r), MP_EPAGESIZE);
    assert_int_equal(mph_check_file(NULL, path, 512, &r), MP_EPAGESIZE);
    assert_int_equal(mph_check_file(NULL, mpt_path("none.mp"), 0, &r),
                     MP_ENOENT);
    assert_int_equal(mph_check_image(NULL, 10, 0, &r), MP_EINVAL);
    assert_int_equal(mph_check_image(b, sizeof(b), 0, NULL), MP_EINVAL);
    assert_int_equal(mph_check_image(b, sizeof(b), 3000, &r), MP_EPAGESIZE);
    assert_int_equal(mph_check_print(NULL, &r, 0), MP_EINVAL);
    assert_int_equal(mph_check_print(stdout, NULL, 1), MP_EINVAL);
    assert_int_equal(mph_check_dump(NULL, NULL, path, 0, NULL), MP_EINVAL);
    assert_false(mph_check_passed(NULL));
    assert_string_equal(mph_check_verdict_name(MPH_CHECK_CLEAN), "clean");
    assert_string_equal(mph_check_verdict_name(MPH_CHECK_RECOVERABLE),
                        "recoverable");
    assert_string_equal(mph_check_verdict_name(MPH_CHECK_CORRUPT), "corrupt");
    assert_string_equal(mph_check_verdict_name(7), "?");
}

static void empty_and_tiny_inputs_get_a_verdict(void **state)
{
    struct mph_check_report r;
    const char *path = mpt_path("tiny.mp");
    unsigned char b[64];
    (void)state;
    assert_int_equal(mph_check_image(NULL, 0, 0, &r), MP_OK);
    assert_int_equal(r.verdict, MPH_CHECK_CORRUPT);
    assert_int_equal(r.open_error, MP_ECORRUPT_SUPER);
    memset(b, 0, sizeof(b));
    assert_int_equal(mph_check_image(b, sizeof(b), 0, &r), MP_OK);
    assert_int_equal(r.open_error, MP_ECORRUPT_SUPER);
    cu_assert_says(&r, "bad magic");
    /* An empty file: judged without mapping it. */
    remove(path);
    assert_int_equal(mpt_poke(path, 0, b, 0), -1); /* no file yet */
    {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        fclose(f);
    }
    cu_check(path, 0, &r);
    assert_int_equal(r.verdict, MPH_CHECK_CORRUPT);
    assert_int_equal(r.cross_check, MPH_CROSS_AGREES);
    cu_assert_agrees(path, 0, &r);
}

static char *print_to_string(const struct mph_check_report *r, int json)
{
    static char buf[1 << 16];
    FILE *f = tmpfile();
    size_t n;
    assert_non_null(f);
    assert_int_equal(mph_check_print(f, r, json), MP_OK);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void json_escapes_and_stays_valid_with_many_messages(void **state)
{
    struct mph_check_report r;
    const char *path = cu_two_commits("many.mp", 4096);
    char *s;
    (void)state;
    /* Several kinds of damage at once: notes and problems. */
    mpt_flip(path, 100);
    mpt_flip(path, 700);
    mpt_flip(path, 512 + 21);
    assert_int_equal(mpt_truncate(path, 9 * 4096 + 5), 0);
    cu_check(path, 0, &r);
    cu_assert_verdict(&r, MPH_CHECK_RECOVERABLE);
    assert_true(r.note_count >= 3);
    s = print_to_string(&r, 0);
    assert_non_null(strstr(s, "verdict: recoverable"));
    assert_non_null(strstr(s, "note: superblock: ignored bytes 64-511"));
    s = print_to_string(&r, 1);
    assert_true(cu_json_valid(s));
    /* Quotes in messages are escaped. */
    snprintf(r.msgs[0].text, sizeof(r.msgs[0].text), "a \"quoted\" \\ text\n");
    s = print_to_string(&r, 1);
    assert_true(cu_json_valid(s));
    assert_non_null(strstr(s, "a \\\"quoted\\\" \\\\ text\\u000a"));
}

static void messages_beyond_the_limit_are_counted(void **state)
{
    static mp_protected_id ids[40];
    struct mph_check_report r;
    const char *path = mpt_path("limit.mp");
    mp_pager *p;
    char *s;
    (void)state;
    remove(path);
    p = mpt_create(path, 1024);
    assert_int_equal(mp_protected_alloc_bulk(p, 40, ids), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    /* Damage every protected page's committed copy. */
    {
        int sel = cu_selected(path);
        uint64_t meta = 1 + (uint64_t)sel;
        unsigned ref = 128 + 24 * (unsigned)cu_get(path, meta * 1024 + 64, 4);
        uint64_t blk = cu_ref_live(path, 1024, meta, ref);
        for (unsigned slot = 0; slot < 40; slot++) {
            mpt_flip(path, cu_ref_live(path, 1024, blk, 32 * slot) * 1024 + 9);
        }
    }
    cu_check(path, 0, &r);
    cu_assert_verdict(&r, MPH_CHECK_CORRUPT);
    assert_true(r.msg_count <= MPH_CHECK_MAX_MSGS);
    cu_assert_says(&r, "more problems");
    s = print_to_string(&r, 0);
    assert_non_null(strstr(s, "protected slot 0"));
    cu_assert_agrees(path, 0, &r);
}

static void dump_prints_structures_and_returns_the_report(void **state)
{
    static char buf[1 << 16];
    struct mph_check_report r;
    const char *path = cu_mixed("dump.mp", 1024);
    FILE *f = tmpfile();
    size_t n;
    (void)state;
    assert_non_null(f);
    assert_int_equal(mph_check_dump(f, NULL, path, 0, &r), MP_OK);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_int_equal(r.verdict, MPH_CHECK_CLEAN);
    assert_non_null(strstr(buf, "superblock: magic \"MAPPEDPG\""));
    assert_non_null(strstr(buf, "map leaf 0: pages 3/4"));
    assert_non_null(strstr(buf, "slot 2 (id 0x4000000000000002)"));
    assert_non_null(strstr(buf, "verdict: clean"));
    f = tmpfile();
    assert_non_null(f);
    assert_int_equal(mph_check_dump(f, NULL, mpt_path("nope.mp"), 0, &r),
                     MP_ENOENT);
    fclose(f);
}

/* ---- a vfs that shows the core another file than the checker saw ---- */

struct swap_vfs {
    struct mp_vfs vfs;
    const char *other; /* what the second and later opens get */
    int opens;
};

static int swap_open(const struct mp_vfs *vfs, const char *path, unsigned flags,
                     struct mp_io_file **out, int *os)
{
    struct swap_vfs *s = vfs->ctx;
    const struct mp_vfs *px = mp_vfs_posix();
    return px->open(px, s->opens++ ? s->other : path, flags, out, os);
}

static int swap_remove(const struct mp_vfs *vfs, const char *path, int *os)
{
    (void)vfs;
    return mp_vfs_posix()->remove(mp_vfs_posix(), path, os);
}

static int swap_rename(const struct mp_vfs *vfs, const char *a, const char *b,
                       int *os)
{
    (void)vfs;
    return mp_vfs_posix()->rename(mp_vfs_posix(), a, b, os);
}

static int swap_sync_dir(const struct mp_vfs *vfs, const char *path, int *os)
{
    (void)vfs;
    return mp_vfs_posix()->sync_dir(mp_vfs_posix(), path, os);
}

static void check_swapped(const char *seen, const char *other,
                          struct mph_check_report *r)
{
    struct swap_vfs s;
    memset(&s, 0, sizeof(s));
    s.vfs.version = 1;
    s.vfs.name = "swap";
    s.vfs.ctx = &s;
    s.vfs.open = swap_open;
    s.vfs.remove = swap_remove;
    s.vfs.rename = swap_rename;
    s.vfs.sync_dir = swap_sync_dir;
    s.other = other;
    assert_int_equal(mph_check_file(&s.vfs, seen, 0, r), MP_OK);
    assert_int_equal(s.opens, 2);
}

static void expect_disagreement(const char *seen, const char *other,
                                const char *says)
{
    struct mph_check_report r;
    check_swapped(seen, other, &r);
    assert_int_equal(r.cross_check, MPH_CROSS_DISAGREES);
    cu_assert_verdict(&r, MPH_CHECK_CORRUPT);
    cu_assert_says(&r, says);
}

/* Two files with the same history length but different pages freed. */
static const char *freed(const char *name, int which)
{
    const char *path = mpt_path(name);
    mp_pgno pages[6];
    mp_pager *p;
    remove(path);
    p = mpt_create(path, 1024);
    assert_int_equal(mp_pager_alloc_bulk(p, 6, pages), MP_OK);
    assert_int_equal(mp_pager_free(p, pages[which]), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    return path;
}

/* Two files with the same counts but slot 0 committed in another copy. */
static const char *committed(const char *name, int twice)
{
    const char *path = mpt_path(name);
    mp_protected_id ids[2];
    mp_pager *p;
    void *w;
    remove(path);
    p = mpt_create(path, 1024);
    assert_int_equal(mp_protected_alloc_bulk(p, 2, ids), MP_OK);
    for (int i = 0; i < 2; i++) {
        mp_protected_id id = twice ? ids[0] : ids[i];
        assert_int_equal(mp_protected_begin(p, id, &w), MP_OK);
        assert_int_equal(mp_protected_commit(p, id), MP_OK);
    }
    assert_int_equal(mp_pager_close(p), MP_OK);
    return path;
}

static void cross_check_catches_a_core_that_sees_otherwise(void **state)
{
    struct mph_check_report r;
    const char *a, *b;
    (void)state;

    /* Same file: agrees. */
    a = cu_mixed("swap_a.mp", 1024);
    check_swapped(a, a, &r);
    assert_int_equal(r.cross_check, MPH_CROSS_AGREES);
    assert_int_equal(r.verdict, MPH_CHECK_CLEAN);

    /* Another recovery decision. */
    b = cu_mixed("swap_b.mp", 1024);
    mpt_flip(b, 512 + 21);
    expect_disagreement(a, b, "core disagrees: recovery took");

    /* Open fails where the checker predicts success, and back. */
    b = cu_mixed("swap_c.mp", 1024);
    mpt_flip(b, 0); /* the header, and the copy of it each copy carries */
    mpt_flip(b, 1024 + 76);
    mpt_flip(b, 2048 + 76);
    expect_disagreement(a, b, "mp_pager_open returns MP_ECORRUPT_SUPER");
    expect_disagreement(b, a, "the checker predicts MP_ECORRUPT_SUPER");

    /* Same decision and counts, another page freed: the iterator. */
    a = freed("swap_d.mp", 1);
    b = freed("swap_e.mp", 4);
    expect_disagreement(a, b, "page iterator yields page");

    /* Same counts, slot 0 committed into the other copy. */
    a = committed("swap_f.mp", 1);
    b = committed("swap_g.mp", 0);
    expect_disagreement(a, b, "protected slot 0 reads page");
}

int main(void)
{
    /* Small files only: small reservations keep valgrind runs fast. */
    mpt_cap_reserve((uint64_t)64 << 20);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(empty_and_tiny_inputs_get_a_verdict),
        cmocka_unit_test(json_escapes_and_stays_valid_with_many_messages),
        cmocka_unit_test(messages_beyond_the_limit_are_counted),
        cmocka_unit_test(dump_prints_structures_and_returns_the_report),
        cmocka_unit_test(cross_check_catches_a_core_that_sees_otherwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
