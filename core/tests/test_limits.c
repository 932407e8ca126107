/*
 * test_limits.c - the edges of the API: the 2^64-byte overflow of the
 * largest page size, the sub-page allocator limit, bounds of
 * mp_pager_sync_pages, bad arguments, error names outside the list, lock
 * misuse detected by the platform, and batch iteration over full map words.
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

#define PS 1024

/* With 16 MiB pages, MP_MAX_PAGES pages are 2^64 bytes: the byte count
 * wraps, and growth must say MP_ELIMIT instead of growing to 0 bytes. */
static void largest_pages_times_most_pages_is_a_limit(void **state)
{
    const char *path = mpt_path("l_big_pages.mp");
    mp_pager *p;
    mp_pgno pg;
    uint64_t pages;
    int code, os;
    (void)state;
    remove(path);
    p = mpt_create(path, MP_PAGE_SIZE_MAX);
    pages = mp_pager_page_count(p);
    assert_int_equal(mp_pager_grow(p, MP_MAX_PAGES), MP_ELIMIT);
    assert_int_equal(mp_pager_grow(p, MP_MAX_PAGES + 1), MP_ELIMIT);
    /* Nothing changed; the pager is usable. */
    mp_pager_last_failure(p, &code, &os);
    assert_int_equal(code, 0);
    assert_int_equal(mp_pager_page_count(p), pages);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    mp_pager_close(p);
    p = mpt_open(path, 0);
    assert_int_equal(mp_pager_page_size(p), MP_PAGE_SIZE_MAX);
    assert_int_equal(mp_pager_page_count(p), pages);
    assert_int_equal(mp_pager_free(p, pg), MP_OK);
    mp_pager_close(p);
}

static void subpage_allocators_per_slot_size_are_limited(void **state)
{
    const char *path = mpt_path("l_sub.mp");
    mp_subpage **sp;
    mp_subpage *extra = NULL, *other = NULL;
    mp_pager *p;
    unsigned n = MP_SUBPAGE_MAX_INSTANCES;
    (void)state;
    remove(path);
    p = mpt_create(path, PS);
    sp = test_calloc(n, sizeof(*sp));
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(mp_subpage_create(p, 64, &sp[i]), MP_OK);
    }
    assert_int_equal(mp_subpage_create(p, 64, &extra), MP_ELIMIT);
    assert_null(extra);
    /* The limit is per slot size. */
    assert_int_equal(mp_subpage_create(p, 128, &other), MP_OK);
    mp_subpage_destroy(other);
    /* A destroyed allocator's tag is free again. */
    mp_subpage_destroy(sp[17]);
    assert_int_equal(mp_subpage_create(p, 64, &sp[17]), MP_OK);
    for (unsigned i = 0; i < n; i++) {
        mp_subpage_destroy(sp[i]);
    }
    test_free(sp);
    mp_pager_close(p);
}

static void sync_pages_checks_its_range(void **state)
{
    const char *path = mpt_path("l_sync.mp");
    mp_pager *p;
    uint64_t total;
    int code, os;
    (void)state;
    remove(path);
    p = mpt_create(path, PS);
    total = mp_pager_page_count(p);
    assert_int_equal(mp_pager_sync_pages(p, total, 1), MP_EOUTOFBOUNDS);
    assert_int_equal(mp_pager_sync_pages(p, 1, total), MP_EOUTOFBOUNDS);
    assert_int_equal(mp_pager_sync_pages(p, 1, 0), MP_EOUTOFBOUNDS);
    assert_int_equal(mp_pager_sync_pages(p, UINT64_MAX, 2), MP_EOUTOFBOUNDS);
    /* Refusals are not failures. */
    mp_pager_last_failure(p, &code, &os);
    assert_int_equal(code, 0);
    assert_int_equal(mp_pager_sync_pages(p, 1, total - 1), MP_OK);
    assert_int_equal(mp_pager_sync_pages(p, 0, 0), MP_OK);
    mp_pager_close(p);
}

