/*
 * fuzz_faults.c - the faults target's run: I/O errors injected into one
 * disk (B) while a clean disk (A) runs the same workload with the model.
 *
 * The contract (mappedpages/pager.h, FORMAT.md section 8) for a call that
 * an I/O error fails:
 *  - it returns a clean code (MP_EIO, MP_ENOSPC, MP_ENOMEM, MP_ELIMIT,
 *    MP_ELOCKED), never success and never a crash;
 *  - memory tells the truth: the pager's state is S_{i-1} (memory included);
 *  - either the pager stays usable (growth refused before anything was
 *    written), the call run again does what A's did and a reopen shows
 *    exactly S_i, or (a sync failed) it refuses every later write with
 *    MP_EUNAVAILABLE while reads keep working, and a reopen shows exactly
 *    S_{i-1};
 *  - after a crash with any tear pattern (if the input asks) the file
 *    recovers S_{i-1} or S_i (two faults can fail the sync that restores
 *    the commit record after the record's own persisted it: pager.h);
 *  - the file passes the checker and a short workload succeeds on it
 *    (oracle rules 1-6).
 * A fault the core absorbs (the call still returns what A's did) must
 * leave B equal to A.
 *
 * Input flag bit 6 makes fault 0 a failure of B's pager's own memory
 * (allocation n, counted from create on, through mp_options.mem): the
 * call must return MP_ENOMEM and leave the pager usable in S_{i-1}, and it
 * must run the failed op again (the fault gone) exactly as A did: same
 * return code, then state S_i.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mph/failmem.h"

static const int fault_calls[] = {
    FAULTFS_CALL_SYNC,   FAULTFS_CALL_SYNC,   FAULTFS_CALL_SYNC_FILE,
    FAULTFS_CALL_GROW,   FAULTFS_CALL_MAP,    FAULTFS_CALL_EXTEND_MAP,
    FAULTFS_CALL_OPEN,   FAULTFS_CALL_RENAME, FAULTFS_CALL_SYNC_DIR,
    FAULTFS_CALL_REMOVE, FAULTFS_CALL_LOCK,   FAULTFS_CALL_ANY,
};
#define NCALLS (sizeof(fault_calls) / sizeof(fault_calls[0]))

static const int fault_codes[] = { 0, MP_EIO, MP_ENOSPC, MP_ENOMEM };

/*
 * Which allocation fails, from fault 0's nth byte b: 1 + b up to 128 (create
 * and most seed workloads make 6 to 70), then in steps of 3 up to 510 (the
 * longest sub-page workloads make about 300).
 */
static uint64_t mem_nth(uint8_t b)
{
    return b < 128 ? 1u + b : 129u + 3u * (uint64_t)(b - 128u);
}

static uint8_t parse_fault(struct fz_reader *r, struct faultfs_fault *f)
{
    uint8_t call = fz_u8(r), nth = fz_u8(r), mode = fz_u8(r);
    memset(f, 0, sizeof(*f));
    f->call = fault_calls[call % NCALLS];
    f->nth = 1 + nth % 48u;
    f->persist = (mode & 3) % 3;
    f->sticky = (mode & 4) != 0;
    f->code = fault_codes[(mode >> 3) & 3];
    return nth;
}

int fz_faults_parse(const uint8_t *data, size_t size,
                    struct fz_faults_input *in)
{
    struct fz_reader r;
    uint8_t flags, nth0;

