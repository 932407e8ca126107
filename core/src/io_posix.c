/*
 * io_posix.c - the production backend: POSIX files, mmap, msync, ftruncate,
 * fallocate, fsync and flock. The only file of the core that calls the OS.
 *
 * The mapping lives inside a reserved, inaccessible address range so that
 * growing the file maps more pages at the same address: pointers into pages
 * never move.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "mappedpages/io.h"

struct posix_file {
    struct mp_io_file base;
    int fd;
    int readonly;
    unsigned char *reserve; /* start of the reserved range, or NULL */
    uint64_t reserved;      /* bytes reserved */
    uint64_t mapped;        /* bytes of the file mapped at reserve */
    uint64_t os_syncs;      /* msync/fsync calls issued: see io.h */
    uint64_t size_seen;     /* the length the last fstat or grow saw */
    int whole;              /* the reservation is one map of the file */
};

static int fail(struct mp_io_file *f, int code)
{
    f->os_error = errno;
    return code;
}

static int errno_code(int e)
{
    switch (e) {
    case ENOENT:
        return MP_ENOENT;
    case EEXIST:
        return MP_EEXIST;
    case ENOSPC:
    case EDQUOT:
        return MP_ENOSPC;
    case EFBIG:
        return MP_ELIMIT;
    case ENOMEM:
        return MP_ENOMEM;
    case EWOULDBLOCK:
        return MP_ELOCKED;
    case EACCES:
    case EPERM:
        return MP_EACCES;
    case EROFS:
        return MP_EROFS;
    default:
        return MP_EIO;
    }
}

static long os_page(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? ps : 4096;
}

static int px_unmap(struct mp_io_file *file)
{
    struct posix_file *f = (struct posix_file *)file;
    if (f->reserve) {
        munmap(f->reserve, f->reserved);
        f->reserve = NULL;
        f->reserved = 0;
        f->mapped = 0;
        f->whole = 0;
    }
    return MP_OK;
}

static int px_close(struct mp_io_file *file)
{
    struct posix_file *f = (struct posix_file *)file;
    int rc = MP_OK;
    px_unmap(file);
    if (close(f->fd) != 0) {
        rc = MP_EIO;
    }
    free(f);
    return rc;
}

static int px_lock(struct mp_io_file *file, int mode)
{
    struct posix_file *f = (struct posix_file *)file;
    int op = mode == MP_IO_LOCK_EXCLUSIVE ? LOCK_EX
             : mode == MP_IO_LOCK_SHARED  ? LOCK_SH
                                          : LOCK_UN;
    int rc;
    do {
        rc = flock(f->fd, op | (op == LOCK_UN ? 0 : LOCK_NB));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        return fail(file, errno == EWOULDBLOCK ? MP_ELOCKED : MP_EIO);
    }
    return MP_OK;
}

static int px_size(struct mp_io_file *file, uint64_t *bytes)
{
    struct posix_file *f = (struct posix_file *)file;
    struct stat st;
    if (fstat(f->fd, &st) != 0) {
        return fail(file, MP_EIO);
    }
    *bytes = f->size_seen = (uint64_t)st.st_size;
    return MP_OK;
}

static int px_grow(struct mp_io_file *file, uint64_t new_size)
{
    struct posix_file *f = (struct posix_file *)file;
    uint64_t cur;
    int rc = px_size(file, &cur);
    if (rc != MP_OK) {
        return rc;
    }
    if (new_size < cur) {
        return MP_EINVAL;
    }
    if (new_size == cur) {
        return MP_OK;
    }
    if ((off_t)new_size < 0) {
        return MP_ELIMIT;
    }
    if (ftruncate(f->fd, (off_t)new_size) != 0) {
        return fail(file, errno_code(errno));
    }
    f->size_seen = new_size;
    return MP_OK;
}

static int prot_of(const struct posix_file *f)
{
    return f->readonly ? PROT_READ : PROT_READ | PROT_WRITE;
}

