/*
 * oracle.c - deciding whether one crash image recovered correctly
 * (DESIGN.md, "What correct means": rules 1 to 6).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mph/check.h"
#include "mph/exec.h"
#include "mph/oracle.h"

static void options(const struct mph_oracle_config *cfg,
                    const struct mp_vfs *vfs, uint64_t pages,
                    struct mp_options *opt)
{
    uint64_t room = pages * (uint64_t)cfg->page_size * 8;
    mp_options_init(opt);
    opt->vfs = vfs;
    opt->flags = cfg->open_flags;
    opt->reserve_bytes =
        cfg->reserve_bytes ? cfg->reserve_bytes : MPH_DEFAULT_RESERVE;
    /* Rule 6 grows the file (doubling, maybe twice): leave it room. */
    if (opt->reserve_bytes < room) {
        opt->reserve_bytes = room;
    }
}

/* Rule 4: the checker passes and agrees with the open pager. */
static int structure(const struct mph_oracle_config *cfg,
                     const struct mp_vfs *vfs, mp_pager *p,
                     const struct mp_recovery_info *ri, uint64_t nreg,
                     struct mph_verdict *v)
{
    struct mph_check_report rep;
    int rc = mph_check_file_ex(vfs, cfg->path, cfg->page_size,
                               MPH_CHECK_NO_CROSS, &rep);
    if (rc == MP_ENOMEM) {
        return rc;
    }
    if (rc != MP_OK) {
        mph_diff_set(&v->diff, MPH_RULE_STRUCTURE, MPH_ID_UNSET,
                     "the checker could not run: %s", mp_error_name(rc));
        return MP_OK;
    }
    v->check_verdict = rep.verdict;
    if (!mph_check_passed(&rep)) {
        mph_diff_set(&v->diff, MPH_RULE_STRUCTURE, MPH_ID_UNSET,
                     "checker: %s: %s", mph_check_verdict_name(rep.verdict),
                     rep.problem);
    } else if (rep.page_count != mp_pager_page_count(p) ||
               rep.free_count != mp_pager_free_count(p) ||
               rep.internal_count != mp_pager_internal_count(p) ||
               rep.protected_count != mp_protected_count(p) ||
               rep.regular_count != nreg) {
        mph_diff_set(&v->diff, MPH_RULE_STRUCTURE, MPH_ID_UNSET,
                     "checker and core disagree: pages %" PRIu64 "/%" PRIu64
                     ", free %" PRIu64 "/%" PRIu64 ", internal %" PRIu64
                     "/%" PRIu64 ", protected %" PRIu64 "/%" PRIu64
                     ", regular %" PRIu64 "/%" PRIu64,
                     rep.page_count, mp_pager_page_count(p), rep.free_count,
                     mp_pager_free_count(p), rep.internal_count,
                     mp_pager_internal_count(p), rep.protected_count,
                     mp_protected_count(p), rep.regular_count, nreg);
    } else if (rep.recovery_would_choose != ri->chosen_copy ||
               rep.recovery_reason != ri->reason) {
        mph_diff_set(&v->diff, MPH_RULE_STRUCTURE, MPH_ID_UNSET,
                     "checker predicts recovery takes copy %d (reason %d), "
                     "the core took copy %d (reason %d)",
                     rep.recovery_would_choose, rep.recovery_reason,
                     ri->chosen_copy, ri->reason);
    }
    return MP_OK;
}

static int collect(mp_pager *p, bool prot, uint64_t **ids, size_t *n)
{
    mp_iter it;
    size_t cap = 16;
    uint64_t id;
    int rc;
    *n = 0;
    *ids = malloc(cap * sizeof(**ids));
    if (!*ids) {
        return MP_ENOMEM;
    }
    rc = prot ? mp_iter_protected(&it, p) : mp_iter_pages(&it, p);
    if (rc != MP_OK) {
        return rc;
    }
    while (mp_iter_next(&it, &id)) {
        if (*n == cap) {
            uint64_t *b = realloc(*ids, 2 * cap * sizeof(*b));
            if (!b) {
                mp_iter_finish(&it);
                return MP_ENOMEM;
            }
            *ids = b;
            cap *= 2;
        }
        (*ids)[(*n)++] = id;
    }
    return MP_OK;
}

/*
 * Rule 6: allocate past a growth, free everything, commit a protected
 * page, free every protected page, reopen: all of it must work, and the
 * file must then be empty and clean.
 */
