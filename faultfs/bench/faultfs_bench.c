/*
 * faultfs_bench.c - how fast faultfs produces crash images and how fast the
 * core reopens and recovers them, for a realistic mappedpages workload on
 * a 64-page file of 4 KiB pages.
 *
 * Usage: faultfs_bench [seconds per measurement, default 1] [file pages,
 * default 64: a larger file shows that an image costs its dirty pages, not
 * the file]
 *
 * The workload: create, grow to 64 pages, allocate 40 pages and fill them,
 * sync half, commit two protected pages, then crash in the middle of
 * barrier 1 of an alloc_bulk while other pages are still dirty. Measured:
 *   images/s           faultfs_image_random + faultfs_free
 *   images+recover/s   ... + mp_pager_open (recovery) + mp_pager_close
 *   run-to-crash/s     the whole workload again up to the crash point
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faultfs.h"
#include "mappedpages.h"

#define PS 4096

static uint64_t file_pages = 64;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "faultfs_bench: %s: %s\n", what, mp_strerror(rc));
    exit(1);
}

static void options(faultfs *fs, uint64_t reserve, struct mp_options *opt)
{
    mp_options_init(opt);
    opt->vfs = faultfs_vfs(fs);
    opt->reserve_bytes = reserve;
}

/* Run the workload on a fresh faultfs armed to crash; returns it crashed. */
static faultfs *crashed_run(uint64_t reserve, struct faultfs_crash_info *ci)
{
    struct faultfs_config cfg;
    struct mp_options opt;
    mp_pager *p;
    mp_pgno pgs[40], more[4];
    mp_protected_id ids[2];
    faultfs *fs;
    int rc;

    faultfs_config_init(&cfg);
    cfg.seed = 7;
    cfg.garbage = true;
    rc = faultfs_new(&cfg, &fs);
    if (rc != MP_OK) {
        die("faultfs_new", rc);
    }
    options(fs, reserve, &opt);
    if ((rc = mp_pager_create("bench.mp", PS, &opt, &p)) != MP_OK ||
        (rc = mp_pager_grow(p, file_pages)) != MP_OK ||
        (rc = mp_pager_alloc_bulk(p, 40, pgs)) != MP_OK) {
        die("setup", rc);
    }
    for (int i = 0; i < 40; i++) {
        unsigned char *w;
        if ((rc = mp_pager_get_mut(p, pgs[i], (void **)&w)) != MP_OK) {
            die("get_mut", rc);
        }
        memset(w, i + 1, PS);
        if (i < 20 && (rc = mp_pager_sync_pages(p, pgs[i], 1)) != MP_OK) {
            die("sync_pages", rc);
        }
    }
    if ((rc = mp_protected_alloc_bulk(p, 2, ids)) != MP_OK) {
        die("protected_alloc", rc);
    }
    for (int i = 0; i < 2; i++) {
        void *w;
        if ((rc = mp_protected_begin(p, ids[i], &w)) != MP_OK) {
            die("protected_begin", rc);
        }
        memset(w, 0xA0 + i, PS);
        if ((rc = mp_protected_commit(p, ids[i])) != MP_OK) {
            die("protected_commit", rc);
        }
    }
    /* Crash in barrier 1 of the next commit: the metadata copy half
     * written, 20 filled pages never synced. */
    rc = faultfs_arm_crash_at(fs, FAULTFS_CALL_SYNC, 1, FAULTFS_DURING);
    if (rc != MP_OK) {
        die("arm", rc);
    }
    rc = mp_pager_alloc_bulk(p, 4, more);
    mp_pager_close(p);
    if (rc != MP_EIO || !faultfs_crashed(fs) ||
        (rc = faultfs_crash_info(fs, ci)) != MP_OK) {
        die("crash", MP_EINVAL);
    }
    return fs;
}

static void measure(uint64_t reserve, double secs)
{
    struct faultfs_crash_info ci;
    struct faultfs_stats st;
    faultfs *fs = crashed_run(reserve, &ci);
    uint64_t n, seed = 0, recovered = 0, runs = 0, count;
    double t0, t;
    int rc;

    rc = faultfs_image_count(fs, FAULTFS_SPACE_TORN, &count);
    printf("reserve %llu bytes: crash at point %llu (%s %s), "
           "%llu dirty pages, %llu dirty sectors, images %s%llu\n",
           (unsigned long long)reserve, (unsigned long long)ci.point,
           faultfs_when_name(ci.when), faultfs_call_name(ci.call),
           (unsigned long long)ci.dirty_pages,
           (unsigned long long)ci.dirty_sectors, rc == MP_OK ? "" : ">",
           (unsigned long long)count);

    /* Images alone. */
    t0 = now();
    for (n = 0;; n++) {
        faultfs *img;
        if ((n & 63) == 0 && now() - t0 > secs) {
            break;
        }
        if ((rc = faultfs_image_random(fs, seed++, &img)) != MP_OK) {
            die("image_random", rc);
        }
        faultfs_free(img);
    }
    t = now() - t0;
    printf("  crash images produced:   %10.0f /s\n", (double)n / t);

    /* Images, each reopened (recovery) and closed. */
    t0 = now();
    for (n = 0;; n++) {
        struct mp_options opt;
        faultfs *img;
        mp_pager *p;
        if ((n & 15) == 0 && now() - t0 > secs) {
            break;
        }
        if ((rc = faultfs_image_random(fs, seed++, &img)) != MP_OK) {
            die("image_random", rc);
        }
        options(img, reserve, &opt);
        rc = mp_pager_open("bench.mp", PS, &opt, &p);
        if (rc == MP_OK) {
            recovered++;
            mp_pager_close(p);
        }
        faultfs_free(img);
    }
    t = now() - t0;
    printf("  image + reopen/recover:  %10.0f /s (%llu of %llu opened)\n",
           (double)n / t, (unsigned long long)recovered, (unsigned long long)n);
    faultfs_stats(fs, &st);
    faultfs_free(fs);

    /* Re-running the workload up to the crash point. */
    t0 = now();
    for (;;) {
        faultfs *again;
        if ((runs & 7) == 0 && now() - t0 > secs) {
            break;
        }
        again = crashed_run(reserve, &ci);
        faultfs_free(again);
        runs++;
    }
    t = now() - t0;
    printf("  workload run to crash:   %10.0f /s\n", (double)runs / t);
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    if (secs <= 0) {
        secs = 1.0;
    }
    if (argc > 2 && strtoull(argv[2], NULL, 0) >= 64) {
        file_pages = strtoull(argv[2], NULL, 0);
    }
    printf("faultfs_bench: %llu-page file of %d-byte pages\n",
           (unsigned long long)file_pages, PS);
    measure(file_pages * PS * 2, secs);
    measure(0, secs); /* the pager's default: 1 TiB */
    return 0;
}
