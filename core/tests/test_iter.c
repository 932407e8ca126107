/*
 * test_iter.c - iterators over regular and protected pages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mpt.h"

#define PS 1024

static uint64_t allocated_bits(mp_pager *p)
{
    return mp_pager_page_count(p) - mp_pager_free_count(p);
}

static void regular_iterator_yields_exactly_the_allocated_pages(void **state)
{
    mp_pager *p = mpt_create(mpt_path("it.mp"), PS);
    mp_pgno pgs[20000], id;
    mp_iter it;
    uint64_t n = 0, prev = 0;
    (void)state;
    /* Crosses a group boundary (8192 pages): leaf copies must be skipped. */
    assert_int_equal(mp_pager_alloc_bulk(p, 20000, pgs), MP_OK);
    assert_int_equal(mp_pager_free_bulk(p, pgs, 10000), MP_OK);
    mp_for_each_page(&it, p, id) {
        assert_true(id > prev);
        assert_int_equal(id, pgs[10000 + n]);
        prev = id;
        n++;
    }
    assert_int_equal(n, 10000);
    mp_pager_close(p);
}

static void iterators_are_disjoint_and_account_for_every_page(void **state)
{
    mp_pager *p = mpt_create(mpt_path("sum.mp"), PS);
    mp_pgno pgs[300], id;
    mp_protected_id ids[100];
    mp_iter it;
    uint64_t regular = 0, prot = 0;
    (void)state;
    assert_int_equal(mp_pager_alloc_bulk(p, 300, pgs), MP_OK);
    assert_int_equal(mp_protected_alloc_bulk(p, 100, ids), MP_OK);
    assert_int_equal(mp_pager_free_bulk(p, pgs + 100, 50), MP_OK);
    assert_int_equal(mp_protected_free_bulk(p, ids + 10, 30), MP_OK);
    mp_for_each_page(&it, p, id) {
        const void *r;
        assert_int_equal(mp_pager_get(p, id, &r), MP_OK);
        regular++;
    }
    mp_for_each_protected(&it, p, id) {
        const void *r;
        assert_int_equal(id & MP_ID_KIND_MASK, MP_ID_KIND_PROTECT);
        assert_int_equal(mp_protected_get(p, id, &r), MP_OK);
        prot++;
    }
    assert_int_equal(regular, 250);
    assert_int_equal(prot, 70);
    assert_int_equal(mp_protected_count(p), 70);
    /* Reserved + regular + internal (which holds every backing page). */
    assert_int_equal(3 + regular + mp_pager_internal_count(p),
                     allocated_bits(p));
    mp_pager_close(p);
}

static void mutation_while_iterating_is_refused(void **state)
{
    mp_pager *p = mpt_create(mpt_path("borrow.mp"), PS);
    mp_pgno a, b;
    mp_protected_id id;
    mp_iter it, it2;
    uint64_t x;
    (void)state;
    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(mp_iter_pages(&it, p), MP_OK);
    assert_int_equal(mp_iter_protected(&it2, p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &b), MP_EITERATING);
    assert_int_equal(mp_pager_free(p, a), MP_EITERATING);
    assert_int_equal(mp_pager_alloc_bulk(p, 2, &b), MP_EITERATING);
    assert_int_equal(mp_pager_free_bulk(p, &a, 1), MP_EITERATING);
    assert_int_equal(mp_pager_grow(p, 100), MP_EITERATING);
    assert_int_equal(mp_protected_alloc(p, &id), MP_EITERATING);
    assert_int_equal(mp_protected_free(p, id), MP_EITERATING);
    mp_iter_finish(&it);
    assert_int_equal(mp_pager_alloc(p, &b), MP_EITERATING);
    /* Iterating to the end closes the iterator by itself. */
    while (mp_iter_next(&it2, &x)) {
    }
    assert_false(mp_iter_next(&it2, &x));
    mp_iter_finish(&it2);
    assert_int_equal(mp_pager_alloc(p, &b), MP_OK);
    assert_int_equal(mp_iter_pages(NULL, p), MP_EINVAL);
    assert_int_equal(mp_iter_protected(&it, NULL), MP_EINVAL);
    mp_pager_close(p);
}

