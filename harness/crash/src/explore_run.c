/*
 * explore_run.c - the runs the explorer makes: the clean (golden) run with
 * the model, and the reruns that crash at one site.
 *
 * Crash-point numbers depend only on the sequence of seam calls, and the
 * core is deterministic, so a rerun with the same seed passes the same
 * points as the golden run until it crashes; each rerun checks that it did
 * (rule "determinism"), so a nondeterministic core or harness is reported
 * instead of silently exploring the wrong states.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "explore_internal.h"
#include "mph/exec.h"

int mph__fs_new(const struct mph_explore_config *cfg, size_t trace_max,
                faultfs **out)
{
    struct faultfs_config fc;
    faultfs_config_init(&fc);
    fc.seed = cfg->seed;
    fc.page_size = cfg->fs_page;
    fc.sector_size = cfg->sector;
    fc.garbage = cfg->garbage;
    fc.trace_max = trace_max;
    return faultfs_new(&fc, out);
}

unsigned mph__mode_flags(const struct mph_explore_config *cfg)
{
    return cfg->one_flush ? MP_OPEN_ONE_FLUSH : 0;
}

void mph__oracle_config(const struct mph__golden *g,
                        const struct mph__expect *e,
                        struct mph_oracle_config *oc)
{
    memset(oc, 0, sizeof(*oc));
    oc->path = MPH__PATH;
    oc->page_size = g->ps;
    oc->open_flags = e->open_flags;
}

size_t mph__page_size(const struct mph_workload *w, size_t dflt)
{
    const char *v = mph_workload_directive(w, "page_size");
    return v ? (size_t)strtoull(v, NULL, 0) : dflt;
}

void mph__golden_free(struct mph__golden *g)
{
    mph_model_free(g->m);
    free(g->op_end);
    free(g->op_rc);
    free(g->call_kind);
    free(g->op_flags);
    memset(g, 0, sizeof(*g));
}

/* The kinds of the failure-capable calls, in order, from the trace. */
static int record_calls(const faultfs *fs, struct mph__golden *g)
{
    size_t n = faultfs_trace_count(fs);
    g->call_kind = malloc((n + 1) * sizeof(*g->call_kind));
    if (!g->call_kind) {
        return MP_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct faultfs_trace_entry te;
        if (faultfs_trace_get(fs, i, &te) == MP_OK && te.point != UINT64_MAX) {
            g->call_kind[g->ncalls++] = te.call;
        }
    }
    return MP_OK;
}

/* The disk the run is on now: the restarted one after a crash op. */
static faultfs *dev(faultfs *fs, const struct mph__restart *r)
{
    return r && r->img ? r->img : fs;
}

/* The crash op's restart: crash the first machine, rebuild its image. */
static int restart(void *ctx, const struct mp_vfs **vfs)
{
    struct mph__restart *r = ctx;
    struct mph__site s = r->site1;
    struct mph_diff d;
    int rc;

    faultfs_free(r->img);
    faultfs_free(r->fs1);
    r->img = r->fs1 = NULL;
    rc = mph__crash_run(r->cfg, r->w1, &r->g1, &s, &r->fs1, &d);
    if (rc != MP_OK) {
        return rc;
    }
    if (d.rule != MPH_RULE_NONE || !r->fs1) {
        return MP_EINVAL; /* the first crash no longer happens */
    }
    rc = faultfs_image_from_pattern(r->fs1, r->pattern1, &r->img);
    if (rc == MP_OK && r->armed) {
        rc = faultfs_arm_crash(r->img, r->arm);
    }
    if (rc == MP_OK) {
        *vfs = faultfs_vfs(r->img);
    }
    return rc;
}

static void find_crash_op(const struct mph_workload *w, struct mph__golden *g)
{
    g->crash_op = -1;
    for (size_t i = 0; i < w->nops && g->crash_op < 0; i++) {
        if (w->ops[i].kind == MPH_OP_CRASH) {
            g->crash_op = (long)i;
        }
    }
}

int mph__golden_run(const struct mph_explore_config *cfg,
                    const struct mph_workload *w, struct mph__golden *g)
{
    return mph__golden_run2(cfg, w, NULL, g);
}

