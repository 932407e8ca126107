/*
 * test_faultfs_reuse.c - faultfs_reuse() gives what faultfs_new() gives,
 * and pages nothing touched are skipped without changing what a sync or
 * a crash makes durable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fft.h"

#define PG 4096

static void close_file(struct mp_io_file *f)
{
    f->methods->unmap(f);
    f->methods->close(f);
}

static faultfs *new_fs(size_t page)
{
    struct faultfs_config c;
    faultfs *fs = NULL;
    faultfs_config_init(&c);
    c.page_size = page;
    c.seed = 5;
    assert_int_equal(faultfs_new(&c, &fs), MP_OK);
    return fs;
}

/* Every byte of the named file (durable or current) equals v. */
static void assert_all(faultfs *fs, const char *name, int durable,
                       uint64_t size, unsigned char v)
{
    unsigned char *buf = malloc((size_t)size);
    assert_non_null(buf);
    assert_int_equal(
        faultfs_file_read(fs, name, durable != 0, 0, buf, (size_t)size), MP_OK);
    for (uint64_t i = 0; i < size; i++) {
        if (buf[i] != v) {
            fail_msg("byte %llu is %d, not %d", (unsigned long long)i, buf[i],
                     v);
        }
    }
    free(buf);
}

static void reuse_starts_over(void **state)
{
    struct faultfs_config c;
    struct faultfs_stats st;
    faultfs *fs = new_fs(PG);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "a", 8 * PG, &m);
    (void)state;

    memset(m, 0x5A, 8 * PG);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    close_file(f);
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_true(faultfs_point_count(fs) > 0);

    faultfs_config_init(&c);
    c.page_size = 1024;
    c.seed = 9;
    assert_int_equal(faultfs_reuse(fs, &c), MP_OK);
    assert_ptr_equal(faultfs_vfs(fs), vfs);
    assert_int_equal(faultfs_file_count(fs), 0);
    assert_int_equal(faultfs_point_count(fs), 0);
    assert_false(faultfs_crashed(fs));
    faultfs_stats(fs, &st);
    assert_int_equal(st.points, 0);
    assert_int_equal(st.syncs, 0);
    faultfs_get_config(fs, &c);
    assert_int_equal(c.page_size, 1024);
    assert_int_equal(c.seed, 9);
    faultfs_free(fs);
}

/* The region of a freed file comes back cleared: nothing of the last run
 * shows through, in memory or on disk. */
static void reused_region_is_clear(void **state)
{
    faultfs *fs = new_fs(PG);
    unsigned char *m1, *m2;
    struct mp_io_file *f = fft_raw_file(fs, "a", 16 * PG, &m1);
    (void)state;

    memset(m1, 0xC3, 16 * PG);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    close_file(f);
    assert_int_equal(faultfs_reuse(fs, NULL), MP_OK);

    f = fft_raw_file(fs, "b", 16 * PG, &m2);
    /* Same reservation asked: the same memory, cleared. */
    assert_ptr_equal(m1, m2);
    for (size_t i = 0; i < 16 * PG; i++) {
        if (m2[i] != 0) {
            fail_msg("byte %zu survived reuse: %d", i, m2[i]);
        }
    }
    assert_all(fs, "b", 0, 16 * PG, 0);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_all(fs, "b", 1, 16 * PG, 0);
    /* Stores after reuse reach the disk like on a fresh faultfs. */
    memset(m2 + 3 * PG, 0x11, PG);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(fft_byte(fs, "b", 1, 3 * PG + 7), 0x11);
    assert_int_equal(fft_byte(fs, "b", 1, 2 * PG), 0);
    close_file(f);
    faultfs_free(fs);
}

static void reuse_refuses_open_files(void **state)
{
    struct faultfs_config bad;
    faultfs *fs = new_fs(PG);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "a", 4 * PG, &m);
    (void)state;

    assert_int_equal(faultfs_reuse(fs, NULL), MP_EINVAL);
    assert_int_equal(faultfs_file_count(fs), 1); /* unchanged */
    memset(m, 1, PG);                            /* still mapped */
    close_file(f);
    faultfs_config_init(&bad);
    bad.page_size = 3000;
    assert_int_equal(faultfs_reuse(fs, &bad), MP_EINVAL);
    assert_int_equal(faultfs_file_count(fs), 1);
    assert_int_equal(faultfs_reuse(NULL, NULL), MP_EINVAL);
    faultfs_free(fs);
}

/* The same calls on a fresh and on a reused faultfs pass the same points
 * and give byte-identical crash images. */
static void run_workload(faultfs *fs, const char *pattern_out, size_t cap)
{
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "w", 8 * PG, &m);
    struct mp_io_range r = { PG, 2 * PG };
    faultfs *img = NULL;
    const char *pat;

    memset(m + PG, 0x21, 2 * PG);
    assert_int_equal(f->methods->sync(f, &r, 1), MP_OK);
    assert_int_equal(f->methods->grow(f, 32 * PG), MP_OK);
    assert_int_equal(f->methods->extend_map(f, 32 * PG), MP_OK);
    memset(m + 20 * PG, 0x42, PG);
    assert_int_equal(
        faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC_FILE, 1, FAULTFS_DURING),
        MP_OK);
    assert_int_equal(f->methods->sync_file(f), MP_EIO);
    close_file(f);
    assert_true(faultfs_crashed(fs));
    assert_int_equal(faultfs_image_random(fs, 77, &img), MP_OK);
    pat = faultfs_image_pattern(img);
    assert_non_null(pat);
    snprintf((char *)pattern_out, cap, "%llu %s",
             (unsigned long long)faultfs_point_count(fs), pat);
    faultfs_free(img);
}

