/*
 * mappedpages/io.h - the I/O seam: the contract between the pager and a
 * storage backend.
 *
 * The pager reaches the operating system only through these two tables, in
 * the manner of sqlite3_vfs / sqlite3_io_methods. A backend "subclasses"
 * struct mp_io_file by making it the first member of its own file object.
 * The backend owns the mapping: the pager stores into memory the backend
 * handed out, and tells it which byte ranges must become durable. That is
 * how a fault-injecting backend (faultfs) sees every store without
 * intercepting it.
 *
 * Two backends ship: mp_vfs_posix() (open, mmap, msync, ftruncate,
 * fallocate, fsync, flock) and faultfs (faultfs/include/faultfs.h). A backend
 * is chosen per pager through struct mp_options; there is no process-wide
 * default to replace.
 *
 * Every method returns MP_OK or a negative MP_E* code. Where the failure
 * came from the OS, the backend also stores the errno value in
 * mp_io_file.os_error (or in *os_error for the vfs calls) so the pager can
 * report it; the errno never travels in the return value.
 *
 * Thread rules: the pager calls a file's methods from one thread at a time.
 * A vfs may be used by several pagers at once and must be safe for that.
 */
#ifndef MAPPEDPAGES_IO_H
#define MAPPEDPAGES_IO_H

#include <stddef.h>
#include <stdint.h>

#include "mappedpages/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Version of struct mp_io_methods and struct mp_vfs described here. */
#define MP_IO_VERSION 2

/** A byte range of the file: [offset, offset + length). */
struct mp_io_range {
    uint64_t offset;
    uint64_t length;
};

/** Flags for mp_vfs.open. */
enum mp_io_open_flags {
    /** Create the file; fail with MP_EEXIST if it exists (O_CREAT|O_EXCL). */
    MP_IO_CREATE = 1 << 0,
    /** Open for reading only; map() will then map read-only. */
    MP_IO_READONLY = 1 << 1,
};

/** Lock modes for mp_io_methods.lock. */
enum mp_io_lock_mode {
    MP_IO_UNLOCK = 0,
    MP_IO_LOCK_SHARED = 1,
    MP_IO_LOCK_EXCLUSIVE = 2,
};

/**
 * What a backend knows of the device under a file (mp_io_methods.device),
 * in the manner of SQLite's xSectorSize and xDeviceCharacteristics.
 */
struct mp_io_device {
    /**
     * The power-fail unit in bytes, a power of two: when power fails while
     * a write is in flight, the bytes of every unit the write touches may
     * be old, new or (unless MP_IO_DEV_POWERSAFE) garbage; other units
     * keep their bytes.
     */
    uint32_t sector_size;
    /** enum mp_io_device_flags. */
    uint32_t flags;
};

/** Flags of struct mp_io_device. */
enum mp_io_device_flags {
    /**
     * Power-safe overwrite (SQLite's SQLITE_IOCAP_POWERSAFE_OVERWRITE): a
     * unit in flight never damages bytes that the write did not change;
     * each changed unit is old or new as a whole.
     */
    MP_IO_DEV_POWERSAFE = 1 << 0,
};

struct mp_io_methods;

/** An open file. Backends append their own fields after this one. */
struct mp_io_file {
    const struct mp_io_methods *methods;
    /** errno of the last failed OS call, or 0. Written by the backend. */
    int os_error;
};

/**
 * The file methods. Fields marked "valid from version N" exist only when
 * version >= N. All version-1 methods are mandatory.
 */
struct mp_io_methods {
    int version;

    /* Valid from version 1. */

    /**
     * Unmap (if mapped), unlock and close; free the file object. Always
     * frees, even when it returns an error (MP_EIO from close(2)).
     */
    int (*close)(struct mp_io_file *file);

    /**
     * Take, convert or drop an advisory whole-file lock without blocking.
     * Returns MP_ELOCKED if another holder conflicts, MP_EIO otherwise.
     */
    int (*lock)(struct mp_io_file *file, int mode);

