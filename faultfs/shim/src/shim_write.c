/*
 * shim_write.c - what write(2) and its variants, and fallocate, mean to
 * the crash model (faultfs/shim/README.md, "The crash model"):
 *
 *  - a write to a tracked file puts its bytes in the page cache, the
 *    same cache a MAP_SHARED mapping of the file is: its pages become
 *    dirty (the model reads current content back from the file, so
 *    stores and writes to one page are one page). Volatile: a crash
 *    point right after it (also when it failed: the numbering must not
 *    depend on the disk), where each dirty page is old, new or torn;
 *  - a write through a descriptor opened with O_SYNC or O_DSYNC, or a
 *    pwritev2 with RWF_SYNC or RWF_DSYNC, is a write followed by a sync
 *    of the OS pages it touched (what Linux does: generic_write_sync on
 *    the range). Crash points before, during (the pages in flight in
 *    ascending order) and after it, like msync; afterwards those pages
 *    are durable and, if the write ended past the durable size, the
 *    current size is durable too (O_DSYNC keeps what is needed to read
 *    the data back);
 *  - fallocate and posix_fallocate may change the size (and content,
 *    for the hole-punching modes): the change is current, not durable;
 *    a crash point after each, like ftruncate.
 *
 * Why a point after every plain write: a program that never syncs
 * (LMDB with MDB_NOSYNC) must still be crashable between its commits;
 * a crash there may keep any subset of the unsynced pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define G faultfs_shim_g
#define R faultfs_shim_real

static const char *const names[] = {
    [FAULTFS_SHIM_WRITE] = "write",
    [FAULTFS_SHIM_PWRITE] = "pwrite",
    [FAULTFS_SHIM_PWRITE64] = "pwrite",
    [FAULTFS_SHIM_WRITEV] = "writev",
    [FAULTFS_SHIM_PWRITEV] = "pwritev",
    [FAULTFS_SHIM_PWRITEV64] = "pwritev",
    [FAULTFS_SHIM_PWRITEV2] = "pwritev2",
    [FAULTFS_SHIM_PWRITEV64V2] = "pwritev2",
    [FAULTFS_SHIM_FALLOCATE] = "fallocate",
    [FAULTFS_SHIM_FALLOCATE64] = "fallocate",
    [FAULTFS_SHIM_POSIX_FALLOCATE] = "posix_fallocate",
    [FAULTFS_SHIM_POSIX_FALLOCATE64] = "posix_fallocate",
};

static ssize_t real_write(int which, int fd, const struct iovec *iov, int cnt,
                          off_t off, int rwf)
{
    switch (which) {
    case FAULTFS_SHIM_WRITE:
        if (R.write) {
            return R.write(fd, iov[0].iov_base, iov[0].iov_len);
        }
        return faultfs_shim_sys_pwritev2(fd, iov, 1, -1, 0);
    case FAULTFS_SHIM_PWRITE:
    case FAULTFS_SHIM_PWRITE64:
        if (which == FAULTFS_SHIM_PWRITE ? R.pwrite : R.pwrite64) {
            return (which == FAULTFS_SHIM_PWRITE ? R.pwrite : R.pwrite64)(
                fd, iov[0].iov_base, iov[0].iov_len, off);
        }
        return faultfs_shim_sys_pwritev2(fd, iov, 1, off, 0);
    case FAULTFS_SHIM_WRITEV:
        if (R.writev) {
            return R.writev(fd, iov, cnt);
        }
        return faultfs_shim_sys_pwritev2(fd, iov, cnt, -1, 0);
    case FAULTFS_SHIM_PWRITEV:
        if (R.pwritev) {
            return R.pwritev(fd, iov, cnt, off);
        }
        break;
    case FAULTFS_SHIM_PWRITEV64:
        if (R.pwritev64) {
            return R.pwritev64(fd, iov, cnt, off);
        }
        break;
    case FAULTFS_SHIM_PWRITEV2:
        if (R.pwritev2) {
            return R.pwritev2(fd, iov, cnt, off, rwf);
        }
        break;
    case FAULTFS_SHIM_PWRITEV64V2:
        if (R.pwritev64v2) {
            return R.pwritev64v2(fd, iov, cnt, off, rwf);
        }
        break;
    }
    return faultfs_shim_sys_pwritev2(fd, iov, cnt, off, rwf);
}

/* Whether the call writes at an offset it is given (not the file's). */
static bool positional(int which, off_t off)
{
    switch (which) {
    case FAULTFS_SHIM_PWRITE:
    case FAULTFS_SHIM_PWRITE64:
    case FAULTFS_SHIM_PWRITEV:
    case FAULTFS_SHIM_PWRITEV64:
        return true;
    case FAULTFS_SHIM_PWRITEV2:
    case FAULTFS_SHIM_PWRITEV64V2:
        return off != -1;
    default:
        return false;
    }
}

