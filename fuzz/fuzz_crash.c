/*
 * fuzz_crash.c - reaching a crash site for the crash target, in one pass.
 *
 * The oracle needs S_{i-1} and S_i for a crash inside op i, and S_i is
 * only known once op i has completed. So two executors run the workload
 * in lockstep on two disks with the same seed: A, with the model, runs
 * each op first and so learns S_i and the crash points op i passes; B,
 * without a model, then runs the same op, armed to crash at the chosen
 * point. Ops before the site must return the same codes and pass the
 * same points on both (the determinism rule of the explorer). A crash
 * between ops needs only A: faultfs_crash_now() after op k.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"

int fz_crash_parse(const uint8_t *data, size_t size, struct fz_crash_input *in)
{
    struct fz_reader r;
    uint8_t flags, seed;

    memset(in, 0, sizeof(*in));
    fz_reader_init(&r, data, size);
    flags = fz_u8(&r);
    in->opsel = fz_u8(&r);
    in->ptsel = fz_u8(&r);
    seed = fz_u8(&r);
    fz_disk_from_bits(&in->disk, (flags >> 1) & 7u, seed);
    if (flags & 0x80) {
        /* The power-fail unit is the whole write-back unit (1 or 4 KiB):
         * page 0's record then shares its unit with the header. */
        in->disk.sector = in->disk.fs_page;
    }
    if (flags & 0x40) {
        /* One-flush commits (MP_OPEN_ONE_FLUSH): one barrier each. */
        in->disk.open_flags = MP_OPEN_ONE_FLUSH;
    }
    in->site = (flags >> 4) & 3u;
    if (in->site == 3) {
        in->site = FZ_SITE_OP;
    }
    return fz_decode_ops_and_tear(&r, (flags & 1) != 0, &in->w, &in->tear,
                                  &in->ntear);
}

void fz_crash_input_free(struct fz_crash_input *in)
{
    mph_workload_free(in->w);
    in->w = NULL;
}

/* Image from the crashed disk fs, judged against prev/cur. */
static int judge(const char *target, const struct fz_crash_input *in,
                 faultfs *fs, const struct mph_model *m,
                 const struct mph_state *prev, const struct mph_state *cur,
                 unsigned flags, const char *context)
{
    faultfs *img = NULL;
    int rc;
    fz_image_spare(fs);
    rc = faultfs_image_from_bytes(fs, in->tear, in->ntear, &img);
    if (rc == MP_ENOMEM) {
        return rc;
    }
    if (rc != MP_OK) {
        fz_fail(target, in->w, "%s: no crash image: %s", context,
                mp_error_name(rc));
    }
    rc = fz_judge_image_mode(target, in->w, img, m, prev, cur, flags,
                             in->disk.open_flags, context);
    fz_fs_free(img);
    return rc;
}

/* Step A (with the model); any difference is a failure. */
static int step_a(const char *target, const struct fz_crash_input *in,
                  struct fz_pair *p, int *op_rc)
{
    struct mph_diff d;
    size_t i = mph_exec_next(p->ea);
    int rc = mph_exec_step(p->ea, op_rc, &d);
    if (rc == MP_ENOMEM) {
        return rc;
    }
    if (rc != MP_OK) {
        fz_fail(target, in->w, "op %zu: no pager to run on (%s)", i,
                mp_error_name(rc));
    }
    if (d.rule != MPH_RULE_NONE) {
        fz_fail(target, in->w, "op %zu (0-based): rule %s: %s", i,
                mph_rule_name(d.rule), d.what);
    }
    return MP_OK;
}

