/*
 * mph/explore.h - the crash-state explorer: runs workloads over faultfs,
 * crashes at every crash point (and between every two operations), builds
 * the crash images at each (all of them where they are few, a seeded
 * sample otherwise), and applies the recovery oracle to each.
 *
 * For one workload:
 *  1. A golden run with the reference model records S_0 .. S_n and which
 *     crash points each operation passes (faultfs numbers them).
 *  2. For every site - crash point k, the gap after op i, or (faults)
 *     the k-th failure-capable call failing - a fresh faultfs with the
 *     same seed reruns the workload and crashes there (after a fault:
 *     right after the op it broke, which must have failed and left the
 *     pager refusing writes or unchanged). A crash during op i must
 *     recover S_{i-1} or S_i; a crash in a gap exactly S_i; a crash
 *     during create no file or S_0.
 *  3. Every image of the site goes through the oracle. A violation writes
 *     a reproducer: the workload up to the op in flight plus directives
 *     (seed, faultfs geometry, site, tear pattern, rule) that
 *     mph_explore_replay() turns back into the same failure.
 *
 * Shards: sites are numbered across all workloads of one explorer in the
 * order they are met; shard i of N takes the sites whose number is i mod
 * N. Same workloads, same seed: same partition on every machine.
 *
 * Thread rules: one thread per explorer; no global state.
 */
#ifndef MPH_EXPLORE_H
#define MPH_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mph/model.h"
#include "mph/oracle.h"
#include "mph/workload.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How often to run a costly oracle rule. */
enum mph_every {
    MPH_EVERY_OFF = 0,   /* never */
    MPH_EVERY_CLASS = 1, /* once per site and recovery outcome */
    MPH_EVERY_ALL = 2,   /* every state */
};

/** Explorer settings. Initialise with mph_explore_config_init(). */
struct mph_explore_config {
    /** faultfs seed (DURING splits, garbage) and sampling seed. */
    uint64_t seed;
    /** faultfs write-back unit and atomic sector (0: 4096, 512). */
    uint32_t fs_page;
    uint32_t sector;
    /** Torn sectors may hold garbage. */
    bool garbage;
    /** Page size for workloads without a "page_size" directive. */
    size_t page_size;
    /** Images per site enumerated exhaustively up to this count; above it
     *  this many are taken: every whole-page choice if they fit in half,
     *  then seeded random ones. */
    uint64_t max_images;
    /** Stop after this many states (0: no limit). */
    uint64_t budget;
    /** Stop after this many seconds (0: no limit). */
    double time_limit;
    /** This shard and the number of shards (0 of 1: everything). */
    unsigned shard, nshards;
    /** Rule 4 (file checker) and rule 6 (life goes on), enum mph_every. */
    int checker;
    int life;
    /** Also crash between operations (faultfs_crash_now). */
    bool gaps;
    /** Also fail each failure-capable call once (faultfs_inject; syncs
     *  persisting none, part or all of their range), then crash. */
    bool faults;
    /** Progress line on this stream (NULL: none), about twice a second. */
    FILE *progress;
    /** Directory for reproducers (NULL: none written). */
    const char *repro_dir;
    /** Also write each violation's crash image next to its reproducer. */
    bool write_image;
    /** Violations kept in detail (all are counted). */
    size_t max_reports;
    /** Stop after this many violations (0: never), e.g. 1 for mutants. */
    uint64_t max_violations;
};

/** Defaults: seed 1, 4096/512 no garbage, 1024-byte pages, 512 images,
 *  no limits, shard 0/1, checker every state, life once per outcome,
 *  gaps and faults on, no progress, no reproducers, 20 reports. */
void mph_explore_config_init(struct mph_explore_config *cfg);

/** One violation, in detail. */
struct mph_violation {
    char workload[256];
    /** Crash point; (gap) the number of ops completed; (fault) the
     *  failure-capable call failed, 1-based. */
    uint64_t point;
    bool gap;
    bool fault;
    /** (fault) enum faultfs_persist of the failed sync. */
    int persist;
    /** Op in flight (index, source line); -1 for create. */
    long op;
    unsigned line;
    char pattern[1024];
    struct mph_diff diff;
    /** Reproducer file written ("" if none). */
    char repro[1024];
};

/** Counters over everything explored so far. */
struct mph_explore_stats {
    uint64_t workloads;
    uint64_t ops;
    uint64_t crash_points; /* sites that are crash points */
    uint64_t gaps;         /* sites between operations */
    uint64_t fault_sites;  /* sites with an injected I/O error */
    uint64_t sites_exhaustive, sites_sampled;
    uint64_t states;
    uint64_t violations;               /* states that broke a rule */
    uint64_t by_rule[MPH_RULE__COUNT]; /* indexed by enum mph_rule */
    uint64_t fallback; /* states recovered from the alternate copy */
    uint64_t fallback_torn, fallback_bad;
    uint64_t protected_old, protected_new;
    uint64_t rolled_back, held; /* ops in flight: S_{i-1} / S_i */
    uint64_t absent;            /* crash in create: no file */
    uint64_t checker_runs, life_runs;
    uint64_t golden_failures; /* workloads whose clean run failed */
    double seconds;
    /** "complete", "time", "budget" or "violations". */
    const char *stopped;
};

struct mph_explorer;

/** @return MP_OK; MP_ENOMEM; MP_EINVAL (bad shard, geometry). */
int mph_explorer_new(const struct mph_explore_config *cfg,
                     struct mph_explorer **out);

/** Free the explorer. Accepts NULL. */
void mph_explorer_free(struct mph_explorer *x);

/**
 * Explore one workload (name is for messages and reproducer names).
 * Stops early, leaving stats->stopped set, once the budget or time is
 * spent; later calls then return at once.
 * @return MP_OK (violations are in the stats, not the return code);
 *         MP_ENOMEM; MP_EINVAL (the faultfs could not be made); MP_EIO (a
 *         reproducer could not be written).
 */
int mph_explorer_run(struct mph_explorer *x, const struct mph_workload *w,
                     const char *name);

/** Counters (valid until the explorer is freed). */
const struct mph_explore_stats *
mph_explorer_stats(const struct mph_explorer *x);

/** Violations kept in detail, and how many. */
const struct mph_violation *
mph_explorer_violations(const struct mph_explorer *x, size_t *n);

/** Print the human summary. */
void mph_explorer_summary(const struct mph_explorer *x, FILE *f);

/** Print the JSON report (one object). @return MP_OK; MP_EIO. */
int mph_explorer_json(const struct mph_explorer *x, FILE *f);

/**
 * Reproduce the violation a reproducer describes: rerun the golden run and
 * the crash, rebuild the image from the tear pattern, apply the oracle
 * (checker and life on). *v receives the verdict. If image_path is not
 * NULL the crash image is also written there.
 * @return MP_OK (the replay ran; v->diff says whether it failed);
 *         MP_EINVAL (not a reproducer, or it does not match the workload:
 *         the message is in v->diff.what); MP_ENOMEM; MP_EIO.
 */
int mph_explore_replay(const struct mph_workload *repro, const char *image_path,
                       struct mph_verdict *v);

#ifdef __cplusplus
}
#endif
#endif /* MPH_EXPLORE_H */
