/*
 * store.c - the durable image of a file, page-granular and copy-on-write.
 *
 * A durable image is an immutable base (shared by every image a crash
 * produced) plus an overlay of refcounted page blocks, so an image costs a
 * copy of the pages it changed, never of the file. A block is written in
 * place only while nothing else refers to it.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

struct faultfs__block *faultfs__block_new(size_t page)
{
    struct faultfs__block *b = malloc(sizeof(*b) + page);
    if (b) {
        atomic_init(&b->refs, 1);
    }
    return b;
}

void faultfs__block_ref(struct faultfs__block *b)
{
    atomic_fetch_add(&b->refs, 1);
}

void faultfs__block_unref(struct faultfs__block *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
        free(b);
    }
}

void faultfs__base_ref(struct faultfs__base *b)
{
    atomic_fetch_add(&b->refs, 1);
}

void faultfs__base_unref(struct faultfs__base *b)
{
    if (!b || atomic_fetch_sub(&b->refs, 1) != 1) {
        return;
    }
    if (b->fd >= 0) {
        munmap(b->mem, b->len);
        close(b->fd);
    } else {
        munmap(b->mem, b->len);
    }
    free(b);
}

int faultfs__base_new(uint64_t len, struct faultfs__base **out)
{
    size_t os = faultfs__os_page();
    struct faultfs__base *b;
    void *m;

    len = (len + os - 1) / os * os;
    if (len == 0 || len > SIZE_MAX / 2) {
        return MP_EINVAL;
    }
    b = malloc(sizeof(*b));
    if (!b) {
        return MP_ENOMEM;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    /* A memfd lets images map the base copy-on-write (MAP_PRIVATE): an
     * image's untouched pages are the base's pages, never copied. */
    b->fd = memfd_create("faultfs-base", MFD_CLOEXEC);
    if (b->fd >= 0 && ftruncate(b->fd, (off_t)len) != 0) {
        close(b->fd);
        b->fd = -1;
    }
    if (b->fd >= 0) {
        m = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, b->fd,
                 0);
        if (m == MAP_FAILED) {
            close(b->fd);
            b->fd = -1;
        }
    }
    if (b->fd < 0) {
        m = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            free(b);
            return MP_ENOMEM;
        }
    }
    b->mem = m;
    *out = b;
    return MP_OK;
}

void faultfs__base_seal(struct faultfs__base *b)
{
    /* Catches any store into shared durable bytes as a crash in tests. */
    mprotect(b->mem, (size_t)b->len, PROT_READ);
}

/* ---- page map ----------------------------------------------------------- */

static size_t slot_of(uint64_t key, size_t cap)
{
    key *= 0x9E3779B97F4A7C15ull;
    return (size_t)(key >> 17) & (cap - 1);
}

struct faultfs__block *faultfs__pmap_get(const struct faultfs__pmap *m,
                                         uint64_t key)
{
    size_t i;
    if (m->n == 0) {
        return NULL;
    }
    for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            return m->vals[i];
        }
        if (m->keys[i] == UINT64_MAX) {
            return NULL;
        }
    }
}

static int rehash(struct faultfs__pmap *m, size_t cap)
{
    uint64_t *keys = malloc(cap * sizeof(*keys));
    struct faultfs__block **vals = malloc(cap * sizeof(*vals));
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return MP_ENOMEM;
    }
    memset(keys, 0xFF, cap * sizeof(*keys));
    for (size_t j = 0; j < m->cap; j++) {
        size_t i;
        if (m->keys[j] == UINT64_MAX) {
            continue;
        }
        for (i = slot_of(m->keys[j], cap); keys[i] != UINT64_MAX;
             i = (i + 1) & (cap - 1)) {
        }
        keys[i] = m->keys[j];
        vals[i] = m->vals[j];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return MP_OK;
}

int faultfs__pmap_put(struct faultfs__pmap *m, uint64_t key,
                      struct faultfs__block *b)
{
    size_t i;
    if ((m->n + 1) * 4 > m->cap * 3) {
        int rc = rehash(m, m->cap ? m->cap * 2 : 16);
        if (rc != MP_OK) {
            return rc;
        }
    }
    for (i = slot_of(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            faultfs__block_unref(m->vals[i]);
            m->vals[i] = b;
            return MP_OK;
        }
        if (m->keys[i] == UINT64_MAX) {
            m->keys[i] = key;
            m->vals[i] = b;
            m->n++;
            return MP_OK;
        }
    }
}

void faultfs__pmap_free(struct faultfs__pmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] != UINT64_MAX) {
            faultfs__block_unref(m->vals[i]);
        }
    }
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

int faultfs__pmap_cut(struct faultfs__pmap *m, uint64_t first)
{
    struct faultfs__pmap keep = { 0 };
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == UINT64_MAX) {
            continue;
        }
        if (m->keys[i] < first) {
            int rc;
            faultfs__block_ref(m->vals[i]);
            rc = faultfs__pmap_put(&keep, m->keys[i], m->vals[i]);
            if (rc != MP_OK) {
                faultfs__block_unref(m->vals[i]);
                faultfs__pmap_free(&keep);
                return rc;
            }
        }
    }
    faultfs__pmap_free(m);
    *m = keep;
    return MP_OK;
}

