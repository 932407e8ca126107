/*
 * vfs.c - the mp_vfs and mp_io_methods tables of a faultfs: each seam call
 * passes its crash points, consults the injected faults, does what the
 * posix backend (core/src/io_posix.c) would do to the simulated disk, and
 * records itself in the trace.
 *
 * Every failure-capable call has the shape
 *   BEFORE point -> fault? -> [DURING point, syncs only] -> effect -> AFTER
 * and once the disk has crashed it fails with MP_EIO before doing anything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define H(file) ((struct faultfs__handle *)(file))

static int os_errno(int code)
{
    switch (code) {
    case MP_ENOSPC:
        return ENOSPC;
    case MP_ENOMEM:
        return ENOMEM;
    case MP_ELOCKED:
        return EWOULDBLOCK;
    case MP_ENOENT:
        return ENOENT;
    case MP_EEXIST:
        return EEXIST;
    case MP_EINVAL:
        return EINVAL;
    default:
        return EIO;
    }
}

/*
 * Start a failure-capable call: returns MP_OK to go on (with *fault set if
 * an injected fault hits it) or the code to return at once.
 */
static int begin(faultfs *fs, struct faultfs_trace_entry *e, int call,
                 struct faultfs__armed_fault **fault)
{
    *fault = NULL;
    if (fs->crashed) {
        return MP_EIO;
    }
    e->point = fs->points;
    if (faultfs__point(fs, call, FAULTFS_BEFORE)) {
        e->crash = true;
        faultfs__crash(fs, call, FAULTFS_BEFORE);
        return MP_EIO;
    }
    *fault = faultfs__fault_check(fs, call);
    if (*fault) {
        e->fault = true;
    }
    return MP_OK;
}

static int fault_code(const struct faultfs__armed_fault *f, int call)
{
    return f->f.code ? f->f.code : faultfs__natural_code(call);
}

/* Pass the DURING point; true if the crash fired there. */
static bool during(faultfs *fs, struct faultfs_trace_entry *e, int call)
{
    if (!fs->crashed && faultfs__point(fs, call, FAULTFS_DURING)) {
        e->crash = true;
        return true;
    }
    return false;
}

/*
 * What one sync call persists: all of its range normally; what an armed
 * fault says when one fires; a seeded part when a crash is armed DURING
 * it. The DURING point is passed here, once, whatever happens.
 */
struct sync_plan {
    int persist;
    bool crash_during;
};

static struct sync_plan plan_sync(faultfs *fs, struct faultfs_trace_entry *e,
                                  int call,
                                  const struct faultfs__armed_fault *f)
{
    struct sync_plan plan;
    plan.crash_during = during(fs, e, call);
    plan.persist = f                   ? f->f.persist
                   : plan.crash_during ? FAULTFS_PERSIST_PART
                                       : FAULTFS_PERSIST_ALL;
    return plan;
}

/*
 * The sync's result once its bytes are placed: the fault's code, or MP_EIO
 * for a crash in the middle; the crash (if armed) freezes what the sync
 * left, failed or not.
 */
static int finish_sync(faultfs *fs, int call,
                       const struct faultfs__armed_fault *f,
                       const struct sync_plan *plan, int rc)
{
    if (f && rc == MP_OK) {
        rc = fault_code(f, call);
    }
    if (plan->crash_during) {
        faultfs__crash(fs, call, FAULTFS_DURING);
        if (!f) {
            rc = MP_EIO;
        }
    }
    return rc;
}

/* Pass the AFTER point and finish the trace entry. */
static int end(faultfs *fs, struct faultfs_trace_entry *e, int call, int rc)
{
    if (!fs->crashed && faultfs__point(fs, call, FAULTFS_AFTER)) {
        e->crash = true;
        faultfs__crash(fs, call, FAULTFS_AFTER);
    }
    e->result = rc;
    return rc;
}

static int done(struct faultfs_trace_entry *e, int rc)
{
    e->result = rc;
    return rc;
}

/* ---- name operations ------------------------------------------------- */

