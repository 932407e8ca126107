/*
 * exec.c - running a workload's operations against a pager.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mph/exec.h"
#include "sub_route.h"

struct mph_exec {
    const struct mph_workload *w;
    struct mph_exec_config cfg;
    char *path;
    struct mph_model *model;
    mp_pager *p;
    size_t next;
    uint64_t *refs; /* [1 .. w->nrefs] */

    void **staging; /* protected writes in progress, by slot */
    uint64_t staging_cap;

    mp_subpage **subs; /* in creation order */
    size_t *sub_sizes;
    size_t nsubs, subs_cap;

    uint64_t *ids, *outs; /* scratch: resolved args, produced ids */
    size_t ids_cap, outs_cap;

    struct mp_allocator_hooks mem; /* for the pagers; zero: malloc */
    bool retrying;                 /* mph_exec_retry() is running the op */
    unsigned flags0;               /* cfg.open_flags as given (create's) */
    bool flipped; /* this op (a switch) flipped the mode: a retry keeps it */
    /* A crash op ran and no commit has succeeded since: recovery writes
     * nothing, so a reopen may still use the fallback copy. */
    bool uncommitted_crash;
    /* Sub-page ids a failed reopen collected, kept for its retry (the
     * allocators they came from are gone). */
    uint64_t **pend_ids;
    size_t *pend_nids, pend_n;
};

static int scratch(uint64_t **buf, size_t *cap, size_t need)
{
    uint64_t *b;
    if (need == 0) {
        need = 1; /* bulk calls want a pointer even for count 0 */
    }
    if (need <= *cap) {
        return MP_OK;
    }
    b = realloc(*buf, need * sizeof(*b));
    if (!b) {
        return MP_ENOMEM;
    }
    *buf = b;
    *cap = need;
    return MP_OK;
}

int mph_exec_new(const struct mph_workload *w,
                 const struct mph_exec_config *cfg, struct mph_model *model,
                 struct mph_exec **out)
{
    struct mph_exec *e;
    size_t n;
    *out = NULL;
    if (!w || !cfg || !cfg->path) {
        return MP_EINVAL;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        return MP_ENOMEM;
    }
    e->w = w;
    e->cfg = *cfg;
    e->flags0 = cfg->open_flags;
    if (!e->cfg.reserve_bytes) {
        e->cfg.reserve_bytes = MPH_DEFAULT_RESERVE;
    }
    if (cfg->mem) {
        e->mem = *cfg->mem;
    }
    e->cfg.mem = NULL;
    e->model = model;
    n = strlen(cfg->path) + 1;
    e->path = malloc(n);
    e->refs = malloc(((size_t)w->nrefs + 1) * sizeof(*e->refs));
    if (!e->path || !e->refs) {
        mph_exec_free(e);
        return MP_ENOMEM;
    }
    memcpy(e->path, cfg->path, n);
    e->cfg.path = e->path;
    for (uint64_t k = 0; k <= w->nrefs; k++) {
        e->refs[k] = MPH_ID_UNSET;
    }
    *out = e;
    return MP_OK;
}

static void drop_subs(struct mph_exec *e)
{
    for (size_t i = 0; i < e->nsubs; i++) {
        mp_subpage_destroy(e->subs[i]);
        e->subs[i] = NULL;
    }
}

int mph_exec_close(struct mph_exec *e)
{
    int rc;
    drop_subs(e);
    e->nsubs = 0;
    if (e->staging) {
        memset(e->staging, 0, (size_t)e->staging_cap * sizeof(void *));
    }
    rc = mp_pager_close(e->p);
    e->p = NULL;
    return rc;
}

static void free_ids(uint64_t **ids, size_t *nids, size_t n)
{
    for (size_t k = 0; ids && k < n; k++) {
        free(ids[k]);
    }
    free(ids);
    free(nids);
}

static void drop_pending(struct mph_exec *e)
{
    free_ids(e->pend_ids, e->pend_nids, e->pend_n);
    e->pend_ids = NULL;
    e->pend_nids = NULL;
    e->pend_n = 0;
}

