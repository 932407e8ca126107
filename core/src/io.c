/*
 * io.c - the core's calls into the I/O seam. Every backend call the pager
 * makes after open goes through here, so the counters are complete and a
 * failure is recorded with its OS errno in one place.
 */
#include <string.h>

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

/* Index of the first span with hi > pg (nresv if none). */
static uint64_t span_after(const mp_pager *p, uint64_t pg)
{
    uint64_t lo = 0, hi = p->nresv;
    /* Pages 0-2, every commit's, and the lowest-first allocation frontier
     * usually lie in the first span: no search through the thousands of
     * two-page spans a big file's leaf copies make (issue 13). */
    if (hi > 0 && p->resv[0].hi > pg) {
        return 0;
    }
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (p->resv[mid].hi > pg) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return lo;
}

/* Add [lo, hi) to the spans, merging with those it touches. Room for one
 * more span must already be there. */
static void span_add(mp_pager *p, uint64_t lo, uint64_t hi)
{
    uint64_t i = lo > 0 ? span_after(p, lo - 1) : 0, j = i;
    while (j < p->nresv && p->resv[j].lo <= hi) {
        if (p->resv[j].lo < lo) {
            lo = p->resv[j].lo;
        }
        if (p->resv[j].hi > hi) {
            hi = p->resv[j].hi;
        }
        j++;
    }
    if (j == i) {
        memmove(p->resv + i + 1, p->resv + i,
                (size_t)(p->nresv - i) * sizeof(*p->resv));
        p->nresv++;
    } else if (j > i + 1) {
        memmove(p->resv + i + 1, p->resv + j,
                (size_t)(p->nresv - j) * sizeof(*p->resv));
        p->nresv -= j - i - 1;
    }
    p->resv[i].lo = lo;
    p->resv[i].hi = hi;
}

int mp__reserve(mp_pager *p, uint64_t lo, uint64_t hi, uint64_t ahead)
{
    const struct mp_io_methods *m = p->file->methods;
    uint64_t ps = p->page_size, i, cap;
    int rc;

    if (m->version < 2 || !m->reserve || lo >= hi) {
        return MP_OK;
    }
    /* Skip the part already reserved; stop at the next reserved span. */
    i = span_after(p, lo);
    if (i < p->nresv && p->resv[i].lo <= lo) {
        lo = p->resv[i].hi;
        i++;
    }
    if (lo >= hi) {
        return MP_OK;
    }
    if (ahead > p->file_bytes / ps) {
        ahead = p->file_bytes / ps;
    }
    if (i < p->nresv && ahead > p->resv[i].lo) {
        ahead = p->resv[i].lo;
    }
    /* Room to remember it first: after the backend call nothing may fail. */
    cap = p->resv_cap;
    rc = mp__grow_array(p, (void **)&p->resv, sizeof(*p->resv), &cap,
                        p->nresv + 1);
    if (rc != MP_OK) {
        return rc;
    }
    p->resv_cap = cap;
    rc = MP_ENOSPC;
    if (ahead > hi) {
        /* Ahead of need; a device too full for that may still hold the
         * pages this call needs. */
        p->stats.reserves++;
        rc = m->reserve(p->file, lo * ps, (ahead - lo) * ps);
        if (rc == MP_OK) {
            hi = ahead;
        }
    }
    if (rc == MP_ENOSPC) {
        p->stats.reserves++;
        rc = m->reserve(p->file, lo * ps, (hi - lo) * ps);
    }
    if (rc == MP_OK) {
        span_add(p, lo, hi);
    }
    return rc;
}

int mp__reserve_chain(mp_pager *p, const struct mp__tree *t, unsigned l,
                      uint64_t i)
{
    uint64_t f = mp__ref_fanout(p);
    for (; l <= t->depth; l++, i /= f) {
        const struct mp__ref *r = &t->refs[l][i];
        for (int c = 0; c < 2; c++) {
            int rc = mp__reserve(p, r->page[c], r->page[c] + 1, 0);
            if (rc != MP_OK) {
                return rc;
            }
        }
    }
    return MP_OK;
}

int mp__reserve_commit(mp_pager *p, int64_t data_page)
{
    /* The record's page and both metadata copies (one of them written). */
    int rc = mp__reserve(p, 0, MP_RESERVED_PAGES, 0);
    for (int k = 0; rc == MP_OK && k < 2; k++) {
        const struct mp__tree *t = &p->tree[k];
        for (unsigned l = 0; rc == MP_OK && l <= t->depth; l++) {
            for (size_t d = 0; rc == MP_OK && d < t->ndirty[l]; d++) {
                rc = mp__reserve_chain(p, t, l, t->dirty[l][d]);
            }
        }
    }
    if (rc == MP_OK && data_page >= 0) {
        rc = mp__reserve(p, (uint64_t)data_page, (uint64_t)data_page + 1, 0);
    }
    return rc;
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
