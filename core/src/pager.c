/*
 * pager.c - creating, opening and closing a pager, and its accessors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "endian.h"
#include "internal.h"
#include "layout.h"
#include "mappedpages/iter.h"
#include "mutant.h"

#define DEFAULT_RESERVE ((uint64_t)1 << 40)
#define CREATE_SUFFIX   ".mp-create"

void mp_options_init(struct mp_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->version = MP_OPTIONS_VERSION;
}

unsigned mp_version(void)
{
    return (MP_VERSION_MAJOR << 16) | (MP_VERSION_MINOR << 8) |
           MP_VERSION_PATCH;
}

static int page_log2(size_t page_size, unsigned *log2)
{
    unsigned l = 0;
    if (page_size < MP_PAGE_SIZE_MIN || page_size > MP_PAGE_SIZE_MAX ||
        (page_size & (page_size - 1))) {
        return MP_EPAGESIZE;
    }
    while (((size_t)1 << l) < page_size) {
        l++;
    }
    *log2 = l;
    return MP_OK;
}

static int new_pager(const struct mp_options *opt, mp_pager **out)
{
    struct mp_options defaults;
    mp_pager *p;

    if (!opt) {
        mp_options_init(&defaults);
        opt = &defaults;
    }
    /* Version 1 callers pass the struct without `device`. */
    if (opt->version != MP_OPTIONS_VERSION && opt->version != 1) {
        return MP_EINVAL;
    }
    if (opt->version >= 2 && opt->device.sector_size &&
        (opt->device.sector_size & (opt->device.sector_size - 1))) {
        return MP_EINVAL;
    }
    p = opt->mem.alloc ? opt->mem.alloc(opt->mem.ctx, sizeof(*p))
                       : malloc(sizeof(*p));
    if (!p) {
        return MP_ENOMEM;
    }
    memset(p, 0, sizeof(*p));
    p->mem = opt->mem;
    p->vfs = opt->vfs ? opt->vfs : mp_vfs_posix();
    p->readonly = (opt->flags & MP_OPEN_READONLY) != 0;
    /* A reader commits nothing: the mode is moot there. */
    p->one_flush = !p->readonly && (opt->flags & MP_OPEN_ONE_FLUSH) != 0;
    if (opt->version >= 2) {
        p->device = opt->device; /* sector_size 0: ask the backend */
    }
    atomic_init(&p->iterators, 0);
    atomic_init(&p->internal.sorted, NULL);
    *out = p;
    return MP_OK;
}

static void destroy(mp_pager *p)
{
    struct mp_allocator_hooks mem = p->mem;
    /* Allocators the caller forgot would otherwise leak with the pager. */
    mp__subpage_release_all(p);
    mp__tree_free(p, &p->tree[MP__TREE_MAP]);
    mp__tree_free(p, &p->tree[MP__TREE_DIR]);
    mp__pageset_free(&p->internal, &p->mem);
    mp__free(p, p->bitmap);
    mp__free(p, p->dir);
    mp__free(p, p->ranges);
    mp__free(p, p->resv);
    if (mem.free) {
        mem.free(mem.ctx, p);
    } else {
        free(p);
    }
}

int mp_pager_close(mp_pager *p)
{
    int rc = MP_OK;
    if (!p) {
        return MP_OK;
    }
    if (p->file) {
        rc = p->file->methods->close(p->file);
    }
    destroy(p);
    return rc;
}

static uint64_t reserve_for(const struct mp_options *opt, uint64_t bytes)
{
    uint64_t r =
        opt && opt->reserve_bytes ? opt->reserve_bytes : DEFAULT_RESERVE;
    /* A read-only pager never grows: address space past the file would
     * only be taken from the process (1 TiB by default). */
    if (opt && (opt->flags & MP_OPEN_READONLY)) {
        return bytes;
    }
    if (!(opt && opt->reserve_bytes) && bytes <= UINT64_MAX / 2 &&
        r < bytes * 2) {
        r = bytes * 2;
    }
    return r < bytes ? bytes : r;
}

/*
 * The device rule (FORMAT.md 2.3): every structure the format writes sits
 * in pages of its own, so a page of at least the power-fail unit never
 * shares a unit with another; a smaller page does, and only a power-safe
 * device keeps the neighbours' bytes. Asks the backend unless the caller
 * stated the device.
 */
