/*
 * region.c - the volatile state of a file: one reserved address range that
 * every open of the file maps, like the pages of one page cache.
 *
 * The range is reserved PROT_NONE and MAP_NORESERVE, and [0, acc) of it is
 * made accessible as the file grows, so pointers never move. A file that
 * came from a crash image maps its base memfd MAP_PRIVATE at the start of
 * the range: the kernel then copies a page only when it is first stored
 * into, so opening an image costs its dirty pages, not the file.
 *
 * Invariant: bytes of [vsize, acc) are zero, as the tail of a real file's
 * last page reads as zeros.
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

size_t faultfs__os_page(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    return ps > 0 ? (size_t)ps : 4096;
}

static uint64_t round_os(uint64_t n)
{
    uint64_t os = faultfs__os_page();
    return n > UINT64_MAX - os ? UINT64_MAX / os * os : (n + os - 1) / os * os;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

static int reserve(uint64_t want, uint64_t need, unsigned char **mem,
                   uint64_t *got)
{
    void *r = MAP_FAILED;
    want = round_os(want < need ? need : want);
    need = round_os(need);
    /* Like the posix backend: take what we can, never less than needed. */
    for (;;) {
        if (want <= SIZE_MAX) {
            r = mmap(NULL, (size_t)want, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        }
        if (r != MAP_FAILED || want <= need) {
            break;
        }
        want = round_os(want / 2);
        if (want < need) {
            want = need;
        }
    }
    if (r == MAP_FAILED) {
        return MP_ENOMEM;
    }
    *mem = r;
    *got = want;
    return MP_OK;
}

/* Fill a fresh region with the file's durable bytes, cut at vsize. */
static int populate(faultfs *fs, struct faultfs__inode *ino)
{
    struct faultfs__region *g = &ino->reg;
    const struct faultfs__durable *d = &ino->dur;
    uint64_t mapped = 0, tail_end;
    size_t page = fs->page;

    if (g->acc && mprotect(g->mem, (size_t)g->acc, PROT_READ | PROT_WRITE)) {
        return MP_ENOMEM;
    }
    g->prot = PROT_READ | PROT_WRITE;
    if (d->base && d->base_len) {
        uint64_t n = min64(g->acc, d->base_len);
        if (d->base->fd >= 0) {
            mapped = min64(round_os(n), g->acc);
            if (mapped &&
                mmap(g->mem, (size_t)mapped, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_FIXED, d->base->fd, 0) == MAP_FAILED) {
                return MP_ENOMEM;
            }
            if (mapped > n) {
                /* Base bytes past base_len belong to a cut-off size. */
                memset(g->mem + n, 0, (size_t)(mapped - n));
            }
        } else {
            memcpy(g->mem, d->base->mem, (size_t)n);
        }
    }
    for (size_t i = 0; i < d->over.cap; i++) {
        uint64_t off = d->over.keys[i] * page;
        if (d->over.keys[i] == UINT64_MAX || off >= g->acc) {
            continue;
        }
        memcpy(g->mem + off, d->over.vals[i]->data,
               (size_t)min64(page, g->acc - off));
    }
    tail_end = faultfs__durable_extent(d, page) * page;
    if (tail_end > ino->vsize && ino->vsize < g->acc) {
        memset(g->mem + ino->vsize, 0,
               (size_t)(min64(tail_end, g->acc) - ino->vsize));
    }
    return MP_OK;
}

