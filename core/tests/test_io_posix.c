/*
 * test_io_posix.c - the posix backend's refusals and OS failures, reached
 * through real conditions: names that exist or do not, a directory where a
 * file should be, a file where a directory should be, a device that cannot
 * be synced or mapped, a file-size limit and an address-space limit set in
 * a forked child. Each checks the code returned and the state after.
 *
 * The backend is named explicitly (mp_vfs_posix()), so the faultfs build
 * of the core's tests (faultfs_core_io_posix) has nothing to add and skips.
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
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mpt_valgrind.h"
#include "mpt.h"

#define PS 1024

static const struct mp_vfs *vfs(void)
{
    return mp_vfs_posix();
}

static void posix_options(struct mp_options *opt)
{
    mpt_default_options(opt);
    opt->vfs = mp_vfs_posix();
}

/* A plain file of `bytes` zero bytes at path, opened read-write. */
static struct mp_io_file *plain_file(const char *path, uint64_t bytes)
{
    struct mp_io_file *f = NULL;
    int os = 0;
    remove(path);
    assert_int_equal(vfs()->open(vfs(), path, MP_IO_CREATE, &f, &os), MP_OK);
    assert_int_equal(f->methods->grow(f, bytes), MP_OK);
    return f;
}

static void open_reports_existing_and_impossible_names(void **state)
{
    char path[512], under[600];
    struct mp_io_file *f = NULL;
    int os = 0;
    (void)state;
    snprintf(path, sizeof(path), "%s", mpt_path("io_names"));
    f = plain_file(path, 0);
    assert_int_equal(f->methods->close(f), MP_OK);

    /* Exclusive create of a name that exists. */
    assert_int_equal(vfs()->open(vfs(), path, MP_IO_CREATE, &f, &os),
                     MP_EEXIST);
    assert_null(f);
    assert_int_equal(os, EEXIST);
    /* A regular file used as a directory: ENOTDIR, reported as MP_EIO. */
    snprintf(under, sizeof(under), "%s/x", path);
    os = 0;
    assert_int_equal(vfs()->open(vfs(), under, 0, &f, &os), MP_EIO);
    assert_int_equal(os, ENOTDIR);
    assert_int_equal(vfs()->remove(vfs(), under, &os), MP_EIO);
    assert_int_equal(os, ENOTDIR);
    /* A name that is gone. */
    assert_int_equal(remove(path), 0);
    assert_int_equal(vfs()->open(vfs(), path, 0, &f, &os), MP_ENOENT);
    assert_int_equal(vfs()->remove(vfs(), path, &os), MP_ENOENT);
    /* The OS error pointers are optional. */
    assert_int_equal(vfs()->remove(vfs(), path, NULL), MP_ENOENT);
}

static void pager_refuses_a_directory_and_a_missing_directory(void **state)
{
    char dir[512], path[600];
    mp_pager *p = NULL;
    struct mp_options opt;
    (void)state;
    posix_options(&opt);
    snprintf(dir, sizeof(dir), "%s", mpt_path("io_dir"));
    assert_int_equal(mkdir(dir, 0755), 0);
    /* A directory opened for writing: EISDIR, MP_EIO; nothing created. */
    assert_int_equal(mp_pager_open(dir, PS, &opt, &p), MP_EIO);
    assert_null(p);
    /* Create exists-checks the name first: a directory is in the way. */
    assert_int_equal(mp_pager_create(dir, PS, &opt, &p), MP_EEXIST);
    /* Create in a directory that does not exist. */
    snprintf(path, sizeof(path), "%s/missing/file.mp", dir);
    assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_ENOENT);
    assert_null(p);
    assert_int_equal(rmdir(dir), 0);
}

static void rename_never_replaces(void **state)
{
    char a[512], b[512], c[512];
    struct mp_io_file *f;
    int os = 0;
    (void)state;
    snprintf(a, sizeof(a), "%s", mpt_path("io_ren_a"));
    snprintf(b, sizeof(b), "%s", mpt_path("io_ren_b"));
    snprintf(c, sizeof(c), "%s", mpt_path("io_ren_c"));
    f = plain_file(a, 10);
    assert_int_equal(f->methods->close(f), MP_OK);
    f = plain_file(b, 20);
    assert_int_equal(f->methods->close(f), MP_OK);
    assert_int_equal(vfs()->rename(vfs(), a, b, &os), MP_EEXIST);
    assert_int_equal(os, EEXIST);
    /* Both names still hold their own file. */
    assert_int_equal(mpt_file_size(a), 10);
    assert_int_equal(mpt_file_size(b), 20);
    remove(c);
    assert_int_equal(vfs()->rename(vfs(), c, a, &os), MP_ENOENT);
    assert_int_equal(vfs()->rename(vfs(), a, c, &os), MP_OK);
    assert_int_equal(mpt_file_size(c), 10);
    assert_int_equal(mpt_file_size(a), UINT64_MAX);
    remove(b);
    remove(c);
}

