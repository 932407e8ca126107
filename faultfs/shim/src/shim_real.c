/*
 * shim_real.c - the definitions we interpose, as found after us in the
 * lookup order (dlsym RTLD_NEXT), and the shim's own raw system calls.
 *
 * Another library may call an interposer before our constructor has run
 * (or while dlsym itself allocates): a NULL pointer then means "go to the
 * kernel directly", which is always correct for these calls, merely
 * bypassing any other interposer further down the chain.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim.h"

struct faultfs_shim_real faultfs_shim_real;

/* ISO C has no cast from void * to a function pointer; copy the bits. */
#define RESOLVE(field, name)                             \
 do {                                                    \
  void *sym_ = dlsym(RTLD_NEXT, name);                   \
  memcpy(&faultfs_shim_real.field, &sym_, sizeof(sym_)); \
 } while (0)

void faultfs_shim_resolve(void)
{
    _Static_assert(sizeof(void *) == sizeof(faultfs_shim_real.open),
                   "function and data pointers differ in size");
    _Static_assert(sizeof(off_t) == 8, "the shim needs a 64-bit off_t");
    RESOLVE(open, "open");
    RESOLVE(open64, "open64");
    RESOLVE(openat, "openat");
    RESOLVE(openat64, "openat64");
    RESOLVE(open_2, "__open_2");
    RESOLVE(open64_2, "__open64_2");
    RESOLVE(openat_2, "__openat_2");
    RESOLVE(openat64_2, "__openat64_2");
    RESOLVE(creat, "creat");
    RESOLVE(creat64, "creat64");
    RESOLVE(mmap, "mmap");
    RESOLVE(mmap64, "mmap64");
    RESOLVE(msync, "msync");
    RESOLVE(fsync, "fsync");
    RESOLVE(fdatasync, "fdatasync");
    RESOLVE(ftruncate, "ftruncate");
    RESOLVE(ftruncate64, "ftruncate64");
    RESOLVE(truncate, "truncate");
    RESOLVE(truncate64, "truncate64");
    RESOLVE(rename, "rename");
    RESOLVE(renameat, "renameat");
    RESOLVE(renameat2, "renameat2");
    RESOLVE(unlink, "unlink");
    RESOLVE(unlinkat, "unlinkat");
    RESOLVE(remove, "remove");
    RESOLVE(write, "write");
    RESOLVE(pwrite, "pwrite");
    RESOLVE(pwrite64, "pwrite64");
    RESOLVE(writev, "writev");
    RESOLVE(pwritev, "pwritev");
    RESOLVE(pwritev64, "pwritev64");
    RESOLVE(pwritev2, "pwritev2");
    RESOLVE(pwritev64v2, "pwritev64v2");
    RESOLVE(fallocate, "fallocate");
    RESOLVE(fallocate64, "fallocate64");
    RESOLVE(posix_fallocate, "posix_fallocate");
    RESOLVE(posix_fallocate64, "posix_fallocate64");
}

int faultfs_shim_sys_open(const char *path, int flags, mode_t mode)
{
    return faultfs_shim_sys_openat(AT_FDCWD, path, flags, mode);
}

int faultfs_shim_sys_openat(int dirfd, const char *path, int flags, mode_t mode)
{
    return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

int faultfs_shim_sys_ftruncate(int fd, off_t len)
{
    return (int)syscall(SYS_ftruncate, fd, len);
}

int faultfs_shim_sys_fsync(int fd)
{
    return (int)syscall(SYS_fsync, fd);
}

int faultfs_shim_sys_fdatasync(int fd)
{
    return (int)syscall(SYS_fdatasync, fd);
}

int faultfs_shim_sys_truncate(const char *path, off_t len)
{
    return (int)syscall(SYS_truncate, path, len);
}

int faultfs_shim_sys_msync(void *addr, size_t len, int flags)
{
    return (int)syscall(SYS_msync, addr, len, flags);
}

void *faultfs_shim_sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
                            off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

int faultfs_shim_sys_unlinkat(int dirfd, const char *path, int flags)
{
    return (int)syscall(SYS_unlinkat, dirfd, path, flags);
}

int faultfs_shim_sys_renameat2(int odir, const char *from, int ndir,
                               const char *to, unsigned flags)
{
    return (int)syscall(SYS_renameat2, odir, from, ndir, to, flags);
}

ssize_t faultfs_shim_sys_pwritev2(int fd, const struct iovec *iov, int cnt,
                                  off_t off, int flags)
{
    /* The kernel takes the offset as two longs, low half first. */
    return (ssize_t)syscall(SYS_pwritev2, fd, iov, cnt, (long)off,
                            (long)((uint64_t)off >> 32), flags);
}

int faultfs_shim_sys_fallocate(int fd, int mode, off_t off, off_t len)
{
    return (int)syscall(SYS_fallocate, fd, mode, off, len);
}
