/*
 * snapshot.c - what a crash freezes: for every file some namespace can
 * reach, its durable image (shared, not copied), both sizes, and each
 * dirty page's new bytes with the list of sectors that differ; plus the
 * durable names and the pending name operations.
 *
 * Finding the dirty pages costs one compare of each file; from then on an
 * image costs only its own dirty pages.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static bool same(const unsigned char *a, const unsigned char *b, size_t n)
{
    const unsigned char *z = a ? a : b;
    if (!a || !b) {
        return !z || (z[0] == 0 && (n == 1 || memcmp(z, z + 1, n - 1) == 0));
    }
    return a == b || memcmp(a, b, n) == 0;
}

void faultfs__snap_free(struct faultfs__snap *s)
{
    if (!s) {
        return;
    }
    for (size_t i = 0; i < s->nfiles; i++) {
        struct faultfs__sfile *f = &s->files[i];
        for (size_t j = 0; j < f->ndirty; j++) {
            faultfs__block_unref(f->dirty[j].newb);
            free(f->dirty[j].sect);
        }
        free(f->dirty);
        faultfs__durable_free(&f->dur);
        faultfs__base_unref(f->merged);
    }
    free(s->files);
    for (size_t i = 0; i < s->ndur; i++) {
        free(s->dur[i].name);
    }
    free(s->dur);
    for (size_t i = 0; i < s->nops; i++) {
        free(s->ops[i].a);
        free(s->ops[i].b);
    }
    free(s->ops);
    free(s);
}

/* Sectors of dirty page d that count when the file is cut at `size`. */
static uint32_t counting(const faultfs *fs, const struct faultfs__dirty *d,
                         const unsigned char *old, uint64_t size)
{
    uint64_t base = d->pg * fs->page;
    uint32_t k = 0;
    while (k < d->nsect && base + (uint64_t)d->sect[k] * fs->sector < size) {
        k++;
    }
    if (k > 0) {
        uint64_t start = base + (uint64_t)d->sect[k - 1] * fs->sector;
        if (start + fs->sector > size) {
            /* Straddles the cut: counts only if the kept bytes differ. */
            size_t in = (size_t)(start - base), n = (size_t)(size - start);
            if (same(old ? old + in : NULL, d->newb->data + in, n)) {
                k--;
            }
        }
    }
    return k;
}

static int scan_file(faultfs *fs, struct faultfs__inode *ino,
                     struct faultfs__sfile *f, unsigned char *scratch,
                     struct faultfs__zero_window *zw)
{
    size_t page = fs->page, cap = 0;
    uint64_t npages = (ino->vsize + page - 1) / page;
    int rc;

    f->ino_id = ino->id;
    f->size[0] = ino->dsize;
    f->size[1] = ino->vsize;
    rc = faultfs__durable_copy(&f->dur, &ino->dur);
    if (rc != MP_OK) {
        return rc;
    }
    for (uint64_t pg = 0; pg < npages; pg++) {
        const unsigned char *v =
            faultfs__untouched_at(fs, ino, pg, npages, zw)
                ? NULL
                : faultfs__volatile_page(fs, ino, pg, scratch);
        const unsigned char *o = faultfs__durable_page(&ino->dur, pg, page);
        struct faultfs__dirty *d;
        if (same(v, o, page)) {
            continue;
        }
        if (f->ndirty == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct faultfs__dirty *nd = realloc(f->dirty, ncap * sizeof(*nd));
            if (!nd) {
                return MP_ENOMEM;
            }
            f->dirty = nd;
            cap = ncap;
        }
        d = &f->dirty[f->ndirty];
        memset(d, 0, sizeof(*d));
        d->pg = pg;
        d->newb = faultfs__block_new(page);
        d->sect = malloc((page / fs->sector) * sizeof(*d->sect));
        if (!d->newb || !d->sect) {
            faultfs__block_unref(d->newb);
            free(d->sect);
            return MP_ENOMEM;
        }
        f->ndirty++;
        if (v) {
            memcpy(d->newb->data, v, page);
        } else {
            memset(d->newb->data, 0, page);
        }
        for (size_t s = 0, i = 0; s < page; s += fs->sector, i++) {
            if (!same(o ? o + s : NULL, d->newb->data + s, fs->sector)) {
                d->sect[d->nsect++] = (uint32_t)i;
            }
        }
        d->nd[0] = counting(fs, d, o, f->size[0]);
        d->nd[1] = counting(fs, d, o, f->size[1]);
    }
    return MP_OK;
}

static bool reachable(const faultfs *fs, const struct faultfs__inode *ino)
{
    for (size_t i = 0; i < fs->cur.n; i++) {
        if (fs->cur.v[i].ino == ino) {
            return true;
        }
    }
    for (size_t i = 0; i < fs->dur.n; i++) {
        if (fs->dur.v[i].ino == ino) {
            return true;
        }
    }
    for (size_t i = 0; i < fs->nops; i++) {
        if (fs->ops[i].ino == ino) {
            return true;
        }
    }
    return false;
}

