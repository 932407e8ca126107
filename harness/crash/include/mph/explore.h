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
 * Beyond that (config): recovered states continued into a second crash
 * (crash2_*), clean images with one byte damaged (damage), and a device
 * matrix: mph_explorer_begin_cell() sets page size, sector, write-back unit,
 * garbage and commit mode (two-barrier or one-flush) for the runs that
 * follow and keeps counters per cell.
 *
 * Shards: sites are numbered across all workloads (and cells) of one
 * explorer in the order they are met; shard i of N takes the sites whose
 * number is i mod N. Same workloads, same seed: same partition on every
 * machine. Within a workload the sites are visited in a spread order, so
 * a time share that runs out (mph_explorer_share) leaves an even sample.
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
    /** The commit mode: pagers are created and opened with
     *  MP_OPEN_ONE_FLUSH (one barrier per commit) if set, else in the
     *  two-barrier mode; a workload's `switch` op flips it for the opens
     *  after it. A matrix cell sets it (struct mph_cell). */
    bool one_flush;
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
    /** Page size every workload runs at (a matrix cell) unless its
     *  `page_sizes` directive leaves this size out (then it is counted as
     *  not applicable); 0: each workload's own page_size directive. */
    size_t force_page_size;
    /**
     * Two-crash sequences: a state that recovered (at a crash point or a
     * gap, not during create) is continued - the workload runs on from
     * the recovered image through a `crash` op, then its next crash2_ops
     * ops and a probe (palloc, pwrite), and crashes again at up to
     * crash2_sites of their crash points and gaps (evenly spread; 0:
     * all), each image through the oracle. Every state that used the
     * fallback copy is continued, and one in crash2_every of the others
     * (by a hash of the site and image). crash2_every 0: no second
     * crashes. Workloads with sub-page ops are not continued (their slot
     * state lives in memory and a crash loses it).
     */
    unsigned crash2_every;
    unsigned crash2_sites;
    unsigned crash2_ops;
    /**
     * Damage beyond the crash model: at every gap site this many copies
     * of the clean crash image get one byte changed (two of its bits that
     * differ flipped, so a bitmap byte keeps its count; at the start of
     * one of the first 16 pages, where headers, metadata and the first
     * bitmap bytes are), and mph_oracle_check_damaged() judges each:
     * open fails, or the file is one of the states it committed. This is
     * what a recovery that trusts a record or skips a checksum gets wrong
     * (mutant TRUST_SELECTOR). 0: off.
     */
    unsigned damage;
};

/** Defaults: seed 1, 4096/512 no garbage, 1024-byte pages, two-barrier
 *  commits (one_flush false), 512 images,
 *  no limits, shard 0/1, checker every state, life once per outcome,
 *  gaps and faults on, no progress, no reproducers, 20 reports, second
 *  crashes after every fallback state and 1 in 64 others (8 sites, 2
 *  ops), 32 damaged images per gap, each workload at its own page size. */
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
    /** The matrix cell ("" outside a matrix), see mph_cell_name(). */
    char cell[80];
    /** A second crash: the first one's site ("point 31") and pattern;
     *  point/gap/op/line/pattern then describe the second crash, counted
     *  from the restart (op and line index the reproducer's workload). */
    bool second;
    char first[64];
    char first_pattern[1024];
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
    /* ... by reason: MP_RECOVERY_TORN_RECORD, _BAD_SELECTED and
     * _ONE_FLUSH_FALLBACK (the newer one-flush copy failed, the older
     * was taken). */
    uint64_t fallback_torn, fallback_bad, fallback_one_flush;
    /* States recovered with MP_RECOVERY_ONE_FLUSH (the newer one-flush
     * copy validated and was taken past the record; not a fallback). */
    uint64_t one_flush;
    uint64_t protected_old, protected_new;
    uint64_t rolled_back, held; /* ops in flight: S_{i-1} / S_i */
    uint64_t absent;            /* crash in create: no file */
    uint64_t checker_runs, life_runs;
    uint64_t golden_failures; /* workloads whose clean run failed */
    /* Workloads handed to the explorer; of those: not for this page size
     * (page_sizes directive), refused at create (MP_EDEVICE), and cut
     * short by their time share (sites sampled, see mph_explorer_share);
     * workloads counts those that ran. */
    uint64_t workloads_total, workloads_na, workloads_refused, workloads_cut;
    /* Sites in the workloads that ran (this shard's), and how many of
     * them were explored before a time share ran out. */
    uint64_t sites_total, sites_done;
    /* Two crashes: recovered states continued, second-crash sites, their
     * states (also in states), violations among them (also in violations). */
    uint64_t continuations, sites2, states2, violations2;
    /* Continuations whose restart reopened in the other commit mode (a
     * `switch` after the crash op; also in continuations). */
    uint64_t continuations_switch;
    /* Damaged images checked (also in states). */
    uint64_t damaged;
    double seconds;
    /** "complete", "time", "budget" or "violations". */
    const char *stopped;
};