int faultfs__region_need(faultfs *fs, struct faultfs__inode *ino, uint64_t want,
                         uint64_t need)
{
    struct faultfs__region *g = &ino->reg, old = ino->reg;
    uint64_t size_need = round_os(ino->vsize);
    int rc;

    if (need < size_need) {
        need = size_need;
    }
    if (g->mem && (ino->maps_rw || ino->maps_ro)) {
        /* Mapped: the region cannot move under the program's pointers. */
        return g->reserved >= need ? MP_OK : MP_ENOMEM;
    }
    if (g->mem && g->reserved >= need && g->reserved >= round_os(want)) {
        return MP_OK;
    }
    rc = reserve(want, need, &g->mem, &g->reserved);
    if (rc != MP_OK) {
        *g = old;
        return old.mem && old.reserved >= need ? MP_OK : rc;
    }
    if (old.mem && g->reserved <= old.reserved) {
        /* No bigger than what we have: keep the old one. */
        munmap(g->mem, (size_t)g->reserved);
        *g = old;
        return MP_OK;
    }
    g->acc = min64(round_os(ino->vsize), g->reserved);
    if (old.mem) {
        /* Rare (a second open asked for more room while nothing was
         * mapped): copy the bytes over. */
        if (g->acc &&
            mprotect(g->mem, (size_t)g->acc, PROT_READ | PROT_WRITE) != 0) {
            munmap(g->mem, (size_t)g->reserved);
            *g = old;
            return MP_ENOMEM;
        }
        g->prot = PROT_READ | PROT_WRITE;
        memcpy(g->mem, old.mem, (size_t)min64(old.acc, g->acc));
        munmap(old.mem, (size_t)old.reserved);
        return MP_OK;
    }
    rc = populate(fs, ino);
    if (rc != MP_OK) {
        munmap(g->mem, (size_t)g->reserved);
        *g = old;
    }
    return rc;
}

int faultfs__region_resize(faultfs *fs, struct faultfs__inode *ino,
                           uint64_t old_size)
{
    struct faultfs__region *g = &ino->reg;
    uint64_t nacc;

    (void)fs;
    if (!g->mem) {
        return MP_OK;
    }
    nacc = min64(round_os(ino->vsize), g->reserved);
    if (ino->vsize < old_size) {
        uint64_t end = min64(old_size, g->acc);
        if (ino->vsize < end) {
            memset(g->mem + ino->vsize, 0, (size_t)(end - ino->vsize));
        }
        if (nacc < g->acc) {
            mprotect(g->mem + nacc, (size_t)(g->acc - nacc), PROT_NONE);
            g->acc = nacc;
        }
        return MP_OK;
    }
    if (nacc > g->acc) {
        if (mprotect(g->mem + g->acc, (size_t)(nacc - g->acc), g->prot) != 0) {
            return MP_ENOMEM;
        }
        g->acc = nacc;
    }
    return MP_OK;
}

void faultfs__region_protect(struct faultfs__inode *ino)
{
    struct faultfs__region *g = &ino->reg;
    int want =
        ino->maps_ro && !ino->maps_rw ? PROT_READ : PROT_READ | PROT_WRITE;
    if (!g->mem || g->prot == want) {
        return;
    }
    if (g->acc == 0 || mprotect(g->mem, (size_t)g->acc, want) == 0) {
        g->prot = want;
    }
}

void faultfs__region_free(struct faultfs__inode *ino)
{
    if (ino->reg.mem) {
        munmap(ino->reg.mem, (size_t)ino->reg.reserved);
    }
    memset(&ino->reg, 0, sizeof(ino->reg));
}

const unsigned char *faultfs__volatile_page(faultfs *fs,
                                            struct faultfs__inode *ino,
                                            uint64_t pg, unsigned char *scratch)
{
    const struct faultfs__region *g = &ino->reg;
    size_t page = fs->page;
    uint64_t off = pg * page, have;
    const unsigned char *src;

    if (off >= ino->vsize) {
        return NULL;
    }
    if (g->mem) {
        if (off + page <= g->acc) {
            return g->mem + off;
        }
        if (off >= g->acc) {
            return NULL;
        }
        memcpy(scratch, g->mem + off, (size_t)(g->acc - off));
        memset(scratch + (g->acc - off), 0, (size_t)(off + page - g->acc));
        return scratch;
    }
    src = faultfs__durable_page(&ino->dur, pg, page);
    if (!src) {
        return NULL;
    }
    have = ino->vsize - off;
    if (have >= page) {
        return src;
    }
    memcpy(scratch, src, (size_t)have);
    memset(scratch + have, 0, (size_t)(page - have));
    return scratch;
}
