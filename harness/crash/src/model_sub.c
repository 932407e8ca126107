/*
 * model_sub.c - the sub-page allocators of the model (mappedpages/
 * subpage.h): per slot size, the parent pages and which slots of each are
 * in use. Parents are regular pages of the pager, so taking or returning
 * one changes the model's regular set like alloc and free do; the slot
 * masks live in memory only, as in the library.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"
#include "sub_route.h"

void mph__sub_reset(struct mph_model *m)
{
    for (size_t i = 0; i < m->nsubs; i++) {
        free(m->subs[i].par);
    }
    m->nsubs = 0;
}

void mph__sub_free(struct mph_model *m)
{
    mph__sub_reset(m);
    free(m->subs);
    m->subs = NULL;
    m->subs_cap = 0;
}

/* The allocator op goes to; NULL (with *size set) if it is yet to exist. */
static struct mph__sub *route(const struct mph_model *m,
                              const struct mph_op *op, const uint64_t *ids,
                              size_t *size)
{
    size_t k;
    size_t *sizes = malloc((m->nsubs + 1) * sizeof(*sizes));
    if (!sizes) {
        *size = 0;
        return NULL;
    }
    for (size_t i = 0; i < m->nsubs; i++) {
        sizes[i] = m->subs[i].slot_size;
    }
    k = mph__sub_route(sizes, m->nsubs, m->ps, op, ids, size);
    free(sizes);
    return k < m->nsubs ? &m->subs[k] : NULL;
}

static struct mph__sub_parent *find_parent(const struct mph__sub *a,
                                           uint64_t page)
{
    for (uint64_t i = 0; a && i < a->npar; i++) {
        if (a->par[i].page == page) {
            return &a->par[i];
        }
    }
    return NULL;
}

/* mp_subpage_free's code for id at allocator a (NULL: a new, empty one). */
static int id_error(const struct mph_model *m, const struct mph__sub *a,
                    size_t size, uint64_t id)
{
    const struct mph__sub_parent *p;
    unsigned slot = mp_subpage_id_slot(id);
    if ((id & MP_ID_KIND_MASK) != MP_ID_KIND_SUBPAGE) {
        return MP_EWRONGKIND;
    }
    if (mp_subpage_id_tag(id) != mph__sub_tag(size)) {
        return MP_ENOTOWNER;
    }
    if (slot >= m->ps / size) {
        return MP_EOUTOFBOUNDS;
    }
    p = find_parent(a, mp_subpage_id_page(id));
    if (!p || !((p->mask >> slot) & 1)) {
        return MP_EDOUBLEFREE;
    }
    return MP_OK;
}

static void add(int rc[4], int *n, int code)
{
    if (*n < 4) {
        rc[(*n)++] = code;
    }
}

void mph__sub_expect(const struct mph_model *m, const struct mph_op *op,
                     const uint64_t *ids, int rc[4], int *n)
{
    size_t size;
    const struct mph__sub *a = route(m, op, ids, &size);
    *n = 0;
    if (!a && !mph__sub_size_ok(size, m->ps)) {
        add(rc, n, MP_EPAGESIZE);
        return;
    }
    switch (op->kind) {
    case MPH_OP_SALLOC:
    case MPH_OP_SALLOC_BULK:
        if (op->kind == MPH_OP_SALLOC_BULK && op->count == 0) {
            add(rc, n, MP_ECOUNT);
            return;
        }
        add(rc, n, MP_OK);
        if (mph__may_limit(m, op->nrefs)) {
            add(rc, n, MP_ELIMIT);
        }
        return;
    case MPH_OP_SFREE:
        add(rc, n, id_error(m, a, size, ids[0]));
        return;
    case MPH_OP_SFREE_BULK:
        if (op->nargs == 0) {
            add(rc, n, MP_ECOUNT);
            return;
        }
        for (size_t i = 0; i < op->nargs; i++) {
            int e = id_error(m, a, size, ids[i]);
            if (e != MP_OK) {
                add(rc, n, e);
                return;
            }
            for (size_t j = 0; j < i; j++) {
                if (ids[j] == ids[i]) {
                    add(rc, n, MP_EDUPLICATE);
                    return;
                }
            }
        }
        add(rc, n, MP_OK);
        return;
    default:
        add(rc, n, MP_EINVAL);
        return;
    }
}

