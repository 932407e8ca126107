/*
 * shim_ops.c - what each interposed call means to the crash model
 * (faultfs/shim/README.md, "The crash model"):
 *
 *  - open of a matching regular file starts tracking it: what the file
 *    holds then is taken as durable (a file the open creates starts empty
 *    and has no durable name until its directory is synced);
 *  - msync(MS_SYNC) makes the pages it covers durable, not the size;
 *  - fsync and fdatasync make the whole content and the size durable;
 *    on a directory they make earlier name changes durable;
 *  - ftruncate and truncate change the current size only;
 *  - rename and unlink change names, durable at the next directory sync;
 *  - writes and fallocate: shim_write.c.
 *
 * Crash points: before, during and after every msync, fsync and
 * fdatasync of a tracked file; before and after a directory sync that
 * makes a name change durable; after every ftruncate or truncate of a
 * tracked file. Syncs, truncations and renames run their real call under
 * the shim's lock, so point numbers follow one order even with threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define G faultfs_shim_g
#define R faultfs_shim_real

/* ---- the real calls, by variant ---- */

static int real_open(int which, int dirfd, const char *path, int flags,
                     mode_t mode)
{
    switch (which) {
    case FAULTFS_SHIM_OPEN:
        if (R.open) {
            return R.open(path, flags, mode);
        }
        break;
    case FAULTFS_SHIM_OPEN64:
        if (R.open64) {
            return R.open64(path, flags, mode);
        }
        break;
    case FAULTFS_SHIM_OPENAT:
        if (R.openat) {
            return R.openat(dirfd, path, flags, mode);
        }
        break;
    case FAULTFS_SHIM_OPENAT64:
        if (R.openat64) {
            return R.openat64(dirfd, path, flags, mode);
        }
        break;
    case FAULTFS_SHIM_OPEN_2:
        if (R.open_2) {
            return R.open_2(path, flags);
        }
        break;
    case FAULTFS_SHIM_OPEN64_2:
        if (R.open64_2) {
            return R.open64_2(path, flags);
        }
        break;
    case FAULTFS_SHIM_OPENAT_2:
        if (R.openat_2) {
            return R.openat_2(dirfd, path, flags);
        }
        break;
    case FAULTFS_SHIM_OPENAT64_2:
        if (R.openat64_2) {
            return R.openat64_2(dirfd, path, flags);
        }
        break;
    case FAULTFS_SHIM_CREAT:
        if (R.creat) {
            return R.creat(path, mode);
        }
        break;
    case FAULTFS_SHIM_CREAT64:
        if (R.creat64) {
            return R.creat64(path, mode);
        }
        break;
    }
    return faultfs_shim_sys_openat(dirfd, path, flags, mode);
}

static int real_fsync(int which, int fd)
{
    if (which == FAULTFS_SHIM_FDATASYNC) {
        return R.fdatasync ? R.fdatasync(fd) : faultfs_shim_sys_fdatasync(fd);
    }
    return R.fsync ? R.fsync(fd) : faultfs_shim_sys_fsync(fd);
}

static int real_ftruncate(int which, int fd, off_t len)
{
    if (which == FAULTFS_SHIM_FTRUNCATE64 && R.ftruncate64) {
        return R.ftruncate64(fd, len);
    }
    if (which == FAULTFS_SHIM_FTRUNCATE && R.ftruncate) {
        return R.ftruncate(fd, len);
    }
    return faultfs_shim_sys_ftruncate(fd, len);
}

static int real_truncate(int which, const char *path, off_t len)
{
    if (which == FAULTFS_SHIM_TRUNCATE64 && R.truncate64) {
        return R.truncate64(path, len);
    }
    if (which == FAULTFS_SHIM_TRUNCATE && R.truncate) {
        return R.truncate(path, len);
    }
    return faultfs_shim_sys_truncate(path, len);
}

static int real_msync(void *addr, size_t len, int flags)
{
    return R.msync ? R.msync(addr, len, flags)
                   : faultfs_shim_sys_msync(addr, len, flags);
}

static int real_rename(int which, int odir, const char *from, int ndir,
                       const char *to, unsigned flags)
{
    if (which == FAULTFS_SHIM_RENAME && R.rename) {
        return R.rename(from, to);
    }
    if (which == FAULTFS_SHIM_RENAMEAT && R.renameat) {
        return R.renameat(odir, from, ndir, to);
    }
    if (which == FAULTFS_SHIM_RENAMEAT2 && R.renameat2) {
        return R.renameat2(odir, from, ndir, to, flags);
    }
    return faultfs_shim_sys_renameat2(odir, from, ndir, to, flags);
}