static size_t file_of(const struct faultfs__snap *s,
                      const struct faultfs__inode *ino)
{
    for (size_t i = 0; i < s->nfiles; i++) {
        if (s->files[i].ino_id == ino->id) {
            return i;
        }
    }
    return SIZE_MAX;
}

static int build(faultfs *fs, struct faultfs__snap *s)
{
    unsigned char *scratch = malloc(fs->page);
    size_t n = 0, digit = 0;
    int rc = MP_OK;

    if (!scratch) {
        return MP_ENOMEM;
    }
    for (struct faultfs__inode *ino = fs->inodes; ino; ino = ino->next) {
        n += reachable(fs, ino);
    }
    s->files = calloc(n ? n : 1, sizeof(*s->files));
    s->dur = calloc(fs->dur.n ? fs->dur.n : 1, sizeof(*s->dur));
    s->ops = calloc(fs->nops ? fs->nops : 1, sizeof(*s->ops));
    if (!s->files || !s->dur || !s->ops) {
        rc = MP_ENOMEM;
        goto out;
    }
    for (struct faultfs__inode *ino = fs->inodes; ino && rc == MP_OK;
         ino = ino->next) {
        if (reachable(fs, ino)) {
            struct faultfs__zero_window zw = { .n = 0 };
            rc = scan_file(fs, ino, &s->files[s->nfiles++], scratch, &zw);
        }
    }
    for (size_t i = 0; i < fs->dur.n && rc == MP_OK; i++) {
        s->dur[i].file = file_of(s, fs->dur.v[i].ino);
        s->dur[i].name = faultfs__strdup(fs->dur.v[i].name);
        s->ndur++;
        if (!s->dur[i].name) {
            rc = MP_ENOMEM;
        }
    }
    for (size_t i = 0; i < fs->nops && rc == MP_OK; i++) {
        struct faultfs__sop *o = &s->ops[i];
        o->kind = fs->ops[i].kind;
        o->file = file_of(s, fs->ops[i].ino);
        o->a = faultfs__strdup(fs->ops[i].a);
        o->b = fs->ops[i].b ? faultfs__strdup(fs->ops[i].b) : NULL;
        s->nops++;
        if (!o->a || (fs->ops[i].b && !o->b)) {
            rc = MP_ENOMEM;
        }
    }
    for (size_t i = 0; i < s->nfiles; i++) {
        for (size_t j = 0; j < s->files[i].ndirty; j++) {
            s->files[i].dirty[j].digit = digit;
            digit += s->files[i].dirty[j].nsect;
            fs->stats.pages_dirtied++;
        }
    }
    s->ndigits = digit;
out:
    free(scratch);
    return rc;
}

int faultfs__crash(faultfs *fs, int call, int when)
{
    struct faultfs__snap *s = calloc(1, sizeof(*s));
    int rc;

    fs->crashed = true;
    fs->armed = false;
    fs->arm_step = false;
    fs->stats.crashes = 1;
    if (!s) {
        return MP_ENOMEM;
    }
    s->call = call;
    s->when = when;
    s->point = call == FAULTFS_CALL_NONE ? fs->points : fs->points - 1;
    rc = build(fs, s);
    if (rc != MP_OK) {
        faultfs__snap_free(s);
        return rc;
    }
    fs->snap = s;
    return MP_OK;
}

int faultfs__sfile_merged(struct faultfs__sfile *f, size_t page)
{
    int rc;
    if (f->merged_done) {
        return MP_OK;
    }
    rc = faultfs__durable_merge(&f->dur, page, &f->merged, &f->merged_len);
    if (rc == MP_OK) {
        f->merged_done = true;
        /* The overlay lives on in the merged base. */
        faultfs__durable_free(&f->dur);
    }
    return rc;
}

int faultfs_crash_info(const faultfs *fs, struct faultfs_crash_info *info)
{
    faultfs *m = (faultfs *)fs;
    const struct faultfs__snap *s;
    int rc = MP_OK;

    pthread_mutex_lock(&m->mu);
    s = fs->snap;
    if (!s) {
        rc = fs->crashed ? MP_ENOMEM : MP_EINVAL;
        goto out;
    }
    memset(info, 0, sizeof(*info));
    info->point = s->point;
    info->call = s->call;
    info->when = s->when;
    info->files = s->nfiles;
    info->pending_names = s->nops;
    for (size_t i = 0; i < s->nfiles; i++) {
        info->dirty_pages += s->files[i].ndirty;
        info->size_choices += s->files[i].size[0] != s->files[i].size[1];
    }
    info->dirty_sectors = s->ndigits;
out:
    pthread_mutex_unlock(&m->mu);
    return rc;
}