void mph_exec_free(struct mph_exec *e)
{
    if (!e) {
        return;
    }
    mph_exec_close(e);
    drop_pending(e);
    free(e->subs);
    free(e->sub_sizes);
    free(e->staging);
    free(e->ids);
    free(e->outs);
    free(e->refs);
    free(e->path);
    free(e);
}

static void options(const struct mph_exec *e, struct mp_options *opt)
{
    mp_options_init(opt);
    opt->vfs = e->cfg.vfs;
    opt->reserve_bytes = e->cfg.reserve_bytes;
    opt->mem = e->mem;
    opt->flags = e->cfg.open_flags;
}

unsigned mph_exec_open_flags(const struct mph_exec *e)
{
    return e->cfg.open_flags;
}

size_t mph_exec_next(const struct mph_exec *e)
{
    return e->next;
}

mp_pager *mph_exec_pager(const struct mph_exec *e)
{
    return e->p;
}

uint64_t mph_exec_ref(const struct mph_exec *e, uint64_t k)
{
    return k >= 1 && k <= e->w->nrefs ? e->refs[k] : MPH_ID_UNSET;
}

static int compare_subs(struct mph_exec *e, struct mph_diff *d)
{
    size_t nm = mph_model_sub_count(e->model);
    if (nm != e->nsubs) {
        mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                     "%zu sub-page allocators, model has %zu", e->nsubs, nm);
        return MP_OK;
    }
    for (size_t k = 0; k < nm && d->rule == MPH_RULE_NONE; k++) {
        uint64_t *want, *got;
        size_t size, nw, ng;
        int rc = mph_model_sub_ids(e->model, k, &size, &want, &nw);
        if (rc != MP_OK) {
            return rc;
        }
        got = malloc((nw + 1) * sizeof(*got));
        if (!got) {
            free(want);
            return MP_ENOMEM;
        }
        if (mp_subpage_count(e->subs[k]) != nw ||
            mp_subpage_ids(e->subs[k], got, nw, &ng) != MP_OK ||
            (nw && memcmp(got, want, nw * sizeof(*got)) != 0)) {
            mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                         "sub-page allocator of %zu-byte slots: %" PRIu64
                         " slots live, model has %zu (or the ids differ)",
                         size, mp_subpage_count(e->subs[k]), nw);
        }
        free(got);
        free(want);
    }
    return MP_OK;
}

/* After a step: compare with the model and record the state. */
static int check(struct mph_exec *e, struct mph_diff *d)
{
    const struct mph_state *s;
    int rc = mph_model_snapshot(e->model);
    if (rc != MP_OK) {
        return rc;
    }
    s = mph_model_state(e->model, mph_model_nstates(e->model) - 1);
    if (!e->p) {
        return MP_OK;
    }
    rc = mph_state_compare(e->model, s, e->p, MPH_CMP_VOLATILE, d);
    if (rc == MP_OK && d->rule != MPH_RULE_NONE) {
        d->rule = MPH_RULE_RUN;
    }
    if (rc == MP_OK && d->rule == MPH_RULE_NONE) {
        rc = compare_subs(e, d);
    }
    return rc;
}

int mph_exec_create(struct mph_exec *e, int *create_rc, struct mph_diff *d)
{
    struct mp_options opt;
    int rc;
    mph_diff_clear(d);
    mph_exec_close(e);
    drop_pending(e);
    e->cfg.open_flags = e->flags0; /* a rerun starts in the first mode */
    options(e, &opt);
    *create_rc = mp_pager_create(e->path, e->cfg.page_size, &opt, &e->p);
    if (*create_rc != MP_OK) {
        e->p = NULL;
        return MP_OK;
    }
    e->next = 0;
    for (uint64_t k = 0; k <= e->w->nrefs; k++) {
        e->refs[k] = MPH_ID_UNSET;
    }
    if (!e->model) {
        return MP_OK;
    }
    rc = mph_model_start(e->model, mp_pager_page_count(e->p));
    if (rc != MP_OK) {
        return rc;
    }
    rc = mph_state_compare(e->model, mph_model_state(e->model, 0), e->p,
                           MPH_CMP_VOLATILE, d);
    if (rc == MP_OK && d->rule != MPH_RULE_NONE) {
        d->rule = MPH_RULE_RUN;
    }
    return rc;
}

