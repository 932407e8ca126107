/*
 * test_faultfs_model.c - known answers for the crash model, through the
 * raw I/O seam: what survives a crash, how many images a crash allows,
 * growth, names, and determinism.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fft.h"

#define PG 4096

static int sync_page(struct mp_io_file *f, uint64_t pg)
{
    struct mp_io_range r = { pg * PG, PG };
    return f->methods->sync(f, &r, 1);
}

/* Byte off of file "f" in image i of fs (durable = volatile in images). */
static unsigned char image_byte(faultfs *img, uint64_t off)
{
    return fft_byte(img, "f", 1, off);
}

static void synced_data_always_survives(void **state)
{
    faultfs *fs = fft_new(1, 512, 1);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", 4 * PG, &m);
    uint64_t n;
    (void)state;
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    memset(m, 'A', PG);
    assert_int_equal(sync_page(f, 0), MP_OK);
    m[PG + 7] = 'B';       /* unsynced, one sector */
    m[2 * PG + 700] = 'C'; /* unsynced, another page */
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n), MP_OK);
    assert_int_equal(n, 9); /* 3 x 3: old/new/garbage per dirty sector */
    for (uint64_t i = 0; i < n; i++) {
        faultfs *img;
        assert_int_equal(
            faultfs_image_by_index(fs, FAULTFS_SPACE_TORN, i, &img), MP_OK);
        for (uint64_t b = 0; b < PG; b += 511) {
            assert_int_equal(image_byte(img, b), 'A');
        }
        faultfs_free(img);
    }
    for (uint64_t seed = 0; seed < 32; seed++) {
        faultfs *img;
        assert_int_equal(faultfs_image_random(fs, seed, &img), MP_OK);
        assert_int_equal(image_byte(img, 100), 'A');
        faultfs_free(img);
    }
    f->methods->close(f);
    faultfs_free(fs);
}

static void unsynced_data_sometimes_survives(void **state)
{
    int seen_old = 0, seen_new = 0;
    (void)state;
    for (uint64_t seed = 0; seed < 32; seed++) {
        faultfs *fs = fft_new(seed, 512, 0), *img;
        unsigned char *m;
        struct mp_io_file *f = fft_raw_file(fs, "f", 2 * PG, &m);
        assert_int_equal(f->methods->sync_file(f), MP_OK);
        m[PG + 1] = 0x5A;
        assert_int_equal(faultfs_crash_now(fs), MP_OK);
        assert_int_equal(faultfs_image_random(fs, seed * 7 + 3, &img), MP_OK);
        if (image_byte(img, PG + 1) == 0x5A) {
            seen_new++;
        } else {
            assert_int_equal(image_byte(img, PG + 1), 0);
            seen_old++;
        }
        faultfs_free(img);
        f->methods->close(f);
        faultfs_free(fs);
    }
    assert_true(seen_old > 0);
    assert_true(seen_new > 0);
}

