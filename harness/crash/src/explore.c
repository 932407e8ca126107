/*
 * explore.c - the sweep: every site of every workload, every (or a sample
 * of the) crash images at each, each through the oracle.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore_internal.h"
#include "explorer.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void mph_explore_config_init(struct mph_explore_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->seed = 1;
    cfg->fs_page = 4096;
    cfg->sector = 512;
    cfg->page_size = 1024;
    cfg->max_images = 512;
    cfg->nshards = 1;
    cfg->checker = MPH_EVERY_ALL;
    cfg->life = MPH_EVERY_CLASS;
    cfg->gaps = true;
    cfg->faults = true;
    cfg->max_reports = 20;
}

int mph_explorer_new(const struct mph_explore_config *cfg,
                     struct mph_explorer **out)
{
    struct mph_explorer *x;
    *out = NULL;
    if (cfg->nshards == 0 || cfg->shard >= cfg->nshards ||
        cfg->max_images == 0) {
        return MP_EINVAL;
    }
    x = calloc(1, sizeof(*x));
    if (!x) {
        return MP_ENOMEM;
    }
    x->cfg = *cfg;
    x->st.stopped = "complete";
    x->t0 = now();
    *out = x;
    return MP_OK;
}

void mph_explorer_free(struct mph_explorer *x)
{
    if (!x) {
        return;
    }
    free(x->viol);
    free(x->wls);
    free(x);
}

const struct mph_explore_stats *mph_explorer_stats(const struct mph_explorer *x)
{
    return &x->st;
}

const struct mph_violation *
mph_explorer_violations(const struct mph_explorer *x, size_t *n)
{
    *n = x->nviol;
    return x->viol;
}

static uint64_t mix(uint64_t a, uint64_t b)
{
    uint64_t z = a ^ (b + 0x9E3779B97F4A7C15ull + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void progress(struct mph_explorer *x, const char *name, bool force)
{
    double t = now(), el = t - x->t0;
    if (!x->cfg.progress || (!force && t - x->last_progress < 0.5)) {
        return;
    }
    x->last_progress = t;
    fprintf(x->cfg.progress,
            "\rmp-explore: %-24.24s %8" PRIu64 " sites %10" PRIu64
            " states %8.0f/s %4" PRIu64 " violations %6.1fs ",
            name, x->st.crash_points + x->st.gaps, x->st.states,
            el > 0 ? (double)x->st.states / el : 0.0, x->st.violations, el);
    fflush(x->cfg.progress);
}

static bool out_of_budget(struct mph_explorer *x)
{
    if (x->stop) {
        return true;
    }
    if (x->cfg.budget && x->st.states >= x->cfg.budget) {
        x->st.stopped = "budget";
        x->stop = true;
    } else if (x->cfg.time_limit > 0 && now() - x->t0 >= x->cfg.time_limit) {
        x->st.stopped = "time";
        x->stop = true;
    }
    return x->stop;
}

static struct mph__wl *wl_new(struct mph_explorer *x, const char *name,
                              size_t nops)
{
    struct mph__wl *wl;
    if (x->nwls == x->wls_cap) {
        size_t cap = x->wls_cap ? x->wls_cap * 2 : 16;
        struct mph__wl *n = realloc(x->wls, cap * sizeof(*n));
        if (!n) {
            return NULL;
        }
        x->wls = n;
        x->wls_cap = cap;
    }
    wl = &x->wls[x->nwls++];
    memset(wl, 0, sizeof(*wl));
    snprintf(wl->name, sizeof(wl->name), "%s", name);
    wl->ops = nops;
    return wl;
}

/* Record a violation; write its reproducer (and image) if asked. */
static int violation(struct mph_explorer *x, const struct mph_workload *w,
                     const char *name, const struct mph__golden *g,
                     const struct mph__site *site, faultfs *img,
                     const struct mph_diff *d, struct mph__wl *wl)
{
    struct mph_violation *v;
    struct mph__expect e;
    const char *pattern = img ? faultfs_image_pattern(img) : "";
    int rc = MP_OK;

    x->st.violations++;
    x->st.by_rule[d->rule < MPH_RULE__COUNT ? d->rule : 0]++;
    wl->violations++;
    if (x->cfg.max_violations && x->st.violations >= x->cfg.max_violations) {
        x->st.stopped = "violations";
        x->stop = true;
    }
    if (x->nviol >= x->cfg.max_reports) {
        return MP_OK;
    }
    if (x->nviol == x->viol_cap) {
        size_t cap = x->viol_cap ? x->viol_cap * 2 : 8;
        struct mph_violation *n = realloc(x->viol, cap * sizeof(*n));
        if (!n) {
            return MP_ENOMEM;
        }
        x->viol = n;
        x->viol_cap = cap;
    }
    v = &x->viol[x->nviol++];
    memset(v, 0, sizeof(*v));
    mph__expect_at(w, g, site, &e);
    snprintf(v->workload, sizeof(v->workload), "%s", name);
    v->point = site->k;
    v->gap = site->gap;
    v->fault = site->fault;
    v->persist = site->persist;
    v->op = e.op;
    v->line = e.op >= 0 && (size_t)e.op < w->nops ? w->ops[e.op].line : 0;
    snprintf(v->pattern, sizeof(v->pattern), "%s", pattern ? pattern : "");
    v->diff = *d;
    if (x->cfg.repro_dir) {
        rc = mph__write_repro(&x->cfg, w, name, g, site, v->pattern, d,
                              v->repro, sizeof(v->repro));
        if (rc == MP_OK && img && x->cfg.write_image) {
            char ipath[1100];
            snprintf(ipath, sizeof(ipath), "%s.img", v->repro);
            rc = faultfs_write_file(img, MPH__PATH, ipath);
            if (rc == MP_ENOENT) {
                rc = MP_OK; /* no file in this image (crash in create) */
            }
        }
    }
    return rc;
}

