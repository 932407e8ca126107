/*
 * image.c - crash images: counting and enumerating the choices a snapshot
 * allows, drawing them from a seed or fuzzer bytes, printing and parsing
 * tear patterns, and building the image itself.
 *
 * A choice is a namespace prefix, a size per file and one digit per
 * differing sector (0 old, 1 new, 2 garbage). An image is a new faultfs
 * whose files share the snapshot's merged durable base and own a block per
 * dirty page the choice changed: its cost is those pages, not the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- namespace states --------------------------------------------------- */

/* The names after the first k pending operations: out[i].file per name. */
static int ns_state(const struct faultfs__snap *s, uint64_t k,
                    struct faultfs__sname **out, size_t *n)
{
    size_t cap = s->ndur + (size_t)k + 1, m = 0;
    struct faultfs__sname *v = malloc(cap * sizeof(*v));
    if (!v) {
        return MP_ENOMEM;
    }
    for (size_t i = 0; i < s->ndur; i++) {
        v[m++] = s->dur[i];
    }
    for (uint64_t i = 0; i < k; i++) {
        const struct faultfs__sop *o = &s->ops[i];
        size_t j;
        for (j = 0; j < m && strcmp(v[j].name, o->a) != 0; j++) {
        }
        if (o->kind == FAULTFS__NS_CREATE) {
            if (j == m) {
                v[m].name = o->a;
                v[m].file = o->file;
                m++;
            }
        } else if (j < m && o->kind == FAULTFS__NS_REMOVE) {
            memmove(v + j, v + j + 1, (m - j - 1) * sizeof(*v));
            m--;
        } else if (j < m) {
            v[j].name = o->b;
        }
    }
    *out = v;
    *n = m;
    return MP_OK;
}

static bool named(const struct faultfs__sname *v, size_t n, size_t file)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].file == file) {
            return true;
        }
    }
    return false;
}

/* ---- counting ------------------------------------------------------------ */

static uint64_t sat_mul(uint64_t a, uint64_t b, bool *exact)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) {
        *exact = false;
        return UINT64_MAX;
    }
    return r;
}

static uint64_t sat_add(uint64_t a, uint64_t b, bool *exact)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) {
        *exact = false;
        return UINT64_MAX;
    }
    return r;
}

static unsigned base_of(const faultfs *fs)
{
    return fs->cfg.garbage ? 3 : 2;
}

/* Choices of one dirty page at size choice c. */
static uint64_t page_choices(const faultfs *fs, const struct faultfs__dirty *d,
                             int c, int space, bool *exact)
{
    uint64_t v = 1;
    if (d->nd[c] == 0) {
        return 1;
    }
    if (space == FAULTFS_SPACE_PAGES) {
        return 2;
    }
    for (uint32_t i = 0; i < d->nd[c]; i++) {
        v = sat_mul(v, base_of(fs), exact);
    }
    return v;
}

static int size_choices(const struct faultfs__sfile *f)
{
    return f->size[0] == f->size[1] ? 1 : 2;
}

/* Choices of one file at size choice c. */
static uint64_t at_size(const faultfs *fs, const struct faultfs__sfile *f,
                        int c, int space, bool *exact)
{
    uint64_t v = 1;
    for (size_t j = 0; j < f->ndirty; j++) {
        v = sat_mul(v, page_choices(fs, &f->dirty[j], c, space, exact), exact);
    }
    return v;
}

static uint64_t file_choices(const faultfs *fs, const struct faultfs__sfile *f,
                             int space, bool *exact)
{
    uint64_t v = 0;
    for (int c = 0; c < size_choices(f); c++) {
        v = sat_add(v, at_size(fs, f, c, space, exact), exact);
    }
    return v;
}

/* Choices with namespace prefix k. */
static int state_choices(const faultfs *fs, uint64_t k, int space,
                         uint64_t *out, bool *exact)
{
    const struct faultfs__snap *s = fs->snap;
    struct faultfs__sname *v;
    size_t n;
    uint64_t c = 1;
    int rc = ns_state(s, k, &v, &n);
    if (rc != MP_OK) {
        return rc;
    }
    for (size_t f = 0; f < s->nfiles; f++) {
        if (named(v, n, f)) {
            c = sat_mul(c, file_choices(fs, &s->files[f], space, exact), exact);
        }
    }
    free(v);
    *out = c;
    return MP_OK;
}