static int add_op(faultfs *fs, int kind, const char *a, const char *b,
                  struct faultfs__inode *ino)
{
    struct faultfs__nsop *op;
    if (fs->nops == fs->ops_cap) {
        size_t cap = fs->ops_cap ? fs->ops_cap * 2 : 8;
        struct faultfs__nsop *v = realloc(fs->ops, cap * sizeof(*v));
        if (!v) {
            return MP_ENOMEM;
        }
        fs->ops = v;
        fs->ops_cap = cap;
    }
    op = &fs->ops[fs->nops];
    op->kind = kind;
    op->ino = ino;
    op->a = faultfs__strdup(a);
    op->b = b ? faultfs__strdup(b) : NULL;
    if (!op->a || (b && !op->b)) {
        free(op->a);
        free(op->b);
        return MP_ENOMEM;
    }
    fs->nops++;
    return MP_OK;
}

/* ---- file methods ----------------------------------------------------- */

static void unmap_handle(struct faultfs__handle *h)
{
    if (h->mapped) {
        if (h->readonly) {
            h->ino->maps_ro--;
        } else {
            h->ino->maps_rw--;
        }
        h->mapped = false;
        h->map_bytes = 0;
        h->reserved = 0;
        faultfs__region_protect(h->ino);
    }
}

/*
 * process_locks: a real flock on this open's own description of the
 * file's memfd (reopened through /proc, as open(2) of a path would give),
 * so forked processes holding copies of the faultfs conflict. MP_OK,
 * MP_ELOCKED or MP_EIO.
 */
static int os_lock(struct faultfs__handle *h, int mode)
{
    struct faultfs__inode *ino = h->ino;
    char path[64];
    int op, rc;

    if (mode == MP_IO_UNLOCK) {
        if (h->lock_fd >= 0) {
            flock(h->lock_fd, LOCK_UN);
        }
        return MP_OK;
    }
    if (ino->lock_fd < 0) {
        ino->lock_fd = memfd_create("faultfs-lock", MFD_CLOEXEC);
        if (ino->lock_fd < 0) {
            return MP_EIO;
        }
    }
    if (h->lock_fd < 0) {
        snprintf(path, sizeof(path), "/proc/self/fd/%d", ino->lock_fd);
        h->lock_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (h->lock_fd < 0) {
            return MP_EIO;
        }
    }
    op = mode == MP_IO_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH;
    do {
        rc = flock(h->lock_fd, op | LOCK_NB);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        return errno == EWOULDBLOCK ? MP_ELOCKED : MP_EIO;
    }
    return MP_OK;
}

static void unlock_handle(struct faultfs__handle *h)
{
    if (h->lock == MP_IO_LOCK_SHARED) {
        h->ino->lock_shared--;
    } else if (h->lock == MP_IO_LOCK_EXCLUSIVE) {
        h->ino->lock_excl--;
    }
    h->lock = MP_IO_UNLOCK;
}

static int ff_close(struct mp_io_file *file)
{
    struct faultfs__handle *h = H(file);
    faultfs *fs = h->fs;
    pthread_mutex_lock(&fs->mu);
    done(faultfs__trace_add(fs, FAULTFS_CALL_CLOSE, h->name), MP_OK);
    unmap_handle(h);
    unlock_handle(h);
    if (h->lock_fd >= 0) {
        close(h->lock_fd);
    }
    h->ino->handles--;
    faultfs__gc(fs);
    pthread_mutex_unlock(&fs->mu);
    free(h->name);
    free(h);
    return MP_OK;
}

