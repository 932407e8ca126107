/*
 * test_create_race.c - two creators of one path, as real processes (issue
 * 12 item 4). A creator is paused in the middle of mp_pager_create (inside
 * its first grow of the temporary file) by a pass-through backend that
 * waits on a pipe; meanwhile a second process creates the same path. The
 * second must be refused with MP_ELOCKED and must not touch the first's
 * temporary file; the first must then finish and leave a good file. A
 * creator killed mid-create leaves a stale temporary file, which the next
 * creator must take over.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpt.h"

#define PS 4096
/* Small address reservations keep valgrind's bookkeeping cheap. */
#define SMALL_RESERVE ((uint64_t)16 << 20)

/* ---- a posix pass-through that pauses in grow ------------------------ */

struct pause_file {
    struct mp_io_file base;
    struct mp_io_file *in;
};

static int to_parent = -1, from_parent = -1;
static int pause_in_sync; /* pause in the first sync instead of grow */

/* Tell the parent we are mid-create, then wait for its word (or death). */
static void pause_here(void)
{
    char c = 'p';
    if (to_parent >= 0) {
        if (write(to_parent, &c, 1) != 1 || read(from_parent, &c, 1) != 1) {
            _exit(3);
        }
        to_parent = -1;
    }
}

#define IN(f) (((struct pause_file *)(f))->in)

static int pf_close(struct mp_io_file *f)
{
    struct mp_io_file *in = IN(f);
    free(f);
    return in->methods->close(in);
}
static int pf_lock(struct mp_io_file *f, int mode)
{
    return IN(f)->methods->lock(IN(f), mode);
}
static int pf_size(struct mp_io_file *f, uint64_t *b)
{
    return IN(f)->methods->size(IN(f), b);
}
static int pf_grow(struct mp_io_file *f, uint64_t n)
{
    if (!pause_in_sync) {
        pause_here();
    }
    return IN(f)->methods->grow(IN(f), n);
}
static int pf_map(struct mp_io_file *f, uint64_t r, uint64_t n, void **b,
                  uint64_t *got)
{
    return IN(f)->methods->map(IN(f), r, n, b, got);
}
static int pf_extend(struct mp_io_file *f, uint64_t n)
{
    return IN(f)->methods->extend_map(IN(f), n);
}
static int pf_sync(struct mp_io_file *f, const struct mp_io_range *r, size_t n)
{
    if (pause_in_sync) {
        pause_here();
    }
    return IN(f)->methods->sync(IN(f), r, n);
}
static int pf_sync_file(struct mp_io_file *f)
{
    return IN(f)->methods->sync_file(IN(f));
}
static int pf_unmap(struct mp_io_file *f)
{
    return IN(f)->methods->unmap(IN(f));
}
static int pf_reserve(struct mp_io_file *f, uint64_t off, uint64_t len)
{
    return IN(f)->methods->reserve(IN(f), off, len);
}

static int pf_device(struct mp_io_file *f, struct mp_io_device *out)
{
    return IN(f)->methods->device(IN(f), out);
}

static const struct mp_io_methods pause_methods = {
    .version = 2,
    .close = pf_close,
    .lock = pf_lock,
    .size = pf_size,
    .grow = pf_grow,
    .map = pf_map,
    .extend_map = pf_extend,
    .sync = pf_sync,
    .sync_file = pf_sync_file,
    .unmap = pf_unmap,
    .reserve = pf_reserve,
    .device = pf_device,
};

static int pv_open(const struct mp_vfs *vfs, const char *path, unsigned fl,
                   struct mp_io_file **out, int *os)
{
    struct pause_file *pf;
    int rc = mp_vfs_posix()->open(mp_vfs_posix(), path, fl, out, os);
    (void)vfs;
    if (rc != MP_OK) {
        return rc;
    }
    pf = calloc(1, sizeof(*pf));
    if (!pf) {
        (*out)->methods->close(*out);
        *out = NULL;
        return MP_ENOMEM;
    }
    pf->base.methods = &pause_methods;
    pf->in = *out;
    *out = &pf->base;
    return MP_OK;
}

static const struct mp_vfs pause_vfs = {
    1,
    "pause",
    NULL,
    pv_open,
    mpt_posix_remove,
    mpt_posix_rename,
    mpt_posix_sync_dir,
};

/* ---- helpers ----------------------------------------------------------- */

#define CK(c)                                                            \
 do {                                                                    \
  if (!(c)) {                                                            \
   fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
   _exit(1);                                                             \
  }                                                                      \
 } while (0)

struct creator {
    pid_t pid;
    int from_child; /* reads 'p' when the child is paused */
    int to_child;   /* write a byte to let it go on */
};

/* Fork a creator of path that pauses mid-create (in its first grow, or
 * with in_sync once it has written its first commit's pages, in its first
 * sync); once let go it allocates a page, writes it and exits 0 if
 * everything succeeded. */
