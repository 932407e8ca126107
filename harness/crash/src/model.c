/*
 * model.c - the reference model: a bitmap of regular pages, an array of
 * protected slots with their bytes, the known bytes of regular pages, and
 * the recorded states.
 *
 * The model is deliberately naive. It shares no code with the core and
 * predicts from the documented contract only (mappedpages/pager.h,
 * protected.h), so a bug in the core cannot hide in a shared helper.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

const char *mph_rule_name(int rule)
{
    switch (rule) {
    case MPH_RULE_NONE:
        return "none";
    case MPH_RULE_OPEN:
        return "open";
    case MPH_RULE_ATOMIC:
        return "atomicity";
    case MPH_RULE_PROTECTED:
        return "protected";
    case MPH_RULE_STRUCTURE:
        return "structure";
    case MPH_RULE_FALLBACK:
        return "fallback";
    case MPH_RULE_LIFE:
        return "life-goes-on";
    case MPH_RULE_RUN:
        return "run";
    case MPH_RULE_DETERMINISM:
        return "determinism";
    case MPH_RULE_FAULT:
        return "fault";
    default:
        return "?";
    }
}

void mph_diff_clear(struct mph_diff *d)
{
    d->rule = MPH_RULE_NONE;
    d->id = MPH_ID_UNSET;
    d->what[0] = 0;
}

void mph_diff_set(struct mph_diff *d, int rule, uint64_t id, const char *fmt,
                  ...)
{
    va_list ap;
    if (d->rule != MPH_RULE_NONE) {
        return;
    }
    d->rule = rule;
    d->id = id;
    va_start(ap, fmt);
    vsnprintf(d->what, sizeof(d->what), fmt, ap);
    va_end(ap);
}

static int grow_buf(void **arr, uint64_t *cap, uint64_t need, size_t elem)
{
    uint64_t n = *cap ? *cap : 8;
    void *p;
    if (need <= *cap) {
        return MP_OK;
    }
    while (n < need) {
        n *= 2;
    }
    p = realloc(*arr, (size_t)n * elem);
    if (!p) {
        return MP_ENOMEM;
    }
    memset((char *)p + (size_t)*cap * elem, 0, (size_t)(n - *cap) * elem);
    *arr = p;
    *cap = n;
    return MP_OK;
}

int mph_model_new(size_t page_size, uint64_t reserve_bytes,
                  struct mph_model **out)
{
    struct mph_model *m;
    *out = NULL;
    if (page_size < MP_PAGE_SIZE_MIN || page_size > MP_PAGE_SIZE_MAX ||
        (page_size & (page_size - 1))) {
        return MP_EINVAL;
    }
    m = calloc(1, sizeof(*m));
    if (!m) {
        return MP_ENOMEM;
    }
    m->ps = page_size;
    m->reserve = reserve_bytes ? reserve_bytes : UINT64_MAX;
    /* Blob 0: the zeros every new protected page reads as. */
    if (mph__blob_new(m, NULL, &m->zero_blob) != MP_OK) {
        free(m);
        return MP_ENOMEM;
    }
    *out = m;
    return MP_OK;
}

static void reset_live(struct mph_model *m)
{
    for (uint64_t s = 0; s < m->slots_cap; s++) {
        free(m->slots[s].staged);
    }
    if (m->slots) {
        memset(m->slots, 0, (size_t)m->slots_cap * sizeof(*m->slots));
    }
    if (m->bits) {
        memset(m->bits, 0, (size_t)m->bits_cap * sizeof(*m->bits));
    }
    if (m->pdata) {
        memset(m->pdata, 0, (size_t)m->pdata_cap * sizeof(*m->pdata));
    }
    m->nslots = 0;
    m->nreg = 0;
    m->page_count = 0;
    mph__sub_reset(m);
}

void mph_model_free(struct mph_model *m)
{
    if (!m) {
        return;
    }
    reset_live(m);
    for (size_t i = 0; i < m->nstates; i++) {
        free(m->states[i].mem);
    }
    free(m->states);
    for (uint32_t b = 0; b < m->nblobs; b++) {
        free(m->blobs[b]);
    }
    free(m->blobs);
    free(m->slots);
    free(m->bits);
    free(m->pdata);
    mph__sub_free(m);
    free(m);
}

int mph__blob_new(struct mph_model *m, const unsigned char *bytes,
                  uint32_t *out)
{
    uint64_t cap = m->blobs_cap;
    unsigned char *b;
    int rc = grow_buf((void **)&m->blobs, &cap, (uint64_t)m->nblobs + 1,
                      sizeof(*m->blobs));
    if (rc != MP_OK) {
        return rc;
    }
    m->blobs_cap = (uint32_t)cap;
    b = malloc(m->ps);
    if (!b) {
        return MP_ENOMEM;
    }
    if (bytes) {
        memcpy(b, bytes, m->ps);
    } else {
        memset(b, 0, m->ps);
    }
    m->blobs[m->nblobs] = b;
    *out = m->nblobs++;
    return MP_OK;
}

