/*
 * io.c - the core's calls into the I/O seam. Every backend call the pager
 * makes after open goes through here, so the counters are complete and a
 * failure is recorded with its OS errno in one place.
 */
#include "internal.h"

void mp__fail(mp_pager *p, int code)
{
    if (!p->failed) {
        p->failed = code;
        p->failed_os = p->file ? p->file->os_error : 0;
    }
}

int mp__io_sync(mp_pager *p, const struct mp_io_range *r, size_t n)
{
    p->stats.sync_calls++;
    p->stats.sync_ranges += n;
    for (size_t i = 0; i < n; i++) {
        p->stats.sync_bytes += r[i].length;
    }
    return p->file->methods->sync(p->file, r, n);
}

int mp__io_sync_file(mp_pager *p)
{
    p->stats.file_syncs++;
    return p->file->methods->sync_file(p->file);
}

int mp__io_grow(mp_pager *p, uint64_t bytes)
{
    p->stats.grows++;
    return p->file->methods->grow(p->file, bytes);
}

int mp__io_extend_map(mp_pager *p, uint64_t bytes)
{
    return p->file->methods->extend_map(p->file, bytes);
}

int mp__io_device(mp_pager *p, struct mp_io_device *out)
{
    const struct mp_io_methods *m = p->file->methods;
    int rc;

    if (m->version < 2 || !m->device) {
        /* Version 1 knew no device: the unit format 1 assumed. */
        out->sector_size = 512;
        out->flags = 0;
        return MP_OK;
    }
    rc = m->device(p->file, out);
    if (rc == MP_OK && (out->sector_size == 0 ||
                        (out->sector_size & (out->sector_size - 1)))) {
        rc = MP_EINVAL;
    }
    return rc;
}
