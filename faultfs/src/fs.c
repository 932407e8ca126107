/*
 * fs.c - a faultfs: its files, names and lifetime, and the harness-side
 * file calls (read, write, truncate, remove, load, write out).
 *
 * Names are a flat namespace with a durable copy and a journal of pending
 * operations (persist.c replays or commits them). An inode lives while a
 * current or durable name, a pending operation or an open handle refers to
 * it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_RESERVE ((uint64_t)64 << 20)

char *faultfs__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) {
        memcpy(d, s, n);
    }
    return d;
}

static bool pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

void faultfs_config_init(struct faultfs_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->version = FAULTFS_CONFIG_VERSION;
    cfg->page_size = FAULTFS_DEFAULT_PAGE_SIZE;
    cfg->sector_size = FAULTFS_DEFAULT_SECTOR_SIZE;
    cfg->trace_max = FAULTFS_DEFAULT_TRACE_MAX;
}

/* cfg (or the defaults) with zeros filled in, checked. */
static int fill_config(const struct faultfs_config *cfg,
                       struct faultfs_config *c)
{
    if (cfg) {
        *c = *cfg;
    } else {
        faultfs_config_init(c);
    }
    if (c->version != FAULTFS_CONFIG_VERSION) {
        return MP_EINVAL;
    }
    if (c->page_size == 0) {
        c->page_size = FAULTFS_DEFAULT_PAGE_SIZE;
    }
    if (c->sector_size == 0) {
        c->sector_size = c->page_size < FAULTFS_DEFAULT_SECTOR_SIZE
                             ? c->page_size
                             : FAULTFS_DEFAULT_SECTOR_SIZE;
    }
    if (c->trace_max == 0) {
        c->trace_max = FAULTFS_DEFAULT_TRACE_MAX;
    }
    if (!pow2(c->page_size) || c->page_size < 512 ||
        c->page_size > (1u << 20) || !pow2(c->sector_size) ||
        c->sector_size > c->page_size || c->trace_max > ((size_t)1 << 24)) {
        return MP_EINVAL;
    }
    return MP_OK;
}

/* A fresh state for fs (all zero but the mutex and what is kept). */
static void init_fresh(faultfs *fs, const struct faultfs_config *c)
{
    fs->cfg = *c;
    fs->page = c->page_size;
    fs->sector = c->sector_size;
    fs->pagemap_fd = -1;
    faultfs__vfs_init(fs);
}

int faultfs_new(const struct faultfs_config *cfg, faultfs **out)
{
    struct faultfs_config c;
    faultfs *fs;
    int rc;

    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    rc = fill_config(cfg, &c);
    if (rc != MP_OK) {
        return rc;
    }
    fs = calloc(1, sizeof(*fs));
    if (!fs) {
        return MP_ENOMEM;
    }
    if (pthread_mutex_init(&fs->mu, NULL) != 0) {
        free(fs);
        return MP_ENOMEM;
    }
    init_fresh(fs, &c);
    *out = fs;
    return MP_OK;
}

int faultfs__new_like(faultfs *fs, faultfs **out)
{
    faultfs *sp = fs->image_spare;
    if (sp) {
        fs->image_spare = NULL;
        if (faultfs_reuse(sp, &fs->cfg) == MP_OK) {
            *out = sp;
            return MP_OK;
        }
        faultfs_free(sp);
    }
    return faultfs_new(&fs->cfg, out);
}

void faultfs_image_spare(faultfs *fs, faultfs *spare)
{
    if (spare == fs) {
        return; /* fs cannot own itself */
    }
    if (!fs) {
        faultfs_free(spare);
        return;
    }
    pthread_mutex_lock(&fs->mu);
    faultfs_free(fs->image_spare);
    fs->image_spare = spare;
    pthread_mutex_unlock(&fs->mu);
}

static void names_free(struct faultfs__names *ns)
{
    for (size_t i = 0; i < ns->n; i++) {
        free(ns->v[i].name);
    }
    free(ns->v);
    memset(ns, 0, sizeof(*ns));
}

/* Free ino; its region goes to fs->spare when fs is given. */
static void inode_free(faultfs *fs, struct faultfs__inode *ino)
{
    if (ino->lock_fd >= 0) {
        close(ino->lock_fd);
    }
    if (fs) {
        faultfs__region_retire(fs, ino);
    } else {
        faultfs__region_free(ino);
    }
    faultfs__durable_free(&ino->dur);
    free(ino);
}