static void sync_dir_finds_the_directory_of_any_name(void **state)
{
    char missing[600];
    char *longname;
    int os = 0;
    (void)state;
    /* No slash: the current directory. A leading slash only: the root. */
    assert_int_equal(vfs()->sync_dir(vfs(), "file.mp", &os), MP_OK);
    assert_int_equal(vfs()->sync_dir(vfs(), "/file.mp", &os), MP_OK);
    assert_int_equal(vfs()->sync_dir(vfs(), mpt_path("x.mp"), &os), MP_OK);
    /* A directory that does not exist. */
    snprintf(missing, sizeof(missing), "%s/x.mp", mpt_path("io_nodir"));
    assert_int_equal(vfs()->sync_dir(vfs(), missing, &os), MP_ENOENT);
    assert_int_equal(os, ENOENT);
    /* A directory name longer than any path the OS takes. */
    longname = test_malloc(5000);
    memset(longname, 'a', 4998);
    longname[0] = '/';
    longname[4998] = '/';
    longname[4999] = 0;
    assert_int_equal(vfs()->sync_dir(vfs(), longname, &os), MP_EINVAL);
    test_free(longname);
}

static void grow_checks_its_argument(void **state)
{
    struct mp_io_file *f;
    uint64_t size = 0;
    (void)state;
    f = plain_file(mpt_path("io_grow"), 4096);
    /* Never shrinks; the same size is no change. */
    assert_int_equal(f->methods->grow(f, 100), MP_EINVAL);
    assert_int_equal(f->methods->grow(f, 4096), MP_OK);
    /* Beyond what off_t can hold. */
    assert_int_equal(f->methods->grow(f, UINT64_MAX), MP_ELIMIT);
    assert_int_equal(f->methods->size(f, &size), MP_OK);
    assert_int_equal(size, 4096);
    assert_int_equal(f->methods->close(f), MP_OK);
}

static void grow_of_a_read_only_file_fails_with_eio(void **state)
{
    char path[512];
    struct mp_io_file *f;
    uint64_t size = 0;
    int os = 0;
    (void)state;
    snprintf(path, sizeof(path), "%s", mpt_path("io_grow_ro"));
    f = plain_file(path, 4096);
    assert_int_equal(f->methods->close(f), MP_OK);
    assert_int_equal(vfs()->open(vfs(), path, MP_IO_READONLY, &f, &os), MP_OK);
    assert_int_equal(f->methods->grow(f, 8192), MP_EIO);
    assert_int_not_equal(f->os_error, 0);
    assert_int_equal(f->methods->size(f, &size), MP_OK);
    assert_int_equal(size, 4096);
    assert_int_equal(f->methods->close(f), MP_OK);
}

static void map_and_sync_check_their_arguments(void **state)
{
    struct mp_io_file *f;
    struct mp_io_range r;
    void *base = NULL;
    uint64_t reserved = 0;
    (void)state;
    f = plain_file(mpt_path("io_map"), 8192);
    /* Nothing mapped yet. */
    assert_int_equal(f->methods->extend_map(f, 8192), MP_EINVAL);
    r.offset = 0;
    r.length = 4096;
    assert_int_equal(f->methods->sync(f, &r, 1), MP_EINVAL);
    assert_int_equal(f->methods->map(f, 1 << 20, 0, &base, &reserved),
                     MP_EINVAL);
    /* More than the file holds. */
    assert_int_equal(f->methods->map(f, 1 << 20, 16384, &base, &reserved),
                     MP_EINVAL);
    assert_int_equal(f->methods->map(f, 1 << 20, 4096, &base, &reserved),
                     MP_OK);
    assert_non_null(base);
    assert_int_equal(reserved, 1 << 20);
    /* Mapped already. */
    assert_int_equal(f->methods->map(f, 1 << 20, 4096, &base, &reserved),
                     MP_EINVAL);
    /* No shrinking, beyond the reservation, beyond the file. */
    assert_int_equal(f->methods->extend_map(f, 2048), MP_OK);
    assert_int_equal(f->methods->extend_map(f, 2 << 20), MP_ELIMIT);
    assert_int_equal(f->methods->extend_map(f, 12288), MP_EINVAL);
    assert_int_equal(f->methods->extend_map(f, 8192), MP_OK);
    /* A range past the mapping is cut at its end. */
    memset(base, 0x5A, 8192);
    r.offset = 4096;
    r.length = 1 << 19;
    assert_int_equal(f->methods->sync(f, &r, 1), MP_OK);
    assert_int_equal(f->methods->unmap(f), MP_OK);
    assert_int_equal(f->methods->unmap(f), MP_OK);
    assert_int_equal(f->methods->close(f), MP_OK);
    {
        unsigned char b = 0;
        assert_int_equal(mpt_peek(mpt_path("io_map"), 8191, &b, 1), 0);
        assert_int_equal(b, 0x5A);
    }
}