static int count_locked(const faultfs *fs, int space, uint64_t *count,
                        bool *exact)
{
    uint64_t total = 0;
    *exact = true;
    for (uint64_t k = 0; k <= fs->snap->nops; k++) {
        uint64_t c;
        int rc = state_choices(fs, k, space, &c, exact);
        if (rc != MP_OK) {
            return rc;
        }
        total = sat_add(total, c, exact);
    }
    *count = *exact ? total : UINT64_MAX;
    return MP_OK;
}

static int check_crashed(const faultfs *fs)
{
    if (!fs->crashed) {
        return MP_EINVAL;
    }
    return fs->snap ? MP_OK : MP_ENOMEM;
}

int faultfs_image_count(const faultfs *fs, int space, uint64_t *count)
{
    faultfs *m = (faultfs *)fs;
    bool exact;
    int rc;
    if (!count ||
        (space != FAULTFS_SPACE_TORN && space != FAULTFS_SPACE_PAGES)) {
        return MP_EINVAL;
    }
    pthread_mutex_lock(&m->mu);
    rc = check_crashed(fs);
    if (rc == MP_OK) {
        rc = count_locked(fs, space, count, &exact);
    }
    pthread_mutex_unlock(&m->mu);
    if (rc == MP_OK && !exact) {
        rc = MP_ELIMIT;
    }
    return rc;
}

/* ---- choices ------------------------------------------------------------ */

static int choice_new(const struct faultfs__snap *s, struct faultfs__choice *c)
{
    c->ns = 0;
    c->size_cur = calloc(s->nfiles ? s->nfiles : 1, 1);
    c->digit = calloc(s->ndigits ? s->ndigits : 1, 1);
    if (!c->size_cur || !c->digit) {
        free(c->size_cur);
        free(c->digit);
        return MP_ENOMEM;
    }
    return MP_OK;
}

static void choice_free(struct faultfs__choice *c)
{
    free(c->size_cur);
    free(c->digit);
}

/* Fill the digits of page d (size choice c) from idx < page_choices(). */
static void page_from_index(const faultfs *fs, const struct faultfs__dirty *d,
                            int c, int space, uint64_t idx,
                            unsigned char *digit)
{
    if (space == FAULTFS_SPACE_PAGES) {
        for (uint32_t i = 0; i < d->nd[c]; i++) {
            digit[d->digit + i] = (unsigned char)idx;
        }
        return;
    }
    for (uint32_t i = d->nd[c]; i-- > 0;) {
        digit[d->digit + i] = (unsigned char)(idx % base_of(fs));
        idx /= base_of(fs);
    }
}

static int choice_from_index(const faultfs *fs, int space, uint64_t idx,
                             struct faultfs__choice *ch)
{
    const struct faultfs__snap *s = fs->snap;
    struct faultfs__sname *v;
    size_t n;
    bool exact = true;
    uint64_t k;
    int rc;

    for (k = 0; k <= s->nops; k++) {
        uint64_t c;
        rc = state_choices(fs, k, space, &c, &exact);
        if (rc != MP_OK) {
            return rc;
        }
        if (idx < c) {
            break;
        }
        idx -= c;
    }
    if (k > s->nops) {
        return MP_EINVAL;
    }
    ch->ns = k;
    rc = ns_state(s, k, &v, &n);
    if (rc != MP_OK) {
        return rc;
    }
    /* Most significant first: decompose from the last file. */
    for (size_t f = s->nfiles; f-- > 0;) {
        const struct faultfs__sfile *sf = &s->files[f];
        uint64_t fc, rem, p0;
        int c;
        if (!named(v, n, f)) {
            continue;
        }
        fc = file_choices(fs, sf, space, &exact);
        rem = idx % fc;
        idx /= fc;
        p0 = at_size(fs, sf, 0, space, &exact);
        c = rem < p0 ? 0 : 1;
        if (c) {
            rem -= p0;
        }
        ch->size_cur[f] = (unsigned char)c;
        for (size_t j = sf->ndirty; j-- > 0;) {
            uint64_t pc = page_choices(fs, &sf->dirty[j], c, space, &exact);
            page_from_index(fs, &sf->dirty[j], c, space, rem % pc, ch->digit);
            rem /= pc;
        }
    }
    free(v);
    return MP_OK;
}