/* Free everything fs holds but the mutex; keep_regions keeps one region
 * (cleared) as fs->spare. */
static void release(faultfs *fs, bool keep_regions)
{
    struct faultfs__inode *ino, *next;
    for (ino = fs->inodes; ino; ino = next) {
        next = ino->next;
        inode_free(keep_regions ? fs : NULL, ino);
    }
    fs->inodes = NULL;
    names_free(&fs->cur);
    names_free(&fs->dur);
    for (size_t i = 0; i < fs->nops; i++) {
        free(fs->ops[i].a);
        free(fs->ops[i].b);
    }
    free(fs->ops);
    faultfs__snap_free(fs->snap);
    free(fs->trace);
    free(fs->pattern);
    if (!keep_regions) {
        faultfs_free(fs->image_spare);
        fs->image_spare = NULL;
        if (fs->spare.mem) {
            munmap(fs->spare.mem, (size_t)fs->spare.maplen);
        }
        faultfs__pagemap_close(fs);
    }
}

void faultfs_free(faultfs *fs)
{
    if (!fs) {
        return;
    }
    release(fs, false);
    pthread_mutex_destroy(&fs->mu);
    free(fs);
}

_Static_assert(offsetof(struct faultfs, mu) < offsetof(struct faultfs, page),
               "faultfs_reuse() clears from `page` on: the mutex comes first");

int faultfs_reuse(faultfs *fs, const struct faultfs_config *cfg)
{
    struct faultfs_config c;
    struct faultfs__region spare;
    faultfs *image_spare;
    int rc, fd;
    long pid;

    if (!fs) {
        return MP_EINVAL;
    }
    rc = fill_config(cfg, &c);
    if (rc != MP_OK) {
        return rc;
    }
    for (struct faultfs__inode *ino = fs->inodes; ino; ino = ino->next) {
        if (ino->handles > 0) {
            return MP_EINVAL;
        }
    }
    release(fs, true);
    image_spare = fs->image_spare;
    spare = fs->spare;
    fd = fs->pagemap_fd;
    pid = fs->pagemap_pid;
    /* Everything after the mutex starts over, as from faultfs_new() (vfs
     * and cfg, before it, are set again by init_fresh); the mutex itself
     * is never copied or re-made. Then the kept parts go back. */
    memset((char *)fs + offsetof(struct faultfs, page), 0,
           sizeof(*fs) - offsetof(struct faultfs, page));
    init_fresh(fs, &c);
    fs->spare = spare;
    fs->image_spare = image_spare;
    fs->pagemap_fd = fd;
    fs->pagemap_pid = pid;
    return MP_OK;
}

const struct mp_vfs *faultfs_vfs(faultfs *fs)
{
    return &fs->vfs;
}

void faultfs_get_config(const faultfs *fs, struct faultfs_config *cfg)
{
    *cfg = fs->cfg;
}

/* ---- inodes and names ------------------------------------------------ */

int faultfs__inode_new(faultfs *fs, struct faultfs__inode **out)
{
    struct faultfs__inode *ino = calloc(1, sizeof(*ino));
    if (!ino) {
        return MP_ENOMEM;
    }
    ino->id = fs->next_ino++;
    ino->lock_fd = -1;
    /* Kept in creation order: snapshots number files by it. */
    if (!fs->inodes) {
        fs->inodes = ino;
    } else {
        struct faultfs__inode *t = fs->inodes;
        while (t->next) {
            t = t->next;
        }
        t->next = ino;
    }
    *out = ino;
    return MP_OK;
}

static struct faultfs__name *find(const struct faultfs__names *ns,
                                  const char *name)
{
    for (size_t i = 0; i < ns->n; i++) {
        if (strcmp(ns->v[i].name, name) == 0) {
            return &ns->v[i];
        }
    }
    return NULL;
}

struct faultfs__inode *faultfs__lookup(const faultfs *fs, const char *name)
{
    struct faultfs__name *n = find(&fs->cur, name);
    return n ? n->ino : NULL;
}