/* Change k sectors of one page and check the count and every image. */
static void check_torn_variants(uint32_t sector, int garbage, int k)
{
    faultfs *fs = fft_new(99, sector, garbage);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m);
    uint64_t n, want = 1, per = garbage ? 3 : 2, pages_n;
    int nsect = (int)(PG / sector);
    unsigned char *seen;

    memset(m, 0x11, PG);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    for (int i = 0; i < k; i++) {
        /* Sectors spread over the page, each changed in its last byte. */
        int s = i * nsect / k;
        m[(size_t)s * sector + sector - 1] = 0x22;
        want *= per;
    }
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n), MP_OK);
    assert_int_equal(n, want);
    assert_int_equal(faultfs_image_count(fs, FAULTFS_SPACE_PAGES, &pages_n),
                     MP_OK);
    assert_int_equal(pages_n, k ? 2 : 1);
    /* Every image distinct, every changed byte old, new or garbage, every
     * other byte untouched. */
    seen = calloc(n, PG);
    assert_non_null(seen);
    for (uint64_t i = 0; i < n; i++) {
        faultfs *img;
        unsigned char *b = seen + i * PG;
        int olds = 0, news = 0;
        assert_int_equal(
            faultfs_image_by_index(fs, FAULTFS_SPACE_TORN, i, &img), MP_OK);
        assert_int_equal(faultfs_file_read(img, "f", true, 0, b, PG), MP_OK);
        for (int s = 0; s < nsect; s++) {
            unsigned char last = b[(size_t)s * sector + sector - 1];
            olds += last == 0x11;
            news += last == 0x22;
            if (!garbage && sector > 1) {
                assert_int_equal(b[(size_t)s * sector], 0x11);
            }
        }
        if (!garbage) {
            assert_int_equal(olds + news, nsect);
        }
        if (i == 0) {
            assert_int_equal(news, 0);
            assert_string_equal(faultfs_image_pattern(img), "");
        }
        for (uint64_t j = 0; j < i; j++) {
            assert_true(memcmp(seen + j * PG, b, PG) != 0);
        }
        faultfs_free(img);
    }
    free(seen);
    f->methods->close(f);
    faultfs_free(fs);
}

static void torn_variant_count_matches_the_model(void **state)
{
    (void)state;
    for (int k = 0; k <= 8; k++) {
        check_torn_variants(512, 0, k); /* 2^k, of which 2^k - 2 torn */
    }
    for (int k = 0; k <= 5; k++) {
        check_torn_variants(512, 1, k); /* 3^k */
    }
    check_torn_variants(1, 0, 6);  /* byte-granular sectors */
    check_torn_variants(64, 0, 7); /* any power of two */
    check_torn_variants(PG, 0, 1); /* atomic page: old or new only */
    check_torn_variants(PG, 1, 1); /* ... or garbage */
}

static void growth_without_file_sync_can_be_lost(void **state)
{
    faultfs *fs = fft_new(5, 512, 0);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", 2 * PG, &m);
    uint64_t n, sizes[2] = { 0, 0 };
    struct faultfs_crash_info info;
    (void)state;
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(f->methods->grow(f, 4 * PG), MP_OK);
    assert_int_equal(f->methods->extend_map(f, 4 * PG), MP_OK);
    m[3 * PG] = 9;
    assert_int_equal(sync_page(f, 3), MP_OK); /* data, not the length */
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_crash_info(fs, &info), MP_OK);
    assert_int_equal(info.size_choices, 1);
    assert_int_equal(info.dirty_pages, 0);
    assert_int_equal(faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n), MP_OK);
    assert_int_equal(n, 2);
    for (uint64_t i = 0; i < n; i++) {
        faultfs *img;
        uint64_t sz;
        assert_int_equal(faultfs_image_by_index(fs, 0, i, &img), MP_OK);
        assert_int_equal(faultfs_file_size(img, "f", &sz), MP_OK);
        sizes[i] = sz;
        if (sz == 4 * PG) {
            assert_int_equal(image_byte(img, 3 * PG), 9);
        }
        faultfs_free(img);
    }
    assert_int_equal(sizes[0], 2 * PG); /* index 0: durable size */
    assert_int_equal(sizes[1], 4 * PG);
    f->methods->close(f);
    faultfs_free(fs);

    /* After the file sync the new length is certain. */
    fs = fft_new(5, 512, 0);
    f = fft_raw_file(fs, "f", 2 * PG, &m);
    assert_int_equal(f->methods->grow(f, 4 * PG), MP_OK);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_image_count(fs, 0, &n), MP_OK);
    assert_int_equal(n, 1);
    f->methods->close(f);
    faultfs_free(fs);
}

