/*
 * bench_vfs.h - a pass-through vfs that measures the time spent in the
 * backend's sync calls, so the benchmark can report the CPU cost of a
 * commit with the syncs themselves taken out, and counts both the seam's
 * barriers and the OS sync calls the posix backend issued for them
 * (mp_io_posix_os_syncs).
 */
#ifndef MPH_BENCH_VFS_H
#define MPH_BENCH_VFS_H

#include <stdint.h>

#include "mappedpages.h"

struct mph_bench_vfs {
    struct mp_vfs vfs;          /* hand &vfs to mp_options.vfs */
    const struct mp_vfs *inner; /* where every call goes */
    uint64_t sync_ns;           /* time inside sync() and sync_file() */
    uint64_t sync_calls;
    uint64_t file_syncs;
    uint64_t reserve_ns; /* time inside reserve() */
    uint64_t reserves;   /* reserve() calls that reached the backend */
    /* Answer reserve() with MP_OK without reserving: for setups that hand
     * out pages they never write (2^20 pages would otherwise put 4 GiB
     * into the file system, on tmpfs into memory). */
    int skip_reserve;
    uint64_t os_syncs; /* msync/fsync the posix backend issued for them */
};

/* Wrap inner (NULL = posix). The struct must outlive every file opened. */
void mph_bench_vfs_init(struct mph_bench_vfs *v, const struct mp_vfs *inner);

/* Monotonic clock in nanoseconds. */
uint64_t mph_bench_now_ns(void);

#endif /* MPH_BENCH_VFS_H */