/* Staging pointers, by protected slot. */
static void **staging_of(struct mph_exec *e, uint64_t id, bool grow)
{
    uint64_t s;
    if ((id & MP_ID_KIND_MASK) != MP_ID_KIND_PROTECT) {
        return NULL;
    }
    s = id & ~MP_ID_KIND_MASK;
    if (s >= e->staging_cap) {
        uint64_t cap = e->staging_cap ? e->staging_cap : 8;
        void **n;
        if (!grow || s >= MP_MAX_PAGES) {
            return NULL;
        }
        while (cap <= s) {
            cap *= 2;
        }
        n = realloc(e->staging, (size_t)cap * sizeof(*n));
        if (!n) {
            return NULL;
        }
        memset(n + e->staging_cap, 0,
               (size_t)(cap - e->staging_cap) * sizeof(*n));
        e->staging = n;
        e->staging_cap = cap;
    }
    return &e->staging[s];
}

static void fill(void *page, size_t ps, uint32_t off, uint32_t len,
                 unsigned byte)
{
    if (off >= ps) {
        return;
    }
    if (len == 0 || len > ps - off) {
        len = (uint32_t)(ps - off);
    }
    memset((unsigned char *)page + off, (int)byte, len);
}

static int do_pbegin(struct mph_exec *e, uint64_t id, void **staging)
{
    void **slot;
    int rc = mp_protected_begin(e->p, id, staging);
    if (rc != MP_OK) {
        return rc;
    }
    slot = staging_of(e, id, true);
    if (!slot) {
        return MP_ENOMEM; /* reported as a harness failure by the caller */
    }
    *slot = *staging;
    return MP_OK;
}

static void forget_staging(struct mph_exec *e, uint64_t id)
{
    void **slot = staging_of(e, id, false);
    if (slot) {
        *slot = NULL;
    }
}

static int do_pwrite(struct mph_exec *e, const struct mph_op *op, uint64_t id)
{
    void *staging, **slot;
    int rc = do_pbegin(e, id, &staging);
    /* A retry after the commit failed: the begin went through then. */
    slot = e->retrying && rc == MP_ESTAGED ? staging_of(e, id, false) : NULL;
    if (slot && *slot) {
        staging = *slot;
        rc = MP_OK;
    }
    if (rc != MP_OK) {
        return rc;
    }
    memset(staging, (int)op->byte, e->cfg.page_size);
    rc = op->commit ? mp_protected_commit(e->p, id)
                    : mp_protected_abort(e->p, id);
    if (rc == MP_OK) {
        forget_staging(e, id);
    }
    return rc;
}

/*
 * Iterate both ways; while an iterator is open every mutation must be
 * refused with MP_EITERATING (the C stand-in for the borrow rule).
 */
static int do_iterate(struct mph_exec *e, struct mph_diff *d)
{
    mp_iter it;
    uint64_t id, n = 0, probe;
    int rc = mp_iter_pages(&it, e->p);
    if (rc != MP_OK) {
        return rc;
    }
    rc = mp_pager_alloc(e->p, &probe);
    while (mp_iter_next(&it, &id)) {
        n++;
    }
    if (rc != MP_EITERATING) {
        mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                     "alloc while iterating returned %s, want MP_EITERATING",
                     mp_error_name(rc));
    }
    rc = mp_iter_protected(&it, e->p);
    if (rc != MP_OK) {
        return rc;
    }
    while (mp_iter_next(&it, &id)) {
        n++;
    }
    (void)n;
    return MP_OK;
}

/*
 * Close and open again; sub-page allocators are rebuilt from their ids.
 * When this fails after the close, the ids are kept for a retry. A switch
 * opens in the other commit mode (flipped once per op: its retry keeps
 * the mode).
 */