static void a_cut_size_cuts_dirty_sectors_too(void **state)
{
    faultfs *fs = fft_new(5, 512, 0);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", PG + 1024, &m);
    uint64_t n;
    (void)state;
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(f->methods->grow(f, 2 * PG), MP_OK);
    assert_int_equal(f->methods->extend_map(f, 2 * PG), MP_OK);
    m[PG + 100] = 1;  /* below the durable size */
    m[PG + 2000] = 2; /* above it */
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    /* durable size: 1 sector counts (2); current: 2 sectors (4). */
    assert_int_equal(faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n), MP_OK);
    assert_int_equal(n, 6);
    for (uint64_t i = 0; i < n; i++) {
        faultfs *img, *again;
        uint64_t sz;
        unsigned char a[2 * PG], b[2 * PG];
        assert_int_equal(faultfs_image_by_index(fs, 0, i, &img), MP_OK);
        assert_int_equal(faultfs_file_size(img, "f", &sz), MP_OK);
        assert_true(sz == PG + 1024 || sz == 2 * PG);
        if (sz == PG + 1024) {
            assert_int_equal(i < 2, 1);
        }
        /* Replay from the printed pattern gives the same bytes. */
        assert_int_equal(
            faultfs_image_from_pattern(fs, faultfs_image_pattern(img), &again),
            MP_OK);
        assert_int_equal(faultfs_file_read(img, "f", true, 0, a, sz), MP_OK);
        assert_int_equal(faultfs_file_read(again, "f", true, 0, b, sz), MP_OK);
        assert_memory_equal(a, b, sz);
        faultfs_free(again);
        faultfs_free(img);
    }
    f->methods->close(f);
    faultfs_free(fs);
}

static void patterns_replay_every_image(void **state)
{
    faultfs *fs = fft_new(77, 512, 1);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", 3 * PG, &m);
    uint64_t n;
    (void)state;
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    m[10] = 1;
    m[600] = 2;
    m[2 * PG + 4000] = 3;
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n), MP_OK);
    assert_int_equal(n, 27);
    for (uint64_t i = 0; i < n; i++) {
        faultfs *img, *again;
        unsigned char a[3 * PG], b[3 * PG];
        assert_int_equal(faultfs_image_by_index(fs, 0, i, &img), MP_OK);
        assert_int_equal(
            faultfs_image_from_pattern(fs, faultfs_image_pattern(img), &again),
            MP_OK);
        assert_string_equal(faultfs_image_pattern(img),
                            faultfs_image_pattern(again));
        assert_int_equal(faultfs_file_read(img, "f", true, 0, a, sizeof(a)),
                         MP_OK);
        assert_int_equal(faultfs_file_read(again, "f", true, 0, b, sizeof(b)),
                         MP_OK);
        assert_memory_equal(a, b, sizeof(a));
        faultfs_free(again);
        faultfs_free(img);
    }
    {
        faultfs *img;
        /* Hand-written patterns, and refusals. */
        assert_int_equal(faultfs_image_from_pattern(fs, "all=new", &img),
                         MP_OK);
        assert_int_equal(image_byte(img, 10), 1);
        assert_int_equal(image_byte(img, 2 * PG + 4000), 3);
        faultfs_free(img);
        assert_int_equal(faultfs_image_from_pattern(fs, "f0.p2=n", &img),
                         MP_OK);
        assert_int_equal(image_byte(img, 10), 0);
        assert_int_equal(image_byte(img, 2 * PG + 4000), 3);
        faultfs_free(img);
        assert_int_equal(faultfs_image_from_pattern(fs, "f0.p1=n", &img),
                         MP_EINVAL); /* page 1 is not dirty */
        assert_int_equal(faultfs_image_from_pattern(fs, "f1=c", &img),
                         MP_EINVAL);
        assert_int_equal(faultfs_image_from_pattern(fs, "f0.p0=tno", &img),
                         MP_EINVAL); /* 8 sectors, not 2 */
        assert_int_equal(faultfs_image_from_pattern(fs, "bogus", &img),
                         MP_EINVAL);
    }
    f->methods->close(f);
    faultfs_free(fs);
}

/* A fixed little workload over the raw seam; returns the fs (crashed if a
 * point was armed and reached). */
