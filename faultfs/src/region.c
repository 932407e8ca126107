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
#include <fcntl.h>
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

/* Bases up to this size are copied into a reused region (see populate). */
#define WARM_COPY_MAX ((uint64_t)4 << 20)

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
        /* Mapped copy-on-write, the kernel copies only the pages stored
         * into; a reused region already has its pages, so a small base is
         * cheaper copied than faulted in again. */
        if (d->base->fd >= 0 && !(g->warm && n <= WARM_COPY_MAX)) {
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
            g->anon_from = mapped;
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
    if (!old.mem && fs->spare.mem &&
        fs->spare.maplen >= round_os(want < need ? need : want)) {
        /* A freed file's region, cleared: its pages are still in the page
         * table, so the program's first stores do not fault. The file gets
         * the reservation it asked for, however large the region. */
        *g = fs->spare;
        g->reserved = round_os(want < need ? need : want);
        g->warm = true;
        memset(&fs->spare, 0, sizeof(fs->spare));
        rc = MP_OK;
    } else {
        rc = reserve(want, need, &g->mem, &g->reserved);
        g->maplen = g->reserved;
        g->warm = false;
    }
    if (rc != MP_OK) {
        *g = old;
        return old.mem && old.reserved >= need ? MP_OK : rc;
    }
    g->anon_from = 0;
    if (old.mem && g->reserved <= old.reserved) {
        /* No bigger than what we have: keep the old one. */
        munmap(g->mem, (size_t)g->maplen);
        *g = old;
        return MP_OK;
    }
    g->acc = min64(round_os(ino->vsize), g->reserved);
    if (old.mem) {
        /* Rare (a second open asked for more room while nothing was
         * mapped): copy the bytes over. */
        if (g->acc &&
            mprotect(g->mem, (size_t)g->acc, PROT_READ | PROT_WRITE) != 0) {
            munmap(g->mem, (size_t)g->maplen);
            *g = old;
            return MP_ENOMEM;
        }
        g->prot = PROT_READ | PROT_WRITE;
        memcpy(g->mem, old.mem, (size_t)min64(old.acc, g->acc));
        munmap(old.mem, (size_t)old.maplen);
        return MP_OK;
    }
    rc = populate(fs, ino);
    if (rc != MP_OK) {
        munmap(g->mem, (size_t)g->maplen);
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

static int pagemap_fd(faultfs *fs);

/* Zero the touched pages of [from, to) of g (accessible, writable). */
static bool clear_touched(faultfs *fs, struct faultfs__region *g, uint64_t from,
                          uint64_t to)
{
    uint64_t os = faultfs__os_page(), ent[256];
    int fd = pagemap_fd(fs);

    if (fd < 0) {
        return false;
    }
    for (uint64_t a = from / os, b = to / os; a < b;) {
        uint64_t k = b - a < 256 ? b - a : 256;
        uintptr_t va = (uintptr_t)(g->mem + a * os);
        if (pread(fd, ent, (size_t)k * sizeof(ent[0]),
                  (off_t)(va / os * sizeof(ent[0]))) !=
            (ssize_t)(k * sizeof(ent[0]))) {
            return false;
        }
        for (uint64_t j = 0; j < k; j++) {
            if (ent[j] & ((uint64_t)3 << 62)) { /* present or swapped */
                memset(g->mem + (a + j) * os, 0, (size_t)os);
            }
        }
        a += k;
    }
    return true;
}

void faultfs__region_retire(faultfs *fs, struct faultfs__inode *ino)
{
    struct faultfs__region *g = &ino->reg;
    bool keep = g->mem != NULL;

    if (keep && fs->spare.mem) {
        keep = g->maplen > fs->spare.maplen;
    }
    if (keep && g->anon_from) {
        /* The part mapped from an image's memfd becomes plain anonymous
         * memory again (untouched, so nothing to clear). */
        keep = mmap(g->mem, (size_t)g->anon_from, PROT_NONE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
                    0) != MAP_FAILED;
    }
    if (keep && g->acc > g->anon_from) {
        keep = (g->prot == (PROT_READ | PROT_WRITE) ||
                mprotect(g->mem + g->anon_from, (size_t)(g->acc - g->anon_from),
                         PROT_READ | PROT_WRITE) == 0) &&
               clear_touched(fs, g, g->anon_from, g->acc);
    }
    if (keep && g->acc) {
        keep = mprotect(g->mem, (size_t)g->acc, PROT_NONE) == 0;
    }
    if (!keep) {
        faultfs__region_free(ino);
        return;
    }
    if (fs->spare.mem) {
        munmap(fs->spare.mem, (size_t)fs->spare.maplen);
    }
    fs->spare = *g;
    fs->spare.acc = 0;
    fs->spare.anon_from = 0;
    fs->spare.warm = false;
    fs->spare.prot = PROT_NONE;
    memset(g, 0, sizeof(*g));
}

void faultfs__region_free(struct faultfs__inode *ino)
{
    if (ino->reg.mem) {
        munmap(ino->reg.mem, (size_t)ino->reg.maplen);
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

/* Page-table entry bits of /proc/<pid>/pagemap (kernel admin-guide/mm). */
#define PM_PRESENT ((uint64_t)1 << 63)
#define PM_SWAPPED ((uint64_t)1 << 62)

static int pagemap_fd(faultfs *fs)
{
    long pid = (long)getpid();
    if (fs->pagemap_fd >= 0 && fs->pagemap_pid != pid) {
        /* A forked copy: the descriptor still reads the parent's table. */
        close(fs->pagemap_fd);
        fs->pagemap_fd = -1;
    }
    if (fs->pagemap_fd == -1) {
        int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        fs->pagemap_fd = fd >= 0 ? fd : -2;
        fs->pagemap_pid = pid;
    }
    return fs->pagemap_fd;
}

void faultfs__pagemap_close(faultfs *fs)
{
    if (fs->pagemap_fd >= 0) {
        close(fs->pagemap_fd);
    }
    fs->pagemap_fd = -1;
}

void faultfs__region_untouched(faultfs *fs, const struct faultfs__inode *ino,
                               uint64_t first, uint64_t n, unsigned char *zero)
{
    const struct faultfs__region *g = &ino->reg;
    uint64_t os = faultfs__os_page(), page = fs->page;
    uint64_t lo, hi, ent[256];
    int fd;

    memset(zero, 0, (size_t)n);
    if (!g->mem || n == 0) {
        return;
    }
    /* Only whole pages of the anonymous, accessible part. */
    lo = first * page;
    hi = (first + n) * page;
    if (lo < g->anon_from) {
        lo = (g->anon_from + page - 1) / page * page;
    }
    if (hi > g->acc) {
        hi = g->acc / page * page;
    }
    if (lo >= hi || (fd = pagemap_fd(fs)) < 0) {
        return;
    }
    if (page > os) {
        /* A page spans page / os (<= 256) OS pages: untouched only if all
         * of them are. */
        for (uint64_t pg = lo / page; pg < hi / page; pg++) {
            uint64_t cnt = page / os;
            uintptr_t va = (uintptr_t)(g->mem + pg * page);
            bool all =
                cnt <= 256 && pread(fd, ent, (size_t)cnt * sizeof(ent[0]),
                                    (off_t)(va / os * sizeof(ent[0]))) ==
                                  (ssize_t)(cnt * sizeof(ent[0]));
            for (uint64_t j = 0; all && j < cnt; j++) {
                all = !(ent[j] & (PM_PRESENT | PM_SWAPPED));
            }
            zero[pg - first] = all;
        }
        return;
    }
    /* Pages no bigger than an OS page: OS pages [a, b) cover the bytes,
     * and every page inside an untouched OS page is untouched. */
    for (uint64_t a = lo / os, b = (hi + os - 1) / os; a < b;) {
        uint64_t k = b - a < 256 ? b - a : 256;
        uintptr_t va = (uintptr_t)(g->mem + a * os);
        ssize_t got = pread(fd, ent, (size_t)k * sizeof(ent[0]),
                            (off_t)(va / os * sizeof(ent[0])));
        if (got != (ssize_t)(k * sizeof(ent[0]))) {
            memset(zero, 0, (size_t)n);
            return;
        }
        for (uint64_t j = 0; j < k; j++) {
            uint64_t s = (a + j) * os, e = s + os;
            if (ent[j] & (PM_PRESENT | PM_SWAPPED)) {
                continue;
            }
            s = s < lo ? lo : s;
            e = e > hi ? hi : e;
            for (uint64_t off = s; off < e; off += page) {
                zero[off / page - first] = 1;
            }
        }
        a += k;
    }
}

bool faultfs__untouched_at(faultfs *fs, const struct faultfs__inode *ino,
                           uint64_t pg, uint64_t last,
                           struct faultfs__zero_window *w)
{
    if (pg < w->start || pg >= w->start + w->n) {
        w->start = pg;
        w->n = last - pg < FAULTFS__ZW_PAGES ? last - pg : FAULTFS__ZW_PAGES;
        faultfs__region_untouched(fs, ino, pg, w->n, w->zero);
    }
    return w->zero[pg - w->start] != 0;
}