/* A character device takes no fsync: the OS's EINVAL is an MP_EIO. */
static void sync_file_of_a_device_fails_with_eio(void **state)
{
    struct mp_io_file *f = NULL;
    int os = 0;
    (void)state;
    assert_int_equal(vfs()->open(vfs(), "/dev/null", 0, &f, &os), MP_OK);
    assert_int_equal(f->methods->sync_file(f), MP_EIO);
    assert_int_equal(f->os_error, EINVAL);
    assert_int_equal(f->methods->lock(f, MP_IO_LOCK_SHARED), MP_OK);
    assert_int_equal(f->methods->lock(f, MP_IO_UNLOCK), MP_OK);
    assert_int_equal(f->methods->close(f), MP_OK);
}

/* A sysfs attribute has a length but cannot be mapped: the reservation is
 * made and given back, and map reports MP_ENOMEM. */
static void map_of_an_unmappable_file_fails_with_enomem(void **state)
{
    static const char attr[] = "/sys/kernel/mm/transparent_hugepage/enabled";
    struct mp_io_file *f = NULL;
    uint64_t size = 0, reserved = 0;
    void *base = NULL;
    int os = 0;
    (void)state;
    if (vfs()->open(vfs(), attr, MP_IO_READONLY, &f, &os) != MP_OK) {
        skip(); /* no sysfs here */
    }
    assert_int_equal(f->methods->size(f, &size), MP_OK);
    if (size == 0) {
        assert_int_equal(f->methods->close(f), MP_OK);
        skip();
    }
    assert_int_equal(f->methods->map(f, 1 << 20, size, &base, &reserved),
                     MP_ENOMEM);
    assert_int_not_equal(f->os_error, 0);
    assert_null(base);
    /* Nothing is left mapped: extend_map still sees no mapping. */
    assert_int_equal(f->methods->extend_map(f, size), MP_EINVAL);
    assert_int_equal(f->methods->close(f), MP_OK);
}

