/*
 * shim_image.c - at the chosen crash point, draw crash images from the
 * crash model, write them and a manifest, and end the process.
 *
 * One image, for each tracked file: the name a prefix of the pending name
 * changes leaves it (shim_names.c); the durable or the current size; and
 * page by page (the OS page, the unit the kernel writes back) the durable
 * bytes where the file agrees with them, and where it does not (a dirty
 * page) the old bytes, the new bytes, or a tear: sector by sector old or
 * new (or garbage, with FAULTFS_SHIM_GARBAGE=1). During a sync the pages
 * in flight are written in ascending order: those before a cut point are
 * new, the page at the cut is torn, the rest are dirty pages like any.
 *
 * Every choice comes from a generator seeded by (seed, point, image), so
 * the same variables give the same images: the manifest says which.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim.h"

#define G       faultfs_shim_g
#define MAXPAGE FAULTFS_SHIM_MAX_PAGE

enum choice {
    OLD,
    NEW,
    TORN,
    GARBAGE
};

static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct rng {
    uint64_t s;
};

static uint64_t next(struct rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix(r->s);
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? next(r) % n : 0;
}

/* The manifest is written in pieces through one static buffer. */
static char man_mem[1 << 16];
static struct faultfs_shim_buf man;
static int man_fd = -1;

static void man_room(void)
{
    if (man.len > sizeof(man_mem) - 2 * FAULTFS_SHIM_PATH) {
        (void)faultfs_shim_buf_flush(&man, man_fd);
    }
}

static void man_str(const char *s)
{
    faultfs_shim_buf_str(&man, s);
}

static void man_u64(uint64_t v)
{
    faultfs_shim_buf_u64(&man, v);
}

static unsigned char old_pg[MAXPAGE], new_pg[MAXPAGE], out_pg[MAXPAGE];
static char pattern[MAXPAGE + 1];

static void read_old(const struct faultfs_shim_file *f, uint64_t off)
{
    uint64_t n = 0;
    if (off < f->shadow_len) {
        n = f->shadow_len - off < G.page ? f->shadow_len - off : G.page;
        memcpy(old_pg, f->shadow + off, n);
    }
    memset(old_pg + n, 0, G.page - n);
}

static void read_new(const struct faultfs_shim_file *f, uint64_t off)
{
    uint64_t got = 0;
    while (got < G.page) {
        ssize_t n =
            pread(f->fd, new_pg + got, G.page - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += (uint64_t)n;
    }
    memset(new_pg + got, 0, G.page - got);
}

/* Build out_pg as a tear of old_pg and new_pg; pattern gets o/n/g. */
static void tear(struct rng *r)
{
    uint64_t sectors = G.page / G.cfg.sector;
    uint64_t kinds = G.cfg.garbage ? 3 : 2;
    bool all_same = true;

    for (uint64_t s = 0; s < sectors; s++) {
        pattern[s] = "ong"[below(r, kinds)];
        all_same = all_same && pattern[s] == pattern[0];
    }
    /* A tear that is all old or all new is not a tear. */
    if (all_same && sectors > 1) {
        uint64_t s = below(r, sectors);
        pattern[s] = pattern[s] == 'o' ? 'n' : 'o';
    }
    pattern[sectors] = 0;
    for (uint64_t s = 0; s < sectors; s++) {
        unsigned char *dst = out_pg + s * G.cfg.sector;
        uint64_t at = s * G.cfg.sector;
        if (pattern[s] == 'o') {
            memcpy(dst, old_pg + at, G.cfg.sector);
        } else if (pattern[s] == 'n') {
            memcpy(dst, new_pg + at, G.cfg.sector);
        } else {
            for (uint32_t b = 0; b < G.cfg.sector; b++) {
                dst[b] = (unsigned char)next(r);
            }
        }
    }
}

/* The pattern as text: as is up to 64 sectors, else run-length coded. */
static void man_pattern(void)
{
    size_t n = strlen(pattern);
    if (n <= 64) {
        man_str(pattern);
        return;
    }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && pattern[j] == pattern[i]) {
            j++;
        }
        faultfs_shim_buf_chr(&man, pattern[i]);
        man_u64(j - i);
        i = j;
        man_room();
    }
}

static bool all_zero(const unsigned char *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (p[i]) {
            return false;
        }
    }
    return true;
}

/* Cut page of the sync in flight over page pg of file i, or UINT64_MAX
 * if no range in flight covers it. Cuts are drawn once per image. */
static uint64_t cut_for(const struct faultfs_shim_point *pt,
                        const uint64_t *cuts, int i, uint64_t pg)
{
    for (int s = 0; pt->in_flight && s < pt->nsegs; s++) {
        if (pt->segs[s].file == i && pg >= pt->segs[s].lo / G.page &&
            pg < pt->segs[s].hi / G.page) {
            return cuts[s];
        }
    }
    return UINT64_MAX;
}