int mph__golden_run2(const struct mph_explore_config *cfg,
                     const struct mph_workload *w, struct mph__restart *r,
                     struct mph__golden *g)
{
    struct mph_exec_config ec;
    struct mph_exec *e = NULL;
    faultfs *fs = NULL;
    int rc, create_rc = MP_OK;

    memset(g, 0, sizeof(*g));
    mph_diff_clear(&g->diff);
    g->failed_op = -1;
    find_crash_op(w, g);
    g->ps = cfg->force_page_size ? cfg->force_page_size
                                 : mph__page_size(w, cfg->page_size);
    if (r) {
        faultfs_free(r->img);
        r->img = NULL;
        r->armed = false;
    }
    g->op_end = calloc(w->nops + 1, sizeof(*g->op_end));
    g->op_rc = calloc(w->nops + 1, sizeof(*g->op_rc));
    g->op_flags = calloc(w->nops + 1, sizeof(*g->op_flags));
    g->flags0 = mph__mode_flags(cfg);
    if (!g->op_end || !g->op_rc || !g->op_flags) {
        rc = MP_ENOMEM;
        goto out;
    }
    rc = mph_model_new(g->ps, MPH_DEFAULT_RESERVE, &g->m);
    if (rc == MP_EINVAL) {
        mph_diff_set(&g->diff, MPH_RULE_RUN, MPH_ID_UNSET, "bad page size %zu",
                     g->ps);
        rc = MP_OK;
        goto out;
    }
    if (rc == MP_OK) {
        /* The trace tells which calls the fault sites may fail. */
        rc = mph__fs_new(cfg, (size_t)1 << 20, &fs);
    }
    memset(&ec, 0, sizeof(ec));
    ec.vfs = fs ? faultfs_vfs(fs) : NULL;
    ec.path = MPH__PATH;
    ec.page_size = g->ps;
    ec.open_flags = g->flags0;
    if (r) {
        ec.crash = restart;
        ec.crash_ctx = r;
    }
    if (rc == MP_OK) {
        rc = mph_exec_new(w, &ec, g->m, &e);
    }
    if (rc != MP_OK) {
        goto out;
    }
    rc = mph_exec_create(e, &create_rc, &g->diff);
    if (rc == MP_OK && create_rc == MP_EDEVICE) {
        /* The format refuses this device, as FORMAT.md allows: exactly
         * this code, nothing else, makes a cell "refused at create". */
        g->refused = true;
        goto out;
    }
    if (rc == MP_OK && create_rc != MP_OK) {
        mph_diff_set(&g->diff, MPH_RULE_RUN, MPH_ID_UNSET, "create failed: %s",
                     mp_error_name(create_rc));
    }
    g->create_end = faultfs_point_count(fs);
    while (rc == MP_OK && g->diff.rule == MPH_RULE_NONE && g->nops < w->nops) {
        rc = mph_exec_step(e, &g->op_rc[g->nops], &g->diff);
        if (rc == MP_EINVAL) {
            mph_diff_set(&g->diff, MPH_RULE_RUN, MPH_ID_UNSET,
                         "no pager left to run on");
            rc = MP_OK;
        }
        g->op_end[g->nops] = faultfs_point_count(dev(fs, r));
        g->op_flags[g->nops] = mph_exec_open_flags(e);
        if (g->diff.rule != MPH_RULE_NONE) {
            g->failed_op = (long)g->nops;
        }
        g->nops++;
    }
    if (rc == MP_OK) {
        rc = record_calls(fs, g);
    }
out:
    mph_exec_free(e);
    faultfs_free(fs);
    return rc;
}

static uint64_t op_start(const struct mph__golden *g, size_t i)
{
    if (g->crash_op >= 0 && (long)i == g->crash_op) {
        return 0; /* the restarted disk counts from 0 */
    }
    return i == 0 ? g->create_end : g->op_end[i - 1];
}

