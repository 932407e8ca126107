/*
 * persist.c - making things durable: the pages of sync ranges, a whole
 * file (sync_file), part of either (a sync caught in the middle, or one
 * that failed having written some of its range), and the namespace.
 *
 * Dirty pages are found by comparing the mapping with the durable image:
 * faultfs never intercepts a store. A sync costs a compare of its ranges;
 * a sync_file a compare of the file.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A sequence of pages: list[0..n) or, with list NULL, first..first+n. */
struct pages {
    const uint64_t *list;
    uint64_t first;
    uint64_t n;
};

static uint64_t page_at(const struct pages *ps, uint64_t i)
{
    return ps->list ? ps->list[i] : ps->first + i;
}

static bool is_zero(const unsigned char *p, size_t n)
{
    return !p || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static bool same(const unsigned char *a, const unsigned char *b, size_t n)
{
    if (!a || !b) {
        return is_zero(a ? a : b, n);
    }
    return a == b || memcmp(a, b, n) == 0;
}

/*
 * Pages of a whole-file run that read as zero without being looked at: a
 * sync_file after growth would otherwise fault in every new page only to
 * find it zero. Sync ranges name pages the program wrote: looked at.
 */
static bool untouched(faultfs *fs, const struct faultfs__inode *ino,
                      const struct pages *ps, uint64_t i,
                      struct faultfs__zero_window *w)
{
    return !ps->list &&
           faultfs__untouched_at(fs, ino, ps->first + i, ps->first + ps->n, w);
}

static uint32_t diff_sectors(const faultfs *fs, const unsigned char *o,
                             const unsigned char *n)
{
    uint32_t c = 0;
    for (size_t s = 0; s < fs->page; s += fs->sector) {
        if (!same(o ? o + s : NULL, n ? n + s : NULL, fs->sector)) {
            c++;
        }
    }
    return c;
}

/*
 * Persist the pages of ps in order: all of them, or (budget != UINT64_MAX)
 * only the first `budget` differing sectors. Counts pages and bytes made
 * durable.
 */
static int persist(faultfs *fs, struct faultfs__inode *ino,
                   const struct pages *ps, uint64_t budget, uint64_t *pages,
                   uint64_t *bytes)
{
    size_t page = fs->page, sector = fs->sector;
    unsigned char *scratch = malloc(page), *mix = malloc(page);
    struct faultfs__zero_window zw = { .n = 0 };
    int rc = MP_OK;

    if (!scratch || !mix) {
        rc = MP_ENOMEM;
        goto out;
    }
    for (uint64_t i = 0; i < ps->n && budget > 0 && rc == MP_OK; i++) {
        uint64_t pg = page_at(ps, i);
        const unsigned char *v =
            untouched(fs, ino, ps, i, &zw)
                ? NULL
                : faultfs__volatile_page(fs, ino, pg, scratch);
        const unsigned char *d = faultfs__durable_page(&ino->dur, pg, page);
        if (same(v, d, page)) {
            continue;
        }
        if (budget == UINT64_MAX) {
            if (!v) {
                memset(mix, 0, page);
            }
            rc = faultfs__durable_put(&ino->dur, pg, v ? v : mix, page);
        } else {
            /* Sectors reach the disk in address order. */
            if (d) {
                memcpy(mix, d, page);
            } else {
                memset(mix, 0, page);
            }
            for (size_t s = 0; s < page && budget > 0; s += sector) {
                if (same(v ? v + s : NULL, mix + s, sector)) {
                    continue;
                }
                if (v) {
                    memcpy(mix + s, v + s, sector);
                } else {
                    memset(mix + s, 0, sector);
                }
                budget--;
            }
            rc = faultfs__durable_put(&ino->dur, pg, mix, page);
        }
        (*pages)++;
        *bytes += page;
    }
out:
    free(scratch);
    free(mix);
    return rc;
}

/* Differing sectors over ps (for choosing a DURING prefix). */
static int count_dirty(faultfs *fs, struct faultfs__inode *ino,
                       const struct pages *ps, uint64_t *total)
{
    unsigned char *scratch = malloc(fs->page);
    struct faultfs__zero_window zw = { .n = 0 };
    if (!scratch) {
        return MP_ENOMEM;
    }
    *total = 0;
    for (uint64_t i = 0; i < ps->n; i++) {
        uint64_t pg = page_at(ps, i);
        const unsigned char *v =
            untouched(fs, ino, ps, i, &zw)
                ? NULL
                : faultfs__volatile_page(fs, ino, pg, scratch);
        const unsigned char *d = faultfs__durable_page(&ino->dur, pg, fs->page);
        if (!same(v, d, fs->page)) {
            *total += diff_sectors(fs, d, v);
        }
    }
    free(scratch);
    return MP_OK;
}

static int persist_mode(faultfs *fs, struct faultfs__inode *ino,
                        const struct pages *ps, int mode, uint64_t point,
                        uint64_t *pages, uint64_t *bytes)
{
    uint64_t total, budget;
    int rc;

    *pages = 0;
    *bytes = 0;
    if (mode == FAULTFS_PERSIST_NONE) {
        return MP_OK;
    }
    if (mode == FAULTFS_PERSIST_ALL) {
        return persist(fs, ino, ps, UINT64_MAX, pages, bytes);
    }
    rc = count_dirty(fs, ino, ps, &total);
    if (rc != MP_OK || total < 2) {
        /* One sector or none cannot be split: nothing of it landed. */
        return rc;
    }
    budget = 1 + faultfs__rand(fs, point, 1) % (total - 1);
    return persist(fs, ino, ps, budget, pages, bytes);
}

static int cmp_pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    if (x[0] != y[0]) {
        return x[0] < y[0] ? -1 : 1;
    }
    return x[1] < y[1] ? -1 : x[1] > y[1];
}

