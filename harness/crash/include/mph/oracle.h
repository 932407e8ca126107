/*
 * mph/oracle.h - the recovery oracle: given a crash image (a file reachable
 * through some vfs) and the model's states around the crash, open it with
 * the production core and decide pass or fail by DESIGN.md's rules:
 *
 *  1. open never fails on a crash image;
 *  2. the recovered state is exactly S_{i-1} or S_i for a crash during op
 *     i, exactly S_i for a crash between ops (allocation state, page
 *     count, and the bytes of regular pages the workload synced);
 *  3. every protected page holds exactly its old or its new content;
 *  4. the file checker (harness/check) passes, agrees with the core on the
 *     counts and the recovery choice, and the counts add up;
 *  5. (counted) whether recovery used the fallback copy;
 *  6. after recovery a short workload (allocate past a growth, free
 *     everything, protected commits, reopen) succeeds and the checker then
 *     finds the file clean.
 *
 * Thread rules: no global state; one call per image, images may be
 * checked on several threads at once with separate verdicts.
 */
#ifndef MPH_ORACLE_H
#define MPH_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mappedpages.h"
#include "mph/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags for mph_oracle_check(). */
enum mph_oracle_flags {
    /** The crash hit file creation: no file at all is also correct. */
    MPH_ORACLE_ALLOW_ABSENT = 1 << 0,
    /** Run the file checker (rule 4). */
    MPH_ORACLE_CHECKER = 1 << 1,
    /** Run the short workload after recovery (rule 6). */
    MPH_ORACLE_LIFE = 1 << 2,
    /** The op in flight is a protected commit (the oracle ignores it; the
     *  explorer counts old/new outcomes by it). */
    MPH_ORACLE_PROTECTED_COMMIT = 1 << 3,
};

/** Which state recovery reproduced. */
enum mph_match {
    MPH_MATCH_NONE = -1,  /* neither: a violation */
    MPH_MATCH_PREV = 0,   /* S_{i-1}: the op in flight rolled back */
    MPH_MATCH_CUR = 1,    /* S_i: the op in flight (or last op) held */
    MPH_MATCH_ABSENT = 2, /* no file (crash during create) */
};

/** The oracle's answer for one image. */
struct mph_verdict {
    /** The first rule broken (rule MPH_RULE_NONE: the image passes). */
    struct mph_diff diff;
    /** enum mph_match. */
    int match;
    /** What mp_pager_open returned. */
    int open_rc;
    /** From mp_pager_recovery() (meaningful when open_rc is MP_OK). */
    bool fallback;
    int reason;
    int chosen_copy;
    /** The checker's verdict (-1 if it did not run). */
    int check_verdict;
    /** Rule 6 ran. */
    bool life_ran;
};

/** How to open images. */
struct mph_oracle_config {
    /** Name of the file inside the image's vfs. */
    const char *path;
    size_t page_size;
    /** Address reservation per pager (0: MPH_DEFAULT_RESERVE). */
    uint64_t reserve_bytes;
    /** enum mp_open_flags for every open (MP_OPEN_ONE_FLUSH: rule 6
     *  commits in one-flush mode; recovery is the same in both modes). */
    unsigned open_flags;
};

/**
 * Check one crash image.
 *
 * @param[in] vfs   the image's backend (e.g. faultfs_vfs(image)).
 * @param[in] m     the model that recorded the states.
 * @param[in] prev  S_{i-1} for a crash during op i; NULL for a crash
 *                  between ops (then cur must be matched exactly).
 * @param[in] cur   S_i.
 * @param[in] flags enum mph_oracle_flags.
 * @param[out] v    the verdict.
 * @return MP_OK (the check ran; v->diff says pass or fail); MP_ENOMEM.
 * The image's file is changed by rule 6 (the caller throws images away).
 */
int mph_oracle_check(const struct mph_oracle_config *cfg,
                     const struct mp_vfs *vfs, const struct mph_model *m,
                     const struct mph_state *prev, const struct mph_state *cur,
                     unsigned flags, struct mph_verdict *v);

/**
 * Check an image damaged beyond the crash model (one byte of a clean file
 * changed, as bit rot or a stray write would): DESIGN.md rule 1 lets open
 * fail then, with an error code; if it opens, the pager must hold exactly
 * one of the states the file ever committed, S_0 .. S_last (page count,
 * regular and protected pages in use; no bytes, which the damage may have
 * hit). Reported as rule 2 (atomicity): a state that never was.
 *
 * @param[in] last  index of the newest state the file may hold.
 * @return MP_OK (v->diff says pass or fail); MP_ENOMEM.
 */
int mph_oracle_check_damaged(const struct mph_oracle_config *cfg,
                             const struct mp_vfs *vfs,
                             const struct mph_model *m, size_t last,
                             struct mph_verdict *v);

#ifdef __cplusplus
}
#endif
#endif /* MPH_ORACLE_H */
