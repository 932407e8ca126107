/*
 * test_full_disk.c - a full device is MP_ENOSPC from the call that needs
 * the space, never SIGBUS (issue 12 item 1), on a REAL full file system: a
 * tmpfs mounted with size=1m in a private directory (CI runs as root). If
 * the mount cannot be made the test fails loudly; it never skips.
 *
 * Each scenario runs in a forked child, so that a store into a page the
 * device cannot hold (SIGBUS, the bug) is reported as a failure of that
 * scenario instead of killing the test program. The child checks with
 * CK() and exits 0 only when every check held. After the failing call:
 * the pager is usable and unchanged (page and free counts, no recorded
 * failure), and a reopen shows the last commit and passes the checker.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "mph/check.h"
#include "mpt.h"

#define CK(c)                                                            \
 do {                                                                    \
  if (!(c)) {                                                            \
   fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
   _exit(1);                                                             \
  }                                                                      \
 } while (0)

static char mnt[64];

static const char *in_mnt(const char *name)
{
    static char buf[4][128];
    static int slot;
    char *b = buf[slot++ & 3];
    snprintf(b, sizeof(buf[0]), "%s/%s", mnt, name);
    return b;
}

static int mount_small_tmpfs(void **state)
{
    (void)state;
    strcpy(mnt, "/tmp/mpt-fulldisk-XXXXXX");
    if (!mkdtemp(mnt)) {
        fprintf(stderr, "FATAL: mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0) {
        fprintf(stderr,
                "FATAL: cannot mount a 1 MiB tmpfs at %s: %s. This test "
                "needs a real full file system (run as root, as CI does); "
                "it does not skip.\n",
                mnt, strerror(errno));
        rmdir(mnt);
        return -1;
    }
    return 0;
}

static int unmount_small_tmpfs(void **state)
{
    (void)state;
    if (umount2(mnt, MNT_DETACH) != 0) {
        fprintf(stderr, "umount %s: %s\n", mnt, strerror(errno));
    }
    rmdir(mnt);
    return 0;
}

/* Empty the file system between scenarios. */
static int clean(void **state)
{
    static const char *names[] = { "a.mp", "a.mp.mp-create", "fill" };
    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        unlink(in_mnt(names[i]));
    }
    return 0;
}

/* Fill the file system with a plain file until write(2) says ENOSPC. */
static void fill_disk(void)
{
    static char block[1024];
    int fd = open(in_mnt("fill"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ssize_t w;
    CK(fd >= 0);
    memset(block, 0x5A, sizeof(block));
    while ((w = write(fd, block, sizeof(block))) > 0) {
    }
    CK(w < 0 && errno == ENOSPC);
    close(fd);
}

/* Run fn in a child; the scenario passes only if the child exits 0. */
static void in_child(void (*fn)(void), const char *what)
{
    int status = 0;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* cmocka's handlers would turn the signal into a test failure
         * inside the child, which would then run the rest of the tests. */
        signal(SIGBUS, SIG_DFL);
        signal(SIGSEGV, SIG_DFL);
        signal(SIGILL, SIG_DFL);
        signal(SIGFPE, SIG_DFL);
        fn();
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFSIGNALED(status)) {
        fail_msg("%s: killed by signal %d (%s): a store reached a page "
                 "the full device could not hold",
                 what, WTERMSIG(status), strsignal(WTERMSIG(status)));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fail_msg("%s: child failed (status %d)", what, status);
    }
}

/* Address space for the pagers here: enough for the scenario, small
 * enough that valgrind's bookkeeping of the reservation stays cheap (the
 * sparse growth needs 512 MiB, the others fill 1 MiB). */
static uint64_t reserve_bytes = (uint64_t)16 << 20;

static void options(struct mp_options *opt)
{
    mpt_default_options(opt);
    opt->reserve_bytes = reserve_bytes;
}

static mp_pager *create(const char *path, size_t ps)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    options(&opt);
    CK(mp_pager_create(path, ps, &opt, &p) == MP_OK);
    return p;
}

static mp_pager *reopen(const char *path)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    options(&opt);
    CK(mp_pager_open(path, 0, &opt, &p) == MP_OK);
    return p;
}

static void check_file(const char *path)
{
    struct mph_check_report *r = calloc(1, sizeof(*r));
    CK(r);
    CK(mph_check_file(NULL, path, 0, r) == MP_OK);
    if (!mph_check_passed(r)) {
        CK(mph_check_print(stderr, r, 0) == MP_OK);
    }
    CK(mph_check_passed(r));
    free(r);
}

