/*
 * shim_files.c - the tracked files: identity, our own descriptor, and the
 * shadow, the file's durable content as the crash model sees it.
 *
 * The shadow is anonymous memory reserved with MAP_NORESERVE, so holes
 * cost nothing; bytes past shadow_len are kept zero (a page that reached
 * the disk beyond the durable size reads back as zeros until synced).
 * Current content is always read back from the file through our own
 * descriptor, never from the program's mapping: a MAP_SHARED mapping and
 * the page cache are the same memory, and reading the file also sees
 * write(2) data and outlives munmap and close.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

#define G faultfs_shim_g

int faultfs_shim_file_of_id(dev_t dev, ino_t ino)
{
    for (int i = 0; i < G.nfiles; i++) {
        if (G.files[i].dev == dev && G.files[i].ino == ino) {
            return i;
        }
    }
    return -1;
}

int faultfs_shim_file_of_fd(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return -1;
    }
    return faultfs_shim_file_of_id(st.st_dev, st.st_ino);
}

static void shadow_reserve(struct faultfs_shim_file *f, uint64_t need)
{
    uint64_t cap = f->shadow_cap ? f->shadow_cap : (uint64_t)16 << 20;
    void *p;

    if (need <= f->shadow_cap) {
        return;
    }
    while (cap < need) {
        cap *= 2;
    }
    if (f->shadow) {
        p = mremap(f->shadow, f->shadow_cap, cap, MREMAP_MAYMOVE);
    } else {
        p = faultfs_shim_sys_mmap(NULL, cap, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                                  -1, 0);
    }
    if (p == MAP_FAILED) {
        faultfs_shim_fatal("no address space for the shadow copy of ",
                           f->cur_name, NULL);
    }
    f->shadow = p;
    f->shadow_cap = cap;
}

/* Zero shadow bytes [lo, hi): whole pages are dropped, not written. */
static void shadow_zero(struct faultfs_shim_file *f, uint64_t lo, uint64_t hi)
{
    uint64_t a = (lo + G.page - 1) / G.page * G.page;
    uint64_t b = hi / G.page * G.page;

    if (hi <= lo) {
        return;
    }
    if (a >= b) {
        memset(f->shadow + lo, 0, hi - lo);
        return;
    }
    memset(f->shadow + lo, 0, a - lo);
    if (madvise(f->shadow + a, b - a, MADV_DONTNEED) != 0) {
        memset(f->shadow + a, 0, b - a);
    }
    memset(f->shadow + b, 0, hi - b);
}

/* Read [lo, hi) of the file into the shadow; past EOF reads as zeros. */
static void read_into(struct faultfs_shim_file *f, uint64_t lo, uint64_t hi)
{
    while (lo < hi) {
        ssize_t n = pread(f->fd, f->shadow + lo, hi - lo, (off_t)lo);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            shadow_zero(f, lo, hi);
            return;
        }
        lo += (uint64_t)n;
    }
}

/* Copy [lo, hi) of the current file into the shadow, skipping holes. */
static void load(struct faultfs_shim_file *f, uint64_t lo, uint64_t hi)
{
    shadow_reserve(f, hi);
    while (lo < hi) {
        off_t data = lseek(f->fd, (off_t)lo, SEEK_DATA);
        off_t hole;
        uint64_t end;
        if (data < 0) {
            if (errno == ENXIO) { /* nothing but a hole up to EOF */
                shadow_zero(f, lo, hi);
            } else { /* no SEEK_DATA here: read it all */
                read_into(f, lo, hi);
            }
            return;
        }
        if ((uint64_t)data >= hi) {
            shadow_zero(f, lo, hi);
            return;
        }
        shadow_zero(f, lo, (uint64_t)data);
        hole = lseek(f->fd, data, SEEK_HOLE);
        end = hole < 0 || (uint64_t)hole > hi ? hi : (uint64_t)hole;
        read_into(f, (uint64_t)data, end);
        lo = end;
    }
}

uint64_t faultfs_shim_cur_size(int i)
{
    struct stat st;
    if (fstat(G.files[i].fd, &st) != 0) {
        faultfs_shim_fatal("lost track of ", G.files[i].cur_name, NULL);
    }
    return (uint64_t)st.st_size;
}