    memset(in, 0, sizeof(*in));
    fz_reader_init(&r, data, size);
    flags = fz_u8(&r);
    nth0 = parse_fault(&r, &in->fault[0]);
    parse_fault(&r, &in->fault[1]);
    in->nfaults = (flags & 4) ? 2 : 1;
    in->crash = (flags & 2) != 0;
    in->mem = (flags & 0x40) != 0;
    if (in->mem) {
        in->mem_nth = mem_nth(nth0);
        in->mem_sticky = in->fault[0].sticky;
    }
    fz_disk_from_bits(&in->disk, (flags >> 3) & 7u, fz_u8(&r));
    if (flags & 0x80) {
        in->disk.open_flags = MP_OPEN_ONE_FLUSH; /* one-flush commits */
    }
    return fz_decode_ops_and_tear(&r, (flags & 1) != 0, &in->w, &in->tear,
                                  &in->ntear);
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
    struct fz_pair p; /* A clean with the model, B with the faults */
    struct mph_failmem mem;
    struct mp_allocator_hooks hooks;
    bool mem_only; /* the failure judged came from the memory hooks only */
};

static void want_unavailable(struct run *r, long op, const char *what, int rc)
{
    if (rc != MP_EUNAVAILABLE) {
        fz_fail(r->target, r->in->w,
                "op %ld failed and left the pager unavailable, but %s then "
                "returned %s, not MP_EUNAVAILABLE",
                op, what, mp_error_name(rc));
    }
}

static int compare_state(struct run *r, mp_pager *p, const struct mph_state *s,
                         struct mph_diff *d);

/* A pager that an I/O error left unavailable still shows S_{i-1}, refuses
 * every change (with valid arguments), and reads keep working. */
