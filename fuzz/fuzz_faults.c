/*
 * fuzz_faults.c - the faults target's run: I/O errors injected into one
 * disk (B) while a clean disk (A) runs the same workload with the model.
 *
 * The contract (mappedpages/pager.h, FORMAT.md section 8) for a call that
 * an I/O error fails:
 *  - it returns a clean code (MP_EIO, MP_ENOSPC, MP_ENOMEM, MP_ELIMIT,
 *    MP_ELOCKED), never success and never a crash;
 *  - either the pager stays usable with nothing changed (growth refused
 *    before anything was written) - its state is S_{i-1}, and a commit
 *    made now must record exactly that - or it refuses every later write
 *    with MP_EUNAVAILABLE while reads keep working;
 *  - after close (and, if the input asks, a crash with any tear pattern)
 *    the file recovers S_{i-1} or S_i, passes the checker, and a short
 *    workload succeeds on it (oracle rules 1-6).
 * A fault the core absorbs (the call still returns what A's did) must
 * leave B equal to A.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"

static const int fault_calls[] = {
    FAULTFS_CALL_SYNC,   FAULTFS_CALL_SYNC,   FAULTFS_CALL_SYNC_FILE,
    FAULTFS_CALL_GROW,   FAULTFS_CALL_MAP,    FAULTFS_CALL_EXTEND_MAP,
    FAULTFS_CALL_OPEN,   FAULTFS_CALL_RENAME, FAULTFS_CALL_SYNC_DIR,
    FAULTFS_CALL_REMOVE, FAULTFS_CALL_LOCK,   FAULTFS_CALL_ANY,
};
#define NCALLS (sizeof(fault_calls) / sizeof(fault_calls[0]))

static const int fault_codes[] = { 0, MP_EIO, MP_ENOSPC, MP_ENOMEM };

static void parse_fault(struct fz_reader *r, struct faultfs_fault *f)
{
    uint8_t call = fz_u8(r), nth = fz_u8(r), mode = fz_u8(r);
    memset(f, 0, sizeof(*f));
    f->call = fault_calls[call % NCALLS];
    f->nth = 1 + nth % 48u;
    f->persist = (mode & 3) % 3;
    f->sticky = (mode & 4) != 0;
    f->code = fault_codes[(mode >> 3) & 3];
}

int fz_faults_parse(const uint8_t *data, size_t size,
                    struct fz_faults_input *in)
{
    struct fz_codec codec;
    struct fz_reader r;
    uint8_t flags;
    int rc;

    memset(in, 0, sizeof(*in));
    fz_reader_init(&r, data, size);
    flags = fz_u8(&r);
    parse_fault(&r, &in->fault[0]);
    parse_fault(&r, &in->fault[1]);
    in->nfaults = (flags & 4) ? 2 : 1;
    in->crash = (flags & 2) != 0;
    fz_disk_from_bits(&in->disk, (flags >> 3) & 7u, fz_u8(&r));
    fz_codec_ops(&codec, (flags & 1) != 0);
    codec.max_ops = 48;
    rc = fz_decode(&codec, &r, &in->w);
    if (rc == MP_OK) {
        in->tear = fz_rest(&r, &in->ntear);
    }
    return rc;
}

void fz_faults_input_free(struct fz_faults_input *in)
{
    mph_workload_free(in->w);
    in->w = NULL;
}

static bool clean_code(int rc)
{
    return rc == MP_EIO || rc == MP_ENOSPC || rc == MP_ENOMEM ||
           rc == MP_ELIMIT || rc == MP_ELOCKED;
}

static uint64_t injected(const faultfs *fs)
{
    struct faultfs_stats st;
    faultfs_stats(fs, &st);
    return st.faults_injected;
}

struct run {
    const char *target;
    const struct fz_faults_input *in;
    faultfs *fa, *fb;
    struct mph_model *m;
    struct mph_exec *ea, *eb;
};

static void run_free(struct run *r)
{
    mph_exec_free(r->ea);
    mph_exec_free(r->eb);
    mph_model_free(r->m);
    faultfs_free(r->fa);
    faultfs_free(r->fb);
}

static void want_unavailable(struct run *r, long op, const char *what, int rc)
{
    if (rc != MP_EUNAVAILABLE) {
        fz_fail(r->target, r->in->w,
                "op %ld failed and left the pager unavailable, but %s then "
                "returned %s, not MP_EUNAVAILABLE",
                op, what, mp_error_name(rc));
    }
}

/* A pager that an I/O error left unavailable refuses every change (with
 * valid arguments), and reads keep working. */
