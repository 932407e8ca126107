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

#include "../src/crc32c.h"
#include "../src/endian.h"
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
            alarm(120); /* never outlive a failed parent */
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

/*
 * Several processes iterate read-only opens of one file at the same time,
 * and see what the writer saw. Pipes, not sleeps, make the overlap
 * certain: every child opens, then waits until all have opened; while
 * they all hold their opens (and the parent has closed its own), a writer
 * is refused.
 */
#define RO_CHILDREN 3
#define RO_PAGES    40
#define RO_PROT     5

/* What a child checks, against lists the parent made before forking. */
static int child_checks(const char *path, const uint64_t *pages, int npages,
                        const uint64_t *prots, int nprot)
{
    mp_pager *c;
    mp_iter it;
    uint64_t id;
    int n = 0, bad = 0;

    if (open_with(path, MP_OPEN_READONLY, &c) != MP_OK) {
        return 1;
    }
    mp_for_each_page(&it, c, id) {
        const uint64_t *b;
        if (n >= npages || id != pages[n] ||
            mp_pager_get(c, id, (const void **)&b) != MP_OK || b[0] != id) {
            bad = 1;
        }
        n++;
    }
    bad |= n != npages;
    n = 0;
    mp_for_each_protected(&it, c, id) {
        const uint64_t *b;
        if (n >= nprot || id != prots[n] ||
            mp_protected_get(c, id, (const void **)&b) != MP_OK ||
            b[0] != ~id) {
            bad = 1;
        }
        n++;
    }
    bad |= n != nprot;
    bad |= mp_pager_alloc(c, &id) != MP_EREADONLY;
    mp_pager_close(c);
    return bad;
}

static void readonly_processes_iterate_at_once(void **state)
{
    const char *path = mpt_path("iter-multi.mp");
    mp_pager *p = mpt_create(path, PS), *r;
    uint64_t pages[RO_PAGES], prots[RO_PROT], freed = 0, id;
    mp_pgno all[RO_PAGES + RO_PAGES / 2];
    int opened[2], go[2], done[2], release[2], npages = 0, nprot = 0;
    pid_t kids[RO_CHILDREN];
    mp_iter it;
    (void)state;

    /* A file with holes: every third page freed again. */
    assert_int_equal(mp_pager_alloc_bulk(p, RO_PAGES + RO_PAGES / 2, all),
                     MP_OK);
    for (int i = 0; i < RO_PAGES + RO_PAGES / 2; i++) {
        uint64_t *b;
        assert_int_equal(mp_pager_get_mut(p, all[i], (void **)&b), MP_OK);
        b[0] = all[i];
        if (i % 3 == 2) {
            assert_int_equal(mp_pager_free(p, all[i]), MP_OK);
        }
    }
    for (int i = 0; i < RO_PROT + 1; i++) {
        mp_protected_id pid;
        uint64_t *b;
        assert_int_equal(mp_protected_alloc(p, &pid), MP_OK);
        assert_int_equal(mp_protected_begin(p, pid, (void **)&b), MP_OK);
        b[0] = ~pid;
        assert_int_equal(mp_protected_commit(p, pid), MP_OK);
        if (i == 1) {
            freed = pid;
        }
    }
    assert_int_equal(mp_protected_free(p, freed), MP_OK);
    assert_int_equal(mp_pager_sync_pages(p, 0, 0), MP_OK);
    /* The lists the writer sees are what every reader must see. */
    mp_for_each_page(&it, p, id) {
        assert_true(npages < RO_PAGES);
        pages[npages++] = id;
    }
    mp_for_each_protected(&it, p, id) {
        assert_true(nprot < RO_PROT);
        prots[nprot++] = id;
    }
    assert_int_equal(npages, RO_PAGES);
    assert_int_equal(nprot, RO_PROT);
    mp_pager_close(p);

    assert_int_equal(open_with(path, MP_OPEN_READONLY, &r), MP_OK);
    assert_int_equal(pipe(opened), 0);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    assert_int_equal(pipe(release), 0);
    for (int k = 0; k < RO_CHILDREN; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            /* Watchdog: should the parent fail and stop answering, the
             * child must not outlive the test blocked on a pipe. */
            alarm(120);
            /* The inherited pager shares the parent's lock; drop it so
             * that only this child's own open holds one. */
            mp_pager *mine;
            char ch = 'o';
            int bad;
            mp_pager_close(r);
            bad = open_with(path, MP_OPEN_READONLY, &mine) != MP_OK;
            if (write(opened[1], &ch, 1) != 1 || read(go[0], &ch, 1) != 1) {
                _exit(2);
            }
            /* Every child and the parent hold a read-only open now. */
            bad |= child_checks(path, pages, npages, prots, nprot);
            ch = bad ? 'n' : 'y';
            if (write(done[1], &ch, 1) != 1 || read(release[0], &ch, 1) != 1) {
                _exit(2);
            }
            if (!bad) {
                mp_pager_close(mine);
            }
            _exit(bad);
        }
    }
    for (int k = 0; k < RO_CHILDREN; k++) {
        char ch;
        assert_int_equal(read(opened[0], &ch, 1), 1);
    }
    assert_int_equal(write(go[1], "ggg", RO_CHILDREN), RO_CHILDREN);
    /* The parent reads and iterates too, beside them. */
    assert_int_equal(child_checks(path, pages, npages, prots, nprot), 0);
    for (int k = 0; k < RO_CHILDREN; k++) {
        char ch;
        assert_int_equal(read(done[0], &ch, 1), 1);
        assert_int_equal(ch, 'y');
    }
    /* The children's opens alone keep a writer out. */
    mp_pager_close(r);
    assert_int_equal(open_with(path, 0, &p), MP_ELOCKED);
    assert_int_equal(write(release[1], "rrr", RO_CHILDREN), RO_CHILDREN);
    for (int k = 0; k < RO_CHILDREN; k++) {
        int st;
        assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 0);
    }
    for (int i = 0; i < 2; i++) {
        close(opened[i]);
        close(go[i]);
        close(done[i]);
        close(release[i]);
    }
    /* All readers gone: the writer gets in. */
    assert_int_equal(open_with(path, 0, &p), MP_OK);
    mp_pager_close(p);
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