static uint64_t round_down(uint64_t x)
{
    return x / G.page * G.page;
}

static uint64_t round_up(uint64_t x)
{
    return (x + G.page - 1) / G.page * G.page;
}

/* The point after a plain (volatile) write to tracked file i, labelled
 * with the bytes it wrote (n of them), or asked to write (total) when it
 * wrote none: a point even then, so the numbering does not depend on the
 * disk (a full one, say). */
static void after_plain_write(int which, int i, int fd, off_t off, ssize_t n,
                              uint64_t total)
{
    struct faultfs_shim_point pt = { 0 };
    struct faultfs_shim_seg seg;
    uint64_t len = n > 0 ? (uint64_t)n : total;
    off_t end;

    seg.file = i;
    if (positional(which, off)) {
        seg.lo = (uint64_t)off;
    } else {
        /* The file offset moved past what was written. */
        end = lseek(fd, 0, SEEK_CUR);
        end = end < 0 ? 0 : end;
        seg.lo = n > 0 && end >= n ? (uint64_t)(end - n) : (uint64_t)end;
    }
    seg.hi = seg.lo + len;
    pt.call = names[which];
    pt.file = i;
    pt.segs = &seg;
    pt.nsegs = 1;
    pt.when = "after";
    faultfs_shim_point(&pt);
}

/* A write through O_SYNC/O_DSYNC or with RWF_(D)SYNC: a write and a sync
 * of its pages. Called under the lock; file i is tracked. */
static ssize_t sync_write(int which, int i, int fd, int fl,
                          const struct iovec *iov, int cnt, off_t off, int rwf)
{
    struct faultfs_shim_point pt = { 0 };
    struct faultfs_shim_seg seg;
    struct faultfs_shim_file *f = &G.files[i];
    uint64_t total = 0, lo;
    ssize_t n;
    int e;

    for (int v = 0; v < cnt; v++) {
        total += iov[v].iov_len;
    }
    if (positional(which, off)) {
        lo = (uint64_t)off;
    } else if (fl & O_APPEND) {
        lo = faultfs_shim_cur_size(i);
    } else {
        off_t at = lseek(fd, 0, SEEK_CUR);
        lo = at > 0 ? (uint64_t)at : 0;
    }
    seg.file = i;
    seg.lo = round_down(lo);
    seg.hi = round_up(lo + total);
    pt.call = names[which];
    pt.file = i;
    pt.what =
        (rwf & RWF_SYNC) || (fl & O_SYNC) == O_SYNC ? "(sync)" : "(dsync)";
    pt.segs = &seg;
    pt.nsegs = 1;
    pt.when = "before";
    faultfs_shim_point(&pt);
    n = real_write(which, fd, iov, cnt, off, rwf);
    e = errno;
    /* The bytes are in the page cache now; the sync is what is in
     * flight. Numbered even when the write failed: the numbering must
     * not depend on the disk. */
    if (n > 0) {
        seg.hi = round_up(lo + (uint64_t)n);
    }
    pt.when = "during";
    pt.in_flight = true;
    faultfs_shim_point(&pt);
    pt.in_flight = false;
    if (n > 0) {
        uint64_t cur = faultfs_shim_cur_size(i);
        faultfs_shim_make_durable(i, seg.lo, seg.hi);
        if (lo + (uint64_t)n > f->dur_size) {
            f->dur_size = cur;
        }
    }
    pt.when = "after";
    faultfs_shim_point(&pt);
    errno = e;
    return n;
}

