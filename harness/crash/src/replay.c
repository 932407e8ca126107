/*
 * replay.c - turning a reproducer back into its failure: the workload it
 * carries, the faultfs seed and geometry, the site and the tear pattern.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore_internal.h"

static bool num(const struct mph_workload *w, const char *key, uint64_t *v)
{
    const char *s = mph_workload_directive(w, key);
    char *end;
    if (!s) {
        return false;
    }
    *v = strtoull(s, &end, 0);
    return end != s;
}

static bool parse_site(const char *s, struct mph__site *site);

/* The crash image a reproducer's tear pattern names, also written to
 * image_path when one is given (an image with no file is no error). */
static int pattern_image(faultfs *fs, const char *pattern,
                         const char *image_path, struct mph_verdict *v,
                         faultfs **img)
{
    int rc = faultfs_image_from_pattern(fs, pattern ? pattern : "", img);
    if (rc != MP_OK) {
        snprintf(v->diff.what, sizeof(v->diff.what),
                 "the tear pattern does not fit this crash: %s",
                 mp_error_name(rc));
        return rc;
    }
    if (image_path) {
        rc = faultfs_write_file(*img, MPH__PATH, image_path);
        if (rc != MP_OK && rc != MP_ENOENT) {
            return rc;
        }
    }
    return MP_OK;
}

/* A reproducer of a second crash: the workload holds the crash op, the
 * first crash is in repro.first and repro.first_pattern. */
static int replay_two(const struct mph_explore_config *cfg,
                      const struct mph_workload *w2, struct mph__site *site,
                      const char *image_path, struct mph_verdict *v)
{
    const char *first = mph_workload_directive(w2, "repro.first");
    const char *p1 = mph_workload_directive(w2, "repro.first_pattern");
    const char *p2 = mph_workload_directive(w2, "repro.pattern");
    struct mph_oracle_config oc;
    struct mph__restart r;
    struct mph__golden g2;
    struct mph__site s1;
    struct mph__expect e;
    faultfs *fs = NULL, *img = NULL;
    int rc;

    if (!parse_site(first, &s1) || s1.fault || site->fault) {
        snprintf(v->diff.what, sizeof(v->diff.what),
                 "bad repro.first '%s' (a point or a gap)", first);
        return MP_EINVAL;
    }
    site->second = true;
    site->first = first;
    site->first_pattern = p1;
    rc = mph__restart_init(cfg, w2, &s1, p1 ? p1 : "", &r, &g2);
    if (rc != MP_OK) {
        goto out;
    }
    if (g2.diff.rule != MPH_RULE_NONE) {
        v->diff = g2.diff; /* life after the first crash already fails */
        goto out;
    }
    if (g2.crash_op < 0) {
        snprintf(v->diff.what, sizeof(v->diff.what),
                 "a two-crash reproducer needs a crash op");
        rc = MP_EINVAL;
        goto out;
    }
    if ((site->gap &&
         (site->k > g2.nops || site->k <= (uint64_t)g2.crash_op)) ||
        (!site->gap && site->k >= g2.op_end[g2.nops - 1])) {
        snprintf(v->diff.what, sizeof(v->diff.what),
                 "the workload has no second-crash site '%s'",
                 mph_workload_directive(w2, "repro.site"));
        rc = MP_EINVAL;
        goto out;
    }
    rc = mph__crash_run2(&r, w2, &g2, site, &fs, &v->diff);
    if (rc != MP_OK || v->diff.rule != MPH_RULE_NONE) {
        goto out;
    }
    rc = pattern_image(fs, p2, image_path, v, &img);
    if (rc != MP_OK) {
        goto out;
    }
    mph__expect_at(w2, &g2, site, &e);
    mph__oracle_config(&g2, &e, &oc);
    rc = mph_oracle_check(&oc, faultfs_vfs(img), g2.m, e.prev, e.cur,
                          e.flags | MPH_ORACLE_CHECKER | MPH_ORACLE_LIFE, v);
out:
    faultfs_free(img);
    faultfs_free(fs);
    mph__restart_free(&r);
    mph__golden_free(&g2);
    return rc;
}

/* "point 17", "gap 3" or "fault 12 part" into a site. */
static bool parse_site(const char *s, struct mph__site *site)
{
    char word[16];
    memset(site, 0, sizeof(*site));
    if (s && sscanf(s, "fault %" SCNu64 " %15s", &site->k, word) == 2) {
        site->fault = true;
        site->persist = mph__persist_parse(word);
        return site->persist >= 0;
    }
    if (s && sscanf(s, "gap %" SCNu64, &site->k) == 1) {
        site->gap = true;
        return true;
    }
    return s && sscanf(s, "point %" SCNu64, &site->k) == 1;
}