/* A reservation the system cannot give is halved until it can. */
static void huge_reservations_are_cut_down(void **state)
{
    const char *path = mpt_path("io_huge.mp");
    struct mp_options opt;
    mp_pager *p = NULL;
    mp_pgno pg;
    (void)state;
    if (RUNNING_ON_VALGRIND) {
        /* valgrind grants tens of GiB, and marking them takes minutes */
        skip();
    }
    remove(path);
    posix_options(&opt);
    opt.reserve_bytes = (uint64_t)1 << 62;
    assert_int_equal(mp_pager_create(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_free(p, pg), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
}

/* NULL options mean the defaults: posix, read-write, locked. */
static void null_options_mean_defaults(void **state)
{
    /* Defaults ask the device: /tmp's unit is 4 KiB here, so 4 KiB pages. */
    enum {
        DEFAULT_PS = 4096
    };
    const char *path = mpt_path("io_defaults.mp");
    mp_pager *p = NULL, *q = NULL;
    mp_pgno pg;
    (void)state;
    if (RUNNING_ON_VALGRIND) {
        skip(); /* the default 1 TiB reservation crawls under valgrind */
    }
    remove(path);
    assert_int_equal(mp_pager_create(path, DEFAULT_PS, NULL, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    /* Locked: a second writer is refused. */
    assert_int_equal(mp_pager_open(path, DEFAULT_PS, NULL, &q), MP_ELOCKED);
    assert_null(q);
    assert_int_equal(mp_pager_close(p), MP_OK);
    assert_int_equal(mp_pager_open(path, 0, NULL, &p), MP_OK);
    assert_false(mp_pager_is_readonly(p));
    assert_int_equal(mp_pager_free(p, pg), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
}

/* Set in coverage builds (clang -fprofile-instr-generate): the child ends
 * with _exit, which skips the atexit handler that writes its profile. */
extern int __llvm_profile_write_file(void) __attribute__((weak));

/*
 * Run fn in a forked child; it returns 0 for success or the number of the
 * check that failed. cmocka's assertions stay in the parent. The child
 * leaves by _exit: exit would run the parent's atexit handlers (mpt's
 * removal of the test directory among them).
 */
static void in_child(int (*fn)(const char *), const char *path)
{
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rc = fn(path);
        if (__llvm_profile_write_file) {
            /* The children lower only the soft limits: lift them again, or
             * the profile could not be written. */
            struct rlimit rl;
            if (getrlimit(RLIMIT_FSIZE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_FSIZE, &rl);
            }
            if (getrlimit(RLIMIT_AS, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_AS, &rl);
            }
            __llvm_profile_write_file();
        }
        _exit(rc);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) != 0) {
        fail_msg("child check %d failed", WEXITSTATUS(status));
    }
}

static int fsize_child(const char *path)
{
    struct mp_options opt;
    struct rlimit rl;
    mp_pager *p = NULL;
    mp_pgno pgs[64], pg;
    uint64_t pages, free_pages;
    int code = 0, os = 0, rc;

    signal(SIGXFSZ, SIG_IGN);
    posix_options(&opt);
    if (mp_pager_open(path, PS, &opt, &p) != MP_OK) {
        return 1;
    }
    pages = mp_pager_page_count(p);
    free_pages = mp_pager_free_count(p);
    /* The file may not grow past its present length. */
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0) {
        return 2;
    }
    rl.rlim_cur = (rlim_t)mpt_file_size(path);
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) {
        return 2;
    }
    rc = mp_pager_alloc_bulk(p, 64, pgs);
    if (rc != MP_ELIMIT) {
        return 3;
    }
    /* Nothing changed and the pager is still usable. */
    mp_pager_last_failure(p, &code, &os);
    if (code != 0 || mp_pager_page_count(p) != pages ||
        mp_pager_free_count(p) != free_pages) {
        return 4;
    }
    if (mp_pager_alloc(p, &pg) != MP_OK || mp_pager_free(p, pg) != MP_OK) {
        return 5;
    }
    if (mp_pager_grow(p, pages * 4) != MP_ELIMIT) {
        return 6;
    }
    if (mp_pager_close(p) != MP_OK) {
        return 7;
    }
    return 0;
}

static void growth_past_the_file_size_limit_fails_cleanly(void **state)
{
    char path[512];
    mp_pager *p;
    mp_pgno pg;
    uint64_t pages;
    (void)state;
    snprintf(path, sizeof(path), "%s", mpt_path("io_fsize.mp"));
    remove(path);
    p = mpt_create(path, PS);
    mp_pager_close(p);
    p = mpt_open(path, PS);
    pages = mp_pager_page_count(p);
    mp_pager_close(p);
    in_child(fsize_child, path);
    /* The file is as it was, and grows once the limit is gone. */
    p = mpt_open(path, PS);
    assert_int_equal(mp_pager_page_count(p), pages);
    {
        mp_pgno pgs[64];
        assert_int_equal(mp_pager_alloc_bulk(p, 64, pgs), MP_OK);
    }
    assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
    mp_pager_close(p);
}

/* Address space used now, from /proc/self/statm (pages). */
static uint64_t vm_bytes(void)
{
    unsigned long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) {
        return 0;
    }
    if (fscanf(f, "%llu", &pages) != 1) {
        pages = 0;
    }
    fclose(f);
    return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static int as_child(const char *path)
{
    struct mp_io_file *f = NULL;
    struct rlimit rl;
    void *base = NULL;
    uint64_t reserved = 0, now;
    int os = 0, rc;

    if (vfs()->open(vfs(), path, 0, &f, &os) != MP_OK) {
        return 1;
    }
    now = vm_bytes();
    if (now == 0) {
        return 2;
    }
    /* No room for another mapping of any size. */
    if (getrlimit(RLIMIT_AS, &rl) != 0) {
        return 3;
    }
    rl.rlim_cur = (rlim_t)now;
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        return 3;
    }
    /* The halving passes below this odd size and tries it last. */
    rc = f->methods->map(f, 1 << 24, 3 << 15, &base, &reserved);
    if (rc != MP_ENOMEM || base != NULL || f->os_error != ENOMEM) {
        return 4;
    }
    return 0;
}

static void map_without_address_space_fails_with_enomem(void **state)
{
    char path[512];
    struct mp_io_file *f;
    (void)state;
    if (RUNNING_ON_VALGRIND) {
        skip(); /* valgrind's own mappings count against RLIMIT_AS */
    }
    snprintf(path, sizeof(path), "%s", mpt_path("io_as"));
    f = plain_file(path, 3 << 15);
    assert_int_equal(f->methods->close(f), MP_OK);
    in_child(as_child, path);
}

/*
 * Stores into a mapping extended after a growth reach the file, at the
 * address the first map gave: checked by reading the file back.
 */