ssize_t faultfs_shim_do_write(int which, int fd, const struct iovec *iov,
                              int cnt, off_t off, int rwf)
{
    struct stat st;
    uint64_t total = 0;
    ssize_t n;
    int fl, e, i;

    /* Terminals, pipes and sockets (most writes) return here. */
    if (!faultfs_shim_active() || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return real_write(which, fd, iov, cnt, off, rwf);
    }
    fl = fcntl(fd, F_GETFL);
    if ((fl >= 0 && (fl & O_DSYNC)) || (rwf & (RWF_SYNC | RWF_DSYNC))) {
        faultfs_shim_enter();
        i = faultfs_shim_lookup_fd(fd);
        if (i >= 0) {
            n = sync_write(which, i, fd, fl < 0 ? 0 : fl, iov, cnt, off, rwf);
        } else {
            n = real_write(which, fd, iov, cnt, off, rwf);
        }
        e = errno;
        faultfs_shim_leave();
        errno = e;
        return n;
    }
    /* Looked up before the write: a file first seen here (opened by
     * fopen, say) is tracked with the content it had before it. */
    faultfs_shim_enter();
    i = faultfs_shim_lookup_fd(fd);
    faultfs_shim_leave();
    n = real_write(which, fd, iov, cnt, off, rwf);
    if (i < 0) {
        return n;
    }
    e = errno;
    for (int v = 0; v < cnt; v++) {
        total += iov[v].iov_len;
    }
    faultfs_shim_enter();
    after_plain_write(which, i, fd, off, n, total);
    faultfs_shim_leave();
    errno = e;
    return n;
}

int faultfs_shim_do_fallocate(int which, int fd, int mode, off_t off, off_t len)
{
    struct faultfs_shim_point pt = { 0 };
    struct faultfs_shim_seg seg;
    char what[32];
    struct faultfs_shim_buf b;
    int rc, e, i;
    bool posix = which == FAULTFS_SHIM_POSIX_FALLOCATE ||
                 which == FAULTFS_SHIM_POSIX_FALLOCATE64;

    bool on = faultfs_shim_active();

    i = -1;
    if (on) {
        faultfs_shim_enter();
        i = faultfs_shim_lookup_fd(fd);
    }
    if (which == FAULTFS_SHIM_FALLOCATE && R.fallocate) {
        rc = R.fallocate(fd, mode, off, len);
    } else if (which == FAULTFS_SHIM_FALLOCATE64 && R.fallocate64) {
        rc = R.fallocate64(fd, mode, off, len);
    } else if (which == FAULTFS_SHIM_POSIX_FALLOCATE && R.posix_fallocate) {
        rc = R.posix_fallocate(fd, off, len);
    } else if (which == FAULTFS_SHIM_POSIX_FALLOCATE64 && R.posix_fallocate64) {
        rc = R.posix_fallocate64(fd, off, len);
    } else {
        rc = faultfs_shim_sys_fallocate(fd, posix ? 0 : mode, off, len);
        if (posix) {
            rc = rc == 0 ? 0 : errno;
        }
    }
    e = errno;
    if (i >= 0) {
        /* A point even when the call failed: numbering must not depend
         * on the disk. */
        faultfs_shim_buf_init(&b, what, sizeof(what) - 1);
        faultfs_shim_buf_str(&b, "mode ");
        faultfs_shim_buf_u64(&b, posix ? 0 : (uint64_t)(unsigned)mode);
        what[b.len] = 0;
        seg.file = i;
        seg.lo = (uint64_t)off;
        seg.hi = (uint64_t)off + (uint64_t)len;
        pt.call = names[which];
        pt.file = i;
        pt.segs = &seg;
        pt.nsegs = 1;
        pt.what = what;
        pt.when = "after";
        faultfs_shim_point(&pt);
    }
    if (on) {
        faultfs_shim_leave();
    }
    errno = e;
    return rc;
}