static int new_sub(struct mph_model *m, size_t size, struct mph__sub **out)
{
    if (m->nsubs == m->subs_cap) {
        size_t cap = m->subs_cap ? m->subs_cap * 2 : 4;
        struct mph__sub *s = realloc(m->subs, cap * sizeof(*s));
        if (!s) {
            return MP_ENOMEM;
        }
        m->subs = s;
        m->subs_cap = cap;
    }
    *out = &m->subs[m->nsubs++];
    memset(*out, 0, sizeof(**out));
    (*out)->slot_size = size;
    (*out)->slots = (unsigned)(m->ps / size);
    (*out)->tag = mph__sub_tag(size);
    return MP_OK;
}

/*
 * Check the ids a successful salloc / salloc_bulk returned: free slots of
 * existing parents first (as many as there are), then slots of fresh
 * parent pages, as few parents as the count needs; a single salloc into
 * an existing parent takes that parent's lowest free slot.
 */
static bool check_alloc(const struct mph_model *m, const struct mph__sub *a,
                        const struct mph_op *op, const uint64_t *out,
                        struct mph_diff *d)
{
    uint64_t spare = 0, in_old = 0, n = op->nrefs, want_old, want_new;
    uint64_t *newp = NULL, nnew = 0;
    bool ok = true;

    for (uint64_t i = 0; i < a->npar; i++) {
        spare += a->slots - (uint64_t)__builtin_popcountll(a->par[i].mask);
    }
    want_old = n < spare ? n : spare;
    want_new = (n - want_old + a->slots - 1) / a->slots;
    newp = calloc(n ? n : 1, sizeof(*newp));
    if (!newp) {
        return true; /* cannot check without memory; apply() reports */
    }
    for (uint64_t i = 0; ok && i < n; i++) {
        uint64_t id = out[i], pg = mp_subpage_id_page(id);
        unsigned slot = mp_subpage_id_slot(id);
        const struct mph__sub_parent *p = find_parent(a, pg);
        bool seen = false;
        if ((id & MP_ID_KIND_MASK) != MP_ID_KIND_SUBPAGE ||
            mp_subpage_id_tag(id) != a->tag || slot >= a->slots) {
            mph_diff_set(d, MPH_RULE_RUN, id,
                         "%s returned malformed id 0x%" PRIx64 " (tag %u, "
                         "slot %u; allocator tag %u, %u slots)",
                         mph_op_name(op->kind), id, mp_subpage_id_tag(id), slot,
                         a->tag, a->slots);
            ok = false;
            break;
        }
        for (uint64_t j = 0; j < i; j++) {
            seen |= out[j] == id;
        }
        if (seen) {
            mph_diff_set(d, MPH_RULE_RUN, id,
                         "%s returned id 0x%" PRIx64 " twice",
                         mph_op_name(op->kind), id);
            ok = false;
        } else if (p) {
            in_old++;
            if ((p->mask >> slot) & 1) {
                mph_diff_set(d, MPH_RULE_RUN, id,
                             "%s returned slot %u of parent %" PRIu64
                             ", which is in use",
                             mph_op_name(op->kind), slot, pg);
                ok = false;
            } else if (n == 1 && slot != (unsigned)__builtin_ctzll(~p->mask)) {
                mph_diff_set(d, MPH_RULE_RUN, id,
                             "salloc returned slot %u of parent %" PRIu64
                             ", not its lowest free slot %u",
                             slot, pg, (unsigned)__builtin_ctzll(~p->mask));
                ok = false;
            }
        } else {
            uint64_t k = 0;
            while (k < nnew && newp[k] != pg) {
                k++;
            }
            if (k == nnew) {
                if (!mph__fresh_page(m, pg)) {
                    mph_diff_set(d, MPH_RULE_RUN, id,
                                 "%s took page %" PRIu64
                                 " as a new parent: not a free page in "
                                 "range",
                                 mph_op_name(op->kind), pg);
                    ok = false;
                }
                newp[nnew++] = pg;
            }
        }
    }
    if (ok && (in_old != want_old || nnew != want_new)) {
        mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                     "%s of %" PRIu64 " took %" PRIu64
                     " slots of existing parents and %" PRIu64
                     " new parents; model expected %" PRIu64 " and %" PRIu64,
                     mph_op_name(op->kind), n, in_old, nnew, want_old,
                     want_new);
        ok = false;
    }
    free(newp);
    return ok;
}