/* Random choices from a seed or from bytes. */
struct chooser {
    uint64_t seed;
    uint64_t n;
    bool use_bytes;
    const unsigned char *bytes;
    size_t len;
    size_t pos;
};

static uint64_t pick(struct chooser *c, uint64_t options)
{
    uint64_t v;
    if (options <= 1) {
        return 0;
    }
    if (c->use_bytes) {
        v = c->pos < c->len ? c->bytes[c->pos++] : 0;
    } else {
        v = faultfs__mix(c->seed, c->n++);
    }
    return v % options;
}

static void choice_random(const faultfs *fs, struct chooser *r,
                          struct faultfs__choice *ch)
{
    const struct faultfs__snap *s = fs->snap;
    ch->ns = pick(r, s->nops + 1);
    for (size_t f = 0; f < s->nfiles; f++) {
        const struct faultfs__sfile *sf = &s->files[f];
        int c = (int)pick(r, (uint64_t)size_choices(sf));
        ch->size_cur[f] = (unsigned char)c;
        for (size_t j = 0; j < sf->ndirty; j++) {
            const struct faultfs__dirty *d = &sf->dirty[j];
            uint64_t kind;
            if (d->nd[c] == 0) {
                continue;
            }
            kind = pick(r, 3);
            for (uint32_t i = 0; i < d->nd[c]; i++) {
                ch->digit[d->digit + i] =
                    (unsigned char)(kind == 2 ? pick(r, base_of(fs)) : kind);
            }
        }
    }
}