int mph__set_page_count(struct mph_model *m, uint64_t count)
{
    uint64_t words = (count + 63) / 64;
    int rc = grow_buf((void **)&m->bits, &m->bits_cap, words, sizeof(uint64_t));
    if (rc == MP_OK) {
        rc = grow_buf((void **)&m->pdata, &m->pdata_cap, count,
                      sizeof(*m->pdata));
    }
    if (rc == MP_OK) {
        m->page_count = count;
    }
    return rc;
}

int mph__ensure_slots(struct mph_model *m, uint64_t n)
{
    return grow_buf((void **)&m->slots, &m->slots_cap, n, sizeof(*m->slots));
}

int mph_model_start(struct mph_model *m, uint64_t page_count)
{
    int rc;
    reset_live(m);
    for (size_t i = 0; i < m->nstates; i++) {
        free(m->states[i].mem);
    }
    m->nstates = 0;
    rc = mph__set_page_count(m, page_count);
    if (rc == MP_OK) {
        rc = mph_model_snapshot(m);
    }
    return rc;
}

int mph_model_snapshot(struct mph_model *m)
{
    struct mph__rec *r;
    uint64_t nprot = 0, ndata = 0;
    size_t bytes;
    unsigned char *mem;
    uint64_t *reg;
    struct mph_pslot *prot;
    struct mph_pdata *data;
    uint64_t cap = m->states_cap, k;
    int rc = grow_buf((void **)&m->states, &cap, (uint64_t)m->nstates + 1,
                      sizeof(*m->states));
    if (rc != MP_OK) {
        return rc;
    }
    m->states_cap = (size_t)cap;
    for (uint64_t s = 0; s < m->nslots; s++) {
        nprot += m->slots[s].in_use;
    }
    for (uint64_t pg = 0; pg < m->page_count; pg++) {
        ndata += m->pdata[pg].flags != 0;
    }
    bytes = (size_t)m->nreg * sizeof(uint64_t) +
            (size_t)nprot * sizeof(struct mph_pslot) +
            (size_t)ndata * sizeof(struct mph_pdata);
    mem = malloc(bytes ? bytes : 1);
    if (!mem) {
        return MP_ENOMEM;
    }
    data = (struct mph_pdata *)mem;
    prot = (struct mph_pslot *)(data + ndata);
    reg = (uint64_t *)(prot + nprot);
    k = 0;
    for (uint64_t pg = 0; pg < m->page_count; pg++) {
        if (m->pdata[pg].flags) {
            data[k] = m->pdata[pg];
            data[k].page = pg;
            k++;
        }
    }
    k = 0;
    for (uint64_t s = 0; s < m->nslots; s++) {
        if (m->slots[s].in_use) {
            prot[k].id = MP_ID_KIND_PROTECT | s;
            prot[k].blob = m->slots[s].blob;
            k++;
        }
    }
    k = 0;
    for (uint64_t w = 0; w * 64 < m->page_count; w++) {
        uint64_t bits = m->bits[w];
        while (bits) {
            reg[k++] = w * 64 + (uint64_t)__builtin_ctzll(bits);
            bits &= bits - 1;
        }
    }
    r = &m->states[m->nstates++];
    r->mem = mem;
    r->st.page_count = m->page_count;
    r->st.nslots = m->nslots;
    r->st.nreg = m->nreg;
    r->st.reg = reg;
    r->st.nprot = nprot;
    r->st.prot = prot;
    r->st.ndata = ndata;
    r->st.data = data;
    return MP_OK;
}

size_t mph_model_nstates(const struct mph_model *m)
{
    return m->nstates;
}

const struct mph_state *mph_model_state(const struct mph_model *m, size_t i)
{
    return i < m->nstates ? &m->states[i].st : NULL;
}

const unsigned char *mph_model_blob(const struct mph_model *m, uint32_t b)
{
    return b < m->nblobs ? m->blobs[b] : NULL;
}

size_t mph_model_page_size(const struct mph_model *m)
{
    return m->ps;
}

bool mph_model_staged(const struct mph_model *m, uint64_t slot)
{
    return slot < m->nslots && m->slots[slot].staged != NULL;
}

bool mph_state_equal(const struct mph_model *m, const struct mph_state *a,
                     const struct mph_state *b)
{
    if (a->page_count != b->page_count || a->nreg != b->nreg ||
        a->nprot != b->nprot || a->ndata != b->ndata) {
        return false;
    }
    if (a->nreg && memcmp(a->reg, b->reg, (size_t)a->nreg * sizeof(*a->reg))) {
        return false;
    }
    for (uint64_t i = 0; i < a->nprot; i++) {
        if (a->prot[i].id != b->prot[i].id ||
            (a->prot[i].blob != b->prot[i].blob &&
             memcmp(m->blobs[a->prot[i].blob], m->blobs[b->prot[i].blob],
                    m->ps) != 0)) {
            return false;
        }
    }
    for (uint64_t i = 0; i < a->ndata; i++) {
        const struct mph_pdata *x = &a->data[i], *y = &b->data[i];
        if (x->page != y->page || x->flags != y->flags ||
            ((x->flags & MPH_DATA_VOLATILE) && x->vbyte != y->vbyte) ||
            ((x->flags & MPH_DATA_DURABLE) && x->dbyte != y->dbyte)) {
            return false;
        }
    }
    return true;
}