static int do_reopen(struct mph_exec *e, bool crash, bool flip)
{
    struct mp_options opt;
    uint64_t **ids = NULL;
    size_t *nids = NULL, nsubs = e->nsubs;
    bool closed = false;
    int rc = MP_OK;

    if (e->retrying && e->pend_ids) {
        ids = e->pend_ids;
        nids = e->pend_nids;
        nsubs = e->pend_n;
        e->pend_ids = NULL;
        e->pend_nids = NULL;
        e->pend_n = 0;
        goto reopen;
    }
    if (nsubs) {
        ids = calloc(nsubs, sizeof(*ids));
        nids = calloc(nsubs, sizeof(*nids));
        if (!ids || !nids) {
            rc = MP_ENOMEM;
            goto out;
        }
    }
    for (size_t k = 0; k < nsubs; k++) {
        size_t n = (size_t)mp_subpage_count(e->subs[k]);
        ids[k] = malloc((n + 1) * sizeof(**ids));
        if (!ids[k]) {
            rc = MP_ENOMEM;
            goto out;
        }
        rc = mp_subpage_ids(e->subs[k], ids[k], n, &nids[k]);
        if (rc != MP_OK) {
            goto out;
        }
    }
reopen:
    mph_exec_close(e);
    closed = true;
    if (flip && !e->flipped) {
        e->cfg.open_flags ^= MP_OPEN_ONE_FLUSH;
        e->flipped = true;
    }
    if (crash && e->cfg.crash) {
        /* The machine lost power: reopen what its disk holds now. */
        const struct mp_vfs *vfs = e->cfg.vfs;
        rc = e->cfg.crash(e->cfg.crash_ctx, &vfs);
        if (rc != MP_OK) {
            goto out;
        }
        e->cfg.vfs = vfs;
    }
    options(e, &opt);
    rc = mp_pager_open(e->path, e->cfg.page_size, &opt, &e->p);
    if (rc != MP_OK) {
        e->p = NULL;
        goto out;
    }
    for (size_t k = 0; k < nsubs; k++) {
        rc = mp_subpage_create(e->p, e->sub_sizes[k], &e->subs[k]);
        if (rc != MP_OK) {
            goto out;
        }
        e->nsubs = k + 1;
        rc = mp_subpage_rebuild(e->subs[k], ids[k], nids[k]);
        if (rc != MP_OK) {
            goto out;
        }
    }
out:
    if (rc != MP_OK && closed && ids) {
        e->pend_ids = ids;
        e->pend_nids = nids;
        e->pend_n = nsubs;
        return rc;
    }
    free_ids(ids, nids, nsubs);
    return rc;
}

/* The allocator a sub-page op goes to, created if need be. */
static int sub_for(struct mph_exec *e, const struct mph_op *op,
                   const uint64_t *ids, mp_subpage **out)
{
    size_t size;
    size_t k = mph__sub_route(e->sub_sizes, e->nsubs, e->cfg.page_size, op, ids,
                              &size);
    int rc;
    if (k < e->nsubs) {
        *out = e->subs[k];
        return MP_OK;
    }
    if (e->nsubs == e->subs_cap) {
        size_t cap = e->subs_cap ? e->subs_cap * 2 : 4;
        mp_subpage **s = realloc(e->subs, cap * sizeof(*s));
        size_t *z;
        if (!s) {
            return MP_ENOMEM;
        }
        e->subs = s;
        z = realloc(e->sub_sizes, cap * sizeof(*z));
        if (!z) {
            return MP_ENOMEM;
        }
        e->sub_sizes = z;
        e->subs_cap = cap;
    }
    rc = mp_subpage_create(e->p, size, out);
    if (rc != MP_OK) {
        return rc;
    }
    e->subs[e->nsubs] = *out;
    e->sub_sizes[e->nsubs] = size;
    e->nsubs++;
    return MP_OK;
}

