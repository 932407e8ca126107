/*
 * model_apply.c - what each operation must return and what it changes,
 * straight from the contract in mappedpages/pager.h and protected.h.
 *
 * Codes the model cannot tell apart are accepted as a set: an id that is
 * in range but not an allocated regular page may be an internal page
 * (MP_EINTERNAL) or a free one (MP_EDOUBLEFREE); the model does not track
 * the pager's internal pages. Growth past the address reservation
 * (MP_ELIMIT) is accepted only where the file could plausibly reach it.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

static void add(int rc[4], int *n, int code)
{
    for (int i = 0; i < *n; i++) {
        if (rc[i] == code) {
            return;
        }
    }
    if (*n < 4) {
        rc[(*n)++] = code;
    }
}

int mph__reg_errors(const struct mph_model *m, uint64_t id, int err[2])
{
    if (id & MP_ID_KIND_MASK) {
        err[0] = MP_EWRONGKIND;
        return 1;
    }
    if (id < MP_RESERVED_PAGES) {
        err[0] = MP_ERESERVED;
        return 1;
    }
    if (id >= m->page_count) {
        err[0] = MP_EOUTOFBOUNDS;
        return 1;
    }
    if (mph__reg_has(m, id)) {
        return 0;
    }
    err[0] = MP_EINTERNAL;
    err[1] = MP_EDOUBLEFREE;
    return 2;
}

/* Error of a protected id that must be in use (check_id), or MP_OK. */
static int prot_error(const struct mph_model *m, uint64_t id)
{
    uint64_t s;
    if ((id & MP_ID_KIND_MASK) != MP_ID_KIND_PROTECT) {
        return MP_EWRONGKIND;
    }
    s = id & ~MP_ID_KIND_MASK;
    if (s >= m->nslots) {
        return MP_EOUTOFBOUNDS;
    }
    if (!m->slots[s].in_use) {
        return MP_EDOUBLEFREE;
    }
    return MP_OK;
}

bool mph__may_limit(const struct mph_model *m, uint64_t need)
{
    uint64_t room = m->reserve / m->ps;
    return m->page_count * 2 + 16 > room || m->page_count + need + 16 > room;
}

/* Lowest slot not in use at or after `from`. */
static uint64_t free_slot(const struct mph_model *m, uint64_t from)
{
    while (from < m->nslots && m->slots[from].in_use) {
        from++;
    }
    return from;
}

static void expect_free_bulk(const struct mph_model *m, const uint64_t *ids,
                             size_t n, int rc[4], int *k)
{
    if (n == 0) {
        add(rc, k, MP_ECOUNT);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int err[2], ne = mph__reg_errors(m, ids[i], err);
        if (ne) {
            for (int e = 0; e < ne; e++) {
                add(rc, k, err[e]);
            }
            return;
        }
        for (size_t j = 0; j < i; j++) {
            if (ids[j] == ids[i]) {
                add(rc, k, MP_EDUPLICATE);
                return;
            }
        }
    }
    add(rc, k, MP_OK);
}

static void expect_pfree_bulk(const struct mph_model *m, const uint64_t *ids,
                              size_t n, int rc[4], int *k)
{
    if (n == 0) {
        add(rc, k, MP_ECOUNT);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        int e = prot_error(m, ids[i]);
        if (e != MP_OK) {
            add(rc, k, e);
            return;
        }
        for (size_t j = 0; j < i; j++) {
            if (ids[j] == ids[i]) {
                add(rc, k, MP_EDUPLICATE);
                return;
            }
        }
    }
    add(rc, k, MP_OK);
}