static faultfs *run_workload(uint64_t seed, uint64_t crash_at)
{
    faultfs *fs = fft_new(seed, 512, 1);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    unsigned char *m;
    struct mp_io_file *f;
    struct mp_io_range r[2] = { { 0, PG }, { 2 * PG, 2 * PG } };
    uint64_t reserved;
    int os;
    if (crash_at != UINT64_MAX) {
        assert_int_equal(faultfs_arm_crash(fs, crash_at), MP_OK);
    }
    if (vfs->open(vfs, "f", MP_IO_CREATE, &f, &os) != MP_OK) {
        return fs;
    }
    if (f->methods->grow(f, 4 * PG) != MP_OK ||
        f->methods->map(f, 1 << 20, 4 * PG, (void **)&m, &reserved) != MP_OK) {
        f->methods->close(f);
        return fs;
    }
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 4 * PG; i += 97) {
            m[i] = (unsigned char)(i * 31 + round);
        }
        (void)f->methods->sync(f, r, 2);
        (void)f->methods->sync_file(f);
    }
    f->methods->close(f);
    return fs;
}

static void the_same_seed_gives_the_same_images(void **state)
{
    faultfs *probe = run_workload(3, UINT64_MAX);
    uint64_t points = faultfs_point_count(probe);
    (void)state;
    faultfs_free(probe);
    /* open, grow, map: 2 points each; 3 rounds of sync + sync_file. */
    assert_int_equal(points, 6 + 3 * 6);
    for (uint64_t p = 0; p < points; p++) {
        faultfs *a = run_workload(3, p), *b = run_workload(3, p);
        struct faultfs_crash_info ia, ib;
        uint64_t na, nb;
        assert_true(faultfs_crashed(a));
        assert_int_equal(faultfs_crash_info(a, &ia), MP_OK);
        assert_int_equal(faultfs_crash_info(b, &ib), MP_OK);
        assert_int_equal(ia.point, p);
        assert_int_equal(ia.dirty_sectors, ib.dirty_sectors);
        assert_int_equal(faultfs_image_count(a, 0, &na) == MP_OK,
                         faultfs_image_count(b, 0, &nb) == MP_OK);
        assert_int_equal(na, nb);
        for (uint64_t s = 0; s < 4; s++) {
            faultfs *x, *y;
            unsigned char bx[4 * PG], by[4 * PG];
            uint64_t sx, sy;
            assert_int_equal(faultfs_image_random(a, s, &x), MP_OK);
            assert_int_equal(faultfs_image_random(b, s, &y), MP_OK);
            assert_string_equal(faultfs_image_pattern(x),
                                faultfs_image_pattern(y));
            if (faultfs_file_size(x, "f", &sx) == MP_OK) {
                assert_int_equal(faultfs_file_size(y, "f", &sy), MP_OK);
                assert_int_equal(sx, sy);
                assert_int_equal(faultfs_file_read(x, "f", true, 0, bx, sx),
                                 MP_OK);
                assert_int_equal(faultfs_file_read(y, "f", true, 0, by, sy),
                                 MP_OK);
                assert_memory_equal(bx, by, sx);
            }
            faultfs_free(x);
            faultfs_free(y);
        }
        faultfs_free(a);
        faultfs_free(b);
    }
}

static void another_seed_gives_other_garbage(void **state)
{
    unsigned char g[2][PG];
    (void)state;
    for (int s = 0; s < 2; s++) {
        faultfs *fs = fft_new(1000 + (uint64_t)s, PG, 1), *img;
        unsigned char *m;
        struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m);
        m[5] = 1;
        assert_int_equal(faultfs_crash_now(fs), MP_OK);
        assert_int_equal(faultfs_image_from_pattern(fs, "f0=c f0.p0=tg", &img),
                         MP_OK);
        assert_int_equal(faultfs_file_read(img, "f", true, 0, g[s], PG), MP_OK);
        faultfs_free(img);
        f->methods->close(f);
        faultfs_free(fs);
    }
    assert_true(memcmp(g[0], g[1], PG) != 0);
}