static void bad_arguments_are_refused(void **state)
{
    const char *path = mpt_path("l_args.mp");
    mp_protected_id id;
    const void *b = (const void *)1;
    mp_shared *s = (mp_shared *)1;
    mp_pager *p;
    (void)state;
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(mp_protected_free_bulk(p, NULL, 1), MP_EINVAL);
    assert_int_equal(mp_protected_get(p, id, NULL), MP_EINVAL);
    assert_int_equal(mp_protected_get(p, id, &b), MP_OK);
    assert_non_null(b);
    assert_int_equal(mp_shared_wrap(p, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_wrap(NULL, &s), MP_EINVAL);
    assert_null(s);
    assert_int_equal(mp_protected_free(p, id), MP_OK);
    mp_pager_close(p);
}

static void shared_calls_refuse_a_null_handle(void **state)
{
    const mp_pager *rp = (const mp_pager *)1;
    mp_pager *wp = (mp_pager *)1;
    struct mp_shared_counts c;
    unsigned char buf[16];
    (void)state;
    assert_int_equal(mp_shared_try_read_lock(NULL, &rp), MP_EINVAL);
    assert_null(rp);
    assert_int_equal(mp_shared_try_write_lock(NULL, &wp), MP_EINVAL);
    assert_null(wp);
    assert_int_equal(mp_shared_try_read_lock(NULL, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_try_write_lock(NULL, NULL), MP_EINVAL);
    assert_int_equal(mp_shared_page_read(NULL, 5, buf, sizeof(buf)), MP_EINVAL);
    assert_int_equal(
        mp_shared_protected_write(NULL, MP_ID_KIND_PROTECT, buf, sizeof(buf)),
        MP_EINVAL);
    assert_int_equal(
        mp_shared_protected_read(NULL, MP_ID_KIND_PROTECT, buf, sizeof(buf)),
        MP_EINVAL);
    assert_int_equal(mp_shared_counts(NULL, &c), MP_EINVAL);
    mp_shared_read_unlock(NULL);
    mp_shared_write_unlock(NULL);
}

/* glibc detects a thread taking the lock it already holds for writing:
 * the wrapper reports the misuse as MP_EINVAL instead of deadlocking. */
static void relocking_from_the_writer_is_refused(void **state)
{
#if defined(__GLIBC__)
    const char *path = mpt_path("l_relock.mp");
    const mp_pager *rp;
    mp_pager *wp, *again;
    mp_shared *s;
    (void)state;
    remove(path);
    assert_int_equal(mp_shared_wrap(mpt_create(path, PS), &s), MP_OK);
    assert_int_equal(mp_shared_write_lock(s, &wp), MP_OK);
    assert_int_equal(mp_shared_write_lock(s, &again), MP_EINVAL);
    assert_null(again);
    assert_int_equal(mp_shared_read_lock(s, &rp), MP_EINVAL);
    assert_null(rp);
    mp_shared_write_unlock(s);
    /* The lock works normally afterwards. */
    assert_int_equal(mp_shared_try_write_lock(s, &wp), MP_OK);
    mp_shared_write_unlock(s);
    assert_int_equal(mp_shared_close(s), MP_OK);
#else
    (void)state;
    skip();
#endif
}

static void error_names_cover_the_list_and_nothing_else(void **state)
{
    (void)state;
    /* Every code of the list (values may have gaps: some are set aside
     * for work not merged yet). */
    static const int codes[] = {
#define CODE(name, value, msg) value,
        MP_ERROR_MAP(CODE)
#undef CODE
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        int e = codes[i];
        assert_true(e >= MP_ERROR_MIN && e <= 0);
        assert_string_not_equal(mp_strerror(e), "unknown error");
        assert_string_not_equal(mp_error_name(e), "MP_E?");
    }
    assert_string_equal(mp_error_name(MP_EIO), "MP_EIO");
    assert_string_equal(mp_error_name(1), "MP_E?");
    assert_string_equal(mp_error_name(MP_ERROR_MIN - 1), "MP_E?");
    assert_string_equal(mp_strerror(1), "unknown error");
    assert_string_equal(mp_strerror(MP_ERROR_MIN - 1), "unknown error");
}

/* A batch as large as the map's full words hands them out 64 at a time;
 * the ids must be the very ones mp_iter_next gives. */
static void batch_iteration_over_full_words_matches_next(void **state)
{
    const char *path = mpt_path("l_iter.mp");
    enum {
        N = 1000,
        CAP = 300
    };
    mp_pgno *pgs = test_malloc(N * sizeof(*pgs));
    uint64_t *a = test_malloc(N * sizeof(*a));
    uint64_t *b = test_malloc((N + CAP) * sizeof(*b));
    size_t na = 0, nb = 0, got;
    uint64_t id;
    mp_iter it;
    mp_pager *p;
    (void)state;
    remove(path);
    p = mpt_create(path, PS);
    assert_int_equal(mp_pager_alloc_bulk(p, N, pgs), MP_OK);
    /* A hole, so that not every word is full. */
    assert_int_equal(mp_pager_free(p, pgs[500]), MP_OK);
    mp_for_each_page(&it, p, id) {
        assert_true(na < N);
        a[na++] = id;
    }
    assert_int_equal(na, N - 1);
    assert_int_equal(mp_iter_pages(&it, p), MP_OK);
    while ((got = mp_iter_next_batch(&it, b + nb, CAP)) > 0) {
        nb += got;
        assert_true(nb <= N);
    }
    assert_int_equal(nb, na);
    assert_memory_equal(a, b, na * sizeof(*a));
    mp_pager_close(p);
    test_free(pgs);
    test_free(a);
    test_free(b);
}

/* Issue 12 item 5: one rule decides whether a page count fits the address
 * reservation. Alloc's geometric growth must reach the same limit that
 * mp_pager_grow() accepts, not stop at the last power of two below it. */
static void growth_and_alloc_agree_on_the_reservation(void **state)
{
    const char *path = mpt_path("l_reserve.mp");
    struct mp_options opt;
    mp_pager *p;
    mp_pgno pg;
    uint64_t allocs = 0;
    int rc, code, os;
    (void)state;
    remove(path);
    mpt_options(&opt);
    opt.reserve_bytes = 100 * (uint64_t)PS;
    assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_OK);
    while ((rc = mp_pager_alloc(p, &pg)) == MP_OK) {
        allocs++;
    }
    assert_int_equal(rc, MP_ELIMIT);
    /* alloc used the whole reservation, exactly what grow accepts. */
    assert_int_equal(mp_pager_page_count(p), 100);
    assert_int_equal(mp_pager_free_count(p), 0);
    assert_int_equal(mp_pager_grow(p, 100), MP_OK);
    assert_int_equal(mp_pager_grow(p, 101), MP_ELIMIT);
    mp_pager_last_failure(p, &code, &os);
    assert_int_equal(code, 0);
    mp_pager_close(p);

    /* And on a fresh file grow refuses what alloc could never reach. */
    remove(path);
    assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_grow(p, 101), MP_ELIMIT);
    assert_int_equal(mp_pager_page_count(p), 8);
    assert_int_equal(mp_pager_grow(p, 100), MP_OK);
    assert_int_equal(mp_pager_page_count(p), 100);
    mp_pager_close(p);
    p = mpt_open(path, PS);
    assert_int_equal(mp_pager_page_count(p), 100);
    assert_true(allocs > 0);
    mp_pager_close(p);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(largest_pages_times_most_pages_is_a_limit),
        cmocka_unit_test(subpage_allocators_per_slot_size_are_limited),
        cmocka_unit_test(sync_pages_checks_its_range),
        cmocka_unit_test(bad_arguments_are_refused),
        cmocka_unit_test(shared_calls_refuse_a_null_handle),
        cmocka_unit_test(relocking_from_the_writer_is_refused),
        cmocka_unit_test(error_names_cover_the_list_and_nothing_else),
        cmocka_unit_test(batch_iteration_over_full_words_matches_next),
        cmocka_unit_test(growth_and_alloc_agree_on_the_reservation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