int faultfs_shim_track(int fd, const char *abs, bool is_new)
{
    struct faultfs_shim_file *f;
    struct faultfs_shim_buf b;
    struct stat st;
    char proc[64];
    int i, own;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return -1;
    }
    i = faultfs_shim_file_of_id(st.st_dev, st.st_ino);
    if (i >= 0) {
        return i;
    }
    if (G.nfiles == FAULTFS_SHIM_MAX_FILES) {
        faultfs_shim_fatal("more than 64 files match FAULTFS_SHIM_MATCH; ",
                           "cannot track ", abs, NULL);
    }
    /* A new open file description: a lock the program takes with flock
     * on its own descriptor is not shared with ours. */
    faultfs_shim_buf_init(&b, proc, sizeof(proc) - 1);
    faultfs_shim_buf_str(&b, "/proc/self/fd/");
    faultfs_shim_buf_u64(&b, (uint64_t)fd);
    proc[b.len] = 0;
    own = faultfs_shim_sys_open(proc, O_RDONLY | O_CLOEXEC, 0);
    if (own < 0) {
        faultfs_shim_fatal("cannot open ", abs,
                           " for reading (the shim needs /proc and read "
                           "permission on tracked files)",
                           NULL);
    }
    i = G.nfiles;
    f = &G.files[i];
    memset(f, 0, sizeof(*f));
    f->dev = f->map_dev = st.st_dev;
    f->ino = f->map_ino = st.st_ino;
    f->fd = own;
    shadow_reserve(f, (uint64_t)st.st_size + 1);
    if (!is_new) {
        load(f, 0, (uint64_t)st.st_size);
        f->shadow_len = f->dur_size = (uint64_t)st.st_size;
    }
    strcpy(f->cur_name, abs);
    if (!is_new) {
        strcpy(f->dur_name, abs);
    }
    if (G.nfiles++ == 0) {
        G.owner = getpid();
    }
    if (is_new) {
        faultfs_shim_name_create(i, abs);
    }
    return i;
}

int faultfs_shim_lookup_fd(int fd)
{
    static const char deleted[] = " (deleted)";
    char proc[64], path[FAULTFS_SHIM_PATH];
    struct faultfs_shim_buf b;
    struct stat st;
    ssize_t n;
    int i;

    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        return -1;
    }
    i = faultfs_shim_file_of_id(st.st_dev, st.st_ino);
    if (i >= 0) {
        return i;
    }
    /* Opened some way we did not see (fopen, dup): match its name now. */
    faultfs_shim_buf_init(&b, proc, sizeof(proc) - 1);
    faultfs_shim_buf_str(&b, "/proc/self/fd/");
    faultfs_shim_buf_u64(&b, (uint64_t)fd);
    proc[b.len] = 0;
    n = readlink(proc, path, sizeof(path) - 1);
    if (n <= 0) {
        return -1;
    }
    path[n] = 0;
    if ((size_t)n > sizeof(deleted) - 1 &&
        strcmp(path + n - (sizeof(deleted) - 1), deleted) == 0) {
        return -1;
    }
    if (path[0] != '/' || !faultfs_shim_match(G.cfg.match, path)) {
        return -1;
    }
    return faultfs_shim_track(fd, path, false);
}

void faultfs_shim_make_durable(int i, uint64_t lo, uint64_t hi)
{
    struct faultfs_shim_file *f = &G.files[i];
    uint64_t size = faultfs_shim_cur_size(i);

    if (hi > size) {
        hi = size;
    }
    if (lo >= hi) {
        return;
    }
    load(f, lo, hi);
    if (hi > f->shadow_len) {
        f->shadow_len = hi;
    }
}

void faultfs_shim_sync_file(int i)
{
    struct faultfs_shim_file *f = &G.files[i];
    uint64_t size = faultfs_shim_cur_size(i);

    load(f, 0, size);
    if (f->shadow_len > size) {
        shadow_zero(f, size, f->shadow_len);
    }
    f->shadow_len = size;
    f->dur_size = size;
}

/* ---- /proc/self/maps ---- */

struct vma {
    uintptr_t start, end;
    uint64_t off;
    dev_t dev;
    ino_t ino;
    bool shared;
};

