/*
 * mph/model.h - the reference model: the simplest correct semantics of the
 * pager (sets and byte arrays), and the states S_0, S_1, ... it passes
 * through as a workload runs.
 *
 * The model does not guess which page numbers the pager picks: it learns
 * them from what the pager returns and checks that each is acceptable
 * (in range, not already allocated, ascending for bulk calls). Everything
 * else it predicts: the return code of every call (a set of acceptable
 * codes where the pager's internal pages make the exact one unknowable),
 * which protected slot is reused, the bytes of every protected page, the
 * bytes of regular pages the workload wrote and synced.
 *
 * S_i is the state after op i completed (S_0: the freshly created file).
 * A state is immutable once recorded; pointers into it stay valid until
 * the model is freed.
 *
 * Thread rules: a model is used by one thread at a time; recorded states
 * may be read concurrently.
 */
#ifndef MPH_MODEL_H
#define MPH_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages.h"
#include "mph/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which rule a difference breaks (DESIGN.md's oracle rules, and runs). */
enum mph_rule {
    MPH_RULE_NONE = 0,
    MPH_RULE_OPEN = 1,        /* open failed on a crash image */
    MPH_RULE_ATOMIC = 2,      /* recovered state is not S_{i-1} or S_i */
    MPH_RULE_PROTECTED = 3,   /* protected page neither old nor new */
    MPH_RULE_STRUCTURE = 4,   /* the file checker or a count disagrees */
    MPH_RULE_FALLBACK = 5,    /* (counted, not checked) */
    MPH_RULE_LIFE = 6,        /* the short workload after recovery failed */
    MPH_RULE_RUN = 7,         /* without a crash, the pager and model differ */
    MPH_RULE_DETERMINISM = 8, /* a rerun of the workload took another path */
    MPH_RULE_FAULT = 9,       /* an injected I/O error was hidden or left
                                 the pager pretending */
    MPH_RULE__COUNT = 10
};

/** A difference found: which rule, which id, what was expected and found. */
struct mph_diff {
    int rule;    /* enum mph_rule; MPH_RULE_NONE if none */
    uint64_t id; /* page or protected id concerned, or MPH_ID_UNSET */
    char what[512];
};

/** A short name of a rule ("atomicity"). */
const char *mph_rule_name(int rule);

/** Clear a diff (rule NONE). */
void mph_diff_clear(struct mph_diff *d);