static void sparse_file_iteration_skips_empty_words(void **state)
{
    mp_pager *p = mpt_create(mpt_path("sparse.mp"), PS);
    mp_pgno a, id;
    mp_iter it;
    int n = 0;
    (void)state;
    assert_int_equal(mp_pager_grow(p, 200000), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    mp_for_each_page(&it, p, id) {
        assert_int_equal(id, a);
        n++;
    }
    assert_int_equal(n, 1);
    mp_pager_close(p);
}

/*
 * Pages far apart at every offset within the scan's four-word steps, the
 * last page of the file among them: the gaps are skipped, no page lost.
 */
static void gaps_of_any_alignment_are_skipped(void **state)
{
    mp_pager *p = mpt_create(mpt_path("gaps.mp"), PS);
    static mp_pgno pgs[6000], gone[6000];
    static uint64_t want[6000];
    mp_pgno id;
    mp_iter it;
    size_t n = 0, k = 0, ngone = 0;
    (void)state;
    assert_int_equal(mp_pager_alloc_bulk(p, 6000, pgs), MP_OK);
    for (size_t i = 0; i < 6000; i++) {
        /* 64 * 4 + 65 apart: each kept page in the next word slot. */
        if (i % 321 == 0 || i == 5999) {
            want[n++] = pgs[i];
        } else {
            gone[ngone++] = pgs[i];
        }
    }
    /* One commit (6,000 single frees took a minute under memcheck). */
    assert_int_equal(mp_pager_free_bulk(p, gone, ngone), MP_OK);
    mp_for_each_page(&it, p, id) {
        assert_true(k < n);
        assert_int_equal(id, want[k]);
        k++;
    }
    assert_int_equal(k, n);
    mp_pager_close(p);
}

/* Batches of any size give exactly the one-at-a-time sequence. */
static void batches_match_single_steps(void **state)
{
    static const size_t caps[] = { 1, 7, 64, 1000, 40000 };
    mp_pager *p = mpt_create(mpt_path("batch.mp"), PS);
    mp_pgno pgs[20000], id;
    mp_protected_id pids[40];
    static uint64_t one[20000], got[20000];
    mp_iter it;
    size_t n1 = 0;
    (void)state;
    /* Two groups, protected backing pages and holes among the pages. */
    assert_int_equal(mp_pager_alloc_bulk(p, 9000, pgs), MP_OK);
    assert_int_equal(mp_protected_alloc_bulk(p, 40, pids), MP_OK);
    assert_int_equal(mp_pager_alloc_bulk(p, 9000, pgs + 9000), MP_OK);
    for (size_t i = 0; i < 18000; i += 3) {
        pgs[i / 3] = pgs[i]; /* i / 3 <= i: the loop reads ahead of it */
    }
    assert_int_equal(mp_pager_free_bulk(p, pgs, 6000), MP_OK);
    mp_for_each_page(&it, p, id) {
        one[n1++] = id;
    }
    assert_int_equal(n1, 12000);
    for (size_t c = 0; c < sizeof(caps) / sizeof(caps[0]); c++) {
        size_t n = 0, k;
        uint64_t *buf = test_malloc(caps[c] * sizeof(*buf));
        assert_int_equal(mp_iter_pages(&it, p), MP_OK);
        while ((k = mp_iter_next_batch(&it, buf, caps[c])) > 0) {
            assert_true(k <= caps[c]);
            assert_true(n + k <= n1);
            memcpy(got + n, buf, k * sizeof(*buf));
            n += k;
        }
        /* Closed at the end, like mp_iter_next(). */
        assert_int_equal(mp_iter_next_batch(&it, buf, caps[c]), 0);
        assert_int_equal(n, n1);
        assert_memory_equal(got, one, n1 * sizeof(*one));
        test_free(buf);
    }
    /* Protected ids come through batches too. */
    {
        uint64_t buf[64];
        assert_int_equal(mp_iter_protected(&it, p), MP_OK);
        assert_int_equal(mp_iter_next_batch(&it, buf, 64), 40);
        assert_int_equal(buf[0], pids[0]);
        assert_int_equal(mp_iter_next_batch(&it, buf, 64), 0);
    }
    assert_int_equal(mp_iter_next_batch(NULL, one, 1), 0);
    mp_pager_close(p);
}

/* The regular pages, by two iterators open at once, against want[]. */
static void assert_pages(mp_pager *p, const uint64_t *want, size_t n)
{
    mp_iter a, b;
    mp_pgno x, y;
    size_t k = 0;
    assert_int_equal(mp_iter_pages(&a, p), MP_OK);
    assert_int_equal(mp_iter_pages(&b, p), MP_OK);
    while (mp_iter_next(&a, &x)) {
        assert_true(mp_iter_next(&b, &y));
        assert_int_equal(x, y);
        assert_true(k < n);
        assert_int_equal(x, want[k]);
        k++;
    }
    assert_false(mp_iter_next(&b, &y));
    assert_int_equal(k, n);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * The internal pages the iterator skips change between iterations:
 * protected pages come and go, and regular allocations reuse their backing
 * pages. Each iteration must see the set as it is now, not as an earlier
 * iterator saw it.
 */
static void iteration_follows_changes_of_internal_pages(void **state)
{
    mp_pager *p = mpt_create(mpt_path("churn.mp"), PS);
    static uint64_t regular[4000];
    mp_protected_id pids[64];
    size_t n = 0;
    (void)state;
    for (int round = 0; round < 12; round++) {
        size_t np = 8 + (size_t)round * 4;
        mp_pgno pg;
        assert_int_equal(mp_protected_alloc_bulk(p, np, pids), MP_OK);
        for (int i = 0; i < 40; i++) {
            assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
            regular[n++] = pg;
        }
        qsort(regular, n, sizeof(*regular), cmp_u64);
        assert_pages(p, regular, n);
        /* Backing pages return to the free pool ... */
        assert_int_equal(mp_protected_free_bulk(p, pids, np), MP_OK);
        assert_pages(p, regular, n);
        /* ... and come back as regular pages the iterator must show. */
        for (int i = 0; i < 2 * (int)np; i++) {
            assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
            regular[n++] = pg;
        }
        qsort(regular, n, sizeof(*regular), cmp_u64);
        assert_pages(p, regular, n);
        /* Frees of regular pages change nothing internal. */
        assert_int_equal(mp_pager_free(p, regular[n / 2]), MP_OK);
        memmove(regular + n / 2, regular + n / 2 + 1,
                (n - n / 2 - 1) * sizeof(*regular));
        n--;
        assert_pages(p, regular, n);
    }
    mp_pager_close(p);
}

/* The pages left after freeing every third of pgs[0..n), ascending. */
static size_t every_third_freed(mp_pager *p, mp_pgno *pgs, size_t n,
                                uint64_t *want)
{
    size_t k = 0, g = 0;
    assert_int_equal(mp_pager_alloc_bulk(p, n, pgs), MP_OK);
    for (size_t i = 0; i < n; i++) {
        if (i % 3 == 0) {
            pgs[g++] = pgs[i]; /* i >= g: nothing still needed is lost */
        } else {
            want[k++] = pgs[i];
        }
    }
    /* One commit: thousands of single frees take a minute under memcheck. */
    assert_int_equal(mp_pager_free_bulk(p, pgs, g), MP_OK);
    for (size_t i = 1; i < k; i++) {
        assert_true(want[i - 1] <
                    want[i]); /* a fresh file hands out in order */
    }
    return k;
}

/*
 * The inline fast path drains ids[] and mp_iter_refill() refills it: any
 * mix of the inline, exported and batch calls on one iterator gives the
 * one sequence, across refills and map words.
 */
static void mixed_calls_on_one_iterator_give_one_sequence(void **state)
{
    mp_pager *p = mpt_create(mpt_path("mixed.mp"), PS);
    static mp_pgno pgs[12000];
    static uint64_t want[12000], got[12000];
    uint64_t buf[300], id;
    size_t n, k = 0, step = 0;
    mp_iter it;
    (void)state;
    n = every_third_freed(p, pgs, 12000, want);
    assert_int_equal(mp_iter_pages(&it, p), MP_OK);
    /* Started, nothing held yet: the first inline call refills. */
    assert_int_equal(it.next, it.count);
    for (;;) {
        size_t m;
        step++;
        if (step % 3 == 0) {
            m = mp_iter_next_batch(&it, buf, 1 + step % 300);
            memcpy(got + k, buf, m * sizeof(*buf));
        } else if (step % 3 == 1) {
            m = mp_iter_next_inline(&it, &id) ? 1 : 0;
            got[k] = id;
        } else {
            m = mp_iter_next(&it, &id) ? 1 : 0;
            got[k] = id;
        }
        if (m == 0) {
            break;
        }
        assert_true(it.next <= it.count);
        assert_true(it.count <= MP_ITER_BUFFER);
        k += m;
        assert_true(k <= n);
    }
    assert_int_equal(k, n);
    assert_memory_equal(got, want, n * sizeof(*want));
    /* Closed at the end, holding nothing: writes work again. */
    assert_int_equal(it.next, it.count);
    assert_false(mp_iter_refill(&it));
    assert_int_equal(mp_pager_free(p, want[0]), MP_OK);
    mp_pager_close(p);
}

/* mp_iter_refill(): a no-op while ids are held, false and closed at the end. */
static void refill_keeps_held_ids_and_closes_at_the_end(void **state)
{
    mp_pager *p = mpt_create(mpt_path("refill.mp"), PS);
    static mp_pgno pgs[1000];
    static uint64_t want[1000];
    uint64_t seen = 0;
    size_t n;
    mp_iter it;
    (void)state;
    n = every_third_freed(p, pgs, 1000, want);
    assert_int_equal(mp_iter_pages(&it, p), MP_OK);
    while (mp_iter_refill(&it)) {
        uint32_t held = it.count - it.next;
        assert_true(held > 0 && it.count <= MP_ITER_BUFFER);
        assert_true(mp_iter_refill(&it)); /* ids held: nothing changes */
        assert_int_equal(it.count - it.next, held);
        for (uint32_t i = it.next; i < it.count; i++) {
            assert_int_equal(it.ids[i], want[seen + i - it.next]);
        }
        seen += held;
        it.next = it.count; /* consumed, as the inline path does */
    }
    assert_int_equal(seen, n);
    assert_false(mp_iter_refill(&it));
    assert_false(mp_iter_refill(NULL));
    assert_int_equal(mp_pager_free(p, want[0]), MP_OK); /* closed */
    /* Protected ids come through ids[] too. */
    {
        mp_protected_id pid;
        uint64_t x;
        assert_int_equal(mp_protected_alloc(p, &pid), MP_OK);
        assert_int_equal(mp_iter_protected(&it, p), MP_OK);
        assert_true(mp_iter_refill(&it));
        assert_int_equal(it.count - it.next, 1);
        assert_int_equal(it.ids[it.next], pid);
        assert_true(mp_iter_next_inline(&it, &x));
        assert_int_equal(x, pid);
        assert_false(mp_iter_next_inline(&it, &x));
    }
    mp_pager_close(p);
}

/*
 * break leaves the loop with the iterator open (writes refused) and the
 * rest of the sequence still to come from mp_iter_next(); continue moves
 * on. The loop macros hold ids in the iterator, so both must reach it.
 */
static void break_and_continue_in_the_loop_macros(void **state)
{
    mp_pager *p = mpt_create(mpt_path("break.mp"), PS);
    static mp_pgno pgs[3000];
    static uint64_t want[3000];
    mp_protected_id pids[5];
    uint64_t id, x, odd = 0, k = 0;
    size_t n;
    mp_iter it;
    mp_pgno pg;
    (void)state;
    n = every_third_freed(p, pgs, 3000, want);
    /* Past the first refill and mid-buffer. */
    mp_for_each_page(&it, p, id) {
        if (id % 2) {
            odd++;
            continue;
        }
        if (++k == MP_ITER_BUFFER + 7) {
            break;
        }
    }
    assert_int_equal(mp_pager_alloc(p, &pg), MP_EITERATING);
    k += odd;
    assert_int_equal(id, want[k - 1]);
    while (mp_iter_next(&it, &x)) {
        assert_int_equal(x, want[k]);
        k++;
    }
    assert_int_equal(k, n);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    /* The same for protected ids, and the loop nests in another. */
    assert_int_equal(mp_protected_alloc_bulk(p, 5, pids), MP_OK);
    k = 0;
    mp_for_each_protected(&it, p, id) {
        mp_iter inner;
        uint64_t id2, m = 0;
        mp_for_each_page(&inner, p, id2) {
            m++;
        }
        assert_int_equal(m, n + 1);
        assert_int_equal(id, pids[k]);
        if (++k == 2) {
            break;
        }
    }
    assert_true(mp_iter_next(&it, &x));
    assert_int_equal(x, pids[2]);
    mp_iter_finish(&it);
    assert_int_equal(it.next, it.count); /* finished: nothing held */
    assert_false(mp_iter_next_inline(&it, &x));
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    mp_pager_close(p);
}

/* Memory hooks that fail every allocation once armed. */
struct fail_mem {
    int armed;
};

static void *fm_alloc(void *ctx, size_t n)
{
    return ((struct fail_mem *)ctx)->armed ? NULL : malloc(n);
}

static void *fm_realloc(void *ctx, void *ptr, size_t n)
{
    return ((struct fail_mem *)ctx)->armed ? NULL : realloc(ptr, n);
}

static void fm_free(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

/*
 * Issue 12 item 6: mp_for_each_page turned MP_ENOMEM (the sorted list of
 * internal pages could not be built) into an empty loop, indistinguishable
 * from a file without pages. The error is now kept in the iterator.
 */
static void a_failed_start_is_visible_after_the_loop(void **state)
{
    const char *path = mpt_path("iter-nomem.mp");
    struct fail_mem fm = { 0 };
    struct mp_options opt;
    mp_protected_id prot;
    mp_pager *p;
    mp_pgno pg, id;
    mp_iter it;
    int n = 0;
    (void)state;
    mp_pager_close(mpt_create(path, PS));
    mpt_options(&opt);
    opt.mem.alloc = fm_alloc;
    opt.mem.realloc = fm_realloc;
    opt.mem.free = fm_free;
    opt.mem.ctx = &fm;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    /* A protected page makes internal pages the iterator must skip. */
    assert_int_equal(mp_protected_alloc(p, &prot), MP_OK);
    fm.armed = 1;
    mp_for_each_page(&it, p, id) {
        n++;
    }
    assert_int_equal(n, 0);
    assert_int_equal(mp_iter_error(&it), MP_ENOMEM);
    /* Nothing stays borrowed: writes work, and so does a new loop. */
    fm.armed = 0;
    assert_int_equal(mp_pager_free(p, pg), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    mp_for_each_page(&it, p, id) {
        assert_int_equal(id, pg);
        n++;
    }
    assert_int_equal(n, 1);
    assert_int_equal(mp_iter_error(&it), MP_OK);
    mp_for_each_protected(&it, p, id) {
        n++;
    }
    assert_int_equal(mp_iter_error(&it), MP_OK);
    assert_int_equal(n, 2);
    assert_int_equal(mp_iter_error(NULL), MP_EINVAL);
    mp_pager_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batches_match_single_steps),
        cmocka_unit_test(regular_iterator_yields_exactly_the_allocated_pages),
        cmocka_unit_test(iterators_are_disjoint_and_account_for_every_page),
        cmocka_unit_test(mutation_while_iterating_is_refused),
        cmocka_unit_test(sparse_file_iteration_skips_empty_words),
        cmocka_unit_test(gaps_of_any_alignment_are_skipped),
        cmocka_unit_test(iteration_follows_changes_of_internal_pages),
        cmocka_unit_test(a_failed_start_is_visible_after_the_loop),
        cmocka_unit_test(mixed_calls_on_one_iterator_give_one_sequence),
        cmocka_unit_test(refill_keeps_held_ids_and_closes_at_the_end),
        cmocka_unit_test(break_and_continue_in_the_loop_macros),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