/* ---- patterns ----------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t n;
    size_t cap;
    bool oom;
};

static void sb_putc(struct sbuf *b, char ch)
{
    if (b->oom) {
        return;
    }
    if (b->n + 2 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    b->p[b->n++] = ch;
    b->p[b->n] = 0;
}

static void sb_puts(struct sbuf *b, const char *s)
{
    while (*s) {
        sb_putc(b, *s++);
    }
}

static char *pattern_of(const faultfs *fs, const struct faultfs__choice *ch,
                        const struct faultfs__sname *v, size_t n)
{
    const struct faultfs__snap *s = fs->snap;
    static const char dch[] = "ong";
    struct sbuf b = { 0 };
    char tok[96];

    sb_putc(&b, 0);
    b.n = 0;
    if (ch->ns) {
        snprintf(tok, sizeof(tok), "ns=%llu", (unsigned long long)ch->ns);
        sb_puts(&b, tok);
    }
    for (size_t f = 0; f < s->nfiles; f++) {
        const struct faultfs__sfile *sf = &s->files[f];
        int c = ch->size_cur[f];
        if (!named(v, n, f)) {
            continue;
        }
        if (c && size_choices(sf) == 2) {
            snprintf(tok, sizeof(tok), "%sf%zu=c", b.n ? " " : "", f);
            sb_puts(&b, tok);
        }
        for (size_t j = 0; j < sf->ndirty; j++) {
            const struct faultfs__dirty *d = &sf->dirty[j];
            const unsigned char *dg = ch->digit + d->digit;
            bool all0 = true, all1 = true;
            for (uint32_t i = 0; i < d->nd[c]; i++) {
                all0 &= dg[i] == 0;
                all1 &= dg[i] == 1;
            }
            if (all0) {
                continue;
            }
            snprintf(tok, sizeof(tok), "%sf%zu.p%llu=%s", b.n ? " " : "", f,
                     (unsigned long long)d->pg, all1 ? "n" : "t");
            sb_puts(&b, tok);
            if (!all1) {
                uint32_t k = 0;
                for (uint32_t i = 0; i < fs->page / fs->sector; i++) {
                    if (k < d->nd[c] && d->sect[k] == i) {
                        sb_putc(&b, dch[dg[k++]]);
                    } else {
                        sb_putc(&b, '-');
                    }
                }
            }
        }
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static bool parse_u64(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') {
        return false;
    }
    while (*s >= '0' && *s <= '9') {
        if (v > (UINT64_MAX - 9) / 10) {
            return false;
        }
        v = v * 10 + (uint64_t)(*s++ - '0');
    }
    *out = v;
    *p = s;
    return true;
}

static bool tok_end(const char *p)
{
    return *p == 0 || *p == ' ';
}

static int set_all(const faultfs *fs, struct faultfs__choice *ch, int v)
{
    const struct faultfs__snap *s = fs->snap;
    ch->ns = v ? s->nops : 0;
    for (size_t f = 0; f < s->nfiles; f++) {
        ch->size_cur[f] = (unsigned char)(v && size_choices(&s->files[f]) == 2);
    }
    memset(ch->digit, v, s->ndigits);
    return MP_OK;
}

static int parse_page(const faultfs *fs, const struct faultfs__sfile *sf,
                      uint64_t pg, const char **pp, unsigned char *digit)
{
    const struct faultfs__dirty *d = NULL;
    const char *p = *pp;
    uint32_t k = 0, nsec = (uint32_t)(fs->page / fs->sector);

    for (size_t j = 0; j < sf->ndirty; j++) {
        if (sf->dirty[j].pg == pg) {
            d = &sf->dirty[j];
        }
    }
    if (!d) {
        return MP_EINVAL;
    }
    if ((*p == 'o' || *p == 'n') && tok_end(p + 1)) {
        memset(digit + d->digit, *p == 'n', d->nsect);
        *pp = p + 1;
        return MP_OK;
    }
    if (*p++ != 't') {
        return MP_EINVAL;
    }
    for (uint32_t i = 0; i < nsec; i++, p++) {
        bool differs = k < d->nsect && d->sect[k] == i;
        int v;
        switch (*p) {
        case 'o':
            v = 0;
            break;
        case 'n':
            v = 1;
            break;
        case 'g':
            v = 2;
            break;
        case '-':
            v = -1;
            break;
        default:
            return MP_EINVAL;
        }
        if (!differs) {
            if (v == 2) {
                return MP_EINVAL;
            }
            continue;
        }
        if (v == 2 && !fs->cfg.garbage) {
            return MP_EINVAL;
        }
        if (v < 0) {
            v = 0; /* a sector cut off by the size choice prints as '-' */
        }
        digit[d->digit + k++] = (unsigned char)v;
    }
    if (!tok_end(p)) {
        return MP_EINVAL;
    }
    *pp = p;
    return MP_OK;
}

static int parse_pattern(const faultfs *fs, const char *p,
                         struct faultfs__choice *ch)
{
    const struct faultfs__snap *s = fs->snap;
    while (*p) {
        uint64_t a, b;
        int rc;
        if (*p == ' ') {
            p++;
            continue;
        }
        if (strncmp(p, "all=old", 7) == 0 && tok_end(p + 7)) {
            set_all(fs, ch, 0);
            p += 7;
        } else if (strncmp(p, "all=new", 7) == 0 && tok_end(p + 7)) {
            set_all(fs, ch, 1);
            p += 7;
        } else if (strncmp(p, "ns=", 3) == 0) {
            p += 3;
            if (!parse_u64(&p, &a) || a > s->nops || !tok_end(p)) {
                return MP_EINVAL;
            }
            ch->ns = a;
        } else if (*p == 'f') {
            p++;
            if (!parse_u64(&p, &a) || a >= s->nfiles) {
                return MP_EINVAL;
            }
            if (*p == '=') {
                if ((p[1] != 'd' && p[1] != 'c') || !tok_end(p + 2)) {
                    return MP_EINVAL;
                }
                ch->size_cur[a] =
                    (unsigned char)(p[1] == 'c' &&
                                    size_choices(&s->files[a]) == 2);
                p += 2;
            } else if (strncmp(p, ".p", 2) == 0) {
                p += 2;
                if (!parse_u64(&p, &b) || *p++ != '=') {
                    return MP_EINVAL;
                }
                rc = parse_page(fs, &s->files[a], b, &p, ch->digit);
                if (rc != MP_OK) {
                    return rc;
                }
            } else {
                return MP_EINVAL;
            }
        } else {
            return MP_EINVAL;
        }
    }
    return MP_OK;
}