static void names_are_durable_only_after_sync_dir(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    unsigned char *m;
    struct mp_io_file *f;
    struct faultfs_crash_info info;
    uint64_t n;
    int os = 0, with_tmp = 0, with_final = 0, with_none = 0;
    (void)state;
    assert_int_equal(vfs->open(vfs, "dir/tmp", MP_IO_CREATE, &f, &os), MP_OK);
    assert_int_equal(f->methods->grow(f, PG), MP_OK);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(vfs->rename(vfs, "dir/tmp", "dir/final", &os), MP_OK);
    assert_int_equal(vfs->rename(vfs, "dir/tmp", "dir/x", &os), MP_ENOENT);
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_crash_info(fs, &info), MP_OK);
    assert_int_equal(info.pending_names, 2); /* create, rename */
    assert_int_equal(faultfs_image_count(fs, 0, &n), MP_OK);
    assert_int_equal(n, 3);
    for (uint64_t i = 0; i < n; i++) {
        faultfs *img;
        uint64_t sz;
        assert_int_equal(faultfs_image_by_index(fs, 0, i, &img), MP_OK);
        with_tmp += faultfs_file_size(img, "dir/tmp", &sz) == MP_OK;
        with_final += faultfs_file_size(img, "dir/final", &sz) == MP_OK;
        with_none += faultfs_file_count(img) == 0;
        faultfs_free(img);
    }
    assert_int_equal(with_tmp, 1);
    assert_int_equal(with_final, 1);
    assert_int_equal(with_none, 1);
    f->methods->close(f);
    faultfs_free(fs);

    /* After sync_dir only the final name exists in every image. */
    fs = fft_new(1, 512, 0);
    vfs = faultfs_vfs(fs);
    f = fft_raw_file(fs, "dir/tmp", PG, &m);
    m[0] = 1;
    assert_int_equal(vfs->rename(vfs, "dir/tmp", "dir/final", &os), MP_OK);
    assert_int_equal(vfs->sync_dir(vfs, "dir/final", &os), MP_OK);
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_image_count(fs, 0, &n), MP_OK);
    assert_int_equal(n, 3); /* size 0, or size PG with page 0 old/new */
    f->methods->close(f);
    faultfs_free(fs);
}

static void a_crash_freezes_the_disk(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m), *g;
    uint64_t sz;
    int os = 0;
    (void)state;
    assert_int_equal(
        faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC, 1, FAULTFS_BEFORE), MP_OK);
    m[0] = 1;
    assert_int_equal(sync_page(f, 0), MP_EIO);
    assert_true(faultfs_crashed(fs));
    /* Device gone: every failure-capable call fails; teardown works. */
    assert_int_equal(f->methods->sync_file(f), MP_EIO);
    assert_int_equal(f->methods->grow(f, 2 * PG), MP_EIO);
    assert_int_equal(f->methods->lock(f, MP_IO_LOCK_SHARED), MP_EIO);
    assert_int_equal(vfs->open(vfs, "f", 0, &g, &os), MP_EIO);
    assert_int_equal(f->methods->size(f, &sz), MP_OK);
    assert_int_equal(f->methods->lock(f, MP_IO_UNLOCK), MP_OK);
    assert_int_equal(f->methods->unmap(f), MP_OK);
    assert_int_equal(faultfs_crash_now(fs), MP_EINVAL);
    assert_int_equal(faultfs_arm_crash(fs, 100), MP_EINVAL);
    f->methods->close(f);
    faultfs_free(fs);
}