/* Where the caller wants the device written (mp_options.device_out). */
static struct mp_io_device *device_out(const struct mp_options *opt)
{
    return opt && opt->version >= 2 ? opt->device_out : NULL;
}

static int device_known(mp_pager *p, struct mp_io_device *out)
{
    if (p->device.sector_size == 0) {
        int rc = mp__io_device(p, &p->device);
        if (rc != MP_OK) {
            return rc;
        }
    }
    if (out) {
        *out = p->device; /* before any refusal, so it can name the sizes */
    }
    return MP_OK;
}

static int device_rule(mp_pager *p, struct mp_io_device *out)
{
    int rc = device_known(p, out);
    if (rc != MP_OK) {
        return rc;
    }
    if (MP_MUTANT(MP_MUT_IGNORE_DEVICE)) {
        return MP_OK;
    }
    if (p->page_size < p->device.sector_size &&
        !(p->device.flags & MP_IO_DEV_POWERSAFE)) {
        return MP_EDEVICE;
    }
    return MP_OK;
}

/* Build a fresh, empty file in the already created and mapped p->file. */
static int build_new(mp_pager *p)
{
    int rc;
    p->total = MP__MIN_PAGES;
    p->free_pages = MP__MIN_PAGES - MP_RESERVED_PAGES;
    mp__tree_init(p, &p->tree[MP__TREE_MAP], MP__TREE_MAP);
    mp__tree_init(p, &p->tree[MP__TREE_DIR], MP__TREE_DIR);
    rc = mp__bitmap_resize(p, 1);
    if (rc != MP_OK) {
        return rc;
    }
    for (uint64_t pg = 0; pg < MP_RESERVED_PAGES; pg++) {
        mp__bit_set(p, pg);
    }
    p->hint = MP_RESERVED_PAGES;
    rc = mp__tree_resize(p, &p->tree[MP__TREE_MAP], 1);
    if (rc != MP_OK) {
        return rc;
    }
    mp__encode_header(p->base, p->log2);
    /* Copy B (page 2) stays zero; the first commit writes copy A. */
    p->live_copy = 1;
    p->generation = 0;
    /* Create is its own protocol (FORMAT.md 10) in either mode: copy A is
     * a two-barrier copy that the record names. */
    {
        bool one_flush = p->one_flush;
        p->one_flush = false;
        rc = mp__commit(p, -1);
        p->one_flush = one_flush;
    }
    return rc;
}

static bool exists(mp_pager *p, const char *path)
{
    struct mp_io_file *f;
    int os = 0;
    if (p->vfs->open(p->vfs, path, MP_IO_READONLY, &f, &os) != MP_OK) {
        return false;
    }
    f->methods->close(f);
    return true;
}

/*
 * Take the temporary name <path>.mp-create for this creation into p->file
 * (FORMAT.md section 10). A creator holds its temporary file's exclusive
 * lock from just after creating it until it is closed, so a lock that can
 * be had on an existing temporary file means its creator is gone:
 *  - name free: create it (O_EXCL; MP_ELOCKED if another creator gets it
 *    first), then lock it. If another creator took it over in between (it
 *    found the lock free), our lock fails: give up with MP_ELOCKED and
 *    touch nothing;
 *  - name taken and its lock held: another creator is at work: MP_ELOCKED,
 *    its file untouched;
 *  - name taken and its lock free: a crashed creator's leftover. Keep that
 *    lock (in *stale, until the end of create) so that no creator late to
 *    the same leftover can lock it, remove the name and create it afresh;
 *    MP_ELOCKED if another creator gets the fresh name first.
 * A leftover whose lock we got may also be a finished file that was
 * renamed to the final name after we opened it: MP_EEXIST then, and it is
 * left alone. (A fresh name cannot be: only its lock holder renames it.)
 */