static int real_unlink(int which, int dirfd, const char *path, int flags)
{
    if (which == FAULTFS_SHIM_UNLINK && R.unlink) {
        return R.unlink(path);
    }
    if (which == FAULTFS_SHIM_UNLINKAT && R.unlinkat) {
        return R.unlinkat(dirfd, path, flags);
    }
    if (which == FAULTFS_SHIM_REMOVE && R.remove) {
        return R.remove(path);
    }
    return faultfs_shim_sys_unlinkat(dirfd, path, flags);
}

/* ---- names ---- */

/*
 * The absolute, lexically normalised form of path (relative to dirfd):
 * "." and empty components dropped, ".." taken back. Symbolic links are
 * not resolved: FAULTFS_SHIM_MATCH sees the name the program used.
 */
static bool absolute(int dirfd, const char *path, char *out)
{
    char tmp[2 * FAULTFS_SHIM_PATH];
    size_t n = 0, len;
    const char *s;

    if (!path || !*path) {
        return false;
    }
    if (path[0] == '/') {
        tmp[0] = 0;
    } else if (dirfd == AT_FDCWD) {
        if (!getcwd(tmp, FAULTFS_SHIM_PATH)) {
            return false;
        }
    } else {
        char proc[64];
        struct faultfs_shim_buf b;
        ssize_t r;
        faultfs_shim_buf_init(&b, proc, sizeof(proc) - 1);
        faultfs_shim_buf_str(&b, "/proc/self/fd/");
        faultfs_shim_buf_u64(&b, (uint64_t)dirfd);
        proc[b.len] = 0;
        r = readlink(proc, tmp, FAULTFS_SHIM_PATH - 1);
        if (r <= 0) {
            return false;
        }
        tmp[r] = 0;
    }
    len = strlen(tmp);
    if (len + 1 + strlen(path) >= sizeof(tmp)) {
        return false;
    }
    tmp[len] = '/';
    strcpy(tmp + len + 1, path);
    for (s = tmp; *s;) {
        const char *e = strchr(s, '/');
        size_t c = e ? (size_t)(e - s) : strlen(s);
        if (c == 2 && s[0] == '.' && s[1] == '.') {
            while (n > 0 && out[--n] != '/') {
            }
        } else if (c > 0 && !(c == 1 && s[0] == '.')) {
            if (n + 1 + c >= FAULTFS_SHIM_PATH) {
                return false;
            }
            out[n++] = '/';
            memcpy(out + n, s, c);
            n += c;
        }
        s += c;
        if (*s == '/') {
            s++;
        }
    }
    if (n == 0) {
        out[n++] = '/';
    }
    out[n] = 0;
    return true;
}

/* The tracked file named by path (not following a final symlink). */
static int file_of_path(int dirfd, const char *path, struct stat *st)
{
    if (fstatat(dirfd, path, st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st->st_mode)) {
        return -1;
    }
    return faultfs_shim_file_of_id(st->st_dev, st->st_ino);
}

/* ---- open and mmap ---- */

int faultfs_shim_do_open(int which, int dirfd, const char *path, int flags,
                         mode_t mode)
{
    char abs[FAULTFS_SHIM_PATH];
    bool existed = true;
    int fd, e;

    if (!faultfs_shim_active() || (flags & O_PATH) || (flags & O_DIRECTORY) ||
        !absolute(dirfd, path, abs) || !faultfs_shim_match(G.cfg.match, abs)) {
        return real_open(which, dirfd, path, flags, mode);
    }
    if (flags & O_DIRECT) {
        faultfs_shim_say("not tracking ", abs,
                         ": O_DIRECT writes bypass the page cache the crash "
                         "model is about",
                         NULL);
        return real_open(which, dirfd, path, flags, mode);
    }
    if ((flags & O_CREAT) && !(flags & O_EXCL)) {
        struct stat st;
        existed = stat(abs, &st) == 0;
    }
    fd = real_open(which, dirfd, path, flags, mode);
    if (fd < 0) {
        return fd;
    }
    e = errno;
    faultfs_shim_enter();
    (void)faultfs_shim_track(
        fd, abs, (flags & O_CREAT) && ((flags & O_EXCL) || !existed));
    faultfs_shim_leave();
    errno = e;
    return fd;
}