static int life(const struct mph_oracle_config *cfg, const struct mp_vfs *vfs,
                mp_pager **pp, struct mph_diff *d)
{
    struct mp_options opt;
    struct mp_recovery_info ri;
    struct mph_check_report rep;
    mp_pager *p = *pp;
    uint64_t *buf = NULL, *ids = NULL, count = mp_pager_page_count(p);
    uint64_t want = mp_pager_free_count(p) + 1, pg;
    mp_protected_id prot;
    const void *got;
    void *staging;
    size_t n;
    int rc = MP_OK, r;

    buf = malloc((size_t)want * sizeof(*buf));
    if (!buf) {
        return MP_ENOMEM;
    }
    r = mp_pager_alloc_bulk(p, (size_t)want, buf);
    if (r != MP_OK) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: alloc_bulk(%" PRIu64 ") returned %s",
                     want, mp_error_name(r));
        goto out;
    }
    if (mp_pager_page_count(p) <= count) {
        mph_diff_set(
            d, MPH_RULE_LIFE, MPH_ID_UNSET,
            "after recovery: alloc_bulk past the free pages did not grow the file");
        goto out;
    }
    if ((r = mp_pager_alloc(p, &pg)) != MP_OK) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: alloc returned %s", mp_error_name(r));
        goto out;
    }
    if ((rc = collect(p, false, &ids, &n)) != MP_OK) {
        goto out;
    }
    if ((r = mp_pager_free_bulk(p, ids, n)) != MP_OK) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: freeing all %zu pages returned %s", n,
                     mp_error_name(r));
        goto out;
    }
    free(ids);
    ids = NULL;
    if ((r = mp_protected_alloc(p, &prot)) != MP_OK ||
        (r = mp_protected_begin(p, prot, &staging)) != MP_OK) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: protected alloc/begin returned %s",
                     mp_error_name(r));
        goto out;
    }
    memset(staging, 0x5A, cfg->page_size);
    if ((r = mp_protected_commit(p, prot)) != MP_OK ||
        (r = mp_protected_get(p, prot, &got)) != MP_OK) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: protected commit/get returned %s",
                     mp_error_name(r));
        goto out;
    }
    if (((const unsigned char *)got)[cfg->page_size - 1] != 0x5A) {
        mph_diff_set(
            d, MPH_RULE_LIFE, MPH_ID_UNSET,
            "after recovery: protected page does not hold what was committed");
        goto out;
    }
    if ((rc = collect(p, true, &ids, &n)) != MP_OK) {
        goto out;
    }
    if ((r = mp_protected_free_bulk(p, ids, n)) != MP_OK) {
        mph_diff_set(
            d, MPH_RULE_LIFE, MPH_ID_UNSET,
            "after recovery: freeing all %zu protected pages returned %s", n,
            mp_error_name(r));
        goto out;
    }
    count = mp_pager_page_count(p);
    mp_pager_close(p);
    *pp = p = NULL;
    options(cfg, vfs, count, &opt);
    if ((r = mp_pager_open(cfg->path, cfg->page_size, &opt, &p)) != MP_OK) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: reopen returned %s", mp_error_name(r));
        goto out;
    }
    *pp = p;
    mp_pager_recovery(p, &ri);
    if (ri.fallback) {
        mph_diff_set(
            d, MPH_RULE_LIFE, MPH_ID_UNSET,
            "after recovery: reopen after a clean close used the fallback copy");
        goto out;
    }
    if (mp_pager_page_count(p) != count || mp_protected_count(p) != 0 ||
        MP_RESERVED_PAGES + mp_pager_internal_count(p) +
                mp_pager_free_count(p) !=
            count) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: after reopen: %" PRIu64
                     " pages (want %" PRIu64 "), %" PRIu64
                     " protected, %" PRIu64 " internal, %" PRIu64
                     " free: not an empty file",
                     mp_pager_page_count(p), count, mp_protected_count(p),
                     mp_pager_internal_count(p), mp_pager_free_count(p));
        goto out;
    }
    r = mph_check_file_ex(vfs, cfg->path, cfg->page_size, MPH_CHECK_NO_CROSS,
                          &rep);
    if (r != MP_OK || rep.verdict != MPH_CHECK_CLEAN) {
        mph_diff_set(d, MPH_RULE_LIFE, MPH_ID_UNSET,
                     "after recovery: checker after the workload: %s %s",
                     r == MP_OK ? mph_check_verdict_name(rep.verdict)
                                : mp_error_name(r),
                     r == MP_OK ? rep.problem : "");
        goto out;
    }
out:
    free(buf);
    free(ids);
    return rc == MP_ENOMEM ? rc : MP_OK;
}

/* Pick the more telling of two differences for a report. */
static void merge(struct mph_diff *out, const struct mph_diff *vs_cur,
                  const struct mph_diff *vs_prev)
{
    const struct mph_diff *d = vs_cur;
    /* A protected page neither old nor new: both say so. */
    if (vs_prev->rule == MPH_RULE_PROTECTED &&
        vs_cur->rule == MPH_RULE_PROTECTED) {
        mph_diff_set(out, MPH_RULE_PROTECTED, vs_cur->id,
                     "neither old nor new content: vs S_i: %s; vs S_i-1: %s",
                     vs_cur->what, vs_prev->what);
        return;
    }
    if (vs_cur->rule != MPH_RULE_ATOMIC && vs_prev->rule == MPH_RULE_ATOMIC) {
        d = vs_prev;
    }
    mph_diff_set(out, d->rule == MPH_RULE_PROTECTED ? MPH_RULE_ATOMIC : d->rule,
                 d->id,
                 "recovered neither S_i-1 nor S_i: vs S_i: %s; vs "
                 "S_i-1: %s",
                 vs_cur->what, vs_prev->what);
}