/* Issue 12 item 6: MP_OPEN_NOLOCK let two writers into one file. It is
 * for read-only inspection only now. */
static void nolock_is_refused_for_writers(void **state)
{
    const char *path = mpt_path("nolock.mp");
    struct mp_options opt;
    mp_pager *p = mpt_create(path, PS), *q = NULL;
    (void)state;
    assert_int_equal(open_with(path, MP_OPEN_NOLOCK, &q), MP_EINVAL);
    assert_null(q);
    mp_pager_close(p);
    assert_int_equal(open_with(path, MP_OPEN_NOLOCK, &q), MP_EINVAL);
    mpt_options(&opt);
    opt.flags = MP_OPEN_NOLOCK;
    assert_int_equal(mp_pager_create(mpt_path("nolock2.mp"), PS, &opt, &q),
                     MP_EINVAL);
    assert_null(q);
    assert_int_equal(mpt_file_size(mpt_path("nolock2.mp")), UINT64_MAX);
    assert_int_equal(open_with(path, MP_OPEN_READONLY | MP_OPEN_NOLOCK, &q),
                     MP_OK);
    mp_pager_close(q);
}

/* Issue 12 item 6: a file of a newer minor version opened read-write, and
 * this (older) writer then rewrote its metadata as minor 0. */
static void a_newer_minor_opens_read_only_only(void **state)
{
    const char *path = mpt_path("minor.mp");
    mp_pager *p = mpt_create(path, PS), *q = NULL;
    unsigned char h[64];
    mp_pgno pg;
    const void *b;
    (void)state;
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    mp_pager_close(p);
    assert_int_equal(mpt_peek(path, 0, h, 64), 0);
    mp__put16(h + 10, MP_FORMAT_MINOR + 1);
    mp__put32(h + 60, mp__crc32c(0, h, 60));
    assert_int_equal(mpt_poke(path, 0, h, 64), 0);
    assert_int_equal(open_with(path, 0, &q), MP_EVERSION);
    assert_null(q);
    assert_int_equal(open_with(path, MP_OPEN_READONLY, &q), MP_OK);
    assert_int_equal(mp_pager_get(q, pg, &b), MP_OK);
    mp_pager_close(q);
}

/* A vfs that records the reservation each map() call asks for. */
static const struct mp_vfs *rec_inner;
static struct mp_io_methods rec_methods;
static const struct mp_io_methods *rec_inner_methods;
static uint64_t rec_reserve;

static int rec_map(struct mp_io_file *f, uint64_t reserve_bytes,
                   uint64_t map_bytes, void **base, uint64_t *reserved)
{
    rec_reserve = reserve_bytes;
    return rec_inner_methods->map(f, reserve_bytes, map_bytes, base, reserved);
}

static int rec_open(const struct mp_vfs *vfs, const char *path, unsigned flags,
                    struct mp_io_file **out, int *os_error)
{
    int rc = rec_inner->open(rec_inner, path, flags, out, os_error);
    (void)vfs;
    if (rc == MP_OK) {
        rec_inner_methods = (*out)->methods;
        rec_methods = *rec_inner_methods;
        rec_methods.map = rec_map;
        (*out)->methods = &rec_methods;
    }
    return rc;
}

/* Issue 12 item 6: read-only opens reserved 1 TiB of address space (or
 * the caller's reserve_bytes) for a file that cannot grow. */
static void readonly_opens_reserve_only_the_file(void **state)
{
    const char *path = mpt_path("resv.mp");
    struct mp_options opt;
    struct mp_vfs v;
    mp_pager *p = mpt_create(path, PS);
    uint64_t bytes;
    (void)state;
    mp_pager_close(p);
    bytes = mpt_file_size(path);
    mpt_options(&opt);
    rec_inner = opt.vfs ? opt.vfs : mp_vfs_posix();
    v = *rec_inner;
    v.open = rec_open;
    opt.vfs = &v;
    opt.flags = MP_OPEN_READONLY;
    opt.reserve_bytes = 0;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(rec_reserve, bytes);
    mp_pager_close(p);
    opt.reserve_bytes = (uint64_t)1 << 30;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(rec_reserve, bytes);
    mp_pager_close(p);
    /* Writers still get the room to grow they ask for. */
    opt.flags = 0;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(rec_reserve, (uint64_t)1 << 30);
    mp_pager_close(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_second_writer_is_refused),
        cmocka_unit_test(readonly_refuses_every_mutation),
        cmocka_unit_test(several_processes_read_at_once),
        cmocka_unit_test(readonly_processes_iterate_at_once),
        cmocka_unit_test(a_failed_sync_makes_the_pager_unavailable),
        cmocka_unit_test(nolock_is_refused_for_writers),
        cmocka_unit_test(a_newer_minor_opens_read_only_only),
        cmocka_unit_test(readonly_opens_reserve_only_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