void *faultfs_shim_do_mmap(int which, void *addr, size_t len, int prot,
                           int flags, int fd, off_t off)
{
    void *(*next)(void *, size_t, int, int, int, off_t) =
        which ? R.mmap64 : R.mmap;
    void *r = next ? next(addr, len, prot, flags, fd, off)
                   : faultfs_shim_sys_mmap(addr, len, prot, flags, fd, off);
    int e = errno, i;

    /* Anonymous and private maps (every allocator's) return here,
     * before the lock. */
    if (r == MAP_FAILED || fd < 0 || !(flags & MAP_SHARED) ||
        !faultfs_shim_active()) {
        return r;
    }
    faultfs_shim_enter();
    i = faultfs_shim_lookup_fd(fd);
    if (i >= 0) {
        faultfs_shim_learn_map(i, r);
    }
    faultfs_shim_leave();
    errno = e;
    return r;
}

/* ---- syncs ---- */

int faultfs_shim_do_msync(void *addr, size_t len, int flags)
{
    static struct faultfs_shim_seg segs[FAULTFS_SHIM_MAX_SEGS];
    struct faultfs_shim_point pt = { 0 };
    uintptr_t lo = (uintptr_t)addr / G.page * G.page;
    uintptr_t hi = ((uintptr_t)addr + len + G.page - 1) / G.page * G.page;
    int rc, e, n;

    /* MS_ASYNC starts nothing on Linux and promises nothing anywhere. */
    if (!faultfs_shim_active() || !(flags & MS_SYNC) || hi < lo) {
        return real_msync(addr, len, flags);
    }
    faultfs_shim_enter();
    n = faultfs_shim_segs_of(lo, hi, segs, FAULTFS_SHIM_MAX_SEGS);
    if (n == 0) {
        faultfs_shim_leave();
        return real_msync(addr, len, flags);
    }
    pt.call = "msync";
    pt.file = segs[0].file;
    pt.segs = segs;
    pt.nsegs = n;
    pt.when = "before";
    faultfs_shim_point(&pt);
    pt.when = "during";
    pt.in_flight = true;
    faultfs_shim_point(&pt);
    pt.in_flight = false;
    rc = real_msync(addr, len, flags);
    e = errno;
    if (rc == 0) {
        for (int i = 0; i < n; i++) {
            faultfs_shim_make_durable(segs[i].file, segs[i].lo, segs[i].hi);
        }
    }
    pt.when = "after";
    faultfs_shim_point(&pt);
    faultfs_shim_leave();
    errno = e;
    return rc;
}

static int dir_sync(int which, int fd)
{
    struct faultfs_shim_point pt = { 0 };
    int n = faultfs_shim_names_dirsync_covers(fd);
    char what[FAULTFS_SHIM_PATH + 64], name[FAULTFS_SHIM_PATH];
    struct faultfs_shim_buf b;
    int rc, e;

    if (n == 0) {
        return real_fsync(which, fd);
    }
    faultfs_shim_buf_init(&b, what, sizeof(what) - 1);
    faultfs_shim_buf_str(&b, "directory ");
    faultfs_shim_buf_str(&b, absolute(fd, ".", name) ? name : "?");
    faultfs_shim_buf_str(&b, " (");
    faultfs_shim_buf_u64(&b, (uint64_t)n);
    faultfs_shim_buf_str(&b, n == 1 ? " name change)" : " name changes)");
    what[b.len] = 0;
    pt.call = which == FAULTFS_SHIM_FDATASYNC ? "fdatasync" : "fsync";
    pt.file = -1;
    pt.what = what;
    pt.when = "before";
    faultfs_shim_point(&pt);
    rc = real_fsync(which, fd);
    e = errno;
    if (rc == 0) {
        faultfs_shim_names_commit(n);
    }
    pt.when = "after";
    faultfs_shim_point(&pt);
    errno = e;
    return rc;
}

int faultfs_shim_do_fsync(int which, int fd)
{
    struct faultfs_shim_point pt = { 0 };
    struct faultfs_shim_seg seg;
    uint64_t size;
    int i, rc, e;

    if (!faultfs_shim_active()) {
        return real_fsync(which, fd);
    }
    faultfs_shim_enter();
    i = faultfs_shim_lookup_fd(fd);
    if (i < 0) {
        rc = dir_sync(which, fd);
        e = errno;
        faultfs_shim_leave();
        errno = e;
        return rc;
    }
    size = faultfs_shim_cur_size(i);
    if (size < G.files[i].shadow_len) {
        size = G.files[i].shadow_len;
    }
    seg.file = i;
    seg.lo = 0;
    seg.hi = (size + G.page - 1) / G.page * G.page;
    pt.call = which == FAULTFS_SHIM_FDATASYNC ? "fdatasync" : "fsync";
    pt.file = i;
    pt.when = "before";
    faultfs_shim_point(&pt);
    pt.when = "during";
    pt.segs = &seg;
    pt.nsegs = 1;
    pt.in_flight = true;
    faultfs_shim_point(&pt);
    rc = real_fsync(which, fd);
    e = errno;
    if (rc == 0) {
        faultfs_shim_sync_file(i);
    }
    pt.when = "after";
    pt.segs = NULL;
    pt.nsegs = 0;
    pt.in_flight = false;
    faultfs_shim_point(&pt);
    faultfs_shim_leave();
    errno = e;
    return rc;
}