static void check_unavailable(struct run *r, mp_pager *p, long op)
{
    mp_pgno pg = 0, two[2];
    mp_protected_id pid = 0, np;
    const void *bytes;
    mp_iter it;
    uint64_t id;
    int rc;

    rc = mp_iter_pages(&it, p);
    if (rc != MP_OK) {
        fz_fail(r->target, r->in->w,
                "op %ld: unavailable pager: reading (iterator) returned %s", op,
                mp_error_name(rc));
    }
    while (mp_iter_next(&it, &id)) {
        if (mp_pager_get(p, id, &bytes) != MP_OK) {
            fz_fail(r->target, r->in->w,
                    "op %ld: unavailable pager: get of iterated page %llu "
                    "failed",
                    op, (unsigned long long)id);
        }
        pg = pg ? pg : id;
    }
    if (mp_iter_protected(&it, p) == MP_OK && mp_iter_next(&it, &pid)) {
        mp_iter_finish(&it);
    }
    want_unavailable(r, op, "alloc", mp_pager_alloc(p, &two[0]));
    want_unavailable(r, op, "alloc_bulk", mp_pager_alloc_bulk(p, 2, two));
    want_unavailable(r, op, "grow",
                     mp_pager_grow(p, mp_pager_page_count(p) + 1));
    want_unavailable(r, op, "sync_pages", mp_pager_sync_pages(p, 0, 0));
    want_unavailable(r, op, "protected alloc", mp_protected_alloc(p, &np));
    if (pg) {
        want_unavailable(r, op, "free", mp_pager_free(p, pg));
        want_unavailable(r, op, "free_bulk", mp_pager_free_bulk(p, &pg, 1));
    }
    if (pid) {
        void *staging;
        want_unavailable(r, op, "protected free", mp_protected_free(p, pid));
        want_unavailable(r, op, "protected free_bulk",
                         mp_protected_free_bulk(p, &pid, 1));
        rc = mp_protected_begin(p, pid, &staging);
        if (rc != MP_ESTAGED) {
            want_unavailable(r, op, "protected begin", rc);
        }
    }
}

/* A pager still usable after a failed call: state S_{i-1}, and a commit
 * now must work and record just that. */