/* ---- building ------------------------------------------------------------ */

/* The image of one file. */
static int build_file(faultfs *fs, faultfs *img, size_t fi, int c,
                      const unsigned char *digit, struct faultfs__inode **out)
{
    struct faultfs__sfile *sf = &fs->snap->files[fi];
    size_t page = fs->page, sector = fs->sector;
    uint64_t size = sf->size[c];
    uint64_t full = size / page * page;
    struct faultfs__inode *ino;
    int rc;

    rc = faultfs__sfile_merged(sf, page);
    if (rc == MP_OK) {
        rc = faultfs__inode_new(img, &ino);
    }
    if (rc != MP_OK) {
        return rc;
    }
    ino->dsize = ino->vsize = size;
    if (sf->merged) {
        faultfs__base_ref(sf->merged);
        ino->dur.base = sf->merged;
        ino->dur.base_len = sf->merged_len < full ? sf->merged_len : full;
        if (size > full && full < sf->merged_len) {
            /* The cut page keeps its head only. */
            struct faultfs__block *b = faultfs__block_new(page);
            if (!b) {
                return MP_ENOMEM;
            }
            memcpy(b->data, sf->merged->mem + full, (size_t)(size - full));
            memset(b->data + (size - full), 0, (size_t)(page - (size - full)));
            rc = faultfs__pmap_put(&ino->dur.over, full / page, b);
            if (rc != MP_OK) {
                faultfs__block_unref(b);
                return rc;
            }
        }
    }
    for (size_t j = 0; j < sf->ndirty; j++) {
        const struct faultfs__dirty *d = &sf->dirty[j];
        const unsigned char *dg = digit + d->digit;
        uint64_t off = d->pg * page;
        bool all1 = true, all0 = true;
        struct faultfs__block *b;
        for (uint32_t i = 0; i < d->nd[c]; i++) {
            all0 &= dg[i] == 0;
            all1 &= dg[i] == 1;
        }
        if (all0 || off >= size) {
            continue;
        }
        if (all1 && d->nd[c] == d->nsect &&
            (off + page <= size || size == sf->size[1])) {
            /* Wholly new and not cut: share the snapshot's block. */
            faultfs__block_ref(d->newb);
            b = d->newb;
        } else {
            b = faultfs__block_new(page);
            if (!b) {
                return MP_ENOMEM;
            }
            if (sf->merged && off + page <= sf->merged_len) {
                memcpy(b->data, sf->merged->mem + off, page);
            } else {
                memset(b->data, 0, page);
            }
            for (uint32_t i = 0; i < d->nd[c]; i++) {
                size_t at = (size_t)d->sect[i] * sector;
                if (dg[i] == 1) {
                    memcpy(b->data + at, d->newb->data + at, sector);
                } else if (dg[i] == 2) {
                    uint64_t g = faultfs__mix(
                        faultfs__mix(
                            faultfs__mix(fs->cfg.seed, fs->snap->point), fi),
                        d->pg * (page / sector) + d->sect[i]);
                    faultfs__garbage(g, b->data + at, sector);
                }
            }
            if (off + page > size) {
                memset(b->data + (size - off), 0, (size_t)(off + page - size));
            }
        }
        rc = faultfs__pmap_put(&ino->dur.over, d->pg, b);
        if (rc != MP_OK) {
            faultfs__block_unref(b);
            return rc;
        }
    }
    *out = ino;
    return MP_OK;
}