int faultfs__pmap_copy(struct faultfs__pmap *dst,
                       const struct faultfs__pmap *src)
{
    memset(dst, 0, sizeof(*dst));
    if (src->n == 0) {
        return MP_OK;
    }
    dst->keys = malloc(src->cap * sizeof(*dst->keys));
    dst->vals = malloc(src->cap * sizeof(*dst->vals));
    if (!dst->keys || !dst->vals) {
        free(dst->keys);
        free(dst->vals);
        memset(dst, 0, sizeof(*dst));
        return MP_ENOMEM;
    }
    memcpy(dst->keys, src->keys, src->cap * sizeof(*dst->keys));
    memcpy(dst->vals, src->vals, src->cap * sizeof(*dst->vals));
    dst->cap = src->cap;
    dst->n = src->n;
    for (size_t i = 0; i < dst->cap; i++) {
        if (dst->keys[i] != UINT64_MAX) {
            faultfs__block_ref(dst->vals[i]);
        }
    }
    return MP_OK;
}

uint64_t faultfs__pmap_extent(const struct faultfs__pmap *m)
{
    uint64_t e = 0;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] != UINT64_MAX && m->keys[i] + 1 > e) {
            e = m->keys[i] + 1;
        }
    }
    return e;
}

/* ---- durable images ------------------------------------------------------ */

const unsigned char *faultfs__durable_page(const struct faultfs__durable *d,
                                           uint64_t pg, size_t page)
{
    struct faultfs__block *b = faultfs__pmap_get(&d->over, pg);
    if (b) {
        return b->data;
    }
    if (d->base && (pg + 1) * page <= d->base_len) {
        return d->base->mem + pg * page;
    }
    return NULL;
}

int faultfs__durable_put(struct faultfs__durable *d, uint64_t pg,
                         const unsigned char *src, size_t page)
{
    struct faultfs__block *b = faultfs__pmap_get(&d->over, pg);
    int rc;
    if (b && atomic_load(&b->refs) == 1) {
        memcpy(b->data, src, page);
        return MP_OK;
    }
    b = faultfs__block_new(page);
    if (!b) {
        return MP_ENOMEM;
    }
    memcpy(b->data, src, page);
    rc = faultfs__pmap_put(&d->over, pg, b);
    if (rc != MP_OK) {
        faultfs__block_unref(b);
    }
    return rc;
}

int faultfs__durable_cut(struct faultfs__durable *d, uint64_t bytes,
                         size_t page)
{
    uint64_t pg = bytes / page, part = bytes % page;
    const unsigned char *cut = NULL;
    unsigned char *tmp = NULL;
    int rc;

    if (part) {
        cut = faultfs__durable_page(d, pg, page);
        if (cut) {
            tmp = malloc(page);
            if (!tmp) {
                return MP_ENOMEM;
            }
            memcpy(tmp, cut, part);
            memset(tmp + part, 0, page - part);
        }
    }
    if (d->base_len > pg * page) {
        d->base_len = pg * page;
    }
    rc = faultfs__pmap_cut(&d->over, pg);
    if (rc == MP_OK && tmp) {
        rc = faultfs__durable_put(d, pg, tmp, page);
    }
    free(tmp);
    return rc;
}

uint64_t faultfs__durable_extent(const struct faultfs__durable *d, size_t page)
{
    uint64_t e = d->base ? d->base_len / page : 0;
    uint64_t o = faultfs__pmap_extent(&d->over);
    return o > e ? o : e;
}

void faultfs__durable_free(struct faultfs__durable *d)
{
    faultfs__pmap_free(&d->over);
    faultfs__base_unref(d->base);
    memset(d, 0, sizeof(*d));
}

int faultfs__durable_copy(struct faultfs__durable *dst,
                          const struct faultfs__durable *src)
{
    int rc = faultfs__pmap_copy(&dst->over, &src->over);
    if (rc != MP_OK) {
        return rc;
    }
    dst->base = src->base;
    dst->base_len = src->base_len;
    if (dst->base) {
        faultfs__base_ref(dst->base);
    }
    return MP_OK;
}

int faultfs__durable_merge(const struct faultfs__durable *d, size_t page,
                           struct faultfs__base **out, uint64_t *len)
{
    uint64_t ext = faultfs__durable_extent(d, page);
    struct faultfs__base *b;
    int rc;

    *out = NULL;
    *len = 0;
    if (ext == 0) {
        return MP_OK;
    }
    if (d->over.n == 0 && d->base) {
        /* Nothing written since this base was made: share it. */
        faultfs__base_ref(d->base);
        *out = d->base;
        *len = d->base_len;
        return MP_OK;
    }
    rc = faultfs__base_new(ext * page, &b);
    if (rc != MP_OK) {
        return rc;
    }
    if (d->base && d->base_len) {
        memcpy(b->mem, d->base->mem, (size_t)d->base_len);
    }
    for (size_t i = 0; i < d->over.cap; i++) {
        if (d->over.keys[i] != UINT64_MAX) {
            memcpy(b->mem + d->over.keys[i] * page, d->over.vals[i]->data,
                   page);
        }
    }
    faultfs__base_seal(b);
    *out = b;
    *len = ext * page;
    return MP_OK;
}