static int check_usable(struct run *r, mp_pager *p, long op,
                        const struct mph_state *before)
{
    struct mph_diff d;
    mp_pgno pg;
    int rc = mph_state_compare(r->m, before, p, MPH_CMP_VOLATILE, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (d.rule != MPH_RULE_NONE) {
        fz_fail(r->target, r->in->w,
                "op %ld failed, the pager stayed usable, but its state is "
                "not the one before the call: %s",
                op, d.what);
    }
    if (mp_pager_free_count(p) == 0) {
        return MP_OK; /* an alloc would grow and change the page count */
    }
    rc = mp_pager_alloc(p, &pg);
    if (rc == MP_OK) {
        rc = mp_pager_free(p, pg);
    }
    if (rc != MP_OK) {
        fz_fail(r->target, r->in->w,
                "op %ld failed, the pager stayed usable, but a later "
                "alloc/free returned %s",
                op, mp_error_name(rc));
    }
    return MP_OK;
}

/* Judge the file after a call (op; -1 create) failed with code rc. */
static int after_failure(struct run *r, long op, int code)
{
    const struct mph_state *prev, *cur;
    mp_pager *p = mph_exec_pager(r->eb);
    char ctx[128];
    unsigned flags = 0;
    int rc = MP_OK, fcode = 0;

    if (!clean_code(code)) {
        fz_fail(r->target, r->in->w,
                "op %ld: an injected I/O fault made the call return %s", op,
                mp_error_name(code));
    }
    faultfs_clear_faults(r->fb);
    if (op < 0) {
        prev = NULL;
        cur = mph_model_state(r->m, 0);
        flags = MPH_ORACLE_ALLOW_ABSENT;
    } else {
        prev = mph_model_state(r->m, (size_t)op);
        cur = mph_model_state(r->m, (size_t)op + 1);
    }
    if (p) {
        mp_pager_last_failure(p, &fcode, NULL);
        if (fcode != 0) {
            check_unavailable(r, p, op);
        } else if (op >= 0) {
            rc = check_usable(r, p, op, prev);
        }
    }
    mph_exec_free(r->eb);
    r->eb = NULL;
    if (rc != MP_OK) {
        return rc;
    }
    snprintf(ctx, sizeof(ctx), "op %ld failed with %s (pager %s), then %s", op,
             mp_error_name(code),
             !p      ? "gone"
             : fcode ? "unavailable"
                     : "usable",
             r->in->crash ? "a crash" : "close and reopen");
    if (!r->in->crash) {
        return fz_judge_image(r->target, r->in->w, r->fb, r->m, prev, cur,
                              flags, ctx);
    }
    if (faultfs_crash_now(r->fb) != MP_OK) {
        fz_fail(r->target, r->in->w, "crash_now failed");
    }
    {
        faultfs *img = NULL;
        rc = faultfs_image_from_bytes(r->fb, r->in->tear, r->in->ntear, &img);
        if (rc == MP_OK) {
            rc = fz_judge_image(r->target, r->in->w, img, r->m, prev, cur,
                                flags, ctx);
        }
        faultfs_free(img);
    }
    return rc;
}

static int setup(struct run *r)
{
    struct mph_exec_config ec;
    int rc = fz_fs_new(&r->in->disk, &r->fa);
    if (rc == MP_OK) {
        rc = fz_fs_new(&r->in->disk, &r->fb);
    }
    for (size_t i = 0; rc == MP_OK && i < r->in->nfaults; i++) {
        rc = faultfs_inject(r->fb, &r->in->fault[i]);
        if (rc != MP_OK) {
            fz_fail(r->target, r->in->w, "faultfs_inject refused fault %zu", i);
        }
    }
    if (rc == MP_OK) {
        rc = mph_model_new(FZ_PAGE, FZ_RESERVE, &r->m);
    }
    if (rc == MP_OK) {
        fz_exec_config(&ec, r->fa);
        rc = mph_exec_new(r->in->w, &ec, r->m, &r->ea);
    }
    if (rc == MP_OK) {
        fz_exec_config(&ec, r->fb);
        rc = mph_exec_new(r->in->w, &ec, NULL, &r->eb);
    }
    return rc;
}

int fz_faults_run(const char *target, const struct fz_faults_input *in)
{
    const struct mph_workload *w = in->w;
    struct run r;
    struct mph_diff d;
    uint64_t before;
    int rc, rca, rcb;

    memset(&r, 0, sizeof(r));
    r.target = target;
    r.in = in;
    if (fz_verbose()) {
        for (size_t i = 0; i < in->nfaults; i++) {
            fprintf(stderr,
                    "%s: fault %zu: %s #%" PRIu64 " code %d persist %d%s\n",
                    target, i, faultfs_call_name(in->fault[i].call),
                    in->fault[i].nth, in->fault[i].code, in->fault[i].persist,
                    in->fault[i].sticky ? " sticky" : "");
        }
        fz_print_workload(w, stderr);
    }
    rc = setup(&r);
    if (rc != MP_OK) {
        goto out;
    }
    rc = mph_exec_create(r.ea, &rca, &d);
    if (rc != MP_OK) {
        goto out;
    }
    if (rca != MP_OK || d.rule != MPH_RULE_NONE) {
        fz_fail(target, w, "create on the clean disk: %s %s",
                mp_error_name(rca), d.what);
    }
    rc = mph_exec_create(r.eb, &rcb, &d);
    if (rc != MP_OK) {
        goto out;
    }
    if (rcb != MP_OK) {
        if (injected(r.fb) == 0) {
            fz_fail(target, w, "create failed with no fault: %s",
                    mp_error_name(rcb));
        }
        rc = after_failure(&r, -1, rcb);
        goto out;
    }
    while (mph_exec_next(r.ea) < w->nops) {
        size_t i = mph_exec_next(r.ea);
        rc = mph_exec_step(r.ea, &rca, &d);
        if (rc == MP_ENOMEM) {
            goto out;
        }
        if (rc != MP_OK || d.rule != MPH_RULE_NONE) {
            fz_fail(target, w, "op %zu on the clean disk: rule %s: %s", i,
                    mph_rule_name(d.rule), d.what);
        }
        before = injected(r.fb);
        rc = mph_exec_step(r.eb, &rcb, &d);
        if (rc == MP_ENOMEM) {
            goto out;
        }
        if (injected(r.fb) == before) {
            if (rcb != rca) {
                fz_fail(target, w,
                        "determinism: op %zu returned %s on the clean disk, "
                        "%s on the other with no fault fired",
                        i, mp_error_name(rca), mp_error_name(rcb));
            }
            continue;
        }
        if (rcb != rca) {
            rc = after_failure(&r, (long)i, rcb);
            goto out;
        }
        /* Absorbed: B must still equal A. */
        if (mph_exec_pager(r.eb)) {
            int fcode;
            mp_pager_last_failure(mph_exec_pager(r.eb), &fcode, NULL);
            rc = mph_state_compare(r.m, mph_model_state(r.m, i + 1),
                                   mph_exec_pager(r.eb), MPH_CMP_VOLATILE, &d);
            if (rc != MP_OK) {
                goto out;
            }
            if (fcode != 0 || d.rule != MPH_RULE_NONE) {
                fz_fail(target, w,
                        "op %zu returned %s despite an injected fault, but "
                        "the pager %s: %s",
                        i, mp_error_name(rcb),
                        fcode ? "is unavailable" : "differs from the model",
                        d.what);
            }
        }
    }
    rc = MP_OK;
out:
    run_free(&r);
    return rc;
}