void mph_model_expect(const struct mph_model *m, const struct mph_op *op,
                      const uint64_t *ids, int rc[4], int *n)
{
    int err[2], ne, e;
    uint64_t s;

    *n = 0;
    switch (op->kind) {
    case MPH_OP_ALLOC:
        add(rc, n, MP_OK);
        if (mph__may_limit(m, 1)) {
            add(rc, n, MP_ELIMIT);
        }
        break;
    case MPH_OP_ALLOC_BULK:
    case MPH_OP_PALLOC_BULK:
        if (op->count == 0) {
            add(rc, n, MP_ECOUNT);
            break;
        }
        add(rc, n, MP_OK);
        if (mph__may_limit(m, 2 * op->count + 2)) {
            add(rc, n, MP_ELIMIT);
        }
        break;
    case MPH_OP_PALLOC:
        add(rc, n, MP_OK);
        if (mph__may_limit(m, 4)) {
            add(rc, n, MP_ELIMIT);
        }
        break;
    case MPH_OP_FREE:
    case MPH_OP_WRITE:
        ne = mph__reg_errors(m, ids[0], err);
        for (int i = 0; i < ne; i++) {
            add(rc, n, err[i]);
        }
        if (ne == 0) {
            add(rc, n, MP_OK);
        }
        break;
    case MPH_OP_FREE_BULK:
        expect_free_bulk(m, ids, op->nargs, rc, n);
        break;
    case MPH_OP_PFREE:
        add(rc, n, prot_error(m, ids[0]));
        break;
    case MPH_OP_PFREE_BULK:
        expect_pfree_bulk(m, ids, op->nargs, rc, n);
        break;
    case MPH_OP_PBEGIN:
    case MPH_OP_PWRITE:
        e = prot_error(m, ids[0]);
        if (e == MP_OK && m->slots[ids[0] & ~MP_ID_KIND_MASK].staged) {
            e = MP_ESTAGED;
        }
        add(rc, n, e);
        break;
    case MPH_OP_PCOMMIT:
    case MPH_OP_PABORT:
        e = prot_error(m, ids[0]);
        if (e == MP_OK && !m->slots[ids[0] & ~MP_ID_KIND_MASK].staged) {
            e = MP_ENOTSTAGED;
        }
        add(rc, n, e);
        break;
    case MPH_OP_PFILL:
        e = prot_error(m, ids[0]);
        s = ids[0] & ~MP_ID_KIND_MASK;
        add(rc, n, e == MP_OK && m->slots[s].staged ? MP_OK : MP_ENOTSTAGED);
        break;
    case MPH_OP_SYNC:
    case MPH_OP_REOPEN:
    case MPH_OP_SWITCH:
    case MPH_OP_CRASH:
    case MPH_OP_ITERATE:
        add(rc, n, MP_OK);
        break;
    case MPH_OP_GROW:
        if (op->count > MP_MAX_PAGES) {
            add(rc, n, MP_ELIMIT);
            break;
        }
        add(rc, n, MP_OK);
        if (op->count > m->page_count && op->count + 3 > m->reserve / m->ps) {
            add(rc, n, MP_ELIMIT);
        }
        break;
    default:
        mph__sub_expect(m, op, ids, rc, n);
        break;
    }
}

bool mph__may_grow(int kind)
{
    switch (kind) {
    case MPH_OP_ALLOC:
    case MPH_OP_ALLOC_BULK:
    case MPH_OP_PALLOC:
    case MPH_OP_PALLOC_BULK:
    case MPH_OP_GROW:
    case MPH_OP_SALLOC:
    case MPH_OP_SALLOC_BULK:
        return true;
    default:
        return false;
    }
}

bool mph__fresh_page(const struct mph_model *m, uint64_t pg)
{
    return !(pg & MP_ID_KIND_MASK) && pg >= MP_RESERVED_PAGES &&
           pg < m->page_count && !mph__reg_has(m, pg);
}

