/*
 * consumer_crash.c - a program outside the tree that uses an installed
 * faultfs to crash-test mappedpages calls: crash at every crash point of
 * "create a file, allocate 8 pages", draw crash images at each, open each
 * with the pager (recovery) and count them. Built like consumer.c.
 *
 * Usage: consumer_crash     Exit status 0 when every image opened.
 */
#include <inttypes.h>
#include <stdio.h>

#include <faultfs.h>
#include <mappedpages.h>

#define IMAGES_PER_POINT 4

/* The workload: create, allocate 8 pages. Fails with MP_EIO once the
 * armed crash fired. */
static int workload(const struct mp_options *opt)
{
    mp_pager *p;
    mp_pgno pg;
    int rc = mp_pager_create("crash.mp", 1024, opt, &p);
    if (rc != MP_OK) {
        return rc;
    }
    for (int i = 0; i < 8 && rc == MP_OK; i++) {
        rc = mp_pager_alloc(p, &pg);
    }
    mp_pager_close(p);
    return rc;
}

int main(void)
{
    struct faultfs_config cfg;
    struct mp_options opt;
    uint64_t points, images = 0, absent = 0;
    faultfs *fs;
    int rc;

    faultfs_config_init(&cfg);
    cfg.seed = 1;
    mp_options_init(&opt);

    /* A clean run counts the crash points. */
    if ((rc = faultfs_new(&cfg, &fs)) != MP_OK) {
        goto fail;
    }
    opt.vfs = faultfs_vfs(fs);
    if ((rc = workload(&opt)) != MP_OK) {
        faultfs_free(fs);
        goto fail;
    }
    points = faultfs_point_count(fs);
    faultfs_free(fs);

    for (uint64_t k = 0; k < points; k++) {
        if ((rc = faultfs_new(&cfg, &fs)) != MP_OK) {
            goto fail;
        }
        opt.vfs = faultfs_vfs(fs);
        if ((rc = faultfs_arm_crash(fs, k)) != MP_OK) {
            faultfs_free(fs);
            goto fail;
        }
        (void)workload(&opt); /* MP_EIO from the crash on */
        if (!faultfs_crashed(fs)) {
            fprintf(stderr, "consumer_crash: point %" PRIu64 " not reached\n",
                    k);
            faultfs_free(fs);
            return 1;
        }
        for (uint64_t s = 0; s < IMAGES_PER_POINT; s++) {
            struct mp_options iopt;
            faultfs *img;
            mp_pager *p;
            if ((rc = faultfs_image_random(fs, s, &img)) != MP_OK) {
                faultfs_free(fs);
                goto fail;
            }
            mp_options_init(&iopt);
            iopt.vfs = faultfs_vfs(img);
            rc = mp_pager_open("crash.mp", 1024, &iopt, &p);
            if (rc == MP_OK) {
                mp_pager_close(p);
                images++;
            } else if (rc == MP_ENOENT) {
                absent++; /* crashed before create made the name durable */
            } else {
                fprintf(stderr,
                        "consumer_crash: point %" PRIu64 " image %" PRIu64
                        " (%s): open: %s\n",
                        k, s, faultfs_image_pattern(img), mp_strerror(rc));
                faultfs_free(img);
                faultfs_free(fs);
                return 1;
            }
            faultfs_free(img);
        }
        faultfs_free(fs);
    }
    printf("faultfs: %" PRIu64 " crash points, %" PRIu64
           " images opened, %" PRIu64 " before the file existed\n",
           points, images, absent);
    return 0;

fail:
    fprintf(stderr, "consumer_crash: %s\n", mp_strerror(rc));
    return 1;
}