/*
 * Where to ask for a large reservation. munmap (and the page-table freeing
 * after it) steps through every entry of each page table that exists under
 * the range: a 1 TiB range the kernel places top-down ends in the 512 GiB
 * slot (top-level entry) of the libraries and starts in one the file's
 * pages populate, about 1,500 entries on every close, a fifth of an
 * open+close of a small file on tmpfs. Placed so that the file's first
 * pages end at a slot boundary, the rest of the range lies in slots nothing
 * else uses and each walk is a few entries. The slot is found below the
 * stack (the top of the address space), past the spread of mmap's
 * randomisation (1 TiB on x86-64). Only a hint: if the range is taken (a
 * second pager), the kernel places the reservation as it would have.
 */
static void *reserve_hint(uint64_t want, uint64_t map_bytes, uint64_t ps)
{
    const uint64_t slot = (uint64_t)1 << 39;
    uint64_t top = (uint64_t)(uintptr_t)&want & ~(slot - 1);
    uint64_t lead = (map_bytes + ps - 1) / ps * ps, span;

    if (sizeof(void *) < 8 || want < ((uint64_t)1 << 30) || want > top / 2) {
        return NULL; /* small: little to walk; or no room below */
    }
    span = (want + slot - 1) / slot * slot + 4 * slot;
    if (span + lead >= top) {
        return NULL;
    }
    /* [top - span - lead, ... + want) ends 4 slots below the stack's. */
    return (void *)(uintptr_t)(top - span - lead);
}

/*
 * Two ways to reserve. Preferred: one shared map of the file over the whole
 * reservation. Pages past the end of the file are then in the mapping but
 * unusable (SIGBUS) until the file grows over them, so a growth needs no
 * further mmap, and an open costs one mmap instead of two (the second split
 * the first in two). Where the file system refuses a map that long
 * (EOVERFLOW past its largest file) or the system refuses one that large,
 * the other way: an inaccessible anonymous range with the file mapped over
 * its start, extended by extend_map().
 */
static int px_map(struct mp_io_file *file, uint64_t reserve_bytes,
                  uint64_t map_bytes, void **base, uint64_t *reserved)
{
    struct posix_file *f = (struct posix_file *)file;
    uint64_t size = f->size_seen, want, ps = (uint64_t)os_page();
    void *r = MAP_FAILED;
    int rc;

    if (f->reserve || map_bytes == 0) {
        return MP_EINVAL;
    }
    /* The length the caller just asked size() for needs no second fstat;
     * a file that shrank under a locked pager is beyond any promise. */
    if (map_bytes > size) {
        rc = px_size(file, &size);
        if (rc != MP_OK) {
            return rc;
        }
        if (map_bytes > size) {
            return MP_EINVAL;
        }
    }
    want = reserve_bytes < map_bytes ? map_bytes : reserve_bytes;
    if ((off_t)want >= 0) {
        r = mmap(reserve_hint(want, map_bytes, ps), want, prot_of(f),
                 MAP_SHARED | MAP_NORESERVE, f->fd, 0);
    }
    f->whole = r != MAP_FAILED;
    /*
     * Some environments (valgrind, small RLIMIT_AS) refuse a large
     * reservation: take what we can get, but never less than the file.
     */
    while (r == MAP_FAILED) {
        r = mmap(reserve_hint(want, map_bytes, ps), want, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r != MAP_FAILED || want <= map_bytes) {
            break;
        }
        want /= 2;
        if (want < map_bytes) {
            want = map_bytes;
        }
    }
    if (r == MAP_FAILED) {
        return fail(file, MP_ENOMEM);
    }
    if (!f->whole && mmap(r, map_bytes, prot_of(f), MAP_SHARED | MAP_FIXED,
                          f->fd, 0) == MAP_FAILED) {
        int e = errno;
        munmap(r, want);
        errno = e;
        return fail(file, MP_ENOMEM);
    }
    f->reserve = r;
    f->reserved = want;
    f->mapped = map_bytes;
    *base = r;
    *reserved = want;
    return MP_OK;
}

