/*
 * mpt.c - the posix side of the core's test support (see mpt.h).
 */
#define _GNU_SOURCE
#include "mpt.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Test-harness state (not core state): one temp dir per test process. */
static char mpt_dir[256];
static char mpt_paths[8][512];
static int mpt_next;
static uint64_t mpt_reserve_cap;

static void remove_dir(void)
{
    char cmd[512];
    if (mpt_dir[0] && !getenv("MPT_KEEP")) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", mpt_dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "mpt: could not remove %s\n", mpt_dir);
        }
    }
}

const char *mpt_path(const char *name)
{
    char *out;
    if (!mpt_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(mpt_dir, sizeof(mpt_dir), "%s/mpt-XXXXXX",
                 base ? base : "/tmp");
        if (!mkdtemp(mpt_dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(remove_dir);
    }
    out = mpt_paths[mpt_next++ & 7];
    snprintf(out, 512, "%s/%s", mpt_dir, name);
    return out;
}

void mpt_default_options(struct mp_options *opt)
{
    /* Valgrind tracks every reserved byte of address space; a terabyte
     * reservation per pager makes memcheck runs crawl (and trips its
     * address-space manager), so memcheck runs ask for less. */
    const char *r = getenv("MPT_RESERVE");
    mp_options_init(opt);
    /* The device, stated: these tests never cut power, they check the
     * logic above the device, on files under /tmp whose real unit (4 KiB
     * physical sectors here) would refuse their 1 KiB pages. They run on
     * the device format 1 assumed. The device rule itself is tested with
     * each backend's own answer (test_device.c). */
    opt->device.sector_size = 512;
    opt->device.flags = 0;
    if (r && *r) {
        opt->reserve_bytes = strtoull(r, NULL, 0);
    }
    if (mpt_reserve_cap && opt->reserve_bytes > mpt_reserve_cap) {
        opt->reserve_bytes = mpt_reserve_cap;
    }
}

void mpt_cap_reserve(uint64_t bytes)
{
    mpt_reserve_cap = bytes;
}

#ifndef MPT_EXTERNAL_BACKEND
void mpt_options(struct mp_options *opt)
{
    mpt_default_options(opt);
}

int mpt_peek(const char *path, uint64_t offset, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    ssize_t n;
    if (fd < 0) {
        return -1;
    }
    n = pread(fd, buf, len, (off_t)offset);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

int mpt_poke(const char *path, uint64_t offset, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY);
    ssize_t n;
    if (fd < 0) {
        return -1;
    }
    n = pwrite(fd, buf, len, (off_t)offset);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

uint64_t mpt_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
}

int mpt_truncate(const char *path, uint64_t size)
{
    return truncate(path, (off_t)size) == 0 ? 0 : -1;
}
#endif /* MPT_EXTERNAL_BACKEND */

mp_pager *mpt_create(const char *path, size_t page_size)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    int rc;
    mpt_options(&opt);
    rc = mp_pager_create(path, page_size, &opt, &p);
    if (rc != MP_OK) {
        fprintf(stderr, "mpt_create(%s): %s\n", path, mp_strerror(rc));
        abort();
    }
    return p;
}

mp_pager *mpt_open(const char *path, size_t page_size)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    int rc;
    mpt_options(&opt);
    rc = mp_pager_open(path, page_size, &opt, &p);
    if (rc != MP_OK) {
        fprintf(stderr, "mpt_open(%s): %s\n", path, mp_strerror(rc));
        abort();
    }
    return p;
}

void mpt_flip(const char *path, uint64_t offset)
{
    unsigned char b;
    if (mpt_peek(path, offset, &b, 1) != 0) {
        abort();
    }
    b ^= 0xFF;
    if (mpt_poke(path, offset, &b, 1) != 0) {
        abort();
    }
}

/* ---- the faulty vfs -------------------------------------------------- */

struct faulty_file {
    struct mp_io_file base;
    struct mp_io_file *inner;
    struct mpt_faulty *owner;
};

static int should_fail(struct mpt_faulty *f)
{
    f->calls++;
    if (f->fail_at == 0) {
        return MP_OK;
    }
    if (f->calls == f->fail_at || (f->sticky && f->calls > f->fail_at)) {
        return f->code;
    }
    return MP_OK;
}

#define INNER(file) (((struct faulty_file *)(file))->inner)
#define OWNER(file) (((struct faulty_file *)(file))->owner)

static int ff_close(struct mp_io_file *file)
{
    struct mp_io_file *in = INNER(file);
    free(file);
    return in->methods->close(in);
}

static int ff_lock(struct mp_io_file *file, int mode)
{
    return INNER(file)->methods->lock(INNER(file), mode);
}

static int ff_size(struct mp_io_file *file, uint64_t *bytes)
{
    return INNER(file)->methods->size(INNER(file), bytes);
}

