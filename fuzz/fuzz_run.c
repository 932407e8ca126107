/*
 * fuzz_run.c - disks, executors and the oracle as the targets use them.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "mph/check.h"

void fz_disk_from_bits(struct fz_disk *d, unsigned bits, uint8_t seed)
{
    memset(d, 0, sizeof(*d));
    d->seed = seed;
    d->garbage = (bits & 1) != 0;
    d->sector = (bits & 2) ? 64 : 512;
    d->fs_page = (bits & 4) ? 1024 : 4096;
}

/*
 * Disks are reused from run to run (faultfs_reuse): a fresh disk's file
 * memory costs a page fault per page on first store, a fifth of a short
 * run. The pool is the fuzz process's own; targets run one input at a
 * time (libFuzzer, AFL++ persistent mode, the replayer).
 */
#define FZ_POOL 6
static faultfs *fz_pool[FZ_POOL];
static size_t fz_pooled;

__attribute__((destructor)) static void fz_pool_drain(void)
{
    while (fz_pooled > 0) {
        faultfs_free(fz_pool[--fz_pooled]);
    }
}

int fz_fs_new(const struct fz_disk *d, faultfs **out)
{
    struct faultfs_config fc;
    faultfs_config_init(&fc);
    fc.seed = d->seed;
    fc.page_size = d->fs_page;
    fc.sector_size = d->sector;
    fc.garbage = d->garbage;
    /* The trace is for people; a short one keeps each run cheap. */
    fc.trace_max = 16;
    while (fz_pooled > 0) {
        faultfs *fs = fz_pool[--fz_pooled];
        if (faultfs_reuse(fs, &fc) == MP_OK) {
            *out = fs;
            return MP_OK;
        }
        faultfs_free(fs);
    }
    return faultfs_new(&fc, out);
}

void fz_image_spare(faultfs *fs)
{
    if (fz_pooled > 0) {
        faultfs_image_spare(fs, fz_pool[--fz_pooled]);
    }
}

void fz_fs_free(faultfs *fs)
{
    if (fs && fz_pooled < FZ_POOL) {
        fz_pool[fz_pooled++] = fs;
    } else {
        faultfs_free(fs);
    }
}

void fz_pair_free(struct fz_pair *p)
{
    mph_exec_free(p->ea);
    mph_exec_free(p->eb);
    mph_model_free(p->m);
    fz_fs_free(p->fa);
    fz_fs_free(p->fb);
    memset(p, 0, sizeof(*p));
}

int fz_pair_new(struct fz_pair *p, const struct mph_workload *w,
                const struct fz_disk *d, bool want_b,
                const struct mp_allocator_hooks *b_mem)
{
    struct mph_exec_config ec;
    int rc;

    memset(p, 0, sizeof(*p));
    rc = fz_fs_new(d, &p->fa);
    if (rc == MP_OK && want_b) {
        rc = fz_fs_new(d, &p->fb);
    }
    if (rc == MP_OK) {
        rc = mph_model_new(FZ_PAGE, FZ_RESERVE, &p->m);
    }
    if (rc == MP_OK) {
        fz_exec_config(&ec, p->fa);
        ec.open_flags = d->open_flags;
        rc = mph_exec_new(w, &ec, p->m, &p->ea);
    }
    if (rc == MP_OK && want_b) {
        fz_exec_config(&ec, p->fb);
        ec.open_flags = d->open_flags;
        ec.mem = b_mem;
        rc = mph_exec_new(w, &ec, NULL, &p->eb);
    }
    if (rc != MP_OK) {
        fz_pair_free(p);
    }
    return rc;
}

void fz_exec_config(struct mph_exec_config *ec, faultfs *fs)
{
    memset(ec, 0, sizeof(*ec));
    ec->vfs = faultfs_vfs(fs);
    ec->path = FZ_PATH;
    ec->page_size = FZ_PAGE;
    ec->reserve_bytes = FZ_RESERVE;
}

void fz_oracle_config(struct mph_oracle_config *oc)
{
    memset(oc, 0, sizeof(*oc));
    oc->path = FZ_PATH;
    oc->page_size = FZ_PAGE;
    oc->reserve_bytes = FZ_RESERVE;
}

/* Every code the library returns must be one it documents. */
static void known_code(const char *target, const struct mph_workload *w,
                       size_t op, int rc)
{
    const char *msg = mp_strerror(rc);
    if (strcmp(mp_error_name(rc), "MP_E?") == 0) {
        fz_fail(target, w, "op %zu returned %d, which is no MP_E* code", op,
                rc);
    }
    if (!msg || !*msg) {
        fz_fail(target, w, "op %zu returned %s, which has no message", op,
                mp_error_name(rc));
    }
}

/*
 * The model-checked run of w on the file `path` of backend vfs: create,
 * every op compared with the model, a clean close, then the checker must
 * find the file clean and agree with the core's own open. *mp (if not
 * NULL) receives the model.
 */
static int run_on(const char *target, const struct mph_workload *w,
                  const struct mp_vfs *vfs, const char *path,
                  struct mph_model **mp)
{
    struct mph_exec_config ec;
    struct mph_check_report rep;
    struct mph_model *m = NULL;
    struct mph_exec *e = NULL;
    struct mph_diff d;
    int rc, op_rc;