static int build(faultfs *fs, const struct faultfs__choice *ch, faultfs **out)
{
    const struct faultfs__snap *s = fs->snap;
    struct faultfs__sname *v = NULL;
    faultfs *img = NULL;
    size_t n = 0;
    int rc;

    rc = ns_state(s, ch->ns, &v, &n);
    if (rc == MP_OK) {
        rc = faultfs__new_like(fs, &img);
    }
    for (size_t f = 0; f < s->nfiles && rc == MP_OK; f++) {
        struct faultfs__inode *ino;
        if (!named(v, n, f)) {
            continue;
        }
        rc = build_file(fs, img, f, ch->size_cur[f], ch->digit, &ino);
        for (size_t i = 0; i < n && rc == MP_OK; i++) {
            if (v[i].file == f) {
                rc = faultfs__names_add(&img->cur, v[i].name, ino);
                if (rc == MP_OK) {
                    rc = faultfs__names_add(&img->dur, v[i].name, ino);
                }
            }
        }
    }
    if (rc == MP_OK) {
        img->pattern = pattern_of(fs, ch, v, n);
        if (!img->pattern) {
            rc = MP_ENOMEM;
        }
    }
    free(v);
    if (rc != MP_OK) {
        faultfs_free(img);
        return rc;
    }
    fs->stats.images++;
    *out = img;
    return MP_OK;
}

/* ---- public ----------------------------------------------------------------
 */

typedef int (*choose_fn)(faultfs *fs, struct faultfs__choice *ch,
                         const void *arg);

static int make(faultfs *fs, choose_fn choose, const void *arg, faultfs **out)
{
    struct faultfs__choice ch;
    int rc;
    if (!out) {
        return MP_EINVAL;
    }
    *out = NULL;
    pthread_mutex_lock(&fs->mu);
    rc = check_crashed(fs);
    if (rc == MP_OK) {
        rc = choice_new(fs->snap, &ch);
        if (rc == MP_OK) {
            rc = choose(fs, &ch, arg);
            if (rc == MP_OK) {
                rc = build(fs, &ch, out);
            }
            choice_free(&ch);
        }
    }
    pthread_mutex_unlock(&fs->mu);
    return rc;
}

struct index_arg {
    int space;
    uint64_t index;
};

static int choose_index(faultfs *fs, struct faultfs__choice *ch,
                        const void *arg)
{
    const struct index_arg *a = arg;
    uint64_t count;
    bool exact;
    int rc = count_locked(fs, a->space, &count, &exact);
    if (rc != MP_OK) {
        return rc;
    }
    if (!exact) {
        return MP_ELIMIT;
    }
    if (a->index >= count) {
        return MP_EINVAL;
    }
    return choice_from_index(fs, a->space, a->index, ch);
}

int faultfs_image_by_index(faultfs *fs, int space, uint64_t index,
                           faultfs **out)
{
    struct index_arg a;
    if (space != FAULTFS_SPACE_TORN && space != FAULTFS_SPACE_PAGES) {
        return MP_EINVAL;
    }
    a.space = space;
    a.index = index;
    return make(fs, choose_index, &a, out);
}

static int choose_random(faultfs *fs, struct faultfs__choice *ch,
                         const void *arg)
{
    struct chooser r = *(const struct chooser *)arg;
    choice_random(fs, &r, ch);
    return MP_OK;
}

int faultfs_image_random(faultfs *fs, uint64_t seed, faultfs **out)
{
    struct chooser r = { 0 };
    r.seed = faultfs__mix(seed, 0x72616e646f6dull);
    return make(fs, choose_random, &r, out);
}

int faultfs_image_from_bytes(faultfs *fs, const void *bytes, size_t len,
                             faultfs **out)
{
    struct chooser r = { 0 };
    if (!bytes && len) {
        return MP_EINVAL;
    }
    r.use_bytes = true;
    r.bytes = bytes;
    r.len = len;
    return make(fs, choose_random, &r, out);
}

static int choose_pattern(faultfs *fs, struct faultfs__choice *ch,
                          const void *arg)
{
    return parse_pattern(fs, arg, ch);
}

int faultfs_image_from_pattern(faultfs *fs, const char *pattern, faultfs **out)
{
    if (!pattern) {
        return MP_EINVAL;
    }
    return make(fs, choose_pattern, pattern, out);
}

const char *faultfs_image_pattern(const faultfs *image)
{
    return image ? image->pattern : NULL;
}