static int ff_grow(struct mp_io_file *file, uint64_t n)
{
    int rc = should_fail(OWNER(file));
    return rc ? rc : INNER(file)->methods->grow(INNER(file), n);
}

static int ff_map(struct mp_io_file *file, uint64_t reserve, uint64_t n,
                  void **base, uint64_t *reserved)
{
    int rc = should_fail(OWNER(file));
    return rc ? rc
              : INNER(file)->methods->map(INNER(file), reserve, n, base,
                                          reserved);
}

static int ff_extend(struct mp_io_file *file, uint64_t n)
{
    int rc = should_fail(OWNER(file));
    return rc ? rc : INNER(file)->methods->extend_map(INNER(file), n);
}

static int ff_sync(struct mp_io_file *file, const struct mp_io_range *r,
                   size_t n)
{
    int rc = should_fail(OWNER(file));
    return rc ? rc : INNER(file)->methods->sync(INNER(file), r, n);
}

static int ff_sync_file(struct mp_io_file *file)
{
    int rc = should_fail(OWNER(file));
    return rc ? rc : INNER(file)->methods->sync_file(INNER(file));
}

static int ff_unmap(struct mp_io_file *file)
{
    return INNER(file)->methods->unmap(INNER(file));
}

/* Forwarded, never failed: the fault loops count the version-1 calls, and
 * reserving changes nothing a crash or a failure could expose. */
static int ff_reserve(struct mp_io_file *file, uint64_t off, uint64_t len)
{
    const struct mp_io_methods *m = INNER(file)->methods;
    if (m->version < 2 || !m->reserve) {
        return MP_OK;
    }
    return m->reserve(INNER(file), off, len);
}

/* Version 2 for reserve; no device method: the pager then assumes the
 * version-1 device. */
static const struct mp_io_methods faulty_methods = {
    .version = 2,
    .close = ff_close,
    .lock = ff_lock,
    .size = ff_size,
    .grow = ff_grow,
    .map = ff_map,
    .extend_map = ff_extend,
    .sync = ff_sync,
    .sync_file = ff_sync_file,
    .unmap = ff_unmap,
    .reserve = ff_reserve,
    .device = NULL,
};

static int fv_open(const struct mp_vfs *vfs, const char *path, unsigned fl,
                   struct mp_io_file **out, int *os)
{
    struct mpt_faulty *f = vfs->ctx;
    struct faulty_file *ff;
    int rc = should_fail(f);
    if (rc) {
        return rc;
    }
    rc = f->inner->open(f->inner, path, fl, out, os);
    if (rc) {
        return rc;
    }
    ff = calloc(1, sizeof(*ff));
    if (!ff) {
        (*out)->methods->close(*out);
        *out = NULL;
        return MP_ENOMEM;
    }
    ff->base.methods = &faulty_methods;
    ff->inner = *out;
    ff->owner = f;
    *out = &ff->base;
    return MP_OK;
}

static int fv_remove(const struct mp_vfs *vfs, const char *path, int *os)
{
    struct mpt_faulty *f = vfs->ctx;
    return f->inner->remove(f->inner, path, os);
}

static int fv_rename(const struct mp_vfs *vfs, const char *a, const char *b,
                     int *os)
{
    struct mpt_faulty *f = vfs->ctx;
    int rc = should_fail(f);
    return rc ? rc : f->inner->rename(f->inner, a, b, os);
}

static int fv_sync_dir(const struct mp_vfs *vfs, const char *path, int *os)
{
    struct mpt_faulty *f = vfs->ctx;
    int rc = should_fail(f);
    return rc ? rc : f->inner->sync_dir(f->inner, path, os);
}

void mpt_faulty_init(struct mpt_faulty *f, const struct mp_vfs *inner,
                     long fail_at, int code, int sticky)
{
    memset(f, 0, sizeof(*f));
    f->inner = inner;
    f->fail_at = fail_at;
    f->code = code;
    f->sticky = sticky;
    f->vfs.version = 1;
    f->vfs.name = "faulty";
    f->vfs.ctx = f;
    f->vfs.open = fv_open;
    f->vfs.remove = fv_remove;
    f->vfs.rename = fv_rename;
    f->vfs.sync_dir = fv_sync_dir;
}

int mpt_posix_remove(const struct mp_vfs *vfs, const char *path, int *os)
{
    (void)vfs;
    return mp_vfs_posix()->remove(mp_vfs_posix(), path, os);
}

int mpt_posix_rename(const struct mp_vfs *vfs, const char *from, const char *to,
                     int *os)
{
    (void)vfs;
    return mp_vfs_posix()->rename(mp_vfs_posix(), from, to, os);
}

int mpt_posix_sync_dir(const struct mp_vfs *vfs, const char *path, int *os)
{
    (void)vfs;
    return mp_vfs_posix()->sync_dir(mp_vfs_posix(), path, os);
}