static int px_extend_map(struct mp_io_file *file, uint64_t new_map_bytes)
{
    struct posix_file *f = (struct posix_file *)file;
    uint64_t size, start;
    long ps = os_page();
    int rc;

    if (!f->reserve) {
        return MP_EINVAL;
    }
    if (new_map_bytes <= f->mapped) {
        return MP_OK;
    }
    if (new_map_bytes > f->reserved) {
        return MP_ELIMIT;
    }
    rc = px_size(file, &size);
    if (rc != MP_OK) {
        return rc;
    }
    if (new_map_bytes > size) {
        return MP_EINVAL;
    }
    if (f->whole) {
        f->mapped = new_map_bytes; /* mapped already, usable since grown */
        return MP_OK;
    }
    /* Map from the OS page holding the old end; offsets must be aligned. */
    start = f->mapped - f->mapped % (uint64_t)ps;
    if (mmap(f->reserve + start, new_map_bytes - start, prot_of(f),
             MAP_SHARED | MAP_FIXED, f->fd, (off_t)start) == MAP_FAILED) {
        return fail(file, MP_ENOMEM);
    }
    f->mapped = new_map_bytes;
    return MP_OK;
}

/*
 * One barrier is one msync spanning every range: on ext4 each msync(MS_SYNC)
 * is a journal commit and a device flush, so one call per range multiplied
 * the flushes of a commit. The dirty pages between the ranges belong to the
 * caller, who may have them written early (io.h says so); writeback skips
 * the clean ones, so a wide span with few dirty pages costs little.
 */
static int px_sync(struct mp_io_file *file, const struct mp_io_range *ranges,
                   size_t count)
{
    struct posix_file *f = (struct posix_file *)file;
    uint64_t ps = (uint64_t)os_page();
    uint64_t lo = UINT64_MAX, hi = 0;

    if (!f->reserve) {
        return MP_EINVAL;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t a = ranges[i].offset - ranges[i].offset % ps;
        uint64_t e = ranges[i].offset + ranges[i].length;
        if (ranges[i].length == 0) {
            continue;
        }
        lo = a < lo ? a : lo;
        hi = e > hi ? e : hi;
    }
    if (hi > f->mapped) {
        hi = f->mapped;
    }
    if (hi > lo) {
        f->os_syncs++;
        if (msync(f->reserve + lo, hi - lo, MS_SYNC) != 0) {
            return fail(file, MP_EIO);
        }
    }
    return MP_OK;
}

static int px_sync_file(struct mp_io_file *file)
{
    struct posix_file *f = (struct posix_file *)file;
    f->os_syncs++;
    if (fsync(f->fd) != 0) {
        return fail(file, MP_EIO);
    }
    return MP_OK;
}

/*
 * Without fallocate: write zeros into the holes of [lo, hi) only. A hole
 * reads as zeros, so writing zeros there changes no byte anyone can see,
 * while a block in use (a page handed out, a live node) is never touched.
 */
static int zero_holes(struct posix_file *f, uint64_t lo, uint64_t hi)
{
    static const char zeros[4096];
    uint64_t at = lo;
    while (at < hi) {
        off_t h = lseek(f->fd, (off_t)at, SEEK_HOLE);
        off_t d;
        if (h < 0) {
            /* No SEEK_HOLE here (or past the end): nothing to fill. */
            return errno == EINVAL || errno == ENXIO
                       ? MP_OK
                       : fail(&f->base, errno_code(errno));
        }
        if ((uint64_t)h >= hi) {
            return MP_OK;
        }
        d = lseek(f->fd, h, SEEK_DATA);
        if (d < 0 && errno != ENXIO) {
            return fail(&f->base, errno_code(errno));
        }
        at = d < 0 || (uint64_t)d > hi ? hi : (uint64_t)d;
        for (uint64_t o = (uint64_t)h; o < at;) {
            size_t n =
                at - o < sizeof(zeros) ? (size_t)(at - o) : sizeof(zeros);
            ssize_t w = pwrite(f->fd, zeros, n, (off_t)o);
            if (w < 0 && errno == EINTR) {
                continue;
            }
            if (w <= 0) {
                return fail(&f->base, w < 0 ? errno_code(errno) : MP_EIO);
            }
            o += (uint64_t)w;
        }
    }
    return MP_OK;
}