static int grow_store_and_check(struct mp_io_file *f, unsigned char *base,
                                const char *path, uint64_t at)
{
    struct mp_io_range r = { 0, 0 };
    unsigned char got[4];
    FILE *in;
    if (f->methods->grow(f, at + 4096) != MP_OK ||
        f->methods->extend_map(f, at + 4096) != MP_OK) {
        return 1;
    }
    memcpy(base + at, "grow", 4);
    r.offset = at;
    r.length = 4;
    if (f->methods->sync(f, &r, 1) != MP_OK) {
        return 2;
    }
    in = fopen(path, "rb");
    if (!in || fseek(in, (long)at, SEEK_SET) != 0 ||
        fread(got, 1, 4, in) != 4 || memcmp(got, "grow", 4) != 0) {
        if (in) {
            fclose(in);
        }
        return 3;
    }
    fclose(in);
    /* Past the file: refused, whichever way the range was reserved. */
    if (f->methods->extend_map(f, at + 8192) != MP_EINVAL) {
        return 4;
    }
    return 0;
}

/* With room for it, the reservation is had whole, and growth works in it. */
static void growth_in_a_whole_reservation(void **state)
{
    const char *path = mpt_path("io_whole");
    struct mp_io_file *f = plain_file(path, 8192);
    void *base = NULL;
    uint64_t reserved = 0;
    (void)state;
    assert_int_equal(f->methods->map(f, 1 << 30, 8192, &base, &reserved),
                     MP_OK);
    assert_int_equal(reserved, 1 << 30);
    memset(base, 7, 8192);
    assert_int_equal(grow_store_and_check(f, base, path, 5 << 20), 0);
    assert_int_equal(((unsigned char *)base)[8191], 7);
    assert_int_equal(f->methods->close(f), MP_OK);
}

static int cut_reservation_child(const char *path)
{
    struct mp_io_file *f = NULL;
    struct rlimit rl;
    void *base = NULL;
    uint64_t reserved = 0, now;
    int os = 0;

    if (vfs()->open(vfs(), path, 0, &f, &os) != MP_OK) {
        return 10;
    }
    now = vm_bytes();
    if (now == 0 || getrlimit(RLIMIT_AS, &rl) != 0) {
        return 11;
    }
    /* 16 MiB more: a 1 GiB map of the file is refused, a cut-down
     * inaccessible range is not. */
    rl.rlim_cur = (rlim_t)(now + (16 << 20));
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        return 11;
    }
    if (f->methods->map(f, 1 << 30, 8192, &base, &reserved) != MP_OK) {
        return 12;
    }
    if (reserved > (16 << 20) || reserved < 8192) {
        return 13;
    }
    return grow_store_and_check(f, base, path, reserved / 2);
}

/* Refused the whole reservation, the backend grows in a cut-down one. */
static void growth_in_a_cut_down_reservation(void **state)
{
    char path[512];
    struct mp_io_file *f;
    (void)state;
    if (RUNNING_ON_VALGRIND) {
        skip(); /* valgrind's own mappings count against RLIMIT_AS */
    }
    snprintf(path, sizeof(path), "%s", mpt_path("io_cut"));
    f = plain_file(path, 8192);
    assert_int_equal(f->methods->close(f), MP_OK);
    in_child(cut_reservation_child, path);
}

/*
 * One barrier is one OS sync call, however many ranges it holds and
 * however far apart they lie; one file sync is one call.
 */
static void one_os_sync_call_per_barrier(void **state)
{
    struct mp_io_file *f;
    struct mp_io_range r[3];
    unsigned char *base = NULL;
    void *b = NULL;
    uint64_t reserved = 0, n0;
    (void)state;
    f = plain_file(mpt_path("io_one_sync"), 1 << 20);
    assert_int_equal(mp_io_posix_os_syncs(f), 0);
    assert_int_equal(f->methods->map(f, 1 << 20, 1 << 20, &b, &reserved),
                     MP_OK);
    base = b;
    /* Three ranges, pages apart, given out of order. */
    r[0].offset = 900 << 10;
    r[0].length = 100;
    r[1].offset = 0;
    r[1].length = 8192;
    r[2].offset = 300 << 10;
    r[2].length = 4096;
    for (int i = 0; i < 3; i++) {
        memset(base + r[i].offset, 0x11 * (i + 1), r[i].length);
    }
    n0 = mp_io_posix_os_syncs(f);
    assert_int_equal(f->methods->sync(f, r, 3), MP_OK);
    assert_int_equal(mp_io_posix_os_syncs(f) - n0, 1);
    /* No ranges, no call. */
    assert_int_equal(f->methods->sync(f, r, 0), MP_OK);
    assert_int_equal(mp_io_posix_os_syncs(f) - n0, 1);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(mp_io_posix_os_syncs(f) - n0, 2);
    /* Another backend's file (or none) counts nothing. */
    assert_int_equal(mp_io_posix_os_syncs(NULL), 0);
    assert_int_equal(f->methods->close(f), MP_OK);
}

/* The posix file the pager under test opened (a vfs that only watches). */
static struct mp_io_file *watched_file;