int mph_explore_replay(const struct mph_workload *repro, const char *image_path,
                       struct mph_verdict *v)
{
    struct mph_explore_config cfg;
    struct mph_oracle_config oc;
    struct mph__golden g;
    struct mph__site site;
    struct mph__expect e;
    faultfs *fs = NULL, *img = NULL;
    const char *s = mph_workload_directive(repro, "repro.site");
    const char *pattern = mph_workload_directive(repro, "repro.pattern");
    char word[16];
    uint64_t x;
    int rc;

    memset(v, 0, sizeof(*v));
    mph_diff_clear(&v->diff);
    v->check_verdict = -1;
    mph_explore_config_init(&cfg);
    memset(&site, 0, sizeof(site));
    if (s && sscanf(s, "fault %" SCNu64 " %15s", &site.k, word) == 2) {
        site.fault = true;
        site.persist = mph__persist_parse(word);
    } else if (s && sscanf(s, "gap %" SCNu64, &site.k) == 1) {
        site.gap = true;
    } else if (!s || sscanf(s, "point %" SCNu64, &site.k) != 1) {
        snprintf(v->diff.what, sizeof(v->diff.what),
                 "not a reproducer: no 'repro.site point|gap|fault ...' "
                 "directive");
        return MP_EINVAL;
    }
    if (site.persist < 0) {
        snprintf(v->diff.what, sizeof(v->diff.what), "bad persist mode in '%s'",
                 s);
        return MP_EINVAL;
    }
    if (num(repro, "repro.seed", &x)) {
        cfg.seed = x;
    }
    if (num(repro, "repro.fs_page", &x)) {
        cfg.fs_page = (uint32_t)x;
    }
    if (num(repro, "repro.sector", &x)) {
        cfg.sector = (uint32_t)x;
    }
    if (num(repro, "repro.garbage", &x)) {
        cfg.garbage = x != 0;
    }
    if (mph_workload_directive(repro, "repro.mode")) {
        /* The commit mode the file was created in (the cell's). */
        const char *m = mph_workload_directive(repro, "repro.mode");
        if (strcmp(m, "one") != 0 && strcmp(m, "two") != 0) {
            snprintf(v->diff.what, sizeof(v->diff.what),
                     "bad repro.mode '%s' (one or two)", m);
            return MP_EINVAL;
        }
        cfg.one_flush = strcmp(m, "one") == 0;
    }
    if (mph_workload_directive(repro, "repro.first")) {
        return replay_two(&cfg, repro, &site, image_path, v);
    }
    rc = mph__golden_run(&cfg, repro, &g);
    if (rc != MP_OK) {
        goto out;
    }
    if (g.diff.rule != MPH_RULE_NONE) {
        v->diff = g.diff; /* the clean run itself fails */
        goto out;
    }
    if ((site.gap && site.k > g.nops) ||
        (!site.gap &&
         site.k >= (g.nops ? g.op_end[g.nops - 1] : g.create_end))) {
        snprintf(v->diff.what, sizeof(v->diff.what),
                 "the workload has no site '%s'", s);
        rc = MP_EINVAL;
        goto out;
    }
    rc = mph__crash_run(&cfg, repro, &g, &site, &fs, &v->diff);
    if (rc != MP_OK || v->diff.rule != MPH_RULE_NONE) {
        goto out;
    }
    if (!fs) {
        snprintf(v->diff.what, sizeof(v->diff.what),
                 "the injected fault did not fire");
        rc = MP_EINVAL;
        goto out;
    }
    rc = pattern_image(fs, pattern, image_path, v, &img);
    if (rc != MP_OK) {
        goto out;
    }
    mph__expect_at(repro, &g, &site, &e);
    mph__oracle_config(&g, &e, &oc);
    if (mph_workload_directive(repro, "repro.damage")) {
        /* A bit flipped in the clean image: damage beyond the model. */
        uint64_t off;
        unsigned mask;
        unsigned char b;
        if (!site.gap ||
            sscanf(mph_workload_directive(repro, "repro.damage"),
                   "%" SCNu64 " %x", &off, &mask) != 2 ||
            mask == 0 || mask > 0xff) {
            snprintf(v->diff.what, sizeof(v->diff.what),
                     "bad repro.damage (a gap site, 'OFFSET XORMASK')");
            rc = MP_EINVAL;
            goto out;
        }
        rc = faultfs_file_read(img, MPH__PATH, false, off, &b, 1);
        if (rc == MP_OK) {
            b ^= (unsigned char)mask;
            rc = faultfs_file_write(img, MPH__PATH, off, &b, 1);
        }
        if (rc == MP_OK) {
            rc = mph_oracle_check_damaged(&oc, faultfs_vfs(img), g.m,
                                          (size_t)site.k, v);
        }
        goto out;
    }
    rc = mph_oracle_check(&oc, faultfs_vfs(img), g.m, e.prev, e.cur,
                          e.flags | MPH_ORACLE_CHECKER | MPH_ORACLE_LIFE, v);
out:
    faultfs_free(img);
    faultfs_free(fs);
    mph__golden_free(&g);
    return rc;
}