/* Which image of a site the j-th state uses. */
struct plan {
    uint64_t exhaustive; /* images by index in FAULTFS_SPACE_TORN */
    uint64_t pages;      /* then images by index in FAULTFS_SPACE_PAGES */
    uint64_t random;     /* then seeded random images */
};

static int make_plan(const struct mph_explorer *x, faultfs *fs, struct plan *p)
{
    uint64_t n;
    int rc = faultfs_image_count(fs, FAULTFS_SPACE_TORN, &n);
    memset(p, 0, sizeof(*p));
    if (rc == MP_OK && n <= x->cfg.max_images) {
        p->exhaustive = n;
        return MP_OK;
    }
    if (rc != MP_OK && rc != MP_ELIMIT) {
        return rc;
    }
    rc = faultfs_image_count(fs, FAULTFS_SPACE_PAGES, &n);
    if (rc == MP_OK && n <= x->cfg.max_images / 2) {
        p->pages = n;
    } else if (rc != MP_OK && rc != MP_ELIMIT) {
        return rc;
    }
    p->random = x->cfg.max_images - p->pages;
    return MP_OK;
}

static int make_image(const struct mph_explorer *x, faultfs *fs,
                      const struct plan *p, uint64_t site_seed, uint64_t j,
                      faultfs **img)
{
    if (j < p->exhaustive) {
        return faultfs_image_by_index(fs, FAULTFS_SPACE_TORN, j, img);
    }
    j -= p->exhaustive;
    if (j < p->pages) {
        return faultfs_image_by_index(fs, FAULTFS_SPACE_PAGES, j, img);
    }
    j -= p->pages;
    return faultfs_image_random(fs, mix(mix(x->cfg.seed, site_seed), j), img);
}

static unsigned outcome_class(const struct mph_verdict *v)
{
    unsigned m = (unsigned)(v->match + 1) & 3;
    return (m << 3) | ((unsigned)v->reason & 3) << 1 |
           ((unsigned)v->chosen_copy & 1);
}

