/*
 * shim_interpose.c - the libc names the shim exports. Each only unpacks
 * its arguments and hands over to shim_ops.c with the variant it is, so
 * the next definition of that very name is what finally runs.
 *
 * close and munmap are not interposed: tracking is keyed by the file's
 * identity (device and inode, checked with fstat at each call), and
 * msync finds the file behind an address in /proc/self/maps, so neither
 * a closed descriptor nor a dropped mapping leaves stale state behind.
 */
#undef _FORTIFY_SOURCE /* its inline open() would clash with ours */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "shim.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc declares these only under _FORTIFY_SOURCE. */
EXPORT int __open_2(const char *path, int flags);
EXPORT int __open64_2(const char *path, int flags);
EXPORT int __openat_2(int dirfd, const char *path, int flags);
EXPORT int __openat64_2(int dirfd, const char *path, int flags);

/* The mode argument exists only when the call can create a file. */
#define MODE_ARG(flags, mode)                                  \
 do {                                                          \
  if (((flags)&O_CREAT) || ((flags)&O_TMPFILE) == O_TMPFILE) { \
   va_list ap_;                                                \
   va_start(ap_, flags);                                       \
   (mode) = (mode_t)va_arg(ap_, int);                          \
   va_end(ap_);                                                \
  }                                                            \
 } while (0)

EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return faultfs_shim_do_open(FAULTFS_SHIM_OPEN, AT_FDCWD, path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return faultfs_shim_do_open(FAULTFS_SHIM_OPEN64, AT_FDCWD, path, flags,
                                mode);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return faultfs_shim_do_open(FAULTFS_SHIM_OPENAT, dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    MODE_ARG(flags, mode);
    return faultfs_shim_do_open(FAULTFS_SHIM_OPENAT64, dirfd, path, flags,
                                mode);
}

EXPORT int __open_2(const char *path, int flags)
{
    return faultfs_shim_do_open(FAULTFS_SHIM_OPEN_2, AT_FDCWD, path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags)
{
    return faultfs_shim_do_open(FAULTFS_SHIM_OPEN64_2, AT_FDCWD, path, flags,
                                0);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    return faultfs_shim_do_open(FAULTFS_SHIM_OPENAT_2, dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    return faultfs_shim_do_open(FAULTFS_SHIM_OPENAT64_2, dirfd, path, flags, 0);
}

EXPORT int creat(const char *path, mode_t mode)
{
    return faultfs_shim_do_open(FAULTFS_SHIM_CREAT, AT_FDCWD, path,
                                O_CREAT | O_WRONLY | O_TRUNC, mode);
}

EXPORT int creat64(const char *path, mode_t mode)
{
    return faultfs_shim_do_open(FAULTFS_SHIM_CREAT64, AT_FDCWD, path,
                                O_CREAT | O_WRONLY | O_TRUNC, mode);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off)
{
    return faultfs_shim_do_mmap(0, addr, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off)
{
    return faultfs_shim_do_mmap(1, addr, len, prot, flags, fd, off);
}

EXPORT int msync(void *addr, size_t len, int flags)
{
    return faultfs_shim_do_msync(addr, len, flags);
}

EXPORT int fsync(int fd)
{
    return faultfs_shim_do_fsync(FAULTFS_SHIM_FSYNC, fd);
}

EXPORT int fdatasync(int fd)
{
    return faultfs_shim_do_fsync(FAULTFS_SHIM_FDATASYNC, fd);
}

EXPORT int ftruncate(int fd, off_t len)
{
    return faultfs_shim_do_ftruncate(FAULTFS_SHIM_FTRUNCATE, fd, len);
}

EXPORT int ftruncate64(int fd, off_t len)
{
    return faultfs_shim_do_ftruncate(FAULTFS_SHIM_FTRUNCATE64, fd, len);
}

EXPORT int truncate(const char *path, off_t len)
{
    return faultfs_shim_do_truncate(FAULTFS_SHIM_TRUNCATE, path, len);
}

EXPORT int truncate64(const char *path, off_t len)
{
    return faultfs_shim_do_truncate(FAULTFS_SHIM_TRUNCATE64, path, len);
}

EXPORT int rename(const char *from, const char *to)
{
    return faultfs_shim_do_rename(FAULTFS_SHIM_RENAME, AT_FDCWD, from, AT_FDCWD,
                                  to, 0);
}

EXPORT int renameat(int odir, const char *from, int ndir, const char *to)
{
    return faultfs_shim_do_rename(FAULTFS_SHIM_RENAMEAT, odir, from, ndir, to,
                                  0);
}

EXPORT int renameat2(int odir, const char *from, int ndir, const char *to,
                     unsigned flags)
{
    return faultfs_shim_do_rename(FAULTFS_SHIM_RENAMEAT2, odir, from, ndir, to,
                                  flags);
}

EXPORT int unlink(const char *path)
{
    return faultfs_shim_do_unlink(FAULTFS_SHIM_UNLINK, AT_FDCWD, path, 0);
}

EXPORT int unlinkat(int dirfd, const char *path, int flags)
{
    return faultfs_shim_do_unlink(FAULTFS_SHIM_UNLINKAT, dirfd, path, flags);
}

EXPORT int remove(const char *path)
{
    return faultfs_shim_do_unlink(FAULTFS_SHIM_REMOVE, AT_FDCWD, path, 0);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    struct iovec v = { (void *)buf, n };
    return faultfs_shim_do_write(FAULTFS_SHIM_WRITE, fd, &v, 1, 0, 0);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    struct iovec v = { (void *)buf, n };
    return faultfs_shim_do_write(FAULTFS_SHIM_PWRITE, fd, &v, 1, off, 0);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    struct iovec v = { (void *)buf, n };
    return faultfs_shim_do_write(FAULTFS_SHIM_PWRITE64, fd, &v, 1, off, 0);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    return faultfs_shim_do_write(FAULTFS_SHIM_WRITEV, fd, iov, cnt, 0, 0);
}

EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    return faultfs_shim_do_write(FAULTFS_SHIM_PWRITEV, fd, iov, cnt, off, 0);
}

EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off)
{
    return faultfs_shim_do_write(FAULTFS_SHIM_PWRITEV64, fd, iov, cnt, off, 0);
}

EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off,
                        int flags)
{
    return faultfs_shim_do_write(FAULTFS_SHIM_PWRITEV2, fd, iov, cnt, off,
                                 flags);
}

EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off_t off,
                           int flags)
{
    return faultfs_shim_do_write(FAULTFS_SHIM_PWRITEV64V2, fd, iov, cnt, off,
                                 flags);
}

EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
    return faultfs_shim_do_fallocate(FAULTFS_SHIM_FALLOCATE, fd, mode, off,
                                     len);
}

EXPORT int fallocate64(int fd, int mode, off_t off, off_t len)
{
    return faultfs_shim_do_fallocate(FAULTFS_SHIM_FALLOCATE64, fd, mode, off,
                                     len);
}

EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
    return faultfs_shim_do_fallocate(FAULTFS_SHIM_POSIX_FALLOCATE, fd, 0, off,
                                     len);
}

EXPORT int posix_fallocate64(int fd, off_t off, off_t len)
{
    return faultfs_shim_do_fallocate(FAULTFS_SHIM_POSIX_FALLOCATE64, fd, 0, off,
                                     len);
}