static int apply_palloc(struct mph_model *m, const struct mph_op *op,
                        const uint64_t *out, struct mph_diff *d)
{
    uint64_t s = 0;
    int rc;
    /* Check every predicted slot before changing anything. */
    for (uint64_t i = 0; i < op->nrefs; i++) {
        s = free_slot(m, i == 0 ? 0 : s + 1);
        if (out[i] != (MP_ID_KIND_PROTECT | s)) {
            mph_diff_set(d, MPH_RULE_RUN, out[i],
                         "%s returned id 0x%" PRIx64 " (slot %" PRIu64
                         "), model expected the lowest free slot %" PRIu64,
                         mph_op_name(op->kind), out[i],
                         out[i] & ~MP_ID_KIND_MASK, s);
            return MP_OK;
        }
    }
    if (s + 1 > m->nslots) {
        rc = mph__ensure_slots(m, s + 1);
        if (rc != MP_OK) {
            return rc;
        }
    }
    for (uint64_t i = 0; i < op->nrefs; i++) {
        s = out[i] & ~MP_ID_KIND_MASK;
        m->slots[s].in_use = true;
        m->slots[s].blob = m->zero_blob;
        m->slots[s].staged = NULL;
        if (s + 1 > m->nslots) {
            m->nslots = s + 1;
        }
    }
    return MP_OK;
}

static void fill(unsigned char *page, size_t ps, uint32_t off, uint32_t len,
                 unsigned byte)
{
    if (off >= ps) {
        return;
    }
    if (len == 0 || len > ps - off) {
        len = (uint32_t)(ps - off);
    }
    memset(page + off, (int)byte, len);
}

static int apply_ok(struct mph_model *m, const struct mph_op *op,
                    const uint64_t *ids, const uint64_t *out,
                    struct mph_diff *d)
{
    struct mph__slot *sl;
    uint64_t prev = 0;
    int rc;

    switch (op->kind) {
    case MPH_OP_ALLOC:
    case MPH_OP_ALLOC_BULK:
        for (uint64_t i = 0; i < op->nrefs; i++) {
            if (!mph__fresh_page(m, out[i]) || (i > 0 && out[i] <= prev)) {
                mph_diff_set(
                    d, MPH_RULE_RUN, out[i],
                    "%s returned page %" PRIu64 " (#%" PRIu64
                    "): not a free page in range "
                    "[3, %" PRIu64 ")%s",
                    mph_op_name(op->kind), out[i], i + 1, m->page_count,
                    i > 0 && out[i] <= prev ? " or not ascending" : "");
                return MP_OK;
            }
            prev = out[i];
        }
        for (uint64_t i = 0; i < op->nrefs; i++) {
            mph__reg_set(m, out[i]);
            m->pdata[out[i]].flags = 0;
        }
        return MP_OK;
    case MPH_OP_FREE:
        mph__reg_clear(m, ids[0]);
        return MP_OK;
    case MPH_OP_FREE_BULK:
        for (size_t i = 0; i < op->nargs; i++) {
            mph__reg_clear(m, ids[i]);
        }
        return MP_OK;
    case MPH_OP_PALLOC:
    case MPH_OP_PALLOC_BULK:
        return apply_palloc(m, op, out, d);
    case MPH_OP_PFREE:
    case MPH_OP_PFREE_BULK:
        for (size_t i = 0; i < op->nargs; i++) {
            sl = &m->slots[ids[i] & ~MP_ID_KIND_MASK];
            free(sl->staged);
            memset(sl, 0, sizeof(*sl));
        }
        return MP_OK;
    case MPH_OP_PBEGIN:
        sl = &m->slots[ids[0] & ~MP_ID_KIND_MASK];
        sl->staged = malloc(m->ps);
        if (!sl->staged) {
            return MP_ENOMEM;
        }
        memcpy(sl->staged, m->blobs[sl->blob], m->ps);
        return MP_OK;
    case MPH_OP_PFILL:
        sl = &m->slots[ids[0] & ~MP_ID_KIND_MASK];
        fill(sl->staged, m->ps, op->off, op->len, op->byte);
        return MP_OK;
    case MPH_OP_PCOMMIT:
        sl = &m->slots[ids[0] & ~MP_ID_KIND_MASK];
        rc = mph__blob_new(m, sl->staged, &sl->blob);
        if (rc == MP_OK) {
            free(sl->staged);
            sl->staged = NULL;
        }
        return rc;
    case MPH_OP_PABORT:
        sl = &m->slots[ids[0] & ~MP_ID_KIND_MASK];
        free(sl->staged);
        sl->staged = NULL;
        return MP_OK;
    case MPH_OP_PWRITE:
        sl = &m->slots[ids[0] & ~MP_ID_KIND_MASK];
        if (op->commit) {
            unsigned char *b = malloc(m->ps);
            if (!b) {
                return MP_ENOMEM;
            }
            memset(b, (int)op->byte, m->ps);
            rc = mph__blob_new(m, b, &sl->blob);
            free(b);
            return rc;
        }
        return MP_OK;
    case MPH_OP_WRITE:
        m->pdata[ids[0]].vbyte = (uint8_t)op->byte;
        m->pdata[ids[0]].flags = MPH_DATA_VOLATILE;
        return MP_OK;
    case MPH_OP_SYNC:
        for (uint64_t pg = 0; pg < m->page_count; pg++) {
            struct mph_pdata *pd = &m->pdata[pg];
            if (pd->flags & MPH_DATA_VOLATILE) {
                pd->dbyte = pd->vbyte;
                pd->flags |= MPH_DATA_DURABLE;
            }
        }
        return MP_OK;
    case MPH_OP_REOPEN:
    case MPH_OP_SWITCH:
    case MPH_OP_CRASH:
        /* A write in progress does not survive close. */
        for (uint64_t s = 0; s < m->nslots; s++) {
            free(m->slots[s].staged);
            m->slots[s].staged = NULL;
        }
        /* After a crash only synced bytes are known, and only where no
         * later write could have reached the disk in part. */
        for (uint64_t pg = 0; op->kind == MPH_OP_CRASH && pg < m->page_count;
             pg++) {
            struct mph_pdata *pd = &m->pdata[pg];
            bool keep =
                (pd->flags & MPH_DATA_DURABLE) &&
                (!(pd->flags & MPH_DATA_VOLATILE) || pd->vbyte == pd->dbyte);
            pd->vbyte = pd->dbyte;
            pd->flags = keep ? MPH_DATA_VOLATILE | MPH_DATA_DURABLE : 0;
        }
        return MP_OK;
    case MPH_OP_ITERATE:
    case MPH_OP_GROW:
        return MP_OK;
    default:
        return MP_OK;
    }
}