static void count(struct mph_explorer *x, const struct mph__expect *e,
                  const struct mph_verdict *v)
{
    x->st.states++;
    if (v->fallback) {
        x->st.fallback++;
        if (v->reason == MP_RECOVERY_TORN_RECORD) {
            x->st.fallback_torn++;
        } else if (v->reason == MP_RECOVERY_BAD_SELECTED) {
            x->st.fallback_bad++;
        }
    }
    if (v->match == MPH_MATCH_ABSENT) {
        x->st.absent++;
    } else if (e->prev && v->match == MPH_MATCH_PREV) {
        x->st.rolled_back++;
    } else if (e->prev && v->match == MPH_MATCH_CUR) {
        x->st.held++;
    }
    if (e->flags & MPH_ORACLE_PROTECTED_COMMIT) {
        if (v->match == MPH_MATCH_PREV) {
            x->st.protected_old++;
        } else if (v->match == MPH_MATCH_CUR) {
            x->st.protected_new++;
        }
    }
    if (v->check_verdict >= 0) {
        x->st.checker_runs++;
    }
    if (v->life_ran) {
        x->st.life_runs++;
    }
}

static int explore_site(struct mph_explorer *x, const struct mph_workload *w,
                        const char *name, const struct mph__golden *g,
                        struct mph__site *site, struct mph__wl *wl)
{
    struct mph_oracle_config oc;
    struct mph__expect e;
    struct mph_diff d;
    struct plan plan;
    faultfs *fs = NULL;
    uint64_t site_seed =
        mix(mix(mix(wl->hash, site->gap + 2 * site->fault), site->k),
            (uint64_t)site->persist);
    uint64_t total;
    int rc;

