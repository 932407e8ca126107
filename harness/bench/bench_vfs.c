/*
 * bench_vfs.c - the timing pass-through vfs (see bench_vfs.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "bench_vfs.h"

#include <stdlib.h>
#include <time.h>

struct timed_file {
    struct mp_io_file base;
    struct mp_io_file *inner;
    struct mph_bench_vfs *owner;
};

#define INNER(f) (((struct timed_file *)(f))->inner)
#define OWNER(f) (((struct timed_file *)(f))->owner)

uint64_t mph_bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int tf_close(struct mp_io_file *f)
{
    struct mp_io_file *in = INNER(f);
    free(f);
    return in->methods->close(in);
}

static int tf_lock(struct mp_io_file *f, int mode)
{
    return INNER(f)->methods->lock(INNER(f), mode);
}

static int tf_size(struct mp_io_file *f, uint64_t *bytes)
{
    return INNER(f)->methods->size(INNER(f), bytes);
}

static int tf_grow(struct mp_io_file *f, uint64_t n)
{
    return INNER(f)->methods->grow(INNER(f), n);
}

static int tf_map(struct mp_io_file *f, uint64_t reserve, uint64_t n,
                  void **base, uint64_t *reserved)
{
    return INNER(f)->methods->map(INNER(f), reserve, n, base, reserved);
}

static int tf_extend(struct mp_io_file *f, uint64_t n)
{
    return INNER(f)->methods->extend_map(INNER(f), n);
}

static int tf_sync(struct mp_io_file *f, const struct mp_io_range *r, size_t n)
{
    uint64_t os0 = mp_io_posix_os_syncs(INNER(f));
    uint64_t t0 = mph_bench_now_ns();
    int rc = INNER(f)->methods->sync(INNER(f), r, n);
    OWNER(f)->sync_ns += mph_bench_now_ns() - t0;
    OWNER(f)->sync_calls++;
    OWNER(f)->os_syncs += mp_io_posix_os_syncs(INNER(f)) - os0;
    return rc;
}

static int tf_sync_file(struct mp_io_file *f)
{
    uint64_t os0 = mp_io_posix_os_syncs(INNER(f));
    uint64_t t0 = mph_bench_now_ns();
    int rc = INNER(f)->methods->sync_file(INNER(f));
    OWNER(f)->sync_ns += mph_bench_now_ns() - t0;
    OWNER(f)->file_syncs++;
    OWNER(f)->os_syncs += mp_io_posix_os_syncs(INNER(f)) - os0;
    return rc;
}

static int tf_unmap(struct mp_io_file *f)
{
    return INNER(f)->methods->unmap(INNER(f));
}

/* Block reservation (io.h version 2) is timed too: it is part of what an
 * alloc costs. Version-1 inner backends cannot reserve; neither can we. */
static int tf_reserve(struct mp_io_file *f, uint64_t off, uint64_t len)
{
    const struct mp_io_methods *m = INNER(f)->methods;
    uint64_t t0;
    int rc;
    if (m->version < 2 || !m->reserve || OWNER(f)->skip_reserve) {
        return MP_OK;
    }
    t0 = mph_bench_now_ns();
    rc = m->reserve(INNER(f), off, len);
    OWNER(f)->reserve_ns += mph_bench_now_ns() - t0;
    OWNER(f)->reserves++;
    return rc;
}

static int tf_device(struct mp_io_file *f, struct mp_io_device *out)
{
    const struct mp_io_methods *m = INNER(f)->methods;
    if (m->version < 2 || !m->device) {
        out->sector_size = 512; /* what the pager assumes of version 1 */
        out->flags = 0;
        return MP_OK;
    }
    return m->device(INNER(f), out);
}

static const struct mp_io_methods timed_methods = {
    .version = 2,
    .close = tf_close,
    .lock = tf_lock,
    .size = tf_size,
    .grow = tf_grow,
    .map = tf_map,
    .extend_map = tf_extend,
    .sync = tf_sync,
    .sync_file = tf_sync_file,
    .unmap = tf_unmap,
    .reserve = tf_reserve,
    .device = tf_device,
};

static int tv_open(const struct mp_vfs *vfs, const char *path, unsigned fl,
                   struct mp_io_file **out, int *os)
{
    struct mph_bench_vfs *v = vfs->ctx;
    struct timed_file *tf;
    int rc = v->inner->open(v->inner, path, fl, out, os);
    if (rc != MP_OK) {
        return rc;
    }
    tf = calloc(1, sizeof(*tf));
    if (!tf) {
        (*out)->methods->close(*out);
        *out = NULL;
        return MP_ENOMEM;
    }
    tf->base.methods = &timed_methods;
    tf->inner = *out;
    tf->owner = v;
    *out = &tf->base;
    return MP_OK;
}

static int tv_remove(const struct mp_vfs *vfs, const char *path, int *os)
{
    const struct mph_bench_vfs *v = vfs->ctx;
    return v->inner->remove(v->inner, path, os);
}

static int tv_rename(const struct mp_vfs *vfs, const char *a, const char *b,
                     int *os)
{
    const struct mph_bench_vfs *v = vfs->ctx;
    return v->inner->rename(v->inner, a, b, os);
}

static int tv_sync_dir(const struct mp_vfs *vfs, const char *path, int *os)
{
    const struct mph_bench_vfs *v = vfs->ctx;
    return v->inner->sync_dir(v->inner, path, os);
}

void mph_bench_vfs_init(struct mph_bench_vfs *v, const struct mp_vfs *inner)
{
    *v = (struct mph_bench_vfs){ 0 };
    v->inner = inner ? inner : mp_vfs_posix();
    v->vfs.version = 1;
    v->vfs.name = "timed";
    v->vfs.ctx = v;
    v->vfs.open = tv_open;
    v->vfs.remove = tv_remove;
    v->vfs.rename = tv_rename;
    v->vfs.sync_dir = tv_sync_dir;
}