int faultfs__names_add(struct faultfs__names *ns, const char *name,
                       struct faultfs__inode *ino)
{
    char *d;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 8;
        struct faultfs__name *v = realloc(ns->v, cap * sizeof(*v));
        if (!v) {
            return MP_ENOMEM;
        }
        ns->v = v;
        ns->cap = cap;
    }
    d = faultfs__strdup(name);
    if (!d) {
        return MP_ENOMEM;
    }
    ns->v[ns->n].name = d;
    ns->v[ns->n].ino = ino;
    ns->n++;
    return MP_OK;
}

static void names_del(struct faultfs__names *ns, struct faultfs__name *n)
{
    size_t i = (size_t)(n - ns->v);
    free(n->name);
    memmove(ns->v + i, ns->v + i + 1, (ns->n - i - 1) * sizeof(*ns->v));
    ns->n--;
}

static bool names_refer(const struct faultfs__names *ns,
                        const struct faultfs__inode *ino)
{
    for (size_t i = 0; i < ns->n; i++) {
        if (ns->v[i].ino == ino) {
            return true;
        }
    }
    return false;
}

void faultfs__gc(faultfs *fs)
{
    struct faultfs__inode **pp = &fs->inodes;
    while (*pp) {
        struct faultfs__inode *ino = *pp;
        bool live = ino->handles > 0 || names_refer(&fs->cur, ino) ||
                    names_refer(&fs->dur, ino);
        for (size_t i = 0; !live && i < fs->nops; i++) {
            live = fs->ops[i].ino == ino;
        }
        if (live) {
            pp = &ino->next;
        } else {
            *pp = ino->next;
            inode_free(fs, ino);
        }
    }
}

/* ---- harness-side file calls ------------------------------------------- */

size_t faultfs_file_count(const faultfs *fs)
{
    faultfs *m = (faultfs *)fs;
    size_t n;
    pthread_mutex_lock(&m->mu);
    n = fs->cur.n;
    pthread_mutex_unlock(&m->mu);
    return n;
}

const char *faultfs_file_name(const faultfs *fs, size_t i)
{
    faultfs *m = (faultfs *)fs;
    const char *name;
    pthread_mutex_lock(&m->mu);
    name = i < fs->cur.n ? fs->cur.v[i].name : NULL;
    pthread_mutex_unlock(&m->mu);
    return name;
}