static int watch_open(const struct mp_vfs *v, const char *path, unsigned fl,
                      struct mp_io_file **out, int *os)
{
    int rc = mp_vfs_posix()->open(mp_vfs_posix(), path, fl, out, os);
    (void)v;
    watched_file = rc == MP_OK ? *out : NULL;
    return rc;
}

static int watch_remove(const struct mp_vfs *v, const char *path, int *os)
{
    (void)v;
    return mp_vfs_posix()->remove(mp_vfs_posix(), path, os);
}

static int watch_rename(const struct mp_vfs *v, const char *a, const char *b,
                        int *os)
{
    (void)v;
    return mp_vfs_posix()->rename(mp_vfs_posix(), a, b, os);
}

static int watch_sync_dir(const struct mp_vfs *v, const char *path, int *os)
{
    (void)v;
    return mp_vfs_posix()->sync_dir(mp_vfs_posix(), path, os);
}

/* OS sync calls the watched file took since the last call. */
static uint64_t os_syncs_since(uint64_t *last)
{
    uint64_t now = mp_io_posix_os_syncs(watched_file), d = now - *last;
    *last = now;
    return d;
}

/*
 * Every commit, regular, bulk or protected, is two barriers and so two OS
 * sync calls (README's benchmark table), in a file large enough that the
 * pages a commit writes lie far apart.
 */
static void a_commit_costs_two_os_sync_calls(void **state)
{
    static const struct mp_vfs watch = {
        1, "watch", NULL, watch_open, watch_remove, watch_rename, watch_sync_dir
    };
    struct mp_options opt;
    mp_pager *p = NULL;
    mp_pgno one, many[64];
    mp_protected_id prot;
    void *w;
    uint64_t last = 0;
    (void)state;
    posix_options(&opt);
    opt.vfs = &watch;
    remove(mpt_path("io_two_syncs"));
    assert_int_equal(mp_pager_create(mpt_path("io_two_syncs"), 4096, &opt, &p),
                     MP_OK);
    assert_non_null(watched_file);
    assert_int_equal(mp_pager_grow(p, 1 << 16), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &prot), MP_OK);
    (void)os_syncs_since(&last);
    for (int round = 0; round < 8; round++) {
        assert_int_equal(mp_pager_alloc(p, &one), MP_OK);
        assert_int_equal(os_syncs_since(&last), 2);
        assert_int_equal(mp_pager_alloc_bulk(p, 64, many), MP_OK);
        assert_int_equal(os_syncs_since(&last), 2);
        assert_int_equal(mp_pager_free_bulk(p, many, 64), MP_OK);
        assert_int_equal(os_syncs_since(&last), 2);
        assert_int_equal(mp_protected_begin(p, prot, &w), MP_OK);
        memset(w, round, 4096);
        assert_int_equal(mp_protected_commit(p, prot), MP_OK);
        assert_int_equal(os_syncs_since(&last), 2);
        assert_int_equal(mp_pager_free(p, one), MP_OK);
        assert_int_equal(os_syncs_since(&last), 2);
    }
    assert_int_equal(mp_pager_close(p), MP_OK);
    watched_file = NULL;
}

/*
 * Issue 12 item 6: permission and read-only-mount refusals used to come
 * back as a generic MP_EIO. Real conditions: a file of mode 0444 and a
 * directory of mode 0555, both owned by root, seen by uid 65534 (a forked
 * child that drops root: root would bypass the modes), and a tmpfs this
 * test mounts and remounts read-only. A setup that fails is a failed test,
 * never a skip.
 */
#define NOBODY 65534

static char perm_dir[256];

static int eacces_child(const char *path)
{
    struct mp_options opt;
    char name[512];
    mp_pager *p = NULL;
    if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0 || getuid() != NOBODY) {
        return 100; /* could not drop root: the test proves nothing */
    }
    posix_options(&opt);
    errno = 0;
    if (mp_pager_open(path, PS, &opt, &p) != MP_EACCES || p) {
        return 1;
    }
    if (errno != EACCES) {
        return 2;
    }
    opt.flags = MP_OPEN_READONLY;
    if (mp_pager_open(path, PS, &opt, &p) != MP_OK) {
        return 3;
    }
    mp_pager_close(p);
    posix_options(&opt);
    snprintf(name, sizeof(name), "%s/new.mp", perm_dir);
    errno = 0;
    if (mp_pager_create(name, PS, &opt, &p) != MP_EACCES || p) {
        return 4;
    }
    if (errno != EACCES) {
        return 5;
    }
    return 0;
}

