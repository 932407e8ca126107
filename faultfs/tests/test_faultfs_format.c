/*
 * test_faultfs_format.c - format 2's promises under crashes that format 1
 * did not survive (issue 11): no single power-fail unit whose garbage
 * kills the file, the device rule at create and open, and a second crash
 * right after a recovery from a torn commit record.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../core/tests/support/mpt_valgrind.h"
#include "fft.h"

#define NAME    "dir/db"
#define NO_FILE 0 /* the digest of "the file does not exist" */

static faultfs *new_fs(uint32_t fs_page, uint32_t sector, bool garbage)
{
    struct faultfs_config cfg;
    faultfs *fs;
    faultfs_config_init(&cfg);
    cfg.seed = 7;
    cfg.page_size = fs_page;
    cfg.sector_size = sector;
    cfg.garbage = garbage;
    assert_int_equal(faultfs_new(&cfg, &fs), MP_OK);
    return fs;
}

static uint64_t digest(mp_pager *p)
{
    return fft_digest(p, 64);
}

/* ---- item 4: a second crash after a torn-record recovery ------------- */

/*
 * Tear the record of a commit so that its last 8 bytes (copy CRC and
 * record CRC) are the previous commit's: 8-byte sectors, the record's
 * sectors 64 and 65 new, 66 old. Every other page of the commit is new.
 */
static const char *torn_record_pattern(uint32_t fs_page)
{
    static char pat[64 + 4096 / 8 + 1];
    size_t n = (size_t)snprintf(pat, sizeof(pat), "all=new f0.p0=t");
    for (uint32_t s = 0; s < fs_page / 8; s++) {
        pat[n++] = s == 64 || s == 65 ? 'n' : s == 66 ? 'o' : '-';
    }
    pat[n] = '\0';
    return pat;
}

/* The staged page torn: its first half new, its second half old. */
static char *half_torn_pattern(uint64_t page, uint32_t fs_page)
{
    size_t sectors = fs_page / 8, n;
    char *pat = malloc(64 + sectors + 1);
    assert_non_null(pat);
    n = (size_t)sprintf(pat, "all=new f0.p%llu=t", (unsigned long long)page);
    for (size_t s = 0; s < sectors; s++) {
        pat[n++] = s < sectors / 2 ? 'n' : 'o';
    }
    pat[n] = '\0';
    return pat;
}

/*
 * One run: commit 0xAA into a protected page, tear the next commit's
 * record, reopen (TORN_RECORD), stage 0xBB and crash at the `nth` sync of
 * the protected commit, during it, with the staged page half written.
 * Returns the recovered page's first and last byte in *first and *last.
 */