static int claim_tmp(mp_pager *p, const char *path, const char *tmp,
                     struct mp_io_file **stale, int *os)
{
    /* A leftover first: in the usual case there is none. */
    int rc = p->vfs->open(p->vfs, tmp, 0, stale, os);
    if (rc == MP_ENOENT) {
        rc = p->vfs->open(p->vfs, tmp, MP_IO_CREATE, &p->file, os);
        if (rc == MP_EEXIST) {
            rc = MP_ELOCKED; /* another creator took the name just now */
        }
        if (rc != MP_OK) {
            return rc;
        }
    } else if (rc != MP_OK) {
        return rc;
    } else {
        rc = (*stale)->methods->lock(*stale, MP_IO_LOCK_EXCLUSIVE);
        if (rc != MP_OK) {
            *os = (*stale)->os_error;
        } else if (exists(p, path)) {
            rc = MP_EEXIST;
        }
        if (rc == MP_OK) {
            p->vfs->remove(p->vfs, tmp, os);
            rc = p->vfs->open(p->vfs, tmp, MP_IO_CREATE, &p->file, os);
            if (rc == MP_EEXIST) {
                rc = MP_ELOCKED;
            }
        }
        if (rc != MP_OK) {
            (*stale)->methods->close(*stale);
            *stale = NULL;
            return rc;
        }
    }
    rc = p->file->methods->lock(p->file, MP_IO_LOCK_EXCLUSIVE);
    if (rc != MP_OK) {
        /* Possibly no longer ours to remove: leave the name alone. */
        *os = p->file->os_error;
        p->file->methods->close(p->file);
        p->file = NULL;
        if (*stale) {
            (*stale)->methods->close(*stale);
            *stale = NULL;
        }
    }
    return rc;
}

int mp_pager_create(const char *path, size_t page_size,
                    const struct mp_options *opt, mp_pager **out)
{
    struct mp_io_range all;
    struct mp_io_file *stale = NULL;
    mp_pager *p = NULL;
    char *tmp = NULL;
    size_t n;
    int rc, os = 0;

    if (!out || !path) {
        return MP_EINVAL;
    }
    *out = NULL;
    /* A creator writes: it must hold the lock (MP_OPEN_NOLOCK is for
     * read-only inspection only). */
    if (opt && (opt->flags & (MP_OPEN_READONLY | MP_OPEN_NOLOCK))) {
        return MP_EINVAL;
    }
    errno = 0;
    rc = new_pager(opt, &p);
    if (rc != MP_OK) {
        return rc;
    }
    rc = page_log2(page_size, &p->log2);
    if (rc != MP_OK) {
        goto out_pager;
    }
    p->page_size = page_size;
    if (exists(p, path)) {
        rc = MP_EEXIST;
        goto out_pager;
    }
    os = 0; /* the probe failing is the expected case */
    n = strlen(path);
    tmp = mp__alloc(p, n + sizeof(CREATE_SUFFIX));
    if (!tmp) {
        rc = MP_ENOMEM;
        goto out_pager;
    }
    memcpy(tmp, path, n);
    memcpy(tmp + n, CREATE_SUFFIX, sizeof(CREATE_SUFFIX));
    rc = claim_tmp(p, path, tmp, &stale, &os);
    if (rc != MP_OK) {
        goto out_tmp;
    }
    os = 0; /* the look for a leftover fails with ENOENT as a rule */
    rc = device_rule(p, device_out(opt));
    if (rc != MP_OK) {
        goto out_file;
    }
    p->file_bytes = MP__MIN_PAGES * (uint64_t)page_size;
    rc = p->file->methods->grow(p->file, p->file_bytes);
    if (rc != MP_OK) {
        goto out_file;
    }
    rc = p->file->methods->map(p->file, reserve_for(opt, p->file_bytes),
                               p->file_bytes, (void **)&p->base, &p->reserved);
    if (rc != MP_OK) {
        goto out_file;
    }
    p->mapped = p->file_bytes;
    /* Blocks for every page the new file holds before any is stored. */
    rc = mp__reserve(p, 0, MP__MIN_PAGES, 0);
    if (rc != MP_OK) {
        goto out_file;
    }
    rc = build_new(p);
    if (rc != MP_OK) {
        goto out_file;
    }
    /* The whole file must be durable before its name appears. */
    all.offset = 0;
    all.length = p->file_bytes;
    rc = mp__io_sync(p, &all, 1);
    if (rc == MP_OK) {
        rc = mp__io_sync_file(p);
    }
    if (rc == MP_OK) {
        rc = p->vfs->rename(p->vfs, tmp, path, &os);
    }
    if (rc == MP_OK) {
        rc = p->vfs->sync_dir(p->vfs, path, &os);
        if (rc != MP_OK) {
            /* The name may not survive a crash; report, do not hide it. */
            p->vfs->remove(p->vfs, path, &os);
        }
    }
    if (rc == MP_OK) {
        /* Map again under the final name. Nothing points into the mapping
         * yet, and a mapping whose pieces carry two names of one file
         * makes valgrind 3.19's address-space manager abort on unmap. */
        p->file->methods->unmap(p->file);
        rc = p->file->methods->map(p->file, p->reserved, p->file_bytes,
                                   (void **)&p->base, &p->reserved);
        if (rc != MP_OK) {
            p->base = NULL;
            p->vfs->remove(p->vfs, path, &os);
        }
    }
    if (rc != MP_OK) {
        goto out_file;
    }
    mp__free(p, tmp);
    if (stale) {
        stale->methods->close(stale);
    }
    p->failed = 0;
    p->recovery.reason = MP_RECOVERY_CREATED;
    p->recovery.generation = p->generation;
    p->recovery.copy_valid[0] = true;
    p->recovery.copy_generation[0] = p->generation;
    *out = p;
    return MP_OK;

out_file:
    /* Ours and locked: no other creator can be using this name. */
    if (!os) {
        os = p->file->os_error;
    }
    p->file->methods->close(p->file);
    p->file = NULL;
    {
        int ignored = 0;
        p->vfs->remove(p->vfs, tmp, &ignored);
    }
out_tmp:
    if (stale) {
        stale->methods->close(stale);
    }
    mp__free(p, tmp);
out_pager:
    destroy(p);
    errno = os; /* pager.h: the failed OS call's errno, or 0 */
    return rc;
}