static int create_a(const char *target, const struct fz_crash_input *in,
                    struct fz_pair *p)
{
    struct mph_diff d;
    int crc, rc = mph_exec_create(p->ea, &crc, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (crc != MP_OK || d.rule != MPH_RULE_NONE) {
        fz_fail(target, in->w, "create: %s %s", mp_error_name(crc), d.what);
    }
    return MP_OK;
}

static int site_gap(const char *target, const struct fz_crash_input *in)
{
    struct fz_pair p;
    size_t k = in->opsel % (in->w->nops + 1);
    char ctx[64];
    int rc = fz_pair_new(&p, in->w, &in->disk, false, NULL), op_rc;

    if (rc == MP_OK) {
        rc = create_a(target, in, &p);
    }
    while (rc == MP_OK && mph_exec_next(p.ea) < k) {
        rc = step_a(target, in, &p, &op_rc);
    }
    if (rc == MP_OK) {
        rc = faultfs_crash_now(p.fa);
        if (rc != MP_OK) {
            fz_fail(target, in->w, "crash_now: %s", mp_error_name(rc));
        }
        snprintf(ctx, sizeof(ctx), "crash after %zu ops", k);
        rc =
            judge(target, in, p.fa, p.m, NULL, mph_model_state(p.m, k), 0, ctx);
    }
    fz_pair_free(&p);
    return rc;
}

static int site_create(const char *target, const struct fz_crash_input *in)
{
    struct fz_pair p;
    struct mph_diff d;
    uint64_t end, k;
    char ctx[64];
    int crc, rc = fz_pair_new(&p, in->w, &in->disk, true, NULL);

    if (rc == MP_OK) {
        rc = create_a(target, in, &p);
    }
    if (rc != MP_OK) {
        goto out;
    }
    end = faultfs_point_count(p.fa);
    k = end ? in->ptsel % end : 0;
    if (faultfs_arm_crash(p.fb, k) != MP_OK) {
        fz_fail(target, in->w, "cannot arm crash point %" PRIu64, k);
    }
    rc = mph_exec_create(p.eb, &crc, &d);
    if (rc != MP_OK) {
        goto out;
    }
    if (!faultfs_crashed(p.fb)) {
        fz_fail(target, in->w,
                "determinism: create passed %" PRIu64 " points, not %" PRIu64,
                faultfs_point_count(p.fb), end);
    }
    snprintf(ctx, sizeof(ctx), "crash at point %" PRIu64 " of create", k);
    rc = judge(target, in, p.fb, p.m, NULL, mph_model_state(p.m, 0),
               MPH_ORACLE_ALLOW_ABSENT, ctx);
out:
    fz_pair_free(&p);
    return rc;
}

static int site_op(const char *target, const struct fz_crash_input *in)
{
    const struct mph_workload *w = in->w;
    size_t want = w->nops ? in->opsel % w->nops : 0;
    struct fz_pair p;
    struct mph_diff d;
    char ctx[96];
    int rc = fz_pair_new(&p, in->w, &in->disk, true, NULL), rca, rcb;

    if (rc == MP_OK) {
        rc = create_a(target, in, &p);
    }
    if (rc == MP_OK) {
        rc = mph_exec_create(p.eb, &rcb, &d);
        if (rc == MP_OK && rcb != MP_OK) {
            fz_fail(target, w, "determinism: create on B: %s",
                    mp_error_name(rcb));
        }
    }
    while (rc == MP_OK && mph_exec_next(p.ea) < w->nops) {
        size_t i = mph_exec_next(p.ea);
        uint64_t start = faultfs_point_count(p.fa), end, k;
        rc = step_a(target, in, &p, &rca);
        if (rc != MP_OK) {
            break;
        }
        end = faultfs_point_count(p.fa);
        if (i >= want && end > start) {
            k = start + in->ptsel % (end - start);
            if (faultfs_arm_crash(p.fb, k) != MP_OK) {
                fz_fail(target, w, "cannot arm crash point %" PRIu64, k);
            }
            rc = mph_exec_step(p.eb, &rcb, &d);
            if (rc == MP_ENOMEM) {
                break;
            }
            if (!faultfs_crashed(p.fb)) {
                fz_fail(target, w,
                        "determinism: op %zu on B passed %" PRIu64
                        " points without reaching point %" PRIu64,
                        i, faultfs_point_count(p.fb), k);
            }
            snprintf(ctx, sizeof(ctx),
                     "crash at point %" PRIu64 " (op %zu, points %" PRIu64
                     "..%" PRIu64 ")",
                     k, i, start, end - 1);
            rc = judge(target, in, p.fb, p.m, mph_model_state(p.m, i),
                       mph_model_state(p.m, i + 1), 0, ctx);
            fz_pair_free(&p);
            return rc;
        }
        rc = mph_exec_step(p.eb, &rcb, &d);
        if (rc == MP_ENOMEM) {
            break;
        }
        if (rcb != rca || faultfs_point_count(p.fb) != end) {
            fz_fail(target, w,
                    "determinism: op %zu returned %s after %" PRIu64
                    " points on A, %s after %" PRIu64 " on B",
                    i, mp_error_name(rca), end, mp_error_name(rcb),
                    faultfs_point_count(p.fb));
        }
        rc = MP_OK;
    }
    if (rc == MP_OK) {
        /* No op at or after the one chosen passes a crash point: crash
         * after the last op instead. */
        rc = faultfs_crash_now(p.fa);
        if (rc != MP_OK) {
            fz_fail(target, w, "crash_now: %s", mp_error_name(rc));
        }
        rc = judge(target, in, p.fa, p.m, NULL, mph_model_state(p.m, w->nops),
                   0, "crash after the last op");
    }
    fz_pair_free(&p);
    return rc;
}

/*
 * FORMAT.md 2.3: pages below a unit that is not power-safe are refused at
 * create with MP_EDEVICE, and nothing is left behind. There is nothing to
 * crash then; a create that is not refused is the failure.
 */
static int device_refusal(const char *target, const struct fz_crash_input *in)
{
    struct mp_options opt;
    mp_pager *p = NULL;
    faultfs *fs = NULL;
    int rc = fz_fs_new(&in->disk, &fs);
    if (rc != MP_OK) {
        return rc;
    }
    mp_options_init(&opt);
    opt.vfs = faultfs_vfs(fs);
    opt.reserve_bytes = (uint64_t)1 << 24;
    opt.flags = in->disk.open_flags; /* the device rule holds in both modes */
    rc = mp_pager_create(FZ_PATH, FZ_PAGE, &opt, &p);
    if (rc == MP_ENOMEM) {
        fz_fs_free(fs);
        return rc;
    }
    if (rc != MP_EDEVICE || faultfs_file_count(fs) != 0) {
        fz_fail(target, in->w,
                "device rule: %u-byte pages on a %u-byte unit with garbage: "
                "create returned %s%s, not MP_EDEVICE",
                FZ_PAGE, in->disk.sector, mp_error_name(rc),
                faultfs_file_count(fs) ? " and left a file" : "");
    }
    mp_pager_close(p);
    fz_fs_free(fs);
    return MP_OK;
}

int fz_crash_run(const char *target, const struct fz_crash_input *in)
{
    if (in->disk.garbage && FZ_PAGE < in->disk.sector) {
        return device_refusal(target, in);
    }
    if (fz_verbose()) {
        fprintf(stderr,
                "%s: %s mode, site %d, op %u, point %u, %zu tear bytes\n",
                target, in->disk.open_flags ? "one-flush" : "two-barrier",
                in->site, in->opsel, in->ptsel, in->ntear);
        fz_print_workload(in->w, stderr);
    }
    switch (in->site) {
    case FZ_SITE_GAP:
        return site_gap(target, in);
    case FZ_SITE_CREATE:
        return site_create(target, in);
    default:
        return site_op(target, in);
    }
}