/* Op i in flight: S_i or S_{i+1} (model indices; S_0 is after create). */
static void in_flight(const struct mph_workload *w, const struct mph__golden *g,
                      size_t i, struct mph__expect *e)
{
    const struct mph_op *op = &w->ops[i];
    e->op = (long)i;
    e->prev = mph_model_state(g->m, i);
    e->cur = mph_model_state(g->m, i + 1);
    if (g->op_rc[i] == MP_OK &&
        (op->kind == MPH_OP_PCOMMIT ||
         (op->kind == MPH_OP_PWRITE && op->commit)) &&
        !mph_state_equal(g->m, e->prev, e->cur)) {
        e->flags |= MPH_ORACLE_PROTECTED_COMMIT;
    }
}

static void expect_at(const struct mph_workload *w, const struct mph__golden *g,
                      const struct mph__site *site, struct mph__expect *e);

void mph__expect_at(const struct mph_workload *w, const struct mph__golden *g,
                    const struct mph__site *site, struct mph__expect *e)
{
    expect_at(w, g, site, e);
    e->open_flags = e->op >= 0 && (size_t)e->op < g->nops && g->op_flags
                        ? g->op_flags[e->op]
                        : g->flags0;
    if (e->op >= 0 && (size_t)e->op >= g->nops && g->nops && g->op_flags) {
        e->open_flags = g->op_flags[g->nops - 1];
    }
}

static void expect_at(const struct mph_workload *w, const struct mph__golden *g,
                      const struct mph__site *site, struct mph__expect *e)
{
    memset(e, 0, sizeof(*e));
    if (site->fault) {
        if (site->affected < 0) {
            e->op = -1;
            e->cur = mph_model_state(g->m, 0);
            e->flags = MPH_ORACLE_ALLOW_ABSENT;
        } else if ((size_t)site->affected < g->nops) {
            /* The op failed (rule "fault" checks that): pager.h promises
             * the disk then holds the state before the call, whatever the
             * failed sync wrote (the previous record put back, a one-flush
             * copy invalidated), and the crash comes after that. */
            in_flight(w, g, (size_t)site->affected, e);
            e->cur = e->prev;
            e->prev = NULL;
            e->failed = true;
        } else {
            e->op = (long)g->nops - 1;
            e->cur = mph_model_state(g->m, g->nops);
        }
        return;
    }
    if (site->gap) {
        e->op = (long)site->k - 1;
        e->cur = mph_model_state(g->m, (size_t)site->k);
        return;
    }
    if (!site->second && site->k < g->create_end) {
        e->op = -1;
        e->cur = mph_model_state(g->m, 0);
        e->flags = MPH_ORACLE_ALLOW_ABSENT;
        return;
    }
    for (size_t i = site->second ? (size_t)g->crash_op : 0; i < g->nops; i++) {
        if (site->k >= op_start(g, i) && site->k < g->op_end[i]) {
            in_flight(w, g, i, e);
            return;
        }
    }
    e->op = (long)g->nops;
}

/* A fault site: fail the site's call, run until an op notices. */
static int inject(faultfs *fs, const struct mph__site *site)
{
    struct faultfs_fault f;
    memset(&f, 0, sizeof(f));
    f.call = FAULTFS_CALL_ANY;
    f.nth = site->k;
    f.persist = site->persist;
    return faultfs_inject(fs, &f);
}

/*
 * After an injected fault broke op i: the op failed, the pager still
 * equals the state before the op (memory tells the truth, pager.h), and
 * after a failed sync it refuses every further change until reopened.
 */
