/*
 * explore_two.c - two crashes in a row: a machine that crashed, recovered
 * and crashed again during its first operations after the recovery.
 *
 * A recovered state (the first crash: a site and a tear pattern) is
 * continued as a workload of its own, w2: the ops that the recovered state
 * holds, a `crash` op, the ops after them (the op in flight again if it
 * rolled back), a probe (palloc, pwrite: a protected commit, the case a
 * torn record and the next commit's barrier 1 put at risk), cut after
 * crash2_ops workload ops. Its golden run replays the first crash and
 * restarts on that image at the crash op, so the model follows the
 * recovered pager; the second crash is then armed on the restarted disk,
 * at its crash points and gaps, and every image goes through the oracle
 * with the same rules. A reproducer is w2 with both crashes as directives.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "explorer.h"

/* w with its crash ops left out, and a `switch` right after a crash op:
 * that is the restarted machine's choice of mode, which the first machine
 * (whose op in flight may come after it in w) never ran. */
static int without_crash(const struct mph_workload *w,
                         struct mph_workload **out)
{
    struct mph_workload *r = NULL;
    int rc = mph_workload_new(&r);
    for (size_t i = 0; rc == MP_OK && i < w->nops; i++) {
        const struct mph_op *op = &w->ops[i];
        bool restart_mode = op->kind == MPH_OP_SWITCH && i > 0 &&
                            w->ops[i - 1].kind == MPH_OP_CRASH;
        if (op->kind != MPH_OP_CRASH && !restart_mode) {
            /* A workload without arguments has no args array: no
             * pointer arithmetic on NULL (UBSan). */
            rc = mph_workload_add(
                r, op, op->nargs ? &w->args[op->first_arg] : NULL, op->nargs);
        }
    }
    for (size_t i = 0; rc == MP_OK && i < w->ndirs; i++) {
        rc = mph_workload_set_directive(r, w->dir_key[i], w->dir_val[i]);
    }
    if (rc != MP_OK) {
        mph_workload_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

void mph__restart_free(struct mph__restart *r)
{
    faultfs_free(r->img);
    faultfs_free(r->fs1);
    mph__golden_free(&r->g1);
    mph_workload_free(r->w1);
    memset(r, 0, sizeof(*r));
}

int mph__restart_init(const struct mph_explore_config *cfg,
                      const struct mph_workload *w2,
                      const struct mph__site *site1, const char *pattern1,
                      struct mph__restart *r, struct mph__golden *g2)
{
    int rc;
    memset(r, 0, sizeof(*r));
    memset(g2, 0, sizeof(*g2));
    mph_diff_clear(&g2->diff);
    r->cfg = cfg;
    r->site1 = *site1;
    r->pattern1 = pattern1;
    rc = without_crash(w2, &r->w1);
    if (rc == MP_OK) {
        rc = mph__golden_run(cfg, r->w1, &r->g1);
    }
    if (rc == MP_OK && r->g1.diff.rule != MPH_RULE_NONE) {
        g2->diff = r->g1.diff;
        return MP_OK;
    }
    if (rc == MP_OK) {
        rc = mph__golden_run2(cfg, w2, r, g2);
    }
    return rc;
}

/* Append op (args from w) to r. */
static int copy_op(struct mph_workload *r, const struct mph_workload *w,
                   size_t i)
{
    const struct mph_op *op = &w->ops[i];
    return mph_workload_add(r, op, op->nargs ? &w->args[op->first_arg] : NULL,
                            op->nargs);
}

/* The crash op, and a switch after it if flip. */
static int add_crash(struct mph_workload *r, bool flip)
{
    struct mph_op op;
    int rc;
    memset(&op, 0, sizeof(op));
    op.kind = MPH_OP_CRASH;
    rc = mph_workload_add(r, &op, NULL, 0);
    if (rc == MP_OK && flip) {
        op.kind = MPH_OP_SWITCH;
        rc = mph_workload_add(r, &op, NULL, 0);
    }
    return rc;
}

static bool subpage_op(int kind)
{
    return kind == MPH_OP_SALLOC || kind == MPH_OP_SALLOC_BULK ||
           kind == MPH_OP_SFREE || kind == MPH_OP_SFREE_BULK;
}

/* w2 for a recovery that holds the first `keep` ops of w; with flip, the
 * restarted machine reopens in the other commit mode (a `switch` right
 * after the crash), so its first commit meets the recovered file in the
 * mode it was not written in. */
static int build_w2(const struct mph_explore_config *cfg,
                    const struct mph_workload *w, size_t keep, size_t ps,
                    bool flip, struct mph_workload **out)
{
    struct mph_workload *r = NULL;
    struct mph_op op;
    struct mph_arg arg;
    size_t end = keep + cfg->crash2_ops;
    char buf[32];
    int rc = mph_workload_new(&r);

    *out = NULL;
    if (end > w->nops) {
        end = w->nops;
    }
    for (size_t i = 0; rc == MP_OK && i < end; i++) {
        if (subpage_op(w->ops[i].kind)) {
            mph_workload_free(r);
            return MP_OK; /* not continued: slot state is in memory */
        }
        if (i == keep) {
            rc = add_crash(r, flip);
        }
        if (rc == MP_OK) {
            rc = copy_op(r, w, i);
        }
    }
    if (rc == MP_OK && keep >= end) {
        rc = add_crash(r, flip);
    }
    /* The probe: a new protected page, committed once. */
    if (rc == MP_OK) {
        memset(&op, 0, sizeof(op));
        op.kind = MPH_OP_PALLOC;
        rc = mph_workload_add(r, &op, NULL, 0);
    }
    if (rc == MP_OK) {
        memset(&op, 0, sizeof(op));
        op.kind = MPH_OP_PWRITE;
        op.byte = 0xc3;
        op.commit = true;
        arg.kind = MPH_ARG_REF;
        arg.value = r->nrefs;
        rc = mph_workload_add(r, &op, &arg, 1);
    }
    snprintf(buf, sizeof(buf), "%zu", ps);
    if (rc == MP_OK) {
        rc = mph_workload_set_directive(r, "page_size", buf);
    }
    if (rc != MP_OK) {
        mph_workload_free(r);
        return rc;
    }
    *out = r;
    return MP_OK;
}

/* The second-crash sites of w2: crash points and gaps from the crash op
 * on, at most `max` of them evenly spread (0: all). */
static uint64_t site2_count(const struct mph_explore_config *cfg,
                            const struct mph__golden *g2)
{
    uint64_t pts = g2->op_end[g2->nops - 1];
    uint64_t gaps = cfg->gaps ? (uint64_t)(g2->nops - (size_t)g2->crash_op) : 0;
    return pts + gaps;
}

static void site2_at(const struct mph__golden *g2, uint64_t i,
                     struct mph__site *s)
{
    uint64_t pts = g2->op_end[g2->nops - 1];
    s->second = true;
    if (i < pts) {
        s->k = i;
    } else {
        s->gap = true;
        s->k = (uint64_t)g2->crash_op + 1 + (i - pts);
    }
}

int mph__continue(struct mph_explorer *x, const struct mph_workload *w,
                  const char *name, const struct mph__golden *g,
                  const struct mph__site *site, const char *pattern, int match,
                  struct mph__wl *wl)
{
    struct mph_workload *w2 = NULL;
    struct mph__restart r;
    struct mph__golden g2;
    struct mph__expect e;
    struct mph__site s1 = *site;
    struct mph_oracle_config oc;
    char first[64];
    uint64_t n, take, images, h = 0;
    size_t keep;
    bool flip;
    int rc;

    mph__expect_at(w, g, site, &e);
    keep = site->gap ? (size_t)site->k
                     : (size_t)e.op + (match == MPH_MATCH_CUR ? 1 : 0);
    /* Half of the continuations (by site and pattern) restart in the
     * other commit mode. */
    for (const char *c = pattern; *c; c++) {
        h = mph__mix(h, (unsigned char)*c);
    }
    flip = mph__mix(mph__mix(wl->hash, site->k + 2 * site->gap), h) & 1;
    rc = build_w2(&x->cfg, w, keep, g->ps, flip, &w2);
    if (rc != MP_OK || !w2) {
        return rc;
    }
    x->st.continuations++;
    x->st.continuations_switch += flip;
    mph__site_name(&s1, ' ', first, sizeof(first));
    rc = mph__restart_init(&x->cfg, w2, &s1, pattern, &r, &g2);
    if (rc != MP_OK) {
        goto out;
    }
    if (g2.diff.rule != MPH_RULE_NONE) {
        /* Life after the recovery already went wrong without a second
         * crash: report it with the restart as the whole story. */
        struct mph__site s;
        memset(&s, 0, sizeof(s));
        s.second = true;
        s.gap = true;
        s.k = g2.nops;
        s.first = first;
        s.first_pattern = pattern;
        rc = mph__violation(x, w2, name, &g2, &s, NULL, &g2.diff, wl);
        goto out;
    }
    n = site2_count(&x->cfg, &g2);
    take = x->cfg.crash2_sites && x->cfg.crash2_sites < n ? x->cfg.crash2_sites
                                                          : n;
    images = x->cfg.max_images / 32 > 8 ? x->cfg.max_images / 32 : 8;
    for (uint64_t t = 0; t < take && rc == MP_OK && !mph__out_of_budget(x);
         t++) {
        struct mph__site s;
        struct mph_diff d;
        faultfs *fs = NULL;
        uint64_t count = 0, seed;
        memset(&s, 0, sizeof(s));
        site2_at(&g2, take == n ? t : t * n / take, &s);
        s.first = first;
        s.first_pattern = pattern;
        x->st.sites2++;
        rc = mph__crash_run2(&r, w2, &g2, &s, &fs, &d);
        if (rc != MP_OK) {
            break;
        }
        if (d.rule != MPH_RULE_NONE) {
            rc = mph__violation(x, w2, name, &g2, &s, NULL, &d, wl);
            continue;
        }
        mph__expect_at(w2, &g2, &s, &e);
        mph__oracle_config(&g2, &e, &oc);
        rc = faultfs_image_count(fs, FAULTFS_SPACE_TORN, &count);
        if (rc == MP_ELIMIT) {
            count = UINT64_MAX;
            rc = MP_OK;
        }
        seed = mph__mix(mph__mix(wl->hash, s.k + 2 * s.gap),
                        mph__mix(site->k + 2 * site->gap, keep));
        for (uint64_t j = 0;
             rc == MP_OK && j < images && j < count && !mph__out_of_budget(x);
             j++) {
            struct mph_verdict v;
            faultfs *img = NULL;
            unsigned flags = e.flags;
            rc = count <= images
                     ? faultfs_image_by_index(fs, FAULTFS_SPACE_TORN, j, &img)
                     : faultfs_image_random(fs, mph__mix(seed, j), &img);
            if (rc != MP_OK) {
                break;
            }
            if (x->cfg.checker == MPH_EVERY_ALL ||
                (x->cfg.checker == MPH_EVERY_CLASS && j == 0)) {
                flags |= MPH_ORACLE_CHECKER;
            }
            if (x->cfg.life == MPH_EVERY_ALL ||
                (x->cfg.life == MPH_EVERY_CLASS && j == 0)) {
                flags |= MPH_ORACLE_LIFE;
            }
            rc = mph_oracle_check(&oc, faultfs_vfs(img), g2.m, e.prev, e.cur,
                                  flags, &v);
            if (rc == MP_OK) {
                x->st.states++;
                x->st.states2++;
                wl->states++;
                x->st.checker_runs += v.check_verdict >= 0;
                x->st.life_runs += v.life_ran;
                if (v.fallback) {
                    x->st.fallback++;
                    x->st.fallback_torn += v.reason == MP_RECOVERY_TORN_RECORD;
                    x->st.fallback_bad += v.reason == MP_RECOVERY_BAD_SELECTED;
                    x->st.fallback_one_flush +=
                        v.reason == MP_RECOVERY_ONE_FLUSH_FALLBACK;
                }
                x->st.one_flush += v.open_rc == MP_OK &&
                                   v.match != MPH_MATCH_ABSENT &&
                                   v.reason == MP_RECOVERY_ONE_FLUSH;
                if (v.diff.rule != MPH_RULE_NONE) {
                    rc = mph__violation(x, w2, name, &g2, &s, img, &v.diff, wl);
                    faultfs_free(img);
                    break; /* one per site */
                }
            }
            faultfs_free(img);
        }
        faultfs_free(fs);
    }
out:
    mph__restart_free(&r);
    mph__golden_free(&g2);
    mph_workload_free(w2);
    return rc;
}