static void second_crash_run(int nth, int *reason, unsigned char *first,
                             unsigned char *last, bool *torn_data)
{
    enum {
        PS = 4096
    };
    faultfs *fs = new_fs(PS, 8, false), *img1, *img2;
    struct mp_recovery_info ri;
    struct mp_options opt;
    mp_protected_id id;
    mp_pager *p = NULL;
    mp_pgno reg, extra;
    const unsigned char *r, *pr;
    unsigned char *w;
    uint64_t staged;
    char *pat;
    int rc;

    fft_options(fs, &opt);
    assert_int_equal(mp_pager_create(NAME, PS, &opt, &p), MP_OK);
    assert_int_equal(mp_pager_alloc(p, &reg), MP_OK);
    assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
    assert_int_equal(fft_protected_write(p, id, 0xAA), MP_OK);
    /* Barrier 2 of the next commit is its second sync. */
    assert_int_equal(
        faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC, 2, FAULTFS_DURING), MP_OK);
    assert_int_not_equal(mp_pager_alloc(p, &extra), MP_OK);
    assert_true(faultfs_crashed(fs));
    mp_pager_close(p);
    assert_int_equal(
        faultfs_image_from_pattern(fs, torn_record_pattern(PS), &img1), MP_OK);
    faultfs_free(fs);

    fft_options(img1, &opt);
    assert_int_equal(mp_pager_open(NAME, PS, &opt, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    assert_int_equal(ri.reason, MP_RECOVERY_TORN_RECORD);
    assert_int_equal(mp_protected_begin(p, id, (void **)&w), MP_OK);
    memset(w, 0xBB, PS);
    assert_int_equal(mp_pager_get(p, reg, (const void **)&r), MP_OK);
    staged = reg + (uint64_t)((uintptr_t)w - (uintptr_t)r) / PS;
    assert_int_equal(faultfs_arm_crash_at(img1, FAULTFS_CALL_SYNC,
                                          (uint64_t)nth, FAULTFS_DURING),
                     MP_OK);
    assert_int_not_equal(mp_protected_commit(p, id), MP_OK);
    assert_true(faultfs_crashed(img1));
    mp_pager_close(p);
    /* The staged page torn if this sync wrote it, else every page new. */
    pat = half_torn_pattern(staged, PS);
    rc = faultfs_image_from_pattern(img1, pat, &img2);
    *torn_data = rc == MP_OK;
    if (rc != MP_OK) {
        assert_int_equal(faultfs_image_from_pattern(img1, "all=new", &img2),
                         MP_OK);
    }
    free(pat);
    faultfs_free(img1);

    fft_options(img2, &opt);
    assert_int_equal(mp_pager_open(NAME, PS, &opt, &p), MP_OK);
    mp_pager_recovery(p, &ri);
    *reason = ri.reason;
    assert_int_equal(mp_protected_get(p, id, (const void **)&pr), MP_OK);
    *first = pr[0];
    *last = pr[PS - 1];
    for (size_t i = 0; i < PS; i++) {
        if (pr[i] != pr[0]) {
            fprintf(stderr, "sync %d: protected page mixes 0x%02x and 0x%02x\n",
                    nth, pr[0], pr[i]);
            fail();
        }
    }
    mp_pager_close(p);
    faultfs_free(img2);
}

/*
 * Issue 11 item 4: after an open that recovered from a torn record, a
 * crash in barrier 1 of the next protected commit must recover the page
 * old or new, never a mix, and never with reason BAD_SELECTED. Every sync
 * of that commit is tried as the crash site (the first is barrier 1 or,
 * with the repair of FORMAT.md I4, page 0's repair).
 */
static void torn_record_then_barrier_crash_is_old_or_new(void **state)
{
    int tore = 0;
    (void)state;
    for (int nth = 1; nth <= 3; nth++) {
        unsigned char first, last;
        bool torn;
        int reason;
        second_crash_run(nth, &reason, &first, &last, &torn);
        assert_true(first == 0xAA || first == 0xBB);
        assert_int_equal(first, last);
        assert_int_not_equal(reason, MP_RECOVERY_BAD_SELECTED);
        tore += torn;
    }
    /* The staged page was torn by at least one crash site. */
    assert_true(tore > 0);
}

/* ---- items 1 and 2: the device matrix ------------------------------- */

#define NOPS 7

struct ids {
    mp_pgno a[3];
    mp_pgno b;
    mp_protected_id prot;
};

static int op(faultfs *fs, size_t ps, int i, mp_pager **p, struct ids *ids)
{
    struct mp_options opt;
    fft_options(fs, &opt);
    switch (i) {
    case 0:
        return mp_pager_create(NAME, ps, &opt, p);
    case 1:
        return mp_pager_alloc_bulk(*p, 3, ids->a);
    case 2:
        return mp_protected_alloc(*p, &ids->prot);
    case 3:
        return fft_protected_write(*p, ids->prot, 0x5A);
    case 4:
        return mp_pager_free(*p, ids->a[1]);
    case 5:
        return fft_protected_write(*p, ids->prot, 0xC3);
    default:
        return mp_pager_grow(*p, mp_pager_page_count(*p) + 1);
    }
}

static uint64_t recover(faultfs *img, size_t ps, bool more)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    uint64_t h;
    int rc;
    fft_options(img, &opt);
    rc = mp_pager_open(NAME, ps, &opt, &p);
    if (rc == MP_ENOENT) {
        return NO_FILE;
    }
    if (rc != MP_OK) {
        fprintf(stderr, "P %zu: open of image [%.200s] failed: %s\n", ps,
                faultfs_image_pattern(img), mp_error_name(rc));
    }
    assert_int_equal(rc, MP_OK);
    h = digest(p);
    if (more) {
        mp_pgno pg;
        assert_int_equal(mp_pager_alloc(p, &pg), MP_OK);
        assert_int_equal(mp_pager_free(p, pg), MP_OK);
    }
    mp_pager_close(p);
    return h;
}