static int check_no_pretending(const struct mph__golden *g, struct mph_exec *e,
                               size_t i, int op_rc, struct mph_diff *d)
{
    mp_pager *p = mph_exec_pager(e);
    int code = 0, os = 0, rc;
    mp_pgno pg;

    if (op_rc == MP_OK) {
        mph_diff_set(d, MPH_RULE_FAULT, MPH_ID_UNSET,
                     "op %zu returned MP_OK under an injected I/O error "
                     "(the golden run: %s)",
                     i, mp_error_name(g->op_rc[i]));
        return MP_OK;
    }
    if (!p) {
        return MP_OK; /* the op was a reopen, and open failed */
    }
    mp_pager_last_failure(p, &code, &os);
    if (code != 0) {
        rc = mp_pager_alloc(p, &pg);
        if (rc != MP_EUNAVAILABLE) {
            mph_diff_set(d, MPH_RULE_FAULT, MPH_ID_UNSET,
                         "after op %zu failed with %s the pager reports "
                         "failure %s but alloc returned %s, not "
                         "MP_EUNAVAILABLE",
                         i, mp_error_name(op_rc), mp_error_name(code),
                         mp_error_name(rc));
            return MP_OK;
        }
    }
    rc = mph_state_compare(g->m, mph_model_state(g->m, i), p, MPH_CMP_VOLATILE,
                           d);
    if (rc == MP_OK && d->rule != MPH_RULE_NONE) {
        char what[sizeof(d->what)];
        memcpy(what, d->what, sizeof(what));
        d->rule = MPH_RULE_NONE;
        mph_diff_set(d, MPH_RULE_FAULT, d->id,
                     "after op %zu failed with %s the pager (%s) is not in "
                     "the state before the op: %s",
                     i, mp_error_name(op_rc), code ? "unavailable" : "usable",
                     what);
    }
    return rc;
}

static void note_fault(const faultfs *fs, struct mph__site *site)
{
    struct faultfs_stats st;
    size_t n = faultfs_trace_count(fs);
    faultfs_stats(fs, &st);
    site->fired = st.faults_injected > 0;
    site->call = FAULTFS_CALL_NONE;
    while (site->fired && n-- > 0) {
        struct faultfs_trace_entry te;
        if (faultfs_trace_get(fs, n, &te) == MP_OK && te.fault) {
            site->call = te.call;
            break;
        }
    }
}

static int crash_run(const struct mph_explore_config *cfg,
                     const struct mph_workload *w, const struct mph__golden *g,
                     struct mph__restart *r, struct mph__site *site,
                     faultfs **fsp, struct mph_diff *d);

int mph__crash_run(const struct mph_explore_config *cfg,
                   const struct mph_workload *w, const struct mph__golden *g,
                   struct mph__site *site, faultfs **fsp, struct mph_diff *d)
{
    return crash_run(cfg, w, g, NULL, site, fsp, d);
}

int mph__crash_run2(struct mph__restart *r, const struct mph_workload *w2,
                    const struct mph__golden *g2, struct mph__site *site,
                    faultfs **fsp, struct mph_diff *d)
{
    faultfs_free(r->img);
    r->img = NULL;
    r->armed = !site->gap;
    r->arm = site->k;
    return crash_run(r->cfg, w2, g2, r, site, fsp, d);
}

