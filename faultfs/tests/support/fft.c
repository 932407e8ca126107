/*
 * fft.c - helpers shared by faultfs's own tests (see fft.h).
 */
#include "fft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

faultfs *fft_new(uint64_t seed, uint32_t sector, int garbage)
{
    struct faultfs_config cfg;
    faultfs *fs;
    faultfs_config_init(&cfg);
    cfg.seed = seed;
    cfg.sector_size = sector;
    cfg.garbage = garbage != 0;
    if (faultfs_new(&cfg, &fs) != MP_OK) {
        fprintf(stderr, "fft_new failed\n");
        abort();
    }
    return fs;
}

unsigned fft_open_flags;

void fft_options(faultfs *fs, struct mp_options *opt)
{
    mp_options_init(opt);
    opt->flags = fft_open_flags;
    opt->vfs = faultfs_vfs(fs);
    opt->reserve_bytes = (uint64_t)16 << 20;
}

struct mp_io_file *fft_raw_file(faultfs *fs, const char *name, uint64_t size,
                                unsigned char **base)
{
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    struct mp_io_file *f;
    uint64_t reserved;
    int os = 0;
    if (vfs->open(vfs, name, MP_IO_CREATE, &f, &os) != MP_OK ||
        vfs->sync_dir(vfs, name, &os) != MP_OK ||
        f->methods->grow(f, size) != MP_OK ||
        f->methods->map(f, (uint64_t)1 << 24, size, (void **)base, &reserved) !=
            MP_OK) {
        fprintf(stderr, "fft_raw_file failed\n");
        abort();
    }
    return f;
}

unsigned char fft_byte(faultfs *fs, const char *name, int durable, uint64_t off)
{
    unsigned char b = 0;
    if (faultfs_file_read(fs, name, durable != 0, off, &b, 1) != MP_OK) {
        fprintf(stderr, "fft_byte(%s, %llu) failed\n", name,
                (unsigned long long)off);
        abort();
    }
    return b;
}

uint64_t fft_digest(mp_pager *p, size_t stride)
{
    size_t ps = mp_pager_page_size(p);
    uint64_t h = 1469598103934665603ull, id;
    mp_iter it;
    mp_for_each_page(&it, p, id) {
        h = (h ^ id) * 1099511628211ull;
    }
    h = (h ^ 0xFFFF) * 1099511628211ull;
    mp_for_each_protected(&it, p, id) {
        const unsigned char *b;
        if (mp_protected_get(p, id, (const void **)&b) != MP_OK) {
            fprintf(stderr, "fft_digest: protected page unreadable\n");
            abort();
        }
        h = (h ^ id) * 1099511628211ull;
        for (size_t i = 0; i < ps; i += stride) {
            h = (h ^ b[i]) * 1099511628211ull;
        }
    }
    return h | 1;
}

int fft_protected_write(mp_pager *p, mp_protected_id id, int v)
{
    void *w;
    int rc = mp_protected_begin(p, id, &w);
    if (rc == MP_OK) {
        memset(w, v, mp_pager_page_size(p));
        rc = mp_protected_commit(p, id);
    }
    return rc;
}