static int ff_lock(struct mp_io_file *file, int mode)
{
    struct faultfs__handle *h = H(file);
    struct faultfs__inode *ino = h->ino;
    faultfs *fs = h->fs;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    unsigned others;
    int rc = MP_OK;

    if (mode < MP_IO_UNLOCK || mode > MP_IO_LOCK_EXCLUSIVE) {
        return MP_EINVAL;
    }
    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_LOCK, h->name);
    e->count = (uint64_t)mode;
    e->point = UINT64_MAX;
    if (mode == MP_IO_UNLOCK) {
        unlock_handle(h);
        if (fs->cfg.process_locks) {
            os_lock(h, MP_IO_UNLOCK);
        }
        goto out;
    }
    if (fs->crashed) {
        rc = MP_EIO;
        goto out;
    }
    f = faultfs__fault_check(fs, FAULTFS_CALL_LOCK);
    if (f) {
        e->fault = true;
        rc = fault_code(f, FAULTFS_CALL_LOCK);
        goto out;
    }
    /* flock(2): conflicts are between opens, this one excluded. */
    others = ino->lock_excl - (h->lock == MP_IO_LOCK_EXCLUSIVE);
    if (mode == MP_IO_LOCK_EXCLUSIVE) {
        others += ino->lock_shared - (h->lock == MP_IO_LOCK_SHARED);
    }
    if (others) {
        rc = MP_ELOCKED;
        goto out;
    }
    if (fs->cfg.process_locks) {
        rc = os_lock(h, mode);
        if (rc != MP_OK) {
            goto out;
        }
    }
    unlock_handle(h);
    h->lock = mode;
    if (mode == MP_IO_LOCK_SHARED) {
        ino->lock_shared++;
    } else {
        ino->lock_excl++;
    }
out:
    if (rc != MP_OK) {
        file->os_error = os_errno(rc);
    }
    done(e, rc);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_size(struct mp_io_file *file, uint64_t *bytes)
{
    struct faultfs__handle *h = H(file);
    pthread_mutex_lock(&h->fs->mu);
    *bytes = h->ino->vsize;
    pthread_mutex_unlock(&h->fs->mu);
    return MP_OK;
}