static void reuse_is_deterministic(void **state)
{
    char fresh[512], reused[512];
    faultfs *fs = new_fs(PG);
    (void)state;
    run_workload(fs, fresh, sizeof(fresh));
    for (int i = 0; i < 3; i++) {
        struct faultfs_config c;
        faultfs_config_init(&c);
        c.seed = 5;
        assert_int_equal(faultfs_reuse(fs, &c), MP_OK);
        run_workload(fs, reused, sizeof(reused));
        assert_string_equal(fresh, reused);
    }
    faultfs_free(fs);
}

/*
 * Growth leaves new pages untouched; a sync_file must still persist what
 * the program stored into some of them, and zero for the rest. Pages of
 * 1 KiB (several per OS page) and 16 KiB (several OS pages per page).
 */
static void sync_file_after_growth(size_t page)
{
    faultfs *fs = new_fs(page);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    struct mp_io_file *f;
    unsigned char *m;
    uint64_t reserved, size = 64 * (uint64_t)page;
    int os = 0;

    assert_int_equal(vfs->open(vfs, "g", MP_IO_CREATE, &f, &os), MP_OK);
    assert_int_equal(f->methods->grow(f, 4 * page), MP_OK);
    assert_int_equal(
        f->methods->map(f, (uint64_t)1 << 24, 4 * page, (void **)&m, &reserved),
        MP_OK);
    memset(m, 0x01, 4 * page);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(f->methods->grow(f, size), MP_OK);
    assert_int_equal(f->methods->extend_map(f, size), MP_OK);
    /* One byte into page 9, the whole of page 40, a byte at the end. */
    m[9 * page + 1] = 0x09;
    memset(m + 40 * page, 0x28, page);
    m[size - 1] = 0x3F;
    /* A page only read stays zero (it is mapped, not stored into). */
    assert_int_equal(m[50 * page], 0);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(fft_byte(fs, "g", 1, 0), 0x01);
    assert_int_equal(fft_byte(fs, "g", 1, 9 * page + 1), 0x09);
    assert_int_equal(fft_byte(fs, "g", 1, 9 * page), 0);
    assert_int_equal(fft_byte(fs, "g", 1, 40 * page + page / 2), 0x28);
    assert_int_equal(fft_byte(fs, "g", 1, size - 1), 0x3F);
    assert_int_equal(fft_byte(fs, "g", 1, 50 * page), 0);
    assert_int_equal(fft_byte(fs, "g", 1, 41 * page), 0);
    close_file(f);
    faultfs_free(fs);
}

static void sync_file_after_growth_small_pages(void **state)
{
    (void)state;
    sync_file_after_growth(1024);
}

static void sync_file_after_growth_large_pages(void **state)
{
    (void)state;
    sync_file_after_growth(16384);
}

/* A crash after growth: the snapshot's dirty pages are exactly the ones
 * stored into, untouched new pages are not dirty. */
static void crash_after_growth_counts_stored_pages(void **state)
{
    struct faultfs_crash_info ci;
    faultfs *fs = new_fs(PG);
    unsigned char *m;
    struct mp_io_file *f = fft_raw_file(fs, "c", 4 * PG, &m);
    (void)state;

    assert_int_equal(f->methods->sync_file(f), MP_OK);
    assert_int_equal(f->methods->grow(f, 64 * PG), MP_OK);
    assert_int_equal(f->methods->extend_map(f, 64 * PG), MP_OK);
    m[10 * PG] = 1;
    m[30 * PG + 5] = 2;
    (void)m[50 * PG]; /* read only */
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    assert_int_equal(faultfs_crash_info(fs, &ci), MP_OK);
    assert_int_equal(ci.dirty_pages, 2);
    assert_int_equal(ci.size_choices, 1);
    close_file(f);
    faultfs_free(fs);
}

/* An image built in a spare equals one built fresh, byte for byte, and
 * the spare is what comes back. */