    rc = mph_model_new(FZ_PAGE, FZ_RESERVE, &m);
    if (rc == MP_OK) {
        memset(&ec, 0, sizeof(ec));
        ec.vfs = vfs;
        ec.path = path;
        ec.page_size = FZ_PAGE;
        ec.reserve_bytes = FZ_RESERVE;
        rc = mph_exec_new(w, &ec, m, &e);
    }
    if (rc == MP_OK) {
        rc = mph_exec_create(e, &op_rc, &d);
    }
    if (rc != MP_OK) {
        goto out;
    }
    if (op_rc != MP_OK || d.rule != MPH_RULE_NONE) {
        fz_fail(target, w, "create on a fresh disk: %s %s",
                mp_error_name(op_rc), d.what);
    }
    while (mph_exec_next(e) < w->nops) {
        size_t i = mph_exec_next(e);
        rc = mph_exec_step(e, &op_rc, &d);
        if (rc == MP_ENOMEM) {
            goto out;
        }
        if (rc != MP_OK) {
            fz_fail(target, w, "op %zu: no pager to run on (%s)", i,
                    mp_error_name(rc));
        }
        known_code(target, w, i, op_rc);
        if (d.rule != MPH_RULE_NONE) {
            fz_fail(target, w, "op %zu (0-based): rule %s: %s", i,
                    mph_rule_name(d.rule), d.what);
        }
    }
    mph_exec_free(e);
    e = NULL;
    rc = mph_check_file(vfs, path, FZ_PAGE, &rep);
    if (rc == MP_ENOMEM) {
        goto out;
    }
    if (rc != MP_OK || rep.verdict != MPH_CHECK_CLEAN ||
        rep.cross_check != MPH_CROSS_AGREES) {
        fz_fail(target, w,
                "after the workload and a clean close the checker says %s "
                "(rc %s, cross-check %d): %s",
                rc == MP_OK ? mph_check_verdict_name(rep.verdict) : "-",
                mp_error_name(rc), rep.cross_check, rep.problem);
    }
    if (mp) {
        *mp = m;
        m = NULL;
    }
out:
    mph_exec_free(e);
    mph_model_free(m);
    return rc;
}

int fz_run_checked(const char *target, const struct mph_workload *w,
                   struct mph_model **mp, faultfs **fsp)
{
    struct fz_disk disk;
    faultfs *fs = NULL;
    int rc;

    fz_disk_from_bits(&disk, 0, 0);
    rc = fz_fs_new(&disk, &fs);
    if (rc == MP_OK) {
        rc = run_on(target, w, faultfs_vfs(fs), FZ_PATH, mp);
    }
    if (rc == MP_OK && fsp) {
        *fsp = fs;
        fs = NULL;
    }
    fz_fs_free(fs);
    return rc;
}

/* Remove dir and whatever the pager left in it (the file, a create's
 * temporary name). */
static void remove_dir(const char *dir)
{
    char p[4096 + 256];
    struct dirent *e;
    DIR *d = opendir(dir);
    if (d) {
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
                (void)unlink(p);
            }
        }
        closedir(d);
    }
    (void)rmdir(dir);
}

int fz_run_posix(const char *target, const struct mph_workload *w)
{
    /* A directory per run, gone when the run ends: engines kill their
     * processes between runs, so nothing is left behind then. */
    char dir[4096], path[4096 + 16];
    const char *t = getenv("TMPDIR");
    struct stat st;
    int rc;

    if (!t || !*t) {
        t = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm"
                                                              : "/tmp";
    }
    snprintf(dir, sizeof(dir), "%s/mp-fuzz-XXXXXX", t);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "%s: cannot make a directory under %s\n", target, t);
        abort();
    }
    snprintf(path, sizeof(path), "%s/f.mp", dir);
    rc = run_on(target, w, mp_vfs_posix(), path, NULL);
    remove_dir(dir);
    return rc;
}

int fz_judge_image(const char *target, const struct mph_workload *w,
                   faultfs *image, const struct mph_model *m,
                   const struct mph_state *prev, const struct mph_state *cur,
                   unsigned flags, const char *context)
{
    return fz_judge_image_mode(target, w, image, m, prev, cur, flags, 0,
                               context);
}

int fz_judge_image_mode(const char *target, const struct mph_workload *w,
                        faultfs *image, const struct mph_model *m,
                        const struct mph_state *prev,
                        const struct mph_state *cur, unsigned flags,
                        unsigned open_flags, const char *context)
{
    struct mph_oracle_config oc;
    struct mph_verdict v;
    int rc;

    fz_oracle_config(&oc);
    oc.open_flags = open_flags;
    rc = mph_oracle_check(&oc, faultfs_vfs(image), m, prev, cur,
                          flags | MPH_ORACLE_CHECKER | MPH_ORACLE_LIFE, &v);
    if (rc != MP_OK) {
        return rc;
    }
    if (fz_verbose()) {
        fprintf(stderr,
                "%s: %s: open %s, match %d, fallback %d (reason %d), "
                "checker %d\n",
                target, context, mp_error_name(v.open_rc), v.match,
                (int)v.fallback, v.reason, v.check_verdict);
    }
    if (v.diff.rule != MPH_RULE_NONE) {
        const char *pat = faultfs_image_pattern(image);
        fz_fail(target, w, "%s, tear pattern \"%s\": rule %s: %s", context,
                pat ? pat : "?", mph_rule_name(v.diff.rule), v.diff.what);
    }
    return MP_OK;
}