/*
 * Static header checks (FORMAT.md 2.1 and 9.1): page 0's header when it is
 * intact, else the copy of it that every metadata copy carries. The
 * verdicts and the search are layout.h's, which the checker shares.
 */
static int check_header(mp_pager *p, size_t want)
{
    struct mp__hdr_info hi;

    switch (mp__hdr_check(p->base)) {
    case MP__HV_OK:
        mp__hdr_decode(p->base, &hi);
        break;
    case MP__HV_DAMAGED:
        /* A torn page 0 (the record shares its unit with the header). */
        if (MP_MUTANT(MP_MUT_HEADER_SINGLE_COPY) ||
            !mp__hdr_from_copies(p->base, p->file_bytes, &hi)) {
            return MP_ECORRUPT_SUPER;
        }
        if (hi.major != MP_FORMAT_MAJOR) {
            return MP_EVERSION;
        }
        if (hi.flags & ~MP__HDR_KNOWN_FLG) {
            return MP_ECORRUPT_SUPER;
        }
        p->repair = true;
        p->page0_repair = true;
        break;
    case MP__HV_VERSION:
        return MP_EVERSION;
    case MP__HV_LOG2:
        return MP_EPAGESIZE;
    case MP__HV_FLAGS:
    case MP__HV_RESERVED:
    default:
        return MP_ECORRUPT_SUPER;
    }
    if (want && want != (size_t)1 << hi.log2) {
        return MP_EPAGESIZE;
    }
    p->log2 = hi.log2;
    p->page_size = (size_t)1 << hi.log2;
    p->hdr_flags = hi.flags;
    if (p->file_bytes < 3 * (uint64_t)p->page_size) {
        return MP_ECORRUPT_SUPER;
    }
    /* Last, once the header is otherwise sound: a newer minor is readable,
     * but this writer would drop whatever the newer one added (FORMAT.md
     * section 2.1), so read-only opens only. */
    if (hi.minor > MP_FORMAT_MINOR && !p->readonly) {
        return MP_EVERSION;
    }
    return MP_OK;
}