int faultfs_file_size(const faultfs *fs, const char *name, uint64_t *size)
{
    faultfs *m = (faultfs *)fs;
    struct faultfs__inode *ino;
    int rc = MP_ENOENT;
    pthread_mutex_lock(&m->mu);
    ino = name ? faultfs__lookup(fs, name) : NULL;
    if (ino) {
        *size = ino->vsize;
        rc = MP_OK;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

int faultfs_file_durable_size(const faultfs *fs, const char *name,
                              uint64_t *size)
{
    faultfs *m = (faultfs *)fs;
    struct faultfs__inode *ino;
    int rc = MP_ENOENT;
    pthread_mutex_lock(&m->mu);
    ino = name ? faultfs__lookup(fs, name) : NULL;
    if (ino) {
        *size = ino->dsize;
        rc = MP_OK;
    }
    pthread_mutex_unlock(&m->mu);
    return rc;
}

static void read_bytes(faultfs *fs, struct faultfs__inode *ino, bool durable,
                       uint64_t off, unsigned char *dst, size_t len,
                       unsigned char *scratch)
{
    size_t page = fs->page;
    while (len > 0) {
        uint64_t pg = off / page;
        size_t in = (size_t)(off % page), n = page - in;
        const unsigned char *src;
        if (n > len) {
            n = len;
        }
        src = durable ? faultfs__durable_page(&ino->dur, pg, page)
                      : faultfs__volatile_page(fs, ino, pg, scratch);
        if (src) {
            memcpy(dst, src + in, n);
        } else {
            memset(dst, 0, n);
        }
        dst += n;
        off += n;
        len -= n;
    }
}

int faultfs_file_read(faultfs *fs, const char *name, bool durable,
                      uint64_t offset, void *buf, size_t len)
{
    struct faultfs__inode *ino;
    unsigned char *scratch;
    uint64_t size;
    int rc = MP_OK;

    if (!name || (!buf && len)) {
        return MP_EINVAL;
    }
    scratch = malloc(fs->page);
    if (!scratch) {
        return MP_ENOMEM;
    }
    pthread_mutex_lock(&fs->mu);
    ino = faultfs__lookup(fs, name);
    if (!ino) {
        rc = MP_ENOENT;
        goto out;
    }
    size = durable ? ino->dsize : ino->vsize;
    if (offset > size || len > size - offset) {
        rc = MP_EINVAL;
        goto out;
    }
    read_bytes(fs, ino, durable, offset, buf, len, scratch);
out:
    pthread_mutex_unlock(&fs->mu);
    free(scratch);
    return rc;
}

static uint64_t default_reserve(uint64_t need)
{
    return need > DEFAULT_RESERVE / 2 ? need * 2 : DEFAULT_RESERVE;
}

/* Set the volatile size, keeping the region in step. */
static int set_vsize(faultfs *fs, struct faultfs__inode *ino, uint64_t size)
{
    uint64_t old = ino->vsize;
    int rc;
    ino->vsize = size;
    rc = faultfs__region_resize(fs, ino, old);
    if (rc != MP_OK) {
        ino->vsize = old;
    }
    return rc;
}

int faultfs_file_write(faultfs *fs, const char *name, uint64_t offset,
                       const void *buf, size_t len)
{
    struct faultfs__inode *ino;
    uint64_t end;
    int rc;

    if (!name || (!buf && len) || offset > UINT64_MAX - len) {
        return MP_EINVAL;
    }
    end = offset + len;
    pthread_mutex_lock(&fs->mu);
    ino = faultfs__lookup(fs, name);
    if (!ino) {
        rc = MP_ENOENT;
        goto out;
    }
    if (len == 0) {
        rc = MP_OK;
        goto out;
    }
    rc = faultfs__region_need(fs, ino, default_reserve(end), end);
    if (rc == MP_OK && end > ino->vsize) {
        rc = set_vsize(fs, ino, end);
    }
    if (rc == MP_OK) {
        int prot = ino->reg.prot;
        if (prot != (PROT_READ | PROT_WRITE)) {
            mprotect(ino->reg.mem, (size_t)ino->reg.acc,
                     PROT_READ | PROT_WRITE);
        }
        memcpy(ino->reg.mem + offset, buf, len);
        if (prot != (PROT_READ | PROT_WRITE)) {
            mprotect(ino->reg.mem, (size_t)ino->reg.acc, prot);
        }
    }
out:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int faultfs_file_truncate(faultfs *fs, const char *name, uint64_t size)
{
    struct faultfs__inode *ino;
    int rc;

    if (!name) {
        return MP_EINVAL;
    }
    pthread_mutex_lock(&fs->mu);
    ino = faultfs__lookup(fs, name);
    if (!ino) {
        rc = MP_ENOENT;
        goto out;
    }
    if (size < ino->vsize && (ino->maps_rw || ino->maps_ro)) {
        /* A mapped tail would turn into SIGBUS; refuse instead. */
        rc = MP_EINVAL;
        goto out;
    }
    rc = faultfs__region_need(fs, ino, default_reserve(size), size);
    if (rc == MP_OK) {
        rc = set_vsize(fs, ino, size);
    }
out:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int faultfs_file_remove(faultfs *fs, const char *name)
{
    struct faultfs__name *c, *d;
    int rc = MP_ENOENT;
    if (!name) {
        return MP_EINVAL;
    }
    pthread_mutex_lock(&fs->mu);
    c = find(&fs->cur, name);
    if (c) {
        names_del(&fs->cur, c);
        rc = MP_OK;
    }
    d = find(&fs->dur, name);
    if (d) {
        names_del(&fs->dur, d);
    }
    faultfs__gc(fs);
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int faultfs_sync_all(faultfs *fs)
{
    int rc = MP_OK;
    pthread_mutex_lock(&fs->mu);
    if (fs->crashed) {
        rc = MP_EINVAL;
        goto out;
    }
    for (struct faultfs__inode *ino = fs->inodes; ino && rc == MP_OK;
         ino = ino->next) {
        uint64_t p, b;
        rc = faultfs__sync_inode(fs, ino, FAULTFS_PERSIST_ALL, 0, &p, &b);
    }
    if (rc == MP_OK) {
        faultfs__ns_commit(fs);
    }
out:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

int faultfs_write_file(faultfs *fs, const char *name, const char *host_path)
{
    struct faultfs__inode *ino;
    size_t page = fs->page;
    int fd, rc = MP_OK;

    if (!name || !host_path) {
        return MP_EINVAL;
    }
    pthread_mutex_lock(&fs->mu);
    ino = faultfs__lookup(fs, name);
    if (!ino) {
        rc = MP_ENOENT;
        goto out;
    }
    fd = open(host_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = MP_EIO;
        goto out;
    }
    if (ftruncate(fd, (off_t)ino->dsize) != 0) {
        rc = MP_EIO;
    }
    for (uint64_t pg = 0; rc == MP_OK && pg * page < ino->dsize; pg++) {
        const unsigned char *src = faultfs__durable_page(&ino->dur, pg, page);
        uint64_t n = ino->dsize - pg * page;
        if (!src) {
            continue; /* a hole reads as zeros */
        }
        if (n > page) {
            n = page;
        }
        if (pwrite(fd, src, (size_t)n, (off_t)(pg * page)) != (ssize_t)n) {
            rc = MP_EIO;
        }
    }
    if (close(fd) != 0 && rc == MP_OK) {
        rc = MP_EIO;
    }
out:
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/* Bind name to ino in both namespaces (replacing any binding). */
static int bind_durably(faultfs *fs, const char *name,
                        struct faultfs__inode *ino)
{
    struct faultfs__name *c = find(&fs->cur, name);
    struct faultfs__name *d = find(&fs->dur, name);
    int rc = MP_OK;
    if (c) {
        c->ino = ino;
    } else {
        rc = faultfs__names_add(&fs->cur, name, ino);
    }
    if (rc == MP_OK) {
        if (d) {
            d->ino = ino;
        } else {
            rc = faultfs__names_add(&fs->dur, name, ino);
        }
    }
    return rc;
}

int faultfs_load_bytes(faultfs *fs, const char *name, const void *bytes,
                       size_t len)
{
    const unsigned char *src = bytes;
    struct faultfs__inode *ino, *old;
    size_t page;
    unsigned char *tmp = NULL;
    int rc = MP_OK;

    if (!name || (!bytes && len)) {
        return MP_EINVAL;
    }
    page = fs->page;
    pthread_mutex_lock(&fs->mu);
    if (fs->crashed) {
        rc = MP_EINVAL;
        goto out;
    }
    old = faultfs__lookup(fs, name);
    if (old && old->handles) {
        rc = MP_EEXIST;
        goto out;
    }
    tmp = malloc(page);
    if (!tmp) {
        rc = MP_ENOMEM;
        goto out;
    }
    rc = faultfs__inode_new(fs, &ino);
    if (rc != MP_OK) {
        goto out;
    }
    ino->dsize = ino->vsize = len;
    for (uint64_t off = 0; rc == MP_OK && off < len; off += page) {
        size_t n = len - off < page ? (size_t)(len - off) : page;
        if (all_zero(src + off, n)) {
            continue;
        }
        memcpy(tmp, src + off, n);
        memset(tmp + n, 0, page - n);
        rc = faultfs__durable_put(&ino->dur, off / page, tmp, page);
    }
    if (rc == MP_OK) {
        rc = bind_durably(fs, name, ino);
    }
    faultfs__gc(fs);
out:
    pthread_mutex_unlock(&fs->mu);
    free(tmp);
    return rc;
}

int faultfs_load_file(faultfs *fs, const char *name, const char *host_path)
{
    struct stat st;
    unsigned char *buf = NULL;
    size_t len, got = 0;
    int fd, rc;

    if (!name || !host_path) {
        return MP_EINVAL;
    }
    fd = open(host_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT ? MP_ENOENT : MP_EIO;
    }
    if (fstat(fd, &st) != 0 || st.st_size < 0 ||
        (uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return MP_EIO;
    }
    len = (size_t)st.st_size;
    buf = malloc(len ? len : 1);
    if (!buf) {
        close(fd);
        return MP_ENOMEM;
    }
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) {
                continue;
            }
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    rc = got == len ? faultfs_load_bytes(fs, name, buf, len) : MP_EIO;
    free(buf);
    return rc;
}