struct mph_explorer;

/** One cell of the device matrix. */
struct mph_cell {
    size_t page_size; /* every workload runs at it (force_page_size); 0:
                       * each at its own (a cell outside the matrix) */
    uint32_t sector;  /* faultfs sector: the power-fail unit */
    uint32_t fs_page; /* faultfs write-back unit */
    bool garbage;     /* a unit in flight may hold garbage */
    bool one_flush;   /* commit mode: one-flush ("one"), else "two" */
};

/** Commit modes for mph_cells_parse_modes(), a bit set. */
enum mph_modes {
    MPH_MODE_TWO = 1 << 0, /* two-barrier commits (the default protocol) */
    MPH_MODE_ONE = 1 << 1, /* one-flush commits (MP_OPEN_ONE_FLUSH) */
    MPH_MODE_BOTH = MPH_MODE_TWO | MPH_MODE_ONE,
};

/** "two", "one" or "both" into enum mph_modes. @return MP_OK; MP_EINVAL. */
int mph_modes_parse(const char *s, unsigned *modes);

/** The largest number of cells mph_cells_parse() returns. */
#define MPH_MAX_CELLS 64

/**
 * Parse a matrix: "full" (the device matrix of harness/crash/README.md:
 * pages 1, 4 and 64 KiB x sectors 512, 1 KiB, 4 KiB and the page size x
 * write-back units 4 KiB and the page size, garbage on, leaving out
 * sectors larger than the write-back unit and duplicates: 15 geometries),
 * or a comma-separated list of PAGE/SECTOR/WRITEBACK cells, sizes in bytes
 * or with a k suffix ("1k/512/4k"), "p" for the page size; a cell ending
 * in "/nogarbage" has garbage off; then "/two" or "/one" picks its commit
 * mode. A geometry without a mode becomes one cell per mode in `modes`
 * (enum mph_modes), two-barrier first: "full" with MPH_MODE_BOTH is 30
 * cells. Up to MPH_MAX_CELLS cells in order.
 * @return MP_OK; MP_EINVAL (syntax, a size that is no power of two, a
 *         page below 1024, a sector above the write-back unit, no mode,
 *         too many).
 */
int mph_cells_parse_modes(const char *spec, unsigned modes,
                          struct mph_cell *cells, size_t *n);

/** mph_cells_parse_modes() with both modes (MPH_MODE_BOTH). */
int mph_cells_parse(const char *spec, struct mph_cell *cells, size_t *n);

/** "1k/512/4k/two" (and "/nogarbage" before the mode): the name
 *  mph_cells_parse() reads. */
void mph_cell_name(const struct mph_cell *c, char *buf, size_t len);

/** Counters of one finished matrix cell. */
struct mph_cell_result {
    struct mph_cell cell;
    char name[80];
    struct mph_explore_stats st; /* this cell's share of the counters */
    /** "complete", "time" (its share ran out: sampled), "budget",
     *  "violations", or "refused" (create refused every workload with
     *  MP_EDEVICE: not a violation). */
    const char *status;
};

/**
 * Start a matrix cell: the runs that follow use its geometry (seed,
 * limits and everything else stay) and stop after `seconds` (0: no limit
 * of its own). Ends the previous cell. Sites keep their numbering across
 * cells, so --shard splits the whole matrix.
 */
void mph_explorer_begin_cell(struct mph_explorer *x, const struct mph_cell *c,
                             double seconds);

/** End the current cell (no-op outside a cell); its counters are kept. */
void mph_explorer_end_cell(struct mph_explorer *x);

/** The finished cells and how many. */
const struct mph_cell_result *mph_explorer_cells(const struct mph_explorer *x,
                                                 size_t *n);

/**
 * Give the next mph_explorer_run() at most this many seconds (0: no
 * share): its sites are visited in a spread order, so a share that runs
 * out leaves an even sample of the workload (counted in workloads_cut),
 * and the explorer goes on with the next workload.
 */
void mph_explorer_share(struct mph_explorer *x, double seconds);

/** @return MP_OK; MP_ENOMEM; MP_EINVAL (bad shard, geometry). */
int mph_explorer_new(const struct mph_explore_config *cfg,
                     struct mph_explorer **out);

/** Free the explorer. Accepts NULL. */
void mph_explorer_free(struct mph_explorer *x);

/**
 * Explore one workload (name is for messages and reproducer names).
 * Stops early, leaving stats->stopped set, once the budget or time is
 * spent; later calls then return at once. A cell's time or a workload's
 * share that runs out ends only that workload, after at least one site.
 * A workload whose page_sizes directive leaves out force_page_size is
 * counted (workloads_na) and not run; one whose create returns exactly
 * MP_EDEVICE is counted as refused (workloads_refused), not a violation.
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

/** Whether every workload given that applies (not refused at create, not
 *  left out by its page_sizes directive) ran, in full or sampled under its
 *  time share; false when the explorer's own budget or time cut the list. */
bool mph_explorer_all_ran(const struct mph_explorer *x);

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