static enum choice choose(struct rng *r, uint64_t cut, uint64_t pg)
{
    bool can_tear = G.cfg.sector < G.page;
    if (cut != UINT64_MAX && pg < cut) {
        return NEW;
    }
    if (cut != UINT64_MAX && pg == cut && can_tear) {
        return TORN;
    }
    if (can_tear) {
        return (enum choice)below(r, 3);
    }
    return G.cfg.garbage && below(r, 3) == 2 ? GARBAGE
                                             : (enum choice)below(r, 2);
}

static const char *base_of(const char *name)
{
    const char *slash = strrchr(name, '/');
    return slash ? slash + 1 : name;
}

/* Create dir/<base name> for file i; a second tracked file with the same
 * base name in this image gets "~2", and so on. */
static int open_image_file(const char *dir, int i, int p, const char *name,
                           char *rel)
{
    char path[2 * FAULTFS_SHIM_PATH + 16];
    struct faultfs_shim_buf b;
    unsigned n = 1;

    for (int j = 0; j < i; j++) {
        if (strcmp(base_of(faultfs_shim_name_after(j, p)), base_of(name)) ==
            0) {
            n++;
        }
    }
    faultfs_shim_buf_init(&b, path, sizeof(path) - 1);
    faultfs_shim_buf_str(&b, dir);
    faultfs_shim_buf_chr(&b, '/');
    faultfs_shim_buf_str(&b, base_of(name));
    if (n > 1) {
        faultfs_shim_buf_chr(&b, '~');
        faultfs_shim_buf_u64(&b, n);
    }
    path[b.len] = 0;
    strcpy(rel, path + strlen(G.cfg.out) + 1);
    return faultfs_shim_sys_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                                 0644);
}