    rc = mph__crash_run(&x->cfg, w, g, site, &fs, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (d.rule != MPH_RULE_NONE) {
        return violation(x, w, name, g, site, NULL, &d, wl);
    }
    if (!fs) {
        return MP_OK; /* a fault site past the last call */
    }
    mph__expect_at(w, g, site, &e);
    /* Outcome classes are per op in flight (and per gap): the costly
     * rules then run a few times per op, not per crash point. */
    if (e.op != x->class_op || site->gap != x->class_gap) {
        x->class_op = e.op;
        x->class_gap = site->gap;
        x->seen = 0;
    }
    rc = make_plan(x, fs, &plan);
    if (rc != MP_OK) {
        faultfs_free(fs);
        return rc;
    }
    if (plan.exhaustive) {
        x->st.sites_exhaustive++;
    } else {
        x->st.sites_sampled++;
    }
    memset(&oc, 0, sizeof(oc));
    oc.path = MPH__PATH;
    oc.page_size = g->ps;
    total = plan.exhaustive + plan.pages + plan.random;
    for (uint64_t j = 0; j < total && !out_of_budget(x); j++) {
        struct mph_verdict v;
        unsigned flags = e.flags, cls;
        faultfs *img;
        rc = make_image(x, fs, &plan, site_seed, j, &img);
        if (rc != MP_OK) {
            break;
        }
        if (x->cfg.checker == MPH_EVERY_ALL) {
            flags |= MPH_ORACLE_CHECKER;
        }
        if (x->cfg.life == MPH_EVERY_ALL) {
            flags |= MPH_ORACLE_LIFE;
        }
        rc = mph_oracle_check(&oc, faultfs_vfs(img), g->m, e.prev, e.cur, flags,
                              &v);
        cls = outcome_class(&v);
        if (rc == MP_OK && v.diff.rule == MPH_RULE_NONE &&
            !(x->seen >> cls & 1) &&
            (x->cfg.life == MPH_EVERY_CLASS ||
             x->cfg.checker == MPH_EVERY_CLASS) &&
            v.match != MPH_MATCH_ABSENT) {
            /* First state of this outcome here: the costly rules too. The
             * first check only read the image, so it is still as made. */
            x->seen |= 1u << cls;
            flags |= x->cfg.checker != MPH_EVERY_OFF ? MPH_ORACLE_CHECKER : 0;
            flags |= x->cfg.life != MPH_EVERY_OFF ? MPH_ORACLE_LIFE : 0;
            rc = mph_oracle_check(&oc, faultfs_vfs(img), g->m, e.prev, e.cur,
                                  flags, &v);
        }
        if (rc == MP_OK) {
            count(x, &e, &v);
            wl->states++;
            if (v.diff.rule != MPH_RULE_NONE) {
                rc = violation(x, w, name, g, site, img, &v.diff, wl);
            }
        }
        faultfs_free(img);
        progress(x, name, false);
        if (rc != MP_OK || v.diff.rule != MPH_RULE_NONE) {
            break; /* one violation per site is enough to report */
        }
    }
    faultfs_free(fs);
    return rc;
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* Explore one site if it falls in this shard. */
static int take_site(struct mph_explorer *x, const struct mph_workload *w,
                     const char *name, const struct mph__golden *g,
                     struct mph__site *s, struct mph__wl *wl)
{
    int rc;
    if (x->site_seq++ % x->cfg.nshards != x->cfg.shard) {
        return MP_OK;
    }
    if (s->fault) {
        x->st.fault_sites++;
    } else if (s->gap) {
        x->st.gaps++;
    } else {
        x->st.crash_points++;
    }
    rc = explore_site(x, w, name, g, s, wl);
    progress(x, name, false);
    return rc;
}

int mph_explorer_run(struct mph_explorer *x, const struct mph_workload *w,
                     const char *name)
{
    struct mph__golden g;
    struct mph__wl *wl;
    int rc;

    if (out_of_budget(x)) {
        return MP_OK;
    }
    wl = wl_new(x, name, w->nops);
    if (!wl) {
        return MP_ENOMEM;
    }
    wl->hash = hash_name(name);
    x->class_op = -2;
    x->st.workloads++;
    x->st.ops += w->nops;
    rc = mph__golden_run(&x->cfg, w, &g);
    if (rc != MP_OK) {
        mph__golden_free(&g);
        return rc;
    }
    if (g.diff.rule != MPH_RULE_NONE) {
        /* The clean run already disagrees with the model: report that,
         * with the workload as reproducer, and explore nothing. */
        struct mph__site s;
        memset(&s, 0, sizeof(s));
        s.gap = true;
        s.k = g.nops;
        x->st.golden_failures++;
        rc = violation(x, w, name, &g, &s, NULL, &g.diff, wl);
        mph__golden_free(&g);
        return rc;
    }
    wl->points = g.nops ? g.op_end[g.nops - 1] : g.create_end;
    /* Sites in time order: create's points, gap 0, op 0's points, ... */
    for (uint64_t k = 0, op = 0; rc == MP_OK && !out_of_budget(x);) {
        struct mph__site s;
        uint64_t end = op == 0 ? g.create_end : g.op_end[op - 1];
        memset(&s, 0, sizeof(s));
        if (k < end) {
            s.k = k++;
        } else if (op <= g.nops) {
            s.gap = true;
            s.k = op++;
            if (!x->cfg.gaps) {
                continue;
            }
        } else {
            break;
        }
        rc = take_site(x, w, name, &g, &s, wl);
    }
    /* Then every failure-capable call failing once; a sync also with part
     * or all of its range persisted. */
    for (uint64_t c = 1; x->cfg.faults && c <= g.ncalls; c++) {
        int kind = g.call_kind[c - 1];
        int last = kind == FAULTFS_CALL_SYNC || kind == FAULTFS_CALL_SYNC_FILE
                       ? FAULTFS_PERSIST_ALL
                       : FAULTFS_PERSIST_NONE;
        for (int persist = FAULTFS_PERSIST_NONE;
             persist <= last && rc == MP_OK && !out_of_budget(x); persist++) {
            struct mph__site s;
            memset(&s, 0, sizeof(s));
            s.fault = true;
            s.k = c;
            s.persist = persist;
            rc = take_site(x, w, name, &g, &s, wl);
        }
    }
    x->st.seconds = now() - x->t0;
    mph__golden_free(&g);
    return rc;
}