/* What "unchanged" means for the pager after a refused call. */
struct snap {
    uint64_t pages, free;
};

static struct snap snap_of(const mp_pager *p)
{
    struct snap s = { mp_pager_page_count(p), mp_pager_free_count(p) };
    return s;
}

static void same_and_usable(const mp_pager *p, struct snap s)
{
    int code = 1, os = 1;
    CK(mp_pager_page_count(p) == s.pages);
    CK(mp_pager_free_count(p) == s.free);
    mp_pager_last_failure(p, &code, &os);
    CK(code == 0);
}

static void write_page(mp_pager *p, mp_pgno pg, int v)
{
    void *w;
    CK(mp_pager_get_mut(p, pg, &w) == MP_OK);
    memset(w, v, mp_pager_page_size(p));
    CK(mp_pager_sync_pages(p, pg, 1) == MP_OK);
}

static void read_page(const mp_pager *p, mp_pgno pg, int v)
{
    const unsigned char *r;
    CK(mp_pager_get(p, pg, (const void **)&r) == MP_OK);
    CK(r[0] == v && r[mp_pager_page_size(p) - 1] == v);
}

/* ---- scenarios ------------------------------------------------------- */

#define MAXP 1024

static void alloc_until_full(void)
{
    const char *path = in_mnt("a.mp");
    static mp_pgno got[MAXP];
    mp_pager *p = create(path, 4096);
    struct snap s;
    size_t n = 0;
    int rc;
    for (;;) {
        s = snap_of(p);
        rc = mp_pager_alloc(p, &got[n]);
        if (rc != MP_OK) {
            break;
        }
        write_page(p, got[n], 0xA5);
        CK(++n < MAXP);
    }
    CK(rc == MP_ENOSPC);
    CK(n > 100);
    same_and_usable(p, s);
    /* Usable: a freed page is reused without new space. */
    CK(mp_pager_free(p, got[n - 1]) == MP_OK);
    CK(mp_pager_alloc(p, &got[n - 1]) == MP_OK);
    write_page(p, got[n - 1], 0xA5);
    CK(mp_pager_close(p) == MP_OK);
    p = reopen(path);
    CK(mp_pager_page_count(p) == s.pages);
    CK(mp_pager_free_count(p) == s.free);
    for (size_t i = 0; i < n; i++) {
        read_page(p, got[i], 0xA5);
    }
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
}

static void alloc_bulk_until_full(void)
{
    const char *path = in_mnt("a.mp");
    static mp_pgno got[MAXP];
    mp_pager *p = create(path, 4096);
    struct snap s;
    size_t n = 0;
    int rc;
    for (;;) {
        s = snap_of(p);
        rc = mp_pager_alloc_bulk(p, 7, got + n);
        if (rc != MP_OK) {
            break;
        }
        for (size_t i = n; i < n + 7; i++) {
            write_page(p, got[i], 0x3C);
        }
        n += 7;
        CK(n + 7 < MAXP);
    }
    CK(rc == MP_ENOSPC);
    CK(n > 100);
    same_and_usable(p, s);
    CK(mp_pager_close(p) == MP_OK);
    p = reopen(path);
    CK(mp_pager_page_count(p) == s.pages);
    CK(mp_pager_free_count(p) == s.free);
    for (size_t i = 0; i < n; i++) {
        read_page(p, got[i], 0x3C);
    }
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
}

static void protected_until_full(void)
{
    const char *path = in_mnt("a.mp");
    static mp_protected_id got[MAXP];
    mp_pager *p = create(path, 4096);
    struct snap s;
    size_t n = 0;
    int rc;
    for (;;) {
        void *w;
        s = snap_of(p);
        rc = mp_protected_alloc(p, &got[n]);
        if (rc != MP_OK) {
            break;
        }
        /* Writing never needs new space: both copies were reserved. */
        CK(mp_protected_begin(p, got[n], &w) == MP_OK);
        memset(w, (int)(n & 0x7F) + 1, 4096);
        CK(mp_protected_commit(p, got[n]) == MP_OK);
        CK(++n < MAXP);
    }
    CK(rc == MP_ENOSPC);
    CK(n > 40);
    same_and_usable(p, s);
    CK(mp_pager_close(p) == MP_OK);
    p = reopen(path);
    CK(mp_pager_page_count(p) == s.pages);
    CK(mp_pager_free_count(p) == s.free);
    for (size_t i = 0; i < n; i++) {
        const unsigned char *r;
        CK(mp_protected_get(p, got[i], (const void **)&r) == MP_OK);
        CK(r[0] == (int)(i & 0x7F) + 1 && r[4095] == (int)(i & 0x7F) + 1);
    }
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
}