int mp_pager_open(const char *path, size_t page_size,
                  const struct mp_options *opt, mp_pager **out)
{
    mp_pager *p = NULL;
    unsigned flags;
    int rc, os = 0;

    if (!out || !path) {
        return MP_EINVAL;
    }
    *out = NULL;
    if (opt && (opt->flags & MP_OPEN_NOLOCK) &&
        !(opt->flags & MP_OPEN_READONLY)) {
        return MP_EINVAL; /* two unlocked writers would corrupt the file */
    }
    if (page_size != 0) {
        unsigned l;
        rc = page_log2(page_size, &l);
        if (rc != MP_OK) {
            return rc;
        }
    }
    errno = 0;
    rc = new_pager(opt, &p);
    if (rc != MP_OK) {
        return rc;
    }
    flags = p->readonly ? MP_IO_READONLY : 0;
    rc = p->vfs->open(p->vfs, path, flags, &p->file, &os);
    if (rc != MP_OK) {
        goto out_pager;
    }
    if (!(opt && (opt->flags & MP_OPEN_NOLOCK))) {
        rc = p->file->methods->lock(
            p->file, p->readonly ? MP_IO_LOCK_SHARED : MP_IO_LOCK_EXCLUSIVE);
        if (rc != MP_OK) {
            goto out_pager;
        }
    }
    rc = p->file->methods->size(p->file, &p->file_bytes);
    if (rc != MP_OK) {
        goto out_pager;
    }
    if (p->file_bytes < 64) {
        rc = MP_ECORRUPT_SUPER;
        goto out_pager;
    }
    rc = p->file->methods->map(p->file, reserve_for(opt, p->file_bytes),
                               p->file_bytes, (void **)&p->base, &p->reserved);
    if (rc != MP_OK) {
        goto out_pager;
    }
    p->mapped = p->file_bytes;
    rc = check_header(p, page_size);
    if (rc != MP_OK) {
        goto out_pager;
    }
    if (!p->readonly) {
        /* A reader writes nothing, so no unit of its can be torn. */
        rc = device_rule(p, device_out(opt));
    } else {
        rc = device_known(p, device_out(opt));
    }
    if (rc != MP_OK) {
        goto out_pager;
    }
    mp__tree_init(p, &p->tree[MP__TREE_MAP], MP__TREE_MAP);
    mp__tree_init(p, &p->tree[MP__TREE_DIR], MP__TREE_DIR);
    rc = mp__recover(p, p->file_bytes);
    if (rc != MP_OK) {
        goto out_pager;
    }
    /* Page 0 does not name the copy in use: the first two-barrier commit
     * rewrites it before anything else (FORMAT.md 8.1, I4). */
    if (p->recovery.reason != MP_RECOVERY_RECORD) {
        p->repair = true;
    }
    /* A torn record stays torn until a commit rewrites page 0: one-flush
     * commits do too (FORMAT.md 8.2 step 5). */
    if (p->recovery.reason == MP_RECOVERY_TORN_RECORD) {
        p->page0_repair = true;
    }
    *out = p;
    return MP_OK;

out_pager:
    if (!os && p->file) {
        os = p->file->os_error;
    }
    mp_pager_close(p);
    errno = os; /* pager.h: the failed OS call's errno, or 0 */
    return rc;
}

size_t mp_pager_page_size(const mp_pager *p)
{
    return p->page_size;
}

uint64_t mp_pager_page_count(const mp_pager *p)
{
    return p->total;
}

uint64_t mp_pager_free_count(const mp_pager *p)
{
    return p->free_pages;
}

bool mp_pager_is_readonly(const mp_pager *p)
{
    return p->readonly;
}

bool mp_pager_one_flush(const mp_pager *p)
{
    return p->one_flush;
}

void mp_pager_recovery(const mp_pager *p, struct mp_recovery_info *info)
{
    *info = p->recovery;
}

void mp_pager_device(const mp_pager *p, struct mp_io_device *out)
{
    *out = p->device;
}

void mp_pager_stats(const mp_pager *p, struct mp_pager_stats *stats)
{
    *stats = p->stats;
}

void mp_pager_last_failure(const mp_pager *p, int *code, int *os_error)
{
    if (code) {
        *code = p->failed;
    }
    if (os_error) {
        *os_error = p->failed ? p->failed_os : 0;
    }
}

uint64_t mp_pager_internal_count(const mp_pager *p)
{
    return p->internal.count + 2 * mp__leaf_count(p, p->total);
}