static void read_only_files_and_directories_are_eacces(void **state)
{
    char path[512];
    (void)state;
    snprintf(perm_dir, sizeof(perm_dir), "/tmp/mpt-perm.XXXXXX");
    if (!mkdtemp(perm_dir)) {
        perm_dir[0] = 0;
        fail_msg("setup: mkdtemp: %s", strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/ro.mp", perm_dir);
    mp_pager_close(mpt_create(path, PS));
    if (chmod(path, 0444) != 0 || chmod(perm_dir, 0555) != 0) {
        fail_msg("setup: chmod: %s", strerror(errno));
    }
    in_child(eacces_child, path);
    if (chmod(perm_dir, 0755) != 0 || remove(path) != 0 ||
        rmdir(perm_dir) != 0) {
        fail_msg("cleanup of %s: %s", perm_dir, strerror(errno));
    }
    perm_dir[0] = 0;
}

static char rofs_dir[64];

/* A failed assertion leaves by longjmp: the mount and the directories must
 * not outlive the test. Harmless when already cleaned up. */
static int unmount_and_remove(void **state)
{
    char path[512];
    (void)state;
    if (rofs_dir[0]) {
        umount(rofs_dir);
        rmdir(rofs_dir);
        rofs_dir[0] = 0;
    }
    if (perm_dir[0]) {
        chmod(perm_dir, 0755);
        snprintf(path, sizeof(path), "%s/ro.mp", perm_dir);
        remove(path);
        rmdir(perm_dir);
        perm_dir[0] = 0;
    }
    return 0;
}

static void read_only_mounts_are_erofs(void **state)
{
    char *dir = rofs_dir, path[128], name[128];
    struct mp_options opt;
    mp_pager *p = NULL;
    (void)state;
    snprintf(rofs_dir, sizeof(rofs_dir), "/tmp/mpt-rofs.XXXXXX");
    if (!mkdtemp(dir)) {
        rofs_dir[0] = 0;
        fail_msg("setup: mkdtemp: %s", strerror(errno));
    }
    if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") != 0) {
        fail_msg("setup: mount tmpfs on %s (this test needs root): %s", dir,
                 strerror(errno));
    }
    snprintf(path, sizeof(path), "%s/f.mp", dir);
    snprintf(name, sizeof(name), "%s/new.mp", dir);
    mp_pager_close(mpt_create(path, PS));
    if (mount("tmpfs", dir, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=1m") != 0) {
        fail_msg("setup: remount %s read-only: %s", dir, strerror(errno));
    }
    posix_options(&opt);
    errno = 0;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_EROFS);
    assert_int_equal(errno, EROFS);
    assert_null(p);
    errno = 0;
    assert_int_equal(mp_pager_create(name, PS, &opt, &p), MP_EROFS);
    assert_int_equal(errno, EROFS);
    opt.flags = MP_OPEN_READONLY;
    assert_int_equal(mp_pager_open(path, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_page_count(p), 8);
    mp_pager_close(p);
    assert_int_equal(umount(dir), 0);
    assert_int_equal(rmdir(dir), 0);
    rofs_dir[0] = 0;
}

/* ---- the device (io.h mp_io_methods.device, FORMAT.md 2.3) ---------- */

/* The largest of /sys/dev/block/M:m/{,../}queue/{physical,logical}_block_size.
 */
static uint32_t sysfs_unit(dev_t dev)
{
    static const char *const rel[] = { "queue/physical_block_size",
                                       "queue/logical_block_size",
                                       "../queue/physical_block_size",
                                       "../queue/logical_block_size" };
    uint32_t best = 0;
    for (size_t i = 0; i < 4; i++) {
        char path[128];
        unsigned long v = 0;
        FILE *f;
        snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(dev),
                 minor(dev), rel[i]);
        f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%lu", &v) == 1 && v > best) {
                best = (uint32_t)v;
            }
            fclose(f);
        }
    }
    return best;
}

static void device_of(const char *path, struct mp_io_device *dev)
{
    const struct mp_vfs *px = mp_vfs_posix();
    struct mp_io_file *f;
    int os = 0;
    remove(path);
    assert_int_equal(px->open(px, path, MP_IO_CREATE, &f, &os), MP_OK);
    assert_true(f->methods->version >= 2);
    assert_non_null(f->methods->device);
    assert_int_equal(f->methods->device(f, dev), MP_OK);
    assert_int_equal(f->methods->close(f), MP_OK);
    remove(path);
}

/* /tmp here is ext4 on a disk: the unit is the largest of the OS page and
 * the disk's sectors, and the device is not power-safe. */
static void posix_reports_the_disk_unit_on_a_disk_file_system(void **state)
{
    const char *path = "/tmp/mp-device-probe.mp";
    uint32_t os_page = (uint32_t)sysconf(_SC_PAGESIZE), want;
    struct mp_io_device dev;
    struct statfs sfs;
    struct stat st;
    (void)state;
    assert_int_equal(statfs("/tmp", &sfs), 0);
    if (sfs.f_type == 0x01021994) {
        fail_msg("/tmp is tmpfs: this test needs a disk file system there");
    }
    assert_int_equal(stat("/tmp", &st), 0);
    want = sysfs_unit(st.st_dev);
    if (want == 0) {
        want = 4096;
    }
    if (want < os_page) {
        want = os_page;
    }
    device_of(path, &dev);
    assert_int_equal(dev.sector_size, want);
    assert_int_equal(dev.flags, 0);
    assert_true(dev.sector_size >= 4096);
}