static void subpage_until_full(void)
{
    const char *path = in_mnt("a.mp");
    static mp_subpage_id got[MAXP * 8];
    mp_pager *p = create(path, 4096);
    mp_subpage *sp;
    struct snap s;
    size_t n = 0;
    int rc;
    CK(mp_subpage_create(p, 512, &sp) == MP_OK);
    for (;;) {
        void *w;
        s = snap_of(p);
        rc = mp_subpage_alloc(sp, &got[n]);
        if (rc != MP_OK) {
            break;
        }
        CK(mp_subpage_get_mut(sp, got[n], &w) == MP_OK);
        memset(w, 0x77, 512);
        CK(++n < MAXP * 8);
    }
    /* The allocation that needed a new parent page said so. */
    CK(rc == MP_ENOSPC);
    CK(n % 8 == 0 && n > 800);
    same_and_usable(p, s);
    CK(mp_subpage_free(sp, got[n - 1]) == MP_OK);
    CK(mp_subpage_alloc(sp, &got[n - 1]) == MP_OK);
    mp_subpage_destroy(sp);
    CK(mp_pager_close(p) == MP_OK);
    p = reopen(path);
    CK(mp_pager_page_count(p) == s.pages);
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
}

static void create_on_full_disk(void)
{
    const char *path = in_mnt("a.mp");
    struct mp_options opt;
    mp_pager *p = NULL;
    struct stat st;
    fill_disk();
    options(&opt);
    CK(mp_pager_create(path, 4096, &opt, &p) == MP_ENOSPC);
    CK(p == NULL);
    /* Neither the file nor its temporary name is left behind. */
    CK(stat(path, &st) != 0 && errno == ENOENT);
    CK(stat(in_mnt("a.mp.mp-create"), &st) != 0 && errno == ENOENT);
    CK(unlink(in_mnt("fill")) == 0);
    CK(mp_pager_create(path, 4096, &opt, &p) == MP_OK);
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
}

/*
 * A sparse growth's new groups bring map leaves the commit writes: with 1
 * KiB pages a group is 8 MiB of file and its two leaf copies 2 KiB of
 * disk. A growth to 2^18 pages (256 MiB, 32 groups) stays sparse and fits
 * on the 1 MiB device; once the device is full, a growth by 31 more
 * groups cannot have their leaves, and every call that needs a page
 * without blocks says MP_ENOSPC, while pages that already have blocks are
 * still handed out.
 */
static void sparse_growth_on_a_tiny_disk(void)
{
    const char *path = in_mnt("a.mp");
    static mp_pgno got[MAXP];
    mp_protected_id prot;
    mp_pager *p;
    mp_pgno pg;
    struct snap s;
    reserve_bytes = (uint64_t)512 << 20;
    p = create(path, 1024);
    CK(mp_pager_grow(p, (uint64_t)1 << 18) == MP_OK);
    CK(mp_pager_page_count(p) == (uint64_t)1 << 18);
    fill_disk();
    s = snap_of(p);
    CK(mp_pager_grow(p, ((uint64_t)1 << 19) - 8192) == MP_ENOSPC);
    same_and_usable(p, s);
    CK(mp_pager_alloc_bulk(p, 9000, got) == MP_ENOSPC);
    same_and_usable(p, s);
    CK(mp_protected_alloc(p, &prot) == MP_ENOSPC);
    same_and_usable(p, s);
    while (mp_pager_alloc(p, &pg) == MP_OK) {
        write_page(p, pg, 0x11);
        s = snap_of(p);
    }
    same_and_usable(p, s);
    CK(unlink(in_mnt("fill")) == 0);
    CK(mp_pager_alloc_bulk(p, 100, got) == MP_OK);
    for (int i = 0; i < 100; i++) {
        write_page(p, got[i], 0x22);
    }
    s = snap_of(p);
    CK(mp_pager_close(p) == MP_OK);
    p = reopen(path);
    CK(mp_pager_page_count(p) == s.pages);
    CK(mp_pager_free_count(p) == s.free);
    for (int i = 0; i < 100; i++) {
        read_page(p, got[i], 0x22);
    }
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
}

/* The posix backend presented as version 1 (no reserve): how files were
 * written before reservation existed. */
static struct mp_io_methods v1_methods;

