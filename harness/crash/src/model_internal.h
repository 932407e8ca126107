/*
 * model_internal.h - the model's live state, shared by model.c (states,
 * blobs), model_apply.c (semantics), model_sub.c (sub-pages) and
 * model_compare.c (pager against state).
 */
#ifndef MPH_MODEL_INTERNAL_H
#define MPH_MODEL_INTERNAL_H

#include "mph/model.h"

struct mph__slot {
    bool in_use;
    uint32_t blob;         /* committed bytes */
    unsigned char *staged; /* a write in progress, or NULL */
};

struct mph__rec {
    struct mph_state st;
    void *mem; /* owns the arrays of st */
};

/* One sub-page allocator: its slot size and parents with their masks. */
struct mph__sub_parent {
    uint64_t page;
    uint64_t mask;
};
struct mph__sub {
    size_t slot_size;
    unsigned slots; /* per parent */
    unsigned tag;
    struct mph__sub_parent *par;
    uint64_t npar, par_cap;
};

struct mph_model {
    size_t ps;
    uint64_t reserve;
    uint64_t page_count;

    uint64_t *bits; /* regular pages allocated */
    uint64_t bits_cap;
    uint64_t nreg;

    struct mph__slot *slots; /* protected slots, by slot number */
    uint64_t nslots, slots_cap;

    struct mph_pdata *pdata; /* by page number (page field unused) */
    uint64_t pdata_cap;

    struct mph__sub *subs; /* sub-page allocators, in creation order */
    size_t nsubs, subs_cap;

    unsigned char **blobs;
    uint32_t nblobs, blobs_cap;
    uint32_t zero_blob;

    struct mph__rec *states;
    size_t nstates, states_cap;
};

static inline bool mph__reg_has(const struct mph_model *m, uint64_t pg)
{
    return pg < m->page_count && ((m->bits[pg >> 6] >> (pg & 63)) & 1);
}
static inline void mph__reg_set(struct mph_model *m, uint64_t pg)
{
    m->bits[pg >> 6] |= (uint64_t)1 << (pg & 63);
    m->nreg++;
}
static inline void mph__reg_clear(struct mph_model *m, uint64_t pg)
{
    m->bits[pg >> 6] &= ~((uint64_t)1 << (pg & 63));
    m->nreg--;
    m->pdata[pg].flags = 0;
}

int mph__blob_new(struct mph_model *m, const unsigned char *bytes,
                  uint32_t *out);
int mph__set_page_count(struct mph_model *m, uint64_t count);
int mph__ensure_slots(struct mph_model *m, uint64_t n);

/*
 * The codes a regular id that must be an allocated regular page can get
 * (FORMAT-independent: from pager.h). Returns how many, into err[].
 */
int mph__reg_errors(const struct mph_model *m, uint64_t id, int err[2]);

/* Could growing by `need` more pages run past the address reservation? */
bool mph__may_limit(const struct mph_model *m, uint64_t need);
/* Whether a successful op of this kind may grow the file. */
bool mph__may_grow(int kind);
/* A page a successful alloc returned must be new and in range. */
bool mph__fresh_page(const struct mph_model *m, uint64_t pg);

/* Sub-pages (model_sub.c). */
void mph__sub_reset(struct mph_model *m);
void mph__sub_free(struct mph_model *m);
int mph__sub_apply(struct mph_model *m, const struct mph_op *op,
                   const uint64_t *ids, int rc, const uint64_t *out,
                   uint64_t page_count, struct mph_diff *d);
void mph__sub_expect(const struct mph_model *m, const struct mph_op *op,
                     const uint64_t *ids, int rc[4], int *n);

#endif /* MPH_MODEL_INTERNAL_H */
