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
    cfg->crash2_every = 64;
    cfg->crash2_sites = 8;
    cfg->crash2_ops = 2;
    cfg->damage = 32;
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
    free(x->seen);
    free(x->cells);
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

uint64_t mph__mix(uint64_t a, uint64_t b)
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

/*
 * Whether to stop exploring now: the explorer's budget or time (stops
 * everything), the cell's time (stops the cell) or the workload's share
 * (stops the workload).
 */
bool mph__out_of_budget(struct mph_explorer *x)
{
    double t;
    if (x->stop || x->cell_stop || x->wl_stop) {
        return true;
    }
    t = now();
    if (x->cfg.budget && x->st.states >= x->cfg.budget) {
        x->st.stopped = "budget";
        x->stop = true;
    } else if (x->cfg.time_limit > 0 && t - x->t0 >= x->cfg.time_limit) {
        x->st.stopped = "time";
        x->stop = true;
    } else if (x->cell_deadline > 0 && t >= x->cell_deadline) {
        x->cell_stop = true;
    } else if (x->wl_deadline > 0 && t >= x->wl_deadline) {
        x->wl_stop = true;
    }
    return x->stop || x->cell_stop || x->wl_stop;
}

void mph_explorer_share(struct mph_explorer *x, double seconds)
{
    x->share = seconds > 0 ? seconds : 0;
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
int mph__violation(struct mph_explorer *x, const struct mph_workload *w,
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
    if (site->second) {
        x->st.violations2++;
    }
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
    snprintf(v->cell, sizeof(v->cell), "%s", x->in_cell ? x->cur.name : "");
    v->point = site->k;
    v->gap = site->gap;
    v->fault = site->fault;
    v->persist = site->persist;
    v->op = e.op;
    v->line = e.op >= 0 && (size_t)e.op < w->nops ? w->ops[e.op].line : 0;
    snprintf(v->pattern, sizeof(v->pattern), "%s", pattern ? pattern : "");
    v->second = site->second;
    if (site->second) {
        snprintf(v->first, sizeof(v->first), "%s", site->first);
        snprintf(v->first_pattern, sizeof(v->first_pattern), "%s",
                 site->first_pattern ? site->first_pattern : "");
    }
    v->diff = *d;
    if (x->cfg.repro_dir) {
        struct mph_explore_config cfg = x->cfg;
        cfg.force_page_size = 0; /* the reproducer names its page size */
        rc = mph__write_repro(&cfg, w, name, g, site, v->pattern, d, v->repro,
                              sizeof(v->repro));
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
    return faultfs_image_random(
        fs, mph__mix(mph__mix(x->cfg.seed, site_seed), j), img);
}

static unsigned outcome_class(const struct mph_verdict *v)
{
    /* 2 bits of match, 3 of reason (0-5 since the one-flush reasons),
     * 1 of copy: 64 classes. */
    unsigned m = (unsigned)(v->match + 1) & 3;
    return (m << 4) | ((unsigned)v->reason & 7) << 1 |
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
        } else if (v->reason == MP_RECOVERY_ONE_FLUSH_FALLBACK) {
            x->st.fallback_one_flush++;
        }
    }
    if (v->reason == MP_RECOVERY_ONE_FLUSH && v->match != MPH_MATCH_ABSENT) {
        x->st.one_flush++;
    }
    if (v->match == MPH_MATCH_ABSENT) {
        x->st.absent++;
    } else if ((e->prev && v->match == MPH_MATCH_PREV) ||
               (e->failed && v->match == MPH_MATCH_CUR)) {
        x->st.rolled_back++;
    } else if (e->prev && v->match == MPH_MATCH_CUR) {
        x->st.held++;
    }
    if (e->flags & MPH_ORACLE_PROTECTED_COMMIT) {
        if (v->match == MPH_MATCH_PREV ||
            (e->failed && v->match == MPH_MATCH_CUR)) {
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
/* The outcome classes already seen for the op in flight at e. */
static uint64_t *seen_for(struct mph_explorer *x, const struct mph__expect *e,
                          const struct mph__site *site)
{
    size_t i = 2 * (size_t)(e->op + 1) + (site->gap ? 1 : 0);
    return i < x->seen_cap ? &x->seen[i] : NULL;
}

/* Whether a recovered state is continued into a second crash. */
static bool continue_it(const struct mph_explorer *x,
                        const struct mph__expect *e,
                        const struct mph__site *site,
                        const struct mph_verdict *v, uint64_t site_seed,
                        uint64_t j)
{
    if (!x->cfg.crash2_every || site->fault || site->second || e->op < 0 ||
        (v->match != MPH_MATCH_PREV && v->match != MPH_MATCH_CUR)) {
        return false;
    }
    return v->fallback ||
           mph__mix(mph__mix(site_seed, j), 0x2c) % x->cfg.crash2_every == 0;
}

static int damage_site(struct mph_explorer *x, const struct mph_workload *w,
                       const char *name, const struct mph__golden *g,
                       const struct mph__site *site, faultfs *fs,
                       uint64_t site_seed, struct mph__wl *wl);

static int explore_site(struct mph_explorer *x, const struct mph_workload *w,
                        const char *name, const struct mph__golden *g,
                        struct mph__site *site, struct mph__wl *wl)
{
    struct mph_oracle_config oc;
    struct mph__expect e;
    struct mph_diff d;
    struct plan plan;
    faultfs *fs = NULL;
    uint64_t site_seed = mph__mix(
        mph__mix(mph__mix(wl->hash, site->gap + 2 * site->fault), site->k),
        (uint64_t)site->persist);
    uint64_t total;
    uint64_t *seen, none = 0;
    bool go_on = true;
    int rc;

    rc = mph__crash_run(&x->cfg, w, g, site, &fs, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (d.rule != MPH_RULE_NONE) {
        return mph__violation(x, w, name, g, site, NULL, &d, wl);
    }
    if (!fs) {
        return MP_OK; /* a fault site past the last call */
    }
    mph__expect_at(w, g, site, &e);
    /* Outcome classes are per op in flight (and per gap): the costly
     * rules then run a few times per op, not per crash point. */
    seen = seen_for(x, &e, site);
    if (!seen) {
        seen = &none;
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
    mph__oracle_config(g, &e, &oc);
    total = plan.exhaustive + plan.pages + plan.random;
    for (uint64_t j = 0; j < total && (j ? !mph__out_of_budget(x) : !x->stop);
         j++) {
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
            !(*seen >> cls & 1) &&
            (x->cfg.life == MPH_EVERY_CLASS ||
             x->cfg.checker == MPH_EVERY_CLASS) &&
            v.match != MPH_MATCH_ABSENT) {
            /* First state of this outcome here: the costly rules too. The
             * first check only read the image, so it is still as made. */
            *seen |= 1ull << cls;
            flags |= x->cfg.checker != MPH_EVERY_OFF ? MPH_ORACLE_CHECKER : 0;
            flags |= x->cfg.life != MPH_EVERY_OFF ? MPH_ORACLE_LIFE : 0;
            rc = mph_oracle_check(&oc, faultfs_vfs(img), g->m, e.prev, e.cur,
                                  flags, &v);
        }
        if (rc == MP_OK) {
            count(x, &e, &v);
            wl->states++;
            if (v.diff.rule != MPH_RULE_NONE) {
                rc = mph__violation(x, w, name, g, site, img, &v.diff, wl);
            } else if (continue_it(x, &e, site, &v, site_seed, j)) {
                /* The image as the oracle found it is gone (rule 6 may
                 * have changed it): the continuation rebuilds it from
                 * its pattern. */
                char *pat = strdup(faultfs_image_pattern(img));
                rc = pat ? mph__continue(x, w, name, g, site, pat, v.match, wl)
                         : MP_ENOMEM;
                free(pat);
            }
        }
        faultfs_free(img);
        progress(x, name, false);
        if (rc != MP_OK || v.diff.rule != MPH_RULE_NONE) {
            go_on = false; /* one violation per site is enough */
            break;
        }
    }
    if (rc == MP_OK && go_on && site->gap && x->cfg.damage) {
        rc = damage_site(x, w, name, g, site, fs, site_seed, wl);
    }
    faultfs_free(fs);
    return rc;
}

/*
 * At a gap (a clean file: every op done and closed), flip one bit in each
 * of cfg.damage copies of the durable image and judge what open makes of
 * it (mph_oracle_check_damaged).
 */
static int damage_site(struct mph_explorer *x, const struct mph_workload *w,
                       const char *name, const struct mph__golden *g,
                       const struct mph__site *site, faultfs *fs,
                       uint64_t site_seed, struct mph__wl *wl)
{
    struct mph_oracle_config oc;
    struct mph__expect e;
    const struct mph_state *cur = mph_model_state(g->m, (size_t)site->k);
    uint64_t pages = cur->page_count < 16 ? cur->page_count : 16;
    int rc = MP_OK;

    mph__expect_at(w, g, site, &e);
    mph__oracle_config(g, &e, &oc);
    for (unsigned t = 0;
         t < x->cfg.damage && rc == MP_OK && pages && !mph__out_of_budget(x);
         t++) {
        uint64_t r = mph__mix(mph__mix(site_seed, t), 0xd4);
        /* Headers and the first bitmap bytes: the start of a page. */
        uint64_t off = (t / 2 % pages) * g->ps + r % (t & 1 ? 8 : 256);
        unsigned char b, mask = 0;
        struct mph_verdict v;
        faultfs *img = NULL;
        /* Image 0 (nothing unsynced survived), by its pattern: an index
         * needs an exact count, which many dirty pages overflow. */
        rc = faultfs_image_from_pattern(fs, "", &img);
        if (rc == MP_OK) {
            rc = faultfs_file_read(img, MPH__PATH, false, off, &b, 1);
        }
        if (rc == MP_OK) {
            mask = mph__damage_mask(b, (unsigned)(r >> 32));
            b ^= mask;
            rc = faultfs_file_write(img, MPH__PATH, off, &b, 1);
        }
        if (rc == MP_ENOENT || rc == MP_EINVAL) {
            rc = MP_OK; /* no file, or shorter than that: nothing to hit */
            faultfs_free(img);
            continue;
        }
        if (rc == MP_OK) {
            rc = mph_oracle_check_damaged(&oc, faultfs_vfs(img), g->m,
                                          (size_t)site->k, &v);
        }
        if (rc == MP_OK) {
            x->st.states++;
            x->st.damaged++;
            wl->states++;
            if (v.diff.rule != MPH_RULE_NONE) {
                struct mph__site ds = *site;
                char what[sizeof(v.diff.what)];
                snprintf(what, sizeof(what), "%s", v.diff.what);
                mph_diff_clear(&v.diff);
                mph_diff_set(&v.diff, MPH_RULE_ATOMIC, MPH_ID_UNSET,
                             "byte %" PRIu64 " xor 0x%02x: %s", off, mask,
                             what);
                ds.damaged = true;
                ds.damage_off = off;
                ds.damage_mask = mask;
                rc = mph__violation(x, w, name, g, &ds, NULL, &v.diff, wl);
                faultfs_free(img);
                break;
            }
        }
        faultfs_free(img);
    }
    return rc;
}

unsigned char mph__damage_mask(unsigned char b, unsigned r)
{
    /* Two bits that differ: a bitmap byte keeps its population count, so
     * a free count beside it cannot notice; checksums must. */
    for (unsigned i = 0; i < 8; i++) {
        unsigned a = (r + i) % 8, c = (r / 8 + i + 1) % 8;
        if (a != c && ((b >> a) & 1) != ((b >> c) & 1)) {
            return (unsigned char)(1u << a | 1u << c);
        }
    }
    return (unsigned char)(1u << r % 8); /* 0x00 or 0xff: one bit */
}

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

/* The sites of a workload in time order: create's points, gap 0, op 0's
 * points, gap 1, ...; then every failure-capable call failing once, a sync
 * also with part or all of its range persisted. */
static int list_sites(const struct mph_explorer *x, const struct mph__golden *g,
                      struct mph__site **out, uint64_t *n)
{
    uint64_t cap = (g->nops ? g->op_end[g->nops - 1] : g->create_end) +
                   g->nops + 1 + 3 * g->ncalls + 1;
    struct mph__site *s = calloc((size_t)cap, sizeof(*s));
    uint64_t m = 0;
    *out = s;
    *n = 0;
    if (!s) {
        return MP_ENOMEM;
    }
    for (uint64_t k = 0, op = 0;;) {
        uint64_t end = op == 0 ? g->create_end : g->op_end[op - 1];
        if (k < end) {
            s[m++].k = k++;
        } else if (op <= g->nops) {
            if (x->cfg.gaps) {
                s[m].gap = true;
                s[m++].k = op;
            }
            op++;
        } else {
            break;
        }
    }
    for (uint64_t c = 1; x->cfg.faults && c <= g->ncalls; c++) {
        int kind = g->call_kind[c - 1];
        int last = kind == FAULTFS_CALL_SYNC || kind == FAULTFS_CALL_SYNC_FILE
                       ? FAULTFS_PERSIST_ALL
                       : FAULTFS_PERSIST_NONE;
        for (int persist = FAULTFS_PERSIST_NONE; persist <= last; persist++) {
            s[m].fault = true;
            s[m].k = c;
            s[m++].persist = persist;
        }
    }
    *n = m;
    return MP_OK;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/*
 * Visit order: index j goes to site (j * step) mod n, step about n/phi and
 * coprime to n, so the first m visits spread evenly over the workload (a
 * share that runs out leaves a sample, not a prefix).
 */
static uint64_t spread_step(uint64_t n)
{
    uint64_t step = n > 2 ? (uint64_t)((double)n * 0.6180339887) : 1;
    if (step == 0) {
        step = 1;
    }
    while (n > 1 && gcd(step, n) != 1) {
        step++;
    }
    return step;
}

static int ensure_seen(struct mph_explorer *x, size_t nops)
{
    size_t need = 2 * (nops + 2);
    if (need > x->seen_cap) {
        uint64_t *s = realloc(x->seen, need * sizeof(*s));
        if (!s) {
            return MP_ENOMEM;
        }
        x->seen = s;
        x->seen_cap = need;
    }
    memset(x->seen, 0, x->seen_cap * sizeof(*x->seen));
    return MP_OK;
}

/* Whether the workload's page_sizes directive (if any) lists ps. */
static bool page_size_ok(const struct mph_workload *w, size_t ps)
{
    const char *v = mph_workload_directive(w, "page_sizes");
    char *end;
    if (!v) {
        return true;
    }
    while (*v) {
        unsigned long long n = strtoull(v, &end, 0);
        if (end == v) {
            v++;
            continue;
        }
        if (*end == 'k' || *end == 'K') {
            n *= 1024;
            end++;
        }
        if (n == ps) {
            return true;
        }
        v = end;
    }
    return false;
}

int mph_explorer_run(struct mph_explorer *x, const struct mph_workload *w,
                     const char *name)
{
    struct mph__golden g;
    struct mph__site *sites = NULL;
    struct mph__wl *wl;
    uint64_t nsites = 0, step, base;
    double share = x->share;
    int rc;

    x->share = 0;
    x->st.workloads_total++;
    wl = wl_new(x, name, w->nops);
    if (!wl) {
        return MP_ENOMEM;
    }
    wl->hash = hash_name(name);
    snprintf(wl->cell, sizeof(wl->cell), "%s", x->in_cell ? x->cur.name : "");
    if (x->cfg.force_page_size && !page_size_ok(w, x->cfg.force_page_size)) {
        x->st.workloads_na++;
        wl->status = "n/a";
        return MP_OK;
    }
    /* Only the explorer's own limits skip a workload: one whose cell or
     * share is already spent still runs its first site (every build runs
     * every workload). */
    (void)mph__out_of_budget(x); /* sets x->stop on the explorer's limits */
    if (x->stop) {
        wl->status = "stopped";
        return MP_OK;
    }
    x->wl_deadline = share > 0 ? now() + share : 0;
    x->wl_stop = false;
    rc = ensure_seen(x, w->nops);
    if (rc != MP_OK) {
        return rc;
    }
    x->st.ops += w->nops;
    rc = mph__golden_run(&x->cfg, w, &g);
    if (rc != MP_OK) {
        mph__golden_free(&g);
        return rc;
    }
    x->st.workloads++;
    if (g.refused) {
        x->st.workloads_refused++;
        wl->status = "refused";
        mph__golden_free(&g);
        return MP_OK;
    }
    if (g.diff.rule != MPH_RULE_NONE) {
        /* The clean run already disagrees with the model: report that,
         * with the workload as reproducer, and explore nothing. */
        struct mph__site s;
        memset(&s, 0, sizeof(s));
        s.gap = true;
        s.k = g.nops;
        x->st.golden_failures++;
        wl->status = "complete";
        rc = mph__violation(x, w, name, &g, &s, NULL, &g.diff, wl);
        mph__golden_free(&g);
        return rc;
    }
    wl->points = g.nops ? g.op_end[g.nops - 1] : g.create_end;
    rc = list_sites(x, &g, &sites, &nsites);
    /* Shards split by the site's number in time order, whatever order
     * the sites are visited in. */
    base = x->site_seq;
    x->site_seq += nsites;
    for (uint64_t i = 0; i < nsites; i++) {
        if ((base + i) % x->cfg.nshards == x->cfg.shard) {
            wl->sites++;
        }
    }
    x->st.sites_total += wl->sites;
    step = spread_step(nsites);
    for (uint64_t j = 0; rc == MP_OK && j < nsites &&
                         (wl->sites_done ? !mph__out_of_budget(x) : !x->stop);
         j++) {
        uint64_t i = (j * step) % nsites;
        struct mph__site *s = &sites[i];
        if ((base + i) % x->cfg.nshards != x->cfg.shard) {
            continue;
        }
        if (s->fault) {
            x->st.fault_sites++;
        } else if (s->gap) {
            x->st.gaps++;
        } else {
            x->st.crash_points++;
        }
        rc = explore_site(x, w, name, &g, s, wl);
        wl->sites_done++;
        x->st.sites_done++;
        progress(x, name, false);
    }
    if (wl->sites_done < wl->sites) {
        wl->status = x->wl_stop ? "cut" : "stopped";
        x->st.workloads_cut += x->wl_stop ? 1 : 0;
    } else {
        wl->status = "complete";
    }
    x->wl_deadline = 0;
    x->wl_stop = false;
    x->st.seconds = now() - x->t0;
    free(sites);
    mph__golden_free(&g);
    return rc;
}

/* ---- the device matrix ---------------------------------------------- */

static bool pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

static int size_tok(const char *s, size_t len, uint64_t page, uint64_t *out)
{
    char buf[32];
    char *end;
    unsigned long long v;
    if (len == 0 || len >= sizeof(buf)) {
        return MP_EINVAL;
    }
    memcpy(buf, s, len);
    buf[len] = 0;
    if (strcmp(buf, "p") == 0) {
        *out = page;
        return page ? MP_OK : MP_EINVAL;
    }
    v = strtoull(buf, &end, 10);
    if (end == buf) {
        return MP_EINVAL;
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
        end++;
    }
    if (*end || !pow2(v) || v > ((uint64_t)1 << 20)) {
        return MP_EINVAL;
    }
    *out = v;
    return MP_OK;
}

static int add_cell(struct mph_cell *cells, size_t *n, const struct mph_cell *c)
{
    for (size_t i = 0; i < *n; i++) {
        const struct mph_cell *o = &cells[i];
        if (o->page_size == c->page_size && o->sector == c->sector &&
            o->fs_page == c->fs_page && o->garbage == c->garbage &&
            o->one_flush == c->one_flush) {
            return MP_OK; /* "page" equal to a listed size: once */
        }
    }
    if (*n >= MPH_MAX_CELLS) {
        return MP_EINVAL;
    }
    cells[(*n)++] = *c;
    return MP_OK;
}

/* Add geometry c once per mode in modes (two-barrier first). */
static int add_modes(struct mph_cell *cells, size_t *n, struct mph_cell c,
                     unsigned modes)
{
    for (int one = 0; one < 2; one++) {
        if (modes & (one ? MPH_MODE_ONE : MPH_MODE_TWO)) {
            c.one_flush = one != 0;
            if (add_cell(cells, n, &c) != MP_OK) {
                return MP_EINVAL;
            }
        }
    }
    return MP_OK;
}

int mph_modes_parse(const char *s, unsigned *modes)
{
    if (strcmp(s, "two") == 0) {
        *modes = MPH_MODE_TWO;
    } else if (strcmp(s, "one") == 0) {
        *modes = MPH_MODE_ONE;
    } else if (strcmp(s, "both") == 0) {
        *modes = MPH_MODE_BOTH;
    } else {
        return MP_EINVAL;
    }
    return MP_OK;
}

/* Whether field f (len l) is the word kw. */
static bool word_is(const char *f, size_t l, const char *kw)
{
    return l == strlen(kw) && memcmp(f, kw, l) == 0;
}

int mph_cells_parse(const char *spec, struct mph_cell *cells, size_t *n)
{
    return mph_cells_parse_modes(spec, MPH_MODE_BOTH, cells, n);
}

int mph_cells_parse_modes(const char *spec, unsigned modes,
                          struct mph_cell *cells, size_t *n)
{
    *n = 0;
    if (!(modes & MPH_MODE_BOTH)) {
        return MP_EINVAL;
    }
    if (strcmp(spec, "full") == 0) {
        static const uint32_t pages[] = { 1024, 4096, 65536 };
        for (size_t p = 0; p < 3; p++) {
            uint32_t wbs[2] = { 4096, pages[p] };
            for (size_t b = 0; b < 2; b++) {
                uint32_t secs[4] = { 512, 1024, 4096, pages[p] };
                for (size_t k = 0; k < 4; k++) {
                    struct mph_cell c;
                    memset(&c, 0, sizeof(c));
                    c.page_size = pages[p];
                    c.sector = secs[k];
                    c.fs_page = wbs[b];
                    c.garbage = true;
                    if (c.sector <= c.fs_page &&
                        add_modes(cells, n, c, modes) != MP_OK) {
                        return MP_EINVAL;
                    }
                }
            }
        }
        return MP_OK;
    }
    while (*spec) {
        const char *end = strchr(spec, ',');
        const char *f[6];
        size_t len = end ? (size_t)(end - spec) : strlen(spec), nf = 0;
        uint64_t v[3];
        unsigned cm = modes;
        struct mph_cell c;
        f[nf++] = spec;
        for (size_t i = 0; i < len && nf < 6; i++) {
            if (spec[i] == '/') {
                f[nf++] = spec + i + 1;
            }
        }
        if (nf < 3 || nf > 5) {
            return MP_EINVAL;
        }
        memset(&c, 0, sizeof(c));
        c.garbage = true;
        for (size_t i = 0; i < 3; i++) {
            const char *e2 = i + 1 < nf ? f[i + 1] - 1 : spec + len;
            if (size_tok(f[i], (size_t)(e2 - f[i]), i ? v[0] : 0, &v[i]) !=
                MP_OK) {
                return MP_EINVAL;
            }
        }
        /* Then optionally "nogarbage", optionally a mode, in that order. */
        for (size_t i = 3; i < nf; i++) {
            const char *e2 = i + 1 < nf ? f[i + 1] - 1 : spec + len;
            size_t l = (size_t)(e2 - f[i]);
            if (i == 3 && word_is(f[i], l, "nogarbage")) {
                c.garbage = false;
            } else if (i + 1 == nf && word_is(f[i], l, "two")) {
                cm = MPH_MODE_TWO;
            } else if (i + 1 == nf && word_is(f[i], l, "one")) {
                cm = MPH_MODE_ONE;
            } else {
                return MP_EINVAL;
            }
        }
        c.page_size = (size_t)v[0];
        c.sector = (uint32_t)v[1];
        c.fs_page = (uint32_t)v[2];
        if (c.page_size < 1024 || c.sector > c.fs_page ||
            add_modes(cells, n, c, cm) != MP_OK) {
            return MP_EINVAL;
        }
        spec += len;
        if (*spec == ',') {
            spec++;
        }
    }
    return *n ? MP_OK : MP_EINVAL;
}

static void size_name(uint64_t v, char *buf, size_t len)
{
    if (v >= 1024 && v % 1024 == 0) {
        snprintf(buf, len, "%" PRIu64 "k", v / 1024);
    } else {
        snprintf(buf, len, "%" PRIu64, v);
    }
}

void mph_cell_name(const struct mph_cell *c, char *buf, size_t len)
{
    char a[24], b[24], d[24];
    if (c->page_size) {
        size_name(c->page_size, a, sizeof(a));
    } else {
        snprintf(a, sizeof(a), "own"); /* each workload's page_size */
    }
    size_name(c->sector, b, sizeof(b));
    size_name(c->fs_page, d, sizeof(d));
    snprintf(buf, len, "%s/%s/%s%s/%s", a, b, d, c->garbage ? "" : "/nogarbage",
             c->one_flush ? "one" : "two");
}

/* a - b for every counter (the cell's share of the totals). */
static void stats_sub(struct mph_explore_stats *out,
                      const struct mph_explore_stats *a,
                      const struct mph_explore_stats *b)
{
#define SUB(f) out->f = a->f - b->f
    SUB(workloads);
    SUB(ops);
    SUB(crash_points);
    SUB(gaps);
    SUB(fault_sites);
    SUB(sites_exhaustive);
    SUB(sites_sampled);
    SUB(states);
    SUB(violations);
    for (int r = 0; r < MPH_RULE__COUNT; r++) {
        SUB(by_rule[r]);
    }
    SUB(fallback);
    SUB(fallback_torn);
    SUB(fallback_bad);
    SUB(fallback_one_flush);
    SUB(one_flush);
    SUB(protected_old);
    SUB(protected_new);
    SUB(rolled_back);
    SUB(held);
    SUB(absent);
    SUB(checker_runs);
    SUB(life_runs);
    SUB(golden_failures);
    SUB(workloads_total);
    SUB(workloads_na);
    SUB(workloads_refused);
    SUB(workloads_cut);
    SUB(sites_total);
    SUB(sites_done);
    SUB(continuations);
    SUB(continuations_switch);
    SUB(sites2);
    SUB(states2);
    SUB(violations2);
    SUB(damaged);
    SUB(seconds);
#undef SUB
}

void mph_explorer_end_cell(struct mph_explorer *x)
{
    struct mph_cell_result *r;
    const struct mph_explore_stats *s;
    if (!x->in_cell) {
        return;
    }
    x->in_cell = false;
    x->st.seconds = now() - x->t0;
    stats_sub(&x->cur.st, &x->st, &x->at_cell_start);
    s = &x->cur.st;
    if (s->workloads_refused && s->workloads_refused == s->workloads) {
        x->cur.status = "refused";
    } else if (x->stop) {
        x->cur.status = x->st.stopped;
    } else if (x->cell_stop || s->workloads_cut) {
        x->cur.status = "time";
    } else {
        x->cur.status = "complete";
    }
    x->cur.st.stopped = x->cur.status;
    x->cell_deadline = 0;
    x->cell_stop = false;
    if (x->ncells == x->cells_cap) {
        size_t cap = x->cells_cap ? 2 * x->cells_cap : 16;
        r = realloc(x->cells, cap * sizeof(*r));
        if (!r) {
            return; /* the totals still hold it */
        }
        x->cells = r;
        x->cells_cap = cap;
    }
    x->cells[x->ncells++] = x->cur;
}

void mph_explorer_begin_cell(struct mph_explorer *x, const struct mph_cell *c,
                             double seconds)
{
    mph_explorer_end_cell(x);
    memset(&x->cur, 0, sizeof(x->cur));
    x->cur.cell = *c;
    mph_cell_name(c, x->cur.name, sizeof(x->cur.name));
    x->cfg.force_page_size = c->page_size;
    if (c->page_size) {
        x->cfg.page_size = c->page_size;
    }
    x->cfg.sector = c->sector;
    x->cfg.fs_page = c->fs_page;
    x->cfg.garbage = c->garbage;
    x->cfg.one_flush = c->one_flush;
    x->st.seconds = now() - x->t0;
    x->at_cell_start = x->st;
    x->cell_deadline = seconds > 0 ? now() + seconds : 0;
    x->cell_stop = false;
    x->in_cell = true;
}

const struct mph_cell_result *mph_explorer_cells(const struct mph_explorer *x,
                                                 size_t *n)
{
    *n = x->ncells;
    return x->cells;
}