    /** Current file length in bytes. MP_EIO on failure. */
    int (*size)(struct mp_io_file *file, uint64_t *bytes);

    /**
     * Extend the file to new_size bytes (sparse, reads as zeros). Never
     * shrinks: new_size below the current size is MP_EINVAL. The new size is
     * not durable until sync_file() returns MP_OK. MP_ENOSPC when the device
     * is full, MP_EIO otherwise.
     */
    int (*grow)(struct mp_io_file *file, uint64_t new_size);

    /**
     * Reserve reserve_bytes of address space and map the file's first
     * map_bytes into its start; *base receives the start. Later extend_map()
     * calls map more of the file at the same address, so pointers into the
     * mapping stay valid until unmap() or close(). If the reservation cannot
     * be had the backend may reserve less, but at least map_bytes; the
     * amount obtained is returned in *reserved. The mapping is read-only when
     * the file was opened MP_IO_READONLY. MP_ENOMEM when address space or
     * memory is short, MP_EINVAL if already mapped or map_bytes exceeds the
     * file length.
     */
    int (*map)(struct mp_io_file *file, uint64_t reserve_bytes,
               uint64_t map_bytes, void **base, uint64_t *reserved);

    /**
     * Extend the mapping to the file's first new_map_bytes, in place.
     * MP_ELIMIT when that exceeds the reservation, MP_ENOMEM when the kernel
     * refuses, MP_EINVAL when new_map_bytes exceeds the file length.
     */
    int (*extend_map)(struct mp_io_file *file, uint64_t new_map_bytes);

    /**
     * Make the given ranges of the mapping durable (msync MS_SYNC). One call
     * is one ordering barrier: when it returns MP_OK every byte stored in the
     * ranges before the call is durable. Ranges need not be sorted or
     * page-aligned. On MP_EIO any part of the ranges, all or none, may have
     * become durable.
     *
     * Other bytes of the file may become durable too, earlier than the
     * pager asked: the posix backend issues one msync per call, spanning
     * from the first range to the last, so data the application stored
     * between them (and not yet synced) may be written with them. Nothing
     * but the ranges is promised durable.
     */
    int (*sync)(struct mp_io_file *file, const struct mp_io_range *ranges,
                size_t count);

    /**
     * Make the file's data and length durable (fsync). MP_EIO on failure.
     */
    int (*sync_file)(struct mp_io_file *file);

    /** Drop the mapping (no implicit sync). Safe when nothing is mapped. */
    int (*unmap)(struct mp_io_file *file);

    /* Valid from version 2. */

    /**
     * Give the byte range [offset, offset + length) of the file disk
     * blocks, so that later stores into that part of the mapping cannot
     * fail for want of space (on a full device an mmap store into a hole
     * is SIGBUS, not an error). The range lies inside the file's current
     * length (grow() first); reserve never changes the length nor the bytes
     * already in the range: reading them before and after gives the same
     * bytes. Reserving a range that already has blocks is cheap and
     * allowed. MP_ENOSPC when the device cannot hold the range (part of it
     * may then have blocks), MP_EINVAL when the range is empty or passes
     * the file's length, MP_EIO otherwise.
     *
     * The pager reserves every page before it stores into it or hands it
     * to the caller, so a full device shows as MP_ENOSPC from the call that
     * needs the space. With a version-1 backend (or a NULL reserve) the
     * pager skips reservation: stores into pages the device cannot hold
     * then fault as they would without it.
     */
    int (*reserve)(struct mp_io_file *file, uint64_t offset, uint64_t length);

    /**
     * Describe the device the file lives on (struct mp_io_device). A
     * backend that cannot tell answers with a safe default (a large unit,
     * not power-safe) rather than failing; MP_EIO only if the file itself
     * cannot be asked. The pager asks once per create or open. A version-1
     * backend has no such method: the pager then assumes
     * { 512, 0 }, the unit format 1 was designed for (FORMAT.md 2.3).
     */
    int (*device)(struct mp_io_file *file, struct mp_io_device *out);
};