/* Page 0's record sector garbage, the rest as `base` says. */
static char *garbage_page0(const char *base, uint32_t fs_page, uint32_t sector)
{
    size_t sectors = fs_page / sector, n;
    char *pat = malloc(64 + sectors + 1);
    assert_non_null(pat);
    n = (size_t)sprintf(pat, "%s f0.p0=t", base);
    for (size_t s = 0; s < sectors; s++) {
        pat[n++] = s == 512 / sector ? 'g' : '-';
    }
    pat[n] = '\0';
    return pat;
}

struct cell_tally {
    uint64_t images, before, after, page0_garbage;
};

static void cell(size_t ps, uint32_t sector, struct cell_tally *t)
{
    uint32_t fs_page = ps > 4096 ? (uint32_t)ps : 4096;
    uint64_t state[NOPS + 1], end[NOPS];
    faultfs *fs = new_fs(fs_page, sector, true);
    mp_pager *p = NULL;
    struct ids ids;

    state[0] = NO_FILE;
    for (int i = 0; i < NOPS; i++) {
        assert_int_equal(op(fs, ps, i, &p, &ids), MP_OK);
        end[i] = faultfs_point_count(fs);
        state[i + 1] = digest(p);
    }
    mp_pager_close(p);
    faultfs_free(fs);

    /* Every crash point natively. Under memcheck, which checks memory,
     * not coverage, and would otherwise spend two minutes here: every
     * point of the create (op 0: in one-flush mode the only writes of
     * page 0, whose garbage the cell must see) and every 7th after it,
     * a different residue per cell. */
    uint64_t stride = RUNNING_ON_VALGRIND ? 7 : 1;
    for (uint64_t k = 0; k < end[NOPS - 1]; k++) {
        faultfs *img;
        int i = 0;
        bool done;
        char *pat[2];
        if (k >= end[0] && (k + ps / 1024 + sector / 512) % stride != 0) {
            continue;
        }
        fs = new_fs(fs_page, sector, true);
        p = NULL;
        assert_int_equal(faultfs_arm_crash(fs, k), MP_OK);
        while (i < NOPS && op(fs, ps, i, &p, &ids) == MP_OK &&
               !faultfs_crashed(fs)) {
            i++;
        }
        assert_true(faultfs_crashed(fs));
        mp_pager_close(p);
        for (i = 0; end[i] <= k; i++) {
        }
        done = k == end[i] - 1;
        pat[0] = garbage_page0("all=old", fs_page, sector);
        pat[1] = garbage_page0("all=new", fs_page, sector);
        for (int s = 0; s < 5; s++) {
            uint64_t h;
            int rc;
            if (s < 2) {
                rc = faultfs_image_from_pattern(fs, pat[s], &img);
                if (rc == MP_EINVAL) {
                    continue; /* page 0 is not in flight at this point */
                }
                assert_int_equal(rc, MP_OK);
                t->page0_garbage++;
            } else if (s == 2) {
                assert_int_equal(
                    faultfs_image_from_pattern(fs, "all=new", &img), MP_OK);
            } else {
                assert_int_equal(
                    faultfs_image_random(fs, k * 100 + (uint64_t)s, &img),
                    MP_OK);
            }
            h = recover(img, ps, s == 1);
            if (!(h == state[i + 1] || (!done && h == state[i]))) {
                fprintf(stderr,
                        "P %zu sector %u: op %d point %llu image [%.300s]: "
                        "neither before nor after\n",
                        ps, sector, i, (unsigned long long)k,
                        faultfs_image_pattern(img));
                fail();
            }
            t->images++;
            t->before += h == state[i] && h != state[i + 1];
            t->after += h == state[i + 1];
            faultfs_free(img);
        }
        free(pat[0]);
        free(pat[1]);
        faultfs_free(fs);
    }
}