/* tmpfs does not survive power loss at all: power-safe, the OS page. */
static void posix_reports_tmpfs_as_power_safe(void **state)
{
    struct mp_io_device dev;
    struct statfs sfs;
    (void)state;
    if (statfs("/dev/shm", &sfs) != 0 || sfs.f_type != 0x01021994) {
        fail_msg("/dev/shm is not a tmpfs mount: cannot test tmpfs");
    }
    device_of("/dev/shm/mp-device-probe.mp", &dev);
    assert_int_equal(dev.sector_size, (uint32_t)sysconf(_SC_PAGESIZE));
    assert_int_equal(dev.flags, MP_IO_DEV_POWERSAFE);
}

/* Pages below the unit of a disk that is not power-safe: create refuses
 * and leaves nothing; a read-write open refuses; a read-only open and a
 * stated device are allowed. */
static void small_pages_on_a_disk_are_refused_with_edevice(void **state)
{
    const char *path = "/tmp/mp-device-small.mp";
    const char *tmp = "/tmp/mp-device-small.mp.mp-create";
    struct mp_io_device dev;
    struct mp_options opt;
    struct stat st;
    mp_pager *p = NULL;
    (void)state;
    remove(path);
    mp_options_init(&opt);
    opt.reserve_bytes = (uint64_t)1 << 24;
    assert_int_equal(mp_pager_create(path, 1024, &opt, &p), MP_EDEVICE);
    assert_null(p);
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(stat(tmp, &st), -1);
    opt.device.sector_size = 1024; /* as if the caller knew better */
    assert_int_equal(mp_pager_create(path, 1024, &opt, &p), MP_OK);
    mp_pager_device(p, &dev);
    assert_int_equal(dev.sector_size, 1024);
    assert_int_equal(mp_pager_close(p), MP_OK);
    opt.device.sector_size = 0; /* ask the backend again */
    assert_int_equal(mp_pager_open(path, 0, &opt, &p), MP_EDEVICE);
    assert_null(p);
    opt.flags = MP_OPEN_READONLY;
    assert_int_equal(mp_pager_open(path, 0, &opt, &p), MP_OK);
    mp_pager_device(p, &dev);
    assert_true(dev.sector_size >= 4096);
    assert_int_equal(mp_pager_close(p), MP_OK);
    remove(path);
    opt.flags = 0;
    assert_int_equal(mp_pager_create(path, 4096, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_close(p), MP_OK);
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(posix_reports_the_disk_unit_on_a_disk_file_system),
        cmocka_unit_test(posix_reports_tmpfs_as_power_safe),
        cmocka_unit_test(small_pages_on_a_disk_are_refused_with_edevice),
        cmocka_unit_test(open_reports_existing_and_impossible_names),
        cmocka_unit_test(pager_refuses_a_directory_and_a_missing_directory),
        cmocka_unit_test(rename_never_replaces),
        cmocka_unit_test(sync_dir_finds_the_directory_of_any_name),
        cmocka_unit_test(grow_checks_its_argument),
        cmocka_unit_test(grow_of_a_read_only_file_fails_with_eio),
        cmocka_unit_test(map_and_sync_check_their_arguments),
        cmocka_unit_test(growth_in_a_whole_reservation),
        cmocka_unit_test(growth_in_a_cut_down_reservation),
        cmocka_unit_test(sync_file_of_a_device_fails_with_eio),
        cmocka_unit_test(map_of_an_unmappable_file_fails_with_enomem),
        cmocka_unit_test(huge_reservations_are_cut_down),
        cmocka_unit_test(null_options_mean_defaults),
        cmocka_unit_test(growth_past_the_file_size_limit_fails_cleanly),
        cmocka_unit_test(map_without_address_space_fails_with_enomem),
        cmocka_unit_test(one_os_sync_call_per_barrier),
        cmocka_unit_test(a_commit_costs_two_os_sync_calls),
        cmocka_unit_test_teardown(read_only_files_and_directories_are_eacces,
                                  unmount_and_remove),
        cmocka_unit_test_teardown(read_only_mounts_are_erofs,
                                  unmount_and_remove),
    };
    struct mp_options opt;
    mpt_options(&opt);
    if (opt.vfs && opt.vfs != mp_vfs_posix()) {
        printf("test_io_posix: posix backend only; skipped\n");
        return 0;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