/** A backend: how files are opened and named. */
struct mp_vfs {
    int version;
    /** A short name for messages ("posix", "faultfs"). */
    const char *name;
    /** Backend state; the pager never looks inside. */
    void *ctx;

    /* Valid from version 1. */

    /**
     * Open (or with MP_IO_CREATE, create exclusively) the file at path.
     * On success *out owns the file until close(). MP_ENOENT, MP_EEXIST,
     * MP_EACCES (EACCES/EPERM: no permission), MP_EROFS (read-only file
     * system), MP_EIO. The pager passes these codes on unchanged.
     */
    int (*open)(const struct mp_vfs *vfs, const char *path, unsigned flags,
                struct mp_io_file **out, int *os_error);

    /** Remove a name. MP_ENOENT if absent, MP_EIO otherwise. */
    int (*remove)(const struct mp_vfs *vfs, const char *path, int *os_error);

    /**
     * Rename from to to, atomically, failing with MP_EEXIST if to exists.
     * Not durable until sync_dir(to).
     */
    int (*rename)(const struct mp_vfs *vfs, const char *from, const char *to,
                  int *os_error);

    /**
     * Make the directory entry of path durable (fsync of its directory).
     */
    int (*sync_dir)(const struct mp_vfs *vfs, const char *path, int *os_error);
};

/**
 * The production backend: POSIX files, mmap, msync(MS_SYNC), ftruncate,
 * fallocate, fsync and flock. Returns a static object; never NULL;
 * thread-safe.
 *
 * Its map() reserves with one shared mapping of the file as long as the
 * reservation (bytes past the file's end are then mapped but unusable,
 * SIGBUS, until the file grows over them; extend_map() needs no further
 * mmap); where that is refused (a file system whose files cannot be that
 * long, a small RLIMIT_AS), with an inaccessible anonymous range the file
 * is mapped over, halved until the system grants it. A reservation of
 * 1 GiB or more is asked for at an address where unmapping it is cheap
 * (the file's first map_bytes end at a 512 GiB boundary, 2 TiB or more
 * below the stack): a hint the system passes over if the range is taken.
 *
 * Its reserve() is fallocate(2) mode 0 (blocks inside the length, which
 * stays as it is). Where the file system has no fallocate (EOPNOTSUPP),
 * it finds the holes of the range with lseek(SEEK_HOLE/SEEK_DATA) and
 * writes zeros into them with pwrite(2): only bytes that read as zeros
 * are written, so pages in use keep their content. A file system that
 * reports no holes (no SEEK_HOLE support) is taken as fully backed.
 *
 * Its device method reports: on tmpfs and ramfs (contents that do not
 * survive power loss, so nothing can be torn by it) the OS page size,
 * power-safe; elsewhere the largest of the OS page size (msync writes
 * whole OS pages back), the block device's logical_block_size and its
 * physical_block_size (read from /sys/dev/block/MAJ:MIN/), not power-safe;
 * and when the block device cannot be found, the larger of 4096 and the OS
 * page size, not power-safe.
 */
MP_API const struct mp_vfs *mp_vfs_posix(void);

/**
 * How many OS-level sync calls (msync, fsync, fdatasync) the posix backend
 * has issued for `file` since it was opened, failed ones included: each
 * sync() barrier with a non-empty range issues one, each sync_file() one.
 * For benchmarks and tests, which see what a commit costs the OS beside
 * what it asks of the seam (struct mp_pager_stats). 0 for NULL or a file
 * of another backend. Reads a counter the file's methods write: call it
 * from the thread that uses the file. Never fails.
 */
MP_API uint64_t mp_io_posix_os_syncs(const struct mp_io_file *file);

#ifdef __cplusplus
}
#endif
#endif /* MAPPEDPAGES_IO_H */