int mph_model_apply(struct mph_model *m, const struct mph_op *op,
                    const uint64_t *ids, int rc, const uint64_t *out,
                    uint64_t page_count, struct mph_diff *d)
{
    int want[4], n, r;
    uint64_t old = m->page_count;
    bool ok = false;

    if (op->kind == MPH_OP_SALLOC || op->kind == MPH_OP_SFREE ||
        op->kind == MPH_OP_SFREE_BULK || op->kind == MPH_OP_SALLOC_BULK) {
        return mph__sub_apply(m, op, ids, rc, out, page_count, d);
    }
    mph_model_expect(m, op, ids, want, &n);
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
    if (rc != MP_OK || !mph__may_grow(op->kind)) {
        if (page_count != old) {
            mph_diff_set(
                d, MPH_RULE_RUN, MPH_ID_UNSET,
                "%s (%s) changed the page count from %" PRIu64 " to %" PRIu64,
                mph_op_name(op->kind), mp_error_name(rc), old, page_count);
            return MP_OK;
        }
        if (rc != MP_OK) {
            return MP_OK;
        }
    }
    if (page_count < old || (op->kind == MPH_OP_GROW && op->count > old &&
                             page_count < op->count)) {
        mph_diff_set(d, MPH_RULE_RUN, MPH_ID_UNSET,
                     "%s left %" PRIu64 " pages (before: %" PRIu64 ")",
                     mph_op_name(op->kind), page_count, old);
        return MP_OK;
    }
    r = mph__set_page_count(m, page_count);
    if (r != MP_OK) {
        return r;
    }
    r = apply_ok(m, op, ids, out, d);
    if (d->rule != MPH_RULE_NONE) {
        m->page_count = old;
    }
    return r;
}