static struct creator start_creator(const char *path, size_t ps, int in_sync)
{
    struct creator c;
    int up[2], down[2];
    char b;
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    c.pid = fork();
    assert_true(c.pid >= 0);
    if (c.pid == 0) {
        struct mp_options opt;
        mp_pager *p = NULL;
        mp_pgno pg;
        void *w;
        signal(SIGBUS, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        close(up[0]);
        close(down[1]);
        to_parent = up[1];
        from_parent = down[0];
        pause_in_sync = in_sync;
        mpt_default_options(&opt);
        opt.vfs = &pause_vfs;
        opt.reserve_bytes = SMALL_RESERVE;
        CK(mp_pager_create(path, ps, &opt, &p) == MP_OK);
        CK(mp_pager_alloc(p, &pg) == MP_OK);
        CK(mp_pager_get_mut(p, pg, &w) == MP_OK);
        memset(w, 0xC3, ps);
        CK(mp_pager_sync_pages(p, pg, 1) == MP_OK);
        CK(mp_pager_close(p) == MP_OK);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    c.from_child = up[0];
    c.to_child = down[1];
    /* Wait until it is inside create, holding its temporary file. */
    assert_int_equal(read(c.from_child, &b, 1), 1);
    assert_int_equal(b, 'p');
    return c;
}

static int finish(struct creator *c)
{
    int status = 0;
    char b = 'g';
    if (write(c->to_child, &b, 1) != 1) {
        fail_msg("write to the paused creator: %s", strerror(errno));
    }
    assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
    close(c->to_child);
    close(c->from_child);
    return status;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *tmp_of(const char *path)
{
    static char b[512];
    snprintf(b, sizeof(b), "%s.mp-create", path);
    return b;
}

/* ---- tests ------------------------------------------------------------- */

static void a_second_creator_is_refused_and_leaves_the_first_alone(void **s)
{
    (void)s;
    for (int in_sync = 0; in_sync < 2; in_sync++) {
        const char *path = mpt_path("race.mp");
        struct creator c;
        struct mp_options opt;
        mp_pager *q = NULL;
        const unsigned char *r;
        int status;
        remove(path);
        remove(tmp_of(path));
        c = start_creator(path, PS, in_sync);
        assert_true(exists(tmp_of(path)));
        mpt_default_options(&opt);
        /* The first is at work: a clear refusal, nothing touched. */
        assert_int_equal(mp_pager_create(path, PS, &opt, &q), MP_ELOCKED);
        assert_null(q);
        assert_true(exists(tmp_of(path)));
        assert_false(exists(path));
        status = finish(&c);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        /* The first's file is whole: its commit and its page are there. */
        assert_false(exists(tmp_of(path)));
        q = mpt_open(path, PS);
        assert_int_equal(mp_pager_free_count(q), 2);
        assert_int_equal(mp_pager_get(q, 5, (const void **)&r), MP_OK);
        assert_int_equal(r[0], 0xC3);
        assert_int_equal(r[PS - 1], 0xC3);
        mp_pager_close(q);
        /* And now the name exists. */
        assert_int_equal(mp_pager_create(path, PS, &opt, &q), MP_EEXIST);
        remove(path);
    }
}

/* A creator killed mid-create (its first commit written, not yet synced)
 * leaves its temporary file; the next creator takes it over, whatever
 * page size the dead one used. */
static void a_stale_temporary_file_is_taken_over(void **s)
{
    static const size_t dead_ps[] = { 1024, 65536 };
    (void)s;
    for (size_t i = 0; i < sizeof(dead_ps) / sizeof(dead_ps[0]); i++) {
        const char *path = mpt_path("stale.mp");
        struct creator c;
        struct mp_options opt;
        mp_pager *q = NULL;
        mp_pgno pg;
        int status = 0;
        remove(path);
        remove(tmp_of(path));
        c = start_creator(path, dead_ps[i], 1);
        assert_int_equal(kill(c.pid, SIGKILL), 0);
        assert_int_equal(waitpid(c.pid, &status, 0), c.pid);
        assert_true(WIFSIGNALED(status));
        close(c.to_child);
        close(c.from_child);
        assert_true(exists(tmp_of(path)));
        assert_false(exists(path));
        mpt_default_options(&opt);
        opt.reserve_bytes = SMALL_RESERVE;
        assert_int_equal(mp_pager_create(path, PS, &opt, &q), MP_OK);
        assert_false(exists(tmp_of(path)));
        assert_int_equal(mp_pager_alloc(q, &pg), MP_OK);
        mp_pager_close(q);
        q = mpt_open(path, 0);
        assert_int_equal(mp_pager_page_size(q), PS);
        assert_int_equal(mp_pager_page_count(q), 8);
        assert_int_equal(mp_pager_free_count(q), 2);
        mp_pager_close(q);
        remove(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            a_second_creator_is_refused_and_leaves_the_first_alone),
        cmocka_unit_test(a_stale_temporary_file_is_taken_over),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