int mph_oracle_check(const struct mph_oracle_config *cfg,
                     const struct mp_vfs *vfs, const struct mph_model *m,
                     const struct mph_state *prev, const struct mph_state *cur,
                     unsigned flags, struct mph_verdict *v)
{
    struct mp_options opt;
    struct mp_recovery_info ri;
    struct mph_diff dcur, dprev;
    const struct mph_state *matched = cur;
    mp_pager *p = NULL;
    int rc;

    memset(v, 0, sizeof(*v));
    mph_diff_clear(&v->diff);
    v->match = MPH_MATCH_NONE;
    v->check_verdict = -1;
    options(cfg, vfs, cur->page_count, &opt);
    v->open_rc = mp_pager_open(cfg->path, cfg->page_size, &opt, &p);
    if (v->open_rc == MP_ENOENT && (flags & MPH_ORACLE_ALLOW_ABSENT)) {
        v->match = MPH_MATCH_ABSENT;
        return MP_OK;
    }
    if (v->open_rc == MP_ENOMEM) {
        return MP_ENOMEM;
    }
    if (v->open_rc != MP_OK) {
        mph_diff_set(&v->diff, MPH_RULE_OPEN, MPH_ID_UNSET,
                     "open failed: %s (%s)", mp_error_name(v->open_rc),
                     mp_strerror(v->open_rc));
        return MP_OK;
    }
    mp_pager_recovery(p, &ri);
    v->fallback = ri.fallback;
    v->reason = ri.reason;
    v->chosen_copy = ri.chosen_copy;

    /* Rules 2 and 3. */
    rc = mph_state_compare(m, cur, p, MPH_CMP_DURABLE, &dcur);
    if (rc != MP_OK) {
        goto out;
    }
    if (dcur.rule == MPH_RULE_NONE) {
        v->match = MPH_MATCH_CUR;
    } else if (prev) {
        rc = mph_state_compare(m, prev, p, MPH_CMP_DURABLE, &dprev);
        if (rc != MP_OK) {
            goto out;
        }
        if (dprev.rule == MPH_RULE_NONE) {
            v->match = MPH_MATCH_PREV;
            matched = prev;
        } else {
            merge(&v->diff, &dcur, &dprev);
        }
    } else {
        mph_diff_set(&v->diff, dcur.rule, dcur.id,
                     "recovered state is not the last completed one: %s",
                     dcur.what);
    }
    if (v->diff.rule != MPH_RULE_NONE) {
        goto out;
    }
    if (flags & MPH_ORACLE_CHECKER) {
        rc = structure(cfg, vfs, p, &ri, matched->nreg, v);
        if (rc != MP_OK || v->diff.rule != MPH_RULE_NONE) {
            goto out;
        }
    }
    if (flags & MPH_ORACLE_LIFE) {
        v->life_ran = true;
        rc = life(cfg, vfs, &p, &v->diff);
    }
out:
    mp_pager_close(p);
    return rc;
}

int mph_oracle_check_damaged(const struct mph_oracle_config *cfg,
                             const struct mp_vfs *vfs,
                             const struct mph_model *m, size_t last,
                             struct mph_verdict *v)
{
    struct mp_options opt;
    struct mp_recovery_info ri;
    const struct mph_state *cur = mph_model_state(m, last);
    struct mph_diff d, newest;
    mp_pager *p = NULL;
    int rc = MP_OK;

    memset(v, 0, sizeof(*v));
    mph_diff_clear(&v->diff);
    mph_diff_clear(&newest);
    v->match = MPH_MATCH_NONE;
    v->check_verdict = -1;
    options(cfg, vfs, cur->page_count, &opt);
    v->open_rc = mp_pager_open(cfg->path, cfg->page_size, &opt, &p);
    if (v->open_rc == MP_ENOMEM) {
        return MP_ENOMEM;
    }
    if (v->open_rc != MP_OK) {
        return MP_OK; /* a clear error: what rule 1 allows here */
    }
    mp_pager_recovery(p, &ri);
    v->fallback = ri.fallback;
    v->reason = ri.reason;
    v->chosen_copy = ri.chosen_copy;
    mph_diff_clear(&d);
    for (size_t j = last + 1; j-- > 0;) {
        rc = mph_state_compare(m, mph_model_state(m, j), p,
                               MPH_CMP_NO_PROTECTED_BYTES, &d);
        if (rc != MP_OK || d.rule == MPH_RULE_NONE) {
            v->match = j == last ? MPH_MATCH_CUR : MPH_MATCH_PREV;
            goto out;
        }
        if (j == last) {
            newest = d; /* the difference reported: from the newest */
        }
    }
    mph_diff_set(&v->diff, MPH_RULE_ATOMIC, newest.id,
                 "a damaged file opened as a state it never committed "
                 "(open should have failed): vs the newest: %s",
                 newest.what);
out:
    mp_pager_close(p);
    return rc;
}