/*
 * Sector sizes {512, 1024, 4096, P} x page sizes {1 KiB, 4 KiB, 64 KiB},
 * garbage on, in both commit modes (fft_open_flags: every create, op and
 * reopen of the cell): a page at least the unit recovers before or after
 * at every crash point, page 0's record unit garbage included; a page
 * below the unit is refused at create with MP_EDEVICE and leaves no file.
 */
static void device_matrix(void)
{
    static const size_t pss[] = { 1024, 4096, 65536 };
    for (size_t a = 0; a < sizeof(pss) / sizeof(pss[0]); a++) {
        const uint32_t sectors[] = { 512, 1024, 4096, (uint32_t)pss[a] };
        for (size_t b = 0; b < 4; b++) {
            struct cell_tally t = { 0 };
            if (b == 3 && sectors[b] <= 4096 && pss[a] <= 4096) {
                continue; /* P is already in the list */
            }
            if (pss[a] < sectors[b]) {
                faultfs *fs = new_fs(4096, sectors[b], true);
                struct mp_options opt;
                mp_pager *p = NULL;
                fft_options(fs, &opt);
                assert_int_equal(mp_pager_create(NAME, pss[a], &opt, &p),
                                 MP_EDEVICE);
                assert_null(p);
                assert_int_equal(faultfs_file_count(fs), 0);
                faultfs_free(fs);
                printf("P %zu sector %u: create refused (MP_EDEVICE)\n", pss[a],
                       sectors[b]);
                continue;
            }
            cell(pss[a], sectors[b], &t);
            printf("%sP %zu sector %u: %llu images (before %llu, after %llu, "
                   "page 0 garbage %llu)\n",
                   fft_open_flags ? "one-flush " : "", pss[a], sectors[b],
                   (unsigned long long)t.images, (unsigned long long)t.before,
                   (unsigned long long)t.after,
                   (unsigned long long)t.page0_garbage);
            assert_true(t.before > 0);
            assert_true(t.after > 0);
            assert_true(t.page0_garbage > 0);
        }
    }
}

static void device_matrix_recovers_before_or_after(void **state)
{
    (void)state;
    fft_open_flags = 0;
    device_matrix();
}

static void device_matrix_one_flush_recovers_before_or_after(void **state)
{
    (void)state;
    fft_open_flags = MP_OPEN_ONE_FLUSH;
    device_matrix();
    fft_open_flags = 0;
}