static void crash_points_are_counted_per_call(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    unsigned char *m;
    struct mp_io_file *f;
    struct faultfs_trace_entry e;
    (void)state;
    f = fft_raw_file(fs, "f", PG, &m); /* open, sync_dir, grow, map */
    assert_int_equal(faultfs_point_count(fs), 8); /* 2 each */
    assert_int_equal(f->methods->lock(f, MP_IO_LOCK_EXCLUSIVE), MP_OK);
    assert_int_equal(faultfs_point_count(fs), 8); /* lock is no point */
    assert_int_equal(sync_page(f, 0), MP_OK);
    assert_int_equal(faultfs_point_count(fs), 11); /* before/during/after */
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(faultfs_point_count(fs), 14);
    assert_int_equal(f->methods->extend_map(f, PG), MP_OK);
    assert_int_equal(faultfs_point_count(fs), 16);
    /* The trace shows each call with its first point. */
    assert_int_equal(faultfs_trace_count(fs), 8);
    assert_int_equal(faultfs_trace_get(fs, 5, &e), MP_OK);
    assert_int_equal(e.call, FAULTFS_CALL_SYNC);
    assert_int_equal(e.point, 8);
    assert_int_equal(faultfs_trace_get(fs, 4, &e), MP_OK);
    assert_int_equal(e.call, FAULTFS_CALL_LOCK);
    assert_int_equal(e.point, UINT64_MAX);
    assert_int_equal(faultfs_trace_get(fs, 8, &e), MP_EINVAL);
    f->methods->close(f);
    faultfs_free(fs);
}

static void during_persists_a_prefix_of_the_sync(void **state)
{
    int partial = 0;
    (void)state;
    for (uint64_t seed = 0; seed < 16; seed++) {
        faultfs *fs = fft_new(seed, 512, 0), *img;
        unsigned char *m;
        struct mp_io_file *f = fft_raw_file(fs, "f", 4 * PG, &m);
        struct mp_io_range r = { 0, 4 * PG };
        struct faultfs_crash_info info;
        int news = 0, gap = 0;
        assert_int_equal(f->methods->sync_file(f), MP_OK);
        memset(m, 0xEE, 4 * PG);
        assert_int_equal(
            faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC, 1, FAULTFS_DURING),
            MP_OK);
        assert_int_equal(f->methods->sync(f, &r, 1), MP_EIO);
        assert_int_equal(faultfs_crash_info(fs, &info), MP_OK);
        assert_int_equal(info.when, FAULTFS_DURING);
        /* Image 0 is the disk itself: a prefix of sectors is new. */
        assert_int_equal(faultfs_image_by_index(fs, 0, 0, &img), MP_OK);
        for (uint64_t s = 0; s < 4 * PG / 512; s++) {
            unsigned char b = image_byte(img, s * 512);
            if (b == 0xEE) {
                assert_int_equal(gap, 0);
                news++;
            } else {
                gap = 1;
            }
        }
        assert_true(news >= 1 && news < 4 * PG / 512);
        partial += news > 0;
        faultfs_free(img);
        f->methods->close(f);
        faultfs_free(fs);
    }
    assert_int_equal(partial, 16);
}

static void files_round_trip_through_the_host(void **state)
{
    faultfs *fs = fft_new(1, 512, 0), *other = fft_new(2, 512, 0);
    unsigned char *m, buf[3 * PG];
    struct mp_io_file *f = fft_raw_file(fs, "f", 3 * PG, &m);
    char path[] = "/tmp/faultfs-rt-XXXXXX";
    int fd = mkstemp(path);
    uint64_t sz;
    (void)state;
    assert_true(fd >= 0);
    memset(m, 3, PG);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    m[PG] = 4; /* volatile only: not written out */
    assert_int_equal(faultfs_write_file(fs, "f", path), MP_OK);
    assert_int_equal(faultfs_load_file(other, "g", path), MP_OK);
    assert_int_equal(faultfs_file_durable_size(other, "g", &sz), MP_OK);
    assert_int_equal(sz, 3 * PG);
    assert_int_equal(faultfs_file_read(other, "g", false, 0, buf, sz), MP_OK);
    assert_int_equal(buf[0], 3);
    assert_int_equal(buf[PG], 0);
    assert_int_equal(faultfs_load_file(other, "h", "/nonexistent/x"),
                     MP_ENOENT);
    assert_int_equal(faultfs_write_file(fs, "nope", path), MP_ENOENT);
    close(fd);
    remove(path);
    f->methods->close(f);
    faultfs_free(fs);
    faultfs_free(other);
}