static int px_reserve(struct mp_io_file *file, uint64_t offset, uint64_t length)
{
    struct posix_file *f = (struct posix_file *)file;
    uint64_t size;
    int rc = px_size(file, &size);
    if (rc != MP_OK) {
        return rc;
    }
    if (length == 0 || offset > size || length > size - offset) {
        return MP_EINVAL;
    }
    /* Mode 0 inside the length: blocks, never a new length. */
    do {
        rc = fallocate(f->fd, 0, (off_t)offset, (off_t)length);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) {
        return MP_OK;
    }
    if (errno == EOPNOTSUPP || errno == ENOSYS) {
        return zero_holes(f, offset, offset + length);
    }
    return fail(file, errno_code(errno));
}

/* Filesystem magic numbers (linux/magic.h) of memory-only file systems. */
#define TMPFS_MAGIC_ 0x01021994L
#define RAMFS_MAGIC_ 0x858458f6L

/* Appends the decimal digits of v at p; returns the end. */
static char *put_dec(char *p, unsigned v)
{
    char tmp[12];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0) {
        *p++ = tmp[--n];
    }
    return p;
}

/*
 * A power of two read from /sys/dev/block/MAJ:MIN/<rel>, or 0. Plain
 * open/read and hand-made paths: this runs on every open, and stdio's
 * fopen/fscanf/snprintf were most of an open's instructions.
 */
static uint32_t sysfs_size(unsigned maj, unsigned min, const char *rel)
{
    static const char dir[] = "/sys/dev/block/";
    char path[128], buf[24], *p = path;
    unsigned long v = 0;
    ssize_t n;
    int fd;

    if (strlen(rel) > sizeof(path) - sizeof(dir) - 24) {
        return 0;
    }
    memcpy(p, dir, sizeof(dir) - 1);
    p = put_dec(p + sizeof(dir) - 1, maj);
    *p++ = ':';
    p = put_dec(p, min);
    *p++ = '/';
    strcpy(p, rel);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++) {
        v = v * 10 + (unsigned long)(buf[i] - '0');
        if (v > (1ul << 24)) {
            return 0;
        }
    }
    if (v == 0 || (v & (v - 1))) {
        return 0;
    }
    return (uint32_t)v;
}

/*
 * The power-fail unit (io.h, mp_vfs_posix): msync writes back whole OS
 * pages, and a drive rewrites whole physical sectors (a 512e drive
 * read-modify-writes 4 KiB), so the unit is the largest of the two. The
 * physical sector is never smaller than the logical one, so the logical
 * size is only a fallback. A partition's queue/ lives in its disk's
 * directory, one level up.
 */
static int px_device(struct mp_io_file *file, struct mp_io_device *out)
{
    struct posix_file *f = (struct posix_file *)file;
    uint32_t unit = (uint32_t)os_page(), dev = 0;
    struct statfs sfs;
    struct stat st;

    out->flags = 0;
    if (fstatfs(f->fd, &sfs) == 0 && ((long)sfs.f_type == TMPFS_MAGIC_ ||
                                      (long)sfs.f_type == RAMFS_MAGIC_)) {
        /* Memory only: power loss takes the whole file, a process crash
         * tears nothing (the page cache survives it). */
        out->sector_size = unit;
        out->flags = MP_IO_DEV_POWERSAFE;
        return MP_OK;
    }
    if (fstat(f->fd, &st) == 0) {
        unsigned maj = major(st.st_dev), min = minor(st.st_dev);
        static const char *const rel[] = { "queue/physical_block_size",
                                           "../queue/physical_block_size",
                                           "queue/logical_block_size",
                                           "../queue/logical_block_size" };
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]) && dev == 0; i++) {
            dev = sysfs_size(maj, min, rel[i]);
        }
    }
    if (dev == 0) {
        dev = 4096; /* unknown device: the common large sector */
    }
    out->sector_size = dev > unit ? dev : unit;
    return MP_OK;
}

