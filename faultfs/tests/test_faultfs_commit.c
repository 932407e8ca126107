/*
 * test_faultfs_commit.c - crash a real mappedpages workload at every crash
 * point, reopen every crash image (all of them when few, else a seeded
 * sample) and check with the core's public API that recovery shows the
 * state before or after the interrupted operation, and exactly the state
 * after it once it returned.
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

#define PS      4096
#define NOPS    8
#define BUDGET  48 /* enumerate every image up to this many */
#define SAMPLES 12 /* else: image 0, all-new, and this many random */
#define NO_FILE 0  /* the digest of "the file does not exist" */

static uint64_t digest(mp_pager *p)
{
    return fft_digest(p, 128);
}

/* What the workload allocated, for the operations that free. */
struct ids {
    mp_pgno a[3];
    mp_pgno b[8];
    mp_protected_id prot;
};

/* Operation i of the workload on *p (op 0 creates it). */
static int op(faultfs *fs, int i, mp_pager **p, struct ids *ids)
{
    struct mp_options opt;
    mp_pgno two[2];
    fft_options(fs, &opt);
    switch (i) {
    case 0:
        return mp_pager_create("dir/db", PS, &opt, p);
    case 1:
        return mp_pager_alloc_bulk(*p, 3, ids->a);
    case 2:
        return mp_protected_alloc(*p, &ids->prot);
    case 3:
        return fft_protected_write(*p, ids->prot, 0xAB);
    case 4:
        return mp_pager_alloc_bulk(*p, 8, ids->b); /* grows the file */
    case 5:
        return mp_pager_free(*p, ids->a[1]);
    case 6:
        return fft_protected_write(*p, ids->prot, 0xCD);
    default:
        two[0] = ids->a[0];
        two[1] = ids->b[7];
        return mp_pager_free_bulk(*p, two, 2);
    }
}

struct clean {
    uint64_t state[NOPS + 1]; /* state[0]: no file; state[i + 1]: after i */
    uint64_t end[NOPS];       /* points passed when op i returned */
};

static void clean_run(struct clean *c)
{
    faultfs *fs = fft_new(42, 512, 1);
    mp_pager *p = NULL;
    struct ids ids;
    c->state[0] = NO_FILE;
    for (int i = 0; i < NOPS; i++) {
        assert_int_equal(op(fs, i, &p, &ids), MP_OK);
        c->end[i] = faultfs_point_count(fs);
        c->state[i + 1] = digest(p);
    }
    mp_pager_close(p);
    faultfs_free(fs);
}

/* Recover one image; return its digest (NO_FILE if no file). */
static uint64_t recover(faultfs *img, bool life_goes_on)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    uint64_t h;
    int rc;
    fft_options(img, &opt);
    rc = mp_pager_open("dir/db", PS, &opt, &p);
    if (rc == MP_ENOENT) {
        return NO_FILE;
    }
    if (rc != MP_OK) {
        fprintf(stderr, "open of image [%s] failed: %s\n",
                faultfs_image_pattern(img), mp_error_name(rc));
    }
    assert_int_equal(rc, MP_OK);
    h = digest(p);
    if (life_goes_on) {
        mp_pgno pgs[12], one;
        mp_protected_id id;
        assert_int_equal(mp_pager_alloc_bulk(p, 12, pgs), MP_OK);
        assert_int_equal(mp_pager_free_bulk(p, pgs, 12), MP_OK);
        assert_int_equal(mp_protected_alloc(p, &id), MP_OK);
        assert_int_equal(fft_protected_write(p, id, 0x11), MP_OK);
        assert_int_equal(mp_pager_alloc(p, &one), MP_OK);
    }
    mp_pager_close(p);
    return h;
}

struct tally {
    uint64_t images;
    uint64_t before;
    uint64_t after;
    uint64_t fallback;
};

static void check_image(faultfs *img, const struct clean *c, int i, bool done,
                        uint64_t point, struct tally *t)
{
    uint64_t h = recover(img, t->images % 5 == 0);
    bool is_before = h == c->state[i], is_after = h == c->state[i + 1];
    if (!(is_after || (!done && is_before))) {
        fprintf(stderr, "op %d, point %llu, image [%s]: state is neither %s\n",
                i, (unsigned long long)point, faultfs_image_pattern(img),
                done ? "the one after (op returned)" : "before nor after");
    }
    assert_true(is_after || (!done && is_before));
    t->images++;
    t->before += is_before && !is_after;
    t->after += is_after;
}

static void every_crash_point_recovers_before_or_after(void **state)
{
    struct clean c;
    struct tally t = { 0 };
    uint64_t total;
    (void)state;
    clean_run(&c);
    total = c.end[NOPS - 1];
    for (uint64_t k = 0; k < total; k++) {
        faultfs *fs = fft_new(42, 512, 1), *img;
        struct faultfs_crash_info info;
        mp_pager *p = NULL;
        struct ids ids;
        uint64_t n;
        int i = 0, rc;
        bool done;
        assert_int_equal(faultfs_arm_crash(fs, k), MP_OK);
        while (i < NOPS && op(fs, i, &p, &ids) == MP_OK &&
               !faultfs_crashed(fs)) {
            i++;
        }
        assert_true(faultfs_crashed(fs));
        assert_int_equal(faultfs_crash_info(fs, &info), MP_OK);
        assert_int_equal(info.point, k);
        /* The op the point belongs to, and whether it had returned. */
        for (i = 0; c.end[i] <= k; i++) {
        }
        done = k == c.end[i] - 1;
        mp_pager_close(p);
        rc = faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n);
        if (rc == MP_OK && n <= BUDGET) {
            for (uint64_t x = 0; x < n; x++) {
                assert_int_equal(faultfs_image_by_index(fs, 0, x, &img), MP_OK);
                check_image(img, &c, i, done, k, &t);
                faultfs_free(img);
            }
        } else {
            assert_int_equal(faultfs_image_by_index(fs, 0, 0, &img), MP_OK);
            check_image(img, &c, i, done, k, &t);
            faultfs_free(img);
            assert_int_equal(faultfs_image_from_pattern(fs, "all=new", &img),
                             MP_OK);
            check_image(img, &c, i, done, k, &t);
            faultfs_free(img);
            for (uint64_t s = 0; s < SAMPLES; s++) {
                assert_int_equal(faultfs_image_random(fs, k * 1000 + s, &img),
                                 MP_OK);
                check_image(img, &c, i, done, k, &t);
                faultfs_free(img);
            }
        }
        faultfs_free(fs);
    }
    printf("crash points %llu, images %llu (before %llu, after %llu)\n",
           (unsigned long long)total, (unsigned long long)t.images,
           (unsigned long long)t.before, (unsigned long long)t.after);
    /* A sweep that never saw both outcomes proves little. */
    assert_true(t.before > 0);
    assert_true(t.after > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_crash_point_recovers_before_or_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