static void stats_count_the_work(void **state)
{
    faultfs *fs = fft_new(1, 512, 0), *img;
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", 2 * PG, &m);
    struct faultfs_stats st;
    (void)state;
    m[0] = 1;
    m[PG] = 1;
    assert_int_equal(sync_page(f, 0), MP_OK);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    m[0] = 2;
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_image_random(fs, 1, &img), MP_OK);
    faultfs_stats(fs, &st);
    assert_int_equal(st.syncs, 1);
    assert_int_equal(st.sync_files, 1);
    assert_int_equal(st.bytes_synced, PG);
    assert_int_equal(st.bytes_made_durable, 2 * PG);
    assert_int_equal(st.pages_dirtied, 3); /* 2 written back, 1 at crash */
    assert_int_equal(st.crashes, 1);
    assert_int_equal(st.images, 1);
    faultfs_free(img);
    f->methods->close(f);
    faultfs_free(fs);
}

static void a_crash_after_a_call_lets_it_return(void **state)
{
    faultfs *fs = fft_new(1, 512, 0), *img;
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m);
    struct faultfs_crash_info info;
    char buf[4096];
    FILE *out = fmemopen(buf, sizeof(buf), "w");
    uint64_t n;
    (void)state;
    assert_non_null(out);
    assert_int_equal(
        faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC_FILE, 1, FAULTFS_AFTER),
        MP_OK);
    m[0] = 7;
    assert_int_equal(f->methods->sync_file(f), MP_OK); /* it completed */
    assert_true(faultfs_crashed(fs));
    assert_int_equal(faultfs_crash_info(fs, &info), MP_OK);
    assert_int_equal(info.call, FAULTFS_CALL_SYNC_FILE);
    assert_int_equal(info.when, FAULTFS_AFTER);
    assert_int_equal(info.point, 10); /* 8 before it, then before/during */
    assert_int_equal(info.dirty_pages, 0);
    assert_int_equal(faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n), MP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(faultfs_image_by_index(fs, 0, 0, &img), MP_OK);
    assert_int_equal(image_byte(img, 0), 7);
    faultfs_free(img);
    assert_int_equal(faultfs_image_by_index(fs, 0, 1, &img), MP_EINVAL);
    faultfs_trace_print(fs, out);
    fclose(out);
    assert_non_null(strstr(buf, "sync_file"));
    assert_non_null(strstr(buf, "[CRASH]"));
    assert_non_null(strstr(buf, "durable size 4096"));
    f->methods->close(f);
    faultfs_free(fs);
}

static void fuzzer_bytes_choose_the_image(void **state)
{
    faultfs *fs = fft_new(1, 512, 0), *img;
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "f", 2 * PG, &m);
    static const unsigned char all_new[] = { 1, 1 }, torn[] = { 0, 2, 1, 0 };
    (void)state;
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    m[0] = 1;
    m[PG] = 2;
    m[PG + 512] = 3;
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    /* One byte per choice: page 0 kind, page 1 kind (0 old, 1 new, 2
     * torn: then one byte per differing sector). */
    assert_int_equal(faultfs_image_from_bytes(fs, NULL, 0, &img), MP_OK);
    assert_string_equal(faultfs_image_pattern(img), "");
    faultfs_free(img);
    assert_int_equal(faultfs_image_from_bytes(fs, all_new, 2, &img), MP_OK);
    assert_string_equal(faultfs_image_pattern(img), "f0.p0=n f0.p1=n");
    faultfs_free(img);
    assert_int_equal(faultfs_image_from_bytes(fs, torn, 4, &img), MP_OK);
    assert_string_equal(faultfs_image_pattern(img), "f0.p1=tno------");
    assert_int_equal(image_byte(img, PG), 2);
    assert_int_equal(image_byte(img, PG + 512), 0);
    faultfs_free(img);
    f->methods->close(f);
    faultfs_free(fs);
}