static void image_in_a_spare_equals_a_fresh_image(void **state)
{
    static const uint8_t tear[] = { 0, 1, 2, 1, 0, 2, 2, 1, 0, 1 };
    faultfs *fs = new_fs(1024), *spare, *a = NULL, *b = NULL;
    unsigned char *m, *x, *y;
    struct mp_io_file *f = fft_raw_file(fs, "i", 64 * 1024, &m);
    uint64_t sa = 0, sb = 0;
    (void)state;

    memset(m, 0x31, 64 * 1024);
    assert_int_equal(f->methods->sync_file(f), MP_OK);
    memset(m + 5 * 1024, 0x32, 3 * 1024);
    memset(m + 40 * 1024 + 100, 0x33, 700);
    assert_int_equal(faultfs_crash_now(fs), MP_OK);
    close_file(f);

    assert_int_equal(faultfs_image_from_bytes(fs, tear, sizeof(tear), &a),
                     MP_OK);
    /* A spare that held a file of its own: nothing of it may remain. */
    spare = new_fs(4096);
    f = fft_raw_file(spare, "other", 16 * 4096, &m);
    memset(m, 0x7E, 16 * 4096);
    close_file(f);
    faultfs_image_spare(fs, spare);
    assert_int_equal(faultfs_image_from_bytes(fs, tear, sizeof(tear), &b),
                     MP_OK);
    assert_ptr_equal(b, spare);
    assert_string_equal(faultfs_image_pattern(a), faultfs_image_pattern(b));
    assert_int_equal(faultfs_file_count(b), 1);
    assert_int_equal(faultfs_file_size(a, "i", &sa), MP_OK);
    assert_int_equal(faultfs_file_size(b, "i", &sb), MP_OK);
    assert_int_equal(sa, sb);
    x = malloc((size_t)sa);
    y = malloc((size_t)sa);
    assert_non_null(x);
    assert_non_null(y);
    for (int durable = 0; durable < 2; durable++) {
        assert_int_equal(faultfs_file_read(a, "i", durable, 0, x, (size_t)sa),
                         MP_OK);
        assert_int_equal(faultfs_file_read(b, "i", durable, 0, y, (size_t)sa),
                         MP_OK);
        assert_memory_equal(x, y, (size_t)sa);
    }
    /* Opened and mapped (the reused region takes the base as a copy). */
    {
        const struct mp_vfs *vfs = faultfs_vfs(b);
        struct mp_io_file *g;
        unsigned char *gm;
        uint64_t reserved;
        int os = 0;
        assert_int_equal(vfs->open(vfs, "i", 0, &g, &os), MP_OK);
        assert_int_equal(
            g->methods->map(g, (uint64_t)1 << 24, sa, (void **)&gm, &reserved),
            MP_OK);
        assert_memory_equal(gm, y, (size_t)sa);
        close_file(g);
    }
    free(x);
    free(y);
    faultfs_free(a);
    faultfs_free(b);
    /* An unused spare dies with its owner (valgrind checks the leak). */
    faultfs_image_spare(fs, new_fs(4096));
    faultfs_image_spare(fs, new_fs(4096));
    faultfs_free(fs);
    faultfs_image_spare(NULL, new_fs(4096));
}

/* A reused region larger than a file asks for still gives the file the
 * reservation it asked for (growth past it must fail as on a fresh disk);
 * a larger ask than the region gets a new region. */
static void reused_region_keeps_the_asked_reservation(void **state)
{
    faultfs *fs = new_fs(PG);
    const struct mp_vfs *vfs = faultfs_vfs(fs);
    struct mp_io_file *f;
    unsigned char *m1, *m2, *m3;
    uint64_t reserved = 0;
    int os = 0;
    (void)state;

    f = fft_raw_file(fs, "big", 4 * PG, &m1); /* reserves 16 MiB */
    memset(m1, 9, 4 * PG);
    close_file(f);
    assert_int_equal(faultfs_reuse(fs, NULL), MP_OK);
    assert_int_equal(vfs->open(vfs, "small", MP_IO_CREATE, &f, &os), MP_OK);
    assert_int_equal(f->methods->grow(f, 2 * PG), MP_OK);
    assert_int_equal(
        f->methods->map(f, 8 * PG, 2 * PG, (void **)&m2, &reserved), MP_OK);
    assert_ptr_equal(m2, m1);
    assert_int_equal(reserved, 8 * PG);
    assert_int_equal(m2[0], 0);
    assert_int_equal(f->methods->grow(f, 8 * PG), MP_OK);
    assert_int_equal(f->methods->extend_map(f, 8 * PG), MP_OK);
    assert_int_not_equal(f->methods->extend_map(f, 9 * PG), MP_OK);
    close_file(f);
    assert_int_equal(faultfs_reuse(fs, NULL), MP_OK);
    assert_int_equal(vfs->open(vfs, "huge", MP_IO_CREATE, &f, &os), MP_OK);
    assert_int_equal(f->methods->grow(f, PG), MP_OK);
    assert_int_equal(
        f->methods->map(f, (uint64_t)1 << 26, PG, (void **)&m3, &reserved),
        MP_OK);
    assert_int_equal(reserved, (uint64_t)1 << 26);
    m3[PG - 1] = 1;
    close_file(f);
    faultfs_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reuse_starts_over),
        cmocka_unit_test(reused_region_is_clear),
        cmocka_unit_test(reuse_refuses_open_files),
        cmocka_unit_test(reused_region_keeps_the_asked_reservation),
        cmocka_unit_test(reuse_is_deterministic),
        cmocka_unit_test(sync_file_after_growth_small_pages),
        cmocka_unit_test(sync_file_after_growth_large_pages),
        cmocka_unit_test(crash_after_growth_counts_stored_pages),
        cmocka_unit_test(image_in_a_spare_equals_a_fresh_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