static const struct mp_io_methods posix_methods = {
    .version = 2,
    .close = px_close,
    .lock = px_lock,
    .size = px_size,
    .grow = px_grow,
    .map = px_map,
    .extend_map = px_extend_map,
    .sync = px_sync,
    .sync_file = px_sync_file,
    .unmap = px_unmap,
    .reserve = px_reserve,
    .device = px_device,
};

uint64_t mp_io_posix_os_syncs(const struct mp_io_file *file)
{
    if (!file || file->methods != &posix_methods) {
        return 0;
    }
    return ((const struct posix_file *)file)->os_syncs;
}

static void set_os(int *os_error)
{
    if (os_error) {
        *os_error = errno;
    }
}

static int px_open(const struct mp_vfs *vfs, const char *path, unsigned flags,
                   struct mp_io_file **out, int *os_error)
{
    struct posix_file *f;
    int oflags = O_CLOEXEC;
    int fd;

    (void)vfs;
    *out = NULL;
    if (flags & MP_IO_READONLY) {
        oflags |= O_RDONLY;
    } else {
        oflags |= O_RDWR;
    }
    if (flags & MP_IO_CREATE) {
        oflags |= O_CREAT | O_EXCL;
    }
    do {
        fd = open(path, oflags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        set_os(os_error);
        return errno_code(errno);
    }
    f = calloc(1, sizeof(*f));
    if (!f) {
        close(fd);
        return MP_ENOMEM;
    }
    f->base.methods = &posix_methods;
    f->fd = fd;
    f->readonly = (flags & MP_IO_READONLY) != 0;
    *out = &f->base;
    return MP_OK;
}

static int px_remove(const struct mp_vfs *vfs, const char *path, int *os_error)
{
    (void)vfs;
    if (unlink(path) != 0) {
        set_os(os_error);
        return errno_code(errno);
    }
    return MP_OK;
}

static int px_rename(const struct mp_vfs *vfs, const char *from, const char *to,
                     int *os_error)
{
    (void)vfs;
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
        return MP_OK;
    }
    if (errno != EINVAL && errno != ENOSYS) {
        set_os(os_error);
        return errno_code(errno);
    }
    /* Filesystems without RENAME_NOREPLACE: link() refuses to replace. */
    if (link(from, to) != 0) {
        set_os(os_error);
        return errno_code(errno);
    }
    if (unlink(from) != 0) {
        set_os(os_error);
        return MP_EIO;
    }
    return MP_OK;
}

static int px_sync_dir(const struct mp_vfs *vfs, const char *path,
                       int *os_error)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    int fd, rc = MP_OK;

    (void)vfs;
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof(dir)) {
            return MP_EINVAL;
        }
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        set_os(os_error);
        return errno_code(errno);
    }
    if (fsync(fd) != 0 && errno != EINVAL) {
        set_os(os_error);
        rc = MP_EIO;
    }
    close(fd);
    return rc;
}

static const struct mp_vfs posix_vfs = {
    .version = 1,
    .name = "posix",
    .ctx = NULL,
    .open = px_open,
    .remove = px_remove,
    .rename = px_rename,
    .sync_dir = px_sync_dir,
};

const struct mp_vfs *mp_vfs_posix(void)
{
    return &posix_vfs;
}