/* ---- size ---- */

static void size_point(int i, off_t len)
{
    struct faultfs_shim_point pt = { 0 };
    char what[40];
    struct faultfs_shim_buf b;

    faultfs_shim_buf_init(&b, what, sizeof(what) - 1);
    faultfs_shim_buf_str(&b, "to ");
    faultfs_shim_buf_u64(&b, (uint64_t)len);
    what[b.len] = 0;
    pt.call = "ftruncate";
    pt.file = i;
    pt.what = what;
    pt.when = "after";
    faultfs_shim_point(&pt);
}

int faultfs_shim_do_ftruncate(int which, int fd, off_t len)
{
    int i, rc, e;

    if (!faultfs_shim_active()) {
        return real_ftruncate(which, fd, len);
    }
    faultfs_shim_enter();
    i = faultfs_shim_lookup_fd(fd);
    rc = real_ftruncate(which, fd, len);
    e = errno;
    if (i >= 0) {
        size_point(i, len);
    }
    faultfs_shim_leave();
    errno = e;
    return rc;
}

int faultfs_shim_do_truncate(int which, const char *path, off_t len)
{
    struct stat st;
    int i, rc, e;

    if (!faultfs_shim_active()) {
        return real_truncate(which, path, len);
    }
    faultfs_shim_enter();
    i = stat(path, &st) == 0 ? faultfs_shim_file_of_id(st.st_dev, st.st_ino)
                             : -1;
    rc = real_truncate(which, path, len);
    e = errno;
    if (i >= 0) {
        size_point(i, len);
    }
    faultfs_shim_leave();
    errno = e;
    return rc;
}

/* ---- names ---- */

int faultfs_shim_do_rename(int which, int odir, const char *from, int ndir,
                           const char *to, unsigned flags)
{
    char afrom[FAULTFS_SHIM_PATH], ato[FAULTFS_SHIM_PATH];
    struct stat st;
    int file, victim, rc, e;

    if (!faultfs_shim_active() || !absolute(odir, from, afrom) ||
        !absolute(ndir, to, ato)) {
        return real_rename(which, odir, from, ndir, to, flags);
    }
    faultfs_shim_enter();
    file = file_of_path(odir, from, &st);
    victim = file_of_path(ndir, to, &st);
    if (victim == file) {
        victim = -1;
    }
    rc = real_rename(which, odir, from, ndir, to, flags);
    e = errno;
    if (rc == 0 && (flags & RENAME_EXCHANGE)) {
        /* Two renames: a crash between them is not possible in reality,
         * see the README's limits. */
        faultfs_shim_name_rename(file, -1, afrom, ato);
        faultfs_shim_name_rename(victim, -1, ato, afrom);
    } else if (rc == 0) {
        faultfs_shim_name_rename(file, victim, afrom, ato);
    }
    faultfs_shim_leave();
    errno = e;
    return rc;
}

int faultfs_shim_do_unlink(int which, int dirfd, const char *path, int flags)
{
    char abs[FAULTFS_SHIM_PATH];
    struct stat st;
    int file, rc, e;

    if (!faultfs_shim_active() || (flags & AT_REMOVEDIR) ||
        !absolute(dirfd, path, abs)) {
        return real_unlink(which, dirfd, path, flags);
    }
    faultfs_shim_enter();
    file = file_of_path(dirfd, path, &st);
    /* Another hard link going away leaves the tracked name alone. */
    if (file >= 0 && st.st_nlink > 1 &&
        strcmp(G.files[file].cur_name, abs) != 0) {
        file = -1;
    }
    rc = real_unlink(which, dirfd, path, flags);
    e = errno;
    if (rc == 0 && file >= 0) {
        faultfs_shim_name_unlink(file, abs);
    }
    faultfs_shim_leave();
    errno = e;
    return rc;
}