static int check_unavailable(struct run *r, mp_pager *p, long op,
                             const struct mph_state *before)
{
    mp_pgno pg = 0, two[2];
    mp_protected_id pid = 0, np;
    const void *bytes;
    struct mph_diff d;
    mp_iter it;
    uint64_t id;
    int rc;

    rc = compare_state(r, p, before, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (d.rule != MPH_RULE_NONE) {
        fz_fail(r->target, r->in->w,
                "op %ld failed and left the pager unavailable, but its "
                "state is not the one before the call: %s",
                op, d.what);
    }
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
    return MP_OK;
}

/* p against state s, bytes in memory included. */
static int compare_state(struct run *r, mp_pager *p, const struct mph_state *s,
                         struct mph_diff *d)
{
    return mph_state_compare(r->p.m, s, p, MPH_CMP_VOLATILE, d);
}

/* The failed op once more, the fault gone: what A returned, then S_i. */
static int retry(struct run *r, long op, int rca, const struct mph_state *cur)
{
    struct mph_diff d;
    int rc2, rc = mph_exec_retry(r->p.eb, &rc2, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (rc2 != rca || d.rule != MPH_RULE_NONE) {
        fz_fail(r->target, r->in->w,
                "op %ld failed, the pager stayed usable, but running it "
                "again returned %s (the clean disk: %s) %s",
                op, mp_error_name(rc2), mp_error_name(rca), d.what);
    }
    if (!mph_exec_pager(r->p.eb)) {
        fz_fail(r->target, r->in->w, "op %ld run again left no pager", op);
    }
    rc = compare_state(r, mph_exec_pager(r->p.eb), cur, &d);
    if (rc == MP_OK && d.rule != MPH_RULE_NONE) {
        fz_fail(r->target, r->in->w,
                "op %ld failed, then ran again as on the clean disk, but "
                "the state is not the one after it: %s",
                op, d.what);
    }
    return rc;
}

/* A pager still usable after a failed call: state S_{i-1}; the call run
 * again must do what A's did, and a commit after it must work. */
static int check_usable(struct run *r, mp_pager *p, long op, int rca,
                        const struct mph_state *before,
                        const struct mph_state *after)
{
    struct mph_diff d;
    mp_pgno pg;
    int rc = compare_state(r, p, before, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (d.rule != MPH_RULE_NONE) {
        fz_fail(r->target, r->in->w,
                "op %ld failed, the pager stayed usable, but its state is "
                "not the one before the call: %s",
                op, d.what);
    }
    rc = retry(r, op, rca, after);
    if (rc != MP_OK) {
        return rc;
    }
    p = mph_exec_pager(r->p.eb);
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

/*
 * Judge the file after a call (op; -1 create) failed with code rc where A
 * returned rca; mem_only: only an allocation failure fired in it.
 */
static int after_failure(struct run *r, long op, int code, int rca,
                         bool mem_only)
{
    const struct mph_state *prev, *cur;
    mp_pager *p = mph_exec_pager(r->p.eb);
    char ctx[128];
    unsigned flags = 0;
    int rc = MP_OK, fcode = 0;

    if (p) {
        mp_pager_last_failure(p, &fcode, NULL);
    }
    if (mem_only ? code != MP_ENOMEM || fcode != 0 : !clean_code(code)) {
        fz_fail(r->target, r->in->w,
                "op %ld: an injected %s made the call return %s%s", op,
                mem_only ? "allocation failure" : "I/O fault",
                mp_error_name(code),
                fcode ? " and left the pager unavailable" : "");
    }
    faultfs_clear_faults(r->p.fb);
    r->mem.armed = false;
    r->mem_only = mem_only;
    if (op < 0) {
        prev = NULL;
        cur = mph_model_state(r->p.m, 0);
        flags = MPH_ORACLE_ALLOW_ABSENT;
    } else {
        prev = mph_model_state(r->p.m, (size_t)op);
        cur = mph_model_state(r->p.m, (size_t)op + 1);
    }
    if (p) {
        if (fcode != 0) {
            rc = check_unavailable(r, p, op, prev);
        } else if (op >= 0) {
            rc = check_usable(r, p, op, rca, prev, cur);
        }
    } else if (op >= 0 && r->in->w->ops[op].kind == MPH_OP_REOPEN) {
        rc = retry(r, op, rca, cur); /* the open, again */
    }
    mph_exec_free(r->p.eb);
    r->p.eb = NULL;
    if (rc != MP_OK) {
        return rc;
    }
    snprintf(ctx, sizeof(ctx), "op %ld failed with %s (pager %s), then %s", op,
             mp_error_name(code),
             !p      ? "gone"
             : fcode ? "unavailable"
                     : "usable",
             r->in->crash ? "a crash" : "close and reopen");
    if (fz_verbose()) {
        fprintf(stderr, "%s: %s\n", r->target, ctx);
    }
    if (!r->in->crash) {
        /* No crash: a reopen shows exactly what memory showed - S_{i-1}
         * from an unavailable pager, S_i after a usable one's retry. */
        if (p && op >= 0) {
            return fz_judge_image_mode(r->target, r->in->w, r->p.fb, r->p.m,
                                       NULL, fcode ? prev : cur, flags,
                                       r->in->disk.open_flags, ctx);
        }
        return fz_judge_image_mode(r->target, r->in->w, r->p.fb, r->p.m, prev,
                                   cur, flags, r->in->disk.open_flags, ctx);
    }
    if (faultfs_crash_now(r->p.fb) != MP_OK) {
        fz_fail(r->target, r->in->w, "crash_now failed");
    }
    {
        faultfs *img = NULL;
        fz_image_spare(r->p.fb);
        rc = faultfs_image_from_bytes(r->p.fb, r->in->tear, r->in->ntear, &img);
        if (rc == MP_OK) {
            rc = fz_judge_image_mode(r->target, r->in->w, img, r->p.m, prev,
                                     cur, flags, r->in->disk.open_flags, ctx);
        }
        fz_fs_free(img);
    }
    return rc;
}

static int setup(struct run *r)
{
    const struct mp_allocator_hooks *b_mem = NULL;
    int rc;

    if (r->in->mem) {
        mph_failmem_arm(&r->mem, r->in->mem_nth, r->in->mem_sticky);
        mph_failmem_hooks(&r->mem, &r->hooks);
        b_mem = &r->hooks;
    }
    rc = fz_pair_new(&r->p, r->in->w, &r->in->disk, true, b_mem);
    /* With the memory bit fault 0 goes to B's hooks, not the disk. */
    for (size_t i = r->in->mem ? 1 : 0; rc == MP_OK && i < r->in->nfaults;
         i++) {
        rc = faultfs_inject(r->p.fb, &r->in->fault[i]);
        if (rc != MP_OK) {
            fz_fail(r->target, r->in->w, "faultfs_inject refused fault %zu", i);
        }
    }
    return rc;
}

int fz_faults_run(const char *target, const struct fz_faults_input *in)
{
    const struct mph_workload *w = in->w;
    struct run r;
    struct mph_diff d;
    uint64_t before, mbefore;
    int rc, rca, rcb;

    memset(&r, 0, sizeof(r));
    r.target = target;
    r.in = in;
    if (fz_verbose()) {
        if (in->mem) {
            fprintf(stderr, "%s: fault 0: allocation #%" PRIu64 "%s\n", target,
                    in->mem_nth, in->mem_sticky ? " sticky" : "");
        }
        for (size_t i = in->mem ? 1 : 0; i < in->nfaults; i++) {
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
    rc = mph_exec_create(r.p.ea, &rca, &d);
    if (rc != MP_OK) {
        goto out;
    }
    if (rca != MP_OK || d.rule != MPH_RULE_NONE) {
        fz_fail(target, w, "create on the clean disk: %s %s",
                mp_error_name(rca), d.what);
    }
    rc = mph_exec_create(r.p.eb, &rcb, &d);
    if (rc != MP_OK) {
        goto out;
    }
    if (rcb != MP_OK) {
        if (injected(r.p.fb) == 0 && r.mem.fired == 0) {
            fz_fail(target, w, "create failed with no fault: %s",
                    mp_error_name(rcb));
        }
        rc = after_failure(&r, -1, rcb, rca, injected(r.p.fb) == 0);
        goto out;
    }
    while (mph_exec_next(r.p.ea) < w->nops) {
        size_t i = mph_exec_next(r.p.ea);
        rc = mph_exec_step(r.p.ea, &rca, &d);
        if (rc == MP_ENOMEM) {
            goto out;
        }
        if (rc != MP_OK || d.rule != MPH_RULE_NONE) {
            fz_fail(target, w, "op %zu on the clean disk: rule %s: %s", i,
                    mph_rule_name(d.rule), d.what);
        }
        before = injected(r.p.fb);
        mbefore = r.mem.fired;
        rc = mph_exec_step(r.p.eb, &rcb, &d);
        if (rc == MP_ENOMEM) {
            goto out;
        }
        if (injected(r.p.fb) == before && r.mem.fired == mbefore) {
            if (rcb != rca) {
                fz_fail(target, w,
                        "determinism: op %zu returned %s on the clean disk, "
                        "%s on the other with no fault fired",
                        i, mp_error_name(rca), mp_error_name(rcb));
            }
            continue;
        }
        if (rcb != rca) {
            rc = after_failure(&r, (long)i, rcb, rca,
                               injected(r.p.fb) == before);
            goto out;
        }
        /* Absorbed: B must still equal A. */
        if (mph_exec_pager(r.p.eb)) {
            bool armed = r.mem.armed;
            int fcode;
            mp_pager_last_failure(mph_exec_pager(r.p.eb), &fcode, NULL);
            r.mem.armed = false; /* the comparison's iterators allocate */
            rc =
                mph_state_compare(r.p.m, mph_model_state(r.p.m, i + 1),
                                  mph_exec_pager(r.p.eb), MPH_CMP_VOLATILE, &d);
            r.mem.armed = armed;
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
    if (fz_verbose() && in->mem) {
        fprintf(stderr,
                "%s: B's pager made %" PRIu64 " allocations, %" PRIu64
                " failed\n",
                target, r.mem.count, r.mem.fired);
    }
    fz_pair_free(&r.p);
    return rc;
}