static void harness_file_calls_act_like_a_page_cache(void **state)
{
    faultfs *fs = fft_new(1, 512, 0);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    unsigned char *m, b[8];
    struct mp_io_file *f = fft_raw_file(fs, "f", PG, &m);
    uint64_t sz;
    int os;
    (void)state;
    /* A write shows through the mapping at once, and is not durable. */
    assert_int_equal(faultfs_file_write(fs, "f", 10, "hey", 3), MP_OK);
    assert_memory_equal(m + 10, "hey", 3);
    assert_int_equal(faultfs_file_read(fs, "f", true, 10, b, 1), MP_EINVAL);
    assert_int_equal(faultfs_file_durable_size(fs, "f", &sz), MP_OK);
    assert_int_equal(sz, 0);
    assert_int_equal(faultfs_file_truncate(fs, "f", 10), MP_EINVAL);
    f->methods->close(f);
    /* Shrink and regrow: the cut bytes read back as zeros. */
    assert_int_equal(faultfs_file_truncate(fs, "f", 11), MP_OK);
    assert_int_equal(faultfs_file_truncate(fs, "f", 20), MP_OK);
    assert_int_equal(faultfs_file_read(fs, "f", false, 10, b, 3), MP_OK);
    assert_memory_equal(b, "h\0\0", 3);
    assert_int_equal(faultfs_file_read(fs, "f", false, 18, b, 3), MP_EINVAL);
    assert_int_equal(faultfs_sync_all(fs), MP_OK);
    assert_int_equal(faultfs_file_durable_size(fs, "f", &sz), MP_OK);
    assert_int_equal(sz, 20);
    assert_int_equal(fft_byte(fs, "f", 1, 10), 'h');
    assert_int_equal(faultfs_file_count(fs), 1);
    assert_string_equal(faultfs_file_name(fs, 0), "f");
    assert_int_equal(faultfs_file_remove(fs, "f"), MP_OK);
    assert_int_equal(faultfs_file_remove(fs, "f"), MP_ENOENT);
    assert_int_equal(faultfs_file_count(fs), 0);
    assert_int_equal(vfs->open(vfs, "f", 0, &f, &os), MP_ENOENT);
    assert_int_equal(faultfs_load_bytes(fs, "g", "abc", 3), MP_OK);
    assert_int_equal(faultfs_file_size(fs, "g", &sz), MP_OK);
    assert_int_equal(sz, 3);
    faultfs_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(synced_data_always_survives),
        cmocka_unit_test(unsynced_data_sometimes_survives),
        cmocka_unit_test(torn_variant_count_matches_the_model),
        cmocka_unit_test(growth_without_file_sync_can_be_lost),
        cmocka_unit_test(a_cut_size_cuts_dirty_sectors_too),
        cmocka_unit_test(patterns_replay_every_image),
        cmocka_unit_test(the_same_seed_gives_the_same_images),
        cmocka_unit_test(another_seed_gives_other_garbage),
        cmocka_unit_test(names_are_durable_only_after_sync_dir),
        cmocka_unit_test(a_crash_freezes_the_disk),
        cmocka_unit_test(crash_points_are_counted_per_call),
        cmocka_unit_test(during_persists_a_prefix_of_the_sync),
        cmocka_unit_test(files_round_trip_through_the_host),
        cmocka_unit_test(stats_count_the_work),
        cmocka_unit_test(a_crash_after_a_call_lets_it_return),
        cmocka_unit_test(fuzzer_bytes_choose_the_image),
        cmocka_unit_test(harness_file_calls_act_like_a_page_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