/* The device each backend states, and the caller's override. */
static void device_is_reported_and_can_be_stated(void **state)
{
    struct mp_io_device dev;
    struct mp_options opt;
    mp_pager *p = NULL;
    faultfs *fs = new_fs(4096, 2048, true);
    (void)state;

    fft_options(fs, &opt);
    /* The refusal can name both sizes: device_out is filled even then. */
    memset(&dev, 0xee, sizeof(dev));
    opt.device_out = &dev;
    assert_int_equal(mp_pager_create(NAME, 1024, &opt, &p), MP_EDEVICE);
    assert_int_equal(dev.sector_size, 2048);
    assert_int_equal(dev.flags, 0);
    opt.device_out = NULL;
    assert_int_equal(mp_pager_create(NAME, 2048, &opt, &p), MP_OK);
    mp_pager_device(p, &dev);
    assert_int_equal(dev.sector_size, 2048);
    assert_int_equal(dev.flags, 0);
    mp_pager_close(p);
    /* The caller states a power-safe device: any page size is allowed. */
    opt.device.sector_size = 2048;
    opt.device.flags = MP_IO_DEV_POWERSAFE;
    assert_int_equal(mp_pager_create("dir/ps", 1024, &opt, &p), MP_OK);
    mp_pager_close(p);
    /* Read-write open of that file on the real device: refused; read-only
     * (writes nothing): allowed, reporting the device. */
    fft_options(fs, &opt);
    memset(&dev, 0xee, sizeof(dev));
    opt.device_out = &dev;
    assert_int_equal(mp_pager_open("dir/ps", 0, &opt, &p), MP_EDEVICE);
    assert_null(p);
    assert_int_equal(dev.sector_size, 2048);
    assert_int_equal(dev.flags, 0);
    opt.device_out = NULL;
    opt.flags = MP_OPEN_READONLY;
    assert_int_equal(mp_pager_open("dir/ps", 0, &opt, &p), MP_OK);
    mp_pager_device(p, &dev);
    assert_int_equal(dev.sector_size, 2048);
    mp_pager_close(p);
    /* A version-1 options struct has no device: the backend's is used. */
    fft_options(fs, &opt);
    opt.version = 1;
    opt.device.sector_size = 512;
    assert_int_equal(mp_pager_create("dir/v1", 1024, &opt, &p), MP_EDEVICE);
    /* Not a power of two: refused before anything is touched. */
    fft_options(fs, &opt);
    opt.device.sector_size = 3000;
    assert_int_equal(mp_pager_open("dir/ps", 0, &opt, &p), MP_EINVAL);
    faultfs_free(fs);

    /* Without garbage faultfs is power-safe. */
    fs = new_fs(4096, 4096, false);
    fft_options(fs, &opt);
    assert_int_equal(mp_pager_create(NAME, 1024, &opt, &p), MP_OK);
    mp_pager_device(p, &dev);
    assert_int_equal(dev.sector_size, 4096);
    assert_int_equal(dev.flags, MP_IO_DEV_POWERSAFE);
    mp_pager_close(p);
    faultfs_free(fs);
}

/* A version-1 backend: faultfs's methods without the device method. */
static struct mp_io_methods v1_methods;
static struct mp_vfs v1_vfs;
static const struct mp_vfs *v1_inner;

static int v1_open(const struct mp_vfs *vfs, const char *path, unsigned flags,
                   struct mp_io_file **out, int *os_error)
{
    int rc = v1_inner->open(v1_inner, path, flags, out, os_error);
    (void)vfs;
    if (rc == MP_OK) {
        v1_methods = *(*out)->methods;
        v1_methods.version = 1;
        v1_methods.device = NULL;
        (*out)->methods = &v1_methods;
    }
    return rc;
}

/* io.h: without the method the pager takes the version-1 device,
 * { 512, not power-safe }, whatever the disk is. */
static void version_1_backend_gets_the_format_1_device(void **state)
{
    faultfs *fs = new_fs(4096, 4096, true);
    struct mp_io_device dev;
    struct mp_options opt;
    mp_pager *p = NULL;
    (void)state;
    v1_inner = faultfs_vfs(fs);
    v1_vfs = *v1_inner;
    v1_vfs.open = v1_open;
    fft_options(fs, &opt);
    opt.vfs = &v1_vfs;
    assert_int_equal(mp_pager_create(NAME, 1024, &opt, &p), MP_OK);
    mp_pager_device(p, &dev);
    assert_int_equal(dev.sector_size, 512);
    assert_int_equal(dev.flags, 0);
    mp_pager_close(p);
    faultfs_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(torn_record_then_barrier_crash_is_old_or_new),
        cmocka_unit_test(device_matrix_recovers_before_or_after),
        cmocka_unit_test(device_matrix_one_flush_recovers_before_or_after),
        cmocka_unit_test(device_is_reported_and_can_be_stated),
        cmocka_unit_test(version_1_backend_gets_the_format_1_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
