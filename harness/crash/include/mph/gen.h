/*
 * mph/gen.h - random workloads from a seed, with a controllable mix of
 * operations and length. The same parameters always give the same
 * workload (the generator has its own PRNG, no global state).
 *
 * Generated workloads are mostly valid (they free what they allocated,
 * commit what they began) and keep their live pages under a cap so the
 * file stays small; the "error" share adds calls that must fail (double
 * frees, duplicates in a bulk list, reserved and out-of-range ids, wrong
 * kinds, commits without a write, zero counts).
 */
#ifndef MPH_GEN_H
#define MPH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "mph/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Shares of the mix; names in the mix string in brackets. */
enum mph_mix {
    MPH_MIX_ALLOC = 0, /* [alloc]   alloc */
    MPH_MIX_FREE,      /* [free]    free */
    MPH_MIX_BULK,      /* [bulk]    alloc_bulk, free_bulk */
    MPH_MIX_PROT,      /* [prot]    palloc, pwrite, pbegin/pfill/pcommit,
                                    pabort, pfree, the bulk forms */
    MPH_MIX_WRITE,     /* [write]   write (regular page bytes) */
    MPH_MIX_SYNC,      /* [sync]    sync */
    MPH_MIX_REOPEN,    /* [reopen]  reopen (every second one: switch) */
    MPH_MIX_ITERATE,   /* [iterate] iterate */
    MPH_MIX_GROW,      /* [grow]    grow */
    MPH_MIX_SUB,       /* [sub]     salloc, salloc_bulk, sfree, sfree_bulk */
    MPH_MIX_ERROR,     /* [error]   calls that must fail */
    MPH_MIX__COUNT
};

/** Generator parameters. Initialise with mph_gen_params_init(). */
struct mph_gen_params {
    uint64_t seed;
    /** Operations to generate. */
    size_t nops;
    /** Page size written as the "page_size" directive (0: none). */
    size_t page_size;
    /** Live pages (regular + 2 per protected + sub-page parents) kept
     *  under this; alloc-type ops are skipped at the cap. */
    uint64_t max_pages;
    /** Largest count of a generated bulk call. */
    uint64_t max_bulk;
    /** Relative weights, indexed by enum mph_mix. */
    unsigned weight[MPH_MIX__COUNT];
};

/** Defaults: seed 1, 40 ops, 1024-byte pages, 40 live pages, bulk 6,
 *  every share on except sub (which is 0 unless asked for). */
void mph_gen_params_init(struct mph_gen_params *p);

/**
 * Set weights from a string like "alloc=4,free=3,prot=0". Names not given
 * keep their value. @return MP_OK; MP_EINVAL (unknown name, bad number).
 */
int mph_gen_parse_mix(struct mph_gen_params *p, const char *mix);

/** The mix name of share k ("alloc"), or NULL. */
const char *mph_gen_mix_name(int k);

/**
 * Generate a workload. The directives "page_size", "gen.seed" and
 * "gen.mix" record what made it.
 * @return MP_OK; MP_ENOMEM; MP_EINVAL (every weight 0, nops 0).
 */
int mph_gen_workload(const struct mph_gen_params *p, struct mph_workload **out);

#ifdef __cplusplus
}
#endif
#endif /* MPH_GEN_H */
