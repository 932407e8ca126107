/*
 * test_readonly.c - locking between processes, read-only opens, and the
 * sticky failure state.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpt.h"

#define PS 4096

static int open_with(const char *path, unsigned flags, mp_pager **p)
{
    struct mp_options opt;
    mpt_options(&opt);
    opt.flags = flags;
    return mp_pager_open(path, PS, &opt, p);
}

static void a_second_writer_is_refused(void **state)
{
    const char *path = mpt_path("lock.mp");
    mp_pager *p = mpt_create(path, PS), *q = NULL;
    (void)state;
    assert_int_equal(open_with(path, 0, &q), MP_ELOCKED);
    assert_int_equal(open_with(path, MP_OPEN_READONLY, &q), MP_ELOCKED);
    assert_int_equal(open_with(path, MP_OPEN_READONLY | MP_OPEN_NOLOCK, &q),
                     MP_OK);
    mp_pager_close(q);
    mp_pager_close(p);
    assert_int_equal(open_with(path, 0, &q), MP_OK);
    mp_pager_close(q);
}

static void readonly_refuses_every_mutation(void **state)
{
    const char *path = mpt_path("ro.mp");
    mp_pager *p = mpt_create(path, PS), *r;
    mp_pgno pg, ids[2];
    mp_protected_id id;
    const void *b;
    void *w;
    mp_iter it;
    uint64_t x;
    int n = 0;
    (void)state;
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    mp_pager_close(p);
    assert_int_equal(open_with(path, MP_OPEN_READONLY, &r), MP_OK);
    assert_true(mp_pager_is_readonly(r));
    assert_int_equal(mp_pager_alloc(r, &pg), MP_EREADONLY);
    assert_int_equal(mp_pager_free(r, pg), MP_EREADONLY);
    assert_int_equal(mp_pager_alloc_bulk(r, 2, ids), MP_EREADONLY);
    assert_int_equal(mp_pager_free_bulk(r, &pg, 1), MP_EREADONLY);
    assert_int_equal(mp_pager_grow(r, 100), MP_EREADONLY);
    assert_int_equal(mp_pager_get_mut(r, pg, &w), MP_EREADONLY);
    assert_int_equal(mp_pager_sync_pages(r, 0, 0), MP_EREADONLY);
    assert_int_equal(mp_protected_alloc(r, &id), MP_EREADONLY);
    assert_int_equal(mp_protected_free(r, id), MP_EREADONLY);
    assert_int_equal(mp_protected_begin(r, id, &w), MP_EREADONLY);
    assert_int_equal(mp_protected_commit(r, id), MP_EREADONLY);
    /* Reads and iterators work. */
    assert_int_equal(mp_pager_get(r, pg, &b), MP_OK);
    assert_int_equal(mp_protected_get(r, id, &b), MP_OK);
    mp_for_each_page(&it, r, x) {
        n++;
    }
    assert_int_equal(n, 1);
    mp_pager_close(r);
}

static void several_processes_read_at_once(void **state)
{
    const char *path = mpt_path("multi.mp");
    mp_pager *p = mpt_create(path, PS), *r;
    mp_pgno pg;
    unsigned char *w;
    int fds[2];
    (void)state;
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_pager_get_mut(p, pg, (void **)&w), MP_OK);
    memset(w, 0x7E, PS);
    assert_int_equal(mp_pager_sync_pages(p, pg, 1), MP_OK);
    mp_pager_close(p);
    assert_int_equal(open_with(path, MP_OPEN_READONLY, &r), MP_OK);
    assert_int_equal(pipe(fds), 0);
    for (int k = 0; k < 3; k++) {
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
            /* Children open their own read-only pager beside the parent's. */
            mp_pager *c;
            const unsigned char *b;
            int ok = open_with(path, MP_OPEN_READONLY, &c) == MP_OK &&
                     mp_pager_get(c, pg, (const void **)&b) == MP_OK &&
                     b[100] == 0x7E;
            char ch = ok ? 'y' : 'n';
            if (write(fds[1], &ch, 1) != 1) {
                _exit(2);
            }
            /* Hold the shared lock until the parent has tried a writer. */
            sleep(1);
            mp_pager_close(c);
            mp_pager_close(r);
            _exit(ok ? 0 : 1);
        }
    }
    for (int k = 0; k < 3; k++) {
        char ch;
        assert_int_equal(read(fds[0], &ch, 1), 1);
        assert_int_equal(ch, 'y');
    }
    assert_int_equal(open_with(path, 0, &p), MP_ELOCKED);
    for (int k = 0; k < 3; k++) {
        int st;
        assert_true(wait(&st) > 0);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    close(fds[0]);
    close(fds[1]);
    mp_pager_close(r);
}

static void a_failed_sync_makes_the_pager_unavailable(void **state)
{
    const char *path = mpt_path("sticky.mp");
    struct mpt_faulty f;
    struct mp_options opt;
    mp_pager *p;
    mp_pgno a, b, keep;
    const void *r;
    int code, os;
    (void)state;
    mp_pager_close(mpt_create(path, PS));
    mpt_options(&opt);
    mpt_faulty_init(&f, opt.vfs ? opt.vfs : mp_vfs_posix(), 0, MP_EIO, 0);
    opt.vfs = &f.vfs;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &keep), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &a), MP_OK);
    f.fail_at = f.calls + 1; /* the next sync: barrier 1 of the free */
    assert_int_equal(mp_pager_free(p, a), MP_EIO);
    mp_pager_last_failure(p, &code, &os);
    assert_int_equal(code, MP_EIO);
    assert_int_equal(mp_pager_alloc(p, &b), MP_EUNAVAILABLE);
    assert_int_equal(mp_pager_free(p, a), MP_EUNAVAILABLE);
    assert_int_equal(mp_pager_sync_pages(p, 0, 0), MP_EUNAVAILABLE);
    assert_int_equal(mp_protected_alloc(p, &b), MP_EUNAVAILABLE);
    /* Reads still work. */
    assert_int_equal(mp_pager_get(p, keep, &r), MP_OK);
    mp_pager_close(p);
    /* Barrier 1 failed: the disk holds the state before the free. */
    p = mpt_open(path, PS);
    assert_int_equal(mp_pager_get(p, a, &r), MP_OK);
    mp_pager_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_second_writer_is_refused),
        cmocka_unit_test(readonly_refuses_every_mutation),
        cmocka_unit_test(several_processes_read_at_once),
        cmocka_unit_test(a_failed_sync_makes_the_pager_unavailable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