static int run_op(struct mph_exec *e, const struct mph_op *op,
                  const uint64_t *ids, uint64_t *outs, struct mph_diff *d)
{
    mp_subpage *sp;
    void *ptr, **slot;
    int rc;

    switch (op->kind) {
    case MPH_OP_ALLOC:
        return mp_pager_alloc(e->p, &outs[0]);
    case MPH_OP_ALLOC_BULK:
        return mp_pager_alloc_bulk(e->p, (size_t)op->count, outs);
    case MPH_OP_FREE:
        return mp_pager_free(e->p, ids[0]);
    case MPH_OP_FREE_BULK:
        return mp_pager_free_bulk(e->p, ids, op->nargs);
    case MPH_OP_PALLOC:
        return mp_protected_alloc(e->p, &outs[0]);
    case MPH_OP_PALLOC_BULK:
        return mp_protected_alloc_bulk(e->p, (size_t)op->count, outs);
    case MPH_OP_PFREE:
    case MPH_OP_PFREE_BULK:
        rc = op->kind == MPH_OP_PFREE
                 ? mp_protected_free(e->p, ids[0])
                 : mp_protected_free_bulk(e->p, ids, op->nargs);
        for (size_t i = 0; rc == MP_OK && i < op->nargs; i++) {
            forget_staging(e, ids[i]);
        }
        return rc;
    case MPH_OP_PBEGIN:
        return do_pbegin(e, ids[0], &ptr);
    case MPH_OP_PFILL:
        slot = staging_of(e, ids[0], false);
        if (!slot || !*slot) {
            return MP_ENOTSTAGED;
        }
        fill(*slot, e->cfg.page_size, op->off, op->len, op->byte);
        return MP_OK;
    case MPH_OP_PCOMMIT:
    case MPH_OP_PABORT:
        rc = op->kind == MPH_OP_PCOMMIT ? mp_protected_commit(e->p, ids[0])
                                        : mp_protected_abort(e->p, ids[0]);
        if (rc == MP_OK) {
            forget_staging(e, ids[0]);
        }
        return rc;
    case MPH_OP_PWRITE:
        return do_pwrite(e, op, ids[0]);
    case MPH_OP_WRITE:
        rc = mp_pager_get_mut(e->p, ids[0], &ptr);
        if (rc == MP_OK) {
            memset(ptr, (int)op->byte, e->cfg.page_size);
        }
        return rc;
    case MPH_OP_SYNC:
        return mp_pager_sync_pages(e->p, 0, 0);
    case MPH_OP_REOPEN:
        return do_reopen(e, false, false);
    case MPH_OP_SWITCH:
        return do_reopen(e, false, true);
    case MPH_OP_CRASH:
        return do_reopen(e, true, false);
    case MPH_OP_ITERATE:
        return do_iterate(e, d);
    case MPH_OP_GROW:
        return mp_pager_grow(e->p, op->count);
    case MPH_OP_SALLOC:
    case MPH_OP_SALLOC_BULK:
    case MPH_OP_SFREE:
    case MPH_OP_SFREE_BULK:
        rc = sub_for(e, op, ids, &sp);
        if (rc != MP_OK) {
            return rc;
        }
        if (op->kind == MPH_OP_SALLOC) {
            return mp_subpage_alloc(sp, &outs[0]);
        }
        if (op->kind == MPH_OP_SALLOC_BULK) {
            return mp_subpage_alloc_bulk(sp, (size_t)op->count, outs);
        }
        if (op->kind == MPH_OP_SFREE) {
            return mp_subpage_free(sp, ids[0]);
        }
        return mp_subpage_free_bulk(sp, ids, op->nargs);
    default:
        return MP_EINVAL;
    }
}

/* Resolve op's arguments into e->ids, clear e->outs, run it, and on
 * success record the ids it produced. */
static int run_resolved(struct mph_exec *e, const struct mph_op *op, int *op_rc,
                        struct mph_diff *d)
{
    const struct mph_arg *args = op->nargs ? e->w->args + op->first_arg : NULL;
    int rc = scratch(&e->ids, &e->ids_cap, op->nargs);
    if (rc == MP_OK) {
        rc = scratch(&e->outs, &e->outs_cap, (size_t)op->nrefs);
    }
    if (rc != MP_OK) {
        return rc;
    }
    for (size_t i = 0; i < op->nargs; i++) {
        e->ids[i] = args[i].kind == MPH_ARG_REF ? e->refs[args[i].value]
                                                : args[i].value;
    }
    for (uint64_t i = 0; i < op->nrefs; i++) {
        e->outs[i] = MPH_ID_UNSET;
    }
    *op_rc = run_op(e, op, e->ids, e->outs, d);
    if (*op_rc == MP_OK) {
        for (uint64_t i = 0; i < op->nrefs; i++) {
            e->refs[op->first_ref + i] = e->outs[i];
        }
    }
    return MP_OK;
}