static int pwrite_all(int fd, const unsigned char *p, uint64_t n, uint64_t off)
{
    while (n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (uint64_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

static void write_file(const struct faultfs_shim_point *pt, struct rng *r,
                       int i, int p, const char *dir, const char *name)
{
    const struct faultfs_shim_file *f = &G.files[i];
    uint64_t cur = faultfs_shim_cur_size(i), size = f->dur_size;
    uint64_t cuts[FAULTFS_SHIM_MAX_SEGS], dirty = 0;
    bool size_free = cur != f->dur_size;
    char rel[2 * FAULTFS_SHIM_PATH + 16];
    int nsegs = pt->in_flight ? pt->nsegs : 0;
    int fd;

    if (size_free && below(r, 2)) {
        size = cur;
    }
    for (int s = 0; s < nsegs; s++) {
        uint64_t lo = pt->segs[s].lo / G.page, hi = pt->segs[s].hi / G.page;
        cuts[s] = lo + below(r, hi - lo + 1);
    }
    fd = open_image_file(dir, i, p, name, rel);
    if (fd < 0) {
        faultfs_shim_fatal("cannot write a crash image in ", dir, NULL);
    }
    man_str("  file ");
    man_str(name);
    man_str(" -> ");
    man_str(rel);
    man_str("\n    size ");
    man_u64(size);
    man_str(size_free
                ? (size == cur ? " (current; durable " : " (durable; current ")
                : " (durable and current");
    if (size_free) {
        man_u64(size == cur ? f->dur_size : cur);
    }
    man_str(")\n");
    for (int s = 0; s < nsegs; s++) {
        if (pt->segs[s].file == i) {
            man_str("    in flight: pages ");
            man_u64(pt->segs[s].lo / G.page);
            man_str("-");
            man_u64(pt->segs[s].hi / G.page - 1);
            if (cuts[s] == pt->segs[s].hi / G.page) {
                man_str(", all written\n");
                continue;
            }
            man_str(", written below page ");
            man_u64(cuts[s]);
            man_str(", page ");
            man_u64(cuts[s]);
            man_str(" torn if dirty\n");
        }
    }
    for (uint64_t off = 0; off < size; off += G.page) {
        uint64_t pg = off / G.page;
        uint64_t n = size - off < G.page ? size - off : G.page;
        const unsigned char *out = new_pg;
        read_old(f, off);
        read_new(f, off);
        if (memcmp(old_pg, new_pg, G.page) != 0) {
            enum choice c = choose(r, cut_for(pt, cuts, i, pg), pg);
            dirty++;
            man_str("    page ");
            man_u64(pg);
            if (c == OLD) {
                out = old_pg;
                man_str(": old\n");
            } else if (c == NEW) {
                man_str(": new\n");
            } else if (c == TORN) {
                tear(r);
                out = out_pg;
                man_str(": torn ");
                man_pattern();
                man_str("\n");
            } else {
                for (uint64_t b = 0; b < G.page; b++) {
                    out_pg[b] = (unsigned char)next(r);
                }
                out = out_pg;
                man_str(": garbage\n");
            }
            man_room();
        }
        /* All-zero pages stay holes: sparse files stay sparse. */
        if (!all_zero(out, n) && pwrite_all(fd, out, n, off) != 0) {
            faultfs_shim_fatal("cannot write a crash image in ", dir, NULL);
        }
    }
    if (faultfs_shim_sys_ftruncate(fd, (off_t)size) != 0) {
        faultfs_shim_fatal("cannot write a crash image in ", dir, NULL);
    }
    close(fd);
    man_str("    dirty pages: ");
    man_u64(dirty);
    man_str("\n");
}

static void write_image(const struct faultfs_shim_point *pt, uint64_t k,
                        uint32_t img)
{
    char dir[FAULTFS_SHIM_PATH + 32];
    struct faultfs_shim_buf b;
    struct rng r;
    int pending = faultfs_shim_names_pending(), p;

    r.s = mix(G.cfg.seed) ^ mix(k * 0x632be59bd9b4e019ULL) ^
          mix((uint64_t)img * 0xd1b54a32d192ed03ULL);
    man_str("image ");
    man_u64(img);
    man_str(" (generator state ");
    faultfs_shim_buf_hex(&man, r.s);
    man_str(")\n");
    p = (int)below(&r, (uint64_t)pending + 1);
    if (pending) {
        man_str("  name changes: ");
        man_u64((uint64_t)p);
        man_str(" of ");
        man_u64((uint64_t)pending);
        man_str(" pending reached the disk\n");
    }
    faultfs_shim_buf_init(&b, dir, sizeof(dir) - 1);
    faultfs_shim_buf_str(&b, G.cfg.out);
    faultfs_shim_buf_str(&b, "/img-");
    faultfs_shim_buf_u64(&b, img);
    dir[b.len] = 0;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        faultfs_shim_fatal("cannot create ", dir, NULL);
    }
    for (int i = 0; i < G.nfiles; i++) {
        const char *name = faultfs_shim_name_after(i, p);
        if (!*name) {
            const struct faultfs_shim_file *f = &G.files[i];
            man_str("  file ");
            man_str(f->cur_name[0] ? f->cur_name : "(unlinked)");
            man_str(": absent (no durable name)\n");
            continue;
        }
        write_file(pt, &r, i, p, dir, name);
        man_room();
    }
}

_Noreturn void faultfs_shim_crash(const struct faultfs_shim_point *pt,
                                  uint64_t k)
{
    char path[FAULTFS_SHIM_PATH + 32];
    struct faultfs_shim_buf b;

    if (mkdir(G.cfg.out, 0755) != 0 && errno != EEXIST) {
        faultfs_shim_fatal("FAULTFS_SHIM_OUT=", G.cfg.out,
                           ": cannot create the directory", NULL);
    }
    faultfs_shim_buf_init(&b, path, sizeof(path) - 1);
    faultfs_shim_buf_str(&b, G.cfg.out);
    faultfs_shim_buf_str(&b, "/manifest.txt");
    path[b.len] = 0;
    man_fd = faultfs_shim_sys_open(
        path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (man_fd < 0) {
        faultfs_shim_fatal("cannot write ", path, NULL);
    }
    faultfs_shim_buf_init(&man, man_mem, sizeof(man_mem));
    man_str("faultfs_shim crash manifest\npoint: ");
    man_u64(k);
    man_str("\ncall: ");
    faultfs_shim_label(&man, pt);
    man_str("\nseed: ");
    man_u64(G.cfg.seed);
    man_str("\nimages: ");
    man_u64(G.cfg.images);
    man_str("\nsector: ");
    man_u64(G.cfg.sector);
    man_str("\npage: ");
    man_u64(G.page);
    man_str("\ngarbage: ");
    man_u64(G.cfg.garbage);
    man_str("\nreplay: FAULTFS_SHIM_CRASH_AT=");
    man_u64(k);
    man_str(" FAULTFS_SHIM_SEED=");
    man_u64(G.cfg.seed);
    man_str(" FAULTFS_SHIM_IMAGES=");
    man_u64(G.cfg.images);
    man_str(" FAULTFS_SHIM_SECTOR=");
    man_u64(G.cfg.sector);
    man_str(" FAULTFS_SHIM_GARBAGE=");
    man_u64(G.cfg.garbage);
    man_str("\npatterns: one letter per sector: o old (durable), n new "
            "(current), g garbage\n");
    for (uint32_t img = 1; img <= G.cfg.images; img++) {
        write_image(pt, k, img);
        man_room();
    }
    man_str("end\n");
    if (faultfs_shim_buf_flush(&man, man_fd) != 0) {
        faultfs_shim_fatal("cannot write ", path, NULL);
    }
    close(man_fd);
    _exit(G.cfg.exit_code);
}