/** Record a difference (printf-style text) unless one is recorded. */
void mph_diff_set(struct mph_diff *d, int rule, uint64_t id, const char *fmt,
                  ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/** A protected page in a state: its id and its committed bytes. */
struct mph_pslot {
    uint64_t id;
    uint32_t blob; /* mph_model_blob() */
};

/** Bytes of a regular page the model knows (the page is filled). */
struct mph_pdata {
    uint64_t page;
    uint8_t vbyte; /* in memory (valid if flags & MPH_DATA_VOLATILE) */
    uint8_t dbyte; /* on disk (valid if flags & MPH_DATA_DURABLE) */
    uint8_t flags;
};
#define MPH_DATA_VOLATILE 1u
#define MPH_DATA_DURABLE  2u

/** A state of the model. Arrays are sorted ascending. */
struct mph_state {
    uint64_t page_count; /* as the pager reported after the op */
    uint64_t nslots;     /* directory slots ever used */
    uint64_t nreg;
    const uint64_t *reg; /* allocated regular pages */
    uint64_t nprot;
    const struct mph_pslot *prot; /* protected pages in use */
    uint64_t ndata;
    const struct mph_pdata *data; /* regular pages with known bytes */
};

struct mph_model;

/**
 * A new model for files of page_size bytes per page, whose pagers reserve
 * reserve_bytes of address space (growth beyond it fails with MP_ELIMIT).
 * @return MP_OK; MP_ENOMEM; MP_EINVAL (bad page size).
 */
int mph_model_new(size_t page_size, uint64_t reserve_bytes,
                  struct mph_model **out);

/** Free the model and every state it recorded. Accepts NULL. */
void mph_model_free(struct mph_model *m);

/**
 * Reset to a freshly created file of page_count pages and record S_0.
 * @return MP_OK; MP_ENOMEM.
 */
int mph_model_start(struct mph_model *m, uint64_t page_count);

/**
 * Apply op (with its ids resolved) given what the pager did: rc its
 * return code, out the ids it produced (op->nrefs of them when rc is
 * MP_OK), page_count the pager's page count afterwards. Checks rc and out
 * against the model's prediction; on a disagreement fills *d (rule
 * MPH_RULE_RUN) and leaves the model unchanged. A pfill, which is no pager
 * call, passes MP_OK if it wrote and MP_ENOTSTAGED if nothing was staged.
 * @return MP_OK; MP_ENOMEM.
 */
int mph_model_apply(struct mph_model *m, const struct mph_op *op,
                    const uint64_t *ids, int rc, const uint64_t *out,
                    uint64_t page_count, struct mph_diff *d);

/**
 * The return codes the model accepts for op now (up to 4, in *n).
 * Used by tests and messages; mph_model_apply() checks the same.
 */
void mph_model_expect(const struct mph_model *m, const struct mph_op *op,
                      const uint64_t *ids, int rc[4], int *n);

/** Record the current state as the next S_i. @return MP_OK; MP_ENOMEM. */
int mph_model_snapshot(struct mph_model *m);

/** Number of states recorded. */
size_t mph_model_nstates(const struct mph_model *m);

/** State i (0-based), valid until the model is freed; NULL if none. */
const struct mph_state *mph_model_state(const struct mph_model *m, size_t i);

/** page_size bytes of blob b (b comes from a state). */
const unsigned char *mph_model_blob(const struct mph_model *m, uint32_t b);

/** Page size of the model. */
size_t mph_model_page_size(const struct mph_model *m);

/** Whether protected slot s holds a staged write (for the executor). */
bool mph_model_staged(const struct mph_model *m, uint64_t slot);

/** Number of sub-page allocators the model knows, in creation order. */
size_t mph_model_sub_count(const struct mph_model *m);

/**
 * The slot size of sub-page allocator k and the ids of its live slots,
 * ascending (the order of mp_subpage_ids()), into a new array *ids the
 * caller frees (NULL when *n is 0).
 * @return MP_OK; MP_ENOMEM; MP_EINVAL (no allocator k).
 */
int mph_model_sub_ids(const struct mph_model *m, size_t k, size_t *slot_size,
                      uint64_t **ids, size_t *n);

/** The state a pager is compared against, and how. */
enum mph_cmp_flags {
    /** Compare regular page bytes the model knows are in memory. */
    MPH_CMP_VOLATILE = 1 << 0,
    /** Compare regular page bytes the model knows are durable. */
    MPH_CMP_DURABLE = 1 << 1,
    /** Compare only which protected pages are in use, not their bytes
     *  (for files damaged beyond the crash model, where a data page may
     *  hold anything and only the structure is judged). */
    MPH_CMP_NO_PROTECTED_BYTES = 1 << 2,
};

/**
 * Compare an open pager with state s: page count, the regular-page
 * iterator, the protected-page iterator and every protected page's bytes,
 * the known regular bytes (per flags), and the count identity
 * page_count = 3 + regular + internal + free. The first difference goes
 * into *d (rule MPH_RULE_ATOMIC for allocation state, MPH_RULE_PROTECTED
 * for protected bytes, MPH_RULE_STRUCTURE for counts); *d stays clear
 * when the pager matches.
 * @return MP_OK; MP_ENOMEM (the iterator could not start).
 */
int mph_state_compare(const struct mph_model *m, const struct mph_state *s,
                      mp_pager *p, unsigned flags, struct mph_diff *d);

/** True if two states are equal (same sets, same bytes). */
bool mph_state_equal(const struct mph_model *m, const struct mph_state *a,
                     const struct mph_state *b);

#ifdef __cplusplus
}
#endif
#endif /* MPH_MODEL_H */