int faultfs__sync_ranges(faultfs *fs, struct faultfs__handle *h,
                         const struct mp_io_range *r, size_t n, int mode,
                         uint64_t point, uint64_t *pages, uint64_t *bytes)
{
    struct faultfs__inode *ino = h->ino;
    uint64_t limit = h->map_bytes < ino->vsize ? h->map_bytes : ino->vsize;
    uint64_t *list = NULL, *sorted = NULL, cnt = 0, cap = 0, kept = 0;
    size_t page = fs->page;
    struct pages ps;
    int rc;

    /* The pages the ranges touch, in the order msync would write them,
     * each once. */
    for (size_t i = 0; i < n; i++) {
        uint64_t end = r[i].offset + r[i].length;
        uint64_t lo, hi;
        if (end < r[i].offset || end > limit) {
            end = limit;
        }
        if (r[i].offset >= end) {
            continue;
        }
        lo = r[i].offset / page;
        hi = (end + page - 1) / page;
        if (cnt + (hi - lo) > cap) {
            uint64_t ncap = cap ? cap : 16;
            uint64_t *nl;
            while (ncap < cnt + (hi - lo)) {
                ncap *= 2;
            }
            nl = realloc(list, (size_t)ncap * sizeof(*list));
            if (!nl) {
                free(list);
                return MP_ENOMEM;
            }
            list = nl;
            cap = ncap;
        }
        for (uint64_t pg = lo; pg < hi; pg++) {
            list[cnt++] = pg;
        }
    }
    if (cnt > 1) {
        /* Pairs (page, position), sorted: every copy after the first of a
         * page is dropped, the rest keep their order. */
        sorted = malloc((size_t)cnt * 2 * sizeof(*sorted));
        if (!sorted) {
            free(list);
            return MP_ENOMEM;
        }
        for (uint64_t i = 0; i < cnt; i++) {
            sorted[2 * i] = list[i];
            sorted[2 * i + 1] = i;
        }
        qsort(sorted, (size_t)cnt, 2 * sizeof(*sorted), cmp_pair);
        for (uint64_t i = 1; i < cnt; i++) {
            if (sorted[2 * i] == sorted[2 * i - 2]) {
                list[sorted[2 * i + 1]] = UINT64_MAX;
            }
        }
        for (uint64_t i = 0; i < cnt; i++) {
            if (list[i] != UINT64_MAX) {
                list[kept++] = list[i];
            }
        }
        free(sorted);
        cnt = kept;
    }
    ps.list = list;
    ps.first = 0;
    ps.n = cnt;
    rc = persist_mode(fs, ino, &ps, mode, point, pages, bytes);
    free(list);
    return rc;
}

int faultfs__sync_inode(faultfs *fs, struct faultfs__inode *ino, int mode,
                        uint64_t point, uint64_t *pages, uint64_t *bytes)
{
    struct pages ps;
    int rc;

    ps.list = NULL;
    ps.first = 0;
    ps.n = (ino->vsize + fs->page - 1) / fs->page;
    rc = persist_mode(fs, ino, &ps, mode, point, pages, bytes);
    if (rc == MP_OK && mode == FAULTFS_PERSIST_ALL) {
        /* fsync: the length too, and nothing durable past it. */
        if (ino->dsize > ino->vsize) {
            rc = faultfs__durable_cut(&ino->dur, ino->vsize, fs->page);
        }
        ino->dsize = ino->vsize;
    }
    return rc;
}

void faultfs__ns_commit(faultfs *fs)
{
    struct faultfs__names keep = fs->dur;
    size_t i;

    /* Every pending operation lands: the durable names become the current
     * ones. On allocation failure the old durable names stay (a sync_dir
     * that did nothing is still within the model). */
    memset(&fs->dur, 0, sizeof(fs->dur));
    for (i = 0; i < fs->cur.n; i++) {
        if (faultfs__names_add(&fs->dur, fs->cur.v[i].name, fs->cur.v[i].ino) !=
            MP_OK) {
            break;
        }
    }
    if (i < fs->cur.n) {
        for (size_t j = 0; j < fs->dur.n; j++) {
            free(fs->dur.v[j].name);
        }
        free(fs->dur.v);
        fs->dur = keep;
        return;
    }
    for (size_t j = 0; j < keep.n; j++) {
        free(keep.v[j].name);
    }
    free(keep.v);
    for (size_t j = 0; j < fs->nops; j++) {
        free(fs->ops[j].a);
        free(fs->ops[j].b);
    }
    fs->nops = 0;
    faultfs__gc(fs);
}