static int ff_grow(struct mp_io_file *file, uint64_t new_size)
{
    struct faultfs__handle *h = H(file);
    struct faultfs__inode *ino = h->ino;
    faultfs *fs = h->fs;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_GROW, h->name);
    e->length = new_size;
    rc = begin(fs, e, FAULTFS_CALL_GROW, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    if (f) {
        rc = fault_code(f, FAULTFS_CALL_GROW);
    } else if (h->readonly) {
        rc = MP_EIO; /* ftruncate on a read-only descriptor */
    } else if (new_size < ino->vsize) {
        rc = MP_EINVAL;
    } else if (new_size > (uint64_t)INT64_MAX) {
        rc = MP_ELIMIT;
    } else if (new_size > ino->vsize) {
        uint64_t old = ino->vsize;
        ino->vsize = new_size;
        rc = faultfs__region_resize(fs, ino, old);
        if (rc != MP_OK) {
            ino->vsize = old;
        } else {
            fs->stats.grows++;
        }
    }
    end(fs, e, FAULTFS_CALL_GROW, rc);
out:
    if (rc != MP_OK) {
        file->os_error = os_errno(rc);
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_map(struct mp_io_file *file, uint64_t reserve_bytes,
                  uint64_t map_bytes, void **base, uint64_t *reserved)
{
    struct faultfs__handle *h = H(file);
    struct faultfs__inode *ino = h->ino;
    faultfs *fs = h->fs;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    uint64_t want = reserve_bytes < map_bytes ? map_bytes : reserve_bytes;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_MAP, h->name);
    e->offset = reserve_bytes;
    e->length = map_bytes;
    rc = begin(fs, e, FAULTFS_CALL_MAP, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    if (f) {
        rc = fault_code(f, FAULTFS_CALL_MAP);
    } else if (h->mapped || map_bytes == 0 || map_bytes > ino->vsize) {
        rc = MP_EINVAL;
    } else {
        rc = faultfs__region_need(fs, ino, want, map_bytes);
    }
    if (rc == MP_OK) {
        h->mapped = true;
        h->map_bytes = map_bytes;
        h->reserved = want < ino->reg.reserved ? want : ino->reg.reserved;
        if (h->readonly) {
            ino->maps_ro++;
        } else {
            ino->maps_rw++;
        }
        faultfs__region_protect(ino);
        *base = ino->reg.mem;
        *reserved = h->reserved;
    }
    end(fs, e, FAULTFS_CALL_MAP, rc);
out:
    if (rc != MP_OK) {
        file->os_error = os_errno(rc);
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_extend_map(struct mp_io_file *file, uint64_t new_map_bytes)
{
    struct faultfs__handle *h = H(file);
    faultfs *fs = h->fs;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_EXTEND_MAP, h->name);
    e->length = new_map_bytes;
    rc = begin(fs, e, FAULTFS_CALL_EXTEND_MAP, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    if (f) {
        rc = fault_code(f, FAULTFS_CALL_EXTEND_MAP);
    } else if (!h->mapped) {
        rc = MP_EINVAL;
    } else if (new_map_bytes <= h->map_bytes) {
        rc = MP_OK;
    } else if (new_map_bytes > h->reserved) {
        rc = MP_ELIMIT;
    } else if (new_map_bytes > h->ino->vsize) {
        rc = MP_EINVAL;
    } else {
        /* The region already shows [0, vsize): nothing to map. */
        h->map_bytes = new_map_bytes;
    }
    end(fs, e, FAULTFS_CALL_EXTEND_MAP, rc);
out:
    if (rc != MP_OK) {
        file->os_error = os_errno(rc);
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_sync(struct mp_io_file *file, const struct mp_io_range *ranges,
                   size_t count)
{
    struct faultfs__handle *h = H(file);
    faultfs *fs = h->fs;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    uint64_t total = 0, pages = 0, bytes = 0, point;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_SYNC, h->name);
    for (size_t i = 0; i < count; i++) {
        total += ranges[i].length;
    }
    e->offset = count ? ranges[0].offset : 0;
    e->length = total;
    e->count = count;
    point = fs->points;
    rc = begin(fs, e, FAULTFS_CALL_SYNC, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    fs->stats.syncs++;
    fs->stats.bytes_synced += total;
    if (!h->mapped) {
        rc = MP_EINVAL;
        if (during(fs, e, FAULTFS_CALL_SYNC)) {
            faultfs__crash(fs, FAULTFS_CALL_SYNC, FAULTFS_DURING);
        }
    } else {
        struct sync_plan plan = plan_sync(fs, e, FAULTFS_CALL_SYNC, f);
        rc = faultfs__sync_ranges(fs, h, ranges, count, plan.persist, point,
                                  &pages, &bytes);
        rc = finish_sync(fs, FAULTFS_CALL_SYNC, f, &plan, rc);
    }
    e->durable_pages = pages;
    e->durable_bytes = bytes;
    fs->stats.bytes_made_durable += bytes;
    fs->stats.pages_dirtied += pages;
    end(fs, e, FAULTFS_CALL_SYNC, rc);
out:
    if (rc != MP_OK) {
        file->os_error = os_errno(rc);
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_sync_file(struct mp_io_file *file)
{
    struct faultfs__handle *h = H(file);
    faultfs *fs = h->fs;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    uint64_t pages = 0, bytes = 0, point;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_SYNC_FILE, h->name);
    e->length = h->ino->vsize;
    point = fs->points;
    rc = begin(fs, e, FAULTFS_CALL_SYNC_FILE, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    fs->stats.sync_files++;
    {
        struct sync_plan plan = plan_sync(fs, e, FAULTFS_CALL_SYNC_FILE, f);
        rc = faultfs__sync_inode(fs, h->ino, plan.persist, point, &pages,
                                 &bytes);
        if (plan.persist == FAULTFS_PERSIST_ALL) {
            e->durable_size = h->ino->dsize;
        }
        rc = finish_sync(fs, FAULTFS_CALL_SYNC_FILE, f, &plan, rc);
    }
    e->durable_pages = pages;
    e->durable_bytes = bytes;
    fs->stats.bytes_made_durable += bytes;
    fs->stats.pages_dirtied += pages;
    end(fs, e, FAULTFS_CALL_SYNC_FILE, rc);
out:
    if (rc != MP_OK) {
        file->os_error = os_errno(rc);
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int ff_unmap(struct mp_io_file *file)
{
    struct faultfs__handle *h = H(file);
    pthread_mutex_lock(&h->fs->mu);
    done(faultfs__trace_add(h->fs, FAULTFS_CALL_UNMAP, h->name), MP_OK);
    unmap_handle(h);
    pthread_mutex_unlock(&h->fs->mu);
    return MP_OK;
}

/* Not a crash point (see faultfs.h): the simulated disk never runs out of
 * blocks unless a fault says so. */
static int ff_reserve(struct mp_io_file *file, uint64_t offset, uint64_t length)
{
    struct faultfs__handle *h = H(file);
    faultfs *fs = h->fs;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    int rc = MP_OK;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_RESERVE, h->name);
    e->offset = offset;
    e->length = length;
    if (fs->crashed) {
        rc = MP_EIO;
        goto out;
    }
    f = faultfs__fault_check(fs, FAULTFS_CALL_RESERVE);
    if (f) {
        e->fault = true;
        rc = fault_code(f, FAULTFS_CALL_RESERVE);
    } else if (h->readonly) {
        rc = MP_EIO; /* fallocate on a read-only descriptor */
    } else if (length == 0 || offset > h->ino->vsize ||
               length > h->ino->vsize - offset) {
        rc = MP_EINVAL;
    }
out:
    if (rc != MP_OK) {
        file->os_error = os_errno(rc);
    }
    done(e, rc);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

/* The simulated device: a torn unit is one sector; without garbage an
 * unchanged sector is always kept, which is power-safe overwrite. */
static int ff_device(struct mp_io_file *file, struct mp_io_device *out)
{
    struct faultfs__handle *h = H(file);
    pthread_mutex_lock(&h->fs->mu);
    out->sector_size = h->fs->cfg.sector_size;
    out->flags = h->fs->cfg.garbage ? 0 : MP_IO_DEV_POWERSAFE;
    pthread_mutex_unlock(&h->fs->mu);
    return MP_OK;
}

static const struct mp_io_methods faultfs_methods = {
    .version = 2,
    .close = ff_close,
    .lock = ff_lock,
    .size = ff_size,
    .grow = ff_grow,
    .map = ff_map,
    .extend_map = ff_extend_map,
    .sync = ff_sync,
    .sync_file = ff_sync_file,
    .unmap = ff_unmap,
    .reserve = ff_reserve,
    .device = ff_device,
};

/* ---- vfs ---------------------------------------------------------------- */

static void set_os(int *os_error, int rc)
{
    if (os_error && rc != MP_OK) {
        *os_error = os_errno(rc);
    }
}

static int fv_open(const struct mp_vfs *vfs, const char *path, unsigned flags,
                   struct mp_io_file **out, int *os_error)
{
    faultfs *fs = vfs->ctx;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    struct faultfs__inode *ino = NULL;
    struct faultfs__handle *h = NULL;
    int rc;

    *out = NULL;
    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_OPEN, path);
    e->count = flags;
    rc = begin(fs, e, FAULTFS_CALL_OPEN, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    if (f) {
        rc = fault_code(f, FAULTFS_CALL_OPEN);
        goto out_end;
    }
    ino = faultfs__lookup(fs, path);
    if ((flags & MP_IO_CREATE) && ino) {
        rc = MP_EEXIST;
        goto out_end;
    }
    if (!(flags & MP_IO_CREATE) && !ino) {
        rc = MP_ENOENT;
        goto out_end;
    }
    h = calloc(1, sizeof(*h));
    if (!h || !(h->name = faultfs__strdup(path))) {
        rc = MP_ENOMEM;
        goto out_end;
    }
    if (flags & MP_IO_CREATE) {
        rc = faultfs__inode_new(fs, &ino);
        if (rc == MP_OK) {
            rc = faultfs__names_add(&fs->cur, path, ino);
        }
        if (rc == MP_OK) {
            rc = add_op(fs, FAULTFS__NS_CREATE, path, NULL, ino);
        }
        if (rc != MP_OK) {
            goto out_end;
        }
    }
    h->base.methods = &faultfs_methods;
    h->lock_fd = -1;
    h->fs = fs;
    h->ino = ino;
    h->readonly = (flags & MP_IO_READONLY) != 0;
    ino->handles++;
    *out = &h->base;
    h = NULL;
    fs->stats.opens++;
out_end:
    if (h) {
        free(h->name);
        free(h);
    }
    if (rc != MP_OK) {
        faultfs__gc(fs);
    }
    end(fs, e, FAULTFS_CALL_OPEN, rc);
out:
    set_os(os_error, rc);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int fv_remove(const struct mp_vfs *vfs, const char *path, int *os_error)
{
    faultfs *fs = vfs->ctx;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    struct faultfs__inode *ino;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_REMOVE, path);
    rc = begin(fs, e, FAULTFS_CALL_REMOVE, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    ino = faultfs__lookup(fs, path);
    if (f) {
        rc = fault_code(f, FAULTFS_CALL_REMOVE);
    } else if (!ino) {
        rc = MP_ENOENT;
    } else {
        rc = add_op(fs, FAULTFS__NS_REMOVE, path, NULL, ino);
        if (rc == MP_OK) {
            for (size_t i = 0; i < fs->cur.n; i++) {
                if (strcmp(fs->cur.v[i].name, path) == 0) {
                    free(fs->cur.v[i].name);
                    memmove(fs->cur.v + i, fs->cur.v + i + 1,
                            (fs->cur.n - i - 1) * sizeof(*fs->cur.v));
                    fs->cur.n--;
                    break;
                }
            }
            faultfs__gc(fs);
        }
    }
    end(fs, e, FAULTFS_CALL_REMOVE, rc);
out:
    set_os(os_error, rc);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int fv_rename(const struct mp_vfs *vfs, const char *from, const char *to,
                     int *os_error)
{
    faultfs *fs = vfs->ctx;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_RENAME, to);
    rc = begin(fs, e, FAULTFS_CALL_RENAME, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    if (f) {
        rc = fault_code(f, FAULTFS_CALL_RENAME);
    } else if (!faultfs__lookup(fs, from)) {
        rc = MP_ENOENT;
    } else if (faultfs__lookup(fs, to)) {
        rc = MP_EEXIST;
    } else {
        struct faultfs__name *n = NULL;
        char *d = faultfs__strdup(to);
        for (size_t i = 0; i < fs->cur.n; i++) {
            if (strcmp(fs->cur.v[i].name, from) == 0) {
                n = &fs->cur.v[i];
            }
        }
        rc = d ? add_op(fs, FAULTFS__NS_RENAME, from, to, n->ino) : MP_ENOMEM;
        if (rc == MP_OK) {
            free(n->name);
            n->name = d;
        } else {
            free(d);
        }
    }
    end(fs, e, FAULTFS_CALL_RENAME, rc);
out:
    set_os(os_error, rc);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static int fv_sync_dir(const struct mp_vfs *vfs, const char *path,
                       int *os_error)
{
    faultfs *fs = vfs->ctx;
    struct faultfs_trace_entry *e;
    struct faultfs__armed_fault *f;
    int rc;

    pthread_mutex_lock(&fs->mu);
    e = faultfs__trace_add(fs, FAULTFS_CALL_SYNC_DIR, path);
    e->count = fs->nops;
    rc = begin(fs, e, FAULTFS_CALL_SYNC_DIR, &f);
    if (rc != MP_OK) {
        done(e, rc);
        goto out;
    }
    if (f) {
        rc = fault_code(f, FAULTFS_CALL_SYNC_DIR);
    } else {
        /* One journal for the whole namespace: a directory sync commits
         * every pending name operation, as ext4's journal would. */
        faultfs__ns_commit(fs);
    }
    end(fs, e, FAULTFS_CALL_SYNC_DIR, rc);
out:
    set_os(os_error, rc);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

void faultfs__vfs_init(faultfs *fs)
{
    fs->vfs.version = 1;
    fs->vfs.name = "faultfs";
    fs->vfs.ctx = fs;
    fs->vfs.open = fv_open;
    fs->vfs.remove = fv_remove;
    fs->vfs.rename = fv_rename;
    fs->vfs.sync_dir = fv_sync_dir;
}