static int add_slot(struct mph_model *m, struct mph__sub *a, uint64_t id)
{
    uint64_t pg = mp_subpage_id_page(id);
    struct mph__sub_parent *p = find_parent(a, pg);
    if (!p) {
        if (a->npar == a->par_cap) {
            uint64_t cap = a->par_cap ? a->par_cap * 2 : 8;
            struct mph__sub_parent *np = realloc(a->par, cap * sizeof(*np));
            if (!np) {
                return MP_ENOMEM;
            }
            a->par = np;
            a->par_cap = cap;
        }
        p = &a->par[a->npar++];
        p->page = pg;
        p->mask = 0;
        mph__reg_set(m, pg);
    }
    /* A new slot is zeroed in memory: the page is no longer one byte. */
    m->pdata[pg].flags = 0;
    p->mask |= (uint64_t)1 << mp_subpage_id_slot(id);
    return MP_OK;
}

static void drop_slot(struct mph_model *m, struct mph__sub *a, uint64_t id)
{
    struct mph__sub_parent *p = find_parent(a, mp_subpage_id_page(id));
    p->mask &= ~((uint64_t)1 << mp_subpage_id_slot(id));
    if (p->mask == 0) {
        mph__reg_clear(m, p->page);
        *p = a->par[--a->npar];
    }
}

int mph__sub_apply(struct mph_model *m, const struct mph_op *op,
                   const uint64_t *ids, int rc, const uint64_t *out,
                   uint64_t page_count, struct mph_diff *d)
{
    int want[4], n, r;
    size_t size;
    struct mph__sub *a = route(m, op, ids, &size);
    uint64_t old = m->page_count;
    bool ok = false;

    mph__sub_expect(m, op, ids, want, &n);
    for (int i = 0; i < n; i++) {
        ok |= want[i] == rc;
    }
    if (!ok) {
        mph_diff_set(d, MPH_RULE_RUN, op->nargs ? ids[0] : MPH_ID_UNSET,
                     "%s returned %s, model expected %s%s%s",
                     mph_op_name(op->kind), mp_error_name(rc),
                     mp_error_name(want[0]), n > 1 ? " or " : "",
                     n > 1 ? mp_error_name(want[1]) : "");
        return MP_OK;
    }
    if (page_count < old ||
        (page_count != old && (rc != MP_OK || !mph__may_grow(op->kind)))) {
        mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                     "%s (%s) changed the page count from %" PRIu64
                     " to %" PRIu64,
                     mph_op_name(op->kind), mp_error_name(rc), old, page_count);
        return MP_OK;
    }
    if (!a && mph__sub_size_ok(size, m->ps)) {
        /* The executor created the allocator before the call. */
        r = new_sub(m, size, &a);
        if (r != MP_OK) {
            return r;
        }
    }
    if (rc != MP_OK) {
        return MP_OK;
    }
    r = mph__set_page_count(m, page_count);
    if (r != MP_OK) {
        return r;
    }
    switch (op->kind) {
    case MPH_OP_SALLOC:
    case MPH_OP_SALLOC_BULK:
        if (!check_alloc(m, a, op, out, d)) {
            m->page_count = old;
            return MP_OK;
        }
        for (uint64_t i = 0; i < op->nrefs; i++) {
            r = add_slot(m, a, out[i]);
            if (r != MP_OK) {
                return r;
            }
        }
        return MP_OK;
    default:
        for (size_t i = 0; i < op->nargs; i++) {
            drop_slot(m, a, ids[i]);
        }
        return MP_OK;
    }
}

size_t mph_model_sub_count(const struct mph_model *m)
{
    return m->nsubs;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

int mph_model_sub_ids(const struct mph_model *m, size_t k, size_t *slot_size,
                      uint64_t **ids, size_t *n)
{
    const struct mph__sub *a;
    uint64_t cnt = 0, j = 0;
    *ids = NULL;
    *n = 0;
    if (k >= m->nsubs) {
        return MP_EINVAL;
    }
    a = &m->subs[k];
    *slot_size = a->slot_size;
    for (uint64_t i = 0; i < a->npar; i++) {
        cnt += (uint64_t)__builtin_popcountll(a->par[i].mask);
    }
    if (cnt == 0) {
        return MP_OK;
    }
    *ids = malloc((size_t)cnt * sizeof(**ids));
    if (!*ids) {
        return MP_ENOMEM;
    }
    for (uint64_t i = 0; i < a->npar; i++) {
        uint64_t bits = a->par[i].mask;
        while (bits) {
            unsigned s = (unsigned)__builtin_ctzll(bits);
            bits &= bits - 1;
            (*ids)[j++] = MP_ID_KIND_SUBPAGE |
                          (uint64_t)a->tag << MP_SUBPAGE_TAG_SHIFT |
                          a->par[i].page << MP_SUBPAGE_PAGE_SHIFT | s;
        }
    }
    qsort(*ids, (size_t)cnt, sizeof(**ids), cmp_u64);
    *n = (size_t)cnt;
    return MP_OK;
}