static const char *hex(const char *s, uint64_t *v)
{
    *v = 0;
    for (;; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9') {
            d = (unsigned)(*s - '0');
        } else if (*s >= 'a' && *s <= 'f') {
            d = (unsigned)(*s - 'a' + 10);
        } else {
            return s;
        }
        *v = *v * 16 + d;
    }
}

/* "start-end perms offset maj:min inode [path]" */
static bool parse_vma(const char *s, struct vma *v)
{
    uint64_t a, b, off, maj, min, ino = 0;
    s = hex(s, &a);
    if (*s++ != '-') {
        return false;
    }
    s = hex(s, &b);
    if (*s++ != ' ' || strlen(s) < 5) {
        return false;
    }
    v->shared = s[3] == 's';
    s += 4;
    if (*s++ != ' ') {
        return false;
    }
    s = hex(s, &off);
    if (*s++ != ' ') {
        return false;
    }
    s = hex(s, &maj);
    if (*s++ != ':') {
        return false;
    }
    s = hex(s, &min);
    if (*s++ != ' ') {
        return false;
    }
    for (; *s >= '0' && *s <= '9'; s++) {
        ino = ino * 10 + (uint64_t)(*s - '0');
    }
    v->start = (uintptr_t)a;
    v->end = (uintptr_t)b;
    v->off = off;
    v->dev = makedev((unsigned)maj, (unsigned)min);
    v->ino = (ino_t)ino;
    return true;
}

/* Call fn on every mapping until it returns false. Caller holds the lock
 * (the line buffer is static: too big for some threads' stacks). */
static void each_vma(bool (*fn)(const struct vma *, void *), void *ctx)
{
    static char buf[2 * FAULTFS_SHIM_PATH + 256];
    size_t have = 0;
    bool go = true;
    int fd = faultfs_shim_sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);

    if (fd < 0) {
        faultfs_shim_fatal("cannot read /proc/self/maps", NULL);
    }
    while (go) {
        ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
        char *line = buf, *nl;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        have += (size_t)n;
        while (go && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
            struct vma v;
            *nl = 0;
            if (parse_vma(line, &v)) {
                go = fn(&v, ctx);
            }
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (have == sizeof(buf) - 1) { /* no line is this long */
            break;
        }
    }
    close(fd);
}

struct learn {
    uintptr_t addr;
    int file;
};

static bool learn_one(const struct vma *v, void *ctx)
{
    struct learn *l = ctx;
    if (v->start <= l->addr && l->addr < v->end) {
        G.files[l->file].map_dev = v->dev;
        G.files[l->file].map_ino = v->ino;
        return false;
    }
    return true;
}

void faultfs_shim_learn_map(int i, const void *addr)
{
    struct learn l = { (uintptr_t)addr, i };
    each_vma(learn_one, &l);
}

struct collect {
    uintptr_t lo, hi;
    struct faultfs_shim_seg *segs;
    int n, max;
};

static bool collect_one(const struct vma *v, void *ctx)
{
    struct collect *c = ctx;
    uintptr_t a = v->start > c->lo ? v->start : c->lo;
    uintptr_t b = v->end < c->hi ? v->end : c->hi;
    struct faultfs_shim_seg s;

    if (a >= b || !v->shared) {
        return v->start < c->hi;
    }
    s.file = -1;
    for (int i = 0; i < G.nfiles; i++) {
        if (G.files[i].map_dev == v->dev && G.files[i].map_ino == v->ino) {
            s.file = i;
            break;
        }
    }
    if (s.file < 0) {
        return true;
    }
    s.lo = v->off + (a - v->start);
    s.hi = v->off + (b - v->start);
    if (c->n > 0 && c->segs[c->n - 1].file == s.file &&
        c->segs[c->n - 1].hi == s.lo) {
        c->segs[c->n - 1].hi = s.hi;
        return true;
    }
    if (c->n == c->max) {
        faultfs_shim_fatal("one msync covers too many separate mappings", NULL);
    }
    c->segs[c->n++] = s;
    return true;
}

int faultfs_shim_segs_of(uintptr_t lo, uintptr_t hi,
                         struct faultfs_shim_seg *segs, int max)
{
    struct collect c = { lo, hi, segs, 0, max };
    each_vma(collect_one, &c);
    return c.n;
}