static int crash_run(const struct mph_explore_config *cfg,
                     const struct mph_workload *w, const struct mph__golden *g,
                     struct mph__restart *r, struct mph__site *site,
                     faultfs **fsp, struct mph_diff *d)
{
    struct mph_exec_config ec;
    struct mph_exec *e = NULL;
    faultfs *fs = NULL;
    int rc, op_rc = MP_OK, create_rc = MP_OK;
    uint64_t stop_after = site->gap ? site->k : g->nops;

    *fsp = NULL;
    mph_diff_clear(d);
    site->fired = false;
    site->affected = (long)g->nops;
    rc = mph__fs_new(cfg, 64, &fs);
    if (rc != MP_OK) {
        return rc;
    }
    if (site->fault) {
        rc = inject(fs, site);
    } else if (!site->gap && !site->second) {
        rc = faultfs_arm_crash(fs, site->k);
    }
    if (rc != MP_OK) {
        goto out;
    }
    memset(&ec, 0, sizeof(ec));
    ec.vfs = faultfs_vfs(fs);
    ec.path = MPH__PATH;
    ec.page_size = g->ps;
    ec.open_flags = g->flags0;
    if (r) {
        ec.crash = restart;
        ec.crash_ctx = r;
    }
    rc = mph_exec_new(w, &ec, NULL, &e);
    if (rc != MP_OK) {
        goto out;
    }
    rc = mph_exec_create(e, &create_rc, d);
    if (rc != MP_OK) {
        goto out;
    }
    if (site->fault && create_rc != MP_OK) {
        site->affected = -1; /* create failed: no file, or S_0 */
        stop_after = 0;
    }
    if (!site->fault && !faultfs_crashed(fs) &&
        faultfs_point_count(fs) != g->create_end) {
        mph_diff_set(d, MPH_RULE_DETERMINISM, MPH_ID_UNSET,
                     "create passed %" PRIu64 " crash points, the golden "
                     "run %" PRIu64,
                     faultfs_point_count(fs), g->create_end);
    }
    while (d->rule == MPH_RULE_NONE && !faultfs_crashed(dev(fs, r)) &&
           mph_exec_next(e) < stop_after) {
        size_t i = mph_exec_next(e);
        rc = mph_exec_step(e, &op_rc, d);
        if (rc == MP_ENOMEM) {
            goto out;
        }
        rc = MP_OK;
        if (faultfs_crashed(dev(fs, r))) {
            break;
        }
        if (site->fault && op_rc != g->op_rc[i]) {
            /* The op the fault broke: stop right after it. */
            site->affected = (long)i;
            rc = check_no_pretending(g, e, i, op_rc, d);
            break;
        }
        if (op_rc != g->op_rc[i] ||
            (!site->fault && faultfs_point_count(dev(fs, r)) != g->op_end[i])) {
            mph_diff_set(d, MPH_RULE_DETERMINISM, MPH_ID_UNSET,
                         "rerun of op %zu returned %s after %" PRIu64
                         " crash points; the golden run %s after %" PRIu64,
                         i, mp_error_name(op_rc),
                         faultfs_point_count(dev(fs, r)),
                         mp_error_name(g->op_rc[i]), g->op_end[i]);
        }
    }
    if (site->fault) {
        note_fault(fs, site);
        if (!site->fired || rc != MP_OK || d->rule != MPH_RULE_NONE) {
            goto out;
        }
    }
    if (d->rule == MPH_RULE_NONE && site->second && !(r && r->img)) {
        mph_diff_set(d, MPH_RULE_DETERMINISM, MPH_ID_UNSET,
                     "the run never reached its crash op");
    } else if (d->rule == MPH_RULE_NONE && (site->gap || site->fault)) {
        /* Close first: a crash now keeps only what reached the disk. */
        mph_exec_close(e);
        rc = faultfs_crash_now(dev(fs, r));
    } else if (d->rule == MPH_RULE_NONE && !faultfs_crashed(dev(fs, r))) {
        mph_diff_set(d, MPH_RULE_DETERMINISM, MPH_ID_UNSET,
                     "crash point %" PRIu64 " was never reached (%" PRIu64
                     " passed)",
                     site->k, faultfs_point_count(dev(fs, r)));
    }
out:
    /* The pager unwinds on the dead device; closing it is all that works. */
    mph_exec_free(e);
    if (rc == MP_OK && d->rule == MPH_RULE_NONE &&
        (!site->fault || site->fired)) {
        if (r && r->img) {
            /* The second crash happened on the restarted disk. */
            *fsp = r->img;
            r->img = NULL;
            faultfs_free(fs);
        } else {
            *fsp = fs;
        }
    } else {
        faultfs_free(fs);
    }
    return rc;
}

static void sanitize(char *s)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r') {
            *s = ' ';
        }
    }
}

static void file_part(const char *name, char *out, size_t len)
{
    const char *base = strrchr(name, '/');
    size_t n = 0;
    base = base ? base + 1 : name;
    for (; *base && n + 1 < len; base++) {
        char c = *base;
        out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_'
                       ? c
                       : '_';
    }
    out[n] = 0;
}

/* Set directive key to a formatted value unless rc is already an error. */
static int setd(struct mph_workload *r, int rc, const char *key,
                const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    if (rc != MP_OK) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    sanitize(buf);
    return mph_workload_set_directive(r, key, buf);
}

static const char *const persist_names[] = { "none", "part", "all" };