static int v1_open(const struct mp_vfs *vfs, const char *path, unsigned fl,
                   struct mp_io_file **out, int *os)
{
    int rc = mp_vfs_posix()->open(mp_vfs_posix(), path, fl, out, os);
    (void)vfs;
    if (rc == MP_OK) {
        v1_methods = *(*out)->methods;
        v1_methods.version = 1;
        v1_methods.reserve = NULL;
        (*out)->methods = &v1_methods;
    }
    return rc;
}

static const struct mp_vfs v1_vfs = {
    1,
    "posix-v1",
    NULL,
    v1_open,
    mpt_posix_remove,
    mpt_posix_rename,
    mpt_posix_sync_dir,
};

/*
 * A file written without reservation has holes where the pager will
 * write: here a bulk alloc that grew the file into a second group wrote
 * that group's leaf once (copy 0), so copy 1 is a hole, and the pages it
 * handed out are holes too. Reopened on a full device with reservation:
 * an alloc is refused before anything changes; freeing a page of that
 * group makes a commit that must write leaf copy 1, and it fails with
 * MP_ENOSPC before storing anything, the pager back at the state before
 * the call and usable; reopen shows the last commit.
 */
static void unreserved_file_on_full_disk(void)
{
    const char *path = in_mnt("a.mp");
    static mp_pgno got[32800];
    struct mp_options opt;
    mp_pager *p = NULL;
    const void *r;
    struct snap s;
    mp_pgno pg;
    reserve_bytes = (uint64_t)512 << 20;
    options(&opt);
    opt.vfs = &v1_vfs;
    /* 4 KiB pages: a leaf copy is a whole block of the file system. */
    CK(mp_pager_create(path, 4096, &opt, &p) == MP_OK);
    CK(mp_pager_alloc_bulk(p, 32800, got) == MP_OK);
    CK(got[32799] > 32768);
    CK(mp_pager_close(p) == MP_OK);
    fill_disk();
    p = reopen(path);
    s = snap_of(p);
    CK(mp_pager_alloc(p, &pg) == MP_ENOSPC);
    same_and_usable(p, s);
    CK(mp_pager_free(p, got[32799]) == MP_ENOSPC);
    same_and_usable(p, s);
    CK(mp_pager_get(p, got[32799], (const void **)&r) == MP_OK);
    CK(mp_pager_close(p) == MP_OK);
    p = reopen(path);
    CK(mp_pager_page_count(p) == s.pages);
    CK(mp_pager_free_count(p) == s.free);
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
    CK(unlink(in_mnt("fill")) == 0);
    p = reopen(path);
    CK(mp_pager_free(p, got[32799]) == MP_OK);
    CK(mp_pager_close(p) == MP_OK);
    check_file(path);
}

static void a_file_written_without_reservation_never_faults(void **state)
{
    (void)state;
    in_child(unreserved_file_on_full_disk, "unreserved file");
}

static void alloc_until_the_device_is_full_is_enospc(void **state)
{
    (void)state;
    in_child(alloc_until_full, "alloc");
}

static void alloc_bulk_until_the_device_is_full_is_enospc(void **state)
{
    (void)state;
    in_child(alloc_bulk_until_full, "alloc_bulk");
}

static void protected_alloc_until_the_device_is_full_is_enospc(void **state)
{
    (void)state;
    in_child(protected_until_full, "protected alloc");
}

static void subpage_parent_on_a_full_device_is_enospc(void **state)
{
    (void)state;
    in_child(subpage_until_full, "sub-page alloc");
}

static void create_on_a_full_device_is_enospc(void **state)
{
    (void)state;
    in_child(create_on_full_disk, "create");
}

static void sparse_growth_on_a_tiny_device_is_enospc(void **state)
{
    (void)state;
    in_child(sparse_growth_on_a_tiny_disk, "sparse growth");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(alloc_until_the_device_is_full_is_enospc, clean),
        cmocka_unit_test_setup(alloc_bulk_until_the_device_is_full_is_enospc,
                               clean),
        cmocka_unit_test_setup(
            protected_alloc_until_the_device_is_full_is_enospc, clean),
        cmocka_unit_test_setup(subpage_parent_on_a_full_device_is_enospc,
                               clean),
        cmocka_unit_test_setup(create_on_a_full_device_is_enospc, clean),
        cmocka_unit_test_setup(sparse_growth_on_a_tiny_device_is_enospc, clean),
        cmocka_unit_test_setup(a_file_written_without_reservation_never_faults,
                               clean),
    };
    return cmocka_run_group_tests(tests, mount_small_tmpfs,
                                  unmount_small_tmpfs);
}