int mph_exec_retry(struct mph_exec *e, int *op_rc, struct mph_diff *d)
{
    const struct mph_op *op;
    int rc;

    mph_diff_clear(d);
    *op_rc = MP_OK;
    if (e->model || e->next == 0 || e->next > e->w->nops) {
        return MP_EINVAL;
    }
    op = &e->w->ops[e->next - 1];
    if (!e->p && op->kind != MPH_OP_REOPEN && op->kind != MPH_OP_CRASH &&
        op->kind != MPH_OP_SWITCH) {
        return MP_EINVAL;
    }
    e->retrying = true;
    rc = run_resolved(e, op, op_rc, d);
    e->retrying = false;
    return rc;
}

int mph_exec_step(struct mph_exec *e, int *op_rc, struct mph_diff *d)
{
    const struct mph_op *op;
    int rc;

    mph_diff_clear(d);
    *op_rc = MP_OK;
    if (e->next >= e->w->nops || !e->p) {
        return MP_EINVAL;
    }
    drop_pending(e);
    e->flipped = false;
    op = &e->w->ops[e->next];
    rc = run_resolved(e, op, op_rc, d);
    if (rc != MP_OK) {
        return rc;
    }
    e->next++;
    if (!e->model || d->rule != MPH_RULE_NONE) {
        return MP_OK;
    }
    rc = mph_model_apply(e->model, op, e->ids, *op_rc, e->outs,
                         e->p ? mp_pager_page_count(e->p) : 0, d);
    if (rc != MP_OK || d->rule != MPH_RULE_NONE) {
        return rc;
    }
    if (op->kind == MPH_OP_CRASH) {
        e->uncommitted_crash = true;
    } else if (mph_op_commits(op->kind) && *op_rc == MP_OK) {
        e->uncommitted_crash = false;
    }
    if ((op->kind == MPH_OP_REOPEN || op->kind == MPH_OP_SWITCH) && e->p &&
        !e->uncommitted_crash) {
        struct mp_recovery_info ri;
        mp_pager_recovery(e->p, &ri);
        if (ri.fallback) {
            mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                         "reopen after a clean close used the fallback "
                         "copy (reason %d)",
                         ri.reason);
            return MP_OK;
        }
    }
    return check(e, d);
}

int mph_exec_run(const struct mph_workload *w,
                 const struct mph_exec_config *cfg, struct mph_model *model,
                 struct mph_diff *d, size_t *failed_op)
{
    struct mph_exec *e;
    int create_rc, rc = mph_exec_new(w, cfg, model, &e);
    *failed_op = w->nops;
    mph_diff_clear(d);
    if (rc != MP_OK) {
        return rc;
    }
    rc = mph_exec_create(e, &create_rc, d);
    if (rc == MP_OK && create_rc != MP_OK) {
        mph_exec_free(e);
        return create_rc;
    }
    if (rc == MP_OK && d->rule != MPH_RULE_NONE) {
        *failed_op = 0;
    }
    while (rc == MP_OK && d->rule == MPH_RULE_NONE &&
           mph_exec_next(e) < w->nops) {
        int op_rc;
        size_t i = mph_exec_next(e);
        rc = mph_exec_step(e, &op_rc, d);
        if (rc == MP_OK && d->rule != MPH_RULE_NONE) {
            *failed_op = i;
        }
        if (rc == MP_EINVAL) {
            /* The pager is gone (a reopen failed): report as a run diff. */
            mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                         "no pager to run op %zu on", i);
            *failed_op = i;
            rc = MP_OK;
        }
    }
    mph_exec_free(e);
    return rc;
}