const char *mph__persist_name(int persist)
{
    return persist >= 0 && persist < 3 ? persist_names[persist] : "?";
}

int mph__persist_parse(const char *s)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, persist_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

void mph__site_name(const struct mph__site *site, char sep, char *buf,
                    size_t len)
{
    if (site->fault) {
        snprintf(buf, len, "fault%c%" PRIu64 "%c%s", sep, site->k, sep,
                 mph__persist_name(site->persist));
    } else {
        snprintf(buf, len, "%s%c%" PRIu64, site->gap ? "gap" : "point", sep,
                 site->k);
    }
}

int mph__write_repro(const struct mph_explore_config *cfg,
                     const struct mph_workload *w, const char *name,
                     const struct mph__golden *g, const struct mph__site *site,
                     const char *pattern, const struct mph_diff *d, char *path,
                     size_t pathlen)
{
    struct mph_workload *r = NULL;
    struct mph__expect e;
    char base[200], sname[64];
    size_t keep;
    FILE *f;
    int rc;

    mph__expect_at(w, g, site, &e);
    keep = site->gap ? (size_t)site->k : (size_t)(e.op + 1);
    rc = mph_workload_prefix(w, keep, &r);
    if (rc != MP_OK) {
        return rc;
    }
    rc = setd(r, rc, "page_size", "%zu", g->ps);
    rc = setd(r, rc, "repro.workload", "%s", name);
    rc = setd(r, rc, "repro.seed", "%" PRIu64, cfg->seed);
    rc = setd(r, rc, "repro.fs_page", "%u", (unsigned)cfg->fs_page);
    rc = setd(r, rc, "repro.sector", "%u", (unsigned)cfg->sector);
    rc = setd(r, rc, "repro.garbage", "%d", cfg->garbage ? 1 : 0);
    rc = setd(r, rc, "repro.mode", "%s", cfg->one_flush ? "one" : "two");
    mph__site_name(site, ' ', sname, sizeof(sname));
    rc = setd(r, rc, "repro.site", "%s", sname);
    rc = setd(r, rc, "repro.pattern", "%s", pattern ? pattern : "");
    if (site->damaged) {
        rc = setd(r, rc, "repro.damage", "%" PRIu64 " 0x%02x", site->damage_off,
                  site->damage_mask);
    }
    if (site->second) {
        /* The first crash, which the workload's crash op stands for. */
        rc = setd(r, rc, "repro.first", "%s", site->first);
        rc = setd(r, rc, "repro.first_pattern", "%s",
                  site->first_pattern ? site->first_pattern : "");
    }
    rc = setd(r, rc, "repro.rule", "%d %s", d->rule, mph_rule_name(d->rule));
    rc = setd(r, rc, "repro.what", "%s", d->what);
    if (rc != MP_OK) {
        mph_workload_free(r);
        return rc;
    }
    if (mkdir(cfg->repro_dir, 0777) != 0 && errno != EEXIST) {
        mph_workload_free(r);
        path[0] = 0;
        return MP_EIO;
    }
    file_part(name, base, sizeof(base));
    mph__site_name(site, '-', sname, sizeof(sname));
    if (site->second) {
        char first[64];
        snprintf(first, sizeof(first), "%s", site->first);
        for (char *c = first; *c; c++) {
            *c = *c == ' ' ? '-' : *c;
        }
        snprintf(path, pathlen, "%s/%s-%s-then-%s%s.wl", cfg->repro_dir, base,
                 first, sname, cfg->one_flush ? "-one" : "");
    } else {
        snprintf(path, pathlen, "%s/%s-%s%s%s.wl", cfg->repro_dir, base, sname,
                 site->damaged ? "-damaged" : "", cfg->one_flush ? "-one" : "");
    }
    f = fopen(path, "w");
    if (!f) {
        mph_workload_free(r);
        path[0] = 0;
        return MP_EIO;
    }
    fprintf(f, "# mp-explore reproducer: mp-explore --replay %s\n", path);
    rc = mph_workload_print(r, f);
    if (fclose(f) != 0) {
        rc = MP_EIO;
    }
    mph_workload_free(r);
    return rc;
}
